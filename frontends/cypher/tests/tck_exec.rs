//! TCK execution runner: for every scenario expecting results (or a runtime error), runs the
//! setup queries and the query in-process (`compile` → `lower` → `execute` on a fresh graph)
//! and compares the rows with the expected table (as a multiset; `in order` is not tracked by
//! the loader). Scenarios using constructs the lowering rejects ("not supported yet") are
//! counted apart and never fail the test; the test fails if the pass count drops below
//! `PASS_FLOOR` (set from the last full run).

mod tck_support;

use std::collections::BTreeMap;
use std::path::Path;

use moon_cypher::lower::{lower, prefix_params};
use moon_graph::exec::{ResultSet, ResultValue, execute};
use moon_graph::{Graph, Value};
use tck_support::{Expected, Scenario, load_features};

const FEATURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/tck/features");

/// Minimum number of passing scenarios (regression guard).
const PASS_FLOOR: usize = 1128;

/// A TCK value in canonical form (maps and property sets sorted by key, labels sorted).
#[derive(Debug, Clone, PartialEq)]
enum Tv {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Tv>),
    Map(Vec<(String, Tv)>),
    Node(Vec<String>, Vec<(String, Tv)>),
    Rel(String, Vec<(String, Tv)>),
    /// Nodes and (relationship, points forward) hops.
    Path(Vec<Tv>, Vec<(Tv, bool)>),
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        if self.s.get(self.i) == Some(&b'`') {
            let start = self.i + 1;
            let end = start + self.s.get(start..)?.iter().position(|&c| c == b'`')?;
            self.i = end + 1;
            return String::from_utf8(self.s.get(start..end)?.to_vec()).ok();
        }
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn props(&mut self) -> Option<Vec<(String, Tv)>> {
        let mut out = Vec::new();
        if !self.eat(b'{') {
            return Some(out);
        }
        if self.eat(b'}') {
            return Some(out);
        }
        loop {
            let k = self.ident()?;
            if !self.eat(b':') {
                return None;
            }
            out.push((k, self.value()?));
            if self.eat(b'}') {
                break;
            }
            if !self.eat(b',') {
                return None;
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Some(out)
    }

    fn value(&mut self) -> Option<Tv> {
        self.ws();
        let c = *self.s.get(self.i)?;
        match c {
            b'\'' => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    let c = *self.s.get(self.i)?;
                    self.i += 1;
                    match c {
                        b'\\' => {
                            let n = *self.s.get(self.i)?;
                            self.i += 1;
                            out.push(match n {
                                b'n' => b'\n',
                                b't' => b'\t',
                                other => other,
                            });
                        }
                        b'\'' => break,
                        other => out.push(other),
                    }
                }
                Some(Tv::Str(String::from_utf8(out).ok()?))
            }
            b'[' => {
                self.i += 1;
                if self.eat(b':') {
                    let t = self.ident()?;
                    let p = self.props()?;
                    return self.eat(b']').then_some(Tv::Rel(t, p));
                }
                let mut out = Vec::new();
                if self.eat(b']') {
                    return Some(Tv::List(out));
                }
                loop {
                    out.push(self.value()?);
                    if self.eat(b']') {
                        return Some(Tv::List(out));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'{' => Some(Tv::Map(self.props()?)),
            b'<' => {
                self.i += 1;
                let mut nodes = vec![self.value()?];
                let mut hops = Vec::new();
                loop {
                    if self.eat(b'>') {
                        return Some(Tv::Path(nodes, hops));
                    }
                    let back = self.eat(b'<');
                    if !self.eat(b'-') {
                        return None;
                    }
                    let rel = self.value()?;
                    if !self.eat(b'-') {
                        return None;
                    }
                    let fwd = !back && self.eat(b'>');
                    hops.push((rel, fwd));
                    nodes.push(self.value()?);
                }
            }
            b'(' => {
                self.i += 1;
                let mut labels = Vec::new();
                while self.eat(b':') {
                    labels.push(self.ident()?);
                }
                labels.sort();
                let p = self.props()?;
                self.eat(b')').then_some(Tv::Node(labels, p))
            }
            _ => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'_')
                }) {
                    self.i += 1;
                }
                let w = std::str::from_utf8(self.s.get(start..self.i)?).ok()?;
                match w {
                    "null" => Some(Tv::Null),
                    "true" => Some(Tv::Bool(true)),
                    "false" => Some(Tv::Bool(false)),
                    "NaN" => Some(Tv::Float(f64::NAN)),
                    "Inf" | "Infinity" => Some(Tv::Float(f64::INFINITY)),
                    "-Inf" | "-Infinity" => Some(Tv::Float(f64::NEG_INFINITY)),
                    _ => w
                        .parse::<i64>()
                        .map(Tv::Int)
                        .ok()
                        .or_else(|| w.parse::<f64>().ok().map(Tv::Float)),
                }
            }
        }
    }
}

fn parse_tv(text: &str) -> Option<Tv> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.i == text.len()).then_some(v)
}

fn tv_of_value(v: &Value) -> Tv {
    match v {
        Value::Null => Tv::Null,
        Value::Bool(b) => Tv::Bool(*b),
        Value::Int(i) => Tv::Int(*i),
        Value::Float(f) => Tv::Float(*f),
        Value::String(s) => Tv::Str(s.to_string()),
        Value::List(l) => Tv::List(l.iter().map(tv_of_value).collect()),
        Value::Map(m) => {
            let mut e: Vec<_> = m
                .iter()
                .map(|(k, v)| (k.to_string(), tv_of_value(v)))
                .collect();
            e.sort_by(|a, b| a.0.cmp(&b.0));
            Tv::Map(e)
        }
        other => Tv::Str(format!("{other:?}")),
    }
}

fn tv_props(g: &Graph, p: Option<&moon_graph::PropMap>) -> Vec<(String, Tv)> {
    let mut e: Vec<_> = p
        .map(|p| {
            p.iter()
                .map(|(k, v)| {
                    (
                        g.prop_key_name(k).unwrap_or("?").to_string(),
                        tv_of_value(v),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    e.sort_by(|a, b| a.0.cmp(&b.0));
    e
}

fn tv_of(g: &Graph, v: &ResultValue) -> Tv {
    match v {
        ResultValue::Value(v) => tv_of_value(v),
        ResultValue::Node(n) => {
            let mut labels: Vec<String> = g
                .node_labels(*n)
                .unwrap_or(&[])
                .iter()
                .map(|l| g.label_name(*l).unwrap_or("?").to_string())
                .collect();
            labels.sort();
            Tv::Node(labels, tv_props(g, g.node_props(*n)))
        }
        ResultValue::Edge(e) => Tv::Rel(
            g.edge(*e)
                .and_then(|r| g.rel_type_name(r.rel))
                .unwrap_or("?")
                .to_string(),
            tv_props(g, g.edge_props(*e)),
        ),
        ResultValue::List(l) => Tv::List(l.iter().map(|x| tv_of(g, x)).collect()),
        ResultValue::Map(m) => {
            let mut e: Vec<_> = m
                .iter()
                .map(|(k, v)| (k.to_string(), tv_of(g, v)))
                .collect();
            e.sort_by(|a, b| a.0.cmp(&b.0));
            Tv::Map(e)
        }
        ResultValue::Path(p) => {
            let nodes = p
                .nodes
                .iter()
                .map(|n| tv_of(g, &ResultValue::Node(*n)))
                .collect();
            let hops = p
                .edges
                .iter()
                .zip(&p.nodes)
                .map(|(e, from)| {
                    let fwd = g.edge(*e).is_some_and(|r| r.src == *from);
                    (tv_of(g, &ResultValue::Edge(*e)), fwd)
                })
                .collect();
            Tv::Path(nodes, hops)
        }
    }
}

/// Equality with NaN = NaN and a tiny relative float tolerance.
fn tv_eq(a: &Tv, b: &Tv) -> bool {
    match (a, b) {
        (Tv::Float(x), Tv::Float(y)) => {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Tv::List(x), Tv::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| tv_eq(p, q))
        }
        (Tv::Map(x), Tv::Map(y))
        | (Tv::Node(_, x), Tv::Node(_, y))
        | (Tv::Rel(_, x), Tv::Rel(_, y)) => {
            let heads = match (a, b) {
                (Tv::Node(l, _), Tv::Node(m, _)) => l == m,
                (Tv::Rel(l, _), Tv::Rel(m, _)) => l == m,
                _ => true,
            };
            heads
                && x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k, p), (l, q))| k == l && tv_eq(p, q))
        }
        _ => a == b,
    }
}

/// `tv_eq`, or with `ignore_order` lists compared as multisets (at any depth).
fn tv_eq_lists(a: &Tv, b: &Tv, ignore_order: bool) -> bool {
    match (a, b) {
        (Tv::List(x), Tv::List(y)) if ignore_order => {
            if x.len() != y.len() {
                return false;
            }
            let mut used = vec![false; y.len()];
            x.iter().all(|p| {
                let hit = y
                    .iter()
                    .enumerate()
                    .find(|(i, q)| !used[*i] && tv_eq_lists(p, q, true));
                hit.map(|(i, _)| used[i] = true).is_some()
            })
        }
        _ => tv_eq(a, b),
    }
}

enum Outcome {
    Pass,
    /// What is missing (the lowering's message, or the runner's own limit).
    Unsupported(String),
    Fail(String),
}

enum QueryError {
    Unsupported(String),
    Failed(String),
}

fn classify(m: String) -> QueryError {
    if m.starts_with("not supported yet") {
        QueryError::Unsupported(m)
    } else {
        QueryError::Failed(m)
    }
}

fn run_query(g: &mut Graph, q: &str, params: &[(String, Value)]) -> Result<ResultSet, QueryError> {
    let ast = moon_cypher::compile(q)
        .map_err(|e| QueryError::Failed(format!("compile: {}", e.message)))?;
    let plan = lower(&ast).map_err(|e| classify(e.message))?;
    let mut all = prefix_params(&ast);
    all.extend(params.iter().cloned());
    execute(g, &plan, &all).map_err(|e| classify(e.to_string()))
}

fn to_value(t: &Tv) -> Option<Value> {
    Some(match t {
        Tv::Null => Value::Null,
        Tv::Bool(b) => Value::Bool(*b),
        Tv::Int(i) => Value::Int(*i),
        Tv::Float(f) => Value::Float(*f),
        Tv::Str(s) => Value::str(s),
        Tv::List(l) => Value::List(l.iter().map(to_value).collect::<Option<_>>()?),
        Tv::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Some((std::sync::Arc::from(k.as_str()), to_value(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// The loader keeps only the LAST query of a scenario; for scenarios with a `control query`
/// this recovers the main query (the first `executing query:` doc string) from the feature
/// text, so it can run before the control query.
fn main_query_before_control(s: &Scenario) -> Option<String> {
    let text = std::fs::read_to_string(Path::new(FEATURES).join(&s.path)).ok()?;
    let start = text.find(&format!("Scenario: {}\n", s.name))?;
    let rest = text.get(start..)?;
    let block = rest
        .get(10..)
        .and_then(|r| r.find("Scenario").map(|e| &rest[..e + 10]))
        .unwrap_or(rest);
    if !block.contains("executing control query:") {
        return None;
    }
    let after = block.get(block.find("executing query:")?..)?;
    let open = after.find("\"\"\"")?;
    let body = after.get(open + 3..)?;
    let close = body.find("\"\"\"")?;
    Some(body.get(..close)?.trim().to_string())
}

/// The `having executed:` queries of a feature's `Background:` (the loader skips it).
fn background_setup(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(Path::new(FEATURES).join(path)) else {
        return Vec::new();
    };
    let Some(start) = text.find("Background:") else {
        return Vec::new();
    };
    let rest = text.get(start..).unwrap_or("");
    let block = rest
        .get(..rest.find("Scenario").unwrap_or(rest.len()))
        .unwrap_or("");
    let mut out = Vec::new();
    let mut parts = block.split("\"\"\"");
    let mut before = parts.next().unwrap_or("");
    while let (Some(body), Some(after)) = (parts.next(), parts.next()) {
        if before.trim_end().ends_with("having executed:") {
            out.push(body.trim().to_string());
        }
        before = after;
    }
    out
}

/// The `Examples:` table (header first) of a Scenario Outline, read from the feature text:
/// the loader substitutes example values into queries but not into result tables.
fn outline_examples(s: &Scenario) -> Vec<Vec<String>> {
    let Ok(text) = std::fs::read_to_string(Path::new(FEATURES).join(&s.path)) else {
        return Vec::new();
    };
    let Some(start) = text.find(&format!("Scenario Outline: {}\n", s.name)) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    let mut in_examples = false;
    for line in text.get(start..).unwrap_or("").lines().skip(1) {
        let t = line.trim();
        if t.starts_with("Scenario") {
            break;
        }
        if t.starts_with("Examples:") {
            in_examples = true;
        } else if in_examples && t.starts_with('|') {
            let cells: Vec<String> = t
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            rows.push(cells);
        }
    }
    rows
}

/// Substitutes example row `k` into the expected table's `<name>` placeholders.
fn substitute(table: &[Vec<String>], examples: &[Vec<String>], k: usize) -> Vec<Vec<String>> {
    let (Some(header), Some(row)) = (examples.first(), examples.get(k + 1)) else {
        return table.to_vec();
    };
    table
        .iter()
        .map(|r| {
            r.iter()
                .map(|cell| {
                    let mut c = cell.clone();
                    for (h, v) in header.iter().zip(row) {
                        c = c.replace(&format!("<{h}>"), v);
                    }
                    c
                })
                .collect()
        })
        .collect()
}

fn run_scenario(s: &Scenario) -> Outcome {
    let mut g = Graph::new();
    let mut setup = s.setup.clone();
    setup.extend(main_query_before_control(s));
    for q in &setup {
        match run_query(&mut g, q, &[]) {
            Ok(_) => {}
            Err(QueryError::Unsupported(m)) => return Outcome::Unsupported(m),
            Err(QueryError::Failed(e)) => {
                return Outcome::Fail(format!("setup failed: {e}\n  {q}"));
            }
        }
    }
    let mut params = Vec::new();
    for row in &s.params {
        let (Some(name), Some(text)) = (row.first(), row.get(1)) else {
            return Outcome::Unsupported("runner: parameter row".into());
        };
        let Some(v) = parse_tv(text).as_ref().and_then(to_value) else {
            return Outcome::Unsupported("runner: parameter value".into());
        };
        params.push((name.clone(), v));
    }
    let has_control = main_query_before_control(s).is_some();
    let before = snapshot(&g);
    let result = run_query(&mut g, &s.query, &params);
    match (&s.expected, result) {
        (_, Err(QueryError::Unsupported(m))) => Outcome::Unsupported(m),
        (Expected::Error { .. }, Err(QueryError::Failed(_))) => Outcome::Pass,
        (Expected::Error { detail, .. }, Ok(_)) => {
            Outcome::Fail(format!("expected {detail}, got rows"))
        }
        (Expected::Success, Err(QueryError::Failed(e))) => Outcome::Fail(e),
        (Expected::Success, Ok(rs)) => match compare(&g, s, &rs) {
            Outcome::Pass if !has_control => check_side_effects(s, &before, &snapshot(&g), &rs),
            other => other,
        },
    }
}

/// The graph state the TCK's side effects diff: labels in use, `(entity, key, value)` triples.
struct Snapshot {
    labels: std::collections::BTreeSet<String>,
    props: std::collections::BTreeSet<String>,
}

fn snapshot(g: &Graph) -> Snapshot {
    let mut labels = std::collections::BTreeSet::new();
    let mut props = std::collections::BTreeSet::new();
    for n in g.nodes() {
        for l in g.node_labels(n).unwrap_or(&[]) {
            labels.insert(g.label_name(*l).unwrap_or("?").to_string());
        }
        for (k, v) in tv_props(g, g.node_props(n)) {
            props.insert(format!("n{}.{k}={v:?}", n.0));
        }
    }
    for e in g.edges() {
        for (k, v) in tv_props(g, g.edge_props(e.id)) {
            props.insert(format!("r{}.{k}={v:?}", e.id.0));
        }
    }
    Snapshot { labels, props }
}

fn check_side_effects(s: &Scenario, s0: &Snapshot, s1: &Snapshot, rs: &ResultSet) -> Outcome {
    let Some(want) = &s.side_effects else {
        return Outcome::Pass;
    };
    let st = &rs.stats;
    let got: [(&str, i64); 8] = [
        ("+nodes", st.nodes_created as i64),
        ("-nodes", st.nodes_deleted as i64),
        ("+relationships", st.relationships_created as i64),
        ("-relationships", st.relationships_deleted as i64),
        ("+labels", s1.labels.difference(&s0.labels).count() as i64),
        ("-labels", s0.labels.difference(&s1.labels).count() as i64),
        ("+properties", s1.props.difference(&s0.props).count() as i64),
        ("-properties", s0.props.difference(&s1.props).count() as i64),
    ];
    let diffs: Vec<String> = got
        .iter()
        .filter_map(|(k, v)| {
            let w = want.iter().find(|(wk, _)| wk == k).map_or(0, |(_, wv)| *wv);
            (w != *v).then(|| format!("{k} {v} (want {w})"))
        })
        .collect();
    if diffs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("side effects differ: {}", diffs.join(", ")))
    }
}

fn compare(g: &Graph, s: &Scenario, rs: &ResultSet) -> Outcome {
    let Some((header, body)) = s.result_table.split_first() else {
        return if rs.rows.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(format!("expected no rows, got {}", rs.rows.len()))
        };
    };
    let mut order = Vec::new();
    for h in header {
        match rs.columns.iter().position(|c| c == h) {
            Some(i) => order.push(i),
            None => return Outcome::Fail(format!("column {h} missing; got {:?}", rs.columns)),
        }
    }
    let mut want = Vec::new();
    for row in body {
        let mut r = Vec::new();
        for cell in row {
            match parse_tv(cell) {
                Some(v) => r.push(v),
                // Paths and other unparsed notations: this slice cannot compare them.
                None => {
                    let what = cell.as_str();
                    return Outcome::Unsupported(format!(
                        "runner: expected-value notation: {what}"
                    ));
                }
            }
        }
        want.push(r);
    }
    let got: Vec<Vec<Tv>> = rs
        .rows
        .iter()
        .map(|row| {
            order
                .iter()
                .map(|i| row.get(*i).map_or(Tv::Null, |v| tv_of(g, v)))
                .collect()
        })
        .collect();
    if got.len() != want.len() {
        return Outcome::Fail(format!("want {want:?}\n  got {got:?}"));
    }
    let row_eq = |r: &Vec<Tv>, w: &Vec<Tv>| {
        r.len() == w.len()
            && r.iter()
                .zip(w)
                .all(|(a, b)| tv_eq_lists(a, b, s.ignore_list_order))
    };
    if s.ordered {
        if got.iter().zip(&want).all(|(r, w)| row_eq(r, w)) {
            return Outcome::Pass;
        }
        return Outcome::Fail(format!("in order: want {want:?}\n  got {got:?}"));
    }
    let mut used = vec![false; got.len()];
    for w in &want {
        let hit = got
            .iter()
            .enumerate()
            .find(|(i, r)| !used[*i] && row_eq(r, w));
        match hit {
            Some((i, _)) => used[i] = true,
            None => return Outcome::Fail(format!("want {want:?}\n  got {got:?}")),
        }
    }
    Outcome::Pass
}

#[derive(Default)]
struct Tally {
    pass: usize,
    unsupported: usize,
    fail: usize,
}

#[test]
fn tck_scenarios_execute() {
    let dir = Path::new(FEATURES);
    if !dir.is_dir() {
        println!("TCK folder {FEATURES} not found; skipping");
        return;
    }
    let mut scenarios = load_features(dir);
    // Outline expansions: the k-th scenario of a (path, name) gets example row k.
    let mut seen: BTreeMap<(std::path::PathBuf, String), usize> = BTreeMap::new();
    let mut cache: BTreeMap<(std::path::PathBuf, String), Vec<Vec<String>>> = BTreeMap::new();
    let mut backgrounds: BTreeMap<std::path::PathBuf, Vec<String>> = BTreeMap::new();
    for s in &mut scenarios {
        let bg = backgrounds
            .entry(s.path.clone())
            .or_insert_with(|| background_setup(&s.path));
        if !bg.is_empty() {
            let mut setup = bg.clone();
            setup.append(&mut s.setup);
            s.setup = setup;
        }
        if !s.result_table.iter().flatten().any(|c| c.contains('<')) {
            continue;
        }
        let key = (s.path.clone(), s.name.clone());
        let k = *seen.entry(key.clone()).and_modify(|k| *k += 1).or_insert(0);
        let ex = cache.entry(key).or_insert_with(|| outline_examples(s));
        s.result_table = substitute(&s.result_table, ex, k);
    }
    let mut by_folder: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut missing: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for s in &scenarios {
        if matches!(&s.expected, Expected::Error { phase, .. } if phase == "compile time") {
            continue;
        }
        let t = by_folder.entry(s.folder()).or_default();
        match run_scenario(s) {
            Outcome::Pass => t.pass += 1,
            Outcome::Unsupported(m) => {
                t.unsupported += 1;
                let e = missing.entry(m).or_insert((0, String::new()));
                e.0 += 1;
                if e.1.is_empty() {
                    e.1 = format!("{} / {}", s.path.display(), s.name);
                }
            }
            Outcome::Fail(why) => {
                t.fail += 1;
                failures.push(format!(
                    "{} / {}:\n  {}\n  -> {why}",
                    s.path.display(),
                    s.name,
                    s.query
                ));
            }
        }
    }
    let (mut p, mut u, mut f) = (0, 0, 0);
    for (folder, t) in &by_folder {
        println!(
            "{folder:40} pass {:4}  unsupported {:4}  fail {:4}",
            t.pass, t.unsupported, t.fail
        );
        p += t.pass;
        u += t.unsupported;
        f += t.fail;
    }
    println!("TOTAL pass {p} unsupported {u} fail {f}");
    if std::env::var_os("TCK_EXEC_VERBOSE").is_some() {
        for fl in &failures {
            println!("{fl}");
        }
        let mut by_count: Vec<_> = missing.iter().collect();
        by_count.sort_by_key(|b| std::cmp::Reverse(b.1.0));
        for (m, (n, first)) in by_count {
            println!("unsupported {n:4}  {m}  (e.g. {first})");
        }
    }
    assert!(
        p >= PASS_FLOOR,
        "TCK execution passes dropped to {p} (floor {PASS_FLOOR})"
    );
}
