//! The op-IR variants of sets (SADD ... SSCAN).
//!
//! Invariants: every op names all its keys in its own fields and `keys()` lists them all
//! (destinations included), so the server can route it; ops over several keys are
//! `KeyRouting::Atomic` and run as one ordinary single-shard op over all of them.

use bytes::Bytes;

use crate::ir::{KeyRouting, OpError};

/// The set algebra of SINTER/SUNION/SDIFF and their STORE forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAlgebra {
    /// SINTER / SINTERSTORE.
    Inter,
    /// SUNION / SUNIONSTORE.
    Union,
    /// SDIFF / SDIFFSTORE.
    Diff,
}

/// SSCAN's options, validated after the key lookup (as Redis does: a missing key answers an
/// empty scan and a wrong type answers WRONGTYPE whatever the options say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOpts {
    /// MATCH pattern; `None` for no pattern or `*`.
    pub pattern: Option<Bytes>,
    /// COUNT (>= 1), default 10.
    pub count: usize,
}

/// Ops of sets (SADD ... SSCAN).
#[derive(Debug, Clone, PartialEq)]
pub enum SetOp {
    /// SADD key member [member ...].
    Add { key: Bytes, members: Vec<Bytes> },
    /// SREM key member [member ...].
    Rem { key: Bytes, members: Vec<Bytes> },
    /// SCARD key.
    Card { key: Bytes },
    /// SISMEMBER key member.
    IsMember { key: Bytes, member: Bytes },
    /// SMISMEMBER key member [member ...].
    MIsMember { key: Bytes, members: Vec<Bytes> },
    /// SMEMBERS key (the same as SINTER of one key; kept apart for speed).
    Members { key: Bytes },
    /// SRANDMEMBER key [count]: `count` in `-i64::MAX..=i64::MAX`; negative allows repeats.
    RandMember { key: Bytes, count: Option<i64> },
    /// SPOP key [count].
    Pop { key: Bytes, count: Option<u64> },
    /// SMOVE source destination member.
    Move {
        src: Bytes,
        dst: Bytes,
        member: Bytes,
    },
    /// SINTER/SUNION/SDIFF (`dst: None`) and their STORE forms.
    Combine {
        op: SetAlgebra,
        dst: Option<Bytes>,
        keys: Vec<Bytes>,
    },
    /// SINTERCARD numkeys key [key ...] [LIMIT limit] (`limit` 0 = none).
    InterCard { keys: Vec<Bytes>, limit: u64 },
    /// SSCAN key cursor [MATCH pattern] [COUNT count].
    Scan {
        key: Bytes,
        cursor: u64,
        opts: Result<ScanOpts, OpError>,
    },
}

impl SetOp {
    /// Every key the op names, in argument order (destination first for the STORE forms).
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            SetOp::Add { key, .. }
            | SetOp::Rem { key, .. }
            | SetOp::Card { key }
            | SetOp::IsMember { key, .. }
            | SetOp::MIsMember { key, .. }
            | SetOp::Members { key }
            | SetOp::RandMember { key, .. }
            | SetOp::Pop { key, .. }
            | SetOp::Scan { key, .. } => vec![key],
            SetOp::Move { src, dst, .. } => vec![src, dst],
            SetOp::Combine { dst, keys, .. } => dst.iter().chain(keys.iter()).collect(),
            SetOp::InterCard { keys, .. } => keys.iter().collect(),
        }
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        match self {
            SetOp::Move { .. } | SetOp::Combine { .. } | SetOp::InterCard { .. } => {
                if self.keys().len() > 1 {
                    KeyRouting::Atomic
                } else {
                    KeyRouting::Single
                }
            }
            _ => KeyRouting::Single,
        }
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        match self {
            SetOp::Add { .. } | SetOp::Rem { .. } | SetOp::Pop { .. } | SetOp::Move { .. } => true,
            SetOp::Combine { dst, .. } => dst.is_some(),
            SetOp::Card { .. }
            | SetOp::IsMember { .. }
            | SetOp::MIsMember { .. }
            | SetOp::Members { .. }
            | SetOp::RandMember { .. }
            | SetOp::InterCard { .. }
            | SetOp::Scan { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn keys_and_routing() {
        let store = SetOp::Combine {
            op: SetAlgebra::Union,
            dst: Some(b("d")),
            keys: vec![b("a"), b("b")],
        };
        assert_eq!(store.keys(), vec![&b("d"), &b("a"), &b("b")]);
        assert_eq!(store.routing(), KeyRouting::Atomic);
        assert!(store.is_write());
        let one = SetOp::Combine {
            op: SetAlgebra::Inter,
            dst: None,
            keys: vec![b("a")],
        };
        assert_eq!(one.routing(), KeyRouting::Single);
        assert!(!one.is_write());
        let mv = SetOp::Move {
            src: b("s"),
            dst: b("d"),
            member: b("m"),
        };
        assert_eq!(mv.keys(), vec![&b("s"), &b("d")]);
        assert_eq!(mv.routing(), KeyRouting::Atomic);
        assert!(mv.is_write());
        let card = SetOp::InterCard {
            keys: vec![b("a"), b("b")],
            limit: 0,
        };
        assert_eq!(card.routing(), KeyRouting::Atomic);
        assert!(!card.is_write());
        assert_eq!(SetOp::Card { key: b("k") }.routing(), KeyRouting::Single);
    }
}
