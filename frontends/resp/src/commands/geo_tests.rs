//! Unit tests of `geo.rs`: lowering to the expected ops, redis-server 7's exact error texts
//! (immediate ones, and the ones a search defers to the engine), and never panicking.
use super::*;
use crate::commands::tests::{err_text, p};
use proptest::prelude::*;

fn gop(parts: &[&str]) -> GeoOp {
    match p(parts) {
        Ok(Command::Op(Op::Geo(g))) => g,
        other => panic!("{other:?}"),
    }
}

fn search_of(parts: &[&str]) -> GeoSearch {
    match gop(parts) {
        GeoOp::Search(s) => *s,
        other => panic!("{other:?}"),
    }
}

/// The error a search defers to the engine, as text.
fn deferred(parts: &[&str]) -> String {
    match search_of(parts).deferred {
        Some(OpError::Other(s)) => s,
        Some(OpError::Syntax) => "ERR syntax error".into(),
        Some(OpError::NotInteger) => "ERR value is not an integer or out of range".into(),
        Some(OpError::NotFloat) => "ERR value is not a valid float".into(),
        other => panic!("expected a deferred error, got {other:?}"),
    }
}

#[test]
fn geoadd_options_and_errors() {
    match gop(&[
        "GEOADD",
        "k",
        "ch",
        "XX",
        "13.361389",
        "38.115556",
        "Palermo",
    ]) {
        GeoOp::Add {
            key,
            nx,
            xx,
            ch,
            points,
        } => {
            assert_eq!(&key[..], b"k");
            assert!(!nx && xx && ch);
            assert_eq!(points.len(), 1);
            assert_eq!(points[0].lon, 13.361389);
            assert_eq!(points[0].lat, 38.115556);
            assert_eq!(&points[0].member[..], b"Palermo");
        }
        other => panic!("{other:?}"),
    }
    for bad in [
        &["geoadd", "x", "nx", "xx", "1", "2", "a"][..],
        &["geoadd", "x", "ch", "ch", "ch"],
        &["geoadd", "x", "gt", "1", "2", "a"],
        &["geoadd", "x", "1", "2", "a", "3"],
    ] {
        assert_eq!(err_text(bad), "ERR syntax error", "{bad:?}");
    }
    assert_eq!(
        err_text(&["geoadd", "x", "1", "2"]),
        "ERR wrong number of arguments for 'geoadd' command"
    );
    for bad in ["abc", "nan", " 1", "", "1e400"] {
        assert_eq!(
            err_text(&["geoadd", "x", bad, "1", "a"]),
            "ERR value is not a valid float",
            "{bad:?}"
        );
    }
    assert_eq!(
        err_text(&[
            "geoadd", "x", "1", "2", "a", "300", "2", "b", "abc", "1", "c"
        ]),
        "ERR invalid longitude,latitude pair 300.000000,2.000000"
    );
    assert_eq!(
        err_text(&["geoadd", "x", "200", "100", "a"]),
        "ERR invalid longitude,latitude pair 200.000000,100.000000"
    );
    assert_eq!(
        err_text(&["geoadd", "x", "inf", "1", "a"]),
        "ERR invalid longitude,latitude pair inf,1.000000"
    );
    assert_eq!(
        err_text(&["geoadd", "x", "0", "-85.06", "a"]),
        "ERR invalid longitude,latitude pair 0.000000,-85.060000"
    );
    // The exact bounds are accepted.
    assert!(matches!(
        gop(&["geoadd", "x", "-180", "85.05112878", "a"]),
        GeoOp::Add { .. }
    ));
}

#[test]
fn geodist_units() {
    for (u, conv) in [("m", 1.0), ("KM", 1000.0), ("ft", 0.3048), ("Mi", 1609.34)] {
        match gop(&["geodist", "k", "a", "b", u]) {
            GeoOp::Dist { conversion, .. } => assert_eq!(conversion, conv),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        gop(&["geodist", "k", "a", "b"]),
        GeoOp::Dist { conversion, .. } if conversion == 1.0
    ));
    assert_eq!(
        err_text(&["geodist", "k", "a", "b", "parsec"]),
        "ERR unsupported unit provided. please use M, KM, FT, MI"
    );
    assert_eq!(
        err_text(&["geodist", "k", "a", "b", "km", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["geodist", "k", "a"]),
        "ERR wrong number of arguments for 'geodist' command"
    );
}

#[test]
fn geohash_geopos() {
    assert!(matches!(gop(&["geohash", "k"]), GeoOp::Hash { members, .. } if members.is_empty()));
    assert!(
        matches!(gop(&["geopos", "k", "a", "b"]), GeoOp::Pos { members, .. } if members.len() == 2)
    );
    assert_eq!(
        err_text(&["geopos"]),
        "ERR wrong number of arguments for 'geopos' command"
    );
}

#[test]
fn georadius_forms() {
    let s = search_of(&[
        "georadius",
        "k",
        "15",
        "37",
        "200",
        "km",
        "WITHDIST",
        "withcoord",
        "withhash",
        "count",
        "3",
        "DESC",
    ]);
    assert_eq!(s.deferred, None);
    assert_eq!(s.kind, GeoSearchKind::Radius);
    assert_eq!(s.center, Some(GeoCenter::LonLat(15.0, 37.0)));
    assert_eq!(s.area, GeoArea::Radius(200.0));
    assert_eq!(s.conversion, 1000.0);
    assert!(s.with_dist && s.with_coord && s.with_hash && !s.any);
    assert_eq!((s.count, s.sort), (3, GeoSort::Desc));
    assert_eq!(s.store, None);

    let s = search_of(&[
        "georadius",
        "k",
        "15",
        "37",
        "2",
        "mi",
        "store",
        "a",
        "storedist",
        "b",
    ]);
    assert_eq!(s.store.as_deref(), Some(&b"b"[..]));
    assert!(s.store_dist);
    let op = Op::Geo(GeoOp::Search(Box::new(s)));
    assert_eq!(op.keys().len(), 2);

    let s = search_of(&[
        "georadiusbymember",
        "k",
        "m",
        "-1",
        "km",
        "count",
        "1",
        "any",
    ]);
    assert_eq!(
        s.center,
        Some(GeoCenter::Members(vec![Bytes::from_static(b"m")]))
    );
    assert_eq!(
        s.shape_err,
        Some(OpError::Other("ERR radius cannot be negative".into()))
    );
    assert_eq!(s.deferred, None);
    assert!(s.any);
    // The options are still checked when the radius is bad (Redis parses them when the key is
    // missing).
    let s = search_of(&["georadiusbymember", "k", "m", "x", "km", "garbage"]);
    assert_eq!(
        s.shape_err,
        Some(OpError::Other("ERR need numeric radius".into()))
    );
    assert_eq!(s.deferred, Some(OpError::Syntax));
}

#[test]
fn georadius_errors() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["georadius", "k", "200", "2", "3", "km"],
            "ERR invalid longitude,latitude pair 200.000000,2.000000",
        ),
        (
            &["georadius", "k", "1", "2", "-3", "km"],
            "ERR radius cannot be negative",
        ),
        (
            &["georadius", "k", "1", "2", "x", "km"],
            "ERR need numeric radius",
        ),
        (
            &["georadius", "k", "1", "2", "3", "parsec"],
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ),
        (
            &["georadius", "k", "1", "2", "3", "km", "count", "0"],
            "ERR COUNT must be > 0",
        ),
        (
            &["georadius", "k", "1", "2", "3", "km", "count", "x"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["georadius", "k", "1", "2", "3", "km", "count"],
            "ERR syntax error",
        ),
        (
            &["georadius", "k", "1", "2", "3", "km", "garbage"],
            "ERR syntax error",
        ),
        (
            &["georadius", "k", "1", "2", "3", "km", "any"],
            "ERR the ANY argument requires COUNT argument",
        ),
        (
            &[
                "georadius",
                "k",
                "1",
                "2",
                "3",
                "km",
                "store",
                "d",
                "withdist",
            ],
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            &["georadius_ro", "k", "1", "2", "3", "km", "store", "d"],
            "ERR syntax error",
        ),
        (
            &[
                "georadiusbymember_ro",
                "k",
                "m",
                "3",
                "km",
                "storedist",
                "d",
            ],
            "ERR syntax error",
        ),
        (
            &["georadius", "k", "1", "2", "3", "km", "frommember", "m"],
            "ERR syntax error",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(deferred(args), *want, "{args:?}");
    }
}

#[test]
fn geosearch_forms() {
    let s = search_of(&[
        "geosearch",
        "k",
        "frommember",
        "a",
        "frommember",
        "b",
        "bybox",
        "2",
        "4",
        "ft",
        "asc",
    ]);
    assert_eq!(s.deferred, None);
    assert_eq!(
        s.center,
        Some(GeoCenter::Members(vec![
            Bytes::from_static(b"a"),
            Bytes::from_static(b"b")
        ]))
    );
    assert_eq!(
        s.area,
        GeoArea::Box {
            width: 2.0,
            height: 4.0
        }
    );
    assert_eq!(s.conversion, 0.3048);
    assert_eq!(s.sort, GeoSort::Asc);

    let s = search_of(&[
        "geosearchstore",
        "dst",
        "src",
        "fromlonlat",
        "1",
        "2",
        "byradius",
        "5",
        "m",
        "storedist",
    ]);
    assert_eq!(s.deferred, None);
    assert_eq!(&s.key[..], b"src");
    assert_eq!(s.store.as_deref(), Some(&b"dst"[..]));
    assert!(s.store_dist);
    let op = Op::Geo(GeoOp::Search(Box::new(s)));
    assert_eq!(
        op.keys(),
        vec![&Bytes::from_static(b"dst"), &Bytes::from_static(b"src")]
    );
    assert!(op.is_write());
}

#[test]
fn geosearch_errors() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "geosearch",
                "k",
                "frommember",
                "a",
                "fromlonlat",
                "1",
                "2",
                "byradius",
                "1",
                "km",
            ],
            "ERR syntax error",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "frommember",
                "a",
                "byradius",
                "1",
                "km",
            ],
            "ERR syntax error",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "byradius",
                "1",
                "km",
                "bybox",
                "1",
                "1",
                "km",
            ],
            "ERR syntax error",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "byradius",
                "1",
                "km",
                "store",
                "x",
            ],
            "ERR syntax error",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "byradius",
                "1",
                "km",
                "storedist",
            ],
            "ERR syntax error",
        ),
        (
            &[
                "geosearchstore",
                "d",
                "k",
                "fromlonlat",
                "1",
                "2",
                "byradius",
                "1",
                "km",
                "withdist",
            ],
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "bybox",
                "-1",
                "1",
                "km",
            ],
            "ERR height or width cannot be negative",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "bybox",
                "x",
                "1",
                "km",
            ],
            "ERR need numeric width",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "bybox",
                "1",
                "x",
                "km",
            ],
            "ERR need numeric height",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "bybox",
                "1",
                "1",
                "kmm",
            ],
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ),
        (
            &["GeoSearch", "k", "byradius", "1", "km", "asc", "desc"],
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch",
        ),
        (
            &["geosearch", "k", "fromlonlat", "1", "2", "asc", "withdist"],
            "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch",
        ),
        (
            &[
                "geosearch",
                "k",
                "fromlonlat",
                "1",
                "2",
                "byradius",
                "1",
                "km",
                "any",
            ],
            "ERR the ANY argument requires COUNT argument",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(deferred(args), *want, "{args:?}");
    }
    // FROMMEMBER before the error is kept, so the engine looks it up first.
    let s = search_of(&[
        "geosearch",
        "k",
        "frommember",
        "nope",
        "byradius",
        "-1",
        "km",
    ]);
    assert_eq!(
        s.center,
        Some(GeoCenter::Members(vec![Bytes::from_static(b"nope")]))
    );
    assert!(s.deferred.is_some());
    let s = search_of(&[
        "geosearch",
        "k",
        "byradius",
        "-1",
        "km",
        "frommember",
        "nope",
    ]);
    assert_eq!(s.center, None);
    assert_eq!(
        s.deferred,
        Some(OpError::Other("ERR radius cannot be negative".into()))
    );
    assert_eq!(
        err_text(&["geosearch", "k", "fromlonlat", "1", "2"]),
        "ERR wrong number of arguments for 'geosearch' command"
    );
}

#[test]
fn table_entries() {
    use super::super::table::lookup;
    let range = |n: &str| lookup(n.as_bytes()).map(CommandSpec::key_range);
    assert_eq!(range("geosearchstore"), Some((1, 2, 1)));
    assert_eq!(range("georadius"), Some((1, 1, 1)));
    assert_eq!(range("georadiusbymember"), Some((1, 1, 1)));
    let movable = |n: &str| {
        lookup(n.as_bytes()).map(|s| s.info_flags() & super::super::table::MOVABLE_KEYS != 0)
    };
    assert_eq!(movable("georadius"), Some(true));
    assert_eq!(movable("georadius_ro"), Some(false));
    assert_eq!(movable("geosearchstore"), Some(false));
    assert_eq!(range("geoadd"), Some((1, 1, 1)));
    assert!(lookup(b"GEORADIUSBYMEMBER_RO").is_some());
}

proptest! {
    #[test]
    fn never_panics(
        name in proptest::sample::select(vec![
            "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
            "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore",
        ]),
        args in proptest::collection::vec(
            proptest::sample::select(vec![
                "k", "1", "-1", "0", "200", "x", "km", "m", "count", "any", "store", "storedist",
                "frommember", "fromlonlat", "byradius", "bybox", "withdist", "withhash",
                "withcoord", "asc", "desc", "nx", "xx", "ch", "", "\0",
            ]),
            0..14,
        ),
    ) {
        let mut parts = vec![name];
        parts.extend(args);
        let _ = p(&parts);
    }
}
