//! Unit tests of `keys.rs`: lowering to the expected op/command and Redis's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn expire_of(parts: &[&str]) -> (ExpireSpec, ExpireCond) {
    match p(parts) {
        Ok(Command::Op(Op::Expire { at, cond, .. })) => (at, cond),
        other => panic!("{other:?}"),
    }
}

#[test]
fn expire_family() {
    assert_eq!(
        expire_of(&["expire", "k", "10"]),
        (ExpireSpec::In(10_000), ExpireCond::Always)
    );
    assert_eq!(
        expire_of(&["pexpire", "k", "10", "NX"]),
        (ExpireSpec::In(10), ExpireCond::Nx)
    );
    assert_eq!(
        expire_of(&["expireat", "k", "10", "xx"]),
        (ExpireSpec::At(10_000), ExpireCond::Xx)
    );
    assert_eq!(
        expire_of(&["pexpireat", "k", "10", "gt"]),
        (ExpireSpec::At(10), ExpireCond::Gt)
    );
    assert_eq!(
        expire_of(&["expire", "k", "10", "xx", "gt"]),
        (ExpireSpec::In(10_000), ExpireCond::Gt)
    );
    assert_eq!(expire_of(&["expire", "k", "10", "lt"]).1, ExpireCond::Lt);
    assert_eq!(expire_of(&["expire", "k", "0"]).0, ExpireSpec::At(0));
    assert_eq!(expire_of(&["pexpire", "k", "-5"]).0, ExpireSpec::At(0));
    assert_eq!(expire_of(&["expireat", "k", "-5"]).0, ExpireSpec::At(0));
}

#[test]
fn expire_errors() {
    assert_eq!(
        err_text(&["expire", "k", "1", "nx", "xx"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err_text(&["expire", "k", "1", "gt", "lt"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        err_text(&["expire", "k", "1", "foo"]),
        "ERR Unsupported option foo"
    );
    assert_eq!(
        err_text(&["expire", "k", "x"]),
        "ERR value is not an integer or out of range"
    );
    // Options are checked before the number, as in Redis.
    assert_eq!(
        err_text(&["expire", "k", "x", "foo"]),
        "ERR Unsupported option foo"
    );
    assert_eq!(
        err_text(&["expire", "k", "9223372036854776"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err_text(&["expireat", "k", "-9223372036854776"]),
        "ERR invalid expire time in 'expireat' command"
    );
}

#[test]
fn simple_key_ops() {
    assert_eq!(
        p(&["del", "a", "b"]),
        Ok(Command::Op(Op::Del {
            keys: vec![b("a"), b("b")]
        }))
    );
    assert_eq!(
        p(&["unlink", "a"]),
        Ok(Command::Op(Op::Del { keys: vec![b("a")] }))
    );
    assert_eq!(
        p(&["exists", "a", "a"]),
        Ok(Command::Op(Op::Exists {
            keys: vec![b("a"), b("a")]
        }))
    );
    assert_eq!(
        p(&["touch", "a"]),
        Ok(Command::Op(Op::Touch { keys: vec![b("a")] }))
    );
    assert_eq!(
        p(&["pttl", "a"]),
        Ok(Command::Op(Op::Ttl {
            key: b("a"),
            unit: TimeUnit::Millis
        }))
    );
    assert_eq!(
        p(&["expiretime", "a"]),
        Ok(Command::Op(Op::ExpireTime {
            key: b("a"),
            unit: TimeUnit::Seconds
        }))
    );
    assert_eq!(
        p(&["persist", "a"]),
        Ok(Command::Op(Op::Persist { key: b("a") }))
    );
    assert_eq!(p(&["type", "a"]), Ok(Command::Op(Op::Type { key: b("a") })));
    assert_eq!(
        p(&["renamenx", "a", "b"]),
        Ok(Command::Op(Op::Rename {
            src: b("a"),
            dst: b("b"),
            nx: true
        }))
    );
    assert_eq!(
        p(&["keys", "*"]),
        Ok(Command::Op(Op::Keys { pattern: b("*") }))
    );
    assert_eq!(p(&["randomkey"]), Ok(Command::Op(Op::RandomKey)));
    assert_eq!(p(&["dbsize"]), Ok(Command::Op(Op::DbSize)));
    assert_eq!(
        p(&["object", "encoding", "k"]),
        Ok(Command::Op(Op::ObjectEncoding { key: b("k") }))
    );
    assert_eq!(
        p(&["OBJECT", "FREQ", "k"]),
        Ok(Command::Op(Op::ObjectFreq { key: b("k") }))
    );
    assert_eq!(
        p(&["object", "help"]),
        Ok(Command::Conn(ConnCmd::ObjectHelp))
    );
    assert_eq!(
        err_text(&["object", "encoding"]),
        "ERR wrong number of arguments for 'object|encoding' command"
    );
}
