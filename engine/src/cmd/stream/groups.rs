//! Consumer-group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER),
//! XACK, XPENDING, XCLAIM, XAUTOCLAIM — Redis's checks in Redis's order (key, type, group,
//! then the arguments Redis parses late), and its PEL bookkeeping.
//!
//! Invariant: a group is changed only while taken out of its stream (`take_group`) or through
//! `group_mut`, inside `Db::update`, and the group/consumer PELs stay in step (see
//! `ConsumerGroup`).

use bytes::Bytes;

use super::{Exec, entry_reply, err, id_reply, read_stream, show, stream_mut};
use crate::ir::ops::stream::{ClaimArgs, Delivery, GroupStart, PendingRange};
use crate::ir::{OpError, Reply};
use crate::keyspace::Entry;
use crate::keyspace::entry::LargeValue;
use crate::notify::class;
use crate::types::stream::{ConsumerGroup, PendingEntry, StreamId, StreamValue};

fn key_must_exist() -> OpError {
    err(
        "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
    )
}

/// `NOGROUP No such consumer group '<g>' for key name '<k>'` (XGROUP, XINFO).
pub(super) fn no_group_for_key(key: &[u8], group: &[u8]) -> OpError {
    OpError::Other(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        show(group),
        show(key)
    ))
}

/// `NOGROUP No such key '<k>' or consumer group '<g>'` (XPENDING, XCLAIM, XAUTOCLAIM).
fn no_key_or_group(key: &[u8], group: &[u8]) -> OpError {
    OpError::Other(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        show(key),
        show(group)
    ))
}

/// Runs `f` on the stream at `key` (touched as a write lookup); `None` if the key is absent.
fn with_stream<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(&mut StreamValue) -> Result<R, OpError>,
) -> Option<Result<R, OpError>> {
    let now = x.now_ms;
    let touch = x.touch_secs();
    x.db().update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        f(stream_mut(e)?)
    })
}

// ---- XGROUP ----

pub(super) fn create(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    start: &GroupStart,
    mkstream: bool,
    entries_read: i64,
    late_err: Option<&OpError>,
) -> Reply {
    let resolve = |s: Option<&StreamValue>| -> Result<StreamId, OpError> {
        if let Some(e) = late_err {
            return Err(e.clone());
        }
        match start {
            GroupStart::Last => Ok(s.map_or(StreamId::MIN, StreamValue::last_id)),
            GroupStart::Id(id) => id.clone(),
        }
    };
    let done = with_stream(x, key, |s| {
        let id = resolve(Some(s))?;
        if s.create_group(group, id, entries_read) {
            Ok(())
        } else {
            Err(OpError::Other(
                "BUSYGROUP Consumer Group name already exists".into(),
            ))
        }
    });
    match done {
        Some(Err(e)) => return e.into(),
        Some(Ok(())) => {}
        None if !mkstream => return key_must_exist().into(),
        None => {
            let id = match resolve(None) {
                Ok(id) => id,
                Err(e) => return e.into(),
            };
            let mut s = StreamValue::new();
            s.create_group(group, id, entries_read);
            let entry = Entry::new_value(key, LargeValue::Stream(Box::new(s)), None, x.now_secs);
            x.db().insert(entry);
        }
    }
    x.notify(class::STREAM, "xgroup-create", key);
    Reply::Ok
}

pub(super) fn setid(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    start: &GroupStart,
    entries_read: i64,
    late_err: Option<&OpError>,
) -> Reply {
    let done = with_stream(x, key, |s| {
        let last = s.last_id();
        let cg = s
            .group_mut(group)
            .ok_or_else(|| no_group_for_key(key, group))?;
        if let Some(e) = late_err {
            return Err(e.clone());
        }
        cg.last_id = match start {
            GroupStart::Last => last,
            GroupStart::Id(id) => id.clone()?,
        };
        cg.entries_read = entries_read;
        Ok(())
    });
    match done {
        None => key_must_exist().into(),
        Some(Err(e)) => e.into(),
        Some(Ok(())) => {
            x.notify(class::STREAM, "xgroup-setid", key);
            Reply::Ok
        }
    }
}

pub(super) fn destroy(x: &mut Exec<'_>, key: &Bytes, group: &Bytes) -> Reply {
    match with_stream(x, key, |s| Ok(s.destroy_group(group))) {
        None => key_must_exist().into(),
        Some(Err(e)) => e.into(),
        Some(Ok(false)) => Reply::Int(0),
        Some(Ok(true)) => {
            x.notify(class::STREAM, "xgroup-destroy", key);
            Reply::Int(1)
        }
    }
}

pub(super) fn create_consumer(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    consumer: &Bytes,
) -> Reply {
    let now = x.now_ms;
    let done = with_stream(x, key, |s| {
        let cg = s
            .group_mut(group)
            .ok_or_else(|| no_group_for_key(key, group))?;
        Ok(cg.create_consumer(consumer, now))
    });
    match done {
        None => key_must_exist().into(),
        Some(Err(e)) => e.into(),
        Some(Ok(created)) => {
            if created {
                x.notify(class::STREAM, "xgroup-createconsumer", key);
            }
            Reply::Int(i64::from(created))
        }
    }
}

pub(super) fn del_consumer(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    consumer: &Bytes,
) -> Reply {
    let done = with_stream(x, key, |s| {
        let cg = s
            .group_mut(group)
            .ok_or_else(|| no_group_for_key(key, group))?;
        Ok(cg.delete_consumer(consumer))
    });
    match done {
        None => key_must_exist().into(),
        Some(Err(e)) => e.into(),
        Some(Ok(None)) => Reply::Int(0),
        Some(Ok(Some(pending))) => {
            x.notify(class::STREAM, "xgroup-delconsumer", key);
            Reply::Int(pending as i64)
        }
    }
}

// ---- XACK ----

pub(super) fn ack(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    ids: &Result<Vec<StreamId>, OpError>,
) -> Reply {
    match read_stream(x, key) {
        Err(e) => return e.into(),
        Ok(None) => return Reply::Int(0),
        Ok(Some(s)) if s.group(group).is_none() => return Reply::Int(0),
        Ok(Some(_)) => {}
    }
    let ids = match ids {
        Ok(ids) => ids,
        Err(e) => return e.clone().into(),
    };
    let done = with_stream(x, key, |s| {
        let cg = s.group_mut(group).ok_or(OpError::NoSuchKey)?;
        Ok(ids.iter().filter(|id| cg.ack(**id)).count())
    });
    match done {
        Some(Ok(n)) => Reply::Int(n as i64),
        Some(Err(e)) => e.into(),
        None => Reply::Int(0),
    }
}

// ---- XPENDING ----

pub(super) fn pending(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    range: Option<&PendingRange>,
) -> Reply {
    let now = x.now_ms;
    let s = match read_stream(x, key) {
        Err(e) => return e.into(),
        Ok(s) => s,
    };
    let Some(cg) = s.and_then(|s| s.group(group)) else {
        return no_key_or_group(key, group).into();
    };
    match range {
        None => pending_summary(cg),
        Some(r) => pending_range(cg, r, now),
    }
}

fn pending_summary(cg: &ConsumerGroup) -> Reply {
    let (Some((first, _)), Some((last, _))) = (cg.pel.first_key_value(), cg.pel.last_key_value())
    else {
        return Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]);
    };
    let consumers = cg
        .consumers
        .iter()
        .filter(|(_, c)| !c.pel.is_empty())
        .map(|(name, c)| {
            Reply::Array(vec![
                Reply::Bulk(name.clone()),
                Reply::Bulk(Bytes::from(c.pel.len().to_string())),
            ])
        })
        .collect();
    Reply::Array(vec![
        Reply::Int(cg.pel.len() as i64),
        id_reply(*first),
        id_reply(*last),
        Reply::Array(consumers),
    ])
}

fn idle_ms(now: u64, since: u64) -> i64 {
    (now as i64).saturating_sub(since as i64)
}

fn pending_range(cg: &ConsumerGroup, r: &PendingRange, now: u64) -> Reply {
    let ids: Box<dyn Iterator<Item = StreamId> + '_> = match &r.consumer {
        Some(name) => match cg.consumers.get(name) {
            Some(c) => Box::new(c.pel.range(r.start..).copied()),
            None => return Reply::Array(Vec::new()),
        },
        None => Box::new(cg.pel.range(r.start..).map(|(id, _)| *id)),
    };
    let mut out = Vec::new();
    let mut left = r.count;
    for id in ids {
        if left == 0 || id > r.end {
            break;
        }
        let Some(p) = cg.pel.get(&id) else { continue };
        if r.min_idle != 0 && idle_ms(now, p.delivery_time) < r.min_idle {
            continue;
        }
        left -= 1;
        out.push(Reply::Array(vec![
            id_reply(id),
            Reply::Bulk(p.consumer.clone()),
            Reply::Int(idle_ms(now, p.delivery_time).max(0)),
            Reply::Int(p.delivery_count as i64),
        ]));
    }
    Reply::Array(out)
}

// ---- XCLAIM / XAUTOCLAIM ----

/// Looks up the group for XCLAIM/XAUTOCLAIM (a read lookup, as Redis does).
fn claim_target(x: &mut Exec<'_>, key: &[u8], group: &[u8]) -> Result<(), OpError> {
    match read_stream(x, key)? {
        Some(s) if s.group(group).is_some() => Ok(()),
        _ => Err(no_key_or_group(key, group)),
    }
}

/// Runs `f` with group `group` of the stream at `key` taken out; notifies a created consumer.
fn with_group<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    group: &[u8],
    consumer: &Bytes,
    f: impl FnOnce(&StreamValue, &mut ConsumerGroup, u64) -> R,
) -> Option<R> {
    let now = x.now_ms;
    let (created, r) = with_stream(x, key, |s| {
        let (name, mut cg) = s.take_group(group).ok_or(OpError::NoSuchKey)?;
        let created = cg.create_consumer(consumer, now);
        if let Some(c) = cg.consumers.get_mut(consumer) {
            c.seen_time = now;
        }
        let r = f(s, &mut cg, now);
        debug_assert!(cg.check());
        s.put_group(name, cg);
        Ok((created, r))
    })?
    .ok()?;
    if created {
        x.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    Some(r)
}

/// Removes `id` from the group PEL and its owner's.
fn drop_pending(cg: &mut ConsumerGroup, id: StreamId) {
    cg.ack(id);
}

/// Moves pending entry `id` to `consumer` (creating it, owner-less, when `force`).
fn take_over<'a>(
    cg: &'a mut ConsumerGroup,
    id: StreamId,
    consumer: &Bytes,
) -> &'a mut PendingEntry {
    let previous = cg.pel.get(&id).map(|p| p.consumer.clone());
    if let Some(prev) = previous
        && prev != *consumer
        && let Some(c) = cg.consumers.get_mut(&prev)
    {
        c.pel.remove(&id);
    }
    if let Some(c) = cg.consumers.get_mut(consumer) {
        c.pel.insert(id);
    }
    let p = cg.pel.entry(id).or_insert_with(|| PendingEntry {
        consumer: consumer.clone(),
        delivery_time: 0,
        delivery_count: 1,
    });
    p.consumer = consumer.clone();
    p
}

pub(super) fn claim(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    consumer: &Bytes,
    args: &Result<ClaimArgs, OpError>,
) -> Reply {
    if let Err(e) = claim_target(x, key, group) {
        return e.into();
    }
    let a = match args {
        Ok(a) => a,
        Err(e) => return e.clone().into(),
    };
    let out = with_group(x, key, group, consumer, |s, cg, now| {
        if let Some(last) = a.last_id
            && last > cg.last_id
        {
            cg.last_id = last;
        }
        let now_i = now as i64;
        let delivery = match a.delivery {
            Some(Delivery::Idle(ms)) => now_i.saturating_sub(ms),
            Some(Delivery::Time(t)) => t,
            None => now_i,
        };
        let delivery = if delivery < 0 || delivery > now_i {
            now
        } else {
            delivery as u64
        };
        let min_idle = a.min_idle.max(0);
        let mut replies = Vec::new();
        for &id in &a.ids {
            let existing = cg.pel.get(&id).map(|p| p.delivery_time);
            let mut entry = None;
            if !s.with_entry(id, |e| entry = Some(entry_reply(e))) {
                if existing.is_some() {
                    drop_pending(cg, id);
                }
                continue;
            }
            if existing.is_none() && !a.force {
                continue;
            }
            if let Some(t) = existing
                && min_idle != 0
                && idle_ms(now, t) < min_idle
            {
                continue;
            }
            let p = take_over(cg, id, consumer);
            p.delivery_time = delivery;
            match a.retry_count.filter(|n| *n >= 0) {
                Some(n) => p.delivery_count = n as u64,
                None if !a.justid => p.delivery_count += 1,
                None => {}
            }
            replies.push(if a.justid {
                id_reply(id)
            } else {
                entry.unwrap_or(Reply::NilArray)
            });
            if let Some(c) = cg.consumers.get_mut(consumer) {
                c.active_time = Some(now);
            }
        }
        replies
    });
    Reply::Array(out.unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn autoclaim(
    x: &mut Exec<'_>,
    key: &Bytes,
    group: &Bytes,
    consumer: &Bytes,
    min_idle: i64,
    start: StreamId,
    count: u64,
    justid: bool,
) -> Reply {
    if let Err(e) = claim_target(x, key, group) {
        return e.into();
    }
    let out = with_group(x, key, group, consumer, |s, cg, now| {
        let min_idle = min_idle.max(0);
        let mut attempts = count.saturating_mul(10);
        let mut left = count;
        let mut cursor = Some(start);
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        while attempts > 0 && left > 0 {
            attempts -= 1;
            let Some(from) = cursor else { break };
            let Some((&id, p)) = cg.pel.range(from..).next() else {
                cursor = None;
                break;
            };
            let delivered = p.delivery_time;
            cursor = id.next();
            let mut entry = None;
            if !s.with_entry(id, |e| entry = Some(entry_reply(e))) {
                drop_pending(cg, id);
                deleted.push(id_reply(id));
                left -= 1;
                continue;
            }
            if min_idle != 0 && idle_ms(now, delivered) < min_idle {
                continue;
            }
            let p = take_over(cg, id, consumer);
            p.delivery_time = now;
            if !justid {
                p.delivery_count += 1;
            }
            claimed.push(if justid {
                id_reply(id)
            } else {
                entry.unwrap_or(Reply::NilArray)
            });
            left -= 1;
            if let Some(c) = cg.consumers.get_mut(consumer) {
                c.active_time = Some(now);
            }
        }
        let next = cursor
            .and_then(|from| cg.pel.range(from..).next().map(|(id, _)| *id))
            .unwrap_or(StreamId::MIN);
        Reply::Array(vec![
            id_reply(next),
            Reply::Array(claimed),
            Reply::Array(deleted),
        ])
    });
    out.unwrap_or_else(|| no_key_or_group(key, group).into())
}
