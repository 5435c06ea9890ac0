//! Expansion: neighbour iteration, degrees and edges between two nodes.
//!
//! `Neighbors` walks, for each selected relationship type and direction, the node's CSR
//! segment, the frozen delta of a compaction underway and the live delta — plain slice
//! iteration with no allocation and no hashing per neighbour (a dead-entry bitmap probe only
//! while deletions await compaction). With `Direction::Both` the incoming pass skips
//! self-loops, so each self-loop is reported once. Types listed twice are walked twice; unknown
//! type ids yield nothing.

use crate::adjacency::{Adj, Adjacency};
use crate::graph::Graph;
use crate::ids::{Direction, EdgeId, NodeId, RelTypeId};
use roaring::RoaringBitmap;

/// Iterator over `(edge, neighbour)` pairs of one node; see the module doc.
pub struct Neighbors<'g> {
    adj: &'g [[Adjacency; 2]],
    types: &'g [RelTypeId],
    node: u32,
    type_pos: usize,
    pass: u8,
    first_pass: u8,
    last_pass: u8,
    seg: u8,
    both: bool,
    skip_self: bool,
    dead: Option<&'g RoaringBitmap>,
    cur: std::slice::Iter<'g, Adj>,
}

impl<'g> Neighbors<'g> {
    fn empty() -> Neighbors<'g> {
        // No adjacencies at all: `advance` finds no type and stops.
        Neighbors {
            adj: &[],
            types: &[],
            node: 0,
            type_pos: usize::MAX,
            pass: 0,
            first_pass: 0,
            last_pass: 0,
            seg: 3,
            both: false,
            skip_self: false,
            dead: None,
            cur: [].iter(),
        }
    }

    fn type_at(&self, pos: usize) -> Option<usize> {
        if self.types.is_empty() {
            (pos < self.adj.len()).then_some(pos)
        } else {
            self.types.get(pos).map(|t| t.0 as usize)
        }
    }

    /// Loads the next non-empty slice into `cur`; false when exhausted.
    fn advance(&mut self) -> bool {
        loop {
            if self.seg >= 3 {
                self.seg = 0;
                if self.pass >= self.last_pass {
                    self.pass = self.first_pass;
                    self.type_pos = self.type_pos.wrapping_add(1);
                } else {
                    self.pass += 1;
                }
            }
            let Some(t) = self.type_at(self.type_pos) else {
                self.seg = 3;
                return false;
            };
            let Some(pair) = self.adj.get(t) else {
                self.seg = 3;
                continue;
            };
            let a = &pair[self.pass as usize];
            let s = a.slice(self.node, self.seg);
            self.dead = if self.seg < 2 { a.dead_filter() } else { None };
            self.skip_self = self.both && self.pass == 1;
            self.seg += 1;
            if !s.is_empty() {
                self.cur = s.iter();
                return true;
            }
        }
    }
}

impl Iterator for Neighbors<'_> {
    type Item = (EdgeId, NodeId);

    #[inline]
    fn next(&mut self) -> Option<(EdgeId, NodeId)> {
        loop {
            if let Some(a) = self.cur.next() {
                if self.skip_self && a.nbr == self.node {
                    continue;
                }
                if let Some(d) = self.dead
                    && d.contains(a.edge)
                {
                    continue;
                }
                return Some((EdgeId(u64::from(a.edge)), NodeId(u64::from(a.nbr))));
            }
            if !self.advance() {
                return None;
            }
        }
    }
}

impl Graph {
    /// The `(edge, neighbour)` pairs of `node` in `dir` over `types` (empty = all types).
    /// Empty for a missing node.
    pub fn neighbors<'g>(
        &'g self,
        node: NodeId,
        dir: Direction,
        types: &'g [RelTypeId],
    ) -> Neighbors<'g> {
        let Some(v) = node.slot().filter(|_| self.node_exists(node)) else {
            return Neighbors::empty();
        };
        let (first_pass, last_pass) = match dir {
            Direction::Out => (0, 0),
            Direction::In => (1, 1),
            Direction::Both => (0, 1),
        };
        Neighbors {
            adj: &self.adj,
            types,
            node: v,
            // `advance` wraps this to 0 on its first call.
            type_pos: usize::MAX,
            pass: last_pass,
            first_pass,
            last_pass,
            seg: 3,
            both: dir == Direction::Both,
            skip_self: false,
            dead: None,
            cur: [].iter(),
        }
    }

    /// Number of pairs `neighbors(node, dir, types)` yields, in O(1) per type.
    pub fn degree(&self, node: NodeId, dir: Direction, types: &[RelTypeId]) -> u64 {
        if self.node_exists(node) {
            self.live_degree(node, dir, types)
        } else {
            0
        }
    }

    /// `degree` for a node the caller knows is live: skips reading the node's record (a cache
    /// miss per call when counting the neighbours of many nodes).
    pub(crate) fn live_degree(&self, node: NodeId, dir: Direction, types: &[RelTypeId]) -> u64 {
        let Some(v) = node.slot() else {
            return 0;
        };
        let one = |t: usize| -> u64 {
            let Some(pair) = self.adj.get(t) else {
                return 0;
            };
            let d = match dir {
                Direction::Out => pair[0].degree(v),
                Direction::In => pair[1].degree(v),
                Direction::Both => {
                    let loops = if self.self_loops.is_empty() {
                        0
                    } else {
                        self.self_loops.get(&(t as u32, v)).copied().unwrap_or(0) as usize
                    };
                    pair[0].degree(v) + pair[1].degree(v) - loops
                }
            };
            d as u64
        };
        if types.is_empty() {
            (0..self.adj.len()).map(one).sum()
        } else {
            types.iter().map(|t| one(t.0 as usize)).sum()
        }
    }

    /// Edges from `a` to `b` (`Out`), from `b` to `a` (`In`) or either way (`Both`), over
    /// `types` (empty = all). Walks the lower-degree endpoint.
    pub fn edges_between<'g>(
        &'g self,
        a: NodeId,
        b: NodeId,
        dir: Direction,
        types: &'g [RelTypeId],
    ) -> impl Iterator<Item = EdgeId> + 'g {
        let (from, to, d) = if self.degree(a, dir, types) <= self.degree(b, dir.reverse(), types) {
            (a, b, dir)
        } else {
            (b, a, dir.reverse())
        };
        self.neighbors(from, d, types)
            .filter(move |&(_, n)| n == to)
            .map(|(e, _)| e)
    }
}
