//! Execution of geo commands over sorted-set values, following geo.c: GEOADD is ZADD with
//! geohash scores (so it records `zadd` events and shares every ZADD rule), GEODIST, GEOHASH,
//! GEOPOS, and `search` (`georadiusGeneric`) for the GEORADIUS and GEOSEARCH families.
//!
//! Invariants: a search visits the centre cell and its neighbours in Redis's order, each as
//! the score interval `[min, max)` of the cell, so unsorted output is Redis's; errors come out
//! in Redis's order (key type, member lookups, then argument errors); a STORE replaces the
//! destination (TTL cleared) with a `georadiusstore`/`geosearchstore` event, or deletes it
//! (`del` event) when nothing matched.

pub mod geohash;

#[cfg(test)]
mod tests;

use bytes::Bytes;

use super::Exec;
use super::zset::{read, store};
use crate::ir::ops::geo::{GeoArea, GeoCenter, GeoSearch, GeoSearchKind, GeoSort};
use crate::ir::ops::zset::ZAddFlags;
use crate::ir::ops::{GeoOp, ZSetOp};
use crate::ir::{OpError, Reply};
use crate::types::ZSetValue;
use geohash::{GeoShape, HashBits, Shape};

/// Executes one op of the family.
pub(crate) fn execute(x: &mut Exec<'_>, op: &GeoOp) -> Reply {
    let r = match op {
        GeoOp::Add {
            key,
            nx,
            xx,
            ch,
            points,
        } => {
            // Redis rewrites GEOADD into ZADD and runs it: same rules, same `zadd` event.
            let add = ZSetOp::Add {
                key: key.clone(),
                flags: ZAddFlags {
                    nx: *nx,
                    xx: *xx,
                    ch: *ch,
                    ..ZAddFlags::default()
                },
                pairs: points
                    .iter()
                    .map(|p| (geohash::score_of(p.lon, p.lat), p.member.clone()))
                    .collect(),
            };
            return super::zset::execute(x, &add);
        }
        GeoOp::Dist {
            key,
            a,
            b,
            conversion,
        } => dist(x, key, a, b, *conversion),
        GeoOp::Hash { key, members } => read(x, key).map(|z| {
            Reply::Array(
                members
                    .iter()
                    .map(|m| match z.and_then(|z| z.score(m)) {
                        Some(s) => {
                            Reply::Bulk(Bytes::copy_from_slice(&geohash::standard_geohash(s)))
                        }
                        None => Reply::Nil,
                    })
                    .collect(),
            )
        }),
        GeoOp::Pos { key, members } => read(x, key).map(|z| {
            Reply::Array(
                members
                    .iter()
                    .map(|m| match z.and_then(|z| z.score(m)) {
                        Some(s) => coords_reply(geohash::decode_score(s)),
                        None => Reply::NilArray,
                    })
                    .collect(),
            )
        }),
        GeoOp::Search(s) => search(x, s),
    };
    r.unwrap_or_else(Reply::Err)
}

/// A coordinate as Redis's `addReplyHumanLongDouble` writes it.
fn coord_reply(d: f64) -> Reply {
    Reply::DoubleText(Bytes::from(geohash::format_human(d)))
}

fn coords_reply((lon, lat): (f64, f64)) -> Reply {
    Reply::Array(vec![coord_reply(lon), coord_reply(lat)])
}

fn dist(
    x: &mut Exec<'_>,
    key: &[u8],
    a: &[u8],
    b: &[u8],
    conversion: f64,
) -> Result<Reply, OpError> {
    let Some(z) = read(x, key)? else {
        return Ok(Reply::Nil);
    };
    let (Some(s1), Some(s2)) = (z.score(a), z.score(b)) else {
        return Ok(Reply::Nil);
    };
    let (lon1, lat1) = geohash::decode_score(s1);
    let (lon2, lat2) = geohash::decode_score(s2);
    let d = geohash::distance(lon1, lat1, lon2, lat2) / conversion;
    Ok(Reply::Bulk(Bytes::from(geohash::format_distance(d))))
}

/// One match of a search (Redis's `geoPoint`).
#[derive(Debug, Clone)]
struct Found {
    member: Bytes,
    /// Meters until the reply converts it to the query's unit.
    dist: f64,
    score: f64,
    lon: f64,
    lat: f64,
}

fn could_not_decode() -> OpError {
    OpError::Other("ERR could not decode requested zset member".into())
}

/// Appends the members of cell `hash` inside the shape (`membersOfGeoHashBox`); with a
/// `limit` (COUNT ANY) stops once `out` holds that many.
fn members_of_box(
    z: &ZSetValue,
    hash: HashBits,
    shape: &GeoShape,
    out: &mut Vec<Found>,
    limit: usize,
) {
    let (min, max) = geohash::scores_of_box(hash);
    let (min, max) = (min as f64, max as f64);
    let first = z.count_prefix(|s, _| s < min);
    z.visit(first, z.len(), false, |member, score| {
        if score >= max {
            return false;
        }
        let (lon, lat) = geohash::decode_score(score);
        if let Some(dist) = geohash::distance_if_in_shape(shape, lon, lat) {
            out.push(Found {
                member: Bytes::copy_from_slice(member),
                dist,
                score,
                lon,
                lat,
            });
        }
        !(limit != 0 && out.len() >= limit)
    });
}

/// Every match of `shape` in `z`, in Redis's visiting order (`membersOfAllNeighbors`).
fn members_of_all_neighbors(z: &ZSetValue, shape: &GeoShape, limit: usize) -> Vec<Found> {
    let r = geohash::areas_by_shape(shape);
    let n = r.neighbors;
    let cells = [
        r.hash,
        n.north,
        n.south,
        n.east,
        n.west,
        n.north_east,
        n.north_west,
        n.south_east,
        n.south_west,
    ];
    let mut out = Vec::new();
    // As in Redis, 0 means "none yet", so the centre cell is never compared against.
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // A huge radius can make adjacent neighbours the same cell: search it once.
        if last_processed != 0 && cells.get(last_processed) == Some(cell) {
            continue;
        }
        if !out.is_empty() && limit != 0 && out.len() >= limit {
            break;
        }
        members_of_box(z, *cell, shape, &mut out, limit);
        last_processed = i;
    }
    out
}

/// The outcome of the read phase of a search: the source was missing, or these matches.
enum Matches {
    NoSource,
    Found(Vec<Found>, f64),
}

/// The read phase: key type, centre, argument errors in Redis's order, then the matches.
fn find(x: &mut Exec<'_>, s: &GeoSearch) -> Result<Matches, OpError> {
    let z = read(x, &s.key)?;
    let mut center = None;
    match (&s.center, z) {
        (Some(GeoCenter::LonLat(lon, lat)), _) => center = Some((*lon, *lat)),
        (Some(GeoCenter::Members(members)), Some(z)) => {
            for m in members {
                let score = z.score(m).ok_or_else(could_not_decode)?;
                center = Some(geohash::decode_score(score));
            }
        }
        _ => {}
    }
    if let (Some(e), Some(_)) = (&s.shape_err, z) {
        return Err(e.clone());
    }
    if let Some(e) = &s.deferred {
        return Err(e.clone());
    }
    let (Some(z), Some((lon, lat))) = (z, center) else {
        return Ok(Matches::NoSource);
    };
    let shape = GeoShape {
        lon,
        lat,
        conversion: s.conversion,
        shape: match s.area {
            GeoArea::Radius(radius) => Shape::Circle { radius },
            GeoArea::Box { width, height } => Shape::Rect { width, height },
        },
    };
    let limit = if s.any {
        usize::try_from(s.count).unwrap_or(usize::MAX)
    } else {
        0
    };
    Ok(Matches::Found(
        members_of_all_neighbors(z, &shape, limit),
        s.conversion,
    ))
}

fn search(x: &mut Exec<'_>, s: &GeoSearch) -> Result<Reply, OpError> {
    let (mut found, conversion) = match find(x, s)? {
        Matches::Found(found, conversion) => (found, conversion),
        Matches::NoSource => {
            if let Some(dst) = &s.store {
                store(x, dst, ZSetValue::default(), "del");
                return Ok(Reply::Int(0));
            }
            return Ok(Reply::Array(Vec::new()));
        }
    };
    // COUNT without an order means "the nearest N" (but ANY takes the first N found).
    let sort = if s.count != 0 && s.sort == GeoSort::None && !s.any {
        GeoSort::Asc
    } else {
        s.sort
    };
    match sort {
        GeoSort::None => {}
        GeoSort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        GeoSort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
    }
    if s.count != 0 {
        found.truncate(usize::try_from(s.count).unwrap_or(usize::MAX));
    }
    for f in &mut found {
        f.dist /= conversion;
    }

    let Some(dst) = &s.store else {
        let plain = !(s.with_dist || s.with_hash || s.with_coord);
        let items = found
            .into_iter()
            .map(|f| {
                if plain {
                    return Reply::Bulk(f.member);
                }
                let mut item = vec![Reply::Bulk(f.member)];
                if s.with_dist {
                    item.push(Reply::Bulk(Bytes::from(geohash::format_distance(f.dist))));
                }
                if s.with_hash {
                    item.push(Reply::Int(f.score as i64));
                }
                if s.with_coord {
                    item.push(coords_reply((f.lon, f.lat)));
                }
                Reply::Array(item)
            })
            .collect();
        return Ok(Reply::Array(items));
    };
    let n = found.len() as i64;
    let entries: Vec<(Bytes, f64)> = found
        .into_iter()
        .map(|f| (f.member, if s.store_dist { f.dist } else { f.score }))
        .collect();
    let value = ZSetValue::from_entries(&entries, &x.config.limits);
    let event = match s.kind {
        GeoSearchKind::Radius => "georadiusstore",
        GeoSearchKind::Search => "geosearchstore",
    };
    store(x, dst, value, event);
    Ok(Reply::Int(n))
}
