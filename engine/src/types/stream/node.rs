//! One node of a stream: a run of consecutive entries packed into one byte buffer, the
//! counterpart of a listpack hanging off Redis's stream rax.
//!
//! Layout of `buf`:
//!
//! | part          | encoding                                                               |
//! |---------------|------------------------------------------------------------------------|
//! | master fields | varint n, then n × (varint len, bytes): the fields of the node's first entry |
//! | entry*        | varint ms-delta, varint seq, u8 flags, [varint n], n × ([field], value) |
//!
//! An entry's ID is stored relative to the node's master ID (its key in the stream's map):
//! `ms = master.ms + ms-delta`; `seq` is `seq - master.seq` when `ms-delta` is 0 and the raw
//! sequence otherwise (so it never goes negative). With the `SAME_FIELDS` flag (the entry has
//! exactly the master fields, the common case of a stream of uniform records) the field count
//! and names are omitted. Strings are varint-length prefixed.
//!
//! Invariants: entries are in strictly increasing ID order and every ID is ≥ the master ID;
//! `count` is the number of entries in `buf`; `entries_at` is where the first entry starts.
//! Deleted entries are removed from the buffer (no tombstones). The buffer is only ever
//! written by this module, so decoding never meets malformed data; it still returns `None`
//! rather than panicking if it did.

use super::StreamId;

/// Flag bit: the entry's fields are the master fields (names omitted).
const SAME_FIELDS: u8 = 1;

/// A packed run of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    buf: Vec<u8>,
    count: u32,
    entries_at: u32,
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Decodes a varint at `*pos`, advancing it.
fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift >= 64 {
            return None;
        }
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
        shift += 7;
    }
}

/// Decodes a length-prefixed string at `*pos`, advancing it.
fn get_str<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let len = usize::try_from(get_varint(buf, pos)?).ok()?;
    let end = pos.checked_add(len)?;
    let s = buf.get(*pos..end)?;
    *pos = end;
    Some(s)
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// One decoded entry: its ID and where its parts live in the node's buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawEntry {
    pub id: StreamId,
    /// First byte of the entry.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    fields_at: usize,
    nfields: usize,
    same: bool,
}

/// A borrowed entry: its ID and its field/value pairs.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    /// The entry's ID.
    pub id: StreamId,
    buf: &'a [u8],
    master_at: usize,
    fields_at: usize,
    nfields: usize,
    same: bool,
}

impl<'a> EntryRef<'a> {
    /// Number of field/value pairs.
    pub fn len(&self) -> usize {
        self.nfields
    }

    /// True if the entry has no fields (never the case for entries XADD creates).
    pub fn is_empty(&self) -> bool {
        self.nfields == 0
    }

    /// The field/value pairs in insertion order.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            buf: self.buf,
            // The master field list starts after its count.
            master_pos: self.master_at,
            pos: self.fields_at,
            left: self.nfields,
            same: self.same,
        }
    }
}

/// Iterator over an entry's field/value pairs.
pub struct Fields<'a> {
    buf: &'a [u8],
    master_pos: usize,
    pos: usize,
    left: usize,
    same: bool,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = if self.same {
            get_str(self.buf, &mut self.master_pos)?
        } else {
            get_str(self.buf, &mut self.pos)?
        };
        let value = get_str(self.buf, &mut self.pos)?;
        Some((field, value))
    }
}

impl Node {
    /// A node whose master fields are the field names of `fields` (its first entry's).
    pub fn new<F: AsRef<[u8]>, V: AsRef<[u8]>>(fields: &[(F, V)], capacity: usize) -> Node {
        let mut buf = Vec::with_capacity(capacity);
        put_varint(&mut buf, fields.len() as u64);
        for (f, _) in fields {
            put_str(&mut buf, f.as_ref());
        }
        let entries_at = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        Node {
            buf,
            count: 0,
            entries_at,
        }
    }

    /// Number of entries.
    pub fn count(&self) -> usize {
        self.count as usize
    }

    /// Encoded size in bytes.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes held.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Drops spare capacity (when the node stops being the tail).
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    fn master_fields_at(&self) -> usize {
        let mut pos = 0;
        let _ = get_varint(&self.buf, &mut pos);
        pos
    }

    /// The master field names (the fields of the node's first entry).
    pub fn master_fields(&self) -> Vec<&[u8]> {
        let mut pos = 0;
        let n = get_varint(&self.buf, &mut pos).unwrap_or(0);
        let mut out = Vec::new();
        for _ in 0..n {
            match get_str(&self.buf, &mut pos) {
                Some(f) => out.push(f),
                None => break,
            }
        }
        out
    }

    fn master_count(&self) -> usize {
        let mut pos = 0;
        get_varint(&self.buf, &mut pos).map_or(0, |n| n as usize)
    }

    /// True if `fields` has exactly the master field names, in order.
    fn same_fields<F: AsRef<[u8]>, V: AsRef<[u8]>>(&self, fields: &[(F, V)]) -> bool {
        let mut pos = 0;
        if get_varint(&self.buf, &mut pos) != Some(fields.len() as u64) {
            return false;
        }
        fields
            .iter()
            .all(|(f, _)| get_str(&self.buf, &mut pos) == Some(f.as_ref()))
    }

    /// Appends an entry; `id` must be greater than every ID in the node and ≥ `master`.
    pub fn append<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        master: StreamId,
        id: StreamId,
        fields: &[(F, V)],
    ) {
        debug_assert!(id >= master);
        let same = self.same_fields(fields);
        let ms_delta = id.ms - master.ms;
        let seq = if ms_delta == 0 {
            id.seq - master.seq
        } else {
            id.seq
        };
        let payload: usize = fields
            .iter()
            .map(|(f, v)| {
                let f = f.as_ref().len();
                let v = v.as_ref().len();
                v + varint_len(v as u64) + if same { 0 } else { f + varint_len(f as u64) }
            })
            .sum();
        self.buf.reserve(payload + 24);
        put_varint(&mut self.buf, ms_delta);
        put_varint(&mut self.buf, seq);
        if same {
            self.buf.push(SAME_FIELDS);
        } else {
            self.buf.push(0);
            put_varint(&mut self.buf, fields.len() as u64);
        }
        for (f, v) in fields {
            if !same {
                put_str(&mut self.buf, f.as_ref());
            }
            put_str(&mut self.buf, v.as_ref());
        }
        self.count += 1;
    }

    /// Decodes the entry starting at `start`.
    fn decode(&self, master: StreamId, start: usize) -> Option<RawEntry> {
        let buf = &self.buf;
        let mut pos = start;
        let ms_delta = get_varint(buf, &mut pos)?;
        let seq = get_varint(buf, &mut pos)?;
        let flags = *buf.get(pos)?;
        pos += 1;
        let id = if ms_delta == 0 {
            StreamId::new(master.ms, master.seq.wrapping_add(seq))
        } else {
            StreamId::new(master.ms.wrapping_add(ms_delta), seq)
        };
        let same = flags & SAME_FIELDS != 0;
        let nfields = if same {
            self.master_count()
        } else {
            usize::try_from(get_varint(buf, &mut pos)?).ok()?
        };
        let fields_at = pos;
        for _ in 0..nfields {
            if !same {
                get_str(buf, &mut pos)?;
            }
            get_str(buf, &mut pos)?;
        }
        Some(RawEntry {
            id,
            start,
            end: pos,
            fields_at,
            nfields,
            same,
        })
    }

    /// The entries in order.
    pub fn iter(&self, master: StreamId) -> impl Iterator<Item = RawEntry> + '_ {
        let mut pos = self.entries_at as usize;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let e = self.decode(master, pos)?;
            pos = e.end;
            Some(e)
        })
    }

    /// A borrowed view of a decoded entry of this node.
    pub fn entry_ref(&self, e: &RawEntry) -> EntryRef<'_> {
        EntryRef {
            id: e.id,
            buf: &self.buf,
            master_at: self.master_fields_at(),
            fields_at: e.fields_at,
            nfields: e.nfields,
            same: e.same,
        }
    }

    /// Removes one decoded entry.
    pub fn remove(&mut self, e: &RawEntry) {
        debug_assert!(e.start >= self.entries_at as usize && e.end <= self.buf.len());
        self.buf.drain(e.start..e.end);
        self.count -= 1;
    }

    /// Removes the first `n` entries, which end at byte `end`.
    pub fn remove_head(&mut self, n: usize, end: usize) {
        debug_assert!(n <= self.count());
        self.buf.drain(self.entries_at as usize..end);
        self.count -= n as u32;
    }

    /// The last entry.
    pub fn last(&self, master: StreamId) -> Option<RawEntry> {
        self.iter(master).last()
    }
}
