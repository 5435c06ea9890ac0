//! Connection migration: a plain connection whose keyed commands keep going to one other shard
//! moves to that shard, so they run where their keys live instead of each being forwarded (a
//! forwarded command costs a message each way and a second thread's attention). As
//! Dragonfly's `migrate_connections`; `migrate-connections no` turns it off.
//!
//! A connection is a candidate after [`MIGRATE_AFTER`] keyed commands in a row were all owned
//! by the same other shard (twice that after each move, so a client alternating between keys
//! of two shards settles instead of bouncing). The move itself:
//! 1. At the end of a loop iteration (`Worker::start_migrations`) a candidate that is idle
//!    (below) is detached from the driver (`Driver::detach`): no more reads.
//! 2. The driver reports `Event::Detached` with the socket and any bytes a racing read got;
//!    the connection leaves this shard's tables and is sent to the destination in a
//!    `Msg::Adopt`.
//! 3. The destination registers the socket with its own driver (`Driver::adopt`), enters the
//!    connection in its tables under the new token and runs whatever complete commands its
//!    buffer holds.
//!
//! Invariants:
//! - A connection moves only when idle: no reply outstanding or unsent (none held for the
//!   WAL either), no send in flight, and no state that names its shard or token elsewhere (MULTI/WATCH, subscriptions,
//!   MONITOR, a blocking wait, a CLIENT PAUSE hold, a queued atomic batch, TLS). Commands run
//!   in order: those parsed before the move ran here; unparsed bytes travel with it.
//! - Its client id and every per-connection setting are kept; only the token changes, and
//!   `client_tokens` maps the id on exactly one shard (none while in transit).
//! - `connected_clients` is unchanged by a move; a connection lost in transit (the
//!   destination cannot register it, or shuts down) is counted out where it is dropped.

use crate::conn::Conn;
use crate::driver::{ConnToken, Handoff};
use crate::mailbox::Msg;
use crate::worker::Worker;

/// Keyed commands in a row owned by one other shard before a connection moves there.
pub const MIGRATE_AFTER: u32 = 32;

/// The most a connection's threshold doubles (so it stays reachable).
const MAX_BACKOFF: u32 = 10;

/// Where a connection's keyed commands have been running.
#[derive(Debug, Default, Clone)]
pub struct Affinity {
    /// The shard the current run of forwarded commands went to.
    owner: usize,
    /// How many keyed commands in a row went to `owner`.
    run: u32,
    /// Moves so far (each doubles the threshold).
    moves: u32,
    /// Chosen destination, waiting for the connection to be idle.
    pub(crate) target: Option<usize>,
    /// Detached from the driver; waiting for `Event::Detached`.
    pub(crate) detaching: bool,
}

impl Affinity {
    /// A keyed command of a connection on shard `home` ran on (or went to) `owner`. True when
    /// the connection has just become a candidate to move to `owner`.
    #[inline]
    pub fn note(&mut self, home: usize, owner: usize) -> bool {
        if owner == home {
            self.run = 0;
            return false;
        }
        if owner != self.owner {
            self.owner = owner;
            self.run = 0;
        }
        self.run = self.run.saturating_add(1);
        self.run == MIGRATE_AFTER << self.moves.min(MAX_BACKOFF) && self.target.is_none()
    }

    fn moved(&mut self) {
        self.moves = self.moves.saturating_add(1);
        self.run = 0;
        self.target = None;
        self.detaching = false;
    }

    fn cancel(&mut self) {
        self.run = 0;
        self.target = None;
    }
}

/// A connection in transit between shards.
pub struct Moving {
    /// Its state, unchanged but for the token.
    pub conn: Box<Conn>,
    /// Its socket.
    pub handoff: Handoff,
}

/// Why a candidate cannot move now.
enum Ready {
    /// Idle: detach it.
    Go,
    /// Output or replies still pending: look again next iteration.
    Later,
    /// Its state pins it here: drop the candidacy.
    Never,
}

fn readiness(conn: &Conn) -> Ready {
    // A CLIENT PAUSE hold is a `blocked_on` too.
    let pinned = conn.tls.is_some()
        || conn.multi.is_some()
        || !conn.watching.keys.is_empty()
        || conn.subs.active()
        || conn.monitor
        || conn.blocked_on.is_some()
        || conn.close_after_flush
        || conn.capture.is_some();
    if pinned {
        return Ready::Never;
    }
    let busy = !conn.pending.is_empty()
        || !conn.out.is_empty()
        || conn.sending
        || !conn.stash.is_empty()
        || conn.atomic_wait
        || !conn.late_failed.is_empty()
        // Output waiting for this shard's WAL (`walhold.rs`) leaves from here.
        || conn.wal.holding()
        || conn.wal.listed;
    if busy { Ready::Later } else { Ready::Go }
}

impl Worker {
    /// Records where a keyed command of `conn` runs; a connection that keeps sending to one
    /// other shard becomes a migration candidate.
    #[inline]
    pub(crate) fn note_owner(&mut self, conn: &mut Conn, owner: usize) {
        if conn.affinity.note(self.id, owner) && self.migrate_connections {
            conn.affinity.target = Some(owner);
            self.migrations.push(conn.token);
        }
    }

    /// End of an iteration: detach the candidates that are idle now.
    pub(crate) fn start_migrations(&mut self) {
        if self.migrations.is_empty() {
            return;
        }
        let mut tokens = std::mem::take(&mut self.migrations);
        tokens.retain(|&token| {
            let Some(conn) = self.conns.get_mut(&token) else {
                return false;
            };
            if conn.affinity.detaching || conn.affinity.target.is_none() {
                return false;
            }
            match readiness(conn) {
                Ready::Go => {
                    conn.affinity.detaching = true;
                    self.driver.detach(token);
                    false
                }
                Ready::Later => true,
                Ready::Never => {
                    conn.affinity.cancel();
                    false
                }
            }
        });
        self.migrations = tokens;
    }

    /// `Event::Detached`: send the connection on to its destination.
    pub(crate) fn on_detached(&mut self, token: ConnToken, handoff: Handoff) {
        let target = match self.conns.get(&token) {
            Some(conn) if conn.affinity.detaching => conn.affinity.target,
            _ => None,
        };
        let Some(target) = target else {
            // Not ours to move (closed meanwhile): dropping the socket closes it.
            debug_assert!(false, "Detached for {token} without a detach");
            return;
        };
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        self.client_tokens.remove(&conn.id);
        conn.rbuf.extend_from_slice(&handoff.unread);
        let handoff = Handoff {
            unread: Vec::new(),
            ..handoff
        };
        self.stats.migrated_out += 1;
        self.outboxes[target].send(Msg::Adopt(Box::new(Moving { conn, handoff })));
    }

    /// `Msg::Adopt`: take over a connection moved here by another shard.
    pub(crate) fn adopt(&mut self, moving: Moving) {
        let Moving { mut conn, handoff } = moving;
        let Some(token) = self.driver.adopt(handoff) else {
            tracing::warn!(
                client = conn.id,
                "a migrated connection could not be registered"
            );
            self.shared
                .connected_clients
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            return;
        };
        conn.token = token;
        conn.affinity.moved();
        // Its output was empty and released; marks are per shard (LSNs of the old one).
        conn.wal = crate::walhold::Marks::default();
        self.stats.migrated_in += 1;
        self.client_tokens.insert(conn.id, token);
        if !conn.rbuf.is_empty() {
            self.process_input(&mut conn);
        }
        self.conns.insert(token, conn);
        self.dirty.push(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn becomes_candidate_after_a_run_to_one_shard() {
        let mut a = Affinity::default();
        for _ in 1..MIGRATE_AFTER {
            assert!(!a.note(0, 1));
        }
        assert!(a.note(0, 1));
    }

    #[test]
    fn a_local_or_other_owner_restarts_the_run() {
        let mut a = Affinity::default();
        for _ in 1..MIGRATE_AFTER {
            assert!(!a.note(0, 1));
        }
        assert!(!a.note(0, 0), "local command");
        for _ in 1..MIGRATE_AFTER {
            assert!(!a.note(0, 1));
        }
        assert!(!a.note(0, 2), "another shard starts a run of its own");
        for _ in 2..MIGRATE_AFTER {
            assert!(!a.note(0, 2));
        }
        assert!(a.note(0, 2));
    }

    #[test]
    fn each_move_doubles_the_threshold() {
        let mut a = Affinity::default();
        a.moved();
        for _ in 1..2 * MIGRATE_AFTER {
            assert!(!a.note(1, 0));
        }
        assert!(a.note(1, 0));
        for _ in 0..100 {
            a.moved();
        }
        let limit = MIGRATE_AFTER << MAX_BACKOFF;
        for _ in 1..limit {
            assert!(!a.note(1, 0));
        }
        assert!(a.note(1, 0), "the threshold stops growing");
    }

    #[test]
    fn no_second_candidacy_while_one_is_open() {
        let mut a = Affinity::default();
        for _ in 1..MIGRATE_AFTER {
            a.note(0, 1);
        }
        assert!(a.note(0, 1));
        a.target = Some(1);
        a.run = MIGRATE_AFTER - 1;
        assert!(!a.note(0, 1));
    }
}
