//! Scenarios every [`Driver`] must pass, run by each backend's tests: an echo server on its
//! own thread (as a shard would run it) driven by std `TcpStream` clients.
//!
//! The echo loop asserts the driver's contract as it goes: `Accepted` never names a live
//! token, `Data`/`SendDone` never name an unknown one, and at most one send is in flight per
//! connection. A payload starting with `QUIT` makes the server `close` that connection; only
//! events later in the same batch may still name a token after its `close`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{ConnToken, Driver, Event, Waker};

/// Builds the driver under test.
pub type MakeDriver = fn(TcpListener, &Waker) -> io::Result<Box<dyn Driver>>;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Stats {
    accepted: Mutex<Vec<ConnToken>>,
    closed: Mutex<Vec<ConnToken>>,
    wakes: AtomicUsize,
}

struct EchoServer {
    addr: SocketAddr,
    waker: Waker,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
    handle: Option<JoinHandle<()>>,
}

fn bind() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    listener
}

impl EchoServer {
    fn start(make: MakeDriver) -> EchoServer {
        let listener = bind();
        let addr = listener.local_addr().expect("local addr");
        let waker = Waker::new().expect("waker");
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let (tx, rx) = mpsc::channel();
        let handle = {
            let (waker, stop, stats) = (waker.clone(), stop.clone(), stats.clone());
            std::thread::spawn(move || {
                let driver = make(listener, &waker).expect("driver");
                tx.send(()).expect("ready");
                echo_loop(driver, &stop, &stats);
            })
        };
        rx.recv().expect("server thread started");
        EchoServer {
            addr,
            waker,
            stop,
            stats,
            handle: Some(handle),
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        s
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.waker.wake();
        if let Some(h) = self.handle.take() {
            h.join().expect("echo loop panicked");
        }
    }
}

#[derive(Default)]
struct EchoConn {
    sending: bool,
    queued: Vec<u8>,
}

fn echo_loop(mut d: Box<dyn Driver>, stop: &AtomicBool, stats: &Stats) {
    let mut conns: HashMap<ConnToken, EchoConn> = HashMap::new();
    let mut events = Vec::new();
    // Closed by us during this batch: later events of the same batch may still name them.
    let mut closed_now = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        closed_now.clear();
        d.poll(Duration::from_secs(5), &mut events).expect("poll");
        for ev in events.drain(..) {
            match ev {
                Event::Data(t, buf) | Event::SendDone(t, buf) if closed_now.contains(&t) => {
                    d.recycle(buf);
                }
                Event::Closed(t) if closed_now.contains(&t) => {}
                Event::Accepted(t) => {
                    assert!(d.peer_addr(t).is_some(), "no peer address for {t}");
                    assert!(
                        conns.insert(t, EchoConn::default()).is_none(),
                        "live {t} reused"
                    );
                    stats.accepted.lock().expect("lock").push(t);
                }
                Event::Data(t, buf) if buf.starts_with(b"QUIT") => {
                    assert!(conns.remove(&t).is_some(), "QUIT from unknown {t}");
                    d.close(t);
                    closed_now.push(t);
                    d.recycle(buf);
                }
                Event::Data(t, buf) => {
                    assert!(!buf.is_empty(), "empty Data for {t}");
                    let c = conns.get_mut(&t).expect("Data for unknown token");
                    if c.sending {
                        c.queued.extend_from_slice(&buf);
                        d.recycle(buf);
                    } else {
                        c.sending = true;
                        d.send(t, buf);
                    }
                }
                Event::SendDone(t, buf) => {
                    assert!(buf.is_empty(), "SendDone buffer not cleared");
                    d.recycle(buf);
                    let c = conns.get_mut(&t).expect("SendDone for unknown token");
                    assert!(c.sending, "SendDone without a send");
                    if c.queued.is_empty() {
                        c.sending = false;
                    } else {
                        d.send(t, std::mem::take(&mut c.queued));
                    }
                }
                Event::Closed(t) => {
                    conns.remove(&t);
                    stats.closed.lock().expect("lock").push(t);
                }
                Event::Wake => {
                    stats.wakes.fetch_add(1, Ordering::SeqCst);
                }
                Event::Detached(t, _) => panic!("Detached for {t} without a detach"),
            }
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift), so payloads are not trivially periodic.
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Write `data` from a helper thread while reading the echo here (large payloads would
/// otherwise deadlock on full socket buffers).
fn round_trip(stream: &TcpStream, data: &[u8]) -> Vec<u8> {
    let mut writer = stream.try_clone().expect("clone");
    let owned = data.to_vec();
    let w = std::thread::spawn(move || writer.write_all(&owned).expect("write"));
    let mut got = vec![0; data.len()];
    (&*stream).read_exact(&mut got).expect("read echo");
    w.join().expect("writer");
    got
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + IO_TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn assert_eof(stream: &TcpStream) {
    let mut buf = [0u8; 64];
    match (&*stream).read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
        other => panic!("expected EOF, got {other:?}"),
    }
}

/// 50 concurrent clients, each doing several round trips of varied sizes.
pub fn echo_many_clients(make: MakeDriver) {
    let server = EchoServer::start(make);
    let clients: Vec<_> = (0..50u64)
        .map(|i| {
            let s = server.connect();
            std::thread::spawn(move || {
                for round in 0..5u64 {
                    let data = payload(1 + ((i * 977 + round * 131) % 40_000) as usize, i + round);
                    assert!(
                        round_trip(&s, &data) == data,
                        "client {i} round {round} mismatch"
                    );
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client");
    }
    server.stop();
}

/// Multi-MiB payloads on a few connections force partial writes and send continuation.
pub fn echo_large_payloads(make: MakeDriver) {
    let server = EchoServer::start(make);
    let clients: Vec<_> = (0..3u64)
        .map(|i| {
            let s = server.connect();
            std::thread::spawn(move || {
                let data = payload((1 << 20) * (i as usize + 1) + 17, 99 + i);
                assert!(round_trip(&s, &data) == data, "large payload {i} mismatch");
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client");
    }
    server.stop();
}

pub fn peer_close_reports_closed(make: MakeDriver) {
    let server = EchoServer::start(make);
    let s = server.connect();
    assert_eq!(round_trip(&s, b"hello"), b"hello");
    let token = *server
        .stats
        .accepted
        .lock()
        .expect("lock")
        .last()
        .expect("accepted");
    drop(s);
    wait_until("Closed", || {
        server.stats.closed.lock().expect("lock").contains(&token)
    });
    server.stop();
}

pub fn server_close_ends_connection(make: MakeDriver) {
    let server = EchoServer::start(make);
    let s = server.connect();
    assert_eq!(round_trip(&s, b"ping"), b"ping");
    (&s).write_all(b"QUIT").expect("write");
    assert_eof(&s);
    // The server keeps serving others.
    let other = server.connect();
    assert_eq!(round_trip(&other, b"still here"), b"still here");
    server.stop();
}

pub fn waker_interrupts_poll(make: MakeDriver) {
    let waker = Waker::new().expect("waker");
    let mut d = make(bind(), &waker).expect("driver");
    let mut events = Vec::new();
    // Idle: the poll must really sleep (an op that fails at once, e.g. a read of the
    // non-blocking eventfd returning EAGAIN, would make it spin).
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(150) {
        d.poll(Duration::from_millis(200), &mut events)
            .expect("poll");
        assert!(events.is_empty(), "unexpected events {events:?}");
        assert!(
            start.elapsed() >= Duration::from_millis(150),
            "idle poll returned early"
        );
    }
    for _ in 0..3 {
        let remote = waker.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            remote.wake();
        });
        let start = Instant::now();
        events.clear();
        while !events.iter().any(|e| matches!(e, Event::Wake)) {
            d.poll(Duration::from_secs(30), &mut events).expect("poll");
            assert!(start.elapsed() < Duration::from_secs(5), "wake not seen");
        }
        t.join().expect("waker thread");
    }
    // Wakes are drained, not re-reported.
    events.clear();
    d.poll(Duration::from_millis(20), &mut events)
        .expect("poll");
    assert!(events.is_empty(), "unexpected events {events:?}");
}

/// Connections closed by the server free their tokens; later connections that reuse them
/// must see only their own data (the echo loop panics on data for an unknown token).
pub fn token_reuse_does_not_misdeliver(make: MakeDriver) {
    let server = EchoServer::start(make);
    for i in 0..100u64 {
        let s = server.connect();
        let data = payload(100 + (i as usize * 37) % 3000, i);
        assert!(round_trip(&s, &data) == data, "round {i} mismatch");
        match i % 3 {
            // Server close with trailing bytes still arriving: they must not surface later.
            0 => {
                (&s).write_all(b"QUIT and some trailing bytes")
                    .expect("write");
                assert_eof(&s);
            }
            1 => drop(s),
            _ => {
                (&s).write_all(b"QUIT").expect("write");
                let _ = (&s).write_all(b"late");
                drop(s);
            }
        }
    }
    let accepted = server.stats.accepted.lock().expect("lock").clone();
    let distinct: std::collections::HashSet<_> = accepted.iter().collect();
    assert_eq!(accepted.len(), 100);
    assert!(distinct.len() < 100, "tokens never reused: {distinct:?}");
    let s = server.connect();
    assert_eq!(round_trip(&s, b"final"), b"final");
    server.stop();
}

/// Dropping a driver with open connections and ops in flight must not hang or crash.
pub fn drop_with_live_connections(make: MakeDriver) {
    let server = EchoServer::start(make);
    let clients: Vec<_> = (0..5).map(|_| server.connect()).collect();
    for c in &clients {
        assert_eq!(round_trip(c, b"x"), b"x");
    }
    // A send that cannot complete (the client is not reading) is in flight at drop.
    let big = payload(8 << 20, 7);
    let _ = clients[0].set_write_timeout(Some(Duration::from_millis(200)));
    let _ = (&clients[0]).write_all(&big);
    server.stop();
    for c in &clients[1..] {
        assert_eof(c);
    }
}

/// Builds a driver from [`super::Listeners`] (the TLS scenario).
pub type MakeWithListeners = fn(super::Listeners, &Waker) -> io::Result<Box<dyn Driver>>;

/// A driver with a plain and a TLS listener accepts on both and reports which one took each
/// connection ([`Driver::is_tls`]); a driver with only a TLS listener (`port 0`) serves it.
pub fn tls_listener_is_reported(make: MakeWithListeners) {
    let (plain, tls) = (bind(), bind());
    let (plain_addr, tls_addr) = (
        plain.local_addr().expect("addr"),
        tls.local_addr().expect("addr"),
    );
    let waker = Waker::new().expect("waker");
    let listeners = super::Listeners {
        plain: Some(plain),
        tls: Some(tls),
    };
    let mut d = make(listeners, &waker).expect("driver");
    let mut c1 = TcpStream::connect(plain_addr).expect("connect plain");
    let (mut tokens, mut events) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + IO_TIMEOUT;
    while tokens.is_empty() && Instant::now() < deadline {
        d.poll(Duration::from_millis(50), &mut events)
            .expect("poll");
        tokens.extend(events.drain(..).filter_map(|e| match e {
            Event::Accepted(t) => Some(t),
            _ => None,
        }));
    }
    let plain_token = *tokens.first().expect("plain accept");
    let mut c2 = TcpStream::connect(tls_addr).expect("connect tls");
    while tokens.len() < 2 && Instant::now() < deadline {
        d.poll(Duration::from_millis(50), &mut events)
            .expect("poll");
        tokens.extend(events.drain(..).filter_map(|e| match e {
            Event::Accepted(t) => Some(t),
            _ => None,
        }));
    }
    let tls_token = *tokens.get(1).expect("tls accept");
    assert!(!d.is_tls(plain_token));
    assert!(d.is_tls(tls_token));
    // Bytes still flow on both (the driver does not care what they are).
    c1.write_all(b"a").expect("write");
    c2.write_all(b"b").expect("write");
    let mut seen = HashMap::new();
    while seen.len() < 2 && Instant::now() < deadline {
        d.poll(Duration::from_millis(50), &mut events)
            .expect("poll");
        for e in events.drain(..) {
            if let Event::Data(t, buf) = e {
                seen.insert(t, buf.clone());
                d.recycle(buf);
            }
        }
    }
    assert_eq!(seen.get(&plain_token).map(Vec::as_slice), Some(&b"a"[..]));
    assert_eq!(seen.get(&tls_token).map(Vec::as_slice), Some(&b"b"[..]));
    d.close(plain_token);
    assert!(!d.is_tls(plain_token));
    drop(d);

    // TLS only: no plain listener at all.
    let tls = bind();
    let tls_addr = tls.local_addr().expect("addr");
    let mut d = make(
        super::Listeners {
            plain: None,
            tls: Some(tls),
        },
        &waker,
    )
    .expect("tls-only driver");
    let _c = TcpStream::connect(tls_addr).expect("connect tls");
    let mut accepted = None;
    while accepted.is_none() && Instant::now() < deadline {
        d.poll(Duration::from_millis(50), &mut events)
            .expect("poll");
        accepted = events.drain(..).find_map(|e| match e {
            Event::Accepted(t) => Some(t),
            _ => None,
        });
    }
    let token = accepted.expect("tls-only accept");
    assert!(d.is_tls(token));
}

/// Polls `d` until `pick` accepts an event (others are recycled or dropped); panics after
/// [`IO_TIMEOUT`].
fn poll_for<T>(d: &mut dyn Driver, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let mut events = Vec::new();
    let deadline = Instant::now() + IO_TIMEOUT;
    while Instant::now() < deadline {
        d.poll(Duration::from_millis(20), &mut events)
            .expect("poll");
        for e in events.drain(..) {
            if let Some(found) = pick(e) {
                return found;
            }
        }
    }
    panic!("the expected event never came");
}

/// A connection detached from one driver and adopted by another (`from` then `to`, which may
/// be different backends) keeps every byte in order: what the first read, what raced the
/// detach, and what arrives after the adoption; replies from the second reach the client.
pub fn handoff_keeps_the_byte_stream(from: MakeDriver, to: MakeDriver) {
    let waker = Waker::new().expect("waker");
    let listener = bind();
    let addr = listener.local_addr().expect("addr");
    let mut a = from(listener, &waker).expect("first driver");
    let mut b = to(bind(), &waker).expect("second driver");
    let mut client = TcpStream::connect(addr).expect("connect");
    client.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    let token = poll_for(&mut *a, |e| match e {
        Event::Accepted(t) => Some(t),
        _ => None,
    });
    client.write_all(b"first").expect("write");
    let first = poll_for(&mut *a, |e| match e {
        Event::Data(t, buf) if t == token => Some(buf),
        _ => None,
    });
    assert_eq!(first, b"first");
    // Written before the detach: the first driver's armed read may take it (then it travels
    // in `unread`), or it is still in the socket for the second driver.
    client.write_all(b"-racing").expect("write");
    std::thread::sleep(Duration::from_millis(20));
    a.detach(token);
    let handoff = poll_for(&mut *a, |e| match e {
        Event::Detached(t, h) if t == token => Some(h),
        Event::Data(t, _) if t == token => panic!("Data after detach"),
        Event::Closed(t) if t == token => panic!("Closed instead of Detached"),
        _ => None,
    });
    let mut stream = handoff.unread.clone();
    assert!(handoff.peer.is_some());
    let moved = b.adopt(handoff).expect("adopt");
    assert!(b.peer_addr(moved).is_some());
    client.write_all(b"-after").expect("write");
    let want = b"-racing-after";
    while stream.len() < want.len() {
        let buf = poll_for(&mut *b, |e| match e {
            Event::Data(t, buf) if t == moved => Some(buf),
            Event::Accepted(_) => panic!("adopt reported as an accept"),
            _ => None,
        });
        stream.extend_from_slice(&buf);
        b.recycle(buf);
    }
    assert_eq!(stream, want);
    b.send(moved, b"reply".to_vec());
    poll_for(&mut *b, |e| match e {
        Event::SendDone(t, _) if t == moved => Some(()),
        _ => None,
    });
    let mut got = [0u8; 5];
    client.read_exact(&mut got).expect("read reply");
    assert_eq!(&got, b"reply");
    // The first driver let go of the socket without closing it, and reports nothing more.
    let mut events = Vec::new();
    a.poll(Duration::from_millis(20), &mut events)
        .expect("poll");
    assert!(
        events.iter().all(|e| e.token() != Some(token)),
        "the first driver still reports the detached token"
    );
    b.close(moved);
    b.poll(Duration::from_millis(20), &mut events)
        .expect("poll");
    assert_eof(&client);
}
