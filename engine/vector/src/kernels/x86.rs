//! x86-64 SIMD kernels: AVX2+FMA and AVX-512F.
//!
//! The only module of the crate that uses `unsafe`: unaligned vector loads from slices whose
//! bounds were checked just before (a sub-slice of exactly the loaded width is taken first, so
//! the pointer is in bounds by construction), the prefetch hint, and calling
//! `#[target_feature]` functions from the entry wrappers. The entry wrappers are private and
//! are only placed in a [`Kernels`] table by [`detected`], after `is_x86_feature_detected!`
//! confirmed the features, which is what makes calling them sound.
#![allow(unsafe_code)]

use super::{Kernels, scalar};
use core::arch::x86_64::*;

/// Kernel tables this CPU supports, slowest first.
pub(super) fn detected() -> Vec<&'static Kernels> {
    let mut out: Vec<&'static Kernels> = Vec::new();
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        out.push(&AVX2);
        if is_x86_feature_detected!("avx512f") {
            out.push(&AVX512);
        }
    }
    out
}

static AVX2: Kernels = Kernels {
    name: "avx2+fma",
    l2sq: l2sq_avx2_entry,
    l2sq_bounded: l2sq_bounded_avx2_entry,
    dot: dot_avx2_entry,
    tq4_dot: tq4_dot_avx2_entry,
};

static AVX512: Kernels = Kernels {
    name: "avx512f",
    l2sq: l2sq_avx512_entry,
    l2sq_bounded: l2sq_bounded_avx2_entry,
    dot: dot_avx512_entry,
    tq4_dot: tq4_dot_avx2_entry,
};

/// Prefetch hint for the line holding `data[0]`.
#[inline(always)]
pub(super) fn prefetch<T>(data: &[T]) {
    // SAFETY: `prefetch` is a hint that never faults, even on an invalid address; SSE is part
    // of the x86-64 baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(data.as_ptr().cast::<i8>()) }
}

fn l2sq_avx2_entry(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: only reachable through `AVX2`/`AVX512`, installed after detecting avx2 and fma.
    unsafe { l2sq_avx2(a, b) }
}

fn l2sq_bounded_avx2_entry(a: &[f32], b: &[f32], bound: f32) -> f32 {
    // SAFETY: only reachable through `AVX2`/`AVX512`, installed after detecting avx2 and fma.
    unsafe { l2sq_bounded_avx2(a, b, bound) }
}

fn dot_avx2_entry(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: only reachable through `AVX2`/`AVX512`, installed after detecting avx2 and fma.
    unsafe { dot_avx2(a, b) }
}

fn tq4_dot_avx2_entry(codes: &[u8], q: &[f32], cb: &[f32; 16]) -> f32 {
    // SAFETY: only reachable through `AVX2`/`AVX512`, installed after detecting avx2 and fma.
    unsafe { tq4_dot_avx2(codes, q, cb) }
}

fn l2sq_avx512_entry(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: only reachable through `AVX512`, installed after detecting avx512f.
    unsafe { l2sq_avx512(a, b) }
}

fn dot_avx512_entry(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: only reachable through `AVX512`, installed after detecting avx512f.
    unsafe { dot_avx512(a, b) }
}

#[inline(always)]
fn load8(s: &[f32], at: usize) -> __m256 {
    let s = &s[at..at + 8];
    // SAFETY: `s` has exactly 8 elements (the slice above is bounds-checked); unaligned load.
    unsafe { _mm256_loadu_ps(s.as_ptr()) }
}

#[inline(always)]
fn load16(s: &[f32], at: usize) -> __m512 {
    let s = &s[at..at + 16];
    // SAFETY: `s` has exactly 16 elements (the slice above is bounds-checked); unaligned load.
    unsafe { _mm512_loadu_ps(s.as_ptr()) }
}

#[target_feature(enable = "avx2,fma")]
fn hsum256(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

#[target_feature(enable = "avx2,fma")]
fn l2sq_avx2(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        let d0 = _mm256_sub_ps(load8(a, i), load8(b, i));
        let d1 = _mm256_sub_ps(load8(a, i + 8), load8(b, i + 8));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        i += 16;
    }
    if i + 8 <= n {
        let d0 = _mm256_sub_ps(load8(a, i), load8(b, i));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        i += 8;
    }
    let mut sum = hsum256(_mm256_add_ps(acc0, acc1));
    sum += scalar::l2sq(&a[i..n], &b[i..n]);
    sum
}

#[target_feature(enable = "avx2,fma")]
fn l2sq_bounded_avx2(a: &[f32], b: &[f32], bound: f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + scalar::BOUND_STEP <= n {
        let end = i + scalar::BOUND_STEP;
        while i < end {
            let d0 = _mm256_sub_ps(load8(a, i), load8(b, i));
            let d1 = _mm256_sub_ps(load8(a, i + 8), load8(b, i + 8));
            acc0 = _mm256_fmadd_ps(d0, d0, acc0);
            acc1 = _mm256_fmadd_ps(d1, d1, acc1);
            i += 16;
        }
        let partial = hsum256(_mm256_add_ps(acc0, acc1));
        if partial > bound {
            return partial;
        }
    }
    hsum256(_mm256_add_ps(acc0, acc1)) + l2sq_avx2(&a[i..n], &b[i..n])
}

#[target_feature(enable = "avx2,fma")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        acc0 = _mm256_fmadd_ps(load8(a, i), load8(b, i), acc0);
        acc1 = _mm256_fmadd_ps(load8(a, i + 8), load8(b, i + 8), acc1);
        i += 16;
    }
    if i + 8 <= n {
        acc0 = _mm256_fmadd_ps(load8(a, i), load8(b, i), acc0);
        i += 8;
    }
    let mut sum = hsum256(_mm256_add_ps(acc0, acc1));
    sum += scalar::dot(&a[i..n], &b[i..n]);
    sum
}

#[target_feature(enable = "avx2,fma")]
fn tq4_dot_avx2(codes: &[u8], q: &[f32], cb: &[f32; 16]) -> f32 {
    debug_assert_eq!(q.len(), codes.len() * 2);
    debug_assert_eq!(q.len() % 16, 0);
    let cb_lo = load8(cb, 0);
    let cb_hi = load8(cb, 8);
    let mask = _mm256_set1_epi32(15);
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    for (block, qb) in codes.chunks_exact(8).zip(q.chunks_exact(16)) {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(block);
        let bytes = _mm_cvtsi64_si128(i64::from_le_bytes(raw));
        let v = _mm256_cvtepu8_epi32(bytes);
        let lo = _mm256_and_si256(v, mask);
        let hi = _mm256_srli_epi32::<4>(v);
        // permutevar8x32 uses the low 3 bits; bit 3 (moved to the sign bit) picks the half.
        let vlo = _mm256_blendv_ps(
            _mm256_permutevar8x32_ps(cb_lo, lo),
            _mm256_permutevar8x32_ps(cb_hi, lo),
            _mm256_castsi256_ps(_mm256_slli_epi32::<28>(lo)),
        );
        let vhi = _mm256_blendv_ps(
            _mm256_permutevar8x32_ps(cb_lo, hi),
            _mm256_permutevar8x32_ps(cb_hi, hi),
            _mm256_castsi256_ps(_mm256_slli_epi32::<28>(hi)),
        );
        acc0 = _mm256_fmadd_ps(vlo, load8(qb, 0), acc0);
        acc1 = _mm256_fmadd_ps(vhi, load8(qb, 8), acc1);
    }
    hsum256(_mm256_add_ps(acc0, acc1))
}

#[target_feature(enable = "avx512f")]
fn l2sq_avx512(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        let d0 = _mm512_sub_ps(load16(a, i), load16(b, i));
        let d1 = _mm512_sub_ps(load16(a, i + 16), load16(b, i + 16));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
        i += 32;
    }
    if i + 16 <= n {
        let d0 = _mm512_sub_ps(load16(a, i), load16(b, i));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        i += 16;
    }
    let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    sum += scalar::l2sq(&a[i..n], &b[i..n]);
    sum
}

#[target_feature(enable = "avx512f")]
fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        acc0 = _mm512_fmadd_ps(load16(a, i), load16(b, i), acc0);
        acc1 = _mm512_fmadd_ps(load16(a, i + 16), load16(b, i + 16), acc1);
        i += 32;
    }
    if i + 16 <= n {
        acc0 = _mm512_fmadd_ps(load16(a, i), load16(b, i), acc0);
        i += 16;
    }
    let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    sum += scalar::dot(&a[i..n], &b[i..n]);
    sum
}
