//! Commands of the list write ops. Blocking forms keep their blocking command and timeout
//! (replay applies them without blocking, which is deterministic); RPOPLPUSH is logged as the
//! LMOVE it lowers to.

use bytes::Bytes;

use super::{Argv, fmt_timeout_secs};
use crate::ir::ops::ListOp;
use crate::types::list::End;

fn side(end: End) -> &'static str {
    match end {
        End::Head => "LEFT",
        End::Tail => "RIGHT",
    }
}

pub(super) fn command(op: &ListOp) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        ListOp::Push {
            key,
            end,
            elements,
            only_if_exists,
        } => {
            a = Argv::new(match (end, only_if_exists) {
                (End::Head, false) => "LPUSH",
                (End::Tail, false) => "RPUSH",
                (End::Head, true) => "LPUSHX",
                (End::Tail, true) => "RPUSHX",
            });
            a.arg(key).args(elements);
        }
        ListOp::Pop { key, end, count } => {
            a = Argv::new(match end {
                End::Head => "LPOP",
                End::Tail => "RPOP",
            });
            a.arg(key);
            if let Some(n) = count {
                a.num(n);
            }
        }
        ListOp::Set {
            key,
            index,
            element,
        } => {
            a = Argv::new("LSET");
            a.arg(key);
            match index {
                Some(i) => a.num(i),
                // Not an integer: the op fails; "x" keeps it failing the same way.
                None => a.kw("x"),
            };
            a.arg(element);
        }
        ListOp::Insert {
            key,
            after,
            pivot,
            element,
        } => {
            a = Argv::new("LINSERT");
            a.arg(key)
                .kw(if *after { "AFTER" } else { "BEFORE" })
                .arg(pivot)
                .arg(element);
        }
        ListOp::Rem {
            key,
            count,
            element,
        } => {
            a = Argv::new("LREM");
            a.arg(key).num(count).arg(element);
        }
        ListOp::Trim { key, start, stop } => {
            a = Argv::new("LTRIM");
            a.arg(key).num(start).num(stop);
        }
        ListOp::Move {
            src,
            dst,
            from,
            to,
            timeout_ms,
        } => {
            a = Argv::new(if timeout_ms.is_some() {
                "BLMOVE"
            } else {
                "LMOVE"
            });
            a.arg(src).arg(dst).kw(side(*from)).kw(side(*to));
            if let Some(t) = timeout_ms {
                a.text(fmt_timeout_secs(*t));
            }
        }
        ListOp::MPop {
            keys,
            end,
            count,
            timeout_ms,
        } => {
            match timeout_ms {
                Some(t) => {
                    a = Argv::new("BLMPOP");
                    a.text(fmt_timeout_secs(*t));
                }
                None => a = Argv::new("LMPOP"),
            }
            a.num(keys.len()).args(keys).kw(side(*end));
            if *count != 1 {
                a.kw("COUNT").num(count);
            }
        }
        ListOp::BPop {
            keys,
            end,
            timeout_ms,
        } => {
            a = Argv::new(match end {
                End::Head => "BLPOP",
                End::Tail => "BRPOP",
            });
            a.args(keys).text(fmt_timeout_secs(*timeout_ms));
        }
        ListOp::Len { .. } | ListOp::Range { .. } | ListOp::Index { .. } | ListOp::Pos { .. } => {
            return None;
        }
    }
    a.done()
}
