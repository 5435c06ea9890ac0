//! The `moon` server: configuration, the per-shard event loops (one thread per shard, each with
//! its own listener, connections and keyspace), connection handling (RESP parsing, pipelining,
//! reply ordering) and dispatch of ops to the owning shard(s).

pub mod config;
pub mod driver;
pub mod runtime;

mod atomic;
mod blocking;
mod conn;
mod conn_cmds;
mod dispatch;
mod info;
mod mailbox;
mod multi;
mod persist;
mod pubsub;
mod scan;
mod script;
mod shared;
mod worker;
