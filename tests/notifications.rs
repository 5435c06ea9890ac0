//! Keyspace notifications end to end: `notify-keyspace-events` selects the classes and the
//! `__keyspace@<db>__:<key>` (K) / `__keyevent@<db>__:<event>` (E) channels exactly as Redis's
//! notify.c; events of ops run on any shard reach subscribers on every shard; a RESP3 client
//! receives its own notifications as pushes. Uses the string and generic commands' events
//! (SET, INCR, DEL, EXPIRE, PERSIST, MSET, RENAME).

mod common;

use std::collections::BTreeSet;

use common::{Conn, Reply, Server};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> Reply {
    Reply::Array(vec![b("pmessage"), b(pattern), b(channel), b(payload)])
}

fn message(channel: &str, payload: &str) -> Reply {
    Reply::Array(vec![b("message"), b(channel), b(payload)])
}

fn set_events(c: &mut Conn, flags: &str) {
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]),
        Reply::ok()
    );
}

const ALL: &str = "__key*__:*";

/// Expects the keyspace then the keyevent message of one event.
fn expect_both(sub: &mut Conn, db: u32, key: &str, event: &str) {
    assert_eq!(
        sub.read(),
        pmessage(ALL, &format!("__keyspace@{db}__:{key}"), event)
    );
    assert_eq!(
        sub.read(),
        pmessage(ALL, &format!("__keyevent@{db}__:{event}"), key)
    );
}

/// Publishes a marker on a channel the subscriber's pattern matches and expects it next: proves
/// that nothing else was delivered before it.
fn expect_nothing_before_marker(sub: &mut Conn, c: &mut Conn, marker: &str) {
    let chan = format!("__keymarker__:{marker}");
    assert_eq!(c.cmd(&["PUBLISH", &chan, "m"]), Reply::Int(1));
    assert_eq!(sub.read(), pmessage(ALL, &chan, "m"));
}

#[test]
fn event_classes_and_channels() {
    // One shard: a multi-key DEL split over shards may notify its keys in any order.
    let s = Server::start(&["--shards", "1"]);
    let mut sub = s.conn();
    let mut c = s.conn();
    assert_eq!(
        sub.q(&format!("PSUBSCRIBE {ALL}")),
        Reply::Array(vec![b("psubscribe"), b(ALL), Reply::Int(1)])
    );
    // Off by default.
    assert_eq!(c.q("SET quiet 1"), Reply::ok());
    expect_nothing_before_marker(&mut sub, &mut c, "off");

    set_events(&mut c, "KEA");
    assert_eq!(c.q("SET foo bar"), Reply::ok());
    expect_both(&mut sub, 0, "foo", "set");
    assert_eq!(c.q("INCR n"), Reply::Int(1));
    expect_both(&mut sub, 0, "n", "incrby");
    assert_eq!(c.q("DEL foo n nothing"), Reply::Int(2));
    expect_both(&mut sub, 0, "foo", "del");
    expect_both(&mut sub, 0, "n", "del");
    assert_eq!(c.q("SELECT 5"), Reply::ok());
    assert_eq!(c.q("SET k v"), Reply::ok());
    expect_both(&mut sub, 5, "k", "set");
    assert_eq!(c.q("SELECT 0"), Reply::ok());
    // A failed command notifies nothing.
    assert_eq!(c.q("DEL nothing"), Reply::Int(0));
    expect_nothing_before_marker(&mut sub, &mut c, "failed");

    // Keyevent of string commands only.
    set_events(&mut c, "E$");
    assert_eq!(c.q("SET a 1"), Reply::ok());
    assert_eq!(sub.read(), pmessage(ALL, "__keyevent@0__:set", "a"));
    assert_eq!(c.q("DEL a"), Reply::Int(1));
    expect_nothing_before_marker(&mut sub, &mut c, "generic-off");

    // Keyspace of generic commands only.
    set_events(&mut c, "Kg");
    assert_eq!(c.q("SET e 1"), Reply::ok());
    assert_eq!(c.q("EXPIRE e 100"), Reply::Int(1));
    assert_eq!(sub.read(), pmessage(ALL, "__keyspace@0__:e", "expire"));
    assert_eq!(c.q("PERSIST e"), Reply::Int(1));
    assert_eq!(sub.read(), pmessage(ALL, "__keyspace@0__:e", "persist"));

    // Classes without K or E publish nothing.
    set_events(&mut c, "g$");
    assert_eq!(c.q("SET z 1"), Reply::ok());
    assert_eq!(c.q("DEL z"), Reply::Int(1));
    expect_nothing_before_marker(&mut sub, &mut c, "no-k-no-e");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        Reply::Array(vec![b("notify-keyspace-events"), b("g$")])
    );
}

#[test]
fn events_from_every_shard_reach_every_subscriber() {
    const KEYS: usize = 40;
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    set_events(&mut c, "KEA");
    let mut subs: Vec<Conn> = (0..6).map(|_| s.conn()).collect();
    for sub in subs.iter_mut() {
        assert_eq!(
            sub.q("SUBSCRIBE __keyevent@0__:set"),
            Reply::Array(vec![b("subscribe"), b("__keyevent@0__:set"), Reply::Int(1)])
        );
    }
    for i in 0..KEYS {
        assert_eq!(c.cmd(&["SET", &format!("key{i}"), "v"]), Reply::ok());
    }
    let expected: BTreeSet<String> = (0..KEYS).map(|i| format!("key{i}")).collect();
    for sub in subs.iter_mut() {
        let mut got = BTreeSet::new();
        for _ in 0..KEYS {
            let items = sub.read().items();
            assert_eq!(items[..2], [b("message"), b("__keyevent@0__:set")]);
            got.insert(items[2].text());
        }
        assert_eq!(got, expected);
    }

    // A cross-shard MSET notifies every key.
    let mut mset = vec!["MSET".to_string()];
    for i in 0..10 {
        mset.push(format!("m{i}"));
        mset.push("x".into());
    }
    assert_eq!(c.cmd(&mset), Reply::ok());
    let expected: BTreeSet<String> = (0..10).map(|i| format!("m{i}")).collect();
    for sub in subs.iter_mut() {
        let got: BTreeSet<String> = (0..10).map(|_| sub.read().items()[2].text()).collect();
        assert_eq!(got, expected);
    }

    // RENAME (the two keys on one shard, possibly not the client's): rename_from, rename_to.
    rename_events(&s, &mut c, "{t}src", "{t}dst");
}

/// Subscribes to both keys' keyspace channels, renames `src` to `dst` and expects
/// `rename_from` then `rename_to`.
fn rename_events(s: &Server, c: &mut Conn, src: &str, dst: &str) {
    let (src_chan, dst_chan) = (
        format!("__keyspace@0__:{src}"),
        format!("__keyspace@0__:{dst}"),
    );
    let mut watcher = s.conn();
    watcher.send(&["SUBSCRIBE", &src_chan, &dst_chan]);
    watcher.read();
    watcher.read();
    assert_eq!(c.cmd(&["SET", src, "v"]), Reply::ok());
    assert_eq!(watcher.read(), message(&src_chan, "set"));
    assert_eq!(c.cmd(&["RENAME", src, dst]), Reply::ok());
    assert_eq!(watcher.read(), message(&src_chan, "rename_from"));
    assert_eq!(watcher.read(), message(&dst_chan, "rename_to"));
}

/// Cross-shard RENAME goes through the atomic path (frontends/server/src/atomic.rs), which
/// moves the entry with shard primitives and records the events itself.
#[test]
fn rename_between_shards_notifies() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    set_events(&mut c, "KEA");
    rename_events(&s, &mut c, "{a}src", "{b}dst");
}

#[test]
fn resp3_client_receives_its_own_notifications() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    set_events(&mut c, "K$");
    assert_eq!(
        c.q("SUBSCRIBE __keyspace@0__:mine"),
        Reply::Push(vec![
            b("subscribe"),
            b("__keyspace@0__:mine"),
            Reply::Int(1)
        ])
    );
    c.send(&["SET", "mine", "1"]);
    // Redis 7.0 pushes before the reply, 7.2 after it: accept either order.
    let (first, second) = (c.read(), c.read());
    let push = Reply::Push(vec![b("message"), b("__keyspace@0__:mine"), b("set")]);
    assert!(
        (first == Reply::ok() && second == push) || (first == push && second == Reply::ok()),
        "{first:?} {second:?}"
    );
    assert_eq!(c.q("GET mine"), Reply::bulk("1"));
}
