//! `maxmemory` eviction: when the shard's estimated memory exceeds its share of `maxmemory`,
//! keys are evicted by the configured policy before a write executes, approximated by sampling
//! `maxmemory-samples` random keys per attempt as Redis does (no global ordering is kept).
//!
//! Invariants: eviction never runs under `noeviction`; each attempt removes at most one key and
//! stops when a policy finds no candidate (e.g. `volatile-*` with no TTL keys), so a write never
//! loops forever; evicted keys count in `evicted_keys` and raise the `evicted` keyspace event.

use super::Shard;
use crate::cmd::next_rand;
use crate::keyspace::lfu;
use crate::notify::{KeyEvent, class};

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvictionPolicy {
    /// Refuse writes that may grow memory (the server answers the OOM error).
    #[default]
    NoEviction,
    /// Least recently used among all keys.
    AllKeysLru,
    /// Least frequently used among all keys.
    AllKeysLfu,
    /// Any key.
    AllKeysRandom,
    /// Least recently used among keys with a TTL.
    VolatileLru,
    /// Least frequently used among keys with a TTL.
    VolatileLfu,
    /// Any key with a TTL.
    VolatileRandom,
    /// The key with the nearest expire time.
    VolatileTtl,
}

impl EvictionPolicy {
    /// Parses Redis's policy name.
    pub fn from_name(name: &str) -> Option<EvictionPolicy> {
        use EvictionPolicy::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "noeviction" => NoEviction,
            "allkeys-lru" => AllKeysLru,
            "allkeys-lfu" => AllKeysLfu,
            "allkeys-random" => AllKeysRandom,
            "volatile-lru" => VolatileLru,
            "volatile-lfu" => VolatileLfu,
            "volatile-random" => VolatileRandom,
            "volatile-ttl" => VolatileTtl,
            _ => return None,
        })
    }

    /// Redis's name.
    pub fn name(self) -> &'static str {
        use EvictionPolicy::*;
        match self {
            NoEviction => "noeviction",
            AllKeysLru => "allkeys-lru",
            AllKeysLfu => "allkeys-lfu",
            AllKeysRandom => "allkeys-random",
            VolatileLru => "volatile-lru",
            VolatileLfu => "volatile-lfu",
            VolatileRandom => "volatile-random",
            VolatileTtl => "volatile-ttl",
        }
    }

    /// True for the LFU policies (accesses then maintain the LFU counter).
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu
        )
    }

    fn volatile(self) -> bool {
        use EvictionPolicy::*;
        matches!(
            self,
            VolatileLru | VolatileLfu | VolatileRandom | VolatileTtl
        )
    }
}

impl Shard {
    /// True if the shard is over its memory share (never with `maxmemory` 0).
    pub fn over_memory(&self) -> bool {
        self.config.maxmemory > 0 && self.used_memory_estimate() as u64 > self.config.maxmemory
    }

    /// Evicts keys until the shard is within its share or no candidate is left. Returns true
    /// if it is within its share afterwards.
    pub fn evict(&mut self, now_ms: u64) -> bool {
        let policy = self.config.maxmemory_policy;
        if policy == EvictionPolicy::NoEviction {
            return !self.over_memory();
        }
        while self.over_memory() {
            if !self.evict_one(policy, now_ms) {
                return false;
            }
        }
        true
    }

    fn evict_one(&mut self, policy: EvictionPolicy, now_ms: u64) -> bool {
        let samples = self.config.maxmemory_samples.max(1);
        let params = self.config.lfu;
        let now_secs = crate::keyspace::entry::clock_secs(now_ms);
        // (score: lower evicts first, db, key)
        let mut best: Option<(u64, usize, Vec<u8>)> = None;
        for db in 0..self.dbs.len() {
            let rng = &mut self.rng;
            let picked = self.dbs[db].sample(samples, policy.volatile(), now_ms, || next_rand(rng));
            for (key, raw, ttl) in picked {
                let score = match policy {
                    EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru => {
                        // Older access first; LFU-formatted fields count as just used.
                        if lfu::is_lfu(raw) {
                            u64::MAX
                        } else {
                            u64::from(raw)
                        }
                    }
                    EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => {
                        u64::from(lfu::counter(raw, now_secs, params))
                    }
                    EvictionPolicy::VolatileTtl => ttl.unwrap_or(u64::MAX),
                    _ => next_rand(&mut self.rng),
                };
                if best.as_ref().is_none_or(|(s, _, _)| score < *s) {
                    best = Some((score, db, key));
                }
            }
        }
        let Some((_, db, key)) = best else {
            return false;
        };
        if self.dbs[db].remove(&key, now_ms).is_none() {
            return true;
        }
        if db == crate::search::INDEXED_DB && !self.search.is_empty() {
            self.search.remove_key(&key);
        }
        self.interest.touch(db, &key);
        self.stats.evicted_keys += 1;
        self.log_del(db, &key, now_ms);
        if self.config.notify_flags & class::EVICTED != 0 {
            self.events.push(KeyEvent {
                db,
                class: class::EVICTED,
                event: "evicted",
                key: bytes::Bytes::from(key),
            });
        }
        true
    }
}
