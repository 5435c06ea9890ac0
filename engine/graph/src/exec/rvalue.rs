//! The executor's runtime value: a property [`Value`] or a graph entity (node, relationship,
//! path), and lists/maps that contain entities.
//!
//! Invariant (kept by [`ResultValue::list`] / [`ResultValue::map`]): `List`/`Map` are used only
//! when at least one element is not a plain `Value`; entity-free lists and maps are always
//! `Value(Value::List/Map)`. So pure values delegate to `Value`'s comparisons unchanged.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::ids::{EdgeId, NodeId};
use crate::value::{Equiv, RANK_LIST, RANK_MAP, RANK_NODE, RANK_PATH, RANK_REL, Value};

/// A path: `nodes.len() == edges.len() + 1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    pub nodes: Vec<NodeId>,
    pub edges: Vec<EdgeId>,
}

/// A value in a result row.
#[derive(Clone, Debug)]
pub enum ResultValue {
    Value(Value),
    Node(NodeId),
    Edge(EdgeId),
    Path(Path),
    /// A list holding at least one entity.
    List(Vec<ResultValue>),
    /// A map holding at least one entity.
    Map(Vec<(Arc<str>, ResultValue)>),
}

pub(crate) const NULL: ResultValue = ResultValue::Value(Value::Null);

impl ResultValue {
    /// Builds a list, as a plain `Value::List` when it holds no entity.
    pub fn list(items: Vec<ResultValue>) -> ResultValue {
        if items.iter().all(|v| matches!(v, ResultValue::Value(_))) {
            ResultValue::Value(Value::List(
                items
                    .into_iter()
                    .map(|v| match v {
                        ResultValue::Value(v) => v,
                        _ => Value::Null,
                    })
                    .collect(),
            ))
        } else {
            ResultValue::List(items)
        }
    }

    /// Builds a map, as a plain `Value::Map` when it holds no entity. Later duplicate keys win.
    pub fn map(mut entries: Vec<(Arc<str>, ResultValue)>) -> ResultValue {
        let mut seen = std::collections::HashSet::new();
        let mut dedup = Vec::with_capacity(entries.len());
        while let Some((k, v)) = entries.pop() {
            if seen.insert(k.clone()) {
                dedup.push((k, v));
            }
        }
        dedup.reverse();
        if dedup
            .iter()
            .all(|(_, v)| matches!(v, ResultValue::Value(_)))
        {
            ResultValue::Value(Value::Map(
                dedup
                    .into_iter()
                    .map(|(k, v)| match v {
                        ResultValue::Value(v) => (k, v),
                        _ => (k, Value::Null),
                    })
                    .collect(),
            ))
        } else {
            ResultValue::Map(dedup)
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, ResultValue::Value(Value::Null))
    }

    /// The elements if this is a list (of any kind).
    pub fn list_items(&self) -> Option<Vec<ResultValue>> {
        match self {
            ResultValue::Value(Value::List(l)) => {
                Some(l.iter().cloned().map(ResultValue::Value).collect())
            }
            ResultValue::List(l) => Some(l.clone()),
            _ => None,
        }
    }

    /// The entries if this is a map (of any kind).
    pub fn map_entries(&self) -> Option<Vec<(Arc<str>, ResultValue)>> {
        match self {
            ResultValue::Value(Value::Map(m)) => Some(
                m.iter()
                    .map(|(k, v)| (k.clone(), ResultValue::Value(v.clone())))
                    .collect(),
            ),
            ResultValue::Map(m) => Some(m.clone()),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            ResultValue::Value(v) => v.order_rank(),
            ResultValue::Node(_) => RANK_NODE,
            ResultValue::Edge(_) => RANK_REL,
            ResultValue::Path(_) => RANK_PATH,
            ResultValue::List(_) => RANK_LIST,
            ResultValue::Map(_) => RANK_MAP,
        }
    }

    /// Orderability (ORDER BY): `Value::order_cmp` extended with entities.
    pub fn order_cmp(&self, other: &ResultValue) -> Ordering {
        use ResultValue as R;
        match (self, other) {
            (R::Value(a), R::Value(b)) => a.order_cmp(b),
            _ if self.rank() != other.rank() => self.rank().cmp(&other.rank()),
            (R::Node(a), R::Node(b)) => a.0.cmp(&b.0),
            (R::Edge(a), R::Edge(b)) => a.0.cmp(&b.0),
            (R::Path(a), R::Path(b)) => a
                .nodes
                .iter()
                .map(|n| n.0)
                .cmp(b.nodes.iter().map(|n| n.0))
                .then_with(|| a.edges.iter().map(|e| e.0).cmp(b.edges.iter().map(|e| e.0))),
            _ => {
                if let (Some(a), Some(b)) = (self.list_items(), other.list_items()) {
                    for (x, y) in a.iter().zip(&b) {
                        let o = x.order_cmp(y);
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    return a.len().cmp(&b.len());
                }
                if let (Some(mut a), Some(mut b)) = (self.map_entries(), other.map_entries()) {
                    a.sort_by(|x, y| x.0.cmp(&y.0));
                    b.sort_by(|x, y| x.0.cmp(&y.0));
                    for ((ka, va), (kb, vb)) in a.iter().zip(&b) {
                        let o = ka.cmp(kb).then_with(|| va.order_cmp(vb));
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    return a.len().cmp(&b.len());
                }
                Ordering::Equal
            }
        }
    }

    /// Three-valued `=`: `None` is null.
    pub fn cypher_eq(&self, other: &ResultValue) -> Option<bool> {
        use ResultValue as R;
        match (self, other) {
            (R::Value(a), R::Value(b)) => a.cypher_eq(b),
            (R::Value(Value::Null), _) | (_, R::Value(Value::Null)) => None,
            (R::Node(a), R::Node(b)) => Some(a == b),
            (R::Edge(a), R::Edge(b)) => Some(a == b),
            (R::Path(a), R::Path(b)) => Some(a == b),
            _ => {
                if let (Some(a), Some(b)) = (self.list_items(), other.list_items()) {
                    if a.len() != b.len() {
                        return Some(false);
                    }
                    let mut null = false;
                    for (x, y) in a.iter().zip(&b) {
                        match x.cypher_eq(y) {
                            Some(false) => return Some(false),
                            None => null = true,
                            Some(true) => {}
                        }
                    }
                    return if null { None } else { Some(true) };
                }
                if let (Some(a), Some(b)) = (self.map_entries(), other.map_entries()) {
                    if a.len() != b.len() {
                        return Some(false);
                    }
                    let mut null = false;
                    for (k, x) in &a {
                        let Some((_, y)) = b.iter().find(|(kb, _)| kb == k) else {
                            return Some(false);
                        };
                        match x.cypher_eq(y) {
                            Some(false) => return Some(false),
                            None => null = true,
                            Some(true) => {}
                        }
                    }
                    return if null { None } else { Some(true) };
                }
                Some(false)
            }
        }
    }

    /// Three-valued `<`-family comparison: `None` for null or incomparable.
    pub fn cypher_cmp(&self, other: &ResultValue) -> Option<Ordering> {
        match (self, other) {
            (ResultValue::Value(a), ResultValue::Value(b)) => a.cypher_cmp(b),
            _ => None,
        }
    }
}

/// Equivalence wrapper for grouping / DISTINCT (null ≡ null), consistent with `order_cmp`.
#[derive(Clone, Debug)]
pub struct Grouped(pub ResultValue);

impl PartialEq for Grouped {
    fn eq(&self, other: &Self) -> bool {
        self.0.order_cmp(&other.0) == Ordering::Equal
    }
}

impl Eq for Grouped {}

impl Hash for Grouped {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            ResultValue::Value(v) => {
                0u8.hash(state);
                Equiv(v.clone()).hash(state);
            }
            ResultValue::Node(n) => (1u8, n.0).hash(state),
            ResultValue::Edge(e) => (2u8, e.0).hash(state),
            ResultValue::Path(p) => (3u8, p).hash(state),
            // Entity-holding lists/maps hash by length only: rare, and still consistent.
            ResultValue::List(l) => (4u8, l.len()).hash(state),
            ResultValue::Map(m) => (5u8, m.len()).hash(state),
        }
    }
}
