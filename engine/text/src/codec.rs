//! Little-endian fixed-width and LEB128 varint primitives shared by the posting lists and the
//! snapshot format. The reader never panics: every read is bounds-checked and failures carry
//! the byte offset at which they happened.

use crate::error::DecodeError;

/// Appends `v` as an unsigned LEB128 varint (7 bits per byte, low group first).
#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Decodes a varint from `buf` starting at `*pos`, advancing `*pos`. Returns `None` on a
/// truncated or over-long (> 10 bytes / > u64) encoding. Used on trusted in-memory data where
/// the caller turns `None` into an internal-consistency failure.
#[inline]
pub fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// A bounds-checked cursor over untrusted bytes; errors report the absolute offset.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn err(&self, what: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos,
            what,
        }
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.err("truncated"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64()?))
    }

    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut p = self.pos;
        match get_varint(self.buf, &mut p) {
            Some(v) => {
                self.pos = p;
                Ok(v)
            }
            None => Err(DecodeError {
                offset: start,
                what: "bad varint",
            }),
        }
    }

    /// A varint that must fit in u32.
    pub fn varint_u32(&mut self) -> Result<u32, DecodeError> {
        let start = self.pos;
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| DecodeError {
            offset: start,
            what: "varint exceeds u32",
        })
    }

    /// A u32 length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let n = self.u32()? as usize;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| DecodeError {
            offset: start,
            what: "invalid utf-8",
        })
    }
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_f64(out: &mut Vec<u8>, v: f64) {
    put_u64(out, v.to_bits());
}

/// A u32 length-prefixed byte string. Lengths above u32::MAX cannot occur for the strings we
/// store (terms, field names), so truncating is a caller bug caught in debug builds.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    debug_assert!(u32::try_from(s.len()).is_ok());
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn varint_round_trip(v in any::<u64>()) {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut p = 0;
            prop_assert_eq!(get_varint(&b, &mut p), Some(v));
            prop_assert_eq!(p, b.len());
        }

        #[test]
        fn varint_never_panics(b in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut p = 0;
            let _ = get_varint(&b, &mut p);
            prop_assert!(p <= b.len());
        }
    }

    #[test]
    fn reader_reports_offsets() {
        let mut r = Reader::new(&[1, 0, 0]);
        assert_eq!(r.u16().unwrap(), 1);
        let e = r.u32().unwrap_err();
        assert_eq!(e.offset, 2);
        let mut r = Reader::new(&[0xff; 11]);
        assert_eq!(r.varint().unwrap_err().offset, 0);
    }
}
