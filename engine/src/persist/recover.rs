//! Start-up recovery of one shard: the newest sealed snapshot, then every WAL record after its
//! LSN, replayed in LSN order (SPEC.md §8, "Recovery").
//!
//! - A torn tail (what a crash mid-write leaves) at the end of the LAST segment is truncated
//!   away and reported; anywhere else it is corruption.
//! - A corrupt frame or snapshot block stops recovery with the file and byte offset, unless
//!   `skip_corrupt` (`--wal-recovery skip-corrupt`): then it is skipped, counted and reported.
//! - LSNs must continue the snapshot without a gap: a missing record is an error.
//!
//! Invariants: the shard has no WAL attached while records replay (replay logs nothing); each
//! record runs with the timestamp it was logged with, so time-dependent ops reproduce.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use moon_formats::snapshot::graph::{AssembledGraph, GraphAssembler};
use moon_formats::snapshot::{Section, SnapshotReader};
use moon_formats::wal::{Body, SegmentEnd, SegmentReader};

use super::files;
use crate::ir::{ExecCtx, Op};
use crate::shard::Shard;

/// How to recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryOptions {
    /// Skip corrupt records/blocks (logged and counted) instead of refusing to start.
    pub skip_corrupt: bool,
    /// The wall clock at start (entries already expired are not loaded).
    pub now_ms: u64,
    /// The shard count of this process; files of another count are refused.
    pub shard_count: u16,
}

/// What recovery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The snapshot loaded: `(path, lsn, entries loaded)`.
    pub snapshot: Option<(PathBuf, u64, u64)>,
    /// Snapshot entries dropped because their TTL had passed.
    pub expired_skipped: u64,
    /// WAL records replayed.
    pub records: u64,
    /// Replayed commands that answered an error (a sign of divergence; logged).
    pub replay_errors: u64,
    /// A torn tail that was truncated: `(file, offset, reason)`.
    pub torn_tail: Option<(PathBuf, u64, String)>,
    /// Damage skipped under `skip_corrupt`, one line each.
    pub skipped: Vec<String>,
    /// The LSN the next write gets.
    pub next_lsn: u64,
    /// FT indexes whose contents were loaded from the snapshot (section 4), one line each.
    pub search_restored: Vec<String>,
    /// FT index contents that could not be used (rebuilt instead), one line each: logged as
    /// warnings.
    pub search_fallback: Vec<String>,
}

/// Why recovery failed.
#[derive(Debug)]
pub enum RecoveryError {
    /// A file could not be read or truncated.
    Io(PathBuf, io::Error),
    /// Damage at a byte offset.
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset of the damage.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The files were written by a server with another shard count.
    ShardCount {
        /// The file.
        file: PathBuf,
        /// Its shard count.
        found: u16,
        /// Ours.
        expected: u16,
    },
    /// A WAL record is missing.
    Gap {
        /// The file where the next record was expected.
        file: PathBuf,
        /// The LSN expected.
        expected: u64,
        /// The LSN found.
        found: u64,
    },
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            RecoveryError::Corrupt { file, offset, what } => write!(
                f,
                "{}: corrupt at byte offset {offset}: {what} (start with --wal-recovery skip-corrupt to skip damaged records, or repair with moon-tool repair)",
                file.display()
            ),
            RecoveryError::ShardCount {
                file,
                found,
                expected,
            } => write!(
                f,
                "{}: written by a server with {found} shards, this one has {expected}; start with --shards {found}",
                file.display()
            ),
            RecoveryError::Gap {
                file,
                expected,
                found,
            } => write!(
                f,
                "{}: WAL record LSN {expected} is missing (next record found has LSN {found})",
                file.display()
            ),
        }
    }
}

impl std::error::Error for RecoveryError {}

/// Parses a logged command back into an op (moon-resp's command table, supplied by the
/// server so the engine does not depend on a front-end).
pub type ParseFn<'a> = &'a dyn Fn(&[Vec<u8>]) -> Result<Op, String>;

/// Recovers `shard` from the files in `dir` (its shard directory).
pub fn recover(
    shard: &mut Shard,
    dir: &Path,
    opts: RecoveryOptions,
    parse: ParseFn<'_>,
) -> Result<RecoveryReport, RecoveryError> {
    debug_assert!(!shard.wal_enabled(), "replay must not log");
    let list = files::list(dir).map_err(|e| RecoveryError::Io(dir.to_path_buf(), e))?;
    for tmp in &list.partial {
        // An interrupted snapshot: never complete, never needed.
        let _ = std::fs::remove_file(tmp);
    }
    let mut report = RecoveryReport::default();
    let base = load_snapshot(shard, &list.snapshots, opts, &mut report)?;
    let mut last = base;
    let segs = &list.segments;
    for (i, (_, path)) in segs.iter().enumerate() {
        let is_last = i + 1 == segs.len();
        last = replay_segment(shard, path, is_last, last, opts, parse, &mut report)?;
    }
    report.next_lsn = last + 1;
    shard.set_next_lsn(last + 1);
    // Indexes not restored from section 4 (or sent rescanning by the replay) are rebuilt
    // from the recovered hashes by a background scan, as after FT.CREATE.
    shard.search_rebuild();
    Ok(report)
}

fn read(path: &Path) -> Result<Vec<u8>, RecoveryError> {
    std::fs::read(path).map_err(|e| RecoveryError::Io(path.to_path_buf(), e))
}

/// Loads the newest sealed snapshot; returns its LSN (0 without one).
fn load_snapshot(
    shard: &mut Shard,
    snapshots: &[(u64, PathBuf)],
    opts: RecoveryOptions,
    report: &mut RecoveryReport,
) -> Result<u64, RecoveryError> {
    for (lsn, path) in snapshots.iter().rev() {
        let bytes = read(path)?;
        let reader = match SnapshotReader::new(&bytes) {
            Ok(r) => r,
            Err(e) if opts.skip_corrupt => {
                report
                    .skipped
                    .push(format!("{}: unusable snapshot: {e}", path.display()));
                continue;
            }
            Err(e) => {
                return Err(RecoveryError::Corrupt {
                    file: path.clone(),
                    offset: e.offset,
                    what: e.to_string(),
                });
            }
        };
        let h = reader.header();
        if h.shard_count != opts.shard_count {
            return Err(RecoveryError::ShardCount {
                file: path.clone(),
                found: h.shard_count,
                expected: opts.shard_count,
            });
        }
        let mut loaded = 0u64;
        let mut graphs = GraphAssembler::new();
        // Section 4 runs, applied once the whole keyspace is in (they reconcile with it).
        let mut contents = GraphAssembler::for_section(Section::Vector);
        let mut runs: Vec<AssembledGraph> = Vec::new();
        let mut contents_broken = false;
        for block in reader.blocks() {
            let block = match block {
                Ok(b) => b,
                Err(e) => {
                    corrupt_or_skip(path, e.offset, e.to_string(), opts, report)?;
                    break;
                }
            };
            // Section 3 (and a run of graph parts cut by another block) — SPEC §8.2.
            load_graph_part(shard, path, &block, &mut graphs, &mut loaded, opts, report)?;
            match contents.push(&block) {
                Ok(run) => {
                    contents_broken = false;
                    runs.extend(run);
                }
                // One report per broken run (its orphan parts fail too).
                Err(_) if contents_broken => {}
                Err(e) => {
                    contents_broken = true;
                    report.search_fallback.push(format!(
                        "{}: FT index contents (section 4) at offset {}: {e}; rebuilding",
                        path.display(),
                        e.offset
                    ));
                }
            }
            if matches!(block.section, Section::Graph | Section::Vector) {
                continue;
            }
            if block.section == Section::Functions {
                load_functions(shard, path, &block, opts, report)?;
                continue;
            }
            if block.section == Section::Search {
                load_search(shard, path, &block, opts, report)?;
                continue;
            }
            if !matches!(block.section, Section::Keyspace) {
                continue;
            }
            for entry in block.entries() {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        corrupt_or_skip(path, e.offset, e.to_string(), opts, report)?;
                        break;
                    }
                };
                match shard.load_entry(
                    usize::from(block.db),
                    entry.key,
                    entry.expire_ms,
                    entry.value,
                    opts.now_ms,
                ) {
                    Ok(true) => loaded += 1,
                    Ok(false) => report.expired_skipped += 1,
                    Err(e) => corrupt_or_skip(
                        path,
                        block.offset,
                        format!(
                            "entry {:?} does not decode: {e:?}",
                            String::from_utf8_lossy(entry.key)
                        ),
                        opts,
                        report,
                    )?,
                }
            }
        }
        if let Err(e) = graphs.finish(reader.footer().index_offset) {
            corrupt_or_skip(path, e.offset, e.to_string(), opts, report)?;
        }
        if let Err(e) = contents.finish(reader.footer().index_offset) {
            report.search_fallback.push(format!(
                "{}: FT index contents (section 4): {e}; rebuilding",
                path.display()
            ));
        }
        for run in runs {
            load_search_contents(shard, path, &run, opts, report);
        }
        report.snapshot = Some((path.clone(), *lsn, loaded));
        return Ok(*lsn);
    }
    Ok(0)
}

/// Feeds a block to the graph reassembly and loads the graph it completes; a part out of
/// sequence, or a graph that does not decode, is damage at its block's offset.
fn load_graph_part(
    shard: &mut Shard,
    path: &Path,
    block: &moon_formats::snapshot::Block<'_>,
    graphs: &mut GraphAssembler,
    loaded: &mut u64,
    opts: RecoveryOptions,
    report: &mut RecoveryReport,
) -> Result<(), RecoveryError> {
    let graph = match graphs.push(block) {
        Ok(Some(g)) => g,
        Ok(None) => return Ok(()),
        Err(e) => return corrupt_or_skip(path, e.offset, e.to_string(), opts, report),
    };
    match shard.load_graph(
        usize::from(graph.db),
        &graph.key,
        graph.expire_ms,
        &graph.data,
        opts.now_ms,
    ) {
        Ok(true) => *loaded += 1,
        Ok(false) => report.expired_skipped += 1,
        Err(e) => corrupt_or_skip(
            path,
            graph.first_offset,
            format!(
                "graph {:?} does not decode: {e}",
                String::from_utf8_lossy(&graph.key)
            ),
            opts,
            report,
        )?,
    }
    Ok(())
}

/// Restores one index's contents from its section-4 run; anything wrong with them is not
/// damage to the data (the index is derived from the hashes): the index is rebuilt instead,
/// and the reason reported.
fn load_search_contents(
    shard: &mut Shard,
    path: &Path,
    run: &AssembledGraph,
    opts: RecoveryOptions,
    report: &mut RecoveryReport,
) {
    let name = String::from_utf8_lossy(&run.key);
    let started = std::time::Instant::now();
    match shard.load_search_contents(&run.key, &run.data, opts.now_ms) {
        Ok(s) => report.search_restored.push(format!(
            "index {name:?}: contents loaded from the snapshot in {} ms ({} docs kept, {} reindexed, {} removed)",
            started.elapsed().as_millis(),
            s.kept,
            s.reindexed,
            s.removed
        )),
        Err(e) => report.search_fallback.push(format!(
            "{}: FT index {name:?} contents at offset {} do not load ({e}); rebuilding",
            path.display(),
            run.first_offset
        )),
    }
}

/// Loads the FT index definitions of a section-6 block (name = key, encoded definition =
/// value); a record that does not decode, or whose name differs, is damage.
fn load_search(
    shard: &mut Shard,
    path: &Path,
    block: &moon_formats::snapshot::Block<'_>,
    opts: RecoveryOptions,
    report: &mut RecoveryReport,
) -> Result<(), RecoveryError> {
    for entry in block.entries() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return corrupt_or_skip(path, e.offset, e.to_string(), opts, report),
        };
        let loaded = if block.db == crate::search::dict::DICT_RECORD_DB {
            crate::search::dict::decode_dict(entry.value).map(|terms| {
                shard.load_search_dict(bytes::Bytes::copy_from_slice(entry.key), terms);
            })
        } else {
            crate::search::decode_index(entry.value).and_then(|(def, aliases, synonyms)| {
                if def.name != entry.key {
                    return Err("name differs from the record key".into());
                }
                let name = def.name.clone();
                shard.load_search_definition(def, aliases)?;
                shard.load_search_synonyms(&name, synonyms);
                Ok(())
            })
        };
        if let Err(e) = loaded {
            corrupt_or_skip(
                path,
                block.offset,
                format!(
                    "index definition {:?} does not load: {e}",
                    String::from_utf8_lossy(entry.key)
                ),
                opts,
                report,
            )?;
        }
    }
    Ok(())
}

/// Loads the libraries of a section-2 block into the shard's catalog (name = key, code =
/// value); a record whose code does not declare that name is damage.
fn load_functions(
    shard: &mut Shard,
    path: &Path,
    block: &moon_formats::snapshot::Block<'_>,
    opts: RecoveryOptions,
    report: &mut RecoveryReport,
) -> Result<(), RecoveryError> {
    for entry in block.entries() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return corrupt_or_skip(path, e.offset, e.to_string(), opts, report),
        };
        match crate::functions::parse_metadata(entry.value) {
            Ok(meta) if meta.name == entry.key => shard.load_function(
                bytes::Bytes::copy_from_slice(entry.key),
                bytes::Bytes::copy_from_slice(entry.value),
            ),
            other => corrupt_or_skip(
                path,
                block.offset,
                format!(
                    "function library {:?} does not load: {:?}",
                    String::from_utf8_lossy(entry.key),
                    other.err()
                ),
                opts,
                report,
            )?,
        }
    }
    Ok(())
}

fn corrupt_or_skip(
    file: &Path,
    offset: u64,
    what: String,
    opts: RecoveryOptions,
    report: &mut RecoveryReport,
) -> Result<(), RecoveryError> {
    if opts.skip_corrupt {
        report.skipped.push(format!(
            "{}: offset {offset}: {what} (skipped)",
            file.display()
        ));
        Ok(())
    } else {
        Err(RecoveryError::Corrupt {
            file: file.to_path_buf(),
            offset,
            what,
        })
    }
}

/// Replays the records of one segment with LSN > `last`; returns the last LSN applied.
fn replay_segment(
    shard: &mut Shard,
    path: &Path,
    is_last: bool,
    mut last: u64,
    opts: RecoveryOptions,
    parse: ParseFn<'_>,
    report: &mut RecoveryReport,
) -> Result<u64, RecoveryError> {
    let bytes = read(path)?;
    let mut reader = match SegmentReader::new(&bytes) {
        Ok(r) => r,
        Err(_) if is_last && bytes.len() < moon_formats::wal::HEADER_LEN => {
            // Created but never completed its header: nothing was logged in it.
            report.torn_tail = Some((path.to_path_buf(), 0, "incomplete header".into()));
            let _ = std::fs::remove_file(path);
            return Ok(last);
        }
        Err(e) => {
            corrupt_or_skip(path, e.offset, e.to_string(), opts, report)?;
            return Ok(last);
        }
    };
    if reader.header().shard_count != opts.shard_count {
        return Err(RecoveryError::ShardCount {
            file: path.to_path_buf(),
            found: reader.header().shard_count,
            expected: opts.shard_count,
        });
    }
    let first_lsn = reader.header().first_lsn;
    loop {
        while let Some((_, rec)) = reader.next_record() {
            if rec.lsn <= last {
                continue;
            }
            if rec.lsn != last + 1 && rec.lsn == first_lsn && report.records == 0 {
                // The WAL was switched on while running (CONFIG SET appendonly yes), which
                // leaves a deliberate LSN gap, and its first rewrite never completed: the
                // writes before it were never logged, so there is nothing to replay for them.
                report.skipped.push(format!(
                    "{}: the WAL starts at LSN {} but the snapshot ends at {last}: writes made before appendonly was enabled and not in a snapshot are lost",
                    path.display(),
                    rec.lsn
                ));
            } else if rec.lsn != last + 1 && !opts.skip_corrupt {
                return Err(RecoveryError::Gap {
                    file: path.to_path_buf(),
                    expected: last + 1,
                    found: rec.lsn,
                });
            }
            apply_record(shard, rec.ts_ms, rec.db, &rec.body, parse, report);
            last = rec.lsn;
            report.records += 1;
        }
        match reader.end() {
            SegmentEnd::Clean => return Ok(last),
            SegmentEnd::TornTail { offset, reason } if is_last => {
                let offset = *offset;
                let reason = reason.to_string();
                truncate(path, offset)?;
                report.torn_tail = Some((path.to_path_buf(), offset, reason));
                return Ok(last);
            }
            SegmentEnd::TornTail { offset, reason } => {
                let (offset, what) = (
                    *offset,
                    format!("torn record before the last segment: {reason}"),
                );
                corrupt_or_skip(path, offset, what, opts, report)?;
                return Ok(last);
            }
            SegmentEnd::Corrupt(e) => {
                let (offset, what) = (e.offset, e.to_string());
                corrupt_or_skip(path, offset, what, opts, report)?;
                if !reader.resync() {
                    return Ok(last);
                }
            }
        }
    }
}

fn truncate(path: &Path, len: u64) -> Result<(), RecoveryError> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| RecoveryError::Io(path.to_path_buf(), e))?;
    f.set_len(len)
        .and_then(|()| f.sync_all())
        .map_err(|e| RecoveryError::Io(path.to_path_buf(), e))
}

fn apply_record(
    shard: &mut Shard,
    ts: u64,
    db: u16,
    body: &Body,
    parse: ParseFn<'_>,
    report: &mut RecoveryReport,
) {
    let mut run = |db: u16, argv: &[Vec<u8>]| {
        let ctx = ExecCtx {
            db: usize::from(db),
            now_ms: ts,
            no_touch: true,
        };
        match parse(argv) {
            Ok(op) => {
                if shard.apply(&ctx, &op).is_err() {
                    report.replay_errors += 1;
                }
            }
            Err(_) => report.replay_errors += 1,
        }
    };
    match body {
        Body::Command(argv) => run(db, argv),
        Body::Batch(cmds) => {
            for (db, argv) in cmds {
                run(*db, argv);
            }
        }
    }
}
