//! Graphs persist like every other key (SPEC §8.2 section 3, §8.3, §3.6): SAVE/BGSAVE and a
//! restart give identical query results (ids included), a kill -9 with the WAL on loses no
//! acknowledged write query (snapshot + WAL tail), a write during a running BGSAVE stays out of
//! its image, RENAME across shards keeps a graph queryable (and durable), and moon-tool
//! inspects, verifies and locates damage in section-3 blocks.

mod common;

use std::path::{Path, PathBuf};

use common::Server;
use moon_engine::persist::snapshot_format::{Section, SnapshotReader};
use redis::Value;

fn q(con: &mut redis::Connection, args: &[&str]) -> Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn query(con: &mut redis::Connection, key: &str, cypher: &str) -> Value {
    q(con, &["GRAPH.QUERY", key, cypher])
}

/// The header and rows of a query's reply (the statistics, with their timings, left out).
fn result(con: &mut redis::Connection, key: &str, cypher: &str) -> Vec<Value> {
    match query(con, key, cypher) {
        Value::Array(mut parts) if parts.len() == 3 => {
            parts.truncate(2);
            parts
        }
        other => panic!("{cypher}: not a result set: {other:?}"),
    }
}

/// Everything a graph holds that a query shows: nodes with ids, labels and properties;
/// relationships with ids, types, endpoints and properties.
fn image(con: &mut redis::Connection, key: &str) -> Vec<Vec<Value>> {
    vec![
        result(
            con,
            key,
            "MATCH (n) RETURN id(n), labels(n), properties(n) ORDER BY id(n)",
        ),
        result(
            con,
            key,
            "MATCH (a)-[r]->(b) RETURN id(r), type(r), id(a), id(b), properties(r) ORDER BY id(r)",
        ),
    ]
}

/// A graph with deleted nodes and relationships (free ids that must stay free), properties of
/// several types, and relationships with properties.
fn build_small(con: &mut redis::Connection, key: &str) {
    query(
        con,
        key,
        "UNWIND range(0, 29) AS i CREATE (:Person {name: 'p' + toString(i), age: i, score: i * 1.5, tags: ['a', 'b']})",
    );
    query(
        con,
        key,
        "MATCH (a:Person), (b:Person) WHERE b.age = a.age + 1 CREATE (a)-[:KNOWS {since: a.age}]->(b)",
    );
    query(con, key, "CREATE (:City {name: 'Rome', pos: 1})");
    query(
        con,
        key,
        "MATCH (p:Person) WHERE p.age % 7 = 3 DETACH DELETE p",
    );
}

/// A graph whose encoding spans several 64 KiB snapshot blocks.
fn build_large(con: &mut redis::Connection, key: &str) {
    query(
        con,
        key,
        "UNWIND range(1, 2000) AS i CREATE (:Item {n: 2 * i, pad: 'padding-padding-padding-' + toString(i)})-[:NEXT {w: i}]->(:Item {n: 2 * i + 1, pad: 'padding-padding-padding-padding'})",
    );
}

fn shard_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("data dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("shard-"))
        })
        .collect();
    out.sort();
    out
}

fn snapshots(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in shard_dirs(dir) {
        for f in std::fs::read_dir(&d).expect("shard dir").flatten() {
            if f.path().extension().is_some_and(|e| e == "snap") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

/// moon-tool, (re)built once per run (`common::tool`): a stale one would decode graphs with an
/// older moon-graph than the server's.
fn tool(args: &[&str]) -> (bool, String) {
    common::tool::run(args)
}

const NO_WAL: [&str; 6] = common::TWO_SHARDS_NO_WAL;
const WAL: [&str; 8] = common::TWO_SHARDS_WAL_ALWAYS;

#[test]
fn save_and_restart_give_identical_results_and_moon_tool_reads_section_3() {
    let s = Server::start(&NO_WAL);
    let mut con = s.client();
    build_small(&mut con, "small");
    build_large(&mut con, "large");
    q(&mut con, &["SET", "plain", "v"]);
    let small = image(&mut con, "small");
    let large = image(&mut con, "large");
    assert_eq!(q(&mut con, &["SAVE"]), Value::Okay);
    let dir = s.kill();

    // moon-tool: every graph listed with its counts; the files verify.
    let d = dir.to_str().expect("utf8 dir");
    let (ok, text) = tool(&["verify", d]);
    assert!(ok, "{text}");
    let (ok, text) = tool(&["inspect", d]);
    assert!(ok, "{text}");
    assert!(
        text.contains("graph db 0 key small")
            && text.contains("27 nodes")
            && text.contains("Person 26, City 1"),
        "{text}"
    );
    assert!(
        text.contains("graph db 0 key large") && text.contains("4000 nodes, 2000 relationships"),
        "{text}"
    );
    let (ok, text) = tool(&["dump", d]);
    assert!(ok, "{text}");
    assert!(
        text.contains("\"type\":\"graph\"") && text.contains("\"nodes\":4000"),
        "{text}"
    );

    let s = Server::start_in(&dir, &NO_WAL);
    let mut con = s.client();
    assert_eq!(image(&mut con, "small"), small);
    assert_eq!(image(&mut con, "large"), large);
    assert_eq!(
        q(&mut con, &["TYPE", "small"]),
        Value::SimpleString("graphdata".into())
    );
    // Deleted ids stay free across the restart: the next node takes the lowest (age 3's, id 3).
    let created = result(&mut con, "small", "CREATE (n:New) RETURN id(n)");
    assert_eq!(
        created[1],
        Value::Array(vec![Value::Array(vec![Value::Int(3)])])
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_crash_loses_no_acknowledged_graph_write() {
    let s = Server::start(&WAL);
    let mut con = s.client();
    build_small(&mut con, "g");
    // Snapshot, then more writes: recovery needs the snapshot and the WAL tail.
    q(&mut con, &["BGSAVE"]);
    common::wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    query(
        &mut con,
        "g",
        "MATCH (p:Person {age: 12}) SET p.name = 'twelve', p.extra = true",
    );
    query(&mut con, "g", "MATCH (p:Person {age: 13}) DETACH DELETE p");
    query(&mut con, "g", "CREATE (:Late {n: 1})-[:T]->(:Late {n: 2})");
    build_large(&mut con, "g2");
    let g = image(&mut con, "g");
    let g2 = image(&mut con, "g2");
    let s = s.crash_restart(&WAL);
    let mut con = s.client();
    assert_eq!(image(&mut con, "g"), g);
    assert_eq!(image(&mut con, "g2"), g2);
    // Once more without a snapshot in between: the WAL alone.
    query(&mut con, "g", "CREATE (:AfterRestart)");
    let g = image(&mut con, "g");
    let s = s.crash_restart(&WAL);
    let mut con = s.client();
    assert_eq!(image(&mut con, "g"), g);
    let dir = s.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_write_during_bgsave_stays_out_of_the_snapshot() {
    let s = Server::start(&NO_WAL);
    let mut con = s.client();
    build_large(&mut con, "g");
    for i in 0..2000 {
        q(&mut con, &["SET", &format!("k{i}"), "v"]);
    }
    let before = image(&mut con, "g");
    q(&mut con, &["BGSAVE"]);
    // BGSAVE answers after every shard began its image: this write follows the image's instant.
    query(&mut con, "g", "MATCH (n:Item {n: 2}) SET n.changed = 1");
    query(&mut con, "g", "CREATE (:Extra)");
    let after = image(&mut con, "g");
    assert_ne!(after, before);
    common::wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    let s = s.crash_restart(&NO_WAL);
    let mut con = s.client();
    assert_eq!(
        image(&mut con, "g"),
        before,
        "the snapshot is not the begin-time image"
    );
    let dir = s.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rename_across_shards_keeps_a_graph_queryable_and_durable() {
    let keys = common::keys_on_shards("graph", 2, 2);
    let (a, b) = (keys[0].as_str(), keys[1].as_str());
    let s = Server::start(&WAL);
    let mut con = s.client();
    build_small(&mut con, a);
    let want = image(&mut con, a);
    assert_eq!(q(&mut con, &["RENAME", a, b]), Value::Okay);
    assert_eq!(q(&mut con, &["EXISTS", a]), Value::Int(0));
    assert_eq!(image(&mut con, b), want);
    // DUMP/RESTORE round trip of a graph (Moon's own payload type).
    let Value::BulkString(payload) = q(&mut con, &["DUMP", b]) else {
        panic!("DUMP of a graph")
    };
    let mut restore = redis::cmd("RESTORE");
    restore.arg("copy").arg(0).arg(&payload);
    let ok: Value = restore.query(&mut con).expect("RESTORE");
    assert_eq!(ok, Value::Okay);
    assert_eq!(image(&mut con, "copy"), want);
    let mut bad = payload.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    let mut restore = redis::cmd("RESTORE");
    restore.arg("bad").arg(0).arg(&bad);
    let err = restore
        .query::<Value>(&mut con)
        .expect_err("damaged payload");
    assert!(
        common::err_text(&err).contains("DUMP payload version or checksum are wrong"),
        "{err}"
    );
    // The WAL logged the move as DEL + RESTORE of the graph's payload.
    let s = s.crash_restart(&WAL);
    let mut con = s.client();
    assert_eq!(q(&mut con, &["EXISTS", a]), Value::Int(0));
    assert_eq!(image(&mut con, b), want);
    assert_eq!(image(&mut con, "copy"), want);
    let dir = s.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_graph_block_is_reported_with_its_offset() {
    let s = Server::start(&NO_WAL);
    let mut con = s.client();
    build_large(&mut con, "g");
    assert_eq!(q(&mut con, &["SAVE"]), Value::Okay);
    let dir = s.kill();
    // Flip a byte inside the second section-3 block of the file holding the graph.
    let mut target = None;
    for path in snapshots(&dir) {
        let bytes = std::fs::read(&path).expect("read snapshot");
        let r = SnapshotReader::new(&bytes).expect("complete snapshot");
        let graph_blocks: Vec<u64> = r
            .blocks()
            .map(|b| b.expect("block"))
            .filter(|b| b.section == Section::Graph)
            .map(|b| b.offset)
            .collect();
        if graph_blocks.len() >= 2 {
            target = Some((path, graph_blocks[1]));
        }
    }
    let (path, offset) = target.expect("a snapshot with a multi-block graph");
    let mut bytes = std::fs::read(&path).expect("read");
    let at = usize::try_from(offset).expect("offset") + 100;
    bytes[at] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write");

    let d = dir.to_str().expect("utf8 dir");
    let (ok, text) = tool(&["verify", d]);
    assert!(!ok, "verify passed a damaged file:\n{text}");
    assert!(
        text.contains(&format!(":{offset}: error")) && text.contains("checksum"),
        "{text}"
    );
    let (status, log) = Server::run_to_exit(&dir, &NO_WAL);
    assert!(
        !status.success(),
        "the server loaded a damaged graph:\n{log}"
    );
    assert!(
        log.contains(&format!("corrupt at byte offset {offset}")),
        "{log}"
    );
    // repair drops the damaged graph whole (reporting it) and the copy loads.
    let out = PathBuf::from(format!("{}-repaired", dir.display()));
    let (ok, text) = tool(&["repair", d, "--out", out.to_str().expect("utf8")]);
    assert!(!ok, "repair must report the loss:\n{text}");
    assert!(
        text.contains("graph db 0 key g ") && text.contains("LOST"),
        "{text}"
    );
    let s = Server::start_in(&out, &NO_WAL);
    let mut con = s.client();
    assert_eq!(q(&mut con, &["EXISTS", "g"]), Value::Int(0));
    let _ = std::fs::remove_dir_all(s.kill());
    let _ = std::fs::remove_dir_all(&dir);
}
