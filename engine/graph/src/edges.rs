//! The edge table: one record `(src, dst, rel)` per edge slot, stored column-wise so the type
//! column can be narrow.
//!
//! Layout: `ends[s] = [src, dst]` (8 bytes per slot; `src == FREE` marks a free slot, which no
//! node slot can equal since node slots stay below `u32::MAX`) and a type column `rels` that is
//! as narrow as the types it has held allow:
//! - `Uniform(t)`: every live slot has type `t` (0 bytes per slot; `t == FREE` before any edge
//!   was stored) — the common single-type graph;
//! - `Narrow(Vec<u8>)`: types below 256 (1 byte per slot);
//! - `Wide(Vec<u32>)`: any type (4 bytes per slot).
//!
//! Invariants: `rels` never narrows (a wider column stays); a `Narrow`/`Wide` column has
//! exactly `ends.len()` entries; the type stored for a free slot is meaningless (reads report
//! `FREE`).

use crate::graph::{EdgeRec, FREE};

#[derive(Clone, Debug)]
enum Rels {
    Uniform(u32),
    Narrow(Vec<u8>),
    Wide(Vec<u32>),
}

#[derive(Clone, Debug)]
pub(crate) struct EdgeTable {
    ends: Vec<[u32; 2]>,
    rels: Rels,
}

impl Default for EdgeTable {
    fn default() -> EdgeTable {
        EdgeTable {
            ends: Vec::new(),
            rels: Rels::Uniform(FREE),
        }
    }
}

impl EdgeTable {
    /// Number of slots (live and free).
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The live record of slot `s` (None when free or out of range).
    #[inline]
    pub fn get(&self, s: usize) -> Option<EdgeRec> {
        let [src, dst] = *self.ends.get(s)?;
        if src == FREE {
            return None;
        }
        Some(EdgeRec {
            src,
            dst,
            rel: self.rel_at(s),
        })
    }

    /// The type of slot `s`, `FREE` when the slot is free or out of range.
    #[inline]
    pub fn rel(&self, s: usize) -> u32 {
        match self.ends.get(s) {
            Some(&[src, _]) if src != FREE => self.rel_at(s),
            _ => FREE,
        }
    }

    #[inline]
    fn rel_at(&self, s: usize) -> u32 {
        match &self.rels {
            Rels::Uniform(t) => *t,
            Rels::Narrow(v) => v.get(s).map_or(FREE, |&t| u32::from(t)),
            Rels::Wide(v) => v.get(s).copied().unwrap_or(FREE),
        }
    }

    /// Appends a free slot.
    pub fn push_free(&mut self) {
        self.resize_free(self.ends.len() + 1);
    }

    /// Grows (or truncates) to `n` slots; new slots are free.
    pub fn resize_free(&mut self, n: usize) {
        self.ends.resize(n, [FREE, 0]);
        match &mut self.rels {
            Rels::Uniform(_) => {}
            Rels::Narrow(v) => v.resize(n, 0),
            Rels::Wide(v) => v.resize(n, 0),
        }
    }

    /// Stores a live record in slot `s` (`s < len()`, `rec.src != FREE`), widening the type
    /// column if `rec.rel` does not fit it.
    pub fn set(&mut self, s: usize, rec: EdgeRec) {
        debug_assert!(rec.src != FREE && rec.rel != FREE && s < self.ends.len());
        self.ends[s] = [rec.src, rec.dst];
        let n = self.ends.len();
        match &mut self.rels {
            Rels::Uniform(t) if *t == rec.rel => {}
            Rels::Uniform(t) if *t == FREE => *t = rec.rel,
            Rels::Uniform(t) => {
                let old = *t;
                self.rels = match (u8::try_from(old), u8::try_from(rec.rel)) {
                    (Ok(a), Ok(b)) => {
                        let mut v = vec![a; n];
                        v[s] = b;
                        Rels::Narrow(v)
                    }
                    _ => {
                        let mut v = vec![old; n];
                        v[s] = rec.rel;
                        Rels::Wide(v)
                    }
                };
            }
            Rels::Narrow(v) => match u8::try_from(rec.rel) {
                Ok(b) => v[s] = b,
                Err(_) => {
                    let mut w: Vec<u32> = v.iter().map(|&t| u32::from(t)).collect();
                    w[s] = rec.rel;
                    self.rels = Rels::Wide(w);
                }
            },
            Rels::Wide(v) => v[s] = rec.rel,
        }
    }

    /// Frees slot `s`, returning its live record (None if it was free or out of range).
    pub fn free(&mut self, s: usize) -> Option<EdgeRec> {
        let rec = self.get(s)?;
        self.ends[s] = [FREE, 0];
        Some(rec)
    }

    /// Every slot in order: `Some` for a live one.
    pub fn iter(&self) -> impl Iterator<Item = Option<EdgeRec>> + '_ {
        (0..self.ends.len()).map(|s| self.get(s))
    }

    /// The live slots of type `t`, in order, with their records.
    pub fn of_type(&self, t: u32) -> impl Iterator<Item = (u32, EdgeRec)> + '_ {
        self.iter()
            .enumerate()
            .filter_map(move |(s, e)| e.filter(|e| e.rel == t).map(|e| (s as u32, e)))
    }

    /// Heap bytes held (by capacity).
    pub fn heap_size(&self) -> usize {
        self.ends.capacity() * 8
            + match &self.rels {
                Rels::Uniform(_) => 0,
                Rels::Narrow(v) => v.capacity(),
                Rels::Wide(v) => v.capacity() * 4,
            }
    }

    /// Gives back the spare capacity when it exceeds an eighth of the length (the doubling
    /// growth of a bulk load leaves up to half of it spare).
    pub fn shrink_slack(&mut self) {
        if self.ends.capacity() - self.ends.len() <= self.ends.len() / 8 {
            return;
        }
        self.ends.shrink_to_fit();
        match &mut self.rels {
            Rels::Uniform(_) => {}
            Rels::Narrow(v) => v.shrink_to_fit(),
            Rels::Wide(v) => v.shrink_to_fit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(src: u32, dst: u32, rel: u32) -> EdgeRec {
        EdgeRec { src, dst, rel }
    }

    #[test]
    fn widens_uniform_narrow_wide() {
        let mut t = EdgeTable::default();
        t.resize_free(4);
        assert!(t.iter().all(|e| e.is_none()));
        t.set(0, rec(1, 2, 3));
        t.set(1, rec(2, 3, 3));
        assert!(matches!(t.rels, Rels::Uniform(3)));
        assert_eq!(t.heap_size(), t.ends.capacity() * 8);
        t.set(2, rec(0, 0, 7));
        assert!(matches!(t.rels, Rels::Narrow(_)));
        assert_eq!(t.rel(0), 3);
        assert_eq!(t.rel(2), 7);
        assert_eq!(t.rel(3), FREE);
        t.set(3, rec(5, 6, 300));
        assert!(matches!(t.rels, Rels::Wide(_)));
        assert_eq!(
            t.iter().map(|e| e.map(|e| e.rel)).collect::<Vec<_>>(),
            vec![Some(3), Some(3), Some(7), Some(300)]
        );
        assert_eq!(t.free(1).map(|e| (e.src, e.dst)), Some((2, 3)));
        assert_eq!(t.free(1).map(|e| e.src), None);
        assert_eq!(t.rel(1), FREE);
        assert_eq!(t.get(9).map(|e| e.src), None);
        t.push_free();
        assert_eq!((t.len(), t.rel(4)), (5, FREE));
        assert_eq!(t.of_type(3).map(|(s, _)| s).collect::<Vec<_>>(), vec![0]);
        t.shrink_slack();
        assert_eq!(t.get(3).map(|e| (e.src, e.dst, e.rel)), Some((5, 6, 300)));
    }

    proptest! {
        /// Against a plain `Vec<Option<(src, dst, rel)>>` model.
        #[test]
        fn matches_a_plain_table(ops in proptest::collection::vec(
            (0usize..3, 0usize..40, 0u32..1000, 0u32..1000, prop_oneof![Just(0u32), Just(1), 0u32..300, 0u32..100_000]),
            1..200,
        )) {
            let mut t = EdgeTable::default();
            let mut m: Vec<Option<(u32, u32, u32)>> = Vec::new();
            for (op, s, src, dst, rel) in ops {
                match op {
                    0 => {
                        t.push_free();
                        m.push(None);
                    }
                    1 if s < m.len() => {
                        t.set(s, rec(src, dst, rel));
                        m[s] = Some((src, dst, rel));
                    }
                    2 if s < m.len() => {
                        let got = t.free(s).map(|e| (e.src, e.dst, e.rel));
                        prop_assert_eq!(got, m[s].take());
                    }
                    _ => {}
                }
                prop_assert_eq!(t.len(), m.len());
            }
            let got: Vec<_> = t.iter().map(|e| e.map(|e| (e.src, e.dst, e.rel))).collect();
            prop_assert_eq!(&got, &m);
            for (s, e) in m.iter().enumerate() {
                prop_assert_eq!(t.rel(s), e.map_or(FREE, |e| e.2));
            }
        }
    }
}
