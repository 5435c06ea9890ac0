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
use crate::postings::entry_fields;

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
            for h in entry_fields(pl.entry_open(i)) {
                if mask & (1u64 << (h.field & 63)) != 0 {
                    let w = self.fields.get(h.field as usize).map_or(1.0, |s| s.weight);
                    f += w * f64::from(h.tf);
                }
            }
        }
        f
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
                let norm = if avg > 0.0 {
                    1.0 - B + B * f64::from(len) / avg
                } else {
                    1.0
                };
                let mut sum = 0.0;
                for (ti, t) in terms.iter().enumerate() {
                    let f = self.weighted_tf(t, doc, Some(&mut cursors[ti]));
                    if f > 0.0 {
                        sum += t.weight * idfs[ti] * f * (K1 + 1.0) / (f + K1 * norm);
                    }
                }
                sum * doc_score
            } else {
                self.score(doc, terms, stats, scorer)
            };
            if heap.len() == k {
                // Full: only a better hit (higher score, or equal score and smaller doc —
                // impossible here since docs ascend) replaces the worst.
                if heap.peek().is_some_and(|w| s > w.0) {
                    heap.pop();
                    heap.push(Hit(s, doc));
                }
            } else {
                heap.push(Hit(s, doc));
            }
        }
        let mut v: Vec<(u32, f64)> = heap.into_iter().map(|h| (h.1, h.0)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}
