//! String commands end to end: every string command's replies and error texts as redis-server 7
//! gives them (GET/SET and options, SETNX/SETEX/PSETEX, GETSET/GETDEL/GETEX, MGET/MSET/MSETNX,
//! APPEND/STRLEN, the INCR family, GETRANGE/SETRANGE/SUBSTR, LCS).

mod common;

use common::{Reply, Server};

fn nil() -> Reply {
    Reply::NilBulk
}

#[test]
fn get_set_basic_and_options() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("GET k"), nil());
    assert_eq!(c.q("SET k v"), Reply::ok());
    assert_eq!(c.q("GET k"), Reply::bulk("v"));
    assert_eq!(c.cmd(&["SET", "bin", "a\r\nb\0c"]), Reply::ok());
    assert_eq!(c.q("GET bin"), Reply::bulk("a\r\nb\0c"));
    assert_eq!(c.cmd(&["SET", "empty", ""]), Reply::ok());
    assert_eq!(c.q("GET empty"), Reply::bulk(""));

    assert_eq!(c.q("SET k v2 NX"), nil());
    assert_eq!(c.q("GET k"), Reply::bulk("v"));
    assert_eq!(c.q("SET k2 v XX"), nil());
    assert_eq!(c.q("EXISTS k2"), Reply::Int(0));
    assert_eq!(c.q("SET k v3 XX"), Reply::ok());
    assert_eq!(c.q("SET n v NX"), Reply::ok());

    assert_eq!(c.q("SET k v4 GET"), Reply::bulk("v3"));
    assert_eq!(c.q("SET fresh v GET"), nil());
    assert_eq!(c.q("GET fresh"), Reply::bulk("v"));
    assert_eq!(c.q("SET k v5 NX GET"), Reply::bulk("v4"));
    assert_eq!(c.q("GET k"), Reply::bulk("v4"));
    assert_eq!(c.q("SET nx2 v NX GET"), nil());
    assert_eq!(c.q("GET nx2"), Reply::bulk("v"));
    assert_eq!(c.q("SET k v6 xx get"), Reply::bulk("v4"));
}

#[test]
fn set_expire_options() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("SET k v EX 100"), Reply::ok());
    let ttl = c.q("TTL k").int();
    assert!((99..=100).contains(&ttl), "ttl {ttl}");
    assert_eq!(c.q("SET k v PX 100000"), Reply::ok());
    let pttl = c.q("PTTL k").int();
    assert!((90_000..=100_000).contains(&pttl), "pttl {pttl}");
    let now = unix_secs();
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EXAT", &(now + 200).to_string()]),
        Reply::ok()
    );
    assert_eq!(c.q("EXPIRETIME k"), Reply::Int(now as i64 + 200));
    let at_ms = now * 1000 + 300_000;
    assert_eq!(
        c.cmd(&["SET", "k", "v", "PXAT", &at_ms.to_string()]),
        Reply::ok()
    );
    assert_eq!(c.q("PEXPIRETIME k"), Reply::Int(at_ms as i64));

    assert_eq!(c.q("SET k other KEEPTTL"), Reply::ok());
    assert_eq!(c.q("PEXPIRETIME k"), Reply::Int(at_ms as i64));
    assert_eq!(c.q("SET k plain"), Reply::ok());
    assert_eq!(c.q("TTL k"), Reply::Int(-1));

    // An absolute time in the past stores nothing (the key ends up deleted).
    assert_eq!(c.q("SET past v EXAT 1"), Reply::ok());
    assert_eq!(c.q("GET past"), nil());
}

#[test]
fn set_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let syntax = Reply::err("ERR syntax error");
    let bad_ttl = Reply::err("ERR invalid expire time in 'set' command");
    let not_int = Reply::err("ERR value is not an integer or out of range");
    assert_eq!(c.q("SET k v NX XX"), syntax);
    assert_eq!(c.q("SET k v EX 10 PX 100"), syntax);
    assert_eq!(c.q("SET k v KEEPTTL EX 10"), syntax);
    assert_eq!(c.q("SET k v EX"), syntax);
    assert_eq!(c.q("SET k v BOGUS"), syntax);
    assert_eq!(c.q("SET k v EX 0"), bad_ttl);
    assert_eq!(c.q("SET k v PX -1"), bad_ttl);
    assert_eq!(c.q("SET k v EXAT 0"), bad_ttl);
    assert_eq!(c.q("SET k v EX 9999999999999999"), bad_ttl);
    assert_eq!(c.q("SET k v EX abc"), not_int);
    assert_eq!(
        c.q("SET k"),
        Reply::err("ERR wrong number of arguments for 'set' command")
    );
    assert_eq!(
        c.q("GET"),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        c.q("GET a b"),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(c.q("EXISTS k"), Reply::Int(0));
}

#[test]
fn setnx_setex_psetex_getset_getdel() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("SETNX k v"), Reply::Int(1));
    assert_eq!(c.q("SETNX k w"), Reply::Int(0));
    assert_eq!(c.q("GET k"), Reply::bulk("v"));

    assert_eq!(c.q("SETEX e 100 v"), Reply::ok());
    assert!((99..=100).contains(&c.q("TTL e").int()));
    assert_eq!(
        c.q("SETEX e 0 v"),
        Reply::err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(
        c.q("SETEX e abc v"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.q("PSETEX p 100000 v"), Reply::ok());
    assert!((90_000..=100_000).contains(&c.q("PTTL p").int()));
    assert_eq!(
        c.q("PSETEX p -5 v"),
        Reply::err("ERR invalid expire time in 'psetex' command")
    );

    assert_eq!(c.q("GETSET k w"), Reply::bulk("v"));
    assert_eq!(c.q("GETSET missing w"), nil());
    assert_eq!(c.q("GET missing"), Reply::bulk("w"));
    // GETSET drops the TTL like SET does.
    assert_eq!(c.q("GETSET e x"), Reply::bulk("v"));
    assert_eq!(c.q("TTL e"), Reply::Int(-1));

    assert_eq!(c.q("GETDEL k"), Reply::bulk("w"));
    assert_eq!(c.q("GETDEL k"), nil());
    assert_eq!(c.q("EXISTS k"), Reply::Int(0));
}

#[test]
fn getex() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("GETEX nope EX 10"), nil());
    c.q("SET k v");
    assert_eq!(c.q("GETEX k"), Reply::bulk("v"));
    assert_eq!(c.q("TTL k"), Reply::Int(-1));
    assert_eq!(c.q("GETEX k EX 100"), Reply::bulk("v"));
    assert!((99..=100).contains(&c.q("TTL k").int()));
    assert_eq!(c.q("GETEX k PX 200000"), Reply::bulk("v"));
    assert!(c.q("PTTL k").int() > 100_000);
    let at = unix_secs() + 500;
    assert_eq!(
        c.cmd(&["GETEX", "k", "EXAT", &at.to_string()]),
        Reply::bulk("v")
    );
    assert_eq!(c.q("EXPIRETIME k"), Reply::Int(at as i64));
    assert_eq!(c.q("GETEX k PERSIST"), Reply::bulk("v"));
    assert_eq!(c.q("TTL k"), Reply::Int(-1));
    assert_eq!(
        c.q("GETEX k EX 0"),
        Reply::err("ERR invalid expire time in 'getex' command")
    );
    assert_eq!(
        c.q("GETEX k PXAT 0"),
        Reply::err("ERR invalid expire time in 'getex' command")
    );
    assert_eq!(c.q("GETEX k PERSIST EX 1"), Reply::err("ERR syntax error"));
    assert_eq!(c.q("GETEX k FOO"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("GETEX k EX x"),
        Reply::err("ERR value is not an integer or out of range")
    );
    // A past absolute time deletes the key but still returns the old value.
    assert_eq!(c.q("GETEX k EXAT 1"), Reply::bulk("v"));
    assert_eq!(c.q("EXISTS k"), Reply::Int(0));
}

#[test]
fn mget_mset_msetnx() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("MSET a 1 b 2 c 3"), Reply::ok());
    assert_eq!(
        c.q("MGET a b nope c"),
        Reply::Array(vec![
            Reply::bulk("1"),
            Reply::bulk("2"),
            nil(),
            Reply::bulk("3")
        ])
    );
    assert_eq!(
        c.q("MSET a 1 b"),
        Reply::err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        c.q("MSET"),
        Reply::err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        c.q("MGET"),
        Reply::err("ERR wrong number of arguments for 'mget' command")
    );
    assert_eq!(c.q("MSET a x a y"), Reply::ok());
    assert_eq!(c.q("GET a"), Reply::bulk("y"));

    assert_eq!(c.q("MSETNX x 1 a 2"), Reply::Int(0));
    assert_eq!(c.q("EXISTS x"), Reply::Int(0));
    assert_eq!(c.q("MSETNX x 1 y 2"), Reply::Int(1));
    assert_eq!(c.q("MGET x y"), Reply::bulks(&["1", "2"]));
    assert_eq!(
        c.q("MSETNX x"),
        Reply::err("ERR wrong number of arguments for 'msetnx' command")
    );
    // MSET clears TTLs of the keys it overwrites.
    c.q("SETEX t 100 v");
    c.q("MSET t w");
    assert_eq!(c.q("TTL t"), Reply::Int(-1));
}

#[test]
fn append_strlen() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("APPEND k abc"), Reply::Int(3));
    assert_eq!(c.q("APPEND k def"), Reply::Int(6));
    assert_eq!(c.q("GET k"), Reply::bulk("abcdef"));
    assert_eq!(c.q("STRLEN k"), Reply::Int(6));
    assert_eq!(c.q("STRLEN nope"), Reply::Int(0));
    c.q("SET n 12");
    assert_eq!(c.q("APPEND n 34"), Reply::Int(4));
    assert_eq!(c.q("INCR n"), Reply::Int(1235));
    assert_eq!(c.q("STRLEN n"), Reply::Int(4));
    // APPEND keeps the TTL.
    c.q("SETEX t 100 a");
    c.q("APPEND t b");
    assert!(c.q("TTL t").int() > 0);
}

#[test]
fn incr_family() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("INCR n"), Reply::Int(1));
    assert_eq!(c.q("INCRBY n 10"), Reply::Int(11));
    assert_eq!(c.q("DECR n"), Reply::Int(10));
    assert_eq!(c.q("DECRBY n 20"), Reply::Int(-10));
    assert_eq!(c.q("INCRBY n -5"), Reply::Int(-15));
    assert_eq!(c.q("GET n"), Reply::bulk("-15"));
    assert_eq!(c.q("DECR fresh"), Reply::Int(-1));
    assert_eq!(c.q("INCRBY m -9223372036854775808"), Reply::Int(i64::MIN));

    let not_int = Reply::err("ERR value is not an integer or out of range");
    c.q("SET s abc");
    assert_eq!(c.q("INCR s"), not_int);
    c.q("SET big 12345678901234567890");
    assert_eq!(c.q("INCR big"), not_int);
    c.cmd(&["SET", "sp", " 1"]);
    assert_eq!(c.q("INCR sp"), not_int);
    c.q("SET lead 01");
    assert_eq!(c.q("INCR lead"), not_int);
    assert_eq!(c.q("INCRBY n abc"), not_int);
    assert_eq!(c.q("INCRBY n 1.5"), not_int);

    c.q("SET max 9223372036854775807");
    assert_eq!(
        c.q("INCR max"),
        Reply::err("ERR increment or decrement would overflow")
    );
    assert_eq!(c.q("GET max"), Reply::bulk("9223372036854775807"));
    c.q("SET min -9223372036854775808");
    assert_eq!(
        c.q("DECR min"),
        Reply::err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        c.q("DECRBY n -9223372036854775808"),
        Reply::err("ERR decrement would overflow")
    );

    // INCR keeps the TTL.
    c.q("SET t 1 EX 100");
    c.q("INCR t");
    assert!(c.q("TTL t").int() > 0);
}

#[test]
fn incrbyfloat() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET f 10.5");
    assert_eq!(c.q("INCRBYFLOAT f 0.1"), Reply::bulk("10.6"));
    assert_eq!(c.q("INCRBYFLOAT f -5"), Reply::bulk("5.6"));
    assert_eq!(c.q("INCRBYFLOAT new 3"), Reply::bulk("3"));
    c.q("SET e 1e3");
    assert_eq!(c.q("INCRBYFLOAT e 0"), Reply::bulk("1000"));
    c.q("SET g 3.0");
    assert_eq!(c.q("INCRBYFLOAT g 1.5"), Reply::bulk("4.5"));
    assert_eq!(c.q("INCRBYFLOAT g -4.5"), Reply::bulk("0"));
    assert_eq!(c.q("GET g"), Reply::bulk("0"));
    c.q("SET i 5");
    assert_eq!(c.q("INCRBYFLOAT i 2.5e1"), Reply::bulk("30"));

    let bad = Reply::err("ERR value is not a valid float");
    c.q("SET s abc");
    assert_eq!(c.q("INCRBYFLOAT s 1"), bad);
    assert_eq!(c.q("INCRBYFLOAT f abc"), bad);
    assert_eq!(
        c.q("INCRBYFLOAT f inf"),
        Reply::err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(c.q("GET f"), Reply::bulk("5.6"));
}

#[test]
fn getrange_setrange_substr() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "s", "Hello World"]);
    assert_eq!(c.q("GETRANGE s 0 4"), Reply::bulk("Hello"));
    assert_eq!(c.q("GETRANGE s -5 -1"), Reply::bulk("World"));
    assert_eq!(c.q("GETRANGE s 0 -1"), Reply::bulk("Hello World"));
    assert_eq!(c.q("GETRANGE s 6 1000"), Reply::bulk("World"));
    assert_eq!(c.q("GETRANGE s 5 3"), Reply::bulk(""));
    assert_eq!(c.q("GETRANGE s -100 -200"), Reply::bulk(""));
    assert_eq!(c.q("GETRANGE s -100 2"), Reply::bulk("Hel"));
    assert_eq!(c.q("GETRANGE nope 0 -1"), Reply::bulk(""));
    assert_eq!(
        c.q("GETRANGE s a 1"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.q("SUBSTR s 0 4"), Reply::bulk("Hello"));

    assert_eq!(c.q("SETRANGE s 6 Redis"), Reply::Int(11));
    assert_eq!(c.q("GET s"), Reply::bulk("Hello Redis"));
    assert_eq!(c.q("SETRANGE pad 3 x"), Reply::Int(4));
    assert_eq!(c.q("GET pad"), Reply::bulk("\0\0\0x"));
    assert_eq!(c.cmd(&["SETRANGE", "none", "5", ""]), Reply::Int(0));
    assert_eq!(c.q("EXISTS none"), Reply::Int(0));
    assert_eq!(c.cmd(&["SETRANGE", "s", "100", ""]), Reply::Int(11));
    assert_eq!(
        c.q("SETRANGE s -1 x"),
        Reply::err("ERR offset is out of range")
    );
    assert_eq!(
        c.q("SETRANGE s 536870912 x"),
        Reply::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    c.q("SET n 1234");
    assert_eq!(c.q("SETRANGE n 0 9"), Reply::Int(4));
    assert_eq!(c.q("INCR n"), Reply::Int(9235));
}

#[test]
fn lcs() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("MSET key1 ohmytext key2 mynewtext");
    assert_eq!(c.q("LCS key1 key2"), Reply::bulk("mytext"));
    assert_eq!(c.q("LCS key1 key2 LEN"), Reply::Int(6));
    assert_eq!(c.q("LCS key1 nope"), Reply::bulk(""));
    let range = |a: i64, b: i64| Reply::Array(vec![Reply::Int(a), Reply::Int(b)]);
    let m = |a: (i64, i64), b: (i64, i64)| Reply::Array(vec![range(a.0, a.1), range(b.0, b.1)]);
    assert_eq!(
        c.q("LCS key1 key2 IDX"),
        Reply::Array(vec![
            Reply::bulk("matches"),
            Reply::Array(vec![m((4, 7), (5, 8)), m((2, 3), (0, 1))]),
            Reply::bulk("len"),
            Reply::Int(6),
        ])
    );
    let mut with_len = m((4, 7), (5, 8)).items();
    with_len.push(Reply::Int(4));
    assert_eq!(
        c.q("LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
        Reply::Array(vec![
            Reply::bulk("matches"),
            Reply::Array(vec![Reply::Array(with_len)]),
            Reply::bulk("len"),
            Reply::Int(6),
        ])
    );
    assert_eq!(
        c.q("LCS key1 key2 LEN IDX"),
        Reply::err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(c.q("LCS key1 key2 FOO"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("LCS key1 key2 IDX MINMATCHLEN x"),
        Reply::err("ERR value is not an integer or out of range")
    );
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
