//! Hash commands end to end: every hash command's replies and error texts (HSET/HMSET, HSETNX,
//! HGET/HMGET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS/HVALS/HGETALL in RESP2 and RESP3, HINCRBY,
//! HINCRBYFLOAT, HRANDFIELD, HSCAN), encodings at the CONFIG SET thresholds, WRONGTYPE, and
//! hash-field expiration (HEXPIRE family, HTTL family, HPERSIST, HGETDEL, HGETEX, HSETEX) with
//! short TTLs.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Conn, Reply, Server, wait_until};

fn ints(v: &[i64]) -> Reply {
    Reply::Array(v.iter().map(|&i| Reply::Int(i)).collect())
}

fn sorted_texts(r: &Reply) -> Vec<String> {
    let mut v: Vec<String> = r.items().iter().map(Reply::text).collect();
    v.sort();
    v
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn basic_commands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("HSET h a 1 b 2"), Reply::Int(2));
    assert_eq!(c.q("HSET h a 10 c 3"), Reply::Int(1));
    assert_eq!(c.q("HMSET h d 4"), Reply::ok());
    assert_eq!(c.q("HGET h a"), Reply::bulk("10"));
    assert_eq!(c.q("HGET h zz"), Reply::NilBulk);
    assert_eq!(c.q("HGET nokey a"), Reply::NilBulk);
    assert_eq!(
        c.q("HMGET h a zz d"),
        Reply::Array(vec![Reply::bulk("10"), Reply::NilBulk, Reply::bulk("4")])
    );
    assert_eq!(
        c.q("HMGET nokey a b"),
        Reply::Array(vec![Reply::NilBulk, Reply::NilBulk])
    );
    assert_eq!(c.q("HLEN h"), Reply::Int(4));
    assert_eq!(c.q("HLEN nokey"), Reply::Int(0));
    assert_eq!(c.q("HSTRLEN h a"), Reply::Int(2));
    assert_eq!(c.q("HSTRLEN h zz"), Reply::Int(0));
    assert_eq!(c.q("HEXISTS h a"), Reply::Int(1));
    assert_eq!(c.q("HEXISTS h zz"), Reply::Int(0));
    assert_eq!(c.q("HSETNX h a x"), Reply::Int(0));
    assert_eq!(c.q("HSETNX h e 5"), Reply::Int(1));
    assert_eq!(sorted_texts(&c.q("HKEYS h")), ["a", "b", "c", "d", "e"]);
    assert_eq!(sorted_texts(&c.q("HVALS h")), ["10", "2", "3", "4", "5"]);
    let all = c.q("HGETALL h").pairs();
    assert_eq!(all.len(), 5);
    assert!(all.contains(&("a".to_string(), Reply::bulk("10"))));
    assert_eq!(c.q("HGETALL nokey"), Reply::Array(vec![]));
    assert_eq!(c.q("HKEYS nokey"), Reply::Array(vec![]));
    assert_eq!(c.q("HDEL h a zz a b"), Reply::Int(2));
    assert_eq!(c.q("HDEL nokey a"), Reply::Int(0));
    assert_eq!(c.q("TYPE h"), Reply::simple("hash"));
    assert_eq!(c.q("HDEL h c d e"), Reply::Int(3));
    assert_eq!(c.q("EXISTS h"), Reply::Int(0));
    // Binary-safe fields and values.
    assert_eq!(c.cmd(&["HSET", "b", "f\r\n\0", "v\0\r\n"]), Reply::Int(1));
    assert_eq!(c.cmd(&["HGET", "b", "f\r\n\0"]), Reply::bulk("v\0\r\n"));
    assert_eq!(c.cmd(&["HSET", "b", "", ""]), Reply::Int(1));
    assert_eq!(c.cmd(&["HGET", "b", ""]), Reply::bulk(""));
}

#[test]
fn errors_and_wrongtype() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET s x");
    for cmd in [
        "HSET s a 1",
        "HSETNX s a 1",
        "HGET s a",
        "HMGET s a",
        "HDEL s a",
        "HLEN s",
        "HSTRLEN s a",
        "HEXISTS s a",
        "HKEYS s",
        "HVALS s",
        "HGETALL s",
        "HINCRBY s a 1",
        "HINCRBYFLOAT s a 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2",
        "HSCAN s 0",
        "HEXPIRE s 10 FIELDS 1 a",
        "HTTL s FIELDS 1 a",
        "HPERSIST s FIELDS 1 a",
        "HGETDEL s FIELDS 1 a",
        "HGETEX s FIELDS 1 a",
        "HSETEX s FIELDS 1 a 1",
    ] {
        assert_eq!(c.q(cmd), Reply::err(WRONGTYPE), "{cmd}");
    }
    assert_eq!(c.q("GET s"), Reply::bulk("x"));
    let arity = |name: &str| {
        Reply::err(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ))
    };
    assert_eq!(c.q("HSET h a"), arity("hset"));
    assert_eq!(c.q("HSET h a 1 b"), arity("hset"));
    assert_eq!(c.q("HMSET h a 1 b"), arity("hmset"));
    assert_eq!(c.q("HGET h"), arity("hget"));
    assert_eq!(c.q("HTTL h FIELDS 1"), arity("httl"));
    assert_eq!(c.q("HSETEX h FIELDS 2 a 1"), arity("hsetex"));
    c.q("HSET h n 1 s abc");
    assert_eq!(
        c.q("HINCRBY h n x"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("HINCRBY h s 1"),
        Reply::err("ERR hash value is not an integer")
    );
    assert_eq!(
        c.q("HINCRBYFLOAT h s 1"),
        Reply::err("ERR hash value is not a float")
    );
    assert_eq!(
        c.q("HINCRBYFLOAT h n x"),
        Reply::err("ERR value is not a valid float")
    );
    assert_eq!(
        c.q("HINCRBYFLOAT h n inf"),
        Reply::err("ERR value is NaN or Infinity")
    );
    assert_eq!(c.q("HSCAN h x"), Reply::err("ERR invalid cursor"));
    assert_eq!(c.q("HSCAN h 0 COUNT 0"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("HRANDFIELD h 1 WITHVALUE"),
        Reply::err("ERR syntax error")
    );
    assert_eq!(
        c.q("HEXPIRE h 10 FIELDS 0 a"),
        Reply::err("ERR Parameter `numFields` should be greater than 0")
    );
    assert_eq!(
        c.q("HEXPIRE h 10 FIELDS 2 a"),
        Reply::err("ERR The `numfields` parameter must match the number of arguments")
    );
    assert_eq!(
        c.q("HEXPIRE h 10 BAD 1 a"),
        Reply::err("ERR Mandatory argument FIELDS is missing or not at the right position")
    );
    assert_eq!(
        c.q("HEXPIRE h -1 FIELDS 1 a"),
        Reply::err("ERR invalid expire time, must be >= 0")
    );
    assert_eq!(
        c.q("HPEXPIRE h 70368744177664 FIELDS 1 a"),
        Reply::err("ERR invalid expire time in 'hpexpire' command")
    );
    assert_eq!(
        c.q("HTTL h FIELDS x a"),
        Reply::err("ERR Number of fields must be a positive integer")
    );
    assert_eq!(
        c.q("HSETEX h EX 1 KEEPTTL FIELDS 1 a 1"),
        Reply::err("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified")
    );
    assert_eq!(
        c.q("HSETEX h FNX FXX FIELDS 1 a 1"),
        Reply::err("ERR Only one of FXX or FNX arguments can be specified")
    );
    assert_eq!(
        c.q("HSETEX h FIELDS 0 a 1"),
        Reply::err("ERR invalid number of fields")
    );
}

#[test]
fn increments() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("HINCRBY h n 5"), Reply::Int(5));
    assert_eq!(c.q("HINCRBY h n -10"), Reply::Int(-5));
    c.q("HSET h max 9223372036854775807");
    assert_eq!(
        c.q("HINCRBY h max 1"),
        Reply::err("ERR increment or decrement would overflow")
    );
    assert_eq!(c.q("HINCRBYFLOAT h f 10.50"), Reply::bulk("10.5"));
    assert_eq!(c.q("HINCRBYFLOAT h f 0.1"), Reply::bulk("10.6"));
    assert_eq!(c.q("HINCRBYFLOAT h e 5.0e3"), Reply::bulk("5000"));
    assert_eq!(c.q("HINCRBYFLOAT h n 1"), Reply::bulk("-4"));
    assert_eq!(c.q("HGET h f"), Reply::bulk("10.6"));
    c.q("HSET h big 1e308");
    assert_eq!(
        c.q("HINCRBYFLOAT h big 1e308"),
        Reply::err("ERR increment would produce NaN or Infinity")
    );
    // Increments keep a field's TTL.
    c.q("HPEXPIRE h 100000 FIELDS 1 n");
    c.q("HINCRBY h n 1");
    let pttl = c.q("HPTTL h FIELDS 1 n").items()[0].int();
    assert!((90_000..=100_000).contains(&pttl), "{pttl}");
}

#[test]
fn resp3_shapes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    c.q("HSET h a 1 b 2");
    let Reply::Map(m) = c.q("HGETALL h") else {
        panic!("HGETALL is a map in RESP3")
    };
    assert_eq!(m.len(), 2);
    assert_eq!(c.q("HGETALL nokey"), Reply::Map(vec![]));
    let pairs = c.q("HRANDFIELD h 2 WITHVALUES").items();
    assert_eq!(pairs.len(), 2);
    for p in pairs {
        assert_eq!(p.items().len(), 2, "each pair is a 2-element array");
    }
    assert_eq!(c.q("HRANDFIELD h -3 WITHVALUES").items().len(), 3);
    assert_eq!(c.q("HRANDFIELD h 5").items().len(), 2);
    assert_eq!(c.q("HGET h zz"), Reply::Null);
    assert_eq!(c.q("HRANDFIELD nokey"), Reply::Null);
}

#[test]
fn hrandfield_counts() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("HRANDFIELD nokey"), Reply::NilBulk);
    assert_eq!(c.q("HRANDFIELD nokey 3"), Reply::Array(vec![]));
    for i in 0..30 {
        c.q(&format!("HSET h f{i} v{i}"));
    }
    let one = c.q("HRANDFIELD h").text();
    assert!(one.starts_with('f'));
    assert_eq!(c.q("HRANDFIELD h 0"), Reply::Array(vec![]));
    let uniq: BTreeSet<String> = c
        .q("HRANDFIELD h 10")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    assert_eq!(uniq.len(), 10);
    let uniq: BTreeSet<String> = c
        .q("HRANDFIELD h 25")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    assert_eq!(uniq.len(), 25);
    assert_eq!(c.q("HRANDFIELD h 100").items().len(), 30);
    assert_eq!(c.q("HRANDFIELD h -100").items().len(), 100);
    let flat = c.q("HRANDFIELD h 3 WITHVALUES").items();
    assert_eq!(flat.len(), 6);
    for pair in flat.chunks(2) {
        assert_eq!(pair[0].text()[1..], pair[1].text()[1..]);
    }
    // Large encoding too.
    for i in 0..200 {
        c.q(&format!("HSET big f{i} v{i}"));
    }
    assert_eq!(c.q("OBJECT ENCODING big"), Reply::bulk("hashtable"));
    let uniq: BTreeSet<String> = c
        .q("HRANDFIELD big 150")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    assert_eq!(uniq.len(), 150);
    let uniq: BTreeSet<String> = c
        .q("HRANDFIELD big 20")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    assert_eq!(uniq.len(), 20);
}

fn full_scan(c: &mut Conn, key: &str, extra: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let r = c.q(&format!("HSCAN {key} {cursor} {extra}")).items();
        cursor = r[0].text();
        out.extend(r[1].items().iter().map(Reply::text));
        if cursor == "0" {
            return out;
        }
    }
}

#[test]
fn hscan_both_encodings() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.q("HSCAN nokey 0"),
        Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
    );
    c.q("HSET small a 1 b 2 ab 3");
    let items = c.q("HSCAN small 0").items();
    assert_eq!(items[0], Reply::bulk("0"));
    assert_eq!(items[1].items().len(), 6);
    let m = full_scan(&mut c, "small", "MATCH a* NOVALUES");
    assert_eq!(m.len(), 2);
    for i in 0..300 {
        c.q(&format!("HSET big f{i} v{i}"));
    }
    let all = full_scan(&mut c, "big", "COUNT 17");
    let fields: BTreeSet<&String> = all.iter().step_by(2).collect();
    assert_eq!(fields.len(), 300);
    let keys = full_scan(&mut c, "big", "MATCH f1? NOVALUES");
    let keys: BTreeSet<String> = keys.into_iter().collect();
    assert_eq!(keys.len(), 10);
}

#[test]
fn encodings_at_thresholds() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("CONFIG SET hash-max-listpack-entries 4"), Reply::ok());
    c.q("HSET h a 1 b 2 c 3 d 4");
    assert_eq!(c.q("OBJECT ENCODING h"), Reply::bulk("listpack"));
    c.q("HSET h a 5");
    assert_eq!(c.q("OBJECT ENCODING h"), Reply::bulk("listpack"));
    c.q("HSET h e 5");
    assert_eq!(c.q("OBJECT ENCODING h"), Reply::bulk("hashtable"));
    c.q("HDEL h a b c d");
    assert_eq!(c.q("OBJECT ENCODING h"), Reply::bulk("hashtable"));
    assert_eq!(c.q("HGET h e"), Reply::bulk("5"));

    c.q("CONFIG SET hash-max-listpack-entries 128");
    let v64 = "x".repeat(64);
    c.q(&format!("HSET v f {v64}"));
    c.q(&format!("HSET v {v64} 1"));
    assert_eq!(c.q("OBJECT ENCODING v"), Reply::bulk("listpack"));
    c.q(&format!("HSET v g {v64}y"));
    assert_eq!(c.q("OBJECT ENCODING v"), Reply::bulk("hashtable"));
    assert_eq!(c.q("HLEN v"), Reply::Int(3));
    c.q(&format!("HSET w {v64}y 1"));
    assert_eq!(c.q("OBJECT ENCODING w"), Reply::bulk("hashtable"));
    assert_eq!(c.q("CONFIG SET hash-max-listpack-value 0"), Reply::ok());
    c.q("HSET z a 1");
    assert_eq!(c.q("OBJECT ENCODING z"), Reply::bulk("hashtable"));
    // Field TTLs keep the small encoding (Moon says listpack where Redis 7.4 says listpackex).
    c.q("CONFIG SET hash-max-listpack-value 64");
    c.q("HSET t a 1");
    c.q("HEXPIRE t 100 FIELDS 1 a");
    assert_eq!(c.q("OBJECT ENCODING t"), Reply::bulk("listpack"));
}

#[test]
fn field_expiry_commands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("HSET h a 1 b 2 c 3");
    assert_eq!(c.q("HEXPIRE h 100 FIELDS 2 a zz"), ints(&[1, -2]));
    assert_eq!(c.q("HEXPIRE nokey 100 FIELDS 2 a b"), ints(&[-2, -2]));
    assert_eq!(c.q("HEXPIRE h 200 NX FIELDS 2 a b"), ints(&[0, 1]));
    assert_eq!(c.q("HEXPIRE h 50 XX FIELDS 2 a c"), ints(&[1, 0]));
    assert_eq!(c.q("HEXPIRE h 60 GT FIELDS 2 a c"), ints(&[1, 0]));
    assert_eq!(c.q("HEXPIRE h 70 LT FIELDS 2 a c"), ints(&[0, 1]));
    let ttl = c.q("HTTL h FIELDS 4 a b c zz").items();
    assert!((59..=60).contains(&ttl[0].int()));
    assert!((199..=200).contains(&ttl[1].int()));
    assert!((69..=70).contains(&ttl[2].int()));
    assert_eq!(ttl[3], Reply::Int(-2));
    let pttl = c.q("HPTTL h FIELDS 1 a").items()[0].int();
    assert!((59_000..=60_000).contains(&pttl), "{pttl}");
    let now_s = c.q("TIME").items()[0].text().parse::<i64>().unwrap_or(0);
    let at = c.q("HEXPIRETIME h FIELDS 1 a").items()[0].int();
    assert!((now_s + 59..=now_s + 61).contains(&at), "{at} vs {now_s}");
    let pat = c.q("HPEXPIRETIME h FIELDS 1 a").items()[0].int();
    assert!((at * 1000 - 1000..=at * 1000).contains(&pat));
    assert_eq!(c.q("HPERSIST h FIELDS 3 a zz a"), ints(&[1, -2, -1]));
    assert_eq!(c.q("HTTL h FIELDS 1 a"), ints(&[-1]));
    assert_eq!(c.q("HTTL nokey FIELDS 1 a"), ints(&[-2]));
    assert_eq!(c.q("HPERSIST nokey FIELDS 1 a"), ints(&[-2]));
    c.q(&format!("HEXPIREAT h {} FIELDS 1 a", now_s + 1000));
    let at = c.q("HEXPIRETIME h FIELDS 1 a").items()[0].int();
    assert_eq!(at, now_s + 1000);
    c.q(&format!(
        "HPEXPIREAT h {} FIELDS 1 a",
        (now_s + 2000) * 1000
    ));
    assert_eq!(
        c.q("HPEXPIRETIME h FIELDS 1 a"),
        ints(&[(now_s + 2000) * 1000])
    );
    // A time in the past (or 0) deletes the field: 2.
    assert_eq!(c.q("HEXPIRE h 0 FIELDS 1 a"), ints(&[2]));
    assert_eq!(c.q("HPEXPIREAT h 1 FIELDS 1 b"), ints(&[2]));
    assert_eq!(c.q("HKEYS h"), Reply::bulks(&["c"]));
    assert_eq!(c.q("HEXPIRE h 0 FIELDS 1 c"), ints(&[2]));
    assert_eq!(c.q("EXISTS h"), Reply::Int(0));
}

#[test]
fn expired_fields_are_invisible_and_reclaimed() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("HSET h a 1 b 2 c 3");
    assert_eq!(c.q("HPEXPIRE h 50 FIELDS 2 a b"), ints(&[1, 1]));
    assert!(wait_until(Duration::from_secs(3), || c.q("HGET h a") == Reply::NilBulk));
    assert_eq!(c.q("HLEN h"), Reply::Int(1));
    assert_eq!(c.q("HEXISTS h b"), Reply::Int(0));
    assert_eq!(
        c.q("HGETALL h").pairs(),
        vec![("c".to_string(), Reply::bulk("3"))]
    );
    assert_eq!(c.q("HRANDFIELD h 5"), Reply::bulks(&["c"]));
    // The last field expiring takes the key with it.
    assert_eq!(c.q("HPEXPIRE h 30 FIELDS 1 c"), ints(&[1]));
    assert!(wait_until(Duration::from_secs(3), || c.q("HLEN h") == Reply::Int(0)));
    assert_eq!(c.q("EXISTS h"), Reply::Int(0));
    // Large encoding too.
    for i in 0..200 {
        c.q(&format!("HSET big f{i} v"));
    }
    c.q("HPEXPIRE big 30 FIELDS 3 f1 f2 f3");
    assert!(wait_until(Duration::from_secs(3), || c.q("HLEN big")
        == Reply::Int(197)));
    assert_eq!(c.q("HGET big f1"), Reply::NilBulk);
    // HSET on an expired field makes a fresh field without TTL.
    c.q("HSET e a 1");
    c.q("HPEXPIRE e 30 FIELDS 1 a");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.q("HSET e a 2"), Reply::Int(1));
    assert_eq!(c.q("HTTL e FIELDS 1 a"), ints(&[-1]));
}

#[test]
fn hgetdel_hgetex_hsetex() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("HSET h a 1 b 2 c 3");
    assert_eq!(
        c.q("HGETDEL h FIELDS 3 a zz a"),
        Reply::Array(vec![Reply::bulk("1"), Reply::NilBulk, Reply::NilBulk])
    );
    assert_eq!(
        c.q("HGETDEL nokey FIELDS 1 a"),
        Reply::Array(vec![Reply::NilBulk])
    );
    assert_eq!(
        c.q("HGETEX h FIELDS 2 b zz"),
        Reply::Array(vec![Reply::bulk("2"), Reply::NilBulk])
    );
    assert_eq!(c.q("HGETEX h PX 100000 FIELDS 1 b"), Reply::bulks(&["2"]));
    let pttl = c.q("HPTTL h FIELDS 1 b").items()[0].int();
    assert!((90_000..=100_000).contains(&pttl));
    assert_eq!(c.q("HGETEX h PERSIST FIELDS 1 b"), Reply::bulks(&["2"]));
    assert_eq!(c.q("HTTL h FIELDS 1 b"), ints(&[-1]));
    assert_eq!(c.q("HGETEX h EXAT 1 FIELDS 1 b"), Reply::bulks(&["2"]));
    assert_eq!(c.q("HEXISTS h b"), Reply::Int(0));
    assert_eq!(c.q("HGETDEL h FIELDS 1 c"), Reply::bulks(&["3"]));
    assert_eq!(c.q("EXISTS h"), Reply::Int(0));

    assert_eq!(c.q("HSETEX s FXX FIELDS 1 a 1"), Reply::Int(0));
    assert_eq!(c.q("EXISTS s"), Reply::Int(0));
    assert_eq!(c.q("HSETEX s FNX EX 100 FIELDS 2 a 1 b 2"), Reply::Int(1));
    let ttl = c.q("HTTL s FIELDS 2 a b").items();
    assert!(ttl.iter().all(|t| (99..=100).contains(&t.int())));
    assert_eq!(c.q("HSETEX s FNX FIELDS 2 a 1 x 2"), Reply::Int(0));
    assert_eq!(c.q("HSETEX s FXX KEEPTTL FIELDS 1 a 9"), Reply::Int(1));
    assert_eq!(c.q("HGET s a"), Reply::bulk("9"));
    assert!((99..=100).contains(&c.q("HTTL s FIELDS 1 a").items()[0].int()));
    assert_eq!(c.q("HSETEX s FIELDS 1 a 8"), Reply::Int(1));
    assert_eq!(c.q("HTTL s FIELDS 1 a"), ints(&[-1]));
    assert_eq!(c.q("HSET s b 5"), Reply::Int(0));
    assert_eq!(c.q("HTTL s FIELDS 1 b"), ints(&[-1]));
    assert_eq!(c.q("HSETEX s PX 40 FIELDS 1 p 1"), Reply::Int(1));
    assert!(wait_until(Duration::from_secs(3), || c.q("HEXISTS s p")
        == Reply::Int(0)));
    assert_eq!(c.q("HSETEX s PXAT 1 FIELDS 2 a 1 b 2"), Reply::Int(1));
    assert_eq!(c.q("EXISTS s"), Reply::Int(0));
}

#[test]
fn hashes_route_across_shards() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    for i in 0..40 {
        assert_eq!(c.q(&format!("HSET h{i} f {i}")), Reply::Int(1));
    }
    for i in 0..40 {
        assert_eq!(c.q(&format!("HGET h{i} f")), Reply::bulk(i.to_string()));
        assert_eq!(c.q(&format!("HPEXPIRE h{i} 100000 FIELDS 1 f")), ints(&[1]));
    }
    assert_eq!(c.q("DBSIZE"), Reply::Int(40));
}

/// Hashes whose fields all expire disappear through the active expiry cycle, without any
/// command reading them.
#[test]
fn active_expiry_reclaims_expired_fields() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("HSET gone a 1 b 2"), Reply::Int(2));
    assert_eq!(c.q("HSET stays a 1 b 2"), Reply::Int(2));
    assert_eq!(
        c.q("HPEXPIRE gone 30 FIELDS 2 a b"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(1)])
    );
    assert_eq!(
        c.q("HPEXPIRE stays 30 FIELDS 1 a"),
        Reply::Array(vec![Reply::Int(1)])
    );
    assert!(common::wait_until(
        std::time::Duration::from_secs(5),
        || { c.q("DBSIZE") == Reply::Int(1) }
    ));
    assert_eq!(c.q("HGETALL stays"), Reply::bulks(&["b", "2"]));
}
