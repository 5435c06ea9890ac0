//! The `moon` server: configuration, the per-shard event loops (one thread per shard, each with
//! its own listener, connections and keyspace), connection handling (RESP parsing, pipelining,
//! reply ordering) and dispatch of ops to the owning shard(s).

pub mod config;
pub mod driver;
pub mod logging;
pub mod runtime;
pub mod tls;

mod acl;
mod admin;
mod atomic;
mod atomic_batch;
mod blocking;
mod conn;
mod conn_cmds;
mod contain;
mod dispatch;
mod ft;
mod ft_aggregate;
mod ft_profile;
mod fwd;
mod graph;
mod info;
pub mod latency;
mod limits;
mod mailbox;
mod memory_cmds;
mod migrate;
mod monitor;
mod multi;
mod pause;
mod persist;
mod persist_search;
mod pubsub;
mod scan;
mod script;
mod shared;
mod slowlog;
mod walfail;
mod walhold;
mod worker;
