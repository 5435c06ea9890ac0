//! Execution of streams and consumer groups: dispatch, the shared reply builders, and the
//! entry-level commands (XADD, XLEN, XRANGE/XREVRANGE, XDEL, XTRIM, XSETID). XREAD/XREADGROUP
//! live in `read`, the consumer-group commands in `groups`, XINFO in `info`.
//!
//! Invariants: values are mutated only inside `Db::update` (or built whole and inserted), so
//! the memory accounting stays exact; an emptied stream is NOT deleted (Redis keeps empty
//! streams, unlike other collections); keyspace events are recorded after the change they
//! name, with Redis's event names.

mod groups;
mod info;
mod read;

use bytes::Bytes;

use super::Exec;
use crate::ir::ops::StreamOp;
use crate::ir::ops::stream::{AddId, ReadId, TrimSpec};
use crate::ir::{OpError, Reply};
use crate::keyspace::Entry;
use crate::keyspace::entry::LargeValue;
use crate::notify::class;
use crate::types::stream::{EntryRef, MAX_ENTRY_BYTES, NodeLimits, StreamId, StreamValue};

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &StreamOp) -> Reply {
    use StreamOp::*;
    match op {
        Add {
            key,
            nomkstream,
            id,
            fields,
            trim,
        } => add(x, key, *nomkstream, *id, fields, trim.as_ref()),
        Len { key } => len(x, key),
        Range {
            key,
            start,
            end,
            count,
            rev,
        } => range(x, key, *start, *end, *count, *rev),
        Read {
            keys,
            ids,
            count,
            group,
            ..
        } => read::read(x, keys, ids, *count, group.as_ref()),
        Del { key, ids } => del(x, key, ids),
        Trim { key, trim } => xtrim(x, key, trim),
        SetId {
            key,
            id,
            entries_added,
            max_deleted,
        } => setid(x, key, *id, *entries_added, *max_deleted),
        GroupCreate {
            key,
            group,
            start,
            mkstream,
            entries_read,
            late_err,
        } => groups::create(
            x,
            key,
            group,
            start,
            *mkstream,
            *entries_read,
            late_err.as_ref(),
        ),
        GroupSetId {
            key,
            group,
            start,
            entries_read,
            late_err,
        } => groups::setid(x, key, group, start, *entries_read, late_err.as_ref()),
        GroupDestroy { key, group } => groups::destroy(x, key, group),
        GroupCreateConsumer {
            key,
            group,
            consumer,
        } => groups::create_consumer(x, key, group, consumer),
        GroupDelConsumer {
            key,
            group,
            consumer,
        } => groups::del_consumer(x, key, group, consumer),
        Ack { key, group, ids } => groups::ack(x, key, group, ids),
        Pending { key, group, range } => groups::pending(x, key, group, range.as_ref()),
        Claim {
            key,
            group,
            consumer,
            args,
        } => groups::claim(x, key, group, consumer, args),
        AutoClaim {
            key,
            group,
            consumer,
            min_idle,
            start,
            count,
            justid,
        } => groups::autoclaim(x, key, group, consumer, *min_idle, *start, *count, *justid),
        InfoStream { key, full } => info::stream(x, key, full),
        InfoGroups { key } => info::groups(x, key),
        InfoConsumers { key, group } => info::consumers(x, key, group),
        Help { cmd, lines } => help(cmd, lines),
    }
}

/// Before a blocking read parks: rewrite `$` IDs to the stream's current last ID, so the
/// re-executed op sees only entries added after it blocked.
pub(crate) fn prepare_block(x: &mut Exec<'_>, op: &mut StreamOp) {
    let StreamOp::Read {
        keys,
        ids,
        group: None,
        ..
    } = op
    else {
        return;
    };
    let now = x.now_ms;
    for (key, id) in keys.iter().zip(ids.iter_mut()) {
        if *id == ReadId::Last {
            let last = x
                .db()
                .peek(key, now)
                .and_then(|e| stream_of(e).ok())
                .map_or(StreamId::MIN, StreamValue::last_id);
            *id = ReadId::After(last);
        }
    }
}

// ---- shared helpers ----

/// `addReplyHelp`: a header naming the command, the lines, then HELP's own entry.
fn help(cmd: &str, lines: &[&'static str]) -> Reply {
    let header = format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    let mut out = vec![Reply::Simple(Bytes::from(header))];
    out.extend(lines.iter().map(|l| Reply::simple(l)));
    out.push(Reply::simple("HELP"));
    out.push(Reply::simple("    Print this help."));
    Reply::Array(out)
}

/// The stream held by `e`, or WRONGTYPE.
pub(super) fn stream_of(e: &Entry) -> Result<&StreamValue, OpError> {
    match e.value() {
        Some(LargeValue::Stream(s)) => Ok(s),
        _ => Err(OpError::WrongType),
    }
}

/// The stream held by `e`, mutably, or WRONGTYPE.
pub(super) fn stream_mut(e: &mut Entry) -> Result<&mut StreamValue, OpError> {
    match e.value_mut() {
        Some(LargeValue::Stream(s)) => Ok(s),
        _ => Err(OpError::WrongType),
    }
}

/// How the stream at `key` looks to a read: absent, or present (WRONGTYPE is an error).
pub(super) fn read_stream<'a>(
    x: &'a mut Exec<'_>,
    key: &[u8],
) -> Result<Option<&'a StreamValue>, OpError> {
    match x.read(key) {
        None => Ok(None),
        Some(e) => stream_of(e).map(Some),
    }
}

/// An argument rendered as C's `%s` would (up to the first NUL).
pub(super) fn show(arg: &[u8]) -> String {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    String::from_utf8_lossy(&arg[..end]).into_owned()
}

/// `ERR <text>`.
pub(super) fn err(text: &str) -> OpError {
    OpError::Other(format!("ERR {text}"))
}

/// The `<ms>-<seq>` bulk reply, formatted without going through `fmt`.
pub(super) fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(id_bytes(id))
}

/// `<ms>-<seq>` as bytes.
pub(super) fn id_bytes(id: StreamId) -> Bytes {
    fn put(buf: &mut [u8; 41], at: &mut usize, mut n: u64) {
        loop {
            *at -= 1;
            buf[*at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
    }
    // 20 digits + '-' + 20 digits: the buffer always has room.
    let mut buf = [0u8; 41];
    let mut at = buf.len();
    put(&mut buf, &mut at, id.seq);
    at -= 1;
    buf[at] = b'-';
    put(&mut buf, &mut at, id.ms);
    Bytes::copy_from_slice(&buf[at..])
}

/// `[id, [field, value, ...]]`.
pub(super) fn entry_reply(e: EntryRef<'_>) -> Reply {
    let mut items = Vec::with_capacity(e.len() * 2);
    for (f, v) in e.fields() {
        items.push(Reply::bulk(f));
        items.push(Reply::bulk(v));
    }
    Reply::Array(vec![id_reply(e.id), Reply::Array(items)])
}

/// Entries of `start..=end` (at most `count`, 0 = all) as entry replies.
pub(super) fn range_replies(
    s: &StreamValue,
    start: StreamId,
    end: StreamId,
    count: u64,
    rev: bool,
) -> Vec<Reply> {
    let mut out = Vec::new();
    s.range(start, end, rev, |e| {
        out.push(entry_reply(e));
        count == 0 || (out.len() as u64) < count
    });
    out
}

/// The node limits from the configuration.
fn node_limits(x: &Exec<'_>) -> NodeLimits {
    NodeLimits {
        max_bytes: x.config.limits.stream_node_max_bytes,
        max_entries: x.config.limits.stream_node_max_entries,
    }
}

/// The LIMIT a trim runs with: as given with `~`, else 100 × node entries (10000 when that is
/// out of range); exact trims are unlimited.
fn trim_limit(t: &TrimSpec, limits: NodeLimits) -> u64 {
    if !t.approx {
        return 0;
    }
    t.limit.unwrap_or_else(|| {
        let l = (limits.max_entries as u64).saturating_mul(100);
        if l == 0 || l > MAX_ENTRY_BYTES as u64 {
            10_000
        } else {
            l
        }
    })
}

fn trim(s: &mut StreamValue, t: &TrimSpec, limits: NodeLimits) -> u64 {
    s.trim(t.strategy, t.approx, trim_limit(t, limits))
}

// ---- XADD ----

/// Appends one entry to `s` (`streamAppendItem`), then trims; returns the new ID and the
/// number of entries trimmed.
fn add_to(
    s: &mut StreamValue,
    id: AddId,
    fields: &[(Bytes, Bytes)],
    trim_spec: Option<&TrimSpec>,
    limits: NodeLimits,
    now_ms: u64,
) -> Result<(StreamId, u64), OpError> {
    let last = s.last_id();
    if last == StreamId::MAX {
        return Err(err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let too_small =
        || err("The ID specified in XADD is equal or smaller than the target stream top item");
    let new_id = match id {
        AddId::Auto => s.auto_id(now_ms).ok_or_else(too_small)?,
        AddId::AutoSeq(ms) if ms == last.ms => {
            StreamId::new(ms, last.seq.checked_add(1).ok_or_else(too_small)?)
        }
        AddId::AutoSeq(ms) => StreamId::new(ms, 0),
        AddId::Explicit(id) => id,
    };
    if new_id <= last {
        return Err(too_small());
    }
    let payload: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
    if payload > MAX_ENTRY_BYTES {
        return Err(err("Elements are too large to be stored"));
    }
    s.append(new_id, fields, limits);
    let trimmed = trim_spec.map_or(0, |t| trim(s, t, limits));
    Ok((new_id, trimmed))
}

fn add(
    x: &mut Exec<'_>,
    key: &[u8],
    nomkstream: bool,
    id: AddId,
    fields: &[(Bytes, Bytes)],
    trim_spec: Option<&TrimSpec>,
) -> Reply {
    let limits = node_limits(x);
    let now = x.now_ms;
    let touch = x.touch_secs();
    let existing = x.db().update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        add_to(stream_mut(e)?, id, fields, trim_spec, limits, now)
    });
    let (new_id, trimmed) = match existing {
        Some(Ok(done)) => done,
        Some(Err(e)) => return e.into(),
        None if nomkstream => return Reply::Nil,
        None => {
            let mut s = StreamValue::new();
            match add_to(&mut s, id, fields, trim_spec, limits, now) {
                Ok(done) => {
                    let entry =
                        Entry::new_value(key, LargeValue::Stream(Box::new(s)), None, x.now_secs);
                    x.db().insert(entry);
                    done
                }
                Err(e) => return e.into(),
            }
        }
    };
    x.notify(class::STREAM, "xadd", key);
    if trimmed > 0 {
        x.notify(class::STREAM, "xtrim", key);
    }
    id_reply(new_id)
}

// ---- XLEN, XRANGE ----

fn len(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    match read_stream(x, key) {
        Ok(s) => Reply::Int(s.map_or(0, |s| i64::try_from(s.len()).unwrap_or(i64::MAX))),
        Err(e) => e.into(),
    }
}

fn range(
    x: &mut Exec<'_>,
    key: &[u8],
    start: StreamId,
    end: StreamId,
    count: Option<u64>,
    rev: bool,
) -> Reply {
    match read_stream(x, key) {
        Err(e) => e.into(),
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(_)) if count == Some(0) => Reply::NilArray,
        Ok(Some(s)) => Reply::Array(range_replies(s, start, end, count.unwrap_or(0), rev)),
    }
}

// ---- XDEL, XTRIM ----

fn del(x: &mut Exec<'_>, key: &[u8], ids: &Result<Vec<StreamId>, OpError>) -> Reply {
    let now = x.now_ms;
    let touch = x.touch_secs();
    let done = x.db().update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        let s = stream_mut(e)?;
        let ids = ids.as_ref().map_err(Clone::clone)?;
        Ok::<u64, OpError>(s.delete(ids))
    });
    match done {
        None => Reply::Int(0),
        Some(Err(e)) => e.into(),
        Some(Ok(n)) => {
            if n > 0 {
                x.notify(class::STREAM, "xdel", key);
            }
            Reply::Int(n as i64)
        }
    }
}

fn xtrim(x: &mut Exec<'_>, key: &[u8], t: &TrimSpec) -> Reply {
    let limits = node_limits(x);
    let now = x.now_ms;
    let touch = x.touch_secs();
    let done = x.db().update(key, now, |e| {
        if let Some(tc) = touch {
            e.touch(tc);
        }
        Ok::<u64, OpError>(trim(stream_mut(e)?, t, limits))
    });
    match done {
        None => Reply::Int(0),
        Some(Err(e)) => e.into(),
        Some(Ok(n)) => {
            if n > 0 {
                x.notify(class::STREAM, "xtrim", key);
            }
            Reply::Int(n as i64)
        }
    }
}

// ---- XSETID ----

fn setid(
    x: &mut Exec<'_>,
    key: &[u8],
    id: StreamId,
    entries_added: Option<u64>,
    max_deleted: Option<StreamId>,
) -> Reply {
    let now = x.now_ms;
    let touch = x.touch_secs();
    let done = x.db().update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        let s = stream_mut(e)?;
        if id < s.max_deleted_id() {
            return Err(err(
                "The ID specified in XSETID is smaller than current max_deleted_entry_id",
            ));
        }
        if !s.is_empty() {
            if s.last_entry_id().is_some_and(|top| id < top) {
                return Err(err(
                    "The ID specified in XSETID is smaller than the target stream top item",
                ));
            }
            if entries_added.is_some_and(|n| s.len() > n) {
                return Err(err(
                    "The entries_added specified in XSETID is smaller than the target stream length",
                ));
            }
        }
        s.set_meta(id, entries_added, max_deleted.filter(|m| !m.is_zero()));
        Ok(())
    });
    match done {
        None => OpError::NoSuchKey.into(),
        Some(Err(e)) => e.into(),
        Some(Ok(())) => {
            x.notify(class::STREAM, "xsetid", key);
            Reply::Ok
        }
    }
}

#[cfg(test)]
mod tests;
