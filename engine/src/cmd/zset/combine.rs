//! ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD (`zunionInterDiffGenericCommand`):
//! inputs may be sorted sets or plain sets (members scored 1), WEIGHTS multiply input scores,
//! AGGREGATE SUM/MIN/MAX combines them, and a NaN produced on the way becomes 0.
//!
//! Invariants: inputs are visited from the smallest to the largest (stable), as Redis sorts
//! them, so floating-point sums accumulate in Redis's order; DIFF keeps the first input first.

use bytes::Bytes;
use hashbrown::HashMap;

use super::{Exec, member_reply, store};
use crate::ir::ops::zset::{Aggregate, SetOpKind};
use crate::ir::{OpError, Reply};
use crate::keyspace::entry::LargeValue;
use crate::types::sets::Member;
use crate::types::{SetValue, ZSetValue};

/// One input.
enum Src<'a> {
    Missing,
    Z(&'a ZSetValue),
    S(&'a SetValue),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::Missing => {}
            Src::Z(z) => z.visit(0, z.len(), false, |m, s| {
                f(m, s);
                true
            }),
            Src::S(s) => s.iter().for_each(|m| m.with_str(|b| f(b, 1.0))),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains_member(Member::Str(m)).then_some(1.0),
        }
    }
}

/// Checks every input's type in order (WRONGTYPE first), then reports a deferred option error.
pub(super) fn check_inputs(
    x: &mut Exec<'_>,
    keys: &[Bytes],
    deferred: Option<&OpError>,
) -> Result<(), OpError> {
    for k in keys {
        if let Some(e) = x.read(k) {
            match e.value() {
                Some(LargeValue::ZSet(_) | LargeValue::Set(_)) => {}
                _ => return Err(OpError::WrongType),
            }
        }
    }
    deferred.map_or(Ok(()), |e| Err(e.clone()))
}

fn inputs<'a>(x: &'a Exec<'_>, keys: &[Bytes]) -> Vec<Src<'a>> {
    let db = &x.dbs[x.db];
    keys.iter()
        .map(|k| match db.peek(k, x.now_ms).and_then(|e| e.value()) {
            Some(LargeValue::ZSet(z)) => Src::Z(z),
            Some(LargeValue::Set(s)) => Src::S(s),
            _ => Src::Missing,
        })
        .collect()
}

fn weighted(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() { 0.0 } else { v }
}

fn aggregate(agg: Aggregate, target: &mut f64, val: f64) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// The result entries, sorted by (score, member).
fn compute(
    srcs: &[Src<'_>],
    kind: SetOpKind,
    weights: &[f64],
    agg: Aggregate,
) -> Vec<(Vec<u8>, f64)> {
    let mut order: Vec<usize> = (0..srcs.len()).collect();
    let weight = |i: usize| weights.get(i).copied().unwrap_or(1.0);
    let mut out: Vec<(Vec<u8>, f64)> = Vec::new();
    match kind {
        SetOpKind::Union => {
            order.sort_by_key(|&i| srcs[i].len());
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for &i in &order {
                let w = weight(i);
                srcs[i].for_each(|m, s| {
                    let v = weighted(w, s);
                    match acc.get_mut(m) {
                        Some(t) => aggregate(agg, t, v),
                        None => {
                            acc.insert(m.to_vec(), v);
                        }
                    }
                });
            }
            out.extend(acc);
        }
        SetOpKind::Inter => {
            order.sort_by_key(|&i| srcs[i].len());
            let Some((&first, rest)) = order.split_first() else {
                return out;
            };
            let w0 = weight(first);
            srcs[first].for_each(|m, s| {
                let mut score = weighted(w0, s);
                for &j in rest {
                    match srcs[j].score(m) {
                        Some(v) => aggregate(agg, &mut score, weighted(weight(j), v)),
                        None => return,
                    }
                }
                out.push((m.to_vec(), score));
            });
        }
        SetOpKind::Diff => {
            let Some((first, rest)) = srcs.split_first() else {
                return out;
            };
            first.for_each(|m, s| {
                if rest.iter().all(|r| r.score(m).is_none()) {
                    out.push((m.to_vec(), s));
                }
            });
        }
    }
    out.sort_by(|a, b| match a.1.partial_cmp(&b.1) {
        Some(std::cmp::Ordering::Equal) | None => a.0.cmp(&b.0),
        Some(o) => o,
    });
    out
}

pub(super) fn combine(
    x: &mut Exec<'_>,
    kind: SetOpKind,
    dst: Option<&Bytes>,
    keys: &[Bytes],
    weights: &[f64],
    agg: Aggregate,
    with_scores: bool,
) -> Result<Reply, OpError> {
    let result = {
        let srcs = inputs(x, keys);
        compute(&srcs, kind, weights, agg)
    };
    let Some(dst) = dst else {
        return Ok(if with_scores {
            Reply::Pairs(
                result
                    .iter()
                    .map(|(m, s)| (member_reply(m), Reply::Double(*s)))
                    .collect(),
            )
        } else {
            Reply::Array(result.iter().map(|(m, _)| member_reply(m)).collect())
        });
    };
    let n = result.len() as i64;
    let value = ZSetValue::from_entries(&result, &x.config.limits);
    let event = match kind {
        SetOpKind::Union => "zunionstore",
        SetOpKind::Inter => "zinterstore",
        SetOpKind::Diff => "zdiffstore",
    };
    store(x, dst, value, event);
    Ok(Reply::Int(n))
}

pub(super) fn intercard(x: &mut Exec<'_>, keys: &[Bytes], limit: usize) -> Result<Reply, OpError> {
    let srcs = inputs(x, keys);
    let mut order: Vec<usize> = (0..srcs.len()).collect();
    order.sort_by_key(|&i| srcs[i].len());
    let Some((&first, rest)) = order.split_first() else {
        return Ok(Reply::Int(0));
    };
    let mut n = 0usize;
    srcs[first].for_each(|m, _| {
        if (limit == 0 || n < limit) && rest.iter().all(|&j| srcs[j].score(m).is_some()) {
            n += 1;
        }
    });
    Ok(Reply::Int(n as i64))
}
