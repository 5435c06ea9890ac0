//! The Lua libraries Redis loads into its scripting environment, implemented in Rust:
//! `cjson`, `cmsgpack`, `bit` and `struct` (Lua 5.1's own `string`, `table` and `math` come
//! with the VM).
//!
//! Every library function is a plain Rust callback, i.e. a C function for Lua. That matters for
//! error messages: `luaL_error` prefixes the position of the *caller* (`user_script:1: ...`),
//! and `luaL_argerror` names the function the way it was called (`bad argument #1 to 'band'`);
//! both come from the call stack, and only a C function keeps its caller's frame when called in
//! tail position (`return cjson.decode(x)`). So a failing function computes that text itself
//! (see [`LibError`]) and fails with an mlua error whose root cause is a [`LuaLibError`] holding
//! exactly the bytes redis-server would produce.
//!
//! mlua hands Lua an error *userdata* for a failing callback, where the C libraries raise a
//! string. [`load_all`] therefore also wraps `pcall`/`xpcall` so that a caught library error
//! is seen by the script as its message string (`pcall(cjson.decode, "x")` gives
//! `false, "Expected value but found invalid token at character 1"`), and the embedding code
//! gets the text of an uncaught one with [`lib_error_message`]. As in redis-server 7.0
//! (`luaRedisPcall`), `pcall` also hands the script the `err` string of an error table, which
//! is what a failing `redis.call` raises (`xpcall`'s handler still sees the table).
//!
//! Invariants shared by the libraries: argument checks reproduce `lauxlib` (`luaL_checknumber`,
//! `luaL_checklstring`, ...) including Lua's string<->number coercions and its exact texts
//! (`bad argument #2 to 'band' (number expected, got nil)`); float->integer conversions reproduce
//! what the C code compiled for x86-64 does (see [`c_f64_to_i64`]), because scripts observe them.

mod bit;
mod cjson;
mod cmsgpack;
mod structlib;

use std::fmt;

use mlua::{Function, Lua, MultiValue, Table, Value};

/// Registers `cjson`, `cmsgpack`, `bit` and `struct` as globals of `lua`, and makes `pcall` and
/// `xpcall` turn errors raised by them into strings (see the module docs).
pub(crate) fn load_all(lua: &mlua::Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("cjson", cjson::module(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::module(lua)?)?;
    globals.raw_set("bit", bit::module(lua)?)?;
    globals.raw_set("struct", structlib::module(lua)?)?;
    let to_string = lua.create_function(|lua, v: Value| {
        Ok(match &v {
            Value::Error(e) => match lib_error_message(e) {
                Some(m) => Value::String(lua.create_string(m)?),
                None => v,
            },
            _ => v,
        })
    })?;
    let install: Function = lua.load(PCALL_SRC).set_name("=moonlibs").eval()?;
    install.call::<()>(to_string)
}

/// Wraps `pcall`/`xpcall` (captured as upvalues, so later sandboxing of the globals does not
/// matter) to pass caught errors through `fix`, which maps library errors to their message;
/// `pcall` then turns an `{err=...}` table into its string, as redis-server 7.0 does.
const PCALL_SRC: &str = r#"
return function(fix)
  local pcall, xpcall, type, rawget = pcall, xpcall, type, rawget
  local function ret(ok, ...)
    if ok then return true, ... end
    local e = fix((...))
    if type(e) == 'table' and type(rawget(e, 'err')) == 'string' then e = rawget(e, 'err') end
    return false, e
  end
  _G.pcall = function(f, ...) return ret(pcall(f, ...)) end
  _G.xpcall = function(f, h) return xpcall(f, function(e) return h(fix(e)) end) end
end
"#;

/// The error a library function fails with: the exact bytes a script sees on redis-server
/// (position prefix included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LuaLibError(pub(crate) Vec<u8>);

impl fmt::Display for LuaLibError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl std::error::Error for LuaLibError {}

/// The message of an error raised by one of the libraries, if `e` is (or wraps) one: what
/// redis-server puts after `ERR ` in the reply (e.g. `user_script:1: Expected value but found
/// invalid token at character 1`).
pub(crate) fn lib_error_message(e: &mlua::Error) -> Option<&[u8]> {
    match e {
        mlua::Error::CallbackError { cause, .. } => lib_error_message(cause),
        mlua::Error::WithContext { cause, .. } => lib_error_message(cause),
        mlua::Error::ExternalError(inner) => {
            inner.downcast_ref::<LuaLibError>().map(|x| x.0.as_slice())
        }
        _ => None,
    }
}

/// An error raised by a library function, in the flavour of the C API call that raises it.
#[derive(Debug)]
pub(super) enum LibError {
    /// `luaL_error(L, msg)`: prefixed with the caller's position.
    Error(Vec<u8>),
    /// `luaL_argerror(L, narg, msg)`: `bad argument #narg to 'name' (msg)`, positioned.
    Arg(i32, Vec<u8>),
    /// An error raised by the VM inside the C function (no position), e.g. `table index is nil`.
    Raw(Vec<u8>),
    /// mlua failed (out of memory, out of reference slots).
    Lua(mlua::Error),
}

impl From<mlua::Error> for LibError {
    fn from(e: mlua::Error) -> Self {
        LibError::Lua(e)
    }
}

pub(super) type LibResult<T> = Result<T, LibError>;

/// `luaL_error(L, msg)`.
pub(super) fn error(msg: impl Into<Vec<u8>>) -> LibError {
    LibError::Error(msg.into())
}

/// `luaL_argerror(L, narg, msg)`.
pub(super) fn arg_error(narg: i32, msg: impl Into<Vec<u8>>) -> LibError {
    LibError::Arg(narg, msg.into())
}

/// `luaL_typerror(L, narg, expected)`: `<expected> expected, got <type of the argument>`.
pub(super) fn type_error(narg: usize, expected: &str, got: Option<&Value>) -> LibError {
    let msg = format!("{expected} expected, got {}", type_name(got));
    arg_error(narg_i32(narg), msg)
}

fn narg_i32(narg: usize) -> i32 {
    i32::try_from(narg).unwrap_or(i32::MAX)
}

/// `luaL_typename`: the Lua type name of an argument, `no value` for an absent one.
pub(super) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        // Light and full userdata (mlua's error objects are userdata too).
        Some(_) => "userdata",
    }
}

/// The 1-based argument `i` (`None` = "no value", as `lua_isnone`).
pub(super) fn arg(args: &[Value], i: usize) -> Option<&Value> {
    i.checked_sub(1).and_then(|j| args.get(j))
}

/// `lua_tonumber`: numbers, and strings Lua can convert (`" 0x10 "` -> 16); `None` otherwise.
pub(super) fn to_number(lua: &Lua, v: Option<&Value>) -> LibResult<Option<f64>> {
    Ok(match v {
        Some(Value::Integer(i)) => Some(*i as f64),
        Some(Value::Number(n)) => Some(*n),
        Some(s @ Value::String(_)) => lua.coerce_number(s.clone())?,
        _ => None,
    })
}

/// `luaL_checknumber(L, i)`.
pub(super) fn check_number(lua: &Lua, args: &[Value], i: usize) -> LibResult<f64> {
    let v = arg(args, i);
    to_number(lua, v)?.ok_or_else(|| type_error(i, "number", v))
}

/// `luaL_checkinteger(L, i)` (Lua 5.1: the number truncated by a C cast).
pub(super) fn check_integer(lua: &Lua, args: &[Value], i: usize) -> LibResult<i64> {
    check_number(lua, args, i).map(c_f64_to_i64)
}

/// `luaL_optinteger(L, i, def)`: `def` when the argument is absent or nil.
pub(super) fn opt_integer(lua: &Lua, args: &[Value], i: usize, def: i64) -> LibResult<i64> {
    match arg(args, i) {
        None | Some(Value::Nil) => Ok(def),
        Some(_) => check_integer(lua, args, i),
    }
}

/// `luaL_checklstring(L, i)`: strings, and numbers converted the way Lua prints them.
pub(super) fn check_string(lua: &Lua, args: &[Value], i: usize) -> LibResult<mlua::LuaString> {
    match arg(args, i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => lua
            .coerce_string(v.clone())?
            .ok_or_else(|| type_error(i, "string", Some(v))),
        v => Err(type_error(i, "string", v)),
    }
}

/// `(int64_t)d` as x86-64 computes it (`cvttsd2si`): truncation toward zero, and the
/// "integer indefinite" value `i64::MIN` for NaN and out-of-range inputs (C calls this undefined;
/// the libraries rely on what the hardware does, so we reproduce it).
pub(super) fn c_f64_to_i64(d: f64) -> i64 {
    // 2^63 is exactly representable; every finite value in [-2^63, 2^63) truncates in range.
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// `(int32_t)d` on x86-64: like [`c_f64_to_i64`] with `i32::MIN` as the indefinite value.
pub(super) fn c_f64_to_i32(d: f64) -> i32 {
    if !(-2_147_483_648.0..2_147_483_648.0).contains(&d) {
        i32::MIN
    } else {
        d as i32
    }
}

/// `(uint64_t)d` as gcc compiles it for x86-64: values below 2^63 (and NaN, which fails the
/// `>= 2^63` test) go through the signed conversion, the others are converted after subtracting
/// 2^63 and get the top bit flipped back.
pub(super) fn c_f64_to_u64(d: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if d >= TWO_63 {
        (c_f64_to_i64(d - TWO_63) as u64) ^ (1 << 63)
    } else {
        c_f64_to_i64(d) as u64
    }
}

/// `lua_pushnumber` of an `f64`: mlua pushes `Value::Number` as is.
pub(super) fn num(n: f64) -> Value {
    Value::Number(n)
}

/// One return value.
pub(super) fn ret1(v: Value) -> MultiValue {
    MultiValue::from_vec(vec![v])
}

/// Wraps `f` as a Lua function and sets it as `table[name]`.
pub(super) fn register<F>(lua: &Lua, table: &Table, name: &str, f: F) -> mlua::Result<()>
where
    F: Fn(&Lua, &[Value]) -> LibResult<MultiValue> + 'static,
{
    let func = lua.create_function(move |lua, args: MultiValue| {
        let args = args.into_vec();
        f(lua, &args).map_err(|e| match e {
            LibError::Error(m) => lib_error(position(lua), &m),
            LibError::Arg(narg, m) => lib_error(position(lua), &arg_error_text(lua, narg, &m)),
            LibError::Raw(m) => lib_error(Vec::new(), &m),
            LibError::Lua(e) => e,
        })
    })?;
    table.raw_set(name, func)
}

fn lib_error(mut prefix: Vec<u8>, msg: &[u8]) -> mlua::Error {
    prefix.extend_from_slice(msg);
    mlua::Error::external(LuaLibError(prefix))
}

/// `luaL_where(L, 1)`: `chunk:line: ` of the function that called the library function, empty
/// when that is a C function (e.g. `pcall`) or a lost tail call.
fn position(lua: &Lua) -> Vec<u8> {
    lua.inspect_stack(1, |d| {
        let line = d.current_line()?;
        let src = d.source().short_src?.into_owned();
        Some(format!("{src}:{line}: ").into_bytes())
    })
    .flatten()
    .unwrap_or_default()
}

/// `luaL_argerror`'s text. The function's name comes from how its caller called it (level 0 is
/// the running function): `bit.band(...)` gives `band`, `pcall(bit.band)` gives `?`, and in
/// `bit:band(...)` self is argument 0.
fn arg_error_text(lua: &Lua, mut narg: i32, msg: &[u8]) -> Vec<u8> {
    let info = lua.inspect_stack(0, |d| {
        let names = d.names();
        (
            names.name.map(|n| n.into_owned()),
            names.name_what == Some("method"),
        )
    });
    let mut out = Vec::with_capacity(msg.len() + 48);
    let Some((name, is_method)) = info else {
        out.extend_from_slice(format!("bad argument #{narg} (").as_bytes());
        out.extend_from_slice(msg);
        out.push(b')');
        return out;
    };
    let name = name.unwrap_or_else(|| "?".to_owned());
    if is_method {
        narg -= 1;
        if narg == 0 {
            out.extend_from_slice(format!("calling '{name}' on bad self (").as_bytes());
            out.extend_from_slice(msg);
            out.push(b')');
            return out;
        }
    }
    out.extend_from_slice(format!("bad argument #{narg} to '{name}' (").as_bytes());
    out.extend_from_slice(msg);
    out.push(b')');
    out
}

/// Shared helpers for the unit tests of the libraries.
#[cfg(test)]
pub(super) mod testutil {
    use mlua::{Lua, Value};

    /// A Lua state with the four libraries loaded.
    pub(crate) fn lua() -> Lua {
        let lua = Lua::new();
        super::load_all(&lua).expect("load_all");
        lua
    }

    /// Runs `code` as the body of a script named like Redis's (`@user_script`).
    pub(crate) fn eval<T: mlua::FromLuaMulti>(lua: &Lua, code: &str) -> T {
        lua.load(code)
            .set_name("@user_script")
            .eval()
            .unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    /// Runs `code` and returns the error message it raises (as a script would see it).
    pub(crate) fn eval_err(lua: &Lua, code: &str) -> String {
        match lua.load(code).set_name("@user_script").exec() {
            Ok(()) => panic!("{code}: expected an error"),
            Err(e) => match super::lib_error_message(&e) {
                Some(m) => String::from_utf8_lossy(m).into_owned(),
                None => panic!("{code}: not a library error: {e:?}"),
            },
        }
    }

    /// The bytes of the string `code` evaluates to.
    pub(crate) fn bytes(lua: &Lua, code: &str) -> Vec<u8> {
        match eval::<Value>(lua, code) {
            Value::String(s) => s.as_bytes().to_vec(),
            v => panic!("{code}: expected a string, got {v:?}"),
        }
    }

    /// The string `code` evaluates to (lossy UTF-8).
    pub(crate) fn string(lua: &Lua, code: &str) -> String {
        String::from_utf8_lossy(&bytes(lua, code)).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{eval, eval_err, lua};
    use super::*;

    #[test]
    fn globals_are_registered() {
        let lua = lua();
        let names: String = eval(
            &lua,
            "return type(cjson)..type(cmsgpack)..type(bit)..type(struct)",
        );
        assert_eq!(names, "tabletabletabletable");
    }

    #[test]
    fn errors_are_positioned_like_lual_error() {
        let lua = lua();
        // Called from the script: the caller's position is prepended.
        assert_eq!(
            eval_err(&lua, "return bit.band()"),
            "user_script:1: bad argument #1 to 'band' (number expected, got no value)"
        );
        // Called from pcall (a C function): no position, and no name.
        let (ok, msg): (bool, String) = eval(&lua, "return pcall(bit.band)");
        assert!(!ok);
        assert_eq!(
            msg,
            "bad argument #1 to '?' (number expected, got no value)"
        );
        // Called from a Lua function under pcall: position of that function's line.
        let msg: String = eval(
            &lua,
            "local ok, e = pcall(function()\n local y = bit.band() return y end) return e",
        );
        assert_eq!(
            msg,
            "user_script:2: bad argument #1 to 'band' (number expected, got no value)"
        );
        // Method call: self is not counted.
        assert_eq!(
            eval_err(&lua, "return bit:band(1)"),
            "user_script:1: calling 'band' on bad self (number expected, got table)"
        );
        // Through pcall and xpcall the error value is a plain string.
        let t: String = eval(
            &lua,
            "local ok, e = pcall(cjson.decode, 'x') return type(e)..e",
        );
        assert_eq!(
            t,
            "stringExpected value but found invalid token at character 1"
        );
        let t: String = eval(
            &lua,
            "local ok, e = xpcall(function() return bit.tohex({}) end, function(e) return 'h:'..e end) return e",
        );
        assert_eq!(
            t,
            "h:user_script:1: bad argument #1 to 'tohex' (number expected, got table)"
        );
        // Other errors pass through untouched.
        let t: String = eval(&lua, "local ok, e = pcall(error, {1}) return type(e)");
        assert_eq!(t, "table");
        let (ok, a, b): (bool, i64, String) =
            eval(&lua, "return pcall(function(x) return x, 'y' end, 7)");
        assert!(ok);
        assert_eq!((a, b.as_str()), (7, "y"));
    }

    #[test]
    fn many_results() {
        let lua = lua();
        // redis-server returns up to 7999 values; mlua needs one more slot, so 7998 is our limit.
        for n in [0usize, 1, 8, 9, 100, 7998] {
            let got: usize = eval(
                &lua,
                &format!("return select('#', cmsgpack.unpack(string.rep('\\1', {n})))"),
            );
            assert_eq!(got, n);
        }
        let got: Vec<i64> = eval(&lua, "return {cmsgpack.unpack(string.rep('\\1', 20))}");
        assert_eq!(got, vec![1; 20]);
    }

    #[test]
    fn c_casts_match_x86() {
        assert_eq!(c_f64_to_i64(1.9), 1);
        assert_eq!(c_f64_to_i64(-1.9), -1);
        assert_eq!(c_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_f64_to_i64(1e300), i64::MIN);
        assert_eq!(c_f64_to_i64(-9_223_372_036_854_775_808.0), i64::MIN);
        assert_eq!(c_f64_to_i32(2_147_483_648.0), i32::MIN);
        assert_eq!(c_f64_to_i32(-5.5), -5);
        assert_eq!(c_f64_to_u64(18_446_744_073_709_551_616.0), 0);
        assert_eq!(c_f64_to_u64(9_223_372_036_854_775_808.0), 1 << 63);
        assert_eq!(c_f64_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_f64_to_u64(-1.0), u64::MAX);
    }
}
