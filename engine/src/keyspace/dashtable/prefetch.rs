//! The one CPU hint the table uses: a software prefetch of a cache line. It never dereferences
//! the address and has no effect on program state, so any address (even dangling or null) is
//! acceptable; on targets without the instruction it compiles to nothing.

/// Ask the CPU to bring the cache line holding `addr` into L1.
#[inline(always)]
pub(crate) fn prefetch(addr: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 is part of SSE, which every x86_64 CPU has; it is a hint that never
    // faults and never reads memory architecturally, whatever the address.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
