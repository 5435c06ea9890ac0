//! The op-IR variants of the `GRAPH.*` commands (FalkorDB's module commands). A query arrives
//! already compiled: the RESP front-end parses the Cypher text with `moon-cypher` and lowers it
//! to a `moon_graph::plan::Plan`, so a shard only executes.
//!
//! Invariants: every variant except `List`, `Info`, `ConfigGet`, `ConfigSet` names exactly one
//! graph key (COPY two) and runs on its owner; the writes are exactly what
//! [`GraphOp::is_write`] says. A write query is never logged as itself: the shard logs its
//! effect, `GRAPH.EFFECT key <mutations>` (see `crate::graph`), which replays to identical
//! entity ids whatever the query text would plan today.

use std::sync::Arc;

use bytes::Bytes;
use moon_graph::Value;
use moon_graph::plan::Plan;

use crate::ir::{KeyRouting, MergeKind};

/// One compiled GRAPH.QUERY / GRAPH.RO_QUERY / GRAPH.PROFILE.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphQuery {
    /// The graph key.
    pub key: Bytes,
    /// The query text as sent (SLOWLOG, GRAPH.INFO).
    pub text: Bytes,
    /// The lowered plan.
    pub plan: Arc<Plan>,
    /// The `CYPHER name=value ...` prefix parameters.
    pub params: Vec<(String, Value)>,
    /// GRAPH.RO_QUERY (a missing key is an error instead of a new empty graph).
    pub read_only: bool,
    /// The plan has a write operator.
    pub writes: bool,
    /// `--compact` reply encoding.
    pub compact: bool,
    /// `timeout <ms>` (0 = none).
    pub timeout_ms: u64,
    /// `version <n>`: the schema version the client's id caches were built from.
    pub version: Option<u64>,
}

/// One GRAPH.CONSTRAINT CREATE / DROP (names as sent; the shard resolves them).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphConstraint {
    /// The graph key.
    pub key: Bytes,
    /// DROP (else CREATE).
    pub drop: bool,
    /// MANDATORY or UNIQUE.
    pub kind: moon_graph::ConstraintKind,
    /// RELATIONSHIP (else NODE).
    pub relationship: bool,
    /// The label or relationship type.
    pub label: String,
    /// The properties (distinct; 1 to 255).
    pub props: Vec<String>,
}

/// A `GRAPH.*` command.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphOp {
    /// GRAPH.QUERY / GRAPH.RO_QUERY.
    Query(Box<GraphQuery>),
    /// GRAPH.PROFILE: runs the query, answers the plan lines with their counters.
    Profile(Box<GraphQuery>),
    /// GRAPH.EXPLAIN: the plan lines; never executes.
    Explain { key: Bytes, plan: Arc<Plan> },
    /// GRAPH.DELETE key.
    Delete { key: Bytes },
    /// GRAPH.LIST: this shard's graph keys (every shard; concatenated).
    List,
    /// GRAPH.MEMORY USAGE key [SAMPLES n].
    MemoryUsage { key: Bytes },
    /// GRAPH.COPY src dst (same shard; see `routing`).
    Copy { src: Bytes, dst: Bytes },
    /// GRAPH.EFFECT key blob: applies recorded mutations (the WAL form of a write query).
    Effect { key: Bytes, blob: Bytes },
    /// GRAPH.SLOWLOG key [RESET].
    Slowlog { key: Bytes, reset: bool },
    /// GRAPH.INFO [RUNNING|WAITING ...]: queries run to completion on their shard thread, so
    /// there is never a running or waiting one to show.
    Info,
    /// GRAPH.CONFIG GET name|*.
    ConfigGet { name: Bytes },
    /// GRAPH.CONFIG SET name value.
    ConfigSet { name: Bytes, value: Bytes },
    /// GRAPH.CONSTRAINT CREATE|DROP key ... (logged as its `GRAPH.EFFECT`).
    Constraint(Box<GraphConstraint>),
}

impl GraphOp {
    /// The keys the op names.
    pub fn keys(&self) -> Vec<&Bytes> {
        match self {
            GraphOp::Query(q) | GraphOp::Profile(q) => vec![&q.key],
            GraphOp::Explain { key, .. }
            | GraphOp::Delete { key }
            | GraphOp::MemoryUsage { key }
            | GraphOp::Effect { key, .. }
            | GraphOp::Slowlog { key, .. } => vec![key],
            GraphOp::Copy { src, dst } => vec![src, dst],
            GraphOp::Constraint(c) => vec![&c.key],
            GraphOp::List
            | GraphOp::Info
            | GraphOp::ConfigGet { .. }
            | GraphOp::ConfigSet { .. } => Vec::new(),
        }
    }

    /// One key: its owner. COPY is atomic over both owners. LIST asks every shard.
    pub fn routing(&self) -> KeyRouting {
        match self {
            GraphOp::List => KeyRouting::AllShards(MergeKind::Concat),
            GraphOp::Copy { .. } => KeyRouting::Atomic,
            _ => KeyRouting::Single,
        }
    }

    /// GRAPH.QUERY always (even a read creates a missing graph, as FalkorDB), PROFILE of a
    /// writing plan, DELETE, COPY, EFFECT, CONSTRAINT.
    pub fn is_write(&self) -> bool {
        match self {
            GraphOp::Query(q) => !q.read_only,
            GraphOp::Profile(q) => q.writes,
            GraphOp::Delete { .. }
            | GraphOp::Copy { .. }
            | GraphOp::Effect { .. }
            | GraphOp::Constraint(_) => true,
            _ => false,
        }
    }
}
