//! Request parsing: one command at a time from the front of a connection's query buffer, with the
//! checks and error texts of redis-server 7's `processMultibulkBuffer` / `processInlineBuffer`.
//!
//! Invariants:
//! - `Ok(None)` leaves the buffer untouched; `Ok(Some(_))` consumes exactly one command.
//! - A [`CommandParser`] remembers how far it got through an incomplete multibulk, so each new read
//!   costs only the newly arrived headers (never a rescan of earlier arguments or payloads). Its
//!   saved offsets are valid only while the caller does nothing but append to the buffer between
//!   calls that returned `Ok(None)`.
//! - Header lines are found the way Redis finds them (`strchr` for `'\r'`, so a NUL byte before the
//!   CR hides it), and the two bytes after a CR or after a payload are skipped unchecked, as Redis
//!   does.

use bytes::{Buf, Bytes, BytesMut};

use super::inline::parse_inline;
use crate::limits::{Limits, UNAUTH_MAX_BULK_LEN, UNAUTH_MAX_MULTIBULK_LEN};

/// A malformed request. The server replies `-ERR <text>` and closes the connection, as Redis does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// `*<n>` with a non-integer `n` or `n > max_multibulk_len`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// `*<n>` with `n > 10` from a client that must still authenticate.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// An argument header not starting with `$`; carries the byte found.
    #[error("Protocol error: expected '$', got '{}'", shown_byte(*.0))]
    ExpectedDollar(u8),
    /// `$<len>` with a non-integer, negative or too large `len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// `$<len>` with `len > 16384` from a client that must still authenticate.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    /// No CR within `max_inline_len` bytes of a `*` header.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMbulkCount,
    /// No CR within `max_inline_len` bytes of a `$` header.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// An inline command with an unterminated quote (or a closing quote not followed by a space).
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// No LF within `max_inline_len` bytes of an inline command.
    #[error("Protocol error: too big inline request")]
    TooBigInline,
}

/// Redis formats the byte with `%c` and then maps CR/LF to spaces so the reply stays one line.
fn shown_byte(b: u8) -> char {
    match b {
        b'\r' | b'\n' => ' ',
        other => char::from(other),
    }
}

impl ProtocolError {
    /// The error text without the leading `-ERR ` (e.g. `Protocol error: invalid bulk length`).
    pub fn text(&self) -> String {
        self.to_string()
    }

    /// The text as Redis puts it on the wire: identical to [`ProtocolError::text`] except that a
    /// non-ASCII byte in [`ProtocolError::ExpectedDollar`] is written raw, not UTF-8 encoded.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        match self {
            ProtocolError::ExpectedDollar(b) => {
                out.extend_from_slice(b"Protocol error: expected '$', got '");
                out.push(match b {
                    b'\r' | b'\n' => b' ',
                    other => *other,
                });
                out.push(b'\'');
            }
            other => out.extend_from_slice(other.to_string().as_bytes()),
        }
    }
}

/// Parses one command from the front of `buf` with a fresh parser (see [`CommandParser`] for the
/// resumable form a connection should keep).
///
/// `Ok(Some(args))` consumes the command (args are zero-copy slices of the buffer; an empty
/// vector is an empty command such as `*0` or a blank line, which the server ignores);
/// `Ok(None)` means more bytes are needed and leaves `buf` untouched.
pub fn parse_command(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    CommandParser::new(*limits).parse(buf)
}

/// Per-connection parser that resumes an incomplete multibulk where it stopped.
#[derive(Debug, Clone)]
pub struct CommandParser {
    limits: Limits,
    auth_required: bool,
    pending: Option<Pending>,
    /// `(start, len)` of each complete argument of the pending multibulk, relative to the
    /// buffer start. Kept across commands so parsing one allocates nothing but its argv.
    spans: Vec<(usize, usize)>,
}

/// Progress through a multibulk whose `*<n>` header has been read.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Declared argument count (> 0).
    argc: usize,
    /// Offset of the next unread byte: an argument header, or a payload if `bulk_len` is set.
    pos: usize,
    /// Length of the argument whose header was read but whose payload has not fully arrived.
    bulk_len: Option<usize>,
}

/// Redis sizes its first argv at `min(count, 1024)` so a huge claimed count costs nothing up front.
const INITIAL_ARGV: usize = 1024;

/// Span capacity kept between commands; a bigger one (a huge MSET) is given back.
const KEPT_SPANS: usize = 4 * INITIAL_ARGV;

/// Header lines (`$32`, `*3`) are short: scanning this many bytes by hand is cheaper than
/// setting up a vectorised search, which takes over beyond them.
const SHORT_LINE: usize = 24;

impl CommandParser {
    /// A parser for a connection that needs no authentication.
    pub fn new(limits: Limits) -> Self {
        CommandParser {
            limits,
            auth_required: false,
            pending: None,
            spans: Vec::new(),
        }
    }

    /// Applies Redis's tighter header bounds (10 arguments, 16 KiB each) while the client has yet
    /// to authenticate. Takes effect from the next command header read.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Once the header of an argument still arriving has been read: how many more bytes (payload
    /// and its CRLF) the buffer of length `buf_len` needs before it is complete. Lets the server
    /// reserve room for a big argument in one step, as Redis does past 32 KiB.
    pub fn bytes_needed(&self, buf_len: usize) -> Option<usize> {
        let pending = self.pending.as_ref()?;
        let len = pending.bulk_len?;
        Some((pending.pos + len + 2).saturating_sub(buf_len))
    }

    /// Forgets any partial progress; call if the buffer is discarded or altered other than by
    /// appending.
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Parses one command from the front of `buf`; same contract as [`parse_command`]. After an
    /// error the parser is reset (the connection is to be closed anyway).
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let result = self.parse_inner(buf);
        if !matches!(result, Ok(None)) {
            self.pending = None;
        }
        result
    }

    fn parse_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let shrank = self.pending.as_ref().is_some_and(|p| p.pos > buf.len());
        debug_assert!(!shrank, "buffer shrank under a pending parse");
        if shrank {
            // The caller broke the append-only contract: start over rather than slice past the end.
            self.pending = None;
        }
        if self.pending.is_none() {
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => {}
                Some(_) => return parse_inline(buf, &self.limits),
            }
            let Some((argc, pos)) = self.read_count(buf)? else {
                return Ok(None);
            };
            if argc == 0 {
                buf.advance(pos);
                return Ok(Some(Vec::new()));
            }
            if self.spans.capacity() > KEPT_SPANS {
                self.spans = Vec::new();
            }
            self.spans.clear();
            self.spans.reserve(argc.min(INITIAL_ARGV));
            self.pending = Some(Pending {
                argc,
                pos,
                bulk_len: None,
            });
        }
        let (limits, auth_required) = (self.limits, self.auth_required);
        let Some(pending) = self.pending.as_mut() else {
            return Ok(None);
        };
        if !read_args(pending, &mut self.spans, buf, &limits, auth_required)? {
            return Ok(None);
        }
        let frame = buf.split_to(pending.pos).freeze();
        Ok(Some(slice_args(frame, &self.spans)))
    }

    /// Reads the `*<n>` header at the front of `buf`: the argument count (0 for any `n <= 0`) and
    /// the offset just past the header.
    fn read_count(&self, buf: &[u8]) -> Result<Option<(usize, usize)>, ProtocolError> {
        let Some(cr) = find_line(buf, 0, &self.limits, ProtocolError::TooBigMbulkCount)? else {
            return Ok(None);
        };
        let n = string2ll(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
        if n > self.limits.max_multibulk_len {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        if n > UNAUTH_MAX_MULTIBULK_LEN && self.auth_required {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        let argc = usize::try_from(n.max(0)).map_err(|_| ProtocolError::InvalidMultibulkLength)?;
        Ok(Some((argc, cr + 2)))
    }
}

/// The arguments at `spans` of `frame`. The last one takes `frame` itself: one reference count
/// update fewer per command than slicing it too.
fn slice_args(frame: Bytes, spans: &[(usize, usize)]) -> Vec<Bytes> {
    let mut args = Vec::with_capacity(spans.len());
    let Some((&(start, len), rest)) = spans.split_last() else {
        return args;
    };
    args.extend(rest.iter().map(|&(s, l)| frame.slice(s..s + l)));
    let mut last = frame;
    last.truncate(start + len);
    last.advance(start);
    args.push(last);
    args
}

/// Advances `pending` over every argument that has fully arrived, recording each in `spans`.
/// True once all `argc` have.
fn read_args(
    pending: &mut Pending,
    spans: &mut Vec<(usize, usize)>,
    buf: &[u8],
    limits: &Limits,
    auth_required: bool,
) -> Result<bool, ProtocolError> {
    while spans.len() < pending.argc {
        let len = match pending.bulk_len {
            Some(len) => len,
            None => {
                let Some((len, payload)) =
                    read_bulk_header(buf, pending.pos, limits, auth_required)?
                else {
                    return Ok(false);
                };
                pending.pos = payload;
                pending.bulk_len = Some(len);
                len
            }
        };
        // Redis skips the two bytes after the payload without checking they are CRLF.
        if buf.len() - pending.pos < len.saturating_add(2) {
            return Ok(false);
        }
        spans.push((pending.pos, len));
        pending.pos += len + 2;
        pending.bulk_len = None;
    }
    Ok(true)
}

/// Reads a `$<len>` header at `pos`: the payload length and the payload's offset.
fn read_bulk_header(
    buf: &[u8],
    pos: usize,
    limits: &Limits,
    auth_required: bool,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    let Some(cr) = find_line(buf, pos, limits, ProtocolError::TooBigBulkCount)? else {
        return Ok(None);
    };
    // `cr >= pos` always; when equal the "header" is an empty line and the byte shown is the CR.
    let first = buf[pos];
    if first != b'$' {
        return Err(ProtocolError::ExpectedDollar(first));
    }
    let n = string2ll(&buf[pos + 1..cr]).ok_or(ProtocolError::InvalidBulkLength)?;
    if n < 0 || n > limits.proto_max_bulk_len {
        return Err(ProtocolError::InvalidBulkLength);
    }
    if n > UNAUTH_MAX_BULK_LEN && auth_required {
        return Err(ProtocolError::UnauthenticatedBulkLength);
    }
    let len = usize::try_from(n).map_err(|_| ProtocolError::InvalidBulkLength)?;
    Ok(Some((len, cr + 2)))
}

/// Finds the CR ending the header line that starts at `pos`, as Redis does: the first `'\r'`
/// before any NUL (`strchr`), and only once the byte after it has arrived too. With no CR and
/// more than `max_inline_len` bytes buffered, the line is refused with `too_big`.
fn find_line(
    buf: &[u8],
    pos: usize,
    limits: &Limits,
    too_big: ProtocolError,
) -> Result<Option<usize>, ProtocolError> {
    let rest = &buf[pos..];
    let short = &rest[..rest.len().min(SHORT_LINE)];
    let found = match short.iter().position(|&b| b == b'\r' || b == 0) {
        Some(i) => Some(i),
        None if rest.len() > SHORT_LINE => {
            memchr::memchr2(b'\r', 0, &rest[SHORT_LINE..]).map(|i| i + SHORT_LINE)
        }
        None => None,
    };
    match found {
        Some(i) if rest[i] == b'\r' => Ok((pos + i + 2 <= buf.len()).then_some(pos + i)),
        _ if rest.len() > limits.max_inline_len => Err(too_big),
        _ => Ok(None),
    }
}

/// Redis's `string2ll`: an optional `-`, then digits with no leading zero (a lone `0` excepted),
/// no sign `+`, no spaces, within `i64`.
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        // i64::MIN's magnitude is one more than i64::MAX.
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
