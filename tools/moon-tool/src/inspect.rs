//! `moon-tool inspect`: a human-readable description of snapshots and WAL segments (headers,
//! versions, LSN ranges, counts per db and per value type, sizes, completeness), plus a summary
//! line per shard.
//!
//! Invariant: inspect reads like recovery does (a segment is read up to its first corrupt
//! region); it reports damage it meets in passing and exits 1 then, but `verify` is the full
//! check.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use moon_formats::snapshot::Section;

use crate::graph;
use crate::layout::{self, FileKind, ShardDir, Target, map_file};
use crate::progress::{Out, Progress};
use crate::snap;
use crate::text::{iso8601, quote};
use crate::value::{TYPE_NAMES, payload_type};
use crate::verify::describe_region;
use crate::walk;
use crate::{Status, value};

/// Per-db statistics of a snapshot.
#[derive(Default)]
struct DbStats {
    entries: u64,
    by_type: BTreeMap<&'static str, u64>,
    with_ttl: u64,
}

fn type_counts(by_type: &BTreeMap<&'static str, u64>) -> String {
    let mut parts: Vec<String> = TYPE_NAMES
        .iter()
        .filter_map(|t| by_type.get(t).map(|n| format!("{t} {n}")))
        .collect();
    if let Some(n) = by_type.get("unknown") {
        parts.push(format!("unknown {n}"));
    }
    if parts.is_empty() {
        return "none".to_owned();
    }
    parts.join(", ")
}

struct SnapInfo {
    lsn: Option<u64>,
    complete: bool,
    damaged: bool,
}

fn inspect_snapshot(
    path: &Path,
    tmp: bool,
    out: &mut Out,
    progress: &Progress,
) -> Result<SnapInfo> {
    let bytes = map_file(path)?;
    progress.inc(bytes.len() as u64);
    let s = snap::salvage(&bytes);
    let mut damaged = false;
    let head = match &s.header {
        Ok(h) => format!(
            "snapshot v{}, shard {} of {}, LSN {}, created {}",
            h.version,
            h.shard_id,
            h.shard_count,
            h.lsn,
            iso8601(h.created_ms)
        ),
        Err(e) => {
            damaged = true;
            format!("snapshot with an unreadable header ({e})")
        }
    };
    let state = match (&s.complete, tmp) {
        (Ok(_), _) => "complete".to_owned(),
        (Err(_), true) => "incomplete (.tmp: being written or abandoned; never loaded)".to_owned(),
        (Err(e), false) => {
            damaged = true;
            format!("INCOMPLETE: {e}; recovery will not load it")
        }
    };
    out.line(&format!(
        "{}: {head}, {} bytes, {state}",
        path.display(),
        bytes.len()
    ));
    let mut sections: BTreeMap<String, u64> = BTreeMap::new();
    let mut dbs: BTreeMap<u16, DbStats> = BTreeMap::new();
    let mut totals: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut key_bytes, mut value_bytes, mut entries, mut bad_values) = (0u64, 0u64, 0u64, 0u64);
    let (mut libraries, mut code_bytes, mut bad_libraries) = (0u64, 0u64, 0u64);
    for b in &s.blocks {
        *sections.entry(snap::section_name(b.section)).or_default() += 1;
        if b.section == Section::Functions {
            let (list, err) = snap::entries(b);
            if err.is_some() {
                damaged = true;
            }
            for pe in list {
                libraries += 1;
                code_bytes += pe.entry.value.len() as u64;
                if value::check_function(pe.entry.key, pe.entry.expire_ms, pe.entry.value).is_err()
                {
                    bad_libraries += 1;
                }
            }
            continue;
        }
        if b.section != Section::Keyspace {
            continue;
        }
        let (list, err) = snap::entries(b);
        if err.is_some() {
            damaged = true;
        }
        let st = dbs.entry(b.db).or_default();
        for pe in list {
            let ty = payload_type(pe.entry.value);
            st.entries += 1;
            *st.by_type.entry(ty).or_default() += 1;
            *totals.entry(ty).or_default() += 1;
            if pe.entry.expire_ms != 0 {
                st.with_ttl += 1;
            }
            key_bytes += pe.entry.key.len() as u64;
            value_bytes += pe.entry.value.len() as u64;
            entries += 1;
            if value::check(pe.entry.value).is_err() {
                bad_values += 1;
            }
        }
    }
    let end = s
        .complete
        .as_ref()
        .map_or(bytes.len() as u64, |f| f.index_offset);
    let mut graph_lines = Vec::new();
    for run in graph::runs(&s.blocks, end) {
        let head = format!(
            "graph db {} key {} at offset {} ({} block{}, {} bytes)",
            run.db,
            quote(&run.key),
            run.offset,
            run.blocks.len(),
            if run.blocks.len() == 1 { "" } else { "s" },
            run.bytes
        );
        match &run.outcome {
            Ok((summary, _)) => {
                let st = dbs.entry(run.db).or_default();
                st.entries += 1;
                *st.by_type.entry("graph").or_default() += 1;
                *totals.entry("graph").or_default() += 1;
                if run.expire_ms != 0 {
                    st.with_ttl += 1;
                }
                key_bytes += run.key.len() as u64;
                value_bytes += run.bytes;
                entries += 1;
                graph_lines.push(format!("  {head}: {}", graph::describe(summary)));
            }
            Err((at, what)) => {
                damaged = true;
                graph_lines.push(format!("  {head}: DAMAGED at offset {at}: {what}"));
            }
        }
    }
    for run in crate::search::runs(&s.blocks, end) {
        let head = format!(
            "index {} contents at offset {} ({} block{}, {} bytes)",
            quote(&run.name),
            run.offset,
            run.blocks,
            if run.blocks == 1 { "" } else { "s" },
            run.bytes
        );
        match &run.outcome {
            Ok(summary) => {
                graph_lines.push(format!("  {head}: {}", crate::search::describe(summary)))
            }
            Err((at, what)) => {
                damaged = true;
                graph_lines.push(format!("  {head}: DAMAGED at offset {at}: {what}"));
            }
        }
    }
    let secs: Vec<String> = sections.iter().map(|(k, v)| format!("{k} {v}")).collect();
    out.line(&format!(
        "  blocks: {} ({}), entries: {entries}, key bytes: {key_bytes}, value bytes: {value_bytes}",
        s.blocks.len(),
        if secs.is_empty() {
            "none".to_owned()
        } else {
            secs.join(", ")
        }
    ));
    out.line(&format!(
        "  functions: {libraries} librar{}, code bytes: {code_bytes}",
        if libraries == 1 { "y" } else { "ies" }
    ));
    if bad_libraries > 0 {
        damaged = true;
        out.line(&format!(
            "  {bad_libraries} function librar{} do not load (shebang)",
            if bad_libraries == 1 { "y" } else { "ies" }
        ));
    }
    if let Ok(f) = &s.complete
        && f.entry_count != entries + libraries
    {
        out.line(&format!(
            "  footer says {} entries in {} blocks",
            f.entry_count, f.block_count
        ));
    }
    out.line(&format!("  types: {}", type_counts(&totals)));
    for (db, st) in &dbs {
        out.line(&format!(
            "  db {db}: {} entries ({}), {} with TTL",
            st.entries,
            type_counts(&st.by_type),
            st.with_ttl
        ));
    }
    for line in &graph_lines {
        out.line(line);
    }
    if bad_values > 0 {
        damaged = true;
        out.line(&format!(
            "  {bad_values} value(s) fail their DUMP checksum or do not decode"
        ));
    }
    for r in &s.bad {
        damaged = true;
        out.line(&format!("  {}", describe_region(r)));
    }
    Ok(SnapInfo {
        lsn: s.header.as_ref().ok().map(|h| h.lsn),
        complete: s.complete.is_ok() && s.header.is_ok(),
        damaged,
    })
}

struct WalInfo {
    lsns: Option<(u64, u64)>,
    records: u64,
    records_after: u64,
    damaged: bool,
}

fn inspect_segment(
    path: &Path,
    last: bool,
    after: u64,
    out: &mut Out,
    progress: &Progress,
) -> Result<WalInfo> {
    let bytes = map_file(path)?;
    progress.inc(bytes.len() as u64);
    let mut records_after = 0u64;
    let w = match walk::walk(&bytes, false, |_, r| {
        if r.lsn > after {
            records_after += 1;
        }
    }) {
        Ok(w) => w,
        Err(e) => {
            out.line(&format!(
                "{}: WAL segment with an unreadable header ({e}), {} bytes",
                path.display(),
                bytes.len()
            ));
            return Ok(WalInfo {
                lsns: None,
                records: 0,
                records_after: 0,
                damaged: true,
            });
        }
    };
    let h = &w.header;
    out.line(&format!(
        "{}: WAL segment v{}, shard {} of {}, first LSN {}, created {}, {} bytes",
        path.display(),
        h.version,
        h.shard_id,
        h.shard_count,
        h.first_lsn,
        iso8601(h.created_ms),
        w.len
    ));
    let range = match w.lsns {
        Some((a, b)) => format!("LSN {a}..={b}"),
        None => "no records".to_owned(),
    };
    let times = match w.times {
        Some((a, b)) => format!(", time {} .. {}", iso8601(a), iso8601(b)),
        None => String::new(),
    };
    out.line(&format!(
        "  records: {} ({} commands, {} batches), {range}{times}",
        w.records,
        w.records - w.batches,
        w.batches
    ));
    let mut damaged = w.has_corruption();
    let end = match (&w.end, w.corrupt.first()) {
        (_, Some(c)) => format!(
            "corrupt at offset {} ({}); run verify for details",
            c.error.offset, c.error.kind
        ),
        (moon_formats::wal::SegmentEnd::TornTail { offset, reason }, None) => {
            if !last {
                damaged = true;
            }
            format!(
                "torn at offset {offset} ({reason}; {} bytes){}",
                w.len - offset,
                if last {
                    ""
                } else {
                    " in a segment that is not the last one"
                }
            )
        }
        _ => "clean".to_owned(),
    };
    out.line(&format!("  end: {end}"));
    Ok(WalInfo {
        lsns: w.lsns,
        records: w.records,
        records_after,
        damaged,
    })
}

fn inspect_shard(d: &ShardDir, out: &mut Out, progress: &Progress) -> Result<bool> {
    let mut damaged = false;
    let mut newest: Option<u64> = None;
    for (_, p) in &d.snaps {
        let i = inspect_snapshot(p, false, out, progress)?;
        damaged |= i.damaged;
        if i.complete {
            newest = newest.max(i.lsn);
        }
    }
    for p in &d.tmps {
        inspect_snapshot(p, true, out, progress)?;
    }
    let after = newest.unwrap_or(0);
    let (mut records, mut records_after) = (0u64, 0u64);
    let mut range: Option<(u64, u64)> = None;
    for (i, (_, p)) in d.wals.iter().enumerate() {
        let w = inspect_segment(p, i + 1 == d.wals.len(), after, out, progress)?;
        damaged |= w.damaged;
        records += w.records;
        records_after += w.records_after;
        if let Some((a, b)) = w.lsns {
            range = Some(range.map_or((a, b), |(x, _)| (x, b)));
        }
    }
    let snap = match newest {
        Some(l) => format!("newest complete snapshot LSN {l}"),
        None => "no complete snapshot".to_owned(),
    };
    let wal = match range {
        Some((a, b)) => format!("LSN {a}..={b}"),
        None => "no records".to_owned(),
    };
    out.line(&format!(
        "{}: {} snapshot(s), {snap}; {} WAL segment(s), {records} records ({wal}), {records_after} after the snapshot{}",
        d.label(),
        d.snaps.len(),
        d.wals.len(),
        if damaged { "; DAMAGED" } else { "" }
    ));
    Ok(damaged)
}

/// Runs `inspect`.
pub fn run(path: &Path) -> Result<Status> {
    let mut out = Out::default();
    let damaged = match layout::resolve(path)? {
        Target::File(p, kind) => {
            let progress =
                Progress::new(layout::total_size(std::iter::once(p.as_path())), "inspect");
            let d = match kind {
                FileKind::Wal => inspect_segment(&p, true, 0, &mut out, &progress)?.damaged,
                FileKind::Snapshot => inspect_snapshot(&p, false, &mut out, &progress)?.damaged,
                FileKind::SnapshotTmp => inspect_snapshot(&p, true, &mut out, &progress)?.damaged,
            };
            progress.finish();
            d
        }
        Target::Shards(dirs) => {
            let progress = Progress::new(
                layout::total_size(dirs.iter().flat_map(|d| d.files())),
                "inspect",
            );
            let mut damaged = false;
            for d in &dirs {
                damaged |= inspect_shard(d, &mut out, &progress)?;
            }
            progress.finish();
            damaged
        }
    };
    out.flush();
    Ok(Status::from_bad(damaged))
}
