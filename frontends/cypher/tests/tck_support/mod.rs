//! A small Gherkin extractor for the openCypher TCK feature files, shared by
//! the parse acceptance test and (later) the execution runner.
//!
//! API:
//! - [`load_features(dir)`](load_features): every `*.feature` under `dir`
//!   (sorted), outlines expanded (one [`Scenario`] per `Examples` row, `<name>`
//!   placeholders substituted in queries, setup queries and the `Then` line).
//! - [`parse_feature(text, path)`](parse_feature): the same for one file.
//! - [`Scenario`]: `path` (relative to `dir`), `name`, `setup` (the
//!   `having executed:` queries, in order), `query` (the `When executing
//!   query:` text), `params` (rows of `And parameters are:`), `expected`.
//! - [`Expected`]: `Success` (any result / side-effect assertion) or
//!   `Error { class, phase, detail }` from `Then a <class> should be raised at
//!   <phase>: <detail>` (`phase` is `compile time`, `runtime` or `any time`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Success,
    Error {
        class: String,
        phase: String,
        detail: String,
    },
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: String,
    pub setup: Vec<String>,
    pub query: String,
    pub params: Vec<Vec<String>>,
    pub expected: Expected,
    /// Full result-table rows (`| a | b |`), header first; empty if none.
    pub result_table: Vec<Vec<String>>,
    /// `Then the result should be, in order:`.
    pub ordered: bool,
    /// `(ignoring element order for lists)`.
    pub ignore_list_order: bool,
    /// `And the side effects should be:` rows (`+nodes`, 1), or empty for `And no side
    /// effects`; `None` when the scenario states no side effects.
    pub side_effects: Option<Vec<(String, i64)>>,
}

impl Scenario {
    /// The feature's folder relative to the features root (e.g. `clauses/match`).
    pub fn folder(&self) -> String {
        self.path
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

pub fn load_features(dir: &Path) -> Vec<Scenario> {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let rel = f.strip_prefix(dir).unwrap_or(&f).to_path_buf();
        out.extend(parse_feature(&text, &rel));
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "feature") {
            out.push(p);
        }
    }
}

#[derive(Default)]
struct Raw {
    name: String,
    setup: Vec<String>,
    query: String,
    then: String,
    params: Vec<Vec<String>>,
    result_table: Vec<Vec<String>>,
    examples: Vec<Vec<String>>,
    side_effects: Option<Vec<Vec<String>>>,
}

enum Target {
    None,
    Setup,
    Query,
    Params,
    Result,
    Examples,
    SideEffects,
}

pub fn parse_feature(text: &str, path: &Path) -> Vec<Scenario> {
    let mut raws: Vec<Raw> = Vec::new();
    let mut cur: Option<Raw> = None;
    let mut target = Target::None;
    let mut doc: Option<(usize, Vec<String>)> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some((indent, lines)) = doc.as_mut() {
            if t == "\"\"\"" {
                let body = dedent(lines, *indent);
                if let Some(c) = cur.as_mut() {
                    match target {
                        Target::Setup => c.setup.push(body),
                        Target::Query => c.query = body,
                        _ => {}
                    }
                }
                doc = None;
            } else {
                lines.push(line.to_string());
            }
            continue;
        }
        if t == "\"\"\"" {
            doc = Some((line.len() - line.trim_start().len(), Vec::new()));
            continue;
        }
        if let Some(name) = t
            .strip_prefix("Scenario Outline:")
            .or_else(|| t.strip_prefix("Scenario:"))
        {
            raws.extend(cur.take());
            cur = Some(Raw {
                name: name.trim().to_string(),
                ..Raw::default()
            });
            target = Target::None;
            continue;
        }
        let Some(c) = cur.as_mut() else { continue };
        if t.starts_with('|') {
            let row = cells(t);
            match target {
                Target::Params => c.params.push(row),
                Target::Result => c.result_table.push(row),
                Target::Examples => c.examples.push(row),
                Target::SideEffects => c.side_effects.get_or_insert_with(Vec::new).push(row),
                _ => {}
            }
            continue;
        }
        let step = t
            .trim_start_matches("Given ")
            .trim_start_matches("And ")
            .trim_start_matches("When ")
            .trim_start_matches("Then ")
            .trim_start_matches("But ");
        if step.starts_with("having executed:") {
            target = Target::Setup;
        } else if step.starts_with("executing query:")
            || step.starts_with("executing control query:")
        {
            target = Target::Query;
        } else if step.starts_with("parameters are:") {
            target = Target::Params;
        } else if step.starts_with("the side effects should be:") {
            c.side_effects.get_or_insert_with(Vec::new);
            target = Target::SideEffects;
        } else if step.starts_with("no side effects") {
            c.side_effects.get_or_insert_with(Vec::new);
            target = Target::None;
        } else if t.starts_with("Examples:") {
            target = Target::Examples;
        } else if t.starts_with("Then ") {
            c.then = step.to_string();
            target = Target::Result;
        } else if !t.is_empty() && !t.starts_with('#') && !t.starts_with('@') {
            target = Target::None;
        }
    }
    raws.extend(cur);
    let mut out = Vec::new();
    for r in raws {
        expand(r, path, &mut out);
    }
    out
}

fn expand(r: Raw, path: &Path, out: &mut Vec<Scenario>) {
    let make = |subst: &dyn Fn(&str) -> String| Scenario {
        path: path.to_path_buf(),
        name: subst(&r.name),
        setup: r.setup.iter().map(|s| subst(s)).collect(),
        query: subst(&r.query),
        params: r
            .params
            .iter()
            .map(|row| row.iter().map(|c| subst(c)).collect())
            .collect(),
        expected: expected_of(&subst(&r.then)),
        result_table: r.result_table.clone(),
        ordered: r.then.contains("in order"),
        ignore_list_order: r.then.contains("ignoring element order for lists"),
        side_effects: r.side_effects.as_ref().map(|rows| {
            rows.iter()
                .filter_map(|row| match row.as_slice() {
                    [k, v] => Some((k.clone(), v.parse().unwrap_or(-1))),
                    _ => None,
                })
                .collect()
        }),
    };
    let Some((header, rows)) = r.examples.split_first() else {
        out.push(make(&|s: &str| s.to_string()));
        return;
    };
    for row in rows {
        let subst = |s: &str| {
            let mut s = s.to_string();
            for (k, v) in header.iter().zip(row) {
                s = s.replace(&format!("<{k}>"), v);
            }
            s
        };
        out.push(make(&subst));
    }
}

fn expected_of(then: &str) -> Expected {
    // "a SyntaxError should be raised at compile time: UndefinedVariable"
    let Some(rest) = then.strip_prefix("a ").or_else(|| then.strip_prefix("an ")) else {
        return Expected::Success;
    };
    let Some((class, rest)) = rest.split_once(" should be raised at ") else {
        return Expected::Success;
    };
    let (phase, detail) = rest.split_once(':').unwrap_or((rest, ""));
    Expected::Error {
        class: class.trim().to_string(),
        phase: phase.trim().to_string(),
        detail: detail.trim().to_string(),
    }
}

fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn dedent(lines: &[String], indent: usize) -> String {
    lines
        .iter()
        .map(|l| {
            let ws = l.len() - l.trim_start().len();
            l.get(ws.min(indent)..).unwrap_or("").to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
