//! Whole-value string commands: GET, SET (all options), SETNX, GETDEL, GETEX, MGET, MSET,
//! MSETNX. Writes store canonical integers as INT; SET clears the TTL unless KEEPTTL.
//! Keyspace events follow t_string.c: `new` when a key is created, `set`, `expire` for a TTL
//! given with the write, `del` for GETDEL (and GETEX with a past time), `expire`/`persist` for
//! GETEX.

use bytes::Bytes;

use super::Exec;
use crate::ir::{ExpireSpec, GetExSpec, OpError, Reply, SetCond};
use crate::keyspace::Entry;
use crate::notify::class;

/// Records `new` if an insert created the key (`replaced` is what the insert returned; an
/// expired entry it replaced does not count as existing).
pub(super) fn notify_created(x: &mut Exec<'_>, replaced: Option<&Entry>, key: &[u8]) {
    if replaced.is_none_or(|old| old.is_expired(x.now_ms)) {
        x.notify(class::NEW, "new", key);
    }
}

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
    if !exists {
        x.notify(class::NEW, "new", key);
    }
    if at.is_some_and(|at| at <= now) {
        // An absolute time already in the past: the write happens and expires at once (Redis
        // reports the set, the expire, and later the expiry).
        x.db().remove(key, now);
        x.notify(class::STRING, "set", key);
        x.notify(class::GENERIC, "expire", key);
        x.notify(class::EXPIRED, "expired", key);
        return done;
    }
    let entry = Entry::new_string(key, value, at, x.now_secs);
    x.db().insert(entry);
    x.notify(class::STRING, "set", key);
    if at.is_some() {
        x.notify(class::GENERIC, "expire", key);
    }
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
        x.notify(class::GENERIC, "del", key);
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
    let (reply, had_ttl) = match x.read(key) {
        None => (Reply::Nil, false),
        Some(e) => (string_reply(Some(e)), e.expire_at_ms().is_some()),
    };
    if !matches!(reply, Reply::Bulk(_)) {
        return reply;
    }
    let now = x.now_ms;
    match new_ttl {
        Some(Some(at)) if at <= now => {
            x.db().remove(key, now);
            x.notify(class::GENERIC, "del", key);
        }
        Some(Some(at)) => {
            x.db().update(key, now, |e| e.set_expire_at_ms(Some(at)));
            x.notify(class::GENERIC, "expire", key);
        }
        Some(None) if had_ttl => {
            x.db().update(key, now, |e| e.set_expire_at_ms(None));
            x.notify(class::GENERIC, "persist", key);
        }
        Some(None) | None => {}
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
        let old = x.db().insert(Entry::new_string(k, v, None, now_secs));
        notify_created(x, old.as_ref(), k);
        x.notify(class::STRING, "set", k);
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
pub(super) mod tests {
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

    /// A shard recording every keyspace event class.
    pub(crate) fn evented() -> T {
        let config = crate::shard::ShardConfig {
            notify_flags: crate::notify::class::ALL | crate::notify::class::NEW,
            ..crate::shard::ShardConfig::default()
        };
        T {
            shard: crate::shard::Shard::new(0, config),
            now: NOW,
        }
    }

    /// The events recorded since the last call, as (db, event, key).
    pub(crate) fn events(t: &mut T) -> Vec<(usize, &'static str, String)> {
        t.shard
            .take_events()
            .into_iter()
            .map(|e| (e.db, e.event, String::from_utf8_lossy(&e.key).into_owned()))
            .collect()
    }

    fn ev(list: &[(&'static str, &str)]) -> Vec<(usize, &'static str, String)> {
        list.iter()
            .map(|(e, k)| (0, *e, (*k).to_string()))
            .collect()
    }

    #[test]
    fn string_keyspace_events() {
        let mut t = evented();
        t.run(set_op("k", "v", SetCond::Always, ExpireSpec::Clear, false));
        assert_eq!(events(&mut t), ev(&[("new", "k"), ("set", "k")]));
        t.run(set_op(
            "k",
            "w",
            SetCond::Always,
            ExpireSpec::In(100),
            false,
        ));
        assert_eq!(events(&mut t), ev(&[("set", "k"), ("expire", "k")]));
        // A blocked conditional SET records nothing.
        t.run(set_op(
            "k",
            "x",
            SetCond::IfAbsent,
            ExpireSpec::Clear,
            false,
        ));
        assert_eq!(events(&mut t), ev(&[]));
        t.run(Op::SetNx {
            key: b("n"),
            value: b("1"),
        });
        assert_eq!(events(&mut t), ev(&[("new", "n"), ("set", "n")]));
        t.run(set_op("p", "v", SetCond::Always, ExpireSpec::At(1), false));
        assert_eq!(
            events(&mut t),
            ev(&[
                ("new", "p"),
                ("set", "p"),
                ("expire", "p"),
                ("expired", "p")
            ])
        );
        t.run(Op::GetEx {
            key: b("k"),
            spec: GetExSpec::Persist,
        });
        assert_eq!(events(&mut t), ev(&[("persist", "k")]));
        t.run(Op::GetEx {
            key: b("k"),
            spec: GetExSpec::Persist,
        });
        assert_eq!(events(&mut t), ev(&[]));
        t.run(Op::GetEx {
            key: b("k"),
            spec: GetExSpec::Set(ExpireSpec::In(50)),
        });
        assert_eq!(events(&mut t), ev(&[("expire", "k")]));
        t.run(Op::GetEx {
            key: b("k"),
            spec: GetExSpec::Set(ExpireSpec::At(1)),
        });
        assert_eq!(events(&mut t), ev(&[("del", "k")]));
        t.run(Op::GetDel { key: b("n") });
        t.run(Op::GetDel { key: b("n") });
        assert_eq!(events(&mut t), ev(&[("del", "n")]));
        t.run(Op::MSet {
            pairs: vec![(b("a"), b("1")), (b("b"), b("2"))],
        });
        assert_eq!(
            events(&mut t),
            ev(&[("new", "a"), ("set", "a"), ("new", "b"), ("set", "b")])
        );
        t.run(Op::MSetNx {
            pairs: vec![(b("a"), b("1")), (b("c"), b("2"))],
        });
        assert_eq!(events(&mut t), ev(&[]));
        t.run(Op::Append {
            key: b("s"),
            value: b("x"),
        });
        t.run(Op::Append {
            key: b("s"),
            value: b("y"),
        });
        assert_eq!(
            events(&mut t),
            ev(&[("new", "s"), ("append", "s"), ("append", "s")])
        );
        for (k, v) in [("r", ""), ("r", "ab"), ("r", "c"), ("r", "")] {
            t.run(Op::SetRange {
                key: b(k),
                offset: 1,
                value: b(v),
            });
        }
        assert_eq!(
            events(&mut t),
            ev(&[("new", "r"), ("setrange", "r"), ("setrange", "r")])
        );
        t.run(Op::IncrBy {
            key: b("c"),
            delta: 1,
        });
        t.run(Op::IncrBy {
            key: b("c"),
            delta: -3,
        });
        t.run(Op::IncrByFloat {
            key: b("f"),
            delta: 1.5,
        });
        t.run(Op::IncrBy {
            key: b("s"),
            delta: 1,
        });
        assert_eq!(
            events(&mut t),
            ev(&[
                ("new", "c"),
                ("incrby", "c"),
                ("incrby", "c"),
                ("new", "f"),
                ("incrbyfloat", "f")
            ])
        );
    }

    #[test]
    fn events_off_by_default_and_filtered_by_class() {
        let mut t = T::new();
        t.set("k", "v");
        assert!(t.shard.take_events().is_empty());
        let config = crate::shard::ShardConfig {
            notify_flags: crate::notify::class::GENERIC,
            ..crate::shard::ShardConfig::default()
        };
        let mut t = T {
            shard: crate::shard::Shard::new(0, config),
            now: NOW,
        };
        t.set("k", "v");
        t.run(Op::Del { keys: vec![b("k")] });
        assert_eq!(events(&mut t), ev(&[("del", "k")]));
    }
}
