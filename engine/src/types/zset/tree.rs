//! The large sorted-set encoding (OBJECT ENCODING `skiplist`): an order-statistic B+tree of
//! `(score, member)` keys plus a hash index from member to its slot.
//!
//! Layout, chosen for memory (a 1,000,000-member set must not outweigh Redis's skiplist+dict):
//! - every member lives exactly once, in a [`Slab`] slot (`SmallBytes` inline up to 22 bytes,
//!   plus its score: 32 bytes per member, in 1024-slot chunks so growth never doubles a huge
//!   array);
//! - the tree's leaves hold only `(score, slot id)` pairs (12 bytes per member) in fixed arrays;
//!   inner nodes hold, per child, its exact minimum key and its entry count (for O(log n) rank);
//! - the index is a `hashbrown::HashTable<u32>` of slot ids hashed by member bytes (~5 bytes a
//!   bucket).
//!
//! Invariants: keys in the tree are strictly increasing by (score, member bytes); a child's
//! `min` is exactly its first key and its `count` exactly its number of entries; every live
//! slot id is in the tree once and in the index once; scores are never NaN. Leaves split
//! unevenly at the tree's right or left edge so that ascending or descending inserts leave
//! full leaves behind.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use hashbrown::DefaultHashBuilder;
use hashbrown::HashTable;

const LEAF_CAP: usize = 64;
const INNER_CAP: usize = 32;
const INLINE: usize = 22;
const CHUNK: usize = 1024;

/// A byte string stored inline when short (no allocation), boxed otherwise.
#[derive(Clone)]
enum SmallBytes {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<SmallBytes>() == 24);

impl SmallBytes {
    fn new(b: &[u8]) -> SmallBytes {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            SmallBytes::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            SmallBytes::Heap(b.into())
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => buf.get(..usize::from(*len)).unwrap_or(&[]),
            SmallBytes::Heap(b) => b,
        }
    }

    fn heap_len(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(b) => b.len(),
        }
    }
}

#[derive(Clone)]
struct Slot {
    member: SmallBytes,
    score: f64,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            member: SmallBytes::Inline {
                len: 0,
                buf: [0; INLINE],
            },
            score: 0.0,
        }
    }
}

/// Member storage addressed by `u32` ids; freed ids are reused.
#[derive(Clone, Default)]
struct Slab {
    chunks: Vec<Box<[Slot]>>,
    free: Vec<u32>,
    next: u32,
    heap_bytes: usize,
}

impl Slab {
    fn slot(&self, id: u32) -> &Slot {
        let id = id as usize;
        &self.chunks[id / CHUNK][id % CHUNK]
    }

    fn slot_mut(&mut self, id: u32) -> &mut Slot {
        let id = id as usize;
        &mut self.chunks[id / CHUNK][id % CHUNK]
    }

    fn member(&self, id: u32) -> &[u8] {
        self.slot(id).member.as_slice()
    }

    fn alloc(&mut self, member: &[u8], score: f64) -> u32 {
        let slot = Slot {
            member: SmallBytes::new(member),
            score,
        };
        self.heap_bytes += slot.member.heap_len();
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                let id = self.next;
                self.next += 1;
                if id as usize / CHUNK >= self.chunks.len() {
                    self.chunks
                        .push(vec![Slot::default(); CHUNK].into_boxed_slice());
                }
                id
            }
        };
        *self.slot_mut(id) = slot;
        id
    }

    fn release(&mut self, id: u32) {
        let old = std::mem::take(self.slot_mut(id));
        self.heap_bytes -= old.member.heap_len();
        self.free.push(id);
    }

    fn mem_bytes(&self) -> usize {
        self.chunks.len() * CHUNK * std::mem::size_of::<Slot>()
            + self.chunks.capacity() * std::mem::size_of::<Box<[Slot]>>()
            + self.free.capacity() * 4
            + self.heap_bytes
    }
}

/// A tree key: score plus slot id (whose member breaks score ties).
#[derive(Clone, Copy, Debug)]
struct Key {
    score: f64,
    id: u32,
}

fn cmp_key(slab: &Slab, a: Key, b: Key) -> Ordering {
    match a.score.partial_cmp(&b.score) {
        Some(Ordering::Equal) | None => slab.member(a.id).cmp(slab.member(b.id)),
        Some(o) => o,
    }
}

#[derive(Clone)]
struct Leaf {
    len: usize,
    scores: [f64; LEAF_CAP],
    ids: [u32; LEAF_CAP],
}

impl Leaf {
    fn empty() -> Leaf {
        Leaf {
            len: 0,
            scores: [0.0; LEAF_CAP],
            ids: [0; LEAF_CAP],
        }
    }

    fn key(&self, i: usize) -> Key {
        Key {
            score: self.scores[i],
            id: self.ids[i],
        }
    }

    /// Index of the first key not less than `k`.
    fn lower_bound(&self, slab: &Slab, k: Key) -> usize {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if cmp_key(slab, self.key(mid), k) == Ordering::Less {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn insert_at(&mut self, pos: usize, k: Key) {
        debug_assert!(self.len < LEAF_CAP && pos <= self.len);
        self.scores.copy_within(pos..self.len, pos + 1);
        self.ids.copy_within(pos..self.len, pos + 1);
        self.scores[pos] = k.score;
        self.ids[pos] = k.id;
        self.len += 1;
    }

    fn remove_at(&mut self, pos: usize) {
        self.scores.copy_within(pos + 1..self.len, pos);
        self.ids.copy_within(pos + 1..self.len, pos);
        self.len -= 1;
    }

    /// Moves entries `from..` to the end of `dst`.
    fn move_tail(&mut self, from: usize, dst: &mut Leaf) {
        let n = self.len - from;
        debug_assert!(dst.len + n <= LEAF_CAP);
        dst.scores[dst.len..dst.len + n].copy_from_slice(&self.scores[from..self.len]);
        dst.ids[dst.len..dst.len + n].copy_from_slice(&self.ids[from..self.len]);
        dst.len += n;
        self.len = from;
    }
}

#[derive(Clone)]
struct Child {
    node: Node,
    count: usize,
    min: Key,
}

#[derive(Clone)]
struct Inner {
    children: Vec<Child>,
    total: usize,
}

impl Inner {
    /// The child a key belongs to: the last whose minimum is <= `k` (or the first).
    fn route(&self, slab: &Slab, k: Key) -> usize {
        let after = self
            .children
            .partition_point(|c| cmp_key(slab, c.min, k) != Ordering::Greater);
        after.saturating_sub(1)
    }

    fn refresh(&mut self, j: usize) {
        let c = &mut self.children[j];
        c.count = c.node.len();
        if c.count > 0 {
            c.min = c.node.min();
        }
    }
}

#[derive(Clone)]
enum Node {
    Leaf(Box<Leaf>),
    Inner(Box<Inner>),
}

/// Node counts, for the memory estimate.
#[derive(Clone, Copy, Default)]
struct Census {
    leaves: usize,
    inners: usize,
}

#[derive(Clone, Copy)]
struct Edge {
    leftmost: bool,
    rightmost: bool,
}

impl Node {
    fn len(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len,
            Node::Inner(i) => i.total,
        }
    }

    /// Width in its parent's terms: entries of a leaf, children of an inner node.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len,
            Node::Inner(i) => i.children.len(),
        }
    }

    fn cap(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_CAP,
            Node::Inner(_) => INNER_CAP,
        }
    }

    fn min(&self) -> Key {
        match self {
            Node::Leaf(l) => l.key(0),
            Node::Inner(i) => i.children[0].min,
        }
    }

    /// Inserts `k` (absent); returns a new right sibling if the node split.
    fn insert(&mut self, slab: &Slab, k: Key, edge: Edge, census: &mut Census) -> Option<Node> {
        match self {
            Node::Leaf(leaf) => {
                let pos = leaf.lower_bound(slab, k);
                if leaf.len < LEAF_CAP {
                    leaf.insert_at(pos, k);
                    return None;
                }
                census.leaves += 1;
                let mut right = Box::new(Leaf::empty());
                if edge.rightmost && pos == leaf.len {
                    right.insert_at(0, k);
                } else if edge.leftmost && pos == 0 {
                    leaf.move_tail(0, &mut right);
                    leaf.insert_at(0, k);
                } else {
                    let mid = LEAF_CAP / 2;
                    leaf.move_tail(mid, &mut right);
                    if pos <= mid {
                        leaf.insert_at(pos, k);
                    } else {
                        right.insert_at(pos - mid, k);
                    }
                }
                Some(Node::Leaf(right))
            }
            Node::Inner(inner) => {
                let j = inner.route(slab, k);
                let last = inner.children.len() - 1;
                let sub_edge = Edge {
                    leftmost: edge.leftmost && j == 0,
                    rightmost: edge.rightmost && j == last,
                };
                inner.total += 1;
                let split = inner.children[j].node.insert(slab, k, sub_edge, census);
                inner.refresh(j);
                let new = split?;
                let child = Child {
                    count: new.len(),
                    min: new.min(),
                    node: new,
                };
                inner.children.insert(j + 1, child);
                if inner.children.len() <= INNER_CAP {
                    return None;
                }
                census.inners += 1;
                let at = if sub_edge.rightmost && j + 1 == inner.children.len() - 1 {
                    inner.children.len() - 1
                } else if sub_edge.leftmost && j == 0 {
                    1
                } else {
                    inner.children.len() / 2
                };
                let moved: Vec<Child> = inner.children.drain(at..).collect();
                let moved_total: usize = moved.iter().map(|c| c.count).sum();
                inner.total -= moved_total;
                let mut children = Vec::with_capacity(INNER_CAP + 1);
                children.extend(moved);
                Some(Node::Inner(Box::new(Inner {
                    children,
                    total: moved_total,
                })))
            }
        }
    }

    /// Removes `k`; true if it was present.
    fn remove(&mut self, slab: &Slab, k: Key, census: &mut Census) -> bool {
        match self {
            Node::Leaf(leaf) => {
                let pos = leaf.lower_bound(slab, k);
                if pos < leaf.len && leaf.ids[pos] == k.id {
                    leaf.remove_at(pos);
                    true
                } else {
                    false
                }
            }
            Node::Inner(inner) => {
                let j = inner.route(slab, k);
                if !inner.children[j].node.remove(slab, k, census) {
                    return false;
                }
                inner.total -= 1;
                inner.refresh(j);
                if inner.children[j].count == 0 {
                    match inner.children.remove(j).node {
                        Node::Leaf(_) => census.leaves -= 1,
                        Node::Inner(_) => census.inners -= 1,
                    }
                } else {
                    rebalance(inner, j, census);
                }
                true
            }
        }
    }

    /// Number of leading entries for which `pred(score, member)` holds (`pred` must hold on
    /// a prefix of the order).
    fn count_prefix(&self, slab: &Slab, pred: &mut dyn FnMut(f64, &[u8]) -> bool) -> usize {
        match self {
            Node::Leaf(leaf) => {
                let (mut lo, mut hi) = (0, leaf.len);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if pred(leaf.scores[mid], slab.member(leaf.ids[mid])) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            }
            Node::Inner(inner) => {
                let after = inner
                    .children
                    .partition_point(|c| pred(c.min.score, slab.member(c.min.id)));
                if after == 0 {
                    return 0;
                }
                let before: usize = inner.children[..after - 1].iter().map(|c| c.count).sum();
                before + inner.children[after - 1].node.count_prefix(slab, pred)
            }
        }
    }

    /// 0-based rank of `k`, which must be present.
    fn rank(&self, slab: &Slab, k: Key) -> usize {
        match self {
            Node::Leaf(leaf) => leaf.lower_bound(slab, k),
            Node::Inner(inner) => {
                let j = inner.route(slab, k);
                let before: usize = inner.children[..j].iter().map(|c| c.count).sum();
                before + inner.children[j].node.rank(slab, k)
            }
        }
    }

    fn nth(&self, mut r: usize) -> Option<Key> {
        match self {
            Node::Leaf(leaf) => (r < leaf.len).then(|| leaf.key(r)),
            Node::Inner(inner) => {
                for c in &inner.children {
                    if r < c.count {
                        return c.node.nth(r);
                    }
                    r -= c.count;
                }
                None
            }
        }
    }

    /// Visits ranks `lo..hi` (relative to this node) in ascending order; stops when `f` is false.
    fn visit(&self, lo: usize, hi: usize, f: &mut dyn FnMut(Key) -> bool) -> bool {
        match self {
            Node::Leaf(leaf) => {
                for i in lo..hi.min(leaf.len) {
                    if !f(leaf.key(i)) {
                        return false;
                    }
                }
                true
            }
            Node::Inner(inner) => {
                let mut base = 0;
                for c in &inner.children {
                    let end = base + c.count;
                    if end > lo && base < hi {
                        let from = lo.saturating_sub(base);
                        let to = (hi - base).min(c.count);
                        if !c.node.visit(from, to, f) {
                            return false;
                        }
                    }
                    if end >= hi {
                        break;
                    }
                    base = end;
                }
                true
            }
        }
    }

    /// Visits ranks `lo..hi` in descending order.
    fn visit_rev(&self, lo: usize, hi: usize, f: &mut dyn FnMut(Key) -> bool) -> bool {
        match self {
            Node::Leaf(leaf) => {
                for i in (lo..hi.min(leaf.len)).rev() {
                    if !f(leaf.key(i)) {
                        return false;
                    }
                }
                true
            }
            Node::Inner(inner) => {
                let mut end = inner.total;
                for c in inner.children.iter().rev() {
                    let base = end - c.count;
                    if end > lo && base < hi {
                        let from = lo.saturating_sub(base);
                        let to = (hi - base).min(c.count);
                        if !c.node.visit_rev(from, to, f) {
                            return false;
                        }
                    }
                    if base <= lo {
                        break;
                    }
                    end = base;
                }
                true
            }
        }
    }
}

/// Keeps child `j` of `inner` at least a quarter full by merging it with a neighbour, or
/// evening the two out when they would not fit in one node.
fn rebalance(inner: &mut Inner, j: usize, census: &mut Census) {
    let child = &inner.children[j].node;
    if child.width() >= child.cap() / 4 || inner.children.len() < 2 {
        return;
    }
    let (a, b) = if j + 1 < inner.children.len() {
        (j, j + 1)
    } else {
        (j - 1, j)
    };
    let (left, right) = inner.children.split_at_mut(b);
    let (ln, rn) = (&mut left[a].node, &mut right[0].node);
    let merged = match (ln, rn) {
        (Node::Leaf(l), Node::Leaf(r)) => {
            if l.len + r.len <= LEAF_CAP {
                r.move_tail(0, l);
                true
            } else {
                let total = l.len + r.len;
                let want_left = total / 2;
                if l.len < want_left {
                    // Move the head of `r` to the end of `l`.
                    let n = want_left - l.len;
                    let ll = l.len;
                    l.scores[ll..ll + n].copy_from_slice(&r.scores[..n]);
                    l.ids[ll..ll + n].copy_from_slice(&r.ids[..n]);
                    l.len += n;
                    r.scores.copy_within(n..r.len, 0);
                    r.ids.copy_within(n..r.len, 0);
                    r.len -= n;
                } else {
                    let mut tmp = Leaf::empty();
                    l.move_tail(want_left, &mut tmp);
                    r.move_tail(0, &mut tmp);
                    std::mem::swap(r.as_mut(), &mut tmp);
                }
                false
            }
        }
        (Node::Inner(l), Node::Inner(r)) => {
            if l.children.len() + r.children.len() <= INNER_CAP {
                l.total += r.total;
                l.children.append(&mut r.children);
                r.total = 0;
                true
            } else {
                let total = l.children.len() + r.children.len();
                let want_left = total / 2;
                if l.children.len() < want_left {
                    let n = want_left - l.children.len();
                    let moved: Vec<Child> = r.children.drain(..n).collect();
                    let c: usize = moved.iter().map(|c| c.count).sum();
                    l.children.extend(moved);
                    l.total += c;
                    r.total -= c;
                } else {
                    let moved: Vec<Child> = l.children.drain(want_left..).collect();
                    let c: usize = moved.iter().map(|c| c.count).sum();
                    r.children.splice(0..0, moved);
                    l.total -= c;
                    r.total += c;
                }
                false
            }
        }
        _ => false,
    };
    if merged {
        match inner.children.remove(b).node {
            Node::Leaf(_) => census.leaves -= 1,
            Node::Inner(_) => census.inners -= 1,
        }
        inner.refresh(a);
    } else {
        inner.refresh(a);
        inner.refresh(b);
    }
}

/// The large encoding: tree + slab + member index.
#[derive(Clone)]
pub struct ZTree {
    root: Node,
    slab: Slab,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    census: Census,
}

impl Default for ZTree {
    fn default() -> Self {
        ZTree::new()
    }
}

impl std::fmt::Debug for ZTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZTree").field("len", &self.len()).finish()
    }
}

impl ZTree {
    /// An empty set.
    pub fn new() -> ZTree {
        ZTree {
            root: Node::Leaf(Box::new(Leaf::empty())),
            slab: Slab::default(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            census: Census {
                leaves: 1,
                inners: 0,
            },
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.root.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        self.index
            .find(hash, |&id| self.slab.member(id) == member)
            .copied()
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.slab.slot(id).score)
    }

    /// Sets `member`'s score; returns the previous score if it was present.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        debug_assert!(!score.is_nan());
        if let Some(id) = self.find(member) {
            let old = self.slab.slot(id).score;
            if old != score {
                let removed =
                    self.root
                        .remove(&self.slab, Key { score: old, id }, &mut self.census);
                debug_assert!(removed);
                self.slab.slot_mut(id).score = score;
                self.tree_insert(Key { score, id });
            }
            return Some(old);
        }
        let id = self.slab.alloc(member, score);
        let hash = self.hasher.hash_one(member);
        let (slab, hasher) = (&self.slab, &self.hasher);
        self.index
            .insert_unique(hash, id, |&i| hasher.hash_one(slab.member(i)));
        self.tree_insert(Key { score, id });
        None
    }

    fn tree_insert(&mut self, k: Key) {
        let edge = Edge {
            leftmost: true,
            rightmost: true,
        };
        if let Some(right) = self.root.insert(&self.slab, k, edge, &mut self.census) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Box::new(Leaf::empty())));
            let mut children = Vec::with_capacity(INNER_CAP + 1);
            let total = left.len() + right.len();
            for n in [left, right] {
                children.push(Child {
                    count: n.len(),
                    min: n.min(),
                    node: n,
                });
            }
            self.root = Node::Inner(Box::new(Inner { children, total }));
            self.census.inners += 1;
        }
    }

    /// Removes `member`; returns its score if it was present.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let hash = self.hasher.hash_one(member);
        let slab = &self.slab;
        let entry = self
            .index
            .find_entry(hash, |&id| slab.member(id) == member)
            .ok()?;
        let id = *entry.get();
        entry.remove();
        let score = self.slab.slot(id).score;
        let removed = self
            .root
            .remove(&self.slab, Key { score, id }, &mut self.census);
        debug_assert!(removed);
        self.slab.release(id);
        // Collapse a root left with one child (or none).
        while let Node::Inner(inner) = &mut self.root {
            if inner.children.len() > 1 {
                break;
            }
            let node = match inner.children.pop() {
                Some(c) => c.node,
                None => {
                    self.census.leaves += 1;
                    Node::Leaf(Box::new(Leaf::empty()))
                }
            };
            self.root = node;
            self.census.inners -= 1;
        }
        if self.index.len() * 4 < self.index.capacity() && self.index.capacity() > 64 {
            let (slab, hasher) = (&self.slab, &self.hasher);
            self.index
                .shrink_to(self.index.len() * 2, |&i| hasher.hash_one(slab.member(i)));
        }
        Some(score)
    }

    /// 0-based ascending rank and score of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let id = self.find(member)?;
        let score = self.slab.slot(id).score;
        Some((self.root.rank(&self.slab, Key { score, id }), score))
    }

    /// The entry at ascending rank `r`.
    pub fn nth(&self, r: usize) -> Option<(&[u8], f64)> {
        let k = self.root.nth(r)?;
        Some((self.slab.member(k.id), k.score))
    }

    /// Number of leading entries for which `pred` holds (a prefix of the order).
    pub fn count_prefix(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        self.root.count_prefix(&self.slab, &mut pred)
    }

    /// Visits ranks `lo..hi`, ascending or (`rev`) descending; stops when `f` returns false.
    pub fn visit(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        let hi = hi.min(self.len());
        if lo >= hi {
            return;
        }
        let slab = &self.slab;
        let mut g = |k: Key| f(slab.member(k.id), k.score);
        if rev {
            self.root.visit_rev(lo, hi, &mut g);
        } else {
            self.root.visit(lo, hi, &mut g);
        }
    }

    /// One ZSCAN step: visits live members by slot id from `cursor` until `count` were seen;
    /// returns the next cursor (0 = done). A member present for the whole scan keeps its slot,
    /// so it is returned exactly once.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        let mut id = u32::try_from(cursor).unwrap_or(u32::MAX);
        let mut seen = 0;
        while id < self.slab.next {
            let slot = self.slab.slot(id);
            if self.find(slot.member.as_slice()) == Some(id) {
                f(slot.member.as_slice(), slot.score);
                seen += 1;
            }
            id += 1;
            if seen >= count.max(1) && id < self.slab.next {
                return u64::from(id);
            }
        }
        0
    }

    /// Heap bytes owned (O(1): from node and slab counters).
    pub fn mem_bytes(&self) -> usize {
        let leaf = std::mem::size_of::<Leaf>();
        let inner = std::mem::size_of::<Inner>() + (INNER_CAP + 1) * std::mem::size_of::<Child>();
        let buckets = if self.index.capacity() == 0 {
            0
        } else {
            (self.index.capacity() * 8 / 7).next_power_of_two()
        };
        self.slab.mem_bytes()
            + self.census.leaves * leaf
            + self.census.inners * inner
            + buckets * 5
            + std::mem::size_of::<ZTree>()
    }

    /// Checks every structural invariant (tests).
    #[cfg(test)]
    pub fn check(&self) {
        fn walk(n: &Node, out: &mut Vec<Key>, census: &mut Census) -> usize {
            match n {
                Node::Leaf(l) => {
                    census.leaves += 1;
                    out.extend((0..l.len).map(|i| l.key(i)));
                    l.len
                }
                Node::Inner(i) => {
                    census.inners += 1;
                    let mut total = 0;
                    for c in &i.children {
                        let got = walk(&c.node, out, census);
                        assert_eq!(got, c.count);
                        assert!(got > 0);
                        assert_eq!(c.min.id, c.node.min().id);
                        total += got;
                    }
                    assert_eq!(total, i.total);
                    total
                }
            }
        }
        let mut keys = Vec::new();
        let mut census = Census::default();
        let n = walk(&self.root, &mut keys, &mut census);
        assert_eq!(n, self.index.len());
        assert_eq!(census.leaves, self.census.leaves);
        assert_eq!(census.inners, self.census.inners);
        for w in keys.windows(2) {
            assert_eq!(cmp_key(&self.slab, w[0], w[1]), Ordering::Less);
        }
        for k in keys {
            assert_eq!(self.slab.slot(k.id).score, k.score);
            assert_eq!(self.find(self.slab.member(k.id)), Some(k.id));
        }
    }
}
