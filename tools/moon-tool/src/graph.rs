//! Snapshot section 3 (graphs) for inspect / verify / dump / repair: the intact blocks of a
//! snapshot, in file order, grouped into graph runs by `moon_formats`' own reassembly
//! (`GraphAssembler`), and each complete run decoded by the engine's graph decoder — so "checks
//! here" means "recovery loads it".
//!
//! Invariants: every section-3 block lands in exactly one [`GraphRun`]; a run is `Ok` only if
//! its parts are in sequence, end with a last part and decode; otherwise it names the offset of
//! the first fault (a missing block — a bad region in the middle of a run — shows as a part out
//! of sequence at the block after it).

use moon_engine::cmd::dump::codec::seal_payload;
use moon_engine::cmd::dump::graph::{GraphSummary, RDB_TYPE_GRAPH, summarize};
use moon_formats::snapshot::graph::{GraphAssembler, parse_part};
use moon_formats::snapshot::{Block, Section};

/// One graph key's run of section-3 blocks.
#[derive(Debug, Clone)]
pub struct GraphRun {
    /// Indexes (into the block list given to [`runs`]) of the run's blocks.
    pub blocks: Vec<usize>,
    /// Offset of the run's first block.
    pub offset: u64,
    /// Database and key (from the first block that parses; empty if none did).
    pub db: u16,
    /// The key.
    pub key: Vec<u8>,
    /// Absolute expiry (ms), 0 = none.
    pub expire_ms: u64,
    /// Bytes of the graph's encoding received.
    pub bytes: u64,
    /// The graph's summary and its DUMP payload, or the first fault (offset, what).
    pub outcome: Result<(GraphSummary, Vec<u8>), (u64, String)>,
}

fn new_run(blocks: &[Block<'_>], at: usize) -> GraphRun {
    let (db, key, expire_ms) = blocks
        .get(at)
        .and_then(|b| parse_part(b).ok())
        .map_or((0, Vec::new(), 0), |p| (p.db, p.key.to_vec(), p.expire_ms));
    GraphRun {
        blocks: Vec::new(),
        offset: blocks.get(at).map_or(0, |b| b.offset),
        db,
        key,
        expire_ms,
        bytes: 0,
        outcome: Err((0, String::new())),
    }
}

/// Groups the section-3 blocks among `blocks` (a snapshot's intact blocks in file order) into
/// graph runs; `end` is where the blocks end (the index offset, or the end of the file).
pub fn runs(blocks: &[Block<'_>], end: u64) -> Vec<GraphRun> {
    let mut out = Vec::new();
    let mut asm = GraphAssembler::new();
    let mut open: Option<GraphRun> = None;
    for (i, b) in blocks.iter().enumerate() {
        let is_graph = b.section == Section::Graph;
        if is_graph && open.is_none() {
            open = Some(new_run(blocks, i));
        }
        if is_graph && let Some(run) = open.as_mut() {
            run.blocks.push(i);
            run.bytes += parse_part(b).map_or(0, |p| p.data.len() as u64);
        }
        match asm.push(b) {
            Ok(None) => {}
            Ok(Some(g)) => {
                if let Some(mut run) = open.take() {
                    run.outcome = match summarize(&g.data) {
                        Ok(s) => {
                            let mut object = Vec::with_capacity(g.data.len() + 11);
                            object.push(RDB_TYPE_GRAPH);
                            object.extend_from_slice(&g.data);
                            Ok((s, seal_payload(object)))
                        }
                        Err(e) => Err((g.first_offset, format!("graph does not decode: {e}"))),
                    };
                    out.push(run);
                }
            }
            Err(e) => {
                let mut run = open.take().unwrap_or_else(|| new_run(blocks, i));
                run.outcome = Err((e.offset, e.kind.to_string()));
                out.push(run);
            }
        }
    }
    if let Err(e) = asm.finish(end)
        && let Some(mut run) = open.take()
    {
        run.outcome = Err((e.offset, e.kind.to_string()));
        out.push(run);
    }
    out
}

/// One line describing a decoded graph: counts, labels and relationship types with theirs.
pub fn describe(s: &GraphSummary) -> String {
    let list = |v: &[(String, u64)]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter()
                .map(|(n, c)| format!("{n} {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    format!(
        "{} nodes, {} relationships; labels: {}; types: {}; {} property keys, {} indexes",
        s.nodes,
        s.edges,
        list(&s.labels),
        list(&s.rel_types),
        s.prop_keys,
        s.indexes
    )
}
