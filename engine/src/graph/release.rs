//! Giving freed heap memory back to the OS after graph work that churned a lot of it.
//!
//! glibc's malloc keeps what a thread frees inside its arena for reuse; only memory at the top
//! of an arena, or in chunks big enough to have been mmapped, goes back by itself. A bulk-load
//! query (a 10,000-row `UNWIND $rows ... CREATE`) allocates and frees megabytes of transients
//! (the parsed parameter list, rows, the client's read buffer), and a finished compaction frees
//! the old CSR and deltas, scattered through the arena between the graph's own allocations, so
//! the process's RSS stays above its live memory. `malloc_trim(0)` returns every free page of
//! every arena (madvise), which costs a walk of the free lists and later page faults when the
//! pages are reused: it runs only after a write query that changed at least [`BIG_WRITE`]
//! entities or carried [`BIG_TEXT`] bytes of query text (at the end of the server loop's
//! iteration, once that query's parameters, effect records and reply are freed:
//! `Shard::release_if_requested`), and when an idle compaction finishes, never after an
//! ordinary query. Elsewhere than Linux with glibc it does nothing.

/// Entities created or deleted by one query from which its transients are worth returning.
pub const BIG_WRITE: u64 = 4096;

/// Query text length (parameters included) from which its transients are worth returning.
pub const BIG_TEXT: usize = 256 * 1024;

/// Returns the free pages of every malloc arena to the OS.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` takes no pointer of ours; it walks glibc's own free lists under
    // each arena's lock and madvises pages that no live allocation uses.
    unsafe {
        libc::malloc_trim(0);
    }
}
