//! Fuzzes moon-graph's decoders of untrusted bytes: the snapshot decoder (`Graph::decode`)
//! and mutation records (`Mutation::decode` / `decode_batch`), then replays decoded batches on a
//! small graph with `Graph::apply` (WAL replay path).
//!
//! Checks beyond "never panics": a snapshot that decodes re-encodes to the same bytes (the
//! encoding is canonical) and its neighbour counts agree with the edge list; a record or batch
//! that decodes re-encodes to the same bytes; after replaying a batch (errors allowed), the
//! graph's snapshot round-trips and degree sums match the edge count.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moon_graph::{Direction, Graph, Mutation};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => snapshot(rest),
        1 => {
            if let Ok(m) = Mutation::decode(rest) {
                let mut again = Vec::new();
                m.encode(&mut again);
                assert_eq!(again, rest, "mutation record encoding is not canonical");
            }
        }
        _ => batch(rest),
    }
});

fn snapshot(bytes: &[u8]) {
    // Slot arrays are allocated up front: keep them small for the fuzzer's memory limit.
    let Ok(g) = Graph::decode_with_limit(bytes, 1 << 16) else {
        return;
    };
    let mut again = Vec::new();
    g.encode(&mut again);
    assert_eq!(again, bytes, "snapshot encoding is not canonical");
    check_consistent(&g);
}

fn batch(bytes: &[u8]) {
    let Ok(ms) = Mutation::decode_batch(bytes) else {
        return;
    };
    let mut again = Vec::new();
    Mutation::encode_batch(&ms, &mut again);
    assert_eq!(again, bytes, "mutation batch encoding is not canonical");

    let mut g = Graph::new();
    let l = g.intern_label("L");
    let t = g.intern_rel_type("T");
    let k = g.intern_prop_key("k");
    let a = g
        .create_node(&[l], vec![(k, moon_graph::Value::Int(1))])
        .expect("fresh graph");
    g.create_edge(a, a, t, vec![]).expect("fresh graph");
    g.set_recording(true);
    for (i, m) in ms.iter().enumerate() {
        let _ = g.apply(m);
        if i % 4 == 3 {
            g.compact_step(8);
        }
    }
    // Whatever subset of the batch applied, the graph must stay consistent and persistable.
    let mut snap = Vec::new();
    g.encode(&mut snap);
    let d = Graph::decode(&snap).expect("a live graph's snapshot decodes");
    let mut snap2 = Vec::new();
    d.encode(&mut snap2);
    assert_eq!(snap, snap2);
    check_consistent(&g);
}

fn check_consistent(g: &Graph) {
    let out: u64 = g.nodes().map(|n| g.degree(n, Direction::Out, &[])).sum();
    let inn: u64 = g
        .nodes()
        .map(|n| g.neighbors(n, Direction::In, &[]).count() as u64)
        .sum();
    assert_eq!(out, g.edge_count());
    assert_eq!(inn, g.edge_count());
}
