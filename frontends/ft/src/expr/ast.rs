//! The APPLY / FILTER expression tree and the values it evaluates to.

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// Integer remainder (operands truncated to integers, as RediSearch does).
    Mod,
    Pow,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Str(String),
    /// The `NULL` literal.
    Null,
    /// `@name`: a field of the row (name without `@`).
    Prop(String),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A function call; `name` is the registry's (lowercase) name, arity already checked.
    Func {
        name: String,
        args: Vec<Expr>,
    },
}

/// A value in a row or produced by an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Num(f64),
    Str(String),
    /// `split()` / `matched_terms()` results.
    Array(Vec<Value>),
}

impl Value {
    /// RediSearch's `RSValue_BoolTest`: null is false, numbers are true unless 0, strings and
    /// arrays unless empty.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
        }
    }

    /// `RSValue_ToNumber`: numbers as is, strings if they are entirely a number.
    pub fn to_number(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => crate::query::parse::parse_double(s),
            _ => None,
        }
    }

    /// `RSValue_ToString`: numbers with `%.12g`, null as empty, arrays joined by `,`.
    pub fn to_display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Num(n) => crate::cfmt::fmt_g(*n, 12),
            Value::Str(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(Value::to_display)
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    pub fn num(v: bool) -> Value {
        Value::Num(if v { 1.0 } else { 0.0 })
    }
}
