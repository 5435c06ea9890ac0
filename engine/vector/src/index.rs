//! `VectorIndex`: the facade the FT layer uses — one vector field's index, FLAT or HNSW, over
//! f32 or TurboQuant storage.
//!
//! Owns parameter validation, query preparation (dimension check, COSINE normalisation), the
//! filtered-search planner (brute force over the allowed ids when the filter is selective,
//! graph search otherwise), `FT.INFO` fields, and snapshots ([`crate::codec`]). Results are
//! `(doc id, score)` sorted by score then id; scores are those RediSearch reports
//! ([`crate::distance`]).

use crate::blob::{BlobError, ElementType, parse_blob};
use crate::distance::Metric;
use crate::estimate::RecallCache;
use crate::flat::FlatIndex;
use crate::hnsw::{HnswIndex, HnswParams};
use crate::storage::Storage;
use roaring::RoaringBitmap;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;
use thiserror::Error;

/// Largest accepted dimension (RediSearch has no hard limit; this bounds allocations).
pub const MAX_DIM: usize = 65_536;
/// Largest accepted `M`.
pub const MAX_M: usize = 512;
/// With an automatic EF_RUNTIME (none given by the field or the query), the HNSW beam of a
/// `KNN k` is `max(EF_RUNTIME, AUTO_BEAM_PER_K × k)`: RediSearch's default beam (10, i.e. `k`
/// for the usual k = 10) loses ~10% recall@10 on 100k vectors; see SPEC.md §9.4.
pub const AUTO_BEAM_PER_K: usize = 4;

/// Index algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Exact scan.
    Flat,
    /// HNSW graph.
    Hnsw,
}

impl Algorithm {
    /// The name FT.CREATE / FT.INFO use.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Flat => "FLAT",
            Algorithm::Hnsw => "HNSW",
        }
    }
}

/// Parameters of a vector field (FT.CREATE attributes plus Moon's extensions).
#[derive(Debug, Clone, PartialEq)]
pub struct VectorParams {
    /// FLAT or HNSW.
    pub algorithm: Algorithm,
    /// Element type of the blobs (vectors are stored as f32 or codes regardless).
    pub data_type: ElementType,
    /// Dimension.
    pub dim: usize,
    /// Distance metric.
    pub metric: Metric,
    /// HNSW `M` (default 16).
    pub m: usize,
    /// HNSW `EF_CONSTRUCTION` (default 200).
    pub ef_construction: usize,
    /// HNSW `EF_RUNTIME` (default 10; searches use `max(ef, k)`).
    pub ef_runtime: usize,
    /// EF_RUNTIME was not given: a KNN without its own EF_RUNTIME uses a beam of at least
    /// [`AUTO_BEAM_PER_K`] × k (default true; the FT layer clears it when the field sets
    /// EF_RUNTIME).
    pub ef_runtime_auto: bool,
    /// HNSW `EPSILON` for range queries (default 0.01).
    pub epsilon: f32,
    /// `INITIAL_CAP`: accepted for syntax compatibility only (storage grows on demand, nothing
    /// is reserved, and snapshots do not keep it).
    pub initial_cap: usize,
    /// TurboQuant bits per coordinate (1, 2, 4, 8) or `None` for f32 storage.
    pub quant_bits: Option<u8>,
    /// Minimum candidates re-scored exactly with quantized storage (`RERANK`, default 0:
    /// the search beam `max(ef, k)`).
    pub rerank: usize,
    /// File for the full-precision rows (quantized indexes; `None` keeps them in RAM).
    pub disk_path: Option<PathBuf>,
    /// HNSW filtered search runs brute force over the allowed ids when
    /// `filter.len() < brute_force_ratio * len()` (default 0.05).
    pub brute_force_ratio: f32,
    /// Seed of level generation and rotations (deterministic builds).
    pub seed: u64,
}

impl VectorParams {
    /// RediSearch defaults for an HNSW field.
    pub fn hnsw(dim: usize, metric: Metric) -> Self {
        let h = HnswParams::default();
        Self {
            algorithm: Algorithm::Hnsw,
            data_type: ElementType::Float32,
            dim,
            metric,
            m: h.m,
            ef_construction: h.ef_construction,
            ef_runtime: h.ef_runtime,
            ef_runtime_auto: true,
            epsilon: h.epsilon,
            initial_cap: 0,
            quant_bits: None,
            rerank: 0,
            disk_path: None,
            brute_force_ratio: 0.05,
            seed: h.seed,
        }
    }

    /// Defaults for a FLAT field.
    pub fn flat(dim: usize, metric: Metric) -> Self {
        Self {
            algorithm: Algorithm::Flat,
            ..Self::hnsw(dim, metric)
        }
    }

    /// Checks ranges; the error says which parameter is wrong.
    pub fn validate(&self) -> Result<(), VectorError> {
        let bad = |s: &str| Err(VectorError::InvalidParams(s.to_string()));
        if self.dim == 0 || self.dim > MAX_DIM {
            return bad("DIM must be in 1..=65536");
        }
        if self.m < 2 || self.m > MAX_M {
            return bad("M must be in 2..=512");
        }
        if self.ef_construction == 0 || self.ef_runtime == 0 {
            return bad("EF_CONSTRUCTION and EF_RUNTIME must be positive");
        }
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return bad("EPSILON must be a non-negative number");
        }
        if !(self.brute_force_ratio.is_finite() && self.brute_force_ratio >= 0.0) {
            return bad("brute force ratio must be a non-negative number");
        }
        if let Some(b) = self.quant_bits
            && ![1, 2, 4, 8].contains(&b)
        {
            return bad("QUANTIZATION must be TQ1, TQ2, TQ4 or TQ8");
        }
        if self.disk_path.is_some() && self.quant_bits.is_none() {
            return bad("disk-resident vectors need QUANTIZATION");
        }
        Ok(())
    }

    fn hnsw_params(&self) -> HnswParams {
        HnswParams {
            m: self.m,
            ef_construction: self.ef_construction,
            ef_runtime: self.ef_runtime,
            epsilon: self.epsilon,
            seed: self.seed,
        }
    }
}

/// Errors of index operations.
#[derive(Debug, Error)]
pub enum VectorError {
    /// Vector or query of the wrong dimension.
    #[error("vector has dimension {got}, the field has {expected}")]
    DimMismatch {
        /// Field dimension.
        expected: usize,
        /// Received dimension.
        got: usize,
    },
    /// A blob of the wrong length.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// Out-of-range parameter.
    #[error("invalid vector field parameters: {0}")]
    InvalidParams(String),
    /// The disk-resident vector file failed.
    #[error("vector file: {0}")]
    Io(#[from] io::Error),
}

/// How a filtered KNN is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPlan {
    /// Scan every allowed id exactly.
    BruteForce,
    /// Graph (or full FLAT) search, filtering results.
    Index,
}

/// The fields FT.INFO shows for a vector field.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorInfo {
    /// "FLAT" / "HNSW".
    pub algorithm: &'static str,
    /// "FLOAT32" / "FLOAT16" / "BFLOAT16".
    pub data_type: &'static str,
    /// Dimension.
    pub dim: usize,
    /// "L2" / "IP" / "COSINE".
    pub distance_metric: &'static str,
    /// HNSW M.
    pub m: usize,
    /// HNSW EF_CONSTRUCTION.
    pub ef_construction: usize,
    /// HNSW EF_RUNTIME.
    pub ef_runtime: usize,
    /// EF_RUNTIME is automatic (see [`AUTO_BEAM_PER_K`]).
    pub ef_runtime_auto: bool,
    /// HNSW EPSILON.
    pub epsilon: f32,
    /// "NONE" or "TQ1" / "TQ2" / "TQ4" / "TQ8".
    pub quantization: String,
    /// RERANK.
    pub rerank: usize,
    /// Live vectors.
    pub indexed_vectors: usize,
    /// RAM bytes.
    pub memory: usize,
    /// Nominal RAM bytes per vector ([`VectorIndex::bytes_per_vector`]).
    pub bytes_per_vector: f64,
}

// One index per vector field: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Inner {
    Flat(FlatIndex),
    Hnsw(HnswIndex),
}

/// One vector field's index.
#[derive(Debug)]
pub struct VectorIndex {
    pub(crate) params: VectorParams,
    pub(crate) inner: Inner,
    /// Inserts and removals so far (invalidates the recall estimate).
    pub(crate) writes: u64,
    pub(crate) recall_cache: Mutex<RecallCache>,
}

impl VectorIndex {
    /// An empty index (parameters validated; creates the vector file for disk storage).
    pub fn new(params: VectorParams) -> Result<Self, VectorError> {
        params.validate()?;
        let storage = Storage::new(
            params.dim,
            params.metric,
            params.quant_bits,
            params.seed,
            params.disk_path.as_deref(),
        )?;
        let inner = match params.algorithm {
            Algorithm::Flat => Inner::Flat(FlatIndex::new(storage)),
            Algorithm::Hnsw => Inner::Hnsw(HnswIndex::new(storage, params.hnsw_params())),
        };
        Ok(Self {
            params,
            inner,
            writes: 0,
            recall_cache: Mutex::new(RecallCache::default()),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &VectorParams {
        &self.params
    }

    /// Copies `v` and prepares it for the metric, checking the dimension.
    fn prepare(&self, v: &[f32]) -> Result<Vec<f32>, VectorError> {
        if v.len() != self.params.dim {
            return Err(VectorError::DimMismatch {
                expected: self.params.dim,
                got: v.len(),
            });
        }
        let mut v = v.to_vec();
        self.params.metric.prepare(&mut v);
        Ok(v)
    }

    /// Inserts or replaces the vector of document `id`.
    pub fn insert(&mut self, id: u32, v: &[f32]) -> Result<(), VectorError> {
        let v = self.prepare(v)?;
        self.insert_prepared(id, &v)
    }

    pub(crate) fn insert_prepared(&mut self, id: u32, v: &[f32]) -> Result<(), VectorError> {
        self.writes += 1;
        match &mut self.inner {
            Inner::Flat(f) => f.insert(id, v)?,
            Inner::Hnsw(h) => h.insert(id, v)?,
        }
        Ok(())
    }

    /// Parses a blob of the field's type and inserts it (a wrong length is an error that the
    /// FT layer counts as an indexing failure).
    pub fn insert_blob(&mut self, id: u32, blob: &[u8]) -> Result<(), VectorError> {
        let v = parse_blob(self.params.data_type, self.params.dim, blob)?;
        self.insert(id, &v)
    }

    /// Parses a query blob of the field's type.
    pub fn parse_query_blob(&self, blob: &[u8]) -> Result<Vec<f32>, VectorError> {
        Ok(parse_blob(self.params.data_type, self.params.dim, blob)?)
    }

    /// Removes document `id`; false if it was not indexed.
    pub fn remove(&mut self, id: u32) -> bool {
        self.writes += 1;
        match &mut self.inner {
            // A FLAT removal only rewrites existing rows, which cannot fail to grow a file.
            Inner::Flat(f) => f.remove(id).unwrap_or(false),
            Inner::Hnsw(h) => h.remove(id),
        }
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        match &self.inner {
            Inner::Flat(f) => f.len(),
            Inner::Hnsw(h) => h.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether document `id` is indexed.
    pub fn contains(&self, id: u32) -> bool {
        match &self.inner {
            Inner::Flat(f) => f.contains(id),
            Inner::Hnsw(h) => h.contains(id),
        }
    }

    /// The planner rule for a filtered KNN: brute force when the filter allows fewer than
    /// `brute_force_ratio * len()` ids (HNSW only; FLAT always scans).
    pub fn plan(&self, filter: Option<&RoaringBitmap>) -> SearchPlan {
        match (&self.inner, filter) {
            (Inner::Hnsw(h), Some(f))
                if (f.len() as f64) < self.params.brute_force_ratio as f64 * h.len() as f64 =>
            {
                SearchPlan::BruteForce
            }
            _ => SearchPlan::Index,
        }
    }

    /// The `k` nearest documents to `query` among `filter` (all when `None`), `(id, score)`
    /// sorted by score then id. `ef_runtime` overrides the field's EF_RUNTIME.
    pub fn knn(
        &self,
        query: &[f32],
        k: usize,
        ef_runtime: Option<usize>,
        filter: Option<&RoaringBitmap>,
    ) -> Result<Vec<(u32, f32)>, VectorError> {
        let plan = self.plan(filter);
        self.knn_with_plan(query, k, ef_runtime, filter, plan)
    }

    /// The HNSW beam of a `KNN k` (before `max(k, RERANK)`): the query's EF_RUNTIME if given,
    /// else the field's, raised to [`AUTO_BEAM_PER_K`] × k when the field's is automatic.
    pub fn beam(&self, k: usize, ef_runtime: Option<usize>) -> usize {
        match ef_runtime {
            Some(e) => e.max(1),
            None if self.params.ef_runtime_auto => self
                .params
                .ef_runtime
                .max(k.saturating_mul(AUTO_BEAM_PER_K))
                .max(1),
            None => self.params.ef_runtime.max(1),
        }
    }

    /// [`VectorIndex::knn`] with an explicit plan (tests and benchmarks compare both).
    pub fn knn_with_plan(
        &self,
        query: &[f32],
        k: usize,
        ef_runtime: Option<usize>,
        filter: Option<&RoaringBitmap>,
        plan: SearchPlan,
    ) -> Result<Vec<(u32, f32)>, VectorError> {
        let q = self.prepare(query)?;
        let ef = self.beam(k, ef_runtime);
        Ok(match (&self.inner, plan, filter) {
            (Inner::Hnsw(h), SearchPlan::BruteForce, Some(f)) => h.knn_brute(&q, k, f),
            (Inner::Hnsw(h), _, _) => h.knn_graph(&q, k, ef, filter, self.params.rerank),
            (Inner::Flat(f), _, _) => f.knn(&q, k, filter, self.params.rerank),
        })
    }

    /// Every document within `radius` (score ≤ radius) of `query` among `filter`, sorted.
    /// Exact for FLAT; approximate through the graph (EPSILON) for HNSW.
    pub fn range(
        &self,
        query: &[f32],
        radius: f32,
        epsilon: Option<f32>,
        filter: Option<&RoaringBitmap>,
    ) -> Result<Vec<(u32, f32)>, VectorError> {
        let q = self.prepare(query)?;
        Ok(match &self.inner {
            Inner::Flat(f) => f.range(&q, radius, filter),
            Inner::Hnsw(h) => {
                h.range_graph(&q, radius, epsilon.unwrap_or(self.params.epsilon), filter)
            }
        })
    }

    /// The stored vector of `id` (metric-prepared: unit length for COSINE).
    pub fn vector(&self, id: u32) -> Option<&[f32]> {
        match &self.inner {
            Inner::Flat(f) => f.vector(id),
            Inner::Hnsw(h) => h.vector(id),
        }
    }

    /// Live `(id, vector)` pairs.
    pub fn entries(&self) -> Box<dyn Iterator<Item = (u32, &[f32])> + '_> {
        match &self.inner {
            Inner::Flat(f) => Box::new(f.entries()),
            Inner::Hnsw(h) => Box::new(h.entries()),
        }
    }

    /// RAM bytes of the index (vectors in RAM, codes, links, id maps).
    pub fn memory_usage(&self) -> usize {
        match &self.inner {
            Inner::Flat(f) => f.memory_usage(),
            Inner::Hnsw(h) => h.memory_usage(),
        }
    }

    /// Nominal RAM bytes per vector: row (f32 in RAM, or codes + norm), full level-0 link list
    /// (`u16` count + 2M 3-byte links),
    /// expected upper-level links (1/(M-1) levels of M+1 links per node), level/flag bytes,
    /// the slot→id entry and the id→slot hash entry (~9 bytes).
    pub fn bytes_per_vector(&self) -> f64 {
        let (storage, links) = match &self.inner {
            Inner::Flat(f) => (&f.storage, 0.0),
            Inner::Hnsw(h) => {
                let m = self.params.m as f64;
                let l0 = 2.0 + 2.0 * m * 3.0;
                let upper = (m + 1.0) * 4.0 / (m - 1.0) + 4.0 + 1.0;
                (&h.storage, l0 + upper + 2.0)
            }
        };
        storage.bytes_per_vector() as f64 + links + 4.0 + 9.0
    }

    /// The fields FT.INFO shows.
    pub fn info(&self) -> VectorInfo {
        let p = &self.params;
        VectorInfo {
            algorithm: p.algorithm.name(),
            data_type: p.data_type.name(),
            dim: p.dim,
            distance_metric: p.metric.name(),
            m: p.m,
            ef_construction: p.ef_construction,
            ef_runtime: p.ef_runtime,
            ef_runtime_auto: p.ef_runtime_auto,
            epsilon: p.epsilon,
            quantization: p
                .quant_bits
                .map_or_else(|| "NONE".to_string(), |b| format!("TQ{b}")),
            rerank: p.rerank,
            indexed_vectors: self.len(),
            memory: self.memory_usage(),
            bytes_per_vector: self.bytes_per_vector(),
        }
    }

    /// A new index with the same parameters (and `disk_path`, which must then differ from
    /// this one's, or `None`) holding the same live vectors, inserted again.
    pub fn rebuild(&self, disk_path: Option<PathBuf>) -> Result<VectorIndex, VectorError> {
        let params = VectorParams {
            disk_path,
            ..self.params.clone()
        };
        let mut out = VectorIndex::new(params)?;
        for (id, v) in self.entries() {
            out.insert_prepared(id, v)?;
        }
        Ok(out)
    }

    /// The HNSW graph, if this is an HNSW index (diagnostics, tests).
    pub fn as_hnsw(&self) -> Option<&HnswIndex> {
        match &self.inner {
            Inner::Hnsw(h) => Some(h),
            Inner::Flat(_) => None,
        }
    }
}
