//! Long-running scripts: the BUSY state, SCRIPT KILL / FUNCTION KILL, and serving clients while
//! a script runs.
//!
//! A shard thread running a script serves nothing else. Once a script has run longer than
//! `busy-reply-threshold` (`lua-time-limit`), it is *busy*: every other client gets Redis's
//! BUSY error, except commands flagged `allow-busy` (SCRIPT KILL, FUNCTION KILL, FUNCTION
//! STATS, SHUTDOWN NOSAVE, AUTH, HELLO ...):
//! - clients of other, free shards see the [`BusyBoard`] in their normal command path;
//! - clients of the script's own shard, and of shards frozen for the script, are served by
//!   [`serve_busy`], which the script's instruction hook (or the frozen shard's wait loop) calls:
//!   it polls the shard's driver, answers BUSY or executes the kill, and holds every other event
//!   (accepts, closes, data of clients it cannot serve now) for the loop to handle afterwards.
//!
//! Invariants: at most one script per shard is running; `busy_count` is the number of slots
//! with `busy` set; a kill is only accepted for a busy script that has not written (else
//! UNKILLABLE), as in Redis.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashMap;
use moon_engine::ir::{OpError, Reply};

use crate::conn::Conn;
use crate::driver::{ConnToken, Driver, Event, IoBackend};
use crate::shared::Shared;

/// One shard's running script, as other shards see it.
#[derive(Default)]
pub(crate) struct Slot {
    /// A script runs on this shard.
    pub running: AtomicBool,
    /// It ran past the busy threshold.
    pub busy: AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop.
    pub kill: AtomicBool,
    /// It executed a write command.
    pub wrote: AtomicBool,
    /// It is a function (FCALL), not an EVAL script.
    pub function: AtomicBool,
    /// For FUNCTION STATS: name (function name or SHA), command and start.
    pub info: Mutex<Option<(Bytes, Vec<Bytes>, Instant)>>,
}

/// Every shard's running-script state.
pub(crate) struct BusyBoard {
    busy_count: AtomicUsize,
    slots: Vec<Slot>,
}

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

fn err(text: &str) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

impl BusyBoard {
    /// A board for `shards` shards.
    pub(crate) fn new(shards: usize) -> BusyBoard {
        BusyBoard {
            busy_count: AtomicUsize::new(0),
            slots: (0..shards).map(|_| Slot::default()).collect(),
        }
    }

    /// True while some script is busy (one relaxed load: on every command's path).
    pub(crate) fn active(&self) -> bool {
        self.busy_count.load(Ordering::Relaxed) > 0
    }

    /// The slot of shard `id`.
    pub(crate) fn slot(&self, id: usize) -> &Slot {
        &self.slots[id.min(self.slots.len() - 1)]
    }

    /// A script starts on shard `id`.
    pub(crate) fn begin(&self, id: usize, function: bool) {
        let s = self.slot(id);
        s.kill.store(false, Ordering::Relaxed);
        s.wrote.store(false, Ordering::Relaxed);
        s.function.store(function, Ordering::Relaxed);
        s.running.store(true, Ordering::Release);
    }

    /// The script of shard `id` passed the threshold.
    pub(crate) fn mark_busy(&self, id: usize, name: Bytes, command: Vec<Bytes>, started: Instant) {
        let s = self.slot(id);
        if !s.busy.swap(true, Ordering::AcqRel) {
            if let Ok(mut info) = s.info.lock() {
                *info = Some((name, command, started));
            }
            self.busy_count.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The script of shard `id` ended.
    pub(crate) fn end(&self, id: usize) {
        let s = self.slot(id);
        s.running.store(false, Ordering::Release);
        if s.busy.swap(false, Ordering::AcqRel) {
            if let Ok(mut info) = s.info.lock() {
                *info = None;
            }
            self.busy_count.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The BUSY error for the busy script (its kind decides which KILL it names).
    pub(crate) fn busy_error(&self) -> Reply {
        let function = self
            .slots
            .iter()
            .any(|s| s.busy.load(Ordering::Acquire) && s.function.load(Ordering::Relaxed));
        err(if function { BUSY_FUNCTION } else { BUSY_EVAL })
    }

    /// SCRIPT KILL (`function` false) or FUNCTION KILL.
    pub(crate) fn kill(&self, function: bool) -> Reply {
        let Some(s) = self.slots.iter().find(|s| s.busy.load(Ordering::Acquire)) else {
            return err("NOTBUSY No scripts in execution right now.");
        };
        if s.wrote.load(Ordering::Acquire) {
            return err(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            );
        }
        let running_function = s.function.load(Ordering::Relaxed);
        if running_function && !function {
            return err(BUSY_FUNCTION);
        }
        if !running_function && function {
            return err(BUSY_EVAL);
        }
        s.kill.store(true, Ordering::Release);
        Reply::Ok
    }

    /// FUNCTION STATS's `running_script`: name, command and duration of a busy script.
    pub(crate) fn running(&self) -> Option<(Bytes, Vec<Bytes>, u64)> {
        self.slots.iter().find_map(|s| {
            if !s.busy.load(Ordering::Acquire) {
                return None;
            }
            let info = s.info.lock().ok()?;
            let (name, cmd, started) = info.as_ref()?;
            Some((
                name.clone(),
                cmd.clone(),
                started.elapsed().as_millis() as u64,
            ))
        })
    }
}

/// A shard's I/O, moved out of its worker while the worker runs a script, so the hook can
/// serve clients without touching the keyspace the script holds.
pub(crate) struct BusyIo {
    /// The shard's driver.
    pub driver: Box<dyn Driver>,
    /// Its connections (the one running the script is not among them).
    pub conns: HashMap<ConnToken, Box<Conn>>,
    /// Events to hand back to the loop.
    pub held: Vec<Event>,
    /// Events the loop had polled but not handled when the script started: handled first.
    pub backlog: std::collections::VecDeque<Event>,
    /// Process-wide state.
    pub shared: std::sync::Arc<Shared>,
    /// Connections accepted meanwhile: `(client id, token)`, for the worker's id map.
    pub accepted: Vec<(u64, ConnToken)>,
    limits: moon_resp::limits::Limits,
    events: Vec<Event>,
    /// Connections with output to send (the worker's dirty list comes along: replies it made
    /// just before the script started must not wait for the script's end).
    pub dirty: Vec<ConnToken>,
}

impl BusyIo {
    /// Wraps a worker's I/O.
    pub(crate) fn new(
        driver: Box<dyn Driver>,
        conns: HashMap<ConnToken, Box<Conn>>,
        shared: std::sync::Arc<Shared>,
        limits: moon_resp::limits::Limits,
    ) -> BusyIo {
        BusyIo {
            driver,
            conns,
            held: Vec::new(),
            backlog: std::collections::VecDeque::new(),
            shared,
            accepted: Vec::new(),
            limits,
            events: Vec::new(),
            dirty: Vec::new(),
        }
    }
}

/// Poll once and answer every client that can be answered now (see the module doc).
pub(crate) fn serve_busy(io: &mut BusyIo) {
    io.events.clear();
    let mut events = std::mem::take(&mut io.events);
    events.extend(io.backlog.drain(..));
    if io
        .driver
        .poll(std::time::Duration::ZERO, &mut events)
        .is_err()
    {
        io.held.append(&mut events);
        io.events = events;
        return;
    }
    for ev in events.drain(..) {
        match ev {
            Event::Data(token, buf) => match io.conns.get_mut(&token) {
                Some(conn)
                    if conn.blocked_on.is_none()
                        && conn.stash.is_empty()
                        && conn.multi.is_none() =>
                {
                    crate::tls::on_data(conn, &buf);
                    io.driver.recycle(buf);
                    answer_busy(conn, &io.shared);
                    io.dirty.push(token);
                }
                _ => io.held.push(Event::Data(token, buf)),
            },
            Event::SendDone(token, buf) => match io.conns.get_mut(&token) {
                Some(conn) => {
                    conn.sending = false;
                    conn.spare = buf;
                    io.dirty.push(token);
                }
                None => io.held.push(Event::SendDone(token, buf)),
            },
            Event::Accepted(token) => {
                let conn = crate::worker::accept_conn(&io.shared, &*io.driver, io.limits, token);
                io.accepted.push((conn.id, token));
                io.conns.insert(token, conn);
                io.dirty.push(token);
            }
            Event::Wake => {}
            other => io.held.push(other),
        }
    }
    io.events = events;
    io.dirty.sort_unstable();
    io.dirty.dedup();
    for token in io.dirty.drain(..) {
        let Some(conn) = io.conns.get_mut(&token) else {
            continue;
        };
        if conn.wal.holding() {
            // Output waiting for the WAL waits for the loop (the worker tagged it on lending).
            continue;
        }
        if !conn.sending && conn.tls.is_some() {
            crate::tls::stage_output(conn);
        }
        if !conn.sending && !conn.out.is_empty() {
            let spare = std::mem::take(&mut conn.spare);
            let buf = std::mem::replace(&mut conn.out, spare);
            conn.wal.sent(usize::MAX);
            conn.sending = true;
            io.driver.send(token, buf);
        }
    }
}

/// Parse every complete command of `conn` and answer it as a busy server does.
fn answer_busy(conn: &mut Conn, shared: &Shared) {
    loop {
        let args = match conn.parser.parse(&mut conn.rbuf) {
            Ok(Some(args)) if args.is_empty() => continue,
            Ok(Some(args)) => args,
            Ok(None) => return,
            Err(e) => {
                let mut text = Vec::new();
                moon_resp::codec::encode_protocol_error(&e, &mut text);
                conn.reply_raw(&text);
                conn.close_after_flush = true;
                return;
            }
        };
        let reply = if !conn.authed {
            err("NOAUTH Authentication required.")
        } else {
            busy_reply(&args, shared)
        };
        conn.reply(reply);
    }
}

/// What a command gets while a script is busy, for commands run where the script's shard
/// cannot execute them: the kills run, everything else is BUSY.
pub(crate) fn busy_reply(args: &[Bytes], shared: &Shared) -> Reply {
    let is = |i: usize, w: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    if is(0, "script") && is(1, "kill") && args.len() == 2 {
        return shared.script_busy.kill(false);
    }
    if is(0, "function") && is(1, "kill") && args.len() == 2 {
        return shared.script_busy.kill(true);
    }
    if is(0, "shutdown") && is(1, "nosave") {
        for s in &shared.script_busy.slots {
            s.kill.store(true, Ordering::Release);
        }
        shared.request_shutdown();
        return Reply::Ok;
    }
    shared.script_busy.busy_error()
}

/// A driver that does nothing: what a worker holds while its real driver serves a busy script.
pub(crate) struct NullDriver;

impl Driver for NullDriver {
    fn poll(
        &mut self,
        _timeout: std::time::Duration,
        _out: &mut Vec<Event>,
    ) -> std::io::Result<()> {
        Ok(())
    }

    fn send(&mut self, _conn: ConnToken, _buf: Vec<u8>) {
        debug_assert!(false, "send while the driver serves a busy script");
    }

    fn close(&mut self, _conn: ConnToken) {
        debug_assert!(false, "close while the driver serves a busy script");
    }

    fn detach(&mut self, _conn: ConnToken) {
        debug_assert!(false, "detach while the driver serves a busy script");
    }

    fn adopt(&mut self, _handoff: crate::driver::Handoff) -> Option<ConnToken> {
        debug_assert!(false, "adopt while the driver serves a busy script");
        None
    }

    fn recycle(&mut self, _buf: Vec<u8>) {}

    fn peer_addr(&self, _conn: ConnToken) -> Option<std::net::SocketAddr> {
        None
    }

    fn backend(&self) -> IoBackend {
        IoBackend::Epoll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_rules_follow_redis() {
        let b = BusyBoard::new(2);
        assert_eq!(
            b.kill(false),
            err("NOTBUSY No scripts in execution right now.")
        );
        b.begin(1, false);
        b.mark_busy(1, Bytes::from_static(b"sha"), vec![], Instant::now());
        assert!(b.active());
        assert_eq!(b.kill(true), err(BUSY_EVAL));
        assert_eq!(b.kill(false), Reply::Ok);
        assert!(b.slot(1).kill.load(Ordering::Acquire));
        b.end(1);
        assert!(!b.active());
        b.begin(0, true);
        b.slot(0).wrote.store(true, Ordering::Release);
        b.mark_busy(0, Bytes::from_static(b"f"), vec![], Instant::now());
        assert!(
            matches!(b.kill(true), Reply::Err(OpError::Other(t)) if t.starts_with("UNKILLABLE"))
        );
        assert_eq!(b.busy_error(), err(BUSY_FUNCTION));
        b.end(0);
        assert!(!b.active());
    }
}
