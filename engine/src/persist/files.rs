//! Naming and listing of a shard's data files.
//!
//! Layout: `<dir>/shard-NNN/wal-<first lsn, 20 digits>.wal` and
//! `<dir>/shard-NNN/snap-<lsn, 20 digits>.snap` (`.snap.tmp` while being written).

use std::io;
use std::path::{Path, PathBuf};

use moon_formats::{snapshot, wal};

/// The directory of shard `id` under the data directory.
pub fn shard_dir(data_dir: &Path, id: usize) -> PathBuf {
    data_dir.join(format!("shard-{id:03}"))
}

/// The files of one shard directory, each list sorted by LSN ascending.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShardFiles {
    /// `(first lsn, path)` of every WAL segment.
    pub segments: Vec<(u64, PathBuf)>,
    /// `(lsn, path)` of every sealed snapshot.
    pub snapshots: Vec<(u64, PathBuf)>,
    /// Leftover `.snap.tmp` files of interrupted snapshots.
    pub partial: Vec<PathBuf>,
}

/// Lists a shard directory; a missing directory is an empty list.
pub fn list(dir: &Path) -> io::Result<ShardFiles> {
    let mut out = ShardFiles::default();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for ent in rd {
        let ent = ent?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(lsn) = wal::parse_segment_file_name(name) {
            out.segments.push((lsn, ent.path()));
        } else if let Some(lsn) = snapshot::parse_snapshot_file_name(name) {
            out.snapshots.push((lsn, ent.path()));
        } else if name.ends_with(".snap.tmp") {
            out.partial.push(ent.path());
        }
    }
    out.segments.sort();
    out.snapshots.sort();
    Ok(out)
}

/// fsync of a directory, so a rename or a new file in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
