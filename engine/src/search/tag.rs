//! The TAG field index: normalized tag value → RoaringBitmap of doc ids.
//!
//! Invariants: no bitmap in `values` is empty (a value whose last doc goes is removed, so
//! FT.TAGVALS lists only live values); a doc id appears under a value iff the doc's stored
//! tags (kept by the doc table) contain that value.

use std::collections::BTreeMap;

use bytes::Bytes;
use roaring::RoaringBitmap;

/// Splits a raw field value into normalized tags: split on `separator`, trim ASCII
/// whitespace, lowercase unless `case_sensitive`, drop empty tags and duplicates.
pub fn split_tags(raw: &[u8], separator: u8, case_sensitive: bool) -> Vec<Bytes> {
    let mut out: Vec<Bytes> = Vec::new();
    for part in raw.split(|&b| b == separator) {
        let t = part.trim_ascii();
        if t.is_empty() {
            continue;
        }
        let t = if case_sensitive {
            Bytes::copy_from_slice(t)
        } else {
            Bytes::from(lowercase(t))
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Lowercases ASCII and, where the bytes are UTF-8, Unicode letters (RediSearch folds
/// UTF-8 case for tags).
fn lowercase(t: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(t) {
        Ok(s) => s.to_lowercase().into_bytes(),
        Err(_) => t.to_ascii_lowercase(),
    }
}

/// One TAG field's inverted index.
#[derive(Debug, Default, Clone)]
pub struct TagIndex {
    values: BTreeMap<Bytes, RoaringBitmap>,
}

impl TagIndex {
    /// Adds `doc` under each of `tags`.
    pub fn add(&mut self, doc: u32, tags: &[Bytes]) {
        for t in tags {
            self.values.entry(t.clone()).or_default().insert(doc);
        }
    }

    /// Removes `doc` from each of `tags`.
    pub fn remove(&mut self, doc: u32, tags: &[Bytes]) {
        for t in tags {
            if let Some(bm) = self.values.get_mut(t) {
                bm.remove(doc);
                if bm.is_empty() {
                    self.values.remove(t);
                }
            }
        }
    }

    /// The docs tagged `tag` (already normalized).
    pub fn get(&self, tag: &[u8]) -> Option<&RoaringBitmap> {
        self.values.get(tag)
    }

    /// Every value with its docs, in byte order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &RoaringBitmap)> {
        self.values.iter()
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True if no value is indexed.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Number of (value, doc) records.
    pub fn records(&self) -> u64 {
        self.values.values().map(RoaringBitmap::len).sum()
    }

    /// Approximate heap bytes.
    pub fn mem_bytes(&self) -> usize {
        self.values
            .iter()
            .map(|(k, v)| k.len() + v.serialized_size() + 48)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap as Map, BTreeSet};

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn splitting_normalizes() {
        assert_eq!(
            split_tags(b" Red , blue,,RED ", b',', false),
            vec![b("red"), b("blue")]
        );
        assert_eq!(split_tags(b"A;a", b';', true), vec![b("A"), b("a")]);
        assert_eq!(split_tags(b"A,a", b';', false), vec![b("a,a")]);
        assert!(split_tags(b" , ", b',', false).is_empty());
        assert_eq!(split_tags("ÄB".as_bytes(), b',', false), vec![b("äb")]);
    }

    proptest! {
        #[test]
        fn matches_a_model(ops in proptest::collection::vec((0u32..20, proptest::collection::vec(0u8..6, 0..4), any::<bool>()), 0..200)) {
            let mut idx = TagIndex::default();
            let mut docs: Map<u32, Vec<Bytes>> = Map::new();
            for (doc, tags, add) in ops {
                if let Some(old) = docs.remove(&doc) {
                    idx.remove(doc, &old);
                }
                if add {
                    let mut t: Vec<Bytes> = tags.iter().map(|x| b(&format!("t{x}"))).collect();
                    t.sort();
                    t.dedup();
                    idx.add(doc, &t);
                    docs.insert(doc, t);
                }
            }
            let mut want: Map<Bytes, BTreeSet<u32>> = Map::new();
            for (d, tags) in &docs {
                for t in tags {
                    want.entry(t.clone()).or_default().insert(*d);
                }
            }
            let got: Map<Bytes, BTreeSet<u32>> =
                idx.iter().map(|(k, v)| (k.clone(), v.iter().collect())).collect();
            prop_assert_eq!(got, want);
        }
    }
}
