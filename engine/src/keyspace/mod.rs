//! The keyspace: the DashTable, the entries stored in it, one logical database (`Db`) with
//! lazy and active expiry and exact INFO counters, and Redis glob matching for KEYS/SCAN.

pub mod dashtable;
pub mod db;
pub mod entry;
pub mod glob;
pub mod lfu;

pub(crate) use dashtable::prefetch::{prefetch, prefetch_probe};
pub use db::Db;
pub use entry::{Entry, LargeEntry, LargeValue, StrRef};
