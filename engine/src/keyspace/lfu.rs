//! Redis's LFU access counter (OBJECT FREQ, the `allkeys-lfu`/`volatile-lfu` policies), kept in
//! the same 32-bit access field of an entry that otherwise holds the LRU clock.
//!
//! Layout of an LFU-formatted field: bit 31 set (Unix-seconds clocks stay below 2^31 until
//! 2038, so the bit tells the two formats apart), bits 8..24 the last decrement time in
//! minutes modulo 2^16, bits 0..8 the logarithmic counter. The arithmetic is Redis's
//! (`LFULogIncr`, `LFUDecrAndReturn` in evict.c): new keys start at 5, a hit increments with
//! probability 1 / ((counter - 5) * lfu-log-factor + 1), and the counter decays by one per
//! `lfu-decay-time` minutes without access.

/// Marks an LFU-formatted access field.
const MARK: u32 = 1 << 31;
/// Counter of a new key (Redis's `LFU_INIT_VAL`).
pub const INIT_VAL: u8 = 5;

/// `lfu-log-factor` and `lfu-decay-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LfuParams {
    /// `lfu-log-factor` (default 10).
    pub log_factor: u32,
    /// `lfu-decay-time` in minutes (default 1; 0 = never decay).
    pub decay_time: u32,
}

impl Default for LfuParams {
    fn default() -> Self {
        LfuParams {
            log_factor: 10,
            decay_time: 1,
        }
    }
}

/// True if `raw` is LFU-formatted.
pub fn is_lfu(raw: u32) -> bool {
    raw & MARK != 0
}

fn minutes(now_secs: u32) -> u32 {
    (now_secs / 60) & 0xFFFF
}

fn pack(ldt: u32, counter: u8) -> u32 {
    MARK | (ldt << 8) | u32::from(counter)
}

/// The field of a new key at `now_secs`.
pub fn init(now_secs: u32) -> u32 {
    pack(minutes(now_secs), INIT_VAL)
}

/// The field of a key whose counter is set to `counter` at `now_secs` (RESTORE ... FREQ).
pub fn with_counter(now_secs: u32, counter: u8) -> u32 {
    pack(minutes(now_secs), counter)
}

/// The counter after decay (what OBJECT FREQ reports); an LRU-formatted field counts as new.
pub fn counter(raw: u32, now_secs: u32, p: LfuParams) -> u8 {
    if !is_lfu(raw) {
        return INIT_VAL;
    }
    let ldt = (raw >> 8) & 0xFFFF;
    let counter = (raw & 0xFF) as u8;
    let now = minutes(now_secs);
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    };
    let periods = elapsed.checked_div(p.decay_time).unwrap_or(0);
    counter.saturating_sub(u8::try_from(periods).unwrap_or(u8::MAX))
}

/// The field after one access at `now_secs`; `rand` is a uniform random u64.
pub fn touch(raw: u32, now_secs: u32, p: LfuParams, rand: u64) -> u32 {
    let mut c = counter(raw, now_secs, p);
    if c < 255 {
        let r = (rand >> 11) as f64 / (1u64 << 53) as f64;
        let base = f64::from(c.saturating_sub(INIT_VAL));
        if r < 1.0 / (base * f64::from(p.log_factor) + 1.0) {
            c += 1;
        }
    }
    pack(minutes(now_secs), c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_grows_logarithmically_and_decays() {
        let p = LfuParams::default();
        let mut raw = init(600);
        assert!(is_lfu(raw));
        assert_eq!(counter(raw, 600, p), INIT_VAL);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            raw = touch(raw, 600, p, x);
        }
        let c = counter(raw, 600, p);
        assert!(
            (10..40).contains(&c),
            "1000 hits with factor 10 give ~18, got {c}"
        );
        // Three minutes later it has decayed by three.
        assert_eq!(counter(raw, 600 + 180, p), c - 3);
        // An LRU clock is not LFU-formatted.
        assert!(!is_lfu(1_700_000_000));
        assert_eq!(counter(1_700_000_000, 0, p), INIT_VAL);
    }
}
