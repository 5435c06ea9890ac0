//! Fuzzes the WAL segment reader with arbitrary bytes, both as a whole segment (header
//! included) and as the frames following a valid header.
//!
//! Checks, beyond "never panics" and "terminates": records come out at increasing offsets
//! with consecutive LSNs (a `resync` may skip forward, never back); the end's offset is the
//! reader's position; every record re-encodes to a frame of the same length that decodes back
//! to itself; and each `resync` strictly advances.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_formats::wal::{self, Body, Record, SegmentEnd, SegmentHeader, SegmentReader};

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut seg = SegmentHeader::new(0, 1, 1, 0).encode().to_vec();
    seg.extend_from_slice(data);
    check(&seg);
});

fn check(bytes: &[u8]) {
    let Ok(mut reader) = SegmentReader::new(bytes) else {
        return;
    };
    let mut last: Option<(u64, u64)> = None;
    // After a resync: the offset the next record must come from.
    let mut resumed_at: Option<u64> = None;
    loop {
        while let Some((off, rec)) = reader.next_record() {
            if let Some(at) = resumed_at.take() {
                assert_eq!(off, at, "resync lands on the frame it found");
            }
            match last {
                Some((last_off, last_lsn)) => {
                    assert!(off > last_off, "offsets go forward");
                    assert!(rec.lsn > last_lsn, "LSNs go forward");
                }
                None => assert!(rec.lsn >= reader.header().first_lsn),
            }
            assert_eq!(reader.next_lsn(), rec.lsn.saturating_add(1));
            check_reencode(&rec, reader.position() - off);
            last = Some((off, rec.lsn));
        }
        assert_eq!(
            resumed_at, None,
            "resync found a frame it then could not read"
        );
        let pos = reader.position();
        assert!(pos <= bytes.len() as u64);
        match reader.end() {
            SegmentEnd::Clean => assert_eq!(pos, bytes.len() as u64),
            SegmentEnd::TornTail { offset, .. } => assert_eq!(*offset, pos),
            SegmentEnd::Corrupt(e) => assert_eq!(e.offset, pos),
        }
        if !reader.resync() {
            break;
        }
        assert!(reader.position() >= pos, "resync never goes back");
        resumed_at = Some(reader.position());
    }
}

fn check_reencode(rec: &Record, frame_len: u64) {
    let mut out = Vec::new();
    match &rec.body {
        Body::Command(argv) => wal::encode_command(&mut out, rec.lsn, rec.ts_ms, rec.db, argv),
        Body::Batch(cmds) => wal::encode_batch(&mut out, rec.lsn, rec.ts_ms, cmds),
    }
    assert_eq!(out.len() as u64, frame_len);
    let mut seg = SegmentHeader::new(0, 1, rec.lsn, 0).encode().to_vec();
    seg.extend_from_slice(&out);
    let mut again = SegmentReader::new(&seg).expect("valid header");
    let (_, back) = again.next_record().expect("re-encoded record decodes");
    // A batch frame's db is its first command's: the re-encoding may differ from a forged
    // frame there, nowhere else.
    match &rec.body {
        Body::Batch(_) => assert_eq!(back.body, rec.body),
        Body::Command(_) => assert_eq!(&back, rec),
    }
    assert_eq!(again.next_record(), None);
    assert_eq!(again.end(), &SegmentEnd::Clean);
}
