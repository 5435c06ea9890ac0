//! List commands end to end: every list command's replies and error texts as redis-server 7
//! gives them (push/pop with and without COUNT in RESP2 and RESP3, ranges, LINDEX/LSET/LINSERT/
//! LREM/LTRIM/LPOS, LMOVE/RPOPLPUSH/LMPOP and the blocking forms when data is present),
//! WRONGTYPE, the listpack/quicklist encodings exactly at the thresholds, and the multi-key
//! commands over keys owned by different shards.

mod common;

use common::{Conn, Reply, Server};

fn nil() -> Reply {
    Reply::NilBulk
}

fn ints(items: &[i64]) -> Reply {
    Reply::Array(items.iter().map(|&i| Reply::Int(i)).collect())
}

fn enc(c: &mut Conn, key: &str) -> String {
    c.cmd(&["OBJECT", "ENCODING", key]).text()
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn push_pop_range_and_reply_shapes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("RPUSH l a b c"), Reply::Int(3));
    assert_eq!(c.q("LPUSH l z y"), Reply::Int(5));
    assert_eq!(
        c.q("LRANGE l 0 -1"),
        Reply::bulks(&["y", "z", "a", "b", "c"])
    );
    assert_eq!(c.q("LRANGE l -2 100"), Reply::bulks(&["b", "c"]));
    assert_eq!(c.q("LRANGE l 3 1"), Reply::Array(vec![]));
    assert_eq!(c.q("LRANGE nokey 0 -1"), Reply::Array(vec![]));
    assert_eq!(c.q("LLEN l"), Reply::Int(5));
    assert_eq!(c.q("LLEN nokey"), Reply::Int(0));
    assert_eq!(c.q("LPUSHX nokey a"), Reply::Int(0));
    assert_eq!(c.q("RPUSHX l d e"), Reply::Int(7));
    assert_eq!(c.q("LPOP l"), Reply::bulk("y"));
    assert_eq!(c.q("RPOP l 2"), Reply::bulks(&["e", "d"]));
    assert_eq!(c.q("LPOP l 0"), Reply::Array(vec![]));
    assert_eq!(c.q("LPOP nokey 0"), Reply::NilArray);
    assert_eq!(c.q("LPOP nokey 1"), Reply::NilArray);
    assert_eq!(c.q("LPOP nokey"), nil());
    assert_eq!(c.q("RPOP l 100"), Reply::bulks(&["c", "b", "a", "z"]));
    assert_eq!(c.q("EXISTS l"), Reply::Int(0));
    // Integers and binary values round-trip.
    assert_eq!(c.q("RPUSH n 1 -1 4096 99999999999 -0 01"), Reply::Int(6));
    assert_eq!(
        c.q("LRANGE n 0 -1"),
        Reply::bulks(&["1", "-1", "4096", "99999999999", "-0", "01"])
    );
    assert_eq!(c.cmd(&["RPUSH", "bin", "a\r\nb\0c", ""]), Reply::Int(2));
    assert_eq!(
        c.q("LRANGE bin 0 -1"),
        Reply::Array(vec![Reply::bulk("a\r\nb\0c"), Reply::bulk("")])
    );

    // RESP3: every null is `_`.
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    assert_eq!(c.q("LPOP nokey"), Reply::Null);
    assert_eq!(c.q("LPOP nokey 2"), Reply::Null);
    assert_eq!(c.q("LINDEX n 99"), Reply::Null);
    assert_eq!(c.q("LMPOP 1 nokey LEFT"), Reply::Null);
    assert_eq!(c.q("LPOS n 7"), Reply::Null);
}

#[test]
fn element_commands_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let not_int = Reply::err("ERR value is not an integer or out of range");
    assert_eq!(c.q("RPUSH l a b a c a"), Reply::Int(5));
    // LINDEX / LSET.
    assert_eq!(c.q("LINDEX l -1"), Reply::bulk("a"));
    assert_eq!(c.q("LINDEX l 5"), nil());
    assert_eq!(c.q("LINDEX l x"), not_int);
    assert_eq!(c.q("LINDEX nokey x"), nil());
    assert_eq!(c.q("LSET l 1 B"), Reply::ok());
    assert_eq!(c.q("LSET l 9 B"), Reply::err("ERR index out of range"));
    assert_eq!(c.q("LSET nokey 0 B"), Reply::err("ERR no such key"));
    assert_eq!(c.q("LSET nokey x B"), Reply::err("ERR no such key"));
    assert_eq!(c.q("LSET l x B"), not_int);
    // LINSERT.
    assert_eq!(c.q("LINSERT l AFTER c X"), Reply::Int(6));
    assert_eq!(c.q("LINSERT l before a Y"), Reply::Int(7));
    assert_eq!(c.q("LINSERT l before nope Y"), Reply::Int(-1));
    assert_eq!(c.q("LINSERT nokey before a Y"), Reply::Int(0));
    assert_eq!(c.q("LINSERT l middle a Y"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("LRANGE l 0 -1"),
        Reply::bulks(&["Y", "a", "B", "a", "c", "X", "a"])
    );
    // LPOS.
    assert_eq!(c.q("LPOS l a"), Reply::Int(1));
    assert_eq!(c.q("LPOS l a RANK 2"), Reply::Int(3));
    assert_eq!(c.q("LPOS l a RANK -1"), Reply::Int(6));
    assert_eq!(c.q("LPOS l a COUNT 0"), ints(&[1, 3, 6]));
    assert_eq!(c.q("LPOS l a RANK -1 COUNT 2"), ints(&[6, 3]));
    assert_eq!(c.q("LPOS l a COUNT 0 MAXLEN 2"), ints(&[1]));
    assert_eq!(c.q("LPOS l zz COUNT 1"), Reply::Array(vec![]));
    assert_eq!(c.q("LPOS nokey a"), nil());
    assert_eq!(
        c.q("LPOS l a RANK 0"),
        Reply::err(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
        )
    );
    assert_eq!(
        c.q("LPOS l a COUNT -1"),
        Reply::err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c.q("LPOS l a MAXLEN -1"),
        Reply::err("ERR MAXLEN can't be negative")
    );
    assert_eq!(c.q("LPOS l a RANK"), Reply::err("ERR syntax error"));
    // LREM / LTRIM.
    assert_eq!(c.q("LREM l -1 a"), Reply::Int(1));
    assert_eq!(c.q("LREM l 0 a"), Reply::Int(2));
    assert_eq!(c.q("LREM l x a"), not_int);
    assert_eq!(c.q("LRANGE l 0 -1"), Reply::bulks(&["Y", "B", "c", "X"]));
    assert_eq!(c.q("LTRIM l 1 -2"), Reply::ok());
    assert_eq!(c.q("LRANGE l 0 -1"), Reply::bulks(&["B", "c"]));
    assert_eq!(c.q("LTRIM l x 1"), not_int);
    assert_eq!(c.q("LTRIM l 5 1"), Reply::ok());
    assert_eq!(c.q("EXISTS l"), Reply::Int(0));
    assert_eq!(c.q("LTRIM nokey 0 1"), Reply::ok());
    // Pop arguments.
    let positive = Reply::err("ERR value is out of range, must be positive");
    assert_eq!(c.q("LPOP l -1"), positive);
    assert_eq!(c.q("RPOP l x"), positive);
    assert_eq!(
        c.q("LPOP l 1 2"),
        Reply::err("ERR wrong number of arguments for 'lpop' command")
    );
}

#[test]
fn wrong_type_answers() {
    // One shard: the blocking forms answer here, without the cross-shard parking path.
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.conn();
    assert_eq!(c.q("SET s v"), Reply::ok());
    assert_eq!(c.q("RPUSH l a"), Reply::Int(1));
    for cmd in [
        "LPUSH s a",
        "RPUSHX s a",
        "LPOP s",
        "RPOP s 0",
        "LLEN s",
        "LRANGE s 0 -1",
        "LINDEX s x",
        "LSET s x v",
        "LINSERT s before a b",
        "LREM s 0 a",
        "LTRIM s 0 1",
        "LPOS s a",
        "LMOVE s l left left",
        "LMOVE l s left left",
        "RPOPLPUSH l s",
        "LMPOP 2 nokey s LEFT",
        "BLPOP s 0",
        "BLMPOP 0 1 s RIGHT",
        "BLMOVE l s left left 0",
    ] {
        assert_eq!(c.q(cmd), Reply::err(WRONGTYPE), "{cmd}");
    }
    assert_eq!(c.q("LRANGE l 0 -1"), Reply::bulks(&["a"]));
    // A missing source answers nil before the destination's type is checked.
    assert_eq!(c.q("LMOVE nokey s left left"), nil());
    assert_eq!(c.q("TYPE l"), Reply::simple("list"));
}

#[test]
fn moves_multi_pops_and_blocking_forms_with_data() {
    // One shard: the blocking forms answer here, without the cross-shard parking path.
    let s = Server::start(&["--shards", "1"]);
    let mut c = s.conn();
    assert_eq!(c.q("RPUSH a 1 2 3"), Reply::Int(3));
    assert_eq!(c.q("RPOPLPUSH a a"), Reply::bulk("3"));
    assert_eq!(c.q("LRANGE a 0 -1"), Reply::bulks(&["3", "1", "2"]));
    assert_eq!(c.q("LMOVE a b LEFT RIGHT"), Reply::bulk("3"));
    assert_eq!(c.q("LMOVE a b left left"), Reply::bulk("1"));
    assert_eq!(c.q("RPOPLPUSH nokey b"), nil());
    assert_eq!(c.q("LMOVE a b up left"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("LMPOP 2 nokey b RIGHT COUNT 5"),
        Reply::Array(vec![Reply::bulk("b"), Reply::bulks(&["3", "1"]),])
    );
    assert_eq!(c.q("EXISTS b"), Reply::Int(0));
    assert_eq!(
        c.q("LMPOP 1 a LEFT"),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulks(&["2"]),])
    );
    assert_eq!(c.q("LMPOP 1 a LEFT"), Reply::NilArray);
    assert_eq!(
        c.q("LMPOP 0 a LEFT"),
        Reply::err("ERR numkeys should be greater than 0")
    );
    assert_eq!(c.q("LMPOP 2 a LEFT"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("LMPOP 1 a LEFT COUNT 0"),
        Reply::err("ERR count should be greater than 0")
    );
    // Blocking forms answer at once when data is present.
    assert_eq!(c.q("RPUSH q x y z"), Reply::Int(3));
    assert_eq!(c.q("BLPOP nokey q 0"), Reply::bulks(&["q", "x"]));
    assert_eq!(c.q("BRPOP q 1.5"), Reply::bulks(&["q", "z"]));
    assert_eq!(c.q("BRPOPLPUSH q r 0"), Reply::bulk("y"));
    assert_eq!(c.q("BLMOVE r q RIGHT LEFT 0"), Reply::bulk("y"));
    assert_eq!(
        c.q("BLMPOP 0 2 nokey q LEFT COUNT 2"),
        Reply::Array(vec![Reply::bulk("q"), Reply::bulks(&["y"])])
    );
    // Timeout errors (checked before any key).
    assert_eq!(
        c.q("BLPOP q x"),
        Reply::err("ERR timeout is not a float or out of range")
    );
    assert_eq!(c.q("BRPOP q -1"), Reply::err("ERR timeout is negative"));
    assert_eq!(
        c.q("BLPOP q 1e100"),
        Reply::err("ERR timeout is out of range")
    );
    assert_eq!(
        c.q("BLMOVE q r left left nan"),
        Reply::err("ERR timeout is not a float or out of range")
    );
    assert_eq!(
        c.q("BLMPOP 0 0 q LEFT"),
        Reply::err("ERR numkeys should be greater than 0")
    );
    // Inside MULTI a blocking command on empty keys answers null at once.
    assert_eq!(c.q("MULTI"), Reply::ok());
    assert_eq!(c.q("BLPOP nokey 0"), Reply::simple("QUEUED"));
    assert_eq!(c.q("BLMOVE nokey r left left 0"), Reply::simple("QUEUED"));
    assert_eq!(c.q("EXEC"), Reply::Array(vec![Reply::NilArray, nil()]));
}

#[test]
fn encodings_convert_exactly_at_the_thresholds() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("CONFIG SET list-max-listpack-size 4"), Reply::ok());
    assert_eq!(c.q("RPUSH l 1 2 3 4"), Reply::Int(4));
    assert_eq!(enc(&mut c, "l"), "listpack");
    assert_eq!(c.q("RPUSH l 5"), Reply::Int(5));
    assert_eq!(enc(&mut c, "l"), "quicklist");
    // Nodes [1 2 3 4] [5]: back to a listpack only with one node of <= 2 elements.
    assert_eq!(c.q("RPOP l"), Reply::bulk("5"));
    assert_eq!(enc(&mut c, "l"), "quicklist");
    assert_eq!(c.q("RPOP l"), Reply::bulk("4"));
    assert_eq!(enc(&mut c, "l"), "quicklist");
    assert_eq!(c.q("RPOP l"), Reply::bulk("3"));
    assert_eq!(enc(&mut c, "l"), "listpack");
    // Other conversion points: LINSERT, LMOVE's destination, LREM, LTRIM.
    assert_eq!(c.q("RPUSH i a b c d"), Reply::Int(4));
    assert_eq!(c.q("LINSERT i after b x"), Reply::Int(5));
    assert_eq!(enc(&mut c, "i"), "quicklist");
    assert_eq!(c.q("LTRIM i 1 1"), Reply::ok());
    assert_eq!(enc(&mut c, "i"), "listpack");
    assert_eq!(c.q("RPUSH src a"), Reply::Int(1));
    assert_eq!(c.q("RPUSH dst a b c d"), Reply::Int(4));
    assert_eq!(c.q("LMOVE src dst left right"), Reply::bulk("a"));
    assert_eq!(enc(&mut c, "dst"), "quicklist");
    assert_eq!(c.q("LREM dst 3 a"), Reply::Int(2));
    assert_eq!(enc(&mut c, "dst"), "quicklist");
    assert_eq!(c.q("LREM dst 1 b"), Reply::Int(1));
    assert_eq!(enc(&mut c, "dst"), "listpack");

    // Size-based fill: -1 = 4096 bytes per node. Entries of 61 bytes take 63 listpack bytes;
    // the check adds the raw length of what is being pushed to the current listpack bytes.
    assert_eq!(c.q("CONFIG SET list-max-listpack-size -1"), Reply::ok());
    let v = "v".repeat(61);
    let fits = (4096 - 7 - 61) / 63 + 1;
    for i in 0..fits {
        assert_eq!(c.cmd(&["RPUSH", "big", &v]), Reply::Int(i as i64 + 1));
        assert_eq!(enc(&mut c, "big"), "listpack", "{} elements", i + 1);
    }
    assert_eq!(c.cmd(&["RPUSH", "big", &v]), Reply::Int(fits as i64 + 1));
    assert_eq!(enc(&mut c, "big"), "quicklist");
    // Shrinking back needs the single node under 2048 bytes.
    let half = (fits + 1) - (2048 - 7) / 63;
    assert_eq!(
        c.cmd(&["RPOP", "big", &(half - 1).to_string()])
            .items()
            .len(),
        half - 1
    );
    assert_eq!(enc(&mut c, "big"), "quicklist");
    assert_eq!(c.q("RPOP big"), Reply::bulk(&v));
    assert_eq!(enc(&mut c, "big"), "listpack");
    assert_eq!(
        c.q("CONFIG GET list-max-listpack-size"),
        Reply::bulks(&["list-max-listpack-size", "-1"])
    );
}

#[test]
fn large_lists_keep_order() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let n = 3000;
    for i in 0..n {
        c.send(&["RPUSH", "big", &format!("e{i}")]);
        c.send(&["LPUSH", "big", &i.to_string()]);
    }
    for i in 0..n {
        assert_eq!(c.read(), Reply::Int(2 * i + 1));
        assert_eq!(c.read(), Reply::Int(2 * i + 2));
    }
    assert_eq!(enc(&mut c, "big"), "quicklist");
    assert_eq!(c.q("LLEN big"), Reply::Int(2 * n));
    let first: Vec<String> = (0..100).map(|i| (n - 1 - i).to_string()).collect();
    let refs: Vec<&str> = first.iter().map(String::as_str).collect();
    assert_eq!(c.q("LRANGE big 0 99"), Reply::bulks(&refs));
    assert_eq!(c.q("LINDEX big -1"), Reply::bulk(format!("e{}", n - 1)));
    assert_eq!(c.cmd(&["LINDEX", "big", &n.to_string()]), Reply::bulk("e0"));
    assert_eq!(c.q("LPOS big e1500"), Reply::Int(n + 1500));
    assert_eq!(c.q("LSET big 3000 mid"), Reply::ok());
    assert_eq!(c.q("LINSERT big before mid here"), Reply::Int(2 * n + 1));
    assert_eq!(
        c.q("LRANGE big 2999 3002"),
        Reply::bulks(&["0", "here", "mid", "e1"])
    );
    assert_eq!(c.q("LTRIM big 2999 3001"), Reply::ok());
    assert_eq!(c.q("LRANGE big 0 -1"), Reply::bulks(&["0", "here", "mid"]));
    assert_eq!(c.q("LLEN big"), Reply::Int(3));
}

/// Keys owned by pairwise different shards of a 4-shard server.
fn keys_on_distinct_shards(n: usize) -> Vec<String> {
    common::keys_on_shards("list", n, 4)
}

#[test]
fn multi_key_commands_across_shards() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    let k = keys_on_distinct_shards(4);
    let (a, b, d, e) = (k[0].as_str(), k[1].as_str(), k[2].as_str(), k[3].as_str());
    assert_eq!(c.cmd(&["RPUSH", a, "1", "2", "3"]), Reply::Int(3));
    assert_eq!(c.cmd(&["LMOVE", a, b, "LEFT", "RIGHT"]), Reply::bulk("1"));
    assert_eq!(c.cmd(&["RPOPLPUSH", a, b]), Reply::bulk("3"));
    assert_eq!(c.cmd(&["LRANGE", b, "0", "-1"]), Reply::bulks(&["3", "1"]));
    assert_eq!(c.cmd(&["LMOVE", a, d, "RIGHT", "LEFT"]), Reply::bulk("2"));
    assert_eq!(c.cmd(&["EXISTS", a]), Reply::Int(0));
    assert_eq!(c.cmd(&["LRANGE", d, "0", "-1"]), Reply::bulks(&["2"]));
    assert_eq!(
        c.cmd(&["LMPOP", "3", a, e, b, "LEFT", "COUNT", "5"]),
        Reply::Array(vec![Reply::bulk(b), Reply::bulks(&["3", "1"])])
    );
    assert_eq!(c.cmd(&["EXISTS", b]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["LMPOP", "3", a, b, d, "RIGHT"]),
        Reply::Array(vec![Reply::bulk(d), Reply::bulks(&["2"])])
    );
    // WRONGTYPE across shards leaves everything untouched.
    assert_eq!(c.cmd(&["SET", e, "str"]), Reply::ok());
    assert_eq!(c.cmd(&["RPUSH", a, "x"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["LMOVE", a, e, "LEFT", "LEFT"]),
        Reply::err(WRONGTYPE)
    );
    assert_eq!(c.cmd(&["LRANGE", a, "0", "-1"]), Reply::bulks(&["x"]));
    assert_eq!(c.cmd(&["GET", e]), Reply::bulk("str"));
    // A list created on the scratch shard keeps its encoding when written back.
    assert_eq!(c.cmd(&["LMOVE", a, b, "LEFT", "LEFT"]), Reply::bulk("x"));
    assert_eq!(enc(&mut c, b), "listpack");
    assert_eq!(c.cmd(&["LLEN", b]), Reply::Int(1));
}

#[test]
fn command_metadata() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let info = c.q("COMMAND INFO blpop lpush lmpop");
    let items = info.items();
    assert_eq!(items.len(), 3);
    let blpop = items[0].items();
    assert_eq!(blpop[0], Reply::bulk("blpop"));
    assert_eq!(blpop[1], Reply::Int(-3));
    assert_eq!(blpop[3], Reply::Int(1));
    assert_eq!(blpop[4], Reply::Int(-2));
    let flags: Vec<String> = blpop[2].items().iter().map(Reply::text).collect();
    assert_eq!(flags, vec!["write", "noscript", "blocking"]);
    let lpush = items[1].items();
    let flags: Vec<String> = lpush[2].items().iter().map(Reply::text).collect();
    assert_eq!(flags, vec!["write", "denyoom", "fast"]);
    assert_eq!(items[2].items()[1], Reply::Int(-4));
}
