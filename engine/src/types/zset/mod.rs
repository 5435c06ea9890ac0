//! The value of sorted sets.
//!
//! Placeholder until the family lands.

/// A stored value of the family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ZSetValue {
    _placeholder: (),
}

impl ZSetValue {
    /// OBJECT ENCODING's answer (Redis's names).
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Heap bytes owned by the value (approximate, for INFO memory and eviction).
    pub fn mem_bytes(&self) -> usize {
        0
    }
}
