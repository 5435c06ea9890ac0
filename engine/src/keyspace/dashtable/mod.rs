//! The DashTable: the per-shard hash table holding a keyspace. Extendible hashing with a
//! directory of segments; segments split one at a time, so there is never a stop-the-world rehash.
//!
//! # Layout
//! - The directory has `2^global_depth` entries (segment ids); a hash's segment is
//!   `dir[hash >> (64 - global_depth)]` (top bits). Each segment has a local depth `d` and a
//!   32-bit `prefix` (its top `d` bits, rest zero) and owns the directory entries of that prefix.
//! - A segment has 64 buckets × 16 slots (see [`segment`]). An item's home bucket comes from the
//!   low hash bits; it may live in the home bucket or the next 3 (wrapping in the segment).
//!   Each bucket has 16 control bytes (`EMPTY` or a 7-bit tag), matched with SWAR (see [`group`]).
//! - When a window is full the segment splits: a new segment of depth `d + 1` takes the items
//!   whose hash bit `63 - d` is 1, *into the same slot index*; stayers do not move. The directory
//!   doubles (copying `u32`s only) when `d == global_depth`. A per-segment stash takes the item
//!   instead when splitting cannot help (all items of the window share the new item's top 32
//!   bits), at depth 32, or when doubling would make the directory absurdly large relative to the
//!   number of segments; with the randomly seeded hasher this does not happen in practice.
//! - Slots hold `T` inline; free slots hold `T::default()`. Per-slot overhead is one byte.
//!
//! # SCAN cursor
//! `cursor = prefix << 7 | bucket`: bits 0..7 are a bucket index (0..=63 buckets, 64 = the
//! stash), bits 7..39 a segment prefix scaled to 32 bits. Bits 39 and up are ignored (always zero
//! in returned cursors) so the caller may keep a shard number there. Cursor 0 starts a scan and a
//! returned 0 ends it. A call resumes in the segment that owns `prefix` now, at `bucket`, and moves
//! on to the next segment at `prefix + 2^(32 - depth)`.
//!
//! Why an item present for the whole scan is returned at least once: give each item the position
//! `(segment prefix, bucket index)` and order positions lexicographically, like cursors.
//! 1. Segments tile the 32-bit prefix space and are visited in prefix order, so one call visits
//!    every item whose position lies in `[cursor, next_cursor)` at that moment.
//! 2. Positions never decrease: inserts and removes never relocate other items (no displacement,
//!    no compaction, deletes just clear the control byte), and a split only moves items to the
//!    same bucket index of a segment with a *higher* prefix. Stash items move only from one
//!    stash to a higher-prefix stash. Wrap-around in the probe window is harmless because the
//!    order is on the bucket an item occupies, not its home bucket.
//! 3. Segments never merge (only [`DashTable::clear`] shrinks, and it removes every item), so the
//!    segment owning a returned cursor's prefix still starts exactly at that prefix.
//!
//! By induction over calls, an item not yet returned always has position `>= cursor`; the last
//! call covers everything up to the end of the table. Items may be returned more than once.
//!
//! # Snapshots
//! A point-in-time image of the table can be serialized segment by segment while it keeps
//! changing: every mutating method first lets [`cow`] preserve the segment it is about to change
//! if the image still needs it. Only [`DashTable::get_mut_hashed_untracked`] mutates without
//! that hook, for data that is not part of an image.

mod cow;
mod group;
pub(crate) mod prefetch;
mod scan;
mod segment;
#[cfg(test)]
mod tests;

use std::hash::BuildHasher;

pub use hashbrown::DefaultHashBuilder;

use segment::{SEG_SLOTS, Segment};

/// An item stored in the table: it carries its own key. `Default` is the empty slot value and
/// must not allocate; `Clone` is how a snapshot preserves a segment about to change.
pub trait Keyed: Default + Clone {
    /// The item's key.
    fn key(&self) -> &[u8];

    /// Address of the item's own heap data, for prefetching (null if none).
    fn heap_ptr(&self) -> *const u8 {
        std::ptr::null()
    }
}

/// Maximum global (and local) depth: the directory is indexed by at most 32 hash bits.
const MAX_DEPTH: u8 = 32;
/// The directory may double only while it has fewer than this many entries per segment.
/// Uniform hashes keep the ratio in single digits; the bound stops degenerate hashes from
/// growing the directory exponentially.
const MAX_DIR_PER_SEGMENT: usize = 256;

/// Segmented hash table of `T`, keyed by `T::key()`.
pub struct DashTable<T: Keyed, S = DefaultHashBuilder> {
    dir: Vec<u32>,
    segs: Vec<Segment<T>>,
    global_depth: u8,
    len: usize,
    hasher: S,
    /// The running snapshot, if any (boxed: the common case costs one pointer).
    snap: Option<Box<cow::Snap<T>>>,
}

impl<T: Keyed, S: BuildHasher + Default> Default for DashTable<T, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<T: Keyed> DashTable<T> {
    /// Empty table (one segment) with a randomly seeded hasher.
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }
}

impl<T: Keyed, S: BuildHasher> DashTable<T, S> {
    /// Empty table using `hasher`.
    pub fn with_hasher(hasher: S) -> Self {
        DashTable {
            dir: vec![0],
            segs: vec![Segment::new(0, 0)],
            global_depth: 0,
            len: 0,
            hasher,
            snap: None,
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Hash of `key` as used by the `*_hashed` methods.
    pub fn hash_key(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Look up.
    pub fn get(&self, key: &[u8]) -> Option<&T> {
        self.get_hashed(self.hash_key(key), key)
    }

    /// Look up with a precomputed `hash_key(key)`.
    pub fn get_hashed(&self, hash: u64, key: &[u8]) -> Option<&T> {
        debug_assert_eq!(hash, self.hash_key(key));
        let seg = &self.segs[self.seg_index(hash)];
        seg.find(hash, key).map(|loc| seg.get(loc))
    }

    /// Software prefetch for a batch of lookups (pipelined commands): call `prefetch(hash, 0)`
    /// for every key of the batch, then stage 1, then stage 2, then do the lookups. Each stage
    /// loads what the next needs (control bytes, matching slots, the items' heap data), so the
    /// batch's cache misses overlap instead of being paid one after another. Never changes
    /// anything; wrong hints only cost time.
    pub fn prefetch(&self, hash: u64, stage: u8) {
        let seg = &self.segs[self.seg_index(hash)];
        match stage {
            0 => seg.prefetch_ctrl(hash),
            1 => seg.prefetch_slots(hash),
            _ => seg.prefetch_items(hash),
        }
    }

    /// Look up mutably. The caller must not change the item's key.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut T> {
        self.get_mut_hashed(self.hash_key(key), key)
    }

    /// Look up mutably with a precomputed `hash_key(key)`. The caller must not change the key.
    /// A running snapshot preserves the item's segment first.
    pub fn get_mut_hashed(&mut self, hash: u64, key: &[u8]) -> Option<&mut T> {
        debug_assert_eq!(hash, self.hash_key(key));
        let s = self.seg_index(hash);
        let loc = self.segs[s].find(hash, key)?;
        self.preserve_units(s, cow::unit(Segment::<T>::unit_of(loc)));
        Some(self.segs[s].get_mut(loc))
    }

    /// Like [`DashTable::get_mut_hashed`] but invisible to a running snapshot: only for changes
    /// to data that snapshot images do not contain (an access clock), since the image of a
    /// segment not yet serialized sees them.
    pub fn get_mut_hashed_untracked(&mut self, hash: u64, key: &[u8]) -> Option<&mut T> {
        debug_assert_eq!(hash, self.hash_key(key));
        let s = self.seg_index(hash);
        let seg = &mut self.segs[s];
        let loc = seg.find(hash, key)?;
        Some(seg.get_mut(loc))
    }

    /// Insert or replace by key; returns the replaced item.
    pub fn insert(&mut self, item: T) -> Option<T> {
        let hash = self.hash_key(item.key());
        self.insert_hashed(hash, item)
    }

    /// Insert or replace with a precomputed `hash_key(item.key())`.
    pub fn insert_hashed(&mut self, hash: u64, item: T) -> Option<T> {
        debug_assert_eq!(hash, self.hash_key(item.key()));
        let s = self.seg_index(hash);
        if let Some(loc) = self.segs[s].find(hash, item.key()) {
            self.preserve_units(s, cow::unit(Segment::<T>::unit_of(loc)));
            return Some(std::mem::replace(self.segs[s].get_mut(loc), item));
        }
        self.len += 1;
        let mut item = item;
        let window = Segment::<T>::window_units(hash);
        loop {
            // Placing changes a bucket of the window; splits below serialize all of `s` and
            // create segments that are not part of any image.
            let s = self.seg_index(hash);
            self.preserve_units(s, window);
            match self.segs[s].try_place(hash, item) {
                Ok(()) => return None,
                Err(back) => item = back,
            }
            // Each split raises the local depth, so this loop runs at most MAX_DEPTH times.
            if !self.try_split(s, hash) {
                self.preserve_units(s, cow::unit(segment::STASH_BUCKET));
                self.segs[s].push_stash(item);
                return None;
            }
        }
    }

    /// Remove by key.
    pub fn remove(&mut self, key: &[u8]) -> Option<T> {
        self.remove_hashed(self.hash_key(key), key)
    }

    /// Remove with a precomputed `hash_key(key)`.
    pub fn remove_hashed(&mut self, hash: u64, key: &[u8]) -> Option<T> {
        debug_assert_eq!(hash, self.hash_key(key));
        let s = self.seg_index(hash);
        let loc = self.segs[s].find(hash, key)?;
        self.preserve_units(s, cow::unit(Segment::<T>::unit_of(loc)));
        self.len -= 1;
        Some(self.segs[s].take(loc))
    }

    /// Remove everything, back to one empty segment. A running snapshot keeps (moves, no
    /// copy) the segments it has not serialized yet.
    pub fn clear(&mut self) {
        self.dir = vec![0];
        let old = std::mem::replace(&mut self.segs, vec![Segment::new(0, 0)]);
        if let Some(snap) = self.snap.as_deref_mut() {
            snap.preserve_all(old);
        }
        self.global_depth = 0;
        self.len = 0;
    }

    /// Iterate over all items, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.segs.iter().flat_map(Segment::iter)
    }

    /// Number of segments.
    pub fn segments(&self) -> usize {
        self.segs.len()
    }

    /// Slot capacity: bucket slots of all segments plus stashed items.
    pub fn capacity(&self) -> usize {
        self.segs.len() * SEG_SLOTS + self.segs.iter().map(Segment::stash_len).sum::<usize>()
    }

    /// Estimate of the heap bytes the table itself owns (directory, segments, inline items);
    /// heap memory owned *by* the items is not included.
    pub fn heap_bytes(&self) -> usize {
        self.dir.capacity() * size_of::<u32>()
            + self.segs.capacity() * size_of::<Segment<T>>()
            + self.segs.iter().map(Segment::heap_bytes).sum::<usize>()
    }

    /// Directory position of a 32-bit prefix at the current global depth.
    fn dir_pos(&self, prefix32: u32) -> usize {
        // A shift by 32 (global depth 0) is not allowed: every prefix maps to entry 0 then.
        prefix32
            .checked_shr(32 - u32::from(self.global_depth))
            .unwrap_or(0) as usize
    }

    fn seg_index(&self, hash: u64) -> usize {
        self.dir[self.dir_pos((hash >> 32) as u32)] as usize
    }

    /// Splits segment `s` to make room for `hash`, if that is possible and useful.
    fn try_split(&mut self, s: usize, hash: u64) -> bool {
        let depth = self.segs[s].depth;
        let must_double = depth == self.global_depth;
        if depth >= MAX_DEPTH
            || (must_double && self.dir.len() >= self.segs.len() * MAX_DIR_PER_SEGMENT)
            || u32::try_from(self.segs.len()).is_err()
        {
            return false;
        }
        let helps = {
            let hasher = &self.hasher;
            self.segs[s].split_can_help(hash, &|key: &[u8]| hasher.hash_one(key))
        };
        if !helps {
            return false;
        }
        // Movers leave `s` for a segment outside the image: serialize all of `s` first.
        self.preserve_units(s, cow::ALL_UNITS);
        let hasher = &self.hasher;
        let hash_of = |key: &[u8]| hasher.hash_one(key);
        debug_assert!(
            !self.snapshot_pending(s, cow::ALL_UNITS),
            "splitting an unserialized segment"
        );
        if must_double {
            self.dir = self.dir.iter().flat_map(|&id| [id, id]).collect();
            self.global_depth += 1;
        }
        let new_seg = self.segs[s].split(&hash_of);
        // The new segment owns the upper half of the old one's directory range.
        let start = self.dir_pos(new_seg.prefix);
        let count = 1usize << (self.global_depth - new_seg.depth);
        let new_id = self.segs.len() as u32;
        self.dir[start..start + count].fill(new_id);
        self.segs.push(new_seg);
        true
    }

    /// Test-only deep check of all invariants.
    #[cfg(test)]
    fn check_invariants(&self) {
        let hash_of = |key: &[u8]| self.hash_key(key);
        assert_eq!(self.dir.len(), 1usize << self.global_depth);
        let (mut total, mut covered) = (0, 0);
        for (id, seg) in self.segs.iter().enumerate() {
            seg.check(&hash_of);
            total += seg.len as usize;
            assert!(seg.depth <= self.global_depth);
            let start = self.dir_pos(seg.prefix);
            let count = 1usize << (self.global_depth - seg.depth);
            assert!(
                self.dir[start..start + count]
                    .iter()
                    .all(|&d| d as usize == id)
            );
            covered += count;
        }
        assert_eq!(covered, self.dir.len(), "segments must tile the directory");
        assert_eq!(total, self.len);
    }
}
