//! One listpack: a contiguous byte buffer of list elements in Redis's listpack entry format
//! (`encoding+data` then `backlen`), used both as a whole small list (`listpack` encoding) and
//! as one node of a quicklist.
//!
//! Invariants:
//! - `buf[head..]` holds exactly `count` well-formed entries, back to back; `buf[..head]` is a
//!   free gap (so a push at the front is O(1) amortized, like the spare capacity at the back).
//! - Every element is encoded canonically (a string that is a canonical i64, Redis's
//!   `string2ll`, is stored as an integer; every other string as bytes), so two equal elements
//!   always have identical encodings and comparison is a byte compare of the encoded forms.
//! - Entry sizes are exactly those of Redis's listpack, so [`Pack::lp_bytes`] equals Redis's
//!   `lpBytes` and the encoding-conversion thresholds fire at exactly the same element.

use bytes::Bytes;

use crate::keyspace::entry::parse_canonical_i64;

/// Bytes of a listpack's header (total bytes u32 + element count u16) plus its end marker.
pub const LP_OVERHEAD: usize = 7;

/// A decoded element, borrowed from its listpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    /// An integer entry (the element was the canonical decimal form of this i64).
    Int(i64),
    /// A string entry.
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// Appends the element's string form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match *self {
            Elem::Str(s) => out.extend_from_slice(s),
            Elem::Int(v) => push_i64(out, v),
        }
    }

    /// The element's string form as an owned `Bytes`.
    pub fn to_bytes(&self) -> Bytes {
        match *self {
            Elem::Str(s) => Bytes::copy_from_slice(s),
            Elem::Int(v) => {
                let mut out = Vec::with_capacity(20);
                push_i64(&mut out, v);
                Bytes::from(out)
            }
        }
    }

    /// The element's string form as a vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

/// Decimal form of `v` appended to `out` (no allocation beyond `out`'s growth).
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

/// An element encoded as a listpack entry, on the stack (the string payload is borrowed).
pub struct Encoded<'a> {
    hdr: [u8; 9],
    hdr_len: u8,
    payload: &'a [u8],
    back: [u8; 5],
    back_len: u8,
}

impl<'a> Encoded<'a> {
    /// Encodes `s` canonically (integers as listpack integers).
    pub fn new(s: &'a [u8]) -> Encoded<'a> {
        let mut hdr = [0u8; 9];
        let (hdr_len, payload): (usize, &[u8]) = match parse_canonical_i64(s) {
            Some(v) => (encode_int(v, &mut hdr), &[]),
            None => {
                let len = s.len();
                if len < 64 {
                    hdr[0] = 0x80 | len as u8;
                    (1, s)
                } else if len < 4096 {
                    hdr[0] = 0xE0 | (len >> 8) as u8;
                    hdr[1] = (len & 0xff) as u8;
                    (2, s)
                } else {
                    hdr[0] = 0xF0;
                    let l32 = u32::try_from(len).unwrap_or(u32::MAX);
                    hdr[1..5].copy_from_slice(&l32.to_le_bytes());
                    (5, s)
                }
            }
        };
        let mut back = [0u8; 5];
        let back_len = encode_backlen(hdr_len + payload.len(), &mut back);
        Encoded {
            hdr,
            hdr_len: hdr_len as u8,
            payload,
            back,
            back_len: back_len as u8,
        }
    }

    /// Length of the `encoding+data` part (what a backlen counts).
    fn body_len(&self) -> usize {
        usize::from(self.hdr_len) + self.payload.len()
    }

    /// Total bytes of the entry.
    pub fn len(&self) -> usize {
        self.body_len() + usize::from(self.back_len)
    }

    /// True for a zero-length entry (never: every entry has a header).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the entry into `dst`, which must be exactly `self.len()` bytes.
    fn write(&self, dst: &mut [u8]) {
        debug_assert_eq!(dst.len(), self.len());
        let h = usize::from(self.hdr_len);
        let p = self.payload.len();
        dst[..h].copy_from_slice(&self.hdr[..h]);
        dst[h..h + p].copy_from_slice(self.payload);
        dst[h + p..].copy_from_slice(&self.back[..usize::from(self.back_len)]);
    }

    /// True if the entry whose `encoding+data` bytes are `body` encodes the same element.
    fn same_as(&self, body: &[u8]) -> bool {
        let h = usize::from(self.hdr_len);
        body.len() == self.body_len()
            && body.get(..h) == self.hdr.get(..h)
            && body.get(h..) == Some(self.payload)
    }
}

/// Writes the smallest listpack integer encoding of `v` into `hdr`; returns its length.
fn encode_int(v: i64, hdr: &mut [u8; 9]) -> usize {
    if (0..=127).contains(&v) {
        hdr[0] = v as u8;
        1
    } else if (-4096..=4095).contains(&v) {
        let uv = (v as u16) & 0x1fff;
        hdr[0] = 0xC0 | (uv >> 8) as u8;
        hdr[1] = (uv & 0xff) as u8;
        2
    } else if i16::try_from(v).is_ok() {
        hdr[0] = 0xF1;
        hdr[1..3].copy_from_slice(&(v as i16).to_le_bytes());
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        hdr[0] = 0xF2;
        hdr[1..4].copy_from_slice(&(v as i32).to_le_bytes()[..3]);
        4
    } else if i32::try_from(v).is_ok() {
        hdr[0] = 0xF3;
        hdr[1..5].copy_from_slice(&(v as i32).to_le_bytes());
        5
    } else {
        hdr[0] = 0xF4;
        hdr[1..9].copy_from_slice(&v.to_le_bytes());
        9
    }
}

/// Size of the backlen field that follows an entry body of `l` bytes (`lpEncodeBacklen`).
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16_383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// Writes the backlen of body length `l` (Redis's byte layout); returns its size.
fn encode_backlen(l: usize, out: &mut [u8; 5]) -> usize {
    let n = backlen_size(l);
    // Most significant group first, without the continuation bit; every later byte has it.
    for (i, slot) in out.iter_mut().take(n).enumerate() {
        let shift = 7 * (n - 1 - i);
        let group = ((l >> shift) & 127) as u8;
        *slot = if i == 0 { group } else { group | 128 };
    }
    n
}

/// Length of the entry body (`encoding+data`) starting at `data[pos]`.
fn body_len_at(data: &[u8], pos: usize) -> usize {
    let b = data.get(pos).copied().unwrap_or(0);
    let byte = |i: usize| usize::from(data.get(pos + i).copied().unwrap_or(0));
    if b & 0x80 == 0 {
        1
    } else if b & 0xC0 == 0x80 {
        1 + usize::from(b & 0x3f)
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        2 + ((usize::from(b & 0x0f) << 8) | byte(1))
    } else {
        match b {
            0xF0 => 5 + (byte(1) | byte(2) << 8 | byte(3) << 16 | byte(4) << 24),
            0xF1 => 3,
            0xF2 => 4,
            0xF3 => 5,
            _ => 9,
        }
    }
}

/// Total length (body + backlen) of the entry at `data[pos]`.
#[inline]
fn entry_len_at(data: &[u8], pos: usize) -> usize {
    let l = body_len_at(data, pos);
    l + backlen_size(l)
}

/// Start of the entry that ends at `end` (exclusive), read through its backlen.
#[inline]
fn prev_start(data: &[u8], end: usize) -> usize {
    let mut l = 0usize;
    let mut shift = 0;
    let mut i = end;
    let mut used = 0;
    while i > 0 && used < 5 {
        i -= 1;
        used += 1;
        let b = data.get(i).copied().unwrap_or(0);
        l |= usize::from(b & 127) << shift;
        if b & 128 == 0 {
            break;
        }
        shift += 7;
    }
    end.saturating_sub(used + l)
}

/// Decodes the entry at `data[pos]`; returns the element and the entry's total length.
fn decode(data: &[u8], pos: usize) -> (Elem<'_>, usize) {
    let b = data.get(pos).copied().unwrap_or(0);
    let le = |n: usize| -> u64 {
        let mut v = 0u64;
        for i in 0..n {
            v |= u64::from(data.get(pos + 1 + i).copied().unwrap_or(0)) << (8 * i);
        }
        v
    };
    let body = body_len_at(data, pos);
    let total = body + backlen_size(body);
    let elem = if b & 0x80 == 0 {
        Elem::Int(i64::from(b))
    } else if b & 0xC0 == 0x80 || b & 0xF0 == 0xE0 || b == 0xF0 {
        let hdr = if b & 0xC0 == 0x80 {
            1
        } else if b == 0xF0 {
            5
        } else {
            2
        };
        Elem::Str(data.get(pos + hdr..pos + body).unwrap_or(&[]))
    } else if b & 0xE0 == 0xC0 {
        let uv = (i64::from(b & 0x1f) << 8) | i64::from(data.get(pos + 1).copied().unwrap_or(0));
        Elem::Int(if uv >= 1 << 12 { uv - (1 << 13) } else { uv })
    } else {
        Elem::Int(match b {
            0xF1 => i64::from(le(2) as u16 as i16),
            0xF2 => i64::from(((le(3) as u32) << 8) as i32 >> 8),
            0xF3 => i64::from(le(4) as u32 as i32),
            _ => le(8) as i64,
        })
    };
    (elem, total)
}

/// A listpack. See the module docs for the layout and invariants.
#[derive(Clone, Default)]
pub struct Pack {
    buf: Vec<u8>,
    head: u32,
    count: u32,
}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Pack {
    fn eq(&self, other: &Pack) -> bool {
        self.count == other.count && self.data() == other.data()
    }
}

impl Eq for Pack {}

impl Pack {
    /// An empty listpack (no allocation).
    pub fn new() -> Pack {
        Pack::default()
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True if there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries.
    #[inline]
    fn data(&self) -> &[u8] {
        self.buf.get(self.head as usize..).unwrap_or(&[])
    }

    /// Bytes of the entries.
    #[inline]
    fn data_len(&self) -> usize {
        self.buf.len() - self.head as usize
    }

    /// Redis's `lpBytes` for the same elements.
    #[inline]
    pub fn lp_bytes(&self) -> usize {
        self.data_len() + LP_OVERHEAD
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Moves the entries into a new buffer with `front` free bytes before and room for `back`
    /// more after them.
    fn relayout(&mut self, front: usize, back: usize) {
        let data_len = self.data_len();
        let mut fresh = Vec::with_capacity(front + data_len + back);
        fresh.resize(front, 0);
        fresh.extend_from_slice(self.data());
        self.buf = fresh;
        self.head = u32::try_from(front).unwrap_or(u32::MAX);
    }

    /// Makes room for `n` more bytes after the entries (amortized growth).
    fn room_back(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() >= n {
            return;
        }
        let d = self.data_len();
        // Keep a bounded front gap so LPUSH/RPUSH mixes stay amortized O(1) while popped
        // space at the front does not accumulate forever.
        let front = (self.head as usize).min(d / 2 + 16);
        self.relayout(front, n + (d / 2).max(16));
    }

    /// Makes room for `n` more bytes before the entries (amortized growth).
    fn room_front(&mut self, n: usize) {
        if self.head as usize >= n {
            return;
        }
        let d = self.data_len();
        let back = (self.buf.capacity() - self.buf.len()).min(d / 2 + 16);
        self.relayout(n + (d / 2).max(16), back);
    }

    /// Gives memory back after large removals (keeps the buffer within ~4x its contents).
    fn maybe_shrink(&mut self) {
        let d = self.data_len();
        if self.buf.capacity() > 4 * (d + 16) {
            let front = (self.head as usize).min(d / 4);
            let back = (self.buf.capacity() - self.buf.len()).min(d / 4);
            self.relayout(front, back);
        }
    }

    /// Drops every spare byte (a quicklist node that is no longer written at its ends).
    pub fn shrink_to_fit(&mut self) {
        if self.buf.capacity() > self.data_len() {
            self.relayout(0, 0);
        }
    }

    /// Appends one element.
    pub fn push_back(&mut self, s: &[u8]) {
        let enc = Encoded::new(s);
        let n = enc.len();
        self.room_back(n);
        let at = self.buf.len();
        self.buf.resize(at + n, 0);
        enc.write(&mut self.buf[at..]);
        self.count += 1;
    }

    /// Prepends one element.
    pub fn push_front(&mut self, s: &[u8]) {
        let enc = Encoded::new(s);
        let n = enc.len();
        self.room_front(n);
        let at = self.head as usize - n;
        enc.write(&mut self.buf[at..at + n]);
        self.head = at as u32;
        self.count += 1;
    }

    /// The first element.
    pub fn front(&self) -> Option<Elem<'_>> {
        (self.count > 0).then(|| decode(self.data(), 0).0)
    }

    /// The last element.
    pub fn back(&self) -> Option<Elem<'_>> {
        if self.count == 0 {
            return None;
        }
        let data = self.data();
        Some(decode(data, prev_start(data, data.len())).0)
    }

    /// Removes the first element (no-op when empty).
    pub fn remove_front(&mut self) {
        if self.count == 0 {
            return;
        }
        let n = entry_len_at(self.data(), 0);
        debug_assert!(n <= self.data_len(), "entry overruns the listpack");
        self.head += n as u32;
        self.count -= 1;
        debug_assert_eq!(self.count == 0, self.data_len() == 0);
        self.maybe_shrink();
    }

    /// Removes the last element (no-op when empty).
    pub fn remove_back(&mut self) {
        if self.count == 0 {
            return;
        }
        let data = self.data();
        let start = prev_start(data, data.len());
        self.buf.truncate(self.head as usize + start);
        self.count -= 1;
        debug_assert_eq!(self.count == 0, self.data_len() == 0);
        self.maybe_shrink();
    }

    /// Byte offset (within the entries) of element `index` (`index <= len`; `len` gives the
    /// end). Walks from the nearer end, as `lpSeek`.
    pub fn offset_of(&self, index: usize) -> usize {
        let data = self.data();
        let count = self.len();
        if index >= count {
            return data.len();
        }
        if index <= count / 2 {
            let mut pos = 0;
            for _ in 0..index {
                pos += entry_len_at(data, pos);
            }
            pos
        } else {
            let mut pos = data.len();
            for _ in index..count {
                pos = prev_start(data, pos);
            }
            pos
        }
    }

    /// Element `index` (0-based from the front).
    pub fn get(&self, index: usize) -> Option<Elem<'_>> {
        (index < self.len()).then(|| decode(self.data(), self.offset_of(index)).0)
    }

    /// The element at byte offset `off` and its entry length.
    pub fn elem_at(&self, off: usize) -> (Elem<'_>, usize) {
        decode(self.data(), off)
    }

    /// True if the entry at byte offset `off` encodes the same element as `needle`.
    pub fn matches_at(&self, off: usize, needle: &Encoded<'_>) -> bool {
        let data = self.data();
        let body = body_len_at(data, off);
        data.get(off..off + body)
            .is_some_and(|body| needle.same_as(body))
    }

    /// Inserts `s` at byte offset `off` (an entry boundary; the data length appends).
    pub fn insert_at(&mut self, off: usize, s: &[u8]) {
        let enc = Encoded::new(s);
        let n = enc.len();
        let d = self.data_len();
        debug_assert!(off <= d);
        if off <= d / 2 {
            // Move the shorter front part left into the gap.
            self.room_front(n);
            let head = self.head as usize;
            self.buf.copy_within(head..head + off, head - n);
            self.head = (head - n) as u32;
            let at = head - n + off;
            enc.write(&mut self.buf[at..at + n]);
        } else {
            self.room_back(n);
            let at = self.head as usize + off;
            let old_len = self.buf.len();
            self.buf.resize(old_len + n, 0);
            self.buf.copy_within(at..old_len, at + n);
            enc.write(&mut self.buf[at..at + n]);
        }
        self.count += 1;
    }

    /// Replaces the element at byte offset `off` with `s`.
    pub fn replace_at(&mut self, off: usize, s: &[u8]) {
        let enc = Encoded::new(s);
        let n = enc.len();
        let old = entry_len_at(self.data(), off);
        if n > old {
            self.room_back(n - old);
        }
        let at = self.head as usize + off;
        let old_len = self.buf.len();
        if n > old {
            self.buf.resize(old_len + n - old, 0);
            self.buf.copy_within(at + old..old_len, at + n);
        } else if n < old {
            self.buf.copy_within(at + old..old_len, at + n);
            self.buf.truncate(old_len - (old - n));
        }
        enc.write(&mut self.buf[at..at + n]);
    }

    /// Deletes the bytes `[from, to)` of the entries, which hold `removed` whole entries.
    fn cut(&mut self, from: usize, to: usize, removed: usize) {
        let d = self.data_len();
        let head = self.head as usize;
        let gone = to - from;
        if from < d - to {
            // Shift the shorter front part right.
            self.buf.copy_within(head..head + from, head + gone);
            self.head = (head + gone) as u32;
        } else {
            self.buf.copy_within(head + to..head + d, head + from);
            self.buf.truncate(head + d - gone);
        }
        self.count -= removed as u32;
        self.maybe_shrink();
    }

    /// Deletes the entry at byte offset `off`.
    pub fn delete_at(&mut self, off: usize) {
        let n = entry_len_at(self.data(), off);
        self.cut(off, off + n, 1);
    }

    /// Deletes `n` elements starting at element `start` (clamped to the list).
    pub fn delete_range(&mut self, start: usize, n: usize) {
        let count = self.len();
        if start >= count || n == 0 {
            return;
        }
        let n = n.min(count - start);
        if n == count {
            self.clear();
            return;
        }
        let from = self.offset_of(start);
        let data = self.data();
        let mut to = from;
        for _ in 0..n {
            to += entry_len_at(data, to);
        }
        self.cut(from, to, n);
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        self.buf = Vec::new();
        self.head = 0;
        self.count = 0;
    }

    /// Removes up to `limit` elements equal to `needle` (0 = all), scanning from the front or
    /// from the back; returns how many it removed.
    pub fn remove_matching(
        &mut self,
        needle: &Encoded<'_>,
        limit: usize,
        from_back: bool,
    ) -> usize {
        let data = self.data();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let n = entry_len_at(data, pos);
            if self.matches_at(pos, needle) {
                spans.push((pos, pos + n));
            }
            pos += n;
        }
        if limit != 0 && spans.len() > limit {
            if from_back {
                spans.drain(..spans.len() - limit);
            } else {
                spans.truncate(limit);
            }
        }
        if spans.is_empty() {
            return 0;
        }
        let removed = spans.len();
        if removed == self.len() {
            self.clear();
            return removed;
        }
        // Compact in one pass: slide every kept run left over the removed spans.
        let head = self.head as usize;
        let mut write = spans[0].0;
        for (i, &(_, end)) in spans.iter().enumerate() {
            let next = spans.get(i + 1).map_or(self.data_len(), |s| s.0);
            self.buf.copy_within(head + end..head + next, head + write);
            write += next - end;
        }
        self.buf.truncate(head + write);
        self.count -= removed as u32;
        self.maybe_shrink();
        removed
    }

    /// Splits off the elements from `index` on into a new listpack; `self` keeps `[0, index)`.
    pub fn split_off(&mut self, index: usize) -> Pack {
        let off = self.offset_of(index);
        let moved = self.len() - index.min(self.len());
        let mut tail = Pack::new();
        if moved > 0 {
            tail.buf = self.data().get(off..).unwrap_or(&[]).to_vec();
            tail.count = moved as u32;
            self.buf.truncate(self.head as usize + off);
            self.count -= moved as u32;
        }
        tail
    }

    /// Appends every element of `other` (merging two quicklist nodes).
    pub fn append(&mut self, other: &Pack) {
        let n = other.data_len();
        self.room_back(n);
        self.buf.extend_from_slice(other.data());
        self.count += other.count;
    }

    /// Forward iterator over the elements from byte offset `off`.
    pub fn iter_from(&self, off: usize) -> PackIter<'_> {
        PackIter {
            data: self.data(),
            pos: off,
        }
    }

    /// Forward iterator over every element.
    pub fn iter(&self) -> PackIter<'_> {
        self.iter_from(0)
    }

    /// Backward iterator over the elements that end at byte offset `end` or before.
    pub fn iter_rev_to(&self, end: usize) -> PackRevIter<'_> {
        PackRevIter {
            data: self.data(),
            end,
        }
    }

    /// Backward iterator over every element.
    pub fn iter_rev(&self) -> PackRevIter<'_> {
        self.iter_rev_to(self.data_len())
    }

    /// Byte offset just past the element at byte offset `off`.
    pub fn next_offset(&self, off: usize) -> usize {
        off + entry_len_at(self.data(), off)
    }
}

/// Forward iterator over a listpack's elements.
#[derive(Clone)]
pub struct PackIter<'a> {
    data: &'a [u8],
    pos: usize,
}

impl PackIter<'static> {
    /// An iterator over nothing.
    pub fn empty() -> PackIter<'static> {
        PackIter { data: &[], pos: 0 }
    }
}

impl<'a> Iterator for PackIter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        if self.pos >= self.data.len() {
            return None;
        }
        let (e, n) = decode(self.data, self.pos);
        self.pos += n;
        Some(e)
    }
}

/// Backward iterator over a listpack's elements.
#[derive(Clone)]
pub struct PackRevIter<'a> {
    data: &'a [u8],
    end: usize,
}

impl PackRevIter<'static> {
    /// An iterator over nothing.
    pub fn empty() -> PackRevIter<'static> {
        PackRevIter { data: &[], end: 0 }
    }
}

impl<'a> Iterator for PackRevIter<'a> {
    type Item = Elem<'a>;

    #[inline]
    fn next(&mut self) -> Option<Elem<'a>> {
        if self.end == 0 {
            return None;
        }
        let start = prev_start(self.data, self.end);
        self.end = start;
        Some(decode(self.data, start).0)
    }
}
