//! Constructs whose shape the grammar shares on purpose (see `cypher.pest`):
//! `[...]` (list, list comprehension, pattern comprehension), `f(...)`
//! (call, quantifier, `reduce`, `shortestPath`), `(...)` (parenthesised
//! expression or pattern predicate), and map projections. Each is parsed once
//! and classified here, which keeps the parser linear in nesting depth.

use crate::ast::*;
use crate::build_expr::{P, R, expr, ident, labels, map_entry, span_of};
use crate::build_pattern::{node_from_expr, pattern_chain};
use crate::error::{CypherError, ErrorDetail};
use crate::literals::unescape_name;
use crate::parser::Rule;

/// Comprehension parts shared by `[...]` and `f(...)`.
struct Tail {
    items: Vec<Expr>,
    where_: Option<Box<Expr>>,
    pipe: Option<Box<Expr>>,
    distinct: bool,
    name: Option<String>,
    /// The first item's text starts with `(` (so it cannot be `x IN list`'s bare variable).
    first_parenthesised: bool,
}

fn collect_tail(p: P, depth: usize) -> R<Tail> {
    let mut t = Tail {
        items: Vec::new(),
        where_: None,
        pipe: None,
        distinct: false,
        name: None,
        first_parenthesised: false,
    };
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::function_name => {
                let parts: Vec<String> =
                    c.into_inner().map(|s| unescape_name(s.as_str())).collect();
                t.name = Some(parts.join("."));
            }
            Rule::kw_distinct => t.distinct = true,
            Rule::comp_where => {
                if let Some(e) = c.into_inner().find(|x| x.as_rule() == Rule::expression) {
                    t.where_ = Some(Box::new(expr(e, depth)?));
                }
            }
            Rule::comp_pipe => {
                if let Some(e) = c.into_inner().next() {
                    t.pipe = Some(Box::new(expr(e, depth)?));
                }
            }
            _ => {
                t.first_parenthesised = t.items.is_empty() && c.as_str().starts_with('(');
                t.items.push(expr(c, depth)?);
            }
        }
    }
    Ok(t)
}

/// `x IN list` → (x, list).
fn split_in(e: Expr) -> Result<(Ident, Box<Expr>), Expr> {
    match e.kind {
        ExprKind::Binary(BinaryOp::In, l, r) => match l.kind {
            ExprKind::Variable(name) => Ok((Ident { name, span: l.span }, r)),
            other => Err(Expr::new(
                ExprKind::Binary(BinaryOp::In, Box::new(Expr::new(other, l.span)), r),
                e.span,
            )),
        },
        kind => Err(Expr::new(kind, e.span)),
    }
}

pub(crate) fn list_like(p: P, depth: usize) -> R<Expr> {
    let span = span_of(&p);
    let mut t = collect_tail(p, depth + 2)?;
    let comprehension_syntax = t.where_.is_some() || t.pipe.is_some();
    if t.items.len() == 1 {
        let item = t.items.pop().ok_or_else(|| {
            CypherError::new(ErrorDetail::UnexpectedSyntax, span.start, "empty list")
        })?;
        // `[(x) IN l]` is a one-element list: a comprehension's variable is written bare.
        let split = if t.first_parenthesised {
            Err(item)
        } else {
            split_in(item)
        };
        let item = match split {
            Ok((variable, list)) => {
                let kind = ExprKind::ListComprehension {
                    variable,
                    list,
                    predicate: t.where_,
                    projection: t.pipe,
                };
                return Ok(Expr::new(kind, span));
            }
            Err(item) => item,
        };
        if comprehension_syntax {
            return pattern_comprehension(item, t.where_, t.pipe, span);
        }
        t.items.push(item);
    } else if comprehension_syntax {
        return Err(CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            format!("Invalid list comprehension at offset {}", span.start),
        ));
    }
    Ok(Expr::new(ExprKind::List(t.items), span))
}

fn pattern_comprehension(
    item: Expr,
    predicate: Option<Box<Expr>>,
    pipe: Option<Box<Expr>>,
    span: Span,
) -> R<Expr> {
    let bad = || {
        CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            format!(
                "Invalid list or pattern comprehension at offset {}",
                span.start
            ),
        )
    };
    let projection = pipe.ok_or_else(bad)?;
    let (path_variable, pattern) = match item.kind {
        ExprKind::Pattern(el) => (None, el),
        ExprKind::Binary(BinaryOp::Eq, l, r) => match (l.kind, r.kind) {
            (ExprKind::Variable(name), ExprKind::Pattern(el)) => {
                (Some(Ident { name, span: l.span }), el)
            }
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    Ok(Expr::new(
        ExprKind::PatternComprehension {
            path_variable,
            pattern,
            predicate,
            projection,
        },
        span,
    ))
}

pub(crate) fn function_call(p: P, depth: usize) -> R<Expr> {
    let span = span_of(&p);
    let mut t = collect_tail(p, depth + 2)?;
    let name = t.name.take().unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let bad = |what: &str| {
        CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            format!("Invalid use of {what} at offset {}", span.start),
        )
    };
    let quantifier = match lower.as_str() {
        "all" => Some(QuantifierKind::All),
        "any" => Some(QuantifierKind::Any),
        "none" => Some(QuantifierKind::None),
        "single" => Some(QuantifierKind::Single),
        _ => None,
    };
    if let Some(kind) = quantifier {
        if t.items.len() == 1 && t.pipe.is_none() {
            let item = t.items.pop().ok_or_else(|| bad(&name))?;
            let (variable, list) = split_in(item).map_err(|_| bad(&name))?;
            return Ok(Expr::new(
                ExprKind::Quantifier {
                    kind,
                    variable,
                    list,
                    predicate: t.where_,
                },
                span,
            ));
        }
        return Err(bad(&name));
    }
    match lower.as_str() {
        "reduce" => return reduce(t, span, &name),
        "filter" | "extract" if t.items.len() == 1 => {
            let item = t.items.pop().ok_or_else(|| bad(&name))?;
            let (variable, list) = split_in(item).map_err(|_| bad(&name))?;
            let kind = ExprKind::ListComprehension {
                variable,
                list,
                predicate: t.where_,
                projection: t.pipe,
            };
            return Ok(Expr::new(kind, span));
        }
        "shortestpath" | "allshortestpaths" if t.items.len() == 1 => {
            if let Some(Expr {
                kind: ExprKind::Pattern(pattern),
                ..
            }) = t.items.pop()
            {
                let all = lower == "allshortestpaths";
                return Ok(Expr::new(ExprKind::ShortestPath { all, pattern }, span));
            }
            return Err(bad(&name));
        }
        _ => {}
    }
    if t.where_.is_some() || t.pipe.is_some() {
        return Err(bad(&name));
    }
    Ok(Expr::new(
        ExprKind::Function {
            name,
            distinct: t.distinct,
            args: t.items,
        },
        span,
    ))
}

fn reduce(mut t: Tail, span: Span, name: &str) -> R<Expr> {
    let bad = || {
        CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            format!("Invalid use of {name} at offset {}", span.start),
        )
    };
    if t.items.len() != 2 || t.where_.is_some() {
        return Err(bad());
    }
    let body = t.pipe.take().ok_or_else(bad)?;
    let iter = t.items.pop().ok_or_else(bad)?;
    let acc = t.items.pop().ok_or_else(bad)?;
    let (variable, list) = split_in(iter).map_err(|_| bad())?;
    let (accumulator, init) = match acc.kind {
        ExprKind::Binary(BinaryOp::Eq, l, r) => match l.kind {
            ExprKind::Variable(n) => (
                Ident {
                    name: n,
                    span: l.span,
                },
                r,
            ),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    Ok(Expr::new(
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr: body,
        },
        span,
    ))
}

pub(crate) fn map_projection(p: P, depth: usize) -> R<ExprKind> {
    let mut inner = p.into_inner();
    let variable = inner
        .next()
        .map(|v| ident(&v))
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "bad map projection"))?;
    let mut items = Vec::new();
    for entry in inner {
        let Some(e) = entry.into_inner().next() else {
            continue;
        };
        items.push(match e.as_rule() {
            Rule::all_properties => MapProjectionItem::AllProperties,
            Rule::property_selector => {
                let key = e.into_inner().next().map(|k| ident(&k)).ok_or_else(|| {
                    CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "bad selector")
                })?;
                MapProjectionItem::Property(key)
            }
            Rule::map_entry => {
                let (k, v) = map_entry(e, depth + 1)?;
                MapProjectionItem::Entry(k, v)
            }
            _ => MapProjectionItem::Variable(ident(&e)),
        });
    }
    Ok(ExprKind::MapProjection { variable, items })
}

/// `( ... )` followed by zero or more relationship steps.
pub(crate) fn paren_like(p: P, depth: usize) -> R<Expr> {
    let span = span_of(&p);
    let mut inner_expr = None;
    let mut node_part = None;
    let mut props = None;
    let mut chains = Vec::new();
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::paren_labels | Rule::paren_node => node_part = Some(c),
            Rule::pattern_chain_expr => chains.push(c),
            Rule::expression if inner_expr.is_none() => inner_expr = Some(c),
            Rule::parameter => props = Some(expr(c, depth + 1)?),
            _ => {}
        }
    }
    if chains.is_empty() {
        return match (inner_expr, node_part, props) {
            (Some(e), None, None) => expr(e, depth + 1),
            _ => Err(CypherError::new(
                ErrorDetail::UnexpectedSyntax,
                span.start,
                format!(
                    "Invalid input '(': a node pattern is not an expression, at offset {}",
                    span.start
                ),
            )),
        };
    }
    let mut start = match node_part {
        Some(np) => {
            let mut node = NodePattern {
                variable: None,
                labels: Vec::new(),
                properties: None,
                span,
            };
            for c in np.into_inner() {
                match c.as_rule() {
                    Rule::variable => node.variable = Some(ident(&c)),
                    Rule::node_labels => node.labels = labels(c),
                    _ => node.properties = Some(expr(c, depth + 1)?),
                }
            }
            node
        }
        None => {
            let e = match inner_expr {
                Some(e) => Some(expr(e, depth + 1)?),
                None => None,
            };
            node_from_expr(e, props, span.start)?
        }
    };
    let mut chain = Vec::with_capacity(chains.len());
    for c in chains {
        chain.push(pattern_chain(c, depth + 1)?);
    }
    let first_end = chain.first().map_or(span.end, |(r, _)| r.span.start);
    start.span = Span::new(span.start, first_end.max(span.start));
    let element = PatternElement { start, chain, span };
    Ok(Expr::new(ExprKind::Pattern(Box::new(element)), span))
}
