//! The plan executor: runs a [`crate::plan::Plan`] against a [`Graph`].
//!
//! Batched and materialising: the pipeline starts with one empty row and each operator maps the
//! whole batch to the next batch (`ops`). Simple, and correct for clauses that must see all
//! effects of the previous clause (a `MATCH` after a `CREATE`). Expressions are evaluated by
//! `eval`, aggregates by `agg`, scalar functions by `funcs`.
//!
//! Write atomicity: a plan that contains a write operator runs against the graph directly and
//! keeps an undo log (`undo`): each mutation first records its reverse. On any error the log
//! is applied newest-first and the caller's mutation log is restored (plus the schema-name
//! records of names the failed query interned, which stay), so a failed query changes no
//! entity, property, label or index. Rollback costs O(mutations), not O(graph).
//!
//! Constraints: after each write operator (a run of consecutive SET/REMOVE operators counts
//! as one, as FalkorDB's single Update operation) the entities it touched — read off the undo
//! entries it pushed — are checked against the graph's operational constraints; a violation
//! fails the query with FalkorDB's message and rolls it back. Nothing is checked when the
//! graph has no operational constraint.
//!
//! Deadlines (`timeout`): operators count rows and writes with `Ctx::tick`, which reads the
//! clock every 1024 units and between operators; past the deadline the query fails with
//! `Query timed out` (a write query is rolled back).
//!
//! Procedures (`procs`), shortest paths (`shortest`), `=~` (`regex_cache`) and the string/math
//! functions (`strmath`) live in their own modules; `execute_profiled` times each top-level
//! operator for GRAPH.PROFILE.

mod agg;
mod eval;
mod ext_fns;
mod falkor_fns;
mod funcs;
mod ops;
mod procs;
mod regex_cache;
mod rvalue;
mod shortest;
mod stream;
mod strmath;
mod undo;
mod writes;

#[cfg(test)]
mod tests;

use std::time::Instant;

use crate::graph::{Graph, GraphError};
use crate::plan::{Op, Plan};
use crate::value::Value;

pub use funcs::{format_float, is_scalar_function};
pub use procs::columns as procedure_columns;
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
    /// A constraint violation, with FalkorDB's message (see `crate::constraint`).
    #[error("{0}")]
    Constraint(String),
    /// The query ran past its deadline (FalkorDB's text).
    #[error("Query timed out")]
    Timeout,
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
    /// Entities created by this query: deleting one again cancels its creation in the stats
    /// (the TCK counts neither), instead of reporting +1/-1.
    pub created_nodes: std::collections::HashSet<crate::ids::NodeId>,
    pub created_edges: std::collections::HashSet<crate::ids::EdgeId>,
    /// Reverse mutations for rollback (see `undo`); empty for read-only runs.
    pub undo: Vec<crate::Mutation>,
    /// When the query must stop (`ExecError::Timeout`); checked by [`Ctx::tick`].
    pub deadline: Option<Instant>,
    /// Work units since the last clock read.
    pub ticks: u32,
}

/// Work units (rows produced, entities written) between two reads of the clock: cheap enough
/// to be invisible, frequent enough that a query stops within about a millisecond.
const TICKS_PER_CLOCK_READ: u32 = 1024;

impl Ctx<'_> {
    /// Counts one unit of work; every `TICKS_PER_CLOCK_READ` units, fails with
    /// `ExecError::Timeout` once the deadline has passed. One branch without a deadline.
    #[inline]
    pub(crate) fn tick(&mut self) -> Result<(), ExecError> {
        if self.deadline.is_some() {
            self.ticks += 1;
            if self.ticks >= TICKS_PER_CLOCK_READ {
                return self.check_deadline();
            }
        }
        Ok(())
    }

    /// Reads the clock now (between operators).
    #[cold]
    pub(crate) fn check_deadline(&mut self) -> Result<(), ExecError> {
        self.ticks = 0;
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(ExecError::Timeout),
            _ => Ok(()),
        }
    }
}

/// What one top-level plan operator did during a profiled run (nested operators, e.g. inside
/// `Optional` or `Merge`, are counted in their parent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpProfile {
    /// Rows the operator produced.
    pub records: usize,
    /// Wall time spent in the operator.
    pub elapsed: std::time::Duration,
}

fn new_ctx<'p>(plan: &Plan, params: &'p Params) -> Ctx<'p> {
    Ctx {
        params,
        slots: plan.slots,
        deleted_nodes: Default::default(),
        deleted_edges: Default::default(),
        stats: Stats::default(),
        created_nodes: Default::default(),
        created_edges: Default::default(),
        undo: Vec::new(),
        deadline: None,
        ticks: 0,
    }
}

/// Runs `plan`. Write plans are atomic (see the module doc).
pub fn execute(graph: &mut Graph, plan: &Plan, params: &Params) -> Result<ResultSet, ExecError> {
    execute_inner(graph, plan, params, None, None)
}

/// [`execute`] / [`execute_profiled`] (with `profile`) that fails with
/// [`ExecError::Timeout`] once `deadline` passes; a write plan is then rolled back like on
/// any other error.
pub fn execute_until(
    graph: &mut Graph,
    plan: &Plan,
    params: &Params,
    deadline: Option<Instant>,
    profile: bool,
) -> Result<(ResultSet, Vec<OpProfile>), ExecError> {
    let mut prof = Vec::new();
    let p = if profile { Some(&mut prof) } else { None };
    let rs = execute_inner(graph, plan, params, p, deadline)?;
    Ok((rs, prof))
}

/// [`execute_read`] / [`execute_read_profiled`] (with `profile`) with a deadline.
pub fn execute_read_until(
    graph: &Graph,
    plan: &Plan,
    params: &Params,
    deadline: Option<Instant>,
    profile: bool,
) -> Result<(ResultSet, Vec<OpProfile>), ExecError> {
    if plan_writes(&plan.ops) {
        return Err(ExecError::Invalid(
            "write query run on a read-only graph".into(),
        ));
    }
    let mut ctx = new_ctx(plan, params);
    ctx.deadline = deadline;
    let mut prof = Vec::new();
    let rows = ops::run_top(
        &mut ops::GraphRef::Read(graph),
        &plan.ops,
        vec![empty_row(plan)],
        &mut ctx,
        if profile { Some(&mut prof) } else { None },
    )?;
    Ok((finish(plan, rows, ctx.stats), prof))
}

/// Like [`execute`], also returning one [`OpProfile`] per operator of `plan.ops` (same
/// order), for GRAPH.PROFILE.
pub fn execute_profiled(
    graph: &mut Graph,
    plan: &Plan,
    params: &Params,
) -> Result<(ResultSet, Vec<OpProfile>), ExecError> {
    let mut prof = Vec::with_capacity(plan.ops.len());
    let rs = execute_inner(graph, plan, params, Some(&mut prof), None)?;
    Ok((rs, prof))
}

fn execute_inner(
    graph: &mut Graph,
    plan: &Plan,
    params: &Params,
    prof: Option<&mut Vec<OpProfile>>,
    deadline: Option<Instant>,
) -> Result<ResultSet, ExecError> {
    if !plan_writes(&plan.ops) {
        let mut ctx = new_ctx(plan, params);
        ctx.deadline = deadline;
        let rows = ops::run_top(
            &mut ops::GraphRef::Read(graph),
            &plan.ops,
            vec![empty_row(plan)],
            &mut ctx,
            prof,
        )?;
        return Ok(finish(plan, rows, ctx.stats));
    }
    let was_recording = graph.is_recording();
    let earlier_log = graph.take_mutations();
    let mut ctx = new_ctx(plan, params);
    ctx.deadline = deadline;
    let out = ops::run_top(
        &mut ops::GraphRef::Write(graph),
        &plan.ops,
        vec![empty_row(plan)],
        &mut ctx,
        prof,
    );
    match out {
        Ok(rows) => {
            let new_log = graph.take_mutations();
            restore_log(graph, was_recording, earlier_log, new_log);
            Ok(finish(plan, rows, ctx.stats))
        }
        Err(e) => {
            // Names the failed query interned stay (ids are append-only): keep their records.
            let schema_adds = graph
                .take_mutations()
                .into_iter()
                .filter(|m| {
                    matches!(
                        m,
                        crate::Mutation::AddLabel { .. }
                            | crate::Mutation::AddRelType { .. }
                            | crate::Mutation::AddPropKey { .. }
                    )
                })
                .collect();
            let undo = std::mem::take(&mut ctx.undo);
            drop(ctx);
            undo::rollback(graph, undo)?;
            restore_log(graph, was_recording, earlier_log, schema_adds);
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
    let mut ctx = new_ctx(plan, params);
    let rows = ops::run_ops(
        &mut ops::GraphRef::Read(graph),
        &plan.ops,
        vec![empty_row(plan)],
        &mut ctx,
    )?;
    Ok(finish(plan, rows, ctx.stats))
}

/// [`execute_read`] with one [`OpProfile`] per operator of `plan.ops` (GRAPH.PROFILE of a
/// read-only query).
pub fn execute_read_profiled(
    graph: &Graph,
    plan: &Plan,
    params: &Params,
) -> Result<(ResultSet, Vec<OpProfile>), ExecError> {
    if plan_writes(&plan.ops) {
        return Err(ExecError::Invalid(
            "write query run on a read-only graph".into(),
        ));
    }
    let mut ctx = new_ctx(plan, params);
    let mut prof = Vec::with_capacity(plan.ops.len());
    let rows = ops::run_top(
        &mut ops::GraphRef::Read(graph),
        &plan.ops,
        vec![empty_row(plan)],
        &mut ctx,
        Some(&mut prof),
    )?;
    Ok((finish(plan, rows, ctx.stats), prof))
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
        | Op::Delete { .. }
        | Op::Merge { .. }
        | Op::IndexDdl { .. }
        | Op::VectorIndexDdl { .. } => true,
        Op::Optional { ops, .. } | Op::Foreach { body: ops, .. } => plan_writes(ops),
        Op::Union(branches) => branches.iter().any(|b| plan_writes(b)),
        _ => false,
    })
}
