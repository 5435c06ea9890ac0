//! FT index contents in snapshots (SPEC.md §8.2 "Search index contents", section 4): the doc
//! table and every VECTOR field's `moon_vector` payload of an index, so that recovery loads the
//! HNSW graphs instead of rebuilding them (a rebuild of 100k × 384 vectors takes ~50 s, a
//! decode ~0.3 s; §9.4).
//!
//! - [`encode`] runs on the shard thread at the snapshot's instant (right after
//!   `Shard::snapshot_begin`, before any other op), so the encoding is the index at the
//!   snapshot's LSN. It returns pieces that are streamed as 64 KiB parts and never
//!   concatenated (the largest piece is one field's payload).
//! - [`decode`] validates everything (layout, doc table, each payload with `moon_vector`'s
//!   validating decoder, parameters equal to the definition's, vector ids all docs).
//! - [`Index::restore`] then reconciles the decoded contents with the recovered keyspace: every
//!   key of the indexed database that the index covers is visited once; a persisted doc whose
//!   hash still holds the same vector keeps its graph node (no insert), anything else goes
//!   through the ordinary indexing path. TAG, NUMERIC, GEO and TEXT values are always
//!   recomputed from the hash (cheap next to HNSW inserts). The result is therefore exactly the
//!   index the write hooks would hold, whatever the persisted contents say, as long as they
//!   decode; a decode error leaves the index untouched for the caller's rebuild.
//!
//! Invariants: only an index without a running scan is encoded (its contents cover db 0
//! completely); the layout's doc ids are those of the doc table, which are the vector ids.

use bytes::Bytes;
use roaring::RoaringBitmap;

use super::docs::{Doc, DocTable, FieldValue};
use super::index::{FieldIndex, Index, decode_vector, vector_params};
use super::schema::{FieldType, IndexDef};
use crate::keyspace::{Db, Entry};
use crate::types::hash::{HashRef, NO_TTL};
use moon_vector::VectorIndex;

/// Receives one part: `(index name, sequence number, last part?, offset of its data in the
/// run, data)`.
pub type PartSink<'a> = dyn FnMut(&[u8], u32, bool, u64, &[u8]) -> std::io::Result<()> + 'a;
/// Layout version of an index's contents (the first byte of its data).
pub const CONTENTS_VERSION: u8 = 1;

/// One index's contents encoded for a snapshot: `pieces`, concatenated, are its data.
#[derive(Debug, Default)]
pub struct EncodedContents {
    /// The index name (the section-4 run's key).
    pub name: Bytes,
    /// Header + doc table, then per vector field a 12-byte field header and its payload.
    pub pieces: Vec<Vec<u8>>,
}

impl EncodedContents {
    /// Total bytes of the data.
    pub fn len(&self) -> u64 {
        self.pieces.iter().map(|p| p.len() as u64).sum()
    }

    /// True without data (never the case for an encoded index).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Encodes `idx` (see the module docs); `None` when it has no vector index to persist or
/// its background scan is still running (its contents do not cover the keyspace yet).
pub fn encode(name: &Bytes, idx: &Index) -> Option<EncodedContents> {
    if idx.scan.is_some() {
        return None;
    }
    let vectors: Vec<(usize, &VectorIndex)> = idx
        .fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match f {
            FieldIndex::Vector(Some(v)) => Some((i, &**v)),
            _ => None,
        })
        .collect();
    if vectors.is_empty() {
        return None;
    }
    let mut head = Vec::with_capacity(16 + idx.docs.len() * 24);
    head.push(CONTENTS_VERSION);
    head.push(0);
    put_u32(&mut head, idx.docs.max_doc_id());
    put_u32(&mut head, u32::try_from(idx.docs.len()).ok()?);
    for (id, doc) in idx.docs.iter() {
        put_u32(&mut head, id);
        put_u32(&mut head, u32::try_from(doc.key.len()).ok()?);
        head.extend_from_slice(&doc.key);
    }
    let free = idx.docs.free_ids();
    put_u32(&mut head, u32::try_from(free.len()).ok()?);
    for &id in free {
        put_u32(&mut head, id);
    }
    put_u32(&mut head, u32::try_from(vectors.len()).ok()?);
    let mut pieces = vec![head];
    for (pos, v) in vectors {
        let mut payload = Vec::new();
        v.encode(&mut payload);
        let mut fh = Vec::with_capacity(12);
        put_u32(&mut fh, u32::try_from(pos).ok()?);
        fh.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        pieces.push(fh);
        pieces.push(payload);
    }
    Some(EncodedContents {
        name: name.clone(),
        pieces,
    })
}

/// Decoded contents, checked against the definition, ready for [`Index::restore`].
#[derive(Debug)]
pub struct Decoded {
    pub docs: DocTable,
    /// `(schema position, index)` for every VECTOR field the engine indexes.
    pub vectors: Vec<(usize, VectorIndex)>,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return Err(format!("truncated at byte {}", self.pos));
        };
        let s = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
}

/// The parameters a restored index must have to stand for the definition's field (the
/// snapshot payload does not keep INITIAL_CAP or a disk path).
fn same_params(a: &moon_vector::VectorParams, b: &moon_vector::VectorParams) -> bool {
    a.algorithm == b.algorithm
        && a.data_type == b.data_type
        && a.dim == b.dim
        && a.metric == b.metric
        && a.m == b.m
        && a.ef_construction == b.ef_construction
        && a.ef_runtime == b.ef_runtime
        && a.ef_runtime_auto == b.ef_runtime_auto
        && a.epsilon.to_bits() == b.epsilon.to_bits()
        && a.quant_bits == b.quant_bits
        && a.rerank == b.rerank
        && a.brute_force_ratio.to_bits() == b.brute_force_ratio.to_bits()
        && a.seed == b.seed
}

/// Decodes and validates one index's contents against its definition `def`.
pub fn decode(data: &[u8], def: &IndexDef) -> Result<Decoded, String> {
    let mut c = Cursor { buf: data, pos: 0 };
    let version = c.u8()?;
    if version != CONTENTS_VERSION {
        return Err(format!("unknown contents layout version {version}"));
    }
    if c.u8()? != 0 {
        return Err("unknown contents flags".into());
    }
    let max_doc_id = c.u32()?;
    let count = c.u32()? as usize;
    // Each doc takes at least 8 bytes: bound the allocation by what is there.
    if count > c.remaining() / 8 {
        return Err(format!("doc count {count} exceeds the data"));
    }
    let mut docs = Vec::with_capacity(count);
    for _ in 0..count {
        let id = c.u32()?;
        let len = c.u32()? as usize;
        docs.push((id, Bytes::copy_from_slice(c.take(len)?)));
    }
    let free_count = c.u32()? as usize;
    if free_count > c.remaining() / 4 {
        return Err(format!("free id count {free_count} exceeds the data"));
    }
    let mut free = Vec::with_capacity(free_count);
    for _ in 0..free_count {
        free.push(c.u32()?);
    }
    let table = DocTable::restore(docs, free, max_doc_id, def.fields.len())?;
    let nvec = c.u32()? as usize;
    let mut vectors: Vec<(usize, VectorIndex)> = Vec::new();
    for _ in 0..nvec {
        let pos = c.u32()? as usize;
        let len = usize::try_from(c.u64()?).map_err(|_| "payload length overflows")?;
        let payload = c.take(len)?;
        let field = def
            .fields
            .get(pos)
            .ok_or_else(|| format!("vector field position {pos} beyond the schema"))?;
        let FieldType::Vector(p) = &field.ty else {
            return Err(format!("schema field {pos} is not a VECTOR field"));
        };
        if field.noindex || vectors.iter().any(|(q, _)| *q == pos) {
            return Err(format!("vector field {pos} is NOINDEX or appears twice"));
        }
        let v = VectorIndex::decode(payload).map_err(|e| format!("field {pos}: {e}"))?;
        if !same_params(v.params(), &vector_params(p)) {
            return Err(format!(
                "field {pos}: parameters differ from the index definition"
            ));
        }
        if let Some((id, _)) = v.entries().find(|(id, _)| table.get(*id).is_none()) {
            return Err(format!("field {pos}: vector id {id} is not a document"));
        }
        vectors.push((pos, v));
    }
    if c.remaining() != 0 {
        return Err(format!("{} bytes after the contents", c.remaining()));
    }
    // Every field the engine indexes must be there (a fresh index says which).
    let fresh = Index::new(def.clone());
    for (pos, f) in fresh.fields.iter().enumerate() {
        let have = vectors.iter().any(|(q, _)| *q == pos);
        if matches!(f, FieldIndex::Vector(Some(_))) != have {
            return Err(format!("vector field {pos} missing or not indexable"));
        }
    }
    Ok(Decoded {
        docs: table,
        vectors,
    })
}

/// What [`Index::restore`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RestoreStats {
    /// Docs kept with their persisted vectors.
    pub kept: u64,
    /// Keys (re)indexed through the ordinary path: changed since the snapshot, missing from
    /// it, or failing to index.
    pub reindexed: u64,
    /// Persisted docs whose key is gone or no longer a hash.
    pub removed: u64,
}

/// True if the stored (metric-prepared) vector `stored` is the hash's `raw` vector, up to the
/// rounding of a normalisation computed on another CPU.
fn same_vector(index: &VectorIndex, stored: &[f32], raw: &[f32]) -> bool {
    let mut v = raw.to_vec();
    index.params().metric.prepare(&mut v);
    stored.len() == v.len()
        && stored
            .iter()
            .zip(&v)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a - b).abs() <= 1e-6 * a.abs().max(1.0))
}

impl Index {
    /// Replaces this index's contents with `decoded`, reconciled with `db` (the indexed
    /// database, fully recovered up to the snapshot): see the module docs. Leaves no scan
    /// running and marks the index `restored`.
    pub fn restore(&mut self, decoded: Decoded, db: &Db, now_ms: u64) -> RestoreStats {
        self.clear_docs();
        self.scan = None;
        for (pos, v) in decoded.vectors {
            if let Some(f) = self.fields.get_mut(pos) {
                *f = FieldIndex::Vector(Some(Box::new(v)));
            }
        }
        self.docs = decoded.docs;
        let started = std::time::Instant::now();
        let mut stats = RestoreStats::default();
        let mut keys: Vec<Bytes> = Vec::new();
        let mut cursor = 0u64;
        loop {
            cursor = db.scan(cursor, 4096, |e| {
                if self.matches(e.key()) {
                    keys.push(Bytes::copy_from_slice(e.key()));
                }
            });
            if cursor == 0 {
                break;
            }
        }
        let mut seen = RoaringBitmap::new();
        for key in keys {
            let entry = db.peek(&key, now_ms);
            let id = self.docs.id_of(&key);
            match (id, entry.and_then(Entry::hash)) {
                (Some(id), Some(h)) => {
                    if self.adopt(id, &key, h, now_ms) {
                        stats.kept += 1;
                    } else {
                        stats.reindexed += 1;
                    }
                }
                (None, _) => {
                    self.sync(&key, entry, now_ms);
                    stats.reindexed += 1;
                }
                (Some(_), _) => {
                    self.remove(&key);
                    stats.removed += 1;
                }
            }
            // Whatever id the key holds now (a new doc takes a free id) is accounted for.
            if let Some(id) = self.docs.id_of(&key) {
                seen.insert(id);
            }
        }
        // Persisted docs whose key is no longer in the database.
        let gone: Vec<Bytes> = self
            .docs
            .iter()
            .filter(|(id, _)| !seen.contains(*id))
            .map(|(_, d)| d.key.clone())
            .collect();
        for key in gone {
            self.remove(&key);
            stats.removed += 1;
        }
        self.indexing_us += started.elapsed().as_micros() as u64;
        self.restored = true;
        stats
    }

    /// Takes over persisted doc `id` for `key` if the hash still indexes to the persisted
    /// vectors (true); otherwise indexes it through the ordinary path (false).
    fn adopt(&mut self, id: u32, key: &[u8], h: HashRef<'_>, now_ms: u64) -> bool {
        let mut values = Vec::with_capacity(self.def.fields.len());
        let mut same = true;
        for (f, fi) in self.def.fields.iter().zip(&self.fields) {
            let raw = h
                .get(&f.identifier)
                .filter(|r| r.expire_at == NO_TTL || r.expire_at > now_ms)
                .map(|r| r.value);
            let Some(v) = super::index::field_value(f, raw) else {
                same = false;
                break;
            };
            if let (FieldIndex::Vector(Some(ix)), FieldType::Vector(p)) = (fi, &f.ty) {
                same &= match (raw.and_then(|r| decode_vector(p, r)), ix.vector(id)) {
                    (Some(x), Some(stored)) => same_vector(ix, stored, &x),
                    (None, None) => raw.is_none(),
                    _ => false,
                };
            }
            if !same {
                break;
            }
            values.push(v);
        }
        if !same {
            // Drop the persisted doc (and its vectors), then index the hash as a write would.
            self.remove(key);
            self.index_hash(key, h, now_ms);
            return false;
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
        // Same key: keeps the id; the placeholder values it replaces index nothing.
        self.docs.upsert(Doc {
            key: Bytes::copy_from_slice(key),
            values,
        });
        true
    }
}

/// Streams encoded contents as section-4 parts of at most `part` bytes of data each.
#[derive(Debug, Default)]
pub struct ContentsStream {
    runs: std::collections::VecDeque<EncodedContents>,
    /// Position in the front run: piece, byte within it, next part's seq and data offset.
    piece: usize,
    at: usize,
    seq: u32,
    offset: u64,
}

impl ContentsStream {
    /// A stream of `runs`, in order.
    pub fn new(runs: Vec<EncodedContents>) -> ContentsStream {
        ContentsStream {
            runs: runs.into(),
            ..Default::default()
        }
    }

    /// True once every part was handed out.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Hands out up to `max_parts` parts as `part(name, seq, last, data_offset, data)`.
    pub fn write(
        &mut self,
        max_parts: usize,
        part_len: usize,
        part: &mut PartSink<'_>,
    ) -> std::io::Result<()> {
        let part_len = part_len.max(1);
        for _ in 0..max_parts {
            let Some(run) = self.runs.front() else {
                return Ok(());
            };
            // Skip exhausted pieces (never the last chunk of a run: see `last` below).
            while self
                .piece
                .checked_add(1)
                .is_some_and(|n| n < run.pieces.len())
                && run
                    .pieces
                    .get(self.piece)
                    .is_some_and(|p| self.at >= p.len())
            {
                self.piece += 1;
                self.at = 0;
            }
            let piece = run.pieces.get(self.piece).map_or(&[][..], Vec::as_slice);
            let end = self.at.saturating_add(part_len).min(piece.len());
            let data = piece.get(self.at..end).unwrap_or_default();
            let later = run.pieces.get(self.piece + 1..).unwrap_or_default();
            let last_piece = later.iter().all(Vec::is_empty);
            let last = end >= piece.len() && last_piece;
            part(&run.name, self.seq, last, self.offset, data)?;
            self.offset += data.len() as u64;
            self.at = end;
            self.seq = self.seq.wrapping_add(1);
            if last {
                self.runs.pop_front();
                self.piece = 0;
                self.at = 0;
                self.seq = 0;
                self.offset = 0;
            }
        }
        Ok(())
    }
}

/// One vector field of persisted contents, as `moon-tool` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSummary {
    /// Schema position.
    pub position: u32,
    /// `FLAT` / `HNSW`.
    pub algorithm: &'static str,
    pub dim: usize,
    /// Live vectors.
    pub vectors: usize,
}

/// What persisted contents hold, decoded and validated as recovery would, except for the
/// comparison with the definition (`moon-tool` has none at hand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub docs: usize,
    pub max_doc_id: u32,
    pub fields: Vec<FieldSummary>,
}

/// Decodes `data` (one index's contents) into a [`Summary`]; an error says what is wrong.
pub fn summarize(data: &[u8]) -> Result<Summary, String> {
    let mut c = Cursor { buf: data, pos: 0 };
    let version = c.u8()?;
    if version != CONTENTS_VERSION || c.u8()? != 0 {
        return Err(format!(
            "unknown contents layout version {version} or flags"
        ));
    }
    let max_doc_id = c.u32()?;
    let count = c.u32()? as usize;
    if count > c.remaining() / 8 {
        return Err(format!("doc count {count} exceeds the data"));
    }
    let mut docs = Vec::with_capacity(count);
    for _ in 0..count {
        let id = c.u32()?;
        let len = c.u32()? as usize;
        docs.push((id, Bytes::copy_from_slice(c.take(len)?)));
    }
    let free_count = c.u32()? as usize;
    if free_count > c.remaining() / 4 {
        return Err(format!("free id count {free_count} exceeds the data"));
    }
    let free = (0..free_count)
        .map(|_| c.u32())
        .collect::<Result<Vec<u32>, String>>()?;
    let table = DocTable::restore(docs, free, max_doc_id, 0)?;
    let mut fields = Vec::new();
    for _ in 0..c.u32()? {
        let position = c.u32()?;
        let len = usize::try_from(c.u64()?).map_err(|_| "payload length overflows")?;
        let v = VectorIndex::decode(c.take(len)?).map_err(|e| format!("field {position}: {e}"))?;
        if let Some((id, _)) = v.entries().find(|(id, _)| table.get(*id).is_none()) {
            return Err(format!(
                "field {position}: vector id {id} is not a document"
            ));
        }
        let info = v.info();
        fields.push(FieldSummary {
            position,
            algorithm: info.algorithm,
            dim: info.dim,
            vectors: info.indexed_vectors,
        });
    }
    if c.remaining() != 0 {
        return Err(format!("{} bytes after the contents", c.remaining()));
    }
    Ok(Summary {
        docs: table.len(),
        max_doc_id,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cmd::testutil::NOW;
    use crate::ir::ops::{HashOp, SearchOp};
    use crate::ir::{ExecCtx, Op};
    use crate::persist::recover::{RecoveryOptions, recover};
    use crate::shard::{Shard, ShardConfig};
    use moon_formats::snapshot::{SnapshotHeader, SnapshotWriter, snapshot_file_name};

    const DIM: usize = 8;

    fn ctx() -> ExecCtx {
        ExecCtx {
            db: 0,
            now_ms: NOW,
            no_touch: false,
        }
    }

    fn vector(seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..DIM)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect()
    }

    fn blob(v: &[f32]) -> Bytes {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn put(s: &mut Shard, i: u64, seed: u64) {
        let op = Op::Hashes(HashOp::HSet {
            key: Bytes::from(format!("v:{i}")),
            pairs: vec![
                (Bytes::from_static(b"e"), blob(&vector(seed))),
                (
                    Bytes::from_static(b"t"),
                    Bytes::from(if i.is_multiple_of(2) { "even" } else { "odd" }),
                ),
            ],
            legacy: false,
        });
        assert!(!s.apply(&ctx(), &op).is_err());
    }

    fn del(s: &mut Shard, i: u64) {
        let op = Op::Del {
            keys: vec![Bytes::from(format!("v:{i}"))],
        };
        assert!(!s.apply(&ctx(), &op).is_err());
    }

    fn populated() -> Shard {
        let mut s = Shard::new(0, ShardConfig::default());
        let args =
            "i PREFIX 1 v: SCHEMA t TAG e VECTOR HNSW 6 TYPE FLOAT32 DIM 8 DISTANCE_METRIC L2";
        let words = args
            .split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect::<Vec<_>>();
        let def = IndexDef::parse(&words).expect("def");
        assert!(
            !s.apply(&ctx(), &Op::Search(SearchOp::Create(Box::new(def))))
                .is_err()
        );
        for i in 0..400 {
            put(&mut s, i, i);
        }
        // Freed ids: the free list is persisted too.
        for i in (0..400).step_by(7) {
            del(&mut s, i);
        }
        s
    }

    fn index(s: &Shard) -> &Index {
        s.search().get(b"i").expect("index i")
    }

    fn vectors(idx: &Index) -> &VectorIndex {
        match &idx.fields[1] {
            FieldIndex::Vector(Some(v)) => v,
            other => panic!("{other:?}"),
        }
    }

    /// KNN answers (keys, ids), the tag index's entries, and the doc count.
    type Image = (Vec<Vec<(Bytes, u32)>>, Vec<(Bytes, u64)>, usize);

    /// What answers (ids mapped to keys) and the tag index say about `idx`.
    fn image(idx: &Index) -> Image {
        let knn = (0..10)
            .map(|q| {
                let hits = vectors(idx)
                    .knn(&vector(10_000 + q), 10, None, None)
                    .expect("knn");
                hits.iter()
                    .map(|(id, d)| (idx.docs.get(*id).expect("doc").key.clone(), d.to_bits()))
                    .collect()
            })
            .collect();
        let tags = match &idx.fields[0] {
            FieldIndex::Tag(t) => t.iter().map(|(k, b)| (k.clone(), b.len())).collect(),
            other => panic!("{other:?}"),
        };
        (knn, tags, idx.docs.len())
    }

    /// Writes a snapshot of `s` (definitions, keyspace, contents) into `dir` as the server
    /// does, running `during` right after the contents are encoded.
    fn save(s: &mut Shard, dir: &Path, during: impl FnOnce(&mut Shard)) -> Vec<u8> {
        let header = SnapshotHeader::new(0, 1, 7, NOW);
        let mut w = SnapshotWriter::new(Vec::new(), &header).expect("writer");
        s.snapshot_begin().expect("begin");
        s.snapshot_search(&mut |n, d| w.add_search_def(n, d))
            .expect("defs");
        assert!(s.snapshot_search_contents() > 0);
        during(s);
        while !s.snapshot_step_to(1, &mut w).expect("step") {}
        let bytes = w.finish().expect("finish").0;
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::write(dir.join(snapshot_file_name(7)), &bytes).expect("write");
        bytes
    }

    fn load(dir: &Path) -> (Shard, crate::persist::recover::RecoveryReport) {
        let mut fresh = Shard::new(0, ShardConfig::default());
        let opts = RecoveryOptions {
            skip_corrupt: false,
            now_ms: NOW,
            shard_count: 1,
        };
        let parse = |_: &[Vec<u8>]| -> Result<Op, String> { Err("no WAL here".into()) };
        let report = recover(&mut fresh, dir, opts, &parse).expect("recover");
        (fresh, report)
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "moon-contents-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn contents_load_back_as_the_image_without_rebuilding() {
        let mut s = populated();
        let want = image(index(&s));
        let mut encoded = Vec::new();
        vectors(index(&s)).encode(&mut encoded);
        let dir = temp_dir("image");
        // Writes after the instant stay out of the image.
        save(&mut s, &dir, |s| {
            put(s, 1, 99_999);
            del(s, 2);
            put(s, 1000, 5);
        });
        let (fresh, report) = load(&dir);
        assert_eq!(report.search_fallback, Vec::<String>::new());
        assert_eq!(report.search_restored.len(), 1, "{report:?}");
        let idx = index(&fresh);
        assert_eq!(idx.scan, None, "no scan after a restore");
        assert!(!idx.restored, "the mark is cleared at the end of recovery");
        assert_eq!(image(idx), want);
        // The graph is the saved one, byte for byte: nothing was re-inserted.
        let mut again = Vec::new();
        vectors(idx).encode(&mut again);
        assert_eq!(again, encoded);
        // Same ids handed out next (free list kept).
        let mut fresh = fresh;
        let mut orig = populated();
        put(&mut fresh, 5000, 1);
        put(&mut orig, 5000, 1);
        assert_eq!(
            index(&fresh).docs.id_of(b"v:5000"),
            index(&orig).docs.id_of(b"v:5000")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stale_contents_are_reconciled_with_the_keyspace() {
        let mut s = populated();
        let idx = index(&s);
        let contents = encode(&Bytes::from_static(b"i"), idx).expect("contents");
        let data: Vec<u8> = contents.pieces.concat();
        // The keyspace moves on: an update, a deletion, a new key, a non-hash.
        put(&mut s, 1, 77_777);
        del(&mut s, 3);
        put(&mut s, 4000, 4000);
        let want = image(index(&s));
        let db0 = s.db(0).expect("db 0");
        let mut idx = Index::new(index(&s).def.clone());
        let decoded = decode(&data, &idx.def).expect("decode");
        let stats = idx.restore(decoded, db0, NOW);
        assert_eq!(stats.reindexed, 2, "{stats:?}");
        assert_eq!(stats.removed, 1, "{stats:?}");
        let got = image(&idx);
        assert_eq!(got.1, want.1);
        assert_eq!(got.2, want.2);
        assert_eq!(
            vectors(&idx)
                .knn(&vector(77_777), 1, None, None)
                .expect("knn")[0]
                .1,
            0.0
        );
        assert_eq!(idx.docs.id_of(b"v:3"), None);
    }

    #[test]
    fn bad_contents_fall_back_to_the_rebuild() {
        let mut s = populated();
        let dir = temp_dir("bad");
        let bytes = save(&mut s, &dir, |_| {});
        // Find the contents' version byte (first section-4 part) and break it, fixing the CRC.
        let r = moon_formats::snapshot::SnapshotReader::new(&bytes).expect("file");
        let first = r
            .blocks()
            .map(|b| b.expect("block"))
            .find(|b| b.section == moon_formats::snapshot::Section::Vector)
            .expect("section 4")
            .offset as usize;
        let mut bad = bytes.clone();
        let at = first + 24 + 1 + 1 + 4 + 4 + 1 + 8 + 8;
        bad[at] = 9;
        let len = u32::from_le_bytes(bad[first + 12..first + 16].try_into().expect("len"));
        let mut covered = bad[first..first + 20].to_vec();
        covered.extend_from_slice(&bad[first + 24..first + 24 + len as usize]);
        let c = moon_formats::checksum(&covered).to_le_bytes();
        bad[first + 20..first + 24].copy_from_slice(&c);
        std::fs::write(dir.join(snapshot_file_name(7)), &bad).expect("write");
        let (fresh, report) = load(&dir);
        assert_eq!(report.search_restored, Vec::<String>::new());
        assert!(
            report.search_fallback[0].contains("unknown contents layout version 9"),
            "{report:?}"
        );
        assert!(
            index(&fresh).scan.is_some(),
            "the index is rebuilt by a scan"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn decoding_never_panics_on_truncation_or_garbage() {
        let s = populated();
        let idx = index(&s);
        let data = encode(&Bytes::from_static(b"i"), idx)
            .expect("contents")
            .pieces
            .concat();
        assert!(decode(&data, &idx.def).is_ok());
        assert!(summarize(&data).is_ok());
        for cut in (0..data.len()).step_by(97) {
            assert!(decode(&data[..cut], &idx.def).is_err(), "cut at {cut}");
            assert!(summarize(&data[..cut]).is_err(), "cut at {cut}");
        }
        for at in (0..200).chain((data.len() - 50)..data.len()) {
            let mut d = data.clone();
            d[at] ^= 0x5a;
            let _ = decode(&d, &idx.def);
            let _ = summarize(&d);
        }
        let mut more = data.clone();
        more.push(0);
        assert!(decode(&more, &idx.def).is_err());
    }

    #[test]
    fn the_stream_cuts_parts_at_the_part_size() {
        let runs = vec![
            EncodedContents {
                name: Bytes::from_static(b"a"),
                pieces: vec![vec![1; 10], vec![2; 3], vec![3; 25]],
            },
            EncodedContents {
                name: Bytes::from_static(b"b"),
                pieces: vec![vec![4; 5]],
            },
        ];
        let mut st = ContentsStream::new(runs);
        let mut got: Vec<(Vec<u8>, u32, bool, u64, usize)> = Vec::new();
        while !st.is_empty() {
            st.write(2, 8, &mut |n, seq, last, off, d| {
                got.push((n.to_vec(), seq, last, off, d.len()));
                Ok(())
            })
            .expect("write");
        }
        let a: Vec<_> = got.iter().filter(|g| g.0 == b"a").collect();
        assert_eq!(a.iter().map(|g| g.4).sum::<usize>(), 38);
        assert!(a.iter().all(|g| g.4 <= 8));
        assert_eq!(a.iter().filter(|g| g.2).count(), 1);
        assert!(a.last().expect("parts").2);
        for (i, g) in a.iter().enumerate() {
            assert_eq!(g.1 as usize, i);
        }
        let b: Vec<_> = got.iter().filter(|g| g.0 == b"b").collect();
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].1, b[0].2, b[0].3, b[0].4), (0, true, 0, 5));
    }
}
