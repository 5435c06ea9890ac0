//! CLIENT PAUSE / CLIENT UNPAUSE across every shard, with Redis 7's semantics: commands of
//! paused clients are held, not refused, and run in order once the pause ends (timeout or
//! UNPAUSE). In WRITE mode only commands that may write or replicate are held (write
//! commands, EVAL/EVALSHA/FCALL, PUBLISH/SPUBLISH, PFCOUNT, and an EXEC whose transaction
//! writes); reads go on. While a pause is set, active expiry and eviction stop.
//!
//! Invariants:
//! - The pause lives in [`Pause`] (in `Shared`): an end time in ms (0 = none) that every
//!   command reads with one atomic load; only while it is non-zero is anything else looked at.
//!   An expired end time is cleared by the first command that sees it.
//! - A held connection has `blocked_on == Some(HELD)` and the held command at the front of its
//!   `stash`, so the existing blocked-client paths keep its later input in order and INFO
//!   counts it in `blocked_clients` (as Redis counts postponed clients). Its token is in the
//!   worker's [`Held`] list, released by [`release`] once no pause is in force.
//! - Not held, on purpose: the client that set the pause, and CLIENT UNPAUSE (so that ALL
//!   mode can be ended early). redis-server 7.0 holds both; see SPEC.md.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use moon_engine::ir::Reply;
use moon_resp::commands::table::WRITE;
use moon_resp::commands::{Command, ConnCmd, resolve};

use crate::conn::Conn;
use crate::driver::ConnToken;
use crate::multi::Queued;
use crate::shared::{Shared, now_ms};
use crate::worker::Worker;

/// The `blocked_on` value of a connection held by a pause (no reply slot has this number).
pub(crate) const HELD: u64 = u64::MAX;

/// Commands Redis 7 flags `may-replicate` (held in WRITE mode besides write commands).
const MAY_REPLICATE: &[&str] = &["eval", "evalsha", "fcall", "publish", "spublish", "pfcount"];

/// The process-wide pause state.
#[derive(Debug, Default)]
pub(crate) struct Pause {
    /// End of the pause, ms since the epoch; 0 = no pause.
    until_ms: AtomicU64,
    /// ALL mode (else WRITE).
    all: AtomicBool,
    /// CLIENT ID of the client that set the pause last.
    pauser: AtomicU64,
    /// Serialises CLIENT PAUSE / UNPAUSE (readers use the atomics only).
    write: Mutex<()>,
}

impl Pause {
    /// True while a pause may be in force (one atomic load: the per-command check).
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.until_ms.load(Ordering::Acquire) != 0
    }

    /// The pause in force at `now`: `Some(all)`; clears an expired one.
    pub(crate) fn in_force(&self, now: u64) -> Option<bool> {
        let until = self.until_ms.load(Ordering::Acquire);
        if until == 0 {
            return None;
        }
        if now >= until {
            let _ = self
                .until_ms
                .compare_exchange(until, 0, Ordering::AcqRel, Ordering::Relaxed);
            return None;
        }
        Some(self.all.load(Ordering::Acquire))
    }

    /// Milliseconds until the pause ends, if one is in force.
    fn remaining_ms(&self, now: u64) -> Option<u64> {
        let until = self.until_ms.load(Ordering::Acquire);
        (until > now).then(|| until - now)
    }

    /// CLIENT PAUSE: as Redis, a pause already in force is only extended (the later end time
    /// and the stricter mode win). `end` 0 (timeout 0) sets nothing new.
    fn pause(&self, end: u64, all: bool, client: u64, now: u64) {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let (end, all) = match self.in_force(now) {
            Some(cur_all) => (
                end.max(self.until_ms.load(Ordering::Acquire)),
                all || cur_all,
            ),
            None => (end, all),
        };
        if end <= now {
            return;
        }
        self.all.store(all, Ordering::Release);
        self.pauser.store(client, Ordering::Release);
        self.until_ms.store(end, Ordering::Release);
    }

    /// CLIENT UNPAUSE.
    fn unpause(&self) {
        let _guard = self.write.lock().unwrap_or_else(|p| p.into_inner());
        self.until_ms.store(0, Ordering::Release);
        self.all.store(false, Ordering::Release);
        self.pauser.store(0, Ordering::Release);
    }
}

/// A worker's connections held by a pause.
#[derive(Debug, Default)]
pub(crate) struct Held(Vec<ConnToken>);

/// True if `args` from `conn` must wait for the pause to end. Called only when
/// [`Pause::is_set`].
pub(crate) fn must_hold(shared: &Shared, conn: &Conn, args: &[Bytes]) -> bool {
    let pause = &shared.pause;
    let Some(all) = pause.in_force(now_ms()) else {
        return false;
    };
    if conn.id == pause.pauser.load(Ordering::Acquire) {
        return false;
    }
    let Ok(spec) = resolve(args) else {
        // Unknown commands (and, below, arity errors) are answered at once, paused or not.
        return false;
    };
    if !spec.arity_ok(args.len()) || spec.name == "client|unpause" {
        return false;
    }
    all || spec.flags & WRITE != 0
        || MAY_REPLICATE.contains(&spec.name)
        || (spec.name == "exec" && transaction_writes(conn))
}

/// Whether the queued transaction contains a command held in WRITE mode.
fn transaction_writes(conn: &Conn) -> bool {
    conn.multi.as_ref().is_some_and(|m| {
        m.queued.iter().any(|q| match q {
            Queued::Cmd(Command::Op(op)) => op.is_write(),
            Queued::Cmd(Command::Conn(ConnCmd::Script(_) | ConnCmd::PubSub(_))) => true,
            _ => false,
        })
    })
}

/// Holds `args` (the command that must wait) and everything `conn` sends after it.
pub(crate) fn hold(w: &mut Worker, conn: &mut Conn, args: Vec<Bytes>) {
    conn.blocked_on = Some(HELD);
    conn.stash.push_front(args);
    w.held.0.push(conn.token);
}

/// How long the event loop may sleep before a pause holding clients here ends.
pub(crate) fn wait(w: &Worker) -> Option<Duration> {
    if w.held.0.is_empty() {
        return None;
    }
    let ms = w.shared.pause.remaining_ms(now_ms()).unwrap_or(0);
    Some(Duration::from_millis(ms))
}

/// Once no pause is in force, runs the held connections' commands in order.
pub(crate) fn release(w: &mut Worker) {
    if w.held.0.is_empty() || w.shared.pause.in_force(now_ms()).is_some() {
        return;
    }
    let tokens = std::mem::take(&mut w.held.0);
    for token in tokens {
        let Some(mut conn) = w.conns.remove(&token) else {
            continue;
        };
        if conn.blocked_on == Some(HELD) {
            conn.blocked_on = None;
            // A command may hold the connection again if a new pause starts meanwhile.
            w.resume_input(&mut conn);
        }
        w.conns.insert(token, conn);
        w.dirty.push(token);
    }
}

/// True while a pause stops active expiry and eviction on this shard.
#[inline]
pub(crate) fn stops_background_writes(shared: &Shared, now: u64) -> bool {
    shared.pause.is_set() && shared.pause.in_force(now).is_some()
}

/// CLIENT PAUSE timeout [WRITE|ALL].
pub(crate) fn client_pause(w: &mut Worker, conn: &Conn, timeout_ms: u64, all: bool) -> Reply {
    let now = now_ms();
    let end = if timeout_ms > 0 {
        now.saturating_add(timeout_ms)
    } else {
        0
    };
    w.shared.pause.pause(end, all, conn.id, now);
    Reply::Ok
}

/// CLIENT UNPAUSE: ends the pause and wakes every shard to release its held clients.
pub(crate) fn client_unpause(w: &mut Worker) -> Reply {
    w.shared.pause.unpause();
    for (i, waker) in w.shared.wakers.iter().enumerate() {
        if i != w.id {
            waker.wake();
        }
    }
    Reply::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_is_extended_never_shortened() {
        let p = Pause::default();
        assert!(!p.is_set());
        p.pause(1_000, false, 7, 500);
        assert_eq!(p.in_force(600), Some(false));
        p.pause(800, true, 8, 600);
        assert_eq!(
            p.in_force(900),
            Some(true),
            "stricter mode wins, later end kept"
        );
        assert_eq!(p.in_force(1_000), None);
        assert!(!p.is_set(), "an expired pause is cleared");
    }

    #[test]
    fn timeout_zero_sets_nothing_and_unpause_clears() {
        let p = Pause::default();
        p.pause(0, true, 1, 500);
        assert!(!p.is_set());
        p.pause(2_000, true, 1, 500);
        p.unpause();
        assert_eq!(p.in_force(600), None);
    }

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn write_mode_holds_writes_and_may_replicate_only() {
        let shared = Shared::new(crate::config::Config::default(), Vec::new());
        let conn = Conn::new(1, 42, true, moon_resp::limits::Limits::default());
        let now = now_ms();
        shared.pause.pause(now + 60_000, false, 1, now);
        for held in [
            &["set", "a", "1"][..],
            &["publish", "c", "m"],
            &["eval", "return 1", "0"],
            &["pfcount", "h"],
            &["flushall"],
        ] {
            assert!(must_hold(&shared, &conn, &args(held)), "{held:?}");
        }
        for free in [
            &["get", "a"][..],
            &["eval_ro", "return 1", "0"],
            &["client", "unpause"],
            &["info"],
            &["nosuchcommand"],
            &["set", "a"],
        ] {
            assert!(!must_hold(&shared, &conn, &args(free)), "{free:?}");
        }
        let pauser = Conn::new(2, 1, true, moon_resp::limits::Limits::default());
        assert!(!must_hold(&shared, &pauser, &args(&["set", "a", "1"])));
        shared.pause.pause(now + 60_000, true, 1, now);
        assert!(must_hold(&shared, &conn, &args(&["get", "a"])));
        assert!(!must_hold(&shared, &conn, &args(&["client", "unpause"])));
    }
}
