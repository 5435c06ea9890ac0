//! Lowering of the clauses that write through a pattern or a registry: `SET` items (shared
//! with MERGE's ON CREATE / ON MATCH), `MERGE`, and `CALL` (procedures).
//!
//! A child module of `lower`, so it extends `Lowerer` directly.

use std::sync::Arc;

use moon_graph::plan::{CreateNode, CreateRel, Expr as PExpr, Op, SetProp, Slot};

use super::{Lowerer, Result, Scope, unsupported};
use crate::ast::{Direction, SetItem};
use crate::error::{CypherError, ErrorDetail};

impl Lowerer {
    /// `SET` items (also MERGE's ON CREATE / ON MATCH) as operators, in order.
    pub(super) fn set_items(&mut self, items: &[SetItem]) -> Result<Vec<Op>> {
        let scope = self.scope.clone();
        let mut ops = Vec::with_capacity(items.len());
        for it in items {
            let op = match it {
                SetItem::Property {
                    target, key, value, ..
                } => Op::SetProps(vec![SetProp {
                    target: self.expr(target, &scope, None)?,
                    key: Arc::from(key.name.as_str()),
                    value: self.expr(value, &scope, None)?,
                }]),
                SetItem::Replace {
                    variable, value, ..
                }
                | SetItem::Merge {
                    variable, value, ..
                } => Op::SetMap {
                    target: self.var(variable, &scope)?,
                    value: self.expr(value, &scope, None)?,
                    replace: matches!(it, SetItem::Replace { .. }),
                },
                SetItem::Labels {
                    variable, labels, ..
                } => Op::SetLabels {
                    target: self.var(variable, &scope)?,
                    labels: labels.iter().map(|l| Arc::from(l.name.as_str())).collect(),
                    remove: false,
                },
            };
            ops.push(op);
        }
        Ok(ops)
    }

    /// `MERGE`: the pattern is lowered twice over the same slots, once as a match and once as
    /// a create of its unbound parts. Anonymous nodes and relationships get hidden names for
    /// the duration of the lowering, chosen to differ from every name in scope or in the
    /// pattern (a back-quoted name may contain anything), and removed again afterwards.
    pub(super) fn merge(&mut self, m: &crate::ast::MergeClause) -> Result<()> {
        let before: Scope = self.scope.clone();
        let mut part = m.part.clone();
        let el = &part.element;
        let mut taken: std::collections::HashSet<String> = before.keys().cloned().collect();
        taken.extend(el.start.variable.iter().map(|v| v.name.clone()));
        for (r, n) in &el.chain {
            taken.extend(r.variable.iter().chain(&n.variable).map(|v| v.name.clone()));
        }
        let mut hidden: Vec<String> = Vec::new();
        let mut hide = |v: &mut Option<crate::ast::Ident>, span: crate::ast::Span| {
            if v.is_none() {
                let mut k = hidden.len();
                let name = loop {
                    let n = format!("\u{0}merge{k}");
                    if !taken.contains(&n) {
                        break n;
                    }
                    k += 1;
                };
                taken.insert(name.clone());
                hidden.push(name.clone());
                *v = Some(crate::ast::Ident { name, span });
            }
        };
        hide(&mut part.element.start.variable, part.element.start.span);
        for (r, n) in &mut part.element.chain {
            hide(&mut r.variable, r.span);
            hide(&mut n.variable, n.span);
        }
        for (r, _) in &part.element.chain {
            if r.length.is_some() {
                return Err(unsupported(r.span.start, "variable-length MERGE"));
            }
            if r.types.len() != 1 {
                return Err(unsupported(
                    r.span.start,
                    "MERGE relationship without exactly one type",
                ));
            }
            if let Some(v) = &r.variable
                && before.contains_key(&v.name)
            {
                return Err(unsupported(v.span.start, "MERGE on a bound relationship"));
            }
        }
        // Match side.
        let first_new = self.slots;
        let mut pattern = Vec::new();
        let mut rels = Vec::new();
        let (start, hops) = self.match_element(&part.element, &mut pattern, &mut rels, true)?;
        if rels.len() > 1 {
            pattern.push(Op::RelsUnique(rels));
        }
        crate::lower_index::choose_index_scans(&mut pattern, first_new);
        let mut path_proj = Vec::new();
        if let Some(v) = &part.variable {
            let slot = self.fresh();
            self.scope.insert(v.name.clone(), slot);
            path_proj.push((slot, PExpr::Path { start, hops }));
        }
        // Create side, over the slots the match bound.
        let slot_of = |s: &Scope, n: &Option<crate::ast::Ident>| -> Option<Slot> {
            n.as_ref().and_then(|v| s.get(&v.name).copied())
        };
        let mut nodes = Vec::new();
        let mut created: Vec<Slot> = Vec::new();
        let mut node_slots = Vec::new();
        let el = &part.element;
        let all_nodes = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
        for n in all_nodes {
            let Some(slot) = slot_of(&self.scope, &n.variable) else {
                return Err(unsupported(n.span.start, "MERGE node"));
            };
            node_slots.push(slot);
            let bound = n
                .variable
                .as_ref()
                .is_some_and(|v| before.contains_key(&v.name));
            if bound || created.contains(&slot) {
                continue;
            }
            created.push(slot);
            nodes.push(CreateNode {
                slot,
                labels: n
                    .labels
                    .iter()
                    .map(|l| Arc::from(l.name.as_str()))
                    .collect(),
                props: self.create_props(n.properties.as_ref())?,
            });
        }
        let mut crels = Vec::new();
        for (i, (r, _)) in el.chain.iter().enumerate() {
            let (Some(slot), Some(prev), Some(next)) = (
                slot_of(&self.scope, &r.variable),
                node_slots.get(i).copied(),
                node_slots.get(i + 1).copied(),
            ) else {
                return Err(unsupported(r.span.start, "MERGE relationship"));
            };
            let (src, dst) = match r.direction {
                Direction::Incoming => (next, prev),
                _ => (prev, next),
            };
            let Some(t) = r.types.first() else {
                return Err(unsupported(r.span.start, "relationship without a type"));
            };
            crels.push(CreateRel {
                slot,
                src,
                dst,
                rel_type: Arc::from(t.name.as_str()),
                props: self.create_props(r.properties.as_ref())?,
            });
        }
        for h in &hidden {
            self.scope.remove(h);
        }
        let mut on_match = Vec::new();
        let mut on_create = Vec::new();
        if !path_proj.is_empty() {
            pattern.push(Op::Project(path_proj.clone()));
            on_create.push(Op::Project(path_proj));
        }
        on_match.extend(self.set_items(&m.on_match)?);
        on_create.extend(self.set_items(&m.on_create)?);
        self.ops.push(Op::Merge {
            pattern,
            nodes,
            rels: crels,
            on_match,
            on_create,
        });
        Ok(())
    }

    /// `CALL proc(args) [YIELD a [AS b], ...] [WHERE ...]`; without YIELD every output column
    /// is bound under its own name (and returned when the CALL ends the query).
    pub(super) fn call(&mut self, c: &crate::ast::CallClause) -> Result<()> {
        let name = c.procedure.to_ascii_lowercase();
        let Some(cols) = moon_graph::exec::procedure_columns(&name) else {
            return Err(CypherError::new(
                ErrorDetail::Unsupported,
                c.span.start,
                format!("Procedure `{}` is not registered", c.procedure),
            ));
        };
        let scope = self.scope.clone();
        let mut args = Vec::new();
        for a in c.args.iter().flatten() {
            args.push(self.expr(a, &scope, None)?);
        }
        let mut yields = Vec::new();
        self.columns.clear();
        let wanted: Vec<(String, String)> = match &c.yields {
            Some(items) if !c.yield_star => {
                let mut out = Vec::new();
                for y in items {
                    let field = y.field.name.clone();
                    if !cols.iter().any(|c| c.eq_ignore_ascii_case(&field)) {
                        return Err(CypherError::new(
                            ErrorDetail::Unsupported,
                            y.field.span.start,
                            format!("Procedure `{}` does not yield `{field}`", c.procedure),
                        ));
                    }
                    let alias = y.alias.as_ref().map_or(field.clone(), |a| a.name.clone());
                    out.push((field, alias));
                }
                out
            }
            _ => cols
                .iter()
                .map(|c| (c.to_string(), c.to_string()))
                .collect(),
        };
        for (field, alias) in wanted {
            let slot = self.fresh();
            self.scope.insert(alias.clone(), slot);
            yields.push((field, slot));
            self.columns.push((alias, slot));
        }
        self.ops.push(Op::Call { name, args, yields });
        if let Some(w) = &c.where_ {
            let scope = self.scope.clone();
            let pred = self.expr(w, &scope, None)?;
            self.ops.push(Op::Filter(pred));
        }
        Ok(())
    }
}
