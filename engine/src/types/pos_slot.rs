//! The entry of a dense-position index (the large set, hash and sorted-set encodings keep
//! their elements in a dense array and a `hashbrown::HashTable` of positions): the position
//! and 32 bits of its element's hash.
//!
//! Keeping the hash bits in the table means rehashing never reads the elements (which sit at
//! random addresses) and a probe compares elements only when 32 more bits agree, so a lookup
//! of an absent element touches nothing but the table.
//!
//! Invariant (kept by the users): a slot's `hash` is [`fold`] of its element's full hash, and
//! the table hashes a slot with [`spread`] of it.

/// A position and its element's hash bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PosSlot {
    pub pos: u32,
    pub hash: u32,
}

/// The 32 bits a slot keeps of a 64-bit element hash.
pub(crate) fn fold(h: u64) -> u32 {
    h as u32
}

/// The table hash of a slot's bits: spread by an odd multiplier, so hashbrown's 7-bit tag
/// (top bits) and its bucket index (low bits) both come from well-mixed bits.
pub(crate) fn spread(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_distinct_inputs_distinct_and_fills_the_top_bits() {
        let mut tags = std::collections::HashSet::new();
        for h in 0u32..4096 {
            assert_eq!(spread(h) >> 32 == 0, h == 0);
            tags.insert(spread(h.wrapping_mul(2_654_435_761)) >> 57);
        }
        assert_eq!(tags.len(), 128, "every 7-bit tag is reachable");
        assert_eq!(fold(0x1234_5678_9abc_def0), 0x9abc_def0);
    }
}
