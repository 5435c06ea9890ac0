//! TurboQuant (Zandieh et al., 2025): random rotation + per-coordinate Lloyd–Max scalar
//! quantization for a Gaussian, with asymmetric (query in f32, data in codes) distances.
//!
//! Encoding a vector `x` of dimension `d`:
//! 1. `u = R x / |x|` with `R` a seeded random orthogonal transform: `ROUNDS` rounds of
//!    random ±1 signs followed by a normalised fast Walsh–Hadamard transform. When `d` is not a
//!    power of two (384 = 256 + 128) each round applies the Hadamard of size `p` (largest power
//!    of two ≤ d) to the head `[0, p)` and, after fresh signs, to the tail `[d - p, d)`: both
//!    are orthogonal on R^d, so no padding (and no extra code bytes) is needed. After rotation
//!    the coordinates of any fixed unit vector are ≈ N(0, 1/d).
//! 2. `z = u * sqrt(d)` ≈ N(0, 1) is quantized coordinate by coordinate to the nearest centroid
//!    of the Lloyd–Max codebook for N(0, 1) at 1, 2, 4 or 8 bits (computed once per process by
//!    Lloyd iterations on the exact Gaussian density, tested against the classical tables).
//! 3. The norm `|x|` is stored beside the codes as an f32.
//!
//! Estimate: `<q, x> ≈ |x| * Σ_i (R q)_i / sqrt(d) * c[code_i]` — the query is rotated once per
//! search ([`TqQuantizer::prepare_query`]) and every code row then costs one pass with the
//! codebook held in registers (4 bits: two `vpermps` + a blend per 8 coordinates on AVX2).
//!
//! Code layout (row of `code_bytes()` bytes, coordinates padded with code 0 up to a multiple
//! of 16; the padded query coordinates are 0 so padding contributes nothing):
//! - 8 bits: one byte per coordinate;
//! - 4 bits: per block of 16 coordinates, byte `j` (0..8) = `code[j] | code[j + 8] << 4`;
//! - 2 and 1 bits: little-endian bit stream, coordinate `i` at bit `i * bits`.
//!
//! The QJL 1-bit residual correction of the paper is not implemented: its purpose is an
//! unbiased inner-product estimate, while here quantized scores only order candidates and the
//! final top-k is always reranked on exact f32 vectors.

use crate::kernels::Kernels;
use crate::rng::SplitMix64;
use std::sync::OnceLock;

/// Rounds of (signs, Hadamard) in the rotation.
const ROUNDS: usize = 3;

/// A Lloyd–Max codebook for N(0, 1).
#[derive(Debug, Clone)]
pub struct Codebook {
    /// Centroids, ascending.
    pub centroids: Vec<f32>,
    /// Decision thresholds between consecutive centroids (`centroids.len() - 1`).
    pub thresholds: Vec<f32>,
    /// Mean squared error of the quantizer on N(0, 1).
    pub mse: f64,
}

impl Codebook {
    /// Index of the centroid nearest to `z`.
    #[inline]
    pub fn quantize(&self, z: f32) -> u8 {
        self.thresholds.partition_point(|&t| t < z) as u8
    }
}

/// The Lloyd–Max codebook for N(0, 1) at `bits` ∈ {1, 2, 4, 8} (other values give `None`).
pub fn codebook(bits: u8) -> Option<&'static Codebook> {
    static BOOKS: [OnceLock<Codebook>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let slot = match bits {
        1 => 0,
        2 => 1,
        4 => 2,
        8 => 3,
        _ => return None,
    };
    Some(BOOKS[slot].get_or_init(|| lloyd_max_gaussian(1usize << bits)))
}

/// Lloyd's algorithm on the N(0, 1) density, integrated on a fine grid over [-12, 12].
fn lloyd_max_gaussian(levels: usize) -> Codebook {
    const N: usize = 1 << 17;
    const LIM: f64 = 12.0;
    let h = 2.0 * LIM / N as f64;
    // Prefix sums of mass, first and second moments, grid cell i = [-LIM + i h, -LIM + (i+1) h).
    let mut p = vec![0f64; N + 1];
    let mut m1 = vec![0f64; N + 1];
    let mut m2 = vec![0f64; N + 1];
    let norm = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    for i in 0..N {
        let x = -LIM + (i as f64 + 0.5) * h;
        let w = norm * (-0.5 * x * x).exp() * h;
        p[i + 1] = p[i] + w;
        m1[i + 1] = m1[i] + w * x;
        m2[i + 1] = m2[i] + w * x * x;
    }
    let cell = |t: f64| (((t + LIM) / h).round().max(0.0) as usize).min(N);
    // Start from the high-resolution optimum (point density ∝ pdf^(1/3), i.e. the quantiles
    // of N(0, 3)): Lloyd from there converges in a few hundred iterations even at 8 bits.
    let total = p[N];
    let mut c: Vec<f64> = (0..levels)
        .map(|i| {
            let target = (i as f64 + 0.5) / levels as f64 * total;
            let idx = p.partition_point(|&v| v < target).min(N);
            (-LIM + idx as f64 * h) * 3f64.sqrt()
        })
        .collect();
    let mut bounds = vec![0usize; levels + 1];
    for _ in 0..5000 {
        bounds[0] = 0;
        bounds[levels] = N;
        for i in 1..levels {
            bounds[i] = cell(0.5 * (c[i - 1] + c[i]));
        }
        let mut moved = 0f64;
        for i in 0..levels {
            let (a, b) = (bounds[i], bounds[i + 1]);
            let mass = p[b] - p[a];
            if mass > 0.0 {
                let nc = (m1[b] - m1[a]) / mass;
                moved = moved.max((nc - c[i]).abs());
                c[i] = nc;
            }
        }
        if moved < 1e-9 {
            break;
        }
    }
    // The optimum is symmetric; remove the asymmetry of the grid rounding.
    for i in 0..levels / 2 {
        let v = 0.5 * (c[levels - 1 - i] - c[i]);
        c[i] = -v;
        c[levels - 1 - i] = v;
    }
    let mut mse = 0f64;
    for i in 0..levels {
        let (a, b) = (bounds[i], bounds[i + 1]);
        mse += (m2[b] - m2[a]) - 2.0 * c[i] * (m1[b] - m1[a]) + c[i] * c[i] * (p[b] - p[a]);
    }
    Codebook {
        centroids: c.iter().map(|&v| v as f32).collect(),
        thresholds: c.windows(2).map(|w| (0.5 * (w[0] + w[1])) as f32).collect(),
        mse,
    }
}

/// In-place normalised fast Walsh–Hadamard transform; `v.len()` must be a power of two.
fn fwht(v: &mut [f32]) {
    let n = v.len();
    debug_assert!(n.is_power_of_two());
    let mut h = 1;
    while h < n {
        for block in v.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                let (s, t) = (*x + *y, *x - *y);
                *x = s;
                *y = t;
            }
        }
        h *= 2;
    }
    let scale = 1.0 / (n as f32).sqrt();
    v.iter_mut().for_each(|x| *x *= scale);
}

/// The seeded random orthogonal transform `R` (see the module doc).
#[derive(Debug, Clone)]
pub struct Rotation {
    dim: usize,
    pow2: usize,
    /// Per round: signs before the head transform, signs before the tail transform.
    signs: Vec<(Vec<f32>, Vec<f32>)>,
}

impl Rotation {
    /// The rotation for `dim` drawn from `seed`.
    pub fn new(dim: usize, seed: u64) -> Self {
        let pow2 = if dim == 0 {
            0
        } else {
            1usize << (usize::BITS - 1 - dim.leading_zeros())
        };
        let mut rng = SplitMix64::new(seed ^ 0x7457_5142_6f74_6174);
        let mut draw = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 })
                .collect()
        };
        let signs = (0..ROUNDS).map(|_| (draw(dim), draw(dim))).collect();
        Self { dim, pow2, signs }
    }

    /// `v <- R v` (`v.len() == dim`).
    pub fn apply(&self, v: &mut [f32]) {
        if v.len() != self.dim || self.dim == 0 {
            debug_assert!(v.len() == self.dim);
            return;
        }
        let (d, p) = (self.dim, self.pow2);
        for (head, tail) in &self.signs {
            v.iter_mut().zip(head).for_each(|(x, s)| *x *= s);
            fwht(&mut v[..p]);
            if p < d {
                v.iter_mut().zip(tail).for_each(|(x, s)| *x *= s);
                fwht(&mut v[d - p..]);
            }
        }
    }

    /// `v <- R^T v` (the inverse).
    pub fn apply_inverse(&self, v: &mut [f32]) {
        if v.len() != self.dim || self.dim == 0 {
            debug_assert!(v.len() == self.dim);
            return;
        }
        let (d, p) = (self.dim, self.pow2);
        for (head, tail) in self.signs.iter().rev() {
            if p < d {
                fwht(&mut v[d - p..]);
                v.iter_mut().zip(tail).for_each(|(x, s)| *x *= s);
            }
            fwht(&mut v[..p]);
            v.iter_mut().zip(head).for_each(|(x, s)| *x *= s);
        }
    }
}

/// A query prepared for asymmetric distances: `(R q) / sqrt(d)`, zero-padded to the code
/// dimension, and `|q|^2`.
#[derive(Debug, Clone)]
pub struct TqQuery {
    pub(crate) scaled: Vec<f32>,
    pub(crate) norm_sq: f32,
}

/// The quantizer of one index: rotation, codebook and code layout for a bit width.
#[derive(Debug, Clone)]
pub struct TqQuantizer {
    bits: u8,
    dim: usize,
    code_dim: usize,
    rotation: Rotation,
    book: &'static Codebook,
    /// The codebook as a 16-entry table for the 4-bit kernel.
    book16: [f32; 16],
}

impl TqQuantizer {
    /// A quantizer for `dim`-dimensional vectors at `bits` ∈ {1, 2, 4, 8}, rotation from `seed`.
    pub fn new(bits: u8, dim: usize, seed: u64) -> Option<Self> {
        let book = codebook(bits)?;
        let mut book16 = [0f32; 16];
        for (dst, &c) in book16.iter_mut().zip(&book.centroids) {
            *dst = c;
        }
        Some(Self {
            bits,
            dim,
            code_dim: dim.div_ceil(16) * 16,
            rotation: Rotation::new(dim, seed),
            book,
            book16,
        })
    }

    /// Bits per coordinate.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Bytes of one code row.
    pub fn code_bytes(&self) -> usize {
        self.code_dim * self.bits as usize / 8
    }

    /// Quantizes `x` into `out` (`code_bytes()` long); returns `|x|`.
    pub fn encode(&self, x: &[f32], out: &mut [u8]) -> f32 {
        debug_assert_eq!(out.len(), self.code_bytes());
        out.iter_mut().for_each(|b| *b = 0);
        let norm = x.iter().map(|v| v * v).sum::<f32>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) || x.len() != self.dim {
            return 0.0;
        }
        let mut u: Vec<f32> = x.to_vec();
        self.rotation.apply(&mut u);
        let scale = (self.dim as f32).sqrt() / norm;
        for (i, &v) in u.iter().enumerate() {
            let code = self.book.quantize(v * scale);
            self.put(out, i, code);
        }
        norm
    }

    fn put(&self, out: &mut [u8], i: usize, code: u8) {
        match self.bits {
            8 => out[i] = code,
            4 => {
                let (block, j) = (i / 16, i % 16);
                let byte = &mut out[block * 8 + (j & 7)];
                *byte |= if j < 8 { code & 15 } else { code << 4 };
            }
            b => {
                let bit = i * b as usize;
                out[bit / 8] |= code << (bit % 8);
            }
        }
    }

    fn get(&self, codes: &[u8], i: usize) -> u8 {
        match self.bits {
            8 => codes[i],
            4 => {
                let (block, j) = (i / 16, i % 16);
                let byte = codes[block * 8 + (j & 7)];
                if j < 8 { byte & 15 } else { byte >> 4 }
            }
            b => {
                let bit = i * b as usize;
                (codes[bit / 8] >> (bit % 8)) & ((1u8 << b) - 1)
            }
        }
    }

    /// Reconstructs the vector a code row stands for (tests, diagnostics).
    pub fn decode(&self, codes: &[u8], norm: f32) -> Vec<f32> {
        let scale = norm / (self.dim as f32).sqrt();
        let mut v: Vec<f32> = (0..self.dim)
            .map(|i| self.book.centroids[self.get(codes, i) as usize] * scale)
            .collect();
        self.rotation.apply_inverse(&mut v);
        v
    }

    /// Rotates and scales a query once for many [`TqQuantizer::dot`] calls.
    pub fn prepare_query(&self, q: &[f32]) -> TqQuery {
        let mut scaled = vec![0f32; self.code_dim];
        let n = q.len().min(self.dim);
        scaled[..n].copy_from_slice(&q[..n]);
        self.rotation.apply(&mut scaled[..self.dim]);
        let s = 1.0 / (self.dim.max(1) as f32).sqrt();
        scaled.iter_mut().for_each(|x| *x *= s);
        TqQuery {
            scaled,
            norm_sq: q.iter().map(|x| x * x).sum(),
        }
    }

    /// Estimate of `<q, x> / |x|` for the code row `codes` of `x`.
    #[inline]
    pub fn dot(&self, k: &Kernels, codes: &[u8], q: &TqQuery) -> f32 {
        let cb = &self.book.centroids;
        match self.bits {
            4 => (k.tq4_dot)(codes, &q.scaled, &self.book16),
            8 => codes
                .iter()
                .zip(&q.scaled)
                .map(|(&c, &x)| x * cb[c as usize])
                .sum(),
            2 => {
                let mut acc = 0f32;
                for (byte, qs) in codes.iter().zip(q.scaled.chunks_exact(4)) {
                    for (j, &x) in qs.iter().enumerate() {
                        acc += x * cb[((byte >> (2 * j)) & 3) as usize];
                    }
                }
                acc
            }
            _ => {
                // 1 bit: centroids are ±c, so the sum is c * (Σ_set x - Σ_clear x).
                let mut signed = 0f32;
                for (byte, qs) in codes.iter().zip(q.scaled.chunks_exact(8)) {
                    for (j, &x) in qs.iter().enumerate() {
                        signed += if (byte >> j) & 1 == 1 { x } else { -x };
                    }
                }
                signed * cb[1]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{available_kernels, kernels};

    #[test]
    fn codebooks_match_classical_lloyd_max_tables() {
        // Max (1960) / standard tables for N(0,1).
        let b1 = codebook(1).unwrap();
        assert!(
            (b1.centroids[1] - 0.7979).abs() < 1e-3,
            "{:?}",
            b1.centroids
        );
        assert!((b1.mse - 0.3634).abs() < 1e-3, "{}", b1.mse);
        let b2 = codebook(2).unwrap();
        assert!(
            (b2.centroids[2] - 0.4528).abs() < 2e-3,
            "{:?}",
            b2.centroids
        );
        assert!((b2.centroids[3] - 1.510).abs() < 2e-3, "{:?}", b2.centroids);
        assert!((b2.mse - 0.1175).abs() < 1e-3, "{}", b2.mse);
        let b4 = codebook(4).unwrap();
        assert!((b4.mse - 0.009497).abs() < 2e-4, "{}", b4.mse);
        assert!(
            (b4.centroids[15] - 2.733).abs() < 1e-2,
            "{:?}",
            b4.centroids
        );
        let b8 = codebook(8).unwrap();
        // Panter–Dite high-resolution approximation: (π√3/2) 2^-2b.
        let pd = std::f64::consts::PI * 3f64.sqrt() / 2.0 / 65536.0;
        assert!((b8.mse / pd - 1.0).abs() < 0.1, "{} vs {pd}", b8.mse);
        for b in [b1, b2, b4, b8] {
            assert!(b.centroids.windows(2).all(|w| w[0] < w[1]));
            // Symmetric around 0.
            let n = b.centroids.len();
            assert!((b.centroids[0] + b.centroids[n - 1]).abs() < 1e-4);
        }
        assert!(codebook(3).is_none());
    }

    #[test]
    fn rotation_is_orthogonal_and_spreads_mass() {
        for dim in [1usize, 2, 16, 100, 384, 385] {
            let r = Rotation::new(dim, 5);
            let mut rng = SplitMix64::new(dim as u64);
            let x: Vec<f32> = (0..dim).map(|_| rng.next_f32() - 0.5).collect();
            let mut y = x.clone();
            r.apply(&mut y);
            let nx: f32 = x.iter().map(|v| v * v).sum();
            let ny: f32 = y.iter().map(|v| v * v).sum();
            assert!((nx - ny).abs() < 1e-4 * nx.max(1.0), "dim {dim}");
            r.apply_inverse(&mut y);
            for (a, b) in x.iter().zip(&y) {
                assert!((a - b).abs() < 1e-5, "dim {dim}");
            }
        }
        // A one-hot vector ends up spread over all coordinates (≈ N(0, 1/d) each).
        let dim = 384;
        let r = Rotation::new(dim, 11);
        let mut e = vec![0f32; dim];
        e[3] = 1.0;
        r.apply(&mut e);
        let max = e.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(max < 5.0 / (dim as f32).sqrt(), "max coordinate {max}");
        // (Sums of ±1 entries may cancel exactly on a few coordinates.)
        let nonzero = e.iter().filter(|v| v.abs() > 1e-6).count();
        assert!(nonzero >= dim - 8, "{nonzero}");
    }

    #[test]
    fn distortion_and_dot_estimate_per_bit_width() {
        let dim = 128;
        let mut rng = SplitMix64::new(3);
        let mut prev_err = f32::INFINITY;
        for bits in [1u8, 2, 4, 8] {
            let tq = TqQuantizer::new(bits, dim, 77).unwrap();
            let mut codes = vec![0u8; tq.code_bytes()];
            let mut rel_err = 0f32;
            let mut dot_err = 0f32;
            for _ in 0..50 {
                let x: Vec<f32> = (0..dim).map(|_| rng.next_gaussian() as f32).collect();
                let q: Vec<f32> = (0..dim).map(|_| rng.next_gaussian() as f32).collect();
                let norm = tq.encode(&x, &mut codes);
                let xr = tq.decode(&codes, norm);
                let e: f32 = x.iter().zip(&xr).map(|(a, b)| (a - b) * (a - b)).sum();
                rel_err += e / (norm * norm);
                // The fast estimate equals <q, decoded x> (same arithmetic, other order).
                let pq = tq.prepare_query(&q);
                let est = norm * tq.dot(kernels(), &codes, &pq);
                let exact_dec: f32 = q.iter().zip(&xr).map(|(a, b)| a * b).sum();
                let nq = q.iter().map(|v| v * v).sum::<f32>().sqrt();
                dot_err = dot_err.max((est - exact_dec).abs() / (nq * norm));
                for k in available_kernels() {
                    let e2 = norm * tq.dot(k, &codes, &pq);
                    assert!((e2 - est).abs() < 1e-3 * (1.0 + est.abs()));
                }
            }
            rel_err /= 50.0;
            let expected = codebook(bits).unwrap().mse as f32;
            // Normalised MSE ≈ the scalar quantizer's MSE (rotation makes coordinates Gaussian).
            assert!(
                rel_err < expected * 1.3 + 1e-5 && rel_err > expected * 0.7,
                "bits {bits}: {rel_err} vs {expected}"
            );
            assert!(rel_err < prev_err);
            prev_err = rel_err;
            assert!(dot_err < 1e-4, "bits {bits}: {dot_err}");
        }
    }

    #[test]
    fn zero_and_wrong_length_vectors_encode_to_zero_norm() {
        let tq = TqQuantizer::new(4, 32, 1).unwrap();
        let mut codes = vec![0u8; tq.code_bytes()];
        assert_eq!(tq.encode(&[0.0; 32], &mut codes), 0.0);
        assert_eq!(tq.encode(&[1.0; 31], &mut codes), 0.0);
        assert_eq!(tq.code_bytes(), 16);
    }
}
