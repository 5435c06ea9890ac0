//! One segment of the DashTable: [`BUCKETS`] buckets of [`BUCKET_SLOTS`] slots, plus a stash.
//!
//! An item with hash `h` has home bucket `h % BUCKETS` and lives in one of the [`PROBE`] buckets
//! starting there (wrapping inside the segment). Lookups scan the whole window, so removal just
//! marks the slot [`EMPTY`]. The stash is a last resort used only when the window is full and
//! splitting cannot help (degenerate hashes or the directory-size guard); it is empty in practice.
//!
//! Invariants:
//! - a slot is occupied iff its control byte is a tag, and then that tag is `tag(hash(key))`;
//!   free slots hold `T::default()`.
//! - every item in a bucket lies in the probe window of its home bucket.
//! - every item's hash has this segment's `prefix` as its top `depth` bits.
//! - an item never changes slot while it stays in this segment (SCAN relies on it).
//! - `len` counts occupied slots plus stash items.

use super::Keyed;
use super::group::{BUCKET_SLOTS, Ctrl, EMPTY};

/// Buckets per segment (a power of two).
pub(super) const BUCKETS: usize = 64;
/// Buckets an item may occupy, starting at its home bucket.
pub(super) const PROBE: usize = 4;
/// Slots per segment, excluding the stash.
pub(super) const SEG_SLOTS: usize = BUCKETS * BUCKET_SLOTS;
/// Bucket index under which SCAN visits the stash.
pub(super) const STASH_BUCKET: usize = BUCKETS;

const _: () = assert!(BUCKETS.is_power_of_two() && PROBE <= BUCKETS);

/// Home bucket of a hash: low bits, so it is independent of which segment holds the item.
fn home(hash: u64) -> usize {
    hash as usize & (BUCKETS - 1)
}

/// 7-bit tag: the bits just above the home-bucket bits, far from the directory's top bits.
fn tag(hash: u64) -> u8 {
    ((hash >> BUCKETS.trailing_zeros()) & 0x7F) as u8
}

/// Where an item sits inside a segment.
#[derive(Clone, Copy, Debug)]
pub(super) enum Loc {
    /// Index into the slots (`bucket * BUCKET_SLOTS + slot`).
    Slot(usize),
    /// Index into the stash.
    Stash(usize),
}

pub(super) struct Segment<T> {
    ctrl: Box<[Ctrl; BUCKETS]>,
    slots: Box<[T]>,
    stash: Vec<T>,
    /// Hash prefix shared by all items, as its top `depth` bits of a 32-bit value (rest zero).
    pub(super) prefix: u32,
    /// Local depth: number of top hash bits that select this segment.
    pub(super) depth: u8,
    pub(super) len: u32,
}

impl<T: Keyed> Segment<T> {
    pub(super) fn new(prefix: u32, depth: u8) -> Self {
        debug_assert!(depth <= 32);
        debug_assert!(depth == 32 || prefix & (u32::MAX >> depth) == 0);
        Segment {
            ctrl: Box::new([Ctrl::ALL_EMPTY; BUCKETS]),
            slots: std::iter::repeat_with(T::default).take(SEG_SLOTS).collect(),
            stash: Vec::new(),
            prefix,
            depth,
            len: 0,
        }
    }

    /// Prefetch stage 1: the control bytes of `hash`'s probe window.
    pub(super) fn prefetch_ctrl(&self, hash: u64) {
        let b = home(hash);
        super::prefetch::prefetch(self.ctrl.as_ptr().wrapping_add(b).cast());
        if b + PROBE > BUCKETS {
            super::prefetch::prefetch(self.ctrl.as_ptr().cast());
        }
    }

    /// Prefetch stage 2: the slots whose tags match in the home bucket (control bytes are
    /// expected in cache by now).
    pub(super) fn prefetch_slots(&self, hash: u64) {
        let b = home(hash);
        for i in self.ctrl[b].match_tag(tag(hash)) {
            super::prefetch::prefetch(
                self.slots
                    .as_ptr()
                    .wrapping_add(b * BUCKET_SLOTS + i)
                    .cast(),
            );
        }
    }

    /// Prefetch stage 3: what the matching items in the home bucket point to.
    pub(super) fn prefetch_items(&self, hash: u64) {
        let b = home(hash);
        for i in self.ctrl[b].match_tag(tag(hash)) {
            if let Some(item) = self.slots.get(b * BUCKET_SLOTS + i) {
                super::prefetch::prefetch(item.heap_ptr());
            }
        }
    }

    /// Locates the item with `key` (whose hash is `hash`).
    pub(super) fn find(&self, hash: u64, key: &[u8]) -> Option<Loc> {
        let (start, tag) = (home(hash), tag(hash));
        for k in 0..PROBE {
            let b = (start + k) & (BUCKETS - 1);
            for i in self.ctrl[b].match_tag(tag) {
                let idx = b * BUCKET_SLOTS + i;
                if self.slots[idx].key() == key {
                    return Some(Loc::Slot(idx));
                }
            }
        }
        if self.stash.is_empty() {
            return None;
        }
        self.stash
            .iter()
            .position(|it| it.key() == key)
            .map(Loc::Stash)
    }

    pub(super) fn get(&self, loc: Loc) -> &T {
        match loc {
            Loc::Slot(i) => &self.slots[i],
            Loc::Stash(i) => &self.stash[i],
        }
    }

    pub(super) fn get_mut(&mut self, loc: Loc) -> &mut T {
        match loc {
            Loc::Slot(i) => &mut self.slots[i],
            Loc::Stash(i) => &mut self.stash[i],
        }
    }

    /// Puts a new item (key not present) in the emptiest bucket of its window (earliest on a
    /// tie), which keeps windows evenly filled so segments split later. Hands the item back if
    /// the window is full.
    pub(super) fn try_place(&mut self, hash: u64, item: T) -> Result<(), T> {
        let start = home(hash);
        let mut best: Option<(usize, usize)> = None;
        for k in 0..PROBE {
            let b = (start + k) & (BUCKETS - 1);
            let free = self.ctrl[b].match_empty().len();
            if free > best.map_or(0, |(_, f)| f) {
                best = Some((b, free));
            }
        }
        let Some((b, _)) = best else {
            return Err(item);
        };
        let Some(i) = self.ctrl[b].match_empty().next() else {
            return Err(item);
        };
        self.ctrl[b].set(i, tag(hash));
        self.slots[b * BUCKET_SLOTS + i] = item;
        self.len += 1;
        Ok(())
    }

    /// Adds a new item (key not present) to the stash.
    pub(super) fn push_stash(&mut self, item: T) {
        self.stash.push(item);
        self.len += 1;
    }

    /// Removes the item at `loc`. Stash order may change (SCAN visits the stash as one unit).
    pub(super) fn take(&mut self, loc: Loc) -> T {
        self.len -= 1;
        match loc {
            Loc::Slot(idx) => {
                self.ctrl[idx / BUCKET_SLOTS].set(idx % BUCKET_SLOTS, EMPTY);
                std::mem::take(&mut self.slots[idx])
            }
            Loc::Stash(i) => self.stash.swap_remove(i),
        }
    }

    /// True if some item in the window of `hash` has a different 32-bit prefix, i.e. whether
    /// splitting (possibly repeatedly) can ever free a slot in that window.
    pub(super) fn split_can_help(&self, hash: u64, hash_of: &impl Fn(&[u8]) -> u64) -> bool {
        let start = home(hash);
        let want = hash >> 32;
        (0..PROBE).any(|k| {
            let b = (start + k) & (BUCKETS - 1);
            self.ctrl[b]
                .match_full()
                .any(|i| hash_of(self.slots[b * BUCKET_SLOTS + i].key()) >> 32 != want)
        })
    }

    /// Splits off the upper half of this segment's hash range into a new segment of depth + 1.
    /// Movers keep their exact slot (or go to the new stash), so the new segment needs no
    /// probing and stayers never move.
    pub(super) fn split(&mut self, hash_of: &impl Fn(&[u8]) -> u64) -> Segment<T> {
        let d = self.depth;
        debug_assert!(d < 32);
        let bit = 63 - u32::from(d);
        let moves = |key: &[u8]| (hash_of(key) >> bit) & 1 == 1;
        let mut new = Segment::new(self.prefix | (1u32 << (31 - d)), d + 1);
        self.depth = d + 1;
        for b in 0..BUCKETS {
            for i in self.ctrl[b].match_full() {
                let idx = b * BUCKET_SLOTS + i;
                if moves(self.slots[idx].key()) {
                    new.ctrl[b].set(i, self.ctrl[b].get(i));
                    self.ctrl[b].set(i, EMPTY);
                    new.slots[idx] = std::mem::take(&mut self.slots[idx]);
                    new.len += 1;
                }
            }
        }
        if !self.stash.is_empty() {
            let (go, stay) = std::mem::take(&mut self.stash)
                .into_iter()
                .partition(|it: &T| moves(it.key()));
            new.stash = go;
            self.stash = stay;
            new.len += new.stash.len() as u32;
        }
        self.len -= new.len;
        new
    }

    /// Calls `f` on every item of bucket `b` (`STASH_BUCKET` = the stash); returns how many.
    pub(super) fn visit_bucket(&self, b: usize, f: &mut impl FnMut(&T)) -> usize {
        if b == STASH_BUCKET {
            self.stash.iter().for_each(&mut *f);
            return self.stash.len();
        }
        let mut n = 0;
        for i in self.ctrl[b].match_full() {
            f(&self.slots[b * BUCKET_SLOTS + i]);
            n += 1;
        }
        n
    }

    /// True if the stash holds items (only then does SCAN visit `STASH_BUCKET`).
    pub(super) fn has_stash(&self) -> bool {
        !self.stash.is_empty()
    }

    /// A pseudo-random item chosen from `r`, if the segment is not empty.
    pub(super) fn pick(&self, r: u64) -> Option<&T> {
        let start = home(r);
        let nth = (r >> 32) as usize;
        for k in 0..BUCKETS {
            let b = (start + k) & (BUCKETS - 1);
            let full = self.ctrl[b].match_full();
            if !full.is_empty() {
                let mut full = full;
                let i = full.nth(nth % full.len())?;
                return Some(&self.slots[b * BUCKET_SLOTS + i]);
            }
        }
        self.stash.get(nth % self.stash.len().max(1))
    }

    /// The unit (bucket, or `STASH_BUCKET`) holding the item at `loc`.
    pub(super) fn unit_of(loc: Loc) -> usize {
        match loc {
            Loc::Slot(idx) => idx / BUCKET_SLOTS,
            Loc::Stash(_) => STASH_BUCKET,
        }
    }

    /// Mask of the buckets a new item of `hash` may be placed in (its probe window).
    pub(super) fn window_units(hash: u64) -> u128 {
        let start = home(hash);
        (0..PROBE).fold(0, |m, k| m | 1u128 << ((start + k) & (BUCKETS - 1)))
    }

    /// Moves the items of every unit not in `skip` out (the segment is consumed), for a
    /// snapshot keeping the unserialized part of a segment that is being dropped anyway.
    pub(super) fn into_items_except(self, skip: u128) -> Vec<T> {
        let mut out = Vec::new();
        let Segment {
            ctrl, slots, stash, ..
        } = self;
        let mut slots = slots.into_vec();
        for (b, c) in ctrl.iter().enumerate() {
            if skip & (1u128 << b) != 0 {
                continue;
            }
            for i in c.match_full() {
                out.push(std::mem::take(&mut slots[b * BUCKET_SLOTS + i]));
            }
        }
        if skip & (1u128 << STASH_BUCKET) == 0 {
            out.extend(stash);
        }
        out
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.ctrl
            .iter()
            .enumerate()
            .flat_map(move |(b, c)| {
                c.match_full()
                    .map(move |i| &self.slots[b * BUCKET_SLOTS + i])
            })
            .chain(self.stash.iter())
    }

    /// Bytes this segment owns on the heap (not counting the items' own allocations).
    pub(super) fn heap_bytes(&self) -> usize {
        size_of::<[Ctrl; BUCKETS]>() + (self.slots.len() + self.stash.capacity()) * size_of::<T>()
    }

    pub(super) fn stash_len(&self) -> usize {
        self.stash.len()
    }

    /// Test-only deep check of the module invariants.
    #[cfg(test)]
    pub(super) fn check(&self, hash_of: &impl Fn(&[u8]) -> u64) {
        let mut n = 0;
        for b in 0..BUCKETS {
            for i in 0..BUCKET_SLOTS {
                let c = self.ctrl[b].get(i);
                let item = &self.slots[b * BUCKET_SLOTS + i];
                if c == EMPTY {
                    assert!(item.key().is_empty(), "free slot holds an item");
                    continue;
                }
                n += 1;
                let h = hash_of(item.key());
                assert_eq!(c, tag(h));
                assert!((b + BUCKETS - home(h)) % BUCKETS < PROBE, "outside window");
                self.check_prefix(h);
            }
        }
        for it in &self.stash {
            self.check_prefix(hash_of(it.key()));
        }
        assert_eq!(n + self.stash.len(), self.len as usize);
    }

    #[cfg(test)]
    fn check_prefix(&self, h: u64) {
        let top = (h >> 32) as u32;
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.depth))
            .unwrap_or(0);
        assert_eq!(top & mask, self.prefix, "item in wrong segment");
    }
}
