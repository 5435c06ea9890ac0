//! ACL LOG: the most recent denials (failed AUTH, refused commands, keys and channels), newest
//! first, with Redis's grouping of similar entries.
//!
//! Invariants: at most `max_len` entries are kept; an entry with the same reason, context,
//! object and username as one logged less than 60 seconds ago is merged into it (its count
//! grows, its time and client info are refreshed, and it moves to the front), as
//! `addACLLogEntry` does. Entry ids grow by one per new entry and restart only with the process.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use moon_engine::ir::Reply;

/// Redis's `ACL_LOG_GROUPING_MAX_TIME_DELTA`.
const GROUPING_MS: u64 = 60_000;

/// One logged denial.
#[derive(Debug, Clone)]
pub struct Entry {
    pub count: u64,
    /// `auth`, `command`, `key` or `channel`.
    pub reason: &'static str,
    /// `toplevel`, `multi` or `lua`.
    pub context: &'static str,
    pub object: String,
    pub username: String,
    /// CLIENT LIST line of the client.
    pub client_info: String,
    pub entry_id: u64,
    pub created_ms: u64,
    pub updated_ms: u64,
}

/// The log.
#[derive(Debug, Default)]
pub struct AclLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl AclLog {
    /// Record a denial (merged with a similar recent one), keeping at most `max_len` entries.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        reason: &'static str,
        context: &'static str,
        object: String,
        username: String,
        client_info: String,
        max_len: usize,
    ) {
        let now = now_ms();
        let similar = self.entries.iter().position(|e| {
            e.reason == reason
                && e.context == context
                && e.object == object
                && e.username == username
                && now.saturating_sub(e.updated_ms) < GROUPING_MS
        });
        if let Some(i) = similar
            && let Some(mut e) = self.entries.remove(i)
        {
            e.count += 1;
            e.updated_ms = now;
            e.client_info = client_info;
            self.entries.push_front(e);
        } else {
            let entry_id = self.next_id;
            self.next_id += 1;
            self.entries.push_front(Entry {
                count: 1,
                reason,
                context,
                object,
                username,
                client_info,
                entry_id,
                created_ms: now,
                updated_ms: now,
            });
        }
        self.entries.truncate(max_len);
    }

    /// ACL LOG RESET.
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// Drop entries beyond `max_len` (CONFIG SET acllog-max-len).
    pub fn trim(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// ACL LOG [count]: the newest `count` entries as Redis 7.2 shows them.
    pub fn reply(&self, count: usize) -> Reply {
        let now = now_ms();
        let b = |s: &str| Reply::Bulk(Bytes::from(s.to_string()));
        let k = |s: &'static str| Reply::Bulk(Bytes::from_static(s.as_bytes()));
        Reply::Array(
            self.entries
                .iter()
                .take(count)
                .map(|e| {
                    Reply::Map(vec![
                        (k("count"), Reply::Int(e.count as i64)),
                        (k("reason"), k(e.reason)),
                        (k("context"), k(e.context)),
                        (k("object"), b(&e.object)),
                        (k("username"), b(&e.username)),
                        (
                            k("age-seconds"),
                            Reply::Double(now.saturating_sub(e.updated_ms) as f64 / 1000.0),
                        ),
                        (k("client-info"), b(&e.client_info)),
                        (k("entry-id"), Reply::Int(e.entry_id as i64)),
                        (k("timestamp-created"), Reply::Int(e.created_ms as i64)),
                        (k("timestamp-last-updated"), Reply::Int(e.updated_ms as i64)),
                    ])
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_entries_merge_and_move_to_front() {
        let mut log = AclLog::default();
        log.add("key", "toplevel", "k".into(), "u".into(), "a".into(), 128);
        log.add(
            "command",
            "toplevel",
            "get".into(),
            "u".into(),
            "b".into(),
            128,
        );
        log.add("key", "toplevel", "k".into(), "u".into(), "c".into(), 128);
        assert_eq!(log.len(), 2);
        let front = &log.entries[0];
        assert_eq!((front.count, front.client_info.as_str()), (2, "c"));
        assert_eq!(front.entry_id, 0);
        log.add("key", "multi", "k".into(), "u".into(), "d".into(), 2);
        assert_eq!(log.len(), 2);
        assert_eq!(log.entries[0].entry_id, 2);
        log.trim(1);
        assert_eq!(log.len(), 1);
        log.reset();
        assert_eq!(log.len(), 0);
    }
}
