//! Pub/Sub: subscriptions, the delivery of PUBLISH/SPUBLISH messages and of keyspace
//! notifications, and the PUBSUB introspection commands.
//!
//! Ownership: a subscriber's connection lives on one shard, so each shard keeps the
//! subscriptions of its own connections only ([`Registry`]: channel → local connections,
//! pattern → local connections, shard channel → local connections) and each connection keeps
//! its own names ([`Subs`]). Nothing is locked on the publish path: a publisher delivers to its
//! own shard's subscribers at once and sends the message to every other shard that has any
//! subscription (the per-shard [`Census`] of atomics says which) through the ordinary mailbox;
//! each of them delivers to its subscribers and answers its count, and the publisher's reply
//! is the sum, through the connection's deferred-reply queue, so replies stay in order.
//!
//! Invariants:
//! - Messages from one publisher reach every subscriber in publish order: local delivery is
//!   immediate and in order, and the shard-to-shard rings are FIFO.
//! - A message to a connection goes straight to its output when no reply is pending ahead of
//!   it, else it is parked in the pending queue behind those replies (it takes a sequence
//!   slot like a reply), so a RESP2 subscriber never sees a message before the reply to a
//!   command it sent earlier.
//! - The registry and every connection's [`Subs`] agree: a connection's token is in the
//!   registry's list for a name exactly when the name is in its `Subs` (dropping or RESETting
//!   a connection removes it everywhere), and a registry list is never empty.
//! - A subscriber whose unsent output passes the Pub/Sub output-buffer limits (Redis's
//!   `client-output-buffer-limit pubsub 32mb 8mb 60`) is disconnected.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};
use moon_engine::ir::{MergeKind, OpError, Reply};
use moon_engine::keyspace::glob::glob_match;
use moon_engine::notify::{KeyEvent, class};
use moon_resp::codec::{Proto, encode};
use moon_resp::commands::{ALLOWED_WHEN_SUBSCRIBED, PubSubCmd, SubKind, pubsub_help, resolve};

use crate::conn::{Conn, Finish, Part};
use crate::driver::ConnToken;
use crate::mailbox::{Msg, ReplyTo};
use crate::worker::Worker;

/// Bytes counted per reply parked in a connection's pending queue (its size is not known
/// until it is encoded; messages parked there are usually small).
const PENDING_ESTIMATE: usize = 64;

/// Which shards have subscriptions at all, so a publisher skips the others. One pair of
/// counters per shard, written only by that shard (after each change of its registry), read
/// by publishers on any shard.
pub struct Census {
    /// Channel and pattern names registered on each shard.
    plain: Vec<AtomicUsize>,
    /// Shard-channel names registered on each shard.
    sharded: Vec<AtomicUsize>,
}

impl Census {
    /// Counters for `shards` shards, all zero.
    pub fn new(shards: usize) -> Census {
        Census {
            plain: (0..shards).map(|_| AtomicUsize::new(0)).collect(),
            sharded: (0..shards).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// True if shard `shard` has any subscription a message of this kind could reach.
    /// (A subscription confirmed to a client before a publisher sent its PUBLISH is visible
    /// here: the store happens before the confirmation is written to the socket.)
    fn listening(&self, shard: usize, sharded: bool) -> bool {
        let counters = if sharded { &self.sharded } else { &self.plain };
        counters
            .get(shard)
            .is_some_and(|c| c.load(Ordering::Acquire) > 0)
    }

    fn store(&self, shard: usize, plain: usize, sharded: usize) {
        if let Some(c) = self.plain.get(shard) {
            c.store(plain, Ordering::Release);
        }
        if let Some(c) = self.sharded.get(shard) {
            c.store(sharded, Ordering::Release);
        }
    }
}

/// One connection's subscriptions; `None` (one pointer, no allocation) for the common
/// connection that never subscribed.
#[derive(Debug, Default)]
pub struct Subs(Option<Box<SubState>>);

#[derive(Debug, Default)]
struct SubState {
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shard: HashSet<Bytes>,
}

impl SubState {
    fn set(&mut self, kind: SubKind) -> &mut HashSet<Bytes> {
        match kind {
            SubKind::Channel => &mut self.channels,
            SubKind::Pattern => &mut self.patterns,
            SubKind::Shard => &mut self.shard,
        }
    }
}

impl Subs {
    /// True while the connection has any subscription (Redis's `CLIENT_PUBSUB` flag).
    pub fn active(&self) -> bool {
        self.0.as_ref().is_some_and(|s| {
            !(s.channels.is_empty() && s.patterns.is_empty() && s.shard.is_empty())
        })
    }

    /// True if some subscription fails `allowed(name, is_pattern)` (ACL permissions shrank).
    pub fn any_refused(&self, allowed: impl Fn(&[u8], bool) -> bool) -> bool {
        self.0.as_ref().is_some_and(|s| {
            s.channels.iter().any(|c| !allowed(c, false))
                || s.shard.iter().any(|c| !allowed(c, false))
                || s.patterns.iter().any(|p| !allowed(p, true))
        })
    }

    /// (channels, patterns, shard channels), as CLIENT LIST's `sub`, `psub` and `ssub`.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.0.as_ref().map_or((0, 0, 0), |s| {
            (s.channels.len(), s.patterns.len(), s.shard.len())
        })
    }

    /// The count a (un)subscribe confirmation of `kind` reports: channels + patterns for
    /// those two kinds, shard channels alone for shard channels (as Redis).
    fn count_for(&self, kind: SubKind) -> i64 {
        let (c, p, s) = self.counts();
        let n = match kind {
            SubKind::Channel | SubKind::Pattern => c + p,
            SubKind::Shard => s,
        };
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    /// Adds `name`; false if it was already there.
    fn insert(&mut self, kind: SubKind, name: &Bytes) -> bool {
        let state = self.0.get_or_insert_with(Box::default);
        let set = state.set(kind);
        if set.contains(name) {
            return false;
        }
        set.insert(name.clone());
        true
    }

    /// Removes `name`; false if it was not there.
    fn remove(&mut self, kind: SubKind, name: &[u8]) -> bool {
        let Some(state) = self.0.as_mut() else {
            return false;
        };
        let removed = state.set(kind).remove(name);
        self.shrink();
        removed
    }

    /// Every name of `kind`, removed.
    fn take(&mut self, kind: SubKind) -> Vec<Bytes> {
        let Some(state) = self.0.as_mut() else {
            return Vec::new();
        };
        let names = state.set(kind).drain().collect();
        self.shrink();
        names
    }

    /// Frees the state once nothing is subscribed.
    fn shrink(&mut self) {
        if !self.active() {
            self.0 = None;
        }
    }
}

/// One shard's subscriptions of its own connections. Lists keep subscription order, which is
/// the order messages are delivered in (as Redis's per-channel client lists).
#[derive(Debug, Default)]
pub struct Registry {
    channels: HashMap<Bytes, Vec<ConnToken>>,
    patterns: HashMap<Bytes, Vec<ConnToken>>,
    shard: HashMap<Bytes, Vec<ConnToken>>,
}

impl Registry {
    fn map(&mut self, kind: SubKind) -> &mut HashMap<Bytes, Vec<ConnToken>> {
        match kind {
            SubKind::Channel => &mut self.channels,
            SubKind::Pattern => &mut self.patterns,
            SubKind::Shard => &mut self.shard,
        }
    }

    fn add(&mut self, kind: SubKind, name: Bytes, token: ConnToken) {
        let list = self.map(kind).entry(name).or_default();
        debug_assert!(!list.contains(&token), "subscribed twice");
        list.push(token);
    }

    fn remove(&mut self, kind: SubKind, name: &[u8], token: ConnToken) {
        let map = self.map(kind);
        if let Some(list) = map.get_mut(name) {
            list.retain(|&t| t != token);
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Names of `kind` with subscribers, optionally only those matching `pattern`.
    fn names(&self, sharded: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = if sharded { &self.shard } else { &self.channels };
        map.keys()
            .filter(|name| pattern.is_none_or(|p| glob_match(p, name)))
            .cloned()
            .collect()
    }

    fn subscribers(&self, sharded: bool, name: &[u8]) -> usize {
        let map = if sharded { &self.shard } else { &self.channels };
        map.get(name).map_or(0, Vec::len)
    }

    /// Names of each kind, for INFO's distinct counts.
    pub fn report(&self) -> Names {
        Names {
            channels: self.channels.keys().cloned().collect(),
            patterns: self.patterns.keys().cloned().collect(),
            shard: self.shard.keys().cloned().collect(),
        }
    }
}

/// One shard's registered names, gathered by INFO (a name may be on several shards).
#[derive(Debug, Clone, Default)]
pub struct Names {
    channels: Vec<Bytes>,
    patterns: Vec<Bytes>,
    shard: Vec<Bytes>,
}

/// INFO stats' `pubsub_channels`, `pubsub_patterns` and `pubsubshard_channels`: distinct
/// names over every shard.
pub fn distinct_counts<'a>(names: impl Iterator<Item = &'a Names>) -> (usize, usize, usize) {
    let mut channels: HashSet<&Bytes> = HashSet::new();
    let mut patterns: HashSet<&Bytes> = HashSet::new();
    let mut shard: HashSet<&Bytes> = HashSet::new();
    for n in names {
        channels.extend(&n.channels);
        patterns.extend(&n.patterns);
        shard.extend(&n.shard);
    }
    (channels.len(), patterns.len(), shard.len())
}

/// Messages sent to another shard for delivery to its subscribers.
#[derive(Debug)]
pub struct Batch {
    /// SPUBLISH (shard channels only, no patterns).
    sharded: bool,
    /// (channel, message) pairs, delivered in order.
    msgs: Vec<(Bytes, Bytes)>,
}

/// A message frame, encoded at most once per protocol however many subscribers receive it.
struct Frame {
    reply: Reply,
    resp2: Option<Vec<u8>>,
    resp3: Option<Vec<u8>>,
}

impl Frame {
    fn new(items: Vec<Reply>) -> Frame {
        Frame {
            reply: Reply::Push(items),
            resp2: None,
            resp3: None,
        }
    }

    fn bytes(&mut self, proto: Proto) -> &[u8] {
        let slot = match proto {
            Proto::Resp2 => &mut self.resp2,
            Proto::Resp3 => &mut self.resp3,
        };
        slot.get_or_insert_with(|| {
            let mut out = Vec::new();
            encode(&self.reply, proto, &mut out);
            out
        })
    }
}

/// Where delivered frames go: the shard's connections, plus the connection being served (it
/// is out of the map while its commands run).
struct Sink<'a> {
    conns: &'a mut HashMap<ConnToken, Box<Conn>>,
    dirty: &'a mut Vec<ConnToken>,
    current: Option<&'a mut Conn>,
    /// Subscribers over their output limits, disconnected after the delivery.
    victims: Vec<ConnToken>,
    /// The `pubsub` class of `client-output-buffer-limit` (`limits.rs`).
    limit: crate::limits::ClassLimit,
}

impl Sink<'_> {
    /// Hands `frame` to the connection `token`; false if it is gone.
    fn push(&mut self, token: ConnToken, frame: &mut Frame) -> bool {
        if let Some(conn) = self.current.as_deref_mut()
            && conn.token == token
        {
            push_frame(conn, frame);
            return true;
        }
        let Some(conn) = self.conns.get_mut(&token) else {
            return false;
        };
        push_frame(conn, frame);
        self.dirty.push(token);
        if over_limits(conn, &self.limit) {
            self.victims.push(token);
        }
        true
    }
}

/// Appends a frame in reply order (see the module invariants).
fn push_frame(conn: &mut Conn, frame: &mut Frame) {
    if conn.pending.is_empty() {
        conn.out.extend_from_slice(frame.bytes(conn.proto));
    } else {
        conn.reply(frame.reply.clone());
    }
}

/// Redis's Pub/Sub output-buffer limits, checked as messages are queued (the same check
/// runs on every flush, see `limits.rs`).
fn over_limits(conn: &mut Conn, limit: &crate::limits::ClassLimit) -> bool {
    let used = crate::limits::pending_output(conn) + conn.pending.len() * PENDING_ESTIMATE;
    crate::limits::exceeded(conn, limit, used)
}

fn bulk_str(s: &'static str) -> Reply {
    Reply::Bulk(Bytes::from_static(s.as_bytes()))
}

/// A (un)subscribe confirmation: `[word, name or nil, count]`.
fn confirmation(word: &'static str, name: Option<Bytes>, count: i64) -> Reply {
    Reply::Push(vec![
        bulk_str(word),
        name.map_or(Reply::Nil, Reply::Bulk),
        Reply::Int(count),
    ])
}

/// `__keyspace@<db>__:<key>`.
pub fn keyspace_channel(db: usize, key: &[u8]) -> Bytes {
    let mut chan = format!("__keyspace@{db}__:").into_bytes();
    chan.extend_from_slice(key);
    Bytes::from(chan)
}

/// `__keyevent@<db>__:<event>`.
pub fn keyevent_channel(db: usize, event: &str) -> Bytes {
    Bytes::from(format!("__keyevent@{db}__:{event}"))
}

/// The messages Redis's `notifyKeyspaceEvent` publishes for `events` under the
/// `notify-keyspace-events` bits `flags`: on the keyspace channel the event name, on the
/// keyevent channel the key, in that order per event.
pub fn notification_messages(events: &[KeyEvent], flags: u32) -> Vec<(Bytes, Bytes)> {
    let mut msgs = Vec::new();
    for ev in events {
        if flags & ev.class == 0 {
            continue;
        }
        if flags & class::KEYSPACE != 0 {
            msgs.push((
                keyspace_channel(ev.db, &ev.key),
                Bytes::from_static(ev.event.as_bytes()),
            ));
        }
        if flags & class::KEYEVENT != 0 {
            msgs.push((keyevent_channel(ev.db, ev.event), ev.key.clone()));
        }
    }
    msgs
}

/// True for a RESP2 connection with subscriptions: the restricted "subscribed" context.
pub fn resp2_subscribed(conn: &Conn) -> bool {
    conn.proto == Proto::Resp2 && conn.subs.active()
}

/// PING in the RESP2 subscribed context: `["pong", message or ""]`.
pub fn ping_reply(msg: Option<Bytes>) -> Reply {
    Reply::Array(vec![bulk_str("pong"), Reply::Bulk(msg.unwrap_or_default())])
}

/// The refusal of a command a RESP2 subscriber may not run, or `None` to run it. As Redis's
/// `processCommand`, unknown commands and wrong arities get their own errors first.
pub fn rejects(conn: &Conn, args: &[Bytes]) -> Option<Reply> {
    if !resp2_subscribed(conn) {
        return None;
    }
    let spec = resolve(args).ok()?;
    if !spec.arity_ok(args.len()) {
        return None;
    }
    let top = spec.name.split('|').next().unwrap_or(spec.name);
    if ALLOWED_WHEN_SUBSCRIBED.contains(&top) {
        return None;
    }
    Some(Reply::Err(OpError::Other(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        spec.name
    ))))
}

/// CLIENT LIST/KILL's client type: `pubsub` while subscribed, else `normal`.
pub fn client_type(conn: &Conn) -> &'static str {
    if conn.subs.active() {
        "pubsub"
    } else {
        "normal"
    }
}

impl Worker {
    /// Runs a Pub/Sub command. Returns true if it failed (for error stats).
    pub(crate) fn pubsub_cmd(&mut self, conn: &mut Conn, cmd: PubSubCmd) -> bool {
        match cmd {
            PubSubCmd::Subscribe(kind, names) => self.subscribe(conn, kind, names),
            PubSubCmd::Unsubscribe(kind, names) => self.unsubscribe(conn, kind, names),
            PubSubCmd::Publish {
                sharded,
                channel,
                message,
            } => self.publish(conn, sharded, channel, message),
            PubSubCmd::Channels { sharded, pattern } => {
                self.pubsub_channels(conn, sharded, pattern)
            }
            PubSubCmd::NumSub { sharded, channels } => self.pubsub_numsub(conn, sharded, channels),
            PubSubCmd::NumPat => self.pubsub_numpat(conn),
            PubSubCmd::Help => conn.reply(pubsub_help()),
        }
        false
    }

    fn subscribe(&mut self, conn: &mut Conn, kind: SubKind, names: Vec<Bytes>) {
        for name in names {
            if conn.subs.insert(kind, &name) {
                self.pubsub.add(kind, name.clone(), conn.token);
            }
            let count = conn.subs.count_for(kind);
            conn.reply(confirmation(kind.subscribe_word(), Some(name), count));
        }
        self.update_census();
    }

    fn unsubscribe(&mut self, conn: &mut Conn, kind: SubKind, names: Vec<Bytes>) {
        let word = kind.unsubscribe_word();
        if names.is_empty() {
            let all = conn.subs.take(kind);
            if all.is_empty() {
                conn.reply(confirmation(word, None, conn.subs.count_for(kind)));
                return;
            }
            // The names are already out of `subs`; count down as each one is confirmed.
            let mut count = conn.subs.count_for(kind) + all.len() as i64;
            for name in all {
                self.pubsub.remove(kind, &name, conn.token);
                count -= 1;
                conn.reply(confirmation(word, Some(name), count));
            }
        } else {
            for name in names {
                if conn.subs.remove(kind, &name) {
                    self.pubsub.remove(kind, &name, conn.token);
                }
                conn.reply(confirmation(word, Some(name), conn.subs.count_for(kind)));
            }
        }
        self.update_census();
    }

    /// Drops every subscription of `conn` without confirmations (RESET, and a closing
    /// connection).
    pub(crate) fn pubsub_forget(&mut self, conn: &mut Conn) {
        if conn.subs.0.is_none() {
            return;
        }
        for kind in [SubKind::Channel, SubKind::Pattern, SubKind::Shard] {
            for name in conn.subs.take(kind) {
                self.pubsub.remove(kind, &name, conn.token);
            }
        }
        conn.subs = Subs::default();
        self.update_census();
    }

    fn update_census(&self) {
        let plain = self.pubsub.channels.len() + self.pubsub.patterns.len();
        self.shared
            .pubsub
            .store(self.id, plain, self.pubsub.shard.len());
    }

    /// True if a message of this kind could reach any subscriber on any shard.
    fn anyone_listening(&self, sharded: bool) -> bool {
        (0..self.shared.shards()).any(|s| self.shared.pubsub.listening(s, sharded))
    }

    fn publish(&mut self, conn: &mut Conn, sharded: bool, channel: Bytes, message: Bytes) {
        let msgs = vec![(channel, message)];
        let local = Reply::Int(self.deliver_messages(Some(&mut *conn), sharded, &msgs) as i64);
        let targets = self.remote_listeners(sharded);
        if targets.is_empty() {
            return conn.reply(local);
        }
        let seq = conn.defer(
            targets.len() + 1,
            Finish::Merge {
                kind: MergeKind::SumInt,
                total: 0,
                positions: vec![Vec::new(); targets.len() + 1],
            },
        );
        conn.complete(seq, 0, Part::Reply(local));
        let batch = Arc::new(Batch { sharded, msgs });
        for (i, s) in targets.into_iter().enumerate() {
            let to = ReplyTo {
                shard: self.id,
                client: conn.id,
                seq,
                part: i + 1,
            };
            // A message may reveal a write not yet durable: it waits as a reply does.
            self.send_reply(
                s,
                Msg::Publish {
                    to: Some(to),
                    batch: Arc::clone(&batch),
                },
            );
        }
    }

    /// The other shards with subscriptions a message of this kind could reach.
    fn remote_listeners(&self, sharded: bool) -> Vec<usize> {
        (0..self.shared.shards())
            .filter(|&s| s != self.id && self.shared.pubsub.listening(s, sharded))
            .collect()
    }

    /// Delivers `msgs` to this shard's subscribers; returns the number of deliveries.
    fn deliver_messages(
        &mut self,
        current: Option<&mut Conn>,
        sharded: bool,
        msgs: &[(Bytes, Bytes)],
    ) -> usize {
        let reg = &self.pubsub;
        if reg.channels.is_empty() && reg.patterns.is_empty() && reg.shard.is_empty() {
            return 0;
        }
        let mut sink = Sink {
            conns: &mut self.conns,
            dirty: &mut self.dirty,
            current,
            victims: Vec::new(),
            limit: self.obuf.limits.pubsub,
        };
        let mut delivered = 0;
        for (channel, message) in msgs {
            let exact = if sharded {
                reg.shard.get(channel)
            } else {
                reg.channels.get(channel)
            };
            if let Some(tokens) = exact {
                let word = if sharded { "smessage" } else { "message" };
                let mut frame = Frame::new(vec![
                    bulk_str(word),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]);
                for &t in tokens {
                    delivered += usize::from(sink.push(t, &mut frame));
                }
            }
            if sharded {
                continue;
            }
            for (pattern, tokens) in &reg.patterns {
                if !glob_match(pattern, channel) {
                    continue;
                }
                let mut frame = Frame::new(vec![
                    bulk_str("pmessage"),
                    Reply::Bulk(pattern.clone()),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ]);
                for &t in tokens {
                    delivered += usize::from(sink.push(t, &mut frame));
                }
            }
        }
        let victims = std::mem::take(&mut sink.victims);
        for token in victims {
            if let Some(conn) = self.conns.get(&token) {
                crate::limits::log_close(conn);
            }
            self.close_conn(token);
        }
        delivered
    }

    /// A batch published on another shard: deliver it here and answer the count.
    pub(crate) fn on_publish(&mut self, to: Option<ReplyTo>, batch: &Batch) {
        let n = self.deliver_messages(None, batch.sharded, &batch.msgs);
        if let Some(to) = to {
            self.outboxes[to.shard].send(Msg::Reply {
                to,
                reply: Reply::Int(n as i64),
            });
        }
    }

    /// Publishes the keyspace notifications the shard's ops recorded (Redis's notify.c):
    /// here at once, and to every other shard that has subscriptions.
    pub(crate) fn publish_events(&mut self, current: Option<&mut Conn>) {
        if !self.shard.has_events() {
            return;
        }
        let events = self.shard.take_events();
        if !self.anyone_listening(false) {
            return;
        }
        let msgs = notification_messages(&events, self.shard.config().notify_flags);
        if msgs.is_empty() {
            return;
        }
        self.deliver_messages(current, false, &msgs);
        let targets = self.remote_listeners(false);
        if targets.is_empty() {
            return;
        }
        let batch = Arc::new(Batch {
            sharded: false,
            msgs,
        });
        for s in targets {
            // An event reveals a write: it waits for the WAL as a reply does (`walhold.rs`).
            self.send_reply(
                s,
                Msg::Publish {
                    to: None,
                    batch: Arc::clone(&batch),
                },
            );
        }
    }

    fn pubsub_channels(&mut self, conn: &mut Conn, sharded: bool, pattern: Option<Bytes>) {
        self.broadcast(
            conn,
            || {
                let pattern = pattern.clone();
                Box::new(move |w: &mut Worker| {
                    Box::new(w.pubsub.names(sharded, pattern.as_deref()))
                        as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(|parts| {
                let mut all: Vec<Bytes> = parts
                    .into_iter()
                    .filter_map(|p| match p {
                        Part::Any(b) => b.downcast::<Vec<Bytes>>().ok().map(|v| *v),
                        Part::Reply(_) => None,
                    })
                    .flatten()
                    .collect();
                all.sort_unstable();
                all.dedup();
                Reply::Array(all.into_iter().map(Reply::Bulk).collect())
            }),
        );
    }

    fn pubsub_numsub(&mut self, conn: &mut Conn, sharded: bool, channels: Vec<Bytes>) {
        let names = Arc::new(channels);
        let merge_names = Arc::clone(&names);
        self.broadcast(
            conn,
            || {
                let names = Arc::clone(&names);
                Box::new(move |w: &mut Worker| {
                    let counts: Vec<usize> = names
                        .iter()
                        .map(|n| w.pubsub.subscribers(sharded, n))
                        .collect();
                    Box::new(counts) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(move |parts| {
                let mut totals = vec![0usize; merge_names.len()];
                for p in parts {
                    if let Part::Any(b) = p
                        && let Ok(counts) = b.downcast::<Vec<usize>>()
                    {
                        for (t, c) in totals.iter_mut().zip(counts.iter()) {
                            *t += c;
                        }
                    }
                }
                Reply::Array(
                    merge_names
                        .iter()
                        .zip(totals)
                        .flat_map(|(n, c)| [Reply::Bulk(n.clone()), Reply::Int(c as i64)])
                        .collect(),
                )
            }),
        );
    }

    fn pubsub_numpat(&mut self, conn: &mut Conn) {
        self.broadcast(
            conn,
            || {
                Box::new(|w: &mut Worker| {
                    let patterns: Vec<Bytes> = w.pubsub.patterns.keys().cloned().collect();
                    Box::new(patterns) as Box<dyn std::any::Any + Send>
                })
            },
            Box::new(|parts| {
                let mut all: Vec<Bytes> = parts
                    .into_iter()
                    .filter_map(|p| match p {
                        Part::Any(b) => b.downcast::<Vec<Bytes>>().ok().map(|v| *v),
                        Part::Reply(_) => None,
                    })
                    .flatten()
                    .collect();
                all.sort_unstable();
                all.dedup();
                Reply::Int(all.len() as i64)
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(db: usize, class: u32, event: &'static str, key: &str) -> KeyEvent {
        KeyEvent {
            db,
            class,
            event,
            key: Bytes::copy_from_slice(key.as_bytes()),
        }
    }

    fn pairs(msgs: &[(Bytes, Bytes)]) -> Vec<(String, String)> {
        msgs.iter()
            .map(|(c, m)| {
                (
                    String::from_utf8_lossy(c).into_owned(),
                    String::from_utf8_lossy(m).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn notifications_follow_notify_c() {
        let events = [
            ev(0, class::LIST, "lpush", "mylist"),
            ev(3, class::GENERIC, "del", "k"),
        ];
        let all = class::ALL | class::KEYSPACE | class::KEYEVENT;
        assert_eq!(
            pairs(&notification_messages(&events, all)),
            [
                ("__keyspace@0__:mylist".into(), "lpush".into()),
                ("__keyevent@0__:lpush".into(), "mylist".into()),
                ("__keyspace@3__:k".into(), "del".into()),
                ("__keyevent@3__:del".into(), "k".into()),
            ]
        );
        // K alone, E alone, and a class that is not enabled.
        assert_eq!(
            pairs(&notification_messages(
                &events,
                class::LIST | class::KEYSPACE
            )),
            [("__keyspace@0__:mylist".into(), "lpush".into())]
        );
        assert_eq!(
            pairs(&notification_messages(
                &events,
                class::GENERIC | class::KEYEVENT
            )),
            [("__keyevent@3__:del".into(), "k".into())]
        );
        // Neither K nor E: nothing is published.
        assert!(notification_messages(&events, class::ALL).is_empty());
    }

    #[test]
    fn binary_keys_in_channels() {
        assert_eq!(
            keyspace_channel(15, b"a\x00b"),
            Bytes::from_static(b"__keyspace@15__:a\x00b")
        );
        assert_eq!(
            keyevent_channel(2, "expired"),
            Bytes::from_static(b"__keyevent@2__:expired")
        );
    }

    #[test]
    fn subs_counts_and_state() {
        let mut s = Subs::default();
        assert!(!s.active());
        let a = Bytes::from_static(b"a");
        let p = Bytes::from_static(b"p*");
        assert!(s.insert(SubKind::Channel, &a));
        assert!(!s.insert(SubKind::Channel, &a));
        assert!(s.insert(SubKind::Pattern, &p));
        assert!(s.insert(SubKind::Shard, &a));
        assert_eq!(s.counts(), (1, 1, 1));
        assert_eq!(s.count_for(SubKind::Channel), 2);
        assert_eq!(s.count_for(SubKind::Shard), 1);
        assert!(s.remove(SubKind::Shard, b"a"));
        assert!(!s.remove(SubKind::Shard, b"a"));
        assert_eq!(s.take(SubKind::Channel), vec![a]);
        assert!(s.active());
        assert_eq!(s.take(SubKind::Pattern), vec![p]);
        assert!(!s.active());
        assert!(s.0.is_none(), "state freed once empty");
    }

    #[test]
    fn registry_keeps_order_and_drops_empty_lists() {
        let mut r = Registry::default();
        let ch = Bytes::from_static(b"ch");
        r.add(SubKind::Channel, ch.clone(), 7);
        r.add(SubKind::Channel, ch.clone(), 3);
        r.add(SubKind::Channel, ch.clone(), 9);
        assert_eq!(r.channels.get(&ch), Some(&vec![7, 3, 9]));
        r.remove(SubKind::Channel, b"ch", 3);
        assert_eq!(r.channels.get(&ch), Some(&vec![7, 9]));
        assert_eq!(r.subscribers(false, b"ch"), 2);
        assert_eq!(r.subscribers(true, b"ch"), 0);
        r.remove(SubKind::Channel, b"ch", 7);
        r.remove(SubKind::Channel, b"ch", 9);
        assert!(r.channels.is_empty());
        r.add(SubKind::Shard, Bytes::from_static(b"s1"), 1);
        r.add(SubKind::Shard, Bytes::from_static(b"t1"), 1);
        let mut names = r.names(true, Some(b"s*"));
        names.sort();
        assert_eq!(names, vec![Bytes::from_static(b"s1")]);
    }

    #[test]
    fn distinct_over_shards() {
        let a = Names {
            channels: vec![Bytes::from_static(b"x"), Bytes::from_static(b"y")],
            patterns: vec![Bytes::from_static(b"p*")],
            shard: vec![],
        };
        let b = Names {
            channels: vec![Bytes::from_static(b"y")],
            patterns: vec![Bytes::from_static(b"p*"), Bytes::from_static(b"q*")],
            shard: vec![Bytes::from_static(b"s")],
        };
        assert_eq!(distinct_counts([a, b].iter()), (2, 2, 1));
    }

    #[test]
    fn census_is_per_shard_and_per_kind() {
        let c = Census::new(2);
        assert!(!c.listening(0, false));
        c.store(1, 2, 0);
        assert!(c.listening(1, false));
        assert!(!c.listening(1, true));
        assert!(!c.listening(5, false));
        c.store(1, 0, 1);
        assert!(!c.listening(1, false));
        assert!(c.listening(1, true));
    }
}
