//! One key and its value, as stored in a DashTable slot. Owns the compact byte layout of small
//! strings and the boxed form of everything else.
//!
//! `Entry` is 16 bytes (asserted below) so a DashTable slot stays small:
//! - `Compact(Box<[u8]>)`: one heap allocation holding the whole key/value pair:
//!
//!   | bytes      | field                                                               |
//!   |------------|---------------------------------------------------------------------|
//!   | 1          | flags: bits 0-1 encoding (`0` EMBSTR, `1` INT, `2` HASH), bit 2     |
//!   |            | `HAS_TTL`                                                           |
//!   | 4          | last-access clock, u32 LE, Unix seconds (OBJECT IDLETIME)           |
//!   | 8 (opt.)   | expire-at, u64 LE, Unix ms; present only when `HAS_TTL`             |
//!   | 1-5        | key length, LEB128                                                  |
//!   | key length | key bytes                                                           |
//!   | rest       | value: INT = 8 bytes i64 LE; EMBSTR = the rest of the blob; HASH =  |
//!   |            | the rest of the blob is a `listpack` hash's packed buffer           |
//!
//!   A 16-byte key with a 32-byte value and no TTL takes 5 + 1 + 16 + 32 = 54 bytes.
//!   A `listpack` hash lives here too, whenever it is at rest (see `entry/hash.rs`): key,
//!   metadata and fields in one allocation, as Redis's listpack sits in one `robj`.
//!   The empty blob is the `Default` entry (the DashTable's empty slot): it never allocates and
//!   is never visible as a key.
//! - `Large(Box<LargeEntry>)`: values mutated in place (APPEND/SETRANGE make a growable "raw"
//!   string, as in Redis) and, later, the other Redis types, which add `LargeValue` variants.
//!
//! Invariants: a compact blob is always well formed (built only by this module); a `listpack`
//! hash is compact whenever no `value_mut` borrow is live (`Entry::new_value` and `Db::update`
//! settle it), so equal hashes have equal entries; a string whose
//! bytes are a canonical i64 (Redis's `string2ll` rule) is stored as INT unless the caller asks
//! for EMBSTR explicitly (INCRBYFLOAT results, as Redis does).

use super::dashtable::Keyed;
use crate::types::{HashValue, ListValue, SetValue, StreamValue, ZSetValue};
use compact::{
    CLOCK_AT, ENC_INT, ENC_MASK, HAS_TTL, TTL_AT, Val, build_compact, compact_val, layout,
    read_u32, read_u64, self_rebuild,
};

/// Longest EMBSTR Redis reports as "embstr"; longer ones are "raw" (OBJECT ENCODING).
const EMBSTR_MAX: usize = 44;
/// Integers below this share one object in Redis (OBJECT REFCOUNT answers `i32::MAX`).
const SHARED_INTEGERS: i64 = 10_000;
/// `LargeEntry::expire_at_ms` of a key without a TTL.
const NO_TTL: u64 = 0;

fn ttl_field(expire_at_ms: Option<u64>) -> u64 {
    debug_assert!(
        expire_at_ms != Some(NO_TTL),
        "expire time 0 is the no-TTL sentinel"
    );
    expire_at_ms.unwrap_or(NO_TTL)
}

/// A stored key and value. See the module docs for the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Small string, one allocation.
    Compact(Box<[u8]>),
    /// Everything else.
    Large(Box<LargeEntry>),
}

const _: () = assert!(std::mem::size_of::<Entry>() == 16);

/// Longest key a [`LargeKey`] keeps inline.
const INLINE_KEY: usize = 22;

/// The key of a boxed entry: inline when short (most keys), so a boxed entry is one allocation
/// plus its value's, not two. 24 bytes either way.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LargeKey {
    /// `len` bytes at the start of `bytes`.
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    /// Longer keys.
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<LargeKey>() == 24);

impl LargeKey {
    fn new(key: &[u8]) -> LargeKey {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE_KEY => {
                let mut bytes = [0u8; INLINE_KEY];
                bytes[..key.len()].copy_from_slice(key);
                LargeKey::Inline { len, bytes }
            }
            _ => LargeKey::Heap(key.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            LargeKey::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(&[]),
            LargeKey::Heap(b) => b,
        }
    }

    /// Heap bytes beyond the entry itself.
    fn heap_bytes(&self) -> usize {
        match self {
            LargeKey::Inline { .. } => 0,
            LargeKey::Heap(b) => b.len(),
        }
    }
}

/// The boxed form: key, metadata and a typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeEntry {
    key: LargeKey,
    /// Absolute expire time in Unix ms; [`NO_TTL`] for none (a sentinel instead of an
    /// `Option` saves 8 bytes per boxed entry; 0 is never a stored expire time, since a time
    /// in the past deletes the key instead).
    expire_at_ms: u64,
    access: u32,
    /// The value.
    pub value: LargeValue,
}

/// Values that live in a [`LargeEntry`]. New Redis types add variants here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LargeValue {
    /// A string mutated in place ("raw" encoding).
    Raw(Vec<u8>),
    /// A list.
    List(Box<ListValue>),
    /// A hash.
    Hash(HashValue),
    /// A set.
    Set(Box<SetValue>),
    /// A sorted set.
    ZSet(Box<ZSetValue>),
    /// A stream.
    Stream(Box<StreamValue>),
    /// A property graph (`GRAPH.*`).
    Graph(Box<crate::graph::GraphValue>),
    /// A suggestion dictionary (`FT.SUGADD`; RediSearch's `trietype0` module type).
    Suggest(Box<moon_text::Suggestions>),
    /// A non-string value for tests of WRONGTYPE paths until the other types land.
    #[cfg(test)]
    TestOther,
}

/// A borrowed view of a string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrRef<'a> {
    /// INT encoding.
    Int(i64),
    /// Byte string.
    Bytes(&'a [u8]),
}

impl StrRef<'_> {
    /// Length of the string form.
    pub fn len(&self) -> usize {
        match self {
            StrRef::Int(i) => int_len(*i),
            StrRef::Bytes(b) => b.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The string form as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            StrRef::Int(i) => i.to_string().into_bytes(),
            StrRef::Bytes(b) => b.to_vec(),
        }
    }

    /// The string form as `Bytes` (for replies).
    pub fn to_bytes(&self) -> bytes::Bytes {
        match self {
            StrRef::Int(i) => bytes::Bytes::from(i.to_string()),
            StrRef::Bytes(b) => bytes::Bytes::copy_from_slice(b),
        }
    }
}

/// Number of characters of `i` in decimal.
fn int_len(i: i64) -> usize {
    let digits = i
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1);
    digits + usize::from(i < 0)
}

/// Redis's `string2ll`: accepts exactly the canonical decimal form of an i64 (no sign other
/// than a leading `-`, no leading zeros, no spaces, not "-0", at most 20 characters).
pub fn parse_canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

/// Seconds clock value for a millisecond timestamp.
pub fn clock_secs(now_ms: u64) -> u32 {
    u32::try_from(now_ms / 1000).unwrap_or(u32::MAX)
}

impl Default for Entry {
    fn default() -> Self {
        Entry::Compact(Box::default())
    }
}

impl Keyed for Entry {
    fn key(&self) -> &[u8] {
        Entry::key(self)
    }

    fn heap_ptr(&self) -> *const u8 {
        match self {
            Entry::Compact(blob) => blob.as_ptr(),
            Entry::Large(large) => std::ptr::from_ref::<LargeEntry>(large).cast(),
        }
    }
}

impl Entry {
    /// A string entry; canonical integers are stored as INT.
    pub fn new_string(key: &[u8], value: &[u8], expire_at_ms: Option<u64>, now_secs: u32) -> Entry {
        match parse_canonical_i64(value) {
            Some(i) => Entry::new_int(key, i, expire_at_ms, now_secs),
            None => Entry::new_embstr(key, value, expire_at_ms, now_secs),
        }
    }

    /// A string entry stored as bytes even if it looks like an integer.
    pub fn new_embstr(key: &[u8], value: &[u8], expire_at_ms: Option<u64>, now_secs: u32) -> Entry {
        Entry::Compact(build_compact(key, Val::Str(value), expire_at_ms, now_secs))
    }

    /// An INT-encoded string entry.
    pub fn new_int(key: &[u8], value: i64, expire_at_ms: Option<u64>, now_secs: u32) -> Entry {
        Entry::Compact(build_compact(key, Val::Int(value), expire_at_ms, now_secs))
    }

    /// Overwrites the integer of an INT-encoded compact entry (INCR and friends on an existing
    /// counter: no new allocation, key and TTL untouched). False, and nothing changed, for any
    /// other entry.
    pub fn set_int_in_place(&mut self, value: i64) -> bool {
        let Entry::Compact(blob) = self else {
            return false;
        };
        if blob.first().is_none_or(|f| f & ENC_MASK != ENC_INT) {
            return false;
        }
        let at = layout(blob).key_end;
        match blob.get_mut(at..at + 8) {
            Some(slot) => {
                slot.copy_from_slice(&value.to_le_bytes());
                true
            }
            None => {
                debug_assert!(false, "INT entry without its 8 value bytes");
                false
            }
        }
    }

    /// A raw (growable, mutated in place) string entry.
    pub fn new_raw(key: &[u8], value: Vec<u8>, expire_at_ms: Option<u64>, now_secs: u32) -> Entry {
        Entry::Large(Box::new(LargeEntry {
            key: LargeKey::new(key),
            expire_at_ms: ttl_field(expire_at_ms),
            access: now_secs,
            value: LargeValue::Raw(value),
        }))
    }

    /// An entry holding a non-string (or raw string) value.
    pub fn new_value(
        key: &[u8],
        value: LargeValue,
        expire_at_ms: Option<u64>,
        now_secs: u32,
    ) -> Entry {
        let mut e = Entry::Large(Box::new(LargeEntry {
            key: LargeKey::new(key),
            expire_at_ms: ttl_field(expire_at_ms),
            access: now_secs,
            value,
        }));
        e.settle();
        e
    }

    /// The boxed value, or `None` for a compact string or a compact `listpack` hash (read
    /// hashes through [`Entry::hash`]).
    pub fn value(&self) -> Option<&LargeValue> {
        match self {
            Entry::Compact(_) => None,
            Entry::Large(large) => Some(&large.value),
        }
    }

    /// The boxed value, mutably, or `None` for a compact string. A compact hash is boxed first
    /// (`Db::update` settles it back afterwards). Callers inside `Db::update` keep the byte
    /// accounting exact.
    pub fn value_mut(&mut self) -> Option<&mut LargeValue> {
        self.unpack_hash();
        match self {
            Entry::Compact(_) => None,
            Entry::Large(large) => Some(&mut large.value),
        }
    }

    /// A non-string entry (tests only).
    #[cfg(test)]
    pub fn new_test_other(key: &[u8]) -> Entry {
        Entry::Large(Box::new(LargeEntry {
            key: LargeKey::new(key),
            expire_at_ms: NO_TTL,
            access: 0,
            value: LargeValue::TestOther,
        }))
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        match self {
            Entry::Compact(blob) => {
                let l = layout(blob);
                blob.get(l.key_start..l.key_end).unwrap_or(&[])
            }
            Entry::Large(large) => large.key.as_bytes(),
        }
    }

    /// Absolute expire time in Unix ms, if the key has a TTL.
    pub fn expire_at_ms(&self) -> Option<u64> {
        match self {
            Entry::Compact(blob) => {
                let flags = blob.first().copied().unwrap_or(0);
                (flags & HAS_TTL != 0).then(|| read_u64(blob, TTL_AT))
            }
            Entry::Large(large) => (large.expire_at_ms != NO_TTL).then_some(large.expire_at_ms),
        }
    }

    /// True if the key has a TTL that is due at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at_ms().is_some_and(|at| at <= now_ms)
    }

    /// Sets or clears the TTL. A compact entry is rebuilt when the TTL field appears or goes.
    pub fn set_expire_at_ms(&mut self, expire_at_ms: Option<u64>) {
        match self {
            Entry::Large(large) => large.expire_at_ms = ttl_field(expire_at_ms),
            Entry::Compact(blob) => {
                let had = blob.first().is_some_and(|f| f & HAS_TTL != 0);
                match (had, expire_at_ms) {
                    (true, Some(at)) => {
                        if let Some(slot) = blob.get_mut(TTL_AT..TTL_AT + 8) {
                            slot.copy_from_slice(&at.to_le_bytes());
                        }
                    }
                    (false, None) => {}
                    _ => *blob = self_rebuild(blob, expire_at_ms),
                }
            }
        }
    }

    /// The string value, or `None` if the entry holds another type.
    pub fn string_value(&self) -> Option<StrRef<'_>> {
        match self {
            Entry::Compact(blob) => match compact_val(blob) {
                Val::Int(i) => Some(StrRef::Int(i)),
                Val::Str(s) => Some(StrRef::Bytes(s)),
                Val::Hash(_) => None,
            },
            Entry::Large(large) => match &large.value {
                LargeValue::Raw(v) => Some(StrRef::Bytes(v)),
                _ => None,
            },
        }
    }

    /// True if the value is a string.
    pub fn is_string(&self) -> bool {
        self.string_value().is_some()
    }

    /// The string as a growable buffer, converting a compact string to the raw encoding first
    /// (as Redis unshares a value before APPEND/SETRANGE). `None` if not a string.
    pub fn raw_string_mut(&mut self) -> Option<&mut Vec<u8>> {
        if let Entry::Compact(_) = self {
            let value = self.string_value()?.to_vec();
            *self = Entry::new_raw(self.key(), value, self.expire_at_ms(), self.access_secs());
        }
        match self {
            Entry::Large(large) => match &mut large.value {
                LargeValue::Raw(v) => Some(v),
                _ => None,
            },
            Entry::Compact(_) => None,
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Entry::Compact(blob) => match compact_val(blob) {
                Val::Int(_) => "int",
                Val::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
                Val::Str(_) => "raw",
                Val::Hash(_) => "listpack",
            },
            Entry::Large(large) => match &large.value {
                LargeValue::Raw(_) => "raw",
                LargeValue::List(v) => v.encoding_name(),
                LargeValue::Hash(v) => v.encoding_name(),
                LargeValue::Set(v) => v.encoding_name(),
                LargeValue::ZSet(v) => v.encoding_name(),
                LargeValue::Stream(v) => v.encoding_name(),
                LargeValue::Graph(v) => v.encoding_name(),
                // A module value: Redis creates its object with the raw encoding.
                LargeValue::Suggest(_) => "raw",
                #[cfg(test)]
                LargeValue::TestOther => "test",
            },
        }
    }

    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Entry::Compact(blob) => match compact_val(blob) {
                Val::Hash(_) => "hash",
                Val::Int(_) | Val::Str(_) => "string",
            },
            Entry::Large(large) => match large.value {
                LargeValue::Raw(_) => "string",
                LargeValue::List(_) => "list",
                LargeValue::Hash(_) => "hash",
                LargeValue::Set(_) => "set",
                LargeValue::ZSet(_) => "zset",
                LargeValue::Stream(_) => "stream",
                LargeValue::Graph(_) => "graphdata",
                LargeValue::Suggest(_) => "trietype0",
                #[cfg(test)]
                LargeValue::TestOther => "test",
            },
        }
    }

    /// True if Redis would share this value's object (OBJECT REFCOUNT = `i32::MAX`).
    pub fn is_shared_int(&self) -> bool {
        matches!(self.string_value(), Some(StrRef::Int(i)) if (0..SHARED_INTEGERS).contains(&i))
    }

    /// Last-access clock (Unix seconds).
    pub fn access_secs(&self) -> u32 {
        match self {
            Entry::Compact(blob) => read_u32(blob, CLOCK_AT),
            Entry::Large(large) => large.access,
        }
    }

    /// Records an access at `now_secs`.
    pub fn touch(&mut self, now_secs: u32) {
        match self {
            Entry::Compact(blob) => {
                if let Some(slot) = blob.get_mut(CLOCK_AT..CLOCK_AT + 4) {
                    slot.copy_from_slice(&now_secs.to_le_bytes());
                }
            }
            Entry::Large(large) => large.access = now_secs,
        }
    }

    /// Seconds since the last access (0 while the field holds LFU data).
    pub fn idle_secs(&self, now_secs: u32) -> u64 {
        let raw = self.access_secs();
        if super::lfu::is_lfu(raw) {
            return 0;
        }
        u64::from(now_secs.saturating_sub(raw))
    }

    /// The same value, TTL and access clock under another key (RENAME/COPY across shards).
    pub fn with_key(self, new_key: &[u8]) -> Entry {
        match self {
            Entry::Compact(ref blob) => {
                let expire = self.expire_at_ms();
                let val = compact_val(blob);
                Entry::Compact(build_compact(new_key, val, expire, self.access_secs()))
            }
            Entry::Large(mut large) => {
                large.key = LargeKey::new(new_key);
                Entry::Large(large)
            }
        }
    }

    /// True if both entries hold the same key, value and TTL (the access clock is ignored:
    /// a read does not modify a key, for WATCH).
    pub fn same_data(&self, other: &Entry) -> bool {
        match (self, other) {
            (Entry::Large(a), Entry::Large(b)) => {
                a.key == b.key && a.expire_at_ms == b.expire_at_ms && a.value == b.value
            }
            (Entry::Compact(a), Entry::Compact(b)) => {
                a.len() == b.len() && a.first() == b.first() && a.get(TTL_AT..) == b.get(TTL_AT..)
            }
            _ => {
                self.key() == other.key()
                    && self.string_value() == other.string_value()
                    && self.hash() == other.hash()
                    && self.expire_at_ms() == other.expire_at_ms()
            }
        }
    }

    /// Heap bytes owned by this entry (not counting the 16 inline bytes in the table slot).
    pub fn mem_bytes(&self) -> usize {
        match self {
            Entry::Compact(blob) => blob.len(),
            Entry::Large(large) => {
                let value = match &large.value {
                    LargeValue::Raw(v) => v.capacity(),
                    LargeValue::List(v) => v.mem_bytes(),
                    LargeValue::Hash(v) => v.mem_bytes(),
                    LargeValue::Set(v) => v.mem_bytes(),
                    LargeValue::ZSet(v) => v.mem_bytes(),
                    LargeValue::Stream(v) => v.mem_bytes(),
                    LargeValue::Graph(v) => v.mem_bytes(),
                    LargeValue::Suggest(v) => v.mem_bytes(),
                    #[cfg(test)]
                    LargeValue::TestOther => 0,
                };
                std::mem::size_of::<LargeEntry>() + large.key.heap_bytes() + value
            }
        }
    }
}

mod compact;
mod hash;
#[cfg(test)]
mod tests;
