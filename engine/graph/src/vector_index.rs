//! Vector indexes on (label, property) and (relationship type, property): FalkorDB's
//! `CREATE VECTOR INDEX ... OPTIONS {dimension, similarityFunction, M, efConstruction,
//! efRuntime}`, served by moon-vector's HNSW index (the same engine as FT vector fields).
//!
//! Ids in the HNSW index are entity slots (node or edge ids fit `u32`). Scores are moon-vector's
//! (= RediSearch's, which FalkorDB reports): squared L2 for `euclidean`, `1 - cos` for `cosine`.
//!
//! Invariant: entity `s` is in the index iff it currently qualifies (has the label / type) and
//! its property is a `vecf32` of exactly `dim` finite elements; any other value (wrong dimension, a
//! list, a string) is silently not indexed, as in FalkorDB.

use crate::codec::{DecodeError, Reader, put_u8, put_u32};
use crate::graph::GraphError;
use crate::ids::{LabelId, PropKeyId, RelTypeId};
use crate::index::IndexEntity;
use crate::value::Value;
use moon_vector::{Metric, VectorIndex, VectorParams};

/// `similarityFunction`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum VectorSimilarity {
    Euclidean,
    Cosine,
}

impl VectorSimilarity {
    /// Parses FalkorDB's option value (case-insensitive).
    pub fn parse(s: &str) -> Option<VectorSimilarity> {
        match s.to_ascii_lowercase().as_str() {
            "euclidean" => Some(VectorSimilarity::Euclidean),
            "cosine" => Some(VectorSimilarity::Cosine),
            _ => None,
        }
    }

    /// The name FalkorDB lists in `db.indexes()`.
    pub fn name(self) -> &'static str {
        match self {
            VectorSimilarity::Euclidean => "euclidean",
            VectorSimilarity::Cosine => "cosine",
        }
    }

    fn code(self) -> u8 {
        match self {
            VectorSimilarity::Euclidean => 0,
            VectorSimilarity::Cosine => 1,
        }
    }

    fn metric(self) -> Metric {
        match self {
            VectorSimilarity::Euclidean => Metric::L2,
            VectorSimilarity::Cosine => Metric::Cosine,
        }
    }
}

/// The options of a vector index (FalkorDB's names and defaults: M 16, efConstruction 200,
/// efRuntime 10).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct VectorOptions {
    pub dimension: u32,
    pub similarity: VectorSimilarity,
    pub m: u32,
    pub ef_construction: u32,
    pub ef_runtime: u32,
}

impl VectorOptions {
    pub fn new(dimension: u32, similarity: VectorSimilarity) -> VectorOptions {
        VectorOptions {
            dimension,
            similarity,
            m: 16,
            ef_construction: 200,
            ef_runtime: 10,
        }
    }

    fn params(&self) -> VectorParams {
        let mut p = VectorParams::hnsw(self.dimension as usize, self.similarity.metric());
        p.m = self.m as usize;
        p.ef_construction = self.ef_construction as usize;
        p.ef_runtime = self.ef_runtime as usize;
        p
    }

    /// Checks ranges the way the HNSW engine needs them.
    pub fn validate(&self) -> Result<(), GraphError> {
        self.params()
            .validate()
            .map_err(|e| GraphError::InvalidVectorIndex(e.to_string()))
    }
}

/// One row of `list_vector_indexes()`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VectorIndexInfo {
    pub entity: IndexEntity,
    pub key: PropKeyId,
    pub options: VectorOptions,
    /// Entities currently indexed.
    pub len: usize,
}

/// A vector index over one (entity, property).
#[derive(Debug)]
pub(crate) struct GraphVectorIndex {
    pub entity: IndexEntity,
    pub key: PropKeyId,
    pub options: VectorOptions,
    pub index: VectorIndex,
}

impl Clone for GraphVectorIndex {
    /// moon-vector's index is not `Clone`; its snapshot codec is an exact copy (graph links
    /// included), so a copy goes through it. A decode failure cannot happen for bytes the
    /// encoder just wrote; the fallback re-inserts the vectors to stay total.
    fn clone(&self) -> GraphVectorIndex {
        let mut buf = Vec::new();
        self.index.encode(&mut buf);
        let index = match VectorIndex::decode(&buf) {
            Ok(ix) => ix,
            Err(_) => self
                .index
                .rebuild(None)
                .or_else(|_| VectorIndex::new(self.options.params()))
                .unwrap_or_else(|_| unreachable_index(&self.options)),
        };
        GraphVectorIndex {
            entity: self.entity,
            key: self.key,
            options: self.options,
            index,
        }
    }
}

/// Options were validated when the index was created, so `new` cannot fail for them; this
/// keeps `clone` free of `expect` by building the smallest valid index instead.
fn unreachable_index(o: &VectorOptions) -> VectorIndex {
    debug_assert!(false, "vector index options became invalid: {o:?}");
    let mut p = VectorParams::hnsw(1, Metric::L2);
    p.m = 16;
    match VectorIndex::new(p) {
        Ok(ix) => ix,
        Err(_) => std::process::abort(),
    }
}

impl GraphVectorIndex {
    pub fn new(
        entity: IndexEntity,
        key: PropKeyId,
        options: VectorOptions,
    ) -> Result<GraphVectorIndex, GraphError> {
        let index = VectorIndex::new(options.params())
            .map_err(|e| GraphError::InvalidVectorIndex(e.to_string()))?;
        Ok(GraphVectorIndex {
            entity,
            key,
            options,
            index,
        })
    }

    /// The vector `v` contributes, if it is a vecf32 of the index's dimension with finite
    /// elements.
    pub fn vector<'a>(&self, v: &'a Value) -> Option<&'a [f32]> {
        match v {
            Value::VecF32(x)
                if x.len() == self.options.dimension as usize
                    && x.iter().all(|e| e.is_finite()) =>
            {
                Some(x)
            }
            _ => None,
        }
    }

    /// Indexes slot `s` holding `v` (a non-qualifying value removes it).
    pub fn put(&mut self, s: u32, v: Option<&Value>) {
        match v.and_then(|v| self.vector(v)) {
            // Dimension and finiteness were checked, so the engine accepts it; should it not,
            // the entity is simply not indexed.
            Some(x) => {
                if self.index.insert(s, x).is_err() {
                    self.index.remove(s);
                }
            }
            None => {
                self.index.remove(s);
            }
        }
    }

    pub fn remove(&mut self, s: u32) {
        self.index.remove(s);
    }

    /// The `k` nearest entity slots to `q` with their scores, closest first.
    pub fn knn(&self, q: &[f32], k: usize) -> Result<Vec<(u32, f32)>, GraphError> {
        if q.len() != self.options.dimension as usize {
            return Err(GraphError::VectorDimMismatch {
                expected: self.options.dimension,
                got: q.len(),
            });
        }
        // Ask for at least k candidates in the beam (moon-vector uses max(ef, k)).
        self.index
            .knn(q, k, None, None)
            .map_err(|e| GraphError::InvalidVectorIndex(e.to_string()))
    }

    pub fn info(&self) -> VectorIndexInfo {
        VectorIndexInfo {
            entity: self.entity,
            key: self.key,
            options: self.options,
            len: self.index.len(),
        }
    }

    pub fn heap_size(&self) -> usize {
        self.index.memory_usage()
    }
}

/// Descriptor bytes shared by the mutation record and the snapshot: `u8 entity kind (0 label,
/// 1 rel type)`, `u32 entity id`, `u32 key`, `u32 dimension`, `u8 similarity (0 euclidean,
/// 1 cosine)`, `u32 M`, `u32 efConstruction`, `u32 efRuntime`.
pub(crate) fn put_vector_descriptor(
    out: &mut Vec<u8>,
    entity: IndexEntity,
    key: PropKeyId,
    o: &VectorOptions,
) {
    put_entity(out, entity, key);
    put_u32(out, o.dimension);
    put_u8(out, o.similarity.code());
    put_u32(out, o.m);
    put_u32(out, o.ef_construction);
    put_u32(out, o.ef_runtime);
}

/// `u8 entity kind`, `u32 entity id`, `u32 key`.
pub(crate) fn put_entity(out: &mut Vec<u8>, entity: IndexEntity, key: PropKeyId) {
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
}

pub(crate) fn read_entity(r: &mut Reader<'_>) -> Result<(IndexEntity, PropKeyId), DecodeError> {
    let at = r.pos();
    let entity = match r.u8()? {
        0 => IndexEntity::Label(LabelId(r.u32()?)),
        1 => IndexEntity::RelType(RelTypeId(r.u32()?)),
        t => return Err(r.err_at(at, format!("unknown index entity kind {t}"))),
    };
    Ok((entity, PropKeyId(r.u32()?)))
}

pub(crate) fn read_vector_descriptor(
    r: &mut Reader<'_>,
) -> Result<(IndexEntity, PropKeyId, VectorOptions), DecodeError> {
    let (entity, key) = read_entity(r)?;
    let dimension = r.u32()?;
    let at = r.pos();
    let similarity = match r.u8()? {
        0 => VectorSimilarity::Euclidean,
        1 => VectorSimilarity::Cosine,
        s => return Err(r.err_at(at, format!("unknown similarity function {s}"))),
    };
    let o = VectorOptions {
        dimension,
        similarity,
        m: r.u32()?,
        ef_construction: r.u32()?,
        ef_runtime: r.u32()?,
    };
    Ok((entity, key, o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ix(dim: u32) -> GraphVectorIndex {
        let o = VectorOptions::new(dim, VectorSimilarity::Euclidean);
        match GraphVectorIndex::new(IndexEntity::Label(LabelId(0)), PropKeyId(0), o) {
            Ok(ix) => ix,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn only_vectors_of_the_right_dimension_are_indexed() {
        let mut v = ix(2);
        v.put(1, Some(&Value::VecF32(Box::new([1.0, 0.0]))));
        v.put(2, Some(&Value::VecF32(Box::new([1.0, 0.0, 0.0]))));
        v.put(
            3,
            Some(&Value::List(vec![Value::Float(1.0), Value::Float(0.0)])),
        );
        v.put(4, Some(&Value::VecF32(Box::new([f32::NAN, 0.0]))));
        assert_eq!(v.index.len(), 1);
        v.put(1, Some(&Value::Int(3)));
        assert_eq!(v.index.len(), 0);
    }

    #[test]
    fn knn_checks_dimension_and_orders_by_score() {
        let mut v = ix(2);
        v.put(1, Some(&Value::VecF32(Box::new([0.0, 0.0]))));
        v.put(2, Some(&Value::VecF32(Box::new([3.0, 4.0]))));
        assert!(matches!(
            v.knn(&[1.0], 1),
            Err(GraphError::VectorDimMismatch {
                expected: 2,
                got: 1
            })
        ));
        let hits = v.knn(&[3.0, 3.0], 2).unwrap_or_default();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![2, 1]);
        assert!((hits[0].1 - 1.0).abs() < 1e-6, "squared L2: {hits:?}");
        let c = v.clone();
        assert_eq!(c.knn(&[3.0, 3.0], 2).unwrap_or_default(), hits);
    }

    #[test]
    fn descriptor_round_trip_and_bad_similarity() {
        let mut o = VectorOptions::new(7, VectorSimilarity::Cosine);
        o.m = 32;
        let mut buf = Vec::new();
        put_vector_descriptor(
            &mut buf,
            IndexEntity::RelType(RelTypeId(3)),
            PropKeyId(9),
            &o,
        );
        let mut r = Reader::new(&buf);
        let got = read_vector_descriptor(&mut r).ok();
        assert_eq!(
            got,
            Some((IndexEntity::RelType(RelTypeId(3)), PropKeyId(9), o))
        );
        buf[13] = 9;
        assert!(read_vector_descriptor(&mut Reader::new(&buf)).is_err());
    }
}
