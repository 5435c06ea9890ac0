//! The NUMERIC field index: value → RoaringBitmap of doc ids in an ordered map, so a range
//! query with inclusive/exclusive bounds (and ±inf) is a map range plus a bitmap union.
//!
//! Invariants: no NaN is ever stored (values come from [`parse_numeric`], which refuses it);
//! no bitmap is empty; `-0.0` is stored as `0.0`, so equal numbers share one key.

use std::collections::BTreeMap;
use std::ops::Bound;

use roaring::RoaringBitmap;

/// An f64 ordered by `total_cmp` (NaN never stored).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl Eq for Num {}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Parses a hash field's value as RediSearch does (`strtod` of the whole trimmed value;
/// `inf`/`-inf` accepted, NaN and empty refused). `None` is an indexing failure.
pub fn parse_numeric(raw: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(raw).ok()?.trim();
    let v: f64 = s.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    Some(if v == 0.0 { 0.0 } else { v })
}

/// One NUMERIC field's index.
#[derive(Debug, Default, Clone)]
pub struct NumericIndex {
    values: BTreeMap<Num, RoaringBitmap>,
}

impl NumericIndex {
    /// Adds `doc` with value `v`.
    pub fn add(&mut self, doc: u32, v: f64) {
        self.values.entry(Num(v)).or_default().insert(doc);
    }

    /// Removes `doc` with value `v`.
    pub fn remove(&mut self, doc: u32, v: f64) {
        if let Some(bm) = self.values.get_mut(&Num(v)) {
            bm.remove(doc);
            if bm.is_empty() {
                self.values.remove(&Num(v));
            }
        }
    }

    /// Docs whose value lies within `(min, max)` (bounds inclusive, exclusive or unbounded).
    pub fn range(&self, min: Bound<f64>, max: Bound<f64>) -> RoaringBitmap {
        let lo = min.map(Num);
        let hi = max.map(Num);
        // An empty or inverted range would panic in BTreeMap::range: answer it empty.
        let empty = match (lo, hi) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        let mut out = RoaringBitmap::new();
        if empty {
            return out;
        }
        for bm in self.values.range((lo, hi)).map(|(_, b)| b) {
            out |= bm;
        }
        out
    }

    /// Every distinct value with its docs, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (f64, &RoaringBitmap)> {
        self.values.iter().map(|(k, v)| (k.0, v))
    }

    /// Number of (value, doc) records.
    pub fn records(&self) -> u64 {
        self.values.values().map(RoaringBitmap::len).sum()
    }

    /// Approximate heap bytes.
    pub fn mem_bytes(&self) -> usize {
        self.values.values().map(|v| v.serialized_size() + 48).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap as Map;

    #[test]
    fn parse_like_redisearch() {
        assert_eq!(parse_numeric(b"1.5"), Some(1.5));
        assert_eq!(parse_numeric(b" 2 "), Some(2.0));
        assert_eq!(parse_numeric(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_numeric(b"-0"), Some(0.0));
        assert_eq!(parse_numeric(b"nan"), None);
        assert_eq!(parse_numeric(b""), None);
        assert_eq!(parse_numeric(b"12abc"), None);
    }

    fn bound(kind: u8, v: f64) -> Bound<f64> {
        match kind % 3 {
            0 => Bound::Included(v),
            1 => Bound::Excluded(v),
            _ => Bound::Unbounded,
        }
    }

    fn inside(v: f64, lo: Bound<f64>, hi: Bound<f64>) -> bool {
        let a = match lo {
            Bound::Included(x) => v >= x,
            Bound::Excluded(x) => v > x,
            Bound::Unbounded => true,
        };
        let b = match hi {
            Bound::Included(x) => v <= x,
            Bound::Excluded(x) => v < x,
            Bound::Unbounded => true,
        };
        a && b
    }

    proptest! {
        #[test]
        fn range_matches_a_model(
            ops in proptest::collection::vec((0u32..30, -5i32..5, any::<bool>()), 0..200),
            lo in (0u8..3, -6i32..6), hi in (0u8..3, -6i32..6),
        ) {
            let mut idx = NumericIndex::default();
            let mut docs: Map<u32, f64> = Map::new();
            for (doc, v, add) in ops {
                if let Some(old) = docs.remove(&doc) {
                    idx.remove(doc, old);
                }
                if add {
                    let v = f64::from(v) / 2.0;
                    idx.add(doc, v);
                    docs.insert(doc, v);
                }
            }
            let (lo, hi) = (bound(lo.0, f64::from(lo.1) / 2.0), bound(hi.0, f64::from(hi.1) / 2.0));
            let want: Vec<u32> = docs.iter().filter(|(_, v)| inside(**v, lo, hi)).map(|(d, _)| *d).collect();
            let got: Vec<u32> = idx.range(lo, hi).iter().collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(idx.records(), docs.len() as u64);
        }
    }

    #[test]
    fn infinite_bounds() {
        let mut idx = NumericIndex::default();
        idx.add(1, f64::NEG_INFINITY);
        idx.add(2, 3.0);
        idx.add(3, f64::INFINITY);
        let all: Vec<u32> = idx
            .range(
                Bound::Included(f64::NEG_INFINITY),
                Bound::Included(f64::INFINITY),
            )
            .iter()
            .collect();
        assert_eq!(all, vec![1, 2, 3]);
        assert!(
            idx.range(Bound::Excluded(3.0), Bound::Excluded(3.0))
                .is_empty()
        );
    }
}
