//! Transactions: MULTI/EXEC/DISCARD and WATCH/UNWATCH.
//!
//! MULTI queues commands on the connection. Unknown commands and arity errors are reported at
//! once and make EXEC answer EXECABORT; other argument errors are queued and returned inside
//! EXEC's array, as Redis does. EXEC runs the queue atomically and isolated:
//! - if every key of every queued op and every watched key lives on this shard, it simply runs
//!   the ops one after another on this thread (nothing else runs meanwhile);
//! - otherwise it freezes every shard involved (all of them if a queued op is keyless, such as
//!   FLUSHALL or DBSIZE) with the cross-shard freeze protocol of `atomic.rs`, checks the watch
//!   flag, then routes each op synchronously to its owner. No shard serves anything else until
//!   the last op ran, so no client observes a partial transaction.
//!
//! WATCH registers a shared flag on each key's owner shard (through the mailbox, so it is
//! ordered before the client's later commands). The owner raises the flag when a write op
//! changes the key's entry, when a cross-shard op replaces or removes it, or when FLUSHDB,
//! FLUSHALL or SWAPDB hits it; a key that was live with a TTL when watched and is due at EXEC
//! counts as modified. EXEC checks the flag while the owners are frozen, so a write that ran
//! before EXEC is always seen.
//!
//! Invariants: a connection in MULTI has `conn.multi = Some`; EXEC, DISCARD, RESET and closing
//! the connection always unwatch; connection commands queued in MULTI other than SELECT run
//! after the ops, outside the freeze (they do not touch the keyspace), and their replies take
//! their places in EXEC's array.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, KeyRouting, Op, OpError, Reply};
use moon_engine::shard::WatchFlag;
use moon_resp::commands::{Command, ConnCmd, parse, resolve};

use crate::atomic::execute_routed;
use crate::conn::{Conn, Finish};
use crate::mailbox::{Msg, ReplyTo};
use crate::worker::Worker;

/// One queued command of a transaction.
pub enum Queued {
    /// Parsed; runs at EXEC.
    Cmd(Command),
    /// Failed to parse with a runtime error; EXEC returns it in place.
    Err(OpError),
}

/// A connection's transaction state.
#[derive(Default)]
pub struct Multi {
    /// The queue.
    pub queued: Vec<Queued>,
    /// A queue-time error happened: EXEC answers EXECABORT.
    pub aborted: bool,
    /// Arguments of each queued command while the user is ACL-restricted, for the EXEC-time
    /// re-check (see `acl/`); empty for unrestricted users.
    pub acl_args: Vec<Vec<Bytes>>,
}

/// A connection's watched keys.
#[derive(Default)]
pub struct Watching {
    /// The flag the owners raise.
    pub flag: WatchFlag,
    /// `(db, key)` of every WATCH since the last unwatch.
    pub keys: Vec<(usize, Bytes)>,
}

fn err(text: &str) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

/// Connection commands EXEC can run: those that answer at once without touching the keyspace.
fn runs_in_exec(cmd: &ConnCmd) -> bool {
    matches!(
        cmd,
        ConnCmd::Ping(_)
            | ConnCmd::Echo(_)
            | ConnCmd::Select(_)
            | ConnCmd::ClientId
            | ConnCmd::ClientGetName
            | ConnCmd::ClientSetName(_)
            | ConnCmd::ClientInfo
            | ConnCmd::ClientNoEvict(_)
            | ConnCmd::ClientNoTouch(_)
            | ConnCmd::ClientSetInfo { .. }
            | ConnCmd::Time
            | ConnCmd::ConfigGet(_)
            | ConnCmd::ConfigSet(_)
            | ConnCmd::Lastsave
            | ConnCmd::Role
            | ConnCmd::Command(_)
            | ConnCmd::ObjectHelp
            | ConnCmd::ConfigHelp
            | ConnCmd::ClientHelp
            | ConnCmd::DebugHelp
            | ConnCmd::Unwatch
            | ConnCmd::Static(_)
            | ConnCmd::Script(_)
    )
}

/// A queued EVAL/EVALSHA/FCALL: runs inside the transaction's atomic phase.
fn queued_script(q: &Queued) -> Option<&moon_resp::commands::ScriptCmd> {
    match q {
        Queued::Cmd(Command::Conn(ConnCmd::Script(cmd))) if crate::script::runs_script(cmd) => {
            Some(cmd)
        }
        _ => None,
    }
}

impl Worker {
    /// While `conn` is in MULTI: handle `args` (queue it, or run EXEC/DISCARD/...). Returns
    /// true if the command was consumed here.
    pub(crate) fn multi_intercept(&mut self, conn: &mut Conn, args: &[Bytes]) -> bool {
        let Some(multi) = conn.multi.as_mut() else {
            return false;
        };
        let Some(name) = args.first() else {
            return true;
        };
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("exec") || is("discard") || is("quit") || is("reset") {
            return false;
        }
        if is("multi") {
            conn.reply(err("ERR MULTI calls can not be nested"));
            return true;
        }
        if is("watch") {
            multi.aborted = true;
            conn.reply(err("ERR WATCH inside MULTI is not allowed"));
            return true;
        }
        // Existence and arity errors abort the transaction (Redis flags them at queue time).
        match resolve(args) {
            Err(e) => {
                multi.aborted = true;
                conn.reply(Reply::Err(e));
                return true;
            }
            Ok(spec) if !spec.arity_ok(args.len()) => {
                multi.aborted = true;
                let e = parse(args).err().unwrap_or(OpError::Syntax);
                conn.reply(Reply::Err(e));
                return true;
            }
            Ok(_) => {}
        }
        let queued = match parse(args) {
            Ok(Command::Op(Op::Functions(_) | Op::Search(_))) => {
                multi.aborted = true;
                conn.reply(err("ERR Command not allowed inside a transaction"));
                return true;
            }
            Ok(Command::Conn(cmd)) if !runs_in_exec(&cmd) => {
                multi.aborted = true;
                conn.reply(err("ERR Command not allowed inside a transaction"));
                return true;
            }
            Ok(cmd) => Queued::Cmd(cmd),
            Err(e) => Queued::Err(e),
        };
        multi.queued.push(queued);
        if !conn.acl.open {
            multi.acl_args.push(args.to_vec());
        }
        conn.reply(Reply::simple("QUEUED"));
        true
    }

    /// MULTI.
    pub(crate) fn multi(&mut self, conn: &mut Conn) -> Reply {
        if conn.multi.is_some() {
            return err("ERR MULTI calls can not be nested");
        }
        conn.multi = Some(Multi::default());
        Reply::Ok
    }

    /// DISCARD.
    pub(crate) fn discard(&mut self, conn: &mut Conn) -> Reply {
        if conn.multi.take().is_none() {
            return err("ERR DISCARD without MULTI");
        }
        self.unwatch_all(conn);
        Reply::Ok
    }

    /// WATCH keys: registers on each owner, in order with the client's later commands.
    pub(crate) fn watch(&mut self, conn: &mut Conn, keys: Vec<Bytes>) {
        let db = conn.db;
        let flag = conn.watching.flag.clone();
        let mut remote = Vec::new();
        for key in keys {
            conn.watching.keys.push((db, key.clone()));
            let owner = self.shared.slots.shard_of(&key);
            if self.shared.shards() == 1 || owner == self.id {
                self.shard.watch(db, key, flag.clone(), self.now_ms);
            } else {
                remote.push((owner, key));
            }
        }
        if remote.is_empty() {
            conn.reply(Reply::Ok);
            return;
        }
        let seq = conn.defer(remote.len(), Finish::Custom(Box::new(|_| Reply::Ok)));
        for (part, (owner, key)) in remote.into_iter().enumerate() {
            let flag = flag.clone();
            let to = ReplyTo {
                shard: self.id,
                client: conn.id,
                seq,
                part,
            };
            self.outboxes[owner].send(Msg::Call {
                to,
                f: Box::new(move |w: &mut Worker| {
                    let now = w.now_ms;
                    w.shard.watch(db, key, flag, now);
                    Box::new(()) as Box<dyn std::any::Any + Send>
                }),
            });
        }
    }

    /// UNWATCH (also after EXEC/DISCARD/RESET and on close): forget every registration and
    /// start over with a fresh flag.
    pub(crate) fn unwatch_all(&mut self, conn: &mut Conn) {
        let old = std::mem::take(&mut conn.watching);
        for (db, key) in old.keys {
            let owner = self.shared.slots.shard_of(&key);
            if self.shared.shards() == 1 || owner == self.id {
                self.shard.interest().unwatch(db, &key, &old.flag);
            } else {
                let flag = old.flag.clone();
                self.post(
                    owner,
                    Box::new(move |w: &mut Worker| {
                        w.shard.interest().unwatch(db, &key, &flag);
                        Box::new(()) as Box<dyn std::any::Any + Send>
                    }),
                );
            }
        }
    }

    /// EXEC.
    pub(crate) fn exec(&mut self, conn: &mut Conn) {
        let Some(multi) = conn.multi.take() else {
            conn.reply(err("ERR EXEC without MULTI"));
            return;
        };
        if multi.aborted {
            self.unwatch_all(conn);
            conn.reply(err(
                "EXECABORT Transaction discarded because of previous errors.",
            ));
            return;
        }
        let multi = self.acl_recheck_exec(conn, multi);
        let shards = self.shared.shards();
        let mut owners: Vec<usize> = Vec::new();
        let mut all = false;
        let mut scripts = None;
        for q in &multi.queued {
            if queued_script(q).is_some() && scripts.is_none() {
                // A script may touch any key: the whole keyspace takes part.
                all = true;
                match self.tx_scripts_begin() {
                    Ok(mut tx) => {
                        tx.acl = self.acl_script_caller(conn);
                        scripts = Some(tx)
                    }
                    Err(e) => {
                        self.unwatch_all(conn);
                        conn.reply(e);
                        return;
                    }
                }
            }
            if let Queued::Cmd(Command::Op(op)) = q {
                if matches!(op.routing(), KeyRouting::AllShards(_)) {
                    all = true;
                }
                owners.extend(op.keys().iter().map(|k| self.shared.slots.shard_of(k)));
            }
        }
        owners.extend(
            conn.watching
                .keys
                .iter()
                .map(|(_, k)| self.shared.slots.shard_of(k)),
        );
        if all {
            owners = (0..shards).collect();
        }
        owners.sort_unstable();
        owners.dedup();
        let local_only = shards == 1 || owners.iter().all(|&o| o == self.id);

        let flag = conn.watching.flag.clone();
        let watched = conn.watching.keys.clone();
        let now = self.now_ms;
        let no_touch = conn.no_touch;
        let mut db = conn.db;
        let queued = multi.queued;
        // Phase 1: the keyspace part, atomically. `None` = runs in phase 2.
        // `watched_expired`: a watched key expired since WATCH (checked by the caller on the
        // owners, under the same freeze).
        let scripts_ref = &mut scripts;
        let mut run = |apply: &mut dyn FnMut(ExecCtx, Op) -> Reply,
                       watched_expired: bool,
                       db: &mut usize|
         -> Option<Vec<Option<Reply>>> {
            if watched_expired || flag.load(Ordering::Acquire) {
                return None;
            }
            let mut out = Vec::with_capacity(queued.len());
            for q in &queued {
                if let (Some(cmd), Some(tx)) = (queued_script(q), scripts_ref.as_mut()) {
                    out.push(Some(tx.run(cmd, *db, now, no_touch, apply)));
                    continue;
                }
                out.push(match q {
                    Queued::Err(e) => Some(Reply::Err(e.clone())),
                    Queued::Cmd(Command::Op(op)) => {
                        let ctx = ExecCtx {
                            db: *db,
                            now_ms: now,
                            no_touch,
                        };
                        Some(apply(ctx, op.clone()))
                    }
                    Queued::Cmd(Command::Conn(ConnCmd::Select(n))) => {
                        if *n < moon_engine::DATABASES {
                            *db = *n;
                            Some(Reply::Ok)
                        } else {
                            Some(err("ERR DB index is out of range"))
                        }
                    }
                    Queued::Cmd(Command::Conn(_)) => None,
                });
            }
            Some(out)
        };
        let phase1 = if local_only {
            let shard = &mut self.shard;
            let expired = watched
                .iter()
                .any(|(d, k)| shard.interest().watched_key_expired(*d, k, &flag, now));
            // One WAL batch: a crash never leaves half a transaction to replay.
            shard.wal_begin_batch(now);
            let mut apply = |ctx: ExecCtx, op: Op| shard.apply(&ctx, &op);
            let r = run(&mut apply, expired, &mut db);
            shard.wal_end_batch();
            r
        } else {
            let shared = self.shared.clone();
            let owner_of = move |k: &[u8]| shared.slots.shard_of(k);
            let flag2 = flag.clone();
            let outcome = self.run_frozen(&owners, |access| {
                let expired = watched.iter().any(|(d, k)| {
                    let (d, k2, f) = (*d, k.clone(), flag2.clone());
                    access
                        .on(owner_of(k), move |s| {
                            s.interest().watched_key_expired(d, &k2, &f, now)
                        })
                        .unwrap_or(true)
                });
                // One WAL batch per participant (each shard's part replays all or nothing).
                for &o in &owners {
                    access.on(o, move |s| s.wal_begin_batch(now));
                }
                let mut apply =
                    |ctx: ExecCtx, op: Op| execute_routed(access, &owner_of, shards, ctx, op);
                let r = run(&mut apply, expired, &mut db);
                for &o in &owners {
                    access.on(o, |s| s.wal_end_batch());
                }
                r
            });
            match outcome {
                Some(r) => r,
                None => {
                    self.unwatch_all(conn);
                    conn.reply(err("ERR a shard did not respond"));
                    return;
                }
            }
        };
        if let Some(tx) = scripts {
            self.tx_scripts_end(tx);
        }
        self.unwatch_all(conn);
        let Some(replies) = phase1 else {
            conn.reply(Reply::NilArray);
            return;
        };
        // Phase 2: connection commands, captured so their replies land in the array. SELECT
        // already ran in phase 1; `db` is the database the transaction ended in.
        conn.db = db;
        let mut out = Vec::with_capacity(replies.len());
        for (reply, q) in replies.into_iter().zip(queued) {
            match (reply, q) {
                (Some(r), _) => out.push(r),
                (None, Queued::Cmd(Command::Conn(cmd))) => {
                    conn.capture = Some(Vec::new());
                    self.conn_cmd(conn, cmd);
                    let captured = conn.capture.take().unwrap_or_default();
                    out.push(captured.into_iter().next().unwrap_or(Reply::Nil));
                }
                (None, _) => out.push(Reply::Nil),
            }
        }
        conn.reply(Reply::Array(out));
    }
}
