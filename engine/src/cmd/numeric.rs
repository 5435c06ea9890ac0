//! Counters: INCR/DECR/INCRBY/DECRBY and INCRBYFLOAT, plus the number parsing and formatting
//! rules they share with Redis. The TTL of an incremented key is kept. Keyspace events: `new`
//! when a key is created, then `incrby` (every integer counter) or `incrbyfloat`.
//!
//! Floats are f64 where Redis uses long double. Redis prints 17 fractional digits of a long
//! double and trims zeros, which hides binary rounding (0.1 + 0.2 prints "0.3"). The f64
//! equivalent is rounding to 15 significant digits (`DBL_DIG`, every such decimal survives a
//! round trip through f64), printed in plain decimal (never an exponent), zeros trimmed, "-0" as
//! "0". Values with more than 15 significant digits therefore print shorter than in Redis.

use super::Exec;
use crate::ir::{OpError, Reply};
use crate::keyspace::entry::parse_canonical_i64;
use crate::keyspace::{Entry, StrRef};
use crate::notify::class;

/// The current value of `key` as an integer (0 if missing).
fn current_int(x: &mut Exec<'_>, key: &[u8]) -> Result<(i64, bool), OpError> {
    match x.write_lookup(key) {
        None => Ok((0, false)),
        Some(e) => match e.string_value() {
            None => Err(OpError::WrongType),
            Some(StrRef::Int(i)) => Ok((i, true)),
            Some(StrRef::Bytes(b)) => parse_canonical_i64(b)
                .map(|i| (i, true))
                .ok_or(OpError::NotInteger),
        },
    }
}

/// Replaces the value of `key` (existing or not) keeping its TTL.
fn store(x: &mut Exec<'_>, key: &[u8], exists: bool, make: impl FnOnce(Option<u64>, u32) -> Entry) {
    let (now, now_secs) = (x.now_ms, x.now_secs);
    if exists {
        x.db()
            .update(key, now, |e| *e = make(e.expire_at_ms(), now_secs));
    } else {
        x.db().insert(make(None, now_secs));
        x.notify(class::NEW, "new", key);
    }
}

pub(super) fn incr_by(x: &mut Exec<'_>, key: &[u8], delta: i64) -> Reply {
    let (value, exists) = match current_int(x, key) {
        Ok(v) => v,
        Err(e) => return e.into(),
    };
    let Some(new) = value.checked_add(delta) else {
        return OpError::Overflow.into();
    };
    let now = x.now_ms;
    let updated = exists
        && x.db()
            .update(key, now, |e| e.set_int_in_place(new))
            .unwrap_or(false);
    if !updated {
        store(x, key, exists, |ttl, now| {
            Entry::new_int(key, new, ttl, now)
        });
    }
    x.notify(class::STRING, "incrby", key);
    Reply::Int(new)
}

/// Redis's `string2ld` for stored values: a full-string float, no leading space, not NaN.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.first().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// Formats a float like Redis's human-readable long-double form (see the module docs).
/// Infinities print as "inf"/"-inf".
pub fn format_float(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    // Round to 15 significant digits through the exponent form, then print the nearest f64
    // with Display: the shortest round-trip decimal (which is that 15-digit value), no exponent.
    let rounded: f64 = format!("{v:.14e}").parse().unwrap_or(v);
    format!("{rounded}")
}

pub(super) fn incr_by_float(x: &mut Exec<'_>, key: &[u8], delta: f64) -> Reply {
    let (value, exists) = match x.write_lookup(key) {
        None => (0.0, false),
        Some(e) => match e.string_value() {
            None => return OpError::WrongType.into(),
            Some(StrRef::Int(i)) => (i as f64, true),
            Some(StrRef::Bytes(b)) => match parse_float(b) {
                Some(v) => (v, true),
                None => return OpError::NotFloat.into(),
            },
        },
    };
    let new = value + delta;
    if !new.is_finite() {
        return OpError::NanOrInfinity.into();
    }
    let text = format_float(new);
    // Redis stores the printed result as a plain string object (not INT-encoded).
    store(x, key, exists, |ttl, now| {
        Entry::new_embstr(key, text.as_bytes(), ttl, now)
    });
    x.notify(class::STRING, "incrbyfloat", key);
    Reply::Bulk(bytes::Bytes::from(text))
}

#[cfg(test)]
mod tests {
    use super::{format_float, parse_float};
    use crate::cmd::testutil::*;
    use crate::ir::{ExpireSpec, Op, OpError, Reply, SetCond};

    fn incr(t: &mut T, k: &str, d: i64) -> Reply {
        t.run(Op::IncrBy {
            key: b(k),
            delta: d,
        })
    }

    fn incrf(t: &mut T, k: &str, d: f64) -> Reply {
        t.run(Op::IncrByFloat {
            key: b(k),
            delta: d,
        })
    }

    #[test]
    fn incr_family() {
        let mut t = T::new();
        assert_eq!(incr(&mut t, "c", 1), Reply::Int(1));
        assert_eq!(incr(&mut t, "c", -5), Reply::Int(-4));
        t.set("c", "9223372036854775806");
        assert_eq!(incr(&mut t, "c", 1), Reply::Int(i64::MAX));
        assert_eq!(incr(&mut t, "c", 1), Reply::Err(OpError::Overflow));
        t.set("s", "abc");
        assert_eq!(incr(&mut t, "s", 1), Reply::Err(OpError::NotInteger));
        t.set("s", " 1");
        assert_eq!(incr(&mut t, "s", 1), Reply::Err(OpError::NotInteger));
        t.run(Op::Append {
            key: b("r"),
            value: b("1"),
        });
        t.run(Op::Append {
            key: b("r"),
            value: b("0"),
        });
        assert_eq!(incr(&mut t, "r", 1), Reply::Int(11));
        assert_eq!(t.run(Op::ObjectEncoding { key: b("r") }), bulk("int"));
        t.put_non_string("h");
        assert_eq!(incr(&mut t, "h", 1), Reply::Err(OpError::WrongType));
    }

    #[test]
    fn incr_keeps_ttl() {
        let mut t = T::new();
        let set = Op::Set {
            key: b("c"),
            value: b("1"),
            cond: SetCond::Always,
            expire: ExpireSpec::In(9000),
            get: false,
        };
        t.run(set);
        incr(&mut t, "c", 1);
        incrf(&mut t, "c", 0.5);
        assert_eq!(t.run(ttl_ms("c")), Reply::Int(9000));
    }

    #[test]
    fn incrbyfloat() {
        let mut t = T::new();
        assert_eq!(incrf(&mut t, "f", 10.5), bulk("10.5"));
        assert_eq!(incrf(&mut t, "f", 0.1), bulk("10.6"));
        assert_eq!(incrf(&mut t, "f", -10.6), bulk("0"));
        t.set("e", "5.0e3");
        assert_eq!(incrf(&mut t, "e", 200.0), bulk("5200"));
        assert_eq!(t.run(Op::ObjectEncoding { key: b("e") }), bulk("embstr"));
        t.set("x", "abc");
        assert_eq!(incrf(&mut t, "x", 1.0), Reply::Err(OpError::NotFloat));
        t.set("big", "1.7976931348623157e308");
        assert_eq!(
            incrf(&mut t, "big", 1.7976931348623157e308),
            Reply::Err(OpError::NanOrInfinity)
        );
        t.set("i", "3");
        assert_eq!(incrf(&mut t, "i", 1.5), bulk("4.5"));
    }

    #[test]
    fn float_text_rules() {
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(-0.0), "0");
        assert_eq!(format_float(1e20), "100000000000000000000");
        assert_eq!(format_float(1.5e-7), "0.00000015");
        assert_eq!(format_float(0.1 + 0.2), "0.3");
        assert_eq!(format_float(17179869185.5), "17179869185.5");
        assert_eq!(format_float(-1.0 / 3.0), "-0.333333333333333");
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b"1 "), None);
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b"-2.5"), Some(-2.5));
    }
}
