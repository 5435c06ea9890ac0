//! A failed WAL commit in the shard loop (SPEC §1.7, "WAL failure"): what waited for it is
//! never sent as success, and the commit is retried on the tick.
//!
//! Under `appendfsync always` every reply waits for the group commit of the writes it may
//! reveal (`walhold.rs`). When a commit fails, the connections that got output in the
//! iteration (`dirty`) and those whose output waited for the failed commit (`wal_waiting`)
//! are closed without it — their clients cannot tell whether the writes happened, as after a
//! crash — and each reply held for another shard's client (`wal_held`) that waited for it
//! becomes a request to close that client there. Under `everysec`/`no` replies never waited for the disk, so they
//! leave as Redis sends them. Meanwhile the shard refuses writes (MISCONF) and keeps the
//! failed frames; [`Worker::persist_flush`] skips the file until the tick's retry succeeds.
//!
//! Invariant: the shard's `broke` flag is raised only by a commit that failed while the WAL
//! was healthy (wherever it ran: this loop, or a frozen participant's flush; a coordinator
//! whose participant's flush failed raises its own), and is taken by
//! [`Worker::wal_drop_unacked`] before the iteration's output leaves.

use moon_engine::persist::FsyncPolicy;

use crate::mailbox::{CallFn, Msg, ReplyTo};
use crate::worker::Worker;

impl Worker {
    /// Group commit as `persist_flush`, retrying the file when it had failed: the tick's
    /// attempt (as Redis retries a failed AOF write from its cron).
    pub(crate) fn wal_retry(&mut self) {
        if !self.shard.wal_io_failed() {
            self.wal_commit();
            return;
        }
        self.wal_settle();
        let mut io = crate::driver::DriverIo(&mut *self.driver);
        if self.shard.wal_flush_with(self.now_ms, &mut io).is_ok() {
            tracing::warn!(
                shard = self.id,
                "WAL write error looks solved, writes are accepted again"
            );
        }
    }

    /// After the group commit: if it failed under `always`, drop what waited for it.
    pub(crate) fn wal_drop_unacked(&mut self) {
        if !self.shard.wal_take_broke() {
            return;
        }
        let always = self
            .shard
            .wal_writer()
            .is_some_and(|w| w.policy() == FsyncPolicy::Always);
        if !always {
            return;
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for token in dirty {
            let waiting = self
                .conns
                .get(&token)
                .is_some_and(|c| !c.out.is_empty() || !c.pending.is_empty());
            if waiting {
                self.close_conn(token);
            } else {
                self.dirty.push(token);
            }
        }
        // Output waiting for an in-flight commit (`walhold.rs`) that failed. When the failure
        // was a frozen participant's (this shard's own WAL is fine), every held reply goes.
        let own = self.shard.wal_io_failed();
        let durable = if own { self.shard.wal_synced_lsn() } else { 0 };
        for token in std::mem::take(&mut self.wal_waiting) {
            let Some(conn) = self.conns.get_mut(&token) else {
                continue;
            };
            conn.wal.listed = false;
            if own && conn.wal.waits_after(durable) {
                self.close_conn(token);
            } else {
                self.dirty.push(token);
            }
        }
        for (tag, dest, msg) in std::mem::take(&mut self.wal_held) {
            let msg = if tag <= durable {
                Some(msg)
            } else {
                self.unacked_reply(msg)
            };
            if let Some(msg) = msg {
                self.outboxes[dest].send(msg);
            }
        }
    }

    /// What replaces a held message whose commit failed: a reply becomes closing its
    /// client(s) on their shard; keyspace events of the failed writes are dropped; anything
    /// else goes as it is.
    fn unacked_reply(&self, msg: Msg) -> Option<Msg> {
        let clients: Vec<u64> = match msg {
            Msg::Reply { to, .. } | Msg::CallReply { to, .. } => vec![to.client],
            Msg::Encoded(batch) => batch.clients(),
            Msg::Publish { to: None, .. } => return None,
            other => return Some(other),
        };
        // Client ids start at 1: the answer to this call is delivered to nobody.
        let to = ReplyTo {
            shard: self.id,
            client: 0,
            seq: 0,
            part: 0,
        };
        let f: CallFn = Box::new(move |w: &mut Worker| {
            for client in &clients {
                if let Some(&token) = w.client_tokens.get(client) {
                    w.close_conn(token);
                }
            }
            Box::new(())
        });
        Some(Msg::Call { to, f })
    }
}
