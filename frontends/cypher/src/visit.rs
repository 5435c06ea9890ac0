//! Generic traversal helpers over expressions (used by the checker and
//! available to a lowering pass).

use crate::ast::{Expr, ExprKind, MapProjectionItem, PatternElement};

/// Direct sub-expressions of `e`, including property maps inside pattern
/// expressions and comprehensions, in source order.
pub fn children(e: &Expr) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar => {}
        ExprKind::List(items) => out.extend(items.iter()),
        ExprKind::Map(entries) => out.extend(entries.iter().map(|(_, v)| v)),
        ExprKind::Property(b, _)
        | ExprKind::HasLabels(b, _)
        | ExprKind::Unary(_, b)
        | ExprKind::IsNull(b, _) => out.push(b),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            out.push(a);
            out.push(b);
        }
        ExprKind::Slice(a, b, c) => {
            out.push(a);
            out.extend(b.as_deref());
            out.extend(c.as_deref());
        }
        ExprKind::Function { args, .. } => out.extend(args.iter()),
        ExprKind::Case {
            operand,
            alternatives,
            default,
        } => {
            out.extend(operand.as_deref());
            for (w, t) in alternatives {
                out.push(w);
                out.push(t);
            }
            out.extend(default.as_deref());
        }
        ExprKind::ListComprehension {
            list,
            predicate,
            projection,
            ..
        } => {
            out.push(list);
            out.extend(predicate.as_deref());
            out.extend(projection.as_deref());
        }
        ExprKind::PatternComprehension {
            pattern,
            predicate,
            projection,
            ..
        } => {
            pattern_exprs(pattern, &mut out);
            out.extend(predicate.as_deref());
            out.push(projection);
        }
        ExprKind::Quantifier {
            list, predicate, ..
        } => {
            out.push(list);
            out.extend(predicate.as_deref());
        }
        ExprKind::Reduce {
            init, list, expr, ..
        } => {
            out.push(init);
            out.push(list);
            out.push(expr);
        }
        ExprKind::MapProjection { items, .. } => {
            for it in items {
                if let MapProjectionItem::Entry(_, v) = it {
                    out.push(v);
                }
            }
        }
        ExprKind::Pattern(p) | ExprKind::ShortestPath { pattern: p, .. } => {
            pattern_exprs(p, &mut out)
        }
    }
    out
}

/// Property-map expressions of a pattern element.
pub fn pattern_exprs<'a>(p: &'a PatternElement, out: &mut Vec<&'a Expr>) {
    out.extend(p.start.properties.as_ref());
    for (r, n) in &p.chain {
        out.extend(r.properties.as_ref());
        out.extend(n.properties.as_ref());
    }
}

/// True if `pred` holds for `e` or any sub-expression (iterative walk).
pub fn any(e: &Expr, pred: &mut dyn FnMut(&Expr) -> bool) -> bool {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        if pred(x) {
            return true;
        }
        stack.extend(children(x));
    }
    false
}
