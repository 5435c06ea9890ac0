//! moon-engine: the versioned in-memory core. It owns the data (per-shard keyspaces built on
//! the DashTable), executes op-IR ops deterministically (time is injected), and decides which
//! shard owns a key. It knows nothing about sockets or RESP.

pub mod cmd;
pub mod functions;
pub mod graph;
pub mod ir;
pub mod keyspace;
pub mod notify;
pub mod persist;
pub mod search;
pub mod shard;
pub mod slots;
pub mod splitargs;
pub mod types;

/// Number of logical databases (SELECT 0..15), as in Redis.
pub const DATABASES: usize = 16;
