//! Fuzzes the inline-command parser: Redis's `sdssplitargs` (`moon_engine::splitargs`, shared
//! with the FUNCTION shebang parser) directly, and the inline path of the RESP parser.
//!
//! Checks, beyond "never panics": any argument list that splits re-splits to itself once
//! written back fully quoted (every byte but alphanumerics as `\xHH`), so quoting and escapes
//! are lossless; and a line sent inline (`<line>\r\n`) parses to exactly what `split_args`
//! makes of it, or to "unbalanced quotes" when `split_args` refuses it.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use moon_engine::splitargs::split_args;
use moon_resp::codec::{ProtocolError, parse_command};
use moon_resp::limits::Limits;

fuzz_target!(|data: &[u8]| {
    let split = split_args(data);
    if let Some(args) = &split {
        assert_eq!(split_args(&quote_all(args)).as_ref(), Some(args));
    }

    // The inline parser sees the line up to its first LF (before any NUL) and never a `*`.
    if data.first() == Some(&b'*') || data.iter().any(|&b| matches!(b, b'\n' | b'\r' | 0)) {
        return;
    }
    let mut wire = BytesMut::from(data);
    wire.extend_from_slice(b"\r\n");
    match (parse_command(&mut wire, &Limits::default()), split) {
        (Ok(Some(parsed)), Some(args)) => {
            let parsed: Vec<Vec<u8>> = parsed.iter().map(|a| a.to_vec()).collect();
            assert_eq!(parsed, args);
            assert!(wire.is_empty());
        }
        (Err(ProtocolError::UnbalancedQuotes), None) => {}
        // Over the inline length bound: refused before splitting.
        (Err(ProtocolError::TooBigInline), _) => {}
        (got, want) => panic!("inline parse {got:?}, split_args {want:?}"),
    }
});

fn quote_all(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for arg in args {
        out.extend_from_slice(b" \"");
        for &b in arg {
            if b.is_ascii_alphanumeric() {
                out.push(b);
            } else {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            }
        }
        out.push(b'"');
    }
    out
}
