//! FT indexes (RediSearch-compatible secondary indexes over HASH keys): the per-shard spine
//! the query, text and vector engines plug into.
//!
//! - `schema`: index definitions (FT.CREATE/FT.ALTER syntax, canonical arguments).
//! - `registry`: a shard's indexes, aliases and the prefix matcher.
//! - `index`, `docs`: one index's doc table (key ↔ dense u32 id) and its field indexes.
//! - `tag`, `numeric`: the TAG and NUMERIC field indexes (RoaringBitmaps of doc ids); VECTOR
//!   fields hold a `moon_vector::VectorIndex` (see `index`).
//! - `query`: FT.SEARCH's plan, its per-shard execution and the cross-shard merge.
//! - `hybrid`: `HYBRID RRF` (text and KNN rankings fused by Reciprocal Rank Fusion).
//! - `text`: TEXT fields (a `moon_text::TextIndex` per index), query-side text helpers, geo.
//!
//! Invariants: definitions are identical on every shard (definition ops run on all shards
//! under the server's freeze protocol); each shard indexes only its own keys of database 0
//! (RediSearch indexes db 0 only); after every write that could change a key of db 0 the
//! shard re-reads that key and (re)indexes or un-indexes it (`Shard::apply` and the entry
//! primitives call [`after_write`] / `Registry::sync_key` only when the registry is not
//! empty, so a shard without indexes pays one `is_empty()` branch per write).

pub mod aggregate;
pub mod contents;
pub mod dict;
pub mod docs;
pub mod hybrid;
pub mod index;
pub mod numeric;
pub mod profile;
pub mod query;
pub mod registry;
pub mod schema;
pub mod spellcheck;
pub mod synonyms;
pub mod tag;
pub mod text;
pub mod vector_stats;

use bytes::Bytes;

pub use index::{FieldIndex, Index};
pub use registry::{Registry, UNKNOWN_INDEX};
pub use schema::{FieldDef, FieldType, IndexDef};

use crate::ir::ops::SearchOp;
use crate::ir::{ExecCtx, Op, OpError, Reply};
use crate::keyspace::Db;

/// The database indexes cover.
pub const INDEXED_DB: usize = 0;

/// Entries one background-scan step visits per index per tick.
pub const SCAN_BUDGET: usize = 4096;

fn err(text: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(text.into()))
}

/// After a successful write `op` executed in `ctx`: keep every index in step with db 0.
/// `db0` is the indexed database as it is now.
pub fn after_write(reg: &mut Registry, db0: &Db, ctx: &ExecCtx, op: &Op) {
    match op {
        Op::Search(_) | Op::Functions(_) => {}
        Op::FlushAll => reg.clear_docs(),
        Op::FlushDb if ctx.db == INDEXED_DB => reg.clear_docs(),
        Op::SwapDb { a, b } if *a == INDEXED_DB || *b == INDEXED_DB => reg.rebuild(db0),
        Op::Move { key, db } if ctx.db == INDEXED_DB || *db == INDEXED_DB => {
            reg.sync_key(db0, key, ctx.now_ms);
        }
        Op::Copy {
            dst,
            dst_db: Some(d),
            ..
        } if *d == INDEXED_DB => reg.sync_key(db0, dst, ctx.now_ms),
        _ if ctx.db == INDEXED_DB => {
            for k in op.keys() {
                reg.sync_key(db0, k, ctx.now_ms);
            }
        }
        _ => {}
    }
}

/// Executes a definition write on this shard. On success returns the keys FT.DROPINDEX DD
/// asks to delete (the caller deletes them from db 0).
pub fn execute_write(
    reg: &mut Registry,
    db0: &Db,
    op: &SearchOp,
    now_ms: u64,
) -> Result<Vec<Bytes>, String> {
    match op {
        SearchOp::Create(def) => reg.create((**def).clone(), db0).map(|()| Vec::new()),
        SearchOp::Alter {
            index,
            skip_initial_scan,
            fields,
        } => reg
            .alter(index, fields.clone(), *skip_initial_scan, db0)
            .map(|()| Vec::new()),
        SearchOp::DropIndex { index, dd } => {
            let mut idx = reg.drop_index(index)?;
            if !*dd {
                return Ok(Vec::new());
            }
            // The docs are found by a full scan, not taken from the index: it may not hold
            // them all yet (a running scan; or, during recovery, a definition loaded from the
            // snapshot before its keys), and live execution and WAL replay must delete the
            // same keys.
            idx.clear_docs();
            idx.start_scan(db0);
            while idx.scan.is_some() {
                idx.scan_step(db0, SCAN_BUDGET, now_ms);
            }
            Ok(idx.docs.iter().map(|(_, d)| d.key.clone()).collect())
        }
        SearchOp::AliasSet {
            alias,
            index,
            update,
        } => reg.alias_set(alias, index, *update).map(|()| Vec::new()),
        SearchOp::AliasDel { alias } => reg.alias_del(alias).map(|()| Vec::new()),
        _ => Err("ERR not an index definition command".into()),
    }
}

/// One shard's counters of one index (FT.INFO adds them up across shards).
#[derive(Debug, Clone, PartialEq)]
pub struct InfoPart {
    pub def: IndexDef,
    pub num_docs: u64,
    pub max_doc_id: u64,
    pub num_records: u64,
    /// Distinct text terms (summed over shards: a term on two shards counts twice).
    pub num_terms: u64,
    pub failures: u64,
    pub indexing: bool,
    pub percent_indexed: f64,
    pub inverted_bytes: u64,
    pub doc_table_bytes: u64,
    pub indexing_us: u64,
    pub vector_bytes: u64,
    /// Per vector field figures (`vector_stats`).
    pub vectors: Vec<vector_stats::FieldStats>,
}

/// One shard's answer to a read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadPart {
    Info(Box<InfoPart>),
    /// FT._LIST / FT.TAGVALS values.
    Names(Vec<Bytes>),
    /// DUMP_TAGIDX: `(tag, keys)`.
    Tags(Vec<(Bytes, Vec<Bytes>)>),
    /// DUMP_NUMIDX: `(value, keys)`.
    Nums(Vec<(f64, Vec<Bytes>)>),
    /// FT.EXPLAIN / FT.EXPLAINCLI: the rendered reply.
    Explain(Reply),
}

/// This shard's part of a read op.
pub fn read(reg: &Registry, op: &SearchOp) -> Result<ReadPart, String> {
    match op {
        SearchOp::List => Ok(ReadPart::Names(reg.names())),
        SearchOp::Explain { index, render, cli } => {
            let idx = reg.get(index).ok_or_else(|| query::no_such_index(index))?;
            let lines = (render.0)(&|term: &str| {
                let mut out: Vec<String> = idx
                    .synonyms
                    .groups_of(term)
                    .iter()
                    .map(|g| format!("~{g}"))
                    .collect();
                out.extend(text::explain_expansions(term));
                out
            });
            Ok(ReadPart::Explain(if *cli {
                Reply::Array(lines.iter().map(|l| bulk(l)).collect())
            } else {
                let mut text = String::new();
                for l in &lines {
                    text.push_str(l);
                    text.push('\n');
                }
                Reply::Bulk(Bytes::from(text))
            }))
        }
        SearchOp::Info { index } => {
            let idx = reg.get(index).ok_or(UNKNOWN_INDEX)?;
            Ok(ReadPart::Info(Box::new(InfoPart {
                def: idx.def.clone(),
                num_docs: idx.docs.len() as u64,
                max_doc_id: u64::from(idx.docs.max_doc_id()),
                num_records: idx.records(),
                num_terms: idx.num_terms(),
                failures: idx.failures,
                indexing: idx.scan.is_some(),
                percent_indexed: idx.percent_indexed(),
                inverted_bytes: idx.inverted_bytes() as u64,
                doc_table_bytes: idx.docs.mem_bytes() as u64,
                indexing_us: idx.indexing_us,
                vector_bytes: idx.vector_bytes() as u64,
                vectors: vector_stats::collect(idx),
            })))
        }
        SearchOp::TagVals { index, field } => {
            let idx = reg.get(index).ok_or(UNKNOWN_INDEX)?;
            let pos = idx.def.field_position(field).ok_or("No such field")?;
            match idx.fields.get(pos) {
                Some(FieldIndex::Tag(t)) => {
                    Ok(ReadPart::Names(t.iter().map(|(k, _)| k.clone()).collect()))
                }
                _ => Err("Not a tag field".into()),
            }
        }
        SearchOp::DumpTagIdx { index, field } => {
            let idx = reg.get(index).ok_or(UNKNOWN_INDEX)?;
            let pos = idx
                .def
                .field_position(field)
                .ok_or("Could not find given field in index spec")?;
            match idx.fields.get(pos) {
                Some(FieldIndex::Tag(t)) => Ok(ReadPart::Tags(
                    t.iter()
                        .map(|(k, ids)| (k.clone(), idx.keys_of(ids)))
                        .collect(),
                )),
                _ => Err("Could not find given field in index spec".into()),
            }
        }
        SearchOp::DumpNumIdx { index, field } => {
            let idx = reg.get(index).ok_or(UNKNOWN_INDEX)?;
            let pos = idx
                .def
                .field_position(field)
                .ok_or("Could not find given field in index spec")?;
            match idx.fields.get(pos) {
                Some(FieldIndex::Numeric(n)) => Ok(ReadPart::Nums(
                    n.iter().map(|(v, ids)| (v, idx.keys_of(ids))).collect(),
                )),
                _ => Err("Could not find given field in index spec".into()),
            }
        }
        _ => Err("ERR not an index read command".into()),
    }
}

/// Merges every shard's part of read `op` into the reply (the first error wins: every shard
/// has the same definitions, so they all fail alike).
pub fn merge_read(op: &SearchOp, parts: Vec<Result<ReadPart, String>>) -> Reply {
    let mut ok = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            Ok(p) => ok.push(p),
            Err(e) => return err(e),
        }
    }
    match op {
        SearchOp::Explain { .. } => match ok.into_iter().next() {
            Some(ReadPart::Explain(r)) => r,
            _ => err("ERR not an index read command"),
        },
        SearchOp::List | SearchOp::TagVals { .. } => {
            let mut all: Vec<Bytes> = ok
                .into_iter()
                .flat_map(|p| match p {
                    ReadPart::Names(n) => n,
                    _ => Vec::new(),
                })
                .collect();
            all.sort();
            all.dedup();
            Reply::Set(all.into_iter().map(Reply::Bulk).collect())
        }
        SearchOp::DumpTagIdx { .. } => {
            let mut m: std::collections::BTreeMap<Bytes, Vec<Bytes>> = Default::default();
            for p in ok {
                if let ReadPart::Tags(t) = p {
                    for (tag, keys) in t {
                        m.entry(tag).or_default().extend(keys);
                    }
                }
            }
            Reply::Array(
                m.into_iter()
                    .map(|(tag, mut keys)| {
                        keys.sort();
                        Reply::Array(vec![
                            Reply::Bulk(tag),
                            Reply::Array(keys.into_iter().map(Reply::Bulk).collect()),
                        ])
                    })
                    .collect(),
            )
        }
        SearchOp::DumpNumIdx { .. } => {
            let mut all: Vec<(f64, Vec<Bytes>)> = Vec::new();
            for p in ok {
                if let ReadPart::Nums(n) = p {
                    for (v, keys) in n {
                        match all.iter_mut().find(|(x, _)| x.total_cmp(&v).is_eq()) {
                            Some((_, ks)) => ks.extend(keys),
                            None => all.push((v, keys)),
                        }
                    }
                }
            }
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            Reply::Array(
                all.into_iter()
                    .map(|(v, mut keys)| {
                        keys.sort();
                        Reply::Array(vec![
                            Reply::Double(v),
                            Reply::Array(keys.into_iter().map(Reply::Bulk).collect()),
                        ])
                    })
                    .collect(),
            )
        }
        SearchOp::Info { .. } => {
            let infos: Vec<InfoPart> = ok
                .into_iter()
                .filter_map(|p| match p {
                    ReadPart::Info(i) => Some(*i),
                    _ => None,
                })
                .collect();
            match infos.first() {
                Some(first) => info_reply(&first.def.clone(), &infos, &[]),
                None => err(UNKNOWN_INDEX),
            }
        }
        _ => err("ERR not an index read command"),
    }
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn kv(k: &str, v: Reply) -> (Reply, Reply) {
    (bulk(k), v)
}

const MB: f64 = 1024.0 * 1024.0;

/// FT.INFO's reply (RediSearch 2.8's fields and order) from every shard's part.
pub fn info_reply(def: &IndexDef, parts: &[InfoPart], _aliases: &[Bytes]) -> Reply {
    let sum = |f: fn(&InfoPart) -> u64| parts.iter().map(f).sum::<u64>();
    let num_docs = sum(|p| p.num_docs);
    let records = sum(|p| p.num_records);
    let failures = sum(|p| p.failures);
    let indexing = parts.iter().any(|p| p.indexing);
    let percent = parts
        .iter()
        .map(|p| p.percent_indexed)
        .fold(1.0f64, f64::min);
    let mut options = Vec::new();
    for (on, name) in [
        (def.nooffsets, "NOOFFSETS"),
        (def.nofields, "NOFIELDS"),
        (def.nofreqs, "NOFREQS"),
        (def.nohl, "NOHL"),
        (def.maxtextfields, "MAXTEXTFIELDS"),
        (def.skip_initial_scan, "SKIPINITIALSCAN"),
    ] {
        if on {
            options.push(bulk(name));
        }
    }
    let mut definition = vec![
        kv("key_type", bulk("HASH")),
        kv(
            "prefixes",
            Reply::Array(if def.prefixes.is_empty() {
                vec![bulk("")]
            } else {
                def.prefixes.iter().cloned().map(Reply::Bulk).collect()
            }),
        ),
    ];
    if let Some(f) = &def.filter {
        definition.push(kv("filter", Reply::Bulk(f.clone())));
    }
    if let Some(l) = &def.language {
        definition.push(kv("default_language", Reply::Bulk(l.clone())));
    }
    if let Some(l) = &def.language_field {
        definition.push(kv("language_field", Reply::Bulk(l.clone())));
    }
    definition.push(kv("default_score", Reply::Double(def.score)));
    if let Some(f) = &def.score_field {
        definition.push(kv("score_field", Reply::Bulk(f.clone())));
    }
    if let Some(f) = &def.payload_field {
        definition.push(kv("payload_field", Reply::Bulk(f.clone())));
    }
    let mut attributes: Vec<Reply> = def.fields.iter().map(attribute_reply).collect();
    let vector_parts: Vec<&[vector_stats::FieldStats]> =
        parts.iter().map(|p| p.vectors.as_slice()).collect();
    vector_stats::annotate(&mut attributes, def, &vector_parts);
    let no_errors = || {
        Reply::Map(vec![
            kv("indexing failures", Reply::Int(0)),
            kv("last indexing error", bulk("N/A")),
            kv("last indexing error key", bulk("N/A")),
        ])
    };
    let field_stats: Vec<Reply> = def
        .fields
        .iter()
        .map(|f| {
            Reply::Map(vec![
                kv("identifier", Reply::Bulk(f.identifier.clone())),
                kv("attribute", Reply::Bulk(f.attribute.clone())),
                kv("Index Errors", no_errors()),
            ])
        })
        .collect();
    let avg = |a: f64, b: u64| if b == 0 { 0.0 } else { a / b as f64 };
    let inverted_mb = sum(|p| p.inverted_bytes) as f64 / MB;
    Reply::Map(vec![
        kv("index_name", Reply::Bulk(def.name.clone())),
        kv("index_options", Reply::Array(options)),
        kv("index_definition", Reply::Map(definition)),
        kv("attributes", Reply::Array(attributes)),
        kv("num_docs", Reply::Double(num_docs as f64)),
        kv("max_doc_id", Reply::Double(sum(|p| p.max_doc_id) as f64)),
        kv("num_terms", Reply::Double(sum(|p| p.num_terms) as f64)),
        kv("num_records", Reply::Double(records as f64)),
        kv("inverted_sz_mb", Reply::Double(inverted_mb)),
        kv(
            "vector_index_sz_mb",
            Reply::Double(sum(|p| p.vector_bytes) as f64 / MB),
        ),
        kv("total_inverted_index_blocks", Reply::Double(0.0)),
        kv("offset_vectors_sz_mb", Reply::Double(0.0)),
        kv(
            "doc_table_size_mb",
            Reply::Double(sum(|p| p.doc_table_bytes) as f64 / MB),
        ),
        kv("sortable_values_size_mb", Reply::Double(0.0)),
        kv("key_table_size_mb", Reply::Double(0.0)),
        kv("geoshapes_sz_mb", Reply::Double(0.0)),
        kv(
            "records_per_doc_avg",
            Reply::Double(avg(records as f64, num_docs)),
        ),
        kv(
            "bytes_per_record_avg",
            Reply::Double(avg(sum(|p| p.inverted_bytes) as f64, records)),
        ),
        kv("offsets_per_term_avg", Reply::Double(0.0)),
        kv("offset_bits_per_record_avg", Reply::Double(0.0)),
        kv("hash_indexing_failures", Reply::Int(failures as i64)),
        kv(
            "total_indexing_time",
            Reply::Double(sum(|p| p.indexing_us) as f64 / 1000.0),
        ),
        kv("indexing", Reply::Int(i64::from(indexing))),
        kv("percent_indexed", Reply::Double(percent)),
        kv("number_of_uses", Reply::Int(0)),
        kv("cleaning", Reply::Int(0)),
        kv(
            "gc_stats",
            Reply::Map(vec![
                kv("bytes_collected", Reply::Double(0.0)),
                kv("total_ms_run", Reply::Double(0.0)),
                kv("total_cycles", Reply::Double(0.0)),
                kv("average_cycle_time_ms", Reply::Double(0.0)),
                kv("last_run_time_ms", Reply::Double(0.0)),
                kv("gc_numeric_trees_missed", Reply::Double(0.0)),
                kv("gc_blocks_denied", Reply::Double(0.0)),
            ]),
        ),
        kv(
            "cursor_stats",
            Reply::Map(vec![
                kv("global_idle", Reply::Int(0)),
                kv("global_total", Reply::Int(0)),
                kv("index_capacity", Reply::Int(128)),
                kv("index_total", Reply::Int(0)),
            ]),
        ),
        kv(
            "dialect_stats",
            Reply::Map(vec![
                kv("dialect_1", Reply::Int(0)),
                kv("dialect_2", Reply::Int(0)),
                kv("dialect_3", Reply::Int(0)),
                kv("dialect_4", Reply::Int(0)),
            ]),
        ),
        kv(
            "Index Errors",
            Reply::Map(vec![
                kv("indexing failures", Reply::Int(failures as i64)),
                kv("last indexing error", bulk("N/A")),
                kv("last indexing error key", bulk("N/A")),
            ]),
        ),
        kv("field statistics", Reply::Array(field_stats)),
    ])
}

/// One entry of FT.INFO's `attributes`: key/value pairs, then flag words (RediSearch's
/// shape, so it is a flat array in both protocols).
fn attribute_reply(f: &FieldDef) -> Reply {
    let mut a = vec![
        bulk("identifier"),
        Reply::Bulk(f.identifier.clone()),
        bulk("attribute"),
        Reply::Bulk(f.attribute.clone()),
        bulk("type"),
        bulk(f.ty.name()),
    ];
    match &f.ty {
        FieldType::Text {
            nostem,
            weight,
            phonetic,
            withsuffixtrie,
        } => {
            a.push(bulk("WEIGHT"));
            a.push(Reply::Double(*weight));
            if *nostem {
                a.push(bulk("NOSTEM"));
            }
            if let Some(p) = phonetic {
                a.push(bulk("PHONETIC"));
                a.push(Reply::Bulk(p.clone()));
            }
            if *withsuffixtrie {
                a.push(bulk("WITHSUFFIXTRIE"));
            }
        }
        FieldType::Tag {
            separator,
            case_sensitive,
            withsuffixtrie,
        } => {
            a.push(bulk("SEPARATOR"));
            a.push(Reply::Bulk(Bytes::copy_from_slice(&[*separator])));
            if *case_sensitive {
                a.push(bulk("CASESENSITIVE"));
            }
            if *withsuffixtrie {
                a.push(bulk("WITHSUFFIXTRIE"));
            }
        }
        FieldType::Vector(p) => {
            a.push(bulk("algorithm"));
            a.push(bulk(match p.algo {
                schema::VectorAlgo::Hnsw => "HNSW",
                schema::VectorAlgo::Flat => "FLAT",
            }));
            a.push(bulk("data_type"));
            a.push(bulk(p.dtype.name()));
            a.push(bulk("dim"));
            a.push(Reply::Int(i64::try_from(p.dim).unwrap_or(i64::MAX)));
            a.push(bulk("distance_metric"));
            a.push(bulk(p.metric.name()));
            if p.algo == schema::VectorAlgo::Hnsw {
                a.push(bulk("M"));
                a.push(Reply::Int(p.m.unwrap_or(16) as i64));
                a.push(bulk("ef_construction"));
                a.push(Reply::Int(p.ef_construction.unwrap_or(200) as i64));
            }
            if let Some(q) = p.quantization {
                a.push(bulk("quantization"));
                a.push(bulk(&format!("TQ{}", q.0)));
            }
            if let Some(r) = p.rerank {
                a.push(bulk("rerank"));
                a.push(Reply::Int(r as i64));
            }
        }
        FieldType::Numeric | FieldType::Geo => {}
    }
    if f.sortable {
        a.push(bulk("SORTABLE"));
        if f.unf {
            a.push(bulk("UNF"));
        }
    }
    if f.noindex {
        a.push(bulk("NOINDEX"));
    }
    Reply::Array(a)
}

/// The canonical FT command of a definition write (what the WAL logs); None for reads.
pub fn unparse(op: &SearchOp) -> Option<Vec<Bytes>> {
    let s = |t: &'static str| Bytes::from_static(t.as_bytes());
    Some(match op {
        SearchOp::Create(def) => {
            let mut a = vec![s("FT.CREATE")];
            a.extend(def.to_args());
            a
        }
        SearchOp::Alter {
            index,
            skip_initial_scan,
            fields,
        } => {
            let mut a = vec![s("FT.ALTER"), index.clone()];
            if *skip_initial_scan {
                a.push(s("SKIPINITIALSCAN"));
            }
            a.push(s("SCHEMA"));
            a.push(s("ADD"));
            for f in fields {
                f.write_args(&mut a);
            }
            a
        }
        SearchOp::DropIndex { index, dd } => {
            let mut a = vec![s("FT.DROPINDEX"), index.clone()];
            if *dd {
                a.push(s("DD"));
            }
            a
        }
        SearchOp::AliasSet {
            alias,
            index,
            update,
        } => vec![
            s(if *update {
                "FT.ALIASUPDATE"
            } else {
                "FT.ALIASADD"
            }),
            alias.clone(),
            index.clone(),
        ],
        SearchOp::AliasDel { alias } => vec![s("FT.ALIASDEL"), alias.clone()],
        SearchOp::DictAdd { dict, terms } | SearchOp::DictDel { dict, terms } => {
            let name = if matches!(op, SearchOp::DictAdd { .. }) {
                "FT.DICTADD"
            } else {
                "FT.DICTDEL"
            };
            let mut a = vec![s(name), dict.clone()];
            a.extend(terms.iter().cloned());
            a
        }
        SearchOp::SynUpdate {
            index,
            group,
            skip_initial_scan,
            terms,
        } => {
            let mut a = vec![s("FT.SYNUPDATE"), index.clone(), group.clone()];
            if *skip_initial_scan {
                a.push(s("SKIPINITIALSCAN"));
            }
            a.extend(terms.iter().cloned());
            a
        }
        SearchOp::Info { .. }
        | SearchOp::List
        | SearchOp::TagVals { .. }
        | SearchOp::DumpTagIdx { .. }
        | SearchOp::DumpNumIdx { .. }
        | SearchOp::ConfigGet { .. }
        | SearchOp::ConfigSet { .. }
        | SearchOp::Search(_)
        | SearchOp::Aggregate(_)
        | SearchOp::CursorRead { .. }
        | SearchOp::CursorDel { .. }
        | SearchOp::DictDump { .. }
        | SearchOp::SynDump { .. }
        | SearchOp::SpellCheck(_)
        | SearchOp::Explain { .. }
        | SearchOp::Profile(_) => return None,
    })
}

/// Snapshot record value of one definition: its canonical FT.CREATE arguments, then its
/// aliases, each list as a u32 count of u32-length-prefixed strings (little endian).
pub fn encode_definition(def: &IndexDef, aliases: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::new();
    for list in [&def.to_args()[..], aliases] {
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for a in list {
            out.extend_from_slice(&(a.len() as u32).to_le_bytes());
            out.extend_from_slice(a);
        }
    }
    out
}

/// [`encode_definition`] followed, when the index has synonym groups, by a third list:
/// the groups as `dict::synonyms_list` flattens them.
pub fn encode_index(def: &IndexDef, aliases: &[Bytes], synonyms: &synonyms::Synonyms) -> Vec<u8> {
    let mut out = encode_definition(def, aliases);
    if !synonyms.is_empty() {
        let list = dict::synonyms_list(synonyms);
        dict::encode_strings(&mut out, list.iter().map(|b| &b[..]));
    }
    out
}

/// Decodes [`encode_index`]'s bytes: the definition, its aliases and its synonym groups.
pub fn decode_index(b: &[u8]) -> Result<(IndexDef, Vec<Bytes>, synonyms::Synonyms), String> {
    let mut rest = b;
    let mut lists = Vec::new();
    for _ in 0..2 {
        lists.push(dict::decode_strings(&mut rest)?);
    }
    let syn = if rest.is_empty() {
        synonyms::Synonyms::default()
    } else {
        let list = dict::decode_strings(&mut rest)?;
        dict::synonyms_from_list(&list)?
    };
    if !rest.is_empty() {
        return Err("trailing bytes after definition".into());
    }
    let aliases = lists.pop().unwrap_or_default();
    let args = lists.pop().unwrap_or_default();
    Ok((IndexDef::parse(&args)?, aliases, syn))
}

/// Decodes [`encode_definition`]'s bytes; `Err` names what is wrong.
pub fn decode_definition(mut b: &[u8]) -> Result<(IndexDef, Vec<Bytes>), String> {
    fn u32_at(b: &mut &[u8]) -> Result<usize, String> {
        let (head, rest) = b.split_first_chunk::<4>().ok_or("truncated definition")?;
        *b = rest;
        Ok(u32::from_le_bytes(*head) as usize)
    }
    let mut lists: Vec<Vec<Bytes>> = Vec::new();
    for _ in 0..2 {
        let n = u32_at(&mut b)?;
        let mut list = Vec::new();
        for _ in 0..n {
            let len = u32_at(&mut b)?;
            if b.len() < len {
                return Err("truncated definition".into());
            }
            let (item, rest) = b.split_at(len);
            list.push(Bytes::copy_from_slice(item));
            b = rest;
        }
        lists.push(list);
    }
    if !b.is_empty() {
        return Err("trailing bytes after definition".into());
    }
    let aliases = lists.pop().unwrap_or_default();
    let args = lists.pop().unwrap_or_default();
    Ok((IndexDef::parse(&args)?, aliases))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod text_tests;
