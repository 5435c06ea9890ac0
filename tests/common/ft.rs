//! Helpers the FT.* end-to-end tests share: sending a command given as a slice of words (text or
//! bytes) and expecting a reply or an error, turning a scalar reply into text, and packing a
//! vector into the little-endian FLOAT32 blob that KNN queries and HSET take.
//!
//! Every sender panics with the command in the message when the reply is not of the expected
//! kind, so a failing test names the command that failed.

use redis::{Connection, Value};

use super::err_text;

/// `v` as the FLOAT32 blob of a vector field (little-endian, 4 bytes per element).
pub fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A scalar reply as text: bulk and simple strings as they are, numbers in Rust's formatting,
/// `OK` for Okay, `nil` for a null; anything else in its debug form.
pub fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Okay => "OK".into(),
        Value::Nil => "nil".into(),
        other => format!("{other:?}"),
    }
}

/// The command `args[0]` with the rest as its arguments.
pub fn cmd<A: redis::ToRedisArgs>(args: &[A]) -> redis::Cmd {
    let mut c = redis::Cmd::new();
    for a in args {
        c.arg(a);
    }
    c
}

fn shown<A: redis::ToRedisArgs>(args: &[A]) -> Vec<String> {
    args.iter()
        .flat_map(|a| a.to_redis_args())
        .map(|a| String::from_utf8_lossy(&a).into_owned())
        .collect()
}

/// Runs `args` and returns the reply; panics, naming the command, on an error reply.
pub fn q<A: redis::ToRedisArgs>(con: &mut Connection, args: &[A]) -> Value {
    cmd(args)
        .query(con)
        .unwrap_or_else(|e| panic!("{:?} failed: {e}", shown(args)))
}

/// Runs `args`, which must fail, and returns the error's text.
pub fn qerr<A: redis::ToRedisArgs>(con: &mut Connection, args: &[A]) -> String {
    match cmd(args).query::<Value>(con) {
        Ok(v) => panic!("{:?} answered {v:?}, expected an error", shown(args)),
        Err(e) => err_text(&e),
    }
}
