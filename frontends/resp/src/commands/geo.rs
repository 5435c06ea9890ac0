//! Table entries and parsers of the geo commands (GEOADD ... GEOSEARCHSTORE), with geo.c's
//! argument rules and error texts: `extractLongLatOrReply`, `extractDistanceOrReply`,
//! `extractBoxOrReply`, `extractUnitOrReply` and `georadiusGeneric`'s option loop and checks.
//!
//! Invariants: parsers never panic on any input (they index only within the arity the table
//! guarantees, `get` elsewhere); coordinates handed to the engine are inside Redis's range and
//! never NaN. Redis checks the source key's type, and looks centre members up, *before* it
//! reports most argument errors, so a search's first argument error is not returned here but
//! travels in the op (`deferred`, and `shape_err` for GEORADIUSBYMEMBER's radius) for the engine
//! to raise in Redis's order. GEORADIUS and GEORADIUSBYMEMBER find their STORE/STOREDIST keys
//! with `keyword` key specs, as in Redis (hence `movablekeys` and the legacy range `1 1 1`).

use bytes::Bytes;
use moon_engine::ir::ops::GeoOp;
use moon_engine::ir::ops::geo::{GeoArea, GeoCenter, GeoPoint, GeoSearch, GeoSearchKind, GeoSort};
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::args::{c_str, err, int, is, show};
use super::table::{
    CommandSpec, DENYOOM, FindKeys, GEO, K_ACCESS, K_OW, K_RO, K_RW, K_UPDATE, KeySpec, READONLY,
    WRITE, doc,
};
use super::zset::parse_score;

const G: &str = "geo";
const SEARCH_CX: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
const RADIUS_CX: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";

const RO: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const ONE_KEY: FindKeys = FindKeys::Range {
    lastkey: 0,
    keystep: 1,
    limit: 0,
};
/// GEORADIUS: the source, then the key after STORE / STOREDIST (searched from argument 6).
const RADIUS_KEYS: &[KeySpec] = &[
    KeySpec::one(K_RO | K_ACCESS, 1),
    KeySpec::keyword(K_OW | K_UPDATE, "STORE", 6, ONE_KEY),
    KeySpec::keyword(K_OW | K_UPDATE, "STOREDIST", 6, ONE_KEY),
];
/// GEORADIUSBYMEMBER: as GEORADIUS, searching from argument 5.
const BYMEMBER_KEYS: &[KeySpec] = &[
    KeySpec::one(K_RO | K_ACCESS, 1),
    KeySpec::keyword(K_OW | K_UPDATE, "STORE", 5, ONE_KEY),
    KeySpec::keyword(K_OW | K_UPDATE, "STOREDIST", 5, ONE_KEY),
];

pub static GEOADD: CommandSpec = CommandSpec::new(
    "geoadd",
    -5,
    WRITE | DENYOOM,
    GEO,
    &[KeySpec::one(K_RW | K_UPDATE, 1)],
    doc(
        G,
        "3.2.0",
        "Adds one or more members to a geospatial index. The key is created if it doesn't exist.",
        "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    ),
    geoadd,
);

pub static GEODIST: CommandSpec = CommandSpec::new(
    "geodist",
    -4,
    READONLY,
    GEO,
    RO,
    doc(
        G,
        "3.2.0",
        "Returns the distance between two members of a geospatial index.",
        "O(log(N))",
    ),
    geodist,
);

pub static GEOHASH: CommandSpec = CommandSpec::new(
    "geohash",
    -2,
    READONLY,
    GEO,
    RO,
    doc(
        G,
        "3.2.0",
        "Returns members from a geospatial index as geohash strings.",
        "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
    ),
    geohash,
);

pub static GEOPOS: CommandSpec = CommandSpec::new(
    "geopos",
    -2,
    READONLY,
    GEO,
    RO,
    doc(
        G,
        "3.2.0",
        "Returns the longitude and latitude of members from a geospatial index.",
        "O(N) where N is the number of members requested.",
    ),
    geopos,
);

pub static GEORADIUS: CommandSpec = CommandSpec::new(
    "georadius",
    -6,
    WRITE | DENYOOM,
    GEO,
    RADIUS_KEYS,
    doc(
        G,
        "3.2.0",
        "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.",
        RADIUS_CX,
    )
    .deprecated(
        "6.2.0",
        "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
    ),
    georadius,
);

pub static GEORADIUS_RO: CommandSpec = CommandSpec::new(
    "georadius_ro",
    -6,
    READONLY,
    GEO,
    RO,
    doc(
        G,
        "3.2.10",
        "Returns members from a geospatial index that are within a distance from a coordinate.",
        RADIUS_CX,
    )
    .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"),
    georadius_ro,
);

pub static GEORADIUSBYMEMBER: CommandSpec = CommandSpec::new(
    "georadiusbymember",
    -5,
    WRITE | DENYOOM,
    GEO,
    BYMEMBER_KEYS,
    doc(
        G,
        "3.2.0",
        "Queries a geospatial index for members within a distance from a member, optionally stores the result.",
        RADIUS_CX,
    )
    .deprecated(
        "6.2.0",
        "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
    ),
    georadiusbymember,
);

pub static GEORADIUSBYMEMBER_RO: CommandSpec = CommandSpec::new(
    "georadiusbymember_ro",
    -5,
    READONLY,
    GEO,
    RO,
    doc(
        G,
        "3.2.10",
        "Returns members from a geospatial index that are within a distance from a member.",
        RADIUS_CX,
    )
    .deprecated(
        "6.2.0",
        "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
    ),
    georadiusbymember_ro,
);

pub static GEOSEARCH: CommandSpec = CommandSpec::new(
    "geosearch",
    -7,
    READONLY,
    GEO,
    RO,
    doc(
        G,
        "6.2.0",
        "Queries a geospatial index for members inside an area of a box or a circle.",
        SEARCH_CX,
    ),
    geosearch,
);

pub static GEOSEARCHSTORE: CommandSpec = CommandSpec::new(
    "geosearchstore",
    -8,
    WRITE | DENYOOM,
    GEO,
    &[
        KeySpec::one(K_OW | K_UPDATE, 1),
        KeySpec::one(K_RO | K_ACCESS, 2),
    ],
    doc(
        G,
        "6.2.0",
        "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.",
        SEARCH_CX,
    ),
    geosearchstore,
);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &GEOADD,
    &GEODIST,
    &GEOHASH,
    &GEOPOS,
    &GEORADIUS,
    &GEORADIUS_RO,
    &GEORADIUSBYMEMBER,
    &GEORADIUSBYMEMBER_RO,
    &GEOSEARCH,
    &GEOSEARCHSTORE,
];

fn op(g: GeoOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Geo(g)))
}

/// An option keyword as Redis's `strcasecmp` sees the argument (up to a NUL).
fn kw(arg: &[u8], keyword: &str) -> bool {
    is(c_str(arg), keyword)
}

// ---- argument helpers (geo.c) ----

/// `getDoubleFromObjectOrReply` with an optional replacement message.
fn double(arg: &[u8], msg: Option<&str>) -> Result<f64, OpError> {
    parse_score(arg).ok_or_else(|| msg.map_or(OpError::NotFloat, err))
}

/// `extractLongLatOrReply`: a longitude and a latitude inside the index's range.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), OpError> {
    let lon = double(lon, None)?;
    let lat = double(lat, None)?;
    if !(-180.0..=180.0).contains(&lon) || !(-85.05112878..=85.05112878).contains(&lat) {
        return Err(err(format!(
            "invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

/// `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, OpError> {
    let u = c_str(arg);
    if is(u, "m") {
        Ok(1.0)
    } else if is(u, "km") {
        Ok(1000.0)
    } else if is(u, "ft") {
        Ok(0.3048)
    } else if is(u, "mi") {
        Ok(1609.34)
    } else {
        Err(err("unsupported unit provided. please use M, KM, FT, MI"))
    }
}

/// `extractDistanceOrReply`: `(radius, meters per unit)`.
fn radius(value: &[u8], u: &[u8]) -> Result<(f64, f64), OpError> {
    let r = double(value, Some("need numeric radius"))?;
    if r < 0.0 {
        return Err(err("radius cannot be negative"));
    }
    Ok((r, unit(u)?))
}

/// `extractBoxOrReply`: `(width, height, meters per unit)`.
fn rect(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), OpError> {
    let w = double(w, Some("need numeric width"))?;
    let h = double(h, Some("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(err("height or width cannot be negative"));
    }
    Ok((w, h, unit(u)?))
}

// ---- parsers ----

fn geoadd(a: &[Bytes]) -> Result<Command, OpError> {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut first = 2;
    while let Some(arg) = a.get(first) {
        if kw(arg, "nx") {
            nx = true;
        } else if kw(arg, "xx") {
            xx = true;
        } else if kw(arg, "ch") {
            ch = true;
        } else {
            break;
        }
        first += 1;
    }
    let rest = a.get(first..).unwrap_or(&[]);
    // An empty element list reaches ZADD in Redis, which answers the same syntax error.
    if rest.is_empty() || rest.len() % 3 != 0 || (xx && nx) {
        return Err(OpError::Syntax);
    }
    let points = rest
        .chunks_exact(3)
        .map(|t| {
            let (lon, lat) = lon_lat(&t[0], &t[1])?;
            Ok(GeoPoint {
                lon,
                lat,
                member: t[2].clone(),
            })
        })
        .collect::<Result<Vec<_>, OpError>>()?;
    op(GeoOp::Add {
        key: a[1].clone(),
        nx,
        xx,
        ch,
        points,
    })
}

fn geodist(a: &[Bytes]) -> Result<Command, OpError> {
    let conversion = match a.get(4) {
        None => 1.0,
        Some(u) if a.len() == 5 => unit(u)?,
        Some(_) => return Err(OpError::Syntax),
    };
    op(GeoOp::Dist {
        key: a[1].clone(),
        a: a[2].clone(),
        b: a[3].clone(),
        conversion,
    })
}

fn geohash(a: &[Bytes]) -> Result<Command, OpError> {
    op(GeoOp::Hash {
        key: a[1].clone(),
        members: a[2..].to_vec(),
    })
}

fn geopos(a: &[Bytes]) -> Result<Command, OpError> {
    op(GeoOp::Pos {
        key: a[1].clone(),
        members: a[2..].to_vec(),
    })
}

/// The six search commands (geo.c's `georadiusGeneric` flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Radius { ro: bool },
    ByMember { ro: bool },
    Search,
    SearchStore,
}

fn georadius(a: &[Bytes]) -> Result<Command, OpError> {
    search(a, Form::Radius { ro: false })
}

fn georadius_ro(a: &[Bytes]) -> Result<Command, OpError> {
    search(a, Form::Radius { ro: true })
}

fn georadiusbymember(a: &[Bytes]) -> Result<Command, OpError> {
    search(a, Form::ByMember { ro: false })
}

fn georadiusbymember_ro(a: &[Bytes]) -> Result<Command, OpError> {
    search(a, Form::ByMember { ro: true })
}

fn geosearch(a: &[Bytes]) -> Result<Command, OpError> {
    search(a, Form::Search)
}

fn geosearchstore(a: &[Bytes]) -> Result<Command, OpError> {
    search(a, Form::SearchStore)
}

/// Builds the search op; its first argument error is deferred to the engine (see the module
/// doc), so parsing a search never fails here.
fn search(a: &[Bytes], form: Form) -> Result<Command, OpError> {
    let geosearch = matches!(form, Form::Search | Form::SearchStore);
    let (key, store) = match form {
        Form::SearchStore => (a[2].clone(), Some(a[1].clone())),
        _ => (a[1].clone(), None),
    };
    let mut s = GeoSearch {
        kind: if geosearch {
            GeoSearchKind::Search
        } else {
            GeoSearchKind::Radius
        },
        key,
        store,
        store_dist: false,
        center: None,
        area: GeoArea::Radius(0.0),
        conversion: 0.0,
        sort: GeoSort::None,
        count: 0,
        any: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        shape_err: None,
        deferred: None,
    };
    if let Err(e) = parse_search(a, form, &mut s) {
        s.deferred = Some(e);
    }
    op(GeoOp::Search(Box::new(s)))
}

/// `georadiusGeneric`'s argument parsing, in its order, filling `s`.
fn parse_search(a: &[Bytes], form: Form, s: &mut GeoSearch) -> Result<(), OpError> {
    let base = match form {
        Form::Radius { .. } => {
            let (lon, lat) = lon_lat(&a[2], &a[3])?;
            s.center = Some(GeoCenter::LonLat(lon, lat));
            let (r, conversion) = radius(&a[4], &a[5])?;
            s.area = GeoArea::Radius(r);
            s.conversion = conversion;
            6
        }
        Form::ByMember { .. } => {
            s.center = Some(GeoCenter::Members(vec![a[2].clone()]));
            match radius(&a[3], &a[4]) {
                Ok((r, conversion)) => {
                    s.area = GeoArea::Radius(r);
                    s.conversion = conversion;
                }
                Err(e) => s.shape_err = Some(e),
            }
            5
        }
        Form::Search => 2,
        Form::SearchStore => 3,
    };
    let geosearch = matches!(form, Form::Search | Form::SearchStore);
    let nostore = matches!(
        form,
        Form::Radius { ro: true } | Form::ByMember { ro: true }
    );
    let can_store = !nostore && !geosearch;
    let opts = a.get(base..).unwrap_or(&[]);
    let remaining = opts.len();
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut i = 0;
    while let Some(arg) = opts.get(i) {
        let next = |k: usize| opts.get(i + k).map_or(&b""[..], |b| &b[..]);
        if kw(arg, "withdist") {
            s.with_dist = true;
        } else if kw(arg, "withhash") {
            s.with_hash = true;
        } else if kw(arg, "withcoord") {
            s.with_coord = true;
        } else if kw(arg, "any") {
            s.any = true;
        } else if kw(arg, "asc") {
            s.sort = GeoSort::Asc;
        } else if kw(arg, "desc") {
            s.sort = GeoSort::Desc;
        } else if kw(arg, "count") && i + 1 < remaining {
            let n = int(next(1))?;
            if n <= 0 {
                return Err(err("COUNT must be > 0"));
            }
            s.count = n.unsigned_abs();
            i += 1;
        } else if kw(arg, "store") && i + 1 < remaining && can_store {
            s.store = opts.get(i + 1).cloned();
            s.store_dist = false;
            i += 1;
        } else if kw(arg, "storedist") && i + 1 < remaining && can_store {
            s.store = opts.get(i + 1).cloned();
            s.store_dist = true;
            i += 1;
        } else if kw(arg, "storedist") && form == Form::SearchStore {
            s.store_dist = true;
        } else if kw(arg, "frommember") && i + 1 < remaining && geosearch && !fromloc {
            let member = Bytes::copy_from_slice(next(1));
            match &mut s.center {
                Some(GeoCenter::Members(ms)) => ms.push(member),
                _ => s.center = Some(GeoCenter::Members(vec![member])),
            }
            frommember = true;
            i += 1;
        } else if kw(arg, "fromlonlat") && i + 2 < remaining && geosearch && !frommember {
            let (lon, lat) = lon_lat(next(1), next(2))?;
            s.center = Some(GeoCenter::LonLat(lon, lat));
            fromloc = true;
            i += 2;
        } else if kw(arg, "byradius") && i + 2 < remaining && geosearch && !bybox {
            let (r, conversion) = radius(next(1), next(2))?;
            s.area = GeoArea::Radius(r);
            s.conversion = conversion;
            byradius = true;
            i += 2;
        } else if kw(arg, "bybox") && i + 3 < remaining && geosearch && !byradius {
            let (width, height, conversion) = rect(next(1), next(2), next(3))?;
            s.area = GeoArea::Box { width, height };
            s.conversion = conversion;
            bybox = true;
            i += 3;
        } else {
            return Err(OpError::Syntax);
        }
        i += 1;
    }

    if s.store.is_some() && (s.with_dist || s.with_hash || s.with_coord) {
        let what = if form == Form::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(err(format!(
            "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    if geosearch && !(frommember || fromloc) {
        return Err(err(format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            show(&a[0])
        )));
    }
    if geosearch && !(byradius || bybox) {
        return Err(err(format!(
            "exactly one of BYRADIUS and BYBOX can be specified for {}",
            show(&a[0])
        )));
    }
    if s.any && s.count == 0 {
        return Err(err("the ANY argument requires COUNT argument"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "geo_tests.rs"]
mod tests;
