//! TCK acceptance for the front-end: every query of a scenario that expects
//! results, side effects or a *runtime* error must parse and check; every
//! scenario expecting a compile-time error must fail with that detail code.

mod tck_support;

use std::collections::BTreeMap;
use std::path::Path;

use tck_support::{Expected, load_features};

const FEATURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/tck/features");

#[derive(Default)]
struct Tally {
    ok_pass: usize,
    ok_total: usize,
    err_pass: usize,
    err_total: usize,
}

#[test]
fn tck_queries_compile_as_expected() {
    let dir = Path::new(FEATURES);
    if !dir.is_dir() {
        println!("TCK folder {FEATURES} not found; skipping");
        return;
    }
    let scenarios = load_features(dir);
    assert!(
        scenarios.len() > 500,
        "extractor found only {} scenarios",
        scenarios.len()
    );
    let mut by_folder: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    for s in &scenarios {
        let t = by_folder.entry(s.folder()).or_default();
        for q in &s.setup {
            t.ok_total += 1;
            match moon_cypher::compile(q) {
                Ok(_) => t.ok_pass += 1,
                Err(e) => failures.push(format!(
                    "[setup] {} / {}: {}\n  {q}\n  -> {:?} {}",
                    s.path.display(),
                    s.name,
                    e.detail.as_str(),
                    e.detail,
                    e.message
                )),
            }
        }
        let result = moon_cypher::compile(&s.query);
        match &s.expected {
            Expected::Error { phase, detail, .. } if phase == "compile time" => {
                t.err_total += 1;
                match result {
                    Err(e) if e.detail.as_str() == detail => t.err_pass += 1,
                    Err(e) => failures.push(format!(
                        "[want {detail}] {} / {}:\n  {}\n  -> got {} ({})",
                        s.path.display(),
                        s.name,
                        s.query,
                        e.detail.as_str(),
                        e.message
                    )),
                    Ok(_) => failures.push(format!(
                        "[want {detail}] {} / {}:\n  {}\n  -> compiled OK",
                        s.path.display(),
                        s.name,
                        s.query
                    )),
                }
            }
            Expected::Error { phase, .. } if phase == "any time" => {}
            _ => {
                t.ok_total += 1;
                match result {
                    Ok(_) => t.ok_pass += 1,
                    Err(e) => failures.push(format!(
                        "[want OK] {} / {}:\n  {}\n  -> {} ({})",
                        s.path.display(),
                        s.name,
                        s.query,
                        e.detail.as_str(),
                        e.message
                    )),
                }
            }
        }
    }
    let mut total = Tally::default();
    println!("{:<40} {:>12} {:>12}", "folder", "ok", "errors");
    for (folder, t) in &by_folder {
        println!(
            "{folder:<40} {:>5}/{:<6} {:>5}/{:<6}",
            t.ok_pass, t.ok_total, t.err_pass, t.err_total
        );
        total.ok_pass += t.ok_pass;
        total.ok_total += t.ok_total;
        total.err_pass += t.err_pass;
        total.err_total += t.err_total;
    }
    println!(
        "TOTAL (a) compile OK: {}/{}   (b) expected compile error: {}/{}",
        total.ok_pass, total.ok_total, total.err_pass, total.err_total
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    let a = total.ok_pass as f64 / total.ok_total.max(1) as f64;
    let b = total.err_pass as f64 / total.err_total.max(1) as f64;
    assert!(a >= 0.98, "(a) {:.1}% < 98%", a * 100.0);
    assert!(b >= 0.90, "(b) {:.1}% < 90%", b * 100.0);
}
