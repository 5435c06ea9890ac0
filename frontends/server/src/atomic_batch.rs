//! Cross-shard MSET and MSETNX, batched: one freeze per loop iteration instead of one per
//! command.
//!
//! A client's MSET/MSETNX whose keys span shards is not run when it is read: it takes its reply
//! slot and joins this shard's queue, and the connection is marked `atomic_wait`. While it
//! waits, the connection's further MSET/MSETNX commands join the queue too (whatever their
//! keys, so they stay in order with the queued ones); any other command, and everything after
//! it, waits in the connection's stash, as for a blocked client. The worker runs the queue
//! (`run_atomic_batch`) after the iteration's reads and again before its replies are flushed:
//! all queued ops under one freeze of their owners, in queue order, then the waiting
//! connections resume (which may queue more, run in another round).
//!
//! Atomicity is the freeze protocol's (SPEC §1.3): no client observes a state between the parts
//! of any op of the batch. A batch of MSETs touching this shard and at most one other takes one
//! round: the peer applies all its parts when it takes the `Freeze`, this thread applies its
//! own meanwhile and serves nothing until the peer answers (see `mset_one_round`).
//! Invariants: a connection's commands take effect in the order it sent them (nothing after a
//! queued op runs before it); every queued slot is completed by the round that takes it.

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, Op, Reply};
use moon_engine::notify::KeyEvent;
use moon_engine::shard::Shard;

use crate::conn::{Conn, Finish, Part};
use crate::mailbox::{FrozenWork, Msg};
use crate::worker::Worker;

/// An atomic op waiting for this iteration's batch.
pub(crate) struct Queued {
    client: u64,
    seq: u64,
    ctx: ExecCtx,
    op: Op,
}

/// A batched op's reply and the keyspace events it recorded on this shard.
type Done = (Reply, Option<Vec<KeyEvent>>);

/// MSET pairs with the context they run in.
type MsetPart = (ExecCtx, Vec<(Bytes, Bytes)>);

/// True for the commands that join a waiting connection's batch (`atomic_wait`).
pub(crate) fn joins_batch(args: &[Bytes]) -> bool {
    args.first().is_some_and(|name| {
        name.eq_ignore_ascii_case(b"mset") || name.eq_ignore_ascii_case(b"msetnx")
    })
}

/// True for the ops that are batched when their keys span shards.
pub(crate) fn batched(op: &Op) -> bool {
    matches!(op, Op::MSet { .. } | Op::MSetNx { .. })
}

impl Worker {
    /// Queues `op` (MSET/MSETNX) for this iteration's batch; its reply slot is taken now.
    pub(crate) fn queue_atomic(&mut self, conn: &mut Conn, ctx: ExecCtx, op: Op) {
        let seq = conn.defer(1, Finish::Passthrough);
        conn.atomic_wait = true;
        self.atomic_queue.push(Queued {
            client: conn.id,
            seq,
            ctx,
            op,
        });
    }

    /// Runs every queued op, answers it and resumes the waiting connections, until no
    /// connection queued more.
    pub(crate) fn run_atomic_batch(&mut self) {
        while !self.atomic_queue.is_empty() {
            let queued = std::mem::take(&mut self.atomic_queue);
            let mut slots = Vec::with_capacity(queued.len());
            let mut ops = Vec::with_capacity(queued.len());
            for q in queued {
                slots.push((q.client, q.seq));
                ops.push((q.ctx, q.op));
            }
            let done = self.apply_batch(ops);
            debug_assert_eq!(done.len(), slots.len());
            let mut clients = Vec::new();
            for ((client, seq), (reply, events)) in slots.into_iter().zip(done) {
                if reply.is_err() {
                    self.stats.error_replies += 1;
                }
                self.complete_part(client, seq, 0, Part::Reply(reply));
                // As after a client command: its notifications right after its reply.
                if let Some(events) = events {
                    self.shard.push_events(events);
                    self.publish_events(None);
                }
                if clients.last() != Some(&client) {
                    clients.push(client);
                }
            }
            clients.sort_unstable();
            clients.dedup();
            for client in clients {
                self.resume_after_batch(client);
            }
        }
    }

    fn resume_after_batch(&mut self, client: u64) {
        let Some(&token) = self.client_tokens.get(&client) else {
            return;
        };
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        conn.atomic_wait = false;
        self.resume_input(&mut conn);
        self.conns.insert(token, conn);
        self.dirty.push(token);
    }

    /// Applies `ops` in order, atomically each, under one freeze of all their owners.
    fn apply_batch(&mut self, ops: Vec<(ExecCtx, Op)>) -> Vec<Done> {
        let n = ops.len();
        let slots = &self.shared.slots;
        let mut owners: Vec<usize> = ops
            .iter()
            .flat_map(|(_, op)| op.keys().into_iter().map(move |k| slots.shard_of(k)))
            .collect();
        owners.sort_unstable();
        owners.dedup();
        let peers: Vec<usize> = owners.iter().copied().filter(|&s| s != self.id).collect();
        if peers.len() <= 1 && ops.iter().all(|(_, op)| matches!(op, Op::MSet { .. })) {
            let parts = ops
                .into_iter()
                .map(|(ctx, op)| match op {
                    Op::MSet { pairs } => (ctx, pairs),
                    _ => (ctx, Vec::new()),
                })
                .collect();
            return self.mset_one_round(parts, peers.first().copied());
        }
        let shared = self.shared.clone();
        let owner_of = move |k: &[u8]| shared.slots.shard_of(k);
        self.run_frozen(&owners, |access| {
            ops.into_iter()
                .map(|(ctx, op)| {
                    let reply = crate::atomic::execute(access, &owner_of, ctx, op);
                    (reply, access.take_local_events())
                })
                .collect()
        })
        .unwrap_or_else(|| (0..n).map(|_| (crate::atomic::gone(), None)).collect())
    }

    /// MSETs over this shard and at most one `peer`, in one round trip: the peer applies its
    /// parts as soon as it takes the `Freeze` (the work is queued before it), while this thread
    /// applies its own and serves nothing else until the peer has answered. A client can only
    /// see the peer's new values after the peer applied them, and this shard's only after this
    /// returns, by which time both sides are applied: each MSET is atomic. The transaction
    /// lock is still taken so that no other coordinator waits on this thread meanwhile.
    pub(crate) fn mset_one_round(
        &mut self,
        parts: Vec<MsetPart>,
        peer: Option<usize>,
    ) -> Vec<Done> {
        let slots = &self.shared.slots;
        let mut mine = Vec::with_capacity(parts.len());
        let mut theirs = Vec::with_capacity(parts.len());
        for (ctx, pairs) in parts {
            let (m, t): (Vec<_>, Vec<_>) = pairs
                .into_iter()
                .partition(|(k, _)| slots.shard_of(k) == self.id);
            mine.push((ctx, m));
            theirs.push((ctx, t));
        }
        let Some(peer) = peer else {
            return self.apply_msets(mine);
        };
        self.acquire_tx_lock();
        let (ack_tx, _ack_rx) = std::sync::mpsc::channel();
        let (wtx, wrx) = std::sync::mpsc::channel::<FrozenWork>();
        let (rtx, rrx) = std::sync::mpsc::sync_channel(1);
        let now = self.now_ms;
        let _ = wtx.send(Box::new(move |s: &mut Shard| {
            let replies: Vec<Reply> = theirs.into_iter().map(|p| apply_mset(s, p)).collect();
            // Durable (as the policy asks) before the coordinator's replies can leave.
            let failed = s.wal_unsettled() && !s.wal_io_failed() && s.wal_flush(now).is_err();
            let _ = rtx.send((replies, failed));
        }));
        drop(wtx);
        self.outboxes[peer].send(Msg::Freeze {
            ack: ack_tx,
            work: wrx,
        });
        self.push_out_all(&[peer]);
        let tx_lock = self.shared.clone();
        let local = crate::contain::release_on_panic(&tx_lock.tx_lock, || self.apply_msets(mine));
        let remote = rrx.recv().map(|(replies, failed)| {
            if failed {
                // The replies must not acknowledge what the peer could not log.
                self.shard.wal_mark_broke();
            }
            replies
        });
        self.shared
            .tx_lock
            .store(false, std::sync::atomic::Ordering::Release);
        match remote {
            Ok(remote) if remote.len() == local.len() => local
                .into_iter()
                .zip(remote)
                .map(|((l, ev), r)| if r.is_err() { (r, ev) } else { (l, ev) })
                .collect(),
            _ => local
                .into_iter()
                .map(|(_, ev)| (crate::atomic::gone(), ev))
                .collect(),
        }
    }

    fn apply_msets(&mut self, parts: Vec<MsetPart>) -> Vec<Done> {
        parts
            .into_iter()
            .map(|p| {
                let reply = apply_mset(&mut self.shard, p);
                let events = self.shard.has_events().then(|| self.shard.take_events());
                (reply, events)
            })
            .collect()
    }
}

/// One MSET's part on one shard (nothing to do for an empty part).
fn apply_mset(shard: &mut Shard, (ctx, pairs): MsetPart) -> Reply {
    if pairs.is_empty() {
        return Reply::Ok;
    }
    shard.apply(&ctx, &Op::MSet { pairs })
}

#[cfg(test)]
mod tests {
    use super::joins_batch;
    use bytes::Bytes;

    #[test]
    fn only_mset_and_msetnx_join_a_waiting_batch() {
        let args = |s: &str| -> Vec<Bytes> {
            s.split(' ')
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect()
        };
        assert!(joins_batch(&args("MSET a 1")));
        assert!(joins_batch(&args("msetnx a 1")));
        assert!(!joins_batch(&args("GET a")));
        assert!(!joins_batch(&args("MSETX a")));
        assert!(!joins_batch(&[]));
    }
}
