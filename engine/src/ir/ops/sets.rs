//! The op-IR variants of sets (SADD ... SSCAN).
//!
//! Placeholder until the family lands: the enum has no variants yet.

use bytes::Bytes;

use crate::ir::KeyRouting;

/// Ops of sets (SADD ... SSCAN).
#[derive(Debug, Clone, PartialEq)]
pub enum SetOp {}

impl SetOp {
    /// Every key the op names, in argument order.
    pub fn keys(&self) -> Vec<&Bytes> {
        match *self {}
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        match *self {}
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        match *self {}
    }
}
