//! Bit-level primitives of bitops.c over byte slices: population count, first set/clear bit,
//! arbitrary-width bitfield get/set with Redis's overflow rules, and the BITOP combinators.
//!
//! Bit 0 is the most significant bit of byte 0 (SETBIT's convention). Invariants: readers treat
//! bytes past the end as zero and never index out of bounds; writers only touch bytes that
//! exist (callers grow the string first).

use crate::ir::ops::bitmap::{BitOpKind, Overflow};

/// Number of set bits.
pub fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>()
}

/// `redisBitpos`: position of the first bit equal to `bit`. When looking for a 0 and every
/// bit is 1 the answer is `len * 8` (the string is zero padded on the right); when looking for
/// a 1 and there is none it is -1.
pub fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match bytes.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = if bit { bytes[i] } else { !bytes[i] };
            (i as i64) * 8 + i64::from(b.leading_zeros())
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// The bit at `offset` (bits past the end are 0).
#[inline]
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    bytes
        .get(byte)
        .is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0)
}

/// Sets the bit at `offset` if that byte exists.
#[inline]
pub fn set_bit(bytes: &mut [u8], offset: u64, on: bool) {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    if let Some(b) = bytes.get_mut(byte) {
        let mask = 1u8 << (7 - (offset & 7));
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// `getUnsignedBitfield`: the `bits`-wide (1..=64) big-endian field at `offset`.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    debug_assert!((1..=64).contains(&bits));
    (0..u64::from(bits)).fold(0u64, |v, j| {
        (v << 1) | u64::from(get_bit(bytes, offset + j))
    })
}

/// `getSignedBitfield`: the field sign-extended from its top bit.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(bytes, offset, bits);
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// `setUnsignedBitfield`: writes the low `bits` bits of `value` at `offset`.
pub fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let on = value & (1u64 << (u64::from(bits) - 1 - j)) != 0;
        set_bit(bytes, offset + j, on);
    }
}

/// Result of an overflow check: the direction (0 none, 1 over, -1 under) and, for WRAP/SAT,
/// the value to store instead.
pub type Checked<T> = (i32, Option<T>);

/// `checkUnsignedBitfieldOverflow` (bits 1..=63).
pub fn check_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> Checked<u64> {
    let max: u64 = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrap = || {
        let mask = if bits >= 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    if value > max || (incr > 0 && incr > maxincr) {
        let limit = match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        };
        (1, limit)
    } else if incr < 0 && incr < minincr {
        let limit = match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(0),
            Overflow::Fail => None,
        };
        (-1, limit)
    } else {
        (0, None)
    }
}

/// `checkSignedBitfieldOverflow` (bits 1..=64).
pub fn check_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> Checked<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let msb = 1u64 << (bits - 1);
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        let limit = match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        };
        (1, limit)
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        let limit = match ow {
            Overflow::Wrap => Some(wrap()),
            Overflow::Sat => Some(min),
            Overflow::Fail => None,
        };
        (-1, limit)
    } else {
        (0, None)
    }
}

/// BITOP over `sources` (missing keys are empty slices); the result has the length of the
/// longest source, shorter ones read as zero padded.
pub fn bitop(kind: BitOpKind, sources: &[&[u8]]) -> Vec<u8> {
    let maxlen = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let first = sources.first().copied().unwrap_or(&[]);
    let rest = sources.get(1..).unwrap_or(&[]);
    let padded = |s: &[u8]| {
        let mut v = vec![0u8; maxlen];
        v[..s.len()].copy_from_slice(s);
        v
    };
    // Folds every source but the first into `acc` with `f`, zero padding short ones.
    let fold = |acc: &mut [u8], f: fn(u8, u8) -> u8| {
        for s in rest {
            for (a, b) in acc
                .iter_mut()
                .zip(s.iter().copied().chain(std::iter::repeat(0)))
            {
                *a = f(*a, b);
            }
        }
    };
    match kind {
        BitOpKind::And => {
            let mut out = padded(first);
            fold(&mut out, |a, b| a & b);
            out
        }
        BitOpKind::Or => {
            let mut out = padded(first);
            fold(&mut out, |a, b| a | b);
            out
        }
        BitOpKind::Xor => {
            let mut out = padded(first);
            fold(&mut out, |a, b| a ^ b);
            out
        }
        BitOpKind::Not => {
            let mut out = padded(first);
            out.iter_mut().for_each(|b| *b = !*b);
            out
        }
        BitOpKind::Diff | BitOpKind::Diff1 | BitOpKind::AndOr => {
            let mut disjunction = vec![0u8; maxlen];
            fold(&mut disjunction, |a, b| a | b);
            let x = padded(first);
            let f: fn(u8, u8) -> u8 = match kind {
                BitOpKind::Diff => |x, d| x & !d,
                BitOpKind::Diff1 => |x, d| !x & d,
                _ => |x, d| x & d,
            };
            x.iter().zip(&disjunction).map(|(&x, &d)| f(x, d)).collect()
        }
        BitOpKind::One => {
            let mut out = padded(first);
            let mut common = vec![0u8; maxlen];
            for s in rest {
                for ((o, c), b) in out
                    .iter_mut()
                    .zip(common.iter_mut())
                    .zip(s.iter().copied().chain(std::iter::repeat(0)))
                {
                    *c |= *o & b;
                    *o ^= b;
                }
            }
            out.iter_mut().zip(&common).for_each(|(o, c)| *o &= !c);
            out
        }
    }
}

#[cfg(test)]
#[path = "bits_tests.rs"]
mod tests;
