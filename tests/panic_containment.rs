//! Panic containment end to end: DEBUG PANIC (which in Moon panics inside the command path
//! instead of crashing the server, as Redis does) answers the client an error, and the same
//! connection, the other connections and the keyspace keep working; also when the panic
//! happens on another shard (`DEBUG PANIC <key>` runs where the key lives), inside a pipeline,
//! and with blocked and subscribed clients around. Moon-only: skipped against a reference redis-server.

mod common;

use common::{Conn, Reply, Server, is_reference};

const ERROR: &str = "ERR internal error while executing 'debug': panic contained (this is a bug)";

fn skip_on_reference() -> bool {
    if is_reference() {
        println!("skipped: DEBUG PANIC crashes redis-server on purpose");
    }
    is_reference()
}

fn panics_contained(c: &mut Conn) -> i64 {
    let text = c.q("INFO stats").text();
    text.lines()
        .find_map(|l| l.strip_prefix("moon_panics_contained:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no moon_panics_contained in INFO stats:\n{text}"))
}

#[test]
fn debug_panic_is_answered_and_everything_keeps_working() {
    if skip_on_reference() {
        return;
    }
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    let mut other = s.conn();
    assert_eq!(c.q("SET k v"), Reply::ok());
    assert_eq!(c.q("DEBUG PANIC"), Reply::err(ERROR));
    assert_eq!(c.q("PING"), Reply::simple("PONG"), "same connection");
    assert_eq!(c.q("GET k"), Reply::bulk("v"));
    assert_eq!(other.q("GET k"), Reply::bulk("v"), "other connection");
    assert_eq!(panics_contained(&mut other), 1);
    let log = s.log();
    assert!(
        log.contains("panic contained while executing 'debug'"),
        "containment logged:\n{log}"
    );
    assert!(
        log.contains("DEBUG PANIC called at Unix time"),
        "panic message logged:\n{log}"
    );
    // The redis crate client sees an ordinary error reply.
    let mut r = s.client();
    let e = redis::cmd("DEBUG")
        .arg("PANIC")
        .query::<()>(&mut r)
        .unwrap_err();
    assert!(e.to_string().contains("panic contained"), "{e}");
    let v: String = redis::cmd("GET").arg("k").query(&mut r).expect("GET");
    assert_eq!(v, "v");
}

#[test]
fn a_panic_on_the_owner_shard_is_contained_there() {
    if skip_on_reference() {
        return;
    }
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    // 32 keys: with two shards, some are owned by the other shard than this connection's,
    // whose DEBUG PANIC runs there through a cross-shard call.
    for i in 0..32 {
        let key = format!("key:{i}");
        assert_eq!(c.cmd(&["SET", &key, "x"]), Reply::ok());
        assert_eq!(c.cmd(&["DEBUG", "PANIC", &key]), Reply::err(ERROR), "{key}");
        assert_eq!(c.cmd(&["GET", &key]), Reply::bulk("x"), "{key}");
    }
    assert_eq!(panics_contained(&mut c), 32);
    assert!(
        s.log().contains("(forwarded to shard"),
        "no panic ran on the other shard:\n{}",
        s.log()
    );
    // Both shards still serve: MSET/MGET over many keys touches both.
    let keys: Vec<String> = (0..32).map(|i| format!("key:{i}")).collect();
    let mut mset = vec!["MSET".to_string()];
    for k in &keys {
        mset.push(k.clone());
        mset.push("y".into());
    }
    assert_eq!(c.cmd(&mset), Reply::ok());
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    assert_eq!(c.cmd(&mget), Reply::Array(vec![Reply::bulk("y"); 32]));
}

#[test]
fn replies_stay_in_order_around_a_panic() {
    if skip_on_reference() {
        return;
    }
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    c.send(&["SET", "a", "1"]);
    c.send(&["DEBUG", "PANIC"]);
    c.send(&["DEBUG", "PANIC", "a"]);
    c.send(&["MGET", "a", "b", "c", "d"]);
    c.send(&["INCR", "a"]);
    assert_eq!(c.read(), Reply::ok());
    assert_eq!(c.read(), Reply::err(ERROR));
    assert_eq!(c.read(), Reply::err(ERROR));
    assert_eq!(
        c.read(),
        Reply::Array(vec![
            Reply::bulk("1"),
            Reply::NilBulk,
            Reply::NilBulk,
            Reply::NilBulk
        ])
    );
    assert_eq!(c.read(), Reply::Int(2));
}

#[test]
fn blocked_and_subscribed_clients_are_not_disturbed() {
    if skip_on_reference() {
        return;
    }
    let s = Server::start(&["--shards", "2"]);
    let mut blocked = s.conn();
    blocked.send(&["BLPOP", "q", "0"]);
    let mut sub = s.conn();
    sub.q("SUBSCRIBE ch");
    let mut c = s.conn();
    for key in ["q", "ch", "x", "y"] {
        assert_eq!(c.cmd(&["DEBUG", "PANIC", key]), Reply::err(ERROR));
    }
    assert_eq!(c.q("PUBLISH ch hi").int(), 1);
    assert_eq!(
        sub.read(),
        Reply::Array(vec![
            Reply::bulk("message"),
            Reply::bulk("ch"),
            Reply::bulk("hi")
        ])
    );
    assert_eq!(c.q("RPUSH q v").int(), 1);
    assert_eq!(blocked.read(), Reply::bulks(&["q", "v"]));
}
