//! The `CYPHER name=value ...` parameter prefix, constant folding of its
//! values, and index DDL (`CREATE/DROP [VECTOR|FULLTEXT] INDEX ...`).

use crate::ast::*;
use crate::build_expr::{P, R, expr, ident, span_of};
use crate::error::{CypherError, ErrorDetail};
use crate::parser::Rule;

pub(crate) fn prefix(p: P) -> R<Vec<(String, ConstValue)>> {
    let mut out = Vec::new();
    for param in p.into_inner().filter(|c| c.as_rule() == Rule::prefix_param) {
        let mut inner = param.into_inner();
        let (Some(name), Some(value)) = (inner.next(), inner.next()) else {
            continue;
        };
        let name = ident(&name).name;
        let e = expr(value, 0)?;
        let v = const_value(&e).ok_or_else(|| {
            CypherError::new(
                ErrorDetail::InvalidParameterUse,
                e.span.start,
                format!("Parameter '{name}' must be a constant literal"),
            )
        })?;
        out.push((name, v));
    }
    Ok(out)
}

/// Evaluate a constant expression (literals, lists, maps, signed numbers).
pub fn const_value(e: &Expr) -> Option<ConstValue> {
    Some(match &e.kind {
        ExprKind::Literal(l) => match l {
            Literal::Null => ConstValue::Null,
            Literal::Bool(b) => ConstValue::Bool(*b),
            Literal::Integer(i) => ConstValue::Integer(*i),
            Literal::Float(f) => ConstValue::Float(*f),
            Literal::String(s) => ConstValue::String(s.clone()),
        },
        ExprKind::List(items) => {
            ConstValue::List(items.iter().map(const_value).collect::<Option<_>>()?)
        }
        ExprKind::Map(entries) => ConstValue::Map(
            entries
                .iter()
                .map(|(k, v)| Some((k.name.clone(), const_value(v)?)))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Unary(UnaryOp::Minus, inner) => match const_value(inner)? {
            ConstValue::Integer(i) => ConstValue::Integer(i.checked_neg()?),
            ConstValue::Float(f) => ConstValue::Float(-f),
            _ => return None,
        },
        ExprKind::Unary(UnaryOp::Plus, inner) => match const_value(inner)? {
            v @ (ConstValue::Integer(_) | ConstValue::Float(_)) => v,
            _ => return None,
        },
        _ => return None,
    })
}

pub(crate) fn index_spec(p: P) -> R<IndexSpec> {
    let span = span_of(&p);
    let mut spec = IndexSpec {
        kind: IndexKind::Range,
        entity: IndexEntity::Node,
        label: Ident {
            name: String::new(),
            span,
        },
        properties: Vec::new(),
        options: Vec::new(),
        span,
    };
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::index_kind => {
                let k = c.as_str().to_ascii_lowercase();
                spec.kind = if k == "vector" {
                    IndexKind::Vector
                } else if k == "fulltext" {
                    IndexKind::Fulltext
                } else {
                    IndexKind::Range
                };
            }
            Rule::index_for => {
                for f in c.into_inner() {
                    match f.as_rule() {
                        Rule::index_node | Rule::index_rel => {
                            if f.as_rule() == Rule::index_rel {
                                spec.entity = IndexEntity::Relationship;
                            }
                            if let Some(l) =
                                f.into_inner().find(|x| x.as_rule() == Rule::symbolic_name)
                            {
                                spec.label = ident(&l);
                            }
                        }
                        Rule::index_prop => {
                            if let Some(k) =
                                f.into_inner().find(|x| x.as_rule() == Rule::symbolic_name)
                            {
                                spec.properties.push(ident(&k));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Rule::index_legacy => {
                let mut names = c
                    .into_inner()
                    .filter(|x| x.as_rule() == Rule::symbolic_name);
                if let Some(l) = names.next() {
                    spec.label = ident(&l);
                }
                spec.properties.extend(names.map(|n| ident(&n)));
            }
            Rule::index_options => {
                if let Some(m) = c.into_inner().find(|x| x.as_rule() == Rule::map_literal) {
                    let start = m.as_span().start();
                    let e = Expr::new(
                        crate::build_expr::map_literal(m, 0)?,
                        Span::new(start, start),
                    );
                    match const_value(&e) {
                        Some(ConstValue::Map(entries)) => spec.options = entries,
                        _ => {
                            return Err(CypherError::new(
                                ErrorDetail::InvalidArgumentType,
                                start,
                                "Index OPTIONS must be a constant map",
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(spec)
}
