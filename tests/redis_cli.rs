//! The real `redis-cli` against Moon: `--pipe` mass insert, `--scan --pattern`, `--bigkeys`,
//! `--memkeys`, `--stat`, `--latency --raw`, `--rdb` (refused cleanly: Moon has no
//! replication) and the command hints `redis-cli` fetches with COMMAND DOCS.
//!
//! Each test prints why and returns when `redis-cli` is not installed. Every run of the tool
//! is bounded by a deadline; a tool left running is killed.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Reply, Server};

/// Deadline for one redis-cli run (a loaded 2-core CI machine).
const DEADLINE: Duration = Duration::from_secs(20);

fn redis_cli() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("redis-cli"))
        .find(|p| p.is_file())
}

macro_rules! need_cli {
    () => {
        match redis_cli() {
            Some(p) => p,
            None => {
                println!("skipped: redis-cli is not installed (not on PATH)");
                return;
            }
        }
    };
}

/// Runs redis-cli to completion with `input` on stdin; returns (success, stdout, stderr).
fn run(cli: &PathBuf, s: &Server, args: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &s.port().to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = writer.join();
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a never-ending redis-cli mode and returns its first `n` stdout lines (then kills it).
fn first_lines(cli: &PathBuf, s: &Server, args: &[&str], n: usize) -> Vec<String> {
    let mut child = Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &s.port().to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-cli");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while lines.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn pipe_mass_insert_then_scan_bigkeys_memkeys() {
    let cli = need_cli!();
    let s = Server::start(&["--shards", "2"]);
    let mut input = Vec::new();
    for i in 0..2000 {
        input.extend_from_slice(&common::resp::encode(&[
            "SET".to_string(),
            format!("user:{i}"),
            format!("value-{i}"),
        ]));
    }
    input.extend_from_slice(&common::resp::encode(&[
        "RPUSH", "biglist", "a", "b", "c", "d",
    ]));
    input.extend_from_slice(&common::resp::encode(&[
        "HSET", "bighash", "f1", "v1", "f2", "v2",
    ]));
    let (ok, out, err) = run(&cli, &s, &["--pipe"], &input);
    println!("--pipe printed: {out}{err}");
    assert!(ok, "{out}{err}");
    assert!(out.contains("errors: 0, replies: 2002"), "{out}");
    let mut c = s.conn();
    assert_eq!(c.q("DBSIZE"), Reply::Int(2002));

    let (ok, out, _) = run(&cli, &s, &["--scan", "--pattern", "user:19*"], b"");
    assert!(ok);
    let mut keys: Vec<&str> = out.lines().collect();
    keys.sort_unstable();
    keys.dedup();
    // user:19, user:190..199, user:1900..1999
    assert_eq!(keys.len(), 1 + 10 + 100, "{out}");
    assert!(keys.iter().all(|k| k.starts_with("user:19")));

    let (ok, out, err) = run(&cli, &s, &["--bigkeys"], b"");
    println!("--bigkeys printed (tail): {}", tail(&out, 12));
    assert!(ok, "{err}");
    assert!(out.contains("Sampled 2002 keys in the keyspace!"), "{out}");
    assert!(
        out.contains("Biggest   list found '\"biglist\"' has 4 items"),
        "{out}"
    );
    assert!(
        out.contains("Biggest   hash found '\"bighash\"' has 2 fields"),
        "{out}"
    );
    assert!(out.contains("2000 strings with"), "{out}");

    let (ok, out, err) = run(&cli, &s, &["--memkeys"], b"");
    println!("--memkeys printed (tail): {}", tail(&out, 8));
    assert!(ok, "{err}");
    assert!(out.contains("Sampled 2002 keys in the keyspace!"), "{out}");
    assert!(out.contains("1 lists with"), "{out}");
    assert!(out.contains("2000 strings with"), "{out}");
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[test]
fn stat_and_latency_modes() {
    let cli = need_cli!();
    let s = Server::start(&["--shards", "2"]);
    let mut c = s.conn();
    c.q("SET a 1");
    // --stat prints a header and one line per interval; stdout to a pipe is block-buffered,
    // so a short interval fills the buffer quickly.
    let lines = first_lines(&cli, &s, &["--stat", "-i", "0.01"], 4);
    println!("--stat printed: {lines:#?}");
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines[0].contains("data") && lines[0].contains("load"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("keys"), "{lines:?}");
    let fields: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(fields.first(), Some(&"1"), "one key: {lines:?}");
    // --latency in raw mode: one "min max avg samples" line after the interval, then exits.
    let (ok, out, err) = run(&cli, &s, &["--latency", "--raw", "-i", "0.2"], b"");
    println!("--latency --raw printed: {out}");
    assert!(ok, "{err}");
    let nums: Vec<f64> = out
        .split_whitespace()
        .map(|v| v.parse().expect("number"))
        .collect();
    assert_eq!(nums.len(), 4, "{out}");
    assert!(
        nums[0] <= nums[2] && nums[2] <= nums[1],
        "min <= avg <= max: {out}"
    );
    assert!(nums[3] >= 1.0, "{out}");
}

#[test]
fn rdb_fails_cleanly_and_server_lives() {
    let cli = need_cli!();
    let s = Server::start(&[]);
    let target = s.dir().join("cli-dump.rdb");
    let target_arg = target.display().to_string();
    let (ok, out, err) = run(&cli, &s, &["--rdb", &target_arg], b"");
    println!("--rdb printed: {out}{err}");
    assert!(!ok, "Moon has no replication stream: --rdb must fail");
    assert!(
        format!("{out}{err}").contains("SYNC with master failed"),
        "{out}{err}"
    );
    let mut c = s.conn();
    assert_eq!(c.q("PING"), Reply::simple("PONG"));
}

#[test]
fn command_hints_and_one_shot_commands() {
    let cli = need_cli!();
    let s = Server::start(&[]);
    // redis-cli builds its hints from COMMAND DOCS at start-up.
    let (ok, out, _) = run(&cli, &s, &["COMMAND", "DOCS", "set"], b"");
    assert!(ok);
    assert!(out.contains("summary") && out.contains("group"), "{out}");
    let (ok, out, _) = run(&cli, &s, &["SLOWLOG", "LEN"], b"");
    assert!(ok);
    out.trim()
        .parse::<u64>()
        .expect("SLOWLOG LEN is an integer");
    let (ok, out, _) = run(&cli, &s, &["LATENCY", "DOCTOR"], b"");
    assert!(ok);
    assert!(out.starts_with("I'm sorry, Dave"), "{out}");
    let (ok, out, _) = run(&cli, &s, &["--no-raw", "MEMORY", "STATS"], b"");
    assert!(ok);
    assert!(out.contains("\"peak.allocated\""), "{out}");
    let (ok, out, _) = run(&cli, &s, &["INFO", "latencystats"], b"");
    assert!(ok);
    assert!(out.contains("# Latencystats"), "{out}");
}
