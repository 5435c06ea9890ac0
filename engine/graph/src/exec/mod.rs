//! The plan executor: runs a [`crate::plan::Plan`] against a [`Graph`].
//!
//! Batched and materialising: the pipeline starts with one empty row and each operator maps the
//! whole batch to the next batch (`ops`). Simple, and correct for clauses that must see all
//! effects of the previous clause (a `MATCH` after a `CREATE`). Expressions are evaluated by
//! `eval`, aggregates by `agg`, scalar functions by `funcs`.
//!
//! Write atomicity: a plan that contains a write operator runs against the graph directly, after
//! taking a deep `copy()` of it; on any error the copy is put back (including the recording flag
//! and the mutation log entries taken before the query), so a failed query changes nothing. This
//! costs O(graph) per write query — a deliberate first-slice choice, to be replaced by an undo log
//! built from recorded mutations (which needs the deleted entities' labels/properties).

mod agg;
mod eval;
mod funcs;
mod ops;
mod rvalue;

#[cfg(test)]
mod tests;

use crate::graph::{Graph, GraphError};
use crate::plan::{Op, Plan};
use crate::value::Value;

pub use funcs::format_float;
pub use rvalue::{Grouped, Path, ResultValue};

/// Query parameters: `$name` → value.
pub type Params = [(String, Value)];

/// A runtime error (FalkorDB-like messages).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExecError {
    #[error("Division by zero")]
    DivisionByZero,
    #[error("Integer overflow")]
    IntegerOverflow,
    #[error("Type mismatch: expected {expected} but was {actual}")]
    TypeMismatch { expected: String, actual: String },
    #[error("Missing parameters: {0}")]
    MissingParameter(String),
    #[error("Unknown function '{0}'")]
    UnknownFunction(String),
    #[error("Received {got} arguments to function '{name}', expected {want}")]
    Arity {
        name: String,
        got: usize,
        want: String,
    },
    #[error("Cannot delete node<{0}>, as it still has connections")]
    DeleteConnected(u64),
    #[error("DeletedEntityAccess: the entity was deleted by this query")]
    DeletedEntityAccess,
    #[error("{0}")]
    Invalid(String),
    #[error("not supported yet: {0}")]
    Unsupported(String),
    #[error("graph error: {0}")]
    Graph(#[from] GraphError),
}

/// Write counters, as FalkorDB reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub nodes_created: u64,
    pub nodes_deleted: u64,
    pub relationships_created: u64,
    pub relationships_deleted: u64,
    pub properties_set: u64,
    pub properties_removed: u64,
    pub labels_added: u64,
    pub labels_removed: u64,
    pub indices_created: u64,
    pub indices_deleted: u64,
}

/// A query result.
#[derive(Clone, Debug, Default)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<ResultValue>>,
    pub stats: Stats,
}

/// One row: a value per slot.
pub(crate) type Row = Vec<ResultValue>;

/// Shared state of one execution.
pub(crate) struct Ctx<'p> {
    pub params: &'p Params,
    /// Row width (`Plan::slots`).
    pub slots: usize,
    /// Entities deleted by this query (edges with their type name, which `type(r)` may still
    /// report); reading their properties or labels is `DeletedEntityAccess`. An id re-used by
    /// a later CREATE is removed again.
    pub deleted_nodes: std::collections::HashSet<crate::ids::NodeId>,
    pub deleted_edges: std::collections::HashMap<crate::ids::EdgeId, std::sync::Arc<str>>,
    pub stats: Stats,
}

/// Runs `plan`. Write plans are atomic (see the module doc).
pub fn execute(graph: &mut Graph, plan: &Plan, params: &Params) -> Result<ResultSet, ExecError> {
    if !plan_writes(&plan.ops) {
        return execute_read(graph, plan, params);
    }
    let was_recording = graph.is_recording();
    let earlier_log = graph.take_mutations();
    let backup = graph.copy();
    let mut ctx = Ctx {
        params,
        slots: plan.slots,
        deleted_nodes: Default::default(),
        deleted_edges: Default::default(),
        stats: Stats::default(),
    };
    let out = run(graph, plan, &mut ctx);
    match out {
        Ok(rows) => {
            let new_log = graph.take_mutations();
            restore_log(graph, was_recording, earlier_log, new_log);
            Ok(finish(plan, rows, ctx.stats))
        }
        Err(e) => {
            *graph = backup;
            restore_log(graph, was_recording, earlier_log, Vec::new());
            Err(e)
        }
    }
}

/// Runs a plan without write operators on a shared graph.
pub fn execute_read(graph: &Graph, plan: &Plan, params: &Params) -> Result<ResultSet, ExecError> {
    if plan_writes(&plan.ops) {
        return Err(ExecError::Invalid(
            "write query run on a read-only graph".into(),
        ));
    }
    let mut ctx = Ctx {
        params,
        slots: plan.slots,
        deleted_nodes: Default::default(),
        deleted_edges: Default::default(),
        stats: Stats::default(),
    };
    let rows = ops::run_ops(
        &mut ops::GraphRef::Read(graph),
        &plan.ops,
        vec![empty_row(plan)],
        &mut ctx,
    )?;
    Ok(finish(plan, rows, ctx.stats))
}

fn run(graph: &mut Graph, plan: &Plan, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    ops::run_ops(
        &mut ops::GraphRef::Write(graph),
        &plan.ops,
        vec![empty_row(plan)],
        ctx,
    )
}

fn empty_row(plan: &Plan) -> Row {
    vec![rvalue::NULL; plan.slots]
}

/// Re-applies the caller's mutation log: the entries from before the query, then this query's.
fn restore_log(
    graph: &mut Graph,
    was_recording: bool,
    earlier: Vec<crate::Mutation>,
    new: Vec<crate::Mutation>,
) {
    graph.set_recording(was_recording);
    let mut log = earlier;
    log.extend(new);
    graph.log = log;
}

fn finish(plan: &Plan, rows: Vec<Row>, stats: Stats) -> ResultSet {
    let columns = plan.columns.iter().map(|(n, _)| n.clone()).collect();
    let rows = if plan.columns.is_empty() {
        Vec::new()
    } else {
        rows.into_iter()
            .map(|r| {
                plan.columns
                    .iter()
                    .map(|(_, s)| r.get(*s).cloned().unwrap_or(rvalue::NULL))
                    .collect()
            })
            .collect()
    };
    ResultSet {
        columns,
        rows,
        stats,
    }
}

/// Whether any operator (at any depth) writes.
pub fn plan_writes(ops: &[Op]) -> bool {
    ops.iter().any(|op| match op {
        Op::Create { .. }
        | Op::SetProps(_)
        | Op::SetMap { .. }
        | Op::SetLabels { .. }
        | Op::Delete { .. } => true,
        Op::Optional { ops, .. } => plan_writes(ops),
        Op::Union(branches) => branches.iter().any(|b| plan_writes(b)),
        _ => false,
    })
}
