//! Fuzzes the FUNCTION library shebang parser (`#!lua name=<lib> ...`, Redis's
//! `functionExtractLibMetaData`), which reads the first line of FUNCTION LOAD's untrusted code
//! before any Lua runs.
//!
//! Checks, beyond "never panics": an accepted library has a name that passes Redis's
//! library-name check and an engine named in the code's first line; refusals are `ERR` texts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_engine::functions::{is_valid_library_name, parse_metadata};
use moon_engine::ir::OpError;

fuzz_target!(|data: &[u8]| {
    match parse_metadata(data) {
        Ok(meta) => {
            assert!(is_valid_library_name(&meta.name), "accepted {meta:?}");
            assert!(data.starts_with(b"#!"));
            let first_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
            assert!(
                first_line
                    .windows(meta.engine.len().max(1))
                    .any(|w| w.eq_ignore_ascii_case(&meta.engine)),
                "engine {meta:?} not in the first line"
            );
        }
        Err(OpError::Other(text)) => assert!(text.starts_with("ERR "), "{text}"),
        Err(other) => panic!("unexpected error kind {other:?}"),
    }
});
