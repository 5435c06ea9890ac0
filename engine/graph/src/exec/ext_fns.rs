//! More FalkorDB scalar functions: `toJSON`, `point({latitude, longitude})`, `distance`
//! (haversine metres), the list helpers `list.insert`, `list.insertListElements`,
//! `list.remove`, the regex helpers `string.matchRegEx`, `string.replaceRegEx`, `intern`, and
//! the list conversions `toBooleanList`, `toFloatList`, `toIntegerList`, `toStringList`.
//!
//! Null in the first argument gives null (except `toJSON`, which renders `null`). Indexes of
//! the list helpers may be negative (from the end); out of range leaves the list unchanged.

use std::sync::Arc;

use super::ExecError;
use super::eval::mismatch;
use super::funcs;
use super::rvalue::{NULL, ResultValue as RV};
use crate::graph::Graph;
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

/// Earth radius (metres) of FalkorDB's `distance`.
const EARTH_RADIUS_M: f64 = 6_378_140.0;

pub(crate) const NAMES: &[&str] = &[
    "tojson",
    "point",
    "distance",
    "list.insert",
    "list.insertlistelements",
    "list.remove",
    "string.matchregex",
    "string.replaceregex",
    "intern",
    "tobooleanlist",
    "tofloatlist",
    "tointegerlist",
    "tostringlist",
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

fn int_arg(v: &RV) -> Result<i64> {
    match v {
        RV::Value(Value::Int(i)) => Ok(*i),
        other => Err(mismatch("Integer", other)),
    }
}

fn bool_arg(v: Option<&RV>) -> Result<bool> {
    match v {
        None | Some(RV::Value(Value::Null)) => Ok(true),
        Some(RV::Value(Value::Bool(b))) => Ok(*b),
        Some(other) => Err(mismatch("Boolean", other)),
    }
}

fn str_arg(v: &RV) -> Result<Arc<str>> {
    match v {
        RV::Value(Value::String(s)) => Ok(s.clone()),
        other => Err(mismatch("String", other)),
    }
}

/// A position in `0..=len` from a possibly negative index; `None` when out of range.
fn position(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let p = if i < 0 { len + i } else { i };
    (0..=len).contains(&p).then_some(p as usize)
}

pub(crate) fn call(g: &Graph, name: &str, args: Vec<RV>) -> Result<RV> {
    let (min, max) = match name {
        "distance" => (2, 2),
        "list.insert" | "list.insertlistelements" => (3, 4),
        "list.remove" => (2, 3),
        "string.matchregex" => (2, 2),
        "string.replaceregex" => (2, 3),
        _ => (1, 1),
    };
    arity(name, &args, min, max)?;
    let a = args.first().cloned().unwrap_or(NULL);
    if name == "tojson" {
        let mut out = String::new();
        json(g, &a, &mut out);
        return Ok(RV::Value(Value::str(&out)));
    }
    if a.is_null() {
        return Ok(NULL);
    }
    Ok(match name {
        "point" => point(&a)?,
        "distance" => match (&a, args.get(1)) {
            (_, None | Some(RV::Value(Value::Null))) => NULL,
            (
                RV::Value(Value::Point { lat: la, lon: oa }),
                Some(RV::Value(Value::Point { lat: lb, lon: ob })),
            ) => RV::Value(Value::Float(haversine(*la, *oa, *lb, *ob))),
            (RV::Value(Value::Point { .. }), Some(other)) | (other, _) => {
                return Err(mismatch("Point", other));
            }
        },
        "list.insert" | "list.insertlistelements" => {
            let mut items = a.list_items().ok_or_else(|| mismatch("List", &a))?;
            // list.insert(list, idx, value) but list.insertListElements(list, list2, idx).
            let (vi, ii) = if name == "list.insert" {
                (2, 1)
            } else {
                (1, 2)
            };
            let new = args.get(vi).cloned().unwrap_or(NULL);
            let at = int_arg(args.get(ii).unwrap_or(&NULL))?;
            let dups = bool_arg(args.get(3))?;
            let mut add = if name == "list.insert" {
                if new.is_null() {
                    return Ok(a);
                }
                vec![new]
            } else {
                match new.list_items() {
                    Some(l) => l,
                    None if new.is_null() => return Ok(a),
                    None => return Err(mismatch("List", &new)),
                }
            };
            if !dups {
                add.retain(|x| !items.iter().any(|y| y.cypher_eq(x) == Some(true)));
            }
            let Some(p) = position(at, items.len()) else {
                return Ok(a);
            };
            items.splice(p..p, add);
            RV::list(items)
        }
        "list.remove" => {
            let mut items = a.list_items().ok_or_else(|| mismatch("List", &a))?;
            let at = int_arg(args.get(1).unwrap_or(&NULL))?;
            let count = match args.get(2) {
                None => 1,
                Some(c) => int_arg(c)?.max(0) as usize,
            };
            match position(at, items.len()).filter(|&p| p < items.len()) {
                Some(p) => {
                    let end = p.saturating_add(count).min(items.len());
                    items.drain(p..end);
                    RV::list(items)
                }
                None => a,
            }
        }
        "string.matchregex" => {
            let s = str_arg(&a)?;
            let re = super::regex_cache::search_regex(&str_arg(args.get(1).unwrap_or(&NULL))?)?;
            let matches = re
                .captures_iter(&s)
                .map(|c| {
                    Value::List(
                        c.iter()
                            .map(|m| m.map_or(Value::Null, |m| Value::str(m.as_str())))
                            .collect(),
                    )
                })
                .collect();
            RV::Value(Value::List(matches))
        }
        "string.replaceregex" => {
            let s = str_arg(&a)?;
            let re = super::regex_cache::search_regex(&str_arg(args.get(1).unwrap_or(&NULL))?)?;
            let with = match args.get(2) {
                None => Arc::from(""),
                Some(v) => str_arg(v)?,
            };
            RV::Value(Value::str(&re.replace_all(&s, regex::NoExpand(&with))))
        }
        "intern" => RV::Value(Value::String(str_arg(&a)?)),
        _ => {
            // to*List: convert each element with the scalar conversion, null when it fails.
            let items = a.list_items().ok_or_else(|| mismatch("List", &a))?;
            let base = match name {
                "tobooleanlist" => "toboolean",
                "tofloatlist" => "tofloat",
                "tointegerlist" => "tointeger",
                _ => "tostring",
            };
            RV::list(
                items
                    .into_iter()
                    .map(|x| funcs::call(g, base, vec![x]).unwrap_or(NULL))
                    .collect(),
            )
        }
    })
}

/// `point({latitude, longitude})` (FalkorDB has geographic points only).
fn point(a: &RV) -> Result<RV> {
    let Some(m) = a.map_entries() else {
        return Err(mismatch("Map", a));
    };
    let get = |k: &str| m.iter().find(|(n, _)| &**n == k).map(|(_, v)| v.clone());
    let num = |v: Option<RV>| match v {
        Some(RV::Value(Value::Int(i))) => Some(i as f64),
        Some(RV::Value(Value::Float(f))) => Some(f),
        _ => None,
    };
    match (num(get("latitude")), num(get("longitude"))) {
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Ok(RV::Value(Value::Point { lat, lon }))
        }
        (Some(_), Some(_)) => Err(ExecError::Invalid(
            "latitude should be within the -90 to 90 range, longitude within -180 to 180".into(),
        )),
        _ => Err(ExecError::Invalid(
            "A point must be created from a map with numeric latitude and longitude keys".into(),
        )),
    }
}

/// Great-circle distance in metres.
fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        // JSON has no NaN/Infinity: they render as null.
        Value::Float(f) if !f.is_finite() => out.push_str("null"),
        Value::Float(f) => out.push_str(&funcs::format_float(*f)),
        Value::String(s) => json_str(s, out),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_value(x, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_str(k, out);
                out.push_str(": ");
                json_value(x, out);
            }
            out.push('}');
        }
        Value::Point { lat, lon } => {
            out.push_str(&format!(
                "{{\"latitude\": {}, \"longitude\": {}}}",
                funcs::format_float(*lat),
                funcs::format_float(*lon)
            ));
        }
        Value::VecF32(x) => {
            let l: Vec<Value> = x.iter().map(|f| Value::Float(f64::from(*f))).collect();
            json_value(&Value::List(l), out);
        }
    }
}

fn json_props(g: &Graph, v: &RV, out: &mut String) {
    json_value(&Value::Map(funcs::entity_props(g, v)), out);
}

/// FalkorDB's `toJSON`: nodes as `{"type": "node", "id", "labels", "properties"}`,
/// relationships as `{"type": "relationship", "id", "relationship", "properties", "start",
/// "end"}` (endpoints as nodes), paths as the list of their elements.
fn json(g: &Graph, v: &RV, out: &mut String) {
    match v {
        RV::Value(x) => json_value(x, out),
        RV::Node(n) => {
            out.push_str(&format!(
                "{{\"type\": \"node\", \"id\": {}, \"labels\": [",
                n.0
            ));
            for (i, l) in g.node_labels(*n).unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_str(g.label_name(*l).unwrap_or_default(), out);
            }
            out.push_str("], \"properties\": ");
            json_props(g, v, out);
            out.push('}');
        }
        RV::Edge(e) => {
            out.push_str(&format!(
                "{{\"type\": \"relationship\", \"id\": {}, \"relationship\": ",
                e.0
            ));
            let r = g.edge(*e);
            json_str(
                r.and_then(|r| g.rel_type_name(r.rel)).unwrap_or_default(),
                out,
            );
            out.push_str(", \"properties\": ");
            json_props(g, v, out);
            if let Some(r) = r {
                out.push_str(", \"start\": ");
                json(g, &RV::Node(r.src), out);
                out.push_str(", \"end\": ");
                json(g, &RV::Node(r.dst), out);
            }
            out.push('}');
        }
        RV::Path(p) => {
            let mut items: Vec<RV> = p.nodes.first().map(|n| RV::Node(*n)).into_iter().collect();
            for (e, n) in p.edges.iter().zip(p.nodes.iter().skip(1)) {
                items.push(RV::Edge(*e));
                items.push(RV::Node(*n));
            }
            json(g, &RV::List(items), out);
        }
        RV::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json(g, x, out);
            }
            out.push(']');
        }
        RV::Map(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_str(k, out);
                out.push_str(": ");
                json(g, x, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: Vec<RV>) -> RV {
        match call(&Graph::new(), name, args) {
            Ok(v) => v,
            Err(e) => RV::Value(Value::str(&format!("error: {e}"))),
        }
    }
    fn v(x: Value) -> RV {
        RV::Value(x)
    }
    fn ints(xs: &[i64]) -> RV {
        v(Value::List(xs.iter().map(|i| Value::Int(*i)).collect()))
    }
    fn s(x: &str) -> RV {
        v(Value::str(x))
    }
    fn text(r: RV) -> String {
        match r {
            RV::Value(Value::String(s)) => s.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn json_of_values() {
        let m = v(Value::Map(vec![
            (
                Arc::from("a"),
                Value::List(vec![Value::Int(1), Value::Float(2.5), Value::Null]),
            ),
            (Arc::from("q\""), Value::str("x\ny")),
        ]));
        assert_eq!(
            text(run("tojson", vec![m])),
            r#"{"a": [1, 2.5, null], "q\"": "x\ny"}"#
        );
        assert_eq!(text(run("tojson", vec![NULL])), "null");
        let p = v(Value::Point { lat: 1.5, lon: 2.0 });
        assert_eq!(
            text(run("tojson", vec![p])),
            r#"{"latitude": 1.5, "longitude": 2.0}"#
        );
    }

    #[test]
    fn points_and_distance() {
        let p = |lat: f64, lon: f64| {
            run(
                "point",
                vec![v(Value::Map(vec![
                    (Arc::from("latitude"), Value::Float(lat)),
                    (Arc::from("longitude"), Value::Float(lon)),
                ]))],
            )
        };
        let a = p(0.0, 0.0);
        assert!(matches!(a, RV::Value(Value::Point { .. })));
        // One degree of longitude on the equator.
        match run("distance", vec![a.clone(), p(0.0, 1.0)]) {
            RV::Value(Value::Float(d)) => assert!((d - 111_319.5).abs() < 1.0, "{d}"),
            other => panic!("{other:?}"),
        }
        assert!(run("distance", vec![a, NULL]).is_null());
        assert!(text(p(95.0, 0.0)).starts_with("error"));
        assert!(text(run("point", vec![v(Value::Int(1))])).starts_with("error"));
    }

    #[test]
    fn list_helpers() {
        let l = ints(&[1, 2, 3]);
        let i = |x| v(Value::Int(x));
        assert_eq!(
            format!("{:?}", run("list.insert", vec![l.clone(), i(1), i(9)])),
            format!("{:?}", ints(&[1, 9, 2, 3]))
        );
        assert_eq!(
            format!("{:?}", run("list.insert", vec![l.clone(), i(-1), i(9)])),
            format!("{:?}", ints(&[1, 2, 9, 3]))
        );
        assert_eq!(
            format!(
                "{:?}",
                run(
                    "list.insert",
                    vec![l.clone(), i(0), i(2), v(Value::Bool(false))]
                )
            ),
            format!("{:?}", ints(&[1, 2, 3]))
        );
        assert_eq!(
            format!("{:?}", run("list.insert", vec![l.clone(), i(7), i(9)])),
            format!("{:?}", l)
        );
        assert_eq!(
            format!(
                "{:?}",
                run(
                    "list.insertlistelements",
                    vec![l.clone(), ints(&[3, 4]), i(3), v(Value::Bool(false))]
                )
            ),
            format!("{:?}", ints(&[1, 2, 3, 4]))
        );
        assert_eq!(
            format!("{:?}", run("list.remove", vec![l.clone(), i(0), i(2)])),
            format!("{:?}", ints(&[3]))
        );
        assert_eq!(
            format!("{:?}", run("list.remove", vec![l.clone(), i(-1)])),
            format!("{:?}", ints(&[1, 2]))
        );
        assert_eq!(
            format!("{:?}", run("tostringlist", vec![ints(&[1, 2])])),
            format!(
                "{:?}",
                v(Value::List(vec![Value::str("1"), Value::str("2")]))
            )
        );
    }

    #[test]
    fn regex_helpers() {
        let m = run("string.matchregex", vec![s("a1b22"), s("[a-z]([0-9]+)")]);
        assert_eq!(
            format!("{m:?}"),
            format!(
                "{:?}",
                v(Value::List(vec![
                    Value::List(vec![Value::str("a1"), Value::str("1")]),
                    Value::List(vec![Value::str("b22"), Value::str("22")]),
                ]))
            )
        );
        assert_eq!(
            text(run(
                "string.replaceregex",
                vec![s("a1b22"), s("[0-9]+"), s("#")]
            )),
            "a#b#"
        );
        assert_eq!(
            text(run("string.replaceregex", vec![s("a1b22"), s("[0-9]")])),
            "ab"
        );
        assert!(text(run("string.matchregex", vec![s("x"), s("(")])).starts_with("error"));
    }
}
