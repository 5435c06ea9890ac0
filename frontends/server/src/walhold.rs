//! Output held back for the WAL (SPEC §1.7): under `appendfsync always` on io_uring the group
//! commit stays in flight while the loop goes on serving, so output is released by LSN rather
//! than by iteration. This module owns the per-connection [`Marks`], the list of connections
//! holding output (`Worker::wal_waiting`), the messages held for other shards
//! (`Worker::wal_held`), and the loop's commit steps (`wal_commit` at the end of an iteration,
//! `wal_poll` right after each poll, `wal_settle` before any synchronous flush).
//!
//! Rule: output this shard produces while its last logged write has LSN `L` leaves only once
//! every write up to `L` is durable. That covers the replies acknowledging writes and every
//! read that could see one (the tag is the shard's last LSN whatever the command: a read with
//! no write pending is released at once). A connection's output carries [`Marks`] (byte
//! offset → LSN); the released prefix is sent, the rest waits, so a reply queued after a held
//! one waits too. Messages to other shards that carry a reply, or a Pub/Sub or keyspace
//! message, wait in `Worker::wal_held`, in order, by the same rule (under every policy they
//! wait at least for the iteration's write, as before); requests (`Exec`, `Call`, `Freeze`,
//! `Block`) reveal nothing and are not held.
//!
//! Invariants: marks ascend in offset and LSN and cover exactly the first `tagged` bytes of
//! `Conn::out`; a connection holding output is listed in `Worker::wal_waiting` (`listed`), and
//! every listed connection is looked at again when a commit completes; at most one commit is
//! in flight per shard; a commit that fails closes every connection whose output waited for
//! it, and turns each held reply to another shard's client into closing that client
//! (`walfail.rs`), so nothing that waited for it is ever sent as success.

use std::collections::VecDeque;

use crate::driver::ConnToken;
use crate::mailbox::Msg;
use crate::worker::Worker;

/// Which bytes of a connection's output wait for which LSN.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// `(offset, lsn)`: the output from `offset` on waits for `lsn` to be durable.
    marks: VecDeque<(usize, u64)>,
    /// Leading bytes of the output already tagged.
    tagged: usize,
    /// The connection is in `Worker::wal_waiting`.
    pub(crate) listed: bool,
}

impl Marks {
    /// Tags the output added since the last call (the output is now `len` bytes) as depending
    /// on every write up to `last`, and returns how many leading bytes may leave with every
    /// write up to `release` durable.
    pub(crate) fn tag(&mut self, len: usize, last: u64, release: u64) -> usize {
        if self.marks.is_empty() && last <= release {
            // The common case: nothing waits.
            self.tagged = len;
            return len;
        }
        if len < self.tagged {
            // Output dropped other than through `sent`: offsets unknown, so all of it waits.
            self.marks.clear();
            self.tagged = 0;
        }
        let newer = self.marks.back().is_none_or(|&(_, lsn)| lsn < last);
        if len > self.tagged && last > release && newer {
            self.marks.push_back((self.tagged, last));
        }
        self.tagged = len;
        while self.marks.front().is_some_and(|&(_, lsn)| lsn <= release) {
            self.marks.pop_front();
        }
        self.marks.front().map_or(len, |&(at, _)| at)
    }

    /// The first `n` bytes of the output were handed to the driver (`n` at most what
    /// [`Marks::tag`] allowed).
    pub(crate) fn sent(&mut self, n: usize) {
        self.tagged = self.tagged.saturating_sub(n);
        for m in &mut self.marks {
            m.0 = m.0.saturating_sub(n);
        }
    }

    /// True while part of the output waits.
    pub(crate) fn holding(&self) -> bool {
        !self.marks.is_empty()
    }

    /// True if part of the output waits for a write after `durable`.
    pub(crate) fn waits_after(&self, durable: u64) -> bool {
        self.marks.back().is_some_and(|&(_, lsn)| lsn > durable)
    }
}

impl Worker {
    /// Takes the outcome of the commit in flight, if it completed (after every poll).
    pub(crate) fn wal_poll(&mut self) {
        if self.shard.wal_inflight()
            && let Some(result) = self.driver.commit_done()
        {
            self.wal_finish(result);
        }
    }

    /// Waits for the commit in flight, if any (before a synchronous flush, a rotation, a
    /// policy change or shutdown).
    pub(crate) fn wal_settle(&mut self) {
        if self.shard.wal_inflight()
            && let Some(result) = self.driver.commit_wait()
        {
            self.wal_finish(result);
        }
    }

    /// The group commit at the end of an iteration (and on the tick). Under `always` with a
    /// driver that can leave it in flight (io_uring): starts the commit of the pending frames
    /// unless one is in flight (they go with the next one). Otherwise the synchronous flush.
    pub(crate) fn wal_commit(&mut self) {
        if !self.shard.wal_enabled() || self.shard.wal_inflight() {
            return;
        }
        if let Some(commit) = self.shard.wal_flush_begin() {
            match self.driver.start_commit(commit) {
                Ok(()) => return,
                Err(c) => {
                    // This backend waits (epoll): the same commit, synchronously.
                    let result = self.driver.write_file(&c.file, &c.frames, c.offset, true);
                    self.wal_finish(result);
                    return;
                }
            }
        }
        self.persist_flush();
    }

    /// A commit completed with `result`: on success, what waited for it may go; on failure,
    /// what waited for it is dropped (`walfail.rs`).
    fn wal_finish(&mut self, result: std::io::Result<()>) {
        let failed_before = self.shard.wal_failure().is_some();
        if let Err(e) = self.shard.wal_flush_end(result, self.now_ms)
            && !failed_before
        {
            tracing::error!(
                shard = self.id,
                "WAL write failed, refusing writes until it is fixed: {e}"
            );
        }
        self.wal_drop_unacked();
        self.wal_rescan();
        self.release_wal_held();
    }

    /// Every waiting connection is looked at again by the next `flush_conns`.
    fn wal_rescan(&mut self) {
        for token in self.wal_waiting.drain(..) {
            if let Some(conn) = self.conns.get_mut(&token) {
                conn.wal.listed = false;
                self.dirty.push(token);
            }
        }
    }

    /// Tags the output of one connection now; returns how many leading bytes may leave.
    pub(crate) fn wal_tag(&mut self, token: ConnToken, last: u64, release: u64) -> usize {
        let Some(conn) = self.conns.get_mut(&token) else {
            return 0;
        };
        let cut = conn.wal.tag(conn.out.len(), last, release);
        if conn.wal.holding() && !conn.wal.listed {
            conn.wal.listed = true;
            self.wal_waiting.push(token);
        }
        cut
    }

    /// Tags the output of every dirty connection now (before the connections are lent to a
    /// busy script's hook, which sends only from connections that hold nothing).
    pub(crate) fn wal_tag_dirty(&mut self) {
        let (last, release) = (self.shard.wal_last_lsn(), self.shard.wal_release_lsn());
        let dirty = std::mem::take(&mut self.dirty);
        for &token in &dirty {
            self.wal_tag(token, last, release);
        }
        self.dirty = dirty;
    }

    /// Sends a reply (or a Pub/Sub message) to another shard, held while it may reveal a
    /// write not yet durable; later ones queue behind held ones, so their order is kept.
    pub(crate) fn send_reply(&mut self, dest: usize, msg: Msg) {
        let tag = self.shard.wal_last_lsn();
        if self.wal_held.is_empty() && tag <= self.shard.wal_durable_lsn() {
            self.outboxes[dest].send(msg);
        } else {
            self.wal_held.push_back((tag, dest, msg));
        }
    }

    /// Sends the held messages whose writes are durable now.
    pub(crate) fn release_wal_held(&mut self) {
        let durable = self.shard.wal_durable_lsn();
        while self.wal_held.front().is_some_and(|h| h.0 <= durable) {
            if let Some((_, dest, msg)) = self.wal_held.pop_front() {
                self.outboxes[dest].send(msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Marks;

    #[test]
    fn output_waits_for_its_lsn_and_leaves_in_order() {
        let mut m = Marks::default();
        assert_eq!(m.tag(10, 0, u64::MAX), 10, "no WAL wait: all of it");
        m.sent(10);
        assert_eq!(m.tag(5, 7, 4), 0, "written after LSN 7, durable up to 4");
        assert!(m.holding() && m.waits_after(4) && !m.waits_after(7));
        assert_eq!(m.tag(12, 9, 4), 0, "more output, after LSN 9");
        assert_eq!(m.tag(12, 9, 7), 5, "LSN 7 durable: the first reply leaves");
        m.sent(5);
        assert_eq!(m.tag(7, 9, 8), 0, "the rest still waits for 9");
        assert_eq!(m.tag(7, 9, 9), 7);
        assert!(!m.holding());
        m.sent(7);
        assert_eq!(m.tag(0, 9, 9), 0);
    }

    #[test]
    fn a_read_after_a_held_reply_waits_too() {
        let mut m = Marks::default();
        assert_eq!(m.tag(5, 3, 2), 0, "a write's reply waits for 3");
        // Nothing newer was logged, yet the read's reply is behind the held one.
        assert_eq!(m.tag(9, 3, 2), 0);
        assert_eq!(m.tag(9, 3, 3), 9);
    }

    #[test]
    fn output_dropped_behind_its_back_waits_for_the_newest_write() {
        let mut m = Marks::default();
        assert_eq!(m.tag(20, 3, 1), 0);
        assert_eq!(m.tag(6, 5, 3), 0, "shrunk: everything waits for 5");
        assert_eq!(m.tag(6, 5, 5), 6);
    }
}
