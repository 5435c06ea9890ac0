//! Unit tests of expression parsing: literals, precedence, comprehensions,
//! calls, CASE, map projections, pattern predicates.

use crate::ast::*;
use crate::error::ErrorDetail;
use crate::test_util::{ret, sx_of};

fn parse_err(q: &str) -> ErrorDetail {
    crate::parse(q)
        .map(|_| ())
        .err()
        .map(|e| e.detail)
        .unwrap_or_else(|| panic!("{q} parsed"))
}

#[test]
fn literals() {
    assert_eq!(sx_of("1"), "1");
    assert_eq!(sx_of("0x1F"), "31");
    assert_eq!(sx_of("0o17"), "15");
    assert_eq!(sx_of("-9223372036854775808"), "-9223372036854775808");
    assert_eq!(sx_of("1.5"), "1.5");
    assert_eq!(sx_of(".5"), "0.5");
    assert_eq!(sx_of("1e10"), "10000000000.0");
    assert_eq!(sx_of("1.5E-3"), "0.0015");
    assert_eq!(sx_of("'it\\'s'"), "\"it's\"");
    assert_eq!(sx_of("\"a\\\\b\\n\""), "\"a\\\\b\\n\"");
    assert_eq!(sx_of("'\\u0041'"), "\"A\"");
    assert_eq!(sx_of("TRUE"), "true");
    assert_eq!(sx_of("Null"), "null");
    assert_eq!(sx_of("[1, 'a', [null]]"), "[1 \"a\" [null]]");
    assert_eq!(sx_of("{a: 1, `b c`: 2}"), "{a:1 b c:2}");
    assert_eq!(sx_of("$name"), "$name");
    assert_eq!(sx_of("$0"), "$0");
}

#[test]
fn literal_errors() {
    assert_eq!(
        parse_err("RETURN 9223372036854775808"),
        ErrorDetail::IntegerOverflow
    );
    assert_eq!(
        parse_err("RETURN 1e400"),
        ErrorDetail::FloatingPointOverflow
    );
    assert_eq!(parse_err("RETURN 0x1G"), ErrorDetail::InvalidNumberLiteral);
    assert_eq!(
        parse_err("RETURN '\\uZZ'"),
        ErrorDetail::InvalidUnicodeLiteral
    );
}

#[test]
fn arithmetic_precedence() {
    assert_eq!(sx_of("1 + 2 * 3"), "(Add 1 (Mul 2 3))");
    assert_eq!(sx_of("(1 + 2) * 3"), "(Mul (Add 1 2) 3)");
    assert_eq!(sx_of("1 - 2 - 3"), "(Sub (Sub 1 2) 3)");
    assert_eq!(sx_of("2 ^ 3 ^ 2"), "(Pow (Pow 2 3) 2)");
    assert_eq!(sx_of("-a ^ 2"), "(Pow (Minus a) 2)");
    assert_eq!(sx_of("- -1"), "(Minus -1)");
    assert_eq!(sx_of("+a % b / c"), "(Div (Mod (Plus a) b) c)");
}

#[test]
fn boolean_and_predicate_precedence() {
    assert_eq!(
        sx_of("a OR b XOR c AND NOT d"),
        "(Or a (Xor b (And c (Not d))))"
    );
    assert_eq!(sx_of("NOT a = b"), "(Not (Eq a b))");
    assert_eq!(
        sx_of("a IS NULL = b IS NOT NULL"),
        "(Eq (IsNull a) (IsNotNull b))"
    );
    assert_eq!(sx_of("1 + 2 IN [3]"), "(In (Add 1 2) [3])");
    assert_eq!(
        sx_of("a STARTS WITH 'x' AND b ENDS WITH 'y'"),
        "(And (StartsWith a \"x\") (EndsWith b \"y\"))"
    );
    assert_eq!(sx_of("a CONTAINS b"), "(Contains a b)");
    assert_eq!(sx_of("a =~ 'x.*'"), "(Regex a \"x.*\")");
    assert_eq!(sx_of("a <> b"), "(Ne a b)");
}

#[test]
fn chained_comparison_desugars_to_and() {
    assert_eq!(sx_of("a < b <= c"), "(And (Lt a b) (Le b c))");
    assert_eq!(
        sx_of("1 < 2 < 3 > 0"),
        "(And (Lt 1 2) (And (Lt 2 3) (Gt 3 0)))"
    );
}

#[test]
fn long_or_chain_is_balanced() {
    let q = (0..64)
        .map(|i| format!("x = {i}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let e = ret(&q);
    fn depth(e: &Expr) -> usize {
        1 + crate::visit::children(e)
            .iter()
            .map(|c| depth(c))
            .max()
            .unwrap_or(0)
    }
    assert!(depth(&e) <= 9, "depth {}", depth(&e));
}

#[test]
fn postfix_access() {
    assert_eq!(sx_of("a.b.c"), "(. (. a b) c)");
    assert_eq!(sx_of("l[0]"), "(idx l 0)");
    assert_eq!(sx_of("l[1..3]"), "(slice l 1 3)");
    assert_eq!(sx_of("l[..2]"), "(slice l _ 2)");
    assert_eq!(sx_of("l[1..]"), "(slice l 1 _)");
    assert_eq!(sx_of("n:A:B"), "(labels n A:B)");
    assert_eq!(sx_of("m['k'].x"), "(. (idx m \"k\") x)");
}

#[test]
fn function_calls() {
    assert_eq!(sx_of("count(*)"), "(count *)");
    assert_eq!(sx_of("count(DISTINCT x)"), "(count distinct x)");
    assert_eq!(
        sx_of("vec.cosineDistance(a, b)"),
        "(vec.cosineDistance a b)"
    );
    assert_eq!(sx_of("toUpper('a')"), "(toUpper \"a\")");
}

#[test]
fn comprehensions_and_quantifiers() {
    let ExprKind::ListComprehension {
        variable,
        predicate,
        projection,
        ..
    } = ret("[x IN l WHERE x > 1 | x * 2]").kind
    else {
        panic!("not a comprehension")
    };
    assert_eq!(variable.name, "x");
    assert!(predicate.is_some() && projection.is_some());
    assert!(matches!(
        ret("[x IN l]").kind,
        ExprKind::ListComprehension {
            predicate: None,
            projection: None,
            ..
        }
    ));
    assert!(matches!(ret("[1 IN l]").kind, ExprKind::List(_)));
    let ExprKind::PatternComprehension {
        path_variable,
        pattern,
        ..
    } = ret("[p = (a)-->(b:B) WHERE b.x | p]").kind
    else {
        panic!("not a pattern comprehension")
    };
    assert_eq!(path_variable.map(|p| p.name), Some("p".to_string()));
    assert_eq!(pattern.chain.len(), 1);
    assert!(matches!(
        ret("all(x IN l WHERE x > 0)").kind,
        ExprKind::Quantifier {
            kind: QuantifierKind::All,
            ..
        }
    ));
    assert!(matches!(
        ret("single(x IN l WHERE x)").kind,
        ExprKind::Quantifier {
            kind: QuantifierKind::Single,
            ..
        }
    ));
    let ExprKind::Reduce {
        accumulator,
        variable,
        ..
    } = ret("reduce(acc = 0, x IN l | acc + x)").kind
    else {
        panic!("not reduce")
    };
    assert_eq!(
        (accumulator.name.as_str(), variable.name.as_str()),
        ("acc", "x")
    );
}

#[test]
fn case_forms() {
    let ExprKind::Case {
        operand,
        alternatives,
        default,
    } = ret("CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END").kind
    else {
        panic!("not case")
    };
    assert!(operand.is_some());
    assert_eq!(alternatives.len(), 2);
    assert!(default.is_some());
    let ExprKind::Case {
        operand,
        alternatives,
        default,
    } = ret("case when a then 1 end").kind
    else {
        panic!("not case")
    };
    assert!(operand.is_none() && default.is_none());
    assert_eq!(alternatives.len(), 1);
}

#[test]
fn map_projection() {
    let ExprKind::MapProjection { variable, items } = ret("n {.name, .*, k: 1, v}").kind else {
        panic!("not a projection")
    };
    assert_eq!(variable.name, "n");
    assert!(matches!(items[0], MapProjectionItem::Property(_)));
    assert!(matches!(items[1], MapProjectionItem::AllProperties));
    assert!(matches!(items[2], MapProjectionItem::Entry(..)));
    assert!(matches!(items[3], MapProjectionItem::Variable(_)));
}

#[test]
fn pattern_predicates_vs_parentheses() {
    let q = crate::parse("MATCH (a) WHERE (a)-[:T]->(:B {x: 1}) AND (a) RETURN a").unwrap();
    let Statement::Query(rq) = &q.statement else {
        panic!()
    };
    let Clause::Match(m) = &rq.first.clauses[0] else {
        panic!()
    };
    let Some(Expr {
        kind: ExprKind::Binary(BinaryOp::And, l, r),
        ..
    }) = &m.where_
    else {
        panic!()
    };
    let ExprKind::Pattern(p) = &l.kind else {
        panic!("left is not a pattern")
    };
    assert_eq!(
        p.start.variable.as_ref().map(|v| v.name.as_str()),
        Some("a")
    );
    assert_eq!(p.chain[0].1.labels[0].name, "B");
    assert!(matches!(r.kind, ExprKind::Variable(_)));
    assert_eq!(sx_of("(1) - (2)"), "(Sub 1 2)");
    let ExprKind::Pattern(p) = ret("(a:L {k: 1})<--()").kind else {
        panic!()
    };
    assert_eq!(p.start.labels.len(), 1);
    assert!(p.start.properties.is_some());
}

#[test]
fn comments_backticks_and_case_insensitive_keywords() {
    let q = crate::parse(
        "match (`my var`:`La``bel`) // c\n /* block */ where `my var`.x = 1 return `my var`",
    )
    .unwrap();
    let Statement::Query(rq) = &q.statement else {
        panic!()
    };
    let Clause::Match(m) = &rq.first.clauses[0] else {
        panic!()
    };
    let node = &m.pattern.parts[0].element.start;
    assert_eq!(node.variable.as_ref().unwrap().name, "my var");
    assert_eq!(node.labels[0].name, "La`bel");
}

#[test]
fn spans_point_into_the_text() {
    let text = "RETURN a.b + 10";
    let e = crate::test_util::first_return_item(&crate::parse(text).unwrap());
    assert_eq!(&text[e.span.start..e.span.end], "a.b + 10");
    let ExprKind::Binary(_, l, r) = &e.kind else {
        panic!()
    };
    assert_eq!(&text[l.span.start..l.span.end], "a.b");
    assert_eq!(&text[r.span.start..r.span.end], "10");
}
