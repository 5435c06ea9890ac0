//! The generic per-key family (DEL, EXISTS, EXPIRE*, TTL*, PERSIST, TYPE, RENAME*, TOUCH, OBJECT):
//! table entries and parsers.
//!
//! Invariant: a non-positive relative EXPIRE lowers to `ExpireSpec::At(0)` ("already expired"),
//! a positive one to `ExpireSpec::In(ms)`; absolute times below 1 lower to `At(0)` too.

use bytes::Bytes;
use moon_engine::ir::{ExpireCond, ExpireSpec, Op, OpError, TimeUnit};

use super::args::{err, is, parse_i64, show};
use super::table::{
    CommandSpec, FAST, K_ACCESS, K_DELETE, K_INSERT, K_OW, K_RM, K_RO, K_RW, K_UPDATE, KEYSPACE,
    KeySpec, LOADING, READONLY, STALE, WRITE, doc,
};
use super::{Command, ConnCmd, container_arity};

const G: &str = "generic";
const O1: &str = "O(1)";
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(K_RW | K_UPDATE, 1)];
const RO_ONLY: &[KeySpec] = &[KeySpec::one(K_RO, 1)];
const RM_ALL: &[KeySpec] = &[KeySpec::rest(K_RM | K_DELETE, 1, 1)];
const RO_ALL: &[KeySpec] = &[KeySpec::rest(K_RO, 1, 1)];
const OBJ_KEY: &[KeySpec] = &[KeySpec::one(K_RO, 2)];
const RENAME_KEYS: &[KeySpec] = &[
    KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1),
    KeySpec::one(K_OW | K_UPDATE, 2),
];

const RENAMENX_KEYS: &[KeySpec] = &[
    KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1),
    KeySpec::one(K_OW | K_INSERT, 2),
];

const WF: u32 = WRITE | FAST;
const RF: u32 = READONLY | FAST;

pub static DEL: CommandSpec = CommandSpec::new(
    "del",
    -2,
    WRITE,
    KEYSPACE,
    RM_ALL,
    doc(
        G,
        "1.0.0",
        "Deletes one or more keys.",
        "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
    ),
    del,
).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]);

pub static EXISTS: CommandSpec = CommandSpec::new(
    "exists",
    -2,
    RF,
    KEYSPACE,
    RO_ALL,
    doc(
        G,
        "1.0.0",
        "Determines whether one or more keys exist.",
        "O(N) where N is the number of keys to check.",
    ),
    exists,
)
.tips(&["request_policy:multi_shard", "response_policy:agg_sum"]);

pub static EXPIRE: CommandSpec = CommandSpec::new(
    "expire",
    -3,
    WF,
    KEYSPACE,
    RW_UPDATE,
    doc(
        G,
        "1.0.0",
        "Sets the expiration time of a key in seconds.",
        O1,
    ),
    expire,
);

pub static EXPIREAT: CommandSpec = CommandSpec::new(
    "expireat",
    -3,
    WF,
    KEYSPACE,
    RW_UPDATE,
    doc(
        G,
        "1.2.0",
        "Sets the expiration time of a key to a Unix timestamp.",
        O1,
    ),
    expireat,
);

pub static EXPIRETIME: CommandSpec = CommandSpec::new(
    "expiretime",
    2,
    RF,
    KEYSPACE,
    RO_ACCESS,
    doc(
        G,
        "7.0.0",
        "Returns the expiration time of a key as a Unix timestamp.",
        O1,
    ),
    expiretime,
);

pub static PERSIST: CommandSpec = CommandSpec::new(
    "persist",
    2,
    WF,
    KEYSPACE,
    RW_UPDATE,
    doc(G, "2.2.0", "Removes the expiration time of a key.", O1),
    persist,
);

pub static PEXPIRE: CommandSpec = CommandSpec::new(
    "pexpire",
    -3,
    WF,
    KEYSPACE,
    RW_UPDATE,
    doc(
        G,
        "2.6.0",
        "Sets the expiration time of a key in milliseconds.",
        O1,
    ),
    pexpire,
);

pub static PEXPIREAT: CommandSpec = CommandSpec::new(
    "pexpireat",
    -3,
    WF,
    KEYSPACE,
    RW_UPDATE,
    doc(
        G,
        "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        O1,
    ),
    pexpireat,
);

pub static PEXPIRETIME: CommandSpec = CommandSpec::new(
    "pexpiretime",
    2,
    RF,
    KEYSPACE,
    RO_ACCESS,
    doc(
        G,
        "7.0.0",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        O1,
    ),
    pexpiretime,
);

pub static PTTL: CommandSpec = CommandSpec::new(
    "pttl",
    2,
    RF,
    KEYSPACE,
    RO_ACCESS,
    doc(
        G,
        "2.6.0",
        "Returns the expiration time in milliseconds of a key.",
        O1,
    ),
    pttl,
)
.tips(&["nondeterministic_output"]);

pub static RENAME: CommandSpec = CommandSpec::new(
    "rename",
    3,
    WRITE,
    KEYSPACE,
    RENAME_KEYS,
    doc(
        G,
        "1.0.0",
        "Renames a key and overwrites the destination.",
        O1,
    ),
    rename,
);

pub static RENAMENX: CommandSpec = CommandSpec::new(
    "renamenx",
    3,
    WF,
    KEYSPACE,
    RENAMENX_KEYS,
    doc(
        G,
        "1.0.0",
        "Renames a key only when the target key name doesn't exist.",
        O1,
    ),
    renamenx,
);

pub static TOUCH: CommandSpec = CommandSpec::new(
    "touch",
    -2,
    RF,
    KEYSPACE,
    RO_ALL,
    doc(
        G,
        "3.2.1",
        "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        "O(N) where N is the number of keys that will be touched.",
    ),
    touch,
).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]);

pub static TTL: CommandSpec = CommandSpec::new(
    "ttl",
    2,
    RF,
    KEYSPACE,
    RO_ACCESS,
    doc(
        G,
        "1.0.0",
        "Returns the expiration time in seconds of a key.",
        O1,
    ),
    ttl,
)
.tips(&["nondeterministic_output"]);

pub static TYPE: CommandSpec = CommandSpec::new(
    "type",
    2,
    RF,
    KEYSPACE,
    RO_ONLY,
    doc(
        G,
        "1.0.0",
        "Determines the type of value stored at a key.",
        O1,
    ),
    type_,
);

pub static UNLINK: CommandSpec = CommandSpec::new(
    "unlink",
    -2,
    WF,
    KEYSPACE,
    RM_ALL,
    doc(
        G,
        "4.0.0",
        "Asynchronously deletes one or more keys.",
        "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
    ),
    del,
).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]);

pub static OBJECT: CommandSpec = CommandSpec::new(
    "object",
    -2,
    0,
    0,
    &[],
    doc(
        G,
        "2.2.3",
        "A container for object introspection commands.",
        "Depends on subcommand.",
    ),
    container_arity,
)
.with_subs(OBJECT_SUBS);

static OBJECT_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "object|encoding",
        3,
        READONLY,
        KEYSPACE,
        OBJ_KEY,
        doc(
            G,
            "2.2.3",
            "Returns the internal encoding of a Redis object.",
            O1,
        ),
        object_encoding,
    )
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "object|freq",
        3,
        READONLY,
        KEYSPACE,
        OBJ_KEY,
        doc(
            G,
            "4.0.0",
            "Returns the logarithmic access frequency counter of a Redis object.",
            O1,
        ),
        object_freq,
    )
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "object|help",
        2,
        LOADING | STALE,
        KEYSPACE,
        &[],
        doc(
            G,
            "6.2.0",
            "Returns helpful text about the different subcommands.",
            O1,
        ),
        object_help,
    ),
    CommandSpec::new(
        "object|idletime",
        3,
        READONLY,
        KEYSPACE,
        OBJ_KEY,
        doc(
            G,
            "2.2.3",
            "Returns the time since the last access to a Redis object.",
            O1,
        ),
        object_idletime,
    )
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "object|refcount",
        3,
        READONLY,
        KEYSPACE,
        OBJ_KEY,
        doc(
            G,
            "2.2.3",
            "Returns the reference count of a value of a key.",
            O1,
        ),
        object_refcount,
    )
    .tips(&["nondeterministic_output"]),
];

fn op(op: Op) -> Result<Command, OpError> {
    Ok(Command::Op(op))
}

fn key(a: &[Bytes], i: usize) -> Bytes {
    a[i].clone()
}

fn del(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Del {
        keys: a[1..].to_vec(),
    })
}

fn exists(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Exists {
        keys: a[1..].to_vec(),
    })
}

fn touch(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Touch {
        keys: a[1..].to_vec(),
    })
}

fn ttl(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Ttl {
        key: key(a, 1),
        unit: TimeUnit::Seconds,
    })
}

fn pttl(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Ttl {
        key: key(a, 1),
        unit: TimeUnit::Millis,
    })
}

fn expiretime(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::ExpireTime {
        key: key(a, 1),
        unit: TimeUnit::Seconds,
    })
}

fn pexpiretime(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::ExpireTime {
        key: key(a, 1),
        unit: TimeUnit::Millis,
    })
}

fn persist(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Persist { key: key(a, 1) })
}

fn type_(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Type { key: key(a, 1) })
}

fn rename(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Rename {
        src: key(a, 1),
        dst: key(a, 2),
        nx: false,
    })
}

fn renamenx(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Rename {
        src: key(a, 1),
        dst: key(a, 2),
        nx: true,
    })
}

fn expire(a: &[Bytes]) -> Result<Command, OpError> {
    expire_generic(a, true, false)
}

fn pexpire(a: &[Bytes]) -> Result<Command, OpError> {
    expire_generic(a, false, false)
}

fn expireat(a: &[Bytes]) -> Result<Command, OpError> {
    expire_generic(a, true, true)
}

fn pexpireat(a: &[Bytes]) -> Result<Command, OpError> {
    expire_generic(a, false, true)
}

/// NX/XX/GT/LT as `parseExtendedExpireArgumentsOrReply` reads them.
fn expire_cond(opts: &[Bytes]) -> Result<ExpireCond, OpError> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in opts {
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "gt") {
            gt = true;
        } else if is(opt, "lt") {
            lt = true;
        } else {
            return Err(err(format!("Unsupported option {}", show(opt))));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(err("GT and LT options at the same time are not compatible"));
    }
    Ok(match (nx, xx, gt, lt) {
        (true, ..) => ExpireCond::Nx,
        // GT never sets a TTL on a persistent key, so XX adds nothing to it.
        (_, _, true, _) => ExpireCond::Gt,
        (_, true, _, true) => ExpireCond::XxLt,
        (_, _, _, true) => ExpireCond::Lt,
        (_, true, ..) => ExpireCond::Xx,
        _ => ExpireCond::Always,
    })
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (`expireGenericCommand`): options first, then the
/// integer, then the unit-conversion overflow check.
fn expire_generic(a: &[Bytes], seconds: bool, absolute: bool) -> Result<Command, OpError> {
    let cond = expire_cond(&a[3..])?;
    let when = parse_i64(&a[2]).ok_or(OpError::NotInteger)?;
    let name = match (seconds, absolute) {
        (true, false) => "expire",
        (false, false) => "pexpire",
        (true, true) => "expireat",
        (false, true) => "pexpireat",
    };
    let ms = if seconds {
        when.checked_mul(1000)
            .ok_or(OpError::InvalidExpireTime(name))?
    } else {
        when
    };
    let at = match u64::try_from(ms) {
        Ok(ms) if ms > 0 && !absolute => ExpireSpec::In(ms),
        Ok(ms) if ms > 0 => ExpireSpec::At(ms),
        // Zero or negative: already expired.
        _ => ExpireSpec::At(0),
    };
    op(Op::Expire {
        key: key(a, 1),
        at,
        cond,
        cmd: name,
    })
}

fn object_encoding(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::ObjectEncoding { key: key(a, 2) })
}

fn object_freq(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::ObjectFreq { key: key(a, 2) })
}

fn object_idletime(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::ObjectIdletime { key: key(a, 2) })
}

fn object_refcount(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::ObjectRefcount { key: key(a, 2) })
}

fn object_help(_: &[Bytes]) -> Result<Command, OpError> {
    Ok(Command::Conn(ConnCmd::ObjectHelp))
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
