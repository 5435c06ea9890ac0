//! Execution of HyperLogLog commands (PFADD, PFCOUNT, PFMERGE) over string values in Redis's
//! HYLL format ([`repr`]).
//!
//! Invariants: a value is only decoded after [`repr::is_valid`] accepted it (otherwise the
//! reply is Redis's "WRONGTYPE Key is not a valid HyperLogLog string value."); HLL values are
//! kept in the raw string encoding (mutated in place, as Redis unshares them); keyspace events
//! are `pfadd` (also for PFMERGE's destination) and `new` when a key is created.

pub mod repr;

use bytes::Bytes;

use super::Exec;
use crate::ir::ops::HllOp;
use crate::ir::{OpError, Reply};
use crate::keyspace::{Entry, StrRef};
use crate::notify::class;

/// Redis's reply for a string that is not an HLL.
fn not_hll() -> Reply {
    OpError::Other("WRONGTYPE Key is not a valid HyperLogLog string value.".into()).into()
}

/// Redis's reply for a sparse HLL whose opcodes do not add up.
fn corrupt() -> Reply {
    OpError::Other("INVALIDOBJ Corrupted HLL object detected".into()).into()
}

/// Classifies an existing entry: `Ok(())` for a valid HLL, else the error reply.
fn check_hll(e: &Entry) -> Result<(), Reply> {
    match e.string_value() {
        None => Err(OpError::WrongType.into()),
        // An INT-encoded string is never an HLL (Redis checks sdsEncodedObject).
        Some(StrRef::Int(_)) => Err(not_hll()),
        Some(StrRef::Bytes(b)) if repr::is_valid(b) => Ok(()),
        Some(StrRef::Bytes(_)) => Err(not_hll()),
    }
}

/// The bytes of an entry already accepted by [`check_hll`].
fn hll_bytes(e: &Entry) -> &[u8] {
    match e.string_value() {
        Some(StrRef::Bytes(b)) => b,
        _ => &[],
    }
}

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &HllOp) -> Reply {
    match op {
        HllOp::PfAdd { key, elements } => pfadd(x, key, elements),
        HllOp::PfCount { keys } => match keys.as_slice() {
            [key] => pfcount_one(x, key),
            keys => pfcount_union(x, keys),
        },
        HllOp::PfMerge { dest, sources } => pfmerge(x, dest, sources),
    }
}

fn pfadd(x: &mut Exec<'_>, key: &[u8], elements: &[Bytes]) -> Reply {
    let sparse_max = x.config.limits.hll_sparse_max_bytes;
    let exists = match x.write_lookup(key) {
        None => false,
        Some(e) => match check_hll(e) {
            Ok(()) => true,
            Err(r) => return r,
        },
    };
    if !exists {
        let mut v = repr::new_sparse();
        for el in elements {
            // A fresh HLL is well formed, so this cannot fail.
            let _ = repr::add(&mut v, el, sparse_max);
        }
        repr::invalidate_cache(&mut v);
        let entry = Entry::new_raw(key, v, None, x.now_secs);
        x.db().insert(entry);
        x.notify(class::NEW, "new", key);
        x.notify(class::STRING, "pfadd", key);
        return Reply::Int(1);
    }
    let now = x.now_ms;
    let outcome = x.db().update(key, now, |e| {
        let v = e.raw_string_mut()?;
        let mut updated = 0usize;
        for el in elements {
            match repr::add(v, el, sparse_max) {
                Ok(true) => updated += 1,
                Ok(false) => {}
                Err(repr::Corrupt) => return Some(Err(repr::Corrupt)),
            }
        }
        if updated > 0 {
            repr::invalidate_cache(v);
        }
        Some(Ok(updated))
    });
    match outcome.flatten() {
        Some(Ok(0)) => Reply::Int(0),
        Some(Ok(_)) => {
            x.notify(class::STRING, "pfadd", key);
            Reply::Int(1)
        }
        Some(Err(repr::Corrupt)) => corrupt(),
        None => OpError::WrongType.into(),
    }
}

fn pfcount_one(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    let cached = match x.read(key) {
        None => return Reply::Int(0),
        Some(e) => {
            if let Err(r) = check_hll(e) {
                return r;
            }
            repr::cached_card(hll_bytes(e))
        }
    };
    if let Some(card) = cached {
        return Reply::Int(card as i64);
    }
    // Recompute and store the cache (Redis writes it back into the value).
    let now = x.now_ms;
    let outcome = x.db().update(key, now, |e| {
        let v = e.raw_string_mut()?;
        let card = repr::count(v);
        if let Ok(card) = card {
            repr::set_cached_card(v, card);
        }
        Some(card)
    });
    match outcome.flatten() {
        Some(Ok(card)) => Reply::Int(card as i64),
        Some(Err(repr::Corrupt)) => corrupt(),
        None => OpError::WrongType.into(),
    }
}

/// Merges every existing key of `keys` into `max`; the error reply of the first bad key.
fn merge_keys(
    x: &mut Exec<'_>,
    keys: impl Iterator<Item = impl AsRef<[u8]>>,
    max: &mut [u8; repr::REGISTERS],
) -> Result<bool, Reply> {
    let mut any_dense = false;
    for key in keys {
        let Some(e) = x.read(key.as_ref()) else {
            continue;
        };
        check_hll(e)?;
        let v = hll_bytes(e);
        any_dense |= repr::is_dense(v);
        repr::merge_into(max, v).map_err(|_| corrupt())?;
    }
    Ok(any_dense)
}

fn pfcount_union(x: &mut Exec<'_>, keys: &[Bytes]) -> Reply {
    let mut max = Box::new([0u8; repr::REGISTERS]);
    if let Err(r) = merge_keys(x, keys.iter(), &mut max) {
        return r;
    }
    Reply::Int(repr::count_raw(&max) as i64)
}

fn pfmerge(x: &mut Exec<'_>, dest: &[u8], sources: &[Bytes]) -> Reply {
    let sparse_max = x.config.limits.hll_sparse_max_bytes;
    let mut max = Box::new([0u8; repr::REGISTERS]);
    let all = std::iter::once(dest).chain(sources.iter().map(|s| s.as_ref()));
    let use_dense = match merge_keys(x, all, &mut max) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = x.now_ms;
    let created = x.write_lookup(dest).is_none();
    let stored = if created {
        let mut v = repr::new_sparse();
        let r = repr::store_merged(&mut v, &max, use_dense, sparse_max);
        let entry = Entry::new_raw(dest, v, None, x.now_secs);
        x.db().insert(entry);
        x.notify(class::NEW, "new", dest);
        r
    } else {
        x.db()
            .update(dest, now, |e| {
                let v = e.raw_string_mut()?;
                Some(repr::store_merged(v, &max, use_dense, sparse_max))
            })
            .flatten()
            .unwrap_or(Err(repr::Corrupt))
    };
    if stored.is_err() {
        return corrupt();
    }
    x.notify(class::STRING, "pfadd", dest);
    Reply::Ok
}

#[cfg(test)]
mod tests;
