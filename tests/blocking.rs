//! Blocking commands end to end: immediate answers, timeouts (fractional, and 0 = forever),
//! wake-ups by pushes from connections on other shards, FIFO order among blocked clients,
//! multi-key waits spanning shards, BLMOVE to another shard, no blocking inside MULTI, and a
//! blocked client's later commands waiting for it.

mod common;

use std::time::{Duration, Instant};

use common::{Reply, Server, keys_on_shards, wait_until};

const SHARDS: usize = 4;

fn start() -> Server {
    Server::start(&["--shards", "4"])
}

fn blocked_clients(c: &mut common::Conn) -> u64 {
    let text = c.q("INFO clients").text();
    text.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the server reports `n` blocked clients.
fn await_blocked(c: &mut common::Conn, n: u64) {
    assert!(
        wait_until(Duration::from_secs(10), || blocked_clients(c) == n),
        "expected {n} blocked clients"
    );
}

#[test]
fn answers_at_once_and_times_out() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.q("RPUSH l a b"), Reply::Int(2));
    assert_eq!(c.q("BLPOP l 0"), Reply::bulks(&["l", "a"]));
    assert_eq!(c.q("BRPOP nothing l 1"), Reply::bulks(&["l", "b"]));
    let t = Instant::now();
    assert_eq!(c.q("BLPOP empty 0.1"), Reply::NilArray);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(90), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    // BLMOVE/BRPOPLPUSH time out with a null bulk string.
    assert_eq!(c.q("BLMOVE empty dst LEFT RIGHT 0.05"), Reply::NilBulk);
    assert_eq!(c.q("BRPOPLPUSH empty dst 0.05"), Reply::NilBulk);
    // The connection works normally afterwards.
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
}

#[test]
fn push_from_another_shard_wakes_in_fifo_order() {
    let s = start();
    let mut pusher = s.conn();
    let key = "fifo";
    let mut waiters: Vec<common::Conn> = (0..3).map(|_| s.conn()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        w.send(&["BLPOP", key, "0"]);
        await_blocked(&mut pusher, i as u64 + 1);
    }
    assert_eq!(pusher.q("RPUSH fifo 1 2 3"), Reply::Int(3));
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(w.read(), Reply::bulks(&["fifo", &(i + 1).to_string()]));
    }
    await_blocked(&mut pusher, 0);
    assert_eq!(pusher.q("EXISTS fifo"), Reply::Int(0));
}

#[test]
fn multi_key_wait_across_shards_and_blmove_to_another_shard() {
    let s = start();
    let keys = keys_on_shards("bk", SHARDS, SHARDS);
    let mut c = s.conn();
    let mut w = s.conn();
    // Wait on keys of every shard; a push to the last one wakes it.
    let mut args = vec!["BLPOP"];
    args.extend(keys.iter().map(String::as_str));
    args.push("0");
    w.send(&args);
    await_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["LPUSH", keys[3].as_str(), "x"]), Reply::Int(1));
    assert_eq!(w.read(), Reply::bulks(&[keys[3].as_str(), "x"]));

    // BLMOVE from a key on one shard to a key on another.
    w.send(&[
        "BLMOVE",
        keys[0].as_str(),
        keys[1].as_str(),
        "RIGHT",
        "LEFT",
        "0",
    ]);
    await_blocked(&mut c, 1);
    assert_eq!(
        c.cmd(&["RPUSH", keys[0].as_str(), "m1", "m2"]),
        Reply::Int(2)
    );
    assert_eq!(w.read(), Reply::bulk("m2"));
    assert_eq!(
        c.cmd(&["LRANGE", keys[1].as_str(), "0", "-1"]),
        Reply::bulks(&["m2"])
    );
    assert_eq!(
        c.cmd(&["LRANGE", keys[0].as_str(), "0", "-1"]),
        Reply::bulks(&["m1"])
    );
}

#[test]
fn no_blocking_inside_multi_and_later_commands_wait() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("BLPOP nokey 0"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::Array(vec![Reply::NilArray]));

    // A pipelined PING after a blocking BLPOP is answered only after the BLPOP.
    let mut w = s.conn();
    let mut bytes = common::resp::encode(&["BLPOP", "later", "0"]);
    bytes.extend(common::resp::encode(&["PING"]));
    w.send_raw(&bytes);
    await_blocked(&mut c, 1);
    assert_eq!(c.q("RPUSH later v"), Reply::Int(1));
    assert_eq!(w.read(), Reply::bulks(&["later", "v"]));
    assert_eq!(w.read(), Reply::simple("PONG"));
}

#[test]
fn disconnected_waiter_loses_nothing_and_timeouts_race_cleanly() {
    let s = start();
    let mut c = s.conn();
    {
        let mut gone = s.conn();
        gone.send(&["BLPOP", "lost", "0"]);
        await_blocked(&mut c, 1);
    }
    await_blocked(&mut c, 0);
    assert_eq!(c.q("RPUSH lost v"), Reply::Int(1));
    assert_eq!(c.q("LRANGE lost 0 -1"), Reply::bulks(&["v"]));

    // Many short timeouts against concurrent pushes: every pushed element is popped exactly
    // once, by a waiter or left in the list.
    let mut popped = 0;
    let mut pushed = 0;
    for round in 0..20 {
        let mut w = s.conn();
        w.send(&["BLPOP", "race", "0.01"]);
        std::thread::sleep(Duration::from_millis(round % 3 * 5));
        assert!(c.q("RPUSH race e").int() >= 1);
        pushed += 1;
        if let Reply::Array(_) = w.read() {
            popped += 1;
        }
    }
    let left = c.q("LLEN race").int();
    assert_eq!(popped + left, pushed);
}

#[test]
fn sorted_set_and_stream_waits() {
    let s = start();
    let mut c = s.conn();
    let mut w = s.conn();
    w.send(&["BZPOPMIN", "bz", "0"]);
    await_blocked(&mut c, 1);
    assert_eq!(c.q("ZADD bz 2 b 1 a"), Reply::Int(2));
    assert_eq!(w.read(), Reply::bulks(&["bz", "a", "1"]));
    assert_eq!(c.q("ZRANGE bz 0 -1"), Reply::bulks(&["b"]));

    // XREAD $ sees only entries added after it blocked.
    assert!(!c.q("XADD st 1-1 f old").is_nil());
    w.send(&["XREAD", "BLOCK", "0", "STREAMS", "st", "$"]);
    await_blocked(&mut c, 1);
    assert_eq!(c.q("XADD st 2-1 f new"), Reply::bulk("2-1"));
    assert_eq!(
        w.read(),
        Reply::Array(vec![Reply::Array(vec![
            Reply::bulk("st"),
            Reply::Array(vec![Reply::Array(vec![
                Reply::bulk("2-1"),
                Reply::bulks(&["f", "new"]),
            ])]),
        ])])
    );

    // XREAD BLOCK with a timeout answers a null array.
    assert_eq!(c.q("XREAD BLOCK 50 STREAMS st $"), Reply::NilArray);
}
