//! Fuzzes command lowering (`moon_resp::commands::parse`): the argument parsers of every
//! command family, which see untrusted arguments straight from the network.
//!
//! The input is split into arguments at `0xFF` bytes; the first argument picks a command from
//! the table (by index, so every family is reached quickly) unless it already names one. The
//! check is "never panics"; the result is also run through the op's key listing and routing,
//! which the server calls on every parsed op.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use moon_resp::commands::{Command, parse, table};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut args: Vec<Bytes> = rest
        .split(|&b| b == 0xFF)
        .map(Bytes::copy_from_slice)
        .collect();
    let all = table::all();
    if let Some(spec) = all.get(usize::from(pick) % all.len().max(1)) {
        let mut name: Vec<Bytes> = spec
            .name
            .split('|')
            .map(|p| Bytes::copy_from_slice(p.as_bytes()))
            .collect();
        name.append(&mut args);
        args = name;
    }
    if let Ok(Command::Op(op)) = parse(&args) {
        let _ = op.keys();
        let _ = op.routing();
        let _ = op.is_write();
        let _ = op.blocking();
    }
});
