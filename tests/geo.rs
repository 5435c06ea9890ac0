//! Geo commands end to end, with the replies and error texts redis-server 7 gives: GEOADD and
//! its options over sorted sets, GEOPOS/GEOHASH/GEODIST texts, every search form (GEOSEARCH,
//! GEORADIUS, GEORADIUSBYMEMBER and their _RO/STORE variants) with their options, Redis's
//! error order, RESP3 shapes, keyspace events, STORE across shards, and a differential run
//! against a real redis-server on random points (skipped, loudly, when none is installed).

mod common;

use std::net::TcpStream;

use common::{Conn, Reply, Server};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

fn bulks(items: &[&str]) -> Reply {
    Reply::bulks(items)
}

const SICILY: &str = "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento";

#[test]
fn geoadd_pos_hash_dist() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q(SICILY), Reply::Int(3));
    // A geo set is a sorted set scored by the 52-bit geohash.
    assert_eq!(c.q("TYPE Sicily"), Reply::simple("zset"));
    assert_eq!(c.q("ZSCORE Sicily Palermo"), b("3479099956230698"));
    assert_eq!(c.q("OBJECT ENCODING Sicily"), b("listpack"));
    assert_eq!(
        c.q("GEOPOS Sicily Palermo nope Agrigento"),
        arr(vec![
            bulks(&["13.36138933897018433", "38.11555639549629859"]),
            Reply::NilArray,
            bulks(&["13.5833314061164856", "37.31666804993816555"]),
        ])
    );
    assert_eq!(c.q("GEOPOS nokey a"), arr(vec![Reply::NilArray]));
    assert_eq!(
        c.q("GEOHASH Sicily Palermo Catania nope"),
        arr(vec![b("sqc8b49rny0"), b("sqdtr74hyu0"), Reply::NilBulk])
    );
    assert_eq!(c.q("GEOHASH Sicily"), arr(vec![]));
    assert_eq!(c.q("GEODIST Sicily Palermo Catania"), b("166274.1516"));
    assert_eq!(c.q("GEODIST Sicily Palermo Catania KM"), b("166.2742"));
    assert_eq!(c.q("GEODIST Sicily Palermo Catania mi"), b("103.3182"));
    assert_eq!(c.q("GEODIST Sicily Palermo Agrigento ft"), b("298483.4434"));
    assert_eq!(c.q("GEODIST Sicily Palermo nope"), Reply::NilBulk);
    assert_eq!(c.q("GEODIST nokey a b"), Reply::NilBulk);

    // NX / XX / CH follow ZADD.
    assert_eq!(
        c.q("GEOADD Sicily XX CH 13.361389 38 Palermo 1 1 newone"),
        Reply::Int(1)
    );
    assert_eq!(c.q("ZSCORE Sicily newone"), Reply::NilBulk);
    assert_eq!(
        c.q("GEOADD Sicily NX 13.361389 39 Palermo 1 1 newone"),
        Reply::Int(1)
    );
    assert_eq!(c.q("ZCARD Sicily"), Reply::Int(4));
    assert_eq!(c.q("GEOADD Sicily 1 1 newone"), Reply::Int(0));
    assert_eq!(c.q("GEOADD Sicily CH 1 2 newone"), Reply::Int(1));
    assert_eq!(c.q("GEOADD fresh XX 1 1 a"), Reply::Int(0));
    assert_eq!(c.q("EXISTS fresh"), Reply::Int(0));

    // Argument errors come before the key's type check; WRONGTYPE otherwise.
    assert_eq!(c.q("SET str v"), Reply::ok());
    assert_eq!(
        c.q("GEOADD str 1 x a"),
        Reply::err("ERR value is not a valid float")
    );
    assert_eq!(
        c.q("GEOADD k 200 100 x"),
        Reply::err("ERR invalid longitude,latitude pair 200.000000,100.000000")
    );
    assert_eq!(
        c.q("GEOADD k 1 2 a 300 2 b abc 1 c"),
        Reply::err("ERR invalid longitude,latitude pair 300.000000,2.000000")
    );
    assert_eq!(c.q("GEOADD k NX XX 1 2 a"), Reply::err("ERR syntax error"));
    assert_eq!(c.q("GEOADD k GT 1 2 a"), Reply::err("ERR syntax error"));
    assert_eq!(
        c.q("GEOADD k 1 2"),
        Reply::err("ERR wrong number of arguments for 'geoadd' command")
    );
    let wrongtype = Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(c.q("GEOADD str 1 2 a"), wrongtype);
    assert_eq!(c.q("GEOPOS str a"), wrongtype);
    assert_eq!(c.q("GEOHASH str a"), wrongtype);
    assert_eq!(c.q("GEODIST str a b"), wrongtype);
    assert_eq!(
        c.q("GEODIST str a b foo"),
        Reply::err("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
    assert_eq!(
        c.q("GEODIST nokey a b km extra"),
        Reply::err("ERR syntax error")
    );
    assert_eq!(c.q("EXISTS k"), Reply::Int(0));
}

#[test]
fn search_forms() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q(SICILY), Reply::Int(3));
    // Unsorted output is the zset order of each searched cell.
    assert_eq!(
        c.q("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km"),
        bulks(&["Agrigento", "Palermo", "Catania"])
    );
    assert_eq!(
        c.q("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST WITHCOORD"),
        arr(vec![
            arr(vec![
                b("Catania"),
                b("56.4413"),
                bulks(&["15.08726745843887329", "37.50266842333162032"]),
            ]),
            arr(vec![
                b("Agrigento"),
                b("130.4235"),
                bulks(&["13.5833314061164856", "37.31666804993816555"]),
            ]),
            arr(vec![
                b("Palermo"),
                b("190.4424"),
                bulks(&["13.36138933897018433", "38.11555639549629859"]),
            ]),
        ])
    );
    assert_eq!(
        c.q("GEOSEARCH Sicily FROMMEMBER Agrigento BYBOX 400 400 km DESC WITHHASH"),
        arr(vec![
            arr(vec![b("Catania"), Reply::Int(3479447370796909)]),
            arr(vec![b("Palermo"), Reply::Int(3479099956230698)]),
            arr(vec![b("Agrigento"), Reply::Int(3479030013248308)]),
        ])
    );
    assert_eq!(
        c.q("GEOSEARCH Sicily FROMMEMBER Agrigento BYBOX 400 400 km COUNT 2"),
        bulks(&["Agrigento", "Palermo"])
    );
    assert_eq!(
        c.q("GEOSEARCH Sicily FROMMEMBER Agrigento BYBOX 400 400 km COUNT 1 ANY"),
        bulks(&["Agrigento"])
    );
    assert_eq!(
        c.q("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km"),
        arr(vec![])
    );
    assert_eq!(
        c.q("GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 1"),
        arr(vec![arr(vec![b("Catania"), b("56.4413")])])
    );
    assert_eq!(
        c.q("GEORADIUSBYMEMBER Sicily Agrigento 100 km"),
        bulks(&["Agrigento", "Palermo"])
    );
    assert_eq!(
        c.q("GEORADIUS_RO Sicily 15 37 100 mi WITHDIST"),
        arr(vec![
            arr(vec![b("Agrigento"), b("81.0416")]),
            arr(vec![b("Catania"), b("35.0711")]),
        ])
    );
    assert_eq!(
        c.q("GEORADIUSBYMEMBER_RO Sicily Catania 60 km"),
        bulks(&["Catania"])
    );

    // STORE forms.
    assert_eq!(c.q("SET dst x"), Reply::ok());
    assert_eq!(c.q("EXPIRE dst 100"), Reply::Int(1));
    assert_eq!(
        c.q("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST"),
        Reply::Int(3)
    );
    assert_eq!(c.q("TTL dst"), Reply::Int(-1));
    assert_eq!(
        c.q("ZRANGE dst 0 -1 WITHSCORES"),
        bulks(&[
            "Catania",
            "56.441257870158204",
            "Agrigento",
            "130.42348706714702",
            "Palermo",
            "190.44242984775784"
        ])
    );
    assert_eq!(
        c.q("GEORADIUS Sicily 15 37 200 km STORE dst2"),
        Reply::Int(3)
    );
    assert_eq!(
        c.q("ZRANGE dst2 0 -1 WITHSCORES"),
        bulks(&[
            "Agrigento",
            "3479030013248308",
            "Palermo",
            "3479099956230698",
            "Catania",
            "3479447370796909"
        ])
    );
    assert_eq!(c.q("OBJECT ENCODING dst2"), b("listpack"));
    assert_eq!(
        c.q("GEORADIUSBYMEMBER Sicily Catania 60 km STOREDIST dst3 STORE dst2"),
        Reply::Int(1)
    );
    assert_eq!(c.q("ZRANGE dst2 0 -1"), bulks(&["Catania"]));
    assert_eq!(c.q("EXISTS dst3"), Reply::Int(0));
    // Nothing found, or no source: the destination is deleted.
    assert_eq!(
        c.q("GEOSEARCHSTORE dst2 Sicily FROMLONLAT 0 0 BYRADIUS 1 m"),
        Reply::Int(0)
    );
    assert_eq!(c.q("EXISTS dst2"), Reply::Int(0));
    assert_eq!(c.q("GEORADIUS nokey 15 37 200 km STORE dst"), Reply::Int(0));
    assert_eq!(c.q("EXISTS dst"), Reply::Int(0));
    assert_eq!(c.q("GEORADIUS nokey 15 37 200 km"), arr(vec![]));
    assert_eq!(c.q("GEORADIUSBYMEMBER nokey nope -1 km"), arr(vec![]));

    // A store to the source itself replaces it.
    assert_eq!(
        c.q("GEOSEARCHSTORE Sicily Sicily FROMMEMBER Palermo BYRADIUS 10 km"),
        Reply::Int(1)
    );
    assert_eq!(c.q("ZRANGE Sicily 0 -1"), bulks(&["Palermo"]));
}

#[test]
fn search_errors_in_redis_order() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q(SICILY), Reply::Int(3));
    assert_eq!(c.q("SET str v"), Reply::ok());
    let cases: &[(&str, &str)] = &[
        // The key's type is checked first.
        (
            "GEORADIUS str 1 2 3 km garbage",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            "GEOSEARCH str FROMMEMBER a BYRADIUS -1 km",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        ("GEORADIUS nokey 1 2 3 km garbage", "ERR syntax error"),
        (
            "GEORADIUS nokey 200 2 3 km",
            "ERR invalid longitude,latitude pair 200.000000,2.000000",
        ),
        ("GEORADIUS nokey 1 2 -3 km", "ERR radius cannot be negative"),
        ("GEORADIUS nokey 1 2 x km", "ERR need numeric radius"),
        (
            "GEORADIUS nokey 1 2 3 parsec",
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ),
        ("GEORADIUS nokey 1 2 3 km COUNT 0", "ERR COUNT must be > 0"),
        (
            "GEORADIUS nokey 1 2 3 km COUNT x",
            "ERR value is not an integer or out of range",
        ),
        ("GEORADIUS nokey 1 2 3 km COUNT", "ERR syntax error"),
        (
            "GEORADIUS nokey 1 2 3 km ANY",
            "ERR the ANY argument requires COUNT argument",
        ),
        (
            "GEORADIUS nokey 1 2 3 km STORE d WITHDIST",
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        ("GEORADIUS_RO nokey 1 2 3 km STORE d", "ERR syntax error"),
        // The centre member is looked up where it appears among the arguments.
        (
            "GEOSEARCH Sicily FROMMEMBER nope BYRADIUS -1 km",
            "ERR could not decode requested zset member",
        ),
        (
            "GEOSEARCH Sicily BYRADIUS -1 km FROMMEMBER nope",
            "ERR radius cannot be negative",
        ),
        (
            "GEOSEARCH nokey FROMMEMBER nope BYRADIUS -1 km",
            "ERR radius cannot be negative",
        ),
        (
            "GEOSEARCH Sicily FROMMEMBER Palermo FROMMEMBER nope BYRADIUS 1 km",
            "ERR could not decode requested zset member",
        ),
        (
            "GEORADIUSBYMEMBER Sicily nope -1 km",
            "ERR could not decode requested zset member",
        ),
        (
            "GEORADIUSBYMEMBER Sicily Palermo -1 km garbage",
            "ERR radius cannot be negative",
        ),
        (
            "GEORADIUSBYMEMBER nokey nope -1 km garbage",
            "ERR syntax error",
        ),
        (
            "GEOSEARCH nokey FROMMEMBER a FROMLONLAT 1 2 BYRADIUS 1 km",
            "ERR syntax error",
        ),
        (
            "GEOSEARCH nokey FROMLONLAT 1 2 BYRADIUS 1 km BYBOX 1 1 km",
            "ERR syntax error",
        ),
        (
            "GEOSEARCH nokey FROMLONLAT 1 2 BYRADIUS 1 km STOREDIST",
            "ERR syntax error",
        ),
        (
            "GEOSEARCHSTORE d nokey FROMLONLAT 1 2 BYRADIUS 1 km WITHDIST",
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            "GEOSEARCH nokey FROMLONLAT 1 2 BYBOX -1 1 km",
            "ERR height or width cannot be negative",
        ),
        (
            "GEOSEARCH nokey FROMLONLAT 1 2 BYBOX 1 x km",
            "ERR need numeric height",
        ),
        (
            "GeoSearch nokey BYRADIUS 1 km ASC DESC",
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch",
        ),
        (
            "GEOSEARCH nokey FROMLONLAT 1 2 ASC WITHDIST",
            "ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH",
        ),
        (
            "GEOSEARCH nokey FROMLONLAT 1 2",
            "ERR wrong number of arguments for 'geosearch' command",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(c.q(line), Reply::err(want), "{line}");
    }
    assert_eq!(
        c.q("GEOSEARCHSTORE d nokey FROMLONLAT 1 2 BYRADIUS 1 km STOREDIST"),
        Reply::Int(0)
    );
}

#[test]
fn resp3_shapes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.q(SICILY), Reply::Int(3));
    assert!(matches!(c.q("HELLO 3"), Reply::Map(_)));
    let palermo = arr(vec![
        Reply::Double("13.36138933897018433".into()),
        Reply::Double("38.11555639549629859".into()),
    ]);
    assert_eq!(
        c.q("GEOPOS Sicily Palermo nope"),
        arr(vec![palermo.clone(), Reply::Null])
    );
    assert_eq!(
        c.q("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km WITHCOORD WITHDIST WITHHASH"),
        arr(vec![arr(vec![
            b("Palermo"),
            b("0.0000"),
            Reply::Int(3479099956230698),
            palermo,
        ])])
    );
    assert_eq!(c.q("GEODIST Sicily Palermo Catania km"), b("166.2742"));
    assert_eq!(c.q("GEODIST Sicily Palermo nope"), Reply::Null);
    assert_eq!(c.q("GEOHASH Sicily nope"), arr(vec![Reply::Null]));
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> Reply {
    arr(vec![b("pmessage"), b(pattern), b(channel), b(payload)])
}

#[test]
fn keyspace_events() {
    let s = Server::start(&["--shards", "1"]);
    let mut sub = s.conn();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Egz"]),
        Reply::ok()
    );
    let all = "__keyevent@0__:*";
    assert_eq!(
        sub.q(&format!("PSUBSCRIBE {all}")),
        arr(vec![b("psubscribe"), b(all), Reply::Int(1)])
    );
    let mut expect = |event: &str, key: &str| {
        assert_eq!(
            sub.read(),
            pmessage(all, &format!("__keyevent@0__:{event}"), key)
        );
    };
    assert_eq!(c.q(SICILY), Reply::Int(3));
    expect("zadd", "Sicily");
    assert_eq!(
        c.q("GEOSEARCHSTORE d1 Sicily FROMLONLAT 15 37 BYRADIUS 200 km"),
        Reply::Int(3)
    );
    expect("geosearchstore", "d1");
    assert_eq!(c.q("GEORADIUS Sicily 15 37 200 km STORE d2"), Reply::Int(3));
    expect("georadiusstore", "d2");
    assert_eq!(
        c.q("GEORADIUSBYMEMBER Sicily Palermo 1 m STOREDIST d2"),
        Reply::Int(1)
    );
    expect("georadiusstore", "d2");
    assert_eq!(c.q("GEORADIUS Sicily 0 0 1 m STORE d2"), Reply::Int(0));
    expect("del", "d2");
    assert_eq!(c.q("GEORADIUS nokey 0 0 1 m STORE d1"), Reply::Int(0));
    expect("del", "d1");
    // An unchanged GEOADD notifies nothing.
    assert_eq!(
        c.q("GEOADD Sicily 13.361389 38.115556 Palermo"),
        Reply::Int(0)
    );
    assert_eq!(c.q("GEOADD Sicily 1 1 x"), Reply::Int(1));
    expect("zadd", "Sicily");
}

#[test]
fn store_across_shards() {
    let s = Server::start(&["--shards", "4"]);
    let mut c = s.conn();
    let keys = common::keys_on_shards("geo", 2, 4);
    let (src, dst) = (&keys[0], &keys[1]);
    assert_eq!(c.q(&SICILY.replace("Sicily", src)), Reply::Int(3));
    assert_eq!(c.q(&format!("SET {dst} x")), Reply::ok());
    assert_eq!(
        c.q(&format!(
            "GEOSEARCHSTORE {dst} {src} FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2 STOREDIST"
        )),
        Reply::Int(2)
    );
    assert_eq!(
        c.q(&format!("ZRANGE {dst} 0 -1 WITHSCORES")),
        bulks(&[
            "Catania",
            "56.441257870158204",
            "Agrigento",
            "130.42348706714702"
        ])
    );
    assert_eq!(
        c.q(&format!(
            "GEORADIUS {src} 15 37 200 km DESC COUNT 1 STORE {dst}"
        )),
        Reply::Int(1)
    );
    assert_eq!(
        c.q(&format!("ZRANGE {dst} 0 -1 WITHSCORES")),
        bulks(&["Palermo", "3479099956230698"])
    );
    assert_eq!(
        c.q(&format!("GEORADIUSBYMEMBER {src} Palermo 1 m STORE {dst}")),
        Reply::Int(1)
    );
    assert_eq!(
        c.q(&format!("GEORADIUS {src} 0 0 1 km STORE {dst}")),
        Reply::Int(0)
    );
    assert_eq!(c.q(&format!("EXISTS {dst}")), Reply::Int(0));
    // The source is untouched and a wrong-typed source leaves the destination alone.
    assert_eq!(c.q(&format!("ZCARD {src}")), Reply::Int(3));
    assert_eq!(c.q(&format!("SET {dst} x")), Reply::ok());
    assert_eq!(c.q(&format!("SET {src} y")), Reply::ok());
    assert_eq!(
        c.q(&format!(
            "GEOSEARCHSTORE {dst} {src} FROMLONLAT 15 37 BYRADIUS 200 km"
        )),
        Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(c.q(&format!("GET {dst}")), b("x"));
}

// ---- differential run against redis-server ----

/// xorshift64*: deterministic points for both servers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `[lo, hi)` with 6 decimals, as text.
    fn coord(&mut self, lo: f64, hi: f64) -> String {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        format!("{:.6}", lo + (hi - lo) * unit)
    }
}

#[test]
fn matches_reference_redis() {
    if common::is_reference() {
        return;
    }
    let Some(reference) = common::reference::Reference::start("matches_reference_redis") else {
        return;
    };
    let s = Server::start(&[]);
    let mut moon = s.conn();
    let mut redis = Conn::new(
        TcpStream::connect(("127.0.0.1", reference.port)).expect("connect to redis-server"),
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut lines: Vec<String> = Vec::new();
    // A listpack-encoded set near Sicily, and a skiplist-encoded one over a wide area
    // (including the edges of the index).
    let mut small = String::from("GEOADD small");
    for i in 0..40 {
        let (lon, lat) = (rng.coord(12.0, 16.0), rng.coord(36.0, 39.0));
        small.push_str(&format!(" {lon} {lat} s{i}"));
    }
    lines.push(small);
    let mut big = String::from("GEOADD big 180 85.05112878 ne -180 -85.05112878 sw 0 0 origin");
    for i in 0..400 {
        let (lon, lat) = (rng.coord(-180.0, 180.0), rng.coord(-85.0, 85.0));
        big.push_str(&format!(" {lon} {lat} b{i}"));
    }
    lines.push(big);
    lines.push("OBJECT ENCODING big".into());
    lines.push("ZRANGE small 0 -1 WITHSCORES".into());
    lines.push("ZRANGE big 0 50 WITHSCORES".into());
    let members: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
    lines.push(format!("GEOPOS small {} nope", members.join(" ")));
    lines.push(format!("GEOHASH small {} nope", members.join(" ")));
    let bigs: Vec<String> = (0..400).step_by(7).map(|i| format!("b{i}")).collect();
    lines.push(format!("GEOPOS big ne sw origin {}", bigs.join(" ")));
    lines.push(format!("GEOHASH big ne sw origin {}", bigs.join(" ")));
    for i in 0..20 {
        let unit = ["m", "km", "mi", "ft"][i % 4];
        lines.push(format!("GEODIST small s{i} s{} {unit}", 39 - i));
        lines.push(format!("GEODIST big b{} b{} {unit}", i * 13, i * 17 + 3));
    }
    for i in 0..40 {
        let (lon, lat) = (rng.coord(11.0, 17.0), rng.coord(35.5, 39.5));
        let r = rng.next() % 300 + 1;
        let (w, h) = (rng.next() % 500 + 1, rng.next() % 500 + 1);
        let opts = [
            "",
            " ASC",
            " DESC WITHDIST",
            " WITHCOORD WITHDIST WITHHASH",
            " COUNT 5",
            " COUNT 3 DESC WITHDIST",
            " COUNT 4 ANY",
            " ASC COUNT 1 WITHCOORD",
        ][i % 8];
        lines.push(format!(
            "GEOSEARCH small FROMLONLAT {lon} {lat} BYRADIUS {r} km{opts}"
        ));
        lines.push(format!(
            "GEOSEARCH small FROMLONLAT {lon} {lat} BYBOX {w} {h} km{opts}"
        ));
        lines.push(format!(
            "GEOSEARCH small FROMMEMBER s{} BYBOX {w} {h} mi{opts}",
            i % 40
        ));
        lines.push(format!("GEORADIUS small {lon} {lat} {r} km{opts}"));
        lines.push(format!(
            "GEORADIUSBYMEMBER_RO small s{} {} km{opts}",
            (i * 7) % 40,
            r / 3
        ));
        let (blon, blat) = (rng.coord(-180.0, 180.0), rng.coord(-85.0, 85.0));
        let br = rng.next() % 5000 + 1;
        lines.push(format!(
            "GEOSEARCH big FROMLONLAT {blon} {blat} BYRADIUS {br} km{opts}"
        ));
        lines.push(format!(
            "GEOSEARCH big FROMLONLAT {blon} {blat} BYBOX {} {} km{opts}",
            br * 2,
            br
        ));
        lines.push(format!(
            "GEOSEARCHSTORE dst big FROMMEMBER b{} BYRADIUS {br} km{}",
            i * 9,
            if i % 2 == 0 { " STOREDIST" } else { "" }
        ));
        lines.push("ZRANGE dst 0 -1 WITHSCORES".into());
        lines.push("OBJECT ENCODING dst".into());
    }
    // Huge areas (few steps, wrapping neighbours) and the poles.
    lines.push("GEOSEARCH big FROMLONLAT 0 0 BYRADIUS 20000 km COUNT 20".into());
    lines.push("GEOSEARCH big FROMLONLAT 179 84 BYRADIUS 3000 km ASC WITHDIST".into());
    lines.push("GEOSEARCH big FROMLONLAT -179 -84 BYBOX 9000 3000 km DESC WITHDIST".into());
    lines.push("GEORADIUS big 0 0 0 m WITHDIST".into());
    lines.push("GEOSEARCH big FROMMEMBER origin BYRADIUS 100 km WITHCOORD".into());
    let mut diffs = Vec::new();
    let mut found_something = 0;
    for line in &lines {
        let args: Vec<&str> = line.split_whitespace().collect();
        let (m, r) = (moon.cmd(&args), redis.cmd(&args));
        assert!(!matches!(r, Reply::Error(_)), "{line}: {r:?}");
        if !matches!(&r, Reply::Array(v) if v.is_empty()) && r != Reply::Int(0) {
            found_something += 1;
        }
        if m != r {
            diffs.push(format!("{line}\n  redis: {r:?}\n  moon:  {m:?}"));
        }
    }
    // The comparison is only meaningful if most commands found something.
    assert!(
        found_something * 4 > lines.len() * 3,
        "{found_something} of {}",
        lines.len()
    );
    assert!(
        diffs.is_empty(),
        "{} of {} commands differ:\n{}",
        diffs.len(),
        lines.len(),
        diffs.join("\n")
    );
}
