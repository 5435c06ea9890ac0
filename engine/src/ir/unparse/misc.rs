//! Commands of the HyperLogLog, RESTORE, SORT .. STORE and FUNCTION write ops. A single-key
//! PFCOUNT is a write (it may cache the cardinality in the value) and is logged as itself;
//! RESTORE with a relative TTL becomes `RESTORE .. <now+ttl> .. ABSTTL`. FUNCTION LOAD is
//! always logged with REPLACE (it succeeded, so replaying it over the same state is the same
//! effect, and it stays idempotent over a snapshot that already holds the library); FUNCTION
//! RESTORE re-encodes its libraries as a payload with its policy (the shard logs the whole
//! resulting catalog with FLUSH instead, see `Shard::apply`).

use bytes::Bytes;

use super::{Argv, absolute};
use crate::ir::ops::{DumpOp, FunctionOp, HllOp, RestorePolicy, SortOp};

pub(super) fn hll(op: &HllOp) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        HllOp::PfAdd { key, elements } => {
            a = Argv::new("PFADD");
            a.arg(key).args(elements);
        }
        HllOp::PfMerge { dest, sources } => {
            a = Argv::new("PFMERGE");
            a.arg(dest).args(sources);
        }
        HllOp::PfCount { keys } if keys.len() == 1 => {
            a = Argv::new("PFCOUNT");
            a.args(keys);
        }
        HllOp::PfCount { .. } => return None,
    }
    a.done()
}

pub(super) fn dump(op: &DumpOp, now_ms: u64) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        DumpOp::Restore {
            key,
            ttl,
            payload,
            replace,
            abs_ttl,
            idle_secs,
            freq,
        } => {
            a = Argv::new("RESTORE");
            a.arg(key);
            let mut abs = *abs_ttl;
            match ttl {
                Some(t) if !abs && *t > 0 => {
                    a.num(absolute(now_ms, t.unsigned_abs()));
                    abs = true;
                }
                Some(t) => {
                    a.num(t);
                }
                // Not an integer: the op fails; "x" keeps it failing the same way.
                None => {
                    a.kw("x");
                }
            }
            a.arg(payload);
            if *replace {
                a.kw("REPLACE");
            }
            if abs {
                a.kw("ABSTTL");
            }
            if let Some(s) = idle_secs {
                a.kw("IDLETIME").num(s);
            }
            if let Some(f) = freq {
                a.kw("FREQ").num(f);
            }
        }
        DumpOp::Dump { .. } => return None,
    }
    a.done()
}

pub(super) fn sort(op: &SortOp) -> Option<Vec<Bytes>> {
    let SortOp {
        key,
        by,
        limit,
        gets,
        desc,
        alpha,
        store,
    } = op;
    let dst = store.as_ref()?;
    let mut a = Argv::new("SORT");
    a.arg(key);
    if let Some(p) = by {
        a.kw("BY").arg(p);
    }
    if let Some((offset, count)) = limit {
        a.kw("LIMIT").num(offset).num(count);
    }
    for g in gets {
        a.kw("GET").arg(g);
    }
    if *desc {
        a.kw("DESC");
    }
    if *alpha {
        a.kw("ALPHA");
    }
    a.kw("STORE").arg(dst);
    a.done()
}

pub(super) fn functions(op: &FunctionOp) -> Option<Vec<Bytes>> {
    let mut a = Argv::new("FUNCTION");
    match op {
        FunctionOp::Load { code, .. } => {
            a.kw("LOAD").kw("REPLACE").arg(code);
        }
        FunctionOp::Delete { name } => {
            a.kw("DELETE").arg(name);
        }
        FunctionOp::Flush => {
            a.kw("FLUSH");
        }
        FunctionOp::Restore { libs, policy } => {
            let payload = crate::functions::dump_payload(libs.iter().map(|(_, code)| code));
            a.kw("RESTORE").arg(&Bytes::from(payload)).kw(match policy {
                RestorePolicy::Flush => "FLUSH",
                RestorePolicy::Append => "APPEND",
                RestorePolicy::Replace => "REPLACE",
            });
        }
        FunctionOp::Dump => return None,
    }
    a.done()
}
