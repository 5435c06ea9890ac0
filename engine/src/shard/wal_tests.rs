//! A failed WAL commit: writes refused with MISCONF, the frames kept and written by the next
//! successful commit, writes accepted again after it.

use bytes::Bytes;
use moon_formats::wal::{Body, SegmentReader};

use crate::ir::{ExecCtx, ExpireSpec, Op, OpError, Reply, SetCond};
use crate::persist::wal::WalOptions;
use crate::persist::{FsyncPolicy, WalIo, WalWriter};
use crate::shard::{Shard, ShardConfig};

fn set(key: &str, value: &str) -> Op {
    Op::Set {
        key: Bytes::copy_from_slice(key.as_bytes()),
        value: Bytes::copy_from_slice(value.as_bytes()),
        cond: SetCond::Always,
        expire: ExpireSpec::Clear,
        get: false,
    }
}

fn ctx() -> ExecCtx {
    ExecCtx {
        db: 0,
        now_ms: 1_000,
        no_touch: false,
    }
}

/// The keys of the SET records in the shard's only segment, in order.
fn logged_keys(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let files = crate::persist::files::list(dir).expect("list");
    let bytes = std::fs::read(&files.segments[0].1).expect("read");
    let mut r = SegmentReader::new(&bytes).expect("segment");
    let mut keys = Vec::new();
    while let Some((_, rec)) = r.next_record() {
        if let Body::Command(argv) = rec.body {
            keys.push(argv[1].to_vec());
        }
    }
    keys
}

#[test]
fn a_failed_commit_keeps_its_frames_and_refuses_writes_until_a_retry_succeeds() {
    let (dir, mut s) = open_always("walfault");
    s.wal_set_fault(2);
    assert_eq!(s.apply(&ctx(), &set("a", "1")), Reply::Ok);
    let e = s.wal_flush(0).expect_err("injected");
    assert_eq!(e.raw_os_error(), Some(libc::EIO));
    assert!(s.wal_io_failed() && s.wal_pending(), "frames kept");
    let refused = Reply::Err(OpError::Other(
        "MISCONF Errors writing to the AOF file: Input/output error".into(),
    ));
    assert_eq!(s.apply(&ctx(), &set("b", "2")), refused);
    let get = Op::Get {
        key: Bytes::from_static(b"a"),
    };
    assert_eq!(s.apply(&ctx(), &get), Reply::Bulk(Bytes::from_static(b"1")));
    assert!(s.wal_flush(0).is_err(), "second injected failure");
    s.wal_flush(0).expect("retry");
    assert!(!s.wal_io_failed() && s.wal_failure().is_none() && !s.wal_pending());
    assert_eq!(s.apply(&ctx(), &set("c", "3")), Reply::Ok);
    s.wal_flush(0).expect("commit");
    assert_eq!(logged_keys(&dir), vec![b"a".to_vec(), b"c".to_vec()]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn open_always(name: &str) -> (std::path::PathBuf, Shard) {
    let dir = std::env::temp_dir().join(format!("moon-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = WalOptions {
        dir: dir.clone(),
        shard_id: 0,
        shard_count: 1,
        policy: FsyncPolicy::Always,
        segment_bytes: 1 << 20,
    };
    let mut s = Shard::new(0, ShardConfig::default());
    s.wal_attach(WalWriter::open(opts, 1, 0).expect("open WAL"));
    s.wal_flush(0).expect("first fsync");
    (dir, s)
}

#[test]
fn an_async_commit_that_fails_puts_its_frames_back_in_front() {
    let (dir, mut s) = open_always("asyncfail");
    assert_eq!(s.apply(&ctx(), &set("a", "1")), Reply::Ok);
    let c = s.wal_flush_begin().expect("an async commit");
    assert!(s.wal_inflight() && !s.wal_pending());
    assert_eq!((s.wal_last_lsn(), s.wal_synced_lsn()), (1, 0));
    assert_eq!(s.apply(&ctx(), &set("b", "2")), Reply::Ok);
    assert!(s.wal_flush_begin().is_none(), "one in flight at a time");
    let eio = std::io::Error::from_raw_os_error(libc::EIO);
    assert!(s.wal_flush_end(Err(eio), 0).is_err());
    assert!(s.wal_io_failed() && s.wal_take_broke() && s.wal_pending());
    assert_eq!(s.wal_durable_lsn(), u64::MAX, "in error: nothing waits");
    drop(c);
    s.wal_flush(0).expect("retry");
    assert_eq!(s.wal_synced_lsn(), 2);
    assert_eq!(logged_keys(&dir), vec![b"a".to_vec(), b"b".to_vec()]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sync_flush_during_an_async_commit_covers_its_frames() {
    let (dir, mut s) = open_always("asynccover");
    assert_eq!(s.apply(&ctx(), &set("a", "1")), Reply::Ok);
    // The commit's I/O is never run: the synchronous flush writes its frames again.
    let _c = s.wal_flush_begin().expect("an async commit");
    assert_eq!(s.apply(&ctx(), &set("b", "2")), Reply::Ok);
    assert!(s.wal_unsettled());
    s.wal_flush(0).expect("sync flush");
    assert!(!s.wal_unsettled());
    assert_eq!(s.wal_durable_lsn(), 2);
    let eio = std::io::Error::from_raw_os_error(libc::EIO);
    s.wal_flush_end(Err(eio), 0)
        .expect("covered: durable anyway");
    assert!(!s.wal_inflight() && !s.wal_io_failed());
    assert_eq!(logged_keys(&dir), vec![b"a".to_vec(), b"b".to_vec()]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_async_commit_that_succeeds_makes_its_lsns_durable() {
    let (dir, mut s) = open_always("asyncok");
    assert_eq!(s.apply(&ctx(), &set("a", "1")), Reply::Ok);
    let c = s.wal_flush_begin().expect("an async commit");
    assert_eq!(s.apply(&ctx(), &set("b", "2")), Reply::Ok);
    crate::persist::StdIo
        .write_at(&c.file, &c.frames, c.offset, true)
        .expect("the commit's I/O");
    s.wal_flush_end(Ok(()), 0).expect("done");
    assert_eq!((s.wal_durable_lsn(), s.wal_last_lsn()), (1, 2));
    let c = s.wal_flush_begin().expect("the next one");
    crate::persist::StdIo
        .write_at(&c.file, &c.frames, c.offset, true)
        .expect("the commit's I/O");
    s.wal_flush_end(Ok(()), 0).expect("done");
    assert_eq!(s.wal_durable_lsn(), 2);
    assert_eq!(logged_keys(&dir), vec![b"a".to_vec(), b"b".to_vec()]);
    let _ = std::fs::remove_dir_all(&dir);
}
