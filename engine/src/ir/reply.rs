//! Replies in RESP3 shapes. The RESP encoder downgrades them for RESP2 clients (maps become flat
//! arrays, doubles become bulk strings, booleans become integers, nulls become `$-1`/`*-1`).

use bytes::Bytes;

use super::OpError;

/// The result of one op (or one connection/server command).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// A simple string (`+PONG`, `+string` for TYPE ...).
    Simple(Bytes),
    /// A bulk string.
    Bulk(Bytes),
    /// An integer.
    Int(i64),
    /// A double (RESP3 `,`; RESP2 bulk string).
    Double(f64),
    /// A double already written as Redis writes it for this reply (`addReplyHumanLongDouble`:
    /// GEOPOS, WITHCOORD): RESP3 `,<text>`; RESP2 a bulk string of the text.
    DoubleText(Bytes),
    /// A boolean (RESP3 `#`; RESP2 integer 0/1).
    Bool(bool),
    /// The null bulk string (RESP2 `$-1`, RESP3 `_`).
    Nil,
    /// The null array (RESP2 `*-1`, RESP3 `_`).
    NilArray,
    /// An array.
    Array(Vec<Reply>),
    /// A map (RESP3 `%`; RESP2 flat array of key, value, ...).
    Map(Vec<(Reply, Reply)>),
    /// Pairs (WITHSCORES, WITHVALUES): RESP3 an array of 2-element arrays; RESP2 one flat
    /// array of key, value, ....
    Pairs(Vec<(Reply, Reply)>),
    /// A map whose RESP2 form is an array of `[k, v]` arrays rather than a flat array
    /// (XREAD, XREADGROUP: RESP3 `%`).
    MapArrays(Vec<(Reply, Reply)>),
    /// A set (RESP3 `~`; RESP2 array).
    Set(Vec<Reply>),
    /// Verbatim text (RESP3 `=` with a 3-letter format; RESP2 bulk string).
    Verbatim(&'static str, Bytes),
    /// An out-of-band push (RESP3 `>`; RESP2 array).
    Push(Vec<Reply>),
    /// An error reply.
    Err(OpError),
}

impl Reply {
    /// A bulk reply copied from a byte slice.
    pub fn bulk(bytes: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(bytes))
    }

    /// A simple-string reply from a static string.
    pub fn simple(text: &'static str) -> Reply {
        Reply::Simple(Bytes::from_static(text.as_bytes()))
    }

    /// True for [`Reply::Err`].
    pub fn is_err(&self) -> bool {
        matches!(self, Reply::Err(_))
    }
}

impl From<OpError> for Reply {
    fn from(e: OpError) -> Self {
        Reply::Err(e)
    }
}
