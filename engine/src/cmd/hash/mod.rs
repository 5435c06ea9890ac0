//! Execution of hashes, including per-field TTL: HSET/HMSET, HSETNX, HGET, HMGET, HDEL, HLEN,
//! HSTRLEN, HEXISTS, HKEYS/HVALS/HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN (here), and
//! the field-expiry commands HEXPIRE family, HTTL family, HPERSIST, HGETDEL, HGETEX, HSETEX
//! (`ttl.rs`).
//!
//! Every command reaches the hash through [`with_hash`] (reads) or [`with_hash_mut`] (writes),
//! which first reclaim the hash's expired fields (lazy field expiry: an expired field is never
//! visible), record `hexpired`, and delete the key when its last field went. A write that
//! leaves the hash empty deletes the key too (Redis never keeps an empty hash); the caller
//! records its own event and then `del` ([`Done::emptied`]).

mod ttl;

use bytes::Bytes;

use super::numeric::{format_float, parse_float};
use super::{Exec, next_rand};
use crate::ir::ops::HashOp;
use crate::ir::ops::hash::HashPart;
use crate::ir::{OpError, Reply};
use crate::keyspace::entry::parse_canonical_i64;
use crate::keyspace::glob::glob_match;
use crate::keyspace::{Entry, LargeValue};
use crate::notify::class;
use crate::types::hash::HashLimits;
use crate::types::{HashRef, HashValue};

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &HashOp) -> Reply {
    use HashOp::*;
    let r = match op {
        HSet { key, pairs, legacy } => hset(x, key, pairs, *legacy),
        HSetNx { key, field, value } => hsetnx(x, key, field, value),
        HGet { key, field } => hget(x, key, field),
        HMGet { key, fields } => hmget(x, key, fields),
        HDel { key, fields } => hdel(x, key, fields),
        HLen { key } => with_hash(x, key, |h| h.len()).map(|n| Reply::Int(n.unwrap_or(0) as i64)),
        HStrLen { key, field } => with_hash(x, key, |h| h.get(field).map_or(0, |r| r.value.len()))
            .map(|n| Reply::Int(n.unwrap_or(0) as i64)),
        HExists { key, field } => with_hash(x, key, |h| h.contains(field))
            .map(|b| Reply::Int(i64::from(b.unwrap_or(false)))),
        HGetAll { key, part } => hgetall(x, key, *part),
        HIncrBy { key, field, delta } => hincrby(x, key, field, *delta),
        HIncrByFloat { key, field, delta } => hincrbyfloat(x, key, field, *delta),
        HRandField {
            key,
            count,
            with_values,
        } => hrandfield(x, key, *count, *with_values),
        HScan {
            key,
            cursor,
            pattern,
            count,
            no_values,
        } => hscan(x, key, *cursor, pattern.as_deref(), *count, *no_values),
        HExpire {
            key,
            at,
            cond,
            fields,
            cmd,
        } => ttl::hexpire(x, key, *at, *cond, fields, cmd),
        HTtl { key, kind, fields } => ttl::httl(x, key, *kind, fields),
        HPersist { key, fields } => ttl::hpersist(x, key, fields),
        HGetDel { key, fields } => ttl::hgetdel(x, key, fields),
        HGetEx {
            key,
            action,
            fields,
        } => ttl::hgetex(x, key, *action, fields),
        HSetEx {
            key,
            cond,
            ttl,
            pairs,
        } => ttl::hsetex(x, key, *cond, *ttl, pairs),
    };
    r.unwrap_or_else(Reply::Err)
}

/// The listpack thresholds currently configured.
fn limits(x: &Exec<'_>) -> HashLimits {
    HashLimits {
        max_entries: x.config.limits.hash_max_listpack_entries,
        max_value: x.config.limits.hash_max_listpack_value,
    }
}

fn as_hash(e: &Entry) -> Result<HashRef<'_>, OpError> {
    e.hash().ok_or(OpError::WrongType)
}

/// Reclaims the expired fields of the hash at `key` and deletes the key if that emptied it.
fn purge(x: &mut Exec<'_>, key: &[u8]) {
    let now = x.now_ms;
    let r = x.db().update(key, now, |e| match e.value_mut() {
        Some(LargeValue::Hash(h)) => (h.purge_expired(now), h.is_empty()),
        _ => (0, false),
    });
    let Some((expired, empty)) = r else { return };
    if expired > 0 {
        x.notify(class::HASH, "hexpired", key);
    }
    if empty {
        x.db().remove(key, now);
        x.notify(class::GENERIC, "del", key);
    }
}

/// Runs `f` on the live hash at `key` (a read: counts a hit or miss and touches the key),
/// after reclaiming its expired fields. `Ok(None)` if there is no such key.
fn with_hash<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(HashRef<'_>) -> R,
) -> Result<Option<R>, OpError> {
    let now = x.now_ms;
    match x.read(key) {
        None => return Ok(None),
        Some(e) => {
            let h = as_hash(e)?;
            if !h.needs_purge(now) {
                return Ok(Some(f(h)));
            }
        }
    }
    purge(x, key);
    match x.db().peek(key, now) {
        None => Ok(None),
        Some(e) => Ok(Some(f(as_hash(e)?))),
    }
}

/// The result of [`with_hash_mut`].
struct Done<R> {
    r: R,
    /// The write left the hash empty and the key was deleted (record `del` after the
    /// command's own event).
    emptied: bool,
}

impl<R> Done<R> {
    fn finish(self, x: &mut Exec<'_>, key: &[u8]) -> R {
        if self.emptied {
            x.notify(class::GENERIC, "del", key);
        }
        self.r
    }
}

/// Runs `f` on the hash at `key` for writing, after reclaiming its expired fields. A missing
/// key (or one emptied by that reclaim) is created empty when `create`, else `Ok(None)`. The
/// key is deleted if `f` leaves the hash empty.
fn with_hash_mut<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    create: bool,
    f: impl FnOnce(&mut HashValue) -> R,
) -> Result<Option<Done<R>>, OpError> {
    let now = x.now_ms;
    let touch = x.touch_secs();
    let mut expired = 0;
    let mut f = Some(f);
    let found = x.db().update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        let Some(LargeValue::Hash(h)) = e.value_mut() else {
            return Err(OpError::WrongType);
        };
        expired = h.purge_expired(now);
        if h.is_empty() && !create {
            return Ok(None);
        }
        Ok(f.take().map(|f| (f(h), h.is_empty())))
    });
    if expired > 0 {
        x.notify(class::HASH, "hexpired", key);
    }
    match found {
        Some(Err(e)) => Err(e),
        Some(Ok(Some((r, emptied)))) => {
            if emptied {
                x.db().remove(key, now);
            }
            Ok(Some(Done { r, emptied }))
        }
        Some(Ok(None)) => {
            // Every field had expired: the key is gone.
            x.db().remove(key, now);
            x.notify(class::GENERIC, "del", key);
            Ok(None)
        }
        None => {
            let Some(f) = f.take().filter(|_| create) else {
                return Ok(None);
            };
            let mut h = HashValue::new();
            let r = f(&mut h);
            let emptied = h.is_empty();
            if !emptied {
                let now_secs = x.now_secs;
                x.db()
                    .insert(Entry::new_value(key, LargeValue::Hash(h), None, now_secs));
            }
            Ok(Some(Done { r, emptied }))
        }
    }
}

/// Sets every pair (HSET, HMSET, HSETEX); returns the number of new fields. The listpack is
/// grown once for the whole batch.
fn set_pairs(h: &mut HashValue, pairs: &[(Bytes, Bytes)], keep_ttl: bool, lim: HashLimits) -> i64 {
    if pairs.len() > 1 {
        let bytes = pairs.iter().map(|(f, v)| f.len() + v.len()).sum();
        h.reserve(pairs.len(), bytes);
    }
    let mut added = 0;
    for (f, v) in pairs {
        added += i64::from(h.set(f, v, keep_ttl, lim));
    }
    if pairs.len() > 1 {
        h.shrink();
    }
    added
}

fn hset(
    x: &mut Exec<'_>,
    key: &[u8],
    pairs: &[(Bytes, Bytes)],
    legacy: bool,
) -> Result<Reply, OpError> {
    let lim = limits(x);
    let done = with_hash_mut(x, key, true, |h| set_pairs(h, pairs, false, lim))?;
    x.notify(class::HASH, "hset", key);
    let added = done.map_or(0, |d| d.finish(x, key));
    Ok(if legacy { Reply::Ok } else { Reply::Int(added) })
}

fn hsetnx(x: &mut Exec<'_>, key: &[u8], field: &[u8], value: &[u8]) -> Result<Reply, OpError> {
    let lim = limits(x);
    let done = with_hash_mut(x, key, true, |h| {
        !h.contains(field) && h.set(field, value, false, lim)
    })?;
    let set = done.is_some_and(|d| d.r);
    if set {
        x.notify(class::HASH, "hset", key);
    }
    Ok(Reply::Int(i64::from(set)))
}

fn hget(x: &mut Exec<'_>, key: &[u8], field: &[u8]) -> Result<Reply, OpError> {
    let v = with_hash(x, key, |h| h.get(field).map(|r| Reply::bulk(r.value)))?;
    Ok(v.flatten().unwrap_or(Reply::Nil))
}

fn hmget(x: &mut Exec<'_>, key: &[u8], fields: &[Bytes]) -> Result<Reply, OpError> {
    let items = with_hash(x, key, |h| {
        fields
            .iter()
            .map(|f| h.get(f).map_or(Reply::Nil, |r| Reply::bulk(r.value)))
            .collect()
    })?;
    Ok(Reply::Array(
        items.unwrap_or_else(|| vec![Reply::Nil; fields.len()]),
    ))
}

fn hdel(x: &mut Exec<'_>, key: &[u8], fields: &[Bytes]) -> Result<Reply, OpError> {
    let done = with_hash_mut(x, key, false, |h| {
        fields.iter().filter(|f| h.remove(f)).count() as i64
    })?;
    let Some(done) = done else {
        return Ok(Reply::Int(0));
    };
    if done.r > 0 {
        x.notify(class::HASH, "hdel", key);
    }
    Ok(Reply::Int(done.finish(x, key)))
}

fn hgetall(x: &mut Exec<'_>, key: &[u8], part: HashPart) -> Result<Reply, OpError> {
    let r = with_hash(x, key, |h| match part {
        HashPart::Both => Reply::Map(
            h.iter()
                .map(|r| (Reply::bulk(r.field), Reply::bulk(r.value)))
                .collect(),
        ),
        HashPart::Keys => Reply::Array(h.iter().map(|r| Reply::bulk(r.field)).collect()),
        HashPart::Values => Reply::Array(h.iter().map(|r| Reply::bulk(r.value)).collect()),
    })?;
    Ok(r.unwrap_or(match part {
        HashPart::Both => Reply::Map(Vec::new()),
        _ => Reply::Array(Vec::new()),
    }))
}

fn hincrby(x: &mut Exec<'_>, key: &[u8], field: &[u8], delta: i64) -> Result<Reply, OpError> {
    let lim = limits(x);
    let done = with_hash_mut(x, key, true, |h| {
        let cur = match h.get(field) {
            None => 0,
            Some(r) => parse_canonical_i64(r.value)
                .ok_or_else(|| OpError::Other("ERR hash value is not an integer".into()))?,
        };
        let new = cur.checked_add(delta).ok_or(OpError::Overflow)?;
        h.set(field, new.to_string().as_bytes(), true, lim);
        Ok(new)
    })?;
    let Some(done) = done else {
        return Err(OpError::WrongType);
    };
    let new = done.r?;
    x.notify(class::HASH, "hincrby", key);
    Ok(Reply::Int(new))
}

fn hincrbyfloat(x: &mut Exec<'_>, key: &[u8], field: &[u8], delta: f64) -> Result<Reply, OpError> {
    let lim = limits(x);
    let done = with_hash_mut(x, key, true, |h| {
        let cur = match h.get(field) {
            None => 0.0,
            Some(r) => parse_float(r.value)
                .ok_or_else(|| OpError::Other("ERR hash value is not a float".into()))?,
        };
        let new = cur + delta;
        if !new.is_finite() {
            return Err(OpError::NanOrInfinity);
        }
        let text = format_float(new);
        h.set(field, text.as_bytes(), true, lim);
        Ok(text)
    })?;
    let Some(done) = done else {
        return Err(OpError::WrongType);
    };
    let text = done.r?;
    x.notify(class::HASH, "hincrbyfloat", key);
    Ok(Reply::Bulk(Bytes::from(text)))
}

/// Beyond this many elements a negative HRANDFIELD count is refused (Redis would stream them;
/// Moon builds the reply in memory).
const RANDFIELD_MAX: u64 = 1 << 24;

fn hrandfield(
    x: &mut Exec<'_>,
    key: &[u8],
    count: Option<i64>,
    with_values: bool,
) -> Result<Reply, OpError> {
    let mut rng = *x.rng;
    let r = with_hash(x, key, |h| {
        let len = h.len();
        let pick = |rng: &mut u64| (next_rand(rng) % len.max(1) as u64) as usize;
        let Some(count) = count else {
            return Ok(h
                .nth(pick(&mut rng))
                .map_or(Reply::Nil, |r| Reply::bulk(r.field)));
        };
        let chosen: Vec<usize> = if count < 0 {
            if count.unsigned_abs() > RANDFIELD_MAX {
                return Err(OpError::Other("ERR value is out of range".into()));
            }
            (0..count.unsigned_abs()).map(|_| pick(&mut rng)).collect()
        } else if count as u64 >= len as u64 {
            (0..len).collect()
        } else {
            sample_unique(len, count as usize, &mut rng)
        };
        let item = |i: usize| h.nth(i);
        Ok(if with_values {
            Reply::Pairs(
                chosen
                    .into_iter()
                    .filter_map(item)
                    .map(|r| (Reply::bulk(r.field), Reply::bulk(r.value)))
                    .collect(),
            )
        } else {
            Reply::Array(
                chosen
                    .into_iter()
                    .filter_map(item)
                    .map(|r| Reply::bulk(r.field))
                    .collect(),
            )
        })
    });
    *x.rng = rng;
    match r? {
        Some(reply) => reply,
        None if count.is_none() => Ok(Reply::Nil),
        None => Ok(Reply::Array(Vec::new())),
    }
}

/// `count` distinct positions out of `0..len` (`count < len`), in random order.
fn sample_unique(len: usize, count: usize, rng: &mut u64) -> Vec<usize> {
    if count.saturating_mul(3) > len {
        // Most of the hash: a partial Fisher-Yates shuffle of all positions.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = i + (next_rand(rng) % (len - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        // A small part: rejection sampling.
        let mut seen = hashbrown::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let i = (next_rand(rng) % len as u64) as usize;
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

fn hscan(
    x: &mut Exec<'_>,
    key: &[u8],
    cursor: u64,
    pattern: Option<&[u8]>,
    count: usize,
    no_values: bool,
) -> Result<Reply, OpError> {
    let pattern = pattern.filter(|p| *p != b"*");
    let r = with_hash(x, key, |h| {
        let mut items = Vec::new();
        let next = h.scan(cursor, count, |r| {
            if pattern.is_none_or(|p| glob_match(p, r.field)) {
                items.push(Reply::bulk(r.field));
                if !no_values {
                    items.push(Reply::bulk(r.value));
                }
            }
        });
        (next, items)
    })?;
    let (next, items) = r.unwrap_or((0, Vec::new()));
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(items),
    ]))
}

#[cfg(test)]
mod tests;
