//! Stream commands end to end: XADD (IDs, trimming, NOMKSTREAM), XLEN, XRANGE/XREVRANGE,
//! XREAD (incl. BLOCK with data present), XDEL, XTRIM, XSETID, the consumer-group commands
//! (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and XINFO in RESP2 and RESP3,
//! with redis-server 7's reply shapes and error texts, plus WRONGTYPE and a cross-shard XREAD.

mod common;

use common::{Reply, Server};

fn entry(id: &str, fields: &[&str]) -> Reply {
    Reply::Array(vec![Reply::bulk(id), Reply::bulks(fields)])
}

fn err(text: &str) -> Reply {
    Reply::err(text)
}

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

#[test]
fn xadd_ids_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q("XADD s 1-1 a 1 b 2"), Reply::bulk("1-1"));
    assert_eq!(c.q("XADD s 1-* a 3"), Reply::bulk("1-2"));
    assert_eq!(c.q("XADD s 2-* a 3"), Reply::bulk("2-0"));
    assert_eq!(c.q("XADD s 5 a 3"), Reply::bulk("5-0"));
    let auto = c.q("XADD s * f v").text();
    let (ms, seq) = auto.split_once('-').expect("ms-seq");
    assert!(ms.parse::<u64>().unwrap() > 1_600_000_000_000, "{auto}");
    assert_eq!(seq, "0");
    assert_eq!(
        c.q("XADD s 5-5 a 1"),
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
    assert_eq!(
        c.q("XADD s 0-0 a 1"),
        err("ERR The ID specified in XADD must be greater than 0-0")
    );
    assert_eq!(c.q("XADD s 1-x a b"), err(INVALID_ID));
    assert_eq!(c.q("XADD s - a b"), err(INVALID_ID));
    let arity = err("ERR wrong number of arguments for 'xadd' command");
    assert_eq!(c.q("XADD s * a"), arity);
    assert_eq!(c.q("XADD s NOMKSTREAM *"), arity);
    assert_eq!(c.q("XADD s *"), arity);
    assert_eq!(
        c.q("XADD s MAXLEN = 1 LIMIT 5 * a b"),
        err("ERR syntax error, LIMIT cannot be used without the special ~ option")
    );
    assert_eq!(
        c.q("XADD s LIMIT 5 * a b"),
        err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    );
    assert_eq!(
        c.q("XADD s MINID 5 MAXLEN 4 * a b"),
        err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
    );
    assert_eq!(
        c.q("XADD s MAXLEN -1 * a b"),
        err("ERR The MAXLEN argument must be >= 0.")
    );
    assert_eq!(
        c.q("XADD s MAXLEN ~ 1 LIMIT -1 * a b"),
        err("ERR The LIMIT argument must be >= 0.")
    );
    assert_eq!(
        c.q("XADD s MAXLEN x * a b"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.q("XADD nokey NOMKSTREAM * a b"), Reply::NilBulk);
    assert_eq!(c.q("EXISTS nokey"), Reply::Int(0));
    assert_eq!(
        c.q("XADD max 18446744073709551615-18446744073709551615 a b"),
        Reply::bulk("18446744073709551615-18446744073709551615")
    );
    assert_eq!(
        c.q("XADD max * a b"),
        err("ERR The stream has exhausted the last possible ID, unable to add more items")
    );
    assert_eq!(c.q("XLEN s"), Reply::Int(5));
    assert_eq!(c.q("XLEN nokey"), Reply::Int(0));
    assert_eq!(c.q("TYPE s"), Reply::simple("stream"));
    assert_eq!(c.q("OBJECT ENCODING s"), Reply::bulk("stream"));

    // XADD with trimming.
    for i in 1..=10 {
        c.cmd(&["XADD", "t", &format!("{i}-0"), "f", "v"]);
    }
    assert_eq!(c.q("XADD t MAXLEN 5 11-0 f v"), Reply::bulk("11-0"));
    assert_eq!(c.q("XLEN t"), Reply::Int(5));
    assert_eq!(c.q("XADD t MINID = 9 12-0 f v"), Reply::bulk("12-0"));
    assert_eq!(c.q("XLEN t"), Reply::Int(4));
    // `~` only removes whole nodes: nothing goes from a single small node.
    assert_eq!(c.q("XADD t MAXLEN ~ 1 13-0 f v"), Reply::bulk("13-0"));
    assert_eq!(c.q("XLEN t"), Reply::Int(5));
}

#[test]
fn ranges_and_reads() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.q("XADD s 1-1 a 1");
    c.q("XADD s 1-2 b 2");
    c.q("XADD s 2-0 c 3 d 4");
    let all = vec![
        entry("1-1", &["a", "1"]),
        entry("1-2", &["b", "2"]),
        entry("2-0", &["c", "3", "d", "4"]),
    ];
    assert_eq!(c.q("XRANGE s - +"), Reply::Array(all.clone()));
    assert_eq!(c.q("XRANGE s - + COUNT 1"), Reply::Array(all[..1].to_vec()));
    assert_eq!(c.q("XRANGE s - + COUNT 0"), Reply::NilArray);
    assert_eq!(c.q("XRANGE s - + COUNT -3"), Reply::NilArray);
    assert_eq!(c.q("XRANGE s (1-1 +"), Reply::Array(all[1..].to_vec()));
    assert_eq!(c.q("XRANGE s - (2-0"), Reply::Array(all[..2].to_vec()));
    assert_eq!(c.q("XRANGE s 1 1"), Reply::Array(all[..2].to_vec()));
    assert_eq!(c.q("XRANGE s 3 +"), Reply::Array(vec![]));
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(c.q("XREVRANGE s + -"), Reply::Array(rev.clone()));
    assert_eq!(
        c.q("XREVRANGE s + - COUNT 2"),
        Reply::Array(rev[..2].to_vec())
    );
    assert_eq!(c.q("XREVRANGE s (2-0 -"), Reply::Array(rev[1..].to_vec()));
    assert_eq!(c.q("XRANGE nokey - + COUNT 0"), Reply::Array(vec![]));
    assert_eq!(
        c.q("XRANGE s (18446744073709551615-18446744073709551615 +"),
        err("ERR invalid start ID for the interval")
    );
    assert_eq!(
        c.q("XRANGE s - (0-0"),
        err("ERR invalid end ID for the interval")
    );
    assert_eq!(c.q("XRANGE s (- +"), err(INVALID_ID));
    assert_eq!(c.q("XRANGE s - + FOO"), err("ERR syntax error"));
    assert_eq!(c.q("XRANGE s - + COUNT"), err("ERR syntax error"));

    // XREAD.
    let from = |entries: &[Reply]| {
        Reply::Array(vec![Reply::Array(vec![
            Reply::bulk("s"),
            Reply::Array(entries.to_vec()),
        ])])
    };
    assert_eq!(c.q("XREAD STREAMS s 0"), from(&all));
    assert_eq!(c.q("XREAD COUNT 1 STREAMS s 1-1"), from(&all[1..2]));
    assert_eq!(c.q("XREAD STREAMS s 2-0"), Reply::NilArray);
    assert_eq!(c.q("XREAD STREAMS s $"), Reply::NilArray);
    assert_eq!(c.q("XREAD STREAMS nokey 0"), Reply::NilArray);
    assert_eq!(c.q("XREAD STREAMS s nokey 1-2 0"), from(&all[2..]));
    // BLOCK with data present answers at once.
    assert_eq!(c.q("XREAD BLOCK 1000 STREAMS s 1-2"), from(&all[2..]));
    let unbalanced = err(
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
    );
    assert_eq!(c.q("XREAD COUNT 1 STREAMS s"), unbalanced);
    assert_eq!(c.q("XREAD STREAMS s 0 1"), unbalanced);
    assert_eq!(
        c.q("XREAD GROUP g c STREAMS s 0"),
        err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
    );
    assert_eq!(
        c.q("XREAD NOACK STREAMS s 0"),
        err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
    );
    assert_eq!(
        c.q("XREAD STREAMS s >"),
        err(
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
        )
    );
    assert_eq!(
        c.q("XREAD COUNT x STREAMS s 0"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("XREAD BLOCK -1 STREAMS s 0"),
        err("ERR timeout is negative")
    );
    assert_eq!(
        c.q("XREAD BLOCK x STREAMS s 0"),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(c.q("XREAD FOO STREAMS s 0"), err("ERR syntax error"));
    assert_eq!(c.q("XREAD COUNT 1 BLOCK 1"), err("ERR syntax error"));
    assert_eq!(c.q("XREAD STREAMS s 1-x"), err(INVALID_ID));
}

#[test]
fn xread_resp3_is_a_map_and_cross_shard_reads_are_atomic() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    // Keys spread over shards.
    for k in ["a", "b", "c", "d"] {
        c.cmd(&["XADD", k, "1-0", "k", k]);
    }
    let got = c.q("XREAD STREAMS a b c d 0 0 0 0").items();
    assert_eq!(got.len(), 4);
    for (item, k) in got.iter().zip(["a", "b", "c", "d"]) {
        assert_eq!(
            item,
            &Reply::Array(vec![
                Reply::bulk(k),
                Reply::Array(vec![entry("1-0", &["k", k])])
            ])
        );
    }
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    assert_eq!(
        c.q("XREAD STREAMS a b 0 1-0"),
        Reply::Map(vec![(
            Reply::bulk("a"),
            Reply::Array(vec![entry("1-0", &["k", "a"])])
        )])
    );
    assert_eq!(c.q("XREAD STREAMS a 1-0"), Reply::Null);
    // XREADGROUP over several shards.
    c.q("XGROUP CREATE a g 0");
    c.q("XGROUP CREATE d g 0");
    let got = c.q("XREADGROUP GROUP g alice STREAMS a d > >");
    assert_eq!(
        got,
        Reply::Map(vec![
            (
                Reply::bulk("a"),
                Reply::Array(vec![entry("1-0", &["k", "a"])])
            ),
            (
                Reply::bulk("d"),
                Reply::Array(vec![entry("1-0", &["k", "d"])])
            ),
        ])
    );
    assert_eq!(c.q("XPENDING d g").items()[0], Reply::Int(1));
}

#[test]
fn xdel_xtrim_xsetid_and_wrongtype() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 1..=300 {
        c.cmd(&["XADD", "s", &format!("{i}-0"), "f", "v"]);
    }
    assert_eq!(c.q("XDEL s 1-0 1-0 999-0"), Reply::Int(1));
    assert_eq!(c.q("XDEL s bad"), err(INVALID_ID));
    assert_eq!(c.q("XDEL nokey bad"), Reply::Int(0));
    assert_eq!(c.q("XLEN s"), Reply::Int(299));
    // Approximate: whole nodes of 100 entries only.
    assert_eq!(c.q("XTRIM s MAXLEN ~ 150"), Reply::Int(99));
    assert_eq!(c.q("XLEN s"), Reply::Int(200));
    assert_eq!(c.q("XTRIM s MAXLEN ~ 0 LIMIT 50"), Reply::Int(0));
    assert_eq!(c.q("XTRIM s MAXLEN = 150"), Reply::Int(50));
    assert_eq!(c.q("XTRIM s MINID 260"), Reply::Int(109));
    assert_eq!(
        c.q("XRANGE s - + COUNT 1"),
        Reply::Array(vec![entry("260-0", &["f", "v"])])
    );
    assert_eq!(c.q("XTRIM nokey MAXLEN 0"), Reply::Int(0));
    assert_eq!(c.q("XTRIM s FOO 1"), err("ERR syntax error"));
    assert_eq!(c.q("XTRIM s LIMIT 1 x"), err("ERR syntax error"));
    assert_eq!(
        c.q("XTRIM s MAXLEN 1 LIMIT 1"),
        err("ERR syntax error, LIMIT cannot be used without the special ~ option")
    );
    assert_eq!(c.q("XTRIM s MINID -"), err(INVALID_ID));
    assert_eq!(c.q("XTRIM s MAXLEN 0"), Reply::Int(41));
    // An emptied stream stays, with its metadata.
    assert_eq!(c.q("XLEN s"), Reply::Int(0));
    assert_eq!(c.q("EXISTS s"), Reply::Int(1));
    let info = c.q("XINFO STREAM s");
    assert_eq!(info.field("last-generated-id"), Reply::bulk("300-0"));
    assert_eq!(info.field("entries-added"), Reply::Int(300));
    assert_eq!(info.field("max-deleted-entry-id"), Reply::bulk("1-0"));
    assert_eq!(info.field("first-entry"), Reply::NilBulk);

    // XSETID.
    assert_eq!(c.q("XSETID s 400-0"), Reply::ok());
    assert!(c.q("XADD s * f v").text().ends_with("-0"));
    assert_eq!(c.q("XSETID nokey 5-5"), err("ERR no such key"));
    assert_eq!(
        c.q("XSETID s 500-0 ENTRIESADDED -1"),
        err("ERR entries_added must be positive")
    );
    assert_eq!(
        c.q("XSETID s 5-5 MAXDELETEDID 6-0"),
        err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
    );
    assert_eq!(
        c.q("XSETID s 18446744073709551615-0 ENTRIESADDED 0"),
        err("ERR The entries_added specified in XSETID is smaller than the target stream length")
    );
    assert_eq!(
        c.q("XSETID s 18446744073709551615-0 FOO"),
        err("ERR syntax error")
    );
    assert_eq!(
        c.q("XSETID s 18446744073709551615-0 ENTRIESADDED 1000 MAXDELETEDID 2-0"),
        Reply::ok()
    );
    let info = c.q("XINFO STREAM s");
    assert_eq!(info.field("entries-added"), Reply::Int(1000));
    assert_eq!(info.field("max-deleted-entry-id"), Reply::bulk("2-0"));
    assert_eq!(
        info.field("last-generated-id"),
        Reply::bulk("18446744073709551615-0")
    );

    let wrong = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    c.q("SET str x");
    for cmd in [
        "XADD str * a b",
        "XLEN str",
        "XRANGE str - +",
        "XREVRANGE str + -",
        "XREAD STREAMS str 0",
        "XDEL str 1-1",
        "XTRIM str MAXLEN 0",
        "XSETID str 1-1",
        "XGROUP CREATE str g $",
        "XREADGROUP GROUP g c STREAMS str >",
        "XACK str g 1-1",
        "XPENDING str g",
        "XCLAIM str g c 0 1-1",
        "XAUTOCLAIM str g c 0 0",
        "XINFO STREAM str",
        "XINFO GROUPS str",
        "XINFO CONSUMERS str g",
    ] {
        assert_eq!(c.q(cmd), wrong, "{cmd}");
    }
}

#[test]
fn consumer_group_flows() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 1..=4 {
        c.cmd(&["XADD", "s", &format!("{i}-0"), "n", &i.to_string()]);
    }
    assert_eq!(c.q("XGROUP CREATE s g 0"), Reply::ok());
    assert_eq!(
        c.q("XGROUP CREATE s g 0"),
        err("BUSYGROUP Consumer Group name already exists")
    );
    assert_eq!(
        c.q("XGROUP CREATE nokey g 0"),
        err(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
        )
    );
    assert_eq!(
        c.q("XGROUP CREATE s g9 0 ENTRIESREAD -2"),
        err("ERR value for ENTRIESREAD must be positive or -1")
    );
    assert_eq!(
        c.q("XGROUP CREATE s g9 0 MKSTREAM FOO"),
        err("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.")
    );
    assert_eq!(c.q("XGROUP CREATE s g9 -"), err(INVALID_ID));
    assert_eq!(c.q("XGROUP CREATE mk g $ MKSTREAM"), Reply::ok());
    assert_eq!(c.q("XLEN mk"), Reply::Int(0));
    assert_eq!(
        c.q("XGROUP SETID s nog 0"),
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(c.q("XGROUP CREATECONSUMER s g c1"), Reply::Int(1));
    assert_eq!(c.q("XGROUP CREATECONSUMER s g c1"), Reply::Int(0));
    assert_eq!(c.q("XGROUP DELCONSUMER s g c1"), Reply::Int(0));
    assert_eq!(c.q("XGROUP DESTROY s nog"), Reply::Int(0));
    assert_eq!(
        c.q("XGROUP DESTROY s"),
        err("ERR wrong number of arguments for 'xgroup|destroy' command")
    );
    assert_eq!(
        c.q("XGROUP FOO"),
        err("ERR unknown subcommand 'FOO'. Try XGROUP HELP.")
    );
    assert!(c.q("XGROUP HELP").items().len() > 10);

    // Delivery.
    assert_eq!(
        c.q("XREADGROUP GROUP g c STREAMS s $"),
        err(
            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
        )
    );
    assert_eq!(
        c.q("XREADGROUP GROUP nog c STREAMS s >"),
        err("NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option")
    );
    assert_eq!(
        c.q("XREADGROUP STREAMS s 0"),
        err("ERR wrong number of arguments for 'xreadgroup' command")
    );
    assert_eq!(
        c.q("XREADGROUP COUNT 1 BLOCK 10 STREAMS s >"),
        err("ERR Missing GROUP option for XREADGROUP")
    );
    let one = |id: &str, n: &str| {
        Reply::Array(vec![Reply::Array(vec![
            Reply::bulk("s"),
            Reply::Array(vec![entry(id, &["n", n])]),
        ])])
    };
    assert_eq!(
        c.q("XREADGROUP GROUP g alice COUNT 1 STREAMS s >"),
        one("1-0", "1")
    );
    assert_eq!(
        c.q("XREADGROUP GROUP g alice COUNT 1 BLOCK 100 STREAMS s >"),
        one("2-0", "2")
    );
    assert_eq!(
        c.q("XREADGROUP GROUP g bob COUNT 1 STREAMS s >"),
        one("3-0", "3")
    );
    assert_eq!(
        c.q("XREADGROUP GROUP g bob NOACK STREAMS s >"),
        one("4-0", "4")
    );
    assert_eq!(c.q("XREADGROUP GROUP g bob STREAMS s >"), Reply::NilArray);
    // History: alice's own PEL.
    let hist = c.q("XREADGROUP GROUP g alice STREAMS s 0").items();
    assert_eq!(hist[0].items()[1].items().len(), 2);

    // XPENDING.
    assert_eq!(
        c.q("XPENDING s g"),
        Reply::Array(vec![
            Reply::Int(3),
            Reply::bulk("1-0"),
            Reply::bulk("3-0"),
            Reply::Array(vec![
                Reply::bulks(&["alice", "2"]),
                Reply::bulks(&["bob", "1"]),
            ]),
        ])
    );
    let ext = c.q("XPENDING s g - + 10 alice").items();
    assert_eq!(ext.len(), 2);
    let first = ext[0].items();
    assert_eq!(first[0], Reply::bulk("1-0"));
    assert_eq!(first[1], Reply::bulk("alice"));
    assert_eq!(first[3], Reply::Int(2));
    assert_eq!(c.q("XPENDING s g - + 10 nobody"), Reply::Array(vec![]));
    assert_eq!(
        c.q("XPENDING s g IDLE 9999999 - + 10"),
        Reply::Array(vec![])
    );
    assert_eq!(c.q("XPENDING s g (1-0 + 1").items().len(), 1);
    assert_eq!(c.q("XPENDING s g - +"), err("ERR syntax error"));
    assert_eq!(
        c.q("XPENDING s nog"),
        err("NOGROUP No such key 's' or consumer group 'nog'")
    );
    assert_eq!(
        c.q("XPENDING nokey g"),
        err("NOGROUP No such key 'nokey' or consumer group 'g'")
    );

    // XACK.
    assert_eq!(c.q("XACK s g 1-0 1-0 9-0"), Reply::Int(1));
    assert_eq!(c.q("XACK s g bad"), err(INVALID_ID));
    assert_eq!(c.q("XACK s nog bad"), Reply::Int(0));

    // XCLAIM.
    assert_eq!(
        c.q("XCLAIM s nog c 0 1-1"),
        err("NOGROUP No such key 's' or consumer group 'nog'")
    );
    assert_eq!(
        c.q("XCLAIM s g c x 1-1"),
        err("ERR Invalid min-idle-time argument for XCLAIM")
    );
    assert_eq!(
        c.q("XCLAIM s g c 0 1-1 foo"),
        err("ERR Unrecognized XCLAIM option 'foo'")
    );
    assert_eq!(
        c.q("XCLAIM s g c 0 1-1 IDLE x"),
        err("ERR Invalid IDLE option argument for XCLAIM")
    );
    assert_eq!(c.q("XCLAIM s g carol 3600000 2-0"), Reply::Array(vec![]));
    assert_eq!(
        c.q("XCLAIM s g carol 0 2-0 JUSTID"),
        Reply::Array(vec![Reply::bulk("2-0")])
    );
    assert_eq!(
        c.q("XCLAIM s g carol 0 3-0 RETRYCOUNT 7 IDLE 5000"),
        Reply::Array(vec![entry("3-0", &["n", "3"])])
    );
    let p = c.q("XPENDING s g 3-0 3-0 1").items()[0].items();
    assert_eq!(p[1], Reply::bulk("carol"));
    assert!(p[2].int() >= 5000, "{p:?}");
    assert_eq!(p[3], Reply::Int(7));
    // FORCE creates a PEL entry for an unclaimed (NOACK) entry.
    assert_eq!(
        c.q("XCLAIM s g dave 0 4-0 FORCE JUSTID"),
        Reply::Array(vec![Reply::bulk("4-0")])
    );

    // XAUTOCLAIM with a deleted entry.
    c.q("XDEL s 3-0");
    assert_eq!(
        c.q("XAUTOCLAIM s g erin 0 0 COUNT 1 JUSTID"),
        Reply::Array(vec![
            Reply::bulk("3-0"),
            Reply::Array(vec![Reply::bulk("2-0")]),
            Reply::Array(vec![]),
        ])
    );
    assert_eq!(
        c.q("XAUTOCLAIM s g erin 0 3-0"),
        Reply::Array(vec![
            Reply::bulk("0-0"),
            Reply::Array(vec![entry("4-0", &["n", "4"])]),
            Reply::Array(vec![Reply::bulk("3-0")]),
        ])
    );
    assert_eq!(
        c.q("XAUTOCLAIM s g c 0 0 COUNT 0"),
        err("ERR COUNT must be > 0")
    );
    assert_eq!(
        c.q("XAUTOCLAIM s g c x 0"),
        err("ERR Invalid min-idle-time argument for XAUTOCLAIM")
    );
    assert_eq!(c.q("XAUTOCLAIM s g c 0 0 FOO"), err("ERR syntax error"));

    // History of a deleted entry answers a null for its fields.
    c.q("XADD s 5-0 n 5");
    c.q("XREADGROUP GROUP g frank STREAMS s >");
    c.q("XDEL s 5-0");
    assert_eq!(
        c.q("XREADGROUP GROUP g frank STREAMS s 0"),
        Reply::Array(vec![Reply::Array(vec![
            Reply::bulk("s"),
            Reply::Array(vec![Reply::Array(vec![
                Reply::bulk("5-0"),
                Reply::NilArray
            ])]),
        ])])
    );

    // DELCONSUMER drops its pending entries.
    assert_eq!(c.q("XGROUP DELCONSUMER s g erin"), Reply::Int(2));
    assert_eq!(c.q("XGROUP DESTROY s g"), Reply::Int(1));
    assert_eq!(c.q("XINFO GROUPS s"), Reply::Array(vec![]));
}

#[test]
fn xinfo_shapes_resp2_and_resp3() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 1..=3 {
        c.cmd(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
    }
    c.q("XGROUP CREATE s g 0");
    c.q("XREADGROUP GROUP g alice COUNT 2 STREAMS s >");
    let info = c.q("XINFO STREAM s");
    let names: Vec<String> = info.pairs().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "length",
            "radix-tree-keys",
            "radix-tree-nodes",
            "last-generated-id",
            "max-deleted-entry-id",
            "entries-added",
            "recorded-first-entry-id",
            "groups",
            "first-entry",
            "last-entry"
        ]
    );
    assert!(matches!(info, Reply::Array(_)));
    assert_eq!(info.field("length"), Reply::Int(3));
    assert_eq!(info.field("groups"), Reply::Int(1));
    assert_eq!(info.field("recorded-first-entry-id"), Reply::bulk("1-0"));
    assert_eq!(info.field("first-entry"), entry("1-0", &["f", "1"]));
    assert_eq!(info.field("last-entry"), entry("3-0", &["f", "3"]));

    let groups = c.q("XINFO GROUPS s").items();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.field("name"), Reply::bulk("g"));
    assert_eq!(g.field("consumers"), Reply::Int(1));
    assert_eq!(g.field("pending"), Reply::Int(2));
    assert_eq!(g.field("last-delivered-id"), Reply::bulk("2-0"));
    assert_eq!(g.field("entries-read"), Reply::Int(2));
    assert_eq!(g.field("lag"), Reply::Int(1));
    let consumers = c.q("XINFO CONSUMERS s g").items();
    assert_eq!(consumers[0].field("name"), Reply::bulk("alice"));
    assert_eq!(consumers[0].field("pending"), Reply::Int(2));
    assert!(consumers[0].field("idle").int() >= 0);
    assert_eq!(
        c.q("XINFO CONSUMERS s nog"),
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(c.q("XINFO STREAM nokey"), err("ERR no such key"));
    assert_eq!(
        c.q("XINFO STREAM s FULL COUNT x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.q("XINFO STREAM s FULL FOO"),
        err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
    );
    assert_eq!(
        c.q("XINFO FOO s"),
        err("ERR unknown subcommand 'FOO'. Try XINFO HELP.")
    );

    let full = c.q("XINFO STREAM s FULL");
    assert_eq!(full.field("entries").items().len(), 3);
    let fg = &full.field("groups").items()[0];
    assert_eq!(fg.field("pel-count"), Reply::Int(2));
    assert_eq!(fg.field("pending").items().len(), 2);
    let fc = &fg.field("consumers").items()[0];
    assert_eq!(fc.field("name"), Reply::bulk("alice"));
    assert_eq!(fc.field("pel-count"), Reply::Int(2));
    let full1 = c.q("XINFO STREAM s FULL COUNT 1");
    assert_eq!(full1.field("entries").items().len(), 1);

    // RESP3: maps, and nulls for unknown counters.
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    let info = c.q("XINFO STREAM s");
    assert!(matches!(info, Reply::Map(_)));
    assert_eq!(info.field("length"), Reply::Int(3));
    c.q("XGROUP CREATE s h 1-0");
    c.q("XDEL s 2-0");
    let groups = c.q("XINFO GROUPS s").items();
    assert!(matches!(groups[0], Reply::Map(_)));
    let h = &groups[1];
    assert_eq!(h.field("name"), Reply::bulk("h"));
    assert_eq!(h.field("entries-read"), Reply::Null);
    assert_eq!(h.field("lag"), Reply::Null);
    assert!(matches!(
        c.q("XINFO CONSUMERS s g").items()[0],
        Reply::Map(_)
    ));
    assert!(matches!(c.q("XINFO STREAM s FULL"), Reply::Map(_)));
}
