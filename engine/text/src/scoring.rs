//! Relevance scoring with statistics supplied from outside, so that the server can sum them
//! over all shards and a doc's score does not depend on its shard. Formulas (RediSearch's,
//! written out in SPEC.md §9.5):
//! - BM25 (RediSearch BM25STD): Σ_t w_t · idf_t · f·(k1+1) / (f + k1·(1 − b + b·|D|/avgdl)),
//!   idf = ln(1 + (N − n + 0.5)/(n + 0.5)), k1 = 1.2, b = 0.75, times the doc score.
//! - TFIDF: docscore · Σ_t w_t · f · idf'_t / maxfreq(D) / slop, idf' = floor(log2(1 + N/n)).
//! - TFIDF.DOCNORM: as TFIDF but divided by |D| instead of maxfreq(D).
//! - DISMAX: Σ_t w_t · f. DOCSCORE: the doc score.
//!
//! f is the field-weighted term frequency Σ_fields weight_f · tf_f over the term's fields; for
//! a multi-key term (stem expansion, prefix, fuzzy) tf_f counts each matching token once
//! (see `QueryTerm::count_masks`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt::Write as _;

use roaring::RoaringBitmap;

use crate::index::{QueryTerm, TextIndex};
use crate::postings::{BLOCK, TF_SAT, entry_fields, unpack};

const K1: f64 = 1.2;
const B: f64 = 0.75;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scorer {
    Bm25,
    TfIdf,
    TfIdfDocNorm,
    DisMax,
    DocScore,
}

impl Scorer {
    /// Parses a `SCORER` name (case-insensitive); `BM25` and `BM25STD` both mean BM25.
    pub fn from_name(name: &str) -> Option<Scorer> {
        Some(match name.to_ascii_uppercase().as_str() {
            "BM25" | "BM25STD" => Scorer::Bm25,
            "TFIDF" => Scorer::TfIdf,
            "TFIDF.DOCNORM" => Scorer::TfIdfDocNorm,
            "DISMAX" => Scorer::DisMax,
            "DOCSCORE" => Scorer::DocScore,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Scorer::Bm25 => "BM25STD",
            Scorer::TfIdf => "TFIDF",
            Scorer::TfIdfDocNorm => "TFIDF.DOCNORM",
            Scorer::DisMax => "DISMAX",
            Scorer::DocScore => "DOCSCORE",
        }
    }
}

/// Collection statistics. A shard returns its [`TextIndex::local_stats`]; the server sums them
/// with [`Stats::merge`] and passes the global figures to scoring.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub num_docs: u64,
    /// Σ token count per field id.
    pub total_len: Vec<u64>,
    /// Document frequency of each query term, in query order.
    pub doc_freq: Vec<u64>,
}

pub type LocalStats = Stats;
pub type GlobalStats = Stats;

impl Stats {
    pub fn merge(&mut self, other: &Stats) {
        self.num_docs += other.num_docs;
        merge_vec(&mut self.total_len, &other.total_len);
        merge_vec(&mut self.doc_freq, &other.doc_freq);
    }

    /// Average document length (all fields), 0 for an empty collection.
    pub fn avg_len(&self) -> f64 {
        if self.num_docs == 0 {
            0.0
        } else {
            self.total_len.iter().sum::<u64>() as f64 / self.num_docs as f64
        }
    }
}

fn merge_vec(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// RediSearch BM25 idf.
pub fn bm25_idf(n: u64, df: u64) -> f64 {
    let (n, df) = (n as f64, df as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// RediSearch TFIDF idf: `logb(1 + N/df)` (the binary exponent, i.e. floor(log2)).
pub fn tfidf_idf(n: u64, df: u64) -> f64 {
    let x = 1.0 + n as f64 / df.max(1) as f64;
    x.log2().floor()
}

/// A score broken down for EXPLAINSCORE.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreExplain {
    pub score: f64,
    pub text: String,
    pub children: Vec<ScoreExplain>,
}

impl ScoreExplain {
    /// Indented tree, one node per line.
    pub fn render(&self) -> String {
        let mut s = String::new();
        self.render_into(&mut s, 0);
        s
    }

    fn render_into(&self, s: &mut String, depth: usize) {
        let _ = writeln!(s, "{}{}", "  ".repeat(depth), self.text);
        for c in &self.children {
            c.render_into(s, depth + 1);
        }
    }
}

/// (doc, score) ordered for a min-heap of the best k: lower score = "greater" heap item
/// (so the heap top is the worst kept); ties prefer the smaller doc id.
#[derive(PartialEq)]
struct Hit(f64, u32);
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Hit {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}

impl TextIndex {
    /// This shard's statistics for `terms`.
    pub fn local_stats(&self, terms: &[QueryTerm]) -> LocalStats {
        Stats {
            num_docs: self.num_docs(),
            total_len: self.total_len.clone(),
            doc_freq: terms.iter().map(|t| t.docs.len()).collect(),
        }
    }

    /// Field-weighted frequency of `t` in `doc` (0 if absent). With `cursors` (one per id,
    /// for ascending docs) postings are searched by galloping from the previous position.
    fn weighted_tf(&self, t: &QueryTerm, doc: u32, mut cursors: Option<&mut [usize]>) -> f64 {
        let mut f = 0.0;
        for (k, &id) in t.ids.iter().enumerate() {
            let Some(pl) = self.postings.get(id as usize) else {
                continue;
            };
            let i = match cursors.as_deref_mut() {
                Some(c) => {
                    let i = pl.seek(c[k], doc);
                    c[k] = i;
                    if pl.docs().get(i) != Some(&doc) {
                        continue;
                    }
                    i
                }
                None => match pl.find(doc) {
                    Some(i) => i,
                    None => continue,
                },
            };
            let mask = t.field_mask & t.count_masks.get(k).copied().unwrap_or(u64::MAX);
            self.add_entry_tf(&mut f, pl.entry_open(i), mask);
        }
        f
    }

    /// Adds an entry's field-weighted tf over `mask` to `f` (one code path for every scorer,
    /// so pruned and exhaustive top-k compute bit-identical scores).
    #[inline]
    fn add_entry_tf(&self, f: &mut f64, entry: &[u8], mask: u64) {
        for h in entry_fields(entry) {
            if mask & (1u64 << (h.field & 63)) != 0 {
                let w = self.fields.get(h.field as usize).map_or(1.0, |s| s.weight);
                *f += w * f64::from(h.tf);
            }
        }
    }

    /// TFIDF's proximity divisor: Σ over consecutive query terms of their minimal position
    /// distance (same field), at least 1.
    fn slop_factor(&self, terms: &[QueryTerm], doc: u32) -> f64 {
        if terms.len() < 2 {
            return 1.0;
        }
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut total = 0u64;
        for w in terms.windows(2) {
            self.term_positions(&w[0], doc, w[0].field_mask, &mut a);
            self.term_positions(&w[1], doc, w[1].field_mask, &mut b);
            let mut best = u64::MAX;
            for &(fa, pa) in &a {
                for &(fb, pb) in &b {
                    if fa == fb {
                        best = best.min(u64::from(pa.abs_diff(pb)));
                    }
                }
            }
            if best != u64::MAX {
                total += best;
            }
        }
        total.max(1) as f64
    }

    /// Score of `doc` for `terms` (the query's positive terms) under `scorer`.
    pub fn score(&self, doc: u32, terms: &[QueryTerm], stats: &GlobalStats, scorer: Scorer) -> f64 {
        self.explain_inner(doc, terms, stats, scorer, false).score
    }

    /// EXPLAINSCORE: the score with its breakdown.
    pub fn explain_score(
        &self,
        doc: u32,
        terms: &[QueryTerm],
        stats: &GlobalStats,
        scorer: Scorer,
    ) -> ScoreExplain {
        self.explain_inner(doc, terms, stats, scorer, true)
    }

    fn explain_inner(
        &self,
        doc: u32,
        terms: &[QueryTerm],
        stats: &GlobalStats,
        scorer: Scorer,
        explain: bool,
    ) -> ScoreExplain {
        let empty = ScoreExplain {
            score: 0.0,
            text: String::new(),
            children: Vec::new(),
        };
        let Some(info) = self.docs.get(&doc) else {
            return empty;
        };
        let doc_score = info.score;
        let mut children = Vec::new();
        let mut sum = 0.0;
        let dl = info.len() as f64;
        let avg = stats.avg_len();
        for (i, t) in terms.iter().enumerate() {
            let f = self.weighted_tf(t, doc, None);
            let df = stats.doc_freq.get(i).copied().unwrap_or(t.docs.len());
            let (s, text) = match scorer {
                Scorer::Bm25 => {
                    let idf = bm25_idf(stats.num_docs, df);
                    let norm = if avg > 0.0 {
                        1.0 - B + B * dl / avg
                    } else {
                        1.0
                    };
                    let s = t.weight * idf * f * (K1 + 1.0) / (f + K1 * norm);
                    let text = if explain {
                        format!(
                            "{s:.6} = term '{}' weight {} * IDF {idf:.6} * F {f} * (k1 {K1} + 1) / (F {f} + k1 {K1} * (1 - b {B} + b {B} * Doc Len {dl} / Average Doc Len {avg:.6}))",
                            t.text, t.weight
                        )
                    } else {
                        String::new()
                    };
                    (if f > 0.0 { s } else { 0.0 }, text)
                }
                Scorer::TfIdf | Scorer::TfIdfDocNorm => {
                    let idf = tfidf_idf(stats.num_docs, df);
                    let s = t.weight * f * idf;
                    let text = if explain {
                        format!(
                            "{s:.6} = term '{}' weight {} * TF {f} * IDF {idf}",
                            t.text, t.weight
                        )
                    } else {
                        String::new()
                    };
                    (s, text)
                }
                Scorer::DisMax => {
                    let s = t.weight * f;
                    let text = if explain {
                        format!("{s:.6} = term '{}' weight {} * TF {f}", t.text, t.weight)
                    } else {
                        String::new()
                    };
                    (s, text)
                }
                Scorer::DocScore => (0.0, String::new()),
            };
            sum += s;
            if explain && scorer != Scorer::DocScore {
                children.push(ScoreExplain {
                    score: s,
                    text,
                    children: Vec::new(),
                });
            }
        }
        let (score, text) = match scorer {
            Scorer::Bm25 => {
                let s = sum * doc_score;
                (
                    s,
                    format!(
                        "Final BM25STD {s:.6} = words BM25STD {sum:.6} * document score {doc_score}"
                    ),
                )
            }
            Scorer::TfIdf | Scorer::TfIdfDocNorm => {
                if doc_score == 0.0 {
                    (0.0, "Final TFIDF 0 (document score 0)".to_string())
                } else {
                    let (norm, what) = if scorer == Scorer::TfIdf {
                        (f64::from(info.max_freq.max(1)), "Max Term Frequency")
                    } else {
                        (dl.max(1.0), "Document Length")
                    };
                    let slop = self.slop_factor(terms, doc);
                    let s = doc_score * sum / norm / slop;
                    (
                        s,
                        format!(
                            "Final {} {s:.6} = Document score {doc_score} * TFIDF {sum:.6} / {what} {norm} / Slop {slop}",
                            scorer.name()
                        ),
                    )
                }
            }
            Scorer::DisMax => (
                sum,
                format!("Final DISMAX {sum:.6} = sum of weighted term frequencies"),
            ),
            Scorer::DocScore => (doc_score, format!("Document score {doc_score}")),
        };
        ScoreExplain {
            score,
            text: if explain { text } else { String::new() },
            children,
        }
    }

    /// Scores every doc of `candidates` and returns the best `k` as (doc, score), best first,
    /// ties by ascending doc id.
    pub fn top_k(
        &self,
        candidates: &RoaringBitmap,
        terms: &[QueryTerm],
        stats: &GlobalStats,
        scorer: Scorer,
        k: usize,
    ) -> Vec<(u32, f64)> {
        if k == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Hit> = BinaryHeap::with_capacity(k + 1);
        let idfs: Vec<f64> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                bm25_idf(
                    stats.num_docs,
                    stats.doc_freq.get(i).copied().unwrap_or(t.docs.len()),
                )
            })
            .collect();
        let avg = stats.avg_len();
        let mut cursors: Vec<Vec<usize>> = terms.iter().map(|t| vec![0; t.ids.len()]).collect();
        for doc in candidates.iter() {
            let s = if scorer == Scorer::Bm25 {
                // BM25 with monotone cursors: the hot path.
                // Dense (length, doc score) table: sequential reads for ascending candidates.
                let Some(&(len, doc_score)) = self.norms.get(doc as usize) else {
                    continue;
                };
                let norm = bm25_norm(len, avg);
                let mut sum = 0.0;
                for (ti, t) in terms.iter().enumerate() {
                    let f = self.weighted_tf(t, doc, Some(&mut cursors[ti]));
                    if f > 0.0 {
                        sum += bm25_tf(t.weight, idfs[ti], f, norm);
                    }
                }
                sum * doc_score
            } else {
                self.score(doc, terms, stats, scorer)
            };
            offer(&mut heap, k, s, doc);
        }
        ranked(heap)
    }

    /// BM25 top `k` of a single term whose matches are the live docs of at most one posting
    /// list (precondition: [`TextIndex::direct_count`] is `Some`), read from the postings
    /// without a doc bitmap, pruned with block-max bounds: a block of [`BLOCK`] postings (then
    /// a single posting) whose score upper bound — from its largest tf and smallest doc
    /// length, the field weights, the global statistics and the largest doc score — cannot
    /// beat the worst of a full heap is skipped without decoding. Exact: the result (ids and
    /// bit-identical scores) is [`TextIndex::top_k`]'s over the same docs, because a skipped
    /// doc could not have entered the heap (its score ≤ bound ≤ the heap's worst, and ties
    /// keep the earlier, smaller doc) and scored docs are scored by the same arithmetic.
    /// Bounds are widened by a relative 1e-9 against rounding; pruning is off (every posting
    /// scored) when a bound is not monotone or finite (negative weight or idf, a negative or
    /// NaN doc score).
    pub fn top_k_direct(&self, t: &QueryTerm, stats: &GlobalStats, k: usize) -> Vec<(u32, f64)> {
        let pl = match t.ids.as_slice() {
            [id] => self.postings.get(*id as usize),
            _ => None,
        };
        let Some(pl) = pl.filter(|_| k > 0) else {
            return Vec::new();
        };
        let n = pl.len() as u64;
        let idf = bm25_idf(stats.num_docs, stats.doc_freq.first().copied().unwrap_or(n));
        let avg = stats.avg_len();
        let mask = t.field_mask & t.count_masks.first().copied().unwrap_or(u64::MAX);
        // f = Σ_fields weight · tf ≤ (largest weight in the mask) · Σ_fields tf.
        let wmax = self
            .fields
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1u64 << (i & 63)) != 0)
            .map(|(_, f)| f.weight)
            .fold(0.0f64, f64::max);
        let c = t.weight * idf;
        let prune = c >= 0.0
            && c.is_finite()
            && wmax.is_finite()
            && self.score_bound.is_finite()
            && avg.is_finite();
        let bound = |m: u32| -> f64 {
            let (tf, len) = unpack(m);
            let norm = bm25_norm(len, avg);
            // BM25's tf part tends to c·(k1+1) as f grows: the bound of a saturated tf.
            let part = if tf >= TF_SAT {
                c * (K1 + 1.0)
            } else {
                bm25_tf(t.weight, idf, wmax * f64::from(tf), norm)
            };
            part * self.score_bound * (1.0 + 1e-9)
        };
        let check_deleted = !self.deleted.is_empty();
        let mut heap: BinaryHeap<Hit> = BinaryHeap::with_capacity(k + 1);
        let (docs, meta) = (pl.docs(), pl.meta());
        for (b, &bm) in pl.blocks().iter().enumerate() {
            let start = b * BLOCK;
            let end = (start + BLOCK).min(docs.len());
            let mut worst = match heap.peek() {
                Some(w) if prune && heap.len() == k => w.0,
                _ => f64::NEG_INFINITY,
            };
            if bound(bm) <= worst {
                continue;
            }
            for i in start..end {
                let doc = docs[i];
                if worst > f64::NEG_INFINITY && bound(meta[i]) <= worst {
                    continue;
                }
                if check_deleted && self.deleted.contains(doc) {
                    continue;
                }
                let Some(&(len, doc_score)) = self.norms.get(doc as usize) else {
                    continue;
                };
                let norm = bm25_norm(len, avg);
                let mut f = 0.0;
                self.add_entry_tf(&mut f, pl.entry_open(i), mask);
                let mut sum = 0.0;
                if f > 0.0 {
                    sum += bm25_tf(t.weight, idf, f, norm);
                }
                let s = sum * doc_score;
                offer(&mut heap, k, s, doc);
                if prune && heap.len() == k {
                    worst = heap.peek().map_or(f64::NEG_INFINITY, |w| w.0);
                }
            }
        }
        ranked(heap)
    }
}

/// BM25's length normalisation `1 − b + b·|D|/avgdl` (1 for an empty collection).
#[inline]
fn bm25_norm(len: u32, avg: f64) -> f64 {
    if avg > 0.0 {
        1.0 - B + B * f64::from(len) / avg
    } else {
        1.0
    }
}

/// One term's BM25 part before the doc score: `w·idf·f·(k1+1) / (f + k1·norm)`, monotone in
/// f (increasing) and norm (decreasing) for w·idf ≥ 0, which the block bounds rely on.
#[inline]
fn bm25_tf(weight: f64, idf: f64, f: f64, norm: f64) -> f64 {
    weight * idf * f * (K1 + 1.0) / (f + K1 * norm)
}

/// Keeps the best `k` in `heap`, visiting docs in ascending order: when full, only a better
/// hit (a higher score; an equal score with a smaller doc is impossible as docs ascend)
/// replaces the worst.
#[inline]
fn offer(heap: &mut BinaryHeap<Hit>, k: usize, s: f64, doc: u32) {
    if heap.len() == k {
        if heap.peek().is_some_and(|w| s > w.0) {
            heap.pop();
            heap.push(Hit(s, doc));
        }
    } else {
        heap.push(Hit(s, doc));
    }
}

/// The heap's hits, best first, ties by ascending doc id.
fn ranked(heap: BinaryHeap<Hit>) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = heap.into_iter().map(|h| (h.1, h.0)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}
