//! Fuzzes the Lua libraries Moon implements in Rust for scripts — `cjson`, `cmsgpack`,
//! `struct` and `bit` (`frontends/server/src/script/libs/`) — which decode bytes a client
//! passes as script arguments (the area of Redis's CVE-2018-11218, CVE-2020-14147,
//! CVE-2022-24834). The server crate does not export them, so the target compiles the very
//! same source files in (`#[path]`), with a stand-in for the one function they call outside
//! their module.
//!
//! Input: byte 0 picks the call, the rest is its argument(s) (`0xFF` separates struct's
//! format from its data). Checks, beyond "never panics" and "never overflows the stack":
//! `cmsgpack.unpack` then `cmsgpack.pack` then `cmsgpack.unpack` gives equal values (for
//! values nested less than 16 deep: deeper tables pack as nil, as in lua-cmsgpack); errors are
//! Lua errors, never a Rust panic crossing the Lua boundary.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mlua::{Function, Lua, Value};

/// The server's `crate::script` as far as the libraries see it.
mod script {
    pub mod call {
        /// The server maps a failed `redis.call` raised in a script back to its error reply;
        /// no `redis.call` exists here.
        pub(crate) fn redis_call_error(_e: &mlua::Error) -> Option<&str> {
            None
        }
    }
}

// At the crate root: a `#[path]` inside an inline module would resolve through a directory
// that does not exist. The libraries reach their stand-in as `crate::script::call`.
#[allow(dead_code, clippy::all)]
#[path = "../../frontends/server/src/script/libs/mod.rs"]
mod libs;

/// Lua helpers: deep equality (NaN equals NaN; tables with table keys are not compared, as
/// a fresh unpack makes fresh key tables) and the calls the fuzzer drives.
const HELPERS: &str = r#"
local function eq(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == 'number' then return a == b or (a ~= a and b ~= b) end
  if type(a) ~= 'table' then return a == b end
  for k, v in pairs(a) do
    if type(k) == 'table' then return true end
    if not eq(v, b[k]) then return false end
  end
  for k, _ in pairs(b) do
    if type(k) ~= 'table' and a[k] == nil then return false end
  end
  return true
end
-- Table nesting of a value (a scalar is 0), stopping early once past the packer's limit.
local function depth(v)
  if type(v) ~= 'table' then return 0 end
  local m = 1
  for k, x in pairs(v) do
    m = math.max(m, 1 + depth(k), 1 + depth(x))
    if m > 16 then return m end
  end
  return m
end
local function msgpack_round_trip(s)
  local first = {pcall(cmsgpack.unpack, s)}
  if not first[1] then return true end
  table.remove(first, 1)
  -- lua-cmsgpack (and Redis) packs tables nested 16 deep or more as nil, by design.
  for i = 1, #first do
    if depth(first[i]) >= 16 then return true end
  end
  -- Packing may refuse (nesting, too many values for Lua's stack): only what packs counts.
  local ok, packed = pcall(function() return cmsgpack.pack(unpack(first)) end)
  if not ok then return true end
  local ok2, again = pcall(function() return {cmsgpack.unpack(packed)} end)
  if not ok2 then return false end
  if #again ~= #first then return false end
  for i = 1, #first do
    if not eq(first[i], again[i]) then return false end
  end
  return true
end
return {
  cjson_decode = function(s) return pcall(cjson.decode, s) end,
  cjson_round = function(s)
    local ok, v = pcall(cjson.decode, s)
    if ok then pcall(cjson.encode, v) end
    return true
  end,
  msgpack_unpack = function(s) return pcall(cmsgpack.unpack, s) end,
  msgpack_round = msgpack_round_trip,
  msgpack_unpack_one = function(s, n) return pcall(cmsgpack.unpack_limit, s, n) end,
  struct_unpack = function(f, s) return pcall(struct.unpack, f, s) end,
  struct_pack = function(f, s) return pcall(struct.pack, f, s, #s, 1.5, s) end,
  struct_size = function(f) return pcall(struct.size, f) end,
  bit_tohex = function(s) return pcall(bit.tohex, #s * 1000003 - 2^31, (#s % 20) - 10) end,
}
"#;

thread_local! {
    static LUA: (Lua, mlua::Table) = {
        let lua = Lua::new();
        libs::load_all(&lua).expect("the libraries load");
        let calls: mlua::Table = lua.load(HELPERS).eval().expect("helpers compile");
        (lua, calls)
    };
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    LUA.with(|(lua, calls)| {
        let s = lua.create_string(rest).expect("a Lua string");
        let (fmt, payload) = match rest.iter().position(|&b| b == 0xFF) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &b""[..]),
        };
        let name = match pick % 9 {
            0 => "cjson_decode",
            1 => "cjson_round",
            2 => "msgpack_unpack",
            3 => "msgpack_round",
            4 => "msgpack_unpack_one",
            5 => "struct_unpack",
            6 => "struct_pack",
            7 => "struct_size",
            _ => "bit_tohex",
        };
        let f: Function = calls.get(name).expect("helper");
        let result = match name {
            "struct_unpack" | "struct_pack" => {
                let fmt = lua.create_string(fmt).expect("a Lua string");
                let payload = lua.create_string(payload).expect("a Lua string");
                f.call::<Value>((fmt, payload))
            }
            "msgpack_unpack_one" => f.call::<Value>((s, i64::from(pick >> 4))),
            _ => f.call::<Value>(s),
        };
        match result {
            Ok(Value::Boolean(false)) if name == "msgpack_round" => {
                panic!("cmsgpack round trip changed the value of {rest:?}")
            }
            Ok(_) => {}
            // The helpers pcall every library call: an error here escaped pcall (a Rust panic
            // is re-raised by mlua and never gets here).
            Err(e) => panic!("{name}: error escaped pcall: {e}"),
        }
        // Scripts' garbage stays bounded across runs.
        let _ = lua.gc_collect();
    });
});
