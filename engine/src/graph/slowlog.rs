//! GRAPH.SLOWLOG: the `SLOWLOG_LEN` slowest queries per graph, kept per shard thread.
//!
//! Invariants: one shard thread owns a key, so the table is a thread-local keyed by
//! `(db, key)`; GRAPH.DELETE forgets the key's entries. Entries own copies of the key and query
//! text, never slices of the client's read buffer: such a slice pins that whole buffer
//! (hundreds of KiB for a GRAPH.QUERY carrying a 10,000-row parameter list) for as long as the
//! entry lives. A query is copied only when it is kept.

use std::cell::RefCell;
use std::collections::HashMap;

use bytes::Bytes;

use crate::ir::Reply;

/// Slow-log entries kept per graph (FalkorDB keeps the 10 slowest).
pub const SLOWLOG_LEN: usize = 10;

/// One slow-log entry: (unix secs, command, query text, duration ms).
type SlowEntry = (u64, &'static str, Bytes, f64);

thread_local! {
    static SLOWLOG: RefCell<HashMap<(usize, Bytes), Vec<SlowEntry>>> =
        RefCell::new(HashMap::new());
}

/// Keeps the query if it is among the graph's `SLOWLOG_LEN` slowest.
pub fn record(db: usize, key: &Bytes, now_ms: u64, cmd: &'static str, text: &Bytes, ms: f64) {
    SLOWLOG.with(|log| {
        let mut log = log.borrow_mut();
        let id = (db, key.clone());
        if !log.contains_key(&id) {
            log.insert((db, Bytes::copy_from_slice(key)), Vec::new());
        }
        let Some(list) = log.get_mut(&id) else {
            return;
        };
        // Same outcome as push + stable sort + truncate: a tie with the fastest kept entry
        // loses, so a query that would be dropped at once is not copied at all.
        if list.len() >= SLOWLOG_LEN && list.last().is_some_and(|l| ms <= l.3) {
            return;
        }
        list.push((now_ms / 1000, cmd, Bytes::copy_from_slice(text), ms));
        list.sort_by(|a, b| b.3.total_cmp(&a.3));
        list.truncate(SLOWLOG_LEN);
    });
}

/// Drops the graph's entries (GRAPH.DELETE, GRAPH.SLOWLOG RESET).
pub fn forget(db: usize, key: &Bytes) {
    SLOWLOG.with(|log| {
        log.borrow_mut().remove(&(db, key.clone()));
    });
}

/// GRAPH.SLOWLOG's reply: `[secs, cmd, query, ms, nil]` per entry, slowest first.
pub fn reply(db: usize, key: &Bytes) -> Reply {
    SLOWLOG.with(|log| {
        let log = log.borrow();
        let items = log
            .get(&(db, key.clone()))
            .map(|list| {
                list.iter()
                    .map(|(secs, cmd, text, ms)| {
                        Reply::Array(vec![
                            Reply::Bulk(Bytes::from(secs.to_string())),
                            Reply::bulk(cmd.as_bytes()),
                            Reply::Bulk(text.clone()),
                            Reply::Bulk(Bytes::from(format!("{ms:.1}"))),
                            Reply::Nil,
                        ])
                    })
                    .collect()
            })
            .unwrap_or_default();
        Reply::Array(items)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(db: usize, key: &Bytes) -> Vec<(Bytes, f64)> {
        SLOWLOG.with(|log| {
            log.borrow()
                .get(&(db, key.clone()))
                .map(|l| l.iter().map(|e| (e.2.clone(), e.3)).collect())
                .unwrap_or_default()
        })
    }

    #[test]
    fn keeps_the_slowest_as_copies() {
        let frame = Bytes::from(vec![b'q'; 1024]);
        let key = frame.slice(0..4);
        for i in 0..15u32 {
            let text = frame.slice(10..20 + i as usize);
            record(0, &key, 0, "GRAPH.QUERY", &text, f64::from(i % 12));
        }
        let kept = held(0, &key);
        let times: Vec<f64> = kept.iter().map(|e| e.1).collect();
        assert_eq!(times, [11.0, 10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0]);
        // Ties with the fastest kept entry lose (i = 14 took 2 ms, as i = 2 did).
        assert_eq!(kept[9].0.len(), 12);
        let range = frame.as_ptr_range();
        for (text, _) in &kept {
            assert!(!range.contains(&text.as_ptr()), "entries must own copies");
        }
        SLOWLOG.with(|log| {
            for (db, k) in log.borrow().keys() {
                assert!(
                    *db != 0 || !range.contains(&k.as_ptr()),
                    "the key must be a copy"
                );
            }
        });
        forget(0, &key);
        assert!(held(0, &key).is_empty());
        assert!(matches!(reply(0, &key), Reply::Array(v) if v.is_empty()));
    }
}
