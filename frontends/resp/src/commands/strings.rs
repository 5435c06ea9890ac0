//! The string family apart from SET and its relatives (see `set.rs`): GET, MGET, MSET, the
//! counters, ranges, APPEND, LCS. Table entries and parsers, with t_string.c's error texts.
//!
//! Invariant: every integer argument goes through Redis's strict `string2ll` rules.

use bytes::Bytes;
use moon_engine::ir::{LcsMode, Op, OpError};

use super::Command;
use super::args::{arity_err, err, int, is, parse_f64};
use super::table::{
    CommandSpec, DENYOOM, FAST, K_ACCESS, K_DELETE, K_INSERT, K_OW, K_RO, K_RW, K_UPDATE, KeySpec,
    READONLY, STRING, WRITE, doc,
};

const G: &str = "string";

const O1: &str = "O(1)";

const RO_ACCESS: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];

const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(K_RW | K_ACCESS | K_UPDATE, 1)];

const SUBSTR_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

pub static APPEND: CommandSpec = CommandSpec::new(
    "append",
    3,
    WRITE | DENYOOM | FAST,
    STRING,
    &[KeySpec::one(K_RW | K_INSERT, 1)],
    doc(
        G,
        "2.0.0",
        "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
    ),
    append,
);

pub static DECR: CommandSpec = CommandSpec::new(
    "decr",
    2,
    WRITE | DENYOOM | FAST,
    STRING,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        O1,
    ),
    decr,
);

pub static DECRBY: CommandSpec = CommandSpec::new(
    "decrby",
    3,
    WRITE | DENYOOM | FAST,
    STRING,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        O1,
    ),
    decrby,
);

pub static GET: CommandSpec = CommandSpec::new(
    "get",
    2,
    READONLY | FAST,
    STRING,
    RO_ACCESS,
    doc(G, "1.0.0", "Returns the string value of a key.", O1),
    get,
);

pub static GETDEL: CommandSpec = CommandSpec::new(
    "getdel",
    2,
    WRITE | FAST,
    STRING,
    &[KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1)],
    doc(
        G,
        "6.2.0",
        "Returns the string value of a key after deleting the key.",
        O1,
    ),
    getdel,
);

pub static GETRANGE: CommandSpec = CommandSpec::new(
    "getrange",
    4,
    READONLY,
    STRING,
    RO_ACCESS,
    doc(
        G,
        "2.4.0",
        "Returns a substring of the string stored at a key.",
        SUBSTR_COMPLEXITY,
    ),
    getrange,
);

pub static INCR: CommandSpec = CommandSpec::new(
    "incr",
    2,
    WRITE | DENYOOM | FAST,
    STRING,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        O1,
    ),
    incr,
);

pub static INCRBY: CommandSpec = CommandSpec::new(
    "incrby",
    3,
    WRITE | DENYOOM | FAST,
    STRING,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        O1,
    ),
    incrby,
);

pub static INCRBYFLOAT: CommandSpec = CommandSpec::new(
    "incrbyfloat",
    3,
    WRITE | DENYOOM | FAST,
    STRING,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "2.6.0",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        O1,
    ),
    incrbyfloat,
);

pub static LCS: CommandSpec = CommandSpec::new(
    "lcs",
    -3,
    READONLY,
    STRING,
    &[KeySpec::range(K_RO | K_ACCESS, 1, 1, 1, 0)],
    doc(
        G,
        "7.0.0",
        "Finds the longest common substring.",
        "O(N*M) where N and M are the lengths of s1 and s2, respectively",
    ),
    lcs,
);

pub static MGET: CommandSpec = CommandSpec::new(
    "mget",
    -2,
    READONLY | FAST,
    STRING,
    &[KeySpec::rest(K_RO | K_ACCESS, 1, 1)],
    doc(
        G,
        "1.0.0",
        "Atomically returns the string values of one or more keys.",
        "O(N) where N is the number of keys to retrieve.",
    ),
    mget,
)
.tips(&["request_policy:multi_shard"]);

pub static MSET: CommandSpec = CommandSpec::new(
    "mset",
    -3,
    WRITE | DENYOOM,
    STRING,
    &[KeySpec::rest(K_OW | K_UPDATE, 1, 2)],
    doc(
        G,
        "1.0.1",
        "Atomically creates or modifies the string values of one or more keys.",
        "O(N) where N is the number of keys to set.",
    ),
    mset,
)
.tips(&[
    "request_policy:multi_shard",
    "response_policy:all_succeeded",
]);

pub static MSETNX: CommandSpec = CommandSpec::new(
    "msetnx",
    -3,
    WRITE | DENYOOM,
    STRING,
    &[KeySpec::rest(K_OW | K_INSERT, 1, 2)],
    doc(
        G,
        "1.0.1",
        "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        "O(N) where N is the number of keys to set.",
    ),
    msetnx,
)
.tips(&["request_policy:multi_shard", "response_policy:agg_min"]);

pub static SETNX: CommandSpec = CommandSpec::new(
    "setnx",
    3,
    WRITE | DENYOOM | FAST,
    STRING,
    &[KeySpec::one(K_OW | K_INSERT, 1)],
    doc(
        G,
        "1.0.0",
        "Set the string value of a key only when the key doesn't exist.",
        O1,
    )
    .deprecated("2.6.12", "`SET` with the `NX` argument"),
    setnx,
);

pub static SETRANGE: CommandSpec = CommandSpec::new(
    "setrange",
    4,
    WRITE | DENYOOM,
    STRING,
    &[KeySpec::one(K_RW | K_UPDATE, 1)],
    doc(
        G,
        "2.2.0",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
    ),
    setrange,
);

pub static STRLEN: CommandSpec = CommandSpec::new(
    "strlen",
    2,
    READONLY | FAST,
    STRING,
    &[KeySpec::one(K_RO, 1)],
    doc(G, "2.2.0", "Returns the length of a string value.", O1),
    strlen,
);

pub static SUBSTR: CommandSpec = CommandSpec::new(
    "substr",
    4,
    READONLY,
    STRING,
    RO_ACCESS,
    doc(
        G,
        "1.0.0",
        "Returns a substring from a string value.",
        SUBSTR_COMPLEXITY,
    )
    .deprecated("2.0.0", "`GETRANGE`"),
    getrange,
);

fn op(op: Op) -> Result<Command, OpError> {
    Ok(Command::Op(op))
}

fn get(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Get { key: a[1].clone() })
}

fn getdel(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::GetDel { key: a[1].clone() })
}

fn strlen(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::StrLen { key: a[1].clone() })
}

fn append(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Append {
        key: a[1].clone(),
        value: a[2].clone(),
    })
}

fn setnx(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::SetNx {
        key: a[1].clone(),
        value: a[2].clone(),
    })
}

fn incr(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::IncrBy {
        key: a[1].clone(),
        delta: 1,
    })
}

fn decr(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::IncrBy {
        key: a[1].clone(),
        delta: -1,
    })
}

fn incrby(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::IncrBy {
        key: a[1].clone(),
        delta: int(&a[2])?,
    })
}

fn decrby(a: &[Bytes]) -> Result<Command, OpError> {
    let by = int(&a[2])?;
    let delta = by
        .checked_neg()
        .ok_or_else(|| err("decrement would overflow"))?;
    op(Op::IncrBy {
        key: a[1].clone(),
        delta,
    })
}

fn incrbyfloat(a: &[Bytes]) -> Result<Command, OpError> {
    let delta = parse_f64(&a[2]).ok_or(OpError::NotFloat)?;
    op(Op::IncrByFloat {
        key: a[1].clone(),
        delta,
    })
}

/// GETRANGE and SUBSTR.
fn getrange(a: &[Bytes]) -> Result<Command, OpError> {
    let (start, end) = (int(&a[2])?, int(&a[3])?);
    op(Op::GetRange {
        key: a[1].clone(),
        start,
        end,
    })
}

fn setrange(a: &[Bytes]) -> Result<Command, OpError> {
    let offset = u64::try_from(int(&a[2])?).map_err(|_| OpError::OffsetOutOfRange)?;
    op(Op::SetRange {
        key: a[1].clone(),
        offset,
        value: a[3].clone(),
    })
}

fn mget(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::MGet {
        keys: a[1..].to_vec(),
    })
}

/// `k v [k v ...]` pairs; an odd count is an arity error, as in `msetGenericCommand`.
fn pairs(a: &[Bytes], name: &str) -> Result<Vec<(Bytes, Bytes)>, OpError> {
    if a.len().is_multiple_of(2) {
        return Err(arity_err(name));
    }
    Ok(a[1..]
        .chunks_exact(2)
        .map(|kv| (kv[0].clone(), kv[1].clone()))
        .collect())
}

fn mset(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::MSet {
        pairs: pairs(a, "mset")?,
    })
}

fn msetnx(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::MSetNx {
        pairs: pairs(a, "msetnx")?,
    })
}

fn lcs(a: &[Bytes]) -> Result<Command, OpError> {
    let (mut idx, mut len, mut with_match_len, mut min_match_len) = (false, false, false, 0u64);
    let mut j = 3;
    while j < a.len() {
        let opt = &a[j];
        if is(opt, "idx") {
            idx = true;
        } else if is(opt, "len") {
            len = true;
        } else if is(opt, "withmatchlen") {
            with_match_len = true;
        } else if let (true, Some(arg)) = (is(opt, "minmatchlen"), a.get(j + 1)) {
            // Negative lengths mean "no minimum".
            min_match_len = u64::try_from(int(arg)?).unwrap_or(0);
            j += 1;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    if idx && len {
        return Err(err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let mode = match (idx, len) {
        (true, _) => LcsMode::Idx {
            min_match_len,
            with_match_len,
        },
        (_, true) => LcsMode::Len,
        _ => LcsMode::String,
    };
    op(Op::Lcs {
        key_a: a[1].clone(),
        key_b: a[2].clone(),
        mode,
    })
}

#[cfg(test)]
#[path = "strings_tests.rs"]
mod tests;
