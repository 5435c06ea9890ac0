//! Ranges: ZRANGE in all its spellings, ZRANGESTORE and ZREMRANGEBYRANK/SCORE/LEX, with
//! t_zset.c's index clamping and LIMIT rules (a negative offset selects nothing, a negative
//! count means no limit).
//!
//! Invariant: every range is first resolved to an ascending rank interval `[lo, hi)`, so each
//! encoding only needs O(log n) prefix counting plus a visit of the selected ranks.

use bytes::Bytes;

use super::{Exec, drop_if_empty, exists_for_write, lex_bounds, mutate, read, score_bounds, store};
use crate::ir::ops::zset::{RangeBy, RangeSpec};
use crate::ir::{OpError, Reply};
use crate::notify::class;
use crate::types::ZSetValue;

/// Redis's rank clamping: `[start, end]` (negative from the end) to `[lo, hi)`.
pub(super) fn rank_interval(len: usize, start: i64, end: i64) -> (usize, usize) {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return (0, 0);
    }
    if end >= llen {
        end = llen - 1;
    }
    (start as usize, end as usize + 1)
}

/// The ascending rank interval a spec selects, and whether to walk it downwards.
pub(super) fn select(z: &ZSetValue, spec: &RangeSpec) -> (usize, usize) {
    let len = z.len();
    let (lo, hi) = match &spec.by {
        RangeBy::Rank { start, end } => {
            let (lo, hi) = rank_interval(len, *start, *end);
            if spec.rev {
                // Ranks count from the top: map back to ascending ranks.
                (len - hi, len - lo)
            } else {
                (lo, hi)
            }
        }
        RangeBy::Score(r) => score_bounds(z, r),
        RangeBy::Lex(r) => lex_bounds(z, r),
    };
    if matches!(spec.by, RangeBy::Rank { .. }) {
        return (lo, hi);
    }
    if spec.offset < 0 {
        return (0, 0);
    }
    let offset = usize::try_from(spec.offset).unwrap_or(usize::MAX);
    let limit = if spec.limit < 0 {
        usize::MAX
    } else {
        usize::try_from(spec.limit).unwrap_or(usize::MAX)
    };
    let avail = hi - lo;
    if offset >= avail {
        return (0, 0);
    }
    let take = limit.min(avail - offset);
    if spec.rev {
        (hi - offset - take, hi - offset)
    } else {
        (lo + offset, lo + offset + take)
    }
}

/// The selected entries in reply order.
fn collect(z: &ZSetValue, spec: &RangeSpec) -> Vec<(Vec<u8>, f64)> {
    let (lo, hi) = select(z, spec);
    let mut out = Vec::with_capacity(hi - lo);
    z.visit(lo, hi, spec.rev, |m, s| {
        out.push((m.to_vec(), s));
        true
    });
    out
}

pub(super) fn zrange(
    x: &mut Exec<'_>,
    key: &[u8],
    spec: &RangeSpec,
    with_scores: bool,
) -> Result<Reply, OpError> {
    let Some(z) = read(x, key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let (lo, hi) = select(z, spec);
    // Every member is copied into one buffer and replied as a slice of it: one allocation
    // per reply instead of one per member.
    let mut arena = Vec::new();
    let mut ends = Vec::with_capacity(hi - lo);
    z.visit(lo, hi, spec.rev, |m, s| {
        arena.extend_from_slice(m);
        ends.push((arena.len(), s));
        true
    });
    let arena = Bytes::from(arena);
    let mut start = 0;
    let mut member = |end: usize| {
        let r = Reply::Bulk(arena.slice(start..end));
        start = end;
        r
    };
    Ok(if with_scores {
        Reply::Pairs(
            ends.into_iter()
                .map(|(end, s)| (member(end), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(ends.into_iter().map(|(end, _)| member(end)).collect())
    })
}

pub(super) fn zrangestore(
    x: &mut Exec<'_>,
    dst: &[u8],
    src: &[u8],
    spec: &RangeSpec,
) -> Result<Reply, OpError> {
    let items = match read(x, src)? {
        Some(z) => collect(z, spec),
        None => Vec::new(),
    };
    let n = items.len() as i64;
    let value = ZSetValue::from_entries(&items, &x.config.limits);
    store(x, dst, value, "zrangestore");
    Ok(Reply::Int(n))
}

pub(super) fn zremrange(x: &mut Exec<'_>, key: &[u8], by: &RangeBy) -> Result<Reply, OpError> {
    if !exists_for_write(x, key)? {
        return Ok(Reply::Int(0));
    }
    let event = match by {
        RangeBy::Rank { .. } => "zremrangebyrank",
        RangeBy::Score(_) => "zremrangebyscore",
        RangeBy::Lex(_) => "zremrangebylex",
    };
    let spec = RangeSpec {
        by: by.clone(),
        rev: false,
        offset: 0,
        limit: -1,
    };
    let (removed, empty) = mutate(x, key, |z| {
        let victims = collect(z, &spec);
        for (m, _) in &victims {
            z.remove(m);
        }
        victims.len()
    })
    .unwrap_or((0, false));
    if removed > 0 {
        x.notify(class::ZSET, event, key);
    }
    drop_if_empty(x, key, empty);
    Ok(Reply::Int(removed as i64))
}
