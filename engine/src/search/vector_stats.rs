//! FT.INFO's per-vector-field statistics: each shard measures its own index of every VECTOR
//! field (vectors, RAM bytes, nominal bytes per vector, estimated recall@10 at the default
//! beam) and the merge appends the combined figures to the field's entry in `attributes`.
//!
//! Invariants: one [`FieldStats`] per vector field with an engine index, keyed by the field's
//! position in the schema; merging weights per-vector figures by each shard's vector count, so
//! shards without vectors do not dilute them. The recall estimate is the vector engine's cached
//! leave-one-out measurement (`VectorIndex::estimated_recall`), so FT.INFO pays a scan only
//! after a tenth of the index changed.

use super::index::{FieldIndex, Index};
use super::{FieldType, IndexDef};
use crate::ir::Reply;
use bytes::Bytes;

/// The k of the recall estimate (RediSearch's usual KNN 10).
pub const RECALL_K: usize = 10;

/// One shard's figures for one vector field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldStats {
    /// Position of the field in the schema.
    pub pos: usize,
    /// Live vectors.
    pub vectors: u64,
    /// RAM bytes of the index.
    pub memory: u64,
    /// Nominal bytes per vector (row or codes + links + id maps).
    pub bytes_per_vector: f64,
    /// Estimated recall@10 (`None` when empty).
    pub recall: Option<f64>,
    /// The beam a `KNN 10` without EF_RUNTIME uses.
    pub beam: u64,
}

/// This shard's figures for every vector field of `idx`.
pub fn collect(idx: &Index) -> Vec<FieldStats> {
    idx.fields
        .iter()
        .enumerate()
        .filter_map(|(pos, f)| match f {
            FieldIndex::Vector(Some(v)) => Some(FieldStats {
                pos,
                vectors: v.len() as u64,
                memory: v.memory_usage() as u64,
                bytes_per_vector: v.bytes_per_vector(),
                recall: v.estimated_recall(RECALL_K),
                beam: v.beam(RECALL_K, None) as u64,
            }),
            _ => None,
        })
        .collect()
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// Appends, to each vector field's `attributes` entry (built from `def`, in schema order),
/// `ef_runtime` (the beam of a `KNN 10`; `AUTO` fields say so in `ef_runtime_mode`),
/// `indexed_vectors`, `memory_per_vector` (bytes) and `estimated_recall_at_10` merged from
/// every shard's `parts`.
pub fn annotate(attributes: &mut [Reply], def: &IndexDef, parts: &[&[FieldStats]]) {
    for (pos, field) in def.fields.iter().enumerate() {
        let FieldType::Vector(p) = &field.ty else {
            continue;
        };
        let Some(Reply::Array(a)) = attributes.get_mut(pos) else {
            continue;
        };
        let stats: Vec<&FieldStats> = parts
            .iter()
            .flat_map(|s| s.iter().filter(|f| f.pos == pos))
            .collect();
        let vectors: u64 = stats.iter().map(|s| s.vectors).sum();
        let weighted = |f: &dyn Fn(&FieldStats) -> Option<f64>| -> Option<f64> {
            let (mut num, mut den) = (0.0, 0.0);
            for s in &stats {
                if let Some(x) = f(s) {
                    let w = s.vectors.max(1) as f64;
                    num += x * w;
                    den += w;
                }
            }
            (den > 0.0).then(|| num / den)
        };
        if p.algo == super::schema::VectorAlgo::Hnsw {
            let beam = stats.iter().map(|s| s.beam).max().unwrap_or(0);
            a.push(bulk("ef_runtime"));
            a.push(Reply::Int(
                p.ef_runtime
                    .map_or(10, |e| i64::try_from(e).unwrap_or(i64::MAX)),
            ));
            a.push(bulk("knn10_beam"));
            a.push(Reply::Int(i64::try_from(beam).unwrap_or(i64::MAX)));
        }
        a.push(bulk("indexed_vectors"));
        a.push(Reply::Int(i64::try_from(vectors).unwrap_or(i64::MAX)));
        a.push(bulk("memory_per_vector"));
        a.push(Reply::Double(
            weighted(&|s| Some(s.bytes_per_vector)).unwrap_or(0.0),
        ));
        a.push(bulk("estimated_recall_at_10"));
        a.push(match weighted(&|s| s.recall) {
            Some(r) => Reply::Double(r),
            None => Reply::Nil,
        });
    }
}
