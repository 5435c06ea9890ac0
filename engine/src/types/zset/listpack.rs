//! The small sorted-set encoding (OBJECT ENCODING `listpack`): one contiguous buffer of entries
//! sorted by (score, member), each `[score: f64 LE][member length: LEB128][member bytes]`.
//!
//! Invariants: entries are strictly increasing by (score, member bytes); `len` is the entry
//! count; the buffer is always well formed (built only here). Every operation is a linear scan,
//! which is what Redis does too and is fast for the <= 128 entries this encoding holds.

use std::cmp::Ordering;

/// A packed sorted set.
#[derive(Clone, Default, Debug)]
pub struct ZListpack {
    buf: Vec<u8>,
    len: usize,
}

/// One decoded entry and where it lives in the buffer.
#[derive(Clone, Copy)]
pub struct LpEntry<'a> {
    pub score: f64,
    pub member: &'a [u8],
    pub start: usize,
    pub end: usize,
}

fn read_entry(buf: &[u8], at: usize) -> Option<LpEntry<'_>> {
    let score = f64::from_le_bytes(buf.get(at..at + 8)?.try_into().ok()?);
    let mut len = 0usize;
    let mut shift = 0;
    let mut pos = at + 8;
    loop {
        let b = *buf.get(pos)?;
        pos += 1;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 35 {
            return None;
        }
    }
    let member = buf.get(pos..pos + len)?;
    Some(LpEntry {
        score,
        member,
        start: at,
        end: pos + len,
    })
}

fn encode_entry(score: f64, member: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&score.to_le_bytes());
    let mut n = member.len();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(member);
}

/// (score, member) order; scores are never NaN.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// Iterator over the entries in order.
pub struct LpIter<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for LpIter<'a> {
    type Item = LpEntry<'a>;

    fn next(&mut self) -> Option<LpEntry<'a>> {
        let e = read_entry(self.buf, self.at)?;
        self.at = e.end;
        Some(e)
    }
}

impl ZListpack {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries in ascending order.
    pub fn iter(&self) -> LpIter<'_> {
        LpIter {
            buf: &self.buf,
            at: 0,
        }
    }

    /// The entry of `member`, with its rank.
    pub fn find(&self, member: &[u8]) -> Option<(usize, LpEntry<'_>)> {
        self.iter().enumerate().find(|(_, e)| e.member == member)
    }

    /// Inserts an absent member at its sorted place.
    pub fn insert_new(&mut self, member: &[u8], score: f64) {
        // Redis keeps listpack scores as text, and -0 reads back from there as 0 (ZSCORE of
        // `ZADD z -0 m` answers "0" while the set is a listpack, "-0" once it is a skiplist).
        let score = if score == 0.0 { 0.0 } else { score };
        let at = self
            .iter()
            .find(|e| cmp_entry(e.score, e.member, score, member) == Ordering::Greater)
            .map_or(self.buf.len(), |e| e.start);
        let mut enc = Vec::with_capacity(8 + 5 + member.len());
        encode_entry(score, member, &mut enc);
        self.buf.reserve_exact(enc.len());
        self.buf.splice(at..at, enc);
        self.len += 1;
    }

    /// Removes `member`; returns its score if present.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (_, e) = self.find(member)?;
        let (score, start, end) = (e.score, e.start, e.end);
        self.buf.drain(start..end);
        self.len -= 1;
        if self.buf.capacity() > self.buf.len() * 2 + 64 {
            self.buf.shrink_to_fit();
        }
        Some(score)
    }

    /// Sets `member`'s score; returns the previous one if present.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        match self.find(member).map(|(_, e)| e.score) {
            Some(old) => {
                if old != score {
                    self.remove(member);
                    self.insert_new(member, score);
                }
                Some(old)
            }
            None => {
                self.insert_new(member, score);
                None
            }
        }
    }

    /// Heap bytes owned.
    pub fn mem_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Longest member (for conversions).
    pub fn max_member_len(&self) -> usize {
        self.iter().map(|e| e.member.len()).max().unwrap_or(0)
    }
}
