//! Interest in keys that outlives one op: WATCH (a transaction aborts if a watched key is
//! modified before its EXEC) and blocked clients (BLPOP ... wait until a key is written).
//!
//! The shard only records *that* something happened: it raises the watchers' shared flags and
//! queues "ready" keys; the server reads the flags at EXEC and serves the blocked clients.
//!
//! Invariants: a flag, once raised, stays raised (the connection replaces it on UNWATCH/EXEC);
//! a watched key's entry is compared before and after every write op that names it, so only
//! real modifications raise flags; registries hold no entry for a key nobody waits on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};

/// A transaction's "a watched key changed" flag, shared by the connection and every shard
/// that owns one of its watched keys.
pub type WatchFlag = Arc<AtomicBool>;

/// One watcher of a key: its flag and the key's TTL when it was watched.
type Watcher = (WatchFlag, Option<u64>);

/// Per-shard registries of watched keys and keys blocked clients wait on.
#[derive(Debug, Default)]
pub struct Interest {
    watched: HashMap<(usize, Bytes), Vec<Watcher>>,
    blocked: HashMap<(usize, Bytes), usize>,
    ready: Vec<(usize, Bytes)>,
    ready_set: HashSet<(usize, Bytes)>,
}

impl Interest {
    /// True if nothing is watched and nobody is blocked (the common, zero-cost case).
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.watched.is_empty() && self.blocked.is_empty()
    }

    /// True if some connection watches keys here.
    #[inline]
    pub fn has_watches(&self) -> bool {
        !self.watched.is_empty()
    }

    /// True if `key` in `db` is watched.
    pub fn is_watched(&self, db: usize, key: &[u8]) -> bool {
        !self.watched.is_empty()
            && self
                .watched
                .contains_key(&(db, Bytes::copy_from_slice(key)))
    }

    /// Registers `flag` as watching `key`, which had TTL `expire_at` (if live) when watched.
    pub fn watch(&mut self, db: usize, key: Bytes, flag: WatchFlag, expire_at: Option<u64>) {
        let list = self.watched.entry((db, key)).or_default();
        if !list.iter().any(|(f, _)| Arc::ptr_eq(f, &flag)) {
            list.push((flag, expire_at));
        }
    }

    /// True if `flag` watched `key` while it was live with a TTL that is due at `now_ms`:
    /// the key expired since, which EXEC counts as a modification (as Redis does).
    pub fn watched_key_expired(
        &self,
        db: usize,
        key: &Bytes,
        flag: &WatchFlag,
        now_ms: u64,
    ) -> bool {
        self.watched.get(&(db, key.clone())).is_some_and(|list| {
            list.iter()
                .any(|(f, at)| Arc::ptr_eq(f, flag) && at.is_some_and(|at| at <= now_ms))
        })
    }

    /// Removes `flag` from `key`'s watchers.
    pub fn unwatch(&mut self, db: usize, key: &Bytes, flag: &WatchFlag) {
        let k = (db, key.clone());
        if let Some(list) = self.watched.get_mut(&k) {
            list.retain(|(f, _)| !Arc::ptr_eq(f, flag));
            if list.is_empty() {
                self.watched.remove(&k);
            }
        }
    }

    /// Raises every flag watching `key` and forgets them (they cannot be lowered again).
    pub fn touch(&mut self, db: usize, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        if let Some(list) = self.watched.remove(&(db, Bytes::copy_from_slice(key))) {
            for (f, _) in list {
                f.store(true, Ordering::Release);
            }
        }
    }

    /// Raises the flags of every watched key in `db` that `exists` says is present.
    pub fn touch_db(&mut self, db: usize, mut exists: impl FnMut(&[u8]) -> bool) {
        let keys: Vec<(usize, Bytes)> = self
            .watched
            .keys()
            .filter(|(d, k)| *d == db && exists(k))
            .cloned()
            .collect();
        for (d, k) in keys {
            self.touch(d, &k);
        }
    }

    /// A blocked client now waits on `key`.
    pub fn block(&mut self, db: usize, key: Bytes) {
        *self.blocked.entry((db, key)).or_default() += 1;
    }

    /// One blocked client stopped waiting on `key`.
    pub fn unblock(&mut self, db: usize, key: &Bytes) {
        let k = (db, key.clone());
        if let Some(n) = self.blocked.get_mut(&k) {
            *n -= 1;
            if *n == 0 {
                self.blocked.remove(&k);
            }
        }
    }

    /// Notes that `key` was written; queues it as ready if a client waits on it.
    pub fn signal_written(&mut self, db: usize, key: &[u8]) {
        if self.blocked.is_empty() {
            return;
        }
        let k = (db, Bytes::copy_from_slice(key));
        if self.blocked.contains_key(&k) && self.ready_set.insert(k.clone()) {
            self.ready.push(k);
        }
    }

    /// Keys written since the last call that blocked clients wait on, in write order.
    pub fn take_ready(&mut self) -> Vec<(usize, Bytes)> {
        self.ready_set.clear();
        std::mem::take(&mut self.ready)
    }

    /// True if ready keys are queued.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_raises_only_that_keys_flags() {
        let mut i = Interest::default();
        let (a, b) = (WatchFlag::default(), WatchFlag::default());
        i.watch(0, Bytes::from_static(b"k"), a.clone(), None);
        i.watch(0, Bytes::from_static(b"j"), b.clone(), Some(10));
        assert!(i.watched_key_expired(0, &Bytes::from_static(b"j"), &b, 10));
        assert!(!i.watched_key_expired(0, &Bytes::from_static(b"j"), &b, 9));
        i.touch(0, b"k");
        assert!(a.load(Ordering::Acquire));
        assert!(!b.load(Ordering::Acquire));
        i.unwatch(0, &Bytes::from_static(b"j"), &b);
        assert!(i.is_idle());
    }

    #[test]
    fn ready_keys_are_queued_once_and_only_when_waited_on() {
        let mut i = Interest::default();
        i.signal_written(0, b"k");
        assert!(!i.has_ready());
        i.block(0, Bytes::from_static(b"k"));
        i.signal_written(0, b"k");
        i.signal_written(0, b"k");
        assert_eq!(i.take_ready(), vec![(0, Bytes::from_static(b"k"))]);
        i.unblock(0, &Bytes::from_static(b"k"));
        assert!(i.is_idle());
    }
}
