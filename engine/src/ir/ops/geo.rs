//! The op-IR variants of geo commands, whose values are sorted sets scored by Redis's 52-bit
//! geohash. GEORADIUS, GEORADIUS_RO, GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO, GEOSEARCH and
//! GEOSEARCHSTORE all lower to `Search` (Redis's `georadiusGeneric`).
//!
//! Invariants: coordinates are validated by the parser (inside Redis's longitude/latitude
//! range, never NaN); distances are never negative; every key an op reads or writes is listed by
//! `keys()` (a search's destination included), so a store whose keys span shards is `Atomic`.
//! Argument errors that Redis reports only after looking the key up (its type, the centre
//! member) travel in the op as `deferred` / `shape_err` and are raised by the engine in
//! Redis's order.

use bytes::Bytes;

use crate::ir::{KeyRouting, OpError};

/// One GEOADD element (validated coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoPoint {
    pub lon: f64,
    pub lat: f64,
    pub member: Bytes,
}

/// The centre of a search.
#[derive(Debug, Clone, PartialEq)]
pub enum GeoCenter {
    /// FROMLONLAT / GEORADIUS's coordinates.
    LonLat(f64, f64),
    /// FROMMEMBER / GEORADIUSBYMEMBER: every member named, in argument order (Redis looks each
    /// one up as it parses it, so an earlier missing member is an error); the last one is the
    /// centre. Never empty.
    Members(Vec<Bytes>),
}

/// The searched area, in the query's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoArea {
    /// BYRADIUS / GEORADIUS's radius.
    Radius(f64),
    /// BYBOX width height.
    Box { width: f64, height: f64 },
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoSort {
    /// Zset order within each searched cell (Redis's unsorted output).
    None,
    Asc,
    Desc,
}

/// Which command a search came from (it picks the STORE event name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoSearchKind {
    /// GEORADIUS, GEORADIUS_RO, GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO.
    Radius,
    /// GEOSEARCH, GEOSEARCHSTORE.
    Search,
}

/// A parsed search (`georadiusGeneric`).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoSearch {
    pub kind: GeoSearchKind,
    /// The source sorted set.
    pub key: Bytes,
    /// STORE / STOREDIST / GEOSEARCHSTORE's destination.
    pub store: Option<Bytes>,
    /// Store distances (in the query's unit) instead of geohash scores.
    pub store_dist: bool,
    /// `None` only when `deferred` is set.
    pub center: Option<GeoCenter>,
    pub area: GeoArea,
    /// Meters per unit of the query.
    pub conversion: f64,
    pub sort: GeoSort,
    /// COUNT (0 = unlimited).
    pub count: u64,
    /// COUNT ... ANY: stop searching once `count` matches are found.
    pub any: bool,
    pub with_dist: bool,
    pub with_hash: bool,
    pub with_coord: bool,
    /// GEORADIUSBYMEMBER: an error in the radius/unit arguments, which Redis parses only when
    /// the key exists, after looking the member up.
    pub shape_err: Option<OpError>,
    /// The first argument error Redis reports after the key's type check and the member
    /// lookups that precede it in the arguments.
    pub deferred: Option<OpError>,
}

/// Ops of geo commands.
#[derive(Debug, Clone, PartialEq)]
pub enum GeoOp {
    /// GEOADD key [NX|XX] [CH] lon lat member ...
    Add {
        key: Bytes,
        nx: bool,
        xx: bool,
        ch: bool,
        points: Vec<GeoPoint>,
    },
    /// GEODIST key a b [unit]; `conversion` is meters per unit.
    Dist {
        key: Bytes,
        a: Bytes,
        b: Bytes,
        conversion: f64,
    },
    /// GEOHASH key member ...
    Hash { key: Bytes, members: Vec<Bytes> },
    /// GEOPOS key member ...
    Pos { key: Bytes, members: Vec<Bytes> },
    /// The GEORADIUS and GEOSEARCH families.
    Search(Box<GeoSearch>),
}

impl GeoOp {
    /// Every key the op names, in argument order (GEOSEARCHSTORE: destination first).
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            GeoOp::Add { key, .. }
            | GeoOp::Dist { key, .. }
            | GeoOp::Hash { key, .. }
            | GeoOp::Pos { key, .. } => vec![key],
            GeoOp::Search(s) => match (&s.store, s.kind) {
                (None, _) => vec![&s.key],
                (Some(dst), GeoSearchKind::Search) => vec![dst, &s.key],
                (Some(dst), GeoSearchKind::Radius) => vec![&s.key, dst],
            },
        }
    }

    /// How the op is routed across shards (a search with a destination is `Atomic`).
    pub fn routing(&self) -> KeyRouting {
        if self.keys().len() > 1 {
            KeyRouting::Atomic
        } else {
            KeyRouting::Single
        }
    }

    /// True if the op may modify the keyspace.
    pub fn is_write(&self) -> bool {
        match self {
            GeoOp::Add { .. } => true,
            GeoOp::Search(s) => s.store.is_some(),
            GeoOp::Dist { .. } | GeoOp::Hash { .. } | GeoOp::Pos { .. } => false,
        }
    }
}
