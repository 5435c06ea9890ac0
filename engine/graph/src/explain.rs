//! GRAPH.EXPLAIN's rendering of a [`Plan`]: one line per operator, root first, four spaces
//! of indentation per depth, `Name | args`, with FalkorDB 4.x operator names (`Results`,
//! `Project`, `Node By Label Scan | (a:Person)`, `Conditional Traverse | (a)->(b)` ...), so
//! the falkordb client's `ExecutionPlan` can rebuild the tree from the indentation.
//!
//! Invariants: the rendering never fails: an operator this module does not know (one added
//! to the IR later) shows under its IR variant name. Slots are shown under the user variable
//! name the lowering recorded in `Plan::names`, else under an output column's name when that
//! name is an identifier, else as `@anon_<slot>` (FalkorDB's spelling for anonymous
//! entities).

use std::fmt::Write;
use std::sync::Arc;

use crate::Direction;
use crate::exec::OpProfile;
use crate::graph::Graph;
use crate::index::IndexEntity;
use crate::plan::{Op, Plan, Slot};

/// The plan's lines, root first, as if the graph had no indexes.
pub fn explain_lines(plan: &Plan) -> Vec<String> {
    explain_lines_for(plan, None)
}

/// The plan's lines, root first. An index operator shows as `Node By Index Scan` only when
/// `graph` has a range index on its label and property (the executor falls back to a label
/// scan otherwise, and so does the rendering).
pub fn explain_lines_for(plan: &Plan, graph: Option<&Graph>) -> Vec<String> {
    render(plan, graph, None)
}

/// GRAPH.PROFILE's lines: [`explain_lines_for`] with ` | Records produced: N, Execution
/// time: X ms` on every line. `profile` holds one entry per top-level operator of
/// `plan.ops` (as `execute_profiled` returns them); operators nested inside another
/// (Optional, Merge, Foreach, Union branches) have no counters of their own and show 0.
/// `results` is the number of rows returned, shown on the `Results` line.
pub fn profile_lines(
    plan: &Plan,
    graph: Option<&Graph>,
    profile: &[OpProfile],
    results: usize,
) -> Vec<String> {
    render(plan, graph, Some((profile, results)))
}

fn render(plan: &Plan, graph: Option<&Graph>, prof: Option<(&[OpProfile], usize)>) -> Vec<String> {
    let names = Names::of(plan, graph);
    let mut out = Vec::new();
    let mut depth = 0;
    if !plan.columns.is_empty() {
        let mut l = "Results".to_string();
        if let Some((_, results)) = prof {
            suffix(&mut l, results, 0.0);
        }
        out.push(l);
        depth = 1;
    }
    let start = out.len();
    let top = chain(&names, &plan.ops, depth, &mut out);
    if let Some((profile, _)) = prof {
        for (i, l) in out.iter_mut().enumerate().skip(start) {
            let (mut records, ms) = top
                .iter()
                .find(|(line, _)| *line == i - start)
                .and_then(|(_, op)| profile.get(*op))
                .map_or((0, 0.0), |p| (p.records, p.elapsed.as_secs_f64() * 1000.0));
            if start == 0 && i == 0 {
                // Without RETURN nothing consumes the root's rows: FalkorDB reports 0 for it
                // (`Create | Records produced: 0` in its transcripts).
                records = 0;
            }
            suffix(l, records, ms);
        }
    }
    out
}

fn suffix(line: &mut String, records: usize, ms: f64) {
    let _ = write!(
        line,
        " | Records produced: {records}, Execution time: {ms:.6} ms"
    );
}

struct Names<'g> {
    slots: Vec<(Slot, String)>,
    graph: Option<&'g Graph>,
}

impl<'g> Names<'g> {
    fn of(plan: &Plan, graph: Option<&'g Graph>) -> Names<'g> {
        // User variable names first (the lowering records them); output column names are a
        // fallback for plans built without them.
        let mut slots: Vec<(Slot, String)> = plan.names.clone();
        slots.extend(
            plan.columns
                .iter()
                .filter(|(n, _)| {
                    !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_')
                })
                .map(|(n, s)| (*s, n.clone())),
        );
        Names { slots, graph }
    }

    fn indexed(&self, label: &str, prop: &str) -> bool {
        let Some(g) = self.graph else {
            return false;
        };
        match (g.label_id(label), g.prop_key_id(prop)) {
            (Some(l), Some(k)) => g.has_index(IndexEntity::Label(l), k),
            _ => false,
        }
    }

    fn get(&self, slot: Slot) -> String {
        self.slots
            .iter()
            .find(|(s, _)| *s == slot)
            .map_or_else(|| format!("@anon_{slot}"), |(_, n)| n.clone())
    }
}

/// Renders a pipeline: the last operator at `depth`, each earlier one a level deeper.
/// Returns, for each operator of `ops` that got a line, (line index relative to the first
/// line this call wrote, index in `ops`).
fn chain(names: &Names, ops: &[Op], depth: usize, out: &mut Vec<String>) -> Vec<(usize, usize)> {
    let base = out.len();
    let mut lines = Vec::new();
    let mut d = depth;
    for (i, op) in ops.iter().enumerate().rev() {
        if matches!(op, Op::RelsUnique(_)) {
            // Relationship uniqueness is part of FalkorDB's traversals, not an operator.
            continue;
        }
        lines.push((out.len() - base, i));
        line(out, d, &describe(names, op));
        match op {
            Op::Optional { ops, .. } => {
                chain(names, ops, d + 1, out);
            }
            Op::Union(branches) => {
                for b in branches {
                    chain(names, b, d + 1, out);
                }
            }
            Op::Foreach { body, .. } => {
                chain(names, body, d + 1, out);
            }
            Op::Merge { pattern, .. } => {
                chain(names, pattern, d + 1, out);
            }
            _ => {}
        }
        d += 1;
    }
    lines
}

fn line(out: &mut Vec<String>, depth: usize, text: &str) {
    let mut s = " ".repeat(depth * 4);
    s.push_str(text);
    out.push(s);
}

fn types(ts: &[Arc<str>]) -> String {
    if ts.is_empty() {
        String::new()
    } else {
        format!(":{}", ts.iter().map(|t| &**t).collect::<Vec<_>>().join("|"))
    }
}

fn arrow(dir: Direction, rel: &str) -> (String, String) {
    let bare = rel.is_empty();
    match dir {
        Direction::Out if bare => (String::new(), "->".into()),
        Direction::Out => (format!("-{rel}"), "->".into()),
        Direction::In if bare => ("<-".into(), String::new()),
        Direction::In => ("<-".into(), format!("{rel}-")),
        Direction::Both if bare => ("-".into(), String::new()),
        Direction::Both => (format!("-{rel}"), "-".into()),
    }
}

fn describe(names: &Names, op: &Op) -> String {
    match op {
        Op::AllNodesScan { slot } => format!("All Node Scan | ({})", names.get(*slot)),
        Op::LabelScan { slot, label } => {
            format!("Node By Label Scan | ({}:{label})", names.get(*slot))
        }
        Op::IndexSeek {
            slot, label, prop, ..
        }
        | Op::IndexScan {
            slot, label, prop, ..
        } => {
            // Without the index the executor scans the label and filters.
            let name = if names.indexed(label, prop) {
                "Node By Index Scan"
            } else {
                "Node By Label Scan"
            };
            format!("{name} | ({}:{label})", names.get(*slot))
        }
        Op::Expand {
            from,
            to,
            to_bound,
            types: ts,
            dir,
            ..
        } => {
            let name = if *to_bound {
                "Expand Into"
            } else {
                "Conditional Traverse"
            };
            // FalkorDB shows fixed-length traversals without the relationship.
            let _ = ts;
            let (l, r) = arrow(*dir, "");
            format!("{name} | ({}){l}{r}({})", names.get(*from), names.get(*to))
        }
        Op::VarExpand {
            from,
            rel_slot,
            to,
            types: ts,
            dir,
            min,
            max,
            ..
        } => {
            let hops = match max {
                Some(m) => format!("*{min}..{m}"),
                None => format!("*{min}.."),
            };
            let rel = format!("[{}{}{hops}]", names.get(*rel_slot), types(ts));
            let (l, r) = arrow(*dir, &rel);
            format!(
                "Conditional Variable Length Traverse | ({}){l}{r}({})",
                names.get(*from),
                names.get(*to)
            )
        }
        Op::Filter(_) => "Filter".into(),
        Op::Project(_) => "Project".into(),
        Op::Aggregate { .. } => "Aggregate".into(),
        Op::Sort(_) => "Sort".into(),
        Op::Skip(_) => "Skip".into(),
        Op::Limit(_) => "Limit".into(),
        Op::Distinct(_) => "Distinct".into(),
        Op::Unwind { .. } => "Unwind".into(),
        Op::Optional { .. } => "Optional".into(),
        Op::Union(_) => "Union".into(),
        Op::Create { .. } => "Create".into(),
        Op::SetProps(_) | Op::SetMap { .. } | Op::SetLabels { .. } => "Update".into(),
        Op::Delete { .. } => "Delete".into(),
        Op::Merge { .. } => "Merge".into(),
        Op::Foreach { .. } => "Foreach".into(),
        Op::Call { name, .. } => format!("ProcedureCall | {name}"),
        Op::ShortestPath { all, .. } => {
            if *all {
                "All Shortest Paths".into()
            } else {
                "Shortest Path".into()
            }
        }
        #[allow(unreachable_patterns)]
        other => {
            // An operator added to the IR after this renderer: its variant name.
            let mut s = String::new();
            let _ = write!(s, "{other:?}");
            s.split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("Operator")
                .to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Expr;
    use crate::value::Value;

    #[test]
    fn pipeline_renders_root_first_with_indentation() {
        let plan = Plan {
            ops: vec![
                Op::LabelScan {
                    slot: 0,
                    label: "Person".into(),
                },
                Op::Filter(Expr::Lit(Value::Bool(true))),
                Op::Expand {
                    from: 0,
                    rel_slot: 1,
                    to: 2,
                    to_bound: false,
                    types: vec!["KNOWS".into()],
                    dir: Direction::Out,
                },
                Op::Project(vec![]),
            ],
            slots: 3,
            columns: vec![("a".into(), 0), ("b".into(), 2)],
            names: vec![],
        };
        assert_eq!(
            explain_lines(&plan),
            [
                "Results",
                "    Project",
                "        Conditional Traverse | (a)->(b)",
                "            Filter",
                "                Node By Label Scan | (a:Person)",
            ]
        );
    }

    #[test]
    fn variables_by_name_index_scan_without_index_and_profile_suffixes() {
        let plan = Plan {
            ops: vec![
                Op::IndexScan {
                    slot: 0,
                    label: "P".into(),
                    prop: "id".into(),
                    cmp: crate::plan::BinOp::Eq,
                    value: Expr::Lit(Value::Int(1)),
                },
                Op::Project(vec![]),
            ],
            slots: 2,
            columns: vec![("p.id".into(), 1)],
            names: vec![(0, "p".into())],
        };
        assert_eq!(
            explain_lines(&plan),
            [
                "Results",
                "    Project",
                "        Node By Label Scan | (p:P)"
            ]
        );
        let prof = [
            OpProfile {
                records: 3,
                elapsed: std::time::Duration::from_micros(5),
            },
            OpProfile {
                records: 2,
                elapsed: std::time::Duration::ZERO,
            },
        ];
        assert_eq!(
            profile_lines(&plan, None, &prof, 2),
            [
                "Results | Records produced: 2, Execution time: 0.000000 ms",
                "    Project | Records produced: 2, Execution time: 0.000000 ms",
                "        Node By Label Scan | (p:P) | Records produced: 3, Execution time: 0.005000 ms",
            ]
        );
    }

    #[test]
    fn a_write_without_return_has_no_results_line() {
        let plan = Plan {
            ops: vec![Op::Create {
                nodes: vec![],
                rels: vec![],
            }],
            slots: 0,
            columns: vec![],
            names: vec![],
        };
        assert_eq!(explain_lines(&plan), ["Create"]);
    }
}
