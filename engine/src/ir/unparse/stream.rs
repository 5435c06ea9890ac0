//! Commands of the stream write ops (XADD ... XSETID, XREADGROUP). `XCLAIM .. IDLE ms` is made
//! absolute as `TIME now-ms`; XADD's `*` stays `*` (the ID derives from the replayed `now_ms`
//! and the stream's last ID, so replay generates the same one).
//!
//! Arguments that Redis rejects only after its key checks travel in the op as errors; their
//! command spells an invalid argument that the parser turns into the same error, so such an
//! op (which always fails, and is therefore never logged) still round-trips.

use bytes::Bytes;

use super::Argv;
use crate::ir::OpError;
use crate::ir::ops::StreamOp;
use crate::ir::ops::stream::{AddId, Delivery, GroupStart, ReadId, TrimSpec};
use crate::types::stream::{StreamId, TrimStrategy};

/// A stream ID argument.
fn id(a: &mut Argv, id: StreamId) -> &mut Argv {
    a.text(id.to_string())
}

/// An argument no ID parser accepts ("Invalid stream ID specified as stream command argument").
const BAD_ID: &str = "x";

/// `MAXLEN|MINID [~] threshold [LIMIT n]`.
fn trim(a: &mut Argv, t: &TrimSpec) {
    match t.strategy {
        TrimStrategy::MaxLen(n) => {
            a.kw("MAXLEN");
            if t.approx {
                a.kw("~");
            }
            a.num(n);
        }
        TrimStrategy::MinId(m) => {
            a.kw("MINID");
            if t.approx {
                a.kw("~");
            }
            id(a, m);
        }
    }
    // LIMIT is only accepted with `~`.
    if let (Some(limit), true) = (t.limit, t.approx) {
        a.kw("LIMIT").num(limit);
    }
}

/// A list of IDs, or an invalid one standing for the parse error they carry.
fn ids(a: &mut Argv, list: &Result<Vec<StreamId>, OpError>) {
    match list {
        Ok(list) => {
            for &i in list {
                id(a, i);
            }
        }
        Err(_) => {
            a.kw(BAD_ID);
        }
    }
}

/// The start ID of XGROUP CREATE / SETID.
fn group_start(a: &mut Argv, start: &GroupStart) {
    match start {
        GroupStart::Last => {
            a.kw("$");
        }
        GroupStart::Id(Ok(i)) => {
            id(a, *i);
        }
        GroupStart::Id(Err(_)) => {
            a.kw(BAD_ID);
        }
    }
}

/// XGROUP CREATE/SETID's options; a late (too many arguments) error is reproduced by
/// repeating ENTRIESREAD, which leaves every field as it is.
fn entries_read(a: &mut Argv, n: i64, late: bool) {
    if n != -1 || late {
        a.kw("ENTRIESREAD").num(n);
    }
    if late {
        a.kw("ENTRIESREAD").num(n);
        if a.len() <= 8 {
            a.kw("ENTRIESREAD").num(n);
        }
    }
}

/// One XREADGROUP ID.
fn read_id(a: &mut Argv, r: &ReadId) {
    match r {
        ReadId::New => {
            a.kw(">");
        }
        ReadId::After(i) => {
            id(a, *i);
        }
        // In XREADGROUP `$` and `+` parse to errors; give back the argument that did.
        ReadId::Last => {
            a.kw("$");
        }
        ReadId::LastEntry => {
            a.kw("+");
        }
        ReadId::Invalid(OpError::Other(text)) if text.starts_with("ERR The $ ID") => {
            a.kw("$");
        }
        ReadId::Invalid(OpError::Other(text)) if text.starts_with("ERR The + ID") => {
            a.kw("+");
        }
        ReadId::Invalid(_) => {
            a.kw(BAD_ID);
        }
    }
}

pub(super) fn command(op: &StreamOp, now_ms: u64) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        StreamOp::Add {
            key,
            nomkstream,
            id: add_id,
            fields,
            trim: t,
        } => {
            a = Argv::new("XADD");
            a.arg(key);
            if *nomkstream {
                a.kw("NOMKSTREAM");
            }
            if let Some(t) = t {
                trim(&mut a, t);
            }
            match add_id {
                AddId::Auto => {
                    a.kw("*");
                }
                AddId::AutoSeq(ms) => {
                    a.text(format!("{ms}-*"));
                }
                AddId::Explicit(i) => {
                    id(&mut a, *i);
                }
            }
            for (f, v) in fields {
                a.arg(f).arg(v);
            }
        }
        StreamOp::Del { key, ids: list } => {
            a = Argv::new("XDEL");
            a.arg(key);
            ids(&mut a, list);
        }
        StreamOp::Trim { key, trim: t } => {
            a = Argv::new("XTRIM");
            a.arg(key);
            trim(&mut a, t);
        }
        StreamOp::GroupCreate {
            key,
            group,
            start,
            mkstream,
            entries_read: n,
            late_err,
        } => {
            a = Argv::new("XGROUP");
            a.kw("CREATE").arg(key).arg(group);
            group_start(&mut a, start);
            if *mkstream {
                a.kw("MKSTREAM");
            }
            entries_read(&mut a, *n, late_err.is_some());
        }
        StreamOp::GroupSetId {
            key,
            group,
            start,
            entries_read: n,
            late_err,
        } => {
            a = Argv::new("XGROUP");
            a.kw("SETID").arg(key).arg(group);
            group_start(&mut a, start);
            entries_read(&mut a, *n, late_err.is_some());
        }
        StreamOp::GroupDestroy { key, group } => {
            a = Argv::new("XGROUP");
            a.kw("DESTROY").arg(key).arg(group);
        }
        StreamOp::GroupCreateConsumer {
            key,
            group,
            consumer,
        } => {
            a = Argv::new("XGROUP");
            a.kw("CREATECONSUMER").arg(key).arg(group).arg(consumer);
        }
        StreamOp::GroupDelConsumer {
            key,
            group,
            consumer,
        } => {
            a = Argv::new("XGROUP");
            a.kw("DELCONSUMER").arg(key).arg(group).arg(consumer);
        }
        StreamOp::Ack {
            key,
            group,
            ids: list,
        } => {
            a = Argv::new("XACK");
            a.arg(key).arg(group);
            ids(&mut a, list);
        }
        StreamOp::Claim {
            key,
            group,
            consumer,
            args,
        } => {
            a = Argv::new("XCLAIM");
            a.arg(key).arg(group).arg(consumer);
            let Ok(c) = args else {
                // Always fails (after the group checks), so never logged: best effort.
                a.kw(BAD_ID).kw("0-1");
                return a.done();
            };
            a.num(c.min_idle);
            for &i in &c.ids {
                id(&mut a, i);
            }
            match c.delivery {
                None => {}
                Some(Delivery::Time(t)) => {
                    a.kw("TIME").num(t);
                }
                Some(Delivery::Idle(ms)) => {
                    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
                    a.kw("TIME").num(now.saturating_sub(ms));
                }
            }
            if let Some(n) = c.retry_count {
                a.kw("RETRYCOUNT").num(n);
            }
            if c.force {
                a.kw("FORCE");
            }
            if c.justid {
                a.kw("JUSTID");
            }
            if let Some(last) = c.last_id {
                a.kw("LASTID");
                id(&mut a, last);
            }
        }
        StreamOp::AutoClaim {
            key,
            group,
            consumer,
            min_idle,
            start,
            count,
            justid,
        } => {
            a = Argv::new("XAUTOCLAIM");
            a.arg(key).arg(group).arg(consumer).num(min_idle);
            id(&mut a, *start).kw("COUNT").num(count);
            if *justid {
                a.kw("JUSTID");
            }
        }
        StreamOp::SetId {
            key,
            id: to,
            entries_added,
            max_deleted,
        } => {
            a = Argv::new("XSETID");
            a.arg(key);
            id(&mut a, *to);
            if let Some(n) = entries_added {
                a.kw("ENTRIESADDED").num(n);
            }
            if let Some(m) = max_deleted {
                a.kw("MAXDELETEDID");
                id(&mut a, *m);
            }
        }
        StreamOp::Read {
            keys,
            ids: read_ids,
            count,
            block,
            group: Some(g),
        } => {
            a = Argv::new("XREADGROUP");
            a.kw("GROUP").arg(&g.group).arg(&g.consumer);
            if *count != 0 {
                a.kw("COUNT").num(count);
            }
            if let Some(ms) = block {
                a.kw("BLOCK").num(ms);
            }
            if g.noack {
                a.kw("NOACK");
            }
            a.kw("STREAMS").args(keys);
            for r in read_ids {
                read_id(&mut a, r);
            }
        }
        StreamOp::Read { group: None, .. }
        | StreamOp::Len { .. }
        | StreamOp::Range { .. }
        | StreamOp::Pending { .. }
        | StreamOp::InfoStream { .. }
        | StreamOp::InfoGroups { .. }
        | StreamOp::InfoConsumers { .. }
        | StreamOp::Help { .. } => return None,
    }
    a.done()
}
