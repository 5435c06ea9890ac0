//! Protocol robustness end to end: malformed multibulk and bulk headers, oversized lengths,
//! huge inline requests and unbalanced quotes each get Redis's exact `-ERR Protocol error: ...`
//! and the connection is closed; harmless oddities (negative or zero multibulk counts, empty
//! lines, unterminated frames) are tolerated; random garbage never takes the server down; and a
//! second client keeps being served throughout.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{Reply, Server};
use rand::{Rng, SeedableRng};

/// A client that keeps doing SET/GET round trips until stopped, and reports how many it did.
fn bystander(s: &Server) -> (Arc<AtomicBool>, JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let mut c = s.conn();
    let handle = std::thread::spawn(move || {
        // At least one round trip happens after `stop` is set, i.e. after all the hostile
        // traffic, so a count > 0 proves service throughout even if this thread starts late.
        let mut n = 0u64;
        loop {
            let stopping = flag.load(Ordering::Relaxed);
            let v = n.to_string();
            assert_eq!(c.cmd(&["SET", "bystander", &v]), Reply::ok());
            assert_eq!(c.q("GET bystander"), Reply::bulk(&v));
            n += 1;
            if stopping {
                return n;
            }
        }
    });
    (stop, handle)
}

/// Sends `data` on a fresh connection and returns everything read until EOF, or until the
/// server goes quiet (then `open` is true).
fn exchange(s: &Server, data: &[u8], quiet: Duration) -> (Vec<u8>, bool) {
    let mut sock = s.raw();
    sock.set_read_timeout(Some(quiet)).unwrap();
    // The server may close before taking everything; that is fine.
    let _ = sock.write_all(data);
    read_all(&mut sock)
}

fn read_all(sock: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return (out, false),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (out, true);
            }
            Err(_) => return (out, false),
        }
    }
}

fn expect_error_and_close(s: &Server, data: &[u8], error: &str) {
    let (out, open) = exchange(s, data, Duration::from_secs(10));
    let text = String::from_utf8_lossy(&out);
    assert_eq!(
        text,
        format!("-ERR Protocol error: {error}\r\n"),
        "for {:?}",
        preview(data)
    );
    assert!(!open, "connection must be closed after {:?}", preview(data));
}

fn preview(data: &[u8]) -> String {
    String::from_utf8_lossy(&data[..data.len().min(40)]).into_owned()
}

#[test]
fn protocol_errors_close_the_connection() {
    let s = Server::start(&["--proto-max-bulk-len", "1048576"]);
    let (stop, by) = bystander(&s);
    expect_error_and_close(&s, b"*abc\r\n", "invalid multibulk length");
    expect_error_and_close(&s, b"*3000000000\r\n", "invalid multibulk length");
    expect_error_and_close(&s, b"*1\r\n$abc\r\n", "invalid bulk length");
    expect_error_and_close(&s, b"*1\r\n$-1\r\n", "invalid bulk length");
    expect_error_and_close(&s, b"*1\r\n$-5\r\n", "invalid bulk length");
    expect_error_and_close(
        &s,
        b"*2\r\n$3\r\nSET\r\n$2000000\r\n",
        "invalid bulk length",
    );
    expect_error_and_close(&s, b"*1\r\nfoo\r\n", "expected '$', got 'f'");
    expect_error_and_close(&s, b"*2\r\n$4\r\nECHO\r\n:5\r\n", "expected '$', got ':'");
    expect_error_and_close(&s, &[b'x'; 70_000], "too big inline request");
    let mut mbulk = b"*".to_vec();
    mbulk.extend([b'1'; 70_000]);
    expect_error_and_close(&s, &mbulk, "too big mbulk count string");
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend([b'1'; 70_000]);
    expect_error_and_close(&s, &bulk, "too big bulk count string");
    expect_error_and_close(&s, b"SET \"a b\r\n", "unbalanced quotes in request");

    // Replies to complete commands before the bad frame are still delivered.
    let (out, open) = exchange(
        &s,
        b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n",
        Duration::from_secs(10),
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"
    );
    assert!(!open);

    stop.store(true, Ordering::Relaxed);
    assert!(
        by.join().expect("bystander") > 0,
        "the bystander was served"
    );
}

#[test]
fn tolerated_oddities() {
    let s = Server::start(&[]);
    let quiet = Duration::from_millis(300);
    let (out, open) = exchange(&s, b"*-10\r\nPING\r\n", quiet);
    assert_eq!(out, b"+PONG\r\n");
    assert!(open);
    let (out, open) = exchange(&s, b"*0\r\n\r\n\r\nPING\r\n", quiet);
    assert_eq!(out, b"+PONG\r\n");
    assert!(open);

    // An unterminated frame waits for the rest, however it is split.
    let mut sock = s.raw();
    sock.set_read_timeout(Some(quiet)).unwrap();
    sock.write_all(b"*2\r\n$4\r\nECHO\r\n$3\r\nab").unwrap();
    let (out, open) = read_all(&mut sock);
    assert!(out.is_empty() && open, "no reply to a partial frame");
    sock.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
    let mut c = common::Conn::new(sock);
    c.send_raw(b"c\r\n");
    assert_eq!(c.read(), Reply::bulk("abc"));
    for b in b"*1\r\n$4\r\nPING\r\n" {
        c.send_raw(&[*b]);
    }
    assert_eq!(c.read(), Reply::simple("PONG"));
    // A huge but legal multibulk count with no body yet just waits.
    let (out, open) = exchange(&s, b"*1048577\r\n", quiet);
    assert!(out.is_empty() && open);
}

#[test]
fn random_garbage_never_kills_the_server() {
    let s = Server::start(&[]);
    let (stop, by) = bystander(&s);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6d6f6f6e);
    for round in 0..60 {
        let len = rng.random_range(1..8192);
        let mut data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        // Steer a third of the rounds into the multibulk parser, a third into the bulk parser.
        match round % 3 {
            0 => data[0] = b'*',
            1 => data.splice(0..0, b"*2\r\n$".iter().copied()).for_each(drop),
            _ => {}
        }
        let (out, _open) = exchange(&s, &data, Duration::from_millis(200));
        if out.starts_with(b"-ERR Protocol error") {
            assert!(out.ends_with(b"\r\n"));
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(by.join().expect("bystander") > 0);
    assert_eq!(s.conn().q("PING"), Reply::simple("PONG"));
    assert!(!s.conn().q("GET bystander").is_nil());
}
