//! Moon's explicit hybrid ranking: FT.SEARCH `"(text)=>[KNN k @v $B]" HYBRID RRF [c] [WINDOW n]`
//! fuses the text query's ranking (BM25 or the SCORER) with the vector ranking by Reciprocal
//! Rank Fusion: `fused(d) = Σ 1 / (c + rank_d)` over the rankings that hold `d` (rank 1-based).
//!
//! The two rankings (see [`Hybrid`]):
//! - text: the docs matching the whole query (text and filters, INKEYS), by score descending
//!   then key, cut to the global top `window`;
//! - vector: the KNN over the docs matching the query's top-level conjuncts without text leaves
//!   (tag, numeric, geo, vector-range filters, FILTER / GEOFILTER options, INKEYS; every doc
//!   when there are none), by distance then key, cut to the global top `window`.
//!
//! Each shard returns its own top `window` of both rankings as one list of hits ([`candidates`]:
//! `score` set when the doc is in the shard's text window, `dist` when in its vector window) with
//! their reply fields loaded; the global top `window` of each ranking lies within the union of
//! the shards' windows, so [`fuse`] on the merging shard needs nothing more. Invariants: the
//! fused order is total (fused score descending, then key), so replies do not depend on the
//! shard count; a shard's cut at `window` breaks score ties by doc id, as FT.SEARCH's does.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use roaring::RoaringBitmap;

use super::index::Index;
use super::query::{Eval, Hit, Knn, Query, SearchPlan, scores, vector_query};

/// `HYBRID RRF constant WINDOW window` of a plan whose `knn` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Hybrid {
    /// The RRF constant `c` (≥ 0).
    pub constant: f64,
    /// Candidates each ranking contributes (≥ 1).
    pub window: u64,
    /// The conjuncts of the query that restrict the vector ranking ([`vector_filter`]).
    pub vector_filter: Query,
}

/// Whether `q` has a text leaf anywhere (under NOT and optional too).
pub fn has_text_leaf(q: &Query) -> bool {
    match q {
        Query::Text(_) => true,
        Query::And(qs) | Query::Or(qs) | Query::Near { qs, .. } => qs.iter().any(has_text_leaf),
        Query::Not(q) | Query::Optional(q) => has_text_leaf(q),
        _ => false,
    }
}

/// The part of a hybrid query that restricts the vector ranking: the top-level conjuncts of
/// `q` that have no text leaf (`Query::All` when none). A conjunct mixing text and filters
/// (`(a | @t:{x})`) belongs to the text side: only whole conjuncts are filters.
pub fn vector_filter(q: &Query) -> Query {
    let conjuncts: Vec<Query> = match q {
        Query::And(qs) | Query::Near { qs, .. } => {
            qs.iter().filter(|c| !has_text_leaf(c)).cloned().collect()
        }
        q if !has_text_leaf(q) => vec![q.clone()],
        _ => Vec::new(),
    };
    match conjuncts.len() {
        0 => Query::All,
        1 => conjuncts.into_iter().next().unwrap_or(Query::All),
        _ => Query::And(conjuncts),
    }
}

/// The default WINDOW: enough candidates for the KNN's `k` and for the requested page.
pub fn default_window(k: u64, offset: u64, num: u64) -> u64 {
    k.max(offset.saturating_add(num)).max(1)
}

/// A shard's candidate: `(doc id, text score, distance)` (see [`candidates`]).
pub(super) type Candidate = (u32, Option<f64>, Option<f32>);

/// One shard's candidates: `(id, text score if in the shard's text window, distance if in its
/// vector window)`, and the distance of every candidate to the query vector (for the KNN's
/// score field, returned for every candidate that has a vector). `ids` are the docs matching
/// the whole query with INKEYS applied.
pub(super) fn candidates(
    ev: &mut Eval<'_>,
    plan: &SearchPlan,
    h: &Hybrid,
    k: &Knn,
    ids: &RoaringBitmap,
) -> Result<(Vec<Candidate>, HashMap<u32, f32>), String> {
    let idx: &Index = ev.idx;
    let window = usize::try_from(h.window).unwrap_or(usize::MAX);
    let text: Vec<(u32, f64)> = match scores(ev, plan, ids, plan.text.stats.as_ref(), Some(window))
    {
        Some(s) => s,
        // No scored term (the text is all under NOT): every match scores 0, so the cut is by
        // key, as the merge orders ties.
        None => {
            let mut keyed: Vec<(&Bytes, u32)> = ids
                .iter()
                .filter_map(|id| idx.docs.get(id).map(|d| (&d.key, id)))
                .collect();
            keyed.sort();
            keyed.truncate(window);
            keyed.into_iter().map(|(_, id)| (id, 0.0)).collect()
        }
    };
    let (v, q) = vector_query(idx, &k.field, &k.blob)?;
    let mut filter = if h.vector_filter == Query::All {
        None
    } else {
        // A fresh evaluation: the text side's term list and yields stay untouched.
        let mut fev = Eval::new(idx, &plan.text, false);
        Some(fev.eval(&h.vector_filter, false)?)
    };
    if let Some(keys) = &plan.text.inkeys {
        let allowed: RoaringBitmap = keys.iter().filter_map(|k| idx.docs.id_of(k)).collect();
        filter = Some(match filter {
            Some(f) => f & allowed,
            None => allowed,
        });
    }
    let near = v
        .knn(&q, window, k.ef_runtime, filter.as_ref())
        .map_err(|e| e.to_string())?;
    let mut dist: HashMap<u32, f32> = near.iter().copied().collect();
    let mut out: Vec<Candidate> = Vec::with_capacity(text.len() + near.len());
    let mut seen = HashSet::with_capacity(text.len());
    for (id, s) in &text {
        seen.insert(*id);
        out.push((*id, Some(*s), dist.get(id).copied()));
    }
    out.extend(
        near.iter()
            .filter(|(id, _)| !seen.contains(id))
            .map(|(id, d)| (*id, None, Some(*d))),
    );
    // Exact distances of the text-only candidates (a scan of those few ids).
    let rest: RoaringBitmap = text
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !dist.contains_key(id))
        .collect();
    if !rest.is_empty() {
        let n = usize::try_from(rest.len()).unwrap_or(usize::MAX);
        let found = v
            .knn_with_plan(
                &q,
                n,
                None,
                Some(&rest),
                moon_vector::SearchPlan::BruteForce,
            )
            .map_err(|e| e.to_string())?;
        dist.extend(found);
    }
    Ok((out, dist))
}

/// Fuses every shard's candidate hits into the final ranking: each hit's `score` becomes its
/// fused score and `dist` is cleared, sorted by fused score descending then key; hits in
/// neither global window are dropped. The reply's total is the result's length.
pub fn fuse(h: &Hybrid, hits: Vec<Hit>) -> Vec<Hit> {
    use std::cmp::Ordering;
    let window = usize::try_from(h.window).unwrap_or(usize::MAX);
    let mut text: Vec<usize> = (0..hits.len())
        .filter(|&i| hits[i].score.is_some())
        .collect();
    text.sort_by(|&a, &b| {
        let (x, y) = (&hits[a], &hits[b]);
        match (x.score, y.score) {
            (Some(p), Some(q)) => q.total_cmp(&p),
            _ => Ordering::Equal,
        }
        .then_with(|| x.key.cmp(&y.key))
    });
    text.truncate(window);
    let mut vector: Vec<usize> = (0..hits.len())
        .filter(|&i| hits[i].dist.is_some())
        .collect();
    vector.sort_by(|&a, &b| {
        let (x, y) = (&hits[a], &hits[b]);
        match (x.dist, y.dist) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => Ordering::Equal,
        }
        .then_with(|| x.key.cmp(&y.key))
    });
    vector.truncate(window);
    let mut fused: Vec<Option<f64>> = vec![None; hits.len()];
    // Text term first, then vector: one summation order, so equal inputs give equal bits.
    for (rank, &i) in text.iter().enumerate() {
        fused[i] = Some(rrf(h.constant, rank));
    }
    for (rank, &i) in vector.iter().enumerate() {
        let term = rrf(h.constant, rank);
        fused[i] = Some(fused[i].map_or(term, |s| s + term));
    }
    let mut out: Vec<Hit> = hits
        .into_iter()
        .zip(fused)
        .filter_map(|(mut hit, f)| {
            hit.score = Some(f?);
            hit.dist = None;
            hit.explain = None;
            Some(hit)
        })
        .collect();
    out.sort_by(|a, b| {
        let (x, y) = (a.score.unwrap_or(0.0), b.score.unwrap_or(0.0));
        y.total_cmp(&x).then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// `1 / (c + rank)` for a 0-based position.
fn rrf(c: f64, pos: usize) -> f64 {
    1.0 / (c + pos as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::{TextKind, TextQuery};

    fn hit(key: &str, score: Option<f64>, dist: Option<f32>) -> Hit {
        Hit {
            key: Bytes::copy_from_slice(key.as_bytes()),
            dist,
            sort: None,
            score,
            explain: None,
            fields: Vec::new(),
        }
    }

    fn text(word: &str) -> Query {
        Query::Text(Box::new(TextQuery {
            fields: None,
            kind: TextKind::Term {
                word: word.into(),
                verbatim: false,
            },
            weight: 1.0,
        }))
    }

    #[test]
    fn fuses_by_reciprocal_rank() {
        let h = Hybrid {
            constant: 60.0,
            window: 3,
            vector_filter: Query::All,
        };
        // Text: a(3) b(2) c(1) d(0.5, outside the window); vector: c d e f(outside).
        let hits = vec![
            hit("a", Some(3.0), None),
            hit("b", Some(2.0), None),
            hit("c", Some(1.0), Some(0.1)),
            hit("d", Some(0.5), Some(0.2)),
            hit("e", None, Some(0.3)),
            hit("f", None, Some(0.4)),
        ];
        let out = fuse(&h, hits);
        let got: Vec<(&[u8], f64)> = out
            .iter()
            .map(|h| (&h.key[..], h.score.unwrap_or(f64::NAN)))
            .collect();
        let r = |n: f64| 1.0 / (60.0 + n);
        let want: Vec<(&[u8], f64)> = vec![
            (b"c", r(3.0) + r(1.0)),
            (b"a", r(1.0)),
            (b"b", r(2.0)),
            (b"d", r(2.0)),
            (b"e", r(3.0)),
        ];
        assert_eq!(got, want);
        assert!(out.iter().all(|h| h.dist.is_none()));
    }

    #[test]
    fn equal_fused_scores_order_by_key() {
        let h = Hybrid {
            constant: 0.0,
            window: 10,
            vector_filter: Query::All,
        };
        let out = fuse(
            &h,
            vec![hit("z", Some(1.0), None), hit("y", None, Some(0.5))],
        );
        let keys: Vec<&[u8]> = out.iter().map(|h| &h.key[..]).collect();
        assert_eq!(keys, vec![&b"y"[..], &b"z"[..]]);
        assert_eq!(out[0].score, Some(1.0));
    }

    #[test]
    fn vector_filter_keeps_text_free_conjuncts() {
        let tag = Query::Tag {
            field: Bytes::from_static(b"t"),
            values: Vec::new(),
        };
        assert_eq!(vector_filter(&text("a")), Query::All);
        assert_eq!(
            vector_filter(&Query::And(vec![text("a"), tag.clone()])),
            tag
        );
        let mixed = Query::Or(vec![text("a"), tag.clone()]);
        assert_eq!(
            vector_filter(&Query::And(vec![mixed, tag.clone(), tag.clone()])),
            Query::And(vec![tag.clone(), tag.clone()])
        );
        assert_eq!(
            vector_filter(&Query::And(vec![
                text("a"),
                Query::Not(Box::new(text("b")))
            ])),
            Query::All
        );
        assert!(has_text_leaf(&Query::Optional(Box::new(text("a")))));
        assert!(!has_text_leaf(&tag));
        assert_eq!(default_window(5, 0, 10), 10);
        assert_eq!(default_window(50, 10, 10), 50);
        assert_eq!(default_window(0, 0, 0), 1);
    }
}
