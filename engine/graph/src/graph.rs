//! The `Graph` value: entity stores, label bitmaps, per-type adjacency, indexes, and the
//! read-side API (lookups, scans, compaction control, memory accounting).
//!
//! Storage invariants:
//! - `nodes[s]` is `Some` iff node slot `s` is live; `node_free` holds exactly the `None` slots
//!   (reused lowest-first); `node_count` is the number of live slots.
//! - `edges.get(s)` is `None` (its `rel` is `FREE`) iff edge slot `s` is not live. A dead slot is either in `edge_free`
//!   (reusable) or in `edge_pending` (still referenced by `pending` CSR adjacencies as a dead
//!   entry: its id must not be reused before compaction drops those entries).
//! - `label_nodes[l]` holds exactly the live nodes carrying label `l`; node label sets are
//!   sorted and unique.
//! - `adj[t][0]` (out, keyed by source) and `adj[t][1]` (in, keyed by destination) hold every
//!   live edge of type `t` exactly once each; `self_loops[(t, v)]` counts live `v→v` edges.
//!
//! Mutations live in `write.rs`, traversal in `traverse.rs`, snapshots in `snapshot.rs`,
//! constraints in `constraint.rs`.

use crate::adjacency::Adjacency;
use crate::edges::EdgeTable;
use crate::ids::{EdgeId, LabelId, NodeId, PropKeyId, RelTypeId};
use crate::index::{IndexEntity, IndexInfo, IndexKind, IndexRange, RangeIndex};
use crate::mutation::Mutation;
use crate::props::PropMap;
use crate::schema::Schema;
use crate::value::Value;
use crate::vector_index::{GraphVectorIndex, VectorIndexInfo};
use hashbrown::HashMap;
use roaring::RoaringBitmap;
use smallvec::SmallVec;

/// Rel-type marker of a free edge slot.
pub(crate) const FREE: u32 = u32::MAX;

pub(crate) type LabelSet = SmallVec<[LabelId; 2]>;

#[derive(Clone, Debug)]
pub(crate) struct NodeRec {
    pub labels: LabelSet,
    pub props: PropMap,
}

/// One live edge's endpoints and type (stored column-wise by `EdgeTable`). Edge properties
/// live in `Graph::edge_props`, keyed by slot, because most edges have none and the edge table
/// is the largest per-edge cost after adjacency.
#[derive(Copy, Clone, Debug)]
pub(crate) struct EdgeRec {
    pub src: u32,
    pub dst: u32,
    pub rel: u32,
}

/// A relationship's endpoints and type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct EdgeRef {
    pub id: EdgeId,
    pub src: NodeId,
    pub dst: NodeId,
    pub rel: RelTypeId,
}

/// Errors of graph operations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("node {0} does not exist")]
    NodeNotFound(NodeId),
    #[error("relationship {0} does not exist")]
    EdgeNotFound(EdgeId),
    #[error("node {node} still has {edges} relationships; use DETACH DELETE")]
    NodeHasEdges { node: NodeId, edges: u64 },
    #[error("unknown label id {0}")]
    UnknownLabel(LabelId),
    #[error("unknown relationship type id {0}")]
    UnknownRelType(RelTypeId),
    #[error("unknown property key id {0}")]
    UnknownPropKey(PropKeyId),
    #[error("graph is full (at most {} nodes or relationships)", crate::ids::MAX_ENTITIES - 1)]
    CapacityExceeded,
    #[error("id {0} is not available for this record")]
    IdNotFree(u64),
    #[error("schema record does not match the graph: {0}")]
    SchemaMismatch(String),
    #[error("an index on this property already exists")]
    IndexExists,
    #[error("no such index")]
    IndexNotFound,
    #[error("Vector dimension mismatch, expected {expected} but got {got}")]
    VectorDimMismatch { expected: u32, got: usize },
    #[error("Invalid vector index configuration: {0}")]
    InvalidVectorIndex(String),
    #[error("Constraint already exists")]
    ConstraintExists,
    #[error("Unable to drop constraint, no such constraint.")]
    ConstraintNotFound,
    #[error("missing supporting exact-match index")]
    MissingConstraintIndex,
    #[error("Index supports constraint")]
    IndexSupportsConstraint,
    #[error("invalid constraint: {0}")]
    InvalidConstraint(String),
}

/// A property graph (see the crate doc). Single-threaded: reads take `&self`, writes `&mut self`.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub(crate) schema: Schema,
    pub(crate) nodes: Vec<Option<NodeRec>>,
    pub(crate) node_free: RoaringBitmap,
    pub(crate) node_count: u64,
    pub(crate) label_nodes: Vec<RoaringBitmap>,
    pub(crate) edges: EdgeTable,
    /// Properties of the live edges that have any (no entry = no properties).
    pub(crate) edge_props: HashMap<u32, PropMap>,
    /// Returned by `edge_props` for an edge without properties (allocates nothing).
    pub(crate) no_props: PropMap,
    pub(crate) edge_free: RoaringBitmap,
    /// Held-back edge slot → (its former type, adjacencies still holding it dead).
    pub(crate) edge_pending: HashMap<u32, (u32, u8)>,
    pub(crate) edge_count: u64,
    pub(crate) type_counts: Vec<u64>,
    pub(crate) adj: Vec<[Adjacency; 2]>,
    pub(crate) self_loops: HashMap<(u32, u32), u32>,
    pub(crate) indexes: Vec<RangeIndex>,
    pub(crate) vector_indexes: Vec<GraphVectorIndex>,
    /// Constraints in creation order (see `constraint`).
    pub(crate) constraints: Vec<crate::constraint::ConstraintInfo>,
    pub(crate) compact_cursor: usize,
    pub(crate) recording: bool,
    pub(crate) log: Vec<Mutation>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// GRAPH.COPY: an independent deep copy (the mutation log is not copied).
    pub fn copy(&self) -> Graph {
        let mut g = self.clone();
        g.log.clear();
        g.recording = false;
        g
    }

    // ---- schema ----

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Changes whenever a label, relationship type or property key is added.
    pub fn schema_version(&self) -> u64 {
        self.schema.version()
    }

    pub fn label_id(&self, name: &str) -> Option<LabelId> {
        self.schema.labels.get(name).map(LabelId)
    }

    pub fn label_name(&self, id: LabelId) -> Option<&str> {
        self.schema.labels.name(id.0)
    }

    pub fn rel_type_id(&self, name: &str) -> Option<RelTypeId> {
        self.schema.rel_types.get(name).map(RelTypeId)
    }

    pub fn rel_type_name(&self, id: RelTypeId) -> Option<&str> {
        self.schema.rel_types.name(id.0)
    }

    pub fn prop_key_id(&self, name: &str) -> Option<PropKeyId> {
        self.schema.prop_keys.get(name).map(PropKeyId)
    }

    pub fn prop_key_name(&self, id: PropKeyId) -> Option<&str> {
        self.schema.prop_keys.name(id.0)
    }

    // ---- nodes ----

    pub(crate) fn node_rec(&self, id: NodeId) -> Option<&NodeRec> {
        self.nodes.get(id.slot()? as usize)?.as_ref()
    }

    pub fn node_exists(&self, id: NodeId) -> bool {
        self.node_rec(id).is_some()
    }

    pub fn node_count(&self) -> u64 {
        self.node_count
    }

    /// One past the highest node id ever allocated (the slot count).
    pub fn node_capacity(&self) -> u64 {
        self.nodes.len() as u64
    }

    /// The node's labels, sorted by id.
    pub fn node_labels(&self, id: NodeId) -> Option<&[LabelId]> {
        self.node_rec(id).map(|n| &n.labels[..])
    }

    pub fn node_has_label(&self, id: NodeId, label: LabelId) -> bool {
        self.node_rec(id).is_some_and(|n| n.labels.contains(&label))
    }

    pub fn node_props(&self, id: NodeId) -> Option<&PropMap> {
        self.node_rec(id).map(|n| &n.props)
    }

    pub fn node_property(&self, id: NodeId, key: PropKeyId) -> Option<&Value> {
        self.node_rec(id)?.props.get(key)
    }

    /// Asks the CPU to start loading node `id`'s properties, which a scan reads a few nodes
    /// later: each node's properties are their own allocation, so reading them one node after
    /// another waits on a cache miss per node; prefetched ahead, the misses overlap.
    #[inline]
    pub fn prefetch_node_props(&self, id: NodeId) {
        if let Some(rec) = self.node_rec(id) {
            // A pair is 40 bytes, so a node's few properties span two or three cache lines,
            // and the property a scan reads is as likely to be in the last as in the first.
            let pairs = rec.props.pairs();
            moon_vector::kernels::prefetch(pairs);
            if std::mem::size_of_val(pairs) > 64
                && let Some(last) = pairs.last()
            {
                moon_vector::kernels::prefetch(std::slice::from_ref(last));
            }
        }
    }

    /// All live nodes in id order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.is_some())
            .map(|(i, _)| NodeId(i as u64))
    }

    /// Label scan: the nodes carrying `label`, in id order.
    pub fn nodes_with_label(&self, label: LabelId) -> impl Iterator<Item = NodeId> + '_ {
        self.label_nodes
            .get(label.0 as usize)
            .into_iter()
            .flat_map(|b| b.iter())
            .map(|s| NodeId(u64::from(s)))
    }

    /// The label's node bitmap (for set algebra in the executor), if the label exists.
    pub fn label_bitmap(&self, label: LabelId) -> Option<&RoaringBitmap> {
        self.label_nodes.get(label.0 as usize)
    }

    pub fn label_count(&self, label: LabelId) -> u64 {
        self.label_nodes
            .get(label.0 as usize)
            .map_or(0, |b| b.len())
    }

    // ---- edges ----

    pub(crate) fn edge_rec(&self, id: EdgeId) -> Option<EdgeRec> {
        self.edges.get(id.slot()? as usize)
    }

    pub fn edge_exists(&self, id: EdgeId) -> bool {
        self.edge_rec(id).is_some()
    }

    pub fn edge(&self, id: EdgeId) -> Option<EdgeRef> {
        self.edge_rec(id).map(|e| EdgeRef {
            id,
            src: NodeId(u64::from(e.src)),
            dst: NodeId(u64::from(e.dst)),
            rel: RelTypeId(e.rel),
        })
    }

    pub fn edge_props(&self, id: EdgeId) -> Option<&PropMap> {
        self.edge_rec(id)?;
        Some(
            id.slot()
                .and_then(|s| self.edge_props.get(&s))
                .unwrap_or(&self.no_props),
        )
    }

    pub fn edge_property(&self, id: EdgeId, key: PropKeyId) -> Option<&Value> {
        self.edge_props.get(&id.slot()?)?.get(key)
    }

    pub fn edge_count(&self) -> u64 {
        self.edge_count
    }

    pub fn edge_capacity(&self) -> u64 {
        self.edges.len() as u64
    }

    /// Number of live relationships of one type.
    pub fn rel_type_count(&self, rel: RelTypeId) -> u64 {
        self.type_counts.get(rel.0 as usize).copied().unwrap_or(0)
    }

    /// All live relationships in id order.
    pub fn edges(&self) -> impl Iterator<Item = EdgeRef> + '_ {
        self.edges
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, e?)))
            .map(|(i, e)| EdgeRef {
                id: EdgeId(i as u64),
                src: NodeId(u64::from(e.src)),
                dst: NodeId(u64::from(e.dst)),
                rel: RelTypeId(e.rel),
            })
    }

    // ---- indexes ----

    pub(crate) fn find_index(&self, entity: IndexEntity, key: PropKeyId) -> Option<&RangeIndex> {
        self.indexes
            .iter()
            .find(|ix| ix.entity == entity && ix.key == key)
    }

    pub fn has_index(&self, entity: IndexEntity, key: PropKeyId) -> bool {
        self.find_index(entity, key).is_some()
    }

    /// For `db.indexes()`, in creation order.
    pub fn list_indexes(&self) -> Vec<IndexInfo> {
        self.indexes
            .iter()
            .map(|ix| IndexInfo {
                entity: ix.entity,
                key: ix.key,
                kind: IndexKind::Range,
            })
            .collect()
    }

    /// Nodes with `label` whose `key` lies in `range`, grouped by ascending value (ids ascend
    /// within a value). Empty if there is no such index.
    pub fn index_seek_nodes<'a>(
        &'a self,
        label: LabelId,
        key: PropKeyId,
        range: &'a IndexRange,
    ) -> impl Iterator<Item = NodeId> + 'a {
        self.find_index(IndexEntity::Label(label), key)
            .into_iter()
            .flat_map(move |ix| ix.seek(range))
            .map(|s| NodeId(u64::from(s)))
    }

    /// Relationships of type `rel` whose `key` lies in `range` (see `index_seek_nodes`).
    pub fn index_seek_edges<'a>(
        &'a self,
        rel: RelTypeId,
        key: PropKeyId,
        range: &'a IndexRange,
    ) -> impl Iterator<Item = EdgeId> + 'a {
        self.find_index(IndexEntity::RelType(rel), key)
            .into_iter()
            .flat_map(move |ix| ix.seek(range))
            .map(|s| EdgeId(u64::from(s)))
    }

    pub(crate) fn find_vector_index(
        &self,
        entity: IndexEntity,
        key: PropKeyId,
    ) -> Option<&GraphVectorIndex> {
        self.vector_indexes
            .iter()
            .find(|ix| ix.entity == entity && ix.key == key)
    }

    pub fn has_vector_index(&self, entity: IndexEntity, key: PropKeyId) -> bool {
        self.find_vector_index(entity, key).is_some()
    }

    /// Vector indexes, in creation order (for `db.indexes()`).
    pub fn list_vector_indexes(&self) -> Vec<VectorIndexInfo> {
        self.vector_indexes.iter().map(|ix| ix.info()).collect()
    }

    /// The `k` entities of `entity` whose `key` vector is nearest to `query`, closest first,
    /// with their scores (squared L2 for euclidean, `1 - cos` for cosine). Ids are node ids for
    /// a label index and relationship ids for a type index.
    pub fn vector_knn(
        &self,
        entity: IndexEntity,
        key: PropKeyId,
        query: &[f32],
        k: usize,
    ) -> Result<Vec<(u64, f32)>, GraphError> {
        let ix = self
            .find_vector_index(entity, key)
            .ok_or(GraphError::IndexNotFound)?;
        Ok(ix
            .knn(query, k)?
            .into_iter()
            .map(|(s, d)| (u64::from(s), d))
            .collect())
    }

    // ---- mutation recording ----

    /// When on, every successful mutation (including `apply`) appends its record to an
    /// internal log drained by `take_mutations`.
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on;
    }

    pub fn is_recording(&self) -> bool {
        self.recording
    }

    pub fn take_mutations(&mut self) -> Vec<Mutation> {
        std::mem::take(&mut self.log)
    }

    pub(crate) fn record(&mut self, m: impl FnOnce() -> Mutation) {
        if self.recording {
            self.log.push(m());
        }
    }

    // ---- compaction ----

    /// Whether some adjacency's delta is large enough to be worth merging (or a merge is
    /// underway).
    pub fn needs_compaction(&self) -> bool {
        self.adj.iter().flatten().any(Adjacency::needs_compaction)
    }

    /// Adjacency entries not yet merged into CSRs (delta + dead entries), for INFO/metrics.
    pub fn compaction_debt(&self) -> usize {
        self.adj.iter().flatten().map(Adjacency::pending).sum()
    }

    /// Does about `budget` units of compaction work (one unit ≈ one adjacency entry copied)
    /// and returns whether more remains. Reads and writes stay correct between calls.
    pub fn compact_step(&mut self, budget: usize) -> bool {
        self.compact_step_with(budget, false)
    }

    /// Compaction paced by writes, for a caller that runs it after each write query: does
    /// nothing unless some adjacency's policy asks for a merge, then about `128 × written + 1024`
    /// units of work, where `written` is the number of entities the query created or deleted.
    /// A merge costs about 17 units per entry of debt (it starts at a debt of a sixteenth of
    /// the CSR, each written edge is 2 entries), so a merge finishes within a few queries of
    /// the writes that caused it (rather than holding the old and the new CSR over many), the
    /// delta stays bounded, and no write pays for a whole rebuild.
    ///
    /// Also repacks the range indexes that received at least a quarter of their keys since
    /// their last repack (`RangeIndex::needs_pack`; O(index) each, so O(1) per key inserted).
    pub fn maintain(&mut self, written: u64) {
        for ix in &mut self.indexes {
            if ix.needs_pack() {
                ix.pack();
            }
        }
        if self.needs_compaction() {
            let budget = usize::try_from(written)
                .unwrap_or(usize::MAX)
                .saturating_mul(128)
                .saturating_add(1024);
            self.compact_step(budget);
        }
    }

    /// Compaction while no writes pace it (the server's idle tick): about `budget` units of
    /// work on the adjacencies whose debt reaches a 64th of their CSR (see
    /// `Adjacency::needs_idle_compaction`), so a graph left with a delta after a bulk load ends
    /// up fully compacted. Returns whether such work remains; the call that leaves none also
    /// trims the node and edge arrays' spare capacity (`shrink_slack`).
    ///
    /// Also repacks the range indexes holding at least a 16th of their keys unpacked (the
    /// tail of a bulk load; see `RangeIndex::needs_idle_pack`), one index per call, since a
    /// repack is not bounded by `budget` (about 3 ms per 100,000 keys).
    pub fn compact_idle(&mut self, budget: usize) -> bool {
        if let Some(ix) = self.indexes.iter_mut().find(|ix| ix.needs_idle_pack()) {
            ix.pack();
        } else {
            self.compact_step_by(budget, Adjacency::needs_idle_compaction);
        }
        let more = self.has_idle_debt();
        if !more {
            self.shrink_slack();
        }
        more
    }

    /// Gives back the spare capacity of the node and edge arrays where it exceeds an eighth of
    /// their length: after a bulk load they can be up to half spare. Run when an idle
    /// compaction ends (a copy of each array at most, amortised by the compaction's own cost).
    pub(crate) fn shrink_slack(&mut self) {
        if self.nodes.capacity() - self.nodes.len() > self.nodes.len() / 8 {
            self.nodes.shrink_to_fit();
        }
        self.edges.shrink_slack();
    }

    /// Whether `compact_idle` has work to do.
    pub fn has_idle_debt(&self) -> bool {
        self.adj
            .iter()
            .flatten()
            .any(Adjacency::needs_idle_compaction)
            || self.indexes.iter().any(RangeIndex::needs_idle_pack)
    }

    /// `compact_step`; with `eager`, any adjacency with debt is compacted, not only those the
    /// policy selects (tests use this to interleave small compactions with writes).
    pub(crate) fn compact_step_with(&mut self, budget: usize, eager: bool) -> bool {
        if eager {
            self.compact_step_by(budget, |a| a.needs_compaction() || a.has_debt());
        } else {
            self.compact_step_by(budget, Adjacency::needs_compaction);
        }
        self.needs_compaction()
    }

    /// Steps the compactions of the adjacencies `pick` selects, round robin from the cursor.
    fn compact_step_by(&mut self, budget: usize, pick: impl Fn(&Adjacency) -> bool) {
        let total = self.adj.len() * 2;
        let slots = self.nodes.len() as u32;
        let mut used = 0usize;
        let mut visited = 0usize;
        while used < budget && visited < total {
            let i = self.compact_cursor % total.max(1);
            let a = &mut self.adj[i / 2][i % 2];
            if pick(a) {
                a.begin(slots);
                let (work, done) = a.step(budget - used);
                used += work;
                if let Some(gone) = done {
                    self.release_edges(&gone);
                    self.compact_cursor = (i + 1) % total;
                    visited += 1;
                }
            } else {
                self.compact_cursor = (i + 1) % total;
                visited += 1;
            }
        }
    }

    /// Merges every delta and drops every dead entry.
    pub fn compact_all(&mut self) {
        let slots = self.nodes.len() as u32;
        let mut gone = Vec::new();
        for pair in &mut self.adj {
            for a in pair.iter_mut() {
                gone.extend(a.compact_all(slots));
            }
        }
        self.release_edges(&gone);
        debug_assert!(self.edge_pending.is_empty());
    }

    fn release_edges(&mut self, gone: &[u32]) {
        for &e in gone {
            if let Some((_, n)) = self.edge_pending.get_mut(&e) {
                *n -= 1;
                if *n == 0 {
                    self.edge_pending.remove(&e);
                    self.edge_free.insert(e);
                }
            }
        }
    }

    /// Estimated bytes held by the graph (GRAPH.MEMORY USAGE / MEMORY USAGE): the sum of
    /// `memory_breakdown`.
    pub fn memory_usage(&self) -> usize {
        self.memory_breakdown().iter().map(|(_, b)| b).sum()
    }

    /// `memory_usage` by structure, `(name, bytes)` (arrays by capacity, bitmaps by
    /// serialized size, hash maps by capacity): for measurements and GRAPH.MEMORY-style reports.
    pub fn memory_breakdown(&self) -> Vec<(&'static str, usize)> {
        use std::mem::size_of;
        let node_array = self.nodes.capacity() * size_of::<Option<NodeRec>>();
        let (mut node_props, mut node_labels) = (0, 0);
        for n in self.nodes.iter().flatten() {
            node_props += n.props.heap_size();
            if n.labels.spilled() {
                node_labels += n.labels.capacity() * 4;
            }
        }
        let edge_array = self.edges.heap_size();
        let edge_props = self.edge_props.capacity() * (size_of::<(u32, PropMap)>() + 1)
            + self
                .edge_props
                .values()
                .map(PropMap::heap_size)
                .sum::<usize>();
        let bitmaps = self
            .label_nodes
            .iter()
            .map(|b| b.serialized_size())
            .sum::<usize>()
            + self.node_free.serialized_size()
            + self.edge_free.serialized_size()
            + self.edge_pending.capacity() * 12
            + self.self_loops.capacity() * 16;
        let (mut csr, mut delta) = (0, 0);
        for a in self.adj.iter().flatten() {
            let (c, d) = a.heap_split();
            csr += c;
            delta += d;
        }
        let range_indexes = self
            .indexes
            .iter()
            .map(RangeIndex::heap_size)
            .sum::<usize>();
        let vector_indexes = self
            .vector_indexes
            .iter()
            .map(GraphVectorIndex::heap_size)
            .sum::<usize>();
        let schema = size_of::<Graph>()
            + self.schema.labels.heap_size()
            + self.schema.rel_types.heap_size()
            + self.schema.prop_keys.heap_size();
        vec![
            ("schema", schema),
            ("node_array", node_array),
            ("node_props", node_props),
            ("node_labels", node_labels),
            ("edge_array", edge_array),
            ("edge_props", edge_props),
            ("bitmaps", bitmaps),
            ("adjacency_csr", csr),
            ("adjacency_delta", delta),
            ("range_indexes", range_indexes),
            ("vector_indexes", vector_indexes),
        ]
    }
}
