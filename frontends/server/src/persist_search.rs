//! Server side of persisted FT index contents (SPEC §8.2 section 4, §3.7 "Persistence"):
//! encoding them at a snapshot's start (timed: it pauses the shard) and logging what recovery
//! did with them. The engine owns the format and the reconciliation (`search::contents`).

use moon_engine::persist::recover::RecoveryReport;
use moon_engine::shard::Shard;

/// Encodes every index's contents at the snapshot's instant (right after `snapshot_begin`).
pub(crate) fn encode_contents(shard_id: usize, shard: &mut Shard) {
    let started = std::time::Instant::now();
    let bytes = shard.snapshot_search_contents();
    if bytes > 0 {
        tracing::info!(
            shard = shard_id,
            bytes,
            ms = started.elapsed().as_millis() as u64,
            "encoded FT index contents for the snapshot"
        );
    }
}

/// Logs the FT index contents recovery restored (info) or could not use (warning: the index
/// is rebuilt by a background scan instead).
pub(crate) fn log_recovery(shard_id: usize, report: &RecoveryReport) {
    for line in &report.search_restored {
        tracing::info!(shard = shard_id, "{line}");
    }
    for line in &report.search_fallback {
        tracing::warn!(shard = shard_id, "FT index contents not used: {line}");
    }
}
