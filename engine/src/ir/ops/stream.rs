//! The op-IR variants of streams and consumer groups (XADD ... XSETID).
//!
//! Redis reports some argument errors only after it looked the key up (XDEL, XACK, XCLAIM,
//! XGROUP's ID, XINFO STREAM's options, XREAD's per-stream IDs): such arguments travel as
//! `Result`s, so the engine reports WRONGTYPE / NOGROUP / missing-key outcomes first, exactly
//! in Redis's order.

use bytes::Bytes;

use super::Blocking;
use crate::ir::{KeyRouting, OpError};
use crate::types::stream::{StreamId, TrimStrategy};

/// The ID argument of XADD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddId {
    /// `*`: generated from the clock.
    Auto,
    /// `<ms>-*`: the sequence is generated.
    AutoSeq(u64),
    /// A full explicit ID.
    Explicit(StreamId),
}

/// XADD/XTRIM trimming options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimSpec {
    /// MAXLEN or MINID.
    pub strategy: TrimStrategy,
    /// `~`: only whole nodes go.
    pub approx: bool,
    /// LIMIT, if given (only allowed with `~`); `None` takes the default
    /// (100 × `stream-node-max-entries` when approximate, unlimited when exact).
    pub limit: Option<u64>,
}

/// One stream's ID argument of XREAD / XREADGROUP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadId {
    /// `$`: entries added after the call (XREAD).
    Last,
    /// `+`: the last entry (XREAD).
    LastEntry,
    /// `>`: entries never delivered to the group (XREADGROUP).
    New,
    /// Entries with a greater ID (XREAD) / this consumer's history from here (XREADGROUP).
    After(StreamId),
    /// An argument error Redis reports when it reaches this stream.
    Invalid(OpError),
}

/// XREADGROUP's GROUP/NOACK options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadGroup {
    /// Group name.
    pub group: Bytes,
    /// Consumer name.
    pub consumer: Bytes,
    /// NOACK: deliver without adding to the PEL.
    pub noack: bool,
}

/// The start ID of XGROUP CREATE / SETID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupStart {
    /// `$`: the stream's last ID.
    Last,
    /// An explicit ID, or the parse error Redis reports after the key checks.
    Id(Result<StreamId, OpError>),
}

/// XPENDING's extended form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRange {
    /// IDLE: minimum idle ms (0 = no filter).
    pub min_idle: i64,
    /// Inclusive start.
    pub start: StreamId,
    /// Inclusive end.
    pub end: StreamId,
    /// Maximum entries (≥ 0).
    pub count: u64,
    /// Only this consumer's entries.
    pub consumer: Option<Bytes>,
}

/// XCLAIM's delivery-time option (the last of IDLE/TIME wins, as in Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// IDLE ms: delivered `ms` before now.
    Idle(i64),
    /// TIME unix-ms.
    Time(i64),
}

/// XCLAIM's arguments after the consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimArgs {
    /// min-idle-time (negative counts as 0).
    pub min_idle: i64,
    /// IDs to claim.
    pub ids: Vec<StreamId>,
    /// IDLE / TIME.
    pub delivery: Option<Delivery>,
    /// RETRYCOUNT (negative = not given).
    pub retry_count: Option<i64>,
    /// FORCE.
    pub force: bool,
    /// JUSTID.
    pub justid: bool,
    /// LASTID.
    pub last_id: Option<StreamId>,
}

/// Ops of streams and consumer groups.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamOp {
    /// XADD.
    Add {
        key: Bytes,
        nomkstream: bool,
        id: AddId,
        fields: Vec<(Bytes, Bytes)>,
        trim: Option<TrimSpec>,
    },
    /// XLEN.
    Len { key: Bytes },
    /// XRANGE / XREVRANGE over the inclusive `start..=end` (already adjusted for `(`).
    Range {
        key: Bytes,
        start: StreamId,
        end: StreamId,
        /// COUNT (`Some(0)` answers a null array, as Redis).
        count: Option<u64>,
        rev: bool,
    },
    /// XREAD / XREADGROUP.
    Read {
        keys: Vec<Bytes>,
        ids: Vec<ReadId>,
        /// COUNT; 0 = unlimited.
        count: u64,
        /// BLOCK ms (0 = forever).
        block: Option<u64>,
        group: Option<ReadGroup>,
    },
    /// XDEL.
    Del {
        key: Bytes,
        ids: Result<Vec<StreamId>, OpError>,
    },
    /// XTRIM.
    Trim { key: Bytes, trim: TrimSpec },
    /// XGROUP CREATE.
    GroupCreate {
        key: Bytes,
        group: Bytes,
        start: GroupStart,
        mkstream: bool,
        entries_read: i64,
        /// Too many arguments: Redis's subcommand syntax error, reported after the key checks.
        late_err: Option<OpError>,
    },
    /// XGROUP SETID.
    GroupSetId {
        key: Bytes,
        group: Bytes,
        start: GroupStart,
        entries_read: i64,
        late_err: Option<OpError>,
    },
    /// XGROUP DESTROY.
    GroupDestroy { key: Bytes, group: Bytes },
    /// XGROUP CREATECONSUMER.
    GroupCreateConsumer {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
    },
    /// XGROUP DELCONSUMER.
    GroupDelConsumer {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
    },
    /// XACK.
    Ack {
        key: Bytes,
        group: Bytes,
        ids: Result<Vec<StreamId>, OpError>,
    },
    /// XPENDING (summary when `range` is `None`).
    Pending {
        key: Bytes,
        group: Bytes,
        range: Option<PendingRange>,
    },
    /// XCLAIM.
    Claim {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
        args: Result<ClaimArgs, OpError>,
    },
    /// XAUTOCLAIM.
    AutoClaim {
        key: Bytes,
        group: Bytes,
        consumer: Bytes,
        min_idle: i64,
        start: StreamId,
        count: u64,
        justid: bool,
    },
    /// XINFO STREAM; `full` is `None` for the summary, `Some(count)` for FULL (0 = all).
    InfoStream {
        key: Bytes,
        full: Result<Option<u64>, OpError>,
    },
    /// XINFO GROUPS.
    InfoGroups { key: Bytes },
    /// XINFO CONSUMERS.
    InfoConsumers { key: Bytes, group: Bytes },
    /// XSETID.
    SetId {
        key: Bytes,
        id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    },
    /// XGROUP HELP / XINFO HELP: `cmd`'s help lines (answered without touching a key).
    Help {
        cmd: &'static str,
        lines: &'static [&'static str],
    },
}

impl StreamOp {
    /// Every key the op names, in argument order.
    pub fn keys(&self) -> Vec<&Bytes> {
        use StreamOp::*;
        match self {
            Read { keys, .. } => keys.iter().collect(),
            Help { .. } => Vec::new(),
            Add { key, .. }
            | Len { key }
            | Range { key, .. }
            | Del { key, .. }
            | Trim { key, .. }
            | GroupCreate { key, .. }
            | GroupSetId { key, .. }
            | GroupDestroy { key, .. }
            | GroupCreateConsumer { key, .. }
            | GroupDelConsumer { key, .. }
            | Ack { key, .. }
            | Pending { key, .. }
            | Claim { key, .. }
            | AutoClaim { key, .. }
            | InfoStream { key, .. }
            | InfoGroups { key }
            | InfoConsumers { key, .. }
            | SetId { key, .. } => vec![key],
        }
    }

    /// How the op is routed across shards (multi-key ops are `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        match self {
            StreamOp::Read { keys, .. } if keys.len() > 1 => KeyRouting::Atomic,
            _ => KeyRouting::Single,
        }
    }

    /// For the blocking forms: how long to wait when the op finds nothing to serve. The op
    /// itself executes like its non-blocking form and answers a null (`Reply::NilArray`) when
    /// it found nothing; the server then parks the client (outside MULTI) and re-executes the
    /// op when one of its keys is written.
    pub fn blocking(&self) -> Option<Blocking> {
        match self {
            StreamOp::Read {
                block: Some(ms), ..
            } => Some(Blocking {
                timeout_ms: *ms,
                nil_bulk: false,
            }),
            _ => None,
        }
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        use StreamOp::*;
        match self {
            Len { .. }
            | Range { .. }
            | Pending { .. }
            | InfoStream { .. }
            | InfoGroups { .. }
            | InfoConsumers { .. }
            | Help { .. } => false,
            Read { group, .. } => group.is_some(),
            _ => true,
        }
    }
}
