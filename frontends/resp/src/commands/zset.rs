//! Table entries and parsers of sorted sets (BZMPOP ... ZUNIONSTORE), with t_zset.c's argument
//! rules and error texts: `getDoubleFromObject` for scores, `zslParseRange` / `zslParseLexRange`
//! for ranges, `zrangeGenericCommand`'s option loop and conflict checks.
//!
//! Invariants: parsers never panic on any input (they only index within the arity the table
//! guarantees); scores and weights handed to the engine are never NaN. Commands whose keys are
//! counted by a `numkeys` argument (ZUNION, ZMPOP, ...) have `keynum` key specs and Redis's
//! `genericGetKeys` fallback, as in Redis 7.

use bytes::Bytes;
use moon_engine::ir::ops::ZSetOp;
use moon_engine::ir::ops::zset::{
    Aggregate, LexBound, LexRange, PopShape, RangeBy, RangeSpec, ScoreRange, SetOpKind, ZAddFlags,
};
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::args::{c_str, err, int, is, parse_cursor, parse_f64, parse_i64};
use super::table::{
    BLOCKING, CMD_BLOCKING, CommandSpec, DENYOOM, FAST, GetKeysProc, K_ACCESS, K_DELETE, K_OW,
    K_RO, K_RW, K_UPDATE, KeySpec, NOSCRIPT, READONLY, SORTEDSET, WRITE, doc,
};

const G: &str = "sorted_set";
const LOGN: &str = "O(log(N)) with N being the number of elements in the sorted set.";
const RANGE_CX: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";
const BY_CX: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REM_CX: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const POP_CX: &str = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.";
const MPOP_CX: &str = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.";
const INTER_CX: &str = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const UNION_CX: &str = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const DIFF_CX: &str = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";

const RO: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const RW_DEL: &[KeySpec] = &[KeySpec::one(K_RW | K_DELETE, 1)];
const RW_ACC_DEL: &[KeySpec] = &[KeySpec::one(K_RW | K_ACCESS | K_DELETE, 1)];
/// ZUNIONSTORE ...: the destination, then `numkeys` source keys.
const STORE_KEYS: &[KeySpec] = &[
    KeySpec::one(K_OW | K_UPDATE, 1),
    KeySpec::numkeys(K_RO | K_ACCESS, 2),
];
/// `genericGetKeys` fallbacks of the `numkeys` commands.
const NUMKEYS_AT_1: GetKeysProc = GetKeysProc::Numkeys {
    store: 0,
    count: 1,
    first: 2,
};
const NUMKEYS_AT_2: GetKeysProc = GetKeysProc::Numkeys {
    store: 0,
    count: 2,
    first: 3,
};
const STORE_NUMKEYS: GetKeysProc = GetKeysProc::Numkeys {
    store: 1,
    count: 2,
    first: 3,
};
const BLOCK_KEYS: &[KeySpec] = &[KeySpec::range(K_RW | K_ACCESS | K_DELETE, 1, -2, 1, 0)];

macro_rules! spec {
    ($id:ident, $name:literal, $arity:expr, $flags:expr, $acl:expr, $keys:expr, $since:literal, $summary:literal, $cx:expr, $parse:ident) => {
        pub static $id: CommandSpec = CommandSpec::new(
            $name,
            $arity,
            $flags,
            $acl,
            $keys,
            doc(G, $since, $summary, $cx),
            $parse,
        );
    };
    ($id:ident, $name:literal, $arity:expr, $flags:expr, $acl:expr, $keys:expr, $since:literal, $summary:literal, $cx:expr, $parse:ident, then $($more:tt)+) => {
        pub static $id: CommandSpec = CommandSpec::new(
            $name,
            $arity,
            $flags,
            $acl,
            $keys,
            doc(G, $since, $summary, $cx),
            $parse,
        )
        $($more)+;
    };
    ($id:ident, $name:literal, $arity:expr, $flags:expr, $acl:expr, $keys:expr, $since:literal, $summary:literal, $cx:expr, $parse:ident, deprecated $by:literal) => {
        pub static $id: CommandSpec = CommandSpec::new(
            $name,
            $arity,
            $flags,
            $acl,
            $keys,
            doc(G, $since, $summary, $cx).deprecated("6.2.0", $by),
            $parse,
        );
    };
}

spec!(
    BZMPOP,
    "bzmpop",
    -5,
    WRITE | CMD_BLOCKING,
    SORTEDSET | BLOCKING,
    &[KeySpec::numkeys(K_RW | K_ACCESS | K_DELETE, 2)],
    "7.0.0",
    "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
    MPOP_CX,
    bzmpop,
    then.getkeys(NUMKEYS_AT_2)
);
spec!(
    BZPOPMAX,
    "bzpopmax",
    -3,
    WRITE | NOSCRIPT | CMD_BLOCKING | FAST,
    SORTEDSET | BLOCKING,
    BLOCK_KEYS,
    "5.0.0",
    "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
    LOGN,
    bzpopmax
);
spec!(
    BZPOPMIN,
    "bzpopmin",
    -3,
    WRITE | NOSCRIPT | CMD_BLOCKING | FAST,
    SORTEDSET | BLOCKING,
    BLOCK_KEYS,
    "5.0.0",
    "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
    LOGN,
    bzpopmin
);
spec!(
    ZADD,
    "zadd",
    -4,
    WRITE | DENYOOM | FAST,
    SORTEDSET,
    &[KeySpec::one(K_RW | K_UPDATE, 1)],
    "1.2.0",
    "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
    "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    zadd
);
spec!(
    ZCARD,
    "zcard",
    2,
    READONLY | FAST,
    SORTEDSET,
    &[KeySpec::one(K_RO, 1)],
    "1.2.0",
    "Returns the number of members in a sorted set.",
    "O(1)",
    zcard
);
spec!(
    ZCOUNT,
    "zcount",
    4,
    READONLY | FAST,
    SORTEDSET,
    RO,
    "2.0.0",
    "Returns the count of members in a sorted set that have scores within a range.",
    LOGN,
    zcount
);
spec!(
    ZDIFF,
    "zdiff",
    -3,
    READONLY,
    SORTEDSET,
    &[KeySpec::numkeys(K_RO | K_ACCESS, 1)],
    "6.2.0",
    "Returns the difference between multiple sorted sets.",
    DIFF_CX,
    zdiff,
    then.getkeys(NUMKEYS_AT_1)
);
spec!(
    ZDIFFSTORE,
    "zdiffstore",
    -4,
    WRITE | DENYOOM,
    SORTEDSET,
    STORE_KEYS,
    "6.2.0",
    "Stores the difference of multiple sorted sets in a key.",
    DIFF_CX,
    zdiffstore,
    then.getkeys(STORE_NUMKEYS)
);
spec!(
    ZINCRBY,
    "zincrby",
    4,
    WRITE | DENYOOM | FAST,
    SORTEDSET,
    &[KeySpec::one(K_RW | K_ACCESS | K_UPDATE, 1)],
    "1.2.0",
    "Increments the score of a member in a sorted set.",
    "O(log(N)) where N is the number of elements in the sorted set.",
    zincrby
);
spec!(
    ZINTER,
    "zinter",
    -3,
    READONLY,
    SORTEDSET,
    &[KeySpec::numkeys(K_RO | K_ACCESS, 1)],
    "6.2.0",
    "Returns the intersect of multiple sorted sets.",
    INTER_CX,
    zinter,
    then.getkeys(NUMKEYS_AT_1)
);
spec!(
    ZINTERCARD,
    "zintercard",
    -3,
    READONLY,
    SORTEDSET,
    &[KeySpec::numkeys(K_RO | K_ACCESS, 1)],
    "7.0.0",
    "Returns the number of members of the intersect of multiple sorted sets.",
    "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
    zintercard,
    then.getkeys(NUMKEYS_AT_1)
);
spec!(
    ZINTERSTORE,
    "zinterstore",
    -4,
    WRITE | DENYOOM,
    SORTEDSET,
    STORE_KEYS,
    "2.0.0",
    "Stores the intersect of multiple sorted sets in a key.",
    INTER_CX,
    zinterstore,
    then.getkeys(STORE_NUMKEYS)
);
spec!(
    ZLEXCOUNT,
    "zlexcount",
    4,
    READONLY | FAST,
    SORTEDSET,
    RO,
    "2.8.9",
    "Returns the number of members in a sorted set within a lexicographical range.",
    LOGN,
    zlexcount
);
spec!(
    ZMPOP,
    "zmpop",
    -4,
    WRITE,
    SORTEDSET,
    &[KeySpec::numkeys(K_RW | K_ACCESS | K_DELETE, 1)],
    "7.0.0",
    "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
    MPOP_CX,
    zmpop,
    then.getkeys(NUMKEYS_AT_1)
);
spec!(
    ZMSCORE,
    "zmscore",
    -3,
    READONLY | FAST,
    SORTEDSET,
    RO,
    "6.2.0",
    "Returns the score of one or more members in a sorted set.",
    "O(N) where N is the number of members being requested.",
    zmscore
);
spec!(
    ZPOPMAX,
    "zpopmax",
    -2,
    WRITE | FAST,
    SORTEDSET,
    RW_ACC_DEL,
    "5.0.0",
    "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
    POP_CX,
    zpopmax
);
spec!(
    ZPOPMIN,
    "zpopmin",
    -2,
    WRITE | FAST,
    SORTEDSET,
    RW_ACC_DEL,
    "5.0.0",
    "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
    POP_CX,
    zpopmin
);
spec!(
    ZRANDMEMBER,
    "zrandmember",
    -2,
    READONLY,
    SORTEDSET,
    RO,
    "6.2.0",
    "Returns one or more random members from a sorted set.",
    "O(N) where N is the number of members returned",
    zrandmember,
    then.tips(&["nondeterministic_output"])
);
spec!(
    ZRANGE,
    "zrange",
    -4,
    READONLY,
    SORTEDSET,
    RO,
    "1.2.0",
    "Returns members in a sorted set within a range of indexes.",
    RANGE_CX,
    zrange
);
spec!(ZRANGEBYLEX, "zrangebylex", -4, READONLY, SORTEDSET, RO, "2.8.9",
    "Returns members in a sorted set within a lexicographical range.", BY_CX, zrangebylex,
    deprecated "`ZRANGE` with the `BYLEX` argument");
spec!(ZRANGEBYSCORE, "zrangebyscore", -4, READONLY, SORTEDSET, RO, "1.0.5",
    "Returns members in a sorted set within a range of scores.", BY_CX, zrangebyscore,
    deprecated "`ZRANGE` with the `BYSCORE` argument");
spec!(
    ZRANGESTORE,
    "zrangestore",
    -5,
    WRITE | DENYOOM,
    SORTEDSET,
    &[
        KeySpec::one(K_OW | K_UPDATE, 1),
        KeySpec::one(K_RO | K_ACCESS, 2)
    ],
    "6.2.0",
    "Stores a range of members from sorted set in a key.",
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
    zrangestore
);
spec!(
    ZRANK,
    "zrank",
    -3,
    READONLY | FAST,
    SORTEDSET,
    RO,
    "2.0.0",
    "Returns the index of a member in a sorted set ordered by ascending scores.",
    "O(log(N))",
    zrank
);
spec!(
    ZREM,
    "zrem",
    -3,
    WRITE | FAST,
    SORTEDSET,
    RW_DEL,
    "1.2.0",
    "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
    "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
    zrem
);
spec!(
    ZREMRANGEBYLEX,
    "zremrangebylex",
    4,
    WRITE,
    SORTEDSET,
    RW_DEL,
    "2.8.9",
    "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
    REM_CX,
    zremrangebylex
);
spec!(
    ZREMRANGEBYRANK,
    "zremrangebyrank",
    4,
    WRITE,
    SORTEDSET,
    RW_DEL,
    "2.0.0",
    "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
    REM_CX,
    zremrangebyrank
);
spec!(
    ZREMRANGEBYSCORE,
    "zremrangebyscore",
    4,
    WRITE,
    SORTEDSET,
    RW_DEL,
    "1.2.0",
    "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
    REM_CX,
    zremrangebyscore
);
spec!(ZREVRANGE, "zrevrange", -4, READONLY, SORTEDSET, RO, "1.2.0",
    "Returns members in a sorted set within a range of indexes in reverse order.", RANGE_CX, zrevrange,
    deprecated "`ZRANGE` with the `REV` argument");
spec!(ZREVRANGEBYLEX, "zrevrangebylex", -4, READONLY, SORTEDSET, RO, "2.8.9",
    "Returns members in a sorted set within a lexicographical range in reverse order.", BY_CX, zrevrangebylex,
    deprecated "`ZRANGE` with the `REV` and `BYLEX` arguments");
spec!(ZREVRANGEBYSCORE, "zrevrangebyscore", -4, READONLY, SORTEDSET, RO, "2.2.0",
    "Returns members in a sorted set within a range of scores in reverse order.", BY_CX, zrevrangebyscore,
    deprecated "`ZRANGE` with the `REV` and `BYSCORE` arguments");
spec!(
    ZREVRANK,
    "zrevrank",
    -3,
    READONLY | FAST,
    SORTEDSET,
    RO,
    "2.0.0",
    "Returns the index of a member in a sorted set ordered by descending scores.",
    "O(log(N))",
    zrevrank
);
spec!(
    ZSCAN,
    "zscan",
    -3,
    READONLY,
    SORTEDSET,
    RO,
    "2.8.0",
    "Iterates over members and scores of a sorted set.",
    "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    zscan,
    then.tips(&["nondeterministic_output"])
);
spec!(
    ZSCORE,
    "zscore",
    3,
    READONLY | FAST,
    SORTEDSET,
    RO,
    "1.2.0",
    "Returns the score of a member in a sorted set.",
    "O(1)",
    zscore
);
spec!(
    ZUNION,
    "zunion",
    -3,
    READONLY,
    SORTEDSET,
    &[KeySpec::numkeys(K_RO | K_ACCESS, 1)],
    "6.2.0",
    "Returns the union of multiple sorted sets.",
    UNION_CX,
    zunion,
    then.getkeys(NUMKEYS_AT_1)
);
spec!(
    ZUNIONSTORE,
    "zunionstore",
    -4,
    WRITE | DENYOOM,
    SORTEDSET,
    STORE_KEYS,
    "2.0.0",
    "Stores the union of multiple sorted sets in a key.",
    "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
    zunionstore,
    then.getkeys(STORE_NUMKEYS)
);

/// Every command of the family (consulted after the core registry).
pub static COMMANDS: &[&CommandSpec] = &[
    &BZMPOP,
    &BZPOPMAX,
    &BZPOPMIN,
    &ZADD,
    &ZCARD,
    &ZCOUNT,
    &ZDIFF,
    &ZDIFFSTORE,
    &ZINCRBY,
    &ZINTER,
    &ZINTERCARD,
    &ZINTERSTORE,
    &ZLEXCOUNT,
    &ZMPOP,
    &ZMSCORE,
    &ZPOPMAX,
    &ZPOPMIN,
    &ZRANDMEMBER,
    &ZRANGE,
    &ZRANGEBYLEX,
    &ZRANGEBYSCORE,
    &ZRANGESTORE,
    &ZRANK,
    &ZREM,
    &ZREMRANGEBYLEX,
    &ZREMRANGEBYRANK,
    &ZREMRANGEBYSCORE,
    &ZREVRANGE,
    &ZREVRANGEBYLEX,
    &ZREVRANGEBYSCORE,
    &ZREVRANK,
    &ZSCAN,
    &ZSCORE,
    &ZUNION,
    &ZUNIONSTORE,
];

fn op(z: ZSetOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::ZSets(z)))
}

fn syntax() -> OpError {
    OpError::Syntax
}

// ---- number parsing ----

/// C `isspace`.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A hexadecimal float as C `strtod` reads it (`0x1.8p3`); `s` starts after the sign.
fn parse_hex(s: &[u8]) -> Option<f64> {
    let digits = s.strip_prefix(b"0x").or_else(|| s.strip_prefix(b"0X"))?;
    let (mut mant, mut exp, mut any, mut seen_dot) = (0f64, 0i32, false, false);
    let mut i = 0;
    while let Some(&c) = digits.get(i) {
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            mant = mant * 16.0 + f64::from(d);
            if seen_dot {
                exp -= 4;
            }
            any = true;
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if let Some(&(b'p' | b'P')) = digits.get(i) {
        let e = std::str::from_utf8(&digits[i + 1..])
            .ok()?
            .parse::<i32>()
            .ok()?;
        exp = exp.saturating_add(e);
    } else if i != digits.len() {
        return None;
    }
    Some(mant * 2f64.powi(exp))
}

/// The whole text as C `strtod` would consume it: `None` if anything is left over. Overflow
/// gives ±inf and underflow 0 (errno is the caller's business).
fn strtod_all(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let v = if body.len() > 1 && body.as_bytes()[1].eq_ignore_ascii_case(&b'x') {
        parse_hex(body.as_bytes())?
    } else {
        // Rust reads the same decimal, inf/infinity and nan spellings as strtod; a second
        // sign is the one form it would accept that strtod does not.
        if body.starts_with(['+', '-']) {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// True if the mantissa of a numeric text has a nonzero digit (so a zero result underflowed).
fn mantissa_nonzero(text: &[u8]) -> bool {
    let t = match text.first() {
        Some(b'+' | b'-') => &text[1..],
        _ => text,
    };
    match t.get(..2) {
        Some(b"0x" | b"0X") => t[2..]
            .iter()
            .take_while(|&&b| b != b'p' && b != b'P')
            .any(|&b| b.is_ascii_hexdigit() && b != b'0'),
        _ => t
            .iter()
            .take_while(|&&b| b != b'e' && b != b'E')
            .any(|b| (b'1'..=b'9').contains(b)),
    }
}

/// Redis's `string2d` (scores, weights): no leading space, all consumed, no overflow to
/// infinity or underflow to zero, not NaN.
pub(crate) fn parse_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() || c_space(s[0]) {
        return None;
    }
    let v = strtod_all(s)?;
    if v.is_nan() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    if v.is_infinite() && !lower.windows(3).any(|w| w == b"inf") {
        return None;
    }
    if v == 0.0 && mantissa_nonzero(s) {
        return None;
    }
    Some(v)
}

fn score(s: &[u8]) -> Result<f64, OpError> {
    parse_score(s).ok_or(OpError::NotFloat)
}

/// One end of a score range (`zslParseRangeItem`: plain `strtod`, so leading spaces and the
/// empty string are accepted).
fn range_item(s: &[u8]) -> Option<(f64, bool)> {
    let s = c_str(s);
    let (body, ex) = match s.split_first() {
        Some((b'(', rest)) => (rest, true),
        _ => (s, false),
    };
    if body.is_empty() {
        return Some((0.0, ex));
    }
    let start = body.iter().position(|&b| !c_space(b))?;
    let v = strtod_all(&body[start..])?;
    (!v.is_nan()).then_some((v, ex))
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, OpError> {
    match (range_item(min), range_item(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange {
            min,
            min_ex,
            max,
            max_ex,
        }),
        _ => Err(err("min or max is not a float")),
    }
}

fn lex_item(s: &[u8]) -> Option<LexBound> {
    match s.split_first() {
        Some((b'+', rest)) if c_str(rest).is_empty() => Some(LexBound::PosInf),
        Some((b'-', rest)) if c_str(rest).is_empty() => Some(LexBound::NegInf),
        Some((b'(', rest)) => Some(LexBound::Excl(Bytes::copy_from_slice(rest))),
        Some((b'[', rest)) => Some(LexBound::Incl(Bytes::copy_from_slice(rest))),
        _ => None,
    }
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, OpError> {
    match (lex_item(min), lex_item(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(err("min or max not valid string range item")),
    }
}

/// `getTimeoutFromObjectOrReply` in seconds: milliseconds, 0 = forever.
fn timeout(s: &[u8]) -> Result<u64, OpError> {
    let v = parse_f64(s).ok_or_else(|| err("timeout is not a float or out of range"))?;
    let ms = v * 1000.0;
    if ms > i64::MAX as f64 {
        return Err(err("timeout is out of range"));
    }
    let ms = ms.ceil();
    if ms < 0.0 {
        return Err(err("timeout is negative"));
    }
    Ok(ms as u64)
}

/// A `getRangeLongFromObjectOrReply(min..=max, msg)` argument.
fn ranged(s: &[u8], min: i64, msg: &str) -> Result<i64, OpError> {
    match parse_i64(s) {
        Some(v) if v >= min => Ok(v),
        _ => Err(err(msg)),
    }
}

// ---- parsers ----

fn zadd(a: &[Bytes]) -> Result<Command, OpError> {
    let mut f = ZAddFlags::default();
    let mut i = 2;
    while let Some(arg) = a.get(i) {
        match () {
            () if is(arg, "nx") => f.nx = true,
            () if is(arg, "xx") => f.xx = true,
            () if is(arg, "gt") => f.gt = true,
            () if is(arg, "lt") => f.lt = true,
            () if is(arg, "ch") => f.ch = true,
            () if is(arg, "incr") => f.incr = true,
            () => break,
        }
        i += 1;
    }
    add_common(a, i, f)
}

fn add_common(a: &[Bytes], first: usize, f: ZAddFlags) -> Result<Command, OpError> {
    let rest = a.get(first..).unwrap_or(&[]);
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(syntax());
    }
    if f.nx && f.xx {
        return Err(err("XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && rest.len() > 2 {
        return Err(err("INCR option supports a single increment-element pair"));
    }
    let pairs = rest
        .chunks_exact(2)
        .map(|p| Ok((score(&p[0])?, p[1].clone())))
        .collect::<Result<Vec<_>, OpError>>()?;
    op(ZSetOp::Add {
        key: a[1].clone(),
        flags: f,
        pairs,
    })
}

fn zincrby(a: &[Bytes]) -> Result<Command, OpError> {
    let f = ZAddFlags {
        incr: true,
        ..ZAddFlags::default()
    };
    add_common(a, 2, f)
}

fn zrem(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::Rem {
        key: a[1].clone(),
        members: a[2..].to_vec(),
    })
}

fn zcard(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::Card { key: a[1].clone() })
}

fn zscore(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::Score {
        key: a[1].clone(),
        member: a[2].clone(),
    })
}

fn zmscore(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::MScore {
        key: a[1].clone(),
        members: a[2..].to_vec(),
    })
}

fn rank(a: &[Bytes], rev: bool, name: &str) -> Result<Command, OpError> {
    let with_score = match a.len() {
        3 => false,
        4 if is(&a[3], "withscore") => true,
        4 => return Err(syntax()),
        _ => return Err(super::args::arity_err(name)),
    };
    op(ZSetOp::Rank {
        key: a[1].clone(),
        member: a[2].clone(),
        rev,
        with_score,
    })
}

fn zrank(a: &[Bytes]) -> Result<Command, OpError> {
    rank(a, false, "zrank")
}

fn zrevrank(a: &[Bytes]) -> Result<Command, OpError> {
    rank(a, true, "zrevrank")
}

fn zcount(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::Count {
        key: a[1].clone(),
        range: score_range(&a[2], &a[3])?,
    })
}

fn zlexcount(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::LexCount {
        key: a[1].clone(),
        range: lex_range(&a[2], &a[3])?,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// `zrangeGenericCommand`: `base` is the index of the source key; `by`/`rev` are fixed by the
/// older spellings (`None` = option allowed).
fn range_generic(
    a: &[Bytes],
    base: usize,
    fixed_by: By,
    fixed_rev: Option<bool>,
    store: bool,
) -> Result<(RangeSpec, bool), OpError> {
    let (mut by, mut rev) = (fixed_by, fixed_rev);
    let (mut with_scores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = base + 3;
    while j < a.len() {
        let left = a.len() - j - 1;
        let arg = &a[j];
        if !store && is(arg, "withscores") {
            with_scores = true;
        } else if is(arg, "limit") && left >= 2 {
            offset = int(&a[j + 1])?;
            limit = int(&a[j + 2])?;
            j += 2;
        } else if rev.is_none() && is(arg, "rev") {
            rev = Some(true);
        } else if by == By::Auto && is(arg, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && is(arg, "byscore") {
            by = By::Score;
        } else {
            return Err(syntax());
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if with_scores && by == By::Lex {
        return Err(err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&a[base + 1], &a[base + 2]);
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let by = match by {
        By::Score => RangeBy::Score(score_range(lo, hi)?),
        By::Lex => RangeBy::Lex(lex_range(lo, hi)?),
        By::Rank | By::Auto => RangeBy::Rank {
            start: int(lo)?,
            end: int(hi)?,
        },
    };
    Ok((
        RangeSpec {
            by,
            rev,
            offset,
            limit,
        },
        with_scores,
    ))
}

fn range_cmd(a: &[Bytes], by: By, rev: Option<bool>) -> Result<Command, OpError> {
    let (spec, with_scores) = range_generic(a, 1, by, rev, false)?;
    op(ZSetOp::Range {
        key: a[1].clone(),
        spec,
        with_scores,
    })
}

fn zrange(a: &[Bytes]) -> Result<Command, OpError> {
    range_cmd(a, By::Auto, None)
}

fn zrevrange(a: &[Bytes]) -> Result<Command, OpError> {
    range_cmd(a, By::Rank, Some(true))
}

fn zrangebyscore(a: &[Bytes]) -> Result<Command, OpError> {
    range_cmd(a, By::Score, Some(false))
}

fn zrevrangebyscore(a: &[Bytes]) -> Result<Command, OpError> {
    range_cmd(a, By::Score, Some(true))
}

fn zrangebylex(a: &[Bytes]) -> Result<Command, OpError> {
    range_cmd(a, By::Lex, Some(false))
}

fn zrevrangebylex(a: &[Bytes]) -> Result<Command, OpError> {
    range_cmd(a, By::Lex, Some(true))
}

fn zrangestore(a: &[Bytes]) -> Result<Command, OpError> {
    let (spec, _) = range_generic(a, 2, By::Auto, None, true)?;
    op(ZSetOp::RangeStore {
        dst: a[1].clone(),
        src: a[2].clone(),
        spec,
    })
}

fn zremrangebyrank(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::RemRange {
        key: a[1].clone(),
        by: RangeBy::Rank {
            start: int(&a[2])?,
            end: int(&a[3])?,
        },
    })
}

fn zremrangebyscore(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::RemRange {
        key: a[1].clone(),
        by: RangeBy::Score(score_range(&a[2], &a[3])?),
    })
}

fn zremrangebylex(a: &[Bytes]) -> Result<Command, OpError> {
    op(ZSetOp::RemRange {
        key: a[1].clone(),
        by: RangeBy::Lex(lex_range(&a[2], &a[3])?),
    })
}

fn pop(a: &[Bytes], max: bool) -> Result<Command, OpError> {
    if a.len() > 3 {
        return Err(syntax());
    }
    let (count, shape) = match a.get(2) {
        None => (1, PopShape::One),
        Some(c) => (
            usize::try_from(ranged(c, 0, "value is out of range, must be positive")?)
                .unwrap_or(usize::MAX),
            PopShape::Count,
        ),
    };
    op(ZSetOp::Pop {
        keys: vec![a[1].clone()],
        max,
        count,
        shape,
        block_ms: None,
    })
}

fn zpopmin(a: &[Bytes]) -> Result<Command, OpError> {
    pop(a, false)
}

fn zpopmax(a: &[Bytes]) -> Result<Command, OpError> {
    pop(a, true)
}

fn bpop(a: &[Bytes], max: bool) -> Result<Command, OpError> {
    let last = a.len() - 1;
    let ms = timeout(&a[last])?;
    op(ZSetOp::Pop {
        keys: a[1..last].to_vec(),
        max,
        count: 1,
        shape: PopShape::Blocking,
        block_ms: Some(ms),
    })
}

fn bzpopmin(a: &[Bytes]) -> Result<Command, OpError> {
    bpop(a, false)
}

fn bzpopmax(a: &[Bytes]) -> Result<Command, OpError> {
    bpop(a, true)
}

/// ZMPOP from `numkeys` at `at`.
fn mpop(a: &[Bytes], at: usize, block_ms: Option<u64>) -> Result<Command, OpError> {
    let numkeys = ranged(&a[at], 1, "numkeys should be greater than 0")?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    let where_at = at + 1 + numkeys.min(a.len());
    if numkeys > a.len() - at - 2 {
        return Err(syntax());
    }
    let keys = a[at + 1..where_at].to_vec();
    let max = match &a[where_at] {
        w if is(w, "min") => false,
        w if is(w, "max") => true,
        _ => return Err(syntax()),
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < a.len() {
        if count.is_none() && is(&a[j], "count") && j + 1 < a.len() {
            count = Some(ranged(&a[j + 1], 1, "count should be greater than 0")?);
            j += 2;
        } else {
            return Err(syntax());
        }
    }
    op(ZSetOp::Pop {
        keys,
        max,
        count: usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX),
        shape: PopShape::Multi,
        block_ms,
    })
}

fn zmpop(a: &[Bytes]) -> Result<Command, OpError> {
    mpop(a, 1, None)
}

fn bzmpop(a: &[Bytes]) -> Result<Command, OpError> {
    let ms = timeout(&a[1])?;
    mpop(a, 2, Some(ms))
}

fn zrandmember(a: &[Bytes]) -> Result<Command, OpError> {
    if a.len() > 4 {
        return Err(syntax());
    }
    let with_scores = match a.get(3) {
        None => false,
        Some(w) if is(w, "withscores") => true,
        Some(_) => return Err(syntax()),
    };
    let count = match a.get(2) {
        None => None,
        Some(c) => {
            let v = int(c)?;
            if v == i64::MIN {
                return Err(err(
                    "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
            if with_scores && v < -(i64::MAX / 2) {
                return Err(err("value is out of range"));
            }
            Some(v)
        }
    };
    op(ZSetOp::RandMember {
        key: a[1].clone(),
        count,
        with_scores,
    })
}

/// `zunionInterDiffGenericCommand` (ZINTERCARD when `card`); `at` is the numkeys index.
fn combine(
    a: &[Bytes],
    kind: SetOpKind,
    at: usize,
    store: bool,
    card: bool,
    name: &str,
) -> Result<(Vec<Bytes>, ZSetOp), OpError> {
    let n = int(&a[at])?;
    if n < 1 {
        return Err(err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > a.len() - at - 1 {
        return Err(syntax());
    }
    let keys = a[at + 1..at + 1 + n].to_vec();
    let mut weights = vec![1.0; n];
    let (mut agg, mut with_scores, mut limit) = (Aggregate::Sum, false, 0usize);
    let mut deferred = None;
    let mut j = at + 1 + n;
    while j < a.len() {
        let remaining = a.len() - j;
        let arg = &a[j];
        if kind != SetOpKind::Diff && !card && remaining > n && is(arg, "weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                match parse_score(&a[j + 1 + i]) {
                    Some(v) => *w = v,
                    None => {
                        deferred = Some(err("weight value is not a float"));
                        break;
                    }
                }
            }
            if deferred.is_some() {
                break;
            }
            j += 1 + n;
        } else if kind != SetOpKind::Diff && !card && remaining >= 2 && is(arg, "aggregate") {
            agg = match &a[j + 1] {
                x if is(x, "sum") => Aggregate::Sum,
                x if is(x, "min") => Aggregate::Min,
                x if is(x, "max") => Aggregate::Max,
                _ => {
                    deferred = Some(syntax());
                    break;
                }
            };
            j += 2;
        } else if !store && !card && is(arg, "withscores") {
            with_scores = true;
            j += 1;
        } else if card && remaining >= 2 && is(arg, "limit") {
            match parse_i64(&a[j + 1]) {
                Some(v) if v >= 0 => limit = usize::try_from(v).unwrap_or(usize::MAX),
                _ => {
                    deferred = Some(err("LIMIT can't be negative"));
                    break;
                }
            }
            j += 2;
        } else {
            deferred = Some(syntax());
            break;
        }
    }
    let z = if card {
        ZSetOp::InterCard {
            keys: keys.clone(),
            limit,
            deferred,
        }
    } else {
        ZSetOp::Combine {
            kind,
            dst: store.then(|| a[1].clone()),
            keys: keys.clone(),
            weights,
            aggregate: agg,
            with_scores,
            deferred,
        }
    };
    Ok((keys, z))
}

fn combine_cmd(a: &[Bytes], kind: SetOpKind, store: bool, name: &str) -> Result<Command, OpError> {
    let at = if store { 2 } else { 1 };
    op(combine(a, kind, at, store, false, name)?.1)
}

fn zunion(a: &[Bytes]) -> Result<Command, OpError> {
    combine_cmd(a, SetOpKind::Union, false, "zunion")
}

fn zinter(a: &[Bytes]) -> Result<Command, OpError> {
    combine_cmd(a, SetOpKind::Inter, false, "zinter")
}

fn zdiff(a: &[Bytes]) -> Result<Command, OpError> {
    combine_cmd(a, SetOpKind::Diff, false, "zdiff")
}

fn zunionstore(a: &[Bytes]) -> Result<Command, OpError> {
    combine_cmd(a, SetOpKind::Union, true, "zunionstore")
}

fn zinterstore(a: &[Bytes]) -> Result<Command, OpError> {
    combine_cmd(a, SetOpKind::Inter, true, "zinterstore")
}

fn zdiffstore(a: &[Bytes]) -> Result<Command, OpError> {
    combine_cmd(a, SetOpKind::Diff, true, "zdiffstore")
}

fn zintercard(a: &[Bytes]) -> Result<Command, OpError> {
    op(combine(a, SetOpKind::Inter, 1, false, true, "zintercard")?.1)
}

fn zscan(a: &[Bytes]) -> Result<Command, OpError> {
    let cursor = parse_cursor(&a[2]).ok_or_else(|| err("invalid cursor"))?;
    let (mut pattern, mut count) = (None, 10usize);
    let mut j = 3;
    while j < a.len() {
        let has_value = j + 1 < a.len();
        if is(&a[j], "count") && has_value {
            let v = int(&a[j + 1])?;
            if v < 1 {
                return Err(syntax());
            }
            count = usize::try_from(v).unwrap_or(usize::MAX);
        } else if is(&a[j], "match") && has_value {
            let p = a[j + 1].clone();
            pattern = (p.as_ref() != b"*").then_some(p);
        } else {
            return Err(syntax());
        }
        j += 2;
    }
    op(ZSetOp::Scan {
        key: a[1].clone(),
        cursor,
        pattern,
        count,
    })
}

#[cfg(test)]
#[path = "zset_tests.rs"]
mod tests;
