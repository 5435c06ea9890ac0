//! Serialize-before-write at bucket granularity, for forkless point-in-time snapshots.
//!
//! [`DashTable::snapshot_begin`] freezes an *image*: every segment existing at that moment, as
//! it is then. The image is then serialized one segment at a time by
//! [`DashTable::snapshot_step`] while the table keeps serving writes. A segment is made of 65
//! *units*: its 64 buckets and its stash. Items never move between units of a segment (a
//! placement fills a free slot of the item's window, a removal empties one; only a split moves
//! items, to another segment), so the image of a unit stays valid until that unit is written.
//! Each image segment is in one of three states:
//! - `Pending(done)`: the units in the `done` mask are serialized; the others are untouched
//!   since begin, so the live segment's units *are* their image;
//! - `Preserved`: [`DashTable::clear`] dropped it before it was fully serialized, so the items
//!   of its remaining units were moved (not copied) out and are its image;
//! - `Done`: serialized; writes to it no longer concern the snapshot.
//!
//! Every mutating path of the table calls [`DashTable::preserve_units`] with the units it is
//! about to change while a snapshot runs: the unit holding the item (replace, remove, mutable
//! access), the item's whole probe window (placing a new item), the stash (stashing), all 65
//! (split). Units not yet serialized are serialized on the spot (the caller's encoder appends
//! their items to `out`, which the next step hands to the snapshot writer) before the write
//! goes ahead. So a snapshot never holds a second copy of the data, and a write pays for at
//! most its own few buckets (Dragonfly serializes a bucket before it changes; `fork()` copies
//! whole pages instead). When no snapshot runs that is one well-predicted branch on a `None`.
//! Mutable access that only touches data outside the image (the access clock / LFU counter)
//! uses [`DashTable::get_mut_hashed_untracked`] and never serializes.
//!
//! Invariants:
//! - segment ids at begin are `0..states.len()`; segments created later (splits, the fresh
//!   segment of a `clear`) get ids that are either `>= states.len()` or belong to a state that
//!   is no longer `Pending` (a `clear` resolves every `Pending` state first), so a `Pending`
//!   state always designates the untouched original segment;
//! - the states before `cursor` are `Done`; states after it may be `Done` too (serialized by
//!   writes), and are skipped;
//! - `cow_bytes` is the sum of `size_of::<T>() + size_of(item)` over the preserved items.

use std::hash::BuildHasher;

use super::segment::{BUCKETS, STASH_BUCKET, Segment};
use super::{DashTable, Keyed};

/// Mask of a segment's units: bits `0..BUCKETS` are its buckets, bit `STASH_BUCKET` its stash.
pub(super) type Units = u128;

/// Every unit of a segment.
pub(super) const ALL_UNITS: Units = (1 << (STASH_BUCKET + 1)) - 1;

const _: () = assert!(STASH_BUCKET == BUCKETS && BUCKETS < 128);

/// The unit bit of bucket `b` (or `STASH_BUCKET`).
pub(super) fn unit(b: usize) -> Units {
    debug_assert!(b <= STASH_BUCKET);
    1 << b
}

/// The snapshot state of one table.
pub(super) struct Snap<T> {
    /// Caller-chosen label carried with the table (the image's database index), so that a
    /// table moved elsewhere (SWAPDB) still reports where its image belongs.
    tag: usize,
    /// One state per segment that existed at begin.
    states: Vec<SegState<T>>,
    /// Next state to serialize.
    cursor: usize,
    /// Bytes held by preserved copies.
    cow_bytes: usize,
    /// Heap bytes an item owns beyond its inline size.
    size_of: fn(&T) -> usize,
    /// Appends an item's snapshot record to the buffer; false if it cannot be encoded.
    encode: fn(&T, &mut Vec<u8>) -> bool,
    /// Records of segments serialized by writes, not yet handed to the writer.
    out: Vec<u8>,
    /// Key of the first item `encode` refused (the snapshot fails at the next step).
    failed: Option<Vec<u8>>,
}

enum SegState<T> {
    /// The mask holds the units already serialized.
    Pending(Units),
    Preserved(Vec<T>),
    Done,
}

impl<T: Keyed> Snap<T> {
    /// Serializes the units of `mask` of segment `s` (currently `seg`) that the image still
    /// needs, before a write changes them.
    #[inline]
    pub(super) fn preserve(&mut self, s: usize, seg: &Segment<T>, mask: Units) {
        if let Some(SegState::Pending(done)) = self.states.get(s)
            && mask & !*done != 0
        {
            let done = *done;
            self.serialize_now(s, seg, mask & !done, done);
        }
    }

    /// Serializes units `todo` of segment `s` into `out`.
    #[cold]
    fn serialize_now(&mut self, s: usize, seg: &Segment<T>, todo: Units, done: Units) {
        debug_assert!(s >= self.cursor, "a serialized segment is never preserved");
        let (encode, out, failed) = (self.encode, &mut self.out, &mut self.failed);
        for_units(todo, |b| {
            seg.visit_bucket(b, &mut |it: &T| {
                if !encode(it, out) && failed.is_none() {
                    *failed = Some(it.key().to_vec());
                }
            });
        });
        if let Some(st) = self.states.get_mut(s) {
            let now = done | todo;
            *st = if now == ALL_UNITS {
                SegState::Done
            } else {
                SegState::Pending(now)
            };
        }
    }

    /// Stores `items` as the image of segment `s`.
    #[cold]
    fn copy_out(&mut self, s: usize, items: Vec<T>) {
        debug_assert!(s >= self.cursor, "a serialized segment is never preserved");
        self.cow_bytes += self.bytes_of(&items);
        if let Some(st) = self.states.get_mut(s) {
            *st = SegState::Preserved(items);
        }
    }

    /// What `items` count for in `cow_bytes`.
    fn bytes_of(&self, items: &[T]) -> usize {
        items
            .iter()
            .map(|it| std::mem::size_of::<T>() + (self.size_of)(it))
            .sum()
    }

    /// Resolves every pending state with the segments about to be dropped by a clear.
    pub(super) fn preserve_all(&mut self, old: Vec<Segment<T>>) {
        for (s, seg) in old.into_iter().enumerate() {
            if let Some(SegState::Pending(done)) = self.states.get(s) {
                let done = *done;
                self.copy_out(s, seg.into_items_except(done));
            }
        }
        debug_assert!(
            !self
                .states
                .iter()
                .any(|st| matches!(st, SegState::Pending(_))),
            "every image segment existed in the cleared table"
        );
    }
}

impl<T: Keyed, S: BuildHasher> DashTable<T, S> {
    /// Starts a snapshot: the current contents become the image, labelled `tag`. `size_of`
    /// gives the heap bytes an item owns (for [`DashTable::snapshot_cow_bytes`]). A snapshot
    /// already running is replaced (callers check [`DashTable::snapshot_tag`] first).
    pub fn snapshot_begin(
        &mut self,
        tag: usize,
        size_of: fn(&T) -> usize,
        encode: fn(&T, &mut Vec<u8>) -> bool,
    ) {
        debug_assert!(self.snap.is_none(), "snapshot already running");
        self.snap = Some(Box::new(Snap {
            tag,
            states: (0..self.segs.len()).map(|_| SegState::Pending(0)).collect(),
            cursor: 0,
            cow_bytes: 0,
            size_of,
            encode,
            out: Vec::new(),
            failed: None,
        }));
    }

    /// The running snapshot's label, `None` if no snapshot runs.
    pub fn snapshot_tag(&self) -> Option<usize> {
        self.snap.as_ref().map(|s| s.tag)
    }

    /// Bytes held by preserved segment copies (0 when no snapshot runs).
    pub fn snapshot_cow_bytes(&self) -> usize {
        self.snap
            .as_ref()
            .map_or(0, |s| s.cow_bytes + s.out.capacity())
    }

    /// Drops the running snapshot, if any, and its preserved copies.
    pub fn snapshot_abort(&mut self) {
        self.snap = None;
    }

    /// Serializes the next image segment: calls `f` on each of its items (in no particular
    /// order) and returns how many there were, or `None` if no snapshot runs. The state is
    /// cleared after the last segment, so the call that returns the last segment leaves
    /// [`DashTable::snapshot_tag`] at `None`. On an error from `f` the snapshot stays where it
    /// was (callers abort it).
    pub fn snapshot_step<E>(
        &mut self,
        mut f: impl FnMut(&T) -> Result<(), E>,
    ) -> Result<Option<usize>, E> {
        let Some(snap) = self.snap.as_deref_mut() else {
            return Ok(None);
        };
        while matches!(snap.states.get(snap.cursor), Some(SegState::Done)) {
            snap.cursor += 1;
        }
        if snap.cursor == snap.states.len() {
            // Finished only once the records of write-serialized segments were taken.
            if snap.out.is_empty() && snap.failed.is_none() {
                debug_assert_eq!(snap.cow_bytes, 0);
                self.snap = None;
            }
            return Ok(Some(0));
        }
        let s = snap.cursor;
        let Some(state) = snap.states.get_mut(s) else {
            // A table always has a segment, so this is reached only through misuse.
            self.snap = None;
            return Ok(None);
        };
        let n = match std::mem::replace(state, SegState::Done) {
            SegState::Pending(done) => {
                let seg = &self.segs[s];
                let mut n = 0;
                let mut err = None;
                for_units(ALL_UNITS & !done, |b| {
                    if err.is_none() {
                        seg.visit_bucket(b, &mut |it: &T| {
                            if err.is_none() {
                                match f(it) {
                                    Ok(()) => n += 1,
                                    Err(e) => err = Some(e),
                                }
                            }
                        });
                    }
                });
                if let Some(e) = err {
                    *state = SegState::Pending(done);
                    return Err(e);
                }
                n
            }
            SegState::Preserved(items) => {
                for it in &items {
                    if let Err(e) = f(it) {
                        *state = SegState::Preserved(items);
                        return Err(e);
                    }
                }
                snap.cow_bytes -= snap.bytes_of(&items);
                items.len()
            }
            SegState::Done => {
                debug_assert!(false, "state at the cursor is never done");
                0
            }
        };
        snap.cursor += 1;
        while matches!(snap.states.get(snap.cursor), Some(SegState::Done)) {
            snap.cursor += 1;
        }
        if snap.cursor == snap.states.len() && snap.out.is_empty() && snap.failed.is_none() {
            debug_assert_eq!(snap.cow_bytes, 0);
            self.snap = None;
        }
        Ok(Some(n))
    }

    /// Takes the records of segments that writes serialized since the last call (in the
    /// encoder's format), or `Err(key)` if an item could not be encoded (the snapshot must
    /// fail). Call it before every [`DashTable::snapshot_step`]: a snapshot finishes only once
    /// these records were taken.
    pub fn snapshot_take_out(&mut self) -> Result<Vec<u8>, Vec<u8>> {
        let Some(snap) = self.snap.as_deref_mut() else {
            return Ok(Vec::new());
        };
        if let Some(key) = snap.failed.take() {
            return Err(key);
        }
        Ok(std::mem::take(&mut snap.out))
    }

    /// Serialize-before-write hook: serializes the units `mask` of segment `s` before they
    /// change, if a running snapshot still needs their current contents.
    #[inline]
    pub(super) fn preserve_units(&mut self, s: usize, mask: Units) {
        if let Some(snap) = self.snap.as_deref_mut() {
            snap.preserve(s, &self.segs[s], mask);
        }
    }

    /// True if a unit of `mask` of segment `s` still awaits serialization (debug assertions).
    pub(super) fn snapshot_pending(&self, s: usize, mask: Units) -> bool {
        self.snap.as_ref().is_some_and(|snap| {
            matches!(snap.states.get(s), Some(SegState::Pending(done)) if mask & !*done != 0)
        })
    }
}

/// Calls `f` with each unit index set in `mask`, lowest first.
fn for_units(mut mask: Units, mut f: impl FnMut(usize)) {
    while mask != 0 {
        let b = mask.trailing_zeros() as usize;
        f(b);
        mask &= mask - 1;
    }
}
