//! Python virtual environments of the tests, under `target/<name>`: created on first use with
//! pinned packages, shared by every test binary that asks for the same name.
//!
//! Invariants:
//! - A venv appears only complete: it is built under a unique temporary name and renamed into
//!   place (an atomic rename), so test binaries creating it at the same time never see a
//!   half-installed one; the loser of the race drops its copy and uses the winner's.
//! - A venv is usable only when its probe (a python snippet exiting 0) passes; a leftover that
//!   fails the probe (an interrupted older layout, say) is moved aside and rebuilt.
//! - A missing python3, venv module or PyPI access is an `Err` saying what is missing; callers
//!   fail (never pass silently) on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// What a venv holds: its directory name under `target/`, the pinned `pip install` arguments,
/// and the python snippet that exits 0 when they are installed.
pub struct VenvSpec<'a> {
    pub name: &'a str,
    pub packages: &'a [&'a str],
    pub probe: &'a str,
}

/// The repository root (the root package's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `cmd`; on failure returns `what` with the command's output.
pub fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
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

/// A name no other process or call uses (temporary directories).
pub fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

fn probe_ok(python: &Path, probe: &str) -> bool {
    Command::new(python)
        .args(["-c", probe])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The venv's python, creating `target/<spec.name>` if needed.
pub fn python(spec: &VenvSpec) -> Result<PathBuf, String> {
    let venv = repo_root().join("target").join(spec.name);
    let python = venv.join("bin").join("python");
    // Two tries: a concurrent creator may replace a broken venv between our check and rename.
    for _ in 0..2 {
        if probe_ok(&python, spec.probe) {
            return Ok(python);
        }
        let tmp = venv.with_file_name(format!("{}.tmp-{}", spec.name, unique_suffix()));
        if let Err(why) = build(&tmp, spec) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(why);
        }
        if venv.exists() && !probe_ok(&python, spec.probe) {
            let aside = venv.with_file_name(format!("{}.broken-{}", spec.name, unique_suffix()));
            if std::fs::rename(&venv, &aside).is_ok() {
                let _ = std::fs::remove_dir_all(&aside);
            }
        }
        // Fails when another creator got there first: theirs is as good as ours.
        if std::fs::rename(&tmp, &venv).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    if probe_ok(&python, spec.probe) {
        Ok(python)
    } else {
        Err(format!(
            "{} has no working {:?} after creating it",
            venv.display(),
            spec.packages
        ))
    }
}

/// Creates a venv at `dir` and installs the packages; the error says what is missing.
fn build(dir: &Path, spec: &VenvSpec) -> Result<(), String> {
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
        Command::new(dir.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(spec.packages),
        &format!(
            "`pip install {:?}` failed (is PyPI reachable?)",
            spec.packages
        ),
    )?;
    if probe_ok(&dir.join("bin").join("python"), spec.probe) {
        Ok(())
    } else {
        Err(format!(
            "pip installed {:?} but the import probe fails in {}",
            spec.packages,
            dir.display()
        ))
    }
}

/// The redis-py release the Python client tests are written against.
pub const REDIS_PY_VERSION: &str = "5.2.1";

/// The venv of the redis-py tests (`target/test-venv`).
pub fn redis_py() -> Result<PathBuf, String> {
    python(&VenvSpec {
        name: "test-venv",
        packages: &["redis==5.2.1"],
        probe: "import redis, redis.commands.search, sys; sys.exit(redis.__version__ != '5.2.1')",
    })
}

/// Runs the python program `code` with `args` and asserts it exits 0 having printed
/// `ok_line` (so a program that stops early, or prints nothing, fails the test).
pub fn assert_python_ok(python: &Path, code: &str, args: &[&str], ok_line: &str) {
    let out = Command::new(python)
        .arg("-c")
        .arg(code)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run python");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains(ok_line), "{text}");
}
