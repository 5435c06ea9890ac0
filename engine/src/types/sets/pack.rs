//! The `listpack` encoding: members in insertion order in one contiguous buffer, each record a
//! LEB128 length followed by the member's bytes. No per-member allocation; every operation is a
//! linear walk, which is what Redis does too and is cheap at the sizes this encoding is used
//! for (`set-max-listpack-entries`, 128 by default).
//!
//! Invariants: `buf` is a well-formed sequence of exactly `len` records with distinct members
//! (built only here; decoding is bounds-checked anyway and stops at the first malformed byte).

/// A small set as a packed list of records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Pack {
    buf: Vec<u8>,
    len: u32,
}

/// Writes `n` as LEB128.
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Bytes LEB128 takes for `n`.
fn len_len(n: usize) -> usize {
    let mut k = 1;
    let mut n = n >> 7;
    while n > 0 {
        k += 1;
        n >>= 7;
    }
    k
}

/// The record at `at`: (member, offset just past it), or `None` at the end / on a malformed
/// record.
pub(super) fn record(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let mut n = 0usize;
    let mut shift = 0u32;
    let mut i = at;
    loop {
        let b = *buf.get(i)?;
        i += 1;
        n |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift >= usize::BITS {
            return None;
        }
    }
    let end = i.checked_add(n)?;
    Some((buf.get(i..end)?, end))
}

/// Appends one record for `member` to `out`.
pub(super) fn put_record(out: &mut Vec<u8>, member: &[u8]) {
    put_len(out, member.len());
    out.extend_from_slice(member);
}

/// Size of the record for `member`.
pub(super) fn record_len(member: &[u8]) -> usize {
    len_len(member.len()) + member.len()
}

/// Iterator over the records of a buffer.
pub(super) struct Records<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (m, next) = record(self.buf, self.at)?;
        self.at = next;
        Some(m)
    }
}

impl Pack {
    /// An empty pack with room for `bytes` bytes of records.
    pub fn with_capacity(bytes: usize) -> Pack {
        Pack {
            buf: Vec::with_capacity(bytes),
            len: 0,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Every member, in insertion order.
    pub fn iter(&self) -> Records<'_> {
        Records {
            buf: &self.buf,
            at: 0,
        }
    }

    /// Byte range `(start, end)` of the record holding `member`.
    fn find(&self, member: &[u8]) -> Option<(usize, usize)> {
        let mut at = 0;
        while let Some((m, next)) = record(&self.buf, at) {
            if m == member {
                return Some((at, next));
            }
            at = next;
        }
        None
    }

    /// True if `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Appends `member`, which the caller knows is absent. The buffer grows by exactly one
    /// record: a listpack stays exactly sized, as Redis's does.
    pub fn push_new(&mut self, member: &[u8]) {
        debug_assert!(!self.contains(member));
        self.buf.reserve_exact(record_len(member));
        put_record(&mut self.buf, member);
        self.len += 1;
    }

    /// Appends `member` without reserving exactly (bulk building; call `shrink` after).
    pub fn push_bulk(&mut self, member: &[u8]) {
        put_record(&mut self.buf, member);
        self.len += 1;
    }

    /// Removes `member`; false if absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some((start, end)) => {
                self.buf.drain(start..end);
                self.len -= 1;
                true
            }
            None => false,
        }
    }

    /// The `i`-th member (insertion order) and its byte range.
    fn nth_range(&self, i: usize) -> Option<(usize, usize)> {
        let mut at = 0;
        for _ in 0..i {
            at = record(&self.buf, at)?.1;
        }
        let (_, end) = record(&self.buf, at)?;
        Some((at, end))
    }

    /// The `i`-th member.
    pub fn nth(&self, i: usize) -> Option<&[u8]> {
        let (start, _) = self.nth_range(i)?;
        record(&self.buf, start).map(|(m, _)| m)
    }

    /// Removes and returns the `i`-th member.
    pub fn remove_nth(&mut self, i: usize) -> Option<Vec<u8>> {
        let (start, end) = self.nth_range(i)?;
        let member = record(&self.buf, start)?.0.to_vec();
        self.buf.drain(start..end);
        self.len -= 1;
        Some(member)
    }

    /// Keeps only the members for which `keep` answers true (one pass, one compaction).
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) {
        let mut out = Vec::with_capacity(self.buf.len());
        let mut n = 0u32;
        for (i, m) in self.iter().enumerate() {
            if keep(i, m) {
                put_record(&mut out, m);
                n += 1;
            }
        }
        out.shrink_to_fit();
        self.buf = out;
        self.len = n;
    }

    /// Heap bytes owned.
    pub fn mem_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Frees spare capacity.
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_including_long_members() {
        let long = vec![b'x'; 300];
        let mut p = Pack::default();
        p.push_new(b"a");
        p.push_new(b"");
        p.push_new(&long);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![&b"a"[..], b"", &long[..]]
        );
        assert!(p.contains(b"") && p.contains(&long) && !p.contains(b"b"));
        assert_eq!(p.nth(2), Some(&long[..]));
        assert_eq!(p.nth(3), None);
        assert!(p.remove(b""));
        assert!(!p.remove(b""));
        assert_eq!(p.remove_nth(0), Some(b"a".to_vec()));
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![&long[..]]);
        assert_eq!(record_len(&long), 302);
        p.retain(|_, _| false);
        assert_eq!((p.len(), p.iter().count()), (0, 0));
    }

    #[test]
    fn malformed_records_stop_iteration() {
        assert_eq!(record(&[0x80, 0x80], 0), None);
        assert_eq!(record(&[5, b'a'], 0), None);
        assert_eq!(record(&[0xff; 12], 0), None);
        assert_eq!(record(&[1, b'z'], 0), Some((&b"z"[..], 2)));
    }
}
