//! LZF (liblzf's format, as Redis uses for RDB string compression).
//!
//! Format: a control byte `c`; `c < 32` starts a literal run of `c + 1` bytes; otherwise a
//! back reference of length `(c >> 5) + 2` (7 means "add the next byte") at distance
//! `((c & 0x1f) << 8) + next byte + 1` behind the output position. The compressor here is a
//! greedy single-probe hash matcher: its output need not equal liblzf's byte for byte, only
//! decode to the same input, which every LZF decoder (Redis's included) does.
//!
//! Invariant: [`decompress`] is bounds-checked and never panics on any input.

/// Longest literal run of one control byte.
const MAX_LIT: usize = 32;
/// Farthest back reference.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference.
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Largest hash table (2^14 positions, liblzf's default).
const HASH_LOG: u32 = 14;

/// Hash-table size for an input of `n` bytes: about one slot per byte, between 2^4 and
/// 2^HASH_LOG. Small values (most of a snapshot's strings) must not pay for clearing a
/// 2^14-slot table each: that memset dominated snapshot time.
fn hash_log(n: usize) -> u32 {
    (usize::BITS - n.leading_zeros()).clamp(4, HASH_LOG)
}

fn hash3(b: &[u8], log: u32) -> usize {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - log)) as usize
}

fn flush_literals(out: &mut Vec<u8>, lits: &[u8]) {
    for chunk in lits.chunks(MAX_LIT) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Compresses `input`; `None` unless the result is at most `max_out` bytes (Redis stores a
/// string compressed only when that saves at least 4 bytes).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if u32::try_from(n).is_err() {
        // Positions are kept as u32; such a value is stored uncompressed.
        return None;
    }
    let mut out = Vec::with_capacity(max_out.min(n));
    let log = hash_log(n);
    let mut table = vec![0u32; 1 << log];
    let mut lit_start = 0;
    let mut i = 0;
    while i + 2 < n {
        let h = hash3(&input[i..i + 3], log);
        let cand = table[h] as usize;
        table[h] = (i + 1) as u32;
        if cand > 0 {
            let r = cand - 1;
            let off = i - r - 1;
            if off < MAX_OFF && input[r..r + 3] == input[i..i + 3] {
                let max_len = (n - i).min(MAX_REF);
                let mut len = 3;
                while len < max_len && input[r + len] == input[i + len] {
                    len += 1;
                }
                flush_literals(&mut out, &input[lit_start..i]);
                let l = len - 2;
                let hi = (off >> 8) as u8;
                if l < 7 {
                    out.push(hi + ((l as u8) << 5));
                } else {
                    out.push(hi + (7 << 5));
                    out.push((l - 7) as u8);
                }
                out.push((off & 0xFF) as u8);
                for j in i + 1..i + len {
                    if j + 2 < n {
                        table[hash3(&input[j..j + 3], log)] = (j + 1) as u32;
                    }
                }
                i += len;
                lit_start = i;
                if out.len() > max_out {
                    return None;
                }
                continue;
            }
        }
        i += 1;
    }
    flush_literals(&mut out, &input[lit_start..]);
    (out.len() <= max_out && !out.is_empty()).then_some(out)
}

/// Decompresses `input` into exactly `out_len` bytes; `None` if the data is malformed or does
/// not produce exactly `out_len` bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(input.len().saturating_mul(64) + 64));
    let mut i = 0;
    while i < input.len() {
        let c = usize::from(input[i]);
        i += 1;
        if c < 32 {
            let run = c + 1;
            let lit = input.get(i..i + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut len = c >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            len += 2;
            let back = ((c & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            for k in 0..len {
                let b = *out.get(start + k)?;
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let samples: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"hello world hello world hello world hello world".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            (0..3000u32)
                .map(|i| (i.wrapping_mul(7919) >> 3) as u8)
                .collect(),
        ];
        for s in samples {
            if let Some(c) = compress(&s, s.len()) {
                assert_eq!(decompress(&c, s.len()).as_deref(), Some(&s[..]));
            }
        }
    }

    #[test]
    fn decodes_redis_output() {
        // redis-server 7.0.15: DUMP of a 50-byte run of `a` carries these 9 LZF bytes.
        let c = [0x01, b'a', b'a', 0xe0, 0x25, 0x00, 0x01, b'a', b'a'];
        assert_eq!(decompress(&c, 50), Some(vec![b'a'; 50]));
        assert_eq!(decompress(&c, 49), None);
        assert_eq!(decompress(&c, 51), None);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decompress(&[0x20, 0x00], 10), None);
        assert_eq!(decompress(&[0x05, 1, 2], 6), None);
        assert_eq!(decompress(&[0x00, 1], 2), None);
    }
}
