//! Redis's HyperLogLog string format, ported from hyperloglog.c byte for byte, so that a value
//! written here is identical to what redis-server writes for the same inputs and PFCOUNT gives
//! the same numbers.
//!
//! Layout: a 16-byte header — `"HYLL"`, encoding (0 dense, 1 sparse), 3 unused bytes, the
//! cached cardinality (u64 LE; its top bit set means "stale") — then the registers:
//! - dense: 16384 six-bit registers packed LSB first, 12288 bytes (total [`DENSE_SIZE`]);
//! - sparse: run-length opcodes, ZERO `00xxxxxx` (1..64 zero registers), XZERO
//!   `01xxxxxx yyyyyyyy` (1..16384 zero registers), VAL `1vvvvvxx` (1..4 registers of value
//!   1..32). A sparse value converts to dense when a register exceeds 32 or the string would
//!   grow past `hll-sparse-max-bytes`.
//!
//! Invariants: every function here accepts arbitrary bytes without panicking (values can be
//! written with SET); malformed sparse data is reported as [`Corrupt`], never trusted for
//! indexing. The estimator is Redis 7's (Ertl's improved estimator over the register histogram).

/// Header bytes.
pub const HDR: usize = 16;
/// log2 of the register count.
const P: u32 = 14;
/// Hash bits left for the zero-run count.
const Q: usize = 64 - P as usize;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register.
const BITS: usize = 6;
/// Largest register value.
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Byte length of a dense HLL.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
/// Encoding byte of the dense representation.
const DENSE: u8 = 0;
/// Encoding byte of the sparse representation.
const SPARSE: u8 = 1;
/// Largest value a sparse VAL opcode can hold.
const SPARSE_VAL_MAX_VALUE: u8 = 32;
/// Longest run of a VAL opcode.
const SPARSE_VAL_MAX_LEN: usize = 4;
/// Longest run of a ZERO opcode.
const SPARSE_ZERO_MAX_LEN: usize = 64;
/// Longest run of an XZERO opcode.
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// Byte of the cached cardinality holding the "stale" flag.
const CARD_MSB: usize = 15;
/// 0.5 / ln(2).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
/// Seed of Redis's element hash.
const HASH_SEED: u32 = 0xadc8_3b19;

/// The HLL's sparse representation is malformed (Redis's "INVALIDOBJ Corrupted HLL object").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash64A as Redis uses it (endian-neutral: blocks are read little endian).
pub fn murmur64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = u64::from(seed) ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in &mut blocks {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(block);
        let mut k = u64::from_le_bytes(buf);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// `hllPatLen`: the register an element maps to and the length of its `000..1` pattern
/// (1..=Q+1).
pub fn pat_len(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The guard bit makes the run end at Q+1 at the latest.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty HLL: sparse, one XZERO covering every register, cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let len = SPARSE_XZERO_MAX_LEN - 1;
    v.push(0x40 | (len >> 8) as u8);
    v.push((len & 0xff) as u8);
    v
}

/// `isHLLObjectOrReply`'s checks: magic, a known encoding, and the exact dense length.
pub fn is_valid(v: &[u8]) -> bool {
    v.len() >= HDR
        && v.starts_with(b"HYLL")
        && v[4] <= SPARSE
        && (v[4] != DENSE || v.len() == DENSE_SIZE)
}

/// True if the value uses the dense representation.
pub fn is_dense(v: &[u8]) -> bool {
    v.get(4) == Some(&DENSE)
}

/// The cached cardinality, if it is valid.
pub fn cached_card(v: &[u8]) -> Option<u64> {
    let card: [u8; 8] = v.get(8..HDR)?.try_into().ok()?;
    let card = u64::from_le_bytes(card);
    (card >> 63 == 0).then_some(card)
}

/// Stores a freshly computed cardinality in the header.
pub fn set_cached_card(v: &mut [u8], card: u64) {
    if let Some(slot) = v.get_mut(8..HDR) {
        slot.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(v: &mut [u8]) {
    if let Some(b) = v.get_mut(CARD_MSB) {
        *b |= 0x80;
    }
}

/// Register `i` of dense register bytes (bytes past the end read as 0, like sds's NUL).
#[inline]
fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u16::from(r.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(r.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(REGISTER_MAX)) as u8
}

/// Sets dense register `i` to `val` (<= 63).
#[inline]
fn dense_set(r: &mut [u8], i: usize, val: u8) {
    debug_assert!(val <= REGISTER_MAX);
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u16::from(val);
    let max = u16::from(REGISTER_MAX);
    if let Some(b) = r.get_mut(byte) {
        *b = ((u16::from(*b) & !(max << fb)) | (v << fb)) as u8;
    }
    // The high part spills into the next byte only when the field crosses a byte boundary.
    let fb8 = 8 - fb;
    if let Some(b) = r.get_mut(byte + 1) {
        *b = ((u16::from(*b) & !(max >> fb8)) | (v >> fb8)) as u8;
    }
}

/// `hllDenseSet`: raises register `index` to `count`; true if it changed.
fn dense_raise(r: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(r, index) {
        dense_set(r, index, count);
        true
    } else {
        false
    }
}

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opcode {
    /// `len` zero registers, encoded in `bytes` bytes (1 ZERO, 2 XZERO).
    Zero { len: usize, bytes: usize },
    /// `len` registers of value `value`.
    Val { value: u8, len: usize },
}

/// Decodes the opcode at `p` (which must be in bounds); a truncated XZERO reads its second
/// byte as 0, like Redis reading the sds terminator.
#[inline]
fn opcode_at(s: &[u8], p: usize) -> Opcode {
    let b = s.get(p).copied().unwrap_or(0);
    if b & 0x80 != 0 {
        Opcode::Val {
            value: ((b >> 2) & 0x1f) + 1,
            len: usize::from(b & 0x3) + 1,
        }
    } else if b & 0x40 == 0 {
        Opcode::Zero {
            len: usize::from(b & 0x3f) + 1,
            bytes: 1,
        }
    } else {
        let lo = s.get(p + 1).copied().unwrap_or(0);
        Opcode::Zero {
            len: ((usize::from(b & 0x3f) << 8) | usize::from(lo)) + 1,
            bytes: 2,
        }
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    debug_assert!((1..=SPARSE_VAL_MAX_VALUE).contains(&value) && (1..=4).contains(&len));
    ((value - 1) << 2) | (len as u8 - 1) | 0x80
}

fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    debug_assert!(len >= 1);
    if len > SPARSE_ZERO_MAX_LEN {
        let l = len - 1;
        seq.push((l >> 8) as u8 | 0x40);
        seq.push((l & 0xff) as u8);
    } else {
        seq.push((len - 1) as u8);
    }
}

/// `hllSparseToDense`: converts a sparse value to dense in place (a dense one is left alone).
/// The header, cached cardinality included, is kept.
pub fn sparse_to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v.len() < HDR {
        return Err(Corrupt);
    }
    if v[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&v[..HDR]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR..];
    let (mut idx, mut p) = (0usize, HDR);
    while p < v.len() {
        match opcode_at(v, p) {
            Opcode::Zero { len, bytes } => {
                idx += len;
                p += bytes;
            }
            Opcode::Val { value, len } => {
                if idx + len > REGISTERS {
                    break;
                }
                for i in idx..idx + len {
                    dense_set(regs, i, value);
                }
                idx += len;
                p += 1;
            }
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *v = dense;
    Ok(())
}

/// `hllSparseSet`: raises register `index` to `count` in a sparse value, promoting it to dense
/// when `count` does not fit a VAL opcode or the value would grow past `sparse_max` bytes.
/// Ok(true) if a register changed (the cached cardinality is then marked stale only on the
/// sparse path; callers invalidate it anyway, as PFADD does).
fn sparse_set(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let mut end = v.len();
    let (mut p, mut first, mut span) = (HDR, 0usize, 0usize);
    let mut prev: Option<usize> = None;
    let mut op = Opcode::Zero { len: 0, bytes: 1 };
    while p < end {
        op = opcode_at(v, p);
        let oplen;
        (span, oplen) = match op {
            Opcode::Zero { len, bytes } => (len, bytes),
            Opcode::Val { len, .. } => (len, 1),
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    let oldlen = match op {
        Opcode::Zero { bytes, .. } => bytes,
        Opcode::Val { .. } => 1,
    };
    // A truncated XZERO at the end is corrupt too (Redis would read past the string).
    if span == 0 || p >= end || p + oldlen > end {
        return Err(Corrupt);
    }
    let last = first + span - 1;

    // Step 2: the trivial in-place updates, then the general split.
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    let mut in_place = false;
    match op {
        Opcode::Val { value, len } => {
            if value >= count {
                return Ok(false);
            }
            if len == 1 {
                v[p] = val_byte(count, 1);
                in_place = true;
            } else {
                if index != first {
                    seq.push(val_byte(value, index - first));
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    seq.push(val_byte(value, last - index));
                }
            }
        }
        Opcode::Zero { len: 1, bytes: 1 } => {
            v[p] = val_byte(count, 1);
            in_place = true;
        }
        Opcode::Zero { .. } => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_byte(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
    }

    // Step 3: substitute the new sequence for the old opcode.
    if !in_place {
        if seq.len() > oldlen && v.len() + (seq.len() - oldlen) > sparse_max {
            return promote(v, index, count);
        }
        v.splice(p..p + oldlen, seq);
        end = v.len();
    }

    // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from prev.
    let mut p = prev.unwrap_or(HDR);
    let mut scanlen = 5;
    while p < end && scanlen > 0 {
        scanlen -= 1;
        match opcode_at(v, p) {
            Opcode::Zero { bytes, .. } => {
                p += bytes;
                continue;
            }
            Opcode::Val { value: v1, len: l1 } => {
                if p + 1 < end
                    && let Opcode::Val { value: v2, len: l2 } = opcode_at(v, p + 1)
                    && v1 == v2
                    && l1 + l2 <= SPARSE_VAL_MAX_LEN
                {
                    v[p + 1] = val_byte(v1, l1 + l2);
                    v.remove(p);
                    end -= 1;
                    // Retry from the same place: the merged opcode may merge again.
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(v);
    Ok(true)
}

/// Converts to dense and raises the register there.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(v)?;
    let regs = v.get_mut(HDR..).ok_or(Corrupt)?;
    Ok(dense_raise(regs, index, count))
}

/// `hllAdd`: adds one element. Ok(true) if a register changed. The value must have passed
/// [`is_valid`].
pub fn add(v: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(element);
    set_register(v, index, count, sparse_max)
}

/// Raises register `index` to `count` in either representation.
pub fn set_register(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    match v.get(4) {
        Some(&DENSE) => {
            let regs = v.get_mut(HDR..).ok_or(Corrupt)?;
            Ok(dense_raise(regs, index, count))
        }
        Some(&SPARSE) => sparse_set(v, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

/// `hllMerge`: `max[i] = max(max[i], register i)` for a validated value.
pub fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    let regs = v.get(HDR..).ok_or(Corrupt)?;
    if is_dense(v) {
        for (i, m) in max.iter_mut().enumerate() {
            let val = dense_get(regs, i);
            if val > *m {
                *m = val;
            }
        }
        return Ok(());
    }
    let (mut i, mut p) = (0usize, 0usize);
    while p < regs.len() {
        match opcode_at(regs, p) {
            Opcode::Zero { len, bytes } => {
                i += len;
                p += bytes;
            }
            Opcode::Val { value, len } => {
                if i + len > REGISTERS {
                    break;
                }
                for m in &mut max[i..i + len] {
                    if value > *m {
                        *m = value;
                    }
                }
                i += len;
                p += 1;
            }
        }
    }
    if i == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

/// Register histogram of a dense register array.
fn dense_histo(regs: &[u8], h: &mut [u64; 64]) {
    // Four 6-bit registers per 3 bytes.
    for c in regs.chunks_exact(3).take(REGISTERS / 4) {
        let (r0, r1, r2) = (c[0], c[1], c[2]);
        h[usize::from(r0 & 63)] += 1;
        h[usize::from((r0 >> 6 | r1 << 2) & 63)] += 1;
        h[usize::from((r1 >> 4 | r2 << 4) & 63)] += 1;
        h[usize::from(r2 >> 2)] += 1;
    }
}

/// Register histogram of sparse opcodes; false if they do not cover exactly every register.
fn sparse_histo(data: &[u8], h: &mut [u64; 64]) -> bool {
    let (mut idx, mut p) = (0usize, 0usize);
    while p < data.len() {
        match opcode_at(data, p) {
            Opcode::Zero { len, bytes } => {
                idx += len;
                h[0] += len as u64;
                p += bytes;
            }
            Opcode::Val { value, len } => {
                idx += len;
                h[usize::from(value)] += len as u64;
                p += 1;
            }
        }
    }
    idx == REGISTERS
}

/// Ertl's sigma.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

/// Ertl's tau.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a register histogram (Redis 7's `hllCount` body).
fn estimate(h: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    // llroundl: round half away from zero, like f64::round.
    (ALPHA_INF * m * m / z).round() as u64
}

/// The approximated cardinality of a validated value (ignoring the cache).
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let regs = v.get(HDR..).ok_or(Corrupt)?;
    let mut h = [0u64; 64];
    if is_dense(v) {
        dense_histo(regs, &mut h);
    } else if !sparse_histo(regs, &mut h) {
        return Err(Corrupt);
    }
    Ok(estimate(&h))
}

/// The approximated cardinality of a merged register array (multi-key PFCOUNT).
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    let mut h = [0u64; 64];
    for &r in max {
        h[usize::from(r & 63)] += 1;
    }
    estimate(&h)
}

/// Writes merged registers into a validated value (PFMERGE's destination): converts it to
/// dense first when `dense` is set, then raises every non-zero register in index order.
pub fn store_merged(
    v: &mut Vec<u8>,
    max: &[u8; REGISTERS],
    dense: bool,
    sparse_max: usize,
) -> Result<(), Corrupt> {
    if dense {
        sparse_to_dense(v)?;
    }
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            // Redis ignores the result here; a corrupt sparse destination was rejected while
            // merging it as a source.
            let _ = set_register(v, i, m, sparse_max);
        }
    }
    invalidate_cache(v);
    Ok(())
}

#[cfg(test)]
#[path = "repr_tests.rs"]
mod tests;
