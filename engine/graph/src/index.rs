//! Range indexes on (label, property) and (relationship type, property).
//!
//! Each index is a `BTreeMap<IndexKey, Postings>` from a property value to the ids of the
//! entities holding it; a value held by one entity (the common case for ids and names) stores
//! that id inline instead of a bitmap. Indexable values are booleans, numbers and strings; Int and Float share
//! one numeric key space compared exactly (`1` and `1.0` are the same key, so an equality seek
//! for `1` finds both). NaN, null, lists, maps, points and vectors are not indexed, matching
//! Cypher where comparisons with them never hold. Key classes order bool < number < string and a
//! seek never crosses classes (`x > 1` does not return strings).
//!
//! Invariant: entity `e` is in the bitmap of key `k` iff `e` currently qualifies (has the label
//! / type) and its property value maps to `k`; postings are never empty and a `Many` holds
//! at least two ids.

use crate::ids::{LabelId, PropKeyId, RelTypeId};
use crate::value::{Num, Value, num_total};
use roaring::RoaringBitmap;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// What an index covers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexEntity {
    Label(LabelId),
    RelType(RelTypeId),
}

/// Index kinds this crate maintains (full-text and vector indexes live in other crates;
/// unique/mandatory constraints will be added here later).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum IndexKind {
    Range,
}

/// One row of `list_indexes()`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IndexInfo {
    pub entity: IndexEntity,
    pub key: PropKeyId,
    pub kind: IndexKind,
}

/// A seek range over property values; build with the constructors.
#[derive(Clone, Debug)]
pub struct IndexRange {
    pub lower: Bound<Value>,
    pub upper: Bound<Value>,
}

impl IndexRange {
    pub fn eq(v: Value) -> IndexRange {
        IndexRange {
            lower: Bound::Included(v.clone()),
            upper: Bound::Included(v),
        }
    }
    pub fn lt(v: Value) -> IndexRange {
        IndexRange {
            lower: Bound::Unbounded,
            upper: Bound::Excluded(v),
        }
    }
    pub fn le(v: Value) -> IndexRange {
        IndexRange {
            lower: Bound::Unbounded,
            upper: Bound::Included(v),
        }
    }
    pub fn gt(v: Value) -> IndexRange {
        IndexRange {
            lower: Bound::Excluded(v),
            upper: Bound::Unbounded,
        }
    }
    pub fn ge(v: Value) -> IndexRange {
        IndexRange {
            lower: Bound::Included(v),
            upper: Bound::Unbounded,
        }
    }
    /// Arbitrary bounds, e.g. `between(Included(a), Excluded(b))`.
    pub fn between(lower: Bound<Value>, upper: Bound<Value>) -> IndexRange {
        IndexRange { lower, upper }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum IndexKey {
    Bool(bool),
    Num(Num),
    Str(Arc<str>),
}

impl IndexKey {
    pub fn of(v: &Value) -> Option<IndexKey> {
        match v {
            Value::Bool(b) => Some(IndexKey::Bool(*b)),
            Value::Int(i) => Some(IndexKey::Num(Num::Int(*i))),
            Value::Float(f) if !f.is_nan() => Some(IndexKey::Num(Num::Float(*f))),
            Value::String(s) => Some(IndexKey::Str(s.clone())),
            _ => None,
        }
    }

    fn class(&self) -> u8 {
        match self {
            IndexKey::Bool(_) => 0,
            IndexKey::Num(_) => 1,
            IndexKey::Str(_) => 2,
        }
    }

    fn class_min(class: u8) -> Bound<IndexKey> {
        match class {
            0 => Bound::Included(IndexKey::Bool(false)),
            1 => Bound::Included(IndexKey::Num(Num::Float(f64::NEG_INFINITY))),
            _ => Bound::Included(IndexKey::Str(Arc::from(""))),
        }
    }

    fn class_max(class: u8) -> Bound<IndexKey> {
        match class {
            0 => Bound::Included(IndexKey::Bool(true)),
            1 => Bound::Included(IndexKey::Num(Num::Float(f64::INFINITY))),
            _ => Bound::Unbounded,
        }
    }
}

impl PartialEq for IndexKey {
    fn eq(&self, o: &IndexKey) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for IndexKey {}
impl PartialOrd for IndexKey {
    fn partial_cmp(&self, o: &IndexKey) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for IndexKey {
    fn cmp(&self, o: &IndexKey) -> Ordering {
        match (self, o) {
            (IndexKey::Bool(a), IndexKey::Bool(b)) => a.cmp(b),
            (IndexKey::Num(a), IndexKey::Num(b)) => num_total(*a, *b),
            (IndexKey::Str(a), IndexKey::Str(b)) => a.cmp(b),
            (a, b) => a.class().cmp(&b.class()),
        }
    }
}

#[derive(Clone, Debug)]
enum Postings {
    One(u32),
    /// Boxed: keeps `Postings` at 16 bytes (a B-tree leaf holds 11), since most keys of an
    /// id-like property have one entity.
    Many(Box<RoaringBitmap>),
}

impl Postings {
    fn iter(&self) -> PostingsIter<'_> {
        match self {
            Postings::One(id) => PostingsIter::One(Some(*id)),
            Postings::Many(bm) => PostingsIter::Many(bm.iter()),
        }
    }
}

enum PostingsIter<'a> {
    One(Option<u32>),
    Many(roaring::bitmap::Iter<'a>),
}

impl Iterator for PostingsIter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            PostingsIter::One(id) => id.take(),
            PostingsIter::Many(it) => it.next(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct RangeIndex {
    pub entity: IndexEntity,
    pub key: PropKeyId,
    map: BTreeMap<IndexKey, Postings>,
    /// Keys added since `map` was last rebuilt by `pack` (they sit in leaves that splits left
    /// about half full).
    unpacked: usize,
}

fn map_bound(b: &Bound<Value>) -> Result<Bound<IndexKey>, ()> {
    Ok(match b {
        Bound::Included(v) => Bound::Included(IndexKey::of(v).ok_or(())?),
        Bound::Excluded(v) => Bound::Excluded(IndexKey::of(v).ok_or(())?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

fn bound_key(b: &Bound<IndexKey>) -> Option<&IndexKey> {
    match b {
        Bound::Included(k) | Bound::Excluded(k) => Some(k),
        Bound::Unbounded => None,
    }
}

/// Turns a value range into a non-empty, class-confined key range, or None if nothing matches.
fn key_range(r: &IndexRange) -> Option<(Bound<IndexKey>, Bound<IndexKey>)> {
    let lo = map_bound(&r.lower).ok()?;
    let hi = map_bound(&r.upper).ok()?;
    let class = match (bound_key(&lo), bound_key(&hi)) {
        (Some(a), Some(b)) if a.class() != b.class() => return None,
        (Some(a), _) | (_, Some(a)) => a.class(),
        (None, None) => return None,
    };
    let lo = if matches!(lo, Bound::Unbounded) {
        IndexKey::class_min(class)
    } else {
        lo
    };
    let hi = if matches!(hi, Bound::Unbounded) {
        IndexKey::class_max(class)
    } else {
        hi
    };
    // BTreeMap::range panics on inverted or empty-exclusive ranges: rule them out first.
    if let (Some(a), Some(b)) = (bound_key(&lo), bound_key(&hi)) {
        match a.cmp(b) {
            Ordering::Greater => return None,
            Ordering::Equal
                if !(matches!(lo, Bound::Included(_)) && matches!(hi, Bound::Included(_))) =>
            {
                return None;
            }
            _ => {}
        }
    }
    Some((lo, hi))
}

impl RangeIndex {
    pub fn new(entity: IndexEntity, key: PropKeyId) -> RangeIndex {
        RangeIndex {
            entity,
            key,
            map: BTreeMap::new(),
            unpacked: 0,
        }
    }

    /// Whether enough keys arrived since the last `pack` that repacking is worth its O(n) cost
    /// after a write: at least a quarter of the keys (so repacking costs O(1) per insert,
    /// amortised) and not a handful.
    pub fn needs_pack(&self) -> bool {
        self.unpacked >= 1024 && self.unpacked * 4 >= self.map.len()
    }

    /// Idle policy: any unpacked keys worth a 16th of the index (or of 4096).
    pub fn needs_idle_pack(&self) -> bool {
        self.unpacked > 0 && self.unpacked * 16 >= self.map.len().max(4096)
    }

    /// Rebuilds the B-tree from its sorted entries, which fills every leaf (ordered inserts,
    /// the bulk-load pattern, leave leaves about half full: this halves the index's size).
    /// O(n); changes no content.
    pub fn pack(&mut self) {
        let map = std::mem::take(&mut self.map);
        self.map = map.into_iter().collect();
        self.unpacked = 0;
    }

    pub fn insert(&mut self, v: &Value, id: u32) {
        let Some(k) = IndexKey::of(v) else {
            return;
        };
        match self.map.get_mut(&k) {
            None => {
                self.map.insert(k, Postings::One(id));
                self.unpacked += 1;
            }
            Some(Postings::One(old)) => {
                if *old != id {
                    let bm: RoaringBitmap = [*old, id].into_iter().collect();
                    self.map.insert(k, Postings::Many(Box::new(bm)));
                }
            }
            Some(Postings::Many(bm)) => {
                bm.insert(id);
            }
        }
    }

    pub fn remove(&mut self, v: &Value, id: u32) {
        let Some(k) = IndexKey::of(v) else {
            return;
        };
        match self.map.get_mut(&k) {
            Some(Postings::One(old)) if *old == id => {
                self.map.remove(&k);
            }
            Some(Postings::Many(bm)) => {
                bm.remove(id);
                if bm.len() == 1
                    && let Some(last) = bm.min()
                {
                    self.map.insert(k, Postings::One(last));
                }
            }
            _ => {}
        }
    }

    /// Ids whose value lies in `r`, grouped by ascending value.
    pub fn seek(&self, r: &IndexRange) -> impl Iterator<Item = u32> + '_ {
        key_range(r)
            .map(|range| self.map.range(range))
            .into_iter()
            .flatten()
            .flat_map(|(_, p)| p.iter())
    }

    pub fn heap_size(&self) -> usize {
        // A packed leaf is full (11 entries); keys added since run about half full: count
        // each of those twice.
        let slot = std::mem::size_of::<IndexKey>() + std::mem::size_of::<Postings>();
        let slack = slot * self.unpacked.min(self.map.len());
        slack
            + self
                .map
                .iter()
                .map(|(k, p)| {
                    slot + match p {
                        Postings::One(_) => 0,
                        Postings::Many(bm) => bm.serialized_size() + 24,
                    } + match k {
                        IndexKey::Str(s) => s.len() + 16,
                        _ => 0,
                    }
                })
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seek(ix: &RangeIndex, r: IndexRange) -> Vec<u32> {
        let mut v: Vec<u32> = ix.seek(&r).collect();
        v.sort();
        v
    }

    #[test]
    fn numeric_and_string_ranges() {
        let mut ix = RangeIndex::new(IndexEntity::Label(LabelId(0)), PropKeyId(0));
        ix.insert(&Value::Int(1), 1);
        ix.insert(&Value::Float(1.0), 2);
        ix.insert(&Value::Float(2.5), 3);
        ix.insert(&Value::Int(3), 4);
        ix.insert(&Value::str("b"), 5);
        ix.insert(&Value::Bool(true), 6);
        ix.insert(&Value::Float(f64::NAN), 7);
        ix.insert(&Value::List(vec![]), 8);
        assert_eq!(seek(&ix, IndexRange::eq(Value::Float(1.0))), vec![1, 2]);
        assert_eq!(seek(&ix, IndexRange::gt(Value::Int(1))), vec![3, 4]);
        assert_eq!(seek(&ix, IndexRange::le(Value::Float(2.5))), vec![1, 2, 3]);
        assert_eq!(seek(&ix, IndexRange::lt(Value::str("c"))), vec![5]);
        assert_eq!(seek(&ix, IndexRange::ge(Value::Bool(false))), vec![6]);
        assert_eq!(
            seek(
                &ix,
                IndexRange::between(
                    Bound::Excluded(Value::Int(1)),
                    Bound::Excluded(Value::Int(3))
                )
            ),
            vec![3]
        );
        // Inverted, empty-exclusive, mixed-class and unindexable ranges are empty, not panics.
        assert!(
            seek(
                &ix,
                IndexRange::between(
                    Bound::Included(Value::Int(5)),
                    Bound::Included(Value::Int(1))
                )
            )
            .is_empty()
        );
        assert!(
            seek(
                &ix,
                IndexRange::between(
                    Bound::Excluded(Value::Int(1)),
                    Bound::Excluded(Value::Int(1))
                )
            )
            .is_empty()
        );
        assert!(
            seek(
                &ix,
                IndexRange::between(
                    Bound::Included(Value::Int(1)),
                    Bound::Included(Value::str("z"))
                )
            )
            .is_empty()
        );
        assert!(seek(&ix, IndexRange::eq(Value::Float(f64::NAN))).is_empty());
        assert!(seek(&ix, IndexRange::eq(Value::Null)).is_empty());
        ix.remove(&Value::Int(1), 1);
        assert_eq!(seek(&ix, IndexRange::eq(Value::Int(1))), vec![2]);
    }

    #[test]
    fn pack_keeps_contents_and_shrinks() {
        let mut ix = RangeIndex::new(IndexEntity::Label(LabelId(0)), PropKeyId(0));
        for i in 0..5000u32 {
            ix.insert(&Value::Int(i64::from(i)), i);
        }
        for i in 0..100u32 {
            ix.insert(&Value::Int(7), 10_000 + i);
            ix.insert(&Value::str(&format!("s{}", i % 10)), 20_000 + i);
        }
        assert!(ix.needs_pack() && ix.needs_idle_pack());
        let before: Vec<u32> = ix.seek(&IndexRange::ge(Value::Int(i64::MIN))).collect();
        let strs = seek(&ix, IndexRange::ge(Value::str("")));
        let size = ix.heap_size();
        ix.pack();
        assert!(!ix.needs_pack() && !ix.needs_idle_pack());
        assert!(ix.heap_size() < size);
        let after: Vec<u32> = ix.seek(&IndexRange::ge(Value::Int(i64::MIN))).collect();
        assert_eq!(before, after);
        assert_eq!(strs, seek(&ix, IndexRange::ge(Value::str(""))));
        assert_eq!(seek(&ix, IndexRange::eq(Value::Int(7))).len(), 101);
        // Still writable after a pack.
        ix.remove(&Value::Int(7), 7);
        ix.insert(&Value::Int(-1), 99_999);
        assert_eq!(seek(&ix, IndexRange::lt(Value::Int(0))), vec![99_999]);
        assert_eq!(seek(&ix, IndexRange::eq(Value::Int(7))).len(), 100);
    }
}
