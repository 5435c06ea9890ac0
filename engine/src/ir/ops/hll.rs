//! The op-IR variants of HyperLogLog (PFADD, PFCOUNT, PFMERGE). HyperLogLogs are ordinary
//! string values in Redis's "HYLL" format (see `cmd::hll::repr`).
//!
//! Invariant: `PfCount::keys` and `PfMerge` name every key they read or write, so a
//! cross-shard call can gather them all into one scratch shard.

use bytes::Bytes;

use crate::ir::KeyRouting;

/// Ops of HyperLogLog (PFADD/PFCOUNT/PFMERGE), stored as strings.
#[derive(Debug, Clone, PartialEq)]
pub enum HllOp {
    /// PFADD key [element ...].
    PfAdd { key: Bytes, elements: Vec<Bytes> },
    /// PFCOUNT key [key ...] (several keys: the cardinality of their union).
    PfCount { keys: Vec<Bytes> },
    /// PFMERGE dest [src ...] (the destination is merged too).
    PfMerge { dest: Bytes, sources: Vec<Bytes> },
}

impl HllOp {
    /// Every key the op names, in argument order.
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            HllOp::PfAdd { key, .. } => vec![key],
            HllOp::PfCount { keys } => keys.iter().collect(),
            HllOp::PfMerge { dest, sources } => {
                std::iter::once(dest).chain(sources.iter()).collect()
            }
        }
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        match self {
            HllOp::PfAdd { .. } => KeyRouting::Single,
            HllOp::PfCount { keys } if keys.len() == 1 => KeyRouting::Single,
            HllOp::PfCount { .. } | HllOp::PfMerge { .. } => KeyRouting::Atomic,
        }
    }

    /// True if the op may modify the keyspace. A single-key PFCOUNT may rewrite the cached
    /// cardinality in the value (Redis propagates it as a write); a multi-key one never does.
    pub fn is_write(&self) -> bool {
        match self {
            HllOp::PfAdd { .. } | HllOp::PfMerge { .. } => true,
            HllOp::PfCount { keys } => keys.len() == 1,
        }
    }
}
