//! Table entries and parsers of the HyperLogLog commands (PFADD, PFCOUNT, PFMERGE).
//!
//! Invariant: the parsers only split arguments (every byte string is a valid element or key);
//! all validation of the stored values happens in the shard.

use bytes::Bytes;
use moon_engine::ir::ops::HllOp;
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::table::{
    CommandSpec, DENYOOM, FAST, HYPERLOGLOG, K_ACCESS, K_INSERT, K_RO, K_RW, KeySpec, READONLY,
    WRITE, doc,
};

const G: &str = "hyperloglog";

pub static PFADD: CommandSpec = CommandSpec::new(
    "pfadd",
    -2,
    WRITE | DENYOOM | FAST,
    HYPERLOGLOG,
    &[KeySpec::one(K_RW | K_INSERT, 1)],
    doc(
        G,
        "2.8.9",
        "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
        "O(1) to add every element.",
    ),
    pfadd,
);

pub static PFCOUNT: CommandSpec = CommandSpec::new(
    "pfcount",
    -2,
    READONLY,
    HYPERLOGLOG,
    &[KeySpec {
        notes: Some(
            "RW because it may change the internal representation of the key, and propagate to replicas",
        ),
        ..KeySpec::rest(K_RW | K_ACCESS, 1, 1)
    }],
    doc(
        G,
        "2.8.9",
        "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).",
        "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
    ),
    pfcount,
);

pub static PFMERGE: CommandSpec = CommandSpec::new(
    "pfmerge",
    -2,
    WRITE | DENYOOM,
    HYPERLOGLOG,
    &[
        KeySpec::one(K_RW | K_ACCESS | K_INSERT, 1),
        KeySpec::rest(K_RO | K_ACCESS, 2, 1),
    ],
    doc(
        G,
        "2.8.9",
        "Merges one or more HyperLogLog values into a single key.",
        "O(N) to merge N HyperLogLogs, but with high constant times.",
    ),
    pfmerge,
);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[&PFADD, &PFCOUNT, &PFMERGE];

fn op(op: HllOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Hll(op)))
}

fn pfadd(a: &[Bytes]) -> Result<Command, OpError> {
    op(HllOp::PfAdd {
        key: a[1].clone(),
        elements: a[2..].to_vec(),
    })
}

fn pfcount(a: &[Bytes]) -> Result<Command, OpError> {
    op(HllOp::PfCount {
        keys: a[1..].to_vec(),
    })
}

fn pfmerge(a: &[Bytes]) -> Result<Command, OpError> {
    op(HllOp::PfMerge {
        dest: a[1].clone(),
        sources: a[2..].to_vec(),
    })
}

#[cfg(test)]
#[path = "hll_tests.rs"]
mod tests;
