//! Vector indexes for Moon's RediSearch-compatible vector fields: distance kernels with
//! runtime SIMD dispatch, FLAT (exact) and HNSW indexes, TurboQuant quantized storage with
//! exact rerank, blob parsing and a versioned snapshot codec.
//!
//! Entry point: [`VectorIndex`] (one per vector field per shard, single-threaded writes).
//! Documents are dense `u32` ids chosen by the caller; results are `(id, score)` with the
//! scores RediSearch reports (squared L2, `1 - ip`, `1 - cos`), sorted by score then id.

pub mod blob;
mod codec;
mod disk;
pub mod distance;
pub mod estimate;
pub mod flat;
pub mod hnsw;
pub mod index;
pub mod kernels;
pub mod rng;
mod scored;
mod storage;
pub mod synthetic;
pub mod turboquant;

pub use blob::{BlobError, ElementType, encode_blob, parse_blob};
pub use codec::{DecodeError, FORMAT_VERSION};
pub use distance::Metric;
pub use index::{
    AUTO_BEAM_PER_K, Algorithm, SearchPlan, VectorError, VectorIndex, VectorInfo, VectorParams,
};
pub use roaring::RoaringBitmap;
