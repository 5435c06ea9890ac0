//! Property tests: the parser and checker never panic on arbitrary or
//! token-soup input, and a generated expression subset round-trips
//! (render with full parentheses → parse → same tree).

use moon_cypher::ast::{BinaryOp, Clause, Expr, ExprKind, Literal, Statement, UnaryOp};
use proptest::prelude::*;

fn run(text: &str) {
    if let Ok(q) = moon_cypher::parse(text) {
        let _ = moon_cypher::check(&q);
    }
}

const TOKENS: &[&str] = &[
    "MATCH",
    "OPTIONAL",
    "WHERE",
    "RETURN",
    "WITH",
    "UNWIND",
    "CREATE",
    "MERGE",
    "SET",
    "DELETE",
    "DETACH",
    "REMOVE",
    "FOREACH",
    "CALL",
    "YIELD",
    "UNION",
    "ALL",
    "AS",
    "ORDER",
    "BY",
    "DESC",
    "SKIP",
    "LIMIT",
    "DISTINCT",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "STARTS",
    "ENDS",
    "CONTAINS",
    "ON",
    "CYPHER",
    "INDEX",
    "FOR",
    "count",
    "reduce",
    "all",
    "exists",
    "shortestPath",
    "n",
    "m",
    "r",
    "p",
    "x",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    "..",
    "|",
    "-",
    "->",
    "<-",
    "--",
    "*",
    "+",
    "=",
    "<>",
    "<",
    ">=",
    "=~",
    "^",
    "%",
    "/",
    "$p",
    "1",
    "0x1F",
    "1.5",
    ".5",
    "1e3",
    "'s'",
    "\"d\"",
    "`q`",
    "true",
    "null",
    ";",
    "//c\n",
    "/*c*/",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.join(" "))
}

/// A generated expression: its Cypher text and its expected S-expression.
#[derive(Debug, Clone)]
struct Gen {
    text: String,
    sx: String,
}

fn leaf() -> impl Strategy<Value = Gen> {
    prop_oneof![
        (0i64..1_000_000).prop_map(|i| Gen {
            text: i.to_string(),
            sx: i.to_string()
        }),
        "[a-z][a-z0-9_]{0,5}"
            .prop_filter("keyword", |v| !matches!(
                v.as_str(),
                "in" | "is" | "or" | "and" | "xor" | "not" | "as" | "on" | "end"
            ))
            .prop_map(|v| Gen {
                text: format!("`{v}`"),
                sx: v
            }),
        "[a-zA-Z ']{0,6}".prop_map(|s| Gen {
            text: format!("'{}'", s.replace('\'', "\\'")),
            sx: format!("{s:?}")
        }),
        any::<bool>().prop_map(|b| Gen {
            text: b.to_string(),
            sx: b.to_string()
        }),
    ]
}

const OPS: &[(&str, BinaryOp)] = &[
    ("+", BinaryOp::Add),
    ("-", BinaryOp::Sub),
    ("*", BinaryOp::Mul),
    ("/", BinaryOp::Div),
    ("%", BinaryOp::Mod),
    ("^", BinaryOp::Pow),
    ("=", BinaryOp::Eq),
    ("<>", BinaryOp::Ne),
    ("<", BinaryOp::Lt),
    ("AND", BinaryOp::And),
    ("OR", BinaryOp::Or),
    ("XOR", BinaryOp::Xor),
    ("IN", BinaryOp::In),
    ("STARTS WITH", BinaryOp::StartsWith),
    ("CONTAINS", BinaryOp::Contains),
];

fn expr_gen() -> impl Strategy<Value = Gen> {
    leaf().prop_recursive(5, 48, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(OPS), inner.clone()).prop_map(
                |(a, (t, op), b)| Gen {
                    text: format!("(({}) {t} ({}))", a.text, b.text),
                    sx: format!("({op:?} {} {})", a.sx, b.sx),
                }
            ),
            inner.clone().prop_map(|a| Gen {
                text: format!("(NOT {})", a.text),
                sx: format!("(Not {})", a.sx)
            }),
            inner.clone().prop_map(|a| Gen {
                text: format!("(- ({}))", a.text),
                sx: format!("(Minus {})", a.sx)
            }),
            inner.clone().prop_map(|a| Gen {
                text: format!("({} IS NULL)", a.text),
                sx: format!("(IsNull {})", a.sx)
            }),
            inner.clone().prop_map(|a| Gen {
                text: format!("({}).k", a.text),
                sx: format!("(. {} k)", a.sx)
            }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| Gen {
                text: format!(
                    "[{}]",
                    v.iter()
                        .map(|g| g.text.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                sx: format!(
                    "[{}]",
                    v.iter()
                        .map(|g| g.sx.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            }),
            prop::collection::vec(inner, 1..3).prop_map(|v| Gen {
                text: format!(
                    "coalesce({})",
                    v.iter()
                        .map(|g| g.text.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                sx: format!(
                    "(coalesce {})",
                    v.iter()
                        .map(|g| g.sx.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            }),
        ]
    })
}

fn sx(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(Literal::Integer(i)) => i.to_string(),
        ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
        ExprKind::Literal(Literal::String(s)) => format!("{s:?}"),
        ExprKind::Variable(v) => v.clone(),
        ExprKind::Binary(op, a, b) => format!("({op:?} {} {})", sx(a), sx(b)),
        ExprKind::Unary(UnaryOp::Not, a) => format!("(Not {})", sx(a)),
        ExprKind::Unary(UnaryOp::Minus, a) => format!("(Minus {})", sx(a)),
        ExprKind::IsNull(a, false) => format!("(IsNull {})", sx(a)),
        ExprKind::Property(a, k) => format!("(. {} {})", sx(a), k.name),
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(sx).collect::<Vec<_>>().join(" "))
        }
        ExprKind::Function { name, args, .. } => format!(
            "({name} {})",
            args.iter().map(sx).collect::<Vec<_>>().join(" ")
        ),
        other => format!("<unexpected {other:?}>"),
    }
}

fn parsed_sx(text: &str) -> Result<String, String> {
    let q = moon_cypher::parse(&format!("RETURN {text} AS v")).map_err(|e| e.message)?;
    let Statement::Query(rq) = q.statement else {
        return Err("not a query".into());
    };
    match rq.first.clauses.first() {
        Some(Clause::Return(r)) => Ok(sx(&r.projection.items[0].expr)),
        _ => Err("no RETURN".into()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        run(&s);
    }

    #[test]
    fn token_soup_never_panics(s in token_soup()) {
        run(&s);
        run(&format!("MATCH (n) WHERE {s} RETURN n"));
        run(&format!("RETURN [{s}]"));
    }

    #[test]
    fn generated_expressions_round_trip(g in expr_gen()) {
        // Negation is rendered `(- (x))`, so no `-<int>` literal folding applies.
        prop_assert_eq!(parsed_sx(&g.text), Ok(g.sx.clone()), "text: {}", g.text);
    }
}
