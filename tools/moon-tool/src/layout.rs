//! Finding Moon's files: a data directory (`shard-NNN/` sub-directories), one shard directory
//! (`wal-*.wal`, `snap-*.snap`, `snap-*.snap.tmp`) or a single file; and reading them.
//!
//! Invariants: shards are listed in shard-number order, WAL segments by first LSN and snapshots by
//! LSN (the numbers in the file names, which the formats make authoritative for ordering); files
//! are only ever opened read-only here.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use memmap2::Mmap;
use moon_formats::snapshot::parse_snapshot_file_name;
use moon_formats::wal::parse_segment_file_name;

/// What a single file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A WAL segment.
    Wal,
    /// A sealed snapshot.
    Snapshot,
    /// A snapshot still being written (or abandoned by a crash): never loaded by the server.
    SnapshotTmp,
}

/// One shard directory's files.
#[derive(Debug, Clone)]
pub struct ShardDir {
    /// The directory.
    pub path: PathBuf,
    /// The shard number from a `shard-NNN` directory name, if it has one.
    pub shard: Option<u16>,
    /// WAL segments, by first LSN (from the file name).
    pub wals: Vec<(u64, PathBuf)>,
    /// Sealed snapshots, by LSN (from the file name).
    pub snaps: Vec<(u64, PathBuf)>,
    /// Snapshot files being written / abandoned.
    pub tmps: Vec<PathBuf>,
}

/// What a path on the command line names.
#[derive(Debug)]
pub enum Target {
    /// One file.
    File(PathBuf, FileKind),
    /// One or more shard directories (one for a shard dir, all of them for a data dir).
    Shards(Vec<ShardDir>),
}

/// A command-line path that does not name anything moon-tool reads (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}

/// `shard-NNN` → NNN.
pub fn parse_shard_dir_name(name: &str) -> Option<u16> {
    let digits = name.strip_prefix("shard-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The directory name of shard `n`.
pub fn shard_dir_name(n: u16) -> String {
    format!("shard-{n:03}")
}

/// The kind of a file, from its name, else from its magic.
pub fn file_kind(path: &Path) -> Result<FileKind> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".snap.tmp") {
        return Ok(FileKind::SnapshotTmp);
    }
    if parse_segment_file_name(name).is_some() {
        return Ok(FileKind::Wal);
    }
    if parse_snapshot_file_name(name).is_some() {
        return Ok(FileKind::Snapshot);
    }
    let mut magic = [0u8; 8];
    let f = fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let n = io::Read::read(&mut &f, &mut magic).unwrap_or(0);
    match &magic[..n] {
        b"MOONWAL\0" => Ok(FileKind::Wal),
        b"MOONSNAP" => Ok(FileKind::Snapshot),
        _ => Err(usage(format!(
            "{}: not a Moon WAL segment or snapshot (by name or magic)",
            path.display()
        ))),
    }
}

/// Lists one shard directory.
pub fn scan_shard(path: &Path) -> Result<ShardDir> {
    let shard = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_shard_dir_name);
    let mut dir = ShardDir {
        path: path.to_path_buf(),
        shard,
        wals: Vec::new(),
        snaps: Vec::new(),
        tmps: Vec::new(),
    };
    for ent in fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
        let ent = ent?;
        let Some(name) = ent.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !ent.file_type()?.is_file() {
            continue;
        }
        if name.ends_with(".snap.tmp") {
            dir.tmps.push(ent.path());
        } else if let Some(lsn) = parse_segment_file_name(&name) {
            dir.wals.push((lsn, ent.path()));
        } else if let Some(lsn) = parse_snapshot_file_name(&name) {
            dir.snaps.push((lsn, ent.path()));
        }
    }
    dir.wals.sort();
    dir.snaps.sort();
    dir.tmps.sort();
    Ok(dir)
}

/// Resolves a command-line path.
pub fn resolve(path: &Path) -> Result<Target> {
    let meta = fs::metadata(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    if meta.is_file() {
        return Ok(Target::File(path.to_path_buf(), file_kind(path)?));
    }
    if !meta.is_dir() {
        return Err(usage(format!(
            "{}: not a file or directory",
            path.display()
        )));
    }
    let mut shards = Vec::new();
    for ent in fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
        let ent = ent?;
        if let Some(n) = ent.file_name().to_str().and_then(parse_shard_dir_name)
            && ent.file_type()?.is_dir()
        {
            shards.push((n, ent.path()));
        }
    }
    if shards.is_empty() {
        let dir = scan_shard(path)?;
        if dir.wals.is_empty() && dir.snaps.is_empty() && dir.tmps.is_empty() {
            return Err(usage(format!(
                "{}: no shard-NNN directories and no Moon files: not a data or shard directory",
                path.display()
            )));
        }
        return Ok(Target::Shards(vec![dir]));
    }
    shards.sort();
    let dirs = shards
        .iter()
        .map(|(_, p)| scan_shard(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(Target::Shards(dirs))
}

/// Like [`resolve`] but a single file is refused.
pub fn resolve_dir(path: &Path) -> Result<Vec<ShardDir>> {
    match resolve(path)? {
        Target::Shards(s) => Ok(s),
        Target::File(..) => bail!(UsageError(format!(
            "{}: expected a data or shard directory, not a file",
            path.display()
        ))),
    }
}

/// A file's bytes, memory-mapped (empty files are not mapped: mapping zero bytes fails).
pub enum FileBytes {
    /// A mapped file.
    Mapped(Mmap),
    /// An empty file.
    Empty,
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Empty => &[],
        }
    }
}

/// Maps a file read-only.
#[allow(unsafe_code)]
pub fn map_file(path: &Path) -> Result<FileBytes> {
    let f = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(FileBytes::Empty);
    }
    // SAFETY: the map is read-only and private to this process. moon-tool is an offline tool: the
    // documented contract is that no server writes the files it reads, so the mapped bytes do not
    // change under us (a concurrent truncation could only fault this process, never corrupt data;
    // the input is never written).
    let map = unsafe { Mmap::map(&f) }.with_context(|| format!("mapping {}", path.display()))?;
    Ok(FileBytes::Mapped(map))
}

/// Total size of a set of files (for progress bars); unreadable files count as 0.
pub fn total_size<'a>(paths: impl Iterator<Item = &'a Path>) -> u64 {
    paths
        .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

impl ShardDir {
    /// Every file of the shard (for progress totals).
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.wals
            .iter()
            .map(|(_, p)| p.as_path())
            .chain(self.snaps.iter().map(|(_, p)| p.as_path()))
    }

    /// A short name for messages: `shard-003` or the directory path.
    pub fn label(&self) -> String {
        match self.shard {
            Some(n) => shard_dir_name(n),
            None => self.path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_dir_names() {
        assert_eq!(parse_shard_dir_name("shard-000"), Some(0));
        assert_eq!(parse_shard_dir_name("shard-017"), Some(17));
        assert_eq!(parse_shard_dir_name("shard-"), None);
        assert_eq!(parse_shard_dir_name("shard-1x"), None);
        assert_eq!(parse_shard_dir_name("data"), None);
        assert_eq!(shard_dir_name(7), "shard-007");
    }
}
