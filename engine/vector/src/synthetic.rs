//! Seeded synthetic data and exact ground truth for tests and benchmarks.
//!
//! `clustered` mimics embeddings: cluster centres drawn from N(0, 1) per coordinate, each
//! point = centre + `spread` × (a random linear image of a 16-dimensional Gaussian latent),
//! plus small isotropic noise. The low intrinsic dimension and uneven density are what real
//! embedding sets look like (i.i.d. Gaussian data of high dimension has no useful
//! neighbourhood structure for any ANN index). Row-major `n × dim` f32.

use crate::distance::Metric;
use crate::kernels::kernels;
use crate::rng::SplitMix64;
use crate::scored::{Scored, sort_results};
use std::collections::BinaryHeap;

/// Latent dimension of [`clustered`].
pub const LATENT_DIM: usize = 16;

/// `n` clustered vectors of `dim` (row-major), `clusters` centres, latent scale `spread`.
/// The centres and the latent map depend only on `(dim, clusters, seed_space)`; points on
/// `seed`: pass the same `seed_space` for a dataset and its queries.
pub fn clustered(n: usize, dim: usize, clusters: usize, spread: f32, seed: u64) -> Vec<f32> {
    clustered_in(n, dim, clusters, spread, 0xDA7A, seed)
}

/// [`clustered`] with an explicit `seed_space` for the shared centres and latent map.
pub fn clustered_in(
    n: usize,
    dim: usize,
    clusters: usize,
    spread: f32,
    seed_space: u64,
    seed: u64,
) -> Vec<f32> {
    let clusters = clusters.max(1);
    let mut space = SplitMix64::new(seed_space);
    let centre: Vec<f32> = (0..clusters * dim)
        .map(|_| space.next_gaussian() as f32)
        .collect();
    let scale = 1.0 / (LATENT_DIM as f32).sqrt();
    let map: Vec<f32> = (0..dim * LATENT_DIM)
        .map(|_| space.next_gaussian() as f32 * scale)
        .collect();
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(n * dim);
    let mut z = [0f32; LATENT_DIM];
    for _ in 0..n {
        let c = (rng.next_u64() % clusters as u64) as usize;
        z.iter_mut().for_each(|v| *v = rng.next_gaussian() as f32);
        for j in 0..dim {
            let row = &map[j * LATENT_DIM..(j + 1) * LATENT_DIM];
            let lat: f32 = row.iter().zip(&z).map(|(a, b)| a * b).sum();
            out.push(centre[c * dim + j] + spread * lat + 0.1 * rng.next_gaussian() as f32);
        }
    }
    out
}

/// Exact top-`k` `(index, score)` of `query` among the rows of `data` for `metric` (the
/// rows and the query are prepared like the index does: normalised for COSINE).
pub fn brute_force(
    data: &[f32],
    dim: usize,
    metric: Metric,
    query: &[f32],
    k: usize,
) -> Vec<(u32, f32)> {
    let k_ = kernels();
    let mut q = query.to_vec();
    metric.prepare(&mut q);
    let mut heap: BinaryHeap<Scored> =
        BinaryHeap::with_capacity(k.min(data.len() / dim.max(1)) + 1);
    let mut row = vec![0f32; dim];
    for (i, r) in data.chunks_exact(dim).enumerate() {
        row.copy_from_slice(r);
        metric.prepare(&mut row);
        let item = Scored::new(metric.score(k_, &q, &row), i as u32);
        if heap.len() < k {
            heap.push(item);
        } else if heap.peek().is_some_and(|t| item < *t) {
            heap.pop();
            heap.push(item);
        }
    }
    let mut out: Vec<(u32, f32)> = heap.into_iter().map(|s| (s.key, s.score)).collect();
    sort_results(&mut out);
    out
}

/// Fraction of `truth`'s ids found in `got`.
pub fn recall(got: &[(u32, f32)], truth: &[(u32, f32)]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let hits = truth
        .iter()
        .filter(|(id, _)| got.iter().any(|(g, _)| g == id))
        .count();
    hits as f64 / truth.len() as f64
}
