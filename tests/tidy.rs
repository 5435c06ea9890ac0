//! Repository hygiene checked on every test run: every Rust module starts with a `//!` doc
//! comment saying what it owns, every `unsafe` block carries a `// SAFETY:` comment, and no
//! file holds an absolute path of a developer machine.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["engine", "formats", "frontends", "tools", "tests", "fuzz"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 20,
        "expected the workspace's sources, found {}",
        files.len()
    );
    files
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a //! doc comment: {missing:?}"
    );
}

#[test]
fn every_unsafe_block_has_a_safety_comment() {
    let mut bad = Vec::new();
    for path in sources().into_iter().filter(|p| !p.ends_with("tidy.rs")) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if !code.contains("unsafe {") && !code.contains("unsafe{") {
                continue;
            }
            let window = &lines[i.saturating_sub(8)..=i];
            if !window.iter().any(|l| l.contains("SAFETY:")) {
                bad.push(format!("{}:{}", path.display(), i + 1));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "unsafe blocks without a SAFETY comment: {bad:?}"
    );
}

#[test]
fn no_machine_paths_in_sources() {
    // Built from parts so this file does not match itself.
    let needles: Vec<String> = ["work", "root", "home", "farm"]
        .iter()
        .map(|d| format!("/{d}/"))
        .collect();
    let bad: Vec<String> = sources()
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            needles.iter().any(|n| text.contains(n.as_str()))
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(bad.is_empty(), "absolute machine paths in: {bad:?}");
}
