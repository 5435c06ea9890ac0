//! Test helpers: parse shortcuts and an S-expression rendering of
//! expressions that ignores spans, so tests can assert tree shape compactly.

use crate::ast::*;

/// Parse `RETURN <e>` and return the expression of the first item.
pub fn ret(e: &str) -> Expr {
    let q = crate::parse(&format!("RETURN {e}")).unwrap_or_else(|err| panic!("{e}: {err}"));
    first_return_item(&q)
}

pub fn first_return_item(q: &Query) -> Expr {
    let Statement::Query(rq) = &q.statement else {
        panic!("not a query")
    };
    let Some(Clause::Return(r)) = rq.first.clauses.last() else {
        panic!("no RETURN")
    };
    r.projection.items[0].expr.clone()
}

/// S-expression of `RETURN <e>`.
pub fn sx_of(e: &str) -> String {
    sx(&ret(e))
}

pub fn sx(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(Literal::Null) => "null".into(),
        ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
        ExprKind::Literal(Literal::Integer(i)) => i.to_string(),
        ExprKind::Literal(Literal::Float(f)) => format!("{f:?}"),
        ExprKind::Literal(Literal::String(s)) => format!("{s:?}"),
        ExprKind::Parameter(p) => format!("${p}"),
        ExprKind::Variable(v) => v.clone(),
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(sx).collect::<Vec<_>>().join(" "))
        }
        ExprKind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", k.name, sx(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::Property(b, k) => format!("(. {} {})", sx(b), k.name),
        ExprKind::Index(a, b) => format!("(idx {} {})", sx(a), sx(b)),
        ExprKind::Slice(a, b, c) => format!(
            "(slice {} {} {})",
            sx(a),
            b.as_deref().map_or("_".into(), sx),
            c.as_deref().map_or("_".into(), sx)
        ),
        ExprKind::HasLabels(b, ls) => format!(
            "(labels {} {})",
            sx(b),
            ls.iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join(":")
        ),
        ExprKind::Unary(op, b) => format!("({op:?} {})", sx(b)),
        ExprKind::Binary(op, a, b) => format!("({op:?} {} {})", sx(a), sx(b)),
        ExprKind::IsNull(b, neg) => {
            format!("({} {})", if *neg { "IsNotNull" } else { "IsNull" }, sx(b))
        }
        ExprKind::Function {
            name,
            distinct,
            args,
        } => format!(
            "({name}{} {})",
            if *distinct { " distinct" } else { "" },
            args.iter().map(sx).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::CountStar => "(count *)".into(),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}
