//! Little-endian primitives and the `Value` encoding shared by snapshots and mutation records.
//!
//! Decoding never panics and never trusts a length: every read is bounds-checked against the
//! remaining input, pre-allocation is capped by what the remaining bytes could hold, and value
//! nesting is limited to `MAX_DEPTH`. Errors carry the byte offset where decoding failed.
//!
//! Value encoding: one tag byte, then
//! `0` Null · `1` Bool (u8 0/1) · `2` Int (i64) · `3` Float (f64 bits) · `4` String (u32 len,
//! UTF-8) · `5` List (u32 count, values) · `6` Map (u32 count, then per entry u32 key len, key
//! UTF-8, value) · `7` Point (f64 lat, f64 lon) · `8` VecF32 (u32 count, f32 each).

use crate::value::Value;
use std::sync::Arc;

/// Deepest list/map nesting accepted by the decoder.
pub const MAX_DEPTH: usize = 64;

/// Why bytes failed to decode, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("decode error at byte {offset}: {what}")]
pub struct DecodeError {
    /// Offset into the input where the problem was detected.
    pub offset: usize,
    pub what: String,
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn err(&self, what: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.pos,
            what: what.into(),
        }
    }

    pub fn err_at(&self, offset: usize, what: impl Into<String>) -> DecodeError {
        DecodeError {
            offset,
            what: what.into(),
        }
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err(format!("truncated: need {n} bytes")))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64()?))
    }

    /// A u32 count of items each at least `min_item` bytes; rejected if the rest cannot hold it.
    pub fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item.max(1)) > self.remaining() {
            return Err(self.err_at(at, format!("count {n} exceeds remaining input")));
        }
        Ok(n)
    }

    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.count(1)?;
        let at = self.pos;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| self.err_at(at, "invalid UTF-8"))
    }

    pub fn value(&mut self) -> Result<Value, DecodeError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.err("value nesting too deep"));
        }
        Ok(match self.u8()? {
            0 => Value::Null,
            1 => match self.u8()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(self.err_at(at + 1, "bad bool")),
            },
            2 => Value::Int(self.u64()? as i64),
            3 => Value::Float(self.f64()?),
            4 => Value::String(Arc::from(self.str()?)),
            5 => {
                let n = self.count(1)?;
                let mut l = Vec::with_capacity(n);
                for _ in 0..n {
                    l.push(self.value_at(depth + 1)?);
                }
                Value::List(l)
            }
            6 => {
                let n = self.count(5)?;
                let mut m: Vec<(Arc<str>, Value)> = Vec::with_capacity(n);
                for _ in 0..n {
                    let kat = self.pos;
                    let k = self.str()?;
                    if m.iter().any(|(x, _)| &**x == k) {
                        return Err(self.err_at(kat, "duplicate map key"));
                    }
                    m.push((Arc::from(k), self.value_at(depth + 1)?));
                }
                Value::Map(m)
            }
            7 => Value::Point {
                lat: self.f64()?,
                lon: self.f64()?,
            },
            8 => {
                let n = self.count(4)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(f32::from_bits(self.u32()?));
                }
                Value::VecF32(v.into_boxed_slice())
            }
            t => return Err(self.err_at(at, format!("unknown value tag {t}"))),
        })
    }
}

pub(crate) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Lengths are bounded by the in-memory sizes we encode; saturate defensively.
pub(crate) fn put_len(out: &mut Vec<u8>, n: usize) {
    put_u32(out, u32::try_from(n).unwrap_or(u32::MAX));
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => put_u8(out, 0),
        Value::Bool(b) => {
            put_u8(out, 1);
            put_u8(out, u8::from(*b));
        }
        Value::Int(i) => {
            put_u8(out, 2);
            put_u64(out, *i as u64);
        }
        Value::Float(f) => {
            put_u8(out, 3);
            put_u64(out, f.to_bits());
        }
        Value::String(s) => {
            put_u8(out, 4);
            put_str(out, s);
        }
        Value::List(l) => {
            put_u8(out, 5);
            put_len(out, l.len());
            for x in l {
                put_value(out, x);
            }
        }
        Value::Map(m) => {
            put_u8(out, 6);
            put_len(out, m.len());
            for (k, x) in m {
                put_str(out, k);
                put_value(out, x);
            }
        }
        Value::Point { lat, lon } => {
            put_u8(out, 7);
            put_u64(out, lat.to_bits());
            put_u64(out, lon.to_bits());
        }
        Value::VecF32(xs) => {
            put_u8(out, 8);
            put_len(out, xs.len());
            for x in xs.iter() {
                put_u32(out, x.to_bits());
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn arb_value() -> BoxedStrategy<Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_map(Value::Float),
            "[a-z]{0,6}".prop_map(|s| Value::str(&s)),
            (any::<f64>(), any::<f64>()).prop_map(|(lat, lon)| Value::Point { lat, lon }),
            prop::collection::vec(any::<f32>(), 0..4)
                .prop_map(|v| Value::VecF32(v.into_boxed_slice())),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                prop::collection::btree_map("[a-c]{1,2}", inner, 0..3).prop_map(|m| {
                    Value::Map(
                        m.into_iter()
                            .map(|(k, v)| (Arc::from(k.as_str()), v))
                            .collect(),
                    )
                }),
            ]
        })
        .boxed()
    }

    /// Bitwise equality (stricter than equivalence: distinguishes 1 from 1.0, -0.0 from 0.0).
    pub fn same_bits(a: &Value, b: &Value) -> bool {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        put_value(&mut x, a);
        put_value(&mut y, b);
        x == y
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn value_round_trip(v in arb_value()) {
            let mut buf = Vec::new();
            put_value(&mut buf, &v);
            let mut r = Reader::new(&buf);
            let back = r.value().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(same_bits(&v, &back));
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn value_decode_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            if r.value().is_ok() {
                prop_assert!(r.pos() <= bytes.len());
            }
        }
    }

    #[test]
    fn errors_have_offsets() {
        let mut r = Reader::new(&[5, 10, 0, 0, 0, 0]);
        let e = r.value().unwrap_err();
        assert_eq!(e.offset, 1);
        let deep: Vec<u8> = std::iter::repeat_n([5u8, 1, 0, 0, 0], 100)
            .flatten()
            .collect();
        assert!(
            Reader::new(&deep)
                .value()
                .unwrap_err()
                .what
                .contains("deep")
        );
        let mut r = Reader::new(&[1, 7]);
        assert_eq!(r.value().unwrap_err().offset, 1);
    }
}
