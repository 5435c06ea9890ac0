//! Whole-value string commands: GET, SET (all options), SETNX, GETDEL, GETEX, MGET, MSET,
//! MSETNX. Writes store canonical integers as INT; SET clears the TTL unless KEEPTTL.

use bytes::Bytes;

use super::Exec;
use crate::ir::{ExpireSpec, GetExSpec, OpError, Reply, SetCond};
use crate::keyspace::Entry;

/// The reply for a string-or-missing lookup result: bulk, nil, or WRONGTYPE.
fn string_reply(e: Option<&Entry>) -> Reply {
    match e {
        None => Reply::Nil,
        Some(e) => match e.string_value() {
            Some(v) => Reply::Bulk(v.to_bytes()),
            None => Reply::Err(OpError::WrongType),
        },
    }
}

pub(super) fn get(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    string_reply(x.read(key))
}

pub(super) fn set(
    x: &mut Exec<'_>,
    key: &[u8],
    value: &[u8],
    cond: SetCond,
    expire: ExpireSpec,
    get: bool,
) -> Reply {
    if value.len() as u64 > x.config.proto_max_bulk_len {
        return OpError::StringTooLong.into();
    }
    let (exists, old_ttl, old) = match x.write_lookup(key) {
        None => (false, None, Reply::Nil),
        Some(e) => (
            true,
            e.expire_at_ms(),
            if get {
                string_reply(Some(e))
            } else {
                Reply::Nil
            },
        ),
    };
    let at = match x.resolve_expire(expire, old_ttl, "set") {
        Ok(at) => at,
        Err(e) => return e.into(),
    };
    if old.is_err() {
        return old;
    }
    let done = if get { old } else { Reply::Ok };
    let blocked = match cond {
        SetCond::Always => false,
        SetCond::IfAbsent => exists,
        SetCond::IfPresent => !exists,
    };
    if blocked {
        return if get { done } else { Reply::Nil };
    }
    let now = x.now_ms;
    if at.is_some_and(|at| at <= now) {
        // An absolute time already in the past: the write happens and expires at once.
        x.db().remove(key, now);
        return done;
    }
    let entry = Entry::new_string(key, value, at, x.now_secs);
    x.db().insert(entry);
    done
}

pub(super) fn setnx(x: &mut Exec<'_>, key: &[u8], value: &[u8]) -> Reply {
    match set(x, key, value, SetCond::IfAbsent, ExpireSpec::Clear, false) {
        Reply::Ok => Reply::Int(1),
        Reply::Nil => Reply::Int(0),
        other => other,
    }
}

pub(super) fn getdel(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    let reply = string_reply(x.read(key));
    if matches!(reply, Reply::Bulk(_)) {
        let now = x.now_ms;
        x.db().remove(key, now);
    }
    reply
}

pub(super) fn getex(x: &mut Exec<'_>, key: &[u8], spec: GetExSpec) -> Reply {
    let new_ttl = match spec {
        GetExSpec::Unchanged | GetExSpec::Set(ExpireSpec::Keep) => None,
        GetExSpec::Persist | GetExSpec::Set(ExpireSpec::Clear) => Some(None),
        GetExSpec::Set(s) => match x.resolve_expire(s, None, "getex") {
            Ok(at) => Some(at),
            Err(e) => return e.into(),
        },
    };
    let reply = string_reply(x.read(key));
    if !matches!(reply, Reply::Bulk(_)) {
        return reply;
    }
    let now = x.now_ms;
    match new_ttl {
        Some(Some(at)) if at <= now => {
            x.db().remove(key, now);
        }
        Some(at) => {
            x.db().update(key, now, |e| e.set_expire_at_ms(at));
        }
        None => {}
    }
    reply
}

pub(super) fn mget(x: &mut Exec<'_>, keys: &[Bytes]) -> Reply {
    let items = keys
        .iter()
        .map(|k| match x.read(k).and_then(Entry::string_value) {
            Some(v) => Reply::Bulk(v.to_bytes()),
            None => Reply::Nil,
        })
        .collect();
    Reply::Array(items)
}

pub(super) fn mset(x: &mut Exec<'_>, pairs: &[(Bytes, Bytes)]) -> Reply {
    if pairs
        .iter()
        .any(|(_, v)| v.len() as u64 > x.config.proto_max_bulk_len)
    {
        return OpError::StringTooLong.into();
    }
    let now_secs = x.now_secs;
    for (k, v) in pairs {
        x.db().insert(Entry::new_string(k, v, None, now_secs));
    }
    Reply::Ok
}

pub(super) fn msetnx(x: &mut Exec<'_>, pairs: &[(Bytes, Bytes)]) -> Reply {
    let now = x.now_ms;
    if pairs.iter().any(|(k, _)| x.db().contains(k, now)) {
        return Reply::Int(0);
    }
    match mset(x, pairs) {
        Reply::Ok => Reply::Int(1),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::testutil::*;
    use crate::ir::{ExpireSpec, GetExSpec, Op, OpError, Reply, SetCond};

    fn set_op(key: &str, value: &str, cond: SetCond, expire: ExpireSpec, get: bool) -> Op {
        Op::Set {
            key: b(key),
            value: b(value),
            cond,
            expire,
            get,
        }
    }

    #[test]
    fn get_set_basics() {
        let mut t = T::new();
        assert_eq!(t.run(Op::Get { key: b("k") }), Reply::Nil);
        assert_eq!(
            t.run(set_op("k", "v", SetCond::Always, ExpireSpec::Clear, false)),
            Reply::Ok
        );
        assert_eq!(t.run(Op::Get { key: b("k") }), bulk("v"));
        assert_eq!(t.shard.stats().keyspace_hits, 1);
        assert_eq!(t.shard.stats().keyspace_misses, 1);
    }

    #[test]
    fn set_conditions_and_get() {
        let mut t = T::new();
        assert_eq!(
            t.run(set_op(
                "k",
                "1",
                SetCond::IfPresent,
                ExpireSpec::Clear,
                false
            )),
            Reply::Nil
        );
        assert_eq!(
            t.run(set_op(
                "k",
                "1",
                SetCond::IfAbsent,
                ExpireSpec::Clear,
                false
            )),
            Reply::Ok
        );
        assert_eq!(
            t.run(set_op(
                "k",
                "2",
                SetCond::IfAbsent,
                ExpireSpec::Clear,
                false
            )),
            Reply::Nil
        );
        assert_eq!(
            t.run(set_op("k", "2", SetCond::IfAbsent, ExpireSpec::Clear, true)),
            bulk("1")
        );
        assert_eq!(
            t.run(set_op("k", "3", SetCond::Always, ExpireSpec::Clear, true)),
            bulk("1")
        );
        assert_eq!(
            t.run(set_op("n", "3", SetCond::Always, ExpireSpec::Clear, true)),
            Reply::Nil
        );
        assert_eq!(t.run(Op::Get { key: b("k") }), bulk("3"));
        assert_eq!(
            t.run(Op::SetNx {
                key: b("k"),
                value: b("x")
            }),
            Reply::Int(0)
        );
        assert_eq!(
            t.run(Op::SetNx {
                key: b("z"),
                value: b("x")
            }),
            Reply::Int(1)
        );
    }

    #[test]
    fn set_ttl_options() {
        let mut t = T::new();
        t.run(set_op(
            "k",
            "v",
            SetCond::Always,
            ExpireSpec::In(5000),
            false,
        ));
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(5000));
        t.run(set_op("k", "w", SetCond::Always, ExpireSpec::Keep, false));
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(5000));
        t.run(set_op("k", "w", SetCond::Always, ExpireSpec::Clear, false));
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(-1));
        t.run(set_op(
            "k",
            "w",
            SetCond::Always,
            ExpireSpec::At(NOW + 10),
            false,
        ));
        t.advance(10);
        assert_eq!(t.run(Op::Get { key: b("k") }), Reply::Nil);
        assert_eq!(t.shard.stats().expired_keys, 1);
        // Absolute time in the past: OK, and the key is gone.
        t.run(set_op("p", "v", SetCond::Always, ExpireSpec::Clear, false));
        assert_eq!(
            t.run(set_op("p", "v", SetCond::Always, ExpireSpec::At(1), false)),
            Reply::Ok
        );
        assert_eq!(t.run(exists(&["p"])), Reply::Int(0));
        let e = t.run(set_op(
            "o",
            "v",
            SetCond::Always,
            ExpireSpec::In(u64::MAX - 5),
            false,
        ));
        assert_eq!(e, Reply::Err(OpError::InvalidExpireTime("set")));
    }

    #[test]
    fn set_get_on_wrong_type_does_not_write() {
        let mut t = T::new();
        t.put_non_string("h");
        let r = t.run(set_op("h", "v", SetCond::Always, ExpireSpec::Clear, true));
        assert_eq!(r, Reply::Err(OpError::WrongType));
        assert_eq!(t.run(Op::Type { key: b("h") }), Reply::simple("test"));
    }

    #[test]
    fn getdel_getex() {
        let mut t = T::new();
        t.run(set_op("k", "v", SetCond::Always, ExpireSpec::Clear, false));
        assert_eq!(
            t.run(Op::GetEx {
                key: b("k"),
                spec: GetExSpec::Set(ExpireSpec::In(3000))
            }),
            bulk("v")
        );
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(3000));
        assert_eq!(
            t.run(Op::GetEx {
                key: b("k"),
                spec: GetExSpec::Persist
            }),
            bulk("v")
        );
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(-1));
        assert_eq!(
            t.run(Op::GetEx {
                key: b("k"),
                spec: GetExSpec::Set(ExpireSpec::At(5))
            }),
            bulk("v")
        );
        assert_eq!(t.run(Op::Get { key: b("k") }), Reply::Nil);
        assert_eq!(
            t.run(Op::GetEx {
                key: b("k"),
                spec: GetExSpec::Unchanged
            }),
            Reply::Nil
        );
        t.run(set_op("k", "v", SetCond::Always, ExpireSpec::Clear, false));
        assert_eq!(t.run(Op::GetDel { key: b("k") }), bulk("v"));
        assert_eq!(t.run(Op::GetDel { key: b("k") }), Reply::Nil);
        let e = t.run(Op::GetEx {
            key: b("k"),
            spec: GetExSpec::Set(ExpireSpec::In(u64::MAX)),
        });
        assert_eq!(e, Reply::Err(OpError::InvalidExpireTime("getex")));
    }

    #[test]
    fn multi_key() {
        let mut t = T::new();
        let pairs = vec![(b("a"), b("1")), (b("b"), b("2"))];
        assert_eq!(t.run(Op::MSet { pairs }), Reply::Ok);
        let r = t.run(Op::MGet {
            keys: vec![b("a"), b("x"), b("b")],
        });
        assert_eq!(r, Reply::Array(vec![bulk("1"), Reply::Nil, bulk("2")]));
        let pairs = vec![(b("c"), b("3")), (b("a"), b("9"))];
        assert_eq!(t.run(Op::MSetNx { pairs }), Reply::Int(0));
        assert_eq!(t.run(Op::Get { key: b("c") }), Reply::Nil);
        let pairs = vec![(b("c"), b("3")), (b("d"), b("4"))];
        assert_eq!(t.run(Op::MSetNx { pairs }), Reply::Int(1));
        t.put_non_string("h");
        assert_eq!(
            t.run(Op::MGet { keys: vec![b("h")] }),
            Reply::Array(vec![Reply::Nil])
        );
    }
}
