//! Unit tests of `sets.rs`: lowering to the expected op and redis-server 7's exact error texts.
use super::*;
use crate::commands::table::lookup;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn set_op(parts: &[&str]) -> SetOp {
    match p(parts) {
        Ok(Command::Op(Op::Sets(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

#[test]
fn simple_commands_lower() {
    assert_eq!(
        set_op(&["SADD", "k", "a", "b"]),
        SetOp::Add {
            key: b("k"),
            members: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        set_op(&["srem", "k", "a"]),
        SetOp::Rem {
            key: b("k"),
            members: vec![b("a")]
        }
    );
    assert_eq!(set_op(&["scard", "k"]), SetOp::Card { key: b("k") });
    assert_eq!(
        set_op(&["sismember", "k", "m"]),
        SetOp::IsMember {
            key: b("k"),
            member: b("m")
        }
    );
    assert_eq!(
        set_op(&["smismember", "k", "m", "n"]),
        SetOp::MIsMember {
            key: b("k"),
            members: vec![b("m"), b("n")]
        }
    );
    assert_eq!(set_op(&["smembers", "k"]), SetOp::Members { key: b("k") });
    assert_eq!(
        set_op(&["smove", "s", "d", "m"]),
        SetOp::Move {
            src: b("s"),
            dst: b("d"),
            member: b("m")
        }
    );
}

#[test]
fn algebra_lowers_with_destination_first() {
    assert_eq!(
        set_op(&["sinter", "a", "b"]),
        SetOp::Combine {
            op: SetAlgebra::Inter,
            dst: None,
            keys: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        set_op(&["SUNIONSTORE", "d", "a"]),
        SetOp::Combine {
            op: SetAlgebra::Union,
            dst: Some(b("d")),
            keys: vec![b("a")]
        }
    );
    assert_eq!(
        set_op(&["sdiffstore", "d", "a", "b"]),
        SetOp::Combine {
            op: SetAlgebra::Diff,
            dst: Some(b("d")),
            keys: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        set_op(&["sdiff", "a"]),
        SetOp::Combine {
            op: SetAlgebra::Diff,
            dst: None,
            keys: vec![b("a")]
        }
    );
}

#[test]
fn counts_of_spop_and_srandmember() {
    assert_eq!(
        set_op(&["spop", "k"]),
        SetOp::Pop {
            key: b("k"),
            count: None
        }
    );
    assert_eq!(
        set_op(&["spop", "k", "0"]),
        SetOp::Pop {
            key: b("k"),
            count: Some(0)
        }
    );
    assert_eq!(
        set_op(&["srandmember", "k", "-9223372036854775807"]),
        SetOp::RandMember {
            key: b("k"),
            count: Some(-i64::MAX)
        }
    );
    let positive = "ERR value is out of range, must be positive";
    assert_eq!(err_text(&["spop", "k", "-1"]), positive);
    assert_eq!(err_text(&["spop", "k", "x"]), positive);
    assert_eq!(err_text(&["spop", "k", "1", "2"]), "ERR syntax error");
    assert_eq!(
        err_text(&["srandmember", "k", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err_text(&["srandmember", "k", "9223372036854775808"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["srandmember", "k", "1", "2"]),
        "ERR syntax error"
    );
}

#[test]
fn sintercard_arguments() {
    assert_eq!(
        set_op(&["sintercard", "2", "a", "b", "LIMIT", "5", "limit", "0"]),
        SetOp::InterCard {
            keys: vec![b("a"), b("b")],
            limit: 0
        }
    );
    assert_eq!(
        set_op(&["sintercard", "1", "a", "limit", "3"]),
        SetOp::InterCard {
            keys: vec![b("a")],
            limit: 3
        }
    );
    let numkeys = "ERR numkeys should be greater than 0";
    assert_eq!(err_text(&["sintercard", "0", "a"]), numkeys);
    assert_eq!(err_text(&["sintercard", "-1", "a"]), numkeys);
    assert_eq!(err_text(&["sintercard", "x", "a"]), numkeys);
    assert_eq!(
        err_text(&["sintercard", "2", "a"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        err_text(&["sintercard", "99999999999999999999", "a"]),
        numkeys
    );
    let neg = "ERR LIMIT can't be negative";
    assert_eq!(err_text(&["sintercard", "1", "a", "limit", "-1"]), neg);
    assert_eq!(err_text(&["sintercard", "1", "a", "limit", "x"]), neg);
    assert_eq!(
        err_text(&["sintercard", "1", "a", "limit"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["sintercard", "1", "a", "foo"]),
        "ERR syntax error"
    );
}

#[test]
fn sscan_defers_option_errors_to_the_engine() {
    assert_eq!(
        set_op(&["sscan", "k", "0"]),
        SetOp::Scan {
            key: b("k"),
            cursor: 0,
            opts: Ok(ScanOpts {
                pattern: None,
                count: 10
            })
        }
    );
    assert_eq!(
        set_op(&["sscan", "k", "17", "MATCH", "a*", "count", "5"]),
        SetOp::Scan {
            key: b("k"),
            cursor: 17,
            opts: Ok(ScanOpts {
                pattern: Some(b("a*")),
                count: 5
            })
        }
    );
    let opts = |parts: &[&str]| match set_op(parts) {
        SetOp::Scan { opts, .. } => opts,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        opts(&["sscan", "k", "0", "match", "*"]).map(|o| o.pattern),
        Ok(None)
    );
    assert_eq!(
        opts(&["sscan", "k", "0", "count", "0"]),
        Err(OpError::Syntax)
    );
    assert_eq!(
        opts(&["sscan", "k", "0", "count", "x"]),
        Err(OpError::NotInteger)
    );
    assert_eq!(
        opts(&["sscan", "k", "0", "type", "set"]),
        Err(OpError::Syntax)
    );
    assert_eq!(opts(&["sscan", "k", "0", "match"]), Err(OpError::Syntax));
    assert_eq!(err_text(&["sscan", "k", "x"]), "ERR invalid cursor");
    assert_eq!(err_text(&["sscan", "k", "-1"]), "ERR invalid cursor");
}

#[test]
fn arities_and_table_entries() {
    for (cmd, args) in [
        ("sadd", &["k"][..]),
        ("srem", &["k"]),
        ("scard", &[]),
        ("sismember", &["k"]),
        ("smismember", &["k"]),
        ("smembers", &[]),
        ("srandmember", &[]),
        ("spop", &[]),
        ("smove", &["a", "b"]),
        ("sinter", &[]),
        ("sintercard", &["1"]),
        ("sinterstore", &["d"]),
        ("sunion", &[]),
        ("sunionstore", &["d"]),
        ("sdiff", &[]),
        ("sdiffstore", &["d"]),
        ("sscan", &["k"]),
    ] {
        let mut parts = vec![cmd];
        parts.extend_from_slice(args);
        assert_eq!(
            err_text(&parts),
            format!("ERR wrong number of arguments for '{cmd}' command"),
        );
        let spec = lookup(cmd.as_bytes()).expect(cmd);
        assert_eq!(spec.name, cmd);
        assert_eq!(spec.doc.group, "set");
    }
    assert_eq!(SINTERSTORE.key_range(), (1, -1, 1));
    assert_eq!(SMOVE.key_range(), (1, 2, 1));
    assert_eq!(SINTERCARD.key_range(), (0, 0, 0));
    assert_eq!(SADD.key_range(), (1, 1, 1));
}

proptest::proptest! {
    #[test]
    fn parsing_never_panics(args in proptest::collection::vec("[a-zA-Z0-9*-]{0,6}", 0..8), cmd in 0usize..17) {
        let name = COMMANDS[cmd].name;
        let mut parts = vec![name.to_string()];
        parts.extend(args);
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let _ = p(&refs);
    }
}
