//! DUMP payloads (what a snapshot stores per key) → type names and JSON values.
//!
//! A payload is checked exactly as RESTORE checks it: footer (RDB version + CRC-64) through
//! `moon_formats::rdb::open_payload`, then the object through the engine's own decoder
//! (`moon_engine::cmd::dump::codec::decode_object`), so "decodable here" means "RESTORE accepts
//! it". The JSON shapes (documented in tools/README.md):
//!
//! | type | value |
//! |---|---|
//! | string | bytes |
//! | list | `[bytes, ...]` head to tail |
//! | set | `[bytes, ...]` |
//! | hash | `{field: bytes}` when every field is UTF-8, else `[[field, value], ...]` |
//! | zset | `[[member, score], ...]` by ascending score; ±inf/nan as the strings `"inf"` ... |
//! | graph | `{"nodes", "relationships", "labels": [[name, count], ...], "types": [[name, count], ...], "property_keys", "indexes"}` (a summary) |
//! | suggest | `[[text, score, payload or null], ...]` (an FT.SUGADD dictionary, folded order) |
//! | stream | `{"length", "last_id", "first_id", "max_deleted_id", "entries_added", "entries": [{"id", "fields": [[f, v], ...]}], "groups": [...]}` |
//!
//! where "bytes" is [`crate::text::json_bytes`].

use moon_engine::cmd::dump::codec::{Decoded, decode_object};
use moon_engine::keyspace::LargeValue;
use moon_engine::shard::TypeLimits;
use moon_engine::types::{HashValue, StreamValue, ZSetValue};
use moon_formats::rdb::{self, types};
use serde_json::{Map, Value, json};

use crate::text::json_bytes;

/// The value families, in the order reports list them.
pub const TYPE_NAMES: [&str; 8] = [
    "string", "list", "hash", "set", "zset", "stream", "graph", "suggest",
];

/// The family of an RDB object type byte (the first byte of a DUMP payload).
pub fn type_name(type_byte: u8) -> &'static str {
    match type_byte {
        types::STRING => "string",
        types::LIST | types::LIST_ZIPLIST | types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            "list"
        }
        types::SET | types::SET_INTSET | types::SET_LISTPACK => "set",
        types::ZSET | types::ZSET_2 | types::ZSET_ZIPLIST | types::ZSET_LISTPACK => "zset",
        types::HASH | types::HASH_ZIPMAP | types::HASH_ZIPLIST | types::HASH_LISTPACK => "hash",
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 | types::STREAM_LISTPACKS_3 => "stream",
        moon_engine::cmd::dump::graph::RDB_TYPE_GRAPH => "graph",
        moon_engine::cmd::dump::suggest::RDB_TYPE_SUGGEST => "suggest",
        _ => "unknown",
    }
}

/// Checks one record of a functions block (snapshot section 2) as recovery loads it: the code's
/// shebang must parse (Redis 7.0's rules) and name the record's library; no expiry.
pub fn check_function(name: &[u8], expire_ms: u64, code: &[u8]) -> Result<(), String> {
    if expire_ms != 0 {
        return Err(format!("a function library with an expiry ({expire_ms})"));
    }
    match moon_engine::functions::parse_metadata(code) {
        Ok(meta) if meta.name == name => Ok(()),
        Ok(meta) => Err(format!(
            "the code declares library {}",
            crate::text::quote(&meta.name)
        )),
        Err(e) => Err(format!("the code's shebang does not load: {e:?}")),
    }
}

/// The family of a payload, from its first byte.
pub fn payload_type(payload: &[u8]) -> &'static str {
    payload.first().map_or("unknown", |&b| type_name(b))
}

/// Why a payload cannot be restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// RDB version or CRC-64 footer wrong (RESTORE: "DUMP payload version or checksum are wrong").
    Footer,
    /// The object does not decode (RESTORE: "Bad data format").
    BadFormat,
}

impl std::fmt::Display for PayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PayloadError::Footer => "DUMP payload version or CRC-64 is wrong",
            PayloadError::BadFormat => "DUMP payload object does not decode (bad data format)",
        })
    }
}

/// Decodes a payload as RESTORE would.
pub fn decode(payload: &[u8]) -> Result<Decoded, PayloadError> {
    let object = rdb::open_payload(payload).ok_or(PayloadError::Footer)?;
    decode_object(object, &TypeLimits::default()).ok_or(PayloadError::BadFormat)
}

/// Checks a payload as RESTORE would, without keeping the value.
pub fn check(payload: &[u8]) -> Result<(), PayloadError> {
    decode(payload).map(|_| ())
}

/// The JSON value of a payload (see the module docs for the shapes).
pub fn to_json(payload: &[u8]) -> Result<Value, PayloadError> {
    Ok(match decode(payload)? {
        Decoded::Str(s) => json_bytes(&s),
        Decoded::Value(v) => large_to_json(&v),
    })
}

fn large_to_json(v: &LargeValue) -> Value {
    match v {
        LargeValue::Raw(b) => json_bytes(b),
        LargeValue::List(l) => {
            let mut scratch = Vec::new();
            Value::Array(
                l.iter_from(0)
                    .map(|e| {
                        scratch.clear();
                        e.write_to(&mut scratch);
                        json_bytes(&scratch)
                    })
                    .collect(),
            )
        }
        LargeValue::Set(s) => Value::Array(s.iter().map(|m| m.with_str(json_bytes)).collect()),
        LargeValue::Hash(h) => hash_to_json(h),
        LargeValue::ZSet(z) => zset_to_json(z),
        LargeValue::Stream(s) => stream_to_json(s),
        LargeValue::Graph(g) => graph_to_json(&moon_engine::cmd::dump::graph::summary_of(&g.graph)),
        // A suggestion dictionary: `[[text, score, payload or null], ...]` in folded order.
        LargeValue::Suggest(s) => Value::Array(
            s.iter()
                .map(|(t, score, p)| json!([t, f64::from(score), p.map(json_bytes)]))
                .collect(),
        ),
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}

/// A graph's summary (its contents are not dumped): counts, and labels / relationship types
/// with their counts, in id order.
pub fn graph_to_json(s: &moon_engine::cmd::dump::graph::GraphSummary) -> Value {
    let counts = |v: &[(String, u64)]| Value::Array(v.iter().map(|(n, c)| json!([n, c])).collect());
    json!({
        "nodes": s.nodes,
        "relationships": s.edges,
        "labels": counts(&s.labels),
        "types": counts(&s.rel_types),
        "property_keys": s.prop_keys,
        "indexes": s.indexes,
    })
}

fn hash_to_json(h: &HashValue) -> Value {
    if h.iter().all(|f| std::str::from_utf8(f.field).is_ok()) {
        let mut m = Map::new();
        for f in h.iter() {
            m.insert(
                String::from_utf8_lossy(f.field).into_owned(),
                json_bytes(f.value),
            );
        }
        Value::Object(m)
    } else {
        Value::Array(
            h.iter()
                .map(|f| json!([json_bytes(f.field), json_bytes(f.value)]))
                .collect(),
        )
    }
}

/// A score as JSON: a number when finite, else Redis's spelling as a string.
fn score_json(s: f64) -> Value {
    serde_json::Number::from_f64(s).map_or_else(
        || {
            Value::String(
                if s.is_nan() {
                    "nan"
                } else if s > 0.0 {
                    "inf"
                } else {
                    "-inf"
                }
                .into(),
            )
        },
        Value::Number,
    )
}

fn zset_to_json(z: &ZSetValue) -> Value {
    let mut out = Vec::with_capacity(z.len());
    z.visit(0, z.len(), false, |m, s| {
        out.push(json!([json_bytes(m), score_json(s)]));
        true
    });
    Value::Array(out)
}

fn stream_to_json(s: &StreamValue) -> Value {
    let mut entries = Vec::new();
    for (_, _, node_entries) in s.nodes() {
        for e in node_entries {
            let fields: Vec<Value> = e
                .fields()
                .map(|(f, v)| json!([json_bytes(f), json_bytes(v)]))
                .collect();
            entries.push(json!({ "id": e.id.to_string(), "fields": fields }));
        }
    }
    let groups: Vec<Value> = s
        .groups()
        .map(|(name, cg)| {
            let pel: Vec<Value> = cg
                .pel
                .iter()
                .map(|(id, p)| {
                    json!({
                        "id": id.to_string(),
                        "consumer": json_bytes(&p.consumer),
                        "delivery_time": p.delivery_time,
                        "delivery_count": p.delivery_count,
                    })
                })
                .collect();
            let consumers: Vec<Value> = cg
                .consumers
                .iter()
                .map(|(cname, c)| {
                    json!({
                        "name": json_bytes(cname),
                        "seen_time": c.seen_time,
                        "active_time": c.active_time,
                        "pel": c.pel.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "name": json_bytes(name),
                "last_id": cg.last_id.to_string(),
                "entries_read": cg.entries_read,
                "pel": pel,
                "consumers": consumers,
            })
        })
        .collect();
    json!({
        "length": s.len(),
        "last_id": s.last_id().to_string(),
        "first_id": s.first_id().to_string(),
        "max_deleted_id": s.max_deleted_id().to_string(),
        "entries_added": s.entries_added(),
        "entries": entries,
        "groups": groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use moon_formats::rdb::{Writer, listpack, seal_payload};

    fn payload(build: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::new();
        build(&mut w);
        seal_payload(w.buf)
    }

    #[test]
    fn string_payload() {
        let p = payload(|w| {
            w.u8(types::STRING);
            w.string(b"hello");
        });
        assert_eq!(payload_type(&p), "string");
        assert_eq!(to_json(&p), Ok(json!("hello")));
        let mut bad = p.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(to_json(&bad), Err(PayloadError::Footer));
    }

    #[test]
    fn hash_and_zset_payloads() {
        let p = payload(|w| {
            let mut b = listpack::Builder::new();
            b.push_str(b"f");
            b.push_str(b"v");
            w.u8(types::HASH_LISTPACK);
            w.string(&b.finish());
        });
        assert_eq!(payload_type(&p), "hash");
        assert_eq!(to_json(&p), Ok(json!({"f": "v"})));
        let p = payload(|w| {
            let mut b = listpack::Builder::new();
            b.push_str(b"a");
            b.push_str(b"1.5");
            b.push_str(b"b");
            b.push_str(b"2");
            w.u8(types::ZSET_LISTPACK);
            w.string(&b.finish());
        });
        assert_eq!(to_json(&p), Ok(json!([["a", 1.5], ["b", 2.0]])));
    }

    #[test]
    fn bad_object_is_reported() {
        let p = payload(|w| {
            w.u8(types::HASH_LISTPACK);
            w.string(b"not a listpack");
        });
        assert_eq!(check(&p), Err(PayloadError::BadFormat));
    }

    #[test]
    fn scores() {
        assert_eq!(score_json(f64::INFINITY), json!("inf"));
        assert_eq!(score_json(f64::NEG_INFINITY), json!("-inf"));
        assert_eq!(score_json(0.25), json!(0.25));
    }
}
