//! Sample files shared by the integration tests: small, deterministic, and (for the v1
//! fixtures) realistic, with values that are real redis-server 7.0 DUMP payloads.

#![allow(dead_code)]

use moon_formats::snapshot::{SnapshotHeader, SnapshotWriter};
use moon_formats::wal::{self, Body, Record, SegmentHeader};

/// `DUMP greeting` of `SET greeting hello` (redis-server 7.0).
pub const DUMP_GREETING: &[u8] = b"\x00\x05hello\n\x00cr\xdfve4 \n";
/// `DUMP list` of `RPUSH list a b c`.
pub const DUMP_LIST: &[u8] =
    b"\x12\x01\x02\x10\x10\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x81c\x02\xff\n\x00\xc8\x18\xb9\x0c\x953R\x9e";
/// `DUMP h` of `HSET h f v`.
pub const DUMP_HASH: &[u8] =
    b"\x10\r\r\x00\x00\x00\x02\x00\x81f\x02\x81v\x02\xff\n\x00 \xf1=D#T\x08\x9d";
/// `DUMP n` of `SET n 12345`.
pub const DUMP_INT: &[u8] = b"\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\x08\xb9";

pub const CREATED_MS: u64 = 1_700_000_000_000;

fn argv(args: &[&[u8]]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.to_vec()).collect()
}

/// The records of the sample segment (shard 2 of 4, first LSN 41).
pub fn sample_records() -> Vec<Record> {
    let rec = |lsn: u64, db: u16, body: Body| Record {
        lsn,
        ts_ms: CREATED_MS + lsn * 10,
        db,
        body,
    };
    vec![
        rec(
            41,
            0,
            Body::Command(argv(&[
                b"SET",
                b"greeting",
                b"hello",
                b"PXAT",
                b"1700000600000",
            ])),
        ),
        rec(
            42,
            0,
            Body::Command(argv(&[b"RPUSH", b"list", b"a", b"b", b"c"])),
        ),
        rec(
            43,
            3,
            Body::Batch(vec![
                (3, argv(&[b"HSET", b"h", b"f", b"v"])),
                (3, argv(&[b"SET", b"n", b"12345"])),
                (0, argv(&[b"DEL", b"greeting"])),
            ]),
        ),
        rec(
            44,
            5,
            Body::Command(argv(&[b"SET", b"\x00bin\r\n\xff", b""])),
        ),
        rec(
            45,
            0,
            Body::Command(argv(&[
                b"RESTORE",
                b"greeting",
                b"1700000600000",
                DUMP_GREETING,
                b"ABSTTL",
                b"REPLACE",
            ])),
        ),
        rec(46, 1, Body::Command(argv(&[b"INCRBY", b"counter", b"-7"]))),
        rec(
            47,
            1,
            Body::Batch(vec![(1, argv(&[b"EXPIRE", b"counter", b"100"]))]),
        ),
        rec(48, 0, Body::Command(argv(&[b"FLUSHALL"]))),
    ]
}

pub fn sample_header() -> SegmentHeader {
    SegmentHeader::new(2, 4, 41, CREATED_MS)
}

/// Header + [`sample_records`] encoded.
pub fn sample_segment() -> Vec<u8> {
    let mut out = sample_header().encode().to_vec();
    for r in sample_records() {
        match &r.body {
            Body::Command(a) => wal::encode_command(&mut out, r.lsn, r.ts_ms, r.db, a),
            Body::Batch(cmds) => wal::encode_batch(&mut out, r.lsn, r.ts_ms, cmds),
        }
    }
    out
}

/// `(db, key, expire_ms, DUMP payload)` of the sample snapshot, in file order: four dbs, so
/// four blocks.
pub fn sample_entries() -> Vec<(u16, Vec<u8>, u64, Vec<u8>)> {
    let e = |db: u16, key: &[u8], exp: u64, v: &[u8]| (db, key.to_vec(), exp, v.to_vec());
    vec![
        e(0, b"greeting", 1_700_000_600_000, DUMP_GREETING),
        e(0, b"list", 0, DUMP_LIST),
        e(1, b"\x00bin\r\n\xff", 0, DUMP_INT),
        e(2, b"", 0, DUMP_INT),
        e(3, b"h", 1_800_000_000_000, DUMP_HASH),
        e(3, b"n", 0, DUMP_INT),
    ]
}

pub fn sample_snapshot_header() -> SnapshotHeader {
    SnapshotHeader::new(2, 4, 48, CREATED_MS)
}

/// A complete snapshot of [`sample_entries`].
pub fn sample_snapshot() -> Vec<u8> {
    write_snapshot(&sample_snapshot_header(), &sample_entries())
}

pub fn write_snapshot(
    header: &SnapshotHeader,
    entries: &[(u16, Vec<u8>, u64, Vec<u8>)],
) -> Vec<u8> {
    let mut w = SnapshotWriter::new(Vec::new(), header).unwrap();
    for (db, k, exp, v) in entries {
        w.add_entry(*db, k, *exp, v).unwrap();
    }
    w.finish().unwrap().0
}
