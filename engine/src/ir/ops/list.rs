//! The op-IR variants of lists (LPUSH ... BLMPOP).
//!
//! Invariants: every op names all its keys (sources and destinations) in its own fields, so
//! [`ListOp::keys`] is complete; arguments Redis validates before looking the key up are
//! already validated here, while the few it validates after the lookup (LINDEX's and LSET's
//! index) travel unparsed-as-`None` so the WRONGTYPE / missing-key answers keep precedence.

use bytes::Bytes;

use super::Blocking;
use crate::ir::KeyRouting;
use crate::types::list::End;

/// Ops of lists (LPUSH ... BLMPOP).
#[derive(Debug, Clone, PartialEq)]
pub enum ListOp {
    /// LPUSH / RPUSH (`only_if_exists`: LPUSHX / RPUSHX).
    Push {
        key: Bytes,
        end: End,
        elements: Vec<Bytes>,
        only_if_exists: bool,
    },
    /// LPOP / RPOP; `count` given (even 0) switches to the array reply.
    Pop {
        key: Bytes,
        end: End,
        count: Option<u64>,
    },
    /// LLEN.
    Len { key: Bytes },
    /// LRANGE.
    Range { key: Bytes, start: i64, stop: i64 },
    /// LINDEX; `index` is `None` when the argument is not an integer (checked after lookup).
    Index { key: Bytes, index: Option<i64> },
    /// LSET; `index` as for LINDEX.
    Set {
        key: Bytes,
        index: Option<i64>,
        element: Bytes,
    },
    /// LINSERT BEFORE|AFTER.
    Insert {
        key: Bytes,
        after: bool,
        pivot: Bytes,
        element: Bytes,
    },
    /// LREM.
    Rem {
        key: Bytes,
        count: i64,
        element: Bytes,
    },
    /// LTRIM.
    Trim { key: Bytes, start: i64, stop: i64 },
    /// LPOS; `rank` is non-zero, `count` `None` when COUNT was not given, `maxlen` 0 = all.
    Pos {
        key: Bytes,
        element: Bytes,
        rank: i64,
        count: Option<u64>,
        maxlen: u64,
    },
    /// LMOVE / RPOPLPUSH, and with a timeout BLMOVE / BRPOPLPUSH.
    Move {
        src: Bytes,
        dst: Bytes,
        from: End,
        to: End,
        timeout_ms: Option<u64>,
    },
    /// LMPOP, and with a timeout BLMPOP (`count` >= 1).
    MPop {
        keys: Vec<Bytes>,
        end: End,
        count: u64,
        timeout_ms: Option<u64>,
    },
    /// BLPOP / BRPOP.
    BPop {
        keys: Vec<Bytes>,
        end: End,
        timeout_ms: u64,
    },
}

impl ListOp {
    /// Every key the op names, in argument order.
    pub fn keys(&self) -> Vec<&Bytes> {
        use ListOp::*;
        match self {
            Push { key, .. }
            | Pop { key, .. }
            | Len { key }
            | Range { key, .. }
            | Index { key, .. }
            | Set { key, .. }
            | Insert { key, .. }
            | Rem { key, .. }
            | Trim { key, .. }
            | Pos { key, .. } => vec![key],
            Move { src, dst, .. } => vec![src, dst],
            MPop { keys, .. } | BPop { keys, .. } => keys.iter().collect(),
        }
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        match self {
            ListOp::Move { src, dst, .. } if src != dst => KeyRouting::Atomic,
            ListOp::MPop { keys, .. } | ListOp::BPop { keys, .. }
                if keys.iter().any(|k| k != &keys[0]) =>
            {
                KeyRouting::Atomic
            }
            _ => KeyRouting::Single,
        }
    }

    /// For the blocking forms: how long to wait when the op finds nothing to serve. The op
    /// itself executes like its non-blocking form and answers a null (`Reply::NilArray`, or
    /// `Reply::Nil` for BLMOVE/BRPOPLPUSH) when it found nothing; the server then parks the
    /// client (outside MULTI) and re-executes the op when one of its keys is written.
    pub fn blocking(&self) -> Option<Blocking> {
        match self {
            ListOp::Move {
                timeout_ms: Some(t),
                ..
            } => Some(Blocking {
                timeout_ms: *t,
                nil_bulk: true,
            }),
            ListOp::MPop {
                timeout_ms: Some(t),
                ..
            } => Some(Blocking {
                timeout_ms: *t,
                nil_bulk: false,
            }),
            ListOp::BPop { timeout_ms, .. } => Some(Blocking {
                timeout_ms: *timeout_ms,
                nil_bulk: false,
            }),
            _ => None,
        }
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            ListOp::Len { .. } | ListOp::Range { .. } | ListOp::Index { .. } | ListOp::Pos { .. }
        )
    }
}
