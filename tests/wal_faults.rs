//! WAL write failures under `appendfsync always` (`DEBUG WAL-FAULT`, SPEC §1.7): a write whose
//! commit fails is never answered OK (its connection is closed), later writes answer MISCONF
//! while reads keep working, INFO shows `aof_last_write_status:err` until a retry succeeds,
//! and after a crash every write that was answered OK is there. Over both I/O back-ends, with
//! two shards so that a forwarded write's held reply is dropped too.

mod common;

use common::{Server, err_text, fresh_dir, keys_on_shards, wait_persistence};
use redis::Connection;

const MISCONF: &str = "MISCONF Errors writing to the AOF file: Input/output error";

fn args(io: &str) -> Vec<&str> {
    let mut v = vec!["--io", io];
    v.extend(common::TWO_SHARDS_WAL_ALWAYS);
    v
}

fn set(con: &mut Connection, key: &str, value: &str) -> redis::RedisResult<String> {
    redis::cmd("SET").arg(key).arg(value).query(con)
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(con).expect("GET")
}

fn aof_status(con: &mut Connection) -> String {
    let info: String = redis::cmd("INFO")
        .arg("persistence")
        .query(con)
        .expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("aof_last_write_status:"))
        .unwrap_or("missing")
        .trim_end()
        .to_string()
}

fn fault(con: &mut Connection, arg: &str) {
    let r: String = redis::cmd("DEBUG")
        .arg("WAL-FAULT")
        .arg(arg)
        .query(con)
        .expect("DEBUG WAL-FAULT");
    assert_eq!(r, "OK");
}

fn failed_commit_is_never_acknowledged(io: &str) {
    let dir = fresh_dir();
    let s = Server::start_in(&dir, &args(io));
    let mut admin = s.client();
    // One key per shard for each phase: acknowledged before, lost in the failed commit,
    // refused while failing, acknowledged after.
    let [before, lost, refused, after] =
        ["before", "lost", "refused", "after"].map(|p| keys_on_shards(p, 2, 2));
    for k in &before {
        assert_eq!(set(&mut admin, k, "1").expect("SET before"), "OK");
    }
    fault(&mut admin, "1000000");
    for k in &lost {
        // A fresh client per key: the failed commit closes the connection whose reply
        // waited for it, local or forwarded.
        let mut c = s.client();
        match set(&mut c, k, "2") {
            Ok(r) => panic!("{io}: SET {k} answered {r:?} although its commit failed"),
            Err(e) => assert!(
                !err_text(&e).starts_with("MISCONF"),
                "{io}: the first failure closes, it does not refuse: {e}"
            ),
        }
    }
    let mut c = s.client();
    for k in &refused {
        let e = set(&mut c, k, "3").expect_err("refused while failing");
        assert_eq!(err_text(&e), MISCONF, "{io}");
    }
    // A cross-shard MSET (the atomic path) is refused too.
    let e = redis::cmd("MSET")
        .arg(&refused[0])
        .arg("5")
        .arg(&refused[1])
        .arg("5")
        .query::<String>(&mut c)
        .expect_err("MSET refused while failing");
    assert_eq!(err_text(&e), MISCONF, "{io}");
    for k in &before {
        assert_eq!(get(&mut c, k).as_deref(), Some("1"), "{io}: reads work");
    }
    assert_eq!(aof_status(&mut c), "err", "{io}");

    fault(&mut admin, "OFF");
    wait_persistence(&mut c, "aof_last_write_status", "ok");
    for k in &after {
        assert_eq!(set(&mut c, k, "4").expect("SET after"), "OK", "{io}");
    }

    let s = s.crash_restart(&args(io));
    let mut c = s.client();
    for k in &before {
        assert_eq!(
            get(&mut c, k).as_deref(),
            Some("1"),
            "{io}: {k} was acknowledged"
        );
    }
    for k in &after {
        assert_eq!(
            get(&mut c, k).as_deref(),
            Some("4"),
            "{io}: {k} was acknowledged"
        );
    }
    for k in &refused {
        assert_eq!(get(&mut c, k), None, "{io}: {k} was refused");
    }
    assert_eq!(aof_status(&mut c), "ok");
}

#[test]
fn failed_commit_closes_and_refuses_writes_uring() {
    failed_commit_is_never_acknowledged("uring");
}

#[test]
fn failed_commit_closes_and_refuses_writes_epoll() {
    failed_commit_is_never_acknowledged("epoll");
}

#[test]
fn debug_wal_fault_arguments() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.client();
    fault(&mut c, "0");
    fault(&mut c, "off");
    let e = redis::cmd("DEBUG")
        .arg("WAL-FAULT")
        .arg("x")
        .query::<String>(&mut c)
        .expect_err("not a count");
    assert_eq!(err_text(&e), "ERR value is not an integer or out of range");
}
