//! The op-IR variants of DUMP and RESTORE: a key's value serialized in Redis's DUMP payload
//! format (an RDB object + RDB version + CRC-64) and back.
//!
//! Invariant: both name exactly one key, so they always run on its owner.

use bytes::Bytes;

use crate::ir::KeyRouting;

/// DUMP / RESTORE.
#[derive(Debug, Clone, PartialEq)]
pub enum DumpOp {
    /// DUMP key: the payload, or nil for a missing key.
    Dump { key: Bytes },
    /// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f].
    Restore {
        key: Bytes,
        /// The TTL argument; `None` when it is not an integer (Redis reports that only after
        /// the BUSYKEY check, so the shard reports it). Negative values are rejected there.
        ttl: Option<i64>,
        payload: Bytes,
        replace: bool,
        /// ABSTTL: `ttl` is an absolute Unix time in ms.
        abs_ttl: bool,
        /// IDLETIME seconds (already checked >= 0).
        idle_secs: Option<u64>,
        /// FREQ counter (already checked 0..=255).
        freq: Option<u8>,
    },
}

impl DumpOp {
    /// The key the op names.
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            DumpOp::Dump { key } | DumpOp::Restore { key, .. } => vec![key],
        }
    }

    /// Always the key's owner.
    pub fn routing(&self) -> KeyRouting {
        KeyRouting::Single
    }

    /// RESTORE writes; DUMP only reads.
    pub fn is_write(&self) -> bool {
        matches!(self, DumpOp::Restore { .. })
    }
}
