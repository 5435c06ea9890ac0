//! Snapshot encoding of a whole graph, streamable in chunks, and its validating decoder.
//!
//! Layout (little-endian; byte-by-byte description in SPEC.md §9.1):
//! `u8 version` · three name lists (`u32 count`, then `u32 len` + UTF-8 each: labels, rel
//! types, prop keys) · `u64 node_slots` · `u64 node_count` · `u64 edge_slots` ·
//! `u64 edge_count` · node records (`u64 id`, `u32 nlabels`, `u32` labels, props) in
//! ascending id order · edge records (`u64 id`, `u64 src`, `u64 dst`, `u32 rel`, props) in
//! ascending id order · `u32 index count` + index descriptors · (version ≥ 2) `u32 vector
//! index count` + per index its descriptor, `u64 payload length` and moon-vector's HNSW
//! snapshot payload (length 0: rebuilt from the stored vecf32 properties on decode) ·
//! (version ≥ 3) `u32 constraint count` + per constraint (creation order) its descriptor
//! (`constraint::put_constraint`) and `u8 status`.
//!
//! The CSR layout, deltas and dead entries are not persisted: the decoder rebuilds compacted
//! adjacency (every held-back edge id becomes free) and refills indexes from the data. Free
//! slots are the gaps below `*_slots`, so id allocation continues exactly as before.

use crate::adjacency::build_all;
use crate::codec::{DecodeError, Reader, put_len, put_str, put_u8, put_u32, put_u64};
use crate::constraint::{ConstraintInfo, put_constraint, put_status, read_constraint, read_status};
use crate::edges::EdgeTable;
use crate::graph::{EdgeRec, Graph, NodeRec};
use crate::ids::{LabelId, MAX_ENTITIES, PropKeyId, RelTypeId};
use crate::index::{IndexEntity, IndexKind, RangeIndex};
use crate::mutation::{put_index, put_props, read_index, read_props};
use crate::props::PropMap;
use crate::schema::NameTable;
use crate::value::Value;
use crate::vector_index::{
    GraphVectorIndex, VectorOptions, put_vector_descriptor, read_vector_descriptor,
};
use roaring::RoaringBitmap;

/// Current snapshot format version (2 added the vector index section, 3 the constraint
/// section; 1 and 2 are still decoded).
pub const SNAPSHOT_VERSION: u8 = 3;

/// How a vector index's contents are written: the HNSW structure itself (fast to load), or
/// nothing (the decoder re-inserts the vectors from the node/edge properties).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum VectorPayload {
    Hnsw,
    Rebuild,
}

#[derive(Copy, Clone, Debug)]
enum Stage {
    Header,
    Nodes(usize),
    Edges(usize),
    Trailer,
    Done,
}

/// Iterator over snapshot chunks of roughly `max_bytes` each (one record may overshoot); their
/// concatenation equals `Graph::encode`'s output. Holds `&Graph`, so the graph cannot change
/// between chunks; a server that must serve writes in between should encode from a `copy()`.
pub struct SnapshotChunks<'g> {
    g: &'g Graph,
    max_bytes: usize,
    stage: Stage,
    vectors: VectorPayload,
}

impl Iterator for SnapshotChunks<'_> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        while out.len() < self.max_bytes {
            match self.stage {
                Stage::Header => {
                    self.g.encode_header(&mut out);
                    self.stage = Stage::Nodes(0);
                }
                Stage::Nodes(i) => match self.g.nodes.get(i) {
                    Some(slot) => {
                        if let Some(n) = slot {
                            encode_node(&mut out, i, n);
                        }
                        self.stage = Stage::Nodes(i + 1);
                    }
                    None => self.stage = Stage::Edges(0),
                },
                Stage::Edges(i) if i < self.g.edges.len() => {
                    if let Some(e) = self.g.edges.get(i) {
                        encode_edge(&mut out, i, &e, self.g.edge_props.get(&(i as u32)));
                    }
                    self.stage = Stage::Edges(i + 1);
                }
                Stage::Edges(_) => self.stage = Stage::Trailer,
                Stage::Trailer => {
                    put_len(&mut out, self.g.indexes.len());
                    for ix in &self.g.indexes {
                        put_index(&mut out, ix.entity, ix.key, IndexKind::Range);
                    }
                    put_len(&mut out, self.g.vector_indexes.len());
                    for vx in &self.g.vector_indexes {
                        put_vector_descriptor(&mut out, vx.entity, vx.key, &vx.options);
                        match self.vectors {
                            VectorPayload::Rebuild => put_u64(&mut out, 0),
                            VectorPayload::Hnsw => {
                                let mut payload = Vec::new();
                                vx.index.encode(&mut payload);
                                put_u64(&mut out, payload.len() as u64);
                                out.extend_from_slice(&payload);
                            }
                        }
                    }
                    put_len(&mut out, self.g.constraints.len());
                    for c in &self.g.constraints {
                        put_constraint(&mut out, c.kind, c.entity, &c.keys);
                        put_status(&mut out, c.status);
                    }
                    self.stage = Stage::Done;
                }
                Stage::Done => break,
            }
        }
        if out.is_empty() { None } else { Some(out) }
    }
}

fn encode_node(out: &mut Vec<u8>, slot: usize, n: &NodeRec) {
    put_u64(out, slot as u64);
    put_len(out, n.labels.len());
    for l in &n.labels {
        put_u32(out, l.0);
    }
    put_props(out, n.props.iter());
}

fn encode_edge(out: &mut Vec<u8>, slot: usize, e: &EdgeRec, props: Option<&PropMap>) {
    put_u64(out, slot as u64);
    put_u64(out, u64::from(e.src));
    put_u64(out, u64::from(e.dst));
    put_u32(out, e.rel);
    match props {
        Some(p) => put_props(out, p.iter()),
        None => put_len(out, 0),
    }
}

fn put_names(out: &mut Vec<u8>, t: &NameTable) {
    put_len(out, t.len());
    for n in t.names() {
        put_str(out, n);
    }
}

fn read_names(r: &mut Reader<'_>) -> Result<NameTable, DecodeError> {
    let n = r.count(4)?;
    let mut t = NameTable::default();
    for _ in 0..n {
        let at = r.pos();
        let name = r.str()?;
        if !t.intern(name).1 {
            return Err(r.err_at(at, format!("duplicate schema name {name:?}")));
        }
    }
    Ok(t)
}

impl Graph {
    fn encode_header(&self, out: &mut Vec<u8>) {
        put_u8(out, SNAPSHOT_VERSION);
        put_names(out, &self.schema.labels);
        put_names(out, &self.schema.rel_types);
        put_names(out, &self.schema.prop_keys);
        put_u64(out, self.nodes.len() as u64);
        put_u64(out, self.node_count);
        put_u64(out, self.edges.len() as u64);
        put_u64(out, self.edge_count);
    }

    /// Appends the whole snapshot to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for chunk in self.encode_chunks(1 << 20) {
            out.extend_from_slice(&chunk);
        }
    }

    /// The snapshot as a sequence of chunks of about `max_bytes` (see `SnapshotChunks`).
    pub fn encode_chunks(&self, max_bytes: usize) -> SnapshotChunks<'_> {
        SnapshotChunks {
            g: self,
            max_bytes: max_bytes.max(1),
            stage: Stage::Header,
            vectors: VectorPayload::Hnsw,
        }
    }

    /// `encode` without the vector indexes' HNSW structure: smaller, but `decode` rebuilds
    /// each index by re-inserting every vector (for the load-time comparison in SPEC §9.1;
    /// servers use `encode`).
    #[doc(hidden)]
    pub fn encode_rebuilding_vectors(&self, out: &mut Vec<u8>) {
        let chunks = SnapshotChunks {
            g: self,
            max_bytes: 1 << 20,
            stage: Stage::Header,
            vectors: VectorPayload::Rebuild,
        };
        for chunk in chunks {
            out.extend_from_slice(&chunk);
        }
    }

    /// Decodes and validates a snapshot occupying all of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Graph, DecodeError> {
        Graph::decode_with_limit(buf, MAX_ENTITIES - 1)
    }

    /// As `decode`, rejecting snapshots declaring more than `max_slots` node or edge slots
    /// (slot arrays are allocated up front, so this bounds memory for untrusted input).
    pub fn decode_with_limit(buf: &[u8], max_slots: u64) -> Result<Graph, DecodeError> {
        let mut r = Reader::new(buf);
        let v = r.u8()?;
        if !(1..=SNAPSHOT_VERSION).contains(&v) {
            return Err(r.err_at(0, format!("unsupported snapshot version {v}")));
        }
        let mut g = Graph::new();
        g.schema.labels = read_names(&mut r)?;
        g.schema.rel_types = read_names(&mut r)?;
        g.schema.prop_keys = read_names(&mut r)?;
        let (nl, nt, nk) = (
            g.schema.labels.len(),
            g.schema.rel_types.len(),
            g.schema.prop_keys.len(),
        );
        let max_slots = max_slots.min(MAX_ENTITIES - 1);

        let at = r.pos();
        let node_slots = r.u64()?;
        let node_count = r.u64()?;
        let edge_slots = r.u64()?;
        let edge_count = r.u64()?;
        if node_slots > max_slots || edge_slots > max_slots {
            return Err(r.err_at(at, "slot count over limit"));
        }
        if node_count > node_slots || edge_count > edge_slots {
            return Err(r.err_at(at, "more entities than slots"));
        }
        // Each node record takes at least 16 bytes and each edge record 32.
        if node_count
            .saturating_mul(16)
            .saturating_add(edge_count.saturating_mul(32))
            > r.remaining() as u64
        {
            return Err(r.err_at(at, "entity counts exceed remaining input"));
        }

        g.nodes = Vec::with_capacity(node_slots as usize);
        g.nodes.resize_with(node_slots as usize, || None);
        g.label_nodes = vec![RoaringBitmap::new(); nl];
        let mut next = 0u64;
        for _ in 0..node_count {
            let at = r.pos();
            let id = r.u64()?;
            if id < next || id >= node_slots {
                return Err(r.err_at(at, format!("node id {id} out of order or range")));
            }
            next = id + 1;
            let lat = r.pos();
            let n = r.count(4)?;
            let mut labels = crate::graph::LabelSet::with_capacity(n);
            for _ in 0..n {
                let l = r.u32()?;
                if l as usize >= nl || labels.last().is_some_and(|p: &LabelId| p.0 >= l) {
                    return Err(r.err_at(lat, "node labels unknown or not strictly ascending"));
                }
                labels.push(LabelId(l));
            }
            let props = read_checked_props(&mut r, nk)?;
            for l in &labels {
                g.label_nodes[l.0 as usize].insert(id as u32);
            }
            g.nodes[id as usize] = Some(NodeRec { labels, props });
        }
        g.node_count = node_count;
        g.node_free = (0..node_slots as u32)
            .filter(|&s| g.nodes[s as usize].is_none())
            .collect();

        g.edges = EdgeTable::default();
        g.edges.resize_free(edge_slots as usize);
        g.type_counts = vec![0; nt];
        let mut next = 0u64;
        for _ in 0..edge_count {
            let at = r.pos();
            let id = r.u64()?;
            if id < next || id >= edge_slots {
                return Err(r.err_at(at, format!("edge id {id} out of order or range")));
            }
            next = id + 1;
            let at = r.pos();
            let (src, dst, rel) = (r.u64()?, r.u64()?, r.u32()?);
            let live = |n: u64| g.nodes.get(n as usize).is_some_and(Option::is_some);
            if !live(src) || !live(dst) {
                return Err(r.err_at(at, "edge endpoint is not a node"));
            }
            if rel as usize >= nt {
                return Err(r.err_at(at + 16, format!("unknown relationship type {rel}")));
            }
            let props = read_checked_props(&mut r, nk)?;
            g.edges.set(
                id as usize,
                EdgeRec {
                    src: src as u32,
                    dst: dst as u32,
                    rel,
                },
            );
            if !props.is_empty() {
                g.edge_props.insert(id as u32, props);
            }
            g.type_counts[rel as usize] += 1;
            if src == dst {
                *g.self_loops.entry((rel, src as u32)).or_insert(0) += 1;
            }
        }
        g.edge_count = edge_count;
        g.edge_free = (0..edge_slots as u32)
            .filter(|&s| g.edges.rel(s as usize) == crate::graph::FREE)
            .collect();

        let nix = r.count(10)?;
        for _ in 0..nix {
            let at = r.pos();
            let (entity, key, IndexKind::Range) = read_index(&mut r)?;
            let ok = match entity {
                IndexEntity::Label(l) => (l.0 as usize) < nl,
                IndexEntity::RelType(t) => (t.0 as usize) < nt,
            } && (key.0 as usize) < nk;
            if !ok || g.has_index(entity, key) {
                return Err(r.err_at(at, "index on unknown schema id, or duplicate index"));
            }
            g.indexes.push(RangeIndex::new(entity, key));
        }
        let mut vectors: Vec<(IndexEntity, PropKeyId, VectorOptions, usize, &[u8])> = Vec::new();
        if v >= 2 {
            let nvx = r.count(30)?;
            for _ in 0..nvx {
                let at = r.pos();
                let (entity, key, options) = read_vector_descriptor(&mut r)?;
                let ok = match entity {
                    IndexEntity::Label(l) => (l.0 as usize) < nl,
                    IndexEntity::RelType(t) => (t.0 as usize) < nt,
                } && (key.0 as usize) < nk;
                if !ok || vectors.iter().any(|(e, k, ..)| (*e, *k) == (entity, key)) {
                    return Err(r.err_at(at, "vector index on unknown schema id, or duplicate"));
                }
                options
                    .validate()
                    .map_err(|e| r.err_at(at, e.to_string()))?;
                let pat = r.pos();
                let len = r.u64()?;
                if len > r.remaining() as u64 {
                    return Err(r.err_at(pat, "vector index payload exceeds input"));
                }
                let payload = r.bytes(len as usize)?;
                vectors.push((entity, key, options, pat, payload));
            }
        }
        let mut constraints = Vec::new();
        if v >= 3 {
            let nc = r.count(11)?;
            for _ in 0..nc {
                let at = r.pos();
                let (kind, entity, keys) = read_constraint(&mut r)?;
                let status = read_status(&mut r)?;
                constraints.push((
                    at,
                    ConstraintInfo {
                        kind,
                        entity,
                        keys,
                        status,
                    },
                ));
            }
        }
        if r.remaining() != 0 {
            return Err(r.err("trailing bytes after snapshot"));
        }

        let edges = &g.edges;
        g.adj = build_all(node_slots as u32, nt, || {
            edges
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.map(|e| (i as u32, e.src, e.dst, e.rel)))
        });
        g.fill_indexes();
        for (entity, key, options, at, payload) in vectors {
            let vx = g.decode_vector_index(entity, key, options, payload);
            g.vector_indexes.push(vx.map_err(|e| {
                let mut e = e;
                e.offset += at + 8;
                e
            })?);
        }
        // After the indexes: an operational UNIQUE constraint must find its indexes.
        for (at, c) in constraints {
            g.restore_constraint(&c)
                .map_err(|e| r.err_at(at, format!("constraint: {e}")))?;
        }
        Ok(g)
    }

    /// Builds one vector index from its snapshot payload (empty: rebuild from the properties),
    /// checking that the payload matches the descriptor and holds exactly the qualifying
    /// entities. Errors carry offsets relative to the payload.
    fn decode_vector_index(
        &self,
        entity: IndexEntity,
        key: PropKeyId,
        options: VectorOptions,
        payload: &[u8],
    ) -> Result<GraphVectorIndex, DecodeError> {
        let bad = |what: String| DecodeError { offset: 0, what };
        let mut vx = GraphVectorIndex::new(entity, key, options).map_err(|e| bad(e.to_string()))?;
        if payload.is_empty() {
            self.fill_vector_index(&mut vx);
            return Ok(vx);
        }
        let index = moon_vector::VectorIndex::decode(payload).map_err(|e| DecodeError {
            offset: e.offset,
            what: e.reason,
        })?;
        let p = index.params();
        if p.dim != options.dimension as usize
            || p.m != options.m as usize
            || p.ef_construction != options.ef_construction as usize
            || p.ef_runtime != options.ef_runtime as usize
            || p.algorithm != moon_vector::Algorithm::Hnsw
        {
            return Err(bad(
                "vector index payload does not match its descriptor".into()
            ));
        }
        vx.index = index;
        let qualifying = self.count_qualifying(&vx);
        let all_qualify = vx.index.entries().all(|(s, _)| self.qualifies(&vx, s));
        if qualifying != vx.index.len() || !all_qualify {
            return Err(bad(
                "vector index entries do not match the stored vectors".into()
            ));
        }
        Ok(vx)
    }

    fn entity_prop(&self, vx: &GraphVectorIndex, s: u32) -> Option<&Value> {
        match vx.entity {
            IndexEntity::Label(l) => self
                .nodes
                .get(s as usize)?
                .as_ref()
                .filter(|n| n.labels.contains(&l))?
                .props
                .get(vx.key),
            IndexEntity::RelType(t) => {
                if self.edges.get(s as usize)?.rel != t.0 {
                    return None;
                }
                self.edge_props.get(&s)?.get(vx.key)
            }
        }
    }

    fn qualifies(&self, vx: &GraphVectorIndex, s: u32) -> bool {
        self.entity_prop(vx, s)
            .is_some_and(|v| vx.vector(v).is_some())
    }

    fn count_qualifying(&self, vx: &GraphVectorIndex) -> usize {
        match vx.entity {
            IndexEntity::Label(l) => self.label_nodes[l.0 as usize]
                .iter()
                .filter(|&s| self.qualifies(vx, s))
                .count(),
            IndexEntity::RelType(_) => self
                .edge_props
                .keys()
                .filter(|&&s| self.qualifies(vx, s))
                .count(),
        }
    }

    fn fill_indexes(&mut self) {
        let mut indexes = std::mem::take(&mut self.indexes);
        for ix in &mut indexes {
            match ix.entity {
                IndexEntity::Label(l) => {
                    for s in &self.label_nodes[l.0 as usize] {
                        if let Some(Some(n)) = self.nodes.get(s as usize)
                            && let Some(v) = n.props.get(ix.key)
                        {
                            ix.insert(v, s);
                        }
                    }
                }
                IndexEntity::RelType(RelTypeId(t)) => {
                    for (&s, props) in &self.edge_props {
                        if self.edges.rel(s as usize) == t
                            && let Some(v) = props.get(ix.key)
                        {
                            ix.insert(v, s);
                        }
                    }
                }
            }
            ix.pack();
        }
        self.indexes = indexes;
    }
}

/// Props with known keys, strictly ascending, no Null values.
fn read_checked_props(r: &mut Reader<'_>, nk: usize) -> Result<PropMap, DecodeError> {
    let at = r.pos();
    let props = read_props(r)?;
    let mut prev: Option<PropKeyId> = None;
    for (k, v) in &props {
        if k.0 as usize >= nk || prev.is_some_and(|p| p >= *k) || matches!(v, Value::Null) {
            return Err(r.err_at(at, "properties unknown, unsorted, duplicate or null"));
        }
        prev = Some(*k);
    }
    Ok(PropMap::from_pairs(props))
}
