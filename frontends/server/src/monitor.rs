//! Per-command observation (SLOWLOG, LATENCY monitor, MONITOR feed, INFO errorstats) and the
//! execution of the operability commands (SLOWLOG, LATENCY, MONITOR; MEMORY and CONFIG
//! REWRITE are delegated to `memory_cmds.rs`).
//!
//! Invariants:
//! - [`Worker::observe`] runs once per executed command. When the slow log does not catch the
//!   command, the latency monitor is off and no MONITOR client exists, it costs three relaxed
//!   atomic loads and compares; everything else is behind a cold call.
//! - Thresholds and the MONITOR census are process-wide atomics (one server per process),
//!   written at start-up and by CONFIG SET / MONITOR; no lock is taken per command unless a
//!   MONITOR client exists.
//! - A MONITOR client is registered on its own shard (`Observe::monitors`); other shards
//!   send it the lines of their commands with a `Msg::Call`, so lines of one shard arrive in
//!   order (lines of different shards interleave as they execute).
//! - Error counts (INFO errorstats) are per shard thread (a thread-local), summed by INFO.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};
use moon_resp::commands::OpsCmd;
use moon_resp::commands::table::{ADMIN, FAST, READONLY, SKIP_MONITOR, SKIP_SLOWLOG, WRITE};

use crate::conn::{Conn, Part};
use crate::driver::ConnToken;
use crate::latency::{Histogram, Monitor as EventLog};
use crate::slowlog::{Entry, SlowLog};
use crate::worker::Worker;

/// `slowlog-log-slower-than` (µs, -1 = off).
static SLOWER_THAN: AtomicI64 = AtomicI64::new(10_000);
/// `slowlog-max-len`.
static SLOWLOG_MAX: AtomicUsize = AtomicUsize::new(128);
/// `latency-monitor-threshold` (ms, 0 = off).
static LATENCY_MS: AtomicU64 = AtomicU64::new(0);
/// MONITOR clients on all shards.
static MONITORS: AtomicUsize = AtomicUsize::new(0);
/// MONITOR clients per shard (read only while `MONITORS > 0`).
static MONITOR_SHARDS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

thread_local! {
    /// This shard thread's error replies by prefix (INFO errorstats).
    static ERRORS: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
    /// MONITOR lines of commands scripts ran on this thread, fed after the script's own line.
    static SCRIPT_LINES: RefCell<Vec<Bytes>> = const { RefCell::new(Vec::new()) };
}

/// Note a command a Lua script runs (`redis.call`), for MONITOR as `[db lua]`.
pub fn note_script_call(db: usize, args: &[Bytes]) {
    if MONITORS.load(Relaxed) == 0 {
        return;
    }
    let flags = moon_resp::commands::resolve(args).map_or(0, |s| s.flags);
    if flags & (ADMIN | SKIP_MONITOR) == 0 {
        let line = monitor_line(db, "lua", &redact(args));
        SCRIPT_LINES.with(|l| l.borrow_mut().push(line));
    }
}

/// Redis stops tracking new error prefixes beyond this many (`ERROR_STATS_NUMBER`).
const MAX_ERROR_KINDS: usize = 128;

/// Per-shard observation state.
#[derive(Debug, Default)]
pub struct Observe {
    /// This shard's slow log.
    pub slowlog: SlowLog,
    /// This shard's LATENCY events.
    pub events: EventLog,
    /// MONITOR clients connected to this shard.
    monitors: Vec<ConnToken>,
}

/// Publish the observability parameters of `cfg` (start-up and CONFIG SET).
pub fn apply_config(cfg: &crate::config::Config, shards: usize) {
    SLOWER_THAN.store(cfg.slowlog_log_slower_than, Relaxed);
    SLOWLOG_MAX.store(
        usize::try_from(cfg.slowlog_max_len).unwrap_or(usize::MAX),
        Relaxed,
    );
    LATENCY_MS.store(cfg.latency_monitor_threshold, Relaxed);
    let mut per = MONITOR_SHARDS.lock().unwrap_or_else(|p| p.into_inner());
    if per.len() < shards {
        per.resize(shards, 0);
    }
}

/// A config integer in `[min, i64::MAX]`, with Redis's CONFIG SET error texts.
pub fn parse_ranged(value: &str, min: i64) -> anyhow::Result<i64> {
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("argument couldn't be parsed into an integer"))?;
    if n < min {
        anyhow::bail!("argument must be between {min} and 9223372036854775807 inclusive");
    }
    Ok(n)
}

/// `latency-tracking-info-percentiles`: space-separated numbers in [0, 100].
pub fn parse_percentiles(value: &str) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::new();
    for word in value.split_whitespace() {
        let p: f64 = word
            .parse()
            .map_err(|_| anyhow::anyhow!("Invalid latency-tracking-info-percentiles parameters"))?;
        if !(0.0..=100.0).contains(&p) {
            anyhow::bail!(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
            );
        }
        out.push(p);
    }
    Ok(out)
}

/// CONFIG GET's form of the percentiles ("50 99 99.9").
pub fn format_percentiles(ps: &[f64]) -> String {
    ps.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Count an error reply for INFO errorstats.
pub fn count_error(e: &OpError) {
    count_error_text(moon_resp::errors::error_text(e).as_bytes());
}

/// Count an error reply given by its text (`ERR ...`, `WRONGTYPE ...`).
pub fn count_error_text(text: &[u8]) {
    let end = text
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .unwrap_or(text.len());
    let prefix = String::from_utf8_lossy(&text[..end]);
    ERRORS.with(|m| {
        let mut m = m.borrow_mut();
        if let Some(n) = m.get_mut(prefix.as_ref()) {
            *n += 1;
        } else if m.len() < MAX_ERROR_KINDS {
            m.insert(prefix.into_owned(), 1);
        }
    });
}

/// This shard's error counts (INFO errorstats).
pub fn error_counts() -> Vec<(String, u64)> {
    ERRORS.with(|m| m.borrow().iter().map(|(k, v)| (k.clone(), *v)).collect())
}

/// Forget this shard's error counts (CONFIG RESETSTAT).
pub fn reset_errors() {
    ERRORS.with(|m| m.borrow_mut().clear());
}

/// The refusal of a keyspace command sent by a MONITOR client (Redis treats monitors as
/// replicas: "Replica can't interact with the keyspace").
pub fn monitor_rejects(args: &[Bytes]) -> Option<Reply> {
    let spec = moon_resp::commands::resolve(args).ok()?;
    if spec.flags & (READONLY | WRITE) != 0 {
        return Some(Reply::Err(OpError::Other(
            "ERR Replica can't interact with the keyspace".into(),
        )));
    }
    None
}

/// `args` with secrets replaced by `(redacted)`, as Redis redacts AUTH, HELLO AUTH, MIGRATE
/// AUTH/AUTH2, CONFIG SET of passwords and ACL SETUSER rules.
pub fn redact(args: &[Bytes]) -> Vec<Bytes> {
    let red = Bytes::from_static(b"(redacted)");
    let mut out = args.to_vec();
    let is = |i: usize, w: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    if is(0, "auth") {
        for a in out.iter_mut().skip(1) {
            *a = red.clone();
        }
    } else if is(0, "hello") {
        let mut i = 2;
        while i < args.len() {
            if is(i, "auth") {
                for a in out.iter_mut().skip(i + 1).take(2) {
                    *a = red.clone();
                }
                i += 3;
            } else {
                i += 1;
            }
        }
    } else if is(0, "migrate") {
        let mut i = 6;
        while i < args.len() {
            if is(i, "auth") {
                if let Some(a) = out.get_mut(i + 1) {
                    *a = red.clone();
                }
                i += 2;
            } else if is(i, "auth2") {
                for a in out.iter_mut().skip(i + 1).take(2) {
                    *a = red.clone();
                }
                i += 3;
            } else {
                i += 1;
            }
        }
    } else if is(0, "config") && is(1, "set") {
        let mut i = 2;
        while i + 1 < args.len() {
            if is(i, "requirepass") || is(i, "masterauth") || is(i, "masteruser") {
                out[i + 1] = red.clone();
            }
            i += 2;
        }
    } else if is(0, "acl") && is(1, "setuser") {
        for a in out.iter_mut().skip(3) {
            *a = red.clone();
        }
    }
    out
}

/// Redis's `sdscatrepr`: a double-quoted, escaped form of `arg`.
fn repr(arg: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// One MONITOR line, status-reply framed: `+<sec>.<usec> [<db> <source>] "arg" ...\r\n`.
/// `source` is the client's address, or `lua` for commands a script ran.
pub fn monitor_line(db: usize, source: &str, args: &[Bytes]) -> Bytes {
    monitor_line_at(std::time::SystemTime::now(), db, source, args)
}

/// [`monitor_line`] stamped with `at`.
fn monitor_line_at(at: std::time::SystemTime, db: usize, source: &str, args: &[Bytes]) -> Bytes {
    let now = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut out = format!(
        "+{}.{:06} [{db} {source}]",
        now.as_secs(),
        now.subsec_micros()
    )
    .into_bytes();
    for a in args {
        out.push(b' ');
        repr(a, &mut out);
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

/// Hand a MONITOR line to a connection, keeping reply order (as Pub/Sub pushes do).
fn push_line(conn: &mut Conn, line: &Bytes) {
    if conn.pending.is_empty() {
        conn.out.extend_from_slice(line);
    } else {
        let text = line
            .strip_prefix(b"+")
            .and_then(|l| l.strip_suffix(b"\r\n"))
            .unwrap_or(line);
        conn.reply(Reply::Simple(Bytes::copy_from_slice(text)));
    }
}

fn any(v: impl std::any::Any + Send) -> Box<dyn std::any::Any + Send> {
    Box::new(v)
}

fn take<T: 'static>(parts: Vec<Part>) -> Vec<T> {
    parts
        .into_iter()
        .filter_map(|p| match p {
            Part::Any(b) => b.downcast::<T>().ok().map(|b| *b),
            Part::Reply(_) => None,
        })
        .collect()
}

fn now_secs() -> u64 {
    crate::shared::now_ms() / 1000
}

impl Worker {
    /// Record one executed command (see the module invariants).
    #[inline]
    pub(crate) fn observe(&mut self, conn: &mut Conn, args: &[Bytes], usec: u64) {
        let slower = SLOWER_THAN.load(Relaxed);
        let slow = slower >= 0 && usec >= slower as u64;
        let lat_ms = LATENCY_MS.load(Relaxed);
        let lat = lat_ms > 0 && usec / 1000 >= lat_ms;
        let mon = MONITORS.load(Relaxed) > 0;
        if slow || lat || mon {
            self.observe_cold(conn, args, usec, (slow, lat, mon));
        }
    }

    #[cold]
    #[inline(never)]
    fn observe_cold(
        &mut self,
        conn: &mut Conn,
        args: &[Bytes],
        usec: u64,
        (slow, lat, mon): (bool, bool, bool),
    ) {
        let flags = moon_resp::commands::resolve(args).map_or(0, |s| s.flags);
        let argv = redact(args);
        let addr = conn.addr.map(|a| a.to_string()).unwrap_or_default();
        if slow && flags & SKIP_SLOWLOG == 0 {
            let name = conn.name.clone().unwrap_or_default();
            self.observe.slowlog.push(
                &argv,
                usec,
                Bytes::from(addr.clone()),
                name,
                SLOWLOG_MAX.load(Relaxed),
            );
        }
        if lat {
            let event = if flags & FAST != 0 {
                "fast-command"
            } else {
                "command"
            };
            self.observe.events.add(event, now_secs(), usec / 1000);
        }
        if mon {
            let script_lines = SCRIPT_LINES.with(|l| std::mem::take(&mut *l.borrow_mut()));
            // Scripts are flagged skip_monitor, yet Redis shows EVAL/FCALL before the
            // commands they ran.
            let script = flags & SKIP_MONITOR != 0
                && [
                    &b"eval"[..],
                    b"evalsha",
                    b"eval_ro",
                    b"evalsha_ro",
                    b"fcall",
                    b"fcall_ro",
                ]
                .iter()
                .any(|n| args.first().is_some_and(|a| a.eq_ignore_ascii_case(n)));
            if flags & ADMIN == 0 && (flags & SKIP_MONITOR == 0 || script) {
                // A script's own line is stamped with its start, before its commands' lines.
                let at = if script {
                    std::time::SystemTime::now()
                        .checked_sub(std::time::Duration::from_micros(usec))
                        .unwrap_or_else(std::time::SystemTime::now)
                } else {
                    std::time::SystemTime::now()
                };
                let line = monitor_line_at(at, conn.db, &addr, &argv);
                if conn.monitor {
                    push_line(conn, &line);
                }
                self.feed_monitors(Some(conn.token), line);
            }
            for line in script_lines {
                if conn.monitor {
                    push_line(conn, &line);
                }
                self.feed_monitors(Some(conn.token), line);
            }
        }
    }

    /// Record a LATENCY monitor event (snapshot slices, WAL fsyncs ...) if over the threshold.
    pub(crate) fn latency_event(&mut self, event: &str, ms: u64) {
        let threshold = LATENCY_MS.load(Relaxed);
        if threshold > 0 && ms >= threshold {
            self.observe.events.add(event, now_secs(), ms);
        }
    }

    /// Deliver `line` to every MONITOR client: this shard's directly (except `skip`, the
    /// connection being executed, which the caller served), the others' through their
    /// mailboxes.
    fn feed_monitors(&mut self, skip: Option<ConnToken>, line: Bytes) {
        self.deliver_monitor_line(skip, &line);
        let per = MONITOR_SHARDS
            .lock()
            .map(|v| v.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        for (s, &n) in per.iter().enumerate() {
            if n == 0 || s == self.id || s >= self.outboxes.len() {
                continue;
            }
            let line = line.clone();
            self.post(
                s,
                Box::new(move |w: &mut Worker| {
                    w.deliver_monitor_line(None, &line);
                    any(())
                }),
            );
        }
    }

    fn deliver_monitor_line(&mut self, skip: Option<ConnToken>, line: &Bytes) {
        for i in 0..self.observe.monitors.len() {
            let token = self.observe.monitors[i];
            if Some(token) == skip {
                continue;
            }
            if let Some(c) = self.conns.get_mut(&token) {
                push_line(c, line);
                self.dirty.push(token);
            }
        }
    }

    /// Leave MONITOR mode (RESET, disconnect).
    pub(crate) fn monitor_forget(&mut self, conn: &mut Conn) {
        if !conn.monitor {
            return;
        }
        conn.monitor = false;
        self.observe.monitors.retain(|&t| t != conn.token);
        MONITORS.fetch_sub(1, Relaxed);
        let mut per = MONITOR_SHARDS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per.get_mut(self.id) {
            *n = n.saturating_sub(1);
        }
    }

    fn monitor_start(&mut self, conn: &mut Conn) {
        if conn.capture.is_some() {
            // Inside EXEC: a client that expects one reply per command cannot stream.
            conn.reply(Reply::Err(OpError::Other(
                "ERR MONITOR isn't allowed for DENY BLOCKING client".into(),
            )));
            return;
        }
        if conn.monitor {
            // As Redis: a second MONITOR is ignored without a reply.
            return;
        }
        conn.monitor = true;
        self.observe.monitors.push(conn.token);
        {
            let mut per = MONITOR_SHARDS.lock().unwrap_or_else(|p| p.into_inner());
            if per.len() <= self.id {
                per.resize(self.id + 1, 0);
            }
            per[self.id] += 1;
        }
        MONITORS.fetch_add(1, Relaxed);
        conn.reply(Reply::Ok);
    }

    /// SLOWLOG, LATENCY, MONITOR, MEMORY ..., CONFIG REWRITE. Returns true if it failed.
    pub(crate) fn ops_cmd(&mut self, conn: &mut Conn, cmd: OpsCmd) -> bool {
        let reply = match cmd {
            OpsCmd::Monitor => {
                self.monitor_start(conn);
                return false;
            }
            OpsCmd::SlowlogGet(count) => {
                self.broadcast(
                    conn,
                    move || Box::new(move |w: &mut Worker| any(w.observe.slowlog.newest(count))),
                    Box::new(move |parts| {
                        let all: Vec<Entry> = take::<Vec<Entry>>(parts).concat();
                        crate::slowlog::merge(all, count)
                    }),
                );
                return false;
            }
            OpsCmd::SlowlogLen => {
                self.broadcast(
                    conn,
                    || Box::new(|w: &mut Worker| any(w.observe.slowlog.len())),
                    Box::new(|parts| Reply::Int(take::<usize>(parts).iter().sum::<usize>() as i64)),
                );
                return false;
            }
            OpsCmd::SlowlogReset => {
                self.broadcast(
                    conn,
                    || {
                        Box::new(|w: &mut Worker| {
                            w.observe.slowlog.reset();
                            any(())
                        })
                    },
                    Box::new(|_| Reply::Ok),
                );
                return false;
            }
            OpsCmd::LatencyReset(events) => {
                let names: Vec<String> = events
                    .iter()
                    .map(|e| String::from_utf8_lossy(e).into_owned())
                    .collect();
                self.broadcast(
                    conn,
                    move || {
                        let names = names.clone();
                        Box::new(move |w: &mut Worker| {
                            let event_names = |w: &Worker| -> Vec<String> {
                                w.observe
                                    .events
                                    .events
                                    .iter()
                                    .map(|e| e.0.clone())
                                    .collect()
                            };
                            let before = event_names(w);
                            w.observe.events.reset(&names);
                            let after = event_names(w);
                            any(before
                                .into_iter()
                                .filter(|n| !after.contains(n))
                                .collect::<Vec<String>>())
                        })
                    },
                    Box::new(|parts| {
                        let mut gone: Vec<String> = take::<Vec<String>>(parts).concat();
                        gone.sort_unstable();
                        gone.dedup();
                        Reply::Int(gone.len() as i64)
                    }),
                );
                return false;
            }
            OpsCmd::LatencyLatest
            | OpsCmd::LatencyHistory(_)
            | OpsCmd::LatencyGraph(_)
            | OpsCmd::LatencyDoctor => {
                let proto = conn.proto;
                let enabled = LATENCY_MS.load(Relaxed) > 0;
                self.broadcast(
                    conn,
                    || Box::new(|w: &mut Worker| any(w.observe.events.clone())),
                    Box::new(move |parts| {
                        let mut all = EventLog::default();
                        for m in take::<EventLog>(parts) {
                            all.merge(&m);
                        }
                        crate::latency::event_reply(&cmd, &all, enabled, proto)
                    }),
                );
                return false;
            }
            OpsCmd::LatencyHistogram(names) => {
                let wanted: Vec<String> = names
                    .iter()
                    .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
                    .collect();
                self.broadcast(
                    conn,
                    move || {
                        let wanted = wanted.clone();
                        Box::new(move |w: &mut Worker| {
                            let v: Vec<(String, Histogram)> = w
                                .stats
                                .cmdstats
                                .iter()
                                .filter(|(n, s)| {
                                    s.hist.count() > 0
                                        && (wanted.is_empty() || wanted.iter().any(|x| x == *n))
                                })
                                .map(|(n, s)| (n.clone(), s.hist.clone()))
                                .collect();
                            any(v)
                        })
                    },
                    Box::new(|parts| {
                        crate::latency::histogram_reply(take::<Vec<(String, Histogram)>>(parts))
                    }),
                );
                return false;
            }
            OpsCmd::MemoryStats
            | OpsCmd::MemoryDoctor
            | OpsCmd::MemoryMallocStats
            | OpsCmd::MemoryPurge => return self.memory_cmd(conn, cmd),
            OpsCmd::ConfigRewrite => crate::memory_cmds::config_rewrite(&self.shared.config()),
        };
        let failed = reply.is_err();
        conn.reply(reply);
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: &[&str]) -> Vec<Bytes> {
        v.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn redaction_like_redis() {
        assert_eq!(
            redact(&b(&["AUTH", "u", "p"])),
            b(&["AUTH", "(redacted)", "(redacted)"])
        );
        assert_eq!(
            redact(&b(&["hello", "3", "AUTH", "u", "p", "SETNAME", "n"])),
            b(&[
                "hello",
                "3",
                "AUTH",
                "(redacted)",
                "(redacted)",
                "SETNAME",
                "n"
            ])
        );
        assert_eq!(
            redact(&b(&[
                "config",
                "set",
                "requirepass",
                "x",
                "maxclients",
                "5"
            ])),
            b(&[
                "config",
                "set",
                "requirepass",
                "(redacted)",
                "maxclients",
                "5"
            ])
        );
        assert_eq!(redact(&b(&["get", "k"])), b(&["get", "k"]));
    }

    #[test]
    fn monitor_lines_escape_like_sdscatrepr() {
        let line = monitor_line(
            3,
            "127.0.0.1:5",
            &[Bytes::from("SET"), Bytes::from(&b"a\nb\"\\\xff"[..])],
        );
        let text = String::from_utf8_lossy(&line);
        assert!(text.starts_with('+'), "{text}");
        assert!(
            text.ends_with(" [3 127.0.0.1:5] \"SET\" \"a\\nb\\\"\\\\\\xff\"\r\n"),
            "{text}"
        );
        let (_, ts) = text.split_once('+').unwrap_or_default();
        let ts = ts.split(' ').next().unwrap_or_default();
        assert_eq!(ts.split('.').nth(1).map(str::len), Some(6));
    }

    #[test]
    fn config_values_parse_with_redis_errors() {
        assert_eq!(parse_ranged("-1", -1).ok(), Some(-1));
        assert_eq!(
            parse_ranged("-2", -1)
                .map_err(|e| e.to_string())
                .err()
                .as_deref(),
            Some("argument must be between -1 and 9223372036854775807 inclusive")
        );
        assert!(parse_ranged("x", 0).is_err());
        assert_eq!(
            parse_percentiles("50 99 99.9").ok(),
            Some(vec![50.0, 99.0, 99.9])
        );
        assert!(parse_percentiles("101").is_err());
        assert_eq!(format_percentiles(&[50.0, 99.0, 99.9]), "50 99 99.9");
        assert_eq!(parse_percentiles("").ok(), Some(vec![]));
    }

    #[test]
    fn error_prefixes_are_counted() {
        reset_errors();
        count_error_text(b"ERR syntax error");
        count_error_text(b"WRONGTYPE Operation");
        count_error_text(b"ERR x");
        let mut c = error_counts();
        c.sort();
        assert_eq!(c, vec![("ERR".into(), 2), ("WRONGTYPE".into(), 1)]);
        reset_errors();
        assert!(error_counts().is_empty());
    }
}
