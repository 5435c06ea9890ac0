//! Unit tests of `dump.rs`: lowering of DUMP/RESTORE and RESTORE's option errors.
use super::*;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn restore_op(parts: &[&str]) -> DumpOp {
    match p(parts) {
        Ok(Command::Op(Op::Dump(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

#[test]
fn lowering() {
    assert_eq!(restore_op(&["dump", "k"]), DumpOp::Dump { key: b("k") });
    assert_eq!(
        restore_op(&["RESTORE", "k", "0", "pl"]),
        DumpOp::Restore {
            key: b("k"),
            ttl: Some(0),
            payload: b("pl"),
            replace: false,
            abs_ttl: false,
            idle_secs: None,
            freq: None,
        }
    );
    assert_eq!(
        restore_op(&[
            "restore", "k", "x", "pl", "replace", "ABSTTL", "idletime", "5"
        ]),
        DumpOp::Restore {
            key: b("k"),
            ttl: None,
            payload: b("pl"),
            replace: true,
            abs_ttl: true,
            idle_secs: Some(5),
            freq: None,
        }
    );
    assert!(matches!(
        restore_op(&["restore", "k", "1", "pl", "freq", "255"]),
        DumpOp::Restore {
            freq: Some(255),
            ..
        }
    ));
}

#[test]
fn option_errors() {
    assert_eq!(
        err_text(&["restore", "k", "0", "p", "bogus"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["restore", "k", "0", "p", "idletime"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["restore", "k", "0", "p", "idletime", "1", "freq", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["restore", "k", "0", "p", "idletime", "-1"]),
        "ERR Invalid IDLETIME value, must be >= 0"
    );
    assert_eq!(
        err_text(&["restore", "k", "0", "p", "idletime", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["restore", "k", "0", "p", "freq", "256"]),
        "ERR Invalid FREQ value, must be >= 0 and <= 255"
    );
    assert_eq!(
        err_text(&["restore", "k", "0"]),
        "ERR wrong number of arguments for 'restore' command"
    );
    assert_eq!(
        err_text(&["dump"]),
        "ERR wrong number of arguments for 'dump' command"
    );
}
