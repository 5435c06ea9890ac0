//! Pipelining end to end: 10,000 commands sent in one write, through `redis::pipe` and as raw
//! bytes, get exactly one reply each, in order, including mixed replies and errors.

mod common;

use common::{Reply, Server};

const N: usize = 10_000;

#[test]
fn redis_crate_pipeline_of_10k() {
    let s = Server::start(&[]);
    let mut con = s.client();
    let mut p = redis::pipe();
    for i in 0..N {
        p.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    for i in 0..N {
        p.cmd("INCR").arg(format!("k{i}"));
    }
    let got: Vec<i64> = p.query(&mut con).expect("pipeline");
    let want: Vec<i64> = (1..=N as i64).collect();
    assert_eq!(got, want);

    let mut p = redis::pipe();
    for i in 0..N {
        p.cmd("GET").arg(format!("k{i}"));
    }
    let got: Vec<String> = p.query(&mut con).expect("pipeline");
    assert!(
        got.iter()
            .enumerate()
            .all(|(i, v)| *v == (i + 1).to_string())
    );
}

#[test]
fn raw_pipeline_of_10k_in_one_write() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut buf = Vec::new();
    for i in 0..N {
        let args: Vec<String> = match i % 4 {
            0 => vec!["SET".into(), format!("r{i}"), i.to_string()],
            1 => vec!["GET".into(), format!("r{}", i - 1)],
            2 => vec!["INCR".into(), "counter".into()],
            _ => vec!["NOSUCHCMD".into()],
        };
        buf.extend(common::resp::encode(&args));
    }
    // Inline commands mixed into the same write.
    buf.extend_from_slice(b"PING\r\nECHO done\r\n");
    let writer = {
        let mut sock = c.stream().try_clone().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            sock.write_all(&buf).expect("write pipeline");
        })
    };
    let mut counter = 0;
    for i in 0..N {
        let r = c.read();
        match i % 4 {
            0 => assert_eq!(r, Reply::ok(), "reply {i}"),
            1 => assert_eq!(r, Reply::bulk((i - 1).to_string()), "reply {i}"),
            2 => {
                counter += 1;
                assert_eq!(r, Reply::Int(counter), "reply {i}");
            }
            _ => assert!(
                r.error().starts_with("ERR unknown command 'NOSUCHCMD'"),
                "reply {i}"
            ),
        }
    }
    assert_eq!(c.read(), Reply::simple("PONG"));
    assert_eq!(c.read(), Reply::bulk("done"));
    writer.join().unwrap();
}
