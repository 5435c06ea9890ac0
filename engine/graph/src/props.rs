//! The property set of one node or relationship.
//!
//! Stored as a boxed slice of `(PropKeyId, Value)` sorted by key with unique keys and no Null
//! values (setting Null removes). A boxed slice is 16 bytes and allocates nothing when empty,
//! which matters for edges (most carry no properties); updates rebuild the slice, which is
//! cheap for the handful of properties an entity has.

use crate::ids::PropKeyId;
use crate::value::Value;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PropMap(Box<[(PropKeyId, Value)]>);

impl PropMap {
    /// Builds from arbitrary pairs: later duplicates win, Nulls are dropped.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (PropKeyId, Value)>) -> PropMap {
        let mut v: Vec<(PropKeyId, Value)> = Vec::new();
        for (k, val) in pairs {
            match v.binary_search_by_key(&k, |e| e.0) {
                Ok(i) => {
                    if val.is_null() {
                        v.remove(i);
                    } else {
                        v[i].1 = val;
                    }
                }
                Err(i) => {
                    if !val.is_null() {
                        v.insert(i, (k, val));
                    }
                }
            }
        }
        PropMap(v.into_boxed_slice())
    }

    pub fn get(&self, key: PropKeyId) -> Option<&Value> {
        self.0
            .binary_search_by_key(&key, |e| e.0)
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Sets (or with Null, removes) one property; returns the previous value.
    pub fn set(&mut self, key: PropKeyId, value: Value) -> Option<Value> {
        let pos = self.0.binary_search_by_key(&key, |e| e.0);
        match (pos, value.is_null()) {
            (Ok(i), false) => Some(std::mem::replace(&mut self.0[i].1, value)),
            (Ok(i), true) => {
                let mut v = std::mem::take(&mut self.0).into_vec();
                let old = v.remove(i).1;
                self.0 = v.into_boxed_slice();
                Some(old)
            }
            (Err(i), false) => {
                let mut v = std::mem::take(&mut self.0).into_vec();
                v.insert(i, (key, value));
                self.0 = v.into_boxed_slice();
                None
            }
            (Err(_), true) => None,
        }
    }

    /// The pairs, in key order (for a cache prefetch of where they live).
    pub(crate) fn pairs(&self) -> &[(PropKeyId, Value)] {
        &self.0
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (PropKeyId, &Value)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_vec(&self) -> Vec<(PropKeyId, Value)> {
        self.0.to_vec()
    }

    pub(crate) fn heap_size(&self) -> usize {
        self.0.len() * std::mem::size_of::<(PropKeyId, Value)>()
            + self.0.iter().map(|(_, v)| v.heap_size()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_remove_keep_sorted() {
        let mut p = PropMap::default();
        assert_eq!(p.set(PropKeyId(3), Value::Int(3)), None);
        assert_eq!(p.set(PropKeyId(1), Value::Int(1)), None);
        assert_eq!(p.set(PropKeyId(3), Value::Int(33)), Some(Value::Int(3)));
        assert_eq!(p.get(PropKeyId(3)), Some(&Value::Int(33)));
        assert_eq!(
            p.iter().map(|e| e.0).collect::<Vec<_>>(),
            vec![PropKeyId(1), PropKeyId(3)]
        );
        assert_eq!(p.set(PropKeyId(1), Value::Null), Some(Value::Int(1)));
        assert_eq!(p.set(PropKeyId(9), Value::Null), None);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn from_pairs_dedups_and_drops_null() {
        let p = PropMap::from_pairs([
            (PropKeyId(2), Value::Int(1)),
            (PropKeyId(0), Value::Null),
            (PropKeyId(2), Value::Int(5)),
        ]);
        assert_eq!(p.to_vec(), vec![(PropKeyId(2), Value::Int(5))]);
    }
}
