//! A Gherkin reader for the openCypher TCK feature files: Feature / Scenario / Scenario
//! Outline + Examples (one scenario per example row, `<param>` substituted everywhere), steps
//! with their `"""` docstrings and `|` tables.
//!
//! Invariants: never panics on any input (a malformed file yields fewer or `Unknown` steps,
//! which the runner reports as failures, never as passes); a scenario tagged `@ignore` is kept
//! but marked, so the runner can count it as skipped rather than silently dropping it.

/// One step of a scenario, classified.
#[derive(Debug, Clone)]
pub enum Step {
    EmptyGraph,
    AnyGraph,
    NamedGraph(String),
    HavingExecuted(String),
    Parameters(Vec<(String, String)>),
    /// `When executing query:`; `control` for `When executing control query:`.
    Execute {
        query: String,
        control: bool,
    },
    /// `Then the result should be ...`; the table's first row is the header.
    Result {
        table: Vec<Vec<String>>,
        ordered: bool,
        ignore_list_order: bool,
    },
    ResultEmpty,
    SideEffects(Vec<(String, i64)>),
    NoSideEffects,
    Error {
        kind: String,
        phase: String,
        reason: String,
    },
    Unknown(String),
}

#[derive(Debug, Clone)]
pub struct Scenario {
    /// `<folder>/<file>: <scenario name>`, unique enough for reports.
    pub name: String,
    /// The feature's folder relative to `features/` (e.g. `clauses/match`).
    pub folder: String,
    pub ignored: bool,
    pub steps: Vec<Step>,
}

/// Raw step before outline substitution: keyword text, docstring, table.
#[derive(Debug, Clone, Default)]
struct RawStep {
    text: String,
    doc: Option<String>,
    table: Vec<Vec<String>>,
}

fn split_row(line: &str) -> Vec<String> {
    let t = line.trim();
    let inner = t.strip_prefix('|').unwrap_or(t);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    // The TCK escapes a literal pipe inside a cell as `\|`.
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

fn substitute(s: &str, params: &[(String, String)]) -> String {
    let mut out = s.to_string();
    for (k, v) in params {
        out = out.replace(&format!("<{k}>"), v);
    }
    out
}

fn classify(raw: &RawStep) -> Step {
    let text = raw.text.trim();
    let body = text
        .split_once(' ')
        .map(|(_, rest)| rest.trim())
        .unwrap_or("");
    let body_nc = body.trim_end_matches(':').trim();
    match body_nc {
        "an empty graph" => return Step::EmptyGraph,
        "any graph" => return Step::AnyGraph,
        "having executed" => return Step::HavingExecuted(raw.doc.clone().unwrap_or_default()),
        "parameters are" => {
            return Step::Parameters(
                raw.table
                    .iter()
                    .filter(|r| r.len() >= 2)
                    .map(|r| (r[0].clone(), r[1].clone()))
                    .collect(),
            );
        }
        "executing query" | "executing control query" => {
            return Step::Execute {
                query: raw.doc.clone().unwrap_or_default(),
                control: body_nc.contains("control"),
            };
        }
        "the result should be empty" => return Step::ResultEmpty,
        "the side effects should be" => {
            return Step::SideEffects(
                raw.table
                    .iter()
                    .filter(|r| r.len() >= 2)
                    .map(|r| (r[0].clone(), r[1].parse().unwrap_or(i64::MIN)))
                    .collect(),
            );
        }
        "no side effects" => return Step::NoSideEffects,
        _ => {}
    }
    if let Some(name) = body_nc
        .strip_prefix("the ")
        .and_then(|s| s.strip_suffix(" graph"))
    {
        return Step::NamedGraph(name.trim().to_string());
    }
    if let Some(rest) = body_nc.strip_prefix("the result should be") {
        return Step::Result {
            table: raw.table.clone(),
            ordered: rest.contains("in order"),
            ignore_list_order: rest.contains("ignoring element order for lists"),
        };
    }
    // `a SyntaxError should be raised at compile time: InvalidArgumentType`
    if let Some(rest) = body.strip_prefix("a ").or_else(|| body.strip_prefix("an "))
        && let Some((kind, after)) = rest.split_once(" should be raised at ")
    {
        let (phase, reason) = after.split_once(':').unwrap_or((after, ""));
        return Step::Error {
            kind: kind.trim().to_string(),
            phase: phase.trim().to_string(),
            reason: reason.trim().to_string(),
        };
    }
    Step::Unknown(text.to_string())
}

/// Removes the docstring's common indentation (that of its opening `"""`).
fn dedent(lines: &[String], indent: usize) -> String {
    lines
        .iter()
        .map(|l| {
            let cut = l
                .char_indices()
                .take_while(|(i, c)| *i < indent && c.is_whitespace())
                .count();
            l.get(cut..).unwrap_or("").to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses one feature file's text into scenarios (outlines expanded).
pub fn parse_feature(text: &str, folder: &str, file: &str) -> Vec<Scenario> {
    struct Pending {
        title: String,
        outline: bool,
        ignored: bool,
        steps: Vec<RawStep>,
        examples: Vec<Vec<Vec<String>>>,
    }
    let mut out = Vec::new();
    let mut cur: Option<Pending> = None;
    let mut tags: Vec<String> = Vec::new();
    let mut in_examples = false;
    // `Background:` steps, prepended to every scenario of the feature.
    let mut background: Vec<RawStep> = Vec::new();
    let mut in_background = false;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;

    let flush = |p: Pending, out: &mut Vec<Scenario>| {
        let expand = |params: &[(String, String)], suffix: String| Scenario {
            name: format!("{folder}/{file}: {}{suffix}", substitute(&p.title, params)),
            folder: folder.to_string(),
            ignored: p.ignored,
            steps: p
                .steps
                .iter()
                .map(|s| {
                    classify(&RawStep {
                        text: substitute(&s.text, params),
                        doc: s.doc.as_ref().map(|d| substitute(d, params)),
                        table: s
                            .table
                            .iter()
                            .map(|r| r.iter().map(|c| substitute(c, params)).collect())
                            .collect(),
                    })
                })
                .collect(),
        };
        if p.outline {
            let mut n = 0;
            for ex in &p.examples {
                let Some((head, rows)) = ex.split_first() else {
                    continue;
                };
                for row in rows {
                    n += 1;
                    let params: Vec<(String, String)> =
                        head.iter().cloned().zip(row.iter().cloned()).collect();
                    out.push(expand(&params, format!(" (example {n})")));
                }
            }
        } else {
            out.push(expand(&[], String::new()));
        }
    };

    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        i += 1;
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with('@') {
            tags.extend(t.split_whitespace().map(str::to_string));
            continue;
        }
        if let Some(title) = t
            .strip_prefix("Scenario Outline:")
            .or_else(|| t.strip_prefix("Scenario Template:"))
            .map(|s| (s, true))
            .or_else(|| t.strip_prefix("Scenario:").map(|s| (s, false)))
        {
            if let Some(p) = cur.take() {
                flush(p, &mut out);
            }
            cur = Some(Pending {
                title: title.0.trim().to_string(),
                outline: title.1,
                ignored: tags.iter().any(|t| t == "@ignore"),
                steps: background.clone(),
                examples: Vec::new(),
            });
            tags.clear();
            in_examples = false;
            in_background = false;
            continue;
        }
        if t.starts_with("Feature:") {
            tags.clear();
            continue;
        }
        if t.starts_with("Background:") {
            if let Some(p) = cur.take() {
                flush(p, &mut out);
            }
            in_background = true;
            continue;
        }
        let bg_holder;
        let steps: &mut Vec<RawStep> = if in_background {
            bg_holder = &mut background;
            bg_holder
        } else {
            match cur.as_mut() {
                Some(p) => &mut p.steps,
                None => continue,
            }
        };
        if t.starts_with("Examples:") {
            in_examples = true;
            if let Some(p) = cur.as_mut() {
                p.examples.push(Vec::new());
            }
            continue;
        }
        if t.starts_with('|') {
            let row = split_row(t);
            if in_examples {
                if let Some(ex) = cur.as_mut().and_then(|p| p.examples.last_mut()) {
                    ex.push(row);
                }
            } else if let Some(s) = steps.last_mut() {
                s.table.push(row);
            }
            continue;
        }
        if t.starts_with("\"\"\"") {
            let indent = line.len() - line.trim_start().len();
            let mut doc = Vec::new();
            while i < lines.len() && !lines[i].trim().starts_with("\"\"\"") {
                doc.push(lines[i].to_string());
                i += 1;
            }
            i += 1; // the closing quotes
            if let Some(s) = steps.last_mut() {
                s.doc = Some(dedent(&doc, indent));
            }
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or("");
        if matches!(first, "Given" | "When" | "Then" | "And" | "But") {
            in_examples = false;
            steps.push(RawStep {
                text: t.to_string(),
                ..RawStep::default()
            });
        }
    }
    if let Some(p) = cur.take() {
        flush(p, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_expands_and_classifies() {
        let f = "Feature: X\n  Scenario Outline: [1] t <n>\n    Given any graph\n    When executing query:\n      \"\"\"\n      RETURN <v> AS v\n      \"\"\"\n    Then the result should be, in order:\n      | v   |\n      | <v> |\n    And no side effects\n\n    Examples:\n      | n | v |\n      | a | 1 |\n      | b | 'x\\|y' |\n";
        let s = parse_feature(f, "d", "F.feature");
        assert_eq!(s.len(), 2);
        assert!(s[1].name.ends_with("t b (example 2)"));
        match &s[1].steps[1] {
            Step::Execute { query, control } => {
                assert_eq!(query, "RETURN 'x|y' AS v");
                assert!(!control);
            }
            other => panic!("{other:?}"),
        }
        match &s[0].steps[2] {
            Step::Result { table, ordered, .. } => {
                assert!(*ordered);
                assert_eq!(table[1], vec!["1".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn background_is_prepended() {
        let f = "Feature: X\n  Background:\n    Given an empty graph\n    And having executed:\n      \"\"\"\n      CREATE ()\n      \"\"\"\n\n  Scenario: a\n    When executing query:\n      \"\"\"\n      RETURN 1\n      \"\"\"\n    Then the result should be empty\n";
        let s = parse_feature(f, "d", "F.feature");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].steps.len(), 4);
        assert!(matches!(&s[0].steps[1], Step::HavingExecuted(q) if q == "CREATE ()"));
    }

    #[test]
    fn error_step() {
        let f = "Feature: X\n  @ignore\n  Scenario: e\n    Given an empty graph\n    Then a SyntaxError should be raised at compile time: UndefinedVariable\n";
        let s = parse_feature(f, "d", "F.feature");
        assert!(s[0].ignored);
        match &s[0].steps[1] {
            Step::Error {
                kind,
                phase,
                reason,
            } => assert_eq!(
                (kind.as_str(), phase.as_str(), reason.as_str()),
                ("SyntaxError", "compile time", "UndefinedVariable")
            ),
            other => panic!("{other:?}"),
        }
    }
}
