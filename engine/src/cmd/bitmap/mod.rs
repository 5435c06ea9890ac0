//! Execution of the bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
//! BITFIELD_RO) over ordinary string values, following Redis 7.2's bitops.c (plus BITOP's
//! DIFF/DIFF1/ANDOR/ONE from Redis 8.2).
//!
//! Invariants: a bit offset is accepted only if `offset / 8 < proto-max-bulk-len`, so a write
//! never grows a string past that limit by more than one bitfield; writes switch the value to
//! the raw (growable) encoding as Redis unshares it; integer-encoded strings are read through
//! their decimal text. Keyspace events: `setbit` (SETBIT, BITFIELD writes), `set`/`del` (BITOP's
//! destination) and `new` when a key is created.

mod bits;

use std::borrow::Cow;

use bytes::Bytes;

use super::Exec;
use crate::ir::ops::BitmapOp;
use crate::ir::ops::bitmap::{BitOpKind, FieldAction, FieldOp, Overflow, RangeUnit};
use crate::ir::{OpError, Reply};
use crate::keyspace::{Entry, StrRef};
use crate::notify::class;

/// Redis's text for an offset beyond the string limit.
fn offset_err() -> Reply {
    OpError::Other("ERR bit offset is not an integer or out of range".into()).into()
}

/// True if `offset` addresses a byte within `proto-max-bulk-len`.
fn offset_ok(x: &Exec<'_>, offset: u64) -> bool {
    (offset >> 3) < x.config.proto_max_bulk_len
}

/// The bytes of a string value (an INT is read as its decimal text).
fn str_bytes(s: StrRef<'_>) -> Cow<'_, [u8]> {
    match s {
        StrRef::Bytes(b) => Cow::Borrowed(b),
        StrRef::Int(_) => Cow::Owned(s.to_vec()),
    }
}

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &BitmapOp) -> Reply {
    match op {
        BitmapOp::SetBit { key, offset, value } => setbit(x, key, *offset, *value),
        BitmapOp::GetBit { key, offset } => getbit(x, key, *offset),
        BitmapOp::BitCount { key, range } => bitcount(x, key, *range),
        BitmapOp::BitPos {
            key,
            bit,
            start,
            end,
            unit,
        } => bitpos(x, key, *bit, *start, *end, *unit),
        BitmapOp::BitOp {
            kind,
            dest,
            sources,
        } => bitop(x, *kind, dest, sources),
        BitmapOp::BitField { key, ops } => bitfield(x, key, ops),
    }
}

/// `lookupStringForBitCommand`: the string at `key` grown with zeros so that bit `max_bit`
/// exists, created if missing, then `f` on its bytes with the number of bytes added.
/// `Err` for a non-string.
fn with_grown<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    max_bit: u64,
    f: impl FnOnce(&mut Vec<u8>, usize) -> R,
) -> Result<R, Reply> {
    // The offset bound keeps `max_bit / 8` far below usize::MAX.
    let need = usize::try_from(max_bit >> 3).map_err(|_| offset_err())? + 1;
    let exists = match x.write_lookup(key) {
        None => false,
        Some(e) if e.is_string() => true,
        Some(_) => return Err(OpError::WrongType.into()),
    };
    if !exists {
        let mut v = vec![0u8; need];
        let r = f(&mut v, need);
        let entry = Entry::new_raw(key, v, None, x.now_secs);
        x.db().insert(entry);
        x.notify(class::NEW, "new", key);
        return Ok(r);
    }
    let now = x.now_ms;
    x.db()
        .update(key, now, |e| {
            let v = e.raw_string_mut()?;
            let before = v.len();
            if before < need {
                v.resize(need, 0);
            }
            let grown = v.len() - before;
            Some(f(v, grown))
        })
        .flatten()
        .ok_or_else(|| OpError::WrongType.into())
}

fn setbit(x: &mut Exec<'_>, key: &[u8], offset: u64, on: bool) -> Reply {
    if !offset_ok(x, offset) {
        return offset_err();
    }
    let outcome = with_grown(x, key, offset, |v, grown| {
        let old = bits::get_bit(v, offset);
        let changed = grown > 0 || old != on;
        if changed {
            bits::set_bit(v, offset, on);
        }
        (old, changed)
    });
    match outcome {
        Ok((old, changed)) => {
            if changed {
                x.notify(class::STRING, "setbit", key);
            }
            Reply::Int(i64::from(old))
        }
        Err(r) => r,
    }
}

fn getbit(x: &mut Exec<'_>, key: &[u8], offset: u64) -> Reply {
    if !offset_ok(x, offset) {
        return offset_err();
    }
    match x.read(key) {
        None => Reply::Int(0),
        Some(e) => match e.string_value() {
            None => OpError::WrongType.into(),
            Some(s) => Reply::Int(i64::from(bits::get_bit(&str_bytes(s), offset))),
        },
    }
}

/// Redis's index normalisation shared by BITCOUNT and BITPOS: clamps `start..=end` (negative
/// = from the end) to the string, in bytes or bits; for bits, returns the byte range plus the
/// masks of the bits of the first and last byte that fall outside the range.
struct Span {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

fn normalise(len: usize, mut start: i64, mut end: i64, unit: RangeUnit) -> Span {
    let mut totlen = len as i64;
    if unit == RangeUnit::Bit {
        totlen = totlen.saturating_mul(8);
    }
    if start < 0 {
        start = totlen.saturating_add(start);
    }
    if end < 0 {
        end = totlen.saturating_add(end);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= totlen {
        end = totlen - 1;
    }
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if unit == RangeUnit::Bit && start <= end {
        first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Span {
        start,
        end,
        first_mask,
        last_mask,
    }
}

fn bitcount(x: &mut Exec<'_>, key: &[u8], range: Option<(i64, i64, RangeUnit)>) -> Reply {
    let e = match x.read(key) {
        None => return Reply::Int(0),
        Some(e) => e,
    };
    let Some(s) = e.string_value() else {
        return OpError::WrongType.into();
    };
    let p = str_bytes(s);
    let span = match range {
        None => Span {
            start: 0,
            end: p.len() as i64 - 1,
            first_mask: 0,
            last_mask: 0,
        },
        Some((start, end, _)) if start < 0 && end < 0 && start > end => return Reply::Int(0),
        Some((start, end, unit)) => normalise(p.len(), start, end, unit),
    };
    if span.start > span.end {
        return Reply::Int(0);
    }
    // start <= end < len, both non-negative here.
    let (start, end) = (span.start as usize, span.end as usize);
    let Some(slice) = p.get(start..=end) else {
        return Reply::Int(0);
    };
    let mut count = bits::popcount(slice);
    let first_out = p.get(start).map_or(0, |b| b & span.first_mask);
    let last_out = p.get(end).map_or(0, |b| b & span.last_mask);
    count -= u64::from(first_out.count_ones() + last_out.count_ones());
    Reply::Int(count as i64)
}

fn bitpos(
    x: &mut Exec<'_>,
    key: &[u8],
    bit: bool,
    start: Option<i64>,
    end: Option<i64>,
    unit: RangeUnit,
) -> Reply {
    let e = match x.read(key) {
        // A missing key is an infinite run of zeros.
        None => return Reply::Int(if bit { -1 } else { 0 }),
        Some(e) => e,
    };
    let Some(s) = e.string_value() else {
        return OpError::WrongType.into();
    };
    let p = str_bytes(s);
    let end_given = end.is_some();
    let span = match start {
        None => Span {
            start: 0,
            end: p.len() as i64 - 1,
            first_mask: 0,
            last_mask: 0,
        },
        Some(start) => {
            let end = end.unwrap_or(p.len() as i64 - 1);
            normalise(p.len(), start, end, unit)
        }
    };
    if span.start > span.end {
        return Reply::Int(-1);
    }
    Reply::Int(bitpos_in(&p, bit, span, end_given))
}

/// BITPOS over a normalised, non-empty span (bitposCommand's search and result adjustment).
fn bitpos_in(p: &[u8], bit: bool, span: Span, end_given: bool) -> i64 {
    let byte_at = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| p.get(i))
            .copied()
            .unwrap_or(0)
    };
    let Span {
        mut start,
        end,
        first_mask,
        last_mask,
    } = span;
    let mut bytes = end - start + 1;
    let mut pos;
    'found: {
        if first_mask != 0 {
            let mut c = byte_at(start);
            c = if bit { c & !first_mask } else { c | first_mask };
            if last_mask != 0 && bytes == 1 {
                c = if bit { c & !last_mask } else { c | last_mask };
            }
            pos = bits::first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found;
            }
            start += 1;
            bytes -= 1;
        }
        let curbytes = bytes - i64::from(last_mask != 0);
        if curbytes > 0 {
            let from = start as usize;
            let slice = p.get(from..from + curbytes as usize).unwrap_or(&[]);
            pos = bits::first_bit(slice, bit);
            if bytes == curbytes || (pos != -1 && pos != curbytes * 8) {
                break 'found;
            }
            start += curbytes;
            bytes -= curbytes;
        }
        let mut c = byte_at(end);
        c = if bit { c & !last_mask } else { c | last_mask };
        pos = bits::first_bit(&[c], bit);
    }
    // Looking for a 0 inside an explicit range: the zero padding after it does not count.
    if end_given && !bit && pos == bytes * 8 {
        return -1;
    }
    if pos != -1 {
        pos += start * 8;
    }
    pos
}

fn bitop(x: &mut Exec<'_>, kind: BitOpKind, dest: &[u8], sources: &[Bytes]) -> Reply {
    // Values are copied out because several keys are borrowed from the same table.
    let mut values: Vec<Cow<'static, [u8]>> = Vec::with_capacity(sources.len());
    for key in sources {
        match x.read(key) {
            None => values.push(Cow::Borrowed(&[])),
            Some(e) => match e.string_value() {
                None => return OpError::WrongType.into(),
                Some(s) => values.push(Cow::Owned(str_bytes(s).into_owned())),
            },
        }
    }
    let refs: Vec<&[u8]> = values.iter().map(|v| v.as_ref()).collect();
    let result = bits::bitop(kind, &refs);
    let len = result.len();
    let now = x.now_ms;
    if len == 0 {
        if x.db().remove(dest, now).is_some() {
            x.notify(class::GENERIC, "del", dest);
        }
        return Reply::Int(0);
    }
    let existed = x.write_lookup(dest).is_some();
    // Redis stores the result as a raw string object and drops any TTL of the destination.
    let entry = Entry::new_raw(dest, result, None, x.now_secs);
    x.db().insert(entry);
    if !existed {
        x.notify(class::NEW, "new", dest);
    }
    x.notify(class::STRING, "set", dest);
    Reply::Int(len as i64)
}

/// The outcome of one BITFIELD write: the reply (nil on FAIL) and whether the bits changed.
fn field_write(v: &mut [u8], op: &FieldOp) -> (Reply, bool) {
    let bits = u32::from(op.bits);
    if op.signed {
        let old = bits::get_signed(v, op.offset, bits);
        let (ov, new, ret) = match op.action {
            FieldAction::IncrBy(incr) => {
                let (ov, limit) = bits::check_signed(old, incr, bits, op.overflow);
                let new = if ov != 0 {
                    limit.unwrap_or(old)
                } else {
                    old.wrapping_add(incr)
                };
                (ov, new, new)
            }
            FieldAction::Set(value) => {
                let (ov, limit) = bits::check_signed(value, 0, bits, op.overflow);
                (
                    ov,
                    if ov != 0 {
                        limit.unwrap_or(value)
                    } else {
                        value
                    },
                    old,
                )
            }
            FieldAction::Get => (0, old, old),
        };
        if ov != 0 && op.overflow == Overflow::Fail {
            return (Reply::Nil, false);
        }
        bits::set_field(v, op.offset, bits, new as u64);
        (Reply::Int(ret), old != new)
    } else {
        let old = bits::get_unsigned(v, op.offset, bits);
        let (ov, new, ret) = match op.action {
            FieldAction::IncrBy(incr) => {
                let (ov, limit) = bits::check_unsigned(old, incr, bits, op.overflow);
                let new = if ov != 0 {
                    limit.unwrap_or(old)
                } else {
                    old.wrapping_add(incr as u64)
                };
                (ov, new, new)
            }
            FieldAction::Set(value) => {
                let value = value as u64;
                let (ov, limit) = bits::check_unsigned(value, 0, bits, op.overflow);
                (
                    ov,
                    if ov != 0 {
                        limit.unwrap_or(value)
                    } else {
                        value
                    },
                    old,
                )
            }
            FieldAction::Get => (0, old, old),
        };
        if ov != 0 && op.overflow == Overflow::Fail {
            return (Reply::Nil, false);
        }
        bits::set_field(v, op.offset, bits, new);
        (Reply::Int(ret as i64), old != new)
    }
}

/// A BITFIELD GET against bytes (missing bytes read as zero).
fn field_get(v: &[u8], op: &FieldOp) -> Reply {
    let bits = u32::from(op.bits);
    if op.signed {
        Reply::Int(bits::get_signed(v, op.offset, bits))
    } else {
        Reply::Int(bits::get_unsigned(v, op.offset, bits) as i64)
    }
}

fn bitfield(x: &mut Exec<'_>, key: &[u8], ops: &[FieldOp]) -> Reply {
    if ops.iter().any(|op| !offset_ok(x, op.offset)) {
        return offset_err();
    }
    let highest_write = ops
        .iter()
        .filter(|op| op.action != FieldAction::Get)
        .map(|op| op.offset + u64::from(op.bits) - 1)
        .max();
    let Some(highest) = highest_write else {
        // Read-only: a missing key reads as zeros.
        let e = match x.read(key) {
            None => None,
            Some(e) => match e.string_value() {
                None => return OpError::WrongType.into(),
                Some(s) => Some(str_bytes(s)),
            },
        };
        let v: &[u8] = e.as_deref().unwrap_or(&[]);
        return Reply::Array(ops.iter().map(|op| field_get(v, op)).collect());
    };
    let outcome = with_grown(x, key, highest, |v, grown| {
        let mut changes = 0usize;
        let replies: Vec<Reply> = ops
            .iter()
            .map(|op| {
                if op.action == FieldAction::Get {
                    return field_get(v, op);
                }
                let (reply, changed) = field_write(v, op);
                if !matches!(reply, Reply::Nil) && (grown > 0 || changed) {
                    changes += 1;
                }
                reply
            })
            .collect();
        (replies, changes)
    });
    match outcome {
        Ok((replies, changes)) => {
            if changes > 0 {
                x.notify(class::STRING, "setbit", key);
            }
            Reply::Array(replies)
        }
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests;
