//! FT index plumbing end to end (`--shards 2`, so documents live on both shards): FT.CREATE
//! and its errors, FT.INFO's shape and counts, auto-indexing on every write path (hash
//! writes, deletes, expiry, renames across shards, MOVE, COPY, RESTORE, type changes,
//! FLUSHDB/FLUSHALL, SWAPDB, hash-field TTLs, eviction, MULTI/EXEC, EVAL), background
//! indexing of existing keys, aliases, DROPINDEX DD, FT.CONFIG, and definitions surviving a
//! restart through the WAL and through a snapshot (contents rebuilt). A last test drives the
//! same commands through redis-py's `redis.commands.search` (the venv of
//! `tests/scripting_clients.rs`, `target/test-venv`).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::ft::{q, qerr, text};
use common::{Server, keys_on_shards, wait_until};
use redis::{Connection, Value};

const ARGS: &[&str] = &["--shards", "2"];

/// FT.INFO as a map of its top-level fields.
fn info(con: &mut Connection, idx: &str) -> HashMap<String, Value> {
    let Value::Array(items) = q(con, &["FT.INFO", idx]) else {
        panic!("FT.INFO is not an array")
    };
    items
        .chunks(2)
        .map(|kv| (text(&kv[0]), kv[1].clone()))
        .collect()
}

fn num_docs(con: &mut Connection, idx: &str) -> u64 {
    text(&info(con, idx)["num_docs"]).parse().expect("num_docs")
}

fn failures(con: &mut Connection, idx: &str) -> i64 {
    text(&info(con, idx)["hash_indexing_failures"])
        .parse()
        .expect("failures")
}

/// FT.DEBUG DUMP_TAGIDX as `(tag, keys)` pairs.
fn tag_index(con: &mut Connection, idx: &str, field: &str) -> Vec<(String, Vec<String>)> {
    let Value::Array(items) = q(con, &["FT.DEBUG", "DUMP_TAGIDX", idx, field]) else {
        panic!("not an array")
    };
    items
        .iter()
        .map(|it| match it {
            Value::Array(p) if p.len() == 2 => {
                let keys = match &p[1] {
                    Value::Array(k) => k.iter().map(text).collect(),
                    _ => Vec::new(),
                };
                (text(&p[0]), keys)
            }
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The keys FT.DEBUG DUMP_TAGIDX lists under `tag`.
fn tagged(con: &mut Connection, idx: &str, field: &str, tag: &str) -> Vec<String> {
    tag_index(con, idx, field)
        .into_iter()
        .find(|(t, _)| t == tag)
        .map(|(_, k)| k)
        .unwrap_or_default()
}

fn wait_indexed(con: &mut Connection, idx: &str) {
    let ok = wait_until(Duration::from_secs(30), || {
        let i = info(con, idx);
        text(&i["indexing"]) == "0" && text(&i["percent_indexed"]) == "1"
    });
    assert!(ok, "{idx} never finished indexing: {:?}", info(con, idx));
}

#[test]
fn create_errors_and_info_shape() {
    let s = Server::start(ARGS);
    let mut con = s.client();
    assert_eq!(
        q(
            &mut con,
            &[
                "FT.CREATE",
                "idx",
                "ON",
                "HASH",
                "PREFIX",
                "2",
                "d:",
                "e:",
                "SCORE",
                "0.5",
                "SCHEMA",
                "t",
                "AS",
                "tags",
                "TAG",
                "SEPARATOR",
                ";",
                "n",
                "NUMERIC",
                "SORTABLE",
                "body",
                "TEXT",
                "WEIGHT",
                "2",
                "v",
                "VECTOR",
                "HNSW",
                "6",
                "TYPE",
                "FLOAT32",
                "DIM",
                "2",
                "DISTANCE_METRIC",
                "COSINE",
                "loc",
                "GEO",
            ]
        ),
        Value::Okay
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &["FT.CREATE", "idx", "SCHEMA", "t", "TAG"],
            "Index already exists",
        ),
        (&["FT.CREATE", "x"], "No schema found"),
        (
            &["FT.CREATE", "x", "BOGUS", "SCHEMA", "t", "TAG"],
            "Unknown argument `BOGUS`",
        ),
        (
            &["FT.CREATE", "x", "SCHEMA"],
            "Fields arguments are missing",
        ),
        (
            &["FT.CREATE", "x", "ON", "JSON", "SCHEMA", "t", "TAG"],
            "ERR JSON is not supported",
        ),
        (
            &["FT.CREATE", "x", "SCHEMA", "t"],
            "Field `t` does not have a type",
        ),
        (
            &["FT.CREATE", "x", "SCHEMA", "t", "FOO"],
            "Invalid field type for field `t`",
        ),
        (
            &["FT.CREATE", "x", "SCHEMA", "t", "TAG", "t", "NUMERIC"],
            "Duplicate field in schema - t",
        ),
        (
            &[
                "FT.CREATE",
                "x",
                "SCHEMA",
                "v",
                "VECTOR",
                "HNSW",
                "6",
                "TYPE",
                "FLOAT32",
                "DIM",
                "x",
                "DISTANCE_METRIC",
                "L2",
            ],
            "Bad arguments for vector similarity HNSW index dim: Could not convert argument to expected type",
        ),
        (
            &[
                "FT.CREATE",
                "x",
                "SCHEMA",
                "v",
                "VECTOR",
                "FLAT",
                "4",
                "TYPE",
                "FLOAT32",
                "DIM",
                "4",
            ],
            "Missing mandatory parameter: cannot create FLAT index without specifying DISTANCE_METRIC argument",
        ),
        (&["FT.INFO", "nope"], "Unknown Index name"),
        (&["FT.DROPINDEX", "nope"], "Unknown Index name"),
        (&["FT.TAGVALS", "idx", "n"], "Not a tag field"),
        (&["FT.TAGVALS", "idx", "zz"], "No such field"),
        (
            &["FT.ALTER", "idx", "SCHEMA", "ADD", "n", "TAG"],
            "Duplicate field in schema - n",
        ),
        (
            &["FT.ALTER", "nope", "SCHEMA", "ADD", "z", "TAG"],
            "Unknown Index name",
        ),
        (&["FT.ALIASDEL", "nope"], "Alias does not exist"),
        (&["FT.ALIASADD", "al", "nope"], "Unknown index name"),
        (
            &["FT.CONFIG", "SET", "GC_POLICY", "x"],
            "Not modifiable at runtime",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(qerr(&mut con, args), *want, "{args:?}");
    }
    // FT.SEARCH is plumbed (tests/ft_search.rs covers it).
    assert!(matches!(
        q(&mut con, &["FT.SEARCH", "idx", "*", "LIMIT", "0", "0"]),
        Value::Array(ref a) if matches!(a.first(), Some(Value::Int(_)))
    ));
    let i = info(&mut con, "idx");
    assert_eq!(text(&i["index_name"]), "idx");
    let Value::Array(def) = &i["index_definition"] else {
        panic!("definition")
    };
    let def: Vec<String> = def
        .iter()
        .map(|v| match v {
            Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
            v => text(v),
        })
        .collect();
    assert_eq!(
        def,
        [
            "key_type",
            "HASH",
            "prefixes",
            "d:,e:",
            "default_score",
            "0.5"
        ]
    );
    let Value::Array(attrs) = &i["attributes"] else {
        panic!("attributes")
    };
    let first: Vec<String> = match &attrs[0] {
        Value::Array(a) => a.iter().map(text).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        first,
        [
            "identifier",
            "t",
            "attribute",
            "tags",
            "type",
            "TAG",
            "SEPARATOR",
            ";"
        ]
    );
    assert_eq!(attrs.len(), 5);
    for field in [
        "num_docs",
        "max_doc_id",
        "num_terms",
        "num_records",
        "inverted_sz_mb",
        "vector_index_sz_mb",
        "total_inverted_index_blocks",
        "offset_vectors_sz_mb",
        "doc_table_size_mb",
        "sortable_values_size_mb",
        "key_table_size_mb",
        "records_per_doc_avg",
        "bytes_per_record_avg",
        "offsets_per_term_avg",
        "offset_bits_per_record_avg",
        "hash_indexing_failures",
        "total_indexing_time",
        "indexing",
        "percent_indexed",
        "number_of_uses",
        "cleaning",
        "gc_stats",
        "cursor_stats",
        "dialect_stats",
        "Index Errors",
    ] {
        assert!(i.contains_key(field), "FT.INFO lacks {field}");
    }
    assert_eq!(text(&i["num_docs"]), "0");
    // Docs on both shards; bad values are failures; a wrong vector length too.
    for k in keys_on_shards("d", 2, 2) {
        q(&mut con, &["HSET", &k, "t", "Red; blue", "n", "1.5"]);
    }
    q(&mut con, &["HSET", "e:1", "t", "green", "loc", "2.3,48.8"]);
    q(&mut con, &["HSET", "x:1", "t", "ignored"]);
    assert_eq!(num_docs(&mut con, "idx"), 3);
    q(&mut con, &["HSET", "d:bad", "n", "abc"]);
    q(&mut con, &["HSET", "d:vec", "v", "short"]);
    q(&mut con, &["HSET", "d:geo", "loc", "500,1"]);
    assert_eq!(num_docs(&mut con, "idx"), 3);
    assert_eq!(failures(&mut con, "idx"), 3);
    let good = [0u8; 8];
    redis::cmd("HSET")
        .arg("d:vec")
        .arg("v")
        .arg(&good[..])
        .query::<i64>(&mut con)
        .expect("hset vector");
    assert_eq!(num_docs(&mut con, "idx"), 4);
    let tv: Vec<String> = redis::cmd("FT.TAGVALS")
        .arg("idx")
        .arg("tags")
        .query(&mut con)
        .expect("tagvals");
    assert_eq!(tv, ["blue", "green", "red"]);
    let list: Vec<String> = redis::cmd("FT._LIST").query(&mut con).expect("list");
    assert_eq!(list, ["idx"]);
    // FT.ALTER adds a field and rescans.
    assert_eq!(
        q(&mut con, &["FT.ALTER", "idx", "SCHEMA", "ADD", "c", "TAG"]),
        Value::Okay
    );
    q(&mut con, &["HSET", "e:1", "c", "x"]);
    assert_eq!(tagged(&mut con, "idx", "c", "x"), ["e:1"]);
    wait_indexed(&mut con, "idx");
    // FT.CONFIG.
    let Value::Array(cfg) = q(&mut con, &["FT.CONFIG", "GET", "TIMEOUT"]) else {
        panic!("config")
    };
    assert!(format!("{cfg:?}").contains("500"), "{cfg:?}");
    assert_eq!(
        q(&mut con, &["FT.CONFIG", "SET", "MINPREFIX", "3"]),
        Value::Okay
    );
    let got: Vec<Vec<String>> = redis::cmd("FT.CONFIG")
        .arg("GET")
        .arg("MINPREFIX")
        .query(&mut con)
        .expect("config get");
    assert_eq!(got, [["MINPREFIX", "3"]]);
}

#[test]
fn every_write_path_keeps_the_index_in_step() {
    let s = Server::start(ARGS);
    let mut con = s.client();
    q(
        &mut con,
        &[
            "FT.CREATE",
            "i",
            "PREFIX",
            "1",
            "d:",
            "SCHEMA",
            "t",
            "TAG",
            "n",
            "NUMERIC",
        ],
    );
    let [a, b] = <[String; 2]>::try_from(keys_on_shards("d", 2, 2)).expect("two keys");
    // HSET / HMSET / HSETNX / HINCRBY / HDEL.
    q(&mut con, &["HSET", &a, "t", "x"]);
    q(&mut con, &["HMSET", &b, "t", "x", "n", "1"]);
    q(&mut con, &["HSETNX", &b, "t", "ignored"]);
    q(&mut con, &["HINCRBY", &b, "n", "41"]);
    assert_eq!(tagged(&mut con, "i", "t", "x"), [a.clone(), b.clone()]);
    let Value::Array(nums) = q(&mut con, &["FT.DEBUG", "DUMP_NUMIDX", "i", "n"]) else {
        panic!("numidx")
    };
    assert!(format!("{nums:?}").contains("42"), "{nums:?}");
    q(&mut con, &["HDEL", &a, "t"]);
    assert_eq!(num_docs(&mut con, "i"), 1);
    // DEL / UNLINK.
    q(&mut con, &["HSET", &a, "t", "y"]);
    q(&mut con, &["DEL", &a]);
    q(&mut con, &["UNLINK", &b]);
    assert_eq!(num_docs(&mut con, "i"), 0);
    // EXPIRE / PEXPIRE (active expiry, no access).
    q(&mut con, &["HSET", &a, "t", "e"]);
    q(&mut con, &["HSET", &b, "t", "e"]);
    q(&mut con, &["EXPIRE", &a, "1"]);
    q(&mut con, &["PEXPIRE", &b, "50"]);
    assert_eq!(num_docs(&mut con, "i"), 2);
    assert!(wait_until(Duration::from_secs(5), || num_docs(
        &mut con, "i"
    ) == 0));
    // RENAME / RENAMENX into and out of the prefix, across shards.
    let [o1, o2] = <[String; 2]>::try_from(keys_on_shards("o", 2, 2)).expect("two keys");
    q(&mut con, &["HSET", &o1, "t", "r"]);
    q(&mut con, &["RENAME", &o1, &b]);
    assert_eq!(tagged(&mut con, "i", "t", "r"), [b.as_str()]);
    q(&mut con, &["RENAMENX", &b, &a]);
    assert_eq!(tagged(&mut con, "i", "t", "r"), [a.as_str()]);
    q(&mut con, &["RENAME", &a, &o2]);
    assert_eq!(num_docs(&mut con, "i"), 0);
    q(&mut con, &["DEL", &o2]);
    // MOVE out of db 0 and back.
    q(&mut con, &["HSET", &a, "t", "m"]);
    q(&mut con, &["MOVE", &a, "1"]);
    assert_eq!(num_docs(&mut con, "i"), 0);
    q(&mut con, &["SELECT", "1"]);
    q(&mut con, &["MOVE", &a, "0"]);
    q(&mut con, &["SELECT", "0"]);
    assert_eq!(tagged(&mut con, "i", "t", "m"), [a.as_str()]);
    // COPY (across shards), RESTORE, SET over a hash.
    q(&mut con, &["COPY", &a, &b]);
    assert_eq!(tagged(&mut con, "i", "t", "m"), [a.clone(), b.clone()]);
    let dump: Vec<u8> = redis::cmd("DUMP").arg(&a).query(&mut con).expect("dump");
    q(&mut con, &["DEL", &a]);
    redis::cmd("RESTORE")
        .arg(&a)
        .arg(0)
        .arg(dump)
        .query::<()>(&mut con)
        .expect("restore");
    assert_eq!(num_docs(&mut con, "i"), 2);
    q(&mut con, &["SET", &b, "string now"]);
    assert_eq!(tagged(&mut con, "i", "t", "m"), [a.as_str()]);
    // MULTI/EXEC and EVAL.
    redis::pipe()
        .atomic()
        .cmd("DEL")
        .arg(&b)
        .cmd("HSET")
        .arg(&b)
        .arg("t")
        .arg("tx")
        .cmd("DEL")
        .arg(&a)
        .query::<()>(&mut con)
        .expect("multi");
    assert_eq!(
        tag_index(&mut con, "i", "t"),
        [("tx".to_string(), vec![b.clone()])]
    );
    q(
        &mut con,
        &["EVAL", "redis.call('HSET', KEYS[1], 't', 'lua')", "1", &a],
    );
    assert_eq!(tagged(&mut con, "i", "t", "lua"), [a.as_str()]);
    // Hash-field TTL: the field goes, the doc stays.
    q(&mut con, &["HSET", &a, "n", "7"]);
    q(&mut con, &["HPEXPIRE", &a, "50", "FIELDS", "1", "t"]);
    assert!(wait_until(Duration::from_secs(5), || tagged(
        &mut con, "i", "t", "lua"
    )
    .is_empty()));
    assert_eq!(num_docs(&mut con, "i"), 2);
    // FLUSHDB of another db does nothing; of db 0, everything.
    q(&mut con, &["SELECT", "2"]);
    q(&mut con, &["FLUSHDB"]);
    q(&mut con, &["SELECT", "0"]);
    assert_eq!(num_docs(&mut con, "i"), 2);
    q(&mut con, &["FLUSHDB"]);
    assert_eq!(num_docs(&mut con, "i"), 0);
    // SWAPDB: db 1's hashes become db 0's.
    q(&mut con, &["SELECT", "1"]);
    q(&mut con, &["HSET", &a, "t", "s"]);
    q(&mut con, &["HSET", &b, "t", "s"]);
    q(&mut con, &["SELECT", "0"]);
    q(&mut con, &["SWAPDB", "0", "1"]);
    wait_indexed(&mut con, "i");
    assert_eq!(tagged(&mut con, "i", "t", "s"), [a.clone(), b.clone()]);
    q(&mut con, &["SWAPDB", "0", "1"]);
    wait_indexed(&mut con, "i");
    assert_eq!(num_docs(&mut con, "i"), 0);
    q(&mut con, &["HSET", &a, "t", "f"]);
    q(&mut con, &["FLUSHALL"]);
    assert_eq!(num_docs(&mut con, "i"), 0);
    // Eviction: the evicted docs leave the index.
    for i in 0..200 {
        q(
            &mut con,
            &[
                "HSET",
                &format!("d:ev{i}"),
                "t",
                "ev",
                "pad",
                &"x".repeat(200),
            ],
        );
    }
    q(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
    );
    q(&mut con, &["CONFIG", "SET", "maxmemory", "1"]);
    let _ = redis::cmd("SET")
        .arg("trigger")
        .arg("1")
        .query::<Value>(&mut con);
    q(&mut con, &["CONFIG", "SET", "maxmemory", "0"]);
    let left: Vec<String> = redis::cmd("KEYS")
        .arg("d:ev*")
        .query(&mut con)
        .expect("keys");
    assert!(left.len() < 200, "nothing was evicted");
    assert_eq!(num_docs(&mut con, "i"), left.len() as u64);
}

#[test]
fn background_scan_aliases_and_dropindex_dd() {
    let s = Server::start(ARGS);
    let mut con = s.client();
    let mut pipe = redis::pipe();
    for i in 0..20_000 {
        pipe.cmd("HSET")
            .arg(format!("doc:{i}"))
            .arg("t")
            .arg(if i % 2 == 0 { "even" } else { "odd" })
            .ignore();
    }
    pipe.query::<()>(&mut con).expect("load");
    q(
        &mut con,
        &[
            "FT.CREATE",
            "big",
            "PREFIX",
            "1",
            "doc:",
            "SCHEMA",
            "t",
            "TAG",
        ],
    );
    wait_indexed(&mut con, "big");
    assert_eq!(num_docs(&mut con, "big"), 20_000);
    q(
        &mut con,
        &[
            "FT.CREATE",
            "skip",
            "PREFIX",
            "1",
            "doc:",
            "SKIPINITIALSCAN",
            "SCHEMA",
            "t",
            "TAG",
        ],
    );
    assert_eq!(num_docs(&mut con, "skip"), 0);
    // Aliases: every index-name argument may be one.
    assert_eq!(q(&mut con, &["FT.ALIASADD", "al", "big"]), Value::Okay);
    assert_eq!(
        qerr(&mut con, &["FT.ALIASADD", "al", "skip"]),
        "Alias already exists"
    );
    assert_eq!(num_docs(&mut con, "al"), 20_000);
    assert_eq!(q(&mut con, &["FT.ALIASUPDATE", "al", "skip"]), Value::Okay);
    assert_eq!(num_docs(&mut con, "al"), 0);
    assert_eq!(q(&mut con, &["FT.ALIASDEL", "al"]), Value::Okay);
    assert_eq!(qerr(&mut con, &["FT.INFO", "al"]), "Unknown Index name");
    // DROPINDEX keeps the docs; DD deletes them.
    assert_eq!(q(&mut con, &["FT.DROPINDEX", "skip"]), Value::Okay);
    assert_eq!(text(&q(&mut con, &["DBSIZE"])), "20000");
    q(&mut con, &["HSET", "other", "t", "x"]);
    assert_eq!(q(&mut con, &["FT.DROPINDEX", "big", "DD"]), Value::Okay);
    assert_eq!(text(&q(&mut con, &["DBSIZE"])), "1");
    let list: Vec<String> = redis::cmd("FT._LIST").query(&mut con).expect("list");
    assert!(list.is_empty());
    // Not allowed in MULTI or from scripts.
    q(&mut con, &["MULTI"]);
    assert_eq!(
        qerr(&mut con, &["FT.CREATE", "m", "SCHEMA", "t", "TAG"]),
        "ERR Command not allowed inside a transaction"
    );
    let _ = redis::cmd("DISCARD").query::<Value>(&mut con);
}

#[test]
fn definitions_survive_restart_through_wal_and_snapshot() {
    let args = ["--shards", "2", "--appendonly", "yes"];
    let s = Server::start(&args);
    let mut con = s.client();
    q(
        &mut con,
        &[
            "FT.CREATE",
            "w",
            "PREFIX",
            "1",
            "d:",
            "SCHEMA",
            "t",
            "TAG",
            "n",
            "NUMERIC",
        ],
    );
    q(&mut con, &["FT.ALIASADD", "wa", "w"]);
    for k in keys_on_shards("d", 2, 2) {
        q(&mut con, &["HSET", &k, "t", "p", "n", "1"]);
    }
    q(&mut con, &["FT.CREATE", "gone", "SCHEMA", "t", "TAG"]);
    q(&mut con, &["FT.DROPINDEX", "gone"]);
    // WAL only.
    let s = s.crash_restart(&args);
    let mut con = s.client();
    let list: Vec<String> = redis::cmd("FT._LIST").query(&mut con).expect("list");
    assert_eq!(list, ["w"]);
    wait_indexed(&mut con, "wa");
    assert_eq!(num_docs(&mut con, "wa"), 2);
    // Snapshot, then more definitions in the WAL tail.
    assert_eq!(text(&q(&mut con, &["BGSAVE"])), "Background saving started");
    common::wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    q(
        &mut con,
        &[
            "FT.CREATE",
            "tail",
            "PREFIX",
            "1",
            "d:",
            "SCHEMA",
            "n",
            "NUMERIC",
        ],
    );
    q(&mut con, &["FT.ALTER", "w", "SCHEMA", "ADD", "c", "TAG"]);
    q(&mut con, &["HSET", "d:new", "t", "p", "c", "z"]);
    let s = s.crash_restart(&args);
    let mut con = s.client();
    let list: Vec<String> = redis::cmd("FT._LIST").query(&mut con).expect("list");
    assert_eq!(list, ["tail", "w"]);
    wait_indexed(&mut con, "w");
    wait_indexed(&mut con, "tail");
    assert_eq!(num_docs(&mut con, "wa"), 3);
    assert_eq!(tagged(&mut con, "w", "c", "z"), ["d:new"]);
    assert_eq!(num_docs(&mut con, "tail"), 3);
}

// ---- redis-py ----

const PY: &str = r#"
import sys, time, redis
from redis.commands.search.field import TagField, NumericField, TextField, VectorField
from redis.commands.search.indexDefinition import IndexDefinition, IndexType
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
ft = r.ft("pyidx")
ft.create_index(
    [TagField("color"), NumericField("price", sortable=True), TextField("title"),
     VectorField("emb", "FLAT", {"TYPE": "FLOAT32", "DIM": 2, "DISTANCE_METRIC": "L2"})],
    definition=IndexDefinition(prefix=["item:"], index_type=IndexType.HASH))
for i in range(10):
    r.hset(f"item:{i}", mapping={"color": "red" if i % 2 else "Blue", "price": i, "title": "t"})
r.hset("other:1", "color", "green")
for _ in range(200):
    info = ft.info()
    if str(info["indexing"]) == "0":
        break
    time.sleep(0.05)
info = ft.info()
assert info["index_name"] == "pyidx", info
assert int(float(info["num_docs"])) == 10, info
assert int(info["hash_indexing_failures"]) == 0, info
assert sorted(ft.tagvals("color")) == ["blue", "red"], ft.tagvals("color")
assert ft.aliasadd("pyalias")
assert int(float(r.ft("pyalias").info()["num_docs"])) == 10
assert r.ft("pyalias").aliasdel("pyalias")
assert "pyidx" in r.execute_command("FT._LIST")
assert ft.dropindex(delete_documents=True)
assert r.exists("item:0") == 0 and r.exists("other:1") == 1
print("ft redis-py ok")
"#;

#[test]
fn redis_py_search_admin() {
    let python = common::venv::redis_py()
        .unwrap_or_else(|why| panic!("cannot run the redis-py FT test: {why}"));
    let s = Server::start(ARGS);
    common::venv::assert_python_ok(&python, PY, &[&s.port().to_string()], "ft redis-py ok");
}
