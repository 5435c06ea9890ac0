//! `moon-tool repair`: writes a repaired copy of a data (or shard) directory and reports exactly
//! what was lost. The input is only ever mapped read-only.
//!
//! WAL segments: every frame whose CRC verifies is copied byte for byte; torn tails are cut;
//! after a corrupt region reading resumes at the next intact frame (`SegmentReader::resync`).
//! LSNs a shard lost (skipped by a corrupt region, cut off with a torn tail of a segment that is
//! not the last, missing between segments or between the newest snapshot and the WAL) are each
//! replaced by an empty batch record, which replays as nothing: LSNs stay contiguous, so the copy
//! passes `verify` and the server's recovery, and the report names every replaced LSN. A damaged
//! segment header is rebuilt from the file name and the shard directory.
//!
//! Snapshots: every block whose CRC verifies is kept (its entries whose DUMP payload fails are
//! dropped individually; a graph whose section-3 run is incomplete or does not decode is dropped
//! whole), and the file is rewritten with a fresh index and footer (a snapshot
//! whose footer was missing or damaged becomes complete again). A damaged snapshot is not copied
//! at all when the intact WAL reproduces everything it covers (from the previous snapshot, or
//! from LSN 1): that loses nothing. `.snap.tmp` files are not copied.
//!
//! Invariants: nothing is dropped silently — every dropped byte range is reported with what it
//! held (records / LSNs, entries / dbs) or with "unknown"; a torn tail at the end of a shard's
//! last segment is cut and reported but is not a loss (a crash leaves one; the record was never
//! acknowledged); the exit code is 1 exactly when something was lost.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use moon_formats::snapshot::{
    Section, SnapshotHeader, SnapshotWriter, parse_snapshot_file_name, snapshot_file_name,
};
use moon_formats::wal::{
    HEADER_LEN, SegmentHeader, encode_batch, parse_segment_file_name, segment_file_name,
};

use crate::layout::{self, ShardDir, UsageError, map_file};
use crate::progress::{Out, Progress};
use crate::snap;
use crate::text::quote;
use crate::verify::describe_region;
use crate::walk::{self, frame_len};
use crate::{Status, value};

/// Gaps larger than this are not filled (a resync onto a frame with a wild LSN would otherwise
/// write gigabytes of placeholders); `verify` then still reports the gap.
const MAX_FILL: u64 = 1 << 20;

struct Report<'p> {
    out: Out,
    lost: bool,
    progress: &'p Progress,
}

impl Report<'_> {
    fn info(&mut self, file: &Path, msg: &str) {
        self.out.line(&format!("{}: {msg}", file.display()));
    }

    fn loss(&mut self, file: &Path, msg: &str) {
        self.lost = true;
        self.out.line(&format!("{}: LOST: {msg}", file.display()));
    }
}

fn lsn_range(a: u64, b_excl: u64) -> String {
    match b_excl.saturating_sub(a) {
        0 => "no LSN".to_owned(),
        1 => format!("LSN {a}"),
        n => format!("LSNs {a}..={} ({n} records)", b_excl - 1),
    }
}

/// Appends `n` empty batch records for LSNs `from..to`.
fn fill(out: &mut Vec<u8>, from: u64, to: u64, ts: u64) {
    let none: &[(u16, Vec<&[u8]>)] = &[];
    for lsn in from..to {
        encode_batch(out, lsn, ts, none);
    }
}

/// The first LSN of a segment file: its header's, else its name's.
fn first_lsn_of(path: &Path) -> Option<u64> {
    let bytes = map_file(path).ok()?;
    SegmentHeader::decode(&bytes)
        .map(|h| h.first_lsn)
        .ok()
        .or_else(|| {
            path.file_name()
                .and_then(|n| n.to_str())
                .and_then(parse_segment_file_name)
        })
}

struct ShardCtx<'a> {
    dir: &'a ShardDir,
    out_dir: PathBuf,
    shard: u16,
    shard_count: u16,
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Repairs one snapshot; returns its LSN if a snapshot was written.
fn repair_snapshot(ctx: &ShardCtx<'_>, path: &Path, rep: &mut Report<'_>) -> Result<Option<u64>> {
    let bytes = map_file(path)?;
    rep.progress.inc(bytes.len() as u64);
    let s = snap::salvage(&bytes);
    let name_lsn = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_snapshot_file_name);
    let header = match &s.header {
        Ok(h) => *h,
        Err(e) => {
            let lsn = s.complete.as_ref().ok().map(|f| f.lsn).or(name_lsn);
            let Some(lsn) = lsn else {
                rep.loss(
                    path,
                    &format!(
                        "snapshot header unreadable ({e}) and no LSN in the file name: file dropped, {} intact block(s) with {} entries lost",
                        s.blocks.len(),
                        s.blocks.iter().map(|b| u64::from(b.count)).sum::<u64>()
                    ),
                );
                return Ok(None);
            };
            rep.info(
                path,
                &format!(
                    "snapshot header unreadable ({e}): rebuilt (shard {}, LSN {lsn})",
                    ctx.shard
                ),
            );
            SnapshotHeader::new(ctx.shard, ctx.shard_count, lsn, 0)
        }
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .map_or_else(|| snapshot_file_name(header.lsn), str::to_owned);
    let out_path = ctx.out_dir.join(&name);
    let file =
        fs::File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    let mut w = SnapshotWriter::new(BufWriter::new(file), &header)?;
    if let Err(e) = &s.complete {
        rep.info(
            path,
            &format!("no valid footer ({e}): rewritten with a new index and footer"),
        );
    }
    for r in &s.bad {
        let empty = r.claimed.as_ref().is_some_and(|c| c.entries() == 0);
        if empty || is_index_remains(&bytes, r) {
            rep.info(
                path,
                &format!(
                    "{} (what is left of the index: no entries)",
                    describe_region(r)
                ),
            );
        } else {
            rep.loss(path, &describe_region(r));
        }
    }
    let graphs = GraphRepair::new(path, &bytes, &s, rep);
    for (i, b) in s.blocks.iter().enumerate() {
        if b.section == Section::Graph {
            graphs.copy_block(i, b, &mut w)?;
            continue;
        }
        if b.section == Section::Functions {
            repair_functions(path, b, &mut w, rep)?;
            continue;
        }
        if b.section != Section::Keyspace {
            w.add_block(b.section, b.db, b.count, b.payload)?;
            continue;
        }
        let (entries, err) = snap::entries(b);
        let bad: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, pe)| value::check(pe.entry.value).is_err())
            .map(|(i, _)| i)
            .collect();
        if err.is_none() && bad.is_empty() {
            w.add_block(b.section, b.db, b.count, b.payload)?;
            continue;
        }
        for (i, pe) in entries.iter().enumerate() {
            if bad.contains(&i) {
                let why = value::check(pe.entry.value)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                rep.loss(
                    path,
                    &format!(
                        "entry at offset {}: db {} key {} dropped ({why})",
                        pe.offset,
                        b.db,
                        quote(pe.entry.key)
                    ),
                );
            } else {
                w.add_entry(b.db, pe.entry.key, pe.entry.expire_ms, pe.entry.value)?;
            }
        }
        if let Some(e) = err {
            let rest = u64::from(b.count).saturating_sub(entries.len() as u64);
            rep.loss(
                path,
                &format!(
                    "block at offset {}: {e}: its remaining {rest} entr{} of db {} dropped",
                    b.offset,
                    if rest == 1 { "y" } else { "ies" },
                    b.db
                ),
            );
        }
    }
    let (mut bw, summary) = w.finish()?;
    bw.flush()?;
    bw.get_ref().sync_all()?;
    rep.info(
        &out_path,
        &format!(
            "snapshot LSN {} written: {} entries in {} blocks, {} bytes",
            header.lsn, summary.entries, summary.blocks, summary.bytes
        ),
    );
    Ok(Some(header.lsn))
}

/// Graphs (section 3): a graph whose run of blocks is complete and decodes is copied block
/// for block, in place; any other (a part lost in a bad region, out of sequence, not decoding)
/// is dropped whole and reported lost, so the copy never holds a run recovery would refuse.
struct GraphRepair {
    /// Per intact block: whether it belongs to a graph run that is kept.
    keep: Vec<bool>,
}

impl GraphRepair {
    fn new(path: &Path, bytes: &[u8], s: &snap::Salvage<'_>, rep: &mut Report<'_>) -> Self {
        let end = s
            .complete
            .as_ref()
            .map_or(bytes.len() as u64, |f| f.index_offset);
        let mut keep = vec![false; s.blocks.len()];
        for run in crate::graph::runs(&s.blocks, end) {
            match &run.outcome {
                Ok(_) => {
                    for &i in &run.blocks {
                        if let Some(k) = keep.get_mut(i) {
                            *k = true;
                        }
                    }
                }
                Err((at, what)) => rep.loss(
                    path,
                    &format!(
                        "graph db {} key {} (blocks from offset {}): dropped ({what} at offset {at})",
                        run.db,
                        quote(&run.key),
                        run.offset
                    ),
                ),
            }
        }
        GraphRepair { keep }
    }

    fn copy_block<W: Write>(
        &self,
        i: usize,
        b: &moon_formats::snapshot::Block<'_>,
        w: &mut SnapshotWriter<W>,
    ) -> Result<()> {
        if self.keep.get(i).copied().unwrap_or(false) {
            w.add_block(b.section, b.db, b.count, b.payload)?;
        }
        Ok(())
    }
}

/// A functions block (section 2): kept as is when every library loads, else its loadable
/// libraries are rewritten and the others reported lost.
fn repair_functions<W: Write>(
    path: &Path,
    b: &moon_formats::snapshot::Block<'_>,
    w: &mut SnapshotWriter<W>,
    rep: &mut Report<'_>,
) -> Result<()> {
    let (libs, err) = snap::entries(b);
    let check = |pe: &snap::PlacedEntry<'_>| {
        value::check_function(pe.entry.key, pe.entry.expire_ms, pe.entry.value)
    };
    if err.is_none() && libs.iter().all(|pe| check(pe).is_ok()) {
        w.add_block(b.section, b.db, b.count, b.payload)?;
        return Ok(());
    }
    for pe in &libs {
        match check(pe) {
            Ok(()) => w.add_function(pe.entry.key, pe.entry.value)?,
            Err(why) => rep.loss(
                path,
                &format!(
                    "function library at offset {}: {} dropped ({why})",
                    pe.offset,
                    quote(pe.entry.key)
                ),
            ),
        }
    }
    if let Some(e) = err {
        let rest = u64::from(b.count).saturating_sub(libs.len() as u64);
        rep.loss(
            path,
            &format!(
                "functions block at offset {}: {e}: its remaining {rest} librar{} dropped",
                b.offset,
                if rest == 1 { "y" } else { "ies" }
            ),
        );
    }
    Ok(())
}

/// True if a region holding no block header starts like a snapshot index (whose first record
/// always points at offset 64, the first block): what is left of an index/footer, not entries.
fn is_index_remains(bytes: &[u8], r: &snap::BadRegion) -> bool {
    let a = usize::try_from(r.start).unwrap_or(usize::MAX);
    r.claimed.is_none()
        && bytes.get(a..a.saturating_add(8)) == Some(&(HEADER_LEN as u64).to_le_bytes()[..])
}

/// Repairs a shard's WAL segments; `base` is the LSN of the newest snapshot written (0: none).
fn repair_wal(ctx: &ShardCtx<'_>, base: u64, rep: &mut Report<'_>) -> Result<()> {
    let segs = &ctx.dir.wals;
    let firsts: Vec<Option<u64>> = segs.iter().map(|(_, p)| first_lsn_of(p)).collect();
    let mut expected: Option<u64> = None;
    // The WAL must continue the snapshot: fill the LSNs between them.
    if let Some(Some(first)) = firsts.first()
        && *first > base + 1
    {
        let from = base + 1;
        let p = ctx.out_dir.join(segment_file_name(from));
        if first - from <= MAX_FILL {
            let mut buf = SegmentHeader::new(ctx.shard, ctx.shard_count, from, 0)
                .encode()
                .to_vec();
            fill(&mut buf, from, *first, 0);
            write_file(&p, &buf)?;
            rep.loss(
                &p,
                &format!(
                    "{} missing before the first WAL segment (the newest snapshot covers up to {base}): replaced by empty batch records in this new segment",
                    lsn_range(from, *first)
                ),
            );
            expected = Some(*first);
        } else {
            rep.loss(
                &p,
                &format!("{} missing before the first WAL segment: too many to fill, verify will report the gap", lsn_range(from, *first)),
            );
        }
    }
    for (i, (name_lsn, path)) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let next_first = firsts.get(i + 1).copied().flatten();
        let bytes = map_file(path)?;
        rep.progress.inc(bytes.len() as u64);
        let (header, patched): (SegmentHeader, Option<Vec<u8>>) =
            match SegmentHeader::decode(&bytes) {
                Ok(h) => (h, None),
                Err(e) => {
                    let first = expected.unwrap_or(*name_lsn);
                    let h = SegmentHeader::new(ctx.shard, ctx.shard_count, first, 0);
                    let mut copy = h.encode().to_vec();
                    copy.extend_from_slice(bytes.get(HEADER_LEN..).unwrap_or_default());
                    rep.info(
                    path,
                    &format!(
                        "segment header unreadable ({e}): rebuilt (shard {}, first LSN {first})",
                        ctx.shard
                    ),
                );
                    (h, Some(copy))
                }
            };
        let data: &[u8] = patched.as_deref().unwrap_or(&bytes);
        let out_first = expected.unwrap_or(header.first_lsn);
        let mut frames: Vec<(u64, u64, u64)> = Vec::new(); // (offset, lsn, ts)
        let w = walk::walk(data, true, |off, r| frames.push((off, r.lsn, r.ts_ms)))?;
        let mut out = SegmentHeader {
            first_lsn: out_first,
            ..header
        }
        .encode()
        .to_vec();
        let out_name = if out_first == header.first_lsn {
            path.file_name()
                .and_then(|n| n.to_str())
                .map_or_else(|| segment_file_name(out_first), str::to_owned)
        } else {
            rep.info(
                path,
                &format!("header said first LSN {}, rewritten as {out_first} to continue the previous segment", header.first_lsn),
            );
            segment_file_name(out_first)
        };
        let out_path = ctx.out_dir.join(&out_name);
        for c in &w.corrupt {
            let until = c.resumed.map_or(w.len, |(off, _)| off);
            let msg = format!(
                "bytes {}..{until} dropped ({} at offset {})",
                c.error.offset, c.error.kind, c.error.offset
            );
            match c.lost_lsns() {
                Some(r) if r.is_empty() => rep.info(path, &format!("{msg}: no record lost")),
                Some(r) => rep.loss(path, &format!("{msg}: {} lost", lsn_range(r.start, r.end))),
                None => {
                    let lsns = match next_first {
                        Some(n) => lsn_range(c.expected_lsn, n),
                        None => format!(
                            "records from LSN {} on (how many is unknown: nothing readable follows)",
                            c.expected_lsn
                        ),
                    };
                    rep.loss(path, &format!("{msg}: {lsns} lost"));
                }
            }
        }
        if let Some((off, reason)) = w.torn() {
            let msg = format!(
                "torn tail ({reason}) cut: bytes {off}..{} ({} bytes)",
                w.len,
                w.len - off
            );
            if last {
                rep.info(
                    path,
                    &format!("{msg}, the unfinished record for LSN {} (never acknowledged; normal after a crash)", w.next_lsn),
                );
            } else {
                let lost = next_first.map_or_else(
                    || format!("LSN {}", w.next_lsn),
                    |n| lsn_range(w.next_lsn, n),
                );
                rep.loss(
                    path,
                    &format!("{msg} in a segment that is not the last: {lost} lost"),
                );
            }
        }
        let mut next = out_first;
        let mut ts = header.created_ms;
        let mut kept = 0u64;
        for &(off, lsn, rts) in &frames {
            if lsn < next {
                rep.loss(
                    path,
                    &format!("record LSN {lsn} at offset {off} dropped: LSN already used by an earlier record (overlapping segments)"),
                );
                continue;
            }
            if lsn > next {
                if lsn - next > MAX_FILL {
                    rep.loss(
                        path,
                        &format!(
                            "{}: too many to fill, verify will report the gap",
                            lsn_range(next, lsn)
                        ),
                    );
                } else {
                    fill(&mut out, next, lsn, ts);
                    rep.info(
                        &out_path,
                        &format!("{} replaced by empty batch records", lsn_range(next, lsn)),
                    );
                }
            }
            let start = off as usize;
            let end = start + frame_len(data, off) as usize;
            out.extend_from_slice(data.get(start..end).unwrap_or_default());
            next = lsn + 1;
            ts = rts;
            kept += 1;
        }
        if let Some(n) = next_first
            && n > next
        {
            if n - next > MAX_FILL {
                rep.loss(
                    path,
                    &format!(
                        "{}: too many to fill, verify will report the gap",
                        lsn_range(next, n)
                    ),
                );
            } else {
                fill(&mut out, next, n, ts);
                rep.info(
                    &out_path,
                    &format!("{} replaced by empty batch records", lsn_range(next, n)),
                );
                next = n;
            }
        }
        write_file(&out_path, &out)?;
        rep.info(
            &out_path,
            &format!(
                "WAL segment written: {kept} record(s) kept, {} bytes",
                out.len()
            ),
        );
        expected = Some(next);
    }
    Ok(())
}

/// Intact WAL LSNs of a shard as sorted, merged inclusive ranges (every frame whose CRC
/// verifies, across corrupt regions).
fn wal_coverage(dir: &ShardDir) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for (_, p) in &dir.wals {
        let Ok(bytes) = map_file(p) else { continue };
        let _ = walk::walk(&bytes, true, |_, r| match ranges.last_mut() {
            Some((_, end)) if r.lsn == *end + 1 => *end = r.lsn,
            _ => ranges.push((r.lsn, r.lsn)),
        });
    }
    ranges.sort_unstable();
    ranges
}

/// True if the intact WAL holds every LSN of `from..=to`.
fn covers(ranges: &[(u64, u64)], from: u64, to: u64) -> bool {
    let mut need = from;
    for &(a, b) in ranges {
        if need > to {
            break;
        }
        if a <= need && b >= need {
            need = b + 1;
        }
    }
    need > to
}

/// True if rewriting this snapshot would lose entries.
fn snapshot_is_lossy(bytes: &[u8]) -> bool {
    let s = snap::salvage(bytes);
    let lossy_region = s.bad.iter().any(|r| {
        let empty = r.claimed.as_ref().is_some_and(|c| c.entries() == 0);
        !(empty || is_index_remains(bytes, r))
    });
    let lossy_entries = s
        .blocks
        .iter()
        .filter(|b| b.section == Section::Keyspace)
        .any(|b| {
            let (entries, err) = snap::entries(b);
            err.is_some()
                || entries
                    .iter()
                    .any(|pe| value::check(pe.entry.value).is_err())
        });
    let lossy_functions = s
        .blocks
        .iter()
        .filter(|b| b.section == Section::Functions)
        .any(|b| {
            let (libs, err) = snap::entries(b);
            err.is_some()
                || libs.iter().any(|pe| {
                    value::check_function(pe.entry.key, pe.entry.expire_ms, pe.entry.value).is_err()
                })
        });
    let lossy_entries = lossy_entries || lossy_functions;
    lossy_region || lossy_entries
}

fn repair_shard(ctx: &ShardCtx<'_>, rep: &mut Report<'_>) -> Result<()> {
    fs::create_dir_all(&ctx.out_dir)
        .with_context(|| format!("creating {}", ctx.out_dir.display()))?;
    let coverage = wal_coverage(ctx.dir);
    let mut base = 0u64;
    for (name_lsn, p) in &ctx.dir.snaps {
        // A damaged snapshot whose whole content the WAL still reproduces (from the previous
        // snapshot written, or from LSN 1) is dropped instead of rewritten: nothing is lost.
        if *name_lsn > base
            && covers(&coverage, base + 1, *name_lsn)
            && snapshot_is_lossy(&map_file(p)?)
        {
            let from = if base == 0 {
                "the WAL from LSN 1".to_owned()
            } else {
                format!("snapshot LSN {base} + the WAL")
            };
            rep.info(
                p,
                &format!("damaged snapshot not copied: {from} up to LSN {name_lsn} reproduces it, nothing lost"),
            );
            continue;
        }
        if let Some(lsn) = repair_snapshot(ctx, p, rep)? {
            base = base.max(lsn);
        }
    }
    for p in &ctx.dir.tmps {
        rep.info(
            p,
            "abandoned snapshot being written (.tmp): not copied (the server never loads it)",
        );
    }
    repair_wal(ctx, base, rep)
}

/// The shard count most headers agree on, else the number of shard directories.
fn guess_shard_count(dirs: &[ShardDir]) -> u16 {
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for d in dirs {
        for (_, p) in &d.wals {
            if let Ok(b) = map_file(p)
                && let Ok(h) = SegmentHeader::decode(&b)
            {
                *counts.entry(h.shard_count).or_default() += 1;
            }
        }
        for (_, p) in &d.snaps {
            if let Ok(b) = map_file(p)
                && let Ok(h) = SnapshotHeader::decode(&b)
            {
                *counts.entry(h.shard_count).or_default() += 1;
            }
        }
    }
    counts.into_iter().max_by_key(|&(_, n)| n).map_or(
        u16::try_from(dirs.len()).unwrap_or(u16::MAX).max(1),
        |(c, _)| c,
    )
}

/// The shard id of a directory: its name's, else what its files' headers say.
fn shard_id_of(d: &ShardDir) -> u16 {
    if let Some(s) = d.shard {
        return s;
    }
    for (_, p) in &d.wals {
        if let Ok(b) = map_file(p)
            && let Ok(h) = SegmentHeader::decode(&b)
        {
            return h.shard_id;
        }
    }
    for (_, p) in &d.snaps {
        if let Ok(b) = map_file(p)
            && let Ok(h) = SnapshotHeader::decode(&b)
        {
            return h.shard_id;
        }
    }
    0
}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}

/// Runs `repair`.
pub fn run(path: &Path, out: &Path) -> Result<Status> {
    let dirs = layout::resolve_dir(path)?;
    if out.exists() {
        let empty = out.is_dir()
            && fs::read_dir(out)
                .map(|mut r| r.next().is_none())
                .unwrap_or(false);
        if !empty {
            return Err(usage(format!(
                "{}: output directory exists and is not empty",
                out.display()
            )));
        }
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let (input, output) = (fs::canonicalize(path)?, fs::canonicalize(out)?);
    if output.starts_with(&input) || input.starts_with(&output) {
        return Err(usage(format!(
            "{}: the output must be outside the input directory",
            out.display()
        )));
    }
    let data_dir = dirs.first().is_some_and(|d| d.path != path);
    let progress = Progress::new(
        layout::total_size(dirs.iter().flat_map(|d| d.files())),
        "repair",
    );
    let mut rep = Report {
        out: Out::default(),
        lost: false,
        progress: &progress,
    };
    let shard_count = guess_shard_count(&dirs);
    for d in &dirs {
        let shard = shard_id_of(d);
        let out_dir = if data_dir {
            out.join(layout::shard_dir_name(shard))
        } else {
            out.to_path_buf()
        };
        let ctx = ShardCtx {
            dir: d,
            out_dir,
            shard,
            shard_count,
        };
        repair_shard(&ctx, &mut rep)?;
    }
    progress.finish();
    let verdict = if rep.lost {
        "DATA LOST (see the LOST lines above)"
    } else {
        "nothing lost"
    };
    rep.out.line(&format!(
        "repaired copy written to {}: {verdict}",
        out.display()
    ));
    rep.out.flush();
    Ok(Status::from_bad(rep.lost))
}
