//! FT.PROFILE: the op (`ProfileOp`: an FT.SEARCH plan plus LIMITED and the front-end's
//! parsing time), each shard's measurements (`ShardProfile`) and the reply in RediSearch 2.x's
//! shape: `[results, profile]`, the profile being `Total profile time`, `Parsing time`,
//! `Pipeline creation time`, `Iterators profile` and `Result processors profile`.
//!
//! What is measured: parsing (the front-end, arguments and query), each shard's execution of
//! the plan (filter evaluation, KNN, loading the reply fields: Moon runs them as one step),
//! the merge on the coordinating shard, and the whole command from dispatch to reply. The root
//! iterator carries the shards' execution time and match count; child iterators are listed
//! (type and field/term) without times or counters, which Moon does not collect per node, and
//! are left out under LIMITED. Result processors: `Index` (matches counted on the shards),
//! `Metrics Applier` for KNN, `Sorter` and `Loader` (the documents replied), with the merge
//! time on the Sorter. Times are milliseconds as RediSearch prints them. A `HYBRID RRF` search
//! adds a `Hybrid RRF` processor (Moon's; its Counter bounds the fused candidates).
//!
//! Invariant: the results part is exactly what FT.SEARCH with the same arguments replies.

use bytes::Bytes;

use super::query::{Query, SearchPlan};
use crate::ir::Reply;

/// An FT.PROFILE of an FT.SEARCH.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileOp {
    pub plan: SearchPlan,
    /// LIMITED: no child iterator details.
    pub limited: bool,
    /// Microseconds the front-end spent parsing the arguments and the query.
    pub parse_us: u64,
}

/// One shard's measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ShardProfile {
    /// Microseconds executing the plan.
    pub exec_us: u64,
    /// Matches on the shard (before LIMIT).
    pub total: u64,
    /// Hits the shard returned to the merge.
    pub returned: u64,
}

/// The coordinator's measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    pub parse_us: u64,
    /// Building the per-shard work (plan clone and dispatch).
    pub pipeline_us: u64,
    pub merge_us: u64,
    /// Dispatch to merged reply, plus parsing.
    pub total_us: u64,
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn ms(us: u64) -> Reply {
    Reply::Double(us as f64 / 1000.0)
}

/// A `[k, v, k, v ...]` record: a flat array in RESP2, a map in RESP3 (RediSearch's shapes).
fn record(pairs: Vec<(&str, Reply)>, resp3: bool) -> Reply {
    if resp3 {
        Reply::Map(pairs.into_iter().map(|(k, v)| (bulk(k), v)).collect())
    } else {
        Reply::Array(pairs.into_iter().flat_map(|(k, v)| [bulk(k), v]).collect())
    }
}

/// The iterator type RediSearch reports for a query node, and its field or term.
fn node_type(q: &Query) -> (&'static str, Option<Bytes>) {
    match q {
        Query::All => ("WILDCARD", None),
        Query::Nothing => ("EMPTY", None),
        Query::Tag { field, .. } => ("TAG", Some(field.clone())),
        Query::Numeric { field, .. } => ("NUMERIC", Some(field.clone())),
        Query::Range { field, .. } => ("VECTOR", Some(field.clone())),
        Query::And(_) | Query::Near { .. } => ("INTERSECT", None),
        Query::Or(_) => ("UNION", None),
        Query::Not(_) => ("NOT", None),
        Query::Optional(_) => ("OPTIONAL", None),
        Query::Text(_) => ("TEXT", None),
        Query::Geo { field, .. } => ("GEO", Some(field.clone())),
    }
}

fn children(q: &Query) -> Vec<&Query> {
    match q {
        Query::And(qs) | Query::Or(qs) | Query::Near { qs, .. } => qs.iter().collect(),
        Query::Not(q) | Query::Optional(q) => vec![&**q],
        _ => Vec::new(),
    }
}

/// An iterator record: its pairs, then `Child iterators` (RESP2: the children follow the key
/// flat, as RediSearch writes them; RESP3: an array).
fn iterator(pairs: Vec<(&str, Reply)>, kids: Vec<Reply>, resp3: bool) -> Reply {
    if kids.is_empty() {
        return record(pairs, resp3);
    }
    if resp3 {
        let mut pairs = pairs;
        pairs.push(("Child iterators", Reply::Array(kids)));
        return record(pairs, resp3);
    }
    let mut a: Vec<Reply> = pairs.into_iter().flat_map(|(k, v)| [bulk(k), v]).collect();
    a.push(bulk("Child iterators"));
    a.extend(kids);
    Reply::Array(a)
}

/// A child iterator: its type, field, and its own children (no time or counter).
fn child_iterator(q: &Query, resp3: bool) -> Reply {
    let (ty, field) = node_type(q);
    let mut pairs = vec![("Type", bulk(ty))];
    if let Some(f) = field {
        pairs.push(("Field", Reply::Bulk(f)));
    }
    let kids: Vec<Reply> = children(q)
        .into_iter()
        .map(|c| child_iterator(c, resp3))
        .collect();
    iterator(pairs, kids, resp3)
}

/// FT.PROFILE's reply from the FT.SEARCH `results`, every shard's measurements and the
/// coordinator's timings.
pub fn reply(
    op: &ProfileOp,
    results: Reply,
    shards: &[ShardProfile],
    t: Timings,
    resp3: bool,
) -> Reply {
    if results.is_err() {
        return results;
    }
    let plan = &op.plan;
    let exec_us = shards.iter().map(|s| s.exec_us).max().unwrap_or(0);
    let total: u64 = shards.iter().map(|s| s.total).sum();
    let returned: u64 = shards.iter().map(|s| s.returned).sum();
    // The documents in the reply: KNN keeps the global top k of the shards' hits; HYBRID at
    // most both windows (an upper bound: the shards' candidates may overlap).
    let available = match (&plan.knn, &plan.hybrid) {
        (Some(_), Some(h)) => returned.min(h.window.saturating_mul(2)),
        (Some(k), None) => returned.min(k.k),
        (None, _) => total,
    };
    let replied = available.saturating_sub(plan.offset).min(plan.num);
    // The root iterator: the KNN when there is one (its filter is the child), else the
    // filter's root node.
    let (root_ty, root_field, root_children): (&str, Option<Bytes>, Vec<&Query>) = match &plan.knn {
        Some(k) => ("VECTOR", Some(k.field.clone()), vec![&plan.query]),
        None => {
            let (ty, f) = node_type(&plan.query);
            (ty, f, children(&plan.query))
        }
    };
    let mut root = vec![("Type", bulk(root_ty))];
    if let Some(f) = root_field {
        root.push(("Field", Reply::Bulk(f)));
    }
    root.push(("Time", ms(exec_us)));
    root.push(("Counter", Reply::Int(total as i64)));
    let kids: Vec<Reply> = if op.limited {
        Vec::new()
    } else {
        root_children
            .into_iter()
            .map(|c| child_iterator(c, resp3))
            .collect()
    };
    let processor = |ty: &str, us: u64, n: u64| {
        record(
            vec![
                ("Type", bulk(ty)),
                ("Time", ms(us)),
                ("Counter", Reply::Int(n as i64)),
            ],
            resp3,
        )
    };
    let mut processors = vec![processor("Index", exec_us, total)];
    if plan.knn.is_some() {
        processors.push(processor("Metrics Applier", 0, returned));
    }
    if plan.hybrid.is_some() {
        // Moon's HYBRID RRF: the fusion runs in the merge (its time is the Sorter's).
        processors.push(processor("Hybrid RRF", 0, available));
    }
    processors.push(processor("Sorter", t.merge_us, replied));
    if !plan.nocontent {
        processors.push(processor("Loader", 0, replied));
    }
    let entries: Vec<(&str, Reply)> = vec![
        ("Total profile time", ms(t.total_us)),
        ("Parsing time", ms(t.parse_us)),
        ("Pipeline creation time", ms(t.pipeline_us)),
        ("Iterators profile", iterator(root, kids, resp3)),
        ("Result processors profile", Reply::Array(processors)),
    ];
    if resp3 {
        Reply::Map(vec![
            (bulk("Results"), results),
            (
                bulk("Profile"),
                Reply::Map(entries.into_iter().map(|(k, v)| (bulk(k), v)).collect()),
            ),
        ])
    } else {
        // RESP2: every entry is `[name, value]`, except the processors, which RediSearch
        // lists flat after the name.
        let profile = entries
            .into_iter()
            .map(|(k, v)| match v {
                Reply::Array(items) if k == "Result processors profile" => {
                    let mut a = vec![bulk(k)];
                    a.extend(items);
                    Reply::Array(a)
                }
                v => Reply::Array(vec![bulk(k), v]),
            })
            .collect();
        Reply::Array(vec![results, Reply::Array(profile)])
    }
}
