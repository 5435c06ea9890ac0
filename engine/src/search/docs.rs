//! The per-index document table: key ↔ dense u32 doc id (ids start at 1 as RediSearch's do;
//! freed ids are reused through a free list), and per doc the indexed values needed to
//! un-index it when the key changes or goes.
//!
//! Invariants: `ids[key] == id` iff `slots[id]` is `Some(doc)` with `doc.key == key`; every
//! id in `free` has an empty slot; `max_doc_id` is the highest id ever handed out.

use bytes::Bytes;
use hashbrown::HashMap;

/// The indexed value of one schema field in one doc (what un-indexing needs).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// The hash lacks the field, or the field is not indexed by an index Moon has yet.
    Absent,
    /// A TAG field's normalized tags.
    Tags(Vec<Bytes>),
    /// A NUMERIC field's value.
    Num(f64),
    /// A GEO field's (lon, lat), validated; kept for the geo index to come.
    Geo(f64, f64),
}

/// One indexed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub key: Bytes,
    /// One value per schema field, in schema order.
    pub values: Vec<FieldValue>,
}

/// See the module docs.
#[derive(Debug, Default, Clone)]
pub struct DocTable {
    ids: HashMap<Bytes, u32>,
    slots: Vec<Option<Doc>>,
    free: Vec<u32>,
    max_doc_id: u32,
}

impl DocTable {
    /// The id of `key`'s doc.
    pub fn id_of(&self, key: &[u8]) -> Option<u32> {
        self.ids.get(key).copied()
    }

    /// The doc with id `id`.
    pub fn get(&self, id: u32) -> Option<&Doc> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    /// Stores `doc` under a fresh (or reused) id, or replaces the doc of the same key
    /// (keeping its id); returns the id and the replaced doc.
    pub fn upsert(&mut self, doc: Doc) -> (u32, Option<Doc>) {
        if let Some(&id) = self.ids.get(&doc.key) {
            let old = self.slots.get_mut(id as usize).and_then(|s| s.replace(doc));
            return (id, old);
        }
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.max_doc_id = self.max_doc_id.saturating_add(1);
                self.max_doc_id
            }
        };
        let at = id as usize;
        if self.slots.len() <= at {
            self.slots.resize(at + 1, None);
        }
        self.ids.insert(doc.key.clone(), id);
        self.slots[at] = Some(doc);
        (id, None)
    }

    /// Removes `key`'s doc; returns its id and the doc.
    pub fn remove(&mut self, key: &[u8]) -> Option<(u32, Doc)> {
        let id = self.ids.remove(key)?;
        let doc = self.slots.get_mut(id as usize)?.take()?;
        self.free.push(id);
        Some((id, doc))
    }

    /// Number of docs.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True without docs.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The highest id ever assigned.
    pub fn max_doc_id(&self) -> u32 {
        self.max_doc_id
    }

    /// Every doc with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Doc)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_ref().map(|d| (i as u32, d)))
    }

    /// Every doc, mutably (the caller must not change `key`).
    pub fn docs_mut(&mut self) -> impl Iterator<Item = &mut Doc> {
        self.slots.iter_mut().flatten()
    }

    /// Forgets every doc (ids restart at 1).
    pub fn clear(&mut self) {
        *self = DocTable::default();
    }

    /// The free list (ids to reuse, the last one first): persisted so that a restored table
    /// hands out the same ids as the one that was saved.
    pub fn free_ids(&self) -> &[u32] {
        &self.free
    }

    /// A table with exactly these `(id, key)` docs (values `Absent` × `fields`, the caller
    /// fills them in), free list and highest id, as [`DocTable::free_ids`] /
    /// [`DocTable::iter`] / [`DocTable::max_doc_id`] reported them. Every id must be in
    /// `1..=max_doc_id`, used once (by a doc or the free list), every key once.
    pub fn restore(
        docs: Vec<(u32, Bytes)>,
        free: Vec<u32>,
        max_doc_id: u32,
        fields: usize,
    ) -> Result<DocTable, String> {
        let mut t = DocTable {
            ids: HashMap::with_capacity(docs.len()),
            slots: Vec::new(),
            free: Vec::with_capacity(free.len()),
            max_doc_id,
        };
        let in_range = |id: u32| (1..=max_doc_id).contains(&id);
        for (id, key) in docs {
            if !in_range(id) {
                return Err(format!("doc id {id} out of range"));
            }
            let at = id as usize;
            if t.slots.len() <= at {
                t.slots.resize(at + 1, None);
            }
            if t.slots.get(at).is_some_and(Option::is_some) || t.ids.contains_key(&key) {
                return Err(format!("doc id {id} or its key appears twice"));
            }
            t.ids.insert(key.clone(), id);
            if let Some(slot) = t.slots.get_mut(at) {
                *slot = Some(Doc {
                    key,
                    values: vec![FieldValue::Absent; fields],
                });
            }
        }
        let mut seen = roaring::RoaringBitmap::new();
        for id in free {
            let used = t.slots.get(id as usize).is_some_and(Option::is_some);
            if !in_range(id) || used || !seen.insert(id) {
                return Err(format!("free doc id {id} is out of range or in use"));
            }
            t.free.push(id);
        }
        // Ids are handed out in sequence and every freed one is listed: together they are
        // exactly 1..=max_doc_id.
        if t.ids.len() as u64 + t.free.len() as u64 != u64::from(max_doc_id) {
            return Err("doc ids and free ids do not cover 1..=max_doc_id".into());
        }
        Ok(t)
    }

    /// Approximate heap bytes of the table (keys and slots).
    pub fn mem_bytes(&self) -> usize {
        self.ids.keys().map(|k| k.len() * 2 + 48).sum::<usize>()
            + self.slots.capacity() * std::mem::size_of::<Option<Doc>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(k: &str) -> Doc {
        Doc {
            key: Bytes::copy_from_slice(k.as_bytes()),
            values: vec![FieldValue::Num(1.0)],
        }
    }

    #[test]
    fn ids_are_dense_and_reused() {
        let mut t = DocTable::default();
        assert_eq!(t.upsert(doc("a")).0, 1);
        assert_eq!(t.upsert(doc("b")).0, 2);
        let (id, old) = t.upsert(doc("a"));
        assert_eq!((id, old.is_some()), (1, true));
        assert_eq!(t.remove(b"a").map(|(id, _)| id), Some(1));
        assert_eq!(t.remove(b"a"), None);
        assert_eq!(t.upsert(doc("c")).0, 1);
        assert_eq!((t.len(), t.max_doc_id()), (2, 2));
        assert_eq!(t.id_of(b"c"), Some(1));
        assert_eq!(t.get(2).map(|d| &d.key[..]), Some(&b"b"[..]));
        let keys: Vec<u32> = t.iter().map(|(i, _)| i).collect();
        assert_eq!(keys, vec![1, 2]);
        t.clear();
        assert!(t.is_empty());
    }
}
