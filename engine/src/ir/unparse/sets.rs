//! Commands of the set write ops. SPOP is logged as SPOP: it draws from the shard's seeded
//! generator, so only a replay from the same generator state repeats its choice (the WAL
//! writer rewrites it to SREM of the popped members).

use bytes::Bytes;

use super::Argv;
use crate::ir::ops::SetOp;
use crate::ir::ops::sets::SetAlgebra;

pub(super) fn command(op: &SetOp) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        SetOp::Add { key, members } => {
            a = Argv::new("SADD");
            a.arg(key).args(members);
        }
        SetOp::Rem { key, members } => {
            a = Argv::new("SREM");
            a.arg(key).args(members);
        }
        SetOp::Pop { key, count } => {
            a = Argv::new("SPOP");
            a.arg(key);
            if let Some(n) = count {
                a.num(n);
            }
        }
        SetOp::Move { src, dst, member } => {
            a = Argv::new("SMOVE");
            a.arg(src).arg(dst).arg(member);
        }
        SetOp::Combine {
            op: kind,
            dst: Some(dst),
            keys,
        } => {
            a = Argv::new(match kind {
                SetAlgebra::Inter => "SINTERSTORE",
                SetAlgebra::Union => "SUNIONSTORE",
                SetAlgebra::Diff => "SDIFFSTORE",
            });
            a.arg(dst).args(keys);
        }
        SetOp::Combine { dst: None, .. }
        | SetOp::Card { .. }
        | SetOp::IsMember { .. }
        | SetOp::MIsMember { .. }
        | SetOp::Members { .. }
        | SetOp::RandMember { .. }
        | SetOp::InterCard { .. }
        | SetOp::Scan { .. } => return None,
    }
    a.done()
}
