//! Fuzzes the RDB container decoders RESTORE and snapshot loading reach inside objects —
//! listpack, ziplist, zipmap, intset and LZF — directly, so the fuzzer does not first have to
//! forge a whole object around them.
//!
//! Checks, beyond "never panics": whatever a decoder accepts, Moon's encoder writes back to
//! bytes that decode to the same elements (listpack, intset), and LZF compression of the input
//! decompresses to the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_formats::rdb::{intset, listpack, lzf, ziplist};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    match sel % 5 {
        0 => {
            let Some(entries) = listpack::parse(body) else {
                return;
            };
            let mut b = listpack::Builder::new();
            for e in &entries {
                match e {
                    listpack::LpEntry::Int(i) => b.push_int(*i),
                    listpack::LpEntry::Str(s) => b.push_str(s),
                }
            }
            let again = b.finish();
            let back = listpack::parse(&again).expect("Moon reads its own listpack");
            let want: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
            let got: Vec<Vec<u8>> = back.iter().map(|e| e.to_vec()).collect();
            assert_eq!(want, got);
        }
        1 => {
            let _ = ziplist::parse_ziplist(body);
        }
        2 => {
            let _ = ziplist::parse_zipmap(body);
        }
        3 => {
            let Some(members) = intset::parse(body) else {
                return;
            };
            let again = intset::build(&members);
            let mut sorted = members.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(intset::parse(&again), Some(sorted));
        }
        _ => {
            // Declared output length from the first two bytes, as an RDB LZF string carries it.
            let [a, b, rest @ ..] = body else {
                return;
            };
            let out_len = usize::from(u16::from_le_bytes([*a, *b]));
            if let Some(out) = lzf::decompress(rest, out_len) {
                assert_eq!(out.len(), out_len);
            }
            if let Some(packed) = lzf::compress(rest, rest.len()) {
                assert_eq!(lzf::decompress(&packed, rest.len()).as_deref(), Some(rest));
            }
        }
    }
});
