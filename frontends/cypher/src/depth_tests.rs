//! Nesting-depth guarantees: deep but legal nesting parses quickly; nesting
//! past the limits fails with `NestingTooDeep`, never a stack overflow.

use crate::error::ErrorDetail;
use crate::limits::{MAX_EXPR_DEPTH, MAX_NESTING_DEPTH};

fn nested(open: &str, close: &str, n: usize) -> String {
    format!("RETURN {}1{}", open.repeat(n), close.repeat(n))
}

/// Run on a 2 MiB thread (the default for spawned threads) to prove the
/// recursion fits a small stack, not just the main thread's.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn forty_deep_lists_and_parens_parse() {
    on_small_stack(|| {
        for (o, c) in [
            ("[", "]"),
            ("(", ")"),
            ("{a: ", "}"),
            ("({a: ", "})"),
            ("[x IN [", "] | x]"),
        ] {
            let q = nested(o, c, 40);
            assert!(
                crate::compile(&q).is_ok(),
                "{o}: {:?}",
                crate::compile(&q).err()
            );
        }
    });
}

#[test]
fn nesting_at_the_limit_parses_and_past_it_fails_cleanly() {
    on_small_stack(|| {
        for (o, c) in [("[", "]"), ("(", ")"), ("({a: ", "})")] {
            let at_limit = nested(o, c, MAX_NESTING_DEPTH / o.matches(['(', '[', '{']).count());
            assert!(
                crate::compile(&at_limit).is_ok(),
                "{o} at limit: {:?}",
                crate::compile(&at_limit).err()
            );
            let e = crate::parse(&nested(o, c, 200)).unwrap_err();
            assert_eq!(e.detail, ErrorDetail::NestingTooDeep);
        }
        let e = crate::parse(&nested("CASE WHEN true THEN ", " END", 200)).unwrap_err();
        assert_eq!(e.detail, ErrorDetail::NestingTooDeep);
        // Brackets inside strings and comments do not count.
        let q = format!(
            "RETURN '{}' /* {} */ AS s",
            "(".repeat(500),
            "[".repeat(500)
        );
        assert!(crate::compile(&q).is_ok());
    });
}

#[test]
fn long_operator_chains_are_bounded() {
    on_small_stack(|| {
        let ors = (0..5_000)
            .map(|i| format!("n.x = {i}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert!(crate::compile(&format!("MATCH (n) WHERE {ors} RETURN n")).is_ok());
        let sum = vec!["1"; MAX_EXPR_DEPTH * 2].join(" + ");
        let e = crate::parse(&format!("RETURN {sum}")).unwrap_err();
        assert_eq!(e.detail, ErrorDetail::NestingTooDeep);
        let sum = vec!["1"; 200].join(" + ");
        assert!(crate::compile(&format!("RETURN {sum}")).is_ok());
    });
}

/// Prints timings (including the backtracking bomb); run with `cargo test -p moon-cypher -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_nesting_timings() {
    for n in [10, 20, 40, 80, MAX_NESTING_DEPTH] {
        for (o, c) in [("[", "]"), ("(", ")")] {
            let q = nested(o, c, n);
            let t = std::time::Instant::now();
            let ok = crate::compile(&q).is_ok();
            println!("{o}x{n}: {:?} ok={ok}", t.elapsed());
        }
    }
    for levels in [10, 20, 30] {
        for (name, q) in [
            ("pattern", backtracking_bomb(levels)),
            ("projection", projection_bomb(levels)),
        ] {
            let t = std::time::Instant::now();
            let r = crate::parse(&q).map(|_| ()).map_err(|e| e.detail);
            println!("{name} bomb x{levels}: {:?} {r:?}", t.elapsed());
        }
    }
}

/// Shapes that make a naive PEG exponential: a pattern predicate
/// `(a)-[r {k: ...}]-x` that fails at `x` and is re-parsed as arithmetic, and
/// `(a {k: ...})` parsed as map projection then as node properties. The
/// grammar commits instead, so these fail fast (and the call limit is only a
/// backstop).
fn backtracking_bomb(levels: usize) -> String {
    let mut inner = "1".to_string();
    for _ in 0..levels {
        inner = format!("(a)-[r {{k: {inner}}}]-x");
    }
    format!("WITH 1 AS a, 2 AS r, 3 AS x RETURN {inner} AS v")
}

fn projection_bomb(levels: usize) -> String {
    let mut inner = "1 x".to_string();
    for _ in 0..levels {
        inner = format!("(a {{k: {inner}}})");
    }
    format!("RETURN {inner}")
}

#[test]
fn backtracking_bombs_fail_fast() {
    for levels in [3, 30] {
        let e = crate::parse(&backtracking_bomb(levels)).unwrap_err();
        assert_eq!(e.detail, ErrorDetail::UnexpectedSyntax, "{}", e.message);
        let e = crate::parse(&projection_bomb(levels)).unwrap_err();
        assert_eq!(e.detail, ErrorDetail::UnexpectedSyntax, "{}", e.message);
    }
}

#[test]
fn large_flat_queries_stay_under_the_call_limit() {
    let list = (0..50_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(crate::compile(&format!("UNWIND [{list}] AS x RETURN x")).is_ok());
    let props = (0..20_000)
        .map(|i| format!("p{i}: 'v{i}'"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(crate::compile(&format!("CREATE (:L {{{props}}})")).is_ok());
}

#[test]
fn dash_bracket_is_never_arithmetic() {
    // `(a)-[..]-(b)` is a pattern; `a - [..]` is rejected rather than
    // backtracked into (see `add_op` in cypher.pest).
    assert!(crate::parse("MATCH (a) WHERE (a)-[:T]-() RETURN a").is_ok());
    assert!(crate::parse("RETURN 1 - [1][0]").is_err());
    assert!(crate::parse("RETURN 1 - ([1][0])").is_ok());
}
