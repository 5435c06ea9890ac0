//! TEXT fields of one index on one shard: the `moon_text::TextIndex` fed by the write path,
//! the index-level analysis options (LANGUAGE, STOPWORDS, SCORE / SCORE_FIELD) applied, and
//! the query-side helpers the executor uses (field masks, affix and wildcard expansion,
//! highlight terms, geo distance).
//!
//! Invariants: every doc of the index's doc table is a document of the text index under the
//! same dense id (docs without text values have length 0), so the text index's `num_docs`
//! is the index's doc count and BM25's N is the same whichever fields a doc fills; text field
//! ids are assigned in schema order to TEXT fields without NOINDEX (at most 64, the text
//! engine's mask width; later ones are not indexed); deletes are garbage-collected a few
//! terms per removal, so no tick is needed.

use bytes::Bytes;
use moon_text::index::MAX_FIELDS;
use moon_text::{Analyzer, FieldSpec, Language, QueryTerm, StopWords, TextIndex};
use roaring::RoaringBitmap;

use super::schema::{FieldDef, FieldType, IndexDef};
use crate::types::hash::{HashRef, NO_TTL};

pub use moon_text::{Scorer, Stats};

/// Posting lists garbage-collected per removed doc (amortised GC of lazy deletes).
const GC_TERMS_PER_REMOVE: usize = 64;

/// RediSearch's default MAXEXPANSIONS / MAXPREFIXEXPANSIONS.
pub const MAX_EXPANSIONS: usize = 200;

/// See the module docs.
pub struct TextState {
    pub index: TextIndex,
    /// Schema position → text field id (None: not an indexed TEXT field).
    pub ids: Vec<Option<u8>>,
}

impl std::fmt::Debug for TextState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextState")
            .field("docs", &self.index.num_docs())
            .field("terms", &self.index.term_count())
            .finish()
    }
}

impl Clone for TextState {
    /// The text index is not `Clone`: a copy goes through its snapshot codec (which keeps
    /// live docs, terms and positions; a decode failure, impossible for our own encoding,
    /// would leave an empty index that the next rescan refills).
    fn clone(&self) -> TextState {
        let mut buf = Vec::new();
        self.index.encode(&mut buf);
        let index = TextIndex::decode(&buf).unwrap_or_else(|_| {
            let a = self.index.analyzer();
            let analyzer = Analyzer::new(a.language(), a.stopwords().clone());
            TextIndex::new(analyzer, self.index.fields().to_vec()).unwrap_or_else(|_| empty_index())
        });
        TextState {
            index,
            ids: self.ids.clone(),
        }
    }
}

fn empty_index() -> TextIndex {
    match TextIndex::new(Analyzer::default(), Vec::new()) {
        Ok(i) => i,
        Err(_) => unreachable!("an index without fields has nothing to validate"),
    }
}

/// The analyzer an index definition asks for. Languages RediSearch knows but the stemmer
/// does not (chinese, ...) fall back to English stemming.
pub fn analyzer_for(def: &IndexDef) -> Analyzer {
    let language = def
        .language
        .as_ref()
        .and_then(|l| Language::from_name(&String::from_utf8_lossy(l)).ok())
        .unwrap_or(Language::English);
    let stop = match &def.stopwords {
        None => StopWords::Default,
        Some(w) if w.is_empty() => StopWords::None,
        Some(w) => StopWords::Custom(
            w.iter()
                .map(|s| String::from_utf8_lossy(s).to_lowercase())
                .collect(),
        ),
    };
    Analyzer::new(language, stop)
}

fn spec(f: &FieldDef) -> Option<FieldSpec> {
    match &f.ty {
        FieldType::Text { nostem, weight, .. } if !f.noindex => {
            let mut s = FieldSpec::new(&String::from_utf8_lossy(&f.attribute)).weight(*weight);
            s.nostem = *nostem;
            Some(s)
        }
        _ => None,
    }
}

impl TextState {
    /// The text state of `def`, `None` when it has no indexed TEXT field.
    pub fn new(def: &IndexDef) -> Option<TextState> {
        let mut st = TextState {
            index: TextIndex::new(analyzer_for(def), Vec::new()).ok()?,
            ids: Vec::new(),
        };
        st.add_fields(&def.fields);
        st.ids.iter().any(Option::is_some).then_some(st)
    }

    /// Registers schema fields appended to the definition (FT.CREATE, FT.ALTER).
    pub fn add_fields(&mut self, fields: &[FieldDef]) {
        for f in fields {
            let id = match spec(f) {
                Some(s) if self.index.fields().len() < MAX_FIELDS => self.index.add_field(s).ok(),
                _ => None,
            };
            self.ids.push(id);
        }
    }

    /// (Re)indexes doc `id` from hash `h`: the TEXT values of the live fields, and the doc
    /// score (SCORE_FIELD's value when it parses, else the index's SCORE).
    pub fn index_doc(&mut self, def: &IndexDef, id: u32, h: HashRef<'_>, now_ms: u64) {
        let live = |name: &[u8]| {
            h.get(name)
                .filter(|r| r.expire_at == NO_TTL || r.expire_at > now_ms)
                .map(|r| r.value)
        };
        let mut values: Vec<(u8, String)> = Vec::new();
        for (f, tid) in def.fields.iter().zip(&self.ids) {
            if let (Some(tid), Some(v)) = (tid, live(&f.identifier)) {
                values.push((*tid, String::from_utf8_lossy(v).into_owned()));
            }
        }
        let score = def
            .score_field
            .as_ref()
            .and_then(|f| live(f))
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(def.score);
        let refs: Vec<(u8, &str)> = values.iter().map(|(f, s)| (*f, s.as_str())).collect();
        // Field ids come from `add_fields`, so `UnknownField` cannot happen; `TooLarge`
        // (a 4 GiB arena) leaves the doc partly indexed, which is all that can be done.
        let _ = self.index.add_document_scored(id, score, &refs);
    }

    /// Un-indexes doc `id`.
    pub fn remove(&mut self, id: u32) {
        if self.index.remove_document(id) {
            self.index.maintain(GC_TERMS_PER_REMOVE);
        }
    }

    /// The field mask of `fields` (attribute or identifier names; `None` = every text field).
    /// Names that are not indexed TEXT fields contribute nothing.
    pub fn mask(&self, def: &IndexDef, fields: Option<&[Bytes]>) -> u64 {
        match fields {
            None => self.index.all_fields_mask(),
            Some(names) => names
                .iter()
                .filter_map(|n| def.field_position(n))
                .filter_map(|p| self.ids.get(p).copied().flatten())
                .fold(0, |m, id| m | (1u64 << (id & 63))),
        }
    }

    /// True if `word` is a stop word of the index (dropped from queries).
    pub fn is_stopword(&self, word: &str) -> bool {
        let lowered = word.to_lowercase();
        !lowered.is_empty() && self.index.analyzer().is_stopword(&lowered)
    }

    /// Surface terms of the dictionary accepted by `keep`, at most `max`, as one logical
    /// query term over `mask` (suffix, infix and wildcard queries: a dictionary scan, as
    /// RediSearch does without a suffix trie).
    pub fn expand(
        &self,
        mask: u64,
        text: String,
        max: usize,
        keep: impl Fn(&str) -> bool,
    ) -> QueryTerm {
        let dict = self.index.dict();
        let mut out = QueryTerm {
            text,
            ids: Vec::new(),
            count_masks: Vec::new(),
            field_mask: mask,
            weight: 1.0,
            docs: RoaringBitmap::new(),
        };
        for id in dict.sorted_ids() {
            let t = dict.term(id);
            if t.starts_with('+') || !keep(t) {
                continue;
            }
            let q = self.index.term(mask, t, true);
            if q.docs.is_empty() {
                continue;
            }
            out.ids.extend(q.ids);
            out.count_masks.extend(q.count_masks);
            out.docs |= q.docs;
            if out.ids.len() >= max {
                break;
            }
        }
        out
    }

    /// The surface words of `t` for HIGHLIGHT / SUMMARIZE: its query text and its
    /// dictionary expansions (stem keys skipped: the highlighter stems by itself).
    pub fn surface_words(&self, t: &QueryTerm, out: &mut Vec<String>) {
        let dict = self.index.dict();
        if !t.text.ends_with('*') {
            out.push(t.text.clone());
        }
        for &id in &t.ids {
            let w = dict.term(id);
            if !w.starts_with('+') {
                out.push(w.to_string());
            }
        }
    }

    /// (Terms, postings records) for FT.INFO: distinct dictionary terms, and (term, doc)
    /// pairs over the live docs.
    pub fn info(&self) -> (u64, u64) {
        let records = self
            .index
            .live_docs()
            .iter()
            .filter_map(|d| self.index.doc_info(d))
            .map(|i| i.terms.len() as u64)
            .sum();
        (self.index.term_count() as u64, records)
    }
}

/// FT.EXPLAIN's expansions of a lowercased query term (RediSearch's stemmer expander, with
/// English stemming): `+stem` and `stem` when the stem differs from the term, else none.
pub fn explain_expansions(term: &str) -> Vec<String> {
    let a = Analyzer::default();
    let stem = a.stem(term);
    if stem.is_empty() || stem == term {
        return Vec::new();
    }
    vec![format!("+{stem}"), stem.into_owned()]
}

/// `*` any run, `?` one character (RediSearch's `w'...'` wildcard), over chars.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == '*')
}

/// Great-circle distance in metres (Redis GEO's haversine and Earth radius).
pub fn geo_distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_372_797.560_856;
    let (la1, la2) = (lat1.to_radians(), lat2.to_radians());
    let u = ((la2 - la1) / 2.0).sin();
    let v = ((lon2 - lon1).to_radians() / 2.0).sin();
    let a = u * u + la1.cos() * la2.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("he*o", "hello"));
        assert!(wildcard_match("h?llo", "hello"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("h?lo", "hello"));
        assert!(wildcard_match("*ll*", "hello"));
        assert!(!wildcard_match("x*", "hello"));
    }

    #[test]
    fn distances_match_redis_geodist() {
        // GEODIST Sicily Palermo Catania (Redis docs): 166274.1516 m.
        let d = geo_distance(13.361389, 38.115556, 15.087269, 37.502669);
        assert!((d - 166_274.151_6).abs() < 1.0, "{d}");
    }
}
