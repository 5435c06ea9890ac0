//! Unit tests of FT.AGGREGATE's shard part: load-request resolution (schema typing, key,
//! LOAD *, errors in request order) through `Shard::apply`.

use super::*;
use crate::cmd::testutil::*;
use crate::ir::ops::{HashOp, SearchOp};
use crate::ir::{ExecCtx, Op, OpError};
use crate::search::IndexDef;
use crate::search::query::Query;
use crate::shard::{Shard, ShardConfig};

fn apply(s: &mut Shard, op: Op) -> Reply {
    let ctx = ExecCtx {
        db: 0,
        now_ms: NOW,
        no_touch: false,
    };
    s.apply(&ctx, &op)
}

fn shard() -> Shard {
    let mut s = Shard::new(0, ShardConfig::default());
    let words: Vec<Bytes> = "i ON HASH PREFIX 1 d: SCHEMA n NUMERIC t TAG"
        .split_whitespace()
        .map(b)
        .collect();
    let def = IndexDef::parse(&words).expect("valid");
    assert!(!apply(&mut s, Op::Search(SearchOp::Create(Box::new(def)))).is_err());
    for (k, n, t) in [("d:2", "2.50", "x"), ("d:1", "1", "y")] {
        let op = Op::Hashes(HashOp::HSet {
            key: b(k),
            pairs: vec![(b("n"), b(n)), (b("t"), b(t)), (b("other"), b("o"))],
            legacy: false,
        });
        assert!(!apply(&mut s, op).is_err());
    }
    s
}

fn run(s: &mut Shard, index: &str, load: Vec<LoadReq>) -> Reply {
    let plan = AggregatePlan {
        search: SearchPlan {
            index: b(index),
            query: Query::All,
            knn: None,
            nocontent: false,
            withscores: false,
            return_fields: None,
            sortby: None,
            offset: 0,
            num: 10,
            text: Default::default(),
            hybrid: None,
        },
        load,
    };
    apply(s, Op::Search(SearchOp::Aggregate(Box::new(plan))))
}

fn row(kv: &[&str]) -> Reply {
    Reply::Array(kv.iter().map(|s| Reply::Bulk(b(s))).collect())
}

#[test]
fn loads_typed_fields_key_and_all() {
    let mut s = shard();
    let field = |path: &str, name: &str| LoadReq::Field {
        path: path.into(),
        name: name.into(),
    };
    let r = run(
        &mut s,
        "i",
        vec![
            field("__key", "k"),
            LoadReq::Schema {
                name: "n".into(),
                err: "unused".into(),
            },
            LoadReq::All,
        ],
    );
    // NUMERIC loads as a number (2.50 -> 2.5); LOAD * adds the rest after the named ones.
    assert_eq!(
        r,
        Reply::Array(vec![
            Reply::Int(2),
            row(&["k", "d:1", "n", "1", "t", "y", "other", "o"]),
            row(&["k", "d:2", "n", "2.5", "t", "x", "other", "o"]),
        ])
    );
}

#[test]
fn errors_come_in_request_order_after_the_index_check() {
    let mut s = shard();
    let missing = |name: &str| LoadReq::Schema {
        name: name.into(),
        err: format!("no {name}"),
    };
    let err = |r: Reply| match r {
        Reply::Err(OpError::Other(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        err(run(
            &mut s,
            "i",
            vec![missing("zz"), LoadReq::Fail("later".into())]
        )),
        "no zz"
    );
    assert_eq!(
        err(run(&mut s, "nope", vec![LoadReq::Fail("x".into())])),
        "nope: no such index"
    );
}
