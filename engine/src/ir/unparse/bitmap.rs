//! Commands of the bitmap write ops (SETBIT, BITOP, BITFIELD with a SET/INCRBY). BITFIELD's
//! offsets are already multiplied out, so they are spelled plainly; OVERFLOW is emitted
//! wherever the policy in force changes (GETs included, so the op round-trips exactly).

use bytes::Bytes;

use super::Argv;
use crate::ir::ops::BitmapOp;
use crate::ir::ops::bitmap::{BitOpKind, FieldAction, Overflow};

pub(super) fn command(op: &BitmapOp) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        BitmapOp::SetBit { key, offset, value } => {
            a = Argv::new("SETBIT");
            a.arg(key).num(offset).kw(if *value { "1" } else { "0" });
        }
        BitmapOp::BitOp {
            kind,
            dest,
            sources,
        } => {
            a = Argv::new("BITOP");
            a.kw(match kind {
                BitOpKind::And => "AND",
                BitOpKind::Or => "OR",
                BitOpKind::Xor => "XOR",
                BitOpKind::Not => "NOT",
                BitOpKind::Diff => "DIFF",
                BitOpKind::Diff1 => "DIFF1",
                BitOpKind::AndOr => "ANDOR",
                BitOpKind::One => "ONE",
            })
            .arg(dest)
            .args(sources);
        }
        BitmapOp::BitField { key, ops } => {
            a = Argv::new("BITFIELD");
            a.arg(key);
            let mut policy = Overflow::Wrap;
            for f in ops {
                if f.overflow != policy {
                    policy = f.overflow;
                    a.kw("OVERFLOW").kw(match policy {
                        Overflow::Wrap => "WRAP",
                        Overflow::Sat => "SAT",
                        Overflow::Fail => "FAIL",
                    });
                }
                a.kw(match f.action {
                    FieldAction::Get => "GET",
                    FieldAction::Set(_) => "SET",
                    FieldAction::IncrBy(_) => "INCRBY",
                });
                a.text(format!("{}{}", if f.signed { 'i' } else { 'u' }, f.bits))
                    .num(f.offset);
                match f.action {
                    FieldAction::Get => {}
                    FieldAction::Set(v) | FieldAction::IncrBy(v) => {
                        a.num(v);
                    }
                }
            }
        }
        BitmapOp::GetBit { .. } | BitmapOp::BitCount { .. } | BitmapOp::BitPos { .. } => {
            return None;
        }
    }
    a.done()
}
