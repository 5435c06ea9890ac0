//! INFO: each shard reports its counters through a closure run on its own thread; the
//! connection's shard formats them with Redis's section and field names.

use std::fmt::Write as _;

use crate::conn::Part;
use crate::shared::Shared;
use crate::worker::{CmdStat, Worker};

/// The redis_version Moon reports: the Redis feature level its command surface follows.
pub const REDIS_COMPAT_VERSION: &str = "7.2.0";

/// What one shard contributes to INFO.
#[derive(Debug, Clone, Default)]
pub struct ShardReport {
    /// Shard index.
    pub id: usize,
    /// (db, keys, expires) for non-empty dbs.
    pub keyspace: Vec<(usize, usize, usize)>,
    /// Commands processed.
    pub commands: u64,
    /// Network bytes in.
    pub net_in: u64,
    /// Network bytes out.
    pub net_out: u64,
    /// Error replies.
    pub errors: u64,
    /// Per-command stats.
    pub cmdstats: Vec<(String, CmdStat)>,
    /// Keys expired.
    pub expired: u64,
    /// Keys evicted.
    pub evicted: u64,
    /// Clients parked in a blocking command on this shard.
    pub blocked: usize,
    /// Keyspace hits.
    pub hits: u64,
    /// Keyspace misses.
    pub misses: u64,
    /// Estimated bytes used by the keyspace.
    pub used_memory: u64,
    /// Connections on this shard.
    pub clients: usize,
    /// Pub/Sub names registered on this shard.
    pub pubsub: crate::pubsub::Names,
    /// Snapshot and WAL state.
    pub persist: crate::persist::PersistReport,
}

/// Collect this worker's report (runs on the worker's thread).
pub fn report(w: &mut Worker) -> ShardReport {
    let st = w.shard.stats();
    ShardReport {
        id: w.id,
        keyspace: w.shard.keyspace_info(),
        commands: w.stats.commands,
        net_in: w.stats.net_input,
        net_out: w.stats.net_output,
        errors: w.stats.error_replies,
        cmdstats: w
            .stats
            .cmdstats
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        expired: st.expired_keys,
        evicted: st.evicted_keys,
        blocked: w.conns.values().filter(|c| c.blocked_on.is_some()).count(),
        hits: st.keyspace_hits,
        misses: st.keyspace_misses,
        used_memory: w.shard.used_memory_estimate() as u64,
        clients: w.conns.len(),
        pubsub: w.pubsub.report(),
        persist: w.persist_report(),
    }
}

/// Reports out of the gathered parts.
pub fn reports(parts: Vec<Part>) -> Vec<ShardReport> {
    parts
        .into_iter()
        .filter_map(|p| match p {
            Part::Any(b) => b.downcast::<ShardReport>().ok().map(|b| *b),
            Part::Reply(_) => None,
        })
        .collect()
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "shards"];

/// Which sections a request selects, in output order.
pub fn selected_sections(args: &[String]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = DEFAULT_SECTIONS.to_vec();
    all.extend_from_slice(ALL_EXTRA);
    if args.is_empty() || args.iter().any(|a| a == "default") {
        return DEFAULT_SECTIONS.to_vec();
    }
    if args.iter().any(|a| a == "all" || a == "everything") {
        return all;
    }
    all.into_iter()
        .filter(|s| args.iter().any(|a| a == s))
        .collect()
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn cpu_times() -> (f64, f64) {
    // /proc/self/stat fields 14 and 15 are utime and stime in clock ticks (100 Hz on Linux).
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = text.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (tick(11), tick(12))
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else {
        format!("{bytes}B")
    }
}

/// Format INFO text for the selected sections.
pub fn format(shared: &Shared, sections: &[&str], reports: &[ShardReport]) -> String {
    let mut out = String::new();
    let cfg = shared.config();
    let sum = |f: &dyn Fn(&ShardReport) -> u64| reports.iter().map(f).sum::<u64>();
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let _ = write!(out, "# {}\r\n", capitalize(section));
        let mut kv = |k: &str, v: String| {
            let _ = write!(out, "{k}:{v}\r\n");
        };
        match *section {
            "server" => {
                let up = shared.started.elapsed().as_secs();
                kv("redis_version", REDIS_COMPAT_VERSION.into());
                kv("moon_version", env!("CARGO_PKG_VERSION").into());
                kv("redis_mode", "standalone".into());
                kv(
                    "os",
                    format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
                );
                kv("arch_bits", (usize::BITS).to_string());
                kv(
                    "multiplexing_api",
                    match *shared.io_backend.read().unwrap_or_else(|p| p.into_inner()) {
                        Some(crate::driver::IoBackend::Epoll) => "epoll".into(),
                        _ => "io_uring".into(),
                    },
                );
                kv("process_id", std::process::id().to_string());
                kv("run_id", shared.run_id.clone());
                kv("tcp_port", cfg.port.to_string());
                kv(
                    "server_time_usec",
                    (crate::shared::now_ms() * 1000).to_string(),
                );
                kv("uptime_in_seconds", up.to_string());
                kv("uptime_in_days", (up / 86400).to_string());
                kv("hz", cfg.hz.to_string());
                kv(
                    "executable",
                    std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                );
                kv(
                    "config_file",
                    cfg.config_file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                );
                kv("shards", shared.shards().to_string());
            }
            "clients" => {
                kv(
                    "connected_clients",
                    shared
                        .connected_clients
                        .load(std::sync::atomic::Ordering::Relaxed)
                        .to_string(),
                );
                kv("maxclients", cfg.maxclients.to_string());
                kv("blocked_clients", sum(&|r| r.blocked as u64).to_string());
            }
            "memory" => {
                let used = sum(&|r| r.used_memory);
                let rss = rss_bytes();
                kv("used_memory", used.to_string());
                kv("used_memory_human", human(used));
                kv("used_memory_rss", rss.to_string());
                kv("used_memory_rss_human", human(rss));
                kv("maxmemory", cfg.maxmemory.to_string());
                kv("maxmemory_human", human(cfg.maxmemory));
                kv("maxmemory_policy", cfg.maxmemory_policy.name().into());
                kv("mem_allocator", "libc".into());
            }
            "persistence" => persistence(&mut kv, shared, reports),
            "stats" => {
                let up = shared.started.elapsed().as_secs_f64().max(0.001);
                let ops = sum(&|r| r.commands);
                kv(
                    "total_connections_received",
                    shared
                        .total_connections
                        .load(std::sync::atomic::Ordering::Relaxed)
                        .to_string(),
                );
                kv("total_commands_processed", ops.to_string());
                kv(
                    "instantaneous_ops_per_sec",
                    ((ops as f64 / up) as u64).to_string(),
                );
                kv("total_net_input_bytes", sum(&|r| r.net_in).to_string());
                kv("total_net_output_bytes", sum(&|r| r.net_out).to_string());
                kv(
                    "rejected_connections",
                    shared
                        .rejected_connections
                        .load(std::sync::atomic::Ordering::Relaxed)
                        .to_string(),
                );
                kv("expired_keys", sum(&|r| r.expired).to_string());
                kv("evicted_keys", sum(&|r| r.evicted).to_string());
                kv("keyspace_hits", sum(&|r| r.hits).to_string());
                kv("keyspace_misses", sum(&|r| r.misses).to_string());
                let (channels, patterns, shard_channels) =
                    crate::pubsub::distinct_counts(reports.iter().map(|r| &r.pubsub));
                kv("pubsub_channels", channels.to_string());
                kv("pubsub_patterns", patterns.to_string());
                kv("pubsubshard_channels", shard_channels.to_string());
                kv("total_error_replies", sum(&|r| r.errors).to_string());
            }
            "replication" => {
                kv("role", "master".into());
                kv("connected_slaves", "0".into());
            }
            "cpu" => {
                let (user, sys) = cpu_times();
                kv("used_cpu_sys", format!("{sys:.6}"));
                kv("used_cpu_user", format!("{user:.6}"));
            }
            "keyspace" => {
                let mut dbs = [(0usize, 0usize); moon_engine::DATABASES];
                for r in reports {
                    for &(db, keys, expires) in &r.keyspace {
                        if let Some(slot) = dbs.get_mut(db) {
                            slot.0 += keys;
                            slot.1 += expires;
                        }
                    }
                }
                for (db, (keys, expires)) in dbs.iter().enumerate() {
                    if *keys > 0 {
                        kv(
                            &format!("db{db}"),
                            format!("keys={keys},expires={expires},avg_ttl=0"),
                        );
                    }
                }
            }
            "commandstats" => {
                let mut merged: std::collections::BTreeMap<String, CmdStat> = Default::default();
                for r in reports {
                    for (name, st) in &r.cmdstats {
                        let m = merged.entry(name.clone()).or_default();
                        m.calls += st.calls;
                        m.usec += st.usec;
                        m.failed += st.failed;
                    }
                }
                for (name, st) in merged {
                    let per = if st.calls > 0 {
                        st.usec as f64 / st.calls as f64
                    } else {
                        0.0
                    };
                    kv(
                        &format!("cmdstat_{name}"),
                        format!(
                            "calls={},usec={},usec_per_call={per:.2},rejected_calls=0,failed_calls={}",
                            st.calls, st.usec, st.failed
                        ),
                    );
                }
            }
            "shards" => {
                for r in reports {
                    let keys: usize = r.keyspace.iter().map(|k| k.1).sum();
                    kv(
                        &format!("shard{}", r.id),
                        format!(
                            "keys={keys},used_memory={},ops={},clients={}",
                            r.used_memory, r.commands, r.clients
                        ),
                    );
                }
            }
            // modules, errorstats, cluster: the headers alone (no modules, no cluster mode).
            "cluster" => kv("cluster_enabled", "0".into()),
            _ => {}
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    match s {
        "cpu" => "CPU".into(),
        "commandstats" => "Commandstats".into(),
        "errorstats" => "Errorstats".into(),
        _ => {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// INFO persistence with Redis 7's field names, summed or combined over shards (a snapshot
/// is "in progress" while any shard's is; the last-save figures are the oldest shard's).
fn persistence(kv: &mut impl FnMut(&str, String), shared: &Shared, reports: &[ShardReport]) {
    use crate::persist::SnapKind;
    let p: Vec<&crate::persist::PersistReport> = reports.iter().map(|r| &r.persist).collect();
    let any = |f: &dyn Fn(&crate::persist::PersistReport) -> bool| p.iter().any(|r| f(r));
    let sum =
        |f: &dyn Fn(&crate::persist::PersistReport) -> u64| p.iter().map(|r| f(r)).sum::<u64>();
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    let ok = |b: bool| if b { "ok" } else { "err" }.to_string();
    let secs = |v: Option<u64>| v.map_or("-1".to_string(), |s| s.to_string());
    let saving = any(&|r| r.in_progress == Some(SnapKind::Save));
    let rewriting = any(&|r| r.in_progress == Some(SnapKind::Rewrite));
    let current = p
        .iter()
        .filter(|r| r.in_progress.is_some())
        .map(|r| r.current_secs)
        .max();
    kv("loading", "0".into());
    kv("async_loading", "0".into());
    kv("current_cow_peak", "0".into());
    kv("current_cow_size", sum(&|r| r.cow_bytes).to_string());
    kv("current_cow_size_age", "0".into());
    kv("current_fork_perc", "0.00".into());
    kv("current_save_keys_processed", "0".into());
    kv("current_save_keys_total", "0".into());
    kv("rdb_changes_since_last_save", sum(&|r| r.dirty).to_string());
    kv("rdb_bgsave_in_progress", flag(saving));
    kv("rdb_last_save_time", shared.last_save().to_string());
    kv("rdb_last_bgsave_status", ok(p.iter().all(|r| r.last_ok)));
    kv(
        "rdb_last_bgsave_time_sec",
        secs(p.iter().filter_map(|r| r.last_secs).max()),
    );
    kv(
        "rdb_current_bgsave_time_sec",
        secs(current.filter(|_| saving)),
    );
    // Every shard saves once per BGSAVE: count rounds, as Redis counts saves.
    kv(
        "rdb_saves",
        p.iter().map(|r| r.saves).max().unwrap_or(0).to_string(),
    );
    kv("rdb_last_cow_size", sum(&|r| r.last_cow_bytes).to_string());
    kv(
        "rdb_last_load_keys_expired",
        sum(&|r| r.loaded.1).to_string(),
    );
    kv(
        "rdb_last_load_keys_loaded",
        sum(&|r| r.loaded.0).to_string(),
    );
    let wal = any(&|r| r.wal);
    kv("aof_enabled", flag(wal));
    kv("aof_rewrite_in_progress", flag(rewriting));
    kv("aof_rewrite_scheduled", flag(any(&|r| r.scheduled)));
    kv(
        "aof_last_rewrite_time_sec",
        secs(p.iter().filter_map(|r| r.last_rewrite_secs).max()),
    );
    kv(
        "aof_current_rewrite_time_sec",
        secs(current.filter(|_| rewriting)),
    );
    kv(
        "aof_last_bgrewrite_status",
        ok(p.iter().all(|r| r.last_rewrite_ok)),
    );
    kv(
        "aof_rewrites",
        p.iter().map(|r| r.rewrites).max().unwrap_or(0).to_string(),
    );
    kv("aof_rewrites_consecutive_failures", "0".into());
    kv("aof_last_write_status", ok(!any(&|r| r.wal_failed)));
    kv("aof_last_cow_size", "0".into());
    kv("module_fork_in_progress", "0".into());
    kv("module_fork_last_cow_size", "0".into());
    if wal {
        kv("aof_current_size", sum(&|r| r.wal_size).to_string());
        kv("aof_base_size", "0".into());
        kv("aof_pending_rewrite", flag(any(&|r| r.scheduled)));
        kv("aof_buffer_length", "0".into());
        kv("aof_pending_bio_fsync", "0".into());
        kv("aof_delayed_fsync", "0".into());
    }
}
