//! Execution of every [`Op`] against one shard's databases. `Shard::apply` builds an [`Exec`]
//! (the shard's state borrowed for one op, plus the injected time) and calls [`execute`].
//!
//! Invariants: `Exec::db` is a valid index into `Exec::dbs` (checked by `Shard::apply` before an
//! `Exec` is built); ops never read the clock, only `now_ms`; reads count keyspace hits/misses
//! and touch the access clock unless the client set CLIENT NO-TOUCH.

mod bitmap;
mod dbops;
pub mod dump;
mod expire;
mod geo;
mod hash;
mod hll;
mod keys;
pub mod lcs;
mod list;
mod memory;
pub mod numeric;
mod sets;
mod sort;
mod stream;
mod strings;
mod strmut;
mod suggest;
mod zset;

use crate::ir::{ExpireSpec, Op, OpError, Reply};
use crate::keyspace::Db;
use crate::keyspace::entry::{Entry, clock_secs};
use crate::notify::KeyEvent;
use crate::shard::{ShardConfig, ShardStats};

/// One op's view of the shard.
pub(crate) struct Exec<'a> {
    pub dbs: &'a mut [Db],
    pub db: usize,
    pub stats: &'a mut ShardStats,
    pub config: &'a ShardConfig,
    pub rng: &'a mut u64,
    pub now_ms: u64,
    pub now_secs: u32,
    pub no_touch: bool,
    /// Keyspace-notification classes enabled (`notify-keyspace-events`); 0 = off.
    pub notify_flags: u32,
    /// Where [`Exec::notify`] records events; drained by the server after each op.
    pub events: &'a mut Vec<KeyEvent>,
}

impl<'a> Exec<'a> {
    pub fn new(
        dbs: &'a mut [Db],
        db: usize,
        stats: &'a mut ShardStats,
        config: &'a ShardConfig,
        rng: &'a mut u64,
        events: &'a mut Vec<KeyEvent>,
        ctx: &crate::ir::ExecCtx,
    ) -> Exec<'a> {
        debug_assert!(db < dbs.len());
        Exec {
            dbs,
            db,
            stats,
            config,
            rng,
            now_ms: ctx.now_ms,
            now_secs: clock_secs(ctx.now_ms),
            no_touch: ctx.no_touch,
            notify_flags: config.notify_flags,
            events,
        }
    }

    /// Records keyspace event `event` of class `class` (a [`crate::notify::class`] bit) on
    /// `key` in the selected database. Call it after the modification happened, exactly
    /// where Redis calls `notifyKeyspaceEvent`.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        if self.notify_flags & class != 0 {
            self.events.push(KeyEvent {
                db: self.db,
                class,
                event,
                key: bytes::Bytes::copy_from_slice(key),
            });
        }
    }

    /// The selected database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.dbs[self.db]
    }

    /// The access-clock value to stamp on lookups, or `None` under CLIENT NO-TOUCH.
    pub fn touch_secs(&self) -> Option<u32> {
        (!self.no_touch).then_some(self.now_secs)
    }

    /// A read lookup: counts a hit or a miss and touches the key.
    pub fn read(&mut self, key: &[u8]) -> Option<&Entry> {
        let touch = self.touch_secs();
        self.read_with(key, touch)
    }

    /// A read lookup that counts a hit or miss but never touches (TTL, TYPE, EXISTS ...).
    pub fn read_notouch(&mut self, key: &[u8]) -> Option<&Entry> {
        self.read_with(key, None)
    }

    /// A read lookup with an explicit touch choice.
    pub fn read_with(&mut self, key: &[u8], touch: Option<u32>) -> Option<&Entry> {
        let found = self.dbs[self.db].lookup(key, self.now_ms, touch);
        if found.is_some() {
            self.stats.keyspace_hits += 1;
        } else {
            self.stats.keyspace_misses += 1;
        }
        found
    }

    /// A write lookup: touches the key, no hit/miss accounting.
    pub fn write_lookup(&mut self, key: &[u8]) -> Option<&Entry> {
        let touch = self.touch_secs();
        self.dbs[self.db].lookup(key, self.now_ms, touch)
    }

    /// Resolves an expire spec to an absolute time. `existing` is the key's current TTL (for
    /// KEEPTTL); `cmd` names the command in the overflow error.
    pub fn resolve_expire(
        &self,
        spec: ExpireSpec,
        existing: Option<u64>,
        cmd: &'static str,
    ) -> Result<Option<u64>, OpError> {
        match spec {
            ExpireSpec::Clear => Ok(None),
            ExpireSpec::Keep => Ok(existing),
            ExpireSpec::In(ms) => self
                .now_ms
                .checked_add(ms)
                .filter(|at| i64::try_from(*at).is_ok())
                .map(Some)
                .ok_or(OpError::InvalidExpireTime(cmd)),
            ExpireSpec::At(at) => Ok(Some(at)),
        }
    }
}

/// xorshift64* step on `state` (never zero).
pub(crate) fn next_rand(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Executes one op. `x.db` must be valid.
pub(crate) fn execute(x: &mut Exec<'_>, op: &Op) -> Reply {
    use Op::*;
    match op {
        Get { key } => strings::get(x, key),
        Set {
            key,
            value,
            cond,
            expire,
            get,
        } => strings::set(x, key, value, *cond, *expire, *get),
        SetNx { key, value } => strings::setnx(x, key, value),
        GetDel { key } => strings::getdel(x, key),
        GetEx { key, spec } => strings::getex(x, key, *spec),
        MGet { keys } => strings::mget(x, keys),
        MSet { pairs } => strings::mset(x, pairs),
        MSetNx { pairs } => strings::msetnx(x, pairs),
        Append { key, value } => strmut::append(x, key, value),
        StrLen { key } => strmut::strlen(x, key),
        GetRange { key, start, end } => strmut::getrange(x, key, *start, *end),
        SetRange { key, offset, value } => strmut::setrange(x, key, *offset, value),
        IncrBy { key, delta } => numeric::incr_by(x, key, *delta),
        IncrByFloat { key, delta } => numeric::incr_by_float(x, key, *delta),
        Lcs { key_a, key_b, mode } => lcs::lcs_keys(x, key_a, key_b, *mode),
        Del { keys } => keys::del(x, keys),
        Exists { keys } => keys::exists(x, keys),
        Touch { keys } => keys::touch(x, keys),
        Type { key } => keys::type_of(x, key),
        Rename { src, dst, nx } => keys::rename(x, src, dst, *nx),
        Copy {
            src,
            dst,
            dst_db,
            replace,
        } => keys::copy(x, src, dst, *dst_db, *replace),
        Move { key, db } => keys::move_key(x, key, *db),
        ObjectEncoding { key } => keys::object_encoding(x, key),
        ObjectRefcount { key } => keys::object_refcount(x, key),
        ObjectIdletime { key } => keys::object_idletime(x, key),
        ObjectFreq { key } => keys::object_freq(x, key),
        MemoryUsage { key } => memory::usage(x, key),
        Expire { key, at, cond, cmd } => expire::expire(x, key, *at, *cond, cmd),
        Ttl { key, unit } => expire::ttl(x, key, *unit),
        ExpireTime { key, unit } => expire::expire_time(x, key, *unit),
        Persist { key } => expire::persist(x, key),
        Keys { pattern } => dbops::keys(x, pattern),
        Scan {
            cursor,
            pattern,
            count,
            type_filter,
        } => dbops::scan(x, *cursor, pattern.as_deref(), *count, *type_filter),
        RandomKey => dbops::random_key(x),
        DbSize => Reply::Int(x.db().len() as i64),
        FlushDb => {
            x.db().clear();
            Reply::Ok
        }
        FlushAll => {
            x.dbs.iter_mut().for_each(Db::clear);
            Reply::Ok
        }
        SwapDb { a, b } => dbops::swap_db(x, *a, *b),
        Lists(op) => list::execute(x, op),
        Hashes(op) => hash::execute(x, op),
        Sets(op) => sets::execute(x, op),
        ZSets(op) => zset::execute(x, op),
        Streams(op) => stream::execute(x, op),
        Bitmaps(op) => bitmap::execute(x, op),
        Hll(op) => hll::execute(x, op),
        Geo(op) => geo::execute(x, op),
        Dump(op) => dump::execute(x, op),
        Sort(op) => sort::execute(x, op),
        // The library catalog is the shard's, not a database's: `Shard::execute` runs these.
        Functions(_) => OpError::Other("ERR FUNCTION ops run on the shard's catalog".into()).into(),
        Search(_) => OpError::Other("ERR FT ops run on the shard's index registry".into()).into(),
        Graph(_) => OpError::Other("ERR GRAPH ops run on the shard".into()).into(),
        Suggest(op) => suggest::execute(x, op),
    }
}

/// Prepares a blocking op for parking (see [`stream::prepare_block`]); other ops are unchanged.
pub(crate) fn prepare_block(x: &mut Exec<'_>, op: &mut Op) {
    if let Op::Streams(op) = op {
        stream::prepare_block(x, op);
    }
}

#[cfg(test)]
pub(crate) mod testutil;
