//! Execution of the set commands (SADD ... SSCAN), following `t_set.c` of Redis 7.2: the same
//! replies, the same encoding decisions (through [`SetValue`]'s conversion rules), the same
//! keyspace events, and an emptied set's key is deleted.
//!
//! Invariants: a set value is only mutated inside `Db::update` (exact memory accounting); a
//! stored set is never empty; multi-key ops read every source before writing the destination,
//! so a destination that is also a source is read first, as in Redis.

use std::collections::HashSet;

use bytes::Bytes;

use super::{Exec, next_rand};
use crate::ir::ops::sets::{ScanOpts, SetAlgebra, SetOp};
use crate::ir::{OpError, Reply};
use crate::keyspace::glob::glob_match;
use crate::keyspace::{Db, Entry, LargeValue};
use crate::notify::class;
use crate::types::sets::{Member, SetLimits, SetValue};

#[cfg(test)]
mod tests;

/// SRANDMEMBER with a negative count replies `|count|` members; beyond this many the reply
/// would need gigabytes, so Moon refuses it (Redis would try until the client is dropped).
pub(crate) const MAX_RANDOM_REPLY: u64 = 1 << 22;

/// SPOP with count: when fewer than `count / 5` members would remain, the remaining ones are
/// moved to a new set instead of popping `count` (`SPOP_MOVE_STRATEGY_MUL`).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// SRANDMEMBER: a set at most this many times the count is copied and thinned instead of
/// sampled (`SRANDMEMBER_SUB_STRATEGY_MUL`).
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &SetOp) -> Reply {
    match op {
        SetOp::Add { key, members } => sadd(x, key, members),
        SetOp::Rem { key, members } => srem(x, key, members),
        SetOp::Card { key } => match read_set(x, key) {
            Ok(s) => Reply::Int(s.map_or(0, SetValue::len) as i64),
            Err(e) => e.into(),
        },
        SetOp::IsMember { key, member } => match read_set(x, key) {
            Ok(s) => Reply::Int(i64::from(s.is_some_and(|s| s.contains(member)))),
            Err(e) => e.into(),
        },
        SetOp::MIsMember { key, members } => match read_set(x, key) {
            Ok(s) => Reply::Array(
                members
                    .iter()
                    .map(|m| Reply::Int(i64::from(s.is_some_and(|s| s.contains(m)))))
                    .collect(),
            ),
            Err(e) => e.into(),
        },
        SetOp::Members { key } => match read_set(x, key) {
            Ok(s) => Reply::Set(s.map_or_else(Vec::new, all_members)),
            Err(e) => e.into(),
        },
        SetOp::RandMember { key, count } => srandmember(x, key, *count),
        SetOp::Pop { key, count: None } => spop(x, key),
        SetOp::Pop {
            key,
            count: Some(n),
        } => spop_count(x, key, *n),
        SetOp::Move { src, dst, member } => smove(x, src, dst, member),
        SetOp::Combine { op, dst, keys } => combine(x, *op, dst.as_ref(), keys),
        SetOp::InterCard { keys, limit } => intercard(x, keys, *limit),
        SetOp::Scan { key, cursor, opts } => sscan(x, key, *cursor, opts),
    }
}

/// The shard's thresholds as the set value wants them.
fn limits(x: &Exec<'_>) -> SetLimits {
    let l = &x.config.limits;
    SetLimits {
        intset_entries: l.set_max_intset_entries,
        listpack_entries: l.set_max_listpack_entries,
        listpack_value: l.set_max_listpack_value,
    }
}

fn as_set(e: &Entry) -> Option<&SetValue> {
    match e.value() {
        Some(LargeValue::Set(s)) => Some(s),
        _ => None,
    }
}

/// A read lookup (hit/miss counted, key touched): `Ok(None)` if missing, WRONGTYPE if the key
/// holds another type.
fn read_set<'a>(x: &'a mut Exec<'_>, key: &[u8]) -> Result<Option<&'a SetValue>, OpError> {
    match x.read(key) {
        None => Ok(None),
        Some(e) => as_set(e).map(Some).ok_or(OpError::WrongType),
    }
}

/// The set at `key` without touching or counting (after a `read_set` did both), borrowing
/// only the databases so the caller can use other `Exec` fields meanwhile.
fn peek_set<'a>(dbs: &'a [Db], db: usize, key: &[u8], now_ms: u64) -> Option<&'a SetValue> {
    dbs.get(db)?.peek(key, now_ms).and_then(as_set)
}

/// Runs `f` on the set at `key` for a write (touching it as a write lookup does), with the
/// shard's random state. `None` if the key is missing; WRONGTYPE for another type. The flag
/// says whether the set is empty afterwards (the caller then deletes the key).
fn write_set<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(&mut SetValue, &mut u64) -> R,
) -> Option<Result<(R, bool), OpError>> {
    let touch = x.touch_secs();
    let now = x.now_ms;
    let rng = &mut *x.rng;
    let db = x.dbs.get_mut(x.db)?;
    db.update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        match e.value_mut() {
            Some(LargeValue::Set(s)) => {
                let r = f(s, rng);
                Ok((r, s.is_empty()))
            }
            _ => Err(OpError::WrongType),
        }
    })
}

/// Deletes an emptied set's key and records Redis's `del` event.
fn delete_emptied(x: &mut Exec<'_>, key: &[u8]) {
    let now = x.now_ms;
    x.db().remove(key, now);
    x.notify(class::GENERIC, "del", key);
}

/// Stores a fresh set value under `key`, replacing whatever was there (no TTL).
fn store(x: &mut Exec<'_>, key: &[u8], mut set: SetValue) {
    debug_assert!(!set.is_empty(), "an empty set is never stored");
    set.shrink();
    let entry = Entry::new_value(key, LargeValue::Set(Box::new(set)), None, x.now_secs);
    x.db().insert(entry);
}

fn bulk(m: Member<'_>) -> Reply {
    Reply::Bulk(m.to_bytes())
}

fn all_members(s: &SetValue) -> Vec<Reply> {
    s.iter().map(bulk).collect()
}

fn sadd(x: &mut Exec<'_>, key: &[u8], members: &[Bytes]) -> Reply {
    let lim = limits(x);
    let add_all = |s: &mut SetValue| members.iter().filter(|m| s.insert(m, &lim)).count();
    let added = match write_set(x, key, |s, _| {
        s.maybe_convert(members.len(), &lim);
        add_all(s)
    }) {
        Some(Ok((n, _))) => n,
        Some(Err(e)) => return e.into(),
        None => {
            let first = members.first().map_or(&[][..], |m| m);
            let mut s = SetValue::create(first, members.len(), &lim);
            let n = add_all(&mut s);
            if n == 0 {
                return Reply::Int(0);
            }
            store(x, key, s);
            n
        }
    };
    if added > 0 {
        x.notify(class::SET, "sadd", key);
    }
    Reply::Int(added as i64)
}

fn srem(x: &mut Exec<'_>, key: &[u8], members: &[Bytes]) -> Reply {
    let done = write_set(x, key, |s, _| {
        let mut deleted = 0;
        for m in members {
            if s.remove(m) {
                deleted += 1;
                if s.is_empty() {
                    break;
                }
            }
        }
        deleted
    });
    match done {
        None => Reply::Int(0),
        Some(Err(e)) => e.into(),
        Some(Ok((deleted, empty))) => {
            if deleted > 0 {
                x.notify(class::SET, "srem", key);
            }
            if empty {
                delete_emptied(x, key);
            }
            Reply::Int(deleted)
        }
    }
}

fn srandmember(x: &mut Exec<'_>, key: &[u8], count: Option<i64>) -> Reply {
    match read_set(x, key) {
        Err(e) => return e.into(),
        Ok(None) => {
            return match count {
                None => Reply::Nil,
                Some(_) => Reply::Array(Vec::new()),
            };
        }
        Ok(Some(_)) => {}
    }
    let now = x.now_ms;
    let Some(set) = peek_set(x.dbs, x.db, key, now) else {
        return Reply::Nil;
    };
    let rng = &mut *x.rng;
    let mut rand = || next_rand(rng);
    let Some(count) = count else {
        return set.random(&mut rand).map_or(Reply::Nil, bulk);
    };
    if count == 0 {
        return Reply::Array(Vec::new());
    }
    let n = count.unsigned_abs();
    if count < 0 || n == 1 {
        if n > MAX_RANDOM_REPLY {
            return OpError::Other("ERR value is out of range".into()).into();
        }
        return Reply::Array(
            (0..n)
                .filter_map(|_| set.random(&mut rand).map(bulk))
                .collect(),
        );
    }
    let size = set.len();
    if n >= size as u64 {
        return Reply::Array(all_members(set));
    }
    Reply::Array(sample_distinct(set, n as usize, &mut rand))
}

/// `count` distinct random members (`count < len`).
fn sample_distinct(set: &SetValue, count: usize, rand: &mut impl FnMut() -> u64) -> Vec<Reply> {
    let size = set.len();
    debug_assert!(count < size);
    if !set.is_hashtable() {
        // One pass choosing each member with probability needed/left (Knuth's selection
        // sampling), like Redis's listpack walk: compact sets are small.
        let mut out = Vec::with_capacity(count);
        let mut need = count as u64;
        for (i, m) in set.iter().enumerate() {
            let left = (size - i) as u64;
            if rand() % left < need {
                out.push(bulk(m));
                need -= 1;
                if need == 0 {
                    break;
                }
            }
        }
        return out;
    }
    let picks: Vec<usize> = if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // Most of the set: shuffle the first `count` positions into place.
        let mut pos: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = i + (rand() % (size - i) as u64) as usize;
            pos.swap(i, j);
        }
        pos.truncate(count);
        pos
    } else {
        let mut seen = HashSet::with_capacity(count);
        let mut pos = Vec::with_capacity(count);
        while pos.len() < count {
            let i = (rand() % size as u64) as usize;
            if seen.insert(i) {
                pos.push(i);
            }
        }
        pos
    };
    picks
        .into_iter()
        .filter_map(|i| set.nth(i).map(bulk))
        .collect()
}

fn spop(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    match write_set(x, key, |s, rng| s.pop_random(&mut || next_rand(rng))) {
        None => Reply::Nil,
        Some(Err(e)) => e.into(),
        Some(Ok((member, empty))) => {
            x.notify(class::SET, "spop", key);
            if empty {
                delete_emptied(x, key);
            }
            member.map_or(Reply::Nil, Reply::Bulk)
        }
    }
}

fn spop_count(x: &mut Exec<'_>, key: &[u8], count: u64) -> Reply {
    if count == 0 {
        // Redis answers before touching anything but the type check.
        return match x.write_lookup(key) {
            Some(e) if as_set(e).is_none() => OpError::WrongType.into(),
            _ => Reply::Set(Vec::new()),
        };
    }
    let lim = limits(x);
    let done = write_set(x, key, |s, rng| {
        let mut rand = || next_rand(rng);
        let size = s.len();
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if count >= size {
            // The whole set; the caller deletes the key.
            let all = all_members(s);
            *s = SetValue::empty_intset();
            return all;
        }
        let remaining = size - count;
        if remaining.saturating_mul(SPOP_MOVE_STRATEGY_MUL) > count {
            return (0..count)
                .filter_map(|_| s.pop_random(&mut rand).map(Reply::Bulk))
                .collect();
        }
        // Few members stay: move those to a new set and return what is left of the old one.
        let mut keep: Option<SetValue> = None;
        for _ in 0..remaining {
            let Some(m) = s.pop_random(&mut rand) else {
                break;
            };
            keep.get_or_insert_with(|| SetValue::empty_for(Member::Str(&m)))
                .insert(&m, &lim);
        }
        let popped = all_members(s);
        if let Some(mut keep) = keep {
            keep.shrink();
            *s = keep;
        }
        popped
    });
    match done {
        None => Reply::Set(Vec::new()),
        Some(Err(e)) => e.into(),
        Some(Ok((popped, empty))) => {
            x.notify(class::SET, "spop", key);
            if empty {
                delete_emptied(x, key);
            }
            Reply::Set(popped)
        }
    }
}

fn smove(x: &mut Exec<'_>, src: &[u8], dst: &[u8], member: &[u8]) -> Reply {
    let src_is_set = match x.write_lookup(src) {
        None => return Reply::Int(0),
        Some(e) => as_set(e).is_some(),
    };
    let dst_state = x.write_lookup(dst).map(|e| as_set(e).is_some());
    if !src_is_set || dst_state == Some(false) {
        return OpError::WrongType.into();
    }
    if src == dst {
        let now = x.now_ms;
        let present = peek_set(x.dbs, x.db, src, now).is_some_and(|s| s.contains(member));
        return Reply::Int(i64::from(present));
    }
    match write_set(x, src, |s, _| s.remove(member)) {
        Some(Ok((true, empty))) => {
            x.notify(class::SET, "srem", src);
            if empty {
                delete_emptied(x, src);
            }
        }
        Some(Err(e)) => return e.into(),
        _ => return Reply::Int(0),
    }
    let lim = limits(x);
    let added = match write_set(x, dst, |s, _| s.insert(member, &lim)) {
        Some(Ok((added, _))) => added,
        Some(Err(e)) => return e.into(),
        None => {
            let mut s = SetValue::create(member, 1, &lim);
            s.insert(member, &lim);
            store(x, dst, s);
            true
        }
    };
    if added {
        x.notify(class::SET, "sadd", dst);
    }
    Reply::Int(1)
}

/// Looks every source key up as Redis does (in order, counting hits and misses, stopping at
/// the first key of another type).
fn lookup_sources(x: &mut Exec<'_>, keys: &[Bytes]) -> Result<(), OpError> {
    for k in keys {
        read_set(x, k)?;
    }
    Ok(())
}

/// The sources, `None` for a missing key (an empty set), after `lookup_sources`.
fn sources<'a>(dbs: &'a [Db], db: usize, keys: &[Bytes], now_ms: u64) -> Vec<Option<&'a SetValue>> {
    keys.iter().map(|k| peek_set(dbs, db, k, now_ms)).collect()
}

/// What an intersection produces: replies, a stored set, or a count.
enum InterOut {
    Reply(Vec<Reply>),
    Store(SetValue),
    Count(u64),
}

/// `sinterGenericCommand`: iterates the smallest set and keeps members found in every other.
fn intersect(sets: &[&SetValue], mode: InterMode, lim: &SetLimits) -> InterOut {
    let mut sorted: Vec<&SetValue> = sets.to_vec();
    sorted.sort_by_key(|s| s.len());
    let Some(&first) = sorted.first() else {
        return InterOut::Count(0);
    };
    let rest = sorted.get(1..).unwrap_or(&[]);
    let in_all = |m: Member<'_>| {
        rest.iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains_member(m))
    };
    match mode {
        InterMode::Count(limit) => {
            let mut n = 0u64;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if limit != 0 && n >= limit {
                        break;
                    }
                }
            }
            InterOut::Count(n)
        }
        InterMode::Reply => {
            InterOut::Reply(first.iter().filter(|m| in_all(*m)).map(bulk).collect())
        }
        InterMode::Store => {
            // As Redis: an intset source gives an intset result; a listpack source a listpack
            // sized like it; a hashtable source an empty listpack that converts as it grows.
            let mut out = if first.is_intset() {
                SetValue::empty_intset()
            } else if first.is_listpack() {
                SetValue::empty_listpack(first.mem_bytes())
            } else {
                SetValue::empty_listpack(0)
            };
            let mut only_integers = true;
            for m in first.iter().filter(|m| in_all(*m)) {
                only_integers &= m.as_int().is_some();
                out.insert_member(m, lim);
            }
            if only_integers {
                out.convert_to_intset_if_fits(lim);
            }
            InterOut::Store(out)
        }
    }
}

#[derive(Clone, Copy)]
enum InterMode {
    Reply,
    Store,
    Count(u64),
}

/// `sunionDiffGenericCommand`'s result set, built from an empty intset as Redis does (so the
/// result's encoding follows the same conversions).
fn union_diff(
    op: SetAlgebra,
    keys: &[Bytes],
    sets: &[Option<&SetValue>],
    lim: &SetLimits,
) -> SetValue {
    let mut out = SetValue::empty_intset();
    if op == SetAlgebra::Union {
        for s in sets.iter().flatten() {
            for m in s.iter() {
                out.insert_member(m, lim);
            }
        }
        return out;
    }
    let Some(Some(first)) = sets.first().copied() else {
        return out;
    };
    // The same key again subtracts everything.
    if keys.iter().skip(1).any(|k| Some(k) == keys.first()) {
        return out;
    }
    let one_work: usize = sets.iter().flatten().map(|_| first.len()).sum::<usize>() / 2;
    let two_work: usize = sets.iter().flatten().map(|s| s.len()).sum();
    if one_work <= two_work {
        // Algorithm 1: each member of the first set, checked against the others, largest
        // first so that members in common are found early.
        let mut others: Vec<&SetValue> = sets.iter().skip(1).flatten().copied().collect();
        others.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for m in first.iter() {
            if !others.iter().any(|s| s.contains_member(m)) {
                out.insert_member(m, lim);
            }
        }
    } else {
        // Algorithm 2: add the first set, remove every other.
        for (j, s) in sets.iter().enumerate() {
            let Some(s) = s else { continue };
            for m in s.iter() {
                if j == 0 {
                    out.insert_member(m, lim);
                } else {
                    out.remove_member(m);
                }
            }
            if out.is_empty() {
                break;
            }
        }
    }
    out
}

fn store_event(op: SetAlgebra) -> &'static str {
    match op {
        SetAlgebra::Inter => "sinterstore",
        SetAlgebra::Union => "sunionstore",
        SetAlgebra::Diff => "sdiffstore",
    }
}

/// Stores `result` at `dst` (or deletes `dst` when it is empty) and answers the cardinality.
fn store_result(x: &mut Exec<'_>, op: SetAlgebra, dst: &[u8], result: SetValue) -> Reply {
    let n = result.len();
    if n > 0 {
        store(x, dst, result);
        x.notify(class::SET, store_event(op), dst);
    } else {
        let now = x.now_ms;
        if x.db().remove(dst, now).is_some() {
            x.notify(class::GENERIC, "del", dst);
        }
    }
    Reply::Int(n as i64)
}

fn combine(x: &mut Exec<'_>, op: SetAlgebra, dst: Option<&Bytes>, keys: &[Bytes]) -> Reply {
    if let Err(e) = lookup_sources(x, keys) {
        return e.into();
    }
    let lim = limits(x);
    let now = x.now_ms;
    let sets = sources(x.dbs, x.db, keys, now);
    let result = match op {
        SetAlgebra::Inter => {
            let present: Option<Vec<&SetValue>> = sets.iter().copied().collect();
            match (present, dst) {
                (None, None) => return Reply::Set(Vec::new()),
                (None, Some(_)) => SetValue::empty_intset(),
                (Some(all), None) => match intersect(&all, InterMode::Reply, &lim) {
                    InterOut::Reply(r) => return Reply::Set(r),
                    _ => return Reply::Set(Vec::new()),
                },
                (Some(all), Some(_)) => match intersect(&all, InterMode::Store, &lim) {
                    InterOut::Store(s) => s,
                    _ => SetValue::empty_intset(),
                },
            }
        }
        SetAlgebra::Union | SetAlgebra::Diff => union_diff(op, keys, &sets, &lim),
    };
    match dst {
        Some(dst) => store_result(x, op, dst, result),
        None => Reply::Set(all_members(&result)),
    }
}

fn intercard(x: &mut Exec<'_>, keys: &[Bytes], limit: u64) -> Reply {
    if let Err(e) = lookup_sources(x, keys) {
        return e.into();
    }
    let lim = limits(x);
    let now = x.now_ms;
    let sets = sources(x.dbs, x.db, keys, now);
    let Some(all) = sets.into_iter().collect::<Option<Vec<&SetValue>>>() else {
        return Reply::Int(0);
    };
    match intersect(&all, InterMode::Count(limit), &lim) {
        InterOut::Count(n) => Reply::Int(i64::try_from(n).unwrap_or(i64::MAX)),
        _ => Reply::Int(0),
    }
}

fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(cursor.to_string())),
        Reply::Array(items),
    ])
}

fn sscan(x: &mut Exec<'_>, key: &[u8], cursor: u64, opts: &Result<ScanOpts, OpError>) -> Reply {
    let set = match read_set(x, key) {
        Err(e) => return e.into(),
        Ok(None) => return scan_reply(0, Vec::new()),
        Ok(Some(s)) => s,
    };
    let opts = match opts {
        Ok(o) => o,
        Err(e) => return e.clone().into(),
    };
    let mut items = Vec::new();
    let next = set.scan(cursor, opts.count, |m| {
        m.with_str(|s| {
            if opts.pattern.as_ref().is_none_or(|p| glob_match(p, s)) {
                items.push(Reply::bulk(s));
            }
        });
    });
    scan_reply(next, items)
}
