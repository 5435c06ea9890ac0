//! Table entries and parsers of DUMP and RESTORE.
//!
//! RESTORE's options are parsed in `restoreCommand`'s order and with its texts; the TTL
//! argument is only converted here, because Redis reports a non-integer TTL after the BUSYKEY
//! check, which needs the keyspace (the shard does it).

use bytes::Bytes;
use moon_engine::ir::ops::DumpOp;
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::args::{err, is, parse_i64};
use super::table::{
    CommandSpec, DANGEROUS, DENYOOM, K_ACCESS, K_OW, K_RO, K_UPDATE, KEYSPACE, KeySpec, READONLY,
    WRITE, doc,
};

const G: &str = "generic";

pub static DUMP: CommandSpec = CommandSpec::new(
    "dump",
    2,
    READONLY,
    KEYSPACE,
    &[KeySpec::one(K_RO | K_ACCESS, 1)],
    doc(
        G,
        "2.6.0",
        "Returns a serialized representation of the value stored at a key.",
        "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    ),
    dump,
)
.tips(&["nondeterministic_output"]);

pub static RESTORE: CommandSpec = CommandSpec::new(
    "restore",
    -4,
    WRITE | DENYOOM,
    KEYSPACE | DANGEROUS,
    &[KeySpec::one(K_OW | K_UPDATE, 1)],
    doc(
        G,
        "2.6.0",
        "Creates a key from the serialized representation of a value.",
        "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
    ),
    restore,
);

/// Every command of the family.
pub static COMMANDS: &[&CommandSpec] = &[&DUMP, &RESTORE];

fn dump(a: &[Bytes]) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Dump(DumpOp::Dump { key: a[1].clone() })))
}

fn restore(a: &[Bytes]) -> Result<Command, OpError> {
    let mut replace = false;
    let mut abs_ttl = false;
    let mut idle_secs = None;
    let mut freq = None;
    let mut j = 4;
    while j < a.len() {
        let more = a.len() - j - 1;
        let arg = &a[j];
        if is(arg, "replace") {
            replace = true;
        } else if is(arg, "absttl") {
            abs_ttl = true;
        } else if is(arg, "idletime") && more >= 1 && freq.is_none() {
            let v = parse_i64(&a[j + 1]).ok_or(OpError::NotInteger)?;
            if v < 0 {
                return Err(err("Invalid IDLETIME value, must be >= 0"));
            }
            idle_secs = Some(v as u64);
            j += 1;
        } else if is(arg, "freq") && more >= 1 && idle_secs.is_none() {
            let v = parse_i64(&a[j + 1]).ok_or(OpError::NotInteger)?;
            let v =
                u8::try_from(v).map_err(|_| err("Invalid FREQ value, must be >= 0 and <= 255"))?;
            freq = Some(v);
            j += 1;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    Ok(Command::Op(Op::Dump(DumpOp::Restore {
        key: a[1].clone(),
        ttl: parse_i64(&a[2]),
        payload: a[3].clone(),
        replace,
        abs_ttl,
        idle_secs,
        freq,
    })))
}

#[cfg(test)]
#[path = "dump_tests.rs"]
mod tests;
