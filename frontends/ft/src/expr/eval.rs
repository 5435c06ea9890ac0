//! Evaluation of an expression over one row (RediSearch's `ExprEval_Eval`).
//!
//! Semantics kept from RediSearch: arithmetic converts both operands with `to_number` and
//! fails if either is not a number ("Could not convert value to a number"); `%` is an
//! integer remainder; comparisons compare numbers numerically, strings bytewise, a number
//! with a string numerically if the string is a number and as strings otherwise, and NULL
//! below everything; `&&` / `||` short-circuit and yield 1 / 0; a missing `@field` is NULL.
//! Recursion is bounded by the parser's tree-height limit.

use super::ast::{BinOp, CmpOp, Expr, Value};
use super::functions;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

/// An evaluation error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub message: String,
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// The row an expression is evaluated against.
pub trait Row {
    /// The value of field `name` (without `@`), if present.
    fn get(&self, name: &str) -> Option<Value>;
    /// The query terms that matched this row (for `matched_terms()`).
    fn matched_terms(&self) -> Vec<String> {
        Vec::new()
    }
}

impl Row for HashMap<String, Value> {
    fn get(&self, name: &str) -> Option<Value> {
        HashMap::get(self, name).cloned()
    }
}

/// Orders two values the way `RSValue_Cmp` does.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Num(x), other) => match other.to_number() {
            Some(y) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            None => a.to_display().as_bytes().cmp(b.to_display().as_bytes()),
        },
        (other, Value::Num(y)) => match other.to_number() {
            Some(x) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
            None => a.to_display().as_bytes().cmp(b.to_display().as_bytes()),
        },
        _ => a.to_display().as_bytes().cmp(b.to_display().as_bytes()),
    }
}

/// Evaluates `e` over `row`.
pub fn eval(e: &Expr, row: &dyn Row) -> Result<Value, EvalError> {
    match e {
        Expr::Num(n) => Ok(Value::Num(*n)),
        Expr::Str(s) => Ok(Value::Str(s.clone())),
        Expr::Null => Ok(Value::Null),
        Expr::Prop(p) => Ok(row.get(p).unwrap_or(Value::Null)),
        Expr::Bin(op, l, r) => {
            let l = eval(l, row)?;
            let r = eval(r, row)?;
            let (Some(a), Some(b)) = (l.to_number(), r.to_number()) else {
                return Err(EvalError::new("Could not convert value to a number"));
            };
            Ok(Value::Num(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => a.powf(b),
                BinOp::Mod => {
                    // Truncating casts, as C's (long long) conversion; x % 0 is NaN here
                    // (undefined in C).
                    let (x, y) = (a as i64, b as i64);
                    x.checked_rem(y).map_or(f64::NAN, |v| v as f64)
                }
            }))
        }
        Expr::Cmp(op, l, r) => {
            let l = eval(l, row)?;
            let r = eval(r, row)?;
            let o = compare(&l, &r);
            Ok(Value::num(match op {
                CmpOp::Eq => o == Ordering::Equal,
                CmpOp::Ne => o != Ordering::Equal,
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                CmpOp::Ge => o != Ordering::Less,
            }))
        }
        Expr::And(l, r) => Ok(Value::num(eval(l, row)?.truthy() && eval(r, row)?.truthy())),
        Expr::Or(l, r) => Ok(Value::num(eval(l, row)?.truthy() || eval(r, row)?.truthy())),
        Expr::Not(x) => Ok(Value::num(!eval(x, row)?.truthy())),
        Expr::Func { name, args } => {
            let vals = args
                .iter()
                .map(|a| eval(a, row))
                .collect::<Result<Vec<_>, _>>()?;
            functions::call(name, &vals, &|| row.matched_terms())
        }
    }
}
