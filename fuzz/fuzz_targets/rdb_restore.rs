//! Fuzzes RESTORE's payload decoder with arbitrary bytes (both as a whole payload, footer
//! included, and as a bare RDB object).
//!
//! Checks, beyond "never panics": an object that decodes re-encodes as Moon's files hold it
//! (`encode_entry_image`: snapshots, WAL images) to an object that decodes to the same value,
//! so a restart changes nothing; and its DUMP encoding (7.0's layout, which by design drops a
//! stream consumer's active time) is stable: a DUMP-restored value survives DUMP unchanged.
//! Moon never produces a payload it cannot read back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_engine::cmd::dump::codec::{Decoded, decode_object, encode_entry, encode_entry_image};
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
    if let Some(object) = encode_entry_image(&entry) {
        let again = read_back(&object, &limits, &entry);
        assert!(
            entry.same_data(&again),
            "round trip changed {entry:?} into {again:?}"
        );
    }
    if let Some(dump) = encode_entry(&entry) {
        let once = read_back(&dump, &limits, &entry);
        let dump = encode_entry(&once).expect("a DUMP-restored value dumps");
        let twice = read_back(&dump, &limits, &once);
        assert!(once.same_data(&twice), "DUMP of {once:?} gave {twice:?}");
    }
});

fn read_back(object: &[u8], limits: &TypeLimits, entry: &Entry) -> Entry {
    match decode_object(object, limits) {
        Some(Decoded::Str(s)) => Entry::new_string(b"k", &s, None, 0),
        Some(Decoded::Value(v)) => Entry::new_value(b"k", v, None, 0),
        None => panic!("Moon cannot read back its own encoding of {entry:?}"),
    }
}
