//! `TextIndex`: the inverted index of one FT index on one shard. Owns the schema's text
//! fields, the term dictionary, one posting list per term id, the per-document store
//! (per-field lengths, max term frequency, document score, forward list of term ids) and the
//! global statistics (live doc count, total length per field).
//!
//! Deletes are lazy: `remove_document` moves the doc to `deleted` (queries subtract it) and
//! parks its term list in `zombies`; `maintain` garbage-collects postings with a bounded
//! number of terms per call. Re-adding a doc (update) purges its previous postings eagerly.
//! Invariants: `live ∩ deleted = ∅`; `docs` has an entry iff the doc is live; every doc id in
//! a posting list is live or deleted; `total_len[f] = Σ_live docs lens[f]`.

use hashbrown::HashMap;
use roaring::RoaringBitmap;

use crate::analyzer::{Analyzer, STEM_PREFIX, lowercase_into};
use crate::error::TextError;
use crate::postings::{PostingList, encode_entry, entry_fields, entry_mask};
use crate::term_dict::TermDict;

const UNKNOWN: u32 = u32::MAX;
const NO_STEM: u32 = u32::MAX - 1;

/// Maximum number of text fields (field masks are u64).
pub const MAX_FIELDS: usize = 64;

/// One TEXT field of the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub name: String,
    /// `WEIGHT`, multiplies the field's term frequencies in scoring (default 1.0).
    pub weight: f64,
    /// `NOSTEM`: only surface forms are indexed for this field.
    pub nostem: bool,
}

impl FieldSpec {
    pub fn new(name: &str) -> FieldSpec {
        FieldSpec {
            name: name.to_string(),
            weight: 1.0,
            nostem: false,
        }
    }

    pub fn weight(mut self, w: f64) -> FieldSpec {
        self.weight = w;
        self
    }

    pub fn nostem(mut self) -> FieldSpec {
        self.nostem = true;
        self
    }
}

/// Per-document metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct DocInfo {
    /// Σ of `lens` (cached: BM25 reads it for every candidate).
    pub total: u32,
    /// Kept-token count per field id (shorter than the schema if fields were added later).
    pub lens: Box<[u32]>,
    /// Largest term frequency (summed over fields) among the doc's surface terms.
    pub max_freq: u32,
    /// Document score (`SCORE`, default 1.0) used by every scorer.
    pub score: f64,
    /// Sorted term ids the doc has postings under (forward index, for purge/GC).
    pub terms: Box<[u32]>,
}

impl DocInfo {
    pub fn len(&self) -> u64 {
        u64::from(self.total)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A query term resolved against the dictionary: the term ids treated as one logical term
/// (surface + stem keys, or prefix / fuzzy expansions), the fields it is restricted to, its
/// query weight and the matching live documents.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    pub text: String,
    pub ids: Vec<u32>,
    /// Per id, the fields in which its occurrences count towards the term frequency. The
    /// keys of one term cover disjoint token sets under these masks (a surface key whose
    /// stem differs is covered by the `+stem` key in stemming fields), so tf is a plain sum.
    pub count_masks: Vec<u64>,
    pub field_mask: u64,
    pub weight: f64,
    pub docs: RoaringBitmap,
}

/// What one `maintain` call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintainReport {
    pub terms_cleaned: usize,
    pub docs_reclaimed: usize,
    pub tail_merged: bool,
    /// Terms still queued for garbage collection.
    pub pending_terms: usize,
}

pub struct TextIndex {
    pub(crate) analyzer: Analyzer,
    pub(crate) fields: Vec<FieldSpec>,
    pub(crate) dict: TermDict,
    pub(crate) postings: Vec<PostingList>,
    pub(crate) docs: HashMap<u32, DocInfo>,
    pub(crate) live: RoaringBitmap,
    pub(crate) deleted: RoaringBitmap,
    pub(crate) zombies: HashMap<u32, Box<[u32]>>,
    pub(crate) gc_batch: HashMap<u32, Box<[u32]>>,
    pub(crate) gc_docs: RoaringBitmap,
    pub(crate) gc_queue: Vec<u32>,
    pub(crate) total_len: Vec<u64>,
    /// Dense by doc id: (total length, doc score) of live docs, (0, 0.0) otherwise. BM25
    /// reads it for every candidate; a hash lookup there was the top cost of term queries.
    /// Doc ids are the shard's dense ids, so this stays proportional to the doc count.
    pub(crate) norms: Vec<(u32, f64)>,
    /// An upper bound of every live doc's score (the largest ever set; never lowered, so it
    /// stays a bound), `INFINITY` once a negative or NaN score was seen: block-max pruning
    /// multiplies term bounds by it and is off when it is not finite.
    pub(crate) score_bound: f64,
    /// Per surface term id: the id of its `+stem` key, [`NO_STEM`] when the stem equals the
    /// surface form, [`UNKNOWN`] when not computed yet. Stemming once per distinct term keeps
    /// Snowball off the per-token path.
    stem_cache: Vec<u32>,
    scratch_occ: Vec<(u32, u8, u32)>,
    scratch_entry: Vec<u8>,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex")
            .field("fields", &self.fields)
            .field("docs", &self.live.len())
            .field("terms", &self.dict.len())
            .finish()
    }
}

fn validate_field(f: &FieldSpec, existing: &[FieldSpec]) -> Result<(), TextError> {
    if existing.len() >= MAX_FIELDS {
        return Err(TextError::TooManyFields);
    }
    if !(f.weight.is_finite() && f.weight >= 0.0) {
        return Err(TextError::InvalidWeight);
    }
    if existing.iter().any(|e| e.name == f.name) {
        return Err(TextError::DuplicateField(f.name.clone()));
    }
    Ok(())
}

impl TextIndex {
    pub fn new(analyzer: Analyzer, fields: Vec<FieldSpec>) -> Result<TextIndex, TextError> {
        let mut idx = TextIndex {
            analyzer,
            fields: Vec::new(),
            dict: TermDict::default(),
            postings: Vec::new(),
            docs: HashMap::new(),
            live: RoaringBitmap::new(),
            deleted: RoaringBitmap::new(),
            zombies: HashMap::new(),
            gc_batch: HashMap::new(),
            gc_docs: RoaringBitmap::new(),
            gc_queue: Vec::new(),
            total_len: Vec::new(),
            norms: Vec::new(),
            score_bound: 0.0,
            stem_cache: Vec::new(),
            scratch_occ: Vec::new(),
            scratch_entry: Vec::new(),
        };
        for f in fields {
            idx.add_field(f)?;
        }
        Ok(idx)
    }

    /// Adds a field (FT.ALTER); returns its id. Existing documents have length 0 in it.
    pub fn add_field(&mut self, spec: FieldSpec) -> Result<u8, TextError> {
        validate_field(&spec, &self.fields)?;
        self.fields.push(spec);
        self.total_len.push(0);
        Ok((self.fields.len() - 1) as u8)
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    pub fn field_id(&self, name: &str) -> Option<u8> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| i as u8)
    }

    /// Mask with a bit for every defined field.
    pub fn all_fields_mask(&self) -> u64 {
        if self.fields.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.fields.len()) - 1
        }
    }

    pub fn num_docs(&self) -> u64 {
        self.live.len()
    }

    pub fn live_docs(&self) -> &RoaringBitmap {
        &self.live
    }

    pub fn contains(&self, doc: u32) -> bool {
        self.live.contains(doc)
    }

    pub fn doc_info(&self, doc: u32) -> Option<&DocInfo> {
        self.docs.get(&doc)
    }

    /// Σ over live docs of the token count of `field`.
    pub fn total_len(&self, field: u8) -> u64 {
        self.total_len.get(field as usize).copied().unwrap_or(0)
    }

    pub fn term_count(&self) -> usize {
        self.dict.len()
    }

    pub fn dict(&self) -> &TermDict {
        &self.dict
    }

    /// Deleted documents whose postings are not yet garbage-collected.
    pub fn pending_deletes(&self) -> u64 {
        self.deleted.len()
    }

    /// Approximate heap bytes of the postings.
    pub fn postings_bytes(&self) -> usize {
        self.postings.iter().map(PostingList::heap_bytes).sum()
    }

    /// Indexes `doc` with score 1.0 (see [`TextIndex::add_document_scored`]).
    pub fn add_document(&mut self, doc: u32, fields: &[(u8, &str)]) -> Result<(), TextError> {
        self.add_document_scored(doc, 1.0, fields)
    }

    /// Indexes `doc`; re-adding a doc replaces it. The same field id may appear several
    /// times (positions continue). `UnknownField` is checked before anything changes;
    /// `TooLarge` (a posting arena beyond 4 GiB) leaves the doc partially indexed.
    pub fn add_document_scored(
        &mut self,
        doc: u32,
        score: f64,
        fields: &[(u8, &str)],
    ) -> Result<(), TextError> {
        if let Some(&(f, _)) = fields
            .iter()
            .find(|(f, _)| *f as usize >= self.fields.len())
        {
            return Err(TextError::UnknownField(f));
        }
        self.purge(doc);
        let mut occ = std::mem::take(&mut self.scratch_occ);
        occ.clear();
        let mut lens = vec![0u32; self.fields.len()];
        let mut key = String::new();
        for &(f, text) in fields {
            let stem_on = !self.fields[f as usize].nostem;
            let base = lens[f as usize];
            let mut last = base;
            let dict = &mut self.dict;
            let cache = &mut self.stem_cache;
            let analyzer = &self.analyzer;
            analyzer.for_each_term(text, |t, pos, _| {
                let p = base.saturating_add(pos);
                last = p;
                let id = dict.get_or_insert(t);
                occ.push((id, f, p));
                if !stem_on {
                    return;
                }
                if cache.len() <= id as usize {
                    cache.resize(id as usize + 1, UNKNOWN);
                }
                let mut sid = cache[id as usize];
                if sid == UNKNOWN {
                    let stem = analyzer.stem(t);
                    sid = if stem.is_empty() || stem.as_ref() == t {
                        NO_STEM
                    } else {
                        key.clear();
                        key.push(STEM_PREFIX);
                        key.push_str(&stem);
                        dict.get_or_insert(&key)
                    };
                    if cache.len() <= sid as usize && sid < NO_STEM {
                        cache.resize(sid as usize + 1, UNKNOWN);
                    }
                    cache[id as usize] = sid;
                }
                if sid != NO_STEM {
                    occ.push((sid, f, p));
                }
            });
            lens[f as usize] = last;
        }
        if self.postings.len() < self.dict.len() {
            self.postings
                .resize_with(self.dict.len(), PostingList::default);
        }
        occ.sort_unstable();
        occ.dedup();
        let mut terms = Vec::new();
        let mut max_freq = 0u32;
        let mut pairs: Vec<(u8, u32)> = Vec::new();
        let mut entry = std::mem::take(&mut self.scratch_entry);
        let mut i = 0;
        let mut ok = true;
        let total = lens.iter().fold(0u32, |a, &l| a.saturating_add(l));
        while i < occ.len() {
            let t = occ[i].0;
            let mut j = i;
            pairs.clear();
            while j < occ.len() && occ[j].0 == t {
                pairs.push((occ[j].1, occ[j].2));
                j += 1;
            }
            entry.clear();
            encode_entry(&pairs, &mut entry);
            ok &= self.postings[t as usize].insert(doc, &entry, total);
            terms.push(t);
            if !self.dict.term(t).starts_with(STEM_PREFIX) {
                max_freq = max_freq.max((j - i) as u32);
            }
            i = j;
        }
        for (f, &l) in lens.iter().enumerate() {
            self.total_len[f] += u64::from(l);
        }
        self.set_norm(doc, total, score);
        self.docs.insert(
            doc,
            DocInfo {
                total,
                lens: lens.into(),
                max_freq,
                score,
                terms: terms.into(),
            },
        );
        self.live.insert(doc);
        debug_assert!(
            !self.deleted.contains(doc),
            "a live doc must not be pending deletion"
        );
        debug_assert_eq!(self.docs.len() as u64, self.live.len());
        self.scratch_occ = occ;
        self.scratch_entry = entry;
        if ok { Ok(()) } else { Err(TextError::TooLarge) }
    }

    /// Removes `doc` lazily; returns whether it was indexed.
    pub fn remove_document(&mut self, doc: u32) -> bool {
        let Some(info) = self.docs.remove(&doc) else {
            return false;
        };
        self.live.remove(doc);
        self.sub_lens(doc, &info);
        self.deleted.insert(doc);
        self.zombies.insert(doc, info.terms);
        true
    }

    pub(crate) fn set_norm(&mut self, doc: u32, total: u32, score: f64) {
        let i = doc as usize;
        if self.norms.len() <= i {
            self.norms.resize(i + 1, (0, 0.0));
        }
        self.norms[i] = (total, score);
        if score >= 0.0 {
            self.score_bound = self.score_bound.max(score);
        } else {
            // Negative or NaN: no bound (pruning falls back to exhaustive scoring).
            self.score_bound = f64::INFINITY;
        }
    }

    fn sub_lens(&mut self, doc: u32, info: &DocInfo) {
        if let Some(n) = self.norms.get_mut(doc as usize) {
            *n = (0, 0.0);
        }
        for (f, &l) in info.lens.iter().enumerate() {
            if let Some(t) = self.total_len.get_mut(f) {
                *t -= u64::from(l);
            }
        }
    }

    /// Eagerly removes every posting of `doc` (live or pending GC) so it can be re-added.
    fn purge(&mut self, doc: u32) {
        let terms = if let Some(info) = self.docs.remove(&doc) {
            self.live.remove(doc);
            self.sub_lens(doc, &info);
            info.terms
        } else if let Some(t) = self.zombies.remove(&doc) {
            self.deleted.remove(doc);
            t
        } else if let Some(t) = self.gc_batch.remove(&doc) {
            self.deleted.remove(doc);
            self.gc_docs.remove(doc);
            t
        } else {
            return;
        };
        for &t in terms.iter() {
            if let Some(pl) = self.postings.get_mut(t as usize) {
                pl.remove(doc);
            }
        }
    }

    /// Background work with bounded cost: garbage-collects the postings of up to `max_terms`
    /// terms touched by deleted documents, and merges the dictionary tail into the fst.
    pub fn maintain(&mut self, max_terms: usize) -> MaintainReport {
        let mut rep = MaintainReport::default();
        if self.gc_queue.is_empty() && !self.zombies.is_empty() {
            self.gc_batch = std::mem::take(&mut self.zombies);
            self.gc_docs = self.gc_batch.keys().copied().collect();
            let mut q: Vec<u32> = self
                .gc_batch
                .values()
                .flat_map(|t| t.iter().copied())
                .collect();
            q.sort_unstable();
            q.dedup();
            q.reverse();
            self.gc_queue = q;
        }
        while rep.terms_cleaned < max_terms {
            let Some(t) = self.gc_queue.pop() else { break };
            if let Some(pl) = self.postings.get_mut(t as usize) {
                pl.remove_all(&self.gc_docs);
            }
            rep.terms_cleaned += 1;
        }
        if self.gc_queue.is_empty() && !self.gc_batch.is_empty() {
            rep.docs_reclaimed = self.gc_batch.len();
            self.deleted -= &self.gc_docs;
            self.gc_batch.clear();
            self.gc_docs.clear();
        }
        if self.dict.tail_len() > 0 {
            self.dict.merge_tail();
            rep.tail_merged = true;
        }
        rep.pending_terms = self.gc_queue.len();
        rep
    }

    /// Runs `maintain` until no garbage is left.
    pub fn maintain_all(&mut self) {
        loop {
            let r = self.maintain(usize::MAX);
            if r.pending_terms == 0 && self.zombies.is_empty() {
                break;
            }
        }
    }

    /// Live docs having any of `ids` in a field of `mask`.
    pub(crate) fn docs_of(&self, ids: &[u32], mask: u64) -> RoaringBitmap {
        let all = self.all_fields_mask();
        let lists: Vec<&PostingList> = ids
            .iter()
            .filter_map(|&id| self.postings.get(id as usize))
            .collect();
        let mut out = match lists.as_slice() {
            [] => RoaringBitmap::new(),
            [one] if mask & all == all => {
                RoaringBitmap::from_sorted_iter(one.docs().iter().copied()).unwrap_or_default()
            }
            _ => {
                let mut v: Vec<u32> = Vec::with_capacity(lists.iter().map(|l| l.len()).sum());
                for pl in &lists {
                    if mask & all == all {
                        v.extend_from_slice(pl.docs());
                    } else {
                        v.extend(
                            (0..pl.len())
                                .filter(|&i| entry_mask(pl.entry(i)) & mask != 0)
                                .map(|i| pl.docs()[i]),
                        );
                    }
                }
                // Stable sort merges the already sorted runs in O(n log k).
                v.sort();
                v.dedup();
                RoaringBitmap::from_sorted_iter(v).unwrap_or_default()
            }
        };
        if !self.deleted.is_empty() {
            out -= &self.deleted;
        }
        out
    }

    fn make_term(
        &self,
        text: String,
        ids: Vec<u32>,
        count_masks: Vec<u64>,
        mask: u64,
    ) -> QueryTerm {
        debug_assert_eq!(ids.len(), count_masks.len());
        let docs = self.docs_of(&ids, mask);
        QueryTerm {
            text,
            ids,
            count_masks,
            field_mask: mask,
            weight: 1.0,
            docs,
        }
    }

    fn nostem_mask(&self) -> u64 {
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.nostem)
            .fold(0, |m, (i, _)| m | (1u64 << i))
    }

    /// A query word: surface + stem keys (or the surface form only when `verbatim`).
    /// A stop word yields a term with no ids and no docs.
    pub fn term(&self, mask: u64, word: &str, verbatim: bool) -> QueryTerm {
        let mut t = self.term_keys(mask, word, verbatim);
        t.docs = self.docs_of(&t.ids, mask);
        t
    }

    /// [`TextIndex::term`] without its doc bitmap (`docs` left empty): for a single-term
    /// query served from its posting list directly ([`TextIndex::direct_count`],
    /// [`TextIndex::top_k_direct`]); [`TextIndex::fill_docs`] completes it otherwise.
    pub fn term_keys(&self, mask: u64, word: &str, verbatim: bool) -> QueryTerm {
        let keys = self.analyzer.query_keys(word, verbatim);
        let stem_differs = keys.len() == 3;
        let mut ids = Vec::with_capacity(keys.len());
        let mut counts = Vec::with_capacity(keys.len());
        let nostem = self.nostem_mask();
        for (i, k) in keys.iter().enumerate() {
            // In stemming fields the surface form's tokens are also under `+stem` (same
            // positions), so the surface key only matters for NOSTEM fields of the mask.
            let count = if i == 0 && stem_differs {
                nostem
            } else {
                u64::MAX
            };
            if count & mask == 0 {
                continue;
            }
            if let Some(id) = self.dict.get(k) {
                ids.push(id);
                counts.push(count);
            }
        }
        QueryTerm {
            text: word.to_string(),
            ids,
            count_masks: counts,
            field_mask: mask,
            weight: 1.0,
            docs: RoaringBitmap::new(),
        }
    }

    /// Builds `t.docs` (for a term from [`TextIndex::term_keys`]).
    pub fn fill_docs(&self, t: &mut QueryTerm) {
        t.docs = self.docs_of(&t.ids, t.field_mask);
    }

    /// The number of docs `t` matches when they are exactly the live docs of at most one
    /// posting list (one key, a mask covering every field), computed without a bitmap;
    /// `None` when `t` needs the general path (several keys, a field restriction).
    pub fn direct_count(&self, t: &QueryTerm) -> Option<u64> {
        let id = match t.ids.as_slice() {
            [] => return Some(0),
            [id] => *id,
            _ => return None,
        };
        let all = self.all_fields_mask();
        if t.field_mask & all != all {
            return None;
        }
        let Some(pl) = self.postings.get(id as usize) else {
            return Some(0);
        };
        let mut n = pl.len() as u64;
        if !self.deleted.is_empty() {
            // Deleted docs keep their postings until GC: subtract those of this list,
            // walking the smaller side.
            if self.deleted.len() < n {
                n -= self
                    .deleted
                    .iter()
                    .filter(|&d| pl.find(d).is_some())
                    .count() as u64;
            } else {
                n -= pl
                    .docs()
                    .iter()
                    .filter(|&&d| self.deleted.contains(d))
                    .count() as u64;
            }
        }
        Some(n)
    }

    /// This shard's statistics with the given per-term doc frequencies.
    pub fn stats_with(&self, doc_freq: Vec<u64>) -> crate::scoring::Stats {
        crate::scoring::Stats {
            num_docs: self.num_docs(),
            total_len: self.total_len.clone(),
            doc_freq,
        }
    }

    /// `prefix*`: all non-stem terms starting with the lowercased prefix, at most
    /// `max_expansions` of them (lexicographically first), as one logical term.
    pub fn prefix(&self, mask: u64, prefix: &str, max_expansions: usize) -> QueryTerm {
        let mut p = String::new();
        lowercase_into(prefix, &mut p);
        let ids: Vec<u32> = if p.is_empty() {
            Vec::new()
        } else {
            self.dict.prefix(&p, max_expansions)
        };
        let ids: Vec<u32> = ids
            .into_iter()
            .filter(|&i| !self.dict.term(i).starts_with(STEM_PREFIX))
            .collect();
        let counts = vec![u64::MAX; ids.len()];
        self.make_term(format!("{prefix}*"), ids, counts, mask)
    }

    /// `%word%`: all non-stem terms within Levenshtein `distance` (1..=4) of the lowercased
    /// word, at most `max_expansions`, as one logical term.
    pub fn fuzzy(
        &self,
        mask: u64,
        word: &str,
        distance: u32,
        max_expansions: usize,
    ) -> Result<QueryTerm, TextError> {
        if !(1..=4).contains(&distance) {
            return Err(TextError::BadDistance(distance));
        }
        let mut w = String::new();
        lowercase_into(word, &mut w);
        let ids = self.dict.fuzzy(&w, distance, max_expansions)?;
        let counts = vec![u64::MAX; ids.len()];
        Ok(self.make_term(word.to_string(), ids, counts, mask))
    }

    /// Collects `(field, position)` of `term` in `doc` restricted to `mask`, sorted, unique.
    pub(crate) fn term_positions(
        &self,
        term: &QueryTerm,
        doc: u32,
        mask: u64,
        out: &mut Vec<(u8, u32)>,
    ) {
        out.clear();
        let mut tmp = Vec::new();
        for &id in &term.ids {
            let Some(pl) = self.postings.get(id as usize) else {
                continue;
            };
            let Some(i) = pl.find(doc) else { continue };
            for h in entry_fields(pl.entry(i)) {
                if mask & (1u64 << (h.field & 63)) == 0 {
                    continue;
                }
                tmp.clear();
                h.decode_positions(&mut tmp);
                out.extend(tmp.iter().map(|&p| (h.field, p)));
            }
        }
        if term.ids.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }

    /// Documents where the terms occur within one field as a phrase: with `inorder`, positions
    /// p1 < p2 < … < pn with pn − p1 − (n − 1) ≤ slop (slop 0 = exact phrase); without it,
    /// one position per term (any order) with max − min − (n − 1) ≤ slop.
    pub fn phrase(&self, terms: &[QueryTerm], slop: u32, inorder: bool) -> RoaringBitmap {
        let Some(first) = terms.first() else {
            return RoaringBitmap::new();
        };
        let mut cand = first.docs.clone();
        let mut mask = first.field_mask;
        for t in &terms[1..] {
            cand &= &t.docs;
            mask &= t.field_mask;
        }
        if terms.len() == 1 {
            return cand;
        }
        let mut out = RoaringBitmap::new();
        let mut occ: Vec<Vec<(u8, u32)>> = vec![Vec::new(); terms.len()];
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); terms.len()];
        for doc in cand.iter() {
            for (t, o) in terms.iter().zip(occ.iter_mut()) {
                self.term_positions(t, doc, mask, o);
            }
            let mut fields = occ[0].iter().map(|&(f, _)| f).collect::<Vec<_>>();
            fields.dedup();
            let hit = fields.into_iter().any(|f| {
                for (o, l) in occ.iter().zip(lists.iter_mut()) {
                    l.clear();
                    l.extend(o.iter().filter(|x| x.0 == f).map(|x| x.1));
                }
                if inorder {
                    within_inorder(&lists, slop)
                } else {
                    within_unordered(&lists, slop)
                }
            });
            if hit {
                out.insert(doc);
            }
        }
        out
    }
}

/// Exists p1 < … < pn (one per list) with pn − p1 − (n−1) ≤ slop. Greedy: for a fixed p1 the
/// earliest successor in each next list minimises pn.
pub(crate) fn within_inorder(lists: &[Vec<u32>], slop: u32) -> bool {
    let n = lists.len() as i64;
    if lists.iter().any(Vec::is_empty) {
        return false;
    }
    for &p1 in &lists[0] {
        let mut cur = p1;
        for l in &lists[1..] {
            let i = l.partition_point(|&x| x <= cur);
            match l.get(i) {
                Some(&p) => cur = p,
                None => return false,
            }
        }
        if i64::from(cur) - i64::from(p1) - (n - 1) <= i64::from(slop) {
            return true;
        }
    }
    false
}

/// Exists one position per list (any order) with max − min − (n−1) ≤ slop: smallest covering
/// window by advancing the list holding the minimum.
pub(crate) fn within_unordered(lists: &[Vec<u32>], slop: u32) -> bool {
    let n = lists.len() as i64;
    if lists.iter().any(Vec::is_empty) {
        return false;
    }
    let mut idx = vec![0usize; lists.len()];
    loop {
        let mut min = u32::MAX;
        let mut max = 0u32;
        let mut argmin = 0;
        for (k, l) in lists.iter().enumerate() {
            let v = l[idx[k]];
            if v < min {
                min = v;
                argmin = k;
            }
            max = max.max(v);
        }
        if i64::from(max) - i64::from(min) - (n - 1) <= i64::from(slop) {
            return true;
        }
        idx[argmin] += 1;
        if idx[argmin] >= lists[argmin].len() {
            return false;
        }
    }
}
