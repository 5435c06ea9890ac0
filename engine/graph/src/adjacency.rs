//! Adjacency of one (relationship type, direction): a CSR base plus a mutable delta.
//!
//! Layout:
//! - `csr`: blocks of `BLOCK_NODES` (4096) consecutive node slots; in a block,
//!   `offsets[i]..offsets[i+1]` is node `base + i`'s segment of the block's `entries`, each
//!   entry a packed `(neighbour, edge)` pair of `u32`s, sorted by `(neighbour, edge)` within a
//!   segment. Nodes past the last block's offsets have an empty segment.
//! - `delta`: edges added since the last compaction, per node, in insertion order.
//! - `dead`: edge ids deleted while still present in the CSR (or in a frozen delta, see below);
//!   reads skip them and `dead_per_node` keeps `degree` O(1). Edges deleted from `delta` are
//!   removed from it directly and never become dead.
//!
//! Compaction is incremental: `begin` freezes the current delta (new writes go to a fresh
//! delta), then each `step` copies a bounded number of nodes' merged segments (old CSR
//! segment + frozen delta, minus dead entries) into a block built on the side. When a block is
//! complete it is swapped in at once: its nodes' frozen lists are removed and exactly the dead
//! entries it left out are un-deaded (edges deleted after their node was copied stay dead,
//! because the new block still holds them). Reads therefore see, for every node, either the old
//! block + frozen list or the new block, plus the live delta: correct at every step, and a
//! compaction holds at most one block twice (not the whole CSR).
//!
//! Invariants: an edge id appears at most once in one adjacency; every id in `dead` occurs in
//! the CSR or the frozen delta; `sum(dead_per_node) == dead.len()`; `csr.len` is the number
//! of entries over all blocks; during a compaction, `frozen` holds no node of a swapped-in
//! block.

use hashbrown::HashMap;
use roaring::RoaringBitmap;
use smallvec::SmallVec;

/// One adjacency entry: the node at the other end and the edge.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Adj {
    pub nbr: u32,
    pub edge: u32,
}

/// Node slots per CSR block (`BLOCK_BITS` = 12: 4096 nodes).
const BLOCK_BITS: u32 = 12;
const BLOCK_NODES: u32 = 1 << BLOCK_BITS;

/// The CSR of one block of `BLOCK_NODES` consecutive node slots: `offsets[i]..offsets[i+1]` is
/// the segment of node `base + i` in `entries` (nodes past `offsets.len() - 1` have none).
#[derive(Clone, Debug, Default)]
struct Block {
    offsets: Vec<u32>,
    entries: Vec<Adj>,
}

impl Block {
    #[inline]
    fn range(&self, i: usize) -> Option<(usize, usize)> {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => Some((a as usize, b as usize)),
            _ => None,
        }
    }

    fn heap_size(&self) -> usize {
        self.offsets.capacity() * 4 + self.entries.capacity() * std::mem::size_of::<Adj>()
    }
}

/// The compacted adjacency, in blocks of `BLOCK_NODES` node slots, so that a compaction can
/// swap each block in as soon as it is rebuilt (holding one block twice, not the whole CSR).
#[derive(Clone, Debug, Default)]
pub(crate) struct Csr {
    blocks: Vec<Block>,
    /// Total entries over all blocks.
    len: usize,
}

impl Csr {
    #[inline]
    pub fn segment(&self, v: u32) -> &[Adj] {
        let Some(b) = self.blocks.get((v >> BLOCK_BITS) as usize) else {
            return &[];
        };
        match b.range((v & (BLOCK_NODES - 1)) as usize) {
            Some((x, y)) => b.entries.get(x..y).unwrap_or(&[]),
            None => &[],
        }
    }

    #[inline]
    fn seg_len(&self, v: u32) -> usize {
        self.blocks
            .get((v >> BLOCK_BITS) as usize)
            .and_then(|b| b.range((v & (BLOCK_NODES - 1)) as usize))
            .map_or(0, |(x, y)| y - x)
    }

    /// One past the last node slot the blocks cover.
    fn node_limit(&self) -> u32 {
        match self.blocks.last() {
            Some(b) => {
                ((self.blocks.len() as u32 - 1) << BLOCK_BITS)
                    + b.offsets.len().saturating_sub(1) as u32
            }
            None => 0,
        }
    }

    /// Installs block `i` (appending when `i == blocks.len()`).
    fn put_block(&mut self, i: usize, b: Block) {
        self.len += b.entries.len();
        if let Some(old) = self.blocks.get_mut(i) {
            self.len -= old.entries.len();
            *old = b;
        } else {
            debug_assert_eq!(i, self.blocks.len());
            self.blocks.push(b);
        }
    }

    fn heap_size(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
            + self.blocks.iter().map(Block::heap_size).sum::<usize>()
    }
}

/// Builds fully compacted adjacencies for all types in two linear passes (counting sort), for
/// snapshot loading. `edges` yields `(edge id, src, dst, rel)` with `src, dst < slots` and
/// `rel < ntypes`; it is called twice and must yield the same sequence both times.
pub(crate) fn build_all<I>(slots: u32, ntypes: usize, edges: impl Fn() -> I) -> Vec<[Adjacency; 2]>
where
    I: Iterator<Item = (u32, u32, u32, u32)>,
{
    let n = slots as usize;
    // offsets[t][d] doubles as the per-node counter, then as the fill cursor.
    let mut offsets: Vec<[Vec<u32>; 2]> = (0..ntypes).map(|_| [Vec::new(), Vec::new()]).collect();
    for (_, src, dst, rel) in edges() {
        let o = &mut offsets[rel as usize];
        for (d, v) in [(0, src), (1, dst)] {
            if o[d].is_empty() {
                o[d] = vec![0; n + 1];
            }
            o[d][v as usize + 1] += 1;
        }
    }
    let mut entries: Vec<[Vec<Adj>; 2]> = Vec::with_capacity(ntypes);
    let mut cursors: Vec<[Vec<u32>; 2]> = Vec::with_capacity(ntypes);
    for o in &mut offsets {
        let mut e: [Vec<Adj>; 2] = [Vec::new(), Vec::new()];
        for d in 0..2 {
            for i in 1..o[d].len() {
                o[d][i] += o[d][i - 1];
            }
            let total = o[d].last().copied().unwrap_or(0) as usize;
            e[d] = vec![Adj { nbr: 0, edge: 0 }; total];
        }
        entries.push(e);
        cursors.push([o[0].clone(), o[1].clone()]);
    }
    for (id, src, dst, rel) in edges() {
        let (c, e) = (&mut cursors[rel as usize], &mut entries[rel as usize]);
        for (d, v, nbr) in [(0, src, dst), (1, dst, src)] {
            let pos = &mut c[d][v as usize];
            e[d][*pos as usize] = Adj { nbr, edge: id };
            *pos += 1;
        }
    }
    offsets
        .into_iter()
        .zip(entries)
        .map(|(o, e)| {
            let [o0, o1] = o;
            let [e0, e1] = e;
            [
                Adjacency::from_csr(Csr::sorted(o0, e0)),
                Adjacency::from_csr(Csr::sorted(o1, e1)),
            ]
        })
        .collect()
}

impl Csr {
    /// Splits filled flat arrays (`offsets` over all node slots, `offsets.len() - 1` of
    /// them) into blocks, sorting each node's segment.
    fn sorted(offsets: Vec<u32>, mut entries: Vec<Adj>) -> Csr {
        for w in offsets.windows(2) {
            if let Some(seg) = entries.get_mut(w[0] as usize..w[1] as usize) {
                seg.sort_unstable();
            }
        }
        let nodes = offsets.len().saturating_sub(1);
        let mut csr = Csr::default();
        let mut base = 0usize;
        while base < nodes {
            let end = (base + BLOCK_NODES as usize).min(nodes);
            let first = offsets[base];
            let block = Block {
                offsets: offsets[base..=end].iter().map(|&o| o - first).collect(),
                entries: entries[first as usize..offsets[end] as usize].to_vec(),
            };
            csr.put_block(csr.blocks.len(), block);
            base = end;
        }
        csr
    }
}

/// One node's delta entries: up to two inline (no allocation), which is what most nodes of a
/// bulk load's delta hold; the same 24 bytes as a `Vec`.
type DeltaList = SmallVec<[Adj; 2]>;

/// Work in progress of an incremental compaction.
#[derive(Clone, Debug)]
struct Build {
    /// The delta frozen at `begin`, minus the nodes already merged (removed as their block is
    /// swapped in).
    frozen: HashMap<u32, DeltaList>,
    /// First node slot not yet merged (a multiple of `BLOCK_NODES` until the end).
    next: u32,
    limit: u32,
    /// The block being rebuilt (nodes `next & !(BLOCK_NODES - 1)..next`).
    cur: Block,
    /// Dead entries left out of `cur`: `(node, edge)`.
    cur_dropped: Vec<(u32, u32)>,
    /// Dead edge ids left out of the blocks swapped in so far.
    dropped: Vec<u32>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Adjacency {
    csr: Csr,
    delta: HashMap<u32, DeltaList>,
    delta_len: usize,
    dead: RoaringBitmap,
    dead_per_node: HashMap<u32, u32>,
    build: Option<Build>,
}

/// What `remove` did with an edge.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Removed {
    /// Gone from this adjacency.
    Gone,
    /// Marked dead; it stays in the CSR until a compaction drops it.
    Dead,
}

impl Adjacency {
    pub fn from_csr(csr: Csr) -> Adjacency {
        Adjacency {
            csr,
            ..Adjacency::default()
        }
    }

    pub fn insert(&mut self, v: u32, nbr: u32, edge: u32) {
        self.delta.entry(v).or_default().push(Adj { nbr, edge });
        self.delta_len += 1;
    }

    pub fn remove(&mut self, v: u32, edge: u32) -> Removed {
        if let Some(list) = self.delta.get_mut(&v)
            && let Some(i) = list.iter().position(|a| a.edge == edge)
        {
            list.swap_remove(i);
            if list.is_empty() {
                self.delta.remove(&v);
            }
            self.delta_len -= 1;
            return Removed::Gone;
        }
        debug_assert!(
            self.csr.segment(v).iter().any(|a| a.edge == edge)
                || self
                    .build
                    .as_ref()
                    .and_then(|b| b.frozen.get(&v))
                    .is_some_and(|l| l.iter().any(|a| a.edge == edge)),
            "removing an edge that is not in this adjacency"
        );
        let fresh = self.dead.insert(edge);
        debug_assert!(fresh, "edge removed twice");
        *self.dead_per_node.entry(v).or_insert(0) += 1;
        Removed::Dead
    }

    /// Number of live entries of node `v`.
    #[inline]
    pub fn degree(&self, v: u32) -> usize {
        let mut d = self.csr.seg_len(v);
        if self.delta_len > 0
            && let Some(l) = self.delta.get(&v)
        {
            d += l.len();
        }
        if let Some(b) = &self.build
            && let Some(l) = b.frozen.get(&v)
        {
            d += l.len();
        }
        if !self.dead.is_empty()
            && let Some(&n) = self.dead_per_node.get(&v)
        {
            d -= n as usize;
        }
        d
    }

    #[cfg(test)]
    /// The (up to three) slices holding node `v`'s entries; the first two are subject to
    /// `dead` filtering, the last (the live delta) never holds dead entries.
    #[inline]
    pub fn slices(&self, v: u32) -> [&[Adj]; 3] {
        let frozen = match &self.build {
            Some(b) => b.frozen.get(&v).map_or(&[][..], |l| &l[..]),
            None => &[],
        };
        let delta = if self.delta_len == 0 {
            &[][..]
        } else {
            self.delta.get(&v).map_or(&[][..], |l| &l[..])
        };
        [self.csr.segment(v), frozen, delta]
    }

    /// Slice `i` of `slices(v)` without looking up the others.
    #[inline]
    pub fn slice(&self, v: u32, i: u8) -> &[Adj] {
        match i {
            0 => self.csr.segment(v),
            1 => match &self.build {
                Some(b) => b.frozen.get(&v).map_or(&[][..], |l| &l[..]),
                None => &[],
            },
            _ => {
                if self.delta_len == 0 {
                    &[]
                } else {
                    self.delta.get(&v).map_or(&[][..], |l| &l[..])
                }
            }
        }
    }

    /// The dead set, if reads need to consult it.
    #[inline]
    pub fn dead_filter(&self) -> Option<&RoaringBitmap> {
        if self.dead.is_empty() {
            None
        } else {
            Some(&self.dead)
        }
    }

    /// Entries not yet merged into the CSR (delta + dead), the measure of compaction debt.
    pub fn pending(&self) -> usize {
        self.delta_len
            + self.dead.len() as usize
            + self
                .build
                .as_ref()
                .map_or(0, |b| b.frozen.values().map(|l| l.len()).sum())
    }

    /// Policy: compact once the debt is at least 1/16 of the CSR and not tiny, or when a
    /// compaction is already underway. A sixteenth keeps the delta (a hash map entry per node,
    /// several times the bytes of a CSR entry) small at the end of a bulk load, for about 17
    /// entry copies per write, which is sequential and cheap next to the write itself.
    pub fn needs_compaction(&self) -> bool {
        if self.build.is_some() {
            return true;
        }
        let debt = self.delta_len + self.dead.len() as usize;
        debt >= 64 && debt * 16 >= self.csr.len
    }

    /// Idle policy (no writes to pace compaction): compact once the debt is a 64th of the CSR
    /// (or any debt on a small adjacency), since every read of a node with a delta pays for
    /// hash probes; the rebuild still costs at most ~64 copies per entry of debt.
    pub fn needs_idle_compaction(&self) -> bool {
        if self.build.is_some() {
            return true;
        }
        let debt = self.delta_len + self.dead.len() as usize;
        debt > 0 && debt.saturating_mul(64) >= self.csr.len.max(4096)
    }

    /// Whether there is anything a compaction would change.
    pub fn has_debt(&self) -> bool {
        self.delta_len > 0 || !self.dead.is_empty() || self.build.is_some()
    }

    /// Starts a compaction over node slots `0..node_slots`.
    pub fn begin(&mut self, node_slots: u32) {
        if self.build.is_some() {
            return;
        }
        let frozen = std::mem::take(&mut self.delta);
        self.delta_len = 0;
        let limit = node_slots.max(self.csr.node_limit());
        self.build = Some(Build {
            frozen,
            next: 0,
            limit,
            cur: Block::default(),
            cur_dropped: Vec::new(),
            dropped: Vec::new(),
        });
    }

    /// Copies about `budget` entries (at least one node) into the block being rebuilt,
    /// swapping each block in as soon as it is complete. Returns the work done and, when the
    /// compaction finished, the edge ids it removed from this adjacency.
    pub fn step(&mut self, budget: usize) -> (usize, Option<Vec<u32>>) {
        let Some(b) = self.build.as_mut() else {
            return (0, None);
        };
        let mut work = 0usize;
        while b.next < b.limit && (work < budget || work == 0) {
            let v = b.next;
            b.cur.offsets.push(b.cur.entries.len() as u32);
            let start = b.cur.entries.len();
            let frozen = b.frozen.get(&v).map_or(&[][..], |l| &l[..]);
            let seg = self.csr.segment(v);
            for &a in seg.iter().chain(frozen.iter()) {
                if !self.dead.is_empty() && self.dead.contains(a.edge) {
                    b.cur_dropped.push((v, a.edge));
                } else {
                    b.cur.entries.push(a);
                }
            }
            b.cur.entries[start..].sort_unstable();
            work += 1 + seg.len() + frozen.len();
            b.next += 1;
            if b.next % BLOCK_NODES == 0 || b.next == b.limit {
                // Swap the finished block in: its nodes now read from it alone, so their
                // frozen lists go, and the dead entries it left out are no longer dead.
                b.cur.offsets.push(b.cur.entries.len() as u32);
                let mut block = std::mem::take(&mut b.cur);
                block.entries.shrink_to_fit();
                let first = (b.next - 1) & !(BLOCK_NODES - 1);
                self.csr.put_block((first >> BLOCK_BITS) as usize, block);
                for u in first..b.next {
                    b.frozen.remove(&u);
                }
                for (u, e) in b.cur_dropped.drain(..) {
                    self.dead.remove(e);
                    if let Some(n) = self.dead_per_node.get_mut(&u) {
                        *n -= 1;
                        if *n == 0 {
                            self.dead_per_node.remove(&u);
                        }
                    }
                    b.dropped.push(e);
                }
            }
        }
        if b.next < b.limit {
            return (work, None);
        }
        let Some(b) = self.build.take() else {
            return (work, None);
        };
        // Blocks past the limit (none: the limit covers the old CSR) would be stale.
        debug_assert!(self.csr.blocks.len() <= (b.limit as usize).div_ceil(BLOCK_NODES as usize));
        debug_assert!(b.frozen.is_empty());
        debug_assert_eq!(
            self.dead_per_node.values().map(|&n| n as u64).sum::<u64>(),
            self.dead.len()
        );
        (work, Some(b.dropped))
    }

    /// Runs a whole compaction (finishing one underway first); returns the removed edge ids.
    pub fn compact_all(&mut self, node_slots: u32) -> Vec<u32> {
        let mut gone = Vec::new();
        // At most two passes: one to finish a compaction underway, one for the rest.
        for _ in 0..2 {
            if !self.has_debt() {
                break;
            }
            self.begin(node_slots);
            loop {
                if let (_, Some(g)) = self.step(usize::MAX) {
                    gone.extend(g);
                    break;
                }
            }
        }
        gone
    }

    #[cfg(test)]
    pub fn csr_len(&self) -> usize {
        self.csr.len
    }

    /// Estimated heap bytes, split into (CSR, everything else: delta, compaction underway,
    /// dead set).
    pub fn heap_split(&self) -> (usize, usize) {
        let lists = |m: &HashMap<u32, DeltaList>| {
            m.capacity() * (std::mem::size_of::<(u32, DeltaList)>() + 1)
                + m.values()
                    .filter(|l| l.spilled())
                    .map(|l| l.capacity() * 8)
                    .sum::<usize>()
        };
        let delta = lists(&self.delta);
        let build = self.build.as_ref().map_or(0, |b| {
            lists(&b.frozen)
                + b.cur.heap_size()
                + b.cur_dropped.capacity() * 8
                + b.dropped.capacity() * 4
        });
        (
            self.csr.heap_size(),
            delta + build + self.dead.serialized_size() + self.dead_per_node.capacity() * 12,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(a: &Adjacency, v: u32) -> Vec<Adj> {
        let dead = a.dead_filter();
        let [c, f, d] = a.slices(v);
        let mut out: Vec<Adj> = c
            .iter()
            .chain(f.iter())
            .filter(|x| dead.is_none_or(|dd| !dd.contains(x.edge)))
            .chain(d.iter())
            .copied()
            .collect();
        out.sort();
        out
    }

    #[test]
    fn insert_remove_compact() {
        let mut a = Adjacency::default();
        a.insert(0, 1, 10);
        a.insert(0, 2, 11);
        a.insert(3, 0, 12);
        assert_eq!(a.degree(0), 2);
        assert_eq!(a.remove(0, 11), Removed::Gone);
        assert_eq!(a.degree(0), 1);
        assert!(a.compact_all(4).is_empty());
        assert_eq!(a.csr_len(), 2);
        assert_eq!(live(&a, 0), vec![Adj { nbr: 1, edge: 10 }]);
        assert_eq!(a.remove(0, 10), Removed::Dead);
        assert_eq!(a.degree(0), 0);
        assert!(live(&a, 0).is_empty());
        assert_eq!(a.compact_all(4), vec![10]);
        assert_eq!(a.csr_len(), 1);
        assert_eq!(live(&a, 3), vec![Adj { nbr: 0, edge: 12 }]);
    }

    #[test]
    fn writes_during_incremental_compaction() {
        let mut a = Adjacency::default();
        for e in 0..10 {
            a.insert(e % 5, e, e);
        }
        a.compact_all(5);
        a.insert(1, 100, 100);
        a.begin(5);
        assert_eq!(a.step(1).1, None); // node 0 copied
        // Delete an already-copied edge (stays dead), one not yet copied (dropped), a frozen
        // one, and add new ones.
        assert_eq!(a.remove(0, 0), Removed::Dead);
        assert_eq!(a.remove(4, 4), Removed::Dead);
        assert_eq!(a.remove(1, 100), Removed::Dead);
        a.insert(2, 7, 200);
        assert_eq!(a.degree(0), 1);
        assert_eq!(a.degree(1), 2);
        let mut gone = None;
        while gone.is_none() {
            gone = a.step(1).1;
        }
        let mut gone = gone.unwrap_or_default();
        gone.sort();
        assert_eq!(gone, vec![4, 100]);
        assert_eq!(live(&a, 0), vec![Adj { nbr: 5, edge: 5 }]);
        assert_eq!(live(&a, 2).len(), 3);
        assert_eq!(a.degree(4), 1);
        assert_eq!(a.dead.len(), 1); // edge 0 still dead inside the new CSR
        assert_eq!(a.compact_all(5), vec![0]);
        assert!(!a.has_debt());
    }

    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u32, u32),
        Remove(usize),
        Step(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u32..3 * BLOCK_NODES, 0u32..50).prop_map(|(v, n)| Op::Insert(v, n)),
            2 => any::<usize>().prop_map(Op::Remove),
            2 => (1usize..3000).prop_map(Op::Step),
        ]
    }

    proptest! {
        /// Inserts, removes and compaction steps (spanning several blocks, swapped in mid-way)
        /// against a model set of live `(node, nbr, edge)` entries: every node's live entries
        /// and degree match after each operation, and the removed ids come back exactly once.
        #[test]
        fn blocks_match_a_model(ops in proptest::collection::vec(op(), 1..120)) {
            let mut a = Adjacency::default();
            let mut model: Vec<(u32, Adj)> = Vec::new();
            let mut next_edge = 0u32;
            let mut held: Vec<u32> = Vec::new();
            let mut released: Vec<u32> = Vec::new();
            let slots = 3 * BLOCK_NODES;
            // A first batch, compacted, so the CSR has several blocks to rebuild.
            for i in 0..500u32 {
                let v = (i * 37) % slots;
                a.insert(v, i % 7, next_edge);
                model.push((v, Adj { nbr: i % 7, edge: next_edge }));
                next_edge += 1;
            }
            a.compact_all(slots);
            for o in ops {
                match o {
                    Op::Insert(v, n) => {
                        a.insert(v, n, next_edge);
                        model.push((v, Adj { nbr: n, edge: next_edge }));
                        next_edge += 1;
                    }
                    Op::Remove(i) if !model.is_empty() => {
                        let (v, x) = model.swap_remove(i % model.len());
                        if a.remove(v, x.edge) == Removed::Dead {
                            held.push(x.edge);
                        }
                    }
                    Op::Remove(_) => {}
                    Op::Step(budget) => {
                        a.begin(slots);
                        if let (_, Some(g)) = a.step(budget) {
                            released.extend(g);
                        }
                    }
                }
                let touched: std::collections::BTreeSet<u32> =
                    model.iter().map(|m| m.0).chain([0, BLOCK_NODES, slots - 1]).collect();
                for &v in &touched {
                    let mut want: Vec<Adj> =
                        model.iter().filter(|m| m.0 == v).map(|m| m.1).collect();
                    want.sort();
                    prop_assert_eq!(live(&a, v), want.clone());
                    prop_assert_eq!(a.degree(v), want.len());
                }
            }
            released.extend(a.compact_all(slots));
            released.sort_unstable();
            held.sort_unstable();
            prop_assert_eq!(released, held);
            prop_assert!(!a.has_debt());
            prop_assert_eq!(a.csr_len(), model.len());
        }
    }
}
