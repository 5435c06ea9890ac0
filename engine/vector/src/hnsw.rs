//! HNSW graph index (Malkov & Yashunin), with tombstone deletes, link repair and slot reuse.
//!
//! Layout (slot = dense `u32` position; `slot_ids[s]` its external id, `id_slots` the inverse):
//! - vectors in [`Storage`] (one f32 arena or a disk file, plus optional TurboQuant codes);
//! - level-0 links in `links0`, bytes, fixed stride `2 + 3·m0`: a `u16` count, then `m0`
//!   3-byte little-endian slot numbers (which caps a graph at [`MAX_SLOTS`] slots and saves a
//!   fifth of the per-vector memory of a TurboQuant-4 index, SPEC.md §9.4);
//! - links of levels ≥ 1 in the flat `upper` array: slot `s` owns `upper_cap[s]` consecutive
//!   lists of stride `m + 1` from `upper_off[s]` (level `l` at `upper_off + (l-1)(m+1)`);
//! - `levels[s]` is the top level of `s`; a list of level `l` only exists when
//!   `l <= levels[s]` (reading a higher one yields no neighbours, which keeps stale links to
//!   a reused slot harmless).
//!
//! Invariants: every link target is `< slots()`; list lengths ≤ `m0` (level 0) or `m`;
//! `entry` (when set) is a live slot whose level is `max_level`; `live` counts the
//! non-deleted slots; `free` holds exactly the deleted slots, which stay traversable (their
//! vector and links are kept) until reused by an insert.
//!
//! Deletes mark the slot and repair, at every level, each neighbour that linked back to it:
//! its list is re-selected (by the heuristic) from its other links and the deleted node's
//! links, so the graph stays navigable without the tombstone. An insert reuses a free slot
//! first. Links pointing to a slot from nodes that were not its neighbours are left; after
//! reuse they are ordinary (if arbitrary) edges.
//!
//! Build distances are always exact (f32); with quantized storage, searches traverse on
//! quantized scores and rerank their `ef` candidates exactly.

use crate::rng::SplitMix64;
use crate::scored::{Scored, sort_results};
use crate::storage::Storage;
use crate::turboquant::TqQuery;
use roaring::RoaringBitmap;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::sync::{Mutex, TryLockError};

/// Most slots a graph may have: level-0 links are stored in 3 bytes.
pub const MAX_SLOTS: usize = 1 << 24;

/// One node's links at one level: 4-byte slots (upper levels) or 3-byte packed (level 0).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Links<'a> {
    Wide(&'a [u32]),
    /// Exactly `3 × len` bytes.
    Packed(&'a [u8]),
}

impl<'a> Links<'a> {
    /// Number of links.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Links::Wide(w) => w.len(),
            Links::Packed(p) => p.len() / 3,
        }
    }

    /// The link targets.
    #[inline]
    pub(crate) fn iter(self) -> LinksIter<'a> {
        match self {
            Links::Wide(w) => LinksIter::Wide(w.iter()),
            Links::Packed(p) => LinksIter::Packed(p.chunks_exact(3)),
        }
    }

    /// Whether `t` is one of the targets.
    pub(crate) fn contains(&self, t: u32) -> bool {
        self.iter().any(|x| x == t)
    }

    /// The targets, copied.
    pub(crate) fn to_vec(self) -> Vec<u32> {
        self.iter().collect()
    }
}

/// Iterator over [`Links`].
pub(crate) enum LinksIter<'a> {
    Wide(std::slice::Iter<'a, u32>),
    Packed(std::slice::ChunksExact<'a, u8>),
}

impl Iterator for LinksIter<'_> {
    type Item = u32;
    #[inline(always)]
    fn next(&mut self) -> Option<u32> {
        match self {
            LinksIter::Wide(w) => w.next().copied(),
            LinksIter::Packed(p) => p.next().map(|b| u32::from_le_bytes([b[0], b[1], b[2], 0])),
        }
    }
}

/// Highest level a node may get (levels are stored in a `u8`; with M ≥ 2 a level above ~20
/// has probability below 2^-20 per node anyway).
pub const MAX_LEVEL: u8 = 31;

/// Construction and search parameters of a graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HnswParams {
    /// Links per node on levels ≥ 1 (level 0 gets `2 * m`).
    pub m: usize,
    /// Candidate list size while inserting.
    pub ef_construction: usize,
    /// Default candidate list size while searching (`max(ef, k)` is used).
    pub ef_runtime: usize,
    /// Relative widening of the range-search boundary (RediSearch `EPSILON`).
    pub epsilon: f32,
    /// Seed of the level generator.
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construction: 200,
            ef_runtime: 10,
            epsilon: 0.01,
            seed: 0x5EED,
        }
    }
}

/// Reusable per-search buffers: generation-stamped visited marks and the two heaps.
#[derive(Debug, Default)]
struct Scratch {
    visited: Vec<u32>,
    stamp: u32,
    cand: BinaryHeap<Reverse<Scored>>,
    top: BinaryHeap<Scored>,
    batch: Vec<u32>,
}

impl Scratch {
    /// Starts a new search over `slots` slots: nothing is visited afterwards.
    fn begin(&mut self, slots: usize) {
        if self.visited.len() < slots {
            self.visited.resize(slots, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.visited.iter_mut().for_each(|v| *v = 0);
            self.stamp = 1;
        }
        self.cand.clear();
        self.top.clear();
    }

    /// Marks `slot`; true when it was not yet visited in this search.
    #[inline(always)]
    fn visit(&mut self, slot: u32) -> bool {
        match self.visited.get_mut(slot as usize) {
            Some(v) if *v != self.stamp => {
                *v = self.stamp;
                true
            }
            _ => false,
        }
    }
}

/// How a search scores slots: exact f32 or quantized codes.
enum Scorer<'a> {
    Exact(&'a [f32]),
    Quant(&'a TqQuery),
}

/// The HNSW graph and its vectors.
#[derive(Debug)]
pub struct HnswIndex {
    pub(crate) storage: Storage,
    pub(crate) params: HnswParams,
    m0: usize,
    level_mult: f64,
    pub(crate) rng: SplitMix64,
    pub(crate) slot_ids: Vec<u32>,
    id_slots: HashMap<u32, u32>,
    pub(crate) levels: Vec<u8>,
    pub(crate) deleted: Vec<bool>,
    links0: Vec<u8>,
    upper_off: Vec<u32>,
    upper_cap: Vec<u8>,
    upper: Vec<u32>,
    pub(crate) entry: Option<u32>,
    pub(crate) max_level: u8,
    free: Vec<u32>,
    live: usize,
    scratch: Mutex<Scratch>,
}

impl HnswIndex {
    /// An empty graph over `storage` (`params.m >= 2`, checked by the facade).
    pub(crate) fn new(storage: Storage, params: HnswParams) -> Self {
        let m = params.m.max(2);
        Self {
            storage,
            params: HnswParams { m, ..params },
            m0: 2 * m,
            level_mult: 1.0 / (m as f64).ln(),
            rng: SplitMix64::new(params.seed),
            slot_ids: Vec::new(),
            id_slots: HashMap::new(),
            levels: Vec::new(),
            deleted: Vec::new(),
            links0: Vec::new(),
            upper_off: Vec::new(),
            upper_cap: Vec::new(),
            upper: Vec::new(),
            entry: None,
            max_level: 0,
            free: Vec::new(),
            live: 0,
            scratch: Mutex::new(Scratch::default()),
        }
    }

    /// Live (non-deleted) vectors.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no live vector is indexed.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots in use, live or deleted.
    pub fn slots(&self) -> usize {
        self.slot_ids.len()
    }

    /// Deleted slots awaiting reuse.
    pub fn deleted_count(&self) -> usize {
        self.free.len()
    }

    /// Whether `id` is indexed.
    pub fn contains(&self, id: u32) -> bool {
        self.id_slots.contains_key(&id)
    }

    /// The stored (metric-prepared) vector of `id`.
    pub fn vector(&self, id: u32) -> Option<&[f32]> {
        self.id_slots
            .get(&id)
            .map(|&s| self.storage.exact(s as usize))
    }

    /// Maximum links of a list at `level`.
    #[inline]
    fn cap(&self, level: usize) -> usize {
        if level == 0 { self.m0 } else { self.params.m }
    }

    /// Bytes of one level-0 row.
    #[inline(always)]
    fn stride0(&self) -> usize {
        2 + 3 * self.m0
    }

    /// The links of `slot` at `level` (empty when the slot has no such level).
    #[inline]
    pub(crate) fn links(&self, slot: u32, level: usize) -> Links<'_> {
        let s = slot as usize;
        if level == 0 {
            let stride = self.stride0();
            return match self.links0.get(s * stride..(s + 1) * stride) {
                Some(row) => {
                    let n = (u16::from_le_bytes([row[0], row[1]]) as usize).min(self.m0);
                    Links::Packed(&row[2..2 + 3 * n])
                }
                None => Links::Wide(&[]),
            };
        }
        if level > *self.levels.get(s).unwrap_or(&0) as usize {
            return Links::Wide(&[]);
        }
        let stride = self.params.m + 1;
        let off = self.upper_off[s] as usize + (level - 1) * stride;
        match self.upper.get(off..off + stride) {
            Some(l) => {
                let n = (l[0] as usize).min(l.len() - 1);
                Links::Wide(&l[1..1 + n])
            }
            None => Links::Wide(&[]),
        }
    }

    /// Whether `slot` has a list at `level`. Links may point to a slot that was reused with a
    /// lower level (or come from a decoded snapshot); traversals skip such targets so a node
    /// only ever gets neighbours that own the level.
    #[inline(always)]
    fn has_level(&self, slot: u32, level: usize) -> bool {
        level == 0
            || self
                .levels
                .get(slot as usize)
                .is_some_and(|&l| l as usize >= level)
    }

    /// Prefetch hint for the list of `slot` at `level`.
    #[inline(always)]
    fn prefetch_links(&self, slot: u32, level: usize) {
        if level == 0
            && let Some(row) = self.links0.get(slot as usize * self.stride0()..)
        {
            crate::kernels::prefetch(row);
        }
    }

    /// Replaces the links of `slot` at `level` (the slot must own that level).
    pub(crate) fn set_links(&mut self, slot: u32, level: usize, links: &[u32]) {
        debug_assert!(links.len() <= self.cap(level));
        debug_assert!(
            links
                .iter()
                .all(|&t| (t as usize) < self.slots() && t != slot)
        );
        let s = slot as usize;
        let n = links.len().min(self.cap(level));
        if level == 0 {
            let stride = self.stride0();
            let row = &mut self.links0[s * stride..(s + 1) * stride];
            row[..2].copy_from_slice(&(n as u16).to_le_bytes());
            for (dst, &t) in row[2..].chunks_exact_mut(3).zip(&links[..n]) {
                debug_assert!((t as usize) < MAX_SLOTS);
                dst.copy_from_slice(&t.to_le_bytes()[..3]);
            }
            return;
        }
        let list = {
            debug_assert!(level <= self.levels[s] as usize);
            let stride = self.params.m + 1;
            let off = self.upper_off[s] as usize + (level - 1) * stride;
            &mut self.upper[off..off + stride]
        };
        list[0] = n as u32;
        list[1..1 + n].copy_from_slice(&links[..n]);
    }

    /// Draws a level: `floor(-ln(U) / ln(M))`, capped.
    fn random_level(&mut self) -> u8 {
        let u = 1.0 - self.rng.next_f64(); // (0, 1]
        let l = (-u.ln() * self.level_mult).floor();
        l.min(MAX_LEVEL as f64) as u8
    }

    /// A slot for a new node of `level`: a free one if any, else a new one. Its links are
    /// emptied and its upper lists allocated.
    fn alloc_slot(&mut self, id: u32, level: u8) -> io::Result<u32> {
        if self.free.is_empty() && self.slot_ids.len() >= MAX_SLOTS {
            return Err(io::Error::other(format!(
                "an HNSW index holds at most {MAX_SLOTS} vectors"
            )));
        }
        let slot = match self.free.pop() {
            Some(s) => {
                let s = s as usize;
                self.slot_ids[s] = id;
                self.levels[s] = level;
                self.deleted[s] = false;
                s
            }
            None => {
                let s = self.slot_ids.len();
                self.slot_ids.push(id);
                self.levels.push(level);
                self.deleted.push(false);
                self.links0.resize((s + 1) * self.stride0(), 0);
                self.upper_off.push(0);
                self.upper_cap.push(0);
                s
            }
        };
        let stride0 = self.stride0();
        self.links0[slot * stride0..slot * stride0 + 2].fill(0);
        let stride = self.params.m + 1;
        if level > self.upper_cap[slot] {
            self.upper_off[slot] = self.upper.len() as u32;
            self.upper_cap[slot] = level;
            self.upper
                .resize(self.upper.len() + level as usize * stride, 0);
        } else {
            let off = self.upper_off[slot] as usize;
            for l in 0..level as usize {
                self.upper[off + l * stride] = 0;
            }
        }
        Ok(slot as u32)
    }

    /// Inserts `id` with the metric-prepared vector `v`, replacing a previous vector of `id`
    /// (update = delete + insert).
    pub(crate) fn insert(&mut self, id: u32, v: &[f32]) -> io::Result<()> {
        if self.id_slots.contains_key(&id) {
            self.remove(id);
        }
        let level = self.random_level();
        let slot = self.alloc_slot(id, level)?;
        if let Err(e) = self.storage.set(slot as usize, v) {
            // Leave the slot as a deleted one so the structure stays consistent.
            self.deleted[slot as usize] = true;
            self.free.push(slot);
            return Err(e);
        }
        self.id_slots.insert(id, slot);
        self.live += 1;
        self.connect_new(slot, level);
        Ok(())
    }

    /// Links a freshly stored slot into the graph.
    fn connect_new(&mut self, slot: u32, level: u8) {
        let Some(entry) = self.entry else {
            self.entry = Some(slot);
            self.max_level = level;
            return;
        };
        let mut sc = self.take_scratch();
        let query = self.storage.exact(slot as usize).to_vec();
        let query = query.as_slice();
        let mut cur = Scored::new(
            self.storage.score_slots(slot as usize, entry as usize),
            entry,
        );
        for l in (level as usize + 1..=self.max_level as usize).rev() {
            cur = self.greedy(
                |s, bound| self.storage.score_bounded(query, s as usize, bound),
                false,
                cur,
                l,
            );
        }
        let ef = self.params.ef_construction.max(1);
        for l in (0..=level.min(self.max_level) as usize).rev() {
            let accept = |s: u32| s != slot && !self.deleted[s as usize];
            self.search_layer(
                &mut sc,
                |s, bound| self.storage.score_bounded(query, s as usize, bound),
                false,
                &[cur],
                ef,
                l,
                accept,
            );
            let mut found: Vec<Scored> = sc.top.drain().collect();
            found.sort_unstable();
            if let Some(&best) = found.first() {
                cur = best;
            }
            let selected = self.select_heuristic(&found, self.params.m);
            let ids: Vec<u32> = selected.iter().map(|s| s.key).collect();
            self.set_links(slot, l, &ids);
            for n in selected {
                self.add_link(n.key, slot, n.score, l);
            }
        }
        self.put_scratch(sc);
        if level > self.max_level {
            self.entry = Some(slot);
            self.max_level = level;
        }
    }

    /// Adds `new` (at score `score` from `node`) to `node`'s list at `level`, re-selecting by
    /// the heuristic when the list is full.
    fn add_link(&mut self, node: u32, new: u32, score: f32, level: usize) {
        let cap = self.cap(level);
        let current = self.links(node, level);
        if current.contains(new) {
            return;
        }
        if current.len() < cap {
            let mut v = current.to_vec();
            v.push(new);
            self.set_links(node, level, &v);
            return;
        }
        let mut cands: Vec<Scored> = current
            .iter()
            .map(|t| Scored::new(self.storage.score_slots(node as usize, t as usize), t))
            .collect();
        cands.push(Scored::new(score, new));
        cands.sort_unstable();
        let selected: Vec<u32> = self
            .select_heuristic(&cands, cap)
            .iter()
            .map(|s| s.key)
            .collect();
        self.set_links(node, level, &selected);
    }

    /// The neighbour-selection heuristic (Algorithm 4 without extension): walk candidates by
    /// increasing score to the base, keep one unless it is closer to an already kept
    /// neighbour than to the base. `cands` must be sorted ascending.
    fn select_heuristic(&self, cands: &[Scored], m: usize) -> Vec<Scored> {
        debug_assert!(cands.windows(2).all(|w| w[0] <= w[1]));
        if cands.len() <= m {
            return cands.to_vec();
        }
        let mut kept: Vec<Scored> = Vec::with_capacity(m);
        for &c in cands {
            if kept.len() >= m {
                break;
            }
            let good = kept
                .iter()
                .all(|k| self.storage.score_slots(c.key as usize, k.key as usize) >= c.score);
            if good {
                kept.push(c);
            }
        }
        kept
    }

    /// Greedy descent on one level from `cur`. Upper-level nodes are few and scattered, and
    /// between two queries of a server they leave the caches: every neighbour's row miss is
    /// started before the first is scored (the scores, and so the path, are unchanged).
    fn greedy(
        &self,
        score: impl Fn(u32, f32) -> f32,
        quant: bool,
        mut cur: Scored,
        level: usize,
    ) -> Scored {
        loop {
            let mut changed = false;
            let links = self.links(cur.key, level);
            for n in links.iter() {
                self.storage.prefetch(n as usize, quant);
            }
            let mut it = links.iter().peekable();
            while let Some(n) = it.next() {
                if let Some(&next) = it.peek() {
                    self.storage.prefetch_full(next as usize, quant);
                }
                if !self.has_level(n, level) {
                    continue;
                }
                let d = score(n, cur.score);
                if d < cur.score {
                    cur = Scored::new(d, n);
                    changed = true;
                }
            }
            if !changed {
                return cur;
            }
        }
    }

    /// Beam search on `level` from `entries` with beam `ef`; leaves the best `ef` accepted
    /// slots in `sc.top` (rejected slots are traversed but never returned).
    #[allow(clippy::too_many_arguments)]
    fn search_layer(
        &self,
        sc: &mut Scratch,
        score: impl Fn(u32, f32) -> f32,
        quant: bool,
        entries: &[Scored],
        ef: usize,
        level: usize,
        accept: impl Fn(u32) -> bool,
    ) {
        sc.begin(self.slots());
        for &e in entries {
            if sc.visit(e.key) {
                sc.cand.push(Reverse(e));
                if accept(e.key) {
                    sc.top.push(e);
                }
            }
        }
        let mut batch = std::mem::take(&mut sc.batch);
        while let Some(Reverse(c)) = sc.cand.pop() {
            if sc.top.len() >= ef && sc.top.peek().is_some_and(|t| c.score > t.score) {
                break;
            }
            // The next candidate's list is likely read next: start its cache miss now.
            if let Some(Reverse(next)) = sc.cand.peek() {
                self.prefetch_links(next.key, level);
            }
            batch.clear();
            for n in self.links(c.key, level).iter() {
                if self.has_level(n, level) && sc.visit(n) {
                    self.storage.prefetch(n as usize, quant);
                    batch.push(n);
                }
            }
            for (i, &n) in batch.iter().enumerate() {
                if let Some(&next) = batch.get(i + 1) {
                    self.storage.prefetch_full(next as usize, quant);
                }
                let bound = if sc.top.len() >= ef {
                    sc.top.peek().map_or(f32::INFINITY, |t| t.score)
                } else {
                    f32::INFINITY
                };
                let d = score(n, bound);
                if d < bound {
                    sc.cand.push(Reverse(Scored::new(d, n)));
                    if accept(n) {
                        sc.top.push(Scored::new(d, n));
                        if sc.top.len() > ef {
                            sc.top.pop();
                        }
                    }
                }
            }
        }
        sc.batch = batch;
    }

    fn take_scratch(&self) -> Scratch {
        match self.scratch.try_lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(TryLockError::Poisoned(p)) => std::mem::take(&mut *p.into_inner()),
            // Another thread is searching: use fresh buffers rather than wait.
            Err(TryLockError::WouldBlock) => Scratch::default(),
        }
    }

    fn put_scratch(&self, sc: Scratch) {
        match self.scratch.try_lock() {
            Ok(mut g) => *g = sc,
            Err(TryLockError::Poisoned(p)) => *p.into_inner() = sc,
            Err(TryLockError::WouldBlock) => {}
        }
    }

    /// Removes `id`: tombstone + link repair. False if absent.
    pub(crate) fn remove(&mut self, id: u32) -> bool {
        let Some(slot) = self.id_slots.remove(&id) else {
            return false;
        };
        let s = slot as usize;
        self.deleted[s] = true;
        self.live -= 1;
        if self.live == 0 {
            self.clear();
            return true;
        }
        self.free.push(slot);
        for level in 0..=self.levels[s] as usize {
            let neighbours = self.links(slot, level).to_vec();
            for &n in &neighbours {
                if self.deleted[n as usize] || !self.links(n, level).contains(slot) {
                    continue;
                }
                self.repair(n, slot, level, &neighbours);
            }
        }
        if self.entry == Some(slot) {
            let best = (0..self.slots())
                .filter(|&x| !self.deleted[x])
                .max_by_key(|&x| (self.levels[x], Reverse(x)));
            self.entry = best.map(|x| x as u32);
            self.max_level = best.map_or(0, |x| self.levels[x]);
        }
        true
    }

    /// Re-selects `node`'s list at `level` without `gone`, drawing from its own links and
    /// `gone`'s links.
    fn repair(&mut self, node: u32, gone: u32, level: usize, gone_links: &[u32]) {
        let mut pool: Vec<u32> = self
            .links(node, level)
            .iter()
            .chain(gone_links.iter().copied())
            .filter(|&t| {
                t != gone && t != node && !self.deleted[t as usize] && self.has_level(t, level)
            })
            .collect();
        pool.sort_unstable();
        pool.dedup();
        let mut cands: Vec<Scored> = pool
            .iter()
            .map(|&t| Scored::new(self.storage.score_slots(node as usize, t as usize), t))
            .collect();
        cands.sort_unstable();
        let selected: Vec<u32> = self
            .select_heuristic(&cands, self.cap(level))
            .iter()
            .map(|s| s.key)
            .collect();
        self.set_links(node, level, &selected);
    }

    /// Drops every slot (the index became empty).
    fn clear(&mut self) {
        self.slot_ids.clear();
        self.id_slots.clear();
        self.levels.clear();
        self.deleted.clear();
        self.links0.clear();
        self.upper_off.clear();
        self.upper_cap.clear();
        self.upper.clear();
        self.free.clear();
        self.entry = None;
        self.max_level = 0;
        self.live = 0;
        self.storage.truncate(0);
    }

    /// The `k` nearest live vectors to the prepared query `q` among `filter`, by graph search
    /// with beam `max(ef, k, rerank)` (quantized traversal + exact rerank of the beam when the
    /// storage is quantized). `(id, score)` sorted by score then id.
    pub fn knn_graph(
        &self,
        q: &[f32],
        k: usize,
        ef: usize,
        filter: Option<&RoaringBitmap>,
        rerank: usize,
    ) -> Vec<(u32, f32)> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        if k == 0 {
            return Vec::new();
        }
        let tq = self.storage.quant_query(q);
        let scorer = match &tq {
            Some(t) => Scorer::Quant(t),
            None => Scorer::Exact(q),
        };
        let quant = tq.is_some();
        let score = |s: u32, bound: f32| match scorer {
            Scorer::Exact(q) => self.storage.score_bounded(q, s as usize, bound),
            Scorer::Quant(t) => self.storage.score_quant(t, s as usize),
        };
        let ef = ef.max(k).max(if quant { rerank } else { 0 });
        let mut cur = Scored::new(score(entry, f32::INFINITY), entry);
        for l in (1..=self.max_level as usize).rev() {
            cur = self.greedy(score, quant, cur, l);
        }
        let mut sc = self.take_scratch();
        let accept = |s: u32| {
            !self.deleted[s as usize]
                && filter.is_none_or(|f| f.contains(self.slot_ids[s as usize]))
        };
        self.search_layer(&mut sc, score, quant, &[cur], ef, 0, accept);
        let mut out: Vec<(u32, f32)> = sc
            .top
            .drain()
            .map(|c| {
                let s = if quant {
                    self.storage.score(q, c.key as usize)
                } else {
                    c.score
                };
                (self.slot_ids[c.key as usize], s)
            })
            .collect();
        self.put_scratch(sc);
        sort_results(&mut out);
        out.truncate(k);
        out
    }

    /// Exact KNN over the ids of `filter` only (the plan for very selective filters).
    pub fn knn_brute(&self, q: &[f32], k: usize, filter: &RoaringBitmap) -> Vec<(u32, f32)> {
        // `k` comes from the query: never size buffers by it alone.
        let mut heap: BinaryHeap<Scored> =
            BinaryHeap::with_capacity(k.min(filter.len() as usize) + 1);
        if k == 0 {
            return Vec::new();
        }
        for id in filter.iter() {
            let Some(&slot) = self.id_slots.get(&id) else {
                continue;
            };
            let item = Scored::new(self.storage.score(q, slot as usize), id);
            if heap.len() < k {
                heap.push(item);
            } else if heap.peek().is_some_and(|t| item < *t) {
                heap.pop();
                heap.push(item);
            }
        }
        let mut out: Vec<(u32, f32)> = heap.into_iter().map(|s| (s.key, s.score)).collect();
        sort_results(&mut out);
        out
    }

    /// Every live vector within `radius` of `q` among `filter`, found through the graph: the
    /// search expands candidates while they are within a dynamic boundary that starts at the
    /// entry's score and shrinks towards `radius`, widened by `epsilon` (RediSearch's range
    /// search); results are checked on exact scores. Sorted by score then id.
    pub fn range_graph(
        &self,
        q: &[f32],
        radius: f32,
        epsilon: f32,
        filter: Option<&RoaringBitmap>,
    ) -> Vec<(u32, f32)> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        let tq = self.storage.quant_query(q);
        let quant = tq.is_some();
        let score = |s: u32, bound: f32| match &tq {
            None => self.storage.score_bounded(q, s as usize, bound),
            Some(t) => self.storage.score_quant(t, s as usize),
        };
        let mut cur = Scored::new(score(entry, f32::INFINITY), entry);
        for l in (1..=self.max_level as usize).rev() {
            cur = self.greedy(score, quant, cur, l);
        }
        let widen = |r: f32| r + epsilon.max(0.0) * r.abs();
        let mut dynamic = cur.score.max(radius);
        let mut boundary = widen(dynamic);
        let mut sc = self.take_scratch();
        sc.begin(self.slots());
        let mut out = Vec::new();
        sc.visit(cur.key);
        sc.cand.push(Reverse(cur));
        // With quantized scores the estimate may exceed the radius while the exact score
        // does not: such candidates (within the boundary) get an exact check.
        let consider = |s: u32, est: f32, out: &mut Vec<(u32, f32)>| {
            if self.deleted[s as usize]
                || !filter.is_none_or(|f| f.contains(self.slot_ids[s as usize]))
            {
                return;
            }
            let exact = if quant {
                self.storage.score(q, s as usize)
            } else {
                est
            };
            if exact <= radius {
                out.push((self.slot_ids[s as usize], exact));
            }
        };
        consider(cur.key, cur.score, &mut out);
        while let Some(Reverse(c)) = sc.cand.pop() {
            if c.score > boundary {
                break;
            }
            for n in self.links(c.key, 0).iter() {
                if !sc.visit(n) {
                    continue;
                }
                let d = score(n, boundary);
                if d < boundary {
                    sc.cand.push(Reverse(Scored::new(d, n)));
                    consider(n, d, &mut out);
                    if d < dynamic {
                        dynamic = d.max(radius);
                        boundary = widen(dynamic);
                    }
                }
            }
        }
        self.put_scratch(sc);
        sort_results(&mut out);
        out
    }

    /// Live `(id, vector)` pairs in slot order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, &[f32])> {
        (0..self.slots())
            .filter(|&s| !self.deleted[s])
            .map(|s| (self.slot_ids[s], self.storage.exact(s)))
    }

    /// RAM bytes.
    pub fn memory_usage(&self) -> usize {
        self.storage.memory_bytes()
            + self.links0.capacity()
            + self.upper.capacity() * 4
            + self.upper_off.capacity() * 4
            + self.upper_cap.capacity()
            + self.levels.capacity()
            + self.deleted.capacity()
            + self.slot_ids.capacity() * 4
            + self.id_slots.capacity() * (8 + 1)
            + self.free.capacity() * 4
    }

    /// Restores a graph from decoded parts (the snapshot decoder validated every field).
    pub(crate) fn restore_slot(
        &mut self,
        id: u32,
        deleted: bool,
        level: u8,
        v: &[f32],
    ) -> io::Result<u32> {
        let s = self.slot_ids.len();
        self.storage.set(s, v)?;
        self.slot_ids.push(id);
        self.levels.push(level);
        self.deleted.push(deleted);
        if s >= MAX_SLOTS {
            return Err(io::Error::other(format!(
                "an HNSW index holds at most {MAX_SLOTS} vectors"
            )));
        }
        self.links0.resize((s + 1) * self.stride0(), 0);
        self.upper_off.push(self.upper.len() as u32);
        self.upper_cap.push(level);
        self.upper
            .resize(self.upper.len() + level as usize * (self.params.m + 1), 0);
        if deleted {
            self.free.push(s as u32);
        } else {
            self.id_slots.insert(id, s as u32);
            self.live += 1;
        }
        Ok(s as u32)
    }

    /// Sets the links of a restored slot (`links` already validated against `slots()`).
    pub(crate) fn restore_links(&mut self, slot: u32, level: usize, links: &[u32]) {
        self.set_links(slot, level, links);
    }

    /// Ends a restore: entry point and the free list order.
    pub(crate) fn restore_finish(&mut self, entry: Option<u32>, max_level: u8, rng_state: u64) {
        self.entry = entry;
        self.max_level = max_level;
        self.rng = SplitMix64::new(rng_state);
        // Keep the entry out of the free list (the decoder guarantees it is live).
        self.free.retain(|&s| Some(s) != entry);
    }

    /// Link-structure check used by tests and the decoder's debug path: every target is in
    /// range and not the slot itself; lists within capacity; the entry is live and on top.
    pub fn check_invariants(&self) -> Result<(), String> {
        for s in 0..self.slots() as u32 {
            for l in 0..=self.levels[s as usize] as usize {
                let links = self.links(s, l);
                if links.len() > self.cap(l) {
                    return Err(format!("slot {s} level {l}: {} links", links.len()));
                }
                if let Some(t) = links.iter().find(|&t| t as usize >= self.slots() || t == s) {
                    return Err(format!("slot {s} level {l}: bad link {t}"));
                }
            }
        }
        if let Some(e) = self.entry {
            if self.deleted[e as usize] || self.levels[e as usize] != self.max_level {
                return Err(format!("bad entry {e}"));
            }
        } else if self.live > 0 {
            return Err("live nodes but no entry".into());
        }
        if self.live + self.free.len() != self.slots() {
            return Err("live + free != slots".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Links;

    #[test]
    fn packed_and_wide_links_read_alike() {
        let wide = [0u32, 1, 0x00AB_CDEF, (1 << 24) - 1];
        let packed: Vec<u8> = wide
            .iter()
            .flat_map(|t| t.to_le_bytes()[..3].to_vec())
            .collect();
        for l in [Links::Wide(&wide), Links::Packed(&packed)] {
            assert_eq!(l.len(), 4);
            assert_eq!(l.to_vec(), wide);
            assert!(l.contains(0x00AB_CDEF) && !l.contains(2));
        }
    }
}
