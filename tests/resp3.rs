//! RESP3 reply shapes end to end, both through the `redis` crate (`?protocol=resp3`) and byte
//! by byte after `HELLO 3`: maps (CONFIG GET, HELLO, LCS IDX), nulls (`_` for missing
//! keys, in arrays too), bulk strings where Redis keeps them (INCRBYFLOAT), verbatim strings
//! (INFO, CLIENT INFO), and the switch back to RESP2 shapes.

mod common;

use std::io::Write;

use common::resp::expect_bytes;
use common::{Reply, Server};
use redis::Value;

#[test]
fn null_map_and_bulk_shapes_after_hello3() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    assert_eq!(c.q("GET nope"), Reply::Null);
    c.q("SET f 1");
    assert_eq!(
        c.q("MGET nope f"),
        Reply::Array(vec![Reply::Null, Reply::bulk("1")])
    );
    assert_eq!(c.q("INCRBYFLOAT f 0.5"), Reply::bulk("1.5"));
    assert_eq!(c.q("SET x 1 GET"), Reply::Null);
    assert_eq!(c.q("OBJECT ENCODING nope"), Reply::Null);
    assert_eq!(c.q("CLIENT GETNAME"), Reply::Null);
    assert!(!c.q("RANDOMKEY").is_nil());

    let cfg = c.q("CONFIG GET maxmemory");
    assert_eq!(
        cfg,
        Reply::Map(vec![(Reply::bulk("maxmemory"), Reply::bulk("0"))])
    );

    c.q("MSET a ohmytext b mynewtext");
    let lcs = c.q("LCS a b IDX");
    let Reply::Map(kv) = &lcs else {
        panic!("LCS IDX is a map in RESP3: {lcs:?}")
    };
    assert_eq!(kv.len(), 2);
    assert_eq!(lcs.field("len"), Reply::Int(6));

    let info = c.q("INFO server");
    let Reply::Verbatim(fmt, body) = info else {
        panic!("INFO is verbatim in RESP3: {info:?}")
    };
    assert_eq!(fmt, "txt");
    assert!(String::from_utf8_lossy(&body).starts_with("# Server\r\n"));
    assert!(matches!(c.q("CLIENT INFO"), Reply::Verbatim(..)));

    assert!(matches!(c.q("HELLO 2"), Reply::Array(_)));
    assert_eq!(c.q("GET nope"), Reply::NilBulk);
    assert_eq!(c.q("MGET nope"), Reply::Array(vec![Reply::NilBulk]));
    assert!(matches!(c.q("CONFIG GET maxmemory"), Reply::Array(_)));
    assert!(matches!(c.q("INFO server"), Reply::Bulk(_)));
}

#[test]
fn raw_bytes_after_hello3() {
    let s = Server::start(&[]);
    let mut sock = s.raw();
    sock.write_all(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n").unwrap();
    let mut c = common::Conn::new(sock.try_clone().unwrap());
    assert!(matches!(c.read(), Reply::Map(_)));
    // Exact bytes for the simplest shapes.
    sock.write_all(b"*2\r\n$3\r\nGET\r\n$4\r\nnope\r\n")
        .unwrap();
    expect_bytes(&mut sock, b"_\r\n");
    sock.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nf\r\n$3\r\n2.5\r\n")
        .unwrap();
    expect_bytes(&mut sock, b"+OK\r\n");
    sock.write_all(b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nf\r\n$1\r\n1\r\n")
        .unwrap();
    expect_bytes(&mut sock, b"$3\r\n3.5\r\n");
    sock.write_all(b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n")
        .unwrap();
    expect_bytes(&mut sock, b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
}

#[test]
fn redis_crate_resp3_values() {
    let s = Server::start(&[]);
    let mut con = s.client_resp3();
    let v: Value = redis::cmd("GET").arg("nope").query(&mut con).unwrap();
    assert_eq!(v, Value::Nil);
    let v: Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        v,
        Value::Map(vec![(
            Value::BulkString(b"maxmemory".to_vec()),
            Value::BulkString(b"0".to_vec())
        )])
    );
    let v: Value = redis::cmd("INCRBYFLOAT")
        .arg("f")
        .arg("2.5")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, Value::BulkString(b"2.5".to_vec()));
    let v: Value = redis::cmd("HELLO").arg("3").query(&mut con).unwrap();
    assert!(matches!(v, Value::Map(_)), "{v:?}");
    let v: Value = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(v, Value::SimpleString("PONG".into()));
}
