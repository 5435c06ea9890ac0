//! The `quicklist` encoding of a large list: a deque of listpack nodes, with Redis 7.2's node
//! fill rules (`list-max-listpack-size`), node splitting and merging on LINSERT.
//!
//! Invariants:
//! - No node is empty; `count` is the sum of the nodes' lengths.
//! - Pushes and pops touch only the first or last node (O(1) amortized); a node that stops
//!   being an end node is shrunk to its exact size, so interior nodes carry no spare bytes.
//! - Node boundaries follow Redis's `quicklist.c` decisions (`_quicklistNodeAllowInsert`,
//!   `_quicklistInsert`, `_quicklistMergeNodes`), so the node count, which decides when the list
//!   converts back to a listpack, matches Redis.

use std::cell::Cell;
use std::collections::VecDeque;

use super::pack::{Elem, Encoded, LP_OVERHEAD, Pack, PackIter, PackRevIter};

/// `optimization_level`: the node byte limits of fills -1..-5.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// `SIZE_SAFETY_LIMIT`: the largest multi-element node when the fill limits entries.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// `SIZE_ESTIMATE_OVERHEAD`: the per-entry overhead a size check assumes.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

/// `quicklistNodeLimit`: the (bytes, entries) limits of a fill; `usize::MAX` = unlimited.
pub fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        let count = if fill == 0 {
            1
        } else {
            usize::try_from(fill).unwrap_or(usize::MAX)
        };
        (usize::MAX, count)
    } else {
        let offset = usize::try_from(-(fill + 1)).unwrap_or(usize::MAX);
        (SIZE_LEVELS[offset.min(SIZE_LEVELS.len() - 1)], usize::MAX)
    }
}

/// `quicklistNodeExceedsLimit`: would a node of `new_sz` bytes and `new_count` entries be too
/// big under `fill`?
pub fn exceeds_limit(fill: i64, new_sz: usize, new_count: usize) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != usize::MAX {
        new_sz > sz_limit
    } else {
        new_sz > SIZE_SAFETY_LIMIT || new_count > count_limit
    }
}

/// `_quicklistNodeAllowInsert` for an element of `sz` bytes.
fn allow_insert(node: Option<&Pack>, fill: i64, sz: usize) -> bool {
    node.is_some_and(|n| {
        !exceeds_limit(
            fill,
            n.lp_bytes() + sz + SIZE_ESTIMATE_OVERHEAD,
            n.len() + 1,
        )
    })
}

/// `_quicklistNodeAllowMerge`.
fn allow_merge(a: &Pack, b: &Pack, fill: i64) -> bool {
    // One listpack header and end marker disappear in the merge.
    let merged = a.lp_bytes() + b.lp_bytes() - LP_OVERHEAD;
    !exceeds_limit(fill, merged, a.len() + b.len())
}

/// The summed heap bytes of the interior nodes (all but the first and last), cached so that
/// `heap_bytes` — called around every write for memory accounting — is O(1) for pushes and
/// pops at the ends, which never touch interior nodes except to move one across the border.
/// `None` means "recompute"; every other mutation invalidates it. Ignored by equality.
#[derive(Debug, Clone, Default)]
struct InteriorBytes(Cell<Option<usize>>);

impl PartialEq for InteriorBytes {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for InteriorBytes {}

/// A list of listpack nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quicklist {
    nodes: VecDeque<Pack>,
    interior: InteriorBytes,
    count: usize,
    /// The fill the list was created with (`quicklistSetFill` clamps to -5..=32767).
    fill: i64,
}

impl Quicklist {
    /// A quicklist holding `pack` (if non-empty) as its only node.
    pub fn from_pack(pack: Pack, fill: i64) -> Quicklist {
        let count = pack.len();
        let mut nodes = VecDeque::new();
        if !pack.is_empty() {
            nodes.push_back(pack);
        }
        Quicklist {
            nodes,
            interior: InteriorBytes::default(),
            count,
            fill: fill.clamp(-5, 32767),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if there are no elements.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The only node, if there is exactly one.
    pub fn single_node(&self) -> Option<&Pack> {
        match self.nodes.len() {
            1 => self.nodes.front(),
            _ => None,
        }
    }

    /// Takes the only node out (the list becomes empty).
    pub fn into_single_pack(mut self) -> Pack {
        self.nodes.pop_front().unwrap_or_default()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        let n = self.nodes.len();
        let interior = match self.interior.0.get() {
            Some(b) => b,
            None => {
                let b = self
                    .nodes
                    .iter()
                    .skip(1)
                    .take(n.saturating_sub(2))
                    .map(Pack::heap_bytes)
                    .sum();
                self.interior.0.set(Some(b));
                b
            }
        };
        debug_assert_eq!(
            interior,
            self.nodes
                .iter()
                .skip(1)
                .take(n.saturating_sub(2))
                .map(Pack::heap_bytes)
                .sum::<usize>()
        );
        let ends = self.nodes.front().map_or(0, Pack::heap_bytes)
            + if n >= 2 {
                self.nodes.back().map_or(0, Pack::heap_bytes)
            } else {
                0
            };
        self.nodes.capacity() * std::mem::size_of::<Pack>() + ends + interior
    }

    /// Adjusts the interior cache by `delta` bytes (when it is valid).
    fn interior_add(&self, bytes: usize, add: bool) {
        if let Some(b) = self.interior.0.get() {
            self.interior.0.set(Some(if add {
                b + bytes
            } else {
                b.saturating_sub(bytes)
            }));
        }
    }

    /// Forgets the interior cache (any mutation other than at the ends).
    fn invalidate(&self) {
        self.interior.0.set(None);
    }

    /// Pushes at the front (`quicklistPushHead`).
    pub fn push_front(&mut self, s: &[u8]) {
        if allow_insert(self.nodes.front(), self.fill, s.len()) {
            if let Some(n) = self.nodes.front_mut() {
                n.push_front(s);
            }
        } else {
            let n = self.nodes.len();
            if let Some(old) = self.nodes.front_mut() {
                old.shrink_to_fit();
            }
            if n >= 2
                && let Some(old) = self.nodes.front()
            {
                // The old front becomes interior.
                self.interior_add(old.heap_bytes(), true);
            }
            let mut node = Pack::new();
            node.push_front(s);
            self.nodes.push_front(node);
        }
        self.count += 1;
    }

    /// Pushes at the back (`quicklistPushTail`).
    pub fn push_back(&mut self, s: &[u8]) {
        if allow_insert(self.nodes.back(), self.fill, s.len()) {
            if let Some(n) = self.nodes.back_mut() {
                n.push_back(s);
            }
        } else {
            let n = self.nodes.len();
            if let Some(old) = self.nodes.back_mut() {
                old.shrink_to_fit();
            }
            if n >= 2
                && let Some(old) = self.nodes.back()
            {
                // The old back becomes interior.
                self.interior_add(old.heap_bytes(), true);
            }
            let mut node = Pack::new();
            node.push_back(s);
            self.nodes.push_back(node);
        }
        self.count += 1;
    }

    /// The first element.
    pub fn front(&self) -> Option<Elem<'_>> {
        self.nodes.front().and_then(Pack::front)
    }

    /// The last element.
    pub fn back(&self) -> Option<Elem<'_>> {
        self.nodes.back().and_then(Pack::back)
    }

    /// Removes the first element.
    pub fn remove_front(&mut self) {
        if let Some(n) = self.nodes.front_mut() {
            n.remove_front();
            self.count -= 1;
            if n.is_empty() {
                self.nodes.pop_front();
                if self.nodes.len() >= 2
                    && let Some(new) = self.nodes.front()
                {
                    // The new front was interior.
                    self.interior_add(new.heap_bytes(), false);
                }
            }
            debug_assert_eq!(self.nodes.is_empty(), self.count == 0);
        }
    }

    /// Removes the last element.
    pub fn remove_back(&mut self) {
        if let Some(n) = self.nodes.back_mut() {
            n.remove_back();
            self.count -= 1;
            if n.is_empty() {
                self.nodes.pop_back();
                if self.nodes.len() >= 2
                    && let Some(new) = self.nodes.back()
                {
                    // The new back was interior.
                    self.interior_add(new.heap_bytes(), false);
                }
            }
            debug_assert_eq!(self.nodes.is_empty(), self.count == 0);
        }
    }

    /// The node holding element `index` and the index within it, walking from the nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.count {
            return None;
        }
        if index <= self.count / 2 {
            let mut i = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.len() {
                    return Some((ni, i));
                }
                i -= n.len();
            }
        } else {
            let mut from_back = self.count - 1 - index;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if from_back < n.len() {
                    return Some((ni, n.len() - 1 - from_back));
                }
                from_back -= n.len();
            }
        }
        None
    }

    /// Element `index`.
    pub fn get(&self, index: usize) -> Option<Elem<'_>> {
        let (ni, i) = self.locate(index)?;
        self.nodes.get(ni)?.get(i)
    }

    /// Replaces element `index` in place (`quicklistReplaceEntry`); false if out of range.
    pub fn replace(&mut self, index: usize, s: &[u8]) -> bool {
        self.invalidate();
        let Some((ni, i)) = self.locate(index) else {
            return false;
        };
        let Some(node) = self.nodes.get_mut(ni) else {
            return false;
        };
        let off = node.offset_of(i);
        node.replace_at(off, s);
        true
    }

    /// Forward iterator from element `index`.
    pub fn iter_from(&self, index: usize) -> QIter<'_> {
        match self.locate(index) {
            Some((ni, i)) => {
                let node = &self.nodes[ni];
                QIter {
                    nodes: &self.nodes,
                    next_node: ni + 1,
                    cur: node.iter_from(node.offset_of(i)),
                }
            }
            None => QIter {
                nodes: &self.nodes,
                next_node: self.nodes.len(),
                cur: PackIter::empty(),
            },
        }
    }

    /// Backward iterator from element `index` (inclusive) toward the front.
    pub fn iter_rev_from(&self, index: usize) -> QRevIter<'_> {
        match self.locate(index) {
            Some((ni, i)) => {
                let node = &self.nodes[ni];
                QRevIter {
                    nodes: &self.nodes,
                    next_node: ni,
                    cur: node.iter_rev_to(node.offset_of(i + 1)),
                }
            }
            None => QRevIter {
                nodes: &self.nodes,
                next_node: 0,
                cur: PackRevIter::empty(),
            },
        }
    }

    /// Inserts `s` before or after the first element equal to `pivot` (from the front);
    /// false if there is no such element. Follows `_quicklistInsert`.
    pub fn insert_at_pivot(&mut self, pivot: &[u8], s: &[u8], after: bool) -> bool {
        self.invalidate();
        let needle = Encoded::new(pivot);
        let mut found = None;
        'nodes: for (ni, node) in self.nodes.iter().enumerate() {
            let mut off = 0;
            for i in 0..node.len() {
                if node.matches_at(off, &needle) {
                    found = Some((ni, i, off));
                    break 'nodes;
                }
                off = node.next_offset(off);
            }
        }
        let Some((ni, i, off)) = found else {
            return false;
        };
        self.insert_near(ni, i, off, s, after);
        true
    }

    fn insert_near(&mut self, ni: usize, i: usize, off: usize, s: &[u8], after: bool) {
        self.invalidate();
        let fill = self.fill;
        let sz = s.len();
        let node_len = self.nodes[ni].len();
        let full = !allow_insert(self.nodes.get(ni), fill, sz);
        let at_tail = after && i == node_len - 1;
        let at_head = !after && i == 0;
        let avail_next = at_tail && allow_insert(self.nodes.get(ni + 1), fill, sz);
        let avail_prev = at_head && ni > 0 && allow_insert(self.nodes.get(ni - 1), fill, sz);
        self.count += 1;
        if !full {
            let node = &mut self.nodes[ni];
            let at = if after { node.next_offset(off) } else { off };
            node.insert_at(at, s);
        } else if at_tail && avail_next {
            self.nodes[ni + 1].push_front(s);
        } else if at_head && avail_prev {
            self.nodes[ni - 1].push_back(s);
        } else if at_tail || at_head {
            let mut node = Pack::new();
            node.push_front(s);
            self.nodes.insert(if after { ni + 1 } else { ni }, node);
        } else {
            // Split the full node around the pivot; the new element joins the split-off part.
            let node = &mut self.nodes[ni];
            let center = if after {
                // The node keeps [0, i]; the new node gets the element then (i, end].
                let mut tail = node.split_off(i + 1);
                tail.push_front(s);
                self.nodes.insert(ni + 1, tail);
                ni
            } else {
                // The new node gets [0, i) then the element; the node keeps [i, end].
                let rest = node.split_off(i);
                let mut front = std::mem::replace(node, rest);
                front.push_back(s);
                self.nodes.insert(ni, front);
                ni + 1
            };
            self.merge_around(center);
        }
    }

    /// Merges `nodes[a + 1]` into `nodes[a]`.
    fn merge_pair(&mut self, a: usize) {
        self.invalidate();
        if let Some(b) = self.nodes.remove(a + 1)
            && let Some(left) = self.nodes.get_mut(a)
        {
            left.append(&b);
        }
    }

    fn can_merge(&self, a: usize, b: usize) -> bool {
        match (self.nodes.get(a), self.nodes.get(b)) {
            (Some(x), Some(y)) => allow_merge(x, y, self.fill),
            _ => false,
        }
    }

    /// `_quicklistMergeNodes` around the node at `center`.
    fn merge_around(&mut self, mut center: usize) {
        self.invalidate();
        // (prev_prev, prev)
        if center >= 2 && self.can_merge(center - 2, center - 1) {
            self.merge_pair(center - 2);
            center -= 1;
        }
        // (next, next_next)
        if self.can_merge(center + 1, center + 2) {
            self.merge_pair(center + 1);
        }
        // (prev, center)
        let target = if center >= 1 && self.can_merge(center - 1, center) {
            self.merge_pair(center - 1);
            center - 1
        } else {
            center
        };
        // (target, next)
        if self.can_merge(target, target + 1) {
            self.merge_pair(target);
        }
    }

    /// Removes up to `limit` elements equal to `s` (0 = all), from the front or the back.
    pub fn remove_matching(&mut self, s: &[u8], limit: usize, from_back: bool) -> usize {
        self.invalidate();
        let needle = Encoded::new(s);
        let mut removed = 0;
        let n = self.nodes.len();
        for step in 0..n {
            let ni = if from_back { n - 1 - step } else { step };
            let left = if limit == 0 { 0 } else { limit - removed };
            removed += self.nodes[ni].remove_matching(&needle, left, from_back);
            if limit != 0 && removed >= limit {
                break;
            }
        }
        self.nodes.retain(|node| !node.is_empty());
        self.count -= removed;
        removed
    }

    /// Deletes `n` elements from element `start` on (`quicklistDelRange`; nodes never merge).
    pub fn delete_range(&mut self, start: usize, n: usize) {
        self.invalidate();
        let mut n = n.min(self.count.saturating_sub(start));
        if n == 0 {
            return;
        }
        self.count -= n;
        let Some((mut ni, mut i)) = self.locate_unchecked(start) else {
            return;
        };
        while n > 0 {
            let Some(node) = self.nodes.get_mut(ni) else {
                break;
            };
            let take = n.min(node.len() - i);
            if take == node.len() {
                self.nodes.remove(ni);
            } else {
                node.delete_range(i, take);
                ni += 1;
            }
            n -= take;
            i = 0;
        }
    }

    /// `locate` against the element count before a deletion already subtracted from `count`.
    fn locate_unchecked(&self, index: usize) -> Option<(usize, usize)> {
        let mut i = index;
        for (ni, n) in self.nodes.iter().enumerate() {
            if i < n.len() {
                return Some((ni, i));
            }
            i -= n.len();
        }
        None
    }

    /// Per-node element counts (tests).
    #[cfg(test)]
    pub fn node_lens(&self) -> Vec<usize> {
        self.nodes.iter().map(Pack::len).collect()
    }
}

/// Forward iterator over a quicklist.
#[derive(Clone)]
pub struct QIter<'a> {
    nodes: &'a VecDeque<Pack>,
    next_node: usize,
    cur: PackIter<'a>,
}

impl<'a> Iterator for QIter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        loop {
            if let Some(e) = self.cur.next() {
                return Some(e);
            }
            let node = self.nodes.get(self.next_node)?;
            self.next_node += 1;
            self.cur = node.iter();
        }
    }
}

/// Backward iterator over a quicklist.
#[derive(Clone)]
pub struct QRevIter<'a> {
    nodes: &'a VecDeque<Pack>,
    /// Index of the node `cur` walks (the next one walked is the one before it).
    next_node: usize,
    cur: PackRevIter<'a>,
}

impl<'a> Iterator for QRevIter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        loop {
            if let Some(e) = self.cur.next() {
                return Some(e);
            }
            if self.next_node == 0 {
                return None;
            }
            self.next_node -= 1;
            self.cur = self.nodes.get(self.next_node)?.iter_rev();
        }
    }
}
