//! FT.SUGADD / SUGGET / SUGDEL / SUGLEN: an autocomplete dictionary of strings with scores and
//! optional payloads. Matching is case-insensitive (keys are lowercased; the first spelling
//! added is returned). Ranking follows RediSearch's trie search:
//! - an entry equal to the prefix gets score `i32::MAX` (exact match first);
//! - with FUZZY (max distance 1 between the prefix and some prefix of the entry):
//!   `score · exp(−2·dist)`;
//! - always (prefix mode): divided by `sqrt(1 + |len(entry) − len(prefix)|)` (chars).
//!
//! Results: best score first, ties by ascending key. Entries are kept in a `BTreeMap`, so a
//! plain prefix lookup is a range scan; FUZZY scans all entries (O(entries · len²)).

use std::collections::BTreeMap;

use crate::codec::{Reader, put_f64, put_u16, put_u32};
use crate::error::DecodeError;
use crate::term_dict::prefix_distance;

/// Prefixes longer than this (in chars) return nothing, as RediSearch's TRIE_MAX_PREFIX.
pub const MAX_PREFIX_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    text: String,
    score: f64,
    payload: Option<Vec<u8>>,
}

/// One SUGGET result.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub text: String,
    pub score: f64,
    pub payload: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suggestions {
    entries: BTreeMap<String, Entry>,
}

impl Suggestions {
    pub fn new() -> Suggestions {
        Suggestions::default()
    }

    /// FT.SUGADD: sets (or with `incr` adds to) the score; a given payload replaces the old
    /// one. Returns the dictionary size afterwards.
    pub fn add(&mut self, text: &str, score: f64, incr: bool, payload: Option<&[u8]>) -> usize {
        let key = text.to_lowercase();
        match self.entries.get_mut(&key) {
            Some(e) => {
                e.score = if incr { e.score + score } else { score };
                if let Some(p) = payload {
                    e.payload = Some(p.to_vec());
                }
            }
            None => {
                self.entries.insert(
                    key,
                    Entry {
                        text: text.to_string(),
                        score,
                        payload: payload.map(<[u8]>::to_vec),
                    },
                );
            }
        }
        self.entries.len()
    }

    /// FT.SUGDEL.
    pub fn del(&mut self, text: &str) -> bool {
        self.entries.remove(&text.to_lowercase()).is_some()
    }

    /// FT.SUGLEN.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// FT.SUGGET prefix [FUZZY] [MAX max]: at most `max` suggestions, ranked as described in
    /// the module docs (the returned `score` is the ranked score, as WITHSCORES shows).
    pub fn get(&self, prefix: &str, fuzzy: bool, max: usize) -> Vec<Suggestion> {
        let p = prefix.to_lowercase();
        let plen = p.chars().count();
        if plen == 0 || plen > MAX_PREFIX_CHARS || max == 0 {
            return Vec::new();
        }
        let rank = |key: &str, e: &Entry, dist: usize| {
            let klen = key.chars().count();
            let mut s = if key == p {
                f64::from(i32::MAX)
            } else {
                e.score
            };
            if fuzzy {
                s *= (-2.0 * dist as f64).exp();
            }
            s / ((1 + klen.abs_diff(plen)) as f64).sqrt()
        };
        let mut hits: Vec<(f64, &str, &Entry)> = if fuzzy {
            self.entries
                .iter()
                .filter_map(|(k, e)| {
                    let d = prefix_distance(&p, k);
                    (d <= 1).then(|| (rank(k, e, d), k.as_str(), e))
                })
                .collect()
        } else {
            self.entries
                .range(p.clone()..)
                .take_while(|(k, _)| k.starts_with(&p))
                .map(|(k, e)| (rank(k, e, 0), k.as_str(), e))
                .collect()
        };
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        hits.truncate(max);
        hits.into_iter()
            .map(|(score, _, e)| Suggestion {
                text: e.text.clone(),
                score,
                payload: e.payload.clone(),
            })
            .collect()
    }

    /// Snapshot payload: `u16 version=1, u32 count, count × {u32 len, text, f64 score,
    /// u8 has_payload, [u32 len, payload]}`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, 1);
        put_u32(out, self.entries.len() as u32);
        for e in self.entries.values() {
            crate::codec::put_str(out, &e.text);
            put_f64(out, e.score);
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
            if !score.is_finite() {
                return Err(DecodeError {
                    offset: at,
                    what: "non-finite score",
                });
            }
            let payload = match r.u8()? {
                0 => None,
                1 => {
                    let len = r.u32()? as usize;
                    Some(r.bytes(len)?)
                }
                _ => return Err(r.err("bad payload flag")),
            };
            if s.entries.contains_key(&text.to_lowercase()) {
                return Err(DecodeError {
                    offset: at,
                    what: "duplicate entry",
                });
            }
            s.add(text, score, false, payload);
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

    #[test]
    fn add_get_del_len() {
        let mut s = Suggestions::new();
        assert_eq!(s.add("hello world", 1.0, false, None), 1);
        assert_eq!(s.add("hello", 1.0, false, Some(b"p1")), 2);
        assert_eq!(s.add("help", 5.0, false, None), 3);
        assert_eq!(s.add("Hello", 2.0, true, None), 3); // incr, case-insensitive
        let r = s.get("hel", false, 10);
        // hello: 3/sqrt(3) = 1.732; help: 5/sqrt(2) = 3.536; hello world: 1/sqrt(9) = 0.333
        assert_eq!(texts(&r), ["help", "hello", "hello world"]);
        assert!((r[0].score - 5.0 / 2f64.sqrt()).abs() < 1e-9);
        assert!((r[1].score - 3.0 / 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(r[1].payload.as_deref(), Some(&b"p1"[..]));
        // exact match wins
        assert_eq!(texts(&s.get("hello", false, 1)), ["hello"]);
        assert_eq!(s.get("hello", false, 1)[0].score, f64::from(i32::MAX));
        assert_eq!(s.get("HEL", false, 2).len(), 2);
        assert!(s.get("", false, 5).is_empty());
        assert!(s.del("HELP"));
        assert!(!s.del("help"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn fuzzy_prefix() {
        let mut s = Suggestions::new();
        s.add("hello", 1.0, false, None);
        s.add("yellow", 1.0, false, None);
        s.add("world", 1.0, false, None);
        assert!(s.get("jel", false, 10).is_empty());
        let r = s.get("jel", true, 10);
        // hello: dist 1 → e^-2 / sqrt(3); yellow: dist 1 → e^-2 / sqrt(4)
        assert_eq!(texts(&r), ["hello", "yellow"]);
        assert!((r[0].score - (-2f64).exp() / 3f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn codec_round_trip_and_garbage() {
        let mut s = Suggestions::new();
        s.add("a b", 1.5, false, Some(b"x"));
        s.add("c", 2.0, false, None);
        let mut b = Vec::new();
        s.encode(&mut b);
        assert_eq!(Suggestions::decode(&b).unwrap(), s);
        for cut in 0..b.len() {
            assert!(Suggestions::decode(&b[..cut]).is_err());
        }
    }
}
