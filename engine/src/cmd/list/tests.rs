//! Tests of the list commands against a shard: replies, lookup-order precedence, key deletion,
//! keyspace events and encoding conversions at the configured thresholds.

use bytes::Bytes;

use crate::cmd::testutil::*;
use crate::ir::ops::ListOp;
use crate::ir::{ExecCtx, Op, OpError, Reply};
use crate::notify::class;
use crate::shard::{Shard, ShardConfig};
use crate::types::list::End;

fn l(op: ListOp) -> Op {
    Op::Lists(op)
}

fn push(key: &str, end: End, items: &[&str]) -> Op {
    l(ListOp::Push {
        key: b(key),
        end,
        elements: items.iter().map(|s| b(s)).collect(),
        only_if_exists: false,
    })
}

fn rpush(key: &str, items: &[&str]) -> Op {
    push(key, End::Tail, items)
}

fn range(key: &str, start: i64, stop: i64) -> Op {
    l(ListOp::Range {
        key: b(key),
        start,
        stop,
    })
}

fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

fn pop(key: &str, end: End, count: Option<u64>) -> Op {
    l(ListOp::Pop {
        key: b(key),
        end,
        count,
    })
}

fn encoding(t: &mut T, key: &str) -> Reply {
    t.run(Op::ObjectEncoding { key: b(key) })
}

fn with_config(config: ShardConfig) -> T {
    T {
        shard: Shard::new(0, config),
        now: NOW,
    }
}

fn pos(key: &str, el: &str, rank: i64, count: Option<u64>, maxlen: u64) -> Op {
    l(ListOp::Pos {
        key: b(key),
        element: b(el),
        rank,
        count,
        maxlen,
    })
}

#[test]
fn push_pop_len_range() {
    let mut t = T::new();
    assert_eq!(t.run(rpush("k", &["a", "b", "c"])), Reply::Int(3));
    assert_eq!(t.run(push("k", End::Head, &["z", "y"])), Reply::Int(5));
    assert_eq!(t.run(range("k", 0, -1)), bulks(&["y", "z", "a", "b", "c"]));
    assert_eq!(t.run(range("k", -2, 100)), bulks(&["b", "c"]));
    assert_eq!(t.run(range("k", 3, 1)), Reply::Array(vec![]));
    assert_eq!(t.run(range("k", 9, 10)), Reply::Array(vec![]));
    assert_eq!(t.run(range("k", -100, 0)), bulks(&["y"]));
    assert_eq!(t.run(range("nokey", 0, -1)), Reply::Array(vec![]));
    assert_eq!(t.run(l(ListOp::Len { key: b("k") })), Reply::Int(5));
    assert_eq!(t.run(pop("k", End::Head, None)), bulk("y"));
    assert_eq!(t.run(pop("k", End::Tail, Some(2))), bulks(&["c", "b"]));
    assert_eq!(t.run(pop("k", End::Head, Some(0))), Reply::Array(vec![]));
    assert_eq!(t.run(pop("nokey", End::Head, Some(0))), Reply::NilArray);
    assert_eq!(t.run(pop("nokey", End::Head, None)), Reply::Nil);
    assert_eq!(t.run(pop("k", End::Head, Some(10))), bulks(&["z", "a"]));
    assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
    let pushx = l(ListOp::Push {
        key: b("k"),
        end: End::Tail,
        elements: vec![b("x")],
        only_if_exists: true,
    });
    assert_eq!(t.run(pushx.clone()), Reply::Int(0));
    assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
    t.run(rpush("k", &["1"]));
    assert_eq!(t.run(pushx), Reply::Int(2));
    assert_eq!(t.run(range("k", 0, -1)), bulks(&["1", "x"]));
}

#[test]
fn wrong_type_everywhere() {
    let mut t = T::new();
    t.set("s", "v");
    t.run(rpush("l", &["a"]));
    let wrong = Reply::Err(OpError::WrongType);
    let ops = vec![
        rpush("s", &["a"]),
        pop("s", End::Head, None),
        pop("s", End::Head, Some(0)),
        l(ListOp::Len { key: b("s") }),
        range("s", 0, -1),
        l(ListOp::Index {
            key: b("s"),
            index: None,
        }),
        l(ListOp::Set {
            key: b("s"),
            index: None,
            element: b("x"),
        }),
        l(ListOp::Insert {
            key: b("s"),
            after: true,
            pivot: b("a"),
            element: b("x"),
        }),
        l(ListOp::Rem {
            key: b("s"),
            count: 0,
            element: b("x"),
        }),
        l(ListOp::Trim {
            key: b("s"),
            start: 0,
            stop: 1,
        }),
        pos("s", "a", 1, None, 0),
        l(ListOp::Move {
            src: b("s"),
            dst: b("l"),
            from: End::Head,
            to: End::Head,
            timeout_ms: None,
        }),
        l(ListOp::Move {
            src: b("l"),
            dst: b("s"),
            from: End::Head,
            to: End::Head,
            timeout_ms: None,
        }),
        l(ListOp::MPop {
            keys: vec![b("none"), b("s"), b("l")],
            end: End::Head,
            count: 1,
            timeout_ms: None,
        }),
        l(ListOp::BPop {
            keys: vec![b("s")],
            end: End::Head,
            timeout_ms: 0,
        }),
    ];
    for op in ops {
        assert_eq!(t.run(op.clone()), wrong, "{op:?}");
    }
    // Nothing moved out of `l` by the failed LMOVE.
    assert_eq!(t.run(range("l", 0, -1)), bulks(&["a"]));
    // A missing source answers nil before the destination's type is looked at.
    let mv = l(ListOp::Move {
        src: b("none"),
        dst: b("s"),
        from: End::Head,
        to: End::Head,
        timeout_ms: None,
    });
    assert_eq!(t.run(mv), Reply::Nil);
}

#[test]
fn index_and_set_check_the_key_first() {
    let mut t = T::new();
    let index = |k: &str, i: Option<i64>| {
        l(ListOp::Index {
            key: b(k),
            index: i,
        })
    };
    let set = |k: &str, i: Option<i64>| {
        l(ListOp::Set {
            key: b(k),
            index: i,
            element: b("new"),
        })
    };
    assert_eq!(t.run(index("k", None)), Reply::Nil);
    assert_eq!(t.run(set("k", None)), Reply::Err(OpError::NoSuchKey));
    t.run(rpush("k", &["a", "b", "c"]));
    assert_eq!(t.run(index("k", None)), Reply::Err(OpError::NotInteger));
    assert_eq!(t.run(set("k", None)), Reply::Err(OpError::NotInteger));
    assert_eq!(t.run(index("k", Some(-1))), bulk("c"));
    assert_eq!(t.run(index("k", Some(3))), Reply::Nil);
    assert_eq!(t.run(index("k", Some(-4))), Reply::Nil);
    assert_eq!(t.run(set("k", Some(-3))), Reply::Ok);
    assert_eq!(
        t.run(set("k", Some(3))),
        Reply::Err(OpError::Other("ERR index out of range".into()))
    );
    assert_eq!(t.run(range("k", 0, -1)), bulks(&["new", "b", "c"]));
}

#[test]
fn insert_rem_trim() {
    let mut t = T::new();
    let ins = |after: bool, pivot: &str, el: &str| {
        l(ListOp::Insert {
            key: b("k"),
            after,
            pivot: b(pivot),
            element: b(el),
        })
    };
    assert_eq!(t.run(ins(true, "a", "x")), Reply::Int(0));
    t.run(rpush("k", &["a", "b", "a", "c", "a"]));
    assert_eq!(t.run(ins(true, "a", "x")), Reply::Int(6));
    assert_eq!(t.run(ins(false, "c", "y")), Reply::Int(7));
    assert_eq!(t.run(ins(false, "zz", "y")), Reply::Int(-1));
    assert_eq!(
        t.run(range("k", 0, -1)),
        bulks(&["a", "x", "b", "a", "y", "c", "a"])
    );
    let rem = |count: i64, el: &str| {
        l(ListOp::Rem {
            key: b("k"),
            count,
            element: b(el),
        })
    };
    assert_eq!(t.run(rem(-1, "a")), Reply::Int(1));
    assert_eq!(
        t.run(range("k", 0, -1)),
        bulks(&["a", "x", "b", "a", "y", "c"])
    );
    assert_eq!(t.run(rem(1, "a")), Reply::Int(1));
    assert_eq!(t.run(rem(0, "nothing")), Reply::Int(0));
    assert_eq!(t.run(range("k", 0, -1)), bulks(&["x", "b", "a", "y", "c"]));
    let trim = |start: i64, stop: i64| {
        l(ListOp::Trim {
            key: b("k"),
            start,
            stop,
        })
    };
    assert_eq!(t.run(trim(1, -2)), Reply::Ok);
    assert_eq!(t.run(range("k", 0, -1)), bulks(&["b", "a", "y"]));
    assert_eq!(t.run(trim(5, 10)), Reply::Ok);
    assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
    assert_eq!(t.run(trim(0, 1)), Reply::Ok);
    t.run(rpush("k", &["v", "v"]));
    assert_eq!(t.run(rem(0, "v")), Reply::Int(2));
    assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
}

#[test]
fn lpos_ranks_counts_and_maxlen() {
    let mut t = T::new();
    t.run(rpush("k", &["a", "b", "c", "1", "2", "3", "c", "c"]));
    let int = Reply::Int;
    assert_eq!(t.run(pos("k", "c", 1, None, 0)), int(2));
    assert_eq!(t.run(pos("k", "c", 2, None, 0)), int(6));
    assert_eq!(t.run(pos("k", "c", -1, None, 0)), int(7));
    assert_eq!(t.run(pos("k", "c", 9, None, 0)), Reply::Nil);
    assert_eq!(t.run(pos("k", "2", 1, None, 0)), int(4));
    assert_eq!(
        t.run(pos("k", "c", 1, Some(2), 0)),
        Reply::Array(vec![int(2), int(6)])
    );
    assert_eq!(
        t.run(pos("k", "c", -1, Some(2), 0)),
        Reply::Array(vec![int(7), int(6)])
    );
    assert_eq!(
        t.run(pos("k", "c", 2, Some(0), 0)),
        Reply::Array(vec![int(6), int(7)])
    );
    assert_eq!(t.run(pos("k", "c", 1, None, 2)), Reply::Nil);
    assert_eq!(
        t.run(pos("k", "c", -1, Some(0), 2)),
        Reply::Array(vec![int(7), int(6)])
    );
    assert_eq!(
        t.run(pos("nokey", "c", 1, Some(0), 0)),
        Reply::Array(vec![])
    );
    assert_eq!(t.run(pos("nokey", "c", 1, None, 0)), Reply::Nil);
}

#[test]
fn moves_and_multi_pops() {
    let mut t = T::new();
    t.run(rpush("a", &["1", "2", "3"]));
    let mv = |src: &str, dst: &str, from: End, to: End| {
        l(ListOp::Move {
            src: b(src),
            dst: b(dst),
            from,
            to,
            timeout_ms: None,
        })
    };
    // Rotation on the same key.
    assert_eq!(t.run(mv("a", "a", End::Tail, End::Head)), bulk("3"));
    assert_eq!(t.run(range("a", 0, -1)), bulks(&["3", "1", "2"]));
    assert_eq!(t.run(mv("a", "b", End::Head, End::Tail)), bulk("3"));
    assert_eq!(t.run(mv("a", "b", End::Head, End::Tail)), bulk("1"));
    assert_eq!(t.run(mv("a", "b", End::Head, End::Head)), bulk("2"));
    assert_eq!(t.run(exists(&["a"])), Reply::Int(0));
    assert_eq!(t.run(range("b", 0, -1)), bulks(&["2", "3", "1"]));
    assert_eq!(t.run(mv("a", "b", End::Head, End::Head)), Reply::Nil);
    // A single-element list rotated onto itself stays.
    t.run(rpush("one", &["x"]));
    assert_eq!(t.run(mv("one", "one", End::Head, End::Tail)), bulk("x"));
    assert_eq!(t.run(range("one", 0, -1)), bulks(&["x"]));

    let mpop = |keys: &[&str], end: End, count: u64| {
        l(ListOp::MPop {
            keys: keys.iter().map(|k| b(k)).collect(),
            end,
            count,
            timeout_ms: None,
        })
    };
    assert_eq!(t.run(mpop(&["x", "y"], End::Head, 1)), Reply::NilArray);
    assert_eq!(
        t.run(mpop(&["x", "b"], End::Tail, 2)),
        Reply::Array(vec![bulk("b"), bulks(&["1", "3"])])
    );
    assert_eq!(
        t.run(mpop(&["b"], End::Head, 5)),
        Reply::Array(vec![bulk("b"), bulks(&["2"])])
    );
    assert_eq!(t.run(exists(&["b"])), Reply::Int(0));
    let bpop = |keys: &[&str], end: End| {
        l(ListOp::BPop {
            keys: keys.iter().map(|k| b(k)).collect(),
            end,
            timeout_ms: 0,
        })
    };
    assert_eq!(t.run(bpop(&["x", "y"], End::Head)), Reply::NilArray);
    t.run(rpush("y", &["p", "q"]));
    assert_eq!(
        t.run(bpop(&["x", "y"], End::Tail)),
        Reply::Array(vec![bulk("y"), bulk("q")])
    );
    let blmove = l(ListOp::Move {
        src: b("x"),
        dst: b("y"),
        from: End::Head,
        to: End::Head,
        timeout_ms: Some(0),
    });
    assert_eq!(t.run(blmove), Reply::Nil);
}

fn notifying() -> T {
    with_config(ShardConfig {
        notify_flags: class::ALL | class::KEYEVENT,
        ..ShardConfig::default()
    })
}

fn events(t: &mut T) -> Vec<(&'static str, Bytes)> {
    t.shard
        .take_events()
        .into_iter()
        .map(|e| (e.event, e.key))
        .collect()
}

#[test]
fn keyspace_events_follow_t_list_c() {
    let mut t = notifying();
    t.run(rpush("a", &["1", "2"]));
    t.run(push("a", End::Head, &["0"]));
    assert_eq!(events(&mut t), vec![("rpush", b("a")), ("lpush", b("a"))]);
    t.run(l(ListOp::Move {
        src: b("a"),
        dst: b("b"),
        from: End::Tail,
        to: End::Head,
        timeout_ms: None,
    }));
    assert_eq!(events(&mut t), vec![("lpush", b("b")), ("rpop", b("a"))]);
    t.run(l(ListOp::Insert {
        key: b("a"),
        after: true,
        pivot: b("0"),
        element: b("x"),
    }));
    t.run(l(ListOp::Set {
        key: b("a"),
        index: Some(0),
        element: b("y"),
    }));
    t.run(l(ListOp::Rem {
        key: b("a"),
        count: 0,
        element: b("x"),
    }));
    t.run(l(ListOp::Rem {
        key: b("a"),
        count: 0,
        element: b("absent"),
    }));
    t.run(l(ListOp::Trim {
        key: b("a"),
        start: 0,
        stop: -1,
    }));
    assert_eq!(
        events(&mut t),
        vec![
            ("linsert", b("a")),
            ("lset", b("a")),
            ("lrem", b("a")),
            ("ltrim", b("a"))
        ]
    );
    t.run(pop("a", End::Head, Some(5)));
    assert_eq!(events(&mut t), vec![("lpop", b("a")), ("del", b("a"))]);
    t.run(l(ListOp::MPop {
        keys: vec![b("a"), b("b")],
        end: End::Tail,
        count: 1,
        timeout_ms: None,
    }));
    assert_eq!(events(&mut t), vec![("rpop", b("b")), ("del", b("b"))]);
    // Failed or no-op writes record nothing.
    t.run(pop("a", End::Head, None));
    t.run(l(ListOp::Insert {
        key: b("a"),
        after: true,
        pivot: b("0"),
        element: b("x"),
    }));
    assert_eq!(events(&mut t), vec![]);
}

#[test]
fn encodings_convert_at_the_configured_thresholds() {
    let mut config = ShardConfig::default();
    config.limits.list_max_listpack_size = 4;
    let mut t = with_config(config);
    t.run(rpush("k", &["1", "2", "3", "4"]));
    assert_eq!(encoding(&mut t, "k"), bulk("listpack"));
    t.run(rpush("k", &["5"]));
    assert_eq!(encoding(&mut t, "k"), bulk("quicklist"));
    // Nodes [1 2 3 4] [5]: popping 5 leaves one node of 4 > 4/2 entries.
    t.run(pop("k", End::Tail, None));
    assert_eq!(encoding(&mut t, "k"), bulk("quicklist"));
    t.run(pop("k", End::Tail, None));
    assert_eq!(encoding(&mut t, "k"), bulk("quicklist"));
    t.run(pop("k", End::Tail, None));
    assert_eq!(encoding(&mut t, "k"), bulk("listpack"));
    assert_eq!(t.run(range("k", 0, -1)), bulks(&["1", "2"]));
    // A multi-element push converts before pushing.
    t.run(rpush("m", &["a", "b", "c", "d", "e"]));
    assert_eq!(encoding(&mut t, "m"), bulk("quicklist"));
    // LINSERT converts even when the pivot is missing, as Redis.
    t.run(rpush("i", &["a", "b", "c", "d"]));
    let ins = l(ListOp::Insert {
        key: b("i"),
        after: true,
        pivot: b("zz"),
        element: b("x"),
    });
    assert_eq!(t.run(ins), Reply::Int(-1));
    assert_eq!(encoding(&mut t, "i"), bulk("quicklist"));
    // LTRIM back under half the limit converts back.
    let trim = l(ListOp::Trim {
        key: b("m"),
        start: 0,
        stop: 1,
    });
    t.run(trim);
    assert_eq!(encoding(&mut t, "m"), bulk("listpack"));
    // LSET of a value past the 8 KiB safety limit converts (and, with 3 > 4 / 2 elements,
    // does not convert straight back).
    t.run(rpush("m", &["c"]));
    assert_eq!(encoding(&mut t, "m"), bulk("listpack"));
    let set = l(ListOp::Set {
        key: b("m"),
        index: Some(0),
        element: Bytes::from(vec![b'x'; 9000]),
    });
    assert_eq!(t.run(set), Reply::Ok);
    assert_eq!(encoding(&mut t, "m"), bulk("quicklist"));
}

/// The database's byte counter minus the entries' sizes: constant while only the list changes.
fn table_overhead(t: &T) -> usize {
    let db = t.shard.db(0).expect("db 0");
    db.mem_bytes()
        - db.iter()
            .map(crate::keyspace::Entry::mem_bytes)
            .sum::<usize>()
}

#[test]
fn memory_accounting_stays_exact() {
    let mut config = ShardConfig::default();
    config.limits.list_max_listpack_size = 16;
    let mut t = with_config(config);
    t.run(rpush("k", &["seed"]));
    let overhead = table_overhead(&t);
    for i in 0..500 {
        t.run(push("k", End::Head, &[&format!("value-{i}")]));
        t.run(rpush("k", &[&i.to_string()]));
        if i % 3 == 0 {
            t.run(pop("k", End::Tail, Some(2)));
        }
        assert_eq!(table_overhead(&t), overhead);
    }
    assert_eq!(encoding(&mut t, "k"), bulk("quicklist"));
    t.run(l(ListOp::Trim {
        key: b("k"),
        start: 0,
        stop: 3,
    }));
    assert_eq!(encoding(&mut t, "k"), bulk("listpack"));
    assert_eq!(table_overhead(&t), overhead);
    let _ = ExecCtx {
        db: 0,
        now_ms: t.now,
        no_touch: false,
    };
}
