//! Whole-database ops, run on every shard and merged by the server: KEYS, SCAN (with a
//! shard-local DashTable cursor), RANDOMKEY, SWAPDB. Expired keys are never reported; SCAN and
//! RANDOMKEY reclaim the ones they meet, as Redis does.

use bytes::Bytes;

use super::{Exec, next_rand};
use crate::ir::{OpError, Reply, TypeFilter};
use crate::keyspace::glob::glob_match;

pub(super) fn keys(x: &mut Exec<'_>, pattern: &[u8]) -> Reply {
    let now = x.now_ms;
    let all = pattern == b"*";
    let keys = x
        .db()
        .iter()
        .filter(|e| !e.is_expired(now) && (all || glob_match(pattern, e.key())))
        .map(|e| Reply::bulk(e.key()))
        .collect();
    Reply::Array(keys)
}

fn type_matches(filter: Option<TypeFilter>, type_name: &str) -> bool {
    filter.is_none_or(|f| f.matches(type_name))
}

pub(super) fn scan(
    x: &mut Exec<'_>,
    cursor: u64,
    pattern: Option<&[u8]>,
    count: usize,
    type_filter: Option<TypeFilter>,
) -> Reply {
    let now = x.now_ms;
    let mut found = Vec::new();
    let mut expired: Vec<Box<[u8]>> = Vec::new();
    let next = x.db().scan(cursor, count.max(1), |e| {
        if e.is_expired(now) {
            expired.push(e.key().into());
        } else if type_matches(type_filter, e.type_name())
            && pattern.is_none_or(|p| p == b"*" || glob_match(p, e.key()))
        {
            found.push(Reply::bulk(e.key()));
        }
    });
    x.db().reclaim_expired(&expired, now);
    Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(found),
    ])
}

pub(super) fn random_key(x: &mut Exec<'_>) -> Reply {
    let now = x.now_ms;
    let rng = &mut *x.rng;
    match x.dbs[x.db].random_key(now, || next_rand(rng)) {
        Some(k) => Reply::Bulk(Bytes::from(k)),
        None => Reply::Nil,
    }
}

pub(super) fn swap_db(x: &mut Exec<'_>, a: usize, b: usize) -> Reply {
    if a >= x.dbs.len() || b >= x.dbs.len() {
        return OpError::DbIndexOutOfRange.into();
    }
    x.dbs.swap(a, b);
    Reply::Ok
}

#[cfg(test)]
mod tests {
    use crate::cmd::testutil::*;
    use crate::ir::{ExecCtx, ExpireCond, ExpireSpec, Op, OpError, Reply, TypeFilter};

    fn sorted(r: Reply) -> Vec<Reply> {
        let Reply::Array(mut items) = r else {
            panic!("not an array: {r:?}")
        };
        items.sort_by_key(|r| format!("{r:?}"));
        items
    }

    #[test]
    fn keys_with_patterns_skip_expired() {
        let mut t = T::new();
        for k in ["hello", "hallo", "hxllo", "other"] {
            t.set(k, "v");
        }
        t.run(Op::Expire {
            cmd: "expire",
            key: b("hxllo"),
            at: ExpireSpec::In(10),
            cond: ExpireCond::Always,
        });
        t.advance(10);
        assert_eq!(
            sorted(t.run(Op::Keys {
                pattern: b("h[ae]llo")
            })),
            vec![bulk("hallo"), bulk("hello")]
        );
        assert_eq!(sorted(t.run(Op::Keys { pattern: b("*") })).len(), 3);
    }

    #[test]
    fn scan_returns_cursor_and_keys() {
        let mut t = T::new();
        t.set("a1", "v");
        t.set("a2", "v");
        t.set("b1", "v");
        let mut all = Vec::new();
        let mut cursor = 0;
        loop {
            let r = t.run(Op::Scan {
                cursor,
                pattern: Some(b("a*")),
                count: 10,
                type_filter: Some(TypeFilter::String),
            });
            let Reply::Array(parts) = r else { panic!() };
            let Reply::Bulk(next) = &parts[0] else {
                panic!()
            };
            cursor = std::str::from_utf8(next).unwrap().parse().unwrap();
            all.extend(sorted(parts[1].clone()));
            if cursor == 0 {
                break;
            }
        }
        all.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(all, vec![bulk("a1"), bulk("a2")]);
        let r = t.run(Op::Scan {
            cursor: 0,
            pattern: None,
            count: 10,
            type_filter: Some(TypeFilter::Other),
        });
        assert_eq!(r, Reply::Array(vec![bulk("0"), Reply::Array(vec![])]));
    }

    #[test]
    fn randomkey_dbsize_flush_swap() {
        let mut t = T::new();
        assert_eq!(t.run(Op::RandomKey), Reply::Nil);
        t.set("a", "1");
        assert_eq!(t.run(Op::RandomKey), bulk("a"));
        assert_eq!(t.run(Op::SwapDb { a: 0, b: 2 }), Reply::Ok);
        assert_eq!(t.run(Op::DbSize), Reply::Int(0));
        let ctx2 = ExecCtx {
            db: 2,
            now_ms: NOW,
            no_touch: false,
        };
        assert_eq!(t.shard.apply(&ctx2, &Op::DbSize), Reply::Int(1));
        assert_eq!(
            t.run(Op::SwapDb { a: 0, b: 16 }),
            Reply::Err(OpError::DbIndexOutOfRange)
        );
        t.set("b", "1");
        assert_eq!(t.run(Op::FlushDb), Reply::Ok);
        assert_eq!(t.shard.apply(&ctx2, &Op::DbSize), Reply::Int(1));
        assert_eq!(t.run(Op::FlushAll), Reply::Ok);
        assert_eq!(t.shard.apply(&ctx2, &Op::DbSize), Reply::Int(0));
        assert!(t.shard.keyspace_info().is_empty());
    }
}
