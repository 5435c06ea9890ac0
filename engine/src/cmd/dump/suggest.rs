//! Suggestion dictionaries (`FT.SUGADD` keys) in DUMP payloads and snapshot entries.
//!
//! The RDB object is Moon's own: the type byte [`RDB_TYPE_SUGGEST`] followed by
//! `moon_text::Suggestions::encode`'s bytes up to the payload footer, sealed like every other
//! payload (RDB version 10, CRC-64). So DUMP/RESTORE, the cross-shard RENAME/MOVE/COPY, the
//! WAL's RESTORE images and the snapshot's keyspace section carry dictionaries unchanged;
//! redis-server refuses the payload ("Bad data format"), as it refuses RediSearch's module
//! payloads without the module.
//!
//! Invariant: decoding validates everything through `Suggestions::decode` (bounds-checked,
//! rejects duplicates, empty texts and trailing bytes) and never panics; an empty dictionary
//! is refused (a key never holds an empty collection).

use crate::keyspace::entry::{Entry, LargeValue};
use moon_text::Suggestions;

/// The object type byte of a suggestion dictionary: outside Redis's object types (0..=25 as
/// of 7.4) and opcodes (244..=255), next to the graph's 200.
pub const RDB_TYPE_SUGGEST: u8 = 201;

/// The dictionary of an entry, if it holds one.
pub fn suggest_of(e: &Entry) -> Option<&Suggestions> {
    match e.value()? {
        LargeValue::Suggest(s) => Some(s),
        _ => None,
    }
}

/// Appends a dictionary's RDB object (type byte + encoding) to `out`.
pub fn encode_object(s: &Suggestions, out: &mut Vec<u8>) {
    out.push(RDB_TYPE_SUGGEST);
    s.encode(out);
}

/// Decodes the bytes after the type byte.
pub fn decode_object(body: &[u8]) -> Option<LargeValue> {
    let s = Suggestions::decode(body).ok()?;
    if s.is_empty() {
        return None;
    }
    Some(LargeValue::Suggest(Box::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::dump::codec::{self, Decoded};
    use crate::shard::TypeLimits;

    #[test]
    fn payload_round_trip_and_garbage() {
        let mut s = Suggestions::new();
        s.add("hello", 2.5, false, Some(b"p"));
        s.add("Help", 1.0, false, None);
        let e = Entry::new_value(b"k", LargeValue::Suggest(Box::new(s.clone())), None, 0);
        let payload = codec::dump_payload(&e).expect("dumpable");
        let object = codec::open_payload(&payload).expect("footer");
        assert_eq!(object.first(), Some(&RDB_TYPE_SUGGEST));
        let limits = TypeLimits::default();
        match codec::decode_object(object, &limits) {
            Some(Decoded::Value(LargeValue::Suggest(back))) => assert_eq!(*back, s),
            other => panic!("{other:?}"),
        }
        for cut in 1..object.len() {
            assert!(codec::decode_object(&object[..cut], &limits).is_none());
        }
        // an empty dictionary is not a value
        let mut empty = Vec::new();
        encode_object(&Suggestions::new(), &mut empty);
        assert!(codec::decode_object(&empty, &limits).is_none());
    }
}
