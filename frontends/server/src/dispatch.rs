//! From parsed arguments to replies: authentication gate, parsing/lowering through moon-resp,
//! and routing of ops — local execution, forwarding to the owning shard, fan-out of split and
//! keyless ops with ordered merging, and the atomic cross-shard path.

use std::time::Instant;

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, KeyRouting, Op, OpError, Reply};
use moon_resp::commands::{Command, parse};

use crate::conn::{Conn, Finish, Part};
use crate::mailbox::{Msg, ReplyTo};
use crate::worker::Worker;

/// Commands an unauthenticated connection may run.
fn allowed_before_auth(name: &[u8]) -> bool {
    [&b"auth"[..], b"hello", b"quit", b"reset"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

impl Worker {
    /// Run one command from `conn`; a panic is contained (see `contain.rs`).
    pub(crate) fn execute(&mut self, conn: &mut Conn, args: Vec<Bytes>) {
        crate::contain::execute(self, conn, args)
    }

    /// Run one command from `conn` (the body of [`Worker::execute`]).
    pub(crate) fn execute_uncontained(&mut self, conn: &mut Conn, args: Vec<Bytes>) {
        let started = Instant::now();
        conn.last_active = started;
        let Some(name) = args.first() else { return };
        if !conn.authed && !allowed_before_auth(name) {
            self.stats.error_replies += 1;
            conn.reply(Reply::Err(OpError::Other(
                "NOAUTH Authentication required.".into(),
            )));
            return;
        }
        if !conn.acl.is_open(self.shared.acl.generation()) && self.acl_refuse(conn, &args) {
            return;
        }
        if let Some(refusal) = crate::pubsub::rejects(conn, &args) {
            self.stats.error_replies += 1;
            conn.reply(refusal);
            return;
        }
        if conn.monitor
            && let Some(refusal) = crate::monitor::monitor_rejects(&args)
        {
            self.stats.error_replies += 1;
            conn.reply(refusal);
            return;
        }
        if self.refuse_busy(conn, &args) {
            return;
        }
        if self.shared.pause.is_set() && crate::pause::must_hold(&self.shared, conn, &args) {
            return crate::pause::hold(self, conn, args);
        }
        let mut lname = [0u8; 32];
        let lname = lowercase_name(name, &mut lname);
        if conn.multi.is_some() && self.multi_intercept(conn, &args) {
            return;
        }
        // Errors raised while executing an op, already counted in `error_replies`.
        let mut exec_failed = false;
        let (failed, known) = match parse(&args) {
            Err(e) => {
                let arity =
                    matches!(&e, OpError::Other(t) if t.contains("wrong number of arguments"));
                conn.reply(Reply::Err(e));
                self.count_refused(&args, lname, arity);
                (true, false)
            }
            Ok(Command::Op(op)) if self.refuse_oom(&args) => {
                drop(op);
                conn.reply(Reply::Err(OpError::Other(
                    "OOM command not allowed when used memory > 'maxmemory'.".into(),
                )));
                self.count_refused(&args, lname, true);
                (true, false)
            }
            Ok(Command::Op(op @ Op::Functions(_))) => {
                let before = self.stats.error_replies;
                self.function_op(conn, op);
                // Counted by `function_op`; only the command's own stats are left.
                let failed = self.stats.error_replies != before;
                self.stats.error_replies = before;
                (failed, true)
            }
            Ok(Command::Op(op @ Op::Search(_))) => (self.search_op(conn, op), true),
            Ok(Command::Op(op)) => {
                let (errors, seq) = (conn.errors, conn.next_seq);
                self.dispatch_op(conn, op);
                exec_failed = conn.errors != errors;
                if !exec_failed && conn.next_seq > seq {
                    // Answered later (forwarded): counted when the reply is complete.
                    conn.tag_deferred(seq, crate::conn::CmdTag::new(lname));
                }
                (false, true)
            }
            Ok(Command::Conn(cmd)) => {
                let failed = self.conn_cmd(conn, cmd);
                (failed, true)
            }
        };
        // Keyspace notifications of this command, after its reply (as Redis 7.2 orders a
        // client's own notifications).
        self.publish_events(Some(&mut *conn));
        if failed {
            self.stats.error_replies += 1;
        }
        if known {
            self.stats.commands += 1;
            let usec = started.elapsed().as_micros() as u64;
            let stat = match self.stats.cmdstats.get_mut(lname) {
                Some(s) => s,
                None => self.stats.cmdstats.entry(lname.to_string()).or_default(),
            };
            stat.calls += 1;
            stat.usec += usec;
            stat.hist.record(usec);
            if failed || exec_failed {
                stat.failed += 1;
            }
            if conn.last_cmd != lname {
                // Reuse the allocation: mixed pipelines change the name on every command.
                conn.last_cmd.clear();
                conn.last_cmd.push_str(lname);
            }
            // SLOWLOG, LATENCY monitor, MONITOR feed (a few compares when all are idle).
            self.observe(conn, &args, usec);
        }
    }

    /// INFO commandstats for a known command that failed before running: `rejected_calls` when
    /// it was refused as a whole (arity, OOM), else a call that failed (bad arguments are
    /// found by Redis's command procs while they run).
    #[cold]
    fn count_refused(&mut self, args: &[Bytes], lname: &str, rejected: bool) {
        if moon_resp::commands::resolve(args).is_err() {
            return;
        }
        let stat = self.stats.cmdstats.entry(lname.to_string()).or_default();
        if rejected {
            stat.rejected += 1;
        } else {
            stat.calls += 1;
            stat.failed += 1;
        }
    }

    /// Counts, as failed calls, deferred replies of `conn` that finished as errors.
    pub(crate) fn count_late_failures(&mut self, conn: &mut Conn) {
        for tag in conn.late_failed.drain(..) {
            if let Some(stat) = self.stats.cmdstats.get_mut(tag.as_str()) {
                stat.failed += 1;
            }
        }
    }

    /// True if `args` is a DENYOOM command and a shard is over its memory share without
    /// being able to evict (noeviction, or no candidate for a volatile policy).
    fn refuse_oom(&self, args: &[Bytes]) -> bool {
        self.shard.config().maxmemory > 0
            && self.shared.out_of_memory()
            && moon_resp::commands::resolve(args)
                .is_ok_and(|spec| spec.flags & moon_resp::commands::table::DENYOOM != 0)
    }

    /// Route an op to its owner(s).
    pub(crate) fn dispatch_op(&mut self, conn: &mut Conn, op: Op) {
        let ctx = ExecCtx {
            db: conn.db,
            now_ms: self.now_ms,
            no_touch: conn.no_touch,
        };
        let shards = self.shared.shards();
        if let Some(b) = op.blocking() {
            return self.dispatch_blocking(conn, ctx, op, b);
        }
        if shards == 1 {
            let reply = self.shard.apply(&ctx, &op);
            return self.reply_counted(conn, reply);
        }
        match op.routing() {
            KeyRouting::Single => {
                let owner = op
                    .first_key()
                    .map(|k| self.shared.slots.shard_of(k))
                    .unwrap_or(self.id);
                self.run_on(conn, owner, ctx, op);
            }
            KeyRouting::Split(kind) => {
                let total = op.keys().len();
                let slots = &self.shared.slots;
                let parts = op.split_by_owner(&|k| slots.shard_of(k));
                if let [(owner, _, _)] = parts.as_slice() {
                    let owner = *owner;
                    let (_, sub, _) = parts.into_iter().next().expect("one part");
                    return self.run_on(conn, owner, ctx, sub);
                }
                let positions = parts.iter().map(|(_, _, p)| p.clone()).collect();
                let seq = conn.defer(
                    parts.len(),
                    Finish::Merge {
                        kind,
                        total,
                        positions,
                    },
                );
                for (i, (owner, sub, _)) in parts.into_iter().enumerate() {
                    self.send_part(conn, seq, i, owner, ctx, sub);
                }
            }
            KeyRouting::Atomic => {
                if conn.atomic_wait && crate::atomic_batch::batched(&op) {
                    // Behind a queued one: in order, whatever its keys.
                    return self.queue_atomic(conn, ctx, op);
                }
                let mut owners: Vec<usize> = op
                    .keys()
                    .iter()
                    .map(|k| self.shared.slots.shard_of(k))
                    .collect();
                owners.sort_unstable();
                owners.dedup();
                if let [owner] = owners.as_slice() {
                    return self.run_on(conn, *owner, ctx, op);
                }
                if crate::atomic_batch::batched(&op) {
                    return self.queue_atomic(conn, ctx, op);
                }
                let reply = self.run_atomic(ctx, op, owners);
                self.reply_counted(conn, reply);
            }
            KeyRouting::AllShards(kind) => {
                if matches!(op, Op::FlushDb | Op::FlushAll | Op::SwapDb { .. }) {
                    let all = (0..shards).collect();
                    let reply = self.run_atomic(ctx, op, all);
                    return self.reply_counted(conn, reply);
                }
                let positions = vec![Vec::new(); shards];
                let seq = conn.defer(
                    shards,
                    Finish::Merge {
                        kind,
                        total: 0,
                        positions,
                    },
                );
                // Start with a different shard each time so RANDOMKEY is not biased.
                let start = (self.now_ms as usize) % shards;
                for i in 0..shards {
                    let owner = (start + i) % shards;
                    self.send_part(conn, seq, i, owner, ctx, op.clone());
                }
            }
        }
    }

    /// A blocking op: answered at once when its keys are here and it finds data, otherwise
    /// parked (see `blocking.rs`).
    fn dispatch_blocking(
        &mut self,
        conn: &mut Conn,
        ctx: ExecCtx,
        op: Op,
        b: moon_engine::ir::ops::Blocking,
    ) {
        let mut owners: Vec<usize> = if self.shared.shards() == 1 {
            vec![self.id]
        } else {
            op.keys()
                .iter()
                .map(|k| self.shared.slots.shard_of(k))
                .collect()
        };
        owners.sort_unstable();
        owners.dedup();
        // First attempt, synchronously (keys on several shards: under the freeze protocol).
        let (reply, op) = if owners == [self.id] {
            (self.shard.apply(&ctx, &op), op)
        } else if let [owner] = owners[..] {
            // One other shard owns every key: try the op and, if it finds nothing, pin
            // XREAD's `$` in the same frozen section. Pinning later (when the waiter reaches
            // the owner) would treat an entry added in between as old, and miss it.
            let tried = self.run_frozen(&[owner], move |access| {
                access.on(owner, move |s| {
                    let reply = s.apply(&ctx, &op);
                    let mut op = op;
                    if matches!(reply, Reply::Nil | Reply::NilArray) {
                        s.prepare_block(&ctx, &mut op);
                    }
                    (reply, op)
                })
            });
            match tried.flatten() {
                Some(done) => done,
                None => return self.reply_counted(conn, crate::atomic::gone()),
            }
        } else {
            (self.run_atomic(ctx, op.clone(), owners.clone()), op)
        };
        if !matches!(reply, Reply::Nil | Reply::NilArray) {
            return self.reply_counted(conn, reply);
        }
        let null = if b.nil_bulk {
            Reply::Nil
        } else {
            Reply::NilArray
        };
        self.park(conn, ctx, op, owners, b.timeout_ms, null);
    }

    fn run_on(&mut self, conn: &mut Conn, owner: usize, ctx: ExecCtx, op: Op) {
        self.note_owner(conn, owner);
        if owner == self.id {
            let reply = self.shard.apply(&ctx, &op);
            self.reply_counted(conn, reply);
        } else {
            let seq = conn.defer(1, Finish::Passthrough);
            let to = ReplyTo {
                shard: self.id,
                client: conn.id,
                seq,
                part: 0,
            };
            let proto = Some(conn.proto);
            self.outboxes[owner].send(Msg::Exec { to, ctx, op, proto });
        }
    }

    /// Run `op` here if this shard is `owner` and return its reply; otherwise forward it to
    /// `owner`, whose reply comes back for part `part` of reply slot `seq`.
    pub(crate) fn apply_or_forward(
        &mut self,
        to: ReplyTo,
        owner: usize,
        ctx: ExecCtx,
        op: Op,
    ) -> Option<Reply> {
        if owner == self.id {
            return Some(self.shard.apply(&ctx, &op));
        }
        let proto = None;
        self.outboxes[owner].send(Msg::Exec { to, ctx, op, proto });
        None
    }

    fn send_part(
        &mut self,
        conn: &mut Conn,
        seq: u64,
        part: usize,
        owner: usize,
        ctx: ExecCtx,
        op: Op,
    ) {
        let to = ReplyTo {
            shard: self.id,
            client: conn.id,
            seq,
            part,
        };
        if let Some(reply) = self.apply_or_forward(to, owner, ctx, op) {
            conn.complete(seq, part, Part::Reply(reply));
        }
    }

    fn reply_counted(&mut self, conn: &mut Conn, reply: Reply) {
        if reply.is_err() {
            self.stats.error_replies += 1;
        }
        conn.reply(reply);
    }
}

fn lowercase_name<'a>(name: &[u8], buf: &'a mut [u8; 32]) -> &'a str {
    let n = name.len().min(buf.len());
    for (dst, src) in buf.iter_mut().zip(&name[..n]) {
        *dst = src.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..n]).unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use moon_resp::commands::{Command, parse};

    /// Routing uses `first_key`; it must name the same key as the full list.
    #[test]
    fn first_key_is_the_first_of_keys() {
        let lines = [
            "GET k",
            "SET k v",
            "INCR k",
            "EXPIRE k 10",
            "LPUSH k a b",
            "RPOP k",
            "LRANGE k 0 -1",
            "HSET k f v",
            "HGET k f",
            "SADD k m",
            "SPOP k",
            "SISMEMBER k m",
            "ZADD k 1 m",
            "ZRANGE k 0 9 WITHSCORES",
            "ZSCORE k m",
            "XADD k * f v",
            "XLEN k",
            "MSET a 1 b 2",
            "MGET a b",
            "DEL a b",
            "RENAME a b",
            "LMOVE a b LEFT RIGHT",
            "SMOVE a b m",
            "SINTERSTORE d a b",
            "ZUNIONSTORE d 2 a b",
            "BLPOP a b 0",
            "PFADD h a",
            "SETBIT b 1 1",
            "GEOADD g 1 2 m",
            "KEYS *",
            "DBSIZE",
        ];
        for line in lines {
            let args: Vec<Bytes> = line
                .split(' ')
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect();
            let Ok(Command::Op(op)) = parse(&args) else {
                panic!("{line}: not an op");
            };
            assert_eq!(op.first_key(), op.keys().first().copied(), "{line}");
        }
    }
}
