//! Reading snapshots that may be damaged: every block whose CRC verifies, and the byte regions
//! that could not be read, with what they claimed to hold.
//!
//! A complete file (valid footer) is walked through its index, so a bad block never hides the
//! blocks after it; a file without a valid footer is scanned block by block from the header, and
//! after a bad region the scan resumes at the next offset holding a block whose CRC verifies.
//! Every block is validated by `moon_formats` itself (`SnapshotReader::blocks`, or `scan_blocks`
//! over a copy of one block behind a synthetic header), never by a second implementation here.
//!
//! Invariants: `blocks` are in file order and never overlap `bad` regions; together they cover
//! `[HEADER_LEN, index start)` (or `[HEADER_LEN, EOF)` without a footer).

use moon_formats::DecodeError;
use moon_formats::ErrorKind;
use moon_formats::snapshot::{
    BLOCK_HEADER_LEN, BLOCK_MAGIC, Block, FOOTER_LEN, FOOTER_MAGIC, Footer, HEADER_LEN,
    INDEX_RECORD_LEN, Section, SnapshotHeader, SnapshotReader, scan_blocks,
};

/// One record of a snapshot's index (SPEC: offset u64, count u32, section u8, flags u8, db u16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexRecord {
    /// Offset of the block.
    pub offset: u64,
    /// Entries in it.
    pub count: u32,
    /// Section code.
    pub section: u8,
    /// Database.
    pub db: u16,
}

/// A region of the file holding no readable block.
#[derive(Debug, Clone)]
pub struct BadRegion {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// Why it is unreadable.
    pub error: DecodeError,
    /// Entries the region held per the index (verified footer) or per an unverified block
    /// header / damaged index; `None` when nothing tells.
    pub claimed: Option<Claim>,
}

/// What a bad region held, and how sure we are.
#[derive(Debug, Clone)]
pub struct Claim {
    /// (db, entry count) per block that was there.
    pub blocks: Vec<(u16, u32)>,
    /// True when it comes from an index whose footer CRC verified.
    pub verified: bool,
}

impl Claim {
    /// Total entries claimed.
    pub fn entries(&self) -> u64 {
        self.blocks.iter().map(|&(_, c)| u64::from(c)).sum()
    }
}

/// What could be read from a snapshot file.
pub struct Salvage<'a> {
    /// The header, if it decodes.
    pub header: Result<SnapshotHeader, DecodeError>,
    /// The footer, if the file is complete (`SnapshotReader::new` accepted it), else why not.
    pub complete: Result<Footer, DecodeError>,
    /// Intact blocks in file order.
    pub blocks: Vec<Block<'a>>,
    /// Unreadable regions in file order.
    pub bad: Vec<BadRegion>,
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Parses `n` index records at `at` (no CRC check: callers say whether the footer verified).
fn parse_index(bytes: &[u8], at: u64, n: u64) -> Option<Vec<IndexRecord>> {
    let at = usize::try_from(at).ok()?;
    let n = usize::try_from(n).ok()?;
    let len = n.checked_mul(INDEX_RECORD_LEN)?;
    let region = bytes.get(at..at.checked_add(len)?)?;
    Some(
        region
            .chunks_exact(INDEX_RECORD_LEN)
            .filter_map(|r| {
                Some(IndexRecord {
                    offset: u64_at(r, 0)?,
                    count: u32_at(r, 8)?,
                    section: *r.get(12)?,
                    db: u16_at(r, 14)?,
                })
            })
            .collect(),
    )
}

/// The index of a file whose footer verified.
pub fn index_of(bytes: &[u8], footer: &Footer) -> Vec<IndexRecord> {
    parse_index(bytes, footer.index_offset, footer.block_count).unwrap_or_default()
}

/// The index of a file whose footer does not verify, if its footer magic and shape still look
/// right (used only to say what a lost region probably held).
fn unverified_index(bytes: &[u8]) -> Option<Vec<IndexRecord>> {
    let foff = bytes.len().checked_sub(FOOTER_LEN)?;
    let footer = bytes.get(foff..)?;
    if footer.get(..8)? != FOOTER_MAGIC {
        return None;
    }
    let index_offset = u64_at(footer, 8)?;
    let count = u64_at(footer, 16)?;
    let end = count
        .checked_mul(INDEX_RECORD_LEN as u64)?
        .checked_add(index_offset)?;
    (end == foff as u64).then_some(())?;
    parse_index(bytes, index_offset, count)
}

/// Reads the block at `off`, which must end exactly at `limit` if `limit` is given, validated by
/// moon-formats (a copy of the block behind a synthetic header goes through `scan_blocks`).
pub fn block_at(bytes: &[u8], off: u64, limit: Option<u64>) -> Result<Block<'_>, DecodeError> {
    let start = usize::try_from(off).unwrap_or(usize::MAX);
    let at = |kind| DecodeError::new(off, kind);
    let region_end = match limit {
        Some(l) => usize::try_from(l).unwrap_or(usize::MAX).min(bytes.len()),
        None => bytes.len(),
    };
    let region = bytes
        .get(start..region_end)
        .ok_or(at(ErrorKind::Truncated))?;
    // Only the block header and its payload are copied: the scan reads exactly one block.
    let len = u32_at(region, 12).ok_or(at(ErrorKind::Truncated))? as usize;
    let block_len = BLOCK_HEADER_LEN.saturating_add(len);
    let mut synthetic = SnapshotHeader::new(0, 1, 0, 0).encode().to_vec();
    synthetic.extend_from_slice(region.get(..block_len).unwrap_or(region));
    let b = match scan_blocks(&synthetic).next() {
        Some(Ok(b)) => b,
        Some(Err(e)) => {
            let rel = e.offset.saturating_sub(HEADER_LEN as u64);
            return Err(DecodeError::new(off + rel, e.kind));
        }
        None => return Err(at(ErrorKind::Truncated)),
    };
    if limit.is_some() && block_len != region.len() {
        return Err(at(ErrorKind::Malformed(
            "block does not end where the next one starts",
        )));
    }
    let payload = region
        .get(BLOCK_HEADER_LEN..block_len)
        .ok_or(at(ErrorKind::Truncated))?;
    Ok(Block {
        offset: off,
        section: b.section,
        db: b.db,
        count: b.count,
        payload,
    })
}

/// Reads everything readable from a snapshot file.
pub fn salvage(bytes: &[u8]) -> Salvage<'_> {
    let header = SnapshotHeader::decode(bytes);
    match SnapshotReader::new(bytes) {
        Ok(reader) => {
            let footer = *reader.footer();
            let (blocks, bad) = via_index(bytes, &reader, &footer);
            Salvage {
                header,
                complete: Ok(footer),
                blocks,
                bad,
            }
        }
        Err(e) => {
            let (blocks, bad) = sequential(bytes);
            Salvage {
                header,
                complete: Err(e),
                blocks,
                bad,
            }
        }
    }
}

fn via_index<'a>(
    bytes: &'a [u8],
    reader: &SnapshotReader<'a>,
    footer: &Footer,
) -> (Vec<Block<'a>>, Vec<BadRegion>) {
    let index = index_of(bytes, footer);
    let limit_of = |i: usize| {
        index
            .get(i + 1)
            .map_or(footer.index_offset, |r: &IndexRecord| r.offset)
    };
    let mut blocks = Vec::with_capacity(index.len());
    let mut bad = Vec::new();
    let mut next = 0usize;
    let lose = |i: usize, error: DecodeError, bad: &mut Vec<BadRegion>| {
        if let Some(rec) = index.get(i) {
            bad.push(BadRegion {
                start: rec.offset,
                end: limit_of(i),
                error,
                claimed: Some(Claim {
                    blocks: vec![(rec.db, rec.count)],
                    verified: true,
                }),
            });
        }
    };
    // The fast path: formats' own iterator, until its first error.
    for r in reader.blocks() {
        match r {
            Ok(b) => blocks.push(b),
            Err(e) => {
                lose(next, e, &mut bad);
                next += 1;
                break;
            }
        }
        next += 1;
    }
    // After an error the iterator stops; the index still locates every later block.
    for i in next..index.len() {
        let Some(rec) = index.get(i) else { break };
        match block_at(bytes, rec.offset, Some(limit_of(i))) {
            Ok(b) if b.section.code() == rec.section && b.db == rec.db && b.count == rec.count => {
                blocks.push(b)
            }
            Ok(_) => lose(
                i,
                DecodeError::new(
                    rec.offset,
                    ErrorKind::Malformed("block header disagrees with its index record"),
                ),
                &mut bad,
            ),
            Err(e) => lose(i, e, &mut bad),
        }
    }
    (blocks, bad)
}

/// Offsets after `from` where a block whose CRC verifies starts (the first one).
fn next_good_block(bytes: &[u8], from: u64) -> Option<(u64, Block<'_>)> {
    let start = usize::try_from(from).ok()?;
    let tail = bytes.get(start..)?;
    let mut i = 0usize;
    while let Some(pos) = tail
        .get(i..)?
        .windows(BLOCK_MAGIC.len())
        .position(|w| w == BLOCK_MAGIC)
    {
        let off = (start + i + pos) as u64;
        if let Ok(b) = block_at(bytes, off, None) {
            return Some((off, b));
        }
        i += pos + 1;
    }
    None
}

fn sequential(bytes: &[u8]) -> (Vec<Block<'_>>, Vec<BadRegion>) {
    let mut blocks = Vec::new();
    let mut bad = Vec::new();
    let hint = unverified_index(bytes);
    // Where the (damaged) index starts, if the footer still says so: the scan stops there.
    let index_start = hint
        .as_ref()
        .and_then(|_| u64_at(bytes.get(bytes.len().saturating_sub(FOOTER_LEN)..)?, 8));
    let end = index_start.unwrap_or(bytes.len() as u64);
    let claim_for = |start: u64, stop: u64, damaged_header: Option<(u16, u32)>| {
        if let Some(idx) = &hint {
            let blocks: Vec<(u16, u32)> = idx
                .iter()
                .filter(|r| r.offset >= start && r.offset < stop)
                .map(|r| (r.db, r.count))
                .collect();
            if !blocks.is_empty() {
                return Some(Claim {
                    blocks,
                    verified: false,
                });
            }
        }
        damaged_header.map(|h| Claim {
            blocks: vec![h],
            verified: false,
        })
    };
    let mut pos = HEADER_LEN as u64;
    while pos < end {
        match block_at(bytes, pos, None) {
            Ok(b) => {
                pos += (BLOCK_HEADER_LEN + b.payload.len()) as u64;
                blocks.push(b);
            }
            Err(error) => {
                let p = pos as usize;
                let damaged_header = bytes
                    .get(p..p + 4)
                    .filter(|m| *m == BLOCK_MAGIC)
                    .and_then(|_| Some((u16_at(bytes, p + 6)?, u32_at(bytes, p + 8)?)));
                let resume = next_good_block(bytes, pos + 1).filter(|&(off, _)| off < end);
                let stop = resume.as_ref().map_or(end, |&(off, _)| off);
                bad.push(BadRegion {
                    start: pos,
                    end: stop,
                    error,
                    claimed: claim_for(pos, stop, damaged_header),
                });
                pos = stop;
            }
        }
    }
    (blocks, bad)
}

/// A keyspace entry with its absolute offset.
pub struct PlacedEntry<'a> {
    /// Offset of the entry's `key_len` field.
    pub offset: u64,
    /// The entry.
    pub entry: moon_formats::snapshot::KeyEntry<'a>,
}

/// A keyspace block's entries with their offsets; the error (if any) ends the list.
pub fn entries<'a>(b: &Block<'a>) -> (Vec<PlacedEntry<'a>>, Option<DecodeError>) {
    let mut out = Vec::with_capacity(b.count as usize);
    let mut off = b.offset + BLOCK_HEADER_LEN as u64;
    for r in b.entries() {
        match r {
            Ok(entry) => {
                let len = moon_formats::snapshot::entry_len(entry.key, entry.value);
                out.push(PlacedEntry { offset: off, entry });
                off += len;
            }
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// Display name of a section.
pub fn section_name(s: Section) -> String {
    match s {
        Section::Keyspace => "keyspace".into(),
        Section::Functions => "functions".into(),
        Section::Graph => "graph".into(),
        Section::Vector => "vector".into(),
        Section::Text => "text".into(),
        Section::Search => "search".into(),
        Section::Unknown(c) => format!("unknown({c})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moon_formats::snapshot::SnapshotWriter;

    fn snapshot(entries: usize) -> Vec<u8> {
        let h = SnapshotHeader::new(0, 1, 9, 1);
        let mut w = SnapshotWriter::new(Vec::new(), &h).unwrap_or_else(|e| panic!("{e}"));
        let big = vec![b'x'; 20_000];
        for i in 0..entries {
            let key = format!("k{i}");
            w.add_entry((i % 2) as u16, key.as_bytes(), 0, &big)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        w.finish().unwrap_or_else(|e| panic!("{e}")).0
    }

    #[test]
    fn intact_file_reads_all_blocks() {
        let bytes = snapshot(10);
        let s = salvage(&bytes);
        assert!(s.complete.is_ok());
        assert!(s.bad.is_empty());
        let n: u32 = s.blocks.iter().map(|b| b.count).sum();
        assert_eq!(n, 10);
    }

    #[test]
    fn zeroed_block_is_skipped_via_index_and_scan() {
        let mut bytes = snapshot(10);
        let s = salvage(&bytes);
        let victim = s.blocks[2].offset as usize;
        let total = s.blocks.len();
        for b in &mut bytes[victim..victim + 100] {
            *b = 0;
        }
        let s = salvage(&bytes);
        assert_eq!(s.blocks.len(), total - 1);
        assert_eq!(s.bad.len(), 1);
        assert_eq!(s.bad[0].start, victim as u64);
        assert!(s.bad[0].claimed.as_ref().is_some_and(|c| c.verified));
        // Without the footer, the sequential scan resyncs to the next block.
        let cut = bytes.len() - 10;
        let s = salvage(&bytes[..cut]);
        assert!(s.complete.is_err());
        assert_eq!(s.blocks.len(), total - 1);
        assert_eq!(s.bad[0].start, victim as u64);
        // The second region is what is left of the index: no block, no claim.
        assert_eq!(s.bad.len(), 2);
        assert!(s.bad[1].claimed.is_none());
    }
}
