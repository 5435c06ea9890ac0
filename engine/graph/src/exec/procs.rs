//! The procedure registry behind `CALL name(args) [YIELD ...]`.
//!
//! Names are matched case-insensitively (FalkorDB clients call `DB.LABELS()` as well as
//! `db.labels()`); the plan carries them lowercased. Each procedure declares its output
//! columns; [`call`] returns one record per output row with a value per declared column, in
//! declaration order. Procedures here only read the graph; the vector queries are served by
//! the graph's HNSW indexes (`Graph::vector_knn`).

use super::ExecError;
use super::rvalue::ResultValue as RV;
use crate::graph::Graph;
use crate::index::IndexEntity;
use crate::value::Value;
use std::sync::Arc;

type Result<T> = std::result::Result<T, ExecError>;

/// One registered procedure: name as listed by `dbms.procedures()`, output columns, and
/// argument count.
struct Proc {
    name: &'static str,
    columns: &'static [&'static str],
    args: usize,
}

const PROCS: &[Proc] = &[
    Proc {
        name: "db.labels",
        columns: &["label"],
        args: 0,
    },
    Proc {
        name: "db.relationshipTypes",
        columns: &["relationshipType"],
        args: 0,
    },
    Proc {
        name: "db.propertyKeys",
        columns: &["propertyKey"],
        args: 0,
    },
    Proc {
        name: "db.indexes",
        columns: &[
            "label",
            "properties",
            "types",
            "options",
            "language",
            "stopwords",
            "entitytype",
            "status",
            "info",
        ],
        args: 0,
    },
    Proc {
        name: "db.constraints",
        columns: &["type", "label", "properties", "entitytype", "status"],
        args: 0,
    },
    Proc {
        name: "db.idx.vector.queryNodes",
        columns: &["node", "score"],
        args: 4,
    },
    Proc {
        name: "db.idx.vector.queryRelationships",
        columns: &["relationship", "score"],
        args: 4,
    },
    Proc {
        name: "dbms.procedures",
        columns: &["name", "mode"],
        args: 0,
    },
];

fn find(name: &str) -> Option<&'static Proc> {
    PROCS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The output columns of procedure `name`, or `None` if there is no such procedure.
pub fn columns(name: &str) -> Option<&'static [&'static str]> {
    find(name).map(|p| p.columns)
}

fn s(v: &str) -> RV {
    RV::Value(Value::str(v))
}

/// Runs procedure `name` (any case) with evaluated `args`.
pub(crate) fn call(g: &Graph, name: &str, args: &[RV]) -> Result<Vec<Vec<RV>>> {
    let Some(p) = find(name) else {
        return Err(ExecError::Invalid(format!(
            "Procedure `{name}` is not registered"
        )));
    };
    if args.len() != p.args {
        return Err(ExecError::Arity {
            name: p.name.to_string(),
            got: args.len(),
            want: p.args.to_string(),
        });
    }
    let schema = g.schema();
    Ok(match p.name {
        "db.labels" => schema.labels.names().map(|n| vec![s(n)]).collect(),
        "db.relationshipTypes" => schema.rel_types.names().map(|n| vec![s(n)]).collect(),
        "db.propertyKeys" => schema.prop_keys.names().map(|n| vec![s(n)]).collect(),
        "db.indexes" => list_indexes(g),
        "db.constraints" => list_constraints(g),
        "db.idx.vector.queryNodes" => vector_query(g, args, false)?,
        "db.idx.vector.queryRelationships" => vector_query(g, args, true)?,
        "dbms.procedures" => PROCS.iter().map(|p| vec![s(p.name), s("READ")]).collect(),
        _ => Vec::new(),
    })
}

/// One entity's indexed properties: name → (index types, vector options).
type IndexedProps = Vec<(Arc<str>, Vec<&'static str>, Option<crate::VectorOptions>)>;

/// `db.indexes()`: one record per label / relationship type with FalkorDB's columns —
/// `properties` (list, creation order), `types` (map property → list of `RANGE` / `VECTOR`),
/// `options` (map property → vector options, vector properties only), `language`
/// (`english`), `stopwords` (empty list), `entitytype`, `status` (`OPERATIONAL`), `info` (map).
fn list_indexes(g: &Graph) -> Vec<Vec<RV>> {
    let mut out: Vec<(IndexEntity, IndexedProps)> = Vec::new();
    let mut add = |entity, key, kind: &'static str, opts| {
        let name: Arc<str> = Arc::from(g.prop_key_name(key).unwrap_or_default());
        let i = match out.iter().position(|(e, _)| *e == entity) {
            Some(i) => i,
            None => {
                out.push((entity, Vec::new()));
                out.len() - 1
            }
        };
        let props = &mut out[i].1;
        match props.iter_mut().find(|(n, ..)| *n == name) {
            Some((_, kinds, o)) => {
                kinds.push(kind);
                *o = o.or(opts);
            }
            None => props.push((name, vec![kind], opts)),
        }
    };
    for ix in g.list_indexes() {
        add(ix.entity, ix.key, "RANGE", None);
    }
    for vx in g.list_vector_indexes() {
        add(vx.entity, vx.key, "VECTOR", Some(vx.options));
    }
    out.into_iter()
        .map(|(entity, props)| {
            let (label, kind) = match entity {
                IndexEntity::Label(l) => (g.label_name(l), "NODE"),
                IndexEntity::RelType(t) => (g.rel_type_name(t), "RELATIONSHIP"),
            };
            let names = props
                .iter()
                .map(|(n, ..)| Value::String(n.clone()))
                .collect();
            let types = props
                .iter()
                .map(|(n, k, _)| {
                    (
                        n.clone(),
                        Value::List(k.iter().map(|t| Value::str(t)).collect()),
                    )
                })
                .collect();
            let options = props
                .iter()
                .filter_map(|(n, _, o)| o.map(|o| (n.clone(), vector_options(&o))))
                .collect();
            vec![
                s(label.unwrap_or_default()),
                RV::Value(Value::List(names)),
                RV::Value(Value::Map(types)),
                RV::Value(Value::Map(options)),
                s("english"),
                RV::Value(Value::List(Vec::new())),
                s(kind),
                s("OPERATIONAL"),
                RV::Value(Value::Map(Vec::new())),
            ]
        })
        .collect()
}

/// `db.constraints()`: one record per constraint in FalkorDB's order — relationship-type
/// constraints before label ones, schema ids descending, and the newest first within one
/// label/type — with `properties` as a list of names in property-id order.
fn list_constraints(g: &Graph) -> Vec<Vec<RV>> {
    let all = g.list_constraints();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| {
        let (group, id) = match all[i].entity {
            IndexEntity::RelType(t) => (0u8, t.0),
            IndexEntity::Label(l) => (1u8, l.0),
        };
        (group, std::cmp::Reverse(id), std::cmp::Reverse(i))
    });
    order
        .into_iter()
        .filter_map(|i| all.get(i))
        .map(|c| {
            let (label, kind) = match c.entity {
                IndexEntity::Label(l) => (g.label_name(l), "NODE"),
                IndexEntity::RelType(t) => (g.rel_type_name(t), "RELATIONSHIP"),
            };
            let props = c
                .keys
                .iter()
                .map(|&k| Value::str(g.prop_key_name(k).unwrap_or_default()))
                .collect();
            vec![
                s(c.kind.name()),
                s(label.unwrap_or_default()),
                RV::Value(Value::List(props)),
                s(kind),
                s(c.status.name()),
            ]
        })
        .collect()
}

fn vector_options(o: &crate::VectorOptions) -> Value {
    let int = |v: u32| Value::Int(i64::from(v));
    Value::Map(vec![
        (Arc::from("dimension"), int(o.dimension)),
        (
            Arc::from("similarityFunction"),
            Value::str(o.similarity.name()),
        ),
        (Arc::from("M"), int(o.m)),
        (Arc::from("efConstruction"), int(o.ef_construction)),
        (Arc::from("efRuntime"), int(o.ef_runtime)),
    ])
}

/// `db.idx.vector.queryNodes(label, attribute, k, query)` (or `queryRelationships` with a
/// relationship type): the `k` nearest entities with their scores, closest first. `query` is a
/// vecf32 or a list of numbers of the index's dimension.
fn vector_query(g: &Graph, args: &[RV], rel: bool) -> Result<Vec<Vec<RV>>> {
    let bad = |m: &str| ExecError::Invalid(m.to_string());
    let [label, attr, k, q] = args else {
        return Err(bad("Invalid arguments"));
    };
    let text = |v: &RV| match v {
        RV::Value(Value::String(x)) => Some(x.clone()),
        _ => None,
    };
    let (Some(label), Some(attr)) = (text(label), text(attr)) else {
        return Err(bad(
            "Invalid arguments: label and attribute must be strings",
        ));
    };
    let k = match k {
        RV::Value(Value::Int(k)) if *k >= 0 => *k as usize,
        _ => return Err(bad("Invalid arguments: k must be a non-negative integer")),
    };
    let query: Vec<f32> = match q {
        RV::Value(Value::VecF32(v)) => v.to_vec(),
        RV::Value(Value::List(xs)) => xs
            .iter()
            .map(|x| match x {
                Value::Int(i) => Some(*i as f32),
                Value::Float(f) => Some(*f as f32),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad("Invalid arguments: query must be a vector"))?,
        _ => return Err(bad("Invalid arguments: query must be a vector")),
    };
    let entity = if rel {
        g.rel_type_id(&label).map(IndexEntity::RelType)
    } else {
        g.label_id(&label).map(IndexEntity::Label)
    };
    let Some((entity, key)) = entity
        .zip(g.prop_key_id(&attr))
        .filter(|(e, k)| g.has_vector_index(*e, *k))
    else {
        return Err(ExecError::Invalid(format!(
            "No vector index on :{label}({attr})"
        )));
    };
    let hits = g
        .vector_knn(entity, key, &query, k)
        .map_err(|e| ExecError::Invalid(e.to_string()))?;
    Ok(hits
        .into_iter()
        .map(|(id, score)| {
            let e = if rel {
                RV::Edge(crate::ids::EdgeId(id))
            } else {
                RV::Node(crate::ids::NodeId(id))
            };
            vec![e, RV::Value(Value::Float(f64::from(score)))]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_schema_is_listed() {
        let mut g = Graph::new();
        let l = g.intern_label("Person");
        let k = g.intern_prop_key("name");
        g.intern_rel_type("KNOWS");
        g.create_node(&[l], vec![(k, Value::str("a"))]).ok();
        assert_eq!(columns("DB.LABELS"), Some(&["label"][..]));
        let rows = call(&g, "DB.LABELS", &[]).ok().unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert!(matches!(&rows[0][0], RV::Value(Value::String(s)) if &**s == "Person"));
        let rows = call(&g, "db.relationshiptypes", &[])
            .ok()
            .unwrap_or_default();
        assert_eq!(rows.len(), 1);
        let rows = call(&g, "db.propertyKeys", &[]).ok().unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert!(call(&g, "db.nope", &[]).is_err());
        assert!(call(&g, "db.labels", &[RV::Value(Value::Int(1))]).is_err());
    }

    #[test]
    fn indexes_are_listed_per_label() {
        let mut g = Graph::new();
        let l = g.intern_label("P");
        let a = g.intern_prop_key("a");
        let b = g.intern_prop_key("b");
        assert!(g.create_index(IndexEntity::Label(l), a).is_ok());
        assert!(g.create_index(IndexEntity::Label(l), b).is_ok());
        let rows = call(&g, "db.indexes", &[]).ok().unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert!(
            matches!(&rows[0][1], RV::Value(Value::List(k)) if k.len() == 2),
            "{rows:?}"
        );
    }
}
