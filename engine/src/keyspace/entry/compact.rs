//! The compact blob of an [`Entry::Compact`](super::Entry): building it and reading its parts.
//! The byte layout is in the parent module's doc; every function here accepts any blob this
//! module built, and reads the empty default blob as an empty EMBSTR with an empty key.

pub(super) const ENC_MASK: u8 = 0b11;
pub(super) const ENC_EMBSTR: u8 = 0;
pub(super) const ENC_INT: u8 = 1;
pub(super) const ENC_HASH: u8 = 2;
pub(super) const HAS_TTL: u8 = 0b100;
pub(super) const CLOCK_AT: usize = 1;
pub(super) const TTL_AT: usize = 5;

/// How many bytes `put_varint` writes for `n`.
pub(super) fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

pub(super) fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Decodes a LEB128 length at `at`; returns (value, bytes used). Malformed input (only possible
/// for the empty default blob) decodes as zero.
pub(super) fn get_varint(blob: &[u8], at: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    for (i, &b) in blob.iter().skip(at).take(5).enumerate() {
        n |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (n, i + 1);
        }
        shift += 7;
    }
    (0, 0)
}

pub(super) enum Val<'a> {
    Int(i64),
    Str(&'a [u8]),
    /// A hash's packed buffer.
    Hash(&'a [u8]),
}

pub(super) fn build_compact(
    key: &[u8],
    val: Val<'_>,
    expire_at_ms: Option<u64>,
    access: u32,
) -> Box<[u8]> {
    let (enc, val_len) = match val {
        Val::Int(_) => (ENC_INT, 8),
        Val::Str(s) => (ENC_EMBSTR, s.len()),
        Val::Hash(h) => (ENC_HASH, h.len()),
    };
    let ttl_len = if expire_at_ms.is_some() { 8 } else { 0 };
    // The exact size: `into_boxed_slice` then keeps the allocation instead of shrinking it
    // (a realloc per new key).
    let mut out = Vec::with_capacity(1 + 4 + ttl_len + varint_len(key.len()) + key.len() + val_len);
    out.push(enc | if expire_at_ms.is_some() { HAS_TTL } else { 0 });
    out.extend_from_slice(&access.to_le_bytes());
    if let Some(at) = expire_at_ms {
        out.extend_from_slice(&at.to_le_bytes());
    }
    put_varint(&mut out, key.len());
    out.extend_from_slice(key);
    match val {
        Val::Int(i) => out.extend_from_slice(&i.to_le_bytes()),
        Val::Str(s) | Val::Hash(s) => out.extend_from_slice(s),
    }
    out.into_boxed_slice()
}

/// Parsed offsets of a compact blob.
pub(super) struct Layout {
    pub(super) flags: u8,
    pub(super) key_start: usize,
    pub(super) key_end: usize,
}

pub(super) fn layout(blob: &[u8]) -> Layout {
    let flags = blob.first().copied().unwrap_or(0);
    let len_at = if flags & HAS_TTL != 0 {
        TTL_AT + 8
    } else {
        TTL_AT
    };
    let (key_len, used) = get_varint(blob, len_at);
    let key_start = (len_at + used).min(blob.len());
    let key_end = (key_start + key_len).min(blob.len());
    Layout {
        flags,
        key_start,
        key_end,
    }
}

/// The value part of a compact blob.
pub(super) fn compact_val(blob: &[u8]) -> Val<'_> {
    let l = layout(blob);
    let value = blob.get(l.key_end..).unwrap_or(&[]);
    match l.flags & ENC_MASK {
        ENC_INT => Val::Int(read_u64(value, 0) as i64),
        ENC_HASH => Val::Hash(value),
        _ => Val::Str(value),
    }
}

pub(super) fn read_u64(blob: &[u8], at: usize) -> u64 {
    blob.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

pub(super) fn read_u32(blob: &[u8], at: usize) -> u32 {
    blob.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}

/// A compact blob with the TTL field added, changed or removed.
pub(super) fn self_rebuild(blob: &[u8], expire_at_ms: Option<u64>) -> Box<[u8]> {
    let l = layout(blob);
    let key = blob.get(l.key_start..l.key_end).unwrap_or(&[]);
    let access = read_u32(blob, CLOCK_AT);
    build_compact(key, compact_val(blob), expire_at_ms, access)
}
