//! Op sub-enums, one per data-type family, each with its own keys/routing/write classification.
//! `Op` wraps each as one variant so families can grow without touching the core vocabulary.

pub mod bitmap;
pub mod dump;
pub mod functions;
pub mod geo;
pub mod graph;
pub mod hash;
pub mod hll;
pub mod list;
pub mod search;
pub mod sets;
pub mod sort;
pub mod stream;
pub mod suggest;
pub mod zset;

pub use bitmap::BitmapOp;
pub use dump::DumpOp;
pub use functions::{FunctionOp, RestorePolicy};
pub use geo::GeoOp;
pub use graph::{GraphConstraint, GraphOp, GraphQuery};
pub use hash::HashOp;
pub use hll::HllOp;
pub use list::ListOp;
pub use search::SearchOp;
pub use sets::SetOp;
pub use sort::SortOp;
pub use stream::StreamOp;
pub use suggest::SuggestOp;
pub use zset::ZSetOp;

/// How a blocking op (BLPOP, BZPOPMIN, XREAD BLOCK ...) waits when it finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocking {
    /// Milliseconds to wait; 0 waits forever.
    pub timeout_ms: u64,
    /// The op answers a null bulk string (BLMOVE, BRPOPLPUSH) rather than a null array when it
    /// finds nothing: also its timeout reply.
    pub nil_bulk: bool,
}
