//! Unit tests of `hash.rs`: lowering to the expected op and Redis's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};
use proptest::prelude::*;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn hop(parts: &[&str]) -> HashOp {
    match p(parts) {
        Ok(Command::Op(Op::Hashes(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

#[test]
fn hset_and_hmset() {
    assert_eq!(
        hop(&["HSET", "k", "f", "v", "g", "w"]),
        HashOp::HSet {
            key: b("k"),
            pairs: vec![(b("f"), b("v")), (b("g"), b("w"))],
            legacy: false
        }
    );
    assert!(matches!(
        hop(&["hmset", "k", "f", "v"]),
        HashOp::HSet { legacy: true, .. }
    ));
    assert_eq!(
        err_text(&["hset", "k", "f", "v", "g"]),
        "ERR wrong number of arguments for 'hset' command"
    );
    assert_eq!(
        err_text(&["hmset", "k", "f", "v", "g"]),
        "ERR wrong number of arguments for 'hmset' command"
    );
    assert_eq!(
        err_text(&["hset", "k", "f"]),
        "ERR wrong number of arguments for 'hset' command"
    );
}

#[test]
fn simple_readers() {
    assert_eq!(
        hop(&["hget", "k", "f"]),
        HashOp::HGet {
            key: b("k"),
            field: b("f")
        }
    );
    assert_eq!(
        hop(&["hmget", "k", "a", "b"]),
        HashOp::HMGet {
            key: b("k"),
            fields: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        hop(&["hkeys", "k"]),
        HashOp::HGetAll {
            key: b("k"),
            part: HashPart::Keys
        }
    );
    assert_eq!(
        hop(&["hvals", "k"]),
        HashOp::HGetAll {
            key: b("k"),
            part: HashPart::Values
        }
    );
    assert_eq!(
        hop(&["hgetall", "k"]),
        HashOp::HGetAll {
            key: b("k"),
            part: HashPart::Both
        }
    );
    assert_eq!(hop(&["hlen", "k"]), HashOp::HLen { key: b("k") });
    assert!(matches!(
        hop(&["hstrlen", "k", "f"]),
        HashOp::HStrLen { .. }
    ));
    assert!(matches!(
        hop(&["hexists", "k", "f"]),
        HashOp::HExists { .. }
    ));
    assert!(matches!(
        hop(&["hsetnx", "k", "f", "v"]),
        HashOp::HSetNx { .. }
    ));
    assert!(matches!(hop(&["hdel", "k", "f"]), HashOp::HDel { .. }));
}

#[test]
fn increments() {
    assert_eq!(
        hop(&["hincrby", "k", "f", "-5"]),
        HashOp::HIncrBy {
            key: b("k"),
            field: b("f"),
            delta: -5
        }
    );
    assert_eq!(
        err_text(&["hincrby", "k", "f", "1.5"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        hop(&["hincrbyfloat", "k", "f", "2.5"]),
        HashOp::HIncrByFloat {
            key: b("k"),
            field: b("f"),
            delta: 2.5
        }
    );
    assert_eq!(
        err_text(&["hincrbyfloat", "k", "f", "abc"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err_text(&["hincrbyfloat", "k", "f", "inf"]),
        "ERR value is NaN or Infinity"
    );
}

#[test]
fn hrandfield_options() {
    assert_eq!(
        hop(&["hrandfield", "k"]),
        HashOp::HRandField {
            key: b("k"),
            count: None,
            with_values: false
        }
    );
    assert_eq!(
        hop(&["hrandfield", "k", "-3", "WithValues"]),
        HashOp::HRandField {
            key: b("k"),
            count: Some(-3),
            with_values: true
        }
    );
    assert_eq!(
        err_text(&["hrandfield", "k", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["hrandfield", "k", "1", "withvalue"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["hrandfield", "k", "1", "withvalues", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["hrandfield", "k", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err_text(&["hrandfield", "k", "-4611686018427387904", "withvalues"]),
        "ERR value is out of range"
    );
    assert_eq!(
        err_text(&["hrandfield", "k", "4611686018427387904", "withvalues"]),
        "ERR value is out of range"
    );
    assert!(matches!(
        hop(&["hrandfield", "k", "4611686018427387903", "withvalues"]),
        HashOp::HRandField { .. }
    ));
}

#[test]
fn hscan_options() {
    assert_eq!(
        hop(&["hscan", "k", "0", "match", "a*", "count", "5", "novalues"]),
        HashOp::HScan {
            key: b("k"),
            cursor: 0,
            pattern: Some(b("a*")),
            count: 5,
            no_values: true
        }
    );
    assert_eq!(
        hop(&["hscan", "k", "7", "MATCH", "*"]),
        HashOp::HScan {
            key: b("k"),
            cursor: 7,
            pattern: None,
            count: 10,
            no_values: false
        }
    );
    assert_eq!(err_text(&["hscan", "k", "abc"]), "ERR invalid cursor");
    assert_eq!(
        err_text(&["hscan", "k", "0", "count", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["hscan", "k", "0", "count", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err_text(&["hscan", "k", "0", "count"]), "ERR syntax error");
    assert_eq!(err_text(&["hscan", "k", "0", "match"]), "ERR syntax error");
    assert_eq!(
        err_text(&["hscan", "k", "0", "foo", "1"]),
        "ERR syntax error"
    );
}

#[test]
fn hexpire_family() {
    assert_eq!(
        hop(&["hexpire", "k", "10", "FIELDS", "2", "a", "b"]),
        HashOp::HExpire {
            key: b("k"),
            at: FieldExpire::In(10_000),
            cond: ExpireCond::Always,
            fields: vec![b("a"), b("b")],
            cmd: "hexpire"
        }
    );
    assert_eq!(
        hop(&["hpexpire", "k", "10", "nx", "fields", "1", "a"]),
        HashOp::HExpire {
            key: b("k"),
            at: FieldExpire::In(10),
            cond: ExpireCond::Nx,
            fields: vec![b("a")],
            cmd: "hpexpire"
        }
    );
    assert!(matches!(
        hop(&["hexpireat", "k", "10", "GT", "fields", "1", "a"]),
        HashOp::HExpire {
            at: FieldExpire::At(10_000),
            cond: ExpireCond::Gt,
            ..
        }
    ));
    assert!(matches!(
        hop(&["hpexpireat", "k", "10", "lt", "fields", "1", "a"]),
        HashOp::HExpire {
            at: FieldExpire::At(10),
            cond: ExpireCond::Lt,
            ..
        }
    ));
    assert!(matches!(
        hop(&["hpexpire", "k", "0", "xx", "fields", "1", "a"]),
        HashOp::HExpire {
            at: FieldExpire::In(0),
            cond: ExpireCond::Xx,
            ..
        }
    ));
    assert_eq!(
        err_text(&["hexpire", "k", "x", "FIELDS", "1", "a"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "-1", "FIELDS", "1", "a"]),
        "ERR invalid expire time, must be >= 0"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "70368744177664", "FIELDS", "1", "a"]),
        "ERR invalid expire time in 'hexpire' command"
    );
    assert_eq!(
        err_text(&["hpexpireat", "k", "70368744177664", "FIELDS", "1", "a"]),
        "ERR invalid expire time in 'hpexpireat' command"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "10", "FIELD", "1", "a"]),
        "ERR Mandatory argument FIELDS is missing or not at the right position"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "10", "NX", "XX", "FIELDS", "1", "a"]),
        "ERR Mandatory argument FIELDS is missing or not at the right position"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "10", "FIELDS", "0", "a"]),
        "ERR Parameter `numFields` should be greater than 0"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "10", "FIELDS", "x", "a"]),
        "ERR Parameter `numFields` should be greater than 0"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "10", "FIELDS", "2", "a"]),
        "ERR The `numfields` parameter must match the number of arguments"
    );
    assert_eq!(
        err_text(&["hexpire", "k", "10", "FIELDS", "1", "a", "b"]),
        "ERR The `numfields` parameter must match the number of arguments"
    );
}

#[test]
fn ttl_readers_and_persist() {
    for (name, kind) in [
        ("httl", FieldTtlKind::Ttl),
        ("hpttl", FieldTtlKind::PTtl),
        ("hexpiretime", FieldTtlKind::ExpireTime),
        ("hpexpiretime", FieldTtlKind::PExpireTime),
    ] {
        assert_eq!(
            hop(&[name, "k", "FIELDS", "1", "a"]),
            HashOp::HTtl {
                key: b("k"),
                kind,
                fields: vec![b("a")]
            }
        );
    }
    assert_eq!(
        hop(&["hpersist", "k", "fields", "2", "a", "b"]),
        HashOp::HPersist {
            key: b("k"),
            fields: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        err_text(&["httl", "k", "FIELDS", "0", "a"]),
        "ERR Number of fields must be a positive integer"
    );
    assert_eq!(
        err_text(&["hpersist", "k", "x", "1", "a"]),
        "ERR Mandatory argument FIELDS is missing or not at the right position"
    );
    assert_eq!(
        err_text(&["hpttl", "k", "FIELDS", "3", "a"]),
        "ERR The `numfields` parameter must match the number of arguments"
    );
}

#[test]
fn hgetdel_and_hgetex() {
    assert_eq!(
        hop(&["hgetdel", "k", "FIELDS", "2", "a", "b"]),
        HashOp::HGetDel {
            key: b("k"),
            fields: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        err_text(&["hgetdel", "k", "FIELDS", "-1", "a"]),
        "ERR Number of fields must be a positive integer"
    );
    assert_eq!(
        hop(&["hgetex", "k", "FIELDS", "1", "a"]),
        HashOp::HGetEx {
            key: b("k"),
            action: HGetExAction::Keep,
            fields: vec![b("a")]
        }
    );
    assert_eq!(
        hop(&["hgetex", "k", "persist", "FIELDS", "1", "a"]),
        HashOp::HGetEx {
            key: b("k"),
            action: HGetExAction::Persist,
            fields: vec![b("a")]
        }
    );
    for (opt, at) in [
        ("EX", FieldExpire::In(5000)),
        ("px", FieldExpire::In(5)),
        ("exat", FieldExpire::At(5000)),
        ("PXAT", FieldExpire::At(5)),
    ] {
        assert_eq!(
            hop(&["hgetex", "k", opt, "5", "FIELDS", "1", "a"]),
            HashOp::HGetEx {
                key: b("k"),
                action: HGetExAction::Expire(at),
                fields: vec![b("a")]
            }
        );
    }
    assert_eq!(
        err_text(&["hgetex", "k", "EX", "-5", "FIELDS", "1", "a"]),
        "ERR invalid expire time, must be >= 0"
    );
    assert_eq!(
        err_text(&["hgetex", "k", "EX", "x", "FIELDS", "1", "a"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["hgetex", "k", "foo", "FIELDS", "1", "a"]),
        "ERR Mandatory argument FIELDS is missing or not at the right position"
    );
    assert_eq!(
        err_text(&["hgetex", "k", "EX", "5", "FIELDS"]),
        "ERR Number of fields must be a positive integer"
    );
}

#[test]
fn hsetex_options() {
    assert_eq!(
        hop(&["hsetex", "k", "FIELDS", "1", "a", "1"]),
        HashOp::HSetEx {
            key: b("k"),
            cond: HSetExCond::Always,
            ttl: HSetExTtl::Clear,
            pairs: vec![(b("a"), b("1"))]
        }
    );
    assert_eq!(
        hop(&[
            "hsetex", "k", "FNX", "EX", "10", "FIELDS", "2", "a", "1", "b", "2"
        ]),
        HashOp::HSetEx {
            key: b("k"),
            cond: HSetExCond::NoneExist,
            ttl: HSetExTtl::Expire(FieldExpire::In(10_000)),
            pairs: vec![(b("a"), b("1")), (b("b"), b("2"))]
        }
    );
    assert_eq!(
        hop(&["hsetex", "k", "keepttl", "fxx", "FIELDS", "1", "a", "1"]),
        HashOp::HSetEx {
            key: b("k"),
            cond: HSetExCond::AllExist,
            ttl: HSetExTtl::Keep,
            pairs: vec![(b("a"), b("1"))]
        }
    );
    assert!(matches!(
        hop(&["hsetex", "k", "pxat", "7", "FIELDS", "1", "a", "1"]),
        HashOp::HSetEx {
            ttl: HSetExTtl::Expire(FieldExpire::At(7)),
            ..
        }
    ));
    let arity = "ERR wrong number of arguments for 'hsetex' command";
    assert_eq!(err_text(&["hsetex", "k", "FIELDS", "2", "a", "1"]), arity);
    assert_eq!(
        err_text(&["hsetex", "k", "FIELDS", "1", "a", "1", "b"]),
        arity
    );
    assert_eq!(
        err_text(&["hsetex", "k", "FIELDS", "0", "a", "1"]),
        "ERR invalid number of fields"
    );
    assert_eq!(
        err_text(&["hsetex", "k", "EX", "1", "PX", "1", "FIELDS", "1", "a", "1"]),
        "ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified"
    );
    assert_eq!(
        err_text(&["hsetex", "k", "FNX", "FXX", "FIELDS", "1", "a", "1"]),
        "ERR Only one of FXX or FNX arguments can be specified"
    );
    assert_eq!(
        err_text(&["hsetex", "k", "BAD", "FIELDS", "1", "a", "1"]),
        "ERR unknown argument: BAD"
    );
    assert_eq!(
        err_text(&["hsetex", "k", "EX", "-1", "FIELDS", "1", "a", "1"]),
        "ERR invalid expire time, must be >= 0"
    );
}

proptest! {
    /// No argument vector makes a hash parser panic.
    #[test]
    fn parsers_never_panic(
        name in proptest::sample::select(COMMANDS.iter().map(|c| c.name).collect::<Vec<_>>()),
        args in proptest::collection::vec(
            prop_oneof![
                Just("FIELDS".to_string()),
                Just("EX".to_string()),
                Just("KEEPTTL".to_string()),
                Just("FNX".to_string()),
                Just("NX".to_string()),
                Just("withvalues".to_string()),
                Just("novalues".to_string()),
                Just("count".to_string()),
                "-?[0-9]{1,20}",
                "[a-z]{0,3}",
            ],
            0..10,
        ),
    ) {
        let mut parts = vec![name, "k"];
        parts.extend(args.iter().map(String::as_str));
        let _ = p(&parts);
    }
}
