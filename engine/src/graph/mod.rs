//! The graph data type in the keyspace: [`GraphValue`] is what a `LargeValue::Graph` holds (a
//! `moon_graph::Graph`), the FalkorDB reply encodings (`reply`), the process-wide GRAPH.CONFIG
//! table (`config`), the WAL form of graph writes (`GRAPH.EFFECT key <blob>`) and the canonical
//! commands of the graph ops. The shard-side execution is `crate::shard::graph`.
//!
//! The effect blob is `moon_graph::Mutation::encode_batch` of the query's recorded mutations
//! (its own version byte first, `MUTATION_VERSION`); replaying it with `Graph::apply` on the
//! graph as it was reproduces the same state with the same ids. [`image_mutations`] gives the
//! mutations that build a whole graph from empty with its exact ids (GRAPH.COPY across shards).
//!
//! Invariants: a graph key's value is only ever touched by the shard thread owning the key;
//! the mutation recorder of the wrapped graph is off between ops (an op that turns it on takes
//! the records before returning), so a stored graph never carries a pending log.

pub mod config;
pub mod release;
pub mod reply;
pub mod slowlog;

use bytes::Bytes;
use moon_graph::{EdgeId, Graph, LabelId, Mutation, NodeId, PropKeyId, RelTypeId};

use crate::ir::ops::GraphOp;

/// One graph key's value.
///
/// Memory accounting: the keyspace asks `mem_bytes` before and after every write, so it must
/// be O(1); walking the graph (`Graph::memory_usage`) is O(graph). The value therefore keeps the
/// last measurement and scales it by the entity count between measurements, re-measuring once
/// the entities changed since amount to an eighth of the graph (amortized O(1) per change).
/// The estimate only changes in `after_write`/`remeasure`, called inside the keyspace's
/// update closures, so the keyspace's running total stays exact with respect to it.
#[derive(Debug, Clone)]
pub struct GraphValue {
    /// The property graph.
    pub graph: Graph,
    /// `mem_bytes`'s answer.
    mem: usize,
    /// `Graph::memory_usage` at the last measurement, and the entities then.
    measured: usize,
    measured_entities: u64,
    /// Entity changes (created, deleted, properties, labels) since the last measurement.
    unmeasured: u64,
}

impl Default for GraphValue {
    fn default() -> GraphValue {
        GraphValue::from_graph(Graph::default())
    }
}

impl GraphValue {
    /// An empty graph.
    pub fn new() -> GraphValue {
        GraphValue::default()
    }

    /// Wraps a graph (RESTORE, snapshot load, GRAPH.COPY).
    pub fn from_graph(graph: Graph) -> GraphValue {
        let mut v = GraphValue {
            graph,
            mem: 0,
            measured: 0,
            measured_entities: 0,
            unmeasured: 0,
        };
        v.remeasure();
        v
    }

    /// Estimated heap bytes owned (MEMORY USAGE, maxmemory accounting); O(1).
    pub fn mem_bytes(&self) -> usize {
        self.mem
    }

    fn entities(&self) -> u64 {
        self.graph.node_count() + self.graph.edge_count()
    }

    /// Measures the graph exactly (O(graph)): GRAPH.MEMORY USAGE, index builds, and every
    /// eighth of the graph's size in changes.
    pub fn remeasure(&mut self) {
        self.measured = self.graph.memory_usage();
        self.measured_entities = self.entities();
        self.unmeasured = 0;
        self.mem = self.measured;
    }

    /// Accounts for a write that changed `changes` entities or properties.
    pub fn after_write(&mut self, changes: u64) {
        if changes == 0 {
            return;
        }
        self.unmeasured = self.unmeasured.saturating_add(changes);
        let now = self.entities();
        if self.unmeasured.saturating_mul(8) >= now.max(self.measured_entities).max(64) {
            self.remeasure();
            return;
        }
        // Between measurements, bytes scale with the entity count (the average entity's size
        // at the last measurement).
        let per = self.measured as f64 / self.measured_entities.max(1) as f64;
        let delta = (now as f64 - self.measured_entities as f64) * per;
        self.mem = (self.measured as f64 + delta).max(std::mem::size_of::<Graph>() as f64) as usize;
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        "graphdata"
    }
}

/// Two graphs are equal when their snapshot encodings are (ids, schema, properties, indexes):
/// used by WATCH's `same_data` and tests; never on a hot path.
impl PartialEq for GraphValue {
    fn eq(&self, other: &GraphValue) -> bool {
        if std::ptr::eq(self, other) {
            return true;
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        self.graph.encode(&mut a);
        other.graph.encode(&mut b);
        a == b
    }
}

impl Eq for GraphValue {}

/// The canonical command of a graph op, for the WAL (`None`: nothing to log as such; a write
/// query logs its effect itself).
pub fn unparse(op: &GraphOp) -> Option<Vec<Bytes>> {
    let st = Bytes::from_static;
    match op {
        GraphOp::Delete { key } => Some(vec![st(b"GRAPH.DELETE"), key.clone()]),
        GraphOp::Effect { key, blob } => Some(vec![st(b"GRAPH.EFFECT"), key.clone(), blob.clone()]),
        GraphOp::Copy { src, dst } => Some(vec![st(b"GRAPH.COPY"), src.clone(), dst.clone()]),
        _ => None,
    }
}

/// `GRAPH.EFFECT key blob` for these mutations.
pub fn effect_command(key: &[u8], mutations: &[Mutation]) -> Vec<Bytes> {
    let mut blob = Vec::new();
    Mutation::encode_batch(mutations, &mut blob);
    vec![
        Bytes::from_static(b"GRAPH.EFFECT"),
        Bytes::copy_from_slice(key),
        Bytes::from(blob),
    ]
}

/// Mutations that rebuild `g` from an empty graph with the same ids, schema ids and
/// indexes. Free node/edge slots below the highest used one are created as placeholders and
/// deleted at the end, so the rebuilt graph reuses ids in the same order.
pub fn image_mutations(g: &Graph) -> Vec<Mutation> {
    let mut out = Vec::new();
    let s = g.schema();
    for (i, name) in s.labels.names().enumerate() {
        out.push(Mutation::AddLabel {
            id: LabelId(i as u32),
            name: name.to_string(),
        });
    }
    for (i, name) in s.rel_types.names().enumerate() {
        out.push(Mutation::AddRelType {
            id: RelTypeId(i as u32),
            name: name.to_string(),
        });
    }
    for (i, name) in s.prop_keys.names().enumerate() {
        out.push(Mutation::AddPropKey {
            id: PropKeyId(i as u32),
            name: name.to_string(),
        });
    }
    let mut node_holes = Vec::new();
    for slot in 0..g.node_capacity() {
        let id = NodeId(slot);
        if g.node_exists(id) {
            out.push(Mutation::CreateNode {
                id,
                labels: g.node_labels(id).unwrap_or(&[]).to_vec(),
                props: g.node_props(id).map(|p| p.to_vec()).unwrap_or_default(),
            });
        } else {
            node_holes.push(id);
            out.push(Mutation::CreateNode {
                id,
                labels: Vec::new(),
                props: Vec::new(),
            });
        }
    }
    let anchor = g.nodes().next();
    let mut edge_holes = Vec::new();
    for slot in 0..g.edge_capacity() {
        let id = EdgeId(slot);
        match g.edge(id) {
            Some(e) => out.push(Mutation::CreateEdge {
                id,
                src: e.src,
                dst: e.dst,
                rel: e.rel,
                props: g.edge_props(id).map(|p| p.to_vec()).unwrap_or_default(),
            }),
            None => {
                // A free edge slot below a live one: a placeholder between live nodes (there
                // is one, since a live edge exists) with any type (one exists too).
                if let Some(n) = anchor
                    && !s.rel_types.is_empty()
                {
                    edge_holes.push(id);
                    out.push(Mutation::CreateEdge {
                        id,
                        src: n,
                        dst: n,
                        rel: RelTypeId(0),
                        props: Vec::new(),
                    });
                }
            }
        }
    }
    for id in edge_holes {
        out.push(Mutation::DeleteEdge { id });
    }
    for id in node_holes {
        out.push(Mutation::DeleteNode { id });
    }
    for ix in g.list_indexes() {
        out.push(Mutation::CreateIndex {
            entity: ix.entity,
            key: ix.key,
            kind: ix.kind,
        });
    }
    for vx in g.list_vector_indexes() {
        out.push(Mutation::CreateVectorIndex {
            entity: vx.entity,
            key: vx.key,
            options: vx.options,
        });
    }
    out.extend(g.constraint_image());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_mutations_rebuild_the_same_ids() {
        let mut g = Graph::new();
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(g.create_node(&[], vec![]).unwrap_or(NodeId(0)));
        }
        let _ = g.delete_node(NodeId(1), true);
        let _ = g.delete_node(NodeId(3), true);
        let mut copy = Graph::new();
        for m in image_mutations(&g) {
            copy.apply(&m).unwrap_or_else(|e| panic!("{m:?}: {e}"));
        }
        let live: Vec<NodeId> = copy.nodes().collect();
        assert_eq!(live, g.nodes().collect::<Vec<_>>());
        assert_eq!(GraphValue::from_graph(copy), GraphValue::from_graph(g));
    }
}
