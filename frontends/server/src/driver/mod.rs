//! The I/O driver seam: one per shard thread, owning that shard's listener, its connections'
//! sockets and its wake-up eventfd. Two implementations: io_uring (`uring`) and epoll (`epoll`,
//! through mio), chosen at start-up. The shard loop sees only [`Driver`] and [`Event`].
//!
//! Invariants:
//! - At most one send is in flight per connection; the driver owns the buffer until it reports
//!   [`Event::SendDone`] (which hands the buffer back, cleared, for reuse).
//! - Data is delivered in order per connection; after [`Event::Closed`] the token is dead and
//!   may be reused by an accept in a later `poll` (never within the same batch of events).
//! - `wake` (from any thread) makes a blocked `poll` return with [`Event::Wake`].

pub mod epoll;
mod pool;
#[cfg(test)]
mod testkit;
pub mod uring;

use std::io;
use std::net::TcpListener;
use std::time::Duration;

/// A connection handle, unique within one driver while the connection is open.
pub type ConnToken = usize;

/// What a driver reports from `poll`.
#[derive(Debug)]
pub enum Event {
    /// A new connection was accepted and registered; reads are already armed.
    Accepted(ConnToken),
    /// Bytes read from a connection. The buffer is the driver's; give it back with
    /// [`Driver::recycle`] once its contents have been copied or consumed.
    Data(ConnToken, Vec<u8>),
    /// The previous `send` on this connection is complete (all bytes written); the buffer is
    /// handed back cleared.
    SendDone(ConnToken, Vec<u8>),
    /// The peer closed, or a read/write failed; the connection is gone.
    Closed(ConnToken),
    /// Another thread called the waker.
    Wake,
    /// A connection given up by [`Driver::detach`]: the token is dead, the socket is the
    /// caller's (for another shard's driver to [`Driver::adopt`]).
    Detached(ConnToken, Handoff),
}

impl Event {
    /// The connection an event is about (none for [`Event::Wake`]).
    pub fn token(&self) -> Option<ConnToken> {
        match self {
            Event::Accepted(t)
            | Event::Data(t, _)
            | Event::SendDone(t, _)
            | Event::Closed(t)
            | Event::Detached(t, _) => Some(*t),
            Event::Wake => None,
        }
    }
}

/// A live connection's socket on its way from one driver to another (connection migration).
#[derive(Debug)]
pub struct Handoff {
    /// The socket, still open and connected.
    pub stream: std::net::TcpStream,
    /// The peer address, as the first driver knew it.
    pub peer: Option<std::net::SocketAddr>,
    /// Bytes read after the last [`Event::Data`] (a read that raced the detach): they come
    /// before anything the next driver reads.
    pub unread: Vec<u8>,
}

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoBackend {
    /// io_uring via the `io-uring` crate.
    Uring,
    /// epoll via mio.
    Epoll,
}

/// A cross-thread handle that wakes a shard's driver (an eventfd write).
///
/// It also carries the shard's `parked` flag, set while its loop may block in `poll`, so that
/// mailbox senders write the eventfd only when the owner could be asleep
/// ([`Waker::wake_if_parked`]): a write to an awake shard is a wasted syscall (and, through
/// io_uring, a completion to reap). The handshake is Dekker's: the owner stores `parked` then
/// re-checks its rings; a sender pushes to the ring then loads `parked`; a SeqCst fence on each
/// side guarantees that at least one of them sees the other's write.
#[derive(Debug, Clone)]
pub struct Waker {
    file: std::sync::Arc<std::fs::File>,
    parked: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Waker {
    /// Create a non-blocking eventfd waker.
    pub fn new() -> io::Result<Waker> {
        let fd = nix_eventfd()?;
        Ok(Waker {
            file: std::sync::Arc::new(std::fs::File::from(fd)),
            parked: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }

    /// The owner is about to block in `poll`: senders must wake it from now on. The caller
    /// re-checks its inboxes after this and does not block if they hold anything.
    pub fn park(&self) {
        use std::sync::atomic::{Ordering, fence};
        self.parked.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    /// The owner is awake again (it drains its inboxes before it could block next).
    pub fn unpark(&self) {
        self.parked
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Wake the owner if it may be blocked; call after pushing to its ring. A mailbox-only
    /// signal: anything the owner does not re-check after [`Waker::park`] uses [`Waker::wake`].
    pub fn wake_if_parked(&self) {
        use std::sync::atomic::{Ordering, fence};
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::Relaxed) {
            self.wake();
        }
    }

    /// Raw fd, for the driver to watch.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.file.as_raw_fd()
    }

    /// Wake the owner: add 1 to the eventfd counter. Never blocks (EAGAIN means the counter is
    /// saturated, so the owner is awake anyway).
    pub fn wake(&self) {
        use std::io::Write;
        let _ = (&*self.file).write(&1u64.to_ne_bytes());
    }

    /// Drain the counter (epoll path; the uring path reads it with an SQE).
    pub fn drain(&self) {
        use std::io::Read;
        let mut buf = [0u8; 8];
        let _ = (&*self.file).read(&mut buf);
    }
}

fn nix_eventfd() -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: eventfd has no memory-safety preconditions; we check the result before wrapping
    // the returned descriptor, which we then own exclusively.
    #[allow(unsafe_code)]
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh, valid descriptor that nothing else owns.
    #[allow(unsafe_code)]
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// The operations a shard loop needs from its I/O backend.
pub trait Driver: Send {
    /// Wait until at least one event is ready or `timeout` passes, appending events to `out`.
    /// Also submits queued sends. Returns early without waiting if events are already ready.
    fn poll(&mut self, timeout: Duration, out: &mut Vec<Event>) -> io::Result<()>;

    /// Queue `buf` to be written in full to `conn`. The caller must not call `send` again for
    /// this connection before the matching [`Event::SendDone`].
    fn send(&mut self, conn: ConnToken, buf: Vec<u8>);

    /// Close a connection; no further events are reported for it except possibly a final
    /// [`Event::Closed`] (which the caller must tolerate). Events already returned by the last
    /// `poll` may still name it: a caller that closes mid-batch skips the rest of that
    /// batch's events for the token (they are never for a new connection, since a token is
    /// not reused before the next `poll`). Closing an unknown or closed token is a no-op.
    fn close(&mut self, conn: ConnToken);

    /// Give up a plain (non-TLS) connection without closing it: stop reading, and report
    /// [`Event::Detached`] with its socket once nothing is in flight on it (or
    /// [`Event::Closed`] if the peer closed meanwhile). The caller must not `send` on it
    /// after this, and must call it only with no send in flight; no [`Event::Data`] is
    /// reported for it after the call.
    fn detach(&mut self, conn: ConnToken);

    /// Take over a connection detached by another driver; reads are armed at once. No
    /// [`Event::Accepted`] is reported. None if the socket could not be registered (it is
    /// closed then).
    fn adopt(&mut self, handoff: Handoff) -> Option<ConnToken>;

    /// Return a buffer from [`Event::Data`] for reuse.
    fn recycle(&mut self, buf: Vec<u8>);

    /// The peer address of a connection, for CLIENT LIST.
    fn peer_addr(&self, conn: ConnToken) -> Option<std::net::SocketAddr>;

    /// Whether the connection was accepted on the TLS listener (its bytes are TLS records;
    /// the worker, not the driver, terminates TLS).
    fn is_tls(&self, _conn: ConnToken) -> bool {
        false
    }

    /// Which backend this is.
    fn backend(&self) -> IoBackend;

    /// Writes all of `buf` at `offset` of `file` and, if `sync`, fdatasyncs it, returning
    /// when both are complete (the WAL's group commit). io_uring submits them as linked SQEs
    /// on the shard's ring; the default is plain `pwrite` + `fdatasync`.
    fn write_file(
        &mut self,
        file: &std::fs::File,
        buf: &[u8],
        offset: u64,
        sync: bool,
    ) -> io::Result<()> {
        use moon_engine::persist::WalIo;
        moon_engine::persist::StdIo.write_at(file, buf, offset, sync)
    }

    /// Starts the WAL's group commit (`commit.frames` written at `commit.offset`, then an
    /// fdatasync) without waiting for it; [`Driver::commit_done`] reports its outcome. At most
    /// one is in flight. Gives the commit back if this backend cannot leave it in flight (the
    /// caller then commits synchronously); io_uring submits a `Write` linked to an `Fsync`.
    fn start_commit(
        &mut self,
        commit: moon_engine::persist::AsyncCommit,
    ) -> Result<(), moon_engine::persist::AsyncCommit> {
        Err(commit)
    }

    /// The outcome of the commit [`Driver::start_commit`] started, once it is complete (taken:
    /// reported once). Completions are reaped by `poll`, which also returns at once (with an
    /// [`Event::Wake`]) when the commit completes.
    fn commit_done(&mut self) -> Option<io::Result<()>> {
        None
    }

    /// Waits for the commit in flight, if any, and returns its outcome (as `commit_done`);
    /// completions of other ops reaped meanwhile are kept for the next `poll`.
    fn commit_wait(&mut self) -> Option<io::Result<()>> {
        None
    }
}

/// The driver as the engine's WAL I/O.
pub struct DriverIo<'a>(pub &'a mut dyn Driver);

impl moon_engine::persist::WalIo for DriverIo<'_> {
    fn write_at(
        &mut self,
        file: &std::fs::File,
        buf: &[u8],
        offset: u64,
        sync: bool,
    ) -> io::Result<()> {
        self.0.write_file(file, buf, offset, sync)
    }
}

/// A shard's listeners (already bound, non-blocking, SO_REUSEPORT): the plain port (absent
/// with `port 0`) and the TLS port (absent unless `tls-port` is set).
#[derive(Debug, Default)]
pub struct Listeners {
    /// Plain TCP.
    pub plain: Option<TcpListener>,
    /// TLS: connections accepted here report [`Driver::is_tls`].
    pub tls: Option<TcpListener>,
}

impl Listeners {
    fn try_clone(&self) -> io::Result<Listeners> {
        Ok(Listeners {
            plain: self
                .plain
                .as_ref()
                .map(TcpListener::try_clone)
                .transpose()?,
            tls: self.tls.as_ref().map(TcpListener::try_clone).transpose()?,
        })
    }
}

/// Build a driver for one shard around its listeners and its waker. `Uring` falls back to
/// epoll if io_uring setup fails.
pub fn build(want: IoBackend, listeners: Listeners, waker: &Waker) -> io::Result<Box<dyn Driver>> {
    if want == IoBackend::Uring {
        match uring::UringDriver::with_listeners(listeners.try_clone()?, waker) {
            Ok(d) => return Ok(Box::new(d)),
            Err(e) => tracing::warn!("io_uring unavailable ({e}); falling back to epoll"),
        }
    }
    Ok(Box::new(epoll::EpollDriver::with_listeners(
        listeners, waker,
    )?))
}

#[cfg(test)]
mod waker_tests {
    use super::Waker;

    /// Reads and resets the eventfd counter: how many wakes were written since the last read.
    fn take(w: &Waker) -> u64 {
        use std::io::Read;
        let mut buf = [0u8; 8];
        match (&*w.file).read(&mut buf) {
            Ok(8) => u64::from_ne_bytes(buf),
            _ => 0,
        }
    }

    #[test]
    fn wake_if_parked_writes_only_while_parked() {
        let w = Waker::new().expect("eventfd");
        w.wake_if_parked();
        assert_eq!(take(&w), 0, "an awake owner is not signalled");
        w.park();
        w.wake_if_parked();
        assert_eq!(take(&w), 1, "a parked owner is signalled");
        w.unpark();
        w.wake_if_parked();
        assert_eq!(take(&w), 0);
        w.wake();
        assert_eq!(take(&w), 1, "wake always signals");
    }
}
