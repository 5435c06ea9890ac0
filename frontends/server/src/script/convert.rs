//! Conversions between replies and Lua values, as Redis 7 documents them ("Conversion between
//! Lua and Redis data types").
//!
//! - Reply → Lua (what `redis.call` returns) depends on the protocol the script chose with
//!   `redis.setresp` (2 by default): under RESP2 a null is `false`, a map is a flat array, a
//!   double is a string; under RESP3 a null is `nil` and maps, sets, doubles, booleans and
//!   verbatim strings become the `{map=..}`, `{set=..}`, `{double=..}`, boolean and
//!   `{verbatim_string=..}` forms.
//! - Lua → Reply (what a script returns) is the same for both, except booleans: under RESP2
//!   `true` is the integer 1 and `false` a null; under RESP3 they are RESP3 booleans. Numbers are
//!   truncated to integers; an array stops at its first `nil`.
//!
//! Invariant: conversion never fails on any Lua value (unknown types become a null), and
//! recursion is bounded by [`MAX_DEPTH`] so a self-referencing table cannot overflow the stack.

use bytes::Bytes;
use mlua::{Lua, Table, Value};
use moon_engine::ir::{OpError, Reply};

/// Nesting limit of a converted reply (Redis relies on `lua_checkstack`; a cyclic table must not
/// recurse forever).
const MAX_DEPTH: usize = 1000;

/// A reply → Lua value, under the script's protocol (`resp3`).
pub(crate) fn reply_to_lua(lua: &Lua, reply: Reply, resp3: bool) -> mlua::Result<Value> {
    Ok(match reply {
        Reply::Ok => status(lua, b"OK")?,
        Reply::Simple(s) => status(lua, &s)?,
        Reply::Bulk(b) => Value::String(lua.create_string(&b)?),
        Reply::Int(n) => Value::Number(n as f64),
        Reply::Double(d) if resp3 => single(lua, "double", Value::Number(d))?,
        Reply::Double(d) => {
            let mut text = Vec::with_capacity(24);
            moon_resp::codec::format_double(d, &mut text);
            Value::String(lua.create_string(&text)?)
        }
        Reply::DoubleText(t) if resp3 => {
            let d = std::str::from_utf8(&t)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
            single(lua, "double", Value::Number(d))?
        }
        Reply::DoubleText(t) => Value::String(lua.create_string(&t)?),
        Reply::Bool(b) if resp3 => Value::Boolean(b),
        Reply::Bool(b) => Value::Number(if b { 1.0 } else { 0.0 }),
        Reply::Nil | Reply::NilArray if resp3 => Value::Nil,
        Reply::Nil | Reply::NilArray => Value::Boolean(false),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) if !resp3 => {
            array(lua, items, resp3)?
        }
        Reply::Array(items) | Reply::Push(items) => array(lua, items, resp3)?,
        Reply::Set(items) => {
            let set = lua.create_table_with_capacity(0, items.len())?;
            for item in items {
                set.raw_set(reply_to_lua(lua, item, resp3)?, true)?;
            }
            single(lua, "set", Value::Table(set))?
        }
        Reply::Map(pairs) if resp3 => map(lua, pairs, resp3)?,
        Reply::MapArrays(pairs) if resp3 => map(lua, pairs, resp3)?,
        Reply::Map(pairs) | Reply::Pairs(pairs) if !resp3 => flat(lua, pairs, resp3)?,
        Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::MapArrays(pairs) => {
            let t = lua.create_table_with_capacity(pairs.len(), 0)?;
            for (i, (k, v)) in pairs.into_iter().enumerate() {
                let pair = array(lua, vec![k, v], resp3)?;
                t.raw_set(i + 1, pair)?;
            }
            Value::Table(t)
        }
        Reply::Verbatim(format, text) if resp3 => {
            let inner = lua.create_table_with_capacity(0, 2)?;
            inner.raw_set("format", format)?;
            inner.raw_set("string", lua.create_string(&text)?)?;
            single(lua, "verbatim_string", Value::Table(inner))?
        }
        Reply::Verbatim(_, text) => Value::String(lua.create_string(&text)?),
        Reply::Err(e) => {
            let text = moon_resp::errors::error_text(&e);
            error_table(lua, &text)?
        }
    })
}

/// `{err = text}` for an error reply's text (already carrying its code).
pub(crate) fn error_table(lua: &Lua, text: &str) -> mlua::Result<Value> {
    single(lua, "err", Value::String(lua.create_string(text)?))
}

fn status(lua: &Lua, text: &[u8]) -> mlua::Result<Value> {
    single(lua, "ok", Value::String(lua.create_string(text)?))
}

fn single(lua: &Lua, field: &str, value: Value) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(0, 1)?;
    t.raw_set(field, value)?;
    Ok(Value::Table(t))
}

fn map(lua: &Lua, pairs: Vec<(Reply, Reply)>, resp3: bool) -> mlua::Result<Value> {
    let m = lua.create_table_with_capacity(0, pairs.len())?;
    for (k, v) in pairs {
        let k = reply_to_lua(lua, k, resp3)?;
        if !k.is_nil() {
            m.raw_set(k, reply_to_lua(lua, v, resp3)?)?;
        }
    }
    single(lua, "map", Value::Table(m))
}

fn flat(lua: &Lua, pairs: Vec<(Reply, Reply)>, resp3: bool) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(pairs.len() * 2, 0)?;
    let mut i = 1;
    for (k, v) in pairs {
        t.raw_set(i, reply_to_lua(lua, k, resp3)?)?;
        t.raw_set(i + 1, reply_to_lua(lua, v, resp3)?)?;
        i += 2;
    }
    Ok(Value::Table(t))
}

fn array(lua: &Lua, items: Vec<Reply>, resp3: bool) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.into_iter().enumerate() {
        t.raw_set(i + 1, reply_to_lua(lua, item, resp3)?)?;
    }
    Ok(Value::Table(t))
}

/// A script's return value → reply, under the script's protocol (`resp3`).
pub(crate) fn lua_to_reply(value: &Value, resp3: bool) -> Reply {
    to_reply(value, resp3, 0)
}

fn to_reply(value: &Value, resp3: bool, depth: usize) -> Reply {
    if depth > MAX_DEPTH {
        return Reply::Err(OpError::Other("ERR reached lua stack limit".into()));
    }
    match value {
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) if resp3 => Reply::Bool(*b),
        Value::Boolean(true) => Reply::Int(1),
        Value::Boolean(false) => Reply::Nil,
        Value::Integer(n) => Reply::Int(*n),
        Value::Number(n) => Reply::Int(truncate(*n)),
        Value::Table(t) => table_to_reply(t, resp3, depth),
        _ => Reply::Nil,
    }
}

/// Lua number → integer as C's `(long long)` cast of a double: truncation, saturating.
fn truncate(n: f64) -> i64 {
    if n.is_nan() { 0 } else { n.trunc() as i64 }
}

fn table_to_reply(t: &Table, resp3: bool, depth: usize) -> Reply {
    // The special forms, in Redis's order (`luaReplyToRedisReply`); each applies only when
    // its field has the right type.
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        let text = String::from_utf8_lossy(&e.as_bytes()).replace(['\r', '\n'], " ");
        return Reply::Err(OpError::Other(text));
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        let text = String::from_utf8_lossy(&s.as_bytes()).replace(['\r', '\n'], " ");
        return Reply::Simple(Bytes::from(text));
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return Reply::Double(d),
        Ok(Value::Integer(d)) => return Reply::Double(d as f64),
        _ => {}
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        // No RESP3 big number in the reply model: sent as its digits (RESP2's form).
        let text = String::from_utf8_lossy(&s.as_bytes()).replace(['\r', '\n'], " ");
        return Reply::Bulk(Bytes::from(text));
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let mut pairs = Vec::new();
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            pairs.push((
                to_reply(&k, resp3, depth + 1),
                to_reply(&v, resp3, depth + 1),
            ));
        }
        return Reply::Map(pairs);
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let mut items = Vec::new();
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            items.push(to_reply(&k, resp3, depth + 1));
        }
        return Reply::Set(items);
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string")
        && let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
    {
        let format: &'static str = match &*format.as_bytes() {
            b"mkd" => "mkd",
            _ => "txt",
        };
        return Reply::Verbatim(format, Bytes::copy_from_slice(&text.as_bytes()));
    }
    let mut items = Vec::new();
    let mut i = 1;
    loop {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(to_reply(&v, resp3, depth + 1)),
        }
        i += 1;
    }
    Reply::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(lua: &Lua, code: &str) -> Value {
        lua.load(code).eval().expect("lua")
    }

    #[test]
    fn lua_values_become_replies_as_in_redis() {
        let lua = Lua::new();
        let r = |code: &str, resp3| lua_to_reply(&eval(&lua, code), resp3);
        assert_eq!(r("return 3.99", false), Reply::Int(3));
        assert_eq!(r("return -3.99", false), Reply::Int(-3));
        assert_eq!(r("return 'x'", false), Reply::bulk(b"x"));
        assert_eq!(r("return true", false), Reply::Int(1));
        assert_eq!(r("return false", false), Reply::Nil);
        assert_eq!(r("return true", true), Reply::Bool(true));
        assert_eq!(r("return false", true), Reply::Bool(false));
        assert_eq!(r("return nil", false), Reply::Nil);
        assert_eq!(
            r("return {1, 'a', nil, 4}", false),
            Reply::Array(vec![Reply::Int(1), Reply::bulk(b"a")])
        );
        assert_eq!(
            r("return {err='My Err'}", false),
            Reply::Err(OpError::Other("My Err".into()))
        );
        assert_eq!(r("return {ok='fine'}", false), Reply::Simple("fine".into()));
        assert_eq!(r("return {double=3.5}", false), Reply::Double(3.5));
        // A special field of the wrong type falls through to the array form.
        assert_eq!(r("return {double='x'}", false), Reply::Array(vec![]));
        assert_eq!(
            r("return {map={a=1}}", false),
            Reply::Map(vec![(Reply::bulk(b"a"), Reply::Int(1))])
        );
        assert_eq!(
            r("return {set={a=true}}", false),
            Reply::Set(vec![Reply::bulk(b"a")])
        );
        assert_eq!(
            r("return {1, {2, {3}}}", false),
            Reply::Array(vec![
                Reply::Int(1),
                Reply::Array(vec![Reply::Int(2), Reply::Array(vec![Reply::Int(3)])])
            ])
        );
        assert_eq!(r("return function() end", false), Reply::Nil);
    }

    #[test]
    fn a_cyclic_table_does_not_recurse_forever() {
        let lua = Lua::new();
        let v = eval(&lua, "local t = {} t[1] = t return t");
        let mut reply = lua_to_reply(&v, false);
        let mut depth = 0;
        while let Reply::Array(mut items) = reply {
            reply = items.pop().expect("one element");
            depth += 1;
        }
        assert!(depth > 100);
        assert!(reply.is_err());
    }

    #[test]
    fn replies_become_lua_values_per_protocol() {
        let lua = Lua::new();
        let g = lua.globals();
        let check = |reply: Reply, resp3: bool, code: &str| {
            let v = reply_to_lua(&lua, reply, resp3).expect("convert");
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
    }
}
