//! Vector index benchmark: insert rate, recall@10 and QPS over an EF_RUNTIME sweep, memory per
//! vector (times are CPU time of the benchmark thread), for FP32 HNSW, TurboQuant 1/2/4/8-bit HNSW (+ exact rerank) and FLAT; plus snapshot
//! encode/decode vs rebuild times.
//!
//! ```text
//! cargo run --release -p moon-vector --example vector_bench -- [options]
//!   --n 100000 --dim 384 --queries 1000 --clusters 100   synthetic clustered set (seeded)
//!   --file PATH        load a dataset file instead (format below)
//!   --write PATH       write the dataset (+ ground truth) to PATH and exit
//!   --variants fp32,tq1,tq2,tq4,tq8,flat,snapshot         what to run
//!   --efs 10,20,40,80,160,320   --m 16   --efc 200   --rerank 0
//!   --disk DIR         keep TurboQuant full-precision rows in a file under DIR
//! ```
//!
//! Dataset file (little-endian): magic `MVEC`, `u32` version 1, `u32` n, `u32` queries,
//! `u32` dim, `u32` k; then n × dim f32 base vectors, queries × dim f32 queries, and
//! queries × k `u32` ground-truth ids (exact L2 top-k, ascending distance).

use moon_vector::synthetic::{brute_force, clustered_in};
use moon_vector::{Metric, VectorIndex, VectorParams};
use std::time::Instant;

struct Args {
    n: usize,
    dim: usize,
    queries: usize,
    clusters: usize,
    file: Option<String>,
    write: Option<String>,
    variants: Vec<String>,
    efs: Vec<usize>,
    m: usize,
    efc: usize,
    rerank: usize,
    disk: Option<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        n: 100_000,
        dim: 384,
        queries: 1000,
        clusters: 100,
        file: None,
        write: None,
        variants: "fp32,tq1,tq2,tq4,tq8,flat,snapshot"
            .split(',')
            .map(String::from)
            .collect(),
        efs: vec![10, 20, 40, 80, 160, 320],
        m: 16,
        efc: 200,
        rerank: 0,
        disk: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let v = args[i + 1].clone();
        let num = || {
            v.parse::<usize>()
                .unwrap_or_else(|_| panic!("bad number for {}", args[i]))
        };
        match args[i].as_str() {
            "--n" => a.n = num(),
            "--dim" => a.dim = num(),
            "--queries" => a.queries = num(),
            "--clusters" => a.clusters = num(),
            "--m" => a.m = num(),
            "--efc" => a.efc = num(),
            "--rerank" => a.rerank = num(),
            "--file" => a.file = Some(v),
            "--write" => a.write = Some(v),
            "--disk" => a.disk = Some(v),
            "--variants" => a.variants = v.split(',').map(String::from).collect(),
            "--efs" => a.efs = v.split(',').filter_map(|x| x.parse().ok()).collect(),
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    a
}

struct Dataset {
    dim: usize,
    base: Vec<f32>,
    queries: Vec<f32>,
    truth: Vec<Vec<u32>>,
}

const K: usize = 10;

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn load(path: &str) -> Dataset {
    let b = std::fs::read(path).expect("read dataset");
    assert_eq!(&b[..4], b"MVEC", "not a MVEC file");
    assert_eq!(read_u32(&b, 4), 1);
    let (n, nq, dim, k) = (
        read_u32(&b, 8) as usize,
        read_u32(&b, 12) as usize,
        read_u32(&b, 16) as usize,
        read_u32(&b, 20) as usize,
    );
    let mut at = 24;
    let mut floats = |count: usize| -> Vec<f32> {
        let v = b[at..at + count * 4]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        at += count * 4;
        v
    };
    let base = floats(n * dim);
    let queries = floats(nq * dim);
    let truth = (0..nq)
        .map(|q| {
            (0..k)
                .map(|j| read_u32(&b, at + (q * k + j) * 4))
                .take(K)
                .collect()
        })
        .collect();
    Dataset {
        dim,
        base,
        queries,
        truth,
    }
}

fn synth(a: &Args) -> Dataset {
    let t = Instant::now();
    let base = clustered_in(a.n, a.dim, a.clusters, 1.0, 0xDA7A, 1);
    let queries = clustered_in(a.queries, a.dim, a.clusters, 1.0, 0xDA7A, 2);
    let truth = queries
        .chunks_exact(a.dim)
        .map(|q| {
            brute_force(&base, a.dim, Metric::L2, q, K)
                .iter()
                .map(|x| x.0)
                .collect()
        })
        .collect();
    eprintln!(
        "generated {} x {} + ground truth in {:.1}s",
        a.n,
        a.dim,
        t.elapsed().as_secs_f64()
    );
    Dataset {
        dim: a.dim,
        base,
        queries,
        truth,
    }
}

fn write(d: &Dataset, path: &str) {
    let mut out = Vec::new();
    out.extend_from_slice(b"MVEC");
    for v in [1, d.base.len() / d.dim, d.queries.len() / d.dim, d.dim, K] {
        out.extend_from_slice(&(v as u32).to_le_bytes());
    }
    for x in d.base.iter().chain(&d.queries) {
        out.extend_from_slice(&x.to_le_bytes());
    }
    for t in &d.truth {
        for id in t {
            out.extend_from_slice(&id.to_le_bytes());
        }
    }
    std::fs::write(path, out).expect("write dataset");
}

/// CPU seconds of this thread (Linux `/proc/thread-self/schedstat`, nanoseconds on CPU), or
/// wall seconds since start elsewhere. The machine is shared: CPU time is what stays comparable
/// between runs and with the Python libraries (`time.thread_time()` there).
fn cpu_now() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|x| x.parse::<u64>().ok())
        })
        .map(|ns| ns as f64 / 1e9)
        .unwrap_or_else(|| START.get_or_init(Instant::now).elapsed().as_secs_f64())
}

fn build(d: &Dataset, p: VectorParams) -> (VectorIndex, f64) {
    let mut idx = VectorIndex::new(p).expect("params");
    let t = cpu_now();
    for (i, v) in d.base.chunks_exact(d.dim).enumerate() {
        idx.insert(i as u32, v).expect("insert");
    }
    (idx, cpu_now() - t)
}

fn sweep(name: &str, idx: &VectorIndex, d: &Dataset, efs: &[usize]) {
    for &ef in efs {
        let t = cpu_now();
        let mut hits = 0usize;
        for (q, truth) in d.queries.chunks_exact(d.dim).zip(&d.truth) {
            let got = idx.knn(q, K, Some(ef), None).expect("knn");
            hits += truth
                .iter()
                .filter(|id| got.iter().any(|g| g.0 == **id))
                .count();
        }
        let secs = cpu_now() - t;
        let nq = d.truth.len();
        println!(
            "{name:<10} ef={ef:<4} recall@10={:.4}  QPS={:.0}",
            hits as f64 / (nq * K) as f64,
            nq as f64 / secs
        );
    }
}

fn main() {
    let a = parse_args();
    let d = match &a.file {
        Some(f) => load(f),
        None => synth(&a),
    };
    if let Some(w) = &a.write {
        write(&d, w);
        eprintln!("wrote {w}");
        return;
    }
    let n = d.base.len() / d.dim;
    println!(
        "dataset: n={n} dim={} queries={} kernels={}",
        d.dim,
        d.truth.len(),
        moon_vector::kernels::kernels().name
    );
    let base = VectorParams {
        m: a.m,
        ef_construction: a.efc,
        rerank: a.rerank,
        ..VectorParams::hnsw(d.dim, Metric::L2)
    };
    let mut fp32: Option<VectorIndex> = None;
    for v in &a.variants {
        match v.as_str() {
            "fp32" => {
                let (idx, secs) = build(&d, base.clone());
                println!(
                    "fp32       build {secs:.1}s  insert rate {:.0}/s  mem/vector {:.0} B (measured {:.0} B)",
                    n as f64 / secs,
                    idx.bytes_per_vector(),
                    idx.memory_usage() as f64 / n as f64
                );
                sweep("fp32", &idx, &d, &a.efs);
                fp32 = Some(idx);
            }
            "tq1" | "tq2" | "tq4" | "tq8" => {
                let bits: u8 = v[2..].parse().unwrap_or(4);
                let disk = a
                    .disk
                    .as_ref()
                    .map(|dir| std::path::Path::new(dir).join(format!("bench-{v}.vec")));
                // Construction uses exact distances, so a TQ graph equals the FP32 one: reuse
                // it through the snapshot (patch the quantization byte, offset 5) when built.
                let (idx, build_note) = match &fp32 {
                    Some(f) => {
                        let t = cpu_now();
                        let mut buf = Vec::new();
                        f.encode(&mut buf);
                        buf[5] = bits;
                        let idx = VectorIndex::decode_with(&buf, disk).expect("decode");
                        (
                            idx,
                            format!("graph reused from fp32, codes in {:.1}s", cpu_now() - t),
                        )
                    }
                    None => {
                        let p = VectorParams {
                            quant_bits: Some(bits),
                            disk_path: disk,
                            ..base.clone()
                        };
                        let (idx, secs) = build(&d, p);
                        (
                            idx,
                            format!("build {secs:.1}s  insert rate {:.0}/s", n as f64 / secs),
                        )
                    }
                };
                println!(
                    "{v:<10} {build_note}  mem/vector {:.0} B (measured {:.0} B){}",
                    idx.bytes_per_vector(),
                    idx.memory_usage() as f64 / n as f64,
                    if a.disk.is_some() {
                        "  [f32 rows on disk]"
                    } else {
                        "  [f32 rows in RAM, not counted in mem/vector]"
                    }
                );
                sweep(v, &idx, &d, &a.efs);
            }
            "flat" => {
                let (idx, secs) = build(&d, VectorParams::flat(d.dim, Metric::L2));
                println!("flat       build {secs:.1}s");
                let sub = Dataset {
                    dim: d.dim,
                    base: Vec::new(),
                    queries: d.queries[..d.dim * d.truth.len().min(100)].to_vec(),
                    truth: d.truth[..d.truth.len().min(100)].to_vec(),
                };
                sweep("flat", &idx, &sub, &[0]);
            }
            "snapshot" => {
                let owned;
                let idx = match &fp32 {
                    Some(i) => i,
                    None => {
                        owned = build(&d, base.clone()).0;
                        &owned
                    }
                };
                let t = cpu_now();
                let mut buf = Vec::new();
                idx.encode(&mut buf);
                let enc = cpu_now() - t;
                let t = cpu_now();
                let back = VectorIndex::decode(&buf).expect("decode");
                let dec = cpu_now() - t;
                let mut slim = Vec::new();
                idx.encode_without_graph(&mut slim);
                let t = cpu_now();
                let rebuilt = VectorIndex::decode(&slim).expect("decode slim");
                let reb = cpu_now() - t;
                println!(
                    "snapshot   graph: {} MB, encode {enc:.2}s, decode {dec:.2}s | vectors only: {} MB, decode+rebuild {reb:.1}s ({} / {} vectors)",
                    buf.len() >> 20,
                    slim.len() >> 20,
                    back.len(),
                    rebuilt.len()
                );
            }
            other => eprintln!("unknown variant {other}"),
        }
    }
}
