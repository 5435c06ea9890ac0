//! Unit tests and model-based property tests of the hash value: both encodings, the
//! conversion thresholds, field TTLs against an injected clock, and the HSCAN guarantee.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

const LIM: HashLimits = HashLimits {
    max_entries: 128,
    max_value: 64,
};

fn fields(h: &HashValue) -> BTreeMap<Vec<u8>, (Vec<u8>, u64)> {
    h.iter()
        .map(|r| (r.field.to_vec(), (r.value.to_vec(), r.expire_at)))
        .collect()
}

#[test]
fn packed_basics() {
    let mut h = HashValue::new();
    assert!(h.is_empty());
    assert!(h.set(b"a", b"1", false, LIM));
    assert!(h.set(b"b", b"22", false, LIM));
    assert!(!h.set(b"a", b"333", false, LIM));
    assert!(!h.set(b"b", b"xy", false, LIM));
    assert_eq!(h.len(), 2);
    assert_eq!(h.get(b"a").map(|r| r.value), Some(&b"333"[..]));
    assert_eq!(h.get(b"b").map(|r| r.value), Some(&b"xy"[..]));
    assert_eq!(h.encoding_name(), "listpack");
    assert!(h.remove(b"a"));
    assert!(!h.remove(b"a"));
    assert_eq!(h.len(), 1);
    // 1 header byte + (1 + 1) + (1 + 2) for the pair.
    assert!(h.mem_bytes() >= 6);
}

#[test]
fn ten_small_fields_stay_compact() {
    let mut h = HashValue::new();
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..10)
        .map(|i| {
            (
                format!("field:{i}").into_bytes(),
                format!("value:{i:04}").into_bytes(),
            )
        })
        .collect();
    h.reserve(10, pairs.iter().map(|(f, v)| f.len() + v.len()).sum());
    for (f, v) in &pairs {
        h.set(f, v, false, LIM);
    }
    h.shrink();
    // 1 header + 10 × (1 + 7 + 1 + 10): within a few bytes of the payload.
    assert_eq!(h.len(), 10);
    assert!(h.mem_bytes() <= 1 + 10 * 19 + 32, "{}", h.mem_bytes());
}

#[test]
fn converts_exactly_at_entry_threshold() {
    let lim = HashLimits {
        max_entries: 4,
        max_value: 64,
    };
    let mut h = HashValue::new();
    for i in 0..4 {
        h.set(format!("f{i}").as_bytes(), b"v", false, lim);
    }
    assert_eq!(h.encoding_name(), "listpack");
    h.set(b"f0", b"again", false, lim);
    assert_eq!(h.encoding_name(), "listpack");
    h.set(b"f4", b"v", false, lim);
    assert_eq!(h.encoding_name(), "hashtable");
    assert_eq!(h.len(), 5);
    // Never converts back.
    for i in 0..5 {
        h.remove(format!("f{i}").as_bytes());
    }
    assert!(h.is_empty());
    assert_eq!(h.encoding_name(), "hashtable");
}

#[test]
fn converts_exactly_at_value_threshold() {
    let mut h = HashValue::new();
    h.set(&[b'f'; 64], &[b'v'; 64], false, LIM);
    assert_eq!(h.encoding_name(), "listpack");
    h.set(b"g", &[b'v'; 65], false, LIM);
    assert_eq!(h.encoding_name(), "hashtable");
    let mut h = HashValue::new();
    h.set(&[b'f'; 65], b"v", false, LIM);
    assert_eq!(h.encoding_name(), "hashtable");
    assert_eq!(h.get(&[b'f'; 65]).map(|r| r.value), Some(&b"v"[..]));
}

#[test]
fn short_and_long_length_headers() {
    let mut h = HashValue::new();
    let cases = [
        (15, 14),
        (14, 15),
        (15, 15),
        (16, 0),
        (0, 16),
        (1, 0),
        (63, 64),
    ];
    for (i, (f, v)) in cases.iter().enumerate() {
        let field = vec![b'a' + i as u8; *f];
        h.set(&field, &vec![b'v'; *v], false, LIM);
        assert_eq!(h.get(&field).map(|r| r.value.len()), Some(*v), "{f}/{v}");
    }
    assert_eq!(h.encoding_name(), "listpack");
    assert_eq!(h.len(), cases.len());
    // (15, 14) takes one header byte, (15, 15) takes three.
    let mut one = HashValue::new();
    one.set(&[b'f'; 15], &[b'v'; 14], false, LIM);
    let mut three = HashValue::new();
    three.set(&[b'f'; 15], &[b'v'; 15], false, LIM);
    assert_eq!(one.iter().count(), 1);
    assert_eq!(three.get(&[b'f'; 15]).map(|r| r.value.len()), Some(15));
}

#[test]
fn long_fields_use_multi_byte_lengths() {
    let lim = HashLimits {
        max_entries: 128,
        max_value: 100_000,
    };
    let mut h = HashValue::new();
    let big = vec![b'x'; 20_000];
    h.set(&big, &big, false, lim);
    h.set(b"s", b"t", false, lim);
    assert_eq!(h.encoding_name(), "listpack");
    assert_eq!(h.get(&big).map(|r| r.value.len()), Some(20_000));
    assert_eq!(h.get(b"s").map(|r| r.value), Some(&b"t"[..]));
}

#[test]
fn field_ttls_in_both_encodings() {
    for lim in [
        LIM,
        HashLimits {
            max_entries: 0,
            max_value: 64,
        },
    ] {
        let mut h = HashValue::new();
        h.set(b"a", b"1", false, lim);
        h.set(b"b", b"2", false, lim);
        assert!(!h.needs_purge(u64::MAX - 1));
        assert!(!h.has_field_ttls());
        assert!(h.set_expire(b"a", 100));
        assert!(!h.set_expire(b"zz", 100));
        assert!(h.has_field_ttls());
        assert_eq!(h.get(b"a").map(|r| r.expire_at), Some(100));
        assert_eq!(h.get(b"b").map(|r| r.expire_at), Some(NO_TTL));
        assert!(!h.needs_purge(99));
        assert!(h.needs_purge(100));
        // HINCRBY-style writes keep the TTL; HSET-style writes clear it.
        h.set(b"a", b"10", true, lim);
        assert_eq!(h.get(b"a").map(|r| r.expire_at), Some(100));
        h.set(b"a", b"11", false, lim);
        assert_eq!(h.get(b"a").map(|r| r.expire_at), Some(NO_TTL));
        assert!(!h.has_field_ttls());
        h.set_expire(b"a", 100);
        h.set_expire(b"b", 200);
        assert_eq!(h.purge_expired(150), 1);
        assert_eq!(fields(&h).len(), 1);
        assert!(!h.needs_purge(199));
        assert_eq!(h.expire_fields(300, 0), 0);
        assert_eq!(h.purge_expired(300), 1);
        assert!(h.is_empty());
    }
}

#[test]
fn persist_drops_the_ttl_layout() {
    let mut h = HashValue::new();
    h.set(b"a", b"1", false, LIM);
    let plain = h.mem_bytes();
    h.set_expire(b"a", 500);
    assert!(h.mem_bytes() > plain);
    h.set_expire(b"a", NO_TTL);
    assert!(!h.has_field_ttls());
    assert_eq!(h.get(b"a").map(|r| r.value), Some(&b"1"[..]));
    assert!(!h.needs_purge(u64::MAX));
}

#[test]
fn table_scan_returns_every_stable_field() {
    let lim = HashLimits {
        max_entries: 0,
        max_value: 64,
    };
    let mut h = HashValue::new();
    for i in 0..200 {
        h.set(format!("f{i}").as_bytes(), b"v", false, lim);
    }
    let mut seen = BTreeSet::new();
    let mut cursor = 0;
    let mut step = 0;
    loop {
        cursor = h.scan(cursor, 7, |r| {
            seen.insert(r.field.to_vec());
        });
        // Churn between calls: delete some fields that were seen, add new ones.
        step += 1;
        h.remove(format!("f{}", step * 3).as_bytes());
        h.set(format!("new{step}").as_bytes(), b"v", false, lim);
        if cursor == 0 {
            break;
        }
    }
    for i in 0..200 {
        let f = format!("f{i}");
        let deleted = (1..=step).any(|s| s * 3 == i);
        if !deleted {
            assert!(seen.contains(f.as_bytes()), "{f} missing");
        }
    }
}

#[test]
fn active_expire_fields_is_bounded() {
    let lim = HashLimits {
        max_entries: 0,
        max_value: 64,
    };
    let mut h = HashValue::new();
    for i in 0..10 {
        h.set(format!("f{i}").as_bytes(), b"v", false, lim);
        h.set_expire(format!("f{i}").as_bytes(), 10);
    }
    assert_eq!(h.expire_fields(20, 3), 3);
    assert_eq!(h.len(), 7);
    assert!(h.needs_purge(20));
    assert_eq!(h.expire_fields(20, 100), 7);
    assert!(h.is_empty());
}

#[derive(Debug, Clone)]
enum Step {
    Set(u8, u8, bool),
    Remove(u8),
    Expire(u8, u64),
    Persist(u8),
    Advance(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..24, 0u8..80, any::<bool>()).prop_map(|(f, v, k)| Step::Set(f, v, k)),
        2 => (0u8..24).prop_map(Step::Remove),
        2 => (0u8..24, 1u64..60).prop_map(|(f, t)| Step::Expire(f, t)),
        1 => (0u8..24).prop_map(Step::Persist),
        1 => (0u64..30).prop_map(Step::Advance),
    ]
}

fn field_name(f: u8) -> Vec<u8> {
    // Some fields are long enough to need the hashtable encoding.
    if f % 11 == 10 {
        vec![b'L'; 70]
    } else {
        format!("field{f}").into_bytes()
    }
}

proptest! {
    /// The hash against a BTreeMap model, with field TTLs on an injected clock: after every
    /// step and a purge at `now`, both agree on every field, value and expiry.
    #[test]
    fn matches_model(steps in proptest::collection::vec(step(), 0..120), max_entries in 0usize..12) {
        let lim = HashLimits { max_entries, max_value: 64 };
        let mut h = HashValue::new();
        let mut model: BTreeMap<Vec<u8>, (Vec<u8>, u64)> = BTreeMap::new();
        let mut now = 1000u64;
        for s in steps {
            match s {
                Step::Set(f, v, keep) => {
                    let (f, v) = (field_name(f), vec![b'v'; usize::from(v)]);
                    let new = h.set(&f, &v, keep, lim);
                    let old = model.get(&f).map_or(NO_TTL, |e| e.1);
                    prop_assert_eq!(new, !model.contains_key(&f));
                    model.insert(f, (v, if keep { old } else { NO_TTL }));
                }
                Step::Remove(f) => {
                    let f = field_name(f);
                    prop_assert_eq!(h.remove(&f), model.remove(&f).is_some());
                }
                Step::Expire(f, t) => {
                    let f = field_name(f);
                    let at = now + t;
                    prop_assert_eq!(h.set_expire(&f, at), model.contains_key(&f));
                    if let Some(e) = model.get_mut(&f) { e.1 = at; }
                }
                Step::Persist(f) => {
                    let f = field_name(f);
                    prop_assert_eq!(h.set_expire(&f, NO_TTL), model.contains_key(&f));
                    if let Some(e) = model.get_mut(&f) { e.1 = NO_TTL; }
                }
                Step::Advance(ms) => now += ms,
            }
            let due = model.values().filter(|e| e.1 != NO_TTL && e.1 <= now).count();
            prop_assert_eq!(h.purge_expired(now), due);
            model.retain(|_, e| e.1 == NO_TTL || e.1 > now);
            prop_assert!(!h.needs_purge(now));
            prop_assert_eq!(fields(&h), model.clone());
            prop_assert_eq!(h.len(), model.len());
            let big = model.len() > max_entries || model.keys().any(|k| k.len() > 64);
            if big {
                prop_assert_eq!(h.encoding_name(), "hashtable");
            }
            // A positional pick sees every stored field.
            let picked: BTreeSet<Vec<u8>> =
                (0..h.len()).filter_map(|i| h.nth(i)).map(|r| r.field.to_vec()).collect();
            prop_assert_eq!(picked.len(), model.len());
            let clone = h.clone();
            prop_assert_eq!(&clone, &h);
        }
    }

    /// `mem_bytes` tracks what the value owns: a fresh rebuild of the same content in the same
    /// encoding never reports more.
    #[test]
    fn mem_bytes_is_consistent(n in 0usize..40) {
        let mut h = HashValue::new();
        for i in 0..n {
            h.set(format!("f{i}").as_bytes(), b"value", false, LIM);
        }
        let payload: usize = h.iter().map(|r| r.field.len() + r.value.len()).sum();
        prop_assert!(h.mem_bytes() >= payload);
    }
}

#[test]
fn varints_round_trip() {
    for n in [0usize, 1, 127, 128, 300, 16_383, 16_384, usize::MAX >> 1] {
        let mut out = Vec::new();
        put_varint(&mut out, n);
        assert_eq!(out.len(), varint_len(n), "{n}");
        assert_eq!(get_varint(&out, 0), Some((n, out.len())));
    }
    assert_eq!(get_varint(&[0x80], 0), None);
    assert_eq!(get_varint(&[], 0), None);
}

/// The batch prefetch only hints: every stage, on present and absent fields, on an emptied
/// table and on a listpack, leaves the hash exactly as it was.
#[test]
fn prefetch_changes_nothing() {
    let lim = HashLimits {
        max_entries: 2,
        max_value: 64,
    };
    let mut h = HashValue::new();
    h.set(b"a", b"1", false, lim);
    for stage in 0..3 {
        h.prefetch(b"a", stage);
    }
    for i in 0..1000 {
        h.set(format!("f{i}").as_bytes(), b"v", false, lim);
    }
    assert_eq!(h.encoding_name(), "hashtable");
    let before = fields(&h);
    for stage in 0..3 {
        for f in ["a", "f999", "missing", ""] {
            h.prefetch(f.as_bytes(), stage);
        }
    }
    assert_eq!(fields(&h), before);
    for i in 0..1000 {
        h.remove(format!("f{i}").as_bytes());
    }
    h.remove(b"a");
    for stage in 0..3 {
        h.prefetch(b"a", stage);
    }
    assert!(h.is_empty());
}
