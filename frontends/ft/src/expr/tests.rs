//! Tests of the expression parser, evaluator and functions.

use super::ast::{Expr, Value};
use super::eval::{Row, eval};
use super::functions::{civil_from_days, days_from_civil, strftime, strptime};
use super::parse::parse_expr;
use proptest::prelude::*;
use std::collections::HashMap;

fn row() -> HashMap<String, Value> {
    let mut r = HashMap::new();
    r.insert("price".into(), Value::Num(10.0));
    r.insert("qty".into(), Value::Str("3".into()));
    r.insert("name".into(), Value::Str("Hello World".into()));
    r.insert("ts".into(), Value::Num(1_700_000_000.0)); // 2023-11-14T22:13:20Z
    r.insert("loc".into(), Value::Str("-0.1278,51.5074".into()));
    r
}

fn ev(s: &str) -> Value {
    let e = parse_expr(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    eval(&e, &row()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn num(s: &str) -> f64 {
    match ev(s) {
        Value::Num(n) => n,
        v => panic!("{s:?} gave {v:?}"),
    }
}

fn st(s: &str) -> String {
    match ev(s) {
        Value::Str(x) => x,
        v => panic!("{s:?} gave {v:?}"),
    }
}

fn perr(s: &str) -> String {
    parse_expr(s.as_bytes()).unwrap_err().message
}

fn everr(s: &str) -> String {
    eval(&parse_expr(s.as_bytes()).unwrap(), &row())
        .unwrap_err()
        .message
}

#[test]
fn arithmetic_and_precedence() {
    assert_eq!(num("1 + 2 * 3"), 7.0);
    assert_eq!(num("(1 + 2) * 3"), 9.0);
    assert_eq!(num("2 ^ 3 ^ 2"), 512.0);
    assert_eq!(num("@price * @qty"), 30.0);
    assert_eq!(num("@price-1"), 9.0);
    assert_eq!(num("-@price + 1"), -9.0);
    assert_eq!(num("7 % 3"), 1.0);
    assert_eq!(num("7.9 % 3.9"), 1.0);
    assert_eq!(num("-7 % 3"), -1.0);
    assert!(num("1 % 0").is_nan());
    assert_eq!(num("1 / 0"), f64::INFINITY);
    assert_eq!(num("-inf"), f64::NEG_INFINITY);
    assert_eq!(num("1e3 + 0.5"), 1000.5);
}

#[test]
fn comparisons_and_logic() {
    assert_eq!(num("@price > 5 && @price < 20"), 1.0);
    assert_eq!(num("@price == 10 || 0"), 1.0);
    assert_eq!(num("!(@price == 10)"), 0.0);
    assert_eq!(num("!@price == 10"), 0.0);
    assert_eq!(num("@qty == 3"), 1.0, "numeric string compares numerically");
    assert_eq!(num("@name == 'Hello World'"), 1.0);
    assert_eq!(num("\"abc\" < \"abd\""), 1.0);
    assert_eq!(num("@missing == NULL"), 1.0);
    assert_eq!(num("@missing < 0"), 1.0, "NULL sorts first");
    assert_eq!(num("@name != 5"), 1.0);
    // RediSearch folds `!!x` to `x` (not to a boolean).
    assert_eq!(num("!!@price"), 10.0);
}

#[test]
fn string_functions() {
    assert_eq!(st("lower(@name)"), "hello world");
    assert_eq!(st("UPPER(@name)"), "HELLO WORLD");
    assert_eq!(ev("upper(5)"), Value::Null);
    assert_eq!(st("substr(@name, 0, 5)"), "Hello");
    assert_eq!(st("substr(@name, -5, -1)"), "Worl");
    assert_eq!(st("substr(@name, 6, 100)"), "World");
    assert_eq!(st("substr(@name, 6, 1e300)"), "World");
    assert_eq!(st("substr(@name, -1e300, 2)"), "He");
    assert_eq!(
        st("format('%s costs %s%%', @name, @price)"),
        "Hello World costs 10%"
    );
    assert_eq!(st("format('%s', NULL)"), "(null)");
    assert_eq!(
        ev("split(' a, b ,,c ')"),
        Value::Array(vec![
            Value::Str("a".into()),
            Value::Str("b".into()),
            Value::Str("c".into())
        ])
    );
    assert_eq!(num("strlen(@name)"), 11.0);
    assert_eq!(num("startswith(@name, 'Hell')"), 1.0);
    assert_eq!(num("contains('aaa', 'aa')"), 2.0);
    assert_eq!(num("contains('abc', '')"), 4.0);
    assert_eq!(num("exists(@name)"), 1.0);
    assert_eq!(num("exists(@nope)"), 0.0);
    assert_eq!(num("to_number('2.5') * 2"), 5.0);
    assert_eq!(st("to_str(0.1 + 0.2)"), "0.3");
    assert_eq!(ev("matched_terms()"), Value::Null);
}

#[test]
fn matched_terms_from_row() {
    struct R;
    impl Row for R {
        fn get(&self, _: &str) -> Option<Value> {
            None
        }
        fn matched_terms(&self) -> Vec<String> {
            vec!["a".into(), "b".into()]
        }
    }
    let e = parse_expr(b"matched_terms(1)").unwrap();
    assert_eq!(
        eval(&e, &R).unwrap(),
        Value::Array(vec![Value::Str("a".into())])
    );
}

#[test]
fn math_functions() {
    assert_eq!(num("abs(-2)"), 2.0);
    assert_eq!(num("ceil(1.2)"), 2.0);
    assert_eq!(num("floor(1.8)"), 1.0);
    assert_eq!(num("sqrt(16)"), 4.0);
    assert_eq!(num("log2(8)"), 3.0);
    assert!((num("log(exp(2))") - 2.0).abs() < 1e-12);
    assert_eq!(ev("sqrt('x')"), Value::Null);
}

#[test]
fn date_functions() {
    assert_eq!(st("timefmt(@ts)"), "2023-11-14T22:13:20Z");
    assert_eq!(st("timefmt(@ts, '%Y/%m/%d %H:%M')"), "2023/11/14 22:13");
    assert_eq!(
        num("parsetime('2023-11-14T22:13:20Z', '%FT%TZ')"),
        1_700_000_000.0
    );
    assert_eq!(num("day(@ts)"), 1_699_920_000.0);
    assert_eq!(num("hour(@ts)"), 1_699_999_200.0);
    assert_eq!(num("minute(@ts)"), 1_699_999_980.0);
    assert_eq!(num("month(@ts)"), 1_698_796_800.0);
    assert_eq!(num("dayofweek(@ts)"), 2.0);
    assert_eq!(num("dayofmonth(@ts)"), 14.0);
    assert_eq!(num("dayofyear(@ts)"), 317.0);
    assert_eq!(num("year(@ts)"), 2023.0);
    assert_eq!(num("monthofyear(@ts)"), 10.0);
    assert_eq!(ev("year('x')"), Value::Null);
    assert_eq!(ev("day(-1e300)"), Value::Null);
    assert_eq!(ev("month(9e18)"), Value::Null);
    assert_eq!(ev("timefmt(-inf)"), Value::Null);
    assert!(num("year(-1e15)") < -31_000_000.0);
    assert_eq!(ev("parsetime('nope', '%Y')"), Value::Null);
}

#[test]
fn geodistance_in_meters() {
    // London to Paris ≈ 343.5 km.
    let d = num("geodistance(@loc, '2.3522,48.8566')");
    assert!((d - 343_500.0).abs() < 2_000.0, "{d}");
    assert_eq!(num("geodistance(0, 0, 0, 0)"), 0.0);
    assert_eq!(ev("geodistance('x', 'y')"), Value::Null);
}

#[test]
fn parse_errors_use_redisearch_texts() {
    assert_eq!(perr("foo(1)"), "Unknown function name 'foo'");
    assert_eq!(
        perr("lower(1, 2)"),
        "Function 'lower' expects 1 arguments, but got 2"
    );
    assert_eq!(
        perr("split()"),
        "Function 'split' expects between 1 and 3 arguments, but got 0"
    );
    assert_eq!(perr("bar"), "Unknown symbol 'bar'");
    assert_eq!(perr("1 +"), "Syntax error at offset 2 near '1'");
    assert_eq!(perr("(1"), "Syntax error at offset 1 near '1'");
    assert_eq!(perr("1 < 2 < 3"), "Syntax error at offset 6 near '2'");
    assert_eq!(perr(""), "Syntax error at offset 0 near ''");
    assert_eq!(perr("@a @b"), "Syntax error at offset 3 near 'b'");
    assert!(matches!(parse_expr(b"NULL").unwrap(), Expr::Null));
}

#[test]
fn eval_errors() {
    assert_eq!(everr("@name + 1"), "Could not convert value to a number");
    assert_eq!(
        everr("to_number('abc')"),
        "to_number: cannot convert string 'abc'"
    );
    assert_eq!(everr("format('%d', 1)"), "Unknown format specifier passed");
    assert_eq!(everr("format('%s')"), "Not enough arguments for format");
    assert_eq!(everr("format('%')"), "Bad format string!");
    assert_eq!(
        everr("substr(5, 0, 1)"),
        "Invalid type for substr. Expected string"
    );
    assert_eq!(
        everr("strlen(5)"),
        "Invalid type for argument 0 in function 'strlen'"
    );
}

#[test]
fn deep_expressions_are_rejected_not_overflowing() {
    let long_chain = vec!["@a"; 5000].join("+");
    assert!(parse_expr(long_chain.as_bytes()).is_err());
    let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
    assert!(parse_expr(deep.as_bytes()).is_err());
    let nots = "!".repeat(10_000) + "1";
    assert!(parse_expr(nots.as_bytes()).is_err());
    let ok = vec!["@a"; 100].join("+");
    assert!(parse_expr(ok.as_bytes()).is_ok());
}

#[test]
fn calendar_round_trip() {
    for z in [-800_000i64, -1, 0, 1, 59, 365, 11_016, 19_675, 2_932_896] {
        let (y, m, d) = civil_from_days(z);
        assert_eq!(days_from_civil(y, m, d), z);
    }
    assert_eq!(
        strftime(0, "%a %A %b %B %j %u %w %y %e %I%p %s"),
        "Thu Thursday Jan January 001 4 4 70  1 12AM 0"
    );
    assert_eq!(strptime("14 Nov 2023", "%d %b %Y"), Some(1_699_920_000));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..48)) {
        if let Ok(e) = parse_expr(&bytes) {
            let _ = eval(&e, &row());
        }
    }

    #[test]
    fn expression_like_strings_never_panic(parts in prop::collection::vec(prop::sample::select(vec![
        "@price", "@name", "@ts", "1", "-2.5", "'s'", "+", "-", "*", "/", "%", "^", "(", ")", ",",
        "==", "!=", "<", ">=", "&&", "||", "!", "lower(", "substr(", "format(", "split(",
        "timefmt(", "geodistance(", "NULL", "inf", " "]), 0..16)) {
        let s = parts.concat();
        if let Ok(e) = parse_expr(s.as_bytes()) {
            let _ = eval(&e, &row());
        }
    }

    #[test]
    fn numeric_functions_accept_any_number(x in any::<f64>(), y in any::<f64>()) {
        let mut r = HashMap::new();
        r.insert("x".to_string(), Value::Num(x));
        r.insert("y".to_string(), Value::Num(y));
        r.insert("s".to_string(), Value::Str("abcdef".into()));
        for f in ["day(@x)", "hour(@x)", "minute(@x)", "month(@x)", "dayofweek(@x)",
                  "dayofmonth(@x)", "dayofyear(@x)", "year(@x)", "monthofyear(@x)",
                  "timefmt(@x)", "substr(@s, @x, @y)", "@x % @y", "@x ^ @y", "@x / @y",
                  "geodistance(@x, @y, @y, @x)", "to_str(@x)", "@x < @s"] {
            let e = parse_expr(f.as_bytes()).unwrap();
            let _ = eval(&e, &r);
        }
    }

    #[test]
    fn timefmt_parsetime_round_trip(t in -10_000_000_000i64..10_000_000_000i64) {
        let s = strftime(t, "%FT%TZ");
        prop_assert_eq!(strptime(&s, "%FT%TZ"), Some(t));
    }

    #[test]
    fn integer_arithmetic_matches_rust(a in -1000i64..1000, b in 1i64..1000) {
        let s = format!("{a} + {b} * 2 - {a} % {b}");
        let got = num(&s);
        prop_assert_eq!(got, (a + b * 2 - a % b) as f64);
    }
}
