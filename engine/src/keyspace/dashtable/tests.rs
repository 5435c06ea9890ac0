//! Tests of the DashTable: basic operations, splits, SCAN completeness under concurrent splits,
//! degenerate hashers (stash paths) and a proptest against a `HashMap` model.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

use proptest::prelude::*;

use super::*;

#[derive(Default, Debug, Clone, PartialEq)]
struct Item {
    key: Box<[u8]>,
    val: u64,
}

impl Keyed for Item {
    fn key(&self) -> &[u8] {
        &self.key
    }
}

fn item(k: u64, val: u64) -> Item {
    Item { key: key(k), val }
}

fn key(k: u64) -> Box<[u8]> {
    format!("key:{k}").into_bytes().into()
}

/// A hasher computing `f` over all bytes written (length prefix included).
#[derive(Clone, Copy)]
struct FnHash(fn(&[u8]) -> u64);

struct FnHasher(fn(&[u8]) -> u64, Vec<u8>);

impl Hasher for FnHasher {
    fn finish(&self) -> u64 {
        (self.0)(&self.1)
    }
    fn write(&mut self, bytes: &[u8]) {
        self.1.extend_from_slice(bytes);
    }
}

impl BuildHasher for FnHash {
    type Hasher = FnHasher;
    fn build_hasher(&self) -> FnHasher {
        FnHasher(self.0, Vec::new())
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn insert_get_replace_remove() {
    let mut t = DashTable::new();
    assert!(t.is_empty() && t.get(b"a").is_none());
    assert_eq!(t.insert(item(1, 10)), None);
    assert_eq!(
        t.insert(Item {
            key: Box::default(),
            val: 7
        }),
        None
    );
    assert_eq!(t.get(&key(1)).map(|i| i.val), Some(10));
    assert_eq!(
        t.get(b"").map(|i| i.val),
        Some(7),
        "empty key is a real key"
    );
    assert_eq!(t.insert(item(1, 11)).map(|i| i.val), Some(10));
    assert_eq!(t.len(), 2);
    if let Some(i) = t.get_mut(&key(1)) {
        i.val = 12;
    }
    let h = t.hash_key(&key(1));
    assert_eq!(t.get_hashed(h, &key(1)).map(|i| i.val), Some(12));
    assert_eq!(t.remove_hashed(h, &key(1)).map(|i| i.val), Some(12));
    assert_eq!(t.remove(&key(1)), None);
    assert_eq!(t.remove(b"").map(|i| i.val), Some(7));
    assert!(t.is_empty());
    t.check_invariants();
}

#[test]
fn many_splits_then_clear() {
    let n = 200_000u64;
    let mut t = DashTable::new();
    for k in 0..n {
        assert_eq!(t.insert(item(k, k)), None);
    }
    assert_eq!(t.len(), n as usize);
    assert!(t.segments() > 150, "segments {}", t.segments());
    assert!(t.capacity() >= t.len());
    assert!(
        t.len() * 2 > t.capacity(),
        "load {} / {}",
        t.len(),
        t.capacity()
    );
    assert_eq!(
        t.capacity(),
        t.segments() * 1024,
        "random hashes never need the stash"
    );
    assert!(t.heap_bytes() >= t.capacity() * size_of::<Item>());
    t.check_invariants();
    for k in 0..n {
        assert_eq!(t.get(&key(k)).map(|i| i.val), Some(k));
    }
    for k in (0..n).step_by(2) {
        assert_eq!(t.remove(&key(k)).map(|i| i.val), Some(k));
    }
    assert_eq!(t.len(), n as usize / 2);
    assert_eq!(t.iter().count(), n as usize / 2);
    for k in 0..n {
        assert_eq!(t.get(&key(k)).is_some(), k % 2 == 1);
    }
    t.check_invariants();
    t.clear();
    assert_eq!((t.len(), t.segments(), t.iter().count()), (0, 1, 0));
    assert!(t.get(&key(1)).is_none());
    t.insert(item(5, 5));
    assert_eq!(t.len(), 1);
    t.check_invariants();
}

/// Runs a full scan, calling `between` after each call; returns every key visited.
fn scan_all(
    t: &mut DashTable<Item>,
    count: usize,
    mut between: impl FnMut(&mut DashTable<Item>),
) -> Vec<Box<[u8]>> {
    let (mut seen, mut cursor, mut calls) = (Vec::new(), 0u64, 0);
    loop {
        cursor = t.scan(cursor, count, |it| seen.push(it.key.clone()));
        assert!(
            cursor < 1 << 39,
            "cursor {cursor:#x} leaves the shard bits free"
        );
        calls += 1;
        assert!(calls < 10_000_000, "scan does not terminate");
        if cursor == 0 {
            return seen;
        }
        between(t);
    }
}

#[test]
fn scan_without_changes_visits_each_item_once() {
    let mut t = DashTable::new();
    for k in 0..50_000 {
        t.insert(item(k, k));
    }
    for count in [1, 10, 1000] {
        let mut seen = scan_all(&mut t, count, |_| {});
        seen.sort();
        let n = seen.len();
        seen.dedup();
        assert_eq!((n, seen.len()), (50_000, 50_000));
    }
    assert!(scan_all(&mut DashTable::new(), 10, |_| {}).is_empty());
}

#[test]
fn scan_survives_splits_and_deletes() {
    let mut t = DashTable::new();
    let base = 20_000u64;
    for k in 0..base {
        t.insert(item(k, k));
    }
    let (mut next, mut victim) = (base, 0u64);
    let seen: HashSet<_> = scan_all(&mut t, 10, |t| {
        // Grow heavily (forcing splits under the cursor), but boundedly so the scan can finish,
        // and delete every 7th original key.
        if next < base + 150_000 {
            for _ in 0..400 {
                t.insert(item(next, next));
                next += 1;
            }
        }
        if victim < base {
            t.remove(&key(victim));
            victim += 7;
        }
    })
    .into_iter()
    .collect();
    assert!(t.segments() > 100, "splits happened: {}", t.segments());
    for k in (0..base).filter(|k| k % 7 != 0 || *k >= victim) {
        assert!(
            seen.contains(&key(k)),
            "key {k} present throughout but not returned"
        );
    }
    t.check_invariants();
}

#[test]
fn scan_tolerates_clear_and_garbage_cursors() {
    let mut t = DashTable::new();
    for k in 0..10_000 {
        t.insert(item(k, k));
    }
    let mut cursor = 0;
    for _ in 0..50 {
        cursor = t.scan(cursor, 10, |_| {});
    }
    t.clear();
    t.insert(item(1, 1));
    while cursor != 0 {
        cursor = t.scan(cursor, 10, |_| {});
    }
    for c in [u64::MAX, 0x7f, 0x80, (1 << 39) - 1, 12345 << 7 | 100] {
        let _ = t.scan(c, 10, |_| {});
    }
}

#[test]
fn random_item_spreads() {
    let mut t = DashTable::new();
    assert!(t.random_item(42).is_none());
    for k in 0..5000 {
        t.insert(item(k, k));
    }
    let picked: HashSet<u64> = (0..2000u64)
        .filter_map(|r| t.random_item(r.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        .map(|i| i.val)
        .collect();
    assert!(picked.len() > 500, "only {} distinct picks", picked.len());
}

/// Inserts `n` items into a table with a degenerate hasher and checks every operation.
fn degenerate(f: fn(&[u8]) -> u64, n: u64) -> DashTable<Item, FnHash> {
    let mut t = DashTable::with_hasher(FnHash(f));
    for k in 0..n {
        t.insert(item(k, k));
    }
    t.check_invariants();
    assert_eq!(t.len(), n as usize);
    for k in 0..n {
        assert_eq!(t.get(&key(k)).map(|i| i.val), Some(k));
    }
    let mut seen = HashSet::new();
    let mut cursor = 0;
    loop {
        cursor = t.scan(cursor, 3, |it| {
            seen.insert(it.val);
        });
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), n as usize);
    for k in (0..n).step_by(3) {
        assert!(t.remove(&key(k)).is_some());
    }
    t.check_invariants();
    assert_eq!(t.iter().count(), t.len());
    t
}

#[test]
fn constant_hash_uses_stash_without_splitting() {
    let t = degenerate(|_| 0x1234_5678_9abc_def0, 3000);
    assert_eq!(t.segments(), 1);
}

#[test]
fn hash_without_top_bits_does_not_split() {
    let t = degenerate(|b| fnv(b) & 0xFFFF_FFFF, 3000);
    assert_eq!(t.segments(), 1);
}

#[test]
fn few_distinct_prefixes_split_then_stash() {
    let t = degenerate(
        |b| (fnv(b) & 0xC000_0000_0000_0000) | (fnv(b) & 0xFFFF),
        5000,
    );
    assert!(t.segments() <= 8, "segments {}", t.segments());
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, u64),
    Remove(u16),
    Get(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..6000u16, any::<u64>()).prop_map(|(k, v)| Op::Insert(k, v)),
        1 => (0..6000u16).prop_map(Op::Remove),
        1 => (0..6000u16).prop_map(Op::Get),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn matches_hashmap_model(ops in prop::collection::vec(op(), 1..12_000)) {
        let mut t = DashTable::new();
        let mut model: HashMap<u16, u64> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => {
                    let old = t.insert(Item { key: k.to_le_bytes().into(), val: v });
                    prop_assert_eq!(old.map(|i| i.val), model.insert(k, v));
                }
                Op::Remove(k) => {
                    prop_assert_eq!(t.remove(&k.to_le_bytes()).map(|i| i.val), model.remove(&k));
                }
                Op::Get(k) => {
                    prop_assert_eq!(t.get(&k.to_le_bytes()).map(|i| i.val), model.get(&k).copied());
                }
            }
        }
        prop_assert_eq!(t.len(), model.len());
        prop_assert_eq!(t.iter().count(), model.len());
        for (k, v) in &model {
            prop_assert_eq!(t.get(&k.to_le_bytes()).map(|i| i.val), Some(*v));
        }
        t.check_invariants();
    }

    #[test]
    fn any_cursor_is_safe(cursor in any::<u64>(), count in 0..50usize) {
        let mut t = DashTable::new();
        for k in 0..3000 {
            t.insert(item(k, k));
        }
        let next = t.scan(cursor, count, |_| {});
        prop_assert!(next < 1 << 39);
    }
}
