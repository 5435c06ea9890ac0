//! `moon-tool dump`: snapshot entries and WAL records as JSON lines or as RESP commands.
//!
//! For a directory the output is, per shard, what recovery would load: the newest complete
//! snapshot's entries, then the WAL records after its LSN, in LSN order, stopping where recovery
//! would stop (a corrupt frame, an LSN gap). Piped into `redis-cli --pipe`, the RESP form rebuilds
//! the dataset: entries become `RESTORE key <abs ms> <payload> ABSTTL REPLACE` (0 = no TTL),
//! records are sent as logged (`SELECT` whenever the db changes, batches inside MULTI/EXEC).
//!
//! Invariants: the RESP stream tracks the connection's selected db across shards and batches
//! (a SELECT queued inside MULTI takes effect at EXEC), so every command runs in its record's db;
//! damage is reported on stderr and makes the exit code 1, never corrupts stdout.

use std::path::Path;

use anyhow::Result;
use moon_formats::snapshot::{Section, SnapshotReader};
use moon_formats::wal::{Body, Record};
use serde_json::{Value, json};

use crate::layout::{self, FileKind, ShardDir, Target, map_file};
use crate::progress::{Out, Progress};
use crate::snap::{self, Salvage};
use crate::text::{json_bytes, quote, resp_command};
use crate::verify::describe_region;
use crate::walk;
use crate::{Format, Status, value};

struct Dumper<'p> {
    out: Out,
    format: Format,
    db: Option<u16>,
    /// The db the RESP connection has selected (None: not known yet).
    selected: Option<u16>,
    damaged: bool,
    progress: &'p Progress,
    scratch: Vec<u8>,
}

impl Dumper<'_> {
    fn problem(&mut self, msg: &str) {
        self.damaged = true;
        self.progress.println(&format!("moon-tool: {msg}"));
    }

    fn select(&mut self, db: u16) {
        if self.selected != Some(db) {
            let d = db.to_string();
            self.send(&["SELECT".as_bytes(), d.as_bytes()]);
            self.selected = Some(db);
        }
    }

    fn send<A: AsRef<[u8]>>(&mut self, argv: &[A]) {
        self.scratch.clear();
        resp_command(&mut self.scratch, argv);
        self.out.bytes(&self.scratch);
    }

    fn entry(
        &mut self,
        file: &Path,
        offset: u64,
        db: u16,
        key: &[u8],
        expire_ms: u64,
        payload: &[u8],
    ) {
        if self.db.is_some_and(|want| want != db) {
            return;
        }
        match self.format {
            Format::Json => {
                let mut obj = json!({
                    "db": db,
                    "key": json_bytes(key),
                    "type": value::payload_type(payload),
                    "expire_ms": expire_ms,
                });
                match value::to_json(payload) {
                    Ok(v) => obj["value"] = v,
                    Err(e) => {
                        self.problem(&format!(
                            "{}:{offset}: db {db} key {}: {e}",
                            file.display(),
                            quote(key)
                        ));
                        obj["value"] = Value::Null;
                        obj["error"] = Value::String(e.to_string());
                        obj["payload"] = json!({ "base64": crate::text::base64(payload) });
                    }
                }
                self.out.line(&obj.to_string());
            }
            Format::Resp => {
                if let Err(e) = value::check(payload) {
                    self.problem(&format!(
                        "{}:{offset}: db {db} key {}: {e}; not restored",
                        file.display(),
                        quote(key)
                    ));
                    return;
                }
                self.select(db);
                let exp = expire_ms.to_string();
                self.send(&[
                    b"RESTORE".as_slice(),
                    key,
                    exp.as_bytes(),
                    payload,
                    b"ABSTTL",
                    b"REPLACE",
                ]);
            }
        }
    }

    /// One function library of a snapshot: `{"function_library", "code"}` or `FUNCTION LOAD
    /// REPLACE <code>`. Libraries belong to no database, so `--db` does not filter them.
    fn function(&mut self, file: &Path, offset: u64, name: &[u8], expire_ms: u64, code: &[u8]) {
        if let Err(e) = value::check_function(name, expire_ms, code) {
            self.problem(&format!(
                "{}:{offset}: function library {}: {e}; not loaded",
                file.display(),
                quote(name)
            ));
            return;
        }
        match self.format {
            Format::Json => {
                let obj = json!({
                    "function_library": json_bytes(name),
                    "code": json_bytes(code),
                });
                self.out.line(&obj.to_string());
            }
            Format::Resp => {
                self.send(&[b"FUNCTION".as_slice(), b"LOAD", b"REPLACE", code]);
            }
        }
    }

    fn record(&mut self, shard: u16, rec: &Record) {
        match &rec.body {
            Body::Command(argv) => {
                if self.db.is_some_and(|want| want != rec.db) {
                    return;
                }
                match self.format {
                    Format::Json => {
                        let argv: Vec<Value> = argv.iter().map(|a| json_bytes(a)).collect();
                        let line = json!({
                            "shard": shard, "lsn": rec.lsn, "ts_ms": rec.ts_ms, "db": rec.db,
                            "argv": argv,
                        });
                        self.out.line(&line.to_string());
                    }
                    Format::Resp => {
                        self.select(rec.db);
                        self.send(argv);
                    }
                }
            }
            Body::Batch(cmds) => {
                let cmds: Vec<&(u16, Vec<Vec<u8>>)> = cmds
                    .iter()
                    .filter(|(db, _)| self.db.is_none_or(|want| want == *db))
                    .collect();
                if cmds.is_empty() {
                    return;
                }
                match self.format {
                    Format::Json => {
                        let batch: Vec<Value> = cmds
                            .iter()
                            .map(|(db, argv)| {
                                let argv: Vec<Value> = argv.iter().map(|a| json_bytes(a)).collect();
                                json!({ "db": db, "argv": argv })
                            })
                            .collect();
                        let line = json!({
                            "shard": shard, "lsn": rec.lsn, "ts_ms": rec.ts_ms, "db": rec.db,
                            "batch": batch,
                        });
                        self.out.line(&line.to_string());
                    }
                    Format::Resp => {
                        if let Some((first, _)) = cmds.first() {
                            self.select(*first);
                        }
                        self.send(&["MULTI"]);
                        for (db, argv) in cmds {
                            // Queued inside MULTI: applied at EXEC, in order.
                            self.select(*db);
                            self.send(argv);
                        }
                        self.send(&["EXEC"]);
                    }
                }
            }
        }
    }

    fn snapshot(&mut self, path: &Path, s: &Salvage<'_>) {
        if let Err(e) = &s.complete {
            self.problem(&format!(
                "{}: snapshot incomplete ({e}): dumping its intact blocks only",
                path.display()
            ));
        }
        for r in &s.bad {
            self.problem(&format!(
                "{}:{}: {}",
                path.display(),
                r.start,
                describe_region(r)
            ));
        }
        for b in &s.blocks {
            if b.section == Section::Graph {
                continue;
            }
            if b.section == Section::Functions {
                let (libs, err) = snap::entries(b);
                for pe in libs {
                    self.function(
                        path,
                        pe.offset,
                        pe.entry.key,
                        pe.entry.expire_ms,
                        pe.entry.value,
                    );
                }
                if let Some(e) = err {
                    self.problem(&format!("{}: {e}", path.display()));
                }
                continue;
            }
            if b.section != Section::Keyspace {
                continue;
            }
            if self.db.is_some_and(|want| want != b.db) {
                continue;
            }
            let (entries, err) = snap::entries(b);
            for pe in entries {
                self.entry(
                    path,
                    pe.offset,
                    b.db,
                    pe.entry.key,
                    pe.entry.expire_ms,
                    pe.entry.value,
                );
            }
            if let Some(e) = err {
                self.problem(&format!("{}: {e}", path.display()));
            }
        }
        // Graphs (section 3) as their DUMP payloads: JSON shows a summary, RESP a RESTORE.
        let end = s.complete.as_ref().map_or(u64::MAX, |f| f.index_offset);
        for run in crate::graph::runs(&s.blocks, end) {
            match &run.outcome {
                Ok((_, payload)) => {
                    self.entry(path, run.offset, run.db, &run.key, run.expire_ms, payload);
                }
                Err((at, what)) => self.problem(&format!(
                    "{}:{at}: graph db {} key {}: {what}",
                    path.display(),
                    run.db,
                    quote(&run.key)
                )),
            }
        }
    }

    /// Dumps a shard's WAL records with LSN > `after`, as recovery would replay them.
    fn shard_wal(&mut self, d: &ShardDir, after: u64) -> Result<()> {
        let mut expected: Option<u64> = None;
        for (i, (_, p)) in d.wals.iter().enumerate() {
            let bytes = map_file(p)?;
            self.progress.inc(bytes.len() as u64);
            let header = match moon_formats::wal::SegmentHeader::decode(&bytes) {
                Ok(h) => h,
                Err(e) => {
                    self.problem(&format!("{}: {e}: WAL replay stops here", p.display()));
                    return Ok(());
                }
            };
            let start = expected.unwrap_or(after + 1).max(after + 1);
            let seg_end_hint = d.wals.get(i + 1).map(|(n, _)| *n);
            if seg_end_hint.is_some_and(|next| next <= after + 1) {
                // Entirely covered by the snapshot (a later segment starts at or before LSN+1).
                expected = None;
                continue;
            }
            if header.first_lsn > start {
                self.problem(&format!(
                    "{}: starts at LSN {} but LSN {start} is the next to replay: LSNs missing, replay stops",
                    p.display(),
                    header.first_lsn
                ));
                return Ok(());
            }
            let shard = header.shard_id;
            // First pass: where replay must stop. A corrupt region only matters if it lost an
            // LSN recovery needs (> `after`); otherwise reading resumes after it.
            let w = walk::walk(&bytes, true, |_, _| {})?;
            let mut stop_at: Option<u64> = None;
            for c in &w.corrupt {
                let needed = c.lost_lsns().is_none_or(|r| r.end > after + 1);
                let at = format!("{}:{}: {}", p.display(), c.error.offset, c.error.kind);
                if needed {
                    self.problem(&format!("{at}: WAL replay stops here"));
                    stop_at = Some(c.error.offset);
                    break;
                }
                self.progress.println(&format!(
                    "moon-tool: {at} (only LSNs the snapshot covers were lost there: skipped)"
                ));
            }
            walk::walk(&bytes, true, |off, rec| {
                if rec.lsn > after && stop_at.is_none_or(|s| off < s) {
                    self.record(shard, &rec);
                }
            })?;
            if stop_at.is_some() {
                return Ok(());
            }
            if let Some((off, reason)) = w.torn() {
                if i + 1 == d.wals.len() {
                    self.progress.println(&format!(
                        "moon-tool: {}:{off}: torn tail ({reason}) ignored, as recovery does",
                        p.display()
                    ));
                } else {
                    self.problem(&format!(
                        "{}:{off}: torn tail ({reason}) in a segment that is not the last: replay stops",
                        p.display()
                    ));
                    return Ok(());
                }
            }
            expected = Some(w.next_lsn);
        }
        Ok(())
    }

    fn shard(&mut self, d: &ShardDir) -> Result<()> {
        // The newest snapshot recovery would load: the highest LSN with a verified footer.
        let mut after = 0u64;
        for (_, p) in d.snaps.iter().rev() {
            let bytes = map_file(p)?;
            if SnapshotReader::new(&bytes).is_err() {
                self.problem(&format!(
                    "{}: incomplete or damaged footer: skipped, as recovery does",
                    p.display()
                ));
                continue;
            }
            self.progress.inc(bytes.len() as u64);
            let s = snap::salvage(&bytes);
            if let Ok(h) = &s.header {
                after = h.lsn;
            }
            self.snapshot(p, &s);
            break;
        }
        self.shard_wal(d, after)
    }
}

/// Runs `dump`.
pub fn run(path: &Path, format: Format, db: Option<u16>) -> Result<Status> {
    let target = layout::resolve(path)?;
    let total = match &target {
        Target::File(p, _) => layout::total_size(std::iter::once(p.as_path())),
        Target::Shards(dirs) => layout::total_size(dirs.iter().flat_map(|d| d.files())),
    };
    let progress = Progress::new(total, "dump");
    let mut d = Dumper {
        out: Out::default(),
        format,
        db,
        selected: None,
        damaged: false,
        progress: &progress,
        scratch: Vec::new(),
    };
    match target {
        Target::File(p, FileKind::Wal) => {
            let bytes = map_file(&p)?;
            let shard = moon_formats::wal::SegmentHeader::decode(&bytes).map_or(0, |h| h.shard_id);
            let w = walk::walk(&bytes, false, |_, r| d.record(shard, &r))?;
            if let Some(c) = w.corrupt.first() {
                d.problem(&format!(
                    "{}:{}: {}: stopped here",
                    p.display(),
                    c.error.offset,
                    c.error.kind
                ));
            }
            if let Some((off, reason)) = w.torn() {
                progress.println(&format!(
                    "moon-tool: {}:{off}: torn tail ({reason})",
                    p.display()
                ));
            }
        }
        Target::File(p, _) => {
            let bytes = map_file(&p)?;
            let s = snap::salvage(&bytes);
            d.snapshot(&p, &s);
        }
        Target::Shards(dirs) => {
            for sd in &dirs {
                d.shard(sd)?;
            }
        }
    }
    progress.finish();
    d.out.flush();
    Ok(Status::from_bad(d.damaged))
}
