//! Redis's geohash math, ported from geohash.c and geohash_helper.c (Redis 7.2) operation for
//! operation, so that scores, decoded coordinates, search boxes and distances are bit-identical
//! to redis-server's: the same interleaving, the same `double` expressions evaluated in the
//! same order, and the platform libm's `sin`/`cos`/`asin`/`sqrt` as Redis uses.
//!
//! Invariants: a score is the 52-bit interleave of a 26-step hash (latitude bits even, longitude
//! bits odd) over Redis's Mercator-safe range (latitude ±85.05112878); decoded coordinates are
//! clamped to that range (geohashDecodeAreaToLongLat); nothing here panics on any `f64`, since
//! any sorted set (not only a GEOADD'ed one) may be read as a geo set.

/// Longitude bounds of the index.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Latitude bounds (EPSG:900913 cannot represent the poles).
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Steps (bits per coordinate) of a stored score.
pub const STEP_MAX: u8 = 26;

const D_R: f64 = std::f64::consts::PI / 180.0;
/// Earth's quadratic mean radius for WGS-84, as Redis uses it.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A hash of `step` bits per coordinate; `bits == 0 && step == 0` is the "zeroed" hash Redis
/// uses to drop a neighbour from a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis's `HASHISZERO`.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A coordinate interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The cell a hash denotes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// The eight neighbours of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

/// The cells covering a search: the centre's and its useful neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Radius {
    pub hash: HashBits,
    pub area: Area,
    pub neighbors: Neighbors,
}

/// The area searched: a circle of `radius`, or a `width` × `height` box, centred on
/// `(lon, lat)`; sizes are in the query's unit, `conversion` meters per unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Circle { radius: f64 },
    Rect { width: f64, height: f64 },
}

/// A search's centre and shape (Redis's `GeoShape`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoShape {
    pub lon: f64,
    pub lat: f64,
    pub conversion: f64,
    pub shape: Shape,
}

/// Interleaves the low 32 bits of `x` (even positions) and `y` (odd positions).
pub fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = u64::from(xlo);
    let mut y = u64::from(ylo);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of [`interleave64`]: even bits to the low word, odd bits to the high word.
pub fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// The index's coordinate ranges `(longitude, latitude)`.
pub fn coord_range() -> (Range, Range) {
    (
        Range {
            min: LONG_MIN,
            max: LONG_MAX,
        },
        Range {
            min: LAT_MIN,
            max: LAT_MAX,
        },
    )
}

/// C's implicit `double` → `uint32_t` conversion for the in-range values the encoder produces
/// (truncation; Rust's `as` saturates outside the range, where C is undefined anyway).
fn to_u32(d: f64) -> u32 {
    d as u32
}

/// `geohashEncode`: `None` when the step or the coordinates are out of range.
pub fn encode(
    long_range: Range,
    lat_range: Range,
    lon: f64,
    lat: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32
        || step == 0
        || lat_range.max - lat_range.min == 0.0
        || long_range.max - long_range.min == 0.0
    {
        return None;
    }
    // (Callers never pass a NaN, where this and C's comparisons would differ.)
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_range.min || lat > lat_range.max || lon < long_range.min || lon > long_range.max {
        return None;
    }
    let mut lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (lon - long_range.min) / (long_range.max - long_range.min);
    let scale = (1u64 << step) as f64;
    lat_offset *= scale;
    long_offset *= scale;
    Some(HashBits {
        bits: interleave64(to_u32(lat_offset), to_u32(long_offset)),
        step,
    })
}

/// `geohashEncodeWGS84`.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    let (lo, la) = coord_range();
    encode(lo, la, lon, lat, step)
}

/// `geohashAlign52Bits`: the hash shifted to a 52-bit score.
pub fn align52(hash: HashBits) -> u64 {
    let shift = 52u32.saturating_sub(u32::from(hash.step) * 2);
    hash.bits.checked_shl(shift).unwrap_or(0)
}

/// The sorted-set score GEOADD stores for a (validated) coordinate pair.
pub fn score_of(lon: f64, lat: f64) -> f64 {
    encode_wgs84(lon, lat, STEP_MAX).map_or(0.0, |h| align52(h) as f64)
}

/// `geohashDecode`: `None` for the zeroed hash.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero()
        || lat_range.max - lat_range.min == 0.0
        || long_range.max - long_range.min == 0.0
    {
        return None;
    }
    let hash_sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = hash_sep as u32;
    let ilono = (hash_sep >> 32) as u32;
    let div = 1u64.checked_shl(u32::from(hash.step)).unwrap_or(0) as f64;
    // `ilato + 1` is 32-bit unsigned arithmetic in C: it wraps.
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) * 1.0 / div) * long_scale,
        },
    })
}

/// `geohashDecodeAreaToLongLat`: the cell's centre, clamped to the index's range.
pub fn area_center(area: &Area) -> (f64, f64) {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// C's `(uint64_t)score` on x86-64 as gcc compiles it, for any score (a non-geo sorted set may
/// hold negative, huge or infinite scores, and Redis decodes them all).
pub fn score_to_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    // cvttsd2si answers the "integer indefinite" value for anything it cannot represent.
    let cvt = |d: f64| -> u64 {
        if d.is_nan() || !(-TWO63..TWO63).contains(&d) {
            1u64 << 63
        } else {
            d as i64 as u64
        }
    };
    if score < TWO63 {
        cvt(score)
    } else {
        cvt(score - TWO63) ^ (1u64 << 63)
    }
}

/// Redis's `decodeGeohash`: the clamped (longitude, latitude) a score stands for.
pub fn decode_score(score: f64) -> (f64, f64) {
    let (lo, la) = coord_range();
    let hash = HashBits {
        bits: score_to_bits(score),
        step: STEP_MAX,
    };
    // A step-26 hash is never the zeroed hash, so decoding always succeeds.
    decode(lo, la, hash).map_or((0.0, 0.0), |a| area_center(&a))
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let shift = 64u32.saturating_sub(u32::from(hash.step) * 2);
    let zz = 0x5555555555555555u64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        x = x.wrapping_add(zz.wrapping_add(1));
    } else {
        x |= zz;
        x = x.wrapping_sub(zz.wrapping_add(1));
    }
    x &= 0xaaaaaaaaaaaaaaaau64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let shift = 64u32.saturating_sub(u32::from(hash.step) * 2);
    let zz = 0xaaaaaaaaaaaaaaaau64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        y = y.wrapping_add(zz.wrapping_add(1));
    } else {
        y |= zz;
        y = y.wrapping_sub(zz.wrapping_add(1));
    }
    y &= 0x5555555555555555u64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

fn moved(hash: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut h = hash;
    move_x(&mut h, dx);
    move_y(&mut h, dy);
    h
}

/// `geohashNeighbors`.
pub fn neighbors(hash: HashBits) -> Neighbors {
    Neighbors {
        east: moved(hash, 1, 0),
        west: moved(hash, -1, 0),
        south: moved(hash, 0, -1),
        north: moved(hash, 0, 1),
        north_west: moved(hash, -1, 1),
        north_east: moved(hash, 1, 1),
        south_east: moved(hash, 1, -1),
        south_west: moved(hash, -1, -1),
    }
}

/// `geohashEstimateStepsByRadius`.
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range_meters = range_meters;
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// `geohashBoundingBox`: `[min_lon, min_lat, max_lon, max_lat]`.
pub fn bounding_box(s: &GeoShape) -> [f64; 4] {
    let (height, width) = match s.shape {
        Shape::Circle { radius } => (s.conversion * radius, s.conversion * radius),
        Shape::Rect { width, height } => {
            (s.conversion * (height / 2.0), s.conversion * (width / 2.0))
        }
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(s.lat + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(s.lat - lat_delta).cos());
    // The box's wide edge is the one nearer the equator.
    let southern = s.lat < 0.0;
    let delta = if southern {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [
        s.lon - delta,
        s.lat - lat_delta,
        s.lon + delta,
        s.lat + lat_delta,
    ]
}

/// `geohashCalculateAreasByShapeWGS84`: the centre cell and the neighbours worth searching.
pub fn areas_by_shape(s: &GeoShape) -> Radius {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(s);
    let radius_meters = match s.shape {
        Shape::Circle { radius } => radius,
        Shape::Rect { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * s.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, s.lat);
    let (lo, la) = coord_range();
    let cell = |steps: u8| {
        let hash = encode(lo, la, s.lon, s.lat, steps).unwrap_or(HashBits {
            bits: 0,
            step: steps,
        });
        let n = neighbors(hash);
        let area = decode(lo, la, hash).unwrap_or_default();
        (hash, n, area)
    };
    let (mut hash, mut n, mut area) = cell(steps);

    // Near a cell's edge the estimated step may be too fine for a neighbour to cover the
    // whole search area: then use one step less.
    let dec = |h: HashBits| decode(lo, la, h).unwrap_or_default();
    let (north, south, east, west) = (dec(n.north), dec(n.south), dec(n.east), dec(n.west));
    let decrease_step = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease_step {
        steps -= 1;
        (hash, n, area) = cell(steps);
    }

    // Neighbours entirely outside the bounding box are useless.
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            n.south = zero;
            n.south_west = zero;
            n.south_east = zero;
        }
        if area.latitude.max > max_lat {
            n.north = zero;
            n.north_east = zero;
            n.north_west = zero;
        }
        if area.longitude.min < min_lon {
            n.west = zero;
            n.south_west = zero;
            n.north_west = zero;
        }
        if area.longitude.max > max_lon {
            n.east = zero;
            n.south_east = zero;
            n.north_east = zero;
        }
    }
    Radius {
        hash,
        area,
        neighbors: n,
    }
}

/// `geohashGetLatDistance`: the distance along a meridian.
pub fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// `geohashGetDistance`: the haversine great-circle distance in meters.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the haversine reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// `geohashGetDistanceIfInRectangle`: the distance from the box centre `(x1, y1)` to `(x2, y2)`
/// if the point is inside the `width_m` × `height_m` box.
pub fn distance_if_in_rectangle(
    width_m: f64,
    height_m: f64,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
) -> Option<f64> {
    if lat_distance(y2, y1) > height_m / 2.0 {
        return None;
    }
    if distance(x2, y2, x1, y2) > width_m / 2.0 {
        return None;
    }
    Some(distance(x1, y1, x2, y2))
}

/// The point at `(lon, lat)` inside the shape: its distance from the centre in meters.
pub fn distance_if_in_shape(s: &GeoShape, lon: f64, lat: f64) -> Option<f64> {
    match s.shape {
        Shape::Circle { radius } => {
            let d = distance(s.lon, s.lat, lon, lat);
            (d <= radius * s.conversion).then_some(d)
        }
        Shape::Rect { width, height } => distance_if_in_rectangle(
            width * s.conversion,
            height * s.conversion,
            s.lon,
            s.lat,
            lon,
            lat,
        ),
    }
}

/// `scoresOfGeoHashBox`: the score interval `[min, max)` holding every point of the cell.
pub fn scores_of_box(hash: HashBits) -> (u64, u64) {
    let min = align52(hash);
    let next = HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    };
    (min, align52(next))
}

const GEO_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// GEOHASH's 11-character standard geohash of a score (decoded, then re-encoded over the
/// standard ±90 latitude range; the 11th character is always '0', as Redis has 52 bits only).
pub fn standard_geohash(score: f64) -> [u8; 11] {
    let (lon, lat) = decode_score(score);
    let lo = Range {
        min: -180.0,
        max: 180.0,
    };
    let la = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(lo, la, lon, lat, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = GEO_ALPHABET[idx as usize];
    }
    out
}

/// `%.4f`, as Redis prints distances (`addReplyDoubleDistance`).
pub fn format_distance(d: f64) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    format!("{d:.4}")
}

/// `ld2string(.., LD_STR_HUMAN)` of a double: `%.17Lf` with the trailing zeros (and a bare
/// dot) removed, and `-0` written `0` (GEOPOS and WITHCOORD coordinates).
pub fn format_human(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}
