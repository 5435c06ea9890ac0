//! Fuzzes moon-ft's APPLY / FILTER expression parser and evaluator.
//!
//! Checks, beyond "never panics": parsing is deterministic, and evaluation over a fixed row
//! (numbers, strings, a timestamp, a geo point, a missing field) is deterministic too
//! (NaN-aware).

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_ft::{Value, eval, parse_expr};
use std::collections::HashMap;

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut row: HashMap<String, Value> = HashMap::new();
    row.insert("n".into(), Value::Num(42.5));
    row.insert("s".into(), Value::Str("Hello, World".into()));
    row.insert("t".into(), Value::Num(1_700_000_000.0));
    row.insert("g".into(), Value::Str("2.35,48.85".into()));
    row.insert("num_str".into(), Value::Str("7".into()));

    let parsed = parse_expr(data);
    assert_eq!(parsed, parse_expr(data), "parsing is deterministic");
    if let Ok(e) = parsed {
        match (eval(&e, &row), eval(&e, &row)) {
            (Ok(a), Ok(b)) => {
                assert!(same(&a, &b), "evaluation is deterministic");
                let _ = a.to_display();
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("evaluation is deterministic"),
        }
    }
});
