//! `maxmemory` end to end: the OOM error under noeviction, eviction keeping memory under the
//! limit for every policy, volatile policies sparing persistent keys, LFU keeping hot keys, and
//! OBJECT FREQ / IDLETIME under the LFU and LRU policies.

mod common;

use common::{Reply, Server};

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn info_field(c: &mut common::Conn, section: &str, field: &str) -> u64 {
    let text = c.cmd(&["INFO", section]).text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

fn fill(c: &mut common::Conn, prefix: &str, n: usize, ttl: bool) -> usize {
    let value = "v".repeat(400);
    let mut oom = 0;
    for i in 0..n {
        let key = format!("{prefix}:{i}");
        let r = if ttl {
            c.cmd(&["SET", key.as_str(), value.as_str(), "EX", "1000"])
        } else {
            c.cmd(&["SET", key.as_str(), value.as_str()])
        };
        match r {
            Reply::Simple(_) => {}
            Reply::Error(e) if e == OOM => oom += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    oom
}

#[test]
fn noeviction_refuses_writes_but_not_reads_or_deletes() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(c.q("CONFIG SET maxmemory 1mb"), Reply::ok());
    let refused = fill(&mut c, "k", 6000, false);
    assert!(refused > 0, "writes past 1mb must be refused");
    assert_eq!(c.q("GET k:0"), Reply::bulk("v".repeat(400)));
    assert_eq!(c.q("DEL k:0"), Reply::Int(1));
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    assert_eq!(c.q("CONFIG SET maxmemory 0"), Reply::ok());
    assert_eq!(c.q("SET again v"), Reply::ok());
}

#[test]
fn every_evicting_policy_keeps_memory_under_the_limit() {
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let s = Server::start(&["--shards", "2"]);
        let mut c = s.conn();
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]),
            Reply::ok()
        );
        assert_eq!(c.q("CONFIG SET maxmemory 2mb"), Reply::ok());
        let volatile = policy.starts_with("volatile");
        if volatile {
            // Persistent keys that must never be evicted.
            for i in 0..50 {
                assert_eq!(c.cmd(&["SET", &format!("keep:{i}"), "x"]), Reply::ok());
            }
        }
        let refused = fill(&mut c, "k", 15_000, volatile);
        assert_eq!(refused, 0, "{policy}: evicting policies make room");
        let used = info_field(&mut c, "memory", "used_memory");
        assert!(
            used <= 2 * 1024 * 1024 + 64 * 1024,
            "{policy}: used_memory {used}"
        );
        let evicted = info_field(&mut c, "stats", "evicted_keys");
        assert!(evicted > 5000, "{policy}: evicted {evicted}");
        let size = c.q("DBSIZE").int();
        assert!(size < 15_000, "{policy}: dbsize {size}");
        if volatile {
            for i in 0..50 {
                assert_eq!(
                    c.cmd(&["EXISTS", &format!("keep:{i}")]),
                    Reply::Int(1),
                    "{policy}"
                );
            }
        }
    }
}

#[test]
fn volatile_policy_without_ttl_keys_answers_oom() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(c.q("CONFIG SET maxmemory-policy volatile-lru"), Reply::ok());
    assert_eq!(c.q("CONFIG SET maxmemory 1mb"), Reply::ok());
    assert!(fill(&mut c, "p", 6000, false) > 0);
}

#[test]
fn lfu_keeps_hot_keys_and_reports_frequency() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(c.q("SET plain v"), Reply::ok());
    assert_eq!(
        c.q("OBJECT FREQ plain"),
        Reply::err(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    );
    assert_eq!(c.q("CONFIG SET maxmemory-policy allkeys-lfu"), Reply::ok());
    assert!(
        c.q("OBJECT IDLETIME plain")
            .error()
            .starts_with("ERR An LFU maxmemory policy is selected, idle time not tracked.")
    );
    assert_eq!(c.q("SET fresh v"), Reply::ok());
    assert_eq!(c.q("OBJECT FREQ fresh"), Reply::Int(5));
    for i in 0..20 {
        let key = format!("hot:{i}");
        assert_eq!(c.cmd(&["SET", key.as_str(), "v"]), Reply::ok());
        for _ in 0..200 {
            c.cmd(&["GET", key.as_str()]);
        }
    }
    assert!(c.q("OBJECT FREQ hot:0").int() > 8);
    assert_eq!(c.q("CONFIG SET maxmemory 2mb"), Reply::ok());
    assert_eq!(fill(&mut c, "cold", 15_000, false), 0);
    let survivors = (0..20)
        .filter(|i| c.cmd(&["EXISTS", &format!("hot:{i}")]) == Reply::Int(1))
        .count();
    assert!(survivors >= 18, "only {survivors} of 20 hot keys survived");
    assert_eq!(
        c.q("CONFIG GET maxmemory-policy"),
        Reply::bulks(&["maxmemory-policy", "allkeys-lfu"])
    );
    assert_eq!(
        c.q("CONFIG SET maxmemory-policy bogus"),
        Reply::err(
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        )
    );
}
