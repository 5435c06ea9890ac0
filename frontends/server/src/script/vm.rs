//! One shard's Lua VM: the sandboxed environment (`sandbox.lua`), compiled EVAL scripts by
//! SHA1, and the functions of the library catalog, compiled from the shard's copy of it.
//!
//! Invariants:
//! - User code only ever runs through [`ScriptVm::run`], under the error handler (which turns
//!   every error into an `{err=, source=, line=}` table) and the instruction hook (which reports
//!   long scripts busy and stops killed ones).
//! - `scripts` is a cache of the process-wide script cache (`Shared::scripts`) for generation
//!   `scripts_gen`; after SCRIPT FLUSH (a new generation) it is dropped before use.
//! - `functions` is compiled from the catalog at `catalog_version`; it is rebuilt whenever the
//!   shard's catalog has another version.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashMap;
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};
use moon_engine::functions::FunctionCatalog;
use moon_engine::ir::Reply;

use super::call::CallState;

/// Lines of the sandbox, run once per VM.
const SANDBOX: &str = include_str!("sandbox.lua");

/// Instructions between two hook calls (Redis uses the same count).
const HOOK_EVERY: u32 = 100_000;

/// What a function declares about itself (`flags` of `redis.register_function`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FnFlags {
    /// `no-writes`: may run from FCALL_RO and never writes.
    pub no_writes: bool,
    /// `allow-oom`.
    pub allow_oom: bool,
    /// `allow-stale`.
    pub allow_stale: bool,
    /// `no-cluster`.
    pub no_cluster: bool,
    /// `allow-cross-slot-keys`.
    pub allow_cross_slot: bool,
}

impl FnFlags {
    /// Redis's flag names, in `FUNCTION LIST` order.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (on, name) in [
            (self.no_writes, "no-writes"),
            (self.allow_oom, "allow-oom"),
            (self.allow_stale, "allow-stale"),
            (self.no_cluster, "no-cluster"),
            (self.allow_cross_slot, "allow-cross-slot-keys"),
        ] {
            if on {
                out.push(name);
            }
        }
        out
    }

    fn set(&mut self, name: &[u8]) -> bool {
        match name {
            b"no-writes" => self.no_writes = true,
            b"allow-oom" => self.allow_oom = true,
            b"allow-stale" => self.allow_stale = true,
            b"no-cluster" => self.no_cluster = true,
            b"allow-cross-slot-keys" => self.allow_cross_slot = true,
            _ => return false,
        }
        true
    }
}

/// One registered function.
#[derive(Debug, Clone)]
pub(crate) struct FunctionDef {
    /// Its name.
    pub name: Bytes,
    /// Its description, if given.
    pub description: Option<Bytes>,
    /// Its flags.
    pub flags: FnFlags,
}

/// One loaded library, for FUNCTION LIST.
#[derive(Debug, Clone)]
pub(crate) struct LibraryInfo {
    /// The library name.
    pub name: Bytes,
    /// Its code.
    pub code: Bytes,
    /// Its functions, in registration order.
    pub functions: Vec<FunctionDef>,
}

/// A function FCALL can call.
struct Loaded {
    func: Function,
    flags: FnFlags,
}

/// Registrations collected while a library's main chunk runs.
#[derive(Default)]
struct Registering {
    defs: Vec<(FunctionDef, Function)>,
}

/// The clock and kill switch the instruction hook consults.
pub(crate) struct RunClock {
    /// Called by the hook once the script runs past the busy threshold: serves other clients
    /// (answering BUSY) and returns true if the script must stop (killed).
    pub on_slow: Box<dyn FnMut() -> bool>,
}

/// The script run in progress, as `redis.call` finds it: a pointer to the `CallState` on the
/// stack of `script::execute`, set only for the duration of `ScriptVm::call`.
#[derive(Default)]
pub(crate) struct ActiveCall {
    state: Cell<Option<NonNull<CallState<'static>>>>,
    /// `redis.setresp(3)` was called in this run.
    resp3: Cell<bool>,
}

impl ActiveCall {
    /// Runs one `redis.call`/`redis.pcall` of `argv` against the active state: the reply, or
    /// the error text the call fails with.
    pub(crate) fn run(&self, argv: &[Bytes]) -> Result<Reply, String> {
        // Taken out while in use: a nested call (impossible today: commands run no Lua)
        // would find no state instead of a second `&mut` to it.
        let Some(ptr) = self.state.take() else {
            return Err("ERR redis.call is only available while a script runs".into());
        };
        // SAFETY: `ptr` was made by `ScriptVm::call_with` from a `&mut CallState` that
        // outlives that call and is not used by its owner until the call returns and has
        // cleared this cell; `take()` above guarantees this is the only reference made from
        // it at a time. The erased lifetime never escapes: the state is only used here,
        // inside the call.
        #[allow(unsafe_code)]
        let state = unsafe { &mut *ptr.as_ptr() };
        let out = state.call(argv);
        self.state.set(Some(ptr));
        out
    }

    /// The protocol the running script chose (`redis.setresp`).
    pub(crate) fn resp3(&self) -> bool {
        self.resp3.get()
    }
}

/// A shard's Lua VM.
pub(crate) struct ScriptVm {
    lua: Lua,
    env: Table,
    m: Table,
    run: Function,
    handler: Function,
    /// The run in progress (read by `redis.call`/`redis.pcall`).
    active: Rc<ActiveCall>,
    /// KEYS and ARGV, refilled for every EVAL (fewer tables for the collector).
    keys_table: Table,
    argv_table: Table,
    /// Compiled EVAL scripts by SHA, with their `no-writes` shebang flag.
    scripts: HashMap<[u8; 40], (Function, bool)>,
    scripts_gen: u64,
    functions: HashMap<Bytes, Loaded>,
    libraries: Vec<LibraryInfo>,
    catalog_version: Option<u64>,
    /// Set while a script runs: the clock the hook reads.
    pub(crate) clock: Rc<RefCell<Option<RunClock>>>,
}

/// SHA1 of a script body, lowercase hex.
pub(crate) fn sha1_hex(body: &[u8]) -> [u8; 40] {
    let digest = sha1_smol::Sha1::from(body).digest().bytes();
    let mut out = [0u8; 40];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
    out
}

/// Blanks a leading `#!` line (keeping the line count, so error lines match Redis's) and
/// returns the shebang's text, if any.
pub(crate) fn split_shebang(code: &[u8]) -> (Option<&[u8]>, Vec<u8>) {
    if !code.starts_with(b"#!") {
        return (None, code.to_vec());
    }
    let end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
    let mut body = Vec::with_capacity(code.len() - end + 1);
    body.extend_from_slice(&code[end..]);
    (Some(&code[..end]), body)
}

impl ScriptVm {
    /// A fresh VM with Redis's libraries and sandbox.
    pub(crate) fn new(version: &str) -> mlua::Result<ScriptVm> {
        let lua = Lua::new_with(
            StdLib::STRING | StdLib::TABLE | StdLib::MATH,
            LuaOptions::default(),
        )?;
        // The VM's own xpcall, before the libraries wrap the global one for scripts.
        let raw_xpcall: Function = lua.globals().raw_get("xpcall")?;
        super::libs::load_all(&lua)?;
        let globals = lua.globals();
        let m = lua.create_table()?;
        let handler = lua.create_function(error_handler)?;
        m.raw_set("handler", handler.clone())?;
        m.raw_set("xpcall", raw_xpcall.clone())?;
        m.raw_set(
            "sha1hex",
            lua.create_function(|lua, s: mlua::LuaString| {
                lua.create_string(sha1_hex(&s.as_bytes()))
            })?,
        )?;
        m.raw_set(
            "log",
            lua.create_function(|_, (level, msg): (i64, Value)| {
                let text = match &msg {
                    Value::String(s) => s.to_string_lossy(),
                    other => format!("{other:?}"),
                };
                match level {
                    // Redis's levels onto tracing's as `logging.rs` maps `loglevel`.
                    0 => tracing::trace!(target: "moon::script", "{text}"),
                    1 => tracing::debug!(target: "moon::script", "{text}"),
                    2 => tracing::info!(target: "moon::script", "{text}"),
                    3 => tracing::warn!(target: "moon::script", "{text}"),
                    _ => return Err(mlua::Error::runtime("Invalid debug level.")),
                }
                Ok(())
            })?,
        )?;
        m.raw_set(
            "acl_check_cmd",
            lua.create_function(|_, args: mlua::Variadic<Value>| {
                let mut argv = Vec::with_capacity(args.len());
                for a in args.iter() {
                    match a {
                        Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
                        Value::Integer(n) => argv.push(Bytes::from(n.to_string())),
                        Value::Number(n) => argv.push(Bytes::from(super::call::lua_number(*n))),
                        _ => {
                            return Err(mlua::Error::runtime(
                                "Lua redis lib command arguments must be strings or integers",
                            ));
                        }
                    }
                }
                match moon_resp::commands::resolve(&argv) {
                    Ok(_) => Ok(true),
                    Err(_) => Err(mlua::Error::runtime(
                        "Invalid command passed to redis.acl_check_cmd()",
                    )),
                }
            })?,
        )?;
        m.raw_set("version", version)?;
        m.raw_set("version_num", version_num(version))?;
        m.raw_set(
            "reg",
            lua.create_function(
                |lua,
                 (name, callback, flags, description, named): (
                    Value,
                    Value,
                    Value,
                    Value,
                    bool,
                )| { register(lua, name, callback, flags, description, named) },
            )?,
        )?;
        let env: Table = lua
            .load(SANDBOX)
            .set_name("=moon")
            .call((globals.clone(), m.clone()))?;
        let run: Function = m.raw_get("run")?;
        let api: Table = m.raw_get("R")?;
        let active = Rc::new(ActiveCall::default());
        let a3 = active.clone();
        api.raw_set("call", super::raw_call::make_call(&lua, &active, true)?)?;
        api.raw_set("pcall", super::raw_call::make_call(&lua, &active, false)?)?;
        api.raw_set(
            "setresp",
            lua.create_function(move |_, n: Value| {
                match n {
                    Value::Integer(2) => a3.resp3.set(false),
                    Value::Integer(3) => a3.resp3.set(true),
                    Value::Number(2.0) => a3.resp3.set(false),
                    Value::Number(3.0) => a3.resp3.set(true),
                    _ => return Err(mlua::Error::runtime("RESP version must be 2 or 3.")),
                }
                Ok(())
            })?,
        )?;
        let keys_table = lua.create_table()?;
        let argv_table = lua.create_table()?;
        globals.raw_set("KEYS", keys_table.clone())?;
        globals.raw_set("ARGV", argv_table.clone())?;
        let clock: Rc<RefCell<Option<RunClock>>> = Rc::new(RefCell::new(None));
        let hook_clock = clock.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                let Ok(mut guard) = hook_clock.try_borrow_mut() else {
                    return Ok(VmState::Continue);
                };
                if let Some(clock) = guard.as_mut()
                    && (clock.on_slow)()
                {
                    return Err(mlua::Error::runtime(
                        "Script killed by user with SCRIPT KILL...",
                    ));
                }
                Ok(VmState::Continue)
            },
        )?;
        Ok(ScriptVm {
            lua,
            env,
            m,
            run,
            handler,
            active,
            keys_table,
            argv_table,
            scripts: HashMap::new(),
            scripts_gen: 0,
            functions: HashMap::new(),
            libraries: Vec::new(),
            catalog_version: None,
            clock,
        })
    }

    /// Drop compiled scripts if the process-wide cache moved to generation `gen`.
    pub(crate) fn sync_scripts(&mut self, generation: u64) {
        if self.scripts_gen != generation {
            self.scripts.clear();
            self.scripts_gen = generation;
        }
    }

    /// The compiled script of `sha`, if this VM has it.
    pub(crate) fn script(&self, sha: &[u8; 40]) -> Option<Function> {
        self.scripts.get(sha).map(|(f, _)| f.clone())
    }

    /// Whether the compiled script `sha` declared `#!lua flags=no-writes`.
    pub(crate) fn script_no_writes(&self, sha: &[u8; 40]) -> bool {
        self.scripts.get(sha).is_some_and(|(_, ro)| *ro)
    }

    /// Compile an EVAL script body (its `#!` line, if any, already checked by the caller) and
    /// keep it under `sha`.
    pub(crate) fn compile_script(
        &mut self,
        sha: [u8; 40],
        body: &[u8],
    ) -> Result<Function, String> {
        let (bang, code) = split_shebang(body);
        let no_writes = bang.is_some_and(|line| {
            String::from_utf8_lossy(line)
                .split(' ')
                .filter_map(|p| p.strip_prefix("flags="))
                .any(|flags| flags.split(',').any(|f| f == "no-writes"))
        });
        let f = self
            .lua
            .load(&code[..])
            .set_name("@user_script")
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    syntax_message(&e)
                )
            })?;
        self.scripts.insert(sha, (f.clone(), no_writes));
        Ok(f)
    }

    /// Rebuild the compiled functions from `catalog` if it changed since the last build.
    pub(crate) fn sync_functions(&mut self, catalog: &FunctionCatalog) {
        if self.catalog_version == Some(catalog.version()) {
            return;
        }
        self.functions.clear();
        self.libraries.clear();
        for (name, code) in catalog.iter() {
            match self.load_library(code) {
                Ok(defs) => self.install(name.clone(), code.clone(), defs),
                Err(e) => tracing::error!(
                    library = %String::from_utf8_lossy(name),
                    "a stored library no longer loads: {e}"
                ),
            }
        }
        self.catalog_version = Some(catalog.version());
    }

    fn install(&mut self, name: Bytes, code: Bytes, defs: Vec<(FunctionDef, Function)>) {
        let mut functions = Vec::with_capacity(defs.len());
        for (def, func) in defs {
            // Function names are case-insensitive, as in Redis.
            self.functions.insert(
                Bytes::from(def.name.to_ascii_lowercase()),
                Loaded {
                    func,
                    flags: def.flags,
                },
            );
            functions.push(def);
        }
        self.libraries.push(LibraryInfo {
            name,
            code,
            functions,
        });
    }

    /// The loaded libraries (catalog order).
    pub(crate) fn libraries(&self) -> &[LibraryInfo] {
        &self.libraries
    }

    /// The function FCALL names, with its flags.
    pub(crate) fn function(&self, name: &[u8]) -> Option<(Function, FnFlags)> {
        let lower;
        let key = if name.iter().any(u8::is_ascii_uppercase) {
            lower = name.to_ascii_lowercase();
            &lower[..]
        } else {
            name
        };
        self.functions.get(key).map(|l| (l.func.clone(), l.flags))
    }

    /// Runs a library's code in a fresh environment and returns what it registered, or
    /// Redis's error text. Nothing of this VM changes.
    pub(crate) fn load_library(&self, code: &[u8]) -> Result<Vec<(FunctionDef, Function)>, String> {
        let (_, body) = split_shebang(code);
        let make_env: Function = self
            .m
            .raw_get("library_env")
            .map_err(|e| format!("ERR {e}"))?;
        let (env, switch): (Table, Function) = make_env.call(()).map_err(|e| format!("ERR {e}"))?;
        let main = self
            .lua
            .load(&body[..])
            .set_name("@user_function")
            .set_environment(env)
            .into_function()
            .map_err(|e| format!("ERR Error compiling function: {}", syntax_message(&e)))?;
        self.lua.set_app_data(Registering::default());
        let started = Instant::now();
        *self.clock.borrow_mut() = Some(RunClock {
            // A library's main chunk gets 500 ms, as in Redis (`FUNCTION LOAD` timeout).
            on_slow: Box::new(move || started.elapsed().as_millis() > 500),
        });
        let outcome: mlua::Result<(bool, Value)> = self.run.call((main, Value::Nil, Value::Nil));
        *self.clock.borrow_mut() = None;
        let registered = self
            .lua
            .remove_app_data::<Registering>()
            .unwrap_or_default();
        match outcome {
            Ok((true, _)) => {}
            Ok((false, err)) => {
                let text = error_field(&err);
                return Err(format!("ERR Error registering functions: {text}"));
            }
            Err(e) => return Err(format!("ERR Error registering functions: {e}")),
        }
        if registered.defs.is_empty() {
            return Err("ERR No functions registered".into());
        }
        switch.call::<()>(()).map_err(|e| format!("ERR {e}"))?;
        Ok(registered.defs)
    }

    /// Runs `f` with `state` serving its `redis.call`s: an EVAL script (KEYS and ARGV as
    /// globals) or, `as_function`, a function called with the keys and args tables. Returns
    /// `(true, value)` or `(false, {err, source, line})`.
    pub(crate) fn call_with(
        &self,
        state: &mut CallState<'_>,
        f: &Function,
        keys: &[Bytes],
        args: &[Bytes],
        as_function: bool,
    ) -> mlua::Result<(bool, Value)> {
        self.active.resp3.set(false);
        let ptr = NonNull::from(state).cast::<CallState<'static>>();
        self.active.state.set(Some(ptr));
        let globals = (!as_function).then_some((&self.keys_table, &self.argv_table));
        let out = super::raw_call::run(&self.lua, &self.handler, f, globals, keys, args);
        self.active.state.set(None);
        out
    }

    /// The protocol the running script chose (`redis.setresp`).
    pub(crate) fn resp3(&self) -> bool {
        self.active.resp3.get()
    }
}

/// `7.2.0` → `0x070200`.
fn version_num(version: &str) -> i64 {
    let mut parts = version.split('.').map(|p| p.parse::<i64>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) | (b << 8) | c
}

/// Lua's own message of a compile error (`user_script:1: '=' expected near 'x'`).
fn syntax_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The `err` text of an error table from the handler.
pub(crate) fn error_field(v: &Value) -> String {
    match v {
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => s.to_string_lossy(),
            _ => "ERR unknown error".into(),
        },
        Value::String(s) => s.to_string_lossy(),
        other => format!("ERR {other:?}"),
    }
}

/// Text of an error raised from Rust (a callback's or the hook's).
fn rust_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::CallbackError { cause, .. } => rust_error_text(cause),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::MemoryError(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The error handler of every run (Redis's `__redis__err__handler`): an error becomes the
/// table `{err=..., source=..., line=...}`; a non-table error gets the `ERR` code. The source
/// and line are those of the innermost user-code frame.
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let t = match err {
        Value::Table(t) => {
            if !matches!(t.raw_get::<Value>("err"), Ok(Value::String(_))) {
                let text = format!("ERR {}", lua_tostring(&Value::Table(t.clone())));
                t.raw_set("err", text)?;
            }
            t
        }
        other => {
            let text = match &other {
                Value::Error(e) => match super::libs::lib_error_message(e) {
                    Some(m) => format!("ERR {}", String::from_utf8_lossy(m)),
                    None => format!("ERR {}", rust_error_text(e)),
                },
                v => format!("ERR {}", lua_tostring(v)),
            };
            let t = lua.create_table()?;
            t.raw_set("err", text)?;
            t
        }
    };
    for level in 1..64 {
        let Some(found) = lua.inspect_stack(level, |d| {
            let source = d.source();
            let src = source.source.as_deref().unwrap_or("").to_string();
            if src.starts_with("@user_") {
                Some((src, d.current_line()))
            } else {
                None
            }
        }) else {
            break;
        };
        if let Some((src, line)) = found {
            t.raw_set("source", src)?;
            if let Some(line) = line {
                t.raw_set("line", line)?;
            }
            break;
        }
    }
    Ok(t)
}

fn lua_tostring(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(n) => n.to_string(),
        Value::Number(n) => super::call::lua_number(*n),
        Value::Boolean(b) => b.to_string(),
        Value::Nil => "nil".into(),
        other => format!("{}: {:p}", other.type_name(), other.to_pointer()),
    }
}

/// `redis.register_function` while a library loads.
fn register(
    lua: &Lua,
    name: Value,
    callback: Value,
    flags: Value,
    description: Value,
    named: bool,
) -> mlua::Result<()> {
    let fail = |text: &str| Err(mlua::Error::runtime(text));
    let Some(mut reg) = lua.app_data_mut::<Registering>() else {
        return fail("redis.register_function can only be called on FUNCTION LOAD command");
    };
    let name = match name {
        Value::String(s) => Bytes::copy_from_slice(&s.as_bytes()),
        _ if named => {
            return fail(
                "function_name argument given to redis.register_function must be a string",
            );
        }
        _ => return fail("first argument to redis.register_function must be a string"),
    };
    let Value::Function(func) = callback else {
        return if named {
            fail("callback argument given to redis.register_function must be a function")
        } else {
            fail("second argument to redis.register_function must be a function")
        };
    };
    if name.is_empty() || !name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_') {
        return fail(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        );
    }
    let mut parsed = FnFlags::default();
    match flags {
        Value::Nil => {}
        Value::Table(t) => {
            for v in t.sequence_values::<Value>() {
                match v? {
                    Value::String(s) if parsed.set(&s.as_bytes()) => {}
                    _ => return fail("unknown flag given"),
                }
            }
        }
        _ => {
            return fail(
                "flags argument to redis.register_function must be a table representing function flags",
            );
        }
    }
    let description = match description {
        Value::Nil => None,
        Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        _ => return fail("description argument given to redis.register_function must be a string"),
    };
    if reg
        .defs
        .iter()
        .any(|(d, _)| d.name.eq_ignore_ascii_case(&name))
    {
        return fail("Function already exists in the library");
    }
    reg.defs.push((
        FunctionDef {
            name,
            description,
            flags: parsed,
        },
        func,
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_redis_script_sha() {
        assert_eq!(
            &sha1_hex(b"return 1"),
            b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
        assert_eq!(&sha1_hex(b""), b"da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn shebang_line_is_blanked_keeping_line_numbers() {
        let (bang, body) = split_shebang(b"#!lua name=x\nreturn 1");
        assert_eq!(bang, Some(&b"#!lua name=x"[..]));
        assert_eq!(body, b"\nreturn 1");
        assert_eq!(split_shebang(b"return 1").0, None);
    }

    #[test]
    fn version_numbers() {
        assert_eq!(version_num("7.0.15"), 458_767);
    }

    #[test]
    fn library_registration_and_errors() {
        let vm = ScriptVm::new("7.2.0").expect("vm");
        let defs = vm
            .load_library(b"#!lua name=l\nredis.register_function('f', function() return 1 end)\nredis.register_function{function_name='g', callback=function() return 2 end, flags={'no-writes'}}")
            .expect("loads");
        assert_eq!(defs.len(), 2);
        assert!(defs[1].0.flags.no_writes);
        assert_eq!(
            vm.load_library(b"#!lua name=l\nreturn 1").err().as_deref(),
            Some("ERR No functions registered")
        );
        assert_eq!(
            vm.load_library(b"#!lua name=l\nredis.call('set','a',1)")
                .err()
                .as_deref(),
            Some(
                "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"
            )
        );
        assert_eq!(
            vm.load_library(b"#!lua name=l\nredis.register_function('bad-name', function() end)")
                .err()
                .as_deref(),
            Some(
                "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
            )
        );
        assert_eq!(
            vm.load_library(b"#!lua name=l\nlocal x = ")
                .err()
                .as_deref(),
            Some("ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'")
        );
    }
}
