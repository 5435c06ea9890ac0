//! Unit tests of `zset.rs`: lowering to the expected ops and redis-server's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};

fn zop(parts: &[&str]) -> ZSetOp {
    match p(parts) {
        Ok(Command::Op(Op::ZSets(z))) => z,
        other => panic!("{other:?}"),
    }
}

#[test]
fn zadd_options_and_errors() {
    match zop(&["zadd", "z", "NX", "ch", "1", "a", "-inf", "b"]) {
        ZSetOp::Add { flags, pairs, .. } => {
            assert!(flags.nx && flags.ch && !flags.xx);
            assert_eq!(pairs.len(), 2);
            assert_eq!(pairs[1].0, f64::NEG_INFINITY);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err_text(&["zadd", "z", "nx", "xx", "1", "a"]),
        "ERR XX and NX options at the same time are not compatible"
    );
    for bad in [["gt", "lt"], ["nx", "gt"], ["lt", "nx"]] {
        assert_eq!(
            err_text(&["zadd", "z", bad[0], bad[1], "1", "a"]),
            "ERR GT, LT, and/or NX options at the same time are not compatible"
        );
    }
    assert_eq!(
        err_text(&["zadd", "z", "incr", "1", "a", "2", "b"]),
        "ERR INCR option supports a single increment-element pair"
    );
    assert_eq!(err_text(&["zadd", "z", "1", "a", "2"]), "ERR syntax error");
    assert_eq!(err_text(&["zadd", "z", "nx", "ch"]), "ERR syntax error");
    for bad in ["abc", "", "1e400", "1e-400", " 1", "1 ", "nan", "--1", "1e"] {
        assert_eq!(
            err_text(&["zadd", "z", bad, "a"]),
            "ERR value is not a valid float",
            "{bad:?}"
        );
    }
    assert_eq!(
        err_text(&["zincrby", "z", "x", "a"]),
        "ERR value is not a valid float"
    );
}

#[test]
fn scores_parse_like_string2d() {
    assert_eq!(parse_score(b"inf"), Some(f64::INFINITY));
    assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
    assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
    assert_eq!(parse_score(b"0x10"), Some(16.0));
    assert_eq!(parse_score(b"0x1.8p1"), Some(3.0));
    assert_eq!(parse_score(b"1.5e3"), Some(1500.0));
    assert_eq!(parse_score(b".5"), Some(0.5));
    assert_eq!(parse_score(b"-0"), Some(-0.0));
    assert_eq!(parse_score(b"0e5"), Some(0.0));
    assert_eq!(parse_score(b"0x"), None);
}

fn range_of(parts: &[&str]) -> (RangeSpec, bool) {
    match zop(parts) {
        ZSetOp::Range {
            spec, with_scores, ..
        } => (spec, with_scores),
        other => panic!("{other:?}"),
    }
}

#[test]
fn zrange_forms() {
    let (spec, ws) = range_of(&["zrange", "z", "0", "-1", "withscores"]);
    assert!(ws && !spec.rev);
    assert_eq!(spec.by, RangeBy::Rank { start: 0, end: -1 });
    let (spec, _) = range_of(&[
        "zrange", "z", "(5", "1", "byscore", "rev", "limit", "1", "2",
    ]);
    assert!(spec.rev);
    assert_eq!((spec.offset, spec.limit), (1, 2));
    // REV swaps the ends: max first.
    assert_eq!(
        spec.by,
        RangeBy::Score(ScoreRange {
            min: 1.0,
            min_ex: false,
            max: 5.0,
            max_ex: true
        })
    );
    let (spec, _) = range_of(&["zrevrangebylex", "z", "+", "[a"]);
    assert_eq!(
        spec.by,
        RangeBy::Lex(LexRange {
            min: LexBound::Incl(Bytes::from_static(b"a")),
            max: LexBound::PosInf
        })
    );
    let (spec, _) = range_of(&["zrange", "z", "", "(", "byscore"]);
    assert_eq!(
        spec.by,
        RangeBy::Score(ScoreRange {
            min: 0.0,
            min_ex: false,
            max: 0.0,
            max_ex: true
        })
    );
    // An explicit "LIMIT 0 -1" is no limit at all, so it is allowed by rank.
    range_of(&["zrange", "z", "0", "1", "limit", "0", "-1"]);
}

#[test]
fn zrange_errors() {
    let limit =
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
    assert_eq!(
        err_text(&["zrange", "z", "0", "1", "limit", "0", "1"]),
        limit
    );
    assert_eq!(
        err_text(&["zrevrange", "z", "0", "1", "limit", "0", "1"]),
        limit
    );
    assert_eq!(
        err_text(&["zrange", "z", "[a", "[b", "bylex", "withscores"]),
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    );
    assert_eq!(
        err_text(&["zrangebylex", "z", "-", "+", "withscores"]),
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    );
    let syntax = "ERR syntax error";
    assert_eq!(err_text(&["zrange", "z", "0", "1", "rev", "rev"]), syntax);
    assert_eq!(
        err_text(&["zrange", "z", "0", "1", "byscore", "bylex"]),
        syntax
    );
    assert_eq!(err_text(&["zrange", "z", "0", "1", "limit", "0"]), syntax);
    assert_eq!(err_text(&["zrangebyscore", "z", "0", "1", "rev"]), syntax);
    assert_eq!(
        err_text(&["zrangestore", "d", "z", "0", "1", "withscores"]),
        syntax
    );
    assert_eq!(
        err_text(&["zrange", "z", "0", "1", "limit", "x", "1", "byscore"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["zrange", "z", "a", "b", "byscore"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        err_text(&["zrange", "z", "(2 ", "3", "byscore"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        err_text(&["zrange", "z", "0", "1", "bylex"]),
        "ERR min or max not valid string range item"
    );
    assert_eq!(
        err_text(&["zrangebylex", "z", "+a", "-"]),
        "ERR min or max not valid string range item"
    );
    assert_eq!(
        err_text(&["zcount", "z", "a", "b"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        err_text(&["zlexcount", "z", "a", "b"]),
        "ERR min or max not valid string range item"
    );
    assert_eq!(
        err_text(&["zremrangebyrank", "z", "a", "1"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn pops_and_counts() {
    let pos = "ERR value is out of range, must be positive";
    assert_eq!(err_text(&["zpopmin", "z", "-1"]), pos);
    assert_eq!(err_text(&["zpopmax", "z", "abc"]), pos);
    assert_eq!(err_text(&["zpopmin", "z", "1", "2"]), "ERR syntax error");
    let nk = "ERR numkeys should be greater than 0";
    for bad in ["0", "-1", "abc"] {
        assert_eq!(err_text(&["zmpop", bad, "z", "min"]), nk);
    }
    assert_eq!(err_text(&["zmpop", "2", "z", "min"]), "ERR syntax error");
    assert_eq!(err_text(&["zmpop", "1", "z", "foo"]), "ERR syntax error");
    assert_eq!(
        err_text(&["zmpop", "1", "z", "min", "count", "0"]),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        err_text(&["zmpop", "1", "z", "min", "count", "1", "count", "2"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["bzpopmin", "z", "abc"]),
        "ERR timeout is not a float or out of range"
    );
    assert_eq!(
        err_text(&["bzmpop", "-1", "1", "z", "min"]),
        "ERR timeout is negative"
    );
    match zop(&["bzpopmax", "a", "b", "1.5"]) {
        ZSetOp::Pop {
            keys,
            max,
            block_ms,
            shape,
            ..
        } => {
            assert_eq!(keys.len(), 2);
            assert!(max);
            assert_eq!(block_ms, Some(1500));
            assert_eq!(shape, PopShape::Blocking);
        }
        other => panic!("{other:?}"),
    }
    match zop(&["zmpop", "2", "a", "b", "MAX", "COUNT", "3"]) {
        ZSetOp::Pop {
            keys, count, shape, ..
        } => {
            assert_eq!((keys.len(), count, shape), (2, 3, PopShape::Multi));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        zop(&["bzmpop", "0", "1", "a", "min"])
            .blocking()
            .map(|b| b.timeout_ms),
        Some(0)
    );
}

#[test]
fn set_algebra_options() {
    assert_eq!(
        err_text(&["zunion", "0", "z"]),
        "ERR at least 1 input key is needed for 'zunion' command"
    );
    assert_eq!(
        err_text(&["zintercard", "0", "z"]),
        "ERR at least 1 input key is needed for 'zintercard' command"
    );
    assert_eq!(
        err_text(&["zunion", "abc", "z"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err_text(&["zunion", "2", "z"]), "ERR syntax error");
    match zop(&[
        "zunionstore",
        "d",
        "2",
        "a",
        "b",
        "weights",
        "2",
        "3",
        "aggregate",
        "max",
    ]) {
        ZSetOp::Combine {
            dst,
            keys,
            weights,
            aggregate,
            deferred,
            ..
        } => {
            assert_eq!(dst.as_deref(), Some(&b"d"[..]));
            assert_eq!(keys.len(), 2);
            assert_eq!(weights, vec![2.0, 3.0]);
            assert_eq!(aggregate, Aggregate::Max);
            assert_eq!(deferred, None);
        }
        other => panic!("{other:?}"),
    }
    // Option errors wait until the keys' types were checked.
    let deferred = |parts: &[&str]| match zop(parts) {
        ZSetOp::Combine { deferred, .. } | ZSetOp::InterCard { deferred, .. } => {
            deferred.map(|e| crate::errors::error_text(&e))
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        deferred(&["zunion", "1", "z", "weights", "abc"]).as_deref(),
        Some("ERR weight value is not a float")
    );
    assert_eq!(
        deferred(&["zunion", "1", "z", "aggregate", "foo"]).as_deref(),
        Some("ERR syntax error")
    );
    assert_eq!(
        deferred(&["zunionstore", "d", "1", "z", "withscores"]).as_deref(),
        Some("ERR syntax error")
    );
    assert_eq!(
        deferred(&["zdiff", "1", "z", "weights", "1"]).as_deref(),
        Some("ERR syntax error")
    );
    assert_eq!(
        deferred(&["zintercard", "1", "z", "limit", "-1"]).as_deref(),
        Some("ERR LIMIT can't be negative")
    );
    assert_eq!(
        deferred(&["zunion", "1", "z", "withscores", "withscores"]),
        None
    );
    // Keys include the destination, first.
    let z = zop(&["zinterstore", "d", "2", "a", "b"]);
    assert_eq!(
        z.keys(),
        vec![
            &Bytes::from_static(b"d"),
            &Bytes::from_static(b"a"),
            &Bytes::from_static(b"b")
        ]
    );
    assert!(z.is_write());
}

#[test]
fn misc_parsers() {
    assert_eq!(
        err_text(&["zrandmember", "z", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err_text(&["zrandmember", "z", "-9223372036854775807", "withscores"]),
        "ERR value is out of range"
    );
    assert_eq!(
        err_text(&["zrandmember", "z", "1", "bogus"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["zscan", "z", "abc"]), "ERR invalid cursor");
    assert_eq!(
        err_text(&["zscan", "z", "0", "count", "0"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["zscan", "z", "0", "match"]), "ERR syntax error");
    assert_eq!(
        err_text(&["zrank", "z", "a", "withscore", "x"]),
        "ERR wrong number of arguments for 'zrank' command"
    );
    assert_eq!(err_text(&["zrank", "z", "a", "bogus"]), "ERR syntax error");
    match zop(&["zrevrank", "z", "a", "WITHSCORE"]) {
        ZSetOp::Rank {
            rev, with_score, ..
        } => assert!(rev && with_score),
        other => panic!("{other:?}"),
    }
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(args in proptest::collection::vec(
        proptest::prop_oneof![
            proptest::strategy::Just("1".to_string()),
            proptest::strategy::Just("withscores".to_string()),
            proptest::strategy::Just("limit".to_string()),
            proptest::strategy::Just("count".to_string()),
            proptest::strategy::Just("weights".to_string()),
            proptest::strategy::Just("(1".to_string()),
            proptest::strategy::Just("[a".to_string()),
            "[a-z0-9(\\[+-]{0,4}",
        ], 0..9)) {
        for cmd in ["zadd", "zrange", "zrangestore", "zmpop", "bzmpop", "zunion", "zinterstore", "zintercard", "zrandmember", "zscan", "zpopmin", "bzpopmax", "zrank", "zrangebylex", "zrevrangebyscore"] {
            let mut parts = vec![cmd.to_string()];
            parts.extend(args.iter().cloned());
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            let _ = p(&refs);
        }
    }
}
