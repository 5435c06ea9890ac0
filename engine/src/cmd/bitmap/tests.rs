//! Command-level tests of the bitmap family (examples from the Redis documentation and
//! bitops.c's edge cases), plus a SETBIT/BITFIELD property test against a bit-vector model.
use bytes::Bytes;
use proptest::prelude::*;

use crate::cmd::strings::tests::{evented, events};
use crate::cmd::testutil::*;
use crate::ir::ops::BitmapOp;
use crate::ir::ops::bitmap::{BitOpKind, FieldAction, FieldOp, Overflow, RangeUnit};
use crate::ir::{ExpireSpec, Op, OpError, Reply, SetCond};

fn run(t: &mut T, op: BitmapOp) -> Reply {
    t.run(Op::Bitmaps(op))
}

fn set_bytes(t: &mut T, key: &str, value: &[u8]) {
    let op = Op::Set {
        key: b(key),
        value: Bytes::copy_from_slice(value),
        cond: SetCond::Always,
        expire: ExpireSpec::Clear,
        get: false,
    };
    assert_eq!(t.run(op), Reply::Ok);
}

fn get(t: &mut T, key: &str) -> Reply {
    t.run(Op::Get { key: b(key) })
}

fn setbit(t: &mut T, key: &str, offset: u64, value: bool) -> Reply {
    run(
        t,
        BitmapOp::SetBit {
            key: b(key),
            offset,
            value,
        },
    )
}

fn getbit(t: &mut T, key: &str, offset: u64) -> Reply {
    run(
        t,
        BitmapOp::GetBit {
            key: b(key),
            offset,
        },
    )
}

fn count(t: &mut T, key: &str, range: Option<(i64, i64, RangeUnit)>) -> Reply {
    run(t, BitmapOp::BitCount { key: b(key), range })
}

fn pos(
    t: &mut T,
    key: &str,
    bit: bool,
    start: Option<i64>,
    end: Option<i64>,
    unit: RangeUnit,
) -> Reply {
    run(
        t,
        BitmapOp::BitPos {
            key: b(key),
            bit,
            start,
            end,
            unit,
        },
    )
}

fn bitop(t: &mut T, kind: BitOpKind, dest: &str, sources: &[&str]) -> Reply {
    run(
        t,
        BitmapOp::BitOp {
            kind,
            dest: b(dest),
            sources: sources.iter().map(|s| b(s)).collect(),
        },
    )
}

fn fop(action: FieldAction, ty: &str, offset: u64, overflow: Overflow) -> FieldOp {
    FieldOp {
        action,
        signed: ty.starts_with('i'),
        bits: ty[1..].parse().expect("bits"),
        offset,
        overflow,
    }
}

fn field(t: &mut T, key: &str, ops: Vec<FieldOp>) -> Reply {
    run(t, BitmapOp::BitField { key: b(key), ops })
}

fn ints(values: &[i64]) -> Reply {
    Reply::Array(values.iter().map(|&v| Reply::Int(v)).collect())
}

#[test]
fn setbit_getbit() {
    let mut t = evented();
    assert_eq!(setbit(&mut t, "k", 7, true), Reply::Int(0));
    assert_eq!(get(&mut t, "k"), Reply::bulk(b"\x01"));
    assert_eq!(
        events(&mut t).iter().map(|e| e.1).collect::<Vec<_>>(),
        ["new", "setbit"]
    );
    assert_eq!(setbit(&mut t, "k", 7, true), Reply::Int(1));
    // Nothing changed: no event.
    assert!(events(&mut t).is_empty());
    assert_eq!(setbit(&mut t, "k", 7, false), Reply::Int(1));
    assert_eq!(setbit(&mut t, "k", 17, false), Reply::Int(0));
    // Growing the string counts as a change even when the bit is 0.
    assert_eq!(events(&mut t).len(), 2);
    assert_eq!(get(&mut t, "k"), Reply::bulk(b"\0\0\0"));
    assert_eq!(getbit(&mut t, "k", 1000), Reply::Int(0));
    assert_eq!(getbit(&mut t, "none", 0), Reply::Int(0));
    t.set("n", "12");
    // An integer is read through its text: '1' = 0x31.
    assert_eq!(getbit(&mut t, "n", 2), Reply::Int(1));
    assert_eq!(getbit(&mut t, "n", 4), Reply::Int(0));
    assert_eq!(setbit(&mut t, "n", 6, true), Reply::Int(0));
    assert_eq!(get(&mut t, "n"), bulk("32"));
    assert_eq!(t.run(Op::ObjectEncoding { key: b("n") }), bulk("raw"));
    t.put_non_string("h");
    assert_eq!(setbit(&mut t, "h", 1, true), Reply::Err(OpError::WrongType));
    assert_eq!(getbit(&mut t, "h", 1), Reply::Err(OpError::WrongType));
}

#[test]
fn offsets_are_bounded_by_proto_max_bulk_len() {
    let mut t = T::with_limit(4);
    let err = Reply::Err(OpError::Other(
        "ERR bit offset is not an integer or out of range".into(),
    ));
    assert_eq!(setbit(&mut t, "k", 31, true), Reply::Int(0));
    assert_eq!(setbit(&mut t, "k", 32, true), err);
    assert_eq!(getbit(&mut t, "k", 32), err);
    let op = fop(FieldAction::Get, "u8", 32, Overflow::Wrap);
    assert_eq!(field(&mut t, "k", vec![op]), err);
    // The last field may end past the limit; only its start is bounded.
    let op = fop(FieldAction::Set(255), "u8", 31, Overflow::Wrap);
    // Bit 31 (set above) is the top bit of the old u8 at offset 31.
    assert_eq!(field(&mut t, "k", vec![op]), ints(&[128]));
    assert_eq!(t.run(Op::StrLen { key: b("k") }), Reply::Int(5));
    assert_eq!(setbit(&mut t, "big", u64::MAX, true), err);
}

#[test]
fn bitcount_ranges() {
    let mut t = T::new();
    t.set("k", "foobar");
    assert_eq!(count(&mut t, "k", None), Reply::Int(26));
    assert_eq!(
        count(&mut t, "k", Some((0, 0, RangeUnit::Byte))),
        Reply::Int(4)
    );
    assert_eq!(
        count(&mut t, "k", Some((1, 1, RangeUnit::Byte))),
        Reply::Int(6)
    );
    assert_eq!(
        count(&mut t, "k", Some((5, 30, RangeUnit::Bit))),
        Reply::Int(17)
    );
    assert_eq!(
        count(&mut t, "k", Some((-2, -1, RangeUnit::Byte))),
        Reply::Int(7)
    );
    assert_eq!(
        count(&mut t, "k", Some((-1, -2, RangeUnit::Byte))),
        Reply::Int(0)
    );
    assert_eq!(
        count(&mut t, "k", Some((4, 2, RangeUnit::Byte))),
        Reply::Int(0)
    );
    assert_eq!(
        count(&mut t, "k", Some((0, 1000, RangeUnit::Bit))),
        Reply::Int(26)
    );
    assert_eq!(
        count(&mut t, "k", Some((i64::MIN, i64::MAX, RangeUnit::Bit))),
        Reply::Int(26)
    );
    assert_eq!(
        count(&mut t, "k", Some((3, 3, RangeUnit::Bit))),
        Reply::Int(0)
    );
    assert_eq!(
        count(&mut t, "k", Some((1, 2, RangeUnit::Bit))),
        Reply::Int(2)
    );
    assert_eq!(
        count(&mut t, "none", Some((0, -1, RangeUnit::Bit))),
        Reply::Int(0)
    );
    t.set("n", "-1");
    // "-1" is 0x2d 0x31.
    assert_eq!(count(&mut t, "n", None), Reply::Int(7));
    t.put_non_string("h");
    assert_eq!(count(&mut t, "h", None), Reply::Err(OpError::WrongType));
}

#[test]
fn bitpos_rules() {
    use RangeUnit::{Bit, Byte};
    let mut t = T::new();
    set_bytes(&mut t, "k", b"\xff\xf0\x00");
    assert_eq!(pos(&mut t, "k", false, None, None, Byte), Reply::Int(12));
    set_bytes(&mut t, "k", b"\x00\xff\xf0");
    assert_eq!(pos(&mut t, "k", true, Some(0), None, Byte), Reply::Int(8));
    assert_eq!(pos(&mut t, "k", true, Some(2), None, Byte), Reply::Int(16));
    assert_eq!(
        pos(&mut t, "k", true, Some(2), Some(-1), Byte),
        Reply::Int(16)
    );
    assert_eq!(
        pos(&mut t, "k", true, Some(7), Some(15), Bit),
        Reply::Int(8)
    );
    assert_eq!(
        pos(&mut t, "k", false, Some(8), Some(19), Bit),
        Reply::Int(-1)
    );
    assert_eq!(
        pos(&mut t, "k", false, Some(8), Some(20), Bit),
        Reply::Int(20)
    );
    assert_eq!(
        pos(&mut t, "k", true, Some(3), Some(5), Bit),
        Reply::Int(-1)
    );
    assert_eq!(
        pos(&mut t, "k", true, Some(10), Some(9), Bit),
        Reply::Int(-1)
    );
    set_bytes(&mut t, "z", b"\x00\x00\x00");
    assert_eq!(pos(&mut t, "z", true, None, None, Byte), Reply::Int(-1));
    assert_eq!(
        pos(&mut t, "z", true, Some(7), Some(-3), Bit),
        Reply::Int(-1)
    );
    set_bytes(&mut t, "f", b"\xff\xff\xff");
    // Without an end the string is zero padded on the right; with one it is not.
    assert_eq!(pos(&mut t, "f", false, None, None, Byte), Reply::Int(24));
    assert_eq!(pos(&mut t, "f", false, Some(0), None, Byte), Reply::Int(24));
    assert_eq!(
        pos(&mut t, "f", false, Some(0), Some(-1), Byte),
        Reply::Int(-1)
    );
    assert_eq!(
        pos(&mut t, "f", false, Some(1), Some(22), Bit),
        Reply::Int(-1)
    );
    assert_eq!(pos(&mut t, "none", false, None, None, Byte), Reply::Int(0));
    assert_eq!(
        pos(&mut t, "none", true, Some(3), None, Byte),
        Reply::Int(-1)
    );
    set_bytes(&mut t, "e", b"");
    assert_eq!(pos(&mut t, "e", false, None, None, Byte), Reply::Int(-1));
}

#[test]
fn bitop_stores_and_deletes() {
    let mut t = evented();
    set_bytes(&mut t, "a", b"foof");
    set_bytes(&mut t, "b", b"bar");
    events(&mut t);
    assert_eq!(
        bitop(&mut t, BitOpKind::And, "d", &["a", "b"]),
        Reply::Int(4)
    );
    assert_eq!(get(&mut t, "d"), Reply::bulk(b"bab\0"));
    assert_eq!(t.run(Op::ObjectEncoding { key: b("d") }), bulk("raw"));
    assert_eq!(
        bitop(&mut t, BitOpKind::Or, "d", &["a", "b"]),
        Reply::Int(4)
    );
    assert_eq!(get(&mut t, "d"), Reply::bulk(b"fo\x7ff"));
    assert_eq!(
        events(&mut t),
        vec![
            (0, "new", "d".to_string()),
            (0, "set", "d".to_string()),
            (0, "set", "d".to_string())
        ]
    );
    assert_eq!(bitop(&mut t, BitOpKind::Not, "n", &["b"]), Reply::Int(3));
    assert_eq!(get(&mut t, "n"), Reply::bulk(&[!b'b', !b'a', !b'r']));
    // Every source empty: the destination is deleted.
    t.run(Op::Expire {
        cmd: "expire",
        key: b("d"),
        at: ExpireSpec::In(10_000),
        cond: crate::ir::ExpireCond::Always,
    });
    events(&mut t);
    assert_eq!(
        bitop(&mut t, BitOpKind::Xor, "d", &["x", "y"]),
        Reply::Int(0)
    );
    assert_eq!(t.run(exists(&["d"])), Reply::Int(0));
    assert_eq!(events(&mut t), vec![(0, "del", "d".to_string())]);
    assert_eq!(
        bitop(&mut t, BitOpKind::Xor, "d", &["x", "y"]),
        Reply::Int(0)
    );
    assert!(events(&mut t).is_empty());
    // The destination loses its TTL.
    t.run(Op::Expire {
        cmd: "expire",
        key: b("a"),
        at: ExpireSpec::In(10_000),
        cond: crate::ir::ExpireCond::Always,
    });
    assert_eq!(
        bitop(&mut t, BitOpKind::One, "a", &["a", "b"]),
        Reply::Int(4)
    );
    assert_eq!(t.run(ttl_ms("a")), Reply::Int(-1));
    t.put_non_string("h");
    assert_eq!(
        bitop(&mut t, BitOpKind::Or, "d", &["a", "h"]),
        Reply::Err(OpError::WrongType)
    );
    // Integer-encoded sources are read as text.
    t.set("i", "12");
    assert_eq!(
        bitop(&mut t, BitOpKind::Diff, "d", &["i", "x"]),
        Reply::Int(2)
    );
    assert_eq!(get(&mut t, "d"), bulk("12"));
}

#[test]
fn bitfield_examples() {
    use FieldAction::*;
    use Overflow::*;
    let mut t = evented();
    assert_eq!(
        field(
            &mut t,
            "k",
            vec![fop(IncrBy(100), "i5", 100, Wrap), fop(Get, "u4", 0, Wrap)]
        ),
        ints(&[4, 0])
    );
    assert_eq!(
        events(&mut t).iter().map(|e| e.1).collect::<Vec<_>>(),
        ["new", "setbit"]
    );
    let sat = |t: &mut T| {
        field(
            t,
            "m",
            vec![
                fop(IncrBy(1), "u2", 100, Wrap),
                fop(IncrBy(1), "u2", 102, Sat),
            ],
        )
    };
    assert_eq!(sat(&mut t), ints(&[1, 1]));
    assert_eq!(sat(&mut t), ints(&[2, 2]));
    assert_eq!(sat(&mut t), ints(&[3, 3]));
    assert_eq!(sat(&mut t), ints(&[0, 3]));
    events(&mut t);
    assert_eq!(
        field(&mut t, "m", vec![fop(IncrBy(1), "u2", 102, Fail)]),
        Reply::Array(vec![Reply::Nil])
    );
    // A FAILed write changes nothing and records no event.
    assert!(events(&mut t).is_empty());
    assert_eq!(
        field(
            &mut t,
            "s",
            vec![
                fop(Set(-1), "i8", 0, Wrap),
                fop(Set(300), "u8", 8, Wrap),
                fop(Get, "i16", 0, Wrap),
                fop(Set(5), "i64", 16, Wrap),
                fop(IncrBy(i64::MAX), "i64", 16, Sat),
                fop(IncrBy(-5), "u63", 80, Sat),
            ]
        ),
        ints(&[0, 0, -212, 0, i64::MAX, 0])
    );
    // Reads only: a missing key reads as zeros and is not created.
    assert_eq!(
        field(
            &mut t,
            "none",
            vec![fop(Get, "u8", 0, Wrap), fop(Get, "i64", 3, Wrap)]
        ),
        ints(&[0, 0])
    );
    assert_eq!(t.run(exists(&["none"])), Reply::Int(0));
    assert_eq!(field(&mut t, "none", vec![]), Reply::Array(vec![]));
    // A FAIL on a missing key still creates it (zero padded), as Redis does.
    assert_eq!(
        field(&mut t, "new", vec![fop(IncrBy(5), "u2", 0, Fail)]),
        Reply::Array(vec![Reply::Nil])
    );
    assert_eq!(get(&mut t, "new"), Reply::bulk(b"\0"));
    t.put_non_string("h");
    assert_eq!(
        field(&mut t, "h", vec![fop(Get, "u8", 0, Wrap)]),
        Reply::Err(OpError::WrongType)
    );
    assert_eq!(
        field(&mut t, "h", vec![fop(Set(1), "u8", 0, Wrap)]),
        Reply::Err(OpError::WrongType)
    );
}

proptest! {
    #[test]
    fn setbit_and_bitfield_match_a_bit_model(
        ops in proptest::collection::vec((0u64..300, any::<bool>(), 1u8..=16, any::<i64>()), 1..60)
    ) {
        let mut t = T::new();
        let mut model: Vec<bool> = Vec::new();
        for (offset, on, bits, value) in ops {
            if value % 2 == 0 {
                let old = setbit(&mut t, "k", offset, on);
                let idx = offset as usize;
                let needed = (idx / 8 + 1) * 8;
                if model.len() < needed {
                    model.resize(needed, false);
                }
                prop_assert_eq!(old, Reply::Int(i64::from(model[idx])));
                model[idx] = on;
            } else {
                let op = FieldOp {
                    action: FieldAction::Set(value),
                    signed: false,
                    bits,
                    offset,
                    overflow: Overflow::Wrap,
                };
                let end = (offset + u64::from(bits) - 1) as usize;
                let needed = (end / 8 + 1) * 8;
                if model.len() < needed {
                    model.resize(needed, false);
                }
                let old = (0..bits as usize)
                    .fold(0i64, |acc, j| (acc << 1) | i64::from(model[offset as usize + j]));
                prop_assert_eq!(field(&mut t, "k", vec![op]), ints(&[old]));
                for j in 0..bits as usize {
                    model[offset as usize + j] = (value >> (bits as usize - 1 - j)) & 1 == 1;
                }
            }
            let bytes: Vec<u8> = model
                .chunks(8)
                .map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | u8::from(b)))
                .collect();
            prop_assert_eq!(get(&mut t, "k"), Reply::bulk(&bytes));
            let ones = model.iter().filter(|&&b| b).count() as i64;
            prop_assert_eq!(count(&mut t, "k", None), Reply::Int(ones));
            let first = model.iter().position(|&b| b).map_or(-1, |p| p as i64);
            prop_assert_eq!(pos(&mut t, "k", true, None, None, RangeUnit::Byte), Reply::Int(first));
        }
    }
}
