//! Shared harness for the end-to-end tests: starts a `moon` server on a free loopback port in
//! a fresh temp dir, and hands out clients (the `redis` crate, or the byte-exact [`Conn`]).
//!
//! Invariants:
//! - Every [`Server`] owns its child process and temp dir; `Drop` kills the child, waits for
//!   it and removes the dir, so no test leaks a server even when it panics.
//! - `Server::start` returns only once the server answered a command over TCP.
//!
//! Setting `MOON_TEST_SERVER` to a `redis-server` executable runs the suite against that
//! reference server instead (flags it does not know, `--shards` and `--io`, are dropped), which
//! is how the tests themselves are checked against real Redis semantics.
#![allow(dead_code)]

pub mod ft;
pub mod reference;
pub mod resp;
pub mod tool;
pub mod venv;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[allow(unused_imports)] // not every test file uses both
pub use resp::{Conn, Reply};

/// How long a server gets to accept its first command.
const START_DEADLINE: Duration = Duration::from_secs(15);

/// Read timeout of every client socket: long enough for a loaded 2-core machine, short
/// enough that a hung server fails the test instead of the whole run.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A running server, killed on drop.
pub struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    /// Starts a server with the default flags plus `extra_args`; panics (printing the log)
    /// if it does not answer within the deadline. Retries once, on a fresh port, because
    /// the probed port can be taken by someone else between probe and bind.
    pub fn start(extra_args: &[&str]) -> Server {
        match Self::try_start(extra_args) {
            Ok(s) => s,
            Err(first) => match Self::try_start(extra_args) {
                Ok(s) => s,
                Err(second) => panic!(
                    "server failed to start twice\n--- first attempt ---\n{first}\n--- second attempt ---\n{second}"
                ),
            },
        }
    }

    /// Starts a server whose data directory is `dir` (kept by [`Server::kill`] /
    /// [`Server::stop`] for a restart on the same data).
    pub fn start_in(dir: &Path, extra_args: &[&str]) -> Server {
        std::fs::create_dir_all(dir).expect("create data dir");
        match Self::try_start_in(dir.to_path_buf(), extra_args) {
            Ok(s) => s,
            Err(first) => match Self::try_start_in(dir.to_path_buf(), extra_args) {
                Ok(s) => s,
                Err(second) => panic!(
                    "server failed to start twice\n--- first attempt ---\n{first}\n--- second attempt ---\n{second}"
                ),
            },
        }
    }

    /// Runs the server binary on `dir` in the foreground and returns its exit status and
    /// output: for start-up failures (recovery refusing damaged files).
    pub fn run_to_exit(dir: &Path, extra_args: &[&str]) -> (std::process::ExitStatus, String) {
        let (bin, args) = command_line(free_port(), dir, extra_args);
        let out = Command::new(&bin)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("run server");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status, text)
    }

    /// `kill -9`, then a new server on the same data directory with `args`.
    pub fn crash_restart(self, args: &[&str]) -> Server {
        let dir = self.kill();
        Server::start_in(&dir, args)
    }

    /// A clean stop (SIGTERM), then a new server on the same data directory with `args`.
    pub fn stop_restart(self, args: &[&str]) -> Server {
        let dir = self.stop();
        Server::start_in(&dir, args)
    }

    /// SIGKILL (a crash): the data directory is kept and returned.
    pub fn kill(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::take(&mut self.dir);
        std::mem::forget(self);
        dir
    }

    /// SIGTERM and wait for a clean exit (shutdown saves); the data directory is kept.
    pub fn stop(mut self) -> PathBuf {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::take(&mut self.dir);
        std::mem::forget(self);
        dir
    }

    fn try_start(extra_args: &[&str]) -> Result<Server, String> {
        Self::try_start_in(fresh_dir(), extra_args)
    }

    fn try_start_in(dir: PathBuf, extra_args: &[&str]) -> Result<Server, String> {
        let port = free_port();
        let log_path = dir.join("server.log");
        let log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| e.to_string())?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let (bin, args) = command_line(port, &dir, extra_args);
        let child = Command::new(&bin)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("spawn {bin}: {e}"))?;
        let mut server = Server { child, port, dir };
        match server.wait_ready() {
            Ok(()) => Ok(server),
            Err(why) => Err(format!("{why}\nlog:\n{}", read_log(&log_path))),
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_DEADLINE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("server exited early: {status}"));
            }
            if probe(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "server did not answer PING on port {} within {START_DEADLINE:?}",
            self.port
        ))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        read_log(&self.dir.join("server.log"))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A RESP2 `redis` crate connection.
    pub fn client(&self) -> redis::Connection {
        open_client(&self.url())
    }

    /// A RESP3 `redis` crate connection (the crate sends `HELLO 3` on connect).
    pub fn client_resp3(&self) -> redis::Connection {
        open_client(&format!("{}?protocol=resp3", self.url()))
    }

    /// A plain socket with read/write timeouts, for byte-level tests.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
        s.set_write_timeout(Some(IO_TIMEOUT))
            .expect("write timeout");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    /// A byte-exact RESP client.
    pub fn conn(&self) -> Conn {
        Conn::new(self.raw())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn open_client(url: &str) -> redis::Connection {
    let client = redis::Client::open(url).expect("client url");
    let con = client.get_connection().expect("connect");
    con.set_read_timeout(Some(IO_TIMEOUT))
        .expect("read timeout");
    con.set_write_timeout(Some(IO_TIMEOUT))
        .expect("write timeout");
    con
}

/// Binary and arguments: `moon`, or the reference server named by `MOON_TEST_SERVER`.
fn command_line(port: u16, dir: &Path, extra: &[&str]) -> (String, Vec<String>) {
    let mut args: Vec<String> = vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    match std::env::var("MOON_TEST_SERVER") {
        Ok(bin) if !bin.is_empty() => {
            let mut it = extra.iter();
            while let Some(a) = it.next() {
                if *a == "--shards" || *a == "--io" {
                    it.next();
                } else {
                    args.push((*a).to_string());
                }
            }
            args.extend(["--save", "", "--appendonly", "no"].map(String::from));
            (bin, args)
        }
        _ => {
            args.extend(extra.iter().map(|a| (*a).to_string()));
            (env!("CARGO_BIN_EXE_moon").to_string(), args)
        }
    }
}

/// Server flags: two shards, no persistence at all.
pub const TWO_SHARDS_NO_WAL: [&str; 6] = ["--shards", "2", "--appendonly", "no", "--save", ""];

/// Server flags: two shards, a WAL synced on every write, no automatic snapshots.
pub const TWO_SHARDS_WAL_ALWAYS: [&str; 8] = [
    "--shards",
    "2",
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--save",
    "",
];

/// True when the reference server (not `moon`) is under test.
pub fn is_reference() -> bool {
    std::env::var("MOON_TEST_SERVER").is_ok_and(|v| !v.is_empty())
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind probe port");
    l.local_addr().expect("probe addr").port()
}

pub fn fresh_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("moon-it-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("<no log: {e}>"))
}

/// Any complete reply line to `PING` (even `-NOAUTH` under `--requirepass`) means ready.
fn probe(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    matches!(got.first(), Some(b'+') | Some(b'-'))
}

/// Polls `cond` until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The full text of a server error from the `redis` crate (`CODE detail`), for exact matching.
pub fn err_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(c), Some(d)) => format!("{c} {d}"),
        (Some(c), None) => c.to_string(),
        _ => e.to_string(),
    }
}

/// The shard owning `key` in a server started with `--shards shards` (Redis Cluster's
/// CRC16/XMODEM of the hash tag, slot ranges split evenly), computed independently of the
/// server so tests can place keys on chosen shards.
pub fn shard_of(key: &[u8], shards: usize) -> usize {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    let mut crc: u16 = 0;
    for &b in tagged {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    let slot = usize::from(crc) % 16384;
    slot * shards / 16384
}

/// `prefix:N` keys, one on each of the first `count` shards of a `shards`-shard server, in
/// shard order.
pub fn keys_on_shards(prefix: &str, count: usize, shards: usize) -> Vec<String> {
    (0..count)
        .map(|want| {
            (0..)
                .map(|i| format!("{prefix}:{i}"))
                .find(|k| shard_of(k.as_bytes(), shards) == want)
                .unwrap_or_default()
        })
        .collect()
}

/// Polls `INFO persistence` until the line `field:want` appears (a snapshot or rewrite done);
/// panics after a minute, printing the section.
pub fn wait_persistence(con: &mut redis::Connection, field: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info: String = redis::cmd("INFO")
            .arg("persistence")
            .query(con)
            .expect("INFO persistence");
        if info
            .lines()
            .any(|l| l.trim_end() == format!("{field}:{want}"))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{field} never became {want}:\n{info}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// INFO text as `(field, value)` pairs, section headers and blank lines left out.
pub fn info_fields(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect()
}

/// The value of `name` in pairs from [`info_fields`]; panics (failing the test) if absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("INFO lacks {name}: {fields:?}"))
}
