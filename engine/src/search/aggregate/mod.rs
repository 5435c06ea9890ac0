//! FT.AGGREGATE's shard part: evaluate the query and return one row per matching doc holding
//! the fields the server's pipeline needs. The pipeline itself (GROUPBY/REDUCE, APPLY,
//! FILTER, SORTBY/LIMIT) and cursors belong to the server (`frontends/server/src/
//! ft_aggregate/`), which lowers the steps into this plan's [`LoadReq`] list.
//!
//! Invariants: a shard never runs a pipeline step and sees no front-end type. It checks the
//! index exists, then resolves the load requests in order against its schema (the same
//! definitions on every shard make every shard fail alike, with the first failing request's
//! text), then evaluates the query. Each row holds the loaded fields in request order (a
//! name loaded twice keeps its first position and last value); `LOAD *` adds the hash's
//! remaining fields after them. NUMERIC schema fields load as numbers, everything else as
//! strings; expired hash fields are absent.

use std::collections::HashSet;

use bytes::Bytes;

use super::numeric::parse_numeric;
use super::query::{SearchPlan, evaluate, fmt_num, no_such_index};
use super::registry::Registry;
use super::schema::FieldType;
use crate::ir::Reply;
use crate::keyspace::{Db, Entry};
use crate::types::hash::NO_TTL;

/// The pseudo-field naming a row's key (`LOAD 1 @__key`).
pub const KEY_FIELD: &str = "__key";

/// One FT.AGGREGATE's shard work.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatePlan {
    /// The index and the query (with its text options), as FT.SEARCH lowers them; its
    /// paging and return fields are unused.
    pub search: SearchPlan,
    /// What to load per doc, in order.
    pub load: Vec<LoadReq>,
}

/// One load request.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadReq {
    /// `LOAD *`: every live field of the doc's hash, after the named ones.
    All,
    /// An explicit `LOAD path AS name`: the schema field `path` names (typed by its schema
    /// type), else the hash field `path` as a string; `__key` loads the key.
    Field { path: String, name: String },
    /// An implicit load of schema field `name` (a property a step reads): fails with `err`
    /// when the schema has no such field.
    Schema { name: String, err: String },
    /// A property error the server found (e.g. after GROUPBY), raised once the index is
    /// known to exist so the error order matches RediSearch's.
    Fail(String),
}

/// A loaded value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Num(f64),
    Str(String),
}

/// One doc's row: its key and its loaded fields in output order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rec {
    pub key: Bytes,
    pub fields: Vec<(String, FieldValue)>,
}

impl Rec {
    fn set(&mut self, name: &str, v: FieldValue) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, slot)) => *slot = v,
            None => self.fields.push((name.to_string(), v)),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }
}

/// One shard's rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AggPart {
    pub rows: Vec<Rec>,
}

/// What a shard loads per doc: `LOAD *`, and `(hash field, output name, numeric)` triples
/// (an empty hash field means the key).
struct LoadPlan {
    all: bool,
    fields: Vec<(Bytes, String, bool)>,
}

/// Resolves the requests against the index's schema (module docs).
fn resolve(idx: &super::index::Index, reqs: &[LoadReq]) -> Result<LoadPlan, String> {
    let schema = |name: &str| -> Option<(Bytes, bool)> {
        let pos = idx.def.field_position(name.as_bytes())?;
        let f = idx.def.fields.get(pos)?;
        Some((f.identifier.clone(), matches!(f.ty, FieldType::Numeric)))
    };
    let mut plan = LoadPlan {
        all: false,
        fields: Vec::new(),
    };
    for r in reqs {
        match r {
            LoadReq::All => plan.all = true,
            LoadReq::Field { path, name } => {
                if path == KEY_FIELD {
                    plan.fields.push((Bytes::new(), name.clone(), false));
                } else {
                    let (ident, numeric) = schema(path)
                        .unwrap_or_else(|| (Bytes::copy_from_slice(path.as_bytes()), false));
                    plan.fields.push((ident, name.clone(), numeric));
                }
            }
            LoadReq::Schema { name, err } => match schema(name) {
                Some((ident, numeric)) => plan.fields.push((ident, name.clone(), numeric)),
                None => return Err(err.clone()),
            },
            LoadReq::Fail(e) => return Err(e.clone()),
        }
    }
    Ok(plan)
}

/// This shard's part of `plan` over registry `reg` and indexed database `db`.
pub fn execute(
    reg: &Registry,
    db: &Db,
    plan: &AggregatePlan,
    now_ms: u64,
) -> Result<AggPart, String> {
    let idx = reg
        .get(&plan.search.index)
        .ok_or_else(|| no_such_index(&plan.search.index))?;
    let load = resolve(idx, &plan.load)?;
    let (ids, _scores) = evaluate(reg, &plan.search, None)?;
    let numeric_ident: HashSet<&[u8]> = idx
        .def
        .fields
        .iter()
        .filter(|f| matches!(f.ty, FieldType::Numeric))
        .map(|f| &f.identifier[..])
        .collect();
    let typed = |raw: &[u8], numeric: bool| -> FieldValue {
        if numeric && let Some(n) = parse_numeric(raw) {
            return FieldValue::Num(n);
        }
        FieldValue::Str(String::from_utf8_lossy(raw).into_owned())
    };
    let mut rows = Vec::with_capacity(ids.len() as usize);
    for id in &ids {
        let Some(doc) = idx.docs.get(id) else {
            continue;
        };
        let hash = db.peek(&doc.key, now_ms).and_then(Entry::hash);
        let live =
            |r: &crate::types::hash::FieldRef<'_>| r.expire_at == NO_TTL || r.expire_at > now_ms;
        let mut rec = Rec {
            key: doc.key.clone(),
            fields: Vec::new(),
        };
        for (ident, name, numeric) in &load.fields {
            if ident.is_empty() {
                rec.set(
                    name,
                    FieldValue::Str(String::from_utf8_lossy(&doc.key).into_owned()),
                );
            } else if let Some(r) = hash.and_then(|h| h.get(ident)).filter(live) {
                rec.set(name, typed(r.value, *numeric));
            }
        }
        if load.all
            && let Some(h) = hash
        {
            for r in h.iter().filter(live) {
                let name = String::from_utf8_lossy(r.field).into_owned();
                if !rec.has(&name) {
                    rec.set(&name, typed(r.value, numeric_ident.contains(r.field)));
                }
            }
        }
        rows.push(rec);
    }
    Ok(AggPart { rows })
}

/// A part as the RESP2 reply of an aggregate without steps, `[rows, [k, v, ...], ...]`:
/// the answer of `Shard::apply` (outside the server, which runs the pipeline itself).
pub fn part_reply(part: Result<AggPart, String>) -> Reply {
    let part = match part {
        Ok(p) => p,
        Err(e) => return Reply::Err(crate::ir::OpError::Other(e)),
    };
    let mut rows = part.rows;
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = vec![Reply::Int(i64::try_from(rows.len()).unwrap_or(i64::MAX))];
    for r in rows {
        let mut f = Vec::with_capacity(r.fields.len() * 2);
        for (k, v) in r.fields {
            f.push(Reply::Bulk(Bytes::from(k)));
            f.push(Reply::Bulk(match v {
                FieldValue::Num(n) => Bytes::from(fmt_num(n)),
                FieldValue::Str(s) => Bytes::from(s),
            }));
        }
        out.push(Reply::Array(f));
    }
    Reply::Array(out)
}

#[cfg(test)]
mod tests;
