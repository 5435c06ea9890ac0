//! SCAN end to end: reply shape, MATCH/COUNT/TYPE filters and errors, and the completeness
//! guarantee (every key present for the whole scan is returned at least once) while the
//! keyspace grows several-fold between calls, with one shard and with four.

mod common;

use std::collections::HashSet;

use common::{Conn, Reply, Server};

/// Runs a full SCAN with `extra` options, calling `between` after every call; returns all keys.
fn scan_all(c: &mut Conn, extra: &[&str], mut between: impl FnMut(&mut Conn)) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut calls = 0u64;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let reply = c.cmd(&args).items();
        assert_eq!(reply.len(), 2, "SCAN reply is [cursor, keys]");
        let Reply::Bulk(next) = &reply[0] else {
            panic!("cursor must be a bulk string: {reply:?}")
        };
        out.extend(reply[1].items().iter().map(Reply::text));
        cursor = String::from_utf8_lossy(next).into_owned();
        calls += 1;
        assert!(calls < 10_000_000, "SCAN did not terminate");
        if cursor == "0" {
            return out;
        }
        between(c);
    }
}

/// Writes `SET prefix{i} i` for every i in range, pipelined in chunks (so neither side's
/// socket buffer can fill while the other is not reading), and checks every reply.
fn load(c: &mut Conn, prefix: &str, range: std::ops::Range<usize>) {
    let all: Vec<usize> = range.collect();
    for chunk in all.chunks(1000) {
        let mut buf = Vec::new();
        for i in chunk {
            buf.extend(common::resp::encode(&[
                "SET",
                &format!("{prefix}{i}"),
                &i.to_string(),
            ]));
        }
        c.send_raw(&buf);
        for _ in chunk {
            assert_eq!(c.read(), Reply::ok());
        }
    }
}

#[test]
fn scan_basics_and_filters() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.q("SCAN 0"),
        Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
    );
    load(&mut c, "key:", 0..1000);
    load(&mut c, "other:", 0..100);

    let all: HashSet<String> = scan_all(&mut c, &[], |_| {}).into_iter().collect();
    assert_eq!(all.len(), 1100);
    let small: HashSet<String> = scan_all(&mut c, &["COUNT", "5"], |_| {})
        .into_iter()
        .collect();
    assert_eq!(small, all);
    let big: HashSet<String> = scan_all(&mut c, &["COUNT", "100000"], |_| {})
        .into_iter()
        .collect();
    assert_eq!(big, all);

    let matched: HashSet<String> = scan_all(&mut c, &["MATCH", "other:*"], |_| {})
        .into_iter()
        .collect();
    assert_eq!(matched.len(), 100);
    assert!(matched.iter().all(|k| k.starts_with("other:")));
    let one = scan_all(&mut c, &["MATCH", "key:99?", "COUNT", "50"], |_| {});
    let one: HashSet<String> = one.into_iter().collect();
    assert_eq!(one.len(), 10);

    let strings = scan_all(&mut c, &["TYPE", "string", "COUNT", "200"], |_| {});
    assert_eq!(strings.into_iter().collect::<HashSet<_>>(), all);
    assert!(scan_all(&mut c, &["TYPE", "hash"], |_| {}).is_empty());

    assert_eq!(c.q("SCAN abc"), Reply::err("ERR invalid cursor"));
    assert_eq!(c.q("SCAN 0 COUNT 0"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("SCAN 0 COUNT x"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.q("SCAN 0 FOO"), Reply::err("ERR syntax error"));
    assert_eq!(c.q("SCAN 0 MATCH"), Reply::err("ERR syntax error"));
}

#[test]
fn scan_expired_keys_are_not_returned() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    load(&mut c, "live:", 0..50);
    for i in 0..50 {
        c.cmd(&["SET", &format!("dead:{i}"), "x", "PX", "1"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    let keys = scan_all(&mut c, &["COUNT", "1000"], |_| {});
    assert!(
        keys.iter().all(|k| k.starts_with("live:")),
        "expired keys leaked into SCAN"
    );
    assert_eq!(keys.into_iter().collect::<HashSet<_>>().len(), 50);
}

fn scan_while_growing(shards: &str) {
    let s = Server::start(&["--shards", shards]);
    let mut c = s.conn();
    const ORIGINAL: usize = 20_000;
    const ADDED: usize = 100_000;
    // Large batches so the table at least doubles even if the server returns far more than
    // COUNT keys per call.
    const BATCH: usize = 2_000;
    load(&mut c, "orig:", 0..ORIGINAL);

    let mut next = 0usize;
    let seen = scan_all(&mut c, &["COUNT", "50"], |c| {
        if next < ADDED {
            let end = (next + BATCH).min(ADDED);
            load(c, "new:", next..end);
            next = end;
        }
    });
    assert!(
        next >= ORIGINAL,
        "the scan was too short to exercise growth ({next} added)"
    );
    let seen: HashSet<String> = seen.into_iter().collect();
    let missing: Vec<usize> = (0..ORIGINAL)
        .filter(|i| !seen.contains(&format!("orig:{i}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} original keys never returned, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(c.q("DBSIZE"), Reply::Int((ORIGINAL + next) as i64));
}

#[test]
fn scan_complete_while_growing_one_shard() {
    scan_while_growing("1");
}

#[test]
fn scan_complete_while_growing_four_shards() {
    scan_while_growing("4");
}
