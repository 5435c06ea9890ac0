//! Vector search quality end to end (`--shards 2`): recall@10 of FT.SEARCH KNN at Moon's default
//! HNSW parameters against a brute force computed here, FT.INFO's per-vector-field figures
//! (indexed vectors, memory per vector, estimated recall, the KNN 10 beam), and FT.PROFILE's
//! reply shape.

mod common;

use std::time::Duration;

use common::ft::{blob, text as s};
use common::{Server, wait_until};
use redis::{Connection, Value};

const ARGS: &[&str] = &["--shards", "2"];
const DIM: usize = 48;
const DOCS: usize = 6000;
const QUERIES: usize = 40;
const K: usize = 10;

/// A small seeded generator (SplitMix64 + Box–Muller) so the data needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f32 {
        let (u, v) = (self.unit(), self.unit());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// Clustered vectors like embeddings: 30 centres, each point = centre + a linear image of an
/// 8-dimensional Gaussian latent + small noise (i.i.d. Gaussian data has no neighbourhood
/// structure for any ANN index to exploit). Rows `0..n` are the base set, the rest queries.
fn dataset(n: usize) -> Vec<Vec<f32>> {
    let mut r = Rng(42);
    let centres: Vec<Vec<f32>> = (0..30)
        .map(|_| (0..DIM).map(|_| r.gauss() * 2.0).collect())
        .collect();
    let map: Vec<Vec<f32>> = (0..DIM)
        .map(|_| (0..8).map(|_| r.gauss() * 0.5).collect())
        .collect();
    (0..n)
        .map(|i| {
            let c = &centres[(r.next() % 30) as usize];
            let z: Vec<f32> = (0..8).map(|_| r.gauss()).collect();
            let _ = i;
            (0..DIM)
                .map(|d| {
                    let lat: f32 = map[d].iter().zip(&z).map(|(a, b)| a * b).sum();
                    c[d] + lat + r.gauss() * 0.05
                })
                .collect()
        })
        .collect()
}

fn l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Loads the base rows as `v:<i>` hashes with pipelines and creates the index with only the
/// required vector attributes (TYPE, DIM, DISTANCE_METRIC): Moon's defaults for the rest.
fn load(con: &mut Connection, base: &[Vec<f32>]) {
    for chunk in base.chunks(500).enumerate() {
        let (c, rows) = chunk;
        let mut p = redis::pipe();
        for (j, v) in rows.iter().enumerate() {
            p.cmd("HSET")
                .arg(format!("v:{}", c * 500 + j))
                .arg("e")
                .arg(blob(v))
                .ignore();
        }
        let () = p.query(con).expect("hset pipeline");
    }
    let () = redis::cmd("FT.CREATE")
        .arg("idx")
        .arg("PREFIX")
        .arg(1)
        .arg("v:")
        .arg("SCHEMA")
        .arg("e")
        .arg("VECTOR")
        .arg("HNSW")
        .arg(6)
        .arg("TYPE")
        .arg("FLOAT32")
        .arg("DIM")
        .arg(DIM)
        .arg("DISTANCE_METRIC")
        .arg("L2")
        .query(con)
        .expect("FT.CREATE");
    let ok = wait_until(Duration::from_secs(120), || {
        let v: Value = redis::cmd("FT.SEARCH")
            .arg("idx")
            .arg("*")
            .arg("LIMIT")
            .arg(0)
            .arg(0)
            .query(con)
            .expect("count");
        matches!(&v, Value::Array(a) if a.first() == Some(&Value::Int(base.len() as i64)))
    });
    assert!(ok, "index never reached {} docs", base.len());
}

fn knn_keys(con: &mut Connection, q: &[f32], extra: &str) -> Vec<String> {
    let query = format!("*=>[KNN {K} @e $B{extra}]");
    let v: Value = redis::cmd("FT.SEARCH")
        .arg("idx")
        .arg(query)
        .arg("PARAMS")
        .arg(2)
        .arg("B")
        .arg(blob(q))
        .arg("NOCONTENT")
        .arg("DIALECT")
        .arg(2)
        .query(con)
        .expect("KNN");
    let Value::Array(a) = v else {
        panic!("reply {v:?}")
    };
    a.iter().skip(1).map(s).collect()
}

fn truth(base: &[Vec<f32>], q: &[f32]) -> Vec<String> {
    let mut d: Vec<(f32, usize)> = base
        .iter()
        .enumerate()
        .map(|(i, v)| (l2(v, q), i))
        .collect();
    d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    d.iter().take(K).map(|(_, i)| format!("v:{i}")).collect()
}

fn mean_recall(con: &mut Connection, base: &[Vec<f32>], qs: &[Vec<f32>], extra: &str) -> f64 {
    let mut total = 0.0;
    for q in qs {
        let got = knn_keys(con, q, extra);
        let want = truth(base, q);
        total += want.iter().filter(|k| got.contains(k)).count() as f64 / K as f64;
    }
    total / qs.len() as f64
}

/// The key/value pairs of the vector field's FT.INFO `attributes` entry.
fn vector_attributes(con: &mut Connection) -> Vec<(String, String)> {
    let info: Value = redis::cmd("FT.INFO")
        .arg("idx")
        .query(con)
        .expect("FT.INFO");
    let Value::Array(top) = info else {
        panic!("FT.INFO {info:?}")
    };
    let pos = top
        .iter()
        .position(|v| s(v) == "attributes")
        .expect("attributes");
    let Some(Value::Array(attrs)) = top.get(pos + 1) else {
        panic!("attributes {top:?}")
    };
    let Some(Value::Array(field)) = attrs.first() else {
        panic!("no field {attrs:?}")
    };
    field
        .chunks(2)
        .map(|p| (s(&p[0]), p.get(1).map(s).unwrap_or_default()))
        .collect()
}

#[test]
fn recall_at_default_parameters_and_info() {
    let all = dataset(DOCS + QUERIES);
    let (base, qs) = all.split_at(DOCS);
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    load(&mut con, base);
    let r = mean_recall(&mut con, base, qs, "");
    assert!(r >= 0.95, "recall@10 at the default parameters: {r}");
    // RediSearch's default beam (EF_RUNTIME 10 = k) asked explicitly is honoured: recall
    // cannot be better than with the default, larger beam.
    let r10 = mean_recall(&mut con, base, qs, " EF_RUNTIME 10");
    assert!(r10 <= r + 0.02, "EF_RUNTIME 10 {r10} vs default {r}");

    let attrs = vector_attributes(&mut con);
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} missing in {attrs:?}"))
    };
    assert_eq!(get("ef_runtime"), "10");
    assert_eq!(get("knn10_beam"), "40");
    assert_eq!(get("indexed_vectors"), DOCS.to_string());
    let bpv: f64 = get("memory_per_vector").parse().expect("bytes per vector");
    // 48 f32 + the level-0 list (2 + 32 × 3 bytes) + upper links, levels and id maps.
    assert!(
        (DIM as f64 * 4.0 + 98.0..DIM as f64 * 4.0 + 140.0).contains(&bpv),
        "{bpv}"
    );
    let est: f64 = get("estimated_recall_at_10").parse().expect("recall");
    assert!((0.9..=1.0).contains(&est), "estimated recall {est}");
}

/// A small index for FT.PROFILE: 20 docs `p:i`, tag `g` = a/b, vector (i, 0).
fn small(con: &mut Connection) {
    let () = redis::cmd("FT.CREATE")
        .arg("p")
        .arg("PREFIX")
        .arg(1)
        .arg("p:")
        .arg("SCHEMA")
        .arg("g")
        .arg("TAG")
        .arg("v")
        .arg("VECTOR")
        .arg("FLAT")
        .arg(6)
        .arg("TYPE")
        .arg("FLOAT32")
        .arg("DIM")
        .arg(2)
        .arg("DISTANCE_METRIC")
        .arg("L2")
        .query(con)
        .expect("FT.CREATE");
    for i in 0..20 {
        let () = redis::cmd("HSET")
            .arg(format!("p:{i}"))
            .arg("g")
            .arg(if i % 2 == 0 { "a" } else { "b" })
            .arg("v")
            .arg(blob(&[i as f32, 0.0]))
            .query(con)
            .expect("HSET");
    }
}

fn names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(s).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn profile_search_reply_shape() {
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    small(&mut con);
    let q = blob(&[4.2, 0.0]);
    let tail = |c: &mut redis::Cmd| {
        c.arg("PARAMS")
            .arg(2)
            .arg("B")
            .arg(&q)
            .arg("DIALECT")
            .arg(2);
    };
    let query = "(@g:{a})=>[KNN 3 @v $B]";
    let mut plain = redis::cmd("FT.SEARCH");
    plain.arg("p").arg(query);
    tail(&mut plain);
    let expected: Value = plain.query(&mut con).expect("FT.SEARCH");
    let mut prof = redis::cmd("FT.PROFILE");
    prof.arg("p").arg("SEARCH").arg("QUERY").arg(query);
    tail(&mut prof);
    let Value::Array(reply) = prof.query::<Value>(&mut con).expect("FT.PROFILE") else {
        panic!("not an array")
    };
    assert_eq!(reply.len(), 2);
    // The results are FT.SEARCH's: p:4, p:6, p:2.
    assert_eq!(reply[0], expected);
    let Value::Array(profile) = &reply[1] else {
        panic!("profile {:?}", reply[1])
    };
    let keys: Vec<String> = profile.iter().map(|e| names(e)[0].clone()).collect();
    assert_eq!(
        keys,
        [
            "Total profile time",
            "Parsing time",
            "Pipeline creation time",
            "Iterators profile",
            "Result processors profile"
        ]
    );
    for e in &profile[..3] {
        let t: f64 = names(e)[1].parse().expect("a time");
        assert!(t >= 0.0);
    }
    let Value::Array(it) = &profile[3] else {
        panic!()
    };
    let Value::Array(root) = &it[1] else { panic!() };
    let flat: Vec<String> = root.iter().map(s).collect();
    assert_eq!(&flat[..4], ["Type", "VECTOR", "Field", "v"]);
    let counter = flat.iter().position(|x| x == "Counter").expect("Counter");
    // The KNN's matches: the 10 docs tagged `a`, counted on the shards... capped by k per shard.
    assert!(flat[counter + 1].parse::<i64>().expect("count") >= 3);
    let kids = flat
        .iter()
        .position(|x| x == "Child iterators")
        .expect("children");
    assert_eq!(names(&root[kids + 1])[..2], ["Type", "TAG"]);
    let procs: Vec<String> = match &profile[4] {
        Value::Array(a) => a[1..]
            .iter()
            .map(|p| names(p).get(1).cloned().unwrap_or_default())
            .collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(procs, ["Index", "Metrics Applier", "Sorter", "Loader"]);

    // LIMITED drops the child iterators.
    let mut limited = redis::cmd("FT.PROFILE");
    limited
        .arg("p")
        .arg("SEARCH")
        .arg("LIMITED")
        .arg("QUERY")
        .arg(query);
    tail(&mut limited);
    let v: Value = limited.query(&mut con).expect("LIMITED");
    assert!(!format!("{v:?}").contains("Child iterators"));

    // Errors: FT.SEARCH's for the query, and the FT.PROFILE syntax's own.
    let mut err = |c: &mut redis::Cmd| common::err_text(&c.query::<Value>(&mut con).unwrap_err());
    assert_eq!(
        err(redis::cmd("FT.PROFILE")
            .arg("nope")
            .arg("SEARCH")
            .arg("QUERY")
            .arg("*")),
        "nope: no such index"
    );
    assert_eq!(
        err(redis::cmd("FT.PROFILE")
            .arg("p")
            .arg("FIND")
            .arg("QUERY")
            .arg("*")),
        "No `SEARCH` or `AGGREGATE` provided"
    );
    assert!(
        err(redis::cmd("FT.PROFILE")
            .arg("p")
            .arg("AGGREGATE")
            .arg("QUERY")
            .arg("*"))
        .contains("not supported")
    );
}

const PY: &str = r#"
import struct, sys
import redis
from redis.commands.search.query import Query
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
ft = r.ft("p")
q = Query("(@g:{a})=>[KNN 3 @v $vec AS dist]").sort_by("dist").return_fields("dist").dialect(2)
res, det = ft.profile(q, query_params={"vec": struct.pack("<2f", 4.2, 0)})
assert res.total == 3 and [d.id for d in res.docs] == ["p:4", "p:6", "p:2"], res
assert det["Total profile time"] >= 0 and det["Parsing time"] >= 0, det
assert det["Iterators profile"]["Type"] == "VECTOR", det
assert det["Iterators profile"]["Child iterators"][0]["Type"] == "TAG", det
assert det["Result processors profile"]["Type"] == "Index", det
print("ft profile redis-py ok")
"#;

#[test]
fn redis_py_parses_profile_replies() {
    let python = common::venv::redis_py()
        .unwrap_or_else(|why| panic!("cannot run the redis-py FT.PROFILE test: {why}"));
    let srv = Server::start(ARGS);
    let mut con = srv.client();
    small(&mut con);
    common::venv::assert_python_ok(
        &python,
        PY,
        &[&srv.port().to_string()],
        "ft profile redis-py ok",
    );
}
