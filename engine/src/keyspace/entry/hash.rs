//! The compact form of a `listpack` hash entry: key, metadata and the hash's packed buffer in
//! one compact blob (encoding `HASH`), instead of a boxed `LargeEntry` plus a separate buffer.
//! That saves one allocation and its malloc slack per small hash (the bulk of the memory of
//! many small hashes).
//!
//! A hash is mutated in its boxed form: [`Entry::value_mut`] unpacks a compact hash into a
//! `LargeEntry`, and [`Entry::settle`] (called by `Entry::new_value` and after every
//! `Db::update`) packs a `listpack` hash back. Reads never unpack: [`Entry::hash`] views either
//! form.
//!
//! Invariant: outside a `value_mut` borrow, a `listpack` hash entry is compact and a
//! `hashtable` one is boxed.

use super::{Entry, LargeEntry, LargeKey, LargeValue, Val, build_compact, compact_val, layout};
use crate::types::hash::{HashRef, HashValue};

impl Entry {
    /// The hash, in either form; `None` if the entry holds another type.
    #[inline]
    pub fn hash(&self) -> Option<HashRef<'_>> {
        match self {
            Entry::Compact(blob) => match compact_val(blob) {
                Val::Hash(h) => Some(HashRef::from_packed(h)),
                Val::Int(_) | Val::Str(_) => None,
            },
            Entry::Large(large) => match &large.value {
                LargeValue::Hash(h) => Some(h.as_ref()),
                _ => None,
            },
        }
    }

    /// True if the entry holds a hash.
    pub fn is_hash(&self) -> bool {
        self.hash().is_some()
    }

    /// Boxes a compact hash so it can be mutated as a [`HashValue`]; no-op otherwise.
    pub(super) fn unpack_hash(&mut self) {
        let (expire_at_ms, access) = (self.expire_at_ms(), self.access_secs());
        let Entry::Compact(blob) = self else { return };
        let Val::Hash(packed) = compact_val(blob) else {
            return;
        };
        let l = layout(blob);
        let key = blob.get(l.key_start..l.key_end).unwrap_or(&[]);
        let large = LargeEntry {
            key: LargeKey::new(key),
            expire_at_ms: super::ttl_field(expire_at_ms),
            access,
            value: LargeValue::Hash(HashValue::from_packed_bytes(packed.to_vec())),
        };
        *self = Entry::Large(Box::new(large));
    }

    /// Packs a boxed `listpack` hash into the compact form; no-op otherwise (an empty hash is
    /// left boxed: its key is about to be deleted).
    pub fn settle(&mut self) {
        let expire = self.expire_at_ms();
        let Entry::Large(large) = self else { return };
        let LargeValue::Hash(h) = &large.value else {
            return;
        };
        let Some(packed) = h.packed_bytes() else {
            return;
        };
        if h.is_empty() {
            return;
        }
        let blob = build_compact(
            large.key.as_bytes(),
            Val::Hash(packed),
            expire,
            large.access,
        );
        *self = Entry::Compact(blob);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::hash::{HashLimits, NO_TTL};
    use proptest::prelude::*;

    const LIM: HashLimits = HashLimits {
        max_entries: 4,
        max_value: 8,
    };

    fn hash_of(n: usize) -> HashValue {
        let mut h = HashValue::new();
        for i in 0..n {
            h.set(format!("f{i}").as_bytes(), b"v", false, LIM);
        }
        h
    }

    #[test]
    fn listpack_hash_is_one_compact_blob() {
        let e = Entry::new_value(b"k", LargeValue::Hash(hash_of(3)), Some(99), 7);
        assert!(matches!(e, Entry::Compact(_)));
        assert_eq!(e.key(), b"k");
        assert_eq!(e.expire_at_ms(), Some(99));
        assert_eq!(e.access_secs(), 7);
        assert_eq!((e.type_name(), e.encoding_name()), ("hash", "listpack"));
        assert_eq!(e.string_value(), None);
        assert!(e.value().is_none());
        let h = e.hash().expect("hash");
        assert_eq!(h.len(), 3);
        assert_eq!(h.get(b"f1").map(|r| r.value), Some(&b"v"[..]));
        // The blob is the whole cost: 1 flag + 4 clock + 8 TTL + 1 + 1 key + 1 + 3 * 4 pairs.
        assert_eq!(e.mem_bytes(), 28);
    }

    #[test]
    fn hashtable_stays_boxed() {
        let e = Entry::new_value(b"k", LargeValue::Hash(hash_of(5)), None, 0);
        assert!(matches!(e, Entry::Large(_)));
        assert_eq!(e.encoding_name(), "hashtable");
        assert_eq!(e.hash().map(HashRef::len), Some(5));
    }

    #[test]
    fn value_mut_unpacks_and_settle_packs_back() {
        let mut e = Entry::new_value(b"key", LargeValue::Hash(hash_of(2)), None, 5);
        let before = e.clone();
        let Some(LargeValue::Hash(h)) = e.value_mut() else {
            panic!("not a hash");
        };
        h.set(b"x", b"y", false, LIM);
        assert!(matches!(e, Entry::Large(_)));
        e.settle();
        assert!(matches!(e, Entry::Compact(_)));
        assert_eq!(e.hash().map(HashRef::len), Some(3));
        assert!(!e.same_data(&before));
        assert_eq!(e.access_secs(), 5);
        // Growing past the limit leaves it boxed as a hashtable.
        let Some(LargeValue::Hash(h)) = e.value_mut() else {
            panic!("not a hash");
        };
        h.set(b"z", b"123456789", false, LIM);
        e.settle();
        assert_eq!(e.encoding_name(), "hashtable");
        assert!(matches!(e, Entry::Large(_)));
    }

    #[test]
    fn compact_hash_survives_ttl_change_and_rekey() {
        let mut e = Entry::new_value(b"a", LargeValue::Hash(hash_of(2)), None, 1);
        e.set_expire_at_ms(Some(1000));
        assert_eq!(e.expire_at_ms(), Some(1000));
        assert_eq!(e.type_name(), "hash");
        e.set_expire_at_ms(None);
        let e = e.with_key(b"bb");
        assert_eq!(e.key(), b"bb");
        assert_eq!(e.hash().map(HashRef::len), Some(2));
        assert_eq!(e.expire_at_ms(), None);
    }

    #[test]
    fn same_data_across_forms() {
        let compact = Entry::new_value(b"k", LargeValue::Hash(hash_of(2)), None, 0);
        let mut boxed = compact.clone();
        boxed.unpack_hash();
        assert!(matches!(boxed, Entry::Large(_)));
        assert!(compact.same_data(&boxed) && boxed.same_data(&compact));
        let other = Entry::new_value(b"k", LargeValue::Hash(hash_of(3)), None, 0);
        assert!(!compact.same_data(&other));
        let s = Entry::new_string(b"k", b"v", None, 0);
        assert!(!compact.same_data(&s) && !s.same_data(&compact));
    }

    proptest! {
        /// Writes through `value_mut` + `settle` keep the entry equal to the same writes on a
        /// plain `HashValue`, in the right form, with exact `mem_bytes`.
        #[test]
        fn writes_through_the_entry_match_a_plain_hash(
            steps in proptest::collection::vec((0u8..4, 0u8..6, 0usize..12), 0..60),
        ) {
            let mut e = Entry::new_value(b"key", LargeValue::Hash(hash_of(1)), Some(500), 3);
            let mut h = hash_of(1);
            for (kind, f, v) in steps {
                let (field, value) = ([b'f', f], vec![b'v'; v]);
                let Some(LargeValue::Hash(eh)) = e.value_mut() else {
                    panic!("not a hash")
                };
                for t in [&mut *eh, &mut h] {
                    match kind {
                        0 | 1 => { t.set(&field, &value, kind == 1, LIM); }
                        2 => { t.remove(&field); }
                        _ => { t.set_expire(&field, if v % 2 == 0 { NO_TTL } else { 1000 + v as u64 }); }
                    }
                }
                e.settle();
                prop_assert_eq!(e.hash(), Some(h.as_ref()));
                prop_assert_eq!(e.key(), b"key");
                prop_assert_eq!((e.expire_at_ms(), e.access_secs()), (Some(500), 3));
                let compact = matches!(e, Entry::Compact(_));
                prop_assert_eq!(compact, h.encoding_name() == "listpack" && !h.is_empty());
                if compact {
                    let packed = h.packed_bytes().map_or(0, <[u8]>::len);
                    prop_assert_eq!(e.mem_bytes(), 1 + 4 + 8 + 1 + 3 + packed);
                }
                if h.is_empty() {
                    break;
                }
            }
        }
    }
}
