//! Unit tests of `list.rs`: lowering to the expected ops and redis-server 7's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn list_op(parts: &[&str]) -> ListOp {
    match p(parts) {
        Ok(Command::Op(Op::Lists(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

#[test]
fn pushes_and_pops() {
    assert_eq!(
        list_op(&["LPUSH", "k", "a", "b"]),
        ListOp::Push {
            key: b("k"),
            end: End::Head,
            elements: vec![b("a"), b("b")],
            only_if_exists: false
        }
    );
    assert_eq!(
        list_op(&["rpushx", "k", "a"]),
        ListOp::Push {
            key: b("k"),
            end: End::Tail,
            elements: vec![b("a")],
            only_if_exists: true
        }
    );
    assert_eq!(
        list_op(&["lpop", "k"]),
        ListOp::Pop {
            key: b("k"),
            end: End::Head,
            count: None
        }
    );
    assert_eq!(
        list_op(&["RPOP", "k", "0"]),
        ListOp::Pop {
            key: b("k"),
            end: End::Tail,
            count: Some(0)
        }
    );
    let positive = "ERR value is out of range, must be positive";
    assert_eq!(err_text(&["lpop", "k", "-1"]), positive);
    assert_eq!(err_text(&["lpop", "k", "x"]), positive);
    assert_eq!(
        err_text(&["lpop", "k", "1", "2"]),
        "ERR wrong number of arguments for 'lpop' command"
    );
    assert_eq!(
        err_text(&["lpush", "k"]),
        "ERR wrong number of arguments for 'lpush' command"
    );
}

#[test]
fn ranges_and_indexes() {
    assert_eq!(
        list_op(&["lrange", "k", "0", "-1"]),
        ListOp::Range {
            key: b("k"),
            start: 0,
            stop: -1
        }
    );
    let not_int = "ERR value is not an integer or out of range";
    assert_eq!(err_text(&["lrange", "k", "x", "1"]), not_int);
    assert_eq!(err_text(&["ltrim", "k", "0", "1.5"]), not_int);
    assert_eq!(err_text(&["lrem", "k", "x", "v"]), not_int);
    // LINDEX/LSET validate the index only after the key lookup.
    assert_eq!(
        list_op(&["lindex", "k", "x"]),
        ListOp::Index {
            key: b("k"),
            index: None
        }
    );
    assert_eq!(
        list_op(&["lset", "k", "-2", "v"]),
        ListOp::Set {
            key: b("k"),
            index: Some(-2),
            element: b("v")
        }
    );
    assert_eq!(
        list_op(&["linsert", "k", "BEFORE", "p", "v"]),
        ListOp::Insert {
            key: b("k"),
            after: false,
            pivot: b("p"),
            element: b("v")
        }
    );
    assert_eq!(
        err_text(&["linsert", "k", "middle", "p", "v"]),
        "ERR syntax error"
    );
}

#[test]
fn lpos_options() {
    assert_eq!(
        list_op(&["lpos", "k", "v", "RANK", "-2", "count", "0", "maxlen", "9"]),
        ListOp::Pos {
            key: b("k"),
            element: b("v"),
            rank: -2,
            count: Some(0),
            maxlen: 9
        }
    );
    assert_eq!(
        err_text(&["lpos", "k", "v", "rank", "0"]),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(
        err_text(&["lpos", "k", "v", "rank", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err_text(&["lpos", "k", "v", "rank", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["lpos", "k", "v", "count", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        err_text(&["lpos", "k", "v", "maxlen", "x"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(err_text(&["lpos", "k", "v", "rank"]), "ERR syntax error");
    assert_eq!(
        err_text(&["lpos", "k", "v", "foo", "1"]),
        "ERR syntax error"
    );
}

#[test]
fn moves() {
    assert_eq!(
        list_op(&["lmove", "a", "b", "left", "RIGHT"]),
        ListOp::Move {
            src: b("a"),
            dst: b("b"),
            from: End::Head,
            to: End::Tail,
            timeout_ms: None
        }
    );
    assert_eq!(
        list_op(&["rpoplpush", "a", "b"]),
        ListOp::Move {
            src: b("a"),
            dst: b("b"),
            from: End::Tail,
            to: End::Head,
            timeout_ms: None
        }
    );
    assert_eq!(
        list_op(&["brpoplpush", "a", "b", "1.5"]),
        ListOp::Move {
            src: b("a"),
            dst: b("b"),
            from: End::Tail,
            to: End::Head,
            timeout_ms: Some(1500)
        }
    );
    assert_eq!(
        err_text(&["lmove", "a", "b", "middle", "left"]),
        "ERR syntax error"
    );
    // The positions are checked before the timeout.
    assert_eq!(
        err_text(&["blmove", "a", "b", "foo", "left", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["blmove", "a", "b", "left", "left", "x"]),
        "ERR timeout is not a float or out of range"
    );
}

#[test]
fn mpop_arguments() {
    assert_eq!(
        list_op(&["lmpop", "2", "a", "b", "LEFT", "COUNT", "3"]),
        ListOp::MPop {
            keys: vec![b("a"), b("b")],
            end: End::Head,
            count: 3,
            timeout_ms: None
        }
    );
    assert_eq!(
        list_op(&["blmpop", "0", "1", "a", "right"]),
        ListOp::MPop {
            keys: vec![b("a")],
            end: End::Tail,
            count: 1,
            timeout_ms: Some(0)
        }
    );
    let numkeys = "ERR numkeys should be greater than 0";
    assert_eq!(err_text(&["lmpop", "0", "a", "left"]), numkeys);
    assert_eq!(err_text(&["lmpop", "x", "a", "left"]), numkeys);
    assert_eq!(err_text(&["lmpop", "2", "a", "left"]), "ERR syntax error");
    assert_eq!(
        err_text(&["lmpop", "9223372036854775807", "a", "left"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["lmpop", "1", "a", "middle"]), "ERR syntax error");
    assert_eq!(
        err_text(&["lmpop", "1", "a", "left", "count", "0"]),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        err_text(&["lmpop", "1", "a", "left", "count", "1", "count", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["lmpop", "1", "a", "left", "count"]),
        "ERR syntax error"
    );
    // BLMPOP checks numkeys before the timeout.
    assert_eq!(err_text(&["blmpop", "-1", "0", "a", "left"]), numkeys);
    assert_eq!(
        err_text(&["blmpop", "-1", "1", "a", "left"]),
        "ERR timeout is negative"
    );
}

#[test]
fn blocking_timeouts() {
    let timeout = |t: &str| match list_op(&["blpop", "a", "b", t]) {
        ListOp::BPop {
            keys, timeout_ms, ..
        } => {
            assert_eq!(keys, vec![b("a"), b("b")]);
            timeout_ms
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(timeout("0"), 0);
    assert_eq!(timeout("1"), 1000);
    assert_eq!(timeout("0.0015"), 2);
    assert_eq!(timeout("0x10"), 16_000);
    assert_eq!(timeout("-0.0001"), 0);
    assert_eq!(timeout("1e-400"), 1);
    assert_eq!(timeout(".5"), 500);
    let not_float = "ERR timeout is not a float or out of range";
    for bad in ["x", "nan", "1.5abc", "", " 1", "1 "] {
        assert_eq!(err_text(&["blpop", "a", bad]), not_float, "{bad:?}");
    }
    let negative = "ERR timeout is negative";
    assert_eq!(err_text(&["brpop", "a", "-1"]), negative);
    assert_eq!(err_text(&["brpop", "a", "-inf"]), negative);
    let range = "ERR timeout is out of range";
    assert_eq!(err_text(&["blpop", "a", "1e100"]), range);
    assert_eq!(err_text(&["blpop", "a", "inf"]), range);
    assert_eq!(err_text(&["blpop", "a", "9223372036854775"]), range);
    let op = Op::Lists(list_op(&["blpop", "a", "2.5"]));
    assert_eq!(op.blocking().map(|b| b.timeout_ms), Some(2500));
    assert_eq!(Op::Lists(list_op(&["lpop", "a"])).blocking(), None);
}

#[test]
fn metadata() {
    use crate::commands::table::{CMD_BLOCKING, lookup};
    let blpop = lookup(b"BLPOP").expect("blpop");
    assert_eq!(blpop.key_range(), (1, -2, 1));
    assert!(blpop.flags & CMD_BLOCKING != 0);
    assert_eq!(
        lookup(b"lmove").map(CommandSpec::key_range),
        Some((1, 2, 1))
    );
    assert_eq!(
        lookup(b"lmpop").map(CommandSpec::key_range),
        Some((0, 0, 0))
    );
    assert_eq!(
        lookup(b"llen").map(CommandSpec::acl_categories),
        Some(LIST | super::super::table::CAT_READ | super::super::table::CAT_FAST)
    );
}
