//! moon-formats: every byte layout that touches disk (WAL frames, snapshot files, headers with
//! magic + version + CRC32), shared by the engine and `moon-tool`. It depends on nothing of ours.
//!
//! The layouts are specified byte by byte in SPEC.md §8: [`wal`] (segments of record frames)
//! and [`snapshot`] (blocks of keyspace entries, an index and a footer); [`rdb`] holds the Redis
//! DUMP/RESTORE object codecs that snapshot values reuse.
//!
//! Invariants: decoders take untrusted bytes, never panic (the lints below forbid the usual ways)
//! and report every problem as a [`DecodeError`] carrying the absolute byte offset at fault.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod error;
// The RDB codecs predate the crate-wide panic lints and index checked tables; they keep their
// own bounds discipline (see their module docs).
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
pub mod rdb;
pub mod snapshot;
pub mod wal;

pub use error::{DecodeError, ErrorKind};

/// CRC32 (IEEE, as computed by `crc32fast`) of a byte slice: the checksum of every frame and
/// block Moon writes.
pub fn checksum(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn checksum_is_crc32_ieee() {
        assert_eq!(super::checksum(b"123456789"), 0xCBF4_3926);
    }
}
