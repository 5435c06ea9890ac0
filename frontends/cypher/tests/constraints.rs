//! Constraint enforcement and query deadlines in the executor, end to end from Cypher text
//! (`compile` → `lower` → `moon_graph::exec`): FalkorDB's violation texts, per-write-step
//! checks (consecutive SETs are one step), rollback of the failed query, `db.constraints()`,
//! `DROP INDEX` of a supporting index, and `Query timed out` with rollback.

use std::time::{Duration, Instant};

use moon_cypher::lower::{lower, prefix_params};
use moon_graph::exec::{ResultSet, ResultValue, execute_until};
use moon_graph::{ConstraintKind, ConstraintStatus, Graph, IndexEntity, Value};

fn run_until(g: &mut Graph, q: &str, deadline: Option<Instant>) -> Result<ResultSet, String> {
    let ast = moon_cypher::compile(q).map_err(|e| e.message)?;
    let plan = lower(&ast).map_err(|e| e.message)?;
    execute_until(g, &plan, &prefix_params(&ast), deadline, false)
        .map(|(rs, _)| rs)
        .map_err(|e| e.to_string())
}

fn run(g: &mut Graph, q: &str) -> Result<ResultSet, String> {
    run_until(g, q, None)
}

fn count(g: &mut Graph, q: &str) -> i64 {
    match run(g, q)
        .ok()
        .and_then(|rs| rs.rows.first()?.first().cloned())
    {
        Some(ResultValue::Value(Value::Int(n))) => n,
        other => panic!("{q}: {other:?}"),
    }
}

fn constrain(g: &mut Graph, kind: ConstraintKind, label: &str, props: &[&str]) -> ConstraintStatus {
    let l = IndexEntity::Label(g.intern_label(label));
    let keys: Vec<_> = props.iter().map(|p| g.intern_prop_key(p)).collect();
    g.create_constraint(kind, l, &keys)
        .unwrap_or_else(|e| panic!("{label} {props:?}: {e}"))
}

#[test]
fn mandatory_is_checked_per_write_step_and_rolled_back() {
    let mut g = Graph::new();
    assert!(run(&mut g, "CREATE (:Q {x: 1})").is_ok());
    assert_eq!(
        constrain(&mut g, ConstraintKind::Mandatory, "Q", &["x"]),
        ConstraintStatus::Operational
    );
    let missing = "mandatory constraint violation: node with label Q missing property x";
    assert_eq!(run(&mut g, "CREATE (:Q)").err().as_deref(), Some(missing));
    // The CREATE is checked before the SET that would have fixed it (as FalkorDB).
    assert_eq!(
        run(&mut g, "CREATE (n:Q) SET n.x = 1").err().as_deref(),
        Some(missing)
    );
    // Consecutive SETs are one step: only the end state counts.
    assert!(run(&mut g, "CREATE (n:Q {x: 1}) SET n.x = null SET n.x = 2").is_ok());
    assert_eq!(
        run(
            &mut g,
            "CREATE (n:Q {x: 1}) WITH n SET n.x = null WITH n SET n.x = 2"
        )
        .err()
        .as_deref(),
        Some(missing)
    );
    assert_eq!(
        run(&mut g, "MATCH (n:Q {x: 1}) REMOVE n.x")
            .err()
            .as_deref(),
        Some(missing)
    );
    assert_eq!(
        run(&mut g, "CREATE (n:X) SET n:Q").err().as_deref(),
        Some(missing)
    );
    assert!(run(&mut g, "MERGE (n:Q {y: 1}) ON CREATE SET n.x = 5").is_ok());
    assert_eq!(
        run(&mut g, "MERGE (n:Q {y: 2})").err().as_deref(),
        Some(missing)
    );
    // Every failed query left nothing behind.
    assert_eq!(count(&mut g, "MATCH (n) RETURN count(n)"), 3);
    assert_eq!(
        count(&mut g, "MATCH (n:Q) WHERE n.x IS NULL RETURN count(n)"),
        0
    );
    assert!(run(&mut g, "MATCH (n:Q {x: 2}) REMOVE n:Q").is_ok());
}

#[test]
fn unique_needs_an_index_and_rejects_duplicates() {
    let mut g = Graph::new();
    assert!(run(&mut g, "CREATE (:P {a: 1, b: 2})").is_ok());
    assert!(run(&mut g, "CREATE INDEX FOR (p:P) ON (p.a, p.b)").is_ok());
    assert_eq!(
        constrain(&mut g, ConstraintKind::Unique, "P", &["a", "b"]),
        ConstraintStatus::Operational
    );
    let dup = "unique constraint violation on node of type P";
    assert_eq!(
        run(&mut g, "CREATE (:P {a: 1, b: 2})").err().as_deref(),
        Some(dup)
    );
    assert_eq!(
        run(&mut g, "CREATE (:P {a: 1.0, b: 2})").err().as_deref(),
        Some(dup)
    );
    assert!(run(&mut g, "CREATE (:P {a: 1, b: 3}), (:P {a: 1})").is_ok());
    assert_eq!(
        run(&mut g, "UNWIND [7, 7] AS i CREATE (:P {a: i, b: i})")
            .err()
            .as_deref(),
        Some(dup)
    );
    assert!(run(&mut g, "UNWIND [1, 1] AS i MERGE (:P {a: 10, b: i})").is_ok());
    assert_eq!(
        run(&mut g, "MATCH (n:P {b: 3}) SET n.b = 2")
            .err()
            .as_deref(),
        Some(dup)
    );
    assert_eq!(count(&mut g, "MATCH (n:P) RETURN count(n)"), 4);
    assert_eq!(
        run(&mut g, "DROP INDEX ON :P(a)").err().as_deref(),
        Some("Index supports constraint")
    );
    // Relationships.
    assert!(run(&mut g, "CREATE INDEX FOR ()-[r:T]-() ON (r.w)").is_ok());
    let t = IndexEntity::RelType(g.intern_rel_type("T"));
    let w = g.intern_prop_key("w");
    assert!(g.create_constraint(ConstraintKind::Unique, t, &[w]).is_ok());
    assert_eq!(
        run(
            &mut g,
            "CREATE (a:X)-[:T {w: 1}]->(b:X), (a)-[:T {w: 1}]->(b)"
        )
        .err()
        .as_deref(),
        Some("unique constraint violation, on edge of relationship-type T")
    );
    assert_eq!(count(&mut g, "MATCH (x:X) RETURN count(x)"), 0);
}

#[test]
fn db_constraints_lists_in_falkordb_order() {
    let mut g = Graph::new();
    assert!(run(&mut g, "CREATE (:A), (:B), (:C {x: 1})").is_ok());
    constrain(&mut g, ConstraintKind::Mandatory, "B", &["x"]);
    let t = IndexEntity::RelType(g.intern_rel_type("T"));
    let x = g.intern_prop_key("x");
    assert!(
        g.create_constraint(ConstraintKind::Mandatory, t, &[x])
            .is_ok()
    );
    constrain(&mut g, ConstraintKind::Mandatory, "A", &["x"]);
    constrain(&mut g, ConstraintKind::Mandatory, "B", &["y"]);
    constrain(&mut g, ConstraintKind::Mandatory, "C", &["x"]);
    let rs = run(&mut g, "CALL db.constraints()").unwrap_or_default();
    assert_eq!(
        rs.columns,
        ["type", "label", "properties", "entitytype", "status"]
    );
    let s = |v: &ResultValue| match v {
        ResultValue::Value(Value::String(s)) => s.to_string(),
        ResultValue::Value(Value::List(l)) => format!("{l:?}"),
        other => format!("{other:?}"),
    };
    let rows: Vec<String> = rs
        .rows
        .iter()
        .map(|r| format!("{} {} {} {}", s(&r[0]), s(&r[1]), s(&r[3]), s(&r[4])))
        .collect();
    assert_eq!(
        rows,
        [
            "MANDATORY T RELATIONSHIP OPERATIONAL",
            "MANDATORY C NODE OPERATIONAL",
            "MANDATORY B NODE FAILED",
            "MANDATORY B NODE FAILED",
            "MANDATORY A NODE FAILED",
        ]
    );
    // A failed constraint is not enforced.
    assert!(run(&mut g, "CREATE (:A)").is_ok());
}

#[test]
fn deadlines_abort_reads_and_roll_back_writes() {
    let mut g = Graph::new();
    let slow = "UNWIND range(1, 100000) AS x UNWIND range(1, 1000) AS y RETURN count(*)";
    let start = Instant::now();
    let r = run_until(&mut g, slow, Some(start + Duration::from_millis(100)));
    assert_eq!(r.err().as_deref(), Some("Query timed out"));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    let write = "UNWIND range(1, 3000000) AS x CREATE (:N {x: x})";
    let start = Instant::now();
    let r = run_until(&mut g, write, Some(start + Duration::from_millis(100)));
    assert_eq!(r.err().as_deref(), Some("Query timed out"));
    assert_eq!(count(&mut g, "MATCH (n) RETURN count(n)"), 0);
    // Without a deadline (or a generous one) the same machinery answers.
    let fast = "UNWIND range(1, 1000) AS x RETURN count(*)";
    let far = Some(Instant::now() + Duration::from_secs(60));
    assert!(run_until(&mut g, fast, far).is_ok());
}
