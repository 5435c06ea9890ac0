//! Commands of the sorted-set write ops. ZINCRBY is logged as the `ZADD .. INCR` it lowers to;
//! ranges are spelled as ZRANGESTORE / ZREMRANGEBY* read them (REV ranges max first, since the
//! parser swaps them back).

use bytes::Bytes;

use super::{Argv, fmt_f64, fmt_timeout_secs};
use crate::ir::ops::ZSetOp;
use crate::ir::ops::zset::{Aggregate, LexBound, PopShape, RangeBy, RangeSpec, SetOpKind};

/// One end of a score range: `(` when exclusive.
pub(super) fn score_bound(v: f64, exclusive: bool) -> String {
    if exclusive {
        format!("({}", fmt_f64(v))
    } else {
        fmt_f64(v)
    }
}

/// One end of a lex range: `-`, `+`, `[m` or `(m`.
fn lex_bound(b: &LexBound) -> Bytes {
    let (prefix, m) = match b {
        LexBound::NegInf => return Bytes::from_static(b"-"),
        LexBound::PosInf => return Bytes::from_static(b"+"),
        LexBound::Incl(m) => (b'[', m),
        LexBound::Excl(m) => (b'(', m),
    };
    let mut v = Vec::with_capacity(m.len() + 1);
    v.push(prefix);
    v.extend_from_slice(m);
    Bytes::from(v)
}

/// The two bounds of a range, in `min max` order.
fn bounds(a: &mut Argv, by: &RangeBy, swap: bool) {
    let (lo, hi) = match by {
        RangeBy::Rank { start, end } => {
            a.num(start).num(end);
            return;
        }
        RangeBy::Score(r) => (
            Bytes::from(score_bound(r.min, r.min_ex)),
            Bytes::from(score_bound(r.max, r.max_ex)),
        ),
        RangeBy::Lex(r) => (lex_bound(&r.min), lex_bound(&r.max)),
    };
    if swap {
        a.arg(&hi).arg(&lo);
    } else {
        a.arg(&lo).arg(&hi);
    }
}

/// `min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]` of ZRANGESTORE.
fn range_spec(a: &mut Argv, spec: &RangeSpec) {
    bounds(a, &spec.by, spec.rev);
    match spec.by {
        RangeBy::Rank { .. } => {}
        RangeBy::Score(_) => {
            a.kw("BYSCORE");
        }
        RangeBy::Lex(_) => {
            a.kw("BYLEX");
        }
    }
    if spec.rev {
        a.kw("REV");
    }
    // LIMIT is only accepted with BYSCORE/BYLEX; `0 -1` is its "no limit" default.
    if !matches!(spec.by, RangeBy::Rank { .. }) && (spec.offset, spec.limit) != (0, -1) {
        a.kw("LIMIT").num(spec.offset).num(spec.limit);
    }
}

pub(super) fn command(op: &ZSetOp) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        ZSetOp::Add { key, flags, pairs } => {
            a = Argv::new("ZADD");
            a.arg(key);
            for (on, kw) in [
                (flags.nx, "NX"),
                (flags.xx, "XX"),
                (flags.gt, "GT"),
                (flags.lt, "LT"),
                (flags.ch, "CH"),
                (flags.incr, "INCR"),
            ] {
                if on {
                    a.kw(kw);
                }
            }
            for (score, member) in pairs {
                a.float(*score).arg(member);
            }
        }
        ZSetOp::Rem { key, members } => {
            a = Argv::new("ZREM");
            a.arg(key).args(members);
        }
        ZSetOp::RangeStore { dst, src, spec } => {
            a = Argv::new("ZRANGESTORE");
            a.arg(dst).arg(src);
            range_spec(&mut a, spec);
        }
        ZSetOp::RemRange { key, by } => {
            a = Argv::new(match by {
                RangeBy::Rank { .. } => "ZREMRANGEBYRANK",
                RangeBy::Score(_) => "ZREMRANGEBYSCORE",
                RangeBy::Lex(_) => "ZREMRANGEBYLEX",
            });
            a.arg(key);
            bounds(&mut a, by, false);
        }
        ZSetOp::Pop {
            keys,
            max,
            count,
            shape,
            block_ms,
        } => {
            let side = if *max { "MAX" } else { "MIN" };
            match shape {
                PopShape::One | PopShape::Count => {
                    a = Argv::new(if *max { "ZPOPMAX" } else { "ZPOPMIN" });
                    a.args(keys.iter().take(1));
                    if *shape == PopShape::Count {
                        a.num(count);
                    }
                }
                PopShape::Blocking => {
                    a = Argv::new(if *max { "BZPOPMAX" } else { "BZPOPMIN" });
                    a.args(keys).text(fmt_timeout_secs(block_ms.unwrap_or(0)));
                }
                PopShape::Multi => {
                    match block_ms {
                        Some(ms) => {
                            a = Argv::new("BZMPOP");
                            a.text(fmt_timeout_secs(*ms));
                        }
                        None => a = Argv::new("ZMPOP"),
                    }
                    a.num(keys.len()).args(keys).kw(side);
                    if *count != 1 {
                        a.kw("COUNT").num(count);
                    }
                }
            }
        }
        ZSetOp::Combine {
            kind,
            dst: Some(dst),
            keys,
            weights,
            aggregate,
            with_scores: _,
            // An option error always fails the op (after the type checks), so it is never
            // logged; the command carries the valid options only.
            deferred: _,
        } => {
            a = Argv::new(match kind {
                SetOpKind::Union => "ZUNIONSTORE",
                SetOpKind::Inter => "ZINTERSTORE",
                SetOpKind::Diff => "ZDIFFSTORE",
            });
            a.arg(dst).num(keys.len()).args(keys);
            if weights.iter().any(|w| w.to_bits() != 1f64.to_bits()) {
                a.kw("WEIGHTS");
                for w in weights {
                    a.float(*w);
                }
            }
            match aggregate {
                Aggregate::Sum => {}
                Aggregate::Min => {
                    a.kw("AGGREGATE").kw("MIN");
                }
                Aggregate::Max => {
                    a.kw("AGGREGATE").kw("MAX");
                }
            }
        }
        ZSetOp::Combine { dst: None, .. }
        | ZSetOp::Card { .. }
        | ZSetOp::Score { .. }
        | ZSetOp::MScore { .. }
        | ZSetOp::Rank { .. }
        | ZSetOp::Count { .. }
        | ZSetOp::LexCount { .. }
        | ZSetOp::Range { .. }
        | ZSetOp::RandMember { .. }
        | ZSetOp::InterCard { .. }
        | ZSetOp::Scan { .. } => return None,
    }
    a.done()
}
