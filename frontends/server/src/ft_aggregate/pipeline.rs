//! FT.AGGREGATE's pipeline, run by the server over every shard's rows: the lowering of the
//! steps into the shards' load requests ([`load_reqs`]), LOAD, GROUPBY + REDUCE, APPLY,
//! FILTER, SORTBY/MAX/LIMIT in the order given, and the reply shapes (RESP2
//! `[total, [k, v, ...], ...]`, RESP3 RediSearch 2.8's map).
//!
//! Invariants: [`load_reqs`] asks the shards for, per doc, the explicit LOADs first and
//! then, in order of first use, the schema fields the steps before the first GROUPBY read
//! (RediSearch's implicit load); every property a step reads must be produced by an earlier
//! step, loaded, or in the schema, and the first one that is not is the error (shards check
//! the schema part, so the text and order are those of one walk over the steps). The server
//! concatenates the parts, orders them by key (RediSearch's order is its internal doc id,
//! which has no cross-shard meaning) and runs [`run`]; so the result does not depend on the
//! number of shards.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use moon_engine::ir::Reply;
use moon_engine::search::aggregate::{AggPart, FieldValue, KEY_FIELD, LoadReq, Rec};
use moon_engine::search::query::fmt_num;
use moon_ft::aggregate::{LoadField, Reducer, ReducerFn, SortKey};
use moon_ft::{Expr, Step, Value};

/// RediSearch's limit of an arrange step with SORTBY and neither MAX nor LIMIT.
pub const DEFAULT_SORT_LIMIT: usize = 10;

/// A pipeline row: the key it came from and its fields in output order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub key: Bytes,
    pub fields: Vec<(String, Value)>,
}

impl Row {
    fn set(&mut self, name: &str, v: Value) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, slot)) => *slot = v,
            None => self.fields.push((name.to_string(), v)),
        }
    }

    pub(super) fn value(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl From<Rec> for Row {
    fn from(r: Rec) -> Self {
        Row {
            key: r.key,
            fields: r
                .fields
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        FieldValue::Num(n) => Value::Num(n),
                        FieldValue::Str(s) => Value::Str(s),
                    };
                    (k, v)
                })
                .collect(),
        }
    }
}

impl moon_ft::Row for Row {
    fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.value(name) {
            return Some(v.clone());
        }
        (name == KEY_FIELD && !self.key.is_empty())
            .then(|| Value::Str(String::from_utf8_lossy(&self.key).into_owned()))
    }
}

fn props(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Prop(p) => out.push(p.clone()),
        Expr::Bin(_, a, b) | Expr::Cmp(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
            props(a, out);
            props(b, out);
        }
        Expr::Not(a) => props(a, out),
        Expr::Func { args, .. } => args.iter().for_each(|a| props(a, out)),
        Expr::Num(_) | Expr::Str(_) | Expr::Null => {}
    }
}

fn reducer_props(r: &Reducer) -> Vec<String> {
    match &r.func {
        ReducerFn::Count => Vec::new(),
        ReducerFn::CountDistinct(f)
        | ReducerFn::CountDistinctish(f)
        | ReducerFn::Sum(f)
        | ReducerFn::Min(f)
        | ReducerFn::Max(f)
        | ReducerFn::Avg(f)
        | ReducerFn::StdDev(f)
        | ReducerFn::Quantile(f, _)
        | ReducerFn::ToList(f)
        | ReducerFn::RandomSample(f, _) => vec![f.clone()],
        ReducerFn::FirstValue { field, by } => {
            let mut v = vec![field.clone()];
            v.extend(by.as_ref().map(|b| b.field.clone()));
            v
        }
    }
}

/// The walk's state: what rows hold at this point of the pipeline.
struct Walk {
    reqs: Vec<LoadReq>,
    /// Names rows are known to hold.
    known: HashSet<String>,
    /// Past a GROUPBY: only the group's fields and reducers' aliases exist.
    grouped: bool,
    /// `LOAD *` before any GROUPBY: every name may exist.
    all: bool,
}

impl Walk {
    /// A step reads `name`: fine if known; before GROUPBY a schema field the shards load
    /// (or fail with `err`); after GROUPBY an error.
    fn need(&mut self, name: &str, err: &dyn Fn(&str) -> String) {
        if self.known.contains(name) || (!self.grouped && (self.all || name == KEY_FIELD)) {
            return;
        }
        if self.grouped {
            self.reqs.push(LoadReq::Fail(err(name)));
        } else {
            self.reqs.push(LoadReq::Schema {
                name: name.to_string(),
                err: err(name),
            });
        }
        self.known.insert(name.to_string());
    }
}

/// The shards' load requests for `steps` (module docs). Requests past the first `Fail`
/// are never reached, so the walk stops there.
pub fn load_reqs(steps: &[Step]) -> Vec<LoadReq> {
    let mut w = Walk {
        reqs: Vec::new(),
        known: HashSet::new(),
        grouped: false,
        all: false,
    };
    let not_loaded = |n: &str| format!("Property `{n}` not loaded nor in schema");
    for step in steps {
        if matches!(w.reqs.last(), Some(LoadReq::Fail(_))) {
            break;
        }
        match step {
            Step::Load(None) => {
                if !w.grouped {
                    w.all = true;
                    w.reqs.push(LoadReq::All);
                }
            }
            Step::Load(Some(list)) => {
                if w.grouped {
                    continue;
                }
                for LoadField { path, name } in list {
                    w.reqs.push(LoadReq::Field {
                        path: path.trim_start_matches('@').to_string(),
                        name: name.clone(),
                    });
                    w.known.insert(name.clone());
                }
            }
            Step::GroupBy { fields, reducers } => {
                for f in fields {
                    w.need(f, &|n| format!("No such property `{n}`"));
                }
                for r in reducers {
                    for f in reducer_props(r) {
                        w.need(&f, &|n| {
                            format!("Property `{n}` not present in document or pipeline")
                        });
                    }
                }
                w.grouped = true;
                w.known = fields.iter().cloned().collect();
                w.known.extend(reducers.iter().map(|r| r.alias.clone()));
            }
            Step::Apply { expr, alias, .. } => {
                let mut ps = Vec::new();
                props(expr, &mut ps);
                for p in ps {
                    w.need(&p, &not_loaded);
                }
                w.known.insert(alias.clone());
            }
            Step::Filter { expr, .. } => {
                let mut ps = Vec::new();
                props(expr, &mut ps);
                for p in ps {
                    w.need(&p, &not_loaded);
                }
            }
            Step::Arrange { sort, .. } => {
                for k in sort {
                    w.need(&k.field, &not_loaded);
                }
            }
        }
    }
    w.reqs
}

/// The pipeline's result: the rows and the count RediSearch reports as the total.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    pub total: u64,
    pub rows: Vec<Row>,
}

/// Concatenates every shard's part (the first error wins) and runs the pipeline.
pub fn merge(steps: &[Step], parts: Vec<Result<AggPart, String>>) -> Result<Output, String> {
    let mut rows: Vec<Row> = Vec::new();
    for p in parts {
        rows.extend(p?.rows.into_iter().map(Row::from));
    }
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    run(steps, rows)
}

/// Runs the pipeline steps in order over `rows` (already in key order).
pub fn run(steps: &[Step], mut rows: Vec<Row>) -> Result<Output, String> {
    let mut total = rows.len() as u64;
    for step in steps {
        match step {
            Step::Load(_) => {}
            Step::GroupBy { fields, reducers } => rows = group(rows, fields, reducers),
            Step::Apply { expr, alias, .. } => {
                for r in &mut rows {
                    let v = moon_ft::eval(expr, r).map_err(|e| e.to_string())?;
                    r.set(alias, v);
                }
            }
            Step::Filter { expr, .. } => {
                let mut kept = Vec::with_capacity(rows.len());
                for r in rows {
                    if moon_ft::eval(expr, &r).map_err(|e| e.to_string())?.truthy() {
                        kept.push(r);
                    }
                }
                rows = kept;
            }
            Step::Arrange { sort, max, limit } => {
                total = rows.len() as u64;
                if !sort.is_empty() {
                    sort_rows(&mut rows, sort);
                    let keep = match (limit, max) {
                        (Some((off, num)), _) => off.saturating_add(*num),
                        (None, Some(m)) => *m,
                        (None, None) => DEFAULT_SORT_LIMIT as u64,
                    };
                    rows.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
                }
                if let Some((off, num)) = limit {
                    let off = usize::try_from(*off).unwrap_or(usize::MAX);
                    let num = usize::try_from(*num).unwrap_or(usize::MAX);
                    rows = rows.into_iter().skip(off).take(num).collect();
                }
                continue;
            }
        }
        total = rows.len() as u64;
    }
    Ok(Output { total, rows })
}

/// Sorts by the keys; a row missing a key sorts after the rows having it, in both directions.
fn sort_rows(rows: &mut [Row], keys: &[SortKey]) {
    rows.sort_by(|a, b| {
        for k in keys {
            let o = match (a.value(&k.field), b.value(&k.field)) {
                (Some(x), Some(y)) => {
                    let o = moon_ft::expr::eval::compare(x, y);
                    if k.descending { o.reverse() } else { o }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

/// A group-key component: values equal as RediSearch's grouper hashes them.
fn group_key(v: &Value) -> String {
    match v {
        Value::Null => "\0n".into(),
        Value::Num(n) => format!("\0d{}", fmt_num(*n)),
        other => format!("\0s{}", other.to_display()),
    }
}

fn group(rows: Vec<Row>, fields: &[String], reducers: &[Reducer]) -> Vec<Row> {
    let mut order: Vec<(Vec<Value>, Vec<Row>)> = Vec::new();
    let mut at: HashMap<Vec<String>, usize> = HashMap::new();
    for r in rows {
        let vals: Vec<Value> = fields
            .iter()
            .map(|f| r.value(f).cloned().unwrap_or(Value::Null))
            .collect();
        let k: Vec<String> = vals.iter().map(group_key).collect();
        match at.get(&k) {
            Some(&i) => {
                if let Some(g) = order.get_mut(i) {
                    g.1.push(r);
                }
            }
            None => {
                at.insert(k, order.len());
                order.push((vals, vec![r]));
            }
        }
    }
    order
        .into_iter()
        .map(|(vals, members)| {
            let mut out = Row::default();
            for (f, v) in fields.iter().zip(vals) {
                out.set(f, v);
            }
            for red in reducers {
                let v = reduce(&red.func, &members);
                out.set(&red.alias, v);
            }
            out
        })
        .collect()
}

fn nums<'a>(rows: &'a [Row], f: &'a str) -> impl Iterator<Item = f64> + 'a {
    rows.iter()
        .filter_map(move |r| r.value(f))
        .flat_map(|v| match v {
            Value::Array(a) => a.iter().filter_map(Value::to_number).collect::<Vec<_>>(),
            v => v.to_number().into_iter().collect(),
        })
}

/// The non-null values of `f`.
fn present<'a>(rows: &'a [Row], f: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    rows.iter()
        .filter_map(move |r| r.value(f))
        .filter(|v| !matches!(v, Value::Null))
}

fn reduce(func: &ReducerFn, rows: &[Row]) -> Value {
    match func {
        ReducerFn::Count => Value::Num(rows.len() as f64),
        ReducerFn::CountDistinct(f) | ReducerFn::CountDistinctish(f) => {
            let set: HashSet<String> = present(rows, f).map(group_key).collect();
            Value::Num(set.len() as f64)
        }
        ReducerFn::Sum(f) => Value::Num(nums(rows, f).sum()),
        ReducerFn::Min(f) => nums(rows, f)
            .reduce(f64::min)
            .map_or(Value::Null, Value::Num),
        ReducerFn::Max(f) => nums(rows, f)
            .reduce(f64::max)
            .map_or(Value::Null, Value::Num),
        ReducerFn::Avg(f) => {
            let (s, n) = nums(rows, f).fold((0.0, 0u64), |(s, n), x| (s + x, n + 1));
            Value::Num(if n == 0 { 0.0 } else { s / n as f64 })
        }
        ReducerFn::StdDev(f) => {
            let xs: Vec<f64> = nums(rows, f).collect();
            let n = xs.len() as f64;
            if xs.len() < 2 {
                return Value::Num(0.0);
            }
            let mean = xs.iter().sum::<f64>() / n;
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
            Value::Num(var.sqrt())
        }
        ReducerFn::Quantile(f, q) => {
            let mut xs: Vec<f64> = nums(rows, f).collect();
            if xs.is_empty() {
                return Value::Null;
            }
            xs.sort_by(f64::total_cmp);
            let i = ((xs.len() as f64) * q).floor() as usize;
            Value::Num(xs.get(i.min(xs.len() - 1)).copied().unwrap_or(0.0))
        }
        ReducerFn::ToList(f) => {
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for v in present(rows, f) {
                let items = match v {
                    Value::Array(a) => a.clone(),
                    v => vec![v.clone()],
                };
                for it in items {
                    if seen.insert(group_key(&it)) {
                        out.push(it);
                    }
                }
            }
            Value::Array(out)
        }
        ReducerFn::FirstValue { field, by } => {
            let Some(by) = by else {
                return rows
                    .iter()
                    .find_map(|r| r.value(field).cloned())
                    .unwrap_or(Value::Null);
            };
            let mut best: Option<(&Value, &Row)> = None;
            for r in rows {
                let Some(k) = r.value(&by.field) else {
                    continue;
                };
                let better = match best {
                    None => true,
                    Some((b, _)) => {
                        let o = moon_ft::expr::eval::compare(k, b);
                        if by.descending { o.is_gt() } else { o.is_lt() }
                    }
                };
                if better {
                    best = Some((k, r));
                }
            }
            best.and_then(|(_, r)| r.value(field).cloned())
                .unwrap_or(Value::Null)
        }
        ReducerFn::RandomSample(f, n) => {
            // Reservoir sampling with a fixed-seed generator: a uniform sample, reproducible.
            let mut out: Vec<Value> = Vec::new();
            let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
            let cap = usize::try_from(*n).unwrap_or(usize::MAX);
            for (seen, v) in present(rows, f).enumerate() {
                if out.len() < cap {
                    out.push(v.clone());
                    continue;
                }
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let j = usize::try_from(state % (seen as u64 + 1)).unwrap_or(usize::MAX);
                if let Some(slot) = out.get_mut(j) {
                    *slot = v.clone();
                }
            }
            Value::Array(out)
        }
    }
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// A value as RediSearch replies it: numbers as `%.12g` strings, NULL as nil.
pub fn value_reply(v: &Value) -> Reply {
    match v {
        Value::Null => Reply::Nil,
        Value::Num(n) => Reply::Bulk(Bytes::from(fmt_num(*n))),
        Value::Str(s) => bulk(s),
        Value::Array(a) => Reply::Array(a.iter().map(value_reply).collect()),
    }
}

/// The reply to a chunk of rows: RESP2 `[total, [k, v, ...], ...]`, or (`resp3`) the map
/// `attributes`, `format`, `results` [{`extra_attributes`, `values`}], `total_results`,
/// `warning`.
pub fn reply(total: u64, rows: impl Iterator<Item = Row>, resp3: bool) -> Reply {
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    if resp3 {
        let results = rows
            .map(|r| {
                let attrs = r
                    .fields
                    .iter()
                    .map(|(k, v)| (bulk(k), value_reply(v)))
                    .collect();
                Reply::Map(vec![
                    (bulk("extra_attributes"), Reply::Map(attrs)),
                    (bulk("values"), Reply::Array(Vec::new())),
                ])
            })
            .collect();
        return Reply::Map(vec![
            (bulk("attributes"), Reply::Array(Vec::new())),
            (bulk("format"), bulk("STRING")),
            (bulk("results"), Reply::Array(results)),
            (bulk("total_results"), Reply::Int(total)),
            (bulk("warning"), Reply::Array(Vec::new())),
        ]);
    }
    let mut out = vec![Reply::Int(total)];
    for r in rows {
        let mut f = Vec::with_capacity(r.fields.len() * 2);
        for (k, v) in &r.fields {
            f.push(bulk(k));
            f.push(value_reply(v));
        }
        out.push(Reply::Array(f));
    }
    Reply::Array(out)
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
