//! In-process query benchmark (issue 7's query mix, without the RESP front-end): builds the
//! `benches/graph` social graph (`:Person {id, name, age}`, `:KNOWS` with Zipf(0.8) endpoints
//! over two random rankings, no self-loops, index on `:Person(id)`), compiles each query with
//! moon-cypher once and times `execute` per call: median wall µs over many random starts plus
//! the mean thread-CPU µs (the machine is shared). Also prints a checksum of the results so an
//! executor change can be checked to return the same answers.
//!
//! Lives in moon-cypher (not moon-graph) because moon-cypher already depends on moon-graph.
//! Run: `cargo run --release -p moon-cypher --example query_bench [-- <nodes> <edges> <filter>]`
//! (`QUERY_BENCH_PLANS=1` also prints each query's plan operators).

use std::hint::black_box;
use std::time::Instant;

use moon_cypher::lower::lower;
use moon_graph::exec::{ResultValue, execute};
use moon_graph::plan::Plan;
use moon_graph::{Graph, NewEdge, Value};

#[path = "support/mod.rs"]
mod support;
use support::{XorShift, cpu_ns, social_dataset};

/// Builds the graph; returns it and the hub (largest out-degree) id.
fn build(nodes: u64, edges: u64) -> (Graph, i64) {
    let (people, pairs) = social_dataset(nodes, edges);
    let mut g = Graph::new();
    let person = g.intern_label("Person");
    let kid = g.intern_prop_key("id");
    let kname = g.intern_prop_key("name");
    let kage = g.intern_prop_key("age");
    let knows = g.intern_rel_type("KNOWS");
    let mut ids = Vec::with_capacity(nodes as usize);
    for (id, name, age) in people {
        let props = vec![
            (kid, Value::Int(id as i64)),
            (kname, Value::String(name.into())),
            (kage, Value::Int(age as i64)),
        ];
        match g.create_node(&[person], props) {
            Ok(n) => ids.push(n),
            Err(e) => panic!("create_node: {e}"),
        }
    }
    let mut out_deg = vec![0u64; nodes as usize];
    let mut batch: Vec<NewEdge> = Vec::with_capacity(edges as usize);
    for (a, b) in pairs {
        out_deg[a as usize] += 1;
        batch.push((ids[a as usize], ids[b as usize], knows, Vec::new()));
    }
    if let Err(e) = g.create_edges(batch) {
        panic!("create_edges: {e}");
    }
    g.compact_all();
    let hub = (0..nodes as usize).max_by_key(|&i| out_deg[i]).unwrap_or(0);
    let Some(idx) = plan("CREATE INDEX FOR (p:Person) ON (p.id)") else {
        panic!("index plan");
    };
    if let Err(e) = execute(&mut g, &idx, &[]) {
        panic!("create index: {e}");
    }
    (g, hub as i64)
}

fn plan(q: &str) -> Option<Plan> {
    let ast = moon_cypher::compile(q).ok()?;
    lower(&ast).ok()
}

/// A cheap order-independent digest of a result (integers summed, strings by length).
fn digest(rows: &[Vec<ResultValue>]) -> i64 {
    let mut h = rows.len() as i64;
    for r in rows {
        for v in r {
            h = h.wrapping_add(match v {
                ResultValue::Value(Value::Int(i)) => *i,
                ResultValue::Value(Value::String(s)) => s.len() as i64 * 7,
                ResultValue::Value(Value::Null) => 13,
                _ => 1,
            });
        }
    }
    h
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nodes: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let edges: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let filter = args.get(3).cloned().unwrap_or_default();
    let t = Instant::now();
    let (mut g, hub) = build(nodes, edges);
    println!(
        "graph: {nodes} nodes, {edges} edges, hub id {hub}, built in {:.1?}",
        t.elapsed()
    );
    let n = nodes as i64;
    type Gen = Box<dyn Fn(&mut XorShift) -> Vec<(String, Value)>>;
    let id = |k: &str, v: i64| (k.to_string(), Value::Int(v));
    let rand_id: Gen = Box::new(move |r| vec![id("id", r.below(n as u64) as i64)]);
    let hub_id: Gen = Box::new(move |_| vec![id("id", hub)]);
    let pair: Gen = Box::new(move |r| {
        vec![
            id("a", r.below(n as u64) as i64),
            id("b", r.below(n as u64) as i64),
        ]
    });
    let none: Gen = Box::new(|_| Vec::new());
    let cases: Vec<(&str, &str, Gen, u32)> = vec![
        (
            "point_lookup",
            "MATCH (p:Person {id: $id}) RETURN p.name, p.age",
            rand_id,
            20_000,
        ),
        (
            "hop1_count",
            "MATCH (p:Person {id: $id})-[:KNOWS]->(f) RETURN count(f)",
            Box::new(move |r| vec![id("id", r.below(n as u64) as i64)]),
            20_000,
        ),
        (
            "hop2_count",
            "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)",
            Box::new(move |r| vec![id("id", r.below(n as u64) as i64)]),
            2_000,
        ),
        (
            "hop1_hub",
            "MATCH (p:Person {id: $id})-[:KNOWS]->(f) RETURN count(f)",
            Box::new(move |_| vec![id("id", hub)]),
            2_000,
        ),
        (
            "hop2_hub",
            "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)",
            hub_id,
            20,
        ),
        (
            "var1_3_count",
            "MATCH (p:Person {id: $id})-[:KNOWS*1..3]->(f) RETURN count(f)",
            Box::new(move |r| vec![id("id", r.below(n as u64) as i64)]),
            200,
        ),
        (
            "shortest_path",
            "MATCH (a:Person {id: $a}), (b:Person {id: $b}) RETURN length(shortestPath((a)-[:KNOWS*]->(b)))",
            pair,
            200,
        ),
        (
            "label_filter",
            "MATCH (p:Person) WHERE p.age > 60 RETURN count(p)",
            none,
            20,
        ),
        (
            "group_by_age",
            "MATCH (p:Person) RETURN p.age, count(*) ORDER BY p.age",
            Box::new(|_| Vec::new()),
            20,
        ),
    ];
    println!(
        "{:<14} {:>8} {:>12} {:>12} {:>20}",
        "query", "runs", "median_us", "cpu_mean_us", "digest"
    );
    for (name, q, gen_params, runs) in cases {
        if !filter.is_empty() && !name.contains(filter.as_str()) {
            continue;
        }
        let Some(p) = plan(q) else {
            println!("{name}: does not compile");
            continue;
        };
        if std::env::var_os("QUERY_BENCH_PLANS").is_some() {
            println!("{name}: {:?}", p.ops);
        }
        let mut rng = XorShift(42);
        let mut times = Vec::with_capacity(runs as usize);
        let mut dig = 0i64;
        // Warm-up run (not timed).
        let _ = execute(&mut g, &p, &gen_params(&mut XorShift(7)));
        let cpu0 = cpu_ns();
        for _ in 0..runs {
            let params = gen_params(&mut rng);
            let t = Instant::now();
            let rs = execute(&mut g, &p, &params);
            times.push(t.elapsed().as_nanos() as u64);
            match rs {
                Ok(rs) => dig = dig.wrapping_add(digest(&rs.rows)),
                Err(e) => {
                    println!("{name}: error {e}");
                    break;
                }
            }
            black_box(&dig);
        }
        let cpu = cpu_ns().saturating_sub(cpu0);
        times.sort_unstable();
        let med = times.get(times.len() / 2).copied().unwrap_or(0);
        println!(
            "{:<14} {:>8} {:>12.1} {:>12.1} {:>20}",
            name,
            times.len(),
            med as f64 / 1e3,
            cpu as f64 / 1e3 / times.len().max(1) as f64,
            dig
        );
    }
}
