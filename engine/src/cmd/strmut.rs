//! In-place string edits and byte-range reads: APPEND, SETRANGE (both switch the value to the
//! growable raw encoding, as Redis unshares it), STRLEN, GETRANGE. Growth is capped by
//! `proto_max_bulk_len`; the TTL is kept. Keyspace events: `new` when a key is created, then
//! `append` / `setrange` (none for a SETRANGE that writes nothing).

use bytes::Bytes;

use super::Exec;
use crate::ir::{OpError, Reply};
use crate::keyspace::Entry;
use crate::notify::class;

/// Redis's `checkStringLength`: `size + append` must not exceed the limit.
fn check_len(x: &Exec<'_>, size: u64, append: u64) -> Result<(), OpError> {
    match size.checked_add(append) {
        Some(total) if total <= x.config.proto_max_bulk_len => Ok(()),
        _ => Err(OpError::StringTooLong),
    }
}

pub(super) fn append(x: &mut Exec<'_>, key: &[u8], value: &[u8]) -> Reply {
    let current = match x.write_lookup(key) {
        None => None,
        Some(e) => match e.string_value() {
            Some(v) => Some(v.len()),
            None => return OpError::WrongType.into(),
        },
    };
    let Some(len) = current else {
        // A new key is encoded like SET would (Redis runs tryObjectEncoding here).
        let entry = Entry::new_string(key, value, None, x.now_secs);
        x.db().insert(entry);
        x.notify(class::NEW, "new", key);
        x.notify(class::STRING, "append", key);
        return Reply::Int(value.len() as i64);
    };
    if let Err(e) = check_len(x, len as u64, value.len() as u64) {
        return e.into();
    }
    let now = x.now_ms;
    let total = x.db().update(key, now, |e| {
        e.raw_string_mut().map(|raw| {
            raw.extend_from_slice(value);
            raw.len()
        })
    });
    match total.flatten() {
        Some(n) => {
            x.notify(class::STRING, "append", key);
            Reply::Int(n as i64)
        }
        None => OpError::WrongType.into(),
    }
}

pub(super) fn strlen(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    match x.read(key) {
        None => Reply::Int(0),
        Some(e) => match e.string_value() {
            Some(v) => Reply::Int(v.len() as i64),
            None => OpError::WrongType.into(),
        },
    }
}

/// GETRANGE's index arithmetic (Redis 7): the inclusive byte range to return, or `None` for
/// the empty string.
pub fn range_bounds(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    }
    .max(0);
    let mut end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    }
    .max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

pub(super) fn getrange(x: &mut Exec<'_>, key: &[u8], start: i64, end: i64) -> Reply {
    let Some(e) = x.read(key) else {
        return Reply::Bulk(Bytes::new());
    };
    let Some(v) = e.string_value() else {
        return OpError::WrongType.into();
    };
    let owned;
    let bytes: &[u8] = match v {
        crate::keyspace::StrRef::Bytes(b) => b,
        crate::keyspace::StrRef::Int(_) => {
            owned = v.to_vec();
            &owned
        }
    };
    match range_bounds(bytes.len(), start, end) {
        Some((s, e)) => Reply::bulk(&bytes[s..=e]),
        None => Reply::Bulk(Bytes::new()),
    }
}

pub(super) fn setrange(x: &mut Exec<'_>, key: &[u8], offset: u64, value: &[u8]) -> Reply {
    let current = match x.write_lookup(key) {
        None => None,
        Some(e) => match e.string_value() {
            Some(v) => Some(v.len()),
            None => return OpError::WrongType.into(),
        },
    };
    if value.is_empty() {
        return Reply::Int(current.unwrap_or(0) as i64);
    }
    if let Err(e) = check_len(x, offset, value.len() as u64) {
        return e.into();
    }
    // Within the limit, so it fits in memory-sized integers.
    let (offset, end) = (offset as usize, offset as usize + value.len());
    let write = |raw: &mut Vec<u8>| {
        if raw.len() < end {
            raw.resize(end, 0);
        }
        raw[offset..end].copy_from_slice(value);
        raw.len()
    };
    let now = x.now_ms;
    if current.is_none() {
        let mut raw = Vec::new();
        let n = write(&mut raw);
        let entry = Entry::new_raw(key, raw, None, x.now_secs);
        x.db().insert(entry);
        x.notify(class::NEW, "new", key);
        x.notify(class::STRING, "setrange", key);
        return Reply::Int(n as i64);
    }
    match x
        .db()
        .update(key, now, |e| e.raw_string_mut().map(write))
        .flatten()
    {
        Some(n) => {
            x.notify(class::STRING, "setrange", key);
            Reply::Int(n as i64)
        }
        None => OpError::WrongType.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::range_bounds;
    use crate::cmd::testutil::*;
    use crate::ir::{Op, OpError, Reply};

    #[test]
    fn append_and_strlen() {
        let mut t = T::new();
        assert_eq!(
            t.run(Op::Append {
                key: b("k"),
                value: b("12")
            }),
            Reply::Int(2)
        );
        assert_eq!(t.run(Op::ObjectEncoding { key: b("k") }), bulk("int"));
        assert_eq!(
            t.run(Op::Append {
                key: b("k"),
                value: b("3")
            }),
            Reply::Int(3)
        );
        assert_eq!(t.run(Op::ObjectEncoding { key: b("k") }), bulk("raw"));
        assert_eq!(t.run(Op::Get { key: b("k") }), bulk("123"));
        assert_eq!(t.run(Op::StrLen { key: b("k") }), Reply::Int(3));
        assert_eq!(t.run(Op::StrLen { key: b("none") }), Reply::Int(0));
        t.put_non_string("h");
        assert_eq!(
            t.run(Op::Append {
                key: b("h"),
                value: b("x")
            }),
            Reply::Err(OpError::WrongType)
        );
        assert_eq!(
            t.run(Op::StrLen { key: b("h") }),
            Reply::Err(OpError::WrongType)
        );
    }

    #[test]
    fn append_keeps_ttl_and_respects_limit() {
        let mut t = T::with_limit(5);
        t.run(Op::Set {
            key: b("k"),
            value: b("abc"),
            cond: crate::ir::SetCond::Always,
            expire: crate::ir::ExpireSpec::In(1000),
            get: false,
        });
        assert_eq!(
            t.run(Op::Append {
                key: b("k"),
                value: b("de")
            }),
            Reply::Int(5)
        );
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(1000));
        assert_eq!(
            t.run(Op::Append {
                key: b("k"),
                value: b("f")
            }),
            Reply::Err(OpError::StringTooLong)
        );
    }

    #[test]
    fn getrange_indexes() {
        let mut t = T::new();
        t.set("k", "This is a string");
        let gr = |t: &mut T, s, e| {
            t.run(Op::GetRange {
                key: b("k"),
                start: s,
                end: e,
            })
        };
        assert_eq!(gr(&mut t, 0, 3), bulk("This"));
        assert_eq!(gr(&mut t, -3, -1), bulk("ing"));
        assert_eq!(gr(&mut t, 0, -1), bulk("This is a string"));
        assert_eq!(gr(&mut t, 10, 100), bulk("string"));
        assert_eq!(gr(&mut t, -1, -5), bulk(""));
        assert_eq!(gr(&mut t, 5, 3), bulk(""));
        assert_eq!(gr(&mut t, i64::MIN, i64::MAX), bulk("This is a string"));
        t.set("n", "12345");
        assert_eq!(
            t.run(Op::GetRange {
                key: b("n"),
                start: 1,
                end: 2
            }),
            bulk("23")
        );
        assert_eq!(
            t.run(Op::GetRange {
                key: b("x"),
                start: 0,
                end: -1
            }),
            bulk("")
        );
        assert_eq!(range_bounds(0, 0, -1), None);
    }

    #[test]
    fn setrange_pads_and_checks() {
        let mut t = T::with_limit(100);
        let sr = |t: &mut T, k: &str, o, v: &str| {
            t.run(Op::SetRange {
                key: b(k),
                offset: o,
                value: b(v),
            })
        };
        assert_eq!(sr(&mut t, "k", 0, ""), Reply::Int(0));
        assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
        assert_eq!(sr(&mut t, "k", 3, "ab"), Reply::Int(5));
        assert_eq!(t.run(Op::Get { key: b("k") }), Reply::bulk(b"\0\0\0ab"));
        assert_eq!(sr(&mut t, "k", 1, "Z"), Reply::Int(5));
        assert_eq!(t.run(Op::Get { key: b("k") }), Reply::bulk(b"\0Z\0ab"));
        assert_eq!(sr(&mut t, "k", 0, ""), Reply::Int(5));
        assert_eq!(
            sr(&mut t, "k", 99, "ab"),
            Reply::Err(OpError::StringTooLong)
        );
        assert_eq!(
            sr(&mut t, "k", u64::MAX, "ab"),
            Reply::Err(OpError::StringTooLong)
        );
        t.set("n", "42");
        assert_eq!(sr(&mut t, "n", 2, "0"), Reply::Int(3));
        assert_eq!(t.run(Op::Get { key: b("n") }), bulk("420"));
    }
}
