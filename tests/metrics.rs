//! The admin endpoint and logging end to end: `--admin-port` serves `GET /metrics` in the
//! Prometheus text format (HELP/TYPE for every family, per-command counters that count exactly
//! the commands sent, monotonic histogram buckets whose `+Inf` equals the count, per-shard
//! keys summing to DBSIZE), 404/405 elsewhere; `--logfile` receives the Redis-style banner;
//! `CONFIG SET loglevel` changes what is logged at run time.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::{Server, is_reference, wait_until};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("probe a free port")
}

/// One HTTP/1.1 request over a plain socket: (status code, body).
fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the admin port");
    s.set_read_timeout(Some(common::IO_TIMEOUT))
        .expect("read timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("response head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("Content-Length");
    // HEAD announces the length of the body GET would send, and sends none.
    let expected = if method == "HEAD" { 0 } else { length };
    assert_eq!(expected, body.len(), "Content-Length matches the body");
    if method == "HEAD" {
        assert!(length > 0, "HEAD /metrics announces the page's length");
    }
    (status, body.to_string())
}

/// A parsed exposition: family → (help, type), and samples (name, labels, value).
struct Exposition {
    families: BTreeMap<String, (String, String)>,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    // Label values here never contain `,` or `"` (command names, numbers, versions).
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').expect("label k=v");
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

fn parse(text: &str) -> Exposition {
    let mut families = BTreeMap::new();
    let mut help = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, h) = rest.split_once(' ').expect("HELP name text");
            help.insert(name.to_string(), h.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, t) = rest.split_once(' ').expect("TYPE name type");
            let h = help
                .get(name)
                .unwrap_or_else(|| panic!("TYPE before HELP for {name}"));
            families.insert(name.to_string(), (h.clone(), t.to_string()));
        } else {
            assert!(!line.starts_with('#'), "unexpected comment {line:?}");
            let (series, value) = line.rsplit_once(' ').expect("sample value");
            let (name, labels) = match series.split_once('{') {
                Some((n, l)) => (n, parse_labels(l.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value in {line:?}")),
            };
            samples.push((name.to_string(), labels, value));
        }
    }
    Exposition { families, samples }
}

impl Exposition {
    /// The family a sample belongs to (histograms' `_bucket`/`_sum`/`_count`).
    fn family_of(&self, sample: &str) -> Option<&str> {
        if self.families.contains_key(sample) {
            return self.families.get_key_value(sample).map(|(k, _)| k.as_str());
        }
        ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
            let base = sample.strip_suffix(suffix)?;
            let (k, (_, t)) = self.families.get_key_value(base)?;
            (t == "histogram").then_some(k.as_str())
        })
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.2)
    }
}

fn scrape(port: u16) -> Exposition {
    let (status, body) = http(port, "GET", "/metrics");
    assert_eq!(status, 200, "{body}");
    parse(&body)
}

#[test]
fn metrics_endpoint_serves_prometheus_text() {
    if is_reference() {
        println!("skipped: the admin endpoint is Moon's own (redis-server has none)");
        return;
    }
    let admin = free_port();
    let admin_arg = admin.to_string();
    let s = Server::start(&["--shards", "2", "--hz", "50", "--admin-port", &admin_arg]);
    let mut c = s.client();
    const SETS: usize = 40;
    for i in 0..SETS {
        let () = redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg(i)
            .query(&mut c)
            .expect("SET");
    }
    for i in 0..5 {
        let _: Option<String> = redis::cmd("GET")
            .arg(format!("key:{i}"))
            .query(&mut c)
            .expect("GET");
    }
    let _: Option<String> = redis::cmd("GET").arg("missing").query(&mut c).expect("GET");
    for _ in 0..2 {
        let refused = redis::cmd("CONFIG")
            .arg("SET")
            .arg("no-such-parameter")
            .arg("1")
            .query::<()>(&mut c);
        assert!(refused.is_err(), "CONFIG SET of an unknown parameter fails");
    }
    let dbsize: u64 = redis::cmd("DBSIZE").query(&mut c).expect("DBSIZE");
    assert_eq!(dbsize, SETS as u64);

    // Shards publish on their tick: wait until the scrape has caught up.
    let mut page = scrape(admin);
    let caught_up = wait_until(Duration::from_secs(10), || {
        page = scrape(admin);
        // Hits are counted on the shard that owns the key, which may publish on a later tick
        // than the connection's shard.
        page.value("moon_commands_total", &[("cmd", "set")]) == Some(SETS as f64)
            && page.value("moon_commands_total", &[("cmd", "dbsize")]) == Some(1.0)
            && page.value("moon_keyspace_hits_total", &[]) >= Some(5.0)
    });
    assert!(
        caught_up,
        "moon_commands_total{{cmd=\"set\"}} never reached {SETS}: {:?}",
        page.value("moon_commands_total", &[("cmd", "set")])
    );

    // Every sample belongs to a family with HELP and TYPE; names are conventional.
    for (name, _, _) in &page.samples {
        let fam = page
            .family_of(name)
            .unwrap_or_else(|| panic!("sample {name} has no HELP/TYPE"));
        assert!(fam.starts_with("moon_"), "{fam}");
        let (help, kind) = &page.families[fam];
        assert!(!help.is_empty(), "{fam} has an empty HELP");
        if kind == "counter" {
            assert!(fam.ends_with("_total"), "counter {fam} lacks _total");
        }
    }
    for (fam, kind) in [
        ("moon_build_info", "gauge"),
        ("moon_uptime_seconds", "gauge"),
        ("moon_connected_clients", "gauge"),
        ("moon_connections_received_total", "counter"),
        ("moon_rejected_connections_total", "counter"),
        ("moon_commands_total", "counter"),
        ("moon_commands_failed_total", "counter"),
        ("moon_command_duration_seconds", "histogram"),
        ("moon_shard_keys", "gauge"),
        ("moon_shard_memory_bytes", "gauge"),
        ("moon_shard_commands_total", "counter"),
        ("moon_expired_keys_total", "counter"),
        ("moon_evicted_keys_total", "counter"),
        ("moon_keyspace_hits_total", "counter"),
        ("moon_keyspace_misses_total", "counter"),
        ("moon_net_input_bytes_total", "counter"),
        ("moon_net_output_bytes_total", "counter"),
        ("moon_last_save_timestamp_seconds", "gauge"),
        ("moon_snapshot_in_progress", "gauge"),
        ("moon_wal_bytes", "gauge"),
    ] {
        assert_eq!(
            page.families.get(fam).map(|f| f.1.as_str()),
            Some(kind),
            "family {fam}"
        );
    }

    // Build info names the version and the backend actually in use.
    let info = page
        .samples
        .iter()
        .find(|(n, _, _)| n == "moon_build_info")
        .expect("moon_build_info sample");
    assert_eq!(info.2, 1.0);
    assert_eq!(
        info.1.get("version").map(String::as_str),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(
        matches!(
            info.1.get("io_backend").map(String::as_str),
            Some("io_uring" | "epoll")
        ),
        "{:?}",
        info.1
    );

    // Failed calls: the two refused CONFIG SETs.
    assert_eq!(
        page.value("moon_commands_failed_total", &[("cmd", "config")]),
        Some(2.0)
    );
    assert_eq!(
        page.value("moon_commands_failed_total", &[("cmd", "set")]),
        Some(0.0)
    );
    assert_eq!(
        page.value("moon_commands_total", &[("cmd", "get")]),
        Some(6.0)
    );
    assert!(page.value("moon_keyspace_hits_total", &[]) >= Some(5.0));
    assert!(page.value("moon_keyspace_misses_total", &[]) >= Some(1.0));
    assert!(page.value("moon_net_input_bytes_total", &[]) > Some(0.0));
    assert!(page.value("moon_memory_rss_bytes", &[]) > Some(0.0));

    // The SET histogram: buckets cumulative in `le` order, +Inf = count = calls.
    let mut buckets: Vec<(f64, f64)> = page
        .samples
        .iter()
        .filter(|(n, l, _)| {
            n == "moon_command_duration_seconds_bucket"
                && l.get("cmd").map(String::as_str) == Some("set")
        })
        .map(|(_, l, v)| {
            let le = match l["le"].as_str() {
                "+Inf" => f64::INFINITY,
                x => x.parse().expect("le"),
            };
            (le, *v)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() > 2, "{buckets:?}");
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "buckets not monotonic: {buckets:?}"
    );
    let inf = buckets.last().expect("+Inf bucket");
    assert!(inf.0.is_infinite());
    assert_eq!(inf.1, SETS as f64);
    assert_eq!(
        page.value("moon_command_duration_seconds_count", &[("cmd", "set")]),
        Some(SETS as f64)
    );
    assert!(page.value("moon_command_duration_seconds_sum", &[("cmd", "set")]) > Some(0.0));

    // Per-shard keys: both shards report, and they sum to DBSIZE.
    let shard_keys: Vec<f64> = page
        .samples
        .iter()
        .filter(|(n, _, _)| n == "moon_shard_keys")
        .map(|s| s.2)
        .collect();
    assert_eq!(shard_keys.len(), 2, "one sample per shard");
    assert_eq!(shard_keys.iter().sum::<f64>(), dbsize as f64);
    assert!(shard_keys.iter().all(|&k| k > 0.0), "{shard_keys:?}");

    // Other paths and methods.
    assert_eq!(http(admin, "GET", "/").0, 404);
    assert_eq!(http(admin, "GET", "/metrics/x").0, 404);
    assert_eq!(http(admin, "POST", "/metrics").0, 405);
    let (status, body) = http(admin, "HEAD", "/metrics");
    assert_eq!((status, body.as_str()), (200, ""));
    // A request line that is not HTTP.
    let mut raw = TcpStream::connect(("127.0.0.1", admin)).expect("connect");
    raw.set_read_timeout(Some(common::IO_TIMEOUT))
        .expect("timeout");
    raw.write_all(b"PING\r\n\r\n").expect("send");
    let mut reply = String::new();
    raw.read_to_string(&mut reply).expect("read");
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
}

#[test]
fn admin_endpoint_is_off_by_default_and_configurable() {
    if is_reference() {
        println!("skipped: admin-port is Moon's own parameter");
        return;
    }
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.client();
    let port: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("admin-port")
        .query(&mut c)
        .expect("CONFIG GET admin-port");
    assert_eq!(port, vec!["admin-port".to_string(), "0".to_string()]);
    let bind: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("admin-bind")
        .query(&mut c)
        .expect("CONFIG GET admin-bind");
    assert_eq!(
        bind,
        vec!["admin-bind".to_string(), "127.0.0.1".to_string()]
    );
    let err = redis::cmd("CONFIG")
        .arg("SET")
        .arg("admin-port")
        .arg("9999")
        .query::<()>(&mut c)
        .expect_err("admin-port is immutable");
    assert!(
        common::err_text(&err).contains("admin-port"),
        "{}",
        common::err_text(&err)
    );
}

/// True if `line` starts with Redis's prefix `pid:M dd Mon yyyy hh:mm:ss.mmm <mark> `.
fn redis_prefixed(line: &str, mark: char) -> bool {
    let mut words = line.split(' ');
    let role = words.next().unwrap_or("");
    let (pid, r) = role.split_once(':').unwrap_or(("", ""));
    let day = words.next().unwrap_or("");
    let month = words.next().unwrap_or("");
    let year = words.next().unwrap_or("");
    let time = words.next().unwrap_or("");
    let m = words.next().unwrap_or("");
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && r == "M"
        && digits(day, 2)
        && month.len() == 3
        && digits(year, 4)
        && time.len() == 12
        && time.as_bytes().get(8) == Some(&b'.')
        && m == mark.to_string()
}

#[test]
fn banner_goes_to_logfile_and_loglevel_changes_at_run_time() {
    if is_reference() {
        println!("skipped: checks Moon's own banner");
        return;
    }
    let dir = common::fresh_dir();
    let logfile = dir.join("moon.log");
    let logfile_arg = logfile.display().to_string();
    let admin = free_port();
    let admin_arg = admin.to_string();
    let s = Server::start(&[
        "--shards",
        "2",
        "--logfile",
        &logfile_arg,
        "--loglevel",
        "notice",
        "--admin-port",
        &admin_arg,
    ]);
    let read = || std::fs::read_to_string(&logfile).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(10), || read()
            .contains("ready to accept connections")),
        "no ready line in the log file:\n{}",
        read()
    );
    let log = read();
    let banner = log
        .lines()
        .find(|l| l.contains("just started"))
        .unwrap_or_else(|| panic!("no banner in:\n{log}"));
    assert!(redis_prefixed(banner, '*'), "{banner}");
    assert!(
        banner.contains(&format!("Moon version={}", env!("CARGO_PKG_VERSION"))),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("pid={}", banner.split(':').next().unwrap_or("?"))),
        "{banner}"
    );
    let config_line = log
        .lines()
        .find(|l| l.contains("Configuration:"))
        .unwrap_or_else(|| panic!("no configuration line in:\n{log}"));
    assert!(config_line.contains("shards=2"), "{config_line}");
    assert!(
        config_line.contains("io backend=io_uring") || config_line.contains("io backend=epoll"),
        "{config_line}"
    );
    assert!(
        config_line.contains(&format!("port={}", s.port())),
        "{config_line}"
    );
    assert!(log.contains("Persistence: "), "{log}");
    assert!(
        log.contains(&format!("Admin endpoint: http://127.0.0.1:{admin}/metrics")),
        "{log}"
    );
    // Nothing went to stdout: the harness's own log of the process stays empty of it.
    assert!(!s.log().contains("just started"), "{}", s.log());

    // At notice, the endpoint's verbose-level request line is filtered out.
    let mut c = s.client();
    assert_eq!(http(admin, "GET", "/nope").0, 404);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!read().contains("admin request"), "{}", read());

    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("loglevel")
        .arg("debug")
        .query(&mut c)
        .expect("CONFIG SET loglevel debug");
    let level: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("loglevel")
        .query(&mut c)
        .expect("CONFIG GET loglevel");
    assert_eq!(level, vec!["loglevel".to_string(), "debug".to_string()]);
    assert_eq!(http(admin, "GET", "/nope").0, 404);
    assert!(
        wait_until(Duration::from_secs(5), || read().contains("admin request")),
        "CONFIG SET loglevel debug did not take effect:\n{}",
        read()
    );
    let line = read()
        .lines()
        .find(|l| l.contains("admin request"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(redis_prefixed(&line, '-'), "{line}");

    // And back: warning filters out notice-level lines too.
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("loglevel")
        .arg("warning")
        .query(&mut c)
        .expect("CONFIG SET loglevel warning");
    let before = read().lines().count();
    assert_eq!(http(admin, "GET", "/nope").0, 404);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(read().lines().count(), before, "{}", read());
    drop(c);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unwritable_logfile_stops_start_up() {
    if is_reference() {
        println!("skipped: checks Moon's own message");
        return;
    }
    let dir = common::fresh_dir();
    let logfile = dir.join("no-such-dir").join("moon.log");
    let (status, out) = Server::run_to_exit(&dir, &["--logfile", &logfile.display().to_string()]);
    assert!(!status.success(), "{out}");
    assert!(out.contains("Can't open the log file"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
