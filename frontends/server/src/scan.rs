//! SCAN across shards. The global cursor is `shard << 40 | local`, where `local` is the shard's
//! DashTable cursor (always below 2^39). A call scans the cursor's shard; when that shard is
//! finished and fewer than COUNT keys were found, it moves on to the next shard within the same
//! call, so an empty or small keyspace answers cursor 0 in one call, as Redis does. The
//! guarantee is Redis's: a key present for the whole iteration is returned at least once.

use bytes::Bytes;
use moon_engine::ir::{ExecCtx, Op, Reply, TypeFilter};

use crate::conn::{Conn, Finish, Part};
use crate::mailbox::ReplyTo;
use crate::worker::Worker;

/// Bits of the global cursor below the shard number.
pub const SHARD_SHIFT: u32 = 40;

/// A SCAN call in progress.
pub struct ScanState {
    shard: usize,
    shards: usize,
    count: usize,
    pattern: Option<Bytes>,
    type_filter: Option<TypeFilter>,
    ctx: ExecCtx,
    keys: Vec<Reply>,
}

impl Worker {
    /// Start a SCAN call from a global cursor.
    pub(crate) fn dispatch_scan(
        &mut self,
        conn: &mut Conn,
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
        type_filter: Option<TypeFilter>,
    ) {
        let shards = self.shared.shards();
        let shard = (cursor >> SHARD_SHIFT) as usize;
        let local = cursor & ((1u64 << SHARD_SHIFT) - 1);
        if shard >= shards {
            return conn.reply(Reply::Array(vec![
                Reply::bulk(b"0"),
                Reply::Array(Vec::new()),
            ]));
        }
        let ctx = ExecCtx {
            db: conn.db,
            now_ms: self.now_ms,
            no_touch: conn.no_touch,
        };
        let state = ScanState {
            shard,
            shards,
            count,
            pattern,
            type_filter,
            ctx,
            keys: Vec::new(),
        };
        let seq = conn.defer(1, Finish::Scan(Box::new(state)));
        self.scan_send(conn, seq, local);
    }

    /// Scan the current shard of the state at `seq` from `local`.
    fn scan_send(&mut self, conn: &mut Conn, seq: u64, local: u64) {
        let Some(st) = conn.scan_state(seq) else {
            return;
        };
        let (shard, ctx) = (st.shard, st.ctx);
        let op = Op::Scan {
            cursor: local,
            pattern: st.pattern.clone(),
            count: st.count.saturating_sub(st.keys.len()).max(1),
            type_filter: st.type_filter,
        };
        let to = ReplyTo {
            shard: self.id,
            client: conn.id,
            seq,
            part: 0,
        };
        if let Some(reply) = self.apply_or_forward(to, shard, ctx, op) {
            self.scan_on_reply(conn, seq, reply);
        }
    }

    /// A shard answered `[local_cursor, keys]`: finish the call or move to the next shard.
    pub(crate) fn scan_on_reply(&mut self, conn: &mut Conn, seq: u64, reply: Reply) {
        let Some(st) = conn.scan_state(seq) else {
            return;
        };
        let (local, keys) = match reply {
            Reply::Array(mut items) if items.len() == 2 => {
                let keys = match items.pop() {
                    Some(Reply::Array(keys)) => keys,
                    _ => Vec::new(),
                };
                let local = match items.pop() {
                    Some(Reply::Bulk(b)) => {
                        std::str::from_utf8(&b).ok().and_then(|s| s.parse().ok())
                    }
                    _ => None,
                };
                (local.unwrap_or(0u64), keys)
            }
            other => return conn.complete(seq, 0, Part::Reply(other)),
        };
        st.keys.extend(keys);
        let next = if local != 0 {
            Some(((st.shard as u64) << SHARD_SHIFT) | local)
        } else if st.shard + 1 < st.shards {
            st.shard += 1;
            if st.keys.len() < st.count {
                return self.scan_send(conn, seq, 0);
            }
            Some((st.shard as u64) << SHARD_SHIFT)
        } else {
            None
        };
        let keys = std::mem::take(&mut st.keys);
        let cursor = Bytes::from(next.unwrap_or(0).to_string());
        conn.complete(
            seq,
            0,
            Part::Reply(Reply::Array(vec![Reply::Bulk(cursor), Reply::Array(keys)])),
        );
    }
}
