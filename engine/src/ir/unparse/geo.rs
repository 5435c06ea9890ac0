//! Commands of the geo write ops: GEOADD, and the searches that store (GEORADIUS ..
//! STORE/STOREDIST, GEORADIUSBYMEMBER .. STORE/STOREDIST, GEOSEARCHSTORE).
//!
//! A search whose radius arguments were bad (`shape_err`) still succeeds, deleting the
//! destination, when its source key is missing: its command reproduces the same bad arguments
//! so replay does the same. A `deferred` error always fails the op (never logged); its command
//! is best effort.

use bytes::Bytes;

use super::Argv;
use crate::ir::OpError;
use crate::ir::ops::GeoOp;
use crate::ir::ops::geo::{GeoArea, GeoCenter, GeoSearch, GeoSearchKind, GeoSort};

/// The unit whose meters-per-unit is `conversion` (`m` when it matches none: only searches that
/// fail carry another value).
fn unit(conversion: f64) -> &'static str {
    [(1000.0, "KM"), (0.3048, "FT"), (1609.34, "MI")]
        .into_iter()
        .find(|(c, _)| *c == conversion)
        .map_or("M", |(_, u)| u)
}

/// GEORADIUS's `radius unit`, or arguments that fail with `shape_err`.
fn radius(a: &mut Argv, s: &GeoSearch) {
    match &s.shape_err {
        Some(OpError::Other(t)) if t.ends_with("radius cannot be negative") => {
            a.kw("-1").kw("M");
        }
        Some(OpError::Other(t)) if t.contains("unsupported unit") => {
            a.kw("0").kw("X");
        }
        Some(_) => {
            a.kw("X").kw("M");
        }
        None => {
            let r = match s.area {
                GeoArea::Radius(r) => r,
                GeoArea::Box { width, .. } => width,
            };
            a.float(r).kw(unit(s.conversion));
        }
    }
}

/// The options common to every search form.
fn options(a: &mut Argv, s: &GeoSearch) {
    for (on, kw) in [
        (s.with_dist, "WITHDIST"),
        (s.with_hash, "WITHHASH"),
        (s.with_coord, "WITHCOORD"),
    ] {
        if on {
            a.kw(kw);
        }
    }
    match s.sort {
        GeoSort::None => {}
        GeoSort::Asc => {
            a.kw("ASC");
        }
        GeoSort::Desc => {
            a.kw("DESC");
        }
    }
    if s.count != 0 {
        a.kw("COUNT").num(s.count);
    }
    if s.any {
        a.kw("ANY");
    }
}

fn search(s: &GeoSearch, dst: &Bytes) -> Argv {
    let mut a;
    match s.kind {
        GeoSearchKind::Search => {
            a = Argv::new("GEOSEARCHSTORE");
            a.arg(dst).arg(&s.key);
            match &s.center {
                Some(GeoCenter::Members(ms)) => {
                    for m in ms {
                        a.kw("FROMMEMBER").arg(m);
                    }
                }
                Some(GeoCenter::LonLat(lon, lat)) => {
                    a.kw("FROMLONLAT").float(*lon).float(*lat);
                }
                None => {
                    a.kw("FROMLONLAT").kw("0").kw("0");
                }
            }
            match s.area {
                GeoArea::Radius(r) => {
                    a.kw("BYRADIUS").float(r);
                }
                GeoArea::Box { width, height } => {
                    a.kw("BYBOX").float(width).float(height);
                }
            }
            a.kw(unit(s.conversion));
            options(&mut a, s);
            if s.store_dist {
                a.kw("STOREDIST");
            }
        }
        GeoSearchKind::Radius => {
            match &s.center {
                Some(GeoCenter::Members(ms)) => {
                    a = Argv::new("GEORADIUSBYMEMBER");
                    a.arg(&s.key).args(ms.last());
                }
                Some(GeoCenter::LonLat(lon, lat)) => {
                    a = Argv::new("GEORADIUS");
                    a.arg(&s.key).float(*lon).float(*lat);
                }
                None => {
                    a = Argv::new("GEORADIUS");
                    a.arg(&s.key).kw("0").kw("0");
                }
            }
            radius(&mut a, s);
            options(&mut a, s);
            a.kw(if s.store_dist { "STOREDIST" } else { "STORE" })
                .arg(dst);
        }
    }
    a
}

pub(super) fn command(op: &GeoOp) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        GeoOp::Add {
            key,
            nx,
            xx,
            ch,
            points,
        } => {
            a = Argv::new("GEOADD");
            a.arg(key);
            for (on, kw) in [(*nx, "NX"), (*xx, "XX"), (*ch, "CH")] {
                if on {
                    a.kw(kw);
                }
            }
            for p in points {
                a.float(p.lon).float(p.lat).arg(&p.member);
            }
        }
        GeoOp::Search(s) => match &s.store {
            Some(dst) => a = search(s, dst),
            None => return None,
        },
        GeoOp::Dist { .. } | GeoOp::Hash { .. } | GeoOp::Pos { .. } => return None,
    }
    a.done()
}
