//! ZPOPMIN/ZPOPMAX, their blocking forms, ZMPOP/BZMPOP, ZRANDMEMBER and ZSCAN.
//!
//! Invariants: a pop takes the first key (in argument order) that holds a sorted set, after
//! checking the type of every key before it, as `genericZpopCommand` does; random picks come
//! from the shard's seeded generator only.

use bytes::Bytes;

use super::{Exec, drop_if_empty, exists_for_write, format_score, member_reply, mutate, read};
use crate::cmd::next_rand;
use crate::ir::ops::zset::PopShape;
use crate::ir::{OpError, Reply};
use crate::keyspace::entry::LargeValue;
use crate::keyspace::glob::glob_match;
use crate::notify::class;
use crate::types::ZSetValue;

pub(super) fn zpop(
    x: &mut Exec<'_>,
    keys: &[Bytes],
    max: bool,
    count: usize,
    shape: PopShape,
) -> Result<Reply, OpError> {
    if count == 0 && shape == PopShape::Count {
        return Ok(Reply::Array(Vec::new()));
    }
    let mut found = None;
    for key in keys {
        if exists_for_write(x, key)? {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        return Ok(match shape {
            PopShape::One | PopShape::Count => Reply::Array(Vec::new()),
            PopShape::Blocking | PopShape::Multi => Reply::NilArray,
        });
    };
    let (popped, empty) = mutate(x, key, |z| {
        let n = count.min(z.len());
        let mut out: Vec<(Vec<u8>, f64)> = Vec::with_capacity(n);
        let (lo, hi) = if max { (z.len() - n, z.len()) } else { (0, n) };
        z.visit(lo, hi, max, |m, s| {
            out.push((m.to_vec(), s));
            true
        });
        for (m, _) in &out {
            z.remove(m);
        }
        out
    })
    .unwrap_or_default();
    if !popped.is_empty() {
        x.notify(class::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    }
    drop_if_empty(x, key, empty);
    let key_reply = Reply::Bulk(key.clone());
    Ok(match shape {
        PopShape::One => Reply::Array(
            popped
                .iter()
                .flat_map(|(m, s)| [member_reply(m), Reply::Double(*s)])
                .collect(),
        ),
        PopShape::Count => Reply::Pairs(
            popped
                .iter()
                .map(|(m, s)| (member_reply(m), Reply::Double(*s)))
                .collect(),
        ),
        PopShape::Blocking => {
            let mut items = vec![key_reply];
            for (m, s) in &popped {
                items.push(member_reply(m));
                items.push(Reply::Double(*s));
            }
            Reply::Array(items)
        }
        PopShape::Multi => Reply::Array(vec![
            key_reply,
            Reply::Array(
                popped
                    .iter()
                    .map(|(m, s)| Reply::Array(vec![member_reply(m), Reply::Double(*s)]))
                    .collect(),
            ),
        ]),
    })
}

/// The stored set at `key` without touching stats (after a counted `read`).
fn peek<'a>(
    dbs: &'a [crate::keyspace::Db],
    db: usize,
    key: &[u8],
    now: u64,
) -> Option<&'a ZSetValue> {
    match dbs.get(db)?.peek(key, now)?.value() {
        Some(LargeValue::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// Most members ZRANDMEMBER with a negative count may produce.
const MAX_RANDOM_PICKS: usize = 1 << 27;

pub(super) fn zrandmember(
    x: &mut Exec<'_>,
    key: &[u8],
    count: Option<i64>,
    with_scores: bool,
) -> Result<Reply, OpError> {
    let len = match read(x, key)? {
        Some(z) => z.len(),
        None => {
            return Ok(if count.is_some() {
                Reply::Array(Vec::new())
            } else {
                Reply::Nil
            });
        }
    };
    let now = x.now_ms;
    let Some(z) = peek(x.dbs, x.db, key, now) else {
        return Ok(Reply::Nil);
    };
    let rng = &mut *x.rng;
    let mut pick = || (next_rand(rng) % len as u64) as usize;
    let Some(count) = count else {
        return Ok(z.nth(pick()).map_or(Reply::Nil, |(m, _)| member_reply(m)));
    };
    let ranks: Vec<usize> = if count < 0 {
        let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        // Redis would try to stream billions of replies; refuse before allocating them.
        if n > MAX_RANDOM_PICKS {
            return Err(OpError::Other("ERR value is out of range".into()));
        }
        (0..n).map(|_| pick()).collect()
    } else {
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        if n >= len {
            (0..len).collect()
        } else {
            // Partial Fisher-Yates over the ranks: n distinct picks.
            let mut all: Vec<usize> = (0..len).collect();
            for i in 0..n {
                let j = i + pick() % (len - i);
                all.swap(i, j);
            }
            all.truncate(n);
            all
        }
    };
    let entries = ranks.into_iter().filter_map(|r| z.nth(r));
    Ok(if with_scores {
        Reply::Pairs(
            entries
                .map(|(m, s)| (member_reply(m), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(entries.map(|(m, _)| member_reply(m)).collect())
    })
}

pub(super) fn zscan(
    x: &mut Exec<'_>,
    key: &[u8],
    cursor: u64,
    pattern: Option<&[u8]>,
    count: usize,
) -> Result<Reply, OpError> {
    let Some(z) = read(x, key)? else {
        return Ok(Reply::Array(vec![
            Reply::Bulk(Bytes::from_static(b"0")),
            Reply::Array(Vec::new()),
        ]));
    };
    let mut items = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m)) {
            items.push(member_reply(m));
            items.push(Reply::Bulk(format_score(s)));
        }
    });
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(items),
    ]))
}
