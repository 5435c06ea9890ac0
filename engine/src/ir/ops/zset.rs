//! The op-IR variants of sorted sets.
//!
//! Placeholder until the family lands: the enum has no variants yet.

use bytes::Bytes;

use super::Blocking;
use crate::ir::KeyRouting;

/// Ops of sorted sets.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSetOp {}

impl ZSetOp {
    /// Every key the op names, in argument order.
    pub fn keys(&self) -> Vec<&Bytes> {
        match *self {}
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        match *self {}
    }

    /// For the blocking forms: how long to wait when the op finds nothing to serve. The op
    /// itself executes like its non-blocking form and answers a null (`Reply::NilArray`, or
    /// `Reply::Nil` for BLMOVE/BRPOPLPUSH) when it found nothing; the server then parks the
    /// client (outside MULTI) and re-executes the op when one of its keys is written.
    pub fn blocking(&self) -> Option<Blocking> {
        match *self {}
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        match *self {}
    }
}
