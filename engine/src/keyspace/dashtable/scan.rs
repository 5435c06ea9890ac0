//! Cursor-based SCAN and random sampling over the DashTable.
//!
//! The cursor layout and the at-least-once argument are in the parent module's doc. This module
//! only reads the table; it relies on the parent's guarantee that items change position only
//! when a split moves them to the same bucket of a higher-prefix segment.

use std::hash::BuildHasher;

use super::segment::{BUCKETS, STASH_BUCKET, Segment};
use super::{DashTable, Keyed};

/// Bits of the cursor holding the bucket index.
const BUCKET_BITS: u32 = 7;
const _: () = assert!(STASH_BUCKET < 1 << BUCKET_BITS);
/// Like Redis, a call gives up after this many empty buckets per requested item, so a sparse
/// table cannot make one call walk the whole table.
const EMPTY_BUCKETS_PER_ITEM: usize = 10;

fn encode(prefix: u32, bucket: usize) -> u64 {
    (u64::from(prefix) << BUCKET_BITS) | bucket as u64
}

fn decode(cursor: u64) -> (u32, usize) {
    let bucket = (cursor & ((1 << BUCKET_BITS) - 1)) as usize;
    // Truncation drops bits 39 and up, which belong to the caller.
    ((cursor >> BUCKET_BITS) as u32, bucket)
}

/// The prefix right after `seg`'s range, or `None` if `seg` is the last segment.
fn next_prefix<T>(seg: &Segment<T>) -> Option<u32> {
    let next = u64::from(seg.prefix) + (1u64 << (32 - u32::from(seg.depth)));
    u32::try_from(next).ok()
}

/// splitmix64 finalizer: derives independent-looking bits from one random word.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl<T: Keyed, S: BuildHasher> DashTable<T, S> {
    /// SCAN: visit whole buckets starting at `cursor` (0 = start) until at least `min_items` items
    /// were visited, `10 * min_items` empty buckets were passed, or the table ends; returns the
    /// next cursor (0 = finished). An item present for the whole scan is visited at least once
    /// even if segments split between calls; items may be visited more than once.
    pub fn scan(&self, cursor: u64, min_items: usize, mut f: impl FnMut(&T)) -> u64 {
        let (mut prefix, mut bucket) = decode(cursor);
        let want = min_items.max(1);
        let empty_budget = want.saturating_mul(EMPTY_BUCKETS_PER_ITEM);
        let (mut seen, mut empties) = (0usize, 0usize);
        loop {
            let seg = &self.segs[self.dir[self.dir_pos(prefix)] as usize];
            debug_assert!(seg.prefix <= prefix);
            let last = if seg.has_stash() {
                STASH_BUCKET
            } else {
                BUCKETS - 1
            };
            if bucket <= last {
                let n = seg.visit_bucket(bucket, &mut f);
                seen += n;
                empties += usize::from(n == 0);
                bucket += 1;
            }
            if bucket > last {
                match next_prefix(seg) {
                    Some(p) => (prefix, bucket) = (p, 0),
                    None => return 0,
                }
            } else {
                // Normally equal already; after `clear` or with a made-up cursor `prefix` may
                // lie inside the segment's range, and the segment's own start is canonical.
                prefix = seg.prefix;
            }
            if seen >= want || empties >= empty_budget {
                return encode(prefix, bucket);
            }
        }
    }

    /// A pseudo-random item picked from `rand` (not exactly uniform), or `None` if empty.
    pub fn random_item(&self, rand: u64) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        let n = self.segs.len();
        let start = (rand % n as u64) as usize;
        let r = mix(rand);
        (0..n)
            .map(|k| &self.segs[(start + k) % n])
            .find(|seg| seg.len > 0)
            .and_then(|seg| seg.pick(r))
    }
}
