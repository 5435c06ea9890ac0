//! Unit tests and model-based proptests of the sorted-set encodings: both against a BTreeMap
//! model (order, ranks, scores, ranges), conversions exactly at the thresholds, and the tree's
//! structural invariants after random workloads.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn limits(entries: usize, value: usize) -> TypeLimits {
    TypeLimits {
        zset_max_listpack_entries: entries,
        zset_max_listpack_value: value,
        ..TypeLimits::default()
    }
}

/// Model: member → score, with the order computed on demand.
#[derive(Default)]
struct Model {
    map: BTreeMap<Vec<u8>, f64>,
}

impl Model {
    fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<_> = self.map.iter().map(|(m, s)| (m.clone(), *s)).collect();
        v.sort_by(|a, b| listpack::cmp_entry(a.1, &a.0, b.1, &b.0));
        v
    }
}

fn check_against(z: &ZSetValue, m: &Model) {
    let want = m.sorted();
    assert_eq!(z.len(), want.len());
    assert_eq!(z.to_vec(), want);
    for (i, (member, score)) in want.iter().enumerate() {
        assert_eq!(z.score(member), Some(*score));
        assert_eq!(z.rank(member), Some((i, *score)));
        assert_eq!(
            z.nth(i).map(|(m, s)| (m.to_vec(), s)),
            Some((member.clone(), *score))
        );
    }
    if let ZSetValue::Skiplist(t) = z {
        t.check();
    }
}

#[test]
fn listpack_stays_small_and_converts_at_entry_limit() {
    let l = limits(4, 8);
    let mut z = ZSetValue::with_hint(1, 1, &l);
    for (i, m) in ["a", "b", "c", "d"].iter().enumerate() {
        assert_eq!(z.insert(m.as_bytes(), i as f64, &l), None);
    }
    assert_eq!(z.encoding_name(), "listpack");
    // Updating an existing member never converts.
    assert_eq!(z.insert(b"a", 10.0, &l), Some(0.0));
    assert_eq!(z.encoding_name(), "listpack");
    z.insert(b"e", 5.0, &l);
    assert_eq!(z.encoding_name(), "skiplist");
    assert_eq!(z.len(), 5);
    assert_eq!(z.nth(0), Some((&b"b"[..], 1.0)));
    assert_eq!(z.rank(b"a"), Some((4, 10.0)));
}

#[test]
fn listpack_converts_at_value_limit() {
    let l = limits(128, 8);
    let mut z = ZSetValue::with_hint(1, 8, &l);
    z.insert(b"12345678", 1.0, &l);
    assert_eq!(z.encoding_name(), "listpack");
    z.insert(b"123456789", 2.0, &l);
    assert_eq!(z.encoding_name(), "skiplist");
    assert_eq!(ZSetValue::with_hint(1, 9, &l).encoding_name(), "skiplist");
    assert_eq!(ZSetValue::with_hint(129, 1, &l).encoding_name(), "skiplist");
    assert_eq!(ZSetValue::with_hint(128, 8, &l).encoding_name(), "listpack");
    assert_eq!(
        ZSetValue::with_hint(1, 1, &limits(0, 8)).encoding_name(),
        "skiplist"
    );
}

#[test]
fn ties_order_by_member_and_negative_zero_equals_zero() {
    let l = limits(128, 64);
    for big in [false, true] {
        let mut z = if big {
            ZSetValue::Skiplist(Box::default())
        } else {
            ZSetValue::default()
        };
        z.insert(b"b", 0.0, &l);
        z.insert(b"a", -0.0, &l);
        z.insert(b"c", f64::NEG_INFINITY, &l);
        z.insert(b"d", f64::INFINITY, &l);
        let order: Vec<Vec<u8>> = z.to_vec().into_iter().map(|(m, _)| m).collect();
        assert_eq!(
            order,
            vec![b"c".to_vec(), b"a".to_vec(), b"b".to_vec(), b"d".to_vec()]
        );
        // Same score (0 vs -0): no update.
        assert_eq!(z.insert(b"b", -0.0, &l), Some(0.0));
        assert_eq!(z.count_prefix(|s, _| s < 0.0), 1);
        assert_eq!(z.count_prefix(|s, _| s <= 0.0), 3);
    }
}

#[test]
fn big_sequential_inserts_fill_leaves_and_ranks_hold() {
    let mut t = ZTree::new();
    for i in 0..20_000u32 {
        t.insert(format!("m{i}").as_bytes(), f64::from(i));
    }
    t.check();
    assert_eq!(t.len(), 20_000);
    assert_eq!(t.rank(b"m12345"), Some((12_345, 12_345.0)));
    assert_eq!(t.nth(19_999), Some((&b"m19999"[..], 19_999.0)));
    // Ascending inserts keep leaves nearly full: well under 24 bytes per member of tree.
    let per = t.mem_bytes() / 20_000;
    assert!(per < 80, "bytes per member {per}");
    for i in (0..20_000u32).step_by(3) {
        assert_eq!(t.remove(format!("m{i}").as_bytes()), Some(f64::from(i)));
    }
    t.check();
    let mut seen = Vec::new();
    t.visit(10, 15, true, |m, s| {
        seen.push((m.to_vec(), s));
        true
    });
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0].1 > w[1].1));
    for i in 0..20_000u32 {
        t.remove(format!("m{i}").as_bytes());
    }
    t.check();
    assert!(t.is_empty());
}

#[test]
fn descending_and_random_inserts_keep_invariants() {
    let mut t = ZTree::new();
    for i in (0..5_000u32).rev() {
        t.insert(format!("{i:05}").as_bytes(), 1.0);
    }
    t.check();
    assert_eq!(t.nth(0), Some((&b"00000"[..], 1.0)));
    let mut x: u64 = 88172645463325252;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let m = format!("k{}", x % 3_000);
        if x.is_multiple_of(3) {
            t.remove(m.as_bytes());
        } else {
            t.insert(m.as_bytes(), (x % 97) as f64);
        }
    }
    t.check();
}

#[test]
fn long_members_live_on_the_heap() {
    let mut t = ZTree::new();
    let long = vec![b'x'; 100];
    t.insert(&long, 1.0);
    t.insert(b"short", 2.0);
    assert_eq!(t.score(&long), Some(1.0));
    assert_eq!(t.remove(&long), Some(1.0));
    assert_eq!(t.score(&long), None);
    t.check();
}

#[derive(Debug, Clone)]
enum Step {
    Insert(u8, i8),
    Remove(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (any::<u8>(), -4i8..4).prop_map(|(m, s)| Step::Insert(m, s)),
        1 => any::<u8>().prop_map(Step::Remove),
    ]
}

fn member(m: u8) -> Vec<u8> {
    // Some members longer than the inline size, many equal-score ties.
    if m.is_multiple_of(7) {
        format!("long-member-name-{m:03}-padding").into_bytes()
    } else {
        format!("m{m}").into_bytes()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matches_model(steps in proptest::collection::vec(step(), 0..600), small in 0usize..40) {
        let l = limits(small, 64);
        let mut z = ZSetValue::with_hint(0, 0, &l);
        let mut m = Model::default();
        for s in steps {
            match s {
                Step::Insert(k, score) => {
                    let want = m.map.insert(member(k), f64::from(score));
                    prop_assert_eq!(z.insert(&member(k), f64::from(score), &l), want);
                }
                Step::Remove(k) => {
                    prop_assert_eq!(z.remove(&member(k)), m.map.remove(&member(k)));
                }
            }
        }
        check_against(&z, &m);
        let want = m.sorted();
        for bound in -5..5 {
            let b = f64::from(bound);
            prop_assert_eq!(
                z.count_prefix(|s, _| s < b),
                want.iter().filter(|(_, s)| *s < b).count()
            );
        }
        let n = want.len();
        for (lo, hi) in [(0, n), (n / 3, n / 2), (1, 2), (n, n + 3)] {
            let mut got = Vec::new();
            z.visit(lo, hi, true, |mm, s| { got.push((mm.to_vec(), s)); true });
            let mut exp: Vec<_> = want.iter().skip(lo).take(hi.saturating_sub(lo)).cloned().collect();
            exp.reverse();
            prop_assert_eq!(got, exp);
        }
    }

    #[test]
    fn big_tree_matches_model(steps in proptest::collection::vec((any::<u16>(), any::<bool>(), -50i16..50), 0..3000)) {
        let mut t = ZTree::new();
        let mut m = Model::default();
        for (k, ins, s) in steps {
            let key = format!("k{}", k % 800).into_bytes();
            if ins {
                prop_assert_eq!(t.insert(&key, f64::from(s)), m.map.insert(key, f64::from(s)));
            } else {
                prop_assert_eq!(t.remove(&key), m.map.remove(&key));
            }
        }
        t.check();
        check_against(&ZSetValue::Skiplist(Box::new(t)), &m);
    }
}
