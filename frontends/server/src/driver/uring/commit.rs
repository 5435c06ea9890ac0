//! The WAL's asynchronous group commit on the shard's ring (`appendfsync always`): a `Write`
//! of the frames linked to an `Fsync(DATASYNC)`, submitted without waiting; the loop keeps
//! serving and takes the outcome from [`UringDriver::take_commit`] once both completions are
//! reaped (the completion also makes `poll` report an `Event::Wake`, so a loop blocked in
//! `poll` wakes up for it).
//!
//! Invariants: at most one commit is in flight; its file (`Arc<File>`) and bytes (`Bytes`) are
//! owned by [`CommitOp`] until all of its submitted CQEs are reaped, so the fd and the buffer
//! the SQEs name stay valid (`Drop` of the driver waits for them, or leaks them); the two SQEs
//! are pushed together (`push_multiple`), so the link never joins the write to an unrelated
//! SQE; a short write cancels the linked fsync and the rest is written (and fsynced) again.

use std::io;
use std::os::fd::AsRawFd;

use io_uring::{opcode, squeue, types};
use moon_engine::persist::AsyncCommit;

use super::{MAX_SEND_CHUNK, Op, UringDriver, decode, encode};

/// Token of the asynchronous commit's `Write` (the synchronous `file_write` uses 0 and 1).
pub(super) const COMMIT_WRITE: usize = 2;
/// Token of its `Fsync`.
pub(super) const COMMIT_SYNC: usize = 3;

/// The commit in flight.
#[derive(Debug)]
pub(super) struct CommitOp {
    commit: AsyncCommit,
    /// Bytes of `commit.frames` known written.
    done: usize,
    /// The SQEs are not in the ring yet (it was full): pushed again by the next `poll`.
    unqueued: bool,
    /// CQEs of the current submission still to come.
    expected: u8,
    wrote: Option<i32>,
    synced: Option<i32>,
}

impl UringDriver {
    /// Starts `commit`; gives it back if one is already in flight.
    pub(super) fn begin_commit(&mut self, commit: AsyncCommit) -> Result<(), AsyncCommit> {
        if self.commit.is_some() || self.commit_result.is_some() {
            return Err(commit);
        }
        self.commit = Some(CommitOp {
            commit,
            done: 0,
            unqueued: true,
            expected: 0,
            wrote: None,
            synced: None,
        });
        self.queue_commit();
        Ok(())
    }

    /// Puts the commit's SQEs (the rest of the write, then the fsync) in the ring, both or
    /// neither; left `unqueued` if the ring stays full (the next `poll` tries again).
    pub(super) fn queue_commit(&mut self) {
        let Some(op) = self.commit.as_mut().filter(|op| op.unqueued) else {
            return;
        };
        let fd = types::Fd(op.commit.file.as_raw_fd());
        let rest = op.commit.frames.get(op.done..).unwrap_or_default();
        let chunk = rest.len().min(MAX_SEND_CHUNK) as u32;
        let fsync = opcode::Fsync::new(fd)
            .flags(types::FsyncFlags::DATASYNC)
            .build()
            .user_data(encode(Op::File, COMMIT_SYNC, 0));
        let mut sqes = Vec::with_capacity(2);
        if chunk > 0 {
            let write = opcode::Write::new(fd, rest.as_ptr(), chunk)
                .offset(op.commit.offset + op.done as u64)
                .build()
                .flags(squeue::Flags::IO_LINK)
                .user_data(encode(Op::File, COMMIT_WRITE, 0));
            sqes.push(write);
        }
        sqes.push(fsync);
        let count = sqes.len() as u8;
        // SAFETY: the write points into `op.commit.frames` and both SQEs name the fd of
        // `op.commit.file`; `CommitOp` owns both until its CQEs are reaped (module invariants).
        #[allow(unsafe_code)]
        let mut pushed = unsafe { self.ring.submission().push_multiple(&sqes) }.is_ok();
        if !pushed && self.ring.submit().is_ok() {
            // SAFETY: as above.
            #[allow(unsafe_code)]
            let again = unsafe { self.ring.submission().push_multiple(&sqes) }.is_ok();
            pushed = again;
        }
        if pushed {
            op.unqueued = false;
            op.expected = count;
            op.wrote = None;
            op.synced = None;
        }
    }

    /// A CQE of the commit (`write`: of its `Write`, else of its `Fsync`). True when the
    /// commit is complete (its outcome is ready for [`UringDriver::take_commit`]).
    pub(super) fn on_commit_cqe(&mut self, write: bool, res: i32) -> bool {
        let Some(op) = self.commit.as_mut() else {
            return false;
        };
        if write {
            op.wrote = Some(res);
        } else {
            op.synced = Some(res);
        }
        op.expected = op.expected.saturating_sub(1);
        if op.expected > 0 {
            return false;
        }
        let total = op.commit.frames.len();
        let outcome = match op.wrote {
            Some(r) if r < 0 => Some(Err(io::Error::from_raw_os_error(-r))),
            Some(0) if op.done < total => Some(Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "WAL write wrote nothing",
            ))),
            Some(r) => {
                op.done += r as usize;
                None
            }
            None => None,
        };
        let outcome = outcome.or_else(|| {
            (op.done >= total).then(|| match op.synced {
                Some(r) if r < 0 => Err(io::Error::from_raw_os_error(-r)),
                Some(_) => Ok(()),
                None => Err(io::Error::other("WAL fsync did not run")),
            })
        });
        match outcome {
            Some(result) => {
                self.commit = None;
                self.commit_result = Some(result);
                true
            }
            None => {
                // A short write (its linked fsync was cancelled): the rest, and the fsync.
                op.unqueued = true;
                self.queue_commit();
                false
            }
        }
    }

    /// The finished commit's outcome, once.
    pub(super) fn take_commit(&mut self) -> Option<io::Result<()>> {
        self.commit_result.take()
    }

    /// Waits until the commit in flight (if any) completes; returns its outcome. Other
    /// completions reaped meanwhile are kept for the next `poll`.
    pub(super) fn wait_commit(&mut self) -> Option<io::Result<()>> {
        while self.commit.is_some() {
            self.queue_commit();
            for (ud, res, flags) in self.wait_some("while waiting for a WAL commit") {
                match decode(ud) {
                    Some((Op::File, COMMIT_WRITE, _)) => {
                        self.on_commit_cqe(true, res);
                    }
                    Some((Op::File, COMMIT_SYNC, _)) => {
                        self.on_commit_cqe(false, res);
                    }
                    _ => self.cqes.push((ud, res, flags)),
                }
            }
        }
        self.take_commit()
    }
}
