//! Property test of the reply encoder: arbitrary [`Reply`] trees encoded in RESP3 and RESP2 and
//! read back by a small independent RESP reader must yield the expected (downgraded) structure
//! and consume exactly the encoded bytes.

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};
use proptest::prelude::*;

use super::{Proto, encode, format_double};
use crate::errors::error_text;

/// What a RESP client sees.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    NullBulk,
    NullArray,
    Null,
    Double(Vec<u8>),
    Bool(bool),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Push(Vec<Value>),
    Verbatim(Vec<u8>, Vec<u8>),
}

/// A minimal RESP2/RESP3 reader over a complete buffer.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn line(&mut self) -> Result<&[u8], String> {
        let rest = &self.data[self.pos..];
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("missing CRLF")?;
        self.pos += end + 2;
        Ok(&rest[..end])
    }

    fn int(&mut self) -> Result<i64, String> {
        let line = self.line()?;
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad integer {line:?}"))
    }

    fn count(&mut self) -> Result<usize, String> {
        usize::try_from(self.int()?).map_err(|e| e.to_string())
    }

    fn payload(&mut self, len: usize) -> Result<Vec<u8>, String> {
        let end = self.pos + len;
        if self.data.get(end..end + 2) != Some(b"\r\n") {
            return Err("payload not followed by CRLF".into());
        }
        let out = self.data[self.pos..end].to_vec();
        self.pos = end + 2;
        Ok(out)
    }

    fn many(&mut self, n: usize) -> Result<Vec<Value>, String> {
        (0..n).map(|_| self.value()).collect()
    }

    fn value(&mut self) -> Result<Value, String> {
        let kind = *self.data.get(self.pos).ok_or("truncated")?;
        self.pos += 1;
        Ok(match kind {
            b'+' => Value::Simple(self.line()?.to_vec()),
            b'-' => Value::Error(self.line()?.to_vec()),
            b':' => Value::Int(self.int()?),
            b',' => Value::Double(self.line()?.to_vec()),
            b'_' => {
                self.line()?;
                Value::Null
            }
            b'#' => match self.line()? {
                b"t" => Value::Bool(true),
                b"f" => Value::Bool(false),
                other => return Err(format!("bad bool {other:?}")),
            },
            b'$' => match self.int()? {
                -1 => Value::NullBulk,
                n => Value::Bulk(self.payload(usize::try_from(n).map_err(|e| e.to_string())?)?),
            },
            b'=' => {
                let len = self.count()?;
                let body = self.payload(len)?;
                let (fmt, text) = body.split_at_checked(4).ok_or("short verbatim")?;
                if fmt[3] != b':' {
                    return Err("verbatim format not followed by ':'".into());
                }
                Value::Verbatim(fmt[..3].to_vec(), text.to_vec())
            }
            b'*' => match self.int()? {
                -1 => Value::NullArray,
                n => Value::Array(self.many(usize::try_from(n).map_err(|e| e.to_string())?)?),
            },
            b'~' => {
                let n = self.count()?;
                Value::Set(self.many(n)?)
            }
            b'>' => {
                let n = self.count()?;
                Value::Push(self.many(n)?)
            }
            b'%' => {
                let n = self.count()?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    pairs.push((self.value()?, self.value()?));
                }
                Value::Map(pairs)
            }
            other => return Err(format!("unknown type byte {other:?}")),
        })
    }
}

fn decode_all(data: &[u8]) -> Result<Value, String> {
    let mut r = Reader { data, pos: 0 };
    let v = r.value()?;
    if r.pos != data.len() {
        return Err(format!("{} trailing bytes", data.len() - r.pos));
    }
    Ok(v)
}

fn double_text(d: f64) -> Vec<u8> {
    let mut out = Vec::new();
    format_double(d, &mut out);
    out
}

/// The value a client of `proto` must read for `reply`.
fn expected(reply: &Reply, proto: Proto) -> Value {
    let resp3 = proto == Proto::Resp3;
    let all = |items: &[Reply]| items.iter().map(|r| expected(r, proto)).collect::<Vec<_>>();
    match reply {
        Reply::Ok => Value::Simple(b"OK".to_vec()),
        Reply::Simple(s) => Value::Simple(s.to_vec()),
        Reply::Bulk(b) => Value::Bulk(b.to_vec()),
        Reply::Int(n) => Value::Int(*n),
        Reply::Double(d) if resp3 => Value::Double(double_text(*d)),
        Reply::Double(d) => Value::Bulk(double_text(*d)),
        Reply::DoubleText(t) if resp3 => Value::Double(t.to_vec()),
        Reply::DoubleText(t) => Value::Bulk(t.to_vec()),
        Reply::Bool(b) if resp3 => Value::Bool(*b),
        Reply::Bool(b) => Value::Int(i64::from(*b)),
        Reply::Nil | Reply::NilArray if resp3 => Value::Null,
        Reply::Nil => Value::NullBulk,
        Reply::NilArray => Value::NullArray,
        Reply::Array(items) => Value::Array(all(items)),
        Reply::Set(items) if resp3 => Value::Set(all(items)),
        Reply::Push(items) if resp3 => Value::Push(all(items)),
        Reply::Set(items) | Reply::Push(items) => Value::Array(all(items)),
        Reply::Map(pairs) if resp3 => Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (expected(k, proto), expected(v, proto)))
                .collect(),
        ),
        Reply::Map(pairs) => Value::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [expected(k, proto), expected(v, proto)])
                .collect(),
        ),
        Reply::Pairs(pairs) if resp3 => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| Value::Array(vec![expected(k, proto), expected(v, proto)]))
                .collect(),
        ),
        Reply::Pairs(pairs) => Value::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [expected(k, proto), expected(v, proto)])
                .collect(),
        ),
        Reply::MapArrays(pairs) if resp3 => Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (expected(k, proto), expected(v, proto)))
                .collect(),
        ),
        Reply::MapArrays(pairs) => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| Value::Array(vec![expected(k, proto), expected(v, proto)]))
                .collect(),
        ),
        Reply::Verbatim(fmt, text) if resp3 => {
            Value::Verbatim(fmt.as_bytes().to_vec(), text.to_vec())
        }
        Reply::Verbatim(_, text) => Value::Bulk(text.to_vec()),
        Reply::Err(e) => Value::Error(error_text(e).into_bytes()),
    }
}

fn leaf() -> impl Strategy<Value = Reply> {
    prop_oneof![
        Just(Reply::Ok),
        "[A-Za-z0-9 ]{0,12}".prop_map(|s| Reply::Simple(Bytes::from(s))),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(|b| Reply::Bulk(Bytes::from(b))),
        any::<i64>().prop_map(Reply::Int),
        any::<f64>().prop_map(Reply::Double),
        any::<bool>().prop_map(Reply::Bool),
        Just(Reply::Nil),
        Just(Reply::NilArray),
        prop::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| Reply::Verbatim("txt", Bytes::from(b))),
        prop::sample::select(vec![
            OpError::WrongType,
            OpError::Syntax,
            OpError::InvalidExpireTime("expire"),
            OpError::Other("NOAUTH Authentication required.".into()),
        ])
        .prop_map(Reply::Err),
    ]
}

fn reply_tree() -> impl Strategy<Value = Reply> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Array),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Set),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Reply::Push),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
        ]
    })
}

proptest! {
    #[test]
    fn encoded_replies_decode_to_the_expected_shape(reply in reply_tree()) {
        for proto in [Proto::Resp2, Proto::Resp3] {
            let mut out = Vec::new();
            encode(&reply, proto, &mut out);
            let got = decode_all(&out).map_err(TestCaseError::fail)?;
            prop_assert_eq!(got, expected(&reply, proto), "{:?}", proto);
        }
    }

    #[test]
    fn doubles_read_back_exactly(d in any::<f64>().prop_filter("finite", |d| d.is_finite())) {
        let text = double_text(d);
        let parsed: Option<f64> = std::str::from_utf8(&text).ok().and_then(|s| s.parse().ok());
        prop_assert_eq!(parsed, Some(d));
    }
}
