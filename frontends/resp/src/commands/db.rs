//! Database-wide commands (KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB) and the
//! ones that name a database (MOVE, COPY): table entries and parsers.
//!
//! Invariant: database indexes are range-checked here against `moon_engine::DATABASES`, in the
//! order Redis checks them (parse errors of every index first, then the range).

use bytes::Bytes;
use moon_engine::DATABASES;
use moon_engine::ir::{Op, OpError, TypeFilter};

use super::args::{c_int, err, is, parse_cursor, parse_i64};
use super::table::{
    CommandSpec, DANGEROUS, DENYOOM, FAST, K_ACCESS, K_OW, K_RO, K_RW, K_UPDATE, KEYSPACE, KeySpec,
    READONLY, WRITE, doc,
};
use super::{Command, ConnCmd};

const G: &str = "generic";
const S: &str = "server";
const O1: &str = "O(1)";
const SCAN_COMPLEXITY: &str = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.";
const WF: u32 = WRITE | FAST;
const RF: u32 = READONLY | FAST;

fn op(op: Op) -> Result<Command, OpError> {
    Ok(Command::Op(op))
}

fn key(a: &[Bytes], i: usize) -> Bytes {
    a[i].clone()
}

pub static COPY: CommandSpec = CommandSpec::new(
    "copy",
    -3,
    WRITE | DENYOOM,
    KEYSPACE,
    &[
        KeySpec::one(K_RO | K_ACCESS, 1),
        KeySpec::one(K_OW | K_UPDATE, 2),
    ],
    doc(
        G,
        "6.2.0",
        "Copies the value of a key to a new key.",
        "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    ),
    copy,
);

pub static KEYS: CommandSpec = CommandSpec::new(
    "keys",
    2,
    READONLY,
    KEYSPACE | DANGEROUS,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns all key names that match a pattern.",
        "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    ),
    keys,
).tips(&["request_policy:all_shards", "nondeterministic_output_order"]);

pub static MOVE: CommandSpec = CommandSpec::new(
    "move",
    3,
    WF,
    KEYSPACE,
    &[KeySpec::one(K_RW | K_ACCESS | K_UPDATE, 1)],
    doc(G, "1.0.0", "Moves a key to another database.", O1),
    move_,
);

pub static RANDOMKEY: CommandSpec = CommandSpec::new(
    "randomkey",
    1,
    READONLY,
    KEYSPACE,
    &[],
    doc(
        G,
        "1.0.0",
        "Returns a random key name from the database.",
        O1,
    ),
    randomkey,
)
.tips(&["request_policy:all_shards", "nondeterministic_output"]);

pub static SCAN: CommandSpec = CommandSpec::new(
    "scan",
    -2,
    READONLY,
    KEYSPACE,
    &[],
    doc(
        G,
        "2.8.0",
        "Iterates over the key names in the database.",
        SCAN_COMPLEXITY,
    ),
    scan,
)
.tips(&["nondeterministic_output", "request_policy:special"]);

pub static DBSIZE: CommandSpec = CommandSpec::new(
    "dbsize",
    1,
    RF,
    KEYSPACE,
    &[],
    doc(
        S,
        "1.0.0",
        "Returns the number of keys in the database.",
        O1,
    ),
    dbsize,
)
.tips(&["request_policy:all_shards", "response_policy:agg_sum"]);

pub static FLUSHALL: CommandSpec = CommandSpec::new(
    "flushall",
    -1,
    WRITE,
    KEYSPACE | DANGEROUS,
    &[],
    doc(
        S,
        "1.0.0",
        "Removes all keys from all databases.",
        "O(N) where N is the total number of keys in all databases",
    ),
    flushall,
)
.tips(&["request_policy:all_shards", "response_policy:all_succeeded"]);

pub static FLUSHDB: CommandSpec = CommandSpec::new(
    "flushdb",
    -1,
    WRITE,
    KEYSPACE | DANGEROUS,
    &[],
    doc(
        S,
        "1.0.0",
        "Remove all keys from the current database.",
        "O(N) where N is the number of keys in the selected database",
    ),
    flushdb,
)
.tips(&["request_policy:all_shards", "response_policy:all_succeeded"]);

pub static SWAPDB: CommandSpec = CommandSpec::new(
    "swapdb",
    3,
    WF,
    KEYSPACE | DANGEROUS,
    &[],
    doc(
        S,
        "4.0.0",
        "Swaps two Redis databases.",
        "O(N) where N is the count of clients watching or blocking on keys from both databases.",
    ),
    swapdb,
);

fn keys(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Keys { pattern: key(a, 1) })
}

fn randomkey(_: &[Bytes]) -> Result<Command, OpError> {
    op(Op::RandomKey)
}

fn dbsize(_: &[Bytes]) -> Result<Command, OpError> {
    op(Op::DbSize)
}

/// A database index argument: a C int (`msg` overrides the not-an-integer text), then in range.
fn db_index(arg: &[u8], msg: Option<&str>) -> Result<usize, OpError> {
    let id = c_int(arg, msg)?;
    usize::try_from(id)
        .ok()
        .filter(|&id| id < DATABASES)
        .ok_or(OpError::DbIndexOutOfRange)
}

fn move_(a: &[Bytes]) -> Result<Command, OpError> {
    op(Op::Move {
        key: key(a, 1),
        db: db_index(&a[2], None)?,
    })
}

fn swapdb(a: &[Bytes]) -> Result<Command, OpError> {
    let first = c_int(&a[1], Some("invalid first DB index"))?;
    let second = c_int(&a[2], Some("invalid second DB index"))?;
    let in_range = |id: i64| usize::try_from(id).ok().filter(|&id| id < DATABASES);
    match (in_range(first), in_range(second)) {
        (Some(a), Some(b)) => op(Op::SwapDb { a, b }),
        _ => Err(OpError::DbIndexOutOfRange),
    }
}

fn copy(a: &[Bytes]) -> Result<Command, OpError> {
    let (mut dst_db, mut replace) = (None, false);
    let mut j = 3;
    while j < a.len() {
        if is(&a[j], "replace") {
            replace = true;
        } else if let (true, Some(db)) = (is(&a[j], "db"), a.get(j + 1)) {
            dst_db = Some(db_index(db, None)?);
            j += 1;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    op(Op::Copy {
        src: key(a, 1),
        dst: key(a, 2),
        dst_db,
        replace,
    })
}

/// FLUSHDB/FLUSHALL take at most one of ASYNC/SYNC (`getFlushCommandFlags`).
fn flush_mode(a: &[Bytes]) -> Result<(), OpError> {
    match a {
        [_] => Ok(()),
        [_, mode] if is(mode, "sync") || is(mode, "async") => Ok(()),
        _ => Err(OpError::Syntax),
    }
}

fn flushdb(a: &[Bytes]) -> Result<Command, OpError> {
    flush_mode(a)?;
    op(Op::FlushDb)
}

fn flushall(a: &[Bytes]) -> Result<Command, OpError> {
    flush_mode(a)?;
    op(Op::FlushAll)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] (`scanGenericCommand`).
fn scan(a: &[Bytes]) -> Result<Command, OpError> {
    let cursor = parse_cursor(&a[1]).ok_or_else(|| err("invalid cursor"))?;
    let (mut pattern, mut count, mut type_filter) = (None, 10usize, None);
    let mut i = 2;
    while i < a.len() {
        let (opt, value) = match a.get(i + 1) {
            Some(value) => (&a[i], value),
            None => return Err(OpError::Syntax),
        };
        if is(opt, "count") {
            let n = parse_i64(value).ok_or(OpError::NotInteger)?;
            count = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(OpError::Syntax)?;
        } else if is(opt, "match") {
            // "*" matches everything: same as no pattern.
            pattern = (value.as_ref() != b"*").then(|| value.clone());
        } else if is(opt, "type") {
            type_filter = Some(TypeFilter::from_name(value));
        } else {
            return Err(OpError::Syntax);
        }
        i += 2;
    }
    Ok(Command::Conn(ConnCmd::Scan {
        cursor,
        pattern,
        count,
        type_filter,
    }))
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
