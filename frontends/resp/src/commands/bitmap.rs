//! Table entries and parsers of the bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD, BITFIELD_RO), with bitops.c's error texts and argument order.
//!
//! Invariants: every argument is validated here except the `offset / 8 < proto-max-bulk-len`
//! bound, which depends on the server's configuration and is checked by the shard (with the
//! same "bit offset" error text). Parsers never panic on any input.

use bytes::Bytes;
use moon_engine::ir::Op;
use moon_engine::ir::OpError;
use moon_engine::ir::ops::BitmapOp;
use moon_engine::ir::ops::bitmap::{BitOpKind, FieldAction, FieldOp, Overflow, RangeUnit};

use super::Command;
use super::args::{c_str, err, int, is, parse_i64};
use super::table::{
    BITMAP, CommandSpec, DENYOOM, FAST, GetKeysProc, K_ACCESS, K_OW, K_RO, K_RW, K_UPDATE,
    K_VARIABLE_FLAGS, KeySpec, READONLY, WRITE, doc,
};

const G: &str = "bitmap";

const RO_ACCESS: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];

const FIELD_COMPLEXITY: &str = "O(1) for each subcommand specified";

pub static SETBIT: CommandSpec = CommandSpec::new(
    "setbit",
    4,
    WRITE | DENYOOM,
    BITMAP,
    &[KeySpec::one(K_RW | K_ACCESS | K_UPDATE, 1)],
    doc(
        G,
        "2.2.0",
        "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
        "O(1)",
    ),
    setbit,
);

pub static GETBIT: CommandSpec = CommandSpec::new(
    "getbit",
    3,
    READONLY | FAST,
    BITMAP,
    RO_ACCESS,
    doc(G, "2.2.0", "Returns a bit value by offset.", "O(1)"),
    getbit,
);

pub static BITCOUNT: CommandSpec = CommandSpec::new(
    "bitcount",
    -2,
    READONLY,
    BITMAP,
    RO_ACCESS,
    doc(
        G,
        "2.6.0",
        "Counts the number of set bits (population counting) in a string.",
        "O(N)",
    ),
    bitcount,
);

pub static BITPOS: CommandSpec = CommandSpec::new(
    "bitpos",
    -3,
    READONLY,
    BITMAP,
    RO_ACCESS,
    doc(
        G,
        "2.8.7",
        "Finds the first set (1) or clear (0) bit in a string.",
        "O(N)",
    ),
    bitpos,
);

pub static BITOP: CommandSpec = CommandSpec::new(
    "bitop",
    -4,
    WRITE | DENYOOM,
    BITMAP,
    &[
        KeySpec::one(K_OW | K_UPDATE, 2),
        KeySpec::rest(K_RO | K_ACCESS, 3, 1),
    ],
    doc(
        G,
        "2.6.0",
        "Performs bitwise operations on multiple strings, and stores the result.",
        "O(N)",
    ),
    bitop,
);

pub static BITFIELD: CommandSpec = CommandSpec::new(
    "bitfield",
    -2,
    WRITE | DENYOOM,
    BITMAP,
    &[KeySpec {
        notes: Some("This command allows both access and modification of the key"),
        ..KeySpec::one(K_RW | K_ACCESS | K_UPDATE | K_VARIABLE_FLAGS, 1)
    }],
    doc(
        G,
        "3.2.0",
        "Performs arbitrary bitfield integer operations on strings.",
        FIELD_COMPLEXITY,
    ),
    bitfield,
)
.getkeys(GetKeysProc::Bitfield);

pub static BITFIELD_RO: CommandSpec = CommandSpec::new(
    "bitfield_ro",
    -2,
    READONLY | FAST,
    BITMAP,
    RO_ACCESS,
    doc(
        G,
        "6.0.0",
        "Performs arbitrary read-only bitfield integer operations on strings.",
        FIELD_COMPLEXITY,
    ),
    bitfield_ro,
);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &SETBIT,
    &GETBIT,
    &BITCOUNT,
    &BITPOS,
    &BITOP,
    &BITFIELD,
    &BITFIELD_RO,
];

fn op(op: BitmapOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Bitmaps(op)))
}

const OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// `getBitOffsetFromArgument`: a non-negative bit offset; with `hash_bits`, the `#n` form
/// means `n * bits`. The upper bound is the shard's (it depends on proto-max-bulk-len).
fn bit_offset(arg: &[u8], hash_bits: Option<u8>) -> Result<u64, OpError> {
    let (digits, mul) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    let v = parse_i64(digits).ok_or_else(|| err(OFFSET_ERR))?;
    // Redis multiplies in C (wrapping in practice) and then rejects negatives.
    u64::try_from(v.wrapping_mul(mul)).map_err(|_| err(OFFSET_ERR))
}

/// `BYTE` or `BIT`, else a syntax error.
fn unit(arg: &[u8]) -> Result<RangeUnit, OpError> {
    if is(arg, "bit") {
        Ok(RangeUnit::Bit)
    } else if is(arg, "byte") {
        Ok(RangeUnit::Byte)
    } else {
        Err(OpError::Syntax)
    }
}

fn setbit(a: &[Bytes]) -> Result<Command, OpError> {
    let offset = bit_offset(&a[2], None)?;
    let bit_err = || err("bit is not an integer or out of range");
    let value = match parse_i64(&a[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(bit_err()),
    };
    op(BitmapOp::SetBit {
        key: a[1].clone(),
        offset,
        value,
    })
}

fn getbit(a: &[Bytes]) -> Result<Command, OpError> {
    op(BitmapOp::GetBit {
        key: a[1].clone(),
        offset: bit_offset(&a[2], None)?,
    })
}

fn bitcount(a: &[Bytes]) -> Result<Command, OpError> {
    let range = match a.len() {
        2 => None,
        4 | 5 => {
            let (start, end) = (int(&a[2])?, int(&a[3])?);
            let u = match a.get(4) {
                Some(arg) => unit(arg)?,
                None => RangeUnit::Byte,
            };
            Some((start, end, u))
        }
        _ => return Err(OpError::Syntax),
    };
    op(BitmapOp::BitCount {
        key: a[1].clone(),
        range,
    })
}

fn bitpos(a: &[Bytes]) -> Result<Command, OpError> {
    let bit = match int(&a[2])? {
        0 => false,
        1 => true,
        _ => return Err(err("The bit argument must be 1 or 0.")),
    };
    if a.len() > 6 {
        return Err(OpError::Syntax);
    }
    // Redis's order: start, then the unit, then end.
    let start = a.get(3).map(|s| int(s)).transpose()?;
    let u = match a.get(5) {
        Some(arg) => unit(arg)?,
        None => RangeUnit::Byte,
    };
    let end = a.get(4).map(|e| int(e)).transpose()?;
    op(BitmapOp::BitPos {
        key: a[1].clone(),
        bit,
        start,
        end,
        unit: u,
    })
}

fn bitop(a: &[Bytes]) -> Result<Command, OpError> {
    let name = &a[1];
    let kind = [
        ("and", BitOpKind::And),
        ("or", BitOpKind::Or),
        ("xor", BitOpKind::Xor),
        ("not", BitOpKind::Not),
        ("diff", BitOpKind::Diff),
        ("diff1", BitOpKind::Diff1),
        ("andor", BitOpKind::AndOr),
        ("one", BitOpKind::One),
    ]
    .into_iter()
    .find(|(n, _)| is(c_str(name), n))
    .map(|(_, k)| k)
    .ok_or(OpError::Syntax)?;
    if kind == BitOpKind::Not && a.len() != 4 {
        return Err(err("BITOP NOT must be called with a single source key."));
    }
    if matches!(kind, BitOpKind::Diff | BitOpKind::Diff1 | BitOpKind::AndOr) && a.len() < 5 {
        let upper = String::from_utf8_lossy(c_str(name)).to_ascii_uppercase();
        return Err(err(format!(
            "BITOP {upper} must be called with at least two source keys."
        )));
    }
    op(BitmapOp::BitOp {
        kind,
        dest: a[2].clone(),
        sources: a[3..].to_vec(),
    })
}

/// `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63` as (signed, bits).
fn field_type(arg: &[u8]) -> Result<(bool, u8), OpError> {
    let type_err = || {
        err(
            "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let arg = c_str(arg);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(type_err()),
    };
    let max = if signed { 64 } else { 63 };
    match parse_i64(&arg[1..]) {
        Some(bits) if (1..=max).contains(&bits) => Ok((signed, bits as u8)),
        _ => Err(type_err()),
    }
}

/// BITFIELD's subcommand loop (bitfieldGeneric's parsing half).
fn field_ops(a: &[Bytes]) -> Result<Vec<FieldOp>, OpError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < a.len() {
        let remargs = a.len() - j - 1;
        let sub = &a[j];
        let action = if is(sub, "get") && remargs >= 2 {
            FieldAction::Get
        } else if is(sub, "set") && remargs >= 3 {
            FieldAction::Set(0)
        } else if is(sub, "incrby") && remargs >= 3 {
            FieldAction::IncrBy(0)
        } else if is(sub, "overflow") && remargs >= 1 {
            let name = &a[j + 1];
            overflow = if is(name, "wrap") {
                Overflow::Wrap
            } else if is(name, "sat") {
                Overflow::Sat
            } else if is(name, "fail") {
                Overflow::Fail
            } else {
                return Err(err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(OpError::Syntax);
        };
        let (signed, bits) = field_type(&a[j + 1])?;
        let offset = bit_offset(&a[j + 2], Some(bits))?;
        let action = match action {
            FieldAction::Get => FieldAction::Get,
            FieldAction::Set(_) => FieldAction::Set(int(&a[j + 3])?),
            FieldAction::IncrBy(_) => FieldAction::IncrBy(int(&a[j + 3])?),
        };
        ops.push(FieldOp {
            action,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if action == FieldAction::Get { 3 } else { 4 };
    }
    Ok(ops)
}

fn bitfield(a: &[Bytes]) -> Result<Command, OpError> {
    op(BitmapOp::BitField {
        key: a[1].clone(),
        ops: field_ops(a)?,
    })
}

fn bitfield_ro(a: &[Bytes]) -> Result<Command, OpError> {
    let ops = field_ops(a)?;
    if ops.iter().any(|o| o.action != FieldAction::Get) {
        return Err(err("BITFIELD_RO only supports the GET subcommand"));
    }
    op(BitmapOp::BitField {
        key: a[1].clone(),
        ops,
    })
}

#[cfg(test)]
#[path = "bitmap_tests.rs"]
mod tests;
