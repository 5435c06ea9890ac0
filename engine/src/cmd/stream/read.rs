//! XREAD and XREADGROUP (`xreadCommand`): a validation pass over every stream in argument
//! order (type, group, ID — so errors come out in Redis's order), then a serving pass.
//!
//! XREADGROUP with `>` delivers entries after the group's last-delivered ID, advancing it and
//! the group's logical read counter exactly as `streamReplyWithRange` does, and records each
//! delivery in the PEL unless NOACK; with an explicit ID it replays this consumer's own PEL
//! (entries deleted since answer `[id, nil]`). Nothing to serve answers a null array, which is
//! also what a blocking read answers before the server parks it.

use bytes::Bytes;

use super::{Exec, entry_reply, id_reply, range_replies, read_stream, show, stream_mut};
use crate::ir::ops::stream::{ReadGroup, ReadId};
use crate::ir::{OpError, Reply};
use crate::notify::class;
use crate::types::stream::{ConsumerGroup, INVALID_ENTRIES_READ, StreamId, StreamValue};

pub(super) fn read(
    x: &mut Exec<'_>,
    keys: &[Bytes],
    ids: &[ReadId],
    count: u64,
    group: Option<&ReadGroup>,
) -> Reply {
    debug_assert_eq!(keys.len(), ids.len());
    // Validation pass: resolve each stream's starting point.
    let mut starts = Vec::with_capacity(keys.len());
    for (key, id) in keys.iter().zip(ids) {
        let s = match read_stream(x, key) {
            Ok(s) => s,
            Err(e) => return e.into(),
        };
        if let Some(g) = group
            && s.and_then(|s| s.group(&g.group)).is_none()
        {
            return OpError::Other(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                show(key),
                show(&g.group)
            ))
            .into();
        }
        let start = match id {
            ReadId::Invalid(e) => return e.clone().into(),
            ReadId::Last => s.map_or(StreamId::MIN, StreamValue::last_id),
            ReadId::LastEntry => s
                .and_then(StreamValue::last_entry_id)
                .and_then(StreamId::prev)
                .unwrap_or(StreamId::MIN),
            ReadId::New => StreamId::MAX,
            ReadId::After(id) => *id,
        };
        starts.push(start);
    }
    // Serving pass.
    let mut served: Vec<(Reply, Reply)> = Vec::new();
    for (key, gt) in keys.iter().zip(starts) {
        let entries = match group {
            None => serve_plain(x, key, gt, count),
            Some(g) => serve_group(x, key, g, gt, count),
        };
        if let Some(entries) = entries {
            served.push((Reply::Bulk(key.clone()), Reply::Array(entries)));
        }
    }
    if served.is_empty() {
        Reply::NilArray
    } else {
        Reply::MapArrays(served)
    }
}

/// XREAD on one stream: entries after `gt`, if the stream has any.
fn serve_plain(x: &mut Exec<'_>, key: &[u8], gt: StreamId, count: u64) -> Option<Vec<Reply>> {
    let s = read_stream(x, key).ok()??;
    let last = s.last_entry_id()?;
    if last <= gt {
        return None;
    }
    let start = gt.next()?;
    Some(range_replies(s, start, StreamId::MAX, count, false))
}

/// XREADGROUP on one stream.
fn serve_group(
    x: &mut Exec<'_>,
    key: &[u8],
    g: &ReadGroup,
    gt: StreamId,
    count: u64,
) -> Option<Vec<Reply>> {
    // Redis looks the key up again here (counted as a read).
    let _ = read_stream(x, key);
    let now = x.now_ms;
    let (created, entries) = x
        .db()
        .update(key, now, |e| {
            let s = stream_mut(e).ok()?;
            let (name, mut cg) = s.take_group(&g.group)?;
            let result = serve_group_on(s, &mut cg, g, gt, count, now);
            s.put_group(name, cg);
            Some(result)
        })
        .flatten()?;
    if created {
        x.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    entries
}

/// The group logic on a stream whose group `cg` was taken out (so the stream stays readable
/// while the group changes). Returns (consumer created, served entries).
fn serve_group_on(
    s: &StreamValue,
    cg: &mut ConsumerGroup,
    g: &ReadGroup,
    mut gt: StreamId,
    count: u64,
    now: u64,
) -> (bool, Option<Vec<Reply>>) {
    let mut serve = false;
    let mut history = false;
    if gt != StreamId::MAX {
        serve = true;
        history = true;
    } else if s.last_entry_id().is_some_and(|last| last > cg.last_id) {
        serve = true;
        gt = cg.last_id;
    }
    let created = cg.create_consumer(&g.consumer, now);
    if let Some(c) = cg.consumers.get_mut(&g.consumer) {
        c.seen_time = now;
    }
    if !serve {
        return (created, None);
    }
    let Some(start) = gt.next() else {
        return (created, Some(Vec::new()));
    };
    let entries = if history {
        history_replies(s, cg, &g.consumer, start, count, now)
    } else {
        new_replies(s, cg, g, start, count, now)
    };
    (created, Some(entries))
}

/// This consumer's pending entries from `start`.
fn history_replies(
    s: &StreamValue,
    cg: &mut ConsumerGroup,
    consumer: &Bytes,
    start: StreamId,
    count: u64,
    now: u64,
) -> Vec<Reply> {
    let ids: Vec<StreamId> = match cg.consumers.get(consumer) {
        Some(c) => c
            .pel
            .range(start..)
            .take(if count == 0 {
                usize::MAX
            } else {
                usize::try_from(count).unwrap_or(usize::MAX)
            })
            .copied()
            .collect(),
        None => Vec::new(),
    };
    ids.into_iter()
        .map(|id| {
            let mut reply = None;
            s.with_entry(id, |e| reply = Some(entry_reply(e)));
            match reply {
                Some(r) => {
                    if let Some(p) = cg.pel.get_mut(&id) {
                        p.delivery_time = now;
                        p.delivery_count += 1;
                    }
                    r
                }
                None => Reply::Array(vec![id_reply(id), Reply::NilArray]),
            }
        })
        .collect()
}

/// New entries from `start`, advancing the group and filling the PEL.
fn new_replies(
    s: &StreamValue,
    cg: &mut ConsumerGroup,
    g: &ReadGroup,
    start: StreamId,
    count: u64,
    now: u64,
) -> Vec<Reply> {
    let mut out = Vec::new();
    s.range(start, StreamId::MAX, false, |e| {
        let id = e.id;
        if id > cg.last_id {
            if cg.entries_read != INVALID_ENTRIES_READ
                && cg.last_id >= s.first_id()
                && !s.range_has_tombstones(cg.last_id, StreamId::MAX)
            {
                cg.entries_read += 1;
            } else if s.entries_added() > 0 {
                cg.entries_read = s.estimate_distance(id);
            }
            cg.last_id = id;
        }
        out.push(entry_reply(e));
        if !g.noack {
            let p = cg.assign(id, &g.consumer, now);
            p.delivery_time = now;
            p.delivery_count = 1;
            if let Some(c) = cg.consumers.get_mut(&g.consumer) {
                c.active_time = Some(now);
            }
        }
        count == 0 || (out.len() as u64) < count
    });
    out
}
