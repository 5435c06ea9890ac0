//! Engine-level tests of the set commands: replies, key deletion when emptied, encodings
//! chosen by the multi-key commands, and keyspace events.

use bytes::Bytes;

use super::*;
use crate::cmd::testutil::{T, b, bulk};
use crate::ir::Op;
use crate::shard::ShardConfig;

fn bs(items: &[&str]) -> Vec<Bytes> {
    items.iter().map(|s| b(s)).collect()
}

fn sadd(t: &mut T, key: &str, members: &[&str]) -> Reply {
    t.run(Op::Sets(SetOp::Add {
        key: b(key),
        members: bs(members),
    }))
}

fn members(t: &mut T, key: &str) -> Vec<String> {
    match t.run(Op::Sets(SetOp::Members { key: b(key) })) {
        Reply::Set(items) => {
            let mut v: Vec<String> = items
                .into_iter()
                .map(|r| match r {
                    Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect();
            v.sort();
            v
        }
        other => panic!("{other:?}"),
    }
}

fn encoding(t: &mut T, key: &str) -> Reply {
    t.run(Op::ObjectEncoding { key: b(key) })
}

fn combine(t: &mut T, op: SetAlgebra, dst: Option<&str>, keys: &[&str]) -> Reply {
    t.run(Op::Sets(SetOp::Combine {
        op,
        dst: dst.map(b),
        keys: bs(keys),
    }))
}

fn exists(t: &mut T, key: &str) -> bool {
    t.run(Op::Exists { keys: vec![b(key)] }) == Reply::Int(1)
}

#[test]
fn add_remove_and_delete_when_empty() {
    let mut t = T::new();
    assert_eq!(sadd(&mut t, "s", &["a", "b", "a"]), Reply::Int(2));
    assert_eq!(sadd(&mut t, "s", &["b", "c"]), Reply::Int(1));
    assert_eq!(members(&mut t, "s"), vec!["a", "b", "c"]);
    let rem = |m: &[&str]| {
        Op::Sets(SetOp::Rem {
            key: b("s"),
            members: bs(m),
        })
    };
    assert_eq!(t.run(rem(&["a", "zz"])), Reply::Int(1));
    assert_eq!(t.run(rem(&["b", "c", "b"])), Reply::Int(2));
    assert!(!exists(&mut t, "s"));
    assert_eq!(t.run(rem(&["x"])), Reply::Int(0));
    t.set("str", "v");
    assert_eq!(sadd(&mut t, "str", &["a"]), Reply::Err(OpError::WrongType));
}

#[test]
fn encodings_follow_the_config() {
    let mut t = T::new();
    sadd(&mut t, "i", &["1", "2", "3"]);
    assert_eq!(encoding(&mut t, "i"), bulk("intset"));
    sadd(&mut t, "i", &["x"]);
    assert_eq!(encoding(&mut t, "i"), bulk("listpack"));
    let mut config = ShardConfig::default();
    config.limits.set_max_listpack_entries = 3;
    t.shard.set_config(config);
    sadd(&mut t, "i", &["y"]);
    assert_eq!(encoding(&mut t, "i"), bulk("hashtable"));
}

#[test]
fn pop_and_random_member() {
    let mut t = T::new();
    sadd(&mut t, "s", &["a", "b", "c"]);
    let pop = |count| Op::Sets(SetOp::Pop { key: b("s"), count });
    let rand = |count| Op::Sets(SetOp::RandMember { key: b("s"), count });
    match t.run(rand(Some(-5))) {
        Reply::Array(items) => assert_eq!(items.len(), 5),
        other => panic!("{other:?}"),
    }
    match t.run(rand(Some(2))) {
        Reply::Array(items) => {
            assert_eq!(items.len(), 2);
            assert_ne!(items[0], items[1]);
        }
        other => panic!("{other:?}"),
    }
    match t.run(rand(Some(10))) {
        Reply::Array(items) => assert_eq!(items.len(), 3),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.run(pop(Some(0))), Reply::Set(vec![]));
    match t.run(pop(Some(2))) {
        Reply::Set(items) => assert_eq!(items.len(), 2),
        other => panic!("{other:?}"),
    }
    assert!(matches!(t.run(pop(None)), Reply::Bulk(_)));
    assert!(!exists(&mut t, "s"));
    assert_eq!(t.run(pop(None)), Reply::Nil);
    assert_eq!(t.run(pop(Some(3))), Reply::Set(vec![]));
    assert_eq!(t.run(rand(None)), Reply::Nil);
    assert_eq!(t.run(rand(Some(3))), Reply::Array(vec![]));
}

#[test]
fn spop_keeping_few_members_rebuilds_a_compact_set() {
    let mut t = T::new();
    let many: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    sadd(&mut t, "s", &refs);
    assert_eq!(encoding(&mut t, "s"), bulk("hashtable"));
    match t.run(Op::Sets(SetOp::Pop {
        key: b("s"),
        count: Some(295),
    })) {
        Reply::Set(items) => assert_eq!(items.len(), 295),
        other => panic!("{other:?}"),
    }
    assert_eq!(members(&mut t, "s").len(), 5);
    assert_eq!(encoding(&mut t, "s"), bulk("listpack"));
}

#[test]
fn algebra_and_store_encodings() {
    let mut t = T::new();
    sadd(&mut t, "a", &["1", "2", "3", "x"]);
    sadd(&mut t, "b", &["2", "3", "4"]);
    assert_eq!(
        combine(&mut t, SetAlgebra::Inter, Some("d"), &["a", "b"]),
        Reply::Int(2)
    );
    assert_eq!(members(&mut t, "d"), vec!["2", "3"]);
    assert_eq!(encoding(&mut t, "d"), bulk("intset"));
    assert_eq!(
        combine(&mut t, SetAlgebra::Union, Some("d"), &["a", "b"]),
        Reply::Int(5)
    );
    assert_eq!(encoding(&mut t, "d"), bulk("listpack"));
    assert_eq!(
        combine(&mut t, SetAlgebra::Diff, None, &["a", "b"]),
        Reply::Set(vec![bulk("1"), bulk("x")])
    );
    assert_eq!(
        combine(&mut t, SetAlgebra::Diff, None, &["a", "nokey", "a"]),
        Reply::Set(vec![])
    );
    // An empty result deletes the destination, whatever it held.
    t.set("d", "string");
    assert_eq!(
        combine(&mut t, SetAlgebra::Inter, Some("d"), &["a", "nokey"]),
        Reply::Int(0)
    );
    assert!(!exists(&mut t, "d"));
    // The destination may be a source.
    assert_eq!(
        combine(&mut t, SetAlgebra::Union, Some("a"), &["a", "b"]),
        Reply::Int(5)
    );
    assert_eq!(
        t.run(Op::Sets(SetOp::InterCard {
            keys: bs(&["a", "b"]),
            limit: 2
        })),
        Reply::Int(2)
    );
    t.set("str", "v");
    assert_eq!(
        combine(&mut t, SetAlgebra::Union, None, &["nokey", "str"]),
        Reply::Err(OpError::WrongType)
    );
}

#[test]
fn smove_between_keys() {
    let mut t = T::new();
    sadd(&mut t, "src", &["a", "b"]);
    let mv = |m: &str, dst: &str| {
        Op::Sets(SetOp::Move {
            src: b("src"),
            dst: b(dst),
            member: b(m),
        })
    };
    assert_eq!(t.run(mv("a", "dst")), Reply::Int(1));
    assert_eq!(t.run(mv("zz", "dst")), Reply::Int(0));
    assert_eq!(t.run(mv("b", "src")), Reply::Int(1));
    assert_eq!(t.run(mv("b", "dst")), Reply::Int(1));
    assert!(!exists(&mut t, "src"));
    assert_eq!(members(&mut t, "dst"), vec!["a", "b"]);
    assert_eq!(t.run(mv("b", "dst")), Reply::Int(0));
}

#[test]
fn events_are_recorded() {
    let mut t = T::new();
    let config = ShardConfig {
        notify_flags: crate::notify::class::ALL | crate::notify::class::KEYEVENT,
        ..ShardConfig::default()
    };
    t.shard.set_config(config);
    sadd(&mut t, "s", &["a"]);
    t.run(Op::Sets(SetOp::Rem {
        key: b("s"),
        members: bs(&["a"]),
    }));
    let events: Vec<&str> = t.shard.take_events().iter().map(|e| e.event).collect();
    assert_eq!(events, vec!["sadd", "srem", "del"]);
}
