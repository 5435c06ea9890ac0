//! Tests of the io_uring driver: the shared driver scenarios (multishot and single-shot
//! accept) plus user_data encoding and accept-mode checks.

use super::super::testkit;
use super::*;

fn make(listener: TcpListener, waker: &Waker) -> io::Result<Box<dyn Driver>> {
    Ok(Box::new(UringDriver::new(listener, waker)?))
}

/// io_uring may be disabled where tests run (seccomp, sysctl); only then are they skipped.
fn available() -> bool {
    let ok = IoUring::new(8).is_ok();
    if !ok {
        eprintln!("io_uring unavailable here; skipping uring driver test");
    }
    ok
}

fn make_epoll(listener: TcpListener, waker: &Waker) -> io::Result<Box<dyn Driver>> {
    Ok(Box::new(super::super::epoll::EpollDriver::new(
        listener, waker,
    )?))
}

#[test]
fn handoff_keeps_the_byte_stream() {
    if !available() {
        return;
    }
    testkit::handoff_keeps_the_byte_stream(make, make);
}

/// Between backends too: a shard's driver never cares where a socket came from.
#[test]
fn handoff_between_backends() {
    if !available() {
        return;
    }
    testkit::handoff_keeps_the_byte_stream(make, make_epoll);
    testkit::handoff_keeps_the_byte_stream(make_epoll, make);
}

#[test]
fn user_data_round_trips() {
    let ud = encode(Op::Send, 123_456, (1 << 28) + 7);
    assert_eq!(decode(ud), Some((Op::Send, 123_456, 7)));
    assert_eq!(decode(encode(Op::Accept, 0, 0)), Some((Op::Accept, 0, 0)));
    assert_eq!(decode(0), None);
}

#[test]
fn multishot_accept_stays_armed() {
    if !available() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let waker = Waker::new().expect("waker");
    let mut d = UringDriver::new(listener, &waker).expect("driver");
    let clients: Vec<_> = (0..20)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    let (mut accepted, mut events) = (0, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(10);
    while accepted < clients.len() && Instant::now() < deadline {
        d.poll(Duration::from_millis(100), &mut events)
            .expect("poll");
        accepted += events
            .drain(..)
            .filter(|e| matches!(e, Event::Accepted(_)))
            .count();
    }
    assert_eq!(accepted, clients.len());
    assert!(d.multishot_accept, "fell back to single-shot accept");
}

fn make_single_shot(listener: TcpListener, waker: &Waker) -> io::Result<Box<dyn Driver>> {
    Ok(Box::new(UringDriver::with_accept_mode(
        listener, waker, false,
    )?))
}

#[test]
fn single_shot_accept_echo() {
    if available() {
        testkit::echo_many_clients(make_single_shot);
        testkit::token_reuse_does_not_misdeliver(make_single_shot);
    }
}

#[test]
fn echo_many_clients() {
    if available() {
        testkit::echo_many_clients(make);
    }
}

#[test]
fn echo_large_payloads() {
    if available() {
        testkit::echo_large_payloads(make);
    }
}

#[test]
fn peer_close_reports_closed() {
    if available() {
        testkit::peer_close_reports_closed(make);
    }
}

#[test]
fn server_close_ends_connection() {
    if available() {
        testkit::server_close_ends_connection(make);
    }
}

#[test]
fn waker_interrupts_poll() {
    if available() {
        testkit::waker_interrupts_poll(make);
    }
}

#[test]
fn token_reuse_does_not_misdeliver() {
    if available() {
        testkit::token_reuse_does_not_misdeliver(make);
    }
}

#[test]
fn drop_with_live_connections() {
    if available() {
        testkit::drop_with_live_connections(make);
    }
}

#[test]
fn tls_listener_is_reported() {
    if available() {
        testkit::tls_listener_is_reported(|l, w| {
            Ok(Box::new(UringDriver::with_listeners(l, w)?) as Box<dyn Driver>)
        });
    }
}
