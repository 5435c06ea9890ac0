//! DUMP and RESTORE end to end: round trips of every type inside Moon, payloads exchanged with
//! a real redis-server 7.0 in both directions (skipped with a message when it is absent), TTL
//! and access options, and every error text.

mod common;

use std::net::TcpStream;

use common::resp::Conn;
use common::{Reply, Server};

fn bulk_bytes(r: Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b,
        other => panic!("expected a bulk, got {other:?}"),
    }
}

/// Commands that build one key of every type and encoding, and the command reading it back.
fn fixtures() -> Vec<(Vec<String>, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut big_list = s(&["RPUSH", "bigl"]);
    big_list.extend((0..300).map(|i| format!("e{i}")));
    let mut big_set = s(&["SADD", "bigs"]);
    big_set.extend((0..200).map(|i| format!("m{i}")));
    let mut big_iset = s(&["SADD", "bigi"]);
    big_iset.extend((0..600).map(|i| (i * 7).to_string()));
    let mut big_hash = s(&["HSET", "bigh"]);
    big_hash.extend((0..200).flat_map(|i| [format!("f{i}"), format!("v{i}")]));
    let mut big_zset = s(&["ZADD", "bigz"]);
    big_zset.extend((0..200).flat_map(|i| [format!("{i}.25"), format!("m{i}")]));
    let long = "x".repeat(300);
    vec![
        (s(&["SET", "str", "hello"]), s(&["GET", "str"])),
        (s(&["SET", "num", "-123456789012"]), s(&["GET", "num"])),
        (s(&["SET", "long", &long]), s(&["GET", "long"])),
        (
            s(&["RPUSH", "list", "a", "b", "1", "2"]),
            s(&["LRANGE", "list", "0", "-1"]),
        ),
        (big_list, s(&["LRANGE", "bigl", "0", "-1"])),
        (s(&["SADD", "iset", "3", "1", "2"]), s(&["SORT", "iset"])),
        (
            s(&["SADD", "sset", "b", "a"]),
            s(&["SORT", "sset", "ALPHA"]),
        ),
        (big_set, s(&["SORT", "bigs", "ALPHA"])),
        (big_iset, s(&["SORT", "bigi"])),
        (
            s(&["HSET", "hash", "f1", "v1", "f2", "v2"]),
            s(&["HGET", "hash", "f2"]),
        ),
        (big_hash, s(&["HGET", "bigh", "f150"])),
        (
            s(&["ZADD", "zset", "1.5", "a", "2", "b", "0.1", "c"]),
            s(&["ZRANGE", "zset", "0", "-1", "WITHSCORES"]),
        ),
        (big_zset, s(&["ZRANGE", "bigz", "0", "-1", "WITHSCORES"])),
    ]
}

fn key_of(build: &[String]) -> &str {
    &build[1]
}

#[test]
fn every_type_round_trips_inside_moon() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for (build, read) in fixtures() {
        let key = key_of(&build).to_string();
        assert!(!matches!(c.cmd(&build), Reply::Error(_)), "{build:?}");
        let want = c.cmd(&read);
        let enc = c.cmd(&["OBJECT", "ENCODING", &key]);
        let payload = bulk_bytes(c.cmd(&["DUMP", &key]));
        assert_eq!(c.cmd(&["DEL", &key]), Reply::Int(1));
        assert_eq!(
            c.cmd(&[b"RESTORE".as_slice(), key.as_bytes(), b"0", &payload]),
            Reply::ok(),
            "{key}"
        );
        assert_eq!(c.cmd(&read), want, "{key}");
        assert_eq!(c.cmd(&["OBJECT", "ENCODING", &key]), enc, "{key}");
    }
}

#[test]
fn restore_options_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("DUMP nokey"), Reply::NilBulk);
    assert_eq!(c.q("SET k v"), Reply::ok());
    let p = bulk_bytes(c.q("DUMP k"));
    let restore = |c: &mut Conn, args: &[&[u8]]| {
        let mut v: Vec<&[u8]> = vec![b"RESTORE"];
        v.extend_from_slice(args);
        c.cmd(&v)
    };
    assert_eq!(
        restore(&mut c, &[b"k", b"0", &p]),
        Reply::err("BUSYKEY Target key name already exists.")
    );
    assert_eq!(
        restore(&mut c, &[b"k2", b"-5", &p]),
        Reply::err("ERR Invalid TTL value, must be >= 0")
    );
    assert_eq!(
        restore(&mut c, &[b"k2", b"abc", &p]),
        Reply::err("ERR value is not an integer or out of range")
    );
    let mut bad = p.clone();
    bad[1] ^= 1;
    assert_eq!(
        restore(&mut c, &[b"k2", b"0", &bad]),
        Reply::err("ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(
        restore(&mut c, &[b"k2", b"0", &p, b"bogus"]),
        Reply::err("ERR syntax error")
    );
    assert_eq!(
        restore(&mut c, &[b"k2", b"0", &p, b"FREQ", b"300"]),
        Reply::err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(
        restore(&mut c, &[b"k2", b"0", &p, b"IDLETIME", b"-1"]),
        Reply::err("ERR Invalid IDLETIME value, must be >= 0")
    );
    // TTLs: relative, absolute, already past.
    assert_eq!(restore(&mut c, &[b"t1", b"100000", &p]), Reply::ok());
    let pttl = c.q("PTTL t1").int();
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(
        restore(&mut c, &[b"t2", b"4102444800000", &p, b"ABSTTL"]),
        Reply::ok()
    );
    assert_eq!(c.q("PEXPIRETIME t2"), Reply::Int(4_102_444_800_000));
    assert_eq!(restore(&mut c, &[b"t3", b"1", &p, b"ABSTTL"]), Reply::ok());
    assert_eq!(c.q("EXISTS t3"), Reply::Int(0));
    assert_eq!(
        restore(&mut c, &[b"k", b"1", &p, b"ABSTTL", b"REPLACE"]),
        Reply::ok()
    );
    assert_eq!(c.q("EXISTS k"), Reply::Int(0));
    // IDLETIME sets the access clock.
    assert_eq!(
        restore(&mut c, &[b"idle", b"0", &p, b"IDLETIME", b"1000"]),
        Reply::ok()
    );
    let idle = c.q("OBJECT IDLETIME idle").int();
    assert!((1000..=1002).contains(&idle), "{idle}");
    // REPLACE over another type.
    assert_eq!(c.q("RPUSH l a"), Reply::Int(1));
    assert_eq!(restore(&mut c, &[b"l", b"0", &p, b"REPLACE"]), Reply::ok());
    assert_eq!(c.q("GET l"), Reply::bulk("v"));
}

#[test]
fn bad_data_format() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    // A correctly sealed payload of an unknown object type (0x63), RDB version 10.
    let mut object = vec![0x63u8, 0x0a, 0x00];
    let crc = crc64(&object);
    object.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        c.cmd(&[b"RESTORE".as_slice(), b"x", b"0", &object]),
        Reply::err("ERR Bad data format")
    );
}

/// Redis's CRC-64 (Jones), bitwise: an independent check of the server's footer.
fn crc64(bytes: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in bytes {
        crc ^= u64::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[test]
fn payloads_move_between_redis_and_moon() {
    if common::is_reference() {
        return;
    }
    let Some(redis) = common::reference::Reference::start("payloads_move_between_redis_and_moon")
    else {
        return;
    };
    let mut r = Conn::new(TcpStream::connect(("127.0.0.1", redis.port)).expect("redis"));
    let s = Server::start(&[]);
    let mut m = s.conn();
    for (build, read) in fixtures() {
        let key = key_of(&build).to_string();
        assert!(!matches!(r.cmd(&build), Reply::Error(_)), "{build:?}");
        let want = r.cmd(&read);
        // Redis → Moon.
        let p = bulk_bytes(r.cmd(&["DUMP", &key]));
        assert_eq!(
            m.cmd(&[b"RESTORE".as_slice(), key.as_bytes(), b"0", &p]),
            Reply::ok(),
            "{key}"
        );
        assert_eq!(m.cmd(&read), want, "redis → moon {key}");
        // Moon → Redis, under a new name.
        let back = bulk_bytes(m.cmd(&["DUMP", &key]));
        let key2 = format!("{key}_back");
        assert_eq!(
            r.cmd(&[b"RESTORE".as_slice(), key2.as_bytes(), b"0", &back]),
            Reply::ok(),
            "{key}"
        );
        let read2: Vec<String> = read
            .iter()
            .map(|a| if *a == key { key2.clone() } else { a.clone() })
            .collect();
        assert_eq!(r.cmd(&read2), want, "moon → redis {key}");
    }
}
