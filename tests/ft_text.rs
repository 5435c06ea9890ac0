//! Full-text FT.SEARCH end to end (`--shards 2`, documents on both shards): terms, phrases,
//! `|`, `-`, `~`, scoping, prefix / suffix / fuzzy, attributes, VERBATIM, INFIELDS, INKEYS,
//! SLOP / INORDER, scorers with WITHSCORES and EXPLAINSCORE, cross-shard BM25 score equality
//! (two-phase statistics, checked against the formula by hand), HIGHLIGHT / SUMMARIZE,
//! FT.EXPLAIN / FT.EXPLAINCLI, GEO filters, hybrid text + KNN, index updates on the write
//! paths, FT.INFO's text figures, restart, and redis-py running a highlighted text query.

mod common;

use std::time::Duration;

use common::ft::{q as ft, text as s};
use common::{Server, err_text, keys_on_shards, shard_of, wait_until};
use redis::{Connection, Value};

const ARGS: &[&str] = &["--shards", "2"];

fn search(con: &mut Connection, args: &[&str]) -> Value {
    let mut c = redis::cmd("FT.SEARCH");
    for a in args {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("FT.SEARCH {args:?} failed: {e}"))
}

fn search_err(con: &mut Connection, args: &[&str]) -> String {
    let mut c = redis::cmd("FT.SEARCH");
    for a in args {
        c.arg(*a);
    }
    match c.query::<Value>(con) {
        Ok(v) => panic!("{args:?} answered {v:?}, expected an error"),
        Err(e) => err_text(&e),
    }
}

/// The keys of a NOCONTENT query, in reply order (the total is checked to match when the
/// reply is not limited).
fn ids(con: &mut Connection, index: &str, query: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![index, query, "NOCONTENT"];
    args.extend_from_slice(extra);
    match search(con, &args) {
        Value::Array(items) => items.iter().skip(1).map(s).collect(),
        other => panic!("{query}: {other:?}"),
    }
}

/// Sorted keys (for queries whose order is not the point).
fn set(con: &mut Connection, index: &str, query: &str, extra: &[&str]) -> Vec<String> {
    let mut v = ids(con, index, query, extra);
    v.sort();
    v
}

/// `(key, score)` pairs of a WITHSCORES NOCONTENT query.
fn scored(con: &mut Connection, index: &str, query: &str, extra: &[&str]) -> Vec<(String, f64)> {
    let mut args = vec![index, query, "NOCONTENT", "WITHSCORES"];
    args.extend_from_slice(extra);
    match search(con, &args) {
        Value::Array(items) => items[1..]
            .chunks(2)
            .map(|c| {
                let score = s(&c[1]);
                (
                    s(&c[0]),
                    score
                        .parse()
                        .unwrap_or_else(|_| panic!("score {score:?} of {query}")),
                )
            })
            .collect(),
        other => panic!("{query}: {other:?}"),
    }
}

fn hset(con: &mut Connection, key: &str, fields: &[(&str, &str)]) {
    let mut c = redis::cmd("HSET");
    c.arg(key);
    for (f, v) in fields {
        c.arg(*f).arg(*v);
    }
    let _: i64 = c.query(con).unwrap_or_else(|e| panic!("HSET {key}: {e}"));
}

fn info_field(con: &mut Connection, index: &str, name: &str) -> String {
    let Value::Array(items) = ft(con, &["FT.INFO", index]) else {
        panic!("FT.INFO {index}")
    };
    let pos = items
        .iter()
        .position(|v| s(v) == name)
        .unwrap_or_else(|| panic!("FT.INFO has no {name}"));
    s(&items[pos + 1])
}

fn wait_docs(con: &mut Connection, index: &str, n: usize) {
    let ok = wait_until(Duration::from_secs(10), || {
        info_field(con, index, "num_docs") == n.to_string()
            && info_field(con, index, "indexing") == "0"
    });
    assert!(ok, "index {index} never reached {n} docs");
}

const DOCS: &[(&str, &str, &str)] = &[
    (
        "d:1",
        "hello world",
        "the quick brown fox jumps over the lazy dog",
    ),
    (
        "d:2",
        "hello there",
        "running runners run far away from home",
    ),
    (
        "d:3",
        "goodbye world",
        "a brown dog sleeps in the warm sun all day",
    ),
    (
        "d:4",
        "world peace",
        "hello from the other side of the world",
    ),
    (
        "d:5",
        "help wanted",
        "quick thinking helps the brown team win",
    ),
    ("d:6", "wonderful day", "the fox said hello to the dog"),
];

fn load(con: &mut Connection) {
    for (i, (k, title, body)) in DOCS.iter().enumerate() {
        let n = (i + 1).to_string();
        // Longitudes 2.35 + 0.01 i around Paris.
        let loc = format!("{},48.85", 2.35 + 0.01 * i as f64);
        hset(
            con,
            k,
            &[("title", title), ("body", body), ("n", &n), ("loc", &loc)],
        );
    }
    ft(
        con,
        &[
            "FT.CREATE",
            "t",
            "PREFIX",
            "1",
            "d:",
            "SCHEMA",
            "title",
            "TEXT",
            "WEIGHT",
            "2",
            "body",
            "TEXT",
            "n",
            "NUMERIC",
            "SORTABLE",
            "loc",
            "GEO",
        ],
    );
    wait_docs(con, "t", DOCS.len());
}

#[test]
fn text_operators() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    let c = &mut con;
    // Keys really are on both shards.
    let shards: std::collections::HashSet<usize> = DOCS
        .iter()
        .map(|(k, _, _)| shard_of(k.as_bytes(), 2))
        .collect();
    assert_eq!(shards.len(), 2);
    assert_eq!(set(c, "t", "hello", &[]), ["d:1", "d:2", "d:4", "d:6"]);
    // Implicit AND, OR, NOT, optional, grouping.
    assert_eq!(set(c, "t", "hello world", &[]), ["d:1", "d:4"]);
    assert_eq!(set(c, "t", "goodbye | peace", &[]), ["d:3", "d:4"]);
    assert_eq!(set(c, "t", "hello -world", &[]), ["d:2", "d:6"]);
    assert_eq!(set(c, "t", "(goodbye | peace) dog", &[]), ["d:3"]);
    assert_eq!(set(c, "t", "dog ~fox", &[]), ["d:1", "d:3", "d:6"]);
    // The optional term only scores: docs with it rank first.
    let r = ids(c, "t", "dog ~fox", &[]);
    assert_eq!(&r[2], "d:3", "{r:?}");
    // Field scoping.
    assert_eq!(set(c, "t", "@title:hello", &[]), ["d:1", "d:2"]);
    assert_eq!(set(c, "t", "@body:hello", &[]), ["d:4", "d:6"]);
    assert_eq!(set(c, "t", "@title|body:peace", &[]), ["d:4"]);
    assert_eq!(
        set(c, "t", "@title:(hello | goodbye)", &[]),
        ["d:1", "d:2", "d:3"]
    );
    assert_eq!(set(c, "t", "@nosuch:hello", &[]), Vec::<String>::new());
    // Phrases: exact, slop, inorder.
    assert_eq!(set(c, "t", "\"brown fox\"", &[]), ["d:1"]);
    assert_eq!(set(c, "t", "\"fox brown\"", &[]), Vec::<String>::new());
    assert_eq!(set(c, "t", "\"quick fox\"", &[]), Vec::<String>::new());
    assert_eq!(set(c, "t", "\"quick fox\" => {$slop: 1}", &[]), ["d:1"]);
    assert_eq!(
        set(c, "t", "\"fox quick\" => {$slop: 1; $inorder: false}", &[]),
        ["d:1"]
    );
    assert_eq!(
        set(c, "t", "\"fox quick\" => {$slop: 1; $inorder: true}", &[]),
        Vec::<String>::new()
    );
    // Stop words inside a phrase do not take a position ("over the lazy").
    assert_eq!(set(c, "t", "\"over the lazy\"", &[]), ["d:1"]);
    // SLOP / INORDER options on an intersection.
    assert_eq!(set(c, "t", "quick fox", &[]), ["d:1"]);
    assert_eq!(
        set(c, "t", "quick fox", &["SLOP", "0"]),
        Vec::<String>::new()
    );
    assert_eq!(set(c, "t", "quick fox", &["SLOP", "1"]), ["d:1"]);
    assert_eq!(
        set(c, "t", "fox quick", &["SLOP", "1", "INORDER"]),
        Vec::<String>::new()
    );
    // Stemming, VERBATIM.
    assert_eq!(set(c, "t", "runs", &[]), ["d:2"]);
    assert_eq!(set(c, "t", "runs", &["VERBATIM"]), Vec::<String>::new());
    assert_eq!(set(c, "t", "helps", &["VERBATIM"]), ["d:5"]);
    // Prefix, suffix, infix, fuzzy.
    assert_eq!(
        set(c, "t", "hel*", &[]),
        ["d:1", "d:2", "d:4", "d:5", "d:6"]
    );
    assert_eq!(set(c, "t", "@title:wor*", &[]), ["d:1", "d:3", "d:4"]);
    assert_eq!(set(c, "t", "*ful", &[]), ["d:6"]);
    assert_eq!(set(c, "t", "*ppi*", &[]), Vec::<String>::new());
    assert_eq!(set(c, "t", "*ee*", &[]), ["d:3"]);
    assert_eq!(set(c, "t", "%wrld%", &[]), ["d:1", "d:3", "d:4"]);
    assert_eq!(set(c, "t", "%%wrd%%", &[]), ["d:1", "d:3", "d:4", "d:5"]);
    assert_eq!(set(c, "t", "%wrd%", &[]), Vec::<String>::new());
    // Stop words are dropped from the query.
    assert_eq!(set(c, "t", "the goodbye", &[]), ["d:3"]);
    assert_eq!(
        set(c, "t", "the goodbye", &["NOSTOPWORDS"]),
        Vec::<String>::new()
    );
    // INFIELDS, INKEYS.
    assert_eq!(
        set(c, "t", "hello", &["INFIELDS", "1", "body"]),
        ["d:4", "d:6"]
    );
    assert_eq!(
        set(c, "t", "hello", &["INKEYS", "2", "d:1", "d:4"]),
        ["d:1", "d:4"]
    );
    // Mixed with numeric and geo filters.
    assert_eq!(set(c, "t", "hello @n:[2 4]", &[]), ["d:2", "d:4"]);
    assert_eq!(
        set(c, "t", "@loc:[2.35 48.85 1.6 km]", &[]),
        ["d:1", "d:2", "d:3"]
    );
    assert_eq!(
        set(c, "t", "hello @loc:[2.35 48.85 800 m]", &[]),
        ["d:1", "d:2"]
    );
    assert_eq!(
        set(
            c,
            "t",
            "world",
            &["GEOFILTER", "loc", "2.37", "48.85", "1", "km"]
        ),
        ["d:3", "d:4"]
    );
    // Scoring: the title (WEIGHT 2) match outranks the body match; SORTBY overrides.
    let r = ids(c, "t", "peace | sun", &[]);
    assert_eq!(r, ["d:4", "d:3"]);
    let r = ids(c, "t", "hello", &["SORTBY", "n", "DESC"]);
    assert_eq!(r, ["d:6", "d:4", "d:2", "d:1"]);
    // $weight changes the ranking.
    let r = ids(c, "t", "peace | (sun => {$weight: 10})", &[]);
    assert_eq!(r, ["d:3", "d:4"]);
    // LIMIT over the merged, scored order.
    let all = ids(c, "t", "hello", &[]);
    assert_eq!(ids(c, "t", "hello", &["LIMIT", "1", "2"]), all[1..3]);
    let Value::Array(v) = search(c, &["t", "hello", "LIMIT", "0", "0"]) else {
        panic!("count only")
    };
    assert_eq!(v, vec![Value::Int(4)]);
    // Scorers.
    for scorer in [
        "BM25",
        "BM25STD",
        "TFIDF",
        "TFIDF.DOCNORM",
        "DISMAX",
        "DOCSCORE",
    ] {
        let got = scored(c, "t", "hello", &["SCORER", scorer]);
        assert_eq!(got.len(), 4, "{scorer}");
        assert!(
            got.windows(2).all(|w| w[0].1 >= w[1].1),
            "{scorer}: {got:?}"
        );
    }
    let dismax = scored(c, "t", "hello", &["SCORER", "DISMAX"]);
    // DISMAX = weighted frequency: title (weight 2) hits score 2, body hits 1.
    assert_eq!(
        dismax.iter().map(|x| x.1).collect::<Vec<_>>(),
        [2.0, 2.0, 1.0, 1.0]
    );
    let docscore = scored(c, "t", "hello", &["SCORER", "DOCSCORE"]);
    assert!(docscore.iter().all(|x| x.1 == 1.0));
    assert_eq!(
        search_err(c, &["t", "hello", "SCORER", "NOPE"]),
        "No such scorer NOPE"
    );
    // EXPLAINSCORE: [score, [explanation...]] after each key.
    let Value::Array(v) = search(
        c,
        &["t", "goodbye", "WITHSCORES", "EXPLAINSCORE", "NOCONTENT"],
    ) else {
        panic!("explainscore")
    };
    assert_eq!(s(&v[1]), "d:3");
    let Value::Array(pair) = &v[2] else {
        panic!("explain pair: {v:?}")
    };
    assert!(s(&pair[0]).parse::<f64>().is_ok(), "{pair:?}");
    let text = format!("{:?}", pair[1]);
    assert!(
        text.contains("BM25STD") && text.contains("goodbye"),
        "{text}"
    );
    // Syntax errors keep RediSearch's text.
    let e = search_err(c, &["t", "hello ("]);
    assert!(e.starts_with("Syntax error at offset"), "{e}");
    assert_eq!(search_err(c, &["nosuch", "hello"]), "nosuch: no such index");
}

#[test]
fn highlight_summarize_and_explain() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    let c = &mut con;
    let Value::Array(v) = search(
        c,
        &[
            "t",
            "hello",
            "HIGHLIGHT",
            "FIELDS",
            "1",
            "title",
            "RETURN",
            "1",
            "n",
            "INKEYS",
            "1",
            "d:1",
        ],
    ) else {
        panic!("highlight")
    };
    // RETURN n plus the highlighted field.
    let fields: Vec<String> = match &v[2] {
        Value::Array(f) => f.iter().map(s).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(fields, ["n", "1", "title", "<b>hello</b> world"]);
    let Value::Array(v) = search(
        c,
        &[
            "t",
            "runs",
            "HIGHLIGHT",
            "TAGS",
            "[",
            "]",
            "INKEYS",
            "1",
            "d:2",
        ],
    ) else {
        panic!("highlight tags")
    };
    let fields: Vec<String> = match &v[2] {
        Value::Array(f) => f.iter().map(s).collect(),
        other => panic!("{other:?}"),
    };
    let body = fields
        .iter()
        .position(|f| f == "body")
        .map(|p| fields[p + 1].clone());
    assert_eq!(
        body.as_deref(),
        Some("[running] runners [run] far away from home")
    );
    let Value::Array(v) = search(
        c,
        &[
            "t",
            "dog",
            "SUMMARIZE",
            "FIELDS",
            "1",
            "body",
            "FRAGS",
            "1",
            "LEN",
            "4",
            "RETURN",
            "1",
            "body",
            "INKEYS",
            "1",
            "d:1",
        ],
    ) else {
        panic!("summarize")
    };
    let fields: Vec<String> = match &v[2] {
        Value::Array(f) => f.iter().map(s).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(fields, ["body", "over the lazy dog... "]);
    let Value::Array(v) = search(
        c,
        &[
            "t",
            "dog",
            "SUMMARIZE",
            "FIELDS",
            "1",
            "body",
            "FRAGS",
            "1",
            "LEN",
            "4",
            "SEPARATOR",
            " | ",
            "HIGHLIGHT",
            "RETURN",
            "1",
            "body",
            "INKEYS",
            "1",
            "d:1",
        ],
    ) else {
        panic!("summarize + highlight")
    };
    assert_eq!(
        s(&match &v[2] {
            Value::Array(f) => f[1].clone(),
            other => panic!("{other:?}"),
        }),
        "over the lazy <b>dog</b> | "
    );
    // FT.EXPLAIN / FT.EXPLAINCLI.
    let e = s(&ft(c, &["FT.EXPLAIN", "t", "@title:hello world -foo"]));
    assert_eq!(
        e,
        "INTERSECT {\n  @title:hello\n  world\n  NOT{\n    foo\n  }\n}\n"
    );
    let e = s(&ft(c, &["FT.EXPLAIN", "t", "running"]));
    assert_eq!(
        e,
        "UNION {\n  running\n  +run(expanded)\n  run(expanded)\n}\n"
    );
    let Value::Array(lines) = ft(c, &["FT.EXPLAINCLI", "t", "hello | \"big world\""]) else {
        panic!("explaincli")
    };
    let lines: Vec<String> = lines.iter().map(s).collect();
    assert_eq!(
        lines,
        [
            "UNION {",
            "  hello",
            "  EXACT {",
            "    big",
            "    world",
            "  }",
            "}"
        ]
    );
    let mut cmd = redis::cmd("FT.EXPLAIN");
    cmd.arg("nosuch").arg("x");
    let e = cmd.query::<Value>(c).expect_err("unknown index");
    assert_eq!(err_text(&e), "nosuch: no such index");
}

/// Two docs with the same content on different shards score the same, and that score is
/// BM25 computed by hand with the collection statistics of both shards together.
#[test]
fn scores_do_not_depend_on_the_shard() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    let c = &mut con;
    let same = keys_on_shards("x", 2, 2);
    for k in &same {
        hset(c, k, &[("t", "alpha beta")]);
    }
    // Three more docs, all on shard 0, so that the shards' local statistics differ a lot.
    let extra: Vec<String> = (100..)
        .map(|i| format!("x:{i}"))
        .filter(|k| shard_of(k.as_bytes(), 2) == 0)
        .take(3)
        .collect();
    for k in &extra {
        hset(c, k, &[("t", "alpha gamma delta")]);
    }
    ft(
        c,
        &["FT.CREATE", "s", "PREFIX", "1", "x:", "SCHEMA", "t", "TEXT"],
    );
    wait_docs(c, "s", 5);
    let got = scored(c, "s", "beta", &[]);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].1, got[1].1, "{got:?}");
    // N = 5, df = 2, |D| = 2, avgdl = (2 + 2 + 3 · 3) / 5, f = 1.
    let (n, df, dl, avgdl, f, k1, b) = (5.0f64, 2.0f64, 2.0, 13.0 / 5.0, 1.0, 1.2, 0.75);
    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    let want = idf * f * (k1 + 1.0) / (f + k1 * (1.0 - b + b * dl / avgdl));
    assert!((got[0].1 - want).abs() < 1e-9, "{} vs {want}", got[0].1);
    // The tie is broken by key.
    let mut keys = same.clone();
    keys.sort();
    assert_eq!(got.iter().map(|x| x.0.clone()).collect::<Vec<_>>(), keys);
    // A term on every doc: the shorter docs rank first.
    let got = scored(c, "s", "alpha", &[]);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].1, got[1].1);
    assert!(got[1].1 > got[2].1, "{got:?}");
}

#[test]
fn write_paths_hybrid_info_and_restart() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    let c = &mut con;
    let v = |x: f32| -> Vec<u8> { [x, 0.0].iter().flat_map(|f| f.to_le_bytes()).collect() };
    // Updates, deletes, expiry, rename.
    hset(
        c,
        "d:7",
        &[("title", "fresh news"), ("body", "zebra crossing")],
    );
    assert_eq!(set(c, "t", "zebra", &[]), ["d:7"]);
    hset(c, "d:7", &[("body", "giraffe crossing")]);
    assert_eq!(set(c, "t", "zebra", &[]), Vec::<String>::new());
    assert_eq!(set(c, "t", "giraffe", &[]), ["d:7"]);
    let _: i64 = redis::cmd("HDEL")
        .arg("d:7")
        .arg("body")
        .query(c)
        .expect("hdel");
    assert_eq!(set(c, "t", "giraffe", &[]), Vec::<String>::new());
    assert_eq!(set(c, "t", "fresh", &[]), ["d:7"]);
    let _: () = redis::cmd("RENAME")
        .arg("d:7")
        .arg("d:8")
        .query(c)
        .expect("rename");
    assert_eq!(set(c, "t", "fresh", &[]), ["d:8"]);
    let _: i64 = redis::cmd("DEL").arg("d:8").query(c).expect("del");
    assert_eq!(set(c, "t", "fresh", &[]), Vec::<String>::new());
    hset(c, "d:9", &[("title", "ephemeral")]);
    let _: i64 = redis::cmd("PEXPIRE")
        .arg("d:9")
        .arg(50)
        .query(c)
        .expect("pexpire");
    assert!(wait_until(Duration::from_secs(5), || set(
        c,
        "t",
        "ephemeral",
        &[]
    )
    .is_empty()));
    // FT.INFO's text figures.
    let terms: f64 = info_field(c, "t", "num_terms").parse().expect("num_terms");
    let records: f64 = info_field(c, "t", "num_records")
        .parse()
        .expect("num_records");
    assert!(terms > 40.0 && records > terms, "{terms} {records}");
    // Hybrid: KNN among text matches.
    ft(
        c,
        &[
            "FT.CREATE",
            "h",
            "PREFIX",
            "1",
            "h:",
            "SCHEMA",
            "t",
            "TEXT",
            "v",
            "VECTOR",
            "FLAT",
            "6",
            "TYPE",
            "FLOAT32",
            "DIM",
            "2",
            "DISTANCE_METRIC",
            "L2",
        ],
    );
    for i in 0..10 {
        let text = if i % 2 == 0 {
            "red apple"
        } else {
            "green pear"
        };
        let _: i64 = redis::cmd("HSET")
            .arg(format!("h:{i}"))
            .arg("t")
            .arg(text)
            .arg("v")
            .arg(v(i as f32))
            .query(c)
            .expect("hset");
    }
    wait_docs(c, "h", 10);
    let mut cmd = redis::cmd("FT.SEARCH");
    cmd.arg("h")
        .arg("(apple)=>[KNN 2 @v $B]")
        .arg("PARAMS")
        .arg(2)
        .arg("B")
        .arg(v(5.2))
        .arg("NOCONTENT")
        .arg("DIALECT")
        .arg(2);
    let r: Value = cmd.query(c).expect("hybrid");
    let Value::Array(items) = r else {
        panic!("hybrid")
    };
    assert_eq!(
        items.iter().skip(1).map(s).collect::<Vec<_>>(),
        ["h:6", "h:4"]
    );
    // Restart: the text index is rebuilt from the hashes.
    let before = ids(c, "t", "hello | world", &["WITHSCORES"]);
    let srv = srv.stop_restart(ARGS);
    let mut con = srv.client();
    wait_docs(&mut con, "t", DOCS.len());
    assert_eq!(ids(&mut con, "t", "hello | world", &["WITHSCORES"]), before);
}

const PY: &str = r#"
import sys
import redis
from redis.commands.search.field import TextField
from redis.commands.search.indexDefinition import IndexDefinition
from redis.commands.search.query import Query
r = redis.Redis(port=int(sys.argv[1]))
ft = r.ft("py")
ft.create_index([TextField("title", weight=2.0), TextField("body")],
                definition=IndexDefinition(prefix=["p:"]))
r.hset("p:1", mapping={"title": "Hello World", "body": "a greeting to the whole world"})
r.hset("p:2", mapping={"title": "Goodbye", "body": "the world says hello back"})
r.hset("p:3", mapping={"title": "Nothing", "body": "unrelated text"})
q = Query("hello").with_scores().highlight(fields=["title", "body"]).dialect(2)
res = ft.search(q)
assert res.total == 2, res
assert [d.id for d in res.docs] == ["p:1", "p:2"], res.docs
assert res.docs[0].title == "<b>Hello</b> World", res.docs[0]
assert res.docs[1].body == "the world says <b>hello</b> back", res.docs[1]
assert res.docs[0].score > res.docs[1].score > 0, res.docs
print("ft text redis-py ok")
"#;

#[test]
fn redis_py_text_query_with_highlight() {
    let python = common::venv::redis_py()
        .unwrap_or_else(|why| panic!("cannot run the redis-py text test: {why}"));
    let srv = Server::start(ARGS);
    common::venv::assert_python_ok(
        &python,
        PY,
        &[&srv.port().to_string()],
        "ft text redis-py ok",
    );
}

/// A lone word is served from its posting list with block-max pruned top-k (SPEC §3.7,
/// §9.5): its reply (total, keys, scores) equals the general path's, forced here by a NOT
/// leaf that removes nothing, on one shard (run inline) and on two (two-phase statistics).
#[test]
fn lone_word_top_k_equals_general_path() {
    for shards in ["1", "2"] {
        let srv = Server::start(&["--shards", shards]);
        let mut con = srv.client();
        let c = &mut con;
        let words = ["alpha", "beta", "gamma", "delta", "omega"];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut pipe = redis::pipe();
        for i in 0..700 {
            let mut body = Vec::new();
            let len = 3 + i % 17;
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Skewed picks: alpha in most docs, omega in few.
                let r = (x % 1000) as f64 / 1000.0;
                body.push(words[(r * r * words.len() as f64) as usize]);
            }
            let title = if i % 5 == 0 { "alpha" } else { "title" };
            pipe.hset_multiple(
                format!("p:{i}"),
                &[("title", title.to_string()), ("body", body.join(" "))],
            )
            .ignore();
        }
        let _: () = pipe.query(c).expect("load");
        ft(
            c,
            &[
                "FT.CREATE",
                "p",
                "PREFIX",
                "1",
                "p:",
                "SCHEMA",
                "title",
                "TEXT",
                "WEIGHT",
                "3",
                "body",
                "TEXT",
            ],
        );
        wait_docs(c, "p", 700);
        for w in ["alpha", "beta", "omega", "nosuchword"] {
            for limit in [["0", "10"], ["5", "20"], ["0", "0"]] {
                let mut args = vec!["p", w, "NOCONTENT", "WITHSCORES", "LIMIT"];
                args.extend_from_slice(&limit);
                let direct = search(c, &args);
                let general_q = format!("{w} -zzzz");
                args[1] = &general_q;
                let general = search(c, &args);
                assert_eq!(direct, general, "shards {shards}, {w}, LIMIT {limit:?}");
            }
        }
        let Value::Array(v) = search(c, &["p", "alpha", "NOCONTENT", "LIMIT", "0", "3"]) else {
            panic!("alpha")
        };
        assert!(s(&v[0]).parse::<u64>().unwrap() > 300, "{v:?}");
    }
}
