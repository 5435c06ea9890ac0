//! String, math and small list/entity scalar functions (the ones beyond `funcs`' core set).
//!
//! Null in, null out for every function with arguments (openCypher). Integer/float rules
//! follow openCypher: `ceil`/`floor`/`round`/`sqrt`/`exp`/`log*`/trigonometry return floats,
//! `sign` returns an integer. String positions count characters (Unicode scalar values), not
//! bytes, so no slicing can split a UTF-8 sequence.

use super::ExecError;
use super::eval::mismatch;
use super::rvalue::{NULL, ResultValue as RV};
use crate::graph::Graph;
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

/// Names handled here (lowercased).
pub(crate) const NAMES: &[&str] = &[
    "toupper",
    "tolower",
    "trim",
    "ltrim",
    "rtrim",
    "reverse",
    "replace",
    "substring",
    "left",
    "right",
    "split",
    "sqrt",
    "sign",
    "ceil",
    "floor",
    "round",
    "exp",
    "log",
    "log10",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "pi",
    "e",
    "rand",
    "degrees",
    "radians",
    "tail",
    "startnode",
    "endnode",
];

fn arity(name: &str, args: &[RV], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            min.to_string()
        } else {
            format!("{min}..{max}")
        };
        return Err(ExecError::Arity {
            name: name.to_string(),
            got: args.len(),
            want,
        });
    }
    Ok(())
}

fn f(x: f64) -> RV {
    RV::Value(Value::Float(x))
}

fn s(x: String) -> RV {
    RV::Value(Value::str(&x))
}

fn num(v: &RV) -> Result<f64> {
    match v {
        RV::Value(Value::Int(i)) => Ok(*i as f64),
        RV::Value(Value::Float(x)) => Ok(*x),
        other => Err(mismatch("Integer or Float", other)),
    }
}

fn string(v: &RV) -> Result<&str> {
    match v {
        RV::Value(Value::String(x)) => Ok(x),
        other => Err(mismatch("String", other)),
    }
}

fn int_arg(v: &RV) -> Result<i64> {
    match v {
        RV::Value(Value::Int(i)) => Ok(*i),
        other => Err(mismatch("Integer", other)),
    }
}

/// A non-negative character count or position.
fn count_arg(v: &RV) -> Result<usize> {
    let i = int_arg(v)?;
    usize::try_from(i).map_err(|_| ExecError::Invalid(format!("ArgumentError: negative value {i}")))
}

/// Runs `name` (one of [`NAMES`]).
pub(crate) fn call(g: &Graph, name: &str, args: &[RV]) -> Result<RV> {
    match name {
        "pi" => {
            arity(name, args, 0, 0)?;
            return Ok(f(std::f64::consts::PI));
        }
        "e" => {
            arity(name, args, 0, 0)?;
            return Ok(f(std::f64::consts::E));
        }
        "rand" => {
            arity(name, args, 0, 0)?;
            return Ok(f(pseudo_random()));
        }
        "replace" | "substring" | "left" | "right" | "split" | "atan2" | "round" => {}
        _ => arity(name, args, 1, 1)?,
    }
    let (min, max) = match name {
        "replace" => (3, 3),
        "substring" | "round" => (1 + usize::from(name == "substring"), 3),
        "left" | "right" | "split" | "atan2" => (2, 2),
        _ => (1, 1),
    };
    arity(name, args, min, max)?;
    if args.iter().any(RV::is_null) {
        return Ok(NULL);
    }
    let a = args.first().cloned().unwrap_or(NULL);
    let arg = |i: usize| args.get(i).cloned().unwrap_or(NULL);
    Ok(match name {
        "toupper" => s(string(&a)?.to_uppercase()),
        "tolower" => s(string(&a)?.to_lowercase()),
        "trim" => s(string(&a)?.trim().to_string()),
        "ltrim" => s(string(&a)?.trim_start().to_string()),
        "rtrim" => s(string(&a)?.trim_end().to_string()),
        "reverse" => match &a {
            RV::Value(Value::String(x)) => s(x.chars().rev().collect()),
            other => match other.list_items() {
                Some(mut items) => {
                    items.reverse();
                    RV::list(items)
                }
                None => return Err(mismatch("String or List", other)),
            },
        },
        "replace" => {
            let (x, from, to) = (string(&a)?, arg(1), arg(2));
            s(x.replace(string(&from)?, string(&to)?))
        }
        "substring" => {
            let x = string(&a)?;
            let start = count_arg(&arg(1))?;
            let chars = x.chars().skip(start);
            match args.get(2) {
                Some(len) => s(chars.take(count_arg(len)?).collect()),
                None => s(chars.collect()),
            }
        }
        "left" => s(string(&a)?.chars().take(count_arg(&arg(1))?).collect()),
        "right" => {
            let x = string(&a)?;
            let n = count_arg(&arg(1))?;
            let len = x.chars().count();
            s(x.chars().skip(len.saturating_sub(n)).collect())
        }
        "split" => {
            let (x, d) = (string(&a)?, arg(1));
            let d = string(&d)?;
            let parts: Vec<Value> = if d.is_empty() {
                x.chars().map(|c| Value::str(&c.to_string())).collect()
            } else {
                x.split(d).map(Value::str).collect()
            };
            RV::Value(Value::List(parts))
        }
        "sqrt" => f(num(&a)?.sqrt()),
        "sign" => match &a {
            RV::Value(Value::Int(i)) => RV::Value(Value::Int(i.signum())),
            other => {
                let x = num(other)?;
                RV::Value(Value::Int(if x > 0.0 {
                    1
                } else if x < 0.0 {
                    -1
                } else {
                    0
                }))
            }
        },
        "ceil" => f(num(&a)?.ceil()),
        "floor" => f(num(&a)?.floor()),
        // openCypher rounds half up (towards positive infinity); an optional precision.
        "round" => {
            let x = num(&a)?;
            match args.get(1) {
                None => f((x + 0.5).floor()),
                Some(p) => {
                    let p = int_arg(p)?.clamp(0, 15) as i32;
                    let m = 10f64.powi(p);
                    f(((x * m) + 0.5).floor() / m)
                }
            }
        }
        "exp" => f(num(&a)?.exp()),
        "log" => f(num(&a)?.ln()),
        "log10" => f(num(&a)?.log10()),
        "sin" => f(num(&a)?.sin()),
        "cos" => f(num(&a)?.cos()),
        "tan" => f(num(&a)?.tan()),
        "asin" => f(num(&a)?.asin()),
        "acos" => f(num(&a)?.acos()),
        "atan" => f(num(&a)?.atan()),
        "atan2" => f(num(&a)?.atan2(num(&arg(1))?)),
        "degrees" => f(num(&a)?.to_degrees()),
        "radians" => f(num(&a)?.to_radians()),
        "tail" => match a.list_items() {
            Some(items) => RV::list(items.into_iter().skip(1).collect()),
            None => return Err(mismatch("List", &a)),
        },
        "startnode" | "endnode" => match &a {
            RV::Edge(e) => match g.edge(*e) {
                Some(r) => RV::Node(if name == "startnode" { r.src } else { r.dst }),
                None => NULL,
            },
            other => return Err(mismatch("Edge", other)),
        },
        _ => return Err(ExecError::UnknownFunction(name.to_string())),
    })
}

/// A uniform float in [0, 1).
fn pseudo_random() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The next value of a per-thread xorshift generator seeded from the clock and a stack
/// address (no dependency; `rand()` and `randomUUID()` need no cryptographic quality).
pub(crate) fn random_u64() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let local = 0u8;
            (t ^ (std::ptr::addr_of!(local) as usize as u64)) | 1
        });
    }
    STATE.with(|st| {
        let mut x = st.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        st.set(x);
        x
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: Vec<RV>) -> RV {
        call(&Graph::new(), name, &args).unwrap_or(RV::Value(Value::str("ERR")))
    }

    fn v(x: Value) -> RV {
        RV::Value(x)
    }

    fn is(r: RV, want: Value) -> bool {
        matches!(r, RV::Value(x) if x == want)
    }

    #[test]
    fn strings() {
        let st = |x: &str| v(Value::str(x));
        assert!(is(run("toupper", vec![st("aé")]), Value::str("AÉ")));
        assert!(is(
            run(
                "substring",
                vec![st("héllo"), v(Value::Int(1)), v(Value::Int(3))]
            ),
            Value::str("éll")
        ));
        assert!(is(
            run("substring", vec![st("abc"), v(Value::Int(5))]),
            Value::str("")
        ));
        assert!(is(
            run("left", vec![st("abc"), v(Value::Int(2))]),
            Value::str("ab")
        ));
        assert!(is(
            run("right", vec![st("abc"), v(Value::Int(2))]),
            Value::str("bc")
        ));
        assert!(is(
            run("replace", vec![st("aXbX"), st("X"), st("-")]),
            Value::str("a-b-")
        ));
        assert!(is(
            run("split", vec![st("a,b"), st(",")]),
            Value::List(vec![Value::str("a"), Value::str("b")])
        ));
        assert!(is(run("reverse", vec![st("abc")]), Value::str("cba")));
        assert!(is(run("trim", vec![st("  x ")]), Value::str("x")));
        assert!(is(run("toupper", vec![v(Value::Null)]), Value::Null));
        assert!(call(&Graph::new(), "toupper", &[v(Value::Int(1))]).is_err());
        assert!(call(&Graph::new(), "substring", &[st("a"), v(Value::Int(-1))]).is_err());
    }

    #[test]
    fn math() {
        assert!(is(run("sqrt", vec![v(Value::Int(16))]), Value::Float(4.0)));
        assert!(is(run("sign", vec![v(Value::Float(-2.5))]), Value::Int(-1)));
        assert!(is(
            run("ceil", vec![v(Value::Float(1.1))]),
            Value::Float(2.0)
        ));
        assert!(is(
            run("floor", vec![v(Value::Float(-1.1))]),
            Value::Float(-2.0)
        ));
        assert!(is(
            run("round", vec![v(Value::Float(2.5))]),
            Value::Float(3.0)
        ));
        assert!(is(
            run("round", vec![v(Value::Float(-2.5))]),
            Value::Float(-2.0)
        ));
        let r = run("rand", vec![]);
        assert!(matches!(r, RV::Value(Value::Float(x)) if (0.0..1.0).contains(&x)));
        assert!(call(&Graph::new(), "pi", &[v(Value::Int(1))]).is_err());
    }
}
