//! pest pairs → expression AST.
//!
//! Shapes the grammar deliberately leaves ambiguous are resolved here:
//! `[x IN l ...]` (comprehension vs list), `[(a)-->() | e]` (pattern
//! comprehension), `all(x IN l WHERE p)` / `reduce(...)` (vs plain calls),
//! `(a:L)-->(b)` (pattern vs parenthesised expression).
//!
//! Invariant: every call carries the depth its result will sit at (an upper
//! bound); past [`MAX_EXPR_DEPTH`] building stops with `NestingTooDeep`, so
//! no pass over the AST (including `Drop`) can recurse unboundedly.

use pest::iterators::Pair;

use crate::ast::*;
use crate::build_shared::{function_call, list_like, map_projection, paren_like};
use crate::error::{CypherError, ErrorDetail};
use crate::limits::MAX_EXPR_DEPTH;
use crate::literals::{decode_number, decode_string, unescape_name};
use crate::parser::Rule;

pub(crate) type P<'i> = Pair<'i, Rule>;
pub(crate) type R<T> = Result<T, CypherError>;

pub(crate) fn span_of(p: &P) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

/// An identifier from a `variable` / `symbolic_name` pair (or any pair whose
/// text is the name).
pub(crate) fn ident(p: &P) -> Ident {
    Ident {
        name: unescape_name(p.as_str().trim()),
        span: span_of(p),
    }
}

pub(crate) fn unexpected(p: &P, what: &str) -> CypherError {
    CypherError::new(
        ErrorDetail::UnexpectedSyntax,
        p.as_span().start(),
        format!("{what} at offset {}", p.as_span().start()),
    )
}

fn log2_ceil(n: usize) -> usize {
    (usize::BITS - n.saturating_sub(1).leading_zeros()) as usize
}

fn join(a: Span, b: Span) -> Span {
    Span::new(a.start.min(b.start), a.end.max(b.end))
}

fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    let span = join(l.span, r.span);
    Expr::new(ExprKind::Binary(op, Box::new(l), Box::new(r)), span)
}

pub(crate) fn expr(p: P, depth: usize) -> R<Expr> {
    if depth > MAX_EXPR_DEPTH {
        return Err(CypherError::new(
            ErrorDetail::NestingTooDeep,
            p.as_span().start(),
            format!("Expression nesting too deep (limit {MAX_EXPR_DEPTH})"),
        ));
    }
    match p.as_rule() {
        Rule::expression => balanced(p, BinaryOp::Or, depth),
        Rule::xor_expr => balanced(p, BinaryOp::Xor, depth),
        Rule::and_expr => balanced(p, BinaryOp::And, depth),
        Rule::not_expr => not_expr(p, depth),
        Rule::comparison => comparison(p, depth),
        Rule::predicate_expr => predicate(p, depth),
        Rule::add_sub | Rule::mul_div | Rule::power => arithmetic(p, depth),
        Rule::unary => unary(p, depth),
        Rule::postfix_expr => postfix(p, depth),
        _ => atom(p, depth),
    }
}

/// AND / OR / XOR chains: associative, so build a balanced tree to keep the
/// depth logarithmic in long generated filters.
fn balanced(p: P, op: BinaryOp, depth: usize) -> R<Expr> {
    let operands: Vec<P> = p
        .into_inner()
        .filter(|c| !matches!(c.as_rule(), Rule::kw_or | Rule::kw_xor | Rule::kw_and))
        .collect();
    // A single operand is a pass-through level: it adds no depth.
    let child_depth = if operands.len() == 1 {
        depth
    } else {
        depth + log2_ceil(operands.len()) + 1
    };
    let mut built = Vec::with_capacity(operands.len());
    for o in operands {
        built.push(expr(o, child_depth)?);
    }
    fold_balanced(op, built)
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "empty expression"))
}

fn fold_balanced(op: BinaryOp, mut items: Vec<Expr>) -> Option<Expr> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        n => {
            let right = items.split_off(n / 2);
            let l = fold_balanced(op, items)?;
            let r = fold_balanced(op, right)?;
            Some(bin(op, l, r))
        }
    }
}

fn not_expr(p: P, depth: usize) -> R<Expr> {
    let mut nots = Vec::new();
    let mut inner = None;
    for c in p.into_inner() {
        if c.as_rule() == Rule::kw_not {
            nots.push(span_of(&c));
        } else {
            inner = Some(c);
        }
    }
    let inner = inner
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "NOT without operand"))?;
    let mut e = expr(inner, depth + nots.len())?;
    for s in nots.into_iter().rev() {
        let span = join(s, e.span);
        e = Expr::new(ExprKind::Unary(UnaryOp::Not, Box::new(e)), span);
    }
    Ok(e)
}

/// `a < b <= c` is `a < b AND b <= c` (openCypher chained comparison).
fn comparison(p: P, depth: usize) -> R<Expr> {
    let children: Vec<P> = p.into_inner().collect();
    let n = if children.len() == 1 {
        0
    } else {
        children.len() + 1
    };
    let mut operands = Vec::new();
    let mut ops = Vec::new();
    for c in children {
        if c.as_rule() == Rule::comp_op {
            ops.push(match c.as_str() {
                "=" => BinaryOp::Eq,
                "<>" => BinaryOp::Ne,
                "<" => BinaryOp::Lt,
                ">" => BinaryOp::Gt,
                "<=" => BinaryOp::Le,
                _ => BinaryOp::Ge,
            });
        } else {
            operands.push(expr(c, depth + n)?);
        }
    }
    if ops.is_empty() {
        return operands
            .pop()
            .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "empty comparison"));
    }
    let mut parts = Vec::with_capacity(ops.len());
    for (i, op) in ops.into_iter().enumerate() {
        let (Some(l), Some(r)) = (operands.get(i), operands.get(i + 1)) else {
            break;
        };
        parts.push(bin(op, l.clone(), r.clone()));
    }
    fold_balanced(BinaryOp::And, parts)
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "empty comparison"))
}

fn predicate(p: P, depth: usize) -> R<Expr> {
    let children: Vec<P> = p.into_inner().collect();
    let d = if children.len() == 1 {
        depth
    } else {
        depth + children.len()
    };
    let mut it = children.into_iter();
    let first = it
        .next()
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "empty predicate"))?;
    let mut acc = expr(first, d)?;
    for suffix in it {
        let suffix_span = span_of(&suffix);
        let mut parts = suffix.into_inner();
        let Some(head) = parts.next() else { continue };
        let op = match head.as_rule() {
            Rule::is_null | Rule::is_not_null => {
                let span = join(acc.span, suffix_span);
                let negated = head.as_rule() == Rule::is_not_null;
                acc = Expr::new(ExprKind::IsNull(Box::new(acc), negated), span);
                continue;
            }
            Rule::kw_in => BinaryOp::In,
            Rule::kw_starts => BinaryOp::StartsWith,
            Rule::kw_ends => BinaryOp::EndsWith,
            Rule::kw_contains => BinaryOp::Contains,
            _ => BinaryOp::Regex,
        };
        let rhs = parts
            .find(|c| c.as_rule() == Rule::add_sub)
            .ok_or_else(|| unexpected(&head, "Missing operand"))?;
        let rhs = expr(rhs, d)?;
        acc = bin(op, acc, rhs);
    }
    Ok(acc)
}

fn arithmetic(p: P, depth: usize) -> R<Expr> {
    let is_power = p.as_rule() == Rule::power;
    let children: Vec<P> = p.into_inner().collect();
    let d = if children.len() == 1 {
        depth
    } else {
        depth + children.len()
    };
    let mut acc: Option<Expr> = None;
    let mut pending = BinaryOp::Pow;
    for c in children {
        match c.as_rule() {
            Rule::add_op => {
                pending = if c.as_str().starts_with('+') {
                    BinaryOp::Add
                } else {
                    BinaryOp::Sub
                }
            }
            Rule::mul_op => {
                pending = match c.as_str() {
                    "*" => BinaryOp::Mul,
                    "/" => BinaryOp::Div,
                    _ => BinaryOp::Mod,
                }
            }
            _ => {
                let e = expr(c, d)?;
                acc = Some(match acc {
                    None => e,
                    Some(l) => bin(if is_power { BinaryOp::Pow } else { pending }, l, e),
                });
            }
        }
    }
    acc.ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "empty arithmetic"))
}

fn unary(p: P, depth: usize) -> R<Expr> {
    let mut ops: Vec<P> = Vec::new();
    let mut operand = None;
    for c in p.into_inner() {
        if c.as_rule() == Rule::unary_op {
            ops.push(c);
        } else {
            operand = Some(c);
        }
    }
    let operand = operand
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "missing operand"))?;
    let d = depth + ops.len();
    // `-<number>` folds into the literal so i64::MIN is expressible.
    let bare_number = {
        let mut inner = operand.clone().into_inner();
        match (inner.next(), inner.next()) {
            (Some(a), None) if a.as_rule() == Rule::number => Some(a),
            _ => None,
        }
    };
    let mut e = match (ops.last(), bare_number) {
        (Some(minus), Some(num)) if minus.as_str().starts_with('-') => {
            let lit = decode_number(num.as_str(), num.as_span().start(), true)?;
            let span = join(span_of(minus), span_of(&num));
            ops.pop();
            Expr::new(ExprKind::Literal(lit), span)
        }
        _ => expr(operand, d)?,
    };
    for op in ops.into_iter().rev() {
        let u = if op.as_str().starts_with('-') {
            UnaryOp::Minus
        } else {
            UnaryOp::Plus
        };
        let span = join(span_of(&op), e.span);
        e = Expr::new(ExprKind::Unary(u, Box::new(e)), span);
    }
    Ok(e)
}

fn postfix(p: P, depth: usize) -> R<Expr> {
    let children: Vec<P> = p.into_inner().collect();
    let d = if children.len() == 1 {
        depth
    } else {
        depth + children.len()
    };
    let mut it = children.into_iter();
    let first = it
        .next()
        .ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "missing atom"))?;
    let mut acc = expr(first, d)?;
    for op in it {
        let span = join(acc.span, span_of(&op));
        acc = match op.as_rule() {
            Rule::property_lookup => {
                let key = op.into_inner().next().map(|k| ident(&k)).ok_or_else(|| {
                    CypherError::new(
                        ErrorDetail::UnexpectedSyntax,
                        span.end,
                        "missing property key",
                    )
                })?;
                Expr::new(ExprKind::Property(Box::new(acc), key), span)
            }
            Rule::node_labels => Expr::new(ExprKind::HasLabels(Box::new(acc), labels(op)), span),
            _ => subscript(acc, op, span, d)?,
        };
    }
    Ok(acc)
}

fn subscript(base: Expr, op: P, span: Span, depth: usize) -> R<Expr> {
    let mut from = None;
    let mut to = None;
    let mut dots = false;
    for c in op.into_inner() {
        match c.as_rule() {
            Rule::range_dots => dots = true,
            _ if dots => to = Some(Box::new(expr(c, depth)?)),
            _ => from = Some(Box::new(expr(c, depth)?)),
        }
    }
    if dots {
        return Ok(Expr::new(ExprKind::Slice(Box::new(base), from, to), span));
    }
    let index = from.ok_or_else(|| {
        CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.end,
            "Missing index expression",
        )
    })?;
    Ok(Expr::new(ExprKind::Index(Box::new(base), index), span))
}

pub(crate) fn labels(p: P) -> Vec<Ident> {
    p.into_inner().map(|l| ident(&l)).collect()
}

fn atom(p: P, depth: usize) -> R<Expr> {
    let span = span_of(&p);
    let kind = match p.as_rule() {
        Rule::number => ExprKind::Literal(decode_number(p.as_str(), span.start, false)?),
        Rule::string => ExprKind::Literal(Literal::String(decode_string(p.as_str(), span.start)?)),
        Rule::kw_true => ExprKind::Literal(Literal::Bool(true)),
        Rule::kw_false => ExprKind::Literal(Literal::Bool(false)),
        Rule::kw_null => ExprKind::Literal(Literal::Null),
        Rule::parameter => ExprKind::Parameter(
            p.into_inner()
                .next()
                .map(|n| unescape_name(n.as_str()))
                .unwrap_or_default(),
        ),
        Rule::variable => ExprKind::Variable(unescape_name(p.as_str())),
        Rule::count_star => ExprKind::CountStar,
        Rule::case_expr => case_expr(p, depth)?,
        Rule::map_literal => map_literal(p, depth)?,
        Rule::list_like => return list_like(p, depth),
        Rule::paren_like => return paren_like(p, depth),
        Rule::function_call => return function_call(p, depth),
        Rule::map_projection => map_projection(p, depth)?,
        _ => return Err(unexpected(&p, "Unexpected token")),
    };
    Ok(Expr::new(kind, span))
}

pub(crate) fn map_literal(p: P, depth: usize) -> R<ExprKind> {
    let mut entries = Vec::new();
    for e in p.into_inner() {
        entries.push(map_entry(e, depth + 1)?);
    }
    Ok(ExprKind::Map(entries))
}

pub(crate) fn map_entry(p: P, depth: usize) -> R<(Ident, Expr)> {
    let mut inner = p.into_inner();
    let (Some(k), Some(v)) = (inner.next(), inner.next()) else {
        return Err(CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            0,
            "bad map entry",
        ));
    };
    Ok((ident(&k), expr(v, depth)?))
}

fn case_expr(p: P, depth: usize) -> R<ExprKind> {
    let d = depth + 1;
    let mut operand = None;
    let mut alternatives = Vec::new();
    let mut default = None;
    let mut after_else = false;
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::kw_else => after_else = true,
            Rule::case_alt => {
                let mut parts = c.into_inner().filter(|x| x.as_rule() == Rule::expression);
                let (Some(w), Some(t)) = (parts.next(), parts.next()) else {
                    continue;
                };
                alternatives.push((expr(w, d)?, expr(t, d)?));
            }
            Rule::expression if after_else => default = Some(Box::new(expr(c, d)?)),
            Rule::expression => operand = Some(Box::new(expr(c, d)?)),
            _ => {}
        }
    }
    Ok(ExprKind::Case {
        operand,
        alternatives,
        default,
    })
}

#[cfg(test)]
#[path = "build_expr_tests.rs"]
mod tests;
