//! Index-seek selection for one lowered `MATCH`: a `LabelScan` whose node has a predicate
//! `n.p = e` (from a pattern property map or a top-level `AND` conjunct of the WHERE), or
//! `n.p < / <= / > / >= e`, or `n.p IN e`, becomes an `IndexScan` on `(label, p)`.
//!
//! The lowering cannot see the graph, so the choice is "index if one exists at run time": the
//! `IndexScan` operator falls back to the label scan itself. The original filters are kept, so
//! the rewrite never changes results — it only narrows the candidates. `e` must be computable
//! before the scan: it may read only slots bound before this MATCH (`< first_new`) and must
//! not contain a sub-pipeline.

use moon_graph::plan::{BinOp, Expr as PExpr, Op, Slot};

/// Rewrites the `LabelScan`s among `ops` (the operators of one MATCH) where an index can help.
pub(crate) fn choose_index_scans(ops: &mut [Op], first_new: Slot) {
    let mut preds: Vec<PExpr> = Vec::new();
    for op in ops.iter() {
        if let Op::Filter(p) = op {
            conjuncts(p, &mut preds);
        }
    }
    for op in ops.iter_mut() {
        let Op::LabelScan { slot, label } = op else {
            continue;
        };
        let mut best: Option<(u8, BinOp, std::sync::Arc<str>, PExpr)> = None;
        for p in &preds {
            let Some((cmp, key, value)) = seekable(p, *slot) else {
                continue;
            };
            if !independent(&value, first_new) {
                continue;
            }
            let rank = match cmp {
                BinOp::Eq => 0,
                BinOp::In => 1,
                _ => 2,
            };
            if best.as_ref().is_none_or(|(r, ..)| rank < *r) {
                best = Some((rank, cmp, key, value));
            }
        }
        if let Some((_, cmp, prop, value)) = best {
            *op = Op::IndexScan {
                slot: *slot,
                label: label.clone(),
                prop,
                cmp,
                value,
            };
        }
    }
}

fn conjuncts(e: &PExpr, out: &mut Vec<PExpr>) {
    match e {
        PExpr::Binary(BinOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other.clone()),
    }
}

/// `slot.key <cmp> value` (or the mirrored form for the order comparisons and `=`).
fn seekable(p: &PExpr, slot: Slot) -> Option<(BinOp, std::sync::Arc<str>, PExpr)> {
    let PExpr::Binary(op, a, b) = p else {
        return None;
    };
    let prop_of = |e: &PExpr| match e {
        PExpr::Prop(t, k) if matches!(**t, PExpr::Slot(s) if s == slot) => Some(k.clone()),
        _ => None,
    };
    let mirrored = match op {
        BinOp::Eq => Some(BinOp::Eq),
        BinOp::Lt => Some(BinOp::Gt),
        BinOp::Le => Some(BinOp::Ge),
        BinOp::Gt => Some(BinOp::Lt),
        BinOp::Ge => Some(BinOp::Le),
        _ => None,
    };
    match (op, prop_of(a), prop_of(b)) {
        (BinOp::Eq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In, Some(k), None) => {
            Some((*op, k, (**b).clone()))
        }
        (_, None, Some(k)) => mirrored.map(|m| (m, k, (**a).clone())),
        _ => None,
    }
}

/// Whether `e` reads only slots below `limit` and runs no sub-pipeline.
fn independent(e: &PExpr, limit: Slot) -> bool {
    let ok = |x: &PExpr| independent(x, limit);
    match e {
        PExpr::Lit(_) | PExpr::Param(_) => true,
        PExpr::Slot(s) => *s < limit,
        PExpr::Prop(t, _) | PExpr::HasLabels(t, _) => ok(t),
        PExpr::Unary(_, a) => ok(a),
        PExpr::IsNull { expr, .. } => ok(expr),
        PExpr::Binary(_, a, b) | PExpr::Index(a, b) => ok(a) && ok(b),
        PExpr::List(items) => items.iter().all(ok),
        PExpr::Map(entries) => entries.iter().all(|(_, v)| ok(v)),
        PExpr::Call { args, .. } => args.iter().all(ok),
        PExpr::Slice(t, f, to) => {
            ok(t) && f.as_deref().is_none_or(ok) && to.as_deref().is_none_or(ok)
        }
        PExpr::Case {
            operand,
            alternatives,
            default,
        } => {
            operand.as_deref().is_none_or(ok)
                && alternatives.iter().all(|(w, t)| ok(w) && ok(t))
                && default.as_deref().is_none_or(ok)
        }
        // Locals, paths and sub-pipelines: not worth proving independent.
        PExpr::ListComp { .. }
        | PExpr::Quantifier { .. }
        | PExpr::Path { .. }
        | PExpr::Exists(_)
        | PExpr::PatternList { .. }
        | PExpr::Reduce { .. }
        | PExpr::MapProjection { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moon_graph::Value;
    use std::sync::Arc;

    fn prop(s: Slot, k: &str) -> PExpr {
        PExpr::Prop(Box::new(PExpr::Slot(s)), Arc::from(k))
    }

    fn bin(op: BinOp, a: PExpr, b: PExpr) -> PExpr {
        PExpr::Binary(op, Box::new(a), Box::new(b))
    }

    fn scan(slot: Slot) -> Op {
        Op::LabelScan {
            slot,
            label: Arc::from("L"),
        }
    }

    #[test]
    fn equality_preferred_and_mirrored_ranges() {
        let lit = |i| PExpr::Lit(Value::Int(i));
        let mut ops = vec![
            scan(3),
            Op::Filter(bin(
                BinOp::And,
                bin(BinOp::Lt, lit(5), prop(3, "a")),
                bin(BinOp::Eq, prop(3, "b"), PExpr::Slot(1)),
            )),
        ];
        choose_index_scans(&mut ops, 3);
        assert!(matches!(&ops[0], Op::IndexScan { cmp: BinOp::Eq, prop, .. } if &**prop == "b"));
        let mut ops = vec![scan(3), Op::Filter(bin(BinOp::Lt, lit(5), prop(3, "a")))];
        choose_index_scans(&mut ops, 3);
        assert!(matches!(&ops[0], Op::IndexScan { cmp: BinOp::Gt, .. }));
    }

    #[test]
    fn dependent_values_are_not_seeked() {
        // The value reads slot 4, bound by this same MATCH.
        let mut ops = vec![
            scan(3),
            Op::Filter(bin(BinOp::Eq, prop(3, "a"), prop(4, "b"))),
        ];
        choose_index_scans(&mut ops, 3);
        assert!(matches!(&ops[0], Op::LabelScan { .. }));
        // OR is not a conjunct.
        let mut ops = vec![
            scan(3),
            Op::Filter(bin(
                BinOp::Or,
                bin(BinOp::Eq, prop(3, "a"), PExpr::Lit(Value::Int(1))),
                PExpr::Lit(Value::Bool(true)),
            )),
        ];
        choose_index_scans(&mut ops, 3);
        assert!(matches!(&ops[0], Op::LabelScan { .. }));
    }
}
