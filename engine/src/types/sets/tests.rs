//! Unit tests of the set value: encodings exactly at Redis's thresholds, conversions, random
//! picks, SSCAN's guarantee, and a proptest against a `BTreeSet` model with small thresholds.

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;

use super::*;

fn lim() -> SetLimits {
    SetLimits::default()
}

fn small() -> SetLimits {
    SetLimits {
        intset_entries: 6,
        listpack_entries: 4,
        listpack_value: 5,
    }
}

fn build(members: &[&str], lim: &SetLimits) -> SetValue {
    let first = members.first().copied().unwrap_or("");
    let mut s = SetValue::create(first.as_bytes(), members.len(), lim);
    s.maybe_convert(members.len(), lim);
    for m in members {
        s.insert(m.as_bytes(), lim);
    }
    s
}

fn sorted(s: &SetValue) -> Vec<String> {
    let mut v: Vec<String> = s
        .iter()
        .map(|m| String::from_utf8_lossy(&m.to_bytes()).into_owned())
        .collect();
    v.sort();
    v
}

fn ints(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

fn strs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i}")).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn intset_up_to_512_then_hashtable() {
    let l = lim();
    let members = ints(512);
    let mut s = build(&refs(&members), &l);
    assert_eq!((s.encoding_name(), s.len()), ("intset", 512));
    assert!(s.insert(b"512", &l));
    assert_eq!((s.encoding_name(), s.len()), ("hashtable", 513));
    s.check(&l);
    // Created with a hint above the intset limit: hashtable at once.
    let members = ints(513);
    assert_eq!(build(&refs(&members), &l).encoding_name(), "hashtable");
}

#[test]
fn listpack_up_to_128_members_of_64_bytes() {
    let l = lim();
    let members = strs(128);
    let mut s = build(&refs(&members), &l);
    assert_eq!((s.encoding_name(), s.len()), ("listpack", 128));
    assert!(!s.insert(b"m0", &l));
    assert_eq!(s.encoding_name(), "listpack");
    assert!(s.insert(b"m128", &l));
    assert_eq!((s.encoding_name(), s.len()), ("hashtable", 129));
    s.check(&l);

    let long = "x".repeat(64);
    let mut s = build(&["a", &long], &l);
    assert_eq!(s.encoding_name(), "listpack");
    assert!(s.insert("y".repeat(65).as_bytes(), &l));
    assert_eq!(s.encoding_name(), "hashtable");
    assert_eq!(
        build(&["z".repeat(65).as_str()], &l).encoding_name(),
        "hashtable"
    );
}

#[test]
fn intset_takes_a_string_like_redis() {
    let l = lim();
    // Small intset + short string: listpack.
    let mut s = build(&["1", "2"], &l);
    assert_eq!(s.encoding_name(), "intset");
    assert!(s.insert(b"abc", &l));
    assert_eq!(s.encoding_name(), "listpack");
    assert_eq!(sorted(&s), vec!["1", "2", "abc"]);
    // 127 integers still fit a listpack with one more member; 128 do not.
    let members = ints(127);
    let mut s = build(&refs(&members), &l);
    s.insert(b"abc", &l);
    assert_eq!((s.encoding_name(), s.len()), ("listpack", 128));
    let members = ints(128);
    let mut s = build(&refs(&members), &l);
    s.insert(b"abc", &l);
    assert_eq!((s.encoding_name(), s.len()), ("hashtable", 129));
    // A long string goes straight to hashtable.
    let mut s = build(&["1"], &l);
    s.insert("q".repeat(65).as_bytes(), &l);
    assert_eq!(s.encoding_name(), "hashtable");
    // Integers wider than listpack-value digits force hashtable too.
    let tight = SetLimits {
        listpack_value: 3,
        ..l
    };
    let mut s = build(&["1000"], &tight);
    s.insert(b"ab", &tight);
    assert_eq!(s.encoding_name(), "hashtable");
    let mut s = build(&["-99"], &tight);
    s.insert(b"ab", &tight);
    assert_eq!(s.encoding_name(), "listpack");
}

#[test]
fn sadd_size_hint_converts_up_front() {
    let l = lim();
    let mut s = build(&["a"], &l);
    assert_eq!(s.encoding_name(), "listpack");
    s.maybe_convert(129, &l);
    assert_eq!(s.encoding_name(), "hashtable");
    assert_eq!(sorted(&s), vec!["a"]);
    let mut s = build(&["1"], &l);
    s.maybe_convert(512, &l);
    assert_eq!(s.encoding_name(), "intset");
    s.maybe_convert(513, &l);
    assert_eq!(s.encoding_name(), "hashtable");
}

#[test]
fn canonical_integers_only_in_intsets() {
    let l = lim();
    let mut s = build(&["1"], &l);
    for m in ["01", "+1", " 1", "-0", "1.0"] {
        assert!(!s.contains(m.as_bytes()));
        assert!(s.insert(m.as_bytes(), &l), "{m}");
    }
    assert_eq!(s.encoding_name(), "listpack");
    assert_eq!(s.len(), 6);
    assert!(s.contains_member(Member::Int(1)));
    assert!(s.remove_member(Member::Int(1)));
    assert!(!s.contains(b"1"));
    let mut s = build(&["-9223372036854775808", "9223372036854775807"], &l);
    assert_eq!(s.encoding_name(), "intset");
    assert_eq!(
        sorted(&s),
        vec!["-9223372036854775808", "9223372036854775807"]
    );
    assert!(s.remove(b"9223372036854775807"));
    assert!(!s.remove(b"9223372036854775808"));
}

#[test]
fn convert_to_intset_if_fits() {
    let l = lim();
    let mut s = SetValue::empty_listpack(0);
    for m in ["3", "1", "2"] {
        s.insert(m.as_bytes(), &l);
    }
    s.convert_to_intset_if_fits(&l);
    assert_eq!(s.encoding_name(), "intset");
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        vec![Member::Int(1), Member::Int(2), Member::Int(3)]
    );
    let mut s = build(&["1", "x"], &l);
    s.convert_to_intset_if_fits(&l);
    assert_eq!(s.encoding_name(), "listpack");
}

#[test]
fn equality_ignores_encoding_and_order() {
    let l = lim();
    let a = build(&["1", "2", "3"], &l);
    let mut b = SetValue::create(b"x", 1000, &l);
    for m in ["3", "2", "1"] {
        b.insert(m.as_bytes(), &l);
    }
    assert_eq!(b.encoding_name(), "hashtable");
    assert_eq!(a, b);
    b.insert(b"4", &l);
    assert_ne!(a, b);
}

#[test]
fn random_picks_cover_every_member() {
    let l = lim();
    let mut state = 0x1234_5678_u64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for members in [ints(10), strs(10), strs(300)] {
        let s = build(&refs(&members), &l);
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            seen.insert(s.random(&mut rand).map(|m| m.to_bytes()));
        }
        assert_eq!(seen.len(), members.len(), "{}", s.encoding_name());
        let mut s = s;
        let mut popped = BTreeSet::new();
        while let Some(m) = s.pop_random(&mut rand) {
            assert!(popped.insert(m));
        }
        assert_eq!(popped.len(), members.len());
        assert!(s.is_empty());
    }
}

#[test]
fn scan_returns_every_stable_member_despite_removals() {
    let l = lim();
    let members = strs(1000);
    let mut s = build(&refs(&members), &l);
    assert!(s.is_hashtable());
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut round = 0;
    loop {
        cursor = s.scan(cursor, 37, |m| {
            seen.insert(m.to_bytes());
        });
        // Remove a few members the scan may or may not have visited; keep m0..m99.
        for k in 0..3 {
            let victim = format!("m{}", 100 + (round * 3 + k) % 900);
            s.remove(victim.as_bytes());
        }
        round += 1;
        if cursor == 0 {
            break;
        }
    }
    for i in 0..100 {
        assert!(seen.contains(format!("m{i}").as_bytes()), "m{i} missed");
    }
    // Compact encodings answer everything at once.
    let small_set = build(&["a", "b"], &l);
    let mut n = 0;
    assert_eq!(small_set.scan(99, 1, |_| n += 1), 0);
    assert_eq!(n, 2);
}

#[test]
fn retain_positions_in_every_encoding() {
    let l = lim();
    for members in [ints(20), strs(20), strs(200)] {
        let mut s = build(&refs(&members), &l);
        let before: Vec<Bytes> = s.iter().map(|m| m.to_bytes()).collect();
        s.retain_positions(|i| i % 2 == 0);
        let mut want: Vec<Bytes> = before.into_iter().step_by(2).collect();
        want.sort();
        let mut got: Vec<Bytes> = s.iter().map(|m| m.to_bytes()).collect();
        got.sort();
        assert_eq!(got, want);
        s.check(&l);
    }
}

#[test]
fn mem_bytes_tracks_growth() {
    let l = lim();
    let members = strs(5000);
    let s = build(&refs(&members), &l);
    let payload: usize = members.iter().map(String::len).sum();
    assert!(s.mem_bytes() >= payload);
    // Well below one allocation per member: under 28 bytes per 5-byte member, all included
    // (record, offset, and an index slot of position + hash bits).
    assert!(s.mem_bytes() < members.len() * 28, "{}", s.mem_bytes());
    let i = build(&refs(&ints(100)), &l);
    assert!(i.mem_bytes() >= 200 && i.mem_bytes() < 400);
}

#[derive(Debug, Clone)]
enum Step {
    Add(String),
    Rem(String),
    Pop(u64),
    Convert(usize),
    Retain(u64),
}

fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        (-20i64..20).prop_map(|v| v.to_string()),
        Just(i64::MIN.to_string()),
        Just("70000".to_string()),
        "[a-c]{0,7}",
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => member().prop_map(Step::Add),
        2 => member().prop_map(Step::Rem),
        1 => any::<u64>().prop_map(Step::Pop),
        1 => (0usize..12).prop_map(Step::Convert),
        1 => any::<u64>().prop_map(Step::Retain),
    ]
}

proptest! {
    #[test]
    fn behaves_like_a_btreeset(
        first in member(),
        hint in 0usize..10,
        steps in proptest::collection::vec(step(), 0..120),
    ) {
        let l = small();
        let mut s = SetValue::create(first.as_bytes(), hint, &l);
        let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
        for st in steps {
            match st {
                Step::Add(m) => {
                    prop_assert_eq!(s.insert(m.as_bytes(), &l), model.insert(m.into_bytes()));
                }
                Step::Rem(m) => {
                    prop_assert_eq!(s.remove(m.as_bytes()), model.remove(m.as_bytes()));
                }
                Step::Pop(seed) => {
                    let mut r = seed;
                    let popped = s.pop_random(&mut || { r = r.wrapping_mul(6364136223846793005).wrapping_add(1); r >> 11 });
                    match popped {
                        Some(m) => prop_assert!(model.remove(m.as_ref())),
                        None => prop_assert!(model.is_empty()),
                    }
                }
                Step::Convert(n) => s.maybe_convert(n, &l),
                Step::Retain(mask) => {
                    let order: Vec<Vec<u8>> = s.iter().map(|m| m.to_bytes().to_vec()).collect();
                    s.retain_positions(|i| mask >> (i % 64) & 1 == 1);
                    for (i, m) in order.iter().enumerate() {
                        if mask >> (i % 64) & 1 == 0 {
                            model.remove(m);
                        }
                    }
                }
            }
            s.check(&l);
            prop_assert_eq!(s.len(), model.len());
            let all_ints = model.iter().all(|m| parse_canonical_i64(m).is_some());
            if s.is_intset() {
                prop_assert!(all_ints);
            }
            if s.is_listpack() {
                prop_assert!(model.iter().all(|m| m.len() <= l.listpack_value));
            }
            let got: BTreeSet<Vec<u8>> = s.iter().map(|m| m.to_bytes().to_vec()).collect();
            prop_assert_eq!(&got, &model);
            for m in &model {
                prop_assert!(s.contains(m));
            }
        }
    }
}

/// The batch prefetch only hints: every stage, on present and absent members, on an emptied
/// big set and on the compact encodings, leaves the set exactly as it was.
#[test]
fn prefetch_changes_nothing() {
    let small_set = build(&["a", "b"], &lim());
    for stage in 0..3 {
        small_set.prefetch(b"a", stage);
    }
    let names: Vec<String> = (0..2000).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut s = build(&refs, &lim());
    assert_eq!(s.encoding_name(), "hashtable");
    let before: BTreeSet<Bytes> = s.iter().map(|m| m.to_bytes()).collect();
    for stage in 0..3 {
        for m in ["m0", "m1999", "missing", ""] {
            s.prefetch(m.as_bytes(), stage);
        }
    }
    let after: BTreeSet<Bytes> = s.iter().map(|m| m.to_bytes()).collect();
    assert_eq!(before, after);
    for m in &names {
        s.remove(m.as_bytes());
    }
    for stage in 0..3 {
        s.prefetch(b"m0", stage);
    }
    assert_eq!(s.len(), 0);
}
