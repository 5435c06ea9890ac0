//! Graph values in DUMP payloads and snapshot section 3 (SPEC.md §3.6, §8.2).
//!
//! A graph's RDB object is Moon's own: the type byte [`RDB_TYPE_GRAPH`] followed by the graph's
//! storage encoding (`moon_graph::Graph::encode`, SPEC §9.1) up to the payload footer. It is
//! sealed like every other DUMP payload (RDB version 10, CRC-64), so DUMP/RESTORE, the
//! cross-shard primitives (RENAME/MOVE/COPY through `codec::image_payload`) and the WAL's
//! RESTORE images carry graphs unchanged; redis-server refuses the payload ("Bad data format").
//!
//! Invariants: decoding validates everything through `Graph::decode*` and never panics; the
//! bytes a graph's section-3 parts carry are exactly the object minus its type byte, so a graph
//! moves between a DUMP payload and snapshot parts without being re-encoded.

use moon_graph::{Graph, LabelId, RelTypeId};

use crate::graph::GraphValue;
use crate::keyspace::entry::{Entry, LargeValue};

/// The object type byte of a graph in Moon's DUMP payloads: outside Redis's object types
/// (0..=25 as of 7.4) and its opcodes (244..=255).
pub const RDB_TYPE_GRAPH: u8 = 200;

/// Slots (node or edge) a RESTORE payload may declare beyond what its size justifies:
/// `Graph::decode` allocates the slot arrays up front, so an untrusted payload must not name
/// billions of free slots in a few bytes. Snapshot loading (CRC-checked files Moon wrote) has
/// no such bound.
const RESTORE_MIN_SLOT_LIMIT: u64 = 1 << 24;
/// Slots allowed per payload byte above [`RESTORE_MIN_SLOT_LIMIT`].
const RESTORE_SLOTS_PER_BYTE: u64 = 16;

/// The graph of an entry, if it holds one.
pub fn graph_of(e: &Entry) -> Option<&Graph> {
    match e.value()? {
        LargeValue::Graph(g) => Some(&g.graph),
        _ => None,
    }
}

/// Appends a graph's RDB object (type byte + storage encoding) to `out`.
pub fn encode_object(g: &Graph, out: &mut Vec<u8>) {
    out.push(RDB_TYPE_GRAPH);
    g.encode(out);
}

/// Decodes the bytes after a graph object's type byte (RESTORE: bounded slot arrays).
pub fn decode_object(body: &[u8]) -> Option<LargeValue> {
    let limit =
        RESTORE_MIN_SLOT_LIMIT.max((body.len() as u64).saturating_mul(RESTORE_SLOTS_PER_BYTE));
    let g = Graph::decode_with_limit(body, limit).ok()?;
    Some(graph_value(g))
}

/// The keyspace value holding `g`.
pub fn graph_value(g: Graph) -> LargeValue {
    LargeValue::Graph(Box::new(GraphValue::from_graph(g)))
}

/// The storage encoding inside a graph DUMP payload this process produced (type byte first,
/// 10-byte footer last), without re-checking the footer; `None` if it is not a graph payload.
pub fn image_graph_bytes(payload: &[u8]) -> Option<&[u8]> {
    match payload.split_first() {
        Some((&RDB_TYPE_GRAPH, rest)) => rest.get(..rest.len().checked_sub(10)?),
        _ => None,
    }
}

/// What `moon-tool` shows of a graph: its counts and schema names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphSummary {
    /// Live nodes.
    pub nodes: u64,
    /// Live relationships.
    pub edges: u64,
    /// Labels with their node counts, in id order.
    pub labels: Vec<(String, u64)>,
    /// Relationship types with their counts, in id order.
    pub rel_types: Vec<(String, u64)>,
    /// Property key names.
    pub prop_keys: usize,
    /// Range indexes.
    pub indexes: usize,
}

/// Decodes a graph's storage encoding (as snapshot section 3 carries it) and summarizes it;
/// the error names the byte offset within the encoding.
pub fn summarize(encoding: &[u8]) -> Result<GraphSummary, String> {
    let g = Graph::decode(encoding).map_err(|e| e.to_string())?;
    Ok(summary_of(&g))
}

/// The summary of a decoded graph.
pub fn summary_of(g: &Graph) -> GraphSummary {
    let s = g.schema();
    GraphSummary {
        nodes: g.node_count(),
        edges: g.edge_count(),
        labels: s
            .labels
            .names()
            .enumerate()
            .map(|(i, n)| (n.to_string(), g.label_count(LabelId(i as u32))))
            .collect(),
        rel_types: s
            .rel_types
            .names()
            .enumerate()
            .map(|(i, n)| (n.to_string(), g.rel_type_count(RelTypeId(i as u32))))
            .collect(),
        prop_keys: s.prop_keys.len(),
        indexes: g.list_indexes().len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::dump::codec::{self, Decoded};
    use crate::shard::TypeLimits;
    use moon_graph::Value;

    /// A small graph: two labels, one type, a property, a deleted node (a free slot).
    pub(crate) fn sample() -> Graph {
        let mut g = Graph::new();
        let person = g.intern_label("Person");
        let city = g.intern_label("City");
        let lives = g.intern_rel_type("LIVES_IN");
        let name = g.intern_prop_key("name");
        let a = g
            .create_node(&[person], vec![(name, Value::String("ann".into()))])
            .expect("node");
        let gone = g.create_node(&[person], vec![]).expect("node");
        let c = g
            .create_node(&[city], vec![(name, Value::String("rome".into()))])
            .expect("node");
        g.create_edge(a, c, lives, vec![]).expect("edge");
        g.delete_node(gone, false).expect("delete");
        g
    }

    #[test]
    fn dump_payload_round_trips_and_is_validated() {
        let g = sample();
        let mut object = Vec::new();
        encode_object(&g, &mut object);
        assert_eq!(object[0], RDB_TYPE_GRAPH);
        let payload = codec::seal_payload(object.clone());
        assert_eq!(image_graph_bytes(&payload), Some(&object[1..]));
        let body = codec::open_payload(&payload).expect("footer");
        let Some(Decoded::Value(LargeValue::Graph(v))) =
            codec::decode_object(body, &TypeLimits::default())
        else {
            panic!("not a graph")
        };
        let mut again = Vec::new();
        encode_object(&v.graph, &mut again);
        assert_eq!(again, object, "ids, schema and free slots survive");
        // Any truncation or a trailing byte is rejected, never a panic.
        for cut in 1..object.len() {
            assert!(decode_object(&object[1..cut]).is_none(), "cut at {cut}");
        }
        let mut long = object[1..].to_vec();
        long.push(0);
        assert!(decode_object(&long).is_none());
        assert_eq!(image_graph_bytes(b"\x00abc"), None);
        assert_eq!(image_graph_bytes(&[RDB_TYPE_GRAPH, 1]), None);
    }

    #[test]
    fn restore_bounds_declared_slots() {
        let g = Graph::new();
        let mut body = Vec::new();
        g.encode(&mut body);
        // version, 3 empty name lists, then node_slots: claim 2^31 free node slots in a
        // 45-byte payload (a trusted decode would allocate them all).
        let at = 1 + 3 * 4;
        body[at..at + 8].copy_from_slice(&(1u64 << 31).to_le_bytes());
        assert!(decode_object(&body).is_none());
        body[at..at + 8].copy_from_slice(&1000u64.to_le_bytes());
        assert!(
            decode_object(&body).is_some(),
            "free slots within the bound load"
        );
    }

    #[test]
    fn summary_counts_and_names() {
        let mut enc = Vec::new();
        sample().encode(&mut enc);
        let s = summarize(&enc).expect("decodes");
        assert_eq!((s.nodes, s.edges), (2, 1));
        assert_eq!(
            s.labels,
            vec![("Person".to_string(), 1), ("City".to_string(), 1)]
        );
        assert_eq!(s.rel_types, vec![("LIVES_IN".to_string(), 1)]);
        assert_eq!((s.prop_keys, s.indexes), (1, 0));
        let err = summarize(&enc[..enc.len() - 1]).expect_err("truncated");
        assert!(err.contains("decode error at byte"), "{err}");
    }
}
