//! Set commands end to end: SADD/SREM/SCARD/SISMEMBER/SMISMEMBER/SMEMBERS, SRANDMEMBER/SPOP
//! with counts, SMOVE, SINTER/SUNION/SDIFF and their STORE forms, SINTERCARD, SSCAN — replies
//! (RESP2 and RESP3 shapes), error texts and WRONGTYPE as redis-server 7 gives them, the
//! intset/listpack/hashtable encodings exactly at their thresholds (changed with CONFIG SET),
//! and the multi-key commands over keys owned by different shards.

mod common;

use std::collections::HashSet;

use common::{Conn, Reply, Server};

fn int(i: i64) -> Reply {
    Reply::Int(i)
}

/// The members of an aggregate reply, sorted.
fn sorted(r: &Reply) -> Vec<String> {
    let mut v: Vec<String> = r.items().iter().map(Reply::text).collect();
    v.sort();
    v
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn wrongtype() -> Reply {
    Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value")
}

fn encoding(c: &mut Conn, key: &str) -> String {
    c.cmd(&["OBJECT", "ENCODING", key]).text()
}

/// SADD of many members in one command.
fn sadd_many(c: &mut Conn, key: &str, members: impl IntoIterator<Item = String>) -> Reply {
    let mut args = vec!["SADD".to_string(), key.to_string()];
    args.extend(members);
    c.cmd(&args)
}

#[test]
fn membership_commands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("SADD s a b c a"), int(3));
    assert_eq!(c.q("SADD s c d"), int(1));
    assert_eq!(c.q("SCARD s"), int(4));
    assert_eq!(c.q("SCARD nokey"), int(0));
    assert_eq!(c.q("SISMEMBER s a"), int(1));
    assert_eq!(c.q("SISMEMBER s z"), int(0));
    assert_eq!(c.q("SISMEMBER nokey a"), int(0));
    assert_eq!(
        c.q("SMISMEMBER s a z d"),
        Reply::Array(vec![int(1), int(0), int(1)])
    );
    assert_eq!(
        c.q("SMISMEMBER nokey a b"),
        Reply::Array(vec![int(0), int(0)])
    );
    assert_eq!(sorted(&c.q("SMEMBERS s")), strs(&["a", "b", "c", "d"]));
    assert_eq!(c.q("SMEMBERS nokey"), Reply::Array(vec![]));
    assert_eq!(c.cmd(&["SADD", "bin", "a\r\n\0b", ""]), int(2));
    assert_eq!(c.cmd(&["SISMEMBER", "bin", ""]), int(1));
    assert_eq!(sorted(&c.q("SMEMBERS bin")), strs(&["", "a\r\n\0b"]));

    assert_eq!(c.q("SREM s a z"), int(1));
    assert_eq!(c.q("SREM nokey a"), int(0));
    assert_eq!(c.q("SREM s b c d"), int(3));
    assert_eq!(c.q("EXISTS s"), int(0), "an emptied set is deleted");

    // Integers are members like any string (and keep their spelling).
    assert_eq!(c.q("SADD n 1 01 -0 +1 1"), int(4));
    assert_eq!(sorted(&c.q("SMEMBERS n")), strs(&["+1", "-0", "01", "1"]));
    assert_eq!(c.q("SISMEMBER n 1"), int(1));
    assert_eq!(c.q("SREM n 01"), int(1));
    assert_eq!(c.q("SISMEMBER n 1"), int(1));

    for (cmd, name) in [
        ("SADD", "sadd"),
        ("SREM", "srem"),
        ("SMISMEMBER", "smismember"),
    ] {
        assert_eq!(
            c.cmd(&[cmd, "k"]),
            Reply::err(&format!(
                "ERR wrong number of arguments for '{name}' command"
            ))
        );
    }
    assert_eq!(
        c.q("SISMEMBER s"),
        Reply::err("ERR wrong number of arguments for 'sismember' command")
    );
    assert_eq!(
        c.q("SCARD a b"),
        Reply::err("ERR wrong number of arguments for 'scard' command")
    );
}

#[test]
fn wrongtype_everywhere() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET str v");
    c.q("SADD set a");
    for cmd in [
        "SADD str a",
        "SREM str a",
        "SCARD str",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SMEMBERS str",
        "SRANDMEMBER str",
        "SRANDMEMBER str 2",
        "SPOP str",
        "SPOP str 2",
        "SPOP str 0",
        "SMOVE str set a",
        "SMOVE set str a",
        "SINTER set str",
        "SINTER nokey str",
        "SINTERSTORE d set str",
        "SINTERCARD 2 nokey str",
        "SUNION set str",
        "SUNIONSTORE d set str",
        "SDIFF set str",
        "SDIFF nokey str",
        "SDIFFSTORE d set str",
        "SSCAN str 0",
        "SSCAN str 0 COUNT 0",
    ] {
        assert_eq!(c.q(cmd), wrongtype(), "{cmd}");
    }
    // SMOVE from a missing source answers 0 before looking at the destination's type.
    assert_eq!(c.q("SMOVE nokey str a"), int(0));
    // A failed STORE leaves the destination alone.
    c.q("SET d keep");
    assert_eq!(c.q("SUNIONSTORE d set str"), wrongtype());
    assert_eq!(c.q("GET d"), Reply::bulk("keep"));
    assert_eq!(c.q("GET str"), Reply::bulk("v"));
    assert_eq!(c.q("SCARD set"), int(1));
}

#[test]
fn spop_and_srandmember() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let all = strs(&["a", "b", "c", "d", "e"]);
    c.q("SADD s a b c d e");
    // Without count: one member, or nil.
    let one = c.q("SRANDMEMBER s").text();
    assert!(all.contains(&one));
    assert!(c.q("SRANDMEMBER nokey").is_nil());
    // Positive count: distinct members, at most the set.
    for n in 1..=7usize {
        let got = sorted(&c.cmd(&["SRANDMEMBER", "s", &n.to_string()]));
        assert_eq!(got.len(), n.min(5));
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), got.len());
        assert!(got.iter().all(|m| all.contains(m)));
    }
    assert_eq!(c.q("SRANDMEMBER s 0"), Reply::Array(vec![]));
    assert_eq!(c.q("SRANDMEMBER nokey 5"), Reply::Array(vec![]));
    // Negative count: exactly |count| members, repeats allowed.
    let got = c.q("SRANDMEMBER s -20").items();
    assert_eq!(got.len(), 20);
    assert!(got.iter().all(|m| all.contains(&m.text())));
    assert_eq!(c.q("SCARD s"), int(5));
    let range = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
    assert_eq!(c.q("SRANDMEMBER s -9223372036854775808"), Reply::err(range));
    assert_eq!(
        c.q("SRANDMEMBER s x"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.q("SRANDMEMBER s 1 2"), Reply::err("ERR syntax error"));

    // SPOP.
    let popped = c.q("SPOP s").text();
    assert!(all.contains(&popped));
    assert_eq!(c.cmd(&["SISMEMBER", "s", &popped]), int(0));
    assert_eq!(c.q("SPOP s 0"), Reply::Array(vec![]));
    let two = sorted(&c.q("SPOP s 2"));
    assert_eq!(two.len(), 2);
    assert_eq!(c.q("SCARD s"), int(2));
    let rest = sorted(&c.q("SPOP s 10"));
    assert_eq!(rest.len(), 2);
    let mut every: Vec<String> = [vec![popped], two, rest].concat();
    every.sort();
    assert_eq!(every, all);
    assert_eq!(c.q("EXISTS s"), int(0));
    assert!(c.q("SPOP s").is_nil());
    assert_eq!(c.q("SPOP s 3"), Reply::Array(vec![]));
    let positive = Reply::err("ERR value is out of range, must be positive");
    assert_eq!(c.q("SPOP s -1"), positive);
    assert_eq!(c.q("SPOP s x"), positive);
    assert_eq!(c.q("SPOP s 1 2"), Reply::err("ERR syntax error"));

    // A big set popped down to a few members.
    assert_eq!(
        sadd_many(&mut c, "big", (0..300).map(|i| format!("m{i}"))),
        int(300)
    );
    let popped: HashSet<String> = c
        .q("SPOP big 296")
        .items()
        .iter()
        .map(Reply::text)
        .collect();
    assert_eq!(popped.len(), 296);
    let left = sorted(&c.q("SMEMBERS big"));
    assert_eq!(left.len(), 4);
    assert!(left.iter().all(|m| !popped.contains(m)));
    // Integers pop back as their decimal form.
    c.q("SADD ints 7");
    assert_eq!(c.q("SPOP ints"), Reply::bulk("7"));
}

#[test]
fn smove() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SADD src a b 1");
    c.q("SADD dst x");
    assert_eq!(c.q("SMOVE src dst a"), int(1));
    assert_eq!(sorted(&c.q("SMEMBERS dst")), strs(&["a", "x"]));
    assert_eq!(c.q("SMOVE src dst zz"), int(0));
    assert_eq!(c.q("SMOVE nokey dst a"), int(0));
    assert_eq!(c.q("SMOVE src src b"), int(1));
    assert_eq!(c.q("SMOVE src src zz"), int(0));
    // Already in the destination: still moved out of the source.
    c.q("SADD dst b");
    assert_eq!(c.q("SMOVE src dst b"), int(1));
    assert_eq!(c.q("SISMEMBER src b"), int(0));
    // Into a new key, emptying the source.
    assert_eq!(c.q("SMOVE src fresh 1"), int(1));
    assert_eq!(c.q("EXISTS src"), int(0));
    assert_eq!(encoding(&mut c, "fresh"), "intset");
    assert_eq!(
        c.q("SMOVE a b"),
        Reply::err("ERR wrong number of arguments for 'smove' command")
    );
}

#[test]
fn algebra_and_store_forms() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SADD a 1 2 3 x");
    c.q("SADD b 2 3 4 x");
    c.q("SADD c 3 x y");
    assert_eq!(sorted(&c.q("SINTER a b c")), strs(&["3", "x"]));
    assert_eq!(sorted(&c.q("SINTER a")), strs(&["1", "2", "3", "x"]));
    assert_eq!(c.q("SINTER a nokey"), Reply::Array(vec![]));
    assert_eq!(
        sorted(&c.q("SUNION a nokey c")),
        strs(&["1", "2", "3", "x", "y"])
    );
    assert_eq!(sorted(&c.q("SDIFF a b")), strs(&["1"]));
    assert_eq!(sorted(&c.q("SDIFF a nokey c")), strs(&["1", "2"]));
    assert_eq!(c.q("SDIFF a b a"), Reply::Array(vec![]));
    assert_eq!(c.q("SDIFF nokey a"), Reply::Array(vec![]));
    // SUNION of integer sets answers in intset (ascending) order.
    c.q("SADD i1 30 10");
    c.q("SADD i2 20 -5");
    assert_eq!(c.q("SUNION i1 i2"), Reply::bulks(&["-5", "10", "20", "30"]));

    assert_eq!(c.q("SINTERSTORE d a b"), int(3));
    assert_eq!(sorted(&c.q("SMEMBERS d")), strs(&["2", "3", "x"]));
    assert_eq!(encoding(&mut c, "d"), "listpack");
    assert_eq!(c.q("SINTERSTORE d a b nokey"), int(0));
    assert_eq!(c.q("EXISTS d"), int(0));
    assert_eq!(c.q("SUNIONSTORE d a b"), int(5));
    assert_eq!(c.q("SDIFFSTORE d a b"), int(1));
    assert_eq!(sorted(&c.q("SMEMBERS d")), strs(&["1"]));
    assert_eq!(encoding(&mut c, "d"), "intset");
    // The destination is replaced whatever it held, and loses its TTL.
    c.q("SET d str");
    c.q("EXPIRE d 100");
    assert_eq!(c.q("SUNIONSTORE d c"), int(3));
    assert_eq!(c.q("TTL d"), int(-1));
    assert_eq!(c.q("SDIFFSTORE d a a"), int(0));
    assert_eq!(c.q("EXISTS d"), int(0));
    // The destination may be one of the sources.
    assert_eq!(c.q("SINTERSTORE a a b"), int(3));
    assert_eq!(sorted(&c.q("SMEMBERS a")), strs(&["2", "3", "x"]));
    // An intersection of integers is stored as an intset.
    c.q("SADD j1 1 2 3 a");
    c.q("SADD j2 2 3 b");
    assert_eq!(c.q("SINTERSTORE j j1 j2"), int(2));
    assert_eq!(encoding(&mut c, "j"), "intset");

    // SINTERCARD.
    assert_eq!(c.q("SINTERCARD 2 a b"), int(3));
    assert_eq!(c.q("SINTERCARD 2 a b LIMIT 2"), int(2));
    assert_eq!(c.q("SINTERCARD 2 a b LIMIT 0"), int(3));
    assert_eq!(c.q("SINTERCARD 2 a nokey"), int(0));
    assert_eq!(c.q("SINTERCARD 1 c"), int(3));
    let numkeys = Reply::err("ERR numkeys should be greater than 0");
    assert_eq!(c.q("SINTERCARD 0 a"), numkeys);
    assert_eq!(c.q("SINTERCARD x a"), numkeys);
    assert_eq!(
        c.q("SINTERCARD 3 a b"),
        Reply::err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        c.q("SINTERCARD 1 a LIMIT -1"),
        Reply::err("ERR LIMIT can't be negative")
    );
    assert_eq!(c.q("SINTERCARD 1 a LIMIT"), Reply::err("ERR syntax error"));
    assert_eq!(c.q("SINTERCARD 1 a b"), Reply::err("ERR syntax error"));
    for (cmd, name) in [
        ("SINTERSTORE d", "sinterstore"),
        ("SUNIONSTORE d", "sunionstore"),
        ("SDIFFSTORE d", "sdiffstore"),
        ("SINTER", "sinter"),
        ("SUNION", "sunion"),
        ("SDIFF", "sdiff"),
        ("SINTERCARD 1", "sintercard"),
    ] {
        assert_eq!(
            c.q(cmd),
            Reply::err(&format!(
                "ERR wrong number of arguments for '{name}' command"
            ))
        );
    }
}

#[test]
fn resp3_shapes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert!(!c.q("HELLO 3").is_nil());
    c.q("SADD s a b");
    c.q("SADD t b c");
    assert!(matches!(c.q("SMEMBERS s"), Reply::Set(v) if v.len() == 2));
    assert!(matches!(c.q("SMEMBERS nokey"), Reply::Set(v) if v.is_empty()));
    assert!(matches!(c.q("SINTER s t"), Reply::Set(v) if v == vec![Reply::bulk("b")]));
    assert!(matches!(c.q("SINTER s nokey"), Reply::Set(v) if v.is_empty()));
    assert!(matches!(c.q("SUNION s t"), Reply::Set(v) if v.len() == 3));
    assert!(matches!(c.q("SDIFF s t"), Reply::Set(v) if v == vec![Reply::bulk("a")]));
    assert!(matches!(c.q("SRANDMEMBER s 5"), Reply::Array(v) if v.len() == 2));
    assert!(matches!(c.q("SRANDMEMBER s -3"), Reply::Array(v) if v.len() == 3));
    assert!(c.q("SRANDMEMBER nokey").is_nil());
    assert!(matches!(c.q("SPOP nokey 2"), Reply::Set(v) if v.is_empty()));
    assert!(matches!(c.q("SPOP s 0"), Reply::Set(v) if v.is_empty()));
    assert!(matches!(c.q("SPOP s 1"), Reply::Set(v) if v.len() == 1));
    assert_eq!(c.q("SMISMEMBER t b z"), Reply::Array(vec![int(1), int(0)]));
    assert_eq!(
        c.q("SSCAN t 0 MATCH c"),
        Reply::Array(vec![Reply::bulk("0"), Reply::bulks(&["c"])])
    );
}

#[test]
fn sscan() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    // Compact sets come back whole with cursor 0, COUNT notwithstanding.
    c.q("SADD small a b c 1");
    let r = c.q("SSCAN small 0 COUNT 1");
    assert_eq!(r.items()[0], Reply::bulk("0"));
    assert_eq!(sorted(&r.items()[1]), strs(&["1", "a", "b", "c"]));
    let r = c.q("SSCAN small 123 MATCH [ab]");
    assert_eq!(sorted(&r.items()[1]), strs(&["a", "b"]));
    assert_eq!(
        c.q("SSCAN nokey 0"),
        Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
    );
    // Options are checked only for an existing set, as in Redis.
    assert_eq!(
        c.q("SSCAN nokey 0 COUNT 0"),
        Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])])
    );
    assert_eq!(c.q("SSCAN small 0 COUNT 0"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("SSCAN small 0 COUNT x"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("SSCAN small 0 TYPE set"),
        Reply::err("ERR syntax error")
    );
    assert_eq!(c.q("SSCAN small 0 MATCH"), Reply::err("ERR syntax error"));
    assert_eq!(c.q("SSCAN small x"), Reply::err("ERR invalid cursor"));

    // A hashtable set is walked in steps; members removed meanwhile do not hide the others.
    sadd_many(&mut c, "big", (0..1000).map(|i| format!("m{i}")));
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = c.cmd(&["SSCAN", "big", &cursor, "COUNT", "50"]);
        let items = r.items();
        cursor = items[0].text();
        let batch = items[1].items();
        assert!(batch.len() <= 60, "about COUNT per call");
        seen.extend(batch.iter().map(Reply::text));
        // Remove some members beyond m99 as the scan goes.
        c.cmd(&[
            "SREM",
            "big",
            &format!("m{}", 999 - calls),
            &format!("m{}", 500 + calls),
        ]);
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 10 && calls < 40, "{calls} calls");
    for i in 0..100 {
        assert!(seen.contains(&format!("m{i}")), "m{i} missed");
    }
    let r = c.q("SSCAN big 0 MATCH m1? COUNT 2000");
    let want: Vec<String> = (10..20).map(|i| format!("m{i}")).collect();
    assert_eq!(sorted(&r.items()[1]), want);
}

#[test]
fn encodings_at_thresholds() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    // intset up to 512 integers.
    assert_eq!(
        sadd_many(&mut c, "i", (0..512).map(|i| i.to_string())),
        int(512)
    );
    assert_eq!(encoding(&mut c, "i"), "intset");
    c.q("SADD i 512");
    assert_eq!(encoding(&mut c, "i"), "hashtable");
    // listpack up to 128 members of up to 64 bytes.
    sadd_many(&mut c, "l", (0..128).map(|i| format!("m{i}")));
    assert_eq!(encoding(&mut c, "l"), "listpack");
    c.q("SADD l m128");
    assert_eq!(encoding(&mut c, "l"), "hashtable");
    c.cmd(&["SADD", "v", &"x".repeat(64)]);
    assert_eq!(encoding(&mut c, "v"), "listpack");
    c.cmd(&["SADD", "v", &"y".repeat(65)]);
    assert_eq!(encoding(&mut c, "v"), "hashtable");
    // An intset that takes a string: listpack while it fits, else hashtable.
    c.q("SADD mix 1 2 3");
    assert_eq!(encoding(&mut c, "mix"), "intset");
    c.q("SADD mix a");
    assert_eq!(encoding(&mut c, "mix"), "listpack");
    sadd_many(&mut c, "mix2", (0..200).map(|i| i.to_string()));
    c.q("SADD mix2 a");
    assert_eq!(encoding(&mut c, "mix2"), "hashtable");
    // Removing members never converts back.
    c.q("SREM l m0 m1 m2");
    assert_eq!(encoding(&mut c, "l"), "hashtable");

    // The thresholds follow CONFIG SET.
    assert_eq!(c.q("CONFIG SET set-max-intset-entries 4"), Reply::ok());
    assert_eq!(c.q("CONFIG SET set-max-listpack-entries 3"), Reply::ok());
    assert_eq!(c.q("CONFIG SET set-max-listpack-value 5"), Reply::ok());
    c.q("SADD ci 1 2 3 4");
    assert_eq!(encoding(&mut c, "ci"), "intset");
    c.q("SADD ci 5");
    assert_eq!(encoding(&mut c, "ci"), "hashtable");
    c.q("SADD cl a b c");
    assert_eq!(encoding(&mut c, "cl"), "listpack");
    c.q("SADD cl d");
    assert_eq!(encoding(&mut c, "cl"), "hashtable");
    c.q("SADD cv abcde");
    assert_eq!(encoding(&mut c, "cv"), "listpack");
    c.q("SADD cv abcdef");
    assert_eq!(encoding(&mut c, "cv"), "hashtable");
    // SADD with more members than the listpack holds converts up front, even for repeats.
    c.q("SADD up a");
    c.q("SADD up a a a a");
    assert_eq!(encoding(&mut c, "up"), "hashtable");
    assert_eq!(c.q("SCARD up"), int(1));
    // A new set created by SADD of many members starts as a hashtable.
    c.q("SADD hint a b c d");
    assert_eq!(encoding(&mut c, "hint"), "hashtable");
    // Intset of wide integers taking a string: the integers' digits count against the value
    // limit.
    c.q("SADD wide 123456");
    c.q("SADD wide ab");
    assert_eq!(encoding(&mut c, "wide"), "hashtable");
    c.q("SADD narrow 12");
    c.q("SADD narrow ab");
    assert_eq!(encoding(&mut c, "narrow"), "listpack");
    // STORE results pick the smallest encoding that fits.
    c.q("SADD h1 1 2 3 4 x y");
    c.q("SADD h2 1 2 3 x y");
    assert_eq!(c.q("SINTERSTORE r h1 h2"), int(5));
    assert_eq!(encoding(&mut c, "r"), "hashtable");
    c.q("SREM h2 x y");
    assert_eq!(c.q("SINTERSTORE r h1 h2"), int(3));
    assert_eq!(encoding(&mut c, "r"), "intset");
    assert_eq!(c.q("SDIFFSTORE r h1 h2"), int(3));
    assert_eq!(encoding(&mut c, "r"), "listpack");
}

/// Keys owned by pairwise different shards of a 4-shard server.
fn keys_on_distinct_shards(n: usize) -> Vec<String> {
    common::keys_on_shards("key", n, 4)
}

#[test]
fn multi_key_commands_across_shards() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    let k = keys_on_distinct_shards(4);
    let (a, b, d, e) = (&k[0], &k[1], &k[2], &k[3]);
    c.cmd(&["SADD", a, "1", "2", "3", "x"]);
    c.cmd(&["SADD", b, "2", "3", "y"]);
    assert_eq!(sorted(&c.cmd(&["SINTER", a, b])), strs(&["2", "3"]));
    assert_eq!(
        sorted(&c.cmd(&["SUNION", a, b])),
        strs(&["1", "2", "3", "x", "y"])
    );
    assert_eq!(sorted(&c.cmd(&["SDIFF", a, b])), strs(&["1", "x"]));
    assert_eq!(c.cmd(&["SINTERCARD", "2", a, b]), int(2));

    assert_eq!(c.cmd(&["SINTERSTORE", d, a, b]), int(2));
    assert_eq!(sorted(&c.cmd(&["SMEMBERS", d])), strs(&["2", "3"]));
    assert_eq!(encoding(&mut c, d), "intset");
    assert_eq!(c.cmd(&["SUNIONSTORE", e, a, b, d]), int(5));
    assert_eq!(
        sorted(&c.cmd(&["SMEMBERS", e])),
        strs(&["1", "2", "3", "x", "y"])
    );
    assert_eq!(c.cmd(&["SDIFFSTORE", d, a, b]), int(2));
    assert_eq!(sorted(&c.cmd(&["SMEMBERS", d])), strs(&["1", "x"]));
    assert_eq!(c.cmd(&["SDIFFSTORE", d, a, a]), int(0));
    assert_eq!(c.cmd(&["EXISTS", d]), int(0));

    // SMOVE between shards, down to emptying the source.
    assert_eq!(c.cmd(&["SMOVE", b, d, "y"]), int(1));
    assert_eq!(c.cmd(&["SMOVE", b, d, "nope"]), int(0));
    assert_eq!(c.cmd(&["SMOVE", b, d, "2"]), int(1));
    assert_eq!(c.cmd(&["SMOVE", b, d, "3"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", b]), int(0));
    assert_eq!(sorted(&c.cmd(&["SMEMBERS", d])), strs(&["2", "3", "y"]));

    // WRONGTYPE across shards leaves everything untouched.
    c.cmd(&["SET", b, "str"]);
    assert_eq!(c.cmd(&["SUNIONSTORE", e, a, b]), wrongtype());
    assert_eq!(c.cmd(&["SCARD", e]), int(5));
    assert_eq!(c.cmd(&["SMOVE", a, b, "1"]), wrongtype());
    assert_eq!(c.cmd(&["SISMEMBER", a, "1"]), int(1));

    // A second client sees the same data.
    let mut c2 = s.conn();
    assert_eq!(
        sorted(&c2.cmd(&["SMEMBERS", e])),
        strs(&["1", "2", "3", "x", "y"])
    );
}
