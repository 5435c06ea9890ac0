//! SORT / SORT_RO over lists, sets and sorted sets, as Redis's sort.c: numeric (default) or
//! ALPHA ordering, `BY pattern` (no `*`: no sorting), `LIMIT`, `GET pattern` / `GET #`, DESC,
//! and STORE (a list; an empty result deletes the destination).
//!
//! Differences from Redis, by design:
//! - BY/GET pattern keys are read only when they live on the sorted key's shard (the owner is
//!   computed from the key's slot and `ShardConfig::shards`, the rule of SPEC.md §2); any
//!   other pattern key answers [`CROSS_SHARD`], as Redis Cluster refuses such patterns. When
//!   SORT ... STORE runs on a scratch shard (destination owned elsewhere), pattern lookups are
//!   refused the same way, since the pattern keys were not gathered.
//! - ALPHA compares bytes (Redis uses `strcoll`, which is byte order only in the C locale).
//! - Ties are kept in the value's natural order (Redis's qsort leaves them unspecified).

use bytes::Bytes;

use super::Exec;
use crate::ir::ops::SortOp;
use crate::ir::{OpError, Reply};
use crate::keyspace::entry::{Entry, LargeValue};
use crate::notify::class;
use crate::slots::{SLOTS, key_slot};
use crate::types::hash::NO_TTL;
use crate::types::list::{End, ListValue};

/// The error for a BY/GET pattern key owned by another shard.
pub const CROSS_SHARD: &str =
    "ERR BY/GET pattern keys must be on the same shard as the sorted key; use hash tags";

/// The shard owning `key` among `shards` (the slot table's contiguous assignment).
fn owner(key: &[u8], shards: usize) -> usize {
    let shards = shards.clamp(1, SLOTS);
    if shards == 1 {
        return 0;
    }
    usize::from(key_slot(key)) * shards / SLOTS
}

/// One element to sort and its sort key.
struct Item {
    elem: Bytes,
    score: f64,
    /// ALPHA with BY: the looked-up value (`None` when missing).
    cmp: Option<Bytes>,
}

pub(crate) fn execute(x: &mut Exec<'_>, op: &SortOp) -> Reply {
    match sort(x, op) {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

/// What a pattern resolves to for one element.
enum Lookup {
    Value(Bytes),
    Missing,
}

struct Patterns {
    home: usize,
    shards: usize,
    /// False when the op runs away from the pattern keys (a scratch shard for STORE).
    local: bool,
}

impl Patterns {
    /// Redis's `lookupKeyByPattern`.
    fn lookup(&self, x: &mut Exec<'_>, pattern: &[u8], elem: &[u8]) -> Result<Lookup, OpError> {
        if pattern == b"#" {
            return Ok(Lookup::Value(Bytes::copy_from_slice(elem)));
        }
        // C string semantics: the pattern and the element end at their first NUL.
        let pattern = c_str(pattern);
        let elem = c_str(elem);
        let Some(star) = pattern.iter().position(|&b| b == b'*') else {
            return Ok(Lookup::Missing);
        };
        let after = &pattern[star + 1..];
        let (post, field) = match find(after, b"->") {
            Some(at) if at + 2 < after.len() => (&after[..at], Some(&after[at + 2..])),
            _ => (after, None),
        };
        let mut key = Vec::with_capacity(star + elem.len() + post.len());
        key.extend_from_slice(&pattern[..star]);
        key.extend_from_slice(elem);
        key.extend_from_slice(post);
        if !self.local || owner(&key, self.shards) != self.home {
            return Err(OpError::Other(CROSS_SHARD.into()));
        }
        let now = x.now_ms;
        let found = match x.read(&key) {
            None => None,
            Some(e) => match (field, e.hash()) {
                (None, _) => e.string_value().map(|s| s.to_bytes()),
                (Some(f), Some(h)) => h
                    .get(f)
                    // An expired field is invisible even before it is purged.
                    .filter(|r| r.expire_at == NO_TTL || r.expire_at > now)
                    .map(|r| Bytes::copy_from_slice(r.value)),
                (Some(_), _) => None,
            },
        };
        Ok(found.map_or(Lookup::Missing, Lookup::Value))
    }
}

fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// C `strtod` over the whole string, as SORT converts scores: leading spaces allowed, the rest
/// must be a number; NaN and out-of-range values are errors.
fn score_of(s: &[u8]) -> Option<f64> {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(s.len());
    let t = c_str(&s[start..]);
    if t.is_empty() {
        // strtod consumed nothing: the end pointer is at the terminator, so Redis accepts 0.
        return (s.len() == start || s.get(start) == Some(&0)).then_some(0.0);
    }
    let text = std::str::from_utf8(t).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if v.is_infinite() && !lower.trim_start_matches(['+', '-']).starts_with("inf") {
        return None; // ERANGE
    }
    Some(v)
}

fn elements(e: Option<&Entry>) -> Result<(Vec<Bytes>, Kind), OpError> {
    let Some(e) = e else {
        return Ok((Vec::new(), Kind::List));
    };
    match e.value() {
        Some(LargeValue::List(l)) => {
            let mut out = Vec::with_capacity(l.len());
            let mut buf = Vec::new();
            for el in l.iter_from(0) {
                buf.clear();
                el.write_to(&mut buf);
                out.push(Bytes::copy_from_slice(&buf));
            }
            Ok((out, Kind::List))
        }
        Some(LargeValue::Set(s)) => Ok((s.iter().map(|m| m.to_bytes()).collect(), Kind::Set)),
        Some(LargeValue::ZSet(z)) => {
            let mut out = Vec::with_capacity(z.len());
            z.visit(0, z.len(), false, |m, _| {
                out.push(Bytes::copy_from_slice(m));
                true
            });
            Ok((out, Kind::ZSet))
        }
        _ => Err(OpError::WrongType),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

fn sort(x: &mut Exec<'_>, op: &SortOp) -> Result<Reply, OpError> {
    let found = if op.store.is_some() {
        x.write_lookup(&op.key)
    } else {
        x.read(&op.key)
    };
    let (elems, kind) = elements(found)?;
    let shards = x.config.shards;
    let home = owner(&op.key, shards);
    let patterns = Patterns {
        home,
        shards,
        local: op.store.as_ref().is_none_or(|d| owner(d, shards) == home),
    };

    let mut by = op.by.as_ref();
    let mut dontsort = by.is_some_and(|p| !p.contains(&b'*'));
    let mut alpha = op.alpha;
    if dontsort && kind == Kind::Set && op.store.is_some() {
        // Redis forces a deterministic order for a stored set.
        dontsort = false;
        alpha = true;
        by = None;
    }

    let len = elems.len() as i64;
    let (lstart, lcount) = op.limit.unwrap_or((0, -1));
    let mut start = lstart.max(0);
    let mut end = if lcount < 0 {
        len - 1
    } else {
        start.saturating_add(lcount).saturating_sub(1)
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();
    if dontsort && op.desc && kind != Kind::Set {
        items.reverse();
    }

    if !dontsort {
        let mut conversion_error = false;
        for it in &mut items {
            let byval = match by {
                Some(p) => match patterns.lookup(x, p, &it.elem)? {
                    Lookup::Value(v) => v,
                    Lookup::Missing => continue,
                },
                None => it.elem.clone(),
            };
            if alpha {
                if by.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match score_of(&byval) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let by_pattern = by.is_some();
        let desc = op.desc;
        items.sort_by(|a, b| {
            let ord = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.elem.cmp(&b.elem))
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                }
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc { ord.reverse() } else { ord }
        });
        if conversion_error {
            return Err(OpError::Other(
                "ERR One or more scores can't be converted into double".into(),
            ));
        }
    }

    let range: &[Item] = if end >= start && start >= 0 {
        items
            .get(start as usize..=(end as usize).min(items.len().saturating_sub(1)))
            .unwrap_or(&[])
    } else {
        &[]
    };

    let mut out: Vec<Option<Bytes>> = Vec::with_capacity(range.len() * op.gets.len().max(1));
    for it in range {
        if op.gets.is_empty() {
            out.push(Some(it.elem.clone()));
        }
        for g in &op.gets {
            out.push(match patterns.lookup(x, g, &it.elem)? {
                Lookup::Value(v) => Some(v),
                Lookup::Missing => None,
            });
        }
    }

    let Some(dest) = &op.store else {
        return Ok(Reply::Array(
            out.into_iter()
                .map(|v| v.map_or(Reply::Nil, Reply::Bulk))
                .collect(),
        ));
    };
    let n = out.len() as i64;
    let now = x.now_ms;
    if out.is_empty() {
        if x.db().remove(dest, now).is_some() {
            x.notify(class::GENERIC, "del", dest);
        }
        return Ok(Reply::Int(0));
    }
    let fill = x.config.limits.list_max_listpack_size;
    let mut l = ListValue::new();
    for v in &out {
        let s: &[u8] = v.as_deref().unwrap_or_default();
        l.grow(fill, s.len(), 1);
        l.push(End::Tail, s);
    }
    x.db().remove(dest, now);
    let entry = Entry::new_value(dest, LargeValue::List(Box::new(l)), None, x.now_secs);
    x.db().insert(entry);
    x.notify(class::LIST, "sortstore", dest);
    Ok(Reply::Int(n))
}

#[cfg(test)]
mod tests;
