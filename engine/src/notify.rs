//! Keyspace notifications as the engine records them: which class of event happened to which
//! key. The server turns them into `__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>`
//! messages according to `notify-keyspace-events`.
//!
//! Invariant: an op records an event only after the modification it names has happened, and
//! only when the event's class is enabled (so a disabled feature costs one branch per call).

use bytes::Bytes;

/// Class bits, with Redis's `NOTIFY_*` values and config letters.
pub mod class {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted-set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key-miss events (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// `n`: new-key events (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxet`.
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM;
}

/// One event: `event` (Redis's name, e.g. `lpush`) happened to `key` in `db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    /// Database index.
    pub db: usize,
    /// One class bit from [`class`].
    pub class: u32,
    /// The event name as Redis publishes it.
    pub event: &'static str,
    /// The key.
    pub key: Bytes,
}

/// Parses a `notify-keyspace-events` value into class bits; `None` on an unknown letter.
pub fn parse_flags(s: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in s {
        flags |= match c {
            b'A' => class::ALL,
            b'g' => class::GENERIC,
            b'$' => class::STRING,
            b'l' => class::LIST,
            b's' => class::SET,
            b'h' => class::HASH,
            b'z' => class::ZSET,
            b'x' => class::EXPIRED,
            b'e' => class::EVICTED,
            b'K' => class::KEYSPACE,
            b'E' => class::KEYEVENT,
            b't' => class::STREAM,
            b'm' => class::KEY_MISS,
            b'n' => class::NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// The config string for `flags`, in Redis's `keyspaceEventsFlagsToString` order.
pub fn flags_to_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & class::ALL == class::ALL {
        out.push('A');
    } else {
        for (bit, c) in [
            (class::GENERIC, 'g'),
            (class::STRING, '$'),
            (class::LIST, 'l'),
            (class::SET, 's'),
            (class::HASH, 'h'),
            (class::ZSET, 'z'),
            (class::EXPIRED, 'x'),
            (class::EVICTED, 'e'),
            (class::STREAM, 't'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [
        (class::KEYSPACE, 'K'),
        (class::KEYEVENT, 'E'),
        (class::KEY_MISS, 'm'),
        (class::NEW, 'n'),
    ] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_like_redis() {
        assert_eq!(parse_flags(b"KEA").map(flags_to_string), Some("AKE".into()));
        assert_eq!(parse_flags(b"Elx").map(flags_to_string), Some("lxE".into()));
        assert_eq!(parse_flags(b""), Some(0));
        assert_eq!(parse_flags(b"Q"), None);
    }
}
