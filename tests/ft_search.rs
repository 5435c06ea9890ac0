//! FT.SEARCH end to end (`--shards 2`, documents on both shards): KNN results equal a
//! brute-force computation over the same vectors (L2, IP, COSINE; FLAT and HNSW), KNN with
//! TAG and NUMERIC prefilters, vector range queries, TAG/NUMERIC/boolean filters,
//! NOCONTENT/RETURN/WITHSCORES/LIMIT/SORTBY, errors, updates and deletes, the index rebuilt
//! after a restart, and redis-py's `Query(...)` parsing the reply.

mod common;

use std::time::Duration;

use common::ft::{blob, q, text as s};
use common::{Server, err_text, wait_until};
use redis::{Connection, Value};

const ARGS: &[&str] = &["--shards", "2"];
const DIM: usize = 4;
const DOCS: usize = 40;

/// A deterministic pseudo-random vector per doc.
fn vector(i: usize) -> Vec<f32> {
    (0..DIM)
        .map(|d| {
            let x = (i * 7919 + d * 104_729 + 13) % 1000;
            x as f32 / 100.0 - 5.0
        })
        .collect()
}

fn score(metric: &str, a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    match metric {
        "L2" => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
        "IP" => 1.0 - dot,
        _ => {
            let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
            let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
            1.0 - dot / (na * nb)
        }
    }
}

fn search(con: &mut Connection, args: &[&[u8]]) -> Value {
    let mut c = redis::cmd("FT.SEARCH");
    for a in args {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("FT.SEARCH {:?} failed: {e}", lossy(args)))
}

fn search_err(con: &mut Connection, args: &[&[u8]]) -> String {
    let mut c = redis::cmd("FT.SEARCH");
    for a in args {
        c.arg(*a);
    }
    match c.query::<Value>(con) {
        Ok(v) => panic!("{:?} answered {v:?}, expected an error", lossy(args)),
        Err(e) => err_text(&e),
    }
}

fn lossy(args: &[&[u8]]) -> Vec<String> {
    args.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// `(total, [(key, [field, value, ...])])` of a reply with content.
fn parse(v: &Value) -> (i64, Vec<(String, Vec<String>)>) {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    let Some(Value::Int(total)) = items.first() else {
        panic!("no total: {v:?}")
    };
    let rows = items[1..]
        .chunks(2)
        .map(|c| {
            let fields = match c.get(1) {
                Some(Value::Array(f)) => f.iter().map(s).collect(),
                other => panic!("no fields: {other:?}"),
            };
            (s(&c[0]), fields)
        })
        .collect();
    (*total, rows)
}

/// Keys only (NOCONTENT).
fn keys(v: &Value) -> (i64, Vec<String>) {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    let Some(Value::Int(total)) = items.first() else {
        panic!("no total: {v:?}")
    };
    (*total, items[1..].iter().map(s).collect())
}

fn field<'a>(fields: &'a [String], name: &str) -> Option<&'a str> {
    fields
        .chunks(2)
        .find(|c| c[0] == name)
        .map(|c| c[1].as_str())
}

fn wait_indexed(con: &mut Connection, idx: &str, want: usize) {
    let ok = wait_until(Duration::from_secs(20), || {
        let v = search(con, &[idx.as_bytes(), b"*", b"LIMIT", b"0", b"0"]);
        keys(&v).0 == want as i64
    });
    assert!(ok, "{idx} never reached {want} docs");
}

/// Loads `DOCS` docs `d:i` with tag `g` = even/odd, `n` = i, `v` = vector(i).
fn load(con: &mut Connection) {
    for i in 0..DOCS {
        let mut c = redis::cmd("HSET");
        c.arg(format!("d:{i}"))
            .arg("g")
            .arg(if i % 2 == 0 { "Even" } else { "odd" })
            .arg("n")
            .arg(i)
            .arg("v")
            .arg(blob(&vector(i)));
        let _: i64 = c.query(con).expect("hset");
    }
}

fn create(con: &mut Connection, name: &str, algo: &str, metric: &str) {
    let dim = DIM.to_string();
    q(
        con,
        &[
            "FT.CREATE",
            name,
            "PREFIX",
            "1",
            "d:",
            "SCHEMA",
            "g",
            "TAG",
            "n",
            "NUMERIC",
            "SORTABLE",
            "v",
            "VECTOR",
            algo,
            "6",
            "TYPE",
            "FLOAT32",
            "DIM",
            &dim,
            "DISTANCE_METRIC",
            metric,
        ],
    );
}

/// The expected KNN keys: brute force over the docs `allowed` keeps.
fn expected(metric: &str, query: &[f32], k: usize, allowed: impl Fn(usize) -> bool) -> Vec<String> {
    let mut all: Vec<(f32, String)> = (0..DOCS)
        .filter(|i| allowed(*i))
        .map(|i| (score(metric, &vector(i), query), format!("d:{i}")))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    all.into_iter().take(k).map(|(_, k)| k).collect()
}

#[test]
fn knn_matches_brute_force() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    let query = [0.3f32, -1.2, 2.5, 0.7];
    let qb = blob(&query);
    for algo in ["FLAT", "HNSW"] {
        for metric in ["L2", "IP", "COSINE"] {
            let name = format!("i_{algo}_{metric}");
            create(&mut con, &name, algo, metric);
            wait_indexed(&mut con, &name, DOCS);
            let n = name.as_bytes();
            // HNSW is approximate: a wide beam makes it exact on 40 docs.
            let ef = if algo == "HNSW" {
                " EF_RUNTIME 100"
            } else {
                ""
            };
            let q1 = format!("*=>[KNN 5 @v $B{ef}]");
            let q2 = format!("(@g:{{even}})=>[KNN 4 @v $B{ef} AS dist]");
            let q3 = format!("@n:[10 (20]=>[KNN 3 @v $B{ef}]");
            // Plain KNN, the score field and its value.
            let v = search(
                &mut con,
                &[
                    n,
                    q1.as_bytes(),
                    b"PARAMS",
                    b"2",
                    b"B",
                    &qb,
                    b"DIALECT",
                    b"2",
                ],
            );
            let (total, rows) = parse(&v);
            assert_eq!(total, 5, "{name}");
            let got: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            assert_eq!(got, expected(metric, &query, 5, |_| true), "{name}");
            for (key, fields) in &rows {
                let i: usize = key[2..].parse().expect("doc number");
                let want = score(metric, &vector(i), &query);
                let got: f32 = field(fields, "__v_score")
                    .expect("score field")
                    .parse()
                    .expect("score number");
                assert!((got - want).abs() < 1e-3, "{name} {key}: {got} vs {want}");
                assert_eq!(field(fields, "n"), Some(i.to_string().as_str()));
            }
            // TAG prefilter, alias, RETURN.
            let v = search(
                &mut con,
                &[
                    n,
                    q2.as_bytes(),
                    b"PARAMS",
                    b"2",
                    b"B",
                    &qb,
                    b"RETURN",
                    b"2",
                    b"dist",
                    b"n",
                ],
            );
            let (total, rows) = parse(&v);
            assert_eq!(total, 4);
            let got: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            assert_eq!(got, expected(metric, &query, 4, |i| i % 2 == 0), "{name}");
            assert!(rows.iter().all(|r| r.1.len() == 4 && r.1[0] == "dist"));
            // NUMERIC prefilter.
            let v = search(
                &mut con,
                &[n, q3.as_bytes(), b"PARAMS", b"2", b"B", &qb, b"NOCONTENT"],
            );
            let (total, got) = keys(&v);
            assert_eq!(total, 3);
            assert_eq!(got, expected(metric, &query, 3, |i| (10..20).contains(&i)));
        }
    }
}

#[test]
fn filters_options_range_and_errors() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con);
    create(&mut con, "idx", "FLAT", "L2");
    wait_indexed(&mut con, "idx", DOCS);
    let i = b"idx".as_slice();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let all_keys = |f: &dyn Fn(usize) -> bool| {
        sorted(
            (0..DOCS)
                .filter(|i| f(*i))
                .map(|i| format!("d:{i}"))
                .collect(),
        )
    };
    // Wildcard: total, key order, default LIMIT 10.
    let (total, got) = keys(&search(&mut con, &[i, b"*", b"NOCONTENT"]));
    assert_eq!(total, DOCS as i64);
    assert_eq!(got, all_keys(&|_| true)[..10]);
    // TAG is case-insensitive by default; OR, NOT, numeric bounds.
    let (total, _) = keys(&search(&mut con, &[i, b"@g:{EVEN}", b"NOCONTENT"]));
    assert_eq!(total, 20);
    let (total, got) = keys(&search(&mut con, &[i, b"@n:[(5 8]", b"NOCONTENT"]));
    assert_eq!((total, got), (3, all_keys(&|i| i > 5 && i <= 8)));
    let (total, got) = keys(&search(
        &mut con,
        &[
            i,
            b"@n:[-inf 3] | @n:[37 +inf]",
            b"NOCONTENT",
            b"LIMIT",
            b"0",
            b"100",
        ],
    ));
    assert_eq!((total, got), (7, all_keys(&|i| !(4..37).contains(&i))));
    let (total, got) = keys(&search(
        &mut con,
        &[
            i,
            b"@g:{odd} -@n:[0 30]",
            b"NOCONTENT",
            b"LIMIT",
            b"0",
            b"100",
        ],
    ));
    assert_eq!((total, got), (5, all_keys(&|i| i % 2 == 1 && i > 30)));
    // SORTBY numeric DESC with LIMIT offset, RETURN with AS.
    let v = search(
        &mut con,
        &[
            i,
            b"@g:{odd}",
            b"SORTBY",
            b"n",
            b"DESC",
            b"LIMIT",
            b"1",
            b"2",
            b"RETURN",
            b"3",
            b"n",
            b"AS",
            b"num",
        ],
    );
    let (total, rows) = parse(&v);
    assert_eq!(total, 20);
    assert_eq!(
        rows,
        vec![
            (
                "d:37".to_string(),
                vec!["num".to_string(), "37".to_string()]
            ),
            (
                "d:35".to_string(),
                vec!["num".to_string(), "35".to_string()]
            ),
        ]
    );
    // LIMIT 0 0: the count only.
    assert_eq!(
        search(&mut con, &[i, b"@g:{even}", b"LIMIT", b"0", b"0"]),
        Value::Array(vec![Value::Int(20)])
    );
    // WITHSCORES: key, score, fields.
    let Value::Array(items) = search(
        &mut con,
        &[i, b"@n:[3 3]", b"WITHSCORES", b"RETURN", b"1", b"n"],
    ) else {
        panic!("array")
    };
    assert_eq!(items.len(), 4);
    assert_eq!(s(&items[1]), "d:3");
    assert!(s(&items[2]).parse::<f64>().is_ok());
    // Vector range with the distance yielded.
    let query = vector(7);
    let qb = blob(&query);
    let v = search(
        &mut con,
        &[
            i,
            b"@v:[VECTOR_RANGE 30 $B]=>{$YIELD_DISTANCE_AS: d}",
            b"PARAMS",
            b"2",
            b"B",
            &qb,
            b"LIMIT",
            b"0",
            b"100",
        ],
    );
    let (total, rows) = parse(&v);
    let want = all_keys(&|j| score("L2", &vector(j), &query) <= 30.0);
    assert_eq!(total as usize, want.len());
    assert_eq!(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), want);
    assert!(rows.iter().all(|r| field(&r.1, "d").is_some()));
    // A field the schema lacks matches nothing (RediSearch 2.8), a wrongly typed one errs.
    let (total, _) = keys(&search(&mut con, &[i, b"@nope:{a}", b"NOCONTENT"]));
    assert_eq!(total, 0);
    assert!(search_err(&mut con, &[i, b"@n:{a}"]).contains("is not a TAG field"));
    // Errors.
    assert_eq!(
        search_err(&mut con, &[b"nope", b"*"]),
        "nope: no such index"
    );
    assert!(search_err(&mut con, &[i, b"@g:{a"]).starts_with("Syntax error"));
    // A text query on an index without TEXT fields matches nothing (see tests/ft_text.rs).
    assert_eq!(keys(&search(&mut con, &[i, b"hello", b"NOCONTENT"])).0, 0);
    assert!(
        search_err(
            &mut con,
            &[i, b"*=>[KNN 2 @v $B]", b"PARAMS", b"2", b"B", b"xx"]
        )
        .contains("blob size")
    );
    // Updates and deletes are reflected.
    q(&mut con, &["HSET", "d:3", "g", "even"]);
    q(&mut con, &["DEL", "d:4"]);
    let (total, _) = keys(&search(&mut con, &[i, b"@g:{even}", b"NOCONTENT"]));
    assert_eq!(total, 20);
    let v = search(
        &mut con,
        &[
            i,
            b"*=>[KNN 1 @v $B]",
            b"PARAMS",
            b"2",
            b"B",
            &blob(&vector(4)),
            b"NOCONTENT",
        ],
    );
    assert_ne!(keys(&v).1, vec!["d:4".to_string()]);
    let mut c = redis::cmd("HSET");
    c.arg("d:5").arg("v").arg(blob(&vector(4)));
    let _: i64 = c.query(&mut con).expect("hset");
    let v = search(
        &mut con,
        &[
            i,
            b"*=>[KNN 1 @v $B]",
            b"PARAMS",
            b"2",
            b"B",
            &blob(&vector(4)),
            b"NOCONTENT",
        ],
    );
    assert_eq!(keys(&v), (1, vec!["d:5".to_string()]));
    // A wrong-length blob is an indexing failure: the doc leaves the index.
    q(&mut con, &["HSET", "d:6", "v", "short"]);
    let (total, _) = keys(&search(&mut con, &[i, b"*", b"LIMIT", b"0", b"0"]));
    assert_eq!(total, DOCS as i64 - 2);
}

#[test]
fn index_rebuilt_after_restart() {
    let args = ["--shards", "2", "--appendonly", "yes"];
    let srv = Server::start(&args);
    let mut con = srv.client();
    create(&mut con, "r", "HNSW", "L2");
    load(&mut con);
    let query = [1.0f32, 2.0, -3.0, 0.5];
    let qb = blob(&query);
    let before = search(
        &mut con,
        &[
            b"r",
            b"*=>[KNN 6 @v $B]",
            b"PARAMS",
            b"2",
            b"B",
            &qb,
            b"NOCONTENT",
        ],
    );
    assert_eq!(keys(&before).1, expected("L2", &query, 6, |_| true));
    let srv = srv.crash_restart(&args);
    let mut con = srv.client();
    wait_indexed(&mut con, "r", DOCS);
    let after = search(
        &mut con,
        &[
            b"r",
            b"*=>[KNN 6 @v $B]",
            b"PARAMS",
            b"2",
            b"B",
            &qb,
            b"NOCONTENT",
        ],
    );
    assert_eq!(after, before);
}

const PY: &str = r#"
import struct, sys
import redis
from redis.commands.search.field import TagField, NumericField, VectorField
from redis.commands.search.indexDefinition import IndexDefinition
from redis.commands.search.query import Query
r = redis.Redis(port=int(sys.argv[1]))
ft = r.ft("py")
ft.create_index(
    [TagField("g"), NumericField("n"),
     VectorField("v", "HNSW", {"TYPE": "FLOAT32", "DIM": 2, "DISTANCE_METRIC": "L2"})],
    definition=IndexDefinition(prefix=["p:"]))
for i in range(10):
    r.hset(f"p:{i}", mapping={"g": "a" if i % 2 else "b", "n": i, "v": struct.pack("<2f", i, 0)})
q = Query("(@g:{a})=>[KNN 2 @v $vec AS dist]").return_fields("dist", "n").sort_by("dist").dialect(2)
res = ft.search(q, query_params={"vec": struct.pack("<2f", 4.2, 0)})
assert res.total == 2, res
assert [d.id for d in res.docs] == ["p:5", "p:3"], res.docs
assert res.docs[0].n == "5" and abs(float(res.docs[0].dist) - 0.64) < 1e-3, res.docs
res = ft.search(Query("@n:[2 4]").no_content().dialect(2))
assert res.total == 3 and sorted(d.id for d in res.docs) == ["p:2", "p:3", "p:4"], res.docs
print("ft search redis-py ok")
"#;

#[test]
fn redis_py_parses_search_replies() {
    let python = common::venv::redis_py()
        .unwrap_or_else(|why| panic!("cannot run the redis-py FT.SEARCH test: {why}"));
    let srv = Server::start(ARGS);
    common::venv::assert_python_ok(
        &python,
        PY,
        &[&srv.port().to_string()],
        "ft search redis-py ok",
    );
}

#[test]
fn resp3_map_and_single_shard() {
    let srv = Server::start(&["--shards", "1"]);
    let mut con2 = srv.client();
    load(&mut con2);
    create(&mut con2, "m", "FLAT", "L2");
    wait_indexed(&mut con2, "m", DOCS);
    let mut con = srv.client_resp3();
    let qb = blob(&vector(3));
    let v = search(
        &mut con,
        &[
            b"m",
            b"*=>[KNN 2 @v $B]",
            b"PARAMS",
            b"2",
            b"B",
            &qb,
            b"RETURN",
            b"1",
            b"n",
            b"WITHSCORES",
        ],
    );
    let Value::Map(top) = v else {
        panic!("RESP3 FT.SEARCH is not a map: {v:?}")
    };
    let names: Vec<String> = top.iter().map(|(k, _)| s(k)).collect();
    assert_eq!(
        names,
        [
            "attributes",
            "format",
            "results",
            "total_results",
            "warning"
        ]
    );
    assert_eq!(top[3].1, Value::Int(2));
    let Value::Array(results) = &top[2].1 else {
        panic!("results: {top:?}")
    };
    let Value::Map(first) = &results[0] else {
        panic!("result: {results:?}")
    };
    let entry: Vec<String> = first.iter().map(|(k, _)| s(k)).collect();
    assert_eq!(entry, ["id", "score", "extra_attributes", "values"]);
    assert_eq!(s(&first[0].1), "d:3");
    assert_eq!(
        first[2].1,
        Value::Map(vec![(
            Value::BulkString(b"n".to_vec()),
            Value::BulkString(b"3".to_vec())
        )])
    );
    // RESP2 on the same single-shard server.
    let (total, got) = keys(&search(&mut con2, &[b"m", b"@n:[1 2]", b"NOCONTENT"]));
    assert_eq!(
        (total, got),
        (2, vec!["d:1".to_string(), "d:2".to_string()])
    );
}
