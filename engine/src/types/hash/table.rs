//! The `hashtable` encoding of a hash: a dense `Vec` of pairs plus a hashbrown index of their
//! positions (the indexmap layout).
//!
//! Each pair is one allocation holding `LEB128 field length, field, value`, next to its
//! expire-at (0 = no TTL). Removal swaps the last pair into the hole, so positions stay dense:
//! a random field is one index away (HRANDFIELD) and HSCAN walks positions from the end (see
//! `HashValue::scan` for why that returns every stable field).
//!
//! Invariants: `index` holds exactly the positions `0..slots.len()`, each under the hash of its
//! slot's field; `heap` is the sum of the pair allocations' lengths; `ttl_count` is the number
//! of slots with a TTL; `min_expire` ≤ every stored non-zero expire-at.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use super::{FieldRef, NO_TTL, get_varint, put_varint, varint_len};

#[derive(Clone)]
struct Slot {
    pair: Box<[u8]>,
    expire_at: u64,
}

impl Slot {
    fn new(field: &[u8], value: &[u8], expire_at: u64) -> Slot {
        let mut v = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
        put_varint(&mut v, field.len());
        v.extend_from_slice(field);
        v.extend_from_slice(value);
        Slot {
            pair: v.into_boxed_slice(),
            expire_at,
        }
    }

    fn split(&self) -> (&[u8], &[u8]) {
        let (flen, used) = get_varint(&self.pair, 0).unwrap_or((0, 0));
        let rest = self.pair.get(used..).unwrap_or(&[]);
        rest.split_at_checked(flen).unwrap_or((rest, &[]))
    }

    #[inline]
    fn field(&self) -> &[u8] {
        self.split().0
    }

    fn as_ref(&self) -> FieldRef<'_> {
        let (field, value) = self.split();
        FieldRef {
            field,
            value,
            expire_at: self.expire_at,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    ttl_count: usize,
    min_expire: u64,
    heap: usize,
}

impl Table {
    pub(crate) fn with_capacity(n: usize) -> Table {
        Table {
            slots: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
            ttl_count: 0,
            min_expire: u64::MAX,
            heap: 0,
        }
    }

    pub(crate) fn mem_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.index.allocation_size()
            + self.heap
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn ttl_count(&self) -> usize {
        self.ttl_count
    }

    pub(crate) fn min_expire(&self) -> u64 {
        self.min_expire
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
        let Table {
            slots,
            index,
            hasher,
            ..
        } = self;
        index.reserve(n, |i| hash_of(hasher, slots, i));
    }

    /// Software prefetch for a batch of lookups of `field` (pipelined HGET/HSET on one big
    /// hash): call stage 0 for every field of the batch, then 1, then 2, then look them up, so
    /// the index's, the slot's and the pair's cache misses overlap across the batch instead of
    /// being paid one after another. Only reads and hints; a wrong guess costs time, never
    /// correctness (a prefetch never faults, whatever the address).
    pub(crate) fn prefetch(&self, field: &[u8], stage: u8) {
        let h = self.hasher.hash_one(field);
        match stage {
            // The probe's first control group and bucket.
            0 => crate::keyspace::prefetch_probe(&self.index, h),
            // The slots of the matching positions (index in cache by now).
            1 => {
                let base = self.slots.as_ptr();
                self.index.find(h, |&i| {
                    crate::keyspace::prefetch(base.wrapping_add(i as usize).cast());
                    false
                });
            }
            // Their pairs (slots in cache by now).
            _ => {
                self.index.find(h, |&i| {
                    if let Some(s) = self.slots.get(i as usize) {
                        crate::keyspace::prefetch(s.pair.as_ptr());
                    }
                    false
                });
            }
        }
    }

    fn find(&self, field: &[u8]) -> Option<usize> {
        let h = self.hasher.hash_one(field);
        self.index
            .find(h, |&i| {
                self.slots
                    .get(i as usize)
                    .is_some_and(|s| s.field() == field)
            })
            .map(|&i| i as usize)
    }

    pub(crate) fn get(&self, field: &[u8]) -> Option<FieldRef<'_>> {
        self.find(field)
            .and_then(|i| self.slots.get(i))
            .map(Slot::as_ref)
    }

    pub(crate) fn at(&self, i: usize) -> Option<FieldRef<'_>> {
        self.slots.get(i).map(Slot::as_ref)
    }

    fn note_ttl(&mut self, at: u64) {
        if at != NO_TTL {
            self.ttl_count += 1;
            self.min_expire = self.min_expire.min(at);
        }
    }

    /// Adds a pair known to be absent.
    pub(crate) fn insert_new(&mut self, field: &[u8], value: &[u8], expire_at: u64) {
        debug_assert!(self.find(field).is_none());
        debug_assert!(u32::try_from(self.slots.len()).is_ok());
        let slot = Slot::new(field, value, expire_at);
        self.heap += slot.pair.len();
        self.note_ttl(expire_at);
        let h = self.hasher.hash_one(field);
        let pos = self.slots.len() as u32;
        self.slots.push(slot);
        let Table {
            slots,
            index,
            hasher,
            ..
        } = self;
        index.insert_unique(h, pos, |i| hash_of(hasher, slots, i));
    }

    pub(crate) fn set(&mut self, field: &[u8], value: &[u8], keep_ttl: bool) -> bool {
        match self.find(field) {
            None => {
                self.insert_new(field, value, NO_TTL);
                true
            }
            Some(i) => {
                let Some(slot) = self.slots.get_mut(i) else {
                    return false;
                };
                let old_ttl = slot.expire_at;
                let ttl = if keep_ttl { old_ttl } else { NO_TTL };
                let new = Slot::new(field, value, ttl);
                self.heap = self.heap + new.pair.len() - slot.pair.len();
                *slot = new;
                if old_ttl != NO_TTL && ttl == NO_TTL {
                    self.ttl_count -= 1;
                }
                false
            }
        }
    }

    /// Removes the slot at `i` (swapping the last one in); keeps every counter exact.
    fn remove_at(&mut self, i: usize) {
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        let h = self.hasher.hash_one(slot.field());
        if let Ok(e) = self.index.find_entry(h, |&p| p as usize == i) {
            e.remove();
        }
        let last = self.slots.len() - 1;
        let removed = self.slots.swap_remove(i);
        self.heap -= removed.pair.len();
        if removed.expire_at != NO_TTL {
            self.ttl_count -= 1;
        }
        if i != last
            && let Some(moved) = self.slots.get(i)
        {
            let h = self.hasher.hash_one(moved.field());
            if let Some(p) = self.index.find_mut(h, |&p| p as usize == last) {
                *p = i as u32;
            }
        }
        if self.ttl_count == 0 {
            self.min_expire = u64::MAX;
        }
    }

    pub(crate) fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(i) => {
                self.remove_at(i);
                true
            }
            None => false,
        }
    }

    pub(crate) fn set_expire(&mut self, field: &[u8], at: u64) -> bool {
        let Some(i) = self.find(field) else {
            return false;
        };
        let Some(slot) = self.slots.get_mut(i) else {
            return false;
        };
        let old = std::mem::replace(&mut slot.expire_at, at);
        if old != NO_TTL {
            self.ttl_count -= 1;
        }
        self.note_ttl(at);
        if self.ttl_count == 0 {
            self.min_expire = u64::MAX;
        }
        true
    }

    /// Removes up to `quota` fields expired at `now`; recomputes the min-expire bound when the
    /// whole table was visited.
    pub(crate) fn purge(&mut self, now: u64, quota: usize) -> usize {
        let mut removed = 0;
        let mut min = u64::MAX;
        let mut i = self.slots.len();
        // Walk backwards so a swap-remove only moves an already-visited slot into the hole.
        while i > 0 {
            i -= 1;
            let at = self.slots.get(i).map_or(NO_TTL, |s| s.expire_at);
            if at == NO_TTL {
                continue;
            }
            if at <= now && removed < quota {
                self.remove_at(i);
                removed += 1;
            } else {
                min = min.min(at);
            }
        }
        self.min_expire = if self.ttl_count == 0 { u64::MAX } else { min };
        if removed > 0 && self.slots.capacity() > 2 * self.slots.len() + 8 {
            self.slots.shrink_to_fit();
        }
        removed
    }

    pub(crate) fn iter(&self) -> TableIter<'_> {
        TableIter {
            inner: self.slots.iter(),
        }
    }
}

fn hash_of(hasher: &DefaultHashBuilder, slots: &[Slot], i: &u32) -> u64 {
    hasher.hash_one(slots.get(*i as usize).map_or(&[][..], Slot::field))
}

/// Iterator over the pairs of a [`Table`].
pub struct TableIter<'a> {
    inner: std::slice::Iter<'a, Slot>,
}

impl<'a> Iterator for TableIter<'a> {
    type Item = FieldRef<'a>;

    fn next(&mut self) -> Option<FieldRef<'a>> {
        self.inner.next().map(Slot::as_ref)
    }
}
