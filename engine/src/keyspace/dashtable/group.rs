//! Control bytes of one bucket and their SWAR matching.
//!
//! A bucket has [`BUCKET_SLOTS`] control bytes packed into two little-endian `u64` words (byte `i`
//! of the bucket is byte `i % 8` of word `i / 8`). A byte is either [`EMPTY`] (high bit set) or a
//! 7-bit tag taken from the item's hash (high bit clear). Matching works on whole words with the
//! classic "has zero byte" trick (as in hashbrown's generic group), so it is safe, portable code.
//!
//! Invariant: every byte is `EMPTY` or `< 0x80`; nothing else is ever stored.

/// Slots (and control bytes) per bucket.
pub(super) const BUCKET_SLOTS: usize = 16;
/// Control byte of a free slot. Tags never have the high bit set, so this cannot collide.
pub(super) const EMPTY: u8 = 0x80;

const LSB: u64 = 0x0101_0101_0101_0101;
const MSB: u64 = 0x8080_8080_8080_8080;

/// The control bytes of one bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ctrl([u64; 2]);

impl Ctrl {
    /// A bucket with every slot free.
    pub(super) const ALL_EMPTY: Ctrl = Ctrl([LSB * EMPTY as u64; 2]);

    /// Control byte of slot `i`.
    pub(super) fn get(&self, i: usize) -> u8 {
        debug_assert!(i < BUCKET_SLOTS);
        (self.0[i / 8] >> ((i % 8) * 8)) as u8
    }

    /// Sets the control byte of slot `i`.
    pub(super) fn set(&mut self, i: usize, byte: u8) {
        debug_assert!(i < BUCKET_SLOTS);
        debug_assert!(byte == EMPTY || byte < 0x80, "control byte {byte:#x}");
        let shift = (i % 8) * 8;
        let word = &mut self.0[i / 8];
        *word = (*word & !(0xFF << shift)) | (u64::from(byte) << shift);
    }

    /// Slots whose tag may equal `tag`. May contain false positives (the borrow of the zero-byte
    /// trick can flag the byte above a true match), never false negatives: callers compare keys.
    pub(super) fn match_tag(&self, tag: u8) -> Mask {
        debug_assert!(tag < 0x80);
        let pattern = LSB * u64::from(tag);
        Mask(self.0.map(|w| {
            let x = w ^ pattern;
            x.wrapping_sub(LSB) & !x & MSB
        }))
    }

    /// Free slots (exact).
    pub(super) fn match_empty(&self) -> Mask {
        Mask(self.0.map(|w| w & MSB))
    }

    /// Occupied slots (exact).
    pub(super) fn match_full(&self) -> Mask {
        Mask(self.0.map(|w| !w & MSB))
    }
}

/// A set of slot indexes within one bucket: the high bit of each flagged byte is set.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mask([u64; 2]);

impl Mask {
    /// Number of flagged slots.
    pub(super) fn len(&self) -> usize {
        (self.0[0].count_ones() + self.0[1].count_ones()) as usize
    }

    /// True if no slot is flagged.
    pub(super) fn is_empty(&self) -> bool {
        self.0 == [0, 0]
    }
}

impl Iterator for Mask {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        for (g, word) in self.0.iter_mut().enumerate() {
            if *word != 0 {
                let byte = (word.trailing_zeros() / 8) as usize;
                *word &= *word - 1;
                return Some(g * 8 + byte);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_match() {
        let mut c = Ctrl::ALL_EMPTY;
        assert_eq!(c.match_empty().len(), 16);
        assert!(c.match_full().is_empty());
        c.set(0, 5);
        c.set(9, 5);
        c.set(15, 0x7F);
        c.set(3, 0);
        assert_eq!(c.get(9), 5);
        assert_eq!(c.get(1), EMPTY);
        assert_eq!(c.match_full().collect::<Vec<_>>(), vec![0, 3, 9, 15]);
        assert_eq!(c.match_empty().len(), 12);
        let hits: Vec<_> = c.match_tag(5).collect();
        assert!(hits.contains(&0) && hits.contains(&9));
        assert!(c.match_tag(0x7F).any(|i| i == 15));
        assert!(c.match_tag(0).any(|i| i == 3));
        c.set(9, EMPTY);
        assert!(!c.match_tag(5).any(|i| i == 9));
    }

    #[test]
    fn match_tag_has_no_false_negatives() {
        for tag in 0..0x80u8 {
            let mut c = Ctrl::ALL_EMPTY;
            for i in 0..BUCKET_SLOTS {
                c.set(i, ((i as u8).wrapping_mul(37) ^ tag) & 0x7F);
            }
            let hits: Vec<_> = c.match_tag(tag).collect();
            for i in 0..BUCKET_SLOTS {
                if c.get(i) == tag {
                    assert!(hits.contains(&i), "tag {tag} slot {i}");
                }
            }
        }
    }
}
