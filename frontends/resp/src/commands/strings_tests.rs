//! Unit tests of `strings.rs`: lowering to the expected op/command and Redis's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};
use moon_engine::ir::{ExpireSpec, GetExSpec, SetCond};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn set_op(parts: &[&str]) -> (SetCond, ExpireSpec, bool) {
    match p(parts) {
        Ok(Command::Op(Op::Set {
            cond, expire, get, ..
        })) => (cond, expire, get),
        other => panic!("{other:?}"),
    }
}

#[test]
fn set_options() {
    assert_eq!(
        set_op(&["set", "k", "v"]),
        (SetCond::Always, ExpireSpec::Clear, false)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "NX"]),
        (SetCond::IfAbsent, ExpireSpec::Clear, false)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "xx", "get"]),
        (SetCond::IfPresent, ExpireSpec::Clear, true)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "nx", "get"]),
        (SetCond::IfAbsent, ExpireSpec::Clear, true)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "EX", "10"]),
        (SetCond::Always, ExpireSpec::In(10_000), false)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "px", "10"]),
        (SetCond::Always, ExpireSpec::In(10), false)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "exat", "10"]),
        (SetCond::Always, ExpireSpec::At(10_000), false)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "pxat", "10"]),
        (SetCond::Always, ExpireSpec::At(10), false)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "keepttl"]),
        (SetCond::Always, ExpireSpec::Keep, false)
    );
    assert_eq!(
        set_op(&["set", "k", "v", "ex", "1", "ex", "2"]).1,
        ExpireSpec::In(2000)
    );
}

#[test]
fn set_errors() {
    let syntax = "ERR syntax error";
    assert_eq!(err_text(&["set", "k", "v", "nx", "xx"]), syntax);
    assert_eq!(err_text(&["set", "k", "v", "ex", "1", "px", "1"]), syntax);
    assert_eq!(err_text(&["set", "k", "v", "keepttl", "ex", "1"]), syntax);
    assert_eq!(err_text(&["set", "k", "v", "ex", "1", "keepttl"]), syntax);
    assert_eq!(err_text(&["set", "k", "v", "ex"]), syntax);
    assert_eq!(err_text(&["set", "k", "v", "persist"]), syntax);
    assert_eq!(err_text(&["set", "k", "v", "bogus"]), syntax);
    assert_eq!(
        err_text(&["set", "k", "v", "ex", "x"]),
        "ERR value is not an integer or out of range"
    );
    let bad = "ERR invalid expire time in 'set' command";
    assert_eq!(err_text(&["set", "k", "v", "ex", "0"]), bad);
    assert_eq!(err_text(&["set", "k", "v", "px", "-5"]), bad);
    assert_eq!(err_text(&["set", "k", "v", "ex", "9223372036854776"]), bad);
    assert_eq!(
        err_text(&["setex", "k", "0", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        err_text(&["psetex", "k", "-1", "v"]),
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(
        err_text(&["getex", "k", "ex", "0"]),
        "ERR invalid expire time in 'getex' command"
    );
}

#[test]
fn set_variants() {
    assert_eq!(
        set_op(&["setex", "k", "5", "v"]),
        (SetCond::Always, ExpireSpec::In(5000), false)
    );
    assert_eq!(
        set_op(&["psetex", "k", "5", "v"]),
        (SetCond::Always, ExpireSpec::In(5), false)
    );
    assert_eq!(
        set_op(&["getset", "k", "v"]),
        (SetCond::Always, ExpireSpec::Clear, true)
    );
    assert_eq!(
        p(&["setnx", "k", "v"]),
        Ok(Command::Op(Op::SetNx {
            key: b("k"),
            value: b("v")
        }))
    );
}

#[test]
fn getex() {
    let spec = |parts: &[&str]| match p(parts) {
        Ok(Command::Op(Op::GetEx { spec, .. })) => spec,
        other => panic!("{other:?}"),
    };
    assert_eq!(spec(&["getex", "k"]), GetExSpec::Unchanged);
    assert_eq!(spec(&["getex", "k", "persist"]), GetExSpec::Persist);
    assert_eq!(
        spec(&["getex", "k", "px", "7"]),
        GetExSpec::Set(ExpireSpec::In(7))
    );
    assert_eq!(
        err_text(&["getex", "k", "persist", "ex", "1"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["getex", "k", "nx"]), "ERR syntax error");
    assert_eq!(err_text(&["getex", "k", "keepttl"]), "ERR syntax error");
}

#[test]
fn counters() {
    let delta = |parts: &[&str]| match p(parts) {
        Ok(Command::Op(Op::IncrBy { delta, .. })) => delta,
        other => panic!("{other:?}"),
    };
    assert_eq!(delta(&["incr", "k"]), 1);
    assert_eq!(delta(&["decr", "k"]), -1);
    assert_eq!(delta(&["incrby", "k", "-5"]), -5);
    assert_eq!(delta(&["decrby", "k", "5"]), -5);
    assert_eq!(
        err_text(&["decrby", "k", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );
    assert_eq!(
        err_text(&["incrby", "k", "1.5"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["incrbyfloat", "k", "abc"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        p(&["incrbyfloat", "k", "1.5"]),
        Ok(Command::Op(Op::IncrByFloat {
            key: b("k"),
            delta: 1.5
        }))
    );
}

#[test]
fn multi_key_and_ranges() {
    assert_eq!(
        p(&["mset", "a", "1", "b", "2"]),
        Ok(Command::Op(Op::MSet {
            pairs: vec![(b("a"), b("1")), (b("b"), b("2"))]
        }))
    );
    assert_eq!(
        err_text(&["msetnx", "a", "1", "b"]),
        "ERR wrong number of arguments for 'msetnx' command"
    );
    assert_eq!(
        p(&["mget", "a", "b"]),
        Ok(Command::Op(Op::MGet {
            keys: vec![b("a"), b("b")]
        }))
    );
    assert_eq!(
        p(&["substr", "k", "0", "-1"]),
        Ok(Command::Op(Op::GetRange {
            key: b("k"),
            start: 0,
            end: -1
        }))
    );
    assert_eq!(
        err_text(&["setrange", "k", "-1", "v"]),
        "ERR offset is out of range"
    );
    assert_eq!(
        err_text(&["setrange", "k", "x", "v"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        p(&["setrange", "k", "3", "v"]),
        Ok(Command::Op(Op::SetRange {
            key: b("k"),
            offset: 3,
            value: b("v")
        }))
    );
    assert_eq!(
        p(&["append", "k", "v"]),
        Ok(Command::Op(Op::Append {
            key: b("k"),
            value: b("v")
        }))
    );
    assert_eq!(
        p(&["strlen", "k"]),
        Ok(Command::Op(Op::StrLen { key: b("k") }))
    );
    assert_eq!(
        p(&["getdel", "k"]),
        Ok(Command::Op(Op::GetDel { key: b("k") }))
    );
}

#[test]
fn lcs_modes() {
    let mode = |parts: &[&str]| match p(parts) {
        Ok(Command::Op(Op::Lcs { mode, .. })) => mode,
        other => panic!("{other:?}"),
    };
    assert_eq!(mode(&["lcs", "a", "b"]), LcsMode::String);
    assert_eq!(mode(&["lcs", "a", "b", "LEN"]), LcsMode::Len);
    assert_eq!(
        mode(&["lcs", "a", "b", "idx", "minmatchlen", "4", "withmatchlen"]),
        LcsMode::Idx {
            min_match_len: 4,
            with_match_len: true
        }
    );
    assert_eq!(
        mode(&["lcs", "a", "b", "idx", "minmatchlen", "-4"]),
        LcsMode::Idx {
            min_match_len: 0,
            with_match_len: false
        }
    );
    assert_eq!(
        err_text(&["lcs", "a", "b", "idx", "len"]),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(
        err_text(&["lcs", "a", "b", "minmatchlen"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["lcs", "a", "b", "foo"]), "ERR syntax error");
}
