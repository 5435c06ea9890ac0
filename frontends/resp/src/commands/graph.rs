//! Table entries and parsers of FalkorDB's `GRAPH.*` commands. A query is compiled here
//! (`moon_cypher::compile`, then `moon_cypher::lower::lower` to the engine's plan, with the
//! `CYPHER a=1 ...` prefix split into parameters), so a shard only executes; a front-end never
//! touches storage. They lower to `Op::Graph` (`moon_engine::ir::ops::graph`).
//!
//! Invariants: errors keep FalkorDB 4.x's texts (`../shared/FALKORDB-PROTOCOL.md` §2, §5):
//! Cypher errors travel as the compiler's FalkorDB-shaped message with no `ERR` prefix, as
//! FalkorDB sends them; the flags after the query (`--compact`, `timeout <ms>`, `version <n>`)
//! are case-insensitive, in any order, and unknown ones are ignored. Table flags and key specs
//! follow FalkorDB's COMMAND INFO (module commands; the graph key is argv[1], argv[2] for
//! GRAPH.MEMORY USAGE).

use std::sync::Arc;

use bytes::Bytes;
use moon_engine::ir::ops::{GraphConstraint, GraphOp, GraphQuery};
use moon_engine::ir::{Op, OpError};

use super::Command;
use super::args::is;
use super::table::{
    CommandSpec, DENYOOM, K_ACCESS, K_DELETE, K_INSERT, K_OW, K_RM, K_RO, K_RW, K_UPDATE, KeySpec,
    NOSCRIPT, READONLY, WRITE, doc,
};

const G: &str = "module";

fn op(g: GraphOp) -> Result<Command, OpError> {
    Ok(Command::Op(Op::Graph(g)))
}

fn fail<T>(text: impl Into<String>) -> Result<T, OpError> {
    Err(OpError::Other(text.into()))
}

const RW: &[KeySpec] = &[KeySpec::one(K_RW | K_UPDATE, 1)];
const RO: &[KeySpec] = &[KeySpec::one(K_RO | K_ACCESS, 1)];
const RM: &[KeySpec] = &[KeySpec::one(K_RM | K_DELETE, 1)];
const COPY_KEYS: &[KeySpec] = &[
    KeySpec::one(K_RO | K_ACCESS, 1),
    KeySpec::one(K_OW | K_INSERT, 2),
];
const MEMORY_KEY: &[KeySpec] = &[KeySpec::one(K_RO, 2)];

pub static GRAPH_QUERY: CommandSpec = CommandSpec::new(
    "graph.query",
    -3,
    WRITE | DENYOOM | NOSCRIPT,
    0,
    RW,
    doc(
        G,
        "1.0.0",
        "Executes the given query against a specified graph",
        "O(query)",
    ),
    graph_query,
);

pub static GRAPH_RO_QUERY: CommandSpec = CommandSpec::new(
    "graph.ro_query",
    -3,
    READONLY | NOSCRIPT,
    0,
    RO,
    doc(
        G,
        "2.2.8",
        "Executes a given read only query against a specified graph",
        "O(query)",
    ),
    graph_ro_query,
);

pub static GRAPH_PROFILE: CommandSpec = CommandSpec::new(
    "graph.profile",
    -3,
    WRITE | DENYOOM | NOSCRIPT,
    0,
    RW,
    doc(
        G,
        "2.0.0",
        "Executes a query and returns an execution plan augmented with metrics for each operation's execution",
        "O(query)",
    ),
    graph_profile,
);

pub static GRAPH_EXPLAIN: CommandSpec = CommandSpec::new(
    "graph.explain",
    -3,
    WRITE | DENYOOM | NOSCRIPT,
    0,
    RO,
    doc(
        G,
        "2.0.0",
        "Returns a query execution plan without running the query",
        "O(query)",
    ),
    graph_explain,
);

pub static GRAPH_DELETE: CommandSpec = CommandSpec::new(
    "graph.delete",
    2,
    WRITE,
    0,
    RM,
    doc(
        G,
        "1.0.0",
        "Completely removes the graph and all of its entities",
        "O(|V|+|E|)",
    ),
    graph_delete,
);

pub static GRAPH_LIST: CommandSpec = CommandSpec::new(
    "graph.list",
    1,
    READONLY,
    0,
    &[],
    doc(G, "2.4.3", "Lists all graph keys in the keyspace", "O(n)"),
    graph_list,
);

pub static GRAPH_CONFIG: CommandSpec = CommandSpec::new(
    "graph.config",
    -3,
    READONLY,
    0,
    &[],
    doc(
        G,
        "2.2.11",
        "Retrieves or updates a FalkorDB configuration",
        "O(1)",
    ),
    graph_config,
);

pub static GRAPH_MEMORY: CommandSpec = CommandSpec::new(
    "graph.memory",
    -3,
    READONLY,
    0,
    MEMORY_KEY,
    doc(G, "4.0.0", "Reports the memory usage of a graph", "O(1)"),
    graph_memory,
);

pub static GRAPH_COPY: CommandSpec = CommandSpec::new(
    "graph.copy",
    3,
    WRITE | DENYOOM,
    0,
    COPY_KEYS,
    doc(
        G,
        "4.0.0",
        "Creates a copy of the given graph",
        "O(|V|+|E|)",
    ),
    graph_copy,
);

pub static GRAPH_INFO: CommandSpec = CommandSpec::new(
    "graph.info",
    -1,
    READONLY,
    0,
    &[],
    doc(
        G,
        "4.0.0",
        "Returns information about running and waiting queries",
        "O(1)",
    ),
    graph_info,
);

pub static GRAPH_SLOWLOG: CommandSpec = CommandSpec::new(
    "graph.slowlog",
    -2,
    READONLY,
    0,
    RO,
    doc(
        G,
        "2.0.12",
        "Returns a list containing up to 10 of the slowest queries issued against the given graph",
        "O(1)",
    ),
    graph_slowlog,
);

pub static GRAPH_EFFECT: CommandSpec = CommandSpec::new(
    "graph.effect",
    3,
    WRITE | DENYOOM,
    0,
    RW,
    doc(
        G,
        "4.0.0",
        "Applies recorded graph mutations (the WAL and replication form of a write query)",
        "O(n)",
    ),
    graph_effect,
);

/// GRAPH.CONSTRAINT's key is argv[2] (FalkorDB's COMMAND INFO: arity -1, key 2).
const CONSTRAINT_KEY: &[KeySpec] = &[KeySpec::one(K_RW | K_UPDATE, 2)];

pub static GRAPH_CONSTRAINT: CommandSpec = CommandSpec::new(
    "graph.constraint",
    -1,
    WRITE | DENYOOM | NOSCRIPT,
    0,
    CONSTRAINT_KEY,
    doc(G, "2.12.0", "Creates or deletes a constraint", "O(n)"),
    graph_constraint,
);

/// Every GRAPH.* command.
pub static COMMANDS: &[&CommandSpec] = &[
    &GRAPH_QUERY,
    &GRAPH_RO_QUERY,
    &GRAPH_PROFILE,
    &GRAPH_EXPLAIN,
    &GRAPH_DELETE,
    &GRAPH_LIST,
    &GRAPH_CONFIG,
    &GRAPH_MEMORY,
    &GRAPH_COPY,
    &GRAPH_INFO,
    &GRAPH_SLOWLOG,
    &GRAPH_EFFECT,
    &GRAPH_CONSTRAINT,
];

/// A query's compiled form plus its flags.
fn compile_query(args: &[Bytes], read_only: bool) -> Result<GraphQuery, OpError> {
    let (Some(key), Some(text)) = (args.get(1), args.get(2)) else {
        return fail("ERR wrong number of arguments");
    };
    let mut compact = false;
    let mut timeout_ms = 0u64;
    let mut version = None;
    let mut i = 3;
    while let Some(a) = args.get(i) {
        if is(a, "--compact") {
            compact = true;
        } else if is(a, "timeout") {
            i += 1;
            timeout_ms = args
                .get(i)
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map_or_else(|| fail("Failed to parse query timeout value"), Ok)?;
        } else if is(a, "version") {
            i += 1;
            version = Some(
                args.get(i)
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map_or_else(|| fail("Failed to parse graph version value"), Ok)?,
            );
        }
        i += 1;
    }
    let Ok(source) = std::str::from_utf8(text) else {
        return fail("Error: query is not valid UTF-8.");
    };
    if source.trim().is_empty() {
        return fail("Error: empty query.");
    }
    let (params, plan, writes) = compile_cached(source)?;
    if read_only && writes {
        return fail("graph.RO_QUERY is to be executed only on read-only queries");
    }
    Ok(GraphQuery {
        key: key.clone(),
        text: text.clone(),
        plan,
        params,
        read_only,
        writes,
        compact,
        timeout_ms,
        version,
    })
}

/// Statement text (after the `CYPHER` prefix) -> its plan and whether it writes. Per thread
/// (each shard thread compiles its own connections' queries), at most GRAPH.CONFIG
/// CACHE_SIZE entries, an arbitrary one evicted when full; statements over
/// [`PLAN_CACHE_MAX_TEXT`] bytes are not kept. A hit skips parsing, the semantic pass and
/// lowering: the plan depends on the statement only, never on the prefix's values.
type PlanCache = std::collections::HashMap<Box<str>, (Arc<moon_graph::plan::Plan>, bool)>;

thread_local! {
    static PLANS: std::cell::RefCell<PlanCache> = std::cell::RefCell::new(PlanCache::new());
}

/// Longest statement text the plan cache keeps.
const PLAN_CACHE_MAX_TEXT: usize = 64 * 1024;

type Compiled = (
    Vec<(String, moon_graph::Value)>,
    Arc<moon_graph::plan::Plan>,
    bool,
);

fn compile_cached(source: &str) -> Result<Compiled, OpError> {
    let split = moon_cypher::split_prefix_values(source).ok();
    let body = split
        .as_ref()
        .and_then(|(_, at)| source.get(*at..))
        .map(str::trim_start)
        .filter(|b| b.len() <= PLAN_CACHE_MAX_TEXT);
    let hit = body.and_then(|b| PLANS.with(|c| c.borrow().get(b).cloned()));
    if let (Some((params, _)), Some((plan, writes))) = (split, hit) {
        return Ok((params, plan, writes));
    }
    let q = moon_cypher::compile(source).map_err(|e| OpError::Other(e.to_string()))?;
    let params = moon_cypher::lower::prefix_params(&q);
    let plan = moon_cypher::lower::lower(&q).map_err(|e| OpError::Other(e.to_string()))?;
    let writes = moon_graph::exec::plan_writes(&plan.ops);
    let plan = Arc::new(plan);
    if let Some(body) = body {
        let cap = usize::try_from(moon_engine::graph::config::int("CACHE_SIZE")).unwrap_or(0);
        PLANS.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= cap
                && let Some(k) = c.keys().next().cloned()
            {
                c.remove(&k);
            }
            if cap > 0 {
                c.insert(body.into(), (plan.clone(), writes));
            }
        });
    }
    Ok((params, plan, writes))
}

fn graph_query(args: &[Bytes]) -> Result<Command, OpError> {
    op(GraphOp::Query(Box::new(compile_query(args, false)?)))
}

fn graph_ro_query(args: &[Bytes]) -> Result<Command, OpError> {
    op(GraphOp::Query(Box::new(compile_query(args, true)?)))
}

fn graph_profile(args: &[Bytes]) -> Result<Command, OpError> {
    op(GraphOp::Profile(Box::new(compile_query(args, false)?)))
}

fn graph_explain(args: &[Bytes]) -> Result<Command, OpError> {
    let q = compile_query(args, false)?;
    op(GraphOp::Explain {
        key: q.key,
        plan: q.plan,
    })
}

fn key_at(args: &[Bytes], i: usize) -> Result<Bytes, OpError> {
    args.get(i)
        .cloned()
        .map_or_else(|| fail("ERR wrong number of arguments"), Ok)
}

fn graph_delete(args: &[Bytes]) -> Result<Command, OpError> {
    op(GraphOp::Delete {
        key: key_at(args, 1)?,
    })
}

fn graph_list(_args: &[Bytes]) -> Result<Command, OpError> {
    op(GraphOp::List)
}

fn graph_config(args: &[Bytes]) -> Result<Command, OpError> {
    let sub = key_at(args, 1)?;
    match (args.get(2), args.get(3), args.len()) {
        (Some(name), None, 3) if is(&sub, "get") => op(GraphOp::ConfigGet { name: name.clone() }),
        (Some(name), Some(value), 4) if is(&sub, "set") => op(GraphOp::ConfigSet {
            name: name.clone(),
            value: value.clone(),
        }),
        _ if is(&sub, "get") || is(&sub, "set") => {
            fail("ERR wrong number of arguments for 'graph.CONFIG' command")
        }
        _ => fail("Unknown subcommand for GRAPH.CONFIG"),
    }
}

fn graph_memory(args: &[Bytes]) -> Result<Command, OpError> {
    let sub = key_at(args, 1)?;
    if !is(&sub, "usage") {
        return fail("ERR unknown subcommand for GRAPH.MEMORY");
    }
    let key = key_at(args, 2)?;
    // SAMPLES n: FalkorDB samples entities to estimate attribute sizes; Moon's figure is
    // exact, so the count is only validated.
    match args.get(3..) {
        None | Some([]) => {}
        Some([kw, n]) if is(kw, "samples") => {
            let ok = std::str::from_utf8(n)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some();
            if !ok {
                return fail("ERR invalid SAMPLES value");
            }
        }
        Some(_) => return fail("ERR syntax error"),
    }
    op(GraphOp::MemoryUsage { key })
}

fn graph_copy(args: &[Bytes]) -> Result<Command, OpError> {
    op(GraphOp::Copy {
        src: key_at(args, 1)?,
        dst: key_at(args, 2)?,
    })
}

fn graph_info(args: &[Bytes]) -> Result<Command, OpError> {
    for a in args.iter().skip(1) {
        if !(is(a, "running") || is(a, "waiting")) {
            return fail("ERR unknown GRAPH.INFO option");
        }
    }
    op(GraphOp::Info)
}

fn graph_slowlog(args: &[Bytes]) -> Result<Command, OpError> {
    let key = key_at(args, 1)?;
    let reset = match args.get(2) {
        None => false,
        Some(a) if is(a, "reset") && args.len() == 3 => true,
        Some(_) => return fail("ERR unknown subcommand for GRAPH.SLOWLOG"),
    };
    op(GraphOp::Slowlog { key, reset })
}

fn graph_effect(args: &[Bytes]) -> Result<Command, OpError> {
    op(GraphOp::Effect {
        key: key_at(args, 1)?,
        blob: key_at(args, 2)?,
    })
}

/// `GRAPH.CONSTRAINT CREATE|DROP key MANDATORY|UNIQUE NODE label|RELATIONSHIP type
/// PROPERTIES n prop...`, checked in FalkorDB's order with its texts.
fn graph_constraint(args: &[Bytes]) -> Result<Command, OpError> {
    if args.len() < 8 {
        return fail("ERR wrong number of arguments for 'graph.CONSTRAINT' command");
    }
    let at = |i: usize| args.get(i).map_or(&b""[..], |a| &a[..]);
    let drop = if is(at(1), "create") {
        false
    } else if is(at(1), "drop") {
        true
    } else {
        return fail("Invalid constraint operation");
    };
    let kind = if is(at(3), "mandatory") {
        moon_graph::ConstraintKind::Mandatory
    } else if is(at(3), "unique") {
        moon_graph::ConstraintKind::Unique
    } else {
        return fail("Invalid constraint type");
    };
    let relationship = if is(at(4), "node") {
        false
    } else if is(at(4), "relationship") {
        true
    } else {
        return fail("Invalid constraint entity type");
    };
    if !is(at(6), "properties") {
        return fail("missing PROPERTIES argument");
    }
    let n = std::str::from_utf8(at(7))
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|n| (1..=255).contains(n));
    let Some(n) = n else {
        return fail("Number of properties must be an integer between 1 and 255");
    };
    let props = args.get(8..).unwrap_or_default();
    if props.len() as i64 != n {
        return fail("Number of properties doesn't match property count");
    }
    let name = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let props: Vec<String> = props.iter().map(|p| name(p)).collect();
    let mut sorted = props.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != props.len() {
        return fail("Properties cannot contain duplicates");
    }
    op(GraphOp::Constraint(Box::new(GraphConstraint {
        key: key_at(args, 2)?,
        drop,
        kind,
        relationship,
        label: name(at(5)),
        props,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(parts: &[&str]) -> Vec<Bytes> {
        parts
            .iter()
            .map(|p| Bytes::copy_from_slice(p.as_bytes()))
            .collect()
    }

    fn query(parts: &[&str]) -> Result<GraphQuery, OpError> {
        compile_query(&args(parts), false)
    }

    #[test]
    fn flags_in_any_order_and_unknown_ignored() {
        let q = query(&[
            "GRAPH.QUERY",
            "g",
            "RETURN 1",
            "TIMEOUT",
            "5",
            "--bogus",
            "--COMPACT",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(q.compact);
        assert_eq!(q.timeout_ms, 5);
        assert!(!q.writes);
        let q = query(&["GRAPH.QUERY", "g", "CREATE ()", "version", "3"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(q.writes);
        assert_eq!(q.version, Some(3));
    }

    #[test]
    fn falkordb_error_texts() {
        let e = |parts: &[&str]| match query(parts) {
            Err(OpError::Other(t)) => t,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            e(&["GRAPH.QUERY", "g", "RETURN 1", "timeout", "abc"]),
            "Failed to parse query timeout value"
        );
        assert_eq!(
            e(&["GRAPH.QUERY", "g", "RETURN 1", "timeout", "-1"]),
            "Failed to parse query timeout value"
        );
        assert_eq!(e(&["GRAPH.QUERY", "g", ""]), "Error: empty query.");
        assert!(e(&["GRAPH.QUERY", "g", "MATCH (n RETURN n"]).starts_with("errMsg: "));
        let ro = compile_query(&args(&["GRAPH.RO_QUERY", "g", "CREATE (:X)"]), true);
        assert_eq!(
            ro,
            Err(OpError::Other(
                "graph.RO_QUERY is to be executed only on read-only queries".into()
            ))
        );
    }

    #[test]
    fn parameters_are_split_from_the_prefix() {
        let q = query(&["GRAPH.QUERY", "g", "CYPHER a=1 b='x' RETURN $a, $b"])
            .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = q.params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn constraint_arguments_and_errors() {
        let e = |line: &str| {
            let parts: Vec<&str> = line.split(' ').collect();
            match graph_constraint(&args(&parts)) {
                Err(OpError::Other(t)) => t,
                other => panic!("{line}: {other:?}"),
            }
        };
        let ok = |line: &str| {
            let parts: Vec<&str> = line.split(' ').collect();
            match graph_constraint(&args(&parts)) {
                Ok(Command::Op(Op::Graph(GraphOp::Constraint(c)))) => c,
                other => panic!("{line}: {other:?}"),
            }
        };
        let c = ok("GRAPH.CONSTRAINT create g unique relationship R properties 2 b a");
        assert!(!c.drop && c.relationship);
        assert_eq!(c.kind, moon_graph::ConstraintKind::Unique);
        assert_eq!((c.key.as_ref(), c.label.as_str()), (&b"g"[..], "R"));
        assert_eq!(c.props, ["b", "a"]);
        assert!(ok("GRAPH.CONSTRAINT DROP g MANDATORY NODE L PROPERTIES 1 x").drop);
        let wrong = "ERR wrong number of arguments for 'graph.CONSTRAINT' command";
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPERTIES"),
            wrong
        );
        assert_eq!(e("GRAPH.CONSTRAINT"), wrong);
        assert_eq!(
            e("GRAPH.CONSTRAINT FOO g MANDATORY NODE L PROPERTIES 1 x"),
            "Invalid constraint operation"
        );
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g FOO NODE L PROPERTIES 1 x"),
            "Invalid constraint type"
        );
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY EDGE L PROPERTIES 1 x"),
            "Invalid constraint entity type"
        );
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPS 1 x"),
            "missing PROPERTIES argument"
        );
        let count = "Number of properties must be an integer between 1 and 255";
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPERTIES 0"),
            count
        );
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPERTIES 256 x"),
            count
        );
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPERTIES x x"),
            count
        );
        let mismatch = "Number of properties doesn't match property count";
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPERTIES 2 x"),
            mismatch
        );
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPERTIES 1 x y"),
            mismatch
        );
        assert_eq!(
            e("GRAPH.CONSTRAINT CREATE g MANDATORY NODE L PROPERTIES 2 x x"),
            "Properties cannot contain duplicates"
        );
    }
}
