//! The slow log of one shard: commands that ran longer than `slowlog-log-slower-than`.
//!
//! Invariants:
//! - Each shard logs only the commands its own clients ran; ids come from one process-wide
//!   counter, so they are unique across shards and grow with time, and SLOWLOG GET merges the
//!   shards' entries by id, newest first.
//! - An entry keeps at most [`MAX_ARGC`] arguments of at most [`MAX_STRING`] bytes each, with
//!   Redis's markers for what was cut; secrets (AUTH, HELLO AUTH) are already redacted.
//! - The log holds at most `slowlog-max-len` entries (oldest dropped first).
//! - An entry owns copies of its arguments, never slices of the client's read buffer: a slice
//!   would pin that whole buffer (a GRAPH.QUERY with a 10,000-row parameter list is hundreds of
//!   KiB) for as long as the entry lives.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use moon_engine::ir::Reply;

/// Arguments kept per entry (the last slot says how many more there were).
pub const MAX_ARGC: usize = 32;
/// Bytes kept per argument.
pub const MAX_STRING: usize = 128;

/// Next entry id, shared by all shards.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// One slow command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unique id.
    pub id: u64,
    /// Unix time, seconds.
    pub time: u64,
    /// Duration, microseconds.
    pub usec: u64,
    /// Arguments, cut as Redis cuts them.
    pub argv: Vec<Bytes>,
    /// Client address (`ip:port`).
    pub addr: Bytes,
    /// Client name.
    pub name: Bytes,
}

impl Entry {
    /// SLOWLOG GET's form of this entry.
    pub fn reply(&self) -> Reply {
        Reply::Array(vec![
            Reply::Int(self.id as i64),
            Reply::Int(self.time as i64),
            Reply::Int(self.usec as i64),
            Reply::Array(self.argv.iter().cloned().map(Reply::Bulk).collect()),
            Reply::Bulk(self.addr.clone()),
            Reply::Bulk(self.name.clone()),
        ])
    }
}

/// One shard's slow log, newest at the front.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
}

/// `args` cut to Redis's limits (`slowlogCreateEntry`), copied (see the module invariants).
pub fn truncate_args(args: &[Bytes]) -> Vec<Bytes> {
    let keep = if args.len() > MAX_ARGC {
        MAX_ARGC - 1
    } else {
        args.len()
    };
    let mut out: Vec<Bytes> = args
        .iter()
        .take(keep)
        .map(|a| {
            if a.len() > MAX_STRING {
                let mut s = a.slice(..MAX_STRING).to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes(),
                );
                Bytes::from(s)
            } else {
                Bytes::copy_from_slice(a)
            }
        })
        .collect();
    if args.len() > MAX_ARGC {
        out.push(Bytes::from(format!(
            "... ({} more arguments)",
            args.len() - MAX_ARGC + 1
        )));
    }
    out
}

impl SlowLog {
    /// Log a command (`argv` already redacted); keeps at most `max_len` entries.
    pub fn push(&mut self, argv: &[Bytes], usec: u64, addr: Bytes, name: Bytes, max_len: usize) {
        if max_len == 0 {
            self.entries.clear();
            return;
        }
        let entry = Entry {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            time: crate::shared::now_ms() / 1000,
            usec,
            argv: truncate_args(argv),
            addr,
            name,
        };
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    /// The newest `count` entries (all when `None`).
    pub fn newest(&self, count: Option<usize>) -> Vec<Entry> {
        let n = count.unwrap_or(usize::MAX);
        self.entries.iter().take(n).cloned().collect()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forget every entry.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

/// Merge the shards' newest entries into SLOWLOG GET's reply: newest (highest id) first.
pub fn merge(mut parts: Vec<Entry>, count: Option<usize>) -> Reply {
    parts.sort_unstable_by_key(|e| std::cmp::Reverse(e.id));
    parts.truncate(count.unwrap_or(usize::MAX));
    Reply::Array(parts.iter().map(Entry::reply).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_cut_like_redis() {
        let long = Bytes::from(vec![b'a'; 200]);
        let cut = truncate_args(&[Bytes::from("set"), long]);
        assert_eq!(cut[1].len(), 128 + "... (72 more bytes)".len());
        assert!(cut[1].ends_with(b"... (72 more bytes)"));
        let many: Vec<Bytes> = (0..40).map(|i| Bytes::from(i.to_string())).collect();
        let cut = truncate_args(&many);
        assert_eq!(cut.len(), 32);
        assert_eq!(cut[30], Bytes::from("30"));
        assert_eq!(cut[31], Bytes::from("... (9 more arguments)"));
        assert_eq!(truncate_args(&many[..32]).len(), 32);
    }

    #[test]
    fn kept_args_do_not_pin_the_read_buffer() {
        let frame = Bytes::from(vec![b'x'; 4096]);
        let short = frame.slice(10..20);
        let cut = truncate_args(std::slice::from_ref(&short));
        assert_eq!(cut[0], short);
        let range = frame.as_ptr_range();
        assert!(
            !range.contains(&cut[0].as_ptr()),
            "the entry must own a copy"
        );
    }

    #[test]
    fn bounded_newest_first_and_merged_by_id() {
        let mut log = SlowLog::default();
        for i in 0..5u64 {
            log.push(
                &[Bytes::from(i.to_string())],
                i,
                Bytes::new(),
                Bytes::new(),
                3,
            );
        }
        assert_eq!(log.len(), 3);
        let newest = log.newest(Some(2));
        assert_eq!(newest[0].usec, 4);
        assert!(newest[0].id > newest[1].id);
        let mut other = SlowLog::default();
        other.push(&[Bytes::from("x")], 9, Bytes::new(), Bytes::new(), 3);
        let mut all = log.newest(None);
        all.extend(other.newest(None));
        let Reply::Array(merged) = merge(all, Some(2)) else {
            panic!("array")
        };
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0], other.newest(None)[0].reply());
        log.reset();
        assert_eq!(log.len(), 0);
    }
}
