//! Generic key commands on this shard: DEL, EXISTS, TOUCH, TYPE, RENAME/RENAMENX (both keys
//! here), COPY, MOVE, OBJECT ENCODING/REFCOUNT/IDLETIME/FREQ. Moved and renamed values keep
//! their TTL and access clock; a COPY is a new object (fresh clock), as in Redis.
//! Keyspace events follow db.c: `del`; `new` for every key a RENAME/COPY/MOVE adds to its
//! database (even over a replaced one), then `rename_from`/`rename_to`, `copy_to`,
//! `move_from`/`move_to`, each in the database it names.

use bytes::Bytes;

use super::Exec;
use crate::ir::{OpError, Reply};
use crate::notify::class;

/// Records an event against database `db` instead of the selected one.
fn notify_in(x: &mut Exec<'_>, db: usize, class: u32, event: &'static str, key: &[u8]) {
    let selected = x.db;
    x.db = db;
    x.notify(class, event, key);
    x.db = selected;
}

pub(super) fn del(x: &mut Exec<'_>, keys: &[Bytes]) -> Reply {
    let now = x.now_ms;
    let mut removed = 0;
    for k in keys {
        if x.db().remove(k, now).is_some() {
            removed += 1;
            x.notify(class::GENERIC, "del", k);
        }
    }
    Reply::Int(removed)
}

pub(super) fn exists(x: &mut Exec<'_>, keys: &[Bytes]) -> Reply {
    Reply::Int(keys.iter().filter(|k| x.read_notouch(k).is_some()).count() as i64)
}

pub(super) fn touch(x: &mut Exec<'_>, keys: &[Bytes]) -> Reply {
    // TOUCH updates the clock even under CLIENT NO-TOUCH.
    let now_secs = Some(x.now_secs);
    Reply::Int(
        keys.iter()
            .filter(|k| x.read_with(k, now_secs).is_some())
            .count() as i64,
    )
}

pub(super) fn type_of(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    Reply::simple(x.read_notouch(key).map_or("none", |e| e.type_name()))
}

pub(super) fn rename(x: &mut Exec<'_>, src: &[u8], dst: &[u8], nx: bool) -> Reply {
    let done = |renamed: bool| match (nx, renamed) {
        (false, _) => Reply::Ok,
        (true, r) => Reply::Int(i64::from(r)),
    };
    if x.write_lookup(src).is_none() {
        return OpError::NoSuchKey.into();
    }
    if src == dst {
        return done(false);
    }
    let now = x.now_ms;
    if x.db().contains(dst, now) {
        if nx {
            return done(false);
        }
        x.db().remove(dst, now);
    }
    match x.db().remove(src, now) {
        Some(entry) => {
            x.db().insert(entry.with_key(dst));
            x.notify(class::NEW, "new", dst);
            x.notify(class::GENERIC, "rename_from", src);
            x.notify(class::GENERIC, "rename_to", dst);
            done(true)
        }
        None => OpError::NoSuchKey.into(),
    }
}

pub(super) fn copy(
    x: &mut Exec<'_>,
    src: &[u8],
    dst: &[u8],
    dst_db: Option<usize>,
    replace: bool,
) -> Reply {
    let target = dst_db.unwrap_or(x.db);
    if target >= x.dbs.len() {
        return OpError::DbIndexOutOfRange.into();
    }
    if target == x.db && src == dst {
        return OpError::SameObject.into();
    }
    let Some(entry) = x.read(src).cloned() else {
        return Reply::Int(0);
    };
    let now = x.now_ms;
    let dst_db = &mut x.dbs[target];
    if dst_db.contains(dst, now) {
        if !replace {
            return Reply::Int(0);
        }
        dst_db.remove(dst, now);
    }
    let mut copy = entry.with_key(dst);
    copy.touch(x.now_secs);
    dst_db.insert(copy);
    notify_in(x, target, class::NEW, "new", dst);
    notify_in(x, target, class::GENERIC, "copy_to", dst);
    Reply::Int(1)
}

pub(super) fn move_key(x: &mut Exec<'_>, key: &[u8], db: usize) -> Reply {
    if db >= x.dbs.len() {
        return OpError::DbIndexOutOfRange.into();
    }
    if db == x.db {
        return OpError::SameObject.into();
    }
    let now = x.now_ms;
    if x.write_lookup(key).is_none() || x.dbs[db].contains(key, now) {
        return Reply::Int(0);
    }
    match x.db().remove(key, now) {
        Some(entry) => {
            x.dbs[db].insert(entry);
            notify_in(x, db, class::NEW, "new", key);
            x.notify(class::GENERIC, "move_from", key);
            notify_in(x, db, class::GENERIC, "move_to", key);
            Reply::Int(1)
        }
        None => Reply::Int(0),
    }
}

pub(super) fn object_encoding(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    x.read_notouch(key)
        .map_or(Reply::Nil, |e| Reply::bulk(e.encoding_name().as_bytes()))
}

pub(super) fn object_refcount(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    x.read_notouch(key).map_or(Reply::Nil, |e| {
        Reply::Int(if e.is_shared_int() {
            i64::from(i32::MAX)
        } else {
            1
        })
    })
}

pub(super) fn object_idletime(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    let now_secs = x.now_secs;
    let lfu = x.config.maxmemory_policy.is_lfu();
    x.read_notouch(key).map_or(Reply::Nil, |e| {
        if lfu {
            OpError::Other("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into()).into()
        } else {
            Reply::Int(e.idle_secs(now_secs) as i64)
        }
    })
}

pub(super) fn object_freq(x: &mut Exec<'_>, key: &[u8]) -> Reply {
    let now_secs = x.now_secs;
    let params = x.config.lfu;
    let lfu = x.config.maxmemory_policy.is_lfu();
    x.read_notouch(key).map_or(Reply::Nil, |e| {
        if lfu {
            let c = crate::keyspace::lfu::counter(e.access_secs(), now_secs, params);
            Reply::Int(i64::from(c))
        } else {
            OpError::LfuNotSelected.into()
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::cmd::testutil::*;
    use crate::ir::{ExecCtx, ExpireCond, ExpireSpec, Op, OpError, Reply};

    #[test]
    fn del_exists_touch_type() {
        let mut t = T::new();
        t.set("a", "1");
        t.set("b", "2");
        assert_eq!(t.run(exists(&["a", "a", "x", "b"])), Reply::Int(3));
        assert_eq!(
            t.run(Op::Touch {
                keys: vec![b("a"), b("x")]
            }),
            Reply::Int(1)
        );
        assert_eq!(t.run(Op::Type { key: b("a") }), Reply::simple("string"));
        assert_eq!(t.run(Op::Type { key: b("x") }), Reply::simple("none"));
        assert_eq!(
            t.run(Op::Del {
                keys: vec![b("a"), b("a"), b("x")]
            }),
            Reply::Int(1)
        );
        assert_eq!(t.run(Op::DbSize), Reply::Int(1));
    }

    #[test]
    fn rename_and_renamenx() {
        let mut t = T::new();
        let ren = |t: &mut T, s: &str, d: &str, nx| {
            t.run(Op::Rename {
                src: b(s),
                dst: b(d),
                nx,
            })
        };
        assert_eq!(ren(&mut t, "a", "b", false), Reply::Err(OpError::NoSuchKey));
        assert_eq!(ren(&mut t, "a", "b", true), Reply::Err(OpError::NoSuchKey));
        t.set("a", "1");
        t.run(Op::Expire {
            cmd: "expire",
            key: b("a"),
            at: ExpireSpec::In(5000),
            cond: ExpireCond::Always,
        });
        assert_eq!(ren(&mut t, "a", "a", false), Reply::Ok);
        assert_eq!(ren(&mut t, "a", "a", true), Reply::Int(0));
        assert_eq!(ren(&mut t, "a", "b", false), Reply::Ok);
        assert_eq!(t.run(ttl_ms("b")), Reply::Int(5000));
        assert_eq!(t.run(exists(&["a"])), Reply::Int(0));
        t.set("c", "3");
        assert_eq!(ren(&mut t, "b", "c", true), Reply::Int(0));
        assert_eq!(ren(&mut t, "b", "d", true), Reply::Int(1));
        assert_eq!(ren(&mut t, "d", "c", false), Reply::Ok);
        assert_eq!(t.run(Op::Get { key: b("c") }), bulk("1"));
        assert_eq!(t.shard.keyspace_info(), vec![(0, 1, 1)]);
    }

    #[test]
    fn copy_between_dbs() {
        let mut t = T::new();
        let cp = |t: &mut T, s: &str, d: &str, db, replace| {
            t.run(Op::Copy {
                src: b(s),
                dst: b(d),
                dst_db: db,
                replace,
            })
        };
        assert_eq!(
            cp(&mut t, "a", "a", None, false),
            Reply::Err(OpError::SameObject)
        );
        assert_eq!(
            cp(&mut t, "a", "b", Some(16), false),
            Reply::Err(OpError::DbIndexOutOfRange)
        );
        assert_eq!(cp(&mut t, "a", "b", None, false), Reply::Int(0));
        t.set("a", "1");
        t.set("b", "2");
        assert_eq!(cp(&mut t, "a", "b", None, false), Reply::Int(0));
        assert_eq!(cp(&mut t, "a", "b", None, true), Reply::Int(1));
        assert_eq!(t.run(Op::Get { key: b("b") }), bulk("1"));
        assert_eq!(cp(&mut t, "a", "a", Some(3), false), Reply::Int(1));
        let ctx = ExecCtx {
            db: 3,
            now_ms: NOW,
            no_touch: false,
        };
        assert_eq!(t.shard.apply(&ctx, &Op::Get { key: b("a") }), bulk("1"));
    }

    #[test]
    fn move_between_dbs() {
        let mut t = T::new();
        assert_eq!(
            t.run(Op::Move { key: b("a"), db: 0 }),
            Reply::Err(OpError::SameObject)
        );
        assert_eq!(
            t.run(Op::Move {
                key: b("a"),
                db: 99
            }),
            Reply::Err(OpError::DbIndexOutOfRange)
        );
        assert_eq!(t.run(Op::Move { key: b("a"), db: 1 }), Reply::Int(0));
        t.set("a", "1");
        assert_eq!(t.run(Op::Move { key: b("a"), db: 1 }), Reply::Int(1));
        assert_eq!(t.run(exists(&["a"])), Reply::Int(0));
        t.set("a", "2");
        assert_eq!(t.run(Op::Move { key: b("a"), db: 1 }), Reply::Int(0));
        assert_eq!(t.shard.keyspace_info(), vec![(0, 1, 0), (1, 1, 0)]);
    }

    #[test]
    fn object_subcommands() {
        let mut t = T::new();
        assert_eq!(t.run(Op::ObjectEncoding { key: b("k") }), Reply::Nil);
        assert_eq!(t.run(Op::ObjectFreq { key: b("k") }), Reply::Nil);
        t.set("k", "12");
        t.set("big", "123456");
        t.set("s", "hello");
        assert_eq!(t.run(Op::ObjectEncoding { key: b("k") }), bulk("int"));
        assert_eq!(t.run(Op::ObjectEncoding { key: b("s") }), bulk("embstr"));
        assert_eq!(
            t.run(Op::ObjectRefcount { key: b("k") }),
            Reply::Int(i64::from(i32::MAX))
        );
        assert_eq!(t.run(Op::ObjectRefcount { key: b("big") }), Reply::Int(1));
        assert_eq!(
            t.run(Op::ObjectFreq { key: b("k") }),
            Reply::Err(OpError::LfuNotSelected)
        );
        t.advance(5_000);
        assert_eq!(t.run(Op::ObjectIdletime { key: b("s") }), Reply::Int(5));
        // NO-TOUCH reads leave the clock alone; TOUCH always updates it.
        t.run_ctx(Op::Get { key: b("s") }, true);
        assert_eq!(t.run(Op::ObjectIdletime { key: b("s") }), Reply::Int(5));
        t.run(Op::Get { key: b("s") });
        assert_eq!(t.run(Op::ObjectIdletime { key: b("s") }), Reply::Int(0));
        t.advance(3_000);
        t.run_ctx(Op::Touch { keys: vec![b("s")] }, true);
        assert_eq!(t.run(Op::ObjectIdletime { key: b("s") }), Reply::Int(0));
    }

    #[test]
    fn generic_keyspace_events() {
        use crate::cmd::strings::tests::{evented, events};
        let mut t = evented();
        let own = |list: &[(usize, &'static str, &str)]| -> Vec<(usize, &'static str, String)> {
            list.iter()
                .map(|(d, e, k)| (*d, *e, (*k).to_string()))
                .collect()
        };
        t.set("a", "1");
        t.set("b", "2");
        events(&mut t);
        t.run(Op::Del {
            keys: vec![b("a"), b("x"), b("a")],
        });
        assert_eq!(events(&mut t), own(&[(0, "del", "a")]));
        t.run(Op::Rename {
            src: b("b"),
            dst: b("b"),
            nx: false,
        });
        assert_eq!(events(&mut t), own(&[]));
        t.run(Op::Rename {
            src: b("b"),
            dst: b("c"),
            nx: false,
        });
        assert_eq!(
            events(&mut t),
            own(&[
                (0, "new", "c"),
                (0, "rename_from", "b"),
                (0, "rename_to", "c")
            ])
        );
        t.run(Op::Copy {
            src: b("c"),
            dst: b("d"),
            dst_db: Some(2),
            replace: false,
        });
        assert_eq!(events(&mut t), own(&[(2, "new", "d"), (2, "copy_to", "d")]));
        t.run(Op::Move { key: b("c"), db: 3 });
        assert_eq!(
            events(&mut t),
            own(&[(3, "new", "c"), (0, "move_from", "c"), (3, "move_to", "c")])
        );
        t.set("e", "1");
        events(&mut t);
        let exp = |t: &mut T, at, cond| {
            t.run(Op::Expire {
                cmd: "expire",
                key: b("e"),
                at,
                cond,
            })
        };
        exp(&mut t, ExpireSpec::In(1000), ExpireCond::Always);
        exp(&mut t, ExpireSpec::In(1000), ExpireCond::Nx);
        t.run(Op::Persist { key: b("e") });
        t.run(Op::Persist { key: b("e") });
        exp(&mut t, ExpireSpec::At(NOW - 1), ExpireCond::Always);
        assert_eq!(
            events(&mut t),
            own(&[(0, "expire", "e"), (0, "persist", "e"), (0, "del", "e")])
        );
    }
}
