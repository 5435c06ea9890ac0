//! GRAPH.EXPLAIN's rendering of a [`Plan`]: one line per operator, root first, four spaces
//! of indentation per depth, `Name | args`, with FalkorDB 4.x operator names (`Results`,
//! `Project`, `Node By Label Scan | (a:Person)`, `Conditional Traverse | (a)->(b)` ...), so
//! the falkordb client's `ExecutionPlan` can rebuild the tree from the indentation.
//!
//! Invariants: the rendering never fails: an operator this module does not know (one added
//! to the IR later) shows under its IR variant name. The plan carries no variable names, only
//! slots: a slot that is an output column is shown under the column's name when that name
//! is an identifier, every other slot as `@anon_<slot>` (FalkorDB's spelling for anonymous
//! entities).

use std::fmt::Write;
use std::sync::Arc;

use crate::Direction;
use crate::plan::{Op, Plan, Slot};

/// The plan's lines, root first.
pub fn explain_lines(plan: &Plan) -> Vec<String> {
    let names = Names::of(plan);
    let mut out = Vec::new();
    let mut depth = 0;
    if !plan.columns.is_empty() {
        out.push("Results".to_string());
        depth = 1;
    }
    chain(&names, &plan.ops, depth, &mut out);
    out
}

struct Names(Vec<(Slot, String)>);

impl Names {
    fn of(plan: &Plan) -> Names {
        Names(
            plan.columns
                .iter()
                .filter(|(n, _)| {
                    !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_')
                })
                .map(|(n, s)| (*s, n.clone()))
                .collect(),
        )
    }

    fn get(&self, slot: Slot) -> String {
        self.0
            .iter()
            .find(|(s, _)| *s == slot)
            .map_or_else(|| format!("@anon_{slot}"), |(_, n)| n.clone())
    }
}

/// Renders a pipeline: the last operator at `depth`, each earlier one a level deeper.
fn chain(names: &Names, ops: &[Op], depth: usize, out: &mut Vec<String>) {
    let mut d = depth;
    for op in ops.iter().rev() {
        if matches!(op, Op::RelsUnique(_)) {
            // Relationship uniqueness is part of FalkorDB's traversals, not an operator.
            continue;
        }
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
            Op::Foreach { body, .. } => chain(names, body, d + 1, out),
            Op::Merge { pattern, .. } => chain(names, pattern, d + 1, out),
            _ => {}
        }
        d += 1;
    }
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
        Op::IndexSeek { slot, label, .. } | Op::IndexScan { slot, label, .. } => {
            format!("Node By Index Scan | ({}:{label})", names.get(*slot))
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
    fn a_write_without_return_has_no_results_line() {
        let plan = Plan {
            ops: vec![Op::Create {
                nodes: vec![],
                rels: vec![],
            }],
            slots: 0,
            columns: vec![],
        };
        assert_eq!(explain_lines(&plan), ["Create"]);
    }
}
