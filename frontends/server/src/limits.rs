//! Client limits on output: `client-output-buffer-limit` (Redis's syntax, classes and
//! defaults) and its enforcement, plus the INFO "recent max buffer" figures.
//!
//! A connection's pending output is its encoded `out` plus, while a send is in flight, the
//! buffer the driver holds. A class's hard limit closes the client as soon as the pending
//! output exceeds it; its soft limit closes it once exceeded continuously for `soft_secs`
//! seconds. Limits of 0 disable that bound (the `normal` class default).
//!
//! Invariants:
//! - [`Guard::floor`] is the smallest non-zero bound of any class: below it no client can be
//!   over a limit, so the per-flush check is one comparison (plus a test of the soft-limit
//!   timer, set only while a client is over a soft limit).
//! - Class of a connection: `pubsub` while it has subscriptions, else `normal` (Moon has no
//!   replicas; the `replica` limits are kept and reported only).

use std::time::Instant;

use crate::conn::Conn;

/// One class's limits, in bytes and seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassLimit {
    /// Close at once above this many bytes (0 = no hard limit).
    pub hard: u64,
    /// Close when above this many bytes for `soft_secs` (0 = no soft limit).
    pub soft: u64,
    /// Seconds over the soft limit tolerated.
    pub soft_secs: u64,
}

impl ClassLimit {
    const fn new(hard: u64, soft: u64, soft_secs: u64) -> ClassLimit {
        ClassLimit {
            hard,
            soft,
            soft_secs,
        }
    }
}

/// `client-output-buffer-limit`: the limits of every client class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Ordinary clients (default `0 0 0`: unlimited).
    pub normal: ClassLimit,
    /// Replicas (`slave` in CONFIG GET; default `256mb 64mb 60`).
    pub replica: ClassLimit,
    /// Pub/Sub subscribers (default `32mb 8mb 60`).
    pub pubsub: ClassLimit,
}

impl Default for OutputLimits {
    fn default() -> Self {
        OutputLimits {
            normal: ClassLimit::new(0, 0, 0),
            replica: ClassLimit::new(256 << 20, 64 << 20, 60),
            pubsub: ClassLimit::new(32 << 20, 8 << 20, 60),
        }
    }
}

/// Redis's error texts (config.c `setConfigClientOutputBufferLimitOption`).
const WRONG_ARGS: &str = "Wrong number of arguments in buffer limit configuration.";
const BAD_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
const BAD_VALUE: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

impl OutputLimits {
    /// Applies a value `<class> <hard> <soft> <soft_seconds> ...` to the classes it names,
    /// all or nothing. Classes: `normal`, `replica`/`slave`, `pubsub` (any case).
    pub fn apply(&mut self, value: &str) -> Result<(), &'static str> {
        let words: Vec<&str> = value.split_whitespace().collect();
        if !words.len().is_multiple_of(4) {
            return Err(WRONG_ARGS);
        }
        let mut next = *self;
        for w in words.chunks(4) {
            let [class, hard, soft, secs] = w else {
                return Err(WRONG_ARGS);
            };
            let slot = match class.to_ascii_lowercase().as_str() {
                "normal" => &mut next.normal,
                "replica" | "slave" => &mut next.replica,
                "pubsub" => &mut next.pubsub,
                _ => return Err(BAD_CLASS),
            };
            let hard = crate::config::parse_memory(hard).ok_or(BAD_VALUE)?;
            let soft = crate::config::parse_memory(soft).ok_or(BAD_VALUE)?;
            let secs = secs.parse::<i64>().ok().and_then(|s| u64::try_from(s).ok());
            *slot = ClassLimit::new(hard, soft, secs.ok_or(BAD_VALUE)?);
        }
        *self = next;
        Ok(())
    }

    /// The CONFIG GET form: `normal 0 0 0 slave 268435456 67108864 60 pubsub ...`.
    pub fn config_value(&self) -> String {
        [
            ("normal", self.normal),
            ("slave", self.replica),
            ("pubsub", self.pubsub),
        ]
        .iter()
        .map(|(name, l)| format!("{name} {} {} {}", l.hard, l.soft, l.soft_secs))
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// A worker's copy of the output limits, refreshed on CONFIG SET.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Guard {
    /// The limits.
    pub limits: OutputLimits,
    /// The smallest non-zero bound of the classes a Moon client can be in.
    pub floor: usize,
}

impl Guard {
    /// From the configured limits.
    pub fn new(limits: OutputLimits) -> Guard {
        let floor = [limits.normal, limits.pubsub]
            .iter()
            .flat_map(|l| [l.hard, l.soft])
            .filter(|&b| b > 0)
            .min()
            .map_or(usize::MAX, |b| usize::try_from(b).unwrap_or(usize::MAX));
        Guard { limits, floor }
    }
}

/// CONFIG SET: this worker's copies of the client limits.
pub(crate) fn apply_config(w: &mut crate::worker::Worker, cfg: &crate::config::Config) {
    w.obuf = Guard::new(cfg.client_output_buffer_limit);
    w.limits.client_query_buffer_limit =
        usize::try_from(cfg.client_query_buffer_limit).unwrap_or(usize::MAX);
}

/// Bytes a connection has produced that the peer has not taken yet.
#[inline]
pub(crate) fn pending_output(conn: &Conn) -> usize {
    conn.out.len() + if conn.sending { conn.inflight } else { 0 }
}

/// The limits of the connection's class.
pub(crate) fn class_of<'a>(conn: &Conn, limits: &'a OutputLimits) -> &'a ClassLimit {
    if conn.subs.active() {
        &limits.pubsub
    } else {
        &limits.normal
    }
}

/// True if a connection with `used` bytes of pending output must be closed under `limit`.
/// Keeps the connection's soft-limit timer: started when it goes over the soft limit, cleared
/// when it is back under.
pub(crate) fn exceeded(conn: &mut Conn, limit: &ClassLimit, used: usize) -> bool {
    let used = used as u64;
    if limit.hard > 0 && used > limit.hard {
        return true;
    }
    if limit.soft == 0 || used <= limit.soft {
        conn.obuf_soft_since = None;
        return false;
    }
    let since = *conn.obuf_soft_since.get_or_insert_with(Instant::now);
    since.elapsed().as_secs() >= limit.soft_secs
}

/// The per-flush check (`flush_conns`): true if the connection was over its class's limit
/// and must be closed; logs it as Redis does.
#[inline]
pub(crate) fn check_flush(guard: &Guard, conn: &mut Conn) -> bool {
    let used = pending_output(conn);
    if used <= guard.floor && conn.obuf_soft_since.is_none() {
        return false;
    }
    over_on_flush(guard, conn, used)
}

#[cold]
fn over_on_flush(guard: &Guard, conn: &mut Conn, used: usize) -> bool {
    let limit = *class_of(conn, &guard.limits);
    if !exceeded(conn, &limit, used) {
        return false;
    }
    log_close(conn);
    true
}

/// Redis's log line for a client closed by its output buffer limits.
pub(crate) fn log_close(conn: &Conn) {
    tracing::warn!(
        "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
        crate::conn_cmds::client_line(conn, &conn.last_cmd)
    );
}

/// Redis's log line for a client closed by `client-query-buffer-limit`.
pub(crate) fn log_query_buffer_close(conn: &Conn) {
    let head = &conn.rbuf[..conn.rbuf.len().min(64)];
    tracing::warn!(
        "Closing client that reached max query buffer length: {} (qbuf initial bytes: {:?})",
        crate::conn_cmds::client_line(conn, &conn.last_cmd),
        String::from_utf8_lossy(head)
    );
}

/// This shard's largest query and output buffers now, for INFO's
/// `client_recent_max_input_buffer` / `client_recent_max_output_buffer`.
pub(crate) fn max_buffers<'a>(conns: impl Iterator<Item = &'a Conn>) -> (u64, u64) {
    conns.fold((0, 0), |(i, o), c| {
        (i.max(c.rbuf.len() as u64), o.max(pending_output(c) as u64))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_print_like_redis() {
        assert_eq!(
            OutputLimits::default().config_value(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
    }

    #[test]
    fn apply_changes_only_the_named_classes() {
        let mut l = OutputLimits::default();
        l.apply("NORMAL 1K 2KB 3 replica 1 2 3").unwrap();
        assert_eq!(
            l.config_value(),
            "normal 1000 2048 3 slave 1 2 3 pubsub 33554432 8388608 60"
        );
        l.apply("slave 1mb 2mb 4").unwrap();
        assert_eq!(l.replica, ClassLimit::new(1 << 20, 2 << 20, 4));
        l.apply("").unwrap();
        assert_eq!(l.replica, ClassLimit::new(1 << 20, 2 << 20, 4));
    }

    #[test]
    fn apply_is_all_or_nothing_with_redis_errors() {
        let mut l = OutputLimits::default();
        assert_eq!(l.apply("normal 1 2"), Err(WRONG_ARGS));
        assert_eq!(l.apply("pubsub 1 1 1 master 1 1 1"), Err(BAD_CLASS));
        assert_eq!(l.apply("bogus 1 2 3"), Err(BAD_CLASS));
        assert_eq!(l.apply("normal 1 1 -1"), Err(BAD_VALUE));
        assert_eq!(l.apply("normal 1mb 2xb 3"), Err(BAD_VALUE));
        assert_eq!(l.apply("normal 1mb 2mb x"), Err(BAD_VALUE));
        assert_eq!(l, OutputLimits::default());
    }

    #[test]
    fn floor_is_the_smallest_bound_of_normal_and_pubsub() {
        assert_eq!(Guard::new(OutputLimits::default()).floor, 8 << 20);
        let mut l = OutputLimits::default();
        l.apply("normal 100 0 0").unwrap();
        assert_eq!(Guard::new(l).floor, 100);
        l.apply("normal 0 0 0 pubsub 0 0 0").unwrap();
        assert_eq!(Guard::new(l).floor, usize::MAX);
    }

    #[test]
    fn hard_closes_at_once_soft_after_its_seconds() {
        let mut c = Conn::new(1, 1, true, moon_resp::limits::Limits::default());
        let hard = ClassLimit::new(100, 0, 0);
        assert!(!exceeded(&mut c, &hard, 100));
        assert!(exceeded(&mut c, &hard, 101));
        let soft = ClassLimit::new(0, 10, 0);
        assert!(exceeded(&mut c, &soft, 11), "0 seconds: at once");
        let soft = ClassLimit::new(0, 10, 60);
        c.obuf_soft_since = None;
        assert!(!exceeded(&mut c, &soft, 11));
        assert!(c.obuf_soft_since.is_some());
        assert!(!exceeded(&mut c, &soft, 5));
        assert!(c.obuf_soft_since.is_none(), "back under: timer cleared");
    }

    #[test]
    fn flush_check_counts_the_buffer_in_flight() {
        let guard = Guard::new({
            let mut l = OutputLimits::default();
            l.apply("normal 100 0 0").unwrap();
            l
        });
        let mut c = Conn::new(1, 1, true, moon_resp::limits::Limits::default());
        c.out.extend_from_slice(&[0; 60]);
        c.inflight = 60;
        assert!(
            !check_flush(&guard, &mut c),
            "in flight only counts while sending"
        );
        c.sending = true;
        assert!(check_flush(&guard, &mut c));
    }
}
