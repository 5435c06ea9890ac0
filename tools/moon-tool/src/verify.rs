//! `moon-tool verify`: every checksum and structural invariant of a data directory, shard
//! directory or single file, one line per finding: `<file>:<offset>: error|warning|note: <text>`.
//!
//! Checked: segment headers (magic, version, CRC, the file name's LSN, the shard id of the
//! directory), every frame (CRC, kind, payload shape) and LSN continuity within a segment and
//! across the segments of a shard, snapshot headers, every block CRC, the index and footer CRC,
//! every keyspace entry's framing, every DUMP payload's CRC-64 and decodability, every graph's
//! run of section-3 blocks (in sequence, complete) and that it decodes, and that the WAL
//! continues the newest complete snapshot (first segment starts at or before LSN + 1; at LSN 1
//! without a snapshot).
//!
//! Invariant: only `error` findings make the exit code 1. A torn tail at the end of the last
//! segment of a shard is what a crash leaves: a `warning`. Abandoned `.snap.tmp` files and
//! unknown sections are `note`s.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;
use moon_formats::snapshot::{Section, parse_snapshot_file_name};
use moon_formats::wal::parse_segment_file_name;

use crate::layout::{self, FileKind, ShardDir, Target, map_file};
use crate::progress::{Out, Progress};
use crate::snap::{self, BadRegion};
use crate::text::quote;
use crate::walk::{self, SegWalk};
use crate::{Status, value};

/// Severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Damage: exit 1.
    Error,
    /// Expected after a crash (torn tail of the last segment).
    Warning,
    /// Informational.
    Note,
}

/// Collects and prints findings.
pub struct Findings {
    out: Out,
    /// Errors seen.
    pub errors: u64,
    /// Warnings seen.
    pub warnings: u64,
}

impl Findings {
    fn new() -> Findings {
        Findings {
            out: Out::default(),
            errors: 0,
            warnings: 0,
        }
    }

    fn add(&mut self, level: Level, file: &Path, offset: Option<u64>, msg: &str) {
        let word = match level {
            Level::Error => {
                self.errors += 1;
                "error"
            }
            Level::Warning => {
                self.warnings += 1;
                "warning"
            }
            Level::Note => "note",
        };
        let line = match offset {
            Some(o) => format!("{}:{o}: {word}: {msg}", file.display()),
            None => format!("{}: {word}: {msg}", file.display()),
        };
        self.out.line(&line);
    }
}

/// Describes what a bad snapshot region held.
pub fn describe_region(r: &BadRegion) -> String {
    let what = match &r.claimed {
        Some(c) => {
            let dbs: BTreeSet<u16> = c.blocks.iter().map(|&(db, _)| db).collect();
            let dbs: Vec<String> = dbs.iter().map(u16::to_string).collect();
            format!(
                "{} entr{} of db {}{}",
                c.entries(),
                if c.entries() == 1 { "y" } else { "ies" },
                dbs.join(","),
                if c.verified {
                    ""
                } else {
                    " (per an unverified header/index)"
                }
            )
        }
        None => "no intact block header: entry count unknown".to_owned(),
    };
    format!(
        "unreadable block region, bytes {}..{} ({}): {what}",
        r.start, r.end, r.error
    )
}

/// Verifies one snapshot file; returns its LSN if it is complete (recovery could load it).
fn verify_snapshot(
    path: &Path,
    shard: Option<u16>,
    tmp: bool,
    f: &mut Findings,
    progress: &Progress,
) -> Result<Option<u64>> {
    let bytes = map_file(path)?;
    progress.inc(bytes.len() as u64);
    if tmp {
        f.add(
            Level::Note,
            path,
            None,
            "snapshot still being written or abandoned by a crash (.tmp): never loaded, not checked",
        );
        return Ok(None);
    }
    let s = snap::salvage(&bytes);
    let mut complete = s.complete.is_ok();
    match &s.header {
        Err(e) => {
            f.add(
                Level::Error,
                path,
                Some(e.offset),
                &format!("snapshot header: {}", e.kind),
            );
            complete = false;
        }
        Ok(h) => {
            let name_lsn = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(parse_snapshot_file_name);
            if let Some(n) = name_lsn
                && n != h.lsn
            {
                f.add(
                    Level::Error,
                    path,
                    Some(0),
                    &format!("file name says LSN {n}, header says {}", h.lsn),
                );
            }
            if let Some(sh) = shard
                && sh != h.shard_id
            {
                f.add(
                    Level::Error,
                    path,
                    Some(0),
                    &format!(
                        "header says shard {} but the file is in shard {sh}'s directory",
                        h.shard_id
                    ),
                );
            }
        }
    }
    if let Err(e) = &s.complete {
        f.add(
            Level::Error,
            path,
            Some(e.offset),
            &format!(
                "snapshot incomplete or footer damaged ({}): recovery will not load it",
                e.kind
            ),
        );
    }
    for r in &s.bad {
        f.add(Level::Error, path, Some(r.start), &describe_region(r));
    }
    let end = s
        .complete
        .as_ref()
        .map_or(bytes.len() as u64, |ft| ft.index_offset);
    for run in crate::graph::runs(&s.blocks, end) {
        if let Err((at, what)) = &run.outcome {
            f.add(
                Level::Error,
                path,
                Some(*at),
                &format!(
                    "graph db {} key {} (blocks from offset {}): {what}",
                    run.db,
                    quote(&run.key),
                    run.offset
                ),
            );
        }
    }
    for run in crate::search::runs(&s.blocks, end) {
        if let Err((at, what)) = &run.outcome {
            f.add(
                Level::Error,
                path,
                Some(*at),
                &format!(
                    "FT index {} contents (blocks from offset {}): {what} (recovery rebuilds the index)",
                    quote(&run.name),
                    run.offset
                ),
            );
        }
    }
    for b in &s.blocks {
        if b.section == Section::Graph || b.section == Section::Vector {
            continue;
        }
        if b.section == Section::Functions {
            let (libs, err) = snap::entries(b);
            if let Some(e) = err {
                f.add(
                    Level::Error,
                    path,
                    Some(e.offset),
                    &format!("functions block at {}: {}", b.offset, e.kind),
                );
            }
            for pe in &libs {
                if let Err(e) =
                    value::check_function(pe.entry.key, pe.entry.expire_ms, pe.entry.value)
                {
                    f.add(
                        Level::Error,
                        path,
                        Some(pe.offset),
                        &format!("function library {}: {e}", quote(pe.entry.key)),
                    );
                }
            }
            continue;
        }
        if b.section != Section::Keyspace {
            f.add(
                Level::Note,
                path,
                Some(b.offset),
                &format!(
                    "{} section block ({} bytes): CRC verified, contents not checked",
                    snap::section_name(b.section),
                    b.payload.len()
                ),
            );
            continue;
        }
        let (entries, err) = snap::entries(b);
        if let Some(e) = err {
            f.add(
                Level::Error,
                path,
                Some(e.offset),
                &format!("keyspace block at {}: {}", b.offset, e.kind),
            );
        }
        for pe in &entries {
            if let Err(e) = value::check(pe.entry.value) {
                f.add(
                    Level::Error,
                    path,
                    Some(pe.offset),
                    &format!("db {} key {}: {e}", b.db, quote(pe.entry.key)),
                );
            }
        }
    }
    Ok(match (&s.header, complete) {
        (Ok(h), true) => Some(h.lsn),
        _ => None,
    })
}

fn describe_corrupt(c: &walk::CorruptRegion, len: u64) -> String {
    match c.resumed {
        Some((off, lsn)) => {
            let lost = c.expected_lsn..lsn;
            let lsns = if lost.is_empty() {
                "no LSN skipped".to_owned()
            } else if lost.end - lost.start == 1 {
                format!("LSN {} lost", lost.start)
            } else {
                format!("LSNs {}..={} lost", lost.start, lost.end - 1)
            };
            format!(
                "{}; next intact frame at offset {off} (LSN {lsn}); bytes {}..{off} unreadable, {lsns}",
                c.error.kind, c.error.offset
            )
        }
        None => format!(
            "{}; no intact frame after it: bytes {}..{len} unreadable, records from LSN {} on lost",
            c.error.kind, c.error.offset, c.expected_lsn
        ),
    }
}

/// Verifies one segment; `last` says whether a torn tail is acceptable.
fn verify_segment(
    path: &Path,
    shard: Option<u16>,
    last: bool,
    f: &mut Findings,
    progress: &Progress,
) -> Result<Option<SegWalk>> {
    let bytes = map_file(path)?;
    progress.inc(bytes.len() as u64);
    let w = match walk::walk(&bytes, true, |_, _| {}) {
        Ok(w) => w,
        Err(e) => {
            f.add(
                Level::Error,
                path,
                Some(e.offset),
                &format!("WAL segment header: {}", e.kind),
            );
            return Ok(None);
        }
    };
    let name_lsn = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_segment_file_name);
    if let Some(n) = name_lsn
        && n != w.header.first_lsn
    {
        f.add(
            Level::Error,
            path,
            Some(0),
            &format!(
                "file name says first LSN {n}, header says {}",
                w.header.first_lsn
            ),
        );
    }
    if let Some(sh) = shard
        && sh != w.header.shard_id
    {
        f.add(
            Level::Error,
            path,
            Some(0),
            &format!(
                "header says shard {} but the file is in shard {sh}'s directory",
                w.header.shard_id
            ),
        );
    }
    for c in &w.corrupt {
        f.add(
            Level::Error,
            path,
            Some(c.error.offset),
            &describe_corrupt(c, w.len),
        );
    }
    if let Some((off, reason)) = w.torn() {
        let msg = format!(
            "torn tail ({reason}): bytes {off}..{} (the record for LSN {} was never completed)",
            w.len, w.next_lsn
        );
        if last {
            f.add(
                Level::Warning,
                path,
                Some(off),
                &format!("{msg}; normal after a crash, recovery truncates it"),
            );
        } else {
            f.add(
                Level::Error,
                path,
                Some(off),
                &format!("{msg}; but this is not the shard's last segment"),
            );
        }
    }
    Ok(Some(w))
}

fn verify_shard(
    d: &ShardDir,
    counts: &mut BTreeSet<u16>,
    f: &mut Findings,
    progress: &Progress,
) -> Result<()> {
    let mut newest_complete: Option<u64> = None;
    for (_, p) in &d.snaps {
        if let Some(lsn) = verify_snapshot(p, d.shard, false, f, progress)? {
            newest_complete = newest_complete.max(Some(lsn));
        }
    }
    for p in &d.tmps {
        verify_snapshot(p, d.shard, true, f, progress)?;
    }
    let mut prev: Option<(u64, &Path)> = None;
    let mut first_lsn: Option<(u64, &Path)> = None;
    for (i, (name_lsn, p)) in d.wals.iter().enumerate() {
        let last = i + 1 == d.wals.len();
        let w = verify_segment(p, d.shard, last, f, progress)?;
        let start = w.as_ref().map_or(*name_lsn, |w| w.header.first_lsn);
        if first_lsn.is_none() {
            first_lsn = Some((start, p));
        }
        if let Some((expected, prev_path)) = prev
            && w.is_some()
            && start != expected
        {
            let what = if start == expected + 1 {
                format!("LSN {expected} missing between segments")
            } else if start > expected {
                format!("LSNs {expected}..={} missing between segments", start - 1)
            } else {
                format!("segments overlap (LSN {start} already used)")
            };
            f.add(
                Level::Error,
                p,
                Some(0),
                &format!(
                    "starts at LSN {start}, but {} ends before LSN {expected}: {what}",
                    prev_path.display()
                ),
            );
        }
        if let Some(w) = &w {
            counts.insert(w.header.shard_count);
        }
        prev = w.map(|w| (w.next_lsn, p.as_path()));
    }
    let base = newest_complete.unwrap_or(0);
    if let Some((start, p)) = first_lsn
        && start > base + 1
    {
        let covered = match newest_complete {
            Some(s) => format!("the newest complete snapshot covers LSNs up to {s}"),
            None => "there is no complete snapshot".to_owned(),
        };
        f.add(
            Level::Error,
            p,
            Some(0),
            &format!(
                "the WAL starts at LSN {start} but {covered}: LSNs {}..={} are missing",
                base + 1,
                start - 1
            ),
        );
    }
    Ok(())
}

/// Runs `verify`.
pub fn run(path: &Path) -> Result<Status> {
    let mut f = Findings::new();
    let mut files = 0usize;
    match layout::resolve(path)? {
        Target::File(p, kind) => {
            let progress =
                Progress::new(layout::total_size(std::iter::once(p.as_path())), "verify");
            files = 1;
            match kind {
                FileKind::Wal => {
                    verify_segment(&p, None, true, &mut f, &progress)?;
                }
                FileKind::Snapshot => {
                    verify_snapshot(&p, None, false, &mut f, &progress)?;
                }
                FileKind::SnapshotTmp => {
                    verify_snapshot(&p, None, true, &mut f, &progress)?;
                }
            }
            progress.finish();
        }
        Target::Shards(dirs) => {
            let total = layout::total_size(dirs.iter().flat_map(|d| d.files()));
            let progress = Progress::new(total, "verify");
            let mut counts = BTreeSet::new();
            for d in &dirs {
                files += d.wals.len() + d.snaps.len() + d.tmps.len();
                verify_shard(d, &mut counts, &mut f, &progress)?;
            }
            progress.finish();
            if counts.len() > 1 {
                let list: Vec<String> = counts.iter().map(u16::to_string).collect();
                f.add(
                    Level::Warning,
                    path,
                    None,
                    &format!(
                        "WAL segments were written by servers with different shard counts ({})",
                        list.join(", ")
                    ),
                );
            }
        }
    }
    let verdict = if f.errors > 0 { "DAMAGED" } else { "OK" };
    let summary = format!(
        "{verdict}: {files} file(s) checked, {} error(s), {} warning(s)",
        f.errors, f.warnings
    );
    f.out.line(&summary);
    f.out.flush();
    Ok(Status::from_bad(f.errors > 0))
}
