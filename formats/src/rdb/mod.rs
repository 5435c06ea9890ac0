//! Byte-level codecs of Redis's RDB object format, as used by DUMP/RESTORE payloads: length and
//! string encodings (integer, LZF), listpack, intset, the legacy ziplist/zipmap, CRC-64 and the
//! DUMP payload footer. Conversion to and from Moon's values lives in the engine
//! (`moon_engine::cmd::dump`); this module knows only bytes.
//!
//! A DUMP payload is `<object type byte><object encoding><rdb version u16 LE><crc64 u64 LE>`,
//! the CRC covering everything before it (`createDumpPayload` in Redis's cluster.c).
//!
//! Invariants: every decoder takes untrusted bytes, checks every bound and returns `None` /
//! `Err` instead of panicking; allocations are bounded by the input length (a length field
//! larger than the remaining input is rejected before anything is reserved).

pub mod crc64;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod ziplist;

pub use crc64::crc64;

/// The RDB version Moon writes in DUMP payloads (Redis 7.0's), so redis-server 7.0 accepts them.
pub const DUMP_RDB_VERSION: u16 = 10;
/// The newest RDB version RESTORE accepts (Redis 7.4's, which added hashes with field TTLs;
/// Moon writes it only for those, so 7.0 keeps accepting everything else Moon dumps).
pub const MAX_RDB_VERSION: u16 = 12;

/// RDB object type bytes (`rdb.h`).
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Quicklist node containers of `LIST_QUICKLIST_2`.
pub const QUICKLIST_NODE_PLAIN: u64 = 1;
/// A node holding a listpack.
pub const QUICKLIST_NODE_PACKED: u64 = 2;

/// Appends the version and CRC-64 footer to an object's bytes, making a DUMP payload.
pub fn seal_payload(mut object: Vec<u8>) -> Vec<u8> {
    object.extend_from_slice(&DUMP_RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &object);
    object.extend_from_slice(&crc.to_le_bytes());
    object
}

/// Checks a DUMP payload's footer (`verifyDumpPayload`): at least 10 bytes, a version Moon
/// reads, a matching CRC-64. Returns the object bytes before the footer.
pub fn open_payload(payload: &[u8]) -> Option<&[u8]> {
    let n = payload.len();
    if n < 10 {
        return None;
    }
    let footer = payload.get(n - 10..)?;
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > MAX_RDB_VERSION {
        return None;
    }
    let crc = u64::from_le_bytes(footer.get(2..10)?.try_into().ok()?);
    (crc64(0, payload.get(..n - 8)?) == crc).then(|| &payload[..n - 10])
}

/// A length field: a plain length, or the special string encodings (`RDB_ENC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// A length or count.
    Plain(u64),
    /// `11xxxxxx`: 0 int8, 1 int16, 2 int32, 3 LZF.
    Encoded(u8),
}

/// A cursor over an untrusted RDB object.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads `buf` from the start.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// True when every byte was consumed.
    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }

    /// A little-endian u64 (millisecond times, binary doubles' bits).
    pub fn u64_le(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    /// A big-endian u64 (raw stream IDs).
    pub fn u64_be(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.bytes(8)?.try_into().ok()?))
    }

    /// A length field (`rdbLoadLenByRef`).
    pub fn len_field(&mut self) -> Option<Len> {
        let b = self.u8()?;
        Some(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3F)),
            1 => Len::Plain((u64::from(b & 0x3F) << 8) | u64::from(self.u8()?)),
            2 => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(
                    self.bytes(4)?.try_into().ok()?,
                ))),
                0x81 => Len::Plain(self.u64_be()?),
                _ => return None,
            },
            _ => Len::Encoded(b & 0x3F),
        })
    }

    /// A plain length (an encoded one is malformed here).
    pub fn length(&mut self) -> Option<u64> {
        match self.len_field()? {
            Len::Plain(n) => Some(n),
            Len::Encoded(_) => None,
        }
    }

    /// A count of items that each take at least `min_item_bytes` bytes: rejected when the
    /// input cannot hold that many, so callers may reserve capacity safely.
    pub fn count(&mut self, min_item_bytes: usize) -> Option<usize> {
        let n = usize::try_from(self.length()?).ok()?;
        (n.checked_mul(min_item_bytes.max(1))? <= self.remaining()).then_some(n)
    }

    /// A string object (`rdbGenericLoadStringObject`): raw, integer-encoded or LZF.
    pub fn string(&mut self) -> Option<Vec<u8>> {
        match self.len_field()? {
            Len::Plain(n) => Some(self.bytes(usize::try_from(n).ok()?)?.to_vec()),
            Len::Encoded(0) => Some((self.u8()? as i8).to_string().into_bytes()),
            Len::Encoded(1) => Some(
                i16::from_le_bytes(self.bytes(2)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            Len::Encoded(2) => Some(
                i32::from_le_bytes(self.bytes(4)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            Len::Encoded(3) => {
                let clen = usize::try_from(self.length()?).ok()?;
                let len = usize::try_from(self.length()?).ok()?;
                let data = self.bytes(clen)?;
                // LZF expands at most ~ 264/2 per 2 input bytes; reject impossible lengths
                // before decompressing so a forged length cannot force a huge allocation.
                if len == 0 || len > clen.saturating_mul(132).saturating_add(32) {
                    return None;
                }
                lzf::decompress(data, len)
            }
            Len::Encoded(_) => None,
        }
    }

    /// A binary double (`rdbLoadBinaryDoubleValue`: 8 bytes LE).
    pub fn binary_double(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64_le()?))
    }

    /// An ASCII double (`rdbLoadDoubleValue`: a length byte, 253 NaN, 254 +inf, 255 -inf).
    pub fn ascii_double(&mut self) -> Option<f64> {
        match self.u8()? {
            253 => Some(f64::NAN),
            254 => Some(f64::INFINITY),
            255 => Some(f64::NEG_INFINITY),
            n => std::str::from_utf8(self.bytes(usize::from(n))?)
                .ok()?
                .parse()
                .ok(),
        }
    }
}

/// Appends RDB encodings to a buffer.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    /// The bytes written so far.
    pub buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// One byte (an object type).
    pub fn u8(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// Raw bytes.
    pub fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// A length (`rdbSaveLen`).
    pub fn len(&mut self, n: u64) {
        if n < 1 << 6 {
            self.buf.push(n as u8);
        } else if n < 1 << 14 {
            self.buf.push(0x40 | (n >> 8) as u8);
            self.buf.push((n & 0xFF) as u8);
        } else if let Ok(n32) = u32::try_from(n) {
            self.buf.push(0x80);
            self.buf.extend_from_slice(&n32.to_be_bytes());
        } else {
            self.buf.push(0x81);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// A string (`rdbSaveRawString`): integer encoding for short canonical integers that fit
    /// in 32 bits, LZF for strings over 20 bytes when that saves at least 4 bytes, else raw.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11
            && let Some(v) = listpack::canonical_i64(s)
            && self.try_int(v)
        {
            return;
        }
        if s.len() > 20
            && let Some(c) = lzf::compress(s, s.len() - 4)
        {
            self.buf.push(0xC3);
            self.len(c.len() as u64);
            self.len(s.len() as u64);
            self.buf.extend_from_slice(&c);
            return;
        }
        self.len(s.len() as u64);
        self.buf.extend_from_slice(s);
    }

    /// An integer as a string object (`rdbSaveLongLongAsStringObject`).
    pub fn int_string(&mut self, v: i64) {
        if !self.try_int(v) {
            let s = v.to_string();
            self.len(s.len() as u64);
            self.buf.extend_from_slice(s.as_bytes());
        }
    }

    fn try_int(&mut self, v: i64) -> bool {
        if let Ok(b) = i8::try_from(v) {
            self.buf.extend_from_slice(&[0xC0, b as u8]);
        } else if let Ok(h) = i16::try_from(v) {
            self.buf.push(0xC1);
            self.buf.extend_from_slice(&h.to_le_bytes());
        } else if let Ok(w) = i32::try_from(v) {
            self.buf.push(0xC2);
            self.buf.extend_from_slice(&w.to_le_bytes());
        } else {
            return false;
        }
        true
    }

    /// A binary double (8 bytes LE).
    pub fn binary_double(&mut self, d: f64) {
        self.buf.extend_from_slice(&d.to_bits().to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_a_redis_payload() {
        // redis-server 7.0.15: DUMP of SET s hello.
        let p = b"\x00\x05hello\n\x00cr\xdfve4 \n";
        let object = open_payload(p).unwrap_or_default();
        assert_eq!(object, b"\x00\x05hello");
        assert_eq!(seal_payload(object.to_vec()), p.to_vec());
        let mut bad = p.to_vec();
        bad[3] ^= 1;
        assert_eq!(open_payload(&bad), None);
        let mut newer = p[..p.len() - 10].to_vec();
        newer.extend_from_slice(&13u16.to_le_bytes());
        let crc = crc64(0, &newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(open_payload(&newer), None);
    }

    #[test]
    fn lengths_round_trip() {
        for n in [
            0u64,
            63,
            64,
            16383,
            16384,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
        ] {
            let mut w = Writer::new();
            w.len(n);
            let mut r = Reader::new(&w.buf);
            assert_eq!(r.length(), Some(n));
            assert!(r.at_end());
        }
    }

    #[test]
    fn strings_round_trip_in_every_encoding() {
        let long = vec![b'q'; 100];
        let cases: Vec<(&[u8], u8)> = vec![
            (b"12", 0xC0),
            (b"-300", 0xC1),
            (b"100000", 0xC2),
            (b"12345678901", 11),
            (b"007", 3),
            (&long, 0xC3),
        ];
        for (s, first) in cases {
            let mut w = Writer::new();
            w.string(s);
            assert_eq!(w.buf[0], first, "{s:?}");
            let mut r = Reader::new(&w.buf);
            assert_eq!(r.string().as_deref(), Some(s));
            assert!(r.at_end());
        }
    }

    #[test]
    fn rejects_truncated_and_forged_lengths() {
        assert_eq!(Reader::new(b"\x05abc").string(), None);
        assert_eq!(Reader::new(b"\xc3\x01\x7f\xff").string(), None);
        assert_eq!(
            Reader::new(b"\x81\xff\xff\xff\xff\xff\xff\xff\xff").count(1),
            None
        );
        assert_eq!(Reader::new(b"\xc5").string(), None);
    }
}
