//! Expression rules: variables defined, aggregation placement, pattern
//! expressions only where allowed, and the static type errors the TCK
//! expects at compile time (non-boolean literals under AND/OR/XOR/NOT,
//! non-list right side of IN, property access on a path, `type(node)`).

use std::collections::HashMap;

use crate::ast::*;
use crate::error::{CypherError, ErrorDetail};
use crate::functions;
use crate::visit;

pub(crate) type R<T> = Result<T, CypherError>;

/// What a variable is bound to, as far as the checker can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Node,
    Rel,
    /// A variable-length relationship variable (a list of relationships).
    RelList,
    Path,
    /// A value of a statically known non-graph type (from a literal).
    Lit(SType),
    Value,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Node => "Node",
            Ty::Rel => "Relationship",
            Ty::RelList => "List<Relationship>",
            Ty::Path => "Path",
            Ty::Lit(_) => "a non-graph value",
            Ty::Value => "Any",
        }
    }
}

pub type Scope = HashMap<String, Ty>;

/// Where an expression sits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx {
    pub allow_agg: bool,
    pub allow_pattern: bool,
    pub in_agg: bool,
}

/// A static type, only as precise as literals and bound variables allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SType {
    Bool,
    Int,
    Float,
    Str,
    List,
    Map,
    Node,
    Rel,
    Path,
    Null,
    Any,
}

pub fn stype(e: &Expr, scope: &Scope) -> SType {
    match &e.kind {
        ExprKind::Literal(Literal::Null) => SType::Null,
        ExprKind::Literal(Literal::Bool(_)) => SType::Bool,
        ExprKind::Literal(Literal::Integer(_)) => SType::Int,
        ExprKind::Literal(Literal::Float(_)) => SType::Float,
        ExprKind::Literal(Literal::String(_)) => SType::Str,
        ExprKind::List(_)
        | ExprKind::ListComprehension { .. }
        | ExprKind::PatternComprehension { .. } => SType::List,
        ExprKind::Map(_) | ExprKind::MapProjection { .. } => SType::Map,
        ExprKind::Variable(v) => match scope.get(v) {
            Some(Ty::Node) => SType::Node,
            Some(Ty::Rel) => SType::Rel,
            Some(Ty::RelList) => SType::List,
            Some(Ty::Path) => SType::Path,
            Some(Ty::Lit(t)) => *t,
            _ => SType::Any,
        },
        ExprKind::Binary(op, l, r) => match op {
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::Pow => match (stype(l, scope), stype(r, scope)) {
                (SType::Int, SType::Int) => SType::Int,
                (SType::Int | SType::Float, SType::Int | SType::Float) => SType::Float,
                (SType::Str, SType::Str) if *op == BinaryOp::Add => SType::Str,
                _ => SType::Any,
            },
            _ => SType::Bool,
        },
        ExprKind::Unary(UnaryOp::Not, _)
        | ExprKind::IsNull(..)
        | ExprKind::HasLabels(..)
        | ExprKind::Quantifier { .. } => SType::Bool,
        _ => SType::Any,
    }
}

fn err(detail: ErrorDetail, offset: usize, msg: String) -> CypherError {
    CypherError::new(detail, offset, msg)
}

/// A predicate position (WHERE, AND/OR/XOR/NOT operand) must not be a
/// value that can never be boolean.
pub fn check_boolean(e: &Expr, scope: &Scope) -> R<()> {
    let t = stype(e, scope);
    if matches!(
        t,
        SType::Int
            | SType::Float
            | SType::Str
            | SType::List
            | SType::Map
            | SType::Node
            | SType::Rel
            | SType::Path
    ) {
        return Err(err(
            ErrorDetail::InvalidArgumentType,
            e.span.start,
            format!("Type mismatch: expected Boolean or Null but was {t:?}"),
        ));
    }
    Ok(())
}

pub fn contains_aggregate(e: &Expr) -> bool {
    visit::any(e, &mut |x| match &x.kind {
        ExprKind::CountStar => true,
        ExprKind::Function { name, .. } => functions::is_aggregate(name),
        _ => false,
    })
}

pub fn check_expr(e: &Expr, scope: &Scope, ctx: Ctx) -> R<()> {
    match &e.kind {
        ExprKind::Variable(v) if !scope.contains_key(v) => {
            return Err(err(
                ErrorDetail::UndefinedVariable,
                e.span.start,
                format!("'{v}' not defined"),
            ));
        }
        ExprKind::CountStar => return aggregate_ok(e, "count", ctx).map(|_| ()),
        ExprKind::Function { name, args, .. } => return function(e, name, args, scope, ctx),
        ExprKind::Binary(op, l, r) => {
            if matches!(op, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor) {
                check_boolean(l, scope)?;
                check_boolean(r, scope)?;
            }
            if *op == BinaryOp::In
                && matches!(
                    stype(r, scope),
                    SType::Bool
                        | SType::Int
                        | SType::Float
                        | SType::Str
                        | SType::Map
                        | SType::Node
                        | SType::Rel
                        | SType::Path
                )
            {
                return Err(err(
                    ErrorDetail::InvalidArgumentType,
                    r.span.start,
                    "Type mismatch: expected List or Null for IN".into(),
                ));
            }
        }
        ExprKind::Unary(UnaryOp::Not, inner) => check_boolean(inner, scope)?,
        ExprKind::Property(base, key) => {
            if matches!(
                stype(base, scope),
                SType::Path | SType::Int | SType::Float | SType::Str | SType::Bool | SType::List
            ) {
                return Err(err(
                    ErrorDetail::InvalidArgumentType,
                    base.span.start,
                    format!(
                        "Type mismatch: cannot access property '{}' of a {:?}",
                        key.name,
                        stype(base, scope)
                    ),
                ));
            }
        }
        ExprKind::Pattern(p) => {
            if !ctx.allow_pattern {
                return Err(err(
                    ErrorDetail::UnexpectedSyntax,
                    e.span.start,
                    "Pattern expressions are only allowed as predicates (WHERE, exists())".into(),
                ));
            }
            return pattern_predicate(p, scope, ctx);
        }
        ExprKind::ShortestPath { pattern, .. } => return pattern_predicate(pattern, scope, ctx),
        ExprKind::PatternComprehension {
            path_variable,
            pattern,
            predicate,
            projection,
        } => {
            // The pattern may introduce variables; they are local to it.
            let mut local = scope.clone();
            bind_local_pattern(pattern, &mut local)?;
            if let Some(p) = path_variable {
                local.insert(p.name.clone(), Ty::Path);
            }
            let mut props = Vec::new();
            visit::pattern_exprs(pattern, &mut props);
            for x in props {
                check_expr(x, &local, ctx)?;
            }
            if let Some(p) = predicate {
                check_boolean(p, &local)?;
                check_expr(
                    p,
                    &local,
                    Ctx {
                        allow_pattern: true,
                        ..ctx
                    },
                )?;
            }
            return check_expr(projection, &local, ctx);
        }
        ExprKind::ListComprehension {
            variable,
            list,
            predicate,
            projection,
        } => {
            check_expr(list, scope, ctx)?;
            return local_body(
                scope,
                &[variable],
                predicate.as_deref(),
                projection.as_deref(),
                ctx,
            );
        }
        ExprKind::Quantifier {
            variable,
            list,
            predicate,
            ..
        } => {
            check_expr(list, scope, ctx)?;
            return local_body(scope, &[variable], predicate.as_deref(), None, ctx);
        }
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => {
            check_expr(init, scope, ctx)?;
            check_expr(list, scope, ctx)?;
            return local_body(scope, &[accumulator, variable], None, Some(expr), ctx);
        }
        ExprKind::MapProjection { variable, items } => {
            if !scope.contains_key(&variable.name) {
                return Err(err(
                    ErrorDetail::UndefinedVariable,
                    variable.span.start,
                    format!("'{}' not defined", variable.name),
                ));
            }
            for it in items {
                if let MapProjectionItem::Variable(v) = it
                    && !scope.contains_key(&v.name)
                {
                    return Err(err(
                        ErrorDetail::UndefinedVariable,
                        v.span.start,
                        format!("'{}' not defined", v.name),
                    ));
                }
            }
        }
        _ => {}
    }
    for c in visit::children(e) {
        check_expr(c, scope, ctx)?;
    }
    Ok(())
}

fn local_body(
    scope: &Scope,
    vars: &[&Ident],
    predicate: Option<&Expr>,
    body: Option<&Expr>,
    ctx: Ctx,
) -> R<()> {
    let mut local = scope.clone();
    for v in vars {
        local.insert(v.name.clone(), Ty::Value);
    }
    if let Some(p) = predicate {
        check_boolean(p, &local)?;
        check_expr(
            p,
            &local,
            Ctx {
                allow_pattern: true,
                ..ctx
            },
        )?;
    }
    if let Some(b) = body {
        check_expr(b, &local, ctx)?;
    }
    Ok(())
}

fn aggregate_ok(e: &Expr, name: &str, ctx: Ctx) -> R<Ctx> {
    if ctx.in_agg {
        return Err(err(
            ErrorDetail::NestedAggregation,
            e.span.start,
            format!("Can't use aggregate functions inside of aggregate functions ('{name}')"),
        ));
    }
    if !ctx.allow_agg {
        return Err(err(
            ErrorDetail::InvalidAggregation,
            e.span.start,
            format!("Invalid use of aggregating function '{name}'"),
        ));
    }
    Ok(Ctx {
        in_agg: true,
        ..ctx
    })
}

fn function(e: &Expr, name: &str, args: &[Expr], scope: &Scope, ctx: Ctx) -> R<()> {
    let mut inner = ctx;
    if functions::is_aggregate(name) {
        inner = aggregate_ok(e, name, ctx)?;
    } else if !functions::is_known(name) {
        return Err(err(
            ErrorDetail::UnknownFunction,
            e.span.start,
            format!("Unknown function '{name}'"),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower == "type"
        && let Some(a) = args.first()
        && matches!(
            stype(a, scope),
            SType::Node
                | SType::Path
                | SType::Int
                | SType::Float
                | SType::Str
                | SType::Bool
                | SType::List
                | SType::Map
        )
    {
        return Err(err(
            ErrorDetail::InvalidArgumentType,
            a.span.start,
            "Type mismatch: type() expects a Relationship".into(),
        ));
    }
    if lower == "exists" {
        inner.allow_pattern = true;
    }
    for a in args {
        check_expr(a, scope, inner)?;
    }
    Ok(())
}

/// Variables of a pattern used as an expression must already be bound, with
/// a compatible type; it introduces nothing.
fn pattern_predicate(p: &PatternElement, scope: &Scope, ctx: Ctx) -> R<()> {
    let mut nodes = vec![&p.start];
    nodes.extend(p.chain.iter().map(|(_, n)| n));
    for n in nodes {
        if let Some(v) = &n.variable {
            expect_bound(v, Ty::Node, scope)?;
        }
    }
    for (r, _) in &p.chain {
        if let Some(v) = &r.variable {
            expect_bound(
                v,
                if r.length.is_some() {
                    Ty::RelList
                } else {
                    Ty::Rel
                },
                scope,
            )?;
        }
    }
    let mut props = Vec::new();
    visit::pattern_exprs(p, &mut props);
    for x in props {
        check_expr(
            x,
            scope,
            Ctx {
                allow_pattern: false,
                ..ctx
            },
        )?;
    }
    Ok(())
}

fn expect_bound(v: &Ident, want: Ty, scope: &Scope) -> R<()> {
    match scope.get(&v.name) {
        None => Err(err(
            ErrorDetail::UndefinedVariable,
            v.span.start,
            format!("'{}' not defined", v.name),
        )),
        Some(t) if *t == want || *t == Ty::Value => Ok(()),
        Some(t) => Err(type_conflict(v, *t, want)),
    }
}

pub fn type_conflict(v: &Ident, had: Ty, want: Ty) -> CypherError {
    err(
        ErrorDetail::VariableTypeConflict,
        v.span.start,
        format!(
            "Type mismatch: '{}' defined with conflicting type {} (expected {})",
            v.name,
            had.name(),
            want.name()
        ),
    )
}

/// Pattern comprehensions may introduce new variables (local to them).
fn bind_local_pattern(p: &PatternElement, local: &mut Scope) -> R<()> {
    let mut nodes = vec![&p.start];
    nodes.extend(p.chain.iter().map(|(_, n)| n));
    for n in nodes {
        if let Some(v) = &n.variable {
            match local.get(&v.name) {
                None => {
                    local.insert(v.name.clone(), Ty::Node);
                }
                Some(Ty::Node | Ty::Value) => {}
                Some(t) => return Err(type_conflict(v, *t, Ty::Node)),
            }
        }
    }
    for (r, _) in &p.chain {
        if let Some(v) = &r.variable {
            let want = if r.length.is_some() {
                Ty::RelList
            } else {
                Ty::Rel
            };
            match local.get(&v.name) {
                None => {
                    local.insert(v.name.clone(), want);
                }
                Some(t) if *t == want || *t == Ty::Value => {}
                Some(t) => return Err(type_conflict(v, *t, want)),
            }
        }
    }
    Ok(())
}
