//! Execution of lists (LPUSH ... BLMPOP), following Redis 7.2's `t_list.c`: the same lookup
//! order (so WRONGTYPE / missing-key answers win where Redis's do), the same encoding
//! conversion points, the same keyspace events in the same order.
//!
//! Invariants: a list key never holds an empty list after an op returns (an op that empties
//! it deletes the key and records `del`); every mutation goes through `Db::update`, so memory
//! accounting stays exact; range replies share one reply buffer instead of allocating per
//! element.

use bytes::Bytes;

use super::Exec;
use crate::ir::ops::ListOp;
use crate::ir::{OpError, Reply};
use crate::keyspace::entry::parse_canonical_i64;
use crate::keyspace::{Entry, LargeValue};
use crate::notify::class;
use crate::types::ListValue;
use crate::types::list::{Elem, End};

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &ListOp) -> Reply {
    use ListOp::*;
    match op {
        Push {
            key,
            end,
            elements,
            only_if_exists,
        } => push(x, key, *end, elements, *only_if_exists),
        Pop { key, end, count } => pop(x, key, *end, *count),
        Len { key } => match read_list(x, key) {
            Ok(l) => Reply::Int(l.map_or(0, |l| l.len() as i64)),
            Err(e) => e.into(),
        },
        Range { key, start, stop } => range(x, key, *start, *stop),
        Index { key, index } => index_of(x, key, *index),
        Set {
            key,
            index,
            element,
        } => set(x, key, *index, element),
        Insert {
            key,
            after,
            pivot,
            element,
        } => insert(x, key, *after, pivot, element),
        Rem {
            key,
            count,
            element,
        } => rem(x, key, *count, element),
        Trim { key, start, stop } => trim(x, key, *start, *stop),
        Pos {
            key,
            element,
            rank,
            count,
            maxlen,
        } => pos(x, key, element, *rank, *count, *maxlen),
        Move {
            src, dst, from, to, ..
        } => lmove(x, src, dst, *from, *to),
        MPop {
            keys, end, count, ..
        } => mpop(x, keys, *end, Some(*count)),
        BPop { keys, end, .. } => mpop(x, keys, *end, None),
    }
}

fn as_list(e: &Entry) -> Result<&ListValue, OpError> {
    match e.value() {
        Some(LargeValue::List(l)) => Ok(l),
        _ => Err(OpError::WrongType),
    }
}

/// A read lookup (`lookupKeyRead`): the list, `None` if missing, or WRONGTYPE.
fn read_list<'a>(x: &'a mut Exec<'_>, key: &[u8]) -> Result<Option<&'a ListValue>, OpError> {
    x.read(key).map(as_list).transpose()
}

/// A write lookup (`lookupKeyWrite`) that runs `f` on the list in place: `Ok(None)` if the
/// key is missing, WRONGTYPE if it holds another type. One hash probe.
fn modify<R>(
    x: &mut Exec<'_>,
    key: &[u8],
    f: impl FnOnce(&mut ListValue) -> R,
) -> Result<Option<R>, OpError> {
    let now = x.now_ms;
    let touch = x.touch_secs();
    match x.db().update(key, now, |e| {
        if let Some(t) = touch {
            e.touch(t);
        }
        match e.value_mut() {
            Some(LargeValue::List(l)) => Ok(f(l)),
            _ => Err(OpError::WrongType),
        }
    }) {
        None => Ok(None),
        Some(r) => r.map(Some),
    }
}

fn fill(x: &Exec<'_>) -> i64 {
    x.config.limits.list_max_listpack_size
}

fn end_event(end: End, push: bool) -> &'static str {
    match (end, push) {
        (End::Head, true) => "lpush",
        (End::Tail, true) => "rpush",
        (End::Head, false) => "lpop",
        (End::Tail, false) => "rpop",
    }
}

/// After elements were removed: deletes the key if the list is now empty (recording `del`).
/// `empty` is what the removal closure reported.
fn drop_if_empty(x: &mut Exec<'_>, key: &[u8], empty: bool) {
    if empty {
        let now = x.now_ms;
        x.db().remove(key, now);
        x.notify(class::GENERIC, "del", key);
    }
}

/// Removal epilogue inside the update: reports emptiness, or shrinks the encoding.
fn settle(l: &mut ListValue, fill: i64) -> bool {
    if l.is_empty() {
        true
    } else {
        l.shrink(fill);
        false
    }
}

/// Bulk replies for the first `n` elements of `elems`, all slices of one shared buffer.
fn bulk_replies<'a>(elems: impl Iterator<Item = Elem<'a>>, n: usize) -> Vec<Reply> {
    let mut buf = Vec::new();
    let mut ends = Vec::with_capacity(n);
    for e in elems.take(n) {
        e.write_to(&mut buf);
        ends.push(buf.len());
    }
    let all = Bytes::from(buf);
    let mut start = 0;
    ends.into_iter()
        .map(|end| {
            let r = Reply::Bulk(all.slice(start..end));
            start = end;
            r
        })
        .collect()
}

/// `n` elements popped from `end` as replies (head: in order; tail: from the tail backward).
fn pop_n(l: &mut ListValue, end: End, n: usize) -> Vec<Reply> {
    let len = l.len();
    let n = n.min(len);
    let items = match end {
        End::Head => bulk_replies(l.iter_from(0), n),
        End::Tail => bulk_replies(l.iter_rev_from(len.saturating_sub(1)), n),
    };
    match end {
        End::Head => l.delete_range(0, n),
        End::Tail => l.delete_range(len - n, n),
    }
    items
}

fn push(x: &mut Exec<'_>, key: &[u8], end: End, elements: &[Bytes], only_if_exists: bool) -> Reply {
    let fill = fill(x);
    let add_bytes: usize = elements.iter().map(Bytes::len).sum();
    let fill_in = |l: &mut ListValue| {
        l.grow(fill, add_bytes, elements.len());
        for e in elements {
            l.push(end, e);
        }
        l.len()
    };
    let len = match modify(x, key, fill_in) {
        Err(e) => return e.into(),
        Ok(Some(len)) => len,
        Ok(None) if only_if_exists => return Reply::Int(0),
        Ok(None) => {
            let mut l = ListValue::new();
            l.grow(fill, add_bytes, elements.len());
            for e in elements {
                l.push(end, e);
            }
            let len = l.len();
            let entry = Entry::new_value(key, LargeValue::List(Box::new(l)), None, x.now_secs);
            x.db().insert(entry);
            len
        }
    };
    x.notify(class::LIST, end_event(end, true), key);
    Reply::Int(len as i64)
}

fn pop(x: &mut Exec<'_>, key: &[u8], end: End, count: Option<u64>) -> Reply {
    let fill = fill(x);
    let result = modify(x, key, |l| match count {
        Some(0) => (Reply::Array(Vec::new()), false, false),
        None => {
            let v = l.pop(end).map_or(Reply::Nil, Reply::Bulk);
            (v, true, settle(l, fill))
        }
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let items = pop_n(l, end, n);
            (Reply::Array(items), true, settle(l, fill))
        }
    });
    match result {
        Err(e) => e.into(),
        Ok(None) => match count {
            Some(_) => Reply::NilArray,
            None => Reply::Nil,
        },
        Ok(Some((reply, popped, empty))) => {
            if popped {
                x.notify(class::LIST, end_event(end, false), key);
                drop_if_empty(x, key, empty);
            }
            reply
        }
    }
}

/// Redis's range normalisation (`addListRangeReply`, LTRIM): `(start, len)` of the range, or
/// `None` when it is empty.
fn normalise(start: i64, stop: i64, llen: usize) -> Option<(usize, usize)> {
    let llen = i64::try_from(llen).unwrap_or(i64::MAX);
    let mut start = if start < 0 {
        llen.saturating_add(start)
    } else {
        start
    };
    let mut stop = if stop < 0 {
        llen.saturating_add(stop)
    } else {
        stop
    };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= llen {
        return None;
    }
    if stop >= llen {
        stop = llen - 1;
    }
    Some((start as usize, (stop - start + 1) as usize))
}

fn range(x: &mut Exec<'_>, key: &[u8], start: i64, stop: i64) -> Reply {
    match read_list(x, key) {
        Err(e) => e.into(),
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(l)) => match normalise(start, stop, l.len()) {
            None => Reply::Array(Vec::new()),
            Some((from, n)) => Reply::Array(bulk_replies(l.iter_from(from), n)),
        },
    }
}

/// A possibly negative index resolved against `len`.
fn resolve(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 {
        i64::try_from(len).ok()?.checked_add(index)?
    } else {
        index
    };
    usize::try_from(i).ok().filter(|&i| i < len)
}

fn index_of(x: &mut Exec<'_>, key: &[u8], index: Option<i64>) -> Reply {
    let l = match read_list(x, key) {
        Err(e) => return e.into(),
        Ok(None) => return Reply::Nil,
        Ok(Some(l)) => l,
    };
    let Some(index) = index else {
        return OpError::NotInteger.into();
    };
    match resolve(index, l.len()).and_then(|i| l.get(i)) {
        Some(e) => Reply::Bulk(e.to_bytes()),
        None => Reply::Nil,
    }
}

fn set(x: &mut Exec<'_>, key: &[u8], index: Option<i64>, element: &[u8]) -> Reply {
    let fill = fill(x);
    let result = modify(x, key, |l| {
        let index = index.ok_or(OpError::NotInteger)?;
        // Redis converts before it knows whether the index is valid.
        l.grow(fill, element.len(), 1);
        let done = resolve(index, l.len()).is_some_and(|i| l.set(i, element));
        if done {
            l.shrink(fill);
        }
        Ok(done)
    });
    match result {
        Err(e) | Ok(Some(Err(e))) => e.into(),
        Ok(None) => OpError::NoSuchKey.into(),
        Ok(Some(Ok(false))) => OpError::Other("ERR index out of range".into()).into(),
        Ok(Some(Ok(true))) => {
            x.notify(class::LIST, "lset", key);
            Reply::Ok
        }
    }
}

fn insert(x: &mut Exec<'_>, key: &[u8], after: bool, pivot: &[u8], element: &[u8]) -> Reply {
    let fill = fill(x);
    let result = modify(x, key, |l| {
        // Redis converts before the pivot search (it cannot convert while iterating).
        l.grow(fill, element.len(), 1);
        l.insert(pivot, element, after).then(|| l.len())
    });
    match result {
        Err(e) => e.into(),
        Ok(None) => Reply::Int(0),
        Ok(Some(None)) => Reply::Int(-1),
        Ok(Some(Some(len))) => {
            x.notify(class::LIST, "linsert", key);
            Reply::Int(len as i64)
        }
    }
}

fn rem(x: &mut Exec<'_>, key: &[u8], count: i64, element: &[u8]) -> Reply {
    let fill = fill(x);
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let result = modify(x, key, |l| {
        let removed = l.remove(element, limit, count < 0);
        let empty = l.is_empty();
        if removed > 0 && !empty {
            l.shrink(fill);
        }
        (removed, empty)
    });
    match result {
        Err(e) => e.into(),
        Ok(None) => Reply::Int(0),
        Ok(Some((removed, empty))) => {
            if removed > 0 {
                x.notify(class::LIST, "lrem", key);
            }
            drop_if_empty(x, key, empty);
            Reply::Int(removed as i64)
        }
    }
}

fn trim(x: &mut Exec<'_>, key: &[u8], start: i64, stop: i64) -> Reply {
    let fill = fill(x);
    let result = modify(x, key, |l| {
        let len = l.len();
        match normalise(start, stop, len) {
            None => l.delete_range(0, len),
            Some((from, n)) => {
                let rtrim = len - from - n;
                l.delete_range(0, from);
                l.delete_range(n, rtrim);
            }
        }
        settle(l, fill)
    });
    match result {
        Err(e) => e.into(),
        Ok(None) => Reply::Ok,
        Ok(Some(empty)) => {
            x.notify(class::LIST, "ltrim", key);
            drop_if_empty(x, key, empty);
            Reply::Ok
        }
    }
}

/// True if `e` is the element `s` (`int` is `s` parsed as a canonical integer).
fn same(e: Elem<'_>, s: &[u8], int: Option<i64>) -> bool {
    match e {
        Elem::Str(b) => b == s,
        Elem::Int(v) => int == Some(v),
    }
}

fn pos(
    x: &mut Exec<'_>,
    key: &[u8],
    element: &[u8],
    rank: i64,
    count: Option<u64>,
    maxlen: u64,
) -> Reply {
    let l = match read_list(x, key) {
        Err(e) => return e.into(),
        Ok(None) if count.is_some() => return Reply::Array(Vec::new()),
        Ok(None) => return Reply::Nil,
        Ok(Some(l)) => l,
    };
    let from_tail = rank < 0;
    let rank = rank.unsigned_abs();
    let len = l.len();
    let int = parse_canonical_i64(element);
    let mut found = Vec::new();
    let mut single = None;
    let mut matches = 0u64;
    let scan = |index: usize, e: Elem<'_>| -> Option<usize> {
        same(e, element, int).then_some(if from_tail { len - index - 1 } else { index })
    };
    let elems: Box<dyn Iterator<Item = Elem<'_>>> = if from_tail {
        Box::new(l.iter_rev_from(len.saturating_sub(1)))
    } else {
        Box::new(l.iter_from(0))
    };
    for (index, e) in elems.enumerate() {
        if maxlen != 0 && index as u64 >= maxlen {
            break;
        }
        let Some(at) = scan(index, e) else {
            continue;
        };
        matches += 1;
        if matches >= rank {
            match count {
                Some(c) => {
                    found.push(Reply::Int(at as i64));
                    if c != 0 && matches - rank + 1 >= c {
                        break;
                    }
                }
                None => {
                    single = Some(at);
                    break;
                }
            }
        }
    }
    match count {
        Some(_) => Reply::Array(found),
        None => single.map_or(Reply::Nil, |at| Reply::Int(at as i64)),
    }
}

fn lmove(x: &mut Exec<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> Reply {
    let fill = fill(x);
    // The source is checked first; the destination's type only once the source has data.
    match modify(x, src, |_| ()) {
        Err(e) => return e.into(),
        Ok(None) => return Reply::Nil,
        Ok(Some(())) => {}
    }
    if let Err(e) = modify(x, dst, |_| ()) {
        return e.into();
    }
    let value = match modify(x, src, |l| l.pop(from)) {
        Ok(Some(Some(v))) => v,
        Err(e) => return e.into(),
        _ => return Reply::Nil,
    };
    let pushed = modify(x, dst, |l| {
        l.grow(fill, value.len(), 1);
        l.push(to, &value);
    });
    if let Ok(None) = pushed {
        let mut l = ListValue::new();
        l.grow(fill, value.len(), 1);
        l.push(to, &value);
        let entry = Entry::new_value(dst, LargeValue::List(Box::new(l)), None, x.now_secs);
        x.db().insert(entry);
    }
    x.notify(class::LIST, end_event(to, true), dst);
    x.notify(class::LIST, end_event(from, false), src);
    let empty = matches!(modify(x, src, |l| settle(l, fill)), Ok(Some(true)));
    drop_if_empty(x, src, empty);
    Reply::Bulk(value)
}

/// LMPOP / BLMPOP (`count` given: `[key, [elements]]`) and BLPOP / BRPOP (`[key, element]`):
/// pops from the first key holding a list; WRONGTYPE on the first key of another type.
fn mpop(x: &mut Exec<'_>, keys: &[Bytes], end: End, count: Option<u64>) -> Reply {
    let fill = fill(x);
    for key in keys {
        let result = modify(x, key, |l| {
            if l.is_empty() {
                return None;
            }
            let reply = match count {
                Some(n) => {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    Reply::Array(pop_n(l, end, n))
                }
                None => l.pop(end).map_or(Reply::Nil, Reply::Bulk),
            };
            Some((reply, settle(l, fill)))
        });
        match result {
            Err(e) => return e.into(),
            Ok(None) | Ok(Some(None)) => continue,
            Ok(Some(Some((reply, empty)))) => {
                x.notify(class::LIST, end_event(end, false), key);
                drop_if_empty(x, key, empty);
                return Reply::Array(vec![Reply::Bulk(key.clone()), reply]);
            }
        }
    }
    Reply::NilArray
}

#[cfg(test)]
mod tests;
