//! The op IR: the one typed vocabulary of reads and writes that every front-end compiles to
//! and that shards execute (and that the WAL will log and replicas apply).
//!
//! Invariants:
//! - An [`Op`] names every key it touches in its own fields; [`Op::keys`] lists them, so routing
//!   never needs to execute anything.
//! - Time is never read inside the IR: relative expiries travel as [`ExpireSpec::In`] and are
//!   resolved against the `now_ms` the shard is given ([`ExecCtx`]).
//! - Errors are typed ([`OpError`]); only the RESP front-end turns them into protocol text.

mod error;
mod keys;
mod op;
pub mod ops;
mod reply;
mod unparse;

pub(crate) use unparse::direct as wal_direct;

pub use error::OpError;
pub use keys::{KeyRouting, MergeKind, merge_replies};
pub use op::{
    ExecCtx, ExpireCond, ExpireSpec, GetExSpec, LcsMode, Op, SetCond, TimeUnit, TypeFilter,
};
pub use reply::Reply;
