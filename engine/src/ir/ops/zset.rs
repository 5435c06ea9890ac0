//! The op-IR variants of sorted sets. Commands that differ only in spelling or reply shape share
//! a variant: ZINCRBY is `Add` with `incr`; ZRANGE/ZREVRANGE/ZRANGEBYSCORE/ZRANGEBYLEX and their
//! REV forms are `Range`; ZPOPMIN/ZPOPMAX/BZPOPMIN/BZPOPMAX/ZMPOP/BZMPOP are `Pop`;
//! ZUNION/ZINTER/ZDIFF and their STORE forms are `Combine`.
//!
//! Invariants: scores and weights are never NaN (the parser rejects them); every key an op reads
//! or writes is listed by `keys()` (destination first for the STORE forms).

use bytes::Bytes;

use super::Blocking;
use crate::ir::{KeyRouting, OpError};

/// ZADD's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZAddFlags {
    /// NX: only add new members.
    pub nx: bool,
    /// XX: only update existing members.
    pub xx: bool,
    /// GT: only update when the new score is greater.
    pub gt: bool,
    /// LT: only update when the new score is less.
    pub lt: bool,
    /// CH: count changed members, not only added ones.
    pub ch: bool,
    /// INCR (and ZINCRBY): add to the score and reply the new score.
    pub incr: bool,
}

/// A score interval (`(` makes an end exclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub min_ex: bool,
    pub max: f64,
    pub max_ex: bool,
}

/// One end of a lexicographic interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    NegInf,
    /// `+`: above every member.
    PosInf,
    /// `[m`.
    Incl(Bytes),
    /// `(m`.
    Excl(Bytes),
}

/// A lexicographic interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

/// What a range selects.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeBy {
    /// By rank (`start`/`end` may be negative, counted from the end).
    Rank { start: i64, end: i64 },
    /// BYSCORE.
    Score(ScoreRange),
    /// BYLEX.
    Lex(LexRange),
}

/// A full range request (ZRANGE and its older spellings, ZRANGESTORE).
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSpec {
    pub by: RangeBy,
    /// REV (ranges are then given max first, already swapped by the parser).
    pub rev: bool,
    /// LIMIT offset: negative selects nothing.
    pub offset: i64,
    /// LIMIT count: negative means no limit.
    pub limit: i64,
}

/// The reply shape of a pop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopShape {
    /// ZPOPMIN/ZPOPMAX without count: flat `[member, score]`.
    One,
    /// ZPOPMIN/ZPOPMAX with count: pairs.
    Count,
    /// BZPOPMIN/BZPOPMAX: `[key, member, score]` or a null array.
    Blocking,
    /// ZMPOP/BZMPOP: `[key, [[member, score], ...]]` or a null array.
    Multi,
}

/// ZUNION/ZINTER/ZDIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    Union,
    Inter,
    Diff,
}

/// AGGREGATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Ops of sorted sets.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSetOp {
    /// ZADD (and ZINCRBY as `flags.incr` with one pair).
    Add {
        key: Bytes,
        flags: ZAddFlags,
        pairs: Vec<(f64, Bytes)>,
    },
    /// ZREM.
    Rem { key: Bytes, members: Vec<Bytes> },
    /// ZCARD.
    Card { key: Bytes },
    /// ZSCORE.
    Score { key: Bytes, member: Bytes },
    /// ZMSCORE.
    MScore { key: Bytes, members: Vec<Bytes> },
    /// ZRANK / ZREVRANK [WITHSCORE].
    Rank {
        key: Bytes,
        member: Bytes,
        rev: bool,
        with_score: bool,
    },
    /// ZCOUNT.
    Count { key: Bytes, range: ScoreRange },
    /// ZLEXCOUNT.
    LexCount { key: Bytes, range: LexRange },
    /// ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX.
    Range {
        key: Bytes,
        spec: RangeSpec,
        with_scores: bool,
    },
    /// ZRANGESTORE dst src ...
    RangeStore {
        dst: Bytes,
        src: Bytes,
        spec: RangeSpec,
    },
    /// ZREMRANGEBYRANK / BYSCORE / BYLEX.
    RemRange { key: Bytes, by: RangeBy },
    /// ZPOPMIN/ZPOPMAX (one key), BZPOPMIN/BZPOPMAX, ZMPOP/BZMPOP (first non-empty key).
    Pop {
        keys: Vec<Bytes>,
        max: bool,
        count: usize,
        shape: PopShape,
        /// Blocking forms only: the timeout (0 = forever).
        block_ms: Option<u64>,
    },
    /// ZRANDMEMBER key [count [WITHSCORES]].
    RandMember {
        key: Bytes,
        count: Option<i64>,
        with_scores: bool,
    },
    /// ZUNION/ZINTER/ZDIFF and ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE (`dst`).
    Combine {
        kind: SetOpKind,
        dst: Option<Bytes>,
        keys: Vec<Bytes>,
        /// One weight per key (1 when not given).
        weights: Vec<f64>,
        aggregate: Aggregate,
        with_scores: bool,
        /// An error in the options after the keys, which Redis reports only after checking
        /// the keys' types.
        deferred: Option<OpError>,
    },
    /// ZINTERCARD (limit 0 = none).
    InterCard {
        keys: Vec<Bytes>,
        limit: usize,
        /// As for `Combine`.
        deferred: Option<OpError>,
    },
    /// ZSCAN.
    Scan {
        key: Bytes,
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
    },
}

impl ZSetOp {
    /// Every key the op names, in argument order (destination first).
    pub fn keys(&self) -> Vec<&Bytes> {
        use ZSetOp::*;
        match self {
            Add { key, .. }
            | Rem { key, .. }
            | Card { key }
            | Score { key, .. }
            | MScore { key, .. }
            | Rank { key, .. }
            | Count { key, .. }
            | LexCount { key, .. }
            | Range { key, .. }
            | RemRange { key, .. }
            | RandMember { key, .. }
            | Scan { key, .. } => vec![key],
            RangeStore { dst, src, .. } => vec![dst, src],
            Pop { keys, .. } | InterCard { keys, .. } => keys.iter().collect(),
            Combine { dst, keys, .. } => dst.iter().chain(keys.iter()).collect(),
        }
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        if self.keys().len() > 1 {
            KeyRouting::Atomic
        } else {
            KeyRouting::Single
        }
    }

    /// For the blocking forms: how long to wait when the op finds nothing to serve. The op
    /// itself executes like its non-blocking form and answers a null (`Reply::NilArray`, or
    /// `Reply::Nil` for BLMOVE/BRPOPLPUSH) when it found nothing; the server then parks the
    /// client (outside MULTI) and re-executes the op when one of its keys is written.
    pub fn blocking(&self) -> Option<Blocking> {
        match self {
            ZSetOp::Pop {
                block_ms: Some(ms), ..
            } => Some(Blocking {
                timeout_ms: *ms,
                nil_bulk: false,
            }),
            _ => None,
        }
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        use ZSetOp::*;
        match self {
            Add { .. } | Rem { .. } | RangeStore { .. } | RemRange { .. } | Pop { .. } => true,
            Combine { dst, .. } => dst.is_some(),
            Card { .. }
            | Score { .. }
            | MScore { .. }
            | Rank { .. }
            | Count { .. }
            | LexCount { .. }
            | Range { .. }
            | RandMember { .. }
            | InterCard { .. }
            | Scan { .. } => false,
        }
    }
}
