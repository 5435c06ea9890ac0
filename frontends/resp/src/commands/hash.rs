//! Table entries and parsers of hashes, including per-field TTL: HSET, HMSET, HSETNX, HGET,
//! HMGET, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT,
//! HRANDFIELD, HSCAN (Redis 7.2 table), and HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL,
//! HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST (7.4), HGETDEL, HGETEX, HSETEX (8.0), with
//! t_hash.c's error texts.
//!
//! Invariants: every op names exactly its key at argument 1; parsers never index past the
//! arity they are registered with without a bounds check. Redis checks a few of these
//! arguments only after looking the key up (so a WRONGTYPE can win over an argument error);
//! Moon checks every argument first.

use bytes::Bytes;
use moon_engine::ir::ops::HashOp;
use moon_engine::ir::ops::hash::{
    FIELD_EXPIRE_MAX_MS, FieldExpire, FieldTtlKind, HGetExAction, HSetExCond, HSetExTtl, HashPart,
};
use moon_engine::ir::{ExpireCond, Op, OpError};

use super::Command;
use super::args::{arity_err, err, is, parse_cursor, parse_f64, parse_i64, show};
use super::table::{
    CommandSpec, DENYOOM, FAST, HASH, K_ACCESS, K_DELETE, K_INSERT, K_RO, K_RW, K_UPDATE, KeySpec,
    READONLY, WRITE, doc,
};

const G: &str = "hash";
const O1: &str = "O(1)";
const ON_SIZE: &str = "O(N) where N is the size of the hash.";
const ON_FIELDS: &str = "O(N) where N is the number of specified fields";

const RO: &[KeySpec] = &[KeySpec::one(K_RO, 1)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(K_RW | K_UPDATE, 1)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(K_RW | K_ACCESS | K_UPDATE, 1)];

pub static HDEL: CommandSpec = CommandSpec::new(
    "hdel",
    -3,
    WRITE | FAST,
    HASH,
    &[KeySpec::one(K_RW | K_DELETE, 1)],
    doc(
        G,
        "2.0.0",
        "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
        "O(N) where N is the number of fields to be removed.",
    ),
    hdel,
);

pub static HEXISTS: CommandSpec = CommandSpec::new(
    "hexists",
    3,
    READONLY | FAST,
    HASH,
    RO,
    doc(
        G,
        "2.0.0",
        "Determines whether a field exists in a hash.",
        O1,
    ),
    hexists,
);

pub static HEXPIRE: CommandSpec = CommandSpec::new(
    "hexpire",
    -6,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (seconds)",
        ON_FIELDS,
    ),
    hexpire,
);

pub static HEXPIREAT: CommandSpec = CommandSpec::new(
    "hexpireat",
    -6,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (seconds)",
        ON_FIELDS,
    ),
    hexpireat,
);

pub static HEXPIRETIME: CommandSpec = CommandSpec::new(
    "hexpiretime",
    -5,
    READONLY | FAST,
    HASH,
    RO,
    doc(
        G,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in seconds.",
        ON_FIELDS,
    ),
    hexpiretime,
);

pub static HGET: CommandSpec = CommandSpec::new(
    "hget",
    3,
    READONLY | FAST,
    HASH,
    RO_ACCESS,
    doc(G, "2.0.0", "Returns the value of a field in a hash.", O1),
    hget,
);

pub static HGETALL: CommandSpec = CommandSpec::new(
    "hgetall",
    2,
    READONLY,
    HASH,
    RO_ACCESS,
    doc(
        G,
        "2.0.0",
        "Returns all fields and values in a hash.",
        ON_SIZE,
    ),
    hgetall,
)
.tips(&["nondeterministic_output_order"]);

pub static HGETDEL: CommandSpec = CommandSpec::new(
    "hgetdel",
    -5,
    WRITE | FAST,
    HASH,
    &[KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1)],
    doc(
        G,
        "8.0.0",
        "Returns the value of a field and deletes it from the hash.",
        ON_FIELDS,
    ),
    hgetdel,
);

pub static HGETEX: CommandSpec = CommandSpec::new(
    "hgetex",
    -5,
    WRITE | FAST,
    HASH,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "8.0.0",
        "Get the value of one or more fields of a given hash key, and optionally set their expiration.",
        ON_FIELDS,
    ),
    hgetex,
);

pub static HINCRBY: CommandSpec = CommandSpec::new(
    "hincrby",
    4,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "2.0.0",
        "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        O1,
    ),
    hincrby,
);

pub static HINCRBYFLOAT: CommandSpec = CommandSpec::new(
    "hincrbyfloat",
    4,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_ACCESS_UPDATE,
    doc(
        G,
        "2.6.0",
        "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        O1,
    ),
    hincrbyfloat,
);

pub static HKEYS: CommandSpec = CommandSpec::new(
    "hkeys",
    2,
    READONLY,
    HASH,
    RO_ACCESS,
    doc(G, "2.0.0", "Returns all fields in a hash.", ON_SIZE),
    hkeys,
)
.tips(&["nondeterministic_output_order"]);

pub static HLEN: CommandSpec = CommandSpec::new(
    "hlen",
    2,
    READONLY | FAST,
    HASH,
    RO,
    doc(G, "2.0.0", "Returns the number of fields in a hash.", O1),
    hlen,
);

pub static HMGET: CommandSpec = CommandSpec::new(
    "hmget",
    -3,
    READONLY | FAST,
    HASH,
    RO_ACCESS,
    doc(
        G,
        "2.0.0",
        "Returns the values of all fields in a hash.",
        "O(N) where N is the number of fields being requested.",
    ),
    hmget,
);

pub static HMSET: CommandSpec = CommandSpec::new(
    "hmset",
    -4,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "2.0.0",
        "Sets the values of multiple fields.",
        "O(N) where N is the number of fields being set.",
    )
    .deprecated("4.0.0", "`HSET` with multiple field-value pairs"),
    hmset,
);

pub static HPERSIST: CommandSpec = CommandSpec::new(
    "hpersist",
    -5,
    WRITE | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "7.4.0",
        "Removes the expiration time for each specified field",
        ON_FIELDS,
    ),
    hpersist,
);

pub static HPEXPIRE: CommandSpec = CommandSpec::new(
    "hpexpire",
    -6,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "7.4.0",
        "Set expiry for hash field using relative time to expire (milliseconds)",
        ON_FIELDS,
    ),
    hpexpire,
);

pub static HPEXPIREAT: CommandSpec = CommandSpec::new(
    "hpexpireat",
    -6,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "7.4.0",
        "Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
        ON_FIELDS,
    ),
    hpexpireat,
);

pub static HPEXPIRETIME: CommandSpec = CommandSpec::new(
    "hpexpiretime",
    -5,
    READONLY | FAST,
    HASH,
    RO,
    doc(
        G,
        "7.4.0",
        "Returns the expiration time of a hash field as a Unix timestamp, in msec.",
        ON_FIELDS,
    ),
    hpexpiretime,
);

pub static HPTTL: CommandSpec = CommandSpec::new(
    "hpttl",
    -5,
    READONLY | FAST,
    HASH,
    RO,
    doc(
        G,
        "7.4.0",
        "Returns the TTL in milliseconds of a hash field.",
        ON_FIELDS,
    ),
    hpttl,
);

pub static HRANDFIELD: CommandSpec = CommandSpec::new(
    "hrandfield",
    -2,
    READONLY,
    HASH,
    RO_ACCESS,
    doc(
        G,
        "6.2.0",
        "Returns one or more random fields from a hash.",
        "O(N) where N is the number of fields returned",
    ),
    hrandfield,
)
.tips(&["nondeterministic_output"]);

pub static HSCAN: CommandSpec = CommandSpec::new(
    "hscan",
    -3,
    READONLY,
    HASH,
    RO_ACCESS,
    doc(
        G,
        "2.8.0",
        "Iterates over fields and values of a hash.",
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    ),
    hscan,
).tips(&["nondeterministic_output"]);

pub static HSET: CommandSpec = CommandSpec::new(
    "hset",
    -4,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "2.0.0",
        "Creates or modifies the value of a field in a hash.",
        "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
    ),
    hset,
);

pub static HSETEX: CommandSpec = CommandSpec::new(
    "hsetex",
    -6,
    WRITE | DENYOOM | FAST,
    HASH,
    RW_UPDATE,
    doc(
        G,
        "8.0.0",
        "Set the value of one or more fields of a given hash key, and optionally set their expiration.",
        "O(N) where N is the number of fields being set.",
    ),
    hsetex,
);

pub static HSETNX: CommandSpec = CommandSpec::new(
    "hsetnx",
    4,
    WRITE | DENYOOM | FAST,
    HASH,
    &[KeySpec::one(K_RW | K_INSERT, 1)],
    doc(
        G,
        "2.0.0",
        "Sets the value of a field in a hash only when the field doesn't exist.",
        O1,
    ),
    hsetnx,
);

pub static HSTRLEN: CommandSpec = CommandSpec::new(
    "hstrlen",
    3,
    READONLY | FAST,
    HASH,
    RO,
    doc(
        G,
        "3.2.0",
        "Returns the length of the value of a field.",
        O1,
    ),
    hstrlen,
);

pub static HTTL: CommandSpec = CommandSpec::new(
    "httl",
    -5,
    READONLY | FAST,
    HASH,
    RO,
    doc(
        G,
        "7.4.0",
        "Returns the TTL in seconds of a hash field.",
        ON_FIELDS,
    ),
    httl,
);

pub static HVALS: CommandSpec = CommandSpec::new(
    "hvals",
    2,
    READONLY,
    HASH,
    RO_ACCESS,
    doc(G, "2.0.0", "Returns all values in a hash.", ON_SIZE),
    hvals,
)
.tips(&["nondeterministic_output_order"]);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &HDEL,
    &HEXISTS,
    &HEXPIRE,
    &HEXPIREAT,
    &HEXPIRETIME,
    &HGET,
    &HGETALL,
    &HGETDEL,
    &HGETEX,
    &HINCRBY,
    &HINCRBYFLOAT,
    &HKEYS,
    &HLEN,
    &HMGET,
    &HMSET,
    &HPERSIST,
    &HPEXPIRE,
    &HPEXPIREAT,
    &HPEXPIRETIME,
    &HPTTL,
    &HRANDFIELD,
    &HSCAN,
    &HSET,
    &HSETEX,
    &HSETNX,
    &HSTRLEN,
    &HTTL,
    &HVALS,
];

fn op(op: HashOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Hashes(op)))
}

fn key(a: &[Bytes]) -> Bytes {
    a[1].clone()
}

/// `field value [field value ...]` from `a[from..]` (an even count, checked by the caller).
fn pairs(a: &[Bytes], from: usize) -> Vec<(Bytes, Bytes)> {
    a.get(from..)
        .unwrap_or(&[])
        .chunks_exact(2)
        .map(|kv| (kv[0].clone(), kv[1].clone()))
        .collect()
}

fn hset_generic(a: &[Bytes], name: &str, legacy: bool) -> Result<Command, OpError> {
    if !a.len().is_multiple_of(2) {
        return Err(arity_err(name));
    }
    op(HashOp::HSet {
        key: key(a),
        pairs: pairs(a, 2),
        legacy,
    })
}

fn hset(a: &[Bytes]) -> Result<Command, OpError> {
    hset_generic(a, "hset", false)
}

fn hmset(a: &[Bytes]) -> Result<Command, OpError> {
    hset_generic(a, "hmset", true)
}

fn hsetnx(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HSetNx {
        key: key(a),
        field: a[2].clone(),
        value: a[3].clone(),
    })
}

fn hget(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HGet {
        key: key(a),
        field: a[2].clone(),
    })
}

fn hmget(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HMGet {
        key: key(a),
        fields: a[2..].to_vec(),
    })
}

fn hdel(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HDel {
        key: key(a),
        fields: a[2..].to_vec(),
    })
}

fn hlen(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HLen { key: key(a) })
}

fn hstrlen(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HStrLen {
        key: key(a),
        field: a[2].clone(),
    })
}

fn hexists(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HExists {
        key: key(a),
        field: a[2].clone(),
    })
}

fn hgetall_generic(a: &[Bytes], part: HashPart) -> Result<Command, OpError> {
    op(HashOp::HGetAll { key: key(a), part })
}

fn hkeys(a: &[Bytes]) -> Result<Command, OpError> {
    hgetall_generic(a, HashPart::Keys)
}

fn hvals(a: &[Bytes]) -> Result<Command, OpError> {
    hgetall_generic(a, HashPart::Values)
}

fn hgetall(a: &[Bytes]) -> Result<Command, OpError> {
    hgetall_generic(a, HashPart::Both)
}

fn hincrby(a: &[Bytes]) -> Result<Command, OpError> {
    let delta = parse_i64(&a[3]).ok_or(OpError::NotInteger)?;
    op(HashOp::HIncrBy {
        key: key(a),
        field: a[2].clone(),
        delta,
    })
}

fn hincrbyfloat(a: &[Bytes]) -> Result<Command, OpError> {
    let delta = parse_f64(&a[3]).ok_or(OpError::NotFloat)?;
    if !delta.is_finite() {
        return Err(err("value is NaN or Infinity"));
    }
    op(HashOp::HIncrByFloat {
        key: key(a),
        field: a[2].clone(),
        delta,
    })
}

fn hrandfield(a: &[Bytes]) -> Result<Command, OpError> {
    let Some(arg) = a.get(2) else {
        return op(HashOp::HRandField {
            key: key(a),
            count: None,
            with_values: false,
        });
    };
    let count = parse_i64(arg).ok_or(OpError::NotInteger)?;
    if count == i64::MIN {
        return Err(err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let with_values = match a.get(3) {
        None => false,
        Some(w) if a.len() == 4 && is(w, "withvalues") => true,
        Some(_) => return Err(OpError::Syntax),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(err("value is out of range"));
    }
    op(HashOp::HRandField {
        key: key(a),
        count: Some(count),
        with_values,
    })
}

fn hscan(a: &[Bytes]) -> Result<Command, OpError> {
    let cursor = parse_cursor(&a[2]).ok_or_else(|| err("invalid cursor"))?;
    let (mut pattern, mut count, mut no_values) = (None, 10usize, false);
    let mut i = 3;
    while i < a.len() {
        let opt = &a[i];
        if is(opt, "novalues") {
            no_values = true;
            i += 1;
            continue;
        }
        let Some(value) = a.get(i + 1) else {
            return Err(OpError::Syntax);
        };
        if is(opt, "count") {
            let n = parse_i64(value).ok_or(OpError::NotInteger)?;
            count = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(OpError::Syntax)?;
        } else if is(opt, "match") {
            pattern = (value.as_ref() != b"*").then(|| value.clone());
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    op(HashOp::HScan {
        key: key(a),
        cursor,
        pattern,
        count,
        no_values,
    })
}

const FIELDS_MISSING: &str = "Mandatory argument FIELDS is missing or not at the right position";
const FIELDS_MISMATCH: &str = "The `numfields` parameter must match the number of arguments";
const NUMFIELDS_POSITIVE: &str = "Number of fields must be a positive integer";

/// `FIELDS numfields field ...` starting at `a[at]`, through the end of the arguments.
fn fields_block(a: &[Bytes], at: usize, numfields_msg: &str) -> Result<Vec<Bytes>, OpError> {
    if !a.get(at).is_some_and(|k| is(k, "fields")) {
        return Err(err(FIELDS_MISSING));
    }
    let n = a
        .get(at + 1)
        .and_then(|n| parse_i64(n))
        .filter(|&n| n >= 1)
        .ok_or_else(|| err(numfields_msg))?;
    let given = a.len().saturating_sub(at + 2);
    if u64::try_from(n).ok() != u64::try_from(given).ok() {
        return Err(err(FIELDS_MISMATCH));
    }
    Ok(a[at + 2..].to_vec())
}

/// Redis's `parseExpireTime`: an integer ≥ 0, scaled to ms, within the field-expiry maximum
/// (relative times are checked again against now by the engine).
fn expire_time(arg: &[u8], seconds: bool, cmd: &'static str) -> Result<u64, OpError> {
    let v = parse_i64(arg).ok_or(OpError::NotInteger)?;
    let v = u64::try_from(v).map_err(|_| err("invalid expire time, must be >= 0"))?;
    let ms = if seconds {
        if v > FIELD_EXPIRE_MAX_MS / 1000 {
            return Err(OpError::InvalidExpireTime(cmd));
        }
        v * 1000
    } else {
        v
    };
    if ms > FIELD_EXPIRE_MAX_MS {
        return Err(OpError::InvalidExpireTime(cmd));
    }
    Ok(ms)
}

fn hexpire_generic(
    a: &[Bytes],
    cmd: &'static str,
    seconds: bool,
    absolute: bool,
) -> Result<Command, OpError> {
    let ms = expire_time(&a[2], seconds, cmd)?;
    let at = if absolute {
        FieldExpire::At(ms)
    } else {
        FieldExpire::In(ms)
    };
    let opt = &a[3];
    let cond = if is(opt, "nx") {
        ExpireCond::Nx
    } else if is(opt, "xx") {
        ExpireCond::Xx
    } else if is(opt, "gt") {
        ExpireCond::Gt
    } else if is(opt, "lt") {
        ExpireCond::Lt
    } else {
        ExpireCond::Always
    };
    let at_fields = if cond == ExpireCond::Always { 3 } else { 4 };
    let fields = fields_block(
        a,
        at_fields,
        "Parameter `numFields` should be greater than 0",
    )?;
    op(HashOp::HExpire {
        key: key(a),
        at,
        cond,
        fields,
        cmd,
    })
}

fn hexpire(a: &[Bytes]) -> Result<Command, OpError> {
    hexpire_generic(a, "hexpire", true, false)
}

fn hpexpire(a: &[Bytes]) -> Result<Command, OpError> {
    hexpire_generic(a, "hpexpire", false, false)
}

fn hexpireat(a: &[Bytes]) -> Result<Command, OpError> {
    hexpire_generic(a, "hexpireat", true, true)
}

fn hpexpireat(a: &[Bytes]) -> Result<Command, OpError> {
    hexpire_generic(a, "hpexpireat", false, true)
}

fn httl_generic(a: &[Bytes], kind: FieldTtlKind) -> Result<Command, OpError> {
    op(HashOp::HTtl {
        key: key(a),
        kind,
        fields: fields_block(a, 2, NUMFIELDS_POSITIVE)?,
    })
}

fn httl(a: &[Bytes]) -> Result<Command, OpError> {
    httl_generic(a, FieldTtlKind::Ttl)
}

fn hpttl(a: &[Bytes]) -> Result<Command, OpError> {
    httl_generic(a, FieldTtlKind::PTtl)
}

fn hexpiretime(a: &[Bytes]) -> Result<Command, OpError> {
    httl_generic(a, FieldTtlKind::ExpireTime)
}

fn hpexpiretime(a: &[Bytes]) -> Result<Command, OpError> {
    httl_generic(a, FieldTtlKind::PExpireTime)
}

fn hpersist(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HPersist {
        key: key(a),
        fields: fields_block(a, 2, NUMFIELDS_POSITIVE)?,
    })
}

fn hgetdel(a: &[Bytes]) -> Result<Command, OpError> {
    op(HashOp::HGetDel {
        key: key(a),
        fields: fields_block(a, 2, NUMFIELDS_POSITIVE)?,
    })
}

fn hgetex(a: &[Bytes]) -> Result<Command, OpError> {
    let opt = &a[2];
    let unit = |seconds: bool, absolute: bool| -> Result<(HGetExAction, usize), OpError> {
        let arg = a.get(3).ok_or_else(|| err(FIELDS_MISSING))?;
        let ms = expire_time(arg, seconds, "hgetex")?;
        let at = if absolute {
            FieldExpire::At(ms)
        } else {
            FieldExpire::In(ms)
        };
        Ok((HGetExAction::Expire(at), 4))
    };
    let (action, at_fields) = if is(opt, "ex") {
        unit(true, false)?
    } else if is(opt, "px") {
        unit(false, false)?
    } else if is(opt, "exat") {
        unit(true, true)?
    } else if is(opt, "pxat") {
        unit(false, true)?
    } else if is(opt, "persist") {
        (HGetExAction::Persist, 3)
    } else {
        (HGetExAction::Keep, 2)
    };
    op(HashOp::HGetEx {
        key: key(a),
        action,
        fields: fields_block(a, at_fields, NUMFIELDS_POSITIVE)?,
    })
}

fn hsetex(a: &[Bytes]) -> Result<Command, OpError> {
    const ONE_EXPIRY: &str = "Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified";
    let mut cond = HSetExCond::Always;
    let mut ttl: Option<HSetExTtl> = None;
    let mut i = 2;
    while i < a.len() {
        let opt = &a[i];
        if is(opt, "fields") {
            if i + 3 >= a.len() {
                return Err(arity_err("hsetex"));
            }
            let n = parse_i64(&a[i + 1])
                .filter(|n| (1..=i64::from(i32::MAX)).contains(n))
                .ok_or_else(|| err("invalid number of fields"))?;
            let remaining = a.len() - i - 2;
            if !remaining.is_multiple_of(2)
                || u64::try_from(n).ok() != u64::try_from(remaining / 2).ok()
            {
                return Err(arity_err("hsetex"));
            }
            return op(HashOp::HSetEx {
                key: key(a),
                cond,
                ttl: ttl.unwrap_or(HSetExTtl::Clear),
                pairs: pairs(a, i + 2),
            });
        }
        let timed = [
            ("ex", true, false),
            ("px", false, false),
            ("exat", true, true),
        ]
        .into_iter()
        .chain([("pxat", false, true)])
        .find(|(name, _, _)| is(opt, name));
        if let Some((_, seconds, absolute)) = timed {
            if ttl.is_some() {
                return Err(err(ONE_EXPIRY));
            }
            let arg = a.get(i + 1).ok_or_else(|| err("missing expire time"))?;
            let ms = expire_time(arg, seconds, "hsetex")?;
            ttl = Some(HSetExTtl::Expire(if absolute {
                FieldExpire::At(ms)
            } else {
                FieldExpire::In(ms)
            }));
            i += 2;
            continue;
        }
        if is(opt, "keepttl") {
            if ttl.is_some() {
                return Err(err(ONE_EXPIRY));
            }
            ttl = Some(HSetExTtl::Keep);
        } else if is(opt, "fxx") || is(opt, "fnx") {
            if cond != HSetExCond::Always {
                return Err(err("Only one of FXX or FNX arguments can be specified"));
            }
            cond = if is(opt, "fxx") {
                HSetExCond::AllExist
            } else {
                HSetExCond::NoneExist
            };
        } else {
            return Err(err(format!("unknown argument: {}", show(opt))));
        }
        i += 1;
    }
    Err(arity_err("hsetex"))
}

#[cfg(test)]
#[path = "hash_tests.rs"]
mod tests;
