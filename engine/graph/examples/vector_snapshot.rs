//! Load-time comparison for graph vector indexes: decode a snapshot that carries the HNSW
//! structure vs one that rebuilds the index from the stored vecf32 properties.
//!
//! `cargo run --release -p moon-graph --example vector_snapshot -- [nodes] [dim]`
//! (defaults 100000 × 128, FalkorDB's default HNSW options: M 16, efConstruction 200).

use moon_graph::{Graph, IndexEntity, Value, VectorOptions, VectorSimilarity};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dim: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(128);
    let mut g = Graph::new();
    let doc = g.intern_label("Doc");
    let emb = g.intern_prop_key("emb");
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..n {
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect();
        if let Err(e) = g.create_node(&[doc], vec![(emb, Value::VecF32(v.into_boxed_slice()))]) {
            eprintln!("create_node: {e}");
            return;
        }
    }
    let t = Instant::now();
    let opts = VectorOptions::new(dim as u32, VectorSimilarity::Euclidean);
    if let Err(e) = g.create_vector_index(IndexEntity::Label(doc), emb, opts) {
        eprintln!("create_vector_index: {e}");
        return;
    }
    println!("build index ({n} x {dim}): {:.2?}", t.elapsed());
    let mut with_hnsw = Vec::new();
    g.encode(&mut with_hnsw);
    let mut rebuild = Vec::new();
    g.encode_rebuilding_vectors(&mut rebuild);
    for (name, bytes) in [("hnsw payload", &with_hnsw), ("rebuild", &rebuild)] {
        let t = Instant::now();
        match Graph::decode(bytes) {
            Ok(d) => println!(
                "decode {name}: {} bytes, {:.2?} ({} vectors indexed)",
                bytes.len(),
                t.elapsed(),
                d.list_vector_indexes().first().map_or(0, |i| i.len)
            ),
            Err(e) => eprintln!("decode {name}: {e:?}"),
        }
    }
}
