//! Portable scalar kernels: the reference every SIMD kernel is tested against.
//!
//! Written with eight independent accumulators so that LLVM can vectorise them on any target
//! (the baseline SSE2 on x86-64, NEON on aarch64) without `unsafe`.

const LANES: usize = 8;

/// Squared Euclidean distance over the common prefix of `a` and `b`.
pub fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let d = x - y;
        sum += d * d;
    }
    sum
}

/// Rows are checked against the bound every `BOUND_STEP` elements.
pub const BOUND_STEP: usize = 64;

/// Squared Euclidean distance with early exit once the partial sum exceeds `bound`.
pub fn l2sq_bounded(a: &[f32], b: &[f32], bound: f32) -> f32 {
    let n = a.len().min(b.len());
    let mut sum = 0f32;
    let mut at = 0;
    while at < n {
        let end = (at + BOUND_STEP).min(n);
        sum += l2sq(&a[at..end], &b[at..end]);
        if sum > bound {
            return sum;
        }
        at = end;
    }
    sum
}

/// Inner product over the common prefix of `a` and `b`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        sum += x * y;
    }
    sum
}

/// TurboQuant 4-bit asymmetric dot product (blocked nibble layout, see [`super::Tq4Kernel`]).
pub fn tq4_dot(codes: &[u8], query: &[f32], cb: &[f32; 16]) -> f32 {
    debug_assert_eq!(query.len(), codes.len() * 2);
    debug_assert_eq!(query.len() % 16, 0);
    let mut lo_acc = 0f32;
    let mut hi_acc = 0f32;
    for (block, q) in codes.chunks_exact(8).zip(query.chunks_exact(16)) {
        for j in 0..8 {
            let byte = block[j];
            lo_acc += q[j] * cb[(byte & 15) as usize];
            hi_acc += q[j + 8] * cb[(byte >> 4) as usize];
        }
    }
    lo_acc + hi_acc
}
