//! The `listpack` encoding of a hash: one contiguous buffer, no per-field allocation.
//!
//! Layout:
//!
//! | bytes          | content                                                          |
//! |----------------|------------------------------------------------------------------|
//! | 1              | flags: bit 0 `TTL` (pairs carry an expire-at)                    |
//! | 8 (if `TTL`)   | lower bound of the earliest field expire-at, u64 LE (`MAX` none) |
//! | per pair       | lengths header, field, value, and if `TTL` an 8-byte u64 LE      |
//! |                | expire-at (0 = no TTL)                                           |
//!
//! The lengths header is one byte `field_len << 4 | value_len` when both are < 16 (and not
//! both 15), else `0xFF` followed by both lengths in LEB128. A pair of a 7-byte field and a
//! 10-byte value takes 18 bytes (a Redis listpack spends 21). The `TTL` layout is used only
//! while some field has a TTL (it is dropped again when the last TTL goes), so hashes without
//! field TTLs pay one header byte. The buffer is kept at its exact size (`reserve_exact`), as
//! a listpack is reallocated on every insert; small hashes make that cheap.
//!
//! Invariants: the buffer always starts with a valid header and holds whole pairs only; the
//! header's min-expire is ≤ every stored non-zero expire-at.

use super::{FieldRef, NO_TTL, get_varint, put_varint, varint_len};

/// Header byte announcing LEB128 lengths.
const LONG: u8 = 0xFF;

const FLAG_TTL: u8 = 1;
const HDR: usize = 1;
const HDR_TTL: usize = 9;
/// Spare capacity tolerated after a shrink of the buffer before it is reallocated.
const SLACK: usize = 32;

#[derive(Clone)]
pub(crate) struct Packed {
    buf: Vec<u8>,
}

/// Offsets of one decoded pair.
#[derive(Debug, Clone, Copy)]
struct Pair {
    start: usize,
    field: (usize, usize),
    value: (usize, usize),
    /// Offset of the 8-byte expire-at, if the layout has one.
    ttl_at: Option<usize>,
    end: usize,
}

fn read_u64(buf: &[u8], at: usize) -> u64 {
    buf.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

fn write_u64(buf: &mut [u8], at: usize, v: u64) {
    if let Some(s) = buf.get_mut(at..at + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn is_short(field: usize, value: usize) -> bool {
    field < 16 && value < 16 && (field, value) != (15, 15)
}

/// Bytes of the lengths header of a pair.
fn header_len(field: usize, value: usize) -> usize {
    if is_short(field, value) {
        1
    } else {
        1 + varint_len(field) + varint_len(value)
    }
}

/// Writes the lengths header of a pair.
fn put_header(out: &mut Vec<u8>, field: usize, value: usize) {
    if is_short(field, value) {
        out.push(((field as u8) << 4) | value as u8);
    } else {
        out.push(LONG);
        put_varint(out, field);
        put_varint(out, value);
    }
}

/// Decodes the lengths header at `pos`: (field length, value length, header bytes).
#[inline]
fn get_header(buf: &[u8], pos: usize) -> Option<(usize, usize, usize)> {
    let b = *buf.get(pos)?;
    if b != LONG {
        return Some((usize::from(b >> 4), usize::from(b & 0x0f), 1));
    }
    let (flen, a) = get_varint(buf, pos + 1)?;
    let (vlen, c) = get_varint(buf, pos + 1 + a)?;
    Some((flen, vlen, 1 + a + c))
}

/// Bytes one pair takes in the given layout.
fn pair_len(field: usize, value: usize, ttl: bool) -> usize {
    header_len(field, value) + field + value + if ttl { 8 } else { 0 }
}

/// Writes one pair (without its expire-at).
fn put_pair(out: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    put_header(out, field.len(), value.len());
    out.extend_from_slice(field);
    out.extend_from_slice(value);
}

/// A borrowed packed buffer: the read side of the encoding, over a [`Packed`] or over the tail
/// of a compact key blob (see `keyspace::entry`).
#[derive(Clone, Copy)]
pub(crate) struct PackedRef<'a> {
    buf: &'a [u8],
}

impl<'a> PackedRef<'a> {
    /// Views `buf`, which must be a buffer this module built (decoding never panics anyway).
    pub(crate) fn new(buf: &'a [u8]) -> PackedRef<'a> {
        PackedRef { buf }
    }

    pub(crate) fn bytes(self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn has_ttl(self) -> bool {
        self.buf.first().is_some_and(|f| f & FLAG_TTL != 0)
    }

    fn body_start(self) -> usize {
        if self.has_ttl() { HDR_TTL } else { HDR }
    }

    /// Lower bound of the earliest field expiry; `u64::MAX` without TTLs.
    #[inline]
    pub(crate) fn min_expire(self) -> u64 {
        if self.has_ttl() {
            read_u64(self.buf, HDR)
        } else {
            u64::MAX
        }
    }

    /// Decodes the pair starting at `pos`.
    #[inline]
    fn pair_at(self, pos: usize) -> Option<Pair> {
        let buf = self.buf;
        let (flen, vlen, used) = get_header(buf, pos)?;
        let fstart = pos + used;
        let fend = fstart.checked_add(flen)?;
        let vstart = fend;
        let vend = vstart.checked_add(vlen)?;
        let (ttl_at, end) = if self.has_ttl() {
            (Some(vend), vend.checked_add(8)?)
        } else {
            (None, vend)
        };
        (end <= buf.len()).then_some(Pair {
            start: pos,
            field: (fstart, fend),
            value: (vstart, vend),
            ttl_at,
            end,
        })
    }

    fn slice(self, r: (usize, usize)) -> &'a [u8] {
        self.buf.get(r.0..r.1).unwrap_or(&[])
    }

    fn field_ref(self, p: &Pair) -> FieldRef<'a> {
        FieldRef {
            field: self.slice(p.field),
            value: self.slice(p.value),
            expire_at: p.ttl_at.map_or(NO_TTL, |at| read_u64(self.buf, at)),
        }
    }

    fn pairs(self) -> impl Iterator<Item = Pair> + 'a {
        let mut pos = self.body_start();
        std::iter::from_fn(move || {
            let p = self.pair_at(pos)?;
            pos = p.end;
            Some(p)
        })
    }

    pub(crate) fn iter(self) -> PackedIter<'a> {
        PackedIter {
            packed: self,
            pos: self.body_start(),
        }
    }

    pub(crate) fn len(self) -> usize {
        self.pairs().count()
    }

    pub(crate) fn is_empty(self) -> bool {
        self.buf.len() <= self.body_start()
    }

    /// The pair holding `field`, or the number of pairs if absent.
    fn find(self, field: &[u8]) -> Result<Pair, usize> {
        let mut n = 0;
        for p in self.pairs() {
            if p.field.1 - p.field.0 == field.len() && self.slice(p.field) == field {
                return Ok(p);
            }
            n += 1;
        }
        Err(n)
    }

    pub(crate) fn get(self, field: &[u8]) -> Option<FieldRef<'a>> {
        self.find(field).ok().map(|p| self.field_ref(&p))
    }
}

impl Packed {
    pub(crate) fn new() -> Packed {
        Packed { buf: vec![0] }
    }

    /// Adopts a buffer taken from [`PackedRef::bytes`].
    pub(crate) fn from_bytes(buf: Vec<u8>) -> Packed {
        Packed { buf }
    }

    #[inline]
    pub(crate) fn as_ref(&self) -> PackedRef<'_> {
        PackedRef::new(&self.buf)
    }

    pub(crate) fn mem_bytes(&self) -> usize {
        self.buf.capacity()
    }

    pub(crate) fn has_ttl(&self) -> bool {
        self.as_ref().has_ttl()
    }

    pub(crate) fn min_expire(&self) -> u64 {
        self.as_ref().min_expire()
    }

    fn set_min_expire(&mut self, v: u64) {
        debug_assert!(self.has_ttl());
        write_u64(&mut self.buf, HDR, v);
    }

    fn slice(&self, r: (usize, usize)) -> &[u8] {
        self.as_ref().slice(r)
    }

    fn pairs(&self) -> impl Iterator<Item = Pair> + '_ {
        self.as_ref().pairs()
    }

    pub(crate) fn iter(&self) -> PackedIter<'_> {
        self.as_ref().iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.as_ref().len()
    }

    fn find(&self, field: &[u8]) -> Result<Pair, usize> {
        self.as_ref().find(field)
    }

    pub(crate) fn reserve(&mut self, pairs: usize, bytes: usize) {
        let ttl = if self.has_ttl() { 8 } else { 0 };
        self.buf.reserve_exact(bytes + pairs * (1 + ttl));
    }

    pub(crate) fn shrink(&mut self) {
        if self.buf.capacity() > self.buf.len() + SLACK {
            self.buf.shrink_to_fit();
        }
    }

    /// Writes a new pair at the end (the buffer grows to its exact size).
    fn append(&mut self, field: &[u8], value: &[u8], expire_at: u64) {
        let ttl = self.has_ttl();
        let need = pair_len(field.len(), value.len(), ttl);
        if self.buf.capacity() - self.buf.len() < need {
            self.buf.reserve_exact(need);
        }
        put_pair(&mut self.buf, field, value);
        if ttl {
            self.buf.extend_from_slice(&expire_at.to_le_bytes());
        }
    }

    /// Sets `field`; returns (is new, pair count after).
    pub(crate) fn set(&mut self, field: &[u8], value: &[u8], keep_ttl: bool) -> (bool, usize) {
        match self.find(field) {
            Err(n) => {
                self.append(field, value, NO_TTL);
                (true, n + 1)
            }
            Ok(p) => {
                let old_ttl = p.ttl_at.map_or(NO_TTL, |at| read_u64(&self.buf, at));
                let ttl = if keep_ttl { old_ttl } else { NO_TTL };
                if p.value.1 - p.value.0 == value.len() {
                    // Same length: overwrite in place, no reallocation.
                    if let Some(s) = self.buf.get_mut(p.value.0..p.value.1) {
                        s.copy_from_slice(value);
                    }
                    if let Some(at) = p.ttl_at {
                        write_u64(&mut self.buf, at, ttl);
                    }
                } else {
                    let mut repl =
                        Vec::with_capacity(pair_len(field.len(), value.len(), p.ttl_at.is_some()));
                    put_pair(&mut repl, field, value);
                    if p.ttl_at.is_some() {
                        repl.extend_from_slice(&ttl.to_le_bytes());
                    }
                    let old = p.end - p.start;
                    if repl.len() > old {
                        self.buf.reserve_exact(repl.len() - old);
                    }
                    self.buf.splice(p.start..p.end, repl);
                    self.shrink();
                }
                if old_ttl != NO_TTL && ttl == NO_TTL {
                    self.maybe_drop_ttl_layout();
                }
                (false, self.len())
            }
        }
    }

    pub(crate) fn remove(&mut self, field: &[u8]) -> bool {
        let Ok(p) = self.find(field) else {
            return false;
        };
        self.buf.drain(p.start..p.end);
        if self.has_ttl() {
            self.maybe_drop_ttl_layout();
        }
        self.shrink();
        true
    }

    /// Rebuilds the buffer with (`ttl`) or without the per-pair expire-at.
    fn relayout(&mut self, ttl: bool) {
        if ttl == self.has_ttl() {
            return;
        }
        let pairs: Vec<Pair> = self.pairs().collect();
        let body: usize = pairs
            .iter()
            .map(|p| pair_len(p.field.1 - p.field.0, p.value.1 - p.value.0, ttl))
            .sum();
        let mut out = Vec::with_capacity(if ttl { HDR_TTL } else { HDR } + body);
        out.push(if ttl { FLAG_TTL } else { 0 });
        if ttl {
            out.extend_from_slice(&u64::MAX.to_le_bytes());
        }
        for p in &pairs {
            put_pair(&mut out, self.slice(p.field), self.slice(p.value));
            if ttl {
                out.extend_from_slice(&NO_TTL.to_le_bytes());
            }
        }
        self.buf = out;
    }

    /// Drops the TTL layout when no field has a TTL any more.
    fn maybe_drop_ttl_layout(&mut self) {
        if self.has_ttl() && self.iter().all(|r| r.expire_at == NO_TTL) {
            self.relayout(false);
        }
    }

    pub(crate) fn set_expire(&mut self, field: &[u8], at: u64) -> bool {
        if at != NO_TTL && !self.has_ttl() {
            if self.find(field).is_err() {
                return false;
            }
            self.relayout(true);
        }
        let Ok(p) = self.find(field) else {
            return false;
        };
        if let Some(ttl_at) = p.ttl_at {
            write_u64(&mut self.buf, ttl_at, at);
            if at != NO_TTL {
                let min = self.min_expire().min(at);
                self.set_min_expire(min);
            } else {
                self.maybe_drop_ttl_layout();
            }
        }
        true
    }

    /// Removes up to `quota` fields expired at `now`; recomputes the min-expire bound.
    pub(crate) fn purge(&mut self, now: u64, quota: usize) -> usize {
        if !self.has_ttl() {
            return 0;
        }
        let mut out = Vec::with_capacity(self.buf.len());
        out.extend_from_slice(self.buf.get(..HDR_TTL).unwrap_or(&[FLAG_TTL; HDR_TTL]));
        let mut removed = 0;
        let mut min = u64::MAX;
        for p in self.pairs() {
            let at = p.ttl_at.map_or(NO_TTL, |t| read_u64(&self.buf, t));
            if at != NO_TTL && at <= now && removed < quota {
                removed += 1;
                continue;
            }
            if at != NO_TTL {
                min = min.min(at);
            }
            out.extend_from_slice(self.buf.get(p.start..p.end).unwrap_or(&[]));
        }
        if removed > 0 {
            out.shrink_to_fit();
            self.buf = out;
        }
        self.set_min_expire(min);
        if min == u64::MAX {
            self.relayout(false);
        }
        removed
    }
}

/// Iterator over the pairs of a [`Packed`].
pub struct PackedIter<'a> {
    packed: PackedRef<'a>,
    pos: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = FieldRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<FieldRef<'a>> {
        let p = self.packed.pair_at(self.pos)?;
        self.pos = p.end;
        Some(self.packed.field_ref(&p))
    }
}
