//! pest pairs → pattern AST (nodes, relationships, paths).
//!
//! Invariant: `PatternElement::chain` alternates strictly rel → node, so a
//! path with `k` steps has `k + 1` nodes.

use crate::ast::*;
use crate::build_expr::{P, R, expr, ident, labels, span_of};
use crate::error::{CypherError, ErrorDetail};
use crate::parser::Rule;

pub(crate) fn pattern(p: P, depth: usize) -> R<Pattern> {
    let span = span_of(&p);
    let mut parts = Vec::new();
    for c in p.into_inner() {
        parts.push(pattern_part(c, depth)?);
    }
    Ok(Pattern { parts, span })
}

pub(crate) fn pattern_part(p: P, depth: usize) -> R<PatternPart> {
    let span = span_of(&p);
    let mut variable = None;
    let mut kind = PathKind::Normal;
    let mut element = None;
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::variable => variable = Some(ident(&c)),
            Rule::shortest_path => {
                for s in c.into_inner() {
                    match s.as_rule() {
                        Rule::kw_all_shortest_paths => kind = PathKind::AllShortest,
                        Rule::kw_shortest_path => kind = PathKind::Shortest,
                        _ => element = Some(pattern_element(s, depth)?),
                    }
                }
            }
            _ => element = Some(pattern_element(c, depth)?),
        }
    }
    let element = element.ok_or_else(|| {
        CypherError::new(ErrorDetail::UnexpectedSyntax, span.start, "empty pattern")
    })?;
    Ok(PatternPart {
        variable,
        kind,
        element,
        span,
    })
}

pub(crate) fn pattern_element(p: P, depth: usize) -> R<PatternElement> {
    let span = span_of(&p);
    let mut start = None;
    let mut chain = Vec::new();
    for c in p.into_inner() {
        match c.as_rule() {
            // `((a)-->(b))`: parenthesised element.
            Rule::pattern_element => return pattern_element(c, depth + 1),
            Rule::node_pattern => start = Some(node_pattern(c, depth)?),
            _ => chain.push(pattern_chain(c, depth)?),
        }
    }
    let start = start.ok_or_else(|| {
        CypherError::new(ErrorDetail::UnexpectedSyntax, span.start, "missing node")
    })?;
    Ok(PatternElement { start, chain, span })
}

pub(crate) fn pattern_chain(p: P, depth: usize) -> R<(RelPattern, NodePattern)> {
    let span = span_of(&p);
    let mut rel = None;
    let mut node = None;
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::rel_pattern => rel = Some(rel_pattern(c, depth)?),
            Rule::missing_node => {
                let at = c.as_span().start();
                return Err(CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    at,
                    format!(
                        "Invalid input: expected a node pattern '(...)' after the relationship, at offset {at}"
                    ),
                ));
            }
            _ => node = Some(node_pattern(c, depth)?),
        }
    }
    match (rel, node) {
        (Some(r), Some(n)) => Ok((r, n)),
        _ => Err(CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            "incomplete relationship step",
        )),
    }
}

fn node_pattern(p: P, depth: usize) -> R<NodePattern> {
    let span = span_of(&p);
    let mut node = NodePattern {
        variable: None,
        labels: Vec::new(),
        properties: None,
        span,
    };
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::variable => node.variable = Some(ident(&c)),
            Rule::node_labels => node.labels = labels(c),
            Rule::close_paren => {}
            _ => node.properties = Some(expr(c, depth + 1)?),
        }
    }
    Ok(node)
}

fn rel_pattern(p: P, depth: usize) -> R<RelPattern> {
    let span = span_of(&p);
    let mut left = false;
    let mut right = false;
    let mut rel = RelPattern {
        variable: None,
        types: Vec::new(),
        direction: Direction::Both,
        length: None,
        properties: None,
        span,
    };
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::left_arrow => left = true,
            Rule::right_arrow => right = true,
            _ => {
                for d in c.into_inner() {
                    match d.as_rule() {
                        Rule::variable => rel.variable = Some(ident(&d)),
                        Rule::rel_types => rel.types = d.into_inner().map(|t| ident(&t)).collect(),
                        Rule::var_length => rel.length = Some(var_length(d)?),
                        Rule::bad_var_length => {
                            return Err(CypherError::new(
                                ErrorDetail::InvalidRelationshipPattern,
                                d.as_span().start(),
                                format!(
                                    "Invalid variable length relationship '{}': expected '*', '*n', '*n..m' with non-negative bounds",
                                    d.as_str()
                                ),
                            ));
                        }
                        _ => rel.properties = Some(expr(d, depth + 1)?),
                    }
                }
            }
        }
    }
    rel.direction = match (left, right) {
        (true, false) => Direction::Incoming,
        (false, true) => Direction::Outgoing,
        _ => Direction::Both,
    };
    Ok(rel)
}

fn var_length(p: P) -> R<VarLength> {
    let mut min = None;
    let mut max = None;
    let mut dots = false;
    for c in p.into_inner() {
        let bound = || {
            c.as_str().parse::<u64>().map_err(|_| {
                CypherError::new(
                    ErrorDetail::IntegerOverflow,
                    c.as_span().start(),
                    format!("Range bound '{}' is too large", c.as_str()),
                )
            })
        };
        match c.as_rule() {
            Rule::range_dots => dots = true,
            Rule::range_min => min = Some(bound()?),
            _ => max = Some(bound()?),
        }
    }
    if !dots {
        max = min;
    }
    Ok(VarLength { min, max })
}

/// Reinterpret the inside of `( ... )` parsed as an expression as a node
/// pattern: `a`, `a:L`, `a {k: v}` (a map projection with entries only),
/// `{k: v}`; `props` is an explicit trailing map/parameter.
pub(crate) fn node_from_expr(
    e: Option<Expr>,
    props: Option<Expr>,
    offset: usize,
) -> R<NodePattern> {
    let bad = || {
        CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            offset,
            format!("Invalid node pattern at offset {offset}"),
        )
    };
    let mut node = NodePattern {
        variable: None,
        labels: Vec::new(),
        properties: props,
        span: Span::new(offset, offset),
    };
    let Some(e) = e else { return Ok(node) };
    let span = e.span;
    match e.kind {
        ExprKind::Variable(name) => node.variable = Some(Ident { name, span }),
        ExprKind::HasLabels(base, ls) => match base.kind {
            ExprKind::Variable(name) => {
                node.variable = Some(Ident {
                    name,
                    span: base.span,
                });
                node.labels = ls;
            }
            _ => return Err(bad()),
        },
        ExprKind::MapProjection { variable, items } if node.properties.is_none() => {
            let mut entries = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    MapProjectionItem::Entry(k, v) => entries.push((k, v)),
                    _ => return Err(bad()),
                }
            }
            let map_span = Span::new(variable.span.end, span.end);
            node.variable = Some(variable);
            node.properties = Some(Expr::new(ExprKind::Map(entries), map_span));
        }
        kind @ (ExprKind::Map(_) | ExprKind::Parameter(_)) if node.properties.is_none() => {
            node.properties = Some(Expr::new(kind, span));
        }
        _ => return Err(bad()),
    }
    Ok(node)
}
