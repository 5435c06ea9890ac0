//! Generic keyspace commands end to end: DEL/UNLINK/EXISTS/TOUCH, the EXPIRE family with
//! NX/XX/GT/LT, TTL/PTTL/EXPIRETIME/PEXPIRETIME/PERSIST, TYPE, RENAME/RENAMENX, COPY, MOVE,
//! SWAPDB, KEYS, RANDOMKEY, DBSIZE, FLUSHDB/FLUSHALL, OBJECT, SELECT — replies and error texts
//! as redis-server 7 gives them.

mod common;

use common::{Reply, Server};

fn int(i: i64) -> Reply {
    Reply::Int(i)
}

#[test]
fn del_unlink_exists_touch() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("MSET a 1 b 2 c 3 d 4");
    assert_eq!(c.q("EXISTS a b nope"), int(2));
    assert_eq!(c.q("EXISTS a a a"), int(3));
    assert_eq!(c.q("TOUCH a b nope"), int(2));
    assert_eq!(c.q("DEL a nope"), int(1));
    assert_eq!(c.q("DEL a"), int(0));
    assert_eq!(c.q("UNLINK b c nope"), int(2));
    assert_eq!(c.q("EXISTS a b c d"), int(1));
    assert_eq!(
        c.q("DEL"),
        Reply::err("ERR wrong number of arguments for 'del' command")
    );
    assert_eq!(
        c.q("EXISTS"),
        Reply::err("ERR wrong number of arguments for 'exists' command")
    );
}

#[test]
fn expire_family_and_ttls() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET k v");
    assert_eq!(c.q("TTL k"), int(-1));
    assert_eq!(c.q("PTTL k"), int(-1));
    assert_eq!(c.q("TTL nope"), int(-2));
    assert_eq!(c.q("PTTL nope"), int(-2));
    assert_eq!(c.q("EXPIRETIME k"), int(-1));
    assert_eq!(c.q("EXPIRETIME nope"), int(-2));
    assert_eq!(c.q("PEXPIRETIME nope"), int(-2));
    assert_eq!(c.q("EXPIRE nope 100"), int(0));

    assert_eq!(c.q("EXPIRE k 100"), int(1));
    assert!((99..=100).contains(&c.q("TTL k").int()));
    assert_eq!(c.q("PEXPIRE k 200000"), int(1));
    assert!((190_000..=200_000).contains(&c.q("PTTL k").int()));
    let at = unix_secs() + 1000;
    assert_eq!(c.cmd(&["EXPIREAT", "k", &at.to_string()]), int(1));
    assert_eq!(c.q("EXPIRETIME k"), int(at as i64));
    assert_eq!(c.q("PEXPIRETIME k"), int(at as i64 * 1000));
    let at_ms = at * 1000 + 500_000;
    assert_eq!(c.cmd(&["PEXPIREAT", "k", &at_ms.to_string()]), int(1));
    assert_eq!(c.q("PEXPIRETIME k"), int(at_ms as i64));

    assert_eq!(c.q("PERSIST k"), int(1));
    assert_eq!(c.q("PERSIST k"), int(0));
    assert_eq!(c.q("PERSIST nope"), int(0));
    assert_eq!(c.q("TTL k"), int(-1));

    // A non-positive or past expiry deletes the key at once.
    assert_eq!(c.q("EXPIRE k -1"), int(1));
    assert_eq!(c.q("EXISTS k"), int(0));
    c.q("SET k v");
    assert_eq!(c.q("PEXPIREAT k 1"), int(1));
    assert_eq!(c.q("EXISTS k"), int(0));
}

#[test]
fn expire_conditions_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET k v");
    // No TTL yet: XX and GT refuse (GT treats "no TTL" as infinite), NX and LT accept.
    assert_eq!(c.q("EXPIRE k 100 XX"), int(0));
    assert_eq!(c.q("EXPIRE k 100 GT"), int(0));
    assert_eq!(c.q("TTL k"), int(-1));
    assert_eq!(c.q("EXPIRE k 100 LT"), int(1));
    c.q("PERSIST k");
    assert_eq!(c.q("EXPIRE k 100 NX"), int(1));
    assert_eq!(c.q("EXPIRE k 200 NX"), int(0));
    assert_eq!(c.q("EXPIRE k 200 XX"), int(1));
    assert_eq!(c.q("EXPIRE k 100 GT"), int(0));
    assert_eq!(c.q("EXPIRE k 300 GT"), int(1));
    assert_eq!(c.q("EXPIRE k 400 LT"), int(0));
    assert_eq!(c.q("PEXPIRE k 50000 LT"), int(1));
    assert!(c.q("TTL k").int() <= 50);
    assert_eq!(c.q("EXPIRE k 100 XX GT"), int(1));

    assert_eq!(
        c.q("EXPIRE k 100 NX XX"),
        Reply::err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        c.q("EXPIRE k 100 NX GT"),
        Reply::err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        c.q("EXPIRE k 100 GT LT"),
        Reply::err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(
        c.q("EXPIRE k 100 FOO"),
        Reply::err("ERR Unsupported option FOO")
    );
    assert_eq!(
        c.q("EXPIRE k abc"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("EXPIRE k 9223372036854775807"),
        Reply::err("ERR invalid expire time in 'expire' command")
    );
    assert_eq!(
        c.q("PEXPIRE k 9223372036854775807"),
        Reply::err("ERR invalid expire time in 'pexpire' command")
    );
    assert_eq!(
        c.q("EXPIREAT k 9223372036854775807"),
        Reply::err("ERR invalid expire time in 'expireat' command")
    );
}

#[test]
fn type_rename_renamenx() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET a 1");
    assert_eq!(c.q("TYPE a"), Reply::simple("string"));
    assert_eq!(c.q("TYPE nope"), Reply::simple("none"));

    c.q("EXPIRE a 100");
    assert_eq!(c.q("RENAME a b"), Reply::ok());
    assert_eq!(c.q("EXISTS a"), int(0));
    assert_eq!(c.q("GET b"), Reply::bulk("1"));
    assert!(c.q("TTL b").int() > 0, "RENAME keeps the TTL");
    assert_eq!(c.q("RENAME b b"), Reply::ok());
    assert_eq!(c.q("RENAME nope x"), Reply::err("ERR no such key"));
    assert_eq!(c.q("RENAME nope nope"), Reply::err("ERR no such key"));
    c.q("SET c 3");
    assert_eq!(c.q("RENAME c b"), Reply::ok());
    assert_eq!(c.q("GET b"), Reply::bulk("3"));
    assert_eq!(c.q("TTL b"), int(-1), "the overwritten key's TTL is gone");

    c.q("SET d 4");
    assert_eq!(c.q("RENAMENX d b"), int(0));
    assert_eq!(c.q("RENAMENX d d"), int(0));
    assert_eq!(c.q("RENAMENX d e"), int(1));
    assert_eq!(c.q("GET e"), Reply::bulk("4"));
    assert_eq!(c.q("RENAMENX nope x"), Reply::err("ERR no such key"));
}

#[test]
fn copy_move_swapdb_select() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET k x EX 100");
    assert_eq!(c.q("COPY k k2"), int(1));
    assert_eq!(c.q("GET k2"), Reply::bulk("x"));
    assert!(c.q("TTL k2").int() > 0, "COPY keeps the TTL");
    c.q("SET k3 y");
    assert_eq!(c.q("COPY k k3"), int(0));
    assert_eq!(c.q("COPY k k3 REPLACE"), int(1));
    assert_eq!(c.q("GET k3"), Reply::bulk("x"));
    assert_eq!(c.q("COPY nope z"), int(0));
    assert_eq!(
        c.q("COPY k k"),
        Reply::err("ERR source and destination objects are the same")
    );
    assert_eq!(c.q("COPY k k2 DB 1"), int(1));
    assert_eq!(
        c.q("COPY k k2 DB 99"),
        Reply::err("ERR DB index is out of range")
    );
    assert_eq!(
        c.q("COPY k k2 DB x"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.q("COPY k k2 FOO"), Reply::err("ERR syntax error"));

    assert_eq!(c.q("MOVE k 1"), int(1));
    assert_eq!(c.q("EXISTS k"), int(0));
    assert_eq!(c.q("MOVE nope 1"), int(0));
    assert_eq!(c.q("MOVE k2 1"), int(0), "destination already holds k2");
    assert_eq!(
        c.q("MOVE k2 0"),
        Reply::err("ERR source and destination objects are the same")
    );
    assert_eq!(
        c.q("MOVE k2 99"),
        Reply::err("ERR DB index is out of range")
    );

    assert_eq!(c.q("SELECT 1"), Reply::ok());
    assert_eq!(c.q("GET k"), Reply::bulk("x"));
    assert!(c.q("TTL k").int() > 0, "MOVE keeps the TTL");
    assert_eq!(c.q("DBSIZE"), int(2));
    assert_eq!(c.q("SELECT 16"), Reply::err("ERR DB index is out of range"));
    assert_eq!(c.q("SELECT -1"), Reply::err("ERR DB index is out of range"));
    assert_eq!(
        c.q("SELECT x"),
        Reply::err("ERR value is not an integer or out of range")
    );

    assert_eq!(c.q("SWAPDB 0 1"), Reply::ok());
    assert_eq!(c.q("DBSIZE"), int(2), "db 1 now holds the old db 0");
    assert_eq!(c.q("GET k3"), Reply::bulk("x"));
    c.q("SELECT 0");
    assert_eq!(c.q("GET k"), Reply::bulk("x"));
    assert_eq!(
        c.q("SWAPDB 0 100"),
        Reply::err("ERR DB index is out of range")
    );
    assert_eq!(c.q("SWAPDB x 0"), Reply::err("ERR invalid first DB index"));
    assert_eq!(c.q("SWAPDB 0 x"), Reply::err("ERR invalid second DB index"));
}

#[test]
fn keys_randomkey_dbsize_flush() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("RANDOMKEY"), Reply::NilBulk);
    assert_eq!(c.q("KEYS *"), Reply::Array(vec![]));
    c.q("MSET hello 1 hallo 2 hxllo 3 world 4 h[a]llo 5");
    let mut keys: Vec<String> = c.q("KEYS h?llo").items().iter().map(Reply::text).collect();
    keys.sort();
    assert_eq!(keys, ["hallo", "hello", "hxllo"]);
    let mut keys: Vec<String> = c
        .q("KEYS h[ae]llo")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    keys.sort();
    assert_eq!(keys, ["hallo", "hello"]);
    assert_eq!(c.q("KEYS h\\[a\\]llo"), Reply::bulks(&["h[a]llo"]));
    assert_eq!(c.q("KEYS *").items().len(), 5);
    let rk = c.q("RANDOMKEY").text();
    assert!(["hello", "hallo", "hxllo", "world", "h[a]llo"].contains(&rk.as_str()));
    assert_eq!(c.q("DBSIZE"), int(5));

    c.q("SELECT 1");
    c.q("SET other 1");
    c.q("SELECT 0");
    assert_eq!(c.q("FLUSHDB"), Reply::ok());
    assert_eq!(c.q("DBSIZE"), int(0));
    c.q("SELECT 1");
    assert_eq!(
        c.q("DBSIZE"),
        int(1),
        "FLUSHDB only empties the selected db"
    );
    assert_eq!(c.q("FLUSHDB FOO"), Reply::err("ERR syntax error"));
    c.q("SET x 1");
    assert_eq!(c.q("FLUSHDB ASYNC"), Reply::ok());
    assert_eq!(c.q("DBSIZE"), int(0));
    c.q("SET x 1");
    c.q("SELECT 0");
    c.q("SET y 1");
    assert_eq!(c.q("FLUSHALL SYNC"), Reply::ok());
    assert_eq!(c.q("DBSIZE"), int(0));
    c.q("SELECT 1");
    assert_eq!(c.q("DBSIZE"), int(0));
}

#[test]
fn object_subcommands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET i -123");
    c.q("SET e 12345678901234567890");
    c.q("SET short hello");
    c.cmd(&["SET", "long", &"a".repeat(100)]);
    assert_eq!(c.q("OBJECT ENCODING i"), Reply::bulk("int"));
    assert_eq!(c.q("OBJECT ENCODING e"), Reply::bulk("embstr"));
    assert_eq!(c.q("OBJECT ENCODING short"), Reply::bulk("embstr"));
    assert_eq!(c.q("OBJECT ENCODING long"), Reply::bulk("raw"));
    c.q("APPEND short x");
    assert_eq!(c.q("OBJECT ENCODING short"), Reply::bulk("raw"));
    assert_eq!(c.q("OBJECT ENCODING nope"), Reply::NilBulk);

    assert_eq!(c.q("OBJECT REFCOUNT long"), int(1));
    assert!(c.q("OBJECT REFCOUNT i").int() >= 1);
    assert_eq!(c.q("OBJECT REFCOUNT nope"), Reply::NilBulk);
    assert!(c.q("OBJECT IDLETIME long").int() >= 0);
    assert_eq!(c.q("OBJECT IDLETIME nope"), Reply::NilBulk);
    assert_eq!(
        c.q("OBJECT FREQ long"),
        Reply::err(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust."
        )
    );
    let help = c.q("OBJECT HELP").items();
    assert!(help.len() > 4);
    assert!(
        help[0].text().starts_with("OBJECT <subcommand>"),
        "{help:?}"
    );
    assert!(matches!(help[0], Reply::Simple(_)));
    assert_eq!(
        c.q("OBJECT FOO"),
        Reply::err("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")
    );
    assert_eq!(
        c.q("OBJECT"),
        Reply::err("ERR wrong number of arguments for 'object' command")
    );
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
