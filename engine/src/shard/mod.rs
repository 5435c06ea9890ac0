//! A shard: the databases of the keys one core owns, executed single-threaded with no locks.
//! The server routes each op to the owning shard and calls [`Shard::apply`]; for cross-shard
//! atomic ops (RENAME, COPY, MSET ... across owners) it freezes the participating shards and
//! uses the entry primitives ([`Shard::take_entry`], [`Shard::put_entry`] ...).
//!
//! Invariants: `dbs.len() == DATABASES`; `apply` rejects an out-of-range `ExecCtx::db` before
//! executing anything; time only enters through `ExecCtx::now_ms` / the `now_ms` arguments.
//! The FUNCTION library catalog lives beside the databases (`functions`): catalog ops
//! (`Op::Functions`) change only it, never a key, so they bypass watched-key tracking.
//! The FT index registry (`search`) likewise sits beside the databases: definition ops
//! (`Op::Search`) change it; every other write re-syncs the keys it named in db 0 with it
//! (see `crate::search`), one `is_empty()` branch when there is no index.

use crate::DATABASES;
use crate::cmd::{self, Exec};
use crate::functions::FunctionCatalog;
use crate::ir::ops::{FunctionOp, RestorePolicy};
use crate::ir::{ExecCtx, Op, OpError, Reply};
use crate::keyspace::{Db, Entry};
use crate::notify::KeyEvent;

mod evict;
mod graph;
mod snapshot;
mod wal;
mod watch;

pub use evict::EvictionPolicy;
pub use snapshot::{FunctionSink, GRAPH_CHUNK, SnapshotError, SnapshotOut, SnapshotSink};
pub use watch::{Interest, WatchFlag};

/// Tunables of a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardConfig {
    /// `proto-max-bulk-len`: the largest string APPEND/SETRANGE/SET may produce (bytes).
    pub proto_max_bulk_len: u64,
    /// Entries each database's active-expiry step visits per [`Shard::active_expire_cycle`].
    pub active_expire_visits: usize,
    /// `notify-keyspace-events` class bits ([`crate::notify::class`]); 0 = off.
    pub notify_flags: u32,
    /// Encoding thresholds of the data types (Redis's `*-max-listpack-*` ... parameters).
    pub limits: TypeLimits,
    /// This shard's share of `maxmemory` in bytes; 0 = no limit.
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: EvictionPolicy,
    /// `maxmemory-samples`.
    pub maxmemory_samples: usize,
    /// `lfu-log-factor` / `lfu-decay-time`.
    pub lfu: crate::keyspace::lfu::LfuParams,
    /// Number of shards in the process (SORT's BY/GET patterns read only keys whose owner is
    /// the sorted key's, computed from the slot table of this many shards).
    pub shards: usize,
}

/// The encoding-conversion thresholds, under Redis's parameter names and defaults. A value
/// converts to its scalable encoding as soon as it exceeds one of them, never back (as Redis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeLimits {
    /// `list-max-listpack-size`: > 0 entries per node; -1..-5 = 4/8/16/32/64 KiB per node.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth` (accepted; Moon does not compress list nodes).
    pub list_compress_depth: i64,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries`.
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value`.
    pub set_max_listpack_value: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: usize,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: usize,
    /// `hll-sparse-max-bytes`.
    pub hll_sparse_max_bytes: usize,
}

impl Default for TypeLimits {
    fn default() -> Self {
        TypeLimits {
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            hll_sparse_max_bytes: 3000,
        }
    }
}

impl Default for ShardConfig {
    fn default() -> Self {
        ShardConfig {
            proto_max_bulk_len: 512 << 20,
            active_expire_visits: 64,
            notify_flags: 0,
            limits: TypeLimits::default(),
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 5,
            lfu: crate::keyspace::lfu::LfuParams::default(),
            shards: 1,
        }
    }
}

/// Counters for INFO stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Read lookups that found a live key.
    pub keyspace_hits: u64,
    /// Read lookups that found nothing.
    pub keyspace_misses: u64,
    /// Keys deleted because their TTL passed (filled in by [`Shard::stats`]).
    pub expired_keys: u64,
    /// Keys evicted by the maxmemory policy.
    pub evicted_keys: u64,
}

/// One shard's state. `Send`, so it can be moved into its thread.
#[derive(Debug)]
pub struct Shard {
    id: usize,
    dbs: Vec<Db>,
    stats: ShardStats,
    config: ShardConfig,
    rng: u64,
    /// Keyspace events recorded by ops, drained by the server ([`Shard::take_events`]).
    events: Vec<KeyEvent>,
    /// Watched keys and keys blocked clients wait on.
    interest: Interest,
    /// The write-ahead log (LSNs, pending frames, the open segment).
    wal: wal::WalState,
    /// The FUNCTION libraries (identical on every shard; see `crate::functions`).
    functions: FunctionCatalog,
    /// FT index definitions (identical on every shard) and this shard's index contents.
    search: crate::search::Registry,
    /// FT index contents encoded at the running snapshot's instant, not yet written
    /// (section 4, written after the keyspace; `Shard::snapshot_search_contents`).
    search_contents: crate::search::contents::ContentsStream,
    /// Graph keys `(db, key)` whose adjacency may hold compaction debt that no write will pace
    /// away; the tick compacts them (`Shard::graph_tick`).
    graph_debt: Vec<(usize, bytes::Bytes)>,
    /// A big graph write ran: its transients (parameters, effect records, WAL command) are
    /// freed once the command is done, so the free pages are returned then
    /// (`Shard::release_if_requested`, from the server loop after replies are flushed).
    release_requested: bool,
}

const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Shard>();
    assert_send::<Entry>();
};

impl Shard {
    /// An empty shard with `DATABASES` databases.
    pub fn new(id: usize, config: ShardConfig) -> Shard {
        let lfu = config.maxmemory_policy.is_lfu().then_some(config.lfu);
        let log_expired = config.notify_flags & crate::notify::class::EXPIRED != 0;
        Shard {
            id,
            dbs: (0..DATABASES)
                .map(|_| {
                    let mut db = Db::new();
                    db.set_lfu(lfu);
                    db.set_expired_log(log_expired);
                    db
                })
                .collect(),
            stats: ShardStats::default(),
            config,
            // Any non-zero seed works for xorshift; derive it from the id for reproducibility.
            rng: 0x9E37_79B9_7F4A_7C15 ^ (id as u64).wrapping_mul(0x1000_0000_01B3) | 1,
            events: Vec::new(),
            interest: Interest::default(),
            wal: wal::WalState::default(),
            functions: FunctionCatalog::new(),
            search: crate::search::Registry::default(),
            search_contents: Default::default(),
            graph_debt: Vec::new(),
            release_requested: false,
        }
    }

    /// The FUNCTION library catalog.
    pub fn functions(&self) -> &FunctionCatalog {
        &self.functions
    }

    /// Adds (or replaces) one library outside `apply`, unlogged: recovery loading a snapshot.
    pub fn load_function(&mut self, name: bytes::Bytes, code: bytes::Bytes) {
        self.functions.insert(name, code);
    }

    /// This shard's index.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The shard's configuration.
    pub fn config(&self) -> &ShardConfig {
        &self.config
    }

    /// Executes one op on the keys this shard owns.
    pub fn apply(&mut self, ctx: &ExecCtx, op: &Op) -> Reply {
        if ctx.db >= self.dbs.len() {
            return OpError::DbIndexOutOfRange.into();
        }
        if !op.is_write() {
            // Reads never touch watched keys nor wake blocked clients.
            let reply = self.execute(ctx, op);
            if !self.search.is_empty() {
                // A read may have reclaimed expired keys.
                self.search_drain_expired();
            }
            return reply;
        }
        if let Some(refusal) = self.wal_refusal() {
            return refusal;
        }
        if self.config.maxmemory > 0 {
            self.evict(ctx.now_ms);
        }
        let reply = if self.interest.is_idle() {
            self.execute(ctx, op)
        } else {
            self.apply_with_interest(ctx, op)
        };
        if !self.search.is_empty() {
            self.search_after_write(ctx, op);
        }
        if !reply.is_err() {
            if let Op::Functions(FunctionOp::Restore { .. }) = op
                && self.wal_enabled()
            {
                // The effect of a RESTORE is the whole resulting catalog: replay then never
                // depends on what APPEND/REPLACE found.
                let effect = Op::Functions(FunctionOp::Restore {
                    libs: self.functions.to_vec(),
                    policy: RestorePolicy::Flush,
                });
                self.wal_after_write(ctx, &effect, &reply);
            } else {
                self.wal_after_write(ctx, op, &reply);
            }
        }
        reply
    }

    /// The slow path of [`Shard::apply`] while keys are watched or waited on: compare watched
    /// entries around the op, and queue written keys for blocked clients.
    #[cold]
    fn apply_with_interest(&mut self, ctx: &ExecCtx, op: &Op) -> Reply {
        if matches!(op, Op::Functions(_) | Op::Search(_)) {
            // The catalog is not a key: no watched key changes, no blocked client wakes.
            // (FT.DROPINDEX DD touches the keys it deletes itself.)
            return self.execute(ctx, op);
        }
        let keys: Vec<bytes::Bytes> = op.keys().into_iter().cloned().collect();
        let db = ctx.db;
        if keys.is_empty() {
            // FLUSHDB/FLUSHALL/SWAPDB: every watched key that exists now is touched.
            if self.interest.has_watches() {
                let affected: Vec<usize> = match op {
                    Op::FlushDb => vec![db],
                    Op::SwapDb { a, b } => vec![*a, *b],
                    _ => (0..self.dbs.len()).collect(),
                };
                for d in affected {
                    if let Some(table) = self.dbs.get(d) {
                        let now = ctx.now_ms;
                        self.interest.touch_db(d, |k| table.peek(k, now).is_some());
                    }
                }
            }
            return self.execute(ctx, op);
        }
        let before: Vec<Option<Entry>> = keys
            .iter()
            .map(|k| {
                if self.interest.is_watched(db, k) {
                    self.dbs[db].peek(k, ctx.now_ms).cloned()
                } else {
                    None
                }
            })
            .collect();
        let reply = self.execute(ctx, op);
        for (k, old) in keys.iter().zip(before) {
            if self.interest.is_watched(db, k) {
                let now = self.dbs[db].peek(k, ctx.now_ms);
                let same = match (now, &old) {
                    (Some(a), Some(b)) => a.same_data(b),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    self.interest.touch(db, k);
                }
            }
            if self.dbs[db].peek(k, ctx.now_ms).is_some() {
                self.interest.signal_written(db, k);
            }
        }
        reply
    }

    fn execute(&mut self, ctx: &ExecCtx, op: &Op) -> Reply {
        if let Op::Functions(f) = op {
            return self.functions.apply(f);
        }
        if let Op::Search(s) = op {
            return self.search_execute(ctx, s);
        }
        if let Op::Graph(g) = op {
            return self.graph_execute(ctx, g);
        }
        let mut x = Exec::new(
            &mut self.dbs,
            ctx.db,
            &mut self.stats,
            &self.config,
            &mut self.rng,
            &mut self.events,
            ctx,
        );
        cmd::execute(&mut x, op)
    }

    /// Watched keys and blocked-client interest (WATCH, blocking commands).
    pub fn interest(&mut self) -> &mut Interest {
        &mut self.interest
    }

    /// WATCH: registers `flag` on `key`; returns the key's expire time if it is live with a
    /// TTL (EXEC treats a watched key that expired meanwhile as modified, as Redis does).
    pub fn watch(
        &mut self,
        db: usize,
        key: bytes::Bytes,
        flag: WatchFlag,
        now_ms: u64,
    ) -> Option<u64> {
        let expire = self
            .dbs
            .get(db)
            .and_then(|d| d.peek(&key, now_ms))
            .and_then(Entry::expire_at_ms);
        self.interest.watch(db, key, flag, expire);
        expire
    }

    /// Rewrites a blocking op that found nothing before the server parks it (XREAD `$`).
    pub fn prepare_block(&mut self, ctx: &ExecCtx, op: &mut Op) {
        if ctx.db >= self.dbs.len() {
            return;
        }
        let mut x = Exec::new(
            &mut self.dbs,
            ctx.db,
            &mut self.stats,
            &self.config,
            &mut self.rng,
            &mut self.events,
            ctx,
        );
        cmd::prepare_block(&mut x, op);
    }

    /// Keyspace events recorded since the last call (empty unless notifications are on).
    pub fn take_events(&mut self) -> Vec<KeyEvent> {
        if self.wal_enabled() {
            return std::mem::take(&mut self.events);
        }
        for (db, table) in self.dbs.iter_mut().enumerate() {
            for key in table.take_expired_log() {
                self.events.push(KeyEvent {
                    db,
                    class: crate::notify::class::EXPIRED,
                    event: "expired",
                    key: bytes::Bytes::from(key.into_vec()),
                });
            }
        }
        std::mem::take(&mut self.events)
    }

    /// Records keyspace event `event` on `key` in `db` if its class is enabled (for work done
    /// outside `apply`, such as the cross-shard RENAME/COPY primitives).
    pub fn notify(&mut self, db: usize, class: u32, event: &'static str, key: &[u8]) {
        if self.config.notify_flags & class != 0 {
            self.events.push(KeyEvent {
                db,
                class,
                event,
                key: bytes::Bytes::copy_from_slice(key),
            });
        }
    }

    /// Adds events recorded elsewhere (a scratch shard of a cross-shard op) to this shard's.
    pub fn push_events(&mut self, events: Vec<KeyEvent>) {
        self.events.extend(events);
    }

    /// True if ops recorded keyspace events not yet taken.
    pub fn has_events(&self) -> bool {
        // Called after every command: skip the per-database scan unless `expired` events are on.
        !self.events.is_empty()
            || (self.config.notify_flags & crate::notify::class::EXPIRED != 0
                && self.dbs.iter().any(Db::has_expired_log))
    }

    /// CONFIG SET of any shard tunable: replaces the configuration.
    pub fn set_config(&mut self, config: ShardConfig) {
        let lfu = config.maxmemory_policy.is_lfu().then_some(config.lfu);
        for db in &mut self.dbs {
            db.set_lfu(lfu);
        }
        self.config = config;
        self.sync_expired_tracking();
    }

    /// CONFIG RESETSTAT: zero the counters.
    pub fn reset_stats(&mut self) {
        self.stats = ShardStats::default();
        for db in &mut self.dbs {
            db.reset_expired_keys();
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ShardStats {
        ShardStats {
            expired_keys: self.dbs.iter().map(Db::expired_keys).sum(),
            ..self.stats
        }
    }

    /// `(db, keys, expires)` for every non-empty database (INFO keyspace).
    pub fn keyspace_info(&self) -> Vec<(usize, usize, usize)> {
        self.dbs
            .iter()
            .enumerate()
            .filter(|(_, db)| !db.is_empty())
            .map(|(i, db)| (i, db.len(), db.expires()))
            .collect()
    }

    /// Estimated heap bytes held by this shard's keyspace. O(databases).
    pub fn used_memory_estimate(&self) -> usize {
        std::mem::size_of::<Shard>()
            + self.dbs.iter().map(Db::mem_bytes).sum::<usize>()
            + self.functions.mem_bytes()
    }

    /// Active expiry over every database: each one with TTL keys advances its scan by
    /// `config.active_expire_visits` entries, so one call is bounded by
    /// `DATABASES × active_expire_visits` visits (plus a bucket each). Returns keys deleted.
    pub fn active_expire_cycle(&mut self, now_ms: u64) -> usize {
        let visits = self.config.active_expire_visits;
        let mut deleted = 0;
        for (i, db) in self.dbs.iter_mut().enumerate() {
            deleted += db.active_expire(now_ms, visits);
            // Hash fields with a TTL: the same bounded sweep, a few fields per hash.
            for key in db.due_field_ttl_keys(now_ms, visits) {
                crate::types::hash::active_expire_fields(db, &key, now_ms, 64);
                if i == crate::search::INDEXED_DB && !self.search.is_empty() {
                    self.search.sync_key(db, &key, now_ms);
                }
            }
        }
        if !self.search.is_empty() {
            self.search_drain_expired();
        }
        self.log_expired(now_ms);
        deleted
    }

    /// A database by index.
    pub fn db(&self, db: usize) -> Option<&Db> {
        self.dbs.get(db)
    }

    /// Removes and returns the live entry for `key`.
    pub fn take_entry(&mut self, db: usize, key: &[u8], now_ms: u64) -> Option<Entry> {
        self.interest.touch(db, key);
        let taken = self.dbs.get_mut(db)?.remove(key, now_ms);
        if !self.search.is_empty() && db == crate::search::INDEXED_DB {
            self.search_drain_expired();
            self.search.remove_key(key);
        }
        self.log_expired(now_ms);
        if taken.is_some() {
            self.wal.dirty_bump();
            self.log_del(db, key, now_ms);
        }
        taken
    }

    /// A copy of the live entry for `key`.
    pub fn clone_entry(&mut self, db: usize, key: &[u8], now_ms: u64) -> Option<Entry> {
        self.dbs.get_mut(db)?.lookup(key, now_ms, None).cloned()
    }

    /// Stores `entry`, replacing any entry with the same key.
    pub fn put_entry(&mut self, db: usize, entry: Entry, now_ms: u64) -> Result<(), OpError> {
        let key = self.wal_enabled().then(|| entry.key().to_vec());
        let table = self.dbs.get_mut(db).ok_or(OpError::DbIndexOutOfRange)?;
        if !self.interest.is_idle() {
            self.interest.touch(db, entry.key());
            self.interest.signal_written(db, entry.key());
        }
        let indexed = (!self.search.is_empty() && db == crate::search::INDEXED_DB)
            .then(|| bytes::Bytes::copy_from_slice(entry.key()));
        table.insert(entry);
        if let Some(k) = indexed {
            self.search.sync_key(&self.dbs[db], &k, now_ms);
        }
        self.wal.dirty_bump();
        if let Some(key) = key {
            self.log_image(db, &key, now_ms);
        }
        Ok(())
    }

    /// True if `key` is live.
    pub fn exists(&mut self, db: usize, key: &[u8], now_ms: u64) -> bool {
        self.dbs
            .get_mut(db)
            .is_some_and(|d| d.contains(key, now_ms))
    }

    /// The string value of `key`: `Ok(None)` if missing, `WrongType` if not a string.
    pub fn read_string(
        &mut self,
        db: usize,
        key: &[u8],
        now_ms: u64,
    ) -> Result<Option<Vec<u8>>, OpError> {
        let db = self.dbs.get_mut(db).ok_or(OpError::DbIndexOutOfRange)?;
        match db.lookup(key, now_ms, None) {
            None => Ok(None),
            Some(e) => e
                .string_value()
                .map(|v| Some(v.to_vec()))
                .ok_or(OpError::WrongType),
        }
    }
}

/// FT indexes (see `crate::search`): the shard's side of the registry.
impl Shard {
    /// The FT index registry.
    pub fn search(&self) -> &crate::search::Registry {
        &self.search
    }

    /// This shard's part of an FT.SEARCH.
    pub fn search_part(
        &self,
        plan: &crate::search::query::SearchPlan,
        now_ms: u64,
    ) -> Result<crate::search::query::SearchPart, String> {
        let db = &self.dbs[crate::search::INDEXED_DB];
        crate::search::query::execute(&self.search, db, plan, now_ms)
    }

    /// Un-indexes keys of the indexed database that expiry deleted since the last call.
    fn search_drain_expired(&mut self) {
        for key in self.dbs[crate::search::INDEXED_DB].take_index_log() {
            self.search.remove_key(&key);
        }
    }

    /// After a write op: re-sync the keys it named (or clear/rebuild for keyless writes).
    #[cold]
    fn search_after_write(&mut self, ctx: &ExecCtx, op: &Op) {
        self.search_drain_expired();
        let db0 = &self.dbs[crate::search::INDEXED_DB];
        crate::search::after_write(&mut self.search, db0, ctx, op);
    }

    /// Executes an FT op on this shard's registry.
    fn search_execute(&mut self, ctx: &ExecCtx, op: &crate::ir::ops::SearchOp) -> Reply {
        if let Some(reply) = crate::search::dict::execute(&mut self.search, op) {
            return reply;
        }
        if let crate::ir::ops::SearchOp::Aggregate(plan) = op {
            // Only reached outside the server's FT path: the loaded rows, RESP2 shape.
            let db = &self.dbs[crate::search::INDEXED_DB];
            let part = crate::search::aggregate::execute(&self.search, db, plan, ctx.now_ms);
            return crate::search::aggregate::part_reply(part);
        }
        if let crate::ir::ops::SearchOp::SpellCheck(plan) = op {
            let part = crate::search::spellcheck::execute(&self.search, plan);
            return crate::search::spellcheck::merge(plan, vec![part], false);
        }
        if let crate::ir::ops::SearchOp::Search(plan) = op {
            // Only reached outside the server's FT path (which knows the protocol): RESP2 shape.
            let part = self.search_part(plan, ctx.now_ms);
            return crate::search::query::merge(plan, vec![part], false);
        }
        if !op.is_write() {
            let part = crate::search::read(&self.search, op);
            return crate::search::merge_read(op, vec![part]);
        }
        let db = crate::search::INDEXED_DB;
        let reply =
            match crate::search::execute_write(&mut self.search, &self.dbs[db], op, ctx.now_ms) {
                Err(e) => Reply::Err(OpError::Other(e)),
                Ok(delete) => {
                    for key in delete {
                        if self.dbs[db].remove(&key, ctx.now_ms).is_some() {
                            if !self.interest.is_idle() {
                                self.interest.touch(db, &key);
                            }
                            self.notify(db, crate::notify::class::GENERIC, "del", &key);
                        }
                    }
                    Reply::Ok
                }
            };
        self.sync_index_log();
        reply
    }

    /// The index log of the indexed database is on exactly while some index exists.
    fn sync_index_log(&mut self) {
        let on = !self.search.is_empty();
        self.dbs[crate::search::INDEXED_DB].set_index_log(on);
    }

    /// One step of every running background scan (the worker's tick).
    pub fn search_tick(&mut self, now_ms: u64) {
        if self.search.is_empty() || !self.search.scanning() {
            return;
        }
        let db0 = &self.dbs[crate::search::INDEXED_DB];
        self.search.tick(db0, crate::search::SCAN_BUDGET, now_ms);
    }

    /// Forgets every index's contents and rescans (after recovery loaded keys unhooked),
    /// except indexes restored from the snapshot's section 4 and kept in step since.
    pub fn search_rebuild(&mut self) {
        if !self.search.is_empty() {
            self.search
                .rebuild_unrestored(&self.dbs[crate::search::INDEXED_DB]);
        }
    }

    /// Loads one index's persisted contents (snapshot section 4, reassembled) and reconciles
    /// them with the recovered keyspace, unlogged. Call it once the snapshot's keyspace is
    /// loaded and before the WAL replays. An error leaves the index to the rebuild.
    pub fn load_search_contents(
        &mut self,
        name: &[u8],
        data: &[u8],
        now_ms: u64,
    ) -> Result<crate::search::contents::RestoreStats, String> {
        let db0 = &self.dbs[crate::search::INDEXED_DB];
        self.search.restore_contents(name, data, db0, now_ms)
    }

    /// Encodes the contents of every index with vector fields (section 4) for the running
    /// snapshot: call it right after [`Shard::snapshot_begin`] with the snapshot's LSN, before
    /// any other op, so they are the indexes at that instant. The parts go to the
    /// [`crate::shard::snapshot::SnapshotOut`] once the keyspace is written. Returns the
    /// bytes encoded (the pause this costs is SPEC §8.2's).
    pub fn snapshot_search_contents(&mut self) -> u64 {
        let runs = self.search.encode_contents();
        let bytes = runs.iter().map(|r| r.len()).sum();
        self.search_contents = crate::search::contents::ContentsStream::new(runs);
        bytes
    }

    /// Adds one definition and its aliases outside `apply`, unlogged (snapshot load).
    pub fn load_search_definition(
        &mut self,
        def: crate::search::IndexDef,
        aliases: Vec<bytes::Bytes>,
    ) -> Result<(), String> {
        let name = def.name.clone();
        // A definition the snapshot holds twice: the later one wins.
        let _ = self.search.drop_index(&name);
        self.search
            .create(def, &self.dbs[crate::search::INDEXED_DB])?;
        for a in aliases {
            self.search.alias_set(&a, &name, true)?;
        }
        self.sync_index_log();
        Ok(())
    }

    /// The snapshot's search section: every definition as `sink(name, encoded)` in name
    /// order (see `crate::search::encode_definition`). Call it right after
    /// [`Shard::snapshot_begin`], as [`Shard::snapshot_functions`].
    pub fn snapshot_search(&self, sink: &mut FunctionSink<'_>) -> std::io::Result<()> {
        for (def, aliases) in self.search.definitions() {
            let encoded = match self.search.get(&def.name) {
                Some(idx) => crate::search::encode_index(&def, &aliases, &idx.synonyms),
                None => crate::search::encode_definition(&def, &aliases),
            };
            sink(&def.name, &encoded)?;
        }
        Ok(())
    }

    /// The snapshot's FT.DICTADD dictionaries as `sink(name, encoded terms)` (section 6,
    /// database 1; `crate::search::dict`).
    pub fn snapshot_search_dicts(&self, sink: &mut FunctionSink<'_>) -> std::io::Result<()> {
        for (name, terms) in self.search.dicts.iter() {
            sink(name, &crate::search::dict::encode_dict(terms))?;
        }
        Ok(())
    }

    /// Loads one dictionary outside `apply`, unlogged (snapshot load).
    pub fn load_search_dict(&mut self, name: bytes::Bytes, terms: Vec<bytes::Bytes>) {
        self.search.dicts.load(name, terms);
    }

    /// Sets an index's synonym groups outside `apply`, unlogged (snapshot load).
    pub fn load_search_synonyms(
        &mut self,
        index: &[u8],
        synonyms: crate::search::synonyms::Synonyms,
    ) {
        if let Some(idx) = self.search.get_mut(index) {
            idx.synonyms = synonyms;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testutil::*;
    use crate::ir::{ExpireCond, ExpireSpec};

    #[test]
    fn primitives_move_entries_between_shards() {
        let mut a = Shard::new(0, ShardConfig::default());
        let mut b = Shard::new(1, ShardConfig::default());
        let ctx = ExecCtx {
            db: 0,
            now_ms: NOW,
            no_touch: false,
        };
        a.apply(
            &ctx,
            &Op::Set {
                key: bb("k"),
                value: bb("v"),
                cond: crate::ir::SetCond::Always,
                expire: ExpireSpec::In(100),
                get: false,
            },
        );
        assert!(a.exists(0, b"k", NOW));
        assert_eq!(a.read_string(0, b"k", NOW), Ok(Some(b"v".to_vec())));
        assert_eq!(a.read_string(0, b"x", NOW), Ok(None));
        let copy = a.clone_entry(0, b"k", NOW).expect("present");
        let e = a.take_entry(0, b"k", NOW).expect("present");
        assert_eq!(copy, e);
        b.put_entry(0, e.with_key(b"k2"), NOW).expect("db 0");
        assert!(!a.exists(0, b"k", NOW));
        assert_eq!(b.keyspace_info(), vec![(0, 1, 1)]);
        assert_eq!(
            b.put_entry(99, Entry::new_string(b"x", b"y", None, 0), NOW),
            Err(OpError::DbIndexOutOfRange)
        );
        assert!(b.take_entry(0, b"k2", NOW + 100).is_none());
        assert_eq!(b.stats().expired_keys, 1);
        assert!(b.used_memory_estimate() > 0);
    }

    #[test]
    fn bad_db_index_is_an_error() {
        let mut s = Shard::new(0, ShardConfig::default());
        let ctx = ExecCtx {
            db: DATABASES,
            now_ms: NOW,
            no_touch: false,
        };
        assert_eq!(
            s.apply(&ctx, &Op::DbSize),
            Reply::Err(OpError::DbIndexOutOfRange)
        );
    }

    #[test]
    fn active_expire_cycle_reclaims() {
        let mut t = T::new();
        for i in 0..20 {
            let k = format!("k{i}");
            t.set(&k, "v");
            t.run(Op::Expire {
                cmd: "expire",
                key: b(&k),
                at: ExpireSpec::In(10),
                cond: ExpireCond::Always,
            });
        }
        t.set("keep", "v");
        let mut removed = 0;
        for _ in 0..50 {
            removed += t.shard.active_expire_cycle(NOW + 10);
        }
        assert_eq!(removed, 20);
        assert_eq!(t.shard.keyspace_info(), vec![(0, 1, 0)]);
        assert_eq!(t.shard.stats().expired_keys, 20);
    }
}
