//! Table entries and parsers of SORT and SORT_RO, in sort.c's option order and texts: options
//! may repeat (the last BY/LIMIT/STORE wins, GETs accumulate); LIMIT needs two integers; STORE
//! is a syntax error in SORT_RO.

use bytes::Bytes;
use moon_engine::ir::ops::SortOp;
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::args::{int, is};
use super::table::{
    CommandSpec, DANGEROUS, DENYOOM, GetKeysProc, K_ACCESS, K_OW, K_RO, K_UPDATE, KeySpec, LIST,
    READONLY, SET, SORTEDSET, WRITE, doc,
};

const G: &str = "generic";
const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

const BY_NOTE: &str = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort";
const STORE_NOTE: &str = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array";

pub static SORT: CommandSpec = CommandSpec::new(
    "sort",
    -2,
    WRITE | DENYOOM,
    SET | SORTEDSET | LIST | DANGEROUS,
    &[
        KeySpec::one(K_RO | K_ACCESS, 1),
        KeySpec::unknown(K_RO | K_ACCESS).with_notes(BY_NOTE),
        KeySpec::unknown(K_OW | K_UPDATE).with_notes(STORE_NOTE),
    ],
    doc(
        G,
        "1.0.0",
        "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        COMPLEXITY,
    ),
    sort,
)
.getkeys(GetKeysProc::Sort);

pub static SORT_RO: CommandSpec = CommandSpec::new(
    "sort_ro",
    -2,
    READONLY,
    SET | SORTEDSET | LIST | DANGEROUS,
    &[
        KeySpec::one(K_RO | K_ACCESS, 1),
        KeySpec::unknown(K_RO | K_ACCESS).with_notes(BY_NOTE),
    ],
    doc(
        G,
        "7.0.0",
        "Returns the sorted elements of a list, a set, or a sorted set.",
        COMPLEXITY,
    ),
    sort_ro,
)
.getkeys(GetKeysProc::SortRo);

/// Every command of the family.
pub static COMMANDS: &[&CommandSpec] = &[&SORT, &SORT_RO];

fn sort(a: &[Bytes]) -> Result<Command, OpError> {
    parse(a, false)
}

fn sort_ro(a: &[Bytes]) -> Result<Command, OpError> {
    parse(a, true)
}

fn parse(a: &[Bytes], readonly: bool) -> Result<Command, OpError> {
    let mut op = SortOp {
        key: a[1].clone(),
        by: None,
        limit: None,
        gets: Vec::new(),
        desc: false,
        alpha: false,
        store: None,
    };
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let arg = &a[j];
        if is(arg, "asc") {
            op.desc = false;
        } else if is(arg, "desc") {
            op.desc = true;
        } else if is(arg, "alpha") {
            op.alpha = true;
        } else if is(arg, "limit") && left >= 2 {
            op.limit = Some((int(&a[j + 1])?, int(&a[j + 2])?));
            j += 2;
        } else if !readonly && is(arg, "store") && left >= 1 {
            op.store = Some(a[j + 1].clone());
            j += 1;
        } else if is(arg, "by") && left >= 1 {
            op.by = Some(a[j + 1].clone());
            j += 1;
        } else if is(arg, "get") && left >= 1 {
            op.gets.push(a[j + 1].clone());
            j += 1;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    Ok(Command::Op(Op::Sort(op)))
}

#[cfg(test)]
#[path = "sort_tests.rs"]
mod tests;
