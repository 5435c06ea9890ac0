//! Persistence of a shard worker: start-up recovery, the WAL's group commit at the end of each
//! event-loop iteration, forkless snapshots run as cooperative steps of the loop (SAVE, BGSAVE,
//! BGREWRITEAOF, `save` rules, SHUTDOWN), and the bookkeeping INFO persistence reports.
//!
//! Invariants: a snapshot's `.snap.tmp` is renamed to `.snap` only after its footer is written
//! and the file and directory are fsynced; WAL segments and older snapshots are deleted only
//! after a newer snapshot covering them is sealed; under `appendfsync always` no reply leaves
//! the worker before the WAL frames of the writes it may reveal are fsynced (the commit may run
//! in flight, output is released by LSN: `walhold.rs`); [`Worker::persist_flush`] is the
//! synchronous flush (everysec, snapshots, shutdown). SPEC.md §1.7.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use moon_engine::persist::WalWriter;
use moon_engine::persist::files;
use moon_engine::persist::recover::{RecoveryOptions, recover};
use moon_engine::persist::snapshot_format::{self, SnapshotHeader, SnapshotWriter};
use moon_engine::persist::wal::WalOptions;
use moon_engine::shard::{Shard, ShardConfig};

use crate::config::Config;
use crate::shared::now_ms;
use crate::worker::Worker;

/// Time a loop iteration may spend serializing snapshot segments before serving clients again.
const SNAPSHOT_SLICE: Duration = Duration::from_micros(200);
/// Longest wait for events between two snapshot slices (the loop does not spin: at most about
/// a third of a core goes to the snapshot while nothing else happens, leaving the rest to
/// clients, the kernel's networking and the other shards).
pub const SNAPSHOT_PAUSE: Duration = Duration::from_millis(1);
/// While clients keep a shard busy, the snapshot still gets a slice at least this often.
const SNAPSHOT_MAX_GAP: Duration = Duration::from_millis(2);
/// After a failed background snapshot, `save` rules wait this long before retrying (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_MS: u64 = 5_000;

/// Why a snapshot is being taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapKind {
    /// SAVE, BGSAVE, a `save` rule or SHUTDOWN.
    Save,
    /// BGREWRITEAOF (or enabling appendonly): the same snapshot, counted as a rewrite.
    Rewrite,
}

/// What is left of a snapshot job once its file is complete and being sealed.
struct Sealed {
    kind: SnapKind,
    lsn: u64,
    dest: PathBuf,
    started: Instant,
    peak_cow: usize,
}

/// A snapshot in progress.
struct SnapJob {
    kind: SnapKind,
    lsn: u64,
    tmp: PathBuf,
    dest: PathBuf,
    writer: SnapshotWriter<BufWriter<File>>,
    started: Instant,
    /// Most bytes held by write-serialized segments awaiting the writer at one time.
    peak_cow: usize,
    /// When the last slice of serialization ran.
    last_slice: Instant,
}

/// Persistence state of one worker.
pub struct PersistState {
    dir: PathBuf,
    job: Option<SnapJob>,
    /// A complete snapshot being fsynced and renamed by a helper thread.
    sealing: Option<(Sealed, std::sync::mpsc::Receiver<std::io::Result<()>>)>,
    scheduled: Option<SnapKind>,
    /// Unix ms of the last successful snapshot (process start until the first one).
    pub last_save_ms: u64,
    last_save_ok: bool,
    last_failure_ms: u64,
    last_save_secs: Option<u64>,
    saves: u64,
    rewrites: u64,
    last_rewrite_ok: bool,
    last_rewrite_secs: Option<u64>,
    wal_written_at_rewrite: u64,
    last_cow_bytes: u64,
    /// Keys loaded at start-up and keys dropped because they had expired.
    pub loaded: (u64, u64),
}

/// What one shard contributes to INFO persistence.
#[derive(Debug, Clone, Default)]
pub struct PersistReport {
    /// Writes since the last snapshot.
    pub dirty: u64,
    /// A snapshot is running.
    pub in_progress: Option<SnapKind>,
    /// Seconds the running snapshot has taken so far.
    pub current_secs: u64,
    /// The last snapshot succeeded.
    pub last_ok: bool,
    /// Duration of the last snapshot.
    pub last_secs: Option<u64>,
    /// Snapshots completed.
    pub saves: u64,
    /// Rewrites completed.
    pub rewrites: u64,
    /// The last rewrite succeeded.
    pub last_rewrite_ok: bool,
    /// Duration of the last rewrite.
    pub last_rewrite_secs: Option<u64>,
    /// A snapshot or rewrite is scheduled behind the running one.
    pub scheduled: bool,
    /// The WAL is on.
    pub wal: bool,
    /// Size of the current WAL segment files (bytes).
    pub wal_size: u64,
    /// The WAL failed (write or fsync error).
    pub wal_failed: bool,
    /// Bytes held by segments writes serialized for the running snapshot, not yet written.
    pub cow_bytes: u64,
    /// The most such bytes held at once during the last snapshot.
    pub last_cow_bytes: u64,
    /// Keys loaded at start-up / skipped as expired.
    pub loaded: (u64, u64),
}

impl PersistState {
    fn new(dir: PathBuf, loaded: (u64, u64)) -> PersistState {
        PersistState {
            dir,
            job: None,
            sealing: None,
            scheduled: None,
            last_save_ms: now_ms(),
            last_save_ok: true,
            last_failure_ms: 0,
            last_save_secs: None,
            saves: 0,
            rewrites: 0,
            last_rewrite_ok: true,
            last_rewrite_secs: None,
            wal_written_at_rewrite: 0,
            last_cow_bytes: 0,
            loaded,
        }
    }

    /// True while a snapshot runs (the loop must not sleep).
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }
}

/// Recovers every shard from `config.dir` (in parallel, one thread per shard) and attaches
/// the WAL when `appendonly yes`. Returns the shards and their persistence state.
pub fn recover_all(config: &Config) -> anyhow::Result<Vec<(Shard, PersistState)>> {
    let n = config.shards;
    let results: Vec<anyhow::Result<(Shard, PersistState)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|id| s.spawn(move || recover_one(config, id)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("recovery thread panicked")))
            })
            .collect()
    });
    results.into_iter().collect()
}

fn recover_one(config: &Config, id: usize) -> anyhow::Result<(Shard, PersistState)> {
    let dir = files::shard_dir(&config.dir, id);
    let started = Instant::now();
    // Replay with neither eviction nor notifications: it reproduces state, it does not serve.
    let replay_cfg = ShardConfig {
        maxmemory: 0,
        notify_flags: 0,
        ..config.shard_config()
    };
    let mut shard = Shard::new(id, replay_cfg);
    let parse = |argv: &[Vec<u8>]| -> Result<moon_engine::ir::Op, String> {
        let args: Vec<bytes::Bytes> = argv
            .iter()
            .map(|a| bytes::Bytes::copy_from_slice(a))
            .collect();
        match moon_resp::commands::parse(&args) {
            Ok(moon_resp::commands::Command::Op(op)) => Ok(op),
            Ok(_) => Err("not a data command".into()),
            Err(e) => Err(format!("{e:?}")),
        }
    };
    let opts = RecoveryOptions {
        skip_corrupt: config.wal_skip_corrupt,
        now_ms: now_ms(),
        shard_count: config.shards as u16,
    };
    let report = recover(&mut shard, &dir, opts, &parse)
        .with_context(|| format!("recovering shard {id} from {}", dir.display()))?;
    if let Some((path, lsn, keys)) = &report.snapshot {
        tracing::info!(
            shard = id,
            keys,
            lsn,
            expired = report.expired_skipped,
            "loaded snapshot {}",
            path.display()
        );
    }
    if report.records > 0 {
        tracing::info!(
            shard = id,
            records = report.records,
            next_lsn = report.next_lsn,
            "replayed the WAL"
        );
    }
    if report.replay_errors > 0 {
        tracing::warn!(
            shard = id,
            errors = report.replay_errors,
            "WAL records that answered an error on replay"
        );
    }
    if let Some((file, offset, reason)) = &report.torn_tail {
        tracing::warn!(
            shard = id,
            offset,
            reason = reason.as_str(),
            "truncated a torn WAL tail in {}",
            file.display()
        );
    }
    for line in &report.skipped {
        tracing::warn!(shard = id, "skipped damaged data: {line}");
    }
    crate::persist_search::log_recovery(id, &report);
    if report.snapshot.is_some() || report.records > 0 {
        tracing::info!(
            shard = id,
            ms = started.elapsed().as_millis() as u64,
            "recovery done"
        );
    }
    shard.set_config(config.shard_config());
    if config.appendonly {
        let writer = open_wal(config, id, shard.next_lsn())?;
        shard.wal_attach(writer);
    }
    let loaded = report
        .snapshot
        .as_ref()
        .map_or((0, 0), |(_, _, k)| (*k, report.expired_skipped));
    Ok((shard, PersistState::new(dir, loaded)))
}

fn open_wal(config: &Config, id: usize, next_lsn: u64) -> anyhow::Result<WalWriter> {
    let opts = WalOptions {
        dir: files::shard_dir(&config.dir, id),
        shard_id: id as u16,
        shard_count: config.shards as u16,
        policy: config.appendfsync,
        segment_bytes: config.wal_segment_size,
    };
    WalWriter::open(opts, next_lsn, now_ms())
        .with_context(|| format!("opening the WAL of shard {id}"))
}

impl Worker {
    /// Synchronous group commit: waits for the commit in flight if any (`walhold.rs`), then
    /// writes the pending WAL frames and fsyncs as `appendfsync` asks. While the file is
    /// failing it is left alone (writes are refused); the tick retries it (`walfail.rs`).
    pub(crate) fn persist_flush(&mut self) {
        if !self.shard.wal_enabled() {
            return;
        }
        self.wal_settle();
        if self.shard.wal_io_failed() {
            return;
        }
        let failed_before = self.shard.wal_failure().is_some();
        let mut io = crate::driver::DriverIo(&mut *self.driver);
        if let Err(e) = self.shard.wal_flush_with(self.now_ms, &mut io)
            && !failed_before
        {
            tracing::error!(
                shard = self.id,
                "WAL write failed, refusing writes until it is fixed: {e}"
            );
        }
    }

    /// Per-iteration snapshot work: a slice of serialization while a snapshot runs.
    pub(crate) fn persist_step(&mut self, served: bool) {
        let cow = self.shard.snapshot_cow_bytes();
        let Some(job) = self.persist.job.as_mut() else {
            return;
        };
        job.peak_cow = job.peak_cow.max(cow);
        // Clients first: after an iteration that served events, slice only if the last slice
        // is old enough (the snapshot still advances at least once per SNAPSHOT_MAX_GAP).
        let now = Instant::now();
        if served && now.duration_since(job.last_slice) < SNAPSHOT_MAX_GAP {
            return;
        }
        job.last_slice = now;
        let deadline = now + SNAPSHOT_SLICE;
        loop {
            match self.snapshot_step(1) {
                Ok(false) if Instant::now() < deadline => {}
                Ok(false) => return,
                Ok(true) => return self.snapshot_finish(true),
                Err(e) => return self.snapshot_failed(e),
            }
        }
    }

    /// Once-a-tick checks: `save` rules, automatic WAL rewrite, everysec fsync while idle.
    pub(crate) fn persist_tick(&mut self) {
        if self.shard.wal_enabled() {
            self.wal_retry();
        }
        if self.persist.job.is_some() || self.persist.sealing.is_some() {
            return;
        }
        if let Some(kind) = self.persist.scheduled.take() {
            let _ = self.snapshot_start(kind);
            return;
        }
        let cfg = self.shared.config();
        let now = now_ms();
        let dirty = self.shard.dirty();
        let retry_ok = self.persist.last_save_ok
            || now.saturating_sub(self.persist.last_failure_ms) >= BGSAVE_RETRY_DELAY_MS;
        let due = cfg.save.iter().any(|&(secs, changes)| {
            dirty >= changes.max(1)
                && now.saturating_sub(self.persist.last_save_ms) >= secs.saturating_mul(1000)
        });
        if due && retry_ok {
            tracing::info!(shard = self.id, dirty, "save rule met, saving");
            let _ = self.snapshot_start(SnapKind::Save);
            return;
        }
        if cfg.auto_aof_rewrite_percentage > 0
            && let Some(w) = self.shard.wal_writer()
        {
            let grown = w
                .written()
                .saturating_sub(self.persist.wal_written_at_rewrite);
            if grown >= cfg.auto_aof_rewrite_min_size.max(1) {
                tracing::info!(
                    shard = self.id,
                    grown,
                    "WAL grew, starting automatic rewrite"
                );
                let _ = self.snapshot_start(SnapKind::Rewrite);
            }
        }
    }

    /// Starts a background snapshot. `Err` if one is already running.
    pub(crate) fn snapshot_start(&mut self, kind: SnapKind) -> Result<(), &'static str> {
        if self.persist.job.is_some() || self.persist.sealing.is_some() {
            return Err("Background save already in progress");
        }
        self.persist_flush();
        let now = now_ms();
        let lsn = self.shard.next_lsn() - 1;
        if let Some(w) = self.shard.wal_writer()
            && let Err(e) = w.rotate(lsn + 1, now)
        {
            tracing::error!(shard = self.id, "rotating the WAL failed: {e}");
        }
        if let Some(w) = self.shard.wal_writer() {
            self.persist.wal_written_at_rewrite = w.written();
        }
        match self.open_snapshot_file(lsn, now) {
            Ok((tmp, dest, mut writer)) => {
                if self.shard.snapshot_begin().is_err() {
                    let _ = std::fs::remove_file(&tmp);
                    return Err("Background save already in progress");
                }
                // The function libraries (section 2) of the image's instant, written first.
                if let Err(e) = self
                    .shard
                    .snapshot_functions(&mut |name, code| writer.add_function(name, code))
                    .and_then(|()| {
                        // FT index definitions (section 6), also of the image's instant.
                        self.shard
                            .snapshot_search(&mut |name, def| writer.add_search_def(name, def))
                    })
                    .and_then(|()| {
                        self.shard.snapshot_search_dicts(&mut |name, terms| {
                            writer.add_search_dict(name, terms)
                        })
                    })
                {
                    tracing::error!(shard = self.id, "cannot write a snapshot: {e}");
                    self.shard.snapshot_abort();
                    let _ = std::fs::remove_file(&tmp);
                    self.record_failure(kind);
                    return Err("Failed creating the snapshot file");
                }
                crate::persist_search::encode_contents(self.id, &mut self.shard);
                self.shard.dirty_mark_snapshot();
                self.shared.snapshots_running.fetch_add(1, Ordering::SeqCst);
                self.persist.job = Some(SnapJob {
                    kind,
                    lsn,
                    tmp,
                    dest,
                    writer,
                    started: Instant::now(),
                    peak_cow: 0,
                    last_slice: Instant::now(),
                });
                Ok(())
            }
            Err(e) => {
                tracing::error!(shard = self.id, "cannot create a snapshot file: {e}");
                self.record_failure(kind);
                Err("Failed creating the snapshot file")
            }
        }
    }

    fn open_snapshot_file(
        &self,
        lsn: u64,
        now: u64,
    ) -> std::io::Result<(PathBuf, PathBuf, SnapshotWriter<BufWriter<File>>)> {
        std::fs::create_dir_all(&self.persist.dir)?;
        let dest = self
            .persist
            .dir
            .join(snapshot_format::snapshot_file_name(lsn));
        let tmp = tmp_path(&dest);
        let file = File::create(&tmp)?;
        let header = SnapshotHeader {
            version: snapshot_format::VERSION,
            shard_id: self.id as u16,
            shard_count: self.shared.shards() as u16,
            lsn,
            created_ms: now,
        };
        let writer = SnapshotWriter::new(BufWriter::with_capacity(1 << 20, file), &header)?;
        Ok((tmp, dest, writer))
    }

    /// Serializes up to `segments` more segments; true when the image is complete.
    fn snapshot_step(&mut self, segments: usize) -> Result<bool, String> {
        let Some(job) = self.persist.job.as_mut() else {
            return Ok(true);
        };
        // The writer takes entries and, in section 3, graphs as streamed parts (SPEC §8.2).
        self.shard
            .snapshot_step_to(segments, &mut job.writer)
            .map_err(|e| e.to_string())
    }

    /// The image is complete: write index + footer, then fsync, rename into place and drop
    /// the files it covers — on a helper thread (`background`, so the shard keeps serving
    /// during the fsync) or right here (SAVE, shutdown).
    fn snapshot_finish(&mut self, background: bool) {
        let Some(job) = self.persist.job.take() else {
            return;
        };
        let sealed = Sealed {
            kind: job.kind,
            lsn: job.lsn,
            dest: job.dest.clone(),
            started: job.started,
            peak_cow: job.peak_cow,
        };
        let file = match job
            .writer
            .finish()
            .and_then(|(buf, _)| buf.into_inner().map_err(|e| e.into_error()))
        {
            Ok(f) => f,
            Err(e) => return self.seal_done(sealed, Err(e)),
        };
        let (dir, tmp, wal) = (self.persist.dir.clone(), job.tmp, self.shard.wal_enabled());
        let (dest, lsn) = (sealed.dest.clone(), sealed.lsn);
        let work = move || {
            seal(file, &tmp, &dest)?;
            cleanup_after(&dir, lsn, wal);
            Ok(())
        };
        if !background {
            let result = work();
            return self.seal_done(sealed, result);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let waker = self.shared.wakers[self.id].clone();
        let spawned = std::thread::Builder::new()
            .name(format!("moon-seal-{}", self.id))
            .spawn(move || {
                let _ = tx.send(work());
                waker.wake();
            });
        match spawned {
            Ok(_) => self.persist.sealing = Some((sealed, rx)),
            Err(e) => self.seal_done(sealed, Err(e)),
        }
    }

    /// Picks up a background seal that finished (called every loop iteration; a `try_recv`).
    pub(crate) fn persist_poll_seal(&mut self) {
        let Some((_, rx)) = self.persist.sealing.as_ref() else {
            return;
        };
        let result = match rx.try_recv() {
            Ok(r) => r,
            Err(std::sync::mpsc::TryRecvError::Empty) => return,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                Err(std::io::Error::other("the seal thread died"))
            }
        };
        if let Some((sealed, _)) = self.persist.sealing.take() {
            self.seal_done(sealed, result);
        }
    }

    /// Waits for a background seal in progress (shutdown).
    fn persist_wait_seal(&mut self) {
        if let Some((sealed, rx)) = self.persist.sealing.take() {
            let result = rx
                .recv()
                .unwrap_or_else(|_| Err(std::io::Error::other("the seal thread died")));
            self.seal_done(sealed, result);
        }
    }

    fn seal_done(&mut self, job: Sealed, result: std::io::Result<()>) {
        self.shared.snapshots_running.fetch_sub(1, Ordering::SeqCst);
        let kind = job.kind;
        match result {
            Ok(()) => {
                self.shard.dirty_snapshot_done();
                let secs = job.started.elapsed().as_secs();
                self.persist.last_save_ms = now_ms();
                self.persist.last_save_ok = true;
                self.persist.last_save_secs = Some(secs);
                self.persist.last_cow_bytes = job.peak_cow as u64;
                self.persist.saves += 1;
                if kind == SnapKind::Rewrite {
                    self.persist.rewrites += 1;
                    self.persist.last_rewrite_ok = true;
                    self.persist.last_rewrite_secs = Some(secs);
                }
                self.shared
                    .set_last_save(self.id, self.persist.last_save_ms / 1000);
                tracing::info!(
                    shard = self.id,
                    lsn = job.lsn,
                    ms = job.started.elapsed().as_millis() as u64,
                    "snapshot saved to {}",
                    job.dest.display()
                );
            }
            Err(e) => {
                let _ = std::fs::remove_file(tmp_path(&job.dest));
                tracing::error!(shard = self.id, "sealing the snapshot failed: {e}");
                self.record_failure(kind);
            }
        }
    }

    fn snapshot_failed(&mut self, why: String) {
        self.shard.snapshot_abort();
        if let Some(job) = self.persist.job.take() {
            self.shared.snapshots_running.fetch_sub(1, Ordering::SeqCst);
            let _ = std::fs::remove_file(&job.tmp);
            tracing::error!(shard = self.id, "snapshot failed: {why}");
            self.record_failure(job.kind);
        }
    }

    fn record_failure(&mut self, kind: SnapKind) {
        self.persist.last_save_ok = false;
        self.persist.last_failure_ms = now_ms();
        if kind == SnapKind::Rewrite {
            self.persist.last_rewrite_ok = false;
        }
    }

    /// SAVE on this shard: a whole snapshot now, blocking the shard.
    pub(crate) fn save_now(&mut self, kind: SnapKind) -> Result<(), String> {
        self.snapshot_start(kind).map_err(str::to_string)?;
        loop {
            match self.snapshot_step(64) {
                Ok(false) => {}
                Ok(true) => break,
                Err(e) => {
                    self.snapshot_failed(e.clone());
                    return Err(e);
                }
            }
        }
        self.snapshot_finish(false);
        if self.persist.last_save_ok {
            Ok(())
        } else {
            Err("snapshot failed (see the log)".into())
        }
    }

    /// BGSAVE/BGREWRITEAOF on this shard: start, or with `schedule` queue behind the running
    /// one. Ok(true) = started, Ok(false) = scheduled.
    pub(crate) fn snapshot_request(
        &mut self,
        kind: SnapKind,
        schedule: bool,
    ) -> Result<bool, String> {
        match self.snapshot_start(kind) {
            Ok(()) => Ok(true),
            Err(_)
                if schedule && (self.persist.job.is_some() || self.persist.sealing.is_some()) =>
            {
                self.persist.scheduled = Some(kind);
                Ok(false)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// CONFIG SET appendonly: attach (starting a rewrite so the WAL has a base) or detach.
    pub(crate) fn set_appendonly(&mut self, on: bool) {
        if on == self.shard.wal_enabled() {
            return;
        }
        if !on {
            self.wal_settle();
            if let Some(mut w) = self.shard.wal_detach(now_ms()) {
                let _ = w.sync();
            }
            return;
        }
        let cfg = self.shared.config();
        // Writes made while the WAL was off have no LSN: leave a visible gap so recovery knows
        // the WAL does not continue the last snapshot until the rewrite below completes.
        let next = self.shard.next_lsn() + 1;
        self.shard.set_next_lsn(next);
        match open_wal(&cfg, self.id, next) {
            Ok(w) => {
                self.shard.wal_attach(w);
                if self.persist.job.is_some() || self.persist.sealing.is_some() {
                    self.persist.scheduled = Some(SnapKind::Rewrite);
                } else {
                    let _ = self.snapshot_start(SnapKind::Rewrite);
                }
            }
            Err(e) => tracing::error!(shard = self.id, "cannot enable the WAL: {e:#}"),
        }
    }

    /// CONFIG SET of the WAL tunables.
    pub(crate) fn set_wal_options(&mut self, cfg: &Config) {
        self.wal_settle();
        if let Some(w) = self.shard.wal_writer() {
            w.set_policy(cfg.appendfsync);
            w.set_segment_bytes(cfg.wal_segment_size);
        }
    }

    /// At shutdown: abandon a background snapshot, save if asked (`save` rules configured or
    /// SHUTDOWN SAVE, unless NOSAVE), and fsync the WAL.
    pub(crate) fn persist_shutdown(&mut self) {
        if self.persist.job.is_some() {
            self.snapshot_failed("shutting down".into());
        }
        self.persist_wait_seal();
        let cfg = self.shared.config();
        let save = match self.shared.shutdown_save() {
            Some(forced) => forced,
            None => !cfg.save.is_empty(),
        };
        if save {
            match self.save_now(SnapKind::Save) {
                Ok(()) => tracing::info!(shard = self.id, "saved on shutdown"),
                Err(e) => tracing::error!(shard = self.id, "saving on shutdown failed: {e}"),
            }
        }
        // A failing WAL gets a last try at its kept frames; a commit in flight completes.
        self.wal_settle();
        self.wal_retry();
        self.wal_settle();
        if let Some(w) = self.shard.wal_writer()
            && let Err(e) = w.sync()
        {
            tracing::error!(shard = self.id, "fsync of the WAL at shutdown failed: {e}");
        }
    }

    /// This shard's INFO persistence figures.
    pub(crate) fn persist_report(&mut self) -> PersistReport {
        let p = &self.persist;
        let wal_size = files::list(&p.dir)
            .map(|l| {
                l.segments
                    .iter()
                    .filter_map(|(_, path)| std::fs::metadata(path).ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        PersistReport {
            dirty: self.shard.dirty(),
            in_progress: p
                .job
                .as_ref()
                .map(|j| j.kind)
                .or(p.sealing.as_ref().map(|(j, _)| j.kind)),
            current_secs: p
                .job
                .as_ref()
                .map(|j| j.started)
                .or(p.sealing.as_ref().map(|(j, _)| j.started))
                .map_or(0, |t| t.elapsed().as_secs()),
            last_ok: p.last_save_ok,
            last_secs: p.last_save_secs,
            saves: p.saves,
            rewrites: p.rewrites,
            last_rewrite_ok: p.last_rewrite_ok,
            last_rewrite_secs: p.last_rewrite_secs,
            scheduled: p.scheduled.is_some(),
            wal: self.shard.wal_enabled(),
            wal_size,
            wal_failed: self.shard.wal_failure().is_some(),
            cow_bytes: self.shard.snapshot_cow_bytes() as u64,
            last_cow_bytes: p.last_cow_bytes,
            loaded: p.loaded,
        }
    }
}

/// The `.snap.tmp` a snapshot is written as before it is renamed to `dest`.
fn tmp_path(dest: &Path) -> PathBuf {
    dest.with_extension("snap.tmp")
}

/// fsyncs the sealed file, renames it into place and fsyncs the directory.
fn seal(file: File, tmp: &Path, dest: &Path) -> std::io::Result<()> {
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, dest)?;
    if let Some(dir) = dest.parent() {
        files::sync_dir(dir)?;
    }
    Ok(())
}

/// After a snapshot at `lsn` is sealed: older snapshots and the WAL segments it covers go.
fn cleanup_after(dir: &Path, lsn: u64, wal_attached: bool) {
    let Ok(list) = files::list(dir) else { return };
    for (l, path) in &list.snapshots {
        if *l < lsn {
            let _ = std::fs::remove_file(path);
        }
    }
    let segs = &list.segments;
    for (i, (_, path)) in segs.iter().enumerate() {
        let covered = match segs.get(i + 1) {
            Some((next_first, _)) => *next_first <= lsn + 1,
            None => !wal_attached,
        };
        if covered {
            let _ = std::fs::remove_file(path);
        }
    }
}
