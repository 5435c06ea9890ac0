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

/// The snapshot encoder of the test items: `key_len u32, key, val u64`.
fn enc(it: &Item, out: &mut Vec<u8>) -> bool {
    out.extend_from_slice(&(it.key.len() as u32).to_le_bytes());
    out.extend_from_slice(&it.key);
    out.extend_from_slice(&it.val.to_le_bytes());
    true
}

/// Moves the records writes serialized into `image`, asserting every item comes once.
fn take_out<S: BuildHasher>(t: &mut DashTable<Item, S>, image: &mut HashMap<Box<[u8]>, u64>) {
    let bytes = t.snapshot_take_out().expect("encodable");
    let mut b = bytes.as_slice();
    while !b.is_empty() {
        let n = u32::from_le_bytes(b[..4].try_into().unwrap()) as usize;
        let key: Box<[u8]> = b[4..4 + n].into();
        let val = u64::from_le_bytes(b[4 + n..12 + n].try_into().unwrap());
        assert!(image.insert(key, val).is_none(), "twice");
        b = &b[12 + n..];
    }
}

/// Serializes the rest of a running snapshot into `image` (key → val), asserting every item
/// comes once.
fn drain_snapshot<S: BuildHasher>(t: &mut DashTable<Item, S>, image: &mut HashMap<Box<[u8]>, u64>) {
    while t.snapshot_tag().is_some() {
        take_out(t, image);
        t.snapshot_step(|it: &Item| {
            assert!(image.insert(it.key.clone(), it.val).is_none(), "twice");
            Ok::<(), ()>(())
        })
        .expect("infallible");
    }
}

/// Asserts two images are equal, naming the first difference instead of dumping them.
fn assert_image_eq(got: &HashMap<Box<[u8]>, u64>, want: &HashMap<Box<[u8]>, u64>) {
    for (k, v) in want {
        assert_eq!(got.get(k), Some(v), "key {:?}", String::from_utf8_lossy(k));
    }
    assert_eq!(got.len(), want.len(), "extra items in the image");
}

fn contents<S: BuildHasher>(t: &DashTable<Item, S>) -> HashMap<Box<[u8]>, u64> {
    t.iter().map(|it| (it.key.clone(), it.val)).collect()
}

#[test]
fn snapshot_image_survives_writes_splits_and_clear() {
    let mut t = DashTable::new();
    for k in 0..20_000 {
        t.insert(item(k, k));
    }
    let want = contents(&t);
    let segs = t.segments();
    assert!(segs > 10);
    t.snapshot_begin(7, |_| 100, enc);
    assert_eq!((t.snapshot_tag(), t.snapshot_cow_bytes()), (Some(7), 0));
    let mut image = HashMap::new();
    let mut steps = 0usize;
    while t.snapshot_tag().is_some() {
        take_out(&mut t, &mut image);
        t.snapshot_step(|it: &Item| {
            assert!(image.insert(it.key.clone(), it.val).is_none());
            Ok::<(), ()>(())
        })
        .expect("infallible");
        steps += 1;
        // Writes of every kind between steps: replace, new keys (splits), remove, get_mut,
        // and untracked access, which must not copy.
        let base = steps as u64 * 97;
        let before = t.snapshot_cow_bytes();
        for k in base..base + 5 {
            // What an access-clock touch does; `val` is part of this image, so leave it.
            let _ = t.get_mut_hashed_untracked(t.hash_key(&key(k)), &key(k));
        }
        assert_eq!(t.snapshot_cow_bytes(), before, "untracked access copied");
        t.insert(item(base, 1));
        t.insert(item(100_000 + base, 2));
        t.remove(&key(base + 1));
        if let Some(i) = t.get_mut(&key(base + 2)) {
            i.val = 3;
        }
        for k in 0..300 {
            t.insert(item(200_000 + base * 300 + k, 4));
        }
        if steps == segs / 2 {
            t.clear();
            t.insert(item(1, 5));
        }
        t.check_invariants();
    }
    // Writes serialized some segments on the spot, so at most one step per segment.
    assert!(steps <= segs, "{steps} steps for {segs} segments");
    assert_eq!(t.snapshot_cow_bytes(), 0);
    assert_image_eq(&image, &want);
}

#[test]
fn snapshot_cow_bytes_count_serialized_records() {
    let mut t = DashTable::new();
    for k in 0..5000 {
        t.insert(item(k, k));
    }
    t.snapshot_begin(0, |_| 1000, enc);
    if let Some(i) = t.get_mut(&key(1)) {
        i.val = 7;
    }
    // Only the bucket that holds key 1 was serialized before the change, key 1 included.
    let after_first = t.snapshot_cow_bytes();
    assert!(after_first > 0);
    // More writes to the same bucket serialize nothing more.
    if let Some(i) = t.get_mut(&key(1)) {
        i.val = 8;
    }
    t.remove(&key(1));
    assert_eq!(t.snapshot_cow_bytes(), after_first);
    let mut image = HashMap::new();
    take_out(&mut t, &mut image);
    assert!(
        (1..=16).contains(&image.len()),
        "one bucket: {}",
        image.len()
    );
    assert_eq!(image.get(&key(1)), Some(&1));
    assert_eq!(t.snapshot_cow_bytes(), 0);
    // A new key serializes its probe window (at most 4 buckets).
    t.insert(item(1, 9));
    take_out(&mut t, &mut image);
    assert!(image.len() <= 4 * 16, "window: {}", image.len());
    t.snapshot_abort();
    assert_eq!((t.snapshot_tag(), t.snapshot_cow_bytes()), (None, 0));
    assert_eq!(t.get(&key(1)).map(|i| i.val), Some(9));
}

#[test]
fn snapshot_step_error_keeps_the_segment() {
    let mut t = DashTable::new();
    for k in 0..100 {
        t.insert(item(k, k));
    }
    t.snapshot_begin(0, |_| 0, enc);
    assert_eq!(t.snapshot_step(|_: &Item| Err("boom")), Err("boom"));
    assert!(t.snapshot_tag().is_some());
    let mut image = HashMap::new();
    drain_snapshot(&mut t, &mut image);
    assert_eq!(image.len(), 100);
    assert_eq!(t.snapshot_step(|_: &Item| Err("unused")), Ok(None));
}

#[test]
fn snapshot_with_stashes_under_degenerate_hashes() {
    for f in [
        (|_: &[u8]| 0x1234_5678_9abc_def0) as fn(&[u8]) -> u64,
        |b| (fnv(b) & 0xC000_0000_0000_0000) | (fnv(b) & 0xFFFF),
    ] {
        let mut t = degenerate(f, 4000);
        let want = contents(&t);
        t.snapshot_begin(1, |_| 0, enc);
        let mut image = HashMap::new();
        let mut k = 0u64;
        while t.snapshot_tag().is_some() {
            take_out(&mut t, &mut image);
            t.snapshot_step(|it: &Item| {
                assert!(image.insert(it.key.clone(), it.val).is_none());
                Ok::<(), ()>(())
            })
            .expect("infallible");
            for _ in 0..50 {
                t.insert(item(k % 6000, 77));
                t.remove(&key((k * 7) % 4000));
                k += 1;
            }
            t.check_invariants();
        }
        assert_image_eq(&image, &want);
    }
}

#[derive(Debug, Clone)]
enum SnapOp {
    Insert(u16, u64),
    Remove(u16),
    Update(u16, u64),
    Step,
    Clear,
}

fn snap_op() -> impl Strategy<Value = SnapOp> {
    prop_oneof![
        8 => (0..4000u16, any::<u64>()).prop_map(|(k, v)| SnapOp::Insert(k, v)),
        3 => (0..4000u16).prop_map(SnapOp::Remove),
        2 => (0..4000u16, any::<u64>()).prop_map(|(k, v)| SnapOp::Update(k, v)),
        3 => Just(SnapOp::Step),
        1 => Just(SnapOp::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn snapshot_is_point_in_time(
        initial in 0u16..4000,
        ops in prop::collection::vec(snap_op(), 1..3000),
    ) {
        let mut t = DashTable::new();
        for k in 0..initial {
            t.insert(Item { key: k.to_le_bytes().into(), val: u64::from(k) });
        }
        let want = contents(&t);
        t.snapshot_begin(3, |_| 8, enc);
        let mut image = HashMap::new();
        for op in ops {
            match op {
                SnapOp::Insert(k, v) => {
                    t.insert(Item { key: k.to_le_bytes().into(), val: v });
                }
                SnapOp::Remove(k) => {
                    t.remove(&k.to_le_bytes());
                }
                SnapOp::Update(k, v) => {
                    if let Some(i) = t.get_mut(&k.to_le_bytes()) {
                        i.val = v;
                    }
                }
                SnapOp::Step => {
                    take_out(&mut t, &mut image);
                    t.snapshot_step(|it: &Item| {
                        assert!(image.insert(it.key.clone(), it.val).is_none());
                        Ok::<(), ()>(())
                    })
                    .expect("infallible");
                }
                SnapOp::Clear => t.clear(),
            }
        }
        drain_snapshot(&mut t, &mut image);
        prop_assert_eq!(t.snapshot_cow_bytes(), 0);
        prop_assert!(image == want, "image differs from the begin state");
        t.check_invariants();
    }
}
