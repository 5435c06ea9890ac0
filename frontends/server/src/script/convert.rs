//! Conversion of a script's result to a reply, as Redis 7 documents it ("Conversion between
//! Lua and Redis data types"); the other direction (what `redis.call` returns) is
//! `raw_call::push_reply`.
//!
//! - Lua → Reply (what a script returns) is the same for both, except booleans: under RESP2
//!   `true` is the integer 1 and `false` a null; under RESP3 they are RESP3 booleans. Numbers are
//!   truncated to integers; an array stops at its first `nil`.
//!
//! Invariant: conversion never fails on any Lua value (unknown types become a null), and
//! recursion is bounded by [`MAX_DEPTH`] so a self-referencing table cannot overflow the stack.

use bytes::Bytes;
use mlua::{Table, Value};
use moon_engine::ir::{OpError, Reply};

/// Nesting limit of a converted reply (Redis relies on `lua_checkstack`; a cyclic table must not
/// recurse forever).
const MAX_DEPTH: usize = 1000;

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
    use mlua::Lua;

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
}
