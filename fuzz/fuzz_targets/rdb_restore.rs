//! Fuzzes RESTORE's payload decoder with arbitrary bytes (both as a whole payload, footer
//! included, and as a bare RDB object).
//!
//! Checks, beyond "never panics": an object that decodes re-encodes (DUMP) to an object that
//! decodes to the same value, so Moon never produces a payload it cannot read back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_engine::cmd::dump::codec::{Decoded, decode_object, encode_entry};
use moon_engine::keyspace::entry::Entry;
use moon_engine::shard::TypeLimits;
use moon_formats::rdb;

fuzz_target!(|data: &[u8]| {
    let limits = TypeLimits::default();
    if let Some(object) = rdb::open_payload(data) {
        let _ = decode_object(object, &limits);
    }
    let Some(decoded) = decode_object(data, &limits) else {
        return;
    };
    let entry = match decoded {
        Decoded::Str(s) => Entry::new_string(b"k", &s, None, 0),
        Decoded::Value(v) => Entry::new_value(b"k", v, None, 0),
    };
    let Some(object) = encode_entry(&entry) else {
        return;
    };
    let again = match decode_object(&object, &limits) {
        Some(Decoded::Str(s)) => Entry::new_string(b"k", &s, None, 0),
        Some(Decoded::Value(v)) => Entry::new_value(b"k", v, None, 0),
        None => panic!("Moon cannot read back its own DUMP of {entry:?}"),
    };
    assert!(entry.same_data(&again), "round trip changed {entry:?} into {again:?}");
});
