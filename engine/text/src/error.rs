//! Error types of the crate: analyzer configuration errors, index errors and snapshot decode
//! errors (which always carry the byte offset of the failure).

use thiserror::Error;

/// A snapshot payload failed validation at `offset` (bytes from the start of the payload).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("text index decode error at byte {offset}: {what}")]
pub struct DecodeError {
    pub offset: usize,
    pub what: &'static str,
}

/// Errors returned by the index, analyzer and query primitives.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TextError {
    #[error("unsupported language '{0}'")]
    UnknownLanguage(String),
    #[error("too many text fields (max 64)")]
    TooManyFields,
    #[error("duplicate field '{0}'")]
    DuplicateField(String),
    #[error("unknown field id {0}")]
    UnknownField(u8),
    #[error("invalid field weight")]
    InvalidWeight,
    #[error("fuzzy distance must be 1..=4, got {0}")]
    BadDistance(u32),
    #[error("automaton too large for '{0}'")]
    AutomatonTooLarge(String),
    #[error("posting list too large")]
    TooLarge,
}
