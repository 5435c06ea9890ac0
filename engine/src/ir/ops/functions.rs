//! The op-IR variants of the FUNCTION catalog commands (LOAD, DELETE, FLUSH, DUMP, RESTORE).
//! They name no key: the server applies every catalog write on all shards (each holds an
//! identical catalog, so FCALL never needs a lock) and runs DUMP on the connection's shard.
//!
//! Invariant: `Load::name` is the `name=` of `Load::code`'s shebang, and every `Restore` pair
//! is `(name from the code's shebang, code)`: the moon-resp parsers derive the names, so an op
//! rebuilt from codes alone (WAL replay, a DUMP payload) is the same op.

use bytes::Bytes;

use crate::ir::{KeyRouting, MergeKind};

/// How FUNCTION RESTORE treats the libraries already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// FLUSH: the payload's libraries replace the whole catalog.
    Flush,
    /// APPEND (the default): add them; any name collision fails the whole restore.
    Append,
    /// REPLACE: add them, replacing libraries of the same name.
    Replace,
}

/// FUNCTION LOAD / DELETE / FLUSH / DUMP / RESTORE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionOp {
    /// FUNCTION LOAD [REPLACE] code: `name` parsed from the shebang by moon-resp. Replies the
    /// name.
    Load {
        name: Bytes,
        code: Bytes,
        replace: bool,
    },
    /// FUNCTION DELETE name: OK, or `ERR Library not found`.
    Delete { name: Bytes },
    /// FUNCTION FLUSH [ASYNC|SYNC]: OK.
    Flush,
    /// FUNCTION DUMP: the payload of every library.
    Dump,
    /// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE], the payload already decoded into
    /// `(name, code)` pairs in payload order. OK.
    Restore {
        libs: Vec<(Bytes, Bytes)>,
        policy: RestorePolicy,
    },
}

impl FunctionOp {
    /// None: the catalog is not in the keyspace.
    pub fn keys(&self) -> Vec<&Bytes> {
        Vec::new()
    }

    /// Every shard (the server special-cases it: writes reach all shards atomically, DUMP runs
    /// on the connection's shard only).
    pub fn routing(&self) -> KeyRouting {
        KeyRouting::AllShards(MergeKind::AllOk)
    }

    /// Everything but DUMP changes the catalog (and is logged).
    pub fn is_write(&self) -> bool {
        !matches!(self, FunctionOp::Dump)
    }
}
