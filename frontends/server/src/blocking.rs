//! Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK ...): parking a client whose op found
//! nothing, waking it when a key it waits on is written, and timing it out.
//!
//! Roles: the *home* shard owns the client's connection; each *owner* shard owns some of the
//! op's keys. The home reserves the reply slot, stops reading the client's further commands
//! (Redis processes nothing else from a blocked client), and sends a [`Waiter`] to every owner.
//! An owner first tries the op (so data that arrived meanwhile is never missed), and otherwise
//! queues the waiter on each of its keys and tells the shard's `Interest` registry to report
//! writes to them. After any write to such a key the owner re-executes the queued waiters'
//! ops in FIFO order while they find data (locally, or through the atomic cross-shard path
//! when the op's keys span shards) and sends each result to its home.
//!
//! One waiter can be queued on several shards, and the home may time it out at any moment: the
//! shared `claim` decides who answers. `WAITING → SERVING` (an owner trying the op; it goes
//! back to `WAITING` if the op found nothing) and `WAITING → DONE` (the home's timeout, or the
//! client going away); only the side that moved it to `DONE` answers. Queued waiters whose
//! claim is `DONE` are dropped lazily and by a periodic sweep.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, Op, Reply};

use crate::conn::{Conn, Finish, Part};
use crate::mailbox::{Msg, ReplyTo};
use crate::worker::Worker;

const WAITING: u8 = 0;
const SERVING: u8 = 1;
const DONE: u8 = 2;

/// A parked op as an owner shard keeps it.
pub struct Waiter {
    claim: Arc<AtomicU8>,
    to: ReplyTo,
    ctx: ExecCtx,
    op: Op,
    /// Every shard owning one of the op's keys (sorted).
    owners: Vec<usize>,
}

/// A parked op as its home shard keeps it.
pub struct Parked {
    claim: Arc<AtomicU8>,
    client: u64,
    seq: u64,
    /// Unix ms after which the client gets the null reply; `None` waits forever.
    deadline: Option<u64>,
    null: Reply,
}

/// Per-worker state of blocking commands.
#[derive(Default)]
pub struct Blocking {
    /// Owner side: waiters by `(db, key)`, oldest first.
    queues: hashbrown::HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>,
    /// Home side: this shard's parked clients.
    parked: Vec<Parked>,
}

impl Blocking {
    /// The earliest deadline of a parked client, for the event loop's poll timeout.
    pub fn next_deadline(&self) -> Option<u64> {
        self.parked.iter().filter_map(|p| p.deadline).min()
    }

    /// True if nothing is parked or queued.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty() && self.parked.is_empty()
    }
}

fn is_null(r: &Reply) -> bool {
    matches!(r, Reply::Nil | Reply::NilArray)
}

impl Worker {
    /// Park `op` (a blocking op that just found nothing) for `conn` on its key `owners`
    /// (sorted, distinct). `null` is its timeout reply; `timeout_ms` 0 waits forever.
    pub(crate) fn park(
        &mut self,
        conn: &mut Conn,
        ctx: ExecCtx,
        op: Op,
        owners: Vec<usize>,
        timeout_ms: u64,
        null: Reply,
    ) {
        let seq = conn.defer(1, Finish::Passthrough);
        conn.blocked_on = Some(seq);
        let claim = Arc::new(AtomicU8::new(WAITING));
        self.blocking.parked.push(Parked {
            claim: claim.clone(),
            client: conn.id,
            seq,
            deadline: (timeout_ms > 0).then(|| ctx.now_ms.saturating_add(timeout_ms)),
            null,
        });
        let to = ReplyTo {
            shard: self.id,
            client: conn.id,
            seq,
            part: 0,
        };
        for &owner in &owners {
            let waiter = Waiter {
                claim: claim.clone(),
                to,
                ctx,
                op: op.clone(),
                owners: owners.clone(),
            };
            if owner == self.id {
                // The caller's attempt just found nothing, and nothing ran since: no need to
                // try again (and the connection is not reachable for a reply right now).
                self.register_waiter(waiter, false);
            } else {
                self.outboxes[owner].send(Msg::Block(Box::new(waiter)));
            }
        }
    }

    /// Owner side: queue `w` on its keys owned here, then (with `try_now`) serve at once if one
    /// of them has data.
    pub(crate) fn register_waiter(&mut self, mut w: Waiter, try_now: bool) {
        let shards = self.shared.shards();
        let db = w.ctx.db;
        // Rewrite `$` (XREAD) to what exists now, so later entries are what it waits for.
        self.shard.prepare_block(&w.ctx, &mut w.op);
        let w = Arc::new(w);
        let mut mine: Vec<Bytes> =
            w.op.keys()
                .into_iter()
                .filter(|k| shards == 1 || self.shared.slots.shard_of(k) == self.id)
                .cloned()
                .collect();
        mine.sort_unstable();
        mine.dedup();
        for key in &mine {
            self.shard.interest().block(db, key.clone());
            self.blocking
                .queues
                .entry((db, key.clone()))
                .or_default()
                .push_back(w.clone());
        }
        if !try_now {
            return;
        }
        // Data may have arrived between the home's attempt and now: try like a write would.
        for key in mine {
            if self.shard.exists(db, &key, self.now_ms) {
                self.serve_key(db, key);
            }
        }
    }

    /// Serve waiters of every key written since the last call.
    pub(crate) fn serve_ready(&mut self) {
        if self.blocking.queues.is_empty() {
            return;
        }
        loop {
            let ready = self.shard.interest().take_ready();
            if ready.is_empty() {
                return;
            }
            for (db, key) in ready {
                self.serve_key(db, key);
            }
        }
    }

    /// Re-execute the waiters queued on `key`, oldest first, while they find data.
    fn serve_key(&mut self, db: usize, key: Bytes) {
        let qkey = (db, key);
        loop {
            let Some(w) = self
                .blocking
                .queues
                .get(&qkey)
                .and_then(|q| q.front().cloned())
            else {
                return;
            };
            if w.claim.load(Ordering::Acquire) == DONE {
                self.dequeue_front(&qkey);
                continue;
            }
            if w.claim
                .compare_exchange(WAITING, SERVING, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // Another owner is trying it right now; it answers or puts it back.
                return;
            }
            let mut ctx = w.ctx;
            ctx.now_ms = self.now_ms;
            let reply = if w.owners.len() <= 1 || self.shared.shards() == 1 {
                self.shard.apply(&ctx, &w.op)
            } else {
                self.run_atomic(ctx, w.op.clone(), w.owners.clone())
            };
            if is_null(&reply) {
                w.claim.store(WAITING, Ordering::Release);
                return;
            }
            w.claim.store(DONE, Ordering::Release);
            self.dequeue_front(&qkey);
            self.deliver(w.to, reply);
        }
    }

    fn dequeue_front(&mut self, qkey: &(usize, Bytes)) {
        if let Some(q) = self.blocking.queues.get_mut(qkey) {
            q.pop_front();
            if q.is_empty() {
                self.blocking.queues.remove(qkey);
            }
        }
        self.shard.interest().unblock(qkey.0, &qkey.1);
    }

    fn deliver(&mut self, to: ReplyTo, reply: Reply) {
        if to.shard == self.id {
            self.complete_part(to.client, to.seq, to.part, Part::Reply(reply));
        } else {
            self.send_reply(to.shard, Msg::Reply { to, reply });
        }
    }

    /// Home side: answer parked clients whose deadline passed; drop served ones. Owner side:
    /// drop queued waiters that were answered elsewhere.
    pub(crate) fn blocking_tick(&mut self) {
        if self.blocking.is_empty() {
            return;
        }
        let now = self.now_ms;
        let mut expired = Vec::new();
        self.blocking.parked.retain(|p| {
            let state = p.claim.load(Ordering::Acquire);
            if state == DONE {
                return false;
            }
            if p.deadline.is_some_and(|d| d <= now)
                && p.claim
                    .compare_exchange(WAITING, DONE, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                expired.push((p.client, p.seq, p.null.clone()));
                return false;
            }
            true
        });
        for (client, seq, null) in expired {
            self.complete_part(client, seq, 0, Part::Reply(null));
        }
        let mut emptied = Vec::new();
        for (k, q) in self.blocking.queues.iter_mut() {
            let before = q.len();
            q.retain(|w| w.claim.load(Ordering::Acquire) != DONE);
            for _ in q.len()..before {
                emptied.push(k.clone());
            }
        }
        for (db, key) in emptied {
            self.shard.interest().unblock(db, &key);
        }
        self.blocking.queues.retain(|_, q| !q.is_empty());
    }

    /// The client went away: nobody must answer its parked op.
    pub(crate) fn forget_parked(&mut self, client: u64) {
        for p in &self.blocking.parked {
            if p.client == client {
                // If an owner is serving it right now its answer finds no connection.
                let _ =
                    p.claim
                        .compare_exchange(WAITING, DONE, Ordering::AcqRel, Ordering::Acquire);
            }
        }
        self.blocking.parked.retain(|p| p.client != client);
    }
}
