//! Snapshot codec of a [`VectorIndex`]: versioned, little-endian, validated on decode.
//!
//! Layout (format version 1; every integer little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | `u16` format version = 1 |
//! | 2 | 1 | algorithm: 0 FLAT, 1 HNSW |
//! | 3 | 1 | data type: 0 FLOAT32, 1 FLOAT16, 2 BFLOAT16 |
//! | 4 | 1 | metric: 0 L2, 1 IP, 2 COSINE |
//! | 5 | 1 | quantization bits: 0 none, or 1, 2, 4, 8 |
//! | 6 | 1 | flags: bit 0 = graph present (HNSW links follow each slot), bit 1 = EF_RUNTIME automatic |
//! | 7 | 1 | reserved, 0 |
//! | 8 | 4 | dim |
//! | 12 | 4 | M |
//! | 16 | 4 | EF_CONSTRUCTION |
//! | 20 | 4 | EF_RUNTIME |
//! | 24 | 4 | `f32` EPSILON |
//! | 28 | 4 | RERANK |
//! | 32 | 4 | `f32` brute-force ratio |
//! | 36 | 8 | seed |
//! | 44 | 8 | level RNG state (HNSW; continues the level sequence) |
//! | 52 | 4 | slot count `n` |
//! | 56 | 4 | entry slot (`u32::MAX` = none; graph only) |
//! | 60 | 1 | max level (graph only) |
//! | 61 | … | `n` slot records |
//!
//! Slot record: `u32` doc id, `u8` flags (bit 0 = deleted), `u8` level, `dim` × `f32` vector
//! (metric-prepared: unit length for COSINE); then, when the graph is present, for each level
//! `0..=level`: `u16` count and `count` × `u32` link targets.
//!
//! Without the graph only live slots are written (flags and level 0) and decoding inserts them
//! again (the rebuild path). TurboQuant codes are never stored: they are recomputed from the
//! vectors (same seed, same codes). Disk-resident vector files are not part of the snapshot.
//!
//! Validation: every enum value, parameter range, count and link target (`< n`, not the slot
//! itself, at most `2M` / `M` per list), live levels ≤ max level ≤ 31, unique live ids, entry live and
//! on the top level, and lengths against the remaining bytes before any allocation. Errors
//! carry the byte offset where decoding stopped; arbitrary bytes never panic.

use crate::blob::ElementType;
use crate::distance::Metric;
use crate::hnsw::MAX_LEVEL;
use crate::index::{Algorithm, Inner, VectorError, VectorIndex, VectorParams};
use std::collections::HashSet;
use std::path::PathBuf;
use thiserror::Error;

/// Current snapshot format version.
pub const FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 61;
const NO_ENTRY: u32 = u32::MAX;

/// A snapshot that cannot be decoded; `offset` is where the problem was found.
#[derive(Debug, Error, PartialEq)]
#[error("vector index snapshot: {reason} at byte {offset}")]
pub struct DecodeError {
    /// Byte offset in the payload.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Result<T, DecodeError> {
        Err(DecodeError {
            offset: self.pos,
            reason: reason.into(),
        })
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.buf.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) if self.pos.checked_add(n).is_some() => {
                self.pos += n;
                Ok(s)
            }
            _ => self.err(format!("truncated: need {n} bytes")),
        }
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn f32(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
}

impl VectorIndex {
    /// Appends the snapshot payload (with the HNSW graph) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.encode_impl(out, true);
    }

    /// Appends a payload holding only the live vectors: smaller, but decoding rebuilds the
    /// graph (see SPEC.md §9.4 for the trade-off).
    pub fn encode_without_graph(&self, out: &mut Vec<u8>) {
        self.encode_impl(out, false);
    }

    fn encode_impl(&self, out: &mut Vec<u8>, with_graph: bool) {
        let p = &self.params;
        let hnsw = self.as_hnsw();
        let graph = with_graph && hnsw.is_some();
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(match p.algorithm {
            Algorithm::Flat => 0,
            Algorithm::Hnsw => 1,
        });
        out.push(p.data_type.code());
        out.push(p.metric.code());
        out.push(p.quant_bits.unwrap_or(0));
        out.push(graph as u8 | (u8::from(p.ef_runtime_auto) << 1));
        out.push(0);
        for v in [p.dim, p.m, p.ef_construction, p.ef_runtime] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        out.extend_from_slice(&p.epsilon.to_le_bytes());
        out.extend_from_slice(&(p.rerank.min(u32::MAX as usize) as u32).to_le_bytes());
        out.extend_from_slice(&p.brute_force_ratio.to_le_bytes());
        out.extend_from_slice(&p.seed.to_le_bytes());
        out.extend_from_slice(&hnsw.map_or(0, |h| h.rng.state()).to_le_bytes());
        match (graph, hnsw) {
            (true, Some(h)) => {
                out.extend_from_slice(&(h.slots() as u32).to_le_bytes());
                out.extend_from_slice(&h.entry.unwrap_or(NO_ENTRY).to_le_bytes());
                out.push(h.max_level);
                for s in 0..h.slots() {
                    out.extend_from_slice(&h.slot_ids[s].to_le_bytes());
                    out.push(h.deleted[s] as u8);
                    out.push(h.levels[s]);
                    out.extend_from_slice(bytemuck::cast_slice(h.storage.exact(s)));
                    for l in 0..=h.levels[s] as usize {
                        let links = h.links(s as u32, l);
                        out.extend_from_slice(&(links.len() as u16).to_le_bytes());
                        for t in links.iter() {
                            out.extend_from_slice(&t.to_le_bytes());
                        }
                    }
                }
            }
            _ => {
                out.extend_from_slice(&(self.len() as u32).to_le_bytes());
                out.extend_from_slice(&NO_ENTRY.to_le_bytes());
                out.push(0);
                for (id, v) in self.entries() {
                    out.extend_from_slice(&id.to_le_bytes());
                    out.push(0);
                    out.push(0);
                    out.extend_from_slice(bytemuck::cast_slice(v));
                }
            }
        }
    }

    /// Decodes a payload written by [`VectorIndex::encode`] or
    /// [`VectorIndex::encode_without_graph`], keeping the full vectors in RAM.
    pub fn decode(bytes: &[u8]) -> Result<VectorIndex, DecodeError> {
        Self::decode_with(bytes, None)
    }

    /// [`VectorIndex::decode`] with the full vectors of a quantized index in a file at
    /// `disk_path` (ignored for unquantized indexes).
    pub fn decode_with(
        bytes: &[u8],
        disk_path: Option<PathBuf>,
    ) -> Result<VectorIndex, DecodeError> {
        let mut r = Reader { buf: bytes, pos: 0 };
        let version = r.u16()?;
        if version != FORMAT_VERSION {
            r.pos = 0;
            return r.err(format!("unsupported format version {version}"));
        }
        let algorithm = match r.u8()? {
            0 => Algorithm::Flat,
            1 => Algorithm::Hnsw,
            a => return r.err(format!("bad algorithm {a}")),
        };
        let Some(data_type) = ElementType::from_code(r.u8()?) else {
            return r.err("bad data type");
        };
        let Some(metric) = Metric::from_code(r.u8()?) else {
            return r.err("bad metric");
        };
        let quant_bits = match r.u8()? {
            0 => None,
            b => Some(b),
        };
        let flags = r.u8()?;
        let graph = flags & 1 == 1;
        let ef_runtime_auto = flags & 2 == 2;
        if flags & !3 != 0 || r.u8()? != 0 {
            return r.err("bad flags");
        }
        let dim = r.u32()? as usize;
        let m = r.u32()? as usize;
        let ef_construction = r.u32()? as usize;
        let ef_runtime = r.u32()? as usize;
        let epsilon = r.f32()?;
        let rerank = r.u32()? as usize;
        let brute_force_ratio = r.f32()?;
        let seed = r.u64()?;
        let rng_state = r.u64()?;
        debug_assert_eq!(r.pos, 52);
        let n = r.u32()? as usize;
        let entry = r.u32()?;
        let max_level = r.u8()?;
        debug_assert_eq!(r.pos, HEADER_LEN);
        let disk_path = if quant_bits.is_some() {
            disk_path
        } else {
            None
        };
        let params = VectorParams {
            algorithm,
            data_type,
            dim,
            metric,
            m,
            ef_construction,
            ef_runtime,
            ef_runtime_auto,
            epsilon,
            initial_cap: 0,
            quant_bits,
            rerank,
            disk_path,
            brute_force_ratio,
            seed,
        };
        let mut index = match VectorIndex::new(params) {
            Ok(i) => i,
            Err(VectorError::Io(e)) => {
                return Err(DecodeError {
                    offset: 0,
                    reason: format!("vector file: {e}"),
                });
            }
            Err(e) => {
                return Err(DecodeError {
                    offset: 8,
                    reason: e.to_string(),
                });
            }
        };
        if graph && algorithm != Algorithm::Hnsw {
            return Err(DecodeError {
                offset: 6,
                reason: "graph flag on a FLAT index".into(),
            });
        }
        if max_level > MAX_LEVEL {
            return Err(DecodeError {
                offset: 60,
                reason: "max level too high".into(),
            });
        }
        // The smallest record is id + flags + level + vector (+ one u16 count with a graph).
        let min_record = 6 + dim * 4 + if graph { 2 } else { 0 };
        if n.checked_mul(min_record)
            .is_none_or(|need| need > r.remaining())
        {
            return r.err(format!("{n} slots cannot fit in {} bytes", r.remaining()));
        }
        let mut vector = vec![0f32; dim];
        let mut seen = HashSet::with_capacity(n);
        let mut pending_links: Vec<(u32, usize, usize, usize)> = Vec::new(); // slot, level, offset in buf, count
        let mut links_buf: Vec<u32> = Vec::new();
        let mut live = 0usize;
        for slot in 0..n {
            let record_at = r.pos;
            let id = r.u32()?;
            let flags = r.u8()?;
            let level = r.u8()?;
            let deleted = flags & 1 == 1;
            if flags & !1 != 0 || (!graph && (flags != 0 || level != 0)) {
                return Err(DecodeError {
                    offset: record_at + 4,
                    reason: "bad slot flags or level".into(),
                });
            }
            // Deleted slots may sit above the current top (their entry role passed on).
            if level > MAX_LEVEL || (!deleted && level > max_level) {
                return Err(DecodeError {
                    offset: record_at + 5,
                    reason: "slot level above max level".into(),
                });
            }
            for x in vector.iter_mut() {
                *x = r.f32()?;
            }
            if !deleted {
                if !seen.insert(id) {
                    return Err(DecodeError {
                        offset: record_at,
                        reason: format!("duplicate doc id {id}"),
                    });
                }
                live += 1;
            }
            if graph {
                for l in 0..=level as usize {
                    let count_at = r.pos;
                    let count = r.u16()? as usize;
                    let cap = if l == 0 { 2 * m } else { m };
                    if count > cap {
                        return Err(DecodeError {
                            offset: count_at,
                            reason: format!("{count} links > {cap}"),
                        });
                    }
                    let start = links_buf.len();
                    for _ in 0..count {
                        let t = r.u32()?;
                        if t as usize >= n || t as usize == slot {
                            return Err(DecodeError {
                                offset: r.pos - 4,
                                reason: format!("bad link target {t}"),
                            });
                        }
                        links_buf.push(t);
                    }
                    pending_links.push((slot as u32, l, start, count));
                }
            }
            let res = match &mut index.inner {
                Inner::Hnsw(h) if graph => h.restore_slot(id, deleted, level, &vector).map(|_| ()),
                _ => index.insert_prepared(id, &vector).map_err(|e| match e {
                    VectorError::Io(e) => e,
                    other => std::io::Error::other(other.to_string()),
                }),
            };
            if let Err(e) = res {
                return Err(DecodeError {
                    offset: record_at,
                    reason: format!("vector file: {e}"),
                });
            }
        }
        if r.remaining() != 0 {
            return r.err("trailing bytes");
        }
        if let Inner::Hnsw(h) = &mut index.inner {
            if graph {
                for (slot, level, start, count) in pending_links {
                    h.restore_links(slot, level, &links_buf[start..start + count]);
                }
                let entry = if entry == NO_ENTRY { None } else { Some(entry) };
                let entry_ok = match entry {
                    None => live == 0,
                    Some(e) => {
                        (e as usize) < n
                            && !h.deleted[e as usize]
                            && h.levels[e as usize] == max_level
                    }
                };
                if !entry_ok {
                    return Err(DecodeError {
                        offset: 56,
                        reason: "bad entry point".into(),
                    });
                }
                h.restore_finish(entry, max_level, rng_state);
                debug_assert!(h.check_invariants().is_ok());
            } else if entry != NO_ENTRY || max_level != 0 {
                return Err(DecodeError {
                    offset: 56,
                    reason: "entry without graph".into(),
                });
            }
        } else if entry != NO_ENTRY || max_level != 0 {
            return Err(DecodeError {
                offset: 56,
                reason: "entry on a FLAT index".into(),
            });
        }
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::VectorParams;
    use proptest::prelude::*;

    fn small_index(
        algorithm: Algorithm,
        quant: Option<u8>,
        ops: &[(u32, bool, [i8; 4])],
    ) -> VectorIndex {
        let mut p = VectorParams::hnsw(4, Metric::L2);
        p.algorithm = algorithm;
        p.quant_bits = quant;
        p.m = 4;
        p.ef_construction = 16;
        let mut idx = VectorIndex::new(p).unwrap();
        for &(id, remove, v) in ops {
            if remove {
                idx.remove(id % 16);
            } else {
                let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                idx.insert(id % 16, &v).unwrap();
            }
        }
        idx
    }

    fn algorithm() -> impl Strategy<Value = Algorithm> {
        prop_oneof![Just(Algorithm::Flat), Just(Algorithm::Hnsw)]
    }

    fn quant() -> impl Strategy<Value = Option<u8>> {
        prop_oneof![
            Just(None),
            Just(Some(1u8)),
            Just(Some(4u8)),
            Just(Some(8u8))
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn round_trip(alg in algorithm(), q in quant(),
                      ops in proptest::collection::vec((0u32..40, proptest::bool::weighted(0.3), any::<[i8; 4]>()), 0..60)) {
            let idx = small_index(alg, q, &ops);
            let mut buf = Vec::new();
            idx.encode(&mut buf);
            let back = VectorIndex::decode(&buf).unwrap();
            let mut again = Vec::new();
            back.encode(&mut again);
            prop_assert_eq!(&again, &buf);
            prop_assert_eq!(back.len(), idx.len());
            if let Some(h) = back.as_hnsw() { prop_assert!(h.check_invariants().is_ok()); }
            let query = [1.0f32, -2.0, 3.0, 0.5];
            prop_assert_eq!(back.knn(&query, 5, Some(20), None).unwrap(), idx.knn(&query, 5, Some(20), None).unwrap());
            // The vectors-only payload decodes to the same live set.
            let mut slim = Vec::new();
            idx.encode_without_graph(&mut slim);
            let rebuilt = VectorIndex::decode(&slim).unwrap();
            let mut a: Vec<u32> = idx.entries().map(|e| e.0).collect();
            let mut b: Vec<u32> = rebuilt.entries().map(|e| e.0).collect();
            a.sort_unstable();
            b.sort_unstable();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = VectorIndex::decode(&bytes);
        }

        #[test]
        fn mutated_snapshots_never_panic(alg in algorithm(),
                                         ops in proptest::collection::vec((0u32..40, proptest::bool::weighted(0.3), any::<[i8; 4]>()), 1..30),
                                         flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                                         cut in any::<usize>()) {
            let idx = small_index(alg, None, &ops);
            let mut buf = Vec::new();
            idx.encode(&mut buf);
            for (at, x) in flips {
                let i = at % buf.len();
                buf[i] ^= x;
            }
            let cut = cut % (buf.len() + 1);
            if let Ok(back) = VectorIndex::decode(&buf[..cut]) {
                if let Some(h) = back.as_hnsw() { prop_assert!(h.check_invariants().is_ok()); }
                let _ = back.knn(&[0.0; 4], 3, None, None);
            }
        }
    }

    /// A payload written by hand from the documented layout (SPEC.md §9.4) decodes.
    #[test]
    fn documented_layout_decodes() {
        let mut b = Vec::new();
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&[1, 0, 2, 4, 1, 0]); // HNSW, FLOAT32, COSINE, TQ4, graph
        for v in [2u32, 4, 16, 10] {
            b.extend_from_slice(&v.to_le_bytes()); // dim, M, EF_CONSTRUCTION, EF_RUNTIME
        }
        b.extend_from_slice(&0.01f32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&0.05f32.to_le_bytes());
        b.extend_from_slice(&0x5EEDu64.to_le_bytes());
        b.extend_from_slice(&12345u64.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes()); // slots
        b.extend_from_slice(&2u32.to_le_bytes()); // entry
        b.push(1); // max level
        assert_eq!(b.len(), HEADER_LEN);
        let slot =
            |b: &mut Vec<u8>, id: u32, flags: u8, level: u8, v: [f32; 2], links: &[&[u32]]| {
                b.extend_from_slice(&id.to_le_bytes());
                b.extend_from_slice(&[flags, level]);
                b.extend_from_slice(&v[0].to_le_bytes());
                b.extend_from_slice(&v[1].to_le_bytes());
                for l in links {
                    b.extend_from_slice(&(l.len() as u16).to_le_bytes());
                    for t in *l {
                        b.extend_from_slice(&t.to_le_bytes());
                    }
                }
            };
        slot(&mut b, 1, 0, 0, [0.6, 0.8], &[&[1, 2]]);
        slot(&mut b, 2, 1, 0, [1.0, 0.0], &[&[0]]); // deleted
        slot(&mut b, 3, 0, 1, [0.0, 1.0], &[&[0], &[]]);
        let idx = VectorIndex::decode(&b).unwrap();
        assert_eq!(idx.len(), 2);
        assert!(!idx.contains(2));
        assert_eq!(idx.info().quantization, "TQ4");
        let got = idx.knn(&[0.0, 2.0], 2, None, None).unwrap();
        assert_eq!(got.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 1]);
        assert!(got[0].1.abs() < 1e-6 && (got[1].1 - 0.2).abs() < 1e-5);
        let mut again = Vec::new();
        idx.encode(&mut again);
        assert_eq!(again, b);
    }

    #[test]
    fn rejects_bad_headers_with_offsets() {
        let idx = small_index(
            Algorithm::Hnsw,
            None,
            &[(1, false, [1, 2, 3, 4]), (2, false, [0, 1, 0, 1])],
        );
        let mut buf = Vec::new();
        idx.encode(&mut buf);
        let mut bad = buf.clone();
        bad[0] = 9;
        assert_eq!(VectorIndex::decode(&bad).unwrap_err().offset, 0);
        let mut bad = buf.clone();
        bad[4] = 7; // metric
        assert_eq!(VectorIndex::decode(&bad).unwrap_err().offset, 5);
        let mut bad = buf.clone();
        bad[12] = 1; // M = 1
        assert!(VectorIndex::decode(&bad).is_err());
        let mut bad = buf.clone();
        bad.push(0);
        assert_eq!(VectorIndex::decode(&bad).unwrap_err().offset, buf.len());
        // Slot count larger than the payload can hold is refused before allocating.
        let mut bad = buf.clone();
        bad[52..56].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(VectorIndex::decode(&bad).unwrap_err().offset, HEADER_LEN);
    }
}
