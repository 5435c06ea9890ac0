//! The same smoke test over both I/O backends (`--io epoll`, `--io uring`): SET/GET, a
//! pipelined MSET/MGET burst, large values that need several reads and writes, and several
//! clients at once.

mod common;

use common::{Reply, Server};

fn smoke(io: &str) {
    let s = Server::start(&["--io", io, "--shards", "2"]);
    let mut c = s.conn();
    assert_eq!(c.q("SET k v"), Reply::ok());
    assert_eq!(c.q("GET k"), Reply::bulk("v"));

    let mut buf = Vec::new();
    for i in 0..500 {
        buf.extend(common::resp::encode(&[
            "MSET",
            &format!("a{i}"),
            &i.to_string(),
            &format!("b{i}"),
            "x",
        ]));
        buf.extend(common::resp::encode(&[
            "MGET",
            &format!("a{i}"),
            &format!("b{i}"),
            "nope",
        ]));
    }
    c.send_raw(&buf);
    for i in 0..500 {
        assert_eq!(c.read(), Reply::ok());
        assert_eq!(
            c.read(),
            Reply::Array(vec![
                Reply::bulk(i.to_string()),
                Reply::bulk("x"),
                Reply::NilBulk
            ])
        );
    }

    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(c.cmd(&[b"SET".as_slice(), b"big", &big]), Reply::ok());
    assert_eq!(c.q("GET big"), Reply::Bulk(big));

    let handles: Vec<_> = (0..8)
        .map(|t| {
            let mut c = s.conn();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let k = format!("t{t}:{i}");
                    assert_eq!(c.cmd(&["SET", &k, &k]), Reply::ok());
                    assert_eq!(c.cmd(&["GET", &k]), Reply::bulk(&k));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
    assert_eq!(c.q("DBSIZE"), Reply::Int(2 + 1000 + 8 * 200));

    let mut con = s.client();
    let v: Vec<Option<String>> = redis::cmd("MGET")
        .arg("a1")
        .arg("nope")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec![Some("1".to_string()), None]);
}

#[test]
fn smoke_epoll() {
    smoke("epoll");
}

#[test]
fn smoke_uring() {
    smoke("uring");
}
