//! Property graph storage for Moon's `GRAPH.*` commands: nodes, relationships, typed
//! properties, CSR adjacency with a mutable delta, range indexes, mutation records for the WAL,
//! and the snapshot encoding.
//!
//! A [`Graph`] is one key's value, owned by one shard thread: no locks, `&self` to read and
//! `&mut self` to write. Ids are dense slot numbers; deleted slots are reused lowest-first.
//! Adjacency is kept per relationship type and direction as a CSR plus a delta of recent
//! writes; [`Graph::compact_step`] merges deltas a bounded amount at a time. Writes can be
//! recorded as [`Mutation`]s ("log effects, not intentions") and replayed with
//! [`Graph::apply`]; [`Graph::encode`]/[`Graph::decode`] persist the whole graph.
//!
//! Module map: `ids` (id newtypes, `Direction`), `value` (property values and Cypher
//! comparisons), `schema` (name ↔ id tables), `props` (per-entity property sets), `adjacency`
//! (CSR + delta + incremental compaction), `graph` (the store and its read API), `traverse`
//! (neighbour iteration, degrees), `write` (mutations, replay), `index` (range indexes),
//! `mutation` (WAL records), `codec` (byte-level helpers), `vector_index` (HNSW
//! vector indexes), `constraint` (UNIQUE / MANDATORY constraints), `snapshot` (whole-graph encoding),
//! `plan` (the query plan IR front-ends lower to), `exec` (the plan executor).

mod adjacency;
mod codec;
mod constraint;
mod edges;
pub mod exec;
pub mod explain;
mod graph;
mod ids;
mod index;
mod mutation;
pub mod plan;
mod props;
mod schema;
mod snapshot;
mod traverse;
mod value;
mod vector_index;
mod write;

#[cfg(test)]
mod tests;

pub use codec::DecodeError;
pub use constraint::{ConstraintInfo, ConstraintKind, ConstraintStatus, canonical_keys};
pub use graph::{EdgeRef, Graph, GraphError};
pub use ids::{Direction, EdgeId, LabelId, MAX_ENTITIES, NodeId, PropKeyId, RelTypeId};
pub use index::{IndexEntity, IndexInfo, IndexKind, IndexRange};
pub use mutation::{MUTATION_VERSION, Mutation};
pub use props::PropMap;
pub use schema::{NameTable, Schema};
pub use snapshot::{SNAPSHOT_VERSION, SnapshotChunks};
pub use traverse::Neighbors;
pub use value::{
    Equiv, RANK_BOOL, RANK_LIST, RANK_MAP, RANK_NODE, RANK_NULL, RANK_NUMBER, RANK_PATH,
    RANK_POINT, RANK_REL, RANK_STRING, RANK_VECF32, Value,
};
pub use vector_index::{VectorIndexInfo, VectorOptions, VectorSimilarity};
pub use write::NewEdge;
