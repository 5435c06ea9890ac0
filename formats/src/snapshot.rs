//! The snapshot file format, version 1 (SPEC.md §8.2): a 64-byte header, CRC-checked blocks of
//! entries, then an index of the blocks and a 48-byte footer written last.
//!
//! Invariants:
//! - every integer is little-endian; every checksum is [`crate::checksum`] (CRC32 IEEE);
//! - a file is complete only if its footer verifies (magic, CRC over index + footer) and
//!   agrees with the header's LSN; [`SnapshotReader::new`] refuses anything else, so a
//!   half-written snapshot is never loaded;
//! - blocks are contiguous: the first starts right after the header, each starts where the
//!   previous one ends, and the index starts where the last one ends;
//! - an entry is never split across blocks; the writer holds at most the open block in memory
//!   (and none at all for an entry too big for a block: it streams that one);
//! - decoding never panics and never allocates from the input; every error names the absolute
//!   offset of the header, block, entry, index record or footer at fault.

use std::io::{self, Write};

use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::checksum;
use crate::error::{DecodeError, ErrorKind};
use crate::wal::{check_magic, check_version, parse_numbered, read_u16};

pub mod graph;

/// The newest snapshot format version this build reads and the one it writes.
pub const VERSION: u16 = 1;
/// Length of the file header.
pub const HEADER_LEN: usize = 64;
/// Length of a block header.
pub const BLOCK_HEADER_LEN: usize = 24;
/// Length of one index record.
pub const INDEX_RECORD_LEN: usize = 16;
/// Length of the footer.
pub const FOOTER_LEN: usize = 48;
/// Magic bytes opening every snapshot.
pub const MAGIC: [u8; 8] = *b"MOONSNAP";
/// Magic bytes opening every block.
pub const BLOCK_MAGIC: [u8; 4] = *b"MBLK";
/// Magic bytes opening the footer.
pub const FOOTER_MAGIC: [u8; 8] = *b"MOONSEND";
/// Payload size at which the writer closes a keyspace block.
pub const BLOCK_TARGET: usize = 64 * 1024;

/// The CRC-covered part of the file header (bytes 0..60).
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawHeaderBody {
    magic: [u8; 8],
    version: U16,
    header_len: U16,
    shard_id: U16,
    shard_count: U16,
    lsn: U64,
    created_ms: U64,
    reserved: [u8; 28],
}

/// The file header as laid out on disk.
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawHeader {
    body: RawHeaderBody,
    crc: U32,
}

/// Block header bytes 0..20 (covered by the CRC together with the payload).
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawBlockBody {
    magic: [u8; 4],
    section: u8,
    flags: u8,
    db: U16,
    count: U32,
    len: U32,
    reserved: U32,
}

/// A block header as laid out on disk.
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawBlockHeader {
    body: RawBlockBody,
    crc: U32,
}

/// One index record as laid out on disk.
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawIndexRecord {
    offset: U64,
    count: U32,
    section: u8,
    flags: u8,
    db: U16,
}

/// Footer bytes 0..44 (covered by the CRC after the index bytes).
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawFooterBody {
    magic: [u8; 8],
    index_offset: U64,
    block_count: U64,
    entry_count: U64,
    lsn: U64,
    reserved: U32,
}

/// The footer as laid out on disk.
#[derive(Debug, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawFooter {
    body: RawFooterBody,
    crc: U32,
}

const _: () = assert!(size_of::<RawHeaderBody>() == 60);
const _: () = assert!(size_of::<RawHeader>() == HEADER_LEN);
const _: () = assert!(size_of::<RawBlockBody>() == 20);
const _: () = assert!(size_of::<RawBlockHeader>() == BLOCK_HEADER_LEN);
const _: () = assert!(size_of::<RawIndexRecord>() == INDEX_RECORD_LEN);
const _: () = assert!(size_of::<RawFooterBody>() == 44);
const _: () = assert!(size_of::<RawFooter>() == FOOTER_LEN);

/// The decoded file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// Format version the file was written with.
    pub version: u16,
    /// Shard whose keyspace the file holds.
    pub shard_id: u16,
    /// Shard count of the server that wrote it.
    pub shard_count: u16,
    /// The snapshot covers every WAL record with an LSN up to this one.
    pub lsn: u64,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: u64,
}

impl SnapshotHeader {
    /// A header of the current [`VERSION`].
    pub fn new(shard_id: u16, shard_count: u16, lsn: u64, created_ms: u64) -> Self {
        SnapshotHeader {
            version: VERSION,
            shard_id,
            shard_count,
            lsn,
            created_ms,
        }
    }

    /// The 64 header bytes, CRC included.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let body = RawHeaderBody {
            magic: MAGIC,
            version: U16::new(self.version),
            header_len: U16::new(HEADER_LEN as u16),
            shard_id: U16::new(self.shard_id),
            shard_count: U16::new(self.shard_count),
            lsn: U64::new(self.lsn),
            created_ms: U64::new(self.created_ms),
            reserved: [0; 28],
        };
        let crc = U32::new(checksum(body.as_bytes()));
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(RawHeader { body, crc }.as_bytes());
        out
    }

    /// Decodes the header at the start of `buf`: magic, version (newer ones are
    /// `UnsupportedVersion`), CRC, header length field. Errors are at offset 0.
    pub fn decode(buf: &[u8]) -> Result<SnapshotHeader, DecodeError> {
        let err = |kind| DecodeError::new(0, kind);
        check_magic(buf, &MAGIC).map_err(err)?;
        let version = read_u16(buf, 8).ok_or(err(ErrorKind::Truncated))?;
        check_version(version, VERSION).map_err(err)?;
        let (raw, _) = RawHeader::ref_from_prefix(buf).map_err(|_| err(ErrorKind::Truncated))?;
        if checksum(raw.body.as_bytes()) != raw.crc.get() {
            return Err(err(ErrorKind::HeaderCrc));
        }
        if usize::from(raw.body.header_len.get()) != HEADER_LEN {
            return Err(err(ErrorKind::Malformed(
                "snapshot header length is not 64",
            )));
        }
        Ok(SnapshotHeader {
            version,
            shard_id: raw.body.shard_id.get(),
            shard_count: raw.body.shard_count.get(),
            lsn: raw.body.lsn.get(),
            created_ms: raw.body.created_ms.get(),
        })
    }
}

/// What a block holds. Readers skip sections they do not know (after checking the CRC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Keyspace entries (code 1).
    Keyspace,
    /// Functions (code 2, reserved).
    Functions,
    /// Property graphs (code 3): each graph key is a run of consecutive parts ([`graph`]).
    Graph,
    /// FT index contents (code 4): per index a run of parts in the section-3 part layout, key
    /// = index name (SPEC §8.2, "Search index contents").
    Vector,
    /// Text (code 5, reserved).
    Text,
    /// FT index definitions (code 6): records of the keyspace layout, key = index name,
    /// value = the definition (canonical FT.CREATE arguments and aliases, encoded by
    /// `moon_engine::search::encode_definition`).
    Search,
    /// Any other code. [`Section::from_code`] never yields this for codes 1..=6.
    Unknown(u8),
}

impl Section {
    /// The section of a block's section byte.
    pub fn from_code(code: u8) -> Section {
        match code {
            1 => Section::Keyspace,
            2 => Section::Functions,
            3 => Section::Graph,
            4 => Section::Vector,
            5 => Section::Text,
            6 => Section::Search,
            other => Section::Unknown(other),
        }
    }

    /// The section byte written for this section.
    pub fn code(self) -> u8 {
        match self {
            Section::Keyspace => 1,
            Section::Functions => 2,
            Section::Graph => 3,
            Section::Vector => 4,
            Section::Text => 5,
            Section::Search => 6,
            Section::Unknown(code) => code,
        }
    }

    /// Sections this version knows the layout of (their block flags must be 0).
    fn is_known(self) -> bool {
        !matches!(self, Section::Unknown(_))
    }
}

/// The decoded footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// Offset of the index (= the end of the last block).
    pub index_offset: u64,
    /// Number of blocks (and index records).
    pub block_count: u64,
    /// Sum of the blocks' entry counts.
    pub entry_count: u64,
    /// Same as the header's LSN.
    pub lsn: u64,
}

/// What [`SnapshotWriter::finish`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotSummary {
    /// Blocks written.
    pub blocks: u64,
    /// Entries written (sum of the block counts).
    pub entries: u64,
    /// Total file size.
    pub bytes: u64,
}

/// Bytes one keyspace entry takes in a block payload.
pub fn entry_len(key: &[u8], value: &[u8]) -> u64 {
    4 + key.len() as u64 + 8 + 4 + value.len() as u64
}

fn too_large(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} too large for a snapshot"),
    )
}

fn u32_len(n: usize, what: &str) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| too_large(what))
}

/// Writes a snapshot file as a stream: header first, blocks as they fill, index and footer in
/// [`finish`](Self::finish). Give it a buffered writer; it issues a few writes per block.
///
/// After an I/O error the file is unusable (the caller deletes the `.tmp`).
#[derive(Debug)]
pub struct SnapshotWriter<W: Write> {
    w: W,
    /// Bytes written so far: the offset of the next block.
    pos: u64,
    /// The open block (keyspace or functions records): its section, db, entry count and
    /// payload.
    open_section: Section,
    open_db: u16,
    open_count: u32,
    open: Vec<u8>,
    /// Encoded index records of the blocks written (16 bytes per block).
    index: Vec<u8>,
    blocks: u64,
    entries: u64,
    /// The header's LSN, repeated in the footer.
    lsn: u64,
}

impl<W: Write> SnapshotWriter<W> {
    /// Starts a snapshot: writes the header.
    pub fn new(mut w: W, header: &SnapshotHeader) -> io::Result<Self> {
        w.write_all(&header.encode())?;
        Ok(SnapshotWriter {
            w,
            pos: HEADER_LEN as u64,
            open_section: Section::Keyspace,
            open_db: 0,
            open_count: 0,
            open: Vec::new(),
            index: Vec::new(),
            blocks: 0,
            entries: 0,
            lsn: header.lsn,
        })
    }

    /// Adds one keyspace entry of database `db`: `value` is a DUMP payload, `expire_ms` an
    /// absolute Unix time in ms (0 = no TTL). Closes the open block first if it belongs to
    /// another db or the entry would take it past [`BLOCK_TARGET`].
    pub fn add_entry(
        &mut self,
        db: u16,
        key: &[u8],
        expire_ms: u64,
        value: &[u8],
    ) -> io::Result<()> {
        self.add_record(Section::Keyspace, db, key, expire_ms, value)
    }

    /// Adds one function library (section 2, SPEC §8.2): a record of the keyspace layout with
    /// key = library name, value = its code (shebang included), no expiry, db 0. Records of
    /// consecutive calls share blocks, closed at [`BLOCK_TARGET`] as keyspace blocks are.
    pub fn add_function(&mut self, name: &[u8], code: &[u8]) -> io::Result<()> {
        self.add_record(Section::Functions, 0, name, 0, code)
    }

    /// Adds one FT index definition (section 6, SPEC §8.2): a record of the keyspace layout
    /// with key = index name, value = the encoded definition, no expiry, db 0.
    pub fn add_search_def(&mut self, name: &[u8], def: &[u8]) -> io::Result<()> {
        self.add_record(Section::Search, 0, name, 0, def)
    }

    /// Adds one FT.DICTADD dictionary (section 6, database 1, SPEC §8.2): key = dictionary
    /// name, value = its terms (`moon_engine::search::dict::encode_dict`).
    pub fn add_search_dict(&mut self, name: &[u8], terms: &[u8]) -> io::Result<()> {
        self.add_record(Section::Search, 1, name, 0, terms)
    }

    /// One record of the keyspace layout into the open block of `section`/`db`.
    fn add_record(
        &mut self,
        section: Section,
        db: u16,
        key: &[u8],
        expire_ms: u64,
        value: &[u8],
    ) -> io::Result<()> {
        let key_len = u32_len(key.len(), "key")?;
        let value_len = u32_len(value.len(), "value")?;
        let len = entry_len(key, value);
        if len > u64::from(u32::MAX) {
            return Err(too_large("entry"));
        }
        let len = len as usize;
        if !self.open.is_empty()
            && (db != self.open_db
                || section != self.open_section
                || self.open.len() + len > BLOCK_TARGET
                || self.open_count == u32::MAX)
        {
            self.flush_open()?;
        }
        let key_len = key_len.to_le_bytes();
        let expire = expire_ms.to_le_bytes();
        let value_len = value_len.to_le_bytes();
        let parts: [&[u8]; 4] = [&key_len, key, &expire, &value_len];
        if self.open.is_empty() && len > BLOCK_TARGET {
            // A block of its own, streamed from the caller's buffers instead of copied.
            let parts = [parts[0], parts[1], parts[2], parts[3], value];
            return self.write_block(section.code(), db, 1, &parts);
        }
        if self.open.is_empty() {
            self.open_section = section;
            self.open_db = db;
            self.open.reserve(BLOCK_TARGET.min(len.max(4096)));
        }
        for part in parts {
            self.open.extend_from_slice(part);
        }
        self.open.extend_from_slice(value);
        self.open_count += 1;
        debug_assert!(self.open.len() <= BLOCK_TARGET);
        Ok(())
    }

    /// Adds a whole block of `section` (closing the open keyspace block first): `count`
    /// entries encoded in `payload` by that section's own layout.
    pub fn add_block(
        &mut self,
        section: Section,
        db: u16,
        count: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        u32_len(payload.len(), "block")?;
        self.flush_open()?;
        self.write_block(section.code(), db, count, &[payload])
    }

    /// Closes the open block, writes the index and the footer, and flushes the writer (the
    /// caller fsyncs and renames). Returns the writer and what was written.
    pub fn finish(mut self) -> io::Result<(W, SnapshotSummary)> {
        self.flush_open()?;
        let body = RawFooterBody {
            magic: FOOTER_MAGIC,
            index_offset: U64::new(self.pos),
            block_count: U64::new(self.blocks),
            entry_count: U64::new(self.entries),
            lsn: U64::new(self.lsn),
            reserved: U32::new(0),
        };
        let mut crc = crc32fast::Hasher::new();
        crc.update(&self.index);
        crc.update(body.as_bytes());
        let footer = RawFooter {
            body,
            crc: U32::new(crc.finalize()),
        };
        self.w.write_all(&self.index)?;
        self.w.write_all(footer.as_bytes())?;
        self.w.flush()?;
        let bytes = self.pos + self.index.len() as u64 + FOOTER_LEN as u64;
        let summary = SnapshotSummary {
            blocks: self.blocks,
            entries: self.entries,
            bytes,
        };
        Ok((self.w, summary))
    }

    fn flush_open(&mut self) -> io::Result<()> {
        if self.open_count == 0 {
            return Ok(());
        }
        let payload = std::mem::take(&mut self.open);
        let result = self.write_block(
            self.open_section.code(),
            self.open_db,
            self.open_count,
            &[&payload],
        );
        // Keep the allocation for the next block.
        self.open = payload;
        self.open.clear();
        self.open_count = 0;
        result
    }

    /// Writes one block whose payload is the concatenation of `parts`, and indexes it.
    fn write_block(&mut self, section: u8, db: u16, count: u32, parts: &[&[u8]]) -> io::Result<()> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let body = RawBlockBody {
            magic: BLOCK_MAGIC,
            section,
            flags: 0,
            db: U16::new(db),
            count: U32::new(count),
            len: U32::new(u32_len(len, "block")?),
            reserved: U32::new(0),
        };
        let mut crc = crc32fast::Hasher::new();
        crc.update(body.as_bytes());
        for part in parts {
            crc.update(part);
        }
        let header = RawBlockHeader {
            body,
            crc: U32::new(crc.finalize()),
        };
        self.w.write_all(header.as_bytes())?;
        for part in parts {
            self.w.write_all(part)?;
        }
        let record = RawIndexRecord {
            offset: U64::new(self.pos),
            count: U32::new(count),
            section,
            flags: 0,
            db: U16::new(db),
        };
        self.index.extend_from_slice(record.as_bytes());
        self.pos += (BLOCK_HEADER_LEN + len) as u64;
        self.blocks += 1;
        self.entries += u64::from(count);
        Ok(())
    }
}

/// One verified block: its CRC checked, its section known or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// Absolute offset of the block header.
    pub offset: u64,
    /// What the payload holds.
    pub section: Section,
    /// Database of the block's entries.
    pub db: u16,
    /// Number of entries in the payload.
    pub count: u32,
    /// The payload (for a keyspace block: entries back to back).
    pub payload: &'a [u8],
}

impl<'a> Block<'a> {
    /// The records of the block, each checked to lie inside the payload; the count must match
    /// and no byte may follow the last entry. Keyspace blocks hold entries; functions blocks
    /// (section 2) hold libraries in the same layout (key = name, value = code). A block of
    /// another section yields a single `Malformed` error.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            rest: self.payload,
            offset: self.offset + BLOCK_HEADER_LEN as u64,
            block_offset: self.offset,
            remaining: self.count,
            keyspace: matches!(
                self.section,
                Section::Keyspace | Section::Functions | Section::Search
            ),
            done: false,
        }
    }
}

/// One keyspace entry: `RESTORE key <expire_ms> <value> ABSTTL REPLACE` recreates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEntry<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Absolute expiry in Unix ms; 0 = no TTL.
    pub expire_ms: u64,
    /// The DUMP payload of the value.
    pub value: &'a [u8],
}

/// Iterator over a block's entries (see [`Block::entries`]); ends after the first error.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    rest: &'a [u8],
    /// Absolute offset of `rest`.
    offset: u64,
    block_offset: u64,
    remaining: u32,
    keyspace: bool,
    done: bool,
}

impl<'a> Entries<'a> {
    fn parse(&mut self) -> Option<KeyEntry<'a>> {
        let (key_len, rest) = self.rest.split_first_chunk::<4>()?;
        let (key, rest) = rest.split_at_checked(u32::from_le_bytes(*key_len) as usize)?;
        let (expire, rest) = rest.split_first_chunk::<8>()?;
        let (value_len, rest) = rest.split_first_chunk::<4>()?;
        let (value, rest) = rest.split_at_checked(u32::from_le_bytes(*value_len) as usize)?;
        self.offset += (self.rest.len() - rest.len()) as u64;
        self.rest = rest;
        Some(KeyEntry {
            key,
            expire_ms: u64::from_le_bytes(*expire),
            value,
        })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<KeyEntry<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let fail = |this: &mut Self, offset, what| {
            this.done = true;
            Some(Err(DecodeError::new(offset, ErrorKind::Malformed(what))))
        };
        if !self.keyspace {
            return fail(self, self.block_offset, "not a block of records");
        }
        if self.remaining == 0 {
            self.done = true;
            if !self.rest.is_empty() {
                return fail(self, self.offset, "bytes after the block's last entry");
            }
            return None;
        }
        match self.parse() {
            Some(entry) => {
                self.remaining -= 1;
                Some(Ok(entry))
            }
            None => fail(self, self.offset, "entry runs past the end of its block"),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (
            0,
            Some(if self.done {
                0
            } else {
                self.remaining as usize + 1
            }),
        )
    }
}

/// Reads the block at `off`, which must end by `limit`, checking magic, bounds, CRC and flags.
/// Returns it and the offset of its end.
fn read_block(bytes: &[u8], off: usize, limit: usize) -> Result<(Block<'_>, usize), DecodeError> {
    let at = |kind| DecodeError::new(off as u64, kind);
    let region = bytes.get(off..limit).ok_or(at(ErrorKind::Truncated))?;
    check_magic(region, &BLOCK_MAGIC).map_err(at)?;
    let (raw, rest) =
        RawBlockHeader::ref_from_prefix(region).map_err(|_| at(ErrorKind::Truncated))?;
    let len = raw.body.len.get() as usize;
    let payload = rest.get(..len).ok_or(at(ErrorKind::Truncated))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(raw.body.as_bytes());
    crc.update(payload);
    if crc.finalize() != raw.crc.get() {
        return Err(at(ErrorKind::BlockCrc));
    }
    let section = Section::from_code(raw.body.section);
    if section.is_known() && raw.body.flags != 0 {
        return Err(at(ErrorKind::Malformed("unknown block flags")));
    }
    let block = Block {
        offset: off as u64,
        section,
        db: raw.body.db.get(),
        count: raw.body.count.get(),
        payload,
    };
    Ok((block, off + BLOCK_HEADER_LEN + len))
}

/// The footer at `footer_off` and the index it covers, both verified by the footer CRC.
fn read_footer(
    bytes: &[u8],
    footer_off: usize,
) -> Result<(Footer, &[RawIndexRecord]), DecodeError> {
    let at = |kind| DecodeError::new(footer_off as u64, kind);
    let raw = bytes
        .get(footer_off..)
        .and_then(|b| RawFooter::ref_from_bytes(b).ok())
        .ok_or(at(ErrorKind::MissingFooter))?;
    if raw.body.magic != FOOTER_MAGIC {
        return Err(at(ErrorKind::MissingFooter));
    }
    let footer = Footer {
        index_offset: raw.body.index_offset.get(),
        block_count: raw.body.block_count.get(),
        entry_count: raw.body.entry_count.get(),
        lsn: raw.body.lsn.get(),
    };
    // The fields that locate the index are CRC-covered: if they do not line up, the footer
    // is what is damaged.
    let index_end = footer
        .block_count
        .checked_mul(INDEX_RECORD_LEN as u64)
        .and_then(|len| footer.index_offset.checked_add(len));
    if footer.index_offset < HEADER_LEN as u64 || index_end != Some(footer_off as u64) {
        return Err(at(ErrorKind::FooterCrc));
    }
    let index_bytes = bytes
        .get(footer.index_offset as usize..footer_off)
        .ok_or(at(ErrorKind::FooterCrc))?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(index_bytes);
    crc.update(raw.body.as_bytes());
    if crc.finalize() != raw.crc.get() {
        return Err(at(ErrorKind::FooterCrc));
    }
    let index =
        <[RawIndexRecord]>::ref_from_bytes(index_bytes).map_err(|_| at(ErrorKind::FooterCrc))?;
    Ok((footer, index))
}

/// A complete snapshot file held in memory (mmap it with memmap2 for big files), with its
/// header, footer and index verified.
#[derive(Debug)]
pub struct SnapshotReader<'a> {
    bytes: &'a [u8],
    header: SnapshotHeader,
    footer: Footer,
    index: &'a [RawIndexRecord],
}

impl<'a> SnapshotReader<'a> {
    /// Verifies the header (magic, version, CRC), the footer (magic — else `MissingFooter` —,
    /// CRC over index + footer, LSN equal to the header's) and the index (the first block
    /// right after the header, offsets increasing and below the index, counts summing to the
    /// footer's). Block payloads are checked later, by [`blocks`](Self::blocks).
    pub fn new(bytes: &'a [u8]) -> Result<SnapshotReader<'a>, DecodeError> {
        let header = SnapshotHeader::decode(bytes)?;
        let footer_off = bytes
            .len()
            .checked_sub(FOOTER_LEN)
            .filter(|&off| off >= HEADER_LEN)
            .ok_or(DecodeError::new(
                bytes.len() as u64,
                ErrorKind::MissingFooter,
            ))?;
        let (footer, index) = read_footer(bytes, footer_off)?;
        let at_footer = |what| DecodeError::new(footer_off as u64, ErrorKind::Malformed(what));
        if footer.lsn != header.lsn {
            return Err(at_footer("footer LSN differs from the header's"));
        }
        let mut min_offset = HEADER_LEN as u64;
        let mut entries = 0u64;
        for (i, rec) in index.iter().enumerate() {
            let off = rec.offset.get();
            let first_ok = i > 0 || off == HEADER_LEN as u64;
            let fits = off
                .checked_add(BLOCK_HEADER_LEN as u64)
                .is_some_and(|end| end <= footer.index_offset);
            if !first_ok || off < min_offset || !fits {
                let rec_off = footer.index_offset + (i * INDEX_RECORD_LEN) as u64;
                return Err(DecodeError::new(
                    rec_off,
                    ErrorKind::Malformed("index record out of order or out of bounds"),
                ));
            }
            min_offset = off + BLOCK_HEADER_LEN as u64;
            entries += u64::from(rec.count.get());
        }
        if index.is_empty() && footer.index_offset != HEADER_LEN as u64 {
            return Err(at_footer("bytes between the header and an empty index"));
        }
        if entries != footer.entry_count {
            return Err(at_footer("entry count differs from the index's"));
        }
        Ok(SnapshotReader {
            bytes,
            header,
            footer,
            index,
        })
    }

    /// The file header.
    pub fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    /// The footer.
    pub fn footer(&self) -> &Footer {
        &self.footer
    }

    /// The blocks in file order, each checked (magic, CRC, agreement with its index record,
    /// ending exactly where the next begins); the walk ends after the first error. Blocks of
    /// sections the caller does not know are yielded too: skip them.
    pub fn blocks(&self) -> Blocks<'a> {
        Blocks {
            bytes: self.bytes,
            index: self.index,
            index_offset: self.footer.index_offset as usize,
            next: 0,
            done: false,
        }
    }
}

/// Iterator over a complete snapshot's blocks (see [`SnapshotReader::blocks`]).
#[derive(Debug, Clone)]
pub struct Blocks<'a> {
    bytes: &'a [u8],
    index: &'a [RawIndexRecord],
    index_offset: usize,
    next: usize,
    done: bool,
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<Block<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rec = self.index.get(self.next)?;
        let limit = self
            .index
            .get(self.next + 1)
            .map_or(self.index_offset, |r| r.offset.get() as usize);
        self.next += 1;
        let off = rec.offset.get() as usize;
        let at = |what| DecodeError::new(off as u64, ErrorKind::Malformed(what));
        let result = read_block(self.bytes, off, self.index_offset).and_then(|(block, end)| {
            if end != limit {
                Err(at("block does not end where the next one starts"))
            } else if block.section.code() != rec.section
                || rec.flags != 0
                || block.db != rec.db.get()
                || block.count != rec.count.get()
            {
                Err(at("block header disagrees with its index record"))
            } else {
                Ok(block)
            }
        });
        self.done = result.is_err();
        Some(result)
    }
}

/// Walks the blocks of a possibly damaged snapshot from its header, without the footer: for
/// `moon-tool verify`/`repair` to find what is intact. Yields each block whose magic, bounds
/// and CRC check, and stops after the first error (a bad header is the first item). A walk
/// that reaches a valid index + footer ends with no error ([`BlockScan::reached_footer`]);
/// one that reaches the end of the file on a block boundary ends with no error either.
pub fn scan_blocks(bytes: &[u8]) -> BlockScan<'_> {
    match SnapshotHeader::decode(bytes) {
        Ok(header) => BlockScan {
            bytes,
            header: Some(header),
            pos: HEADER_LEN,
            pending: None,
            done: false,
            reached_footer: false,
        },
        Err(e) => BlockScan {
            bytes,
            header: None,
            pos: 0,
            pending: Some(e),
            done: false,
            reached_footer: false,
        },
    }
}

/// Iterator of [`scan_blocks`].
#[derive(Debug, Clone)]
pub struct BlockScan<'a> {
    bytes: &'a [u8],
    header: Option<SnapshotHeader>,
    pos: usize,
    pending: Option<DecodeError>,
    done: bool,
    reached_footer: bool,
}

impl BlockScan<'_> {
    /// The file header, if it verified.
    pub fn header(&self) -> Option<&SnapshotHeader> {
        self.header.as_ref()
    }

    /// Offset just past the last intact block yielded so far (where the walk stopped, once it
    /// has ended): the blocks before it can be salvaged.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// Whether the walk ended at a valid index + footer (the file is complete).
    pub fn reached_footer(&self) -> bool {
        self.reached_footer
    }

    /// The walk met bytes that are not a block: either the index of a valid footer (a clean
    /// end) or damage, returned.
    fn stop_at_non_block(&mut self) -> Option<DecodeError> {
        let bad_magic = DecodeError::new(self.pos as u64, ErrorKind::BadMagic);
        let footer_off = match self.bytes.len().checked_sub(FOOTER_LEN) {
            Some(off) if off >= self.pos => off,
            _ => return Some(bad_magic),
        };
        match read_footer(self.bytes, footer_off) {
            Ok((footer, _)) if footer.index_offset == self.pos as u64 => {
                self.reached_footer = true;
                None
            }
            Ok(_) => Some(bad_magic),
            Err(e) if e.kind == ErrorKind::MissingFooter => Some(bad_magic),
            Err(e) => Some(e),
        }
    }
}

impl<'a> Iterator for BlockScan<'a> {
    type Item = Result<Block<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        let looks_like_block = check_magic(rest, &BLOCK_MAGIC) != Err(ErrorKind::BadMagic);
        if !looks_like_block {
            self.done = true;
            return self.stop_at_non_block().map(Err);
        }
        match read_block(self.bytes, self.pos, self.bytes.len()) {
            Ok((block, end)) => {
                self.pos = end;
                Some(Ok(block))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The file name of the snapshot covering every record up to `lsn`.
pub fn snapshot_file_name(lsn: u64) -> String {
    format!("snap-{lsn:020}.snap")
}

/// The LSN named by a snapshot file name, `None` if `name` is not one (a `.snap.tmp` is not).
pub fn parse_snapshot_file_name(name: &str) -> Option<u64> {
    parse_numbered(name, "snap-", ".snap")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Owned = (u16, Vec<u8>, u64, Vec<u8>);

    fn write(lsn: u64, entries: &[Owned]) -> (Vec<u8>, SnapshotSummary) {
        let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(1, 4, lsn, 77)).unwrap();
        for (db, k, exp, v) in entries {
            w.add_entry(*db, k, *exp, v).unwrap();
        }
        w.finish().unwrap()
    }

    fn read(bytes: &[u8]) -> Vec<(u16, Vec<u8>, u64, Vec<u8>)> {
        let r = SnapshotReader::new(bytes).unwrap();
        let mut out = Vec::new();
        for block in r.blocks() {
            let block = block.unwrap();
            let mut n = 0;
            for e in block.entries() {
                let e = e.unwrap();
                out.push((block.db, e.key.to_vec(), e.expire_ms, e.value.to_vec()));
                n += 1;
            }
            assert_eq!(n, block.count);
        }
        out
    }

    fn entry(db: u16, key: &str, exp: u64, value_len: usize) -> Owned {
        let value = (0..value_len).map(|i| (i * 7) as u8).collect();
        (db, key.as_bytes().to_vec(), exp, value)
    }

    #[test]
    fn header_layout_and_errors() {
        let h = SnapshotHeader::new(3, 8, 1234, 99);
        let b = h.encode();
        assert_eq!(&b[..8], b"MOONSNAP");
        assert_eq!(&b[8..10], &[1, 0]);
        assert_eq!(&b[10..12], &[64, 0]);
        assert_eq!(&b[12..14], &[3, 0]);
        assert_eq!(&b[14..16], &[8, 0]);
        assert_eq!(&b[16..24], &1234u64.to_le_bytes());
        assert_eq!(&b[24..32], &99u64.to_le_bytes());
        assert!(b[32..60].iter().all(|&x| x == 0));
        assert_eq!(&b[60..], &checksum(&b[..60]).to_le_bytes());
        assert_eq!(SnapshotHeader::decode(&b), Ok(h));
        let mut v2 = b;
        v2[8] = 2;
        assert_eq!(
            SnapshotHeader::decode(&v2).unwrap_err().kind,
            ErrorKind::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        );
        assert_eq!(
            SnapshotHeader::decode(b"MOONWAL\0").unwrap_err().kind,
            ErrorKind::BadMagic
        );
        assert_eq!(
            SnapshotHeader::decode(&b[..63]).unwrap_err().kind,
            ErrorKind::Truncated
        );
    }

    #[test]
    fn file_layout() {
        let (bytes, summary) = write(5, &[entry(2, "k", 0, 3)]);
        // Header, one block of one entry, one index record, footer.
        let payload = 4 + 1 + 8 + 4 + 3;
        assert_eq!(bytes.len(), 64 + 24 + payload + 16 + 48);
        assert_eq!(
            summary,
            SnapshotSummary {
                blocks: 1,
                entries: 1,
                bytes: bytes.len() as u64
            }
        );
        let blk = &bytes[64..];
        assert_eq!(&blk[..4], b"MBLK");
        assert_eq!(blk[4], 1);
        assert_eq!(blk[5], 0);
        assert_eq!(&blk[6..8], &2u16.to_le_bytes());
        assert_eq!(&blk[8..12], &1u32.to_le_bytes());
        assert_eq!(&blk[12..16], &(payload as u32).to_le_bytes());
        assert_eq!(&blk[16..20], &[0; 4]);
        let mut h = crc32fast::Hasher::new();
        h.update(&blk[..20]);
        h.update(&blk[24..24 + payload]);
        assert_eq!(&blk[20..24], &h.finalize().to_le_bytes());
        assert_eq!(&blk[24..28], &1u32.to_le_bytes());
        assert_eq!(blk[28], b'k');
        let idx_off = 64 + 24 + payload;
        let idx = &bytes[idx_off..];
        assert_eq!(&idx[..8], &64u64.to_le_bytes());
        assert_eq!(&idx[8..12], &1u32.to_le_bytes());
        assert_eq!(idx[12], 1);
        assert_eq!(idx[13], 0);
        assert_eq!(&idx[14..16], &2u16.to_le_bytes());
        let f = &bytes[idx_off + 16..];
        assert_eq!(&f[..8], b"MOONSEND");
        assert_eq!(&f[8..16], &(idx_off as u64).to_le_bytes());
        assert_eq!(&f[16..24], &1u64.to_le_bytes());
        assert_eq!(&f[24..32], &1u64.to_le_bytes());
        assert_eq!(&f[32..40], &5u64.to_le_bytes());
        assert_eq!(&f[40..44], &[0; 4]);
        assert_eq!(
            &f[44..48],
            &checksum(&bytes[idx_off..idx_off + 16 + 44]).to_le_bytes()
        );
        let r = SnapshotReader::new(&bytes).unwrap();
        assert_eq!(r.header().lsn, 5);
        assert_eq!(
            r.footer(),
            &Footer {
                index_offset: idx_off as u64,
                block_count: 1,
                entry_count: 1,
                lsn: 5
            }
        );
    }

    #[test]
    fn empty_snapshot() {
        let (bytes, summary) = write(0, &[]);
        assert_eq!(bytes.len(), 64 + 48);
        assert_eq!(summary.blocks, 0);
        assert!(read(&bytes).is_empty());
        let mut scan = scan_blocks(&bytes);
        assert!(scan.next().is_none());
        assert!(scan.reached_footer());
    }

    #[test]
    fn blocks_close_at_target_and_on_db_change() {
        // 1000-byte values: 64 per block... roughly; check every block stays under the target
        // except the one holding the huge entry.
        let mut entries: Vec<Owned> = (0..200)
            .map(|i| entry(0, &format!("key:{i}"), i, 1000))
            .collect();
        entries.push(entry(1, "other-db", 0, 10));
        entries.push(entry(1, "huge", 5, 3 * BLOCK_TARGET));
        entries.push(entry(1, "after", 0, 10));
        let (bytes, summary) = write(9, &entries);
        assert_eq!(summary.entries, entries.len() as u64);
        assert_eq!(read(&bytes), entries);
        let r = SnapshotReader::new(&bytes).unwrap();
        let blocks: Vec<Block<'_>> = r.blocks().map(Result::unwrap).collect();
        assert_eq!(blocks.len() as u64, summary.blocks);
        let dbs: Vec<(u16, u32)> = blocks.iter().map(|b| (b.db, b.count)).collect();
        let db0: u32 = dbs.iter().filter(|d| d.0 == 0).map(|d| d.1).sum();
        assert_eq!(db0, 200);
        // Every db-0 block but the last is full: closing it was forced by the next entry.
        let db0_blocks: Vec<&Block<'_>> = blocks.iter().filter(|b| b.db == 0).collect();
        let (last_db0, full) = db0_blocks.split_last().unwrap();
        for b in full {
            let entry_len = 4 + 8 + 8 + 4 + 1000;
            assert!(b.payload.len() <= BLOCK_TARGET);
            assert!(b.payload.len() + entry_len > BLOCK_TARGET);
        }
        assert!(last_db0.payload.len() <= BLOCK_TARGET);
        // The db-1 entries: a small block, the huge entry alone, then the tail.
        let db1: Vec<(u32, usize)> = blocks
            .iter()
            .filter(|b| b.db == 1)
            .map(|b| (b.count, b.payload.len()))
            .collect();
        assert_eq!(db1.len(), 3);
        assert_eq!(db1[1], (1, 4 + 4 + 8 + 4 + 3 * BLOCK_TARGET));
        let huge = blocks
            .iter()
            .find(|b| b.payload.len() > BLOCK_TARGET)
            .unwrap();
        assert_eq!(huge.count, 1);
        // The scan walk sees the same blocks and ends at the footer.
        let mut scan = scan_blocks(&bytes);
        let scanned: Vec<Block<'_>> = scan.by_ref().map(Result::unwrap).collect();
        assert_eq!(scanned, blocks);
        assert!(scan.reached_footer());
        assert_eq!(scan.position(), r.footer().index_offset);
    }

    #[test]
    fn other_sections_pass_through() {
        let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 1, 0)).unwrap();
        w.add_entry(0, b"a", 0, b"x").unwrap();
        w.add_block(Section::Functions, 0, 2, b"lib-bytes").unwrap();
        w.add_block(Section::Unknown(200), 3, 0, b"").unwrap();
        w.add_entry(0, b"b", 0, b"y").unwrap();
        let (bytes, summary) = w.finish().unwrap();
        assert_eq!(summary.blocks, 4);
        assert_eq!(summary.entries, 4);
        let r = SnapshotReader::new(&bytes).unwrap();
        let blocks: Vec<Block<'_>> = r.blocks().map(Result::unwrap).collect();
        let sections: Vec<Section> = blocks.iter().map(|b| b.section).collect();
        assert_eq!(
            sections,
            vec![
                Section::Keyspace,
                Section::Functions,
                Section::Unknown(200),
                Section::Keyspace
            ]
        );
        assert_eq!(blocks[1].payload, b"lib-bytes");
        assert!(matches!(
            blocks[1].entries().next(),
            Some(Err(DecodeError {
                kind: ErrorKind::Malformed(_),
                ..
            }))
        ));
        for code in 0..=255u8 {
            assert_eq!(Section::from_code(code).code(), code);
        }
    }

    #[test]
    fn function_records_share_the_keyspace_layout() {
        let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 7, 0)).unwrap();
        w.add_function(b"lib_a", b"#!lua name=lib_a\nreturn 1")
            .unwrap();
        w.add_function(b"lib_b", b"#!lua name=lib_b\nreturn 2")
            .unwrap();
        w.add_entry(0, b"k", 0, b"v").unwrap();
        // A library larger than a block gets a block of its own, like a large entry.
        let huge = vec![b'x'; BLOCK_TARGET + 10];
        w.add_function(b"huge", &huge).unwrap();
        let (bytes, summary) = w.finish().unwrap();
        assert_eq!(summary.entries, 4);
        let r = SnapshotReader::new(&bytes).unwrap();
        let blocks: Vec<Block<'_>> = r.blocks().map(Result::unwrap).collect();
        let shape: Vec<(Section, u16, u32)> =
            blocks.iter().map(|b| (b.section, b.db, b.count)).collect();
        assert_eq!(
            shape,
            vec![
                (Section::Functions, 0, 2),
                (Section::Keyspace, 0, 1),
                (Section::Functions, 0, 1)
            ]
        );
        let libs: Vec<(Vec<u8>, u64, Vec<u8>)> = blocks[0]
            .entries()
            .map(|e| e.map(|e| (e.key.to_vec(), e.expire_ms, e.value.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            libs,
            vec![
                (b"lib_a".to_vec(), 0, b"#!lua name=lib_a\nreturn 1".to_vec()),
                (b"lib_b".to_vec(), 0, b"#!lua name=lib_b\nreturn 2".to_vec()),
            ]
        );
        let big = blocks[2].entries().next().unwrap().unwrap();
        assert_eq!((big.key, big.value.len()), (&b"huge"[..], huge.len()));
        // The block layout is exactly the keyspace one: section byte 2.
        assert_eq!(bytes[64 + 4], 2);
    }

    #[test]
    fn malformed_entries_are_reported() {
        // Hand-built keyspace blocks with valid CRCs and bad contents.
        let cases: [(u32, Vec<u8>); 3] = [
            (
                2,
                [
                    &1u32.to_le_bytes()[..],
                    b"k",
                    &0u64.to_le_bytes(),
                    &0u32.to_le_bytes(),
                ]
                .concat(),
            ),
            (1, [&9u32.to_le_bytes()[..], b"k"].concat()),
            (0, vec![1]),
        ];
        for (count, payload) in cases {
            let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 1, 0)).unwrap();
            w.add_block(Section::Keyspace, 0, count, &payload).unwrap();
            let (bytes, _) = w.finish().unwrap();
            let r = SnapshotReader::new(&bytes).unwrap();
            let block = r.blocks().next().unwrap().unwrap();
            let last = block.entries().last().unwrap();
            let err = last.unwrap_err();
            assert!(matches!(err.kind, ErrorKind::Malformed(_)));
            assert!(err.offset >= 64 + 24 && err.offset <= (64 + 24 + payload.len()) as u64);
        }
    }

    #[test]
    fn missing_or_bad_footer() {
        let (bytes, _) = write(3, &[entry(0, "a", 0, 10), entry(0, "b", 0, 10)]);
        let footer_off = bytes.len() - 48;
        for cut in [0, 10, 64, 100, footer_off, bytes.len() - 1] {
            let err = SnapshotReader::new(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(
                    err.kind,
                    ErrorKind::MissingFooter | ErrorKind::Truncated | ErrorKind::FooterCrc
                ),
                "{cut}: {err}"
            );
        }
        assert_eq!(
            SnapshotReader::new(&bytes[..footer_off]).unwrap_err().kind,
            ErrorKind::MissingFooter
        );
        // A truncated file still has its blocks walkable.
        let mut scan = scan_blocks(&bytes[..footer_off - 16]);
        assert_eq!(scan.by_ref().filter(Result::is_ok).count(), 1);
        assert!(!scan.reached_footer());
        assert_eq!(scan.position(), (footer_off - 16) as u64);
        // Footer LSN must match the header's.
        let mut b = bytes.clone();
        b[footer_off + 32] ^= 1;
        let idx = b[footer_off - 16..footer_off + 44].to_vec();
        b[footer_off + 44..].copy_from_slice(&checksum(&idx).to_le_bytes());
        assert!(matches!(
            SnapshotReader::new(&b).unwrap_err().kind,
            ErrorKind::Malformed(_)
        ));
    }

    #[test]
    fn file_names() {
        assert_eq!(snapshot_file_name(1234), "snap-00000000000000001234.snap");
        assert_eq!(
            parse_snapshot_file_name("snap-00000000000000001234.snap"),
            Some(1234)
        );
        assert_eq!(
            parse_snapshot_file_name("snap-00000000000000001234.snap.tmp"),
            None
        );
        assert_eq!(
            parse_snapshot_file_name("wal-00000000000000001234.wal"),
            None
        );
    }

    fn owned() -> impl Strategy<Value = Owned> {
        (
            0u16..3,
            proptest::collection::vec(any::<u8>(), 0..30),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..3000),
        )
    }

    proptest! {
        #[test]
        fn entries_round_trip(
            lsn in any::<u64>(),
            mut entries in proptest::collection::vec(owned(), 0..120),
        ) {
            // Group by db as a snapshot walk does, keeping the order inside a db.
            entries.sort_by_key(|e| e.0);
            let (bytes, summary) = write(lsn, &entries);
            prop_assert_eq!(summary.bytes, bytes.len() as u64);
            prop_assert_eq!(summary.entries, entries.len() as u64);
            prop_assert_eq!(read(&bytes), entries);
            prop_assert_eq!(SnapshotReader::new(&bytes).unwrap().footer().lsn, lsn);
        }

        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut bytes = SnapshotHeader::new(0, 1, 1, 0).encode().to_vec();
            bytes.extend_from_slice(&tail);
            if let Ok(r) = SnapshotReader::new(&bytes) {
                for b in r.blocks().flatten() {
                    for _ in b.entries() {}
                }
            }
            for b in scan_blocks(&bytes).flatten() {
                for _ in b.entries() {}
            }
        }
    }
}
