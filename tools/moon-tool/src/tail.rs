//! `moon-tool wal tail`: the last N records of each shard's WAL, one readable line per record:
//! `LSN TIME DB COMMAND ARGS...` (TIME in ISO-8601 UTC, arguments quoted like redis-cli). A batch
//! prints `LSN TIME DB MULTI`, one indented `DB COMMAND ARGS...` line per command, then `EXEC`.
//!
//! Invariant: segments are read from the newest backwards and only as many as needed to collect
//! N records, so tailing a long WAL costs the size of its last segments.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use anyhow::Result;
use moon_formats::wal::{Body, Record};

use crate::Status;
use crate::layout::{self, FileKind, Target, map_file};
use crate::progress::{Out, Progress};
use crate::text::{iso8601, quote_argv};
use crate::walk;

/// The readable lines of one record.
pub fn format_record(rec: &Record) -> Vec<String> {
    let head = format!("{} {} {}", rec.lsn, iso8601(rec.ts_ms), rec.db);
    match &rec.body {
        Body::Command(argv) => vec![format!("{head} {}", quote_argv(argv))],
        Body::Batch(cmds) => {
            let mut lines = Vec::with_capacity(cmds.len() + 2);
            lines.push(format!("{head} MULTI"));
            for (db, argv) in cmds {
                lines.push(format!("    {db} {}", quote_argv(argv)));
            }
            lines.push("    EXEC".to_owned());
            lines
        }
    }
}

/// The last `n` records of the given segments (in LSN order); `damaged` when a segment could not
/// be read to its end (torn tails of the last segment excepted).
fn last_records(
    segments: &[PathBuf],
    n: usize,
    progress: &Progress,
) -> Result<(Vec<Record>, bool)> {
    let mut collected: VecDeque<Record> = VecDeque::new();
    let mut damaged = false;
    for (i, p) in segments.iter().enumerate().rev() {
        if collected.len() >= n {
            break;
        }
        let bytes = map_file(p)?;
        progress.inc(bytes.len() as u64);
        let mut recs: VecDeque<Record> = VecDeque::new();
        // Resync: show every intact record, with a note about each unreadable region.
        let w = match walk::walk(&bytes, true, |_, r| {
            recs.push_back(r);
            if recs.len() > n {
                recs.pop_front();
            }
        }) {
            Ok(w) => w,
            Err(e) => {
                progress.println(&format!("moon-tool: {}: {e}", p.display()));
                damaged = true;
                continue;
            }
        };
        for c in &w.corrupt {
            damaged = true;
            let skipped = match c.lost_lsns() {
                Some(r) if r.is_empty() => "no record skipped".to_owned(),
                Some(r) => format!("LSNs {}..={} unreadable", r.start, r.end - 1),
                None => "the rest of the segment is unreadable".to_owned(),
            };
            progress.println(&format!(
                "moon-tool: {}:{}: {} ({skipped})",
                p.display(),
                c.error.offset,
                c.error.kind
            ));
        }
        if let Some((off, reason)) = w.torn() {
            if i + 1 != segments.len() {
                damaged = true;
            }
            progress.println(&format!(
                "moon-tool: {}:{off}: torn tail ({reason})",
                p.display()
            ));
        }
        // Older segments go in front of what newer ones gave.
        while let Some(r) = recs.pop_back() {
            if collected.len() >= n {
                break;
            }
            collected.push_front(r);
        }
    }
    Ok((collected.into(), damaged))
}

/// Runs `wal tail`.
pub fn run(path: &Path, n: usize) -> Result<Status> {
    let mut out = Out::default();
    let (groups, label): (Vec<(String, Vec<PathBuf>)>, bool) = match layout::resolve(path)? {
        Target::File(p, FileKind::Wal) => (vec![(String::new(), vec![p])], false),
        Target::File(p, _) => {
            return Err(anyhow::Error::new(layout::UsageError(format!(
                "{}: not a WAL segment",
                p.display()
            ))));
        }
        Target::Shards(dirs) => {
            let many = dirs.len() > 1;
            (
                dirs.iter()
                    .map(|d| (d.label(), d.wals.iter().map(|(_, p)| p.clone()).collect()))
                    .collect(),
                many,
            )
        }
    };
    let total = layout::total_size(
        groups
            .iter()
            .flat_map(|(_, v)| v.iter().map(PathBuf::as_path)),
    );
    let progress = Progress::new(total, "wal tail");
    let mut damaged = false;
    for (name, segs) in &groups {
        if label {
            out.line(&format!("== {name} =="));
        }
        let (recs, bad) = last_records(segs, n, &progress)?;
        damaged |= bad;
        for r in &recs {
            for line in format_record(r) {
                out.line(&line);
            }
        }
    }
    progress.finish();
    out.flush();
    Ok(Status::from_bad(damaged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines() {
        let rec = Record {
            lsn: 7,
            ts_ms: 1_700_000_000_123,
            db: 2,
            body: Body::Command(vec![b"set".to_vec(), b"k".to_vec(), b"a b\x00".to_vec()]),
        };
        assert_eq!(
            format_record(&rec),
            vec!["7 2023-11-14T22:13:20.123Z 2 SET k \"a b\\x00\"".to_owned()]
        );
        let rec = Record {
            lsn: 8,
            ts_ms: 0,
            db: 0,
            body: Body::Batch(vec![
                (0, vec![b"INCR".to_vec(), b"n".to_vec()]),
                (1, vec![b"DEL".to_vec(), b"x".to_vec()]),
            ]),
        };
        assert_eq!(
            format_record(&rec),
            vec![
                "8 1970-01-01T00:00:00.000Z 0 MULTI".to_owned(),
                "    0 INCR n".to_owned(),
                "    1 DEL x".to_owned(),
                "    EXEC".to_owned(),
            ]
        );
    }
}
