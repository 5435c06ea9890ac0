//! HyperLogLog end to end: PFADD/PFCOUNT/PFMERGE replies and errors, the HYLL string format
//! (GET returns Redis's exact bytes), sparse→dense conversion at hll-sparse-max-bytes, union
//! counts and merges across shards, and a byte-for-byte comparison with redis-server when it
//! is installed.

mod common;

use common::reference::Reference;
use common::{Conn, Reply, Server};

/// `PFADD key e<from> .. e<to-1>` in commands of at most 1000 elements, pipelined.
fn add_range(c: &mut Conn, key: &str, from: usize, to: usize) {
    let mut sent = 0;
    for start in (from..to).step_by(1000) {
        let mut args = vec!["PFADD".to_string(), key.to_string()];
        args.extend((start..(start + 1000).min(to)).map(|i| format!("e{i}")));
        c.send(&args);
        sent += 1;
    }
    for _ in 0..sent {
        let r = c.read();
        assert!(matches!(r, Reply::Int(0 | 1)), "{r:?}");
    }
}

fn bytes(r: Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b,
        other => panic!("expected bulk, got {other:?}"),
    }
}

#[test]
fn pfadd_pfcount_basics() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("PFADD h a b c"), Reply::Int(1));
    assert_eq!(c.q("PFADD h a b"), Reply::Int(0));
    assert_eq!(c.q("PFADD fresh"), Reply::Int(1));
    assert_eq!(c.q("PFADD fresh"), Reply::Int(0));
    assert_eq!(c.q("PFCOUNT fresh"), Reply::Int(0));
    // redis-server 7.0.15's exact bytes for PFADD h a b c.
    assert_eq!(
        bytes(c.q("GET h")),
        b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ".to_vec()
    );
    assert_eq!(c.q("PFCOUNT h"), Reply::Int(3));
    // PFCOUNT stores the cardinality in the header.
    assert_eq!(
        bytes(c.q("GET h")),
        b"HYLL\x01\0\0\0\x03\0\0\0\0\0\0\0`\xf3\x80P\xb1\x84K\xfb\x80BZ".to_vec()
    );
    assert_eq!(c.q("PFCOUNT missing"), Reply::Int(0));
    assert_eq!(c.q("TYPE h"), Reply::simple("string"));
    assert_eq!(c.q("OBJECT ENCODING h"), Reply::bulk("raw"));
    // A copy made with SET is still an HLL.
    let raw = bytes(c.q("GET h"));
    assert_eq!(c.cmd(&[&b"SET"[..], b"copy", &raw]), Reply::ok());
    assert_eq!(c.q("PFADD copy d"), Reply::Int(1));
    assert_eq!(c.q("PFCOUNT copy"), Reply::Int(4));
}

#[test]
fn errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let not_hll = Reply::err("WRONGTYPE Key is not a valid HyperLogLog string value.");
    let wrong = Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(c.q("SET s foo"), Reply::ok());
    assert_eq!(c.q("SET i 123"), Reply::ok());
    assert_eq!(c.q("LPUSH l a").int(), 1);
    for key in ["s", "i"] {
        assert_eq!(c.cmd(&["PFADD", key, "x"]), not_hll);
        assert_eq!(c.cmd(&["PFCOUNT", key]), not_hll);
        assert_eq!(c.cmd(&["PFCOUNT", "missing", key]), not_hll);
        assert_eq!(c.cmd(&["PFMERGE", "dest", key]), not_hll);
        assert_eq!(c.cmd(&["PFMERGE", key, "missing"]), not_hll);
    }
    assert_eq!(c.q("EXISTS dest"), Reply::Int(0));
    assert_eq!(c.q("PFADD l x"), wrong);
    assert_eq!(c.q("PFCOUNT l"), wrong);
    assert_eq!(c.q("PFMERGE l"), wrong);
    let corrupt = Reply::err("INVALIDOBJ Corrupted HLL object detected");
    assert_eq!(
        c.cmd(&[
            &b"SET"[..],
            b"bad",
            b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x80\x01"
        ]),
        Reply::ok()
    );
    assert_eq!(c.q("PFCOUNT bad"), corrupt);
    assert_eq!(c.q("PFCOUNT bad h"), corrupt);
    assert_eq!(c.q("PFMERGE dest bad"), corrupt);
    for cmd in ["pfadd", "pfcount", "pfmerge"] {
        assert_eq!(
            c.cmd(&[cmd]),
            Reply::err(&format!(
                "ERR wrong number of arguments for '{cmd}' command"
            ))
        );
    }
}

#[test]
fn sparse_to_dense_and_merge() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    add_range(&mut c, "big", 0, 1000);
    assert_eq!(c.q("PFCOUNT big"), Reply::Int(1008));
    assert_eq!(c.q("STRLEN big"), Reply::Int(1906));
    add_range(&mut c, "big5", 0, 5000);
    assert_eq!(c.q("PFCOUNT big5"), Reply::Int(4968));
    assert_eq!(c.q("STRLEN big5"), Reply::Int(12304));
    assert_eq!(c.q("PFADD h a b c"), Reply::Int(1));
    assert_eq!(c.q("PFMERGE m big h"), Reply::ok());
    assert_eq!(c.q("PFCOUNT m"), Reply::Int(1012));
    assert_eq!(c.q("PFCOUNT big h"), Reply::Int(1012));
    assert_eq!(c.q("STRLEN m"), Reply::Int(1912));
    // A dense source makes the destination dense.
    assert_eq!(c.q("PFMERGE m big5"), Reply::ok());
    assert_eq!(c.q("STRLEN m"), Reply::Int(12304));
    assert_eq!(c.q("PFMERGE only"), Reply::ok());
    assert_eq!(c.q("PFCOUNT only"), Reply::Int(0));
    // The conversion threshold follows hll-sparse-max-bytes.
    assert_eq!(c.q("CONFIG SET hll-sparse-max-bytes 100"), Reply::ok());
    add_range(&mut c, "small", 0, 100);
    assert_eq!(c.q("PFCOUNT small"), Reply::Int(100));
    assert_eq!(c.q("STRLEN small"), Reply::Int(12304));
}

#[test]
fn multi_key_ops_across_shards() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    let keys: Vec<String> = (0..6).map(|i| format!("hll{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        add_range(&mut c, k, i * 100, i * 100 + 200);
    }
    let mut count = vec!["PFCOUNT".to_string()];
    count.extend(keys.iter().cloned());
    let union = c.cmd(&count).int();
    assert!((680..=720).contains(&union), "{union}");
    let mut merge = vec!["PFMERGE".to_string(), "dest".to_string()];
    merge.extend(keys.iter().cloned());
    assert_eq!(c.cmd(&merge), Reply::ok());
    assert_eq!(c.q("PFCOUNT dest"), Reply::Int(union));
    // The same union computed on one shard (hash tags) gives the same number.
    for i in 0..6 {
        add_range(&mut c, &format!("{{t}}h{i}"), i * 100, i * 100 + 200);
    }
    let tagged: Vec<String> = (0..6).map(|i| format!("{{t}}h{i}")).collect();
    let mut count = vec!["PFCOUNT".to_string()];
    count.extend(tagged);
    assert_eq!(c.cmd(&count).int(), union);
    // Errors from keys on other shards come back too.
    assert_eq!(c.q("SET plain x"), Reply::ok());
    assert_eq!(
        c.q("PFCOUNT hll0 hll1 hll2 plain"),
        Reply::err("WRONGTYPE Key is not a valid HyperLogLog string value.")
    );
}

#[test]
fn byte_identical_to_redis_server() {
    let Some(reference) = Reference::start("the byte-for-byte comparison") else {
        return;
    };
    let s = Server::start(&[]);
    let (mut moon, mut redis) = (s.conn(), reference.conn());
    for (key, n) in [
        ("h10", 10),
        ("h1k", 1000),
        ("h3k", 3000),
        ("h100k", 100_000),
    ] {
        for c in [&mut moon, &mut redis] {
            add_range(c, key, 0, n);
        }
        let get = format!("GET {key}");
        assert_eq!(
            bytes(moon.q(&get)),
            bytes(redis.q(&get)),
            "{key} after PFADD"
        );
        let count = format!("PFCOUNT {key}");
        let want = redis.q(&count);
        assert_eq!(moon.q(&count), want, "{key}");
        assert_eq!(
            bytes(moon.q(&get)),
            bytes(redis.q(&get)),
            "{key} after PFCOUNT"
        );
    }
    for cmd in [
        "PFMERGE m1 h10 h1k",
        "PFMERGE m2 h3k h10",
        "PFMERGE h1k h100k",
    ] {
        assert_eq!(moon.q(cmd), redis.q(cmd), "{cmd}");
    }
    for key in ["m1", "m2", "h1k"] {
        let get = format!("GET {key}");
        assert_eq!(
            bytes(moon.q(&get)),
            bytes(redis.q(&get)),
            "{key} after PFMERGE"
        );
    }
    for cmd in [
        "PFCOUNT m1",
        "PFCOUNT m2",
        "PFCOUNT h10 h3k h100k",
        "PFCOUNT h1k",
    ] {
        assert_eq!(moon.q(cmd), redis.q(cmd), "{cmd}");
    }
}
