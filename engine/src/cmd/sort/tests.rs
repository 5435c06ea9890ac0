//! Unit tests of SORT's helpers: `strtod`-style score conversion and the owner rule.

use super::{owner, score_of};

#[test]
fn scores_convert_like_strtod() {
    assert_eq!(score_of(b"1.5"), Some(1.5));
    assert_eq!(score_of(b"  -2"), Some(-2.0));
    assert_eq!(score_of(b""), Some(0.0));
    assert_eq!(score_of(b"1e1"), Some(10.0));
    assert_eq!(score_of(b"inf"), Some(f64::INFINITY));
    assert_eq!(score_of(b"1e400"), None);
    assert_eq!(score_of(b"nan"), None);
    assert_eq!(score_of(b"1x"), None);
    assert_eq!(score_of(b"abc"), None);
}

#[test]
fn owner_follows_the_slot_table() {
    assert_eq!(owner(b"anything", 1), 0);
    let table = crate::slots::SlotTable::new(4);
    for k in [&b"a"[..], b"{u}x", b"user:1000", b""] {
        assert_eq!(owner(k, 4), table.shard_of(k));
    }
    assert_eq!(owner(b"{u}a", 4), owner(b"{u}b", 4));
}
