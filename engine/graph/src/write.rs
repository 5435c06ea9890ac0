//! Graph mutations and their replay.
//!
//! Every public mutating method validates all its inputs before changing anything (so an error
//! leaves the graph untouched), keeps label bitmaps, adjacency and indexes in step, and — when
//! recording is on — appends exactly one `Mutation` describing its effect (a detach-delete
//! appends its `DeleteEdge`s first). `apply` replays a record with the ids it carries and
//! records it again, so a replica's log equals its primary's.
//!
//! Id reuse: freed node and edge slots are reused lowest-first. An edge id whose entries are
//! still dead in some CSR is held back (`edge_pending`) until compaction drops them; `apply`
//! asking for such an id forces a full compaction first.

use crate::adjacency::Removed;
use crate::graph::{EdgeRec, FREE, Graph, GraphError, LabelSet, NodeRec};
use crate::ids::{EdgeId, LabelId, NodeId, PropKeyId, RelTypeId};
use crate::index::{IndexEntity, IndexKind, RangeIndex};
use crate::mutation::Mutation;
use crate::props::PropMap;
use crate::value::Value;
use crate::vector_index::{GraphVectorIndex, VectorOptions};

type Result<T> = std::result::Result<T, GraphError>;

/// One relationship for `Graph::create_edges`: source, destination, type, properties.
pub type NewEdge = (NodeId, NodeId, RelTypeId, Vec<(PropKeyId, Value)>);

fn sorted_labels(labels: &[LabelId]) -> LabelSet {
    let mut s: LabelSet = labels.iter().copied().collect();
    s.sort_unstable();
    s.dedup();
    s
}

impl Graph {
    // ---- schema ----

    /// The label's id, adding it to the schema on first use.
    pub fn intern_label(&mut self, name: &str) -> LabelId {
        let (id, new) = self.schema.labels.intern(name);
        if new {
            self.label_nodes.push(Default::default());
            self.record(|| Mutation::AddLabel {
                id: LabelId(id),
                name: name.to_owned(),
            });
        }
        LabelId(id)
    }

    /// The relationship type's id, adding it to the schema on first use.
    pub fn intern_rel_type(&mut self, name: &str) -> RelTypeId {
        let (id, new) = self.schema.rel_types.intern(name);
        if new {
            self.adj.push(Default::default());
            self.type_counts.push(0);
            self.record(|| Mutation::AddRelType {
                id: RelTypeId(id),
                name: name.to_owned(),
            });
        }
        RelTypeId(id)
    }

    /// The property key's id, adding it to the schema on first use.
    pub fn intern_prop_key(&mut self, name: &str) -> PropKeyId {
        let (id, new) = self.schema.prop_keys.intern(name);
        if new {
            self.record(|| Mutation::AddPropKey {
                id: PropKeyId(id),
                name: name.to_owned(),
            });
        }
        PropKeyId(id)
    }

    // ---- validation ----

    fn check_labels(&self, labels: &[LabelId]) -> Result<()> {
        match labels
            .iter()
            .find(|l| l.0 as usize >= self.schema.labels.len())
        {
            Some(&l) => Err(GraphError::UnknownLabel(l)),
            None => Ok(()),
        }
    }

    fn check_keys(&self, props: &[(PropKeyId, Value)]) -> Result<()> {
        match props
            .iter()
            .find(|(k, _)| k.0 as usize >= self.schema.prop_keys.len())
        {
            Some(&(k, _)) => Err(GraphError::UnknownPropKey(k)),
            None => Ok(()),
        }
    }

    fn check_rel(&self, rel: RelTypeId) -> Result<()> {
        if (rel.0 as usize) < self.adj.len() {
            Ok(())
        } else {
            Err(GraphError::UnknownRelType(rel))
        }
    }

    fn live_node_slot(&self, id: NodeId) -> Result<u32> {
        match id.slot() {
            Some(s) if self.node_exists(id) => Ok(s),
            _ => Err(GraphError::NodeNotFound(id)),
        }
    }

    fn live_edge_slot(&self, id: EdgeId) -> Result<u32> {
        match id.slot() {
            Some(s) if self.edge_exists(id) => Ok(s),
            _ => Err(GraphError::EdgeNotFound(id)),
        }
    }

    // ---- slot allocation ----

    fn alloc_node_slot(&mut self) -> Result<u32> {
        if let Some(s) = self.node_free.min() {
            self.node_free.remove(s);
            return Ok(s);
        }
        let s = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&s| s != u32::MAX)
            .ok_or(GraphError::CapacityExceeded)?;
        self.nodes.push(None);
        Ok(s)
    }

    /// Claims exactly `id` for replay: a free slot or the next new one.
    fn claim_node_slot(&mut self, id: NodeId) -> Result<u32> {
        let s = id.slot().ok_or(GraphError::IdNotFree(id.0))?;
        if self.node_free.remove(s) {
            return Ok(s);
        }
        if s as usize == self.nodes.len() {
            self.nodes.push(None);
            return Ok(s);
        }
        Err(GraphError::IdNotFree(id.0))
    }

    fn alloc_edge_slot(&mut self) -> Result<u32> {
        if let Some(s) = self.edge_free.min() {
            self.edge_free.remove(s);
            return Ok(s);
        }
        let s = u32::try_from(self.edges.len())
            .ok()
            .filter(|&s| s != u32::MAX)
            .ok_or(GraphError::CapacityExceeded)?;
        self.edges.push_free();
        Ok(s)
    }

    fn claim_edge_slot(&mut self, id: EdgeId) -> Result<u32> {
        let s = id.slot().ok_or(GraphError::IdNotFree(id.0))?;
        if self.edge_pending.contains_key(&s) {
            // Held back by dead CSR entries here but already reused upstream: purge them.
            self.compact_all();
        }
        if self.edge_free.remove(s) {
            return Ok(s);
        }
        if s as usize == self.edges.len() {
            self.edges.push_free();
            return Ok(s);
        }
        Err(GraphError::IdNotFree(id.0))
    }

    // ---- nodes ----

    /// Creates a node; Null property values are ignored.
    pub fn create_node(
        &mut self,
        labels: &[LabelId],
        props: Vec<(PropKeyId, Value)>,
    ) -> Result<NodeId> {
        self.check_labels(labels)?;
        self.check_keys(&props)?;
        let s = self.alloc_node_slot()?;
        let (labels, props) = (sorted_labels(labels), PropMap::from_pairs(props));
        if self.recording {
            let m = Mutation::CreateNode {
                id: NodeId(u64::from(s)),
                labels: labels.to_vec(),
                props: props.to_vec(),
            };
            self.log.push(m);
        }
        self.insert_node_at(s, labels, props);
        Ok(NodeId(u64::from(s)))
    }

    fn insert_node_at(&mut self, s: u32, labels: LabelSet, props: PropMap) {
        debug_assert!(self.nodes[s as usize].is_none());
        for l in &labels {
            self.label_nodes[l.0 as usize].insert(s);
        }
        for ix in &mut self.indexes {
            if let IndexEntity::Label(l) = ix.entity
                && labels.contains(&l)
                && let Some(v) = props.get(ix.key)
            {
                ix.insert(v, s);
            }
        }
        for vx in &mut self.vector_indexes {
            if let IndexEntity::Label(l) = vx.entity
                && labels.contains(&l)
                && let Some(v) = props.get(vx.key)
            {
                vx.put(s, Some(v));
            }
        }
        self.nodes[s as usize] = Some(NodeRec { labels, props });
        self.node_count += 1;
    }

    /// Deletes a node. With edges left it fails with `NodeHasEdges` unless `detach`, which
    /// deletes them first; returns the number of edges deleted.
    pub fn delete_node(&mut self, id: NodeId, detach: bool) -> Result<u64> {
        let s = self.live_node_slot(id)?;
        let n = self.degree(id, crate::Direction::Both, &[]);
        if n > 0 {
            if !detach {
                return Err(GraphError::NodeHasEdges { node: id, edges: n });
            }
            let edges: Vec<EdgeId> = self
                .neighbors(id, crate::Direction::Both, &[])
                .map(|(e, _)| e)
                .collect();
            debug_assert_eq!(edges.len() as u64, n);
            for e in edges {
                self.delete_edge(e)?;
            }
        }
        self.remove_node_at(s);
        self.record(|| Mutation::DeleteNode { id });
        Ok(n)
    }

    fn remove_node_at(&mut self, s: u32) {
        let Some(rec) = self.nodes[s as usize].take() else {
            return;
        };
        for l in &rec.labels {
            self.label_nodes[l.0 as usize].remove(s);
        }
        for ix in &mut self.indexes {
            if let IndexEntity::Label(l) = ix.entity
                && rec.labels.contains(&l)
                && let Some(v) = rec.props.get(ix.key)
            {
                ix.remove(v, s);
            }
        }
        for vx in &mut self.vector_indexes {
            if let IndexEntity::Label(l) = vx.entity
                && rec.labels.contains(&l)
            {
                vx.remove(s);
            }
        }
        self.node_free.insert(s);
        self.node_count -= 1;
    }

    /// Sets properties of a node (a Null value removes the key).
    pub fn set_node_props(&mut self, id: NodeId, props: Vec<(PropKeyId, Value)>) -> Result<()> {
        let s = self.live_node_slot(id)?;
        self.check_keys(&props)?;
        let Some(rec) = self.nodes[s as usize].as_mut() else {
            return Err(GraphError::NodeNotFound(id));
        };
        for (k, v) in &props {
            let old = rec.props.set(*k, v.clone());
            for ix in &mut self.indexes {
                if ix.key == *k
                    && let IndexEntity::Label(l) = ix.entity
                    && rec.labels.contains(&l)
                {
                    if let Some(o) = &old {
                        ix.remove(o, s);
                    }
                    ix.insert(v, s);
                }
            }
            for vx in &mut self.vector_indexes {
                if vx.key == *k
                    && let IndexEntity::Label(l) = vx.entity
                    && rec.labels.contains(&l)
                {
                    vx.put(s, Some(v));
                }
            }
        }
        self.record(|| Mutation::SetNodeProps { id, props });
        Ok(())
    }

    /// Sets (or with Null removes) one node property; returns the previous value.
    pub fn set_node_property(
        &mut self,
        id: NodeId,
        key: PropKeyId,
        value: Value,
    ) -> Result<Option<Value>> {
        let old = self.node_property(id, key).cloned();
        self.set_node_props(id, vec![(key, value)])?;
        Ok(old)
    }

    /// Adds labels to a node; returns how many were not already present.
    pub fn add_labels(&mut self, id: NodeId, labels: &[LabelId]) -> Result<usize> {
        let s = self.live_node_slot(id)?;
        self.check_labels(labels)?;
        let Some(rec) = self.nodes[s as usize].as_mut() else {
            return Err(GraphError::NodeNotFound(id));
        };
        let mut added = Vec::new();
        for &l in &sorted_labels(labels) {
            if let Err(pos) = rec.labels.binary_search(&l) {
                rec.labels.insert(pos, l);
                self.label_nodes[l.0 as usize].insert(s);
                for ix in &mut self.indexes {
                    if ix.entity == IndexEntity::Label(l)
                        && let Some(v) = rec.props.get(ix.key)
                    {
                        ix.insert(v, s);
                    }
                }
                for vx in &mut self.vector_indexes {
                    if vx.entity == IndexEntity::Label(l) {
                        vx.put(s, rec.props.get(vx.key));
                    }
                }
                added.push(l);
            }
        }
        let n = added.len();
        if n > 0 {
            self.record(|| Mutation::AddLabels { id, labels: added });
        }
        Ok(n)
    }

    /// Removes labels from a node; returns how many were present.
    pub fn remove_labels(&mut self, id: NodeId, labels: &[LabelId]) -> Result<usize> {
        let s = self.live_node_slot(id)?;
        self.check_labels(labels)?;
        let Some(rec) = self.nodes[s as usize].as_mut() else {
            return Err(GraphError::NodeNotFound(id));
        };
        let mut removed = Vec::new();
        for &l in &sorted_labels(labels) {
            if let Ok(pos) = rec.labels.binary_search(&l) {
                rec.labels.remove(pos);
                self.label_nodes[l.0 as usize].remove(s);
                for ix in &mut self.indexes {
                    if ix.entity == IndexEntity::Label(l)
                        && let Some(v) = rec.props.get(ix.key)
                    {
                        ix.remove(v, s);
                    }
                }
                for vx in &mut self.vector_indexes {
                    if vx.entity == IndexEntity::Label(l) {
                        vx.remove(s);
                    }
                }
                removed.push(l);
            }
        }
        let n = removed.len();
        if n > 0 {
            self.record(|| Mutation::RemoveLabels {
                id,
                labels: removed,
            });
        }
        Ok(n)
    }

    // ---- edges ----

    /// Creates a relationship `src -[rel]-> dst`; Null property values are ignored.
    pub fn create_edge(
        &mut self,
        src: NodeId,
        dst: NodeId,
        rel: RelTypeId,
        props: Vec<(PropKeyId, Value)>,
    ) -> Result<EdgeId> {
        let (a, b) = (self.live_node_slot(src)?, self.live_node_slot(dst)?);
        self.check_rel(rel)?;
        self.check_keys(&props)?;
        let s = self.alloc_edge_slot()?;
        let props = PropMap::from_pairs(props);
        if self.recording {
            let m = Mutation::CreateEdge {
                id: EdgeId(u64::from(s)),
                src,
                dst,
                rel,
                props: props.to_vec(),
            };
            self.log.push(m);
        }
        self.insert_edge_at(s, a, b, rel.0, props);
        Ok(EdgeId(u64::from(s)))
    }

    fn insert_edge_at(&mut self, s: u32, src: u32, dst: u32, rel: u32, props: PropMap) {
        let pair = &mut self.adj[rel as usize];
        pair[0].insert(src, dst, s);
        pair[1].insert(dst, src, s);
        self.insert_edge_rec(s, src, dst, rel, props);
    }

    /// Everything of inserting an edge except its adjacency entries.
    fn insert_edge_rec(&mut self, s: u32, src: u32, dst: u32, rel: u32, props: PropMap) {
        debug_assert!(!self.edge_props.contains_key(&s));
        debug_assert_eq!(self.edges.rel(s as usize), FREE);
        if src == dst {
            *self.self_loops.entry((rel, src)).or_insert(0) += 1;
        }
        for ix in &mut self.indexes {
            if ix.entity == IndexEntity::RelType(RelTypeId(rel))
                && let Some(v) = props.get(ix.key)
            {
                ix.insert(v, s);
            }
        }
        for vx in &mut self.vector_indexes {
            if vx.entity == IndexEntity::RelType(RelTypeId(rel))
                && let Some(v) = props.get(vx.key)
            {
                vx.put(s, Some(v));
            }
        }
        self.edges.set(s as usize, EdgeRec { src, dst, rel });
        if !props.is_empty() {
            self.edge_props.insert(s, props);
        }
        self.edge_count += 1;
        self.type_counts[rel as usize] += 1;
    }

    /// Creates many relationships; same effect, ids and records as calling `create_edge` for
    /// each in order (all are validated first, so an error creates none). For bulk loads and
    /// large `UNWIND ... CREATE` batches: a type receiving at least `BULK_MIN` edges and at
    /// least a quarter of its existing count gets its CSR rebuilt directly (two linear passes)
    /// instead of going through the delta.
    pub fn create_edges(&mut self, batch: Vec<NewEdge>) -> Result<Vec<EdgeId>> {
        const BULK_MIN: usize = 4096;
        let mut per_type = vec![0usize; self.adj.len()];
        for (src, dst, rel, props) in &batch {
            self.live_node_slot(*src)?;
            self.live_node_slot(*dst)?;
            self.check_rel(*rel)?;
            self.check_keys(props)?;
            per_type[rel.0 as usize] += 1;
        }
        let room = self.edge_free.len() as usize
            + (crate::ids::MAX_ENTITIES as usize).saturating_sub(self.edges.len() + 1);
        if batch.len() > room {
            return Err(GraphError::CapacityExceeded);
        }
        let bulk: Vec<bool> = per_type
            .iter()
            .zip(&self.type_counts)
            .map(|(&n, &have)| n >= BULK_MIN && n * 4 >= have as usize)
            .collect();
        let mut ids = Vec::with_capacity(batch.len());
        for (src, dst, rel, props) in batch {
            if !bulk[rel.0 as usize] {
                ids.push(self.create_edge(src, dst, rel, props)?);
                continue;
            }
            let s = self.alloc_edge_slot()?;
            let props = PropMap::from_pairs(props);
            if self.recording {
                let id = EdgeId(u64::from(s));
                let props = props.to_vec();
                self.log.push(Mutation::CreateEdge {
                    id,
                    src,
                    dst,
                    rel,
                    props,
                });
            }
            // Validated above: both endpoints are live, so their slots exist.
            let (a, b) = (src.slot().unwrap_or(0), dst.slot().unwrap_or(0));
            self.insert_edge_rec(s, a, b, rel.0, props);
            ids.push(EdgeId(u64::from(s)));
        }
        for (t, _) in bulk.iter().enumerate().filter(|(_, b)| **b) {
            self.rebuild_adjacency(t as u32);
        }
        Ok(ids)
    }

    /// Rebuilds type `t`'s adjacency from the edge array, dropping its delta, dead entries and
    /// any compaction underway, and freeing the edge ids it held back.
    fn rebuild_adjacency(&mut self, t: u32) {
        let edges = &self.edges;
        let slots = self.nodes.len() as u32;
        let mut built = crate::adjacency::build_all(slots, 1, || {
            edges.of_type(t).map(|(i, e)| (i, e.src, e.dst, 0))
        });
        if let Some(pair) = built.pop() {
            self.adj[t as usize] = pair;
        }
        let held: Vec<u32> = self
            .edge_pending
            .iter()
            .filter(|(_, (r, _))| *r == t)
            .map(|(&e, _)| e)
            .collect();
        for e in held {
            self.edge_pending.remove(&e);
            self.edge_free.insert(e);
        }
    }

    /// Deletes a relationship.
    pub fn delete_edge(&mut self, id: EdgeId) -> Result<()> {
        let s = self.live_edge_slot(id)?;
        let Some(rec) = self.edges.free(s as usize) else {
            return Err(GraphError::EdgeNotFound(id));
        };
        let props = self.edge_props.remove(&s).unwrap_or_default();
        let pair = &mut self.adj[rec.rel as usize];
        let dead = u8::from(pair[0].remove(rec.src, s) == Removed::Dead)
            + u8::from(pair[1].remove(rec.dst, s) == Removed::Dead);
        if dead == 0 {
            self.edge_free.insert(s);
        } else {
            self.edge_pending.insert(s, (rec.rel, dead));
        }
        if rec.src == rec.dst
            && let Some(n) = self.self_loops.get_mut(&(rec.rel, rec.src))
        {
            *n -= 1;
            if *n == 0 {
                self.self_loops.remove(&(rec.rel, rec.src));
            }
        }
        for ix in &mut self.indexes {
            if ix.entity == IndexEntity::RelType(RelTypeId(rec.rel))
                && let Some(v) = props.get(ix.key)
            {
                ix.remove(v, s);
            }
        }
        for vx in &mut self.vector_indexes {
            if vx.entity == IndexEntity::RelType(RelTypeId(rec.rel)) {
                vx.remove(s);
            }
        }
        self.edge_count -= 1;
        self.type_counts[rec.rel as usize] -= 1;
        self.record(|| Mutation::DeleteEdge { id });
        Ok(())
    }

    /// Sets properties of a relationship (a Null value removes the key).
    pub fn set_edge_props(&mut self, id: EdgeId, props: Vec<(PropKeyId, Value)>) -> Result<()> {
        let s = self.live_edge_slot(id)?;
        self.check_keys(&props)?;
        let rel = self.edges.rel(s as usize);
        let map = self.edge_props.entry(s).or_default();
        for (k, v) in &props {
            let old = map.set(*k, v.clone());
            for ix in &mut self.indexes {
                if ix.key == *k && ix.entity == IndexEntity::RelType(RelTypeId(rel)) {
                    if let Some(o) = &old {
                        ix.remove(o, s);
                    }
                    ix.insert(v, s);
                }
            }
            for vx in &mut self.vector_indexes {
                if vx.key == *k && vx.entity == IndexEntity::RelType(RelTypeId(rel)) {
                    vx.put(s, Some(v));
                }
            }
        }
        if map.is_empty() {
            self.edge_props.remove(&s);
        }
        self.record(|| Mutation::SetEdgeProps { id, props });
        Ok(())
    }

    /// Sets (or with Null removes) one relationship property; returns the previous value.
    pub fn set_edge_property(
        &mut self,
        id: EdgeId,
        key: PropKeyId,
        value: Value,
    ) -> Result<Option<Value>> {
        let old = self.edge_property(id, key).cloned();
        self.set_edge_props(id, vec![(key, value)])?;
        Ok(old)
    }

    // ---- indexes ----

    fn check_index_target(&self, entity: IndexEntity, key: PropKeyId) -> Result<()> {
        match entity {
            IndexEntity::Label(l) => self.check_labels(&[l])?,
            IndexEntity::RelType(t) => self.check_rel(t)?,
        }
        if key.0 as usize >= self.schema.prop_keys.len() {
            return Err(GraphError::UnknownPropKey(key));
        }
        Ok(())
    }

    /// Creates a range index and fills it from the current data.
    pub fn create_index(&mut self, entity: IndexEntity, key: PropKeyId) -> Result<()> {
        self.check_index_target(entity, key)?;
        if self.has_index(entity, key) {
            return Err(GraphError::IndexExists);
        }
        let mut ix = RangeIndex::new(entity, key);
        match entity {
            IndexEntity::Label(l) => {
                for s in &self.label_nodes[l.0 as usize] {
                    if let Some(Some(n)) = self.nodes.get(s as usize)
                        && let Some(v) = n.props.get(key)
                    {
                        ix.insert(v, s);
                    }
                }
            }
            IndexEntity::RelType(t) => {
                for (&s, props) in &self.edge_props {
                    if self.edges.rel(s as usize) == t.0
                        && let Some(v) = props.get(key)
                    {
                        ix.insert(v, s);
                    }
                }
            }
        }
        ix.pack();
        self.indexes.push(ix);
        self.record(|| Mutation::CreateIndex {
            entity,
            key,
            kind: IndexKind::Range,
        });
        Ok(())
    }

    /// Drops a range index; refuses one an operational UNIQUE constraint relies on.
    pub fn drop_index(&mut self, entity: IndexEntity, key: PropKeyId) -> Result<()> {
        if self.index_supports_constraint(entity, key) {
            return Err(GraphError::IndexSupportsConstraint);
        }
        let pos = self
            .indexes
            .iter()
            .position(|ix| ix.entity == entity && ix.key == key)
            .ok_or(GraphError::IndexNotFound)?;
        self.indexes.remove(pos);
        self.record(|| Mutation::DropIndex {
            entity,
            key,
            kind: IndexKind::Range,
        });
        Ok(())
    }

    /// Creates a vector index (FalkorDB's `CREATE VECTOR INDEX`) and fills it from the current
    /// data: entities whose property is a vecf32 of `options.dimension` elements.
    pub fn create_vector_index(
        &mut self,
        entity: IndexEntity,
        key: PropKeyId,
        options: VectorOptions,
    ) -> Result<()> {
        self.check_index_target(entity, key)?;
        options.validate()?;
        if self.has_vector_index(entity, key) {
            return Err(GraphError::IndexExists);
        }
        let mut vx = GraphVectorIndex::new(entity, key, options)?;
        self.fill_vector_index(&mut vx);
        self.vector_indexes.push(vx);
        self.record(|| Mutation::CreateVectorIndex {
            entity,
            key,
            options,
        });
        Ok(())
    }

    /// Inserts every qualifying entity's vector into `vx` (in id order, so a rebuild is
    /// deterministic).
    pub(crate) fn fill_vector_index(&self, vx: &mut GraphVectorIndex) {
        match vx.entity {
            IndexEntity::Label(l) => {
                for s in &self.label_nodes[l.0 as usize] {
                    if let Some(Some(n)) = self.nodes.get(s as usize)
                        && let Some(v) = n.props.get(vx.key)
                    {
                        vx.put(s, Some(v));
                    }
                }
            }
            IndexEntity::RelType(t) => {
                let mut slots: Vec<u32> = self
                    .edge_props
                    .keys()
                    .copied()
                    .filter(|&s| self.edges.rel(s as usize) == t.0)
                    .collect();
                slots.sort_unstable();
                for s in slots {
                    vx.put(s, self.edge_props.get(&s).and_then(|p| p.get(vx.key)));
                }
            }
        }
    }

    /// Drops a vector index; returns its options (so an undo log can re-create it).
    pub fn drop_vector_index(
        &mut self,
        entity: IndexEntity,
        key: PropKeyId,
    ) -> Result<VectorOptions> {
        let pos = self
            .vector_indexes
            .iter()
            .position(|ix| ix.entity == entity && ix.key == key)
            .ok_or(GraphError::IndexNotFound)?;
        let vx = self.vector_indexes.remove(pos);
        self.record(|| Mutation::DropVectorIndex { entity, key });
        Ok(vx.options)
    }

    // ---- replay ----

    /// Replays one record with the ids it carries (records it again when recording is on).
    pub fn apply(&mut self, m: &Mutation) -> Result<()> {
        let recording = std::mem::replace(&mut self.recording, false);
        let r = self.apply_inner(m);
        self.recording = recording;
        if r.is_ok() && recording {
            self.log.push(m.clone());
        }
        r
    }

    fn apply_inner(&mut self, m: &Mutation) -> Result<()> {
        match m {
            Mutation::AddLabel { id, name } => {
                check_schema_add(
                    self.schema.labels.get(name),
                    self.schema.labels.len(),
                    id.0,
                    name,
                )?;
                self.intern_label(name);
            }
            Mutation::AddRelType { id, name } => {
                let t = &self.schema.rel_types;
                check_schema_add(t.get(name), t.len(), id.0, name)?;
                self.intern_rel_type(name);
            }
            Mutation::AddPropKey { id, name } => {
                let t = &self.schema.prop_keys;
                check_schema_add(t.get(name), t.len(), id.0, name)?;
                self.intern_prop_key(name);
            }
            Mutation::CreateNode { id, labels, props } => {
                self.check_labels(labels)?;
                self.check_keys(props)?;
                let s = self.claim_node_slot(*id)?;
                self.insert_node_at(s, sorted_labels(labels), PropMap::from_pairs(props.clone()));
            }
            Mutation::DeleteNode { id } => {
                self.delete_node(*id, false)?;
            }
            Mutation::CreateEdge {
                id,
                src,
                dst,
                rel,
                props,
            } => {
                let (a, b) = (self.live_node_slot(*src)?, self.live_node_slot(*dst)?);
                self.check_rel(*rel)?;
                self.check_keys(props)?;
                let s = self.claim_edge_slot(*id)?;
                self.insert_edge_at(s, a, b, rel.0, PropMap::from_pairs(props.clone()));
            }
            Mutation::DeleteEdge { id } => self.delete_edge(*id)?,
            Mutation::SetNodeProps { id, props } => self.set_node_props(*id, props.clone())?,
            Mutation::SetEdgeProps { id, props } => self.set_edge_props(*id, props.clone())?,
            Mutation::AddLabels { id, labels } => {
                self.add_labels(*id, labels)?;
            }
            Mutation::RemoveLabels { id, labels } => {
                self.remove_labels(*id, labels)?;
            }
            Mutation::CreateIndex {
                entity,
                key,
                kind: IndexKind::Range,
            } => {
                self.create_index(*entity, *key)?;
            }
            Mutation::DropIndex {
                entity,
                key,
                kind: IndexKind::Range,
            } => {
                self.drop_index(*entity, *key)?;
            }
            Mutation::CreateVectorIndex {
                entity,
                key,
                options,
            } => {
                self.create_vector_index(*entity, *key, *options)?;
            }
            Mutation::DropVectorIndex { entity, key } => {
                self.drop_vector_index(*entity, *key)?;
            }
            Mutation::CreateConstraint {
                kind,
                entity,
                keys,
                status,
            } => {
                self.restore_constraint(&crate::constraint::ConstraintInfo {
                    kind: *kind,
                    entity: *entity,
                    keys: keys.clone(),
                    status: *status,
                })?;
            }
            Mutation::DropConstraint { kind, entity, keys } => {
                self.drop_constraint(*kind, *entity, keys)?;
            }
        }
        Ok(())
    }
}

/// A schema record must name the next id for a new name, or repeat an existing pair.
fn check_schema_add(existing: Option<u32>, len: usize, id: u32, name: &str) -> Result<()> {
    match existing {
        Some(e) if e == id => Ok(()),
        None if id as usize == len => Ok(()),
        _ => Err(GraphError::SchemaMismatch(format!("{name} as id {id}"))),
    }
}
