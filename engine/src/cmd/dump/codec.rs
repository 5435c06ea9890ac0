//! Moon values ⇄ RDB objects (the part of a DUMP payload before the footer), in Redis 7.0's
//! encodings so that redis-server 7.0 restores what Moon dumps:
//!
//! | value | written as |
//! |---|---|
//! | string | `STRING` (int / LZF / raw string encoding) |
//! | list | `LIST_QUICKLIST_2`, one listpack node per `list-max-listpack-size` chunk |
//! | set | `SET_INTSET` when Moon holds an intset, else `SET` |
//! | hash | `HASH_METADATA` (Redis 7.4) when a field has a TTL, else `HASH_LISTPACK` when Moon holds a listpack, else `HASH` |
//! | zset | `ZSET_LISTPACK` when Moon holds a listpack, else `ZSET_2` (greatest first, as Redis) |
//! | stream | `STREAM_LISTPACKS_2` (see [`super::stream`]); in Moon's own files (snapshots, WAL images: [`image_payload`]) `STREAM_LISTPACKS_3` when a consumer's active time differs from its seen time |
//!
//! A payload holding `HASH_METADATA` carries RDB version 12 (Redis 7.4's, the first that knows
//! the type), one holding `STREAM_LISTPACKS_3` version 11 (7.2's); every other payload keeps
//! version 10 so that redis-server 7.0 restores it.
//!
//! Decoding accepts every object type Redis 7.4 writes (the field-TTL hash types 22-25
//! included) plus the older ziplist/zipmap/quicklist ones, builds the value through each type's public API with the configured
//! thresholds (so encodings are what Redis would choose after loading), and rejects (with
//! `None`, "Bad data format") truncated input, malformed containers, empty collections,
//! duplicate members/fields and NaN scores. It never panics.

use moon_formats::rdb::listpack::{self, LpEntry};
use moon_formats::rdb::{self, Reader, Writer, intset, types, ziplist};

use crate::keyspace::entry::{Entry, LargeValue, StrRef};
use crate::shard::TypeLimits;
use crate::types::hash::{HashLimits, HashRef, HashValue, NO_TTL};
use crate::types::list::{End, ListValue};
use crate::types::sets::{SetLimits, SetValue};
use crate::types::zset::ZSetValue;

/// Object types of Redis 7.4's hashes with field TTLs (`rdb.h`). The `PRE_GA` ones are what
/// the 7.4 release candidates wrote (absolute TTLs, no minimum up front).
pub mod hfe_types {
    /// `RDB_TYPE_HASH_METADATA_PRE_GA`: count, then (ttl, field, value) with absolute TTLs.
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    /// `RDB_TYPE_HASH_LISTPACK_EX_PRE_GA`: a listpack of (field, value, ttl) triples.
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    /// `RDB_TYPE_HASH_METADATA`: minimum expiry (u64 LE), count, then (ttl, field, value) with
    /// `ttl` = 0 for none, else `expire - minimum + 1`.
    pub const HASH_METADATA: u8 = 24;
    /// `RDB_TYPE_HASH_LISTPACK_EX`: minimum expiry (u64 LE), then the triples' listpack.
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// The RDB version of payloads holding a field-TTL hash (Redis 7.4's `RDB_VERSION`).
pub const HFE_RDB_VERSION: u16 = 12;
/// The RDB version of payloads holding a `STREAM_LISTPACKS_3` stream (Redis 7.2's).
pub const STREAM_V3_RDB_VERSION: u16 = 11;
/// The newest RDB version RESTORE accepts (Redis 7.4's).
pub const MAX_RDB_VERSION: u16 = 12;
/// The largest field expiry Redis accepts (`EB_EXPIRE_TIME_MAX`, 2^48 - 1 ms).
const FIELD_EXPIRE_MAX: u64 = (1 << 48) - 1;

/// The DUMP payload of an entry's value (object, RDB version, CRC-64); `None` for a value type
/// that cannot be dumped.
pub fn dump_payload(e: &Entry) -> Option<Vec<u8>> {
    encode_entry(e).map(seal_payload)
}

/// The payload Moon writes to its own files (snapshot entries, the WAL's RESTORE images of the
/// cross-shard primitives): [`dump_payload`], except that a stream the 7.0 layout cannot carry
/// whole is written as 7.2's `STREAM_LISTPACKS_3`, so a restart changes nothing. RESTORE reads
/// both (and redis-server 7.2+ reads either).
pub fn image_payload(e: &Entry) -> Option<Vec<u8>> {
    encode_entry_image(e).map(seal_payload)
}

/// Appends the footer to an object's bytes: version 12 for the field-TTL hash types, 11 for
/// `STREAM_LISTPACKS_3`, else Moon's usual DUMP version.
pub fn seal_payload(mut object: Vec<u8>) -> Vec<u8> {
    let version = match object.first() {
        Some(&hfe_types::HASH_METADATA) => HFE_RDB_VERSION,
        Some(&types::STREAM_LISTPACKS_3) => STREAM_V3_RDB_VERSION,
        _ => return rdb::seal_payload(object),
    };
    object.extend_from_slice(&version.to_le_bytes());
    let crc = rdb::crc64(0, &object);
    object.extend_from_slice(&crc.to_le_bytes());
    object
}

/// Checks a DUMP payload's footer (`verifyDumpPayload`): at least 10 bytes, an RDB version of
/// at most [`MAX_RDB_VERSION`], a matching CRC-64. Returns the object bytes.
pub fn open_payload(payload: &[u8]) -> Option<&[u8]> {
    let n = payload.len();
    let body = n.checked_sub(10)?;
    let version = u16::from_le_bytes(payload.get(body..body + 2)?.try_into().ok()?);
    if version > MAX_RDB_VERSION {
        return None;
    }
    let crc = u64::from_le_bytes(payload.get(body + 2..)?.try_into().ok()?);
    (rdb::crc64(0, payload.get(..n - 8)?) == crc).then(|| payload.get(..body))?
}

/// A decoded value: a string (stored through `Entry::new_string`) or any other type.
#[derive(Debug)]
pub enum Decoded {
    /// A string value.
    Str(Vec<u8>),
    /// A collection.
    Value(LargeValue),
}

/// The RDB object of an entry's value as DUMP writes it; `None` for a value type that cannot
/// be dumped.
pub fn encode_entry(e: &Entry) -> Option<Vec<u8>> {
    encode_entry_as(e, false)
}

/// The RDB object of an entry's value as Moon's files hold it (see [`image_payload`]).
pub fn encode_entry_image(e: &Entry) -> Option<Vec<u8>> {
    encode_entry_as(e, true)
}

fn encode_entry_as(e: &Entry, image: bool) -> Option<Vec<u8>> {
    let mut w = Writer::new();
    if let Some(s) = e.string_value() {
        w.u8(types::STRING);
        match s {
            StrRef::Int(v) => w.int_string(v),
            StrRef::Bytes(b) => w.string(b),
        }
        return Some(w.buf);
    }
    if let Some(h) = e.hash() {
        encode_hash(&mut w, h);
        return Some(w.buf);
    }
    match e.value()? {
        LargeValue::Raw(b) => {
            w.u8(types::STRING);
            w.string(b);
        }
        LargeValue::List(l) => encode_list(&mut w, l),
        LargeValue::Set(s) => encode_set(&mut w, s),
        LargeValue::Hash(h) => encode_hash(&mut w, h.as_ref()),
        LargeValue::ZSet(z) => encode_zset(&mut w, z),
        LargeValue::Stream(s) => {
            super::stream::encode(&mut w, s, image && super::stream::needs_v3(s))?
        }
        LargeValue::Graph(g) => super::graph::encode_object(&g.graph, &mut w.buf),
        LargeValue::Suggest(s) => super::suggest::encode_object(s, &mut w.buf),
        #[allow(unreachable_patterns)]
        _ => return None,
    }
    Some(w.buf)
}

/// Elements per listpack node when dumping a list (Redis's default `-2`: 8 KiB nodes; a count
/// bound keeps nodes of tiny elements reasonable too).
const NODE_MAX_BYTES: usize = 8 * 1024;
const NODE_MAX_ENTRIES: usize = 128;

fn encode_list(w: &mut Writer, l: &ListValue) {
    let mut nodes = Vec::new();
    let mut b = listpack::Builder::new();
    let mut scratch = Vec::new();
    for e in l.iter_from(0) {
        if !b.is_empty() && (b.bytes() >= NODE_MAX_BYTES || b.len() >= NODE_MAX_ENTRIES) {
            nodes.push(std::mem::take(&mut b).finish());
        }
        scratch.clear();
        e.write_to(&mut scratch);
        b.push_str(&scratch);
    }
    if !b.is_empty() {
        nodes.push(b.finish());
    }
    w.u8(types::LIST_QUICKLIST_2);
    w.len(nodes.len() as u64);
    for n in nodes {
        w.len(rdb::QUICKLIST_NODE_PACKED);
        w.string(&n);
    }
}

fn encode_set(w: &mut Writer, s: &SetValue) {
    if s.is_intset() {
        let ints: Vec<i64> = s.iter().filter_map(|m| m.as_int()).collect();
        debug_assert_eq!(ints.len(), s.len());
        w.u8(types::SET_INTSET);
        w.string(&intset::build(&ints));
        return;
    }
    w.u8(types::SET);
    w.len(s.len() as u64);
    for m in s.iter() {
        m.with_str(|b| w.string(b));
    }
}

fn encode_hash(w: &mut Writer, h: HashRef<'_>) {
    if h.has_field_ttls() {
        encode_hash_metadata(w, h);
        return;
    }
    if h.encoding_name() == "listpack" {
        let mut b = listpack::Builder::new();
        for f in h.iter() {
            b.push_str(f.field);
            b.push_str(f.value);
        }
        w.u8(types::HASH_LISTPACK);
        w.string(&b.finish());
        return;
    }
    w.u8(types::HASH);
    w.len(h.len() as u64);
    for f in h.iter() {
        w.string(f.field);
        w.string(f.value);
    }
}

/// `HASH_METADATA`, as Redis 7.4's `rdbSaveObject` writes a hashtable with field TTLs.
fn encode_hash_metadata(w: &mut Writer, h: HashRef<'_>) {
    let min = h
        .iter()
        .map(|f| f.expire_at)
        .filter(|&at| at != NO_TTL)
        .min()
        .unwrap_or(NO_TTL);
    w.u8(hfe_types::HASH_METADATA);
    w.raw(&min.to_le_bytes());
    w.len(h.len() as u64);
    for f in h.iter() {
        let ttl = if f.expire_at == NO_TTL {
            0
        } else {
            debug_assert!(f.expire_at >= min);
            f.expire_at - min + 1
        };
        w.len(ttl);
        w.string(f.field);
        w.string(f.value);
    }
}

fn encode_zset(w: &mut Writer, z: &ZSetValue) {
    if z.encoding_name() == "listpack" {
        let mut b = listpack::Builder::new();
        z.visit(0, z.len(), false, |m, s| {
            b.push_str(m);
            b.push_str(fmt_score(s).as_bytes());
            true
        });
        w.u8(types::ZSET_LISTPACK);
        w.string(&b.finish());
        return;
    }
    w.u8(types::ZSET_2);
    w.len(z.len() as u64);
    z.visit(0, z.len(), true, |m, s| {
        w.string(m);
        w.binary_double(s);
        true
    });
}

/// A score as Redis's `d2string` writes it into a listpack: integers below 2^52 in decimal,
/// else `%.17g`.
pub fn fmt_score(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    if v > -4_503_599_627_370_495.0 && v < 4_503_599_627_370_496.0 && v == v.trunc() {
        return (v as i64).to_string();
    }
    fmt_g17(v)
}

/// C's `%.17g`.
fn fmt_g17(v: f64) -> String {
    let sci = format!("{:.16e}", v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if neg { "-" } else { "" };
    if !(-4..17).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        let (i, f) = digits.split_at(int_len);
        format!("{sign}{i}.{f}")
    }
}

/// Decodes one RDB object (type byte + encoding); `None` means "Bad data format".
pub fn decode_object(object: &[u8], limits: &TypeLimits) -> Option<Decoded> {
    if let Some((&super::graph::RDB_TYPE_GRAPH, body)) = object.split_first() {
        return super::graph::decode_object(body).map(Decoded::Value);
    }
    if let Some((&super::suggest::RDB_TYPE_SUGGEST, body)) = object.split_first() {
        return super::suggest::decode_object(body).map(Decoded::Value);
    }
    let mut r = Reader::new(object);
    let ty = r.u8()?;
    let value = match ty {
        types::STRING => return Some(Decoded::Str(r.string()?)),
        types::LIST => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            list_from(items, limits)?
        }
        types::LIST_ZIPLIST => {
            let zl = r.string()?;
            list_from(entries_to_vecs(ziplist::parse_ziplist(&zl)?), limits)?
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            let nodes = r.count(1)?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container = if ty == types::LIST_QUICKLIST_2 {
                    r.length()?
                } else {
                    rdb::QUICKLIST_NODE_PACKED
                };
                let blob = r.string()?;
                match container {
                    rdb::QUICKLIST_NODE_PLAIN => items.push(blob),
                    rdb::QUICKLIST_NODE_PACKED => {
                        let parsed = if ty == types::LIST_QUICKLIST_2 {
                            listpack::parse(&blob)?
                        } else {
                            ziplist::parse_ziplist(&blob)?
                        };
                        items.extend(entries_to_vecs(parsed));
                    }
                    _ => return None,
                }
            }
            list_from(items, limits)?
        }
        types::SET => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            set_from(&items, limits)?
        }
        types::SET_INTSET => {
            let members = intset::parse(&r.string()?)?;
            let items: Vec<Vec<u8>> = members.iter().map(|v| v.to_string().into_bytes()).collect();
            set_from(&items, limits)?
        }
        types::SET_LISTPACK => {
            let lp = r.string()?;
            set_from(&entries_to_vecs(listpack::parse(&lp)?), limits)?
        }
        types::HASH => {
            let n = r.count(2)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                pairs.push((f, v));
            }
            hash_from(pairs, limits)?
        }
        types::HASH_ZIPMAP => {
            let zm = r.string()?;
            let pairs = ziplist::parse_zipmap(&zm)?
                .into_iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect();
            hash_from(pairs, limits)?
        }
        types::HASH_ZIPLIST | types::HASH_LISTPACK => {
            let blob = r.string()?;
            let entries = if ty == types::HASH_ZIPLIST {
                ziplist::parse_ziplist(&blob)?
            } else {
                listpack::parse(&blob)?
            };
            hash_from(pairs_of(entries_to_vecs(entries))?, limits)?
        }
        hfe_types::HASH_METADATA_PRE_GA | hfe_types::HASH_METADATA => {
            let min = if ty == hfe_types::HASH_METADATA {
                let m = r.u64_le()?;
                // 2^48 is Redis's "invalid" marker, which a hash without TTLs would carry.
                (m <= FIELD_EXPIRE_MAX + 1).then_some(m)?
            } else {
                0
            };
            let n = r.count(3)?;
            let mut fields = Vec::with_capacity(n);
            for _ in 0..n {
                let ttl = r.length()?;
                let at = match (ttl, ty) {
                    (0, _) => NO_TTL,
                    (t, hfe_types::HASH_METADATA) => (t - 1).checked_add(min)?,
                    (t, _) => t,
                };
                if at > FIELD_EXPIRE_MAX {
                    return None;
                }
                let f = r.string()?;
                let v = r.string()?;
                fields.push((f, v, at));
            }
            hash_with_ttls(fields, limits)?
        }
        hfe_types::HASH_LISTPACK_EX_PRE_GA | hfe_types::HASH_LISTPACK_EX => {
            if ty == hfe_types::HASH_LISTPACK_EX {
                r.u64_le()?; // the minimum expiry, redundant with the triples
            }
            let blob = r.string()?;
            let entries = listpack::parse(&blob)?;
            if !entries.len().is_multiple_of(3) {
                return None;
            }
            let mut fields = Vec::with_capacity(entries.len() / 3);
            for t in entries.chunks(3) {
                let [f, v, at] = t else { return None };
                let at = match at {
                    LpEntry::Int(i) => u64::try_from(*i).ok()?,
                    LpEntry::Str(b) => std::str::from_utf8(b).ok()?.parse().ok()?,
                };
                if at > FIELD_EXPIRE_MAX {
                    return None;
                }
                fields.push((f.to_vec(), v.to_vec(), at));
            }
            hash_with_ttls(fields, limits)?
        }
        types::ZSET | types::ZSET_2 => {
            let n = r.count(2)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let s = if ty == types::ZSET_2 {
                    r.binary_double()?
                } else {
                    r.ascii_double()?
                };
                items.push((m, s));
            }
            zset_from(items, limits)?
        }
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
            let blob = r.string()?;
            let entries = if ty == types::ZSET_ZIPLIST {
                ziplist::parse_ziplist(&blob)?
            } else {
                listpack::parse(&blob)?
            };
            let mut items = Vec::with_capacity(entries.len() / 2);
            for pair in entries.chunks(2) {
                let [m, s] = pair else { return None };
                let score = match s {
                    LpEntry::Int(i) => *i as f64,
                    LpEntry::Str(b) => parse_score(b)?,
                };
                items.push((m.to_vec(), score));
            }
            zset_from(items, limits)?
        }
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 | types::STREAM_LISTPACKS_3 => {
            super::stream::decode(&mut r, ty, limits)?
        }
        _ => return None,
    };
    Some(Decoded::Value(value))
}

fn entries_to_vecs(entries: Vec<LpEntry<'_>>) -> Vec<Vec<u8>> {
    entries.iter().map(LpEntry::to_vec).collect()
}

fn pairs_of(items: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !items.len().is_multiple_of(2) {
        return None;
    }
    let mut it = items.into_iter();
    let mut out = Vec::new();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        out.push((f, v));
    }
    Some(out)
}

/// A score string as `strtod` would read it; NaN is rejected.
fn parse_score(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    let v: f64 = match s {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
}

fn list_from(items: Vec<Vec<u8>>, limits: &TypeLimits) -> Option<LargeValue> {
    if items.is_empty() {
        return None;
    }
    let fill = limits.list_max_listpack_size;
    let mut l = ListValue::new();
    for it in &items {
        l.grow(fill, it.len(), 1);
        l.push(End::Tail, it);
    }
    Some(LargeValue::List(Box::new(l)))
}

fn set_limits(limits: &TypeLimits) -> SetLimits {
    SetLimits {
        intset_entries: limits.set_max_intset_entries,
        listpack_entries: limits.set_max_listpack_entries,
        listpack_value: limits.set_max_listpack_value,
    }
}

fn set_from(items: &[Vec<u8>], limits: &TypeLimits) -> Option<LargeValue> {
    let first = items.first()?;
    let lim = set_limits(limits);
    let mut s = SetValue::create(first, items.len(), &lim);
    for it in items {
        if !s.insert(it, &lim) {
            return None;
        }
    }
    Some(LargeValue::Set(Box::new(s)))
}

fn hash_from(pairs: Vec<(Vec<u8>, Vec<u8>)>, limits: &TypeLimits) -> Option<LargeValue> {
    hash_with_ttls(
        pairs.into_iter().map(|(f, v)| (f, v, NO_TTL)).collect(),
        limits,
    )
}

/// A hash from (field, value, expire-at or [`NO_TTL`]) triples; fields whose TTL has passed are
/// kept (reads purge them, as after any load).
fn hash_with_ttls(pairs: Vec<(Vec<u8>, Vec<u8>, u64)>, limits: &TypeLimits) -> Option<LargeValue> {
    if pairs.is_empty() {
        return None;
    }
    let lim = HashLimits {
        max_entries: limits.hash_max_listpack_entries,
        max_value: limits.hash_max_listpack_value,
    };
    let mut h = HashValue::new();
    if pairs.len() > lim.max_entries {
        // Straight to the table, as Redis does when the count exceeds the threshold.
        h.convert_for([usize::MAX], lim);
    }
    for (f, v, at) in &pairs {
        if !h.set(f, v, false, lim) {
            return None;
        }
        if *at != NO_TTL {
            h.set_expire(f, *at);
        }
    }
    Some(LargeValue::Hash(h))
}

fn zset_from(items: Vec<(Vec<u8>, f64)>, limits: &TypeLimits) -> Option<LargeValue> {
    if items.is_empty() || items.iter().any(|(_, s)| s.is_nan()) {
        return None;
    }
    let z = ZSetValue::from_entries(&items, limits);
    (z.len() == items.len()).then_some(LargeValue::ZSet(Box::new(z)))
}
