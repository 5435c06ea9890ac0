//! Snapshot section 4 (FT index contents, SPEC §8.2) for inspect / verify: the section's
//! blocks grouped into one run per index by `moon_formats`' reassembly (the section-3 part
//! layout), each complete run decoded and validated by the engine's own decoder
//! (`search::contents::summarize`), so "checks here" means "recovery can load it" (recovery
//! also compares the parameters with the index definition, which this does not).
//!
//! Invariants: every section-4 block lands in exactly one [`ContentsRun`]; a run is `Ok` only
//! if its parts are in sequence, end with a last part and decode.

use moon_engine::search::contents::{Summary, summarize};
use moon_formats::snapshot::graph::{GraphAssembler, parse_part_in};
use moon_formats::snapshot::{Block, Section};

/// One index's run of section-4 blocks.
#[derive(Debug, Clone)]
pub struct ContentsRun {
    /// Offset of the run's first block.
    pub offset: u64,
    /// Number of blocks.
    pub blocks: usize,
    /// The index name (from the first block that parses; empty if none did).
    pub name: Vec<u8>,
    /// Bytes of contents received.
    pub bytes: u64,
    /// What the contents hold, or the first fault (offset, what).
    pub outcome: Result<Summary, (u64, String)>,
}

fn new_run(b: &Block<'_>) -> ContentsRun {
    ContentsRun {
        offset: b.offset,
        blocks: 0,
        name: parse_part_in(b, Section::Vector).map_or(Vec::new(), |p| p.key.to_vec()),
        bytes: 0,
        outcome: Err((b.offset, String::new())),
    }
}

/// Groups the section-4 blocks among `blocks` (intact blocks in file order) into runs; `end`
/// is where the blocks end.
pub fn runs(blocks: &[Block<'_>], end: u64) -> Vec<ContentsRun> {
    let mut out = Vec::new();
    let mut asm = GraphAssembler::for_section(Section::Vector);
    let mut open: Option<ContentsRun> = None;
    // The last run that failed: the orphan parts after its fault join it (one error each run).
    let mut dead: Option<usize> = None;
    for b in blocks {
        let mine = b.section == Section::Vector;
        if mine {
            let run = open.get_or_insert_with(|| new_run(b));
            run.blocks += 1;
            run.bytes += parse_part_in(b, Section::Vector).map_or(0, |p| p.data.len() as u64);
        }
        match asm.push(b) {
            Ok(None) => dead = None,
            Ok(Some(r)) => {
                dead = None;
                if let Some(mut run) = open.take() {
                    run.outcome = summarize(&r.data)
                        .map_err(|e| (r.first_offset, format!("contents do not decode: {e}")));
                    out.push(run);
                }
            }
            Err(e) => {
                let mut run = open.take().unwrap_or_else(|| new_run(b));
                if let Some(d) = dead.and_then(|d| out.get_mut(d))
                    && d.name == run.name
                {
                    d.blocks += run.blocks;
                    d.bytes += run.bytes;
                    continue;
                }
                run.outcome = Err((e.offset, e.kind.to_string()));
                dead = Some(out.len());
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

/// One line describing decoded contents.
pub fn describe(s: &Summary) -> String {
    let fields: Vec<String> = s
        .fields
        .iter()
        .map(|f| {
            format!(
                "field #{} {} dim {}: {} vectors",
                f.position, f.algorithm, f.dim, f.vectors
            )
        })
        .collect();
    format!(
        "{} docs (max doc id {}); {}",
        s.docs,
        s.max_doc_id,
        fields.join("; ")
    )
}
