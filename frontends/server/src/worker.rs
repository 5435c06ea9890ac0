//! The shard worker: one thread's event loop. It owns the shard's keyspace, its listener and
//! connections (through the driver), and its inbound/outbound mailboxes.
//!
//! Each iteration: poll the driver; handle accepts, reads (parse every complete command in the
//! buffer, execute or forward each), send completions and closes; drain the inboxes; run the
//! periodic tick (active expiry, idle timeouts); hand each connection's batch of replies to the
//! driver in one send; push queued messages and wake their destinations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hashbrown::HashMap;
use moon_engine::ir::{OpError, Reply};
use moon_engine::shard::Shard;
use moon_resp::limits::Limits;

use crate::conn::{Conn, Part};
use crate::driver::{ConnToken, Driver, Event};
use crate::mailbox::{Msg, Outbox};
use crate::shared::{Shared, now_ms};

/// Per-command counters for INFO commandstats.
#[derive(Debug, Clone, Default)]
pub struct CmdStat {
    /// Calls.
    pub calls: u64,
    /// Total microseconds.
    pub usec: u64,
    /// Calls that returned an error.
    pub failed: u64,
    /// Calls refused before running (arity, OOM): INFO `rejected_calls`.
    pub rejected: u64,
    /// Latency distribution (INFO latencystats, LATENCY HISTOGRAM, Prometheus).
    pub hist: crate::latency::Histogram,
}

/// Counters for INFO stats (summed over shards).
#[derive(Debug, Clone, Default)]
pub struct WorkerStats {
    /// Commands processed.
    pub commands: u64,
    /// Bytes read from clients.
    pub net_input: u64,
    /// Bytes written to clients.
    pub net_output: u64,
    /// Error replies sent.
    pub error_replies: u64,
    /// Per command (lowercase name).
    pub cmdstats: HashMap<String, CmdStat>,
    /// Connections moved to this shard (`migrate.rs`).
    pub migrated_in: u64,
    /// Connections moved away from this shard.
    pub migrated_out: u64,
}

/// One shard thread's state.
pub struct Worker {
    /// Shard index.
    pub id: usize,
    /// The keyspace this thread owns.
    pub shard: Shard,
    /// Process-wide state.
    pub shared: Arc<Shared>,
    pub(crate) driver: Box<dyn Driver>,
    /// Open connections by driver token.
    pub conns: HashMap<ConnToken, Box<Conn>>,
    /// Client id → token, to route replies from other shards.
    pub client_tokens: HashMap<u64, ConnToken>,
    pub(crate) outboxes: Vec<Outbox>,
    pub(crate) inboxes: Vec<rtrb::Consumer<Msg>>,
    /// Messages taken off the rings while coordinating, handled by the main loop.
    pub(crate) deferred: std::collections::VecDeque<Msg>,
    pub(crate) dirty: Vec<ConnToken>,
    /// Counters.
    pub stats: WorkerStats,
    /// Clock for this iteration (ms since epoch).
    pub now_ms: u64,
    pub(crate) limits: Limits,
    last_tick: Instant,
    /// Reused buffers for batched parsing and prefetching.
    batch: Vec<Vec<bytes::Bytes>>,
    hashes: Vec<u64>,
    /// (key hash, batch position) of the batch's hash-field commands (`prefetch_batch`).
    field_prefetch: Vec<(u64, usize)>,
    /// Blocked clients (home side) and waiters on keys (owner side).
    pub(crate) blocking: crate::blocking::Blocking,
    /// Pub/Sub subscriptions of this shard's connections.
    pub(crate) pubsub: crate::pubsub::Registry,
    /// Snapshots, WAL group commit and their INFO bookkeeping.
    pub(crate) persist: crate::persist::PersistState,
    /// This shard's Lua VM (created by the first script).
    pub(crate) script_vm: Option<Box<crate::script::ScriptVm>>,
    /// This iteration's polled events not handled yet (a busy script's hook takes them over).
    pub(crate) pending_events: std::collections::VecDeque<Event>,
    /// Slow log, LATENCY events and local MONITOR clients.
    pub(crate) observe: crate::monitor::Observe,
    /// Output buffer limits, as configured (`limits.rs`).
    pub(crate) obuf: crate::limits::Guard,
    /// Connections held by CLIENT PAUSE (`pause.rs`).
    pub(crate) held: crate::pause::Held,
    /// Messages to other shards held until the WAL is durable up to their LSN: `(lsn, dest,
    /// msg)` (`walhold.rs`).
    pub(crate) wal_held: std::collections::VecDeque<(u64, usize, Msg)>,
    /// Connections holding output that waits for the WAL (`walhold.rs`).
    pub(crate) wal_waiting: Vec<ConnToken>,
    /// Encoded replies to forwarded ops, per destination shard, sent once per drain (`fwd.rs`).
    pub(crate) fwd_out: Vec<crate::fwd::ReplyBatch>,
    /// Cross-shard MSET/MSETNX waiting for this iteration's batch (`atomic_batch.rs`).
    pub(crate) atomic_queue: Vec<crate::atomic_batch::Queued>,
    /// `migrate-connections`, as of the last tick.
    pub(crate) migrate_connections: bool,
    /// Connections that should move to another shard once idle (`migrate.rs`).
    pub(crate) migrations: Vec<ConnToken>,
}

/// A newly accepted connection, counted (and told off when over `maxclients`).
pub(crate) fn accept_conn(
    shared: &Shared,
    driver: &dyn Driver,
    limits: Limits,
    token: ConnToken,
) -> Box<Conn> {
    let cfg = shared.config();
    let connected = shared
        .connected_clients
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    shared
        .total_connections
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = shared
        .next_client_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut conn = Box::new(Conn::new(token, id, shared.acl.default_open(), limits));
    conn.addr = driver.peer_addr(token);
    conn.laddr = Some(std::net::SocketAddr::new(
        cfg.bind
            .parse()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        cfg.port,
    ));
    if driver.is_tls(token) {
        crate::tls::on_accept(&mut conn, shared, cfg.tls_port);
    }
    if connected >= cfg.maxclients {
        shared
            .rejected_connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        conn.reply(Reply::Err(OpError::Other(
            "ERR max number of clients reached".into(),
        )));
        conn.close_after_flush = true;
    } else if let Some(denied) = crate::acl::protected_refusal(shared, &cfg, &conn) {
        conn.reply(denied);
        conn.close_after_flush = true;
    }
    conn
}

/// True for the hash and set commands whose third argument is a field or member looked up at
/// once (HSET, HMSET, SADD, SREM: the first one), worth a prefetch in a batch.
fn names_field(cmd: &[u8]) -> bool {
    const HASH: [&[u8]; 8] = [
        b"hget", b"hset", b"hexists", b"hincrby", b"hstrlen", b"hsetnx", b"hmset", b"hdel",
    ];
    const SET: [&[u8]; 3] = [b"sadd", b"srem", b"sismember"];
    let names: &[&[u8]] = match cmd.first() {
        Some(b'h' | b'H') => &HASH,
        Some(b's' | b'S') => &SET,
        _ => return false,
    };
    names.iter().any(|n| cmd.eq_ignore_ascii_case(n))
}

/// Commands parsed ahead per batch for prefetching.
const PREFETCH_BATCH: usize = 64;

/// Most output a connection holds back while it waits for forwarded replies (`holds_output`).
const HOLD_OUTPUT_MAX: usize = 64 * 1024;

/// True if the replies encoded so far should wait for the deferred ones behind them: they
/// were answered here while later commands of the same batch went to another shard, whose
/// replies come back within an iteration or two. Sending now would cost a send and wake the
/// client for a partial batch (it needs every reply of its pipeline), then the same again for
/// the rest. As Redis, which writes all of a read's replies together after running them.
/// Never while blocked (BLPOP, CLIENT PAUSE: the wait is unbounded) or closing, and at most
/// `HOLD_OUTPUT_MAX` bytes. A held connection is flushed when a reply completes (it is marked
/// dirty by `complete_part`).
fn holds_output(conn: &Conn) -> bool {
    !conn.pending.is_empty()
        && conn.blocked_on.is_none()
        && !conn.close_after_flush
        && conn.out.len() < HOLD_OUTPUT_MAX
}

/// True if `args` must wait for the shard's atomic batch to run first: the connection has an
/// op queued there, and `args` is not one that joins the batch behind it (or something is
/// already stashed ahead of it).
fn waits_for_batch(conn: &Conn, args: &[bytes::Bytes]) -> bool {
    conn.atomic_wait && (!conn.stash.is_empty() || !crate::atomic_batch::joins_batch(args))
}

impl Worker {
    /// Assemble a worker; call [`Worker::run`] on its own thread.
    pub fn new(
        id: usize,
        shared: Arc<Shared>,
        driver: Box<dyn Driver>,
        (outboxes, inboxes): (Vec<Outbox>, Vec<rtrb::Consumer<Msg>>),
        (shard, persist): (Shard, crate::persist::PersistState),
    ) -> Worker {
        let cfg = shared.config();
        let shards = shared.shards();
        crate::monitor::apply_config(&cfg, shards);
        let limits = Limits {
            proto_max_bulk_len: cfg.proto_max_bulk_len as i64,
            client_query_buffer_limit: usize::try_from(cfg.client_query_buffer_limit)
                .unwrap_or(usize::MAX),
            ..Limits::default()
        };
        Worker {
            id,
            shard,
            shared,
            driver,
            conns: HashMap::new(),
            client_tokens: HashMap::new(),
            outboxes,
            inboxes,
            deferred: std::collections::VecDeque::new(),
            dirty: Vec::new(),
            stats: WorkerStats::default(),
            now_ms: now_ms(),
            limits,
            last_tick: Instant::now(),
            batch: Vec::with_capacity(PREFETCH_BATCH),
            hashes: Vec::with_capacity(PREFETCH_BATCH),
            field_prefetch: Vec::with_capacity(PREFETCH_BATCH),
            blocking: crate::blocking::Blocking::default(),
            pubsub: crate::pubsub::Registry::default(),
            persist,
            script_vm: None,
            pending_events: std::collections::VecDeque::new(),
            wal_held: std::collections::VecDeque::new(),
            wal_waiting: Vec::new(),
            fwd_out: (0..shards).map(|_| Default::default()).collect(),
            atomic_queue: Vec::new(),
            observe: crate::monitor::Observe::default(),
            obuf: crate::limits::Guard::new(cfg.client_output_buffer_limit),
            held: crate::pause::Held::default(),
            migrate_connections: cfg.migrate_connections,
            migrations: Vec::new(),
        }
    }

    /// The event loop; returns on shutdown.
    pub fn run(mut self) {
        let mut events = Vec::with_capacity(256);
        let cfg = self.shared.config();
        let mut tick = Duration::from_millis(1000 / cfg.hz.max(1));
        let mut idle_poll = Duration::from_micros(cfg.idle_poll_us);
        drop(cfg);
        while !self.shared.shutting_down() {
            let mut timeout = if self.has_queued_work() || !self.pending_events.is_empty() {
                Duration::ZERO
            } else {
                tick.saturating_sub(self.last_tick.elapsed())
            };
            if self.persist.busy() {
                // A snapshot runs in slices between polls; pausing between slices (instead
                // of spinning) leaves the cores to clients and to the kernel's networking.
                timeout = timeout.min(crate::persist::SNAPSHOT_PAUSE);
            }
            if let Some(deadline) = self.blocking.next_deadline() {
                let wait = Duration::from_millis(deadline.saturating_sub(now_ms()));
                timeout = timeout.min(wait);
            }
            if let Some(wait) = crate::pause::wait(&self) {
                timeout = timeout.min(wait);
            }
            events.clear();
            // A snapshot's pauses between slices stay sleeps (see above). When the idle poll
            // caught something, its events are this iteration's: no second poll.
            let caught = !timeout.is_zero()
                && !idle_poll.is_zero()
                && !self.persist.busy()
                && self.idle_poll(idle_poll.min(timeout), &mut events);
            // Peers skip the eventfd write unless this shard may block (`Waker::park`): after
            // raising the flag, look at the rings once more.
            let parked = !caught && !timeout.is_zero();
            if parked {
                self.shared.wakers[self.id].park();
                if self.has_queued_work() {
                    timeout = Duration::ZERO;
                }
            }
            if !caught && let Err(e) = self.driver.poll(timeout, &mut events) {
                tracing::error!(shard = self.id, "driver poll failed: {e}");
                std::thread::sleep(Duration::from_millis(10));
            }
            if parked {
                self.shared.wakers[self.id].unpark();
            }
            self.now_ms = now_ms();
            self.wal_poll();
            let served = !events.is_empty();
            self.pending_events.extend(events.drain(..));
            while let Some(ev) = self.pending_events.pop_front() {
                self.on_event(ev);
            }
            self.run_atomic_batch();
            self.drain_inboxes();
            self.serve_ready();
            self.blocking_tick();
            crate::pause::release(&mut self);
            self.publish_memory();
            if self.last_tick.elapsed() >= tick {
                self.last_tick = Instant::now();
                self.on_tick();
                let cfg = self.shared.config();
                tick = Duration::from_millis(1000 / cfg.hz.max(1));
                idle_poll = Duration::from_micros(cfg.idle_poll_us);
                self.migrate_connections = cfg.migrate_connections;
            }
            // MSETs queued by clients resumed since the first run (before their replies go).
            self.run_atomic_batch();
            // Keyspace events of work done outside a client command (other shards' ops,
            // frozen work, active expiry).
            self.publish_events(None);
            let slice = self.persist.busy().then(Instant::now);
            self.persist_step(served);
            if let Some(t) = slice {
                self.latency_event("snapshot-slice", t.elapsed().as_millis() as u64);
            }
            self.persist_poll_seal();
            self.wal_commit();
            self.wal_drop_unacked();
            self.release_wal_held();
            self.flush_conns();
            self.start_migrations();
            self.flush_outboxes();
            self.shard.release_if_requested();
        }
        self.persist_shutdown();
    }

    /// `idle-poll-us`: before blocking, poll the driver without blocking (yielding the CPU
    /// between polls) for up to `spin`, while nothing is due. A request or a peer's message
    /// that arrives meanwhile costs no wake-up: no sleep and IPI on this side, and no eventfd
    /// write by peers, which skip it while the shard is not parked. True when something
    /// arrived (its events are in `events`).
    fn idle_poll(&mut self, spin: Duration, events: &mut Vec<Event>) -> bool {
        let start = Instant::now();
        loop {
            if let Err(e) = self.driver.poll(Duration::ZERO, events) {
                tracing::error!(shard = self.id, "driver poll failed: {e}");
                return false;
            }
            if !events.is_empty() || self.has_queued_work() {
                return true;
            }
            if start.elapsed() >= spin || self.shared.shutting_down() {
                return false;
            }
            std::thread::yield_now();
        }
    }

    fn has_queued_work(&self) -> bool {
        !self.deferred.is_empty()
            || !self.atomic_queue.is_empty()
            || self.inboxes.iter().any(|c| !c.is_empty())
            || self.outboxes.iter().any(|o| o.backlogged())
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Accepted(token) => self.on_accept(token),
            Event::Data(token, buf) => {
                self.stats.net_input += buf.len() as u64;
                if let Some(mut conn) = self.conns.remove(&token) {
                    if conn.tls.is_some() {
                        crate::tls::on_data(&mut conn, &buf);
                    } else {
                        conn.rbuf.extend_from_slice(&buf);
                    }
                    self.driver.recycle(buf);
                    self.process_input(&mut conn);
                    self.conns.insert(token, conn);
                    self.dirty.push(token);
                } else {
                    self.driver.recycle(buf);
                }
            }
            Event::SendDone(token, buf) => {
                if let Some(conn) = self.conns.get_mut(&token) {
                    conn.sending = false;
                    conn.spare = buf;
                    self.dirty.push(token);
                }
            }
            Event::Closed(token) => self.drop_conn(token),
            Event::Detached(token, handoff) => self.on_detached(token, handoff),
            Event::Wake => {}
        }
    }

    fn on_accept(&mut self, token: ConnToken) {
        let conn = accept_conn(&self.shared, &*self.driver, self.limits, token);
        self.client_tokens.insert(conn.id, token);
        self.conns.insert(token, conn);
        self.dirty.push(token);
    }

    fn drop_conn(&mut self, token: ConnToken) {
        if let Some(mut conn) = self.conns.remove(&token) {
            self.client_tokens.remove(&conn.id);
            self.forget_parked(conn.id);
            self.unwatch_all(&mut conn);
            self.pubsub_forget(&mut conn);
            self.monitor_forget(&mut conn);
            self.shared
                .connected_clients
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Close a connection from the server side.
    pub fn close_conn(&mut self, token: ConnToken) {
        self.driver.close(token);
        self.drop_conn(token);
    }

    /// Parse and run every complete command in the connection's buffer.
    pub(crate) fn process_input(&mut self, conn: &mut Conn) {
        if self
            .limits
            .query_buffer_exceeded(conn.rbuf.len(), !conn.authed)
        {
            // As Redis: the client is closed without a reply.
            crate::limits::log_query_buffer_close(conn);
            conn.rbuf.clear();
            conn.close_after_flush = true;
            return;
        }
        if conn.blocked_on.is_some() || !conn.stash.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.batch);
        loop {
            if conn.blocked_on.is_some() || !conn.stash.is_empty() {
                break;
            }
            if conn.close_after_flush {
                conn.rbuf.clear();
                break;
            }
            // Parse a batch of complete commands (one at a time before AUTH, so the parser's
            // unauthenticated limits switch exactly where AUTH succeeds).
            let max = if conn.authed { PREFETCH_BATCH } else { 1 };
            let mut outcome = Ok(());
            while batch.len() < max {
                match conn.parser.parse(&mut conn.rbuf) {
                    Ok(Some(args)) if args.is_empty() => {}
                    Ok(Some(args)) => batch.push(args),
                    Ok(None) => {
                        outcome = Err(None);
                        break;
                    }
                    Err(e) => {
                        outcome = Err(Some(e));
                        break;
                    }
                }
            }
            if batch.len() > 1 {
                self.prefetch_batch(conn.db, &batch);
            }
            for args in batch.drain(..) {
                if conn.close_after_flush {
                    continue;
                }
                if conn.blocked_on.is_some() || waits_for_batch(conn, &args) {
                    // Redis reads nothing else from a blocked client: keep it for later.
                    conn.stash.push_back(args);
                    continue;
                }
                let was_authed = conn.authed;
                self.execute(conn, args);
                if conn.authed != was_authed {
                    conn.parser.set_auth_required(!conn.authed);
                }
            }
            match outcome {
                Ok(()) => {}
                Err(None) => {
                    if let Some(need) = conn.parser.bytes_needed(conn.rbuf.len()) {
                        conn.rbuf.reserve(need.min(1 << 20));
                    }
                    break;
                }
                Err(Some(e)) => {
                    if !conn.close_after_flush {
                        self.stats.error_replies += 1;
                        let mut text = Vec::new();
                        moon_resp::codec::encode_protocol_error(&e, &mut text);
                        conn.reply_raw(&text);
                        conn.close_after_flush = true;
                    }
                    break;
                }
            }
        }
        self.batch = batch;
    }

    /// Evict if over the memory share and publish this shard's memory and OOM state.
    fn publish_memory(&mut self) {
        if self.shard.config().maxmemory == 0 {
            if self.shared.oom[self.id].load(std::sync::atomic::Ordering::Relaxed) {
                self.shared.oom[self.id].store(false, std::sync::atomic::Ordering::Relaxed);
            }
            return;
        }
        if crate::pause::stops_background_writes(&self.shared, self.now_ms) {
            return;
        }
        let within = self.shard.evict(self.now_ms);
        self.shared.memory[self.id].store(
            self.shard.used_memory_estimate() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.shared.oom[self.id].store(!within, std::sync::atomic::Ordering::Relaxed);
    }

    /// A blocked client was answered: run the commands it sent meanwhile, then read on.
    pub(crate) fn resume_input(&mut self, conn: &mut Conn) {
        while conn.blocked_on.is_none() {
            if conn.atomic_wait
                && !conn
                    .stash
                    .front()
                    .is_some_and(|args| crate::atomic_batch::joins_batch(args))
            {
                // The rest waits for the batch its queued MSETs are in.
                break;
            }
            let Some(args) = conn.stash.pop_front() else {
                break;
            };
            if conn.close_after_flush {
                conn.stash.clear();
                break;
            }
            let was_authed = conn.authed;
            self.execute(conn, args);
            if conn.authed != was_authed {
                conn.parser.set_auth_required(!conn.authed);
            }
        }
        if conn.blocked_on.is_none() && conn.stash.is_empty() && !conn.rbuf.is_empty() {
            self.process_input(conn);
        }
    }

    /// Overlap the cache misses of a batch of pipelined lookups: hint the key (the first
    /// argument, where GET/SET/INCR... keep it) of every command owned here, stage by stage.
    fn prefetch_batch(&mut self, db: usize, batch: &[Vec<bytes::Bytes>]) {
        let Some(table) = self.shard.db(db) else {
            return;
        };
        let single = self.shared.shards() == 1;
        self.hashes.clear();
        // Also the fields of hash and set commands: a pipeline of HGET/HSET (SADD) on one big
        // hash (set) misses the cache on the field's index, slot and pair, not on the key.
        let mut fields = std::mem::take(&mut self.field_prefetch);
        for (i, args) in batch.iter().enumerate() {
            if let Some(key) = args.get(1)
                && (single || self.shared.slots.shard_of(key) == self.id)
            {
                let h = table.hash_key(key);
                self.hashes.push(h);
                if args.len() > 2 && names_field(&args[0]) {
                    fields.push((h, i));
                }
            }
        }
        for stage in 0..3 {
            for &h in &self.hashes {
                table.prefetch(h, stage);
            }
        }
        for stage in 0..3 {
            for &(h, i) in &fields {
                let args = &batch[i];
                table.prefetch_field(h, &args[1], &args[2], stage);
            }
        }
        fields.clear();
        self.field_prefetch = fields;
    }

    fn drain_inboxes(&mut self) {
        while let Some(msg) = self.deferred.pop_front() {
            self.on_msg(msg);
        }
        for from in 0..self.inboxes.len() {
            // Bounded per iteration so one busy peer cannot starve the network.
            let mut budget = 1024;
            while budget > 0 {
                let ready = self.prefetch_inbox(from, budget.min(PREFETCH_BATCH));
                if ready == 0 {
                    break;
                }
                for _ in 0..ready {
                    let Ok(msg) = self.inboxes[from].pop() else {
                        break;
                    };
                    self.on_msg(msg);
                }
                budget -= ready;
            }
        }
        // Before this iteration's keyspace events are published (see `fwd.rs`).
        self.flush_encoded();
    }

    /// Overlap the cache misses of the forwarded ops waiting in `from`'s ring, as
    /// `prefetch_batch` does for a pipeline read here: peek at up to `max` messages (without
    /// taking them) and hint each `Exec`'s key, stage by stage. Returns how many messages are
    /// ready to pop (at most `max`).
    fn prefetch_inbox(&mut self, from: usize, max: usize) -> usize {
        let Some(inbox) = self.inboxes.get_mut(from) else {
            return 0;
        };
        let ready = inbox.slots().min(max);
        if ready < 2 {
            return ready;
        }
        let Ok(chunk) = inbox.read_chunk(ready) else {
            return ready;
        };
        let (first, second) = chunk.as_slices();
        let keyed = || {
            first.iter().chain(second).filter_map(|msg| match msg {
                Msg::Exec { ctx, op, .. } => Some((ctx.db, op.first_key()?)),
                _ => None,
            })
        };
        let (shard, hashes) = (&self.shard, &mut self.hashes);
        hashes.clear();
        for (db, key) in keyed() {
            let hash = shard.db(db).map_or(0, |table| {
                let hash = table.hash_key(key);
                table.prefetch(hash, 0);
                hash
            });
            hashes.push(hash);
        }
        for stage in 1..3 {
            for ((db, _), &hash) in keyed().zip(hashes.iter()) {
                if let Some(table) = shard.db(db) {
                    table.prefetch(hash, stage);
                }
            }
        }
        ready
    }

    /// Handle one message from another shard.
    /// Runs `f` on shard `dest` without waiting for it: its result goes back addressed to no
    /// client (id 0 is never given out), so the home side drops it.
    pub(crate) fn post(&mut self, dest: usize, f: crate::mailbox::CallFn) {
        let to = crate::mailbox::ReplyTo {
            shard: self.id,
            client: 0,
            seq: 0,
            part: 0,
        };
        self.outboxes[dest].send(Msg::Call { to, f });
    }

    pub(crate) fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Exec { to, ctx, op, proto } => {
                let reply = crate::contain::apply(&mut self.shard, &ctx, &op);
                self.answer_exec(to, reply, proto);
            }
            Msg::Call { to, f } => {
                let value = crate::contain::call(self, f);
                self.send_reply(to.shard, Msg::CallReply { to, value });
            }
            Msg::Reply { to, reply } => {
                self.complete_part(to.client, to.seq, to.part, Part::Reply(reply))
            }
            Msg::Encoded(batch) => self.on_encoded(batch),
            Msg::CallReply { to, value } => {
                self.complete_part(to.client, to.seq, to.part, Part::Any(value))
            }
            Msg::Freeze { ack, work } => self.serve_frozen(ack, work),
            Msg::Block(waiter) => self.register_waiter(*waiter, true),
            Msg::Publish { to, batch } => self.on_publish(to, &batch),
            Msg::Adopt(moving) => self.adopt(*moving),
        }
    }

    /// Deliver one part of a deferred reply to a local connection; resumes a client that was
    /// blocked on that reply.
    pub(crate) fn complete_part(&mut self, client: u64, seq: u64, part: usize, value: Part) {
        let Some(&token) = self.client_tokens.get(&client) else {
            return;
        };
        // The common case (a forwarded command's reply) needs only the connection: completed
        // in place, without taking it out of the map and putting it back.
        if let Some(conn) = self.conns.get_mut(&token)
            && conn.blocked_on != Some(seq)
            && !(matches!(value, Part::Reply(_)) && conn.scan_state(seq).is_some())
        {
            conn.complete(seq, part, value);
            // As `count_late_failures`, on the fields (the connection stays borrowed).
            for tag in conn.late_failed.drain(..) {
                if let Some(stat) = self.stats.cmdstats.get_mut(tag.as_str()) {
                    stat.failed += 1;
                }
            }
            self.dirty.push(token);
            return;
        }
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        match value {
            Part::Reply(reply) if conn.scan_state(seq).is_some() => {
                self.scan_on_reply(&mut conn, seq, reply)
            }
            value => conn.complete(seq, part, value),
        }
        if !conn.late_failed.is_empty() {
            self.count_late_failures(&mut conn);
        }
        if conn.blocked_on == Some(seq) {
            conn.blocked_on = None;
            self.resume_input(&mut conn);
        }
        self.conns.insert(token, conn);
        self.dirty.push(token);
    }

    fn on_tick(&mut self) {
        if !crate::pause::stops_background_writes(&self.shared, self.now_ms) {
            let t = Instant::now();
            self.shard.active_expire_cycle(self.now_ms);
            self.latency_event("expire-cycle", t.elapsed().as_millis() as u64);
        }
        self.shard.search_tick(self.now_ms);
        self.shard.graph_tick(self.now_ms);
        if self.shared.metrics.enabled() {
            crate::admin::metrics::publish(self);
        }
        self.persist_tick();
        let timeout = self.shared.config().timeout;
        if timeout > 0 {
            let idle: Vec<ConnToken> = self
                .conns
                .values()
                .filter(|c| {
                    // As Redis, subscribers and blocked (or paused) clients are never timed out.
                    c.pending.is_empty()
                        && c.blocked_on.is_none()
                        && !c.subs.active()
                        && !c.monitor
                        && c.last_active.elapsed().as_secs() > timeout
                })
                .map(|c| c.token)
                .collect();
            for token in idle {
                self.close_conn(token);
            }
        }
    }

    fn flush_conns(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        let (last, release) = (self.shard.wal_last_lsn(), self.shard.wal_release_lsn());
        for token in dirty.drain(..) {
            // Only the prefix whose writes are durable may leave (`walhold.rs`).
            let cut = self.wal_tag(token, last, release);
            let Some(conn) = self.conns.get_mut(&token) else {
                continue;
            };
            if crate::limits::check_flush(&self.obuf, conn) {
                self.close_conn(token);
                continue;
            }
            if conn.sending || holds_output(conn) || (cut == 0 && !conn.out.is_empty()) {
                continue;
            }
            let held = (cut < conn.out.len()).then(|| conn.out.split_off(cut));
            conn.wal.sent(cut);
            if conn.tls.is_some() {
                crate::tls::stage_output(conn);
            }
            if !conn.out.is_empty() {
                let spare = std::mem::take(&mut conn.spare);
                let buf = std::mem::replace(&mut conn.out, spare);
                self.stats.net_output += buf.len() as u64;
                conn.sending = true;
                conn.inflight = buf.len();
                self.driver.send(token, buf);
            } else if conn.close_after_flush && held.is_none() {
                self.close_conn(token);
                continue;
            }
            if let Some(held) = held {
                conn.out.extend_from_slice(&held);
            }
        }
        self.dirty = dirty;
    }

    pub(crate) fn flush_outboxes(&mut self) {
        for (to, outbox) in self.outboxes.iter_mut().enumerate() {
            outbox.flush();
            if outbox.needs_wake {
                outbox.needs_wake = false;
                if to != self.id {
                    self.shared.wakers[to].wake_if_parked();
                }
            }
        }
    }
}

#[cfg(test)]
mod hold_tests {
    use super::{HOLD_OUTPUT_MAX, holds_output};
    use crate::conn::{Conn, Finish, Part};
    use moon_engine::ir::Reply;

    #[test]
    fn output_waits_for_forwarded_replies_but_not_for_blocked_ones() {
        let mut conn = Conn::new(1, 1, true, moon_resp::limits::Limits::default());
        conn.reply(Reply::Ok);
        assert!(!holds_output(&conn), "nothing pending: send");
        let seq = conn.defer(1, Finish::Passthrough);
        assert!(holds_output(&conn), "a forwarded reply is on its way");
        conn.blocked_on = Some(seq);
        assert!(!holds_output(&conn), "a blocked client may wait forever");
        conn.blocked_on = None;
        conn.close_after_flush = true;
        assert!(!holds_output(&conn));
        conn.close_after_flush = false;
        conn.out.resize(HOLD_OUTPUT_MAX, b'x');
        assert!(!holds_output(&conn), "enough output to be worth a send");
        conn.out.truncate(5);
        conn.complete(seq, 0, Part::Reply(Reply::Int(1)));
        assert!(!holds_output(&conn));
        assert_eq!(conn.out, b"+OK\r\n:1\r\n");
    }

    #[test]
    fn forwarded_replies_leave_in_order_and_count_their_errors() {
        use crate::conn::CmdTag;
        use moon_engine::ir::OpError;
        let mut conn = Conn::new(1, 1, true, moon_resp::limits::Limits::default());
        let a = conn.defer(1, Finish::Passthrough);
        conn.reply(Reply::Ok);
        let b = conn.defer(1, Finish::Passthrough);
        conn.tag_deferred(b, CmdTag::new("get"));
        conn.complete(
            b,
            0,
            Part::Reply(Reply::Err(OpError::Other("ERR x".into()))),
        );
        assert!(conn.out.is_empty(), "the first reply is not back yet");
        conn.complete(a, 0, Part::Reply(Reply::Int(7)));
        assert_eq!(conn.out, b":7\r\n+OK\r\n-ERR x\r\n");
        assert_eq!(conn.errors, 1);
        assert_eq!(conn.late_failed.len(), 1);
        assert!(conn.pending.is_empty());
        conn.complete(a, 0, Part::Reply(Reply::Int(8)));
        assert_eq!(
            conn.out, b":7\r\n+OK\r\n-ERR x\r\n",
            "a late part is dropped"
        );
    }
}
