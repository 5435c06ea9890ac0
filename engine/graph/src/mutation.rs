//! Mutation records: the effects of graph writes, for the WAL and replication.
//!
//! Records describe effects with explicit ids ("log effects, not intentions"): replaying them
//! with [`crate::Graph::apply`] on the graph as it was when they were recorded reproduces the
//! same state with the same ids. A detach-delete is logged as its `DeleteEdge`s followed by the
//! `DeleteNode`. Schema additions are logged as `Add*` records before their first use.
//!
//! Encoding (little-endian): a single record is `u8 version (=1)`, `u8 tag`, payload (tags
//! 22/23, vector index DDL, and 24/25, constraints, were added without a version bump: older
//! readers never see them unless a vector index or a constraint is used); a batch is
//! `u8 version (=1)`, `u32 count`, then `count` times `u8 tag`, payload. Payloads are listed on
//! [`Mutation`]'s variants; `ids` are `u32 count` + `u32` each, `props` are `u32 count` + per
//! entry `u32 key` + value (see `codec`).

use crate::codec::{DecodeError, Reader, put_len, put_str, put_u8, put_u32, put_u64, put_value};
use crate::constraint::{
    ConstraintKind, ConstraintStatus, put_constraint, put_status, read_constraint, read_status,
};
use crate::ids::{EdgeId, LabelId, NodeId, PropKeyId, RelTypeId};
use crate::index::{IndexEntity, IndexKind};
use crate::value::Value;
use crate::vector_index::{
    VectorOptions, put_entity, put_vector_descriptor, read_entity, read_vector_descriptor,
};

/// Current record format version.
pub const MUTATION_VERSION: u8 = 1;

/// One logged effect.
#[derive(Clone, Debug, PartialEq)]
pub enum Mutation {
    /// Tag 1: `u32 id`, `u32 len` + UTF-8 name.
    AddLabel { id: LabelId, name: String },
    /// Tag 2: as `AddLabel`.
    AddRelType { id: RelTypeId, name: String },
    /// Tag 3: as `AddLabel`.
    AddPropKey { id: PropKeyId, name: String },
    /// Tag 10: `u64 id`, labels, props.
    CreateNode {
        id: NodeId,
        labels: Vec<LabelId>,
        props: Vec<(PropKeyId, Value)>,
    },
    /// Tag 11: `u64 id`. The node has no edges left when this is applied.
    DeleteNode { id: NodeId },
    /// Tag 12: `u64 id`, `u64 src`, `u64 dst`, `u32 rel`, props.
    CreateEdge {
        id: EdgeId,
        src: NodeId,
        dst: NodeId,
        rel: RelTypeId,
        props: Vec<(PropKeyId, Value)>,
    },
    /// Tag 13: `u64 id`.
    DeleteEdge { id: EdgeId },
    /// Tag 14: `u64 id`, props (a Null value removes that property).
    SetNodeProps {
        id: NodeId,
        props: Vec<(PropKeyId, Value)>,
    },
    /// Tag 15: as `SetNodeProps`.
    SetEdgeProps {
        id: EdgeId,
        props: Vec<(PropKeyId, Value)>,
    },
    /// Tag 16: `u64 id`, labels.
    AddLabels { id: NodeId, labels: Vec<LabelId> },
    /// Tag 17: `u64 id`, labels.
    RemoveLabels { id: NodeId, labels: Vec<LabelId> },
    /// Tag 20: `u8 entity kind (0 label, 1 rel type)`, `u32 entity id`, `u32 key`,
    /// `u8 index kind (0 range)`.
    CreateIndex {
        entity: IndexEntity,
        key: PropKeyId,
        kind: IndexKind,
    },
    /// Tag 21: as `CreateIndex`.
    DropIndex {
        entity: IndexEntity,
        key: PropKeyId,
        kind: IndexKind,
    },
    /// Tag 22: `u8 entity kind (0 label, 1 rel type)`, `u32 entity id`, `u32 key`,
    /// `u32 dimension`, `u8 similarity (0 euclidean, 1 cosine)`, `u32 M`,
    /// `u32 efConstruction`, `u32 efRuntime`.
    CreateVectorIndex {
        entity: IndexEntity,
        key: PropKeyId,
        options: VectorOptions,
    },
    /// Tag 23: `u8 entity kind`, `u32 entity id`, `u32 key`.
    DropVectorIndex { entity: IndexEntity, key: PropKeyId },
    /// Tag 24: `u8 kind (0 mandatory, 1 unique)`, `u8 entity kind (0 label, 1 rel type)`,
    /// `u32 entity id`, `u32 count`, `count × u32 key` (strictly ascending), `u8 status
    /// (0 operational, 1 failed)`. Replay keeps the status (see `constraint`).
    CreateConstraint {
        kind: ConstraintKind,
        entity: IndexEntity,
        keys: Vec<PropKeyId>,
        status: ConstraintStatus,
    },
    /// Tag 25: as `CreateConstraint` without the status.
    DropConstraint {
        kind: ConstraintKind,
        entity: IndexEntity,
        keys: Vec<PropKeyId>,
    },
}

fn put_ids(out: &mut Vec<u8>, ids: &[LabelId]) {
    put_len(out, ids.len());
    for l in ids {
        put_u32(out, l.0);
    }
}

pub(crate) fn put_props<'a>(
    out: &mut Vec<u8>,
    props: impl ExactSizeIterator<Item = (PropKeyId, &'a Value)>,
) {
    put_len(out, props.len());
    for (k, v) in props {
        put_u32(out, k.0);
        put_value(out, v);
    }
}

fn put_prop_vec(out: &mut Vec<u8>, props: &[(PropKeyId, Value)]) {
    put_props(out, props.iter().map(|(k, v)| (*k, v)));
}

pub(crate) fn put_index(out: &mut Vec<u8>, entity: IndexEntity, key: PropKeyId, kind: IndexKind) {
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
    put_u32(out, key.0);
    put_u8(
        out,
        match kind {
            IndexKind::Range => 0,
        },
    );
}

fn read_ids(r: &mut Reader<'_>) -> Result<Vec<LabelId>, DecodeError> {
    let n = r.count(4)?;
    (0..n).map(|_| r.u32().map(LabelId)).collect()
}

pub(crate) fn read_props(r: &mut Reader<'_>) -> Result<Vec<(PropKeyId, Value)>, DecodeError> {
    let n = r.count(5)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let k = PropKeyId(r.u32()?);
        v.push((k, r.value()?));
    }
    Ok(v)
}

pub(crate) fn read_index(
    r: &mut Reader<'_>,
) -> Result<(IndexEntity, PropKeyId, IndexKind), DecodeError> {
    let at = r.pos();
    let entity = match r.u8()? {
        0 => IndexEntity::Label(LabelId(r.u32()?)),
        1 => IndexEntity::RelType(RelTypeId(r.u32()?)),
        t => return Err(r.err_at(at, format!("unknown index entity kind {t}"))),
    };
    let key = PropKeyId(r.u32()?);
    let at = r.pos();
    let kind = match r.u8()? {
        0 => IndexKind::Range,
        t => return Err(r.err_at(at, format!("unknown index kind {t}"))),
    };
    Ok((entity, key, kind))
}

impl Mutation {
    /// Appends this record (with its version byte) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u8(out, MUTATION_VERSION);
        self.encode_body(out);
    }

    /// Decodes one record occupying all of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Mutation, DecodeError> {
        let mut r = Reader::new(buf);
        check_version(&mut r)?;
        let m = Mutation::decode_body(&mut r)?;
        if r.remaining() != 0 {
            return Err(r.err("trailing bytes after mutation record"));
        }
        Ok(m)
    }

    /// Appends a batch (e.g. all effects of one query) to `out`.
    pub fn encode_batch(records: &[Mutation], out: &mut Vec<u8>) {
        put_u8(out, MUTATION_VERSION);
        put_len(out, records.len());
        for m in records {
            m.encode_body(out);
        }
    }

    /// Decodes a batch occupying all of `buf`.
    pub fn decode_batch(buf: &[u8]) -> Result<Vec<Mutation>, DecodeError> {
        let mut r = Reader::new(buf);
        check_version(&mut r)?;
        let n = r.count(2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(Mutation::decode_body(&mut r)?);
        }
        if r.remaining() != 0 {
            return Err(r.err("trailing bytes after mutation batch"));
        }
        Ok(v)
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Mutation::AddLabel { id, name } => {
                put_u8(out, 1);
                put_u32(out, id.0);
                put_str(out, name);
            }
            Mutation::AddRelType { id, name } => {
                put_u8(out, 2);
                put_u32(out, id.0);
                put_str(out, name);
            }
            Mutation::AddPropKey { id, name } => {
                put_u8(out, 3);
                put_u32(out, id.0);
                put_str(out, name);
            }
            Mutation::CreateNode { id, labels, props } => {
                put_u8(out, 10);
                put_u64(out, id.0);
                put_ids(out, labels);
                put_prop_vec(out, props);
            }
            Mutation::DeleteNode { id } => {
                put_u8(out, 11);
                put_u64(out, id.0);
            }
            Mutation::CreateEdge {
                id,
                src,
                dst,
                rel,
                props,
            } => {
                put_u8(out, 12);
                put_u64(out, id.0);
                put_u64(out, src.0);
                put_u64(out, dst.0);
                put_u32(out, rel.0);
                put_prop_vec(out, props);
            }
            Mutation::DeleteEdge { id } => {
                put_u8(out, 13);
                put_u64(out, id.0);
            }
            Mutation::SetNodeProps { id, props } => {
                put_u8(out, 14);
                put_u64(out, id.0);
                put_prop_vec(out, props);
            }
            Mutation::SetEdgeProps { id, props } => {
                put_u8(out, 15);
                put_u64(out, id.0);
                put_prop_vec(out, props);
            }
            Mutation::AddLabels { id, labels } => {
                put_u8(out, 16);
                put_u64(out, id.0);
                put_ids(out, labels);
            }
            Mutation::RemoveLabels { id, labels } => {
                put_u8(out, 17);
                put_u64(out, id.0);
                put_ids(out, labels);
            }
            Mutation::CreateIndex { entity, key, kind } => {
                put_u8(out, 20);
                put_index(out, *entity, *key, *kind);
            }
            Mutation::DropIndex { entity, key, kind } => {
                put_u8(out, 21);
                put_index(out, *entity, *key, *kind);
            }
            Mutation::CreateVectorIndex {
                entity,
                key,
                options,
            } => {
                put_u8(out, 22);
                put_vector_descriptor(out, *entity, *key, options);
            }
            Mutation::DropVectorIndex { entity, key } => {
                put_u8(out, 23);
                put_entity(out, *entity, *key);
            }
            Mutation::CreateConstraint {
                kind,
                entity,
                keys,
                status,
            } => {
                put_u8(out, 24);
                put_constraint(out, *kind, *entity, keys);
                put_status(out, *status);
            }
            Mutation::DropConstraint { kind, entity, keys } => {
                put_u8(out, 25);
                put_constraint(out, *kind, *entity, keys);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Mutation, DecodeError> {
        let at = r.pos();
        Ok(match r.u8()? {
            1 => Mutation::AddLabel {
                id: LabelId(r.u32()?),
                name: r.str()?.to_owned(),
            },
            2 => Mutation::AddRelType {
                id: RelTypeId(r.u32()?),
                name: r.str()?.to_owned(),
            },
            3 => Mutation::AddPropKey {
                id: PropKeyId(r.u32()?),
                name: r.str()?.to_owned(),
            },
            10 => Mutation::CreateNode {
                id: NodeId(r.u64()?),
                labels: read_ids(r)?,
                props: read_props(r)?,
            },
            11 => Mutation::DeleteNode {
                id: NodeId(r.u64()?),
            },
            12 => Mutation::CreateEdge {
                id: EdgeId(r.u64()?),
                src: NodeId(r.u64()?),
                dst: NodeId(r.u64()?),
                rel: RelTypeId(r.u32()?),
                props: read_props(r)?,
            },
            13 => Mutation::DeleteEdge {
                id: EdgeId(r.u64()?),
            },
            14 => Mutation::SetNodeProps {
                id: NodeId(r.u64()?),
                props: read_props(r)?,
            },
            15 => Mutation::SetEdgeProps {
                id: EdgeId(r.u64()?),
                props: read_props(r)?,
            },
            16 => Mutation::AddLabels {
                id: NodeId(r.u64()?),
                labels: read_ids(r)?,
            },
            17 => Mutation::RemoveLabels {
                id: NodeId(r.u64()?),
                labels: read_ids(r)?,
            },
            20 => {
                let (entity, key, kind) = read_index(r)?;
                Mutation::CreateIndex { entity, key, kind }
            }
            21 => {
                let (entity, key, kind) = read_index(r)?;
                Mutation::DropIndex { entity, key, kind }
            }
            22 => {
                let (entity, key, options) = read_vector_descriptor(r)?;
                Mutation::CreateVectorIndex {
                    entity,
                    key,
                    options,
                }
            }
            23 => {
                let (entity, key) = read_entity(r)?;
                Mutation::DropVectorIndex { entity, key }
            }
            24 => {
                let (kind, entity, keys) = read_constraint(r)?;
                Mutation::CreateConstraint {
                    kind,
                    entity,
                    keys,
                    status: read_status(r)?,
                }
            }
            25 => {
                let (kind, entity, keys) = read_constraint(r)?;
                Mutation::DropConstraint { kind, entity, keys }
            }
            t => return Err(r.err_at(at, format!("unknown mutation tag {t}"))),
        })
    }
}

fn check_version(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    let v = r.u8()?;
    if v != MUTATION_VERSION {
        return Err(r.err_at(0, format!("unsupported mutation format version {v}")));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::tests::arb_value;
    use proptest::prelude::*;

    pub fn arb_mutation() -> impl Strategy<Value = Mutation> {
        let props = prop::collection::vec((any::<u32>().prop_map(PropKeyId), arb_value()), 0..3);
        let labels = prop::collection::vec(any::<u32>().prop_map(LabelId), 0..3);
        let entity = prop_oneof![
            any::<u32>().prop_map(|l| IndexEntity::Label(LabelId(l))),
            any::<u32>().prop_map(|t| IndexEntity::RelType(RelTypeId(t))),
        ];
        prop_oneof![
            (any::<u32>(), "[a-z]{0,5}").prop_map(|(i, name)| Mutation::AddLabel {
                id: LabelId(i),
                name
            }),
            (any::<u32>(), "[a-z]{0,5}").prop_map(|(i, name)| Mutation::AddRelType {
                id: RelTypeId(i),
                name
            }),
            (any::<u32>(), "[a-z]{0,5}").prop_map(|(i, name)| Mutation::AddPropKey {
                id: PropKeyId(i),
                name
            }),
            (any::<u64>(), labels.clone(), props.clone()).prop_map(|(i, labels, props)| {
                Mutation::CreateNode {
                    id: NodeId(i),
                    labels,
                    props,
                }
            }),
            any::<u64>().prop_map(|i| Mutation::DeleteNode { id: NodeId(i) }),
            (
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                any::<u32>(),
                props.clone()
            )
                .prop_map(|(i, s, d, t, props)| Mutation::CreateEdge {
                    id: EdgeId(i),
                    src: NodeId(s),
                    dst: NodeId(d),
                    rel: RelTypeId(t),
                    props
                }),
            any::<u64>().prop_map(|i| Mutation::DeleteEdge { id: EdgeId(i) }),
            (any::<u64>(), props.clone()).prop_map(|(i, props)| Mutation::SetNodeProps {
                id: NodeId(i),
                props
            }),
            (any::<u64>(), props).prop_map(|(i, props)| Mutation::SetEdgeProps {
                id: EdgeId(i),
                props
            }),
            (any::<u64>(), labels.clone()).prop_map(|(i, labels)| Mutation::AddLabels {
                id: NodeId(i),
                labels
            }),
            (any::<u64>(), labels).prop_map(|(i, labels)| Mutation::RemoveLabels {
                id: NodeId(i),
                labels
            }),
            (entity.clone(), any::<u32>()).prop_map(|(entity, k)| Mutation::CreateIndex {
                entity,
                key: PropKeyId(k),
                kind: IndexKind::Range
            }),
            (entity.clone(), any::<u32>()).prop_map(|(entity, k)| Mutation::DropIndex {
                entity,
                key: PropKeyId(k),
                kind: IndexKind::Range
            }),
            (
                entity.clone(),
                any::<u32>(),
                any::<[u32; 4]>(),
                any::<bool>()
            )
                .prop_map(|(entity, k, [d, m, c, r], cos)| {
                    Mutation::CreateVectorIndex {
                        entity,
                        key: PropKeyId(k),
                        options: crate::vector_index::VectorOptions {
                            dimension: d,
                            similarity: if cos {
                                crate::VectorSimilarity::Cosine
                            } else {
                                crate::VectorSimilarity::Euclidean
                            },
                            m,
                            ef_construction: c,
                            ef_runtime: r,
                        },
                    }
                }),
            (entity.clone(), any::<u32>()).prop_map(|(entity, k)| Mutation::DropVectorIndex {
                entity,
                key: PropKeyId(k)
            }),
            (
                entity.clone(),
                any::<bool>(),
                any::<bool>(),
                prop::collection::btree_set(any::<u32>(), 1..4)
            )
                .prop_map(|(entity, unique, failed, keys)| {
                    Mutation::CreateConstraint {
                        kind: if unique {
                            ConstraintKind::Unique
                        } else {
                            ConstraintKind::Mandatory
                        },
                        entity,
                        keys: keys.into_iter().map(PropKeyId).collect(),
                        status: if failed {
                            ConstraintStatus::Failed
                        } else {
                            ConstraintStatus::Operational
                        },
                    }
                }),
            (
                entity,
                any::<bool>(),
                prop::collection::btree_set(any::<u32>(), 1..4)
            )
                .prop_map(|(entity, unique, keys)| Mutation::DropConstraint {
                    kind: if unique {
                        ConstraintKind::Unique
                    } else {
                        ConstraintKind::Mandatory
                    },
                    entity,
                    keys: keys.into_iter().map(PropKeyId).collect(),
                }),
        ]
    }

    fn enc(m: &Mutation) -> Vec<u8> {
        let mut b = Vec::new();
        m.encode(&mut b);
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn record_round_trip(m in arb_mutation()) {
            let b = enc(&m);
            let back = Mutation::decode(&b).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // Compare encodings: bitwise, so 1.0 vs 1 or -0.0 vs 0.0 would be caught.
            prop_assert_eq!(enc(&back), b);
        }

        #[test]
        fn batch_round_trip(ms in prop::collection::vec(arb_mutation(), 0..5)) {
            let mut b = Vec::new();
            Mutation::encode_batch(&ms, &mut b);
            let back = Mutation::decode_batch(&b).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back.len(), ms.len());
            for (x, y) in back.iter().zip(ms.iter()) {
                prop_assert_eq!(enc(x), enc(y));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(m) = Mutation::decode(&bytes) {
                prop_assert_eq!(enc(&m), bytes.clone());
            }
            let _ = Mutation::decode_batch(&bytes);
        }

        #[test]
        fn truncations_are_errors(m in arb_mutation()) {
            let b = enc(&m);
            for cut in 0..b.len() {
                let e = Mutation::decode(&b[..cut]);
                prop_assert!(e.is_err());
                if let Err(e) = e {
                    prop_assert!(e.offset <= cut);
                }
            }
        }
    }

    #[test]
    fn rejects_bad_version_and_tag() {
        assert_eq!(
            Mutation::decode(&[2, 11, 0, 0, 0, 0, 0, 0, 0, 0])
                .unwrap_err()
                .offset,
            0
        );
        assert_eq!(Mutation::decode(&[1, 99]).unwrap_err().offset, 1);
        let mut b = enc(&Mutation::DeleteNode { id: NodeId(3) });
        b.push(0);
        assert!(Mutation::decode(&b).unwrap_err().what.contains("trailing"));
    }
}
