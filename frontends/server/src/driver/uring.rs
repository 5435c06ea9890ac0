//! The io_uring driver: one ring per shard thread, owning the shard's listener, its
//! connections and a read on the waker's eventfd.
//!
//! Operations: a multishot accept per listener (plain and TLS port; single-shot if the kernel
//! rejects multishot), one `Recv`
//! per connection into that connection's own pool buffer, one `Send` per connection
//! (continued on short writes), a `Read` of the eventfd's counter, and the WAL's group
//! commit: a `Write` linked to an `Fsync(DATASYNC)` of the segment file, either waited for in
//! place (`file_write`) or left in flight while the loop goes on (`commit`, under
//! `appendfsync always`).
//!
//! Memory-safety invariants (why the `unsafe` SQE pushes are sound):
//! - An SQE only ever points into (a) a connection's `recv_buf` spare capacity, (b) its `send`
//!   buffer, (c) the boxed `wake_buf`, (d) the WAL buffer borrowed by `file_write`, which
//!   does not return before both of its CQEs are reaped, or (e) the frames and file owned by
//!   the asynchronous commit (`commit`), kept until its CQEs are reaped. The flags
//!   `recv_inflight`, `send.is_some()`, `wake_armed` and `commit.is_some()` are set when such
//!   an SQE is queued and cleared only by its CQE.
//! - While a flag is set, the buffer is neither read, resized, moved out of, nor dropped: a
//!   `Vec`'s heap block does not move when the `Vec` header moves (e.g. slab growth).
//! - A connection is removed from the slab (closing its fd and freeing its buffers) only when
//!   it is `closing` and none of its ops is in flight, so its fd number and slot are never
//!   reused while the kernel may still act on them. `Drop` waits for, or else leaks, whatever
//!   is still in flight.
//! - `user_data` carries op + token + slot generation, so a CQE is matched to the connection
//!   that issued it and never to a later one that reuses the token.
//! - A detached connection (`Driver::detach`) leaves the slab, socket open, only once its
//!   recv (cancelled) and any send have completed: bytes that recv still read travel with
//!   the socket, so another ring can take it over without losing or reordering input.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::{Duration, Instant};

use io_uring::{IoUring, cqueue, opcode, squeue, types};

use super::pool::{BufPool, Slab};
use super::{ConnToken, Driver, Event, Handoff, IoBackend, Listeners, Waker};

mod commit;

/// Submission-queue size (completion queue is twice that).
const RING_ENTRIES: u32 = 4096;
/// Longest single wait; longer timeouts just loop in the caller.
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// Largest single `Send` length (the SQE length field is 32-bit).
const MAX_SEND_CHUNK: usize = 1 << 30;
/// How long `Drop` waits for in-flight ops before leaking their buffers.
const DROP_GRACE: Duration = Duration::from_secs(2);
/// Index of the plain listener in `listeners` (and its accept op's token).
const PLAIN: usize = 0;
/// Index of the TLS listener.
const TLS: usize = 1;

/// What a submission was for; packed into the top bits of `user_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Accept = 1,
    Recv = 2,
    Send = 3,
    Wake = 4,
    Cancel = 5,
    /// A WAL write (token 0) or its fdatasync (token 1); the asynchronous commit's are
    /// `commit::COMMIT_WRITE` and `commit::COMMIT_SYNC`.
    File = 6,
}

const GEN_MASK: u64 = (1 << 28) - 1;

/// `user_data` layout: bits 60..64 op, 32..60 generation (low 28 bits), 0..32 token.
fn encode(op: Op, token: usize, generation: u32) -> u64 {
    debug_assert!(token <= u32::MAX as usize, "token {token} exceeds 32 bits");
    ((op as u64) << 60) | ((u64::from(generation) & GEN_MASK) << 32) | (token as u64 & 0xffff_ffff)
}

fn decode(user_data: u64) -> Option<(Op, usize, u32)> {
    let op = match user_data >> 60 {
        1 => Op::Accept,
        2 => Op::Recv,
        3 => Op::Send,
        4 => Op::Wake,
        5 => Op::Cancel,
        6 => Op::File,
        _ => return None,
    };
    let generation = ((user_data >> 32) & GEN_MASK) as u32;
    Some((op, (user_data & 0xffff_ffff) as usize, generation))
}

/// One accepted connection.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    peer: Option<SocketAddr>,
    /// Accepted on the TLS listener.
    tls: bool,
    /// Empty, with spare capacity lent to the kernel while `recv_inflight`.
    recv_buf: Vec<u8>,
    recv_inflight: bool,
    /// The buffer being sent; `Some` exactly while a `Send` SQE for it is outstanding.
    send: Option<Vec<u8>>,
    send_off: usize,
    /// Shut down; waiting for in-flight ops before the slot is released.
    closing: bool,
    /// Being detached (`Driver::detach`): no more reads; handed off once the last op is in.
    detaching: bool,
}

/// The io_uring [`Driver`].
pub struct UringDriver {
    ring: IoUring,
    /// Indexed by [`PLAIN`] and [`TLS`]; the index is the accept op's token.
    listeners: [Option<TcpListener>; 2],
    /// Keeps the eventfd open while a read on it is in flight.
    waker: Waker,
    wake_buf: Box<[u8; 8]>,
    wake_armed: bool,
    /// Per listener, as `listeners`.
    accept_armed: [bool; 2],
    multishot_accept: bool,
    /// Set by `Drop`: new connections are closed at once instead of registered.
    shutting_down: bool,
    conns: Slab<Conn>,
    pool: BufPool,
    /// SQEs that did not fit in the submission queue, in order.
    backlog: VecDeque<squeue::Entry>,
    /// Events produced outside `poll` (a misused `send`), delivered by the next `poll`.
    ready: Vec<Event>,
    cqes: Vec<(u64, i32, u32)>,
    /// The asynchronous WAL commit in flight.
    commit: Option<commit::CommitOp>,
    /// Its outcome, until the loop takes it.
    commit_result: Option<io::Result<()>>,
}

impl std::fmt::Debug for UringDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringDriver")
            .field("listeners", &self.listeners)
            .field("multishot_accept", &self.multishot_accept)
            .field("backlog", &self.backlog.len())
            .finish_non_exhaustive()
    }
}

fn build_ring() -> io::Result<IoUring> {
    // One thread submits to and reaps each ring, so the kernel may defer completion work
    // until we ask for events (SINGLE_ISSUER + DEFER_TASKRUN, kernel 6.1+): no IPIs or task
    // switches per completion. Older kernels reject the flags: fall back step by step.
    IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(RING_ENTRIES)
        .or_else(|_| {
            IoUring::builder()
                .setup_coop_taskrun()
                .setup_taskrun_flag()
                .build(RING_ENTRIES)
        })
        .or_else(|_| IoUring::new(RING_ENTRIES))
}

impl UringDriver {
    /// Set up a ring around `listener`, watching `waker`. Fails (so the caller can fall back
    /// to epoll) if io_uring is unavailable or lacks timed waits (kernel < 5.11).
    pub fn new(listener: TcpListener, waker: &Waker) -> io::Result<UringDriver> {
        Self::with_accept_mode(listener, waker, true)
    }

    /// As [`UringDriver::new`], with an optional plain and an optional TLS listener.
    pub fn with_listeners(listeners: Listeners, waker: &Waker) -> io::Result<UringDriver> {
        Self::build_driver([listeners.plain, listeners.tls], waker, true)
    }

    /// As [`UringDriver::new`]; `multishot` false forces single-shot accepts (tests use it to
    /// cover the path taken on kernels without multishot accept).
    fn with_accept_mode(
        listener: TcpListener,
        waker: &Waker,
        multishot: bool,
    ) -> io::Result<UringDriver> {
        Self::build_driver([Some(listener), None], waker, multishot)
    }

    fn build_driver(
        listeners: [Option<TcpListener>; 2],
        waker: &Waker,
        multishot: bool,
    ) -> io::Result<UringDriver> {
        let ring = build_ring()?;
        if !ring.params().is_feature_ext_arg() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring lacks IORING_FEAT_EXT_ARG",
            ));
        }
        let mut driver = UringDriver {
            ring,
            listeners,
            waker: waker.clone(),
            wake_buf: Box::new([0; 8]),
            wake_armed: false,
            accept_armed: [false; 2],
            multishot_accept: multishot,
            shutting_down: false,
            conns: Slab::default(),
            pool: BufPool::default(),
            backlog: VecDeque::new(),
            ready: Vec::new(),
            cqes: Vec::new(),
            commit: None,
            commit_result: None,
        };
        driver.arm_accepts();
        driver.arm_wake();
        driver.ring.submit()?;
        Ok(driver)
    }

    /// Queue an SQE, submitting to make room if the queue is full; never drops it.
    fn push(&mut self, sqe: squeue::Entry) {
        if !(self.backlog.is_empty() && self.try_push(&sqe)) {
            self.backlog.push_back(sqe);
        }
    }

    #[allow(unsafe_code)]
    fn try_push(&mut self, sqe: &squeue::Entry) -> bool {
        // SAFETY: every SQE this driver builds points only at buffers that stay alive and
        // unmoved until the SQE's CQE is reaped (see the module invariants), or at nothing.
        if unsafe { self.ring.submission().push(sqe) }.is_ok() {
            return true;
        }
        if self.ring.submit().is_err() {
            return false;
        }
        // SAFETY: as above.
        unsafe { self.ring.submission().push(sqe) }.is_ok()
    }

    fn flush_backlog(&mut self) {
        while let Some(sqe) = self.backlog.pop_front() {
            if !self.try_push(&sqe) {
                self.backlog.push_front(sqe);
                return;
            }
        }
    }

    /// Arm an accept on every listener that has none in flight.
    fn arm_accepts(&mut self) {
        for which in [PLAIN, TLS] {
            if !self.accept_armed[which] {
                self.arm_accept(which);
            }
        }
    }

    fn arm_accept(&mut self, which: usize) {
        let Some(listener) = self.listeners.get(which).and_then(Option::as_ref) else {
            return;
        };
        let fd = types::Fd(listener.as_raw_fd());
        let sqe = if self.multishot_accept {
            opcode::AcceptMulti::new(fd)
                .flags(libc::SOCK_CLOEXEC)
                .build()
        } else {
            opcode::Accept::new(fd, std::ptr::null_mut(), std::ptr::null_mut())
                .flags(libc::SOCK_CLOEXEC)
                .build()
        };
        self.accept_armed[which] = true;
        self.push(sqe.user_data(encode(Op::Accept, which, 0)));
    }

    fn arm_wake(&mut self) {
        debug_assert!(!self.wake_armed);
        let fd = types::Fd(self.waker.raw_fd());
        let sqe = opcode::Read::new(fd, self.wake_buf.as_mut_ptr(), 8)
            .build()
            .user_data(encode(Op::Wake, 0, 0));
        self.wake_armed = true;
        self.push(sqe);
    }

    fn arm_recv(&mut self, token: ConnToken) {
        let generation = self.conns.generation(token);
        let Some(conn) = self.conns.get_mut(token) else {
            return;
        };
        debug_assert!(!conn.recv_inflight && conn.recv_buf.is_empty());
        let len = conn.recv_buf.capacity().min(u32::MAX as usize) as u32;
        let sqe = opcode::Recv::new(
            types::Fd(conn.stream.as_raw_fd()),
            conn.recv_buf.as_mut_ptr(),
            len,
        )
        .build()
        .user_data(encode(Op::Recv, token, generation));
        conn.recv_inflight = true;
        self.push(sqe);
    }

    fn arm_send(&mut self, token: ConnToken) {
        let generation = self.conns.generation(token);
        let Some(conn) = self.conns.get_mut(token) else {
            return;
        };
        let Some(buf) = conn.send.as_ref() else {
            return;
        };
        let rest = &buf[conn.send_off.min(buf.len())..];
        let len = rest.len().min(MAX_SEND_CHUNK) as u32;
        let sqe = opcode::Send::new(types::Fd(conn.stream.as_raw_fd()), rest.as_ptr(), len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(encode(Op::Send, token, generation));
        self.push(sqe);
    }

    fn cancel(&mut self, target: u64) {
        let sqe = opcode::AsyncCancel::new(target)
            .build()
            .user_data(encode(Op::Cancel, 0, 0));
        self.push(sqe);
    }

    /// Shut the socket down and cancel its ops; the slot is released once they complete.
    fn begin_close(&mut self, token: ConnToken) {
        let generation = self.conns.generation(token);
        let Some(conn) = self.conns.get_mut(token) else {
            return;
        };
        if conn.closing {
            return;
        }
        conn.closing = true;
        // Shutdown makes a pending recv/send complete; the fd stays open (so its number is
        // not reused) until every op on it has completed.
        let _ = conn.stream.shutdown(Shutdown::Both);
        let (recv, send) = (conn.recv_inflight, conn.send.is_some());
        if recv {
            self.cancel(encode(Op::Recv, token, generation));
        }
        if send {
            self.cancel(encode(Op::Send, token, generation));
        }
        self.maybe_release(token);
    }

    fn maybe_release(&mut self, token: ConnToken) {
        let idle = matches!(self.conns.get(token),
            Some(c) if c.closing && !c.recv_inflight && c.send.is_none());
        if idle && let Some(conn) = self.conns.release(token) {
            self.pool.put(conn.recv_buf);
        }
    }

    fn fail(&mut self, token: ConnToken, out: &mut Vec<Event>) {
        out.push(Event::Closed(token));
        self.begin_close(token);
    }

    fn register(&mut self, stream: TcpStream, tls: bool, out: &mut Vec<Event>) {
        // Best effort: a socket that refuses NODELAY still works.
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            peer: stream.peer_addr().ok(),
            tls,
            stream,
            recv_buf: self.pool.get(),
            recv_inflight: false,
            send: None,
            send_off: 0,
            closing: false,
            detaching: false,
        };
        let (token, _) = self.conns.insert(conn);
        self.arm_recv(token);
        out.push(Event::Accepted(token));
    }

    /// A detaching connection with nothing in flight leaves the slab with its socket open.
    fn maybe_hand_off(&mut self, token: ConnToken, out: &mut Vec<Event>) {
        let idle = matches!(self.conns.get(token),
            Some(c) if c.detaching && !c.closing && !c.recv_inflight && c.send.is_none());
        if !idle {
            return;
        }
        let Some(conn) = self.conns.release(token) else {
            return;
        };
        let unread = if conn.recv_buf.is_empty() {
            self.pool.put(conn.recv_buf);
            Vec::new()
        } else {
            conn.recv_buf
        };
        out.push(Event::Detached(
            token,
            Handoff {
                stream: conn.stream,
                peer: conn.peer,
                unread,
            },
        ));
    }

    fn reap(&mut self, out: &mut Vec<Event>) {
        let mut cqes = std::mem::take(&mut self.cqes);
        cqes.extend(
            self.ring
                .completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        for (user_data, res, flags) in cqes.drain(..) {
            self.complete(user_data, res, flags, out);
        }
        self.cqes = cqes;
    }

    fn complete(&mut self, user_data: u64, res: i32, flags: u32, out: &mut Vec<Event>) {
        match decode(user_data) {
            Some((Op::Accept, which, _)) => self.on_accept(which, res, flags, out),
            Some((Op::Wake, _, _)) => self.on_wake(res, out),
            Some((Op::Recv, token, generation)) => self.on_recv(token, generation, res, out),
            Some((Op::Send, token, generation)) => self.on_send(token, generation, res, out),
            Some((Op::File, token @ (commit::COMMIT_WRITE | commit::COMMIT_SYNC), _)) => {
                if self.on_commit_cqe(token == commit::COMMIT_WRITE, res) {
                    out.push(Event::Wake);
                }
            }
            Some((Op::Cancel | Op::File, _, _)) | None => {}
        }
    }

    fn on_accept(&mut self, which: usize, res: i32, flags: u32, out: &mut Vec<Event>) {
        if !cqueue::more(flags)
            && let Some(armed) = self.accept_armed.get_mut(which)
        {
            *armed = false;
        }
        if res >= 0 {
            // SAFETY: a successful accept CQE carries a new descriptor that nothing else owns.
            #[allow(unsafe_code)]
            let stream = unsafe { TcpStream::from_raw_fd(res) };
            if !self.shutting_down {
                self.register(stream, which == TLS, out);
            }
            return;
        }
        match -res {
            libc::EINVAL if self.multishot_accept => {
                tracing::info!("multishot accept unsupported; using single-shot accept");
                self.multishot_accept = false;
            }
            libc::EAGAIN | libc::EINTR | libc::ECONNABORTED | libc::ECANCELED => {}
            errno => tracing::warn!("accept failed: {}", io::Error::from_raw_os_error(errno)),
        }
    }

    fn on_wake(&mut self, res: i32, out: &mut Vec<Event>) {
        self.wake_armed = false;
        if res >= 0 {
            out.push(Event::Wake);
        } else if -res != libc::EINTR && -res != libc::ECANCELED {
            tracing::warn!("waker read failed: {}", io::Error::from_raw_os_error(-res));
        }
    }

    fn on_recv(&mut self, token: ConnToken, generation: u32, res: i32, out: &mut Vec<Event>) {
        let Some(conn) = conn_for(&mut self.conns, token, generation) else {
            return;
        };
        conn.recv_inflight = false;
        if conn.closing {
            self.maybe_release(token);
            return;
        }
        if conn.detaching {
            match res {
                // Bytes that raced the cancel travel with the socket.
                n if n > 0 => commit_recv(&mut conn.recv_buf, n as usize),
                n if -n == libc::ECANCELED || -n == libc::EINTR || -n == libc::EAGAIN => {}
                _ => return self.fail(token, out),
            }
            return self.maybe_hand_off(token, out);
        }
        if res > 0 {
            commit_recv(&mut conn.recv_buf, res as usize);
            let data = std::mem::replace(&mut conn.recv_buf, self.pool.get());
            out.push(Event::Data(token, data));
            self.arm_recv(token);
            return;
        }
        match -res {
            libc::EINTR | libc::EAGAIN | libc::ENOBUFS => self.arm_recv(token),
            // 0 is EOF; anything else (ECONNRESET, ...) ends the connection too.
            _ => self.fail(token, out),
        }
    }

    fn on_send(&mut self, token: ConnToken, generation: u32, res: i32, out: &mut Vec<Event>) {
        let Some(conn) = conn_for(&mut self.conns, token, generation) else {
            return;
        };
        if conn.closing {
            conn.send = None;
            self.maybe_release(token);
            return;
        }
        if res < 0 {
            match -res {
                libc::EINTR | libc::EAGAIN | libc::ENOBUFS => self.arm_send(token),
                _ => {
                    conn.send = None;
                    self.fail(token, out);
                }
            }
            return;
        }
        let total = conn.send.as_ref().map_or(0, Vec::len);
        conn.send_off += res as usize;
        if conn.send_off >= total {
            let mut buf = conn.send.take().unwrap_or_default();
            buf.clear();
            conn.send_off = 0;
            out.push(Event::SendDone(token, buf));
        } else if res == 0 {
            conn.send = None;
            self.fail(token, out);
        } else {
            self.arm_send(token);
        }
    }

    /// Anything still referencing driver-owned memory from the kernel's side.
    fn in_flight(&mut self) -> bool {
        self.wake_armed
            || self.commit.is_some()
            || self
                .conns
                .iter_mut()
                .any(|(_, c)| c.recv_inflight || c.send.is_some())
    }

    /// Writes `buf` at `offset` of `file` (and fdatasyncs it when `sync`, as a linked SQE)
    /// through the ring and waits for the completions; completions of other ops reaped
    /// meanwhile are kept for the next `poll`.
    fn file_write(&mut self, file: &File, buf: &[u8], offset: u64, sync: bool) -> io::Result<()> {
        let fd = types::Fd(file.as_raw_fd());
        let mut done = 0usize;
        loop {
            let rest = buf.get(done..).unwrap_or_default();
            let chunk = rest.len().min(MAX_SEND_CHUNK) as u32;
            self.flush_backlog();
            let mut expected = 0;
            if chunk > 0 {
                let mut w = opcode::Write::new(fd, rest.as_ptr(), chunk)
                    .offset(offset + done as u64)
                    .build()
                    .user_data(encode(Op::File, 0, 0));
                if sync {
                    w = w.flags(squeue::Flags::IO_LINK);
                }
                self.push_now(&w)?;
                expected += 1;
            }
            if sync {
                let f = opcode::Fsync::new(fd)
                    .flags(types::FsyncFlags::DATASYNC)
                    .build()
                    .user_data(encode(Op::File, 1, 0));
                self.push_now(&f)?;
                expected += 1;
            }
            let (mut wrote, mut synced) = (None, None);
            // Until both CQEs are in, the kernel may still read `buf`: keep waiting, whatever
            // io_uring_enter answers.
            while expected > 0 {
                for (ud, res, flags) in self.wait_some("during a WAL write") {
                    match decode(ud) {
                        Some((Op::File, 0, _)) => {
                            wrote = Some(res);
                            expected -= 1;
                        }
                        Some((Op::File, 1, _)) => {
                            synced = Some(res);
                            expected -= 1;
                        }
                        _ => self.cqes.push((ud, res, flags)),
                    }
                }
            }
            if let Some(r) = wrote {
                if r < 0 {
                    return Err(io::Error::from_raw_os_error(-r));
                }
                if r == 0 && chunk > 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "WAL write wrote nothing",
                    ));
                }
                done += r as usize;
            }
            if done < buf.len() {
                // A short write cancels the linked fsync: write the rest (and sync) again.
                continue;
            }
            return match synced {
                Some(r) if r < 0 => Err(io::Error::from_raw_os_error(-r)),
                _ => Ok(()),
            };
        }
    }

    /// Puts an SQE in the ring now (not the backlog): the caller waits for its CQE.
    fn push_now(&mut self, sqe: &squeue::Entry) -> io::Result<()> {
        if self.try_push(sqe) {
            Ok(())
        } else {
            Err(io::Error::other("io_uring submission queue full"))
        }
    }

    /// Submit and wait for at least one completion or `timeout`.
    fn submit_and_wait(&mut self, timeout: Duration) -> io::Result<()> {
        let ts = types::Timespec::from(timeout.min(MAX_WAIT));
        let args = types::SubmitArgs::new().timespec(&ts);
        match self.ring.submitter().submit_with_args(1, &args) {
            Err(e) if !benign(&e) => Err(e),
            _ => Ok(()),
        }
    }
}

/// `io_uring_enter` outcomes that just mean "go and reap": the wait timed out (ETIME), a
/// signal arrived (EINTR), or the completion queue is backed up (EBUSY).
fn benign(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ETIME | libc::EINTR | libc::EBUSY)
    )
}

impl UringDriver {
    /// Submits and waits for at least one completion (a failing `io_uring_enter` is logged as
    /// happening `during`, then retried by the caller's loop after a short pause), and returns
    /// every completion reaped, for a caller waiting on its own ops in place.
    fn wait_some(&mut self, during: &str) -> Vec<(u64, i32, u32)> {
        if let Err(e) = self.ring.submitter().submit_and_wait(1)
            && !benign(&e)
        {
            tracing::warn!("io_uring_enter {during}: {e}");
            std::thread::sleep(Duration::from_millis(1));
        }
        self.ring
            .completion()
            .map(|c| (c.user_data(), c.result(), c.flags()))
            .collect()
    }
}

/// The connection that issued an op, if the slot still holds that connection.
fn conn_for(conns: &mut Slab<Conn>, token: ConnToken, generation: u32) -> Option<&mut Conn> {
    let current = (u64::from(conns.generation(token)) & GEN_MASK) as u32;
    if current != generation {
        tracing::debug!(token, generation, current, "stale completion ignored");
        return None;
    }
    conns.get_mut(token)
}

/// Mark the first `n` bytes of a buffer whose spare capacity a `Recv` just filled.
#[allow(unsafe_code)]
fn commit_recv(buf: &mut Vec<u8>, n: usize) {
    debug_assert!(buf.is_empty() && n <= buf.capacity());
    let n = n.min(buf.capacity());
    // SAFETY: the buffer was empty when its spare capacity (of `capacity` bytes) was lent to
    // the kernel, and the CQE reports that the kernel wrote its first `n` bytes.
    unsafe { buf.set_len(n) };
}

impl Driver for UringDriver {
    fn poll(&mut self, timeout: Duration, out: &mut Vec<Event>) -> io::Result<()> {
        self.conns.recycle_released();
        out.append(&mut self.ready);
        self.arm_accepts();
        if !self.wake_armed {
            self.arm_wake();
        }
        self.queue_commit();
        self.flush_backlog();
        let busy = !out.is_empty()
            || self.commit_result.is_some()
            || !self.backlog.is_empty()
            || !self.cqes.is_empty()
            || !self.ring.completion().is_empty();
        if busy || timeout.is_zero() {
            // A zero-timeout wait rather than a bare submit: it also asks for events, which
            // runs the deferred completion work (DEFER_TASKRUN) without blocking.
            self.submit_and_wait(Duration::ZERO)?;
        } else {
            self.submit_and_wait(timeout)?;
        }
        self.reap(out);
        Ok(())
    }

    fn send(&mut self, conn: ConnToken, buf: Vec<u8>) {
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        if c.closing {
            return;
        }
        if c.send.is_some() {
            // A caller bug; the in-flight buffer cannot be touched, so end the connection
            // rather than reorder or drop bytes.
            debug_assert!(false, "send on {conn} while a send is in flight");
            tracing::error!(conn, "send while a send is in flight; closing connection");
            self.ready.push(Event::Closed(conn));
            self.begin_close(conn);
            return;
        }
        c.send = Some(buf);
        c.send_off = 0;
        self.arm_send(conn);
    }

    fn close(&mut self, conn: ConnToken) {
        // A hand-off not yet reported is dropped with its event, which closes its socket.
        self.ready
            .retain(|e| !matches!(e, Event::Closed(t) | Event::Detached(t, _) if *t == conn));
        self.begin_close(conn);
    }

    fn detach(&mut self, conn: ConnToken) {
        let generation = self.conns.generation(conn);
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        if c.closing || c.detaching {
            return;
        }
        debug_assert!(c.send.is_none(), "detach with a send in flight");
        c.detaching = true;
        if c.recv_inflight {
            self.cancel(encode(Op::Recv, conn, generation));
        }
        let mut ready = std::mem::take(&mut self.ready);
        self.maybe_hand_off(conn, &mut ready);
        self.ready = ready;
    }

    fn adopt(&mut self, handoff: Handoff) -> Option<ConnToken> {
        if self.shutting_down {
            return None;
        }
        let mut accepted = Vec::with_capacity(1);
        self.register(handoff.stream, false, &mut accepted);
        let Some(Event::Accepted(token)) = accepted.pop() else {
            return None;
        };
        if let Some(conn) = self.conns.get_mut(token) {
            conn.peer = handoff.peer.or(conn.peer);
        }
        Some(token)
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.pool.put(buf);
    }

    fn peer_addr(&self, conn: ConnToken) -> Option<SocketAddr> {
        self.conns.get(conn).filter(|c| !c.closing)?.peer
    }

    fn write_file(&mut self, file: &File, buf: &[u8], offset: u64, sync: bool) -> io::Result<()> {
        self.file_write(file, buf, offset, sync)
    }

    fn start_commit(
        &mut self,
        commit: moon_engine::persist::AsyncCommit,
    ) -> Result<(), moon_engine::persist::AsyncCommit> {
        self.begin_commit(commit)
    }

    fn commit_done(&mut self) -> Option<io::Result<()>> {
        self.take_commit()
    }

    fn commit_wait(&mut self) -> Option<io::Result<()>> {
        self.wait_commit()
    }

    fn is_tls(&self, conn: ConnToken) -> bool {
        self.conns.get(conn).is_some_and(|c| c.tls && !c.closing)
    }

    fn backend(&self) -> IoBackend {
        IoBackend::Uring
    }
}

impl Drop for UringDriver {
    fn drop(&mut self) {
        // The kernel tears a ring down asynchronously, so buffers still lent to it must
        // outlive this call: complete everything, or leak what will not complete.
        self.shutting_down = true;
        for which in [PLAIN, TLS] {
            if self.accept_armed[which] {
                self.cancel(encode(Op::Accept, which, 0));
            }
        }
        let tokens: Vec<usize> = self.conns.iter_mut().map(|(t, _)| t).collect();
        for token in tokens {
            self.begin_close(token);
        }
        self.waker.wake();
        let deadline = Instant::now() + DROP_GRACE;
        let mut sink = Vec::new();
        while self.in_flight() && Instant::now() < deadline {
            self.flush_backlog();
            if self.submit_and_wait(Duration::from_millis(50)).is_err() {
                break;
            }
            self.reap(&mut sink);
            for ev in sink.drain(..) {
                if let Event::Data(_, buf) = ev {
                    self.pool.put(buf);
                }
            }
        }
        if self.in_flight() {
            tracing::warn!("io_uring ops still in flight at shutdown; leaking their buffers");
            std::mem::forget(std::mem::take(&mut self.conns));
            std::mem::forget(self.commit.take());
            Box::leak(std::mem::replace(&mut self.wake_buf, Box::new([0; 8])));
        }
    }
}

#[cfg(test)]
mod tests;
