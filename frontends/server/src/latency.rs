//! Latency measurement: the per-command latency [`Histogram`] (INFO latencystats, LATENCY
//! HISTOGRAM, the Prometheus exporter) and the LATENCY monitor's event log (LATENCY LATEST /
//! HISTORY / RESET / DOCTOR / GRAPH).
//!
//! Invariants:
//! - A histogram records microseconds into fixed buckets: exact for 0..=16 µs, then 8
//!   sub-buckets per power of two (12.5% relative precision). Every power of two is a bucket
//!   edge, so the power-of-two view Redis prints (`histogram_usec`) is exact.
//! - Recording is an index computation and one add on the shard's own thread; nothing is
//!   shared, so readers (INFO, LATENCY, Prometheus) take copies through `broadcast` and
//!   [`Histogram::merge`] them.
//! - The event log keeps, per event name, the latest sample and at most
//!   [`HISTORY_LEN`] samples (one per second, the worst of that second), as Redis does.

use std::collections::VecDeque;

use bytes::Bytes;
use moon_engine::ir::{OpError, Reply};
use moon_resp::codec::Proto;
use moon_resp::commands::OpsCmd;

/// Values above this are clamped into the last bucket (about 12 days).
const MAX_EXP: u32 = 40;
/// Sub-buckets per power of two.
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Exact buckets for small values (w = usec - 1 below this).
const LINEAR: u64 = 16;
/// log2(LINEAR).
const LINEAR_EXP: u32 = 4;
const BUCKETS: usize = LINEAR as usize + (MAX_EXP - LINEAR_EXP + 1) as usize * SUB;

/// A latency histogram in microseconds.
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.total)
            .finish()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
        }
    }
}

/// Bucket of a value. Buckets are laid over `w = usec - 1` (0 and 1 share the first) so that
/// bucket upper bounds land on `2^k` exactly.
fn index(usec: u64) -> usize {
    let w = usec.saturating_sub(1);
    if w < LINEAR {
        return w as usize;
    }
    let exp = 63 - w.leading_zeros();
    if exp > MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = ((w >> (exp - SUB_BITS)) as usize) & (SUB - 1);
    LINEAR as usize + (exp - LINEAR_EXP) as usize * SUB + sub
}

/// The largest value (µs) a bucket holds.
fn upper_bound(idx: usize) -> u64 {
    if idx < LINEAR as usize {
        return idx as u64 + 1;
    }
    let rel = idx - LINEAR as usize;
    let exp = (rel / SUB) as u32 + LINEAR_EXP;
    let sub = (rel % SUB) as u64;
    let step = 1u64 << (exp - SUB_BITS);
    // w in [2^exp + sub*step, 2^exp + (sub+1)*step); usec = w + 1.
    (1u64 << exp) + (sub + 1) * step
}

impl Histogram {
    /// Record one sample.
    #[inline]
    pub fn record(&mut self, usec: u64) {
        // `index` never exceeds BUCKETS - 1; `get_mut` keeps that a non-panicking fact.
        if let Some(c) = self.counts.get_mut(index(usec)) {
            *c += 1;
        }
        self.total += 1;
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value (µs) at or below which `p` percent of the samples fall (the bucket's upper
    /// bound, as HdrHistogram's `value_at_percentile`); 0 when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let p = p.clamp(0.0, 100.0);
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper_bound(i) as f64;
            }
        }
        upper_bound(BUCKETS - 1) as f64
    }

    /// Power-of-two buckets `(upper_bound_usec, cumulative_count)`: 1, 2, 4, ... up to the
    /// bucket holding the largest sample (empty when no samples).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let last = self.counts.iter().rposition(|&c| c > 0);
        let mut cumulative = 0u64;
        let mut idx = 0usize;
        let mut bound = 1u64;
        let mut done = last.is_none();
        std::iter::from_fn(move || {
            let last = last?;
            if done {
                return None;
            }
            while idx < BUCKETS && upper_bound(idx) <= bound {
                cumulative += self.counts[idx];
                idx += 1;
            }
            let item = (bound, cumulative);
            if idx > last {
                done = true;
            }
            bound = bound.saturating_mul(2);
            Some(item)
        })
    }

    /// Add another histogram's samples.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.total += other.total;
    }
}

/// LATENCY HISTORY keeps this many samples per event.
pub const HISTORY_LEN: usize = 160;

/// One LATENCY monitor sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Unix time, seconds.
    pub time: u64,
    /// Milliseconds.
    pub latency_ms: u64,
}

/// One event's samples.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    /// Oldest first.
    pub history: VecDeque<Sample>,
    /// Largest latency ever seen since the last reset.
    pub max_ms: u64,
}

/// The LATENCY monitor's log of one shard.
#[derive(Debug, Clone, Default)]
pub struct Monitor {
    /// Event name → samples (a short list: linear search keeps it allocation-free).
    pub events: Vec<(String, EventLog)>,
}

impl Monitor {
    /// Record `latency_ms` for `event` at `time` (same second: keep the worst).
    pub fn add(&mut self, event: &str, time: u64, latency_ms: u64) {
        let log = match self.events.iter().position(|(n, _)| n == event) {
            Some(i) => &mut self.events[i].1,
            None => {
                self.events.push((event.to_string(), EventLog::default()));
                match self.events.last_mut() {
                    Some(e) => &mut e.1,
                    None => return,
                }
            }
        };
        log.max_ms = log.max_ms.max(latency_ms);
        if let Some(last) = log.history.back_mut()
            && last.time == time
        {
            last.latency_ms = last.latency_ms.max(latency_ms);
            return;
        }
        if log.history.len() == HISTORY_LEN {
            log.history.pop_front();
        }
        log.history.push_back(Sample { time, latency_ms });
    }

    /// Forget `events` (all when empty); returns how many were forgotten.
    pub fn reset(&mut self, events: &[String]) -> usize {
        let before = self.events.len();
        if events.is_empty() {
            self.events.clear();
        } else {
            self.events
                .retain(|(n, _)| !events.iter().any(|e| e.eq_ignore_ascii_case(n)));
        }
        before - self.events.len()
    }

    /// Fold another shard's log in (samples of the same second keep the worst).
    pub fn merge(&mut self, other: &Monitor) {
        for (name, log) in &other.events {
            for s in &log.history {
                self.add(name, s.time, s.latency_ms);
            }
            if let Some((_, mine)) = self.events.iter_mut().find(|(n, _)| n == name) {
                mine.max_ms = mine.max_ms.max(log.max_ms);
                mine.history.make_contiguous().sort_by_key(|s| s.time);
            }
        }
    }
}

/// LATENCY HISTOGRAM's reply: `{name: {calls, histogram_usec: {bound: cumulative}}}` over the
/// shards' copies, commands sorted by name.
pub fn histogram_reply(parts: Vec<Vec<(String, Histogram)>>) -> Reply {
    let mut merged: std::collections::BTreeMap<String, Histogram> = Default::default();
    for (name, h) in parts.into_iter().flatten() {
        merged.entry(name).or_default().merge(&h);
    }
    Reply::Map(
        merged
            .into_iter()
            .map(|(name, h)| {
                // As Redis's `fillCommandCDF`: only the buckets where the count grows.
                let mut prev = 0;
                let mut buckets = Vec::new();
                for (bound, cum) in h.buckets() {
                    if cum > prev {
                        buckets.push((Reply::Int(bound as i64), Reply::Int(cum as i64)));
                    }
                    prev = cum;
                }
                (
                    Reply::Bulk(Bytes::from(name)),
                    Reply::Map(vec![
                        (Reply::bulk(b"calls"), Reply::Int(h.count() as i64)),
                        (Reply::bulk(b"histogram_usec"), Reply::Map(buckets)),
                    ]),
                )
            })
            .collect(),
    )
}

fn text(proto: Proto, s: String) -> Reply {
    match proto {
        Proto::Resp3 => Reply::Verbatim("txt", Bytes::from(s)),
        Proto::Resp2 => Reply::Bulk(Bytes::from(s)),
    }
}

/// LATENCY LATEST / HISTORY / GRAPH / DOCTOR over the merged event log.
pub fn event_reply(cmd: &OpsCmd, log: &Monitor, enabled: bool, proto: Proto) -> Reply {
    let find = |name: &[u8]| {
        log.events
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, e)| e)
    };
    match cmd {
        OpsCmd::LatencyLatest => Reply::Array(
            log.events
                .iter()
                .filter_map(|(name, e)| {
                    let last = e.history.back()?;
                    Some(Reply::Array(vec![
                        Reply::Bulk(Bytes::from(name.clone())),
                        Reply::Int(last.time as i64),
                        Reply::Int(last.latency_ms as i64),
                        Reply::Int(e.max_ms as i64),
                    ]))
                })
                .collect(),
        ),
        OpsCmd::LatencyHistory(name) => Reply::Array(
            find(name)
                .map(|e| {
                    e.history
                        .iter()
                        .map(|s| {
                            Reply::Array(vec![
                                Reply::Int(s.time as i64),
                                Reply::Int(s.latency_ms as i64),
                            ])
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        OpsCmd::LatencyGraph(name) => match find(name) {
            Some(e) if !e.history.is_empty() => {
                text(proto, graph(&String::from_utf8_lossy(name), e))
            }
            _ => Reply::Err(OpError::Other(format!(
                "ERR No samples available for event '{}'",
                String::from_utf8_lossy(name)
            ))),
        },
        _ => text(proto, doctor(log, enabled)),
    }
}

/// LATENCY GRAPH: Redis's header, then one column per sample (newest right), scaled to 4 rows.
fn graph(name: &str, e: &EventLog) -> String {
    let high = e.history.iter().map(|s| s.latency_ms).max().unwrap_or(0);
    let low = e.history.iter().map(|s| s.latency_ms).min().unwrap_or(0);
    let mut out = format!(
        "{name} - high {high} ms, low {low} ms (all time high {} ms)\n{}\n",
        e.max_ms,
        "-".repeat(80)
    );
    const ROWS: u64 = 4;
    let span = high.saturating_sub(low).max(1);
    for row in (0..ROWS).rev() {
        let line: String = e
            .history
            .iter()
            .map(|s| {
                let level = if high == low {
                    0
                } else {
                    (s.latency_ms - low) * (ROWS - 1) / span
                };
                match level.cmp(&row) {
                    std::cmp::Ordering::Equal => '_',
                    std::cmp::Ordering::Greater => '|',
                    std::cmp::Ordering::Less => ' ',
                }
            })
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// LATENCY DOCTOR: Redis's report shape, with per-event figures.
fn doctor(log: &Monitor, enabled: bool) -> String {
    if !enabled && log.events.is_empty() {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
    }
    if log.events.is_empty() {
        return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".into();
    }
    let mut out = String::from(
        "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n",
    );
    for (i, (name, e)) in log.events.iter().enumerate() {
        let n = e.history.len().max(1) as u64;
        let avg = e.history.iter().map(|s| s.latency_ms).sum::<u64>() / n;
        let mad = e
            .history
            .iter()
            .map(|s| s.latency_ms.abs_diff(avg))
            .sum::<u64>()
            / n;
        let period = match (e.history.front(), e.history.back()) {
            (Some(a), Some(b)) if n > 1 => (b.time - a.time) as f64 / (n - 1) as f64,
            _ => 0.0,
        };
        out.push_str(&format!(
            "{}. {name}: {} latency spikes (average {avg}ms, mean deviation {mad}ms, period {period:.2} sec). Worst all time event {}ms.\n",
            i + 1,
            e.history.len(),
            e.max_ms
        ));
    }
    out.push_str("\nI have a few advices for you:\n\n");
    if log
        .events
        .iter()
        .any(|(n, _)| n == "command" || n == "fast-command")
    {
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_bounds_are_monotonic_and_cover_powers_of_two() {
        let mut prev = 0;
        for i in 0..BUCKETS {
            let ub = upper_bound(i);
            assert!(ub > prev, "bucket {i}");
            assert_eq!(index(ub), i, "upper bound {ub} maps back to {i}");
            prev = ub;
        }
        for k in 0..MAX_EXP {
            let v = 1u64 << k;
            assert_eq!(upper_bound(index(v)), v, "2^{k} is a bucket edge");
        }
        assert_eq!(index(0), 0);
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_and_power_of_two_view() {
        let mut h = Histogram::default();
        for _ in 0..90 {
            h.record(1);
        }
        for _ in 0..10 {
            h.record(100);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.percentile(50.0), 1.0);
        assert_eq!(h.percentile(90.0), 1.0);
        let p99 = h.percentile(99.0);
        assert!((100.0..=113.0).contains(&p99), "{p99}");
        let b: Vec<_> = h.buckets().collect();
        assert_eq!(
            b,
            vec![
                (1, 90),
                (2, 90),
                (4, 90),
                (8, 90),
                (16, 90),
                (32, 90),
                (64, 90),
                (128, 100)
            ]
        );
        let mut m = Histogram::default();
        m.merge(&h);
        m.merge(&h);
        assert_eq!(m.count(), 200);
        assert_eq!(m.buckets().last(), Some((128, 200)));
        assert_eq!(Histogram::default().buckets().count(), 0);
        assert_eq!(Histogram::default().percentile(50.0), 0.0);
    }

    #[test]
    fn monitor_keeps_worst_per_second_and_bounded_history() {
        let mut m = Monitor::default();
        m.add("command", 10, 5);
        m.add("command", 10, 3);
        m.add("command", 11, 7);
        assert_eq!(m.events[0].1.history.len(), 2);
        assert_eq!(m.events[0].1.history[0].latency_ms, 5);
        assert_eq!(m.events[0].1.max_ms, 7);
        for t in 0..500 {
            m.add("x", 100 + t, 1);
        }
        assert_eq!(m.events[1].1.history.len(), HISTORY_LEN);
        assert_eq!(m.reset(&["X".into()]), 1);
        assert_eq!(m.reset(&[]), 1);
    }
}
