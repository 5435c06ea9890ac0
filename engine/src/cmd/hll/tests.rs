//! Command-level tests of PFADD/PFCOUNT/PFMERGE: replies, the cached cardinality written back
//! into the value, type and corruption errors, keyspace events, encoding conversion.
use bytes::Bytes;

use super::repr;
use crate::cmd::strings::tests::{evented, events};
use crate::cmd::testutil::*;
use crate::ir::ops::HllOp;
use crate::ir::{ExpireSpec, Op, OpError, Reply, SetCond};

fn pfadd(t: &mut T, key: &str, elements: &[&str]) -> Reply {
    t.run(Op::Hll(HllOp::PfAdd {
        key: b(key),
        elements: elements.iter().map(|e| b(e)).collect(),
    }))
}

fn pfcount(t: &mut T, keys: &[&str]) -> Reply {
    t.run(Op::Hll(HllOp::PfCount {
        keys: keys.iter().map(|k| b(k)).collect(),
    }))
}

fn pfmerge(t: &mut T, dest: &str, sources: &[&str]) -> Reply {
    t.run(Op::Hll(HllOp::PfMerge {
        dest: b(dest),
        sources: sources.iter().map(|k| b(k)).collect(),
    }))
}

fn get_bytes(t: &mut T, key: &str) -> Vec<u8> {
    match t.run(Op::Get { key: b(key) }) {
        Reply::Bulk(v) => v.to_vec(),
        other => panic!("{other:?}"),
    }
}

fn set_bytes(t: &mut T, key: &str, value: &[u8]) {
    let op = Op::Set {
        key: b(key),
        value: Bytes::copy_from_slice(value),
        cond: SetCond::Always,
        expire: ExpireSpec::Clear,
        get: false,
    };
    assert_eq!(t.run(op), Reply::Ok);
}

fn not_hll() -> Reply {
    Reply::Err(OpError::Other(
        "WRONGTYPE Key is not a valid HyperLogLog string value.".into(),
    ))
}

#[test]
fn pfadd_and_cached_count() {
    let mut t = evented();
    assert_eq!(pfadd(&mut t, "h", &[]), Reply::Int(1));
    assert_eq!(pfadd(&mut t, "h", &[]), Reply::Int(0));
    assert_eq!(pfadd(&mut t, "h", &["a", "b", "c"]), Reply::Int(1));
    assert_eq!(pfadd(&mut t, "h", &["a", "c"]), Reply::Int(0));
    assert_eq!(
        events(&mut t),
        vec![
            (0, "new", "h".to_string()),
            (0, "pfadd", "h".to_string()),
            (0, "pfadd", "h".to_string())
        ]
    );
    let before = get_bytes(&mut t, "h");
    assert_eq!(repr::cached_card(&before), None);
    assert_eq!(pfcount(&mut t, &["h"]), Reply::Int(3));
    // The count is cached in the header, exactly as redis-server writes it.
    let after = get_bytes(&mut t, "h");
    assert_eq!(&after[8..16], &[3, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&after[16..], &before[16..]);
    assert_eq!(pfcount(&mut t, &["h"]), Reply::Int(3));
    assert_eq!(pfcount(&mut t, &["none"]), Reply::Int(0));
    assert_eq!(t.run(Op::ObjectEncoding { key: b("h") }), bulk("raw"));
    assert!(events(&mut t).is_empty());
}

#[test]
fn type_errors() {
    let mut t = T::new();
    t.set("s", "not an hll");
    t.set("i", "12");
    t.put_non_string("l");
    for key in ["s", "i"] {
        assert_eq!(pfadd(&mut t, key, &["x"]), not_hll());
        assert_eq!(pfcount(&mut t, &[key]), not_hll());
        assert_eq!(pfcount(&mut t, &["none", key]), not_hll());
        assert_eq!(pfmerge(&mut t, "d", &[key]), not_hll());
        assert_eq!(pfmerge(&mut t, key, &[]), not_hll());
    }
    assert_eq!(pfadd(&mut t, "l", &["x"]), Reply::Err(OpError::WrongType));
    assert_eq!(pfcount(&mut t, &["l"]), Reply::Err(OpError::WrongType));
    assert_eq!(pfcount(&mut t, &["l", "s"]), Reply::Err(OpError::WrongType));
    assert_eq!(t.run(exists(&["d"])), Reply::Int(0));
    // A dense header with the wrong length is not an HLL either.
    let mut v = repr::new_sparse();
    v[4] = 0;
    set_bytes(&mut t, "bad", &v);
    assert_eq!(pfcount(&mut t, &["bad"]), not_hll());
}

#[test]
fn corrupt_sparse_values() {
    let mut t = T::new();
    let corrupt = Reply::Err(OpError::Other(
        "INVALIDOBJ Corrupted HLL object detected".into(),
    ));
    // Valid header, opcodes covering only 2 registers, stale cache.
    set_bytes(&mut t, "c", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x01");
    assert_eq!(pfcount(&mut t, &["c"]), corrupt);
    assert_eq!(pfcount(&mut t, &["c", "none"]), corrupt);
    assert_eq!(pfadd(&mut t, "c", &["a", "b", "c", "d"]), corrupt);
    assert_eq!(pfmerge(&mut t, "d", &["c"]), corrupt);
    // A valid cached count is trusted without decoding, as in Redis.
    set_bytes(&mut t, "cached", b"HYLL\x01\0\0\0\x07\0\0\0\0\0\0\0\x01");
    assert_eq!(pfcount(&mut t, &["cached"]), Reply::Int(7));
}

#[test]
fn union_count_and_merge() {
    let mut t = evented();
    let a: Vec<String> = (0..200).map(|i| format!("a{i}")).collect();
    let b_: Vec<String> = (100..300).map(|i| format!("a{i}")).collect();
    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    pfadd(&mut t, "x", &refs(&a));
    pfadd(&mut t, "y", &refs(&b_));
    let union = match pfcount(&mut t, &["x", "y", "none"]) {
        Reply::Int(n) => n,
        other => panic!("{other:?}"),
    };
    assert!((290..=310).contains(&union), "{union}");
    // The union count writes nothing back.
    assert_eq!(repr::cached_card(&get_bytes(&mut t, "x")), None);
    events(&mut t);
    assert_eq!(pfmerge(&mut t, "m", &["x", "y"]), Reply::Ok);
    assert_eq!(pfcount(&mut t, &["m"]), Reply::Int(union));
    assert_eq!(
        events(&mut t),
        vec![(0, "new", "m".to_string()), (0, "pfadd", "m".to_string())]
    );
    // The destination is one of the merged values.
    pfadd(&mut t, "z", &["only-in-z"]);
    assert_eq!(pfmerge(&mut t, "z", &["x"]), Reply::Ok);
    assert_eq!(pfcount(&mut t, &["z"]), pfcount(&mut t, &["x", "z"]));
    assert_eq!(pfmerge(&mut t, "empty", &[]), Reply::Ok);
    assert_eq!(pfcount(&mut t, &["empty"]), Reply::Int(0));
    assert_eq!(get_bytes(&mut t, "empty").len(), 18);
}

#[test]
fn dense_inputs_make_a_dense_destination() {
    let mut t = T::new();
    let many: Vec<String> = (0..3000).map(|i| format!("d{i}")).collect();
    pfadd(
        &mut t,
        "dense",
        &many.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(get_bytes(&mut t, "dense").len(), repr::DENSE_SIZE);
    pfadd(&mut t, "sparse", &["x"]);
    assert_eq!(pfmerge(&mut t, "sparse", &["dense"]), Reply::Ok);
    assert_eq!(get_bytes(&mut t, "sparse").len(), repr::DENSE_SIZE);
    assert_eq!(
        pfcount(&mut t, &["sparse"]),
        pfcount(&mut t, &["dense", "sparse"])
    );
}

#[test]
fn sparse_limit_comes_from_the_config() {
    let config = crate::shard::ShardConfig {
        limits: crate::shard::TypeLimits {
            hll_sparse_max_bytes: 0,
            ..crate::shard::TypeLimits::default()
        },
        ..crate::shard::ShardConfig::default()
    };
    let mut t = T {
        shard: crate::shard::Shard::new(0, config),
        now: NOW,
    };
    assert_eq!(pfadd(&mut t, "h", &[]), Reply::Int(1));
    assert_eq!(get_bytes(&mut t, "h").len(), 18);
    assert_eq!(pfadd(&mut t, "h", &["a"]), Reply::Int(1));
    assert_eq!(get_bytes(&mut t, "h").len(), repr::DENSE_SIZE);
    assert_eq!(pfcount(&mut t, &["h"]), Reply::Int(1));
}
