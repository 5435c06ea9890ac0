//! Aggregate accumulators: `count(*)`, `count`, `sum`, `avg`, `min`, `max`, `collect`, each
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
    /// For avg: running float sum.
    fsum: f64,
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
            best: None,
            items: Vec::new(),
        }
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
        }
    }
}
