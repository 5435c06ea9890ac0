//! Runs parsed TCK scenarios against a GRAPH.QUERY server over RESP (compact replies) and
//! judges them.
//!
//! Invariants:
//! - Every scenario runs on its own fresh graph key (deleted before and after), so scenarios
//!   never see each other's data.
//! - Labels and properties side effects are measured the way the TCK's reference harness
//!   does: a diff of the graph state before and after the query (the set of labels in use,
//!   the set of `(entity id, key, value)` property triples). Node and relationship counts come
//!   from the reply's statistics (`Nodes created` ...) instead of an id diff, because FalkorDB
//!   recycles a deleted entity's id even within the same query (`MATCH (a) DELETE a MERGE
//!   (b ...)` gives b the id of a). Known consequence: an entity created AND deleted by one
//!   query counts as +1/-1 where the TCK expects nothing (Delete4 [3], the only such case).
//! - An expected error passes when the server answers ANY error (FalkorDB's texts are not the
//!   TCK's error names); whether the text mentions the TCK reason is only recorded.
//! - A scenario passes only when every step was checked and matched: an unknown step, an
//!   unparsable expected value or a dropped connection is a failure, never a pass.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use super::gherkin::{Scenario, Step};
use super::value::{Schema, Val, decode, multiset_eq, needs_schema, parse_tck};
use crate::common::{Conn, Reply};

/// A query that takes longer is a failure (and the connection is replaced).
const QUERY_DEADLINE: Duration = Duration::from_secs(10);

/// The outcome of one scenario.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pass,
    /// The scenario is tagged `@ignore` in the TCK itself.
    Skipped,
    Fail(String),
}

/// What a scenario's error step observed (for the report's "reason mentioned" count).
#[derive(Debug, Clone, Default)]
pub struct ErrorNote {
    pub expected_errors: usize,
    pub reason_mentioned: usize,
}

/// A successful GRAPH.QUERY reply.
struct QueryOut {
    columns: Vec<String>,
    rows: Vec<Vec<Reply>>,
    stats: Vec<String>,
}

impl QueryOut {
    /// A counter of the statistics strings (`Nodes created: 2`); absent means 0.
    fn stat(&self, name: &str) -> i64 {
        self.stats
            .iter()
            .find_map(|s| s.strip_prefix(name)?.strip_prefix(": "))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0, |f| f as i64)
    }
}

/// A connection that reconnects after a timed-out query.
pub struct Client {
    port: u16,
    conn: Conn,
    /// Queries nested deeper than this are not sent (see [`Client::guard_nesting`]).
    max_nesting: Option<usize>,
}

/// Deepest `(`/`[`/`{` nesting of a query, outside string literals.
pub fn nesting_depth(q: &str) -> usize {
    let (mut depth, mut max, mut quote) = (0usize, 0usize, None::<char>);
    let mut chars = q.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(qc), c) if c == qc => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                max = max.max(depth);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Error texts that mean "the server never judged the query": never a pass, even where an
/// error is expected.
fn is_transport_failure(e: &str) -> bool {
    [
        "no reply within",
        "connection error",
        "not sent:",
        "bad reply:",
    ]
    .iter()
    .any(|p| e.starts_with(p))
}

fn connect(port: u16) -> Conn {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the server under test");
    s.set_read_timeout(Some(QUERY_DEADLINE))
        .expect("read timeout");
    s.set_nodelay(true).expect("nodelay");
    Conn::new(s)
}

impl Client {
    pub fn new(port: u16) -> Client {
        Client {
            port,
            conn: connect(port),
            max_nesting: None,
        }
    }

    /// Refuses to send queries nested deeper than `max`: FalkorDB's parser is exponential in
    /// literal nesting depth and a 20- or 40-level literal (the TCK has both) wedges one of its
    /// worker threads for good, after which every later query stalls. Such a scenario counts
    /// as a failure of the server, not as skipped.
    pub fn guard_nesting(&mut self, max: usize) {
        self.max_nesting = Some(max);
    }

    fn call(&mut self, args: &[&str]) -> Result<Reply, String> {
        self.conn.send(args);
        match self.conn.try_read() {
            Ok(r) => Ok(r),
            Err(e) => {
                self.conn = connect(self.port);
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
                    Err(format!("no reply within {QUERY_DEADLINE:?}"))
                } else {
                    Err(format!("connection error: {e}"))
                }
            }
        }
    }

    /// `GRAPH.QUERY key q --compact`; `Err` holds the error text (or the transport failure).
    fn query(&mut self, key: &str, q: &str, read_only: bool) -> Result<QueryOut, String> {
        let cmd = if read_only {
            "GRAPH.RO_QUERY"
        } else {
            "GRAPH.QUERY"
        };
        if let Some(max) = self.max_nesting {
            let depth = nesting_depth(q);
            if depth > max {
                return Err(format!(
                    "not sent: nesting depth {depth} > {max} would wedge the server's parser \
                     (exponential, FALKORDB-PROTOCOL.md section 7)"
                ));
            }
        }
        let reply = self.call(&[cmd, key, q, "--compact"])?;
        let items = match reply {
            Reply::Error(e) => return Err(e),
            Reply::Array(items) => items,
            other => return Err(format!("bad reply: reply is not an array: {other:?}")),
        };
        if let Some(Reply::Error(e)) = items.iter().find(|r| matches!(r, Reply::Error(_))) {
            return Err(e.clone());
        }
        let texts = |r: &Reply| -> Vec<String> {
            match r {
                Reply::Array(a) => a
                    .iter()
                    .filter_map(|x| match x {
                        Reply::Bulk(b) => Some(String::from_utf8_lossy(b).to_string()),
                        Reply::Simple(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let stats_ok = |r: &Reply| match r {
            Reply::Array(a) => a
                .iter()
                .all(|x| matches!(x, Reply::Bulk(_) | Reply::Simple(_))),
            _ => false,
        };
        match items.as_slice() {
            [stats] if stats_ok(stats) => Ok(QueryOut {
                columns: Vec::new(),
                rows: Vec::new(),
                stats: texts(stats),
            }),
            [header, rows, stats] if stats_ok(stats) => {
                let columns = match header {
                    Reply::Array(h) => h
                        .iter()
                        .map(|c| match c {
                            Reply::Array(pair) => match pair.as_slice() {
                                [_, Reply::Bulk(n)] => Ok(String::from_utf8_lossy(n).to_string()),
                                _ => Err(format!("bad reply: bad header entry {c:?}")),
                            },
                            Reply::Bulk(n) => Ok(String::from_utf8_lossy(n).to_string()),
                            _ => Err(format!("bad reply: bad header entry {c:?}")),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => return Err(format!("bad reply: bad header {other:?}")),
                };
                let rows = match rows {
                    Reply::Array(rs) => rs
                        .iter()
                        .map(|r| match r {
                            Reply::Array(cells) => Ok(cells.clone()),
                            other => Err(format!("bad reply: bad row {other:?}")),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => return Err(format!("bad reply: bad rows {other:?}")),
                };
                Ok(QueryOut {
                    columns,
                    rows,
                    stats: texts(stats),
                })
            }
            other => Err(format!(
                "bad reply: {} elements or bad statistics: {other:?}",
                other.len()
            )),
        }
    }

    fn names(&mut self, key: &str, proc_call: &str) -> Result<Vec<String>, String> {
        let out = self.query(key, proc_call, true)?;
        out.rows
            .iter()
            .map(|r| match r.first().map(|c| decode(&Schema::default(), c)) {
                Some(Ok(Val::Str(s))) => Ok(s),
                other => Err(format!("{proc_call}: unexpected row {other:?}")),
            })
            .collect()
    }

    fn schema(&mut self, key: &str) -> Result<Schema, String> {
        Ok(Schema {
            labels: self.names(key, "CALL db.labels()")?,
            types: self.names(key, "CALL db.relationshipTypes()")?,
            keys: self.names(key, "CALL db.propertyKeys()")?,
        })
    }

    /// Decoded rows, fetching the schema names only when an entity needs them.
    fn decode_rows(&mut self, key: &str, out: &QueryOut) -> Result<Vec<Vec<Val>>, String> {
        let schema = if out.rows.iter().flatten().any(needs_schema) {
            self.schema(key)?
        } else {
            Schema::default()
        };
        out.rows
            .iter()
            .map(|r| r.iter().map(|c| decode(&schema, c)).collect())
            .collect()
    }

    /// The graph state the TCK diffs: labels in use and property triples.
    fn snapshot(&mut self, key: &str) -> Result<Snapshot, String> {
        let labels_out = self.query(
            key,
            "MATCH (n) UNWIND labels(n) AS l RETURN DISTINCT l",
            false,
        )?;
        let mut labels = BTreeSet::new();
        for row in self.decode_rows(key, &labels_out)? {
            if let Some(Val::Str(l)) = row.first() {
                labels.insert(l.clone());
            }
        }
        let mut props = BTreeSet::new();
        for (kind, q) in [
            ("n", "MATCH (n) RETURN id(n), properties(n)"),
            ("r", "MATCH ()-[r]->() RETURN id(r), properties(r)"),
        ] {
            let out = self.query(key, q, false)?;
            for row in self.decode_rows(key, &out)? {
                if let [Val::Int(id), Val::Map(m)] = row.as_slice() {
                    for (k, v) in m {
                        props.insert(format!("{kind}{id}.{k}={}", v.show()));
                    }
                }
            }
        }
        Ok(Snapshot { labels, props })
    }
}

/// What the TCK's side effects are a diff of.
struct Snapshot {
    labels: BTreeSet<String>,
    props: BTreeSet<String>,
}

/// `CYPHER name=value ...` prefix from the TCK's `parameters are:` table (values are literals).
fn with_params(q: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return q.to_string();
    }
    let mut s = String::from("CYPHER ");
    for (k, v) in params {
        s.push_str(&format!("{k}={v} "));
    }
    s.push_str(q);
    s
}

/// Lower-case words of a CamelCase TCK reason (`UndefinedVariable` -> undefined, variable).
fn reason_words(reason: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in reason.chars() {
        if c.is_uppercase() && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn show_rows(rows: &[Vec<Val>]) -> String {
    let mut s: Vec<String> = rows
        .iter()
        .take(4)
        .map(|r| r.iter().map(Val::show).collect::<Vec<_>>().join(" | "))
        .collect();
    if rows.len() > 4 {
        s.push(format!("... ({} rows)", rows.len()));
    }
    format!("[{}]", s.join("; "))
}

/// Runs one scenario on graph `key` (deleted before and after).
pub fn run_scenario(
    client: &mut Client,
    graphs_dir: &Path,
    sc: &Scenario,
    key: &str,
    notes: &mut ErrorNote,
) -> Outcome {
    if sc.ignored {
        return Outcome::Skipped;
    }
    let _ = client.call(&["GRAPH.DELETE", key]);
    let out = run_steps(client, graphs_dir, sc, key, notes);
    let _ = client.call(&["GRAPH.DELETE", key]);
    match out {
        Ok(()) => Outcome::Pass,
        Err(why) => Outcome::Fail(why),
    }
}

fn run_steps(
    client: &mut Client,
    graphs_dir: &Path,
    sc: &Scenario,
    key: &str,
    notes: &mut ErrorNote,
) -> Result<(), String> {
    let wants_effects = sc
        .steps
        .iter()
        .any(|s| matches!(s, Step::SideEffects(_) | Step::NoSideEffects));
    let mut params: Vec<(String, String)> = Vec::new();
    let mut last: Option<Result<QueryOut, String>> = None;
    let mut effects: BTreeMap<String, i64> = BTreeMap::new();
    let mut executed_main = false;
    for step in &sc.steps {
        match step {
            Step::EmptyGraph | Step::AnyGraph => {}
            Step::NamedGraph(name) => {
                let dir = graphs_dir.join(name);
                let file = dir.join(format!("{name}.cypher"));
                let q = std::fs::read_to_string(&file)
                    .map_err(|e| format!("runner: graph {name}: {}: {e}", file.display()))?;
                client
                    .query(key, &q, false)
                    .map_err(|e| format!("setup failed (graph {name}): {e}"))?;
            }
            Step::HavingExecuted(q) => {
                client
                    .query(key, q, false)
                    .map_err(|e| format!("setup failed: {e}"))?;
            }
            Step::Parameters(p) => params = p.clone(),
            Step::Execute { query, control } => {
                let q = with_params(query, &params);
                if *control {
                    last = Some(client.query(key, &q, false));
                    continue;
                }
                let before = if wants_effects {
                    Some(
                        client
                            .snapshot(key)
                            .map_err(|e| format!("runner: snapshot: {e}"))?,
                    )
                } else {
                    None
                };
                let res = client.query(key, &q, false);
                executed_main = true;
                if let (Some(s0), Ok(out)) = (&before, &res) {
                    let s1 = client
                        .snapshot(key)
                        .map_err(|e| format!("runner: snapshot: {e}"))?;
                    let (pn, mn) = (out.stat("Nodes created"), out.stat("Nodes deleted"));
                    let (pr, mr) = (
                        out.stat("Relationships created"),
                        out.stat("Relationships deleted"),
                    );
                    effects.clear();
                    effects.insert("+nodes".into(), pn);
                    effects.insert("-nodes".into(), mn);
                    effects.insert("+relationships".into(), pr);
                    effects.insert("-relationships".into(), mr);
                    let (s0l, s1l) = (&s0.labels, &s1.labels);
                    effects.insert("+labels".into(), s1l.difference(s0l).count() as i64);
                    effects.insert("-labels".into(), s0l.difference(s1l).count() as i64);
                    let (s0p, s1p) = (&s0.props, &s1.props);
                    effects.insert("+properties".into(), s1p.difference(s0p).count() as i64);
                    effects.insert("-properties".into(), s0p.difference(s1p).count() as i64);
                }
                last = Some(res);
            }
            Step::Result {
                table,
                ordered,
                ignore_list_order,
            } => {
                let out = match &last {
                    None => return Err("runner: result step before any query".into()),
                    Some(Err(e)) => return Err(format!("error: {e}")),
                    Some(Ok(o)) => o,
                };
                let Some((head, rows)) = table.split_first() else {
                    return Err("runner: result table without header".into());
                };
                let expected: Vec<Vec<Val>> = rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|c| parse_tck(c))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("runner: cannot parse expected value: {e}"))?;
                if &out.columns != head {
                    return Err(format!(
                        "columns differ: expected {head:?}, got {:?}",
                        out.columns
                    ));
                }
                let actual = client
                    .decode_rows(key, out)
                    .map_err(|e| format!("undecodable reply: {e}"))?;
                let row_eq = |a: &Vec<Val>, b: &Vec<Val>| {
                    a.len() == b.len()
                        && a.iter()
                            .zip(b)
                            .all(|(x, y)| x.eq_tck(y, *ignore_list_order))
                };
                let same = if *ordered {
                    expected.len() == actual.len()
                        && expected.iter().zip(&actual).all(|(a, b)| row_eq(a, b))
                } else {
                    multiset_eq(&expected, &actual, row_eq)
                };
                if !same {
                    return Err(format!(
                        "rows differ: expected {} got {}",
                        show_rows(&expected),
                        show_rows(&actual)
                    ));
                }
            }
            Step::ResultEmpty => match &last {
                None => return Err("runner: result step before any query".into()),
                Some(Err(e)) => return Err(format!("error: {e}")),
                Some(Ok(o)) if !o.rows.is_empty() => {
                    return Err(format!("expected no rows, got {}", o.rows.len()));
                }
                Some(Ok(_)) => {}
            },
            Step::SideEffects(_) | Step::NoSideEffects => {
                if !executed_main {
                    return Err("runner: side effects before the query".into());
                }
                let want: BTreeMap<String, i64> = match step {
                    Step::SideEffects(list) => list.iter().cloned().collect(),
                    _ => BTreeMap::new(),
                };
                if let Some(Err(e)) = &last {
                    // A failed query is rolled back: only "no side effects" can match.
                    if want.values().all(|v| *v == 0) {
                        continue;
                    }
                    return Err(format!("error: {e}"));
                }
                for k in want.keys() {
                    if !effects.contains_key(k) {
                        return Err(format!("runner: unknown side effect {k}"));
                    }
                }
                let diffs: Vec<String> = effects
                    .iter()
                    .filter(|(k, v)| want.get(*k).copied().unwrap_or(0) != **v)
                    .map(|(k, v)| format!("{k} {v} (want {})", want.get(k).copied().unwrap_or(0)))
                    .collect();
                if !diffs.is_empty() {
                    return Err(format!("side effects differ: {}", diffs.join(", ")));
                }
            }
            Step::Error { kind, reason, .. } => {
                notes.expected_errors += 1;
                match &last {
                    None => return Err("runner: error step before any query".into()),
                    Some(Ok(o)) => {
                        return Err(format!(
                            "expected {kind} ({reason}), got success with {} rows",
                            o.rows.len()
                        ));
                    }
                    Some(Err(e)) => {
                        if is_transport_failure(e) {
                            return Err(format!("expected {kind}: {e}"));
                        }
                        let text = e.to_lowercase();
                        let words = reason_words(reason);
                        if !words.is_empty() && words.iter().all(|w| text.contains(w.as_str())) {
                            notes.reason_mentioned += 1;
                        }
                    }
                }
            }
            Step::Unknown(t) => return Err(format!("runner: unknown step {t:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_words_split() {
        assert_eq!(
            reason_words("UndefinedVariable"),
            vec!["undefined", "variable"]
        );
        assert_eq!(nesting_depth("RETURN [[1], {a: '(((('}] AS x"), 2);
        assert!(is_transport_failure("not sent: nesting"));
        assert_eq!(
            with_params("RETURN $a", &[("a".into(), "'x'".into())]),
            "CYPHER a='x' RETURN $a"
        );
    }
}
