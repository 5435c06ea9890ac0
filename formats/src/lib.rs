//! moon-formats: every byte layout that touches disk (WAL frames, snapshot files, headers with
//! magic + version + CRC32), shared by the engine and `moon-tool`. It depends on nothing of ours.
//!
//! The foundation ships no on-disk format yet; the durability issue adds the WAL and snapshot
//! layouts here, specified byte by byte in SPEC.md. What exists now is the checksum primitive
//! every format will use.

pub mod rdb;

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
