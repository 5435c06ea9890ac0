//! Table entries and parsers of streams and consumer groups (XADD ... XSETID), with t_stream.c's
//! argument rules and error texts.
//!
//! Invariants: stream IDs go through [`parse_id`], Redis's `streamGenericParseIDOrReply`
//! (`string2ull` for both parts, at most 127 bytes, C-string semantics); arguments Redis only
//! parses after looking the key up are carried to the engine as `Result`s (see
//! `moon_engine::ir::ops::stream`), so error precedence matches Redis. Parsing never panics:
//! indexing stays within the arity the table checked.

use bytes::Bytes;
use moon_engine::ir::ops::StreamOp;
use moon_engine::ir::ops::stream::{
    AddId, ClaimArgs, Delivery, GroupStart, PendingRange, ReadGroup, ReadId, TrimSpec,
};
use moon_engine::ir::{Op, OpError};
use moon_engine::types::stream::{StreamId, TrimStrategy};

use super::Command;
use super::args::{arity_err, c_str, err, int, is, parse_cursor, show};
use super::container_arity;
use super::table::{
    BLOCKING, CMD_BLOCKING, CommandSpec, DENYOOM, FAST, FindKeys, K_ACCESS, K_DELETE, K_INSERT,
    K_RO, K_RW, K_UPDATE, KeySpec, LOADING, READONLY, STALE, STREAM, WRITE, doc,
};

const G: &str = "stream";
const O1: &str = "O(1)";

const RO_ACCESS: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const SUB_RO_ACCESS: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 2)];

pub static XACK: CommandSpec = CommandSpec::new(
    "xack",
    -4,
    WRITE | FAST,
    STREAM,
    &[KeySpec::one(K_RW | K_UPDATE, 1)],
    doc(
        G,
        "5.0.0",
        "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.",
        "O(1) for each message ID processed.",
    ),
    xack,
);

pub static XADD: CommandSpec = CommandSpec::new(
    "xadd",
    -5,
    WRITE | DENYOOM | FAST,
    STREAM,
    &[KeySpec {
        notes: Some("UPDATE instead of INSERT because of the optional trimming feature"),
        ..KeySpec::one(K_RW | K_UPDATE, 1)
    }],
    doc(
        G,
        "5.0.0",
        "Appends a new message to a stream. Creates the key if it doesn't exist.",
        "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    ),
    xadd,
).tips(&["nondeterministic_output"]);

pub static XAUTOCLAIM: CommandSpec = CommandSpec::new(
    "xautoclaim",
    -6,
    WRITE | FAST,
    STREAM,
    &[KeySpec::one(K_RW | K_DELETE, 1)],
    doc(
        G,
        "6.2.0",
        "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
        "O(1) if COUNT is small.",
    ),
    xautoclaim,
).tips(&["nondeterministic_output"]);

pub static XCLAIM: CommandSpec = CommandSpec::new(
    "xclaim",
    -6,
    WRITE | FAST,
    STREAM,
    &[KeySpec::one(K_RW | K_UPDATE, 1)],
    doc(
        G,
        "5.0.0",
        "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
        "O(log N) with N being the number of messages in the PEL of the consumer group.",
    ),
    xclaim,
).tips(&["nondeterministic_output"]);

pub static XDEL: CommandSpec = CommandSpec::new(
    "xdel",
    -3,
    WRITE | FAST,
    STREAM,
    &[KeySpec::one(K_RW | K_DELETE, 1)],
    doc(
        G,
        "5.0.0",
        "Returns the number of messages after removing them from a stream.",
        "O(1) for each single item to delete in the stream, regardless of the stream size.",
    ),
    xdel,
);

pub static XGROUP: CommandSpec = CommandSpec::new(
    "xgroup",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "5.0.0",
        "A container for consumer groups commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(XGROUP_SUBS);

static XGROUP_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "xgroup|create",
        -5,
        WRITE | DENYOOM,
        STREAM,
        &[KeySpec::one(K_RW | K_INSERT, 2)],
        doc(G, "5.0.0", "Creates a consumer group.", O1),
        xgroup_create,
    ),
    CommandSpec::new(
        "xgroup|createconsumer",
        5,
        WRITE | DENYOOM,
        STREAM,
        &[KeySpec::one(K_RW | K_INSERT, 2)],
        doc(G, "6.2.0", "Creates a consumer in a consumer group.", O1),
        xgroup_createconsumer,
    ),
    CommandSpec::new(
        "xgroup|delconsumer",
        5,
        WRITE,
        STREAM,
        &[KeySpec::one(K_RW | K_DELETE, 2)],
        doc(G, "5.0.0", "Deletes a consumer from a consumer group.", O1),
        xgroup_delconsumer,
    ),
    CommandSpec::new(
        "xgroup|destroy",
        4,
        WRITE,
        STREAM,
        &[KeySpec::one(K_RW | K_DELETE, 2)],
        doc(
            G,
            "5.0.0",
            "Destroys a consumer group.",
            "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        ),
        xgroup_destroy,
    ),
    CommandSpec::new(
        "xgroup|help",
        2,
        LOADING | STALE,
        STREAM,
        &[],
        doc(
            G,
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            O1,
        ),
        xgroup_help,
    ),
    CommandSpec::new(
        "xgroup|setid",
        -5,
        WRITE,
        STREAM,
        &[KeySpec::one(K_RW | K_UPDATE, 2)],
        doc(
            G,
            "5.0.0",
            "Sets the last-delivered ID of a consumer group.",
            O1,
        ),
        xgroup_setid,
    ),
];

pub static XINFO: CommandSpec = CommandSpec::new(
    "xinfo",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "5.0.0",
        "A container for stream introspection commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(XINFO_SUBS);

static XINFO_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "xinfo|consumers",
        4,
        READONLY,
        STREAM,
        SUB_RO_ACCESS,
        doc(
            G,
            "5.0.0",
            "Returns a list of the consumers in a consumer group.",
            O1,
        ),
        xinfo_consumers,
    )
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "xinfo|groups",
        3,
        READONLY,
        STREAM,
        SUB_RO_ACCESS,
        doc(
            G,
            "5.0.0",
            "Returns a list of the consumer groups of a stream.",
            O1,
        ),
        xinfo_groups,
    ),
    CommandSpec::new(
        "xinfo|help",
        2,
        LOADING | STALE,
        STREAM,
        &[],
        doc(
            G,
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            O1,
        ),
        xinfo_help,
    ),
    CommandSpec::new(
        "xinfo|stream",
        -3,
        READONLY,
        STREAM,
        SUB_RO_ACCESS,
        doc(G, "5.0.0", "Returns information about a stream.", O1),
        xinfo_stream,
    ),
];

pub static XLEN: CommandSpec = CommandSpec::new(
    "xlen",
    2,
    READONLY | FAST,
    STREAM,
    &[KeySpec::one(K_RO, 1)],
    doc(G, "5.0.0", "Return the number of messages in a stream.", O1),
    xlen,
);

pub static XPENDING: CommandSpec = CommandSpec::new(
    "xpending",
    -3,
    READONLY,
    STREAM,
    RO_ACCESS,
    doc(
        G,
        "5.0.0",
        "Returns the information and entries from a stream consumer group's pending entries list.",
        "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    ),
    xpending,
).tips(&["nondeterministic_output"]);

pub static XRANGE: CommandSpec = CommandSpec::new(
    "xrange",
    -4,
    READONLY,
    STREAM,
    RO_ACCESS,
    doc(
        G,
        "5.0.0",
        "Returns the messages from a stream within a range of IDs.",
        "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    ),
    xrange,
);

/// XREAD/XREADGROUP find their keys after the STREAMS keyword: the first half of what follows
/// it (the second half are the IDs), hence the range's `limit` of 2.
const STREAMS_KEYS: FindKeys = FindKeys::Range {
    lastkey: -1,
    keystep: 1,
    limit: 2,
};

pub static XREAD: CommandSpec = CommandSpec::new(
    "xread",
    -4,
    READONLY | CMD_BLOCKING,
    STREAM | BLOCKING,
    &[KeySpec::keyword(
        K_RO | K_ACCESS,
        "STREAMS",
        1,
        STREAMS_KEYS,
    )],
    doc(
        G,
        "5.0.0",
        "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.",
        "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
    ),
    xread,
);

pub static XREADGROUP: CommandSpec = CommandSpec::new(
    "xreadgroup",
    -7,
    WRITE | CMD_BLOCKING,
    STREAM | BLOCKING,
    &[KeySpec::keyword(
        K_RO | K_ACCESS,
        "STREAMS",
        4,
        STREAMS_KEYS,
    )],
    doc(
        G,
        "5.0.0",
        "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.",
        "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    ),
    xreadgroup,
);

pub static XREVRANGE: CommandSpec = CommandSpec::new(
    "xrevrange",
    -4,
    READONLY,
    STREAM,
    RO_ACCESS,
    doc(
        G,
        "5.0.0",
        "Returns the messages from a stream within a range of IDs in reverse order.",
        "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    ),
    xrevrange,
);

pub static XSETID: CommandSpec = CommandSpec::new(
    "xsetid",
    -3,
    WRITE | DENYOOM | FAST,
    STREAM,
    &[KeySpec::one(K_RW | K_UPDATE, 1)],
    doc(
        G,
        "5.0.0",
        "An internal command for replicating stream values.",
        O1,
    ),
    xsetid,
);

pub static XTRIM: CommandSpec = CommandSpec::new(
    "xtrim",
    -4,
    WRITE,
    STREAM,
    &[KeySpec::one(K_RW | K_DELETE, 1)],
    doc(
        G,
        "5.0.0",
        "Deletes messages from the beginning of a stream.",
        "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    ),
    xtrim,
).tips(&["nondeterministic_output"]);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &XACK,
    &XADD,
    &XAUTOCLAIM,
    &XCLAIM,
    &XDEL,
    &XGROUP,
    &XINFO,
    &XLEN,
    &XPENDING,
    &XRANGE,
    &XREAD,
    &XREADGROUP,
    &XREVRANGE,
    &XSETID,
    &XTRIM,
];

// ---- argument helpers ----

fn op(op: StreamOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Streams(op)))
}

fn invalid_id() -> OpError {
    err("Invalid stream ID specified as stream command argument")
}

/// `streamGenericParseIDOrReply`: `<ms>[-<seq>]`, `-`, `+` (unless `strict`), `<ms>-*` (when
/// `seq_auto`). A missing sequence becomes `missing_seq`. Returns the ID and whether the
/// sequence was given (false only for `<ms>-*`).
pub(crate) fn parse_id(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_auto: bool,
) -> Result<(StreamId, bool), OpError> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    let s = c_str(arg);
    match s {
        b"-" | b"+" if strict => return Err(invalid_id()),
        b"-" => return Ok((StreamId::MIN, true)),
        b"+" => return Ok((StreamId::MAX, true)),
        _ => {}
    }
    let (ms_part, seq_part) = match s.iter().position(|&b| b == b'-') {
        Some(dash) => (&s[..dash], Some(&s[dash + 1..])),
        None => (s, None),
    };
    let ms = parse_cursor(ms_part).ok_or_else(invalid_id)?;
    let (seq, given) = match seq_part {
        Some(b"*") if seq_auto => (0, false),
        Some(part) => (parse_cursor(part).ok_or_else(invalid_id)?, true),
        None => (missing_seq, true),
    };
    Ok((StreamId::new(ms, seq), given))
}

/// A strict ID (no `-`/`+`, no `*`).
fn strict_id(arg: &[u8]) -> Result<StreamId, OpError> {
    parse_id(arg, 0, true, false).map(|(id, _)| id)
}

/// `streamParseIntervalIDOrReply`: an optional `(` makes the bound exclusive (and strict).
fn interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), OpError> {
    match arg.split_first() {
        Some((b'(', rest)) if !rest.is_empty() => {
            parse_id(rest, missing_seq, true, false).map(|(id, _)| (id, true))
        }
        _ => parse_id(arg, missing_seq, false, false).map(|(id, _)| (id, false)),
    }
}

/// An inclusive range from two interval arguments (`(` bounds moved inward).
fn interval(start: &[u8], end: &[u8]) -> Result<(StreamId, StreamId), OpError> {
    let (mut s, sx) = interval_id(start, 0)?;
    if sx {
        s = s
            .next()
            .ok_or_else(|| err("invalid start ID for the interval"))?;
    }
    let (mut e, ex) = interval_id(end, u64::MAX)?;
    if ex {
        e = e
            .prev()
            .ok_or_else(|| err("invalid end ID for the interval"))?;
    }
    Ok((s, e))
}

/// A COUNT-like integer where negative means 0.
fn count_arg(arg: &[u8]) -> Result<u64, OpError> {
    Ok(u64::try_from(int(arg)?).unwrap_or(0))
}

/// `getTimeoutFromObjectOrReply` in milliseconds.
fn timeout_ms(arg: &[u8]) -> Result<u64, OpError> {
    let t = super::args::parse_i64(arg)
        .ok_or_else(|| err("timeout is not an integer or out of range"))?;
    if t < 0 {
        return Err(err("timeout is negative"));
    }
    // Redis adds the current time; anything that cannot be added to a 21st-century clock is
    // out of range.
    if t > i64::MAX - 4_102_444_800_000 {
        return Err(err("timeout is out of range"));
    }
    Ok(t as u64)
}

/// `addReplySubcommandSyntaxError`.
fn subcommand_syntax(cmd: &str, sub: &[u8]) -> OpError {
    err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        show(&sub[..sub.len().min(128)]),
        cmd
    ))
}

// ---- XADD / XTRIM ----

/// What `streamParseAddOrTrimArgsOrReply` yields.
struct AddTrimArgs {
    trim: Option<TrimSpec>,
    nomkstream: bool,
    /// Index of the ID argument (XADD) — `args.len()` when none was found.
    id_pos: usize,
    id: Option<(StreamId, bool)>,
}

fn parse_add_or_trim(a: &[Bytes], xadd: bool) -> Result<AddTrimArgs, OpError> {
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: Option<i64> = None;
    let mut nomkstream = false;
    let mut id = None;
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = &a[i];
        if xadd && c_str(opt) == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if strategy.is_some() {
                return Err(err(
                    "syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            approx = false;
            let next = &a[i + 1];
            if more >= 2 && next.as_ref() == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next.as_ref() == b"=" {
                i += 1;
            }
            let value = &a[i + 1];
            strategy = Some(if is(opt, "maxlen") {
                let n = int(value)?;
                if n < 0 {
                    return Err(err("The MAXLEN argument must be >= 0."));
                }
                TrimStrategy::MaxLen(n as u64)
            } else {
                TrimStrategy::MinId(strict_id(value)?)
            });
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            let n = int(&a[i + 1])?;
            if n < 0 {
                return Err(err("The LIMIT argument must be >= 0."));
            }
            limit = Some(n);
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            nomkstream = true;
        } else if xadd {
            id = Some(parse_id(opt, 0, true, true)?);
            break;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    if limit.is_some_and(|l| l != 0) && strategy.is_none() {
        return Err(err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && strategy.is_none() {
        return Err(err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit.is_some() && !approx {
        return Err(err(
            "syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    Ok(AddTrimArgs {
        trim: strategy.map(|strategy| TrimSpec {
            strategy,
            approx,
            limit: limit.map(|l| l as u64),
        }),
        nomkstream,
        id_pos: i,
        id,
    })
}

fn xadd(a: &[Bytes]) -> Result<Command, OpError> {
    let parsed = parse_add_or_trim(a, true)?;
    let field_pos = parsed.id_pos + 1;
    let nfields = a.len().saturating_sub(field_pos);
    if field_pos > a.len() || nfields < 2 || nfields % 2 == 1 {
        return Err(arity_err("xadd"));
    }
    let id = match parsed.id {
        None => AddId::Auto,
        Some((id, true)) if id.is_zero() => {
            return Err(err("The ID specified in XADD must be greater than 0-0"));
        }
        Some((id, true)) => AddId::Explicit(id),
        Some((id, false)) => AddId::AutoSeq(id.ms),
    };
    let fields = a[field_pos..]
        .chunks_exact(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    op(StreamOp::Add {
        key: a[1].clone(),
        nomkstream: parsed.nomkstream,
        id,
        fields,
        trim: parsed.trim,
    })
}

fn xtrim(a: &[Bytes]) -> Result<Command, OpError> {
    let parsed = parse_add_or_trim(a, false)?;
    let Some(trim) = parsed.trim else {
        return Err(OpError::Syntax);
    };
    op(StreamOp::Trim {
        key: a[1].clone(),
        trim,
    })
}

// ---- XLEN, XRANGE, XREVRANGE, XDEL, XSETID ----

fn xlen(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::Len { key: a[1].clone() })
}

fn range_generic(a: &[Bytes], rev: bool) -> Result<Command, OpError> {
    let (start_arg, end_arg) = if rev { (&a[3], &a[2]) } else { (&a[2], &a[3]) };
    let (start, end) = interval(start_arg, end_arg)?;
    let mut count = None;
    let mut j = 4;
    while j < a.len() {
        if is(&a[j], "count") && j + 1 < a.len() {
            count = Some(count_arg(&a[j + 1])?);
            j += 2;
        } else {
            return Err(OpError::Syntax);
        }
    }
    op(StreamOp::Range {
        key: a[1].clone(),
        start,
        end,
        count,
        rev,
    })
}

fn xrange(a: &[Bytes]) -> Result<Command, OpError> {
    range_generic(a, false)
}

fn xrevrange(a: &[Bytes]) -> Result<Command, OpError> {
    range_generic(a, true)
}

/// Strict IDs from `args`, all or the first error (reported by the engine after its checks).
fn strict_ids(args: &[Bytes]) -> Result<Vec<StreamId>, OpError> {
    args.iter().map(|a| strict_id(a)).collect()
}

fn xdel(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::Del {
        key: a[1].clone(),
        ids: strict_ids(&a[2..]),
    })
}

fn xsetid(a: &[Bytes]) -> Result<Command, OpError> {
    let id = strict_id(&a[2])?;
    let mut entries_added = None;
    let mut max_deleted = None;
    let mut i = 3;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if is(&a[i], "entriesadded") && more > 0 {
            let n = int(&a[i + 1])?;
            if n < 0 {
                return Err(err("entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if is(&a[i], "maxdeletedid") && more > 0 {
            let m = strict_id(&a[i + 1])?;
            if id < m {
                return Err(err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            max_deleted = Some(m);
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    op(StreamOp::SetId {
        key: a[1].clone(),
        id,
        entries_added,
        max_deleted,
    })
}

// ---- XREAD / XREADGROUP ----

fn read_generic(a: &[Bytes], xreadgroup: bool) -> Result<Command, OpError> {
    let mut block = None;
    let mut count = 0;
    let mut streams_at = None;
    let mut group: Option<(Bytes, Bytes)> = None;
    let mut noack = false;
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let o = &a[i];
        if is(o, "block") && more > 0 {
            i += 1;
            block = Some(timeout_ms(&a[i])?);
        } else if is(o, "count") && more > 0 {
            i += 1;
            count = count_arg(&a[i])?;
        } else if is(o, "streams") && more > 0 {
            let n = a.len() - (i + 1);
            if !n.is_multiple_of(2) {
                return Err(err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams_at = Some(i + 1);
            break;
        } else if is(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err(err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 2;
        } else if is(o, "noack") {
            if !xreadgroup {
                return Err(err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }
    let Some(at) = streams_at else {
        return Err(OpError::Syntax);
    };
    if xreadgroup && group.is_none() {
        return Err(err("Missing GROUP option for XREADGROUP"));
    }
    let n = (a.len() - at) / 2;
    let keys: Vec<Bytes> = a[at..at + n].to_vec();
    let ids = a[at + n..]
        .iter()
        .map(|arg| read_id(arg, xreadgroup))
        .collect();
    op(StreamOp::Read {
        keys,
        ids,
        count,
        block,
        group: group.map(|(group, consumer)| ReadGroup {
            group,
            consumer,
            noack,
        }),
    })
}

fn read_id(arg: &[u8], xreadgroup: bool) -> ReadId {
    let meaningless = |which: &str| {
        ReadId::Invalid(err(format!(
            "The {which} ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The {which} ID would just return an empty result set."
        )))
    };
    match arg {
        b"$" if xreadgroup => meaningless("$"),
        b"$" => ReadId::Last,
        b"+" if xreadgroup => meaningless("+"),
        b"+" => ReadId::LastEntry,
        b">" if xreadgroup => ReadId::New,
        b">" => ReadId::Invalid(err(
            "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        )),
        _ => match strict_id(arg) {
            // The maximum ID is how Redis represents `>`.
            Ok(id) if id == StreamId::MAX && xreadgroup => ReadId::New,
            Ok(id) => ReadId::After(id),
            Err(e) => ReadId::Invalid(e),
        },
    }
}

fn xread(a: &[Bytes]) -> Result<Command, OpError> {
    read_generic(a, false)
}

fn xreadgroup(a: &[Bytes]) -> Result<Command, OpError> {
    read_generic(a, true)
}

// ---- XGROUP ----

/// CREATE/SETID options from argument 5 on.
fn group_options(a: &[Bytes], create: bool) -> Result<(bool, i64), OpError> {
    let mut mkstream = false;
    let mut entries_read = -1;
    let mut i = 5;
    while i < a.len() {
        if create && is(&a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(&a[i], "entriesread") && i + 1 < a.len() {
            entries_read = int(&a[i + 1])?;
            if entries_read < 0 && entries_read != -1 {
                return Err(err("value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax("XGROUP", &a[1]));
        }
    }
    Ok((mkstream, entries_read))
}

fn xgroup_create(a: &[Bytes]) -> Result<Command, OpError> {
    let (mkstream, entries_read) = group_options(a, true)?;
    let start = if a[4].as_ref() == b"$" {
        GroupStart::Last
    } else {
        GroupStart::Id(strict_id(&a[4]))
    };
    op(StreamOp::GroupCreate {
        key: a[2].clone(),
        group: a[3].clone(),
        start,
        mkstream,
        entries_read,
        late_err: (a.len() > 8).then(|| subcommand_syntax("XGROUP", &a[1])),
    })
}

fn xgroup_setid(a: &[Bytes]) -> Result<Command, OpError> {
    let (_, entries_read) = group_options(a, false)?;
    let start = if a[4].as_ref() == b"$" {
        GroupStart::Last
    } else {
        GroupStart::Id(parse_id(&a[4], 0, false, false).map(|(id, _)| id))
    };
    op(StreamOp::GroupSetId {
        key: a[2].clone(),
        group: a[3].clone(),
        start,
        entries_read,
        late_err: (a.len() != 5 && a.len() != 7).then(|| subcommand_syntax("XGROUP", &a[1])),
    })
}

fn xgroup_destroy(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::GroupDestroy {
        key: a[2].clone(),
        group: a[3].clone(),
    })
}

fn xgroup_createconsumer(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::GroupCreateConsumer {
        key: a[2].clone(),
        group: a[3].clone(),
        consumer: a[4].clone(),
    })
}

fn xgroup_delconsumer(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::GroupDelConsumer {
        key: a[2].clone(),
        group: a[3].clone(),
        consumer: a[4].clone(),
    })
}

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

fn xgroup_help(_: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::Help {
        cmd: "XGROUP",
        lines: XGROUP_HELP,
    })
}

fn xinfo_help(_: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::Help {
        cmd: "XINFO",
        lines: XINFO_HELP,
    })
}

// ---- XACK, XPENDING, XCLAIM, XAUTOCLAIM ----

fn xack(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::Ack {
        key: a[1].clone(),
        group: a[2].clone(),
        ids: strict_ids(&a[3..]),
    })
}

fn xpending(a: &[Bytes]) -> Result<Command, OpError> {
    let argc = a.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(OpError::Syntax);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if is(&a[3], "idle") {
            min_idle = int(&a[4])?;
            if argc < 8 {
                return Err(OpError::Syntax);
            }
            at += 2;
        }
        let count = count_arg(&a[at + 2])?;
        let (start, end) = interval(&a[at], &a[at + 1])?;
        range = Some(PendingRange {
            min_idle,
            start,
            end,
            count,
            consumer: a.get(at + 3).cloned(),
        });
    }
    op(StreamOp::Pending {
        key: a[1].clone(),
        group: a[2].clone(),
        range,
    })
}

fn claim_args(a: &[Bytes]) -> Result<ClaimArgs, OpError> {
    let min_idle = super::args::parse_i64(&a[4])
        .ok_or_else(|| err("Invalid min-idle-time argument for XCLAIM"))?;
    let mut ids = Vec::new();
    let mut j = 5;
    while j < a.len() {
        match strict_id(&a[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let mut args = ClaimArgs {
        min_idle,
        ids,
        delivery: None,
        retry_count: None,
        force: false,
        justid: false,
        last_id: None,
    };
    let number = |arg: &[u8], what: &str| {
        super::args::parse_i64(arg)
            .ok_or_else(|| err(format!("Invalid {what} option argument for XCLAIM")))
    };
    while j < a.len() {
        let more = a.len() - 1 - j;
        let o = &a[j];
        if is(o, "force") {
            args.force = true;
        } else if is(o, "justid") {
            args.justid = true;
        } else if is(o, "idle") && more > 0 {
            j += 1;
            args.delivery = Some(Delivery::Idle(number(&a[j], "IDLE")?));
        } else if is(o, "time") && more > 0 {
            j += 1;
            args.delivery = Some(Delivery::Time(number(&a[j], "TIME")?));
        } else if is(o, "retrycount") && more > 0 {
            j += 1;
            args.retry_count = Some(number(&a[j], "RETRYCOUNT")?);
        } else if is(o, "lastid") && more > 0 {
            j += 1;
            args.last_id = Some(strict_id(&a[j])?);
        } else {
            return Err(err(format!("Unrecognized XCLAIM option '{}'", show(o))));
        }
        j += 1;
    }
    Ok(args)
}

fn xclaim(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::Claim {
        key: a[1].clone(),
        group: a[2].clone(),
        consumer: a[3].clone(),
        args: claim_args(a),
    })
}

fn xautoclaim(a: &[Bytes]) -> Result<Command, OpError> {
    let min_idle = super::args::parse_i64(&a[4])
        .ok_or_else(|| err("Invalid min-idle-time argument for XAUTOCLAIM"))?;
    let (mut start, excl) = interval_id(&a[5], 0)?;
    if excl {
        start = start
            .next()
            .ok_or_else(|| err("invalid start ID for the interval"))?;
    }
    let mut count = 100;
    let mut justid = false;
    let mut j = 6;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(&a[j], "count") && more > 0 {
            // LONG_MAX / max(sizeof(streamID), attempts factor 10).
            let max = i64::MAX / 16;
            count = match super::args::parse_i64(&a[j + 1]) {
                Some(n) if (1..=max).contains(&n) => n as u64,
                _ => return Err(err("COUNT must be > 0")),
            };
            j += 1;
        } else if is(&a[j], "justid") {
            justid = true;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    op(StreamOp::AutoClaim {
        key: a[1].clone(),
        group: a[2].clone(),
        consumer: a[3].clone(),
        min_idle,
        start,
        count,
        justid,
    })
}

// ---- XINFO ----

fn xinfo_stream(a: &[Bytes]) -> Result<Command, OpError> {
    let opts = &a[3..];
    let full = match opts {
        [] => Ok(None),
        [full] if is(full, "full") => Ok(Some(10)),
        [full, c, n] if is(full, "full") && is(c, "count") => {
            int(n).map(|n| Some(u64::try_from(n).unwrap_or(10)))
        }
        _ => Err(subcommand_syntax("XINFO", &a[1])),
    };
    op(StreamOp::InfoStream {
        key: a[2].clone(),
        full,
    })
}

fn xinfo_groups(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::InfoGroups { key: a[2].clone() })
}

fn xinfo_consumers(a: &[Bytes]) -> Result<Command, OpError> {
    op(StreamOp::InfoConsumers {
        key: a[2].clone(),
        group: a[3].clone(),
    })
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
