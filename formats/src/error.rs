//! The one error type of every on-disk decoder: what went wrong and the absolute byte offset in
//! the file where it went wrong.
//!
//! Invariant: `offset` is always absolute (from the start of the file the decoder was given), and
//! names the start of the structure at fault (the segment or snapshot header, the frame, the
//! block, the keyspace entry, the index or the footer), so an operator can `dd`/`xxd` there.

use std::fmt;

/// A decoding failure at a byte offset of a WAL segment or snapshot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// Absolute byte offset of the structure at fault.
    pub offset: u64,
    /// What is wrong there.
    pub kind: ErrorKind,
}

/// What a decoder found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The magic bytes of a header, block or footer do not match.
    BadMagic,
    /// The file was written by a format version this reader does not know (a newer one).
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The newest version this reader knows.
        supported: u16,
    },
    /// A file header's CRC32 does not verify.
    HeaderCrc,
    /// The input ends inside a structure.
    Truncated,
    /// A WAL frame's CRC32 does not verify.
    FrameCrc,
    /// A snapshot block's CRC32 does not verify.
    BlockCrc,
    /// A snapshot footer's CRC32 (over the index and the footer) does not verify.
    FooterCrc,
    /// A WAL record does not carry the LSN that follows the previous one.
    LsnGap {
        /// The LSN the record should have had.
        expected: u64,
        /// The LSN it has.
        found: u64,
    },
    /// A length field exceeds the format's limit (the value found).
    TooLarge(u64),
    /// A structure whose checksum verifies holds values the format does not allow.
    Malformed(&'static str),
    /// A snapshot file has no valid footer: it was never completed and must not be loaded.
    MissingFooter,
}

impl DecodeError {
    /// An error of `kind` at absolute byte `offset`.
    pub fn new(offset: u64, kind: ErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::BadMagic => f.write_str("bad magic"),
            ErrorKind::UnsupportedVersion { found, supported } => write!(
                f,
                "unsupported format version {found} (this build reads up to {supported})"
            ),
            ErrorKind::HeaderCrc => f.write_str("header checksum mismatch"),
            ErrorKind::Truncated => f.write_str("truncated"),
            ErrorKind::FrameCrc => f.write_str("frame checksum mismatch"),
            ErrorKind::BlockCrc => f.write_str("block checksum mismatch"),
            ErrorKind::FooterCrc => f.write_str("footer checksum mismatch"),
            ErrorKind::LsnGap { expected, found } => {
                write!(f, "LSN gap (expected {expected}, found {found})")
            }
            ErrorKind::TooLarge(n) => write!(f, "length {n} too large"),
            ErrorKind::Malformed(what) => write!(f, "malformed: {what}"),
            ErrorKind::MissingFooter => f.write_str("missing footer (incomplete file)"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_and_offset() {
        let e = DecodeError::new(4096, ErrorKind::FrameCrc);
        assert_eq!(e.to_string(), "frame checksum mismatch at offset 4096");
        let e = DecodeError::new(
            0,
            ErrorKind::UnsupportedVersion {
                found: 7,
                supported: 1,
            },
        );
        assert_eq!(
            e.to_string(),
            "unsupported format version 7 (this build reads up to 1) at offset 0"
        );
        let e = DecodeError::new(
            96,
            ErrorKind::LsnGap {
                expected: 5,
                found: 9,
            },
        );
        assert_eq!(e.to_string(), "LSN gap (expected 5, found 9) at offset 96");
    }
}
