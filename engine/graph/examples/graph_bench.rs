//! Storage micro-benchmark: a deterministic power-law graph (100k nodes, 1M edges by default;
//! `graph_bench <nodes> <edges>` to change), timing load, compaction, expansion, label scans,
//! index build/seek, and comparing `memory_usage()` with the process RSS growth.
//!
//! Run: `cargo run --release -p moon-graph --example graph_bench`

use moon_graph::{Direction, Graph, IndexEntity, IndexRange, NodeId, Value};
use std::hint::black_box;
use std::time::Instant;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// CPU time of this thread in seconds (from /proc/thread-self/schedstat, nanosecond
/// resolution): the machine is shared, so rates are computed from CPU time, not wall time.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|x| x.parse::<u64>().ok())
        })
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// Measures CPU time (see `cpu_secs`) and wall time.
struct Timer {
    cpu: f64,
    wall: Instant,
}

impl Timer {
    fn start() -> Timer {
        Timer {
            cpu: cpu_secs(),
            wall: Instant::now(),
        }
    }
    /// CPU seconds since start (falls back to wall time if /proc is unavailable).
    fn secs(&self) -> f64 {
        let c = cpu_secs() - self.cpu;
        if c > 0.0 {
            c
        } else {
            self.wall.elapsed().as_secs_f64()
        }
    }
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn rate(n: u64, secs: f64) -> String {
    let r = n as f64 / secs;
    if r >= 1e6 {
        format!("{:.2} M/s", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1} k/s", r / 1e3)
    } else {
        format!("{r:.1} /s")
    }
}

/// Child mode: decode a snapshot file and report memory_usage against the RSS growth.
fn rss_of(path: &str) {
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    let before = rss_bytes();
    let g = Graph::decode(&bytes).unwrap_or_default();
    let after = rss_bytes();
    println!(
        "fresh process, decoded snapshot: memory_usage {:.1} MB, RSS delta {:.1} MB ({} edges)",
        g.memory_usage() as f64 / 1e6,
        after.saturating_sub(before) as f64 / 1e6,
        g.edge_count()
    );
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() == 3 && argv[1] == "--rss-of" {
        rss_of(&argv[2]);
        return;
    }
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n_nodes = args.first().copied().unwrap_or(100_000);
    let n_edges = args.get(1).copied().unwrap_or(1_000_000);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);

    // Endpoints are generated before measuring RSS so only the graph is counted.
    let mut ends: Vec<(u64, u64)> = Vec::with_capacity(n_edges as usize);
    let mut dsts: Vec<u64> = Vec::with_capacity(n_edges as usize);
    for _ in 0..n_edges {
        let src = rng.below(n_nodes);
        // Preferential attachment: half the time copy an earlier edge's target.
        let dst = if !dsts.is_empty() && rng.below(2) == 0 {
            dsts[rng.below(dsts.len() as u64) as usize]
        } else {
            rng.below(n_nodes)
        };
        dsts.push(dst);
        ends.push((src, dst));
    }
    drop(dsts);
    let starts: Vec<NodeId> = (0..100_000).map(|_| NodeId(rng.below(n_nodes))).collect();

    let rss0 = rss_bytes();
    let mut g = Graph::new();
    let person = g.intern_label("Person");
    let hub = g.intern_label("Hub");
    let knows = g.intern_rel_type("KNOWS");
    let id_key = g.intern_prop_key("id");

    let t = Timer::start();
    for i in 0..n_nodes {
        let labels: &[_] = if i % 100 == 0 {
            &[person, hub]
        } else {
            &[person]
        };
        g.create_node(labels, vec![(id_key, Value::Int(i as i64))])
            .unwrap_or(NodeId(0));
    }
    let node_secs = t.secs();
    println!(
        "nodes: {n_nodes} created in {node_secs:.3}s ({})",
        rate(n_nodes, node_secs)
    );

    let t = Timer::start();
    for &(s, d) in &ends {
        black_box(g.create_edge(NodeId(s), NodeId(d), knows, Vec::new()).ok());
    }
    let load_secs = t.secs();
    println!(
        "edges: {n_edges} loaded into delta in {load_secs:.3}s ({})",
        rate(n_edges, load_secs)
    );
    let mem_delta = g.memory_usage();

    let hop1 = |g: &Graph| {
        let t = Timer::start();
        let mut total = 0u64;
        for &s in &starts {
            total += g.neighbors(s, Direction::Out, &[]).count() as u64;
        }
        (t.secs(), total)
    };
    let (s, tot) = hop1(&g);
    println!(
        "1-hop iterate (delta):       {} ({} neighbours)",
        rate(starts.len() as u64, s),
        tot
    );

    let t = Timer::start();
    g.compact_all();
    let compact_secs = t.secs();
    println!(
        "compact_all: {compact_secs:.3}s; load+compact {}",
        rate(n_edges, load_secs + compact_secs)
    );

    let (s, tot) = hop1(&g);
    println!(
        "1-hop iterate (CSR):         {} ({} neighbours)",
        rate(starts.len() as u64, s),
        tot
    );

    let t = Timer::start();
    let mut tot = 0u64;
    for &s in &starts {
        tot += g.degree(s, Direction::Out, &[]);
    }
    let s = t.secs();
    println!(
        "1-hop count via degree:      {} ({tot})",
        rate(starts.len() as u64, s)
    );

    let n2 = 10_000usize;
    let t = Timer::start();
    let mut tot = 0u64;
    for &s in &starts[..n2] {
        for (_, m) in g.neighbors(s, Direction::Out, &[]) {
            tot += g.degree(m, Direction::Out, &[]);
        }
    }
    let s = t.secs();
    println!(
        "2-hop count (iter+degree):   {} ({tot} paths)",
        rate(n2 as u64, s)
    );

    let t = Timer::start();
    let mut tot = 0u64;
    for &s in &starts[..n2] {
        for (_, m) in g.neighbors(s, Direction::Out, &[]) {
            tot += g.neighbors(m, Direction::Out, &[]).count() as u64;
        }
    }
    let s = t.secs();
    println!(
        "2-hop iterate:               {} ({tot} paths)",
        rate(n2 as u64, s)
    );

    let t = Timer::start();
    let mut tot = 0u64;
    for &s in &starts[..n2] {
        for (_, m) in g.neighbors(s, Direction::Both, &[]) {
            tot += g.degree(m, Direction::Both, &[]);
        }
    }
    let s = t.secs();
    println!(
        "2-hop count, both directions:{} ({tot} paths)",
        rate(n2 as u64, s)
    );

    // Shortest path (unweighted BFS, outgoing) between random pairs, with a dense visited map.
    let pairs = 200usize;
    let mut dist = vec![u32::MAX; g.node_capacity() as usize];
    let mut frontier = Vec::new();
    let mut next = Vec::new();
    let mut touched = Vec::new();
    let t = Timer::start();
    let mut found = 0u64;
    for p in 0..pairs {
        let (a, b) = (starts[p], starts[pairs + p]);
        dist[a.0 as usize] = 0;
        touched.push(a.0 as usize);
        frontier.clear();
        frontier.push(a);
        let mut depth = 0;
        'bfs: while !frontier.is_empty() {
            depth += 1;
            next.clear();
            for &u in &frontier {
                for (_, v) in g.neighbors(u, Direction::Out, &[]) {
                    let d = &mut dist[v.0 as usize];
                    if *d == u32::MAX {
                        *d = depth;
                        touched.push(v.0 as usize);
                        if v == b {
                            found += u64::from(depth);
                            break 'bfs;
                        }
                        next.push(v);
                    }
                }
            }
            std::mem::swap(&mut frontier, &mut next);
        }
        for &i in &touched {
            dist[i] = u32::MAX;
        }
        touched.clear();
    }
    let s = t.secs();
    println!(
        "shortest path (BFS):         {} (sum of lengths {found})",
        rate(pairs as u64, s)
    );

    let (hub_node, hub_deg) = g
        .nodes()
        .map(|n| (n, g.degree(n, Direction::In, &[])))
        .max_by_key(|&(_, d)| d)
        .unwrap_or((NodeId(0), 0));
    let reps = 1_000_000u64;
    let t = Timer::start();
    let mut tot = 0u64;
    for _ in 0..reps {
        tot += g.degree(black_box(hub_node), Direction::In, black_box(&[knows]));
    }
    let s = t.secs();
    println!(
        "hub degree ({hub_node}, in-degree {hub_deg}): {:.1} ns/op ({tot})",
        s * 1e9 / reps as f64
    );

    let t = Timer::start();
    let mut tot = 0u64;
    for _ in 0..10 {
        tot += g.nodes_with_label(person).count() as u64;
    }
    let s = t.secs();
    println!("label scan Person: {} nodes/s ({tot})", rate(tot, s));
    let t = Timer::start();
    let cnt = g.nodes_with_label(hub).count();
    println!("label scan Hub: {cnt} nodes in {:.1} µs", t.secs() * 1e6);

    let t = Timer::start();
    g.create_index(IndexEntity::Label(person), id_key)
        .unwrap_or(());
    println!("index build (Person.id): {:.3}s", t.secs());
    let t = Timer::start();
    let mut tot = 0u64;
    for &s in &starts {
        let r = IndexRange::eq(Value::Int(s.0 as i64));
        tot += g.index_seek_nodes(person, id_key, &r).count() as u64;
    }
    let s = t.secs();
    println!(
        "index point seek: {} ({tot} hits)",
        rate(starts.len() as u64, s)
    );
    let t = Timer::start();
    let r = IndexRange::between(
        std::ops::Bound::Included(Value::Int(1000)),
        std::ops::Bound::Excluded(Value::Int(2000)),
    );
    let hits = g.index_seek_nodes(person, id_key, &r).count();
    println!(
        "index range seek (1000 hits): {hits} in {:.1} µs",
        t.secs() * 1e6
    );

    let rss1 = rss_bytes();
    println!(
        "memory_usage: {:.1} MB after compaction+index ({:.1} MB before compaction); RSS delta {:.1} MB",
        g.memory_usage() as f64 / 1e6,
        mem_delta as f64 / 1e6,
        (rss1.saturating_sub(rss0)) as f64 / 1e6
    );
    println!(
        "bytes/edge (memory_usage / edges): {:.1}",
        g.memory_usage() as f64 / n_edges as f64
    );
    let mut snap = Vec::new();
    let t = Timer::start();
    g.encode(&mut snap);
    let enc = t.secs();
    drop(g);
    let t = Timer::start();
    let decoded = Graph::decode(&snap).unwrap_or_default();
    let dec = t.secs();
    println!(
        "snapshot: {} MB, encode {enc:.3}s, decode+validate {dec:.3}s ({} edges)",
        snap.len() / 1_000_000,
        decoded.edge_count()
    );
    // RSS of a freshly decoded graph, measured in a child process so that memory this process
    // freed (delta history, earlier graphs) cannot hide or inflate it.
    let path = std::env::temp_dir().join(format!("moon-graph-bench-{}.snap", std::process::id()));
    if std::fs::write(&path, &snap).is_ok()
        && let Ok(exe) = std::env::current_exe()
        && let Ok(out) = std::process::Command::new(exe)
            .arg("--rss-of")
            .arg(&path)
            .output()
    {
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    let _ = std::fs::remove_file(&path);
    drop(decoded);
    drop(snap);

    // Bulk path: the same edges through `create_edges` (CSR built directly, no delta).
    let mut g = Graph::new();
    let person = g.intern_label("Person");
    let knows = g.intern_rel_type("KNOWS");
    for _ in 0..n_nodes {
        g.create_node(&[person], Vec::new()).unwrap_or(NodeId(0));
    }
    let batch: Vec<_> = ends
        .iter()
        .map(|&(s, d)| (NodeId(s), NodeId(d), knows, Vec::new()))
        .collect();
    let t = Timer::start();
    let n = g.create_edges(batch).map(|v| v.len()).unwrap_or(0);
    let s = t.secs();
    println!(
        "bulk create_edges: {n} edges in {s:.3}s ({}), compacted on arrival",
        rate(n as u64, s)
    );
}
