//! Test harness: a shard plus an injected clock, and short constructors for ops and replies.

use bytes::Bytes;

use crate::ir::{ExecCtx, Op, Reply, TimeUnit};
use crate::keyspace::Entry;
use crate::shard::{Shard, ShardConfig};

/// The start time of every test (a realistic Unix time in ms).
pub const NOW: u64 = 1_700_000_000_000;

/// A shard under test and its clock.
pub struct T {
    pub shard: Shard,
    pub now: u64,
}

impl T {
    pub fn new() -> T {
        T {
            shard: Shard::new(0, ShardConfig::default()),
            now: NOW,
        }
    }

    pub fn with_limit(proto_max_bulk_len: u64) -> T {
        let config = ShardConfig {
            proto_max_bulk_len,
            ..ShardConfig::default()
        };
        T {
            shard: Shard::new(0, config),
            now: NOW,
        }
    }

    pub fn run(&mut self, op: Op) -> Reply {
        self.run_ctx(op, false)
    }

    pub fn run_ctx(&mut self, op: Op, no_touch: bool) -> Reply {
        let ctx = ExecCtx {
            db: 0,
            now_ms: self.now,
            no_touch,
        };
        self.shard.apply(&ctx, &op)
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    pub fn set(&mut self, key: &str, value: &str) {
        let op = Op::Set {
            key: b(key),
            value: b(value),
            cond: crate::ir::SetCond::Always,
            expire: crate::ir::ExpireSpec::Clear,
            get: false,
        };
        assert_eq!(self.run(op), Reply::Ok);
    }

    pub fn put_non_string(&mut self, key: &str) {
        self.shard
            .put_entry(0, Entry::new_test_other(key.as_bytes()), NOW)
            .expect("db 0");
    }
}

pub fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

pub fn bb(s: &str) -> Bytes {
    b(s)
}

pub fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

pub fn ttl_ms(key: &str) -> Op {
    Op::Ttl {
        key: b(key),
        unit: TimeUnit::Millis,
    }
}

pub fn exists(keys: &[&str]) -> Op {
    Op::Exists {
        keys: keys.iter().map(|k| b(k)).collect(),
    }
}
