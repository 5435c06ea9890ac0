//! Unit tests of `sort.rs`: option lowering, repetition rules and error texts.
use super::*;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn sort_op(parts: &[&str]) -> SortOp {
    match p(parts) {
        Ok(Command::Op(Op::Sort(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

#[test]
fn lowering() {
    let op = sort_op(&[
        "SORT", "k", "by", "w_*", "limit", "1", "-2", "get", "#", "GET", "o_*->f", "desc", "alpha",
        "store", "d",
    ]);
    assert_eq!(
        op,
        SortOp {
            key: b("k"),
            by: Some(b("w_*")),
            limit: Some((1, -2)),
            gets: vec![b("#"), b("o_*->f")],
            desc: true,
            alpha: true,
            store: Some(b("d")),
        }
    );
    let op = sort_op(&["sort_ro", "k", "desc", "asc"]);
    assert!(!op.desc && op.store.is_none());
    assert_eq!(op.routing(), moon_engine::ir::KeyRouting::Single);
    assert_eq!(
        sort_op(&["sort", "k", "store", "d"]).routing(),
        moon_engine::ir::KeyRouting::Atomic
    );
}

#[test]
fn errors() {
    assert_eq!(
        err_text(&["sort_ro", "k", "store", "d"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["sort", "k", "limit", "1"]), "ERR syntax error");
    assert_eq!(
        err_text(&["sort", "k", "limit", "a", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err_text(&["sort", "k", "by"]), "ERR syntax error");
    assert_eq!(err_text(&["sort", "k", "foo"]), "ERR syntax error");
    assert_eq!(
        err_text(&["sort"]),
        "ERR wrong number of arguments for 'sort' command"
    );
}
