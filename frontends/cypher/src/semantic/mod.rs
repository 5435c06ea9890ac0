//! Compile-time semantic checks over a parsed [`Query`].
//!
//! Scoping model: a scope maps variable → [`Ty`]. MATCH / OPTIONAL MATCH /
//! CREATE / MERGE / UNWIND / CALL YIELD / FOREACH add variables; WITH and
//! RETURN replace the scope with their projection (plus everything for `*`);
//! comprehension, quantifier and reduce variables are local to their
//! expression; FOREACH's variable is local to its body. Each UNION branch is
//! checked on its own; their column lists must be equal.

mod expr;
mod projection;

use std::collections::HashSet;

use crate::ast::*;
use crate::error::{CypherError, ErrorDetail};
pub use expr::Ty;
use expr::{Ctx, R, SType, Scope, check_boolean, check_expr, stype, type_conflict};

/// Run every compile-time rule; the first violation is returned.
pub fn check(q: &Query) -> Result<(), CypherError> {
    use crate::limits::{FRESH_STACK_BYTES, STACK_RED_ZONE_BYTES};
    stacker::maybe_grow(STACK_RED_ZONE_BYTES, FRESH_STACK_BYTES, || {
        match &q.statement {
            Statement::Schema(_) => Ok(()),
            Statement::Query(rq) => regular(rq),
        }
    })
}

fn err(detail: ErrorDetail, offset: usize, msg: impl Into<String>) -> CypherError {
    CypherError::new(detail, offset, msg)
}

fn regular(rq: &RegularQuery) -> R<()> {
    let columns = single(&rq.first)?;
    let mut all: Option<bool> = None;
    for u in &rq.unions {
        if all.is_some_and(|a| a != u.all) {
            return Err(err(
                ErrorDetail::InvalidClauseComposition,
                u.span.start,
                "Invalid combination of UNION and UNION ALL",
            ));
        }
        all = Some(u.all);
        let other = single(&u.query)?;
        if other != columns {
            return Err(err(
                ErrorDetail::DifferentColumnsInUnion,
                u.span.start,
                "All sub queries in a UNION must have the same column names",
            ));
        }
    }
    Ok(())
}

/// Checks one single query; returns its result column names.
fn single(sq: &SingleQuery) -> R<Vec<String>> {
    let mut scope = Scope::new();
    let mut columns = Vec::new();
    let n = sq.clauses.len();
    let mut after_update = false;
    for (i, c) in sq.clauses.iter().enumerate() {
        if matches!(c, Clause::Return(_)) && i + 1 != n {
            return Err(err(
                ErrorDetail::InvalidClauseComposition,
                c.span().start,
                "RETURN can only be used at the end of the query",
            ));
        }
        if after_update && matches!(c, Clause::Match(_)) {
            return Err(err(
                ErrorDetail::InvalidClauseComposition,
                c.span().start,
                "A WITH clause is required to introduce MATCH after an updating clause",
            ));
        }
        after_update = (after_update || c.is_update()) && !matches!(c, Clause::With(_));
        if let Some(cols) = clause(c, &mut scope)? {
            columns = cols;
        }
    }
    if let Some(last) = sq.clauses.last()
        && !(matches!(last, Clause::Return(_) | Clause::Call(_)) || last.is_update())
    {
        return Err(err(
            ErrorDetail::InvalidClauseComposition,
            last.span().start,
            format!(
                "Query cannot conclude with {} (must be a RETURN clause, an update clause, a procedure call or a non-returning subquery)",
                clause_name(last)
            ),
        ));
    }
    Ok(columns)
}

fn clause_name(c: &Clause) -> &'static str {
    match c {
        Clause::Match(m) if m.optional => "OPTIONAL MATCH",
        Clause::Match(_) => "MATCH",
        Clause::Unwind(_) => "UNWIND",
        Clause::Create(_) => "CREATE",
        Clause::Merge(_) => "MERGE",
        Clause::Set(_) => "SET",
        Clause::Remove(_) => "REMOVE",
        Clause::Delete(_) => "DELETE",
        Clause::Foreach(_) => "FOREACH",
        Clause::With(_) => "WITH",
        Clause::Return(_) => "RETURN",
        Clause::Call(_) => "CALL",
    }
}

/// Checks one clause against `scope` and updates it; RETURN yields columns.
fn clause(c: &Clause, scope: &mut Scope) -> R<Option<Vec<String>>> {
    let plain = Ctx::default();
    match c {
        Clause::Match(m) => {
            bind_pattern(&m.pattern.parts, scope, Mode::Match)?;
            if let Some(w) = &m.where_ {
                where_(w, scope)?;
            }
        }
        Clause::Create(cr) => bind_pattern(&cr.pattern.parts, scope, Mode::Create)?,
        Clause::Merge(mg) => {
            bind_pattern(std::slice::from_ref(&mg.part), scope, Mode::Merge)?;
            for item in mg.on_create.iter().chain(&mg.on_match) {
                set_item(item, scope)?;
            }
        }
        Clause::Unwind(u) => {
            check_expr(&u.expr, scope, plain)?;
            bind_new(&u.variable, Ty::Value, scope)?;
        }
        Clause::Set(s) => {
            for item in &s.items {
                set_item(item, scope)?;
            }
        }
        Clause::Remove(r) => {
            for item in &r.items {
                match item {
                    RemoveItem::Property { target, .. } => check_expr(target, scope, plain)?,
                    RemoveItem::Labels { variable, .. } => defined(variable, scope)?,
                }
            }
        }
        Clause::Delete(d) => {
            for e in &d.exprs {
                if matches!(e.kind, ExprKind::HasLabels(..)) {
                    return Err(err(
                        ErrorDetail::InvalidDelete,
                        e.span.start,
                        "DELETE expects a node, relationship or path, not a label predicate",
                    ));
                }
                check_expr(e, scope, plain)?;
                let t = stype(e, scope);
                if matches!(
                    t,
                    SType::Bool | SType::Int | SType::Float | SType::Str | SType::Map
                ) {
                    return Err(err(
                        ErrorDetail::InvalidArgumentType,
                        e.span.start,
                        format!("Type mismatch: DELETE expects a graph entity but was {t:?}"),
                    ));
                }
            }
        }
        Clause::Foreach(f) => {
            check_expr(&f.list, scope, plain)?;
            let mut inner = scope.clone();
            inner.insert(f.variable.name.clone(), Ty::Value);
            for c in &f.clauses {
                if !c.is_update() {
                    return Err(err(
                        ErrorDetail::InvalidClauseComposition,
                        c.span().start,
                        "FOREACH may only contain updating clauses",
                    ));
                }
                clause(c, &mut inner)?;
            }
        }
        Clause::With(w) => {
            let (new_scope, _) = projection::project(&w.projection, scope, true)?;
            if let Some(wh) = &w.where_ {
                // WITH ... WHERE sees the projected names and the incoming scope.
                let mut both = scope.clone();
                both.extend(new_scope.iter().map(|(k, v)| (k.clone(), *v)));
                where_(wh, &both)?;
            }
            *scope = new_scope;
        }
        Clause::Return(r) => {
            let (new_scope, cols) = projection::project(&r.projection, scope, false)?;
            *scope = new_scope;
            return Ok(Some(cols));
        }
        Clause::Call(call) => {
            for a in call.args.iter().flatten() {
                check_expr(a, scope, plain)?;
            }
            for y in call.yields.iter().flatten() {
                bind_new(y.bound(), Ty::Value, scope)?;
            }
            if let Some(w) = &call.where_ {
                where_(w, scope)?;
            }
        }
    }
    Ok(None)
}

fn where_(w: &Expr, scope: &Scope) -> R<()> {
    check_boolean(w, scope)?;
    check_expr(
        w,
        scope,
        Ctx {
            allow_pattern: true,
            ..Ctx::default()
        },
    )
}

fn defined(v: &Ident, scope: &Scope) -> R<()> {
    if scope.contains_key(&v.name) {
        Ok(())
    } else {
        Err(err(
            ErrorDetail::UndefinedVariable,
            v.span.start,
            format!("'{}' not defined", v.name),
        ))
    }
}

fn bind_new(v: &Ident, ty: Ty, scope: &mut Scope) -> R<()> {
    if scope.contains_key(&v.name) {
        return Err(err(
            ErrorDetail::VariableAlreadyBound,
            v.span.start,
            format!("Variable '{}' already declared", v.name),
        ));
    }
    scope.insert(v.name.clone(), ty);
    Ok(())
}

fn set_item(item: &SetItem, scope: &Scope) -> R<()> {
    let plain = Ctx::default();
    match item {
        SetItem::Property { target, value, .. } => {
            check_expr(target, scope, plain)?;
            check_expr(value, scope, plain)
        }
        SetItem::Replace {
            variable, value, ..
        }
        | SetItem::Merge {
            variable, value, ..
        } => {
            defined(variable, scope)?;
            check_expr(value, scope, plain)
        }
        SetItem::Labels { variable, .. } => defined(variable, scope),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Match,
    Create,
    Merge,
}

/// Bind the variables of pattern parts, enforcing per-clause rules, then
/// check property expressions with the extended scope.
fn bind_pattern(parts: &[PatternPart], scope: &mut Scope, mode: Mode) -> R<()> {
    let mut here: HashSet<String> = HashSet::new();
    for part in parts {
        let el = &part.element;
        let single_node = el.chain.is_empty();
        let mut nodes = vec![&el.start];
        nodes.extend(el.chain.iter().map(|(_, n)| n));
        for n in &nodes {
            if mode != Mode::Match
                && matches!(
                    &n.properties,
                    Some(Expr {
                        kind: ExprKind::Parameter(_),
                        ..
                    })
                )
                && mode == Mode::Merge
            {
                return Err(param_use(n.span.start));
            }
            if mode == Mode::Match
                && matches!(
                    &n.properties,
                    Some(Expr {
                        kind: ExprKind::Parameter(_),
                        ..
                    })
                )
            {
                return Err(param_use(n.span.start));
            }
            let Some(v) = &n.variable else { continue };
            match scope.get(&v.name) {
                None => {
                    scope.insert(v.name.clone(), Ty::Node);
                    here.insert(v.name.clone());
                }
                Some(Ty::Node | Ty::Value) => {
                    let redeclares = !n.labels.is_empty() || n.properties.is_some() || single_node;
                    if mode != Mode::Match && redeclares {
                        return Err(err(
                            ErrorDetail::VariableAlreadyBound,
                            v.span.start,
                            format!("Variable '{}' already declared", v.name),
                        ));
                    }
                }
                Some(t) => return Err(type_conflict(v, *t, Ty::Node)),
            }
        }
        for (r, _) in &el.chain {
            rel(r, scope, &mut here, mode)?;
        }
        if let Some(p) = &part.variable {
            match scope.get(&p.name) {
                None => {
                    scope.insert(p.name.clone(), Ty::Path);
                }
                Some(Ty::Path) => {
                    return Err(err(
                        ErrorDetail::VariableAlreadyBound,
                        p.span.start,
                        format!("Variable '{}' already declared", p.name),
                    ));
                }
                Some(t) => return Err(type_conflict(p, *t, Ty::Path)),
            }
        }
    }
    for part in parts {
        let mut exprs = Vec::new();
        crate::visit::pattern_exprs(&part.element, &mut exprs);
        for e in exprs {
            check_expr(e, scope, Ctx::default())?;
        }
    }
    Ok(())
}

fn param_use(offset: usize) -> CypherError {
    err(
        ErrorDetail::InvalidParameterUse,
        offset,
        "Parameter maps cannot be used in MATCH or MERGE patterns",
    )
}

fn rel(r: &RelPattern, scope: &mut Scope, here: &mut HashSet<String>, mode: Mode) -> R<()> {
    rel_variable(r, scope, here, mode)?;
    if mode != Mode::Match {
        if r.types.len() != 1 {
            return Err(err(
                ErrorDetail::NoSingleRelationshipType,
                r.span.start,
                "Exactly one relationship type must be specified for CREATE/MERGE",
            ));
        }
        if r.length.is_some() {
            return Err(err(
                ErrorDetail::CreatingVarLength,
                r.span.start,
                "Variable length relationships cannot be created",
            ));
        }
        if mode == Mode::Create && r.direction == Direction::Both {
            return Err(err(
                ErrorDetail::RequiresDirectedRelationship,
                r.span.start,
                "Only directed relationships are supported in CREATE",
            ));
        }
    }
    if matches!(
        &r.properties,
        Some(Expr {
            kind: ExprKind::Parameter(_),
            ..
        })
    ) && mode != Mode::Create
    {
        return Err(param_use(r.span.start));
    }
    Ok(())
}

fn rel_variable(
    r: &RelPattern,
    scope: &mut Scope,
    here: &mut HashSet<String>,
    mode: Mode,
) -> R<()> {
    let Some(v) = &r.variable else { return Ok(()) };
    let want = if r.length.is_some() {
        Ty::RelList
    } else {
        Ty::Rel
    };
    match scope.get(&v.name) {
        None => {
            scope.insert(v.name.clone(), want);
            here.insert(v.name.clone());
            Ok(())
        }
        Some(t)
            if *t == want
                || *t == Ty::Value
                || (want == Ty::RelList && *t == Ty::Lit(SType::List)) =>
        {
            if mode != Mode::Match || here.contains(&v.name) {
                Err(err(
                    ErrorDetail::VariableAlreadyBound,
                    v.span.start,
                    format!("Variable '{}' already declared", v.name),
                ))
            } else {
                Ok(())
            }
        }
        Some(t) => Err(type_conflict(v, *t, want)),
    }
}

#[cfg(test)]
mod tests;
