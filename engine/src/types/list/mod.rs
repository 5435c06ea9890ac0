//! The list value: a single listpack while small (`listpack` encoding), a quicklist of
//! listpack nodes once it grows past `list-max-listpack-size` (`quicklist` encoding), and back
//! to a listpack when it shrinks to half the limit, exactly as Redis 7.2's `t_list.c`.
//!
//! Invariants:
//! - The encoding changes only through [`ListValue::grow`] (before elements are added, as
//!   `listTypeTryConversionAppend`) and [`ListValue::shrink`] (after elements are removed, as
//!   `listTypeTryConversion(.., LIST_CONV_SHRINKING)`); the command layer calls them exactly
//!   where Redis does, so OBJECT ENCODING flips at the same element as in Redis.
//! - Elements are stored in listpack entry format (see [`pack`]), so byte-size thresholds
//!   match Redis's `lpBytes` exactly.

mod pack;
mod quicklist;

#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use pack::{Elem, Encoded, Pack, PackIter, PackRevIter, push_i64};
pub use quicklist::{QIter, QRevIter, Quicklist, exceeds_limit, node_limit};

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (LEFT, index 0).
    Head,
    /// The tail (RIGHT, index -1).
    Tail,
}

/// A stored list. See the module docs.
#[derive(Clone, Default)]
pub struct ListValue {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Listpack(Pack),
    Quicklist(Box<Quicklist>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Listpack(Pack::new())
    }
}

impl std::fmt::Debug for ListValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.encoding_name())?;
        f.debug_list().entries(self.iter_from(0)).finish()
    }
}

/// Equal when the encodings and the elements are equal.
impl PartialEq for ListValue {
    fn eq(&self, other: &ListValue) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Listpack(a), Repr::Listpack(b)) => a == b,
            (Repr::Quicklist(a), Repr::Quicklist(b)) => {
                a.len() == b.len() && a.iter_from(0).eq(b.iter_from(0))
            }
            _ => false,
        }
    }
}

impl Eq for ListValue {}

const _: () = assert!(std::mem::size_of::<ListValue>() <= 32);

impl ListValue {
    /// An empty list (listpack encoding).
    pub fn new() -> ListValue {
        ListValue::default()
    }

    /// OBJECT ENCODING's answer (Redis's names).
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Quicklist(_) => "quicklist",
        }
    }

    /// Heap bytes owned by the value (approximate, for INFO memory and eviction).
    pub fn mem_bytes(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.heap_bytes(),
            Repr::Quicklist(q) => std::mem::size_of::<Quicklist>() + q.heap_bytes(),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.len(),
            Repr::Quicklist(q) => q.len(),
        }
    }

    /// True if there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of quicklist nodes (1 for a listpack), for tests and diagnostics.
    pub fn node_count(&self) -> usize {
        match &self.repr {
            Repr::Listpack(_) => 1,
            Repr::Quicklist(q) => q.node_count(),
        }
    }

    /// `listTypeTryConvertListpack`: before adding `add_len` elements of `add_bytes` string
    /// bytes in total, convert a listpack that would exceed `fill` to a quicklist.
    pub fn grow(&mut self, fill: i64, add_bytes: usize, add_len: usize) {
        if let Repr::Listpack(p) = &mut self.repr
            && exceeds_limit(fill, p.lp_bytes() + add_bytes, p.len() + add_len)
        {
            let pack = std::mem::take(p);
            self.repr = Repr::Quicklist(Box::new(Quicklist::from_pack(pack, fill)));
        }
    }

    /// `listTypeTryConvertQuicklist` with `shrinking`: a quicklist of one node within half of
    /// `fill`'s limits becomes a listpack again.
    pub fn shrink(&mut self, fill: i64) {
        let Repr::Quicklist(q) = &self.repr else {
            return;
        };
        let Some(node) = q.single_node() else {
            return;
        };
        let (sz_limit, count_limit) = node_limit(fill);
        if node.lp_bytes() > sz_limit / 2 || q.len() > count_limit / 2 {
            return;
        }
        if let Repr::Quicklist(q) = std::mem::take(&mut self.repr) {
            self.repr = Repr::Listpack(q.into_single_pack());
        }
    }

    /// Pushes one element at `end`.
    pub fn push(&mut self, end: End, s: &[u8]) {
        match (&mut self.repr, end) {
            (Repr::Listpack(p), End::Head) => p.push_front(s),
            (Repr::Listpack(p), End::Tail) => p.push_back(s),
            (Repr::Quicklist(q), End::Head) => q.push_front(s),
            (Repr::Quicklist(q), End::Tail) => q.push_back(s),
        }
    }

    /// The element at `end`.
    pub fn peek(&self, end: End) -> Option<Elem<'_>> {
        match (&self.repr, end) {
            (Repr::Listpack(p), End::Head) => p.front(),
            (Repr::Listpack(p), End::Tail) => p.back(),
            (Repr::Quicklist(q), End::Head) => q.front(),
            (Repr::Quicklist(q), End::Tail) => q.back(),
        }
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        let value = self.peek(end)?.to_bytes();
        match (&mut self.repr, end) {
            (Repr::Listpack(p), End::Head) => p.remove_front(),
            (Repr::Listpack(p), End::Tail) => p.remove_back(),
            (Repr::Quicklist(q), End::Head) => q.remove_front(),
            (Repr::Quicklist(q), End::Tail) => q.remove_back(),
        }
        Some(value)
    }

    /// Element `index` (0-based from the head).
    pub fn get(&self, index: usize) -> Option<Elem<'_>> {
        match &self.repr {
            Repr::Listpack(p) => p.get(index),
            Repr::Quicklist(q) => q.get(index),
        }
    }

    /// Replaces element `index`; false if out of range.
    pub fn set(&mut self, index: usize, s: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(p) => {
                if index >= p.len() {
                    return false;
                }
                let off = p.offset_of(index);
                p.replace_at(off, s);
                true
            }
            Repr::Quicklist(q) => q.replace(index, s),
        }
    }

    /// Inserts `s` before (or `after`) the first element equal to `pivot`; false if absent.
    pub fn insert(&mut self, pivot: &[u8], s: &[u8], after: bool) -> bool {
        match &mut self.repr {
            Repr::Listpack(p) => {
                let needle = Encoded::new(pivot);
                let mut off = 0;
                for _ in 0..p.len() {
                    if p.matches_at(off, &needle) {
                        let at = if after { p.next_offset(off) } else { off };
                        p.insert_at(at, s);
                        return true;
                    }
                    off = p.next_offset(off);
                }
                false
            }
            Repr::Quicklist(q) => q.insert_at_pivot(pivot, s, after),
        }
    }

    /// Removes up to `limit` elements equal to `s` (0 = all), scanning from the head or the
    /// tail; returns how many were removed.
    pub fn remove(&mut self, s: &[u8], limit: usize, from_tail: bool) -> usize {
        match &mut self.repr {
            Repr::Listpack(p) => p.remove_matching(&Encoded::new(s), limit, from_tail),
            Repr::Quicklist(q) => q.remove_matching(s, limit, from_tail),
        }
    }

    /// Deletes `n` elements from index `start` on (clamped).
    pub fn delete_range(&mut self, start: usize, n: usize) {
        match &mut self.repr {
            Repr::Listpack(p) => p.delete_range(start, n),
            Repr::Quicklist(q) => q.delete_range(start, n),
        }
    }

    /// Elements from `index` toward the tail.
    pub fn iter_from(&self, index: usize) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(p) => Iter::Listpack(p.iter_from(p.offset_of(index))),
            Repr::Quicklist(q) => Iter::Quicklist(q.iter_from(index)),
        }
    }

    /// Elements from `index` (inclusive) toward the head.
    pub fn iter_rev_from(&self, index: usize) -> RevIter<'_> {
        match &self.repr {
            Repr::Listpack(p) => {
                RevIter::Listpack(p.iter_rev_to(p.offset_of(index.saturating_add(1))))
            }
            Repr::Quicklist(q) => RevIter::Quicklist(q.iter_rev_from(index)),
        }
    }

    /// Per-node element counts of a quicklist (empty for a listpack); tests only.
    #[cfg(test)]
    pub fn node_lens(&self) -> Vec<usize> {
        match &self.repr {
            Repr::Listpack(_) => Vec::new(),
            Repr::Quicklist(q) => q.node_lens(),
        }
    }
}

/// Forward iterator over a list.
#[derive(Clone)]
pub enum Iter<'a> {
    /// Over a listpack.
    Listpack(PackIter<'a>),
    /// Over a quicklist.
    Quicklist(QIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        match self {
            Iter::Listpack(i) => i.next(),
            Iter::Quicklist(i) => i.next(),
        }
    }
}

/// Backward iterator over a list.
#[derive(Clone)]
pub enum RevIter<'a> {
    /// Over a listpack.
    Listpack(PackRevIter<'a>),
    /// Over a quicklist.
    Quicklist(QRevIter<'a>),
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        match self {
            RevIter::Listpack(i) => i.next(),
            RevIter::Quicklist(i) => i.next(),
        }
    }
}
