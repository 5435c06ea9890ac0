//! Durability I/O of one shard: the files in its directory (`<dir>/shard-NNN/`), the WAL
//! segment writer with its fsync policy, and the recovery scan. Byte layouts are moon-formats';
//! this module only decides which file gets which bytes when.
//!
//! Invariants: a WAL segment only ever receives whole frames; a segment is named after the LSN
//! of its first record; a snapshot is written as `.snap.tmp` and renamed only once sealed
//! (footer written) and fsynced, so a `.snap` file is always complete.

pub mod files;
pub mod recover;
pub mod wal;

pub use wal::{AsyncCommit, FsyncPolicy, StdIo, WalIo, WalWriter};

/// The byte layouts, re-exported so the server reaches formats only through the engine.
pub use moon_formats::{snapshot as snapshot_format, wal as wal_format};
