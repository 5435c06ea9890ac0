//! FLAT index: exact scan over dense slots.
//!
//! Slots `0..len` are all live (removal swap-moves the last slot into the hole), so a scan
//! touches no tombstones. `slot_ids[s]` is the external id of slot `s` and `id_slots` its
//! inverse. With TurboQuant storage, KNN scans the codes, keeps the best `max(k, rerank)`
//! candidates and reranks them on exact vectors; range queries always scan exactly.

use crate::scored::{Scored, sort_results};
use crate::storage::Storage;
use roaring::RoaringBitmap;
use std::collections::{BinaryHeap, HashMap};
use std::io;

/// Exact (brute-force) vector index.
#[derive(Debug)]
pub struct FlatIndex {
    pub(crate) storage: Storage,
    pub(crate) slot_ids: Vec<u32>,
    id_slots: HashMap<u32, u32>,
}

/// Pushes into a bounded max-heap keeping the `cap` smallest.
#[inline]
fn push_bounded(heap: &mut BinaryHeap<Scored>, cap: usize, item: Scored) {
    if heap.len() < cap {
        heap.push(item);
    } else if let Some(top) = heap.peek()
        && item < *top
    {
        heap.pop();
        heap.push(item);
    }
}

impl FlatIndex {
    pub(crate) fn new(storage: Storage) -> Self {
        Self {
            storage,
            slot_ids: Vec::new(),
            id_slots: HashMap::new(),
        }
    }

    /// Live vectors.
    pub fn len(&self) -> usize {
        self.slot_ids.len()
    }

    /// True when no vector is indexed.
    pub fn is_empty(&self) -> bool {
        self.slot_ids.is_empty()
    }

    /// Whether `id` is indexed.
    pub fn contains(&self, id: u32) -> bool {
        self.id_slots.contains_key(&id)
    }

    /// The stored (metric-prepared) vector of `id`.
    pub fn vector(&self, id: u32) -> Option<&[f32]> {
        self.id_slots
            .get(&id)
            .map(|&s| self.storage.exact(s as usize))
    }

    /// Inserts or replaces `id` with the metric-prepared vector `v` (`v.len() == dim`).
    pub(crate) fn insert(&mut self, id: u32, v: &[f32]) -> io::Result<()> {
        match self.id_slots.get(&id) {
            Some(&slot) => self.storage.set(slot as usize, v),
            None => {
                let slot = self.slot_ids.len();
                self.storage.set(slot, v)?;
                self.slot_ids.push(id);
                self.id_slots.insert(id, slot as u32);
                Ok(())
            }
        }
    }

    /// Removes `id`; false if absent.
    pub(crate) fn remove(&mut self, id: u32) -> io::Result<bool> {
        let Some(&slot) = self.id_slots.get(&id) else {
            return Ok(false);
        };
        let slot = slot as usize;
        let last = self.slot_ids.len() - 1;
        // Move the last row first: if that fails nothing has changed.
        if slot != last {
            let moved = self.storage.exact(last).to_vec();
            self.storage.set(slot, &moved)?;
        }
        self.id_slots.remove(&id);
        if slot != last {
            let moved_id = self.slot_ids[last];
            self.slot_ids[slot] = moved_id;
            self.id_slots.insert(moved_id, slot as u32);
        }
        self.slot_ids.pop();
        self.storage.truncate(last);
        Ok(true)
    }

    /// The `k` nearest live vectors to the prepared query `q` among `filter` (all when `None`),
    /// as `(id, score)` sorted by score then id. `rerank` is the candidate pool re-scored
    /// exactly when the storage is quantized (at least `k`).
    pub fn knn(
        &self,
        q: &[f32],
        k: usize,
        filter: Option<&RoaringBitmap>,
        rerank: usize,
    ) -> Vec<(u32, f32)> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let quant = self.storage.quant_query(q);
        let pool = if quant.is_some() { k.max(rerank) } else { k };
        // `k` comes from the query and `rerank` from parameters: never size buffers by them alone.
        let mut heap = BinaryHeap::with_capacity(pool.min(self.len()) + 1);
        let mut visit = |slot: usize, id: u32| {
            let score = match &quant {
                Some(tq) => self.storage.score_quant(tq, slot),
                None => self.storage.score(q, slot),
            };
            push_bounded(&mut heap, pool, Scored::new(score, id));
        };
        match filter {
            Some(f) if (f.len() as usize) < self.len() => {
                for id in f.iter() {
                    if let Some(&slot) = self.id_slots.get(&id) {
                        visit(slot as usize, id);
                    }
                }
            }
            _ => {
                for (slot, &id) in self.slot_ids.iter().enumerate() {
                    if filter.is_none_or(|f| f.contains(id)) {
                        visit(slot, id);
                    }
                }
            }
        }
        let mut out: Vec<(u32, f32)> = match quant {
            Some(_) => heap
                .into_iter()
                .filter_map(|s| {
                    self.id_slots
                        .get(&s.key)
                        .map(|&slot| (s.key, self.storage.score(q, slot as usize)))
                })
                .collect(),
            None => heap.into_iter().map(|s| (s.key, s.score)).collect(),
        };
        sort_results(&mut out);
        out.truncate(k);
        out
    }

    /// Every live vector within `radius` (score ≤ radius) of `q` among `filter`, sorted.
    pub fn range(&self, q: &[f32], radius: f32, filter: Option<&RoaringBitmap>) -> Vec<(u32, f32)> {
        let mut out = Vec::new();
        for (slot, &id) in self.slot_ids.iter().enumerate() {
            if filter.is_none_or(|f| f.contains(id)) {
                let s = self.storage.score(q, slot);
                if s <= radius {
                    out.push((id, s));
                }
            }
        }
        sort_results(&mut out);
        out
    }

    /// Live `(id, vector)` pairs in slot order (snapshots, rebuilds).
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u32, &[f32])> {
        self.slot_ids
            .iter()
            .enumerate()
            .map(|(s, &id)| (id, self.storage.exact(s)))
    }

    /// RAM bytes.
    pub fn memory_usage(&self) -> usize {
        self.storage.memory_bytes()
            + self.slot_ids.capacity() * 4
            + self.id_slots.capacity() * (8 + 1)
    }
}
