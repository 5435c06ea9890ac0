//! Sorted-set commands end to end, with the replies and error texts redis-server 7 gives: ZADD
//! and its options, scores and ranks, every range form, removals, pops (blocking forms with
//! data present), random members, the set algebra and its STORE forms (also across shards),
//! ZSCAN, RESP3 shapes, WRONGTYPE and the listpack/skiplist encodings at their thresholds.

mod common;

use common::{Reply, Server};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

fn d(s: &str) -> Reply {
    Reply::Double(s.into())
}

#[test]
fn zadd_options_scores_and_ranks() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("ZADD z 1 a 2 b 3 c"), Reply::Int(3));
    assert_eq!(c.q("ZADD z 1 a 5 d"), Reply::Int(1));
    assert_eq!(c.q("ZADD z CH 10 a 5 d 6 e"), Reply::Int(2));
    assert_eq!(c.q("ZADD z NX 0 a 7 f"), Reply::Int(1));
    assert_eq!(c.q("ZSCORE z a"), b("10"));
    assert_eq!(c.q("ZADD z XX 11 a 1 nope"), Reply::Int(0));
    assert_eq!(c.q("ZSCORE z nope"), Reply::NilBulk);
    assert_eq!(c.q("ZADD z XX CH GT 5 a 12 a"), Reply::Int(1));
    assert_eq!(c.q("ZSCORE z a"), b("12"));
    assert_eq!(c.q("ZADD z LT CH 20 a"), Reply::Int(0));
    assert_eq!(c.q("ZADD z INCR 0.5 a"), b("12.5"));
    assert_eq!(c.q("ZADD z NX INCR 1 a"), Reply::NilBulk);
    assert_eq!(c.q("ZADD z XX INCR 1 zz"), Reply::NilBulk);
    assert_eq!(c.q("ZINCRBY z 0.1 b"), b("2.1000000000000001"));
    assert_eq!(c.q("ZINCRBY z 1 fresh"), b("1"));
    assert_eq!(c.q("ZCARD z"), Reply::Int(7));
    assert_eq!(c.q("ZCARD none"), Reply::Int(0));
    assert_eq!(c.q("ZADD z inf big -inf small"), Reply::Int(2));
    assert_eq!(
        c.q("ZINCRBY z -inf big"),
        Reply::err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(c.q("ZSCORE z big"), b("inf"));
    assert_eq!(
        c.q("ZMSCORE z a nope small"),
        arr(vec![b("12.5"), Reply::NilBulk, b("-inf")])
    );
    assert_eq!(c.q("ZMSCORE none a"), arr(vec![Reply::NilBulk]));

    assert_eq!(c.q("DEL z"), Reply::Int(1));
    assert_eq!(c.q("ZADD z 1 a 2 b 3 c"), Reply::Int(3));
    assert_eq!(c.q("ZRANK z a"), Reply::Int(0));
    assert_eq!(c.q("ZREVRANK z a"), Reply::Int(2));
    // WITHSCORE is new in Redis 7.2 (the reference 7.0 server lacks it).
    if !common::is_reference() {
        assert_eq!(c.q("ZRANK z c WITHSCORE"), arr(vec![Reply::Int(2), b("3")]));
        assert_eq!(
            c.q("ZREVRANK z c withscore"),
            arr(vec![Reply::Int(0), b("3")])
        );
        assert_eq!(c.q("ZRANK z nope WITHSCORE"), Reply::NilArray);
    }
    assert_eq!(c.q("ZRANK z nope"), Reply::NilBulk);
    assert_eq!(c.q("ZRANK none a"), Reply::NilBulk);

    // Option errors.
    assert_eq!(
        c.q("ZADD z NX XX 1 a"),
        Reply::err("ERR XX and NX options at the same time are not compatible")
    );
    assert_eq!(
        c.q("ZADD z GT LT 1 a"),
        Reply::err("ERR GT, LT, and/or NX options at the same time are not compatible")
    );
    assert_eq!(
        c.q("ZADD z INCR 1 a 2 b"),
        Reply::err("ERR INCR option supports a single increment-element pair")
    );
    assert_eq!(c.q("ZADD z 1 a 2"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("ZADD z x a"),
        Reply::err("ERR value is not a valid float")
    );
    assert_eq!(
        c.q("ZADD z nan a"),
        Reply::err("ERR value is not a valid float")
    );
    assert_eq!(c.q("ZADD z 0x10 hex"), Reply::Int(1));
    assert_eq!(c.q("ZSCORE z hex"), b("16"));
    assert_eq!(
        c.q("ZADD z"),
        Reply::err("ERR wrong number of arguments for 'zadd' command")
    );
}

#[test]
fn ranges_counts_and_removals() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(
        c.q("ZRANGE z 0 -1"),
        Reply::bulks(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(
        c.q("ZRANGE z 1 2 WITHSCORES"),
        Reply::bulks(&["b", "2", "c", "3"])
    );
    assert_eq!(c.q("ZRANGE z -2 100"), Reply::bulks(&["d", "e"]));
    assert_eq!(c.q("ZRANGE z 3 1"), Reply::bulks(&[]));
    assert_eq!(c.q("ZRANGE z 0 1 REV"), Reply::bulks(&["e", "d"]));
    assert_eq!(
        c.q("ZREVRANGE z 0 1 WITHSCORES"),
        Reply::bulks(&["e", "5", "d", "4"])
    );
    assert_eq!(c.q("ZRANGE z (1 3 BYSCORE"), Reply::bulks(&["b", "c"]));
    assert_eq!(
        c.q("ZRANGE z -inf +inf BYSCORE LIMIT 1 2"),
        Reply::bulks(&["b", "c"])
    );
    assert_eq!(
        c.q("ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2"),
        Reply::bulks(&["d", "c"])
    );
    assert_eq!(c.q("ZRANGE z 0 10 BYSCORE LIMIT -1 2"), Reply::bulks(&[]));
    assert_eq!(
        c.q("ZRANGE z 0 10 BYSCORE LIMIT 3 -5"),
        Reply::bulks(&["d", "e"])
    );
    assert_eq!(
        c.q("ZRANGEBYSCORE z 2 (4 WITHSCORES"),
        Reply::bulks(&["b", "2", "c", "3"])
    );
    assert_eq!(
        c.q("ZREVRANGEBYSCORE z 4 2"),
        Reply::bulks(&["d", "c", "b"])
    );
    assert_eq!(c.q("ZCOUNT z (1 +inf"), Reply::Int(4));
    assert_eq!(c.q("ZCOUNT z 5 1"), Reply::Int(0));
    assert_eq!(c.q("ZCOUNT none 0 1"), Reply::Int(0));

    c.q("ZADD l 0 a 0 b 0 c 0 d 0 e");
    assert_eq!(c.q("ZRANGEBYLEX l - [c"), Reply::bulks(&["a", "b", "c"]));
    assert_eq!(c.q("ZRANGEBYLEX l (a (d LIMIT 1 5"), Reply::bulks(&["c"]));
    assert_eq!(c.q("ZREVRANGEBYLEX l + (c"), Reply::bulks(&["e", "d"]));
    assert_eq!(
        c.q("ZRANGE l [e - BYLEX REV LIMIT 0 2"),
        Reply::bulks(&["e", "d"])
    );
    assert_eq!(c.q("ZLEXCOUNT l - +"), Reply::Int(5));
    assert_eq!(c.q("ZLEXCOUNT l (b [d"), Reply::Int(2));

    // Error texts.
    assert_eq!(
        c.q("ZRANGE z 0 1 LIMIT 0 1"),
        Reply::err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    );
    assert_eq!(
        c.q("ZRANGE l - + BYLEX WITHSCORES"),
        Reply::err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(
        c.q("ZRANGE z a b BYSCORE"),
        Reply::err("ERR min or max is not a float")
    );
    assert_eq!(
        c.q("ZRANGEBYLEX l a b"),
        Reply::err("ERR min or max not valid string range item")
    );
    assert_eq!(
        c.q("ZRANGE z x 1"),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("ZRANGEBYSCORE z 0 1 REV"),
        Reply::err("ERR syntax error")
    );

    // Removals by range delete an emptied key.
    assert_eq!(c.q("ZREMRANGEBYRANK z 0 1"), Reply::Int(2));
    assert_eq!(c.q("ZREMRANGEBYSCORE z (3 4"), Reply::Int(1));
    assert_eq!(c.q("ZRANGE z 0 -1"), Reply::bulks(&["c", "e"]));
    assert_eq!(c.q("ZREMRANGEBYLEX l [b (d"), Reply::Int(2));
    assert_eq!(c.q("ZRANGE l 0 -1"), Reply::bulks(&["a", "d", "e"]));
    assert_eq!(c.q("ZREM z c nope e"), Reply::Int(2));
    assert_eq!(c.q("EXISTS z"), Reply::Int(0));
    assert_eq!(c.q("ZREMRANGEBYRANK l 0 -1"), Reply::Int(3));
    assert_eq!(c.q("EXISTS l"), Reply::Int(0));
    assert_eq!(c.q("ZREM none a"), Reply::Int(0));
}

#[test]
fn pops_random_and_scan() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(c.q("ZPOPMIN z"), Reply::bulks(&["a", "1"]));
    assert_eq!(c.q("ZPOPMAX z 2"), Reply::bulks(&["d", "4", "c", "3"]));
    assert_eq!(c.q("ZPOPMIN z 0"), Reply::bulks(&[]));
    assert_eq!(c.q("ZPOPMIN none"), Reply::bulks(&[]));
    assert_eq!(
        c.q("ZPOPMIN z -1"),
        Reply::err("ERR value is out of range, must be positive")
    );
    assert_eq!(c.q("ZPOPMIN z 5"), Reply::bulks(&["b", "2"]));
    assert_eq!(c.q("EXISTS z"), Reply::Int(0));

    c.q("ZADD z 1 a 2 b 3 c");
    c.q("ZADD y 9 q");
    assert_eq!(
        c.q("ZMPOP 2 none z MIN COUNT 2"),
        arr(vec![
            b("z"),
            arr(vec![Reply::bulks(&["a", "1"]), Reply::bulks(&["b", "2"])])
        ])
    );
    assert_eq!(c.q("ZMPOP 1 none MAX"), Reply::NilArray);
    assert_eq!(c.q("BZPOPMAX none z 0"), Reply::bulks(&["z", "c", "3"]));
    assert_eq!(
        c.q("BZMPOP 1 1 y MAX"),
        arr(vec![b("y"), arr(vec![Reply::bulks(&["q", "9"])])])
    );
    assert_eq!(
        c.q("BZPOPMIN none abc"),
        Reply::err("ERR timeout is not a float or out of range")
    );
    assert_eq!(
        c.q("ZMPOP 0 z MIN"),
        Reply::err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        c.q("ZMPOP 1 z MIN COUNT 0"),
        Reply::err("ERR count should be greater than 0")
    );

    c.q("ZADD r 1 a 2 b 3 c");
    let one = c.q("ZRANDMEMBER r").text();
    assert!(["a", "b", "c"].contains(&one.as_str()));
    assert_eq!(c.q("ZRANDMEMBER r 5").items().len(), 3);
    assert_eq!(c.q("ZRANDMEMBER r -7").items().len(), 7);
    let two = c.q("ZRANDMEMBER r 2 WITHSCORES").items();
    assert_eq!(two.len(), 4);
    assert_ne!(two[0], two[2]);
    assert_eq!(c.q("ZRANDMEMBER none"), Reply::NilBulk);
    assert_eq!(c.q("ZRANDMEMBER none 3"), Reply::bulks(&[]));

    assert_eq!(
        c.q("ZSCAN r 0"),
        arr(vec![b("0"), Reply::bulks(&["a", "1", "b", "2", "c", "3"])])
    );
    assert_eq!(
        c.q("ZSCAN r 0 MATCH b*"),
        arr(vec![b("0"), Reply::bulks(&["b", "2"])])
    );
    assert_eq!(c.q("ZSCAN r x"), Reply::err("ERR invalid cursor"));
    // A large set scans in several steps, each member exactly once.
    let mut cmd = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..300 {
        cmd.push(format!("{}.5", i));
        cmd.push(format!("m{i}"));
    }
    assert_eq!(c.cmd(&cmd), Reply::Int(300));
    let (mut cursor, mut seen) = ("0".to_string(), Vec::new());
    loop {
        let r = c.cmd(&["ZSCAN", "big", &cursor, "COUNT", "50"]).items();
        cursor = r[0].text();
        let items = r[1].items();
        for pair in items.chunks(2) {
            seen.push(pair[0].text());
            assert!(pair[1].text().ends_with(".5"));
        }
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 300);
}

#[test]
fn set_algebra_and_stores() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("ZADD a 1 x 2 y 3 z");
    c.q("ZADD b 10 y 20 z 30 w");
    c.q("SADD s y w v");
    assert_eq!(
        c.q("ZUNION 2 a b WITHSCORES"),
        Reply::bulks(&["x", "1", "y", "12", "z", "23", "w", "30"])
    );
    assert_eq!(
        c.q("ZINTER 2 a b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES"),
        Reply::bulks(&["y", "10", "z", "20"])
    );
    assert_eq!(c.q("ZINTER 2 a b AGGREGATE MIN"), Reply::bulks(&["y", "z"]));
    assert_eq!(c.q("ZDIFF 2 a b WITHSCORES"), Reply::bulks(&["x", "1"]));
    assert_eq!(
        c.q("ZUNION 2 a s WITHSCORES"),
        Reply::bulks(&["v", "1", "w", "1", "x", "1", "y", "3", "z", "3"])
    );
    assert_eq!(c.q("ZINTERCARD 2 a b"), Reply::Int(2));
    assert_eq!(c.q("ZINTERCARD 2 a b LIMIT 1"), Reply::Int(1));
    assert_eq!(c.q("ZUNIONSTORE d 2 a b"), Reply::Int(4));
    assert_eq!(
        c.q("ZRANGE d 0 -1 WITHSCORES"),
        Reply::bulks(&["x", "1", "y", "12", "z", "23", "w", "30"])
    );
    assert_eq!(c.q("ZINTERSTORE d 2 a none"), Reply::Int(0));
    assert_eq!(c.q("EXISTS d"), Reply::Int(0));
    assert_eq!(c.q("ZDIFFSTORE d 1 a"), Reply::Int(3));
    assert_eq!(c.q("ZRANGESTORE d2 a 1 -1"), Reply::Int(2));
    assert_eq!(c.q("ZRANGE d2 0 -1"), Reply::bulks(&["y", "z"]));
    assert_eq!(c.q("ZRANGESTORE d2 b (10 +inf BYSCORE"), Reply::Int(2));
    assert_eq!(c.q("ZRANGE d2 0 -1"), Reply::bulks(&["z", "w"]));
    assert_eq!(c.q("ZRANGESTORE d2 none 0 -1"), Reply::Int(0));
    assert_eq!(c.q("EXISTS d2"), Reply::Int(0));
    // Wrong types come before option errors.
    c.q("SET str v");
    assert_eq!(
        c.q("ZUNION 2 a str WEIGHTS x y").error(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(
        c.q("ZUNION 1 a WEIGHTS x"),
        Reply::err("ERR weight value is not a float")
    );
    assert_eq!(
        c.q("ZUNION 0 a"),
        Reply::err("ERR at least 1 input key is needed for 'zunion' command")
    );
    assert_eq!(
        c.q("ZINTERCARD 1 a LIMIT -1"),
        Reply::err("ERR LIMIT can't be negative")
    );
    assert_eq!(
        c.q("ZUNIONSTORE d 1 a WITHSCORES"),
        Reply::err("ERR syntax error")
    );
}

#[test]
fn stores_across_shards() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    // Keys spread over several shards.
    for (i, k) in ["ka", "kb", "kc", "kd"].iter().enumerate() {
        c.cmd(&["ZADD", k, &i.to_string(), "common", "1", k]);
    }
    assert_eq!(c.q("ZUNIONSTORE dst 4 ka kb kc kd"), Reply::Int(5));
    assert_eq!(c.q("ZSCORE dst common"), b("6"));
    assert_eq!(
        c.q("ZINTERSTORE dst2 4 ka kb kc kd AGGREGATE MAX"),
        Reply::Int(1)
    );
    assert_eq!(
        c.q("ZRANGE dst2 0 -1 WITHSCORES"),
        Reply::bulks(&["common", "3"])
    );
    assert_eq!(c.q("ZRANGESTORE other kd 0 0"), Reply::Int(1));
    assert_eq!(c.q("ZRANGE other 0 -1"), Reply::bulks(&["kd"]));
    assert_eq!(c.q("ZDIFFSTORE diff 2 ka kb"), Reply::Int(1));
    assert_eq!(c.q("ZRANGE diff 0 -1"), Reply::bulks(&["ka"]));
    assert_eq!(
        c.q("ZMPOP 3 nope1 nope2 kc MAX"),
        arr(vec![b("kc"), arr(vec![Reply::bulks(&["common", "2"])])])
    );
}

#[test]
fn wrongtype_and_resp3_shapes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("SET str v");
    let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for cmd in [
        "ZADD str 1 a",
        "ZSCORE str a",
        "ZRANGE str 0 1",
        "ZCARD str",
        "ZREM str a",
        "ZPOPMIN str",
        "ZRANK str a",
        "ZINCRBY str 1 a",
        "ZSCAN str 0",
        "ZRANDMEMBER str",
    ] {
        assert_eq!(c.q(cmd).error(), wrong, "{cmd}");
    }
    c.q("ZADD z 1 a 2.5 b");
    c.q("HELLO 3");
    assert_eq!(c.q("ZSCORE z b"), d("2.5"));
    assert_eq!(
        c.q("ZRANGE z 0 -1 WITHSCORES"),
        arr(vec![arr(vec![b("a"), d("1")]), arr(vec![b("b"), d("2.5")])])
    );
    assert_eq!(c.q("ZRANGE z 0 -1"), Reply::bulks(&["a", "b"]));
    if !common::is_reference() {
        assert_eq!(
            c.q("ZRANK z b WITHSCORE"),
            arr(vec![Reply::Int(1), d("2.5")])
        );
    }
    assert_eq!(c.q("ZMSCORE z a x"), arr(vec![d("1"), Reply::Null]));
    assert_eq!(
        c.q("ZSCAN z 0"),
        arr(vec![b("0"), Reply::bulks(&["a", "1", "b", "2.5"])])
    );
    assert_eq!(c.q("ZPOPMIN z"), arr(vec![b("a"), d("1")]));
    c.q("ZADD z 1 a");
    assert_eq!(c.q("ZPOPMAX z 1"), arr(vec![arr(vec![b("b"), d("2.5")])]));
    assert_eq!(c.q("ZINCRBY z 0.5 a"), d("1.5"));
}

#[test]
fn encodings_at_thresholds() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("CONFIG SET zset-max-listpack-entries 4"), Reply::ok());
    assert_eq!(c.q("CONFIG SET zset-max-listpack-value 8"), Reply::ok());
    c.q("ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(c.q("OBJECT ENCODING z"), b("listpack"));
    c.q("ZADD z 5 e");
    assert_eq!(c.q("OBJECT ENCODING z"), b("skiplist"));
    c.q("ZADD v 1 12345678");
    assert_eq!(c.q("OBJECT ENCODING v"), b("listpack"));
    c.q("ZADD v 1 123456789");
    assert_eq!(c.q("OBJECT ENCODING v"), b("skiplist"));
    // A score of -0 reads back as 0 from a listpack and as -0 from a skiplist (redis 7.0.15);
    // ZINCRBY answers the computed -0 either way.
    c.q("ZADD nz -0 m");
    assert_eq!(c.q("ZSCORE nz m"), b("0"));
    assert_eq!(c.q("ZINCRBY nz2 -0 m"), b("-0"));
    assert_eq!(c.q("ZSCORE nz2 m"), b("0"));
    c.q("ZADD w2 1 a 2 b 3 c 4 d 5 e -0 m");
    assert_eq!(c.q("OBJECT ENCODING w2"), b("skiplist"));
    assert_eq!(c.q("ZSCORE w2 m"), b("-0"));
    // A command creating more members than the limit starts as a skiplist.
    c.q("ZADD w 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(c.q("OBJECT ENCODING w"), b("skiplist"));
    // Results of the STORE forms pick their encoding by size.
    c.q("ZRANGESTORE small z 0 1");
    assert_eq!(c.q("OBJECT ENCODING small"), b("listpack"));
    c.q("ZUNIONSTORE big 2 z w");
    assert_eq!(c.q("OBJECT ENCODING big"), b("skiplist"));
    // The skiplist encoding answers exactly like the listpack.
    assert_eq!(
        c.q("ZRANGE z 1 3 WITHSCORES"),
        Reply::bulks(&["b", "2", "c", "3", "d", "4"])
    );
    assert_eq!(c.q("ZREVRANK z a"), Reply::Int(4));
    assert_eq!(c.q("ZCOUNT z (1 4"), Reply::Int(3));
}
