//! Replies to forwarded single ops, encoded on the owner shard.
//!
//! A command forwarded whole to its owner (`Msg::Exec` with `encode: Some(proto)`, sent by
//! `run_on`) is answered with RESP bytes rather than a `Reply` tree: the owner encodes the reply
//! for the connection's protocol (known when the command was forwarded) into one buffer per
//! destination shard, and sends each buffer once per loop iteration (`flush_encoded`) as one
//! `Msg::Encoded`. The connection's shard copies each reply's bytes into its reply slot. So a
//! multi-element reply (ZRANGE, LRANGE, HGETALL ...) costs no per-element allocation freed on
//! another thread, and a pipeline's forwarded replies cost one message instead of one each.
//!
//! Invariants: error replies are never encoded here (they go back as `Msg::Reply`, so the
//! connection's shard counts them: error stats, failed calls); a batch is handed to
//! `send_reply` (held behind unwritten WAL frames like any reply) before this shard publishes
//! the keyspace events of the ops it answers, so a client's reply still precedes the
//! notifications about its own command.

use moon_engine::ir::Reply;
use moon_resp::codec::{Proto, encode};

use crate::mailbox::{Msg, ReplyTo};
use crate::worker::Worker;

/// Encoded replies for one destination shard, in the order the ops ran.
#[derive(Default)]
pub struct ReplyBatch {
    /// The replies' bytes, back to back.
    buf: Vec<u8>,
    /// Per reply: the client, its reply slot and where its bytes end in `buf`.
    items: Vec<Item>,
}

/// One encoded reply of a [`ReplyBatch`].
struct Item {
    client: u64,
    seq: u64,
    end: usize,
}

impl ReplyBatch {
    /// An empty batch with room for about what the last one held.
    fn with_capacity(bytes: usize, items: usize) -> ReplyBatch {
        ReplyBatch {
            buf: Vec::with_capacity(bytes),
            items: Vec::with_capacity(items),
        }
    }

    /// Appends `reply` for slot `seq` of `client`, encoded for `proto`.
    fn push(&mut self, client: u64, seq: u64, reply: &Reply, proto: Proto) {
        encode(reply, proto, &mut self.buf);
        self.items.push(Item {
            client,
            seq,
            end: self.buf.len(),
        });
    }

    /// The clients the batch answers, each once.
    pub(crate) fn clients(&self) -> Vec<u64> {
        let mut clients: Vec<u64> = self.items.iter().map(|i| i.client).collect();
        clients.sort_unstable();
        clients.dedup();
        clients
    }

    /// Each reply's client, slot and bytes, in order.
    fn replies(&self) -> impl Iterator<Item = (u64, u64, &[u8])> {
        let mut start = 0;
        self.items.iter().map(move |item| {
            let bytes = self.buf.get(start..item.end).unwrap_or_default();
            start = item.end;
            (item.client, item.seq, bytes)
        })
    }
}

impl Worker {
    /// Answers a forwarded op: encoded into this iteration's batch for its shard when the
    /// sender asked for bytes and the reply is not an error, else as a `Reply` message.
    pub(crate) fn answer_exec(&mut self, to: ReplyTo, reply: Reply, proto: Option<Proto>) {
        match (proto, self.fwd_out.get_mut(to.shard)) {
            (Some(proto), Some(batch)) if !reply.is_err() && to.part == 0 => {
                batch.push(to.client, to.seq, &reply, proto);
            }
            _ => self.send_reply(to.shard, Msg::Reply { to, reply }),
        }
    }

    /// Sends every non-empty batch of encoded replies (one message per destination).
    pub(crate) fn flush_encoded(&mut self) {
        for dest in 0..self.fwd_out.len() {
            let batch = &mut self.fwd_out[dest];
            if batch.items.is_empty() {
                continue;
            }
            let next = ReplyBatch::with_capacity(batch.buf.len(), batch.items.len());
            let batch = std::mem::replace(batch, next);
            self.send_reply(dest, Msg::Encoded(batch));
        }
    }

    /// A batch of encoded replies for this shard's connections.
    pub(crate) fn on_encoded(&mut self, batch: ReplyBatch) {
        for (client, seq, bytes) in batch.replies() {
            let Some(&token) = self.client_tokens.get(&client) else {
                continue;
            };
            if let Some(conn) = self.conns.get_mut(&token) {
                conn.complete_encoded(seq, bytes);
                self.dirty.push(token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReplyBatch;
    use bytes::Bytes;
    use moon_engine::ir::Reply;
    use moon_resp::codec::Proto;

    #[test]
    fn a_batch_hands_back_each_reply_with_its_slot() {
        let mut batch = ReplyBatch::default();
        let pairs = Reply::Pairs(vec![(
            Reply::Bulk(Bytes::from_static(b"m")),
            Reply::Double(1.5),
        )]);
        batch.push(7, 3, &pairs, Proto::Resp3);
        batch.push(7, 4, &Reply::Int(2), Proto::Resp2);
        batch.push(9, 0, &pairs, Proto::Resp2);
        let got: Vec<(u64, u64, Vec<u8>)> = batch
            .replies()
            .map(|(c, s, b)| (c, s, b.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![
                (7, 3, b"*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n".to_vec()),
                (7, 4, b":2\r\n".to_vec()),
                (9, 0, b"*2\r\n$1\r\nm\r\n$3\r\n1.5\r\n".to_vec()),
            ]
        );
    }
}
