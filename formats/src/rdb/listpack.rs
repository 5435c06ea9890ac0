//! Redis's listpack byte layout (`listpack.c`): a 6-byte header (total bytes u32 LE, element
//! count u16 LE, 65535 = unknown), entries of `encoding + data + backlen`, and a 0xFF end byte.
//!
//! [`parse`] validates a whole untrusted buffer (header size, every entry's bounds and backlen,
//! the end byte, the count when known) and never panics; [`Builder`] writes entries with the
//! same encoding choice as `lpAppend` (a canonical integer string is stored as an integer), so
//! Moon's listpacks are byte-identical to Redis's for the same elements.

/// One listpack element as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpEntry<'a> {
    /// An integer-encoded element.
    Int(i64),
    /// A string element.
    Str(&'a [u8]),
}

impl LpEntry<'_> {
    /// The element as the string Redis would return for it.
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            LpEntry::Int(i) => i.to_string().into_bytes(),
            LpEntry::Str(s) => s.to_vec(),
        }
    }
}

const HEADER: usize = 6;
const EOF: u8 = 0xFF;

/// Parses every entry of `buf`; `None` if the buffer is not a well-formed listpack.
pub fn parse(buf: &[u8]) -> Option<Vec<LpEntry<'_>>> {
    let total = u32::from_le_bytes(buf.get(0..4)?.try_into().ok()?) as usize;
    if total != buf.len() || total < HEADER + 1 {
        return None;
    }
    let count = u16::from_le_bytes(buf.get(4..6)?.try_into().ok()?);
    let mut out = Vec::new();
    let mut p = HEADER;
    loop {
        let b = *buf.get(p)?;
        if b == EOF {
            if p + 1 != buf.len() {
                return None;
            }
            break;
        }
        let (entry, enc_len) = decode_entry(buf, p)?;
        let back = encode_backlen(enc_len);
        let back_at = p + enc_len;
        if buf.get(back_at..back_at + back.len())? != back.as_slice() {
            return None;
        }
        out.push(entry);
        p = back_at + back.len();
    }
    if count != u16::MAX && usize::from(count) != out.len() {
        return None;
    }
    Some(out)
}

fn sized(buf: &[u8], p: usize, n: usize) -> Option<&[u8]> {
    buf.get(p..p.checked_add(n)?)
}

fn int_le(bytes: &[u8]) -> i64 {
    let mut v: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        v |= u64::from(b) << (8 * i);
    }
    let bits = 8 * bytes.len() as u32;
    if bits < 64 {
        // Sign-extend from `bits`.
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    } else {
        v as i64
    }
}

/// Decodes the entry at `p`: the element and the length of encoding + data.
fn decode_entry(buf: &[u8], p: usize) -> Option<(LpEntry<'_>, usize)> {
    let b = *buf.get(p)?;
    if b & 0x80 == 0 {
        return Some((LpEntry::Int(i64::from(b & 0x7F)), 1));
    }
    if b & 0xC0 == 0x80 {
        let len = usize::from(b & 0x3F);
        return Some((LpEntry::Str(sized(buf, p + 1, len)?), 1 + len));
    }
    if b & 0xE0 == 0xC0 {
        let lo = *buf.get(p + 1)?;
        let v = (u16::from(b & 0x1F) << 8) | u16::from(lo);
        let v = if v >= 1 << 12 {
            i64::from(v) - (1 << 13)
        } else {
            i64::from(v)
        };
        return Some((LpEntry::Int(v), 2));
    }
    if b & 0xF0 == 0xE0 {
        let len = (usize::from(b & 0x0F) << 8) | usize::from(*buf.get(p + 1)?);
        return Some((LpEntry::Str(sized(buf, p + 2, len)?), 2 + len));
    }
    match b {
        0xF0 => {
            let len = u32::from_le_bytes(sized(buf, p + 1, 4)?.try_into().ok()?) as usize;
            Some((LpEntry::Str(sized(buf, p + 5, len)?), 5 + len))
        }
        0xF1 => Some((LpEntry::Int(int_le(sized(buf, p + 1, 2)?)), 3)),
        0xF2 => Some((LpEntry::Int(int_le(sized(buf, p + 1, 3)?)), 4)),
        0xF3 => Some((LpEntry::Int(int_le(sized(buf, p + 1, 4)?)), 5)),
        0xF4 => Some((LpEntry::Int(int_le(sized(buf, p + 1, 8)?)), 9)),
        _ => None,
    }
}

/// The backlen bytes for an entry whose encoding + data take `l` bytes (`lpEncodeBacklen`).
fn encode_backlen(l: usize) -> Vec<u8> {
    let l = l as u64;
    if l <= 127 {
        vec![l as u8]
    } else if l < 16383 {
        vec![(l >> 7) as u8, ((l & 127) | 128) as u8]
    } else if l < 2_097_151 {
        vec![
            (l >> 14) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]
    } else if l < 268_435_455 {
        vec![
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]
    } else {
        vec![
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]
    }
}

/// Redis's `string2ll` acceptance: the canonical decimal form of an i64 (no sign on zero, no
/// leading zeros or `+`, at most 20 bytes).
pub fn canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

/// Writes a listpack entry by entry.
#[derive(Debug, Clone)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// An empty listpack.
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Appends a string element (stored as an integer when it is a canonical i64, as Redis).
    pub fn push_str(&mut self, s: &[u8]) {
        match canonical_i64(s) {
            Some(v) => self.push_int(v),
            None => {
                let start = self.buf.len();
                let len = s.len();
                if len < 64 {
                    self.buf.push(0x80 | len as u8);
                } else if len < 4096 {
                    self.buf.push(0xE0 | (len >> 8) as u8);
                    self.buf.push((len & 0xFF) as u8);
                } else {
                    self.buf.push(0xF0);
                    self.buf.extend_from_slice(&(len as u32).to_le_bytes());
                }
                self.buf.extend_from_slice(s);
                self.finish_entry(start);
            }
        }
    }

    /// Appends an integer element with the smallest encoding.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1FFF;
            self.buf.push(0xC0 | (u >> 8) as u8);
            self.buf.push((u & 0xFF) as u8);
        } else if let Ok(v16) = i16::try_from(v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&v16.to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&v.to_le_bytes()[..3]);
        } else if let Ok(v32) = i32::try_from(v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&v32.to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.finish_entry(start);
    }

    fn finish_entry(&mut self, start: usize) {
        let back = encode_backlen(self.buf.len() - start);
        self.buf.extend_from_slice(&back);
        self.count += 1;
    }

    /// Number of elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if no element was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the finished listpack will take.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_bytes() {
        // The listpack of `RPUSH l a b 1 2` in redis-server 7.0.15's DUMP.
        let redis = b"\x11\x00\x00\x00\x04\x00\x81a\x02\x81b\x02\x01\x01\x02\x01\xff";
        let mut b = Builder::new();
        for s in [&b"a"[..], b"b", b"1", b"2"] {
            b.push_str(s);
        }
        assert_eq!(b.finish(), redis.to_vec());
        let parsed = parse(redis).unwrap_or_default();
        assert_eq!(
            parsed,
            vec![
                LpEntry::Str(b"a"),
                LpEntry::Str(b"b"),
                LpEntry::Int(1),
                LpEntry::Int(2)
            ]
        );
    }

    #[test]
    fn every_width_round_trips() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            (1 << 23) - 1,
            -(1 << 23),
            1 << 23,
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            i64::from(i32::MAX) + 1,
            i64::MAX,
            i64::MIN,
        ];
        let strs: Vec<Vec<u8>> = vec![
            vec![],
            b"x".to_vec(),
            vec![b'y'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'z'; 4096],
            vec![b'w'; 20000],
        ];
        let mut b = Builder::new();
        for &i in &ints {
            b.push_int(i);
        }
        for s in &strs {
            b.push_str(s);
        }
        let buf = b.finish();
        let parsed = parse(&buf).unwrap_or_default();
        assert_eq!(parsed.len(), ints.len() + strs.len());
        for (i, &v) in ints.iter().enumerate() {
            assert_eq!(parsed[i], LpEntry::Int(v));
        }
        for (i, s) in strs.iter().enumerate() {
            assert_eq!(parsed[ints.len() + i], LpEntry::Str(s));
        }
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse(b"").is_none());
        assert!(parse(b"\x07\x00\x00\x00\x00\x00\xff").is_some());
        assert!(parse(b"\x07\x00\x00\x00\x01\x00\xff").is_none());
        assert!(parse(b"\x08\x00\x00\x00\x01\x00\x05\xff").is_none());
        assert!(parse(b"\x09\x00\x00\x00\x01\x00\x05\x01\xff").is_some());
        assert!(parse(b"\x09\x00\x00\x00\x01\x00\x85\x01\xff").is_none());
    }

    #[test]
    fn canonical_integers() {
        assert_eq!(canonical_i64(b"-0"), None);
        assert_eq!(canonical_i64(b"01"), None);
        assert_eq!(canonical_i64(b"+1"), None);
        assert_eq!(canonical_i64(b"-12"), Some(-12));
        assert_eq!(canonical_i64(b"9223372036854775808"), None);
    }
}
