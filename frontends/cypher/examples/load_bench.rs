//! In-process graph LOAD benchmark (issue 7's load phase, without the RESP front-end): the
//! `benches/graph` social graph (`:Person {id, name, age}` nodes, then `:KNOWS` edges with
//! Zipf(0.8) endpoints over two random rankings, no self-loops, index on `:Person(id)` first)
//! loaded through the same two UNWIND queries as `benches/graph/graph_bench.py`, each batch sent
//! as the client sends it (`CYPHER `batch`=[{`id`:0,...},...] UNWIND ...`) and run the way
//! `GRAPH.QUERY` runs it in the server: the `CYPHER` prefix split and parsed by moon-cypher on
//! every call, the statement's plan from a per-statement cache, mutation recording on (the WAL
//! effect record is encoded, as with persistence on) and a compaction step after each write
//! (`moon_graph::Graph::maintain`).
//!
//! Reports nodes/s, edges/s (wall and thread CPU; the machine is shared), the split of the edge
//! load between prefix parsing and execution, the graph's own accounting
//! (`Graph::memory_usage`, then per structure: `Graph::memory_breakdown`) and the process RSS
//! growth, per entity; then the same after the idle compaction the server's tick would run.
//!
//! Run: `cargo run --release -p moon-cypher --example load_bench [-- <nodes> <edges> <batch>
//! [nowal]]` (defaults 100000 1000000 5000, the script's defaults).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use moon_cypher::lower::lower;
use moon_graph::exec::execute;
use moon_graph::plan::Plan;
use moon_graph::{Graph, Mutation};

#[path = "support/mod.rs"]
mod support;
use support::{cpu_ns, social_dataset};

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|x| x.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// Runs one query text the way the server's GRAPH.QUERY does (see the module doc).
struct Runner {
    plans: HashMap<String, Plan>,
    wal: bool,
    parse: Duration,
    exec: Duration,
    wal_bytes: usize,
}

impl Runner {
    fn run(&mut self, g: &mut Graph, text: &str) {
        let t0 = Instant::now();
        let (params, at) = match moon_cypher::split_prefix_values(text) {
            Ok(s) => s,
            Err(e) => panic!("prefix: {e}"),
        };
        let body = text.get(at..).unwrap_or("").trim_start();
        if !self.plans.contains_key(body) {
            let q = match moon_cypher::compile(text) {
                Ok(q) => q,
                Err(e) => panic!("compile: {e}"),
            };
            let plan = match lower(&q) {
                Ok(p) => p,
                Err(e) => panic!("lower: {e}"),
            };
            self.plans.insert(body.to_string(), plan);
        }
        let t1 = Instant::now();
        let Some(plan) = self.plans.get(body) else {
            return;
        };
        g.set_recording(self.wal);
        let st = match execute(g, plan, &params) {
            Ok(rs) => rs.stats,
            Err(e) => panic!("execute: {e}"),
        };
        let log = g.take_mutations();
        g.set_recording(false);
        if self.wal {
            let mut blob = Vec::new();
            Mutation::encode_batch(&log, &mut blob);
            self.wal_bytes += blob.len();
        }
        drop(log);
        g.maintain(st.relationships_created + st.relationships_deleted + st.nodes_deleted);
        self.parse += t1 - t0;
        self.exec += t1.elapsed();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (nodes, edges, batch) = (arg(1, 100_000), arg(2, 1_000_000), arg(3, 5_000) as usize);
    let wal = args.get(4).is_none_or(|s| s != "nowal");
    let (people, pairs) = social_dataset(nodes, edges);
    let mut g = Graph::new();
    let mut r = Runner {
        plans: HashMap::new(),
        wal,
        parse: Duration::ZERO,
        exec: Duration::ZERO,
        wal_bytes: 0,
    };
    let rss0 = rss_bytes();
    r.run(&mut g, "CREATE INDEX FOR (p:Person) ON (p.id)");

    let (t0, c0) = (Instant::now(), cpu_ns());
    for chunk in people.chunks(batch.max(1)) {
        let mut q = String::from("CYPHER `batch`=[");
        for (i, (id, name, age)) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(q, "{sep}{{`id`:{id},`name`:\"{name}\",`age`:{age}}}");
        }
        q.push_str(
            "] UNWIND $batch AS row CREATE (:Person {id: row.id, name: row.name, age: row.age})",
        );
        r.run(&mut g, &q);
    }
    let (node_wall, node_cpu) = (t0.elapsed(), cpu_ns() - c0);
    let mem_nodes = g.memory_usage();
    let rss_nodes = rss_bytes();

    r.parse = Duration::ZERO;
    r.exec = Duration::ZERO;
    let (t0, c0) = (Instant::now(), cpu_ns());
    for chunk in pairs.chunks(batch.max(1)) {
        let mut q = String::from("CYPHER `batch`=[");
        for (i, (a, b)) in chunk.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(q, "{sep}{{`a`:{a},`b`:{b}}}");
        }
        q.push_str(
            "] UNWIND $batch AS e MATCH (a:Person {id: e.a}), (b:Person {id: e.b}) \
             CREATE (a)-[:KNOWS]->(b)",
        );
        r.run(&mut g, &q);
    }
    let (edge_wall, edge_cpu) = (t0.elapsed(), cpu_ns() - c0);
    let mem = g.memory_usage();
    let rss = rss_bytes();
    let (n, e) = (g.node_count(), g.edge_count());
    assert_eq!((n, e), (nodes, edges), "loaded counts");
    let per_s = |k: u64, d: Duration| k as f64 / d.as_secs_f64().max(1e-9);
    let per_cpu = |k: u64, ns: u64| k as f64 / (ns.max(1) as f64 / 1e9);
    println!(
        "batch {batch}, WAL record {}: nodes {n}: {:.0}/s wall, {:.0}/s cpu; edges {e}: {:.0}/s wall, \
         {:.0}/s cpu (prefix parse {:?}, execute+log+maintain {:?}); WAL bytes {}",
        if wal { "on" } else { "off" },
        per_s(n, node_wall),
        per_cpu(n, node_cpu),
        per_s(e, edge_wall),
        per_cpu(e, edge_cpu),
        r.parse,
        r.exec,
        r.wal_bytes,
    );
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "memory_usage: after nodes {:.1} MiB ({:.1} B/node), after edges {:.1} MiB \
         ({:.1} B/edge for the edges); RSS growth: after nodes {:.1} MiB, after edges {:.1} MiB \
         ({:.1} B per node+edge)",
        mib(mem_nodes as u64),
        mem_nodes as f64 / n as f64,
        mib(mem as u64),
        (mem - mem_nodes) as f64 / e as f64,
        mib(rss_nodes - rss0),
        mib(rss - rss0),
        (rss - rss0) as f64 / (n + e) as f64,
    );
    let breakdown = |g: &Graph| {
        for (k, b) in g.memory_breakdown() {
            println!(
                "  {k:16} {:8.2} MiB  {:6.1} B/node {:6.1} B/edge",
                mib(b as u64),
                b as f64 / n as f64,
                b as f64 / e as f64
            );
        }
    };
    breakdown(&g);
    // What the server's idle tick does next: merge the rest of the delta, trim array slack.
    while g.compact_idle(256 * 1024) {}
    println!(
        "after idle compaction: memory_usage {:.1} MiB, RSS growth {:.1} MiB",
        mib(g.memory_usage() as u64),
        mib(rss_bytes() - rss0)
    );
    breakdown(&g);
}
