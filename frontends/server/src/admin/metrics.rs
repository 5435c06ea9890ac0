//! The metrics model of the admin endpoint: per-shard snapshots published from each shard's
//! periodic tick, and their rendering into the Prometheus text exposition format (version
//! 0.0.4) through `prometheus-client`'s collector API.
//!
//! Invariants:
//! - Nothing here runs per command. A shard copies its counters into its own
//!   `Mutex<ShardMetrics>` in [`publish`] (called from `on_tick`, `hz` times a second, and only
//!   when the endpoint is on); the HTTP thread locks each snapshot briefly at scrape time.
//!   So a scrape sees every shard's counters as of its last tick (at most `1/hz` s old).
//! - Each snapshot is written by its shard only; a poisoned lock is recovered, never fatal.
//! - Counters are monotonic except across `CONFIG RESETSTAT` (Prometheus treats a decrease
//!   as a counter reset).
//! - Latency histograms use fixed bucket bounds ([`BUCKET_USEC`], powers of four from 1 µs to
//!   about 4.2 s, then `+Inf`) so a series' buckets never change between scrapes.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::persist::PersistReport;
use crate::shared::Shared;
use crate::worker::{CmdStat, Worker};

/// Upper bounds (µs) of the latency histogram buckets, before `+Inf`.
pub const BUCKET_USEC: [u64; 12] = [
    1, 4, 16, 64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304,
];

/// How often a shard refreshes its persistence figures (they list the WAL directory).
const PERSIST_REFRESH: Duration = Duration::from_secs(1);

/// One command's counters on one shard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CmdMetrics {
    /// Calls.
    pub calls: u64,
    /// Calls that replied with an error.
    pub failed: u64,
    /// Total time in microseconds.
    pub usec: u64,
    /// Cumulative sample counts at each of [`BUCKET_USEC`].
    pub buckets: [u64; BUCKET_USEC.len()],
    /// Samples in the histogram (the `+Inf` bucket).
    pub count: u64,
}

impl CmdMetrics {
    fn from_stat(st: &CmdStat) -> CmdMetrics {
        let count = st.hist.count();
        // Bounds past the largest sample hold every sample.
        let mut buckets = [count; BUCKET_USEC.len()];
        for (bound, cumulative) in st.hist.buckets() {
            if let Some(i) = BUCKET_USEC.iter().position(|&b| b == bound) {
                buckets[i] = cumulative;
            }
        }
        CmdMetrics {
            calls: st.calls,
            failed: st.failed,
            usec: st.usec,
            buckets,
            count,
        }
    }

    fn add(&mut self, other: &CmdMetrics) {
        self.calls += other.calls;
        self.failed += other.failed;
        self.usec += other.usec;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.count += other.count;
    }
}

/// What one shard last published.
#[derive(Debug, Clone, Default)]
pub struct ShardMetrics {
    /// False until the shard's first tick with the endpoint on.
    pub published: bool,
    /// Keys in all databases.
    pub keys: u64,
    /// Keys with a TTL.
    pub expires: u64,
    /// Estimated keyspace bytes.
    pub used_memory: u64,
    /// Commands processed by this shard's connections.
    pub commands: u64,
    /// Bytes read from clients.
    pub net_in: u64,
    /// Bytes written to clients.
    pub net_out: u64,
    /// Error replies sent.
    pub errors: u64,
    /// Keys expired (lazily or actively).
    pub expired: u64,
    /// Keys evicted for maxmemory.
    pub evicted: u64,
    /// Keyspace hits.
    pub hits: u64,
    /// Keyspace misses.
    pub misses: u64,
    /// Connections served by this shard.
    pub clients: u64,
    /// Per command (lowercase name).
    pub cmds: BTreeMap<String, CmdMetrics>,
    /// Snapshot and WAL state, refreshed every [`PERSIST_REFRESH`].
    pub persist: Option<PersistReport>,
    persist_at: Option<Instant>,
}

/// Every shard's snapshot, in `Shared`.
pub struct Board {
    enabled: AtomicBool,
    shards: Vec<Mutex<ShardMetrics>>,
}

impl Board {
    /// A board for `shards` shards; `enabled` when the admin endpoint is on.
    pub fn new(shards: usize, enabled: bool) -> Board {
        Board {
            enabled: AtomicBool::new(enabled),
            shards: (0..shards)
                .map(|_| Mutex::new(ShardMetrics::default()))
                .collect(),
        }
    }

    /// True when shards should publish (one relaxed load per tick).
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }
}

/// Copy shard `w`'s counters into its snapshot (runs on the shard's thread, from `on_tick`).
pub fn publish(w: &mut Worker) {
    let refresh_persist = {
        let Some(slot) = w.shared.metrics.shards.get(w.id) else {
            return;
        };
        let guard = match slot.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        guard
            .persist_at
            .is_none_or(|t| t.elapsed() >= PERSIST_REFRESH)
    };
    // Taken before locking: it reads the file system.
    let persist = refresh_persist.then(|| w.persist_report());
    let st = w.shard.stats();
    let (keys, expires) = w
        .shard
        .keyspace_info()
        .iter()
        .fold((0, 0), |(k, e), &(_, keys, exp)| {
            (k + keys as u64, e + exp as u64)
        });
    let Some(slot) = w.shared.metrics.shards.get(w.id) else {
        return;
    };
    let mut m = match slot.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    m.published = true;
    m.keys = keys;
    m.expires = expires;
    m.used_memory = w.shard.used_memory_estimate() as u64;
    m.commands = w.stats.commands;
    m.net_in = w.stats.net_input;
    m.net_out = w.stats.net_output;
    m.errors = w.stats.error_replies;
    m.expired = st.expired_keys;
    m.evicted = st.evicted_keys;
    m.hits = st.keyspace_hits;
    m.misses = st.keyspace_misses;
    m.clients = w.conns.len() as u64;
    // CONFIG RESETSTAT empties the table: drop what it no longer has.
    let src = &w.stats.cmdstats;
    m.cmds.retain(|name, _| src.contains_key(name.as_str()));
    for (name, st) in src {
        match m.cmds.get_mut(name.as_str()) {
            // Unchanged since the last tick: skip the walk over the histogram's buckets.
            Some(slot)
                if slot.calls == st.calls
                    && slot.failed == st.failed
                    && slot.usec == st.usec
                    && slot.count == st.hist.count() => {}
            Some(slot) => *slot = CmdMetrics::from_stat(st),
            None => {
                m.cmds.insert(name.clone(), CmdMetrics::from_stat(st));
            }
        }
    }
    if let Some(p) = persist {
        m.persist = Some(p);
        m.persist_at = Some(Instant::now());
    }
}

/// Everything one scrape renders, gathered from `Shared` and the shard snapshots.
#[derive(Debug, Default)]
pub struct Scrape {
    version: &'static str,
    io_backend: &'static str,
    uptime_secs: f64,
    connected_clients: u64,
    total_connections: u64,
    rejected_connections: u64,
    last_save: u64,
    rss_bytes: u64,
    shards: Vec<(usize, ShardMetrics)>,
}

impl Scrape {
    /// Gather the current state.
    pub fn gather(shared: &Shared) -> Scrape {
        let io_backend = match *shared.io_backend.read().unwrap_or_else(|p| p.into_inner()) {
            Some(crate::driver::IoBackend::Epoll) => "epoll",
            _ => "io_uring",
        };
        let shards = shared
            .metrics
            .shards
            .iter()
            .enumerate()
            .filter_map(|(id, m)| {
                let g = match m.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                g.published.then(|| (id, g.clone()))
            })
            .collect();
        Scrape {
            version: env!("CARGO_PKG_VERSION"),
            io_backend,
            uptime_secs: shared.started.elapsed().as_secs_f64(),
            connected_clients: shared.connected_clients.load(Ordering::Relaxed) as u64,
            total_connections: shared.total_connections.load(Ordering::Relaxed),
            rejected_connections: shared.rejected_connections.load(Ordering::Relaxed),
            last_save: shared.last_save(),
            rss_bytes: rss_bytes(),
            shards,
        }
    }

    /// The Prometheus text exposition of this scrape.
    pub fn render(self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        let mut out = String::new();
        // Writing into a String cannot fail; an encoder error would leave a partial page.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }

    fn sum(&self, f: impl Fn(&ShardMetrics) -> u64) -> u64 {
        self.shards.iter().map(|(_, m)| f(m)).sum()
    }

    fn persist(&self) -> impl Iterator<Item = &PersistReport> {
        self.shards.iter().filter_map(|(_, m)| m.persist.as_ref())
    }

    /// Per-command counters merged over shards, by name.
    fn commands(&self) -> BTreeMap<&str, CmdMetrics> {
        let mut merged: BTreeMap<&str, CmdMetrics> = BTreeMap::new();
        for (_, m) in &self.shards {
            for (name, c) in &m.cmds {
                merged.entry(name.as_str()).or_default().add(c);
            }
        }
        merged
    }
}

/// The process's resident set size, from `/proc/self/status` (`VmRSS`, in kB there); 0 where
/// it cannot be read.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// One unlabelled sample.
fn single(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    value: Value,
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, kind)?;
    match value {
        Value::Int(v) if kind == MetricType::Counter => {
            m.encode_counter::<NoLabelSet, u64, u64>(&v, None)
        }
        Value::Int(v) => m.encode_gauge(&v),
        Value::Float(v) => m.encode_gauge(&v),
    }
}

/// A sample value: counters and most gauges are integers.
#[derive(Clone, Copy)]
enum Value {
    Int(u64),
    Float(f64),
}

/// One counter family with a `cmd` label, a sample per command.
fn per_command_counter(
    enc: &mut DescriptorEncoder,
    cmds: &BTreeMap<&str, CmdMetrics>,
    name: &str,
    help: &str,
    f: impl Fn(&CmdMetrics) -> u64,
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (cmd, c) in cmds {
        let labels = [("cmd", *cmd)];
        m.encode_family(&labels)?
            .encode_counter::<NoLabelSet, u64, u64>(&f(c), None)?;
    }
    Ok(())
}
/// One sample per shard.
fn per_shard(
    enc: &mut DescriptorEncoder,
    scrape: &Scrape,
    name: &str,
    help: &str,
    kind: MetricType,
    f: impl Fn(&ShardMetrics) -> u64,
) -> std::fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, kind)?;
    for (id, s) in &scrape.shards {
        let shard = id.to_string();
        let labels = [("shard", shard.as_str())];
        let mut fam = m.encode_family(&labels)?;
        let v = f(s);
        if kind == MetricType::Counter {
            fam.encode_counter::<NoLabelSet, u64, u64>(&v, None)?;
        } else {
            fam.encode_gauge(&v)?;
        }
    }
    Ok(())
}

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        use MetricType::{Counter, Gauge, Histogram};
        {
            let mut m = enc.encode_descriptor(
                "moon_build_info",
                "Build information: the Moon version and the I/O backend in use.",
                None,
                Gauge,
            )?;
            let labels = [("version", self.version), ("io_backend", self.io_backend)];
            m.encode_family(&labels)?.encode_gauge(&1u64)?;
        }
        single(
            &mut enc,
            "moon_uptime_seconds",
            "Seconds since the server started.",
            Gauge,
            Value::Float(self.uptime_secs),
        )?;
        single(
            &mut enc,
            "moon_connected_clients",
            "Client connections currently open.",
            Gauge,
            Value::Int(self.connected_clients),
        )?;
        single(
            &mut enc,
            "moon_connections_received",
            "Client connections accepted since start.",
            Counter,
            Value::Int(self.total_connections),
        )?;
        single(
            &mut enc,
            "moon_rejected_connections",
            "Connections refused because of maxclients.",
            Counter,
            Value::Int(self.rejected_connections),
        )?;
        let cmds = self.commands();
        per_command_counter(
            &mut enc,
            &cmds,
            "moon_commands",
            "Calls per command (INFO commandstats calls).",
            |c| c.calls,
        )?;
        per_command_counter(
            &mut enc,
            &cmds,
            "moon_commands_failed",
            "Calls per command that replied with an error.",
            |c| c.failed,
        )?;
        {
            let mut m = enc.encode_descriptor(
                "moon_command_duration_seconds",
                "Time to execute each command on its connection's shard.",
                None,
                Histogram,
            )?;
            for (name, c) in &cmds {
                let labels = [("cmd", *name)];
                // The encoder takes per-bucket counts and accumulates them itself.
                let mut below = 0;
                let buckets: Vec<(f64, u64)> = BUCKET_USEC
                    .iter()
                    .zip(c.buckets.iter())
                    .map(|(&b, &n)| (b as f64 / 1e6, n))
                    .chain(std::iter::once((f64::INFINITY, c.count)))
                    .map(|(le, cumulative)| {
                        let own = cumulative.saturating_sub(below);
                        below = below.max(cumulative);
                        (le, own)
                    })
                    .collect();
                m.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                    c.usec as f64 / 1e6,
                    c.count,
                    &buckets,
                    None,
                )?;
            }
        }
        single(
            &mut enc,
            "moon_commands_processed",
            "Commands processed (INFO total_commands_processed).",
            Counter,
            Value::Int(self.sum(|m| m.commands)),
        )?;
        single(
            &mut enc,
            "moon_error_replies",
            "Error replies sent (INFO total_error_replies).",
            Counter,
            Value::Int(self.sum(|m| m.errors)),
        )?;
        single(
            &mut enc,
            "moon_memory_rss_bytes",
            "Resident set size of the process (INFO used_memory_rss).",
            Gauge,
            Value::Int(self.rss_bytes),
        )?;
        per_shard(
            &mut enc,
            self,
            "moon_shard_keys",
            "Keys held by each shard (all databases).",
            Gauge,
            |m| m.keys,
        )?;
        per_shard(
            &mut enc,
            self,
            "moon_shard_expires",
            "Keys with a TTL held by each shard.",
            Gauge,
            |m| m.expires,
        )?;
        per_shard(
            &mut enc,
            self,
            "moon_shard_memory_bytes",
            "Estimated keyspace memory of each shard.",
            Gauge,
            |m| m.used_memory,
        )?;
        per_shard(
            &mut enc,
            self,
            "moon_shard_commands",
            "Commands processed by each shard's connections.",
            Counter,
            |m| m.commands,
        )?;
        per_shard(
            &mut enc,
            self,
            "moon_shard_clients",
            "Client connections served by each shard.",
            Gauge,
            |m| m.clients,
        )?;
        for (name, help, v) in [
            (
                "moon_expired_keys",
                "Keys removed because their TTL passed.",
                self.sum(|m| m.expired),
            ),
            (
                "moon_evicted_keys",
                "Keys evicted because of maxmemory.",
                self.sum(|m| m.evicted),
            ),
            (
                "moon_keyspace_hits",
                "Key lookups that found the key.",
                self.sum(|m| m.hits),
            ),
            (
                "moon_keyspace_misses",
                "Key lookups that did not find the key.",
                self.sum(|m| m.misses),
            ),
            (
                "moon_net_input_bytes",
                "Bytes read from clients.",
                self.sum(|m| m.net_in),
            ),
            (
                "moon_net_output_bytes",
                "Bytes written to clients.",
                self.sum(|m| m.net_out),
            ),
        ] {
            single(&mut enc, name, help, Counter, Value::Int(v))?;
        }
        let flag = |b: bool| Value::Int(u64::from(b));
        single(
            &mut enc,
            "moon_last_save_timestamp_seconds",
            "Unix time by which every shard had a successful snapshot (LASTSAVE).",
            Gauge,
            Value::Int(self.last_save),
        )?;
        single(
            &mut enc,
            "moon_changes_since_last_save",
            "Writes since each shard's last snapshot, summed.",
            Gauge,
            Value::Int(self.persist().map(|p| p.dirty).sum()),
        )?;
        single(
            &mut enc,
            "moon_snapshot_in_progress",
            "1 while any shard takes a snapshot (BGSAVE) or rewrite (BGREWRITEAOF).",
            Gauge,
            flag(self.persist().any(|p| p.in_progress.is_some())),
        )?;
        single(
            &mut enc,
            "moon_last_snapshot_ok",
            "1 if every shard's last snapshot succeeded.",
            Gauge,
            flag(self.persist().all(|p| p.last_ok)),
        )?;
        single(
            &mut enc,
            "moon_snapshots",
            "Snapshot rounds completed since start.",
            Counter,
            Value::Int(self.persist().map(|p| p.saves).max().unwrap_or(0)),
        )?;
        single(
            &mut enc,
            "moon_wal_enabled",
            "1 when the write-ahead log is on (appendonly yes).",
            Gauge,
            flag(self.persist().any(|p| p.wal)),
        )?;
        single(
            &mut enc,
            "moon_wal_bytes",
            "Size of the WAL segment files of every shard.",
            Gauge,
            Value::Int(self.persist().map(|p| p.wal_size).sum()),
        )?;
        single(
            &mut enc,
            "moon_wal_write_failed",
            "1 if a shard's WAL write or fsync failed.",
            Gauge,
            flag(self.persist().any(|p| p.wal_failed)),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(samples: &[u64]) -> CmdStat {
        let mut st = CmdStat::default();
        for &s in samples {
            st.calls += 1;
            st.usec += s;
            st.hist.record(s);
        }
        st
    }

    #[test]
    fn buckets_are_cumulative_at_fixed_bounds() {
        let m = CmdMetrics::from_stat(&stat(&[1, 3, 10, 100, 5000]));
        assert_eq!(m.count, 5);
        assert_eq!(m.buckets[0], 1); // <= 1 µs
        assert_eq!(m.buckets[1], 2); // <= 4 µs
        assert_eq!(m.buckets[2], 3); // <= 16 µs
        assert_eq!(m.buckets[4], 4); // <= 256 µs
        assert_eq!(m.buckets[6], 4); // <= 4096 µs
        assert_eq!(m.buckets[7], 5); // <= 16384 µs
        assert!(m.buckets.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*m.buckets.last().unwrap_or(&0), 5);
        let empty = CmdMetrics::from_stat(&CmdStat::default());
        assert_eq!(empty.buckets, [0; BUCKET_USEC.len()]);
    }

    #[test]
    fn render_is_prometheus_text() {
        let mut shard = ShardMetrics {
            published: true,
            keys: 3,
            ..ShardMetrics::default()
        };
        shard
            .cmds
            .insert("set".into(), CmdMetrics::from_stat(&stat(&[2, 2, 40])));
        let scrape = Scrape {
            version: "9.9.9",
            io_backend: "epoll",
            shards: vec![(0, shard.clone()), (1, shard)],
            ..Scrape::default()
        };
        let text = scrape.render();
        for want in [
            "# TYPE moon_build_info gauge\n",
            "moon_build_info{version=\"9.9.9\",io_backend=\"epoll\"} 1\n",
            "# TYPE moon_commands_total counter\n",
            "moon_commands_total{cmd=\"set\"} 6\n",
            "# TYPE moon_command_duration_seconds histogram\n",
            "moon_command_duration_seconds_bucket{cmd=\"set\",le=\"4e-06\"} 4\n",
            "moon_command_duration_seconds_bucket{cmd=\"set\",le=\"6.4e-05\"} 6\n",
            "moon_command_duration_seconds_bucket{cmd=\"set\",le=\"+Inf\"} 6\n",
            "moon_command_duration_seconds_count{cmd=\"set\"} 6\n",
            "moon_shard_keys{shard=\"0\"} 3\n",
            "moon_shard_keys{shard=\"1\"} 3\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }
}
