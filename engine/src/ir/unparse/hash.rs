//! Commands of the hash write ops, field TTLs made absolute: HEXPIRE/HPEXPIRE → HPEXPIREAT,
//! HGETEX/HSETEX EX/PX → PXAT (HEXPIREAT stays HEXPIREAT when that is what was given, so the op's
//! command name, used in its error text, survives the round trip).

use bytes::Bytes;

use super::{Argv, absolute};
use crate::ir::ExpireCond;
use crate::ir::ops::HashOp;
use crate::ir::ops::hash::{FieldExpire, HGetExAction, HSetExCond, HSetExTtl};

/// `PXAT <abs ms>` for a field expiry.
fn pxat(a: &mut Argv, at: FieldExpire, now_ms: u64) {
    let ms = match at {
        FieldExpire::In(ms) => absolute(now_ms, ms),
        FieldExpire::At(ms) => ms,
    };
    a.kw("PXAT").num(ms);
}

pub(super) fn command(op: &HashOp, now_ms: u64) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        HashOp::HSet { key, pairs, legacy } => {
            a = Argv::new(if *legacy { "HMSET" } else { "HSET" });
            a.arg(key);
            for (f, v) in pairs {
                a.arg(f).arg(v);
            }
        }
        HashOp::HSetNx { key, field, value } => {
            a = Argv::new("HSETNX");
            a.arg(key).arg(field).arg(value);
        }
        HashOp::HDel { key, fields } => {
            a = Argv::new("HDEL");
            a.arg(key).args(fields);
        }
        HashOp::HIncrBy { key, field, delta } => {
            a = Argv::new("HINCRBY");
            a.arg(key).arg(field).num(delta);
        }
        HashOp::HIncrByFloat { key, field, delta } => {
            a = Argv::new("HINCRBYFLOAT");
            a.arg(key).arg(field).float(*delta);
        }
        HashOp::HExpire {
            key,
            at,
            cond,
            fields,
            cmd,
        } => {
            let (name, when) = match at {
                FieldExpire::At(ms) if *cmd == "hexpireat" && ms % 1000 == 0 => {
                    ("HEXPIREAT", ms / 1000)
                }
                FieldExpire::At(ms) => ("HPEXPIREAT", *ms),
                FieldExpire::In(ms) => ("HPEXPIREAT", absolute(now_ms, *ms)),
            };
            a = Argv::new(name);
            a.arg(key).num(when);
            match cond {
                ExpireCond::Always => {}
                ExpireCond::Nx => {
                    a.kw("NX");
                }
                ExpireCond::Xx => {
                    a.kw("XX");
                }
                ExpireCond::Gt => {
                    a.kw("GT");
                }
                // HEXPIRE takes a single condition, so its parser never builds XX LT; LT is
                // the nearest it can say (they differ only on fields without a TTL).
                ExpireCond::Lt | ExpireCond::XxLt => {
                    a.kw("LT");
                }
            }
            a.fields(fields);
        }
        HashOp::HPersist { key, fields } => {
            a = Argv::new("HPERSIST");
            a.arg(key).fields(fields);
        }
        HashOp::HGetDel { key, fields } => {
            a = Argv::new("HGETDEL");
            a.arg(key).fields(fields);
        }
        HashOp::HGetEx {
            key,
            action,
            fields,
        } => {
            a = Argv::new("HGETEX");
            a.arg(key);
            match action {
                HGetExAction::Keep => {}
                HGetExAction::Persist => {
                    a.kw("PERSIST");
                }
                HGetExAction::Expire(at) => pxat(&mut a, *at, now_ms),
            }
            a.fields(fields);
        }
        HashOp::HSetEx {
            key,
            cond,
            ttl,
            pairs,
        } => {
            a = Argv::new("HSETEX");
            a.arg(key);
            match cond {
                HSetExCond::Always => {}
                HSetExCond::NoneExist => {
                    a.kw("FNX");
                }
                HSetExCond::AllExist => {
                    a.kw("FXX");
                }
            }
            match ttl {
                HSetExTtl::Clear => {}
                HSetExTtl::Keep => {
                    a.kw("KEEPTTL");
                }
                HSetExTtl::Expire(at) => pxat(&mut a, *at, now_ms),
            }
            a.kw("FIELDS").num(pairs.len());
            for (f, v) in pairs {
                a.arg(f).arg(v);
            }
        }
        HashOp::HGet { .. }
        | HashOp::HMGet { .. }
        | HashOp::HLen { .. }
        | HashOp::HStrLen { .. }
        | HashOp::HExists { .. }
        | HashOp::HGetAll { .. }
        | HashOp::HRandField { .. }
        | HashOp::HScan { .. }
        | HashOp::HTtl { .. } => return None,
    }
    a.done()
}
