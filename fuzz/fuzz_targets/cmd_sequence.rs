//! Fuzzes a *sequence* of commands end to end below the network layer: parsing and lowering
//! to ops (`moon_resp::commands::parse`), executing them on one shard with its WAL on, then
//! recovering a second shard from that WAL exactly as the server does at start-up.
//!
//! Input layout: commands separated by `0xFE`; in each, byte 0 picks a command of the table
//! (by index, so every family is reached; `0xFD`: the first argument names it), byte 1 is
//! meta (low 2 bits: database 0..3, the rest: how far the clock moves before the command, in
//! 250 ms steps, so TTLs expire), and the remaining bytes are the arguments, split at `0xFF`
//! (`0xFC` escapes the next byte). A RESTORE payload is sealed with a valid version and CRC64
//! so the fuzzer reaches the object decoders and then runs commands on whatever they produced.
//! MULTI ... EXEC groups the ops between them into one WAL Batch record run at one time, as
//! the server's EXEC does. BGSAVE starts a snapshot that advances one segment after each
//! later command (writes interleave with it, as in the server), so recovery then loads a
//! snapshot and replays the WAL written after its LSN.
//!
//! Checks, beyond "never panics": every entry of a snapshot image serializes; every logged
//! effect replays without an error; after recovery every key any command named holds the same
//! value (DUMP, compared decoded) and the same absolute expiry (PEXPIRETIME) in every
//! database, and DBSIZE agrees, on the primary and on the recovered shard. A difference is an
//! acknowledged write that a restart would change.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use moon_engine::DATABASES;
use moon_engine::cmd::dump::codec::{Decoded, decode_object, open_payload};
use moon_engine::ir::{ExecCtx, Op, Reply};
use moon_engine::keyspace::entry::Entry;
use moon_engine::persist::recover::{RecoveryOptions, recover};
use moon_engine::persist::wal::{FsyncPolicy, WalOptions, WalWriter};
use moon_engine::shard::{Shard, ShardConfig};
use moon_formats::rdb;
use moon_formats::snapshot::{SnapshotHeader, SnapshotWriter, snapshot_file_name};
use moon_resp::commands::{Command, parse, table};

/// Start of the injected clock (a realistic Unix time in ms).
const T0: u64 = 1_700_000_000_000;
/// Commands run per input at most: keeps one execution well under a millisecond or so.
const MAX_COMMANDS: usize = 24;
/// Commands whose reply size is a count argument, not the data (SRANDMEMBER key -1e9 is a
/// legitimate billion-element reply): they would only make the fuzzer time out.
/// A pick byte meaning "the arguments name the command themselves" (seeds are written so).
const BY_NAME: u8 = 0xFD;
const SKIP: &[&str] = &["srandmember", "hrandfield", "zrandmember", "debug"];

fuzz_target!(|data: &[u8]| {
    let commands = commands_from(data);
    if commands.is_empty() {
        return;
    }
    let dir = wal_dir();
    let _ = std::fs::remove_dir_all(&dir);
    let mut primary = Shard::new(0, config());
    let Ok(writer) = WalWriter::open(wal_options(&dir), 1, T0) else {
        return;
    };
    primary.wal_attach(writer);

    let mut now = T0;
    let mut named: Vec<(usize, Bytes)> = Vec::new();
    let mut in_batch = false;
    // A snapshot in progress: its LSN and the file being written. It advances one segment
    // after each command, so writes interleave with it as in the server's event loop.
    let mut snap: Option<(u64, SnapshotWriter<Vec<u8>>)> = None;
    for (db, advance, args) in &commands {
        let name = args.first().map(|n| n.to_ascii_lowercase());
        // MULTI/EXEC as the server logs it: one Batch record, every op at the EXEC's time.
        match name.as_deref() {
            Some(b"multi") if !in_batch => {
                now += advance;
                primary.wal_begin_batch(now);
                in_batch = true;
                continue;
            }
            Some(b"exec") if in_batch => {
                primary.wal_end_batch();
                primary
                    .wal_flush(now)
                    .expect("the WAL writes to a temp dir");
                in_batch = false;
                continue;
            }
            Some(b"bgsave" | b"bgrewriteaof") if !in_batch && snap.is_none() => {
                now += advance;
                snap = Some(snapshot_start(&mut primary, now));
                continue;
            }
            _ => {}
        }
        if !in_batch {
            now += advance;
        }
        let Ok(Command::Op(op)) = parse(args) else {
            continue;
        };
        for key in op.keys() {
            for d in 0..DATABASES.min(4) {
                named.push((d, key.clone()));
            }
        }
        let ctx = ExecCtx {
            db: *db,
            now_ms: now,
            no_touch: false,
        };
        let _ = primary.apply(&ctx, &op);
        if !in_batch {
            primary
                .wal_flush(now)
                .expect("the WAL writes to a temp dir");
            if let Some((lsn, writer)) = snap.take() {
                snap = snapshot_step(&mut primary, &dir, lsn, writer, 1);
            }
        }
    }
    if in_batch {
        primary.wal_end_batch();
        primary
            .wal_flush(now)
            .expect("the WAL writes to a temp dir");
    }
    if let Some((lsn, writer)) = snap.take() {
        let left = snapshot_step(&mut primary, &dir, lsn, writer, usize::MAX);
        assert!(left.is_none(), "an unbounded step completes the snapshot");
    }
    assert!(
        primary.wal_failure().is_none(),
        "{:?}",
        primary.wal_failure()
    );
    drop(primary.wal_detach(now));

    let mut replica = Shard::new(0, config());
    let opts = RecoveryOptions {
        skip_corrupt: false,
        now_ms: now,
        shard_count: 1,
    };
    let report = recover(&mut replica, &dir, opts, &parse_logged).expect("own WAL recovers");
    assert_eq!(
        report.replay_errors, 0,
        "a logged effect failed on replay: {report:?}"
    );

    named.sort();
    named.dedup();
    for (db, key) in &named {
        let ctx = ExecCtx {
            db: *db,
            now_ms: now,
            no_touch: true,
        };
        let dump = op_of(&[b"DUMP", key]);
        let (a, b) = (primary.apply(&ctx, &dump), replica.apply(&ctx, &dump));
        assert!(
            same_dump(key, &a, &b),
            "db {db} key {key:?}: primary {a:?}, after replay {b:?}\ncommands: {commands:?}"
        );
        let ttl = op_of(&[b"PEXPIRETIME", key]);
        let (a, b) = (primary.apply(&ctx, &ttl), replica.apply(&ctx, &ttl));
        assert_eq!(a, b, "db {db} key {key:?}: expiry differs after replay");
    }
    for db in 0..DATABASES {
        let ctx = ExecCtx {
            db,
            now_ms: now,
            no_touch: true,
        };
        let size = op_of(&[b"DBSIZE"]);
        assert_eq!(
            primary.apply(&ctx, &size),
            replica.apply(&ctx, &size),
            "db {db}: DBSIZE differs after replay\ncommands: {commands:?}"
        );
    }
});

/// Starts a snapshot as the server's `snapshot_start` does: the WAL rotates to a segment
/// starting after the image's LSN, then the image begins (functions first).
fn snapshot_start(primary: &mut Shard, now: u64) -> (u64, SnapshotWriter<Vec<u8>>) {
    primary
        .wal_flush(now)
        .expect("the WAL writes to a temp dir");
    let lsn = primary.next_lsn() - 1;
    if let Some(w) = primary.wal_writer() {
        w.rotate(lsn + 1, now)
            .expect("the WAL rotates in a temp dir");
    }
    let header = SnapshotHeader::new(0, 1, lsn, now);
    let mut writer = SnapshotWriter::new(Vec::new(), &header).expect("writes to a Vec");
    primary.snapshot_begin().expect("no snapshot is running");
    primary
        .snapshot_functions(&mut |name, code| writer.add_function(name, code))
        .expect("writes to a Vec");
    (lsn, writer)
}

/// Serializes up to `segments` more segments; once the image is complete, seals it as the
/// shard's snapshot file and returns `None`.
fn snapshot_step(
    primary: &mut Shard,
    dir: &std::path::Path,
    lsn: u64,
    mut writer: SnapshotWriter<Vec<u8>>,
    segments: usize,
) -> Option<(u64, SnapshotWriter<Vec<u8>>)> {
    let done = primary
        .snapshot_step(segments, &mut |db, key, expire, payload| {
            writer.add_entry(db as u16, key, expire, payload)
        })
        .expect("every entry of the image serializes");
    if !done {
        return Some((lsn, writer));
    }
    let (bytes, _) = writer.finish().expect("writes to a Vec");
    std::fs::write(dir.join(snapshot_file_name(lsn)), bytes).expect("a temp dir");
    None
}

/// Decodes the input into `(db, clock advance in ms, argv)` commands.
fn commands_from(data: &[u8]) -> Vec<(usize, u64, Vec<Bytes>)> {
    let all = table::all();
    let mut out = Vec::new();
    for (pick, meta, given) in split_input(data).into_iter().take(MAX_COMMANDS) {
        let mut args: Vec<Bytes> = Vec::new();
        if pick != BY_NAME {
            let Some(spec) = all.get(usize::from(pick) % all.len().max(1)) else {
                continue;
            };
            args.extend(
                spec.name
                    .split('|')
                    .map(|p| Bytes::copy_from_slice(p.as_bytes())),
            );
        }
        args.extend(given.into_iter().map(Bytes::from));
        let Some(name) = args.first() else {
            continue;
        };
        if SKIP.iter().any(|s| name.eq_ignore_ascii_case(s.as_bytes())) {
            continue;
        }
        if name.eq_ignore_ascii_case(b"restore")
            && let Some(payload) = args.get_mut(3)
        {
            *payload = Bytes::from(rdb::seal_payload(payload.to_vec()));
        }
        out.push((usize::from(meta & 3), u64::from(meta >> 2) * 250, args));
    }
    out
}

/// Splits the input into `(pick, meta, args)`: `0xFE` ends a command, `0xFF` an argument, and
/// `0xFC` takes the next byte literally (so seeds can carry binary DUMP payloads).
fn split_input(data: &[u8]) -> Vec<(u8, u8, Vec<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut bytes = data.iter().copied();
    'commands: loop {
        let (Some(pick), Some(meta)) = (bytes.next(), bytes.next()) else {
            break;
        };
        let mut args: Vec<Vec<u8>> = Vec::new();
        let mut cur: Option<Vec<u8>> = None;
        loop {
            match bytes.next() {
                None => {
                    args.extend(cur.take());
                    out.push((pick, meta, args));
                    break 'commands;
                }
                Some(0xFE) => {
                    args.extend(cur.take());
                    out.push((pick, meta, args));
                    continue 'commands;
                }
                Some(0xFF) => args.push(cur.take().unwrap_or_default()),
                Some(0xFC) => cur.get_or_insert_default().extend(bytes.next()),
                Some(b) => cur.get_or_insert_default().push(b),
            }
        }
    }
    out
}

/// The server's recovery parser (`frontends/server/src/persist.rs`, `recover_one`).
fn parse_logged(argv: &[Vec<u8>]) -> Result<Op, String> {
    let args: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    match parse(&args) {
        Ok(Command::Op(op)) => Ok(op),
        Ok(_) => Err("not a data command".into()),
        Err(e) => Err(format!("{e:?}")),
    }
}

fn op_of(argv: &[&[u8]]) -> Op {
    let args: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    match parse(&args) {
        Ok(Command::Op(op)) => op,
        other => panic!("{argv:?} is not an op: {other:?}"),
    }
}

/// Both nil, or both payloads decode to the same value. Compared decoded, not byte for byte:
/// a value's encoding (listpack or table) may legitimately depend on its history.
fn same_dump(key: &[u8], a: &Reply, b: &Reply) -> bool {
    match (a, b) {
        (Reply::Nil, Reply::Nil) => true,
        (Reply::Bulk(a), Reply::Bulk(b)) => match (entry(key, a), entry(key, b)) {
            (Some(a), Some(b)) => a.same_data(&b),
            _ => false,
        },
        _ => false,
    }
}

fn entry(key: &[u8], payload: &[u8]) -> Option<Entry> {
    let limits = config().limits;
    Some(match decode_object(open_payload(payload)?, &limits)? {
        Decoded::Str(s) => Entry::new_string(key, &s, None, 0),
        Decoded::Value(v) => Entry::new_value(key, v, None, 0),
    })
}

/// Small strings: a 1 MiB SETRANGE is as good a test as a 512 MiB one, and far faster.
fn config() -> ShardConfig {
    ShardConfig {
        proto_max_bulk_len: 1 << 20,
        shards: 1,
        ..ShardConfig::default()
    }
}

fn wal_options(dir: &std::path::Path) -> WalOptions {
    WalOptions {
        dir: dir.to_path_buf(),
        shard_id: 0,
        shard_count: 1,
        policy: FsyncPolicy::No,
        segment_bytes: 64 << 20,
    }
}

/// One directory per fuzzing process, in tmpfs when there is one (a segment per input).
fn wal_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        base.join(format!("moon-fuzz-cmd-sequence-{}", std::process::id()))
    })
    .clone()
}
