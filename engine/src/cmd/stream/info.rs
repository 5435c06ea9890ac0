//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, with Redis 7.2's fields in
//! Redis's order (maps in RESP3, flat arrays in RESP2 through the encoder).
//!
//! Moon keeps no radix tree: `radix-tree-keys` is the node count and `radix-tree-nodes` an
//! estimate (keys + 1), the only fields that differ from Redis by construction.

use bytes::Bytes;

use super::groups::no_group_for_key;
use super::{Exec, entry_reply, id_reply, range_replies, read_stream};
use crate::ir::{OpError, Reply};
use crate::types::stream::{ConsumerGroup, INVALID_ENTRIES_READ, StreamId, StreamValue};

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::Bulk(Bytes::from_static(name.as_bytes())), value)
}

fn int(n: u64) -> Reply {
    Reply::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn lookup<'a>(x: &'a mut Exec<'_>, key: &[u8]) -> Result<&'a StreamValue, OpError> {
    read_stream(x, key)?.ok_or(OpError::NoSuchKey)
}

fn entries_read(cg: &ConsumerGroup) -> Reply {
    if cg.entries_read == INVALID_ENTRIES_READ {
        Reply::Nil
    } else {
        Reply::Int(cg.entries_read)
    }
}

fn lag(s: &StreamValue, cg: &ConsumerGroup) -> Reply {
    s.group_lag(cg).map_or(Reply::Nil, Reply::Int)
}

pub(super) fn stream(x: &mut Exec<'_>, key: &[u8], full: &Result<Option<u64>, OpError>) -> Reply {
    let s = match lookup(x, key) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let full = match full {
        Ok(f) => *f,
        Err(e) => return e.clone().into(),
    };
    let keys = s.node_count() as u64;
    let mut map = vec![
        field("length", int(s.len())),
        field("radix-tree-keys", int(keys)),
        field("radix-tree-nodes", int(keys + 1)),
        field("last-generated-id", id_reply(s.last_id())),
        field("max-deleted-entry-id", id_reply(s.max_deleted_id())),
        field("entries-added", int(s.entries_added())),
        field("recorded-first-entry-id", id_reply(s.first_id())),
    ];
    match full {
        None => {
            map.push(field("groups", int(s.group_count() as u64)));
            let edge = |rev: bool| {
                let mut out = Reply::Nil;
                s.range(StreamId::MIN, StreamId::MAX, rev, |e| {
                    out = entry_reply(e);
                    false
                });
                out
            };
            map.push(field("first-entry", edge(false)));
            map.push(field("last-entry", edge(true)));
        }
        Some(count) => {
            let entries = range_replies(s, StreamId::MIN, StreamId::MAX, count, false);
            map.push(field("entries", Reply::Array(entries)));
            let groups = s.groups().map(|(name, cg)| full_group(s, name, cg, count));
            map.push(field("groups", Reply::Array(groups.collect())));
        }
    }
    Reply::Map(map)
}

fn limit(count: u64) -> usize {
    if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    }
}

fn full_group(s: &StreamValue, name: &Bytes, cg: &ConsumerGroup, count: u64) -> Reply {
    let pending = cg
        .pel
        .iter()
        .take(limit(count))
        .map(|(id, p)| {
            Reply::Array(vec![
                id_reply(*id),
                Reply::Bulk(p.consumer.clone()),
                int(p.delivery_time),
                int(p.delivery_count),
            ])
        })
        .collect();
    let consumers = cg
        .consumers
        .iter()
        .map(|(cname, c)| {
            let pel = c
                .pel
                .iter()
                .take(limit(count))
                .filter_map(|id| {
                    let p = cg.pel.get(id)?;
                    Some(Reply::Array(vec![
                        id_reply(*id),
                        int(p.delivery_time),
                        int(p.delivery_count),
                    ]))
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::Bulk(cname.clone())),
                field("seen-time", int(c.seen_time)),
                field("active-time", c.active_time.map_or(Reply::Int(-1), int)),
                field("pel-count", int(c.pel.len() as u64)),
                field("pending", Reply::Array(pel)),
            ])
        })
        .collect();
    Reply::Map(vec![
        field("name", Reply::Bulk(name.clone())),
        field("last-delivered-id", id_reply(cg.last_id)),
        field("entries-read", entries_read(cg)),
        field("lag", lag(s, cg)),
        field("pel-count", int(cg.pel.len() as u64)),
        field("pending", Reply::Array(pending)),
        field("consumers", Reply::Array(consumers)),
    ])
}

pub(super) fn groups(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    let s = match lookup(x, key) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let groups = s
        .groups()
        .map(|(name, cg)| {
            Reply::Map(vec![
                field("name", Reply::Bulk(name.clone())),
                field("consumers", int(cg.consumers.len() as u64)),
                field("pending", int(cg.pel.len() as u64)),
                field("last-delivered-id", id_reply(cg.last_id)),
                field("entries-read", entries_read(cg)),
                field("lag", lag(s, cg)),
            ])
        })
        .collect();
    Reply::Array(groups)
}

pub(super) fn consumers(x: &mut Exec<'_>, key: &[u8], group: &[u8]) -> Reply {
    let now = x.now_ms as i64;
    let s = match lookup(x, key) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let Some(cg) = s.group(group) else {
        return no_group_for_key(key, group).into();
    };
    let consumers = cg
        .consumers
        .iter()
        .map(|(name, c)| {
            let idle = now.saturating_sub(c.seen_time as i64).max(0);
            let inactive = c.active_time.map_or(-1, |t| now.saturating_sub(t as i64));
            Reply::Map(vec![
                field("name", Reply::Bulk(name.clone())),
                field("pending", int(c.pel.len() as u64)),
                field("idle", Reply::Int(idle)),
                field("inactive", Reply::Int(inactive)),
            ])
        })
        .collect();
    Reply::Array(consumers)
}
