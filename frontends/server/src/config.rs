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
    /// `auto-aof-rewrite-percentage` (0 = off).
    pub auto_aof_rewrite_percentage: u64,
    /// `auto-aof-rewrite-min-size` in bytes.
    pub auto_aof_rewrite_min_size: u64,
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
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
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
        let flags: [(&str, Option<String>); 17] = [
            ("port", cli.port.map(|v| v.to_string())),
            ("bind", cli.bind),
            ("shards", cli.shards.map(|v| v.to_string())),
            ("io", cli.io),
            ("dir", cli.dir.map(|p| p.display().to_string())),
            ("requirepass", cli.requirepass),
            ("hz", cli.hz.map(|v| v.to_string())),
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
        ];
        for (name, value) in flags {
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
            "busy-reply-threshold" | "lua-time-limit" => self.busy_reply_threshold_ms = int(value)?,
            "proto-max-bulk-len" => {
                let n = parse_memory(value).context("argument must be a memory value")?;
                if n < 1024 * 1024 {
                    bail!("proto-max-bulk-len must be at least 1mb");
                }
                self.proto_max_bulk_len = n;
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
            "maxclients" => self.maxclients = int(value)?.max(1) as usize,
            "timeout" => self.timeout = int(value)?,
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
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage = int(value)?,
            "auto-aof-rewrite-min-size" => {
                self.auto_aof_rewrite_min_size =
                    parse_memory(value).context("argument must be a memory value")?
            }
            // Accepted and ignored so stock redis.conf files load; they have no effect in Moon.
            "daemonize" | "protected-mode" | "tcp-backlog" | "databases" | "dbfilename"
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
                | "hz"
                | "busy-reply-threshold"
                | "lua-time-limit"
                | "proto-max-bulk-len"
                | "loglevel"
                | "maxclients"
                | "timeout"
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
                | "auto-aof-rewrite-percentage"
                | "auto-aof-rewrite-min-size"
        )
    }
}

/// Split a redis.conf line into words: `#` comments, "double" and 'single' quotes.
fn split_config_line(line: &str) -> Vec<String> {
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
