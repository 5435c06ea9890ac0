//! Fuzzes the snapshot reader and the salvage walk with arbitrary bytes, and with single-byte
//! damage and truncation of a valid snapshot built from the input.
//!
//! Checks, beyond "never panics": a file that loads has block counts summing to the footer's
//! entry count and the salvage walk agrees with it block for block; a snapshot written from
//! the input reads back to the same entries; and any one changed byte or any truncation of it
//! is reported as an error (every byte is CRC-covered), never loaded.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_formats::DecodeError;
use moon_formats::snapshot::{Block, SnapshotHeader, SnapshotReader, SnapshotWriter, scan_blocks};

type Entry = (u16, Vec<u8>, u64, Vec<u8>);

fuzz_target!(|data: &[u8]| {
    let loaded = load(data);
    if let Ok(entries) = &loaded {
        let _ = entries.len();
    }
    let mut with_header = SnapshotHeader::new(0, 1, 7, 0).encode().to_vec();
    with_header.extend_from_slice(data);
    let _ = load(&with_header);

    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let entries = entries_from(rest);
    let good = write(&entries);
    assert_eq!(load(&good).expect("a fresh snapshot loads"), entries);
    let at = usize::from(op).wrapping_mul(2654435761) % good.len();
    if op & 1 == 0 {
        let mut bad = good.clone();
        bad[at] ^= op | 1;
        assert!(load(&bad).is_err(), "a flip at {at} went unnoticed");
    } else {
        assert!(load(&good[..at]).is_err(), "a cut at {at} went unnoticed");
    }
});

/// Loads like recovery: every block and entry. Also cross-checks the salvage walk.
fn load(bytes: &[u8]) -> Result<Vec<Entry>, DecodeError> {
    let scanned: Vec<Result<Block<'_>, DecodeError>> = scan_blocks(bytes).collect();
    let reader = SnapshotReader::new(bytes)?;
    let mut out = Vec::new();
    let mut blocks = 0u64;
    let mut counted = 0u64;
    for block in reader.blocks() {
        let block = block?;
        assert_eq!(scanned.get(blocks as usize), Some(&Ok(block)));
        blocks += 1;
        counted += u64::from(block.count);
        if block.section != moon_formats::snapshot::Section::Keyspace {
            continue;
        }
        for e in block.entries() {
            let e = e?;
            out.push((block.db, e.key.to_vec(), e.expire_ms, e.value.to_vec()));
        }
    }
    assert_eq!(blocks, reader.footer().block_count);
    assert_eq!(counted, reader.footer().entry_count);
    assert_eq!(
        scanned.len() as u64,
        blocks,
        "the walk ends cleanly at the footer"
    );
    Ok(out)
}

/// Entries carved out of the input: key and value lengths from its bytes, grouped by db.
fn entries_from(mut data: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    while let [db, klen, vlen, rest @ ..] = data {
        let klen = usize::from(*klen % 16);
        let vlen = usize::from(*vlen) * 3;
        let key = rest.get(..klen).unwrap_or(rest).to_vec();
        let value: Vec<u8> = key.iter().cycle().take(vlen).copied().collect();
        out.push((u16::from(*db % 3), key, u64::from(*db) << 20, value));
        data = rest.get(klen..).unwrap_or_default();
    }
    out.sort_by_key(|e| e.0);
    out
}

fn write(entries: &[Entry]) -> Vec<u8> {
    let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(1, 2, 9, 5)).expect("vec");
    for (db, key, exp, value) in entries {
        w.add_entry(*db, key, *exp, value).expect("vec");
    }
    w.finish().expect("vec").0
}
