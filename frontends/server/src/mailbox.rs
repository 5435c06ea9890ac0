//! Shard-to-shard messaging: one bounded lock-free SPSC ring (rtrb) per ordered pair of shards,
//! plus the destination's eventfd waker. A sender never blocks on a full ring: the message goes
//! to a per-destination overflow queue that is retried, in order, on every loop iteration.
//!
//! Invariant: messages from shard A to shard B are delivered in the order A sent them (overflow
//! is drained before any newer message is pushed), which is what keeps a connection's
//! forwarded commands, and a later cross-shard freeze, in order.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::mpsc;

use moon_engine::ir::{ExecCtx, Op, Reply};
use moon_engine::shard::Shard;
use moon_resp::codec::Proto;

use crate::worker::Worker;

/// Capacity of each SPSC ring.
pub const MAILBOX_CAPACITY: usize = 4096;

/// Work a frozen participant runs on its data for an atomic cross-shard op.
pub type FrozenWork = Box<dyn FnOnce(&mut Shard) + Send>;

/// A closure run on a shard's whole worker (connections included): INFO, CLIENT LIST ...
pub type CallFn = Box<dyn FnOnce(&mut Worker) -> Box<dyn Any + Send> + Send>;

/// Where a result goes back to: the originating shard's connection and reply slot.
#[derive(Debug, Clone, Copy)]
pub struct ReplyTo {
    /// Originating shard.
    pub shard: usize,
    /// Client id of the connection (unique for the process lifetime).
    pub client: u64,
    /// The connection's reply sequence number.
    pub seq: u64,
    /// Which part of a fanned-out command.
    pub part: usize,
}

/// What travels between shards.
pub enum Msg {
    /// Execute an op on the destination's keyspace, reply to `to`: with `Encoded` bytes for
    /// protocol `proto` when it is set (a command forwarded whole, see `fwd.rs`), else with a
    /// `Reply`.
    Exec {
        to: ReplyTo,
        ctx: ExecCtx,
        op: Op,
        proto: Option<Proto>,
    },
    /// Run a closure on the destination worker, reply with its result.
    Call { to: ReplyTo, f: CallFn },
    /// The result of an `Exec`.
    Reply { to: ReplyTo, reply: Reply },
    /// Encoded results of `Exec`s, one iteration's worth for one shard (`fwd.rs`).
    Encoded(crate::fwd::ReplyBatch),
    /// The result of a `Call`.
    CallReply {
        to: ReplyTo,
        value: Box<dyn Any + Send>,
    },
    /// Enter frozen mode for an atomic cross-shard op: acknowledge on `ack`, then run work from
    /// `work` until it closes.
    Freeze {
        ack: mpsc::Sender<()>,
        work: mpsc::Receiver<FrozenWork>,
    },
    /// Queue a blocked client's op on the destination's keys (see `blocking.rs`).
    Block(Box<crate::blocking::Waiter>),
    /// Deliver Pub/Sub messages to the destination's subscribers; answer the count to `to`.
    Publish {
        to: Option<ReplyTo>,
        batch: std::sync::Arc<crate::pubsub::Batch>,
    },
    /// A connection moving to the destination (`migrate.rs`).
    Adopt(Box<crate::migrate::Moving>),
}

/// The sending half towards one destination.
pub struct Outbox {
    producer: rtrb::Producer<Msg>,
    overflow: VecDeque<Msg>,
    /// Something was pushed since the last wake.
    pub needs_wake: bool,
}

impl Outbox {
    /// Wrap a ring producer.
    pub fn new(producer: rtrb::Producer<Msg>) -> Outbox {
        Outbox {
            producer,
            overflow: VecDeque::new(),
            needs_wake: false,
        }
    }

    /// Queue a message (ring if possible, else overflow; order preserved).
    pub fn send(&mut self, msg: Msg) {
        self.needs_wake = true;
        if self.overflow.is_empty() {
            if let Err(rtrb::PushError::Full(msg)) = self.producer.push(msg) {
                self.overflow.push_back(msg);
            }
        } else {
            self.overflow.push_back(msg);
        }
    }

    /// Move as much overflow as fits into the ring. Returns true if overflow remains.
    pub fn flush(&mut self) -> bool {
        while let Some(msg) = self.overflow.pop_front() {
            if let Err(rtrb::PushError::Full(msg)) = self.producer.push(msg) {
                self.overflow.push_front(msg);
                return true;
            }
            self.needs_wake = true;
        }
        false
    }

    /// True if messages wait in the overflow queue.
    pub fn backlogged(&self) -> bool {
        !self.overflow.is_empty()
    }
}

/// Build the N×N rings: `outboxes[i][j]` sends from i to j, `inboxes[j][i]` receives it.
pub fn build_rings(n: usize) -> (Vec<Vec<Outbox>>, Vec<Vec<rtrb::Consumer<Msg>>>) {
    let mut outboxes: Vec<Vec<Outbox>> = (0..n).map(|_| Vec::with_capacity(n)).collect();
    let mut inboxes: Vec<Vec<Option<rtrb::Consumer<Msg>>>> =
        (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for (from, row) in outboxes.iter_mut().enumerate() {
        for (to, inbox_row) in inboxes.iter_mut().enumerate() {
            let (p, c) = rtrb::RingBuffer::new(MAILBOX_CAPACITY);
            row.push(Outbox::new(p));
            let _ = to;
            inbox_row[from] = Some(c);
        }
    }
    let inboxes = inboxes
        .into_iter()
        .map(|row| row.into_iter().flatten().collect())
        .collect();
    (outboxes, inboxes)
}
