//! Per-term posting lists. A list keeps three parallel pieces: `docs` (sorted, unique doc
//! ids), `offs` (start of each doc's entry in `data`) and `data`, an append-only byte arena of
//! entries. An entry is
//! `u8 nfields, nfields × { u8 field_id, varint tf, varint nbytes, nbytes of position deltas }`
//! with field ids strictly increasing and positions (1-based, per field) strictly increasing,
//! delta-encoded as varints (first delta from 0).
//!
//! Appending a doc larger than the last is O(1); an out-of-order insert shifts `docs`/`offs`
//! but appends the bytes. Removing a doc leaves its bytes as garbage that `compact` reclaims
//! (it runs automatically once garbage exceeds half the arena).
//!
//! Score bounds for top-k pruning (block-max): `meta` holds, per posting, the entry's term
//! frequency summed over its fields (saturated at [`TF_SAT`], which means "at least") and the
//! doc's total length at insert time (saturated at [`LEN_SAT`], a lower bound); `blocks` holds,
//! per run of [`BLOCK`] postings (by index), the largest tf and the smallest length of the run.
//! Invariant: `meta.len() == docs.len()`, `blocks.len() == ceil(docs.len() / BLOCK)` and every
//! block summarises exactly its current postings (rebuilt from the first shifted block on an
//! out-of-order insert or a removal). A doc's length can only change by re-adding it, which
//! replaces its posting (and so its meta), so the stored length stays that of the doc.

use roaring::RoaringBitmap;

use crate::codec::{get_varint, put_varint};

/// Postings per score-bound block.
pub const BLOCK: usize = 128;
/// Saturated tf in [`PostingList::meta`]: the entry's tf is at least this.
pub const TF_SAT: u32 = 255;
/// Saturated length in [`PostingList::meta`] (a lower bound of the doc's length).
pub const LEN_SAT: u32 = (1 << 24) - 1;

/// Packs a posting's (or block's) tf and doc length: tf in the top byte, length below.
fn pack(tf: u32, len: u32) -> u32 {
    (tf.min(TF_SAT) << 24) | len.min(LEN_SAT)
}

/// (tf, length) of a packed meta word.
pub fn unpack(m: u32) -> (u32, u32) {
    (m >> 24, m & LEN_SAT)
}

#[derive(Default, Clone, Debug)]
pub struct PostingList {
    docs: Vec<u32>,
    offs: Vec<u32>,
    data: Vec<u8>,
    garbage: usize,
    meta: Vec<u32>,
    blocks: Vec<u32>,
}

/// One field's slice of an entry.
#[derive(Clone, Copy, Debug)]
pub struct FieldHit<'a> {
    pub field: u8,
    pub tf: u32,
    /// Delta-encoded varint positions.
    pub positions: &'a [u8],
}

impl FieldHit<'_> {
    /// Decodes the positions into `out` (appending).
    pub fn decode_positions(&self, out: &mut Vec<u32>) {
        let mut p = 0;
        let mut last = 0u32;
        while let Some(d) = get_varint(self.positions, &mut p) {
            last = last.wrapping_add(d as u32);
            out.push(last);
        }
    }
}

/// Iterates the fields of an encoded entry. Entries are produced by this crate (or validated
/// by the snapshot decoder) so malformed data just ends the iteration early.
pub struct FieldIter<'a> {
    data: &'a [u8],
    pos: usize,
    left: u8,
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = FieldHit<'a>;
    fn next(&mut self) -> Option<FieldHit<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = *self.data.get(self.pos)?;
        self.pos += 1;
        let tf = get_varint(self.data, &mut self.pos)? as u32;
        let n = get_varint(self.data, &mut self.pos)? as usize;
        let positions = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(FieldHit {
            field,
            tf,
            positions,
        })
    }
}

pub fn entry_fields(entry: &[u8]) -> FieldIter<'_> {
    FieldIter {
        data: entry,
        pos: 1,
        left: entry.first().copied().unwrap_or(0),
    }
}

/// Bit mask of the fields present in an entry.
pub fn entry_mask(entry: &[u8]) -> u64 {
    entry_fields(entry).fold(0u64, |m, h| m | (1u64 << (h.field & 63)))
}

/// Encodes one entry from `(field, pos)` pairs sorted by field then position.
pub fn encode_entry(occ: &[(u8, u32)], out: &mut Vec<u8>) {
    debug_assert!(occ.windows(2).all(|w| w[0] < w[1]));
    let start = out.len();
    out.push(0);
    let mut nfields = 0u8;
    let mut i = 0;
    let mut tmp = Vec::new();
    while i < occ.len() {
        let f = occ[i].0;
        let mut j = i;
        tmp.clear();
        let mut last = 0u32;
        while j < occ.len() && occ[j].0 == f {
            put_varint(&mut tmp, u64::from(occ[j].1 - last));
            last = occ[j].1;
            j += 1;
        }
        out.push(f);
        put_varint(out, (j - i) as u64);
        put_varint(out, tmp.len() as u64);
        out.extend_from_slice(&tmp);
        nfields += 1;
        i = j;
    }
    out[start] = nfields;
}

impl PostingList {
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    pub fn docs(&self) -> &[u32] {
        &self.docs
    }

    pub fn entry(&self, idx: usize) -> &[u8] {
        let start = self.offs[idx] as usize;
        let end = self.entry_end(start);
        &self.data[start..end]
    }

    /// The arena from `idx`'s entry to the end: entries are self-delimiting, so readers that
    /// walk the fields need not compute the end first (hot scoring path).
    pub fn entry_open(&self, idx: usize) -> &[u8] {
        &self.data[self.offs[idx] as usize..]
    }

    /// End of the entry starting at `start`: walks the field headers (entries are not stored
    /// with their own length to keep postings small).
    fn entry_end(&self, start: usize) -> usize {
        let d = &self.data;
        let Some(&n) = d.get(start) else { return start };
        let mut p = start + 1;
        for _ in 0..n {
            p += 1;
            if get_varint(d, &mut p).is_none() {
                return d.len();
            }
            let Some(len) = get_varint(d, &mut p) else {
                return d.len();
            };
            p = p.saturating_add(len as usize).min(d.len());
        }
        p
    }

    pub fn find(&self, doc: u32) -> Option<usize> {
        self.docs.binary_search(&doc).ok()
    }

    /// First index ≥ `from` whose doc is ≥ `doc` (galloping, for monotone cursors).
    pub fn seek(&self, from: usize, doc: u32) -> usize {
        let d = &self.docs;
        if from >= d.len() || d[from] >= doc {
            return from;
        }
        let mut step = 1;
        let mut lo = from;
        let mut hi = from + 1;
        while hi < d.len() && d[hi] < doc {
            lo = hi;
            step *= 2;
            hi = hi.saturating_add(step);
        }
        let hi = hi.min(d.len());
        lo + d[lo..hi].partition_point(|&x| x < doc)
    }

    /// Packed (tf, doc length) of the posting at `idx` (see the module docs).
    pub fn meta(&self) -> &[u32] {
        &self.meta
    }

    /// Packed (max tf, min doc length) per [`BLOCK`] postings.
    pub fn blocks(&self) -> &[u32] {
        &self.blocks
    }

    /// Recomputes the block summaries from the block holding posting `from` to the end.
    fn rebuild_blocks(&mut self, from: usize) {
        let first = from / BLOCK;
        self.blocks.truncate(first);
        for chunk in self.meta[(first * BLOCK).min(self.meta.len())..].chunks(BLOCK) {
            self.blocks.push(summarise(chunk));
        }
    }

    /// Inserts (or replaces) `doc`'s entry; `len` is the doc's total length (a lower bound
    /// is enough: it only feeds score bounds). Returns false if the arena would exceed u32
    /// offsets.
    pub fn insert(&mut self, doc: u32, entry: &[u8], len: u32) -> bool {
        let Ok(off) = u32::try_from(self.data.len()) else {
            return false;
        };
        if self.data.len().saturating_add(entry.len()) > u32::MAX as usize {
            return false;
        }
        self.data.extend_from_slice(entry);
        let tf = entry_fields(entry).fold(0u32, |a, h| a.saturating_add(h.tf));
        let m = pack(tf, len);
        match self.docs.last() {
            Some(&last) if last >= doc => match self.docs.binary_search(&doc) {
                Ok(i) => {
                    self.garbage += self.entry_end(self.offs[i] as usize) - self.offs[i] as usize;
                    self.offs[i] = off;
                    self.meta[i] = m;
                    self.rebuild_blocks(i);
                }
                Err(i) => {
                    self.docs.insert(i, doc);
                    self.offs.insert(i, off);
                    self.meta.insert(i, m);
                    self.rebuild_blocks(i);
                }
            },
            _ => {
                self.docs.push(doc);
                self.offs.push(off);
                self.meta.push(m);
                let n = self.meta.len();
                if n % BLOCK == 1 {
                    self.blocks.push(m);
                } else if let Some(b) = self.blocks.last_mut() {
                    *b = merge_summary(*b, m);
                }
            }
        }
        debug_assert_eq!(self.docs.len(), self.offs.len());
        debug_assert_eq!(self.docs.len(), self.meta.len());
        debug_assert_eq!(self.blocks.len(), self.docs.len().div_ceil(BLOCK));
        debug_assert!(
            self.docs.len() < 2 || self.docs[self.docs.len() - 2] < self.docs[self.docs.len() - 1]
        );
        true
    }

    pub fn remove(&mut self, doc: u32) -> bool {
        match self.docs.binary_search(&doc) {
            Ok(i) => {
                let s = self.offs[i] as usize;
                self.garbage += self.entry_end(s) - s;
                self.docs.remove(i);
                self.offs.remove(i);
                self.meta.remove(i);
                self.rebuild_blocks(i);
                self.maybe_compact();
                true
            }
            Err(_) => false,
        }
    }

    /// Drops every doc in `gone` in one pass; returns how many were dropped.
    pub fn remove_all(&mut self, gone: &RoaringBitmap) -> usize {
        let before = self.docs.len();
        let mut w = 0;
        for r in 0..self.docs.len() {
            let doc = self.docs[r];
            if gone.contains(doc) {
                let s = self.offs[r] as usize;
                self.garbage += self.entry_end(s) - s;
            } else {
                self.docs[w] = doc;
                self.offs[w] = self.offs[r];
                self.meta[w] = self.meta[r];
                w += 1;
            }
        }
        self.docs.truncate(w);
        self.offs.truncate(w);
        self.meta.truncate(w);
        if w != before {
            self.rebuild_blocks(0);
        }
        self.maybe_compact();
        before - w
    }

    fn maybe_compact(&mut self) {
        if self.garbage > 64 && self.garbage * 2 > self.data.len() {
            self.compact();
        }
    }

    /// Rewrites the arena without garbage, in doc order.
    pub fn compact(&mut self) {
        let mut data = Vec::with_capacity(self.data.len() - self.garbage.min(self.data.len()));
        for i in 0..self.docs.len() {
            let s = self.offs[i] as usize;
            let e = self.entry_end(s);
            self.offs[i] = data.len() as u32;
            data.extend_from_slice(&self.data[s..e]);
        }
        self.data = data;
        self.garbage = 0;
    }

    /// Bytes held (docs + offsets + arena), for memory reporting.
    pub fn heap_bytes(&self) -> usize {
        self.docs.capacity() * 4
            + self.offs.capacity() * 4
            + self.meta.capacity() * 4
            + self.blocks.capacity() * 4
            + self.data.capacity()
    }

    /// Appends an entry for a doc larger than every doc in the list (decoder); false if the
    /// order is violated or the arena is full.
    pub fn push_sorted(&mut self, doc: u32, entry: &[u8], len: u32) -> bool {
        if self.docs.last().is_some_and(|&l| l >= doc) {
            return false;
        }
        self.insert(doc, entry, len)
    }

    pub fn with_capacity(docs: usize, bytes: usize) -> PostingList {
        PostingList {
            docs: Vec::with_capacity(docs),
            offs: Vec::with_capacity(docs),
            data: Vec::with_capacity(bytes),
            garbage: 0,
            meta: Vec::with_capacity(docs),
            blocks: Vec::with_capacity(docs.div_ceil(BLOCK)),
        }
    }
}

/// Max tf and min length of two packed words.
fn merge_summary(a: u32, b: u32) -> u32 {
    let ((ta, la), (tb, lb)) = (unpack(a), unpack(b));
    pack(ta.max(tb), la.min(lb))
}

/// Summary of a block's packed metas (an empty block cannot occur; it would read as tf 0).
fn summarise(chunk: &[u32]) -> u32 {
    let (mut tf, mut len) = (0u32, LEN_SAT);
    for &m in chunk {
        tf = tf.max(m >> 24);
        len = len.min(m & LEN_SAT);
    }
    pack(tf, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(occ: &[(u8, u32)]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_entry(occ, &mut v);
        v
    }

    #[test]
    fn entry_round_trip() {
        let e = entry(&[(0, 1), (0, 5), (3, 2), (3, 300)]);
        let hits: Vec<_> = entry_fields(&e).collect();
        assert_eq!(hits.len(), 2);
        assert_eq!(
            (hits[0].field, hits[0].tf, hits[1].field, hits[1].tf),
            (0, 2, 3, 2)
        );
        let mut p = Vec::new();
        hits[1].decode_positions(&mut p);
        assert_eq!(p, [2, 300]);
        assert_eq!(entry_mask(&e), 0b1001);
    }

    #[test]
    fn insert_out_of_order_replace_remove_compact() {
        let mut pl = PostingList::default();
        for d in [5u32, 9, 2, 7] {
            assert!(pl.insert(d, &entry(&[(0, d)]), d));
        }
        assert_eq!(pl.docs(), [2, 5, 7, 9]);
        pl.insert(7, &entry(&[(1, 1), (1, 2)]), 3);
        assert_eq!(pl.docs(), [2, 5, 7, 9]);
        let i = pl.find(7).unwrap();
        assert_eq!(entry_fields(pl.entry(i)).next().unwrap().tf, 2);
        assert!(pl.remove(5));
        assert!(!pl.remove(5));
        let gone: RoaringBitmap = [2u32, 9].into_iter().collect();
        assert_eq!(pl.remove_all(&gone), 2);
        pl.compact();
        assert_eq!(pl.docs(), [7]);
        assert_eq!(entry_fields(pl.entry(0)).next().unwrap().field, 1);
        assert_eq!(pl.seek(0, 8), 1);
    }

    #[test]
    fn seek_gallops() {
        let mut pl = PostingList::default();
        for d in (0..1000u32).map(|x| x * 3) {
            pl.insert(d, &entry(&[(0, 1)]), 1);
        }
        assert_eq!(pl.seek(0, 0), 0);
        assert_eq!(pl.seek(0, 1), 1);
        assert_eq!(pl.seek(10, 300), 100);
        assert_eq!(pl.seek(10, 301), 101);
        assert_eq!(pl.seek(0, 5000), 1000);
    }

    /// Every block summarises exactly its postings, whatever the insert/remove order.
    fn assert_blocks(pl: &PostingList) {
        let want: Vec<u32> = pl.meta().chunks(BLOCK).map(summarise).collect();
        assert_eq!(pl.blocks(), want.as_slice());
        assert_eq!(pl.meta().len(), pl.len());
    }

    #[test]
    fn block_bounds_follow_inserts_and_removes() {
        let mut pl = PostingList::default();
        // Appends, then out-of-order inserts, replacements and removals across blocks.
        for d in (0..700u32).map(|x| x * 2) {
            let occ: Vec<(u8, u32)> = (1..=(d % 7 + 1)).map(|p| (0u8, p)).collect();
            assert!(pl.insert(d, &entry(&occ), 10 + d % 13));
        }
        assert_blocks(&pl);
        assert_eq!(unpack(pl.meta()[3]), (7, 16));
        for d in [1u32, 301, 999, 5] {
            pl.insert(d, &entry(&[(0, 1), (1, 4)]), 2);
            assert_blocks(&pl);
        }
        pl.insert(300, &entry(&[(0, 1)]), 1);
        assert_blocks(&pl);
        assert!(pl.remove(0));
        assert_blocks(&pl);
        let gone: RoaringBitmap = (0..400u32).filter(|d| d % 3 == 0).collect();
        pl.remove_all(&gone);
        assert_blocks(&pl);
        // Saturation: tf at least TF_SAT, length at most LEN_SAT.
        let big: Vec<(u8, u32)> = (1..=300).map(|p| (0u8, p)).collect();
        pl.insert(5000, &entry(&big), u32::MAX);
        assert_eq!(unpack(*pl.meta().last().unwrap()), (TF_SAT, LEN_SAT));
        assert_blocks(&pl);
    }
}
