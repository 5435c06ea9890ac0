//! The value of sets (SADD ... SSCAN).
//!
//! Placeholder until the family lands.

/// A stored value of the family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetValue {
    _placeholder: (),
}

impl SetValue {
    /// OBJECT ENCODING's answer (Redis's names).
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Heap bytes owned by the value (approximate, for INFO memory and eviction).
    pub fn mem_bytes(&self) -> usize {
        0
    }
}
