//! Aggregate accumulators: `count(*)`, `count`, `sum`, `avg`, `min`, `max`, `collect`,
//! `stDev`, `stDevP`, `percentileCont`, `percentileDisc`, each
//! optionally DISTINCT (null inputs are ignored by every aggregate except `count(*)`).

use std::collections::HashSet;

use super::ExecError;
use super::eval::{binary, mismatch};
use super::rvalue::{Grouped, NULL, ResultValue as RV};
use crate::plan::{AggFunc, BinOp};
use crate::value::Value;

/// State of one aggregate in one group.
pub(crate) struct Acc {
    func: AggFunc,
    seen: Option<HashSet<Grouped>>,
    count: i64,
    sum: RV,
    /// For avg: running float sum; for stDev: running mean.
    fsum: f64,
    /// For stDev: sum of squared deviations from the running mean.
    m2: f64,
    best: Option<RV>,
    items: Vec<RV>,
}

impl Acc {
    pub(crate) fn new(func: AggFunc, distinct: bool) -> Acc {
        Acc {
            func,
            seen: distinct.then(HashSet::new),
            count: 0,
            sum: RV::Value(Value::Int(0)),
            fsum: 0.0,
            m2: 0.0,
            best: None,
            items: Vec::new(),
        }
    }

    /// Feeds `n` inputs known to be counted (`count(*)`, or non-null values of a non-distinct
    /// `count`) at once.
    pub(crate) fn add_count(&mut self, n: u64) {
        self.count = self
            .count
            .saturating_add(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Feeds one input (`None` for `count(*)`).
    pub(crate) fn add(&mut self, v: Option<RV>) -> Result<(), ExecError> {
        let Some(v) = v else {
            self.count += 1;
            return Ok(());
        };
        if v.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(Grouped(v.clone()))
        {
            return Ok(());
        }
        match self.func {
            AggFunc::CountStar | AggFunc::Count => self.count += 1,
            AggFunc::Sum => {
                if !matches!(v, RV::Value(Value::Int(_) | Value::Float(_))) {
                    return Err(mismatch("Integer or Float", &v));
                }
                let s = std::mem::replace(&mut self.sum, NULL);
                self.sum = binary(BinOp::Add, s, v)?;
            }
            AggFunc::Avg => {
                self.fsum += match v {
                    RV::Value(Value::Int(i)) => i as f64,
                    RV::Value(Value::Float(f)) => f,
                    other => return Err(mismatch("Integer or Float", &other)),
                };
                self.count += 1;
            }
            AggFunc::Min | AggFunc::Max => {
                let replace = match &self.best {
                    None => true,
                    Some(b) => {
                        let o = v.order_cmp(b);
                        if self.func == AggFunc::Min {
                            o.is_lt()
                        } else {
                            o.is_gt()
                        }
                    }
                };
                if replace {
                    self.best = Some(v);
                }
            }
            AggFunc::Collect => self.items.push(v),
            AggFunc::PercentileCont | AggFunc::PercentileDisc => {
                let Some(pair) = v.list_items() else {
                    return Err(mismatch("List", &v));
                };
                let (Some(x), Some(p)) = (pair.first(), pair.get(1)) else {
                    return Err(mismatch("List", &v));
                };
                if self.best.is_none() {
                    let p = match p {
                        RV::Value(Value::Int(i)) => *i as f64,
                        RV::Value(Value::Float(f)) => *f,
                        other => return Err(mismatch("Integer or Float", other)),
                    };
                    if !(0.0..=1.0).contains(&p) {
                        return Err(ExecError::Invalid(format!(
                            "Invalid input '{p}' is not a valid argument, must be a number in the range 0.0 to 1.0"
                        )));
                    }
                    self.best = Some(RV::Value(Value::Float(p)));
                }
                match x {
                    RV::Value(Value::Null) => {}
                    RV::Value(Value::Int(_) | Value::Float(_)) => self.items.push(x.clone()),
                    other => return Err(mismatch("Integer or Float", other)),
                }
            }
            AggFunc::StDev | AggFunc::StDevP => {
                let x = match v {
                    RV::Value(Value::Int(i)) => i as f64,
                    RV::Value(Value::Float(f)) => f,
                    other => return Err(mismatch("Integer or Float", &other)),
                };
                // Welford's online update: `fsum` is the mean, `m2` the squared deviations.
                self.count += 1;
                let delta = x - self.fsum;
                self.fsum += delta / self.count as f64;
                self.m2 += delta * (x - self.fsum);
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> RV {
        match self.func {
            AggFunc::CountStar | AggFunc::Count => RV::Value(Value::Int(self.count)),
            AggFunc::Sum => self.sum,
            AggFunc::Avg if self.count == 0 => NULL,
            AggFunc::Avg => RV::Value(Value::Float(self.fsum / self.count as f64)),
            AggFunc::Min | AggFunc::Max => self.best.unwrap_or(NULL),
            AggFunc::Collect => RV::list(self.items),
            AggFunc::PercentileCont | AggFunc::PercentileDisc => {
                percentile(self.func, self.items, self.best)
            }
            AggFunc::StDev | AggFunc::StDevP => {
                let n = self.count as f64;
                let div = if self.func == AggFunc::StDev {
                    n - 1.0
                } else {
                    n
                };
                RV::Value(Value::Float(if div <= 0.0 {
                    0.0
                } else {
                    (self.m2 / div).sqrt()
                }))
            }
        }
    }
}

/// `percentileCont` / `percentileDisc` over numeric `items` at percentile `p` (a Float set
/// by the first input); null for no input. Disc returns an element as is (Int stays Int).
fn percentile(func: AggFunc, mut items: Vec<RV>, p: Option<RV>) -> RV {
    let Some(RV::Value(Value::Float(p))) = p else {
        return NULL;
    };
    if items.is_empty() {
        return NULL;
    }
    items.sort_by(|a, b| a.order_cmp(b));
    let num = |v: &RV| match v {
        RV::Value(Value::Int(i)) => *i as f64,
        RV::Value(Value::Float(f)) => *f,
        _ => f64::NAN,
    };
    let n = items.len();
    if func == AggFunc::PercentileDisc {
        // Neo4j/FalkorDB: index ceil(p * n) - 1, at least 0.
        let i = ((p * n as f64).ceil() as usize)
            .saturating_sub(1)
            .min(n - 1);
        return items.swap_remove(i);
    }
    let pos = p * (n - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (a, b) = (num(&items[lo.min(n - 1)]), num(&items[hi.min(n - 1)]));
    RV::Value(Value::Float(a + (b - a) * (pos - lo as f64)))
}
