//! Crash tests: `kill -9` during a write load. Under `appendfsync always` every acknowledged
//! write survives; under `everysec` at most about a second of writes is lost; a snapshot taken
//! while a writer runs is an exact prefix of that writer's history (point-in-time).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::Server;
use redis::Connection;

/// Per writer: index of the last acknowledged write, and when each batch was acknowledged.
struct Acks {
    last: Option<u64>,
    times: Vec<(u64, Instant)>,
}

/// A writer thread: `SET w<t>:<i> <i>` in pipelined batches of `batch`, until the server
/// dies or `stop` is set.
fn writer(port: u16, t: usize, batch: u64, stop: Arc<AtomicBool>) -> JoinHandle<Acks> {
    std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
        let mut con = client.get_connection().expect("connect");
        let mut acks = Acks {
            last: None,
            times: Vec::new(),
        };
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let mut p = redis::pipe();
            for j in i..i + batch {
                p.cmd("SET").arg(format!("w{t}:{j}")).arg(j).ignore();
            }
            if p.query::<()>(&mut con).is_err() {
                break;
            }
            i += batch;
            acks.last = Some(i - 1);
            acks.times.push((i - 1, Instant::now()));
        }
        acks
    })
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(con).expect("get")
}

fn crash_under_load(policy: &str, run: Duration) -> (Vec<Acks>, Instant, Server) {
    let args = [
        "--shards",
        "2",
        "--appendonly",
        "yes",
        "--appendfsync",
        policy,
        "--save",
        "",
    ];
    let s = Server::start(&args);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|t| writer(s.port(), t, 20, stop.clone()))
        .collect();
    std::thread::sleep(run);
    let killed_at = Instant::now();
    let dir = s.kill();
    let acks: Vec<Acks> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    let s = Server::start_in(&dir, &args);
    (acks, killed_at, s)
}

#[test]
fn appendfsync_always_keeps_every_acknowledged_write() {
    let (acks, _, s) = crash_under_load("always", Duration::from_millis(1500));
    let mut con = s.client();
    let mut checked = 0;
    for (t, a) in acks.iter().enumerate() {
        let last = a
            .last
            .expect("the writer got acknowledgements before the crash");
        for i in 0..=last {
            assert_eq!(
                get(&mut con, &format!("w{t}:{i}")).as_deref(),
                Some(i.to_string().as_str()),
                "acknowledged write w{t}:{i} (of 0..={last}) lost"
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "too few writes to mean anything: {checked}");
}

#[test]
fn appendfsync_everysec_loses_at_most_about_a_second() {
    let (acks, killed_at, s) = crash_under_load("everysec", Duration::from_millis(2500));
    let mut con = s.client();
    // Noisy shared machines: allow the fsync thread a second of scheduling slack on top.
    let horizon = killed_at - Duration::from_millis(2000);
    let mut required = 0;
    for (t, a) in acks.iter().enumerate() {
        let due = a
            .times
            .iter()
            .filter(|(_, at)| *at <= horizon)
            .map(|(i, _)| *i)
            .max();
        let Some(due) = due else { continue };
        for i in 0..=due {
            assert!(
                get(&mut con, &format!("w{t}:{i}")).is_some(),
                "w{t}:{i}, acknowledged more than 2 s before the crash, was lost"
            );
            required += 1;
        }
    }
    assert!(
        required > 100,
        "too few old writes to mean anything: {required}"
    );
}

#[test]
fn snapshot_under_writes_is_a_prefix_of_the_writer_history() {
    let args = ["--shards", "1", "--save", ""];
    let s = Server::start(&args);
    let mut con = s.client();
    // Enough keys that the snapshot takes many loop iterations.
    for chunk in 0..40 {
        let mut p = redis::pipe();
        let mut m = redis::cmd("MSET");
        for i in 0..2500 {
            m.arg(format!("bulk:{chunk}:{i}")).arg("x".repeat(16));
        }
        p.add_command(m).ignore();
        p.query::<()>(&mut con).expect("preload");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let port = s.port();
    let stop2 = stop.clone();
    let history = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
        let mut con = client.get_connection().expect("connect");
        let mut j = 0u64;
        while !stop2.load(Ordering::Relaxed) {
            let mut p = redis::pipe();
            for _ in 0..10 {
                p.cmd("SET").arg(format!("s:{j}")).arg(j).ignore();
                if j >= 50 {
                    p.cmd("DEL").arg(format!("s:{}", j - 50)).ignore();
                } else {
                    p.cmd("PING").ignore();
                }
                p.cmd("SET").arg("last").arg(j).ignore();
                j += 1;
            }
            p.query::<()>(&mut con).expect("write");
        }
        j
    });
    std::thread::sleep(Duration::from_millis(100));
    let r: String = redis::cmd("BGSAVE").query(&mut con).expect("bgsave");
    assert_eq!(r, "Background saving started");
    common::wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let total = history.join().expect("writer");
    let dir = s.kill();
    // Restart from the snapshot alone (no WAL): exactly its image.
    let s = Server::start_in(&dir, &args);
    let mut con = s.client();
    let keys: Vec<String> = redis::cmd("KEYS").arg("s:*").query(&mut con).expect("keys");
    let present: Vec<u64> = {
        let mut v: Vec<u64> = keys
            .iter()
            .map(|k| k[2..].parse().expect("index"))
            .collect();
        v.sort_unstable();
        v
    };
    let m = *present.last().expect("the snapshot caught some writes");
    assert!(
        m + 1 < total,
        "the writer kept going after the snapshot ({m} < {total})"
    );
    let last: u64 = get(&mut con, "last").expect("last").parse().expect("int");
    let lo = m.saturating_sub(49);
    for i in lo..=m {
        assert!(
            present.binary_search(&i).is_ok(),
            "s:{i} missing from the image"
        );
    }
    let extra: Vec<u64> = present.iter().copied().filter(|&i| i < lo).collect();
    // A cut between `SET s:m` and `DEL s:(m-50)` keeps s:(m-50); nothing older may survive.
    assert!(
        extra.is_empty() || (extra == vec![m - 50] && last == m - 1),
        "not a prefix: extra {extra:?}, m {m}, last {last}"
    );
    assert!(last == m || last + 1 == m, "last {last} vs m {m}");
    let bulk: i64 = redis::cmd("DBSIZE").query(&mut con).expect("dbsize");
    assert_eq!(bulk as usize, 100_000 + present.len() + 1);
}
