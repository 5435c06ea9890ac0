//! Moon values ⇄ RDB objects (the part of a DUMP payload before the footer), in Redis 7.0's
//! encodings so that redis-server 7.0 restores what Moon dumps:
//!
//! | value | written as |
//! |---|---|
//! | string | `STRING` (int / LZF / raw string encoding) |
//! | list | `LIST_QUICKLIST_2`, one listpack node per `list-max-listpack-size` chunk |
//! | set | `SET_INTSET` when Moon holds an intset, else `SET` |
//! | hash | `HASH_LISTPACK` when Moon holds a listpack, else `HASH` (field TTLs are not kept) |
//! | zset | `ZSET_LISTPACK` when Moon holds a listpack, else `ZSET_2` (greatest first, as Redis) |
//! | stream | `STREAM_LISTPACKS_2` (see [`super::stream`]) |
//!
//! Decoding accepts every object type Redis 7.2 writes plus the older ziplist/zipmap/
//! quicklist ones, builds the value through each type's public API with the configured
//! thresholds (so encodings are what Redis would choose after loading), and rejects (with
//! `None`, "Bad data format") truncated input, malformed containers, empty collections,
//! duplicate members/fields and NaN scores. It never panics.

use moon_formats::rdb::listpack::{self, LpEntry};
use moon_formats::rdb::{self, Reader, Writer, intset, types, ziplist};

use crate::keyspace::entry::{Entry, LargeValue, StrRef};
use crate::shard::TypeLimits;
use crate::types::hash::{HashLimits, HashValue};
use crate::types::list::{End, ListValue};
use crate::types::sets::{SetLimits, SetValue};
use crate::types::zset::ZSetValue;

/// A decoded value: a string (stored through `Entry::new_string`) or any other type.
#[derive(Debug)]
pub enum Decoded {
    /// A string value.
    Str(Vec<u8>),
    /// A collection.
    Value(LargeValue),
}

/// The RDB object of an entry's value; `None` for a value type that cannot be dumped.
pub fn encode_entry(e: &Entry) -> Option<Vec<u8>> {
    let mut w = Writer::new();
    if let Some(s) = e.string_value() {
        w.u8(types::STRING);
        match s {
            StrRef::Int(v) => w.int_string(v),
            StrRef::Bytes(b) => w.string(b),
        }
        return Some(w.buf);
    }
    match e.value()? {
        LargeValue::Raw(b) => {
            w.u8(types::STRING);
            w.string(b);
        }
        LargeValue::List(l) => encode_list(&mut w, l),
        LargeValue::Set(s) => encode_set(&mut w, s),
        LargeValue::Hash(h) => encode_hash(&mut w, h),
        LargeValue::ZSet(z) => encode_zset(&mut w, z),
        LargeValue::Stream(s) => super::stream::encode(&mut w, s)?,
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

fn encode_hash(w: &mut Writer, h: &HashValue) {
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
    for (f, v) in &pairs {
        if !h.set(f, v, false, lim) {
            return None;
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
