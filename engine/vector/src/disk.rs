//! Disk-resident f32 vectors: a file of fixed-stride rows, memory-mapped.
//!
//! Used for the full-precision copies that TurboQuant indexes rerank with, so that only codes
//! and links stay in RAM. The file is created (truncated) by the index and owned by it: it is
//! removed when the store is dropped; nothing else may write or truncate it (the soundness
//! condition of the mapping). Row `slot` lives at byte `slot * dim * 4`, little-endian f32 —
//! native order on every target Moon supports, so rows are read in place.
//!
//! The only other `unsafe` module of the crate besides `kernels::x86`: creating the mapping.
#![allow(unsafe_code)]

use memmap2::MmapMut;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A growable memory-mapped file of `dim`-f32 rows.
#[derive(Debug)]
pub struct DiskVectors {
    dim: usize,
    path: PathBuf,
    file: File,
    map: Option<MmapMut>,
    capacity: usize,
}

impl DiskVectors {
    /// Creates (truncating) the file at `path`.
    pub fn create(path: &Path, dim: usize) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Self {
            dim,
            path: path.to_path_buf(),
            file,
            map: None,
            capacity: 0,
        })
    }

    /// Row `slot` (empty if it was never written: slots beyond the mapped capacity).
    pub fn get(&self, slot: usize) -> &[f32] {
        let Some(map) = &self.map else { return &[] };
        let row = self.dim * 4;
        let Some(bytes) = map.get(slot * row..(slot + 1) * row) else {
            return &[];
        };
        // The mapping is page aligned and rows are multiples of 4 bytes, so this cast cannot
        // fail; an empty row (distance garbage, never a panic) would be the fallback.
        let row: &[f32] = bytemuck::try_cast_slice(bytes).unwrap_or(&[]);
        debug_assert_eq!(row.len(), self.dim);
        row
    }

    /// Writes row `slot`, growing the file (doubling) as needed.
    pub fn set(&mut self, slot: usize, v: &[f32]) -> io::Result<()> {
        debug_assert_eq!(v.len(), self.dim);
        if slot >= self.capacity {
            let cap = (slot + 1).max(self.capacity * 2).max(1024);
            self.map = None;
            self.file.set_len((cap * self.dim * 4) as u64)?;
            // SAFETY: the file was created and truncated by this store, which holds the only
            // handle the process uses for it and removes it on drop; no other code maps,
            // writes or truncates it, so the mapped memory stays valid while `self.map` lives.
            self.map = Some(unsafe { MmapMut::map_mut(&self.file)? });
            self.capacity = cap;
        }
        let row = self.dim * 4;
        let map = self
            .map
            .as_mut()
            .ok_or_else(|| io::Error::other("vector file not mapped"))?;
        let dst = map
            .get_mut(slot * row..(slot + 1) * row)
            .ok_or_else(|| io::Error::other("vector row outside the mapping"))?;
        dst.copy_from_slice(bytemuck::cast_slice(v));
        Ok(())
    }
}

impl Drop for DiskVectors {
    fn drop(&mut self) {
        self.map = None;
        // The file is a cache of vectors the snapshot holds anyway; failing to remove it only
        // leaves a stale file behind.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_grow() {
        let path =
            std::env::temp_dir().join(format!("moon-vector-disk-test-{}", std::process::id()));
        {
            let mut d = DiskVectors::create(&path, 3).unwrap();
            assert!(d.get(0).is_empty());
            for slot in [0usize, 5, 2000, 1] {
                d.set(slot, &[slot as f32, 1.0, -2.0]).unwrap();
            }
            for slot in [0usize, 5, 2000, 1] {
                assert_eq!(d.get(slot), &[slot as f32, 1.0, -2.0]);
            }
            assert_eq!(d.get(3), &[0.0, 0.0, 0.0]);
            assert!(d.get(1_000_000).is_empty());
            assert!(path.exists());
        }
        assert!(!path.exists());
    }
}
