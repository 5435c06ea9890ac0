//! Reply encoding: [`Reply`] trees to RESP3 bytes, or downgraded to RESP2 for RESP2 clients.
//!
//! Invariants: the output is always well-formed RESP whatever the reply holds (CR/LF inside a
//! simple string or error text become spaces, as Redis does for formatted errors); aggregate
//! headers always state the number of elements that follow.

use moon_engine::ir::Reply;

use super::double::format_double;
use super::parse::ProtocolError;
use crate::errors::error_text;

/// The protocol version a connection speaks (`HELLO 2` / `HELLO 3`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Proto {
    /// RESP2: no maps, sets, doubles, booleans or typed nulls on the wire.
    Resp2,
    /// RESP3: native types.
    Resp3,
}

const CRLF: &[u8] = b"\r\n";

/// Appends the encoding of `reply` for `proto` to `out`.
pub fn encode(reply: &Reply, proto: Proto, out: &mut Vec<u8>) {
    let resp3 = proto == Proto::Resp3;
    match reply {
        Reply::Ok => out.extend_from_slice(b"+OK\r\n"),
        Reply::Simple(s) => write_line(b'+', s, out),
        Reply::Bulk(b) => write_bulk(b, out),
        Reply::Int(n) => write_header(b':', *n, out),
        Reply::Double(d) => write_double(*d, resp3, out),
        Reply::DoubleText(t) if resp3 => write_line(b',', t, out),
        Reply::DoubleText(t) => write_bulk(t, out),
        Reply::Bool(b) => out.extend_from_slice(match (resp3, *b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        }),
        Reply::Nil => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Reply::NilArray => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"*-1\r\n" }),
        Reply::Array(items) => write_aggregate(b'*', items, proto, out),
        Reply::Set(items) => write_aggregate(if resp3 { b'~' } else { b'*' }, items, proto, out),
        Reply::Push(items) => write_aggregate(if resp3 { b'>' } else { b'*' }, items, proto, out),
        Reply::Map(pairs) => write_map(pairs, proto, out),
        Reply::Pairs(pairs) => write_pairs(pairs, proto, out),
        Reply::MapArrays(pairs) => write_map_arrays(pairs, proto, out),
        Reply::Verbatim(format, text) => write_verbatim(format, text, resp3, out),
        Reply::Err(e) => encode_error_text(&error_text(e), out),
    }
}

/// Appends `-<text>\r\n`; `text` is a full error text such as `ERR syntax error`.
pub fn encode_error_text(text: &str, out: &mut Vec<u8>) {
    write_line(b'-', text.as_bytes(), out);
}

/// Appends the reply Redis sends for a protocol error: `-ERR <text>\r\n`.
pub fn encode_protocol_error(err: &ProtocolError, out: &mut Vec<u8>) {
    out.extend_from_slice(b"-ERR ");
    err.write_text(out);
    out.extend_from_slice(CRLF);
}

/// `<prefix><n>\r\n`: integers and aggregate/bulk length headers.
fn write_header(prefix: u8, n: i64, out: &mut Vec<u8>) {
    if let Ok(small @ 0..100) = usize::try_from(n) {
        return write_len(prefix, small, out);
    }
    out.push(prefix);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(CRLF);
}

fn write_len(prefix: u8, len: usize, out: &mut Vec<u8>) {
    // Most lengths (element counts, short strings) have one or two digits: one fixed-size
    // copy instead of a digit formatter and three variable ones.
    if len < 10 {
        out.extend_from_slice(&[prefix, b'0' + len as u8, b'\r', b'\n']);
    } else if len < 100 {
        let (tens, ones) = (len / 10, len % 10);
        out.extend_from_slice(&[prefix, b'0' + tens as u8, b'0' + ones as u8, b'\r', b'\n']);
    } else {
        out.push(prefix);
        out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        out.extend_from_slice(CRLF);
    }
}

/// A one-line reply; a stray CR or LF would end the line early, so it is shown as a space.
fn write_line(prefix: u8, text: &[u8], out: &mut Vec<u8>) {
    out.push(prefix);
    let start = out.len();
    out.extend_from_slice(text);
    if memchr::memchr2(b'\r', b'\n', text).is_some() {
        for b in &mut out[start..] {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
    }
    out.extend_from_slice(CRLF);
}

fn write_bulk(data: &[u8], out: &mut Vec<u8>) {
    // One capacity check for the whole bulk (header at most 1 + 20 + 2 bytes).
    out.reserve(data.len() + 25);
    write_len(b'$', data.len(), out);
    out.extend_from_slice(data);
    out.extend_from_slice(CRLF);
}

fn write_double(d: f64, resp3: bool, out: &mut Vec<u8>) {
    if resp3 {
        out.push(b',');
        format_double(d, out);
        out.extend_from_slice(CRLF);
    } else {
        // The text is formatted in place and its `$<len>` header moved in front of it: no
        // scratch buffer per score (ZRANGE WITHSCORES writes one per member).
        let start = out.len();
        format_double(d, out);
        let text_len = out.len() - start;
        write_len(b'$', text_len, out);
        let header_len = out.len() - start - text_len;
        out[start..].rotate_right(header_len);
        out.extend_from_slice(CRLF);
    }
}

fn write_aggregate(prefix: u8, items: &[Reply], proto: Proto, out: &mut Vec<u8>) {
    write_len(prefix, items.len(), out);
    for item in items {
        encode(item, proto, out);
    }
}

fn write_map(pairs: &[(Reply, Reply)], proto: Proto, out: &mut Vec<u8>) {
    match proto {
        Proto::Resp3 => write_len(b'%', pairs.len(), out),
        Proto::Resp2 => write_len(b'*', pairs.len() * 2, out),
    }
    for (k, v) in pairs {
        encode(k, proto, out);
        encode(v, proto, out);
    }
}

/// RESP3: a map; RESP2: an array of `[k, v]` arrays (XREAD's per-stream replies).
fn write_map_arrays(pairs: &[(Reply, Reply)], proto: Proto, out: &mut Vec<u8>) {
    match proto {
        Proto::Resp3 => write_len(b'%', pairs.len(), out),
        Proto::Resp2 => write_len(b'*', pairs.len(), out),
    }
    for (k, v) in pairs {
        if proto == Proto::Resp2 {
            out.extend_from_slice(b"*2\r\n");
        }
        encode(k, proto, out);
        encode(v, proto, out);
    }
}

/// RESP3: an array of `[k, v]` arrays; RESP2: one flat array `k, v, ...` (as WITHSCORES).
fn write_pairs(pairs: &[(Reply, Reply)], proto: Proto, out: &mut Vec<u8>) {
    match proto {
        Proto::Resp3 => write_len(b'*', pairs.len(), out),
        Proto::Resp2 => write_len(b'*', pairs.len() * 2, out),
    }
    for (k, v) in pairs {
        if proto == Proto::Resp3 {
            out.extend_from_slice(b"*2\r\n");
        }
        encode(k, proto, out);
        encode(v, proto, out);
    }
}

/// RESP3 `=<len>\r\n<fmt>:<text>\r\n`; RESP2 clients get the text as a plain bulk string.
fn write_verbatim(format: &str, text: &[u8], resp3: bool, out: &mut Vec<u8>) {
    if !resp3 {
        write_bulk(text, out);
        return;
    }
    debug_assert_eq!(
        format.len(),
        3,
        "verbatim formats are three bytes (txt, mkd)"
    );
    write_len(b'=', format.len() + 1 + text.len(), out);
    out.extend_from_slice(format.as_bytes());
    out.push(b':');
    out.extend_from_slice(text);
    out.extend_from_slice(CRLF);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use moon_engine::ir::OpError;

    use super::*;

    fn enc(r: &Reply, p: Proto) -> Vec<u8> {
        let mut out = Vec::new();
        encode(r, p, &mut out);
        out
    }

    fn both(r: Reply, resp2: &[u8], resp3: &[u8]) {
        assert_eq!(enc(&r, Proto::Resp2), resp2, "RESP2 {r:?}");
        assert_eq!(enc(&r, Proto::Resp3), resp3, "RESP3 {r:?}");
    }

    #[test]
    fn scalars() {
        both(Reply::Ok, b"+OK\r\n", b"+OK\r\n");
        both(Reply::simple("PONG"), b"+PONG\r\n", b"+PONG\r\n");
        both(Reply::bulk(b"hi"), b"$2\r\nhi\r\n", b"$2\r\nhi\r\n");
        both(Reply::bulk(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        both(Reply::Int(-42), b":-42\r\n", b":-42\r\n");
        both(
            Reply::Int(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        );
        both(Reply::Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n");
        both(Reply::Double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        both(Reply::Bool(true), b":1\r\n", b"#t\r\n");
        both(Reply::Bool(false), b":0\r\n", b"#f\r\n");
        both(Reply::Nil, b"$-1\r\n", b"_\r\n");
        both(Reply::NilArray, b"*-1\r\n", b"_\r\n");
    }

    #[test]
    fn aggregates() {
        both(
            Reply::Array(vec![Reply::Int(1), Reply::Nil]),
            b"*2\r\n:1\r\n$-1\r\n",
            b"*2\r\n:1\r\n_\r\n",
        );
        both(Reply::Array(vec![]), b"*0\r\n", b"*0\r\n");
        both(
            Reply::Map(vec![(Reply::bulk(b"k"), Reply::Double(2.0))]),
            b"*2\r\n$1\r\nk\r\n$1\r\n2\r\n",
            b"%1\r\n$1\r\nk\r\n,2\r\n",
        );
        both(
            Reply::Set(vec![Reply::bulk(b"a")]),
            b"*1\r\n$1\r\na\r\n",
            b"~1\r\n$1\r\na\r\n",
        );
        both(
            Reply::Push(vec![Reply::bulk(b"message")]),
            b"*1\r\n$7\r\nmessage\r\n",
            b">1\r\n$7\r\nmessage\r\n",
        );
        both(
            Reply::Verbatim("txt", Bytes::from_static(b"hello")),
            b"$5\r\nhello\r\n",
            b"=9\r\ntxt:hello\r\n",
        );
    }

    #[test]
    fn errors() {
        both(
            Reply::Err(OpError::Syntax),
            b"-ERR syntax error\r\n",
            b"-ERR syntax error\r\n",
        );
        both(
            Reply::Err(OpError::Other("ERR bad\r\nthing".into())),
            b"-ERR bad  thing\r\n",
            b"-ERR bad  thing\r\n",
        );
        let mut out = Vec::new();
        encode_protocol_error(&ProtocolError::ExpectedDollar(0xff), &mut out);
        assert_eq!(out, b"-ERR Protocol error: expected '$', got '\xff'\r\n");
        out.clear();
        encode_protocol_error(&ProtocolError::InvalidBulkLength, &mut out);
        assert_eq!(out, b"-ERR Protocol error: invalid bulk length\r\n");
    }
}
