//! Forwarded commands and batched cross-shard MSETs end to end, with `--shards 2`: replies of
//! commands forwarded to the other shard are byte-exact in RESP2 and RESP3 and leave in command
//! order among local, forwarded and error replies of one pipeline; a pipeline mixing cross-shard
//! MSET/MSETNX with reads, single-shard MSETs, other writes and MULTI/EXEC sees its own writes
//! in order, from clients on both shards at once.

mod common;

use std::io::Write;

use common::resp::{encode, expect_bytes};
use common::{Server, keys_on_shards};

/// Sends every command of `cmds` in one write (so the server reads them as one pipeline).
fn pipeline(sock: &mut std::net::TcpStream, cmds: &[Vec<String>]) {
    let bytes: Vec<u8> = cmds.iter().flat_map(|c| encode(c)).collect();
    sock.write_all(&bytes).expect("write pipeline");
}

fn words(line: &str) -> Vec<String> {
    line.split(' ').map(String::from).collect()
}

/// A pipeline over keys of both shards, and its exact replies for RESP2 (`false`) or RESP3.
fn zset_pipeline(keys: &[String], resp3: bool) -> (Vec<Vec<String>>, Vec<u8>) {
    let mut cmds = Vec::new();
    let mut want = Vec::new();
    let pairs: &[u8] = if resp3 {
        b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    } else {
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
    };
    for k in keys {
        cmds.push(words(&format!("ZRANGE {k} 0 -1 WITHSCORES")));
        want.extend_from_slice(pairs);
        cmds.push(words(&format!("ZSCORE {k} b")));
        want.extend_from_slice(if resp3 {
            &b",2.5\r\n"[..]
        } else {
            &b"$3\r\n2.5\r\n"[..]
        });
        cmds.push(words(&format!("GET {k}")));
        want.extend_from_slice(
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        );
        cmds.push(words(&format!("ZSCORE {k} nope")));
        want.extend_from_slice(if resp3 {
            &b"_\r\n"[..]
        } else {
            &b"$-1\r\n"[..]
        });
        cmds.push(words(&format!("ZCARD {k}")));
        want.extend_from_slice(b":2\r\n");
    }
    (cmds, want)
}

#[test]
fn forwarded_replies_are_exact_and_in_order() {
    let s = Server::start(&common::TWO_SHARDS_NO_WAL);
    let keys = keys_on_shards("fz", 2, 2);
    let mut setup = s.conn();
    for k in &keys {
        assert_eq!(setup.q(&format!("ZADD {k} 1 a 2.5 b")).int(), 2);
    }
    // Several connections, so both shards serve some (a connection's shard is the kernel's
    // choice): each sees one key locally and the other through its owner.
    for round in 0..6 {
        let resp3 = round % 2 == 1;
        let mut sock = s.raw();
        if resp3 {
            sock.write_all(&encode(&["HELLO", "3"])).unwrap();
            let mut c = common::Conn::new(sock.try_clone().unwrap());
            assert!(matches!(c.read(), common::Reply::Map(_)));
        }
        let (cmds, want) = zset_pipeline(&keys, resp3);
        // Twice the same pipeline in one write: replies of the second wait behind the first.
        let twice: Vec<Vec<String>> = cmds.iter().chain(cmds.iter()).cloned().collect();
        pipeline(&mut sock, &twice);
        expect_bytes(&mut sock, &[want.clone(), want].concat());
    }
}

/// The replies a batched-MSET pipeline must get (see `mset_pipeline`).
fn mset_pipeline(a: &str, b: &str, c: &str, d: &str, tag: &str) -> Vec<(String, String)> {
    let t = |s: &str| s.replace('#', tag);
    vec![
        (t(&format!("MSET {a} 1# {b} 1#")), "+OK".into()),
        (format!("GET {a}"), t("1#")),
        (t(&format!("MSET {a} 2# {b} 2#")), "+OK".into()),
        (t(&format!("MSET {a} 3#")), "+OK".into()),
        (format!("MGET {a} {b}"), t("[3#,2#]")),
        (t(&format!("MSETNX {a} x {c} y#")), ":0".into()),
        (format!("EXISTS {c}"), ":0".into()),
        (t(&format!("MSETNX {c} 4# {d} 4#")), ":1".into()),
        (t(&format!("MSETNX {c} 5# {d} 5#")), ":0".into()),
        (format!("MGET {c} {d}"), t("[4#,4#]")),
        (t(&format!("SET {a} 9#")), "+OK".into()),
        (t(&format!("MSET {b} 5# {a} 6#")), "+OK".into()),
        ("MULTI".into(), "+OK".into()),
        (format!("GET {a}"), "+QUEUED".into()),
        (format!("GET {b}"), "+QUEUED".into()),
        ("EXEC".into(), t("[6#,5#]")),
        (format!("DEL {a} {b} {c} {d}"), ":4".into()),
        (t(&format!("MSET {a} 7# {b} 7#")), "+OK".into()),
        (format!("MGET {b} {a}"), t("[7#,7#]")),
    ]
}

fn render(r: &common::Reply) -> String {
    match r {
        common::Reply::Simple(s) => format!("+{s}"),
        common::Reply::Int(n) => format!(":{n}"),
        common::Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        common::Reply::Array(items) => {
            let inner: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", inner.join(","))
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn cross_shard_msets_in_a_pipeline_apply_in_order() {
    let s = Server::start(&common::TWO_SHARDS_NO_WAL);
    // Clients on both shards at once, each with its own keys (a, c on shard 0; b, d on 1).
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let ab = keys_on_shards(&format!("m{i}a"), 2, 2);
            let cd = keys_on_shards(&format!("m{i}c"), 2, 2);
            let port = s.port();
            std::thread::spawn(move || {
                let sock = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
                sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let mut conn = common::Conn::new(sock.try_clone().unwrap());
                for round in 0..30 {
                    let tag = format!("r{round}");
                    let steps = mset_pipeline(&ab[0], &ab[1], &cd[0], &cd[1], &tag);
                    let cmds: Vec<Vec<String>> = steps.iter().map(|(c, _)| words(c)).collect();
                    let mut sock = sock.try_clone().unwrap();
                    pipeline(&mut sock, &cmds);
                    for (cmd, want) in &steps {
                        let got = render(&conn.read());
                        assert_eq!(&got, want, "{cmd} (round {round})");
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client");
    }
}
