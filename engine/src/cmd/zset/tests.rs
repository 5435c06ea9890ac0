//! Engine-level tests of the sorted-set ops: NaN handling in ZADD INCR and in the set algebra,
//! STORE forms replacing TTL'd destinations, and `format_score` against `%.17g`.

use super::format_score;
use crate::cmd::testutil::{T, b, bulk};
use crate::ir::ops::ZSetOp;
use crate::ir::ops::zset::{Aggregate, SetOpKind, ZAddFlags};
use crate::ir::{ExpireCond, ExpireSpec, Op, OpError, Reply};

fn zadd(t: &mut T, key: &str, flags: ZAddFlags, pairs: &[(f64, &str)]) -> Reply {
    t.run(Op::ZSets(ZSetOp::Add {
        key: b(key),
        flags,
        pairs: pairs.iter().map(|(s, m)| (*s, b(m))).collect(),
    }))
}

fn union(t: &mut T, dst: Option<&str>, keys: &[&str], weights: &[f64], agg: Aggregate) -> Reply {
    t.run(Op::ZSets(ZSetOp::Combine {
        kind: SetOpKind::Union,
        dst: dst.map(b),
        keys: keys.iter().map(|k| b(k)).collect(),
        weights: weights.to_vec(),
        aggregate: agg,
        with_scores: true,
        deferred: None,
    }))
}

#[test]
fn incr_nan_is_an_error_and_leaves_the_score() {
    let mut t = T::new();
    let plain = ZAddFlags::default();
    assert_eq!(
        zadd(&mut t, "z", plain, &[(f64::INFINITY, "a")]),
        Reply::Int(1)
    );
    let incr = ZAddFlags {
        incr: true,
        ..plain
    };
    assert_eq!(
        zadd(&mut t, "z", incr, &[(f64::NEG_INFINITY, "a")]),
        Reply::Err(OpError::Other(
            "ERR resulting score is not a number (NaN)".into()
        ))
    );
    let score = t.run(Op::ZSets(ZSetOp::Score {
        key: b("z"),
        member: b("a"),
    }));
    assert_eq!(score, Reply::Double(f64::INFINITY));
}

#[test]
fn weighted_nan_becomes_zero_and_sums_stay_finite() {
    let mut t = T::new();
    zadd(&mut t, "a", ZAddFlags::default(), &[(f64::INFINITY, "m")]);
    zadd(
        &mut t,
        "b",
        ZAddFlags::default(),
        &[(f64::NEG_INFINITY, "m")],
    );
    // 0 * inf is NaN, which Redis turns into 0; inf + -inf is NaN, also 0.
    assert_eq!(
        union(&mut t, None, &["a"], &[0.0], Aggregate::Sum),
        Reply::Pairs(vec![(bulk("m"), Reply::Double(0.0))])
    );
    assert_eq!(
        union(&mut t, None, &["a", "b"], &[1.0, 1.0], Aggregate::Sum),
        Reply::Pairs(vec![(bulk("m"), Reply::Double(0.0))])
    );
    assert_eq!(
        union(&mut t, None, &["a", "b"], &[1.0, 1.0], Aggregate::Min),
        Reply::Pairs(vec![(bulk("m"), Reply::Double(f64::NEG_INFINITY))])
    );
}

#[test]
fn store_replaces_destination_and_clears_its_ttl() {
    let mut t = T::new();
    zadd(&mut t, "src", ZAddFlags::default(), &[(1.0, "x")]);
    t.set("dst", "string");
    t.run(Op::Expire {
        key: b("dst"),
        at: ExpireSpec::In(100_000),
        cond: ExpireCond::Always,
        cmd: "expire",
    });
    assert_eq!(
        union(&mut t, Some("dst"), &["src"], &[2.0], Aggregate::Sum),
        Reply::Int(1)
    );
    assert_eq!(t.run(crate::cmd::testutil::ttl_ms("dst")), Reply::Int(-1));
    // An empty result deletes the destination.
    assert_eq!(
        union(&mut t, Some("dst"), &["none"], &[1.0], Aggregate::Sum),
        Reply::Int(0)
    );
    assert_eq!(t.run(crate::cmd::testutil::exists(&["dst"])), Reply::Int(0));
}

#[test]
fn scores_print_like_d2string() {
    let cases: &[(f64, &str)] = &[
        (1.0, "1"),
        (-3.0, "-3"),
        (0.1, "0.10000000000000001"),
        (2.5, "2.5"),
        (1e20, "1e+20"),
        (1e-5, "1.0000000000000001e-05"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (-0.0, "-0"),
        (4_503_599_627_370_496.0, "4503599627370496"),
    ];
    for &(d, want) in cases {
        assert_eq!(&format_score(d)[..], want.as_bytes(), "{d:e}");
    }
}
