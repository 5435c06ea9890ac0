//! Panic containment: a bug that panics while one command runs must cost that command, not the
//! server. Owns the process panic hook (panics are logged through `tracing`), the contained
//! entry points (a client command in [`execute`], a forwarded op or cross-shard call on its
//! owner shard in [`apply`] / [`call`], one `redis.call` from a script in [`run`]), the
//! `moon_panics_contained` counter and DEBUG PANIC.
//!
//! Invariants:
//! - After a contained panic in a client command, the connection is consistent: exactly the
//!   reply slots the command took are answered (an incomplete one with the error, late parts
//!   for it are ignored), or one error reply is added if it took none; an EXEC capture the
//!   command left open is closed. Nothing is promised about the keyspace: an op that panicked
//!   half way keeps whatever it had changed (see SPEC.md, "Panic containment").
//! - The non-panicking path costs nothing but the landing pad `catch_unwind` sets up and a
//!   copy of the command name (at most 32 bytes).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, Op, OpError, Reply};
use moon_engine::shard::Shard;

use crate::conn::{Conn, Finish, Part, Pending};
use crate::mailbox::{CallFn, Msg, ReplyTo};
use crate::worker::Worker;

/// Panics caught since start, process-wide (one server per process): INFO stats
/// `moon_panics_contained`. A static rather than a `Shared` field because script hosts and
/// shard messages catch panics where no `Shared` is at hand.
static PANICS: AtomicU64 = AtomicU64::new(0);

/// What a contained cross-shard call returns instead of its value.
#[derive(Debug)]
pub(crate) struct Contained;

/// Panics contained so far.
pub(crate) fn panics_contained() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// Routes panic reports to the log (the configured logfile or stderr, through `tracing`), with
/// the thread, the location and, when `RUST_BACKTRACE` asks for it, a backtrace.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("?");
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let message = payload_message(info.payload());
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            tracing::error!("panic in thread '{thread}' at {location}: {message}\n{backtrace}");
        } else {
            tracing::error!("panic in thread '{thread}' at {location}: {message}");
        }
    }));
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// The error a client gets for a command that panicked.
pub(crate) fn error_text(what: &str) -> String {
    format!("ERR internal error while executing '{what}': panic contained (this is a bug)")
}

/// Counts and logs a caught panic; returns its message.
#[cold]
fn caught(what: &str, payload: Box<dyn Any + Send>) -> String {
    PANICS.fetch_add(1, Ordering::Relaxed);
    let message = payload_message(&*payload);
    tracing::error!("panic contained while executing '{what}': {message}");
    message
}

/// Runs `f`; a panic is counted, logged under `what` and returned as its message.
pub(crate) fn run<R>(what: &str, f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| caught(what, payload))
}

/// Runs `f` while holding the cross-shard transaction `lock`: a panic releases the lock before
/// it unwinds on (to the command's containment), so later atomic ops do not wait forever.
pub(crate) fn release_on_panic<R>(lock: &AtomicBool, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            lock.store(false, Ordering::Release);
            std::panic::resume_unwind(payload)
        }
    }
}

/// An op on this shard's keyspace for another shard's client (`Msg::Exec`): a panic becomes
/// the error reply that goes back.
pub(crate) fn apply(shard: &mut Shard, ctx: &ExecCtx, op: &Op) -> Reply {
    run("a forwarded command", || shard.apply(ctx, op))
        .unwrap_or_else(|_| Reply::Err(OpError::Other(error_text("a forwarded command"))))
}

/// A closure another shard runs here (`Msg::Call`): a panic becomes a [`Contained`] value,
/// which merges that do not know it treat as a missing part.
pub(crate) fn call(w: &mut Worker, f: CallFn) -> Box<dyn Any + Send> {
    match run("a cross-shard call", || f(w)) {
        Ok(v) => v,
        Err(_) => Box::new(Contained),
    }
}

/// One client command, contained (see the module invariants).
pub(crate) fn execute(w: &mut Worker, conn: &mut Conn, args: Vec<Bytes>) {
    let first_seq = conn.next_seq;
    let had_capture = conn.capture.is_some();
    let mut name = [0u8; 32];
    let len = args.first().map_or(0, |n| {
        let n = &n[..n.len().min(name.len())];
        name[..n.len()].copy_from_slice(n);
        n.len()
    });
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| w.execute_uncontained(conn, args))) {
        let name = String::from_utf8_lossy(&name[..len]).to_ascii_lowercase();
        caught(&name, payload);
        w.stats.error_replies += 1;
        recover(conn, first_seq, had_capture, &error_text(&name));
    }
}

/// Makes the connection consistent after a panic in a command that started at `first_seq`.
#[cold]
fn recover(conn: &mut Conn, first_seq: u64, had_capture: bool, text: &str) {
    if !had_capture {
        conn.capture = None;
    }
    let error = || Reply::Err(OpError::Other(text.to_string()));
    if conn.next_seq == first_seq {
        conn.reply(error());
        return;
    }
    // Slots the command took and left incomplete: answered with the error now. Parts still in
    // flight find a `Ready` slot and are dropped by `Conn::complete`.
    let proto = conn.proto;
    for seq in first_seq..conn.next_seq {
        let Some(idx) = seq.checked_sub(conn.head_seq) else {
            continue;
        };
        if let Some(slot) = conn.pending.get_mut(idx as usize)
            && (matches!(slot, Pending::Gather { remaining, .. } if *remaining > 0)
                || matches!(slot, Pending::Forward { reply: None, .. }))
        {
            *slot = Pending::Ready(error(), proto);
        }
    }
    conn.drain_ready();
}

/// DEBUG PANIC [key]: panics here, or on the shard owning `key` through a cross-shard call.
/// Returns true (the command failed) when it answers at once.
pub(crate) fn debug_panic(w: &mut Worker, conn: &mut Conn, key: Option<Bytes>) -> bool {
    let owner = match &key {
        Some(k) if w.shared.shards() > 1 => w.shared.slots.shard_of(k),
        _ => w.id,
    };
    if owner == w.id {
        panic!(
            "DEBUG PANIC called at Unix time {}",
            crate::shared::now_ms() / 1000
        );
    }
    let seq = conn.defer(
        1,
        Finish::Custom(Box::new(|parts| match parts.into_iter().next() {
            Some(Part::Any(v)) if v.is::<Contained>() => {
                Reply::Err(OpError::Other(error_text("debug")))
            }
            _ => Reply::Ok,
        })),
    );
    let to = ReplyTo {
        shard: w.id,
        client: conn.id,
        seq,
        part: 0,
    };
    let f: CallFn = Box::new(move |w: &mut Worker| {
        panic!(
            "DEBUG PANIC called at Unix time {} (forwarded to shard {})",
            crate::shared::now_ms() / 1000,
            w.id
        )
    });
    w.outboxes[owner].send(Msg::Call { to, f });
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_returns_the_value_or_the_panic_message() {
        let before = panics_contained();
        assert_eq!(run("x", || 7), Ok(7));
        assert_eq!(
            run("x", || -> u8 { panic!("boom {}", 1) }),
            Err("boom 1".to_string())
        );
        assert_eq!(
            run("x", || -> u8 { panic!("static") }),
            Err("static".to_string())
        );
        assert!(panics_contained() >= before + 2);
    }

    #[test]
    fn a_panicking_op_fails_only_its_redis_call() {
        struct Panics;
        impl crate::script::call::Host for Panics {
            fn exec(&mut self, _: ExecCtx, _: Op) -> Reply {
                panic!("op bug")
            }
        }
        let flag = std::sync::atomic::AtomicBool::new(false);
        let mut host = Panics;
        let mut state = crate::script::call::CallState {
            host: &mut host,
            db: 0,
            now_ms: 0,
            no_touch: false,
            read_only: false,
            wrote: false,
            oom: false,
            wrote_flag: &flag,
            acl: None,
        };
        let argv = [
            bytes::Bytes::from_static(b"GET"),
            bytes::Bytes::from_static(b"k"),
        ];
        let before = panics_contained();
        assert_eq!(state.call(&argv), Err(error_text("get")));
        assert!(panics_contained() > before);
    }

    #[test]
    fn error_text_names_the_command() {
        assert_eq!(
            error_text("get"),
            "ERR internal error while executing 'get': panic contained (this is a bug)"
        );
    }

    #[test]
    fn recover_answers_a_command_that_took_no_slot() {
        let mut conn = Conn::new(1, 1, true, moon_resp::limits::Limits::default());
        conn.reply(Reply::Ok);
        let first = conn.next_seq;
        recover(&mut conn, first, false, "ERR boom");
        assert_eq!(conn.out, b"+OK\r\n-ERR boom\r\n");
    }

    #[test]
    fn recover_fails_an_incomplete_slot_and_ignores_late_parts() {
        let mut conn = Conn::new(1, 1, true, moon_resp::limits::Limits::default());
        let first = conn.next_seq;
        let seq = conn.defer(2, Finish::Passthrough);
        conn.capture = Some(Vec::new());
        recover(&mut conn, first, false, "ERR boom");
        assert!(conn.capture.is_none());
        assert_eq!(conn.out, b"-ERR boom\r\n");
        conn.complete(seq, 0, Part::Reply(Reply::Ok));
        conn.reply(Reply::Int(1));
        assert_eq!(conn.out, b"-ERR boom\r\n:1\r\n");
    }
}
