//! One index on one shard: its definition, document table, per-field indexes, counters and
//! the state of its background scan.
//!
//! Invariants: `fields.len() == def.fields.len()` (one [`FieldIndex`] per schema field, same
//! order); a doc is in a field index exactly with the value its `Doc` records; a key that
//! failed to index (a bad numeric, geo or vector value) has no doc at all, as in RediSearch.

use bytes::Bytes;

use super::docs::{Doc, DocTable, FieldValue};
use super::numeric::{NumericIndex, parse_numeric};
use super::schema::{FieldDef, FieldType, IndexDef, VectorAlgo, VectorParams, VectorType};
use super::tag::{TagIndex, split_tags};
use super::text::TextState;
use crate::keyspace::{Db, Entry};
use crate::types::hash::{HashRef, HashValue, NO_TTL};
use moon_vector::VectorIndex;

/// The searchable structure of one field. Text fields are placeholders until the text
/// engine plugs in here; geo values are validated and kept in the doc table.
#[derive(Debug)]
pub enum FieldIndex {
    Tag(TagIndex),
    Numeric(NumericIndex),
    /// TEXT: the inverted index is the text engine's (not built yet).
    Text,
    /// VECTOR: the vector engine's index of the field (`None` if the vector engine refuses
    /// the parameters, e.g. an `M` beyond its bound: blobs are then only length-checked).
    Vector(Option<Box<VectorIndex>>),
    /// GEO: values validated and recorded per doc.
    Geo,
    /// NOINDEX fields: nothing to search.
    None,
}

impl Clone for FieldIndex {
    /// A vector index is not `Clone`: a copy re-inserts the live vectors.
    fn clone(&self) -> FieldIndex {
        match self {
            FieldIndex::Tag(t) => FieldIndex::Tag(t.clone()),
            FieldIndex::Numeric(n) => FieldIndex::Numeric(n.clone()),
            FieldIndex::Text => FieldIndex::Text,
            FieldIndex::Vector(v) => {
                FieldIndex::Vector(v.as_ref().and_then(|v| v.rebuild(None).ok().map(Box::new)))
            }
            FieldIndex::Geo => FieldIndex::Geo,
            FieldIndex::None => FieldIndex::None,
        }
    }
}

/// The vector engine's parameters for a schema VECTOR field (FLOAT64 blobs are converted to
/// f32 here, so the engine sees FLOAT32).
pub fn vector_params(p: &VectorParams) -> moon_vector::VectorParams {
    let metric = p.metric;
    let mut v = match p.algo {
        VectorAlgo::Hnsw => moon_vector::VectorParams::hnsw(p.dim, metric),
        VectorAlgo::Flat => moon_vector::VectorParams::flat(p.dim, metric),
    };
    v.data_type = match p.dtype {
        VectorType::Float16 => moon_vector::ElementType::Float16,
        VectorType::BFloat16 => moon_vector::ElementType::BFloat16,
        VectorType::Float32 | VectorType::Float64 => moon_vector::ElementType::Float32,
    };
    let us = |x: u64| usize::try_from(x).unwrap_or(usize::MAX);
    if let Some(m) = p.m {
        v.m = us(m);
    }
    if let Some(e) = p.ef_construction {
        v.ef_construction = us(e);
    }
    if let Some(e) = p.ef_runtime {
        v.ef_runtime = us(e);
        v.ef_runtime_auto = false;
    }
    if let Some(e) = p.epsilon {
        v.epsilon = e as f32;
    }
    v.quant_bits = p.quantization.map(|q| q.0);
    if let Some(r) = p.rerank {
        v.rerank = us(r);
    }
    v
}

/// Decodes a stored or query blob of field type `p` (`None`: wrong length).
pub fn decode_vector(p: &VectorParams, blob: &[u8]) -> Option<Vec<f32>> {
    if blob.len() != p.blob_len() {
        return None;
    }
    match p.dtype {
        VectorType::Float64 => Some(
            blob.chunks_exact(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    f64::from_le_bytes(b) as f32
                })
                .collect(),
        ),
        _ => {
            let vp = vector_params(p);
            moon_vector::parse_blob(vp.data_type, p.dim, blob).ok()
        }
    }
}

impl FieldIndex {
    fn for_field(f: &FieldDef) -> FieldIndex {
        if f.noindex {
            return FieldIndex::None;
        }
        match f.ty {
            FieldType::Tag { .. } => FieldIndex::Tag(TagIndex::default()),
            FieldType::Numeric => FieldIndex::Numeric(NumericIndex::default()),
            FieldType::Text { .. } => FieldIndex::Text,
            FieldType::Vector(ref p) => {
                FieldIndex::Vector(VectorIndex::new(vector_params(p)).ok().map(Box::new))
            }
            FieldType::Geo => FieldIndex::Geo,
        }
    }
}

/// Progress of the background scan of existing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// The DashTable cursor to continue from (0 before the first step).
    pub cursor: u64,
    /// Entries visited so far.
    pub visited: u64,
    /// Keys in the database when the scan started (for `percent_indexed`).
    pub total: u64,
    /// True once the first step ran (a cursor of 0 then means done).
    pub started: bool,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Index {
    pub def: IndexDef,
    pub docs: DocTable,
    pub fields: Vec<FieldIndex>,
    /// `hash_indexing_failures`.
    pub failures: u64,
    /// `Some` while existing keys are being indexed.
    pub scan: Option<Scan>,
    /// Microseconds spent indexing (`total_indexing_time`, reported in ms).
    pub indexing_us: u64,
    /// The TEXT fields' inverted index (`None` without indexed TEXT fields).
    pub text: Option<TextState>,
    /// FT.SYNUPDATE's groups.
    pub synonyms: super::synonyms::Synonyms,
    /// Contents loaded from a snapshot's section 4 during this recovery (`contents`): the
    /// end of recovery rebuilds every index but those restored and not rescanning since.
    pub restored: bool,
}

impl Index {
    /// An empty index for `def`.
    pub fn new(def: IndexDef) -> Index {
        let fields = def.fields.iter().map(FieldIndex::for_field).collect();
        let text = TextState::new(&def);
        Index {
            def,
            docs: DocTable::default(),
            fields,
            failures: 0,
            scan: None,
            indexing_us: 0,
            text,
            synonyms: Default::default(),
            restored: false,
        }
    }

    /// True if `key` starts with one of the index's prefixes (every key without prefixes).
    pub fn matches(&self, key: &[u8]) -> bool {
        self.def.prefixes.is_empty() || self.def.prefixes.iter().any(|p| key.starts_with(p))
    }

    /// Adds schema fields (FT.ALTER); existing docs get their values at the next scan.
    pub fn add_fields(&mut self, fields: Vec<FieldDef>) {
        match &mut self.text {
            Some(t) => t.add_fields(&fields),
            None => {
                let mut def = self.def.clone();
                def.fields.extend(fields.iter().cloned());
                if let Some(mut t) = TextState::new(&def) {
                    // Existing docs join the text index with no text yet (N counts them).
                    for (id, _) in self.docs.iter() {
                        t.index_doc(&def, id, HashValue::default().as_ref(), 0);
                    }
                    self.text = Some(t);
                }
            }
        }
        for f in fields {
            self.fields.push(FieldIndex::for_field(&f));
            self.def.fields.push(f);
        }
        let n = self.def.fields.len();
        for doc in self.docs.docs_mut() {
            doc.values.resize(n, FieldValue::Absent);
        }
    }

    /// (Re)indexes `key` from `entry` (None = gone): a hash is indexed, anything else (or a
    /// missing key) is un-indexed.
    pub fn sync(&mut self, key: &[u8], entry: Option<&Entry>, now_ms: u64) {
        let started = std::time::Instant::now();
        match entry.and_then(Entry::hash) {
            Some(h) => self.index_hash(key, h, now_ms),
            None => self.remove(key),
        }
        self.indexing_us += started.elapsed().as_micros() as u64;
    }

    /// Removes `key`'s doc, if any, from every field index.
    pub fn remove(&mut self, key: &[u8]) {
        if let Some((id, doc)) = self.docs.remove(key) {
            self.unindex_values(id, &doc.values);
            // An update re-adds through `index_doc`, which replaces the postings itself.
            if let Some(t) = &mut self.text {
                t.remove(id);
            }
        }
    }

    fn unindex_values(&mut self, id: u32, values: &[FieldValue]) {
        for (fi, v) in self.fields.iter_mut().zip(values) {
            match (fi, v) {
                (FieldIndex::Tag(t), FieldValue::Tags(tags)) => t.remove(id, tags),
                (FieldIndex::Numeric(n), FieldValue::Num(x)) => n.remove(id, *x),
                (FieldIndex::Vector(Some(v)), _) => {
                    v.remove(id);
                }
                _ => {}
            }
        }
    }

    pub(super) fn index_hash(&mut self, key: &[u8], h: HashRef<'_>, now_ms: u64) {
        let mut values = Vec::with_capacity(self.def.fields.len());
        for f in &self.def.fields {
            let raw = h
                .get(&f.identifier)
                .filter(|r| r.expire_at == NO_TTL || r.expire_at > now_ms)
                .map(|r| r.value);
            match field_value(f, raw) {
                Some(v) => values.push(v),
                None => {
                    // RediSearch drops a doc with any bad value entirely and counts it.
                    self.failures += 1;
                    self.remove(key);
                    return;
                }
            }
        }
        let (id, old) = self.docs.upsert(Doc {
            key: Bytes::copy_from_slice(key),
            values: values.clone(),
        });
        if let Some(old) = old {
            self.unindex_values(id, &old.values);
        }
        for (fi, v) in self.fields.iter_mut().zip(&values) {
            match (fi, v) {
                (FieldIndex::Tag(t), FieldValue::Tags(tags)) => t.add(id, tags),
                (FieldIndex::Numeric(n), FieldValue::Num(x)) => n.add(id, *x),
                _ => {}
            }
        }
        if let Some(t) = &mut self.text {
            t.index_doc(&self.def, id, h, now_ms);
        }
        let mut failed = false;
        for (fi, f) in self.fields.iter_mut().zip(&self.def.fields) {
            if let (FieldIndex::Vector(Some(v)), FieldType::Vector(p)) = (fi, &f.ty) {
                let raw = h
                    .get(&f.identifier)
                    .filter(|r| r.expire_at == NO_TTL || r.expire_at > now_ms);
                if let Some(r) = raw {
                    let ok = decode_vector(p, r.value).is_some_and(|x| v.insert(id, &x).is_ok());
                    failed |= !ok;
                }
            }
        }
        if failed {
            self.failures += 1;
            self.remove(key);
        }
    }

    /// Forgets every doc (FLUSHDB of the indexed database); failures are history and stay.
    pub fn clear_docs(&mut self) {
        self.docs.clear();
        self.fields = self.def.fields.iter().map(FieldIndex::for_field).collect();
        self.text = TextState::new(&self.def);
    }

    /// Starts (or restarts) the background scan of the indexed database.
    pub fn start_scan(&mut self, db: &Db) {
        self.scan = Some(Scan {
            cursor: 0,
            visited: 0,
            total: db.len() as u64,
            started: false,
        });
    }

    /// One bounded step of the background scan: at least `budget` entries (a DashTable scan
    /// step finishes its bucket). Returns entries visited.
    pub fn scan_step(&mut self, db: &Db, budget: usize, now_ms: u64) -> usize {
        let Some(mut s) = self.scan else { return 0 };
        if s.started && s.cursor == 0 {
            self.scan = None;
            return 0;
        }
        let mut found: Vec<Bytes> = Vec::new();
        let mut visited = 0usize;
        let next = db.scan(s.cursor, budget.max(1), |e| {
            visited += 1;
            if self.matches(e.key()) {
                found.push(Bytes::copy_from_slice(e.key()));
            }
        });
        for k in found {
            self.sync(&k, db.peek(&k, now_ms), now_ms);
        }
        s.cursor = next;
        s.started = true;
        s.visited += visited as u64;
        self.scan = if next == 0 { None } else { Some(s) };
        visited
    }

    /// `percent_indexed`: 1 when no scan runs, else the visited share (capped below 1).
    pub fn percent_indexed(&self) -> f64 {
        match self.scan {
            None => 1.0,
            Some(s) if s.total == 0 => 0.0,
            Some(s) => (s.visited as f64 / s.total as f64).min(0.99),
        }
    }

    /// (Value, doc) records over the tag and numeric indexes, plus the text index's
    /// (term, doc) postings.
    pub fn records(&self) -> u64 {
        let text = self.text.as_ref().map_or(0, |t| t.info().1);
        text + self
            .fields
            .iter()
            .map(|f| match f {
                FieldIndex::Tag(t) => t.records(),
                FieldIndex::Numeric(n) => n.records(),
                _ => 0,
            })
            .sum::<u64>()
    }

    /// Distinct terms of the text index (`num_terms`).
    pub fn num_terms(&self) -> u64 {
        self.text.as_ref().map_or(0, |t| t.info().0)
    }

    /// Approximate heap bytes of the tag, numeric and text indexes.
    pub fn inverted_bytes(&self) -> usize {
        let text = self.text.as_ref().map_or(0, |t| t.index.postings_bytes());
        text + self
            .fields
            .iter()
            .map(|f| match f {
                FieldIndex::Tag(t) => t.mem_bytes(),
                FieldIndex::Numeric(n) => n.mem_bytes(),
                _ => 0,
            })
            .sum::<usize>()
    }

    /// RAM bytes of the vector indexes (`vector_index_sz_mb`).
    pub fn vector_bytes(&self) -> usize {
        self.fields
            .iter()
            .map(|f| match f {
                FieldIndex::Vector(Some(v)) => v.memory_usage(),
                _ => 0,
            })
            .sum()
    }

    /// The keys of the docs in `bitmap`, sorted.
    pub fn keys_of(&self, ids: &roaring::RoaringBitmap) -> Vec<Bytes> {
        let mut keys: Vec<Bytes> = ids
            .iter()
            .filter_map(|id| self.docs.get(id).map(|d| d.key.clone()))
            .collect();
        keys.sort();
        keys
    }
}

/// The value `f` takes from the hash field's raw bytes (`None` = indexing failure).
pub(super) fn field_value(f: &FieldDef, raw: Option<&[u8]>) -> Option<FieldValue> {
    let Some(raw) = raw else {
        return Some(FieldValue::Absent);
    };
    match &f.ty {
        FieldType::Tag {
            separator,
            case_sensitive,
            ..
        } => Some(FieldValue::Tags(split_tags(
            raw,
            *separator,
            *case_sensitive,
        ))),
        FieldType::Numeric => parse_numeric(raw).map(FieldValue::Num),
        FieldType::Geo => parse_geo(raw).map(|(lon, lat)| FieldValue::Geo(lon, lat)),
        FieldType::Vector(p) => (raw.len() == p.blob_len()).then_some(FieldValue::Absent),
        FieldType::Text { .. } => Some(FieldValue::Absent),
    }
}

/// `lon,lat` (RediSearch also accepts a space separator) within Redis's GEO limits.
fn parse_geo(raw: &[u8]) -> Option<(f64, f64)> {
    let s = std::str::from_utf8(raw).ok()?;
    let (a, b) = s.split_once(',').or_else(|| s.split_once(' '))?;
    let lon: f64 = a.trim().parse().ok()?;
    let lat: f64 = b.trim().parse().ok()?;
    let ok = (-180.0..=180.0).contains(&lon) && (-85.051_128_78..=85.051_128_78).contains(&lat);
    ok.then_some((lon, lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geo_values() {
        assert_eq!(parse_geo(b"1.5,2"), Some((1.5, 2.0)));
        assert_eq!(parse_geo(b"1.5 2"), Some((1.5, 2.0)));
        assert_eq!(parse_geo(b"200,2"), None);
        assert_eq!(parse_geo(b"x"), None);
    }
}
