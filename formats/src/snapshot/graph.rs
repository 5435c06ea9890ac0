//! Section 3 of a snapshot: property graphs (SPEC.md §8.2, "Graph payload"). One graph key is a
//! run of consecutive section-3 blocks, its *parts*; their data, concatenated, is the graph's
//! storage encoding (`moon_graph::Graph::encode`, SPEC §9.1), which this crate treats as opaque
//! bytes. Splitting a graph over blocks lets the writer stream it in pieces of about
//! [`BLOCK_TARGET`](super::BLOCK_TARGET) bytes: neither writer nor reader ever holds more than
//! one part's block beyond the graph's own encoding.
//!
//! Part payload, layout version 1, little-endian:
//! `u8 version (1) · u8 flags (bit 0 first, bit 1 last) · u32 seq · u32 key_len · key ·
//! u64 expire_ms · u64 data_offset · data (the rest of the payload)`.
//! The block header's count is 1 on a graph's first part and 0 on the others, so the footer's
//! entry count counts each graph once.
//!
//! Invariants: a part is accepted only if it continues the run exactly (same db, key and
//! expiry, `seq` = previous + 1, `data_offset` = bytes received so far); a run ends with a
//! part flagged last; a first part while a run is open, a continuation without one, or the end
//! of the blocks inside a run are errors at the offending (or the run's first) block.
//! Decoding never panics; every error carries the absolute offset of the block at fault.

use std::io::{self, Write};

use super::{Block, Section, SnapshotWriter, u32_len};
use crate::error::{DecodeError, ErrorKind};

/// Layout version of a section-3 part payload.
pub const GRAPH_PART_VERSION: u8 = 1;
/// Part flag: the first part of a graph.
pub const PART_FIRST: u8 = 1;
/// Part flag: the last part of a graph.
pub const PART_LAST: u8 = 2;

/// One decoded section-3 part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphPart<'a> {
    /// Offset of the block holding it.
    pub block_offset: u64,
    /// Database of the graph key.
    pub db: u16,
    /// `PART_FIRST` / `PART_LAST` bits.
    pub flags: u8,
    /// Part number within the graph, 0 for the first.
    pub seq: u32,
    /// The graph's key.
    pub key: &'a [u8],
    /// Absolute expiry in Unix ms, 0 = none.
    pub expire_ms: u64,
    /// Where `data` starts within the graph's encoding.
    pub data_offset: u64,
    /// This part's bytes of the graph's encoding.
    pub data: &'a [u8],
}

impl GraphPart<'_> {
    /// Whether this is the first part of its graph.
    pub fn is_first(&self) -> bool {
        self.flags & PART_FIRST != 0
    }

    /// Whether this is the last part of its graph.
    pub fn is_last(&self) -> bool {
        self.flags & PART_LAST != 0
    }
}

/// Bytes a part payload takes before its data.
pub fn part_overhead(key: &[u8]) -> usize {
    1 + 1 + 4 + 4 + key.len() + 8 + 8
}

impl<W: Write> SnapshotWriter<W> {
    /// Writes one part of a graph as a section-3 block of its own (closing the open keyspace
    /// block first). The caller writes a graph's parts consecutively: `seq` 0 flagged `first`,
    /// ... , the last flagged `last` (a one-part graph is both), `data_offset` the bytes of the
    /// encoding written in its earlier parts.
    #[allow(clippy::too_many_arguments)]
    pub fn add_graph_part(
        &mut self,
        db: u16,
        key: &[u8],
        expire_ms: u64,
        seq: u32,
        last: bool,
        data_offset: u64,
        data: &[u8],
    ) -> io::Result<()> {
        self.add_part(
            Section::Graph,
            db,
            key,
            expire_ms,
            seq,
            last,
            data_offset,
            data,
        )
    }

    /// Writes one part of a run in `section` (3, graphs; 4, FT index contents, which reuse
    /// this layout with the index name as the key): see [`SnapshotWriter::add_graph_part`].
    #[allow(clippy::too_many_arguments)]
    pub fn add_part(
        &mut self,
        section: Section,
        db: u16,
        key: &[u8],
        expire_ms: u64,
        seq: u32,
        last: bool,
        data_offset: u64,
        data: &[u8],
    ) -> io::Result<()> {
        let key_len = u32_len(key.len(), "graph key")?;
        u32_len(part_overhead(key) + data.len(), "graph part")?;
        let first = seq == 0;
        let flags = if first { PART_FIRST } else { 0 } | if last { PART_LAST } else { 0 };
        let mut head = Vec::with_capacity(part_overhead(key));
        head.push(GRAPH_PART_VERSION);
        head.push(flags);
        head.extend_from_slice(&seq.to_le_bytes());
        head.extend_from_slice(&key_len.to_le_bytes());
        head.extend_from_slice(key);
        head.extend_from_slice(&expire_ms.to_le_bytes());
        head.extend_from_slice(&data_offset.to_le_bytes());
        self.flush_open()?;
        self.write_block(section.code(), db, u32::from(first), &[&head, data])
    }
}

/// Parses a section-3 block's payload (not its continuity: see [`GraphAssembler`]).
pub fn parse_part<'a>(block: &Block<'a>) -> Result<GraphPart<'a>, DecodeError> {
    parse_part_in(block, Section::Graph)
}

/// [`parse_part`] for a run of `section` (section 4 reuses the layout).
pub fn parse_part_in<'a>(
    block: &Block<'a>,
    section: Section,
) -> Result<GraphPart<'a>, DecodeError> {
    let bad = |what| DecodeError::new(block.offset, ErrorKind::Malformed(what));
    if block.section != section {
        return Err(bad("not a graph block"));
    }
    let p = block.payload;
    let (&[version, flags], rest) = p
        .split_first_chunk::<2>()
        .ok_or(bad("graph part too short"))?;
    if version != GRAPH_PART_VERSION {
        return Err(bad("unknown graph part layout version"));
    }
    if flags & !(PART_FIRST | PART_LAST) != 0 {
        return Err(bad("unknown graph part flags"));
    }
    let (seq, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(bad("graph part too short"))?;
    let (key_len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(bad("graph part too short"))?;
    let (key, rest) = rest
        .split_at_checked(u32::from_le_bytes(*key_len) as usize)
        .ok_or(bad("graph part key runs past its block"))?;
    let (expire, rest) = rest
        .split_first_chunk::<8>()
        .ok_or(bad("graph part too short"))?;
    let (data_offset, data) = rest
        .split_first_chunk::<8>()
        .ok_or(bad("graph part too short"))?;
    let part = GraphPart {
        block_offset: block.offset,
        db: block.db,
        flags,
        seq: u32::from_le_bytes(*seq),
        key,
        expire_ms: u64::from_le_bytes(*expire),
        data_offset: u64::from_le_bytes(*data_offset),
        data,
    };
    let first = part.is_first();
    if first != (part.seq == 0) || first != (block.count == 1) || (!first && block.count != 0) {
        return Err(bad("graph part flags, sequence number and count disagree"));
    }
    if first && part.data_offset != 0 {
        return Err(bad("first graph part does not start at data offset 0"));
    }
    Ok(part)
}

/// A whole graph reassembled from its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledGraph {
    /// Offset of its first part's block (where damage in its encoding is reported).
    pub first_offset: u64,
    /// Database of the key.
    pub db: u16,
    /// The key.
    pub key: Vec<u8>,
    /// Absolute expiry in Unix ms, 0 = none.
    pub expire_ms: u64,
    /// Number of parts (blocks).
    pub parts: u32,
    /// The graph's encoding (every part's data, in order).
    pub data: Vec<u8>,
}

/// Reassembles graphs from section-3 blocks met in file order; blocks of other sections must
/// not be fed in the middle of a graph (the writer never interleaves them).
#[derive(Debug)]
pub struct GraphAssembler {
    open: Option<AssembledGraph>,
    /// Sequence number of the last part received.
    last_seq: u32,
    /// The section whose runs this assembler reassembles (3 unless [`Self::for_section`]).
    section: Section,
}

impl Default for GraphAssembler {
    fn default() -> GraphAssembler {
        GraphAssembler::for_section(Section::Graph)
    }
}

impl GraphAssembler {
    /// A new assembler with no graph open.
    pub fn new() -> GraphAssembler {
        GraphAssembler::default()
    }

    /// An assembler of the runs of `section` (section 4, FT index contents, reuses the part
    /// layout); blocks of other sections are "other blocks" to it.
    pub fn for_section(section: Section) -> GraphAssembler {
        GraphAssembler {
            open: None,
            last_seq: 0,
            section,
        }
    }

    /// Whether a graph's run of parts is open (its last part not seen yet).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Takes the next block of the file: a section-3 block is parsed and appended
    /// (`Ok(Some(graph))` when it completes one); any other block while a graph is open is an
    /// error (the run was cut), and otherwise `Ok(None)`.
    pub fn push(&mut self, block: &Block<'_>) -> Result<Option<AssembledGraph>, DecodeError> {
        let result = self.push_inner(block);
        if result.is_err() {
            // Whatever run was open is lost; a caller skipping damage starts afresh.
            self.open = None;
        }
        result
    }

    fn push_inner(&mut self, block: &Block<'_>) -> Result<Option<AssembledGraph>, DecodeError> {
        if block.section != self.section {
            if self.open.take().is_some() {
                return Err(DecodeError::new(
                    block.offset,
                    ErrorKind::Malformed("graph parts cut by a block of another section"),
                ));
            }
            return Ok(None);
        }
        let part = parse_part_in(block, self.section)?;
        let bad = |what| Err(DecodeError::new(block.offset, ErrorKind::Malformed(what)));
        match &mut self.open {
            None if !part.is_first() => {
                return bad("graph part without the graph's first part");
            }
            None => {
                self.open = Some(AssembledGraph {
                    first_offset: part.block_offset,
                    db: part.db,
                    key: part.key.to_vec(),
                    expire_ms: part.expire_ms,
                    parts: 1,
                    data: part.data.to_vec(),
                });
                self.last_seq = 0;
            }
            Some(_) if part.is_first() => {
                self.open = None;
                return bad("graph first part while the previous graph has no last part");
            }
            Some(g) => {
                if part.db != g.db || part.key != g.key.as_slice() || part.expire_ms != g.expire_ms
                {
                    self.open = None;
                    return bad("graph part of another key inside a graph's run");
                }
                if Some(part.seq) != self.last_seq.checked_add(1)
                    || part.data_offset != g.data.len() as u64
                {
                    self.open = None;
                    return bad("graph part out of sequence");
                }
                g.data.extend_from_slice(part.data);
                g.parts += 1;
                self.last_seq = part.seq;
            }
        }
        if part.is_last() {
            return Ok(self.open.take());
        }
        Ok(None)
    }

    /// The blocks ended at `end_offset`: an open graph there lost its last part.
    pub fn finish(&mut self, end_offset: u64) -> Result<(), DecodeError> {
        match self.open.take() {
            Some(_) => Err(DecodeError::new(
                end_offset,
                ErrorKind::Malformed("the blocks end inside a graph's run of parts"),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SnapshotHeader, SnapshotReader};
    use super::*;

    /// (db, key, expire, data, part size).
    type TestGraph<'a> = (u16, &'a [u8], u64, Vec<u8>, usize);

    /// Writes `graphs` around a keyspace entry.
    fn file(graphs: &[TestGraph<'_>]) -> Vec<u8> {
        let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 9, 1)).unwrap();
        w.add_entry(0, b"plain", 0, b"v").unwrap();
        for (db, key, exp, data, size) in graphs {
            let chunks: Vec<&[u8]> = data.chunks(*size).collect();
            let mut off = 0u64;
            for (i, c) in chunks.iter().enumerate() {
                w.add_graph_part(*db, key, *exp, i as u32, i + 1 == chunks.len(), off, c)
                    .unwrap();
                off += c.len() as u64;
            }
        }
        w.add_entry(1, b"after", 0, b"w").unwrap();
        w.finish().unwrap().0
    }

    fn assemble(bytes: &[u8]) -> Result<Vec<AssembledGraph>, DecodeError> {
        let r = SnapshotReader::new(bytes)?;
        let mut a = GraphAssembler::new();
        let mut out = Vec::new();
        for b in r.blocks() {
            if let Some(g) = a.push(&b?)? {
                out.push(g);
            }
        }
        a.finish(r.footer().index_offset)?;
        Ok(out)
    }

    #[test]
    fn graphs_round_trip_in_parts_and_are_counted_once() {
        let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let bytes = file(&[
            (2, b"g1", 0, big.clone(), 1000),
            (0, b"g2", 1234, vec![1, 2, 3], 64),
        ]);
        let r = SnapshotReader::new(&bytes).unwrap();
        assert_eq!(r.footer().entry_count, 4, "2 entries + 2 graphs");
        assert_eq!(r.footer().block_count, 2 + 10 + 1);
        let got = assemble(&bytes).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].db, &got[0].key[..], got[0].parts),
            (2, &b"g1"[..], 10)
        );
        assert_eq!(got[0].data, big);
        assert_eq!(
            (
                got[1].db,
                &got[1].key[..],
                got[1].expire_ms,
                &got[1].data[..]
            ),
            (0, &b"g2"[..], 1234, &[1u8, 2, 3][..])
        );
        // Byte layout of the one-part graph's block.
        let off = got[1].first_offset as usize + 24;
        let p = &bytes[off..];
        assert_eq!(p[0], GRAPH_PART_VERSION);
        assert_eq!(p[1], PART_FIRST | PART_LAST);
        assert_eq!(&p[2..6], &0u32.to_le_bytes());
        assert_eq!(&p[6..10], &2u32.to_le_bytes());
        assert_eq!(&p[10..12], b"g2");
        assert_eq!(&p[12..20], &1234u64.to_le_bytes());
        assert_eq!(&p[20..28], &0u64.to_le_bytes());
        assert_eq!(&p[28..31], &[1, 2, 3]);
        // Keyspace entries around the graphs still read.
        let plain: Vec<_> = r
            .blocks()
            .map(Result::unwrap)
            .filter(|b| b.section == Section::Keyspace)
            .flat_map(|b| b.entries().map(|e| e.unwrap().key.to_vec()))
            .collect();
        assert_eq!(plain, vec![b"plain".to_vec(), b"after".to_vec()]);
    }

    /// Rewrites a block's payload byte and fixes its CRC, so only the assembler can object.
    fn patch(bytes: &mut [u8], block: usize, at: usize, f: impl Fn(&mut u8)) {
        f(&mut bytes[block + 24 + at]);
        let len = u32::from_le_bytes(bytes[block + 12..block + 16].try_into().unwrap()) as usize;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&bytes[block..block + 20]);
        crc.update(&bytes[block + 24..block + 24 + len]);
        let c = crc.finalize().to_le_bytes();
        bytes[block + 20..block + 24].copy_from_slice(&c);
    }

    #[test]
    fn broken_runs_are_reported_at_their_block() {
        let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let clean = file(&[(0, b"g", 0, data, 100)]);
        let r = SnapshotReader::new(&clean).unwrap();
        let offs: Vec<usize> = r
            .blocks()
            .map(Result::unwrap)
            .filter(|b| b.section == Section::Graph)
            .map(|b| b.offset as usize)
            .collect();
        assert_eq!(offs.len(), 3);
        // The second part claims to be seq 5.
        let mut b = clean.clone();
        patch(&mut b, offs[1], 2, |x| *x = 5);
        let e = assemble(&b).unwrap_err();
        assert_eq!(e.offset, offs[1] as u64);
        assert_eq!(e.kind, ErrorKind::Malformed("graph part out of sequence"));
        // The last part lost its LAST flag: the run is cut by the next keyspace block.
        let mut b = clean.clone();
        patch(&mut b, offs[2], 1, |x| *x = 0);
        let e = assemble(&b).unwrap_err();
        assert!(e.offset > offs[2] as u64, "{e:?}");
        // A wrong layout version and unknown flag bits.
        let mut b = clean.clone();
        patch(&mut b, offs[0], 0, |x| *x = 9);
        assert_eq!(assemble(&b).unwrap_err().offset, offs[0] as u64);
        let mut b = clean.clone();
        patch(&mut b, offs[0], 1, |x| *x |= 0x80);
        assert_eq!(assemble(&b).unwrap_err().offset, offs[0] as u64);
        // A key length running past the block.
        let mut b = clean.clone();
        patch(&mut b, offs[1], 9, |x| *x = 0x7f);
        assert_eq!(
            assemble(&b).unwrap_err().kind,
            ErrorKind::Malformed("graph part key runs past its block")
        );
        // The data offset of a continuation skips bytes.
        let mut b = clean.clone();
        patch(&mut b, offs[2], 4 + 4 + 1 + 1 + 1 + 8, |x| *x ^= 1);
        assert_eq!(assemble(&b).unwrap_err().offset, offs[2] as u64);
        // A plain bit flip is caught by the block CRC before the assembler sees it.
        let mut b = clean;
        b[offs[1] + 40] ^= 1;
        assert_eq!(assemble(&b).unwrap_err().kind, ErrorKind::BlockCrc);
    }

    #[test]
    fn end_of_blocks_inside_a_run_is_an_error() {
        let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 9, 1)).unwrap();
        w.add_graph_part(0, b"g", 0, 0, false, 0, b"abc").unwrap();
        let bytes = w.finish().unwrap().0;
        let e = assemble(&bytes).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Malformed("the blocks end inside a graph's run of parts")
        );
    }
}
