//! The shard's write-ahead log: every successful write op is logged as its *effect*, a
//! canonical Redis command that replays deterministically (SPEC.md §8, "What the WAL logs").
//!
//! - An op's effect is [`Op::to_command`] at the op's `now_ms` (relative times made absolute),
//!   except where the op's result depends on chance: SPOP is logged as SREM of the members it
//!   popped, INCRBYFLOAT as SET of the value it produced (KEEPTTL).
//! - Keys deleted by expiry or eviction are logged as `DEL`, before the op that found them
//!   expired, as Redis propagates them.
//! - The cross-shard primitives log `DEL` for a taken entry and `RESTORE … ABSTTL REPLACE` for
//!   a put one.
//! - Replay runs each command with `ExecCtx { db, now_ms: timestamp }` on the state the WAL
//!   started from, so ops that read the clock (XADD `*`, stream idle times) reproduce exactly.
//!
//! Invariants: LSNs are assigned consecutively in the order the shard executed the writes;
//! frames are buffered in `pending` and reach the file only through [`Shard::wal_flush`] or an
//! asynchronous commit ([`Shard::wal_flush_begin`] / [`Shard::wal_flush_end`], at most one in
//! flight, `appendfsync always` only); every LSN up to `durable` is written (and fsynced under
//! `always`); a synchronous flush while an asynchronous commit is in flight first writes the
//! in-flight frames again (same bytes, same offset) so that its fsync never leaves a hole
//! before the frames it makes durable; a shard whose WAL failed refuses writes (`failed`)
//! instead of acknowledging unlogged data, and keeps the frames of the failed commit in
//! `pending` (their writes are already in memory and later records may build on them), so the
//! commit that succeeds again writes them first, at the same offset.

use bytes::Bytes;
use moon_formats::wal;

use super::Shard;
use crate::ir::ops::SetOp;
use crate::ir::{ExecCtx, Op, OpError, Reply, wal_direct};
use crate::persist::{AsyncCommit, WalIo, WalWriter};

/// An open MULTI/EXEC batch: its timestamp and the `(db, argv)` of each effect so far.
type OpenBatch = (u64, Vec<(u16, Vec<Bytes>)>);

/// WAL bookkeeping of a shard.
#[derive(Debug)]
pub struct WalState {
    /// The LSN the next record gets.
    next_lsn: u64,
    /// Encoded frames not yet handed to the writer.
    pending: Vec<u8>,
    /// The open segment file; `None` when `appendonly no` (then nothing is encoded).
    writer: Option<WalWriter>,
    /// An open MULTI/EXEC batch: `(timestamp, commands)`.
    batch: Option<OpenBatch>,
    /// Successful write ops since the last completed snapshot.
    dirty: u64,
    /// Successful write ops since the start of the snapshot in progress.
    dirty_at_snapshot_begin: u64,
    /// Why the WAL stopped working (a failed write or fsync); writes are refused meanwhile.
    failed: Option<String>,
    /// `failed` comes from the file I/O (a later successful commit clears it), not from a
    /// record that could not be encoded (which stays until the WAL is re-attached).
    io_failed: bool,
    /// A commit failed while the WAL was healthy; taken by the loop, which then drops the
    /// replies that waited for it.
    broke: bool,
    /// Commits still to fail with EIO (DEBUG WAL-FAULT).
    fault: u32,
    /// Every LSN up to this one is written (and fsynced under `always`).
    durable: u64,
    /// The asynchronous commit in flight.
    inflight: Option<Inflight>,
}

/// An asynchronous commit in flight.
#[derive(Debug)]
struct Inflight {
    commit: AsyncCommit,
    /// The last LSN it covers.
    last_lsn: u64,
    /// A synchronous flush already wrote and fsynced its range again: it is durable whatever
    /// its own outcome.
    covered: bool,
}

impl Default for WalState {
    fn default() -> Self {
        WalState {
            next_lsn: 1,
            pending: Vec::new(),
            writer: None,
            batch: None,
            dirty: 0,
            dirty_at_snapshot_begin: 0,
            failed: None,
            io_failed: false,
            broke: false,
            fault: 0,
            durable: 0,
            inflight: None,
        }
    }
}

impl WalState {
    /// Counts a write done outside `apply` (the cross-shard primitives).
    pub(super) fn dirty_bump(&mut self) {
        self.dirty += 1;
    }
}

impl Shard {
    /// Attaches an open WAL (appendonly yes): from now on every write is logged. Expiry
    /// deletions are tracked so they can be logged as DEL.
    pub fn wal_attach(&mut self, writer: WalWriter) {
        self.wal.writer = Some(writer);
        self.wal.failed = None;
        self.wal.io_failed = false;
        self.wal.durable = self.wal.next_lsn - 1;
        self.sync_expired_tracking();
    }

    /// Detaches the WAL (appendonly no), flushing what is pending first.
    pub fn wal_detach(&mut self, now_ms: u64) -> Option<WalWriter> {
        let _ = self.wal_flush(now_ms);
        // Frames a failed WAL could not write have no file left to go to.
        self.wal.pending.clear();
        let w = self.wal.writer.take();
        self.sync_expired_tracking();
        w
    }

    /// The attached WAL writer.
    pub fn wal_writer(&mut self) -> Option<&mut WalWriter> {
        self.wal.writer.as_mut()
    }

    /// True while a WAL is attached.
    pub fn wal_enabled(&self) -> bool {
        self.wal.writer.is_some()
    }

    /// The LSN the next logged write gets; the last logged one is this minus one.
    pub fn next_lsn(&self) -> u64 {
        self.wal.next_lsn
    }

    /// Sets the next LSN (after recovery).
    pub fn set_next_lsn(&mut self, lsn: u64) {
        debug_assert!(self.wal.pending.is_empty());
        self.wal.next_lsn = lsn.max(1);
        self.wal.durable = self.wal.next_lsn - 1;
    }

    /// Successful writes since the last completed snapshot (`rdb_changes_since_last_save`).
    pub fn dirty(&self) -> u64 {
        self.wal.dirty
    }

    /// Marks the start of a snapshot: writes from here on stay dirty after it completes.
    pub fn dirty_mark_snapshot(&mut self) {
        self.wal.dirty_at_snapshot_begin = self.wal.dirty;
    }

    /// A snapshot started at the last mark completed.
    pub fn dirty_snapshot_done(&mut self) {
        self.wal.dirty -= self.wal.dirty_at_snapshot_begin.min(self.wal.dirty);
        self.wal.dirty_at_snapshot_begin = 0;
    }

    /// Why the WAL failed, if it did.
    pub fn wal_failure(&self) -> Option<&str> {
        self.wal.failed.as_deref()
    }

    /// True while the WAL's file I/O is failing (the frames of the failed commit wait in
    /// `pending` for a retry).
    pub fn wal_io_failed(&self) -> bool {
        self.wal.io_failed
    }

    /// True once after a commit failed while the WAL was healthy (the replies that waited
    /// for that commit must not leave as success).
    pub fn wal_take_broke(&mut self) -> bool {
        std::mem::take(&mut self.wal.broke)
    }

    /// Another shard's commit that this shard's replies depend on failed (a frozen
    /// participant of an atomic op): drop them as if this shard's own commit had failed.
    pub fn wal_mark_broke(&mut self) {
        self.wal.broke = true;
    }

    /// DEBUG WAL-FAULT: the next `count` commits that touch the file fail with EIO.
    pub fn wal_set_fault(&mut self, count: u32) {
        self.wal.fault = count;
    }

    /// True if frames await [`Shard::wal_flush`].
    pub fn wal_pending(&self) -> bool {
        !self.wal.pending.is_empty()
    }

    /// Writes the pending frames and fsyncs as the policy asks (group commit: call once per
    /// event-loop iteration, before the iteration's replies leave). After a failure the shard
    /// refuses writes and keeps the frames; a later call writes them again, and once that
    /// succeeds writes are accepted again.
    pub fn wal_flush(&mut self, now_ms: u64) -> std::io::Result<()> {
        self.wal_flush_with(now_ms, &mut crate::persist::StdIo)
    }

    /// [`Shard::wal_flush`] through the given I/O (the shard loop's io_uring ring). With an
    /// asynchronous commit in flight, its frames are written again first (same bytes, same
    /// offset) and covered by this commit's fsync.
    pub fn wal_flush_with(&mut self, now_ms: u64, io: &mut dyn WalIo) -> std::io::Result<()> {
        let Some(w) = self.wal.writer.as_mut() else {
            self.wal.pending.clear();
            return Ok(());
        };
        let mut faulty = FaultIo {
            inner: io,
            left: &mut self.wal.fault,
        };
        let rewrite = self.wal.inflight.as_mut().filter(|i| !i.covered);
        let mut result = Ok(());
        if let Some(inf) = &rewrite {
            // The in-flight write may not have landed yet: write its bytes again, so that the
            // fsync below covers them too (a segment rotated since gets its own fsync).
            let c = &inf.commit;
            let current = w.is_current(&c.file);
            result = faulty.write_at(&c.file, &c.frames, c.offset, !current);
            w.mark_unsynced();
        }
        let result = result.and_then(|()| {
            w.commit(&self.wal.pending, self.wal.next_lsn, now_ms, &mut faulty)
                .map(|_| ())
        });
        match &result {
            Ok(()) => {
                if let Some(inf) = rewrite {
                    inf.covered = true;
                }
                self.wal.pending.clear();
                self.wal.durable = self.wal.next_lsn - 1;
                if self.wal.io_failed {
                    self.wal.io_failed = false;
                    self.wal.failed = None;
                }
            }
            Err(e) => {
                self.wal.broke |= !self.wal.io_failed;
                self.wal.failed = Some(strerror(e));
                self.wal.io_failed = true;
            }
        }
        result
    }

    /// Asynchronous group commit (`appendfsync always`), step 1: takes the pending frames and
    /// returns their write + fdatasync for the caller to run without waiting. None when there
    /// is nothing to commit, a commit is already in flight, the WAL failed, a fault is injected
    /// or a rotation is due (use [`Shard::wal_flush_with`] then), or the policy is not
    /// `always`.
    pub fn wal_flush_begin(&mut self) -> Option<AsyncCommit> {
        if self.wal.inflight.is_some()
            || self.wal.failed.is_some()
            || self.wal.fault > 0
            || self.wal.pending.is_empty()
        {
            return None;
        }
        let w = self.wal.writer.as_mut().filter(|w| w.async_ready())?;
        let capacity = self.wal.pending.capacity();
        let frames = std::mem::replace(&mut self.wal.pending, Vec::with_capacity(capacity));
        let commit = w.begin_async(Bytes::from(frames))?;
        self.wal.inflight = Some(Inflight {
            commit: commit.clone(),
            last_lsn: self.wal.next_lsn - 1,
            covered: false,
        });
        Some(commit)
    }

    /// Step 2: the commit from [`Shard::wal_flush_begin`] completed with `result`. On success
    /// its LSNs are durable. On failure its frames go back in front of the pending ones (to be
    /// written again at the same offset by the tick's retry) and the WAL is in error, as after
    /// a failed synchronous flush. A commit that a synchronous flush covered meanwhile counts
    /// as durable whatever its own outcome.
    pub fn wal_flush_end(
        &mut self,
        result: std::io::Result<()>,
        now_ms: u64,
    ) -> std::io::Result<()> {
        let Some(inf) = self.wal.inflight.take() else {
            return Ok(());
        };
        if inf.covered {
            return Ok(());
        }
        match result {
            Ok(()) => {
                self.wal.durable = self.wal.durable.max(inf.last_lsn);
                if let Some(w) = self.wal.writer.as_mut() {
                    w.end_async(inf.last_lsn + 1, now_ms);
                }
                Ok(())
            }
            Err(e) => {
                if let Some(w) = self.wal.writer.as_mut() {
                    debug_assert!(w.is_current(&inf.commit.file), "rotated under a commit");
                    w.abort_async(&inf.commit);
                }
                let mut frames = inf.commit.frames.to_vec();
                frames.extend_from_slice(&self.wal.pending);
                self.wal.pending = frames;
                self.wal.broke |= !self.wal.io_failed;
                self.wal.failed = Some(strerror(&e));
                self.wal.io_failed = true;
                Err(e)
            }
        }
    }

    /// True while an asynchronous commit is in flight.
    pub fn wal_inflight(&self) -> bool {
        self.wal.inflight.is_some()
    }

    /// True if logged writes are not yet durable through this shard's own flushes: frames
    /// pending, or an asynchronous commit in flight that no synchronous flush covered.
    pub fn wal_unsettled(&self) -> bool {
        !self.wal.pending.is_empty() || self.wal.inflight.as_ref().is_some_and(|i| !i.covered)
    }

    /// The LSN of the last logged write (0: none yet).
    pub fn wal_last_lsn(&self) -> u64 {
        self.wal.next_lsn - 1
    }

    /// Every write up to this LSN is written (and fsynced under `always`): a message that may
    /// reveal the writes up to `L` may leave once this is at least `L`. `u64::MAX` without a
    /// WAL or while it is in error (writes are refused then; reads keep working).
    pub fn wal_durable_lsn(&self) -> u64 {
        if self.wal.writer.is_none() || self.wal.failed.is_some() {
            return u64::MAX;
        }
        self.wal.durable
    }

    /// Every write up to this LSN is written (and fsynced under `always`), whatever the
    /// WAL's state (what a failed commit did not make durable is above it).
    pub fn wal_synced_lsn(&self) -> u64 {
        self.wal.durable
    }

    /// As [`Shard::wal_durable_lsn`], but `u64::MAX` unless the policy is `always`: output to
    /// clients is flushed after the iteration's synchronous commit under the other policies,
    /// so only `always` (whose commit may be in flight) holds it by LSN.
    pub fn wal_release_lsn(&self) -> u64 {
        match &self.wal.writer {
            Some(w) if w.policy() == crate::persist::FsyncPolicy::Always => self.wal_durable_lsn(),
            _ => u64::MAX,
        }
    }

    /// Opens a MULTI/EXEC batch: the effects of the following ops become one Batch record,
    /// replayed all or nothing.
    pub fn wal_begin_batch(&mut self, now_ms: u64) {
        if self.wal.writer.is_some() && self.wal.batch.is_none() {
            self.wal.batch = Some((now_ms, Vec::new()));
        }
    }

    /// Closes the batch opened by [`Shard::wal_begin_batch`].
    pub fn wal_end_batch(&mut self) {
        let Some((ts, cmds)) = self.wal.batch.take() else {
            return;
        };
        match cmds.len() {
            0 => {}
            1 => {
                let (db, argv) = &cmds[0];
                let lsn = self.take_lsn();
                wal::encode_command(&mut self.wal.pending, lsn, ts, *db, argv);
            }
            _ if wal::batch_payload_len(&cmds) > u64::from(wal::MAX_PAYLOAD) => {
                // Larger than one frame may be: log the commands one by one (replay can then
                // see a prefix of the transaction after a crash, never an unreadable frame).
                for (db, argv) in &cmds {
                    let lsn = self.take_lsn();
                    wal::encode_command(&mut self.wal.pending, lsn, ts, *db, argv);
                }
            }
            _ => {
                let lsn = self.take_lsn();
                wal::encode_batch(&mut self.wal.pending, lsn, ts, &cmds);
            }
        }
    }

    /// The refusal for a write while the WAL is broken (Redis's MISCONF wording).
    pub(super) fn wal_refusal(&self) -> Option<Reply> {
        let why = self.wal.failed.as_ref()?;
        Some(Reply::Err(OpError::Other(format!(
            "MISCONF Errors writing to the AOF file: {why}"
        ))))
    }

    /// Counts and logs a successful write op. Called by `apply` after executing `op`.
    pub(super) fn wal_after_write(&mut self, ctx: &ExecCtx, op: &Op, reply: &Reply) {
        self.wal.dirty += 1;
        if self.wal.writer.is_none() {
            return;
        }
        self.log_expired(ctx.now_ms);
        // The common writes, encoded without building an argv (same bytes as `to_command`
        // gives: `ir::unparse::direct` tests that).
        if self.wal.batch.is_none() {
            let at = wal_direct::FrameAt {
                lsn: self.wal.next_lsn,
                ts_ms: ctx.now_ms,
                db: ctx.db as u16,
            };
            if wal_direct::encode(op, ctx.now_ms, at, &mut self.wal.pending) {
                self.take_lsn();
                return;
            }
        }
        let argv = match effect(op, reply, ctx.now_ms) {
            Effect::None => return,
            Effect::Command(argv) => argv,
        };
        self.log_command(ctx.db, ctx.now_ms, argv);
    }

    /// Logs `argv` as a record of database `db` at `ts` (into the open batch if any).
    pub(super) fn log_command(&mut self, db: usize, ts: u64, argv: Vec<Bytes>) {
        if self.wal.writer.is_none() {
            return;
        }
        let db = db as u16;
        if let Some((_, cmds)) = self.wal.batch.as_mut() {
            cmds.push((db, argv));
            return;
        }
        let lsn = self.take_lsn();
        wal::encode_command(&mut self.wal.pending, lsn, ts, db, &argv);
    }

    /// Logs a DEL of keys deleted by expiry since the last call (active or lazy).
    pub(super) fn log_expired(&mut self, ts: u64) {
        if self.wal.writer.is_none() {
            return;
        }
        for db in 0..self.dbs.len() {
            if !self.dbs[db].has_expired_log() {
                continue;
            }
            let keys = self.dbs[db].take_expired_log();
            for key in &keys {
                let argv = vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(key)];
                self.log_command(db, ts, argv);
            }
            if self.config.notify_flags & crate::notify::class::EXPIRED != 0 {
                for key in keys {
                    self.events.push(crate::notify::KeyEvent {
                        db,
                        class: crate::notify::class::EXPIRED,
                        event: "expired",
                        key: Bytes::from(key.into_vec()),
                    });
                }
            }
        }
    }

    /// Logs the deletion of `key` outside an op (eviction, the cross-shard primitives).
    pub(super) fn log_del(&mut self, db: usize, key: &[u8], ts: u64) {
        if self.wal.writer.is_some() {
            let argv = vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(key)];
            self.log_command(db, ts, argv);
        }
    }

    /// Logs the whole value of `key` as it is now (the cross-shard primitives): RESTORE with
    /// an absolute TTL, or DEL if the key is gone.
    pub(super) fn log_image(&mut self, db: usize, key: &[u8], ts: u64) {
        if self.wal.writer.is_none() {
            return;
        }
        let payload = self.dbs.get(db).and_then(|d| d.peek(key, ts)).map(|e| {
            let payload = crate::cmd::dump::codec::image_payload(e);
            (e.expire_at_ms().unwrap_or(0), payload)
        });
        match payload {
            Some((expire, Some(payload))) => {
                let argv = vec![
                    Bytes::from_static(b"RESTORE"),
                    Bytes::copy_from_slice(key),
                    Bytes::from(expire.to_string()),
                    Bytes::from(payload),
                    Bytes::from_static(b"ABSTTL"),
                    Bytes::from_static(b"REPLACE"),
                ];
                self.log_command(db, ts, argv);
            }
            Some((_, None)) => {
                // Every value type Moon stores can be dumped; an entry that cannot is a bug
                // that must not lose the write silently.
                self.wal.failed = Some(format!(
                    "cannot encode key {:?} for the WAL",
                    String::from_utf8_lossy(key)
                ));
            }
            None => self.log_del(db, key, ts),
        }
    }

    fn take_lsn(&mut self) -> u64 {
        let lsn = self.wal.next_lsn;
        self.wal.next_lsn += 1;
        lsn
    }

    /// Expired keys are recorded per database while either the WAL or `expired`
    /// notifications need them.
    pub(super) fn sync_expired_tracking(&mut self) {
        let on = self.wal.writer.is_some()
            || self.config.notify_flags & crate::notify::class::EXPIRED != 0;
        for db in &mut self.dbs {
            db.set_expired_log(on);
        }
    }
}

/// The WAL's I/O with DEBUG WAL-FAULT's injected failures in front.
struct FaultIo<'a> {
    inner: &'a mut dyn WalIo,
    /// Writes still to fail.
    left: &'a mut u32,
}

impl WalIo for FaultIo<'_> {
    fn write_at(
        &mut self,
        file: &std::fs::File,
        buf: &[u8],
        offset: u64,
        sync: bool,
    ) -> std::io::Result<()> {
        if *self.left > 0 {
            *self.left -= 1;
            return Err(std::io::Error::from_raw_os_error(libc::EIO));
        }
        self.inner.write_at(file, buf, offset, sync)
    }
}

/// An I/O error as C's `strerror` spells it (Redis's MISCONF text), without Rust's
/// " (os error N)" suffix.
fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match (e.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_string(),
        _ => text,
    }
}

/// What a successful write op logs.
enum Effect {
    /// Nothing changed (SPOP of a missing key).
    None,
    /// This command.
    Command(Vec<Bytes>),
}

/// The effect of `op` that answered `reply` at `now_ms`.
fn effect(op: &Op, reply: &Reply, now_ms: u64) -> Effect {
    match op {
        Op::Sets(SetOp::Pop { key, .. }) => {
            let mut argv = vec![Bytes::from_static(b"SREM"), key.clone()];
            match reply {
                Reply::Bulk(m) => argv.push(m.clone()),
                Reply::Array(items) | Reply::Set(items) => {
                    for it in items {
                        if let Reply::Bulk(m) = it {
                            argv.push(m.clone());
                        }
                    }
                }
                _ => {}
            }
            if argv.len() == 2 {
                Effect::None
            } else {
                Effect::Command(argv)
            }
        }
        Op::IncrByFloat { key, .. } => match reply {
            Reply::Bulk(v) => Effect::Command(vec![
                Bytes::from_static(b"SET"),
                key.clone(),
                v.clone(),
                Bytes::from_static(b"KEEPTTL"),
            ]),
            _ => Effect::None,
        },
        _ => match op.to_command(now_ms) {
            Some(argv) => Effect::Command(argv),
            None => Effect::None,
        },
    }
}

#[cfg(test)]
#[path = "wal_tests.rs"]
mod tests;
