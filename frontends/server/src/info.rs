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
    /// Largest query buffer and pending output of this shard's clients (`limits.rs`).
    pub max_buffers: (u64, u64),
    /// Error replies by prefix (INFO errorstats).
    pub errorstats: Vec<(String, u64)>,
    /// Messages waiting in this shard's inbound rings, all sources.
    pub inbox_depth: usize,
    /// Outbound rings with messages waiting in their overflow queues.
    pub outbox_backlogged: usize,
    /// Bytes held by this shard's client buffers.
    pub client_bytes: u64,
    /// Connections moved to this shard (`migrate.rs`).
    pub migrated_in: u64,
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
            .map(|(k, v)| (k.clone(), v.clone()))
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
        max_buffers: crate::limits::max_buffers(w.conns.values().map(|c| &**c)),
        errorstats: crate::monitor::error_counts(),
        inbox_depth: w.inboxes.iter().map(|c| c.slots()).sum(),
        outbox_backlogged: w.outboxes.iter().filter(|o| o.backlogged()).count(),
        migrated_in: w.stats.migrated_in,
        client_bytes: w
            .conns
            .values()
            .map(|c| (c.rbuf.capacity() + c.out.capacity() + c.spare.capacity()) as u64)
            .sum(),
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
/// Every section in Redis 7's `INFO everything` order, then Moon's `shards`.
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
    "shards",
];

/// Which sections a request selects, in output order. `default` and `all`/`everything` add
/// their groups to any sections named alongside them, as Redis 7 does.
pub fn selected_sections(args: &[String]) -> Vec<&'static str> {
    if args.is_empty() {
        return DEFAULT_SECTIONS.to_vec();
    }
    let every = args.iter().any(|a| a == "all" || a == "everything");
    let default = args.iter().any(|a| a == "default");
    ALL_SECTIONS
        .iter()
        .copied()
        .filter(|s| {
            every || (default && DEFAULT_SECTIONS.contains(s)) || args.iter().any(|a| a == s)
        })
        .collect()
}

pub(crate) fn rss_bytes() -> u64 {
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

pub(crate) fn human(bytes: u64) -> String {
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
                kv("redis_git_sha1", "00000000".into());
                kv("redis_git_dirty", "0".into());
                kv("redis_build_id", "0".into());
                kv("moon_version", env!("CARGO_PKG_VERSION").into());
                kv("redis_mode", "standalone".into());
                kv(
                    "os",
                    format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
                );
                kv("arch_bits", (usize::BITS).to_string());
                kv("monotonic_clock", "POSIX clock_gettime".into());
                kv(
                    "multiplexing_api",
                    match *shared.io_backend.read().unwrap_or_else(|p| p.into_inner()) {
                        Some(crate::driver::IoBackend::Epoll) => "epoll".into(),
                        _ => "io_uring".into(),
                    },
                );
                kv("atomicvar_api", "c11-builtin".into());
                kv("gcc_version", "0.0.0".into());
                kv("process_id", std::process::id().to_string());
                kv("process_supervised", "no".into());
                kv("run_id", shared.run_id.clone());
                kv("tcp_port", cfg.port.to_string());
                kv(
                    "server_time_usec",
                    (crate::shared::now_ms() * 1000).to_string(),
                );
                kv("uptime_in_seconds", up.to_string());
                kv("uptime_in_days", (up / 86400).to_string());
                kv("hz", cfg.hz.to_string());
                kv("configured_hz", cfg.hz.to_string());
                // Redis's LRU clock: seconds, 24 bits.
                kv(
                    "lru_clock",
                    ((crate::shared::now_ms() / 1000) & ((1 << 24) - 1)).to_string(),
                );
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
                kv("io_threads_active", "0".into());
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
                kv("cluster_connections", "0".into());
                kv("maxclients", cfg.maxclients.to_string());
                let max_in = reports.iter().map(|r| r.max_buffers.0).max().unwrap_or(0);
                let max_out = reports.iter().map(|r| r.max_buffers.1).max().unwrap_or(0);
                kv("client_recent_max_input_buffer", max_in.to_string());
                kv("client_recent_max_output_buffer", max_out.to_string());
                kv("blocked_clients", sum(&|r| r.blocked as u64).to_string());
                kv("tracking_clients", "0".into());
                kv("clients_in_timeout_table", "0".into());
            }
            "memory" => {
                let dataset = sum(&|r| r.used_memory);
                let clients = sum(&|r| r.client_bytes);
                let used = dataset + clients;
                let rss = rss_bytes();
                let peak = PEAK_MEMORY
                    .fetch_max(used, std::sync::atomic::Ordering::Relaxed)
                    .max(used);
                let pct = |a: u64, b: u64| {
                    if b == 0 {
                        "0.00%".to_string()
                    } else {
                        format!("{:.2}%", a as f64 * 100.0 / b as f64)
                    }
                };
                let ratio = |a: u64, b: u64| {
                    if b == 0 {
                        "0.00".to_string()
                    } else {
                        format!("{:.2}", a as f64 / b as f64)
                    }
                };
                let system = system_memory();
                kv("used_memory", used.to_string());
                kv("used_memory_human", human(used));
                kv("used_memory_rss", rss.to_string());
                kv("used_memory_rss_human", human(rss));
                kv("used_memory_peak", peak.to_string());
                kv("used_memory_peak_human", human(peak));
                kv("used_memory_peak_perc", pct(used, peak));
                kv("used_memory_overhead", clients.to_string());
                kv("used_memory_startup", "0".into());
                kv("used_memory_dataset", dataset.to_string());
                kv("used_memory_dataset_perc", pct(dataset, used));
                kv("allocator_allocated", used.to_string());
                kv("allocator_active", used.to_string());
                kv("allocator_resident", rss.to_string());
                kv("total_system_memory", system.to_string());
                kv("total_system_memory_human", human(system));
                for field in [
                    "used_memory_lua",
                    "used_memory_vm_eval",
                    "used_memory_scripts_eval",
                    "number_of_cached_scripts",
                    "number_of_functions",
                    "number_of_libraries",
                    "used_memory_vm_functions",
                    "used_memory_vm_total",
                    "used_memory_functions",
                    "used_memory_scripts",
                ] {
                    kv(field, "0".into());
                }
                kv("used_memory_lua_human", human(0));
                kv("used_memory_vm_total_human", human(0));
                kv("used_memory_scripts_human", human(0));
                kv("maxmemory", cfg.maxmemory.to_string());
                kv("maxmemory_human", human(cfg.maxmemory));
                kv("maxmemory_policy", cfg.maxmemory_policy.name().into());
                kv("allocator_frag_ratio", "1.00".into());
                kv("allocator_frag_bytes", "0".into());
                kv("allocator_rss_ratio", ratio(rss, used));
                // Moon has no allocator statistics: every overhead above `used` is RSS's.
                let rss_over_used = (rss as i64 - used as i64).to_string();
                kv("allocator_rss_bytes", rss_over_used.clone());
                kv("rss_overhead_ratio", "1.00".into());
                kv("rss_overhead_bytes", "0".into());
                kv("mem_fragmentation_ratio", ratio(rss, used));
                kv("mem_fragmentation_bytes", rss_over_used);
                kv("mem_not_counted_for_evict", "0".into());
                kv("mem_replication_backlog", "0".into());
                kv("mem_total_replication_buffers", "0".into());
                kv("mem_clients_slaves", "0".into());
                kv("mem_clients_normal", clients.to_string());
                kv("mem_cluster_links", "0".into());
                kv("mem_aof_buffer", "0".into());
                kv("mem_allocator", "libc".into());
                kv("active_defrag_running", "0".into());
                kv("lazyfree_pending_objects", "0".into());
                kv("lazyfreed_objects", "0".into());
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
                kv("total_net_repl_input_bytes", "0".into());
                kv("total_net_repl_output_bytes", "0".into());
                kv("instantaneous_input_kbps", "0.00".into());
                kv("instantaneous_output_kbps", "0.00".into());
                kv("instantaneous_input_repl_kbps", "0.00".into());
                kv("instantaneous_output_repl_kbps", "0.00".into());
                kv(
                    "rejected_connections",
                    shared
                        .rejected_connections
                        .load(std::sync::atomic::Ordering::Relaxed)
                        .to_string(),
                );
                kv("sync_full", "0".into());
                kv("sync_partial_ok", "0".into());
                kv("sync_partial_err", "0".into());
                kv("expired_keys", sum(&|r| r.expired).to_string());
                kv("expired_stale_perc", "0.00".into());
                kv("expired_time_cap_reached_count", "0".into());
                kv("expire_cycle_cpu_milliseconds", "0".into());
                kv("evicted_keys", sum(&|r| r.evicted).to_string());
                kv("evicted_clients", "0".into());
                kv("total_eviction_exceeded_time", "0".into());
                kv("current_eviction_exceeded_time", "0".into());
                kv("keyspace_hits", sum(&|r| r.hits).to_string());
                kv("keyspace_misses", sum(&|r| r.misses).to_string());
                let (channels, patterns, shard_channels) =
                    crate::pubsub::distinct_counts(reports.iter().map(|r| &r.pubsub));
                kv("pubsub_channels", channels.to_string());
                kv("pubsub_patterns", patterns.to_string());
                kv("pubsubshard_channels", shard_channels.to_string());
                for field in [
                    "latest_fork_usec",
                    "total_forks",
                    "migrate_cached_sockets",
                    "slave_expires_tracked_keys",
                    "active_defrag_hits",
                    "active_defrag_misses",
                    "active_defrag_key_hits",
                    "active_defrag_key_misses",
                    "total_active_defrag_time",
                    "current_active_defrag_time",
                    "tracking_total_keys",
                    "tracking_total_items",
                    "tracking_total_prefixes",
                    "unexpected_error_replies",
                ] {
                    kv(field, "0".into());
                }
                kv("total_error_replies", sum(&|r| r.errors).to_string());
                // Moon: connections moved between shards (`migrate-connections`).
                kv("migrated_connections", sum(&|r| r.migrated_in).to_string());
                kv("dump_payload_sanitizations", "0".into());
                kv("total_reads_processed", sum(&|r| r.commands).to_string());
                kv("total_writes_processed", sum(&|r| r.commands).to_string());
                kv("io_threaded_reads_processed", "0".into());
                kv("io_threaded_writes_processed", "0".into());
                kv("reply_buffer_shrinks", "0".into());
                kv("reply_buffer_expands", "0".into());
                kv(
                    "moon_panics_contained",
                    crate::contain::panics_contained().to_string(),
                );
            }
            "replication" => {
                kv("role", "master".into());
                kv("connected_slaves", "0".into());
                kv("master_failover_state", "no-failover".into());
                kv("master_replid", shared.run_id.clone());
                kv(
                    "master_replid2",
                    "0000000000000000000000000000000000000000".into(),
                );
                kv("master_repl_offset", "0".into());
                kv("second_repl_offset", "-1".into());
                kv("repl_backlog_active", "0".into());
                kv("repl_backlog_size", "1048576".into());
                kv("repl_backlog_first_byte_offset", "0".into());
                kv("repl_backlog_histlen", "0".into());
            }
            "cpu" => {
                let (user, sys) = cpu_times();
                kv("used_cpu_sys", format!("{sys:.6}"));
                kv("used_cpu_user", format!("{user:.6}"));
                kv("used_cpu_sys_children", "0.000000".into());
                kv("used_cpu_user_children", "0.000000".into());
                kv("used_cpu_sys_main_thread", format!("{sys:.6}"));
                kv("used_cpu_user_main_thread", format!("{user:.6}"));
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
                        m.rejected += st.rejected;
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
                            "calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}",
                            st.calls, st.usec, st.rejected, st.failed
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
                            "keys={keys},used_memory={},ops={},clients={},inbox_depth={},outbox_backlogged={}",
                            r.used_memory,
                            r.commands,
                            r.clients,
                            r.inbox_depth,
                            r.outbox_backlogged
                        ),
                    );
                }
            }
            "errorstats" => {
                let mut merged: std::collections::BTreeMap<&str, u64> = Default::default();
                for r in reports {
                    for (prefix, n) in &r.errorstats {
                        *merged.entry(prefix.as_str()).or_default() += n;
                    }
                }
                for (prefix, n) in merged {
                    kv(&format!("errorstat_{prefix}"), format!("count={n}"));
                }
            }
            "latencystats" if cfg.latency_tracking => {
                let mut merged: std::collections::BTreeMap<&str, crate::latency::Histogram> =
                    Default::default();
                for r in reports {
                    for (name, st) in &r.cmdstats {
                        merged.entry(name.as_str()).or_default().merge(&st.hist);
                    }
                }
                for (name, h) in merged {
                    if h.count() == 0 {
                        continue;
                    }
                    let ps: Vec<String> = cfg
                        .latency_tracking_info_percentiles
                        .iter()
                        .map(|p| format!("p{p}={:.3}", h.percentile(*p)))
                        .collect();
                    kv(&format!("latency_percentiles_usec_{name}"), ps.join(","));
                }
            }
            // modules, errorstats, cluster: the headers alone (no modules, no cluster mode).
            "cluster" => kv("cluster_enabled", "0".into()),
            _ => {}
        }
    }
    out
}

/// Highest `used_memory` INFO has reported (`used_memory_peak`).
static PEAK_MEMORY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Physical memory of the machine (`/proc/meminfo` MemTotal).
fn system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn capitalize(s: &str) -> String {
    match s {
        "cpu" => "CPU".into(),
        "commandstats" => "Commandstats".into(),
        "errorstats" => "Errorstats".into(),
        "latencystats" => "Latencystats".into(),
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
