//! Connection and server commands: PING, HELLO, AUTH, SELECT, CLIENT, INFO, CONFIG, TIME,
//! SHUTDOWN, DEBUG, COMMAND, SCAN. Those that need every shard (INFO, CLIENT LIST/KILL,
//! CONFIG SET/RESETSTAT) fan a closure out and merge the results in order like any reply.

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};
use moon_resp::codec::Proto;
use moon_resp::commands::{ClientKillFilter, ConnCmd};

use crate::conn::{Conn, Finish, Part};
use crate::info;
use crate::mailbox::{CallFn, Msg, ReplyTo};
use crate::worker::Worker;

fn err(text: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

fn text_reply(conn: &Conn, text: String) -> Reply {
    match conn.proto {
        Proto::Resp3 => Reply::Verbatim("txt", Bytes::from(text)),
        Proto::Resp2 => Reply::Bulk(Bytes::from(text)),
    }
}

impl Worker {
    /// Handle a connection/server command. Returns true if it failed (for error stats).
    pub(crate) fn conn_cmd(&mut self, conn: &mut Conn, cmd: ConnCmd) -> bool {
        let reply = match cmd {
            ConnCmd::Ping(msg) if crate::pubsub::resp2_subscribed(conn) => {
                crate::pubsub::ping_reply(msg)
            }
            ConnCmd::Ping(msg) => msg
                .map(Reply::Bulk)
                .unwrap_or_else(|| Reply::simple("PONG")),
            ConnCmd::Echo(msg) => Reply::Bulk(msg),
            ConnCmd::Hello {
                proto,
                auth,
                setname,
            } => self.hello(conn, proto, auth, setname),
            ConnCmd::Auth { user, pass } => self.auth(conn, user.as_deref(), &pass),
            ConnCmd::Select(db) => {
                if db >= moon_engine::DATABASES {
                    err("ERR DB index is out of range")
                } else {
                    conn.db = db;
                    Reply::Ok
                }
            }
            ConnCmd::Quit => {
                conn.close_after_flush = true;
                Reply::Ok
            }
            ConnCmd::Static(reply) => reply,
            ConnCmd::Multi => self.multi(conn),
            ConnCmd::Discard => self.discard(conn),
            ConnCmd::Exec => {
                self.exec(conn);
                return false;
            }
            ConnCmd::Watch(keys) => {
                self.watch(conn, keys);
                return false;
            }
            ConnCmd::Unwatch => {
                self.unwatch_all(conn);
                Reply::Ok
            }
            ConnCmd::Reset => {
                self.monitor_forget(conn);
                conn.multi = None;
                self.pubsub_forget(conn);
                self.unwatch_all(conn);
                conn.db = 0;
                conn.proto = Proto::Resp2;
                conn.name = None;
                conn.no_evict = false;
                conn.no_touch = false;
                self.acl_reset_conn(conn);
                Reply::simple("RESET")
            }
            ConnCmd::ClientId => Reply::Int(conn.id as i64),
            ConnCmd::ClientSetName(name) => {
                conn.name = if name.is_empty() { None } else { Some(name) };
                Reply::Ok
            }
            ConnCmd::ClientGetName => conn.name.clone().map(Reply::Bulk).unwrap_or(Reply::Nil),
            ConnCmd::ClientList { ids, .. } => {
                self.client_list(conn, ids);
                return false;
            }
            ConnCmd::ClientInfo => text_reply(conn, client_line(conn, "client|info") + "\n"),
            ConnCmd::ClientKill(filter) => {
                self.client_kill(conn, filter);
                return false;
            }
            ConnCmd::ClientSetInfo { attr, value } => {
                match attr {
                    moon_resp::commands::ClientInfoAttr::LibName => conn.lib_name = Some(value),
                    moon_resp::commands::ClientInfoAttr::LibVer => conn.lib_ver = Some(value),
                }
                Reply::Ok
            }
            ConnCmd::ClientNoEvict(on) => {
                conn.no_evict = on;
                Reply::Ok
            }
            ConnCmd::ClientNoTouch(on) => {
                conn.no_touch = on;
                Reply::Ok
            }
            ConnCmd::Info(sections) => {
                self.info(conn, sections);
                return false;
            }
            ConnCmd::ConfigGet(patterns) => self.config_get(&patterns),
            ConnCmd::ConfigSet(pairs) => {
                let reply = self.config_set(pairs);
                let failed = reply.is_err();
                conn.reply(reply);
                return failed;
            }
            ConnCmd::ConfigResetStat => {
                self.broadcast(
                    conn,
                    || {
                        Box::new(|w: &mut Worker| {
                            w.stats = Default::default();
                            crate::monitor::reset_errors();
                            w.shard.reset_stats();
                            Box::new(()) as Box<dyn std::any::Any + Send>
                        })
                    },
                    Box::new(|_| Reply::Ok),
                );
                return false;
            }
            ConnCmd::Time => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Reply::Array(vec![
                    Reply::Bulk(Bytes::from(now.as_secs().to_string())),
                    Reply::Bulk(Bytes::from(now.subsec_micros().to_string())),
                ])
            }
            ConnCmd::Shutdown { abort, save, .. } => {
                if abort {
                    err("ERR No shutdown in progress.")
                } else {
                    let flag = match save {
                        None => 0,
                        Some(false) => 1,
                        Some(true) => 2,
                    };
                    self.shared
                        .shutdown_save
                        .store(flag, std::sync::atomic::Ordering::SeqCst);
                    tracing::warn!("User requested shutdown...");
                    self.shared.request_shutdown();
                    conn.close_after_flush = true;
                    return false;
                }
            }
            ConnCmd::DebugSleep(secs) => {
                if secs > 0.0 {
                    std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
                }
                Reply::Ok
            }
            ConnCmd::Command(sub) => match moon_resp::commands::command_reply(&sub) {
                Ok(r) => r,
                Err(e) => Reply::Err(e),
            },
            ConnCmd::ClientHelp => moon_resp::commands::client_help(),
            ConnCmd::ConfigHelp => moon_resp::commands::config_help(),
            ConnCmd::DebugHelp => moon_resp::commands::debug_help(),
            ConnCmd::DebugPanic(key) => return crate::contain::debug_panic(self, conn, key),
            ConnCmd::DebugWalFault(count) => {
                self.broadcast(
                    conn,
                    || {
                        Box::new(move |w: &mut Worker| {
                            w.shard.wal_set_fault(count);
                            Box::new(()) as Box<dyn std::any::Any + Send>
                        })
                    },
                    Box::new(|_| Reply::Ok),
                );
                return false;
            }
            ConnCmd::ClientPause { timeout_ms, all } => {
                crate::pause::client_pause(self, conn, timeout_ms, all)
            }
            ConnCmd::ClientUnpause => crate::pause::client_unpause(self),
            ConnCmd::ObjectHelp => moon_resp::commands::object_help(),
            ConnCmd::PubSub(cmd) => return self.pubsub_cmd(conn, cmd),
            ConnCmd::Script(cmd) => return self.script_cmd(conn, cmd),
            ConnCmd::Ops(cmd) => return self.ops_cmd(conn, cmd),
            ConnCmd::FtAggregate(a) => return self.ft_aggregate(conn, *a),
            ConnCmd::Acl(cmd) => return self.acl_cmd(conn, cmd),
            ConnCmd::Lastsave => Reply::Int(self.shared.last_save() as i64),
            ConnCmd::Save => {
                self.snapshot_cmd(conn, SnapCmd::Save);
                return false;
            }
            ConnCmd::BgSave { schedule } => {
                self.snapshot_cmd(conn, SnapCmd::BgSave { schedule });
                return false;
            }
            ConnCmd::BgRewriteAof => {
                self.snapshot_cmd(conn, SnapCmd::Rewrite);
                return false;
            }
            ConnCmd::Role => Reply::Array(vec![
                Reply::bulk(b"master"),
                Reply::Int(0),
                Reply::Array(Vec::new()),
            ]),
            ConnCmd::Scan {
                cursor,
                pattern,
                count,
                type_filter,
            } => {
                self.dispatch_scan(conn, cursor, pattern, count, type_filter);
                return false;
            }
        };
        let failed = reply.is_err();
        conn.reply(reply);
        failed
    }

    fn hello(
        &mut self,
        conn: &mut Conn,
        proto: Option<u8>,
        auth: Option<(Bytes, Bytes)>,
        setname: Option<Bytes>,
    ) -> Reply {
        if let Some((user, pass)) = auth {
            let r = self.acl_auth(conn, Some(&user), &pass, "HELLO");
            if r.is_err() {
                return r;
            }
        } else if !conn.authed {
            return err(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
            );
        }
        if let Some(p) = proto {
            conn.proto = if p == 3 { Proto::Resp3 } else { Proto::Resp2 };
        }
        if let Some(name) = setname {
            conn.name = if name.is_empty() { None } else { Some(name) };
        }
        let s = |t: &'static str| Reply::Bulk(Bytes::from_static(t.as_bytes()));
        Reply::Map(vec![
            (s("server"), s("redis")),
            (s("version"), s(info::REDIS_COMPAT_VERSION)),
            (
                s("proto"),
                Reply::Int(if conn.proto == Proto::Resp3 { 3 } else { 2 }),
            ),
            (s("id"), Reply::Int(conn.id as i64)),
            (s("mode"), s("standalone")),
            (s("role"), s("master")),
            (s("modules"), Reply::Array(Vec::new())),
        ])
    }

    fn auth(&mut self, conn: &mut Conn, user: Option<&[u8]>, pass: &[u8]) -> Reply {
        self.acl_auth(conn, user, pass, "AUTH")
    }

    /// Run a closure on every shard (this one included) and merge the results in order.
    pub(crate) fn broadcast(
        &mut self,
        conn: &mut Conn,
        make: impl Fn() -> CallFn,
        finish: Box<dyn FnOnce(Vec<Part>) -> Reply + Send>,
    ) {
        let shards = self.shared.shards();
        let seq = conn.defer(shards, Finish::Custom(finish));
        for s in 0..shards {
            let f = make();
            if s == self.id {
                let v = f(self);
                conn.complete(seq, s, Part::Any(v));
            } else {
                let to = ReplyTo {
                    shard: self.id,
                    client: conn.id,
                    seq,
                    part: s,
                };
                self.outboxes[s].send(Msg::Call { to, f });
            }
        }
    }

    fn info(&mut self, conn: &mut Conn, sections: Vec<Bytes>) {
        let names: Vec<String> = sections
            .iter()
            .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
            .collect();
        let shared = self.shared.clone();
        let proto = conn.proto;
        self.broadcast(
            conn,
            || {
                Box::new(|w: &mut Worker| {
                    Box::new(info::report(w)) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let reports = info::reports(parts);
                let text = info::format(&shared, &info::selected_sections(&names), &reports);
                match proto {
                    Proto::Resp3 => Reply::Verbatim("txt", Bytes::from(text)),
                    Proto::Resp2 => Reply::Bulk(Bytes::from(text)),
                }
            }),
        );
    }

    fn client_list(&mut self, conn: &mut Conn, ids: Vec<u64>) {
        let own = (conn.id, client_line(conn, "client|list"));
        let proto = conn.proto;
        self.broadcast(
            conn,
            || {
                Box::new(|w: &mut Worker| {
                    let lines: Vec<(u64, String)> = w
                        .conns
                        .values()
                        .map(|c| (c.id, client_line(c, &c.last_cmd)))
                        .collect();
                    Box::new(lines) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let mut all: Vec<(u64, String)> = vec![own];
                for p in parts {
                    if let Part::Any(b) = p
                        && let Ok(lines) = b.downcast::<Vec<(u64, String)>>()
                    {
                        all.extend(*lines);
                    }
                }
                all.sort_by_key(|(id, _)| *id);
                all.dedup_by_key(|(id, _)| *id);
                let text: String = all
                    .into_iter()
                    .filter(|(id, _)| ids.is_empty() || ids.contains(id))
                    .map(|(_, l)| l + "\n")
                    .collect();
                match proto {
                    Proto::Resp3 => Reply::Verbatim("txt", Bytes::from(text)),
                    Proto::Resp2 => Reply::Bulk(Bytes::from(text)),
                }
            }),
        );
    }

    fn client_kill(&mut self, conn: &mut Conn, filter: ClientKillFilter) {
        if let ClientKillFilter::Filters(f) = &filter
            && let Some(user) = &f.user
            && self.shared.acl.get(user).is_none()
        {
            let name = String::from_utf8_lossy(user).to_string();
            conn.reply(err(format!("ERR No such user '{name}'")));
            return;
        }
        let legacy = matches!(filter, ClientKillFilter::Legacy(_));
        let skip_me = match &filter {
            ClientKillFilter::Legacy(_) => false,
            ClientKillFilter::Filters(f) => f.skipme,
        };
        let me = conn.id;
        let own_hit = !skip_me && kill_matches(&filter, conn);
        if own_hit {
            conn.close_after_flush = true;
        }
        self.broadcast(
            conn,
            || {
                let filter = filter.clone();
                Box::new(move |w: &mut Worker| {
                    let victims: Vec<usize> = w
                        .conns
                        .values()
                        .filter(|c| c.id != me && kill_matches(&filter, c))
                        .map(|c| c.token)
                        .collect();
                    let n = victims.len() as i64;
                    for t in victims {
                        w.close_conn(t);
                    }
                    Box::new(n) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let killed: i64 = i64::from(own_hit)
                    + parts
                        .into_iter()
                        .filter_map(|p| match p {
                            Part::Any(b) => b.downcast::<i64>().ok().map(|n| *n),
                            Part::Reply(_) => None,
                        })
                        .sum::<i64>();
                if legacy {
                    if killed > 0 {
                        Reply::Ok
                    } else {
                        err("ERR No such client")
                    }
                } else {
                    Reply::Int(killed)
                }
            }),
        );
    }

    fn config_get(&self, patterns: &[Bytes]) -> Reply {
        let cfg = self.shared.config();
        let mut out = Vec::new();
        for (name, value) in cfg.params() {
            if patterns.iter().any(|p| {
                moon_engine::keyspace::glob::glob_match(&p.to_ascii_lowercase(), name.as_bytes())
            }) {
                out.push((
                    Reply::bulk(name.as_bytes()),
                    Reply::Bulk(Bytes::from(value)),
                ));
            }
        }
        Reply::Map(out)
    }

    fn config_set(&mut self, pairs: Vec<(Bytes, Bytes)>) -> Reply {
        let mut cfg = self.shared.config();
        for (name, value) in &pairs {
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            let value = String::from_utf8_lossy(value).to_string();
            if !cfg.params().iter().any(|(n, _)| *n == name) {
                return err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                ));
            }
            if !crate::config::Config::is_mutable(&name) {
                return err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                ));
            }
            if let Err(e) = cfg.set(&name, &value) {
                return err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
                ));
            }
        }
        if let Some(e) = crate::tls::on_config_set(&self.shared, &cfg, &pairs) {
            return err(e);
        }
        let engine = cfg.shard_config();
        let cfg2 = cfg.clone();
        self.shared.update_config(|c| *c = cfg);
        self.shared.acl.apply_config(&cfg2, &pairs);
        crate::monitor::apply_config(&cfg2, self.shared.shards());
        // Shard-local copies of config values: apply here and on every other shard.
        self.apply_shard_config(engine.clone());
        self.apply_persist_config(&cfg2);
        for s in 0..self.shared.shards() {
            if s != self.id {
                let engine = engine.clone();
                let cfg = cfg2.clone();
                self.post(
                    s,
                    Box::new(move |w: &mut Worker| {
                        w.apply_shard_config(engine);
                        w.apply_persist_config(&cfg);
                        Box::new(()) as Box<dyn std::any::Any + Send>
                    }),
                );
            }
        }
        Reply::Ok
    }

    fn apply_persist_config(&mut self, cfg: &crate::config::Config) {
        crate::limits::apply_config(self, cfg);
        self.set_wal_options(cfg);
        self.set_appendonly(cfg.appendonly);
    }

    /// SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF: run on every shard, one reply.
    fn snapshot_cmd(&mut self, conn: &mut Conn, mut cmd: SnapCmd) {
        use crate::persist::SnapKind;
        let busy = self
            .shared
            .snapshots_running
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0;
        match cmd {
            SnapCmd::Save | SnapCmd::BgSave { schedule: false } if busy => {
                self.stats.error_replies += 1;
                conn.reply(Reply::Err(OpError::Other(
                    "ERR Background save already in progress".into(),
                )));
                return;
            }
            _ => {}
        }
        if busy && let SnapCmd::BgSave { .. } = cmd {
            cmd = SnapCmd::BgSave { schedule: true };
        }
        self.broadcast(
            conn,
            move || {
                Box::new(move |w: &mut Worker| {
                    let r: Result<bool, String> = match cmd {
                        SnapCmd::Save => w.save_now(SnapKind::Save).map(|()| true),
                        SnapCmd::BgSave { schedule } => {
                            w.snapshot_request(SnapKind::Save, schedule)
                        }
                        SnapCmd::Rewrite => w.snapshot_request(SnapKind::Rewrite, true),
                    };
                    Box::new(r) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let mut scheduled = false;
                for p in parts {
                    if let Part::Any(b) = p
                        && let Ok(r) = b.downcast::<Result<bool, String>>()
                    {
                        match *r {
                            Ok(started) => scheduled |= !started,
                            Err(e) => return Reply::Err(OpError::Other(format!("ERR {e}"))),
                        }
                    }
                }
                match (cmd, scheduled) {
                    (SnapCmd::Save, _) => Reply::Ok,
                    (SnapCmd::BgSave { .. }, false) => Reply::simple("Background saving started"),
                    (SnapCmd::BgSave { .. }, true) => Reply::simple("Background saving scheduled"),
                    (SnapCmd::Rewrite, false) => {
                        Reply::simple("Background append only file rewriting started")
                    }
                    (SnapCmd::Rewrite, true) => {
                        Reply::simple("Background append only file rewriting scheduled")
                    }
                }
            }),
        );
    }

    fn apply_shard_config(&mut self, engine: moon_engine::shard::ShardConfig) {
        self.limits.proto_max_bulk_len = engine.proto_max_bulk_len as i64;
        self.shard.set_config(engine);
    }
}

/// Does a CLIENT KILL filter select this connection? (All given filters must match.)
fn kill_matches(filter: &ClientKillFilter, c: &Conn) -> bool {
    let addr = c.addr.map(|a| a.to_string()).unwrap_or_default();
    match filter {
        ClientKillFilter::Legacy(a) => a.as_ref() == addr.as_bytes(),
        ClientKillFilter::Filters(f) => {
            let laddr = c.laddr.map(|a| a.to_string()).unwrap_or_default();
            f.id.is_none_or(|id| id == c.id)
                && f.type_
                    .as_deref()
                    .is_none_or(|t| t == crate::pubsub::client_type(c).as_bytes())
                && f.addr.as_deref().is_none_or(|a| a == addr.as_bytes())
                && f.laddr.as_deref().is_none_or(|a| a == laddr.as_bytes())
                && f.maxage
                    .is_none_or(|age| age <= 0 || c.created.elapsed().as_secs() as i64 >= age)
                && f.user.as_deref().is_none_or(|u| u == c.acl.name.as_bytes())
        }
    }
}

/// One CLIENT LIST line, with Redis 7's fields.
pub fn client_line(c: &Conn, cmd: &str) -> String {
    let addr = c.addr.map(|a| a.to_string()).unwrap_or_default();
    let laddr = c.laddr.map(|a| a.to_string()).unwrap_or_default();
    let name = c
        .name
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    // Redis's letters, in its order.
    let mut flags = String::new();
    if c.monitor {
        flags.push('O');
    }
    if c.subs.active() {
        flags.push('P');
    }
    if c.multi.is_some() {
        flags.push('x');
    }
    if c.blocked_on.is_some() {
        flags.push('b');
    }
    if c.no_evict {
        flags.push('e');
    }
    if c.no_touch {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let (sub, psub, ssub) = c.subs.counts();
    let lib_name = c
        .lib_name
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let lib_ver = c
        .lib_ver
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    format!(
        "id={} addr={addr} laddr={laddr} fd={} name={name} age={} idle={} flags={flags} db={} sub={sub} psub={psub} ssub={ssub} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp=0 obl={} oll={} omem={} tot-mem={} events=r cmd={cmd} user={user} redir=-1 resp={} lib-name={lib_name} lib-ver={lib_ver}",
        c.id,
        c.token,
        c.created.elapsed().as_secs(),
        c.last_active.elapsed().as_secs(),
        c.db,
        c.multi.as_ref().map_or(-1, |m| m.queued.len() as i64),
        c.rbuf.len(),
        c.rbuf.capacity().saturating_sub(c.rbuf.len()),
        c.rbuf.capacity(),
        c.out.len(),
        c.pending.len(),
        c.out.len() + c.inflight,
        c.rbuf.capacity() + c.out.capacity(),
        if c.proto == Proto::Resp3 { 3 } else { 2 },
        user = c.acl.name,
    )
}

/// The snapshot commands, as broadcast to every shard.
#[derive(Debug, Clone, Copy)]
enum SnapCmd {
    Save,
    BgSave { schedule: bool },
    Rewrite,
}
