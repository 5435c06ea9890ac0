//! Write-query latency on a large graph, against the cost of the `Graph::copy()` the executor
//! took per write query before the undo log:
//! `cargo run -p moon-cypher --example write_latency -- 200000` (the workspace's dev profile is
//! optimized).
use std::time::Instant;

use moon_cypher::lower::lower;
use moon_graph::exec::execute;
use moon_graph::{Graph, Value};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mut g = Graph::new();
    let l = g.intern_label("P");
    let k = g.intern_prop_key("v");
    let t = g.intern_rel_type("T");
    let mut prev = None;
    for i in 0..n {
        let Ok(id) = g.create_node(&[l], vec![(k, Value::Int(i as i64))]) else {
            return;
        };
        if let Some(p) = prev {
            g.create_edge(p, id, t, Vec::new()).ok();
        }
        prev = Some(id);
    }
    g.compact_all();
    let t0 = Instant::now();
    let copies = 5;
    for _ in 0..copies {
        std::hint::black_box(g.copy());
    }
    let copy = t0.elapsed() / copies;
    let plan = |q: &str| compile_plan(q);
    let (Some(ok), Some(bad)) = (
        plan("CREATE (:Q {v: 1})"),
        plan("CREATE (q:Q {v: 1}) SET q.w = 2 WITH count(*) AS c RETURN 1 / toInteger('0')"),
    ) else {
        return;
    };
    let runs = 200u32;
    let t0 = Instant::now();
    for _ in 0..runs {
        execute(&mut g, &ok, &[]).ok();
    }
    let create = t0.elapsed() / runs;
    let t0 = Instant::now();
    for _ in 0..runs {
        execute(&mut g, &bad, &[]).err();
    }
    let failed = t0.elapsed() / runs;
    println!(
        "{n} nodes + {} edges: Graph::copy {copy:?}; CREATE query {create:?}; failing write query (rolled back) {failed:?}",
        n.saturating_sub(1)
    );
}

fn compile_plan(q: &str) -> Option<moon_graph::plan::Plan> {
    let ast = moon_cypher::compile(q).ok()?;
    lower(&ast).ok()
}
