//! Round-trip tests of `Op::to_command` (engine/src/ir/unparse): for every write command of the
//! table, with its options, `parse(line)` → op → `to_command(NOW)` → `parse` must give back the
//! same op (or, for relative times, the op of a hand-written absolute command line), and the
//! two ops must have the same effect on a populated shard (replies and every key's value and
//! TTL compared).

use std::collections::BTreeSet;

use bytes::Bytes;
use moon_engine::DATABASES;
use moon_engine::ir::ops::DumpOp;
use moon_engine::ir::{ExecCtx, Op, Reply};
use moon_engine::shard::{Shard, ShardConfig};

use super::{Command, parse, table};

/// The time every op executes at.
const NOW: u64 = 1_700_000_000_000;

/// One table line: the command, and when it holds a relative time, the absolute command its
/// canonical form must parse the same as.
struct Case {
    line: String,
    expect: Option<String>,
}

fn exact(line: &str) -> Case {
    Case {
        line: line.to_string(),
        expect: None,
    }
}

fn abs(line: &str, expect: String) -> Case {
    Case {
        line: line.to_string(),
        expect: Some(expect),
    }
}

/// Whitespace-separated arguments; `$P` stands for a DUMP payload (binary).
fn argv(line: &str, payload: &Bytes) -> Vec<Bytes> {
    line.split_whitespace()
        .map(|w| {
            if w == "$P" {
                payload.clone()
            } else {
                Bytes::copy_from_slice(w.as_bytes())
            }
        })
        .collect()
}

fn op_of(args: &[Bytes]) -> Op {
    match parse(args) {
        Ok(Command::Op(op)) => op,
        other => panic!("{:?} does not parse to an op: {other:?}", show(args)),
    }
}

fn show(args: &[Bytes]) -> String {
    args.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keys of every type (and one in db 1) for the ops to work on.
const FIXTURE: &[&str] = &[
    "SET str 10",
    "SET str2 hello PX 100000000",
    "SET s3 world",
    "RPUSH list a b c d e",
    "RPUSH list2 x y",
    "HSET hash f1 v1 f2 v2 f3 5 n 1.5",
    "HSET hash2 a 1 b 2",
    "HPEXPIRE hash2 100000000 FIELDS 1 a",
    "SADD set a b c d",
    "SADD set2 c d e",
    "ZADD zset 1 a 2 b 3 c 4 d",
    "ZADD zset2 2 b 3 c 5 e",
    "XADD st 1-1 f v",
    "XADD st 2-1 f v",
    "XADD st 3-1 f v",
    "XGROUP CREATE st g 0",
    "XREADGROUP GROUP g c COUNT 2 STREAMS st >",
    "GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "PFADD hll a b c",
    "SETBIT bits 3 1",
    "SETBIT bits 12 1",
    "SET w_a 3",
    "SET w_b 1",
    "FT.SUGADD sug hello 1 PAYLOAD p0",
];

fn ctx(db: usize, now_ms: u64) -> ExecCtx {
    ExecCtx {
        db,
        now_ms,
        no_touch: false,
    }
}

fn populated() -> Shard {
    let mut shard = Shard::new(0, ShardConfig::default());
    let none = Bytes::new();
    for line in FIXTURE {
        let reply = shard.apply(&ctx(0, NOW - 1000), &op_of(&argv(line, &none)));
        assert!(!reply.is_err(), "{line}: {reply:?}");
    }
    let one = op_of(&argv("SET other 1", &none));
    shard.apply(&ctx(1, NOW - 1000), &one);
    shard
}

/// A DUMP payload of a list, for RESTORE.
fn payload() -> Bytes {
    let mut shard = populated();
    let dump = Op::Dump(DumpOp::Dump {
        key: Bytes::from_static(b"list"),
    });
    match shard.apply(&ctx(0, NOW), &dump) {
        Reply::Bulk(p) => p,
        other => panic!("DUMP: {other:?}"),
    }
}

fn at(delta_ms: u64) -> u64 {
    NOW + delta_ms
}

/// Every write command of the table, with the option combinations that map to different op
/// fields.
fn cases() -> Vec<Case> {
    let mut t: Vec<Case> = [
        // ---- strings ----
        "SET k v",
        "SET str v NX",
        "SET str v XX GET",
        "SET str v NX GET",
        "SET str2 v KEEPTTL",
        "SET str v EXAT 1800000000",
        "SET str v PXAT 1800000000123",
        "GETSET str v",
        "SETNX k v",
        "SETNX str v",
        "GETDEL str",
        "GETEX str",
        "GETEX str2 PERSIST",
        "GETEX str EXAT 1800000000",
        "GETEX str PXAT 1800000000001",
        "MSET a 1 b 2",
        "MSETNX a 1 b 2",
        "MSETNX a 1 str 2",
        "APPEND str xyz",
        "INCR str",
        "DECR str",
        "INCRBY str 5",
        "DECRBY str 7",
        "INCRBY str -9223372036854775808",
        "INCRBYFLOAT str 0.1",
        "INCRBYFLOAT str -1e300",
        "INCRBYFLOAT str 1.5e-7",
        "SETRANGE str 3 abc",
        "SETRANGE nokey 2 z",
        // ---- generic keys ----
        "DEL str list nokey",
        "UNLINK str hash",
        "EXPIREAT str 1800000000",
        "EXPIREAT str 1800000000 GT",
        "PEXPIREAT str 1800000000123 NX",
        "PEXPIREAT str2 1800000000123 LT",
        "EXPIRE str 0",
        "EXPIRE str -5",
        "PEXPIRE str 0",
        "EXPIREAT str 0",
        "PEXPIREAT str -1 XX",
        "PERSIST str2",
        "RENAME str newk",
        "RENAMENX str s3",
        "RENAMENX str newk",
        "COPY str dst",
        "COPY str s3 REPLACE",
        "COPY str x DB 1",
        "COPY str other DB 1 REPLACE",
        "MOVE str 1",
        "FLUSHDB",
        "FLUSHDB ASYNC",
        "FLUSHALL",
        "FLUSHALL SYNC",
        "SWAPDB 0 1",
        // ---- lists ----
        "LPUSH list x y",
        "RPUSH newl x",
        "LPUSHX list x",
        "RPUSHX nokey x",
        "LPOP list",
        "LPOP list 2",
        "RPOP list",
        "RPOP list 0",
        "LSET list 1 z",
        "LSET list -1 z",
        "LSET list x z",
        "LINSERT list BEFORE b z",
        "LINSERT list after b z",
        "LREM list 0 a",
        "LREM list -2 a",
        "LTRIM list 1 -2",
        "LMOVE list list2 LEFT RIGHT",
        "LMOVE list list2 RIGHT LEFT",
        "LMOVE list list LEFT LEFT",
        "RPOPLPUSH list list2",
        "BLMOVE list list2 LEFT LEFT 0",
        "BLMOVE list list2 RIGHT LEFT 1.5",
        "BRPOPLPUSH list list2 2",
        "LMPOP 2 nokey list LEFT",
        "LMPOP 1 list RIGHT COUNT 3",
        "BLMPOP 0.1 2 nokey list LEFT COUNT 2",
        "BLMPOP 0 1 list RIGHT",
        "BLPOP nokey list 0",
        "BRPOP list list2 0.5",
        "BLPOP nokey 0.001",
        // ---- hashes ----
        "HSET hash f1 x nf y",
        "HMSET hash a 1",
        "HSETNX hash f1 x",
        "HSETNX hash nf x",
        "HDEL hash f1 f2 nf",
        "HINCRBY hash f3 7",
        "HINCRBYFLOAT hash n 2.5e3",
        "HEXPIREAT hash 1800000000 GT FIELDS 1 f1",
        "HEXPIREAT hash 1800000000 FIELDS 2 f1 nf",
        "HPEXPIREAT hash 1800000000123 LT FIELDS 1 f2",
        "HPEXPIREAT hash 1 FIELDS 1 f2",
        "HPERSIST hash2 FIELDS 2 a b",
        "HGETDEL hash FIELDS 2 f1 f2",
        "HGETEX hash FIELDS 1 f1",
        "HGETEX hash2 PERSIST FIELDS 1 a",
        "HGETEX hash EXAT 1800000000 FIELDS 1 f1",
        "HGETEX hash PXAT 1800000000123 FIELDS 2 f1 f2",
        "HSETEX hash FIELDS 1 f1 x",
        "HSETEX hash2 FXX KEEPTTL FIELDS 1 a x",
        "HSETEX hash FNX FIELDS 1 f1 x",
        "HSETEX hash PXAT 1800000000000 FIELDS 2 z 1 y 2",
        "HSETEX hash EXAT 1800000000 FIELDS 1 z 1",
        // ---- sets ----
        "SADD set x y a",
        "SREM set a nx",
        "SPOP set",
        "SPOP set 2",
        "SPOP set 0",
        "SMOVE set set2 a",
        "SINTERSTORE d set set2",
        "SUNIONSTORE d set set2 nokey",
        "SDIFFSTORE d set set2",
        // ---- sorted sets ----
        "ZADD zset 5 e",
        "ZADD zset NX CH 5 e 6 f",
        "ZADD zset XX GT CH 10 a 0 b",
        "ZADD zset LT INCR -1 b",
        "ZADD zset inf x -inf y",
        "ZADD zset 1.5e-300 t 0.1 u -0 v",
        "ZADD zset XX 0.30000000000000004 a",
        "ZINCRBY zset 2.5 a",
        "ZREM zset a b nx",
        "ZRANGESTORE d zset 0 -1",
        "ZRANGESTORE d zset 0 1 REV",
        "ZRANGESTORE d zset (1 +inf BYSCORE LIMIT 1 2",
        "ZRANGESTORE d zset +inf (1 BYSCORE REV",
        "ZRANGESTORE d zset -inf 2.5 BYSCORE",
        "ZRANGESTORE d zset [a (c BYLEX",
        "ZRANGESTORE d zset + - BYLEX REV LIMIT 0 2",
        "ZREMRANGEBYRANK zset 0 1",
        "ZREMRANGEBYSCORE zset -inf (2",
        "ZREMRANGEBYSCORE zset (1.5 +inf",
        "ZREMRANGEBYLEX zset - [b",
        "ZREMRANGEBYLEX zset (a +",
        "ZPOPMIN zset",
        "ZPOPMAX zset 2",
        "ZPOPMIN zset 0",
        "BZPOPMIN nokey zset 0",
        "BZPOPMAX zset 1.5",
        "ZMPOP 2 nokey zset MIN",
        "ZMPOP 1 zset MAX COUNT 2",
        "BZMPOP 0 1 zset MIN COUNT 10",
        "BZMPOP 2.5 2 zset zset2 MAX",
        "ZUNIONSTORE d 2 zset zset2",
        "ZUNIONSTORE d 2 zset zset2 WEIGHTS 2 0.5 AGGREGATE MAX",
        "ZINTERSTORE d 2 zset zset2 AGGREGATE MIN",
        "ZINTERSTORE d 2 zset zset2 WEIGHTS 1 -inf",
        "ZDIFFSTORE d 2 zset zset2",
        // ---- streams ----
        "XADD st * f v",
        "XADD st 10-* f v",
        "XADD st 10-5 f v a b",
        "XADD st NOMKSTREAM MAXLEN 2 * f v",
        "XADD st MAXLEN ~ 10 LIMIT 5 * f v",
        "XADD st MINID = 2-0 * f v",
        "XADD st MINID ~ 2 * f v",
        "XADD nost NOMKSTREAM * f v",
        "XDEL st 1-1 2-1",
        "XDEL st x",
        "XTRIM st MAXLEN 1",
        "XTRIM st MINID ~ 2 LIMIT 10",
        "XTRIM st MAXLEN = 0",
        "XGROUP CREATE st g2 $",
        "XGROUP CREATE st g2 0 ENTRIESREAD 1",
        "XGROUP CREATE nost g 0 MKSTREAM",
        "XGROUP CREATE st g2 x",
        "XGROUP CREATE st g2 0 MKSTREAM ENTRIESREAD 1 MKSTREAM",
        "XGROUP SETID st g 1-1",
        "XGROUP SETID st g $ ENTRIESREAD 3",
        "XGROUP SETID st g -",
        "XGROUP SETID st g 0 ENTRIESREAD 1 ENTRIESREAD 2",
        "XGROUP DESTROY st g",
        "XGROUP CREATECONSUMER st g c2",
        "XGROUP DELCONSUMER st g c",
        "XACK st g 1-1 2-1",
        "XACK st g x",
        "XCLAIM st g c2 0 1-1",
        "XCLAIM st g c2 0 1-1 TIME 1699999999000 RETRYCOUNT 3 FORCE JUSTID LASTID 2-1",
        "XCLAIM st g c2 0 FORCE",
        "XCLAIM st g c2 0 1-1 2-1 TIME -5",
        "XAUTOCLAIM st g c2 0 0",
        "XAUTOCLAIM st g c2 0 (1-1 COUNT 1 JUSTID",
        "XSETID st 5-0",
        "XSETID st 5-0 ENTRIESADDED 10 MAXDELETEDID 4-0",
        "XREADGROUP GROUP g c STREAMS st >",
        "XREADGROUP GROUP g c COUNT 1 BLOCK 100 NOACK STREAMS st 0",
        "XREADGROUP GROUP g c2 STREAMS st nost > 0-0",
        "XREADGROUP GROUP g c STREAMS st $",
        "XREADGROUP GROUP g c STREAMS st +",
        "XREADGROUP GROUP g c STREAMS st x",
        // ---- bitmaps ----
        "SETBIT bits 7 1",
        "SETBIT bits 100 0",
        "BITOP AND d bits str",
        "BITOP OR d bits str",
        "BITOP XOR d bits str nokey",
        "BITOP NOT d bits",
        "BITOP DIFF d bits str",
        "BITOP DIFF1 d bits str",
        "BITOP ANDOR d bits str",
        "BITOP ONE d bits str",
        "BITFIELD bits SET i8 0 -5",
        "BITFIELD bits GET u4 0 OVERFLOW SAT INCRBY u4 #1 100 OVERFLOW FAIL SET i64 8 1 GET i8 0",
        "BITFIELD bits OVERFLOW SAT GET u4 0 OVERFLOW WRAP INCRBY i3 2 9",
        // ---- hyperloglog ----
        "PFADD hll x y",
        "PFADD hll2",
        "PFMERGE d hll",
        "PFMERGE hll",
        "PFCOUNT hll",
        // ---- geo ----
        "GEOADD geo 13.5 38.1 m1",
        "GEOADD geo NX CH 13.5 38.1 m1 -180 -85.05112878 m2",
        "GEOADD geo XX 1 2 Palermo",
        "GEORADIUS geo 15 37 200 km STORE d",
        "GEORADIUS geo 15 37 200 km ASC COUNT 1 STOREDIST d",
        "GEORADIUS geo 15 37 200.5 mi DESC COUNT 2 ANY STORE d",
        "GEORADIUSBYMEMBER geo Palermo 200 km STORE d",
        "GEORADIUSBYMEMBER geo Palermo 100000 ft STOREDIST d",
        "GEORADIUSBYMEMBER nokey Palermo x km STORE d",
        "GEORADIUSBYMEMBER nokey Palermo -1 km STORE d",
        "GEORADIUSBYMEMBER nokey Palermo 1 yd STORE d",
        "GEOSEARCHSTORE d geo FROMMEMBER Palermo BYRADIUS 200 km",
        "GEOSEARCHSTORE d geo FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 200000 m",
        "GEOSEARCHSTORE d geo FROMLONLAT 15 37 BYBOX 400 400 km DESC COUNT 1 ANY STOREDIST",
        "GEOSEARCHSTORE d nokey FROMLONLAT 15 37 BYRADIUS 1 km",
        // ---- dump ----
        "RESTORE newk 0 $P",
        "RESTORE str 0 $P REPLACE",
        "RESTORE newk 1800000000000 $P ABSTTL",
        "RESTORE newk 0 $P IDLETIME 10",
        "RESTORE newk 0 $P FREQ 5 REPLACE",
        "RESTORE newk x $P",
        "RESTORE newk -5 $P",
        // ---- sort ----
        "SORT list ALPHA STORE d",
        "SORT zset BY nosort LIMIT 0 2 GET # GET w_* DESC STORE d",
        "SORT set ALPHA DESC LIMIT 1 -1 STORE d",
        // ---- suggestion dictionaries ----
        "FT.SUGADD sug help 2.5",
        "FT.SUGADD sug hello 0.1 INCR PAYLOAD p1",
        "FT.SUGADD newsug Hello 1e-7",
        "FT.SUGADD sug x notanumber",
        "FT.SUGADD str x 1",
        "FT.SUGDEL sug hello",
        "FT.SUGDEL sug nope",
    ]
    .into_iter()
    .map(exact)
    .collect();
    // Relative times, made absolute against NOW.
    t.extend([
        abs("SET str v EX 10", format!("SET str v PXAT {}", at(10_000))),
        abs(
            "SET str v PX 1500 NX GET",
            format!("SET str v NX GET PXAT {}", at(1500)),
        ),
        abs("SETEX str 10 v", format!("SET str v PXAT {}", at(10_000))),
        abs("PSETEX str 1500 v", format!("SET str v PXAT {}", at(1500))),
        abs("GETEX str2 EX 5", format!("GETEX str2 PXAT {}", at(5000))),
        abs("GETEX str PX 5", format!("GETEX str PXAT {}", at(5))),
        abs("EXPIRE str 100", format!("PEXPIREAT str {}", at(100_000))),
        abs(
            "EXPIRE str 100 NX",
            format!("PEXPIREAT str {} NX", at(100_000)),
        ),
        abs(
            "EXPIRE str2 100 XX",
            format!("PEXPIREAT str2 {} XX", at(100_000)),
        ),
        abs(
            "EXPIRE str2 100 GT",
            format!("PEXPIREAT str2 {} GT", at(100_000)),
        ),
        abs(
            "EXPIRE str2 100 XX LT",
            format!("PEXPIREAT str2 {} XX LT", at(100_000)),
        ),
        abs(
            "PEXPIRE str 1500 LT",
            format!("PEXPIREAT str {} LT", at(1500)),
        ),
        abs(
            "HEXPIRE hash 100 FIELDS 2 f1 f2",
            format!("HPEXPIREAT hash {} FIELDS 2 f1 f2", at(100_000)),
        ),
        abs(
            "HEXPIRE hash 100 NX FIELDS 1 f1",
            format!("HPEXPIREAT hash {} NX FIELDS 1 f1", at(100_000)),
        ),
        abs(
            "HPEXPIRE hash2 1500 XX FIELDS 2 a b",
            format!("HPEXPIREAT hash2 {} XX FIELDS 2 a b", at(1500)),
        ),
        abs(
            "HEXPIRE hash 0 FIELDS 1 f1",
            format!("HPEXPIREAT hash {NOW} FIELDS 1 f1"),
        ),
        abs(
            "HGETEX hash EX 10 FIELDS 1 f1",
            format!("HGETEX hash PXAT {} FIELDS 1 f1", at(10_000)),
        ),
        abs(
            "HGETEX hash PX 10 FIELDS 1 f1",
            format!("HGETEX hash PXAT {} FIELDS 1 f1", at(10)),
        ),
        abs(
            "HSETEX hash FNX EX 10 FIELDS 2 a 1 b 2",
            format!("HSETEX hash FNX PXAT {} FIELDS 2 a 1 b 2", at(10_000)),
        ),
        abs(
            "HSETEX hash PX 100 FIELDS 1 f1 x",
            format!("HSETEX hash PXAT {} FIELDS 1 f1 x", at(100)),
        ),
        abs(
            "XCLAIM st g c2 0 1-1 2-1 IDLE 500 RETRYCOUNT 3 FORCE JUSTID LASTID 2-1",
            format!(
                "XCLAIM st g c2 0 1-1 2-1 TIME {} RETRYCOUNT 3 FORCE JUSTID LASTID 2-1",
                NOW - 500
            ),
        ),
        abs(
            "RESTORE newk 5000 $P",
            format!("RESTORE newk {} $P ABSTTL", at(5000)),
        ),
        abs(
            "RESTORE newk 5000 $P REPLACE IDLETIME 3",
            format!("RESTORE newk {} $P REPLACE ABSTTL IDLETIME 3", at(5000)),
        ),
    ]);
    t
}

/// Write commands of the table no line above exercises, with the reason.
const NOT_COVERED: &[(&str, &str)] = &[
    // Graph writes log their effect (GRAPH.EFFECT with the recorded mutations), not the
    // query: tests/graph_cmds.rs and tests/graph_persist.rs replay them through a restart.
    ("graph.query", "graph_cmds WAL replay"),
    ("graph.profile", "graph_cmds WAL replay"),
    ("graph.explain", "graph_cmds (never writes)"),
    ("graph.delete", "graph_cmds WAL replay"),
    ("graph.copy", "graph_cmds WAL replay"),
    ("graph.effect", "graph_persist crash replay"),
    (
        "graph.constraint",
        "logged as its effect, GRAPH.EFFECT (moon_engine::shard::graph)",
    ),
    // Their argument is library code (a newline after the shebang) or a binary payload, which
    // these whitespace-split lines cannot hold: scripting_tests.rs round-trips and replays them.
    (
        "function|delete",
        "scripting_tests::wal_commands_round_trip",
    ),
    ("function|flush", "scripting_tests::wal_commands_round_trip"),
    ("function|load", "scripting_tests::wal_commands_round_trip"),
    (
        "function|restore",
        "scripting_tests::wal_commands_round_trip",
    ),
    // They change FT index definitions, which the keyspace comparison here cannot see.
    (
        "ft.create",
        "ft::tests::definition_writes_round_trip_through_the_wal_command",
    ),
    (
        "ft.alter",
        "ft::tests::definition_writes_round_trip_through_the_wal_command",
    ),
    (
        "ft.dropindex",
        "ft::tests::definition_writes_round_trip_through_the_wal_command",
    ),
    (
        "ft.aliasadd",
        "ft::tests::definition_writes_round_trip_through_the_wal_command",
    ),
    (
        "ft.aliasupdate",
        "ft::tests::definition_writes_round_trip_through_the_wal_command",
    ),
    (
        "ft.aliasdel",
        "ft::tests::definition_writes_round_trip_through_the_wal_command",
    ),
    // Dictionaries and synonyms are not keys either.
    (
        "ft.dictadd",
        "ft_aggregate::tests::writes_round_trip_through_the_wal_command",
    ),
    (
        "ft.dictdel",
        "ft_aggregate::tests::writes_round_trip_through_the_wal_command",
    ),
    (
        "ft.synupdate",
        "ft_aggregate::tests::writes_round_trip_through_the_wal_command",
    ),
];

/// Every live key of every database, with its value and TTL, for comparing two shards.
fn same_state(a: &Shard, b: &Shard) -> Result<(), String> {
    for i in 0..DATABASES {
        let (Some(da), Some(db)) = (a.db(i), b.db(i)) else {
            return Err(format!("db {i} missing"));
        };
        let live = |d: &moon_engine::keyspace::Db| {
            d.iter()
                .filter(|e| !e.is_expired(NOW))
                .map(|e| e.key().to_vec())
                .collect::<BTreeSet<_>>()
        };
        let (ka, kb) = (live(da), live(db));
        if ka != kb {
            return Err(format!("db {i}: keys {ka:?} vs {kb:?}"));
        }
        for k in &ka {
            match (da.peek(k, NOW), db.peek(k, NOW)) {
                (Some(x), Some(y)) if x.same_data(y) => {}
                (x, y) => {
                    return Err(format!(
                        "db {i} key {}: {x:?} vs {y:?}",
                        String::from_utf8_lossy(k)
                    ));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn every_write_command_round_trips() {
    let payload = payload();
    let mut failures = Vec::new();
    for case in cases() {
        let args = argv(&case.line, &payload);
        let op = op_of(&args);
        assert!(op.is_write(), "{} is not a write op: {op:?}", case.line);
        let Some(cmd) = op.to_command(NOW) else {
            failures.push(format!("{}: no command", case.line));
            continue;
        };
        let back = match parse(&cmd) {
            Ok(Command::Op(back)) => back,
            other => {
                failures.push(format!("{} → {}: {other:?}", case.line, show(&cmd)));
                continue;
            }
        };
        let want = match &case.expect {
            None => op.clone(),
            Some(line) => {
                // The hand-written form must differ from the relative one, or the case
                // would test nothing.
                let want = op_of(&argv(line, &payload));
                assert_ne!(want, op, "{}", case.line);
                want
            }
        };
        if back != want {
            failures.push(format!(
                "{} → {}\n  got  {back:?}\n  want {want:?}",
                case.line,
                show(&cmd)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn logged_command_has_the_same_effect() {
    let payload = payload();
    let mut failures = Vec::new();
    let mut changed = 0;
    for case in cases() {
        let op = op_of(&argv(&case.line, &payload));
        let Some(cmd) = op.to_command(NOW) else {
            failures.push(format!("{}: no command", case.line));
            continue;
        };
        let back = op_of(&cmd);
        let (mut a, mut b) = (populated(), populated());
        let untouched = populated();
        let ra = a.apply(&ctx(0, NOW), &op);
        let rb = b.apply(&ctx(0, NOW), &back);
        if ra != rb {
            failures.push(format!("{}: replies {ra:?} vs {rb:?}", case.line));
            continue;
        }
        if let Err(e) = same_state(&a, &b) {
            failures.push(format!("{} → {}: {e}", case.line, show(&cmd)));
        }
        if same_state(&a, &untouched).is_err() {
            changed += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The fixture makes most commands do something, so equal effects are not vacuous.
    assert!(changed > 200, "only {changed} cases changed the keyspace");
}

#[test]
fn every_write_command_is_in_the_table() {
    let payload = payload();
    let mut covered = BTreeSet::new();
    for case in cases() {
        let args = argv(&case.line, &payload);
        let spec = super::resolve(&args).unwrap_or_else(|e| panic!("{}: {e:?}", case.line));
        covered.insert(spec.name);
    }
    let mut missing = Vec::new();
    for spec in table::all() {
        for s in std::iter::once(*spec).chain(spec.subcommands.iter()) {
            let is_write = s.flags & table::WRITE != 0;
            let excused = NOT_COVERED.iter().any(|(n, _)| *n == s.name);
            if is_write && !covered.contains(s.name) && !excused {
                missing.push(s.name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "write commands not in the table: {missing:?}"
    );
}

#[test]
fn reads_have_no_command() {
    let none = Bytes::new();
    for line in [
        "GET str",
        "FT.SUGGET sug he FUZZY WITHSCORES",
        "FT.SUGLEN sug",
        "MGET str s3",
        "STRLEN str",
        "GETRANGE str 0 1",
        "SUBSTR str 0 1",
        "LCS str s3",
        "EXISTS str",
        "TOUCH str",
        "TTL str",
        "PTTL str",
        "EXPIRETIME str",
        "TYPE str",
        "KEYS *",
        "RANDOMKEY",
        "DBSIZE",
        "OBJECT ENCODING str",
        "LLEN list",
        "LRANGE list 0 -1",
        "LINDEX list 0",
        "LPOS list a",
        "HGET hash f1",
        "HGETALL hash",
        "HRANDFIELD hash 2",
        "HSCAN hash 0",
        "HTTL hash FIELDS 1 f1",
        "SCARD set",
        "SMEMBERS set",
        "SINTER set set2",
        "SINTERCARD 2 set set2",
        "SRANDMEMBER set 2",
        "SSCAN set 0",
        "ZRANGE zset 0 -1",
        "ZSCORE zset a",
        "ZUNION 2 zset zset2",
        "ZINTERCARD 2 zset zset2",
        "ZRANDMEMBER zset",
        "ZSCAN zset 0",
        "XLEN st",
        "XRANGE st - +",
        "XREAD STREAMS st 0",
        "XREAD BLOCK 0 STREAMS st $",
        "XPENDING st g",
        "XINFO STREAM st",
        "GETBIT bits 0",
        "BITCOUNT bits",
        "BITPOS bits 1",
        "BITFIELD_RO bits GET u8 0",
        "BITFIELD bits GET u8 0",
        "PFCOUNT hll hll2",
        "GEODIST geo Palermo Catania",
        "GEOPOS geo Palermo",
        "GEOSEARCH geo FROMMEMBER Palermo BYRADIUS 1 km",
        "GEORADIUS geo 15 37 200 km",
        "GEORADIUS_RO geo 15 37 200 km",
        "GEORADIUSBYMEMBER geo Palermo 200 km",
        "DUMP str",
        "SORT list ALPHA",
        "SORT_RO list ALPHA",
    ] {
        let op = op_of(&argv(line, &none));
        assert!(!op.is_write(), "{line}");
        assert_eq!(op.to_command(NOW), None, "{line}");
    }
}
