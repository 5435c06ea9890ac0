//! Table entries and parsers of lists (LPUSH ... BLMPOP), with `t_list.c`'s error texts and
//! Redis 7.2's command metadata.
//!
//! Invariants: arguments Redis validates before its key lookup are validated here (so their
//! errors win over WRONGTYPE exactly as in Redis); LINDEX's and LSET's index, which Redis parses
//! after the lookup, travel as `None` when malformed. Blocking timeouts follow
//! `getTimeoutFromObjectOrReply` (seconds as a long double, rounded up to milliseconds).

use bytes::Bytes;
use moon_engine::ir::ops::ListOp;
use moon_engine::ir::{Op, OpError};
use moon_engine::types::list::End;

use super::Command;
use super::args::{arity_err, err, int, is, parse_i64};
use super::table::{
    BLOCKING, CMD_BLOCKING, CommandSpec, DENYOOM, FAST, GetKeysProc, K_ACCESS, K_DELETE, K_INSERT,
    K_RO, K_RW, K_UPDATE, KeySpec, LIST, NOSCRIPT, READONLY, WRITE, doc,
};

const G: &str = "list";

const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements returned";
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";
const BPOP_COMPLEXITY: &str = "O(N) where N is the number of provided keys.";

const PUSH_KEYS: &[KeySpec] = &[KeySpec::one(K_RW | K_INSERT, 1)];
const POP_KEYS: &[KeySpec] = &[KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1)];
const READ_KEYS: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const DELETE_KEYS: &[KeySpec] = &[KeySpec::one(K_RW | K_DELETE, 1)];
const MOVE_KEYS: &[KeySpec] = &[
    KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1),
    KeySpec::one(K_RW | K_INSERT, 2),
];
const BPOP_KEYS: &[KeySpec] = &[KeySpec::range(K_RW | K_ACCESS | K_DELETE, 1, -2, 1, 0)];

pub static BLMOVE: CommandSpec = CommandSpec::new(
    "blmove",
    6,
    WRITE | DENYOOM | NOSCRIPT | CMD_BLOCKING,
    LIST | BLOCKING,
    MOVE_KEYS,
    doc(
        G,
        "6.2.0",
        "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
        "O(1)",
    ),
    blmove,
);

/// The keys are counted by `numkeys` (a `keynum` spec, hence `movablekeys`).
pub static BLMPOP: CommandSpec = CommandSpec::new(
    "blmpop",
    -5,
    WRITE | CMD_BLOCKING,
    LIST | BLOCKING,
    &[KeySpec::numkeys(K_RW | K_ACCESS | K_DELETE, 2)],
    doc(
        G,
        "7.0.0",
        "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        MPOP_COMPLEXITY,
    ),
    blmpop,
)
.getkeys(GetKeysProc::Numkeys {
    store: 0,
    count: 2,
    first: 3,
});

pub static BLPOP: CommandSpec = CommandSpec::new(
    "blpop",
    -3,
    WRITE | NOSCRIPT | CMD_BLOCKING,
    LIST | BLOCKING,
    BPOP_KEYS,
    doc(
        G,
        "2.0.0",
        "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        BPOP_COMPLEXITY,
    ),
    blpop,
);

pub static BRPOP: CommandSpec = CommandSpec::new(
    "brpop",
    -3,
    WRITE | NOSCRIPT | CMD_BLOCKING,
    LIST | BLOCKING,
    BPOP_KEYS,
    doc(
        G,
        "2.0.0",
        "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        BPOP_COMPLEXITY,
    ),
    brpop,
);

pub static BRPOPLPUSH: CommandSpec = CommandSpec::new(
    "brpoplpush",
    4,
    WRITE | DENYOOM | NOSCRIPT | CMD_BLOCKING,
    LIST | BLOCKING,
    MOVE_KEYS,
    doc(
        G,
        "2.2.0",
        "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
        "O(1)",
    )
    .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
    brpoplpush,
);

pub static LINDEX: CommandSpec = CommandSpec::new(
    "lindex",
    3,
    READONLY,
    LIST,
    READ_KEYS,
    doc(
        G,
        "1.0.0",
        "Returns an element from a list by its index.",
        "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    ),
    lindex,
);

pub static LINSERT: CommandSpec = CommandSpec::new(
    "linsert",
    5,
    WRITE | DENYOOM,
    LIST,
    PUSH_KEYS,
    doc(
        G,
        "2.2.0",
        "Inserts an element before or after another element in a list.",
        "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    ),
    linsert,
);

pub static LLEN: CommandSpec = CommandSpec::new(
    "llen",
    2,
    READONLY | FAST,
    LIST,
    &[KeySpec::one(K_RO, 1)],
    doc(G, "1.0.0", "Returns the length of a list.", "O(1)"),
    llen,
);

pub static LMOVE: CommandSpec = CommandSpec::new(
    "lmove",
    5,
    WRITE | DENYOOM,
    LIST,
    MOVE_KEYS,
    doc(
        G,
        "6.2.0",
        "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
        "O(1)",
    ),
    lmove,
);

/// The keys are counted by `numkeys`, as in [`BLMPOP`].
pub static LMPOP: CommandSpec = CommandSpec::new(
    "lmpop",
    -4,
    WRITE,
    LIST,
    &[KeySpec::numkeys(K_RW | K_ACCESS | K_DELETE, 1)],
    doc(
        G,
        "7.0.0",
        "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
        MPOP_COMPLEXITY,
    ),
    lmpop,
)
.getkeys(GetKeysProc::Numkeys {
    store: 0,
    count: 1,
    first: 2,
});

pub static LPOP: CommandSpec = CommandSpec::new(
    "lpop",
    -2,
    WRITE | FAST,
    LIST,
    POP_KEYS,
    doc(
        G,
        "1.0.0",
        "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        POP_COMPLEXITY,
    ),
    lpop,
);

pub static LPOS: CommandSpec = CommandSpec::new(
    "lpos",
    -3,
    READONLY,
    LIST,
    READ_KEYS,
    doc(
        G,
        "6.0.6",
        "Returns the index of matching elements in a list.",
        "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    ),
    lpos,
);

pub static LPUSH: CommandSpec = CommandSpec::new(
    "lpush",
    -3,
    WRITE | DENYOOM | FAST,
    LIST,
    PUSH_KEYS,
    doc(
        G,
        "1.0.0",
        "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
        PUSH_COMPLEXITY,
    ),
    lpush,
);

pub static LPUSHX: CommandSpec = CommandSpec::new(
    "lpushx",
    -3,
    WRITE | DENYOOM | FAST,
    LIST,
    PUSH_KEYS,
    doc(
        G,
        "2.2.0",
        "Prepends one or more elements to a list only when the list exists.",
        PUSH_COMPLEXITY,
    ),
    lpushx,
);

pub static LRANGE: CommandSpec = CommandSpec::new(
    "lrange",
    4,
    READONLY,
    LIST,
    READ_KEYS,
    doc(
        G,
        "1.0.0",
        "Returns a range of elements from a list.",
        "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    ),
    lrange,
);

pub static LREM: CommandSpec = CommandSpec::new(
    "lrem",
    4,
    WRITE,
    LIST,
    DELETE_KEYS,
    doc(
        G,
        "1.0.0",
        "Removes elements from a list. Deletes the list if the last element was removed.",
        "O(N+M) where N is the length of the list and M is the number of elements removed.",
    ),
    lrem,
);

pub static LSET: CommandSpec = CommandSpec::new(
    "lset",
    4,
    WRITE | DENYOOM,
    LIST,
    &[KeySpec::one(K_RW | K_UPDATE, 1)],
    doc(
        G,
        "1.0.0",
        "Sets the value of an element in a list by its index.",
        "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    ),
    lset,
);

pub static LTRIM: CommandSpec = CommandSpec::new(
    "ltrim",
    4,
    WRITE,
    LIST,
    DELETE_KEYS,
    doc(
        G,
        "1.0.0",
        "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
        "O(N) where N is the number of elements to be removed by the operation.",
    ),
    ltrim,
);

pub static RPOP: CommandSpec = CommandSpec::new(
    "rpop",
    -2,
    WRITE | FAST,
    LIST,
    POP_KEYS,
    doc(
        G,
        "1.0.0",
        "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
        POP_COMPLEXITY,
    ),
    rpop,
);

pub static RPOPLPUSH: CommandSpec = CommandSpec::new(
    "rpoplpush",
    3,
    WRITE | DENYOOM,
    LIST,
    MOVE_KEYS,
    doc(
        G,
        "1.2.0",
        "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
        "O(1)",
    )
    .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
    rpoplpush,
);

pub static RPUSH: CommandSpec = CommandSpec::new(
    "rpush",
    -3,
    WRITE | DENYOOM | FAST,
    LIST,
    PUSH_KEYS,
    doc(
        G,
        "1.0.0",
        "Appends one or more elements to a list. Creates the key if it doesn't exist.",
        PUSH_COMPLEXITY,
    ),
    rpush,
);

pub static RPUSHX: CommandSpec = CommandSpec::new(
    "rpushx",
    -3,
    WRITE | DENYOOM | FAST,
    LIST,
    PUSH_KEYS,
    doc(
        G,
        "2.2.0",
        "Appends an element to a list only when the list exists.",
        PUSH_COMPLEXITY,
    ),
    rpushx,
);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &BLMOVE,
    &BLMPOP,
    &BLPOP,
    &BRPOP,
    &BRPOPLPUSH,
    &LINDEX,
    &LINSERT,
    &LLEN,
    &LMOVE,
    &LMPOP,
    &LPOP,
    &LPOS,
    &LPUSH,
    &LPUSHX,
    &LRANGE,
    &LREM,
    &LSET,
    &LTRIM,
    &RPOP,
    &RPOPLPUSH,
    &RPUSH,
    &RPUSHX,
];

fn op(op: ListOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Lists(op)))
}

fn push(a: &[Bytes], end: End, only_if_exists: bool) -> Result<Command, OpError> {
    op(ListOp::Push {
        key: a[1].clone(),
        end,
        elements: a[2..].to_vec(),
        only_if_exists,
    })
}

fn lpush(a: &[Bytes]) -> Result<Command, OpError> {
    push(a, End::Head, false)
}

fn rpush(a: &[Bytes]) -> Result<Command, OpError> {
    push(a, End::Tail, false)
}

fn lpushx(a: &[Bytes]) -> Result<Command, OpError> {
    push(a, End::Head, true)
}

fn rpushx(a: &[Bytes]) -> Result<Command, OpError> {
    push(a, End::Tail, true)
}

/// `getPositiveLongFromObjectOrReply`: an integer >= 0, else `msg` (Redis's default text when
/// `None`).
fn positive(arg: &[u8], msg: Option<&str>) -> Result<u64, OpError> {
    parse_i64(arg)
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| err(msg.unwrap_or("value is out of range, must be positive")))
}

fn pop(a: &[Bytes], end: End, name: &str) -> Result<Command, OpError> {
    if a.len() > 3 {
        return Err(arity_err(name));
    }
    let count = a.get(2).map(|c| positive(c, None)).transpose()?;
    op(ListOp::Pop {
        key: a[1].clone(),
        end,
        count,
    })
}

fn lpop(a: &[Bytes]) -> Result<Command, OpError> {
    pop(a, End::Head, "lpop")
}

fn rpop(a: &[Bytes]) -> Result<Command, OpError> {
    pop(a, End::Tail, "rpop")
}

fn llen(a: &[Bytes]) -> Result<Command, OpError> {
    op(ListOp::Len { key: a[1].clone() })
}

fn lrange(a: &[Bytes]) -> Result<Command, OpError> {
    let (start, stop) = (int(&a[2])?, int(&a[3])?);
    op(ListOp::Range {
        key: a[1].clone(),
        start,
        stop,
    })
}

fn ltrim(a: &[Bytes]) -> Result<Command, OpError> {
    let (start, stop) = (int(&a[2])?, int(&a[3])?);
    op(ListOp::Trim {
        key: a[1].clone(),
        start,
        stop,
    })
}

fn lindex(a: &[Bytes]) -> Result<Command, OpError> {
    op(ListOp::Index {
        key: a[1].clone(),
        index: parse_i64(&a[2]),
    })
}

fn lset(a: &[Bytes]) -> Result<Command, OpError> {
    op(ListOp::Set {
        key: a[1].clone(),
        index: parse_i64(&a[2]),
        element: a[3].clone(),
    })
}

fn linsert(a: &[Bytes]) -> Result<Command, OpError> {
    let after = if is(&a[2], "after") {
        true
    } else if is(&a[2], "before") {
        false
    } else {
        return Err(OpError::Syntax);
    };
    op(ListOp::Insert {
        key: a[1].clone(),
        after,
        pivot: a[3].clone(),
        element: a[4].clone(),
    })
}

fn lrem(a: &[Bytes]) -> Result<Command, OpError> {
    op(ListOp::Rem {
        key: a[1].clone(),
        count: int(&a[2])?,
        element: a[3].clone(),
    })
}

fn lpos(a: &[Bytes]) -> Result<Command, OpError> {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0u64);
    let mut j = 3;
    while j < a.len() {
        let opt = &a[j];
        let value = a.get(j + 1);
        match value {
            Some(v) if is(opt, "rank") => {
                rank = parse_i64(v).ok_or(OpError::NotInteger)?;
                if rank == i64::MIN {
                    return Err(err(format!(
                        "value is out of range, value must between {} and {}",
                        -i64::MAX,
                        i64::MAX
                    )));
                }
                if rank == 0 {
                    return Err(err(
                        "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                    ));
                }
            }
            Some(v) if is(opt, "count") => {
                count = Some(positive(v, Some("COUNT can't be negative"))?);
            }
            Some(v) if is(opt, "maxlen") => {
                maxlen = positive(v, Some("MAXLEN can't be negative"))?;
            }
            _ => return Err(OpError::Syntax),
        }
        j += 2;
    }
    op(ListOp::Pos {
        key: a[1].clone(),
        element: a[2].clone(),
        rank,
        count,
        maxlen,
    })
}

/// `getListPositionFromObjectOrReply`: LEFT or RIGHT, else a syntax error.
fn position(arg: &[u8]) -> Result<End, OpError> {
    if is(arg, "right") {
        Ok(End::Tail)
    } else if is(arg, "left") {
        Ok(End::Head)
    } else {
        Err(OpError::Syntax)
    }
}

fn move_op(a: &[Bytes], from: End, to: End, timeout_ms: Option<u64>) -> Result<Command, OpError> {
    op(ListOp::Move {
        src: a[1].clone(),
        dst: a[2].clone(),
        from,
        to,
        timeout_ms,
    })
}

fn lmove(a: &[Bytes]) -> Result<Command, OpError> {
    let (from, to) = (position(&a[3])?, position(&a[4])?);
    move_op(a, from, to, None)
}

fn rpoplpush(a: &[Bytes]) -> Result<Command, OpError> {
    move_op(a, End::Tail, End::Head, None)
}

fn blmove(a: &[Bytes]) -> Result<Command, OpError> {
    let (from, to) = (position(&a[3])?, position(&a[4])?);
    let timeout = timeout_ms(&a[5])?;
    move_op(a, from, to, Some(timeout))
}

fn brpoplpush(a: &[Bytes]) -> Result<Command, OpError> {
    let timeout = timeout_ms(&a[3])?;
    move_op(a, End::Tail, End::Head, Some(timeout))
}

fn bpop(a: &[Bytes], end: End) -> Result<Command, OpError> {
    let last = a.len() - 1;
    let timeout_ms = timeout_ms(&a[last])?;
    op(ListOp::BPop {
        keys: a[1..last].to_vec(),
        end,
        timeout_ms,
    })
}

fn blpop(a: &[Bytes]) -> Result<Command, OpError> {
    bpop(a, End::Head)
}

fn brpop(a: &[Bytes]) -> Result<Command, OpError> {
    bpop(a, End::Tail)
}

/// `lmpopGenericCommand`: `numkeys key... LEFT|RIGHT [COUNT n]` from `a[numkeys_at]`.
fn mpop_args(a: &[Bytes], numkeys_at: usize) -> Result<(Vec<Bytes>, End, u64), OpError> {
    let numkeys_msg = "numkeys should be greater than 0";
    let numkeys = parse_i64(&a[numkeys_at])
        .filter(|&n| n >= 1)
        .ok_or_else(|| err(numkeys_msg))?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&w| w < a.len())
        .ok_or(OpError::Syntax)?;
    let end = position(&a[where_at])?;
    let mut count = None;
    let mut j = where_at + 1;
    while j < a.len() {
        match a.get(j + 1) {
            Some(v) if count.is_none() && is(&a[j], "count") => {
                let n = parse_i64(v)
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| err("count should be greater than 0"))?;
                count = Some(n as u64);
            }
            _ => return Err(OpError::Syntax),
        }
        j += 2;
    }
    Ok((
        a[numkeys_at + 1..where_at].to_vec(),
        end,
        count.unwrap_or(1),
    ))
}

fn lmpop(a: &[Bytes]) -> Result<Command, OpError> {
    let (keys, end, count) = mpop_args(a, 1)?;
    op(ListOp::MPop {
        keys,
        end,
        count,
        timeout_ms: None,
    })
}

fn blmpop(a: &[Bytes]) -> Result<Command, OpError> {
    let (keys, end, count) = mpop_args(a, 2)?;
    let timeout = timeout_ms(&a[1])?;
    op(ListOp::MPop {
        keys,
        end,
        count,
        timeout_ms: Some(timeout),
    })
}

/// C `strtold` over the whole argument as Redis's `string2ld` accepts it: decimal (with
/// exponent, `inf`/`infinity`) or hexadecimal integers; no spaces, not NaN, under 5120 bytes.
/// A decimal that underflows an f64 but not a long double comes back as the smallest positive
/// value (so it still rounds up to 1 ms, as in Redis).
fn parse_long_double(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg.len() >= 5120 {
        return None;
    }
    let text = std::str::from_utf8(arg).ok()?;
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = hex.bytes().fold(0f64, |acc, b| {
            acc * 16.0 + f64::from((b as char).to_digit(16).unwrap_or(0))
        });
        return Some(if neg { -v } else { v });
    }
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    if v == 0.0 {
        let mantissa = body.split(['e', 'E']).next().unwrap_or("");
        if mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return Some(if neg {
                -f64::MIN_POSITIVE
            } else {
                f64::MIN_POSITIVE
            });
        }
    }
    Some(v)
}

/// `getTimeoutFromObjectOrReply` with UNIT_SECONDS: relative milliseconds, 0 = forever.
fn timeout_ms(arg: &[u8]) -> Result<u64, OpError> {
    let secs =
        parse_long_double(arg).ok_or_else(|| err("timeout is not a float or out of range"))?;
    let ms = secs * 1000.0;
    if ms > i64::MAX as f64 {
        return Err(err("timeout is out of range"));
    }
    // `(long long) ceill(ms)`: -0.5 rounds to 0 and is accepted.
    let t = ms.ceil() as i64;
    if t < 0 {
        return Err(err("timeout is negative"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    if t > 0 && t > i64::MAX - now {
        return Err(err("timeout is out of range"));
    }
    Ok(t as u64)
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
