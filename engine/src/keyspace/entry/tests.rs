//! Unit and property tests of the entry layout.

use super::compact::{put_varint, varint_len};
use super::*;
use proptest::prelude::*;

#[test]
fn entry_is_sixteen_bytes_and_default_is_empty() {
    assert_eq!(std::mem::size_of::<Entry>(), 16);
    let e = Entry::default();
    assert_eq!(e.key(), b"");
    assert_eq!(e.mem_bytes(), 0);
    assert_eq!(e.expire_at_ms(), None);
}

#[test]
fn memory_target_for_small_pairs() {
    let e = Entry::new_string(&[b'k'; 16], &[b'v'; 32], None, 7);
    assert!(e.mem_bytes() <= 56, "{}", e.mem_bytes());
}

#[test]
fn int_detection_follows_string2ll() {
    for ok in [
        "0",
        "1",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "12345",
    ] {
        assert_eq!(parse_canonical_i64(ok.as_bytes()), ok.parse().ok(), "{ok}");
    }
    for bad in [
        "",
        "-",
        "-0",
        "01",
        "+1",
        " 1",
        "1 ",
        "9223372036854775808",
        "-9223372036854775809",
        "1a",
        "00",
    ] {
        assert_eq!(parse_canonical_i64(bad.as_bytes()), None, "{bad}");
    }
}

#[test]
fn encodings_match_redis() {
    assert_eq!(
        Entry::new_string(b"k", b"123", None, 0).encoding_name(),
        "int"
    );
    assert_eq!(
        Entry::new_string(b"k", b"0123", None, 0).encoding_name(),
        "embstr"
    );
    assert_eq!(
        Entry::new_string(b"k", &[b'a'; 44], None, 0).encoding_name(),
        "embstr"
    );
    assert_eq!(
        Entry::new_string(b"k", &[b'a'; 45], None, 0).encoding_name(),
        "raw"
    );
    assert_eq!(
        Entry::new_embstr(b"k", b"3", None, 0).encoding_name(),
        "embstr"
    );
    let mut e = Entry::new_string(b"k", b"12", Some(99), 0);
    e.raw_string_mut().expect("string").extend_from_slice(b"3");
    assert_eq!(e.encoding_name(), "raw");
    assert_eq!(e.string_value(), Some(StrRef::Bytes(b"123")));
    assert_eq!(e.expire_at_ms(), Some(99));
    assert_eq!(e.key(), b"k");
}

#[test]
fn ttl_can_be_added_changed_and_removed() {
    let mut e = Entry::new_string(b"key", b"value", None, 5);
    e.set_expire_at_ms(Some(1000));
    assert_eq!(e.expire_at_ms(), Some(1000));
    e.set_expire_at_ms(Some(2000));
    assert_eq!(e.expire_at_ms(), Some(2000));
    assert!(e.is_expired(2000));
    assert!(!e.is_expired(1999));
    e.set_expire_at_ms(None);
    assert_eq!(e.expire_at_ms(), None);
    assert_eq!(e.key(), b"key");
    assert_eq!(e.string_value(), Some(StrRef::Bytes(b"value")));
    assert_eq!(e.access_secs(), 5);
}

#[test]
fn access_clock_and_idle_time() {
    let mut e = Entry::new_int(b"k", -5, None, 100);
    assert_eq!(e.idle_secs(130), 30);
    e.touch(200);
    assert_eq!(e.idle_secs(130), 0);
    assert_eq!(e.idle_secs(201), 1);
}

#[test]
fn with_key_keeps_value_ttl_and_clock() {
    let e = Entry::new_int(b"a", 42, Some(77), 9).with_key(b"bb");
    assert_eq!(e.key(), b"bb");
    assert_eq!(e.string_value(), Some(StrRef::Int(42)));
    assert_eq!(e.expire_at_ms(), Some(77));
    assert_eq!(e.access_secs(), 9);
    let raw = Entry::new_raw(b"a", b"xyz".to_vec(), None, 1).with_key(b"c");
    assert_eq!(raw.key(), b"c");
    assert_eq!(raw.string_value(), Some(StrRef::Bytes(b"xyz")));
}

#[test]
fn shared_integers() {
    assert!(Entry::new_string(b"k", b"9999", None, 0).is_shared_int());
    assert!(!Entry::new_string(b"k", b"10000", None, 0).is_shared_int());
    assert!(!Entry::new_string(b"k", b"-1", None, 0).is_shared_int());
}

#[test]
fn int_len_counts_sign_and_digits() {
    for i in [0i64, 9, 10, -1, -10, i64::MAX, i64::MIN, 123_456] {
        assert_eq!(StrRef::Int(i).len(), i.to_string().len());
    }
}

#[test]
fn long_keys_use_multi_byte_lengths() {
    let key = vec![b'x'; 300];
    let e = Entry::new_string(&key, b"v", Some(5), 0);
    assert_eq!(e.key(), &key[..]);
    assert_eq!(e.string_value(), Some(StrRef::Bytes(b"v")));
}

#[test]
fn varint_len_is_what_put_varint_writes() {
    for n in [
        0usize,
        1,
        127,
        128,
        300,
        16_383,
        16_384,
        1 << 21,
        1 << 28,
        usize::MAX,
    ] {
        let mut out = Vec::new();
        put_varint(&mut out, n);
        assert_eq!(varint_len(n), out.len(), "{n}");
    }
}

proptest! {
    #[test]
    fn round_trip(key in proptest::collection::vec(any::<u8>(), 0..300),
                  value in proptest::collection::vec(any::<u8>(), 0..300),
                  ttl in proptest::option::of(any::<u64>()),
                  clock in any::<u32>()) {
        let mut e = Entry::new_string(&key, &value, ttl, clock);
        prop_assert_eq!(e.key(), &key[..]);
        prop_assert_eq!(e.expire_at_ms(), ttl);
        prop_assert_eq!(e.access_secs(), clock);
        prop_assert_eq!(e.string_value().map(|v| v.to_vec()), Some(value.clone()));
        e.set_expire_at_ms(None);
        prop_assert_eq!(e.key(), &key[..]);
        prop_assert_eq!(e.string_value().map(|v| v.to_vec()), Some(value.clone()));
        let moved = e.with_key(b"other");
        prop_assert_eq!(moved.string_value().map(|v| v.to_vec()), Some(value));
    }

    #[test]
    fn int_rule_round_trips(s in "-?[0-9]{1,21}|[ +]?[0-9]{1,3}") {
        let parsed = parse_canonical_i64(s.as_bytes());
        let expected = s.parse::<i64>().ok().filter(|i| i.to_string() == s);
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn every_i64_is_canonical(i in any::<i64>()) {
        prop_assert_eq!(parse_canonical_i64(i.to_string().as_bytes()), Some(i));
    }
}

#[test]
fn ints_update_in_place_keeping_key_ttl_and_clock() {
    let mut e = Entry::new_int(b"counter", 41, Some(1_700_000_000_000), 77);
    let before = e.mem_bytes();
    assert!(e.set_int_in_place(-9_000_000_000));
    assert_eq!(e.string_value(), Some(StrRef::Int(-9_000_000_000)));
    assert_eq!(e.key(), b"counter");
    assert_eq!(e.expire_at_ms(), Some(1_700_000_000_000));
    assert_eq!(e.access_secs(), 77);
    assert_eq!(e.mem_bytes(), before);
    let mut no_ttl = Entry::new_int(b"k", 1, None, 0);
    assert!(no_ttl.set_int_in_place(2));
    assert_eq!(no_ttl, Entry::new_int(b"k", 2, None, 0));
    // Not INT-encoded: left alone.
    let mut s = Entry::new_embstr(b"k", b"12", None, 0);
    assert!(!s.set_int_in_place(5));
    assert_eq!(s.string_value(), Some(StrRef::Bytes(b"12")));
    let mut raw = Entry::new_raw(b"k", b"1".to_vec(), None, 0);
    assert!(!raw.set_int_in_place(5));
    assert!(!Entry::default().set_int_in_place(5));
}
