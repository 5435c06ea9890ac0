//! FT.SEARCH `HYBRID RRF` end to end (Moon's explicit hybrid ranking), on 2 shards and on 1:
//! the fused order and scores equal Reciprocal Rank Fusion computed here from the server's own
//! rankings (a plain text FT.SEARCH WITHSCORES for the BM25 order, a plain KNN FT.SEARCH for the
//! vector order), so the test does not depend on BM25 details; the RRF constant, WINDOW (a doc
//! outside one window gets only the other list's term), docs in one list only, LIMIT paging, a
//! tag filter restricting both lists, the KNN score field in the content, FT.PROFILE / FT.EXPLAIN
//! with HYBRID, errors, and identical replies on 1 and 2 shards.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::ft::{blob, text as s};
use common::{Server, wait_until};
use redis::{Connection, Value};

fn run(con: &mut Connection, args: &[&[u8]]) -> Value {
    common::ft::q(con, args)
}

fn run_err(con: &mut Connection, args: &[&[u8]]) -> String {
    common::ft::qerr(con, args)
}

const DOCS: usize = 30;
const DIM: usize = 4;
const QUERY: [f32; DIM] = [0.5, -1.0, 2.0, 0.25];

/// A deterministic pseudo-random vector per doc.
fn vector(i: usize) -> Vec<f32> {
    (0..DIM)
        .map(|d| {
            let x = (i * 7919 + d * 104_729 + 13) % 1000;
            x as f32 / 100.0 - 5.0
        })
        .collect()
}

/// Doc `i`'s text: "apple" (1 + i % 4 times) in docs with `i % 3 != 0`, padded with filler
/// words of varying count so BM25 scores spread.
fn body(i: usize) -> String {
    let mut words = Vec::new();
    if !i.is_multiple_of(3) {
        words.extend(std::iter::repeat_n("apple", 1 + i % 4));
    }
    let filler = ["pear", "plum", "fig", "kiwi", "lime", "date", "yuzu"];
    words.extend(filler.iter().take(1 + (i * 5) % 7));
    words.join(" ")
}

/// `(total, [(key, score)])` of a WITHSCORES NOCONTENT reply.
fn scored(v: &Value) -> (i64, Vec<(String, f64)>) {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    let Some(Value::Int(total)) = items.first() else {
        panic!("no total: {v:?}")
    };
    let rows = items[1..]
        .chunks(2)
        .map(|c| {
            let score: f64 = s(&c[1]).parse().unwrap_or_else(|_| panic!("score {c:?}"));
            (s(&c[0]), score)
        })
        .collect();
    (*total, rows)
}

/// Keys of a NOCONTENT reply.
fn keys(v: &Value) -> Vec<String> {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    items[1..].iter().map(s).collect()
}

fn setup(con: &mut Connection) {
    for i in 0..DOCS {
        let _: i64 = redis::cmd("HSET")
            .arg(format!("d:{i}"))
            .arg("body")
            .arg(body(i))
            .arg("cat")
            .arg(if i % 2 == 0 { "x" } else { "y" })
            .arg("v")
            .arg(blob(&vector(i)))
            .query(con)
            .expect("hset");
    }
    let _: () = redis::cmd("FT.CREATE")
        .arg("h")
        .arg("PREFIX")
        .arg(1)
        .arg("d:")
        .arg("SCHEMA")
        .arg("body")
        .arg("TEXT")
        .arg("cat")
        .arg("TAG")
        .arg("v")
        .arg("VECTOR")
        .arg("FLAT")
        .arg(6)
        .arg("TYPE")
        .arg("FLOAT32")
        .arg("DIM")
        .arg(DIM)
        .arg("DISTANCE_METRIC")
        .arg("L2")
        .query(con)
        .expect("FT.CREATE");
    let ok = wait_until(Duration::from_secs(20), || {
        let v = run(con, &[b"FT.SEARCH", b"h", b"*", b"LIMIT", b"0", b"0"]);
        matches!(&v, Value::Array(a) if a.first() == Some(&Value::Int(DOCS as i64)))
    });
    assert!(ok, "index never reached {DOCS} docs");
}

/// The server's text ranking (top `w`) of `text`.
fn text_list(con: &mut Connection, text: &str, w: usize) -> Vec<String> {
    let w = w.to_string();
    let v = run(
        con,
        &[
            b"FT.SEARCH",
            b"h",
            text.as_bytes(),
            b"WITHSCORES",
            b"NOCONTENT",
            b"LIMIT",
            b"0",
            w.as_bytes(),
        ],
    );
    scored(&v).1.into_iter().map(|(k, _)| k).collect()
}

/// The server's vector ranking (top `w`) among the docs `filter` (`*` or a parenthesized
/// filter) matches.
fn vec_list(con: &mut Connection, filter: &str, w: usize) -> Vec<String> {
    let q = format!("{filter}=>[KNN {w} @v $B]");
    let w = w.to_string();
    let b = blob(&QUERY);
    let v = run(
        con,
        &[
            b"FT.SEARCH",
            b"h",
            q.as_bytes(),
            b"NOCONTENT",
            b"LIMIT",
            b"0",
            w.as_bytes(),
            b"PARAMS",
            b"2",
            b"B",
            &b,
            b"DIALECT",
            b"2",
        ],
    );
    keys(&v)
}

/// RRF of two rankings: `Σ 1 / (c + rank)`, fused score descending then key.
fn rrf(text: &[String], vector: &[String], c: f64) -> Vec<(String, f64)> {
    let mut fused: HashMap<String, f64> = HashMap::new();
    for (r, k) in text.iter().enumerate() {
        *fused.entry(k.clone()).or_default() += 1.0 / (c + r as f64 + 1.0);
    }
    for (r, k) in vector.iter().enumerate() {
        *fused.entry(k.clone()).or_default() += 1.0 / (c + r as f64 + 1.0);
    }
    let mut out: Vec<(String, f64)> = fused.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// FT.SEARCH h "<text>=>[KNN k @v $B]" <extra...> WITHSCORES NOCONTENT PARAMS 2 B <blob>.
fn hybrid(con: &mut Connection, text: &str, k: usize, extra: &[&str]) -> (i64, Vec<(String, f64)>) {
    let q = format!("({text})=>[KNN {k} @v $B]");
    let b = blob(&QUERY);
    let mut args: Vec<&[u8]> = vec![b"FT.SEARCH", b"h", q.as_bytes()];
    args.extend(extra.iter().map(|a| a.as_bytes()));
    args.extend([&b"WITHSCORES"[..], b"NOCONTENT", b"PARAMS", b"2", b"B", &b]);
    scored(&run(con, &args))
}

fn assert_same(got: &[(String, f64)], want: &[(String, f64)], what: &str) {
    let gk: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    let wk: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(gk, wk, "{what}: order");
    for ((k, g), (_, w)) in got.iter().zip(want) {
        assert!(
            (g - w).abs() < 1e-12,
            "{what}: {k} scored {g}, expected {w}"
        );
    }
}

/// Runs every check on one server; returns the replies that must not depend on the shard count.
fn scenario(srv: &Server) -> Vec<Value> {
    let mut con = srv.client();
    setup(&mut con);
    let mut replies = Vec::new();
    for (c, w) in [(60.0, 10usize), (1.0, 5), (0.0, DOCS)] {
        let (tl, vl) = (text_list(&mut con, "apple", w), vec_list(&mut con, "*", w));
        let want = rrf(&tl, &vl, c);
        let (cs, ws) = (c.to_string(), w.to_string());
        let (total, got) = hybrid(
            &mut con,
            "apple",
            3,
            &["HYBRID", "RRF", &cs, "WINDOW", &ws, "LIMIT", "0", "100"],
        );
        assert_same(&got, &want, &format!("c={c} w={w}"));
        assert_eq!(total, want.len() as i64, "total = the union's size");
        // Paging slices the fused order (the total stays the union's size).
        let (total, page) = hybrid(
            &mut con,
            "apple",
            3,
            &["LIMIT", "2", "4", "HYBRID", "RRF", &cs, "WINDOW", &ws],
        );
        assert_eq!(total, want.len() as i64);
        let slice: Vec<(String, f64)> = want.iter().skip(2).take(4).cloned().collect();
        assert_same(&page, &slice, &format!("page c={c} w={w}"));
        if w == 5 {
            // The data exercises every case: docs in one list only, and a text match that
            // lies outside the text window but inside the vector one (vector term only).
            let all_text = text_list(&mut con, "apple", DOCS);
            assert!(tl.iter().any(|k| !vl.contains(k)), "a text-only doc");
            assert!(
                vl.iter().any(|k| !all_text.contains(k)),
                "a vector-only doc (no text match)"
            );
            assert!(
                vl.iter().any(|k| all_text.contains(k) && !tl.contains(k)),
                "a text match outside the text window: {all_text:?} {vl:?}"
            );
        }
    }
    // Defaults: constant 60, WINDOW max(k, offset + num) = 12 here.
    let want = rrf(
        &text_list(&mut con, "apple", 12),
        &vec_list(&mut con, "*", 12),
        60.0,
    );
    let (_, got) = hybrid(&mut con, "apple", 12, &["HYBRID", "RRF", "LIMIT", "0", "5"]);
    assert_same(&got, &want[..5], "defaults");
    // A tag filter restricts both lists; the text side is the whole query.
    let want = rrf(
        &text_list(&mut con, "apple @cat:{x}", 6),
        &vec_list(&mut con, "(@cat:{x})", 6),
        60.0,
    );
    let (total, got) = hybrid(
        &mut con,
        "apple @cat:{x}",
        6,
        &["HYBRID", "RRF", "60", "WINDOW", "6", "LIMIT", "0", "30"],
    );
    assert_same(&got, &want, "tag filter");
    assert_eq!(total, want.len() as i64);
    assert!(got.iter().all(|(k, _)| {
        let i: usize = k[2..].parse().unwrap_or(1);
        i.is_multiple_of(2)
    }));
    // Content: every returned doc carries its distance in the KNN's score field, whether it
    // came from the vector list or only from the text list.
    let dist: HashMap<String, String> = {
        let q = format!("*=>[KNN {DOCS} @v $B]");
        let b = blob(&QUERY);
        let v = run(
            &mut con,
            &[
                b"FT.SEARCH",
                b"h",
                q.as_bytes(),
                b"RETURN",
                b"1",
                b"__v_score",
                b"LIMIT",
                b"0",
                b"100",
                b"PARAMS",
                b"2",
                b"B",
                &b,
            ],
        );
        let Value::Array(items) = v else {
            panic!("array")
        };
        items[1..]
            .chunks(2)
            .map(|c| {
                let Value::Array(f) = &c[1] else {
                    panic!("fields {c:?}")
                };
                (s(&c[0]), s(&f[1]))
            })
            .collect()
    };
    let q = "(apple)=>[KNN 4 @v $B AS dist]";
    let b = blob(&QUERY);
    let v = run(
        &mut con,
        &[
            b"FT.SEARCH",
            b"h",
            q.as_bytes(),
            b"HYBRID",
            b"RRF",
            b"WINDOW",
            b"4",
            b"RETURN",
            b"2",
            b"dist",
            b"cat",
            b"LIMIT",
            b"0",
            b"100",
            b"PARAMS",
            b"2",
            b"B",
            &b,
        ],
    );
    let Value::Array(items) = &v else {
        panic!("array {v:?}")
    };
    let rows: Vec<(String, Vec<String>)> = items[1..]
        .chunks(2)
        .map(|c| match &c[1] {
            Value::Array(f) => (s(&c[0]), f.iter().map(s).collect()),
            other => panic!("fields {other:?}"),
        })
        .collect();
    let tl = text_list(&mut con, "apple", 4);
    let vl = vec_list(&mut con, "*", 4);
    let want_keys: Vec<String> = rrf(&tl, &vl, 60.0).into_iter().map(|(k, _)| k).collect();
    let got_keys: Vec<String> = rows.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(got_keys, want_keys);
    for (k, f) in &rows {
        let cat = if k[2..].parse::<usize>().unwrap_or(1) % 2 == 0 {
            "x"
        } else {
            "y"
        };
        assert_eq!(
            f,
            &vec![
                "dist".to_string(),
                dist[k].clone(),
                "cat".into(),
                cat.into()
            ],
            "{k}"
        );
    }
    replies.push(v);
    // LIMIT 0 0: the count only.
    let q = "(apple)=>[KNN 5 @v $B]";
    let v = run(
        &mut con,
        &[
            b"FT.SEARCH",
            b"h",
            q.as_bytes(),
            b"HYBRID",
            b"RRF",
            b"LIMIT",
            b"0",
            b"0",
            b"PARAMS",
            b"2",
            b"B",
            &b,
        ],
    );
    let union = rrf(
        &text_list(&mut con, "apple", 5),
        &vec_list(&mut con, "*", 5),
        60.0,
    )
    .len();
    assert_eq!(v, Value::Array(vec![Value::Int(union as i64)]));
    // Replies compared across shard counts.
    for extra in [
        &["HYBRID", "RRF"][..],
        &["HYBRID", "RRF", "2", "WINDOW", "20"],
    ] {
        let mut args: Vec<&[u8]> = vec![b"FT.SEARCH", b"h", q.as_bytes()];
        args.extend(extra.iter().map(|a| a.as_bytes()));
        args.extend([
            &b"WITHSCORES"[..],
            b"LIMIT",
            b"0",
            b"50",
            b"PARAMS",
            b"2",
            b"B",
            &b,
        ]);
        replies.push(run(&mut con, &args));
    }
    // FT.EXPLAIN accepts the option (it explains the query).
    let e = run(
        &mut con,
        &[
            b"FT.EXPLAIN",
            b"h",
            q.as_bytes(),
            b"HYBRID",
            b"RRF",
            b"PARAMS",
            b"2",
            b"B",
            &b,
        ],
    );
    assert!(s(&e).contains("K=5 nearest vectors"), "{e:?}");
    // FT.PROFILE runs it and names the fusion.
    let p = run(
        &mut con,
        &[
            b"FT.PROFILE",
            b"h",
            b"SEARCH",
            b"QUERY",
            q.as_bytes(),
            b"HYBRID",
            b"RRF",
            b"NOCONTENT",
            b"PARAMS",
            b"2",
            b"B",
            &b,
        ],
    );
    assert!(format!("{p:?}").contains("Hybrid RRF"), "{p:?}");
    let want = rrf(
        &text_list(&mut con, "apple", 8),
        &vec_list(&mut con, "*", 8),
        60.0,
    );
    resp3(srv, &want);
    errors(&mut con);
    replies
}

/// RESP3: each result's `score` is the fused score as a double.
fn resp3(srv: &Server, want: &[(String, f64)]) {
    let mut con = srv.client_resp3();
    let q = "(apple)=>[KNN 8 @v $B]";
    let b = blob(&QUERY);
    let v = run(
        &mut con,
        &[
            b"FT.SEARCH",
            b"h",
            q.as_bytes(),
            b"HYBRID",
            b"RRF",
            b"WINDOW",
            b"8",
            b"WITHSCORES",
            b"NOCONTENT",
            b"LIMIT",
            b"0",
            b"100",
            b"PARAMS",
            b"2",
            b"B",
            &b,
        ],
    );
    let get = |m: &Value, name: &str| -> Value {
        let Value::Map(pairs) = m else {
            panic!("not a map: {m:?}")
        };
        pairs
            .iter()
            .find(|(k, _)| s(k) == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in {m:?}"))
    };
    assert_eq!(get(&v, "total_results"), Value::Int(want.len() as i64));
    let Value::Array(results) = get(&v, "results") else {
        panic!("results {v:?}")
    };
    let got: Vec<(String, f64)> = results
        .iter()
        .map(|r| match get(r, "score") {
            Value::Double(d) => (s(&get(r, "id")), d),
            other => panic!("score {other:?}"),
        })
        .collect();
    assert_same(&got, want, "RESP3");
}

fn errors(con: &mut Connection) {
    let b = blob(&QUERY);
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "apple",
            &["HYBRID", "RRF"],
            "HYBRID requires a KNN clause (`(text)=>[KNN ...]`)",
        ),
        (
            "*=>[KNN 3 @v $B]",
            &["HYBRID", "RRF"],
            "HYBRID requires text terms before `=>[KNN ...]`",
        ),
        (
            "(@cat:{x})=>[KNN 3 @v $B]",
            &["HYBRID", "RRF"],
            "HYBRID requires text terms before `=>[KNN ...]`",
        ),
        (
            "(apple)=>[KNN 3 @v $B]",
            &["HYBRID", "LINEAR"],
            "Unknown HYBRID method `LINEAR` (only RRF is supported)",
        ),
        (
            "(apple)=>[KNN 3 @v $B]",
            &["HYBRID", "RRF", "-1"],
            "HYBRID RRF constant must be a non-negative number",
        ),
        (
            "(apple)=>[KNN 3 @v $B]",
            &["HYBRID", "RRF", "WINDOW", "0"],
            "Bad arguments for WINDOW: Value is outside acceptable bounds",
        ),
        (
            "(apple)=>[KNN 3 @v $B]",
            &["HYBRID", "RRF", "SORTBY", "cat"],
            "SORTBY is not allowed with HYBRID (results are ordered by fused rank)",
        ),
        (
            "(apple)=>[KNN 3 @v $B]",
            &["HYBRID", "RRF", "HYBRID", "RRF"],
            "Multiple HYBRID options are not allowed",
        ),
        (
            "(apple)=>[KNN 3 @nope $B]",
            &["HYBRID", "RRF"],
            "Unknown field `nope`",
        ),
    ];
    for (query, extra, want) in cases {
        let mut args: Vec<&[u8]> = vec![b"FT.SEARCH", b"h", query.as_bytes()];
        args.extend(extra.iter().map(|a| a.as_bytes()));
        args.extend([&b"PARAMS"[..], b"2", b"B", &b]);
        assert_eq!(run_err(con, &args), *want, "{query} {extra:?}");
    }
}

#[test]
fn hybrid_rrf_on_two_shards_and_one() {
    let two = Server::start(&["--shards", "2"]);
    let r2 = scenario(&two);
    drop(two);
    let one = Server::start(&["--shards", "1"]);
    let r1 = scenario(&one);
    assert_eq!(r1, r2, "replies differ between 1 and 2 shards");
}
