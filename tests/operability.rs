//! Observability end to end: every INFO section and its numeric fields, CLIENT LIST fields,
//! SLOWLOG after a slow command, MONITOR seeing commands that other clients run on other
//! shards, LATENCY HISTOGRAM / LATEST / DOCTOR shapes, CONFIG REWRITE round trip and MEMORY
//! STATS/DOCTOR/MALLOC-STATS/PURGE.

mod common;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use common::{Reply, Server, field, info_fields, is_reference};

#[test]
fn info_everything_has_every_redis_section_and_numeric_fields() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    c.q("SET a 1");
    c.q("GET a");
    assert!(matches!(c.q("GET"), Reply::Error(_)));
    assert!(matches!(c.q("LPUSH a x"), Reply::Error(_)));
    let text = c.q("INFO everything").text();
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("# ")).collect();
    let mut want = vec![
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Commandstats",
        "# Errorstats",
        "# Latencystats",
        "# Cluster",
        "# Keyspace",
    ];
    if !is_reference() {
        want.push("# Shards");
    }
    assert_eq!(headers, want, "{text}");
    let f = info_fields(&text);
    for name in [
        "uptime_in_seconds",
        "connected_clients",
        "maxclients",
        "blocked_clients",
        "used_memory",
        "used_memory_rss",
        "used_memory_peak",
        "used_memory_dataset",
        "total_system_memory",
        "rdb_changes_since_last_save",
        "total_connections_received",
        "total_commands_processed",
        "total_net_input_bytes",
        "total_net_output_bytes",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "total_error_replies",
        "connected_slaves",
        "master_repl_offset",
        "lru_clock",
        "configured_hz",
    ] {
        field(&f, name)
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{name} is not a number: {}", field(&f, name)));
    }
    for name in ["used_cpu_sys", "used_cpu_user", "mem_fragmentation_ratio"] {
        field(&f, name)
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("{name} is not a float"));
    }
    // errorstats: one ERR (arity) and one WRONGTYPE.
    assert_eq!(field(&f, "errorstat_ERR"), "count=1");
    assert_eq!(field(&f, "errorstat_WRONGTYPE"), "count=1");
    // latencystats: Redis's key and percentile names, values with 3 decimals.
    let lat = f
        .iter()
        .find(|(k, _)| k == "latency_percentiles_usec_set")
        .map(|(_, v)| v.clone())
        .expect("latencystats for set");
    let parts: Vec<&str> = lat.split(',').collect();
    assert_eq!(parts.len(), 3, "{lat}");
    for (p, want) in parts.iter().zip(["p50=", "p99=", "p99.9="]) {
        let v = p.strip_prefix(want).unwrap_or_else(|| panic!("{lat}"));
        assert_eq!(v.split('.').nth(1).map(str::len), Some(3), "{lat}");
        v.parse::<f64>().expect("percentile value");
    }
    // INFO latencystats alone, and the percentiles parameter.
    c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", "90"]);
    let only = c.q("INFO latencystats").text();
    assert!(only.starts_with("# Latencystats\r\n"), "{only}");
    assert!(only.contains("latency_percentiles_usec_set:p90="), "{only}");
    assert!(matches!(
        c.q("CONFIG SET latency-tracking-info-percentiles 101"),
        Reply::Error(_)
    ));
    if !is_reference() {
        let shards = c.q("INFO shards").text();
        let lines: Vec<&str> = shards.lines().filter(|l| l.starts_with("shard")).collect();
        assert_eq!(lines.len(), 2, "{shards}");
        for l in lines {
            for k in ["keys=", "used_memory=", "ops=", "clients=", "inbox_depth="] {
                assert!(l.contains(k), "{l}");
            }
        }
    }
    // RESETSTAT clears errorstats.
    c.q("CONFIG RESETSTAT");
    let after = c.q("INFO errorstats").text();
    assert!(!after.contains("errorstat_"), "{after}");
}

#[test]
fn client_list_prints_redis_fields_in_order() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    c.q("CLIENT SETNAME watcher");
    c.q("MULTI");
    c.q("PING");
    let mut other = s.conn();
    let list = other.q("CLIENT LIST").text();
    let line = list
        .lines()
        .find(|l| l.contains("name=watcher"))
        .expect("the named client");
    let keys: Vec<&str> = line
        .split(' ')
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k))
        .collect();
    let redis70 = [
        "id",
        "addr",
        "laddr",
        "fd",
        "name",
        "age",
        "idle",
        "flags",
        "db",
        "sub",
        "psub",
        "ssub",
        "multi",
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
        "tot-mem",
        "events",
        "cmd",
        "user",
        "redir",
        "resp",
    ];
    assert_eq!(&keys[..redis70.len()], &redis70[..], "{line}");
    let get = |k: &str| {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")[..]))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(get("flags"), "x", "{line}");
    assert_eq!(get("multi"), "1", "{line}");
    for k in ["id", "age", "idle", "qbuf", "qbuf-free", "omem", "tot-mem"] {
        get(k)
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{k}: {line}"));
    }
    c.q("DISCARD");
    let info = c.q("CLIENT INFO").text();
    assert!(
        info.contains(" flags=N ") && info.contains(" multi=-1 "),
        "{info}"
    );
}

#[test]
fn slowlog_records_slow_commands_across_shards() {
    if is_reference() {
        println!("skipped: the reference server refuses DEBUG without enable-debug-command");
        return;
    }
    let s = Server::start(&["--shards", "2", "--slowlog-log-slower-than", "10000"]);
    let mut c = s.conn();
    c.q("SLOWLOG RESET");
    c.q("CLIENT SETNAME slowpoke");
    c.q("SET fast 1");
    assert_eq!(c.q("DEBUG SLEEP 0.05"), Reply::ok());
    assert_eq!(c.q("SLOWLOG LEN"), Reply::Int(1));
    let entries = c.q("SLOWLOG GET").items();
    assert_eq!(entries.len(), 1);
    let e = entries[0].items();
    assert_eq!(e.len(), 6);
    assert!(e[2].int() >= 50_000, "{e:?}");
    assert_eq!(e[3], Reply::bulks(&["DEBUG", "SLEEP", "0.05"]));
    assert!(e[4].text().starts_with("127.0.0.1:"), "{e:?}");
    assert_eq!(e[5], Reply::bulk("slowpoke"));
    // Log everything, from clients on both shards; ids are unique and newest first.
    c.q("CONFIG SET slowlog-log-slower-than 0");
    let mut others: Vec<_> = (0..4).map(|_| s.conn()).collect();
    for (i, o) in others.iter_mut().enumerate() {
        o.q(&format!("SET k{i} v"));
    }
    let all = c.q("SLOWLOG GET -1").items();
    let ids: Vec<i64> = all.iter().map(|e| e.items()[0].int()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted, "unique, newest first");
    assert!(all.len() >= 6, "{all:?}");
    assert_eq!(c.q("SLOWLOG GET 2").items().len(), 2);
    assert_eq!(c.q("SLOWLOG GET 0").items().len(), 0);
    // Long arguments are cut like Redis.
    let long = "x".repeat(200);
    c.q(&format!("SET big {long}"));
    let top = c.q("SLOWLOG GET 1").items()[0].items()[3].items();
    assert_eq!(
        top[2].text(),
        format!("{}... (72 more bytes)", &long[..128])
    );
    // Secrets never reach the log.
    let _ = c.q("AUTH someone secret");
    let logged = c.q("SLOWLOG GET 1").items()[0].items()[3].clone();
    assert_eq!(logged, Reply::bulks(&["AUTH", "(redacted)", "(redacted)"]));
    assert_eq!(
        c.q("SLOWLOG GET -2"),
        Reply::err("ERR count should be greater than or equal to -1")
    );
    assert_eq!(c.q("SLOWLOG RESET"), Reply::ok());
    // As in Redis, the RESET itself is the first entry of the emptied log.
    assert_eq!(c.q("SLOWLOG LEN"), Reply::Int(1));
    c.q("CONFIG SET slowlog-log-slower-than -1");
    c.q("SLOWLOG RESET");
    c.q("SET again 1");
    assert_eq!(c.q("SLOWLOG LEN"), Reply::Int(0));
    assert_eq!(
        c.q("CONFIG GET slowlog-max-len"),
        Reply::bulks(&["slowlog-max-len", "128"])
    );
}

#[test]
fn monitor_sees_commands_of_every_shard() {
    let s = Server::start(&["--shards", "4"]);
    let mut m = s.conn();
    assert_eq!(m.q("MONITOR"), Reply::ok());
    let keys = common::keys_on_shards("mon", 4, 4);
    let mut clients: Vec<_> = (0..4).map(|_| s.conn()).collect();
    for (c, k) in clients.iter_mut().zip(&keys) {
        assert_eq!(c.q(&format!("SET {k} v")), Reply::ok());
    }
    clients[0].q("AUTH user pass");
    clients[0].q("CONFIG GET maxclients");
    clients[0].q("PING");
    let reader = BufReader::new(m.stream().try_clone().expect("clone"));
    m.stream()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut lines = Vec::new();
    for line in reader.lines() {
        let line = line.expect("monitor line");
        let done = line.contains("\"PING\"");
        lines.push(line);
        if done {
            break;
        }
    }
    for k in &keys {
        let want = format!("\"SET\" \"{k}\" \"v\"");
        let l = lines
            .iter()
            .find(|l| l.ends_with(&want))
            .unwrap_or_else(|| panic!("no {want} in {lines:?}"));
        // +<secs>.<usec> [0 127.0.0.1:port] ...
        let (ts, rest) = l[1..].split_once(' ').expect("timestamp");
        assert!(l.starts_with('+'));
        let (secs, usec) = ts.split_once('.').expect("dot");
        secs.parse::<u64>().expect("secs");
        assert_eq!(usec.len(), 6);
        assert!(rest.starts_with("[0 127.0.0.1:"), "{l}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("\"AUTH\" \"(redacted)\" \"(redacted)\"")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("maxclients")),
        "admin commands are not shown"
    );
    // A monitor may not touch the keyspace, but may still PING and RESET.
    assert_eq!(
        m.q("GET x"),
        Reply::err("ERR Replica can't interact with the keyspace")
    );
    assert_eq!(m.q("RESET"), Reply::simple("RESET"));
    assert_eq!(m.q("GET x"), Reply::NilBulk);
}

#[test]
fn monitor_shows_script_commands_as_lua() {
    let s = Server::start(&["--shards", "1"]);
    let mut m = s.conn();
    assert_eq!(m.q("MONITOR"), Reply::ok());
    let mut c = s.conn();
    c.cmd(&["EVAL", "return redis.call('set','lk','1')", "0"]);
    c.q("PING");
    let reader = BufReader::new(m.stream().try_clone().expect("clone"));
    m.stream()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut lines = Vec::new();
    for line in reader.lines() {
        let line = line.expect("line");
        let done = line.contains("\"PING\"");
        lines.push(line);
        if done {
            break;
        }
    }
    assert!(lines.iter().any(|l| l.contains("\"EVAL\"")), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" [0 lua] \"set\" \"lk\" \"1\"")),
        "{lines:?}"
    );
}

#[test]
fn latency_commands_have_redis_shapes() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    for i in 0..5 {
        c.q(&format!("SET h{i} v"));
    }
    c.q("GET h1");
    let h = c.q("LATENCY HISTOGRAM set get nosuch");
    let pairs = h.pairs();
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    // Redis answers in its command table's hash order; Moon by name.
    names.sort_unstable();
    assert_eq!(names, ["get", "set"]);
    let set = &pairs.iter().find(|(k, _)| k == "set").expect("set").1;
    assert_eq!(set.field("calls"), Reply::Int(5));
    // RESP2: a flat array of bound, cumulative count, ...
    let buckets = set.field("histogram_usec").items();
    assert!(!buckets.is_empty() && buckets.len() % 2 == 0, "{buckets:?}");
    let mut last = 0;
    for pair in buckets.chunks(2) {
        assert!((pair[0].int() as u64).is_power_of_two(), "{pair:?}");
        assert!(pair[1].int() > last);
        last = pair[1].int();
    }
    assert_eq!(last, 5);
    // RESP3: maps.
    let mut c3 = s.conn();
    c3.q("HELLO 3");
    assert!(matches!(c3.q("LATENCY HISTOGRAM set"), Reply::Map(_)));
    assert_eq!(c.q("LATENCY HISTOGRAM nosuch"), Reply::Array(vec![]));
    // The monitor is off by default.
    assert_eq!(c.q("LATENCY LATEST"), Reply::Array(vec![]));
    assert!(c.q("LATENCY DOCTOR").text().starts_with("I'm sorry, Dave"));
    if is_reference() {
        println!(
            "the rest skipped: the reference server refuses DEBUG without enable-debug-command"
        );
        return;
    }
    c.q("CONFIG SET latency-monitor-threshold 10");
    c.q("DEBUG SLEEP 0.03");
    let latest = c.q("LATENCY LATEST").items();
    assert_eq!(latest.len(), 1, "{latest:?}");
    let e = latest[0].items();
    assert_eq!(e[0], Reply::bulk("command"));
    assert!(e[2].int() >= 30 && e[3].int() >= 30, "{e:?}");
    let hist = c.q("LATENCY HISTORY command").items();
    assert_eq!(hist.len(), 1);
    assert!(
        c.q("LATENCY GRAPH command")
            .text()
            .starts_with("command - high ")
    );
    assert!(
        c.q("LATENCY DOCTOR")
            .text()
            .contains("1. command: 1 latency spikes")
    );
    assert_eq!(
        c.q("LATENCY GRAPH nosuch"),
        Reply::err("ERR No samples available for event 'nosuch'")
    );
    assert_eq!(c.q("LATENCY RESET"), Reply::Int(1));
    assert_eq!(c.q("LATENCY LATEST"), Reply::Array(vec![]));
    assert!(c.q("LATENCY HELP").items().len() > 5);
}

#[test]
fn config_rewrite_round_trip() {
    if is_reference() {
        println!("skipped: the reference harness passes no config file");
        return;
    }
    let dir = common::fresh_dir();
    let conf = dir.join("moon.conf");
    std::fs::write(
        &conf,
        "# operator notes stay\nmaxclients 500\n\n# slow log\nslowlog-max-len 64\n",
    )
    .expect("write conf");
    let conf_arg = conf.display().to_string();
    let s = Server::start(&["--shards", "2", &conf_arg]);
    let mut c = s.conn();
    assert_eq!(
        c.q("CONFIG GET maxclients"),
        Reply::bulks(&["maxclients", "500"])
    );
    c.q("CONFIG SET maxclients 600");
    c.q("CONFIG SET slowlog-log-slower-than 1234");
    c.cmd(&[
        "CONFIG",
        "SET",
        "latency-tracking-info-percentiles",
        "50 99.5",
    ]);
    assert_eq!(c.q("CONFIG REWRITE"), Reply::ok());
    let text = std::fs::read_to_string(&conf).expect("read conf");
    assert!(
        text.starts_with(
            "# operator notes stay\nmaxclients 600\n\n# slow log\nslowlog-max-len 64\n"
        ),
        "{text}"
    );
    assert!(text.contains("# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("\nslowlog-log-slower-than 1234\n"), "{text}");
    assert!(
        text.contains("\nlatency-tracking-info-percentiles \"50 99.5\"\n"),
        "{text}"
    );
    // A server started from the rewritten file has the same values.
    drop(c);
    drop(s);
    let s2 = Server::start(&["--shards", "2", &conf_arg]);
    let mut c2 = s2.conn();
    assert_eq!(
        c2.q("CONFIG GET maxclients"),
        Reply::bulks(&["maxclients", "600"])
    );
    assert_eq!(
        c2.q("CONFIG GET slowlog-log-slower-than"),
        Reply::bulks(&["slowlog-log-slower-than", "1234"])
    );
    assert_eq!(c2.q("CONFIG REWRITE"), Reply::ok());
    let once = std::fs::read_to_string(&conf).expect("reread");
    assert!(once.contains(&format!("\nport {}\n", s2.port())), "{once}");
    assert_eq!(
        once.matches("# Generated by CONFIG REWRITE").count(),
        1,
        "{once}"
    );
    assert_eq!(c2.q("CONFIG REWRITE"), Reply::ok());
    assert_eq!(
        std::fs::read_to_string(&conf).expect("reread"),
        once,
        "idempotent"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_rewrite_without_file_fails_like_redis() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.q("CONFIG REWRITE"),
        Reply::err("ERR The server is running without a config file")
    );
}

#[test]
fn memory_commands() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    for i in 0..20 {
        c.q(&format!("SET m{i} value{i}"));
    }
    let stats = c.q("MEMORY STATS");
    let names: Vec<String> = stats.pairs().into_iter().map(|(k, _)| k).collect();
    for want in [
        "peak.allocated",
        "total.allocated",
        "startup.allocated",
        "replication.backlog",
        "clients.slaves",
        "clients.normal",
        "aof.buffer",
        "lua.caches",
        "db.0",
        "overhead.total",
        "keys.count",
        "keys.bytes-per-key",
        "dataset.bytes",
        "dataset.percentage",
        "peak.percentage",
        "allocator.allocated",
        "allocator.resident",
        "fragmentation",
        "fragmentation.bytes",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "MEMORY STATS lacks {want}: {names:?}"
        );
    }
    assert_eq!(stats.field("keys.count"), Reply::Int(20));
    assert!(stats.field("total.allocated").int() > 0);
    let db0 = stats.field("db.0");
    db0.field("overhead.hashtable.main").int();
    assert!(c.q("MEMORY DOCTOR").text().starts_with("Hi Sam"));
    assert_eq!(c.q("MEMORY PURGE"), Reply::ok());
    assert!(!c.q("MEMORY MALLOC-STATS").text().is_empty());
    assert!(c.q("MEMORY USAGE m1").int() > 0);
    assert!(c.q("MEMORY HELP").items().len() > 10);
}

/// INFO commandstats splits errors as Redis does: arity errors are `rejected_calls` (not
/// calls), bad arguments and errors raised while running (WRONGTYPE, also on keys another
/// shard owns) are `failed_calls`.
#[test]
fn commandstats_count_rejected_and_failed_calls_like_redis() {
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    assert!(matches!(c.q("SET"), Reply::Error(_)));
    assert!(matches!(c.q("SET a 1 XX NX"), Reply::Error(_)));
    for i in 0..8 {
        c.q(&format!("SET s{i} v"));
    }
    for i in 0..8 {
        assert!(matches!(c.q(&format!("LPUSH s{i} x")), Reply::Error(_)));
    }
    c.q("LPUSH fresh x");
    let text = c.q("INFO commandstats").text();
    let fields = info_fields(&text);
    let set = field(&fields, "cmdstat_set");
    assert!(
        set.starts_with("calls=9,") && set.ends_with(",rejected_calls=1,failed_calls=1"),
        "{set}"
    );
    let lpush = field(&fields, "cmdstat_lpush");
    assert!(
        lpush.starts_with("calls=9,") && lpush.ends_with(",rejected_calls=0,failed_calls=8"),
        "{lpush}"
    );
}
