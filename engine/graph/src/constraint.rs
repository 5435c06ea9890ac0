//! Graph constraints (FalkorDB's `GRAPH.CONSTRAINT`): MANDATORY (every node with the label /
//! relationship of the type has all the properties) and UNIQUE (no two such entities that
//! have all the properties share their combination of values), with their status, their
//! validation against existing data, their per-entity checks for the executor, and their byte
//! encodings (mutation records 24/25 and the snapshot's constraint section).
//!
//! Invariants:
//! - `Graph::constraints` is in creation order; no two entries have the same (kind, entity,
//!   keys); keys are strictly ascending property-key ids (FalkorDB lists them in id order and
//!   treats `a b` and `b a` as the same constraint).
//! - A constraint's status is decided once, when it is created (FalkorDB builds it
//!   asynchronously; Moon synchronously): `Operational` if the data satisfied it then, else
//!   `Failed`. A failed constraint is listed but never enforced, and stays failed. Replay
//!   (mutation records, snapshots) carries the status instead of recomputing it, so a copy
//!   or a restart shows what the original showed.
//! - An operational UNIQUE constraint has a range index on each of its keys for its entity
//!   (creation requires them, and `drop_index` refuses to drop one): the check seeks the first
//!   key's index. Values the range index does not hold (lists, maps, points, vectors) are, as
//!   in FalkorDB, not subject to uniqueness; numbers compare numerically (1 = 1.0).

use std::collections::BTreeSet;

use crate::codec::{DecodeError, Reader, put_len, put_u8, put_u32};
use crate::graph::{Graph, GraphError};
use crate::ids::{EdgeId, LabelId, NodeId, PropKeyId, RelTypeId};
use crate::index::{IndexEntity, IndexKey, IndexRange};
use crate::mutation::Mutation;
use crate::props::PropMap;

/// MANDATORY or UNIQUE.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConstraintKind {
    Mandatory,
    Unique,
}

impl ConstraintKind {
    /// FalkorDB's name (`db.constraints()`'s `type` column, the command's argument).
    pub fn name(self) -> &'static str {
        match self {
            ConstraintKind::Mandatory => "MANDATORY",
            ConstraintKind::Unique => "UNIQUE",
        }
    }
}

/// Whether a constraint is enforced (`OPERATIONAL`) or was violated by the data it was
/// created over (`FAILED`, never enforced). FalkorDB's third state, `PENDING`, is never
/// observable in Moon: constraints are built before the command answers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConstraintStatus {
    Operational,
    Failed,
}

impl ConstraintStatus {
    pub fn name(self) -> &'static str {
        match self {
            ConstraintStatus::Operational => "OPERATIONAL",
            ConstraintStatus::Failed => "FAILED",
        }
    }
}

/// One constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintInfo {
    pub kind: ConstraintKind,
    pub entity: IndexEntity,
    /// Strictly ascending.
    pub keys: Vec<PropKeyId>,
    pub status: ConstraintStatus,
}

/// `keys` sorted by id without duplicates (the canonical form constraints are stored in).
pub fn canonical_keys(keys: &[PropKeyId]) -> Vec<PropKeyId> {
    let mut k = keys.to_vec();
    k.sort_unstable();
    k.dedup();
    k
}

impl Graph {
    /// The constraints, in creation order.
    pub fn list_constraints(&self) -> &[ConstraintInfo] {
        &self.constraints
    }

    /// Whether any constraint is enforced (the executor checks nothing otherwise).
    pub fn has_active_constraints(&self) -> bool {
        self.constraints
            .iter()
            .any(|c| c.status == ConstraintStatus::Operational)
    }

    /// Whether an operational UNIQUE constraint relies on the range index `(entity, key)`.
    pub fn index_supports_constraint(&self, entity: IndexEntity, key: PropKeyId) -> bool {
        self.constraints.iter().any(|c| {
            c.kind == ConstraintKind::Unique
                && c.status == ConstraintStatus::Operational
                && c.entity == entity
                && c.keys.contains(&key)
        })
    }

    fn constraint_pos(
        &self,
        kind: ConstraintKind,
        entity: IndexEntity,
        keys: &[PropKeyId],
    ) -> Option<usize> {
        self.constraints
            .iter()
            .position(|c| c.kind == kind && c.entity == entity && c.keys == keys)
    }

    fn check_constraint_target(
        &self,
        entity: IndexEntity,
        keys: &[PropKeyId],
    ) -> Result<(), GraphError> {
        let known = match entity {
            IndexEntity::Label(l) => (l.0 as usize) < self.schema.labels.len(),
            IndexEntity::RelType(t) => (t.0 as usize) < self.schema.rel_types.len(),
        };
        if !known {
            return Err(match entity {
                IndexEntity::Label(l) => GraphError::UnknownLabel(l),
                IndexEntity::RelType(t) => GraphError::UnknownRelType(t),
            });
        }
        if keys.is_empty() {
            return Err(GraphError::InvalidConstraint("no properties".into()));
        }
        match keys
            .iter()
            .find(|k| k.0 as usize >= self.schema.prop_keys.len())
        {
            Some(&k) => Err(GraphError::UnknownPropKey(k)),
            None => Ok(()),
        }
    }

    /// Creates a constraint over the current data and returns its status (see the module
    /// doc). Errors: the same constraint exists (`ConstraintExists`), a UNIQUE one lacks a
    /// range index on one of its keys (`MissingConstraintIndex`), unknown ids.
    pub fn create_constraint(
        &mut self,
        kind: ConstraintKind,
        entity: IndexEntity,
        keys: &[PropKeyId],
    ) -> Result<ConstraintStatus, GraphError> {
        let keys = canonical_keys(keys);
        self.check_constraint_target(entity, &keys)?;
        if self.constraint_pos(kind, entity, &keys).is_some() {
            return Err(GraphError::ConstraintExists);
        }
        if kind == ConstraintKind::Unique && !keys.iter().all(|&k| self.has_index(entity, k)) {
            return Err(GraphError::MissingConstraintIndex);
        }
        let status = if self.data_satisfies(kind, entity, &keys) {
            ConstraintStatus::Operational
        } else {
            ConstraintStatus::Failed
        };
        self.insert_constraint(ConstraintInfo {
            kind,
            entity,
            keys,
            status,
        });
        Ok(status)
    }

    fn insert_constraint(&mut self, c: ConstraintInfo) {
        let m = Mutation::CreateConstraint {
            kind: c.kind,
            entity: c.entity,
            keys: c.keys.clone(),
            status: c.status,
        };
        self.constraints.push(c);
        self.record(|| m);
    }

    /// Re-creates a constraint with the status it was recorded with (replay, undo).
    pub(crate) fn restore_constraint(&mut self, c: &ConstraintInfo) -> Result<(), GraphError> {
        let keys = canonical_keys(&c.keys);
        self.check_constraint_target(c.entity, &keys)?;
        if keys != c.keys {
            return Err(GraphError::InvalidConstraint("keys not ascending".into()));
        }
        if self.constraint_pos(c.kind, c.entity, &keys).is_some() {
            return Err(GraphError::ConstraintExists);
        }
        if c.kind == ConstraintKind::Unique
            && c.status == ConstraintStatus::Operational
            && !keys.iter().all(|&k| self.has_index(c.entity, k))
        {
            return Err(GraphError::MissingConstraintIndex);
        }
        self.insert_constraint(c.clone());
        Ok(())
    }

    /// Drops a constraint (whatever its status); returns it.
    pub fn drop_constraint(
        &mut self,
        kind: ConstraintKind,
        entity: IndexEntity,
        keys: &[PropKeyId],
    ) -> Result<ConstraintInfo, GraphError> {
        let keys = canonical_keys(keys);
        let pos = self
            .constraint_pos(kind, entity, &keys)
            .ok_or(GraphError::ConstraintNotFound)?;
        let c = self.constraints.remove(pos);
        self.record(|| Mutation::DropConstraint { kind, entity, keys });
        Ok(c)
    }

    /// Records that rebuild the constraints on a copy that already has the data and indexes
    /// (GRAPH.COPY's image), statuses included.
    pub fn constraint_image(&self) -> Vec<Mutation> {
        self.constraints
            .iter()
            .map(|c| Mutation::CreateConstraint {
                kind: c.kind,
                entity: c.entity,
                keys: c.keys.clone(),
                status: c.status,
            })
            .collect()
    }

    /// The live entities of `entity` with their properties (slot, props).
    fn entities_of(&self, entity: IndexEntity) -> Vec<(u32, &PropMap)> {
        match entity {
            IndexEntity::Label(l) => self
                .label_nodes
                .get(l.0 as usize)
                .into_iter()
                .flat_map(|b| b.iter())
                .filter_map(|s| {
                    let n = self.nodes.get(s as usize)?.as_ref()?;
                    Some((s, &n.props))
                })
                .collect(),
            IndexEntity::RelType(t) => self
                .edges
                .of_type(t.0)
                .map(|(s, _)| (s, self.edge_props.get(&s).unwrap_or(&self.no_props)))
                .collect(),
        }
    }

    /// Whether every entity satisfies the constraint (its creation-time validation).
    fn data_satisfies(
        &self,
        kind: ConstraintKind,
        entity: IndexEntity,
        keys: &[PropKeyId],
    ) -> bool {
        let all = self.entities_of(entity);
        match kind {
            ConstraintKind::Mandatory => all
                .iter()
                .all(|(_, p)| keys.iter().all(|&k| p.get(k).is_some())),
            ConstraintKind::Unique => {
                let mut seen: BTreeSet<Vec<IndexKey>> = BTreeSet::new();
                for (_, p) in all {
                    if let Some(tuple) = unique_tuple(p, keys)
                        && !seen.insert(tuple)
                    {
                        return false;
                    }
                }
                true
            }
        }
    }

    fn entity_props(&self, entity: IndexEntity, s: u32) -> Option<&PropMap> {
        match entity {
            IndexEntity::Label(_) => Some(&self.nodes.get(s as usize)?.as_ref()?.props),
            IndexEntity::RelType(_) => Some(self.edge_props.get(&s).unwrap_or(&self.no_props)),
        }
    }

    /// Checks one entity (slot `s`, properties `props`) against the operational constraints
    /// on `entity`; the error is FalkorDB's message.
    fn check_entity(&self, entity: IndexEntity, s: u32, props: &PropMap) -> Result<(), String> {
        for c in &self.constraints {
            if c.entity != entity || c.status != ConstraintStatus::Operational {
                continue;
            }
            match c.kind {
                ConstraintKind::Mandatory => {
                    if let Some(&k) = c.keys.iter().find(|&&k| props.get(k).is_none()) {
                        let prop = self.prop_key_name(k).unwrap_or_default();
                        return Err(match entity {
                            IndexEntity::Label(l) => format!(
                                "mandatory constraint violation: node with label {} missing property {prop}",
                                self.label_name(l).unwrap_or_default()
                            ),
                            IndexEntity::RelType(t) => format!(
                                "mandatory constraint violation: edge with relationship-type {} missing property {prop}",
                                self.rel_type_name(t).unwrap_or_default()
                            ),
                        });
                    }
                }
                ConstraintKind::Unique => {
                    if self.has_duplicate(c, s, props) {
                        return Err(match entity {
                            IndexEntity::Label(l) => format!(
                                "unique constraint violation on node of type {}",
                                self.label_name(l).unwrap_or_default()
                            ),
                            IndexEntity::RelType(t) => format!(
                                "unique constraint violation, on edge of relationship-type {}",
                                self.rel_type_name(t).unwrap_or_default()
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether another entity of `c.entity` has the same values as `props` on `c.keys`.
    fn has_duplicate(&self, c: &ConstraintInfo, s: u32, props: &PropMap) -> bool {
        let Some(tuple) = unique_tuple(props, &c.keys) else {
            return false;
        };
        let (Some(&first), Some(v)) = (c.keys.first(), c.keys.first().and_then(|&k| props.get(k)))
        else {
            return false;
        };
        let Some(ix) = self.find_index(c.entity, first) else {
            return false;
        };
        ix.seek(&IndexRange::eq(v.clone()))
            .filter(|&o| o != s)
            .any(|o| {
                self.entity_props(c.entity, o)
                    .and_then(|p| unique_tuple(p, &c.keys))
                    .is_some_and(|t| t == tuple)
            })
    }

    /// Checks node `id` against the operational constraints of its labels.
    pub fn check_node_constraints(&self, id: NodeId) -> Result<(), String> {
        let (Some(s), Some(n)) = (id.slot(), self.node_rec(id)) else {
            return Ok(());
        };
        for &l in &n.labels {
            self.check_entity(IndexEntity::Label(l), s, &n.props)?;
        }
        Ok(())
    }

    /// Checks relationship `id` against the operational constraints of its type.
    pub fn check_edge_constraints(&self, id: EdgeId) -> Result<(), String> {
        let (Some(s), Some(e)) = (id.slot(), self.edge_rec(id)) else {
            return Ok(());
        };
        let props = self.edge_props.get(&s).unwrap_or(&self.no_props);
        self.check_entity(IndexEntity::RelType(RelTypeId(e.rel)), s, props)
    }
}

/// The entity's values on `keys` as index keys, or `None` when it lacks one or one is not
/// indexable (then it is not subject to uniqueness).
fn unique_tuple(props: &PropMap, keys: &[PropKeyId]) -> Option<Vec<IndexKey>> {
    keys.iter()
        .map(|&k| props.get(k).and_then(IndexKey::of))
        .collect()
}

// ---- byte encodings ----

fn kind_byte(k: ConstraintKind) -> u8 {
    match k {
        ConstraintKind::Mandatory => 0,
        ConstraintKind::Unique => 1,
    }
}

/// `u8 kind (0 mandatory, 1 unique)`, `u8 entity kind (0 label, 1 rel type)`, `u32 entity id`,
/// `u32 count`, `count × u32 key`.
pub(crate) fn put_constraint(
    out: &mut Vec<u8>,
    kind: ConstraintKind,
    entity: IndexEntity,
    keys: &[PropKeyId],
) {
    put_u8(out, kind_byte(kind));
    match entity {
        IndexEntity::Label(l) => {
            put_u8(out, 0);
            put_u32(out, l.0);
        }
        IndexEntity::RelType(t) => {
            put_u8(out, 1);
            put_u32(out, t.0);
        }
    }
    put_len(out, keys.len());
    for k in keys {
        put_u32(out, k.0);
    }
}

/// `u8 status (0 operational, 1 failed)`.
pub(crate) fn put_status(out: &mut Vec<u8>, s: ConstraintStatus) {
    put_u8(
        out,
        match s {
            ConstraintStatus::Operational => 0,
            ConstraintStatus::Failed => 1,
        },
    );
}

pub(crate) fn read_constraint(
    r: &mut Reader<'_>,
) -> Result<(ConstraintKind, IndexEntity, Vec<PropKeyId>), DecodeError> {
    let at = r.pos();
    let kind = match r.u8()? {
        0 => ConstraintKind::Mandatory,
        1 => ConstraintKind::Unique,
        t => return Err(r.err_at(at, format!("unknown constraint kind {t}"))),
    };
    let at = r.pos();
    let entity = match r.u8()? {
        0 => IndexEntity::Label(LabelId(r.u32()?)),
        1 => IndexEntity::RelType(RelTypeId(r.u32()?)),
        t => return Err(r.err_at(at, format!("unknown constraint entity kind {t}"))),
    };
    let at = r.pos();
    let n = r.count(4)?;
    let keys: Vec<PropKeyId> = (0..n)
        .map(|_| r.u32().map(PropKeyId))
        .collect::<Result<_, _>>()?;
    if keys.is_empty() || keys.windows(2).any(|w| w[0] >= w[1]) {
        return Err(r.err_at(at, "constraint keys empty or not strictly ascending"));
    }
    Ok((kind, entity, keys))
}

pub(crate) fn read_status(r: &mut Reader<'_>) -> Result<ConstraintStatus, DecodeError> {
    let at = r.pos();
    match r.u8()? {
        0 => Ok(ConstraintStatus::Operational),
        1 => Ok(ConstraintStatus::Failed),
        t => Err(r.err_at(at, format!("unknown constraint status {t}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    /// `:P` nodes with the given `id` values (`None`: no id property).
    fn people(ids: &[Option<i64>]) -> (Graph, LabelId, PropKeyId) {
        let mut g = Graph::new();
        let p = g.intern_label("P");
        let k = g.intern_prop_key("id");
        for id in ids {
            let props = id.map(|i| vec![(k, int(i))]).unwrap_or_default();
            assert!(g.create_node(&[p], props).is_ok());
        }
        (g, p, k)
    }

    #[test]
    fn status_is_decided_at_creation() {
        let (mut g, p, k) = people(&[Some(1), Some(2), None]);
        let e = IndexEntity::Label(p);
        use ConstraintKind::*;
        assert_eq!(
            g.create_constraint(Mandatory, e, &[k]),
            Ok(ConstraintStatus::Failed)
        );
        assert_eq!(
            g.create_constraint(Mandatory, e, &[k]),
            Err(GraphError::ConstraintExists)
        );
        assert_eq!(
            g.create_constraint(Unique, e, &[k]),
            Err(GraphError::MissingConstraintIndex)
        );
        assert!(g.create_index(e, k).is_ok());
        assert_eq!(
            g.create_constraint(Unique, e, &[k]),
            Ok(ConstraintStatus::Operational)
        );
        assert!(g.has_active_constraints());
        assert_eq!(g.drop_index(e, k), Err(GraphError::IndexSupportsConstraint));
        // 2 and 2.0 are the same value for uniqueness.
        let (mut g2, p2, k2) = people(&[Some(2)]);
        let e2 = IndexEntity::Label(p2);
        assert!(
            g2.set_node_props(NodeId(0), vec![(k2, Value::Float(2.0))])
                .is_ok()
        );
        assert!(g2.create_node(&[p2], vec![(k2, int(2))]).is_ok());
        assert!(g2.create_index(e2, k2).is_ok());
        assert_eq!(
            g2.create_constraint(Unique, e2, &[k2]),
            Ok(ConstraintStatus::Failed)
        );
        // A failed unique constraint does not hold its index.
        assert!(g2.drop_index(e2, k2).is_ok());
        assert_eq!(
            g.drop_constraint(Mandatory, e, &[k]).map(|c| c.status),
            Ok(ConstraintStatus::Failed)
        );
        assert_eq!(
            g.drop_constraint(Mandatory, e, &[k]).err(),
            Some(GraphError::ConstraintNotFound)
        );
    }

    #[test]
    fn entity_checks_and_messages() {
        let (mut g, p, k) = people(&[Some(1), Some(2)]);
        let e = IndexEntity::Label(p);
        let name = g.intern_prop_key("name");
        assert!(g.create_index(e, k).is_ok());
        assert!(g.create_constraint(ConstraintKind::Unique, e, &[k]).is_ok());
        assert!(
            g.create_constraint(ConstraintKind::Mandatory, e, &[k])
                .is_ok()
        );
        assert_eq!(g.check_node_constraints(NodeId(0)), Ok(()));
        let dup = g
            .create_node(&[p], vec![(k, Value::Float(1.0))])
            .unwrap_or(NodeId(0));
        assert_eq!(
            g.check_node_constraints(dup),
            Err("unique constraint violation on node of type P".into())
        );
        let bare = g
            .create_node(&[p], vec![(name, Value::str("x"))])
            .unwrap_or(NodeId(0));
        assert_eq!(
            g.check_node_constraints(bare),
            Err("mandatory constraint violation: node with label P missing property id".into())
        );
        // Lists are not indexed: not subject to uniqueness.
        let l = Value::List(vec![int(1)]);
        let a = g
            .create_node(&[p], vec![(k, l.clone())])
            .unwrap_or(NodeId(0));
        let b = g.create_node(&[p], vec![(k, l)]).unwrap_or(NodeId(0));
        assert_eq!(g.check_node_constraints(a), Ok(()));
        assert_eq!(g.check_node_constraints(b), Ok(()));
        // Relationships.
        let t = g.intern_rel_type("T");
        let w = g.intern_prop_key("w");
        let r = IndexEntity::RelType(t);
        assert!(
            g.create_constraint(ConstraintKind::Mandatory, r, &[w])
                .is_ok()
        );
        let edge = g
            .create_edge(NodeId(0), NodeId(1), t, vec![])
            .unwrap_or(EdgeId(0));
        assert_eq!(
            g.check_edge_constraints(edge),
            Err(
                "mandatory constraint violation: edge with relationship-type T missing property w"
                    .into()
            )
        );
        assert!(g.create_index(r, w).is_ok());
        assert!(
            g.drop_constraint(ConstraintKind::Mandatory, r, &[w])
                .is_ok()
        );
        assert!(g.create_constraint(ConstraintKind::Unique, r, &[w]).is_ok());
        let e1 = g
            .create_edge(NodeId(0), NodeId(1), t, vec![(w, int(5))])
            .unwrap_or(EdgeId(0));
        let e2 = g
            .create_edge(NodeId(1), NodeId(0), t, vec![(w, int(5))])
            .unwrap_or(EdgeId(0));
        assert_eq!(
            g.check_edge_constraints(e2),
            Err("unique constraint violation, on edge of relationship-type T".into())
        );
        assert!(g.check_edge_constraints(e1).is_err());
    }

    #[test]
    fn composite_keys_are_canonical_and_compared_together() {
        let mut g = Graph::new();
        let p = g.intern_label("P");
        let (a, b) = (g.intern_prop_key("a"), g.intern_prop_key("b"));
        let e = IndexEntity::Label(p);
        assert!(g.create_index(e, a).is_ok());
        assert!(g.create_index(e, b).is_ok());
        assert!(
            g.create_constraint(ConstraintKind::Unique, e, &[b, a])
                .is_ok()
        );
        assert_eq!(
            g.create_constraint(ConstraintKind::Unique, e, &[a, b]),
            Err(GraphError::ConstraintExists)
        );
        assert_eq!(g.list_constraints()[0].keys, vec![a, b]);
        let n1 = g
            .create_node(&[p], vec![(a, int(1)), (b, int(2))])
            .unwrap_or(NodeId(0));
        let n2 = g
            .create_node(&[p], vec![(a, int(1)), (b, int(3))])
            .unwrap_or(NodeId(0));
        let n3 = g.create_node(&[p], vec![(a, int(1))]).unwrap_or(NodeId(0));
        for n in [n1, n2, n3] {
            assert_eq!(g.check_node_constraints(n), Ok(()));
        }
        assert!(g.set_node_props(n2, vec![(b, int(2))]).is_ok());
        assert!(g.check_node_constraints(n2).is_err());
    }

    #[test]
    fn mutations_and_snapshots_carry_constraints() {
        let (mut g, p, k) = people(&[Some(1), None]);
        let e = IndexEntity::Label(p);
        g.set_recording(true);
        assert!(g.create_index(e, k).is_ok());
        assert_eq!(
            g.create_constraint(ConstraintKind::Mandatory, e, &[k]),
            Ok(ConstraintStatus::Failed)
        );
        assert!(g.create_constraint(ConstraintKind::Unique, e, &[k]).is_ok());
        let log = g.take_mutations();
        let mut blob = Vec::new();
        Mutation::encode_batch(&log, &mut blob);
        let decoded = Mutation::decode_batch(&blob).unwrap_or_default();
        assert_eq!(decoded, log);
        // Replay on a graph where the data would now pass: the status stays as recorded.
        let (mut replica, _, _) = people(&[Some(1), Some(2)]);
        for m in &decoded {
            assert_eq!(replica.apply(m), Ok(()), "{m:?}");
        }
        assert_eq!(replica.list_constraints(), g.list_constraints());
        // Snapshot round trip, and a version-2 snapshot (no section) still decodes.
        let mut bytes = Vec::new();
        g.encode(&mut bytes);
        let back = Graph::decode(&bytes).unwrap_or_default();
        assert_eq!(back.list_constraints(), g.list_constraints());
        let mut bare = Graph::new();
        let bl = bare.intern_label("P");
        assert!(bare.create_node(&[bl], vec![]).is_ok());
        let mut v3 = Vec::new();
        bare.encode(&mut v3);
        assert_eq!(v3.first(), Some(&crate::SNAPSHOT_VERSION));
        // Version 2 = the same bytes without the trailing empty constraint count.
        let mut v2 = v3[..v3.len() - 4].to_vec();
        v2[0] = 2;
        let old = Graph::decode(&v2).unwrap_or_default();
        assert_eq!(old.node_count(), 1);
        assert!(old.list_constraints().is_empty());
        // Corrupt statuses and unsorted keys are decode errors, not panics.
        let mut bad = bytes.clone();
        if let Some(last) = bad.last_mut() {
            *last = 9;
        }
        assert!(Graph::decode(&bad).is_err());
        // The image of a copy rebuilds the constraints with their statuses.
        let mut copy = g.copy();
        copy.constraints.clear();
        for m in g.constraint_image() {
            assert_eq!(copy.apply(&m), Ok(()));
        }
        assert_eq!(copy.list_constraints(), g.list_constraints());
    }
}
