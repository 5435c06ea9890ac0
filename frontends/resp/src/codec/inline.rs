//! Inline commands (any request not starting with `*`), as redis-server 7's `processInlineBuffer`
//! and `sdssplitargs` read them.
//!
//! Invariants: the line ends at the first `'\n'` before any NUL byte (Redis finds it with
//! `strchr`, so a NUL hides the terminator until the 64 KiB bound trips); an optional `'\r'`
//! before it is dropped; a blank line is an empty command. Arguments are copies, since quoting
//! and escapes rewrite them.

use bytes::{Buf, Bytes, BytesMut};

use moon_engine::splitargs::split_args;

use super::parse::ProtocolError;
use crate::limits::Limits;

/// Parses one inline command from the front of `buf` (see [`super::parse_command`]).
pub(super) fn parse_inline(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let newline = match memchr::memchr2(b'\n', 0, buf) {
        Some(i) if buf[i] == b'\n' => i,
        _ if buf.len() > limits.max_inline_len => return Err(ProtocolError::TooBigInline),
        _ => return Ok(None),
    };
    let line_end = if newline > 0 && buf[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    };
    let args = split_args(&buf[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
    buf.advance(newline + 1);
    Ok(Some(args.into_iter().map(Bytes::from).collect()))
}
