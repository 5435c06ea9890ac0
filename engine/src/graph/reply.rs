//! FalkorDB 4.x reply encodings of a query result (`../shared/FALKORDB-PROTOCOL.md` §3–4):
//! the verbose form (values rendered as strings except integers, strings and null) and the
//! compact form (`[type, value]` pairs with schema ids), plus the statistics lines.
//!
//! Invariants: the shapes do not depend on the RESP version (FalkorDB sends the same nesting
//! under HELLO 3; only null changes, which the RESP encoder does for `Reply::Nil`); label,
//! relationship-type and property-key ids are the schema positions the client resolves with
//! `db.labels()` & co.; an entity deleted by the query that returns it renders with no labels
//! and no properties instead of failing.

use bytes::Bytes;
use moon_graph::exec::{ResultSet, ResultValue, Stats};
use moon_graph::{EdgeId, Graph, NodeId, PropMap, Value};

/// Compact type codes (FalkorDB's `ValueType` on the wire).
mod code {
    pub const NULL: i64 = 1;
    pub const STRING: i64 = 2;
    pub const INTEGER: i64 = 3;
    pub const BOOLEAN: i64 = 4;
    pub const DOUBLE: i64 = 5;
    pub const ARRAY: i64 = 6;
    pub const EDGE: i64 = 7;
    pub const NODE: i64 = 8;
    pub const PATH: i64 = 9;
    pub const MAP: i64 = 10;
    pub const POINT: i64 = 11;
    pub const VECF32: i64 = 12;
}

use crate::ir::Reply;

fn bulk(s: impl Into<String>) -> Reply {
    Reply::Bulk(Bytes::from(s.into()))
}

/// C's `%.15g`.
pub fn fmt_g15(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{f:.14e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..15).contains(&exp) {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let prec = (14 - exp).max(0) as usize;
        strip_zeros(&format!("{f:.prec$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// C's `%f`.
fn fmt_f6(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f < 0.0 { "-inf" } else { "inf" }.into()
    } else {
        format!("{f:.6}")
    }
}

/// A point coordinate: FalkorDB keeps points as float32.
fn coord(f: f64) -> f64 {
    f64::from(f as f32)
}

/// The query statistics lines (only non-zero counters, then the cache flag and the time).
pub fn stats_lines(stats: &Stats, elapsed_ms: f64) -> Reply {
    let counters = [
        ("Labels added", stats.labels_added),
        ("Labels removed", stats.labels_removed),
        ("Nodes created", stats.nodes_created),
        ("Properties set", stats.properties_set),
        ("Properties removed", stats.properties_removed),
        ("Nodes deleted", stats.nodes_deleted),
        ("Relationships created", stats.relationships_created),
        ("Relationships deleted", stats.relationships_deleted),
        ("Indices created", stats.indices_created),
        ("Indices deleted", stats.indices_deleted),
    ];
    let mut out: Vec<Reply> = counters
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| bulk(format!("{name}: {n}")))
        .collect();
    out.push(bulk("Cached execution: 0"));
    out.push(bulk(format!(
        "Query internal execution time: {elapsed_ms:.6} milliseconds"
    )));
    Reply::Array(out)
}

/// The whole reply of a query: `[stats]` without RETURN, else `[header, rows, stats]`.
pub fn result_reply(g: &Graph, rs: &ResultSet, compact: bool, elapsed_ms: f64) -> Reply {
    let stats = stats_lines(&rs.stats, elapsed_ms);
    if rs.columns.is_empty() {
        return Reply::Array(vec![stats]);
    }
    let header = rs
        .columns
        .iter()
        .map(|c| {
            if compact {
                Reply::Array(vec![Reply::Int(1), bulk(c.clone())])
            } else {
                bulk(c.clone())
            }
        })
        .collect();
    let rows = rs
        .rows
        .iter()
        .map(|row| {
            Reply::Array(
                row.iter()
                    .map(|v| {
                        if compact {
                            compact_value(g, v)
                        } else {
                            verbose_value(g, v)
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    Reply::Array(vec![Reply::Array(header), Reply::Array(rows), stats])
}

// ---- verbose ----

fn verbose_value(g: &Graph, v: &ResultValue) -> Reply {
    match v {
        ResultValue::Value(v) => verbose_scalar(v),
        ResultValue::Node(id) => verbose_node(g, *id),
        ResultValue::Edge(id) => verbose_edge(g, *id),
        other => bulk(render(other)),
    }
}

fn verbose_scalar(v: &Value) -> Reply {
    match v {
        Value::Null => Reply::Nil,
        Value::Int(i) => Reply::Int(*i),
        Value::String(s) => bulk(s.to_string()),
        Value::Float(f) => bulk(fmt_g15(*f)),
        other => bulk(render_value(other, true)),
    }
}

fn verbose_props(g: &Graph, props: Option<&PropMap>) -> Reply {
    let items = props
        .map(|p| {
            p.iter()
                .map(|(k, v)| {
                    Reply::Array(vec![
                        bulk(g.prop_key_name(k).unwrap_or("").to_string()),
                        verbose_scalar(v),
                    ])
                })
                .collect()
        })
        .unwrap_or_default();
    Reply::Array(items)
}

fn pair(name: &str, v: Reply) -> Reply {
    Reply::Array(vec![bulk(name), v])
}

fn verbose_node(g: &Graph, id: NodeId) -> Reply {
    let labels = g
        .node_labels(id)
        .unwrap_or(&[])
        .iter()
        .map(|l| bulk(g.label_name(*l).unwrap_or("").to_string()))
        .collect();
    Reply::Array(vec![
        pair("id", Reply::Int(id.0 as i64)),
        pair("labels", Reply::Array(labels)),
        pair("properties", verbose_props(g, g.node_props(id))),
    ])
}

fn verbose_edge(g: &Graph, id: EdgeId) -> Reply {
    let e = g.edge(id);
    let (ty, src, dst) = match e {
        Some(e) => (
            g.rel_type_name(e.rel).unwrap_or("").to_string(),
            e.src.0 as i64,
            e.dst.0 as i64,
        ),
        None => (String::new(), -1, -1),
    };
    Reply::Array(vec![
        pair("id", Reply::Int(id.0 as i64)),
        pair("type", bulk(ty)),
        pair("src_node", Reply::Int(src)),
        pair("dest_node", Reply::Int(dst)),
        pair("properties", verbose_props(g, g.edge_props(id))),
    ])
}

/// The string rendering FalkorDB uses for values inside containers and for paths.
fn render(v: &ResultValue) -> String {
    match v {
        ResultValue::Value(v) => render_value(v, false),
        ResultValue::Node(id) => format!("({})", id.0),
        ResultValue::Edge(id) => format!("[{}]", id.0),
        ResultValue::Path(p) => {
            let mut parts = Vec::with_capacity(p.nodes.len() + p.edges.len());
            for (i, n) in p.nodes.iter().enumerate() {
                parts.push(format!("({})", n.0));
                if let Some(e) = p.edges.get(i) {
                    parts.push(format!("[{}]", e.0));
                }
            }
            format!("[{}]", parts.join(", "))
        }
        ResultValue::List(items) => {
            let inner: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", inner.join(", "))
        }
        ResultValue::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", render(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// `top`: a top-level double is `%.15g`; inside a container `%f`.
fn render_value(v: &Value, top: bool) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if top {
                fmt_g15(*f)
            } else {
                fmt_f6(*f)
            }
        }
        Value::String(s) => s.to_string(),
        Value::List(items) => {
            let inner: Vec<String> = items.iter().map(|i| render_value(i, false)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", render_value(v, false)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Point { lat, lon } => format!(
            "point({{latitude:{}, longitude:{}}})",
            fmt_f6(coord(*lat)),
            fmt_f6(coord(*lon))
        ),
        Value::VecF32(xs) => {
            let inner: Vec<String> = xs.iter().map(|x| fmt_f6(f64::from(*x))).collect();
            format!("<{}>", inner.join(", "))
        }
    }
}

// ---- compact ----

fn typed(code: i64, v: Reply) -> Reply {
    Reply::Array(vec![Reply::Int(code), v])
}

/// `(type code, value)` of a property value.
fn compact_parts(v: &Value) -> (i64, Reply) {
    match v {
        Value::Null => (code::NULL, Reply::Nil),
        Value::Bool(b) => (code::BOOLEAN, bulk(b.to_string())),
        Value::Int(i) => (code::INTEGER, Reply::Int(*i)),
        Value::Float(f) => (code::DOUBLE, bulk(fmt_g15(*f))),
        Value::String(s) => (code::STRING, bulk(s.to_string())),
        Value::List(items) => (
            code::ARRAY,
            Reply::Array(items.iter().map(compact_scalar).collect()),
        ),
        Value::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len() * 2);
            for (k, v) in entries {
                out.push(bulk(k.to_string()));
                out.push(compact_scalar(v));
            }
            (code::MAP, Reply::Array(out))
        }
        Value::Point { lat, lon } => (
            code::POINT,
            Reply::Array(vec![bulk(fmt_g15(coord(*lat))), bulk(fmt_g15(coord(*lon)))]),
        ),
        Value::VecF32(xs) => (
            code::VECF32,
            Reply::Array(xs.iter().map(|x| bulk(fmt_g15(f64::from(*x)))).collect()),
        ),
    }
}

fn compact_scalar(v: &Value) -> Reply {
    let (c, r) = compact_parts(v);
    typed(c, r)
}

fn compact_props(props: Option<&PropMap>) -> Reply {
    let items = props
        .map(|p| {
            p.iter()
                .map(|(k, v)| {
                    let (c, r) = compact_parts(v);
                    Reply::Array(vec![Reply::Int(i64::from(k.0)), Reply::Int(c), r])
                })
                .collect()
        })
        .unwrap_or_default();
    Reply::Array(items)
}

fn compact_node(g: &Graph, id: NodeId) -> Reply {
    let labels = g
        .node_labels(id)
        .unwrap_or(&[])
        .iter()
        .map(|l| Reply::Int(i64::from(l.0)))
        .collect();
    typed(
        code::NODE,
        Reply::Array(vec![
            Reply::Int(id.0 as i64),
            Reply::Array(labels),
            compact_props(g.node_props(id)),
        ]),
    )
}

fn compact_edge(g: &Graph, id: EdgeId) -> Reply {
    let (rel, src, dst) = match g.edge(id) {
        Some(e) => (i64::from(e.rel.0), e.src.0 as i64, e.dst.0 as i64),
        None => (-1, -1, -1),
    };
    typed(
        code::EDGE,
        Reply::Array(vec![
            Reply::Int(id.0 as i64),
            Reply::Int(rel),
            Reply::Int(src),
            Reply::Int(dst),
            compact_props(g.edge_props(id)),
        ]),
    )
}

fn compact_value(g: &Graph, v: &ResultValue) -> Reply {
    match v {
        ResultValue::Value(v) => compact_scalar(v),
        ResultValue::Node(id) => compact_node(g, *id),
        ResultValue::Edge(id) => compact_edge(g, *id),
        ResultValue::Path(p) => {
            let nodes = p.nodes.iter().map(|n| compact_node(g, *n)).collect();
            let edges = p.edges.iter().map(|e| compact_edge(g, *e)).collect();
            typed(
                code::PATH,
                Reply::Array(vec![
                    typed(code::ARRAY, Reply::Array(nodes)),
                    typed(code::ARRAY, Reply::Array(edges)),
                ]),
            )
        }
        ResultValue::List(items) => typed(
            code::ARRAY,
            Reply::Array(items.iter().map(|i| compact_value(g, i)).collect()),
        ),
        ResultValue::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len() * 2);
            for (k, v) in entries {
                out.push(bulk(k.to_string()));
                out.push(compact_value(g, v));
            }
            typed(code::MAP, Reply::Array(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g15_matches_c() {
        for (f, want) in [
            (1.5, "1.5"),
            (3.0, "3"),
            (0.1 + 0.2, "0.3"),
            (1e301, "1e+301"),
            (-0.0, "-0"),
            (1e-7, "1e-07"),
            (123456789.123457, "123456789.123457"),
            (f64::INFINITY, "inf"),
            (f64::from(32.07f32), "32.0699996948242"),
            (-2.5, "-2.5"),
            (1e15, "1e+15"),
            (100000000000000.0, "100000000000000"),
            (0.0001, "0.0001"),
        ] {
            assert_eq!(fmt_g15(f), want, "{f}");
        }
    }

    #[test]
    fn containers_render_as_falkordb() {
        let l = Value::List(vec![
            Value::Int(1),
            Value::Float(2.0),
            Value::String("x".into()),
            Value::Null,
            Value::List(vec![Value::Bool(true)]),
        ]);
        assert_eq!(render_value(&l, true), "[1, 2.000000, x, NULL, [true]]");
        let p = Value::Point {
            lat: 32.07,
            lon: 34.78,
        };
        assert_eq!(
            render_value(&p, true),
            "point({latitude:32.070000, longitude:34.779999})"
        );
        let v = Value::VecF32(vec![1.0, 2.5].into_boxed_slice());
        assert_eq!(render_value(&v, true), "<1.000000, 2.500000>");
    }

    #[test]
    fn stats_only_non_zero_in_order() {
        let s = Stats {
            labels_added: 2,
            nodes_created: 2,
            properties_set: 6,
            relationships_created: 1,
            ..Stats::default()
        };
        let Reply::Array(lines) = stats_lines(&s, 0.5) else {
            panic!("not an array")
        };
        let text: Vec<String> = lines
            .iter()
            .map(|l| match l {
                Reply::Bulk(b) => String::from_utf8_lossy(b).to_string(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            text,
            [
                "Labels added: 2",
                "Nodes created: 2",
                "Properties set: 6",
                "Relationships created: 1",
                "Cached execution: 0",
                "Query internal execution time: 0.500000 milliseconds"
            ]
        );
    }
}
