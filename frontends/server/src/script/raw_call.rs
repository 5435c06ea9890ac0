//! `redis.call` and `redis.pcall` as plain Lua C functions, and the call of a script with its
//! `KEYS` and `ARGV`, written against the Lua C API (`mlua::ffi`) instead of mlua's value
//! layer.
//!
//! These run once per script command and per EVAL; through mlua every argument and every reply
//! value became a registry reference on mlua's auxiliary thread, which cost more than executing
//! the command itself (perf, EVALSHA of INCR + EXPIRE). Here arguments are read straight off
//! the Lua stack and replies are pushed straight onto it, converted as Redis documents it
//! ("Conversion between Lua and Redis data types"): under RESP2 (the default of
//! `redis.setresp`) a null is `false`, a map a flat array, a double a string; under RESP3 a
//! null is `nil` and maps, sets, doubles, booleans and verbatim strings become the `{map=..}`,
//! `{set=..}`, `{double=..}`, boolean and `{verbatim_string=..}` forms. A failing call raises
//! (`redis.call`) or returns (`redis.pcall`) an `{err=...}` table.
//!
//! Invariants:
//! - A Lua error is raised (`lua_error`, a `longjmp`) only from [`entry`], after every Rust
//!   value of the call has been dropped; panics are caught before that point.
//! - The other Lua API calls made here cannot raise: they only allocate, and the VM has no
//!   memory limit, so mlua's allocator aborts on exhaustion instead of reporting a Lua memory
//!   error (the same premise mlua's own fast paths rely on; `ScriptVm::new` never sets a
//!   limit). Table stores use fresh tables without metatables and never a nil or NaN key.
//! - The closures' upvalue points at the VM's [`ActiveCall`], kept alive as the Lua state's app
//!   data for as long as the state can run code.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::os::raw::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use bytes::Bytes;
use mlua::{Function, Lua, Table, Value, ffi};
use moon_engine::ir::Reply;

use super::call::number_arg;
use super::vm::ActiveCall;

/// The error text of a `redis.call` argument that is neither a string nor a number.
const BAD_ARG: &str = "ERR Lua redis lib command arguments must be strings or integers";

/// Creates `redis.call` (`raise`) or `redis.pcall` bound to `active`.
pub(crate) fn make_call(lua: &Lua, active: &Rc<ActiveCall>, raise: bool) -> mlua::Result<Function> {
    if lua.app_data_ref::<Rc<ActiveCall>>().is_none() {
        lua.set_app_data(active.clone());
    }
    let ptr = Rc::as_ptr(active) as *mut c_void;
    let func: ffi::lua_CFunction = if raise { redis_call } else { redis_pcall };
    // SAFETY: the closure pushes one light userdata and one C closure on the stack of a
    // protected call with room for them (exec_raw checks 3 slots); the C closure is returned.
    unsafe {
        lua.exec_raw::<Function>((), |state| {
            ffi::lua_pushlightuserdata(state, ptr);
            ffi::lua_pushcclosure(state, func, 1);
        })
    }
}

/// Runs `f` under `handler` as Lua's `xpcall` would: an EVAL script with `KEYS` and `ARGV`
/// (`globals`, the two tables the script sees) refilled from `keys` and `args`, or, without
/// `globals`, a function called with fresh keys and args tables. Returns `(true, value)` or
/// `(false, handler's value)`.
///
/// One `lua_pcall` on the main state, without mlua's protected-call wrapper (which allocates a
/// C closure on every call) or the `xpcall` trampoline.
pub(crate) fn run(
    lua: &Lua,
    handler: &Function,
    f: &Function,
    globals: Option<(&Table, &Table)>,
    keys: &[Bytes],
    args: &[Bytes],
) -> mlua::Result<(bool, Value)> {
    lua.exec_raw_lua(|raw| {
        let state = raw.state();
        // SAFETY: this runs from Rust, not inside a Lua callback, so `state` is the main
        // state with no frame of ours below `base`; at most 5 slots are used above it
        // (checked first). The pushes, table stores and `fill_slot` cannot raise (module
        // invariants); Lua errors of the call itself are caught by `lua_pcall`. The stack is
        // put back to `base` on every path.
        unsafe {
            if ffi::lua_checkstack(state, 5) == 0 {
                return Err(mlua::Error::StackError);
            }
            let base = ffi::lua_gettop(state);
            let pushed = raw.push(handler).and_then(|()| raw.push(f));
            if let Err(e) = pushed {
                ffi::lua_settop(state, base);
                return Err(e);
            }
            let nargs = match globals {
                Some((keys_t, args_t)) => {
                    for (table, items) in [(keys_t, keys), (args_t, args)] {
                        if let Err(e) = raw.push(table) {
                            ffi::lua_settop(state, base);
                            return Err(e);
                        }
                        fill_slot(state, ffi::lua_gettop(state), items);
                        ffi::lua_settop(state, -2);
                    }
                    0
                }
                None => {
                    for items in [keys, args] {
                        ffi::lua_createtable(
                            state,
                            items.len().min(c_int::MAX as usize) as c_int,
                            0,
                        );
                        fill_slot(state, ffi::lua_gettop(state), items);
                    }
                    2
                }
            };
            let status = ffi::lua_pcall(state, nargs, 1, base + 1);
            let value = raw.pop_value();
            ffi::lua_settop(state, base);
            Ok((status == 0, value))
        }
    })
}

/// Stores `items` at 1..=n of the table at absolute index `slot`, then nils the entries a
/// previous run left after them.
unsafe fn fill_slot(state: *mut ffi::lua_State, slot: c_int, items: &[Bytes]) {
    // SAFETY: the table at `slot` is a plain array (no metatable); each store
    // pushes one value and pops it, so one free slot is enough.
    unsafe {
        let mut i: c_int = 1;
        for item in items {
            ffi::lua_pushlstring_(state, item.as_ptr().cast(), item.len());
            ffi::lua_rawseti_(state, slot, i);
            i += 1;
        }
        loop {
            ffi::lua_rawgeti_(state, slot, i);
            let nil = ffi::lua_type(state, -1) == ffi::LUA_TNIL;
            ffi::lua_settop(state, -2);
            if nil {
                break;
            }
            ffi::lua_pushnil(state);
            ffi::lua_rawseti_(state, slot, i);
            i += 1;
        }
    }
}

unsafe extern "C-unwind" fn redis_call(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C function with the upvalue `make_call` gave it.
    unsafe { entry(state, true) }
}

unsafe extern "C-unwind" fn redis_pcall(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: as `redis_call`.
    unsafe { entry(state, false) }
}

/// Runs the call, leaving its one result on the stack; raises it when it is an error and
/// `raise` is set.
unsafe fn entry(state: *mut ffi::lua_State, raise: bool) -> c_int {
    // SAFETY: upvalue 1 is the `ActiveCall` pointer `make_call` stored; the app data keeps it
    // alive while this state runs code.
    let active =
        unsafe { &*(ffi::lua_touserdata(state, ffi::lua_upvalueindex(1)) as *const ActiveCall) };
    // SAFETY: `call` only reads the arguments and pushes one result (see the module's
    // invariants on why those pushes cannot raise).
    let failed = match catch_unwind(AssertUnwindSafe(|| unsafe { call(state, active) })) {
        Ok(failed) => failed,
        Err(_) => {
            // SAFETY: pushes a fresh table; the panic payload is dropped already.
            unsafe {
                push_error(
                    state,
                    b"ERR redis.call failed: internal error (this is a bug)",
                )
            };
            true
        }
    };
    if failed && raise {
        // SAFETY: nothing of this frame or `call`'s needs dropping any more; the error table
        // is on the stack top, where `lua_error` takes it from.
        unsafe { ffi::lua_error(state) }
    }
    1
}

/// Converts the arguments, runs the command on the active state and pushes the reply (or an
/// `{err=...}` table). Returns true for an error.
unsafe fn call(state: *mut ffi::lua_State, active: &ActiveCall) -> bool {
    // SAFETY: Lua stack reads within `lua_gettop`, and pushes of one value
    // (`push_reply` checks the stack for nested tables).
    unsafe {
        let outcome = match read_args(state) {
            Some(argv) => active.run(&argv),
            None => Err(BAD_ARG.to_string()),
        };
        ffi::lua_settop(state, 0);
        match outcome {
            Ok(reply) => {
                push_reply(state, reply, active.resp3());
                false
            }
            Err(text) => {
                push_error(state, text.as_bytes());
                true
            }
        }
    }
}

/// The call's arguments as bytes, or None if one is not a string or number.
unsafe fn read_args(state: *mut ffi::lua_State) -> Option<Vec<Bytes>> {
    // SAFETY: indices 1..=top are valid; `lua_tolstring` is only used on strings
    // (no in-place conversion), and its pointer is read before anything else touches the stack.
    unsafe {
        let n = ffi::lua_gettop(state);
        let mut argv = Vec::with_capacity(n.max(0) as usize);
        for i in 1..=n {
            match ffi::lua_type(state, i) {
                ffi::LUA_TSTRING => {
                    let mut len = 0usize;
                    let ptr = ffi::lua_tolstring(state, i, &mut len);
                    argv.push(Bytes::copy_from_slice(std::slice::from_raw_parts(
                        ptr.cast::<u8>(),
                        len,
                    )));
                }
                ffi::LUA_TNUMBER => argv.push(number_arg(ffi::lua_tonumber(state, i))),
                _ => return None,
            }
        }
        Some(argv)
    }
}

unsafe fn push_bytes(state: *mut ffi::lua_State, b: &[u8]) {
    // SAFETY: a slice pointer is never null, even for an empty slice.
    unsafe { ffi::lua_pushlstring_(state, b.as_ptr().cast(), b.len()) }
}

/// Pushes `{[field] = value on the stack top}`, replacing the value.
unsafe fn wrap_single(state: *mut ffi::lua_State, field: &'static std::ffi::CStr) {
    // SAFETY: the value is on the top; the new table goes under it, then takes it.
    unsafe {
        ffi::lua_createtable(state, 0, 1);
        ffi::lua_insert(state, -2);
        ffi::lua_setfield(state, -2, field.as_ptr());
    }
}

/// Pushes `{err = text}`.
unsafe fn push_error(state: *mut ffi::lua_State, text: &[u8]) {
    // SAFETY: one string, then wrapped.
    unsafe {
        push_bytes(state, text);
        wrap_single(state, c"err");
    }
}

/// Pushes a table holding `items` at 1..=n.
unsafe fn push_array(state: *mut ffi::lua_State, items: Vec<Reply>, resp3: bool) {
    // SAFETY: the table stays at -2 while each item is pushed at -1 and stored.
    unsafe {
        ffi::lua_createtable(state, items.len().min(c_int::MAX as usize) as c_int, 0);
        for (i, item) in (1..).zip(items) {
            push_reply(state, item, resp3);
            ffi::lua_rawseti_(state, -2, i);
        }
    }
}

/// Pushes a table of `pairs` flattened (`k1, v1, k2, v2, ...`).
unsafe fn push_flat(state: *mut ffi::lua_State, pairs: Vec<(Reply, Reply)>, resp3: bool) {
    // SAFETY: as `push_array`.
    unsafe {
        ffi::lua_createtable(
            state,
            (pairs.len() * 2).min(c_int::MAX as usize) as c_int,
            0,
        );
        let mut i: c_int = 1;
        for (k, v) in pairs {
            push_reply(state, k, resp3);
            ffi::lua_rawseti_(state, -2, i);
            push_reply(state, v, resp3);
            ffi::lua_rawseti_(state, -2, i + 1);
            i += 2;
        }
    }
}

/// Pushes a table of `{k, v}` pairs.
unsafe fn push_pair_arrays(state: *mut ffi::lua_State, pairs: Vec<(Reply, Reply)>, resp3: bool) {
    // SAFETY: as `push_array`.
    unsafe {
        ffi::lua_createtable(state, pairs.len().min(c_int::MAX as usize) as c_int, 0);
        for (i, (k, v)) in (1..).zip(pairs) {
            push_array(state, vec![k, v], resp3);
            ffi::lua_rawseti_(state, -2, i);
        }
    }
}

/// Stores key (at -2) → value (at -1) in the table at -3, or drops both when the key cannot
/// be a table key (nil, NaN).
unsafe fn set_pair(state: *mut ffi::lua_State) {
    // SAFETY: the three slots are there; `lua_rawset` would raise on a nil or NaN key, so
    // those are popped instead.
    unsafe {
        let key_type = ffi::lua_type(state, -2);
        let nan = key_type == ffi::LUA_TNUMBER && ffi::lua_tonumber(state, -2).is_nan();
        if key_type == ffi::LUA_TNIL || nan {
            ffi::lua_settop(state, -3);
        } else {
            ffi::lua_rawset(state, -3);
        }
    }
}

/// Pushes `{map = {k = v, ...}}` (RESP3); nil keys are skipped.
unsafe fn push_map(state: *mut ffi::lua_State, pairs: Vec<(Reply, Reply)>, resp3: bool) {
    // SAFETY: the map stays at -3 while a key and value are pushed above it.
    unsafe {
        ffi::lua_createtable(state, 0, pairs.len().min(c_int::MAX as usize) as c_int);
        for (k, v) in pairs {
            push_reply(state, k, resp3);
            push_reply(state, v, resp3);
            set_pair(state);
        }
        wrap_single(state, c"map");
    }
}

/// Pushes `{set = {member = true, ...}}` (RESP3).
unsafe fn push_set(state: *mut ffi::lua_State, items: Vec<Reply>, resp3: bool) {
    // SAFETY: as `push_map`.
    unsafe {
        ffi::lua_createtable(state, 0, items.len().min(c_int::MAX as usize) as c_int);
        for item in items {
            push_reply(state, item, resp3);
            ffi::lua_pushboolean(state, 1);
            set_pair(state);
        }
        wrap_single(state, c"set");
    }
}

/// Pushes `{double = d}` (RESP3).
unsafe fn push_double(state: *mut ffi::lua_State, d: f64) {
    // SAFETY: one number, then wrapped.
    unsafe {
        ffi::lua_pushnumber(state, d);
        wrap_single(state, c"double");
    }
}

/// Pushes `reply` as the script sees it (see the module docs).
unsafe fn push_reply(state: *mut ffi::lua_State, reply: Reply, resp3: bool) {
    // SAFETY: every arm leaves exactly one value on the stack, using at most 4
    // slots while it builds it (a table, a key, a value, a wrapping table). The caller
    // (`call`, after clearing the stack of a C function, or a parent here) leaves at least
    // one slot for the value.
    unsafe {
        if ffi::lua_checkstack(state, 4) == 0 {
            // Only for absurd nesting (thousands of levels). The caller checked for 4 slots
            // and uses at most 3 around this value, so this one slot is still ours.
            ffi::lua_pushnil(state);
            return;
        }
        match reply {
            Reply::Ok => {
                push_bytes(state, b"OK");
                wrap_single(state, c"ok");
            }
            Reply::Simple(s) => {
                push_bytes(state, &s);
                wrap_single(state, c"ok");
            }
            Reply::Bulk(b) => push_bytes(state, &b),
            Reply::Int(n) => ffi::lua_pushnumber(state, n as f64),
            Reply::Double(d) if resp3 => push_double(state, d),
            Reply::Double(d) => {
                let mut text = Vec::with_capacity(24);
                moon_resp::codec::format_double(d, &mut text);
                push_bytes(state, &text);
            }
            Reply::DoubleText(t) if resp3 => {
                let d = std::str::from_utf8(&t)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(0.0);
                push_double(state, d);
            }
            Reply::DoubleText(t) => push_bytes(state, &t),
            Reply::Bool(b) if resp3 => ffi::lua_pushboolean(state, c_int::from(b)),
            Reply::Bool(b) => ffi::lua_pushnumber(state, if b { 1.0 } else { 0.0 }),
            Reply::Nil | Reply::NilArray if resp3 => ffi::lua_pushnil(state),
            Reply::Nil | Reply::NilArray => ffi::lua_pushboolean(state, 0),
            Reply::Array(items) | Reply::Push(items) => push_array(state, items, resp3),
            Reply::Set(items) if !resp3 => push_array(state, items, resp3),
            Reply::Set(items) => push_set(state, items, resp3),
            Reply::Map(pairs) | Reply::MapArrays(pairs) if resp3 => push_map(state, pairs, resp3),
            Reply::Map(pairs) | Reply::Pairs(pairs) if !resp3 => push_flat(state, pairs, resp3),
            Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::MapArrays(pairs) => {
                push_pair_arrays(state, pairs, resp3)
            }
            Reply::Verbatim(format, text) if resp3 => {
                ffi::lua_createtable(state, 0, 2);
                push_bytes(state, format.as_bytes());
                ffi::lua_setfield(state, -2, c"format".as_ptr());
                push_bytes(state, &text);
                ffi::lua_setfield(state, -2, c"string".as_ptr());
                wrap_single(state, c"verbatim_string");
            }
            Reply::Verbatim(_, text) => push_bytes(state, &text),
            Reply::Err(e) => push_error(state, moon_resp::errors::error_text(&e).as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moon_engine::ir::OpError;

    /// `reply` as `redis.call` hands it to a script.
    fn reply_value(lua: &Lua, reply: Reply, resp3: bool) -> Value {
        lua.exec_raw_lua(|raw| {
            // SAFETY: pushes one value onto the main state (room checked by push_reply),
            // then pops it.
            unsafe {
                push_reply(raw.state(), reply, resp3);
                raw.pop_value()
            }
        })
    }

    #[test]
    fn numbers_become_arguments_as_mlua_read_them() {
        assert_eq!(number_arg(3.0), "3");
        assert_eq!(number_arg(-7.0), "-7");
        assert_eq!(number_arg(1.5), "1.5");
        assert_eq!(number_arg(-0.0), "-0");
        assert_eq!(number_arg(9007199254740993.0), "9007199254740992");
        assert_eq!(number_arg(1e20), "1e+20");
        assert_eq!(number_arg(f64::NAN), "nan");
    }

    #[test]
    fn keys_and_args_tables_are_refilled_and_cleared() {
        let lua = Lua::new();
        let keys = lua.create_table().expect("table");
        let args = lua.create_table().expect("table");
        lua.globals().set("KEYS", &keys).expect("set");
        lua.globals().set("ARGV", &args).expect("set");
        let handler = lua.create_function(|_, v: Value| Ok(v)).expect("handler");
        let f: Function = lua
            .load("return #KEYS .. ':' .. #ARGV .. ':' .. table.concat(ARGV, ',')")
            .into_function()
            .expect("compile");
        let b = |s: &'static str| Bytes::from_static(s.as_bytes());
        let out = run(
            &lua,
            &handler,
            &f,
            Some((&keys, &args)),
            &[b("k")],
            &[b("a"), b("b")],
        );
        let (ok, v) = out.expect("run");
        assert!(ok);
        assert_eq!(
            v.as_string().expect("string").to_str().expect("utf8"),
            "1:2:a,b"
        );
        let (ok, v) = run(&lua, &handler, &f, Some((&keys, &args)), &[], &[b("c")]).expect("run");
        assert!(ok);
        assert_eq!(
            v.as_string().expect("string").to_str().expect("utf8"),
            "0:1:c"
        );
        let failing: Function = lua
            .load("error({err='E x'})")
            .into_function()
            .expect("compile");
        let (ok, v) = run(&lua, &handler, &failing, None, &[], &[]).expect("run");
        assert!(!ok);
        let Value::Table(t) = v else {
            panic!("error table expected")
        };
        assert_eq!(t.get::<String>("err").expect("err"), "E x");
    }

    #[test]
    fn replies_become_lua_values_per_protocol() {
        let lua = Lua::new();
        let g = lua.globals();
        let check = |reply: Reply, resp3: bool, code: &str| {
            let v = reply_value(&lua, reply, resp3);
            g.set("v", v).expect("set");
            let ok: bool = lua.load(code).eval().expect("eval");
            assert!(ok, "{code}");
        };
        check(Reply::Nil, false, "return v == false");
        check(Reply::Nil, true, "return v == nil");
        check(Reply::Ok, false, "return v.ok == 'OK'");
        check(Reply::Int(7), false, "return v == 7");
        check(
            Reply::Err(OpError::NotInteger),
            false,
            "return v.err == 'ERR value is not an integer or out of range'",
        );
        let map = || Reply::Map(vec![(Reply::bulk(b"a"), Reply::bulk(b"1"))]);
        check(map(), false, "return v[1] == 'a' and v[2] == '1'");
        check(map(), true, "return v.map.a == '1'");
        check(Reply::Double(1.5), false, "return v == '1.5'");
        check(Reply::Double(1.5), true, "return v.double == 1.5");
        check(Reply::Bool(true), false, "return v == 1");
        check(Reply::Bool(true), true, "return v == true");
        check(
            Reply::Set(vec![Reply::bulk(b"m")]),
            true,
            "return v.set.m == true",
        );
        check(
            Reply::Set(vec![Reply::bulk(b"m")]),
            false,
            "return v[1] == 'm'",
        );
        check(
            Reply::Pairs(vec![(Reply::bulk(b"f"), Reply::Int(2))]),
            false,
            "return v[1] == 'f' and v[2] == 2",
        );
        check(
            Reply::MapArrays(vec![(Reply::bulk(b"f"), Reply::Nil)]),
            false,
            "return v[1][1] == 'f' and v[1][2] == false",
        );
        check(
            Reply::Map(vec![
                (Reply::Nil, Reply::Int(1)),
                (Reply::bulk(b"k"), Reply::Int(2)),
            ]),
            true,
            "return v.map.k == 2 and next(v.map, next(v.map)) == nil",
        );
        check(
            Reply::Verbatim("txt", Bytes::from_static(b"hi")),
            true,
            "return v.verbatim_string.format == 'txt' and v.verbatim_string.string == 'hi'",
        );
        check(
            Reply::Verbatim("txt", Bytes::from_static(b"hi")),
            false,
            "return v == 'hi'",
        );
        check(Reply::simple("QUEUED"), false, "return v.ok == 'QUEUED'");
        check(
            Reply::Array(vec![Reply::Int(1), Reply::Array(vec![Reply::bulk(b"")])]),
            false,
            "return v[1] == 1 and v[2][1] == ''",
        );
        check(
            Reply::DoubleText(Bytes::from_static(b"2.5")),
            true,
            "return v.double == 2.5",
        );
    }
}
