//! WITH / RETURN projection rules: column names, aliases, aggregation and
//! what ORDER BY may see, SKIP / LIMIT constants.
//!
//! ORDER BY visibility: without aggregation or DISTINCT it sees the incoming
//! scope plus the new aliases; with either, only the new aliases and
//! expressions identical to projected ones.

use super::expr::{Ctx, R, SType, Scope, Ty, check_expr, contains_aggregate, stype};
use crate::ast::*;
use crate::error::{CypherError, ErrorDetail};

fn err(detail: ErrorDetail, offset: usize, msg: impl Into<String>) -> CypherError {
    CypherError::new(detail, offset, msg)
}

/// Returns the scope after the projection and its column names.
pub(super) fn project(p: &Projection, scope: &Scope, is_with: bool) -> R<(Scope, Vec<String>)> {
    let mut columns: Vec<String> = Vec::new();
    let mut new_scope = Scope::new();
    if p.star {
        if scope.is_empty() {
            return Err(err(
                ErrorDetail::NoVariablesInScope,
                0,
                "RETURN * is not allowed when there are no variables in scope",
            ));
        }
        let mut names: Vec<&String> = scope.keys().collect();
        names.sort();
        columns.extend(names.into_iter().cloned());
        new_scope = scope.clone();
    }
    let item_ctx = Ctx {
        allow_agg: true,
        ..Ctx::default()
    };
    for item in &p.items {
        check_expr(&item.expr, scope, item_ctx)?;
        if columns.contains(&item.name) {
            return Err(err(
                ErrorDetail::ColumnNameConflict,
                item.span.start,
                format!(
                    "Multiple result columns with the same name '{}' are not supported",
                    item.name
                ),
            ));
        }
        columns.push(item.name.clone());
        let ty = match &item.expr.kind {
            ExprKind::Variable(v) => scope.get(v).copied().unwrap_or(Ty::Value),
            _ => match stype(&item.expr, scope) {
                t @ (SType::Bool
                | SType::Int
                | SType::Float
                | SType::Str
                | SType::List
                | SType::Map) => Ty::Lit(t),
                _ => Ty::Value,
            },
        };
        new_scope.insert(item.name.clone(), ty);
    }
    let aggregating = p.items.iter().any(|i| contains_aggregate(&i.expr));
    order_by(p, scope, &new_scope, aggregating)?;
    for e in p.skip.iter().chain(&p.limit) {
        constant_count(e)?;
    }
    if is_with {
        for item in &p.items {
            if item.alias.is_none() && !matches!(item.expr.kind, ExprKind::Variable(_)) {
                return Err(err(
                    ErrorDetail::NoExpressionAlias,
                    item.span.start,
                    format!(
                        "Expression in WITH must be aliased (use AS): '{}'",
                        item.name
                    ),
                ));
            }
        }
    }
    Ok((new_scope, columns))
}

fn order_by(p: &Projection, old: &Scope, new: &Scope, aggregating: bool) -> R<()> {
    let restricted = aggregating || p.distinct;
    let projected: Vec<(String, bool)> = p
        .items
        .iter()
        .map(|i| {
            (
                shape(&i.expr),
                is_simple(&i.expr) || contains_aggregate(&i.expr),
            )
        })
        .collect();
    for s in &p.order_by {
        let e = &s.expr;
        if !restricted {
            let mut both = old.clone();
            both.extend(new.iter().map(|(k, v)| (k.clone(), *v)));
            check_expr(e, &both, Ctx::default())?;
            continue;
        }
        let top_agg = aggregating && contains_aggregate(e);
        restricted_sort(e, true, top_agg, &projected, new, aggregating)?;
    }
    Ok(())
}

/// A grouping key a sort expression may refer to by repeating it.
fn is_simple(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Variable(_) | ExprKind::Parameter(_) | ExprKind::Literal(_) => true,
        ExprKind::Property(b, _) => is_simple(b),
        _ => false,
    }
}

/// ORDER BY after DISTINCT or aggregation: only projected names and
/// repetitions of projected expressions are visible.
fn restricted_sort(
    e: &Expr,
    top: bool,
    top_agg: bool,
    projected: &[(String, bool)],
    new: &Scope,
    aggregating: bool,
) -> R<()> {
    let sh = shape(e);
    if let Some((_, simple)) = projected.iter().find(|(s, _)| *s == sh) {
        if top_agg && !top && !simple {
            return Err(err(
                ErrorDetail::AmbiguousAggregationExpression,
                e.span.start,
                "ORDER BY mixes an aggregate with a non-trivial grouping key expression",
            ));
        }
        return Ok(());
    }
    let is_agg = match &e.kind {
        ExprKind::CountStar => true,
        ExprKind::Function { name, .. } => crate::functions::is_aggregate(name),
        _ => false,
    };
    let local_scope = matches!(
        e.kind,
        ExprKind::ListComprehension { .. }
            | ExprKind::Quantifier { .. }
            | ExprKind::Reduce { .. }
            | ExprKind::PatternComprehension { .. }
            | ExprKind::Pattern(_)
            | ExprKind::Variable(_)
            | ExprKind::MapProjection { .. }
    );
    if is_agg || local_scope {
        return check_expr(
            e,
            new,
            Ctx {
                allow_agg: aggregating,
                ..Ctx::default()
            },
        );
    }
    if let ExprKind::Function { name, .. } = &e.kind
        && !crate::functions::is_known(name)
    {
        return check_expr(e, new, Ctx::default());
    }
    for c in crate::visit::children(e) {
        restricted_sort(c, false, top_agg, projected, new, aggregating)?;
    }
    Ok(())
}

/// Structural identity of an expression, ignoring positions.
fn shape(e: &Expr) -> String {
    let dbg = format!("{:?}", e.kind);
    // Drop every `span: Span { start: N, end: N }` from the Debug text.
    let mut out = String::with_capacity(dbg.len());
    let mut rest = dbg.as_str();
    while let Some(i) = rest.find("span: Span {") {
        out.push_str(rest.get(..i).unwrap_or(""));
        rest = rest.get(i..).unwrap_or("");
        match rest.find('}') {
            Some(j) => rest = rest.get(j + 1..).unwrap_or(""),
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// SKIP / LIMIT: a constant, non-negative integer expression.
fn constant_count(e: &Expr) -> R<()> {
    let has_var = crate::visit::any(e, &mut |x| {
        matches!(
            x.kind,
            ExprKind::Variable(_) | ExprKind::Pattern(_) | ExprKind::CountStar
        )
    });
    if has_var {
        return Err(err(
            ErrorDetail::NonConstantExpression,
            e.span.start,
            "SKIP / LIMIT must be a constant expression (no variables)",
        ));
    }
    match stype(e, &Scope::new()) {
        SType::Float | SType::Str | SType::Bool | SType::List | SType::Map => {
            return Err(err(
                ErrorDetail::InvalidArgumentType,
                e.span.start,
                "SKIP / LIMIT must be a non-negative integer",
            ));
        }
        _ => {}
    }
    if let ExprKind::Literal(Literal::Integer(i)) = e.kind
        && i < 0
    {
        return Err(err(
            ErrorDetail::NegativeIntegerArgument,
            e.span.start,
            format!("SKIP / LIMIT must be a non-negative integer, got {i}"),
        ));
    }
    Ok(())
}
