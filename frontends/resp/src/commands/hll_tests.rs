//! Unit tests of `hll.rs`: lowering to the expected op, arity errors and routing.
use super::*;
use crate::commands::tests::{err_text, p};
use moon_engine::ir::KeyRouting;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn hll(parts: &[&str]) -> HllOp {
    match p(parts) {
        Ok(Command::Op(Op::Hll(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

#[test]
fn lowering() {
    assert_eq!(
        hll(&["pfadd", "h"]),
        HllOp::PfAdd {
            key: b("h"),
            elements: vec![]
        }
    );
    assert_eq!(
        hll(&["PFADD", "h", "a", "b"]),
        HllOp::PfAdd {
            key: b("h"),
            elements: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        hll(&["pfcount", "a", "b"]),
        HllOp::PfCount {
            keys: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        hll(&["pfmerge", "d"]),
        HllOp::PfMerge {
            dest: b("d"),
            sources: vec![]
        }
    );
    assert_eq!(
        hll(&["pfmerge", "d", "a", "b"]),
        HllOp::PfMerge {
            dest: b("d"),
            sources: vec![b("a"), b("b")]
        }
    );
    for cmd in ["pfadd", "pfcount", "pfmerge"] {
        assert_eq!(
            err_text(&[cmd]),
            format!("ERR wrong number of arguments for '{cmd}' command")
        );
    }
}

#[test]
fn routing() {
    let op = |parts: &[&str]| match p(parts) {
        Ok(Command::Op(op)) => op,
        other => panic!("{other:?}"),
    };
    assert_eq!(op(&["pfadd", "h", "x"]).routing(), KeyRouting::Single);
    assert_eq!(op(&["pfcount", "h"]).routing(), KeyRouting::Single);
    let union = op(&["pfcount", "a", "b"]);
    assert_eq!(union.routing(), KeyRouting::Atomic);
    assert!(!union.is_write());
    let merge = op(&["pfmerge", "d", "a"]);
    assert_eq!(merge.routing(), KeyRouting::Atomic);
    assert_eq!(merge.keys(), vec![&b("d"), &b("a")]);
    assert!(merge.is_write());
}
