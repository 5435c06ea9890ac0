//! moon-tool against data directories written by the real server: inspect and verify a live
//! snapshot + WAL, dump it as RESP into a real redis-server (`redis-cli --pipe`; skipped with a
//! message when redis is absent), find a flipped byte with its offset, and repair a damaged
//! directory into one the server starts from.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::Server;

use common::tool::{output as tool, text};

fn q(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A data dir with a snapshot and a WAL tail after it, across two shards and two databases.
fn written_dir() -> (PathBuf, usize) {
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
    for i in 0..200 {
        q(&mut con, &["SET", &format!("s{i}"), &format!("v{i}")]);
    }
    q(&mut con, &["RPUSH", "list", "a", "b", "c"]);
    q(&mut con, &["HSET", "hash", "f", "v"]);
    q(&mut con, &["ZADD", "z", "1", "m"]);
    q(&mut con, &["SET", "ttl", "v", "EX", "1000"]);
    q(&mut con, &["BGSAVE"]);
    common::wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    q(&mut con, &["SELECT", "5"]);
    for i in 0..50 {
        q(&mut con, &["SET", &format!("tail{i}"), "t"]);
    }
    q(&mut con, &["SADD", "set", "x", "y"]);
    let keys = 200 + 4 + 50 + 1;
    (s.kill(), keys)
}

fn wal_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir).expect("dir").flatten() {
        if shard.file_name().to_string_lossy().starts_with("shard-") {
            for f in std::fs::read_dir(shard.path()).expect("shard").flatten() {
                if f.path().extension().is_some_and(|e| e == "wal") {
                    out.push(f.path());
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn inspect_and_verify_a_real_data_dir() {
    let (dir, _) = written_dir();
    let d = dir.to_str().expect("utf8");
    let out = tool(&["verify", d]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tool(&["inspect", d]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("snap-") && t.contains("wal-"), "{t}");
    let out = tool(&["wal", "tail", d, "-n", "3"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("SADD"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dump_as_resp_reproduces_the_dataset_in_redis() {
    let (dir, keys) = written_dir();
    let Some(reference) = common::reference::Reference::start("moon-tool dump | redis-cli --pipe")
    else {
        return;
    };
    let dump = tool(&["dump", dir.to_str().expect("utf8"), "--format", "resp"]);
    assert!(dump.status.success(), "{}", text(&dump));
    let mut pipe = Command::new("redis-cli")
        .args(["-p", &reference.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-cli");
    std::io::Write::write_all(pipe.stdin.as_mut().expect("stdin"), &dump.stdout).expect("pipe");
    let res = pipe.wait_with_output().expect("redis-cli --pipe");
    let report = String::from_utf8_lossy(&res.stdout).to_string();
    assert!(report.contains("errors: 0"), "{report}");
    let mut r = redis::Client::open(format!("redis://127.0.0.1:{}/", reference.port))
        .and_then(|c| c.get_connection())
        .expect("connect to redis-server");
    let mut total = 0;
    for db in 0..16 {
        q(&mut r, &["SELECT", &db.to_string()]);
        let n: usize = redis::cmd("DBSIZE").query(&mut r).expect("dbsize");
        total += n;
    }
    assert_eq!(total, keys);
    q(&mut r, &["SELECT", "0"]);
    let v: String = redis::cmd("GET").arg("s17").query(&mut r).expect("get");
    assert_eq!(v, "v17");
    let l: Vec<String> = redis::cmd("LRANGE")
        .arg("list")
        .arg(0)
        .arg(-1)
        .query(&mut r)
        .expect("lrange");
    assert_eq!(l, ["a", "b", "c"]);
    let ttl: i64 = redis::cmd("TTL").arg("ttl").query(&mut r).expect("ttl");
    assert!(ttl > 900, "{ttl}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damage_is_found_and_repaired() {
    let (dir, keys) = written_dir();
    let d = dir.to_str().expect("utf8");
    // Damage the middle of the biggest WAL segment.
    let seg = wal_files(&dir)
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("a segment");
    let mut bytes = std::fs::read(&seg).expect("read");
    let at = 64 + (bytes.len() - 64) / 2;
    bytes[at] ^= 0x55;
    std::fs::write(&seg, &bytes).expect("write");
    let out = tool(&["verify", d]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let name = seg.file_name().expect("name").to_string_lossy().to_string();
    assert!(text(&out).contains(&name), "{}", text(&out));
    // The server refuses the damaged dir...
    let args = ["--shards", "2", "--appendonly", "yes"];
    let (status, log) = Server::run_to_exit(&dir, &args);
    assert!(!status.success(), "{log}");
    // ...and starts from the repaired copy, missing at most the damaged record.
    let fixed = common::fresh_dir().join("fixed");
    let out = tool(&["repair", d, "--out", fixed.to_str().expect("utf8")]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a record was lost: {}",
        text(&out)
    );
    assert!(text(&out).contains("LOST"), "{}", text(&out));
    let out = tool(&["verify", fixed.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", text(&out));
    let s = Server::start_in(&fixed, &args);
    let mut con = s.client();
    let mut total = 0;
    for db in 0..16 {
        q(&mut con, &["SELECT", &db.to_string()]);
        let n: usize = redis::cmd("DBSIZE").query(&mut con).expect("dbsize");
        total += n;
    }
    assert!(total + 1 >= keys && total <= keys, "{total} of {keys}");
    let _ = std::fs::remove_dir_all(&dir);
}
