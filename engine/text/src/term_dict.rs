//! The term dictionary: dense term ids, an exact-lookup hash table, and an ordered view for
//! prefix / fuzzy enumeration made of an immutable `fst::Map` (term → id) plus a small sorted
//! in-memory tail of terms added since the last merge.
//!
//! Invariants: `terms[id]` is the term of `id`; every id is either in `fst` or in `tail`,
//! never both; ids are never reused (a term whose postings became empty stays, with df 0,
//! until the index is rebuilt from a snapshot, which drops it).

use std::collections::BTreeMap;

use fst::automaton::{Automaton, Levenshtein};
use fst::{IntoStreamer, Map, Streamer};
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use crate::analyzer::STEM_PREFIX;
use crate::error::TextError;

/// Tail size that always triggers a merge on insert (beyond the proportional rule).
const TAIL_MERGE_MIN: usize = 4096;

pub struct TermDict {
    terms: Vec<Box<str>>,
    lookup: HashTable<u32>,
    hasher: DefaultHashBuilder,
    fst: Map<Vec<u8>>,
    tail: BTreeMap<Box<str>, u32>,
    merges: u64,
}

impl Default for TermDict {
    fn default() -> Self {
        TermDict {
            terms: Vec::new(),
            lookup: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            fst: Map::default(),
            tail: BTreeMap::new(),
            merges: 0,
        }
    }
}

impl TermDict {
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn tail_len(&self) -> usize {
        self.tail.len()
    }

    pub fn fst_len(&self) -> usize {
        self.fst.len()
    }

    /// How many fst rebuilds happened (observability, tests).
    pub fn merges(&self) -> u64 {
        self.merges
    }

    pub fn term(&self, id: u32) -> &str {
        self.terms.get(id as usize).map(|s| &**s).unwrap_or("")
    }

    pub fn get(&self, term: &str) -> Option<u32> {
        let h = self.hasher.hash_one(term);
        self.lookup
            .find(h, |&id| &*self.terms[id as usize] == term)
            .copied()
    }

    /// Id of `term`, inserting it (into the tail) when new. Merges the tail into the fst when
    /// it grew beyond `max(4096, fst_len / 4)`, so the amortized cost per new term stays O(1).
    pub fn get_or_insert(&mut self, term: &str) -> u32 {
        let h = self.hasher.hash_one(term);
        if let Some(&id) = self.lookup.find(h, |&id| &*self.terms[id as usize] == term) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(term.into());
        let terms = &self.terms;
        let hasher = &self.hasher;
        self.lookup
            .insert_unique(h, id, |&i| hasher.hash_one(&*terms[i as usize]));
        self.tail.insert(term.into(), id);
        if self.tail.len() >= TAIL_MERGE_MIN.max(self.fst.len() / 4) {
            self.merge_tail();
        }
        id
    }

    /// Builds a dictionary from strictly increasing unique terms (snapshot load): ids are the
    /// positions in `sorted`, everything lands in the fst directly. `None` if not sorted.
    pub fn from_sorted(sorted: Vec<Box<str>>) -> Option<TermDict> {
        let mut d = TermDict::default();
        let mut b = fst::MapBuilder::memory();
        for (i, t) in sorted.iter().enumerate() {
            b.insert(t.as_bytes(), i as u64).ok()?;
        }
        d.fst = Map::new(b.into_inner().ok()?).ok()?;
        for (i, t) in sorted.iter().enumerate() {
            let h = d.hasher.hash_one(&**t);
            let terms = &sorted;
            let hasher = &d.hasher;
            d.lookup
                .insert_unique(h, i as u32, |&j| hasher.hash_one(&*terms[j as usize]));
        }
        d.terms = sorted;
        Some(d)
    }

    /// Rebuilds the fst from the old fst and the tail (a sorted merge), emptying the tail.
    pub fn merge_tail(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let mut b = fst::MapBuilder::memory();
        let mut old = self.fst.stream();
        let mut tail = self.tail.iter().peekable();
        let mut cur = old.next().map(|(k, v)| (k.to_vec(), v));
        // Both sides are sorted and disjoint, so a two-way merge yields a sorted stream;
        // `insert` cannot fail on sorted unique keys.
        loop {
            let take_tail = match (&cur, tail.peek()) {
                (None, None) => break,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some((k, _)), Some((t, _))) => t.as_bytes() < k.as_slice(),
            };
            if take_tail {
                if let Some((t, &id)) = tail.next() {
                    let r = b.insert(t.as_bytes(), u64::from(id));
                    debug_assert!(r.is_ok());
                }
            } else if let Some((k, v)) = cur.take() {
                let r = b.insert(&k, v);
                debug_assert!(r.is_ok());
                cur = old.next().map(|(k, v)| (k.to_vec(), v));
            }
        }
        drop(old);
        if let Ok(bytes) = b.into_inner()
            && let Ok(map) = Map::new(bytes)
        {
            self.fst = map;
            self.tail.clear();
            self.merges += 1;
        }
    }

    /// Ids of terms starting with `prefix` (stem keys excluded unless `prefix` itself starts
    /// with the stem marker), in lexicographic order, at most `max` of them.
    pub fn prefix(&self, prefix: &str, max: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut s = self.fst.range().ge(prefix).into_stream();
        let mut from_fst = Vec::new();
        while let Some((k, v)) = s.next() {
            if !k.starts_with(prefix.as_bytes()) {
                break;
            }
            from_fst.push((k.to_vec(), v as u32));
            if from_fst.len() >= max {
                break;
            }
        }
        let from_tail = self
            .tail
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(max);
        // Merge the two sorted runs to keep lexicographic order (stable max cut).
        let mut a = from_fst.into_iter().peekable();
        let mut t = from_tail.peekable();
        while out.len() < max {
            let take_a = match (a.peek(), t.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((ka, _)), Some((kt, _))) => ka.as_slice() < kt.as_bytes(),
            };
            let id = if take_a {
                a.next().map(|x| x.1)
            } else {
                t.next().map(|x| *x.1)
            };
            if let Some(id) = id {
                out.push(id);
            }
        }
        out
    }

    /// Ids of non-stem terms within Levenshtein `distance` (in chars) of `term`.
    ///
    /// fst 0.4's Levenshtein automaton misses matches when the query has a multi-byte char
    /// (e.g. `éa` does not reach `ßéa`: `é` and `ß` share their UTF-8 lead byte), so only an
    /// ASCII term uses it; any other term is compared with every term (same order: the fst's,
    /// then the tail's).
    pub fn fuzzy(&self, term: &str, distance: u32, max: usize) -> Result<Vec<u32>, TextError> {
        if !term.is_ascii() {
            return Ok(self.fuzzy_scan(term, distance, max));
        }
        let lev = Levenshtein::new(term, distance)
            .map_err(|_| TextError::AutomatonTooLarge(term.to_string()))?;
        let mut out = Vec::new();
        let mut s = self.fst.search(&lev).into_stream();
        while let Some((k, v)) = s.next() {
            if k.first() != Some(&(STEM_PREFIX as u8)) {
                out.push(v as u32);
                if out.len() >= max {
                    return Ok(out);
                }
            }
        }
        for (k, &id) in &self.tail {
            if !k.starts_with(STEM_PREFIX) && lev_matches(&lev, k) {
                out.push(id);
                if out.len() >= max {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// [`TermDict::fuzzy`] by comparing `term` with every non-stem term.
    fn fuzzy_scan(&self, term: &str, distance: u32, max: usize) -> Vec<u32> {
        let near =
            |k: &str| !k.starts_with(STEM_PREFIX) && levenshtein(term, k) <= distance as usize;
        let mut out = Vec::new();
        let mut s = self.fst.stream();
        while let Some((k, v)) = s.next() {
            if std::str::from_utf8(k).is_ok_and(near) {
                out.push(v as u32);
                if out.len() >= max {
                    return out;
                }
            }
        }
        for (k, &id) in &self.tail {
            if near(k) {
                out.push(id);
                if out.len() >= max {
                    break;
                }
            }
        }
        out
    }

    /// All ids in lexicographic term order (snapshot encoding).
    pub fn sorted_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = (0..self.terms.len() as u32).collect();
        ids.sort_unstable_by(|&a, &b| self.terms[a as usize].cmp(&self.terms[b as usize]));
        ids
    }
}

fn lev_matches(lev: &Levenshtein, s: &str) -> bool {
    let mut st = lev.start();
    for &b in s.as_bytes() {
        st = lev.accept(&st, b);
        if !lev.can_match(&st) {
            return false;
        }
    }
    lev.is_match(&st)
}

/// Plain Levenshtein distance over chars (reference for tests, suggestions and spelling).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Minimal Levenshtein distance between `q` and any prefix of `s` (fuzzy prefix matching).
pub fn prefix_distance(q: &str, s: &str) -> usize {
    let s: Vec<char> = s.chars().collect();
    // dp over q rows, s columns; the answer is the minimum of the last row.
    let mut prev: Vec<usize> = (0..=s.len()).collect();
    let mut cur = vec![0; s.len() + 1];
    for (i, cq) in q.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cs) in s.iter().enumerate() {
            let sub = prev[j] + usize::from(cq != cs);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.into_iter().min().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzy lookups agree with the plain distance for ASCII and non-ASCII terms alike (fst's
    /// automaton alone misses `ßéa` for `éa`).
    #[test]
    fn fuzzy_matches_plain_distance_for_any_term() {
        let mut d = TermDict::default();
        let words = [
            "ßéa", "éa", "xéa", "ea", "abc", "abd", "é", "中a", "aé", "ééé",
        ];
        // Half in the fst, half in the tail.
        for (i, w) in words.iter().enumerate() {
            d.get_or_insert(w);
            if i == words.len() / 2 {
                d.merge_tail();
            }
        }
        for q in ["éa", "ea", "ab", "中", "ée", "a"] {
            for dist in [1u32, 2] {
                let mut got: Vec<&str> = d
                    .fuzzy(q, dist, 100)
                    .unwrap()
                    .into_iter()
                    .map(|id| d.term(id))
                    .collect();
                got.sort_unstable();
                let mut want: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| levenshtein(q, w) <= dist as usize)
                    .collect();
                want.sort_unstable();
                assert_eq!(got, want, "{q} within {dist}");
            }
        }
    }

    #[test]
    fn insert_lookup_and_merge() {
        let mut d = TermDict::default();
        let words = ["banana", "apple", "apricot", "+appl", "cherry"];
        let ids: Vec<u32> = words.iter().map(|w| d.get_or_insert(w)).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        assert_eq!(d.get_or_insert("apple"), 1);
        assert_eq!(d.tail_len(), 5);
        assert_eq!(d.prefix("ap", 10), [1, 2]);
        d.merge_tail();
        assert_eq!((d.tail_len(), d.fst_len(), d.merges()), (0, 5, 1));
        d.get_or_insert("apz");
        d.get_or_insert("aaa");
        // Results merge fst and tail in order.
        assert_eq!(d.prefix("ap", 10), [1, 2, 5]);
        assert_eq!(d.prefix("ap", 2), [1, 2]);
        assert_eq!(d.prefix("", 100).len(), 7);
        let mut f = d.fuzzy("appla", 1, 100).unwrap();
        f.sort();
        assert_eq!(f, [1]);
        let mut f = d.fuzzy("apl", 2, 100).unwrap();
        f.sort();
        assert_eq!(f, [1, 5, 6]); // apple, apz, aaa ; "+appl" excluded
        d.merge_tail();
        assert_eq!(d.get("apz"), Some(5));
        assert_eq!(d.term(6), "aaa");
        let names: Vec<&str> = d.sorted_ids().iter().map(|&i| d.term(i)).collect();
        assert_eq!(
            names,
            [
                "+appl", "aaa", "apple", "apricot", "apz", "banana", "cherry"
            ]
        );
    }

    #[test]
    fn automatic_merge_threshold() {
        let mut d = TermDict::default();
        for i in 0..TAIL_MERGE_MIN + 10 {
            d.get_or_insert(&format!("t{i}"));
        }
        assert_eq!(d.merges(), 1);
        assert_eq!(d.tail_len(), 10);
        assert_eq!(d.prefix("t1", usize::MAX).len(), 1 + 10 + 100 + 1000);
    }

    #[test]
    fn distances() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "ab"), 2);
        assert_eq!(prefix_distance("hel", "hello"), 0);
        assert_eq!(prefix_distance("hwl", "hello"), 1);
        assert_eq!(prefix_distance("hlo", "hello"), 2);
        assert_eq!(prefix_distance("xyz", "hello"), 3);
    }
}
