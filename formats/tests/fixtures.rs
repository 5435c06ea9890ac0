//! Version fixtures: small v1 files committed under `tests/fixtures/`. Every future build must
//! keep decoding them to the same content (the version policy: readers accept every version
//! they know up to their own). While the writers produce v1, they must also reproduce the
//! fixture bytes exactly, so an accidental layout change fails here.
//!
//! To regenerate after an intended change of the v1 *samples* (never of the format):
//! `cargo test -p moon-formats --test fixtures -- --ignored regenerate`.

mod common;

use std::path::PathBuf;

use common::*;
use moon_formats::snapshot::{self, KeyEntry, SnapshotReader};
use moon_formats::wal::{self, Body, Record, SegmentEnd, SegmentReader};

const WAL_V1: &str = "wal-v1-00000000000000000041.wal";
const SNAP_V1: &str = "snap-v1-00000000000000000048.snap";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

#[test]
fn wal_v1_fixture_decodes() {
    let bytes = read_fixture(WAL_V1);
    let mut r = SegmentReader::new(&bytes).unwrap();
    let h = *r.header();
    assert_eq!(
        (
            h.version,
            h.shard_id,
            h.shard_count,
            h.first_lsn,
            h.created_ms
        ),
        (1, 2, 4, 41, 1_700_000_000_000)
    );
    let mut recs: Vec<Record> = Vec::new();
    while let Some((_, rec)) = r.next_record() {
        recs.push(rec);
    }
    assert_eq!(r.end(), &SegmentEnd::Clean);
    assert_eq!(recs.len(), 8);
    // Spot checks written out literally, independent of the sample builder.
    assert_eq!(recs[0].lsn, 41);
    assert_eq!(recs[0].ts_ms, 1_700_000_000_410);
    assert_eq!(
        recs[0].body,
        Body::Command(vec![
            b"SET".to_vec(),
            b"greeting".to_vec(),
            b"hello".to_vec(),
            b"PXAT".to_vec(),
            b"1700000600000".to_vec()
        ])
    );
    let Body::Batch(cmds) = &recs[2].body else {
        panic!("record 43 is a batch");
    };
    assert_eq!(recs[2].db, 3);
    assert_eq!(cmds.len(), 3);
    assert_eq!(cmds[2], (0, vec![b"DEL".to_vec(), b"greeting".to_vec()]));
    assert_eq!(recs[7].lsn, 48);
    assert_eq!(recs, sample_records());
}

#[test]
fn snapshot_v1_fixture_decodes() {
    let bytes = read_fixture(SNAP_V1);
    let r = SnapshotReader::new(&bytes).unwrap();
    let h = r.header();
    assert_eq!(
        (h.version, h.shard_id, h.shard_count, h.lsn, h.created_ms),
        (1, 2, 4, 48, 1_700_000_000_000)
    );
    assert_eq!(r.footer().block_count, 4);
    assert_eq!(r.footer().entry_count, 6);
    let mut got = Vec::new();
    for block in r.blocks() {
        let block = block.unwrap();
        assert_eq!(block.section, snapshot::Section::Keyspace);
        for e in block.entries() {
            let KeyEntry {
                key,
                expire_ms,
                value,
            } = e.unwrap();
            got.push((block.db, key.to_vec(), expire_ms, value.to_vec()));
        }
    }
    assert_eq!(
        got[0],
        (
            0,
            b"greeting".to_vec(),
            1_700_000_600_000,
            b"\x00\x05hello\n\x00cr\xdfve4 \n".to_vec()
        )
    );
    assert_eq!(got, sample_entries());
}

#[test]
fn v1_writers_reproduce_the_fixture_bytes() {
    assert_eq!(
        wal::VERSION,
        1,
        "a new WAL version: keep this test for v1 readers only"
    );
    assert_eq!(read_fixture(WAL_V1), sample_segment());
    assert_eq!(snapshot::VERSION, 1);
    assert_eq!(read_fixture(SNAP_V1), sample_snapshot());
}

#[test]
#[ignore = "writes the fixture files; run once, then commit them"]
fn regenerate() {
    std::fs::create_dir_all(fixture("")).unwrap();
    std::fs::write(fixture(WAL_V1), sample_segment()).unwrap();
    std::fs::write(fixture(SNAP_V1), sample_snapshot()).unwrap();
}
