//! The WAL frame of the most common write ops (SET and its variants, SETNX, APPEND, INCR &
//! co., DEL, MSET/MSETNX, LPUSH & co., HSET/HMSET, SADD/SREM, ZADD/ZREM), written straight
//! into the WAL buffer: no argv `Vec<Bytes>` to build (no reference counts taken and dropped),
//! integers formatted on the stack.
//!
//! Invariant: for every op it accepts, the bytes are exactly those of
//! `encode_command(.., &op.to_command(now_ms))` (the tests below compare them); any other op
//! is left to `to_command`.

use bytes::Bytes;
use moon_formats::wal::CommandWriter;

use super::{absolute, fmt_f64};
use crate::ir::ops::{HashOp, ListOp, SetOp, ZSetOp};
use crate::ir::{ExpireSpec, Op, SetCond};
use crate::types::list::End;

/// Where a frame goes in the log.
#[derive(Debug, Clone, Copy)]
pub struct FrameAt {
    /// The record's LSN.
    pub lsn: u64,
    /// Its timestamp (the op's `now_ms`).
    pub ts_ms: u64,
    /// Its database.
    pub db: u16,
}

/// An integer's decimal digits, on the stack.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn new(v: u64) -> Digits {
        let mut d = Digits {
            buf: [0; 20],
            start: 20,
        };
        let mut v = v;
        loop {
            d.start -= 1;
            d.buf[d.start] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                return d;
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// Writes an `i64` as `Display` does.
fn put_i64(w: &mut CommandWriter<'_>, v: i64) {
    let digits = Digits::new(v.unsigned_abs());
    if v < 0 {
        let mut buf = [0u8; 21];
        buf[0] = b'-';
        let n = digits.bytes().len();
        buf[1..=n].copy_from_slice(digits.bytes());
        w.arg(&buf[..=n]);
    } else {
        w.arg(digits.bytes());
    }
}

/// Encodes the Command frame of `op` (executed at `now_ms`) into `out`; false, writing
/// nothing, for an op this module does not cover.
pub fn encode(op: &Op, now_ms: u64, at: FrameAt, out: &mut Vec<u8>) -> bool {
    let w = match op {
        Op::Set {
            key,
            value,
            cond,
            expire,
            get,
        } => set(out, key, value, *cond, *expire, *get, now_ms),
        Op::SetNx { key, value } => fixed(out, b"SETNX", &[key, value]),
        Op::Append { key, value } => fixed(out, b"APPEND", &[key, value]),
        Op::IncrBy { key, delta } => {
            let mut w = CommandWriter::begin(out, 3);
            w.arg(b"INCRBY").arg(key);
            put_i64(&mut w, *delta);
            w
        }
        Op::Del { keys } => head_and(out, b"DEL", None, keys),
        Op::MSet { pairs } => pairs_cmd(out, b"MSET", None, pairs),
        Op::MSetNx { pairs } => pairs_cmd(out, b"MSETNX", None, pairs),
        Op::Lists(ListOp::Push {
            key,
            end,
            elements,
            only_if_exists,
        }) => {
            let name: &[u8] = match (end, only_if_exists) {
                (End::Head, false) => b"LPUSH",
                (End::Tail, false) => b"RPUSH",
                (End::Head, true) => b"LPUSHX",
                (End::Tail, true) => b"RPUSHX",
            };
            head_and(out, name, Some(key), elements)
        }
        Op::Hashes(HashOp::HSet { key, pairs, legacy }) => {
            let name: &[u8] = if *legacy { b"HMSET" } else { b"HSET" };
            pairs_cmd(out, name, Some(key), pairs)
        }
        Op::Sets(SetOp::Add { key, members }) => head_and(out, b"SADD", Some(key), members),
        Op::Sets(SetOp::Rem { key, members }) => head_and(out, b"SREM", Some(key), members),
        Op::ZSets(ZSetOp::Rem { key, members }) => head_and(out, b"ZREM", Some(key), members),
        Op::ZSets(ZSetOp::Add { key, flags, pairs }) => {
            let kws = [
                (flags.nx, &b"NX"[..]),
                (flags.xx, b"XX"),
                (flags.gt, b"GT"),
                (flags.lt, b"LT"),
                (flags.ch, b"CH"),
                (flags.incr, b"INCR"),
            ];
            let set = kws.iter().filter(|(on, _)| *on).count();
            let mut w = CommandWriter::begin(out, 2 + set + 2 * pairs.len());
            w.arg(b"ZADD").arg(key);
            for (_, kw) in kws.iter().filter(|(on, _)| *on) {
                w.arg(kw);
            }
            for (score, member) in pairs {
                w.arg(fmt_f64(*score).as_bytes()).arg(member);
            }
            w
        }
        _ => return false,
    };
    w.finish(at.lsn, at.ts_ms, at.db);
    true
}

fn set<'a>(
    out: &'a mut Vec<u8>,
    key: &[u8],
    value: &[u8],
    cond: SetCond,
    expire: ExpireSpec,
    get: bool,
    now_ms: u64,
) -> CommandWriter<'a> {
    let at = match expire {
        ExpireSpec::In(ms) => Some(absolute(now_ms, ms)),
        ExpireSpec::At(ms) => Some(ms),
        ExpireSpec::Clear | ExpireSpec::Keep => None,
    };
    let argc = 3
        + usize::from(cond != SetCond::Always)
        + usize::from(get)
        + match expire {
            ExpireSpec::Clear => 0,
            ExpireSpec::Keep => 1,
            ExpireSpec::In(_) | ExpireSpec::At(_) => 2,
        };
    let mut w = CommandWriter::begin(out, argc);
    w.arg(b"SET").arg(key).arg(value);
    match cond {
        SetCond::Always => {}
        SetCond::IfAbsent => {
            w.arg(b"NX");
        }
        SetCond::IfPresent => {
            w.arg(b"XX");
        }
    }
    if get {
        w.arg(b"GET");
    }
    if expire == ExpireSpec::Keep {
        w.arg(b"KEEPTTL");
    }
    if let Some(ms) = at {
        w.arg(b"PXAT").arg(Digits::new(ms).bytes());
    }
    w
}

fn fixed<'a>(out: &'a mut Vec<u8>, name: &[u8], args: &[&Bytes]) -> CommandWriter<'a> {
    let mut w = CommandWriter::begin(out, 1 + args.len());
    w.arg(name);
    for a in args {
        w.arg(a);
    }
    w
}

/// `name [key] items...`
fn head_and<'a>(
    out: &'a mut Vec<u8>,
    name: &[u8],
    key: Option<&Bytes>,
    items: &[Bytes],
) -> CommandWriter<'a> {
    let mut w = CommandWriter::begin(out, 1 + usize::from(key.is_some()) + items.len());
    w.arg(name);
    if let Some(key) = key {
        w.arg(key);
    }
    for it in items {
        w.arg(it);
    }
    w
}

/// `name [key] a1 b1 a2 b2 ...`
fn pairs_cmd<'a>(
    out: &'a mut Vec<u8>,
    name: &[u8],
    key: Option<&Bytes>,
    pairs: &[(Bytes, Bytes)],
) -> CommandWriter<'a> {
    let mut w = CommandWriter::begin(out, 1 + usize::from(key.is_some()) + 2 * pairs.len());
    w.arg(name);
    if let Some(key) = key {
        w.arg(key);
    }
    for (a, b) in pairs {
        w.arg(a).arg(b);
    }
    w
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use moon_formats::wal;

    use super::{FrameAt, encode};
    use crate::ir::ops::zset::ZAddFlags;
    use crate::ir::ops::{HashOp, ListOp, SetOp, ZSetOp};
    use crate::ir::{ExpireSpec, Op, SetCond};
    use crate::types::list::End;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn ops() -> Vec<Op> {
        let mut v = Vec::new();
        for cond in [SetCond::Always, SetCond::IfAbsent, SetCond::IfPresent] {
            for expire in [
                ExpireSpec::Clear,
                ExpireSpec::Keep,
                ExpireSpec::In(1500),
                ExpireSpec::At(0),
                ExpireSpec::At(u64::MAX),
            ] {
                for get in [false, true] {
                    v.push(Op::Set {
                        key: b("k"),
                        value: b("value"),
                        cond,
                        expire,
                        get,
                    });
                }
            }
        }
        for delta in [0, 1, -1, 42, i64::MIN, i64::MAX] {
            v.push(Op::IncrBy { key: b("n"), delta });
        }
        v.push(Op::SetNx {
            key: b("k"),
            value: b(""),
        });
        v.push(Op::Append {
            key: b("k"),
            value: b("tail"),
        });
        v.push(Op::Del {
            keys: vec![b("a"), b("b")],
        });
        v.push(Op::MSet {
            pairs: vec![(b("a"), b("1")), (b("b"), b("2"))],
        });
        v.push(Op::MSetNx {
            pairs: vec![(b("a"), b("1"))],
        });
        for end in [End::Head, End::Tail] {
            for only_if_exists in [false, true] {
                v.push(Op::Lists(ListOp::Push {
                    key: b("l"),
                    end,
                    elements: vec![b("x"), b("y")],
                    only_if_exists,
                }));
            }
        }
        for legacy in [false, true] {
            v.push(Op::Hashes(HashOp::HSet {
                key: b("h"),
                pairs: vec![(b("f"), b("v")), (b("g"), b("w"))],
                legacy,
            }));
        }
        v.push(Op::Sets(SetOp::Add {
            key: b("s"),
            members: vec![b("m")],
        }));
        v.push(Op::Sets(SetOp::Rem {
            key: b("s"),
            members: vec![b("m"), b("n")],
        }));
        v.push(Op::ZSets(ZSetOp::Rem {
            key: b("z"),
            members: vec![b("m")],
        }));
        let all = ZAddFlags {
            nx: true,
            xx: true,
            gt: true,
            lt: true,
            ch: true,
            incr: true,
        };
        for flags in [ZAddFlags::default(), all] {
            v.push(Op::ZSets(ZSetOp::Add {
                key: b("z"),
                flags,
                pairs: vec![(1.5, b("a")), (f64::INFINITY, b("b")), (-0.0, b("c"))],
            }));
        }
        v
    }

    #[test]
    fn frames_are_those_of_the_argv() {
        let at = FrameAt {
            lsn: 77,
            ts_ms: 1_700_000_000_123,
            db: 3,
        };
        for op in ops() {
            let argv = op.to_command(at.ts_ms).expect("a write");
            let mut want = Vec::new();
            wal::encode_command(&mut want, at.lsn, at.ts_ms, at.db, &argv);
            let mut got = b"prefix".to_vec();
            assert!(encode(&op, at.ts_ms, at, &mut got), "{argv:?} covered");
            assert_eq!(&got[6..], &want[..], "{argv:?}");
        }
    }

    #[test]
    fn other_ops_are_left_to_the_argv() {
        let mut out = Vec::new();
        let op = Op::IncrByFloat {
            key: b("f"),
            delta: 1.5,
        };
        assert!(!encode(
            &op,
            0,
            FrameAt {
                lsn: 1,
                ts_ms: 0,
                db: 0
            },
            &mut out
        ));
        assert!(out.is_empty());
    }
}
