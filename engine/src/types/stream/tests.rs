//! Unit tests of the stream value: node packing at the size limits, ranges in both directions,
//! deletion, trimming (exact and approximate, MAXLEN and MINID, LIMIT), the Redis 7 counters,
//! and a proptest against a `BTreeMap` model.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

const LIMITS: NodeLimits = NodeLimits {
    max_bytes: 4096,
    max_entries: 100,
};

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn add(s: &mut StreamValue, i: StreamId, fields: &[(&str, &str)]) {
    let f: Vec<(&[u8], &[u8])> = fields
        .iter()
        .map(|(a, b)| (a.as_bytes(), b.as_bytes()))
        .collect();
    s.append(i, &f, LIMITS);
    assert!(s.check());
}

fn filled(n: u64) -> StreamValue {
    let mut s = StreamValue::new();
    for i in 1..=n {
        add(&mut s, id(i, 0), &[("f", "v")]);
    }
    s
}

fn ids(s: &StreamValue, start: StreamId, end: StreamId, rev: bool) -> Vec<StreamId> {
    let mut out = Vec::new();
    s.range(start, end, rev, |e| {
        out.push(e.id);
        true
    });
    out
}

fn fields_of(s: &StreamValue, i: StreamId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    assert!(s.with_entry(i, |e| {
        out = e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
    }));
    out
}

#[test]
fn ids_order_and_step() {
    assert!(id(1, 5) < id(2, 0));
    assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
    assert_eq!(StreamId::MAX.next(), None);
    assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
    assert_eq!(StreamId::MIN.prev(), None);
    assert_eq!(id(12, 3).to_string(), "12-3");
}

#[test]
fn fields_survive_packing_including_different_field_sets() {
    let mut s = StreamValue::new();
    add(&mut s, id(5, 10), &[("a", "1"), ("b", "2")]);
    add(&mut s, id(5, 11), &[("a", "x"), ("b", "")]);
    add(&mut s, id(6, 0), &[("other", "y")]);
    add(&mut s, id(7, 2), &[]);
    add(
        &mut s,
        id(1_700_000_000_000, u64::MAX),
        &[("a", "1"), ("b", "2")],
    );
    assert_eq!(s.node_count(), 1);
    assert_eq!(
        fields_of(&s, id(5, 11)),
        vec![(b"a".to_vec(), b"x".to_vec()), (b"b".to_vec(), Vec::new())]
    );
    assert_eq!(
        fields_of(&s, id(6, 0)),
        vec![(b"other".to_vec(), b"y".to_vec())]
    );
    assert!(fields_of(&s, id(7, 2)).is_empty());
    assert_eq!(
        ids(&s, StreamId::MIN, StreamId::MAX, true),
        vec![
            id(1_700_000_000_000, u64::MAX),
            id(7, 2),
            id(6, 0),
            id(5, 11),
            id(5, 10)
        ]
    );
    assert!(!s.contains(id(5, 12)));
}

#[test]
fn nodes_split_exactly_at_max_entries_and_bytes() {
    let s = filled(100);
    assert_eq!(s.node_count(), 1);
    let s = filled(101);
    assert_eq!(s.node_count(), 2);
    let s = filled(250);
    assert_eq!(s.node_count(), 3);
    // Byte limit: 1000-byte values, four fit under 4096 bytes.
    let mut s = StreamValue::new();
    let big = "x".repeat(1000);
    for i in 1..=9 {
        add(&mut s, id(i, 0), &[("f", &big)]);
    }
    assert_eq!(s.node_count(), 3);
    // An entry larger than a node gets a node of its own.
    let huge = "y".repeat(10_000);
    add(&mut s, id(10, 0), &[("f", &huge)]);
    add(&mut s, id(11, 0), &[("f", "small")]);
    assert_eq!(s.node_count(), 5);
    assert_eq!(fields_of(&s, id(10, 0))[0].1.len(), 10_000);
}

#[test]
fn ranges_across_nodes_both_directions() {
    let s = filled(250);
    assert_eq!(
        ids(&s, id(99, 0), id(102, 0), false),
        vec![id(99, 0), id(100, 0), id(101, 0), id(102, 0)]
    );
    assert_eq!(
        ids(&s, id(99, 1), id(101, 5), true),
        vec![id(101, 0), id(100, 0)]
    );
    assert!(ids(&s, id(300, 0), StreamId::MAX, false).is_empty());
    assert!(ids(&s, id(5, 0), id(4, 0), false).is_empty());
    assert_eq!(ids(&s, StreamId::MIN, StreamId::MAX, false).len(), 250);
    assert_eq!(s.first_entry_id(), Some(id(1, 0)));
    assert_eq!(s.last_entry_id(), Some(id(250, 0)));
}

#[test]
fn delete_tracks_first_and_max_deleted() {
    let mut s = filled(150);
    assert_eq!(s.delete(&[id(1, 0), id(1, 0), id(50, 0), id(999, 0)]), 2);
    assert!(s.check());
    assert_eq!(s.len(), 148);
    assert_eq!(s.first_id(), id(2, 0));
    assert_eq!(s.max_deleted_id(), id(50, 0));
    // Emptying a node removes it.
    let all: Vec<StreamId> = (101..=150).map(|i| id(i, 0)).collect();
    assert_eq!(s.delete(&all), 50);
    assert!(s.check());
    assert_eq!(s.node_count(), 1);
    assert_eq!(s.last_id(), id(150, 0));
    assert_eq!(s.last_entry_id(), Some(id(100, 0)));
    let rest: Vec<StreamId> = (1..=100).map(|i| id(i, 0)).collect();
    s.delete(&rest);
    assert!(s.is_empty());
    assert_eq!(s.first_id(), StreamId::MIN);
    assert_eq!(s.node_count(), 0);
    assert!(s.check());
}

#[test]
fn trim_maxlen_exact_and_approx() {
    let mut s = filled(1000);
    // Approximate: only whole nodes (of 100) go.
    assert_eq!(s.trim(TrimStrategy::MaxLen(555), true, 10_000), 400);
    assert_eq!(s.len(), 600);
    assert!(s.check());
    // LIMIT stops before a node that would exceed it.
    assert_eq!(s.trim(TrimStrategy::MaxLen(0), true, 150), 100);
    assert_eq!(s.len(), 500);
    // Exact.
    assert_eq!(s.trim(TrimStrategy::MaxLen(333), false, 0), 167);
    assert_eq!(s.len(), 333);
    assert_eq!(s.first_id(), id(668, 0));
    assert!(s.check());
    assert_eq!(s.trim(TrimStrategy::MaxLen(1000), false, 0), 0);
    assert_eq!(s.trim(TrimStrategy::MaxLen(0), false, 0), 333);
    assert!(s.is_empty());
    assert_eq!(s.first_id(), StreamId::MIN);
    assert_eq!(s.last_id(), id(1000, 0));
    assert!(s.check());
}

#[test]
fn trim_minid() {
    let mut s = filled(300);
    assert_eq!(s.trim(TrimStrategy::MinId(id(150, 0)), true, 0), 100);
    assert_eq!(s.first_id(), id(101, 0));
    assert_eq!(s.trim(TrimStrategy::MinId(id(150, 0)), false, 0), 49);
    assert_eq!(s.first_id(), id(150, 0));
    assert_eq!(s.trim(TrimStrategy::MinId(id(150, 0)), false, 0), 0);
    assert!(s.check());
}

#[test]
fn counters_estimate_and_lag() {
    let mut s = filled(5);
    assert_eq!(s.entries_added(), 5);
    assert_eq!(s.estimate_distance(id(5, 0)), 5);
    assert_eq!(s.estimate_distance(id(1, 0)), 1);
    assert_eq!(s.estimate_distance(id(0, 1)), 0);
    assert_eq!(s.estimate_distance(id(3, 0)), INVALID_ENTRIES_READ);
    assert_eq!(s.estimate_distance(id(9, 0)), INVALID_ENTRIES_READ);
    let cg = ConsumerGroup::new(id(2, 0), 2);
    assert_eq!(s.group_lag(&cg), Some(3));
    s.delete(&[id(4, 0)]);
    assert!(s.range_has_tombstones(id(2, 0), StreamId::MAX));
    assert_eq!(s.group_lag(&cg), None);
    let at_end = ConsumerGroup::new(id(5, 0), INVALID_ENTRIES_READ);
    assert_eq!(s.group_lag(&at_end), Some(0));
    assert_eq!(StreamValue::new().group_lag(&cg), Some(0));
}

#[test]
fn group_pel_bookkeeping() {
    let mut cg = ConsumerGroup::new(StreamId::MIN, 0);
    let alice = bytes::Bytes::from_static(b"alice");
    let bob = bytes::Bytes::from_static(b"bob");
    assert!(cg.create_consumer(&alice, 1));
    assert!(!cg.create_consumer(&alice, 2));
    assert!(cg.create_consumer(&bob, 3));
    cg.assign(id(1, 0), &alice, 10);
    cg.assign(id(2, 0), &alice, 10);
    cg.assign(id(2, 0), &bob, 11);
    assert!(cg.check());
    assert_eq!(cg.consumers[&alice].pel.len(), 1);
    assert_eq!(cg.pel[&id(2, 0)].consumer, bob);
    assert!(cg.ack(id(1, 0)));
    assert!(!cg.ack(id(1, 0)));
    assert_eq!(cg.delete_consumer(b"bob"), Some(1));
    assert_eq!(cg.delete_consumer(b"bob"), None);
    assert!(cg.pel.is_empty());
    assert!(cg.check());
}

#[test]
fn memory_is_accounted_and_compact() {
    let mut s = StreamValue::new();
    let before = s.mem_bytes();
    for i in 1..=10_000u64 {
        add_quiet(&mut s, id(1_700_000_000_000 + i / 3, i % 3), "12345678");
    }
    let per_entry = (s.mem_bytes() - before) as f64 / 10_000.0;
    // Redis: ~ 8 bytes of listpack overhead + the value per entry.
    assert!(per_entry < 24.0, "{per_entry} bytes per entry");
    assert!(s.check());
}

fn add_quiet(s: &mut StreamValue, i: StreamId, v: &str) {
    s.append(i, &[("field", v)], LIMITS);
}

/// An entry's field/value pairs in the model.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, Clone)]
enum Step {
    Add(u8, u8),
    Del(u16),
    TrimLen(u16, bool),
    TrimMin(u16, bool),
    Range(u16, u16, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (any::<u8>(), 0u8..4).prop_map(|(gap, nf)| Step::Add(gap, nf)),
        2 => any::<u16>().prop_map(Step::Del),
        1 => (0u16..300, any::<bool>()).prop_map(|(n, a)| Step::TrimLen(n, a)),
        1 => (any::<u16>(), any::<bool>()).prop_map(|(n, a)| Step::TrimMin(n, a)),
        2 => (any::<u16>(), any::<u16>(), any::<bool>()).prop_map(|(a, b, r)| Step::Range(a, b, r)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn behaves_like_a_btreemap(steps in proptest::collection::vec(step(), 1..400)) {
        let limits = NodeLimits { max_bytes: 200, max_entries: 7 };
        let mut s = StreamValue::new();
        let mut model: BTreeMap<StreamId, Pairs> = BTreeMap::new();
        let mut next = 1u64;
        for st in steps {
            match st {
                Step::Add(gap, nf) => {
                    next += u64::from(gap % 3);
                    let i = id(next / 2, next % 2 * 7);
                    if i <= s.last_id() { continue; }
                    let fields: Vec<(Vec<u8>, Vec<u8>)> = (0..nf)
                        .map(|k| (vec![b'f', k], vec![gap; usize::from(gap % 40)]))
                        .collect();
                    s.append(i, &fields, limits);
                    model.insert(i, fields);
                    next += 1;
                }
                Step::Del(k) => {
                    let i = model.keys().nth(usize::from(k) % (model.len() + 1)).copied();
                    let i = i.unwrap_or(id(u64::from(k), 0));
                    let want = u64::from(model.remove(&i).is_some());
                    prop_assert_eq!(s.delete(&[i]), want);
                }
                Step::TrimLen(n, approx) => {
                    let n = u64::from(n) % 60;
                    let removed = s.trim(TrimStrategy::MaxLen(n), approx, 0);
                    for _ in 0..removed {
                        let first = *model.keys().next().unwrap();
                        model.remove(&first);
                    }
                    if !approx {
                        prop_assert!(model.len() as u64 <= n);
                    }
                }
                Step::TrimMin(n, approx) => {
                    let min = id(u64::from(n) % (next / 2 + 2), 0);
                    let removed = s.trim(TrimStrategy::MinId(min), approx, 0);
                    for _ in 0..removed {
                        let first = *model.keys().next().unwrap();
                        prop_assert!(first < min);
                        model.remove(&first);
                    }
                    if !approx {
                        prop_assert!(model.keys().all(|k| *k >= min));
                    }
                }
                Step::Range(a, b, rev) => {
                    let (lo, hi) = (id(u64::from(a) % (next / 2 + 2), 0), id(u64::from(b) % (next / 2 + 2), 7));
                    let mut got = Vec::new();
                    s.range(lo, hi, rev, |e| {
                        got.push((e.id, e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect::<Vec<_>>()));
                        true
                    });
                    let mut want: Vec<_> = if lo <= hi {
                        model.range(lo..=hi).map(|(k, v)| (*k, v.clone())).collect()
                    } else {
                        Vec::new()
                    };
                    if rev { want.reverse(); }
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert!(s.check());
            prop_assert_eq!(s.len(), model.len() as u64);
            prop_assert_eq!(s.first_entry_id(), model.keys().next().copied());
        }
    }
}
