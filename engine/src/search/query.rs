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
//! SORTBY value (missing values last) then key; a query with text terms (and no KNN) by
//! score (descending) then key (a shard's cut to `offset + num` breaks ties by doc id).
//!
//! Text scoring uses collection statistics summed over every shard: a multi-shard search
//! runs in two phases ([`local_stats`] on every shard, merged, then [`execute`] with the
//! merged `TextOpts::stats`), so a doc's score does not depend on its shard. Without
//! `stats` (one shard) the shard's own statistics are the global ones. The list of scored
//! terms is built by one deterministic walk of the plan (positive text leaves in order,
//! stop words skipped), identical on every shard, so per-term doc frequencies line up.
//!
//! `HYBRID RRF` plans (`SearchPlan::hybrid`) take their own path on both sides: each shard
//! returns its text and vector candidates, the merge fuses them (`super::hybrid`).

use std::collections::HashMap;
use std::ops::Bound;

use bytes::Bytes;
use roaring::RoaringBitmap;

use std::cell::OnceCell;

use moon_text::highlight::{HighlightTerms, SummarizeOpts};
use moon_text::{QueryTerm, ScoreExplain, Scorer, Stats};

use super::docs::FieldValue;
use super::index::{FieldIndex, Index, decode_vector};
use super::numeric::parse_numeric;
use super::registry::Registry;
use super::schema::FieldType;
use super::text::{MAX_EXPANSIONS, TextState, geo_distance, wildcard_match};
use crate::ir::{OpError, Reply};
use crate::keyspace::{Db, Entry};
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
    /// Only scores: matches everything, its text terms add to the score.
    Optional(Box<Query>),
    /// A text leaf (term, phrase, prefix, ...).
    Text(Box<TextQuery>),
    /// An intersection whose single-term children must also lie within `slop` intervening
    /// terms (`None` = any distance) in one field, in query order when `inorder` (the
    /// `$slop` / `$inorder` attributes and the SLOP / INORDER options).
    Near {
        qs: Vec<Query>,
        slop: Option<u32>,
        inorder: bool,
    },
    /// `@g:[lon lat radius unit]` / GEOFILTER, radius in metres.
    Geo {
        field: Bytes,
        lon: f64,
        lat: f64,
        radius_m: f64,
    },
}

/// What a text leaf matches.
#[derive(Debug, Clone, PartialEq)]
pub enum TextKind {
    /// A word (stem-expanded unless `verbatim`).
    Term { word: String, verbatim: bool },
    /// `hel*`.
    Prefix(String),
    /// `*llo`.
    Suffix(String),
    /// `*ell*`.
    Infix(String),
    /// `w'he?l*'`.
    Wildcard(String),
    /// `%word%` (distance 1..=3).
    Fuzzy { word: String, distance: u32 },
    /// `"a b c"`: the words (each with its verbatim flag) within `slop` intervening terms.
    Phrase {
        words: Vec<(String, bool)>,
        slop: u32,
        inorder: bool,
    },
}

/// A text leaf: what it matches, the fields it is scoped to (`None` = every TEXT field)
/// and its score weight (the product of the `$weight` attributes above it).
#[derive(Debug, Clone, PartialEq)]
pub struct TextQuery {
    pub fields: Option<Vec<Bytes>>,
    pub kind: TextKind,
    pub weight: f64,
}

/// HIGHLIGHT: fields (empty = every TEXT field returned) and tags.
#[derive(Debug, Clone, PartialEq)]
pub struct HighlightPlan {
    pub fields: Vec<Bytes>,
    pub open: String,
    pub close: String,
}

/// SUMMARIZE: fields (empty = every TEXT field returned), FRAGS, LEN, SEPARATOR.
#[derive(Debug, Clone, PartialEq)]
pub struct SummarizePlan {
    pub fields: Vec<Bytes>,
    pub frags: usize,
    pub len: usize,
    pub separator: String,
}

/// The text-search options of an FT.SEARCH.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextOpts {
    /// SCORER (`None` = BM25, Moon's default as Redis 8's; RediSearch 2.x used TFIDF).
    pub scorer: Option<Scorer>,
    pub explainscore: bool,
    /// VERBATIM: no stem expansion.
    pub verbatim: bool,
    /// NOSTOPWORDS: stop words are searched (and match nothing) instead of dropped.
    pub nostopwords: bool,
    /// INFIELDS: text leaves are restricted to these fields.
    pub infields: Option<Vec<Bytes>>,
    /// INKEYS: only these keys can match.
    pub inkeys: Option<Vec<Bytes>>,
    pub highlight: Option<HighlightPlan>,
    pub summarize: Option<SummarizePlan>,
    /// Collection statistics over every shard (phase 2 of a multi-shard search).
    pub stats: Option<Stats>,
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
    /// Text scoring, highlighting and restrictions.
    pub text: TextOpts,
    /// `HYBRID RRF` (with `knn` set): the reply is the fusion of the text and KNN rankings.
    pub hybrid: Option<super::hybrid::Hybrid>,
}

impl SearchPlan {
    /// True if the query has text leaves (so a multi-shard search needs the statistics
    /// phase first).
    pub fn has_text(&self) -> bool {
        fn walk(q: &Query) -> bool {
            match q {
                Query::Text(_) => true,
                Query::And(qs) | Query::Or(qs) | Query::Near { qs, .. } => qs.iter().any(walk),
                Query::Not(q) | Query::Optional(q) => walk(q),
                _ => false,
            }
        }
        walk(&self.query)
    }
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
    /// Text score (queries with text terms).
    pub score: Option<f64>,
    /// EXPLAINSCORE's breakdown.
    pub explain: Option<ScoreExplain>,
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
pub(crate) type Yields = Vec<(Bytes, HashMap<u32, f32>)>;

/// Evaluates a query over one index, collecting the scored text terms on the way.
pub(super) struct Eval<'a> {
    pub(super) idx: &'a Index,
    all: OnceCell<RoaringBitmap>,
    opts: &'a TextOpts,
    /// Only resolve the text terms (the statistics phase): boolean work is skipped.
    stats_only: bool,
    yields: Yields,
    /// The positive text terms, in walk order (what scoring sums over).
    terms: Vec<QueryTerm>,
}

impl<'a> Eval<'a> {
    pub(super) fn new(idx: &'a Index, opts: &'a TextOpts, stats_only: bool) -> Eval<'a> {
        Eval {
            idx,
            all: OnceCell::new(),
            opts,
            stats_only,
            yields: Yields::new(),
            terms: Vec::new(),
        }
    }

    /// Every doc of the index (built on first use: most queries never need it).
    fn all(&self) -> &RoaringBitmap {
        self.all
            .get_or_init(|| self.idx.docs.iter().map(|(id, _)| id).collect())
    }

    fn text(&self) -> Option<&'a TextState> {
        self.idx.text.as_ref()
    }

    /// A stop word term: dropped from the query (RediSearch removes them at parse time
    /// with the index's list), unless NOSTOPWORDS.
    fn neutral(&self, q: &Query) -> bool {
        match (q, self.text()) {
            (Query::Text(t), Some(text)) if !self.opts.nostopwords => {
                matches!(&t.kind, TextKind::Term { word, .. } if text.is_stopword(word))
            }
            _ => false,
        }
    }

    /// Evaluates `q` to the ids of the docs it matches; `positive` is false under a NOT
    /// (terms there do not score).
    pub(super) fn eval(&mut self, q: &Query, positive: bool) -> Result<RoaringBitmap, String> {
        let idx = self.idx;
        Ok(match q {
            Query::All => self.all().clone(),
            Query::Optional(q) => {
                self.eval(q, positive)?;
                if self.stats_only {
                    RoaringBitmap::new()
                } else {
                    self.all().clone()
                }
            }
            Query::Nothing => RoaringBitmap::new(),
            Query::And(qs) | Query::Near { qs, .. } => {
                let mut out: Option<RoaringBitmap> = None;
                for q in qs {
                    if self.neutral(q) {
                        continue;
                    }
                    let r = self.eval(q, positive)?;
                    if !self.stats_only {
                        out = Some(match out {
                            None => r,
                            Some(mut o) => {
                                o &= r;
                                o
                            }
                        });
                    }
                }
                let mut out = out.unwrap_or_default();
                if let Query::Near { qs, slop, inorder } = q
                    && !self.stats_only
                {
                    out &= self.near(qs, *slop, *inorder);
                }
                out
            }
            Query::Or(qs) => {
                let mut out = RoaringBitmap::new();
                for q in qs {
                    if self.neutral(q) {
                        continue;
                    }
                    out |= self.eval(q, positive)?;
                }
                out
            }
            Query::Not(q) => {
                let r = self.eval(q, false)?;
                if self.stats_only || self.neutral(q) {
                    RoaringBitmap::new()
                } else {
                    self.all() - r
                }
            }
            Query::Text(t) => self.text_leaf(t, positive)?,
            _ if self.stats_only => RoaringBitmap::new(),
            Query::Geo {
                field,
                lon,
                lat,
                radius_m,
            } => {
                let Some(pos) = idx.def.field_position(field) else {
                    return Ok(RoaringBitmap::new());
                };
                if !matches!(idx.def.fields.get(pos).map(|f| &f.ty), Some(FieldType::Geo)) {
                    return Err(field_err(field, " is not a GEO field"));
                }
                let mut out = RoaringBitmap::new();
                for (id, doc) in idx.docs.iter() {
                    if let Some(FieldValue::Geo(x, y)) = doc.values.get(pos)
                        && geo_distance(*lon, *lat, *x, *y) <= *radius_m
                    {
                        out.insert(id);
                    }
                }
                out
            }
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
                    self.yields.push((name.clone(), d));
                }
                out
            }
        })
    }

    /// One text leaf: resolves its term(s), records them for scoring when positive.
    fn text_leaf(&mut self, t: &TextQuery, positive: bool) -> Result<RoaringBitmap, String> {
        let Some(text) = self.text() else {
            return Ok(RoaringBitmap::new());
        };
        let def = &self.idx.def;
        let mut mask = text.mask(def, t.fields.as_deref());
        if let Some(f) = &self.opts.infields {
            mask &= text.mask(def, Some(f));
        }
        let verbatim = self.opts.verbatim;
        let ix = &text.index;
        let mut resolved = match &t.kind {
            TextKind::Term { word, verbatim: v } => {
                let exact = *v || verbatim;
                let mut r = vec![ix.term(mask, word, exact)];
                // Synonyms (RediSearch's expander): the group's other terms, each exactly as
                // written (RediSearch records `~group` beside the surface token, unstemmed);
                // VERBATIM and quoted terms are not expanded, as there.
                if !exact {
                    r.extend(
                        self.idx
                            .synonyms
                            .synonyms_of(word)
                            .iter()
                            .map(|syn| ix.term(mask, syn, true)),
                    );
                }
                r
            }
            TextKind::Prefix(p) => vec![ix.prefix(mask, p, MAX_EXPANSIONS)],
            TextKind::Suffix(x) => {
                let x = x.to_lowercase();
                vec![text.expand(mask, format!("*{x}"), MAX_EXPANSIONS, |w| w.ends_with(&x))]
            }
            TextKind::Infix(x) => {
                let x = x.to_lowercase();
                vec![text.expand(mask, format!("*{x}*"), MAX_EXPANSIONS, |w| w.contains(&x))]
            }
            TextKind::Wildcard(p) => {
                let p = p.to_lowercase();
                vec![text.expand(mask, p.clone(), MAX_EXPANSIONS, |w| wildcard_match(&p, w))]
            }
            TextKind::Fuzzy { word, distance } => vec![
                ix.fuzzy(mask, word, *distance, MAX_EXPANSIONS)
                    .map_err(|e| e.to_string())?,
            ],
            TextKind::Phrase { words, .. } => words
                .iter()
                .filter(|(w, _)| self.opts.nostopwords || !text.is_stopword(w))
                .map(|(w, v)| ix.term(mask, w, *v || verbatim))
                .collect(),
        };
        for r in &mut resolved {
            r.weight = t.weight;
        }
        let docs = match &t.kind {
            _ if self.stats_only => RoaringBitmap::new(),
            TextKind::Phrase { slop, inorder, .. } => ix.phrase(&resolved, *slop, *inorder),
            // One resolved term, or a term and its synonyms: their union.
            _ => resolved.iter().fold(RoaringBitmap::new(), |mut acc, r| {
                acc |= &r.docs;
                acc
            }),
        };
        if positive {
            self.terms.extend(resolved);
        }
        Ok(docs)
    }

    /// The docs where the single-word text children of an intersection lie within `slop`
    /// (every doc when some child is not a single word: the constraint then does not apply,
    /// as RediSearch applies it to term iterators only).
    fn near(&self, qs: &[Query], slop: Option<u32>, inorder: bool) -> RoaringBitmap {
        let Some(text) = self.text() else {
            return RoaringBitmap::new();
        };
        let mut terms = Vec::new();
        for q in qs {
            if self.neutral(q) {
                continue;
            }
            match q {
                Query::Text(t) => match &t.kind {
                    TextKind::Term { word, verbatim } => {
                        let mut mask = text.mask(&self.idx.def, t.fields.as_deref());
                        if let Some(f) = &self.opts.infields {
                            mask &= text.mask(&self.idx.def, Some(f));
                        }
                        terms.push(text.index.term(mask, word, *verbatim || self.opts.verbatim));
                    }
                    _ => return self.all().clone(),
                },
                _ => return self.all().clone(),
            }
        }
        if terms.len() < 2 {
            return self.all().clone();
        }
        text.index
            .phrase(&terms, slop.unwrap_or(u32::MAX / 2), inorder)
    }
}

/// The vector index of `field` and the decoded query blob.
pub(super) fn vector_query<'a>(
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

/// A plan that is one text word and nothing else (no filter, INKEYS, SORTBY, KNN, EXPLAINSCORE;
/// BM25), resolved to its keys without a doc bitmap, with its match count — when the text
/// engine can serve it from one posting list ([`moon_text::TextIndex::direct_count`]): the
/// most common FT.SEARCH shape, scored by block-max pruned top-k
/// ([`moon_text::TextIndex::top_k_direct`]). `None`: the general path.
fn direct_term(idx: &Index, plan: &SearchPlan) -> Option<(QueryTerm, u64)> {
    let opts = &plan.text;
    if plan.knn.is_some()
        || plan.sortby.is_some()
        || opts.inkeys.is_some()
        || opts.explainscore
        || !matches!(opts.scorer, None | Some(Scorer::Bm25))
    {
        return None;
    }
    let Query::Text(t) = &plan.query else {
        return None;
    };
    let TextKind::Term { word, verbatim } = &t.kind else {
        return None;
    };
    let text = idx.text.as_ref()?;
    if !opts.nostopwords && text.is_stopword(word) {
        return None;
    }
    // A word with synonyms matches their union: the general path expands it.
    // (The emptiness check first: `synonyms_of` allocates, and this is the hot path.)
    let literal = *verbatim || opts.verbatim || idx.synonyms.is_empty();
    if !literal && !idx.synonyms.synonyms_of(word).is_empty() {
        return None;
    }
    let mut mask = text.mask(&idx.def, t.fields.as_deref());
    if let Some(f) = &opts.infields {
        mask &= text.mask(&idx.def, Some(f));
    }
    let mut term = text.index.term_keys(mask, word, *verbatim || opts.verbatim);
    term.weight = t.weight;
    let count = text.index.direct_count(&term)?;
    Some((term, count))
}

/// This shard's statistics for `plan`'s text terms (phase 1 of a multi-shard search):
/// doc count, total field lengths, and the doc frequency of every scored term in walk order.
pub fn local_stats(reg: &Registry, plan: &SearchPlan) -> Result<Stats, String> {
    let idx = reg
        .get(&plan.index)
        .ok_or_else(|| no_such_index(&plan.index))?;
    if let (Some((_, count)), Some(text)) = (direct_term(idx, plan), &idx.text) {
        return Ok(text.index.stats_with(vec![count]));
    }
    let mut ev = Eval::new(idx, &plan.text, true);
    ev.eval(&plan.query, true)?;
    Ok(match &idx.text {
        Some(t) => t.index.local_stats(&ev.terms),
        None => Stats {
            num_docs: idx.docs.len() as u64,
            total_len: Vec::new(),
            doc_freq: vec![0; ev.terms.len()],
        },
    })
}

/// `(doc id, text score)` pairs.
pub type DocScores = Vec<(u32, f64)>;

/// The docs of `plan`'s query on this shard with their text scores (`None` when the query
/// has no text terms), for callers that rank or aggregate themselves (FT.AGGREGATE).
/// `stats` are the global statistics (`None`: this shard's own).
pub fn evaluate(
    reg: &Registry,
    plan: &SearchPlan,
    stats: Option<&Stats>,
) -> Result<(RoaringBitmap, Option<DocScores>), String> {
    let idx = reg
        .get(&plan.index)
        .ok_or_else(|| no_such_index(&plan.index))?;
    let mut ev = Eval::new(idx, &plan.text, false);
    let ids = filtered(&mut ev, plan)?;
    let scores = scores(&ev, plan, &ids, stats.or(plan.text.stats.as_ref()), None);
    Ok((ids, scores))
}

/// Evaluates the plan's query with INKEYS applied.
fn filtered(ev: &mut Eval<'_>, plan: &SearchPlan) -> Result<RoaringBitmap, String> {
    let mut ids = if ev.neutral(&plan.query) {
        RoaringBitmap::new()
    } else {
        ev.eval(&plan.query, true)?
    };
    if let Some(keys) = &plan.text.inkeys {
        let allowed: RoaringBitmap = keys.iter().filter_map(|k| ev.idx.docs.id_of(k)).collect();
        ids &= allowed;
    }
    Ok(ids)
}

/// Scores of `ids` when the query has scored text terms: all of them, or (`top`) only the
/// best `top` by score then doc id (the text engine's `top_k`, whose BM25 path walks the
/// postings with cursors; RediSearch also breaks ties by doc id).
pub(super) fn scores(
    ev: &Eval<'_>,
    plan: &SearchPlan,
    ids: &RoaringBitmap,
    stats: Option<&Stats>,
    top: Option<usize>,
) -> Option<DocScores> {
    let text = ev.idx.text.as_ref()?;
    if ev.terms.is_empty() {
        return None;
    }
    let local;
    let stats = match stats {
        Some(s) => s,
        None => {
            local = text.index.local_stats(&ev.terms);
            &local
        }
    };
    let scorer = plan.text.scorer.unwrap_or(Scorer::Bm25);
    if let Some(k) = top {
        return Some(text.index.top_k(ids, &ev.terms, stats, scorer, k));
    }
    Some(
        ids.iter()
            .map(|id| (id, text.index.score(id, &ev.terms, stats, scorer)))
            .collect(),
    )
}

/// A score as RediSearch replies it (a double: shortest round-trip form).
pub fn fmt_score(x: f64) -> String {
    if x.is_finite() && (x == 0.0 || (1e-5..1e15).contains(&x.abs())) {
        format!("{x}")
    } else {
        fmt_num(x)
    }
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
    let mut ev = Eval::new(idx, &plan.text, false);
    // An unfiltered KNN (`*=>[KNN ...]`) never reads the filter: skip building the bitmap of
    // every doc (≈ 1.5 ms per query at 100,000 docs, most of a KNN's cost).
    let knn_unfiltered = plan.knn.is_some()
        && plan.hybrid.is_none()
        && plan.query == Query::All
        && plan.text.inkeys.is_none();
    // A lone word: top-k straight from its postings (no bitmap, no per-match scoring).
    let direct = direct_term(idx, plan).and_then(|(term, count)| {
        let text = idx.text.as_ref()?;
        let want = usize::try_from(plan.offset.saturating_add(plan.num)).unwrap_or(usize::MAX);
        let local;
        let stats = match &plan.text.stats {
            Some(s) => s,
            None => {
                local = text.index.stats_with(vec![count]);
                &local
            }
        };
        let top = text.index.top_k_direct(&term, stats, want);
        ev.terms.push(term);
        Some((count, top))
    });
    let ids = if knn_unfiltered || direct.is_some() {
        RoaringBitmap::new()
    } else {
        filtered(&mut ev, plan)?
    };
    let hash_of = |key: &[u8]| db.peek(key, now_ms).and_then(Entry::hash);
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
    let hit = |id: u32, dist: Option<f32>, score: Option<f64>| -> Option<Hit> {
        let key = key_of(id)?;
        Some(Hit {
            sort: sort_of(&key, dist),
            key,
            dist,
            score,
            explain: None,
            fields: Vec::new(),
        })
    };
    let (total, mut hits) = match (&plan.knn, &plan.hybrid) {
        (Some(k), Some(h)) => {
            let (cands, dist) = super::hybrid::candidates(&mut ev, plan, h, k, &ids)?;
            // The KNN's score field is every candidate's distance (a yield, not `Hit::dist`,
            // which marks the vector window).
            ev.yields.push((k.score_field.clone(), dist));
            let hits: Vec<Hit> = cands
                .into_iter()
                .filter_map(|(id, score, dist)| hit(id, dist, score))
                .collect();
            (hits.len() as u64, hits)
        }
        (Some(k), None) => {
            let (v, q) = vector_query(idx, &k.field, &k.blob)?;
            let filter = (plan.query != Query::All || plan.text.inkeys.is_some()).then_some(&ids);
            let n = usize::try_from(k.k).unwrap_or(usize::MAX);
            let found = v
                .knn(&q, n, k.ef_runtime, filter)
                .map_err(|e| e.to_string())?;
            let hits: Vec<Hit> = found
                .into_iter()
                .filter_map(|(id, d)| hit(id, Some(d), None))
                .collect();
            (hits.len() as u64, hits)
        }
        (None, _) => {
            let want = usize::try_from(plan.offset.saturating_add(plan.num)).unwrap_or(usize::MAX);
            // Without SORTBY only the best `want` by score are kept, before reading any
            // hash (ties at that cut go by doc id; the merge orders ties by key).
            let top = plan.sortby.is_none().then_some(want);
            let (total, scored) = match direct {
                Some((count, top)) => (count, Some(top)),
                None => (
                    ids.len(),
                    scores(&ev, plan, &ids, plan.text.stats.as_ref(), top),
                ),
            };
            let mut hits: Vec<Hit> = match scored {
                Some(cand) => cand
                    .into_iter()
                    .filter_map(|(id, s)| hit(id, None, Some(s)))
                    .collect(),
                None => ids.iter().filter_map(|id| hit(id, None, None)).collect(),
            };
            order(plan, &mut hits);
            hits.truncate(want);
            (total, hits)
        }
    };
    if plan.text.explainscore
        && let Some(text) = &idx.text
    {
        let local;
        let stats = match &plan.text.stats {
            Some(s) => s,
            None => {
                local = text.index.local_stats(&ev.terms);
                &local
            }
        };
        let scorer = plan.text.scorer.unwrap_or(Scorer::Bm25);
        for h in &mut hits {
            if let Some(id) = idx.docs.id_of(&h.key) {
                h.explain = Some(text.index.explain_score(id, &ev.terms, stats, scorer));
            }
        }
    }
    let marks = Marks::new(idx, plan, &ev);
    let yields = &ev.yields;
    // A hybrid plan's KNN score field comes from the yields.
    let knn = plan.knn.as_ref().filter(|_| plan.hybrid.is_none());
    if !plan.nocontent && plan.num > 0 {
        for hit in &mut hits {
            let id = idx.docs.id_of(&hit.key);
            let extra = |name: &[u8]| -> Option<Bytes> {
                if let (Some(k), Some(d)) = (knn, hit.dist)
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
                    if let Some(k) = knn
                        && let Some(v) = extra(&k.score_field)
                    {
                        fields.push((k.score_field.clone(), v));
                    }
                    for (name, _) in yields {
                        if let Some(v) = extra(name) {
                            fields.push((name.clone(), v));
                        }
                    }
                    if let Some(h) = h {
                        for r in h.iter().filter(live) {
                            fields.push((
                                Bytes::copy_from_slice(r.field),
                                marks.apply(r.field, r.value),
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
                            fields.push((alias.clone(), marks.apply(name, r.value)));
                        }
                    }
                }
            }
            hit.fields = fields;
        }
    }
    Ok(SearchPart { total, hits })
}

/// HIGHLIGHT / SUMMARIZE of returned TEXT fields.
struct Marks<'a> {
    idx: &'a Index,
    /// Schema positions highlighted / summarized.
    highlight: Vec<usize>,
    summarize: Vec<usize>,
    terms: Option<HighlightTerms>,
    plan: &'a SearchPlan,
}

impl<'a> Marks<'a> {
    fn new(idx: &'a Index, plan: &'a SearchPlan, ev: &Eval<'_>) -> Marks<'a> {
        let positions = |fields: &[Bytes]| -> Vec<usize> {
            let text_pos = |p: &usize| {
                matches!(
                    idx.def.fields.get(*p).map(|f| &f.ty),
                    Some(FieldType::Text { .. })
                )
            };
            if fields.is_empty() {
                (0..idx.def.fields.len()).filter(text_pos).collect()
            } else {
                fields
                    .iter()
                    .filter_map(|f| idx.def.field_position(f))
                    .filter(text_pos)
                    .collect()
            }
        };
        let highlight = plan
            .text
            .highlight
            .as_ref()
            .map_or_else(Vec::new, |h| positions(&h.fields));
        let summarize = plan
            .text
            .summarize
            .as_ref()
            .map_or_else(Vec::new, |s| positions(&s.fields));
        let terms = match &idx.text {
            Some(t) if !highlight.is_empty() || !summarize.is_empty() => {
                let mut words = Vec::new();
                for q in &ev.terms {
                    t.surface_words(q, &mut words);
                }
                let refs: Vec<&str> = words.iter().map(String::as_str).collect();
                Some(HighlightTerms::new(
                    t.index.analyzer(),
                    &refs,
                    !plan.text.verbatim,
                ))
            }
            _ => None,
        };
        Marks {
            idx,
            highlight,
            summarize,
            terms,
            plan,
        }
    }

    /// The reply value of field `name` (attribute or identifier) with raw value `value`.
    fn apply(&self, name: &[u8], value: &[u8]) -> Bytes {
        let (Some(terms), Some(text)) = (&self.terms, &self.idx.text) else {
            return Bytes::copy_from_slice(value);
        };
        let Some(pos) = self.idx.def.field_position(name) else {
            return Bytes::copy_from_slice(value);
        };
        let (hl, sum) = (self.highlight.contains(&pos), self.summarize.contains(&pos));
        if !hl && !sum {
            return Bytes::copy_from_slice(value);
        }
        let s = String::from_utf8_lossy(value);
        let tags = self
            .plan
            .text
            .highlight
            .as_ref()
            .filter(|_| hl)
            .map(|h| (h.open.as_str(), h.close.as_str()));
        let a = text.index.analyzer();
        let out = match (&self.plan.text.summarize, tags) {
            (Some(sp), tags) if sum => {
                let opts = SummarizeOpts {
                    frags: sp.frags,
                    len: sp.len,
                    separator: &sp.separator,
                };
                moon_text::highlight::summarize(a, &s, terms, &opts, tags)
            }
            (_, Some((open, close))) => moon_text::highlight::highlight(a, &s, terms, open, close),
            _ => return Bytes::copy_from_slice(value),
        };
        Bytes::from(out)
    }
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
            .then_with(|| match (a.score, b.score) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                _ => Ordering::Equal,
            })
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
    if let Some(h) = &plan.hybrid {
        hits = super::hybrid::fuse(h, hits);
        total = hits.len() as u64;
    } else if let Some(k) = &plan.knn {
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
            let s = match (h.score, h.dist) {
                (Some(s), _) => fmt_score(s),
                (None, Some(d)) => fmt_num(f64::from(d)),
                (None, None) => "1".to_string(),
            };
            let s = Reply::Bulk(Bytes::from(s));
            match &h.explain {
                Some(e) if plan.text.explainscore => {
                    out.push(Reply::Array(vec![s, explain_reply(e)]));
                }
                _ => out.push(s),
            }
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

/// EXPLAINSCORE's tree: a leaf is its text, a node `[text, [children...]]` (RediSearch's
/// nesting).
fn explain_reply(e: &ScoreExplain) -> Reply {
    if e.children.is_empty() {
        return bulk(&e.text);
    }
    Reply::Array(vec![
        bulk(&e.text),
        Reply::Array(e.children.iter().map(explain_reply).collect()),
    ])
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
                let score = h.score.or(h.dist.map(f64::from)).unwrap_or(1.0);
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
