//! Atomic multi-shard operations (MSET, MSETNX, RENAME/RENAMENX and COPY across shards, LCS of
//! keys on two shards, FLUSHDB/FLUSHALL/SWAPDB).
//!
//! Protocol: the coordinating shard takes the process-wide transaction lock (one atomic op at a
//! time), sends `Freeze` through the ordinary mailbox to every other participant (so each one
//! has executed everything the coordinator sent it before), and waits for every
//! acknowledgement. A frozen participant runs only the closures the coordinator sends it, until
//! the coordinator drops the work channel. No participant serves anything else meanwhile, so no
//! client can observe a state between the parts: the op is atomic. Deadlock freedom: only the
//! lock holder freezes shards; a shard waiting for the lock keeps serving `Freeze` and `Exec`
//! messages (replies to its own connections are set aside and handled after), and nobody blocks
//! on a full ring (overflow queues).

use std::sync::atomic::Ordering;
use std::sync::mpsc;

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, MergeKind, Op, OpError, Reply, merge_replies};
use moon_engine::notify::class;
use moon_engine::shard::Shard;

use crate::mailbox::{FrozenWork, Msg};
use crate::worker::Worker;

impl Worker {
    /// Participant side: acknowledge, then run work until the coordinator hangs up. While a
    /// script is busy (it may be the coordinator's), this shard's clients are answered between
    /// pieces of work.
    pub(crate) fn serve_frozen(&mut self, ack: mpsc::Sender<()>, work: mpsc::Receiver<FrozenWork>) {
        if ack.send(()).is_err() {
            return;
        }
        loop {
            match work.recv_timeout(std::time::Duration::from_millis(20)) {
                // A panic fails this piece of work only: its result channel closes, which
                // the coordinator already handles as a participant gone.
                Ok(f) => {
                    let _ = crate::contain::run("a cross-shard transaction", || f(&mut self.shard));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.shared.script_busy.active() {
                        self.serve_busy_here();
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// The coordinator's handle on the frozen participants.
pub(crate) struct Access<'a> {
    local_id: usize,
    local: &'a mut Shard,
    remote: Vec<(usize, mpsc::Sender<FrozenWork>)>,
}

impl Access<'_> {
    /// The keyspace events the ops run so far recorded on the coordinator's shard.
    pub(crate) fn take_local_events(&mut self) -> Option<Vec<moon_engine::notify::KeyEvent>> {
        self.local.has_events().then(|| self.local.take_events())
    }

    /// Run `f` on shard `owner` (which must be a participant) and return its result; None if
    /// the participant is gone.
    pub(crate) fn on<R: Send + 'static>(
        &mut self,
        owner: usize,
        f: impl FnOnce(&mut Shard) -> R + Send + 'static,
    ) -> Option<R> {
        if owner == self.local_id {
            return Some(f(self.local));
        }
        let (_, tx) = self.remote.iter().find(|(s, _)| *s == owner)?;
        let (rtx, rrx) = mpsc::sync_channel(1);
        tx.send(Box::new(move |s: &mut Shard| {
            let _ = rtx.send(f(s));
        }))
        .ok()?;
        rrx.recv().ok()
    }
}

impl Worker {
    /// Execute `op` atomically across `owners` (sorted, distinct; may include this shard).
    pub(crate) fn run_atomic(&mut self, ctx: ExecCtx, op: Op, owners: Vec<usize>) -> Reply {
        if let (Op::MSet { pairs }, [a, b]) = (&op, owners.as_slice())
            && (*a == self.id || *b == self.id)
        {
            let other = if *a == self.id { *b } else { *a };
            let mut reply = gone();
            for (r, events) in self.mset_one_round(vec![(ctx, pairs.clone())], Some(other)) {
                if let Some(events) = events {
                    self.shard.push_events(events);
                }
                reply = r;
            }
            return reply;
        }
        let shared = self.shared.clone();
        let owner_of = move |k: &[u8]| shared.slots.shard_of(k);
        self.run_frozen(&owners, |access| execute(access, &owner_of, ctx, op))
            .unwrap_or_else(gone)
    }

    /// Freeze `owners` (sorted, distinct; may include this shard) and run `f` with access to
    /// all of them; `None` if a participant did not respond. Holds the transaction lock.
    pub(crate) fn run_frozen<R>(
        &mut self,
        owners: &[usize],
        f: impl FnOnce(&mut Access<'_>) -> R,
    ) -> Option<R> {
        self.acquire_tx_lock();
        let (ack_tx, ack_rx) = mpsc::channel();
        let mut remote = Vec::new();
        for &s in owners.iter().filter(|&&s| s != self.id) {
            let (wtx, wrx) = mpsc::channel();
            self.outboxes[s].send(Msg::Freeze {
                ack: ack_tx.clone(),
                work: wrx,
            });
            remote.push((s, wtx));
        }
        drop(ack_tx);
        self.push_out_all(owners);
        let mut acked = 0;
        while acked < remote.len() {
            if ack_rx.recv().is_err() {
                break;
            }
            acked += 1;
        }
        let result = if acked < remote.len() {
            None
        } else {
            let mut access = Access {
                local_id: self.id,
                local: &mut self.shard,
                remote,
            };
            let r = crate::contain::release_on_panic(&self.shared.tx_lock, || f(&mut access));
            // Group commit for the participants: their WAL frames are durable (as the policy
            // asks) before the coordinator's reply can leave. The coordinator's own frames
            // are flushed by its loop before any reply.
            let now = self.now_ms;
            let others: Vec<usize> = access.remote.iter().map(|(s, _)| *s).collect();
            for s in others {
                let failed = access.on(s, move |sh| {
                    sh.wal_unsettled() && !sh.wal_io_failed() && sh.wal_flush(now).is_err()
                });
                if failed == Some(true) {
                    // The reply must not acknowledge what that participant could not log.
                    access.local.wal_mark_broke();
                }
            }
            Some(r)
        };
        self.shared.tx_lock.store(false, Ordering::Release);
        result
    }

    /// Spin until the transaction lock is ours, serving other coordinators meanwhile.
    pub(crate) fn acquire_tx_lock(&mut self) {
        loop {
            if self
                .shared
                .tx_lock
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            for from in 0..self.inboxes.len() {
                while let Ok(msg) = self.inboxes[from].pop() {
                    match msg {
                        Msg::Exec { .. } | Msg::Freeze { .. } => self.on_msg(msg),
                        other => self.deferred.push_back(other),
                    }
                }
            }
            // Push what fits and move on: spinning here until a full ring drains could wait
            // on the lock holder, which may itself be waiting for this shard (deadlock).
            self.flush_encoded();
            self.flush_outboxes();
            std::thread::yield_now();
        }
    }

    /// Push every queued message to `targets` into their rings and wake them.
    pub(crate) fn push_out_all(&mut self, targets: &[usize]) {
        loop {
            let mut backlog = false;
            for &s in targets {
                if s == self.id {
                    continue;
                }
                backlog |= self.outboxes[s].flush();
                if self.outboxes[s].needs_wake {
                    self.outboxes[s].needs_wake = false;
                    self.shared.wakers[s].wake();
                }
            }
            if !backlog {
                return;
            }
            std::thread::yield_now();
        }
    }
}

fn group_pairs(
    pairs: Vec<(Bytes, Bytes)>,
    owner_of: &dyn Fn(&[u8]) -> usize,
) -> Vec<(usize, Vec<(Bytes, Bytes)>)> {
    let mut groups: Vec<(usize, Vec<(Bytes, Bytes)>)> = Vec::new();
    for (k, v) in pairs {
        let owner = owner_of(&k);
        match groups.iter_mut().find(|g| g.0 == owner) {
            Some(g) => g.1.push((k, v)),
            None => groups.push((owner, vec![(k, v)])),
        }
    }
    groups
}

const GONE: &str = "ERR a shard did not respond";

pub(crate) fn gone() -> Reply {
    Reply::Err(OpError::Other(GONE.into()))
}

/// Any op, run while `access` holds every shard it touches frozen (EXEC of a transaction):
/// routed to its owner(s) as `dispatch_op` would, but synchronously. `shards` is the number of
/// shards (keyless ops run on all of them, which must all be frozen).
pub(crate) fn execute_routed(
    access: &mut Access<'_>,
    owner_of: &dyn Fn(&[u8]) -> usize,
    shards: usize,
    ctx: ExecCtx,
    op: Op,
) -> Reply {
    use moon_engine::ir::KeyRouting;
    match op.routing() {
        KeyRouting::Single => {
            let owner = op.keys().first().map_or(access.local_id, |k| owner_of(k));
            access
                .on(owner, move |s| s.apply(&ctx, &op))
                .unwrap_or_else(gone)
        }
        KeyRouting::Split(kind) => {
            let total = op.keys().len();
            let mut replies = Vec::new();
            for (owner, sub, positions) in op.split_by_owner(owner_of) {
                match access.on(owner, move |s| s.apply(&ctx, &sub)) {
                    Some(reply) => replies.push((positions, reply)),
                    None => return gone(),
                }
            }
            merge_replies(kind, total, replies)
        }
        KeyRouting::Atomic => {
            let mut owners: Vec<usize> = op.keys().iter().map(|k| owner_of(k)).collect();
            owners.sort_unstable();
            owners.dedup();
            if let [owner] = owners.as_slice() {
                return access
                    .on(*owner, move |s| s.apply(&ctx, &op))
                    .unwrap_or_else(gone);
            }
            execute(access, owner_of, ctx, op)
        }
        KeyRouting::AllShards(kind) => {
            let mut replies = Vec::new();
            for s in 0..shards {
                let op = op.clone();
                match access.on(s, move |sh| sh.apply(&ctx, &op)) {
                    Some(reply) => replies.push((Vec::new(), reply)),
                    None => return gone(),
                }
            }
            merge_replies(kind, 0, replies)
        }
    }
}

/// The body of each atomic op, run while every participant is frozen.
pub(crate) fn execute(
    access: &mut Access<'_>,
    owner_of: &dyn Fn(&[u8]) -> usize,
    ctx: ExecCtx,
    op: Op,
) -> Reply {
    match op {
        Op::MSet { pairs } => {
            for (owner, pairs) in group_pairs(pairs, owner_of) {
                if access
                    .on(owner, move |s| s.apply(&ctx, &Op::MSet { pairs }))
                    .is_none()
                {
                    return gone();
                }
            }
            Reply::Ok
        }
        Op::MGet { keys } => {
            let total = keys.len();
            let mut replies = Vec::new();
            for (owner, sub, positions) in (Op::MGet { keys }).split_by_owner(owner_of) {
                match access.on(owner, move |s| s.apply(&ctx, &sub)) {
                    Some(reply) => replies.push((positions, reply)),
                    None => return gone(),
                }
            }
            merge_replies(MergeKind::ByPosition, total, replies)
        }
        Op::MSetNx { pairs } => {
            let groups = group_pairs(pairs, owner_of);
            for (owner, pairs) in &groups {
                let keys: Vec<Bytes> = pairs.iter().map(|(k, _)| k.clone()).collect();
                let any = access.on(*owner, move |s| {
                    keys.iter().any(|k| s.exists(ctx.db, k, ctx.now_ms))
                });
                match any {
                    None => return gone(),
                    Some(true) => return Reply::Int(0),
                    Some(false) => {}
                }
            }
            for (owner, pairs) in groups {
                if access
                    .on(owner, move |s| s.apply(&ctx, &Op::MSet { pairs }))
                    .is_none()
                {
                    return gone();
                }
            }
            Reply::Int(1)
        }
        Op::Rename { src, dst, nx } => rename(access, owner_of, ctx, src, dst, nx),
        Op::Copy {
            src,
            dst,
            dst_db,
            replace,
        } => {
            let (so, dof) = (owner_of(&src), owner_of(&dst));
            let db = dst_db.unwrap_or(ctx.db);
            let Some(entry) = access.on(so, move |s| s.clone_entry(ctx.db, &src, ctx.now_ms))
            else {
                return gone();
            };
            let Some(entry) = entry else {
                return Reply::Int(0);
            };
            let dst2 = dst.clone();
            if !replace {
                match access.on(dof, move |s| s.exists(db, &dst2, ctx.now_ms)) {
                    None => return gone(),
                    Some(true) => return Reply::Int(0),
                    Some(false) => {}
                }
            }
            let entry = entry.with_key(&dst);
            match access.on(dof, move |s| s.put_entry(db, entry, ctx.now_ms)) {
                Some(Ok(())) => {
                    // Recorded on the coordinator, so they are published in order right
                    // after this command.
                    access.local.notify(db, class::NEW, "new", &dst);
                    access.local.notify(db, class::GENERIC, "copy_to", &dst);
                    Reply::Int(1)
                }
                Some(Err(e)) => Reply::Err(e),
                None => gone(),
            }
        }
        Op::Lcs { key_a, key_b, mode } => {
            let max_alloc = access.local.config().proto_max_bulk_len;
            let (oa, ob) = (owner_of(&key_a), owner_of(&key_b));
            let a = access.on(oa, move |s| s.read_string(ctx.db, &key_a, ctx.now_ms));
            let b = access.on(ob, move |s| s.read_string(ctx.db, &key_b, ctx.now_ms));
            match (a, b) {
                (Some(Ok(a)), Some(Ok(b))) => moon_engine::cmd::lcs::lcs(
                    a.as_deref().unwrap_or_default(),
                    b.as_deref().unwrap_or_default(),
                    mode,
                    max_alloc,
                ),
                (Some(Err(e)), _) | (_, Some(Err(e))) => Reply::Err(e),
                _ => gone(),
            }
        }
        Op::Graph(moon_engine::ir::ops::GraphOp::Copy { src, dst }) => {
            crate::graph::copy(access, owner_of, ctx, src, dst)
        }
        op @ (Op::Lists(_)
        | Op::Hashes(_)
        | Op::Sets(_)
        | Op::ZSets(_)
        | Op::Streams(_)
        | Op::Bitmaps(_)
        | Op::Hll(_)
        | Op::Geo(_)
        | Op::Sort(_)) => gather_execute_scatter(access, owner_of, ctx, op),
        other => {
            // Keyless ops (FLUSHDB, FLUSHALL, SWAPDB): every participant applies it.
            let owners: Vec<usize> = std::iter::once(access.local_id)
                .chain(access.remote.iter().map(|(s, _)| *s))
                .collect();
            let mut first = None;
            for owner in owners {
                let op = other.clone();
                match access.on(owner, move |s| s.apply(&ctx, &op)) {
                    Some(r) if r.is_err() => return r,
                    // Every shard answers alike (OK, or FUNCTION LOAD's library name).
                    Some(r) => {
                        first.get_or_insert(r);
                    }
                    None => return gone(),
                }
            }
            first.unwrap_or(Reply::Ok)
        }
    }
}

/// Any multi-key family op (SINTERSTORE, LMOVE, ZUNIONSTORE, PFMERGE, BITOP ...) across owners:
/// copy every key it names from its owner into a scratch shard, run the op there, then write
/// each key that changed back to its owner (or delete it there). All participants are frozen
/// meanwhile, so the op is atomic; its keyspace events are recorded on the coordinator.
fn gather_execute_scatter(
    access: &mut Access<'_>,
    owner_of: &dyn Fn(&[u8]) -> usize,
    ctx: ExecCtx,
    op: Op,
) -> Reply {
    let mut keys: Vec<Bytes> = op.keys().into_iter().cloned().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut scratch = Shard::new(access.local_id, access.local.config().clone());
    let mut before = Vec::with_capacity(keys.len());
    for key in &keys {
        let k = key.clone();
        let Some(entry) = access.on(owner_of(key), move |s| {
            s.clone_entry(ctx.db, &k, ctx.now_ms)
        }) else {
            return gone();
        };
        if let Some(e) = &entry
            && let Err(e) = scratch.put_entry(ctx.db, e.clone(), ctx.now_ms)
        {
            return Reply::Err(e);
        }
        before.push(entry);
    }
    let reply = scratch.apply(&ctx, &op);
    if op.is_write() {
        for (key, old) in keys.iter().zip(before) {
            let new = scratch.clone_entry(ctx.db, key, ctx.now_ms);
            if new == old {
                continue;
            }
            let k = key.clone();
            let done = match new {
                Some(e) => access.on(owner_of(key), move |s| {
                    s.put_entry(ctx.db, e, ctx.now_ms).is_ok()
                }),
                None => access.on(owner_of(key), move |s| {
                    s.take_entry(ctx.db, &k, ctx.now_ms);
                    true
                }),
            };
            if done.is_none() {
                return gone();
            }
        }
    }
    access.local.push_events(scratch.take_events());
    reply
}

fn rename(
    access: &mut Access<'_>,
    owner_of: &dyn Fn(&[u8]) -> usize,
    ctx: ExecCtx,
    src: Bytes,
    dst: Bytes,
    nx: bool,
) -> Reply {
    let (so, dof) = (owner_of(&src), owner_of(&dst));
    let src2 = src.clone();
    match access.on(so, move |s| s.exists(ctx.db, &src2, ctx.now_ms)) {
        None => return gone(),
        Some(false) => return Reply::Err(OpError::NoSuchKey),
        Some(true) => {}
    }
    if nx {
        let dst2 = dst.clone();
        match access.on(dof, move |s| s.exists(ctx.db, &dst2, ctx.now_ms)) {
            None => return gone(),
            Some(true) => return Reply::Int(0),
            Some(false) => {}
        }
    }
    let src2 = src.clone();
    let Some(Some(entry)) = access.on(so, move |s| s.take_entry(ctx.db, &src2, ctx.now_ms)) else {
        return gone();
    };
    let entry = entry.with_key(&dst);
    let put = access.on(dof, move |s| s.put_entry(ctx.db, entry, ctx.now_ms));
    if let Some(Ok(())) = put {
        // Recorded on the coordinator, in Redis's order, published right after the command.
        access.local.notify(ctx.db, class::NEW, "new", &dst);
        access
            .local
            .notify(ctx.db, class::GENERIC, "rename_from", &src);
        access
            .local
            .notify(ctx.db, class::GENERIC, "rename_to", &dst);
    }
    match put {
        Some(Ok(())) if nx => Reply::Int(1),
        Some(Ok(())) => Reply::Ok,
        Some(Err(e)) => Reply::Err(e),
        None => gone(),
    }
}
