//! Execution of sorted-set ops, following t_zset.c: ZADD/ZINCRBY (all option rules), ZREM,
//! ZCARD, ZSCORE, ZMSCORE, ZRANK/ZREVRANK, ZCOUNT, ZLEXCOUNT; ranges, removals by range and
//! ZRANGESTORE live in `range`, pops and ZRANDMEMBER/ZSCAN in `pop`, the set algebra in
//! `combine`.
//!
//! Invariants: a key that becomes empty is deleted (with a `del` event); keyspace events are
//! recorded only after the change, with Redis's names; values are mutated only inside
//! `Db::update`, so memory accounting stays exact.

mod combine;
mod pop;
mod range;

use bytes::Bytes;

use super::Exec;
use crate::ir::ops::ZSetOp;
use crate::ir::ops::zset::{LexBound, LexRange, ScoreRange, ZAddFlags};
use crate::ir::{OpError, Reply};
use crate::keyspace::Entry;
use crate::keyspace::entry::LargeValue;
use crate::notify::class;
use crate::types::ZSetValue;

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &ZSetOp) -> Reply {
    use ZSetOp::*;
    let r = match op {
        Add { key, flags, pairs } => zadd(x, key, *flags, pairs),
        Rem { key, members } => zrem(x, key, members),
        Card { key } => read(x, key).map(|z| Reply::Int(z.map_or(0, |z| z.len() as i64))),
        Score { key, member } => read(x, key).map(|z| score_reply(z.and_then(|z| z.score(member)))),
        MScore { key, members } => read(x, key).map(|z| {
            Reply::Array(
                members
                    .iter()
                    .map(|m| score_reply(z.and_then(|z| z.score(m))))
                    .collect(),
            )
        }),
        Rank {
            key,
            member,
            rev,
            with_score,
        } => read(x, key).map(|z| rank_reply(z, member, *rev, *with_score)),
        Count { key, range } => read(x, key).map(|z| {
            Reply::Int(z.map_or(0, |z| {
                let (lo, hi) = score_bounds(z, range);
                hi.saturating_sub(lo) as i64
            }))
        }),
        LexCount { key, range } => read(x, key).map(|z| {
            Reply::Int(z.map_or(0, |z| {
                let (lo, hi) = lex_bounds(z, range);
                hi.saturating_sub(lo) as i64
            }))
        }),
        Range {
            key,
            spec,
            with_scores,
        } => range::zrange(x, key, spec, *with_scores),
        RangeStore { dst, src, spec } => range::zrangestore(x, dst, src, spec),
        RemRange { key, by } => range::zremrange(x, key, by),
        Pop {
            keys,
            max,
            count,
            shape,
            ..
        } => pop::zpop(x, keys, *max, *count, *shape),
        RandMember {
            key,
            count,
            with_scores,
        } => pop::zrandmember(x, key, *count, *with_scores),
        Combine {
            kind,
            dst,
            keys,
            weights,
            aggregate,
            with_scores,
            deferred,
        } => combine::check_inputs(x, keys, deferred.as_ref()).and_then(|()| {
            combine::combine(
                x,
                *kind,
                dst.as_ref(),
                keys,
                weights,
                *aggregate,
                *with_scores,
            )
        }),
        InterCard {
            keys,
            limit,
            deferred,
        } => combine::check_inputs(x, keys, deferred.as_ref())
            .and_then(|()| combine::intercard(x, keys, *limit)),
        Scan {
            key,
            cursor,
            pattern,
            count,
        } => pop::zscan(x, key, *cursor, pattern.as_deref(), *count),
    };
    r.unwrap_or_else(Reply::Err)
}

/// The sorted set at `key` for reading (`None` when missing), or WRONGTYPE.
pub(super) fn read<'a>(x: &'a mut Exec<'_>, key: &[u8]) -> Result<Option<&'a ZSetValue>, OpError> {
    match x.read(key) {
        None => Ok(None),
        Some(e) => match e.value() {
            Some(LargeValue::ZSet(z)) => Ok(Some(z)),
            _ => Err(OpError::WrongType),
        },
    }
}

/// True if `key` holds a sorted set, false if missing; WRONGTYPE otherwise (write lookups).
pub(super) fn exists_for_write(x: &mut Exec<'_>, key: &[u8]) -> Result<bool, OpError> {
    match x.write_lookup(key) {
        None => Ok(false),
        Some(e) => match e.value() {
            Some(LargeValue::ZSet(_)) => Ok(true),
            _ => Err(OpError::WrongType),
        },
    }
}

/// Runs `f` on the stored sorted set at `key` (which must exist and be a zset); returns its
/// result and whether the set is now empty (the caller records its event, then calls
/// [`drop_if_empty`], the order Redis uses).
pub(super) fn mutate<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(&mut ZSetValue) -> R,
) -> Option<(R, bool)> {
    let now = x.now_ms;
    x.db()
        .update(key, now, |e| match e.value_mut() {
            Some(LargeValue::ZSet(z)) => {
                let r = f(z);
                Some((r, z.is_empty()))
            }
            _ => None,
        })
        .flatten()
}

/// Deletes `key` with a `del` event when `empty`.
pub(super) fn drop_if_empty(x: &mut Exec<'_>, key: &[u8], empty: bool) {
    if empty {
        let now = x.now_ms;
        x.db().remove(key, now);
        x.notify(class::GENERIC, "del", key);
    }
}

/// Stores `value` at `key` (replacing anything there, TTL cleared), or deletes the key when the
/// value is empty. Returns true if the key was stored; false if it was deleted or absent.
pub(super) fn store(x: &mut Exec<'_>, key: &[u8], value: ZSetValue, event: &'static str) -> bool {
    let now = x.now_ms;
    if value.is_empty() {
        if x.db().remove(key, now).is_some() {
            x.notify(class::GENERIC, "del", key);
        }
        return false;
    }
    let secs = x.now_secs;
    x.db().insert(Entry::new_value(
        key,
        LargeValue::ZSet(Box::new(value)),
        None,
        secs,
    ));
    x.notify(class::ZSET, event, key);
    true
}

pub(super) fn score_reply(s: Option<f64>) -> Reply {
    s.map_or(Reply::Nil, Reply::Double)
}

pub(super) fn member_reply(m: &[u8]) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(m))
}

fn rank_reply(z: Option<&ZSetValue>, member: &[u8], rev: bool, with_score: bool) -> Reply {
    let null = if with_score {
        Reply::NilArray
    } else {
        Reply::Nil
    };
    let Some(z) = z else { return null };
    let Some((r, s)) = z.rank(member) else {
        return null;
    };
    let r = if rev { z.len() - 1 - r } else { r };
    if with_score {
        Reply::Array(vec![Reply::Int(r as i64), Reply::Double(s)])
    } else {
        Reply::Int(r as i64)
    }
}

/// The ascending rank interval `[lo, hi)` of the members inside a score range.
pub(super) fn score_bounds(z: &ZSetValue, r: &ScoreRange) -> (usize, usize) {
    let lo = if r.min_ex {
        z.count_prefix(|s, _| s <= r.min)
    } else {
        z.count_prefix(|s, _| s < r.min)
    };
    let hi = if r.max_ex {
        z.count_prefix(|s, _| s < r.max)
    } else {
        z.count_prefix(|s, _| s <= r.max)
    };
    (lo, hi.max(lo))
}

/// Number of leading members below `b` as a lower bound (`min`), or not above it (`max`).
fn lex_prefix(z: &ZSetValue, b: &LexBound, is_min: bool) -> usize {
    match b {
        LexBound::NegInf => 0,
        LexBound::PosInf => z.len(),
        LexBound::Incl(v) if is_min => z.count_prefix(|_, m| m < &v[..]),
        LexBound::Excl(v) if is_min => z.count_prefix(|_, m| m <= &v[..]),
        LexBound::Incl(v) => z.count_prefix(|_, m| m <= &v[..]),
        LexBound::Excl(v) => z.count_prefix(|_, m| m < &v[..]),
    }
}

/// The ascending rank interval `[lo, hi)` of the members inside a lex range.
pub(super) fn lex_bounds(z: &ZSetValue, r: &LexRange) -> (usize, usize) {
    let lo = lex_prefix(z, &r.min, true);
    let hi = lex_prefix(z, &r.max, false);
    (lo, hi.max(lo))
}

/// What one ZADD element did.
enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// Nothing changed; the score is reported by INCR only when the op was not a NOP.
    Same(f64),
    Nop,
    Nan,
}

/// Redis's `zsetAdd` for one element.
fn zset_add(
    z: &mut ZSetValue,
    member: &[u8],
    score: f64,
    f: ZAddFlags,
    x_limits: &crate::shard::TypeLimits,
) -> AddOutcome {
    if score.is_nan() {
        return AddOutcome::Nan;
    }
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return AddOutcome::Nop;
            }
            let mut score = score;
            if f.incr {
                score += cur;
                if score.is_nan() {
                    return AddOutcome::Nan;
                }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) {
                return AddOutcome::Nop;
            }
            if score != cur {
                z.insert(member, score, x_limits);
                AddOutcome::Updated(score)
            } else {
                AddOutcome::Same(score)
            }
        }
        None if !f.xx => {
            z.insert(member, score, x_limits);
            AddOutcome::Added(score)
        }
        None => AddOutcome::Nop,
    }
}

fn zadd(
    x: &mut Exec<'_>,
    key: &[u8],
    f: ZAddFlags,
    pairs: &[(f64, Bytes)],
) -> Result<Reply, OpError> {
    let exists = exists_for_write(x, key)?;
    if !exists {
        if f.xx {
            return Ok(if f.incr { Reply::Nil } else { Reply::Int(0) });
        }
        let max_len = pairs.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
        let z = ZSetValue::with_hint(pairs.len(), max_len, &x.config.limits);
        let secs = x.now_secs;
        x.db().insert(Entry::new_value(
            key,
            LargeValue::ZSet(Box::new(z)),
            None,
            secs,
        ));
    }
    let limits = x.config.limits.clone();
    let now = x.now_ms;
    let (added, updated, processed, last, nan) = x
        .db()
        .update(key, now, |e| {
            let Some(LargeValue::ZSet(z)) = e.value_mut() else {
                return (0, 0, 0, 0.0, false);
            };
            let (mut added, mut updated, mut processed, mut last) = (0i64, 0i64, 0i64, 0.0);
            for (score, member) in pairs {
                match zset_add(z, member, *score, f, &limits) {
                    AddOutcome::Nan => return (added, updated, processed, last, true),
                    AddOutcome::Added(s) => {
                        added += 1;
                        processed += 1;
                        last = s;
                    }
                    AddOutcome::Updated(s) => {
                        updated += 1;
                        processed += 1;
                        last = s;
                    }
                    AddOutcome::Same(s) => {
                        processed += 1;
                        last = s;
                    }
                    AddOutcome::Nop => {}
                }
            }
            (added, updated, processed, last, false)
        })
        .unwrap_or((0, 0, 0, 0.0, false));
    if added + updated > 0 {
        x.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    // A key created for elements that were all refused (NaN on the first) must not linger.
    let empty = matches!(x.db().peek(key, now), Some(e) if matches!(e.value(), Some(LargeValue::ZSet(z)) if z.is_empty()));
    if empty {
        x.db().remove(key, now);
    }
    if nan {
        return Err(OpError::Other(
            "ERR resulting score is not a number (NaN)".into(),
        ));
    }
    Ok(if f.incr {
        if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Nil
        }
    } else if f.ch {
        Reply::Int(added + updated)
    } else {
        Reply::Int(added)
    })
}

fn zrem(x: &mut Exec<'_>, key: &[u8], members: &[Bytes]) -> Result<Reply, OpError> {
    if !exists_for_write(x, key)? {
        return Ok(Reply::Int(0));
    }
    let mut deleted = 0i64;
    let now = x.now_ms;
    let emptied = x
        .db()
        .update(key, now, |e| {
            let Some(LargeValue::ZSet(z)) = e.value_mut() else {
                return false;
            };
            for m in members {
                if z.remove(m).is_some() {
                    deleted += 1;
                    if z.is_empty() {
                        break;
                    }
                }
            }
            z.is_empty()
        })
        .unwrap_or(false);
    if deleted > 0 {
        x.notify(class::ZSET, "zrem", key);
    }
    if emptied {
        x.db().remove(key, now);
        x.notify(class::GENERIC, "del", key);
    }
    Ok(Reply::Int(deleted))
}

/// `%.17g` text of a score, as Redis's `d2string` writes scores into replies of ZSCAN.
pub(super) fn format_score(d: f64) -> Bytes {
    if d.is_nan() {
        return Bytes::from_static(b"nan");
    }
    if d.is_infinite() {
        return Bytes::from_static(if d > 0.0 { b"inf" } else { b"-inf" });
    }
    if d == 0.0 {
        return Bytes::from_static(if d.is_sign_negative() { b"-0" } else { b"0" });
    }
    // Integral values print as integers (d2string's fast path, with its exact bounds).
    if d.fract() == 0.0 && d > -4_503_599_627_370_495.0 && d < 4_503_599_627_370_496.0 {
        return Bytes::from((d as i64).to_string());
    }
    let sci = format!("{:.16e}", d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    let text = if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", trim(mantissa), sign, exp.unsigned_abs())
    } else {
        let decimals = usize::try_from(16 - exp).unwrap_or(0);
        trim(&format!("{d:.decimals$}"))
    };
    Bytes::from(text)
}

#[cfg(test)]
mod tests;
