//! Typed errors an op can end in. No protocol text lives here: `moon-resp` maps each variant to
//! the exact string redis-server sends.

/// Why an op failed. Variants mirror the Redis error classes clients match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The key holds a value of another type.
    #[error("wrong type")]
    WrongType,
    /// The stored value (or an argument) is not an integer or is out of range.
    #[error("not an integer")]
    NotInteger,
    /// The stored value (or an argument) is not a valid float.
    #[error("not a float")]
    NotFloat,
    /// An INCR-family op would overflow i64.
    #[error("increment or decrement would overflow")]
    Overflow,
    /// INCRBYFLOAT would produce NaN or Infinity.
    #[error("increment would produce NaN or Infinity")]
    NanOrInfinity,
    /// Generic syntax error in the op's arguments.
    #[error("syntax error")]
    Syntax,
    /// The key does not exist where the op needs it (RENAME, OBJECT ...).
    #[error("no such key")]
    NoSuchKey,
    /// SELECT/MOVE/COPY/SWAPDB database index out of range.
    #[error("DB index is out of range")]
    DbIndexOutOfRange,
    /// MOVE/COPY where source and destination are the same object.
    #[error("source and destination objects are the same")]
    SameObject,
    /// A value would exceed `proto-max-bulk-len` (SETRANGE, APPEND).
    #[error("string exceeds maximum allowed size")]
    StringTooLong,
    /// An expire time that overflows when converted to absolute milliseconds; carries the
    /// command name for the Redis text `invalid expire time in '<cmd>' command`.
    #[error("invalid expire time in '{0}' command")]
    InvalidExpireTime(&'static str),
    /// An offset argument is out of range (SETRANGE, GETRANGE ...).
    #[error("offset is out of range")]
    OffsetOutOfRange,
    /// OBJECT FREQ without an LFU policy.
    #[error("An LFU maxmemory policy is not selected, access frequency not tracked")]
    LfuNotSelected,
    /// Any other error whose full Redis text (without the leading `-`) is known at the site.
    #[error("{0}")]
    Other(String),
}
