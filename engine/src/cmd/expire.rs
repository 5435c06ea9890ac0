//! TTL commands: EXPIRE family (with NX/XX/GT/LT), TTL/PTTL, EXPIRETIME/PEXPIRETIME, PERSIST.
//! None of them touch the key's access clock except EXPIRE/PERSIST (writes, as in Redis).
//! Keyspace events: `expire`, `del` (a time in the past deletes the key), `persist`.

use super::Exec;
use crate::ir::{ExpireCond, ExpireSpec, OpError, Reply, TimeUnit};
use crate::notify::class;

pub(super) fn expire(
    x: &mut Exec<'_>,
    key: &[u8],
    at: ExpireSpec,
    cond: ExpireCond,
    cmd: &'static str,
) -> Reply {
    let when = match at {
        ExpireSpec::In(_) | ExpireSpec::At(_) => match x.resolve_expire(at, None, cmd) {
            Ok(Some(when)) => when,
            Ok(None) => return OpError::Syntax.into(),
            Err(e) => return e.into(),
        },
        ExpireSpec::Clear | ExpireSpec::Keep => return OpError::Syntax.into(),
    };
    let Some(current) = x.write_lookup(key).map(|e| e.expire_at_ms()) else {
        return Reply::Int(0);
    };
    let allowed = match cond {
        ExpireCond::Always => true,
        ExpireCond::Nx => current.is_none(),
        ExpireCond::Xx => current.is_some(),
        // No TTL counts as an infinite one.
        ExpireCond::Gt => current.is_some_and(|c| when > c),
        ExpireCond::Lt => current.is_none_or(|c| when < c),
        ExpireCond::XxLt => current.is_some_and(|c| when < c),
    };
    if !allowed {
        return Reply::Int(0);
    }
    let now = x.now_ms;
    if when <= now {
        x.db().remove(key, now);
        x.notify(class::GENERIC, "del", key);
    } else {
        x.db().update(key, now, |e| e.set_expire_at_ms(Some(when)));
        x.notify(class::GENERIC, "expire", key);
    }
    Reply::Int(1)
}

pub(super) fn ttl(x: &mut Exec<'_>, key: &[u8], unit: TimeUnit) -> Reply {
    let now = x.now_ms;
    let Some(e) = x.read_notouch(key) else {
        return Reply::Int(-2);
    };
    match e.expire_at_ms() {
        None => Reply::Int(-1),
        Some(at) => {
            let left = at.saturating_sub(now);
            let left = match unit {
                TimeUnit::Millis => left,
                TimeUnit::Seconds => (left + 500) / 1000,
            };
            Reply::Int(i64::try_from(left).unwrap_or(i64::MAX))
        }
    }
}

pub(super) fn expire_time(x: &mut Exec<'_>, key: &[u8], unit: TimeUnit) -> Reply {
    let Some(e) = x.read_notouch(key) else {
        return Reply::Int(-2);
    };
    match e.expire_at_ms() {
        None => Reply::Int(-1),
        Some(at) => {
            let at = match unit {
                TimeUnit::Millis => at,
                TimeUnit::Seconds => at / 1000,
            };
            Reply::Int(i64::try_from(at).unwrap_or(i64::MAX))
        }
    }
}

pub(super) fn persist(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    let now = x.now_ms;
    let had = x.write_lookup(key).and_then(|e| e.expire_at_ms()).is_some();
    if had {
        x.db().update(key, now, |e| e.set_expire_at_ms(None));
        x.notify(class::GENERIC, "persist", key);
    }
    Reply::Int(i64::from(had))
}

#[cfg(test)]
mod tests {
    use crate::cmd::testutil::*;
    use crate::ir::{ExpireCond, ExpireSpec, Op, OpError, Reply, TimeUnit};

    fn exp(t: &mut T, k: &str, at: ExpireSpec, cond: ExpireCond) -> Reply {
        t.run(Op::Expire {
            cmd: "expire",
            key: b(k),
            at,
            cond,
        })
    }

    #[test]
    fn ttl_and_expiretime() {
        let mut t = T::new();
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(-2));
        assert_eq!(
            t.run(Op::ExpireTime {
                key: b("k"),
                unit: TimeUnit::Seconds
            }),
            Reply::Int(-2)
        );
        t.set("k", "v");
        assert_eq!(
            t.run(Op::Ttl {
                key: b("k"),
                unit: TimeUnit::Seconds
            }),
            Reply::Int(-1)
        );
        assert_eq!(
            t.run(Op::ExpireTime {
                key: b("k"),
                unit: TimeUnit::Millis
            }),
            Reply::Int(-1)
        );
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(10_400), ExpireCond::Always),
            Reply::Int(1)
        );
        assert_eq!(
            t.run(Op::Ttl {
                key: b("k"),
                unit: TimeUnit::Seconds
            }),
            Reply::Int(10)
        );
        t.advance(200);
        assert_eq!(
            t.run(Op::Ttl {
                key: b("k"),
                unit: TimeUnit::Seconds
            }),
            Reply::Int(10)
        );
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(10_200));
        let at = (NOW + 10_400) as i64;
        assert_eq!(
            t.run(Op::ExpireTime {
                key: b("k"),
                unit: TimeUnit::Millis
            }),
            Reply::Int(at)
        );
        assert_eq!(
            t.run(Op::ExpireTime {
                key: b("k"),
                unit: TimeUnit::Seconds
            }),
            Reply::Int(at / 1000)
        );
    }

    #[test]
    fn conditions() {
        let mut t = T::new();
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(100), ExpireCond::Always),
            Reply::Int(0)
        );
        t.set("k", "v");
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(100), ExpireCond::Xx),
            Reply::Int(0)
        );
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(100), ExpireCond::Gt),
            Reply::Int(0)
        );
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(100), ExpireCond::Lt),
            Reply::Int(1)
        );
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(200), ExpireCond::Nx),
            Reply::Int(0)
        );
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(200), ExpireCond::Lt),
            Reply::Int(0)
        );
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(200), ExpireCond::Gt),
            Reply::Int(1)
        );
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::In(50), ExpireCond::Xx),
            Reply::Int(1)
        );
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(50));
        assert_eq!(t.run(Op::Persist { key: b("k") }), Reply::Int(1));
        assert_eq!(t.run(Op::Persist { key: b("k") }), Reply::Int(0));
        assert_eq!(t.shard.keyspace_info(), vec![(0, 1, 0)]);
    }

    #[test]
    fn past_time_deletes_and_overflow_errors() {
        let mut t = T::new();
        t.set("k", "v");
        assert_eq!(
            exp(&mut t, "k", ExpireSpec::At(NOW - 1), ExpireCond::Always),
            Reply::Int(1)
        );
        assert_eq!(t.run(exists(&["k"])), Reply::Int(0));
        let r = exp(&mut t, "k", ExpireSpec::In(u64::MAX), ExpireCond::Always);
        assert_eq!(r, Reply::Err(OpError::InvalidExpireTime("expire")));
    }

    #[test]
    fn lazy_expiry_through_ops() {
        let mut t = T::new();
        t.set("k", "v");
        exp(&mut t, "k", ExpireSpec::In(1000), ExpireCond::Always);
        t.advance(999);
        assert_eq!(t.run(Op::Get { key: b("k") }), bulk("v"));
        t.advance(1);
        assert_eq!(t.run(ttl_ms("k")), Reply::Int(-2));
        assert_eq!(t.run(Op::DbSize), Reply::Int(0));
        assert_eq!(t.shard.stats().expired_keys, 1);
    }
}
