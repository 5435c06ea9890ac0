//! Server-side scripting: EVAL/EVALSHA/SCRIPT and FUNCTION/FCALL on an embedded Lua 5.1.
//!
//! Where a script runs (SPEC §1.8):
//! - its declared KEYS all live on one shard: on that shard, as one uninterrupted piece of that
//!   shard's thread (forwarded there like a single-key command when it is not the
//!   connection's). A key it touches that lives on another shard is refused with an error.
//! - no declared keys, or keys on several shards: on the connection's shard with every shard
//!   frozen (the cross-shard freeze protocol of `atomic.rs`), so any key can be touched.
//!
//! Either way no other command interleaves with the script: it is atomic and isolated. Its
//! writes go to each shard's WAL as one batch (all or nothing on replay).
//!
//! The script cache (SCRIPT LOAD, EVAL) is process-wide (`Shared::scripts`); each shard's VM
//! compiles what it runs. The function libraries are dataset state kept by every shard
//! (`Op::Functions`, logged and snapshotted); each VM compiles its shard's copy.

mod busy;
pub(crate) mod call;
mod convert;
pub(crate) mod libs;
mod raw_call;
mod vm;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use hashbrown::HashMap;
use moon_engine::ir::ops::functions::FunctionOp;
use moon_engine::ir::{ExecCtx, Op, OpError, Reply};
use moon_engine::shard::Shard;
use moon_resp::commands::ScriptCmd;

pub(crate) use busy::BusyBoard;
use busy::NullDriver;
use busy::{BusyIo, serve_busy};
use call::{CallState, Host};
use vm::RunClock;
pub(crate) use vm::ScriptVm;

use crate::conn::{Conn, Finish, Part};
use crate::mailbox::{Msg, ReplyTo};
use crate::shared::Shared;
use crate::worker::Worker;

/// The process-wide script cache: SHA1 → body, and a generation bumped by SCRIPT FLUSH.
#[derive(Default)]
pub(crate) struct ScriptCache {
    map: RwLock<HashMap<[u8; 40], Bytes>>,
    generation: AtomicU64,
}

impl ScriptCache {
    fn get(&self, sha: &[u8; 40]) -> Option<Bytes> {
        self.map.read().ok()?.get(sha).cloned()
    }

    fn insert(&self, sha: [u8; 40], body: Bytes) {
        if let Ok(mut m) = self.map.write() {
            m.entry(sha).or_insert(body);
        }
    }

    fn contains(&self, sha: &[u8; 40]) -> bool {
        self.map.read().is_ok_and(|m| m.contains_key(sha))
    }

    fn flush(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn err(text: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

/// What to run, and how: everything a shard needs to run a script (sent to the owner shard
/// when the keys live there).
struct Job {
    what: What,
    keys: Vec<Bytes>,
    args: Vec<Bytes>,
    /// EVAL_RO / FCALL_RO.
    ro: bool,
    db: usize,
    now_ms: u64,
    no_touch: bool,
    /// The client's command, for FUNCTION STATS.
    command: Vec<Bytes>,
    /// The caller's restricted ACL user (None: everything allowed).
    acl: Option<crate::acl::ScriptCaller>,
}

enum What {
    /// An EVAL script: its SHA and body (None for EVALSHA: the running shard's VM has it
    /// compiled, or it is taken from the script cache there).
    Script([u8; 40], Option<Bytes>),
    /// A function by name.
    Function(Bytes),
}

/// Executes ops on the shard the script runs on; keys elsewhere are refused.
struct LocalHost<'a> {
    shard: &'a mut Shard,
    id: usize,
    shared: &'a Shared,
}

impl Host for LocalHost<'_> {
    fn exec(&mut self, ctx: ExecCtx, op: Op) -> Reply {
        if self.shared.shards() > 1 {
            if call::op_needs_all(&op) {
                return err(
                    "ERR This command needs every shard; run the script with no declared keys to use it",
                );
            }
            if op
                .keys()
                .iter()
                .any(|k| self.shared.slots.shard_of(k) != self.id)
            {
                return call::undeclared_key_error();
            }
        }
        self.shard.apply(&ctx, &op)
    }
}

/// Executes ops wherever their keys live, every shard being frozen.
struct FrozenHost<'a, 'b> {
    access: &'a mut crate::atomic::Access<'b>,
    owner_of: &'a dyn Fn(&[u8]) -> usize,
    shards: usize,
}

impl Host for FrozenHost<'_, '_> {
    fn exec(&mut self, ctx: ExecCtx, op: Op) -> Reply {
        crate::atomic::execute_routed(self.access, self.owner_of, self.shards, ctx, op)
    }
}

/// Parses a 40-hex SHA (any case) into lowercase.
fn parse_sha(sha: &[u8]) -> Option<[u8; 40]> {
    let mut out: [u8; 40] = sha.try_into().ok()?;
    // Checked and lowercased over the whole array (vectorised), not byte by byte.
    if !out.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    out.make_ascii_lowercase();
    Some(out)
}

/// The flags of an EVAL script's `#!lua flags=...` line: `Ok(no_writes)`.
fn eval_shebang(body: &[u8]) -> Result<bool, Reply> {
    let (Some(line), _) = vm::split_shebang(body) else {
        return Ok(false);
    };
    let line = String::from_utf8_lossy(&line[2..]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(err(format!(
            "ERR Unexpected engine in script shebang: {engine}"
        )));
    }
    let mut no_writes = false;
    for part in parts {
        let Some(flags) = part.strip_prefix("flags=") else {
            return Err(err(format!("ERR Unknown lua shebang option: {part}")));
        };
        for flag in flags.split(',').filter(|f| !f.is_empty()) {
            match flag {
                "no-writes" => no_writes = true,
                "allow-oom" | "allow-stale" | "no-cluster" | "allow-cross-slot-keys" => {}
                other => {
                    return Err(err(format!(
                        "ERR Unexpected flag in script shebang: {other}"
                    )));
                }
            }
        }
    }
    Ok(no_writes)
}

impl Worker {
    /// This shard's VM, created on first use.
    fn take_vm(&mut self) -> Result<Box<ScriptVm>, Reply> {
        match self.script_vm.take() {
            Some(vm) => Ok(vm),
            None => ScriptVm::new(crate::info::REDIS_COMPAT_VERSION)
                .map(Box::new)
                .map_err(|e| err(format!("ERR could not start the Lua VM: {e}"))),
        }
    }

    /// True if this shard's VM has `sha` compiled for the current cache generation (then the
    /// process-wide cache has it too).
    fn vm_has_script(&mut self, sha: &[u8; 40]) -> bool {
        let generation = self.shared.scripts.generation();
        match self.script_vm.as_mut() {
            Some(vm) => {
                vm.sync_scripts(generation);
                vm.script(sha).is_some()
            }
            None => false,
        }
    }

    /// Run a scripting command; returns true if it failed (for the error counters).
    pub(crate) fn script_cmd(&mut self, conn: &mut Conn, cmd: ScriptCmd) -> bool {
        let now = self.now_ms;
        let acl = self.acl_script_caller(conn);
        let job = |what, keys, args, ro, command| Job {
            what,
            keys,
            args,
            ro,
            db: conn.db,
            now_ms: now,
            no_touch: conn.no_touch,
            command,
            acl: acl.clone(),
        };
        let reply = match cmd {
            ScriptCmd::Eval {
                script,
                keys,
                args,
                ro,
            } => {
                let sha = vm::sha1_hex(&script);
                let cmd = vec![Bytes::from_static(if ro { b"eval_ro" } else { b"eval" })];
                return self.start_script(
                    conn,
                    job(What::Script(sha, Some(script)), keys, args, ro, cmd),
                );
            }
            ScriptCmd::EvalSha {
                sha,
                keys,
                args,
                ro,
            } => match parse_sha(&sha) {
                Some(sha) => {
                    let cmd = vec![Bytes::from_static(if ro {
                        b"evalsha_ro"
                    } else {
                        b"evalsha"
                    })];
                    return self
                        .start_script(conn, job(What::Script(sha, None), keys, args, ro, cmd));
                }
                None => err(NOSCRIPT),
            },
            ScriptCmd::Fcall {
                function,
                keys,
                args,
                ro,
            } => {
                let cmd = vec![
                    Bytes::from_static(if ro { b"fcall_ro" } else { b"fcall" }),
                    function.clone(),
                ];
                return self.start_script(conn, job(What::Function(function), keys, args, ro, cmd));
            }
            ScriptCmd::ScriptLoad(body) => self.script_load(body),
            ScriptCmd::ScriptExists(shas) => Reply::Array(
                shas.iter()
                    .map(|s| {
                        let found = parse_sha(s).is_some_and(|s| self.shared.scripts.contains(&s));
                        Reply::Int(i64::from(found))
                    })
                    .collect(),
            ),
            ScriptCmd::ScriptFlush => {
                self.shared.scripts.flush();
                Reply::Ok
            }
            ScriptCmd::ScriptKill => self.shared.script_busy.kill(false),
            ScriptCmd::FunctionKill => self.shared.script_busy.kill(true),
            ScriptCmd::FunctionList { pattern, withcode } => self.function_list(pattern, withcode),
            ScriptCmd::FunctionStats => self.function_stats(),
        };
        let failed = reply.is_err();
        conn.reply(reply);
        failed
    }

    fn script_load(&mut self, body: Bytes) -> Reply {
        let sha = vm::sha1_hex(&body);
        if let Err(e) = eval_shebang(&body) {
            return e;
        }
        let mut vm = match self.take_vm() {
            Ok(vm) => vm,
            Err(e) => return e,
        };
        vm.sync_scripts(self.shared.scripts.generation());
        let compiled = match vm.script(&sha) {
            Some(_) => Ok(()),
            None => vm.compile_script(sha, &body).map(|_| ()),
        };
        self.script_vm = Some(vm);
        match compiled {
            Ok(()) => {
                self.shared.scripts.insert(sha, body);
                Reply::Bulk(Bytes::copy_from_slice(&sha))
            }
            Err(text) => err(text),
        }
    }

    /// Route a script by its declared keys (see the module doc) and answer it.
    fn start_script(&mut self, conn: &mut Conn, job: Job) -> bool {
        if let What::Script(sha, Some(body)) = &job.what
            && !self.vm_has_script(sha)
            && !self.shared.scripts.contains(sha)
        {
            self.shared.scripts.insert(*sha, body.clone());
        }
        let shards = self.shared.shards();
        let mut owners: Vec<usize> = job
            .keys
            .iter()
            .map(|k| self.shared.slots.shard_of(k))
            .collect();
        owners.sort_unstable();
        owners.dedup();
        let reply = if shards == 1 || owners == [self.id] {
            self.run_script_local(job)
        } else if let [owner] = owners.as_slice() {
            let owner = *owner;
            let seq = conn.defer(
                1,
                Finish::Custom(Box::new(|mut parts| match parts.pop() {
                    Some(Part::Any(v)) => match v.downcast::<Reply>() {
                        Ok(r) => *r,
                        Err(_) => err("ERR a shard did not respond"),
                    },
                    Some(Part::Reply(r)) => r,
                    None => err("ERR a shard did not respond"),
                })),
            );
            let to = ReplyTo {
                shard: self.id,
                client: conn.id,
                seq,
                part: 0,
            };
            self.outboxes[owner].send(Msg::Call {
                to,
                f: Box::new(move |w: &mut Worker| {
                    Box::new(w.run_script_local(job)) as Box<dyn std::any::Any + Send>
                }),
            });
            return false;
        } else {
            self.run_script_frozen(job)
        };
        let failed = reply.is_err();
        conn.reply(reply);
        failed
    }

    /// Runs `job` on this shard, whose keyspace holds every declared key.
    fn run_script_local(&mut self, job: Job) -> Reply {
        self.run_script(job, false)
    }

    /// Runs `job` here with every shard frozen.
    fn run_script_frozen(&mut self, job: Job) -> Reply {
        self.run_script(job, true)
    }

    /// Prepares `job`, arms the busy clock with this shard's I/O lent to it, runs the script
    /// (locally, or with every shard frozen) and gives everything back.
    fn run_script(&mut self, mut job: Job, frozen: bool) -> Reply {
        let mut vm = match self.take_vm() {
            Ok(vm) => vm,
            Err(e) => return e,
        };
        let reply = match self.prepare(&mut vm, &job) {
            Err(e) => e,
            Ok(prepared) => {
                let io = self.lend_io();
                self.arm_clock(&vm, &io, &mut job, &prepared.2, prepared.3);
                let reply = if frozen {
                    self.execute_frozen(&vm, &prepared, &job)
                } else {
                    self.execute_local(&vm, &prepared, &job)
                };
                self.disarm_clock(&vm, io);
                reply
            }
        };
        self.script_vm = Some(vm);
        reply
    }

    fn execute_local(&mut self, vm: &ScriptVm, prepared: &Prepared, job: &Job) -> Reply {
        let shared = self.shared.clone();
        self.shard.wal_begin_batch(job.now_ms);
        let mut host = LocalHost {
            shard: &mut self.shard,
            id: self.id,
            shared: &shared,
        };
        let reply = execute(vm, prepared, job, &mut host, &shared, self.id);
        self.shard.wal_end_batch();
        reply
    }

    fn execute_frozen(&mut self, vm: &ScriptVm, prepared: &Prepared, job: &Job) -> Reply {
        let shards = self.shared.shards();
        let all: Vec<usize> = (0..shards).collect();
        let shared = self.shared.clone();
        let owner_of = |k: &[u8]| shared.slots.shard_of(k);
        let (id, now) = (self.id, job.now_ms);
        let outcome = self.run_frozen(&all, |access| {
            for &o in &all {
                access.on(o, move |s| s.wal_begin_batch(now));
            }
            let mut host = FrozenHost {
                access,
                owner_of: &owner_of,
                shards,
            };
            let r = execute(vm, prepared, job, &mut host, &shared, id);
            for &o in &all {
                host.access.on(o, |s| s.wal_end_batch());
            }
            r
        });
        outcome.unwrap_or_else(|| err("ERR a shard did not respond"))
    }

    fn prepare(&mut self, vm: &mut ScriptVm, job: &Job) -> Result<Prepared, Reply> {
        if matches!(job.what, What::Function(_)) {
            vm.sync_functions(self.shard.functions());
        }
        prepare(vm, &self.shared, job)
    }

    /// Moves this worker's driver and connections out for the busy hook.
    fn lend_io(&mut self) -> Rc<RefCell<Option<BusyIo>>> {
        self.wal_tag_dirty();
        let driver = std::mem::replace(&mut self.driver, Box::new(NullDriver));
        let conns = std::mem::take(&mut self.conns);
        let mut io = BusyIo::new(driver, conns, self.shared.clone(), self.limits);
        io.backlog = std::mem::take(&mut self.pending_events);
        io.dirty = std::mem::take(&mut self.dirty);
        Rc::new(RefCell::new(Some(io)))
    }

    /// Starts the script clock: the hook marks the script busy past the threshold, then
    /// serves this shard's clients and reports a kill.
    fn arm_clock(
        &mut self,
        vm: &ScriptVm,
        io: &Rc<RefCell<Option<BusyIo>>>,
        job: &mut Job,
        label: &str,
        is_function: bool,
    ) {
        let board = self.shared.clone();
        board.script_busy.begin(self.id, is_function);
        let threshold = u128::from(self.shared.busy_threshold_ms());
        let started = Instant::now();
        let id = self.id;
        let io = io.clone();
        let name = label.to_string();
        let command = std::mem::take(&mut job.command);
        *vm.clock.borrow_mut() = Some(RunClock {
            on_slow: Box::new(move || {
                if started.elapsed().as_millis() < threshold {
                    return false;
                }
                board.script_busy.mark_busy(
                    id,
                    Bytes::from(name.clone()),
                    command.clone(),
                    started,
                );
                if let Ok(mut guard) = io.try_borrow_mut()
                    && let Some(io) = guard.as_mut()
                {
                    serve_busy(io);
                }
                board.script_busy.slot(id).kill.load(Ordering::Acquire)
            }),
        });
    }

    /// Stops the clock and gives the I/O back (with the events it held).
    fn disarm_clock(&mut self, vm: &ScriptVm, io: Rc<RefCell<Option<BusyIo>>>) {
        *vm.clock.borrow_mut() = None;
        self.shared.script_busy.end(self.id);
        self.take_back_io(io);
    }

    /// Puts the lent I/O back, swapping buffers back in place (no allocation when the hook
    /// never ran).
    fn take_back_io(&mut self, io: Rc<RefCell<Option<BusyIo>>>) {
        let taken = io.borrow_mut().take();
        let Some(mut io) = taken else {
            return;
        };
        self.driver = io.driver;
        // Nothing adds to the worker's own maps while they are lent.
        debug_assert!(self.conns.is_empty() && self.pending_events.is_empty());
        self.conns = io.conns;
        self.pending_events = io.backlog;
        self.pending_events.extend(io.held.drain(..));
        if self.dirty.is_empty() {
            self.dirty = io.dirty;
        } else {
            self.dirty.append(&mut io.dirty);
        }
        self.give_back_accepted(io.accepted);
    }

    /// Registers connections a busy script's hook accepted, and flushes what it answered
    /// them on the loop's next pass.
    fn give_back_accepted(&mut self, accepted: Vec<(u64, crate::driver::ConnToken)>) {
        for (id, token) in accepted {
            self.client_tokens.insert(id, token);
            self.dirty.push(token);
        }
    }

    /// Participant side of a freeze while some script is busy: serve this shard's clients
    /// between pieces of work.
    pub(crate) fn serve_busy_here(&mut self) {
        let io = self.lend_io();
        if let Some(io) = io.borrow_mut().as_mut() {
            serve_busy(io);
        }
        self.take_back_io(io);
    }

    /// FUNCTION LOAD / DELETE / FLUSH / DUMP / RESTORE.
    pub(crate) fn function_op(&mut self, conn: &mut Conn, op: Op) {
        let reply = self.function_op_reply(op);
        if reply.is_err() {
            self.stats.error_replies += 1;
        }
        conn.reply(reply);
    }

    fn function_op_reply(&mut self, op: Op) -> Reply {
        let Op::Functions(fop) = &op else {
            return err("ERR not a function command");
        };
        let ctx = ExecCtx {
            db: 0,
            now_ms: self.now_ms,
            no_touch: false,
        };
        match fop {
            FunctionOp::Dump => return self.shard.apply(&ctx, &op),
            FunctionOp::Load {
                name,
                code,
                replace,
            } => {
                if !replace && self.shard.functions().get(name).is_some() {
                    return err(format!(
                        "ERR Library '{}' already exists",
                        String::from_utf8_lossy(name)
                    ));
                }
                if let Err(e) =
                    self.check_libraries(&[(name.clone(), code.clone())], |lib| lib != &name[..])
                {
                    return e;
                }
            }
            FunctionOp::Restore { libs, policy } => {
                use moon_engine::ir::ops::functions::RestorePolicy;
                let keep: Vec<Bytes> = match policy {
                    RestorePolicy::Flush => Vec::new(),
                    RestorePolicy::Append | RestorePolicy::Replace => self
                        .shard
                        .functions()
                        .iter()
                        .map(|(n, _)| n.clone())
                        .filter(|n| {
                            matches!(policy, RestorePolicy::Append)
                                || !libs.iter().any(|(l, _)| l == n)
                        })
                        .collect(),
                };
                if matches!(policy, RestorePolicy::Append)
                    && let Some((dup, _)) = libs
                        .iter()
                        .find(|(l, _)| self.shard.functions().get(l).is_some())
                {
                    return err(format!(
                        "ERR Library {} already exists",
                        String::from_utf8_lossy(dup)
                    ));
                }
                if let Err(e) = self.check_libraries(libs, |lib| keep.iter().any(|k| k == lib)) {
                    return e;
                }
            }
            FunctionOp::Delete { .. } | FunctionOp::Flush => {}
        }
        if self.shared.shards() == 1 {
            return self.shard.apply(&ctx, &op);
        }
        let all = (0..self.shared.shards()).collect();
        self.run_atomic(ctx, op, all)
    }

    /// Loads each library of `libs` into Lua and checks that no function name is taken twice
    /// among them or by a library that stays (`stays(name)`).
    fn check_libraries(
        &mut self,
        libs: &[(Bytes, Bytes)],
        stays: impl Fn(&[u8]) -> bool,
    ) -> Result<(), Reply> {
        let mut vm = self.take_vm()?;
        vm.sync_functions(self.shard.functions());
        let mut taken: Vec<Bytes> = vm
            .libraries()
            .iter()
            .filter(|l| stays(&l.name))
            .flat_map(|l| l.functions.iter().map(|f| f.name.clone()))
            .collect();
        let mut outcome = Ok(());
        'libs: for (_, code) in libs {
            match vm.load_library(code) {
                Err(text) => {
                    outcome = Err(err(text));
                    break;
                }
                Ok(defs) => {
                    for (def, _) in defs {
                        if taken.iter().any(|t| t.eq_ignore_ascii_case(&def.name)) {
                            outcome = Err(err(format!(
                                "ERR Function {} already exists",
                                String::from_utf8_lossy(&def.name)
                            )));
                            break 'libs;
                        }
                        taken.push(def.name);
                    }
                }
            }
        }
        self.script_vm = Some(vm);
        outcome
    }

    fn function_list(&mut self, pattern: Option<Bytes>, withcode: bool) -> Reply {
        let mut vm = match self.take_vm() {
            Ok(vm) => vm,
            Err(e) => return e,
        };
        vm.sync_functions(self.shard.functions());
        let mut out = Vec::new();
        for lib in vm.libraries() {
            if let Some(p) = &pattern
                && !moon_engine::keyspace::glob::glob_match(p, &lib.name)
            {
                continue;
            }
            let functions = lib
                .functions
                .iter()
                .map(|f| {
                    Reply::Map(vec![
                        (Reply::bulk(b"name"), Reply::Bulk(f.name.clone())),
                        (
                            Reply::bulk(b"description"),
                            f.description.clone().map_or(Reply::Nil, Reply::Bulk),
                        ),
                        (
                            Reply::bulk(b"flags"),
                            Reply::Set(
                                f.flags
                                    .names()
                                    .into_iter()
                                    .map(|n| Reply::bulk(n.as_bytes()))
                                    .collect(),
                            ),
                        ),
                    ])
                })
                .collect();
            let mut entry = vec![
                (Reply::bulk(b"library_name"), Reply::Bulk(lib.name.clone())),
                (Reply::bulk(b"engine"), Reply::bulk(b"LUA")),
                (Reply::bulk(b"functions"), Reply::Array(functions)),
            ];
            if withcode {
                entry.push((Reply::bulk(b"library_code"), Reply::Bulk(lib.code.clone())));
            }
            out.push(Reply::Map(entry));
        }
        self.script_vm = Some(vm);
        Reply::Array(out)
    }

    fn function_stats(&mut self) -> Reply {
        let catalog = self.shard.functions();
        let libraries = catalog.len() as i64;
        let mut vm = match self.take_vm() {
            Ok(vm) => vm,
            Err(e) => return e,
        };
        vm.sync_functions(self.shard.functions());
        let functions: usize = vm.libraries().iter().map(|l| l.functions.len()).sum();
        self.script_vm = Some(vm);
        let running = match self.shared.script_busy.running() {
            None => Reply::Nil,
            Some((name, command, ms)) => Reply::Map(vec![
                (Reply::bulk(b"name"), Reply::Bulk(name)),
                (
                    Reply::bulk(b"command"),
                    Reply::Array(command.into_iter().map(Reply::Bulk).collect()),
                ),
                (Reply::bulk(b"duration_ms"), Reply::Int(ms as i64)),
            ]),
        };
        Reply::Map(vec![
            (Reply::bulk(b"running_script"), running),
            (
                Reply::bulk(b"engines"),
                Reply::Map(vec![(
                    Reply::bulk(b"LUA"),
                    Reply::Map(vec![
                        (Reply::bulk(b"libraries_count"), Reply::Int(libraries)),
                        (
                            Reply::bulk(b"functions_count"),
                            Reply::Int(functions as i64),
                        ),
                    ]),
                )]),
            ),
        ])
    }

    /// True (and answered) if a script is busy and `args` is not allowed meanwhile.
    pub(crate) fn refuse_busy(&mut self, conn: &mut Conn, args: &[Bytes]) -> bool {
        if !self.shared.script_busy.active() {
            return false;
        }
        let allowed = moon_resp::commands::resolve(args)
            .is_ok_and(|spec| spec.flags & moon_resp::commands::table::ALLOW_BUSY != 0);
        if allowed {
            return false;
        }
        conn.reply(self.shared.script_busy.busy_error());
        self.stats.error_replies += 1;
        true
    }
}

/// What a job runs: the Lua function, whether it runs read-only, its label for errors (SHA
/// or function name) and whether it is a function.
type Prepared = (mlua::Function, bool, String, bool);

/// Finds (compiling if needed) what `job` runs. Functions come from the VM's compiled
/// catalog, which the caller has synced.
fn prepare(vm: &mut ScriptVm, shared: &Shared, job: &Job) -> Result<Prepared, Reply> {
    match &job.what {
        What::Script(sha, body) => {
            vm.sync_scripts(shared.scripts.generation());
            let func = match vm.script(sha) {
                Some(f) => f,
                None => {
                    let body = match body {
                        Some(b) => b.clone(),
                        None => shared.scripts.get(sha).ok_or_else(|| err(NOSCRIPT))?,
                    };
                    eval_shebang(&body)?;
                    vm.compile_script(*sha, &body).map_err(err)?
                }
            };
            let no_writes = vm.script_no_writes(sha);
            // A parsed SHA is ASCII hex: no lossy conversion needed.
            let label = std::str::from_utf8(sha).unwrap_or_default().to_owned();
            Ok((func, job.ro || no_writes, label, false))
        }
        What::Function(name) => {
            let Some((func, flags)) = vm.function(name) else {
                return Err(err("ERR Function not found"));
            };
            if job.ro && !flags.no_writes {
                return Err(err(
                    "ERR Can not execute a script with write flag using *_ro command.",
                ));
            }
            let label = String::from_utf8_lossy(name).into_owned();
            Ok((func, job.ro || flags.no_writes, label, true))
        }
    }
}

/// Executes ops through a transaction's routing (EXEC's `apply`).
struct TxHost<'a>(&'a mut dyn FnMut(ExecCtx, Op) -> Reply);

impl Host for TxHost<'_> {
    fn exec(&mut self, ctx: ExecCtx, op: Op) -> Reply {
        (self.0)(ctx, op)
    }
}

/// The scripts of a transaction: the VM, taken out of the worker for EXEC.
pub(crate) struct TxScripts {
    vm: Box<ScriptVm>,
    shared: std::sync::Arc<Shared>,
    id: usize,
    /// The EXEC caller's restricted ACL user, set by EXEC (None: everything allowed).
    pub(crate) acl: Option<crate::acl::ScriptCaller>,
}

/// True for the queued commands EXEC runs as scripts inside the transaction.
pub(crate) fn runs_script(cmd: &ScriptCmd) -> bool {
    matches!(
        cmd,
        ScriptCmd::Eval { .. } | ScriptCmd::EvalSha { .. } | ScriptCmd::Fcall { .. }
    )
}

impl TxScripts {
    /// Runs one queued script with the transaction's routing (every shard it may touch is
    /// frozen, or the transaction is local to this shard).
    pub(crate) fn run(
        &mut self,
        cmd: &ScriptCmd,
        db: usize,
        now_ms: u64,
        no_touch: bool,
        apply: &mut dyn FnMut(ExecCtx, Op) -> Reply,
    ) -> Reply {
        let (what, keys, args, ro) = match cmd {
            ScriptCmd::Eval {
                script,
                keys,
                args,
                ro,
            } => (
                What::Script(vm::sha1_hex(script), Some(script.clone())),
                keys,
                args,
                *ro,
            ),
            ScriptCmd::EvalSha {
                sha,
                keys,
                args,
                ro,
            } => match parse_sha(sha) {
                Some(sha) => (What::Script(sha, None), keys, args, *ro),
                None => return err(NOSCRIPT),
            },
            ScriptCmd::Fcall {
                function,
                keys,
                args,
                ro,
            } => (What::Function(function.clone()), keys, args, *ro),
            _ => return err("ERR not a script"),
        };
        let job = Job {
            what,
            keys: keys.clone(),
            args: args.clone(),
            ro,
            db,
            now_ms,
            no_touch,
            command: Vec::new(),
            acl: self.acl.clone(),
        };
        if let What::Script(sha, Some(body)) = &job.what
            && !self.shared.scripts.contains(sha)
        {
            self.shared.scripts.insert(*sha, body.clone());
        }
        let (func, ro, label, is_function) = match prepare(&mut self.vm, &self.shared, &job) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let board = self.shared.clone();
        board.script_busy.begin(self.id, is_function);
        let started = Instant::now();
        let threshold = u128::from(board.busy_threshold_ms());
        let (id, b2, name) = (self.id, board.clone(), Bytes::from(label.clone()));
        *self.vm.clock.borrow_mut() = Some(RunClock {
            on_slow: Box::new(move || {
                if started.elapsed().as_millis() < threshold {
                    return false;
                }
                b2.script_busy
                    .mark_busy(id, name.clone(), Vec::new(), started);
                b2.script_busy.slot(id).kill.load(Ordering::Acquire)
            }),
        });
        let mut host = TxHost(apply);
        let prepared = (func, ro, label, is_function);
        let reply = execute(&self.vm, &prepared, &job, &mut host, &board, self.id);
        *self.vm.clock.borrow_mut() = None;
        board.script_busy.end(self.id);
        reply
    }
}

impl Worker {
    /// Takes the VM out for a transaction that runs scripts (synced with the catalog, which a
    /// transaction cannot change).
    pub(crate) fn tx_scripts_begin(&mut self) -> Result<TxScripts, Reply> {
        let mut vm = self.take_vm()?;
        vm.sync_functions(self.shard.functions());
        Ok(TxScripts {
            vm,
            shared: self.shared.clone(),
            id: self.id,
            acl: None,
        })
    }

    /// Gives the VM back after EXEC.
    pub(crate) fn tx_scripts_end(&mut self, tx: TxScripts) {
        self.script_vm = Some(tx.vm);
    }
}

/// Runs a prepared script against `host` and converts its outcome to a reply.
fn execute(
    vm: &ScriptVm,
    prepared: &Prepared,
    job: &Job,
    host: &mut dyn Host,
    shared: &Shared,
    id: usize,
) -> Reply {
    let (func, read_only, label, is_function) = prepared;
    let (read_only, is_function) = (*read_only, *is_function);
    let wrote_flag = &shared.script_busy.slot(id).wrote;
    let mut state = CallState {
        host,
        db: job.db,
        now_ms: job.now_ms,
        no_touch: job.no_touch,
        read_only,
        wrote: false,
        // Only set while a memory limit is configured (see `publish_memory`).
        oom: shared.out_of_memory(),
        wrote_flag,
        acl: job.acl.as_ref().map(|c| (c, &shared.acl)),
    };
    let outcome = vm.call_with(&mut state, func, &job.keys, &job.args, is_function);
    match outcome {
        Ok((true, value)) => convert::lua_to_reply(&value, vm.resp3()),
        Ok((false, e)) => {
            let text = vm::error_field(&e);
            let location = match &e {
                mlua::Value::Table(t) => {
                    match (t.raw_get::<String>("source"), t.raw_get::<i64>("line")) {
                        (Ok(source), Ok(line)) => format!(", on {source}:{line}."),
                        _ => String::new(),
                    }
                }
                _ => String::new(),
            };
            err(format!("{text} script: {label}{location}").replace(['\r', '\n'], " "))
        }
        Err(e) => err(format!("ERR {e}").replace(['\r', '\n'], " ")),
    }
}
