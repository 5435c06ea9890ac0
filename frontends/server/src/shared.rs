//! State shared by all shard threads. Nothing here is touched per key: the keyspace is owned by
//! each shard alone. Shared are the routing table, the wakers, counters that INFO sums, the
//! runtime configuration (read on CONFIG/INFO/AUTH, not per command) and the global
//! cross-shard transaction lock.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use moon_engine::slots::SlotTable;

use crate::config::Config;
use crate::driver::{IoBackend, Waker};

/// Process-wide state.
pub struct Shared {
    /// Key → shard routing.
    pub slots: SlotTable,
    /// One waker per shard.
    pub wakers: Vec<Waker>,
    /// Effective configuration (CONFIG SET writes here).
    pub config: RwLock<Config>,
    /// Held by the coordinator of an atomic cross-shard op (one at a time).
    pub tx_lock: AtomicBool,
    /// Next CLIENT ID.
    pub next_client_id: AtomicU64,
    /// Currently connected clients.
    pub connected_clients: AtomicUsize,
    /// Connections accepted since start.
    pub total_connections: AtomicU64,
    /// Connections refused because of maxclients.
    pub rejected_connections: AtomicU64,
    /// Set when the server is shutting down.
    pub shutdown: std::sync::Arc<AtomicBool>,
    /// Process start.
    pub started: Instant,
    /// Backend actually in use on shard 0 (after fallback).
    pub io_backend: RwLock<Option<IoBackend>>,
    /// Random run id for INFO server.
    pub run_id: String,
    /// Which shards have Pub/Sub subscriptions (publishers skip the others).
    pub pubsub: crate::pubsub::Census,
    /// Each shard's estimated memory in bytes, published every loop iteration (maxmemory).
    pub memory: Vec<AtomicU64>,
    /// Each shard is over its memory share and could not evict (OOM for DENYOOM writes).
    pub oom: Vec<AtomicBool>,
    /// Each shard's last successful snapshot, Unix seconds (LASTSAVE is the oldest).
    pub last_save: Vec<AtomicU64>,
    /// SHUTDOWN's save choice: 0 = by the `save` rules, 1 = NOSAVE, 2 = SAVE.
    pub shutdown_save: std::sync::atomic::AtomicU8,
    /// Shards with a snapshot in progress (BGSAVE refuses to start a second round).
    pub snapshots_running: AtomicUsize,
    /// The script cache (SCRIPT LOAD, EVAL): shared by every shard's Lua VM.
    pub(crate) scripts: crate::script::ScriptCache,
    /// Which shard runs a script past the busy threshold (BUSY, SCRIPT KILL).
    pub(crate) script_busy: crate::script::BusyBoard,
    /// A copy of `busy-reply-threshold`, kept by `update_config`.
    busy_threshold_ms: AtomicU64,
    /// CLIENT PAUSE state (`pause.rs`).
    pub(crate) pause: crate::pause::Pause,
    /// The rustls server configuration: installed at start-up when `tls-port` is set, replaced
    /// by CONFIG SET of the TLS files.
    pub(crate) tls: crate::tls::TlsContext,
    /// Each shard's metrics snapshot for the admin endpoint, published on its tick.
    pub(crate) metrics: crate::admin::metrics::Board,
    /// ACL users, the ACL LOG (see `acl/`).
    pub(crate) acl: crate::acl::Acl,
}

impl Shared {
    /// Build for `config.shards` shards.
    pub fn new(config: Config, wakers: Vec<Waker>) -> Shared {
        let shards = config.shards;
        let busy_threshold_ms = AtomicU64::new(config.busy_reply_threshold_ms);
        let metrics = crate::admin::metrics::Board::new(shards, config.admin_port != 0);
        let acl = crate::acl::Acl::new(&config);
        Shared {
            slots: SlotTable::new(shards),
            wakers,
            config: RwLock::new(config),
            tx_lock: AtomicBool::new(false),
            next_client_id: AtomicU64::new(1),
            connected_clients: AtomicUsize::new(0),
            total_connections: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            shutdown: std::sync::Arc::new(AtomicBool::new(false)),
            started: Instant::now(),
            io_backend: RwLock::new(None),
            run_id: run_id(),
            pubsub: crate::pubsub::Census::new(shards),
            memory: (0..shards).map(|_| AtomicU64::new(0)).collect(),
            oom: (0..shards).map(|_| AtomicBool::new(false)).collect(),
            last_save: (0..shards)
                .map(|_| AtomicU64::new(now_ms() / 1000))
                .collect(),
            shutdown_save: std::sync::atomic::AtomicU8::new(0),
            snapshots_running: AtomicUsize::new(0),
            scripts: crate::script::ScriptCache::default(),
            script_busy: crate::script::BusyBoard::new(shards),
            busy_threshold_ms,
            pause: crate::pause::Pause::default(),
            tls: crate::tls::TlsContext::default(),
            metrics,
            acl,
        }
    }

    /// Records shard `id`'s last successful snapshot time (Unix seconds).
    pub fn set_last_save(&self, id: usize, secs: u64) {
        if let Some(a) = self.last_save.get(id) {
            a.store(secs, Ordering::Relaxed);
        }
    }

    /// LASTSAVE: the time by which every shard had a snapshot.
    pub fn last_save(&self) -> u64 {
        self.last_save
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    }

    /// SHUTDOWN's explicit save choice: Some(true) = SAVE, Some(false) = NOSAVE.
    pub fn shutdown_save(&self) -> Option<bool> {
        match self.shutdown_save.load(Ordering::SeqCst) {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        }
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.slots.shards()
    }

    /// A copy of the config (poison-tolerant).
    pub fn config(&self) -> Config {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Change the config under the lock.
    pub fn update_config<R>(&self, f: impl FnOnce(&mut Config) -> R) -> R {
        let mut guard = match self.config.write() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let level_before = guard.loglevel.clone();
        let r = f(&mut guard);
        if guard.loglevel != level_before {
            crate::logging::set_level(&guard.loglevel);
        }
        self.busy_threshold_ms.store(
            guard.busy_reply_threshold_ms,
            std::sync::atomic::Ordering::Relaxed,
        );
        r
    }

    /// `busy-reply-threshold` in ms, without cloning the configuration (read by every script).
    pub(crate) fn busy_threshold_ms(&self) -> u64 {
        self.busy_threshold_ms
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ask every shard to stop.
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for w in &self.wakers {
            w.wake();
        }
    }

    /// True once shutdown was requested.
    /// True if a shard is over its memory share and cannot evict: DENYOOM writes are refused.
    pub fn out_of_memory(&self) -> bool {
        self.oom.iter().any(|f| f.load(Ordering::Relaxed))
    }

    pub fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::with_capacity(40);
    let state = std::collections::hash_map::RandomState::new();
    while out.len() < 40 {
        let mut h = state.build_hasher();
        h.write_u64(now_ms() ^ out.len() as u64);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(40);
    out
}
