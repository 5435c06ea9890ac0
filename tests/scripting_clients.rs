//! Lua scripting as real client libraries use it: runs `tests/py/scripting_clients.py`
//! (redis-py 5.2.1's `Lock`, rate limiters, a job queue, the script cache and its NOSCRIPT
//! fallback) against a 4-shard moon, so multi-key scripts cross shards.
//!
//! Owns the Python environment of the tests: a venv at `target/test-venv` holding redis-py,
//! created on first use and reused afterwards.
//!
//! Invariants:
//! - The venv appears only complete: it is built under a unique temporary name and renamed
//!   into place (an atomic rename), so test binaries creating it at the same time never see a
//!   half-installed one; the loser of the race drops its copy and uses the winner's.
//! - A missing python3, venv module or PyPI access FAILS the test, saying what is missing;
//!   nothing here passes without having run the program.
//!
//! `MOON_TEST_SERVER=/usr/bin/redis-server cargo test --test scripting_clients` runs the same
//! program against the reference server (see `common::is_reference`).

mod common;

use common::Server;
use common::venv::repo_root;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Shards of the moon under test (the program places keys on distinct shards of this many).
const SHARDS: &str = "4";
/// The whole program takes a few seconds; this only bounds a hang.
const PROGRAM_DEADLINE: Duration = Duration::from_secs(240);

#[test]
fn redis_py_scripting_workloads() {
    let python = common::venv::redis_py().unwrap_or_else(|why| {
        panic!("cannot run the redis-py scripting tests: {why}");
    });
    let program = repo_root()
        .join("tests")
        .join("py")
        .join("scripting_clients.py");
    assert!(program.is_file(), "missing {}", program.display());

    let server = Server::start(&["--shards", SHARDS]);
    // Output goes to a file so a hung program can be killed at the deadline without a pipe
    // reader thread.
    let out_path = server.dir().join("scripting_clients.out");
    let out = std::fs::File::create(&out_path).expect("create output file");
    let err = out.try_clone().expect("clone output file");
    let mut child = Command::new(&python)
        .arg("-u")
        .arg(&program)
        .args(["--port", &server.port().to_string(), "--shards", SHARDS])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn the python program");
    let deadline = Instant::now() + PROGRAM_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the python program") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let target = if common::is_reference() {
        "the reference server"
    } else {
        "moon --shards 4"
    };
    match status {
        Some(s) if s.success() => {
            assert!(
                output.contains("all sections passed"),
                "the program exited 0 without its success line:\n{output}"
            );
            println!("{output}");
        }
        Some(s) => panic!(
            "scripting_clients.py failed against {target} ({s}):\n{output}\n--- server log (tail) ---\n{}",
            log_tail(&server.log())
        ),
        None => panic!(
            "scripting_clients.py did not finish within {PROGRAM_DEADLINE:?} against {target}:\n{output}\n--- server log (tail) ---\n{}",
            log_tail(&server.log())
        ),
    }
}

/// The last lines of a server log: enough to see a panic, short enough to read.
fn log_tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines.get(start..).unwrap_or_default().join("\n")
}
