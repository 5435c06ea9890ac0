//! The WAL segment format, version 1 (SPEC.md §8.1): a 64-byte segment header, then record
//! frames back to back, each a 32-byte frame header plus a payload holding one command's argv
//! (`Command`) or an all-or-nothing group of them (`Batch`).
//!
//! Invariants:
//! - every integer is little-endian; every checksum is [`crate::checksum`] (CRC32 IEEE);
//! - records of a segment carry consecutive LSNs starting at the header's `first_lsn`;
//! - decoding never panics and never allocates more than the input's size, whatever the bytes;
//!   every error names the absolute offset of the header or frame at fault;
//! - [`SegmentReader`] classifies the end of a segment as clean, torn tail (an interrupted last
//!   write: safe to truncate at the reported offset) or corrupt (damage with intact data after
//!   it: never truncate silently), by the rules of SPEC.md §8.1.

use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::checksum;
use crate::error::{DecodeError, ErrorKind};

/// The newest WAL format version this build reads and the one it writes.
pub const VERSION: u16 = 1;
/// Length of the segment header.
pub const HEADER_LEN: usize = 64;
/// Length of a record frame's header.
pub const FRAME_HEADER_LEN: usize = 32;
/// Magic bytes opening every segment.
pub const MAGIC: [u8; 8] = *b"MOONWAL\0";
/// Largest payload a frame may carry (1 GiB); a larger length field is damage.
pub const MAX_PAYLOAD: u32 = 1 << 30;
/// Frame kind of a single command record.
pub const KIND_COMMAND: u8 = 1;
/// Frame kind of a batch (MULTI/EXEC, script) record.
pub const KIND_BATCH: u8 = 2;

/// The CRC-covered part of the segment header (bytes 0..60).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawSegmentBody {
    magic: [u8; 8],
    version: U16,
    header_len: U16,
    shard_id: U16,
    shard_count: U16,
    first_lsn: U64,
    created_ms: U64,
    reserved: [u8; 28],
}

/// The segment header as laid out on disk.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawSegmentHeader {
    body: RawSegmentBody,
    crc: U32,
}

/// Frame header bytes 8..32 (covered by the CRC together with the length and the payload).
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawFrameRest {
    lsn: U64,
    ts_ms: U64,
    db: U16,
    kind: u8,
    flags: u8,
    reserved: U32,
}

/// A record frame's header as laid out on disk.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawFrameHeader {
    len: U32,
    crc: U32,
    rest: RawFrameRest,
}

const _: () = assert!(size_of::<RawSegmentBody>() == 60);
const _: () = assert!(size_of::<RawSegmentHeader>() == HEADER_LEN);
const _: () = assert!(size_of::<RawFrameRest>() == 24);
const _: () = assert!(size_of::<RawFrameHeader>() == FRAME_HEADER_LEN);

/// The decoded segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Format version the segment was written with.
    pub version: u16,
    /// Shard whose writes the segment logs.
    pub shard_id: u16,
    /// Shard count of the server that wrote it.
    pub shard_count: u16,
    /// LSN of the segment's first record (also in the file name).
    pub first_lsn: u64,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: u64,
}

impl SegmentHeader {
    /// A header of the current [`VERSION`].
    pub fn new(shard_id: u16, shard_count: u16, first_lsn: u64, created_ms: u64) -> Self {
        SegmentHeader {
            version: VERSION,
            shard_id,
            shard_count,
            first_lsn,
            created_ms,
        }
    }

    /// The 64 header bytes, CRC included.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let body = RawSegmentBody {
            magic: MAGIC,
            version: U16::new(self.version),
            header_len: U16::new(HEADER_LEN as u16),
            shard_id: U16::new(self.shard_id),
            shard_count: U16::new(self.shard_count),
            first_lsn: U64::new(self.first_lsn),
            created_ms: U64::new(self.created_ms),
            reserved: [0; 28],
        };
        let crc = U32::new(checksum(body.as_bytes()));
        let raw = RawSegmentHeader { body, crc };
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(raw.as_bytes());
        out
    }

    /// Decodes the header at the start of `buf` (which may hold the whole segment).
    ///
    /// Checks, in order: magic, version (a newer one is `UnsupportedVersion`, since its layout
    /// may differ), length, CRC, header length field. Errors are at offset 0.
    pub fn decode(buf: &[u8]) -> Result<SegmentHeader, DecodeError> {
        let err = |kind| DecodeError::new(0, kind);
        check_magic(buf, &MAGIC).map_err(err)?;
        let version = read_u16(buf, 8).ok_or(err(ErrorKind::Truncated))?;
        check_version(version, VERSION).map_err(err)?;
        let (raw, _) =
            RawSegmentHeader::ref_from_prefix(buf).map_err(|_| err(ErrorKind::Truncated))?;
        if checksum(raw.body.as_bytes()) != raw.crc.get() {
            return Err(err(ErrorKind::HeaderCrc));
        }
        if usize::from(raw.body.header_len.get()) != HEADER_LEN {
            return Err(err(ErrorKind::Malformed("segment header length is not 64")));
        }
        Ok(SegmentHeader {
            version,
            shard_id: raw.body.shard_id.get(),
            shard_count: raw.body.shard_count.get(),
            first_lsn: raw.body.first_lsn.get(),
            created_ms: raw.body.created_ms.get(),
        })
    }
}

/// `Err(Truncated)` if `buf` is a strict prefix of `magic`, `Err(BadMagic)` if it differs.
pub(crate) fn check_magic(buf: &[u8], magic: &[u8]) -> Result<(), ErrorKind> {
    let have = buf.get(..magic.len()).unwrap_or(buf);
    if !magic.starts_with(have) {
        Err(ErrorKind::BadMagic)
    } else if have.len() < magic.len() {
        Err(ErrorKind::Truncated)
    } else {
        Ok(())
    }
}

/// Version policy: every version from 1 up to `supported` is readable; 0 and newer ones are not.
pub(crate) fn check_version(found: u16, supported: u16) -> Result<(), ErrorKind> {
    if found == 0 || found > supported {
        Err(ErrorKind::UnsupportedVersion { found, supported })
    } else {
        Ok(())
    }
}

pub(crate) fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        buf.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// A length as the u32 the format stores. Callers guarantee the bound (see [`MAX_PAYLOAD`]);
/// saturating keeps a violated precondition from wrapping into a plausible small length.
fn len_u32(n: usize) -> u32 {
    debug_assert!(u32::try_from(n).is_ok(), "length {n} does not fit a u32");
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Bytes the payload of a Command record of `argv` takes.
pub fn command_payload_len<A: AsRef<[u8]>>(argv: &[A]) -> u64 {
    4 + argv
        .iter()
        .map(|a| 4 + a.as_ref().len() as u64)
        .sum::<u64>()
}

/// Bytes the payload of a Batch record of `cmds` takes.
pub fn batch_payload_len<A: AsRef<[u8]>>(cmds: &[(u16, Vec<A>)]) -> u64 {
    4 + cmds
        .iter()
        .map(|(_, argv)| 2 + command_payload_len(argv))
        .sum::<u64>()
}

/// Appends one Command frame to `out`.
///
/// Precondition: [`command_payload_len`] of `argv` is at most [`MAX_PAYLOAD`] (the server's
/// query-buffer limit keeps a single command far below it) and `argv` is not empty; a reader
/// rejects a frame that breaks either.
pub fn encode_command<A: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    lsn: u64,
    ts_ms: u64,
    db: u16,
    argv: &[A],
) {
    debug_assert!(!argv.is_empty(), "a Command record needs an argv");
    let start = begin_frame(out);
    put_argv(out, argv);
    finish_frame(out, start, lsn, ts_ms, db, KIND_COMMAND);
}

/// Appends one Command frame to `out` argument by argument, without an argv to build: give
/// the argument count, push exactly that many with [`CommandWriter::arg`], then
/// [`CommandWriter::finish`]. The bytes are those [`encode_command`] writes for the same argv
/// (with the same precondition on the size).
#[derive(Debug)]
pub struct CommandWriter<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    left: usize,
}

impl<'a> CommandWriter<'a> {
    /// Starts a frame of `argc` (at least 1) arguments at the end of `out`.
    pub fn begin(out: &'a mut Vec<u8>, argc: usize) -> CommandWriter<'a> {
        debug_assert!(argc > 0, "a Command record needs an argv");
        let start = begin_frame(out);
        out.extend_from_slice(&len_u32(argc).to_le_bytes());
        CommandWriter {
            out,
            start,
            left: argc,
        }
    }

    /// The next argument.
    pub fn arg(&mut self, arg: &[u8]) -> &mut Self {
        debug_assert!(self.left > 0, "more arguments than announced");
        self.left = self.left.saturating_sub(1);
        self.out
            .extend_from_slice(&len_u32(arg.len()).to_le_bytes());
        self.out.extend_from_slice(arg);
        self
    }

    /// Closes the frame (header and CRC).
    pub fn finish(self, lsn: u64, ts_ms: u64, db: u16) {
        debug_assert_eq!(self.left, 0, "fewer arguments than announced");
        finish_frame(self.out, self.start, lsn, ts_ms, db, KIND_COMMAND);
    }
}

/// Appends one Batch frame to `out`: the commands `(db, argv)` applied all or nothing. The
/// frame's db is the first command's (0 for an empty batch).
///
/// Precondition: [`batch_payload_len`] of `cmds` is at most [`MAX_PAYLOAD`] and no argv is
/// empty (check the length first: a batch of big commands can exceed it).
pub fn encode_batch<A: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    lsn: u64,
    ts_ms: u64,
    cmds: &[(u16, Vec<A>)],
) {
    let start = begin_frame(out);
    out.extend_from_slice(&len_u32(cmds.len()).to_le_bytes());
    for (db, argv) in cmds {
        debug_assert!(!argv.is_empty(), "a batched command needs an argv");
        out.extend_from_slice(&db.to_le_bytes());
        put_argv(out, argv);
    }
    let db = cmds.first().map_or(0, |(db, _)| *db);
    finish_frame(out, start, lsn, ts_ms, db, KIND_BATCH);
}

fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.resize(start + FRAME_HEADER_LEN, 0);
    start
}

fn put_argv<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    out.extend_from_slice(&len_u32(argv.len()).to_le_bytes());
    for arg in argv {
        let arg = arg.as_ref();
        out.extend_from_slice(&len_u32(arg.len()).to_le_bytes());
        out.extend_from_slice(arg);
    }
}

fn finish_frame(out: &mut [u8], start: usize, lsn: u64, ts_ms: u64, db: u16, kind: u8) {
    let payload = out.get(start + FRAME_HEADER_LEN..).unwrap_or_default();
    debug_assert!(
        payload.len() <= MAX_PAYLOAD as usize,
        "WAL payload too large"
    );
    let mut header = RawFrameHeader {
        len: U32::new(len_u32(payload.len())),
        crc: U32::new(0),
        rest: RawFrameRest {
            lsn: U64::new(lsn),
            ts_ms: U64::new(ts_ms),
            db: U16::new(db),
            kind,
            flags: 0,
            reserved: U32::new(0),
        },
    };
    header.crc = U32::new(frame_crc(&header, payload));
    if let Some(slot) = out.get_mut(start..start + FRAME_HEADER_LEN) {
        slot.copy_from_slice(header.as_bytes());
    }
}

/// CRC32 of the frame's length, header bytes 8..32 and payload: everything but the CRC field.
fn frame_crc(header: &RawFrameHeader, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(header.len.as_bytes());
    h.update(header.rest.as_bytes());
    h.update(payload);
    h.finalize()
}

/// One decoded WAL record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's log sequence number.
    pub lsn: u64,
    /// The `now_ms` the write executed with (replay executes with the same clock).
    pub ts_ms: u64,
    /// Database index (of the first command, for a batch).
    pub db: u16,
    /// What to replay.
    pub body: Body,
}

/// A record's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// One command's argv.
    Command(Vec<Vec<u8>>),
    /// Commands `(db, argv)` applied all or nothing.
    Batch(Vec<(u16, Vec<Vec<u8>>)>),
}

/// How a segment ends, once [`SegmentReader::next_record`] has returned `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentEnd {
    /// The last record ends exactly at the end of the input.
    Clean,
    /// An interrupted last write: truncating the file at `offset` loses no complete record.
    TornTail {
        /// Offset of the first byte after the last good record.
        offset: u64,
        /// Which torn-tail rule matched.
        reason: &'static str,
    },
    /// Damage with data after it: recovery must stop and report.
    Corrupt(DecodeError),
}

/// What is at one frame position.
enum Frame {
    /// A well-formed record (LSN not yet checked) ending at byte `end`.
    Record(Record, usize),
    /// No bytes left.
    End,
    /// A torn-tail shape; `err` is what to report if intact frames turn out to follow.
    Torn {
        reason: &'static str,
        err: ErrorKind,
    },
    /// A bad frame ending at byte `end` (or the frame start when its extent is unknown).
    Bad(ErrorKind, usize),
}

/// Decodes the frame at `off` without checking its LSN against the sequence.
fn read_frame(bytes: &[u8], off: usize) -> Frame {
    let rest = bytes.get(off..).unwrap_or_default();
    if rest.is_empty() {
        return Frame::End;
    }
    let Ok((header, after)) = RawFrameHeader::ref_from_prefix(rest) else {
        return Frame::Torn {
            reason: "partial frame header",
            err: ErrorKind::Truncated,
        };
    };
    let len = header.len.get();
    let Some(payload) = after.get(..len as usize) else {
        let err = if len > MAX_PAYLOAD {
            ErrorKind::TooLarge(u64::from(len))
        } else {
            ErrorKind::Truncated
        };
        return Frame::Torn {
            reason: "frame runs past end of file",
            err,
        };
    };
    let end = off + FRAME_HEADER_LEN + payload.len();
    if len > MAX_PAYLOAD {
        return Frame::Bad(ErrorKind::TooLarge(u64::from(len)), end);
    }
    if frame_crc(header, payload) != header.crc.get() {
        if end == bytes.len() {
            return Frame::Torn {
                reason: "last frame fails its checksum",
                err: ErrorKind::FrameCrc,
            };
        }
        return Frame::Bad(ErrorKind::FrameCrc, end);
    }
    match decode_body(header, payload) {
        Ok(body) => Frame::Record(
            Record {
                lsn: header.rest.lsn.get(),
                ts_ms: header.rest.ts_ms.get(),
                db: header.rest.db.get(),
                body,
            },
            end,
        ),
        Err(what) => Frame::Bad(ErrorKind::Malformed(what), end),
    }
}

fn decode_body(header: &RawFrameHeader, payload: &[u8]) -> Result<Body, &'static str> {
    if header.rest.flags != 0 {
        return Err("unknown frame flags");
    }
    let mut cur = Cursor { buf: payload };
    let body = match header.rest.kind {
        KIND_COMMAND => Body::Command(cur.argv()?),
        KIND_BATCH => {
            let n = cur.u32().ok_or("truncated batch payload")?;
            // Each command takes at least 2 + 4 + 4 bytes: bound the reservation by the input.
            let mut cmds = Vec::with_capacity((n as usize).min(cur.buf.len() / 10));
            for _ in 0..n {
                let db = cur.u16().ok_or("truncated batch payload")?;
                cmds.push((db, cur.argv()?));
            }
            Body::Batch(cmds)
        }
        _ => return Err("unknown record kind"),
    };
    if !cur.buf.is_empty() {
        return Err("trailing bytes in payload");
    }
    Ok(body)
}

/// Reads little-endian fields off the front of a payload.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.buf.split_at_checked(n)?;
        self.buf = tail;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn argv(&mut self) -> Result<Vec<Vec<u8>>, &'static str> {
        let argc = self.u32().ok_or("truncated argv")?;
        if argc == 0 {
            return Err("empty argv");
        }
        let mut argv = Vec::with_capacity((argc as usize).min(self.buf.len() / 4));
        for _ in 0..argc {
            let len = self.u32().ok_or("truncated argv")?;
            argv.push(
                self.take(len as usize)
                    .ok_or("truncated argument")?
                    .to_vec(),
            );
        }
        Ok(argv)
    }
}

/// Offset of the first frame at or after `from` that is fully valid (CRC, kind, payload) and
/// has an LSN of at least `min_lsn`, with that LSN.
fn find_frame(bytes: &[u8], from: usize, min_lsn: u64) -> Option<(usize, u64)> {
    let last = bytes.len().checked_sub(FRAME_HEADER_LEN)?;
    (from..=last).find_map(|off| {
        let (header, after) = RawFrameHeader::ref_from_prefix(bytes.get(off..)?).ok()?;
        // Cheap filters first: nearly every offset of damaged data fails one of them.
        let lsn = header.rest.lsn.get();
        let plausible = matches!(header.rest.kind, KIND_COMMAND | KIND_BATCH)
            && header.rest.flags == 0
            && lsn >= min_lsn
            && header.len.get() <= MAX_PAYLOAD
            && after.len() >= header.len.get() as usize;
        if !plausible {
            return None;
        }
        match read_frame(bytes, off) {
            Frame::Record(..) => Some((off, lsn)),
            _ => None,
        }
    })
}

/// Walks the records of a whole segment held in memory (mmap it with memmap2 for big files).
///
/// Call [`next_record`](Self::next_record) until it returns `None`, then [`end`](Self::end)
/// says how the segment ended.
#[derive(Debug)]
pub struct SegmentReader<'a> {
    bytes: &'a [u8],
    header: SegmentHeader,
    /// Offset of the next frame: just past the last good record.
    pos: usize,
    /// The LSN the next record must carry.
    next_lsn: u64,
    end: SegmentEnd,
    done: bool,
}

impl<'a> SegmentReader<'a> {
    /// A reader over a whole segment; checks the header (see [`SegmentHeader::decode`]).
    pub fn new(bytes: &'a [u8]) -> Result<SegmentReader<'a>, DecodeError> {
        let header = SegmentHeader::decode(bytes)?;
        Ok(SegmentReader {
            bytes,
            header,
            pos: HEADER_LEN,
            next_lsn: header.first_lsn,
            end: SegmentEnd::Clean,
            done: false,
        })
    }

    /// The segment's header.
    pub fn header(&self) -> &SegmentHeader {
        &self.header
    }

    /// The next record and its frame's offset; `None` at the end (see [`end`](Self::end)).
    pub fn next_record(&mut self) -> Option<(u64, Record)> {
        if self.done {
            return None;
        }
        let off = self.pos;
        let end = match read_frame(self.bytes, off) {
            Frame::Record(rec, frame_end) => {
                if rec.lsn == self.next_lsn {
                    self.pos = frame_end;
                    self.next_lsn = rec.lsn.saturating_add(1);
                    return Some((off as u64, rec));
                }
                SegmentEnd::Corrupt(DecodeError::new(
                    off as u64,
                    ErrorKind::LsnGap {
                        expected: self.next_lsn,
                        found: rec.lsn,
                    },
                ))
            }
            Frame::End => SegmentEnd::Clean,
            Frame::Torn { reason, err } => {
                // A damaged length field also looks like "runs past the end": intact records
                // after it prove it is not an interrupted last write.
                if find_frame(self.bytes, off + 1, self.next_lsn).is_some() {
                    SegmentEnd::Corrupt(DecodeError::new(off as u64, err))
                } else {
                    SegmentEnd::TornTail {
                        offset: off as u64,
                        reason,
                    }
                }
            }
            Frame::Bad(kind, frame_end) => {
                let zeros = |from: usize| {
                    self.bytes
                        .get(from..)
                        .is_some_and(|b| b.iter().all(|&x| x == 0))
                };
                if kind == ErrorKind::FrameCrc && zeros(off) {
                    SegmentEnd::TornTail {
                        offset: off as u64,
                        reason: "zero-filled tail",
                    }
                } else if kind == ErrorKind::FrameCrc && zeros(frame_end) {
                    // A last frame whose pages never reached the disk, in a file the crash
                    // left extended with zeros.
                    SegmentEnd::TornTail {
                        offset: off as u64,
                        reason: "last frame fails its checksum, zeros after it",
                    }
                } else {
                    SegmentEnd::Corrupt(DecodeError::new(off as u64, kind))
                }
            }
        };
        self.end = end;
        self.done = true;
        None
    }

    /// How the segment ended; meaningful once [`next_record`](Self::next_record) returned `None`.
    pub fn end(&self) -> &SegmentEnd {
        &self.end
    }

    /// Offset just past the last good record: where the next frame starts (the truncation
    /// point of a torn tail, and where appending resumes).
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// The LSN the next record must carry (one past the last good record's).
    pub fn next_lsn(&self) -> u64 {
        self.next_lsn
    }

    /// After a [`SegmentEnd::Corrupt`] end: skips forward byte by byte from the bad frame to the
    /// next fully valid frame whose LSN is past the last good record's, and resumes reading
    /// there (accepting the LSN gap). Returns false, leaving the reader ended, if there is none
    /// or the segment did not end corrupt. For repair tools and skip-corrupt recovery.
    pub fn resync(&mut self) -> bool {
        if !self.done || !matches!(self.end, SegmentEnd::Corrupt(_)) {
            return false;
        }
        match find_frame(self.bytes, self.pos, self.next_lsn) {
            Some((off, lsn)) => {
                self.pos = off;
                self.next_lsn = lsn;
                self.end = SegmentEnd::Clean;
                self.done = false;
                true
            }
            None => false,
        }
    }
}

/// The file name of the segment whose first record has LSN `first_lsn`.
pub fn segment_file_name(first_lsn: u64) -> String {
    format!("wal-{first_lsn:020}.wal")
}

/// The first LSN named by a segment file name, `None` if `name` is not one.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    parse_numbered(name, "wal-", ".wal")
}

/// `<prefix><20 decimal digits><suffix>` → the number.
pub(crate) fn parse_numbered(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segment(first_lsn: u64, records: &[Body]) -> Vec<u8> {
        let mut out = SegmentHeader::new(2, 4, first_lsn, 1_700_000_000_000)
            .encode()
            .to_vec();
        for (i, body) in records.iter().enumerate() {
            let lsn = first_lsn + i as u64;
            match body {
                Body::Command(argv) => encode_command(&mut out, lsn, 1000 + lsn, 3, argv),
                Body::Batch(cmds) => encode_batch(&mut out, lsn, 1000 + lsn, cmds),
            }
        }
        out
    }

    fn read_all(bytes: &[u8]) -> (Vec<(u64, Record)>, SegmentEnd) {
        let mut r = SegmentReader::new(bytes).unwrap();
        let mut recs = Vec::new();
        while let Some(x) = r.next_record() {
            recs.push(x);
        }
        (recs, r.end().clone())
    }

    fn cmd(args: &[&str]) -> Body {
        Body::Command(args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    #[test]
    fn header_round_trip_and_layout() {
        let h = SegmentHeader::new(7, 8, 42, 123_456);
        let bytes = h.encode();
        assert_eq!(&bytes[..8], b"MOONWAL\0");
        assert_eq!(&bytes[8..10], &[1, 0]);
        assert_eq!(&bytes[10..12], &[64, 0]);
        assert_eq!(&bytes[12..14], &[7, 0]);
        assert_eq!(&bytes[14..16], &[8, 0]);
        assert_eq!(&bytes[16..24], &42u64.to_le_bytes());
        assert_eq!(&bytes[24..32], &123_456u64.to_le_bytes());
        assert!(bytes[32..60].iter().all(|&b| b == 0));
        assert_eq!(&bytes[60..], &checksum(&bytes[..60]).to_le_bytes());
        assert_eq!(SegmentHeader::decode(&bytes), Ok(h));
    }

    #[test]
    fn header_errors() {
        let good = SegmentHeader::new(0, 1, 1, 0).encode();
        let kind = |b: &[u8]| SegmentHeader::decode(b).unwrap_err().kind;
        assert_eq!(kind(&good[..3]), ErrorKind::Truncated);
        assert_eq!(kind(&good[..40]), ErrorKind::Truncated);
        assert_eq!(kind(b"MOONSNAP"), ErrorKind::BadMagic);
        let mut b = good;
        b[8] = 2;
        assert_eq!(
            kind(&b),
            ErrorKind::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        );
        b[8] = 0;
        assert!(matches!(
            kind(&b),
            ErrorKind::UnsupportedVersion { found: 0, .. }
        ));
        let mut b = good;
        b[20] ^= 1;
        assert_eq!(kind(&b), ErrorKind::HeaderCrc);
        let mut b = good;
        b[10] = 65;
        let crc = checksum(&b[..60]);
        b[60..].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(kind(&b), ErrorKind::Malformed(_)));
    }

    #[test]
    fn frame_layout() {
        let mut out = Vec::new();
        encode_command(&mut out, 9, 77, 5, &["SET", "k", "v"]);
        assert_eq!(out.len(), 32 + 4 + (4 + 3) + (4 + 1) + (4 + 1));
        let p = (out.len() - 32) as u32;
        assert_eq!(&out[0..4], &p.to_le_bytes());
        let mut h = crc32fast::Hasher::new();
        h.update(&out[0..4]);
        h.update(&out[8..]);
        assert_eq!(&out[4..8], &h.finalize().to_le_bytes());
        assert_eq!(&out[8..16], &9u64.to_le_bytes());
        assert_eq!(&out[16..24], &77u64.to_le_bytes());
        assert_eq!(&out[24..26], &5u16.to_le_bytes());
        assert_eq!(out[26], KIND_COMMAND);
        assert_eq!(&out[27..32], &[0; 5]);
        assert_eq!(&out[32..36], &3u32.to_le_bytes());
        assert_eq!(&out[36..40], &3u32.to_le_bytes());
        assert_eq!(&out[40..43], b"SET");
        assert_eq!(
            command_payload_len(&["SET", "k", "v"]),
            (out.len() - 32) as u64
        );

        let mut out = Vec::new();
        let cmds = vec![(4u16, vec!["DEL", "a"]), (6, vec!["INCR", "b"])];
        encode_batch(&mut out, 1, 2, &cmds);
        assert_eq!(&out[24..26], &4u16.to_le_bytes());
        assert_eq!(out[26], KIND_BATCH);
        assert_eq!(&out[32..36], &2u32.to_le_bytes());
        assert_eq!(&out[36..38], &4u16.to_le_bytes());
        assert_eq!(batch_payload_len(&cmds), (out.len() - 32) as u64);
    }

    #[test]
    fn segment_round_trip_clean() {
        let bodies = vec![
            cmd(&["SET", "k", "v", "PXAT", "1700000000000"]),
            Body::Batch(vec![
                (0, vec![b"DEL".to_vec(), b"a".to_vec()]),
                (1, vec![b"SET".to_vec(), vec![0, 255, 13, 10]]),
            ]),
            cmd(&["DEL", ""]),
            Body::Batch(vec![]),
        ];
        let bytes = segment(100, &bodies);
        let (recs, end) = read_all(&bytes);
        assert_eq!(end, SegmentEnd::Clean);
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0].0, 64);
        for (i, (_, r)) in recs.iter().enumerate() {
            assert_eq!(r.lsn, 100 + i as u64);
            assert_eq!(r.ts_ms, 1100 + i as u64);
            assert_eq!(r.body, bodies[i]);
        }
        assert_eq!(recs[1].1.db, 0);
        assert_eq!(recs[0].1.db, 3);
        let mut r = SegmentReader::new(&bytes).unwrap();
        while r.next_record().is_some() {}
        assert_eq!(r.position(), bytes.len() as u64);
        assert_eq!(r.next_lsn(), 104);
        assert!(!r.resync());
    }

    #[test]
    fn empty_segment_is_clean() {
        let bytes = segment(1, &[]);
        assert_eq!(read_all(&bytes), (vec![], SegmentEnd::Clean));
    }

    #[test]
    fn torn_tails() {
        let bodies = vec![cmd(&["SET", "a", "1"]), cmd(&["SET", "b", "2"])];
        let bytes = segment(1, &bodies);
        let last = read_all(&bytes).0[1].0 as usize;
        // Partial frame header.
        let (recs, end) = read_all(&bytes[..last + 10]);
        assert_eq!(recs.len(), 1);
        assert!(
            matches!(end, SegmentEnd::TornTail { offset, reason: "partial frame header" } if offset == last as u64)
        );
        // Payload cut.
        let (_, end) = read_all(&bytes[..bytes.len() - 1]);
        assert!(
            matches!(end, SegmentEnd::TornTail { offset, reason: "frame runs past end of file" } if offset == last as u64)
        );
        // Last frame fails its CRC.
        let mut b = bytes.clone();
        *b.last_mut().unwrap() ^= 0x40;
        let (_, end) = read_all(&b);
        assert!(
            matches!(end, SegmentEnd::TornTail { offset, reason: "last frame fails its checksum" } if offset == last as u64)
        );
        // Zero-filled (preallocated) tail.
        let mut b = bytes.clone();
        b.resize(b.len() + 4096, 0);
        let (recs, end) = read_all(&b);
        assert_eq!(recs.len(), 2);
        assert!(
            matches!(end, SegmentEnd::TornTail { offset, reason: "zero-filled tail" } if offset == bytes.len() as u64)
        );
        // Fewer zeros than a frame header.
        let mut b = bytes.clone();
        b.resize(b.len() + 5, 0);
        assert!(
            matches!(read_all(&b).1, SegmentEnd::TornTail { offset, .. } if offset == bytes.len() as u64)
        );
        // A last frame whose payload is zeros, followed by zeros.
        let mut b = bytes.clone();
        b[last + 32..].fill(0);
        b.resize(b.len() + 100, 0);
        assert!(
            matches!(read_all(&b).1, SegmentEnd::TornTail { offset, .. } if offset == last as u64)
        );
    }

    #[test]
    fn corrupt_middle_and_resync() {
        let bodies: Vec<Body> = (0..5).map(|i| cmd(&["INCR", &format!("k{i}")])).collect();
        let bytes = segment(10, &bodies);
        let offs: Vec<u64> = read_all(&bytes).0.iter().map(|(o, _)| *o).collect();
        let mut b = bytes.clone();
        b[offs[2] as usize + 40] ^= 1;
        let mut r = SegmentReader::new(&b).unwrap();
        let mut lsns = Vec::new();
        while let Some((_, rec)) = r.next_record() {
            lsns.push(rec.lsn);
        }
        assert_eq!(
            r.end(),
            &SegmentEnd::Corrupt(DecodeError::new(offs[2], ErrorKind::FrameCrc))
        );
        assert_eq!(r.position(), offs[2]);
        assert!(r.resync());
        while let Some((off, rec)) = r.next_record() {
            lsns.push(rec.lsn);
            assert!(off > offs[2]);
        }
        assert_eq!(lsns, vec![10, 11, 13, 14]);
        assert_eq!(r.end(), &SegmentEnd::Clean);

        // A length field flipped so the frame seems to run past EOF: later records prove
        // corruption.
        let mut b = bytes.clone();
        b[offs[1] as usize + 3] ^= 0x10;
        let (recs, end) = read_all(&b);
        assert_eq!(recs.len(), 1);
        assert_eq!(
            end,
            SegmentEnd::Corrupt(DecodeError::new(offs[1], ErrorKind::Truncated))
        );
    }

    #[test]
    fn lsn_gap_and_malformed() {
        let mut bytes = SegmentHeader::new(0, 1, 5, 0).encode().to_vec();
        encode_command(&mut bytes, 5, 0, 0, &["A"]);
        let gap_at = bytes.len() as u64;
        encode_command(&mut bytes, 7, 0, 0, &["B"]);
        encode_command(&mut bytes, 8, 0, 0, &["C"]);
        let mut r = SegmentReader::new(&bytes).unwrap();
        assert_eq!(r.next_record().unwrap().1.lsn, 5);
        assert!(r.next_record().is_none());
        assert_eq!(
            r.end(),
            &SegmentEnd::Corrupt(DecodeError::new(
                gap_at,
                ErrorKind::LsnGap {
                    expected: 6,
                    found: 7
                }
            ))
        );
        // Resync accepts the gap frame itself.
        assert!(r.resync());
        let b = Record {
            lsn: 7,
            ts_ms: 0,
            db: 0,
            body: cmd(&["B"]),
        };
        assert_eq!(r.next_record().unwrap(), (gap_at, b));
        assert_eq!(r.next_record().unwrap().1.lsn, 8);
        assert!(r.next_record().is_none());
        assert_eq!(r.end(), &SegmentEnd::Clean);

        // A frame with a valid CRC but an empty argv / unknown kind / trailing bytes.
        for patch in 0..3 {
            let mut bytes = SegmentHeader::new(0, 1, 1, 0).encode().to_vec();
            let mut f = Vec::new();
            encode_command(&mut f, 1, 0, 0, &["PING"]);
            match patch {
                0 => {
                    f.truncate(32);
                    f.extend_from_slice(&0u32.to_le_bytes());
                }
                1 => f[26] = 9,
                _ => f.push(0),
            }
            let p = (f.len() - 32) as u32;
            f[0..4].copy_from_slice(&p.to_le_bytes());
            let mut h = crc32fast::Hasher::new();
            h.update(&f[0..4]);
            h.update(&f[8..]);
            let crc = h.finalize();
            f[4..8].copy_from_slice(&crc.to_le_bytes());
            bytes.extend_from_slice(&f);
            let (recs, end) = read_all(&bytes);
            assert!(recs.is_empty());
            assert!(
                matches!(
                    end,
                    SegmentEnd::Corrupt(DecodeError {
                        offset: 64,
                        kind: ErrorKind::Malformed(_)
                    })
                ),
                "{end:?}"
            );
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(segment_file_name(1), "wal-00000000000000000001.wal");
        assert_eq!(
            parse_segment_file_name("wal-00000000000000001234.wal"),
            Some(1234)
        );
        assert_eq!(
            parse_segment_file_name(&segment_file_name(u64::MAX)),
            Some(u64::MAX)
        );
        for bad in [
            "wal-1.wal",
            "wal-99999999999999999999.wal",
            "wal-0000000000000000000a.wal",
            "wal-00000000000000000001.wal.tmp",
            "snap-00000000000000000001.snap",
            "wal-+0000000000000000001.wal",
        ] {
            assert_eq!(parse_segment_file_name(bad), None, "{bad}");
        }
    }

    fn arg() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..40)
    }

    fn argv() -> impl Strategy<Value = Vec<Vec<u8>>> {
        proptest::collection::vec(arg(), 1..6)
    }

    fn body() -> impl Strategy<Value = Body> {
        prop_oneof![
            argv().prop_map(Body::Command),
            proptest::collection::vec((any::<u16>(), argv()), 0..4).prop_map(Body::Batch),
        ]
    }

    proptest! {
        #[test]
        fn records_round_trip(
            first in 1u64..u64::MAX / 2,
            items in proptest::collection::vec((any::<u64>(), any::<u16>(), body()), 0..20),
        ) {
            let mut bytes = SegmentHeader::new(1, 3, first, 9).encode().to_vec();
            let mut expected = Vec::new();
            for (i, (ts, db, body)) in items.into_iter().enumerate() {
                let lsn = first + i as u64;
                let db = match &body {
                    Body::Command(argv) => {
                        encode_command(&mut bytes, lsn, ts, db, argv);
                        db
                    }
                    Body::Batch(cmds) => {
                        encode_batch(&mut bytes, lsn, ts, cmds);
                        cmds.first().map_or(0, |c| c.0)
                    }
                };
                expected.push(Record { lsn, ts_ms: ts, db, body });
            }
            let (recs, end) = read_all(&bytes);
            prop_assert_eq!(end, SegmentEnd::Clean);
            let got: Vec<Record> = recs.into_iter().map(|(_, r)| r).collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut bytes = SegmentHeader::new(0, 1, 1, 0).encode().to_vec();
            bytes.extend_from_slice(&tail);
            let mut r = SegmentReader::new(&bytes).unwrap();
            for _ in 0..1000 {
                while r.next_record().is_some() {}
                if !r.resync() {
                    break;
                }
            }
        }
    }
}
