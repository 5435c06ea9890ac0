//! FalkorDB extensions and the remaining openCypher scalar functions: the `*OrNull`
//! conversions, `typeOf`, `isEmpty`, `pow`/`cot`/`haversin`, `string.join`, `list.dedup`,
//! `list.sort`, `hasLabels`, `inDegree`/`outDegree`, `timestamp`, `randomUUID`, and the vector
//! functions `vecf32`, `vec.euclideanDistance`, `vec.cosineDistance`.
//!
//! Vectors are `Value::VecF32`; the distance functions also accept plain numeric lists, and
//! require equal dimensions (a mismatch is an error, never a silent truncation).

use super::eval::{mismatch, type_name};
use super::rvalue::{Grouped, NULL, ResultValue as RV};
use super::{ExecError, funcs};
use crate::graph::Graph;
use crate::ids::Direction;
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

/// Names handled here (lowercased).
pub(crate) const NAMES: &[&str] = &[
    "tostringornull",
    "tointegerornull",
    "tofloatornull",
    "tobooleanornull",
    "typeof",
    "isempty",
    "pow",
    "cot",
    "haversin",
    "string.join",
    "list.dedup",
    "list.sort",
    "haslabels",
    "indegree",
    "outdegree",
    "timestamp",
    "randomuuid",
    "vecf32",
    "vec.euclideandistance",
    "vec.cosinedistance",
];

fn arity(name: &str, args: &[RV], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        return Err(ExecError::Arity {
            name: name.to_string(),
            got: args.len(),
            want: if min == max {
                min.to_string()
            } else {
                format!("{min}..{max}")
            },
        });
    }
    Ok(())
}

fn f(x: f64) -> RV {
    RV::Value(Value::Float(x))
}

fn num(v: &RV) -> Result<f64> {
    match v {
        RV::Value(Value::Int(i)) => Ok(*i as f64),
        RV::Value(Value::Float(x)) => Ok(*x),
        other => Err(mismatch("Integer or Float", other)),
    }
}

/// A vector argument: `vecf32(..)` or a list of numbers.
fn vector(v: &RV) -> Result<Vec<f32>> {
    match v {
        RV::Value(Value::VecF32(x)) => Ok(x.to_vec()),
        other => match other.list_items() {
            Some(items) => items.iter().map(|x| num(x).map(|n| n as f32)).collect(),
            None => Err(mismatch("Vectorf32", other)),
        },
    }
}

/// Runs `name` (one of [`NAMES`]).
pub(crate) fn call(g: &Graph, name: &str, args: Vec<RV>) -> Result<RV> {
    let (min, max) = match name {
        "timestamp" | "randomuuid" => (0, 0),
        "pow" | "haslabels" => (2, 2),
        "string.join" | "list.sort" => (1, 2),
        "indegree" | "outdegree" => (1, usize::MAX),
        "vec.euclideandistance" | "vec.cosinedistance" => (2, 2),
        _ => (1, 1),
    };
    arity(name, &args, min, max)?;
    match name {
        "timestamp" => {
            let ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            return Ok(RV::Value(Value::Int(i64::try_from(ms).unwrap_or(i64::MAX))));
        }
        "randomuuid" => return Ok(RV::Value(Value::str(&random_uuid()))),
        "typeof" => {
            let a = args.into_iter().next().unwrap_or(NULL);
            return Ok(RV::Value(Value::str(type_name(&a))));
        }
        "tostringornull" | "tointegerornull" | "tofloatornull" | "tobooleanornull" => {
            let base = name.trim_end_matches("ornull");
            return Ok(funcs::call(g, base, args).unwrap_or(NULL));
        }
        _ => {}
    }
    if args.first().is_some_and(RV::is_null) {
        return Ok(NULL);
    }
    let a = args.first().cloned().unwrap_or(NULL);
    let arg = |i: usize| args.get(i).cloned().unwrap_or(NULL);
    Ok(match name {
        "isempty" => RV::Value(Value::Bool(match &a {
            RV::Value(Value::String(s)) => s.is_empty(),
            other => match (other.list_items(), other.map_entries()) {
                (Some(l), _) => l.is_empty(),
                (_, Some(m)) => m.is_empty(),
                _ => return Err(mismatch("List, Map or String", other)),
            },
        })),
        "pow" => {
            let b = arg(1);
            if b.is_null() {
                return Ok(NULL);
            }
            f(num(&a)?.powf(num(&b)?))
        }
        "cot" => f(1.0 / num(&a)?.tan()),
        "haversin" => f((1.0 - num(&a)?.cos()) / 2.0),
        "string.join" => {
            let items = a.list_items().ok_or_else(|| mismatch("List", &a))?;
            let sep = match args.get(1) {
                Some(RV::Value(Value::String(s))) => s.to_string(),
                Some(other) if !other.is_null() => return Err(mismatch("String", other)),
                _ => String::new(),
            };
            let mut parts = Vec::with_capacity(items.len());
            for it in &items {
                match it {
                    RV::Value(Value::String(s)) => parts.push(s.to_string()),
                    other => return Err(mismatch("String", other)),
                }
            }
            RV::Value(Value::str(&parts.join(&sep)))
        }
        "list.dedup" => {
            let items = a.list_items().ok_or_else(|| mismatch("List", &a))?;
            let mut seen = std::collections::HashSet::new();
            RV::list(
                items
                    .into_iter()
                    .filter(|x| seen.insert(Grouped(x.clone())))
                    .collect(),
            )
        }
        "list.sort" => {
            let mut items = a.list_items().ok_or_else(|| mismatch("List", &a))?;
            let asc = match args.get(1) {
                None => true,
                Some(RV::Value(Value::Bool(b))) => *b,
                Some(other) => return Err(mismatch("Boolean", other)),
            };
            items.sort_by(|x, y| if asc { x.order_cmp(y) } else { y.order_cmp(x) });
            RV::list(items)
        }
        "haslabels" => {
            let RV::Node(n) = a else {
                return Err(mismatch("Node", &a));
            };
            let labels = arg(1);
            let names = labels
                .list_items()
                .ok_or_else(|| mismatch("List", &labels))?;
            let mut all = true;
            for l in &names {
                let RV::Value(Value::String(l)) = l else {
                    return Err(mismatch("String", l));
                };
                all &= g.label_id(l).is_some_and(|id| g.node_has_label(n, id));
            }
            RV::Value(Value::Bool(all))
        }
        "indegree" | "outdegree" => {
            let RV::Node(n) = a else {
                return Err(mismatch("Node", &a));
            };
            let mut names = Vec::new();
            for t in args.iter().skip(1) {
                match t {
                    RV::Value(Value::String(s)) => names.push(s.clone()),
                    other => match other.list_items() {
                        Some(l) => {
                            for x in l {
                                match x {
                                    RV::Value(Value::String(s)) => names.push(s),
                                    o => return Err(mismatch("String", &o)),
                                }
                            }
                        }
                        None => return Err(mismatch("String or List", other)),
                    },
                }
            }
            let ids: Vec<_> = names.iter().filter_map(|t| g.rel_type_id(t)).collect();
            if !names.is_empty() && ids.is_empty() {
                return Ok(RV::Value(Value::Int(0)));
            }
            let dir = if name == "indegree" {
                Direction::In
            } else {
                Direction::Out
            };
            RV::Value(Value::Int(
                i64::try_from(g.degree(n, dir, &ids)).unwrap_or(i64::MAX),
            ))
        }
        "vecf32" => {
            let v = vector(&a)?;
            RV::Value(Value::VecF32(v.into_boxed_slice()))
        }
        "vec.euclideandistance" | "vec.cosinedistance" => {
            let b = arg(1);
            if b.is_null() {
                return Ok(NULL);
            }
            let (x, y) = (vector(&a)?, vector(&b)?);
            if x.len() != y.len() {
                return Err(ExecError::Invalid(format!(
                    "Vector dimensions mismatch: {} and {}",
                    x.len(),
                    y.len()
                )));
            }
            let pairs = x
                .iter()
                .zip(&y)
                .map(|(p, q)| (f64::from(*p), f64::from(*q)));
            if name == "vec.euclideandistance" {
                f(pairs.map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt())
            } else {
                let (mut dot, mut nx, mut ny) = (0.0, 0.0, 0.0);
                for (p, q) in pairs {
                    dot += p * q;
                    nx += p * p;
                    ny += q * q;
                }
                let denom = nx.sqrt() * ny.sqrt();
                f(if denom == 0.0 { 1.0 } else { 1.0 - dot / denom })
            }
        }
        _ => return Err(ExecError::UnknownFunction(name.to_string())),
    })
}

/// A version-4 UUID from the executor's per-thread generator (not cryptographic).
fn random_uuid() -> String {
    let hi = super::strmath::random_u64();
    let lo = super::strmath::random_u64();
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: Vec<RV>) -> std::result::Result<RV, ExecError> {
        call(&Graph::new(), name, args)
    }

    fn v(x: Value) -> RV {
        RV::Value(x)
    }

    fn list(xs: &[f64]) -> RV {
        v(Value::List(xs.iter().map(|x| Value::Float(*x)).collect()))
    }

    #[test]
    fn vectors_and_distances() {
        let a = run("vecf32", vec![list(&[1.0, 0.0])]);
        assert!(matches!(&a, Ok(RV::Value(Value::VecF32(x))) if x.len() == 2));
        let a = a.unwrap_or(NULL);
        let b = list(&[0.0, 1.0]);
        let d = run("vec.euclideandistance", vec![a.clone(), b.clone()]);
        assert!(matches!(d, Ok(RV::Value(Value::Float(x))) if (x - 2f64.sqrt()).abs() < 1e-6));
        let c = run("vec.cosinedistance", vec![a.clone(), b]);
        assert!(matches!(c, Ok(RV::Value(Value::Float(x))) if (x - 1.0).abs() < 1e-6));
        let same = run("vec.cosinedistance", vec![a.clone(), a.clone()]);
        assert!(matches!(same, Ok(RV::Value(Value::Float(x))) if x.abs() < 1e-6));
        assert!(run("vec.euclideandistance", vec![a, list(&[1.0])]).is_err());
        assert!(run("vecf32", vec![v(Value::str("x"))]).is_err());
    }

    #[test]
    fn conversions_lists_and_misc() {
        assert!(matches!(
            run("tointegerornull", vec![v(Value::Bool(true))]),
            Ok(RV::Value(Value::Null))
        ));
        assert!(matches!(
            run("tointegerornull", vec![v(Value::str("42"))]),
            Ok(RV::Value(Value::Int(42)))
        ));
        assert!(matches!(
            run("typeof", vec![v(Value::Int(1))]),
            Ok(RV::Value(Value::String(s))) if &*s == "Integer"
        ));
        let l = v(Value::List(vec![
            Value::Int(3),
            Value::Int(1),
            Value::Int(3),
        ]));
        assert!(matches!(
            run("list.dedup", vec![l.clone()]),
            Ok(RV::Value(Value::List(x))) if x == vec![Value::Int(3), Value::Int(1)]
        ));
        assert!(matches!(
            run("list.sort", vec![l, v(Value::Bool(false))]),
            Ok(RV::Value(Value::List(x))) if x == vec![Value::Int(3), Value::Int(3), Value::Int(1)]
        ));
        let parts = v(Value::List(vec![Value::str("a"), Value::str("b")]));
        assert!(matches!(
            run("string.join", vec![parts, v(Value::str("-"))]),
            Ok(RV::Value(Value::String(s))) if &*s == "a-b"
        ));
        assert!(matches!(
            run("isempty", vec![v(Value::str(""))]),
            Ok(RV::Value(Value::Bool(true)))
        ));
        let u = run("randomuuid", vec![]);
        assert!(
            matches!(&u, Ok(RV::Value(Value::String(s))) if s.len() == 36 && &s[14..15] == "4")
        );
    }
}
