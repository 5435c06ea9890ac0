//! One logical database of one shard: a DashTable of entries plus the counters INFO needs.
//!
//! Invariants, kept on every mutation (all of which go through this type):
//! - `expires` is exactly the number of entries with a TTL;
//! - `entry_bytes` is exactly the sum of `Entry::mem_bytes` over the table;
//! - lookups are lazy-expiring: an entry whose expire-at is ≤ `now_ms` is deleted when touched
//!   and reported as absent, and counted in `expired_keys`.
//!
//! Mutating an entry in place goes through [`Db::update`], which re-reads the TTL and size after
//! the closure so the counters cannot drift.
//!
//! Snapshots: the table preserves a segment before any change while a snapshot still needs it
//! (see the DashTable's `cow` module); read lookups stamp the access clock through the
//! untracked path, so reads never copy.

use super::dashtable::DashTable;
use super::entry::Entry;
use super::lfu::{self, LfuParams};

/// A keyspace.
#[derive(Default)]
pub struct Db {
    table: DashTable<Entry>,
    expires: usize,
    entry_bytes: usize,
    expire_cursor: u64,
    expired_keys: u64,
    /// `Some` under an LFU maxmemory policy: accesses update the LFU counter, not the clock.
    lfu: Option<LfuParams>,
    rng: u64,
    /// Keys deleted by expiry since the last [`Db::take_expired_log`], kept only while the
    /// `expired` keyspace event is enabled.
    expired_log: Option<Vec<Box<[u8]>>>,
    /// Cursor of the sweep for hashes with due field TTLs.
    field_cursor: u64,
    /// Keys deleted by expiry since the last [`Db::take_index_log`], kept only while FT
    /// indexes cover this database (they un-index those keys).
    index_log: Option<Vec<Box<[u8]>>>,
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// The table's hash of `key` (for [`Db::prefetch`]).
    pub fn hash_key(&self, key: &[u8]) -> u64 {
        self.table.hash_key(key)
    }

    /// Prefetch stage `stage` for a key about to be looked up (see `DashTable::prefetch`).
    pub fn prefetch(&self, hash: u64, stage: u8) {
        self.table.prefetch(hash, stage);
    }

    /// Prefetch stage `stage` (0..3) for a lookup of `field` in the hash, or member in the
    /// set, at `key` (whose [`Db::hash_key`] is `hash`), after the key's own stages: see
    /// `HashValue::prefetch` and `SetValue::prefetch`. Does nothing unless the key holds a
    /// `hashtable` hash or set.
    pub fn prefetch_field(&self, hash: u64, key: &[u8], field: &[u8], stage: u8) {
        match self.table.get_hashed(hash, key).and_then(Entry::value) {
            Some(super::LargeValue::Hash(h)) => h.prefetch(field, stage),
            Some(super::LargeValue::Set(s)) => s.prefetch(field, stage),
            _ => {}
        }
    }

    /// Number of keys (including expired ones not yet reclaimed, as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True if there are no keys.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Number of keys with a TTL.
    pub fn expires(&self) -> usize {
        self.expires
    }

    /// Keys deleted because their TTL passed (lazily or actively), since creation.
    pub fn expired_keys(&self) -> u64 {
        self.expired_keys
    }

    /// Zero the expired-keys counter (CONFIG RESETSTAT).
    pub fn reset_expired_keys(&mut self) {
        self.expired_keys = 0;
    }

    /// Heap bytes of the entries plus the table's own memory.
    pub fn mem_bytes(&self) -> usize {
        self.entry_bytes + self.table.heap_bytes()
    }

    fn account_add(&mut self, e: &Entry) {
        self.expires += usize::from(e.expire_at_ms().is_some());
        self.entry_bytes += e.mem_bytes();
    }

    fn account_remove(&mut self, e: &Entry) {
        self.expires -= usize::from(e.expire_at_ms().is_some());
        self.entry_bytes -= e.mem_bytes();
    }

    /// Deletes `key` (hashed as `hash`) if its TTL is due; true if it did.
    fn expire_if_due(&mut self, hash: u64, key: &[u8], now_ms: u64) -> bool {
        if self.expires == 0 {
            return false;
        }
        if !self
            .table
            .get_hashed(hash, key)
            .is_some_and(|e| e.is_expired(now_ms))
        {
            return false;
        }
        if let Some(old) = self.table.remove_hashed(hash, key) {
            self.account_remove(&old);
            self.expired_keys += 1;
            if let Some(log) = self.expired_log.as_mut() {
                log.push(key.into());
            }
            if let Some(log) = self.index_log.as_mut() {
                log.push(key.into());
            }
        }
        true
    }

    /// The live entry for `key`, touching its access clock when `touch` is given.
    pub fn lookup(&mut self, key: &[u8], now_ms: u64, touch: Option<u32>) -> Option<&Entry> {
        let hash = self.table.hash_key(key);
        if self.expire_if_due(hash, key, now_ms) {
            return None;
        }
        match touch {
            Some(now_secs) => {
                let lfu = self.lfu;
                let rand = if lfu.is_some() { self.next_rand() } else { 0 };
                // The access clock is not part of a snapshot image: no copy-on-write.
                let e = self.table.get_mut_hashed_untracked(hash, key)?;
                match lfu {
                    None => e.touch(now_secs),
                    Some(p) => e.touch(lfu::touch(e.access_secs(), now_secs, p, rand)),
                }
                Some(e)
            }
            None => self.table.get_hashed(hash, key),
        }
    }

    /// The live entry for `key` without reclaiming it if expired (for `&self` callers).
    pub fn peek(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.table.get(key).filter(|e| !e.is_expired(now_ms))
    }

    /// True if `key` is live.
    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.lookup(key, now_ms, None).is_some()
    }

    /// Runs `f` on the live entry for `key`, keeping the counters exact. The closure must not
    /// change the entry's key.
    pub fn update<R>(
        &mut self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        let hash = self.table.hash_key(key);
        if self.expire_if_due(hash, key, now_ms) {
            return None;
        }
        let e = self.table.get_mut_hashed(hash, key)?;
        let (had_ttl, before) = (e.expire_at_ms().is_some(), e.mem_bytes());
        let r = f(e);
        e.settle();
        debug_assert_eq!(e.key(), key, "Db::update must not rekey an entry");
        let (has_ttl, after) = (e.expire_at_ms().is_some(), e.mem_bytes());
        self.expires = self.expires + usize::from(has_ttl) - usize::from(had_ttl);
        self.entry_bytes = self.entry_bytes + after - before;
        Some(r)
    }

    /// Inserts or replaces by key; returns the replaced entry (which may be expired: callers
    /// that care look the key up first).
    pub fn insert(&mut self, mut entry: Entry) -> Option<Entry> {
        if self.lfu.is_some() && !lfu::is_lfu(entry.access_secs()) {
            // A new value: its access field holds the creation time in seconds.
            entry.touch(lfu::init(entry.access_secs()));
        }
        debug_assert!(
            !entry.key().is_empty() || entry.mem_bytes() > 0,
            "the empty slot is not a key"
        );
        self.account_add(&entry);
        let old = self.table.insert(entry);
        if let Some(old) = &old {
            self.account_remove(old);
        }
        old
    }

    /// Removes the live entry for `key`.
    pub fn remove(&mut self, key: &[u8], now_ms: u64) -> Option<Entry> {
        let hash = self.table.hash_key(key);
        if self.expire_if_due(hash, key, now_ms) {
            return None;
        }
        let old = self.table.remove_hashed(hash, key)?;
        self.account_remove(&old);
        Some(old)
    }

    /// Deletes every key (FLUSHDB). The expired-keys counter is history and stays.
    pub fn clear(&mut self) {
        self.table.clear();
        self.expires = 0;
        self.entry_bytes = 0;
        self.expire_cursor = 0;
    }

    /// One step of a table scan from `cursor`; returns the next cursor (0 = done).
    pub fn scan(&self, cursor: u64, count: usize, f: impl FnMut(&Entry)) -> u64 {
        self.table.scan(cursor, count, f)
    }

    /// Switches access tracking to LFU (`Some`) or the LRU clock (`None`).
    pub fn set_lfu(&mut self, params: Option<LfuParams>) {
        self.lfu = params;
    }

    /// Turns the log of expired keys (for `expired` keyspace events) on or off.
    pub fn set_expired_log(&mut self, on: bool) {
        if on != self.expired_log.is_some() {
            self.expired_log = on.then(Vec::new);
        }
    }

    /// Keys deleted by expiry since the last call (empty while the log is off).
    pub fn take_expired_log(&mut self) -> Vec<Box<[u8]>> {
        self.expired_log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Turns the log of expired keys for FT indexes on or off.
    pub fn set_index_log(&mut self, on: bool) {
        if on != self.index_log.is_some() {
            self.index_log = on.then(Vec::new);
        }
    }

    /// Keys deleted by expiry since the last call (empty while the index log is off).
    pub fn take_index_log(&mut self) -> Vec<Box<[u8]>> {
        match self.index_log.as_mut() {
            Some(l) if !l.is_empty() => std::mem::take(l),
            _ => Vec::new(),
        }
    }

    /// True if expired keys wait in the log.
    pub fn has_expired_log(&self) -> bool {
        self.expired_log.as_ref().is_some_and(|l| !l.is_empty())
    }

    /// The LFU parameters when LFU tracking is on.
    pub fn lfu(&self) -> Option<LfuParams> {
        self.lfu
    }

    fn next_rand(&mut self) -> u64 {
        if self.rng == 0 {
            self.rng = 0x2545_F491_4F6C_DD1D;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Up to `n` random live entries' keys with their eviction data (access field, TTL),
    /// only entries with a TTL when `volatile`. `rand` supplies fresh random numbers.
    pub fn sample(
        &self,
        n: usize,
        volatile: bool,
        now_ms: u64,
        mut rand: impl FnMut() -> u64,
    ) -> Vec<(Vec<u8>, u32, Option<u64>)> {
        let mut out = Vec::with_capacity(n);
        if self.table.is_empty() || (volatile && self.expires == 0) {
            return out;
        }
        // Bounded tries: a volatile sample in a mostly persistent db may find fewer.
        for _ in 0..n * 8 {
            if out.len() >= n {
                break;
            }
            let Some(e) = self.table.random_item(rand()) else {
                break;
            };
            if e.is_expired(now_ms) || (volatile && e.expire_at_ms().is_none()) {
                continue;
            }
            out.push((e.key().to_vec(), e.access_secs(), e.expire_at_ms()));
        }
        out
    }

    /// Every entry, expired ones included.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter()
    }

    /// A random live key, reclaiming expired keys it lands on (as Redis's `dbRandomKey`).
    /// `rand` supplies fresh random numbers.
    pub fn random_key(&mut self, now_ms: u64, mut rand: impl FnMut() -> u64) -> Option<Vec<u8>> {
        while !self.table.is_empty() {
            let (key, expired) = {
                let e = self.table.random_item(rand())?;
                (e.key().to_vec(), e.is_expired(now_ms))
            };
            if !expired {
                return Some(key);
            }
            let hash = self.table.hash_key(&key);
            self.expire_if_due(hash, &key, now_ms);
        }
        None
    }

    /// Deletes the listed keys if they are expired at `now_ms`; returns how many were.
    pub fn reclaim_expired<K: AsRef<[u8]>>(&mut self, keys: &[K], now_ms: u64) -> usize {
        keys.iter()
            .filter(|k| {
                let hash = self.table.hash_key(k.as_ref());
                self.expire_if_due(hash, k.as_ref(), now_ms)
            })
            .count()
    }

    /// Keys of hashes with a field TTL due at `now_ms`, found by advancing a second remembered
    /// cursor over at least `max_visits` entries (the active expiry of hash fields).
    pub fn due_field_ttl_keys(&mut self, now_ms: u64, max_visits: usize) -> Vec<Box<[u8]>> {
        let mut out = Vec::new();
        if self.table.is_empty() {
            self.field_cursor = 0;
            return out;
        }
        self.field_cursor = self.table.scan(self.field_cursor, max_visits.max(1), |e| {
            if let Some(h) = e.hash()
                && h.needs_purge(now_ms)
            {
                out.push(e.key().into());
            }
        });
        out
    }

    /// Active expiry: scans onward from a remembered cursor and deletes due keys. Work per call
    /// is bounded by one DashTable scan step of at least `max_visits` entries (a step finishes
    /// the bucket it is in, so it may visit a bucket's worth more); the cursor wraps to 0 at the
    /// end of the table. Returns the number of keys deleted.
    pub fn active_expire(&mut self, now_ms: u64, max_visits: usize) -> usize {
        if self.expires == 0 {
            self.expire_cursor = 0;
            return 0;
        }
        let mut due: Vec<Box<[u8]>> = Vec::new();
        self.expire_cursor = self.table.scan(self.expire_cursor, max_visits.max(1), |e| {
            if e.is_expired(now_ms) {
                due.push(e.key().into());
            }
        });
        self.reclaim_expired(&due, now_ms)
    }
}

/// Snapshot plumbing for `Shard`'s snapshot code (the image lives in the table, labelled with
/// the database index it had at begin, so it follows the table through SWAPDB).
impl Db {
    /// Starts a point-in-time image of this database, labelled `image_db`.
    pub fn snapshot_begin(&mut self, image_db: usize, encode: fn(&Entry, &mut Vec<u8>) -> bool) {
        self.table
            .snapshot_begin(image_db, Entry::mem_bytes, encode);
    }

    /// Records of segments serialized by writes since the last call, or `Err(key)` for an
    /// entry that could not be encoded (see `DashTable::snapshot_take_out`).
    pub fn snapshot_take_out(&mut self) -> Result<Vec<u8>, Vec<u8>> {
        self.table.snapshot_take_out()
    }

    /// The running image's database label, `None` if no snapshot runs.
    pub fn snapshot_image_db(&self) -> Option<usize> {
        self.table.snapshot_tag()
    }

    /// Bytes held by segments preserved for the running snapshot.
    pub fn snapshot_cow_bytes(&self) -> usize {
        self.table.snapshot_cow_bytes()
    }

    /// Number of DashTable segments (how many steps a snapshot of this database takes).
    pub fn snapshot_segments(&self) -> usize {
        self.table.segments()
    }

    /// Drops the running snapshot.
    pub fn snapshot_abort(&mut self) {
        self.table.snapshot_abort();
    }

    /// Serializes the next segment of the image (see `DashTable::snapshot_step`): `Some(items)`
    /// after one segment, `None` if no snapshot runs.
    pub fn snapshot_step<E>(
        &mut self,
        f: impl FnMut(&Entry) -> Result<(), E>,
    ) -> Result<Option<usize>, E> {
        self.table.snapshot_step(f)
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("keys", &self.len())
            .field("expires", &self.expires)
            .field("entry_bytes", &self.entry_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::LargeValue;

    fn s(key: &str, val: &str, ttl: Option<u64>) -> Entry {
        Entry::new_string(key.as_bytes(), val.as_bytes(), ttl, 0)
    }

    #[test]
    fn counters_follow_inserts_updates_and_removes() {
        let mut db = Db::new();
        db.insert(s("a", "1", Some(100)));
        db.insert(s("b", "x", None));
        assert_eq!((db.len(), db.expires()), (2, 1));
        db.insert(s("a", "2", None));
        assert_eq!(db.expires(), 0);
        db.update(b"b", 0, |e| e.set_expire_at_ms(Some(50)));
        assert_eq!(db.expires(), 1);
        let total: usize = db.iter().map(Entry::mem_bytes).sum();
        assert_eq!(db.entry_bytes, total);
        db.remove(b"b", 0);
        assert_eq!(
            (db.len(), db.expires(), db.entry_bytes),
            (1, 0, db.iter().map(Entry::mem_bytes).sum())
        );
        db.clear();
        assert_eq!((db.len(), db.expires(), db.entry_bytes), (0, 0, 0));
    }

    #[test]
    fn lazy_expiry_deletes_on_access() {
        let mut db = Db::new();
        db.insert(s("a", "1", Some(100)));
        assert!(db.lookup(b"a", 99, None).is_some());
        assert!(db.lookup(b"a", 100, None).is_none());
        assert_eq!((db.len(), db.expires(), db.expired_keys()), (0, 0, 1));
    }

    #[test]
    fn active_expire_reclaims_due_keys() {
        let mut db = Db::new();
        for i in 0..50 {
            db.insert(s(
                &format!("k{i}"),
                "v",
                Some(if i % 2 == 0 { 10 } else { 1000 }),
            ));
        }
        db.insert(s("forever", "v", None));
        let mut removed = 0;
        for _ in 0..100 {
            removed += db.active_expire(20, 16);
        }
        assert_eq!(removed, 25);
        assert_eq!((db.len(), db.expires()), (26, 25));
    }

    /// Recomputes the counters from scratch.
    fn check(db: &Db) {
        let ttl = db.iter().filter(|e| e.expire_at_ms().is_some()).count();
        let bytes: usize = db.iter().map(Entry::mem_bytes).sum();
        assert_eq!((db.expires, db.entry_bytes), (ttl, bytes));
        // A listpack hash is compact at rest, a hashtable boxed.
        for e in db.iter().filter(|e| e.is_hash()) {
            assert_eq!(
                matches!(e, Entry::Compact(_)),
                e.encoding_name() == "listpack"
            );
        }
    }

    /// One HSET through `value_mut`, as the hash commands do (a listpack of at most 3 fields).
    fn hset(e: &mut Entry, field: u8) {
        let lim = crate::types::hash::HashLimits {
            max_entries: 3,
            max_value: 64,
        };
        if let Some(LargeValue::Hash(h)) = e.value_mut() {
            h.set(&[field], b"val", false, lim);
        }
    }

    proptest::proptest! {
        #[test]
        fn counters_stay_exact(ops in proptest::collection::vec((0u8..8, 0u8..8, 0u64..40), 0..200)) {
            let mut db = Db::new();
            let mut now = 0;
            for (kind, k, arg) in ops {
                let key = [b'k', k];
                match kind {
                    0 => { db.insert(Entry::new_string(&key, b"v", None, 0)); }
                    1 => { db.insert(Entry::new_string(&key, b"123", Some(now + arg + 1), 0)); }
                    2 => { db.remove(&key, now); }
                    3 => { db.update(&key, now, |e| e.set_expire_at_ms((arg % 2 == 0).then_some(now + arg + 1))); }
                    4 => { db.update(&key, now, |e| e.raw_string_mut().map(|v| v.extend_from_slice(b"xy"))); }
                    6 => {
                        let mut h = crate::types::HashValue::new();
                        h.set(b"f", b"v", false, crate::types::hash::HashLimits { max_entries: 3, max_value: 64 });
                        db.insert(Entry::new_value(&key, LargeValue::Hash(h), (arg % 2 == 0).then_some(now + arg + 1), 0));
                    }
                    7 => { db.update(&key, now, |e| hset(e, arg as u8)); }
                    _ => { now += arg; db.active_expire(now, 4); }
                }
                check(&db);
            }
        }
    }

    #[test]
    fn random_key_skips_expired() {
        let mut db = Db::new();
        db.insert(s("dead", "v", Some(5)));
        db.insert(s("live", "v", None));
        let mut n = 0u64;
        for _ in 0..10 {
            let k = db.random_key(10, || {
                n += 1;
                n
            });
            assert_eq!(k.as_deref(), Some(&b"live"[..]));
        }
        // Landing on the dead key reclaims it; with only dead keys left the answer is None.
        db.insert(s("live", "v", Some(8)));
        assert_eq!(db.random_key(10, || 7), None);
        assert_eq!((db.len(), db.expires()), (0, 0));
    }
}
