//! The op-IR variant of SORT / SORT_RO.
//!
//! Invariant: `keys()` names the sorted key and the STORE destination. BY/GET pattern keys are
//! only known while executing: the shard reads them only when they live on the sorted key's
//! owner (see `cmd::sort`), so routing never needs them.

use bytes::Bytes;

use crate::ir::KeyRouting;

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination], and SORT_RO (never a destination).
#[derive(Debug, Clone, PartialEq)]
pub struct SortOp {
    /// The list, set or sorted set to sort.
    pub key: Bytes,
    /// BY pattern (without `*`: no sorting at all).
    pub by: Option<Bytes>,
    /// LIMIT offset count, as given (Redis clamps them while executing).
    pub limit: Option<(i64, i64)>,
    /// GET patterns in order (`#` is the element itself).
    pub gets: Vec<Bytes>,
    /// DESC.
    pub desc: bool,
    /// ALPHA: compare as strings (binary-safe byte order) instead of as doubles.
    pub alpha: bool,
    /// STORE destination: the result is written there as a list and the reply is its length.
    pub store: Option<Bytes>,
}

impl SortOp {
    /// The sorted key, then the destination.
    pub fn keys(&self) -> Vec<&Bytes> {
        std::iter::once(&self.key)
            .chain(self.store.as_ref())
            .collect()
    }

    /// Single without STORE; Atomic with one (the destination may live elsewhere).
    pub fn routing(&self) -> KeyRouting {
        if self.store.is_some() {
            KeyRouting::Atomic
        } else {
            KeyRouting::Single
        }
    }

    /// Only SORT ... STORE writes.
    pub fn is_write(&self) -> bool {
        self.store.is_some()
    }
}
