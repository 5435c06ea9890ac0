//! pest pairs → query / clause / schema AST, and the `CYPHER k=v` prefix.
//!
//! Invariant: projection column names are the alias or the exact source text
//! of the expression (FalkorDB names columns as written).

use crate::ast::*;
use crate::build_expr::{P, R, expr, ident, labels, span_of, unexpected};
use crate::build_pattern::{pattern, pattern_part};
use crate::build_schema::{index_spec, prefix};
use crate::error::{CypherError, ErrorDetail};
use crate::parser::Rule;

pub(crate) fn build_query(src: &str, top: P) -> R<Query> {
    let span = span_of(&top);
    let mut params = Vec::new();
    let mut statement = None;
    for c in top.into_inner() {
        match c.as_rule() {
            Rule::cypher_prefix => params = prefix(c)?,
            Rule::regular_query => statement = Some(Statement::Query(regular_query(c)?)),
            Rule::create_index => {
                statement = Some(Statement::Schema(SchemaCommand::CreateIndex(index_spec(
                    c,
                )?)))
            }
            Rule::drop_index => {
                statement = Some(Statement::Schema(SchemaCommand::DropIndex(index_spec(c)?)))
            }
            _ => {}
        }
    }
    let statement = statement
        .ok_or_else(|| CypherError::syntax(src, src.len(), "Invalid input: expected a clause"))?;
    Ok(Query {
        params,
        statement,
        span,
    })
}

fn regular_query(p: P) -> R<RegularQuery> {
    let mut first = None;
    let mut unions = Vec::new();
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::single_query => first = Some(single_query(c)?),
            _ => {
                let span = span_of(&c);
                let mut all = false;
                let mut query = None;
                for u in c.into_inner() {
                    match u.as_rule() {
                        Rule::kw_all => all = true,
                        Rule::single_query => query = Some(single_query(u)?),
                        _ => {}
                    }
                }
                let query = query.ok_or_else(|| {
                    CypherError::new(
                        ErrorDetail::UnexpectedSyntax,
                        span.start,
                        "UNION without query",
                    )
                })?;
                unions.push(UnionPart { all, query, span });
            }
        }
    }
    let first =
        first.ok_or_else(|| CypherError::new(ErrorDetail::UnexpectedSyntax, 0, "empty query"))?;
    Ok(RegularQuery { first, unions })
}

fn single_query(p: P) -> R<SingleQuery> {
    let span = span_of(&p);
    let mut clauses = Vec::new();
    for c in p.into_inner() {
        clauses.push(clause(c)?);
    }
    Ok(SingleQuery { clauses, span })
}

fn clause(p: P) -> R<Clause> {
    let span = span_of(&p);
    let rule = p.as_rule();
    let mut inner: Vec<P> = p.into_inner().collect();
    Ok(match rule {
        Rule::match_clause => {
            let optional = has(&inner, Rule::kw_optional);
            let pat = take(&mut inner, Rule::pattern).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "MATCH without pattern",
                )
            })?;
            let where_ = take(&mut inner, Rule::where_clause)
                .map(where_expr)
                .transpose()?;
            Clause::Match(MatchClause {
                optional,
                pattern: pattern(pat, 0)?,
                where_,
                span,
            })
        }
        Rule::unwind_clause => {
            let e = take(&mut inner, Rule::expression).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "UNWIND without list",
                )
            })?;
            let v = take(&mut inner, Rule::variable).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "UNWIND without alias",
                )
            })?;
            Clause::Unwind(UnwindClause {
                expr: expr(e, 0)?,
                variable: ident(&v),
                span,
            })
        }
        Rule::create_clause => {
            let pat = take(&mut inner, Rule::pattern).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "CREATE without pattern",
                )
            })?;
            Clause::Create(CreateClause {
                pattern: pattern(pat, 0)?,
                span,
            })
        }
        Rule::merge_clause => merge(inner, span)?,
        Rule::set_clause => Clause::Set(SetClause {
            items: set_items(inner)?,
            span,
        }),
        Rule::remove_clause => {
            let mut items = Vec::new();
            for item in inner
                .into_iter()
                .filter(|c| c.as_rule() == Rule::remove_item)
            {
                items.push(remove_item(item)?);
            }
            Clause::Remove(RemoveClause { items, span })
        }
        Rule::delete_clause => {
            let detach = has(&inner, Rule::kw_detach);
            let mut exprs = Vec::new();
            for e in inner
                .into_iter()
                .filter(|c| c.as_rule() == Rule::expression)
            {
                exprs.push(expr(e, 0)?);
            }
            Clause::Delete(DeleteClause {
                detach,
                exprs,
                span,
            })
        }
        Rule::foreach_clause => {
            let v = take(&mut inner, Rule::variable).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "FOREACH without variable",
                )
            })?;
            let l = take(&mut inner, Rule::expression).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "FOREACH without list",
                )
            })?;
            let mut clauses = Vec::new();
            for c in inner
                .into_iter()
                .filter(|c| !matches!(c.as_rule(), Rule::kw_foreach | Rule::kw_in))
            {
                clauses.push(clause(c)?);
            }
            Clause::Foreach(ForeachClause {
                variable: ident(&v),
                list: expr(l, 1)?,
                clauses,
                span,
            })
        }
        Rule::with_clause => {
            let body = take(&mut inner, Rule::projection_body).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "WITH without items",
                )
            })?;
            let where_ = take(&mut inner, Rule::where_clause)
                .map(where_expr)
                .transpose()?;
            Clause::With(WithClause {
                projection: projection(body)?,
                where_,
                span,
            })
        }
        Rule::return_clause => {
            let body = take(&mut inner, Rule::projection_body).ok_or_else(|| {
                CypherError::new(
                    ErrorDetail::UnexpectedSyntax,
                    span.start,
                    "RETURN without items",
                )
            })?;
            Clause::Return(ReturnClause {
                projection: projection(body)?,
                span,
            })
        }
        Rule::call_clause => call(inner, span)?,
        _ => {
            return Err(CypherError::new(
                ErrorDetail::UnexpectedSyntax,
                span.start,
                "unknown clause",
            ));
        }
    })
}

fn has(inner: &[P], r: Rule) -> bool {
    inner.iter().any(|c| c.as_rule() == r)
}

fn take<'i>(inner: &mut Vec<P<'i>>, r: Rule) -> Option<P<'i>> {
    inner
        .iter()
        .position(|c| c.as_rule() == r)
        .map(|i| inner.remove(i))
}

fn where_expr(p: P) -> R<Expr> {
    let e = p.into_inner().find(|c| c.as_rule() == Rule::expression);
    match e {
        Some(e) => expr(e, 0),
        None => Err(CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            0,
            "WHERE without expression",
        )),
    }
}

fn merge(inner: Vec<P>, span: Span) -> R<Clause> {
    let mut part = None;
    let mut on_create = Vec::new();
    let mut on_match = Vec::new();
    for c in inner {
        match c.as_rule() {
            Rule::pattern_part => part = Some(pattern_part(c, 0)?),
            Rule::merge_action => {
                let parts: Vec<P> = c.into_inner().collect();
                let is_create = parts.iter().any(|x| x.as_rule() == Rule::kw_create);
                let Some(set) = parts.into_iter().find(|x| x.as_rule() == Rule::set_clause) else {
                    continue;
                };
                let items = set_items(set.into_inner().collect())?;
                if is_create {
                    on_create.extend(items)
                } else {
                    on_match.extend(items)
                }
            }
            _ => {}
        }
    }
    let part = part.ok_or_else(|| {
        CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            "MERGE without pattern",
        )
    })?;
    Ok(Clause::Merge(MergeClause {
        part,
        on_create,
        on_match,
        span,
    }))
}

fn set_items(inner: Vec<P>) -> R<Vec<SetItem>> {
    let mut items = Vec::new();
    for item in inner.into_iter().filter(|c| c.as_rule() == Rule::set_item) {
        items.push(set_item(item)?);
    }
    Ok(items)
}

fn set_item(p: P) -> R<SetItem> {
    let span = span_of(&p);
    let parts: Vec<P> = p.into_inner().collect();
    let mut it = parts.into_iter();
    let (Some(target), Some(second)) = (it.next(), it.next()) else {
        return Err(CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            "bad SET item",
        ));
    };
    if target.as_rule() == Rule::variable {
        return Ok(SetItem::Labels {
            variable: ident(&target),
            labels: labels(second),
            span,
        });
    }
    let is_merge = second.as_str() == "+=";
    let value = it
        .next()
        .ok_or_else(|| unexpected(&second, "Missing value"))?;
    let value = expr(value, 0)?;
    let target_pair = target.clone();
    let target = expr(target, 0)?;
    match target.kind {
        ExprKind::Property(base, key) if !is_merge => Ok(SetItem::Property {
            target: *base,
            key,
            value,
            span,
        }),
        ExprKind::Variable(name) => {
            let variable = Ident {
                name,
                span: target.span,
            };
            Ok(if is_merge {
                SetItem::Merge {
                    variable,
                    value,
                    span,
                }
            } else {
                SetItem::Replace {
                    variable,
                    value,
                    span,
                }
            })
        }
        _ => Err(unexpected(&target_pair, "Invalid SET target")),
    }
}

fn remove_item(p: P) -> R<RemoveItem> {
    let span = span_of(&p);
    let parts: Vec<P> = p.into_inner().collect();
    let mut it = parts.into_iter();
    let first = it.next().ok_or_else(|| {
        CypherError::new(ErrorDetail::UnexpectedSyntax, span.start, "bad REMOVE item")
    })?;
    if let Some(ls) = it.next() {
        return Ok(RemoveItem::Labels {
            variable: ident(&first),
            labels: labels(ls),
            span,
        });
    }
    let first_pair = first.clone();
    let e = expr(first, 0)?;
    match e.kind {
        ExprKind::Property(base, key) => Ok(RemoveItem::Property {
            target: *base,
            key,
            span,
        }),
        ExprKind::HasLabels(base, labels) => match base.kind {
            ExprKind::Variable(name) => Ok(RemoveItem::Labels {
                variable: Ident {
                    name,
                    span: base.span,
                },
                labels,
                span,
            }),
            _ => Err(unexpected(&first_pair, "Invalid REMOVE target")),
        },
        _ => Err(unexpected(&first_pair, "Invalid REMOVE target")),
    }
}

fn projection(p: P) -> R<Projection> {
    let mut proj = Projection {
        distinct: false,
        star: false,
        items: Vec::new(),
        order_by: Vec::new(),
        skip: None,
        limit: None,
    };
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::kw_distinct => proj.distinct = true,
            Rule::projection_items => {
                for item in c.into_inner() {
                    if item.as_rule() == Rule::projection_star {
                        proj.star = true;
                        continue;
                    }
                    proj.items.push(projection_item(item)?);
                }
            }
            Rule::order_by => {
                for s in c.into_inner().filter(|x| x.as_rule() == Rule::sort_item) {
                    let mut e = None;
                    let mut descending = false;
                    for part in s.into_inner() {
                        match part.as_rule() {
                            Rule::sort_dir => {
                                descending = part.as_str().to_ascii_lowercase().starts_with("desc")
                            }
                            _ => e = Some(expr(part, 0)?),
                        }
                    }
                    if let Some(expr) = e {
                        proj.order_by.push(SortItem { expr, descending });
                    }
                }
            }
            Rule::skip => {
                proj.skip = c
                    .into_inner()
                    .find(|x| x.as_rule() == Rule::expression)
                    .map(|e| expr(e, 0))
                    .transpose()?
            }
            Rule::limit => {
                proj.limit = c
                    .into_inner()
                    .find(|x| x.as_rule() == Rule::expression)
                    .map(|e| expr(e, 0))
                    .transpose()?
            }
            _ => {}
        }
    }
    Ok(proj)
}

fn projection_item(p: P) -> R<ProjectionItem> {
    let span = span_of(&p);
    let mut e = None;
    let mut alias = None;
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::expression => e = Some(c),
            Rule::variable => alias = Some(ident(&c)),
            _ => {}
        }
    }
    let e = e.ok_or_else(|| {
        CypherError::new(
            ErrorDetail::UnexpectedSyntax,
            span.start,
            "missing projection expression",
        )
    })?;
    let text = e.as_str().trim().to_string();
    let expr = expr(e, 0)?;
    // The pair's own text, not the expression's span: a parenthesised item's span excludes
    // its outer parentheses, but the column is named as written.
    let name = alias.as_ref().map_or(text, |a| a.name.clone());
    Ok(ProjectionItem {
        expr,
        alias,
        name,
        span,
    })
}

fn call(inner: Vec<P>, span: Span) -> R<Clause> {
    let mut c = CallClause {
        procedure: String::new(),
        args: None,
        yields: None,
        yield_star: false,
        where_: None,
        span,
    };
    for part in inner {
        match part.as_rule() {
            Rule::procedure_name => {
                c.procedure = part
                    .into_inner()
                    .map(|n| ident(&n).name)
                    .collect::<Vec<_>>()
                    .join(".");
            }
            Rule::call_args => {
                let mut args = Vec::new();
                for a in part.into_inner() {
                    args.push(expr(a, 0)?);
                }
                c.args = Some(args);
            }
            Rule::yield_part => {
                let mut items = Vec::new();
                for y in part.into_inner() {
                    match y.as_rule() {
                        Rule::yield_star => c.yield_star = true,
                        Rule::yield_item => {
                            let mut names = y.into_inner().filter(|x| x.as_rule() != Rule::kw_as);
                            let Some(field) = names.next() else { continue };
                            let alias = names.next().map(|a| ident(&a));
                            items.push(YieldItem {
                                field: ident(&field),
                                alias,
                            });
                        }
                        Rule::where_clause => c.where_ = Some(where_expr(y)?),
                        _ => {}
                    }
                }
                c.yields = Some(items);
            }
            _ => {}
        }
    }
    Ok(Clause::Call(c))
}

#[cfg(test)]
#[path = "build_clause_tests.rs"]
mod tests;
