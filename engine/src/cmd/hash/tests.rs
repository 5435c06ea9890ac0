//! Unit tests of hash execution on a shard with an injected clock.

use bytes::Bytes;

use crate::cmd::testutil::*;
use crate::ir::ops::HashOp;
use crate::ir::ops::hash::{
    FieldExpire, FieldTtlKind, HGetExAction, HSetExCond, HSetExTtl, HashPart,
};
use crate::ir::{ExpireCond, Op, OpError, Reply};

fn h(op: HashOp) -> Op {
    Op::Hashes(op)
}

fn fs(names: &[&str]) -> Vec<Bytes> {
    names.iter().map(|n| b(n)).collect()
}

fn hset(t: &mut T, key: &str, kv: &[(&str, &str)]) -> Reply {
    t.run(h(HashOp::HSet {
        key: b(key),
        pairs: kv.iter().map(|(k, v)| (b(k), b(v))).collect(),
        legacy: false,
    }))
}

fn hget(t: &mut T, key: &str, f: &str) -> Reply {
    t.run(h(HashOp::HGet {
        key: b(key),
        field: b(f),
    }))
}

fn hlen(t: &mut T, key: &str) -> Reply {
    t.run(h(HashOp::HLen { key: b(key) }))
}

fn ints(v: &[i64]) -> Reply {
    Reply::Array(v.iter().map(|&i| Reply::Int(i)).collect())
}

fn hpexpire(t: &mut T, key: &str, ms: u64, cond: ExpireCond, f: &[&str]) -> Reply {
    t.run(h(HashOp::HExpire {
        key: b(key),
        at: FieldExpire::In(ms),
        cond,
        fields: fs(f),
        cmd: "hpexpire",
    }))
}

fn hpttl(t: &mut T, key: &str, f: &[&str]) -> Reply {
    t.run(h(HashOp::HTtl {
        key: b(key),
        kind: FieldTtlKind::PTtl,
        fields: fs(f),
    }))
}

fn encoding(t: &mut T, key: &str) -> Reply {
    t.run(Op::ObjectEncoding { key: b(key) })
}

#[test]
fn set_get_delete_and_key_lifecycle() {
    let mut t = T::new();
    assert_eq!(hset(&mut t, "k", &[("a", "1"), ("b", "2")]), Reply::Int(2));
    assert_eq!(hset(&mut t, "k", &[("a", "3"), ("c", "4")]), Reply::Int(1));
    assert_eq!(hget(&mut t, "k", "a"), bulk("3"));
    assert_eq!(hget(&mut t, "k", "zz"), Reply::Nil);
    assert_eq!(hget(&mut t, "nokey", "a"), Reply::Nil);
    assert_eq!(hlen(&mut t, "k"), Reply::Int(3));
    assert_eq!(t.run(Op::Type { key: b("k") }), Reply::simple("hash"));
    assert_eq!(encoding(&mut t, "k"), bulk("listpack"));
    let del = t.run(h(HashOp::HDel {
        key: b("k"),
        fields: fs(&["a", "b", "a", "zz"]),
    }));
    assert_eq!(del, Reply::Int(2));
    assert_eq!(
        t.run(h(HashOp::HDel {
            key: b("k"),
            fields: fs(&["c"]),
        })),
        Reply::Int(1)
    );
    assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
    let legacy = t.run(h(HashOp::HSet {
        key: b("m"),
        pairs: vec![(b("f"), b("v"))],
        legacy: true,
    }));
    assert_eq!(legacy, Reply::Ok);
}

#[test]
fn readers() {
    let mut t = T::new();
    hset(&mut t, "k", &[("a", "1"), ("bb", "hello")]);
    let all = t.run(h(HashOp::HGetAll {
        key: b("k"),
        part: HashPart::Both,
    }));
    assert_eq!(
        all,
        Reply::Map(vec![(bulk("a"), bulk("1")), (bulk("bb"), bulk("hello"))])
    );
    let keys = t.run(h(HashOp::HGetAll {
        key: b("k"),
        part: HashPart::Keys,
    }));
    assert_eq!(keys, Reply::Array(vec![bulk("a"), bulk("bb")]));
    let vals = t.run(h(HashOp::HGetAll {
        key: b("k"),
        part: HashPart::Values,
    }));
    assert_eq!(vals, Reply::Array(vec![bulk("1"), bulk("hello")]));
    let empty = t.run(h(HashOp::HGetAll {
        key: b("none"),
        part: HashPart::Both,
    }));
    assert_eq!(empty, Reply::Map(vec![]));
    let m = t.run(h(HashOp::HMGet {
        key: b("k"),
        fields: fs(&["bb", "x"]),
    }));
    assert_eq!(m, Reply::Array(vec![bulk("hello"), Reply::Nil]));
    let m = t.run(h(HashOp::HMGet {
        key: b("none"),
        fields: fs(&["a", "b"]),
    }));
    assert_eq!(m, Reply::Array(vec![Reply::Nil, Reply::Nil]));
    let sl = t.run(h(HashOp::HStrLen {
        key: b("k"),
        field: b("bb"),
    }));
    assert_eq!(sl, Reply::Int(5));
    let ex = t.run(h(HashOp::HExists {
        key: b("k"),
        field: b("a"),
    }));
    assert_eq!(ex, Reply::Int(1));
    let nx = t.run(h(HashOp::HSetNx {
        key: b("k"),
        field: b("a"),
        value: b("9"),
    }));
    assert_eq!(nx, Reply::Int(0));
    let nx = t.run(h(HashOp::HSetNx {
        key: b("k"),
        field: b("c"),
        value: b("9"),
    }));
    assert_eq!(nx, Reply::Int(1));
}

#[test]
fn wrong_type_everywhere() {
    let mut t = T::new();
    t.set("s", "x");
    let wt = Reply::Err(OpError::WrongType);
    assert_eq!(hset(&mut t, "s", &[("a", "1")]), wt);
    assert_eq!(hget(&mut t, "s", "a"), wt);
    assert_eq!(hlen(&mut t, "s"), wt);
    assert_eq!(hpexpire(&mut t, "s", 10, ExpireCond::Always, &["a"]), wt);
    assert_eq!(hpttl(&mut t, "s", &["a"]), wt);
    let r = t.run(h(HashOp::HExpire {
        key: b("s"),
        at: FieldExpire::In(u64::MAX / 2),
        cond: ExpireCond::Always,
        fields: fs(&["a"]),
        cmd: "hpexpire",
    }));
    assert_eq!(r, wt);
    assert_eq!(t.run(Op::Get { key: b("s") }), bulk("x"));
}

#[test]
fn increments() {
    let mut t = T::new();
    let inc = |t: &mut T, f: &str, d: i64| {
        t.run(h(HashOp::HIncrBy {
            key: b("k"),
            field: b(f),
            delta: d,
        }))
    };
    assert_eq!(inc(&mut t, "n", 5), Reply::Int(5));
    assert_eq!(inc(&mut t, "n", -7), Reply::Int(-2));
    hset(&mut t, "k", &[("s", "abc"), ("big", "9223372036854775807")]);
    assert_eq!(
        inc(&mut t, "s", 1),
        Reply::Err(OpError::Other("ERR hash value is not an integer".into()))
    );
    assert_eq!(inc(&mut t, "big", 1), Reply::Err(OpError::Overflow));
    let incf = |t: &mut T, f: &str, d: f64| {
        t.run(h(HashOp::HIncrByFloat {
            key: b("k"),
            field: b(f),
            delta: d,
        }))
    };
    assert_eq!(incf(&mut t, "f", 10.5), bulk("10.5"));
    assert_eq!(incf(&mut t, "f", 0.1), bulk("10.6"));
    assert_eq!(incf(&mut t, "n", 2.0), bulk("0"));
    assert_eq!(
        incf(&mut t, "s", 1.0),
        Reply::Err(OpError::Other("ERR hash value is not a float".into()))
    );
    assert_eq!(
        incf(&mut t, "big", 1e308 * 10.0),
        Reply::Err(OpError::NanOrInfinity)
    );
    // A failed increment on a missing key creates nothing.
    let r = t.run(h(HashOp::HIncrByFloat {
        key: b("new"),
        field: b("f"),
        delta: f64::MAX,
    }));
    assert_eq!(r, bulk(&crate::cmd::numeric::format_float(f64::MAX)));
}

#[test]
fn field_expiry_codes_and_lazy_reclaim() {
    let mut t = T::new();
    hset(&mut t, "k", &[("a", "1"), ("b", "2"), ("c", "3")]);
    assert_eq!(
        hpexpire(&mut t, "k", 100, ExpireCond::Always, &["a", "zz"]),
        ints(&[1, -2])
    );
    assert_eq!(
        hpexpire(&mut t, "none", 100, ExpireCond::Always, &["a", "b"]),
        ints(&[-2, -2])
    );
    assert_eq!(
        hpexpire(&mut t, "k", 200, ExpireCond::Nx, &["a", "b"]),
        ints(&[0, 1])
    );
    assert_eq!(
        hpexpire(&mut t, "k", 50, ExpireCond::Xx, &["a", "c"]),
        ints(&[1, 0])
    );
    assert_eq!(
        hpexpire(&mut t, "k", 60, ExpireCond::Gt, &["a", "c"]),
        ints(&[1, 0])
    );
    assert_eq!(
        hpexpire(&mut t, "k", 70, ExpireCond::Lt, &["a", "c"]),
        ints(&[0, 1])
    );
    assert_eq!(
        hpttl(&mut t, "k", &["a", "b", "c", "zz"]),
        ints(&[60, 200, 70, -2])
    );
    let secs = t.run(h(HashOp::HTtl {
        key: b("k"),
        kind: FieldTtlKind::Ttl,
        fields: fs(&["a"]),
    }));
    assert_eq!(secs, ints(&[1]));
    let at = t.run(h(HashOp::HTtl {
        key: b("k"),
        kind: FieldTtlKind::PExpireTime,
        fields: fs(&["a"]),
    }));
    assert_eq!(at, ints(&[(NOW + 60) as i64]));
    assert_eq!(encoding(&mut t, "k"), bulk("listpack"));
    t.advance(60);
    assert_eq!(hget(&mut t, "k", "a"), Reply::Nil);
    assert_eq!(hlen(&mut t, "k"), Reply::Int(2));
    let p = t.run(h(HashOp::HPersist {
        key: b("k"),
        fields: fs(&["c", "a", "c"]),
    }));
    assert_eq!(p, ints(&[1, -2, -1]));
    // Time 0 deletes: reply 2, and the key goes with its last field.
    assert_eq!(
        hpexpire(&mut t, "k", 0, ExpireCond::Always, &["b", "c"]),
        ints(&[2, 2])
    );
    assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
    // The last field expiring makes the key disappear on access.
    hset(&mut t, "e", &[("x", "1")]);
    hpexpire(&mut t, "e", 10, ExpireCond::Always, &["x"]);
    t.advance(10);
    assert_eq!(hlen(&mut t, "e"), Reply::Int(0));
    assert_eq!(t.run(exists(&["e"])), Reply::Int(0));
    let bad = t.run(h(HashOp::HExpire {
        key: b("e"),
        at: FieldExpire::In(1 << 46),
        cond: ExpireCond::Always,
        fields: fs(&["x"]),
        cmd: "hpexpire",
    }));
    assert_eq!(bad, Reply::Err(OpError::InvalidExpireTime("hpexpire")));
}

#[test]
fn hgetdel_hgetex_hsetex() {
    let mut t = T::new();
    hset(&mut t, "k", &[("a", "1"), ("b", "2")]);
    let r = t.run(h(HashOp::HGetDel {
        key: b("k"),
        fields: fs(&["a", "zz", "a"]),
    }));
    assert_eq!(r, Reply::Array(vec![bulk("1"), Reply::Nil, Reply::Nil]));
    let ex = |t: &mut T, action: HGetExAction, f: &[&str]| {
        t.run(h(HashOp::HGetEx {
            key: b("k"),
            action,
            fields: fs(f),
        }))
    };
    assert_eq!(
        ex(
            &mut t,
            HGetExAction::Expire(FieldExpire::In(500)),
            &["b", "q"]
        ),
        Reply::Array(vec![bulk("2"), Reply::Nil])
    );
    assert_eq!(hpttl(&mut t, "k", &["b"]), ints(&[500]));
    assert_eq!(
        ex(&mut t, HGetExAction::Persist, &["b"]),
        Reply::Array(vec![bulk("2")])
    );
    assert_eq!(hpttl(&mut t, "k", &["b"]), ints(&[-1]));
    assert_eq!(
        ex(&mut t, HGetExAction::Expire(FieldExpire::At(1)), &["b"]),
        Reply::Array(vec![bulk("2")])
    );
    assert_eq!(t.run(exists(&["k"])), Reply::Int(0));

    let setex = |t: &mut T, cond: HSetExCond, ttl: HSetExTtl, kv: &[(&str, &str)]| {
        t.run(h(HashOp::HSetEx {
            key: b("s"),
            cond,
            ttl,
            pairs: kv.iter().map(|(k, v)| (b(k), b(v))).collect(),
        }))
    };
    let px = HSetExTtl::Expire(FieldExpire::In(300));
    assert_eq!(
        setex(&mut t, HSetExCond::AllExist, px, &[("a", "1")]),
        Reply::Int(0)
    );
    assert_eq!(t.run(exists(&["s"])), Reply::Int(0));
    assert_eq!(
        setex(&mut t, HSetExCond::NoneExist, px, &[("a", "1")]),
        Reply::Int(1)
    );
    assert_eq!(hpttl(&mut t, "s", &["a"]), ints(&[300]));
    assert_eq!(
        setex(&mut t, HSetExCond::NoneExist, px, &[("a", "1"), ("b", "2")]),
        Reply::Int(0)
    );
    assert_eq!(
        setex(&mut t, HSetExCond::AllExist, HSetExTtl::Keep, &[("a", "9")]),
        Reply::Int(1)
    );
    assert_eq!(hpttl(&mut t, "s", &["a"]), ints(&[300]));
    assert_eq!(hget(&mut t, "s", "a"), bulk("9"));
    assert_eq!(
        setex(&mut t, HSetExCond::Always, HSetExTtl::Clear, &[("a", "8")]),
        Reply::Int(1)
    );
    assert_eq!(hpttl(&mut t, "s", &["a"]), ints(&[-1]));
    // Plain HSET also clears a field's TTL.
    setex(&mut t, HSetExCond::Always, px, &[("a", "7")]);
    hset(&mut t, "s", &[("a", "6")]);
    assert_eq!(hpttl(&mut t, "s", &["a"]), ints(&[-1]));
}

#[test]
fn randfield_and_scan() {
    let mut t = T::new();
    let kv: Vec<(String, String)> = (0..20)
        .map(|i| (format!("f{i}"), format!("v{i}")))
        .collect();
    let kv: Vec<(&str, &str)> = kv.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    hset(&mut t, "k", &kv);
    let rand = |t: &mut T, count: Option<i64>, with_values: bool| {
        t.run(h(HashOp::HRandField {
            key: b("k"),
            count,
            with_values,
        }))
    };
    assert!(matches!(rand(&mut t, None, false), Reply::Bulk(_)));
    let Reply::Array(all) = rand(&mut t, Some(100), false) else {
        panic!()
    };
    assert_eq!(all.len(), 20);
    let Reply::Array(some) = rand(&mut t, Some(5), false) else {
        panic!()
    };
    let mut uniq = some.clone();
    uniq.sort_by_key(|r| format!("{r:?}"));
    uniq.dedup();
    assert_eq!(uniq.len(), 5);
    let Reply::Pairs(rep) = rand(&mut t, Some(-50), true) else {
        panic!()
    };
    assert_eq!(rep.len(), 50);
    assert_eq!(rand(&mut t, Some(0), false), Reply::Array(vec![]));
    let none = t.run(h(HashOp::HRandField {
        key: b("none"),
        count: None,
        with_values: false,
    }));
    assert_eq!(none, Reply::Nil);
    let scan = t.run(h(HashOp::HScan {
        key: b("k"),
        cursor: 0,
        pattern: Some(b("f1*")),
        count: 1,
        no_values: true,
    }));
    let Reply::Array(parts) = scan else { panic!() };
    assert_eq!(parts[0], bulk("0"));
    let Reply::Array(items) = &parts[1] else {
        panic!()
    };
    assert_eq!(items.len(), 11);
}
