//! Crash tests: `kill -9` during a write load. Under `appendfsync always` every acknowledged
//! write survives (plain, counter, list and cross-shard writes, with the io_uring commit in
//! flight while the shard serves on), and reads are answered while writes keep coming; under
//! `everysec` at most about a second of writes is lost; a snapshot taken while a writer runs
//! is an exact prefix of that writer's history (point-in-time).

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

/// Two shards on io_uring under `appendfsync always`: the in-flight commit's path.
fn uring_always() -> Vec<&'static str> {
    let mut args = common::TWO_SHARDS_WAL_ALWAYS.to_vec();
    args.extend(["--io", "uring"]);
    args
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

/// A writer of mixed ops: per batch index `j`, `INCR c<t>`, `RPUSH l<t> j` and a cross-shard
/// `MSET m<t>:a j m<t>:b j`; returns the last acknowledged `j`.
fn mixed_writer(port: u16, t: usize, stop: Arc<AtomicBool>) -> JoinHandle<Option<u64>> {
    std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("url");
        let mut con = client.get_connection().expect("connect");
        let (mut j, mut last) = (0u64, None);
        while !stop.load(Ordering::Relaxed) {
            let mut p = redis::pipe();
            for k in j..j + 16 {
                p.cmd("INCR").arg(format!("c{t}")).ignore();
                p.cmd("RPUSH").arg(format!("l{t}")).arg(k).ignore();
                p.cmd("MSET")
                    .arg(format!("m{t}:a"))
                    .arg(k)
                    .arg(format!("m{t}:b"))
                    .arg(k)
                    .ignore();
            }
            if p.query::<()>(&mut con).is_err() {
                break;
            }
            j += 16;
            last = Some(j - 1);
        }
        last
    })
}

/// Under `always` with the io_uring commit in flight: counters, lists and cross-shard MSETs
/// acknowledged before a `kill -9` are all there after the restart.
#[test]
fn appendfsync_always_keeps_acknowledged_counters_lists_and_cross_shard_writes() {
    let args = uring_always();
    let s = Server::start(&args);
    assert!(
        (0..3).any(|t| {
            let shard = |side: &str| common::shard_of(format!("m{t}:{side}").as_bytes(), 2);
            shard("a") != shard("b")
        }),
        "some MSET spans both shards"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|t| mixed_writer(s.port(), t, stop.clone()))
        .collect();
    std::thread::sleep(Duration::from_millis(1200));
    let s = s.crash_restart(&args);
    let lasts: Vec<Option<u64>> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    let mut con = s.client();
    for (t, last) in lasts.iter().enumerate() {
        let last = last.expect("the writer got acknowledgements before the crash");
        let count: u64 = get(&mut con, &format!("c{t}"))
            .expect("counter")
            .parse()
            .expect("int");
        assert!(count > last, "c{t} = {count}, acknowledged {}", last + 1);
        let list: Vec<u64> = redis::cmd("LRANGE")
            .arg(format!("l{t}"))
            .arg(0)
            .arg(last as i64)
            .query(&mut con)
            .expect("lrange");
        assert_eq!(
            list,
            (0..=last).collect::<Vec<_>>(),
            "l{t} lost acknowledged items"
        );
        for side in ["a", "b"] {
            let v: u64 = get(&mut con, &format!("m{t}:{side}"))
                .expect("mset key")
                .parse()
                .expect("int");
            assert!(v >= last, "m{t}:{side} = {v}, acknowledged {last}");
        }
    }
}

/// Under `always`: a reader on another connection keeps getting answers while writers keep
/// the commit busy, never sees a value vanish, and sees what the writers were acknowledged.
#[test]
fn reads_are_answered_while_writes_to_the_same_keys_keep_coming_under_always() {
    let args = uring_always();
    let s = Server::start(&args);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|t| writer(s.port(), t, 50, stop.clone()))
        .collect();
    let client = redis::Client::open(s.url()).expect("url");
    let mut con = client.get_connection().expect("connect");
    con.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let deadline = Instant::now() + Duration::from_millis(1500);
    let (mut reads, mut found) = (0u64, [false; 2]);
    while Instant::now() < deadline {
        for (t, found) in found.iter_mut().enumerate() {
            // Each writer's first key, written once and never again: once seen it stays.
            let v: Option<String> = redis::cmd("GET")
                .arg(format!("w{t}:0"))
                .query(&mut con)
                .expect("a read is answered while writes keep coming");
            match v {
                Some(v) => {
                    assert_eq!(v, "0");
                    *found = true;
                }
                None => assert!(!*found, "w{t}:0 vanished"),
            }
            reads += 1;
        }
    }
    assert_eq!(found, [true; 2], "the reads saw both writers' keys");
    stop.store(true, Ordering::Relaxed);
    let acks: Vec<Acks> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    assert!(reads > 50, "only {reads} reads in 1.5 s");
    for (t, a) in acks.iter().enumerate() {
        let last = a.last.expect("the writer made progress");
        assert!(last > 100, "writer {t} acknowledged only {last}");
        assert_eq!(
            get(&mut con, &format!("w{t}:{last}")).as_deref(),
            Some(last.to_string().as_str()),
            "a second connection sees the acknowledged write"
        );
    }
}

/// Under `always`: whatever a client saw of a write — a keyspace notification on another
/// connection, or the value read through another shard — survives a `kill -9`.
#[test]
fn what_a_client_saw_of_a_write_survives_a_crash_under_always() {
    let args = uring_always();
    let s = Server::start(&args);
    let mut admin = s.client();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("notify-keyspace-events")
        .arg("KA")
        .query(&mut admin)
        .expect("CONFIG SET");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|t| writer(s.port(), t, 50, stop.clone()))
        .collect();
    let client = redis::Client::open(s.url()).expect("url");
    let mut sub = client.get_connection().expect("connect");
    sub.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut pubsub = sub.as_pubsub();
    pubsub.psubscribe("__keyspace@0__:w*").expect("psubscribe");
    let mut reader = client.get_connection().expect("connect");
    let deadline = Instant::now() + Duration::from_millis(1000);
    let mut seen: Vec<String> = Vec::new();
    let mut read: Vec<(String, String)> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let msg = pubsub.get_message().expect("a keyspace message");
        seen.push(
            msg.get_channel_name()
                .trim_start_matches("__keyspace@0__:")
                .to_string(),
        );
        // Read a key the writers are about to reach (often on the other shard).
        n += 1;
        let key = format!("w{}:{}", n % 2, n * 7);
        if let Some(v) = get(&mut reader, &key) {
            read.push((key, v));
        }
    }
    drop(pubsub);
    let s = s.crash_restart(&args);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
    let mut con = s.client();
    assert!(seen.len() > 50, "only {} notifications", seen.len());
    for key in &seen {
        assert!(
            get(&mut con, key).is_some(),
            "{key} was notified before the crash but is gone"
        );
    }
    for (key, v) in &read {
        assert_eq!(
            get(&mut con, key).as_ref(),
            Some(v),
            "{key} was read before the crash"
        );
    }
}
