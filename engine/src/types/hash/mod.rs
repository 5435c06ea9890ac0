//! The hash value: field → value pairs with optional per-field expiry times (Redis 7.4+ /
//! Valkey 9 hash-field expiration).
//!
//! Two encodings, as in Redis:
//! - `listpack` ([`packed::Packed`]): one contiguous byte buffer of length-prefixed pairs, no
//!   per-field allocation. Used while the hash has at most `hash-max-listpack-entries` fields
//!   and every field and value is at most `hash-max-listpack-value` bytes.
//! - `hashtable` ([`table::Table`]): a dense vector of pairs (one allocation per pair) indexed by
//!   a hashbrown table of positions; dense positions give O(1) random picks (HRANDFIELD) and a
//!   positional HSCAN cursor.
//!
//! A hash converts to `hashtable` as soon as it exceeds a threshold and never back (as Redis).
//! Moon reports `listpack` for a small hash with field TTLs (Redis 7.4 says `listpackex`).
//!
//! Expiry: an expire-at of [`NO_TTL`] (0) means "no TTL"; any stored time is > 0 because a
//! time in the past deletes the field instead of storing it. Each encoding keeps a lower bound
//! of its earliest field expiry, so [`HashValue::needs_purge`] is O(1) and a hash without
//! field TTLs never pays for the feature. Callers purge expired fields
//! ([`HashValue::purge_expired`]) before reading, which makes expired fields invisible; reads
//! on the value itself do not look at the clock.
//!
//! Invariants: no field appears twice; `mem_bytes` is O(1) and exact for what the value owns
//! (so `Db::update` accounting stays cheap); the packed buffer is always well formed (built
//! only here; decoding is bounds-checked anyway and never panics).

mod packed;
mod table;
#[cfg(test)]
mod tests;

use packed::{Packed, PackedRef};
use table::Table;

use crate::keyspace::{Db, LargeValue};

/// The stored expire-at of a field without TTL.
pub const NO_TTL: u64 = 0;

/// The conversion thresholds (`hash-max-listpack-entries`, `hash-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Most fields a listpack hash may hold.
    pub max_entries: usize,
    /// Longest field or value a listpack hash may hold.
    pub max_value: usize,
}

/// A stored hash. See the module docs.
#[derive(Clone)]
pub struct HashValue {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Packed(Packed),
    Table(Box<Table>),
}

/// One field as seen through [`HashValue::iter`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef<'a> {
    /// The field name.
    pub field: &'a [u8],
    /// Its value.
    pub value: &'a [u8],
    /// Absolute expiry in Unix ms, or [`NO_TTL`].
    pub expire_at: u64,
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::new()
    }
}

impl HashValue {
    /// An empty listpack hash.
    pub fn new() -> HashValue {
        HashValue {
            repr: Repr::Packed(Packed::new()),
        }
    }

    /// OBJECT ENCODING's answer (Redis's names).
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Heap bytes owned by the value. O(1).
    pub fn mem_bytes(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.mem_bytes(),
            Repr::Table(t) => std::mem::size_of::<Table>() + t.mem_bytes(),
        }
    }

    /// A borrowed view, which carries every read.
    #[inline]
    pub fn as_ref(&self) -> HashRef<'_> {
        match &self.repr {
            Repr::Packed(p) => HashRef(RefRepr::Packed(p.as_ref())),
            Repr::Table(t) => HashRef(RefRepr::Table(t)),
        }
    }

    /// Adopts the packed bytes of a compact key blob (see `keyspace::entry`).
    pub(crate) fn from_packed_bytes(buf: Vec<u8>) -> HashValue {
        HashValue {
            repr: Repr::Packed(Packed::from_bytes(buf)),
        }
    }

    /// The packed buffer of a `listpack` hash, to be stored inside a compact key blob.
    pub(crate) fn packed_bytes(&self) -> Option<&[u8]> {
        match &self.repr {
            Repr::Packed(p) => Some(p.as_ref().bytes()),
            Repr::Table(_) => None,
        }
    }

    /// Number of stored fields (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.as_ref().len()
    }

    /// True if no field is stored.
    pub fn is_empty(&self) -> bool {
        self.as_ref().is_empty()
    }

    /// True if some field has a TTL.
    pub fn has_field_ttls(&self) -> bool {
        self.as_ref().has_field_ttls()
    }

    /// True if some field may be expired at `now_ms` (see [`HashRef::needs_purge`]).
    #[inline]
    pub fn needs_purge(&self, now_ms: u64) -> bool {
        self.as_ref().needs_purge(now_ms)
    }

    /// Removes every field expired at `now_ms` (expire-at ≤ now); returns how many.
    pub fn purge_expired(&mut self, now_ms: u64) -> usize {
        self.expire_fields(now_ms, usize::MAX)
    }

    /// Removes at most `quota` fields expired at `now_ms`; returns how many it removed. This
    /// is the bounded step an active-expiry cycle calls on hashes with field TTLs.
    pub fn expire_fields(&mut self, now_ms: u64, quota: usize) -> usize {
        if !self.needs_purge(now_ms) || quota == 0 {
            return 0;
        }
        match &mut self.repr {
            Repr::Packed(p) => p.purge(now_ms, quota),
            Repr::Table(t) => t.purge(now_ms, quota),
        }
    }

    /// The value and expire-at of `field`, ignoring the clock.
    pub fn get(&self, field: &[u8]) -> Option<FieldRef<'_>> {
        self.as_ref().get(field)
    }

    /// True if `field` is stored.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.as_ref().contains(field)
    }

    /// Prefetch stage `stage` (0, 1, 2) of a lookup of `field`, for batches (see
    /// `Table::prefetch`); a listpack is one allocation, already in cache after the key's.
    pub fn prefetch(&self, field: &[u8], stage: u8) {
        if let Repr::Table(t) = &self.repr {
            t.prefetch(field, stage);
        }
    }

    /// Makes room for `extra_pairs` new pairs of `extra_bytes` field+value bytes in total, so a
    /// multi-field HSET reallocates the listpack once.
    pub fn reserve(&mut self, extra_pairs: usize, extra_bytes: usize) {
        match &mut self.repr {
            Repr::Packed(p) => p.reserve(extra_pairs, extra_bytes),
            Repr::Table(t) => t.reserve(extra_pairs),
        }
    }

    /// Releases spare capacity left by [`HashValue::reserve`].
    pub fn shrink(&mut self) {
        if let Repr::Packed(p) = &mut self.repr {
            p.shrink();
        }
    }

    /// Converts to `hashtable` now if `field`/`value` lengths exceed the listpack limit (Redis's
    /// `hashTypeTryConversion`, run before a write).
    pub fn convert_for(&mut self, lens: impl IntoIterator<Item = usize>, limits: HashLimits) {
        if matches!(self.repr, Repr::Packed(_)) && lens.into_iter().any(|l| l > limits.max_value) {
            self.convert_to_table();
        }
    }

    /// Sets `field` to `value`. Keeps the field's TTL when `keep_ttl`, else clears it (HSET
    /// discards a field's TTL, HINCRBY keeps it). Returns true if the field is new. Converts to
    /// `hashtable` when a limit is exceeded.
    pub fn set(&mut self, field: &[u8], value: &[u8], keep_ttl: bool, limits: HashLimits) -> bool {
        if let Repr::Packed(_) = self.repr
            && (field.len() > limits.max_value || value.len() > limits.max_value)
        {
            self.convert_to_table();
        }
        match &mut self.repr {
            Repr::Packed(p) => {
                let (new, count) = p.set(field, value, keep_ttl);
                if count > limits.max_entries {
                    self.convert_to_table();
                }
                new
            }
            Repr::Table(t) => t.set(field, value, keep_ttl),
        }
    }

    /// Removes `field`; true if it was stored.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(p) => p.remove(field),
            Repr::Table(t) => t.remove(field),
        }
    }

    /// Sets (`at > 0`) or clears (`at == NO_TTL`) the expiry of `field`; false if the field is
    /// not stored.
    pub fn set_expire(&mut self, field: &[u8], at: u64) -> bool {
        match &mut self.repr {
            Repr::Packed(p) => p.set_expire(field, at),
            Repr::Table(t) => t.set_expire(field, at),
        }
    }

    /// Every stored field, in storage order.
    pub fn iter(&self) -> Iter<'_> {
        self.as_ref().iter()
    }

    /// The field at position `i` of the storage order (`i < len()`), for random picks.
    pub fn nth(&self, i: usize) -> Option<FieldRef<'_>> {
        self.as_ref().nth(i)
    }

    /// One HSCAN step (see [`HashRef::scan`]).
    pub fn scan(&self, cursor: u64, count: usize, f: impl FnMut(FieldRef<'_>)) -> u64 {
        self.as_ref().scan(cursor, count, f)
    }

    fn convert_to_table(&mut self) {
        if let Repr::Packed(p) = &self.repr {
            let mut t = Table::with_capacity(p.len());
            for r in p.iter() {
                t.insert_new(r.field, r.value, r.expire_at);
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }
}

/// A borrowed hash in either encoding: a [`HashValue`] or the packed tail of a compact key blob.
/// Every read of a hash goes through it.
#[derive(Clone, Copy)]
pub struct HashRef<'a>(RefRepr<'a>);

#[derive(Clone, Copy)]
enum RefRepr<'a> {
    Packed(PackedRef<'a>),
    Table(&'a Table),
}

impl<'a> HashRef<'a> {
    /// Views a packed buffer stored in a compact key blob.
    pub(crate) fn from_packed(buf: &'a [u8]) -> HashRef<'a> {
        HashRef(RefRepr::Packed(PackedRef::new(buf)))
    }

    /// OBJECT ENCODING's answer (Redis's names).
    pub fn encoding_name(self) -> &'static str {
        match self.0 {
            RefRepr::Packed(_) => "listpack",
            RefRepr::Table(_) => "hashtable",
        }
    }

    /// Number of stored fields (expired ones not yet purged included).
    pub fn len(self) -> usize {
        match self.0 {
            RefRepr::Packed(p) => p.len(),
            RefRepr::Table(t) => t.len(),
        }
    }

    /// True if no field is stored.
    pub fn is_empty(self) -> bool {
        match self.0 {
            RefRepr::Packed(p) => p.is_empty(),
            RefRepr::Table(t) => t.len() == 0,
        }
    }

    /// True if some field has a TTL.
    pub fn has_field_ttls(self) -> bool {
        match self.0 {
            RefRepr::Packed(p) => p.has_ttl(),
            RefRepr::Table(t) => t.ttl_count() > 0,
        }
    }

    /// True if some field may be expired at `now_ms` (a cheap check against a lower bound of
    /// the earliest expiry; a `true` may find nothing to purge).
    #[inline]
    pub fn needs_purge(self, now_ms: u64) -> bool {
        match self.0 {
            RefRepr::Packed(p) => p.has_ttl() && p.min_expire() <= now_ms,
            RefRepr::Table(t) => t.ttl_count() > 0 && t.min_expire() <= now_ms,
        }
    }

    /// The value and expire-at of `field`, ignoring the clock.
    pub fn get(self, field: &[u8]) -> Option<FieldRef<'a>> {
        match self.0 {
            RefRepr::Packed(p) => p.get(field),
            RefRepr::Table(t) => t.get(field),
        }
    }

    /// True if `field` is stored.
    pub fn contains(self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Every stored field, in storage order.
    pub fn iter(self) -> Iter<'a> {
        match self.0 {
            RefRepr::Packed(p) => Iter::Packed(p.iter()),
            RefRepr::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// The field at position `i` of the storage order (`i < len()`), for random picks.
    pub fn nth(self, i: usize) -> Option<FieldRef<'a>> {
        match self.0 {
            RefRepr::Packed(p) => p.iter().nth(i),
            RefRepr::Table(t) => t.at(i),
        }
    }

    /// One HSCAN step from `cursor`, visiting about `count` fields; returns the next cursor
    /// (0 = done). A listpack is returned whole in one step (cursor 0), as in Redis. A
    /// hashtable is walked from its end towards position 0; because a removal moves the last
    /// pair into the hole, every pair present for the whole scan is returned at least once.
    pub fn scan(self, cursor: u64, count: usize, mut f: impl FnMut(FieldRef<'a>)) -> u64 {
        match self.0 {
            RefRepr::Packed(p) => {
                p.iter().for_each(f);
                0
            }
            RefRepr::Table(t) => {
                let len = t.len();
                let mut pos = if cursor == 0 {
                    len
                } else {
                    usize::try_from(cursor).unwrap_or(usize::MAX).min(len)
                };
                let stop = pos.saturating_sub(count.max(1));
                while pos > stop {
                    pos -= 1;
                    if let Some(r) = t.at(pos) {
                        f(r);
                    }
                }
                pos as u64
            }
        }
    }
}

/// Equal when both hold the same fields with the same values and TTLs, in the same encoding
/// (storage order does not matter).
impl PartialEq for HashRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.encoding_name() == other.encoding_name()
            && self.len() == other.len()
            && self.iter().all(|r| other.get(r.field) == Some(r))
    }
}

impl Eq for HashRef<'_> {}

impl std::fmt::Debug for HashRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for r in self.iter() {
            m.entry(
                &String::from_utf8_lossy(r.field),
                &(String::from_utf8_lossy(r.value), r.expire_at),
            );
        }
        m.finish()
    }
}

/// Iterator over the stored fields of a [`HashValue`].
pub enum Iter<'a> {
    /// Over a listpack.
    Packed(packed::PackedIter<'a>),
    /// Over a hashtable.
    Table(table::TableIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = FieldRef<'a>;

    fn next(&mut self) -> Option<FieldRef<'a>> {
        match self {
            Iter::Packed(i) => i.next(),
            Iter::Table(i) => i.next(),
        }
    }
}

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_ref().fmt(f)
    }
}

/// Equal when both hold the same fields with the same values and TTLs, in the same encoding
/// (storage order does not matter).
impl PartialEq for HashValue {
    fn eq(&self, other: &Self) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl Eq for HashValue {}

/// Active expiry of hash fields: reclaims at most `quota` expired fields of the hash at `key`
/// (deleting the key if it empties) and returns how many. A no-op for keys that are not hashes
/// or have no due field. This is the bounded step the shard's expiry cycle calls for hashes
/// with field TTLs (see [`HashValue::has_field_ttls`]); it records no keyspace events.
pub fn active_expire_fields(db: &mut Db, key: &[u8], now_ms: u64, quota: usize) -> usize {
    let r = db.update(key, now_ms, |e| match e.value_mut() {
        Some(LargeValue::Hash(h)) => (h.expire_fields(now_ms, quota), h.is_empty()),
        _ => (0, false),
    });
    let Some((removed, empty)) = r else { return 0 };
    if empty {
        db.remove(key, now_ms);
    }
    removed
}

/// Appends `n` as LEB128.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Bytes [`put_varint`] writes for `n`.
pub(crate) fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// Decodes a LEB128 number at `at`: (value, bytes used), or `None` if malformed or cut short.
#[inline]
pub(crate) fn get_varint(buf: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *buf.get(at)?;
    if first < 0x80 {
        return Some((usize::from(first), 1));
    }
    let mut n = 0usize;
    let mut shift = 0u32;
    for (i, &b) in buf.get(at..)?.iter().take(10).enumerate() {
        n |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some((n, i + 1));
        }
        shift += 7;
    }
    None
}
