//! The `moon-tool` binary for end-to-end tests: built once per test binary (cargo builds it for
//! its own tests in a workspace run, but not necessarily before the test that needs it; building
//! every time keeps it from being stale) and run with its output captured.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The moon-tool binary beside the moon binary, (re)built on first use.
pub fn moon_tool() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let path = Path::new(env!("CARGO_BIN_EXE_moon")).with_file_name("moon-tool");
    BUILT.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "moon-tool", "--bin", "moon-tool"])
            .status()
            .expect("cargo build moon-tool");
        assert!(status.success(), "building moon-tool failed");
    });
    path
}

/// Run moon-tool with `args`.
pub fn output(args: &[&str]) -> Output {
    Command::new(moon_tool())
        .args(args)
        .output()
        .expect("run moon-tool")
}

/// Stdout then stderr of a run, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Run moon-tool with `args`: (exit status success, stdout + stderr).
pub fn run(args: &[&str]) -> (bool, String) {
    let out = output(args);
    (out.status.success(), text(&out))
}
