//! One-client RESP driver for `benches/vector/resp.py`: runs every query of an MVEC dataset
//! as `FT.SEARCH idx "*=>[KNN 10 @v $B]" PARAMS 2 B <blob> NOCONTENT DIALECT 2` (with
//! `EF_RUNTIME ef` in the KNN clause for each swept ef) against a running server whose index
//! `idx` already holds the base vectors, one query per round trip on one connection (no
//! pipelining), and prints one JSON line: per ef, recall@10, wall QPS, QPS per server CPU
//! second and client CPU microseconds per query.
//!
//! ```text
//! cargo build --release --example vector_resp
//! target/release/examples/vector_resp --file F.mvec --port 6379 --server-pid PID --efs 10,20
//! ```
//!
//! Server CPU is the sum of `/proc/PID/task/*/schedstat` (nanoseconds on CPU, every thread
//! of the server); without `--server-pid` it is reported as 0.

use std::time::Instant;

const K: usize = 10;

struct Args {
    file: String,
    port: u16,
    server_pid: Option<u32>,
    efs: Vec<usize>,
    index: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        file: String::new(),
        port: 6379,
        server_pid: None,
        efs: Vec::new(),
        index: "idx".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [flag, v] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        let bad = |_| format!("bad value for {flag}: {v}");
        match flag.as_str() {
            "--file" => a.file = v.clone(),
            "--port" => a.port = v.parse().map_err(bad)?,
            "--server-pid" => a.server_pid = Some(v.parse().map_err(bad)?),
            "--index" => a.index = v.clone(),
            "--efs" => {
                a.efs = v
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().map_err(bad))
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.file.is_empty() {
        return Err("--file is required".into());
    }
    Ok(a)
}

/// Query blobs (raw little-endian f32 rows) and the ground-truth top-10 ids of each.
struct Queries {
    blobs: Vec<Vec<u8>>,
    truth: Vec<Vec<u32>>,
}

fn read_u32(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .ok_or_else(|| "truncated MVEC header".to_string())
}

fn load(path: &str) -> Result<Queries, String> {
    let b = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    if b.get(..4) != Some(b"MVEC") || read_u32(&b, 4)? != 1 {
        return Err(format!("{path}: not an MVEC v1 file"));
    }
    let (n, nq, dim, k) = (
        read_u32(&b, 8)?,
        read_u32(&b, 12)?,
        read_u32(&b, 16)?,
        read_u32(&b, 20)?,
    );
    let row = dim * 4;
    let qs = 24 + n * row;
    let gt = qs + nq * row;
    if b.len() < gt + nq * k * 4 || k < K {
        return Err(format!("{path}: truncated or k < {K}"));
    }
    let blobs = (0..nq)
        .map(|i| b[qs + i * row..qs + (i + 1) * row].to_vec())
        .collect();
    let truth = (0..nq)
        .map(|i| {
            (0..K)
                .map(|j| read_u32(&b, gt + (i * k + j) * 4))
                .map(|r| r.map(|x| x as u32))
                .collect::<Result<Vec<u32>, String>>()
        })
        .collect::<Result<_, _>>()?;
    Ok(Queries { blobs, truth })
}

/// Nanoseconds on CPU of every thread of `pid` (0 without a pid or off Linux).
fn server_cpu_ns(pid: Option<u32>) -> u64 {
    let Some(pid) = pid else { return 0 };
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Nanoseconds on CPU of this thread.
fn own_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The doc keys of an `FT.SEARCH ... NOCONTENT` reply (`[total, key, key, ...]`) as numbers.
fn reply_ids(v: &redis::Value) -> Vec<u32> {
    let redis::Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .iter()
        .skip(1)
        .filter_map(|x| match x {
            redis::Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        })
        .collect()
}

/// One sweep row: recall@10, wall QPS, QPS per server CPU second, client µs CPU per query.
fn run(
    con: &mut redis::Connection,
    a: &Args,
    q: &Queries,
    ef: Option<usize>,
) -> Result<[f64; 4], String> {
    let query = match ef {
        None => format!("*=>[KNN {K} @v $B]"),
        Some(e) => format!("*=>[KNN {K} @v $B EF_RUNTIME {e}]"),
    };
    let mut hits = 0usize;
    let (s0, c0, t0) = (server_cpu_ns(a.server_pid), own_cpu_ns(), Instant::now());
    for (blob, truth) in q.blobs.iter().zip(&q.truth) {
        let v: redis::Value = redis::cmd("FT.SEARCH")
            .arg(&a.index)
            .arg(&query)
            .arg("PARAMS")
            .arg(2)
            .arg("B")
            .arg(blob.as_slice())
            .arg("NOCONTENT")
            .arg("DIALECT")
            .arg(2)
            .query(con)
            .map_err(|e| e.to_string())?;
        hits += reply_ids(&v).iter().filter(|id| truth.contains(id)).count();
    }
    let wall = t0.elapsed().as_secs_f64();
    let server = (server_cpu_ns(a.server_pid) - s0) as f64 / 1e9;
    let client = (own_cpu_ns() - c0) as f64 / 1e3;
    let nq = q.blobs.len() as f64;
    Ok([
        hits as f64 / (nq * K as f64),
        nq / wall,
        if server > 0.0 { nq / server } else { 0.0 },
        client / nq,
    ])
}

fn main() -> Result<(), String> {
    let a = parse_args()?;
    let q = load(&a.file)?;
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{}/", a.port)).map_err(|e| e.to_string())?;
    let mut con = client.get_connection().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for ef in std::iter::once(None).chain(a.efs.iter().map(|&e| Some(e))) {
        let [recall, wall, cpu, client_us] = run(&mut con, &a, &q, ef)?;
        let label = ef.map_or_else(|| "\"default\"".to_string(), |e| e.to_string());
        rows.push(format!("[{label},{recall},{wall},{cpu},{client_us}]"));
    }
    println!("{{\"rust\":[{}]}}", rows.join(","));
    Ok(())
}
