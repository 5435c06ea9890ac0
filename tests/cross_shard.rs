//! Multi-key commands across shards end to end, with `--shards 1` and `--shards 4`:
//! MGET/MSET/MSETNX/DEL/EXISTS/TOUCH over many keys with and without hash tags,
//! RENAME/RENAMENX/COPY between keys on different shards (TTL preserved), and an atomicity
//! smoke test: a reader never sees a half-applied MSET.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Reply, Server};

const KEYS: usize = 200;

fn multi_key_commands(shards: &str) {
    let s = Server::start(&["--shards", shards]);
    let mut c = s.conn();
    for tagged in [false, true] {
        let key = |i: usize| {
            if tagged {
                format!("{{tag}}k{i}")
            } else {
                format!("k{i}")
            }
        };
        let mut mset = vec!["MSET".to_string()];
        for i in 0..KEYS {
            mset.push(key(i));
            mset.push(format!("v{i}"));
        }
        assert_eq!(c.cmd(&mset), Reply::ok());

        let mut mget = vec!["MGET".to_string()];
        mget.extend((0..KEYS + 10).map(key));
        let got = c.cmd(&mget).items();
        assert_eq!(got.len(), KEYS + 10);
        for (i, r) in got.iter().enumerate() {
            if i < KEYS {
                assert_eq!(*r, Reply::bulk(format!("v{i}")), "MGET slot {i}");
            } else {
                assert_eq!(*r, Reply::NilBulk);
            }
        }

        let mut exists = vec!["EXISTS".to_string()];
        exists.extend((0..KEYS + 10).map(key));
        exists.push(key(0));
        assert_eq!(c.cmd(&exists), Reply::Int(KEYS as i64 + 1));
        exists[0] = "TOUCH".into();
        assert_eq!(c.cmd(&exists), Reply::Int(KEYS as i64 + 1));

        // MSETNX is all-or-nothing even when only one key, on some shard, exists.
        let mut msetnx = vec!["MSETNX".to_string()];
        for i in KEYS..KEYS + 20 {
            msetnx.push(key(i));
            msetnx.push("new".into());
        }
        msetnx.push(key(7));
        msetnx.push("clobber".into());
        assert_eq!(c.cmd(&msetnx), Reply::Int(0));
        assert_eq!(
            c.cmd(&["EXISTS", &key(KEYS), &key(KEYS + 19)]),
            Reply::Int(0)
        );
        assert_eq!(c.cmd(&["GET", &key(7)]), Reply::bulk("v7"));
        msetnx.truncate(msetnx.len() - 2);
        assert_eq!(c.cmd(&msetnx), Reply::Int(1));
        assert_eq!(c.cmd(&["GET", &key(KEYS + 5)]), Reply::bulk("new"));

        let mut del = vec!["DEL".to_string()];
        del.extend((0..KEYS + 30).map(key));
        assert_eq!(c.cmd(&del), Reply::Int(KEYS as i64 + 20));
        assert_eq!(c.q("DBSIZE"), Reply::Int(0));
    }
}

#[test]
fn multi_key_commands_one_shard() {
    multi_key_commands("1");
}

#[test]
fn multi_key_commands_four_shards() {
    multi_key_commands("4");
}

fn rename_copy(shards: &str) {
    let s = Server::start(&["--shards", shards]);
    let mut c = s.conn();
    // Enough distinct pairs that, whatever the hash, many cross shards.
    for i in 0..64 {
        let (src, dst, cp) = (format!("src{i}"), format!("dst{i}"), format!("copy{i}"));
        assert_eq!(
            c.cmd(&["SET", &src, &format!("val{i}"), "EX", "1000"]),
            Reply::ok()
        );
        assert_eq!(c.cmd(&["COPY", &src, &cp]), Reply::Int(1));
        assert_eq!(c.cmd(&["RENAME", &src, &dst]), Reply::ok());
        assert_eq!(c.cmd(&["EXISTS", &src]), Reply::Int(0));
        for k in [&dst, &cp] {
            assert_eq!(c.cmd(&["GET", k]), Reply::bulk(format!("val{i}")));
            let ttl = c.cmd(&["TTL", k]).int();
            assert!((900..=1000).contains(&ttl), "TTL of {k} is {ttl}");
        }
        assert_eq!(c.cmd(&["RENAMENX", &dst, &cp]), Reply::Int(0));
        let back = format!("back{i}");
        assert_eq!(c.cmd(&["RENAMENX", &dst, &back]), Reply::Int(1));
        assert!(c.cmd(&["TTL", &back]).int() > 0);
        assert_eq!(c.cmd(&["COPY", &back, &cp]), Reply::Int(0));
        assert_eq!(c.cmd(&["SET", &back, "fresh"]), Reply::ok());
        assert_eq!(c.cmd(&["COPY", &back, &cp, "REPLACE"]), Reply::Int(1));
        assert_eq!(c.cmd(&["GET", &cp]), Reply::bulk("fresh"));
        assert_eq!(c.cmd(&["TTL", &cp]), Reply::Int(-1));
    }
    assert_eq!(c.q("RENAME nope x"), Reply::err("ERR no such key"));
    assert_eq!(c.q("DBSIZE"), Reply::Int(128));
}

#[test]
fn rename_copy_one_shard() {
    rename_copy("1");
}

#[test]
fn rename_copy_four_shards() {
    rename_copy("4");
}

#[test]
fn mset_is_atomic_for_readers() {
    let s = Server::start(&["--shards", "4"]);
    let keys: Vec<String> = (0..16).map(|i| format!("atom{i}")).collect();
    let mut w = s.conn();
    let mut init = vec!["MSET".to_string()];
    for k in &keys {
        init.push(k.clone());
        init.push("0".into());
    }
    assert_eq!(w.cmd(&init), Reply::ok());

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let keys = keys.clone();
        std::thread::spawn(move || {
            let mut generation = 0u64;
            while !stop.load(Ordering::Relaxed) {
                generation += 1;
                let mut args = vec!["MSET".to_string()];
                for k in &keys {
                    args.push(k.clone());
                    args.push(generation.to_string());
                }
                assert_eq!(w.cmd(&args), Reply::ok());
            }
            generation
        })
    };
    let mut r = s.conn();
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    for _ in 0..3000 {
        let vals: Vec<String> = r.cmd(&mget).items().iter().map(Reply::text).collect();
        assert!(
            vals.iter().all(|v| *v == vals[0]),
            "torn MSET observed: {vals:?}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let gens = writer.join().expect("writer");
    assert!(gens > 0);
}
