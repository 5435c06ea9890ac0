//! The op vocabulary. One variant per distinct storage behaviour; RESP commands that differ only
//! in reply shape or argument spelling lower to the same variant with flags (SETEX → `Set`).

use bytes::Bytes;

use super::ops::{
    BitmapOp, DumpOp, FunctionOp, GeoOp, GraphOp, HashOp, HllOp, ListOp, SearchOp, SetOp, SortOp,
    StreamOp, SuggestOp, ZSetOp,
};

/// Context a shard needs to execute an op: which database, and the time to evaluate expiry
/// against (injected, never read inside the engine, so execution is deterministic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecCtx {
    /// Selected database, `0..DATABASES`.
    pub db: usize,
    /// Wall-clock milliseconds since the Unix epoch at dispatch.
    pub now_ms: u64,
    /// CLIENT NO-TOUCH: reads do not update the key's last-access time.
    pub no_touch: bool,
}

/// SET's existence condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetCond {
    /// Always write.
    Always,
    /// NX: only if the key does not exist.
    IfAbsent,
    /// XX: only if the key exists.
    IfPresent,
}

/// What a write does to the key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireSpec {
    /// Clear any TTL (plain SET).
    Clear,
    /// KEEPTTL: keep the existing TTL.
    Keep,
    /// Expire this many milliseconds after `ExecCtx::now_ms` (EX/PX). Always > 0.
    In(u64),
    /// Expire at this absolute Unix time in milliseconds (EXAT/PXAT).
    At(u64),
}

/// GETEX's TTL action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetExSpec {
    /// No option: leave the TTL alone.
    Unchanged,
    /// PERSIST.
    Persist,
    /// EX/PX/EXAT/PXAT, already validated.
    Set(ExpireSpec),
}

/// EXPIRE's NX/XX/GT/LT condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireCond {
    /// No condition.
    Always,
    /// NX: only if the key has no TTL.
    Nx,
    /// XX: only if the key has a TTL.
    Xx,
    /// GT: only if the new TTL is greater (no TTL counts as infinite).
    Gt,
    /// LT: only if the new TTL is less (no TTL counts as infinite).
    Lt,
    /// XX LT: only if the key has a TTL and the new one is less.
    XxLt,
}

/// Seconds or milliseconds, for TTL/EXPIRETIME-style replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds (TTL, EXPIRETIME).
    Seconds,
    /// Milliseconds (PTTL, PEXPIRETIME).
    Millis,
}

/// SCAN's TYPE filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFilter {
    /// `string`.
    String,
    /// `list`.
    List,
    /// `hash`.
    Hash,
    /// `set`.
    Set,
    /// `zset`.
    ZSet,
    /// `stream`.
    Stream,
    /// Any other type name: matches nothing.
    Other,
}

impl TypeFilter {
    /// The filter for a TYPE name as SCAN's TYPE option spells it (any case).
    pub fn from_name(name: &[u8]) -> TypeFilter {
        let lower = name.to_ascii_lowercase();
        match lower.as_slice() {
            b"string" => TypeFilter::String,
            b"list" => TypeFilter::List,
            b"hash" => TypeFilter::Hash,
            b"set" => TypeFilter::Set,
            b"zset" => TypeFilter::ZSet,
            b"stream" => TypeFilter::Stream,
            _ => TypeFilter::Other,
        }
    }

    /// True if a value whose TYPE is `type_name` passes the filter.
    pub fn matches(self, type_name: &str) -> bool {
        let want = match self {
            TypeFilter::String => "string",
            TypeFilter::List => "list",
            TypeFilter::Hash => "hash",
            TypeFilter::Set => "set",
            TypeFilter::ZSet => "zset",
            TypeFilter::Stream => "stream",
            TypeFilter::Other => return false,
        };
        want == type_name
    }
}

/// LCS reply mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LcsMode {
    /// The common subsequence itself.
    String,
    /// LEN: its length.
    Len,
    /// IDX: the matching ranges, filtered by MINMATCHLEN, optionally WITHMATCHLEN.
    Idx {
        /// Minimum match length to report.
        min_match_len: u64,
        /// Add each match's length to its entry.
        with_match_len: bool,
    },
}

/// One read or write against the keyspace of one shard.
///
/// Multi-key variants (`MGet`, `MSet`, `Del`, ...) may be split by key owner; see
/// [`crate::ir::KeyRouting`].
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    // ---- strings ----
    /// GET.
    Get { key: Bytes },
    /// SET with all its options; also SETEX, PSETEX, GETSET.
    Set {
        key: Bytes,
        value: Bytes,
        cond: SetCond,
        expire: ExpireSpec,
        get: bool,
    },
    /// SETNX: like `Set{cond: IfAbsent}` but replies 1/0.
    SetNx { key: Bytes, value: Bytes },
    /// GETDEL.
    GetDel { key: Bytes },
    /// GETEX.
    GetEx { key: Bytes, spec: GetExSpec },
    /// MGET (replies an array in key order).
    MGet { keys: Vec<Bytes> },
    /// MSET.
    MSet { pairs: Vec<(Bytes, Bytes)> },
    /// MSETNX (1 if all were set, 0 if none were because one existed).
    MSetNx { pairs: Vec<(Bytes, Bytes)> },
    /// APPEND.
    Append { key: Bytes, value: Bytes },
    /// STRLEN.
    StrLen { key: Bytes },
    /// INCR, DECR, INCRBY, DECRBY.
    IncrBy { key: Bytes, delta: i64 },
    /// INCRBYFLOAT.
    IncrByFloat { key: Bytes, delta: f64 },
    /// GETRANGE / SUBSTR.
    GetRange { key: Bytes, start: i64, end: i64 },
    /// SETRANGE.
    SetRange {
        key: Bytes,
        offset: u64,
        value: Bytes,
    },
    /// LCS of two string keys.
    Lcs {
        key_a: Bytes,
        key_b: Bytes,
        mode: LcsMode,
    },

    // ---- generic keys ----
    /// DEL / UNLINK (count of removed keys).
    Del { keys: Vec<Bytes> },
    /// EXISTS (counts repeats).
    Exists { keys: Vec<Bytes> },
    /// TOUCH (count of existing keys).
    Touch { keys: Vec<Bytes> },
    /// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT. `at` is resolved against now; a time in the past
    /// deletes the key. `cmd` is the lowercase command name, for the overflow error text.
    Expire {
        key: Bytes,
        at: ExpireSpec,
        cond: ExpireCond,
        cmd: &'static str,
    },
    /// TTL / PTTL.
    Ttl { key: Bytes, unit: TimeUnit },
    /// EXPIRETIME / PEXPIRETIME.
    ExpireTime { key: Bytes, unit: TimeUnit },
    /// PERSIST.
    Persist { key: Bytes },
    /// TYPE.
    Type { key: Bytes },
    /// RENAME (`nx: false`) / RENAMENX (`nx: true`).
    Rename { src: Bytes, dst: Bytes, nx: bool },
    /// COPY src dst [DB n] [REPLACE].
    Copy {
        src: Bytes,
        dst: Bytes,
        dst_db: Option<usize>,
        replace: bool,
    },
    /// MOVE key db.
    Move { key: Bytes, db: usize },
    /// KEYS pattern (this shard's part).
    Keys { pattern: Bytes },
    /// SCAN on this shard from a shard-local cursor.
    Scan {
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
        type_filter: Option<TypeFilter>,
    },
    /// RANDOMKEY (this shard's candidate).
    RandomKey,
    /// DBSIZE (this shard's part).
    DbSize,
    /// FLUSHDB (this shard's part of the selected db).
    FlushDb,
    /// FLUSHALL (this shard's part of every db).
    FlushAll,
    /// SWAPDB a b (this shard's part).
    SwapDb { a: usize, b: usize },
    /// OBJECT ENCODING.
    ObjectEncoding { key: Bytes },
    /// OBJECT REFCOUNT.
    ObjectRefcount { key: Bytes },
    /// OBJECT IDLETIME (seconds since last access).
    ObjectIdletime { key: Bytes },
    /// OBJECT FREQ.
    ObjectFreq { key: Bytes },
    /// MEMORY USAGE.
    MemoryUsage { key: Bytes },

    // ---- data-type families (each owns its sub-enum in `ir::ops`) ----
    /// Lists.
    Lists(ListOp),
    /// Hashes.
    Hashes(HashOp),
    /// Sets.
    Sets(SetOp),
    /// Sorted sets.
    ZSets(ZSetOp),
    /// Streams.
    Streams(StreamOp),
    /// Bitmaps (string values).
    Bitmaps(BitmapOp),
    /// HyperLogLog (string values).
    Hll(HllOp),
    /// Geo (sorted-set values).
    Geo(GeoOp),
    /// DUMP / RESTORE.
    Dump(DumpOp),
    /// SORT / SORT_RO.
    Sort(SortOp),
    /// FUNCTION LOAD/DELETE/FLUSH/DUMP/RESTORE: the library catalog (no keys; every shard).
    Functions(FunctionOp),
    /// FT.* index admin (definitions on every shard; see `ir::ops::search`).
    Search(SearchOp),
    /// GRAPH.* (see `ir::ops::graph`).
    Graph(GraphOp),
    /// FT.SUGADD/SUGGET/SUGDEL/SUGLEN (see `ir::ops::suggest`).
    Suggest(SuggestOp),
}
