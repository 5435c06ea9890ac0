//! Durability end to end: the WAL and snapshots survive `kill -9` and clean restarts with every
//! data type, TTL and database intact; torn and corrupt files are handled as SPEC.md §8 says;
//! SAVE/BGSAVE/BGREWRITEAOF/LASTSAVE/SHUTDOWN and the INFO persistence fields behave as Redis.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Server;
use redis::Connection;

type State = BTreeMap<(u8, Vec<u8>), (Vec<u8>, bool)>;

fn cmd(con: &mut Connection, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Every key of every database: its DUMP payload and whether it has a TTL.
fn state(con: &mut Connection) -> State {
    let mut out = State::new();
    for db in 0..16u8 {
        cmd(con, &["SELECT", &db.to_string()]);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(con).expect("keys");
        for k in keys {
            let dump: Vec<u8> = redis::cmd("DUMP").arg(&k).query(con).expect("dump");
            let pttl: i64 = redis::cmd("PTTL").arg(&k).query(con).expect("pttl");
            out.insert((db, k), (dump, pttl > 0));
        }
    }
    cmd(con, &["SELECT", "0"]);
    out
}

/// Writes of every type, in several databases, through the paths whose WAL effect differs
/// from the command (SPOP, INCRBYFLOAT, relative TTLs, XADD *, MULTI/EXEC, cross-shard ops).
fn populate(con: &mut Connection) {
    for db in [0, 3, 15] {
        cmd(con, &["SELECT", &db.to_string()]);
        let p = format!("db{db}:");
        let k = |s: &str| format!("{p}{s}");
        cmd(con, &["SET", &k("str"), "hello"]);
        cmd(con, &["SET", &k("int"), "42"]);
        cmd(con, &["INCR", &k("int")]);
        cmd(con, &["INCRBYFLOAT", &k("float"), "1.25"]);
        cmd(con, &["SET", &k("ttl"), "v", "EX", "1000"]);
        cmd(con, &["SET", &k("gone"), "v", "PX", "1"]);
        cmd(con, &["APPEND", &k("str"), " world"]);
        cmd(con, &["RPUSH", &k("list"), "a", "b", "c", "d", "e"]);
        cmd(con, &["LPOP", &k("list")]);
        cmd(con, &["LMOVE", &k("list"), &k("list2"), "LEFT", "RIGHT"]);
        let big: Vec<String> = (0..300).map(|i| format!("e{i}")).collect();
        let mut args = vec!["RPUSH".to_string(), k("biglist")];
        args.extend(big);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        cmd(con, &refs);
        cmd(
            con,
            &["HSET", &k("hash"), "f1", "v1", "f2", "v2", "f3", "v3"],
        );
        cmd(con, &["HDEL", &k("hash"), "f2"]);
        cmd(con, &["HINCRBYFLOAT", &k("hash"), "n", "0.5"]);
        cmd(con, &["SADD", &k("set"), "1", "2", "3", "4", "5", "6"]);
        cmd(con, &["SPOP", &k("set")]);
        cmd(con, &["SPOP", &k("set"), "2"]);
        cmd(con, &["SADD", &k("sset"), "x", "y", "z"]);
        cmd(con, &["ZADD", &k("zset"), "1", "a", "2.5", "b", "3", "c"]);
        cmd(con, &["ZINCRBY", &k("zset"), "10", "a"]);
        cmd(con, &["ZPOPMIN", &k("zset")]);
        cmd(con, &["XADD", &k("stream"), "*", "f", "1"]);
        cmd(con, &["XADD", &k("stream"), "*", "f", "2"]);
        cmd(con, &["XGROUP", "CREATE", &k("stream"), "g", "0"]);
        cmd(
            con,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c1",
                "COUNT",
                "1",
                "STREAMS",
                &k("stream"),
                ">",
            ],
        );
        cmd(con, &["PFADD", &k("hll"), "a", "b", "c"]);
        cmd(con, &["SETBIT", &k("bits"), "100", "1"]);
        cmd(con, &["GEOADD", &k("geo"), "13.36", "38.11", "palermo"]);
        cmd(con, &["EXPIRE", &k("list2"), "5000"]);
        cmd(con, &["MULTI"]);
        cmd(con, &["SET", &k("tx1"), "a"]);
        cmd(con, &["SET", &k("tx2"), "b"]);
        cmd(con, &["EXEC"]);
        // Cross-shard (with --shards 2 these keys usually live on different shards).
        cmd(con, &["MSET", &k("m1"), "1", &k("m2"), "2", &k("m3"), "3"]);
        cmd(con, &["RENAME", &k("m1"), &k("renamed")]);
        cmd(con, &["SINTERSTORE", &k("inter"), &k("sset"), &k("sset")]);
        cmd(con, &["DEL", &k("m3")]);
    }
    cmd(con, &["SELECT", "0"]);
}

fn info_field(con: &mut Connection, field: &str) -> String {
    let info: String = redis::cmd("INFO")
        .arg("persistence")
        .query(con)
        .expect("info");
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .trim()
        .to_string()
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir).expect("data dir").flatten() {
        if !shard.file_name().to_string_lossy().starts_with("shard-") {
            continue;
        }
        for f in std::fs::read_dir(shard.path())
            .expect("shard dir")
            .flatten()
        {
            if f.path().extension().is_some_and(|e| e == ext) {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn wal_always_survives_kill_9_with_every_type() {
    let args = [
        "--shards",
        "2",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ];
    let s = Server::start(&args);
    let mut con = s.client();
    populate(&mut con);
    let before = state(&mut con);
    assert!(before.len() >= 60, "populated {} keys", before.len());
    let s = s.crash_restart(&args);
    let mut con = s.client();
    let after = state(&mut con);
    assert_eq!(before, after, "state differs after kill -9 and WAL replay");
    assert!(s.log().contains("replayed the WAL"), "{}", s.log());
}

#[test]
fn snapshot_then_wal_tail_restores_everything() {
    let args = ["--shards", "2", "--appendonly", "yes"];
    let s = Server::start(&args);
    let mut con = s.client();
    populate(&mut con);
    assert_eq!(
        cmd(&mut con, &["BGSAVE"]),
        redis::Value::SimpleString("Background saving started".into())
    );
    common::wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    assert_eq!(info_field(&mut con, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut con, "rdb_changes_since_last_save"), "0");
    // Writes after the snapshot live only in the WAL tail.
    cmd(&mut con, &["SET", "after", "snapshot"]);
    cmd(&mut con, &["RPUSH", "db0:list", "tail"]);
    cmd(&mut con, &["SELECT", "15"]);
    cmd(&mut con, &["FLUSHDB"]);
    cmd(&mut con, &["SELECT", "0"]);
    // everysec: give the fsync a moment, then crash.
    std::thread::sleep(Duration::from_millis(1500));
    let before = state(&mut con);
    assert_eq!(files(s.dir(), "snap").len(), 2);
    let s = s.crash_restart(&args);
    let mut con = s.client();
    assert_eq!(before, state(&mut con));
    assert!(s.log().contains("loaded snapshot"), "{}", s.log());
}

#[test]
fn snapshots_alone_survive_restart_and_shutdown_saves() {
    let s = Server::start(&["--shards", "2"]);
    let mut con = s.client();
    populate(&mut con);
    let t0: i64 = redis::cmd("LASTSAVE").query(&mut con).expect("lastsave");
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(cmd(&mut con, &["SAVE"]), redis::Value::Okay);
    let t1: i64 = redis::cmd("LASTSAVE").query(&mut con).expect("lastsave");
    assert!(t1 > t0, "LASTSAVE moved: {t0} -> {t1}");
    assert_eq!(info_field(&mut con, "rdb_saves"), "1");
    let saved = state(&mut con);
    // Not in any snapshot and no WAL: lost by a crash, as with Redis RDB.
    cmd(&mut con, &["SET", "unsaved", "1"]);
    let s = s.crash_restart(&["--shards", "2"]);
    let mut con = s.client();
    assert_eq!(saved, state(&mut con));
    assert_eq!(
        info_field(&mut con, "rdb_last_load_keys_loaded"),
        saved.len().to_string()
    );
    // A clean shutdown (SIGTERM) saves because save rules are configured.
    cmd(&mut con, &["SET", "at-shutdown", "1"]);
    let want = state(&mut con);
    let s = s.stop_restart(&["--shards", "2"]);
    let mut con = s.client();
    assert_eq!(want, state(&mut con));
    // SHUTDOWN NOSAVE does not.
    cmd(&mut con, &["SET", "nosave", "1"]);
    let _ = redis::cmd("SHUTDOWN")
        .arg("NOSAVE")
        .query::<redis::Value>(&mut con);
    let s = s.stop_restart(&["--shards", "2"]);
    let mut con = s.client();
    assert_eq!(want, state(&mut con));
    // And with no save rules a shutdown saves nothing, unless SHUTDOWN SAVE.
    cmd(&mut con, &["CONFIG", "SET", "save", ""]);
    cmd(&mut con, &["SET", "forced", "1"]);
    let _ = redis::cmd("SHUTDOWN")
        .arg("SAVE")
        .query::<redis::Value>(&mut con);
    let s = s.stop_restart(&["--shards", "2"]);
    let mut con = s.client();
    let v: Option<String> = redis::cmd("GET")
        .arg("forced")
        .query(&mut con)
        .expect("get");
    assert_eq!(v.as_deref(), Some("1"));
}

#[test]
fn bgsave_replies_and_errors_as_redis() {
    let s = Server::start(&["--shards", "2"]);
    let mut con = s.client();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["BGSAVE", "NOPE"]),
        common::Reply::Error("ERR syntax error".into())
    );
    assert_eq!(
        c.cmd(&["SAVE", "x"]),
        common::Reply::Error("ERR wrong number of arguments for 'save' command".into())
    );
    cmd(&mut con, &["SET", "k", "v"]);
    let r = cmd(&mut con, &["BGSAVE", "SCHEDULE"]);
    assert!(
        matches!(&r, redis::Value::SimpleString(t) if t.starts_with("Background saving")),
        "{r:?}"
    );
    common::wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    let r = cmd(&mut con, &["BGREWRITEAOF"]);
    assert!(
        matches!(&r, redis::Value::SimpleString(t) if t.starts_with("Background append only file rewriting")),
        "{r:?}"
    );
    common::wait_persistence(&mut con, "aof_rewrite_in_progress", "0");
    assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(info_field(&mut con, "aof_enabled"), "0");
}

#[test]
fn bgrewriteaof_drops_covered_segments() {
    let args = [
        "--shards",
        "1",
        "--appendonly",
        "yes",
        "--wal-segment-size",
        "8kb",
    ];
    let s = Server::start(&args);
    let mut con = s.client();
    for i in 0..2000 {
        cmd(&mut con, &["SET", &format!("key:{i}"), &"x".repeat(20)]);
    }
    let segs = files(s.dir(), "wal");
    assert!(segs.len() > 3, "rotated into {} segments", segs.len());
    cmd(&mut con, &["BGREWRITEAOF"]);
    common::wait_persistence(&mut con, "aof_rewrite_in_progress", "0");
    assert_eq!(info_field(&mut con, "aof_rewrites"), "1");
    let after = files(s.dir(), "wal");
    assert_eq!(after.len(), 1, "only the live segment remains: {after:?}");
    assert_eq!(files(s.dir(), "snap").len(), 1);
    cmd(&mut con, &["SET", "post", "rewrite"]);
    let before = state(&mut con);
    let s = s.stop_restart(&args);
    let mut con = s.client();
    assert_eq!(before, state(&mut con));
}

/// One shard, WAL fsynced on every write, no save rules.
const WAL_ALWAYS_ONE_SHARD: [&str; 8] = [
    "--shards",
    "1",
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--save",
    "",
];

/// Writes 50 keys through a server started with `args`, `kill -9`s it, and returns its data
/// directory and the state it acknowledged.
fn fifty_keys_then_crash(args: &[&str]) -> (PathBuf, State) {
    let s = Server::start(args);
    let mut con = s.client();
    for i in 0..50 {
        cmd(&mut con, &["SET", &format!("k{i}"), "value"]);
    }
    let before = state(&mut con);
    (s.kill(), before)
}

#[test]
fn torn_tail_is_truncated_and_logged() {
    let args = WAL_ALWAYS_ONE_SHARD;
    let (dir, before) = fifty_keys_then_crash(&args);
    let seg = files(&dir, "wal").pop().expect("a segment");
    let good_len = std::fs::metadata(&seg).expect("meta").len();
    // Half of a frame: what a crash in the middle of a write leaves.
    let mut bytes = std::fs::read(&seg).expect("read");
    bytes.extend_from_slice(&[0x20, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 51, 0, 0]);
    std::fs::write(&seg, &bytes).expect("write");
    let s = Server::start_in(&dir, &args);
    let mut con = s.client();
    assert_eq!(before, state(&mut con));
    assert!(s.log().contains("truncated a torn WAL tail"), "{}", s.log());
    assert_eq!(std::fs::metadata(&seg).expect("meta").len(), good_len);
}

#[test]
fn corrupt_record_stops_start_up_unless_skip_corrupt() {
    let args = WAL_ALWAYS_ONE_SHARD;
    let (dir, _) = fifty_keys_then_crash(&args);
    let seg = files(&dir, "wal").pop().expect("a segment");
    let mut bytes = std::fs::read(&seg).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&seg, &bytes).expect("write");
    let (status, out) = Server::run_to_exit(&dir, &args);
    assert!(!status.success(), "must refuse to start: {out}");
    assert!(out.contains("corrupt at byte offset"), "{out}");
    assert!(
        out.contains(&seg.file_name().unwrap().to_string_lossy().to_string()),
        "{out}"
    );
    let mut skip = args.to_vec();
    skip.extend(["--wal-recovery", "skip-corrupt"]);
    let s = Server::start_in(&dir, &skip);
    let mut con = s.client();
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).expect("dbsize");
    assert!((40..50).contains(&n), "all but the damaged record(s): {n}");
    assert!(s.log().contains("skipped damaged data"), "{}", s.log());
}

#[test]
fn config_set_appendonly_starts_logging() {
    let s = Server::start(&["--shards", "2", "--save", ""]);
    let mut con = s.client();
    cmd(&mut con, &["SET", "before", "1"]);
    assert_eq!(info_field(&mut con, "aof_enabled"), "0");
    cmd(
        &mut con,
        &[
            "CONFIG",
            "SET",
            "appendonly",
            "yes",
            "appendfsync",
            "always",
        ],
    );
    assert_eq!(info_field(&mut con, "aof_enabled"), "1");
    common::wait_persistence(&mut con, "aof_rewrite_in_progress", "0");
    cmd(&mut con, &["SET", "after", "2"]);
    let cfg: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query(&mut con)
        .expect("cfg");
    assert_eq!(cfg, vec!["appendfsync", "always"]);
    let before = state(&mut con);
    let s = s.crash_restart(&["--shards", "2", "--appendonly", "yes"]);
    let mut con = s.client();
    assert_eq!(before, state(&mut con));
}

#[test]
fn expired_keys_stay_gone_after_restart() {
    let args = WAL_ALWAYS_ONE_SHARD;
    let s = Server::start(&args);
    let mut con = s.client();
    cmd(&mut con, &["SET", "short", "v", "PX", "300"]);
    cmd(&mut con, &["SET", "long", "v", "EX", "1000"]);
    cmd(&mut con, &["SAVE"]);
    let dir = s.kill();
    std::thread::sleep(Duration::from_millis(400));
    let s = Server::start_in(&dir, &args);
    let mut con = s.client();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).expect("keys");
    assert_eq!(keys, vec!["long".to_string()]);
    let ttl: i64 = redis::cmd("TTL").arg("long").query(&mut con).expect("ttl");
    assert!((990..=1000).contains(&ttl), "{ttl}");
}

#[test]
fn wrong_shard_count_is_refused_with_advice() {
    let s = Server::start(&["--shards", "2", "--appendonly", "yes"]);
    let mut con = s.client();
    cmd(&mut con, &["SET", "k", "v"]);
    let dir = s.stop();
    let (status, out) = Server::run_to_exit(&dir, &["--shards", "3", "--appendonly", "yes"]);
    assert!(!status.success());
    assert!(out.contains("start with --shards 2"), "{out}");
}
