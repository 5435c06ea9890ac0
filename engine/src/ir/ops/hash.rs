//! The op-IR variants of hashes, including per-field TTL (HEXPIRE family, HGETEX, HSETEX,
//! HGETDEL as in Redis 7.4+/8.0 and Valkey 9).
//!
//! Every hash op names exactly one key, so all are routed `Single`. Relative field expiry
//! times travel unresolved ([`FieldExpire::In`]) and are resolved by the shard against
//! `ExecCtx::now_ms`, which keeps execution deterministic.

use bytes::Bytes;

use crate::ir::{ExpireCond, KeyRouting};

/// Which part of each pair HGETALL-style commands reply with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashPart {
    /// HKEYS.
    Keys,
    /// HVALS.
    Values,
    /// HGETALL (a map).
    Both,
}

/// A field expiry time as given on the command line, already scaled to milliseconds and
/// checked to be ≥ 0 (and, for absolute times, ≤ the field-expiry maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldExpire {
    /// This many milliseconds after now (HEXPIRE, HPEXPIRE, EX, PX); may be 0.
    In(u64),
    /// At this Unix time in milliseconds (HEXPIREAT, HPEXPIREAT, EXAT, PXAT).
    At(u64),
}

/// Largest field expire-at Redis accepts, in Unix ms (`HFE_MAX_ABS_TIME_MSEC`, 2^46 - 1).
pub const FIELD_EXPIRE_MAX_MS: u64 = (1 << 46) - 1;

/// HTTL / HPTTL / HEXPIRETIME / HPEXPIRETIME.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldTtlKind {
    /// HTTL: seconds left, rounded up.
    Ttl,
    /// HPTTL: milliseconds left.
    PTtl,
    /// HEXPIRETIME: Unix seconds, rounded up.
    ExpireTime,
    /// HPEXPIRETIME: Unix milliseconds.
    PExpireTime,
}

/// HGETEX's TTL action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HGetExAction {
    /// No option: a plain multi-field read.
    Keep,
    /// PERSIST.
    Persist,
    /// EX/PX/EXAT/PXAT.
    Expire(FieldExpire),
}

/// HSETEX's FNX/FXX condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HSetExCond {
    /// Always set.
    Always,
    /// FNX: only if none of the fields exists.
    NoneExist,
    /// FXX: only if all of the fields exist.
    AllExist,
}

/// HSETEX's TTL handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HSetExTtl {
    /// No option: the set fields lose their TTL.
    Clear,
    /// KEEPTTL.
    Keep,
    /// EX/PX/EXAT/PXAT.
    Expire(FieldExpire),
}

/// Ops of hashes, including per-field TTL.
#[derive(Debug, Clone, PartialEq)]
pub enum HashOp {
    /// HSET (`legacy: false`, replies the number of new fields) and HMSET (`legacy: true`,
    /// replies OK).
    HSet {
        key: Bytes,
        pairs: Vec<(Bytes, Bytes)>,
        legacy: bool,
    },
    /// HSETNX.
    HSetNx {
        key: Bytes,
        field: Bytes,
        value: Bytes,
    },
    /// HGET.
    HGet { key: Bytes, field: Bytes },
    /// HMGET.
    HMGet { key: Bytes, fields: Vec<Bytes> },
    /// HDEL.
    HDel { key: Bytes, fields: Vec<Bytes> },
    /// HLEN.
    HLen { key: Bytes },
    /// HSTRLEN.
    HStrLen { key: Bytes, field: Bytes },
    /// HEXISTS.
    HExists { key: Bytes, field: Bytes },
    /// HKEYS, HVALS, HGETALL.
    HGetAll { key: Bytes, part: HashPart },
    /// HINCRBY.
    HIncrBy {
        key: Bytes,
        field: Bytes,
        delta: i64,
    },
    /// HINCRBYFLOAT (the increment is finite).
    HIncrByFloat {
        key: Bytes,
        field: Bytes,
        delta: f64,
    },
    /// HRANDFIELD [count [WITHVALUES]].
    HRandField {
        key: Bytes,
        count: Option<i64>,
        with_values: bool,
    },
    /// HSCAN.
    HScan {
        key: Bytes,
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
        no_values: bool,
    },
    /// HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT. `cmd` is the lowercase command name for the
    /// invalid-expire-time error.
    HExpire {
        key: Bytes,
        at: FieldExpire,
        cond: ExpireCond,
        fields: Vec<Bytes>,
        cmd: &'static str,
    },
    /// HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME.
    HTtl {
        key: Bytes,
        kind: FieldTtlKind,
        fields: Vec<Bytes>,
    },
    /// HPERSIST.
    HPersist { key: Bytes, fields: Vec<Bytes> },
    /// HGETDEL.
    HGetDel { key: Bytes, fields: Vec<Bytes> },
    /// HGETEX.
    HGetEx {
        key: Bytes,
        action: HGetExAction,
        fields: Vec<Bytes>,
    },
    /// HSETEX.
    HSetEx {
        key: Bytes,
        cond: HSetExCond,
        ttl: HSetExTtl,
        pairs: Vec<(Bytes, Bytes)>,
    },
}

impl HashOp {
    /// The one key the op names.
    pub fn key(&self) -> &Bytes {
        use HashOp::*;
        match self {
            HSet { key, .. }
            | HSetNx { key, .. }
            | HGet { key, .. }
            | HMGet { key, .. }
            | HDel { key, .. }
            | HLen { key }
            | HStrLen { key, .. }
            | HExists { key, .. }
            | HGetAll { key, .. }
            | HIncrBy { key, .. }
            | HIncrByFloat { key, .. }
            | HRandField { key, .. }
            | HScan { key, .. }
            | HExpire { key, .. }
            | HTtl { key, .. }
            | HPersist { key, .. }
            | HGetDel { key, .. }
            | HGetEx { key, .. }
            | HSetEx { key, .. } => key,
        }
    }

    /// Every key the op names, in argument order.
    pub fn keys(&self) -> Vec<&Bytes> {
        vec![self.key()]
    }

    /// How the op is routed across shards: every hash op names one key.
    pub fn routing(&self) -> KeyRouting {
        KeyRouting::Single
    }

    /// True if the op may modify the keyspace (beyond lazily reclaiming expired fields).
    pub fn is_write(&self) -> bool {
        use HashOp::*;
        match self {
            HSet { .. }
            | HSetNx { .. }
            | HDel { .. }
            | HIncrBy { .. }
            | HIncrByFloat { .. }
            | HExpire { .. }
            | HPersist { .. }
            | HGetDel { .. }
            | HGetEx { .. }
            | HSetEx { .. } => true,
            HGet { .. }
            | HMGet { .. }
            | HLen { .. }
            | HStrLen { .. }
            | HExists { .. }
            | HGetAll { .. }
            | HRandField { .. }
            | HScan { .. }
            | HTtl { .. } => false,
        }
    }
}
