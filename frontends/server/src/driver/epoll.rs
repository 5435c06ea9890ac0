//! The epoll driver (through mio), used where io_uring is unavailable.
//!
//! Sockets are registered once, edge-triggered, for both readable and writable readiness, so
//! no re-registration syscalls are needed when a send stalls.
//!
//! Invariants:
//! - Edge-triggered readiness is only ever dropped at `WouldBlock`: a connection whose read
//!   budget ran out before `WouldBlock` is kept in `more_reads` and read again by the next
//!   `poll` (which then does not block).
//! - `send` writes immediately; what does not fit stays in the connection and is continued on
//!   writable readiness. Events produced outside `poll` (a `SendDone` from `send`, a `Closed`
//!   from a failed write) wait in `ready`, and `poll` returns them without blocking.
//! - After `close(t)` no event for `t` is reported: queued ones are purged, and the slot is not
//!   reused before the next `poll`.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use mio::net::{TcpListener as MioListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::pool::{BufPool, Slab};
use super::{ConnToken, Driver, Event, Handoff, IoBackend, Listeners, Waker};

const TLS_LISTENER: Token = Token(usize::MAX - 2);
const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX);
/// Readiness events fetched per `epoll_wait`.
const EVENTS_CAPACITY: usize = 1024;
/// Reads per connection per `poll`, so one fast sender cannot starve the others.
const READ_BUDGET: usize = 16;
/// Longest single wait; longer timeouts just loop in the caller.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// One accepted connection.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    peer: Option<SocketAddr>,
    /// Accepted on the TLS listener.
    tls: bool,
    /// The buffer being sent and how much of it is written.
    send: Option<Vec<u8>>,
    send_off: usize,
}

/// The epoll [`Driver`].
#[derive(Debug)]
pub struct EpollDriver {
    poll: mio::Poll,
    events: mio::Events,
    listener: Option<MioListener>,
    tls_listener: Option<MioListener>,
    waker: Waker,
    conns: Slab<Conn>,
    pool: BufPool,
    ready: Vec<Event>,
    /// Connections that were still readable when their read budget ran out.
    more_reads: Vec<ConnToken>,
    /// Scratch: (token, readable, writable) copied out of `events`.
    scratch: Vec<(Token, bool, bool)>,
}

impl EpollDriver {
    /// Register `listener` (made non-blocking) and `waker` with a new epoll instance.
    pub fn new(listener: TcpListener, waker: &Waker) -> io::Result<EpollDriver> {
        Self::with_listeners(
            Listeners {
                plain: Some(listener),
                tls: None,
            },
            waker,
        )
    }

    /// As [`EpollDriver::new`], with an optional plain and an optional TLS listener.
    pub fn with_listeners(listeners: Listeners, waker: &Waker) -> io::Result<EpollDriver> {
        let poll = mio::Poll::new()?;
        let register = |l: Option<TcpListener>, token| -> io::Result<Option<MioListener>> {
            let Some(l) = l else { return Ok(None) };
            l.set_nonblocking(true)?;
            let mut l = MioListener::from_std(l);
            poll.registry()
                .register(&mut l, token, Interest::READABLE)?;
            Ok(Some(l))
        };
        let listener = register(listeners.plain, LISTENER)?;
        let tls_listener = register(listeners.tls, TLS_LISTENER)?;
        poll.registry()
            .register(&mut SourceFd(&waker.raw_fd()), WAKER, Interest::READABLE)?;
        Ok(EpollDriver {
            poll,
            events: mio::Events::with_capacity(EVENTS_CAPACITY),
            listener,
            tls_listener,
            waker: waker.clone(),
            conns: Slab::default(),
            pool: BufPool::default(),
            ready: Vec::new(),
            more_reads: Vec::new(),
            scratch: Vec::new(),
        })
    }

    fn accept_all(&mut self, tls: bool) {
        loop {
            let listener = if tls {
                self.tls_listener.as_ref()
            } else {
                self.listener.as_ref()
            };
            let Some(listener) = listener else { return };
            match listener.accept() {
                Ok((stream, peer)) => self.register(stream, peer, tls),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => {
                    // EMFILE and friends: leave the rest queued in the kernel backlog.
                    tracing::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn register(&mut self, stream: TcpStream, peer: SocketAddr, tls: bool) {
        if let Some(token) = self.register_conn(stream, Some(peer), tls) {
            self.ready.push(Event::Accepted(token));
        }
    }

    /// Add a connection to the slab and to epoll (which reports it readable at once if bytes
    /// are already waiting, so an adopted socket loses nothing).
    fn register_conn(
        &mut self,
        stream: TcpStream,
        peer: Option<SocketAddr>,
        tls: bool,
    ) -> Option<ConnToken> {
        // Best effort: a socket that refuses NODELAY still works.
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            stream,
            peer,
            tls,
            send: None,
            send_off: 0,
        };
        let (token, _) = self.conns.insert(conn);
        let conn = self.conns.get_mut(token)?;
        let interest = Interest::READABLE | Interest::WRITABLE;
        match self
            .poll
            .registry()
            .register(&mut conn.stream, Token(token), interest)
        {
            Ok(()) => Some(token),
            Err(e) => {
                tracing::warn!("registering a connection failed: {e}");
                self.conns.release(token);
                None
            }
        }
    }

    /// Read until `WouldBlock`, EOF or the budget runs out.
    fn read_some(&mut self, token: ConnToken) {
        for _ in 0..READ_BUDGET {
            let Some(conn) = self.conns.get_mut(token) else {
                return;
            };
            let mut buf = self.pool.get();
            match read_into_spare(conn.stream.as_raw_fd(), &mut buf) {
                Ok(0) => {
                    self.pool.put(buf);
                    self.fail(token);
                    return;
                }
                Ok(_) => self.ready.push(Event::Data(token, buf)),
                Err(e) => {
                    self.pool.put(buf);
                    match e.kind() {
                        io::ErrorKind::WouldBlock => return,
                        io::ErrorKind::Interrupted => {}
                        _ => {
                            self.fail(token);
                            return;
                        }
                    }
                }
            }
        }
        self.more_reads.push(token);
    }

    /// Write the pending send until done (then report `SendDone`) or `WouldBlock`.
    fn flush_send(&mut self, token: ConnToken) {
        loop {
            let Some(conn) = self.conns.get_mut(token) else {
                return;
            };
            let Some(buf) = conn.send.as_mut() else {
                return;
            };
            if conn.send_off >= buf.len() {
                let mut buf = std::mem::take(buf);
                conn.send = None;
                conn.send_off = 0;
                buf.clear();
                self.ready.push(Event::SendDone(token, buf));
                return;
            }
            match conn.stream.write(&buf[conn.send_off..]) {
                Ok(0) => return self.fail(token),
                Ok(n) => conn.send_off += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return self.fail(token),
            }
        }
    }

    /// The connection failed or hit EOF: report it and drop the socket.
    fn fail(&mut self, token: ConnToken) {
        if self.drop_conn(token) {
            self.ready.push(Event::Closed(token));
        }
    }

    fn drop_conn(&mut self, token: ConnToken) -> bool {
        let Some(mut conn) = self.conns.release(token) else {
            return false;
        };
        // Closing the fd would remove it from epoll too; deregistering first is explicit.
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.more_reads.retain(|&t| t != token);
        true
    }

    /// Handle the readiness events; `again` are connections `poll` reads anyway afterwards.
    fn dispatch(&mut self, again: &[ConnToken]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.extend(self.events.iter().map(|e| {
            let readable = e.is_readable() || e.is_read_closed() || e.is_error();
            let writable = e.is_writable() || e.is_write_closed() || e.is_error();
            (e.token(), readable, writable)
        }));
        for (token, readable, writable) in scratch.drain(..) {
            match token {
                LISTENER => self.accept_all(false),
                TLS_LISTENER => self.accept_all(true),
                WAKER => {
                    self.waker.drain();
                    self.ready.push(Event::Wake);
                }
                Token(t) => {
                    if writable {
                        self.flush_send(t);
                    }
                    if readable && !again.contains(&t) {
                        self.read_some(t);
                    }
                }
            }
        }
        self.scratch = scratch;
    }
}

/// `read(2)` into a buffer's spare capacity, extending its length by what was read.
#[allow(unsafe_code)]
fn read_into_spare(fd: RawFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let cap = spare.len();
    // SAFETY: `spare` is `cap` bytes of writable memory owned by `buf`, and read(2) writes
    // at most `cap` bytes into it.
    let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), cap) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = (n as usize).min(cap);
    // SAFETY: the kernel initialised the `n` bytes just past the old length (n <= cap).
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

impl Driver for EpollDriver {
    fn poll(&mut self, timeout: Duration, out: &mut Vec<Event>) -> io::Result<()> {
        self.conns.recycle_released();
        let busy = !out.is_empty() || !self.ready.is_empty() || !self.more_reads.is_empty();
        let wait = if busy {
            Duration::ZERO
        } else {
            timeout.min(MAX_WAIT)
        };
        let again = std::mem::take(&mut self.more_reads);
        match self.poll.poll(&mut self.events, Some(wait)) {
            Ok(()) => self.dispatch(&again),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                self.more_reads = again;
                return Err(e);
            }
        }
        for token in again {
            self.read_some(token);
        }
        out.append(&mut self.ready);
        Ok(())
    }

    fn send(&mut self, conn: ConnToken, buf: Vec<u8>) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        if c.send.is_some() {
            debug_assert!(false, "send on {conn} while a send is in flight");
            tracing::error!(conn, "send while a send is in flight; closing connection");
            return self.fail(conn);
        }
        c.send = Some(buf);
        c.send_off = 0;
        self.flush_send(conn);
    }

    fn close(&mut self, conn: ConnToken) {
        if self.drop_conn(conn) {
            self.ready.retain(|e| e.token() != Some(conn));
        }
    }

    fn detach(&mut self, conn: ConnToken) {
        debug_assert!(
            self.conns.get(conn).is_none_or(|c| c.send.is_none()),
            "detach with a send in flight"
        );
        let Some(mut c) = self.conns.release(conn) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.more_reads.retain(|&t| t != conn);
        // Data already read is in `ready` only if `poll` has not returned it yet; it never
        // has (`poll` hands over all of `ready`), so nothing read is left behind.
        debug_assert!(self.ready.iter().all(|e| e.token() != Some(conn)));
        let handoff = Handoff {
            stream: std::net::TcpStream::from(std::os::fd::OwnedFd::from(c.stream)),
            peer: c.peer,
            unread: Vec::new(),
        };
        self.ready.push(Event::Detached(conn, handoff));
    }

    fn adopt(&mut self, handoff: Handoff) -> Option<ConnToken> {
        if handoff.stream.set_nonblocking(true).is_err() {
            return None;
        }
        let stream = TcpStream::from_std(handoff.stream);
        self.register_conn(stream, handoff.peer, false)
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.pool.put(buf);
    }

    fn peer_addr(&self, conn: ConnToken) -> Option<SocketAddr> {
        self.conns.get(conn)?.peer
    }

    fn is_tls(&self, conn: ConnToken) -> bool {
        self.conns.get(conn).is_some_and(|c| c.tls)
    }

    fn backend(&self) -> IoBackend {
        IoBackend::Epoll
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit;
    use super::*;

    fn make(listener: TcpListener, waker: &Waker) -> io::Result<Box<dyn Driver>> {
        Ok(Box::new(EpollDriver::new(listener, waker)?))
    }

    #[test]
    fn handoff_keeps_the_byte_stream() {
        testkit::handoff_keeps_the_byte_stream(make, make);
    }

    #[test]
    fn echo_many_clients() {
        testkit::echo_many_clients(make);
    }

    #[test]
    fn echo_large_payloads() {
        testkit::echo_large_payloads(make);
    }

    #[test]
    fn peer_close_reports_closed() {
        testkit::peer_close_reports_closed(make);
    }

    #[test]
    fn server_close_ends_connection() {
        testkit::server_close_ends_connection(make);
    }

    #[test]
    fn waker_interrupts_poll() {
        testkit::waker_interrupts_poll(make);
    }

    #[test]
    fn token_reuse_does_not_misdeliver() {
        testkit::token_reuse_does_not_misdeliver(make);
    }

    #[test]
    fn drop_with_live_connections() {
        testkit::drop_with_live_connections(make);
    }

    #[test]
    fn tls_listener_is_reported() {
        testkit::tls_listener_is_reported(|l, w| {
            Ok(Box::new(EpollDriver::with_listeners(l, w)?) as Box<dyn Driver>)
        });
    }
}
