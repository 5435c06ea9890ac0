//! A small byte-exact RESP2/RESP3 client for the tests: it keeps every distinction the
//! `redis` crate smooths over (simple vs bulk string, `$-1` vs `*-1` vs `_`, the exact text
//! of a double, the full error line), so tests can assert Redis's reply shapes exactly.
//!
//! Invariant: one [`Conn`] reads replies strictly in order from its own buffered socket; a
//! malformed reply panics the test (the server under test produced it).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;

/// One decoded reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+...`
    Simple(String),
    /// `-...`, the whole line without the `-`.
    Error(String),
    /// `:...`
    Int(i64),
    /// `$n`
    Bulk(Vec<u8>),
    /// `$-1`
    NilBulk,
    /// `*-1`
    NilArray,
    /// `_` (RESP3)
    Null,
    /// `*n`
    Array(Vec<Reply>),
    /// `%n` (RESP3)
    Map(Vec<(Reply, Reply)>),
    /// `~n` (RESP3)
    Set(Vec<Reply>),
    /// `,...` (RESP3), kept as the server's text.
    Double(String),
    /// `#t` / `#f` (RESP3)
    Bool(bool),
    /// `(...` (RESP3)
    BigNumber(String),
    /// `=n` (RESP3): format and payload.
    Verbatim(String, Vec<u8>),
    /// `>n` (RESP3)
    Push(Vec<Reply>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    pub fn simple(s: &str) -> Reply {
        Reply::Simple(s.into())
    }

    pub fn bulk(s: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(s.as_ref().to_vec())
    }

    pub fn err(s: &str) -> Reply {
        Reply::Error(s.into())
    }

    pub fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(Reply::bulk).collect())
    }

    /// Is this any of the nil shapes.
    pub fn is_nil(&self) -> bool {
        matches!(self, Reply::NilBulk | Reply::NilArray | Reply::Null)
    }

    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(i) => *i,
            other => panic!("expected integer, got {other:?}"),
        }
    }

    /// The text of a simple, bulk or verbatim string.
    pub fn text(&self) -> String {
        match self {
            Reply::Simple(s) => s.clone(),
            Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("expected string, got {other:?}"),
        }
    }

    pub fn error(&self) -> String {
        match self {
            Reply::Error(e) => e.clone(),
            other => panic!("expected error, got {other:?}"),
        }
    }

    /// Elements of an array, set or push.
    pub fn items(&self) -> Vec<Reply> {
        match self {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => v.clone(),
            other => panic!("expected aggregate, got {other:?}"),
        }
    }

    /// Key/value pairs of a RESP3 map, or of a RESP2 flat array of alternating fields.
    pub fn pairs(&self) -> Vec<(String, Reply)> {
        match self {
            Reply::Map(kv) => kv.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
            Reply::Array(v) => {
                assert!(v.len() % 2 == 0, "odd-length field array: {v:?}");
                v.chunks(2).map(|c| (c[0].text(), c[1].clone())).collect()
            }
            other => panic!("expected map, got {other:?}"),
        }
    }

    /// Value of field `name` in a map-like reply.
    pub fn field(&self, name: &str) -> Reply {
        self.pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no field {name} in {self:?}"))
    }
}

/// A blocking connection speaking RESP with exact reply decoding.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            reader: BufReader::new(stream),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Sends one command as a multibulk and reads its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send(args);
        self.read()
    }

    /// Sends a command written as whitespace-separated words (no quoting) and reads its reply.
    pub fn q(&mut self, line: &str) -> Reply {
        let args: Vec<&str> = line.split_whitespace().collect();
        self.cmd(&args)
    }

    /// Sends one command without reading (for pipelining).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let bytes = encode(args);
        self.send_raw(&bytes);
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .expect("write to server");
    }

    /// Reads one reply; panics on EOF or timeout.
    pub fn read(&mut self) -> Reply {
        self.try_read()
            .unwrap_or_else(|e| panic!("reading reply: {e}"))
    }

    /// Reads one reply, or the I/O error (EOF is `UnexpectedEof`).
    pub fn try_read(&mut self) -> std::io::Result<Reply> {
        let line = self.line()?;
        let (tag, rest) = line.split_at(1);
        let rest = String::from_utf8_lossy(rest).into_owned();
        let len = || rest.parse::<i64>().map_err(|_| bad(&line));
        Ok(match tag[0] {
            b'+' => Reply::Simple(rest),
            b'-' => Reply::Error(rest),
            b':' => Reply::Int(len()?),
            b'_' => Reply::Null,
            b',' => Reply::Double(rest),
            b'(' => Reply::BigNumber(rest),
            b'#' => Reply::Bool(rest == "t"),
            b'$' => match len()? {
                -1 => Reply::NilBulk,
                n => Reply::Bulk(self.payload(n)?),
            },
            b'=' => {
                let data = self.payload(len()?)?;
                let fmt = String::from_utf8_lossy(&data[..3.min(data.len())]).into_owned();
                Reply::Verbatim(fmt, data.get(4..).unwrap_or_default().to_vec())
            }
            b'*' => match len()? {
                -1 => Reply::NilArray,
                n => Reply::Array(self.many(n)?),
            },
            b'~' => Reply::Set(self.many(len()?)?),
            b'>' => Reply::Push(self.many(len()?)?),
            b'%' => {
                let flat = self.many(len()? * 2)?;
                let mut it = flat.into_iter();
                let mut kv = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    kv.push((k, v));
                }
                Reply::Map(kv)
            }
            _ => return Err(bad(&line)),
        })
    }

    /// True once the server has closed the connection (EOF, or a reset) within the timeout.
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        match self.reader.read(&mut b) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        }
    }

    fn line(&mut self) -> std::io::Result<Vec<u8>> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                "server closed",
            ));
        }
        if !line.ends_with(b"\r\n") || line.len() < 3 {
            return Err(bad(&line));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    fn payload(&mut self, n: i64) -> std::io::Result<Vec<u8>> {
        let n = usize::try_from(n).map_err(|_| bad(b"negative length"))?;
        let mut data = vec![0u8; n + 2];
        self.reader.read_exact(&mut data)?;
        if !data.ends_with(b"\r\n") {
            return Err(bad(&data));
        }
        data.truncate(n);
        Ok(data)
    }

    fn many(&mut self, n: i64) -> std::io::Result<Vec<Reply>> {
        (0..n).map(|_| self.try_read()).collect()
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn bad(bytes: &[u8]) -> std::io::Error {
    std::io::Error::new(
        ErrorKind::InvalidData,
        format!("malformed reply: {:?}", String::from_utf8_lossy(bytes)),
    )
}

/// Reads exactly `expected.len()` bytes from `sock` and asserts they are `expected` (shown as
/// text on failure, so a wrong RESP frame is readable).
pub fn expect_bytes(sock: &mut TcpStream, expected: &[u8]) {
    let mut buf = vec![0u8; expected.len()];
    sock.read_exact(&mut buf).expect("reply bytes");
    assert_eq!(
        String::from_utf8_lossy(&buf),
        String::from_utf8_lossy(expected)
    );
}
