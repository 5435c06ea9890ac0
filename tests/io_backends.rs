//! The same smoke test over both I/O backends (`--io epoll`, `--io uring`): SET/GET, a
//! pipelined MSET/MGET burst, large values that need several reads and writes, and several
//! clients at once.

mod common;

use common::{Reply, Server};

fn smoke(io: &str) {
    smoke_with(&["--io", io, "--shards", "2"]);
}

fn smoke_with(args: &[&str]) {
    let s = Server::start(args);
    let mut c = s.conn();
    assert_eq!(c.q("SET k v"), Reply::ok());
    assert_eq!(c.q("GET k"), Reply::bulk("v"));

    let mut buf = Vec::new();
    for i in 0..500 {
        buf.extend(common::resp::encode(&[
            "MSET",
            &format!("a{i}"),
            &i.to_string(),
            &format!("b{i}"),
            "x",
        ]));
        buf.extend(common::resp::encode(&[
            "MGET",
            &format!("a{i}"),
            &format!("b{i}"),
            "nope",
        ]));
    }
    c.send_raw(&buf);
    for i in 0..500 {
        assert_eq!(c.read(), Reply::ok());
        assert_eq!(
            c.read(),
            Reply::Array(vec![
                Reply::bulk(i.to_string()),
                Reply::bulk("x"),
                Reply::NilBulk
            ])
        );
    }

    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(c.cmd(&[b"SET".as_slice(), b"big", &big]), Reply::ok());
    assert_eq!(c.q("GET big"), Reply::Bulk(big));

    let handles: Vec<_> = (0..8)
        .map(|t| {
            let mut c = s.conn();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let k = format!("t{t}:{i}");
                    assert_eq!(c.cmd(&["SET", &k, &k]), Reply::ok());
                    assert_eq!(c.cmd(&["GET", &k]), Reply::bulk(&k));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
    assert_eq!(c.q("DBSIZE"), Reply::Int(2 + 1000 + 8 * 200));

    let mut con = s.client();
    let v: Vec<Option<String>> = redis::cmd("MGET")
        .arg("a1")
        .arg("nope")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec![Some("1".to_string()), None]);
}

#[test]
fn smoke_epoll() {
    smoke("epoll");
}

#[test]
fn smoke_uring() {
    smoke("uring");
}

/// `idle-poll-us`: shards poll before they sleep. The same traffic (cross-shard MSET/MGET,
/// large values, concurrent clients) works on both backends, a client blocked on one shard is
/// woken by a push through the other, and the parameter is settable with Redis's range error.
fn idle_poll(io: &str) {
    let args = ["--io", io, "--shards", "2", "--idle-poll-us", "300"];
    smoke_with(&args);
    let s = Server::start(&args);
    // One key per shard: whichever shard each connection is on, one wake-up crosses shards.
    let mut waiter = s.conn();
    let mut pusher = s.conn();
    for key in common::keys_on_shards("q", 2, 2) {
        waiter.send_raw(&common::resp::encode(&["BLPOP", &key, "0"]));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(pusher.cmd(&["RPUSH", &key, "x"]), Reply::Int(1));
        assert_eq!(
            waiter.read(),
            Reply::Array(vec![Reply::bulk(&key), Reply::bulk("x")])
        );
    }
    assert_eq!(
        pusher.q("CONFIG GET idle-poll-us"),
        Reply::Array(vec![Reply::bulk("idle-poll-us"), Reply::bulk("300")])
    );
    assert_eq!(pusher.q("CONFIG SET idle-poll-us 0"), Reply::ok());
    assert_eq!(pusher.q("PING"), Reply::Simple("PONG".into()));
    match pusher.q("CONFIG SET idle-poll-us 10001") {
        Reply::Error(e) => assert!(
            e.contains("argument must be between 0 and 10000 inclusive"),
            "{e}"
        ),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(
        pusher.q("CONFIG GET idle-poll-us"),
        Reply::Array(vec![Reply::bulk("idle-poll-us"), Reply::bulk("0")])
    );
}

#[test]
fn idle_poll_epoll() {
    idle_poll("epoll");
}

#[test]
fn idle_poll_uring() {
    idle_poll("uring");
}
