//! The op-IR variants of RediSearch's suggestion dictionaries (FT.SUGADD, FT.SUGGET,
//! FT.SUGDEL, FT.SUGLEN). A dictionary is an ordinary key (`LargeValue::Suggest`), so every
//! op names exactly one key and runs on its owner.
//!
//! Invariant: the writes are exactly what [`SuggestOp::is_write`] says (ADD and DEL); their
//! canonical command is themselves (`ir::unparse`): replay applies them to the same state in
//! the same order, so INCR sums the same floats.

use bytes::Bytes;

use crate::ir::KeyRouting;

/// A suggestion-dictionary op.
#[derive(Debug, Clone, PartialEq)]
pub enum SuggestOp {
    /// FT.SUGADD key string score [INCR] [PAYLOAD p].
    Add {
        key: Bytes,
        text: Bytes,
        /// `None` when the argument is not a number: the op then answers `ERR invalid score`
        /// after the type check, in RediSearch's order.
        score: Option<f64>,
        incr: bool,
        payload: Option<Bytes>,
    },
    /// FT.SUGGET key prefix [FUZZY] [MAX n] [WITHSCORES] [WITHPAYLOADS] (TRIM and OPTIMIZE
    /// are accepted and not applied).
    Get {
        key: Bytes,
        prefix: Bytes,
        fuzzy: bool,
        max: usize,
        with_scores: bool,
        with_payloads: bool,
    },
    /// FT.SUGDEL key string.
    Del { key: Bytes, text: Bytes },
    /// FT.SUGLEN key.
    Len { key: Bytes },
}

impl SuggestOp {
    /// The key the op names.
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            SuggestOp::Add { key, .. }
            | SuggestOp::Get { key, .. }
            | SuggestOp::Del { key, .. }
            | SuggestOp::Len { key } => vec![key],
        }
    }

    /// One key: its owner.
    pub fn routing(&self) -> KeyRouting {
        KeyRouting::Single
    }

    /// FT.SUGADD and FT.SUGDEL.
    pub fn is_write(&self) -> bool {
        matches!(self, SuggestOp::Add { .. } | SuggestOp::Del { .. })
    }
}
