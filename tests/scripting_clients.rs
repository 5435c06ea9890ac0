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
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The redis-py release the program is written against.
const REDIS_PY: &str = "redis==5.2.1";
const REDIS_PY_VERSION: &str = "5.2.1";
/// Shards of the moon under test (the program places keys on distinct shards of this many).
const SHARDS: &str = "4";
/// The whole program takes a few seconds; this only bounds a hang.
const PROGRAM_DEADLINE: Duration = Duration::from_secs(240);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// True when `python` runs and imports the wanted redis-py.
fn has_redis_py(python: &Path) -> bool {
    Command::new(python)
        .args([
            "-c",
            &format!("import redis, sys; sys.exit(redis.__version__ != '{REDIS_PY_VERSION}')"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd`; on failure returns `what` with the command's output.
fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: could not run it: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// The venv's python, creating the venv (and installing redis-py) if needed.
fn venv_python() -> Result<PathBuf, String> {
    let venv = repo_root().join("target").join("test-venv");
    let python = venv.join("bin").join("python");
    // Two tries: a concurrent creator may replace a broken venv between our check and rename.
    for _ in 0..2 {
        if has_redis_py(&python) {
            return Ok(python);
        }
        let tmp = venv.with_file_name(format!("test-venv.tmp-{}", unique_suffix()));
        let built = build_venv(&tmp);
        if let Err(why) = built {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(why);
        }
        if venv.exists() && !has_redis_py(&python) {
            // A broken leftover (an interrupted older layout, say): move it aside first so the
            // rename below can take its place.
            let aside = venv.with_file_name(format!("test-venv.broken-{}", unique_suffix()));
            if std::fs::rename(&venv, &aside).is_ok() {
                let _ = std::fs::remove_dir_all(&aside);
            }
        }
        // Fails when another creator got there first: theirs is as good as ours.
        if std::fs::rename(&tmp, &venv).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    if has_redis_py(&python) {
        Ok(python)
    } else {
        Err(format!(
            "{} has no working {REDIS_PY} after creating it",
            venv.display()
        ))
    }
}

/// Creates a venv at `dir` and installs redis-py into it; the error says what is missing.
fn build_venv(dir: &Path) -> Result<(), String> {
    run(
        Command::new("python3").arg("--version"),
        "python3 is missing",
    )?;
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    }
    run(
        Command::new("python3").args(["-m", "venv"]).arg(dir),
        "`python3 -m venv` failed (is the venv/ensurepip module, Debian's python3-venv, installed?)",
    )?;
    run(
        Command::new(dir.join("bin").join("python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            REDIS_PY,
        ]),
        &format!("`pip install {REDIS_PY}` failed (is PyPI reachable?)"),
    )?;
    let python = dir.join("bin").join("python");
    if has_redis_py(&python) {
        Ok(())
    } else {
        Err(format!(
            "pip installed {REDIS_PY} but `import redis` fails in {}",
            dir.display()
        ))
    }
}

#[test]
fn redis_py_scripting_workloads() {
    let python = venv_python().unwrap_or_else(|why| {
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
