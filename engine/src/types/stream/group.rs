//! Consumer groups: the last delivered ID, the logical read counter, the pending entries list
//! (PEL) and the consumers, as Redis's `streamCG`, `streamNACK` and `streamConsumer`.
//!
//! Invariants: every ID in a consumer's `pel` is in the group's `pel` with that consumer as
//! owner, and every group PEL entry's owner exists and lists the ID (the two PELs are kept in
//! step by the methods here; Redis shares one NACK between them).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::StreamId;

/// `entries_read` value meaning "unknown" (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// One pending (delivered, unacknowledged) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The consumer that owns it.
    pub consumer: Bytes,
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    /// Number of deliveries.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Unix ms of the last interaction (read or claim attempt).
    pub seen_time: u64,
    /// Unix ms of the last successful delivery or claim; `None` if never (Redis's -1).
    pub active_time: Option<u64>,
    /// IDs this consumer owns in the group PEL.
    pub pel: BTreeSet<StreamId>,
}

impl Consumer {
    fn new(now_ms: u64) -> Consumer {
        Consumer {
            seen_time: now_ms,
            active_time: None,
            pel: BTreeSet::new(),
        }
    }
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Logical read counter, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    /// The group PEL.
    pub pel: BTreeMap<StreamId, PendingEntry>,
    /// Consumers by name (name order, as Redis's rax lists them).
    pub consumers: BTreeMap<Bytes, Consumer>,
}

/// Approximate heap bytes of one PEL entry (group map slot + consumer set slot).
const PEL_ENTRY_BYTES: usize = 96;
/// Approximate heap bytes of one consumer beyond its name.
const CONSUMER_BYTES: usize = 96;

impl ConsumerGroup {
    /// A group positioned at `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> ConsumerGroup {
        ConsumerGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Approximate heap bytes.
    pub fn mem_bytes(&self) -> usize {
        self.pel.len() * PEL_ENTRY_BYTES
            + self
                .consumers
                .keys()
                .map(|k| k.len() + CONSUMER_BYTES)
                .sum::<usize>()
    }

    /// Creates consumer `name` unless it exists; true if created.
    pub fn create_consumer(&mut self, name: &Bytes, now_ms: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(name.clone(), Consumer::new(now_ms));
        true
    }

    /// Deletes a consumer and its pending entries; returns how many it had pending, or `None`
    /// if it did not exist.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        Some(consumer.pel.len())
    }

    /// Removes `id` from the PEL (XACK); true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(&p.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Gives pending entry `id` to `consumer` (which must exist), creating the entry with
    /// `delivery_time`/`count` 1 if absent. An existing entry owned by someone else is moved.
    /// Returns the entry.
    pub fn assign(&mut self, id: StreamId, consumer: &Bytes, now_ms: u64) -> &mut PendingEntry {
        let previous = self.pel.get(&id).map(|p| p.consumer.clone());
        if let Some(prev) = previous.filter(|p| p != consumer)
            && let Some(c) = self.consumers.get_mut(&prev)
        {
            c.pel.remove(&id);
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        let entry = self.pel.entry(id).or_insert_with(|| PendingEntry {
            consumer: consumer.clone(),
            delivery_time: now_ms,
            delivery_count: 1,
        });
        entry.consumer = consumer.clone();
        entry
    }

    /// Debug check of the PEL invariant (see the module docs).
    pub fn check(&self) -> bool {
        let by_consumers: usize = self.consumers.values().map(|c| c.pel.len()).sum();
        by_consumers == self.pel.len()
            && self.pel.iter().all(|(id, p)| {
                self.consumers
                    .get(&p.consumer)
                    .is_some_and(|c| c.pel.contains(id))
            })
    }
}
