//! The `hashtable` encoding, for large sets: O(1) add, remove, membership and uniform random
//! choice, with about one byte of overhead per member beyond its record and three small integers.
//!
//! Layout:
//! - `arena`: every member's record (LEB128 length + bytes, as in the listpack encoding)
//!   appended one after another: no allocation per member.
//! - `offsets`: dense array, position `i` → offset of member `i`'s record in `arena`. Dense
//!   positions make a uniform random pick one `rand % len` (SPOP, SRANDMEMBER) and give SSCAN
//!   a stable positional cursor.
//! - `index`: a hashbrown table of dense positions (u32), each with 32 bits of its member's
//!   hash, for O(1) lookups. The stored hash keeps the arena out of rehashing (which would
//!   otherwise read every member at random) and out of most mismatching probes: with it a
//!   lookup of a new member touches only the table, an existing one the table, its offset and
//!   its record.
//!
//! Removing position `i` moves the last position into `i` (one index fix-up) and leaves the
//! record's bytes dead in the arena; when dead bytes exceed half the arena it is compacted in
//! dense order (O(live), so amortised O(1) per removed byte). Compaction rewrites offsets
//! only: positions, and thus the index, are unchanged.
//!
//! Invariants: `offsets.len() == index.len()`; `index` holds each position `0..len` exactly
//! once, with and under the hash of that position's member; members are distinct; `dead` is the number
//! of arena bytes not referenced by any offset. A set holds at most `u32::MAX` members (about
//! 100 GB of data); inserts beyond that are refused.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry as TableEntry;

use super::pack::{put_record, record, record_len};

/// One process-wide seeded hasher: sets never expose hashes, and a per-set seed would cost
/// memory in every set.
fn hasher() -> &'static hashbrown::DefaultHashBuilder {
    static H: OnceLock<hashbrown::DefaultHashBuilder> = OnceLock::new();
    H.get_or_init(hashbrown::DefaultHashBuilder::default)
}

/// The 32 hash bits an index slot keeps.
fn hash(member: &[u8]) -> u32 {
    hasher().hash_one(member) as u32
}

/// The table hash of a slot's 32 bits: spread by an odd multiplier so hashbrown's top-7-bit
/// tag and its low-bit bucket index both come from well-mixed bits.
fn spread(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// An index entry: a dense position and its member's hash bits.
#[derive(Debug, Clone, Copy)]
struct Slot {
    pos: u32,
    hash: u32,
}

/// Arena offsets, 4 bytes each until the arena outgrows u32, then 8.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Offsets {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Offsets {
    fn len(&self) -> usize {
        match self {
            Offsets::Narrow(v) => v.len(),
            Offsets::Wide(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> Option<usize> {
        match self {
            Offsets::Narrow(v) => v.get(i).map(|&o| o as usize),
            Offsets::Wide(v) => v.get(i).and_then(|&o| usize::try_from(o).ok()),
        }
    }

    fn set(&mut self, i: usize, off: usize) {
        match self {
            Offsets::Narrow(v) => match (v.get_mut(i), u32::try_from(off)) {
                (Some(slot), Ok(o)) => *slot = o,
                (Some(_), Err(_)) => {
                    self.widen();
                    self.set(i, off);
                }
                (None, _) => debug_assert!(false, "offset position out of range"),
            },
            Offsets::Wide(v) => {
                if let Some(slot) = v.get_mut(i) {
                    *slot = off as u64;
                }
            }
        }
    }

    fn push(&mut self, off: usize) {
        match self {
            Offsets::Narrow(v) => match u32::try_from(off) {
                Ok(o) => v.push(o),
                Err(_) => {
                    self.widen();
                    self.push(off);
                }
            },
            Offsets::Wide(v) => v.push(off as u64),
        }
    }

    fn swap_remove(&mut self, i: usize) {
        match self {
            Offsets::Narrow(v) => {
                v.swap_remove(i);
            }
            Offsets::Wide(v) => {
                v.swap_remove(i);
            }
        }
    }

    fn widen(&mut self) {
        if let Offsets::Narrow(v) = self {
            *self = Offsets::Wide(v.iter().map(|&o| u64::from(o)).collect());
        }
    }

    fn mem_bytes(&self) -> usize {
        match self {
            Offsets::Narrow(v) => v.capacity() * 4,
            Offsets::Wide(v) => v.capacity() * 8,
        }
    }

    fn shrink_if_sparse(&mut self) {
        match self {
            Offsets::Narrow(v) if v.capacity() > 16 && v.len() < v.capacity() / 4 => {
                v.shrink_to(v.len() * 2);
            }
            Offsets::Wide(v) if v.capacity() > 16 && v.len() < v.capacity() / 4 => {
                v.shrink_to(v.len() * 2);
            }
            _ => {}
        }
    }
}

/// A large set. See the module docs.
#[derive(Debug, Clone)]
pub(super) struct Big {
    arena: Vec<u8>,
    offsets: Offsets,
    index: HashTable<Slot>,
    dead: usize,
}

/// Member at position `i`, given the arena and offsets (a free function so the index can be
/// borrowed mutably at the same time).
fn member_at<'a>(arena: &'a [u8], offsets: &Offsets, i: usize) -> &'a [u8] {
    match offsets.get(i).and_then(|off| record(arena, off)) {
        Some((m, _)) => m,
        None => {
            debug_assert!(false, "set arena out of sync at position {i}");
            &[]
        }
    }
}

impl Big {
    /// An empty set with room for `cap` members of about `avg_len` bytes.
    pub fn with_capacity(cap: usize, avg_len: usize) -> Big {
        Big {
            arena: Vec::with_capacity(cap.saturating_mul(avg_len + 1)),
            offsets: Offsets::Narrow(Vec::with_capacity(cap)),
            index: HashTable::with_capacity(cap),
            dead: 0,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// The member at dense position `i` (`i < len()`).
    pub fn get(&self, i: usize) -> &[u8] {
        member_at(&self.arena, &self.offsets, i)
    }

    fn position(&self, member: &[u8]) -> Option<usize> {
        let (arena, offsets) = (&self.arena, &self.offsets);
        let h = hash(member);
        self.index
            .find(spread(h), |s| {
                s.hash == h && member_at(arena, offsets, s.pos as usize) == member
            })
            .map(|s| s.pos as usize)
    }

    /// Prefetch stage `stage` (0, 1, 2) of a lookup of `member`, for batches (pipelined
    /// SADD/SISMEMBER on one big set): the index's control group and bucket, then the matching
    /// slots' offsets, then their records, so the misses of a batch overlap. Only reads and
    /// hints. A new member's lookup touches only stage 0's lines.
    pub fn prefetch(&self, member: &[u8], stage: u8) {
        let h = hash(member);
        match stage {
            0 => crate::keyspace::prefetch_probe(&self.index, spread(h)),
            1 => {
                self.index.find(spread(h), |s| {
                    if s.hash == h {
                        let i = s.pos as usize;
                        match &self.offsets {
                            Offsets::Narrow(v) => {
                                crate::keyspace::prefetch(v.as_ptr().wrapping_add(i).cast())
                            }
                            Offsets::Wide(v) => {
                                crate::keyspace::prefetch(v.as_ptr().wrapping_add(i).cast())
                            }
                        }
                    }
                    false
                });
            }
            _ => {
                self.index.find(spread(h), |s| {
                    if s.hash == h
                        && let Some(off) = self.offsets.get(s.pos as usize)
                    {
                        crate::keyspace::prefetch(self.arena.as_ptr().wrapping_add(off));
                    }
                    false
                });
            }
        }
    }

    /// True if `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.position(member).is_some()
    }

    /// Adds `member`; false if it was present (or the set is full, see the module docs).
    pub fn insert(&mut self, member: &[u8]) -> bool {
        let Ok(pos) = u32::try_from(self.len()) else {
            return false;
        };
        let (arena, offsets) = (&self.arena, &self.offsets);
        let h = hash(member);
        let entry = self.index.entry(
            spread(h),
            |s| s.hash == h && member_at(arena, offsets, s.pos as usize) == member,
            |s| spread(s.hash),
        );
        match entry {
            TableEntry::Occupied(_) => false,
            TableEntry::Vacant(v) => {
                v.insert(Slot { pos, hash: h });
                let off = self.arena.len();
                put_record(&mut self.arena, member);
                self.offsets.push(off);
                debug_assert_eq!(self.offsets.len(), self.index.len());
                true
            }
        }
    }

    /// Removes `member`; false if absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let (arena, offsets) = (&self.arena, &self.offsets);
        let h = hash(member);
        let found = self
            .index
            .find_entry(spread(h), |s| {
                s.hash == h && member_at(arena, offsets, s.pos as usize) == member
            })
            .ok()
            .map(|e| e.remove().0);
        match found {
            Some(slot) => {
                self.forget(slot.pos as usize);
                true
            }
            None => false,
        }
    }

    /// Removes and returns the member at dense position `i` (`i < len()`).
    pub fn remove_at(&mut self, i: usize) -> Vec<u8> {
        let member = self.get(i).to_vec();
        let removed = self
            .index
            .find_entry(spread(hash(&member)), |s| s.pos as usize == i)
            .map(|e| e.remove());
        debug_assert!(removed.is_ok(), "index lost position {i}");
        self.forget(i);
        member
    }

    /// Drops position `i` (already removed from the index): frees its record, moves the last
    /// position into `i` and fixes that member's index entry.
    fn forget(&mut self, i: usize) {
        let last = self.len() - 1;
        if let Some(off) = self.offsets.get(i) {
            let len = record(&self.arena, off).map_or(0, |(m, _)| record_len(m));
            if off + len == self.arena.len() {
                self.arena.truncate(off);
            } else {
                self.dead += len;
            }
        }
        if i != last {
            let moved = member_at(&self.arena, &self.offsets, last);
            let h = hash(moved);
            if let Some(slot) = self.index.find_mut(spread(h), |s| s.pos as usize == last) {
                slot.pos = i as u32;
            } else {
                debug_assert!(false, "index lost position {last}");
            }
        }
        self.offsets.swap_remove(i);
        debug_assert_eq!(self.offsets.len(), self.index.len());
        self.maybe_compact();
    }

    /// Compacts the arena when most of it is dead, and returns memory when the set shrank a lot.
    fn maybe_compact(&mut self) {
        if self.dead > 64 && self.dead * 2 > self.arena.len() {
            let mut arena = Vec::with_capacity(self.arena.len() - self.dead);
            for i in 0..self.len() {
                let off = arena.len();
                put_record(&mut arena, member_at(&self.arena, &self.offsets, i));
                self.offsets.set(i, off);
            }
            self.arena = arena;
            self.dead = 0;
        }
        if self.index.capacity() > 64 && self.index.len() < self.index.capacity() / 8 {
            self.index
                .shrink_to(self.index.len() * 2, |s| spread(s.hash));
            self.offsets.shrink_if_sparse();
        }
    }

    /// Every member, in dense order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Heap bytes owned (O(1)).
    pub fn mem_bytes(&self) -> usize {
        std::mem::size_of::<Big>()
            + self.arena.capacity()
            + self.offsets.mem_bytes()
            + self.index.allocation_size()
    }

    /// Frees spare arena capacity (after bulk building).
    pub fn shrink(&mut self) {
        self.arena.shrink_to_fit();
    }

    /// Checks every invariant (tests).
    #[cfg(test)]
    pub fn check(&self) {
        assert_eq!(self.offsets.len(), self.index.len());
        let mut seen = vec![false; self.len()];
        for s in &self.index {
            let i = s.pos as usize;
            assert_eq!(s.hash, hash(self.get(i)), "stale hash bits at {i}");
            assert!(!seen[i], "position {i} twice");
            seen[i] = true;
            assert_eq!(self.position(self.get(i)), Some(i));
        }
        let live: usize = self.iter().map(record_len).sum();
        assert_eq!(live + self.dead, self.arena.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_remove_and_compact() {
        let mut b = Big::with_capacity(0, 0);
        for i in 0..1000 {
            assert!(b.insert(format!("member:{i}").as_bytes()));
        }
        assert!(!b.insert(b"member:7"));
        b.check();
        for i in (0..1000).step_by(3) {
            assert!(b.remove(format!("member:{i}").as_bytes()));
        }
        assert!(!b.remove(b"member:0"));
        b.check();
        for i in 0..1000 {
            assert_eq!(b.contains(format!("member:{i}").as_bytes()), i % 3 != 0);
        }
        while b.len() > 3 {
            b.remove_at(b.len() / 2);
            b.check();
        }
        assert!(b.arena.len() < 100, "arena compacted: {}", b.arena.len());
        assert!(b.index.capacity() <= 64);
    }

    #[test]
    fn offsets_widen_past_u32() {
        let mut o = Offsets::Narrow(vec![1, 2]);
        o.push(1 << 33);
        assert_eq!((o.get(0), o.get(2)), (Some(1), Some(1 << 33)));
        o.set(0, 1 << 34);
        assert_eq!(o.get(0), Some(1 << 34));
        o.swap_remove(0);
        assert_eq!((o.len(), o.get(0)), (2, Some(1 << 33)));
        assert!(o.mem_bytes() >= 16);
    }
}
