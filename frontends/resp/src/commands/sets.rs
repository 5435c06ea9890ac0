//! Table entries and parsers of the set commands (SADD ... SSCAN), with Redis 7.2's arities,
//! flags, key specs, docs and `t_set.c`'s error texts.
//!
//! Invariants: parsers index `args` only within the arity they are registered with; every
//! number goes through Redis's strict parsers; SSCAN's option errors travel inside the op
//! because Redis reports them only after the key lookup (a missing key answers an empty scan
//! whatever the options are).

use bytes::Bytes;
use moon_engine::ir::ops::SetOp;
use moon_engine::ir::ops::sets::{ScanOpts, SetAlgebra};
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::args::{err, is, parse_cursor, parse_i64};
use super::table::{
    CommandSpec, DENYOOM, FAST, GetKeysProc, K_ACCESS, K_DELETE, K_INSERT, K_OW, K_RO, K_RW,
    K_UPDATE, KeySpec, READONLY, SET, WRITE, doc,
};

const G: &str = "set";
const O1: &str = "O(1)";
const RO_ONE: &[KeySpec] = &[KeySpec::one(K_RO, 1)];
const RO_ACCESS_ONE: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const RO_ACCESS_ALL: &[KeySpec] = &[KeySpec::rest(K_RO | K_ACCESS, 1, 1)];
const INTER: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const UNION: &str = "O(N) where N is the total number of elements in all given sets.";

/// Key specs of a STORE form: the destination with `dst_flags`, then every source.
const fn store_specs(dst_flags: u32) -> [KeySpec; 2] {
    [
        KeySpec::one(dst_flags, 1),
        KeySpec::rest(K_RO | K_ACCESS, 2, 1),
    ]
}
const INTERSTORE_SPECS: [KeySpec; 2] = store_specs(K_RW | K_UPDATE);
const OWSTORE_SPECS: [KeySpec; 2] = store_specs(K_OW | K_UPDATE);

pub static SADD: CommandSpec = CommandSpec::new(
    "sadd",
    -3,
    WRITE | DENYOOM | FAST,
    SET,
    &[KeySpec::one(K_RW | K_INSERT, 1)],
    doc(
        G,
        "1.0.0",
        "Adds one or more members to a set. Creates the key if it doesn't exist.",
        "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    ),
    sadd,
);

pub static SCARD: CommandSpec = CommandSpec::new(
    "scard",
    2,
    READONLY | FAST,
    SET,
    RO_ONE,
    doc(G, "1.0.0", "Returns the number of members in a set.", O1),
    scard,
);

pub static SDIFF: CommandSpec = CommandSpec::new(
    "sdiff",
    -2,
    READONLY,
    SET,
    RO_ACCESS_ALL,
    doc(
        G,
        "1.0.0",
        "Returns the difference of multiple sets.",
        UNION,
    ),
    sdiff,
)
.tips(&["nondeterministic_output_order"]);

pub static SDIFFSTORE: CommandSpec = CommandSpec::new(
    "sdiffstore",
    -3,
    WRITE | DENYOOM,
    SET,
    &OWSTORE_SPECS,
    doc(
        G,
        "1.0.0",
        "Stores the difference of multiple sets in a key.",
        UNION,
    ),
    sdiffstore,
);

pub static SINTER: CommandSpec = CommandSpec::new(
    "sinter",
    -2,
    READONLY,
    SET,
    RO_ACCESS_ALL,
    doc(G, "1.0.0", "Returns the intersect of multiple sets.", INTER),
    sinter,
)
.tips(&["nondeterministic_output_order"]);

/// The keys are counted by `numkeys` (a `keynum` spec, hence `movablekeys`).
pub static SINTERCARD: CommandSpec = CommandSpec::new(
    "sintercard",
    -3,
    READONLY,
    SET,
    &[KeySpec::numkeys(K_RO | K_ACCESS, 1)],
    doc(
        G,
        "7.0.0",
        "Returns the number of members of the intersect of multiple sets.",
        INTER,
    ),
    sintercard,
)
.getkeys(GetKeysProc::Numkeys {
    store: 0,
    count: 1,
    first: 2,
});

pub static SINTERSTORE: CommandSpec = CommandSpec::new(
    "sinterstore",
    -3,
    WRITE | DENYOOM,
    SET,
    &INTERSTORE_SPECS,
    doc(
        G,
        "1.0.0",
        "Stores the intersect of multiple sets in a key.",
        INTER,
    ),
    sinterstore,
);

pub static SISMEMBER: CommandSpec = CommandSpec::new(
    "sismember",
    3,
    READONLY | FAST,
    SET,
    RO_ONE,
    doc(
        G,
        "1.0.0",
        "Determines whether a member belongs to a set.",
        O1,
    ),
    sismember,
);

pub static SMEMBERS: CommandSpec = CommandSpec::new(
    "smembers",
    2,
    READONLY,
    SET,
    RO_ACCESS_ONE,
    doc(
        G,
        "1.0.0",
        "Returns all members of a set.",
        "O(N) where N is the set cardinality.",
    ),
    smembers,
)
.tips(&["nondeterministic_output_order"]);

pub static SMISMEMBER: CommandSpec = CommandSpec::new(
    "smismember",
    -3,
    READONLY | FAST,
    SET,
    RO_ACCESS_ONE,
    doc(
        G,
        "6.2.0",
        "Determines whether multiple members belong to a set.",
        "O(N) where N is the number of elements being checked for membership",
    ),
    smismember,
);

pub static SMOVE: CommandSpec = CommandSpec::new(
    "smove",
    4,
    WRITE | FAST,
    SET,
    &[
        KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1),
        KeySpec::one(K_RW | K_INSERT, 2),
    ],
    doc(G, "1.0.0", "Moves a member from one set to another.", O1),
    smove,
);

pub static SPOP: CommandSpec = CommandSpec::new(
    "spop",
    -2,
    WRITE | FAST,
    SET,
    &[KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1)],
    doc(
        G,
        "1.0.0",
        "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
    ),
    spop,
).tips(&["nondeterministic_output"]);

pub static SRANDMEMBER: CommandSpec = CommandSpec::new(
    "srandmember",
    -2,
    READONLY,
    SET,
    RO_ACCESS_ONE,
    doc(
        G,
        "1.0.0",
        "Get one or multiple random members from a set",
        "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
    ),
    srandmember,
).tips(&["nondeterministic_output"]);

pub static SREM: CommandSpec = CommandSpec::new(
    "srem",
    -3,
    WRITE | FAST,
    SET,
    &[KeySpec::one(K_RW | K_DELETE, 1)],
    doc(
        G,
        "1.0.0",
        "Removes one or more members from a set. Deletes the set if the last member was removed.",
        "O(N) where N is the number of members to be removed.",
    ),
    srem,
);

pub static SSCAN: CommandSpec = CommandSpec::new(
    "sscan",
    -3,
    READONLY,
    SET,
    RO_ACCESS_ONE,
    doc(
        G,
        "2.8.0",
        "Iterates over members of a set.",
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    ),
    sscan,
).tips(&["nondeterministic_output"]);

pub static SUNION: CommandSpec = CommandSpec::new(
    "sunion",
    -2,
    READONLY,
    SET,
    RO_ACCESS_ALL,
    doc(G, "1.0.0", "Returns the union of multiple sets.", UNION),
    sunion,
)
.tips(&["nondeterministic_output_order"]);

pub static SUNIONSTORE: CommandSpec = CommandSpec::new(
    "sunionstore",
    -3,
    WRITE | DENYOOM,
    SET,
    &OWSTORE_SPECS,
    doc(
        G,
        "1.0.0",
        "Stores the union of multiple sets in a key.",
        UNION,
    ),
    sunionstore,
);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &SADD,
    &SCARD,
    &SDIFF,
    &SDIFFSTORE,
    &SINTER,
    &SINTERCARD,
    &SINTERSTORE,
    &SISMEMBER,
    &SMEMBERS,
    &SMISMEMBER,
    &SMOVE,
    &SPOP,
    &SRANDMEMBER,
    &SREM,
    &SSCAN,
    &SUNION,
    &SUNIONSTORE,
];

fn op(op: SetOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Sets(op)))
}

fn key(a: &[Bytes]) -> Bytes {
    a.get(1).cloned().unwrap_or_default()
}

fn rest(a: &[Bytes], from: usize) -> Vec<Bytes> {
    a.get(from..).map(<[Bytes]>::to_vec).unwrap_or_default()
}

fn sadd(a: &[Bytes]) -> Result<Command, OpError> {
    op(SetOp::Add {
        key: key(a),
        members: rest(a, 2),
    })
}

fn srem(a: &[Bytes]) -> Result<Command, OpError> {
    op(SetOp::Rem {
        key: key(a),
        members: rest(a, 2),
    })
}

fn scard(a: &[Bytes]) -> Result<Command, OpError> {
    op(SetOp::Card { key: key(a) })
}

fn sismember(a: &[Bytes]) -> Result<Command, OpError> {
    op(SetOp::IsMember {
        key: key(a),
        member: a.get(2).cloned().unwrap_or_default(),
    })
}

fn smismember(a: &[Bytes]) -> Result<Command, OpError> {
    op(SetOp::MIsMember {
        key: key(a),
        members: rest(a, 2),
    })
}

fn smembers(a: &[Bytes]) -> Result<Command, OpError> {
    op(SetOp::Members { key: key(a) })
}

fn srandmember(a: &[Bytes]) -> Result<Command, OpError> {
    let count = match a.len() {
        2 => None,
        3 => {
            let v = parse_i64(&a[2]).ok_or(OpError::NotInteger)?;
            if v == i64::MIN {
                return Err(err(
                    "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
            Some(v)
        }
        _ => return Err(OpError::Syntax),
    };
    op(SetOp::RandMember { key: key(a), count })
}

fn spop(a: &[Bytes]) -> Result<Command, OpError> {
    let count = match a.len() {
        2 => None,
        3 => {
            let v = parse_i64(&a[2])
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| err("value is out of range, must be positive"))?;
            Some(v)
        }
        _ => return Err(OpError::Syntax),
    };
    op(SetOp::Pop { key: key(a), count })
}

fn smove(a: &[Bytes]) -> Result<Command, OpError> {
    op(SetOp::Move {
        src: key(a),
        dst: a.get(2).cloned().unwrap_or_default(),
        member: a.get(3).cloned().unwrap_or_default(),
    })
}

fn combine(op_kind: SetAlgebra, a: &[Bytes], store: bool) -> Result<Command, OpError> {
    let (dst, keys) = if store {
        (Some(key(a)), rest(a, 2))
    } else {
        (None, rest(a, 1))
    };
    op(SetOp::Combine {
        op: op_kind,
        dst,
        keys,
    })
}

fn sinter(a: &[Bytes]) -> Result<Command, OpError> {
    combine(SetAlgebra::Inter, a, false)
}

fn sinterstore(a: &[Bytes]) -> Result<Command, OpError> {
    combine(SetAlgebra::Inter, a, true)
}

fn sunion(a: &[Bytes]) -> Result<Command, OpError> {
    combine(SetAlgebra::Union, a, false)
}

fn sunionstore(a: &[Bytes]) -> Result<Command, OpError> {
    combine(SetAlgebra::Union, a, true)
}

fn sdiff(a: &[Bytes]) -> Result<Command, OpError> {
    combine(SetAlgebra::Diff, a, false)
}

fn sdiffstore(a: &[Bytes]) -> Result<Command, OpError> {
    combine(SetAlgebra::Diff, a, true)
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]` (`sinterCardCommand`).
fn sintercard(a: &[Bytes]) -> Result<Command, OpError> {
    let numkeys = parse_i64(&a[1])
        .filter(|&n| n >= 1)
        .ok_or_else(|| err("numkeys should be greater than 0"))?;
    let available = a.len() - 2;
    let numkeys = usize::try_from(numkeys)
        .ok()
        .filter(|&n| n <= available)
        .ok_or_else(|| err("Number of keys can't be greater than number of args"))?;
    let keys = a[2..2 + numkeys].to_vec();
    let mut limit = 0u64;
    let mut j = 2 + numkeys;
    while j < a.len() {
        match a.get(j + 1) {
            Some(value) if is(&a[j], "limit") => {
                limit = parse_i64(value)
                    .and_then(|v| u64::try_from(v).ok())
                    .ok_or_else(|| err("LIMIT can't be negative"))?;
                j += 2;
            }
            _ => return Err(OpError::Syntax),
        }
    }
    op(SetOp::InterCard { keys, limit })
}

/// SSCAN's options (`scanGenericCommand` with a key): COUNT and MATCH only.
fn scan_opts(a: &[Bytes]) -> Result<ScanOpts, OpError> {
    let mut opts = ScanOpts {
        pattern: None,
        count: 10,
    };
    let mut i = 0;
    while i < a.len() {
        let (opt, value) = match a.get(i + 1) {
            Some(value) => (&a[i], value),
            None => return Err(OpError::Syntax),
        };
        if is(opt, "count") {
            let n = parse_i64(value).ok_or(OpError::NotInteger)?;
            opts.count = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(OpError::Syntax)?;
        } else if is(opt, "match") {
            opts.pattern = (value.as_ref() != b"*").then(|| value.clone());
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    Ok(opts)
}

fn sscan(a: &[Bytes]) -> Result<Command, OpError> {
    let cursor = parse_cursor(&a[2]).ok_or_else(|| err("invalid cursor"))?;
    op(SetOp::Scan {
        key: key(a),
        cursor,
        opts: scan_opts(a.get(3..).unwrap_or(&[])),
    })
}

#[cfg(test)]
#[path = "sets_tests.rs"]
mod tests;
