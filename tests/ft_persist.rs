//! FT index contents persist in snapshots (SPEC §8.2 section 4, §3.7 "Persistence"), `--shards
//! 2`: after SAVE and a restart an index with a VECTOR field is complete at once (FT.INFO
//! `indexing 0`, `percent_indexed 1`) and KNN answers exactly as before; writes after the
//! snapshot (the WAL tail) are reflected; a section-4 block with a bad CRC is refused like any
//! damaged block (and with `--wal-recovery skip-corrupt` the index is rebuilt), contents that
//! pass the CRC but do not decode are rebuilt with a warning; moon-tool verifies and counts the
//! section.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::ft::{blob, text as s};
use common::{Server, wait_persistence, wait_until};
use moon_engine::persist::snapshot_format::{Section, SnapshotReader};
use redis::{Connection, Value};

const DIM: usize = 16;
const DOCS: usize = 3000;
const NO_WAL: [&str; 6] = common::TWO_SHARDS_NO_WAL;
const WAL: [&str; 8] = common::TWO_SHARDS_WAL_ALWAYS;

/// Deterministic pseudo-random vectors (SplitMix64), in [-1, 1).
fn vector(seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    (0..DIM)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect()
}

fn put(con: &mut Connection, i: usize, seed: u64) {
    let () = redis::cmd("HSET")
        .arg(format!("v:{i}"))
        .arg("e")
        .arg(blob(&vector(seed)))
        .arg("t")
        .arg(if i.is_multiple_of(3) { "red" } else { "blue" })
        .query(con)
        .expect("HSET");
}

/// `DOCS` hashes `v:<i>` (vector seed i, tag red for every third), then the index, waiting
/// for its scan to finish.
fn load(con: &mut Connection) {
    for chunk in (0..DOCS).collect::<Vec<_>>().chunks(500) {
        let mut p = redis::pipe();
        for &i in chunk {
            p.cmd("HSET")
                .arg(format!("v:{i}"))
                .arg("e")
                .arg(blob(&vector(i as u64)))
                .arg("t")
                .arg(if i.is_multiple_of(3) { "red" } else { "blue" })
                .ignore();
        }
        let () = p.query(con).expect("HSET pipeline");
    }
    let () = redis::cmd("FT.CREATE")
        .arg("idx")
        .arg("PREFIX")
        .arg(1)
        .arg("v:")
        .arg("SCHEMA")
        .arg("t")
        .arg("TAG")
        .arg("e")
        .arg("VECTOR")
        .arg("HNSW")
        .arg(6)
        .arg("TYPE")
        .arg("FLOAT32")
        .arg("DIM")
        .arg(DIM)
        .arg("DISTANCE_METRIC")
        .arg("L2")
        .query(con)
        .expect("FT.CREATE");
    assert!(
        wait_until(Duration::from_secs(60), || info(con).0 == 1.0),
        "the initial scan never finished"
    );
}

/// FT.INFO's `(percent_indexed, indexing, num_docs)`.
fn info(con: &mut Connection) -> (f64, i64, i64) {
    let v: Value = redis::cmd("FT.INFO")
        .arg("idx")
        .query(con)
        .expect("FT.INFO");
    let Value::Array(a) = v else {
        panic!("FT.INFO {v:?}")
    };
    let get = |name: &str| {
        let at = a.iter().position(|x| s(x) == name).expect(name);
        s(&a[at + 1])
    };
    (
        get("percent_indexed").parse().expect("percent_indexed"),
        get("indexing").parse().expect("indexing"),
        get("num_docs").parse().expect("num_docs"),
    )
}

/// KNN 10 of `q` (optionally among `@t:{red}`): `[(key, distance)]`.
fn knn(con: &mut Connection, q: &[f32], red: bool) -> Vec<(String, String)> {
    let filter = if red { "@t:{red}" } else { "*" };
    let v: Value = redis::cmd("FT.SEARCH")
        .arg("idx")
        .arg(format!("{filter}=>[KNN 10 @e $B AS d]"))
        .arg("PARAMS")
        .arg(2)
        .arg("B")
        .arg(blob(q))
        .arg("RETURN")
        .arg(1)
        .arg("d")
        .arg("DIALECT")
        .arg(2)
        .query(con)
        .expect("KNN");
    let Value::Array(a) = v else {
        panic!("KNN {v:?}")
    };
    a[1..]
        .chunks(2)
        .map(|p| {
            let Value::Array(f) = &p[1] else {
                panic!("fields {p:?}")
            };
            (s(&p[0]), s(&f[1]))
        })
        .collect()
}

/// KNN answers for 20 fixed queries, plain and among the red docs.
fn answers(con: &mut Connection) -> Vec<Vec<(String, String)>> {
    (0..20u64)
        .flat_map(|i| {
            let q = vector(1_000_000 + i);
            [knn(con, &q, false), knn(con, &q, true)]
        })
        .collect()
}

fn snapshots(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(dir).expect("data dir").flatten() {
        if !d.file_name().to_string_lossy().starts_with("shard-") {
            continue;
        }
        for f in std::fs::read_dir(d.path()).expect("shard dir").flatten() {
            if f.path().extension().is_some_and(|e| e == "snap") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

/// Offsets of the section-4 blocks of `path`.
fn vector_blocks(path: &Path) -> Vec<u64> {
    let bytes = std::fs::read(path).expect("read snapshot");
    let r = SnapshotReader::new(&bytes).expect("complete snapshot");
    r.blocks()
        .map(|b| b.expect("block"))
        .filter(|b| b.section == Section::Vector)
        .map(|b| b.offset)
        .collect()
}

/// moon-tool, (re)built once per run (`common::tool`).
fn tool(args: &[&str]) -> (bool, String) {
    common::tool::run(args)
}

#[test]
fn a_saved_index_is_complete_at_once_and_answers_the_same() {
    let srv = Server::start(&NO_WAL);
    let mut con = srv.client();
    load(&mut con);
    let before = answers(&mut con);
    assert_eq!(
        redis::cmd("SAVE").query::<Value>(&mut con).expect("SAVE"),
        Value::Okay
    );
    let dir = srv.kill();
    for path in snapshots(&dir) {
        assert!(
            !vector_blocks(&path).is_empty(),
            "{} has no section 4",
            path.display()
        );
    }
    let d = dir.to_str().expect("utf8 dir");
    let (ok, text) = tool(&["verify", d]);
    assert!(ok, "verify failed:\n{text}");
    let (ok, text) = tool(&["inspect", d]);
    assert!(ok && text.contains("index idx"), "inspect:\n{text}");

    let srv = Server::start_in(&dir, &NO_WAL);
    let mut con = srv.client();
    // No scan runs: the first FT.INFO after start-up already reports the index complete.
    assert_eq!(info(&mut con), (1.0, 0, DOCS as i64), "{}", srv.log());
    assert!(
        srv.log().contains("contents loaded from the snapshot"),
        "{}",
        srv.log()
    );
    assert_eq!(answers(&mut con), before);
    // The restored index keeps working: an update and a new doc are found.
    put(&mut con, 7, 2_000_000);
    put(&mut con, DOCS + 1, 2_000_001);
    let top = knn(&mut con, &vector(2_000_000), false);
    assert_eq!(top[0], ("v:7".to_string(), "0".to_string()));
    let top = knn(&mut con, &vector(2_000_001), false);
    assert_eq!(top[0].0, format!("v:{}", DOCS + 1));
    assert_eq!(info(&mut con).2, DOCS as i64 + 1);
    let _ = std::fs::remove_dir_all(srv.kill());
}

#[test]
fn writes_after_the_snapshot_replay_into_the_restored_index() {
    let srv = Server::start(&WAL);
    let mut con = srv.client();
    load(&mut con);
    let () = redis::cmd("BGSAVE").query(&mut con).expect("BGSAVE");
    wait_persistence(&mut con, "rdb_bgsave_in_progress", "0");
    // The WAL tail: updates, deletions and new docs.
    for i in 0..50 {
        put(&mut con, i, 3_000_000 + i as u64);
    }
    for i in 50..100 {
        let () = redis::cmd("DEL")
            .arg(format!("v:{i}"))
            .query(&mut con)
            .expect("DEL");
    }
    for i in 0..50 {
        put(&mut con, DOCS + i, 4_000_000 + i as u64);
    }
    let before = answers(&mut con);
    let srv = srv.crash_restart(&WAL);
    let mut con = srv.client();
    assert_eq!(info(&mut con), (1.0, 0, DOCS as i64), "{}", srv.log());
    assert!(
        srv.log().contains("contents loaded from the snapshot"),
        "{}",
        srv.log()
    );
    for i in [0usize, 17, 49] {
        let top = knn(&mut con, &vector(3_000_000 + i as u64), false);
        assert_eq!(top[0], (format!("v:{i}"), "0".to_string()));
    }
    for i in [0usize, 33] {
        let top = knn(&mut con, &vector(4_000_000 + i as u64), false);
        assert_eq!(top[0], (format!("v:{}", DOCS + i), "0".to_string()));
    }
    for i in [50u64, 99] {
        let top = knn(&mut con, &vector(i), false);
        assert_ne!(top[0].0, format!("v:{i}"), "a deleted doc came back");
    }
    assert_eq!(answers(&mut con), before);
    let _ = std::fs::remove_dir_all(srv.kill());
}

/// CRC-32 (IEEE), bit by bit: the block checksum (the root package has no crc crate).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Rewrites a byte of a block's payload and fixes the block's CRC, so only the contents
/// decoder can object.
fn patch(bytes: &mut [u8], block: usize, at: usize, value: u8) {
    bytes[block + 24 + at] = value;
    let len = u32::from_le_bytes(bytes[block + 12..block + 16].try_into().unwrap()) as usize;
    let mut covered = bytes[block..block + 20].to_vec();
    covered.extend_from_slice(&bytes[block + 24..block + 24 + len]);
    let c = crc32(&covered).to_le_bytes();
    bytes[block + 20..block + 24].copy_from_slice(&c);
}

#[test]
fn damaged_contents_are_refused_or_rebuilt() {
    let srv = Server::start(&NO_WAL);
    let mut con = srv.client();
    load(&mut con);
    assert_eq!(
        redis::cmd("SAVE").query::<Value>(&mut con).expect("SAVE"),
        Value::Okay
    );
    let dir = srv.kill();
    let d = dir.to_str().expect("utf8 dir").to_string();
    let files = snapshots(&dir);
    let clean: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();

    // A flipped byte in a part: the block CRC catches it, as in any section.
    let path = &files[0];
    let blocks = vector_blocks(path);
    // A full part (parts are cut at 64 KiB; small ones hold the doc table's pieces).
    let offset = blocks
        .windows(2)
        .find(|w| w[1] - w[0] > 1024)
        .map(|w| w[0])
        .expect("a full part");
    let mut bytes = clean[0].clone();
    bytes[offset as usize + 200] ^= 0xff;
    std::fs::write(path, &bytes).expect("write");
    let (ok, text) = tool(&["verify", &d]);
    assert!(!ok, "verify passed a damaged file:\n{text}");
    assert!(
        text.contains(&format!(":{offset}: error")),
        "offset {offset} of {blocks:?}:\n{text}"
    );
    let (status, log) = Server::run_to_exit(&dir, &NO_WAL);
    assert!(
        !status.success(),
        "the server loaded a damaged file:\n{log}"
    );
    assert!(
        log.contains(&format!("corrupt at byte offset {offset}")),
        "{log}"
    );
    // Skipping damage loses only the contents: the index is rebuilt from the hashes.
    let mut skip = NO_WAL.to_vec();
    skip.extend(["--wal-recovery", "skip-corrupt"]);
    let srv = Server::start_in(&dir, &skip);
    let mut con = srv.client();
    assert!(
        wait_until(Duration::from_secs(60), || info(&mut con)
            == (1.0, 0, DOCS as i64)),
        "rebuild never completed: {:?}",
        info(&mut con)
    );
    let top = knn(&mut con, &vector(5), false);
    assert_eq!(top[0], ("v:5".to_string(), "0".to_string()));
    let dir = srv.kill();

    // Contents that pass the CRC but do not decode (an unknown layout version): rebuilt, with
    // a warning, without any flag.
    std::fs::write(path, &clean[0]).expect("restore");
    let mut bytes = clean[0].clone();
    let first = vector_blocks(path)[0] as usize;
    // Part header: version, flags, seq u32, key_len u32, "idx", expire u64, data offset u64.
    patch(&mut bytes, first, 1 + 1 + 4 + 4 + 3 + 8 + 8, 9);
    std::fs::write(path, &bytes).expect("write");
    let srv = Server::start_in(&dir, &NO_WAL);
    let mut con = srv.client();
    assert!(
        wait_until(Duration::from_secs(60), || info(&mut con)
            == (1.0, 0, DOCS as i64)),
        "rebuild never completed: {:?}",
        info(&mut con)
    );
    assert!(
        srv.log().contains("FT index contents not used") && srv.log().contains("rebuilding"),
        "{}",
        srv.log()
    );
    let top = knn(&mut con, &vector(5), false);
    assert_eq!(top[0], ("v:5".to_string(), "0".to_string()));
    let _ = std::fs::remove_dir_all(srv.kill());
}
