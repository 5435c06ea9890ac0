//! The stream value: entries in ID order, packed into nodes of up to `stream-node-max-entries`
//! entries / `stream-node-max-bytes` bytes (see [`node`]) held in a `BTreeMap` keyed by each
//! node's master ID (the role of Redis's rax of listpacks), plus the stream metadata Redis 7
//! tracks (last/first ID, max deleted ID, entries added) and the consumer groups.
//!
//! Invariants:
//! - every entry of the node keyed `m` has an ID ≥ `m` and < the next node's key; IDs strictly
//!   increase across the whole map; no node is empty;
//! - `length` is the total entry count; `last_id` ≥ every entry's ID;
//! - `first_id` is the first entry's ID (0-0 when empty);
//! - `node_bytes` is the sum of the nodes' buffer capacities (kept so `mem_bytes` is O(groups)).

mod group;
mod id;
mod node;

use std::collections::BTreeMap;

use bytes::Bytes;

pub use group::{Consumer, ConsumerGroup, INVALID_ENTRIES_READ, PendingEntry};
pub use id::StreamId;
pub use node::{EntryRef, Fields};
use node::{Node, RawEntry};

/// Largest total field/value size of one entry (Redis's `STREAM_LISTPACK_MAX_SIZE`).
pub const MAX_ENTRY_BYTES: usize = 1 << 30;
/// Approximate fixed heap cost of one node (its map slot and struct).
const NODE_OVERHEAD: usize = 64;

/// How XADD/XTRIM trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimStrategy {
    /// MAXLEN: keep at most this many entries.
    MaxLen(u64),
    /// MINID: drop entries with an ID below this one.
    MinId(StreamId),
}

/// The node size limits in force (`stream-node-max-bytes`, `stream-node-max-entries`; 0 =
/// unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLimits {
    /// Maximum encoded bytes of a node.
    pub max_bytes: usize,
    /// Maximum entries of a node.
    pub max_entries: usize,
}

/// A stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamValue {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted_id: StreamId,
    entries_added: u64,
    node_bytes: usize,
    /// Consumer groups by name (an empty map does not allocate).
    groups: BTreeMap<Bytes, ConsumerGroup>,
}

impl StreamValue {
    /// An empty stream.
    pub fn new() -> StreamValue {
        StreamValue::default()
    }

    /// OBJECT ENCODING's answer (Redis's name).
    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    /// Heap bytes owned by the value (approximate, for INFO memory and eviction).
    pub fn mem_bytes(&self) -> usize {
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, cg)| name.len() + 64 + cg.mem_bytes())
            .sum();
        self.node_bytes + self.nodes.len() * NODE_OVERHEAD + groups
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Last generated ID (may be above every entry after XDEL or XSETID).
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// Recorded first entry ID (0-0 when empty).
    pub fn first_id(&self) -> StreamId {
        self.first_id
    }

    /// Largest ID ever deleted by XDEL (0-0 if none).
    pub fn max_deleted_id(&self) -> StreamId {
        self.max_deleted_id
    }

    /// Entries ever added.
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// XSETID: sets the last ID and optionally the counters.
    pub fn set_meta(
        &mut self,
        last_id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    ) {
        self.last_id = last_id;
        if let Some(n) = entries_added {
            self.entries_added = n;
        }
        if let Some(id) = max_deleted {
            self.max_deleted_id = id;
        }
    }

    /// The ID `*` generates at `now_ms` (`streamNextID`), `None` if the stream is exhausted.
    pub fn auto_id(&self, now_ms: u64) -> Option<StreamId> {
        if now_ms > self.last_id.ms {
            Some(StreamId::new(now_ms, 0))
        } else {
            self.last_id.next()
        }
    }

    /// Appends an entry with `id` > `last_id` (checked by the caller).
    pub fn append<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        id: StreamId,
        fields: &[(F, V)],
        limits: NodeLimits,
    ) {
        debug_assert!(id > self.last_id);
        let payload: usize = fields
            .iter()
            .map(|(f, v)| f.as_ref().len() + v.as_ref().len())
            .sum();
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > MAX_ENTRY_BYTES {
            MAX_ENTRY_BYTES
        } else {
            limits.max_bytes
        };
        let mut tail = self.nodes.last_entry();
        let fits = tail.as_ref().is_some_and(|t| {
            let node = t.get();
            node.bytes() + payload < max_bytes
                && (limits.max_entries == 0 || node.count() < limits.max_entries)
        });
        if fits && let Some(t) = tail.as_mut() {
            let master = *t.key();
            let node = t.get_mut();
            let before = node.capacity();
            node.append(master, id, fields);
            self.node_bytes = self.node_bytes + node.capacity() - before;
        } else {
            if let Some(t) = tail.as_mut() {
                let node = t.get_mut();
                let before = node.capacity();
                node.shrink();
                self.node_bytes = self.node_bytes + node.capacity() - before;
            }
            let mut node = Node::new(fields, 64.min(max_bytes));
            node.append(id, id, fields);
            self.node_bytes += node.capacity();
            self.nodes.insert(id, node);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Calls `f` on each entry with `start ≤ id ≤ end`, ascending (or descending when `rev`),
    /// until `f` returns false.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(EntryRef<'_>) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            let from = self
                .nodes
                .range(..=start)
                .next_back()
                .map_or(StreamId::MIN, |(k, _)| *k);
            for (master, node) in self.nodes.range(from..=end) {
                for e in node.iter(*master) {
                    if e.id < start {
                        continue;
                    }
                    if e.id > end || !f(node.entry_ref(&e)) {
                        return;
                    }
                }
            }
        } else {
            for (master, node) in self.nodes.range(..=end).rev() {
                let entries: Vec<RawEntry> = node.iter(*master).collect();
                for e in entries.iter().rev() {
                    if e.id > end {
                        continue;
                    }
                    if e.id < start || !f(node.entry_ref(e)) {
                        return;
                    }
                }
            }
        }
    }

    /// Calls `f` on the entry `id` if it exists; true if it did.
    pub fn with_entry(&self, id: StreamId, f: impl FnOnce(EntryRef<'_>)) -> bool {
        let mut f = Some(f);
        let mut found = false;
        self.range(id, id, false, |e| {
            if let Some(f) = f.take() {
                f(e);
            }
            found = true;
            false
        });
        found
    }

    /// True if entry `id` exists.
    pub fn contains(&self, id: StreamId) -> bool {
        self.with_entry(id, |_| {})
    }

    /// The first entry's ID.
    pub fn first_entry_id(&self) -> Option<StreamId> {
        let (master, node) = self.nodes.first_key_value()?;
        node.iter(*master).next().map(|e| e.id)
    }

    /// The last entry's ID (Redis's `streamLastValidID`).
    pub fn last_entry_id(&self) -> Option<StreamId> {
        let (master, node) = self.nodes.last_key_value()?;
        node.last(*master).map(|e| e.id)
    }

    /// Removes entry `id`; true if it existed. Does not touch `first_id`/`max_deleted_id`.
    fn remove(&mut self, id: StreamId) -> bool {
        let Some(key) = self.nodes.range(..=id).next_back().map(|(k, _)| *k) else {
            return false;
        };
        let std::collections::btree_map::Entry::Occupied(mut slot) = self.nodes.entry(key) else {
            return false;
        };
        let master = *slot.key();
        let node = slot.get_mut();
        let Some(e) = node
            .iter(master)
            .find(|e| e.id >= id)
            .filter(|e| e.id == id)
        else {
            return false;
        };
        let before = node.capacity();
        node.remove(&e);
        if node.count() == 0 {
            slot.remove();
            self.node_bytes -= before;
        } else {
            self.node_bytes = self.node_bytes + node.capacity() - before;
        }
        self.length -= 1;
        true
    }

    /// XDEL: deletes the listed IDs, keeping `first_id` and `max_deleted_id` as Redis does;
    /// returns how many existed.
    pub fn delete(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_deleted = false;
        for &id in ids {
            if self.remove(id) {
                first_deleted |= id == self.first_id;
                self.max_deleted_id = self.max_deleted_id.max(id);
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_deleted {
                self.first_id = self.first_entry_id().unwrap_or(StreamId::MAX);
            }
        }
        deleted
    }

    /// Trims from the head (`streamTrim`): whole nodes while they can go; then, unless
    /// `approx`, entries of the next node. `limit` (0 = none) caps the entries removed.
    /// Returns the number removed.
    pub fn trim(&mut self, strategy: TrimStrategy, approx: bool, limit: u64) -> u64 {
        let mut deleted: u64 = 0;
        while let Some(mut slot) = self.nodes.first_entry() {
            if let TrimStrategy::MaxLen(max) = strategy
                && self.length <= max
            {
                break;
            }
            let master = *slot.key();
            let entries = slot.get().count() as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match strategy {
                TrimStrategy::MaxLen(max) => self.length - entries >= max,
                TrimStrategy::MinId(min) => slot.get().last(master).is_some_and(|e| e.id < min),
            };
            if remove_node {
                let node = slot.remove();
                self.node_bytes -= node.capacity();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let node = slot.get_mut();
            let mut n = 0usize;
            let mut end = 0usize;
            let mut length = self.length;
            for e in node.iter(master) {
                let stop = match strategy {
                    TrimStrategy::MaxLen(max) => length <= max,
                    TrimStrategy::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                n += 1;
                end = e.end;
                length -= 1;
            }
            if n > 0 {
                let before = node.capacity();
                node.remove_head(n, end);
                self.node_bytes = self.node_bytes + node.capacity() - before;
                self.length -= n as u64;
                deleted += n as u64;
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_entry_id().unwrap_or(StreamId::MAX);
        }
        deleted
    }

    /// `streamRangeHasTombstones`: true if a deleted ID may lie in `start..=end`.
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of `id`, or
    /// [`INVALID_ENTRIES_READ`] when it cannot be known.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        let added = i64::try_from(self.entries_added).unwrap_or(i64::MAX);
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        let len = i64::try_from(self.length).unwrap_or(i64::MAX);
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return added - len;
            }
            if id == self.first_id {
                return added - len + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// `streamCGLag`: the group's lag, `None` when unknown.
    pub fn group_lag(&self, cg: &ConsumerGroup) -> Option<i64> {
        let added = i64::try_from(self.entries_added).unwrap_or(i64::MAX);
        if self.entries_added == 0 {
            return Some(0);
        }
        if cg.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(cg.last_id, StreamId::MAX)
        {
            return Some(added - cg.entries_read);
        }
        let read = self.estimate_distance(cg.last_id);
        (read != INVALID_ENTRIES_READ).then(|| added - read)
    }

    /// The groups, in name order.
    pub fn groups(&self) -> impl Iterator<Item = (&Bytes, &ConsumerGroup)> {
        self.groups.iter()
    }

    /// Number of groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Group `name`.
    pub fn group(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.groups.get(name)
    }

    /// Group `name`, mutably.
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.groups.get_mut(name)
    }

    /// Creates a group; false if one of that name exists.
    pub fn create_group(&mut self, name: &Bytes, last_id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups
            .insert(name.clone(), ConsumerGroup::new(last_id, entries_read));
        true
    }

    /// Takes group `name` out (to change it while reading the stream); see [`Self::put_group`].
    pub fn take_group(&mut self, name: &[u8]) -> Option<(Bytes, ConsumerGroup)> {
        self.groups.remove_entry(name)
    }

    /// Puts back a group taken with [`Self::take_group`].
    pub fn put_group(&mut self, name: Bytes, cg: ConsumerGroup) {
        self.groups.insert(name, cg);
    }

    /// Destroys a group; true if it existed.
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// The nodes in order (for DUMP): each node's master ID, its master field names and its
    /// entries.
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, Vec<&[u8]>, Vec<EntryRef<'_>>)> + '_ {
        self.nodes.iter().map(|(master, node)| {
            let entries = node.iter(*master).map(|e| node.entry_ref(&e)).collect();
            (*master, node.master_fields(), entries)
        })
    }

    /// RESTORE: appends a node keyed `master` with master fields `master_fields` holding
    /// `entries`. Returns false (changing nothing) unless `entries` is non-empty, its IDs are
    /// strictly increasing, all ≥ `master`, and `master` is above every entry already held.
    /// Metadata is set afterwards with [`Self::load_meta`].
    pub fn load_node<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        master: StreamId,
        master_fields: &[F],
        entries: &[(StreamId, Vec<(F, V)>)],
    ) -> bool {
        if entries.is_empty() || self.last_entry_id().is_some_and(|last| master <= last) {
            return false;
        }
        let mut prev: Option<StreamId> = None;
        for (id, _) in entries {
            if *id < master || prev.is_some_and(|p| *id <= p) {
                return false;
            }
            prev = Some(*id);
        }
        let master_pairs: Vec<(&[u8], &[u8])> = master_fields
            .iter()
            .map(|f| (f.as_ref(), &[][..]))
            .collect();
        let mut node = Node::new(&master_pairs, 64);
        for (id, fields) in entries {
            node.append(master, *id, fields);
        }
        node.shrink();
        self.node_bytes += node.capacity();
        self.length += entries.len() as u64;
        self.nodes.insert(master, node);
        true
    }

    /// RESTORE: sets the metadata after the nodes were loaded. Returns false if it contradicts
    /// them (`length` differs from the entry count, `last_id` below the last entry, `first_id`
    /// not the first entry of a non-empty stream).
    pub fn load_meta(
        &mut self,
        length: u64,
        last_id: StreamId,
        first_id: StreamId,
        max_deleted_id: StreamId,
        entries_added: u64,
    ) -> bool {
        if length != self.length {
            return false;
        }
        if let Some(last) = self.last_entry_id()
            && (last_id < last || self.first_entry_id() != Some(first_id))
        {
            return false;
        }
        self.last_id = last_id;
        self.first_id = first_id;
        self.max_deleted_id = max_deleted_id;
        self.entries_added = entries_added;
        true
    }

    /// Debug check of the structural invariants (see the module docs).
    pub fn check(&self) -> bool {
        let mut count = 0u64;
        let mut prev: Option<StreamId> = None;
        let mut bytes = 0;
        let keys: Vec<StreamId> = self.nodes.keys().copied().collect();
        for (i, (master, node)) in self.nodes.iter().enumerate() {
            if node.count() == 0 {
                return false;
            }
            bytes += node.capacity();
            let mut n = 0;
            for e in node.iter(*master) {
                if e.id < *master || prev.is_some_and(|p| e.id <= p) {
                    return false;
                }
                if keys.get(i + 1).is_some_and(|next| e.id >= *next) {
                    return false;
                }
                prev = Some(e.id);
                n += 1;
            }
            if n != node.count() {
                return false;
            }
            count += n as u64;
        }
        count == self.length
            && bytes == self.node_bytes
            && prev.is_none_or(|p| p <= self.last_id)
            && (self.length == 0 || Some(self.first_id) == self.first_entry_id())
            && self.groups().all(|(_, g)| g.check())
    }
}

#[cfg(test)]
mod tests;
