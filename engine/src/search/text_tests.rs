//! Shard-level tests of text search: TEXT fields fed by the write path, the query
//! operators' evaluation, custom stop words, and the two-phase statistics that make scores
//! independent of the shard.

use bytes::Bytes;

use crate::cmd::testutil::*;
use crate::ir::ops::{HashOp, SearchOp};
use crate::ir::{ExecCtx, Op};
use crate::search::IndexDef;
use crate::search::query::{
    Query, SearchPlan, TextKind, TextOpts, TextQuery, execute, local_stats,
};
use crate::shard::{Shard, ShardConfig};

fn ctx() -> ExecCtx {
    ExecCtx {
        db: 0,
        now_ms: NOW,
        no_touch: false,
    }
}

fn shard(schema: &str) -> Shard {
    let mut s = Shard::new(0, ShardConfig::default());
    let args: Vec<Bytes> = schema
        .split_whitespace()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    let def = IndexDef::parse(&args).expect("valid");
    assert!(
        !s.apply(&ctx(), &Op::Search(SearchOp::Create(Box::new(def))))
            .is_err()
    );
    s
}

fn hset(s: &mut Shard, key: &str, pairs: &[(&str, &str)]) {
    let op = Op::Hashes(HashOp::HSet {
        key: b(key),
        pairs: pairs.iter().map(|(f, v)| (b(f), b(v))).collect(),
        legacy: false,
    });
    assert!(!s.apply(&ctx(), &op).is_err());
}

fn term(w: &str) -> Query {
    Query::Text(Box::new(TextQuery {
        fields: None,
        kind: TextKind::Term {
            word: w.into(),
            verbatim: false,
        },
        weight: 1.0,
    }))
}

fn plan(query: Query, text: TextOpts) -> SearchPlan {
    SearchPlan {
        index: b("i"),
        query,
        knn: None,
        nocontent: true,
        withscores: true,
        return_fields: None,
        sortby: None,
        offset: 0,
        num: 10,
        text,
        hybrid: None,
    }
}

fn run(s: &Shard, p: &SearchPlan) -> Vec<(String, f64)> {
    let part = execute(s.search(), s.db(0).expect("db 0"), p, NOW).expect("search");
    part.hits
        .into_iter()
        .map(|h| {
            (
                String::from_utf8_lossy(&h.key).into_owned(),
                h.score.unwrap_or(f64::NAN),
            )
        })
        .collect()
}

fn keys(s: &Shard, q: Query) -> Vec<String> {
    let mut k: Vec<String> = run(s, &plan(q, TextOpts::default()))
        .into_iter()
        .map(|x| x.0)
        .collect();
    k.sort();
    k
}

#[test]
fn write_path_updates_the_text_index() {
    let mut s = shard("i PREFIX 1 d: SCHEMA t TEXT n NUMERIC");
    hset(&mut s, "d:1", &[("t", "red apples"), ("n", "1")]);
    hset(&mut s, "d:2", &[("t", "green apple")]);
    assert_eq!(keys(&s, term("apple")), ["d:1", "d:2"]);
    hset(&mut s, "d:1", &[("t", "yellow bananas")]);
    assert_eq!(keys(&s, term("apple")), ["d:2"]);
    assert_eq!(keys(&s, term("banana")), ["d:1"]);
    let del = Op::Del {
        keys: vec![b("d:2")],
    };
    assert!(!s.apply(&ctx(), &del).is_err());
    assert!(keys(&s, term("apple")).is_empty());
    // A bad numeric drops the doc from every field index, text included.
    hset(&mut s, "d:1", &[("n", "nope")]);
    assert!(keys(&s, term("banana")).is_empty());
}

#[test]
fn custom_stop_words_are_dropped_from_queries() {
    let mut s = shard("i STOPWORDS 1 foo SCHEMA t TEXT");
    hset(&mut s, "a", &[("t", "foo bar the")]);
    // `foo` is not indexed and is dropped from the query; `the` is indexed here.
    assert_eq!(keys(&s, Query::And(vec![term("foo"), term("bar")])), ["a"]);
    assert_eq!(keys(&s, term("the")), ["a"]);
    let nostop = TextOpts {
        nostopwords: true,
        ..TextOpts::default()
    };
    let p = plan(Query::And(vec![term("foo"), term("bar")]), nostop);
    assert!(run(&s, &p).is_empty());
}

#[test]
fn near_and_phrases() {
    let mut s = shard("i SCHEMA t TEXT");
    hset(&mut s, "a", &[("t", "one two three four")]);
    let near = |slop, inorder| Query::Near {
        qs: vec![term("four"), term("two")],
        slop,
        inorder,
    };
    assert_eq!(keys(&s, near(Some(1), false)), ["a"]);
    assert!(keys(&s, near(Some(0), false)).is_empty());
    assert!(keys(&s, near(None, true)).is_empty());
    let phrase = Query::Text(Box::new(TextQuery {
        fields: None,
        kind: TextKind::Phrase {
            words: vec![("two".into(), false), ("three".into(), false)],
            slop: 0,
            inorder: true,
        },
        weight: 1.0,
    }));
    assert_eq!(keys(&s, phrase), ["a"]);
}

/// Two shards: local statistics give the same content different scores; the merged
/// statistics give equal scores.
#[test]
fn merged_statistics_make_scores_shard_independent() {
    let mut s1 = shard("i SCHEMA t TEXT");
    let mut s2 = shard("i SCHEMA t TEXT");
    hset(&mut s1, "a", &[("t", "alpha beta")]);
    hset(&mut s2, "b", &[("t", "alpha beta")]);
    for k in ["c", "d", "e"] {
        hset(&mut s1, k, &[("t", "alpha gamma delta")]);
    }
    let p = plan(term("beta"), TextOpts::default());
    let (l1, l2) = (run(&s1, &p), run(&s2, &p));
    assert_ne!(l1[0].1, l2[0].1);
    let mut stats = local_stats(s1.search(), &p).expect("stats");
    stats.merge(&local_stats(s2.search(), &p).expect("stats"));
    assert_eq!((stats.num_docs, stats.doc_freq.clone()), (5, vec![2]));
    let global = SearchPlan {
        text: TextOpts {
            stats: Some(stats),
            ..TextOpts::default()
        },
        ..p
    };
    let (g1, g2) = (run(&s1, &global), run(&s2, &global));
    assert_eq!(g1[0].1, g2[0].1);
}
