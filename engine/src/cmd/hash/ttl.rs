//! Hash-field expiration commands (Redis 7.4+/8.0, Valkey 9): HEXPIRE, HPEXPIRE, HEXPIREAT,
//! HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST, HGETDEL, HGETEX, HSETEX.
//!
//! Reply codes follow t_hash.c: per field -2 (no such field, or no such key), 0 (NX/XX/GT/LT
//! not met), 1 (expiry set), 2 (time already past: the field was deleted); HTTL-style -2/-1;
//! HPERSIST -2/-1/1. A time at or before now deletes the field, as for keys. Events: `hexpire`,
//! `hpersist`, `hdel` (fields deleted by a past time), `hset`, then `del` if the key emptied.

use bytes::Bytes;

use super::{Exec, set_pairs, with_hash, with_hash_mut};
use crate::ir::ops::hash::{
    FIELD_EXPIRE_MAX_MS, FieldExpire, FieldTtlKind, HGetExAction, HSetExCond, HSetExTtl,
};
use crate::ir::{ExpireCond, OpError, Reply};
use crate::notify::class;
use crate::types::hash::NO_TTL;

/// Resolves a field expiry against now, with Redis's bound (`HFE_MAX_ABS_TIME_MSEC`). On an
/// invalid time, a key of another type still answers WRONGTYPE first, as in Redis.
fn resolve(
    x: &mut Exec<'_>,
    key: &[u8],
    at: FieldExpire,
    cmd: &'static str,
) -> Result<u64, OpError> {
    let at = match at {
        FieldExpire::At(ms) => Some(ms),
        FieldExpire::In(ms) => x.now_ms.checked_add(ms),
    };
    match at.filter(|at| *at <= FIELD_EXPIRE_MAX_MS) {
        Some(at) => Ok(at),
        None => {
            let now = x.now_ms;
            let wrong = x.db().peek(key, now).is_some_and(|e| !e.is_hash());
            Err(if wrong {
                OpError::WrongType
            } else {
                OpError::InvalidExpireTime(cmd)
            })
        }
    }
}

fn ints(v: impl IntoIterator<Item = i64>) -> Reply {
    Reply::Array(v.into_iter().map(Reply::Int).collect())
}

pub(super) fn hexpire(
    x: &mut Exec<'_>,
    key: &[u8],
    at: FieldExpire,
    cond: ExpireCond,
    fields: &[Bytes],
    cmd: &'static str,
) -> Result<Reply, OpError> {
    let at = resolve(x, key, at, cmd)?;
    let now = x.now_ms;
    let (mut updated, mut deleted) = (0, 0);
    let done = with_hash_mut(x, key, false, |h| {
        fields
            .iter()
            .map(|f| {
                let Some(cur) = h.get(f).map(|r| r.expire_at) else {
                    return -2;
                };
                let has = cur != NO_TTL;
                let blocked = match cond {
                    ExpireCond::Always => false,
                    ExpireCond::Nx => has,
                    ExpireCond::Xx => !has,
                    ExpireCond::Gt => !has || at <= cur,
                    ExpireCond::Lt => has && at >= cur,
                    ExpireCond::XxLt => !has || at >= cur,
                };
                if blocked {
                    0
                } else if at <= now {
                    h.remove(f);
                    deleted += 1;
                    2
                } else {
                    h.set_expire(f, at);
                    updated += 1;
                    1
                }
            })
            .collect::<Vec<i64>>()
    })?;
    let Some(done) = done else {
        return Ok(ints(fields.iter().map(|_| -2)));
    };
    if deleted > 0 {
        x.notify(class::HASH, "hdel", key);
    } else if updated > 0 {
        x.notify(class::HASH, "hexpire", key);
    }
    Ok(ints(done.finish(x, key)))
}

pub(super) fn httl(
    x: &mut Exec<'_>,
    key: &[u8],
    kind: FieldTtlKind,
    fields: &[Bytes],
) -> Result<Reply, OpError> {
    let now = x.now_ms;
    let codes = with_hash(x, key, |h| {
        fields
            .iter()
            .map(|f| match h.get(f).map(|r| r.expire_at) {
                None => -2,
                Some(NO_TTL) => -1,
                Some(at) => {
                    let v = match kind {
                        FieldTtlKind::Ttl => at.saturating_sub(now).div_ceil(1000),
                        FieldTtlKind::PTtl => at.saturating_sub(now),
                        FieldTtlKind::ExpireTime => at.div_ceil(1000),
                        FieldTtlKind::PExpireTime => at,
                    };
                    i64::try_from(v).unwrap_or(i64::MAX)
                }
            })
            .collect::<Vec<i64>>()
    })?;
    Ok(ints(codes.unwrap_or_else(|| vec![-2; fields.len()])))
}

pub(super) fn hpersist(x: &mut Exec<'_>, key: &[u8], fields: &[Bytes]) -> Result<Reply, OpError> {
    let mut changed = false;
    let done = with_hash_mut(x, key, false, |h| {
        fields
            .iter()
            .map(|f| match h.get(f).map(|r| r.expire_at) {
                None => -2,
                Some(NO_TTL) => -1,
                Some(_) => {
                    h.set_expire(f, NO_TTL);
                    changed = true;
                    1
                }
            })
            .collect::<Vec<i64>>()
    })?;
    let Some(done) = done else {
        return Ok(ints(fields.iter().map(|_| -2)));
    };
    if changed {
        x.notify(class::HASH, "hpersist", key);
    }
    Ok(ints(done.finish(x, key)))
}

pub(super) fn hgetdel(x: &mut Exec<'_>, key: &[u8], fields: &[Bytes]) -> Result<Reply, OpError> {
    let mut deleted = 0;
    let done = with_hash_mut(x, key, false, |h| {
        fields
            .iter()
            .map(|f| match h.get(f).map(|r| Reply::bulk(r.value)) {
                None => Reply::Nil,
                Some(v) => {
                    h.remove(f);
                    deleted += 1;
                    v
                }
            })
            .collect::<Vec<Reply>>()
    })?;
    let Some(done) = done else {
        return Ok(Reply::Array(vec![Reply::Nil; fields.len()]));
    };
    if deleted > 0 {
        x.notify(class::HASH, "hdel", key);
    }
    Ok(Reply::Array(done.finish(x, key)))
}

pub(super) fn hgetex(
    x: &mut Exec<'_>,
    key: &[u8],
    action: HGetExAction,
    fields: &[Bytes],
) -> Result<Reply, OpError> {
    let at = match action {
        HGetExAction::Expire(at) => Some(resolve(x, key, at, "hgetex")?),
        _ => None,
    };
    let now = x.now_ms;
    let (mut updated, mut deleted) = (0, 0);
    let done = with_hash_mut(x, key, false, |h| {
        fields
            .iter()
            .map(|f| {
                let Some((v, cur)) = h.get(f).map(|r| (Reply::bulk(r.value), r.expire_at)) else {
                    return Reply::Nil;
                };
                match (action, at) {
                    (HGetExAction::Persist, _) if cur != NO_TTL => {
                        h.set_expire(f, NO_TTL);
                        updated += 1;
                    }
                    (HGetExAction::Expire(_), Some(at)) if at <= now => {
                        h.remove(f);
                        deleted += 1;
                    }
                    (HGetExAction::Expire(_), Some(at)) => {
                        h.set_expire(f, at);
                        updated += 1;
                    }
                    _ => {}
                }
                v
            })
            .collect::<Vec<Reply>>()
    })?;
    let Some(done) = done else {
        return Ok(Reply::Array(vec![Reply::Nil; fields.len()]));
    };
    if updated > 0 {
        let event = if matches!(action, HGetExAction::Persist) {
            "hpersist"
        } else {
            "hexpire"
        };
        x.notify(class::HASH, event, key);
    } else if deleted > 0 {
        x.notify(class::HASH, "hdel", key);
    }
    Ok(Reply::Array(done.finish(x, key)))
}

pub(super) fn hsetex(
    x: &mut Exec<'_>,
    key: &[u8],
    cond: HSetExCond,
    ttl: HSetExTtl,
    pairs: &[(Bytes, Bytes)],
) -> Result<Reply, OpError> {
    let at = match ttl {
        HSetExTtl::Expire(at) => Some(resolve(x, key, at, "hsetex")?),
        _ => None,
    };
    let now = x.now_ms;
    let lim = super::limits(x);
    let (mut expired_now, mut expiry_set) = (false, false);
    let done = with_hash_mut(x, key, cond != HSetExCond::AllExist, |h| {
        let ok = match cond {
            HSetExCond::Always => true,
            HSetExCond::NoneExist => pairs.iter().all(|(f, _)| !h.contains(f)),
            HSetExCond::AllExist => pairs.iter().all(|(f, _)| h.contains(f)),
        };
        if !ok {
            return false;
        }
        set_pairs(h, pairs, !matches!(ttl, HSetExTtl::Clear), lim);
        if let Some(at) = at {
            for (f, _) in pairs {
                if at <= now {
                    expired_now |= h.remove(f);
                } else {
                    h.set_expire(f, at);
                    expiry_set = true;
                }
            }
        }
        true
    })?;
    let Some(done) = done else {
        return Ok(Reply::Int(0));
    };
    if done.r {
        x.notify(class::HASH, "hset", key);
        if expired_now {
            x.notify(class::HASH, "hdel", key);
        } else if expiry_set {
            x.notify(class::HASH, "hexpire", key);
        }
    }
    Ok(Reply::Int(i64::from(done.finish(x, key))))
}
