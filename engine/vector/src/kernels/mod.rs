//! Distance kernels and their runtime dispatch.
//!
//! Owns the table of kernel function pointers ([`Kernels`]): squared L2, dot product and the
//! TurboQuant 4-bit asymmetric dot. The best table for the running CPU (AVX-512F, AVX2+FMA,
//! scalar) is chosen once, on first use, and cached for the life of the process; every index
//! copies the `&'static Kernels` it was built with so the hot loops never re-check.
//!
//! Invariant: every kernel in every table computes the same mathematical function as the
//! scalar one (only the summation order differs), and none of them reads past the shorter of
//! its inputs — callers pass equal lengths (checked by `debug_assert!`), kernels never panic.

mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::sync::OnceLock;

/// Signature of the f32 kernels: `(a, b) -> value`.
pub type F32Kernel = fn(&[f32], &[f32]) -> f32;
/// Signature of the bounded L2 kernel: `(a, b, bound) -> value`.
///
/// Returns the exact squared distance when it is `<= bound`; otherwise some partial sum that
/// is already `> bound` (the sum of squares only grows, so the caller's "reject if ≥ bound"
/// decision is the same as with the full distance, while most of the row is never loaded).
pub type BoundedKernel = fn(&[f32], &[f32], f32) -> f32;
/// Signature of the TurboQuant 4-bit kernel: `(codes, rotated query, codebook) -> dot`.
///
/// `codes` uses the blocked nibble layout of [`crate::turboquant`]: for every block of 16
/// coordinates, byte `j` (0..8) holds coordinate `j` in its low nibble and `j + 8` in its high
/// nibble; `query.len() == 2 * codes.len()` and is a multiple of 16.
pub type Tq4Kernel = fn(&[u8], &[f32], &[f32; 16]) -> f32;

/// One set of kernels for one instruction set.
#[derive(Debug)]
pub struct Kernels {
    /// Instruction set name ("avx512f", "avx2+fma", "scalar").
    pub name: &'static str,
    /// Squared Euclidean distance.
    pub l2sq: F32Kernel,
    /// Squared Euclidean distance with early exit above a bound.
    pub l2sq_bounded: BoundedKernel,
    /// Inner product.
    pub dot: F32Kernel,
    /// TurboQuant 4-bit asymmetric inner product.
    pub tq4_dot: Tq4Kernel,
}

static SCALAR: Kernels = Kernels {
    name: "scalar",
    l2sq: scalar::l2sq,
    l2sq_bounded: scalar::l2sq_bounded,
    dot: scalar::dot,
    tq4_dot: scalar::tq4_dot,
};

/// The scalar reference kernels (every other table is tested against these).
pub fn scalar_kernels() -> &'static Kernels {
    &SCALAR
}

/// The fastest kernels this CPU supports, detected once.
pub fn kernels() -> &'static Kernels {
    static BEST: OnceLock<&'static Kernels> = OnceLock::new();
    BEST.get_or_init(|| available_kernels().last().copied().unwrap_or(&SCALAR))
}

/// Every kernel table usable on this CPU, slowest (scalar) first.
pub fn available_kernels() -> Vec<&'static Kernels> {
    #[allow(unused_mut)]
    let mut out: Vec<&'static Kernels> = vec![&SCALAR];
    #[cfg(target_arch = "x86_64")]
    out.extend(x86::detected());
    out
}

/// Hints the CPU to pull the cache line holding `data[0]` (no-op off x86-64).
#[inline(always)]
pub fn prefetch<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    x86::prefetch(data);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn close(a: f32, b: f32, scale: f32) -> bool {
        (a - b).abs() <= 1e-4 * scale.max(1.0)
    }

    #[test]
    fn every_kernel_matches_scalar_on_random_lengths() {
        let mut rng = SplitMix64::new(7);
        let tables = available_kernels();
        for len in (0..=1030).chain([1, 3, 7, 15, 17, 31, 33, 63, 65]) {
            let a: Vec<f32> = (0..len).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
            let b: Vec<f32> = (0..len).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
            let scale: f32 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x * y).abs() + (x - y) * (x - y))
                .sum();
            let l2 = scalar::l2sq(&a, &b);
            let ip = scalar::dot(&a, &b);
            // The plain sequential sums are the ground truth for the scalar kernel too.
            let l2_ref: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            let ip_ref: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!(close(l2, l2_ref, scale), "scalar l2 len {len}");
            assert!(close(ip, ip_ref, scale), "scalar dot len {len}");
            for k in &tables {
                assert!(
                    close((k.l2sq)(&a, &b), l2, scale),
                    "{} l2 len {len}",
                    k.name
                );
                assert!(
                    close((k.dot)(&a, &b), ip, scale),
                    "{} dot len {len}",
                    k.name
                );
            }
        }
    }

    #[test]
    fn bounded_l2_is_exact_below_the_bound_and_above_it_otherwise() {
        let mut rng = SplitMix64::new(8);
        for len in (0..=1030).step_by(7).chain([64, 128, 129, 384]) {
            let a: Vec<f32> = (0..len).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
            let b: Vec<f32> = (0..len).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
            let full = scalar::l2sq(&a, &b);
            for k in available_kernels() {
                for bound in [
                    f32::INFINITY,
                    full * 1.01 + 1e-3,
                    full * 0.5,
                    full * 0.1,
                    0.0,
                ] {
                    let got = (k.l2sq_bounded)(&a, &b, bound);
                    if full <= bound * 0.999 {
                        assert!(close(got, full, full), "{} len {len} bound {bound}", k.name);
                    } else if full > bound * 1.001 + 1e-4 {
                        assert!(
                            got > bound,
                            "{} len {len}: {got} <= {bound} (full {full})",
                            k.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn tq4_kernels_match_scalar() {
        let mut rng = SplitMix64::new(9);
        let mut cb = [0f32; 16];
        for (i, c) in cb.iter_mut().enumerate() {
            *c = i as f32 - 7.5;
        }
        for blocks in 0..=70 {
            let n = blocks * 16;
            let q: Vec<f32> = (0..n).map(|_| rng.next_f32() - 0.5).collect();
            let codes: Vec<u8> = (0..n / 2).map(|_| rng.next_u64() as u8).collect();
            // Reference straight from the documented layout.
            let mut want = 0f32;
            for b in 0..blocks {
                for j in 0..8 {
                    let byte = codes[b * 8 + j];
                    want += q[b * 16 + j] * cb[(byte & 15) as usize];
                    want += q[b * 16 + j + 8] * cb[(byte >> 4) as usize];
                }
            }
            let scale: f32 = q.iter().map(|x| x.abs() * 8.0).sum();
            for k in available_kernels() {
                assert!(
                    close((k.tq4_dot)(&codes, &q, &cb), want, scale),
                    "{} blocks {blocks}",
                    k.name
                );
            }
        }
    }

    #[test]
    fn dispatch_picks_the_last_available_table() {
        let best = kernels();
        assert_eq!(
            best.name,
            available_kernels()
                .last()
                .map(|k| k.name)
                .unwrap_or("scalar")
        );
    }
}
