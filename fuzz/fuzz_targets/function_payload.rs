//! Fuzzes FUNCTION RESTORE's payload decoder with arbitrary bytes, both as given (footer
//! included) and sealed with a valid version and CRC64 (so the fuzzer reaches the library
//! records instead of stopping at the checksum).
//!
//! Checks, beyond "never panics": libraries that decode re-encode (FUNCTION DUMP) to a payload
//! that decodes to the same libraries.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_engine::functions::{decode_dump_payload, dump_payload};
use moon_formats::rdb;

fuzz_target!(|data: &[u8]| {
    let _ = decode_dump_payload(data);
    let sealed = rdb::seal_payload(data.to_vec());
    let Ok(libs) = decode_dump_payload(&sealed) else {
        return;
    };
    let again = dump_payload(libs.iter().map(|(_, code)| code));
    let back = decode_dump_payload(&again).expect("Moon reads back its own FUNCTION DUMP");
    assert_eq!(libs, back);
});
