//! Damage tests of the snapshot reader: every truncation, every byte flip and a zeroed block of
//! sample snapshots must be reported as an error (never a panic, never a silent load), at the
//! offset of the structure holding the damage; `scan_blocks` must salvage the intact blocks.

mod common;

use common::{sample_entries, sample_snapshot, sample_snapshot_header, write_snapshot};
use moon_formats::snapshot::{
    BLOCK_TARGET, Block, FOOTER_LEN, HEADER_LEN, SnapshotReader, scan_blocks,
};
use moon_formats::{DecodeError, ErrorKind};

/// Loads a snapshot the way recovery does: every block and every entry, first error wins.
fn load(bytes: &[u8]) -> Result<usize, DecodeError> {
    let r = SnapshotReader::new(bytes)?;
    let mut n = 0;
    for block in r.blocks() {
        for e in block?.entries() {
            e?;
            n += 1;
        }
    }
    Ok(n)
}

/// Block start offsets of a good file, then the index offset.
fn layout(bytes: &[u8]) -> Vec<u64> {
    let r = SnapshotReader::new(bytes).unwrap();
    let mut b: Vec<u64> = r.blocks().map(|b| b.unwrap().offset).collect();
    b.push(r.footer().index_offset);
    b
}

/// Offset of the structure holding byte `pos`: header (0), a block, or index + footer (the
/// footer's offset, since its CRC covers the index).
fn structure_at(bounds: &[u64], file_len: usize, pos: u64) -> u64 {
    if pos < HEADER_LEN as u64 {
        return 0;
    }
    match bounds.windows(2).find(|w| w[0] <= pos && pos < w[1]) {
        Some(w) => w[0],
        None => (file_len - FOOTER_LEN) as u64,
    }
}

#[test]
fn sample_loads() {
    let bytes = sample_snapshot();
    assert_eq!(load(&bytes), Ok(sample_entries().len()));
    assert_eq!(layout(&bytes).len(), 4 + 1);
}

#[test]
fn every_byte_flip_is_an_error_at_its_structure() {
    let good = sample_snapshot();
    let bounds = layout(&good);
    for pos in 0..good.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut bytes = good.clone();
            bytes[pos] ^= mask;
            let err = load(&bytes).expect_err(&format!("flip at {pos} loaded"));
            let at = structure_at(&bounds, good.len(), pos as u64);
            assert_eq!(err.offset, at, "pos {pos} mask {mask:#x}: {err}");
            // The salvage walk keeps every block before a damaged block.
            if pos >= HEADER_LEN && (pos as u64) < *bounds.last().unwrap() {
                let mut scan = scan_blocks(&bytes);
                let intact: Vec<u64> = scan
                    .by_ref()
                    .map_while(Result::ok)
                    .map(|b| b.offset)
                    .collect();
                assert_eq!(intact[..], bounds[..intact.len()], "pos {pos}");
                assert_eq!(scan.position(), at, "pos {pos}");
                assert!(!scan.reached_footer());
            }
        }
    }
}

#[test]
fn truncation_at_every_offset() {
    let good = sample_snapshot();
    let bounds = layout(&good);
    for cut in 0..good.len() {
        let bytes = &good[..cut];
        let err = load(bytes).expect_err(&format!("cut at {cut} loaded"));
        assert!(
            matches!(
                err.kind,
                ErrorKind::Truncated | ErrorKind::MissingFooter | ErrorKind::BadMagic
            ),
            "cut {cut}: {err}"
        );
        if cut < HEADER_LEN {
            continue;
        }
        // The walk yields exactly the blocks that end before the cut.
        let whole = bounds.windows(2).filter(|w| w[1] <= cut as u64).count();
        let mut scan = scan_blocks(bytes);
        let got: Vec<Result<Block<'_>, DecodeError>> = scan.by_ref().collect();
        assert_eq!(got.iter().filter(|b| b.is_ok()).count(), whole, "cut {cut}");
        assert_eq!(scan.position(), bounds[whole], "cut {cut}");
        assert!(!scan.reached_footer());
        if cut as u64 > bounds[whole] {
            // Bytes of the next block (or the index) follow the last intact block: reported.
            let last = got.last().unwrap();
            assert_eq!(
                last.as_ref().unwrap_err().offset,
                bounds[whole],
                "cut {cut}"
            );
        }
    }
}

#[test]
fn zeroed_block() {
    let good = sample_snapshot();
    let bounds = layout(&good);
    for k in 0..bounds.len() - 1 {
        let mut bytes = good.clone();
        bytes[bounds[k] as usize..bounds[k + 1] as usize].fill(0);
        let r = SnapshotReader::new(&bytes).unwrap();
        let results: Vec<_> = r.blocks().collect();
        assert_eq!(results.len(), k + 1);
        assert_eq!(
            results[k],
            Err(DecodeError::new(bounds[k], ErrorKind::BadMagic))
        );
        assert_eq!(load(&bytes).unwrap_err().offset, bounds[k]);
        let scanned: Vec<_> = scan_blocks(&bytes).collect();
        assert_eq!(scanned.len(), k + 1);
        assert_eq!(
            scanned[k],
            Err(DecodeError::new(bounds[k], ErrorKind::BadMagic))
        );
    }
}

#[test]
fn large_snapshot_dense_damage() {
    // ~300 KiB over several full blocks; flip a dense sample of bytes and truncate at a
    // sample of offsets.
    let entries: Vec<(u16, Vec<u8>, u64, Vec<u8>)> = (0..300u32)
        .map(|i| {
            let value: Vec<u8> = (0..1000).map(|j| (i as usize * 31 + j) as u8).collect();
            (
                (i / 100) as u16,
                format!("key:{i}").into_bytes(),
                u64::from(i),
                value,
            )
        })
        .collect();
    let good = write_snapshot(&sample_snapshot_header(), &entries);
    assert!(good.len() > 4 * BLOCK_TARGET);
    assert_eq!(load(&good), Ok(300));
    let bounds = layout(&good);
    assert!(bounds.len() > 6);
    for pos in (0..good.len())
        .step_by(97)
        .chain(good.len() - 64..good.len())
    {
        let mut bytes = good.clone();
        bytes[pos] ^= 0x20;
        let err = load(&bytes).expect_err(&format!("flip at {pos} loaded"));
        assert_eq!(
            err.offset,
            structure_at(&bounds, good.len(), pos as u64),
            "pos {pos}"
        );
    }
    for cut in (0..good.len()).step_by(251) {
        assert!(load(&good[..cut]).is_err(), "cut {cut}");
    }
}
