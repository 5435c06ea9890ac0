//! Forkless point-in-time snapshots of a shard, and loading entries back (recovery).
//!
//! [`Shard::snapshot_begin`] freezes the image of all `DATABASES` databases; the server then
//! calls [`Shard::snapshot_step`] from its event loop between batches of commands until it
//! reports completion, streaming every entry to a sink as `(db, key, expire_ms, DUMP payload)`.
//! Consistency comes from serialize-before-write in the DashTable
//! (`keyspace::dashtable::cow`): a segment not yet serialized is encoded (by
//! [`encode_record`]) the moment a write is about to change it, so writes, expiry, eviction,
//! FLUSHDB/FLUSHALL never alter the image, and no second copy of the data is ever held: memory
//! grows only by the encoded records of segments written since the last step, which the next
//! step hands to the sink. Each table carries its image's database index with it, so SWAPDB
//! moves an image along with its table and the image still reports the begin-time index.
//!
//! Invariants: a snapshot is running iff some database's table holds snapshot state; every
//! error (an entry that cannot be encoded, a failing sink) clears the state of all databases,
//! so a failed snapshot never lingers or half-resumes. Expired entries are included with their
//! expiry (the shard has no clock here); [`Shard::load_entry`] drops them at load time.

use crate::cmd::dump::codec::{self, Decoded};
use crate::ir::OpError;
use crate::keyspace::{Db, Entry};

use super::Shard;

/// Receives every entry of a snapshot image: `(db, key, expire_ms /*0 = none*/, payload)`.
pub type SnapshotSink<'a> = dyn FnMut(usize, &[u8], u64, &[u8]) -> std::io::Result<()> + 'a;

/// Receives every function library of a snapshot image: `(name, code)`.
pub type FunctionSink<'a> = dyn FnMut(&[u8], &[u8]) -> std::io::Result<()> + 'a;

/// Why a snapshot failed.
#[derive(Debug)]
pub enum SnapshotError {
    /// A snapshot is already in progress.
    Busy,
    /// The entry `key` of database `db` has a value that cannot be serialized.
    Encode {
        /// Database index of the image.
        db: usize,
        /// The entry's key.
        key: Vec<u8>,
    },
    /// The sink failed.
    Sink(std::io::Error),
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::Busy => f.write_str("a snapshot is already in progress"),
            SnapshotError::Encode { db, key } => write!(
                f,
                "cannot serialize key '{}' of db {db}",
                String::from_utf8_lossy(key)
            ),
            SnapshotError::Sink(e) => write!(f, "snapshot write failed: {e}"),
        }
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SnapshotError::Sink(e) => Some(e),
            _ => None,
        }
    }
}

/// Serializes one entry of the image of database `db` into `sink`.
fn emit(db: usize, e: &Entry, sink: &mut SnapshotSink<'_>) -> Result<(), SnapshotError> {
    let Some(payload) = codec::image_payload(e) else {
        return Err(SnapshotError::Encode {
            db,
            key: e.key().to_vec(),
        });
    };
    sink(db, e.key(), e.expire_at_ms().unwrap_or(0), &payload).map_err(SnapshotError::Sink)
}

/// Appends `e`'s snapshot record (`key_len u32, key, expire_ms u64, payload_len u32, DUMP
/// payload`, little-endian: the keyspace-entry layout of SPEC §8.2) to `out`; false if the
/// value cannot be encoded. Runs on the write path when a write serializes a segment.
pub(crate) fn encode_record(e: &Entry, out: &mut Vec<u8>) -> bool {
    let Some(payload) = codec::image_payload(e) else {
        return false;
    };
    let (Ok(klen), Ok(plen)) = (u32::try_from(e.key().len()), u32::try_from(payload.len())) else {
        return false;
    };
    out.extend_from_slice(&klen.to_le_bytes());
    out.extend_from_slice(e.key());
    out.extend_from_slice(&e.expire_at_ms().unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&plen.to_le_bytes());
    out.extend_from_slice(&payload);
    true
}

/// Hands the records [`encode_record`] wrote to `sink`, as entries of database `db`.
fn drain_records(
    db: usize,
    mut bytes: &[u8],
    sink: &mut SnapshotSink<'_>,
) -> Result<(), SnapshotError> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (b.get(..n)?, b.get(n..)?);
        *b = rest;
        Some(head)
    }
    fn u32_at(b: &mut &[u8]) -> Option<usize> {
        Some(u32::from_le_bytes(take(b, 4)?.try_into().ok()?) as usize)
    }
    while !bytes.is_empty() {
        let record = (|| {
            let klen = u32_at(&mut bytes)?;
            let key = take(&mut bytes, klen)?;
            let expire = u64::from_le_bytes(take(&mut bytes, 8)?.try_into().ok()?);
            let plen = u32_at(&mut bytes)?;
            Some((key, expire, take(&mut bytes, plen)?))
        })();
        let Some((key, expire, payload)) = record else {
            debug_assert!(false, "encode_record and drain_records disagree");
            return Err(SnapshotError::Encode {
                db,
                key: Vec::new(),
            });
        };
        sink(db, key, expire, payload).map_err(SnapshotError::Sink)?;
    }
    Ok(())
}

impl Shard {
    /// Starts a point-in-time snapshot of all `DATABASES` databases; `Err(Busy)` if one is in
    /// progress.
    pub fn snapshot_begin(&mut self) -> Result<(), SnapshotError> {
        if self.snapshot_active() {
            return Err(SnapshotError::Busy);
        }
        for (i, db) in self.dbs.iter_mut().enumerate() {
            db.snapshot_begin(i, encode_record);
        }
        Ok(())
    }

    /// Serializes up to `max_segments` more non-empty segments of the image (empty ones are
    /// skipped for free), calling `sink(db, key, expire_ms /*0 = none*/, dump_payload)` for
    /// every entry, `db` being the index the database had at begin. Returns `Ok(true)` when
    /// the image is complete (the snapshot state is then cleared; also when none was running).
    /// An entry that cannot be encoded, or a sink error, fails the whole snapshot: the state
    /// is cleared and the error returned.
    pub fn snapshot_step(
        &mut self,
        max_segments: usize,
        sink: &mut SnapshotSink<'_>,
    ) -> Result<bool, SnapshotError> {
        let mut budget = max_segments;
        let mut failed = None;
        'dbs: for db in &mut self.dbs {
            while budget > 0 {
                let Some(image_db) = db.snapshot_image_db() else {
                    continue 'dbs;
                };
                let drained = match db.snapshot_take_out() {
                    Ok(bytes) => drain_records(image_db, &bytes, sink),
                    Err(key) => Err(SnapshotError::Encode { db: image_db, key }),
                };
                if let Err(e) = drained {
                    failed = Some(e);
                    break 'dbs;
                }
                match db.snapshot_step(|e| emit(image_db, e, sink)) {
                    Ok(Some(items)) => budget -= usize::from(items > 0),
                    Ok(None) => continue 'dbs,
                    Err(e) => {
                        failed = Some(e);
                        break 'dbs;
                    }
                }
            }
            break;
        }
        if let Some(e) = failed {
            self.snapshot_abort();
            return Err(e);
        }
        Ok(!self.snapshot_active())
    }

    /// The snapshot's functions section: every library of the catalog as `sink(name, code)`,
    /// in name order. Call it right after [`Shard::snapshot_begin`], before any other op runs,
    /// so the libraries are those of the image's instant (the catalog is small and written
    /// whole; it needs no serialize-before-write).
    pub fn snapshot_functions(&self, sink: &mut FunctionSink<'_>) -> std::io::Result<()> {
        for (name, code) in self.functions().iter() {
            sink(name, code)?;
        }
        Ok(())
    }

    /// Abandons the running snapshot (if any) and frees its preserved segments.
    pub fn snapshot_abort(&mut self) {
        self.dbs.iter_mut().for_each(Db::snapshot_abort);
    }

    /// True while a snapshot is in progress.
    pub fn snapshot_active(&self) -> bool {
        self.dbs.iter().any(|db| db.snapshot_image_db().is_some())
    }

    /// Bytes currently held in preserved (copied) segments, for INFO and tests.
    pub fn snapshot_cow_bytes(&self) -> usize {
        self.dbs.iter().map(Db::snapshot_cow_bytes).sum()
    }

    /// Decodes a DUMP payload and stores it as `key` in `db` (replacing any entry), expiring at
    /// `expire_ms` (Unix ms, 0 = never). An entry already expired at `now_ms` is not stored
    /// (and removes an older entry of that key, as `RESTORE ... REPLACE` would): `Ok(false)`.
    /// Used by recovery; a bad payload is an error, never skipped silently.
    pub fn load_entry(
        &mut self,
        db: usize,
        key: &[u8],
        expire_ms: u64,
        payload: &[u8],
        now_ms: u64,
    ) -> Result<bool, OpError> {
        let table = self.dbs.get_mut(db).ok_or(OpError::DbIndexOutOfRange)?;
        let object = codec::open_payload(payload).ok_or_else(|| {
            OpError::Other("ERR DUMP payload version or checksum are wrong".into())
        })?;
        let value = codec::decode_object(object, &self.config.limits)
            .ok_or_else(|| OpError::Other("ERR Bad data format".into()))?;
        if !self.interest.is_idle() {
            self.interest.touch(db, key);
        }
        if expire_ms != 0 && expire_ms <= now_ms {
            table.remove(key, now_ms);
            return Ok(false);
        }
        let expire = (expire_ms != 0).then_some(expire_ms);
        let now_secs = u32::try_from(now_ms / 1000).unwrap_or(u32::MAX);
        let entry = match value {
            Decoded::Str(s) => Entry::new_string(key, &s, expire, now_secs),
            Decoded::Value(v) => Entry::new_value(key, v, expire, now_secs),
        };
        table.insert(entry);
        if !self.interest.is_idle() {
            self.interest.signal_written(db, key);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::DATABASES;
    use crate::cmd::testutil::{NOW, b};
    use crate::ir::ops::hash::FieldExpire;
    use crate::ir::ops::zset::ZAddFlags;
    use crate::ir::ops::{HashOp, ListOp, SetOp, ZSetOp};
    use crate::ir::{ExecCtx, ExpireCond, ExpireSpec, Op, Reply, SetCond};
    use crate::keyspace::LargeValue;
    use crate::shard::{EvictionPolicy, ShardConfig};
    use crate::types::hash::{HashLimits, HashValue};
    use crate::types::list::End;

    /// (image db, key) → (expire_ms, DUMP payload).
    type Image = BTreeMap<(usize, Vec<u8>), (u64, Vec<u8>)>;

    fn run(s: &mut Shard, db: usize, now: u64, op: Op) -> Reply {
        s.apply(
            &ExecCtx {
                db,
                now_ms: now,
                no_touch: false,
            },
            &op,
        )
    }

    /// The model: every entry of every database, read directly.
    fn model(s: &Shard) -> Image {
        let mut m = Image::new();
        for i in 0..DATABASES {
            for e in s.db(i).expect("db").iter() {
                let p = codec::dump_payload(e).expect("encodable");
                m.insert((i, e.key().to_vec()), (e.expire_at_ms().unwrap_or(0), p));
            }
        }
        m
    }

    /// Collects one `snapshot_step` into `image`, asserting no entry comes twice.
    fn step(s: &mut Shard, n: usize, image: &mut Image) -> Result<bool, SnapshotError> {
        s.snapshot_step(n, &mut |db, key, exp, payload| {
            let old = image.insert((db, key.to_vec()), (exp, payload.to_vec()));
            assert!(old.is_none(), "db {db} key {key:?} serialized twice");
            Ok(())
        })
    }

    fn finish(s: &mut Shard, image: &mut Image) {
        for _ in 0..1_000_000 {
            if step(s, 1, image).expect("snapshot step") {
                assert!(!s.snapshot_active());
                assert_eq!(s.snapshot_cow_bytes(), 0);
                return;
            }
        }
        panic!("snapshot never completes");
    }

    /// Compares images, with a readable message for the first difference.
    fn assert_same(got: &Image, want: &Image) {
        for (k, v) in want {
            assert_eq!(got.get(k), Some(v), "entry {k:?}");
        }
        assert_eq!(got.len(), want.len(), "extra entries in the image");
    }

    fn bk(s: String) -> Bytes {
        Bytes::from(s.into_bytes())
    }

    /// Writes key number `i` of database `db`, of a type chosen by `i`.
    fn write_key(s: &mut Shard, db: usize, now: u64, i: u64, salt: u64) {
        let key = bk(format!("k{i}"));
        let v = |j: u64| bk(format!("{}", (i * 31 + j + salt) % 1000));
        let op = match i % 8 {
            0 => Op::Set {
                key,
                value: bk(format!("value-{i}-{salt}")),
                cond: SetCond::Always,
                expire: ExpireSpec::Clear,
                get: false,
            },
            1 => Op::Set {
                key,
                value: bk(format!("{}", i * 1000 + salt)),
                cond: SetCond::Always,
                expire: ExpireSpec::In(3_600_000 + i),
                get: false,
            },
            2 => Op::Lists(ListOp::Push {
                key,
                end: End::Tail,
                elements: (0..1 + i % 13).map(v).collect(),
                only_if_exists: false,
            }),
            3 => Op::Hashes(HashOp::HSet {
                key,
                pairs: (0..1 + i % 9)
                    .map(|j| (bk(format!("f{j}")), v(j)))
                    .collect(),
                legacy: false,
            }),
            4 => Op::Sets(SetOp::Add {
                key,
                members: (0..1 + i % 11).map(v).collect(),
            }),
            5 => Op::Sets(SetOp::Add {
                key,
                members: (0..1 + i % 7).map(|j| bk(format!("m{j}-{salt}"))).collect(),
            }),
            6 => Op::ZSets(ZSetOp::Add {
                key,
                flags: ZAddFlags::default(),
                pairs: (0..1 + i % 10)
                    .map(|j| (j as f64 * 1.5 - salt as f64, bk(format!("z{j}"))))
                    .collect(),
            }),
            _ => Op::Hashes(HashOp::HSet {
                key,
                pairs: (0..200 + i % 3)
                    .map(|j| (bk(format!("f{j}")), v(j)))
                    .collect(),
                legacy: false,
            }),
        };
        let r = run(s, db, now, op);
        assert!(!matches!(r, Reply::Err(_)), "write {i}: {r:?}");
        if i % 8 == 3 || i % 8 == 7 {
            let r = run(
                s,
                db,
                now,
                Op::Hashes(HashOp::HExpire {
                    key: bk(format!("k{i}")),
                    at: FieldExpire::In(60_000 + i),
                    cond: ExpireCond::Always,
                    fields: vec![b("f0")],
                    cmd: "hpexpire",
                }),
            );
            assert!(!matches!(r, Reply::Err(_)), "hexpire {i}: {r:?}");
        }
    }

    /// A shard with `per_db` keys of every type in each of `dbs` databases, a few of them with
    /// TTLs, plus a stream with consumer groups in each.
    fn populated(dbs: usize, per_db: u64, config: ShardConfig) -> Shard {
        let mut s = Shard::new(0, config);
        let stream = crate::cmd::dump::tests::payload("stream");
        for db in 0..dbs {
            for i in 0..per_db {
                write_key(&mut s, db, NOW, i, db as u64);
            }
            assert_eq!(s.load_entry(db, b"stream", 0, stream, NOW), Ok(true));
        }
        s
    }

    /// xorshift64*, deterministic.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    /// One random mutation (or read) chosen by `kind`.
    fn mutate(s: &mut Shard, now: &mut u64, kind: u64, db: usize, i: u64, salt: u64) {
        let key = bk(format!("k{i}"));
        let op = match kind % 100 {
            0..=34 => return write_key(s, db, *now, i, salt),
            35..=49 => Op::Del { keys: vec![key] },
            50..=59 => Op::Expire {
                cmd: "pexpire",
                key,
                at: ExpireSpec::In(1 + salt % 50),
                cond: ExpireCond::Always,
            },
            60..=64 => {
                // Lazy expiry on access and active expiry both delete due keys.
                *now += 20;
                s.active_expire_cycle(*now);
                Op::Get { key }
            }
            65..=69 => Op::Lists(ListOp::Push {
                key,
                end: End::Head,
                elements: vec![bk(format!("new{salt}"))],
                only_if_exists: true,
            }),
            70..=84 => Op::Get { key },
            85..=87 => Op::SwapDb {
                a: db,
                b: (salt % 4) as usize,
            },
            88..=89 => Op::FlushDb,
            90 => Op::FlushAll,
            _ => Op::Persist { key },
        };
        run(s, db, *now, op);
    }

    #[test]
    fn snapshot_while_mutating_is_the_begin_image() {
        let mut s = populated(3, 2500, ShardConfig::default());
        let segments: usize = (0..3).map(|d| s.dbs[d].snapshot_segments()).sum();
        assert!(segments >= 9, "only {segments} segments");
        let want = model(&s);
        s.snapshot_begin().expect("begin");
        assert!(matches!(s.snapshot_begin(), Err(SnapshotError::Busy)));
        let mut image = Image::new();
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        let mut now = NOW;
        let mut max_cow = 0;
        loop {
            for _ in 0..rng.next() % 40 {
                let kind = rng.next();
                let (db, i, salt) = (
                    (rng.next() % 4) as usize,
                    rng.next() % 3000,
                    rng.next() % 1000,
                );
                // FLUSHDB/FLUSHALL only now and then, so most of the run sees a full keyspace.
                if (88..=90).contains(&(kind % 100)) && !rng.next().is_multiple_of(8) {
                    continue;
                }
                mutate(&mut s, &mut now, kind, db, i, salt);
            }
            max_cow = max_cow.max(s.snapshot_cow_bytes());
            if step(&mut s, 1, &mut image).expect("step") {
                break;
            }
        }
        assert!(max_cow > 0, "the writes never hit an unserialized segment");
        assert!(!s.snapshot_active());
        assert_eq!(s.snapshot_cow_bytes(), 0);
        assert_same(&image, &want);
        // A second snapshot after all that sees the state as it is now.
        let now_state = model(&s);
        s.snapshot_begin().expect("begin again");
        let mut again = Image::new();
        finish(&mut s, &mut again);
        assert_same(&again, &now_state);
    }

    #[test]
    fn flushall_and_swapdb_right_after_begin_keep_the_image() {
        let mut s = populated(4, 600, ShardConfig::default());
        let want = model(&s);
        s.snapshot_begin().expect("begin");
        let mut image = Image::new();
        step(&mut s, 1, &mut image).expect("step");
        run(&mut s, 0, NOW, Op::SwapDb { a: 0, b: 3 });
        run(&mut s, 1, NOW, Op::SwapDb { a: 1, b: 9 });
        run(&mut s, 2, NOW, Op::FlushDb);
        assert!(
            s.snapshot_cow_bytes() > 0,
            "FLUSHDB keeps the unserialized segments"
        );
        write_key(&mut s, 2, NOW, 1, 77);
        write_key(&mut s, 9, NOW, 2, 77);
        run(&mut s, 0, NOW, Op::FlushAll);
        write_key(&mut s, 5, NOW, 3, 77);
        finish(&mut s, &mut image);
        assert_same(&image, &want);
    }

    #[test]
    fn reads_never_copy() {
        for policy in [EvictionPolicy::NoEviction, EvictionPolicy::AllKeysLfu] {
            let config = ShardConfig {
                maxmemory_policy: policy,
                ..ShardConfig::default()
            };
            let mut s = populated(2, 1500, config);
            let want = model(&s);
            s.snapshot_begin().expect("begin");
            let mut image = Image::new();
            step(&mut s, 1, &mut image).expect("step");
            for i in 0..1600 {
                let key = bk(format!("k{i}"));
                for db in 0..2 {
                    run(&mut s, db, NOW + 5000, Op::Get { key: key.clone() });
                    run(
                        &mut s,
                        db,
                        NOW,
                        Op::Exists {
                            keys: vec![key.clone()],
                        },
                    );
                    run(&mut s, db, NOW, Op::Type { key: key.clone() });
                    run(
                        &mut s,
                        db,
                        NOW,
                        Op::Lists(ListOp::Range {
                            key: key.clone(),
                            start: 0,
                            stop: -1,
                        }),
                    );
                    run(
                        &mut s,
                        db,
                        NOW,
                        Op::Hashes(HashOp::HGet {
                            key: key.clone(),
                            field: b("f1"),
                        }),
                    );
                }
            }
            assert_eq!(
                s.snapshot_cow_bytes(),
                0,
                "{policy:?}: a read copied a segment"
            );
            // Not vacuous: one write to a pending segment does copy.
            run(
                &mut s,
                1,
                NOW,
                Op::Del {
                    keys: vec![b("k5")],
                },
            );
            assert!(s.snapshot_cow_bytes() > 0, "{policy:?}");
            finish(&mut s, &mut image);
            assert_same(&image, &want);
        }
    }

    #[test]
    fn nothing_written_means_nothing_copied() {
        let mut s = populated(3, 1000, ShardConfig::default());
        let want = model(&s);
        s.snapshot_begin().expect("begin");
        let mut image = Image::new();
        loop {
            assert_eq!(s.snapshot_cow_bytes(), 0);
            if step(&mut s, 2, &mut image).expect("step") {
                break;
            }
        }
        assert_same(&image, &want);
        // An idle shard completes in one call with a large budget; empty dbs cost nothing.
        let mut empty = Shard::new(1, ShardConfig::default());
        empty.snapshot_begin().expect("begin");
        let mut none = Image::new();
        assert!(step(&mut empty, 1, &mut none).expect("step"));
        assert!(none.is_empty());
    }

    #[test]
    fn eviction_during_a_snapshot_keeps_the_image() {
        let mut s = populated(2, 1500, ShardConfig::default());
        let want = model(&s);
        let mut config = s.config().clone();
        config.maxmemory = (s.used_memory_estimate() / 2) as u64;
        config.maxmemory_policy = EvictionPolicy::AllKeysRandom;
        s.set_config(config);
        s.snapshot_begin().expect("begin");
        let mut image = Image::new();
        step(&mut s, 1, &mut image).expect("step");
        let before: usize = (0..2).map(|d| s.dbs[d].len()).sum();
        write_key(&mut s, 0, NOW, 5000, 1);
        let after: usize = (0..2).map(|d| s.dbs[d].len()).sum();
        assert!(after < before, "nothing was evicted");
        finish(&mut s, &mut image);
        assert_same(&image, &want);
    }

    #[test]
    fn unencodable_entries_and_sink_errors_fail_loudly() {
        let mut s = populated(1, 200, ShardConfig::default());
        s.put_entry(2, Entry::new_test_other(b"odd"), NOW)
            .expect("db 2");
        s.snapshot_begin().expect("begin");
        let mut image = Image::new();
        let err = loop {
            match step(&mut s, 1, &mut image) {
                Ok(false) => {}
                Ok(true) => panic!("an unencodable entry was skipped"),
                Err(e) => break e,
            }
        };
        assert!(
            matches!(&err, SnapshotError::Encode { db: 2, key } if key == b"odd"),
            "{err}"
        );
        assert_eq!(err.to_string(), "cannot serialize key 'odd' of db 2");
        assert!(!s.snapshot_active());
        assert_eq!(s.snapshot_cow_bytes(), 0);

        s.take_entry(2, b"odd", NOW);
        s.snapshot_begin().expect("begin after failure");
        run(
            &mut s,
            0,
            NOW,
            Op::Del {
                keys: vec![b("k1")],
            },
        );
        let err = s
            .snapshot_step(5, &mut |_, _, _, _| Err(std::io::Error::other("disk full")))
            .expect_err("sink error");
        assert!(matches!(err, SnapshotError::Sink(_)));
        assert_eq!(err.to_string(), "snapshot write failed: disk full");
        assert!(!s.snapshot_active());
        assert_eq!(s.snapshot_cow_bytes(), 0);
        s.snapshot_begin().expect("begin after abort");
        s.snapshot_abort();
        assert!(!s.snapshot_active());
    }

    /// An entry of every type and encoding (listed by name), with and without TTLs.
    fn every_type(s: &mut Shard) -> Vec<(&'static str, Vec<u8>)> {
        let mut keys = Vec::new();
        let mut put = |s: &mut Shard, name: &'static str, key: &str, op: Op| {
            let r = run(s, 0, NOW, op);
            assert!(!matches!(r, Reply::Err(_)), "{name}: {r:?}");
            keys.push((name, key.as_bytes().to_vec()));
        };
        let set = |key: &str, value: &str, expire| Op::Set {
            key: b(key),
            value: b(value),
            cond: SetCond::Always,
            expire,
            get: false,
        };
        put(s, "embstr", "s", set("s", "hello", ExpireSpec::Clear));
        put(s, "int", "i", set("i", "-12345", ExpireSpec::In(50_000)));
        put(s, "raw", "r", set("r", &"x".repeat(300), ExpireSpec::Clear));
        let members = |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(|j| bk(f(j))).collect();
        put(
            s,
            "listpack list",
            "l1",
            Op::Lists(ListOp::Push {
                key: b("l1"),
                end: End::Tail,
                elements: members(5, &|j| format!("e{j}")),
                only_if_exists: false,
            }),
        );
        put(
            s,
            "quicklist",
            "l2",
            Op::Lists(ListOp::Push {
                key: b("l2"),
                end: End::Tail,
                elements: members(3000, &|j| format!("element-{j}")),
                only_if_exists: false,
            }),
        );
        put(
            s,
            "intset",
            "s1",
            Op::Sets(SetOp::Add {
                key: b("s1"),
                members: members(10, &|j| j.to_string()),
            }),
        );
        put(
            s,
            "listpack set",
            "s2",
            Op::Sets(SetOp::Add {
                key: b("s2"),
                members: members(10, &|j| format!("m{j}")),
            }),
        );
        put(
            s,
            "hashtable set",
            "s3",
            Op::Sets(SetOp::Add {
                key: b("s3"),
                members: members(600, &|j| format!("m{j}")),
            }),
        );
        put(
            s,
            "listpack zset",
            "z1",
            Op::ZSets(ZSetOp::Add {
                key: b("z1"),
                flags: ZAddFlags::default(),
                pairs: (0..5)
                    .map(|j| (j as f64 / 3.0, bk(format!("z{j}"))))
                    .collect(),
            }),
        );
        put(
            s,
            "skiplist zset",
            "z2",
            Op::ZSets(ZSetOp::Add {
                key: b("z2"),
                flags: ZAddFlags::default(),
                pairs: (0..300)
                    .map(|j| (j as f64 - 150.5, bk(format!("z{j}"))))
                    .collect(),
            }),
        );
        let hset = |key: &str, n: usize| {
            Op::Hashes(HashOp::HSet {
                key: b(key),
                pairs: (0..n)
                    .map(|j| (bk(format!("f{j}")), bk(format!("v{j}"))))
                    .collect(),
                legacy: false,
            })
        };
        put(s, "listpack hash", "h1", hset("h1", 5));
        put(s, "hashtable hash", "h2", hset("h2", 300));
        for (name, key, n) in [
            ("listpack hash + field TTL", "h3", 5),
            ("hashtable hash + field TTL", "h4", 300),
        ] {
            put(s, name, key, hset(key, n));
            put(
                s,
                name,
                key,
                Op::Hashes(HashOp::HExpire {
                    key: b(key),
                    at: FieldExpire::In(90_000),
                    cond: ExpireCond::Always,
                    fields: vec![b("f1"), b("f3")],
                    cmd: "hpexpire",
                }),
            );
        }
        keys.dedup();
        let stream = crate::cmd::dump::tests::payload("stream");
        assert_eq!(s.load_entry(0, b"x", NOW + 70_000, stream, NOW), Ok(true));
        keys.push(("stream with groups", b"x".to_vec()));
        keys
    }

    #[test]
    fn load_entry_round_trips_every_type() {
        let mut s = Shard::new(0, ShardConfig::default());
        let keys = every_type(&mut s);
        let want = model(&s);
        s.snapshot_begin().expect("begin");
        let mut image = Image::new();
        finish(&mut s, &mut image);
        assert_same(&image, &want);
        let mut fresh = Shard::new(1, ShardConfig::default());
        for ((db, key), (exp, payload)) in &image {
            assert_eq!(fresh.load_entry(*db, key, *exp, payload, NOW), Ok(true));
        }
        assert_same(&model(&fresh), &want);
        for (name, key) in &keys {
            let a = s.clone_entry(0, key, NOW).expect("original");
            let c = fresh.clone_entry(0, key, NOW).expect("loaded");
            assert_eq!(a.encoding_name(), c.encoding_name(), "{name}");
            assert_eq!(a.expire_at_ms(), c.expire_at_ms(), "{name}");
            assert_eq!(a.value(), c.value(), "{name}");
            assert_eq!(a.string_value(), c.string_value(), "{name}");
        }
        let h4 = fresh.clone_entry(0, b"h4", NOW).expect("h4");
        let Some(LargeValue::Hash(h)) = h4.value() else {
            panic!("h4 is not a hash")
        };
        assert_eq!(h.get(b"f3").map(|f| f.expire_at), Some(NOW + 90_000));
        assert_eq!(h.get(b"f2").map(|f| f.expire_at), Some(0));
    }

    #[test]
    fn load_entry_skips_expired_and_rejects_bad_payloads() {
        let mut s = Shard::new(0, ShardConfig::default());
        let mut h = HashValue::new();
        h.set(
            b"f",
            b"v",
            false,
            HashLimits {
                max_entries: 128,
                max_value: 64,
            },
        );
        let e = Entry::new_value(b"h", LargeValue::Hash(h), None, 0);
        let p = codec::dump_payload(&e).expect("payload");
        assert_eq!(s.load_entry(3, b"h", NOW + 1, &p, NOW), Ok(true));
        assert_eq!(s.keyspace_info(), vec![(3, 1, 1)]);
        // Already expired: not stored, and it replaces (removes) the older entry.
        assert_eq!(s.load_entry(3, b"h", NOW, &p, NOW), Ok(false));
        assert_eq!(s.load_entry(3, b"g", 5, &p, NOW), Ok(false));
        assert_eq!(s.keyspace_info(), vec![]);
        let mut bad = p.clone();
        bad[1] ^= 0x40;
        assert!(matches!(
            s.load_entry(0, b"h", 0, &bad, NOW),
            Err(OpError::Other(_))
        ));
        assert!(matches!(
            s.load_entry(0, b"h", 0, b"short", NOW),
            Err(OpError::Other(_))
        ));
        assert_eq!(
            s.load_entry(DATABASES, b"h", 0, &p, NOW),
            Err(OpError::DbIndexOutOfRange)
        );
        // A structurally bad object with a valid footer.
        let junk = codec::seal_payload(vec![4, 5, 1]);
        assert_eq!(
            s.load_entry(0, b"h", 0, &junk, NOW),
            Err(OpError::Other("ERR Bad data format".into()))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn snapshot_matches_model_under_random_ops(
            seed in any::<u64>(),
            ops in proptest::collection::vec((any::<u64>(), 0usize..4, 0u64..1200, 0u64..1000, 0usize..30), 1..120),
        ) {
            let mut s = populated(2, 900 + seed % 300, ShardConfig::default());
            let want = model(&s);
            s.snapshot_begin().expect("begin");
            let mut image = Image::new();
            let mut now = NOW;
            let mut done = false;
            for (kind, db, i, salt, steps_before) in ops {
                if steps_before % 3 == 0 && !done {
                    done = step(&mut s, 1, &mut image).expect("step");
                }
                mutate(&mut s, &mut now, kind, db, i, salt);
            }
            if !done {
                finish(&mut s, &mut image);
            }
            prop_assert_eq!(s.snapshot_cow_bytes(), 0);
            prop_assert_eq!(image.len(), want.len());
            prop_assert!(image == want, "image differs from the begin state");
        }
    }
}
