//! The generated reference pages match their sources: `docs/commands.md` (from the command
//! table, `moon_resp::commands::compat`) and `docs/config.md` (from the parameter table,
//! `moon::config::reference_markdown`). A change to either table without regenerating fails
//! here with the command that regenerates them:
//!
//! ```text
//! MOON_REGEN_DOCS=1 cargo test --test docs_up_to_date
//! ```

use std::path::PathBuf;

const REGEN: &str = "MOON_REGEN_DOCS=1 cargo test --test docs_up_to_date";

fn check(rel: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    if std::env::var("MOON_REGEN_DOCS").is_ok_and(|v| v == "1") {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create docs/");
        }
        std::fs::write(&path, generated).expect("write the generated page");
        println!("regenerated {rel}");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_diff = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "{rel} is out of date (first difference at line {}):\n  committed: {:?}\n  generated: {:?}\nregenerate it with:\n  {REGEN}",
            first_diff + 1,
            committed.lines().nth(first_diff).unwrap_or("<end of file>"),
            generated.lines().nth(first_diff).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn commands_page_is_up_to_date() {
    check("docs/commands.md", &moon_resp::commands::compat::markdown());
}

#[test]
fn config_page_is_up_to_date() {
    let page = moon::config::reference_markdown();
    let undocumented: Vec<&str> = page
        .lines()
        .filter(|l| l.contains("(undocumented)"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "add these parameters to PARAM_DOCS in frontends/server/src/config.rs, then run {REGEN}:\n{}",
        undocumented.join("\n")
    );
    check("docs/config.md", &page);
}

#[test]
fn every_documented_parameter_exists() {
    let known: Vec<&str> = moon::config::Config::default()
        .params()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let stale: Vec<&str> = moon::config::PARAM_DOCS
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| !known.contains(name))
        .collect();
    assert!(
        stale.is_empty(),
        "PARAM_DOCS documents parameters CONFIG GET does not know: {stale:?}"
    );
}
