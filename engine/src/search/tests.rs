//! Shard-level tests of the FT spine: auto-indexing through `Shard::apply` on the write
//! paths, the entry primitives, expiry, and the background scan.

use bytes::Bytes;

use crate::cmd::testutil::*;
use crate::ir::ops::{HashOp, SearchOp};
use crate::ir::{ExecCtx, ExpireCond, ExpireSpec, Op, Reply};
use crate::search::{IndexDef, ReadPart};
use crate::shard::{Shard, ShardConfig};

fn ctx(db: usize) -> ExecCtx {
    ExecCtx {
        db,
        now_ms: NOW,
        no_touch: false,
    }
}

fn words(s: &str) -> Vec<Bytes> {
    s.split_whitespace()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

fn create(s: &mut Shard, args: &str) -> Reply {
    let def = IndexDef::parse(&words(args)).expect("valid");
    s.apply(&ctx(0), &Op::Search(SearchOp::Create(Box::new(def))))
}

fn hset(s: &mut Shard, key: &str, pairs: &[(&str, &str)]) {
    let op = Op::Hashes(HashOp::HSet {
        key: b(key),
        pairs: pairs.iter().map(|(f, v)| (b(f), b(v))).collect(),
        legacy: false,
    });
    assert!(!s.apply(&ctx(0), &op).is_err());
}

fn num_docs(s: &Shard, idx: &str) -> u64 {
    match crate::search::read(s.search(), &SearchOp::Info { index: b(idx) }) {
        Ok(ReadPart::Info(i)) => i.num_docs,
        other => panic!("{other:?}"),
    }
}

fn tags(s: &Shard, idx: &str, field: &str) -> Vec<(Bytes, Vec<Bytes>)> {
    match crate::search::read(
        s.search(),
        &SearchOp::DumpTagIdx {
            index: b(idx),
            field: b(field),
        },
    ) {
        Ok(ReadPart::Tags(t)) => t,
        other => panic!("{other:?}"),
    }
}

#[test]
fn write_paths_keep_the_index_in_step() {
    let mut s = Shard::new(0, ShardConfig::default());
    assert_eq!(
        create(&mut s, "i PREFIX 1 d: SCHEMA t TAG n NUMERIC"),
        Reply::Ok
    );
    hset(&mut s, "d:1", &[("t", "A,b"), ("n", "3")]);
    hset(&mut s, "d:2", &[("t", "b")]);
    hset(&mut s, "x:1", &[("t", "c")]);
    assert_eq!(num_docs(&s, "i"), 2);
    assert_eq!(
        tags(&s, "i", "t"),
        vec![(b("a"), vec![b("d:1")]), (b("b"), vec![b("d:1"), b("d:2")])]
    );
    // A bad numeric drops the doc and counts a failure.
    hset(&mut s, "d:2", &[("n", "zz")]);
    assert_eq!(num_docs(&s, "i"), 1);
    // SET over a hash un-indexes it.
    s.apply(
        &ctx(0),
        &Op::Set {
            key: b("d:1"),
            value: b("v"),
            cond: crate::ir::SetCond::Always,
            expire: ExpireSpec::Clear,
            get: false,
        },
    );
    assert_eq!(num_docs(&s, "i"), 0);
    hset(&mut s, "d:3", &[("t", "z")]);
    // RENAME out of the prefix, then back in.
    s.apply(
        &ctx(0),
        &Op::Rename {
            src: b("d:3"),
            dst: b("y"),
            nx: false,
        },
    );
    assert_eq!(num_docs(&s, "i"), 0);
    s.apply(
        &ctx(0),
        &Op::Rename {
            src: b("y"),
            dst: b("d:4"),
            nx: false,
        },
    );
    assert_eq!(tags(&s, "i", "t"), vec![(b("z"), vec![b("d:4")])]);
    // Lazy expiry on a read.
    s.apply(
        &ctx(0),
        &Op::Expire {
            key: b("d:4"),
            at: ExpireSpec::In(10),
            cond: ExpireCond::Always,
            cmd: "expire",
        },
    );
    let later = ExecCtx {
        now_ms: NOW + 20,
        ..ctx(0)
    };
    s.apply(&later, &Op::Get { key: b("d:4") });
    assert_eq!(num_docs(&s, "i"), 0);
    // Entry primitives.
    hset(&mut s, "d:5", &[("t", "q")]);
    let e = s.take_entry(0, b"d:5", NOW).expect("present");
    assert_eq!(num_docs(&s, "i"), 0);
    s.put_entry(0, e.with_key(b"d:6"), NOW).expect("put");
    assert_eq!(num_docs(&s, "i"), 1);
    s.apply(&ctx(0), &Op::FlushAll);
    assert_eq!(num_docs(&s, "i"), 0);
    // Writes in another database are not indexed.
    let op = Op::Hashes(HashOp::HSet {
        key: b("d:7"),
        pairs: vec![(b("t"), b("x"))],
        legacy: false,
    });
    s.apply(&ctx(1), &op);
    assert_eq!(num_docs(&s, "i"), 0);
    // SWAPDB brings it in (through the rescan).
    s.apply(&ctx(0), &Op::SwapDb { a: 0, b: 1 });
    while s.search().scanning() {
        s.search_tick(NOW);
    }
    assert_eq!(num_docs(&s, "i"), 1);
    // DROPINDEX DD deletes the docs.
    let r = s.apply(
        &ctx(0),
        &Op::Search(SearchOp::DropIndex {
            index: b("i"),
            dd: true,
        }),
    );
    assert_eq!(r, Reply::Ok);
    assert!(!s.exists(0, b"d:7", NOW));
    assert!(s.search().is_empty());
}

#[test]
fn background_scan_indexes_existing_keys() {
    let mut s = Shard::new(0, ShardConfig::default());
    for i in 0..10_000 {
        hset(&mut s, &format!("k{i}"), &[("n", &i.to_string())]);
    }
    assert_eq!(create(&mut s, "i SCHEMA n NUMERIC"), Reply::Ok);
    assert!(s.search().scanning());
    // A write during the scan is indexed at once and stays right.
    hset(&mut s, "k5", &[("n", "-1")]);
    let mut steps = 0;
    while s.search().scanning() {
        s.search_tick(NOW);
        steps += 1;
    }
    assert!(steps > 1, "the scan is incremental");
    assert_eq!(num_docs(&s, "i"), 10_000);
    let idx = s.search().get(b"i").expect("index");
    let crate::search::FieldIndex::Numeric(n) = &idx.fields[0] else {
        panic!("numeric")
    };
    let neg = n.range(std::ops::Bound::Unbounded, std::ops::Bound::Excluded(0.0));
    assert_eq!(idx.keys_of(&neg), vec![b("k5")]);
    assert_eq!(
        create(&mut s, "j SKIPINITIALSCAN SCHEMA n NUMERIC"),
        Reply::Ok
    );
    assert_eq!(num_docs(&s, "j"), 0);
    // DD deletes what a full scan finds, not only what the index held (so WAL replay after
    // a snapshot load, whose index is still empty, deletes the same keys).
    hset(&mut s, "k5", &[("n", "bad")]);
    let r = s.apply(
        &ctx(0),
        &Op::Search(SearchOp::DropIndex {
            index: b("j"),
            dd: true,
        }),
    );
    assert_eq!(r, Reply::Ok);
    assert_eq!(s.keyspace_info(), vec![(0, 1, 0)]);
    assert!(s.exists(0, b"k5", NOW), "a failed doc is not a doc");
}

#[test]
fn definitions_round_trip_through_the_snapshot_encoding() {
    let def = IndexDef::parse(&words("i PREFIX 2 a b SCHEMA t TAG SEPARATOR ; n NUMERIC"))
        .expect("valid");
    let enc = crate::search::encode_definition(&def, &[b("al")]);
    assert_eq!(
        crate::search::decode_definition(&enc),
        Ok((def, vec![b("al")]))
    );
    assert!(crate::search::decode_definition(&enc[..enc.len() - 1]).is_err());
}

fn hset_bytes(s: &mut Shard, key: &str, pairs: Vec<(&str, Bytes)>) {
    let op = Op::Hashes(HashOp::HSet {
        key: b(key),
        pairs: pairs.into_iter().map(|(f, v)| (b(f), v)).collect(),
        legacy: false,
    });
    assert!(!s.apply(&ctx(0), &op).is_err());
}

fn vec_blob(v: &[f32]) -> Bytes {
    Bytes::from(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
}

#[test]
fn vector_fields_are_indexed_and_searched() {
    use crate::search::query::{Knn, Query, SearchPlan, execute};
    let mut s = Shard::new(0, ShardConfig::default());
    let args = "v PREFIX 1 d: SCHEMA t TAG v VECTOR HNSW 6 TYPE FLOAT32 DIM 2 DISTANCE_METRIC L2";
    assert_eq!(create(&mut s, args), Reply::Ok);
    for i in 0..10 {
        let tag = if i % 2 == 0 { "even" } else { "odd" };
        hset_bytes(
            &mut s,
            &format!("d:{i}"),
            vec![("t", b(tag)), ("v", vec_blob(&[i as f32, 0.0]))],
        );
    }
    // A wrong-length blob drops the doc and counts a failure.
    hset_bytes(&mut s, "d:3", vec![("v", b("xyz"))]);
    assert_eq!(num_docs(&s, "v"), 9);
    let plan = |query: Query, k: u64| SearchPlan {
        index: b("v"),
        query,
        knn: Some(Knn {
            field: b("v"),
            k,
            blob: vec_blob(&[3.2, 0.0]),
            ef_runtime: None,
            score_field: b("__v_score"),
        }),
        nocontent: true,
        withscores: false,
        return_fields: None,
        sortby: None,
        offset: 0,
        num: 10,
        text: Default::default(),
        hybrid: None,
    };
    let db = s.db(0).expect("db 0");
    let got = execute(s.search(), db, &plan(Query::All, 3), NOW).expect("knn");
    let keys: Vec<Bytes> = got.hits.iter().map(|h| h.key.clone()).collect();
    assert_eq!(keys, vec![b("d:4"), b("d:2"), b("d:5")]);
    let odd = Query::Tag {
        field: b("t"),
        values: vec![crate::search::query::TagMatch::Exact(b("ODD"))],
    };
    let got = execute(s.search(), db, &plan(odd, 2), NOW).expect("knn");
    let keys: Vec<Bytes> = got.hits.iter().map(|h| h.key.clone()).collect();
    assert_eq!(keys, vec![b("d:5"), b("d:1")]);
    let err = execute(
        s.search(),
        db,
        &SearchPlan {
            index: b("nope"),
            ..plan(Query::All, 1)
        },
        NOW,
    );
    assert_eq!(err, Err("nope: no such index".to_string()));
}
