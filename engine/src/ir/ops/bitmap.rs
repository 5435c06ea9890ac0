//! The op-IR variants of bitmaps (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO). Bitmaps are ordinary string values; these ops only address their bits.
//!
//! Invariants: arguments arrive fully parsed and syntactically valid (offsets non-negative,
//! bitfield widths within i1..i64 / u1..u63); the only check left to the shard is the bound
//! `offset / 8 < proto-max-bulk-len`, which depends on the shard's configuration.

use bytes::Bytes;

use crate::ir::KeyRouting;

/// BITOP's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOpKind {
    /// AND of every source.
    And,
    /// OR of every source.
    Or,
    /// XOR of every source.
    Xor,
    /// NOT of the single source.
    Not,
    /// DIFF: `X & !(A1 | A2 | ...)` (Redis 8.2).
    Diff,
    /// DIFF1: `!X & (A1 | A2 | ...)` (Redis 8.2).
    Diff1,
    /// ANDOR: `X & (A1 | A2 | ...)` (Redis 8.2).
    AndOr,
    /// ONE: bits set in exactly one source (Redis 8.2).
    One,
}

/// BITFIELD's OVERFLOW policy for the SET/INCRBY operations that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Wrap around (the default).
    Wrap,
    /// Saturate at the type's minimum or maximum.
    Sat,
    /// Do nothing and answer nil.
    Fail,
}

/// What one BITFIELD operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAction {
    /// GET: read the field.
    Get,
    /// SET value: write the field, answer the old value.
    Set(i64),
    /// INCRBY increment: add to the field, answer the new value.
    IncrBy(i64),
}

/// One BITFIELD operation on a `bits`-wide (1..=64 signed, 1..=63 unsigned) integer at bit
/// `offset` (already multiplied out for the `#n` form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldOp {
    /// GET, SET or INCRBY.
    pub action: FieldAction,
    /// Signed (`i<bits>`) or unsigned (`u<bits>`).
    pub signed: bool,
    /// Width in bits.
    pub bits: u8,
    /// Bit offset of the field's most significant bit.
    pub offset: u64,
    /// The OVERFLOW policy in force for this operation.
    pub overflow: Overflow,
}

/// A BITCOUNT/BITPOS range unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeUnit {
    /// BYTE (the default).
    Byte,
    /// BIT.
    Bit,
}

/// Ops of bitmaps (SETBIT ... BITFIELD), stored as strings.
#[derive(Debug, Clone, PartialEq)]
pub enum BitmapOp {
    /// SETBIT key offset 0|1.
    SetBit {
        key: Bytes,
        offset: u64,
        value: bool,
    },
    /// GETBIT key offset.
    GetBit { key: Bytes, offset: u64 },
    /// BITCOUNT key [start end [BYTE|BIT]].
    BitCount {
        key: Bytes,
        range: Option<(i64, i64, RangeUnit)>,
    },
    /// BITPOS key bit [start [end [BYTE|BIT]]].
    BitPos {
        key: Bytes,
        bit: bool,
        start: Option<i64>,
        end: Option<i64>,
        unit: RangeUnit,
    },
    /// BITOP op dest src [src ...].
    BitOp {
        kind: BitOpKind,
        dest: Bytes,
        sources: Vec<Bytes>,
    },
    /// BITFIELD / BITFIELD_RO (the parser rejects writes in BITFIELD_RO).
    BitField { key: Bytes, ops: Vec<FieldOp> },
}

impl BitmapOp {
    /// Every key the op names, in argument order.
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            BitmapOp::SetBit { key, .. }
            | BitmapOp::GetBit { key, .. }
            | BitmapOp::BitCount { key, .. }
            | BitmapOp::BitPos { key, .. }
            | BitmapOp::BitField { key, .. } => vec![key],
            BitmapOp::BitOp { dest, sources, .. } => {
                std::iter::once(dest).chain(sources.iter()).collect()
            }
        }
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        match self {
            BitmapOp::BitOp { .. } => KeyRouting::Atomic,
            _ => KeyRouting::Single,
        }
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        match self {
            BitmapOp::SetBit { .. } | BitmapOp::BitOp { .. } => true,
            BitmapOp::BitField { ops, .. } => ops.iter().any(|o| o.action != FieldAction::Get),
            BitmapOp::GetBit { .. } | BitmapOp::BitCount { .. } | BitmapOp::BitPos { .. } => false,
        }
    }
}
