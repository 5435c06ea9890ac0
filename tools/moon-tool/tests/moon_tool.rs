//! End-to-end tests of the `moon-tool` binary over data directories built with the moon-formats
//! writers: two shards, each with a snapshot at LSN 5 (several blocks, two databases, every
//! collection type) and two WAL segments (LSN 4..=6 and 7..=12, a batch at LSN 11; older
//! segments were dropped after the snapshot, so the snapshot is needed).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use moon_formats::rdb::{self, Writer, listpack, seal_payload, types};
use moon_formats::snapshot::{SnapshotHeader, SnapshotReader, SnapshotWriter, snapshot_file_name};
use moon_formats::wal::{
    SegmentHeader, SegmentReader, encode_batch, encode_command, segment_file_name,
};
use serde_json::Value;

const SNAP_LSN: u64 = 5;
const STRINGS: usize = 150;
const BIN_KEY: &[u8] = &[0xff, 0x00, b'k'];
const TTL: u64 = 4_102_444_800_000;

fn ts(lsn: u64) -> u64 {
    1_700_000_000_000 + lsn * 1000
}

fn payload(build: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    build(&mut w);
    seal_payload(w.buf)
}

fn lp(items: &[&[u8]]) -> Vec<u8> {
    let mut b = listpack::Builder::new();
    for i in items {
        b.push_str(i);
    }
    b.finish()
}

fn string(v: &[u8]) -> Vec<u8> {
    payload(|w| {
        w.u8(types::STRING);
        w.string(v);
    })
}

/// Incompressible bytes (so LZF leaves values at their size and the snapshot has many blocks).
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as u8
        })
        .collect()
}

/// Entries of a shard's snapshot: (db, key, expire_ms, payload).
fn snapshot_entries(shard: u16) -> Vec<(u16, Vec<u8>, u64, Vec<u8>)> {
    let mut v = Vec::new();
    for i in 0..STRINGS {
        let key = format!("s{shard}:str:{i:03}").into_bytes();
        v.push((0, key, 0, string(&noise(i as u64, 1000))));
    }
    v.push((
        0,
        b"hash".to_vec(),
        0,
        payload(|w| {
            w.u8(types::HASH_LISTPACK);
            w.string(&lp(&[b"field", b"value", b"n", b"42"]));
        }),
    ));
    v.push((
        0,
        b"list".to_vec(),
        0,
        payload(|w| {
            w.u8(types::LIST_QUICKLIST_2);
            w.len(1);
            w.len(rdb::QUICKLIST_NODE_PACKED);
            w.string(&lp(&[b"a", b"b", b"c"]));
        }),
    ));
    v.push((
        0,
        b"set".to_vec(),
        0,
        payload(|w| {
            w.u8(types::SET);
            w.len(2);
            w.string(b"x");
            w.string(b"y");
        }),
    ));
    v.push((
        0,
        b"zset".to_vec(),
        0,
        payload(|w| {
            w.u8(types::ZSET_LISTPACK);
            w.string(&lp(&[b"m1", b"1.5", b"m2", b"3"]));
        }),
    ));
    v.push((3, b"d3:a".to_vec(), 0, string(b"one")));
    v.push((3, BIN_KEY.to_vec(), TTL, string(&[0x01, 0xfe])));
    v.push((3, b"d3:c".to_vec(), TTL, string(b"three")));
    v
}

const ENTRIES: usize = STRINGS + 4 + 3;

enum Rec {
    Cmd(u16, Vec<Vec<u8>>),
    Batch(Vec<(u16, Vec<Vec<u8>>)>),
}

fn argv(a: &[&[u8]]) -> Vec<Vec<u8>> {
    a.iter().map(|x| x.to_vec()).collect()
}

fn wal_record(lsn: u64) -> Rec {
    let k = format!("k{lsn}").into_bytes();
    let v = format!("v{lsn}").into_bytes();
    match lsn {
        9 => Rec::Cmd(3, argv(&[b"SET", b"bin", &[0xff, b' ', b'"']])),
        10 => Rec::Cmd(0, argv(&[b"DEL", b"k1"])),
        11 => Rec::Batch(vec![
            (0, argv(&[b"INCR", b"counter"])),
            (3, argv(&[b"SET", b"x", b"y"])),
        ]),
        _ => Rec::Cmd(0, argv(&[b"SET", &k, &v])),
    }
}

/// A segment's bytes and the offset of each record.
fn segment(shard: u16, first: u64, last: u64) -> (Vec<u8>, Vec<u64>) {
    let mut out = SegmentHeader::new(shard, 2, first, ts(first))
        .encode()
        .to_vec();
    let mut offs = Vec::new();
    for lsn in first..=last {
        offs.push(out.len() as u64);
        match wal_record(lsn) {
            Rec::Cmd(db, a) => encode_command(&mut out, lsn, ts(lsn), db, &a),
            Rec::Batch(cmds) => encode_batch(&mut out, lsn, ts(lsn), &cmds),
        }
    }
    (out, offs)
}

struct Fixture {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    /// Record offsets of shard 0's first and second segment.
    offs: [Vec<u64>; 2],
    /// First LSN of the first segment.
    first: u64,
    /// Block offsets of shard 0's snapshot.
    blocks: Vec<u64>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_wal_from(4)
    }

    fn with_wal_from(first_lsn: u64) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let mut offs = [Vec::new(), Vec::new()];
        let mut blocks = Vec::new();
        for shard in 0..2u16 {
            let dir = data.join(format!("shard-{shard:03}"));
            fs::create_dir_all(&dir).unwrap();
            let h = SnapshotHeader::new(shard, 2, SNAP_LSN, ts(SNAP_LSN));
            let mut w = SnapshotWriter::new(Vec::new(), &h).unwrap();
            for (db, k, e, v) in snapshot_entries(shard) {
                w.add_entry(db, &k, e, &v).unwrap();
            }
            let (bytes, _) = w.finish().unwrap();
            if shard == 0 {
                let r = SnapshotReader::new(&bytes).unwrap();
                blocks = r.blocks().map(|b| b.unwrap().offset).collect();
            }
            fs::write(dir.join(snapshot_file_name(SNAP_LSN)), &bytes).unwrap();
            for (i, (first, last)) in [(first_lsn, 6), (7, 12)].into_iter().enumerate() {
                let (bytes, o) = segment(shard, first, last);
                if shard == 0 {
                    offs[i] = o;
                }
                fs::write(dir.join(segment_file_name(first)), bytes).unwrap();
            }
        }
        assert!(
            blocks.len() >= 4,
            "want several blocks, got {}",
            blocks.len()
        );
        Fixture {
            _tmp: tmp,
            data,
            offs,
            first: first_lsn,
            blocks,
        }
    }

    fn shard0(&self) -> PathBuf {
        self.data.join("shard-000")
    }

    fn seg(&self, i: usize) -> PathBuf {
        self.shard0().join(segment_file_name([self.first, 7][i]))
    }

    fn snap(&self) -> PathBuf {
        self.shard0().join(snapshot_file_name(SNAP_LSN))
    }

    fn out(&self, name: &str) -> PathBuf {
        self.data.parent().unwrap().join(name)
    }

    fn edit(&self, path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
        let mut b = fs::read(path).unwrap();
        f(&mut b);
        fs::write(path, b).unwrap();
    }
}

fn tool(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_moon-tool"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// All records of a directory's segments, by shard dir name.
fn wal_lsns(dir: &Path) -> BTreeMap<String, Vec<(u64, bool)>> {
    let mut out = BTreeMap::new();
    for shard in fs::read_dir(dir).unwrap() {
        let shard = shard.unwrap().path();
        let mut names: Vec<PathBuf> = fs::read_dir(&shard)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wal"))
            .collect();
        names.sort();
        let mut lsns = Vec::new();
        for p in names {
            let b = fs::read(&p).unwrap();
            let mut r = SegmentReader::new(&b).unwrap();
            while let Some((_, rec)) = r.next_record() {
                let empty = matches!(&rec.body, moon_formats::wal::Body::Batch(c) if c.is_empty());
                lsns.push((rec.lsn, empty));
            }
        }
        out.insert(
            shard.file_name().unwrap().to_string_lossy().into_owned(),
            lsns,
        );
    }
    out
}

fn snapshot_count(path: &Path) -> u64 {
    let b = fs::read(path).unwrap();
    let r = SnapshotReader::new(&b).unwrap();
    let mut n = 0;
    for b in r.blocks() {
        for e in b.unwrap().entries() {
            e.unwrap();
            n += 1;
        }
    }
    assert_eq!(n, r.footer().entry_count);
    n
}

#[test]
fn inspect_reports_counts() {
    let f = Fixture::new();
    let o = tool(&[&"inspect", &f.data]);
    let s = stdout(&o);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(s.contains(&format!("entries: {ENTRIES},")), "{s}");
    assert!(
        s.contains("db 0: 154 entries (string 150, list 1, hash 1, set 1, zset 1), 0 with TTL"),
        "{s}"
    );
    assert!(s.contains("db 3: 3 entries (string 3), 2 with TTL"), "{s}");
    assert!(
        s.contains("snapshot v1, shard 1 of 2, LSN 5, created 2023-11-14T22:13:25.000Z"),
        "{s}"
    );
    assert!(
        s.contains("records: 6 (5 commands, 1 batches), LSN 7..=12"),
        "{s}"
    );
    assert!(
        s.contains("records: 3 (3 commands, 0 batches), LSN 4..=6"),
        "{s}"
    );
    assert!(s.contains("end: clean"), "{s}");
    assert!(
        s.contains("shard-000: 1 snapshot(s), newest complete snapshot LSN 5; 2 WAL segment(s), 9 records (LSN 4..=12), 7 after the snapshot"),
        "{s}"
    );
    assert_eq!(s.matches("complete\n").count(), 2, "{s}");
    // A single file works too.
    let o = tool(&[&"inspect", &f.seg(1)]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("first LSN 7"));
}

#[test]
fn verify_accepts_good_data() {
    let f = Fixture::new();
    let o = tool(&[&"verify", &f.data]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        stdout(&o).contains("OK: 6 file(s) checked, 0 error(s), 0 warning(s)"),
        "{}",
        show(&o)
    );
    let o = tool(&[&"verify", &f.snap()]);
    assert_eq!(code(&o), 0, "{}", show(&o));
}

#[test]
fn verify_flags_flipped_byte() {
    let f = Fixture::new();
    let at = f.offs[0][1];
    f.edit(&f.seg(0), |b| b[at as usize + 40] ^= 0x20);
    let o = tool(&[&"verify", &f.data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let line = format!(
        "{}:{at}: error: frame checksum mismatch",
        f.seg(0).display()
    );
    assert!(stdout(&o).contains(&line), "want {line}\n{}", show(&o));
    assert!(stdout(&o).contains("LSN 5 lost"), "{}", show(&o));
}

#[test]
fn verify_flags_truncated_middle_record() {
    let f = Fixture::new();
    let at = f.offs[1][2] as usize;
    f.edit(&f.seg(1), |b| {
        b.drain(at + 35..at + 38);
    });
    let o = tool(&[&"verify", &f.data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let line = format!("{}:{at}: error:", f.seg(1).display());
    assert!(stdout(&o).contains(&line), "want {line}\n{}", show(&o));
}

#[test]
fn verify_flags_zeroed_snapshot_block() {
    let f = Fixture::new();
    let at = f.blocks[1] as usize;
    f.edit(&f.snap(), |b| b[at..at + 4096].fill(0));
    let o = tool(&[&"verify", &f.data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let line = format!(
        "{}:{at}: error: unreadable block region",
        f.snap().display()
    );
    assert!(stdout(&o).contains(&line), "want {line}\n{}", show(&o));
}

#[test]
fn verify_torn_tail_of_last_segment_is_a_warning() {
    let f = Fixture::new();
    let last = *f.offs[1].last().unwrap() as usize;
    f.edit(&f.seg(1), |b| b.truncate(last + 10));
    let o = tool(&[&"verify", &f.data]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let line = format!("{}:{last}: warning: torn tail", f.seg(1).display());
    assert!(stdout(&o).contains(&line), "{}", show(&o));
    // The same in a segment that is not the last one is damage.
    let first_last = *f.offs[0].last().unwrap() as usize;
    f.edit(&f.seg(0), |b| b.truncate(first_last + 10));
    let o = tool(&[&"verify", &f.data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        stdout(&o).contains("not the shard's last segment"),
        "{}",
        show(&o)
    );
}

#[test]
fn verify_flags_wal_gap_after_snapshot() {
    let f = Fixture::new();
    fs::remove_file(f.seg(0)).unwrap();
    fs::remove_file(f.snap()).unwrap();
    let o = tool(&[&"verify", &f.data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        stdout(&o).contains("LSNs 1..=6 are missing"),
        "{}",
        show(&o)
    );
    let f = Fixture::new();
    fs::remove_file(f.snap()).unwrap();
    let o = tool(&[&"verify", &f.shard0()]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        stdout(&o).contains("there is no complete snapshot: LSNs 1..=3 are missing"),
        "{}",
        show(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = tool(&[&"verify", &"/nonexistent/moon"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let o = tool(&[&"dump", &".", &"--format", &"xml"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let o = tool(&[&"frobnicate"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn dump_json() {
    let f = Fixture::new();
    let o = tool(&[&"dump", &f.data]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let lines = json_lines(&o);
    let entries: Vec<&Value> = lines.iter().filter(|v| v.get("key").is_some()).collect();
    let records: Vec<&Value> = lines.iter().filter(|v| v.get("lsn").is_some()).collect();
    assert_eq!(entries.len(), 2 * ENTRIES);
    assert_eq!(records.len(), 2 * 7);
    let by_key = |k: &str| entries.iter().find(|e| e["key"] == k).copied().unwrap();
    assert_eq!(
        by_key("hash")["value"],
        serde_json::json!({"field": "value", "n": "42"})
    );
    assert_eq!(by_key("hash")["type"], "hash");
    assert_eq!(
        by_key("zset")["value"],
        serde_json::json!([["m1", 1.5], ["m2", 3.0]])
    );
    assert_eq!(by_key("list")["value"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(by_key("set")["type"], "set");
    let bin = entries
        .iter()
        .find(|e| e["key"] == serde_json::json!({"base64": "/wBr"}))
        .unwrap();
    assert_eq!(bin["db"], 3);
    assert_eq!(bin["expire_ms"], TTL);
    assert_eq!(bin["value"], serde_json::json!({"base64": "Af4="}));
    // WAL: LSN 6..=12 of each shard, in order, after the snapshot's entries.
    let lsns: Vec<u64> = records.iter().map(|r| r["lsn"].as_u64().unwrap()).collect();
    assert_eq!(lsns, [6, 7, 8, 9, 10, 11, 12, 6, 7, 8, 9, 10, 11, 12]);
    let batch = records.iter().find(|r| r["lsn"] == 11).unwrap();
    assert_eq!(
        batch["batch"],
        serde_json::json!([{"db": 0, "argv": ["INCR", "counter"]}, {"db": 3, "argv": ["SET", "x", "y"]}])
    );
    let r9 = records.iter().find(|r| r["lsn"] == 9).unwrap();
    assert_eq!(r9["db"], 3);
    assert_eq!(r9["argv"][2], serde_json::json!({"base64": "/yAi"}));
    assert_eq!(r9["ts_ms"], ts(9));
    // --db filter, and a single WAL file (all its records).
    let o = tool(&[&"dump", &f.data, &"--db", &"3"]);
    let lines = json_lines(&o);
    assert!(
        lines
            .iter()
            .all(|v| v["db"] == 3 || v.get("batch").is_some())
    );
    assert_eq!(lines.iter().filter(|v| v.get("key").is_some()).count(), 6);
    let o = tool(&[&"dump", &f.seg(0)]);
    assert_eq!(json_lines(&o).len(), 3);
}

/// Parses a stream of RESP arrays of bulk strings.
fn parse_resp(mut b: &[u8]) -> Vec<Vec<Vec<u8>>> {
    fn line<'a>(b: &mut &'a [u8]) -> &'a [u8] {
        let i = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let l = &b[..i];
        *b = &b[i + 2..];
        l
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let h = line(&mut b);
        assert_eq!(h[0], b'*');
        let n: usize = std::str::from_utf8(&h[1..]).unwrap().parse().unwrap();
        let mut cmd = Vec::new();
        for _ in 0..n {
            let h = line(&mut b);
            assert_eq!(h[0], b'$');
            let len: usize = std::str::from_utf8(&h[1..]).unwrap().parse().unwrap();
            cmd.push(b[..len].to_vec());
            assert_eq!(&b[len..len + 2], b"\r\n");
            b = &b[len + 2..];
        }
        out.push(cmd);
    }
    out
}

#[test]
fn dump_resp() {
    let f = Fixture::new();
    let o = tool(&[&"dump", &f.data, &"--format", &"resp"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let cmds = parse_resp(&o.stdout);
    let name = |c: &Vec<Vec<u8>>| String::from_utf8_lossy(&c[0]).into_owned();
    let restores: Vec<&Vec<Vec<u8>>> = cmds.iter().filter(|c| name(c) == "RESTORE").collect();
    assert_eq!(restores.len(), 2 * ENTRIES);
    assert!(
        restores
            .iter()
            .all(|c| c.len() == 6 && c[4] == b"ABSTTL" && c[5] == b"REPLACE")
    );
    let bin = restores.iter().find(|c| c[1] == BIN_KEY).unwrap();
    assert_eq!(bin[2], TTL.to_string().as_bytes());
    assert_eq!(bin[3], string(&[0x01, 0xfe]));
    assert_eq!(cmds.iter().filter(|c| name(c) == "MULTI").count(), 2);
    assert_eq!(cmds.iter().filter(|c| name(c) == "EXEC").count(), 2);
    // Every command runs in the right db: replay SELECTs and check a few.
    let mut db = 0u16;
    let mut seen = BTreeMap::new();
    for c in &cmds {
        if name(c) == "SELECT" {
            db = String::from_utf8_lossy(&c[1]).parse().unwrap();
        } else if c.len() > 1 {
            seen.insert(c[1].clone(), db);
        }
    }
    assert_eq!(seen[&b"d3:a".to_vec()], 3);
    assert_eq!(seen[&b"hash".to_vec()], 0);
    assert_eq!(seen[&b"bin".to_vec()], 3);
    assert_eq!(seen[&b"x".to_vec()], 3);
    assert_eq!(seen[&b"counter".to_vec()], 0);
    assert_eq!(seen[&b"k12".to_vec()], 0);
    // SELECT only when the db changes: shard 0 selects 0, 3 (snapshot), 0, 3, 0, 3 (inside the
    // batch), 0; shard 1 continues in db 0 and needs one less.
    let selects = cmds.iter().filter(|c| name(c) == "SELECT").count();
    assert_eq!(selects, 13);
}

/// Pipes `dump --format resp` into a real redis-server (skipped if none is installed).
#[test]
fn dump_resp_restores_into_redis() {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    let f = Fixture::new();
    let port = 20000 + (std::process::id() % 20000) as u16;
    let mut server = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let cli = |args: &[&str]| {
        Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .unwrap()
    };
    for _ in 0..100 {
        if cli(&["PING"]).stdout.starts_with(b"PONG") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let dump = tool(&[&"dump", &f.data, &"--format", &"resp"]);
    let mut pipe = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    pipe.stdin.take().unwrap().write_all(&dump.stdout).unwrap();
    let piped = pipe.wait_with_output().unwrap();
    let dbsize0 = String::from_utf8_lossy(&cli(&["-n", "0", "DBSIZE"]).stdout)
        .trim()
        .to_owned();
    let hget = String::from_utf8_lossy(&cli(&["HGET", "hash", "n"]).stdout)
        .trim()
        .to_owned();
    let zscore = String::from_utf8_lossy(&cli(&["ZSCORE", "zset", "m1"]).stdout)
        .trim()
        .to_owned();
    let x = String::from_utf8_lossy(&cli(&["-n", "3", "GET", "x"]).stdout)
        .trim()
        .to_owned();
    let _ = cli(&["SHUTDOWN", "NOSAVE"]);
    let _ = server.wait();
    let report = String::from_utf8_lossy(&piped.stdout).into_owned();
    assert!(report.contains("errors: 0"), "{report}");
    // db 0: both shards' 150 strings, hash/list/set/zset (same names in both shards), then the
    // WAL's k6, k7, k8, k12 and counter (DEL k1 deletes nothing).
    assert_eq!(dbsize0, (2 * STRINGS + 4 + 5).to_string());
    assert_eq!(hget, "42");
    assert_eq!(zscore, "1.5");
    assert_eq!(x, "y");
}

#[test]
fn wal_tail() {
    let f = Fixture::new();
    let o = tool(&[&"wal", &"tail", &f.data, &"-n", &"3"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let s = stdout(&o);
    let expect = "== shard-000 ==\n\
        10 2023-11-14T22:13:30.000Z 0 DEL k1\n\
        11 2023-11-14T22:13:31.000Z 0 MULTI\n    0 INCR counter\n    3 SET x y\n    EXEC\n\
        12 2023-11-14T22:13:32.000Z 0 SET k12 v12\n";
    assert!(s.starts_with(expect), "{s}");
    assert_eq!(s.matches("== shard-").count(), 2);
    // Across segments, and binary-safe quoting.
    let o = tool(&[&"wal", &"tail", &f.shard0(), &"-n", &"8"]);
    let s = stdout(&o);
    assert!(
        s.starts_with("5 2023-11-14T22:13:25.000Z 0 SET k5 v5\n6 "),
        "{s}"
    );
    assert!(
        s.contains("9 2023-11-14T22:13:29.000Z 3 SET bin \"\\xff \\\"\"\n"),
        "{s}"
    );
}

#[test]
fn repair_of_intact_data_loses_nothing() {
    let f = Fixture::new();
    let out = f.out("fixed");
    let o = tool(&[&"repair", &f.data, &"--out", &out]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(stdout(&o).contains("nothing lost"), "{}", show(&o));
    for shard in ["shard-000", "shard-001"] {
        for name in [
            segment_file_name(4),
            segment_file_name(7),
            snapshot_file_name(SNAP_LSN),
        ] {
            let a = fs::read(f.data.join(shard).join(&name)).unwrap();
            let b = fs::read(out.join(shard).join(&name)).unwrap();
            assert!(a == b, "{shard}/{name} differs");
        }
    }
    // Refuses a non-empty output directory.
    let o = tool(&[&"repair", &f.data, &"--out", &out]);
    assert_eq!(code(&o), 2, "{}", show(&o));
}

fn repair_and_verify(f: &Fixture, name: &str) -> (Output, PathBuf) {
    let out = f.out(name);
    let o = tool(&[&"repair", &f.data, &"--out", &out]);
    let v = tool(&[&"verify", &out]);
    assert_eq!(
        code(&v),
        0,
        "repair output fails verify:\n{}\nrepair:\n{}",
        show(&v),
        show(&o)
    );
    (o, out)
}

#[test]
fn repair_flipped_wal_byte() {
    let f = Fixture::new();
    let at = f.offs[0][1];
    f.edit(&f.seg(0), |b| b[at as usize + 40] ^= 0x20);
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 1, "{}", show(&o));
    let s = stdout(&o);
    assert!(s.contains(&format!("LOST: bytes {at}..")), "{s}");
    assert!(s.contains("LSN 5 lost"), "{s}");
    let lsns = wal_lsns(&out);
    // Every record kept but LSN 5, which is an empty placeholder.
    let want: Vec<(u64, bool)> = (4..=12).map(|l| (l, l == 5)).collect();
    assert_eq!(lsns["shard-000"], want);
    assert_eq!(
        lsns["shard-001"],
        (4..=12).map(|l| (l, false)).collect::<Vec<_>>()
    );
}

#[test]
fn repair_truncated_middle_record() {
    let f = Fixture::new();
    let at = f.offs[1][2] as usize;
    f.edit(&f.seg(1), |b| {
        b.drain(at + 35..at + 38);
    });
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(stdout(&o).contains("LSN 9 lost"), "{}", show(&o));
    let lsns = wal_lsns(&out);
    let want: Vec<(u64, bool)> = (4..=12).map(|l| (l, l == 9)).collect();
    assert_eq!(lsns["shard-000"], want);
}

#[test]
fn repair_torn_tail_is_not_a_loss() {
    let f = Fixture::new();
    let last = *f.offs[1].last().unwrap() as usize;
    f.edit(&f.seg(1), |b| b.truncate(last + 40));
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(stdout(&o).contains("torn tail"), "{}", show(&o));
    assert_eq!(
        fs::metadata(out.join("shard-000").join(segment_file_name(7)))
            .unwrap()
            .len(),
        last as u64
    );
    assert_eq!(wal_lsns(&out)["shard-000"].len(), 8);
}

#[test]
fn repair_torn_tail_of_earlier_segment() {
    let f = Fixture::new();
    let last = *f.offs[0].last().unwrap() as usize;
    f.edit(&f.seg(0), |b| b.truncate(last + 10));
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(stdout(&o).contains("LSN 6 lost"), "{}", show(&o));
    let want: Vec<(u64, bool)> = (4..=12).map(|l| (l, l == 6)).collect();
    assert_eq!(wal_lsns(&out)["shard-000"], want);
}

#[test]
fn repair_zeroed_snapshot_block() {
    let f = Fixture::new();
    let at = f.blocks[1] as usize;
    let lost = {
        let b = fs::read(f.snap()).unwrap();
        let r = SnapshotReader::new(&b).unwrap();
        r.blocks().nth(1).unwrap().unwrap().count as u64
    };
    f.edit(&f.snap(), |b| b[at..at + 4096].fill(0));
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 1, "{}", show(&o));
    let s = stdout(&o);
    assert!(
        s.contains(&format!("LOST: unreadable block region, bytes {at}..")),
        "{s}"
    );
    assert!(s.contains(&format!("{lost} entries of db 0")), "{s}");
    let kept = snapshot_count(&out.join("shard-000").join(snapshot_file_name(SNAP_LSN)));
    assert_eq!(kept, ENTRIES as u64 - lost);
    assert_eq!(
        snapshot_count(&out.join("shard-001").join(snapshot_file_name(SNAP_LSN))),
        ENTRIES as u64
    );
}

#[test]
fn repair_snapshot_without_footer() {
    let f = Fixture::new();
    let last_block = *f.blocks.last().unwrap() as usize;
    // Cut inside the last block: its entries are lost, the others are kept, a footer is written.
    f.edit(&f.snap(), |b| b.truncate(last_block + 100));
    let v = tool(&[&"verify", &f.data]);
    assert_eq!(code(&v), 1);
    assert!(
        stdout(&v).contains("recovery will not load it"),
        "{}",
        show(&v)
    );
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 1, "{}", show(&o));
    let s = stdout(&o);
    assert!(s.contains("rewritten with a new index and footer"), "{s}");
    assert!(
        s.contains(&format!(
            "LOST: unreadable block region, bytes {last_block}.."
        )),
        "{s}"
    );
    let kept = snapshot_count(&out.join("shard-000").join(snapshot_file_name(SNAP_LSN)));
    let b = fs::read(
        f.out("fixed")
            .join("shard-001")
            .join(snapshot_file_name(SNAP_LSN)),
    )
    .unwrap();
    assert!(SnapshotReader::new(&b).is_ok());
    // The last block holds db 3's three entries.
    assert_eq!(kept, ENTRIES as u64 - 3);
}

#[test]
fn repair_damaged_segment_header() {
    let f = Fixture::new();
    f.edit(&f.seg(1), |b| b[20] ^= 1);
    let v = tool(&[&"verify", &f.data]);
    assert_eq!(code(&v), 1);
    assert!(
        stdout(&v).contains(":0: error: WAL segment header: header checksum mismatch"),
        "{}",
        show(&v)
    );
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(stdout(&o).contains("rebuilt"), "{}", show(&o));
    assert_eq!(
        wal_lsns(&out)["shard-000"],
        (4..=12).map(|l| (l, false)).collect::<Vec<_>>()
    );
}

#[test]
fn repair_drops_snapshot_the_wal_reproduces() {
    // The WAL still holds LSN 1..=12: a damaged snapshot is redundant, dropping it loses nothing.
    let f = Fixture::with_wal_from(1);
    let at = f.blocks[1] as usize;
    f.edit(&f.snap(), |b| b[at..at + 4096].fill(0));
    let (o, out) = repair_and_verify(&f, "fixed");
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        stdout(&o)
            .contains("damaged snapshot not copied: the WAL from LSN 1 up to LSN 5 reproduces it"),
        "{}",
        show(&o)
    );
    assert!(
        !out.join("shard-000")
            .join(snapshot_file_name(SNAP_LSN))
            .exists()
    );
    assert!(
        out.join("shard-001")
            .join(snapshot_file_name(SNAP_LSN))
            .exists()
    );
    assert_eq!(
        wal_lsns(&out)["shard-000"],
        (1..=12).map(|l| (l, false)).collect::<Vec<_>>()
    );
    // dump of the damaged input skips nothing it needs but reports the bad block.
    let o = tool(&[&"dump", &f.data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
}

#[test]
fn dump_skips_corruption_the_snapshot_covers() {
    let f = Fixture::new();
    let at = f.offs[0][1];
    f.edit(&f.seg(0), |b| b[at as usize + 40] ^= 0x20);
    // LSN 5 is lost, but the snapshot covers it: the dump is complete.
    let o = tool(&[&"dump", &f.data]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let records = json_lines(&o)
        .iter()
        .filter(|v| v.get("lsn").is_some())
        .count();
    assert_eq!(records, 14);
    // LSN 6 lost: replay of shard 0 stops there.
    let at = f.offs[0][2];
    f.edit(&f.seg(0), |b| b[at as usize + 40] ^= 0x20);
    let o = tool(&[&"dump", &f.data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("WAL replay stops here"),
        "{}",
        show(&o)
    );
    let records = json_lines(&o)
        .iter()
        .filter(|v| v.get("lsn").is_some())
        .count();
    assert_eq!(records, 7);
}

/// One shard whose snapshot (LSN 1, shard count 1) holds function libraries (section 2) and a
/// key; `bad` adds a library whose code names another library (CRC-valid damage).
fn functions_dir(bad: bool) -> (tempfile::TempDir, PathBuf, Vec<(String, String)>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = data.join("shard-000");
    fs::create_dir_all(&dir).unwrap();
    let libs: Vec<(String, String)> = ["alpha", "beta"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                format!(
                    "#!lua name={n}\nredis.register_function('f_{n}', function() return 1 end)"
                ),
            )
        })
        .collect();
    let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, 1, ts(1))).unwrap();
    for (n, c) in &libs {
        w.add_function(n.as_bytes(), c.as_bytes()).unwrap();
    }
    if bad {
        w.add_function(b"gamma", b"#!lua name=delta\nreturn 1")
            .unwrap();
    }
    w.add_entry(0, b"k", 0, &string(b"v")).unwrap();
    let (bytes, _) = w.finish().unwrap();
    fs::write(dir.join(snapshot_file_name(1)), bytes).unwrap();
    (tmp, data, libs)
}

#[test]
fn functions_section_is_inspected_verified_and_dumped() {
    let (_tmp, data, libs) = functions_dir(false);
    let o = tool(&[&"inspect", &data]);
    let s = stdout(&o);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        s.contains("blocks: 2 (functions 1, keyspace 1), entries: 1,"),
        "{s}"
    );
    assert!(s.contains("functions: 2 libraries, code bytes: "), "{s}");
    let o = tool(&[&"verify", &data]);
    assert_eq!(code(&o), 0, "{}", show(&o));

    let o = tool(&[&"dump", &data]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let lines = json_lines(&o);
    let fns: Vec<(String, String)> = lines
        .iter()
        .filter(|v| v.get("function_library").is_some())
        .map(|v| {
            (
                v["function_library"].as_str().unwrap().to_owned(),
                v["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(fns, libs);
    assert_eq!(lines.iter().filter(|v| v.get("key").is_some()).count(), 1);

    let o = tool(&[&"dump", &data, &"--format", &"resp"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let cmds = parse_resp(&o.stdout);
    let loads: Vec<&Vec<Vec<u8>>> = cmds.iter().filter(|c| c[0] == b"FUNCTION").collect();
    assert_eq!(loads.len(), 2);
    for (c, (_, code)) in loads.iter().zip(&libs) {
        assert_eq!(
            c[1..],
            [
                b"LOAD".to_vec(),
                b"REPLACE".to_vec(),
                code.as_bytes().to_vec()
            ]
        );
    }
}

#[test]
fn damaged_function_library_is_reported_and_repaired() {
    let (tmp, data, libs) = functions_dir(true);
    let o = tool(&[&"verify", &data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(show(&o).contains("function library gamma"), "{}", show(&o));
    let o = tool(&[&"inspect", &data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        stdout(&o).contains("1 function library do not load"),
        "{}",
        show(&o)
    );
    let o = tool(&[&"dump", &data]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert_eq!(
        json_lines(&o)
            .iter()
            .filter(|v| v.get("function_library").is_some())
            .count(),
        2
    );

    let out = tmp.path().join("fixed");
    let o = tool(&[&"repair", &data, &"--out", &out]);
    assert!(show(&o).contains("function library"), "{}", show(&o));
    let v = tool(&[&"verify", &out]);
    assert_eq!(code(&v), 0, "{}\n{}", show(&v), show(&o));
    let bytes = fs::read(out.join("shard-000").join(snapshot_file_name(1))).unwrap();
    let r = SnapshotReader::new(&bytes).unwrap();
    let mut kept = Vec::new();
    for b in r.blocks() {
        let b = b.unwrap();
        if b.section == moon_formats::snapshot::Section::Functions {
            for e in b.entries() {
                let e = e.unwrap();
                kept.push(String::from_utf8(e.key.to_vec()).unwrap());
            }
        }
    }
    let names: Vec<&String> = libs.iter().map(|(n, _)| n).collect();
    assert_eq!(kept.iter().collect::<Vec<_>>(), names);
    assert_eq!(
        snapshot_count(&out.join("shard-000").join(snapshot_file_name(1))),
        3
    );
}
