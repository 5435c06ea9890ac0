//! Pub/Sub end to end: the exact RESP2 and RESP3 frames of (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE
//! and of `message` / `pmessage` / `smessage`, the RESP2 subscribed-context restrictions,
//! PUBLISH counts over subscribers spread across four shards, per-publisher ordering, PUBSUB
//! introspection, CLIENT LIST / INFO fields, RESET, the `redis` crate's PubSub API, and the
//! disconnection of a subscriber that stops reading.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Conn, Reply, Server, wait_until};

fn frame(items: &[Reply]) -> Reply {
    Reply::Array(items.to_vec())
}

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

/// `[word, name, count]` in RESP2.
fn conf(word: &str, name: &str, count: i64) -> Reply {
    frame(&[b(word), b(name), Reply::Int(count)])
}

fn message(channel: &str, payload: &str) -> Reply {
    frame(&[b("message"), b(channel), b(payload)])
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> Reply {
    frame(&[b("pmessage"), b(pattern), b(channel), b(payload)])
}

fn smessage(channel: &str, payload: &str) -> Reply {
    frame(&[b("smessage"), b(channel), b(payload)])
}

/// Subscribes `c` with `cmd` to `names`, checking every confirmation.
fn subscribe(c: &mut Conn, cmd: &str, names: &[&str], first_count: i64) {
    let mut args = vec![cmd];
    args.extend_from_slice(names);
    c.send(&args);
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            c.read(),
            conf(&cmd.to_ascii_lowercase(), name, first_count + i as i64)
        );
    }
}

/// Shards that have at least one client (INFO shards); the reference server has one.
fn shards_with_clients(c: &mut Conn) -> usize {
    if common::is_reference() {
        return usize::MAX;
    }
    let info = c.q("INFO shards").text();
    info.lines()
        .filter(|l| l.starts_with("shard"))
        .filter(|l| !l.contains("clients=0"))
        .count()
}

#[test]
fn resp2_confirmations_and_restrictions() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    // Nothing subscribed: one frame with a nil name and the count.
    for cmd in ["UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"] {
        assert_eq!(
            c.q(cmd),
            frame(&[b(&cmd.to_ascii_lowercase()), Reply::NilBulk, Reply::Int(0)])
        );
    }
    // Not subscribed: everything runs.
    assert_eq!(c.q("PING"), Reply::simple("PONG"));

    c.send(&["SUBSCRIBE", "a", "b", "a"]);
    assert_eq!(c.read(), conf("subscribe", "a", 1));
    assert_eq!(c.read(), conf("subscribe", "b", 2));
    assert_eq!(c.read(), conf("subscribe", "a", 2));
    assert_eq!(c.q("PING"), frame(&[b("pong"), b("")]));
    assert_eq!(c.q("PING x"), frame(&[b("pong"), b("x")]));
    let only =
        "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";
    assert_eq!(
        c.q("GET x"),
        Reply::Error(format!("ERR Can't execute 'get': {only}"))
    );
    assert_eq!(
        c.q("client info"),
        Reply::Error(format!("ERR Can't execute 'client|info': {only}"))
    );
    assert_eq!(
        c.q("PUBLISH a b"),
        Reply::Error(format!("ERR Can't execute 'publish': {only}"))
    );
    // Unknown commands, wrong arities and unknown subcommands keep their own errors.
    assert_eq!(
        c.q("foo"),
        Reply::err("ERR unknown command 'foo', with args beginning with: ")
    );
    assert_eq!(
        c.q("GET"),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        c.q("CLIENT BLAH"),
        Reply::err("ERR unknown subcommand 'BLAH'. Try CLIENT HELP.")
    );

    // Shard channels count on their own; patterns count with channels.
    subscribe(&mut c, "SSUBSCRIBE", &["s1", "s2"], 1);
    assert_eq!(c.q("PSUBSCRIBE p*"), conf("psubscribe", "p*", 3));
    assert_eq!(c.q("UNSUBSCRIBE x"), conf("unsubscribe", "x", 3));

    let sub_line = {
        let mut other = s.conn();
        other.q("CLIENT LIST").text()
    };
    let line = sub_line
        .lines()
        .find(|l| l.contains("sub=2"))
        .unwrap_or_else(|| panic!("no subscriber in {sub_line}"));
    assert!(line.contains(" flags=P "), "{line}");
    assert!(line.contains(" sub=2 psub=1 ssub=2 "), "{line}");

    // Unsubscribing from everything of a kind: one frame per name, counting down.
    c.send(&["SUNSUBSCRIBE"]);
    let mut names = BTreeSet::new();
    for count in [1, 0] {
        let items = c.read().items();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0], b("sunsubscribe"));
        assert_eq!(items[2], Reply::Int(count));
        names.insert(items[1].text());
    }
    assert_eq!(names, BTreeSet::from(["s1".to_string(), "s2".to_string()]));
    assert_eq!(c.q("PUNSUBSCRIBE"), conf("punsubscribe", "p*", 2));
    c.send(&["UNSUBSCRIBE"]);
    let mut names = BTreeSet::new();
    for count in [1, 0] {
        let items = c.read().items();
        assert_eq!(items[0], b("unsubscribe"));
        assert_eq!(items[2], Reply::Int(count));
        names.insert(items[1].text());
    }
    assert_eq!(names, BTreeSet::from(["a".to_string(), "b".to_string()]));
    // Out of the subscribed context again.
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
    assert_eq!(c.q("GET x"), Reply::NilBulk);

    // A shard subscription alone is the subscribed context too; QUIT is allowed in it.
    assert_eq!(c.q("SSUBSCRIBE only"), conf("ssubscribe", "only", 1));
    assert_eq!(
        c.q("GET x"),
        Reply::Error(format!("ERR Can't execute 'get': {only}"))
    );
    assert_eq!(c.q("QUIT"), Reply::ok());
    assert!(c.is_closed());
}

#[test]
fn resp3_push_frames_reset_and_publish_to_self() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    assert_eq!(
        c.q("UNSUBSCRIBE"),
        Reply::Push(vec![b("unsubscribe"), Reply::Null, Reply::Int(0)])
    );
    assert_eq!(
        c.q("SSUBSCRIBE s1"),
        Reply::Push(vec![b("ssubscribe"), b("s1"), Reply::Int(1)])
    );
    // RESP3 subscribers may run anything.
    assert_eq!(c.q("GET x"), Reply::Null);
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
    assert_eq!(
        c.q("SUBSCRIBE ch"),
        Reply::Push(vec![b("subscribe"), b("ch"), Reply::Int(1)])
    );
    assert_eq!(
        c.q("PSUBSCRIBE c*"),
        Reply::Push(vec![b("psubscribe"), b("c*"), Reply::Int(2)])
    );
    // Publishing to itself: the pushes, then the count.
    c.send(&["PUBLISH", "ch", "hi"]);
    assert_eq!(c.read(), Reply::Push(vec![b("message"), b("ch"), b("hi")]));
    assert_eq!(
        c.read(),
        Reply::Push(vec![b("pmessage"), b("c*"), b("ch"), b("hi")])
    );
    assert_eq!(c.read(), Reply::Int(2));
    c.send(&["SPUBLISH", "s1", "yo"]);
    assert_eq!(c.read(), Reply::Push(vec![b("smessage"), b("s1"), b("yo")]));
    assert_eq!(c.read(), Reply::Int(1));

    // A message from another client arrives as a push between replies.
    let mut p = s.conn();
    assert_eq!(p.q("PUBLISH ch other"), Reply::Int(2));
    assert_eq!(
        c.read(),
        Reply::Push(vec![b("message"), b("ch"), b("other")])
    );
    assert_eq!(
        c.read(),
        Reply::Push(vec![b("pmessage"), b("c*"), b("ch"), b("other")])
    );

    // RESET leaves every subscription (and RESP3).
    assert_eq!(c.q("RESET"), Reply::simple("RESET"));
    assert_eq!(p.q("PUBLISH ch x"), Reply::Int(0));
    assert_eq!(p.q("SPUBLISH s1 x"), Reply::Int(0));
    assert_eq!(
        c.q("UNSUBSCRIBE"),
        frame(&[b("unsubscribe"), Reply::NilBulk, Reply::Int(0)])
    );
    assert_eq!(c.q("PUBSUB NUMPAT"), Reply::Int(0));
}

#[test]
fn publish_reaches_subscribers_on_every_shard() {
    let s = Server::start(&["--shards", "4"]);
    let mut subs: Vec<Conn> = (0..12).map(|_| s.conn()).collect();
    for (i, c) in subs.iter_mut().enumerate() {
        subscribe(c, "SUBSCRIBE", &["news", &format!("own{i}")], 1);
        assert_eq!(c.q("PSUBSCRIBE n*"), conf("psubscribe", "n*", 3));
        assert_eq!(c.q("SSUBSCRIBE news"), conf("ssubscribe", "news", 1));
    }
    let mut p = s.conn();
    assert!(
        shards_with_clients(&mut p) >= 2,
        "the connections should spread over several shards"
    );
    // Each subscriber gets the exact-channel message and the pattern message.
    assert_eq!(p.q("PUBLISH news hello"), Reply::Int(24));
    for c in subs.iter_mut() {
        assert_eq!(c.read(), message("news", "hello"));
        assert_eq!(c.read(), pmessage("n*", "news", "hello"));
    }
    // Only the pattern matches here; nobody listens to "zzz".
    assert_eq!(p.q("PUBLISH nothing x"), Reply::Int(12));
    assert_eq!(p.q("PUBLISH zzz x"), Reply::Int(0));
    for c in subs.iter_mut() {
        assert_eq!(c.read(), pmessage("n*", "nothing", "x"));
    }
    // A channel only one client subscribed to.
    assert_eq!(p.q("PUBLISH own7 direct"), Reply::Int(1));
    assert_eq!(subs[7].read(), message("own7", "direct"));
    // Shard channels: SPUBLISH reaches SSUBSCRIBE only, PUBLISH never reaches it.
    assert_eq!(p.q("SPUBLISH news s"), Reply::Int(12));
    assert_eq!(p.q("SPUBLISH nothing s"), Reply::Int(0));
    for c in subs.iter_mut() {
        assert_eq!(c.read(), smessage("news", "s"));
    }
    // Every subscriber is still in order: a PING goes behind what was delivered.
    for c in subs.iter_mut() {
        assert_eq!(c.q("PING"), frame(&[b("pong"), b("")]));
    }
    // Disconnected subscribers stop counting.
    subs.truncate(5);
    assert!(
        wait_until(Duration::from_secs(10), || p.q("PUBLISH news bye")
            == Reply::Int(10)),
        "closed subscribers are forgotten"
    );
}

#[test]
fn one_publishers_messages_arrive_in_order_everywhere() {
    const N: usize = 3000;
    let s = Server::start(&["--shards", "4"]);
    let mut subs: Vec<Conn> = (0..6).map(|_| s.conn()).collect();
    for c in subs.iter_mut() {
        assert_eq!(c.q("SUBSCRIBE seq"), conf("subscribe", "seq", 1));
    }
    let mut p = s.conn();
    let mut pipeline = Vec::new();
    for i in 0..N {
        pipeline.extend(common::resp::encode(&["PUBLISH", "seq", &i.to_string()]));
    }
    p.send_raw(&pipeline);
    for _ in 0..N {
        assert_eq!(p.read(), Reply::Int(subs.len() as i64));
    }
    for c in subs.iter_mut() {
        for i in 0..N {
            assert_eq!(c.read(), message("seq", &i.to_string()));
        }
    }
}

#[test]
fn introspection_across_shards() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    assert_eq!(c.q("PUBSUB CHANNELS"), Reply::Array(vec![]));
    assert_eq!(c.q("PUBSUB NUMSUB"), Reply::Array(vec![]));
    assert_eq!(c.q("PUBSUB NUMPAT"), Reply::Int(0));

    let mut subs: Vec<Conn> = (0..8).map(|_| s.conn()).collect();
    for (i, sc) in subs.iter_mut().enumerate() {
        let own = format!("only{i}");
        subscribe(sc, "SUBSCRIBE", &["common", &own], 1);
        assert_eq!(sc.q("PSUBSCRIBE pat*"), conf("psubscribe", "pat*", 3));
        let ssub = if i % 2 == 0 { "even" } else { "odd" };
        assert_eq!(
            sc.q(&format!("SSUBSCRIBE {ssub}")),
            conf("ssubscribe", ssub, 1)
        );
    }
    assert!(shards_with_clients(&mut c) >= 2);

    let mut channels: Vec<String> = c
        .q("PUBSUB CHANNELS")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    channels.sort();
    let mut expected: Vec<String> = (0..8).map(|i| format!("only{i}")).collect();
    expected.push("common".into());
    expected.sort();
    assert_eq!(channels, expected);
    let mut only: Vec<String> = c
        .q("PUBSUB CHANNELS only[0-2]")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    only.sort();
    assert_eq!(only, ["only0", "only1", "only2"]);
    assert_eq!(
        c.q("PUBSUB NUMSUB common only3 nope common"),
        Reply::Array(vec![
            b("common"),
            Reply::Int(8),
            b("only3"),
            Reply::Int(1),
            b("nope"),
            Reply::Int(0),
            b("common"),
            Reply::Int(8),
        ])
    );
    // One distinct pattern however many shards hold it.
    assert_eq!(c.q("PUBSUB NUMPAT"), Reply::Int(1));
    let mut shard: Vec<String> = c
        .q("PUBSUB SHARDCHANNELS")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    shard.sort();
    assert_eq!(shard, ["even", "odd"]);
    assert_eq!(
        c.q("PUBSUB SHARDCHANNELS e*"),
        Reply::Array(vec![b("even")])
    );
    assert_eq!(
        c.q("PUBSUB SHARDNUMSUB even odd common"),
        Reply::Array(vec![
            b("even"),
            Reply::Int(4),
            b("odd"),
            Reply::Int(4),
            b("common"),
            Reply::Int(0),
        ])
    );
    let info = c.q("INFO stats").text();
    assert!(info.contains("\r\npubsub_channels:9\r\n"), "{info}");
    assert!(info.contains("\r\npubsub_patterns:1\r\n"), "{info}");
    assert!(info.contains("\r\npubsubshard_channels:2\r\n"), "{info}");
    assert_eq!(
        c.q("PUBSUB CHANNELS a b"),
        Reply::err(
            "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
        )
    );
    assert_eq!(c.q("PUBSUB HELP").items().len(), 14);

    // CLIENT KILL TYPE pubsub takes exactly the subscribers, on every shard.
    assert_eq!(c.q("CLIENT KILL TYPE pubsub"), Reply::Int(8));
    for sc in subs.iter_mut() {
        assert!(sc.is_closed());
    }
    assert!(wait_until(Duration::from_secs(10), || {
        c.q("PUBSUB NUMPAT") == Reply::Int(0)
    }));
    assert_eq!(c.q("PUBSUB CHANNELS"), Reply::Array(vec![]));
    assert_eq!(c.q("PUBSUB SHARDCHANNELS"), Reply::Array(vec![]));
    assert_eq!(c.q("PUBLISH common x"), Reply::Int(0));
}

#[test]
fn redis_crate_pubsub_api() {
    let s = Server::start(&["--shards", "4"]);
    let mut sub_con = s.client();
    let mut publisher = s.client();
    let mut pubsub = sub_con.as_pubsub();
    pubsub.subscribe("events").expect("subscribe");
    pubsub.psubscribe("ev*").expect("psubscribe");
    pubsub
        .set_read_timeout(Some(common::IO_TIMEOUT))
        .expect("timeout");
    let n: i64 = redis::cmd("PUBLISH")
        .arg("events")
        .arg("payload")
        .query(&mut publisher)
        .expect("publish");
    assert_eq!(n, 2);
    let m1 = pubsub.get_message().expect("message");
    assert_eq!(m1.get_channel_name(), "events");
    assert_eq!(m1.get_payload::<String>().expect("payload"), "payload");
    assert!(!m1.from_pattern());
    let m2 = pubsub.get_message().expect("pmessage");
    assert!(m2.from_pattern());
    assert_eq!(m2.get_pattern::<String>().expect("pattern"), "ev*");
    assert_eq!(m2.get_payload_bytes(), b"payload");
}

#[test]
fn a_subscriber_that_stops_reading_is_disconnected() {
    let s = Server::start(&[]);
    let mut slow = s.conn();
    assert_eq!(slow.q("SUBSCRIBE flood"), conf("subscribe", "flood", 1));
    let slow_id = {
        let mut probe = s.conn();
        let list = probe.q("CLIENT LIST").text();
        list.lines()
            .find(|l| l.contains(" sub=1 "))
            .and_then(|l| l.split(' ').next())
            .map(str::to_string)
            .expect("subscriber listed")
    };
    let mut p = s.conn();
    let big = "x".repeat(1 << 20);
    // Far more than the 32 MiB hard limit plus what the socket buffers can hold.
    let mut delivered = 0;
    for _ in 0..96 {
        delivered += p.cmd(&["PUBLISH", "flood", big.as_str()]).int();
    }
    assert!(delivered < 96, "the subscriber was dropped before the end");
    assert_eq!(
        p.q("PUBSUB NUMSUB flood"),
        frame(&[b("flood"), Reply::Int(0)])
    );
    let list = p.q("CLIENT LIST").text();
    assert!(
        !list.lines().any(|l| l.starts_with(&format!("{slow_id} "))),
        "{list}"
    );
}
