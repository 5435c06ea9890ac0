//! Unit tests of `db.rs`: lowering to the expected op/command and Redis's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn databases() {
    assert_eq!(
        p(&["move", "k", "1"]),
        Ok(Command::Op(Op::Move { key: b("k"), db: 1 }))
    );
    assert_eq!(
        err_text(&["move", "k", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["move", "k", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err_text(&["move", "k", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        p(&["swapdb", "0", "1"]),
        Ok(Command::Op(Op::SwapDb { a: 0, b: 1 }))
    );
    assert_eq!(
        err_text(&["swapdb", "x", "1"]),
        "ERR invalid first DB index"
    );
    assert_eq!(
        err_text(&["swapdb", "1", "x"]),
        "ERR invalid second DB index"
    );
    assert_eq!(
        err_text(&["swapdb", "100", "x"]),
        "ERR invalid second DB index"
    );
    assert_eq!(
        err_text(&["swapdb", "100", "1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        p(&["copy", "a", "b", "db", "3", "replace"]),
        Ok(Command::Op(Op::Copy {
            src: b("a"),
            dst: b("b"),
            dst_db: Some(3),
            replace: true
        }))
    );
    assert_eq!(
        p(&["copy", "a", "b"]),
        Ok(Command::Op(Op::Copy {
            src: b("a"),
            dst: b("b"),
            dst_db: None,
            replace: false
        }))
    );
    assert_eq!(err_text(&["copy", "a", "b", "db"]), "ERR syntax error");
    assert_eq!(
        err_text(&["copy", "a", "b", "db", "99"]),
        "ERR DB index is out of range"
    );
    assert_eq!(err_text(&["copy", "a", "b", "foo"]), "ERR syntax error");
}

#[test]
fn flush() {
    assert_eq!(p(&["flushdb"]), Ok(Command::Op(Op::FlushDb)));
    assert_eq!(p(&["flushdb", "ASYNC"]), Ok(Command::Op(Op::FlushDb)));
    assert_eq!(p(&["flushall", "sync"]), Ok(Command::Op(Op::FlushAll)));
    assert_eq!(err_text(&["flushall", "now"]), "ERR syntax error");
    assert_eq!(err_text(&["flushdb", "sync", "sync"]), "ERR syntax error");
}

#[test]
fn scan() {
    let scan = |parts: &[&str]| match p(parts) {
        Ok(Command::Conn(ConnCmd::Scan {
            cursor,
            pattern,
            count,
            type_filter,
        })) => (cursor, pattern, count, type_filter),
        other => panic!("{other:?}"),
    };
    assert_eq!(scan(&["scan", "0"]), (0, None, 10, None));
    assert_eq!(
        scan(&["scan", "42", "MATCH", "a*", "count", "5", "type", "STRING"]),
        (42, Some(b("a*")), 5, Some(TypeFilter::String))
    );
    assert_eq!(
        scan(&["scan", "0", "match", "*", "type", "list"]),
        (0, None, 10, Some(TypeFilter::List))
    );
    assert_eq!(
        scan(&["scan", "0", "type", "nosuchtype"]),
        (0, None, 10, Some(TypeFilter::Other))
    );
    assert_eq!(err_text(&["scan", "x"]), "ERR invalid cursor");
    assert_eq!(err_text(&["scan", "-1"]), "ERR invalid cursor");
    assert_eq!(err_text(&["scan", "0", "count", "0"]), "ERR syntax error");
    assert_eq!(
        err_text(&["scan", "0", "count", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err_text(&["scan", "0", "count"]), "ERR syntax error");
    assert_eq!(err_text(&["scan", "0", "foo", "bar"]), "ERR syntax error");
}
