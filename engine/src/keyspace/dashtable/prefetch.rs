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

/// Prefetch the first control group and bucket a lookup of `hash` in `table` probes: the
/// first stage of a batch's overlapped lookups in the data types' hashbrown indexes (see
/// `Table::prefetch` of hashes). hashbrown does not expose them, but its layout (bucket `i`'s
/// `T` ends `i` elements before the control bytes start) puts them at addresses computable
/// from any full bucket's. Only addresses are computed; a layout change would make the hint
/// useless, never unsound.
pub(crate) fn prefetch_probe<T>(table: &hashbrown::HashTable<T>, hash: u64) {
    let Some(first) = table.iter_buckets().next() else {
        return;
    };
    let Some(b) = table.get_bucket(first) else {
        return;
    };
    let size = std::mem::size_of::<T>();
    let pos = (hash as usize) & table.num_buckets().wrapping_sub(1);
    let ctrl = (b as *const T)
        .cast::<u8>()
        .wrapping_add((first + 1) * size);
    prefetch(ctrl.wrapping_add(pos));
    prefetch(ctrl.wrapping_sub((pos + 1) * size));
}
