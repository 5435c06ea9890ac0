//! `Scored`: a (score, key) pair with a total order, for the heaps of every search.
//!
//! Ordered by score (`f32::total_cmp`, so NaN scores never break a heap's invariants) then by
//! key, which makes every result list deterministic when scores tie.

use std::cmp::Ordering;

/// A score and the slot or id it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    pub score: f32,
    pub key: u32,
}

impl Scored {
    pub fn new(score: f32, key: u32) -> Self {
        Self { score, key }
    }
}

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.key.cmp(&other.key))
    }
}

/// Sorts `(id, score)` results by score then id (the order every `knn`/`range` returns).
pub(crate) fn sort_results(v: &mut [(u32, f32)]) {
    v.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
}
