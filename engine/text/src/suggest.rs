//! FT.SUGADD / SUGGET / SUGDEL / SUGLEN: an autocomplete dictionary of strings with scores and
//! optional payloads, with RediSearch's trie semantics (`trie_type.c`, `suggest.c`):
//!
//! - entries are stored as given (case-sensitive: `Hello` and `hello` are two entries; SUGDEL
//!   names the exact string); matching folds case (each char to its lowercase form, one char
//!   for one, as RediSearch's `runeFold`);
//! - scores are `f32` (RediSearch's trie stores floats); INCR adds in `f32`;
//! - an entry whose text equals the case-folded prefix ranks with score `i32::MAX`;
//! - FUZZY (Levenshtein distance ≤ 1 between the folded prefix and some prefix of the folded
//!   entry) multiplies by `exp(−2·dist)`;
//! - always divided by `sqrt(1 + |chars(entry) − bytes(prefix)|)` (RediSearch subtracts the
//!   prefix's byte length from the entry's rune count; the same for ASCII);
//! - each step is rounded to `f32`, as RediSearch stores the ranked score in a float.
//!
//! FUZZY lookups run a Levenshtein automaton (distance 1, `starts_with`: some prefix of the key
//! within one edit of the query) over an `fst` set of the distinct folded keys, built on the
//! first fuzzy query after a change and cached until the next insert or delete.
//!
//! Invariants: `entries` is keyed by `(fold(text), text)`, so a prefix lookup is a range scan
//! of the folded keys and an exact lookup is one map access; the cached fst, when present,
//! holds exactly the distinct folded keys of `entries`; no entry has an empty text or a
//! text of [`MAX_TEXT_CHARS`] chars or more (RediSearch's `TRIE_INITIAL_STRING_LEN`); an empty
//! payload is stored as none (RediSearch saves both alike).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use fst::automaton::{Automaton, Levenshtein};
use fst::{IntoStreamer, Streamer};

use crate::codec::{Reader, put_f64, put_u16, put_u32};
use crate::error::DecodeError;
use crate::term_dict::prefix_distance;

/// Folded prefixes of this many chars or more are an invalid query (`TRIE_MAX_PREFIX`).
pub const MAX_PREFIX_CHARS: usize = 100;
/// Prefix arguments of this many bytes or more answer "Invalid query length" (RediSearch
/// checks `TRIE_MAX_PREFIX * sizeof(rune)` bytes before decoding).
pub const MAX_PREFIX_BYTES: usize = 200;
/// Texts of this many chars or more (or more than twice as many bytes) are not inserted.
pub const MAX_TEXT_CHARS: usize = 255;

#[derive(Debug, Clone)]
struct Entry {
    score: f32,
    payload: Option<Vec<u8>>,
}

/// Bitwise score comparison, so that the type is `Eq` (a NaN reached by INCR of infinities
/// compares equal to itself).
impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.score.to_bits() == other.score.to_bits() && self.payload == other.payload
    }
}

impl Eq for Entry {}

/// One SUGGET result.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub text: String,
    /// The ranked score (what WITHSCORES shows), an `f32` value widened.
    pub score: f64,
    pub payload: Option<Vec<u8>>,
}

/// See the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suggestions {
    entries: BTreeMap<(String, String), Entry>,
    /// Bytes of texts and payloads, for MEMORY USAGE.
    heap: usize,
    /// The folded keys as an fst for FUZZY lookups (see the module docs).
    fuzzy: FuzzyKeys,
}

/// A lazily built fst of the folded keys. A cache: it takes no part in equality and is not
/// cloned (a clone rebuilds it on its first fuzzy query).
#[derive(Debug, Default)]
struct FuzzyKeys(OnceLock<Option<fst::Set<Vec<u8>>>>);

impl Clone for FuzzyKeys {
    fn clone(&self) -> FuzzyKeys {
        FuzzyKeys::default()
    }
}

impl PartialEq for FuzzyKeys {
    fn eq(&self, _: &FuzzyKeys) -> bool {
        true
    }
}

impl Eq for FuzzyKeys {}

/// RediSearch's case folding, one char for one (a char whose lowercase form is several chars
/// is kept).
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

impl Suggestions {
    pub fn new() -> Suggestions {
        Suggestions::default()
    }

    /// FT.SUGADD: sets (or with `incr` adds to) the score; a given non-empty payload replaces
    /// the old one. Returns whether the entry is new. An empty or too long text is ignored
    /// (false), as RediSearch ignores it.
    pub fn add(&mut self, text: &str, score: f64, incr: bool, payload: Option<&[u8]>) -> bool {
        if text.is_empty()
            || text.len() > 2 * MAX_TEXT_CHARS
            || text.chars().count() >= MAX_TEXT_CHARS
        {
            return false;
        }
        let payload = payload.filter(|p| !p.is_empty());
        let score = score as f32;
        let key = (fold(text), text.to_string());
        match self.entries.get_mut(&key) {
            Some(e) => {
                e.score = if incr { e.score + score } else { score };
                if let Some(p) = payload {
                    self.heap -= e.payload.as_ref().map_or(0, Vec::len);
                    self.heap += p.len();
                    e.payload = Some(p.to_vec());
                }
                false
            }
            None => {
                self.fuzzy = FuzzyKeys::default();
                self.heap += 2 * text.len() + payload.map_or(0, <[u8]>::len);
                self.entries.insert(
                    key,
                    Entry {
                        score,
                        payload: payload.map(<[u8]>::to_vec),
                    },
                );
                true
            }
        }
    }

    /// FT.SUGDEL: removes the entry spelled exactly `text`.
    pub fn del(&mut self, text: &str) -> bool {
        match self.entries.remove(&(fold(text), text.to_string())) {
            Some(e) => {
                self.fuzzy = FuzzyKeys::default();
                self.heap -= 2 * text.len() + e.payload.map_or(0, |p| p.len());
                true
            }
            None => false,
        }
    }

    /// FT.SUGLEN.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate heap bytes (MEMORY USAGE).
    pub fn mem_bytes(&self) -> usize {
        // A B-tree slot per entry: two `String`s and the entry, plus node overhead.
        self.heap + self.entries.len() * 96
    }

    /// Every entry as `(text, score, payload)`, in folded order (moon-tool, tests).
    pub fn iter(&self) -> impl Iterator<Item = (&str, f32, Option<&[u8]>)> {
        self.entries
            .iter()
            .map(|((_, t), e)| (t.as_str(), e.score, e.payload.as_deref()))
    }

    /// FT.SUGGET prefix [FUZZY] [MAX max]: at most `max` suggestions, ranked as described in
    /// the module docs (best first; equal scores by text). `None` when the folded prefix has
    /// [`MAX_PREFIX_CHARS`] chars or more (RediSearch's "Invalid query"). An empty prefix
    /// matches every entry, as RediSearch's automaton does.
    pub fn get(&self, prefix: &str, fuzzy: bool, max: usize) -> Option<Vec<Suggestion>> {
        let p = fold(prefix);
        if p.chars().count() >= MAX_PREFIX_CHARS {
            return None;
        }
        let plen_bytes = prefix.len();
        let rank = |text: &str, e: &Entry, dist: usize| {
            let mut s = if text == p { i32::MAX as f32 } else { e.score };
            if fuzzy {
                s = (f64::from(s) * (-2.0 * dist as f64).exp()) as f32;
            }
            let slen = text.chars().count();
            (f64::from(s) / ((1 + slen.abs_diff(plen_bytes)) as f64).sqrt()) as f32
        };
        let mut hits: Vec<(f32, &str, &Entry)> = if fuzzy {
            let mut hits = Vec::new();
            for f in self.fuzzy_candidates(&p) {
                let d = prefix_distance(&p, &f);
                if d > 1 {
                    continue;
                }
                for ((_, t), e) in self.with_folded(&f) {
                    hits.push((rank(t, e, d), t.as_str(), e));
                }
            }
            hits
        } else {
            self.entries
                .range((p.clone(), String::new())..)
                .take_while(|((f, _), _)| f.starts_with(&p))
                .map(|((_, t), e)| (rank(t, e, 0), t.as_str(), e))
                .collect()
        };
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        hits.truncate(max);
        Some(
            hits.into_iter()
                .map(|(score, text, e)| Suggestion {
                    text: text.to_string(),
                    score: f64::from(score),
                    payload: e.payload.clone(),
                })
                .collect(),
        )
    }

    /// The distinct folded keys that may be within one edit of a prefix of `p`: the fst
    /// automaton's matches for an ASCII `p`, else every key (the caller checks the distance
    /// either way). fst 0.4's Levenshtein automaton misses matches when the query has a
    /// multi-byte char (see `TermDict::fuzzy`).
    fn fuzzy_candidates(&self, p: &str) -> Vec<String> {
        let all = || {
            let mut keys: Vec<String> = self.entries.keys().map(|(f, _)| f.clone()).collect();
            keys.dedup();
            keys
        };
        if !p.is_ascii() {
            return all();
        }
        let set = self.fuzzy.0.get_or_init(|| {
            let mut keys: Vec<&str> = self.entries.keys().map(|(f, _)| f.as_str()).collect();
            keys.dedup();
            fst::Set::from_iter(keys).ok()
        });
        let (Some(set), Ok(lev)) = (set, Levenshtein::new(p, 1)) else {
            return all();
        };
        let mut stream = set.search(lev.starts_with()).into_stream();
        let mut out = Vec::new();
        while let Some(k) = stream.next() {
            out.push(String::from_utf8_lossy(k).into_owned());
        }
        out
    }

    /// The entries whose folded key is `f`.
    fn with_folded<'a>(
        &'a self,
        f: &str,
    ) -> impl Iterator<Item = (&'a (String, String), &'a Entry)> + use<'a> {
        let f = f.to_string();
        self.entries
            .range((f.clone(), String::new())..)
            .take_while(move |((g, _), _)| *g == f)
    }

    /// Storage encoding (DUMP payload body, snapshots): `u16 version=1, u32 count, count ×
    /// {u32 len, utf-8 text, f64 score, u8 has_payload, [u32 len, payload]}`, in folded order.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, 1);
        put_u32(out, self.entries.len() as u32);
        for ((_, text), e) in &self.entries {
            crate::codec::put_str(out, text);
            put_f64(out, f64::from(e.score));
            match &e.payload {
                Some(p) => {
                    out.push(1);
                    put_u32(out, p.len() as u32);
                    out.extend_from_slice(p);
                }
                None => out.push(0),
            }
        }
    }

    /// Decodes [`Suggestions::encode`]'s bytes (untrusted: RESTORE payloads). Rejects empty
    /// or too long texts, duplicates, empty payloads, a wrong count and trailing bytes, so a
    /// decoded value re-encodes to the same bytes.
    pub fn decode(buf: &[u8]) -> Result<Suggestions, DecodeError> {
        let mut r = Reader::new(buf);
        if r.u16()? != 1 {
            return Err(DecodeError {
                offset: 0,
                what: "unsupported format version",
            });
        }
        let n = r.u32()? as usize;
        let mut s = Suggestions::new();
        for _ in 0..n {
            let at = r.offset();
            let text = r.str()?;
            let score = r.f64()?;
            let payload = match r.u8()? {
                0 => None,
                1 => {
                    let len = r.u32()? as usize;
                    let p = r.bytes(len)?;
                    if p.is_empty() {
                        return Err(r.err("empty payload"));
                    }
                    Some(p)
                }
                _ => return Err(r.err("bad payload flag")),
            };
            if s.entries.contains_key(&(fold(text), text.to_string())) {
                return Err(DecodeError {
                    offset: at,
                    what: "duplicate entry",
                });
            }
            if !s.add(text, score, false, payload) {
                return Err(DecodeError {
                    offset: at,
                    what: "empty or too long text",
                });
            }
        }
        if r.remaining() != 0 {
            return Err(r.err("trailing bytes"));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &[Suggestion]) -> Vec<&str> {
        v.iter().map(|s| s.text.as_str()).collect()
    }

    fn f(x: f64) -> f64 {
        f64::from(x as f32)
    }

    #[test]
    fn add_get_del_len() {
        let mut s = Suggestions::new();
        assert!(s.add("hello world", 1.0, false, None));
        assert!(s.add("hello", 1.0, false, Some(b"p1")));
        assert!(s.add("help", 5.0, false, None));
        assert!(!s.add("hello", 2.0, true, None)); // incr
        assert!(s.add("Hello", 1.0, false, None)); // case-sensitive storage
        assert_eq!(s.len(), 4);
        let r = s.get("hel", false, 10).unwrap();
        // help: 5/sqrt(2) = 3.536; hello: 3/sqrt(3) = 1.732; Hello: 1/sqrt(3); hello world:
        // 1/sqrt(9) = 0.333
        assert_eq!(texts(&r), ["help", "hello", "Hello", "hello world"]);
        assert_eq!(r[0].score, f(5.0 / 2f64.sqrt()));
        assert_eq!(r[1].score, f(3.0 / 3f64.sqrt()));
        assert_eq!(r[1].payload.as_deref(), Some(&b"p1"[..]));
        // an entry equal to the folded prefix wins with i32::MAX
        let r = s.get("HELLO", false, 2).unwrap();
        assert_eq!(texts(&r), ["hello", "Hello"]);
        assert_eq!(r[0].score, f(f64::from(i32::MAX as f32)));
        assert_eq!(s.get("HEL", false, 2).unwrap().len(), 2);
        assert_eq!(s.get("", false, 10).unwrap().len(), 4);
        assert!(s.get(&"x".repeat(100), false, 1).is_none());
        assert!(!s.del("HELP"));
        assert!(s.del("help"));
        assert_eq!(s.len(), 3);
        // empty and too long texts are ignored; empty payloads are none
        assert!(!s.add("", 1.0, false, None));
        assert!(!s.add(&"a".repeat(255), 1.0, false, None));
        assert!(s.add(&"a".repeat(254), 1.0, false, Some(b"")));
        assert_eq!(s.iter().find(|e| e.0.len() == 254).unwrap().2, None);
    }

    #[test]
    fn fuzzy_prefix() {
        let mut s = Suggestions::new();
        s.add("hello", 1.0, false, None);
        s.add("yellow", 1.0, false, None);
        s.add("world", 1.0, false, None);
        assert!(s.get("jel", false, 10).unwrap().is_empty());
        let r = s.get("jel", true, 10).unwrap();
        // hello: dist 1 → e^-2 / sqrt(3); yellow: dist 1 → e^-2 / sqrt(4)
        assert_eq!(texts(&r), ["hello", "yellow"]);
        let e2 = f64::from((-2f64).exp() as f32);
        assert_eq!(r[0].score, f(e2 / 3f64.sqrt()));
    }

    /// The fst candidates give exactly the entries a scan of every key within one edit gives,
    /// across inserts and deletes (the cache is rebuilt after each change).
    #[test]
    fn fuzzy_fst_matches_a_full_scan() {
        let mut s = Suggestions::new();
        let mut x: u64 = 7;
        let mut word = |n: usize| {
            (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ['a', 'b', 'c', 'É', 'é', 'ß'][(x >> 60) as usize % 6]
                })
                .collect::<String>()
        };
        let words: Vec<String> = (0..300).map(|i| word(1 + i % 6)).collect();
        for (i, w) in words.iter().enumerate() {
            s.add(w, (i % 7) as f64 + 1.0, false, None);
            if i % 5 == 0 {
                s.del(&words[i / 2]);
            }
            if i % 25 == 0 {
                for q in ["", "a", "bc", "éa", "abca", "ßßß", "zz"] {
                    let want: Vec<String> = {
                        let mut keys: Vec<String> =
                            s.entries.keys().map(|(f, _)| f.clone()).collect();
                        keys.dedup();
                        keys.retain(|f| prefix_distance(&fold(q), f) <= 1);
                        keys
                    };
                    let mut got = s.fuzzy_candidates(&fold(q));
                    got.retain(|f| prefix_distance(&fold(q), f) <= 1);
                    assert_eq!(got, want, "query {q:?}");
                }
            }
        }
    }

    #[test]
    fn codec_round_trip_and_garbage() {
        let mut s = Suggestions::new();
        s.add("a b", 1.5, false, Some(b"x"));
        s.add("c", 2.0, false, None);
        s.add("C", 2.0, false, None);
        let mut b = Vec::new();
        s.encode(&mut b);
        let back = Suggestions::decode(&b).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.mem_bytes(), s.mem_bytes());
        for cut in 0..b.len() {
            assert!(Suggestions::decode(&b[..cut]).is_err());
        }
        let mut extra = b.clone();
        extra.push(0);
        assert!(Suggestions::decode(&extra).is_err());
    }
}
