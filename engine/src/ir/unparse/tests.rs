//! Unit tests of the number spellings and of a few commands. The parse round trip of every
//! write command lives in moon-resp (`commands/unparse_tests.rs`), which owns the parsers.

use bytes::Bytes;
use proptest::prelude::*;

use super::{fmt_f64, fmt_timeout_secs};
use crate::ir::ops::ListOp;
use crate::ir::{ExpireCond, ExpireSpec, GetExSpec, Op, SetCond};
use crate::types::list::End;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn argv(op: &Op, now: u64) -> Vec<String> {
    op.to_command(now)
        .unwrap_or_default()
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// `ceil(secs * 1000)` as BLPOP's and BZPOPMIN's parsers compute it.
fn timeout_back(s: &str) -> Option<u64> {
    s.parse::<f64>().ok().map(|v| (v * 1000.0).ceil() as u64)
}

#[test]
fn floats_are_short_and_exact() {
    assert_eq!(fmt_f64(1.5), "1.5");
    assert_eq!(fmt_f64(-0.0), "-0");
    assert_eq!(fmt_f64(100.0), "100");
    assert_eq!(fmt_f64(1e300), "1e300");
    assert_eq!(fmt_f64(1e-7), "0.0000001");
    assert_eq!(fmt_f64(1e-30), "1e-30");
    assert_eq!(fmt_f64(100000.0), "100000");
    assert_eq!(fmt_f64(0.1), "0.1");
    assert_eq!(fmt_f64(f64::INFINITY), "inf");
    assert_eq!(fmt_f64(f64::NEG_INFINITY), "-inf");
    for v in [
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        1.0 / 3.0,
        -123456.789e10,
    ] {
        assert_eq!(fmt_f64(v).parse::<f64>().ok(), Some(v), "{v}");
    }
}

#[test]
fn timeouts_read_back_exactly() {
    assert_eq!(fmt_timeout_secs(0), "0");
    assert_eq!(fmt_timeout_secs(1000), "1");
    assert_eq!(fmt_timeout_secs(1500), "1.5");
    assert_eq!(fmt_timeout_secs(1), "0.001");
    for ms in (0..20_000).chain([86_400_000, 1_700_000_000_123, (1 << 40) + 7, (1 << 50) + 1]) {
        assert_eq!(timeout_back(&fmt_timeout_secs(ms)), Some(ms), "{ms}");
    }
}

proptest! {
    #[test]
    fn any_float_round_trips(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        prop_assume!(!v.is_nan());
        prop_assert_eq!(fmt_f64(v).parse::<f64>().ok(), Some(v));
    }

    #[test]
    fn any_timeout_round_trips(ms in 0u64..(1 << 45)) {
        prop_assert_eq!(timeout_back(&fmt_timeout_secs(ms)), Some(ms));
    }
}

#[test]
fn relative_times_become_absolute() {
    let set = Op::Set {
        key: b("k"),
        value: b("v"),
        cond: SetCond::IfAbsent,
        expire: ExpireSpec::In(10_000),
        get: true,
    };
    assert_eq!(
        argv(&set, 1000),
        ["SET", "k", "v", "NX", "GET", "PXAT", "11000"]
    );
    let getex = Op::GetEx {
        key: b("k"),
        spec: GetExSpec::Set(ExpireSpec::In(5)),
    };
    assert_eq!(argv(&getex, 1000), ["GETEX", "k", "PXAT", "1005"]);
    let expire = Op::Expire {
        key: b("k"),
        at: ExpireSpec::In(2000),
        cond: ExpireCond::XxLt,
        cmd: "expire",
    };
    assert_eq!(argv(&expire, 1000), ["PEXPIREAT", "k", "3000", "XX", "LT"]);
    let past = Op::Expire {
        key: b("k"),
        at: ExpireSpec::At(0),
        cond: ExpireCond::Always,
        cmd: "expire",
    };
    assert_eq!(argv(&past, 1000), ["EXPIRE", "k", "0"]);
}

#[test]
fn blocking_ops_keep_their_command() {
    let op = Op::Lists(ListOp::BPop {
        keys: vec![b("a"), b("b")],
        end: End::Tail,
        timeout_ms: 2500,
    });
    assert_eq!(argv(&op, 0), ["BRPOP", "a", "b", "2.5"]);
}

#[test]
fn reads_have_no_command() {
    assert_eq!(Op::Get { key: b("k") }.to_command(0), None);
    assert_eq!(Op::DbSize.to_command(0), None);
    let llen = Op::Lists(ListOp::Len { key: b("k") });
    assert_eq!(llen.to_command(0), None);
}
