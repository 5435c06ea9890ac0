//! Read-only decoders of the pre-7.0 containers Redis still loads: the ziplist (`ziplist.c`,
//! RDB types 10/12/13/14) and the zipmap (`zipmap.c`, RDB type 9). Moon never writes them.
//!
//! Both decoders validate every bound and never panic on untrusted input.

use super::listpack::LpEntry;

/// The elements of a ziplist; `None` if it is malformed.
///
/// Layout: zlbytes u32 LE, zltail u32 LE, zllen u16 LE, entries (`prevlen`, encoding, data),
/// end byte 0xFF.
pub fn parse_ziplist(buf: &[u8]) -> Option<Vec<LpEntry<'_>>> {
    let total = u32::from_le_bytes(buf.get(0..4)?.try_into().ok()?) as usize;
    if total != buf.len() || total < 11 {
        return None;
    }
    let count = u16::from_le_bytes(buf.get(8..10)?.try_into().ok()?);
    let mut p = 10;
    let mut prev_len = 0usize;
    let mut out = Vec::new();
    loop {
        let start = p;
        let b = *buf.get(p)?;
        if b == 0xFF {
            if p + 1 != buf.len() {
                return None;
            }
            break;
        }
        // prevlen
        let stored_prev = if b < 254 {
            p += 1;
            usize::from(b)
        } else if b == 254 {
            let v = u32::from_le_bytes(buf.get(p + 1..p + 5)?.try_into().ok()?) as usize;
            p += 5;
            v
        } else {
            return None;
        };
        if stored_prev != prev_len {
            return None;
        }
        let e = *buf.get(p)?;
        let entry = match e >> 6 {
            0 => {
                let len = usize::from(e & 0x3F);
                p += 1;
                let s = buf.get(p..p.checked_add(len)?)?;
                p += len;
                LpEntry::Str(s)
            }
            1 => {
                let len = (usize::from(e & 0x3F) << 8) | usize::from(*buf.get(p + 1)?);
                p += 2;
                let s = buf.get(p..p.checked_add(len)?)?;
                p += len;
                LpEntry::Str(s)
            }
            2 => {
                if e != 0x80 {
                    return None;
                }
                let len = u32::from_be_bytes(buf.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                p += 5;
                let s = buf.get(p..p.checked_add(len)?)?;
                p += len;
                LpEntry::Str(s)
            }
            _ => {
                p += 1;
                let (v, n) = match e {
                    0xC0 => (
                        i64::from(i16::from_le_bytes(buf.get(p..p + 2)?.try_into().ok()?)),
                        2,
                    ),
                    0xD0 => (
                        i64::from(i32::from_le_bytes(buf.get(p..p + 4)?.try_into().ok()?)),
                        4,
                    ),
                    0xE0 => (i64::from_le_bytes(buf.get(p..p + 8)?.try_into().ok()?), 8),
                    0xF0 => {
                        let b3 = buf.get(p..p + 3)?;
                        let v = i32::from_le_bytes([0, b3[0], b3[1], b3[2]]) >> 8;
                        (i64::from(v), 3)
                    }
                    0xFE => (i64::from(*buf.get(p)? as i8), 1),
                    0xF1..=0xFD => (i64::from(e & 0x0F) - 1, 0),
                    _ => return None,
                };
                p += n;
                LpEntry::Int(v)
            }
        };
        out.push(entry);
        prev_len = p - start;
    }
    if count != u16::MAX && usize::from(count) != out.len() {
        return None;
    }
    Some(out)
}

/// The key/value pairs of a zipmap; `None` if it is malformed.
///
/// Layout: a count byte (254+ = unknown), then per pair `len key len free value <free bytes>`
/// where `len` is one byte (< 254) or 254 + u32 LE, and an end byte 0xFF.
pub fn parse_zipmap(buf: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    fn read_len(buf: &[u8], p: &mut usize) -> Option<usize> {
        let b = *buf.get(*p)?;
        match b {
            0..=253 => {
                *p += 1;
                Some(usize::from(b))
            }
            254 => {
                let v = u32::from_le_bytes(buf.get(*p + 1..*p + 5)?.try_into().ok()?);
                *p += 5;
                Some(v as usize)
            }
            _ => None,
        }
    }
    let count = *buf.first()?;
    let mut p = 1;
    let mut out = Vec::new();
    loop {
        if *buf.get(p)? == 0xFF {
            if p + 1 != buf.len() {
                return None;
            }
            break;
        }
        let klen = read_len(buf, &mut p)?;
        let key = buf.get(p..p.checked_add(klen)?)?;
        p += klen;
        let vlen = read_len(buf, &mut p)?;
        let free = usize::from(*buf.get(p)?);
        p += 1;
        let value = buf.get(p..p.checked_add(vlen)?)?;
        p = p.checked_add(vlen)?.checked_add(free)?;
        out.push((key, value));
    }
    if count < 254 && usize::from(count) != out.len() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_ziplist() {
        // ["a", 1, 300, "bb"] as Redis 6 writes it.
        let mut z = vec![0u8; 10];
        let entries: Vec<Vec<u8>> = vec![
            vec![0x00, 0x01, b'a'],
            vec![0x03, 0xF2],
            vec![0x02, 0xC0, 0x2C, 0x01],
            vec![0x04, 0x02, b'b', b'b'],
        ];
        for e in &entries {
            z.extend_from_slice(e);
        }
        z.push(0xFF);
        let total = z.len() as u32;
        z[0..4].copy_from_slice(&total.to_le_bytes());
        z[8..10].copy_from_slice(&4u16.to_le_bytes());
        assert_eq!(
            parse_ziplist(&z),
            Some(vec![
                LpEntry::Str(b"a"),
                LpEntry::Int(1),
                LpEntry::Int(300),
                LpEntry::Str(b"bb")
            ])
        );
        z[8] = 3;
        assert_eq!(parse_ziplist(&z), None);
    }

    #[test]
    fn parses_a_zipmap() {
        let z = b"\x02\x01a\x01\x00x\x02bb\x02\x01yy\x00\xff";
        assert_eq!(
            parse_zipmap(z),
            Some(vec![(&b"a"[..], &b"x"[..]), (&b"bb"[..], &b"yy"[..])])
        );
        assert_eq!(parse_zipmap(b"\x01\xff"), None);
        assert_eq!(parse_zipmap(b"\x01\x05ab"), None);
    }
}
