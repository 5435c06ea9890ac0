//! moon-tool: offline inspection, verification, dumping and repair of Moon's data files (the
//! per-shard WAL segments and snapshots specified in SPEC.md and `moon_formats`).
//!
//! Invariants: the tool never writes to its input (files are mapped read-only; `repair` writes a
//! separate copy); results go to stdout, diagnostics and progress bars to stderr; the exit code
//! is 0 = OK, 1 = damage found or the operation failed, 2 = usage error (bad arguments, a path
//! that names no Moon data).

mod dump;
mod graph;
mod inspect;
mod layout;
mod progress;
mod repair;
mod search;
mod snap;
mod tail;
mod text;
mod value;
mod verify;
mod walk;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Offline tool for Moon's data directory: inspect, verify, dump and repair WAL segments and
/// snapshots.
///
/// A data directory holds one `shard-NNN/` sub-directory per shard, each with WAL segments
/// (`wal-<first LSN>.wal`) and snapshots (`snap-<LSN>.snap`). Wherever a directory is accepted it
/// may be the data directory or one shard directory. Never run `repair` or `dump` against files a
/// running server is writing.
///
/// Exit codes: 0 = OK, 1 = damage found / operation failed, 2 = usage error.
#[derive(Debug, Parser)]
#[command(name = "moon-tool", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Describe files: headers, versions, LSN ranges, counts per db and per type, sizes.
    ///
    /// For each snapshot: header (version, shard, shard count, LSN, creation time), blocks,
    /// entries per db and per value type, sizes, complete or not. For each WAL segment: header,
    /// record count, LSN range, first/last timestamp, bytes, end state (clean / torn / corrupt).
    /// Exits 1 if a file is damaged (see `verify` for a full check).
    Inspect {
        /// A WAL segment, a snapshot, a shard directory or a data directory.
        path: PathBuf,
    },
    /// Check every checksum and structural invariant; one line per problem naming file and
    /// byte offset.
    ///
    /// Checks: segment and snapshot headers, every WAL frame's CRC32, LSN continuity within and
    /// across the segments of a shard, snapshot block, index and footer CRCs, every DUMP payload's
    /// CRC-64 and that it decodes, and that the WAL continues the newest snapshot (its first
    /// segment starts at or before snapshot LSN + 1; without a snapshot, at LSN 1).
    ///
    /// Exit 0 when nothing is wrong. A torn tail at the end of the LAST segment of a shard is what
    /// a crash leaves behind (the record was never acknowledged under appendfsync always and
    /// recovery truncates it): it is reported as a warning and still exits 0. Everything else
    /// (including a torn tail of an earlier segment) is damage: exit 1.
    Verify {
        /// A data directory, a shard directory or a single file.
        path: PathBuf,
    },
    /// Print snapshot entries and WAL records as JSON lines or as RESP commands.
    ///
    /// For a directory: per shard, the newest complete snapshot, then the WAL records after its
    /// LSN, so `moon-tool dump data --format resp | redis-cli --pipe` rebuilds the dataset in
    /// any Redis (values are restored with RESTORE ... ABSTTL REPLACE). For a file: everything
    /// in it.
    ///
    /// JSON: one object per line. Entries: {"db","key","type","expire_ms" (0 = no TTL),"value"};
    /// records: {"shard","lsn","ts_ms","db","argv"} or, for a MULTI/EXEC batch,
    /// {"shard","lsn","ts_ms","db","batch":[{"db","argv"},...]}. Byte strings are JSON strings
    /// when valid UTF-8, else {"base64": "..."} (standard alphabet, padded): reversible.
    ///
    /// RESP: `SELECT db` whenever the db changes, `RESTORE key expire_ms payload ABSTTL REPLACE`
    /// per entry (expire 0 = none), each WAL command as sent by a client, batches inside
    /// MULTI/EXEC. Exits 1 if damage stopped the dump early or a value could not be decoded.
    Dump {
        /// A snapshot, a WAL segment, a shard directory or a data directory.
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Only this database.
        #[arg(long)]
        db: Option<u16>,
    },
    /// Write a repaired copy of a data (or shard) directory; never modifies the input.
    ///
    /// WAL segments: torn tails are truncated; corrupt frames are dropped and reading resumes at
    /// the next frame whose checksum verifies, keeping every intact record. Each lost LSN is
    /// replaced by an empty batch record (it replays as nothing) so LSNs stay contiguous and the
    /// copy passes `verify`. Snapshots: every block whose CRC verifies is kept (entries whose DUMP
    /// payload fails its CRC-64 are dropped), the file is rewritten with a new index and footer;
    /// a damaged snapshot is left out entirely when the intact WAL reproduces all it covers.
    /// Abandoned `.snap.tmp` files are not copied (the server never loads them).
    ///
    /// Reports exactly what was lost: file, byte ranges, records / entries dropped, LSNs and
    /// databases affected. Exit 0 if nothing was lost (truncating a torn tail at the end of a
    /// shard's last segment is not a loss), 1 if something was (the copy is written anyway).
    Repair {
        /// The damaged data directory or shard directory.
        path: PathBuf,
        /// Where to write the repaired copy (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// WAL commands.
    Wal {
        #[command(subcommand)]
        cmd: WalCmd,
    },
}

#[derive(Debug, Subcommand)]
enum WalCmd {
    /// Print the last records of each shard's WAL, readable: `LSN TIME DB COMMAND ARGS...`.
    ///
    /// TIME is ISO-8601 UTC; arguments are quoted like redis-cli (bare when printable, else
    /// "..." with \n \r \t \a \b \" \\ and \xHH escapes), so a line can be pasted into
    /// redis-cli. A batch prints as `LSN TIME DB MULTI` followed by one indented line per command
    /// (`db COMMAND ...`) and `EXEC`.
    Tail {
        /// A data directory, a shard directory or one WAL segment.
        path: PathBuf,
        /// Number of records per shard.
        #[arg(short = 'n', long = "lines", default_value_t = 10)]
        n: usize,
    },
}

/// Output format of `dump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON lines.
    Json,
    /// RESP commands, for `redis-cli --pipe`.
    Resp,
}

/// The outcome of a command that ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing wrong.
    Ok,
    /// Damage found, data lost, or output incomplete.
    Damaged,
}

impl Status {
    /// `Damaged` if `bad`, else `Ok`.
    pub fn from_bad(bad: bool) -> Status {
        if bad { Status::Damaged } else { Status::Ok }
    }
}

fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help / --version.
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Inspect { path } => inspect::run(&path),
        Cmd::Verify { path } => verify::run(&path),
        Cmd::Dump { path, format, db } => dump::run(&path, format, db),
        Cmd::Repair { path, out } => repair::run(&path, &out),
        Cmd::Wal {
            cmd: WalCmd::Tail { path, n },
        } => tail::run(&path, n),
    };
    match result {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Damaged) => ExitCode::from(1),
        Err(e) => {
            eprintln!("moon-tool: {e:#}");
            if e.downcast_ref::<layout::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
