//! Scalar functions, looked up by lowercased name. Null in → null out unless noted.

use std::sync::Arc;

use super::ExecError;
use super::eval::mismatch;
use super::rvalue::{NULL, ResultValue as RV};
use crate::graph::Graph;
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

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

fn int(i: i64) -> RV {
    RV::Value(Value::Int(i))
}

/// Text form used by `toString` and string concatenation.
pub(crate) fn to_string_value(v: &RV) -> String {
    match v {
        RV::Value(Value::Int(i)) => i.to_string(),
        RV::Value(Value::Float(f)) => format_float(*f),
        RV::Value(Value::String(s)) => s.to_string(),
        RV::Value(Value::Bool(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// Floats print with at least one decimal digit (`1.0`), like FalkorDB.
pub fn format_float(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// Calls the scalar function `name` (lowercased).
/// Scalar functions of `funcs` itself (lowercased); see also `strmath::NAMES`.
const CORE: &[&str] = &[
    "id",
    "labels",
    "type",
    "properties",
    "keys",
    "size",
    "length",
    "nodes",
    "relationships",
    "tostring",
    "tointeger",
    "tofloat",
    "toboolean",
    "coalesce",
    "head",
    "last",
    "range",
    "abs",
];

/// Whether `name` (lowercased) is a scalar function the executor implements.
pub fn is_scalar_function(name: &str) -> bool {
    CORE.contains(&name)
        || super::strmath::NAMES.contains(&name)
        || super::falkor_fns::NAMES.contains(&name)
        || super::ext_fns::NAMES.contains(&name)
}

pub(crate) fn call(g: &Graph, name: &str, args: Vec<RV>) -> Result<RV> {
    if super::strmath::NAMES.contains(&name) {
        return super::strmath::call(g, name, &args);
    }
    if super::ext_fns::NAMES.contains(&name) {
        return super::ext_fns::call(g, name, args);
    }
    if super::falkor_fns::NAMES.contains(&name) {
        return super::falkor_fns::call(g, name, args);
    }
    match name {
        "coalesce" => {
            arity(name, &args, 1, usize::MAX)?;
            return Ok(args.into_iter().find(|a| !a.is_null()).unwrap_or(NULL));
        }
        "range" => return range(&args),
        _ => {}
    }
    arity(name, &args, 1, 1)?;
    let Some(a) = args.into_iter().next() else {
        return Ok(NULL);
    };
    if a.is_null() {
        return match name {
            "id" | "labels" | "type" | "properties" | "keys" | "size" | "length" | "nodes"
            | "relationships" | "toboolean" | "tostring" | "tointeger" | "tofloat" | "head"
            | "last" | "abs" => Ok(NULL),
            _ => Err(ExecError::UnknownFunction(name.to_string())),
        };
    }
    match name {
        "id" => match a {
            RV::Node(n) => Ok(int(n.0 as i64)),
            RV::Edge(e) => Ok(int(e.0 as i64)),
            other => Err(mismatch("Node or Edge", &other)),
        },
        "labels" => match a {
            RV::Node(n) => Ok(RV::Value(Value::List(
                g.node_labels(n)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|l| g.label_name(*l))
                    .map(Value::str)
                    .collect(),
            ))),
            other => Err(mismatch("Node", &other)),
        },
        "type" => match a {
            RV::Edge(e) => Ok(g
                .edge(e)
                .and_then(|r| g.rel_type_name(r.rel))
                .map_or(NULL, |n| RV::Value(Value::str(n)))),
            other => Err(mismatch("Edge", &other)),
        },
        "properties" => match a {
            RV::Node(_) | RV::Edge(_) => Ok(RV::Value(Value::Map(entity_props(g, &a)))),
            other if other.map_entries().is_some() => Ok(other),
            other => Err(mismatch("Map", &other)),
        },
        "keys" => match a {
            RV::Node(_) | RV::Edge(_) => Ok(RV::Value(Value::List(
                entity_props(g, &a)
                    .into_iter()
                    .map(|(k, _)| Value::String(k))
                    .collect(),
            ))),
            other => match other.map_entries() {
                Some(m) => Ok(RV::Value(Value::List(
                    m.into_iter().map(|(k, _)| Value::String(k)).collect(),
                ))),
                None => Err(mismatch("Map", &other)),
            },
        },
        "size" => match &a {
            RV::Value(Value::String(s)) => Ok(int(s.chars().count() as i64)),
            other => match other.list_items() {
                Some(l) => Ok(int(l.len() as i64)),
                None => Err(mismatch("List", other)),
            },
        },
        "length" => match &a {
            RV::Path(p) => Ok(int(p.edges.len() as i64)),
            other => Err(mismatch("Path", other)),
        },
        "nodes" => match &a {
            RV::Path(p) => Ok(RV::list(p.nodes.iter().map(|n| RV::Node(*n)).collect())),
            other => Err(mismatch("Path", other)),
        },
        "relationships" => match &a {
            RV::Path(p) => Ok(RV::list(p.edges.iter().map(|e| RV::Edge(*e)).collect())),
            other => Err(mismatch("Path", other)),
        },
        "tostring" => match &a {
            RV::Value(Value::Int(_) | Value::Float(_) | Value::String(_) | Value::Bool(_)) => {
                Ok(RV::Value(Value::String(Arc::from(to_string_value(&a)))))
            }
            other => Err(mismatch("Integer, Float, String or Boolean", other)),
        },
        "tointeger" => match &a {
            RV::Value(Value::Int(_)) => Ok(a),
            RV::Value(Value::Float(f)) => Ok(float_to_int(*f)),
            RV::Value(Value::String(s)) => Ok(parse_int(s)),
            other => Err(mismatch("Integer, Float or String", other)),
        },
        "toboolean" => match &a {
            RV::Value(Value::Bool(_)) => Ok(a),
            RV::Value(Value::String(s)) => Ok(match s.trim().to_ascii_lowercase().as_str() {
                "true" => RV::Value(Value::Bool(true)),
                "false" => RV::Value(Value::Bool(false)),
                _ => NULL,
            }),
            RV::Value(Value::Int(i)) => Ok(RV::Value(Value::Bool(*i != 0))),
            other => Err(mismatch("Boolean, Integer or String", other)),
        },
        "tofloat" => match &a {
            RV::Value(Value::Int(i)) => Ok(RV::Value(Value::Float(*i as f64))),
            RV::Value(Value::Float(_)) => Ok(a),
            RV::Value(Value::String(s)) => Ok(s
                .trim()
                .parse::<f64>()
                .map_or(NULL, |f| RV::Value(Value::Float(f)))),
            other => Err(mismatch("Integer, Float or String", other)),
        },
        "head" | "last" => match a.list_items() {
            Some(l) => Ok(if name == "head" {
                l.into_iter().next()
            } else {
                l.into_iter().last()
            }
            .unwrap_or(NULL)),
            None => Err(mismatch("List", &a)),
        },
        "abs" => match a {
            RV::Value(Value::Int(i)) => i.checked_abs().map(int).ok_or(ExecError::IntegerOverflow),
            RV::Value(Value::Float(f)) => Ok(RV::Value(Value::Float(f.abs()))),
            other => Err(mismatch("Integer or Float", &other)),
        },
        _ => Err(ExecError::UnknownFunction(name.to_string())),
    }
}

fn float_to_int(f: f64) -> RV {
    let t = f.trunc();
    if t.is_finite() && t >= i64::MIN as f64 && t < i64::MAX as f64 {
        int(t as i64)
    } else {
        NULL
    }
}

fn parse_int(s: &str) -> RV {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return int(i);
    }
    s.parse::<f64>().map_or(NULL, float_to_int)
}

pub(crate) fn entity_props(g: &Graph, v: &RV) -> Vec<(Arc<str>, Value)> {
    let props = match v {
        RV::Node(n) => g.node_props(*n),
        RV::Edge(e) => g.edge_props(*e),
        _ => None,
    };
    props
        .map(|p| {
            p.iter()
                .filter_map(|(k, v)| g.prop_key_name(k).map(|n| (Arc::from(n), v.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// Upper bound on the elements `range()` may produce, so a query cannot exhaust memory.
const MAX_RANGE: i64 = 10_000_000;

fn range(args: &[RV]) -> Result<RV> {
    arity("range", args, 2, 3)?;
    let mut ints = [0i64, 0, 1];
    for (i, a) in args.iter().enumerate() {
        match a {
            RV::Value(Value::Int(v)) => ints[i] = *v,
            other => return Err(mismatch("Integer", other)),
        }
    }
    let [start, end, step] = ints;
    if step == 0 {
        return Err(ExecError::Invalid(
            "ArgumentError: step argument to range() can't be 0".into(),
        ));
    }
    let span = (i128::from(end) - i128::from(start)) / i128::from(step);
    if span >= i128::from(MAX_RANGE) {
        return Err(ExecError::Invalid(
            "range() would produce too many elements".into(),
        ));
    }
    let mut out = Vec::new();
    let mut x = i128::from(start);
    while (step > 0 && x <= i128::from(end)) || (step < 0 && x >= i128::from(end)) {
        out.push(Value::Int(x as i64));
        x += i128::from(step);
    }
    Ok(RV::Value(Value::List(out)))
}
