//! Per-slot vector storage shared by FLAT and HNSW: exact f32 rows (in memory or on disk) and,
//! optionally, TurboQuant codes + norms in memory.
//!
//! Slots are dense `u32` positions owned by the index; a slot's exact row, code row and norm
//! always describe the same (metric-prepared: unit length for COSINE) vector. Exact scores
//! follow [`Metric::score`]; quantized scores estimate the same values from the codes.

use crate::disk::DiskVectors;
use crate::distance::Metric;
use crate::kernels::{self, Kernels};
use crate::turboquant::{TqQuantizer, TqQuery};
use std::io;
use std::path::Path;

/// Where the exact f32 rows live.
#[derive(Debug)]
enum Exact {
    Memory(Vec<f32>),
    Disk(DiskVectors),
}

/// TurboQuant codes of every slot.
#[derive(Debug)]
struct Quant {
    tq: TqQuantizer,
    codes: Vec<u8>,
    norms: Vec<f32>,
}

/// Vector rows of one index.
#[derive(Debug)]
pub(crate) struct Storage {
    pub(crate) dim: usize,
    pub(crate) metric: Metric,
    pub(crate) k: &'static Kernels,
    exact: Exact,
    quant: Option<Quant>,
    slots: usize,
}

impl Storage {
    /// Storage with exact rows in memory, or in a file at `disk` (then `quant` should be set,
    /// otherwise every distance reads the file).
    pub(crate) fn new(
        dim: usize,
        metric: Metric,
        quant_bits: Option<u8>,
        seed: u64,
        disk: Option<&Path>,
    ) -> io::Result<Self> {
        let exact = match disk {
            Some(path) => Exact::Disk(DiskVectors::create(path, dim)?),
            None => Exact::Memory(Vec::new()),
        };
        let quant = match quant_bits {
            Some(bits) => Some(Quant {
                tq: TqQuantizer::new(bits, dim, seed)
                    .ok_or_else(|| io::Error::other("quantization bits must be 1, 2, 4 or 8"))?,
                codes: Vec::new(),
                norms: Vec::new(),
            }),
            None => None,
        };
        Ok(Self {
            dim,
            metric,
            k: kernels::kernels(),
            exact,
            quant,
            slots: 0,
        })
    }

    /// True when the exact rows live in a file.
    pub(crate) fn on_disk(&self) -> bool {
        matches!(self.exact, Exact::Disk(_))
    }

    /// Writes slot `slot` (at most one past the high-water mark); `v` is metric-prepared.
    pub(crate) fn set(&mut self, slot: usize, v: &[f32]) -> io::Result<()> {
        debug_assert_eq!(v.len(), self.dim);
        debug_assert!(slot <= self.slots);
        let dim = self.dim;
        match &mut self.exact {
            Exact::Memory(data) => {
                if slot == self.slots {
                    data.extend_from_slice(v);
                } else {
                    data[slot * dim..(slot + 1) * dim].copy_from_slice(v);
                }
            }
            Exact::Disk(d) => d.set(slot, v)?,
        }
        if let Some(q) = &mut self.quant {
            let cb = q.tq.code_bytes();
            if slot == self.slots {
                q.codes.resize((slot + 1) * cb, 0);
                q.norms.push(0.0);
            }
            q.norms[slot] = q.tq.encode(v, &mut q.codes[slot * cb..(slot + 1) * cb]);
        }
        self.slots = self.slots.max(slot + 1);
        Ok(())
    }

    /// Forgets every slot from `slots` on (FLAT shrinks after swap-remove).
    pub(crate) fn truncate(&mut self, slots: usize) {
        if slots >= self.slots {
            return;
        }
        if let Exact::Memory(data) = &mut self.exact {
            data.truncate(slots * self.dim);
        }
        if let Some(q) = &mut self.quant {
            q.codes.truncate(slots * q.tq.code_bytes());
            q.norms.truncate(slots);
        }
        self.slots = slots;
    }

    /// The exact (metric-prepared) row of `slot`.
    #[inline]
    pub(crate) fn exact(&self, slot: usize) -> &[f32] {
        match &self.exact {
            Exact::Memory(data) => data
                .get(slot * self.dim..(slot + 1) * self.dim)
                .unwrap_or(&[]),
            Exact::Disk(d) => d.get(slot),
        }
    }

    /// Prefetches the row the next distance will read.
    #[inline(always)]
    pub(crate) fn prefetch(&self, slot: usize, quant: bool) {
        match (&self.quant, quant) {
            (Some(q), true) => {
                let cb = q.tq.code_bytes();
                if let Some(row) = q.codes.get(slot * cb..) {
                    kernels::prefetch(row);
                }
            }
            _ => {
                if let Exact::Memory(data) = &self.exact
                    && let Some(row) = data.get(slot * self.dim..)
                {
                    kernels::prefetch(row);
                }
            }
        }
    }

    /// Prefetches every cache line of the row of `slot` (the next distance to compute: the
    /// rows are long, and pulling all their lines at once overlaps the misses).
    #[inline(always)]
    pub(crate) fn prefetch_full(&self, slot: usize, quant: bool) {
        let row: &[u8] = match (&self.quant, quant) {
            (Some(q), true) => {
                let cb = q.tq.code_bytes();
                q.codes.get(slot * cb..(slot + 1) * cb).unwrap_or(&[])
            }
            _ => match &self.exact {
                Exact::Memory(data) => bytemuck::cast_slice(
                    data.get(slot * self.dim..(slot + 1) * self.dim)
                        .unwrap_or(&[]),
                ),
                Exact::Disk(_) => &[],
            },
        };
        for line in row.chunks(64) {
            kernels::prefetch(line);
        }
    }

    /// Exact score between a prepared query and `slot`.
    #[inline]
    pub(crate) fn score(&self, q: &[f32], slot: usize) -> f32 {
        self.metric.score(self.k, q, self.exact(slot))
    }

    /// Exact score between a prepared query and `slot` when it is below `bound`; otherwise
    /// some value above `bound` (L2 stops summing early; other metrics compute it fully).
    #[inline]
    pub(crate) fn score_bounded(&self, q: &[f32], slot: usize, bound: f32) -> f32 {
        match self.metric {
            Metric::L2 => (self.k.l2sq_bounded)(q, self.exact(slot), bound),
            _ => self.score(q, slot),
        }
    }

    /// Exact score between two slots.
    #[inline]
    pub(crate) fn score_slots(&self, a: usize, b: usize) -> f32 {
        self.metric.score(self.k, self.exact(a), self.exact(b))
    }

    /// Prepares a (metric-prepared) query for quantized scores; `None` without quantization.
    pub(crate) fn quant_query(&self, q: &[f32]) -> Option<TqQuery> {
        self.quant.as_ref().map(|qz| qz.tq.prepare_query(q))
    }

    /// Quantized estimate of the score between a prepared query and `slot`.
    #[inline]
    pub(crate) fn score_quant(&self, q: &TqQuery, slot: usize) -> f32 {
        let Some(qz) = &self.quant else {
            return f32::INFINITY;
        };
        let cb = qz.tq.code_bytes();
        let (Some(codes), Some(&norm)) =
            (qz.codes.get(slot * cb..(slot + 1) * cb), qz.norms.get(slot))
        else {
            return f32::INFINITY;
        };
        let ip = norm * qz.tq.dot(self.k, codes, q);
        match self.metric {
            Metric::L2 => q.norm_sq + norm * norm - 2.0 * ip,
            Metric::Ip | Metric::Cosine => 1.0 - ip,
        }
    }

    /// Bytes held in RAM for `slots` rows (exact rows only when in memory).
    pub(crate) fn memory_bytes(&self) -> usize {
        let exact = match &self.exact {
            Exact::Memory(data) => data.capacity() * 4,
            Exact::Disk(_) => 0,
        };
        let quant = self
            .quant
            .as_ref()
            .map_or(0, |q| q.codes.capacity() + q.norms.capacity() * 4);
        exact + quant
    }

    /// Per-vector RAM bytes of the rows (exact row when in memory, codes + norm).
    pub(crate) fn bytes_per_vector(&self) -> usize {
        let exact = if self.on_disk() { 0 } else { self.dim * 4 };
        exact + self.quant.as_ref().map_or(0, |q| q.tq.code_bytes() + 4)
    }
}
