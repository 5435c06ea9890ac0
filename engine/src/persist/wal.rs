//! The WAL segment writer of one shard: appends whole frames to the current segment, rotates at
//! the configured size, and fsyncs per `appendfsync`.
//!
//! Group commit: the shard encodes the frames of every write of one event-loop iteration into
//! one buffer; the loop hands that buffer to [`WalWriter::commit`] once, which writes it and,
//! under `always`, fsyncs it before returning. Under `everysec` it fsyncs at most once a
//! second; under `no` the OS decides. Under `always` the loop may instead run the write and
//! the fsync itself without waiting: [`WalWriter::begin_async`] reserves the file range and
//! hands out the I/O, [`WalWriter::end_async`] / [`WalWriter::abort_async`] record its outcome.
//!
//! Invariants: `bytes` is the size of the current segment (header included), counting the range
//! reserved by an asynchronous commit in flight; a new segment is created only between frames,
//! named after the LSN its first frame will carry; a segment is fsynced before the writer moves
//! to the next one (unless the policy is `no`); the segment file is shared (`Arc`) so it stays
//! open while an asynchronous write to it is in flight, even across a rotation.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moon_formats::wal::{self, SegmentHeader};

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// fsync before the replies of the writes leave.
    Always,
    /// fsync at least once a second.
    #[default]
    EverySec,
    /// Never fsync; the OS flushes.
    No,
}

impl FsyncPolicy {
    /// Parses Redis's spelling.
    pub fn from_name(name: &str) -> Option<FsyncPolicy> {
        match name.to_ascii_lowercase().as_str() {
            "always" => Some(FsyncPolicy::Always),
            "everysec" => Some(FsyncPolicy::EverySec),
            "no" => Some(FsyncPolicy::No),
            _ => None,
        }
    }

    /// Redis's spelling.
    pub fn name(self) -> &'static str {
        match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::EverySec => "everysec",
            FsyncPolicy::No => "no",
        }
    }
}

/// How WAL bytes reach the file: the server's I/O driver (io_uring submits the write and the
/// fdatasync as linked SQEs on the shard's ring; epoll uses `pwrite` + `fdatasync`).
pub trait WalIo {
    /// Writes all of `buf` at `offset` of `file`, then, if `sync`, fdatasyncs it; returns once
    /// both are complete.
    fn write_at(&mut self, file: &File, buf: &[u8], offset: u64, sync: bool) -> io::Result<()>;
}

/// Plain positional writes and `fdatasync` from the calling thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdIo;

impl WalIo for StdIo {
    fn write_at(&mut self, file: &File, buf: &[u8], offset: u64, sync: bool) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        file.write_all_at(buf, offset)?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    }
}

/// Identity and tunables of a shard's WAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// The shard's directory.
    pub dir: PathBuf,
    /// Shard id, written in every segment header.
    pub shard_id: u16,
    /// Shard count of the process, written in every segment header.
    pub shard_count: u16,
    /// `appendfsync`.
    pub policy: FsyncPolicy,
    /// Rotate to a new segment once the current one reaches this many bytes.
    pub segment_bytes: u64,
}

/// A group commit the caller runs without waiting: write `frames` at `offset` of `file`, then
/// fdatasync it. The file and the bytes are shared, so they stay valid while the I/O is in
/// flight whatever the writer does meanwhile.
#[derive(Debug, Clone)]
pub struct AsyncCommit {
    /// The segment the range was reserved in.
    pub file: Arc<File>,
    /// The frames (possibly none: then only the fsync).
    pub frames: bytes::Bytes,
    /// Where they go.
    pub offset: u64,
}

/// The open WAL of one shard.
#[derive(Debug)]
pub struct WalWriter {
    opts: WalOptions,
    file: Arc<File>,
    path: PathBuf,
    first_lsn: u64,
    bytes: u64,
    unsynced: bool,
    last_sync: Instant,
    /// Bytes written to all segments since open (INFO aof_current_size is the sum of sizes).
    written: u64,
    /// A rotation that failed after its frames were durable: the next commit retries it
    /// first, with this LSN (that of its first frame), so a failed commit never holds frames
    /// that already reached the file.
    rotate_due: Option<u64>,
}

impl WalWriter {
    /// Starts a new segment whose first record will carry `next_lsn`. An existing segment of
    /// that name can only hold a header and no record (a record would have taken the LSN), so
    /// it is replaced.
    pub fn open(opts: WalOptions, next_lsn: u64, now_ms: u64) -> io::Result<WalWriter> {
        std::fs::create_dir_all(&opts.dir)?;
        let (file, path) = new_segment(&opts, next_lsn, now_ms)?;
        Ok(WalWriter {
            opts,
            file: Arc::new(file),
            path,
            first_lsn: next_lsn,
            bytes: wal::HEADER_LEN as u64,
            unsynced: true,
            last_sync: Instant::now(),
            written: 0,
            rotate_due: None,
        })
    }

    /// Group commit: appends whole frames (possibly none) and fsyncs in the same submission
    /// when the policy asks (always: whenever bytes are unsynced; everysec: once a second;
    /// no: never). `next_lsn` is the LSN after the last frame (the first LSN of a segment
    /// this call may rotate to). True if it fsynced. On `Err` none of `frames` counts as
    /// written: the caller keeps them and a later commit writes them again at the same offset
    /// (a failed fsync's pages are rewritten, not trusted).
    pub fn commit(
        &mut self,
        frames: &[u8],
        next_lsn: u64,
        now_ms: u64,
        io: &mut dyn WalIo,
    ) -> io::Result<bool> {
        let unsynced = self.unsynced || !frames.is_empty();
        let sync = unsynced
            && match self.opts.policy {
                FsyncPolicy::Always => true,
                FsyncPolicy::EverySec => self.last_sync.elapsed() >= Duration::from_secs(1),
                FsyncPolicy::No => false,
            };
        if frames.is_empty() && !sync {
            return Ok(false);
        }
        if let Some(lsn) = self.rotate_due {
            self.rotate(lsn, now_ms)?;
            self.rotate_due = None;
        }
        io.write_at(&self.file, frames, self.bytes, sync)?;
        self.bytes += frames.len() as u64;
        self.written += frames.len() as u64;
        self.unsynced = unsynced && !sync;
        if sync {
            self.last_sync = Instant::now();
        }
        if self.bytes >= self.opts.segment_bytes && self.rotate(next_lsn, now_ms).is_err() {
            self.rotate_due = Some(next_lsn);
        }
        Ok(sync)
    }

    /// Asynchronous group commit under `always`: reserves the range of `frames` at the end of
    /// the segment and returns the write + fdatasync for the caller to run; the caller reports
    /// the outcome with [`WalWriter::end_async`] or [`WalWriter::abort_async`] before beginning
    /// another. None (nothing reserved) when the policy is not `always`, nothing is unsynced,
    /// or a rotation is due (the synchronous [`WalWriter::commit`] retries it).
    pub fn begin_async(&mut self, frames: bytes::Bytes) -> Option<AsyncCommit> {
        if self.opts.policy != FsyncPolicy::Always
            || self.rotate_due.is_some()
            || (frames.is_empty() && !self.unsynced)
        {
            return None;
        }
        let offset = self.bytes;
        self.bytes += frames.len() as u64;
        self.written += frames.len() as u64;
        self.unsynced = false;
        Some(AsyncCommit {
            file: Arc::clone(&self.file),
            frames,
            offset,
        })
    }

    /// The commit begun by [`WalWriter::begin_async`] is durable: rotates if the segment is
    /// full (`next_lsn` is the LSN after the last frame logged so far; a failed rotation is
    /// retried by the next commit, the frames stay durable).
    pub fn end_async(&mut self, next_lsn: u64, now_ms: u64) {
        self.last_sync = Instant::now();
        if self.bytes >= self.opts.segment_bytes && self.rotate(next_lsn, now_ms).is_err() {
            self.rotate_due = Some(next_lsn);
        }
    }

    /// The commit begun by [`WalWriter::begin_async`] failed: its range is released (the
    /// caller keeps its frames and writes them again at the same offset). `commit` must be the
    /// last range reserved, in the current segment.
    pub fn abort_async(&mut self, commit: &AsyncCommit) {
        let len = commit.frames.len() as u64;
        debug_assert!(Arc::ptr_eq(&commit.file, &self.file));
        debug_assert_eq!(commit.offset + len, self.bytes);
        self.bytes = commit.offset;
        self.written = self.written.saturating_sub(len);
        self.unsynced = true;
    }

    /// True if [`WalWriter::begin_async`] may reserve a range: the policy is `always` and no
    /// rotation is due.
    pub fn async_ready(&self) -> bool {
        self.opts.policy == FsyncPolicy::Always && self.rotate_due.is_none()
    }

    /// Makes the next [`WalWriter::commit`] fsync even if it writes nothing (a range written
    /// behind the writer's back must become durable).
    pub fn mark_unsynced(&mut self) {
        self.unsynced = true;
    }

    /// True if `file` is the current segment's.
    pub fn is_current(&self, file: &Arc<File>) -> bool {
        Arc::ptr_eq(file, &self.file)
    }

    /// [`WalWriter::commit`] with plain writes.
    pub fn append(&mut self, frames: &[u8], next_lsn: u64, now_ms: u64) -> io::Result<()> {
        self.commit(frames, next_lsn, now_ms, &mut StdIo)
            .map(|_| ())
    }

    /// Closes the current segment (fsynced unless the policy is `no`) and starts a new one
    /// at `next_lsn`. A no-op if the current segment holds no record yet.
    pub fn rotate(&mut self, next_lsn: u64, now_ms: u64) -> io::Result<()> {
        if next_lsn == self.first_lsn {
            return Ok(());
        }
        if self.opts.policy != FsyncPolicy::No {
            self.file.sync_data()?;
        }
        let (file, path) = new_segment(&self.opts, next_lsn, now_ms)?;
        self.file = Arc::new(file);
        self.path = path;
        self.first_lsn = next_lsn;
        self.bytes = wal::HEADER_LEN as u64;
        self.unsynced = true;
        Ok(())
    }

    /// fsync now if anything is unsynced.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
            self.last_sync = Instant::now();
        }
        Ok(())
    }

    /// The fsync policy.
    pub fn policy(&self) -> FsyncPolicy {
        self.opts.policy
    }

    /// Changes the fsync policy (CONFIG SET appendfsync).
    pub fn set_policy(&mut self, policy: FsyncPolicy) {
        self.opts.policy = policy;
    }

    /// Changes the rotation size.
    pub fn set_segment_bytes(&mut self, bytes: u64) {
        self.opts.segment_bytes = bytes.max(wal::HEADER_LEN as u64 + 1);
    }

    /// First LSN of the current segment.
    pub fn segment_first_lsn(&self) -> u64 {
        self.first_lsn
    }

    /// Size of the current segment in bytes.
    pub fn segment_len(&self) -> u64 {
        self.bytes
    }

    /// Path of the current segment.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of frames written since open.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The shard directory.
    pub fn dir(&self) -> &Path {
        &self.opts.dir
    }

    /// True if written bytes await an fsync.
    pub fn unsynced(&self) -> bool {
        self.unsynced
    }
}

fn new_segment(opts: &WalOptions, first_lsn: u64, now_ms: u64) -> io::Result<(File, PathBuf)> {
    let path = opts.dir.join(wal::segment_file_name(first_lsn));
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)?;
    let header = SegmentHeader {
        version: wal::VERSION,
        shard_id: opts.shard_id,
        shard_count: opts.shard_count,
        first_lsn,
        created_ms: now_ms,
    };
    file.write_all(&header.encode())?;
    if opts.policy != FsyncPolicy::No {
        file.sync_all()?;
        super::files::sync_dir(&opts.dir)?;
    }
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(dir: &Path, policy: FsyncPolicy, segment_bytes: u64) -> WalOptions {
        WalOptions {
            dir: dir.to_path_buf(),
            shard_id: 3,
            shard_count: 4,
            policy,
            segment_bytes,
        }
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("moon-wal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn appends_frames_and_rotates_on_size() {
        let dir = tmpdir("rotate");
        let mut w = WalWriter::open(opts(&dir, FsyncPolicy::Always, 200), 1, 7).expect("open");
        let mut lsn = 1;
        for i in 0..20u64 {
            let mut buf = Vec::new();
            wal::encode_command(&mut buf, lsn, 100 + i, 0, &[&b"SET"[..], b"k", b"v"]);
            lsn += 1;
            w.append(&buf, lsn, 7).expect("append");
        }
        let files = super::super::files::list(&dir).expect("list");
        assert!(files.segments.len() > 1, "rotated: {files:?}");
        let mut expect = 1;
        for (first, path) in &files.segments {
            assert_eq!(*first, expect);
            let bytes = std::fs::read(path).expect("read");
            let mut r = wal::SegmentReader::new(&bytes).expect("header");
            assert_eq!(r.header().shard_id, 3);
            while let Some((_, rec)) = r.next_record() {
                assert_eq!(rec.lsn, expect);
                expect += 1;
            }
            assert!(matches!(r.end(), wal::SegmentEnd::Clean));
        }
        assert_eq!(expect, 21);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn policies_parse() {
        for p in [FsyncPolicy::Always, FsyncPolicy::EverySec, FsyncPolicy::No] {
            assert_eq!(FsyncPolicy::from_name(p.name()), Some(p));
        }
        assert_eq!(FsyncPolicy::from_name("sometimes"), None);
    }
}
