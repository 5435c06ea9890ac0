//! Server configuration: command-line flags (clap) over a redis.conf-style file, and the runtime
//! view that CONFIG GET/SET read and change.
//!
//! Precedence: built-in defaults < config file < command-line flags. Parameter names are Redis's
//! (`proto-max-bulk-len`, `requirepass` ...); Moon-only ones are `shards` and `io`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;

use moon_engine::keyspace::lfu::LfuParams;
use moon_engine::persist::FsyncPolicy;
use moon_engine::shard::{EvictionPolicy, ShardConfig, TypeLimits};

use crate::driver::IoBackend;

/// Command line of `moon`.
#[derive(Debug, Parser, Default)]
#[command(name = "moon", version, about = "Moon: a Redis-compatible data server")]
pub struct Cli {
    /// Optional config file in redis.conf syntax; flags override it.
    pub config_file: Option<PathBuf>,
    /// TCP port to listen on (default 6379).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to bind (default 127.0.0.1).
    #[arg(long)]
    pub bind: Option<String>,
    /// Number of shard threads (default: number of CPUs).
    #[arg(long)]
    pub shards: Option<usize>,
    /// I/O backend: uring (falls back to epoll if unavailable) or epoll.
    #[arg(long)]
    pub io: Option<String>,
    /// Data directory (default ./data).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Password of the default user.
    #[arg(long)]
    pub requirepass: Option<String>,
    /// Background task frequency (active expiry, timeouts), 1..500.
    #[arg(long)]
    pub hz: Option<u64>,
    /// Microseconds a shard polls without blocking before it sleeps (0: off).
    #[arg(long = "idle-poll-us")]
    pub idle_poll_us: Option<u64>,
    /// Move a connection to the shard its keys live on (yes|no).
    #[arg(long = "migrate-connections")]
    pub migrate_connections: Option<String>,
    /// Maximum size of a single bulk string / string value.
    #[arg(long = "proto-max-bulk-len")]
    pub proto_max_bulk_len: Option<String>,
    /// debug, verbose, notice or warning.
    #[arg(long)]
    pub loglevel: Option<String>,
    /// Log file ("" = stderr).
    #[arg(long)]
    pub logfile: Option<String>,
    /// Maximum number of connected clients.
    #[arg(long)]
    pub maxclients: Option<usize>,
    /// Close idle clients after this many seconds (0 = never).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// yes: log every write to the per-shard WAL (Redis's AOF switch).
    #[arg(long)]
    pub appendonly: Option<String>,
    /// always, everysec or no: when the WAL is fsynced.
    #[arg(long)]
    pub appendfsync: Option<String>,
    /// Snapshot rules "<seconds> <changes> ..." ("" = none), as redis.conf's `save`.
    #[arg(long, allow_hyphen_values = true)]
    pub save: Option<String>,
    /// strict (default: a corrupt WAL record stops start-up) or skip-corrupt.
    #[arg(long = "wal-recovery")]
    pub wal_recovery: Option<String>,
    /// Rotate WAL segments at this size (default 64mb).
    #[arg(long = "wal-segment-size")]
    pub wal_segment_size: Option<String>,
    /// Log commands slower than this many microseconds (-1 = off, 0 = all).
    #[arg(long = "slowlog-log-slower-than", allow_hyphen_values = true)]
    pub slowlog_log_slower_than: Option<String>,
    /// Slow log entries kept per shard.
    #[arg(long = "slowlog-max-len")]
    pub slowlog_max_len: Option<String>,
    /// LATENCY monitor threshold in milliseconds (0 = off).
    #[arg(long = "latency-monitor-threshold")]
    pub latency_monitor_threshold: Option<String>,
    /// yes/no: per-command latency histograms in INFO latencystats.
    #[arg(long = "latency-tracking")]
    pub latency_tracking: Option<String>,
    /// Percentiles INFO latencystats prints ("50 99 99.9").
    #[arg(long = "latency-tracking-info-percentiles")]
    pub latency_tracking_info_percentiles: Option<String>,
    /// Output limits per client class: "<class> <hard> <soft> <seconds> ..." (Redis syntax).
    #[arg(long = "client-output-buffer-limit", allow_hyphen_values = true)]
    pub client_output_buffer_limit: Option<String>,
    /// Largest query buffer of one client (default 1gb).
    #[arg(long = "client-query-buffer-limit")]
    pub client_query_buffer_limit: Option<String>,
    /// Port of the HTTP admin endpoint serving Prometheus /metrics (0 = off).
    #[arg(long = "admin-port")]
    pub admin_port: Option<u16>,
    /// Address the admin endpoint binds (default 127.0.0.1).
    #[arg(long = "admin-bind")]
    pub admin_bind: Option<String>,
    /// TLS port (0 = no TLS listener).
    #[arg(long = "tls-port")]
    pub tls_port: Option<u16>,
    /// Server certificate chain (PEM).
    #[arg(long = "tls-cert-file")]
    pub tls_cert_file: Option<String>,
    /// Server private key (PEM).
    #[arg(long = "tls-key-file")]
    pub tls_key_file: Option<String>,
    /// CA certificates that client certificates are verified against (PEM).
    #[arg(long = "tls-ca-cert-file")]
    pub tls_ca_cert_file: Option<String>,
    /// yes (client certificate required), optional or no.
    #[arg(long = "tls-auth-clients")]
    pub tls_auth_clients: Option<String>,
    /// File of ACL users, read at start-up and by ACL LOAD, written by ACL SAVE.
    #[arg(long)]
    pub aclfile: Option<String>,
    /// yes: refuse clients from non-loopback addresses while the default user has no password.
    #[arg(long = "protected-mode")]
    pub protected_mode: Option<String>,
    /// Entries the ACL LOG keeps.
    #[arg(long = "acllog-max-len")]
    pub acllog_max_len: Option<String>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listening port.
    pub port: u16,
    /// Bind address.
    pub bind: String,
    /// Shard threads.
    pub shards: usize,
    /// Wanted I/O backend.
    pub io: IoBackend,
    /// Data directory.
    pub dir: PathBuf,
    /// Default user's password (None = no auth).
    pub requirepass: Option<String>,
    /// Background frequency.
    pub hz: u64,
    /// `idle-poll-us` (Moon): how long an idle shard keeps polling before it blocks.
    pub idle_poll_us: u64,
    /// `migrate-connections` (Moon): move a connection whose keyed commands keep going to one
    /// other shard onto that shard (`migrate.rs`).
    pub migrate_connections: bool,
    /// `busy-reply-threshold` (alias `lua-time-limit`): milliseconds a script runs before
    /// other clients get BUSY.
    pub busy_reply_threshold_ms: u64,
    /// Max bulk length.
    pub proto_max_bulk_len: u64,
    /// Log level name (Redis's).
    pub loglevel: String,
    /// Log file, empty for stderr.
    pub logfile: String,
    /// Max clients.
    pub maxclients: usize,
    /// Idle timeout seconds (0 = off).
    pub timeout: u64,
    /// The config file, if any (CONFIG GET/INFO report it).
    pub config_file: Option<PathBuf>,
    /// Encoding thresholds of the data types.
    pub limits: TypeLimits,
    /// `notify-keyspace-events` class bits.
    pub notify_flags: u32,
    /// `maxmemory` in bytes (0 = no limit).
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: EvictionPolicy,
    /// `maxmemory-samples`.
    pub maxmemory_samples: usize,
    /// `lfu-log-factor` / `lfu-decay-time`.
    pub lfu: LfuParams,
    /// `appendonly`: the WAL is on.
    pub appendonly: bool,
    /// `appendfsync`.
    pub appendfsync: FsyncPolicy,
    /// `save` rules: snapshot after `seconds` if at least `changes` writes happened.
    pub save: Vec<(u64, u64)>,
    /// `wal-recovery skip-corrupt`.
    pub wal_skip_corrupt: bool,
    /// `wal-segment-size` in bytes.
    pub wal_segment_size: u64,
    /// `slowlog-log-slower-than` in microseconds (-1 = off).
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: u64,
    /// `latency-monitor-threshold` in milliseconds (0 = off).
    pub latency_monitor_threshold: u64,
    /// `latency-tracking`.
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// `auto-aof-rewrite-percentage` (0 = off).
    pub auto_aof_rewrite_percentage: u64,
    /// `auto-aof-rewrite-min-size` in bytes.
    pub auto_aof_rewrite_min_size: u64,
    /// `client-output-buffer-limit`.
    pub client_output_buffer_limit: crate::limits::OutputLimits,
    /// `client-query-buffer-limit` in bytes.
    pub client_query_buffer_limit: u64,
    /// `admin-port`: the HTTP metrics endpoint (0 = off).
    pub admin_port: u16,
    /// `admin-bind`.
    pub admin_bind: String,
    /// `tls-port` (0 = TLS off).
    pub tls_port: u16,
    /// `tls-cert-file`.
    pub tls_cert_file: String,
    /// `tls-key-file`.
    pub tls_key_file: String,
    /// `tls-ca-cert-file`.
    pub tls_ca_cert_file: String,
    /// `tls-auth-clients`.
    pub tls_auth_clients: crate::tls::AuthClients,
    /// `aclfile` ("" = none).
    pub aclfile: String,
    /// `protected-mode`.
    pub protected_mode: bool,
    /// `acllog-max-len`.
    pub acllog_max_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: "127.0.0.1".into(),
            shards: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            io: IoBackend::Uring,
            dir: PathBuf::from("./data"),
            requirepass: None,
            hz: 10,
            idle_poll_us: 0,
            migrate_connections: true,
            busy_reply_threshold_ms: 5000,
            proto_max_bulk_len: 512 * 1024 * 1024,
            loglevel: "notice".into(),
            logfile: String::new(),
            maxclients: 10000,
            timeout: 0,
            config_file: None,
            limits: TypeLimits::default(),
            notify_flags: 0,
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 5,
            lfu: LfuParams::default(),
            appendonly: false,
            appendfsync: FsyncPolicy::EverySec,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            wal_skip_corrupt: false,
            wal_segment_size: 64 << 20,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            client_output_buffer_limit: crate::limits::OutputLimits::default(),
            client_query_buffer_limit: moon_resp::limits::CLIENT_QUERY_BUFFER_LIMIT as u64,
            admin_port: 0,
            admin_bind: "127.0.0.1".into(),
            tls_port: 0,
            tls_cert_file: String::new(),
            tls_key_file: String::new(),
            tls_ca_cert_file: String::new(),
            tls_auth_clients: crate::tls::AuthClients::Yes,
            aclfile: String::new(),
            protected_mode: true,
            acllog_max_len: 128,
        }
    }
}

/// Parses a `save` value: pairs of `<seconds> <changes>`, or "" for none.
pub fn parse_save(value: &str) -> Option<Vec<(u64, u64)>> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if !words.len().is_multiple_of(2) {
        return None;
    }
    words
        .chunks(2)
        .map(|c| Some((c[0].parse().ok()?, c[1].parse().ok()?)))
        .collect()
}

/// An integer parameter with Redis's bounds and error texts (config.c numeric configs).
fn ranged_int(value: &str, min: i64, max: i64) -> anyhow::Result<i64> {
    let n: i64 = value
        .parse()
        .map_err(|_| anyhow::anyhow!("argument couldn't be parsed into an integer"))?;
    if n < min || n > max {
        bail!("argument must be between {min} and {max} inclusive");
    }
    Ok(n)
}

/// Redis's bounds for `proto-max-bulk-len` and `client-query-buffer-limit`.
fn memory_at_least_1mb(n: u64) -> anyhow::Result<u64> {
    if !(1 << 20..=i64::MAX as u64).contains(&n) {
        bail!("argument must be between 1048576 and 9223372036854775807 inclusive");
    }
    Ok(n)
}

/// Parses yes/no.
fn yes_no(value: &str) -> anyhow::Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => bail!("argument must be 'yes' or 'no'"),
    }
}

/// Parse a memory size as Redis does: plain bytes or with k/kb/m/mb/g/gb suffix.
pub fn parse_memory(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("g", 1_000_000_000),
        ("mb", 1 << 20),
        ("m", 1_000_000),
        ("kb", 1 << 10),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suffix, mul)| t.strip_suffix(suffix).map(|n| (n.to_string(), *mul)))
    .unwrap_or((t.clone(), 1));
    num.parse::<u64>().ok()?.checked_mul(mul)
}

impl Config {
    /// Build from the command line (reading the config file it names, if any).
    pub fn load(cli: Cli) -> anyhow::Result<Config> {
        let mut cfg = Config::default();
        if let Some(path) = &cli.config_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            for (lineno, line) in text.lines().enumerate() {
                let words = split_config_line(line);
                let Some((name, args)) = words.split_first() else {
                    continue;
                };
                let value = args.join(" ");
                cfg.set(&name.to_ascii_lowercase(), &value)
                    .with_context(|| {
                        format!(
                            "{}:{}: bad directive '{}'",
                            path.display(),
                            lineno + 1,
                            line.trim()
                        )
                    })?;
            }
            cfg.config_file = Some(path.clone());
        }
        let flags: [(&str, Option<String>); 26] = [
            ("port", cli.port.map(|v| v.to_string())),
            ("bind", cli.bind),
            ("shards", cli.shards.map(|v| v.to_string())),
            ("io", cli.io),
            ("dir", cli.dir.map(|p| p.display().to_string())),
            ("requirepass", cli.requirepass),
            ("hz", cli.hz.map(|v| v.to_string())),
            ("idle-poll-us", cli.idle_poll_us.map(|v| v.to_string())),
            ("migrate-connections", cli.migrate_connections),
            ("proto-max-bulk-len", cli.proto_max_bulk_len),
            ("loglevel", cli.loglevel),
            ("logfile", cli.logfile),
            ("maxclients", cli.maxclients.map(|v| v.to_string())),
            ("timeout", cli.timeout.map(|v| v.to_string())),
            ("appendonly", cli.appendonly),
            ("appendfsync", cli.appendfsync),
            ("save", cli.save),
            ("wal-recovery", cli.wal_recovery),
            ("wal-segment-size", cli.wal_segment_size),
            ("admin-port", cli.admin_port.map(|v| v.to_string())),
            ("admin-bind", cli.admin_bind),
            ("tls-port", cli.tls_port.map(|v| v.to_string())),
            ("tls-cert-file", cli.tls_cert_file),
            ("tls-key-file", cli.tls_key_file),
            ("tls-ca-cert-file", cli.tls_ca_cert_file),
            ("tls-auth-clients", cli.tls_auth_clients),
        ];
        for (name, value) in flags {
            if let Some(value) = value {
                cfg.set(name, &value)?;
            }
        }
        let acl_flags = [
            ("aclfile", cli.aclfile),
            ("protected-mode", cli.protected_mode),
            ("acllog-max-len", cli.acllog_max_len),
        ];
        for (name, value) in acl_flags {
            if let Some(value) = value {
                cfg.set(name, &value)?;
            }
        }
        let limit_flags = [
            ("client-output-buffer-limit", cli.client_output_buffer_limit),
            ("client-query-buffer-limit", cli.client_query_buffer_limit),
        ];
        for (name, value) in limit_flags {
            if let Some(value) = value {
                cfg.set(name, &value)?;
            }
        }
        let observability_flags = [
            ("slowlog-log-slower-than", cli.slowlog_log_slower_than),
            ("slowlog-max-len", cli.slowlog_max_len),
            ("latency-monitor-threshold", cli.latency_monitor_threshold),
            ("latency-tracking", cli.latency_tracking),
            (
                "latency-tracking-info-percentiles",
                cli.latency_tracking_info_percentiles,
            ),
        ];
        for (name, value) in observability_flags {
            if let Some(value) = value {
                cfg.set(name, &value)?;
            }
        }
        Ok(cfg)
    }

    /// Apply one parameter by its Redis name. Used by the config file, flags and CONFIG SET.
    pub fn set(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        let int = |v: &str| {
            v.trim()
                .parse::<u64>()
                .with_context(|| format!("'{v}' is not a number"))
        };
        let signed = |v: &str| {
            v.trim()
                .parse::<i64>()
                .with_context(|| format!("'{v}' is not a number"))
        };
        match name {
            "port" => self.port = u16::try_from(int(value)?)?,
            "bind" => {
                self.bind = value
                    .split_whitespace()
                    .next()
                    .unwrap_or("127.0.0.1")
                    .to_string()
            }
            "shards" => {
                let n = int(value)? as usize;
                if n == 0 || n > 1024 {
                    bail!("shards must be between 1 and 1024");
                }
                self.shards = n;
            }
            "io" => {
                self.io = match value {
                    "uring" | "io_uring" | "io-uring" => IoBackend::Uring,
                    "epoll" => IoBackend::Epoll,
                    other => bail!("unknown io backend '{other}' (uring or epoll)"),
                }
            }
            "dir" => self.dir = PathBuf::from(value),
            "requirepass" => {
                self.requirepass = if value.is_empty() {
                    None
                } else {
                    Some(value.to_string())
                }
            }
            "hz" => self.hz = int(value)?.clamp(1, 500),
            "idle-poll-us" => {
                self.idle_poll_us = ranged_int(value, 0, MAX_IDLE_POLL_US as i64)? as u64
            }
            "migrate-connections" => self.migrate_connections = yes_no(value)?,
            "busy-reply-threshold" | "lua-time-limit" => self.busy_reply_threshold_ms = int(value)?,
            "proto-max-bulk-len" => {
                let n = parse_memory(value).context("argument must be a memory value")?;
                self.proto_max_bulk_len = memory_at_least_1mb(n)?;
            }
            "loglevel" => match value {
                "debug" | "verbose" | "notice" | "warning" | "nothing" => {
                    self.loglevel = value.to_string()
                }
                _ => bail!(
                    "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"
                ),
            },
            "logfile" => self.logfile = value.to_string(),
            "maxclients" => self.maxclients = ranged_int(value, 1, u32::MAX.into())? as usize,
            "timeout" => self.timeout = ranged_int(value, 0, i32::MAX.into())? as u64,
            "maxmemory" => {
                self.maxmemory = parse_memory(value).context("argument must be a memory value")?
            }
            "maxmemory-policy" => {
                self.maxmemory_policy = EvictionPolicy::from_name(value).context(
                    "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
                )?
            }
            "maxmemory-samples" => {
                let n = int(value)?;
                if !(1..=i32::MAX as u64).contains(&n) {
                    bail!("argument must be between 1 and 2147483647 inclusive");
                }
                self.maxmemory_samples = n as usize;
            }
            "lfu-log-factor" => self.lfu.log_factor = u32::try_from(int(value)?)?,
            "lfu-decay-time" => self.lfu.decay_time = u32::try_from(int(value)?)?,
            "notify-keyspace-events" => {
                self.notify_flags = moon_engine::notify::parse_flags(value.as_bytes())
                    .context("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            }
            "list-max-listpack-size" | "list-max-ziplist-size" => {
                self.limits.list_max_listpack_size = signed(value)?
            }
            "list-compress-depth" => self.limits.list_compress_depth = signed(value)?,
            "hash-max-listpack-entries" | "hash-max-ziplist-entries" => {
                self.limits.hash_max_listpack_entries = int(value)? as usize
            }
            "hash-max-listpack-value" | "hash-max-ziplist-value" => {
                self.limits.hash_max_listpack_value = int(value)? as usize
            }
            "set-max-intset-entries" => self.limits.set_max_intset_entries = int(value)? as usize,
            "set-max-listpack-entries" => {
                self.limits.set_max_listpack_entries = int(value)? as usize
            }
            "set-max-listpack-value" => self.limits.set_max_listpack_value = int(value)? as usize,
            "zset-max-listpack-entries" | "zset-max-ziplist-entries" => {
                self.limits.zset_max_listpack_entries = int(value)? as usize
            }
            "zset-max-listpack-value" | "zset-max-ziplist-value" => {
                self.limits.zset_max_listpack_value = int(value)? as usize
            }
            "stream-node-max-bytes" => {
                self.limits.stream_node_max_bytes =
                    parse_memory(value).context("argument must be a memory value")? as usize
            }
            "stream-node-max-entries" => self.limits.stream_node_max_entries = int(value)? as usize,
            "hll-sparse-max-bytes" => {
                self.limits.hll_sparse_max_bytes =
                    parse_memory(value).context("argument must be a memory value")? as usize
            }
            "appendonly" => self.appendonly = yes_no(value)?,
            "appendfsync" => {
                self.appendfsync = FsyncPolicy::from_name(value)
                    .context("argument(s) must be one of the following: always, everysec, no")?
            }
            "save" => self.save = parse_save(value).context("Invalid save parameters")?,
            "wal-recovery" => {
                self.wal_skip_corrupt = match value {
                    "strict" => false,
                    "skip-corrupt" => true,
                    _ => bail!("wal-recovery must be strict or skip-corrupt"),
                }
            }
            "wal-segment-size" => {
                let n = parse_memory(value).context("argument must be a memory value")?;
                self.wal_segment_size = n.max(4096);
            }
            "slowlog-log-slower-than" => {
                self.slowlog_log_slower_than = crate::monitor::parse_ranged(value, -1)?
            }
            "slowlog-max-len" => {
                self.slowlog_max_len = crate::monitor::parse_ranged(value, 0)? as u64
            }
            "latency-monitor-threshold" => {
                self.latency_monitor_threshold = crate::monitor::parse_ranged(value, 0)? as u64
            }
            "latency-tracking" => self.latency_tracking = yes_no(value)?,
            "latency-tracking-info-percentiles" => {
                self.latency_tracking_info_percentiles = crate::monitor::parse_percentiles(value)?
            }
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage = int(value)?,
            "auto-aof-rewrite-min-size" => {
                self.auto_aof_rewrite_min_size =
                    parse_memory(value).context("argument must be a memory value")?
            }
            "tls-port" => self.tls_port = u16::try_from(int(value)?)?,
            "tls-cert-file" => self.tls_cert_file = value.to_string(),
            "tls-key-file" => self.tls_key_file = value.to_string(),
            "tls-ca-cert-file" => self.tls_ca_cert_file = value.to_string(),
            "tls-auth-clients" => {
                self.tls_auth_clients = crate::tls::AuthClients::from_name(value)
                    .context("argument(s) must be one of the following: no, yes, optional")?
            }
            "admin-port" => self.admin_port = u16::try_from(int(value)?)?,
            "admin-bind" => {
                self.admin_bind = value
                    .split_whitespace()
                    .next()
                    .unwrap_or("127.0.0.1")
                    .to_string()
            }
            "client-output-buffer-limit" => self
                .client_output_buffer_limit
                .apply(value)
                .map_err(anyhow::Error::msg)?,
            "client-query-buffer-limit" => {
                let n = parse_memory(value).context("argument must be a memory value")?;
                self.client_query_buffer_limit = memory_at_least_1mb(n)?;
            }
            "aclfile" => self.aclfile = value.to_string(),
            "protected-mode" => self.protected_mode = yes_no(value)?,
            "acllog-max-len" => self.acllog_max_len = int(value)? as usize,
            // Accepted and ignored so stock redis.conf files load; they have no effect in Moon.
            "daemonize" | "tcp-backlog" | "databases" | "dbfilename"
            | "appendfilename" | "appenddirname" | "rdbcompression" | "rdbchecksum"
            | "stop-writes-on-bgsave-error" | "aof-use-rdb-preamble" | "no-appendfsync-on-rewrite" => {}
            other => bail!("unknown parameter '{other}'"),
        }
        Ok(())
    }

    /// Every parameter CONFIG GET knows, with its current value, in a stable order.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("port", self.port.to_string()),
            ("bind", self.bind.clone()),
            ("shards", self.shards.to_string()),
            (
                "io",
                match self.io {
                    IoBackend::Uring => "uring".into(),
                    IoBackend::Epoll => "epoll".into(),
                },
            ),
            ("dir", self.dir.display().to_string()),
            ("requirepass", self.requirepass.clone().unwrap_or_default()),
            ("hz", self.hz.to_string()),
            ("idle-poll-us", self.idle_poll_us.to_string()),
            (
                "migrate-connections",
                if self.migrate_connections {
                    "yes"
                } else {
                    "no"
                }
                .to_string(),
            ),
            (
                "busy-reply-threshold",
                self.busy_reply_threshold_ms.to_string(),
            ),
            ("lua-time-limit", self.busy_reply_threshold_ms.to_string()),
            ("proto-max-bulk-len", self.proto_max_bulk_len.to_string()),
            ("loglevel", self.loglevel.clone()),
            ("logfile", self.logfile.clone()),
            ("maxclients", self.maxclients.to_string()),
            ("timeout", self.timeout.to_string()),
            (
                "client-output-buffer-limit",
                self.client_output_buffer_limit.config_value(),
            ),
            (
                "client-query-buffer-limit",
                self.client_query_buffer_limit.to_string(),
            ),
            ("databases", moon_engine::DATABASES.to_string()),
            ("maxmemory", self.maxmemory.to_string()),
            ("maxmemory-policy", self.maxmemory_policy.name().into()),
            ("maxmemory-samples", self.maxmemory_samples.to_string()),
            ("lfu-log-factor", self.lfu.log_factor.to_string()),
            ("lfu-decay-time", self.lfu.decay_time.to_string()),
            (
                "save",
                self.save
                    .iter()
                    .map(|(s, c)| format!("{s} {c}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            (
                "appendonly",
                if self.appendonly { "yes" } else { "no" }.into(),
            ),
            ("appendfsync", self.appendfsync.name().into()),
            (
                "wal-recovery",
                if self.wal_skip_corrupt {
                    "skip-corrupt"
                } else {
                    "strict"
                }
                .into(),
            ),
            ("wal-segment-size", self.wal_segment_size.to_string()),
            (
                "slowlog-log-slower-than",
                self.slowlog_log_slower_than.to_string(),
            ),
            ("slowlog-max-len", self.slowlog_max_len.to_string()),
            (
                "latency-monitor-threshold",
                self.latency_monitor_threshold.to_string(),
            ),
            (
                "latency-tracking",
                if self.latency_tracking { "yes" } else { "no" }.into(),
            ),
            (
                "latency-tracking-info-percentiles",
                crate::monitor::format_percentiles(&self.latency_tracking_info_percentiles),
            ),
            ("admin-port", self.admin_port.to_string()),
            ("admin-bind", self.admin_bind.clone()),
            (
                "auto-aof-rewrite-percentage",
                self.auto_aof_rewrite_percentage.to_string(),
            ),
            (
                "auto-aof-rewrite-min-size",
                self.auto_aof_rewrite_min_size.to_string(),
            ),
            (
                "notify-keyspace-events",
                moon_engine::notify::flags_to_string(self.notify_flags),
            ),
            (
                "list-max-listpack-size",
                self.limits.list_max_listpack_size.to_string(),
            ),
            (
                "list-compress-depth",
                self.limits.list_compress_depth.to_string(),
            ),
            (
                "hash-max-listpack-entries",
                self.limits.hash_max_listpack_entries.to_string(),
            ),
            (
                "hash-max-listpack-value",
                self.limits.hash_max_listpack_value.to_string(),
            ),
            (
                "set-max-intset-entries",
                self.limits.set_max_intset_entries.to_string(),
            ),
            (
                "set-max-listpack-entries",
                self.limits.set_max_listpack_entries.to_string(),
            ),
            (
                "set-max-listpack-value",
                self.limits.set_max_listpack_value.to_string(),
            ),
            (
                "zset-max-listpack-entries",
                self.limits.zset_max_listpack_entries.to_string(),
            ),
            (
                "zset-max-listpack-value",
                self.limits.zset_max_listpack_value.to_string(),
            ),
            (
                "stream-node-max-bytes",
                self.limits.stream_node_max_bytes.to_string(),
            ),
            (
                "stream-node-max-entries",
                self.limits.stream_node_max_entries.to_string(),
            ),
            (
                "hll-sparse-max-bytes",
                self.limits.hll_sparse_max_bytes.to_string(),
            ),
            ("tls-port", self.tls_port.to_string()),
            ("tls-cert-file", self.tls_cert_file.clone()),
            ("tls-key-file", self.tls_key_file.clone()),
            ("tls-ca-cert-file", self.tls_ca_cert_file.clone()),
            ("tls-auth-clients", self.tls_auth_clients.name().into()),
            ("aclfile", self.aclfile.clone()),
            (
                "protected-mode",
                if self.protected_mode { "yes" } else { "no" }.into(),
            ),
            ("acllog-max-len", self.acllog_max_len.to_string()),
        ]
    }

    /// The engine's view of the configuration.
    pub fn shard_config(&self) -> ShardConfig {
        ShardConfig {
            proto_max_bulk_len: self.proto_max_bulk_len,
            notify_flags: self.notify_flags,
            limits: self.limits.clone(),
            maxmemory: self.maxmemory.div_ceil(self.shards.max(1) as u64),
            maxmemory_policy: self.maxmemory_policy,
            maxmemory_samples: self.maxmemory_samples,
            lfu: self.lfu,
            shards: self.shards,
            ..ShardConfig::default()
        }
    }

    /// Parameters CONFIG SET may change at run time.
    pub fn is_mutable(name: &str) -> bool {
        matches!(
            name,
            "requirepass"
                | "protected-mode"
                | "acllog-max-len"
                | "hz"
                | "idle-poll-us"
                | "migrate-connections"
                | "busy-reply-threshold"
                | "lua-time-limit"
                | "proto-max-bulk-len"
                | "loglevel"
                | "maxclients"
                | "timeout"
                | "client-output-buffer-limit"
                | "client-query-buffer-limit"
                | "notify-keyspace-events"
                | "maxmemory"
                | "maxmemory-policy"
                | "maxmemory-samples"
                | "lfu-log-factor"
                | "lfu-decay-time"
                | "list-max-listpack-size"
                | "list-compress-depth"
                | "hash-max-listpack-entries"
                | "hash-max-listpack-value"
                | "set-max-intset-entries"
                | "set-max-listpack-entries"
                | "set-max-listpack-value"
                | "zset-max-listpack-entries"
                | "zset-max-listpack-value"
                | "stream-node-max-bytes"
                | "stream-node-max-entries"
                | "hll-sparse-max-bytes"
                | "appendonly"
                | "appendfsync"
                | "save"
                | "wal-segment-size"
                | "slowlog-log-slower-than"
                | "slowlog-max-len"
                | "latency-monitor-threshold"
                | "latency-tracking"
                | "latency-tracking-info-percentiles"
                | "auto-aof-rewrite-percentage"
                | "auto-aof-rewrite-min-size"
                | "tls-cert-file"
                | "tls-key-file"
                | "tls-ca-cert-file"
                | "tls-auth-clients"
        )
    }
}

/// Upper bound of `idle-poll-us` (10 ms): past it a shard would mostly burn its core.
pub const MAX_IDLE_POLL_US: u64 = 10_000;

/// Documentation of the parameters: `(name, default, description)`, the source of the
/// configuration reference `docs/config.md` ([`reference_markdown`]). `default` is `None`
/// when the built-in value (as CONFIG GET shows it) says it all, `Some(text)` where it
/// depends on the machine or needs words. A parameter of [`Config::params`] missing here is
/// listed as undocumented, which `tests/docs_up_to_date.rs` rejects.
pub const PARAM_DOCS: &[(&str, Option<&str>, &str)] = &[
    (
        "port",
        None,
        "TCP port of the RESP listener (0: no plain TCP listener).",
    ),
    (
        "bind",
        None,
        "Address the RESP listeners bind (the first of a list is used).",
    ),
    (
        "shards",
        Some("number of CPUs"),
        "Shard threads, each owning a slice of the keyspace (Moon only).",
    ),
    (
        "io",
        None,
        "I/O backend: `uring` (falls back to epoll when io_uring is unavailable) or `epoll` (Moon only).",
    ),
    (
        "dir",
        None,
        "Data directory: per-shard WAL segments and snapshots (`dir/shard-NNN/`).",
    ),
    (
        "requirepass",
        Some("\"\" (no password)"),
        "Password of the default user; clients must AUTH first when set.",
    ),
    (
        "hz",
        None,
        "Background task frequency per second (active expiry, idle timeouts, metrics publication), 1..500.",
    ),
    (
        "migrate-connections",
        None,
        "yes: a connection whose keyed commands keep going to one other shard (32 in a row, twice that after each move) moves to that shard, so they run there instead of being forwarded (Moon only; as Dragonfly's migrate_connections).",
    ),
    (
        "idle-poll-us",
        None,
        "Microseconds an idle shard keeps polling its sockets and mailboxes (yielding the CPU between polls) before it sleeps; 0 = sleep at once. Saves the wake-up of a request that arrives meanwhile, for CPU time (Moon only; at most 10000).",
    ),
    (
        "busy-reply-threshold",
        None,
        "Milliseconds a script may run before other clients get BUSY and SCRIPT KILL is allowed.",
    ),
    ("lua-time-limit", None, "Alias of busy-reply-threshold."),
    (
        "proto-max-bulk-len",
        None,
        "Largest bulk string a client may send, in bytes (at least 1mb).",
    ),
    (
        "loglevel",
        None,
        "Log verbosity: debug, verbose, notice, warning or nothing; CONFIG SET applies it at once.",
    ),
    (
        "logfile",
        Some("\"\" (stdout)"),
        "Log file, appended to; empty logs to standard output.",
    ),
    (
        "maxclients",
        None,
        "Most client connections at once; more are answered `ERR max number of clients reached`.",
    ),
    (
        "timeout",
        None,
        "Close a client idle this many seconds (0: never; subscribers are never closed).",
    ),
    (
        "client-output-buffer-limit",
        None,
        "Per-class output buffer limits `<class> <hard> <soft> <soft-seconds>` (normal, replica, pubsub).",
    ),
    (
        "client-query-buffer-limit",
        None,
        "Largest query buffer of one client, in bytes.",
    ),
    (
        "databases",
        None,
        "Number of logical databases (fixed at 16).",
    ),
    (
        "maxmemory",
        Some("0 (no limit)"),
        "Memory limit in bytes, split evenly between the shards.",
    ),
    (
        "maxmemory-policy",
        None,
        "What to evict at the memory limit: noeviction, allkeys-lru/lfu/random, volatile-lru/lfu/random/ttl.",
    ),
    ("maxmemory-samples", None, "Keys sampled per eviction."),
    ("lfu-log-factor", None, "LFU counter logarithm factor."),
    (
        "lfu-decay-time",
        None,
        "Minutes after which an LFU counter decays.",
    ),
    (
        "save",
        None,
        "Snapshot rules `<seconds> <changes> ...`: snapshot after that many seconds if at least that many writes happened (\"\": never).",
    ),
    (
        "appendonly",
        None,
        "yes: log every write to the per-shard WAL before replying (Redis's AOF switch).",
    ),
    (
        "appendfsync",
        None,
        "When the WAL is fsynced: always (before the reply), everysec or no.",
    ),
    (
        "wal-recovery",
        None,
        "strict: a corrupt WAL record stops start-up; skip-corrupt: skip it and continue (Moon only).",
    ),
    (
        "wal-segment-size",
        None,
        "WAL segment size in bytes at which a new segment starts (Moon only).",
    ),
    (
        "admin-port",
        Some("0 (off)"),
        "Port of the HTTP admin endpoint serving Prometheus metrics at /metrics (Moon only).",
    ),
    (
        "admin-bind",
        None,
        "Address the admin endpoint binds (Moon only).",
    ),
    (
        "auto-aof-rewrite-percentage",
        None,
        "Rewrite (snapshot and truncate) the WAL when it grew by this percentage since the last rewrite (0: off).",
    ),
    (
        "auto-aof-rewrite-min-size",
        None,
        "Smallest WAL size in bytes for an automatic rewrite.",
    ),
    (
        "notify-keyspace-events",
        Some("\"\" (off)"),
        "Keyspace notification classes, as Redis's `Ag$lshzxeKEtmdn` letters.",
    ),
    (
        "list-max-listpack-size",
        None,
        "Entries (positive) or bytes class (negative) of a list node.",
    ),
    (
        "list-compress-depth",
        None,
        "Uncompressed nodes at each end of a list.",
    ),
    (
        "hash-max-listpack-entries",
        None,
        "Most fields of a hash kept in the compact encoding.",
    ),
    (
        "hash-max-listpack-value",
        None,
        "Longest value of a hash kept in the compact encoding.",
    ),
    (
        "set-max-intset-entries",
        None,
        "Most members of an integer set kept as an intset.",
    ),
    (
        "set-max-listpack-entries",
        None,
        "Most members of a set kept in the compact encoding.",
    ),
    (
        "set-max-listpack-value",
        None,
        "Longest member of a set kept in the compact encoding.",
    ),
    (
        "zset-max-listpack-entries",
        None,
        "Most members of a sorted set kept in the compact encoding.",
    ),
    (
        "zset-max-listpack-value",
        None,
        "Longest member of a sorted set kept in the compact encoding.",
    ),
    (
        "stream-node-max-bytes",
        None,
        "Largest stream node in bytes.",
    ),
    (
        "stream-node-max-entries",
        None,
        "Most entries of a stream node.",
    ),
    (
        "hll-sparse-max-bytes",
        None,
        "Largest sparse HyperLogLog in bytes before it turns dense.",
    ),
    ("tls-port", Some("0 (off)"), "Port of the TLS listener."),
    ("tls-cert-file", None, "Server certificate chain (PEM)."),
    ("tls-key-file", None, "Server private key (PEM)."),
    (
        "tls-ca-cert-file",
        None,
        "CA certificates client certificates are verified against (PEM).",
    ),
    (
        "tls-auth-clients",
        None,
        "Client certificates: yes (required), optional or no.",
    ),
    (
        "aclfile",
        None,
        "File of ACL users loaded at start and by ACL LOAD, written by ACL SAVE.",
    ),
    (
        "protected-mode",
        None,
        "yes: without a password, refuse clients that do not come from loopback.",
    ),
    ("acllog-max-len", None, "Entries the ACL LOG keeps."),
    (
        "slowlog-log-slower-than",
        None,
        "Log commands slower than this many microseconds in the SLOWLOG (negative: off).",
    ),
    ("slowlog-max-len", None, "Entries the SLOWLOG keeps."),
    (
        "latency-monitor-threshold",
        None,
        "Record LATENCY events of at least this many milliseconds (0: off).",
    ),
    (
        "latency-tracking",
        None,
        "yes: track per-command latency histograms (INFO latencystats).",
    ),
    (
        "latency-tracking-info-percentiles",
        None,
        "Percentiles INFO latencystats reports.",
    ),
];

/// The configuration reference (`docs/config.md`): every parameter CONFIG GET knows, with
/// its default, whether `--name value` sets it on the command line, whether CONFIG SET can
/// change it, and its description. Depends on nothing but the tables, so the committed
/// file can be compared byte for byte.
pub fn reference_markdown() -> String {
    use clap::CommandFactory;
    use std::fmt::Write as _;
    let cli = Cli::command();
    let is_flag = |name: &str| cli.get_arguments().any(|a| a.get_long() == Some(name));
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the parameter table in `frontends/server/src/config.rs` \
         (`PARAM_DOCS`, `Config::params`, `Config::is_mutable`, the `Cli` flags). Do not edit by \
         hand: run `MOON_REGEN_DOCS=1 cargo test --test docs_up_to_date`.\n\n\
         Every parameter can be given in the config file (`moon path/to/moon.conf`, redis.conf \
         syntax: `name value` per line). Those marked in the flag column can also be given on \
         the command line as `--name value` (flags override the file). CONFIG GET reads every \
         parameter; CONFIG SET changes those marked so. Memory sizes accept Redis's suffixes \
         (`64mb`, `1gb`, ...) and are shown in bytes.\n\n\
         | parameter | default | flag | CONFIG SET | description |\n|---|---|---|---|---|\n",
    );
    for (name, value) in Config::default().params() {
        let doc = PARAM_DOCS.iter().find(|(n, _, _)| *n == name);
        let default = match doc.and_then(|d| d.1) {
            Some(text) => text.to_string(),
            None if value.is_empty() => "\"\"".to_string(),
            None => value,
        };
        let yes = |b: bool| if b { "yes" } else { "no" };
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} | {} |",
            cell(&default),
            if is_flag(name) {
                format!("`--{name}`")
            } else {
                "no".to_string()
            },
            yes(Config::is_mutable(name)),
            cell(doc.map_or("(undocumented)", |d| d.2))
        );
    }
    out.push_str(
        "\nAccepted and ignored, so that stock redis.conf files load: `daemonize`, \
         `tcp-backlog`, `dbfilename`, `appendfilename`, `appenddirname`, `rdbcompression`, \
         `rdbchecksum`, `stop-writes-on-bgsave-error`, `aof-use-rdb-preamble`, \
         `no-appendfsync-on-rewrite`, and the `*-ziplist-*` aliases of the `*-listpack-*` \
         parameters.\n",
    );
    out
}

/// Split a redis.conf line into words: `#` comments, "double" and 'single' quotes.
pub(crate) fn split_config_line(line: &str) -> Vec<String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Vec::new();
    }
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lines_split_like_redis_conf() {
        assert_eq!(split_config_line("port 7000"), vec!["port", "7000"]);
        assert_eq!(split_config_line("  # comment"), Vec::<String>::new());
        assert_eq!(
            split_config_line("requirepass \"a b\""),
            vec!["requirepass", "a b"]
        );
        assert_eq!(split_config_line("logfile ''"), vec!["logfile", ""]);
    }

    #[test]
    fn memory_values_parse_with_suffixes() {
        assert_eq!(parse_memory("512mb"), Some(512 << 20));
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn flags_override_defaults() {
        let cli = Cli {
            port: Some(7000),
            shards: Some(4),
            ..Cli::default()
        };
        let cfg = Config::load(cli).unwrap();
        assert_eq!(cfg.port, 7000);
        assert_eq!(cfg.shards, 4);
        assert_eq!(cfg.bind, "127.0.0.1");
    }
}
