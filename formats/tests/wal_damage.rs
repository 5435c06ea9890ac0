//! Damage tests of the WAL segment reader: every truncation point and every byte flip of a
//! sample segment must be classified (never a panic), with the offset of the record at fault.

mod common;

use common::{sample_records, sample_segment};
use moon_formats::wal::{HEADER_LEN, Record, SegmentEnd, SegmentReader};
use moon_formats::{DecodeError, ErrorKind};

/// Reads a whole segment: the records (with offsets) and how it ended.
fn read(bytes: &[u8]) -> Result<(Vec<(u64, Record)>, SegmentEnd), DecodeError> {
    let mut r = SegmentReader::new(bytes)?;
    let mut recs = Vec::new();
    while let Some(x) = r.next_record() {
        recs.push(x);
    }
    Ok((recs, r.end().clone()))
}

/// Offsets at which each sample record starts, plus the end of the file.
fn boundaries() -> Vec<u64> {
    let seg = sample_segment();
    let (recs, end) = read(&seg).unwrap();
    assert_eq!(end, SegmentEnd::Clean);
    let mut b: Vec<u64> = recs.iter().map(|(o, _)| *o).collect();
    b.push(seg.len() as u64);
    b
}

/// Index of the record whose frame holds byte `pos`.
fn record_at(bounds: &[u64], pos: u64) -> usize {
    bounds
        .windows(2)
        .position(|w| w[0] <= pos && pos < w[1])
        .unwrap()
}

#[test]
fn sample_reads_clean() {
    let (recs, end) = read(&sample_segment()).unwrap();
    assert_eq!(end, SegmentEnd::Clean);
    let got: Vec<Record> = recs.into_iter().map(|(_, r)| r).collect();
    assert_eq!(got, sample_records());
}

#[test]
fn truncation_at_every_offset() {
    let seg = sample_segment();
    let bounds = boundaries();
    let all = sample_records();
    for cut in 0..seg.len() {
        let bytes = &seg[..cut];
        if cut < HEADER_LEN {
            let err = SegmentReader::new(bytes).unwrap_err();
            assert_eq!(err.offset, 0, "cut {cut}");
            assert_eq!(err.kind, ErrorKind::Truncated, "cut {cut}");
            continue;
        }
        let (recs, end) = read(bytes).unwrap();
        // Every record wholly before the cut survives, and nothing else.
        let whole = bounds.iter().skip(1).filter(|&&b| b <= cut as u64).count();
        assert_eq!(recs.len(), whole, "cut {cut}");
        let got: Vec<Record> = recs.into_iter().map(|(_, r)| r).collect();
        assert_eq!(got[..], all[..whole], "cut {cut}");
        if bounds.contains(&(cut as u64)) {
            assert_eq!(end, SegmentEnd::Clean, "cut {cut}");
        } else {
            let SegmentEnd::TornTail { offset, .. } = end else {
                panic!("cut {cut}: {end:?}");
            };
            assert_eq!(offset, bounds[whole], "cut {cut}");
        }
    }
}

#[test]
fn every_byte_flip_is_detected_at_its_record() {
    let seg = sample_segment();
    let bounds = boundaries();
    let all = sample_records();
    let last = all.len() - 1;
    for pos in 0..seg.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut bytes = seg.clone();
            bytes[pos] ^= mask;
            if pos < HEADER_LEN {
                let err = SegmentReader::new(&bytes).unwrap_err();
                assert_eq!(err.offset, 0);
                assert!(
                    matches!(
                        err.kind,
                        ErrorKind::HeaderCrc
                            | ErrorKind::BadMagic
                            | ErrorKind::UnsupportedVersion { .. }
                    ),
                    "pos {pos}: {err}"
                );
                continue;
            }
            let k = record_at(&bounds, pos as u64);
            let mut r = SegmentReader::new(&bytes).unwrap();
            let mut got = Vec::new();
            while let Some((_, rec)) = r.next_record() {
                got.push(rec);
            }
            assert_eq!(got[..], all[..k], "pos {pos} mask {mask:#x}");
            match r.end() {
                SegmentEnd::Corrupt(e) => assert_eq!(e.offset, bounds[k], "pos {pos}"),
                SegmentEnd::TornTail { offset, .. } if k == last => {
                    assert_eq!(*offset, bounds[k], "pos {pos}")
                }
                end => panic!("pos {pos} mask {mask:#x}: {end:?}"),
            }
            if k < last {
                // Exactly one record is lost: resync finds the next one and reading goes on.
                assert!(r.resync(), "pos {pos}");
                while let Some((_, rec)) = r.next_record() {
                    got.push(rec);
                }
                assert_eq!(r.end(), &SegmentEnd::Clean, "pos {pos}");
                let mut expected = all.clone();
                expected.remove(k);
                assert_eq!(got, expected, "pos {pos} mask {mask:#x}");
            }
        }
    }
}

#[test]
fn zeroed_record_in_the_middle_is_corrupt() {
    let seg = sample_segment();
    let bounds = boundaries();
    for k in 0..bounds.len() - 2 {
        let mut bytes = seg.clone();
        bytes[bounds[k] as usize..bounds[k + 1] as usize].fill(0);
        let (recs, end) = read(&bytes).unwrap();
        assert_eq!(recs.len(), k);
        assert_eq!(
            end,
            SegmentEnd::Corrupt(DecodeError::new(bounds[k], ErrorKind::FrameCrc))
        );
    }
    // Zeroing the last record (or everything after record k) is a zero-filled tail.
    for k in 0..bounds.len() - 1 {
        let mut bytes = seg.clone();
        bytes[bounds[k] as usize..].fill(0);
        let (recs, end) = read(&bytes).unwrap();
        assert_eq!(recs.len(), k);
        assert!(
            matches!(end, SegmentEnd::TornTail { offset, .. } if offset == bounds[k]),
            "{k}: {end:?}"
        );
    }
}

#[test]
fn garbage_appended_after_a_clean_end() {
    // Bytes after the last record that are not a frame: a torn tail only if they could be
    // the start of one that did not finish.
    let seg = sample_segment();
    let end = seg.len() as u64;
    let mut bytes = seg.clone();
    bytes.extend_from_slice(&[0xAB; 7]);
    assert!(
        matches!(read(&bytes).unwrap().1, SegmentEnd::TornTail { offset, .. } if offset == end)
    );
    let mut bytes = seg.clone();
    bytes.extend_from_slice(&[0xAB; 100]);
    let (recs, tail) = read(&bytes).unwrap();
    assert_eq!(recs.len(), sample_records().len());
    // 0xABABABAB as a length runs past the end of the file.
    assert!(matches!(tail, SegmentEnd::TornTail { offset, .. } if offset == end));
}
