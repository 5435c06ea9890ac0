//! Walking a WAL segment with `moon_formats::wal::SegmentReader`, collecting what every command
//! needs: record statistics, corrupt regions (optionally continuing after each with
//! `SegmentReader::resync`) and how the segment ends.
//!
//! Invariants: records are handed out in file order with strictly increasing LSNs (the reader
//! guarantees consecutive LSNs between corrupt regions; after a resync the LSN may jump forward,
//! and the region records which LSNs were skipped).

use moon_formats::DecodeError;
use moon_formats::wal::{Body, FRAME_HEADER_LEN, Record, SegmentEnd, SegmentHeader, SegmentReader};

/// A corrupt region met while walking.
#[derive(Debug, Clone)]
pub struct CorruptRegion {
    /// What is wrong, at which offset.
    pub error: DecodeError,
    /// The LSN the next record should have had.
    pub expected_lsn: u64,
    /// Where reading resumed (offset, LSN of the record there), if it did.
    pub resumed: Option<(u64, u64)>,
}

impl CorruptRegion {
    /// LSNs skipped by the region: `expected..resumed LSN` (empty when nothing was skipped, or
    /// `None` when reading did not resume: the rest of the segment is lost).
    pub fn lost_lsns(&self) -> Option<std::ops::Range<u64>> {
        self.resumed.map(|(_, lsn)| self.expected_lsn..lsn)
    }
}

/// The outcome of walking one segment.
#[derive(Debug, Clone)]
pub struct SegWalk {
    /// The segment header.
    pub header: SegmentHeader,
    /// File size.
    pub len: u64,
    /// Records read.
    pub records: u64,
    /// Of which batches.
    pub batches: u64,
    /// LSN of the first / last record read.
    pub lsns: Option<(u64, u64)>,
    /// Timestamp of the first / last record read.
    pub times: Option<(u64, u64)>,
    /// Corrupt regions, in file order.
    pub corrupt: Vec<CorruptRegion>,
    /// How the segment ends (after the last resync, if any).
    pub end: SegmentEnd,
    /// The LSN a record following this segment should have.
    pub next_lsn: u64,
}

impl SegWalk {
    /// True when there is damage other than a torn tail.
    pub fn has_corruption(&self) -> bool {
        !self.corrupt.is_empty()
    }

    /// The torn tail's offset and reason, if the segment ends torn.
    pub fn torn(&self) -> Option<(u64, &'static str)> {
        match self.end {
            SegmentEnd::TornTail { offset, reason } => Some((offset, reason)),
            _ => None,
        }
    }

    /// A short end-state word for reports.
    #[cfg(test)]
    pub fn end_state(&self) -> &'static str {
        match (&self.end, self.has_corruption()) {
            (SegmentEnd::Corrupt(_), _) | (_, true) => "corrupt",
            (SegmentEnd::TornTail { .. }, false) => "torn",
            (SegmentEnd::Clean, false) => "clean",
        }
    }
}

/// The byte length of the frame at `off` (header + payload), from its length field.
pub fn frame_len(bytes: &[u8], off: u64) -> u64 {
    let at = usize::try_from(off).unwrap_or(usize::MAX);
    let p = bytes
        .get(at..at.saturating_add(4))
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes);
    FRAME_HEADER_LEN as u64 + u64::from(p)
}

/// Walks a segment. `on_record(offset, record)` sees every record read; with `resync`, reading
/// continues after each corrupt region at the next frame whose CRC verifies.
pub fn walk(
    bytes: &[u8],
    resync: bool,
    mut on_record: impl FnMut(u64, Record),
) -> Result<SegWalk, DecodeError> {
    let mut reader = SegmentReader::new(bytes)?;
    let mut w = SegWalk {
        header: *reader.header(),
        len: bytes.len() as u64,
        records: 0,
        batches: 0,
        lsns: None,
        times: None,
        corrupt: Vec::new(),
        end: SegmentEnd::Clean,
        next_lsn: reader.header().first_lsn,
    };
    loop {
        while let Some((off, rec)) = reader.next_record() {
            w.records += 1;
            if matches!(rec.body, Body::Batch(_)) {
                w.batches += 1;
            }
            w.lsns = Some((w.lsns.map_or(rec.lsn, |(a, _)| a), rec.lsn));
            w.times = Some((w.times.map_or(rec.ts_ms, |(a, _)| a), rec.ts_ms));
            on_record(off, rec);
        }
        w.end = reader.end().clone();
        w.next_lsn = reader.next_lsn();
        let SegmentEnd::Corrupt(error) = w.end.clone() else {
            break;
        };
        let expected_lsn = reader.next_lsn();
        let resumed = (resync && reader.resync()).then(|| (reader.position(), reader.next_lsn()));
        w.corrupt.push(CorruptRegion {
            error,
            expected_lsn,
            resumed,
        });
        if resumed.is_none() {
            break;
        }
    }
    Ok(w)
}

/// Convenience: all records of a segment (stopping at the first corrupt region).
#[cfg(test)]
pub fn records(bytes: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let _ = walk(bytes, false, |_, r| out.push(r));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use moon_formats::wal::encode_command;

    fn segment(n: u64) -> Vec<u8> {
        let mut out = SegmentHeader::new(0, 1, 1, 0).encode().to_vec();
        for lsn in 1..=n {
            encode_command(&mut out, lsn, lsn * 10, 0, &["SET", "k", "v"]);
        }
        out
    }

    #[test]
    fn resync_skips_a_corrupt_frame() {
        let mut bytes = segment(5);
        let frame = frame_len(&bytes, 64) as usize;
        // Flip a payload byte of the second record.
        bytes[64 + frame + 40] ^= 0xff;
        let w = walk(&bytes, false, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.records, 1);
        assert_eq!(w.end_state(), "corrupt");
        let mut lsns = Vec::new();
        let w = walk(&bytes, true, |_, r| lsns.push(r.lsn)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lsns, vec![1, 3, 4, 5]);
        assert_eq!(w.corrupt.len(), 1);
        assert_eq!(w.corrupt[0].error.offset, (64 + frame) as u64);
        assert_eq!(w.corrupt[0].lost_lsns(), Some(2..3));
        assert!(matches!(w.end, SegmentEnd::Clean));
        assert_eq!(records(&segment(3)).len(), 3);
    }
}
