//! Tests of the geohash port against values redis-server 7 prints (scores, GEOPOS and GEOHASH
//! texts, distances), of the neighbour arithmetic against hand-computed cells, a proptest of
//! encode→decode within a cell's precision, and engine-level tests of the geo ops.

use bytes::Bytes;
use proptest::prelude::*;

use super::geohash::{self, HashBits};
use crate::cmd::testutil::{T, b, bulk};
use crate::ir::ops::GeoOp;
use crate::ir::ops::geo::{GeoArea, GeoCenter, GeoPoint, GeoSearch, GeoSearchKind, GeoSort};
use crate::ir::{Op, OpError, Reply};

const PALERMO: (f64, f64) = (13.361389, 38.115556);
const CATANIA: (f64, f64) = (15.087269, 37.502669);

#[test]
fn scores_match_redis() {
    assert_eq!(geohash::score_of(PALERMO.0, PALERMO.1), 3479099956230698.0);
    assert_eq!(geohash::score_of(CATANIA.0, CATANIA.1), 3479447370796909.0);
    assert_eq!(geohash::score_of(0.0, 0.0), 3377699720527872.0);
    assert_eq!(geohash::score_of(0.001, 0.0), 3377699720563336.0);
    assert_eq!(geohash::score_of(-0.001, 0.001), 1876499844784230.0);
    assert_eq!(geohash::score_of(179.9999, 85.0), 4503599353408946.0);
    // The corners of the index: longitude 180 overflows into bit 53, as in Redis.
    assert_eq!(geohash::score_of(-180.0, -85.05112878), 0.0);
    assert_eq!(geohash::score_of(180.0, 85.05112878), 13510798882111488.0);
}

#[test]
fn decoded_coordinates_print_as_redis() {
    let (lon, lat) = geohash::decode_score(3479099956230698.0);
    assert_eq!(geohash::format_human(lon), "13.36138933897018433");
    assert_eq!(geohash::format_human(lat), "38.11555639549629859");
    let (lon, lat) = geohash::decode_score(3479447370796909.0);
    assert_eq!(geohash::format_human(lon), "15.08726745843887329");
    assert_eq!(geohash::format_human(lat), "37.50266842333162032");
    let (lon, lat) = geohash::decode_score(0.0);
    assert_eq!(geohash::format_human(lon), "-179.99999731779098511");
    assert_eq!(geohash::format_human(lat), "-85.05112751263942528");
    let (lon, lat) = geohash::decode_score(3377699720527872.0);
    assert_eq!(geohash::format_human(lon), "0.00000268220901489");
    assert_eq!(geohash::format_human(lat), "0.00000126736058093");
    // Decoding clamps to the index's range.
    let (lon, lat) = geohash::decode_score(13510798882111488.0);
    assert_eq!(geohash::format_human(lon), "180");
    assert_eq!(geohash::format_human(lat), "85.0511287799999991");
    assert_eq!(geohash::format_human(-0.0), "0");
    assert_eq!(geohash::format_human(2.5), "2.5");
}

#[test]
fn non_geo_scores_decode_like_the_c_cast() {
    // redis-server 7 GEOPOS of members ZADDed with these scores.
    let show = |s: f64| {
        let (lon, lat) = geohash::decode_score(s);
        (geohash::format_human(lon), geohash::format_human(lat))
    };
    let top = ("180".to_string(), "85.0511287799999991".to_string());
    let zero = (
        "-179.99999731779098511".to_string(),
        "-85.05112751263942528".to_string(),
    );
    let low_right = ("180".to_string(), "-85.05112751263942528".to_string());
    assert_eq!(show(-1.0), top);
    assert_eq!(show(1e300), zero);
    assert_eq!(show(f64::INFINITY), zero);
    assert_eq!(show(f64::NEG_INFINITY), low_right);
    assert_eq!(show(-1e30), low_right);
    assert_eq!(show(1e19), top);
    assert_eq!(
        show(2.5),
        (
            "-179.99999195337295532".to_string(),
            "-85.05112751263942528".to_string()
        )
    );
}

#[test]
fn geohash_strings_match_redis() {
    let text = |s: f64| String::from_utf8_lossy(&geohash::standard_geohash(s)).into_owned();
    assert_eq!(text(3479099956230698.0), "sqc8b49rny0");
    assert_eq!(text(3479447370796909.0), "sqdtr74hyu0");
    assert_eq!(text(13510798882111488.0), "bp05b5048p0");
    assert_eq!(text(0.0), "00bh0hbj200");
    assert_eq!(text(3377699720527872.0), "s0000000000");
    assert_eq!(text(4503599353408946.0), "zzpgxczbvs0");
    assert_eq!(text(f64::NEG_INFINITY), "00bh0hbj200");
}

#[test]
fn distances_match_redis() {
    let p = geohash::decode_score(3479099956230698.0);
    let c = geohash::decode_score(3479447370796909.0);
    let d = geohash::distance(p.0, p.1, c.0, c.1);
    assert_eq!(geohash::format_distance(d), "166274.1516");
    assert_eq!(geohash::format_distance(d / 1000.0), "166.2742");
    assert_eq!(geohash::format_distance(d / 1609.34), "103.3182");
    assert_eq!(geohash::format_distance(d / 0.3048), "545518.8700");
    // Same longitude takes the meridian shortcut.
    assert_eq!(
        geohash::distance(10.0, 1.0, 10.0, 2.0),
        geohash::lat_distance(1.0, 2.0)
    );
    assert_eq!(geohash::distance(1.0, 2.0, 1.0, 2.0), 0.0);
}

#[test]
fn interleave_roundtrips() {
    for (x, y) in [
        (0u32, 0u32),
        (1, 0),
        (0, 1),
        (u32::MAX, 0),
        (0x1234_5678, 0x9abc_def0),
    ] {
        let i = geohash::interleave64(x, y);
        let d = geohash::deinterleave64(i);
        assert_eq!((d as u32, (d >> 32) as u32), (x, y));
    }
    // Latitude on the even bits, longitude on the odd bits.
    assert_eq!(geohash::interleave64(1, 0), 1);
    assert_eq!(geohash::interleave64(0, 1), 2);
    assert_eq!(geohash::interleave64(3, 0), 0b101);
}

#[test]
fn neighbors_of_a_small_cell() {
    // Step 2: two latitude bits (even) and two longitude bits (odd). Cell (lat 0, lon 0).
    let h = HashBits { bits: 0, step: 2 };
    let n = geohash::neighbors(h);
    assert_eq!(n.east.bits, 0b0010);
    assert_eq!(n.north.bits, 0b0001);
    // Moving west or south wraps around to the last row/column.
    assert_eq!(n.west.bits, 0b1010);
    assert_eq!(n.south.bits, 0b0101);
    assert_eq!(n.north_east.bits, 0b0011);
    assert_eq!(n.south_west.bits, 0b1111);
    assert_eq!(n.north_west.bits, 0b1011);
    assert_eq!(n.south_east.bits, 0b0111);
    // East then west is the identity, at full precision too.
    let p = geohash::encode_wgs84(PALERMO.0, PALERMO.1, 26).expect("in range");
    let e = geohash::neighbors(p).east;
    assert_eq!(geohash::neighbors(e).west, p);
    let s = geohash::neighbors(p).south;
    assert_eq!(geohash::neighbors(s).north, p);
}

#[test]
fn search_areas() {
    assert_eq!(geohash::estimate_steps_by_radius(0.0, 0.0), 26);
    assert_eq!(geohash::estimate_steps_by_radius(200.0, 0.0), 16);
    assert_eq!(geohash::estimate_steps_by_radius(200.0, 70.0), 15);
    assert_eq!(geohash::estimate_steps_by_radius(200.0, -85.0), 14);
    assert_eq!(geohash::estimate_steps_by_radius(1e9, 0.0), 1);
    // The cell interval of the centre covers the centre's own score.
    let shape = geohash::GeoShape {
        lon: PALERMO.0,
        lat: PALERMO.1,
        conversion: 1000.0,
        shape: geohash::Shape::Circle { radius: 100.0 },
    };
    let r = geohash::areas_by_shape(&shape);
    let (min, max) = geohash::scores_of_box(r.hash);
    let score = geohash::score_of(PALERMO.0, PALERMO.1) as u64;
    assert!(min <= score && score < max);
    assert!(r.area.longitude.min <= PALERMO.0 && PALERMO.0 <= r.area.longitude.max);
}

proptest! {
    #[test]
    fn encode_decode_roundtrip(lon in -180.0f64..=180.0, lat in geohash::LAT_MIN..=geohash::LAT_MAX) {
        let score = geohash::score_of(lon, lat);
        let (dlon, dlat) = geohash::decode_score(score);
        // A 26-step cell is 360/2^26 degrees wide and 170.1/2^26 high; the centre is within
        // half of that (longitude 180 itself lands one cell past the edge and is clamped).
        prop_assert!((dlon - lon).abs() <= 360.0 / f64::from(1u32 << 26));
        prop_assert!((dlat - lat).abs() <= 171.0 / f64::from(1u32 << 26));
        // Re-adding the decoded position gives the same score, as in Redis.
        prop_assert_eq!(geohash::score_of(dlon, dlat), score);
    }

    #[test]
    fn decode_never_panics(score in any::<f64>()) {
        let (lon, lat) = geohash::decode_score(score);
        prop_assert!((-180.0..=180.0).contains(&lon));
        prop_assert!((geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat));
        let _ = geohash::standard_geohash(score);
    }

    #[test]
    fn search_finds_what_brute_force_finds(
        pts in proptest::collection::vec((-20.0f64..20.0, -20.0f64..20.0), 1..60),
        radius_km in 1.0f64..3000.0,
    ) {
        let mut t = T::new();
        let points = pts
            .iter()
            .enumerate()
            .map(|(i, (lon, lat))| GeoPoint { lon: *lon, lat: *lat, member: b(&format!("m{i}")) })
            .collect::<Vec<_>>();
        t.run(Op::Geo(GeoOp::Add { key: b("g"), nx: false, xx: false, ch: false, points }));
        let got = t.run(search_op(GeoCenter::LonLat(0.0, 0.0), GeoArea::Radius(radius_km), 1000.0));
        let Reply::Array(got) = got else { panic!("not an array") };
        let mut got: Vec<Reply> = got;
        got.sort_by_key(|r| format!("{r:?}"));
        let mut want: Vec<Reply> = pts
            .iter()
            .enumerate()
            .filter(|(_, (lon, lat))| {
                let (dlon, dlat) = geohash::decode_score(geohash::score_of(*lon, *lat));
                geohash::distance(0.0, 0.0, dlon, dlat) <= radius_km * 1000.0
            })
            .map(|(i, _)| bulk(&format!("m{i}")))
            .collect();
        want.sort_by_key(|r| format!("{r:?}"));
        prop_assert_eq!(got, want);
    }
}

fn search_op(center: GeoCenter, area: GeoArea, conversion: f64) -> Op {
    Op::Geo(GeoOp::Search(Box::new(GeoSearch {
        kind: GeoSearchKind::Search,
        key: b("g"),
        store: None,
        store_dist: false,
        center: Some(center),
        area,
        conversion,
        sort: GeoSort::None,
        count: 0,
        any: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        shape_err: None,
        deferred: None,
    })))
}

fn sicily(t: &mut T) {
    let points = vec![
        GeoPoint {
            lon: PALERMO.0,
            lat: PALERMO.1,
            member: b("Palermo"),
        },
        GeoPoint {
            lon: CATANIA.0,
            lat: CATANIA.1,
            member: b("Catania"),
        },
    ];
    let r = t.run(Op::Geo(GeoOp::Add {
        key: b("g"),
        nx: false,
        xx: false,
        ch: false,
        points,
    }));
    assert_eq!(r, Reply::Int(2));
}

#[test]
fn pos_hash_dist() {
    let mut t = T::new();
    sicily(&mut t);
    let pos = t.run(Op::Geo(GeoOp::Pos {
        key: b("g"),
        members: vec![b("Palermo"), b("nope")],
    }));
    assert_eq!(
        pos,
        Reply::Array(vec![
            Reply::Array(vec![
                Reply::DoubleText(b("13.36138933897018433")),
                Reply::DoubleText(b("38.11555639549629859"))
            ]),
            Reply::NilArray
        ])
    );
    let hash = t.run(Op::Geo(GeoOp::Hash {
        key: b("g"),
        members: vec![b("Catania"), b("nope")],
    }));
    assert_eq!(hash, Reply::Array(vec![bulk("sqdtr74hyu0"), Reply::Nil]));
    let dist = |t: &mut T, a: &str, bb: &str| {
        t.run(Op::Geo(GeoOp::Dist {
            key: b("g"),
            a: b(a),
            b: b(bb),
            conversion: 1000.0,
        }))
    };
    assert_eq!(dist(&mut t, "Palermo", "Catania"), bulk("166.2742"));
    assert_eq!(dist(&mut t, "Palermo", "nope"), Reply::Nil);
    t.set("s", "x");
    let wrong = t.run(Op::Geo(GeoOp::Pos {
        key: b("s"),
        members: vec![b("a")],
    }));
    assert_eq!(wrong, Reply::Err(OpError::WrongType));
}

#[test]
fn search_sorts_and_stores() {
    let mut t = T::new();
    sicily(&mut t);
    let mut op = search_op(
        GeoCenter::LonLat(15.0, 37.0),
        GeoArea::Radius(200.0),
        1000.0,
    );
    if let Op::Geo(GeoOp::Search(s)) = &mut op {
        s.sort = GeoSort::Desc;
        s.with_dist = true;
    }
    assert_eq!(
        t.run(op.clone()),
        Reply::Array(vec![
            Reply::Array(vec![bulk("Palermo"), bulk("190.4424")]),
            Reply::Array(vec![bulk("Catania"), bulk("56.4413")]),
        ])
    );
    if let Op::Geo(GeoOp::Search(s)) = &mut op {
        s.with_dist = false;
        s.store = Some(b("dst"));
        s.store_dist = true;
        s.count = 1;
        s.sort = GeoSort::None;
    }
    assert_eq!(t.run(op.clone()), Reply::Int(1));
    let score = t.run(Op::ZSets(crate::ir::ops::ZSetOp::Score {
        key: b("dst"),
        member: b("Catania"),
    }));
    let Reply::Double(d) = score else {
        panic!("{score:?}")
    };
    assert_eq!(geohash::format_distance(d), "56.4413");
    // Nothing found: the destination is deleted.
    if let Op::Geo(GeoOp::Search(s)) = &mut op {
        s.area = GeoArea::Radius(1.0);
    }
    assert_eq!(t.run(op), Reply::Int(0));
    assert_eq!(
        t.run(Op::Exists {
            keys: vec![Bytes::from_static(b"dst")]
        }),
        Reply::Int(0)
    );
}

#[test]
fn search_error_order() {
    let mut t = T::new();
    sicily(&mut t);
    let mut op = search_op(
        GeoCenter::Members(vec![b("nope")]),
        GeoArea::Radius(1.0),
        1.0,
    );
    if let Op::Geo(GeoOp::Search(s)) = &mut op {
        s.deferred = Some(OpError::Syntax);
    }
    // The member lookup comes before the later argument error ...
    assert_eq!(
        t.run(op.clone()),
        Reply::Err(OpError::Other(
            "ERR could not decode requested zset member".into()
        ))
    );
    // ... and a missing key skips the lookup but not the argument error.
    if let Op::Geo(GeoOp::Search(s)) = &mut op {
        s.key = b("missing");
    }
    assert_eq!(t.run(op.clone()), Reply::Err(OpError::Syntax));
    if let Op::Geo(GeoOp::Search(s)) = &mut op {
        s.deferred = None;
        s.shape_err = Some(OpError::NotFloat);
    }
    // GEORADIUSBYMEMBER's radius error only counts when the key exists.
    assert_eq!(t.run(op.clone()), Reply::Array(vec![]));
    if let Op::Geo(GeoOp::Search(s)) = &mut op {
        s.key = b("g");
        s.center = Some(GeoCenter::Members(vec![b("Palermo")]));
    }
    assert_eq!(t.run(op), Reply::Err(OpError::NotFloat));
}
