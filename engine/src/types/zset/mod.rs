//! The sorted-set value: a packed `listpack` while small, an order-statistic B+tree with a
//! member index (reported as `skiplist`, Redis's name) once it exceeds
//! `zset-max-listpack-entries` entries or holds a member longer than `zset-max-listpack-value`.
//!
//! Invariants: scores are never NaN; members are unique; order is (score, member bytes) with
//! `-0.0 == 0.0`; a value converts to the large encoding as soon as a limit is exceeded and
//! never back, except when a command builds a whole new value (`from_sorted`, as Redis's
//! ZUNIONSTORE/ZRANGESTORE pick the encoding of their result). Rank-based reads are O(log n)
//! in the large encoding.

mod listpack;
mod tree;

#[cfg(test)]
mod tests;

use crate::shard::TypeLimits;
pub use listpack::ZListpack;
pub use tree::ZTree;

/// A stored sorted set.
#[derive(Clone, Debug)]
pub enum ZSetValue {
    /// Small: one packed buffer.
    Listpack(ZListpack),
    /// Large: B+tree + index.
    Skiplist(Box<ZTree>),
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Listpack(ZListpack::default())
    }
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let (a, b) = (self.to_vec(), other.to_vec());
        a.iter()
            .zip(&b)
            .all(|((m1, s1), (m2, s2))| m1 == m2 && s1.to_bits() == s2.to_bits())
    }
}

// Scores are never NaN, so equality is reflexive.
impl Eq for ZSetValue {}

impl ZSetValue {
    /// An empty set sized for `size_hint` members of up to `max_len` bytes (Redis's
    /// `zsetTypeCreate`): the listpack unless the hint already exceeds a limit.
    pub fn with_hint(size_hint: usize, max_len: usize, limits: &TypeLimits) -> ZSetValue {
        if size_hint <= limits.zset_max_listpack_entries
            && max_len <= limits.zset_max_listpack_value
        {
            ZSetValue::Listpack(ZListpack::default())
        } else {
            ZSetValue::Skiplist(Box::default())
        }
    }

    /// A set holding `entries` (unique members, any order), in the encoding Redis would give
    /// a freshly built result of that size.
    pub fn from_entries<M: AsRef<[u8]>>(entries: &[(M, f64)], limits: &TypeLimits) -> ZSetValue {
        let max_len = entries
            .iter()
            .map(|(m, _)| m.as_ref().len())
            .max()
            .unwrap_or(0);
        let mut z = ZSetValue::with_hint(entries.len(), max_len, limits);
        for (m, s) in entries {
            z.insert(m.as_ref(), *s, limits);
        }
        z
    }

    /// OBJECT ENCODING's answer (Redis's names).
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
            ZSetValue::Skiplist(_) => "skiplist",
        }
    }

    /// Heap bytes owned by the value (O(1)).
    pub fn mem_bytes(&self) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp.mem_bytes(),
            ZSetValue::Skiplist(t) => t.mem_bytes(),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp.len(),
            ZSetValue::Skiplist(t) => t.len(),
        }
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(lp) => lp.find(member).map(|(_, e)| e.score),
            ZSetValue::Skiplist(t) => t.score(member),
        }
    }

    /// Sets `member`'s score (converting to the large encoding when a limit is exceeded);
    /// returns the previous score if the member was present.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: &TypeLimits) -> Option<f64> {
        debug_assert!(!score.is_nan());
        if let ZSetValue::Listpack(lp) = self {
            if let Some((_, e)) = lp.find(member) {
                let old = e.score;
                lp.insert(member, score);
                return Some(old);
            }
            if lp.len() < limits.zset_max_listpack_entries
                && member.len() <= limits.zset_max_listpack_value
            {
                lp.insert_new(member, score);
                return None;
            }
            self.convert_to_tree();
        }
        match self {
            ZSetValue::Skiplist(t) => t.insert(member, score),
            ZSetValue::Listpack(lp) => lp.insert(member, score),
        }
    }

    fn convert_to_tree(&mut self) {
        if let ZSetValue::Listpack(lp) = self {
            let mut t = ZTree::new();
            for e in lp.iter() {
                t.insert(e.member, e.score);
            }
            *self = ZSetValue::Skiplist(Box::new(t));
        }
    }

    /// Removes `member`; returns its score if present.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(lp) => lp.remove(member),
            ZSetValue::Skiplist(t) => t.remove(member),
        }
    }

    /// 0-based ascending rank and score of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSetValue::Listpack(lp) => lp.find(member).map(|(r, e)| (r, e.score)),
            ZSetValue::Skiplist(t) => t.rank(member),
        }
    }

    /// The member and score at ascending rank `r`.
    pub fn nth(&self, r: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Listpack(lp) => lp.iter().nth(r).map(|e| (e.member, e.score)),
            ZSetValue::Skiplist(t) => t.nth(r),
        }
    }

    /// Number of leading entries (ascending) for which `pred(score, member)` holds; `pred`
    /// must hold on a prefix of the order (e.g. "score < min").
    pub fn count_prefix(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp.iter().take_while(|e| pred(e.score, e.member)).count(),
            ZSetValue::Skiplist(t) => t.count_prefix(pred),
        }
    }

    /// Visits ascending ranks `lo..hi` in ascending order, or in descending order when `rev`;
    /// stops early when `f` returns false.
    pub fn visit(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        match self {
            ZSetValue::Listpack(lp) => {
                let hi = hi.min(lp.len());
                if lo >= hi {
                    return;
                }
                if rev {
                    let items: Vec<_> = lp.iter().skip(lo).take(hi - lo).collect();
                    for e in items.iter().rev() {
                        if !f(e.member, e.score) {
                            return;
                        }
                    }
                } else {
                    for e in lp.iter().skip(lo).take(hi - lo) {
                        if !f(e.member, e.score) {
                            return;
                        }
                    }
                }
            }
            ZSetValue::Skiplist(t) => t.visit(lo, hi, rev, f),
        }
    }

    /// One ZSCAN step from `cursor` (see [`ZTree::scan`]); the listpack is returned whole
    /// with cursor 0, as Redis does for its compact encodings.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSetValue::Listpack(lp) => {
                lp.iter().for_each(|e| f(e.member, e.score));
                0
            }
            ZSetValue::Skiplist(t) => t.scan(cursor, count, f),
        }
    }

    /// Every (member, score) in ascending order.
    pub fn to_vec(&self) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::with_capacity(self.len());
        self.visit(0, self.len(), false, |m, s| {
            out.push((m.to_vec(), s));
            true
        });
        out
    }
}
