//! One client connection as its shard sees it: the read buffer, per-connection state (protocol,
//! database, name, auth) and the ordered queue of replies.
//!
//! Invariant: replies leave in command order. Each parsed command takes the next sequence
//! number; a command answered at once goes straight to `out` only when nothing is waiting ahead
//! of it, otherwise it is parked in `pending` until everything before it is complete.

use std::any::Any;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use moon_engine::ir::{MergeKind, Reply, merge_replies};
use moon_resp::codec::{CommandParser, Proto, encode};
use moon_resp::limits::Limits;

use crate::driver::ConnToken;

/// How the parts of a fanned-out command become one reply.
pub enum Finish {
    /// A single forwarded op: its reply passes through.
    Passthrough,
    /// Merge op replies the IR way (`positions` per part, `total` keys).
    Merge {
        kind: MergeKind,
        total: usize,
        positions: Vec<Vec<usize>>,
    },
    /// A SCAN walking the shards (see `scan.rs`); completed with the final reply.
    Scan(Box<crate::scan::ScanState>),
    /// Arbitrary merge of closure results (INFO, CLIENT LIST ...).
    Custom(Box<dyn FnOnce(Vec<Part>) -> Reply + Send>),
}

/// One part's result.
pub enum Part {
    /// From an op.
    Reply(Reply),
    /// From a closure.
    Any(Box<dyn Any + Send>),
}

/// A reply slot that is not complete yet, or complete but behind an incomplete one.
pub enum Pending {
    /// Complete.
    Ready(Reply, Proto),
    /// Waiting for `remaining` parts.
    Gather {
        parts: Vec<Option<Part>>,
        remaining: usize,
        finish: Finish,
        proto: Proto,
        /// The command's stats name (see [`CmdTag`]) when it should count as failed if the
        /// finished reply is an error.
        tag: Option<CmdTag>,
    },
    /// A single forwarded op (one part, passed through): `Gather` without its allocations,
    /// since every forwarded command takes one.
    Forward {
        reply: Option<Reply>,
        proto: Proto,
        tag: Option<CmdTag>,
    },
    /// A forwarded op's reply, complete and already encoded by its owner (`fwd.rs`).
    Encoded(Vec<u8>),
}

/// A command's lowercase name (at most 32 bytes, as INFO commandstats keys it), kept inline so
/// a deferred reply can be attributed without allocating.
#[derive(Clone, Copy)]
pub struct CmdTag {
    bytes: [u8; 32],
    len: u8,
}

impl CmdTag {
    /// Tags `name` (truncated to 32 bytes).
    pub fn new(name: &str) -> CmdTag {
        let mut bytes = [0u8; 32];
        let n = name.len().min(32);
        bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
        CmdTag {
            bytes,
            len: n as u8,
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }
}

/// A client connection.
pub struct Conn {
    /// Driver token.
    pub token: ConnToken,
    /// CLIENT ID.
    pub id: u64,
    /// Unparsed input.
    pub rbuf: BytesMut,
    /// Incremental parser state over `rbuf` (only appended to between incomplete parses).
    pub parser: CommandParser,
    /// Encoded replies not yet handed to the driver.
    pub out: Vec<u8>,
    /// A buffer is with the driver (send in flight).
    pub sending: bool,
    /// A spare buffer returned by the driver.
    pub spare: Vec<u8>,
    /// Replies not yet encoded, oldest first; the first has sequence `head_seq`.
    pub pending: VecDeque<Pending>,
    /// Sequence number of `pending[0]`.
    pub head_seq: u64,
    /// Sequence number the next command gets.
    pub next_seq: u64,
    /// Protocol version (HELLO).
    pub proto: Proto,
    /// Selected database.
    pub db: usize,
    /// CLIENT SETNAME.
    pub name: Option<Bytes>,
    /// CLIENT SETINFO lib-name / lib-ver.
    pub lib_name: Option<Bytes>,
    /// Library version.
    pub lib_ver: Option<Bytes>,
    /// Authenticated (or no password needed).
    pub authed: bool,
    /// CLIENT NO-EVICT.
    pub no_evict: bool,
    /// CLIENT NO-TOUCH.
    pub no_touch: bool,
    /// Close once `out` is flushed (QUIT, protocol error, CLIENT KILL).
    pub close_after_flush: bool,
    /// Peer address.
    pub addr: Option<SocketAddr>,
    /// Local address.
    pub laddr: Option<SocketAddr>,
    /// Creation time.
    pub created: Instant,
    /// Last command time.
    pub last_active: Instant,
    /// Last command name (CLIENT LIST `cmd=`).
    pub last_cmd: String,
    /// MULTI state while a transaction is being queued.
    pub multi: Option<crate::multi::Multi>,
    /// WATCHed keys and their flag.
    pub watching: crate::multi::Watching,
    /// While EXEC runs a queued connection command: its reply goes here, not to the client.
    pub capture: Option<Vec<Reply>>,
    /// The reply slot of the blocking command this client waits on; nothing else from the
    /// client runs meanwhile.
    pub blocked_on: Option<u64>,
    /// Commands that arrived while blocked, run once unblocked.
    pub stash: VecDeque<Vec<Bytes>>,
    /// An MSET/MSETNX of this client waits in the shard's atomic batch (`atomic_batch.rs`):
    /// its later commands other than MSET/MSETNX wait in `stash` until the batch has run.
    pub atomic_wait: bool,
    /// Pub/Sub subscriptions.
    pub subs: crate::pubsub::Subs,
    /// Error replies given so far (a command's own errors are the difference across it).
    pub errors: u64,
    /// Tagged deferred commands whose reply finished as an error, for the shard to count as
    /// failed calls (drained by `Worker::complete_part`).
    pub late_failed: Vec<CmdTag>,
    /// The ACL user this connection runs as.
    pub acl: crate::acl::ConnAcl,
    /// In MONITOR mode (`monitor.rs`).
    pub monitor: bool,
    /// Length of the buffer handed to the driver by the last send (counts while `sending`).
    pub inflight: usize,
    /// Since when the pending output has been over the class's soft limit (`limits.rs`).
    pub obuf_soft_since: Option<Instant>,
    /// The TLS session of a connection accepted on `tls-port` (None: plain TCP).
    pub tls: Option<Box<crate::tls::TlsSession>>,
    /// Where its keyed commands run, for connection migration (`migrate.rs`).
    pub affinity: crate::migrate::Affinity,
    /// Which bytes of `out` wait for the WAL (`walhold.rs`).
    pub(crate) wal: crate::walhold::Marks,
}

impl Conn {
    /// A fresh connection.
    pub fn new(token: ConnToken, id: u64, authed: bool, limits: Limits) -> Conn {
        let now = Instant::now();
        let mut parser = CommandParser::new(limits);
        parser.set_auth_required(!authed);
        Conn {
            token,
            id,
            rbuf: BytesMut::with_capacity(16 * 1024),
            parser,
            out: Vec::with_capacity(16 * 1024),
            sending: false,
            spare: Vec::new(),
            pending: VecDeque::new(),
            head_seq: 0,
            next_seq: 0,
            proto: Proto::Resp2,
            db: 0,
            name: None,
            lib_name: None,
            lib_ver: None,
            authed,
            no_evict: false,
            no_touch: false,
            close_after_flush: false,
            addr: None,
            laddr: None,
            created: now,
            last_active: now,
            last_cmd: "NULL".into(),
            multi: None,
            watching: crate::multi::Watching::default(),
            capture: None,
            blocked_on: None,
            stash: VecDeque::new(),
            atomic_wait: false,
            subs: crate::pubsub::Subs::default(),
            errors: 0,
            late_failed: Vec::new(),
            acl: crate::acl::ConnAcl::default(),
            monitor: false,
            inflight: 0,
            obuf_soft_since: None,
            tls: None,
            affinity: crate::migrate::Affinity::default(),
            wal: crate::walhold::Marks::default(),
        }
    }

    /// Answer the next command at once.
    pub fn reply(&mut self, reply: Reply) {
        if let Some(capture) = self.capture.as_mut() {
            capture.push(reply);
            return;
        }
        if let Reply::Err(e) = &reply {
            crate::monitor::count_error(e);
            self.errors += 1;
        }
        self.next_seq += 1;
        if self.pending.is_empty() {
            self.head_seq = self.next_seq;
            encode(&reply, self.proto, &mut self.out);
        } else {
            self.pending.push_back(Pending::Ready(reply, self.proto));
        }
    }

    /// Answer the next command with pre-encoded bytes (protocol errors).
    pub fn reply_raw(&mut self, bytes: &[u8]) {
        crate::monitor::count_error_text(bytes.strip_prefix(b"-").unwrap_or(bytes));
        self.errors += 1;
        self.next_seq += 1;
        if self.pending.is_empty() {
            self.head_seq = self.next_seq;
            self.out.extend_from_slice(bytes);
        } else {
            let text = String::from_utf8_lossy(bytes.strip_prefix(b"-").unwrap_or(bytes))
                .trim_end()
                .to_string();
            self.pending.push_back(Pending::Ready(
                Reply::Err(moon_engine::ir::OpError::Other(text)),
                self.proto,
            ));
        }
    }

    /// Reserve the next reply slot for a command whose `parts` results arrive later.
    /// Returns its sequence number.
    pub fn defer(&mut self, parts: usize, finish: Finish) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.pending.is_empty() {
            self.head_seq = seq;
        }
        debug_assert_eq!(self.head_seq + self.pending.len() as u64, seq);
        if parts == 1 && matches!(finish, Finish::Passthrough) {
            self.pending.push_back(Pending::Forward {
                reply: None,
                proto: self.proto,
                tag: None,
            });
            return seq;
        }
        let slots = (0..parts).map(|_| None).collect();
        self.pending.push_back(Pending::Gather {
            parts: slots,
            remaining: parts,
            finish,
            proto: self.proto,
            tag: None,
        });
        seq
    }

    /// Marks the deferred reply `seq` (if still pending) as command `tag`'s: an error reply
    /// will count as that command's failed call.
    pub fn tag_deferred(&mut self, seq: u64, tag: CmdTag) {
        let Some(idx) = seq.checked_sub(self.head_seq) else {
            return;
        };
        if let Some(Pending::Gather { tag: slot, .. } | Pending::Forward { tag: slot, .. }) =
            self.pending.get_mut(idx as usize)
        {
            *slot = Some(tag);
        }
    }

    /// The SCAN state of a pending reply, if that reply is a SCAN in progress.
    pub fn scan_state(&mut self, seq: u64) -> Option<&mut crate::scan::ScanState> {
        let idx = seq.checked_sub(self.head_seq)? as usize;
        match self.pending.get_mut(idx) {
            Some(Pending::Gather {
                finish: Finish::Scan(state),
                remaining: 1,
                ..
            }) => Some(state),
            _ => None,
        }
    }

    /// Deliver one part of a deferred reply; encodes whatever became ready at the head.
    pub fn complete(&mut self, seq: u64, part: usize, value: Part) {
        let Some(idx) = seq.checked_sub(self.head_seq) else {
            return;
        };
        match self.pending.get_mut(idx as usize) {
            Some(Pending::Gather {
                parts, remaining, ..
            }) => {
                if let Some(slot) = parts.get_mut(part)
                    && slot.is_none()
                {
                    *slot = Some(value);
                    *remaining -= 1;
                }
            }
            Some(Pending::Forward { reply: slot, .. }) if part == 0 && slot.is_none() => {
                // As `Finish::Passthrough`: a closure's value is not a reply.
                *slot = Some(match value {
                    Part::Reply(r) => r,
                    Part::Any(_) => Reply::Nil,
                });
            }
            _ => {}
        }
        self.drain_ready();
    }

    /// Deliver the encoded reply of a forwarded op (`fwd.rs`): straight to `out` when it is
    /// the head of the queue, else kept until the replies ahead of it are complete.
    pub fn complete_encoded(&mut self, seq: u64, bytes: &[u8]) {
        let Some(idx) = seq.checked_sub(self.head_seq) else {
            return;
        };
        let Some(slot @ Pending::Forward { reply: None, .. }) = self.pending.get_mut(idx as usize)
        else {
            return;
        };
        if idx > 0 {
            *slot = Pending::Encoded(bytes.to_vec());
            return;
        }
        self.pending.pop_front();
        self.head_seq += 1;
        self.out.extend_from_slice(bytes);
        self.drain_ready();
    }

    /// Encode completed replies from the head of the queue.
    pub(crate) fn drain_ready(&mut self) {
        loop {
            let ready = match self.pending.front() {
                Some(Pending::Ready(..)) => true,
                Some(Pending::Gather { remaining, .. }) => *remaining == 0,
                Some(Pending::Forward { reply, .. }) => reply.is_some(),
                Some(Pending::Encoded(_)) => true,
                None => false,
            };
            if !ready {
                return;
            }
            let Some(item) = self.pending.pop_front() else {
                return;
            };
            self.head_seq += 1;
            match item {
                Pending::Ready(reply, proto) => encode(&reply, proto, &mut self.out),
                Pending::Encoded(bytes) => self.out.extend_from_slice(&bytes),
                Pending::Forward { reply, proto, tag } => {
                    let reply = reply.unwrap_or(Reply::Nil);
                    self.finish_deferred(&reply, tag);
                    encode(&reply, proto, &mut self.out);
                }
                Pending::Gather {
                    parts,
                    finish,
                    proto,
                    tag,
                    ..
                } => {
                    let parts: Vec<Part> = parts.into_iter().flatten().collect();
                    let reply = finish_parts(finish, parts);
                    self.finish_deferred(&reply, tag);
                    encode(&reply, proto, &mut self.out);
                }
            }
        }
    }

    /// Error accounting of a deferred reply that just completed.
    fn finish_deferred(&mut self, reply: &Reply, tag: Option<CmdTag>) {
        if let Reply::Err(e) = reply {
            crate::monitor::count_error(e);
            self.errors += 1;
            if let Some(tag) = tag {
                self.late_failed.push(tag);
            }
        }
    }
}

fn finish_parts(finish: Finish, parts: Vec<Part>) -> Reply {
    match finish {
        Finish::Passthrough => match parts.into_iter().next() {
            Some(Part::Reply(r)) => r,
            _ => Reply::Nil,
        },
        Finish::Merge {
            kind,
            total,
            positions,
        } => {
            let replies = positions
                .into_iter()
                .zip(parts)
                .map(|(pos, part)| match part {
                    Part::Reply(r) => (pos, r),
                    Part::Any(_) => (pos, Reply::Nil),
                })
                .collect();
            merge_replies(kind, total, replies)
        }
        Finish::Scan(_) => match parts.into_iter().next() {
            Some(Part::Reply(r)) => r,
            _ => Reply::Nil,
        },
        Finish::Custom(f) => f(parts),
    }
}
