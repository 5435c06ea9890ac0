//! Estimated recall@k of an index at its default search parameters (FT.INFO's
//! `estimated_recall`): a leave-one-out measurement on a few stored vectors against an exact
//! scan, cached until the index has changed by a tenth of its size.
//!
//! Method: `RECALL_SAMPLES` live vectors, evenly spaced in slot order, are used as queries;
//! each query's exact top `k` among the other live vectors is compared with the index's own
//! `KNN k + 1` (its default beam, no EF_RUNTIME override) without the query's own id. The cost
//! is `RECALL_SAMPLES` exact scans of the index (≈ 0.1–0.3 s of one core at 100,000 × 384),
//! paid at most once per 10% of writes; the caller runs it on the shard that owns the index.
//!
//! Invariants: the cached value is `(writes at measurement, recall)`; it is reused while
//! `writes - cached_writes <= max(len / 10, 1)`; an empty index has no estimate.

use crate::VectorIndex;
use crate::kernels::kernels;
use crate::scored::{Scored, sort_results};
use std::collections::BinaryHeap;

/// Sampled queries per estimate.
pub const RECALL_SAMPLES: usize = 32;

/// The cached estimate: the write counter it was measured at, and the recall.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecallCache {
    pub(crate) at_writes: Option<u64>,
    pub(crate) recall: f64,
}

impl VectorIndex {
    /// Estimated recall@`k` at the default beam (see the module doc); `None` when empty.
    /// Cached: recomputed only after writes amounting to a tenth of the index.
    pub fn estimated_recall(&self, k: usize) -> Option<f64> {
        let len = self.len();
        if len == 0 || k == 0 {
            return None;
        }
        let writes = self.writes;
        let fresh = |c: &RecallCache| {
            c.at_writes
                .is_some_and(|w| writes.saturating_sub(w) <= (len as u64 / 10).max(1))
        };
        if let Ok(c) = self.recall_cache.lock()
            && fresh(&c)
        {
            return Some(c.recall);
        }
        let recall = self.measure_recall(k, RECALL_SAMPLES);
        if let Ok(mut c) = self.recall_cache.lock() {
            *c = RecallCache {
                at_writes: Some(writes),
                recall,
            };
        }
        Some(recall)
    }

    /// Leave-one-out recall@`k` over `samples` evenly spaced live vectors (uncached).
    pub fn measure_recall(&self, k: usize, samples: usize) -> f64 {
        let len = self.len();
        if len == 0 || k == 0 || samples == 0 {
            return 1.0;
        }
        let step = (len / samples).max(1);
        let queries: Vec<(u32, Vec<f32>)> = self
            .entries()
            .step_by(step)
            .take(samples)
            .map(|(id, v)| (id, v.to_vec()))
            .collect();
        let metric = self.params.metric;
        let kern = kernels();
        let mut total = 0.0;
        for (qid, q) in &queries {
            // Exact top k among the other live vectors.
            let mut heap: BinaryHeap<Scored> = BinaryHeap::with_capacity(k.min(len) + 1);
            for (id, v) in self.entries() {
                if id == *qid {
                    continue;
                }
                let item = Scored::new(metric.score(kern, q, v), id);
                if heap.len() < k {
                    heap.push(item);
                } else if heap.peek().is_some_and(|t| item < *t) {
                    heap.pop();
                    heap.push(item);
                }
            }
            let mut truth: Vec<(u32, f32)> = heap.into_iter().map(|s| (s.key, s.score)).collect();
            sort_results(&mut truth);
            if truth.is_empty() {
                total += 1.0;
                continue;
            }
            // Stored vectors are already metric-prepared, so `knn` re-preparing is a no-op
            // (normalising a unit vector).
            let got = self
                .knn(q, k + 1, None, None)
                .unwrap_or_default()
                .into_iter()
                .filter(|(id, _)| id != qid)
                .take(k)
                .collect::<Vec<_>>();
            let hits = truth
                .iter()
                .filter(|(id, _)| got.iter().any(|(g, _)| g == id))
                .count();
            total += hits as f64 / truth.len() as f64;
        }
        total / queries.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use crate::synthetic::clustered;
    use crate::{Metric, VectorIndex, VectorParams};

    #[test]
    fn flat_estimate_is_exact_and_hnsw_is_high_and_cached() {
        let dim = 16;
        let d = clustered(600, dim, 10, 1.0, 3);
        let mut flat = VectorIndex::new(VectorParams::flat(dim, Metric::L2)).unwrap();
        let mut hnsw = VectorIndex::new(VectorParams::hnsw(dim, Metric::L2)).unwrap();
        assert_eq!(hnsw.estimated_recall(10), None);
        for (i, v) in d.chunks_exact(dim).enumerate() {
            flat.insert(i as u32, v).unwrap();
            hnsw.insert(i as u32, v).unwrap();
        }
        assert_eq!(flat.estimated_recall(10), Some(1.0));
        let r = hnsw.estimated_recall(10).unwrap();
        assert!((0.9..=1.0).contains(&r), "{r}");
        // Cached: a few writes do not change it; a tenth of the index does recompute.
        let cached = hnsw.recall_cache.lock().unwrap().at_writes;
        hnsw.remove(0);
        assert_eq!(hnsw.estimated_recall(10), Some(r));
        assert_eq!(hnsw.recall_cache.lock().unwrap().at_writes, cached);
        for i in 1..100 {
            hnsw.remove(i);
        }
        hnsw.estimated_recall(10).unwrap();
        assert_ne!(hnsw.recall_cache.lock().unwrap().at_writes, cached);
    }
}
