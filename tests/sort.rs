//! SORT and SORT_RO end to end, following the cases of Redis's `unit/sort.tcl`: numeric and
//! ALPHA ordering, LIMIT clamping, BY/GET patterns (strings and `->field` hashes, `#`), BY
//! nosort on lists/sorted sets/sets, STORE (and its empty-result deletion), SORT_RO, errors, and
//! Moon's shard rule for pattern keys (`--shards 4`).

mod common;

use common::{Reply, Server, shard_of};

fn b(items: &[&str]) -> Reply {
    Reply::bulks(items)
}

#[test]
fn numeric_alpha_and_limit() {
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.conn();
    c.q("RPUSH l 3 1 2 10");
    assert_eq!(c.q("SORT l"), b(&["1", "2", "3", "10"]));
    assert_eq!(c.q("SORT l DESC"), b(&["10", "3", "2", "1"]));
    assert_eq!(c.q("SORT l ALPHA"), b(&["1", "10", "2", "3"]));
    assert_eq!(c.q("SORT l ALPHA DESC"), b(&["3", "2", "10", "1"]));
    assert_eq!(c.q("SORT l LIMIT 1 2"), b(&["2", "3"]));
    assert_eq!(c.q("SORT l LIMIT -10 2"), b(&["1", "2"]));
    assert_eq!(c.q("SORT l LIMIT 2 -1"), b(&["3", "10"]));
    assert_eq!(c.q("SORT l LIMIT 10 10"), b(&[]));
    assert_eq!(c.q("SORT l LIMIT 3 100"), b(&["10"]));
    assert_eq!(c.q("SORT_RO l DESC LIMIT 0 1"), b(&["10"]));
    // Floats (issue #19) and equal scores broken by the element bytes.
    c.q("RPUSH f 1.1 5.10 3.10 7.2 3.10 -1e2 1e1");
    assert_eq!(
        c.q("SORT f"),
        b(&["-1e2", "1.1", "3.10", "3.10", "5.10", "7.2", "1e1"])
    );
    c.q("RPUSH ties 1.0 1 01");
    assert_eq!(c.q("SORT ties"), b(&["01", "1", "1.0"]));
    c.q("RPUSH words a b");
    assert_eq!(
        c.q("SORT words"),
        Reply::err("ERR One or more scores can't be converted into double")
    );
    assert_eq!(c.q("SORT nokey"), b(&[]));
    c.q("SET str x");
    assert_eq!(
        c.q("SORT str"),
        Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(c.q("SORT l LIMIT 1"), Reply::err("ERR syntax error"));
    assert_eq!(c.q("SORT_RO l STORE d"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("SORT l LIMIT x 1"),
        Reply::err("ERR value is not an integer or out of range")
    );
    // Sets and sorted sets.
    c.q("SADD s 5 -1 20");
    assert_eq!(c.q("SORT s"), b(&["-1", "5", "20"]));
    c.q("ZADD z 1 a 5 b 2 c 10 d 3 e");
    assert_eq!(c.q("SORT z ALPHA"), b(&["a", "b", "c", "d", "e"]));
}

#[test]
fn by_and_get_patterns() {
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.conn();
    c.q("RPUSH ids 1 2 3");
    c.q("MSET w_1 30 w_2 10 w_3 20 o_1 one o_2 two o_3 three");
    c.q("HSET h_1 f x1");
    c.q("HSET h_3 f x3");
    assert_eq!(c.q("SORT ids BY w_*"), b(&["2", "3", "1"]));
    assert_eq!(c.q("SORT ids BY w_* DESC"), b(&["1", "3", "2"]));
    assert_eq!(
        c.q("SORT ids BY w_* GET # GET o_*"),
        b(&["2", "two", "3", "three", "1", "one"])
    );
    assert_eq!(
        c.q("SORT ids BY w_* GET h_*->f"),
        Reply::Array(vec![Reply::NilBulk, Reply::bulk("x3"), Reply::bulk("x1")])
    );
    assert_eq!(c.q("SORT ids BY h_*->f ALPHA"), b(&["2", "1", "3"]));
    assert_eq!(c.q("SORT ids BY o_* ALPHA"), b(&["1", "3", "2"]));
    // A missing BY key sorts as 0; a GET without `*` is always nil.
    c.q("RPUSH ids2 1 9");
    assert_eq!(c.q("SORT ids2 BY w_*"), b(&["9", "1"]));
    assert_eq!(
        c.q("SORT ids2 GET fixed"),
        Reply::Array(vec![Reply::NilBulk, Reply::NilBulk])
    );
    // `->` with nothing after it is part of the key name.
    c.q("SET bar1-> keyval");
    assert_eq!(
        c.q("SORT ids GET bar*->"),
        Reply::Array(vec![Reply::bulk("keyval"), Reply::NilBulk, Reply::NilBulk])
    );
    c.q("MSET w_a x");
    c.q("RPUSH la a");
    assert_eq!(
        c.q("SORT la BY w_*"),
        Reply::err("ERR One or more scores can't be converted into double")
    );
}

#[test]
fn nosort_and_store() {
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.conn();
    c.q("RPUSH l c a b");
    assert_eq!(c.q("SORT l BY nosort"), b(&["c", "a", "b"]));
    assert_eq!(c.q("SORT l BY nosort DESC"), b(&["b", "a", "c"]));
    assert_eq!(c.q("SORT l BY nosort LIMIT 1 5"), b(&["a", "b"]));
    assert_eq!(c.q("SORT l BY nosort STORE d"), Reply::Int(3));
    assert_eq!(c.q("LRANGE d 0 -1"), b(&["c", "a", "b"]));
    c.q("ZADD z 1 a 5 b 2 c 10 d 3 e");
    assert_eq!(c.q("SORT z BY nosort LIMIT 0 1"), b(&["a"]));
    assert_eq!(c.q("SORT z BY nosort DESC LIMIT 0 1"), b(&["d"]));
    assert_eq!(c.q("SORT z BY nosort LIMIT 0 2"), b(&["a", "c"]));
    assert_eq!(c.q("SORT z BY nosort DESC LIMIT 0 2"), b(&["d", "b"]));
    assert_eq!(
        c.q("SORT z BY nosort LIMIT 0 10"),
        b(&["a", "c", "e", "b", "d"])
    );
    assert_eq!(c.q("SORT z BY nosort DESC LIMIT 1 3"), b(&["b", "e", "c"]));
    // A set sorted BY a constant into STORE comes out in ALPHA order.
    c.q("SADD myset q b a z aa m");
    assert_eq!(c.q("SORT myset ALPHA BY _ STORE out"), Reply::Int(6));
    assert_eq!(c.q("LRANGE out 0 -1"), b(&["a", "aa", "b", "m", "q", "z"]));
    // STORE replaces any type, clears the TTL, and GET values (missing ones as "").
    c.q("RPUSH ids 1 2");
    c.q("SET o_1 one");
    c.q("SET dst x EX 100");
    assert_eq!(c.q("SORT ids GET o_* GET # STORE dst"), Reply::Int(4));
    assert_eq!(c.q("LRANGE dst 0 -1"), b(&["one", "1", "", "2"]));
    assert_eq!(c.q("TTL dst"), Reply::Int(-1));
    // An empty result does not create the destination and deletes an existing one.
    assert_eq!(c.q("SORT l ALPHA LIMIT 10 10 STORE zap"), Reply::Int(0));
    assert_eq!(c.q("EXISTS zap"), Reply::Int(0));
    assert_eq!(c.q("SORT nokey STORE dst"), Reply::Int(0));
    assert_eq!(c.q("EXISTS dst"), Reply::Int(0));
}

#[test]
fn patterns_follow_the_shard_rule() {
    if common::is_reference() {
        return;
    }
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    // Hash-tagged pattern keys share the sorted key's shard: they work.
    c.q("RPUSH {u}ids 1 2");
    c.q("MSET {u}w_1 2 {u}w_2 1 {u}o_1 a {u}o_2 b");
    assert_eq!(c.q("SORT {u}ids BY {u}w_* GET {u}o_*"), b(&["b", "a"]));
    // A pattern key on another shard is refused explicitly.
    let home = shard_of(b"{u}ids", 4);
    let other = (0..)
        .map(|i| format!("p{i}_"))
        .find(|p| shard_of(format!("{p}1").as_bytes(), 4) != home)
        .unwrap_or_default();
    let err = c.q(&format!("SORT {{u}}ids BY {other}*"));
    assert_eq!(
        err,
        Reply::err(
            "ERR BY/GET pattern keys must be on the same shard as the sorted key; use hash tags"
        )
    );
    // STORE to another shard works without patterns (gathered atomically).
    let far = (0..)
        .map(|i| format!("dst{i}"))
        .find(|k| shard_of(k.as_bytes(), 4) != home)
        .unwrap_or_default();
    assert_eq!(c.q(&format!("SORT {{u}}ids STORE {far}")), Reply::Int(2));
    assert_eq!(c.q(&format!("LRANGE {far} 0 -1")), b(&["1", "2"]));
}
