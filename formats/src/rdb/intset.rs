//! Redis's intset byte layout (`intset.c`): encoding u32 LE (2, 4 or 8 bytes per member),
//! length u32 LE, then the members sorted ascending, little-endian.
//!
//! [`parse`] accepts only a well-formed, strictly increasing intset (so no duplicates reach a
//! set) and never panics; [`build`] writes the smallest encoding, as Redis does.

/// The members of `buf`; `None` if it is not a valid intset.
pub fn parse(buf: &[u8]) -> Option<Vec<i64>> {
    let width = u32::from_le_bytes(buf.get(0..4)?.try_into().ok()?) as usize;
    let len = u32::from_le_bytes(buf.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || buf.len() != 8 + len.checked_mul(width)? {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    for chunk in buf.get(8..)?.chunks_exact(width) {
        let v = match width {
            2 => i64::from(i16::from_le_bytes(chunk.try_into().ok()?)),
            4 => i64::from(i32::from_le_bytes(chunk.try_into().ok()?)),
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        if out.last().is_some_and(|&last| last >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

/// The intset holding `members` (sorted and deduplicated here).
pub fn build(members: &[i64]) -> Vec<u8> {
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let width: usize = if sorted.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if sorted.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_widths() {
        for members in [
            vec![1i64, 2, 3],
            vec![-5, 70000],
            vec![i64::MIN, 0, i64::MAX],
        ] {
            assert_eq!(parse(&build(&members)), Some(members.clone()));
        }
        assert_eq!(build(&[1, 2])[0], 2);
        assert_eq!(build(&[1, 40000])[0], 4);
        assert_eq!(build(&[1, 1 << 40])[0], 8);
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(
            parse(b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00"),
            None
        );
        assert_eq!(parse(b"\x03\x00\x00\x00\x00\x00\x00\x00"), None);
        assert_eq!(parse(b"\x02\x00\x00\x00\x01\x00\x00\x00\x01"), None);
        assert_eq!(parse(b"\x02\x00\x00\x00\x00\x00\x00\x00"), Some(vec![]));
    }
}
