-- Moon's scripting sandbox, run once per Lua VM with full access before any user code.
-- Arguments: G (the real globals), M (Moon's private table: prim, handler, sha1hex, log,
-- reg, resp ...). Returns the environment of EVAL scripts and a maker of library environments.
--
-- Invariants: user code never sees the real globals or a library table directly, only
-- read-only proxies; reading a missing global raises Redis's "nonexistent global variable"
-- error and writing any global raises "Attempt to modify a readonly table".
local G, M = ...
local error, type, tostring, rawget, rawset, setmetatable, xpcall, pairs, ipairs, select =
    error, type, tostring, rawget, rawset, setmetatable, xpcall, pairs, ipairs, select

-- What Redis removes from (or never loads into) its scripting environment.
for _, name in ipairs({ 'dofile', 'loadfile', 'print', 'require', 'module', 'getfenv',
    'setfenv', 'newproxy', 'os', 'io', 'debug', 'package' }) do
    G[name] = nil
end

local protected = setmetatable({}, { __mode = 'k' })
local function ro_newindex()
    error('Attempt to modify a readonly table', 2)
end
local function readonly(real)
    local proxy = setmetatable({}, { __index = real, __newindex = ro_newindex, __metatable = false })
    protected[proxy] = true
    protected[real] = true
    return proxy
end
local function nonexistent(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
-- A read-only table whose missing fields raise like missing globals (the `redis` table while a
-- library loads).
local function strict(real)
    local proxy = setmetatable({}, {
        __index = function(_, k)
            local v = real[k]
            if v == nil then
                error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
            end
            return v
        end,
        __newindex = ro_newindex,
        __metatable = false,
    })
    protected[proxy] = true
    protected[real] = true
    return proxy
end

G.rawset = function(t, k, v)
    if protected[t] then
        error('Attempt to modify a readonly table', 0)
    end
    return rawset(t, k, v)
end

for _, name in ipairs({ 'string', 'table', 'math', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct' }) do
    if rawget(G, name) ~= nil then
        G[name] = readonly(G[name])
    end
end

-- The redis API. `call` and `pcall` are set by the runtime for each script run (Rust
-- functions, so that a tail call `return redis.call(...)` keeps the script's frame for error
-- locations, as Redis's C functions do).
local function outside()
    error('redis.call is only available while a script runs', 2)
end
-- Redis's luaPushErrorBuff: "-CODE msg" keeps its code, anything else gets ERR.
local function error_text(e)
    e = e:gsub('[\r\n]+$', '')
    if e:sub(1, 1) ~= '-' then
        return 'ERR ' .. e
    end
    if not e:find(' ', 1, true) then
        return 'ERR ' .. e:sub(2)
    end
    return e:sub(2)
end
local R = {
    call = outside,
    pcall = outside,
    error_reply = function(e)
        if type(e) ~= 'string' then
            error('wrong number or type of arguments', 2)
        end
        if e:sub(1, 1) ~= '-' then
            e = '-' .. e
        end
        return { err = error_text(e) }
    end,
    status_reply = function(s)
        if type(s) ~= 'string' then
            error('wrong number or type of arguments', 2)
        end
        return { ok = s }
    end,
    sha1hex = M.sha1hex,
    log = M.log,
    set_repl = function(flags)
        if type(flags) ~= 'number' or flags < 0 or flags > 3 then
            error('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.', 0)
        end
    end,
    replicate_commands = function() return true end,
    breakpoint = function() return false end,
    debug = function() end,
    acl_check_cmd = M.acl_check_cmd,
    REPL_NONE = 0,
    REPL_AOF = 1,
    REPL_SLAVE = 2,
    REPL_REPLICA = 2,
    REPL_ALL = 3,
    LOG_DEBUG = 0,
    LOG_VERBOSE = 1,
    LOG_NOTICE = 2,
    LOG_WARNING = 3,
    REDIS_VERSION = M.version,
    REDIS_VERSION_NUM = M.version_num,
}
G.redis = readonly(R)
M.R = R

-- The `redis` table a library sees while it loads: registration and logging only.
local LOADING = {
    register_function = function(...)
        local n = select('#', ...)
        local a, b = ...
        if n == 1 and type(a) == 'table' then
            return M.reg(a.function_name, a.callback, a.flags, a.description, true)
        end
        if n ~= 2 then
            error('wrong number of arguments to redis.register_function', 0)
        end
        return M.reg(a, b, nil, nil, false)
    end,
    log = M.log,
    LOG_DEBUG = 0,
    LOG_VERBOSE = 1,
    LOG_NOTICE = 2,
    LOG_WARNING = 3,
    REDIS_VERSION = M.version,
    REDIS_VERSION_NUM = M.version_num,
}

setmetatable(G, { __index = nonexistent, __newindex = ro_newindex, __metatable = false })
protected[G] = true

local env = setmetatable({}, { __index = G, __newindex = ro_newindex, __metatable = false })
protected[env] = true
rawset(G, '_G', env)

-- Runs `f` (with `k`, `a` as arguments when given) under the error handler; returns
-- ok, value-or-error-table.
local handler = M.handler
local xpcall = M.xpcall
M.run = function(f, k, a)
    if k == nil then
        return xpcall(f, handler)
    end
    return xpcall(function() return f(k, a) end, handler)
end

-- A library's environment: its own globals layer (holding `redis`) over the shared ones.
-- Returns the environment and a function switching its `redis` to the runtime API.
M.library_env = function()
    local layer = setmetatable({ redis = strict(LOADING) }, { __index = G, __metatable = false })
    local lenv = setmetatable({}, { __index = layer, __newindex = ro_newindex, __metatable = false })
    protected[layer] = true
    protected[lenv] = true
    return lenv, function() rawset(layer, 'redis', G.redis) end
end

return env
