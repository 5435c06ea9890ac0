//! Name ↔ id registries for labels, relationship types and property keys.
//!
//! Invariants: ids are dense (`0..len`), assigned in first-use order, never reused or
//! renamed; `by_name` maps every name to its index in `names`. The schema version is the total
//! number of names, so it changes exactly when any of the three lists grows (lists never
//! shrink, so it never repeats within one graph's lifetime).

use hashbrown::HashMap;
use std::sync::Arc;

/// One list of names with dense ids.
#[derive(Clone, Debug, Default)]
pub struct NameTable {
    names: Vec<Arc<str>>,
    by_name: HashMap<Arc<str>, u32>,
}

impl NameTable {
    pub fn get(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.names.iter().map(|s| &**s)
    }

    /// Returns the id and whether the name was new.
    pub(crate) fn intern(&mut self, name: &str) -> (u32, bool) {
        if let Some(id) = self.get(name) {
            return (id, false);
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.by_name.insert(name, id);
        (id, true)
    }

    pub(crate) fn heap_size(&self) -> usize {
        self.names.iter().map(|n| n.len() * 2 + 48).sum::<usize>() + self.names.capacity() * 16
    }
}

/// The three name lists of a graph.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub labels: NameTable,
    pub rel_types: NameTable,
    pub prop_keys: NameTable,
}

impl Schema {
    /// Changes whenever any list grows (see module doc).
    pub fn version(&self) -> u64 {
        (self.labels.len() + self.rel_types.len() + self.prop_keys.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intern_is_dense_and_stable() {
        let mut t = NameTable::default();
        assert_eq!(t.intern("A"), (0, true));
        assert_eq!(t.intern("B"), (1, true));
        assert_eq!(t.intern("A"), (0, false));
        assert_eq!(t.name(1), Some("B"));
        assert_eq!(t.get("C"), None);
        assert_eq!(t.names().collect::<Vec<_>>(), vec!["A", "B"]);
    }

    #[test]
    fn version_grows_with_any_list() {
        let mut s = Schema::default();
        let v0 = s.version();
        s.labels.intern("L");
        let v1 = s.version();
        s.labels.intern("L");
        assert_eq!(s.version(), v1);
        s.prop_keys.intern("k");
        assert!(v0 < v1 && v1 < s.version());
    }
}
