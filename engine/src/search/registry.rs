//! The per-shard registry of indexes: name → [`Index`], alias → index name, and a sorted
//! prefix list that finds the indexes a key belongs to.
//!
//! Invariants: `prefixes` holds exactly one `(prefix, index)` pair per prefix of every index
//! (the empty prefix for an index without PREFIX), sorted; `prefix_lens` is the sorted set of
//! their lengths; every alias names an existing index. Matching a key costs one binary search
//! per distinct prefix length, whatever the number of indexes.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::index::Index;
use super::schema::{FieldDef, IndexDef};
use crate::keyspace::Db;

/// See the module docs.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    indexes: BTreeMap<Bytes, Index>,
    aliases: BTreeMap<Bytes, Bytes>,
    prefixes: Vec<(Bytes, Bytes)>,
    prefix_lens: Vec<usize>,
    /// FT.DICTADD's dictionaries (process-wide: the same on every shard).
    pub dicts: super::dict::Dicts,
}

/// RediSearch's reply to a name that is neither an index nor an alias.
pub const UNKNOWN_INDEX: &str = "Unknown Index name";

impl Registry {
    /// True without indexes: the write paths check only this.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.indexes.is_empty()
    }

    /// The index called `name`, or the one alias `name` points to.
    pub fn get(&self, name: &[u8]) -> Option<&Index> {
        self.indexes
            .get(name)
            .or_else(|| self.aliases.get(name).and_then(|n| self.indexes.get(n)))
    }

    /// The index called `name`, or the one alias `name` points to, mutably.
    pub fn get_mut(&mut self, name: &[u8]) -> Option<&mut Index> {
        let real = self.resolve(name)?;
        self.indexes.get_mut(&real)
    }

    /// The real name of index or alias `name`.
    pub fn resolve(&self, name: &[u8]) -> Option<Bytes> {
        if let Some((k, _)) = self.indexes.get_key_value(name) {
            return Some(k.clone());
        }
        self.aliases.get(name).cloned()
    }

    /// Index names, sorted.
    pub fn names(&self) -> Vec<Bytes> {
        self.indexes.keys().cloned().collect()
    }

    /// Every index, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Index)> {
        self.indexes.iter()
    }

    /// Aliases of index `name`, sorted.
    pub fn aliases_of(&self, name: &[u8]) -> Vec<Bytes> {
        self.aliases
            .iter()
            .filter(|(_, n)| n[..] == *name)
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// FT.CREATE: adds the index and starts its scan of `db` unless SKIPINITIALSCAN.
    pub fn create(&mut self, def: IndexDef, db: &Db) -> Result<(), String> {
        if self.indexes.contains_key(&def.name) {
            return Err("Index already exists".into());
        }
        let mut idx = Index::new(def);
        if !idx.def.skip_initial_scan && !db.is_empty() {
            idx.start_scan(db);
        }
        self.indexes.insert(idx.def.name.clone(), idx);
        self.rebuild_prefixes();
        Ok(())
    }

    /// FT.ALTER ... SCHEMA ADD: new fields; existing docs are rescanned unless `skip`.
    pub fn alter(
        &mut self,
        name: &[u8],
        fields: Vec<FieldDef>,
        skip: bool,
        db: &Db,
    ) -> Result<(), String> {
        let real = self.resolve(name).ok_or(UNKNOWN_INDEX)?;
        let idx = self.indexes.get_mut(&real).ok_or(UNKNOWN_INDEX)?;
        if let Some(dup) = fields
            .iter()
            .find(|f| idx.def.field_position(&f.attribute).is_some())
        {
            return Err(format!(
                "Duplicate field in schema - {}",
                String::from_utf8_lossy(&dup.attribute)
            ));
        }
        idx.add_fields(fields);
        if !skip && !db.is_empty() {
            idx.start_scan(db);
        }
        Ok(())
    }

    /// FT.DROPINDEX: removes the index and its aliases; returns it (DD deletes its docs).
    pub fn drop_index(&mut self, name: &[u8]) -> Result<Index, String> {
        let real = self.resolve(name).ok_or(UNKNOWN_INDEX)?;
        let idx = self.indexes.remove(&real).ok_or(UNKNOWN_INDEX)?;
        self.aliases.retain(|_, n| *n != real);
        self.rebuild_prefixes();
        Ok(idx)
    }

    /// FT.ALIASADD (`update` false) / FT.ALIASUPDATE (`update` true).
    pub fn alias_set(&mut self, alias: &Bytes, index: &[u8], update: bool) -> Result<(), String> {
        let real = self.resolve(index).ok_or("Unknown index name")?;
        if !update && self.aliases.contains_key(alias) {
            return Err("Alias already exists".into());
        }
        self.aliases.insert(alias.clone(), real);
        Ok(())
    }

    /// FT.ALIASDEL.
    pub fn alias_del(&mut self, alias: &[u8]) -> Result<(), String> {
        self.aliases
            .remove(alias)
            .map(|_| ())
            .ok_or_else(|| "Alias does not exist".into())
    }

    /// Names of the indexes `key` belongs to (by prefix), without duplicates.
    pub fn matching(&self, key: &[u8]) -> Vec<Bytes> {
        let mut out: Vec<Bytes> = Vec::new();
        for &len in &self.prefix_lens {
            let Some(head) = key.get(..len) else { break };
            let start = self.prefixes.partition_point(|(p, _)| p[..] < *head);
            for (p, name) in &self.prefixes[start..] {
                if p[..] != *head {
                    break;
                }
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    /// Re-reads `key` in `db` (the indexed database) and (re)indexes or un-indexes it in
    /// every index it belongs to.
    pub fn sync_key(&mut self, db: &Db, key: &[u8], now_ms: u64) {
        let names = self.matching(key);
        if names.is_empty() {
            return;
        }
        let entry = db.peek(key, now_ms);
        for n in names {
            if let Some(idx) = self.indexes.get_mut(&n) {
                idx.sync(key, entry, now_ms);
            }
        }
    }

    /// Un-indexes `key` (deleted by expiry, eviction or a cross-shard move).
    pub fn remove_key(&mut self, key: &[u8]) {
        for n in self.matching(key) {
            if let Some(idx) = self.indexes.get_mut(&n) {
                idx.remove(key);
            }
        }
    }

    /// FLUSHDB/FLUSHALL of the indexed database: every index forgets its docs.
    pub fn clear_docs(&mut self) {
        for idx in self.indexes.values_mut() {
            idx.clear_docs();
            idx.scan = None;
        }
    }

    /// Forgets every doc and rescans `db` (SWAPDB, recovery).
    pub fn rebuild(&mut self, db: &Db) {
        for idx in self.indexes.values_mut() {
            idx.clear_docs();
            idx.scan = None;
            if !db.is_empty() {
                idx.start_scan(db);
            }
        }
    }

    /// End of recovery: every index is rebuilt by a background scan of `db`, except one
    /// restored from the snapshot's section 4 (`contents`) that no later op sent rescanning;
    /// the `restored` marks are then cleared.
    pub fn rebuild_unrestored(&mut self, db: &Db) {
        for idx in self.indexes.values_mut() {
            if !(idx.restored && idx.scan.is_none()) {
                idx.clear_docs();
                idx.scan = None;
                if !db.is_empty() {
                    idx.start_scan(db);
                }
            }
            idx.restored = false;
        }
    }

    /// Loads index `name`'s persisted contents (section 4) and reconciles them with `db`
    /// (see `contents`); an error (unknown index, bad data) leaves the index as it was.
    pub fn restore_contents(
        &mut self,
        name: &[u8],
        data: &[u8],
        db: &Db,
        now_ms: u64,
    ) -> Result<super::contents::RestoreStats, String> {
        let idx = self
            .indexes
            .get_mut(name)
            .ok_or("no index of that name is defined")?;
        let decoded = super::contents::decode(data, &idx.def)?;
        Ok(idx.restore(decoded, db, now_ms))
    }

    /// Section-4 encodings of every index with vector contents to persist (`contents`).
    pub fn encode_contents(&self) -> Vec<super::contents::EncodedContents> {
        self.indexes
            .iter()
            .filter_map(|(name, idx)| super::contents::encode(name, idx))
            .collect()
    }

    /// True while some index scans existing keys.
    pub fn scanning(&self) -> bool {
        self.indexes.values().any(|i| i.scan.is_some())
    }

    /// One step of every running scan, `budget` entries each.
    pub fn tick(&mut self, db: &Db, budget: usize, now_ms: u64) {
        for idx in self.indexes.values_mut() {
            if idx.scan.is_some() {
                idx.scan_step(db, budget, now_ms);
            }
        }
    }

    /// Every definition with its aliases (snapshot).
    pub fn definitions(&self) -> Vec<(IndexDef, Vec<Bytes>)> {
        self.indexes
            .values()
            .map(|i| (i.def.clone(), self.aliases_of(&i.def.name)))
            .collect()
    }

    /// Forgets everything (FT definitions replaced wholesale).
    pub fn clear(&mut self) {
        *self = Registry::default();
    }

    /// Approximate heap bytes.
    pub fn mem_bytes(&self) -> usize {
        self.indexes
            .values()
            .map(|i| i.docs.mem_bytes() + i.inverted_bytes())
            .sum()
    }

    fn rebuild_prefixes(&mut self) {
        self.prefixes.clear();
        for (name, idx) in &self.indexes {
            if idx.def.prefixes.is_empty() {
                self.prefixes.push((Bytes::new(), name.clone()));
            }
            for p in &idx.def.prefixes {
                self.prefixes.push((p.clone(), name.clone()));
            }
        }
        self.prefixes.sort();
        self.prefixes.dedup();
        self.prefix_lens = self.prefixes.iter().map(|(p, _)| p.len()).collect();
        self.prefix_lens.sort_unstable();
        self.prefix_lens.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn def(name: &str, prefixes: &[&str]) -> IndexDef {
        let mut a = vec![Bytes::copy_from_slice(name.as_bytes())];
        if !prefixes.is_empty() {
            a.push(Bytes::from_static(b"PREFIX"));
            a.push(Bytes::from(prefixes.len().to_string()));
            a.extend(
                prefixes
                    .iter()
                    .map(|p| Bytes::copy_from_slice(p.as_bytes())),
            );
        }
        a.extend([&b"SCHEMA"[..], b"t", b"TAG"].map(Bytes::copy_from_slice));
        IndexDef::parse(&a).expect("valid")
    }

    #[test]
    fn aliases_and_errors() {
        let db = Db::new();
        let mut r = Registry::default();
        assert!(r.is_empty());
        r.create(def("i", &["a:"]), &db).expect("created");
        assert_eq!(
            r.create(def("i", &[]), &db),
            Err("Index already exists".into())
        );
        let al = Bytes::from_static(b"al");
        r.alias_set(&al, b"i", false).expect("alias");
        assert_eq!(
            r.alias_set(&al, b"i", false),
            Err("Alias already exists".into())
        );
        assert_eq!(
            r.alias_set(&al, b"nope", true),
            Err("Unknown index name".into())
        );
        assert_eq!(r.resolve(b"al"), Some(Bytes::from_static(b"i")));
        assert!(r.get(b"al").is_some());
        assert_eq!(r.aliases_of(b"i"), vec![al.clone()]);
        r.drop_index(b"al").expect("dropped through alias");
        assert_eq!(r.alias_del(b"al"), Err("Alias does not exist".into()));
        assert!(r.drop_index(b"i").is_err());
        assert!(r.is_empty());
    }

    proptest! {
        #[test]
        fn matching_agrees_with_starts_with(
            sets in proptest::collection::vec(proptest::collection::vec("[ab]{0,3}", 0..3), 1..6),
            key in "[ab]{0,5}",
        ) {
            let db = Db::new();
            let mut r = Registry::default();
            for (i, ps) in sets.iter().enumerate() {
                let ps: Vec<&str> = ps.iter().map(String::as_str).collect();
                r.create(def(&format!("i{i}"), &ps), &db).expect("created");
            }
            let mut got = r.matching(key.as_bytes());
            got.sort();
            let want: Vec<Bytes> = r
                .iter()
                .filter(|(_, idx)| idx.matches(key.as_bytes()))
                .map(|(n, _)| n.clone())
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
