//! Unit tests of `bitmap.rs`: lowering to the expected op and bitops.c's exact error texts.
use super::*;
use crate::commands::tests::{err_text, p};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn bm(parts: &[&str]) -> BitmapOp {
    match p(parts) {
        Ok(Command::Op(Op::Bitmaps(op))) => op,
        other => panic!("{parts:?}: {other:?}"),
    }
}

const OFFSET: &str = "ERR bit offset is not an integer or out of range";
const TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

#[test]
fn setbit_getbit() {
    assert_eq!(
        bm(&["setbit", "k", "7", "1"]),
        BitmapOp::SetBit {
            key: b("k"),
            offset: 7,
            value: true
        }
    );
    assert_eq!(
        bm(&["SETBIT", "k", "0", "0"]),
        BitmapOp::SetBit {
            key: b("k"),
            offset: 0,
            value: false
        }
    );
    assert_eq!(
        bm(&["getbit", "k", "9223372036854775807"]),
        BitmapOp::GetBit {
            key: b("k"),
            offset: i64::MAX as u64
        }
    );
    assert_eq!(err_text(&["setbit", "k", "-1", "1"]), OFFSET);
    assert_eq!(err_text(&["setbit", "k", "x", "1"]), OFFSET);
    assert_eq!(err_text(&["setbit", "k", "#1", "1"]), OFFSET);
    assert_eq!(err_text(&["getbit", "k", "-1"]), OFFSET);
    let bit = "ERR bit is not an integer or out of range";
    assert_eq!(err_text(&["setbit", "k", "1", "2"]), bit);
    assert_eq!(err_text(&["setbit", "k", "1", "-1"]), bit);
    assert_eq!(err_text(&["setbit", "k", "1", "x"]), bit);
    assert_eq!(
        err_text(&["setbit", "k", "1"]),
        "ERR wrong number of arguments for 'setbit' command"
    );
}

#[test]
fn bitcount_and_bitpos() {
    assert_eq!(
        bm(&["bitcount", "k"]),
        BitmapOp::BitCount {
            key: b("k"),
            range: None
        }
    );
    assert_eq!(
        bm(&["bitcount", "k", "1", "-2", "BIT"]),
        BitmapOp::BitCount {
            key: b("k"),
            range: Some((1, -2, RangeUnit::Bit))
        }
    );
    assert_eq!(
        bm(&["bitcount", "k", "1", "2"]),
        BitmapOp::BitCount {
            key: b("k"),
            range: Some((1, 2, RangeUnit::Byte))
        }
    );
    assert_eq!(err_text(&["bitcount", "k", "0"]), "ERR syntax error");
    assert_eq!(
        err_text(&["bitcount", "k", "0", "1", "2"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["bitcount", "k", "0", "1", "bit", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["bitcount", "k", "0", "x"]),
        "ERR value is not an integer or out of range"
    );

    assert_eq!(
        bm(&["bitpos", "k", "1"]),
        BitmapOp::BitPos {
            key: b("k"),
            bit: true,
            start: None,
            end: None,
            unit: RangeUnit::Byte
        }
    );
    assert_eq!(
        bm(&["bitpos", "k", "0", "3", "-1", "bit"]),
        BitmapOp::BitPos {
            key: b("k"),
            bit: false,
            start: Some(3),
            end: Some(-1),
            unit: RangeUnit::Bit
        }
    );
    assert_eq!(
        err_text(&["bitpos", "k", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(
        err_text(&["bitpos", "k", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err_text(&["bitpos", "k", "1", "0", "1", "2", "3"]),
        "ERR syntax error"
    );
    // The unit is checked before the end, as in bitposCommand.
    assert_eq!(
        err_text(&["bitpos", "k", "1", "0", "x", "bits"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["bitpos", "k", "1", "0", "x", "bit"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn bitop_forms() {
    assert_eq!(
        bm(&["bitop", "AND", "d", "a", "b"]),
        BitmapOp::BitOp {
            kind: BitOpKind::And,
            dest: b("d"),
            sources: vec![b("a"), b("b")]
        }
    );
    for (name, kind) in [
        ("or", BitOpKind::Or),
        ("Xor", BitOpKind::Xor),
        ("diff", BitOpKind::Diff),
        ("DIFF1", BitOpKind::Diff1),
        ("andor", BitOpKind::AndOr),
        ("one", BitOpKind::One),
    ] {
        match bm(&["bitop", name, "d", "a", "b"]) {
            BitmapOp::BitOp { kind: k, .. } => assert_eq!(k, kind, "{name}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        bm(&["bitop", "not", "d", "a"]),
        BitmapOp::BitOp {
            kind: BitOpKind::Not,
            dest: b("d"),
            sources: vec![b("a")]
        }
    );
    assert_eq!(err_text(&["bitop", "nand", "d", "a"]), "ERR syntax error");
    assert_eq!(
        err_text(&["bitop", "not", "d", "a", "b"]),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(
        err_text(&["bitop", "diff1", "d", "a"]),
        "ERR BITOP DIFF1 must be called with at least two source keys."
    );
    assert_eq!(
        err_text(&["bitop", "AndOr", "d", "a"]),
        "ERR BITOP ANDOR must be called with at least two source keys."
    );
    assert_eq!(
        err_text(&["bitop", "and", "d"]),
        "ERR wrong number of arguments for 'bitop' command"
    );
}

fn field(action: FieldAction, signed: bool, bits: u8, offset: u64, overflow: Overflow) -> FieldOp {
    FieldOp {
        action,
        signed,
        bits,
        offset,
        overflow,
    }
}

#[test]
fn bitfield_ops() {
    let ops = match bm(&[
        "bitfield", "k", "get", "u8", "#2", "set", "i5", "3", "-1", "overflow", "SAT", "incrby",
        "u63", "0", "9", "overflow", "fail", "get", "i64", "1",
    ]) {
        BitmapOp::BitField { ops, .. } => ops,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        ops,
        vec![
            field(FieldAction::Get, false, 8, 16, Overflow::Wrap),
            field(FieldAction::Set(-1), true, 5, 3, Overflow::Wrap),
            field(FieldAction::IncrBy(9), false, 63, 0, Overflow::Sat),
            field(FieldAction::Get, true, 64, 1, Overflow::Fail),
        ]
    );
    assert_eq!(
        bm(&["bitfield", "k"]),
        BitmapOp::BitField {
            key: b("k"),
            ops: vec![]
        }
    );
    // A trailing OVERFLOW is accepted and does nothing.
    assert_eq!(
        bm(&["bitfield", "k", "overflow", "wrap"]),
        BitmapOp::BitField {
            key: b("k"),
            ops: vec![]
        }
    );
    for bad in ["i65", "u64", "u0", "i0", "x8", "i", "", "i8x", "i-1"] {
        assert_eq!(err_text(&["bitfield", "k", "get", bad, "0"]), TYPE, "{bad}");
    }
    assert_eq!(err_text(&["bitfield", "k", "get", "i8", "-1"]), OFFSET);
    assert_eq!(err_text(&["bitfield", "k", "get", "i8", "#-1"]), OFFSET);
    assert_eq!(err_text(&["bitfield", "k", "get", "i8", "#x"]), OFFSET);
    assert_eq!(
        err_text(&["bitfield", "k", "overflow", "foo"]),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(err_text(&["bitfield", "k", "foo"]), "ERR syntax error");
    assert_eq!(
        err_text(&["bitfield", "k", "get", "i8"]),
        "ERR syntax error"
    );
    assert_eq!(
        err_text(&["bitfield", "k", "set", "i8", "0"]),
        "ERR syntax error"
    );
    assert_eq!(err_text(&["bitfield", "k", "overflow"]), "ERR syntax error");
    assert_eq!(
        err_text(&["bitfield", "k", "set", "i8", "0", "x"]),
        "ERR value is not an integer or out of range"
    );
    // The first error in argument order wins.
    assert_eq!(err_text(&["bitfield", "k", "get", "i99", "0", "foo"]), TYPE);
}

#[test]
fn bitfield_ro_only_reads() {
    assert_eq!(
        bm(&["bitfield_ro", "k", "overflow", "sat", "get", "u8", "0"]),
        BitmapOp::BitField {
            key: b("k"),
            ops: vec![field(FieldAction::Get, false, 8, 0, Overflow::Sat)]
        }
    );
    assert_eq!(
        err_text(&["bitfield_ro", "k", "set", "i8", "0", "1"]),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    assert_eq!(
        err_text(&["bitfield_ro", "k", "incrby", "i8", "0", "x"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn routing_and_write_flags() {
    use moon_engine::ir::KeyRouting;
    let op = |parts: &[&str]| match p(parts) {
        Ok(Command::Op(op)) => op,
        other => panic!("{other:?}"),
    };
    let bitop = op(&["bitop", "or", "d", "a", "b"]);
    assert_eq!(bitop.routing(), KeyRouting::Atomic);
    assert_eq!(bitop.keys(), vec![&b("d"), &b("a"), &b("b")]);
    assert!(bitop.is_write());
    assert_eq!(op(&["setbit", "k", "1", "1"]).routing(), KeyRouting::Single);
    assert!(!op(&["bitfield", "k", "get", "u8", "0"]).is_write());
    assert!(op(&["bitfield", "k", "incrby", "u8", "0", "1"]).is_write());
    assert!(!op(&["bitcount", "k"]).is_write());
}

proptest::proptest! {
    #[test]
    fn parsing_never_panics(args in proptest::collection::vec("[a-z0-9#-]{0,6}", 0..9)) {
        for cmd in ["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"] {
            let mut parts = vec![cmd];
            parts.extend(args.iter().map(String::as_str));
            let _ = p(&parts);
        }
    }
}
