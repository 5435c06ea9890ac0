//! FT.SEARCH's executable plan and its per-shard execution and cross-shard merge.
//!
//! The front-end parses the query text and lowers it into a [`SearchPlan`] (the engine never
//! sees query syntax). Each shard evaluates the plan over its own docs ([`execute`]) into a
//! [`SearchPart`]; the server merges every shard's part into the reply ([`merge`]).
//!
//! Invariants: a shard's part holds at most `offset + num` hits for a non-KNN query (every
//! shard's first `offset + num` in the final order include the global ones) and at most `k`
//! for a KNN query; hits carry everything the merge orders by (key, distance, sort value),
//! so the merge never goes back to a shard. Ordering: KNN by distance then key; otherwise by
//! key (RediSearch orders by internal doc id, which has no cross-shard meaning), or by the
//! SORTBY value (missing values last) then key.

use std::collections::HashMap;
use std::ops::Bound;

use bytes::Bytes;
use roaring::RoaringBitmap;

use super::index::{FieldIndex, Index, decode_vector};
use super::numeric::parse_numeric;
use super::registry::Registry;
use super::schema::FieldType;
use crate::ir::{OpError, Reply};
use crate::keyspace::{Db, LargeValue};
use crate::types::hash::NO_TTL;

/// A tag pattern of `@t:{...}` (values as typed; case folded per the field at execution).
#[derive(Debug, Clone, PartialEq)]
pub enum TagMatch {
    Exact(Bytes),
    Prefix(Bytes),
    Suffix(Bytes),
    Infix(Bytes),
}

/// A doc filter (the non-vector part of the query, plus vector ranges).
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// `*`.
    All,
    /// Matches nothing (an all-stopword query).
    Nothing,
    Tag {
        field: Bytes,
        values: Vec<TagMatch>,
    },
    Numeric {
        field: Bytes,
        min: f64,
        max: f64,
        min_inclusive: bool,
        max_inclusive: bool,
    },
    /// `@v:[VECTOR_RANGE r $B]`; `yield_as` names the distance field.
    Range {
        field: Bytes,
        radius: f64,
        blob: Bytes,
        epsilon: Option<f64>,
        yield_as: Option<Bytes>,
    },
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    /// Only scores in RediSearch: matches what the rest matches, i.e. everything here.
    Optional(Box<Query>),
}

/// `=>[KNN k @field $B EF_RUNTIME r AS score]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Knn {
    pub field: Bytes,
    pub k: u64,
    pub blob: Bytes,
    pub ef_runtime: Option<usize>,
    pub score_field: Bytes,
}

/// One FT.SEARCH.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    pub index: Bytes,
    /// The filter (KNN's prefilter when `knn` is set).
    pub query: Query,
    pub knn: Option<Knn>,
    pub nocontent: bool,
    pub withscores: bool,
    /// `RETURN n f [AS a]...`: `(field, name to reply)`.
    pub return_fields: Option<Vec<(Bytes, Bytes)>>,
    /// `(field, descending)`.
    pub sortby: Option<(Bytes, bool)>,
    pub offset: u64,
    pub num: u64,
}

/// A SORTBY value.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Num(f64),
    Str(Bytes),
}

/// One matching doc of one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub key: Bytes,
    /// KNN distance.
    pub dist: Option<f32>,
    pub sort: Option<SortKey>,
    /// `(name, value)` to reply, in order.
    pub fields: Vec<(Bytes, Bytes)>,
}

/// One shard's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPart {
    pub total: u64,
    pub hits: Vec<Hit>,
}

/// RediSearch 2.8's reply to an unknown index in FT.SEARCH.
pub fn no_such_index(name: &[u8]) -> String {
    format!("{}: no such index", String::from_utf8_lossy(name))
}

fn field_err(field: &[u8], what: &str) -> String {
    format!("Unknown field `{}`{what}", String::from_utf8_lossy(field))
}

/// Distances of range nodes that yield them: `(name, id → distance)`.
type Yields = Vec<(Bytes, HashMap<u32, f32>)>;

/// Evaluates `q` to the ids of the docs it matches.
fn eval(
    idx: &Index,
    all: &RoaringBitmap,
    q: &Query,
    y: &mut Yields,
) -> Result<RoaringBitmap, String> {
    Ok(match q {
        Query::All | Query::Optional(_) => all.clone(),
        Query::Nothing => RoaringBitmap::new(),
        Query::And(qs) => {
            let mut out = all.clone();
            for q in qs {
                out &= eval(idx, all, q, y)?;
            }
            out
        }
        Query::Or(qs) => {
            let mut out = RoaringBitmap::new();
            for q in qs {
                out |= eval(idx, all, q, y)?;
            }
            out
        }
        Query::Not(q) => all - eval(idx, all, q, y)?,
        Query::Tag { field, values } => {
            // RediSearch 2.8 matches nothing on a field the schema lacks (no error).
            let Some(pos) = idx.def.field_position(field) else {
                return Ok(RoaringBitmap::new());
            };
            let (Some(FieldIndex::Tag(t)), Some(FieldType::Tag { case_sensitive, .. })) =
                (idx.fields.get(pos), idx.def.fields.get(pos).map(|f| &f.ty))
            else {
                return Err(field_err(field, " is not a TAG field"));
            };
            let fold = |b: &Bytes| -> Vec<u8> {
                if *case_sensitive {
                    b.to_vec()
                } else {
                    b.to_ascii_lowercase()
                }
            };
            let mut out = RoaringBitmap::new();
            for v in values {
                match v {
                    TagMatch::Exact(s) => {
                        if let Some(b) = t.get(&fold(s)) {
                            out |= b;
                        }
                    }
                    TagMatch::Prefix(s) | TagMatch::Suffix(s) | TagMatch::Infix(s) => {
                        let p = fold(s);
                        for (tag, b) in t.iter() {
                            let hit = match v {
                                TagMatch::Prefix(_) => tag.starts_with(&p),
                                TagMatch::Suffix(_) => tag.ends_with(&p),
                                _ => p.is_empty() || tag.windows(p.len()).any(|w| w == p),
                            };
                            if hit {
                                out |= b;
                            }
                        }
                    }
                }
            }
            out
        }
        Query::Numeric {
            field,
            min,
            max,
            min_inclusive,
            max_inclusive,
        } => {
            let Some(pos) = idx.def.field_position(field) else {
                return Ok(RoaringBitmap::new());
            };
            let Some(FieldIndex::Numeric(n)) = idx.fields.get(pos) else {
                return Err(field_err(field, " is not a NUMERIC field"));
            };
            let lo = if *min_inclusive {
                Bound::Included(*min)
            } else {
                Bound::Excluded(*min)
            };
            let hi = if *max_inclusive {
                Bound::Included(*max)
            } else {
                Bound::Excluded(*max)
            };
            if min > max {
                RoaringBitmap::new()
            } else {
                n.range(lo, hi)
            }
        }
        Query::Range {
            field,
            radius,
            blob,
            epsilon,
            yield_as,
        } => {
            let (v, q) = vector_query(idx, field, blob)?;
            let found = v
                .range(&q, *radius as f32, epsilon.map(|e| e as f32), None)
                .map_err(|e| e.to_string())?;
            let mut out = RoaringBitmap::new();
            let mut d = HashMap::new();
            for (id, s) in found {
                out.insert(id);
                d.insert(id, s);
            }
            if let Some(name) = yield_as {
                y.push((name.clone(), d));
            }
            out
        }
    })
}

/// The vector index of `field` and the decoded query blob.
fn vector_query<'a>(
    idx: &'a Index,
    field: &[u8],
    blob: &[u8],
) -> Result<(&'a moon_vector::VectorIndex, Vec<f32>), String> {
    let pos = idx
        .def
        .field_position(field)
        .ok_or_else(|| field_err(field, ""))?;
    let (Some(FieldIndex::Vector(Some(v))), Some(FieldType::Vector(p))) =
        (idx.fields.get(pos), idx.def.fields.get(pos).map(|f| &f.ty))
    else {
        return Err(format!(
            "Expected a VECTOR field at `{}`",
            String::from_utf8_lossy(field)
        ));
    };
    let q = decode_vector(p, blob).ok_or_else(|| {
        format!(
            "Error parsing vector similarity query: query vector blob size ({}) does not match index's expected size ({}).",
            blob.len(),
            p.blob_len()
        )
    })?;
    Ok((v, q))
}

/// This shard's part of `plan` over index registry `reg` and indexed database `db`.
pub fn execute(
    reg: &Registry,
    db: &Db,
    plan: &SearchPlan,
    now_ms: u64,
) -> Result<SearchPart, String> {
    let idx = reg
        .get(&plan.index)
        .ok_or_else(|| no_such_index(&plan.index))?;
    let all: RoaringBitmap = idx.docs.iter().map(|(id, _)| id).collect();
    let mut yields = Yields::new();
    let ids = eval(idx, &all, &plan.query, &mut yields)?;
    let hash_of = |key: &[u8]| match db.peek(key, now_ms).and_then(|e| e.value()) {
        Some(LargeValue::Hash(h)) => Some(h),
        _ => None,
    };
    let sort_pos = plan.sortby.as_ref().map(|(f, _)| {
        match idx
            .def
            .field_position(f)
            .and_then(|p| idx.def.fields.get(p))
        {
            Some(d) => (d.identifier.clone(), matches!(d.ty, FieldType::Numeric)),
            None => (f.clone(), false),
        }
    });
    let sort_of = |key: &[u8], dist: Option<f32>| -> Option<SortKey> {
        let (field, numeric) = sort_pos.as_ref()?;
        if let (Some(k), Some(d)) = (&plan.knn, dist)
            && k.score_field == field
        {
            return Some(SortKey::Num(f64::from(d)));
        }
        let raw = hash_of(key)?.get(field)?.value;
        Some(if *numeric {
            SortKey::Num(parse_numeric(raw)?)
        } else {
            SortKey::Str(Bytes::copy_from_slice(raw))
        })
    };
    let key_of = |id: u32| idx.docs.get(id).map(|d| d.key.clone());
    let (total, mut hits) = match &plan.knn {
        Some(k) => {
            let (v, q) = vector_query(idx, &k.field, &k.blob)?;
            let filter = (plan.query != Query::All).then_some(&ids);
            let n = usize::try_from(k.k).unwrap_or(usize::MAX);
            let found = v
                .knn(&q, n, k.ef_runtime, filter)
                .map_err(|e| e.to_string())?;
            let hits: Vec<Hit> = found
                .into_iter()
                .filter_map(|(id, d)| {
                    let key = key_of(id)?;
                    Some(Hit {
                        sort: sort_of(&key, Some(d)),
                        key,
                        dist: Some(d),
                        fields: Vec::new(),
                    })
                })
                .collect();
            (hits.len() as u64, hits)
        }
        None => {
            let mut hits: Vec<Hit> = ids
                .iter()
                .filter_map(|id| {
                    let key = key_of(id)?;
                    Some(Hit {
                        sort: sort_of(&key, None),
                        key,
                        dist: None,
                        fields: Vec::new(),
                    })
                })
                .collect();
            let want = usize::try_from(plan.offset.saturating_add(plan.num)).unwrap_or(usize::MAX);
            order(plan, &mut hits);
            hits.truncate(want);
            (ids.len(), hits)
        }
    };
    if !plan.nocontent && plan.num > 0 {
        for hit in &mut hits {
            let id = idx.docs.id_of(&hit.key);
            let extra = |name: &[u8]| -> Option<Bytes> {
                if let (Some(k), Some(d)) = (&plan.knn, hit.dist)
                    && k.score_field == name
                {
                    return Some(Bytes::from(fmt_num(f64::from(d))));
                }
                let id = id?;
                yields
                    .iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, m)| m.get(&id))
                    .map(|d| Bytes::from(fmt_num(f64::from(*d))))
            };
            let h = hash_of(&hit.key);
            let live = |r: &crate::types::hash::FieldRef<'_>| {
                r.expire_at == NO_TTL || r.expire_at > now_ms
            };
            let mut fields = Vec::new();
            match &plan.return_fields {
                None => {
                    if let Some(k) = &plan.knn
                        && let Some(v) = extra(&k.score_field)
                    {
                        fields.push((k.score_field.clone(), v));
                    }
                    for (name, _) in &yields {
                        if let Some(v) = extra(name) {
                            fields.push((name.clone(), v));
                        }
                    }
                    if let Some(h) = h {
                        for r in h.iter().filter(live) {
                            fields.push((
                                Bytes::copy_from_slice(r.field),
                                Bytes::copy_from_slice(r.value),
                            ));
                        }
                    }
                }
                Some(list) => {
                    for (name, alias) in list {
                        if let Some(v) = extra(name) {
                            fields.push((alias.clone(), v));
                            continue;
                        }
                        let ident = idx
                            .def
                            .field_position(name)
                            .and_then(|p| idx.def.fields.get(p))
                            .map_or(name.clone(), |d| d.identifier.clone());
                        if let Some(r) = h.and_then(|h| h.get(&ident)).filter(live) {
                            fields.push((alias.clone(), Bytes::copy_from_slice(r.value)));
                        }
                    }
                }
            }
            hit.fields = fields;
        }
    }
    Ok(SearchPart { total, hits })
}

/// Sorts hits into the reply order (see the module docs).
fn order(plan: &SearchPlan, hits: &mut [Hit]) {
    use std::cmp::Ordering;
    let by_sort = |a: &Hit, b: &Hit| -> Ordering {
        let Some((_, desc)) = &plan.sortby else {
            return Ordering::Equal;
        };
        let o = match (&a.sort, &b.sort) {
            (Some(SortKey::Num(x)), Some(SortKey::Num(y))) => x.total_cmp(y),
            (Some(SortKey::Str(x)), Some(SortKey::Str(y))) => x.cmp(y),
            (Some(SortKey::Num(_)), Some(SortKey::Str(_))) => Ordering::Less,
            (Some(SortKey::Str(_)), Some(SortKey::Num(_))) => Ordering::Greater,
            // Missing values sort last in both directions.
            (Some(_), None) => return Ordering::Less,
            (None, Some(_)) => return Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if *desc { o.reverse() } else { o }
    };
    hits.sort_by(|a, b| {
        by_sort(a, b)
            .then_with(|| match (a.dist, b.dist) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => Ordering::Equal,
            })
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// Merges every shard's part into FT.SEARCH's reply: RESP2's flat array, or (`resp3`)
/// RediSearch 2.8's RESP3 map.
pub fn merge(plan: &SearchPlan, parts: Vec<Result<SearchPart, String>>, resp3: bool) -> Reply {
    let mut total = 0u64;
    let mut hits = Vec::new();
    for p in parts {
        match p {
            Ok(p) => {
                total += p.total;
                hits.extend(p.hits);
            }
            Err(e) => return Reply::Err(OpError::Other(e)),
        }
    }
    if let Some(k) = &plan.knn {
        // The global top k by distance first, then the requested order.
        hits.sort_by(|a, b| {
            let (x, y) = (a.dist.unwrap_or(f32::MAX), b.dist.unwrap_or(f32::MAX));
            x.total_cmp(&y).then_with(|| a.key.cmp(&b.key))
        });
        hits.truncate(usize::try_from(k.k).unwrap_or(usize::MAX));
        total = hits.len() as u64;
    }
    order(plan, &mut hits);
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    let offset = usize::try_from(plan.offset).unwrap_or(usize::MAX);
    let num = usize::try_from(plan.num).unwrap_or(usize::MAX);
    let hits = hits.into_iter().skip(offset).take(num);
    if resp3 {
        return resp3_reply(plan, total, hits);
    }
    let mut out = vec![Reply::Int(total)];
    for h in hits {
        out.push(Reply::Bulk(h.key));
        if plan.withscores {
            let s = h
                .dist
                .map_or_else(|| "1".to_string(), |d| fmt_num(f64::from(d)));
            out.push(Reply::Bulk(Bytes::from(s)));
        }
        if !plan.nocontent {
            let mut f = Vec::with_capacity(h.fields.len() * 2);
            for (n, v) in h.fields {
                f.push(Reply::Bulk(n));
                f.push(Reply::Bulk(v));
            }
            out.push(Reply::Array(f));
        }
    }
    Reply::Array(out)
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// RediSearch 2.8's RESP3 FT.SEARCH map: `attributes`, `format`, `results` (one map per doc:
/// `id`, `score` with WITHSCORES, `extra_attributes` unless NOCONTENT, `values`),
/// `total_results`, `warning`.
fn resp3_reply(plan: &SearchPlan, total: i64, hits: impl Iterator<Item = Hit>) -> Reply {
    let results = hits
        .map(|h| {
            let mut m = Vec::new();
            if plan.withscores {
                let score = h.dist.map_or(1.0, f64::from);
                m.push((bulk("score"), Reply::Double(score)));
            }
            m.insert(0, (bulk("id"), Reply::Bulk(h.key)));
            if !plan.nocontent {
                let attrs = h
                    .fields
                    .into_iter()
                    .map(|(n, v)| (Reply::Bulk(n), Reply::Bulk(v)))
                    .collect();
                m.push((bulk("extra_attributes"), Reply::Map(attrs)));
            }
            m.push((bulk("values"), Reply::Array(Vec::new())));
            Reply::Map(m)
        })
        .collect();
    Reply::Map(vec![
        (bulk("attributes"), Reply::Array(Vec::new())),
        (bulk("format"), bulk("STRING")),
        (bulk("results"), Reply::Array(results)),
        (bulk("total_results"), Reply::Int(total)),
        (bulk("warning"), Reply::Array(Vec::new())),
    ])
}

/// A number as RediSearch prints a computed value: integers plainly, else `%.12g`.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let exp = x.abs().log10().floor() as i32;
    if (-5..12).contains(&exp) {
        let decimals = usize::try_from(11 - exp).unwrap_or(0);
        let s = format!("{x:.decimals$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        let s = format!("{x:.11e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        let e: i32 = e.parse().unwrap_or(0);
        format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_redisearch() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(0.1f32 as f64), "0.10000000149");
        assert_eq!(fmt_num(9.5367431640625e-07), "9.53674316406e-07");
        assert_eq!(fmt_num(1e20), "1e+20");
    }
}
