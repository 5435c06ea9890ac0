//! Errors of query parsing, worded as RediSearch words them (the server prefixes them with
//! the error code its RESP layer uses).

use std::fmt;

/// What went wrong (RediSearch's `QUERY_E*` code families).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryErrorKind {
    /// `Syntax error at offset N near X`, and the other syntax-class errors
    /// (bad geo unit, not a KNN command, stack overflow...).
    Syntax,
    /// `No such parameter `x``.
    NoParam,
    /// `Invalid numeric value (v) for parameter `x``.
    BadParamValue,
    /// `Invalid value (v) for `attr``.
    BadAttributeValue,
    /// `Invalid attribute x`.
    UnknownAttribute,
    /// An unsupported dialect.
    Dialect,
}

/// A query error: RediSearch's message, plus the byte offset it refers to when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub kind: QueryErrorKind,
    pub message: String,
    pub offset: Option<usize>,
}

impl QueryError {
    pub(crate) fn new(kind: QueryErrorKind, message: String, offset: Option<usize>) -> Self {
        Self {
            kind,
            message,
            offset,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}
