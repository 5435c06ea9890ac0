//! Access control (Redis 7 ACL): the user registry shared by every shard, the per-connection
//! view of its user, the permission gate `Worker::execute` runs, AUTH, the ACL command, the
//! ACL LOG and protected mode.
//!
//! Invariants:
//! - Users live in one registry behind an `RwLock`, each an immutable `Arc<User>`; every change
//!   swaps the `Arc`s and bumps `generation`. A connection keeps its user's `Arc` and the
//!   generation it was read at, so changes reach existing connections at their next command
//!   (Redis shares the user object) while a command never takes a lock.
//! - Hot path: a connection whose user allows every command, key and channel (Moon's default
//!   user) pays one atomic load and a compare per command (`ConnAcl::is_open`).
//! - The `default` user always exists; `requirepass` is its password.

mod file;
mod log;
mod rules;
mod user;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};
use moon_resp::commands::table::{ACL_NAMES, CommandSpec};
use moon_resp::commands::{AclCmd, acl_help, resolve};

use crate::config::Config;
use crate::conn::{Conn, Part};
use crate::worker::Worker;

pub(crate) use user::{Denied, User};

fn err(text: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";
const DENIED: &str = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

/// The process-wide ACL state.
pub(crate) struct Acl {
    users: RwLock<BTreeMap<String, Arc<User>>>,
    /// Bumped on every change of any user.
    generation: AtomicU64,
    log: Mutex<log::AclLog>,
    /// `acllog-max-len`, kept here so logging does not read the config lock.
    log_max: AtomicUsize,
}

/// A connection's user.
pub(crate) struct ConnAcl {
    /// The user's name (CLIENT LIST `user=`, ACL WHOAMI).
    pub name: String,
    /// The compiled user as of `generation`; None until the first command.
    pub user: Option<Arc<User>>,
    /// Registry generation `user` was read at (`u64::MAX`: never).
    pub generation: u64,
    /// `user` allows everything: no check needed.
    pub open: bool,
}

impl Default for ConnAcl {
    fn default() -> Self {
        ConnAcl {
            name: "default".into(),
            user: None,
            generation: u64::MAX,
            open: false,
        }
    }
}

impl ConnAcl {
    /// True when no check is needed: the user allows everything and has not changed.
    #[inline]
    pub fn is_open(&self, generation: u64) -> bool {
        self.open && self.generation == generation
    }
}

/// The user a script runs as, with its caller's CLIENT LIST line for ACL LOG.
#[derive(Clone)]
pub(crate) struct ScriptCaller {
    pub user: Arc<User>,
    pub client_info: String,
}

impl Acl {
    /// The default user (with `requirepass` as its password, if set) and nothing else; the
    /// aclfile, if any, is read by [`Acl::load_startup`].
    pub fn new(cfg: &Config) -> Acl {
        let mut default = User::default_user();
        if let Some(pass) = &cfg.requirepass {
            default.nopass = false;
            default.passwords = vec![rules::sha256_hex(pass.as_bytes())];
        }
        let mut users = BTreeMap::new();
        users.insert("default".to_string(), Arc::new(default));
        Acl {
            users: RwLock::new(users),
            generation: AtomicU64::new(0),
            log: Mutex::new(log::AclLog::default()),
            log_max: AtomicUsize::new(cfg.acllog_max_len),
        }
    }

    /// Load the configured aclfile at start-up; an error stops the server, as in Redis.
    pub fn load_startup(&self, cfg: &Config) -> anyhow::Result<()> {
        if cfg.aclfile.is_empty() {
            return Ok(());
        }
        let users = file::load(&cfg.aclfile).map_err(|e| anyhow::anyhow!("{e}"))?;
        self.replace(users);
        Ok(())
    }

    /// Current generation (one atomic load).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<User>>> {
        self.users.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<User>>> {
        self.users.write().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A user by name.
    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        let name = std::str::from_utf8(name).ok()?;
        self.read().get(name).cloned()
    }

    /// Do new connections start authenticated (the default user is on and needs no password)?
    pub fn default_open(&self) -> bool {
        self.get(b"default").is_some_and(|u| u.enabled && u.nopass)
    }

    fn replace(&self, users: BTreeMap<String, User>) {
        let users = users.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        *self.write() = users;
        self.bump();
    }

    /// Re-read the connection's user if anything changed since it last looked.
    pub fn refresh(&self, c: &mut ConnAcl) {
        let generation = self.generation();
        if c.generation == generation && c.user.is_some() {
            return;
        }
        if let Some(u) = self.read().get(&c.name) {
            c.user = Some(u.clone());
        }
        c.open = c.user.as_ref().is_some_and(|u| u.unrestricted());
        c.generation = generation;
    }

    /// `requirepass` changed (CONFIG SET): the default user's password becomes it.
    pub fn apply_config(&self, cfg: &Config, changed: &[(Bytes, Bytes)]) {
        let is = |n: &str| {
            changed
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(n.as_bytes()))
        };
        if is("requirepass") {
            let mut users = self.write();
            let mut d = users
                .get("default")
                .map(|u| User::clone(u))
                .unwrap_or_else(User::default_user);
            d.passwords.clear();
            match &cfg.requirepass {
                Some(p) => {
                    d.nopass = false;
                    d.passwords.push(rules::sha256_hex(p.as_bytes()));
                }
                None => d.nopass = true,
            }
            users.insert("default".into(), Arc::new(d));
            drop(users);
            self.bump();
        }
        if is("acllog-max-len") {
            self.log_max.store(cfg.acllog_max_len, Ordering::Relaxed);
            self.log_lock().trim(cfg.acllog_max_len);
        }
    }

    fn log_lock(&self) -> std::sync::MutexGuard<'_, log::AclLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add an ACL LOG entry.
    pub fn log_denial(
        &self,
        reason: &'static str,
        context: &'static str,
        object: String,
        username: String,
        client_info: String,
    ) {
        let max = self.log_max.load(Ordering::Relaxed);
        self.log_lock()
            .add(reason, context, object, username, client_info, max);
    }

    /// Log a refused command and give the object Redis logs for it.
    fn log_refusal(
        &self,
        d: Denied,
        spec: &CommandSpec,
        args: &[Bytes],
        context: &'static str,
        user: &str,
        client_info: String,
    ) {
        let (reason, object) = match d {
            Denied::Cmd => ("command", spec.name.to_string()),
            Denied::Key(i) => ("key", arg_text(args, i)),
            Denied::Channel(i) => ("channel", arg_text(args, i)),
        };
        self.log_denial(reason, context, object, user.to_string(), client_info);
    }

    /// `redis.call` permission check for a script's user: the error text, logged, or None.
    pub fn script_check(
        &self,
        caller: &ScriptCaller,
        spec: &'static CommandSpec,
        args: &[Bytes],
    ) -> Option<String> {
        if caller.user.unrestricted() {
            return None;
        }
        let d = caller.user.check(spec, args).err()?;
        self.log_refusal(
            d,
            spec,
            args,
            "lua",
            &caller.user.name,
            caller.client_info.clone(),
        );
        Some(
            match d {
                Denied::Cmd => {
                    "ERR The user executing the script can't run this command or subcommand"
                }
                Denied::Key(_) => {
                    "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
                }
                Denied::Channel(_) => {
                    "ERR The user executing the script can't publish to the channel mentioned in the command"
                }
            }
            .to_string(),
        )
    }
}

fn arg_text(args: &[Bytes], i: usize) -> String {
    args.get(i)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .unwrap_or_default()
}

/// The NOPERM text of a denial (redis-server 7.0).
fn noperm(d: Denied, spec: &CommandSpec) -> String {
    match d {
        Denied::Cmd => format!(
            "NOPERM this user has no permissions to run the '{}' command",
            spec.name
        ),
        Denied::Key(_) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments".into()
        }
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into()
        }
    }
}

/// Protected mode: refuse a client from a non-loopback address while the default user needs
/// no password (`clientAcceptHandlerCommon`). Returns the error to send before closing.
pub(crate) fn protected_refusal(
    shared: &crate::shared::Shared,
    cfg: &Config,
    conn: &Conn,
) -> Option<Reply> {
    if !cfg.protected_mode {
        return None;
    }
    let ip = conn.addr?.ip();
    let local = match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    if local || !shared.acl.get(b"default").is_some_and(|u| u.nopass) {
        return None;
    }
    Some(err(DENIED))
}

/// Random lowercase hex, `chars` long, from the OS generator.
fn random_hex(chars: usize) -> String {
    let mut bytes = vec![0u8; chars.div_ceil(2)];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if filled.is_err() {
        // Never hand out a predictable password silently: mix the clock at least.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let h = rules::sha256_hex(&seed.to_le_bytes());
        return h.chars().cycle().take(chars).collect();
    }
    let mut s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(chars);
    s
}

impl Worker {
    /// The permission gate, after the NOAUTH gate: true if `args` was refused (and answered).
    /// Callers skip it when `conn.acl.is_open(..)`.
    pub(crate) fn acl_refuse(&mut self, conn: &mut Conn, args: &[Bytes]) -> bool {
        self.shared.acl.refresh(&mut conn.acl);
        if conn.acl.open {
            return false;
        }
        let Some(user) = conn.acl.user.clone() else {
            return false;
        };
        // Unknown commands and arity errors are reported by the parser first, as in Redis.
        let Ok(spec) = resolve(args) else {
            return false;
        };
        if !spec.arity_ok(args.len()) {
            return false;
        }
        let Err(d) = user.check(spec, args) else {
            return false;
        };
        let context = if conn.multi.is_some() {
            "multi"
        } else {
            "toplevel"
        };
        let info = crate::conn_cmds::client_line(conn, spec.name);
        self.shared
            .acl
            .log_refusal(d, spec, args, context, &conn.acl.name, info);
        if let Some(m) = conn.multi.as_mut() {
            m.aborted = true;
        }
        self.stats.error_replies += 1;
        conn.reply(err(noperm(d, spec)));
        true
    }

    /// EXEC: re-check the queued commands of a restricted user, since its permissions may
    /// have changed after they were queued (Redis's `execCommand`); a refused one is
    /// answered in place with Redis's NOPERM text and logged (context `multi`).
    pub(crate) fn acl_recheck_exec(
        &mut self,
        conn: &mut Conn,
        mut multi: crate::multi::Multi,
    ) -> crate::multi::Multi {
        if multi.acl_args.is_empty() || multi.acl_args.len() != multi.queued.len() {
            return multi;
        }
        self.shared.acl.refresh(&mut conn.acl);
        let Some(user) = conn.acl.user.clone().filter(|u| !u.unrestricted()) else {
            return multi;
        };
        for (q, args) in multi.queued.iter_mut().zip(&multi.acl_args) {
            let Ok(spec) = resolve(args) else { continue };
            let Err(d) = user.check(spec, args) else {
                continue;
            };
            let info = crate::conn_cmds::client_line(conn, "exec");
            self.shared
                .acl
                .log_refusal(d, spec, args, "multi", &conn.acl.name, info);
            let reason = match d {
                Denied::Cmd => "no permission to execute the command or subcommand",
                Denied::Key(_) => "no permission to touch the specified keys",
                Denied::Channel(_) => {
                    "no permission to access one of the channels used as arguments"
                }
            };
            *q = crate::multi::Queued::Err(OpError::Other(format!(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
            )));
        }
        multi
    }

    /// The script caller for a command from `conn`: None when its user allows everything.
    pub(crate) fn acl_script_caller(&self, conn: &mut Conn) -> Option<ScriptCaller> {
        self.shared.acl.refresh(&mut conn.acl);
        if conn.acl.open {
            return None;
        }
        let user = conn.acl.user.clone()?;
        Some(ScriptCaller {
            user,
            client_info: crate::conn_cmds::client_line(conn, &conn.last_cmd),
        })
    }

    /// AUTH [user] pass, and HELLO's AUTH (`authCommand`, `ACLAuthenticateUser`); `command`
    /// (`AUTH` or `HELLO`) is the object a failure is logged with.
    pub(crate) fn acl_auth(
        &mut self,
        conn: &mut Conn,
        user: Option<&[u8]>,
        pass: &[u8],
        command: &'static str,
    ) -> Reply {
        let acl = &self.shared.acl;
        if user.is_none() && acl.get(b"default").is_none_or(|u| u.nopass) {
            return err(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            );
        }
        let name = user.unwrap_or(b"default");
        match acl.get(name) {
            Some(u) if u.enabled && u.password_ok(pass) => {
                conn.authed = true;
                conn.acl.name = u.name.clone();
                conn.acl.open = u.unrestricted();
                conn.acl.user = Some(u);
                conn.acl.generation = acl.generation();
                Reply::Ok
            }
            _ => {
                let context = if conn.multi.is_some() {
                    "multi"
                } else {
                    "toplevel"
                };
                let info = crate::conn_cmds::client_line(conn, &command.to_ascii_lowercase());
                acl.log_denial(
                    "auth",
                    context,
                    command.into(),
                    String::from_utf8_lossy(name).into_owned(),
                    info,
                );
                err(WRONGPASS)
            }
        }
    }

    /// RESET: back to the default user (`clientSetDefaultAuth`).
    pub(crate) fn acl_reset_conn(&mut self, conn: &mut Conn) {
        conn.acl = ConnAcl::default();
        conn.authed = self.shared.acl.default_open();
    }

    /// The ACL command. Returns true if it failed (error stats).
    pub(crate) fn acl_cmd(&mut self, conn: &mut Conn, cmd: AclCmd) -> bool {
        let reply = match cmd {
            AclCmd::Help => acl_help(),
            AclCmd::WhoAmI => Reply::Bulk(Bytes::from(conn.acl.name.clone())),
            AclCmd::Users => Reply::Array(
                self.shared
                    .acl
                    .read()
                    .keys()
                    .map(|k| Reply::Bulk(Bytes::from(k.clone())))
                    .collect(),
            ),
            AclCmd::List => Reply::Array(
                file::render(self.shared.acl.read().values().map(|u| &**u))
                    .lines()
                    .map(|l| Reply::Bulk(Bytes::from(l.to_string())))
                    .collect(),
            ),
            AclCmd::Cat(None) => Reply::Array(
                ACL_NAMES
                    .iter()
                    .map(|(_, n)| Reply::Bulk(Bytes::from_static(n.as_bytes())))
                    .collect(),
            ),
            AclCmd::Cat(Some(name)) => cat(&name),
            AclCmd::GenPass(bits) => {
                Reply::Bulk(Bytes::from(random_hex((bits as usize).div_ceil(4))))
            }
            AclCmd::GetUser(name) => match self.shared.acl.get(&name) {
                None => Reply::Nil,
                Some(u) => getuser(&u),
            },
            AclCmd::SetUser { name, rules } => self.acl_setuser(conn, &name, &rules),
            AclCmd::DelUser(names) => {
                return self.acl_deluser(conn, names);
            }
            AclCmd::DryRun { user, args } => self.acl_dryrun(&user, &args),
            AclCmd::Log(count) => self.shared.acl.log_lock().reply(count.unwrap_or(10)),
            AclCmd::LogReset => {
                self.shared.acl.log_lock().reset();
                Reply::Ok
            }
            AclCmd::Save => {
                let path = self.shared.config().aclfile;
                if path.is_empty() {
                    err(NO_ACLFILE)
                } else {
                    let text = file::render(self.shared.acl.read().values().map(|u| &**u));
                    match file::save(&path, &text) {
                        Ok(()) => Reply::Ok,
                        Err(e) => {
                            tracing::warn!("{e}");
                            err(
                                "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
                            )
                        }
                    }
                }
            }
            AclCmd::Load => {
                let path = self.shared.config().aclfile;
                if path.is_empty() {
                    err(NO_ACLFILE)
                } else {
                    match file::load(&path) {
                        Err(e) => err(format!("ERR {e}")),
                        Ok(users) => {
                            self.shared.acl.replace(users);
                            // Redis frees every old user, killing their clients; the default
                            // user is updated in place.
                            self.kill_users(conn, None);
                            return false;
                        }
                    }
                }
            }
        };
        let failed = reply.is_err();
        conn.reply(reply);
        failed
    }

    fn acl_setuser(&mut self, conn: &mut Conn, name: &[u8], rules: &[Bytes]) -> Reply {
        if name.iter().any(|&b| b == b' ' || b == 0) {
            return err("ERR Usernames can't contain spaces or null characters");
        }
        let merged = match rules::merge_selector_args(rules) {
            Ok(m) => m,
            Err(opener) => {
                return err(format!(
                    "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                    String::from_utf8_lossy(&opener)
                ));
            }
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let acl = &self.shared.acl;
        let mut users = acl.write();
        let base = users
            .get(&name)
            .map(|u| User::clone(u))
            .unwrap_or_else(|| User::new(&name));
        match rules::apply_all(&base, &merged) {
            Ok(u) => {
                let narrowed = u.channel_rules() != base.channel_rules();
                let u = Arc::new(u);
                users.insert(name.clone(), u.clone());
                drop(users);
                acl.bump();
                if narrowed {
                    // `ACLKillPubsubClientsIfNeeded`: subscribers to channels the user may
                    // no longer access are disconnected.
                    let hit = move |c: &Conn| {
                        c.acl.name == name && c.subs.any_refused(|ch, p| u.channel_allowed(ch, p))
                    };
                    self.kill_where(conn, Arc::new(hit));
                }
                Reply::Ok
            }
            Err((op, e)) => err(format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                String::from_utf8_lossy(&op),
                e.text()
            )),
        }
    }

    fn acl_deluser(&mut self, conn: &mut Conn, names: Vec<Bytes>) -> bool {
        let mut deleted = Vec::new();
        let mut refusal = None;
        {
            let mut users = self.shared.acl.write();
            for n in &names {
                if n.as_ref() == b"default" {
                    refusal = Some(err("ERR The 'default' user cannot be removed"));
                    break;
                }
                let key = String::from_utf8_lossy(n).into_owned();
                if users.remove(&key).is_some() {
                    deleted.push(key);
                }
            }
        }
        if !deleted.is_empty() {
            self.shared.acl.bump();
        }
        if let Some(r) = refusal {
            // Users removed before `default` stay removed, as in Redis; their clients go too.
            if !deleted.is_empty() {
                self.kill_users_quiet(conn, deleted);
            }
            conn.reply(r);
            return true;
        }
        self.kill_users(conn, Some(deleted));
        false
    }

    /// Close every connection of the users in `names` (all but default's when None) on every
    /// shard; replies with the number of deleted users (`names.len()`) or OK (ACL LOAD).
    fn kill_users(&mut self, conn: &mut Conn, names: Option<Vec<String>>) {
        let count = names.as_ref().map(|n| n.len() as i64);
        let hit = |c: &Conn, names: &Option<Vec<String>>| match names {
            Some(n) => n.contains(&c.acl.name),
            None => c.acl.name != "default",
        };
        if hit(conn, &names) {
            conn.close_after_flush = true;
        }
        let me = conn.id;
        self.broadcast(
            conn,
            move || {
                let names = names.clone();
                Box::new(move |w: &mut Worker| {
                    let victims: Vec<usize> = w
                        .conns
                        .values()
                        .filter(|c| c.id != me && hit(c, &names))
                        .map(|c| c.token)
                        .collect();
                    for t in victims {
                        w.close_conn(t);
                    }
                    Box::new(()) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |_parts: Vec<Part>| match count {
                Some(n) => Reply::Int(n),
                None => Reply::Ok,
            }),
        );
    }

    /// Close the users' connections on every shard without a reply of its own.
    fn kill_users_quiet(&mut self, conn: &mut Conn, names: Vec<String>) {
        self.kill_where(conn, Arc::new(move |c: &Conn| names.contains(&c.acl.name)));
    }

    /// Close every connection `hit` selects, on every shard (`conn` after its reply).
    fn kill_where(&mut self, conn: &mut Conn, hit: Arc<dyn Fn(&Conn) -> bool + Send + Sync>) {
        if hit(conn) {
            conn.close_after_flush = true;
        }
        let me = conn.id;
        for s in 0..self.shared.shards() {
            let hit = hit.clone();
            let f: crate::mailbox::CallFn = Box::new(move |w: &mut Worker| {
                let victims: Vec<usize> = w
                    .conns
                    .values()
                    .filter(|c| c.id != me && hit(c))
                    .map(|c| c.token)
                    .collect();
                for t in victims {
                    w.close_conn(t);
                }
                Box::new(()) as Box<dyn std::any::Any + Send>
            });
            if s == self.id {
                f(self);
            } else {
                self.post(s, f);
            }
        }
    }

    fn acl_dryrun(&mut self, user: &[u8], args: &[Bytes]) -> Reply {
        let Some(u) = self.shared.acl.get(user) else {
            return err(format!(
                "ERR User '{}' not found",
                String::from_utf8_lossy(user)
            ));
        };
        let spec = match resolve(args) {
            Ok(s) => s,
            Err(_) => {
                return err(format!(
                    "ERR Command '{}' not found",
                    args.first()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .unwrap_or_default()
                ));
            }
        };
        if !spec.arity_ok(args.len()) {
            return err(format!(
                "ERR wrong number of arguments for '{}' command",
                spec.name
            ));
        }
        match u.check(spec, args) {
            Ok(()) => Reply::Ok,
            Err(Denied::Cmd) => Reply::Bulk(Bytes::from(format!(
                "This user has no permissions to run the '{}' command",
                spec.name
            ))),
            Err(Denied::Key(i)) => Reply::Bulk(Bytes::from(format!(
                "This user has no permissions to access the '{}' key",
                arg_text(args, i)
            ))),
            Err(Denied::Channel(i)) => Reply::Bulk(Bytes::from(format!(
                "This user has no permissions to access the '{}' channel",
                arg_text(args, i)
            ))),
        }
    }
}

/// ACL CAT category: every command and subcommand in it.
fn cat(name: &[u8]) -> Reply {
    let Some(&(bit, _)) = ACL_NAMES
        .iter()
        .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
    else {
        return err(format!(
            "ERR Unknown category '{}'",
            String::from_utf8_lossy(name)
        ));
    };
    let idx = user::index();
    let mut out = Vec::new();
    for &top in &idx.tops {
        for id in std::iter::once(top).chain(idx.subs[top].iter().copied()) {
            let spec = idx.specs[id];
            if spec.acl_categories() & bit != 0 {
                out.push(Reply::Bulk(Bytes::from_static(spec.name.as_bytes())));
            }
        }
    }
    Reply::Array(out)
}

/// ACL GETUSER's map.
fn getuser(u: &User) -> Reply {
    let k = |s: &'static str| Reply::Bulk(Bytes::from_static(s.as_bytes()));
    let b = |s: String| Reply::Bulk(Bytes::from(s));
    let selector = |s: &user::Selector| {
        vec![
            (k("commands"), b(rules::describe_commands(s))),
            (k("keys"), b(rules::describe_keys(s))),
            (k("channels"), b(rules::describe_channels(s))),
        ]
    };
    let mut map = vec![
        (
            k("flags"),
            Reply::Set(rules::flag_names(u).into_iter().map(k).collect()),
        ),
        (
            k("passwords"),
            Reply::Array(u.passwords.iter().map(|p| b(p.clone())).collect()),
        ),
    ];
    map.extend(selector(&u.root));
    map.push((
        k("selectors"),
        Reply::Array(
            u.selectors
                .iter()
                .map(|s| Reply::Map(selector(s)))
                .collect(),
        ),
    ));
    Reply::Map(map)
}
