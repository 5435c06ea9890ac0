//! Operator implementations: each maps a batch of rows to the next batch.

use std::collections::HashSet;

use super::eval::{eval, mismatch, truth};
use super::rvalue::{Grouped, NULL, ResultValue as RV};
use super::{Ctx, ExecError, Row};
use crate::graph::Graph;
use crate::ids::{NodeId, PropKeyId, RelTypeId};
use crate::index::{IndexEntity, IndexRange};
use crate::plan::{Expr, Op};
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

/// The graph, shared for read-only plans or exclusive for write plans.
pub(crate) enum GraphRef<'g> {
    Read(&'g Graph),
    Write(&'g mut Graph),
}

impl GraphRef<'_> {
    pub(super) fn get(&self) -> &Graph {
        match self {
            GraphRef::Read(g) => g,
            GraphRef::Write(g) => g,
        }
    }

    pub(super) fn get_mut(&mut self) -> Result<&mut Graph> {
        match self {
            GraphRef::Read(_) => Err(ExecError::Invalid("write on a read-only graph".into())),
            GraphRef::Write(g) => Ok(g),
        }
    }
}

pub(crate) fn run_ops(
    g: &mut GraphRef<'_>,
    ops: &[Op],
    mut rows: Vec<Row>,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<Row>> {
    let mut mark = ctx.undo.len();
    // Fused runs take the context shared and read no clock: a query with a deadline runs the
    // batch way, which checks it per row.
    let mut fuse = ctx.deadline.is_none();
    let mut i = 0;
    while let Some(op) = ops.get(i) {
        // Read operators feeding an aggregate run fused (see `stream`); on an error they are
        // re-run the batch way so the error reported is the batch one.
        if fuse && let Some(end) = super::stream::fusible(ops, i) {
            match super::stream::run(g.get(), ctx, ops.get(i..=end).unwrap_or(&[]), &rows) {
                Ok(out) => {
                    rows = out;
                    after_op(g, ops, end, ctx, &mut mark)?;
                    i = end + 1;
                    continue;
                }
                Err(_) => fuse = false,
            }
        }
        rows = run_op(g, op, rows, ctx)?;
        after_op(g, ops, i, ctx, &mut mark)?;
        i += 1;
    }
    Ok(rows)
}

/// SET / REMOVE operators: consecutive ones form one update step for constraint checks.
fn is_update(op: &Op) -> bool {
    matches!(
        op,
        Op::SetProps(_) | Op::SetMap { .. } | Op::SetLabels { .. }
    )
}

/// Between operators: the deadline, then the constraints over what the write step ending at
/// `ops[i]` (started at undo position `*mark`) touched.
fn after_op(
    g: &GraphRef<'_>,
    ops: &[Op],
    i: usize,
    ctx: &mut Ctx<'_>,
    mark: &mut usize,
) -> Result<()> {
    if ctx.deadline.is_some() {
        ctx.check_deadline()?;
    }
    let continues = ops.get(i).is_some_and(is_update) && ops.get(i + 1).is_some_and(is_update);
    if continues {
        return Ok(());
    }
    if ctx.undo.len() > *mark {
        enforce_constraints(g.get(), &ctx.undo[*mark..])?;
    }
    *mark = ctx.undo.len();
    Ok(())
}

/// Checks every entity the undo entries say was created or changed (and still exists).
fn enforce_constraints(g: &Graph, undo: &[crate::Mutation]) -> Result<()> {
    use crate::Mutation as M;
    if !g.has_active_constraints() {
        return Ok(());
    }
    for m in undo {
        let r = match m {
            M::DeleteNode { id }
            | M::SetNodeProps { id, .. }
            | M::AddLabels { id, .. }
            | M::RemoveLabels { id, .. } => g.check_node_constraints(*id),
            M::DeleteEdge { id } | M::SetEdgeProps { id, .. } => g.check_edge_constraints(*id),
            _ => Ok(()),
        };
        r.map_err(ExecError::Constraint)?;
    }
    Ok(())
}

/// `run_ops` for a plan's top level, timing each operator when `prof` is given.
pub(crate) fn run_top(
    g: &mut GraphRef<'_>,
    ops: &[Op],
    mut rows: Vec<Row>,
    ctx: &mut Ctx<'_>,
    prof: Option<&mut Vec<super::OpProfile>>,
) -> Result<Vec<Row>> {
    let Some(prof) = prof else {
        return run_ops(g, ops, rows, ctx);
    };
    prof.clear();
    let mut mark = ctx.undo.len();
    for (i, op) in ops.iter().enumerate() {
        let t = std::time::Instant::now();
        rows = run_op(g, op, rows, ctx)?;
        prof.push(super::OpProfile {
            records: rows.len(),
            elapsed: t.elapsed(),
        });
        after_op(g, ops, i, ctx, &mut mark)?;
    }
    Ok(rows)
}

pub(super) fn set(row: &mut Row, slot: usize, v: RV) {
    debug_assert!(slot < row.len(), "slot out of range");
    if let Some(s) = row.get_mut(slot) {
        *s = v;
    }
}

/// Evaluates a SKIP/LIMIT count.
fn count_arg(g: &Graph, ctx: &Ctx<'_>, e: &Expr) -> Result<usize> {
    match eval(g, ctx, &Vec::new(), e)? {
        RV::Value(Value::Int(i)) if i >= 0 => Ok(usize::try_from(i).unwrap_or(usize::MAX)),
        RV::Value(Value::Int(_)) => Err(ExecError::Invalid(
            "ArgumentError: SKIP/LIMIT must be a non-negative integer".into(),
        )),
        other => Err(mismatch("Integer", &other)),
    }
}

fn run_op(g: &mut GraphRef<'_>, op: &Op, rows: Vec<Row>, ctx: &mut Ctx<'_>) -> Result<Vec<Row>> {
    match op {
        Op::AllNodesScan { slot } => {
            let gr = g.get();
            let mut out = Vec::new();
            for row in rows {
                for n in gr.nodes() {
                    ctx.tick()?;
                    let mut r = row.clone();
                    set(&mut r, *slot, RV::Node(n));
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::LabelScan { slot, label } => {
            let gr = g.get();
            let Some(l) = gr.label_id(label) else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for row in rows {
                for n in gr.nodes_with_label(l) {
                    ctx.tick()?;
                    let mut r = row.clone();
                    set(&mut r, *slot, RV::Node(n));
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::IndexSeek {
            slot,
            label,
            prop,
            value,
        } => {
            let gr = g.get();
            let mut out = Vec::new();
            for row in rows {
                for n in super::stream::seek_hits(gr, ctx, &row, label, prop, value)? {
                    ctx.tick()?;
                    let mut r = row.clone();
                    set(&mut r, *slot, RV::Node(n));
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::IndexScan {
            slot,
            label,
            prop,
            cmp,
            value,
        } => {
            let gr = g.get();
            let mut out = Vec::new();
            for row in rows {
                for n in super::stream::scan_hits(gr, ctx, &row, label, prop, *cmp, value)? {
                    ctx.tick()?;
                    let mut r = row.clone();
                    set(&mut r, *slot, RV::Node(n));
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::Expand {
            from,
            rel_slot,
            to,
            to_bound,
            types,
            dir,
        } => {
            let gr = g.get();
            let type_ids = rel_type_ids(gr, types);
            if !types.is_empty() && type_ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            for row in rows {
                let Some((src, target)) = endpoints(&row, *from, *to, *to_bound) else {
                    continue;
                };
                for (e, nbr) in gr.neighbors(src, *dir, &type_ids) {
                    ctx.tick()?;
                    if target.is_some_and(|t| t != nbr) {
                        continue;
                    }
                    let mut r = row.clone();
                    set(&mut r, *rel_slot, RV::Edge(e));
                    set(&mut r, *to, RV::Node(nbr));
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::Filter(pred) => {
            let gr = g.get();
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                ctx.tick()?;
                if truth(&eval(gr, ctx, &row, pred)?)? == Some(true) {
                    out.push(row);
                }
            }
            Ok(out)
        }
        Op::RelsUnique(slots) => Ok(rows
            .into_iter()
            .filter(|row| {
                let mut seen = HashSet::new();
                slots.iter().all(|s| match row.get(*s) {
                    Some(RV::Edge(e)) => seen.insert(e.0),
                    Some(RV::List(items)) => items.iter().all(|x| match x {
                        RV::Edge(e) => seen.insert(e.0),
                        _ => true,
                    }),
                    _ => true,
                })
            })
            .collect()),
        Op::VarExpand {
            from,
            rel_slot,
            to,
            to_bound,
            types,
            dir,
            min,
            max,
        } => {
            let gr = g.get();
            let type_ids = rel_type_ids(gr, types);
            if !types.is_empty() && type_ids.is_empty() && *min > 0 {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            for row in rows {
                ctx.tick()?;
                let Some((src, target)) = endpoints(&row, *from, *to, *to_bound) else {
                    continue;
                };
                let mut emit = |edges: &[crate::ids::EdgeId], end: NodeId| {
                    if target.is_some_and(|t| t != end) {
                        return;
                    }
                    let mut r = row.clone();
                    let list = edges.iter().map(|e| RV::Edge(*e)).collect();
                    set(&mut r, *rel_slot, RV::list(list));
                    set(&mut r, *to, RV::Node(end));
                    out.push(r);
                };
                var_paths(gr, src, *dir, &type_ids, *min, *max, &mut emit);
            }
            Ok(out)
        }
        Op::Project(items) => {
            let gr = g.get();
            let mut out = Vec::with_capacity(rows.len());
            for mut row in rows {
                ctx.tick()?;
                for (slot, e) in items {
                    let v = eval(gr, ctx, &row, e)?;
                    set(&mut row, *slot, v);
                }
                out.push(row);
            }
            Ok(out)
        }
        Op::Aggregate { keys, aggs } => aggregate(g.get(), ctx, keys, aggs, rows),
        Op::Sort(keys) => {
            let gr = g.get();
            let mut keyed = Vec::with_capacity(rows.len());
            for row in rows {
                ctx.tick()?;
                let mut k = Vec::with_capacity(keys.len());
                for (e, _) in keys {
                    k.push(eval(gr, ctx, &row, e)?);
                }
                keyed.push((k, row));
            }
            keyed.sort_by(|(a, _), (b, _)| {
                for (i, (_, desc)) in keys.iter().enumerate() {
                    let (Some(x), Some(y)) = (a.get(i), b.get(i)) else {
                        continue;
                    };
                    let o = x.order_cmp(y);
                    let o = if *desc { o.reverse() } else { o };
                    if o.is_ne() {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            Ok(keyed.into_iter().map(|(_, r)| r).collect())
        }
        Op::Skip(e) => {
            let n = count_arg(g.get(), ctx, e)?;
            Ok(rows.into_iter().skip(n).collect())
        }
        Op::Limit(e) => {
            let n = count_arg(g.get(), ctx, e)?;
            Ok(rows.into_iter().take(n).collect())
        }
        Op::Distinct(slots) => {
            let mut seen = HashSet::new();
            Ok(rows
                .into_iter()
                .filter(|row| {
                    let key: Vec<Grouped> = slots
                        .iter()
                        .map(|s| Grouped(row.get(*s).cloned().unwrap_or(NULL)))
                        .collect();
                    seen.insert(key)
                })
                .collect())
        }
        Op::Unwind { expr, slot } => {
            let gr = g.get();
            let mut out = Vec::new();
            let params = ctx.params;
            for row in rows {
                // A list parameter (a bulk load's rows) is walked in place, not copied whole.
                let param_list = match expr {
                    Expr::Param(name) => params.iter().find(|(n, _)| n == name),
                    _ => None,
                };
                if let Some((_, Value::List(items))) = param_list {
                    for it in items {
                        ctx.tick()?;
                        let mut r = row.clone();
                        set(&mut r, *slot, RV::Value(it.clone()));
                        out.push(r);
                    }
                    continue;
                }
                let v = eval(gr, ctx, &row, expr)?;
                let items = match v {
                    RV::Value(Value::List(l)) => l.into_iter().map(RV::Value).collect(),
                    RV::List(l) => l,
                    v if v.is_null() => Vec::new(),
                    v => vec![v],
                };
                for it in items {
                    ctx.tick()?;
                    let mut r = row.clone();
                    set(&mut r, *slot, it);
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::Optional { ops, new_slots } => {
            let mut out = Vec::new();
            for row in rows {
                ctx.tick()?;
                let got = run_ops(g, ops, vec![row.clone()], ctx)?;
                if got.is_empty() {
                    let mut r = row;
                    for s in new_slots {
                        set(&mut r, *s, NULL);
                    }
                    out.push(r);
                } else {
                    out.extend(got);
                }
            }
            Ok(out)
        }
        Op::Union(branches) => {
            let mut out = Vec::new();
            for b in branches {
                out.extend(run_ops(g, b, rows.clone(), ctx)?);
            }
            Ok(out)
        }
        Op::Create { nodes, rels } => {
            let mut out = Vec::with_capacity(rows.len());
            for mut row in rows {
                ctx.tick()?;
                super::writes::create(g.get_mut()?, ctx, &mut row, nodes, rels, false)?;
                out.push(row);
            }
            Ok(out)
        }
        Op::SetProps(items) => {
            for row in &rows {
                ctx.tick()?;
                for it in items {
                    super::writes::set_prop(g.get_mut()?, ctx, row, it)?;
                }
            }
            Ok(rows)
        }
        Op::SetMap {
            target,
            value,
            replace,
        } => {
            for row in &rows {
                ctx.tick()?;
                super::writes::set_map(g.get_mut()?, ctx, row, target, value, *replace)?;
            }
            Ok(rows)
        }
        Op::SetLabels {
            target,
            labels,
            remove,
        } => {
            for row in &rows {
                ctx.tick()?;
                super::writes::set_labels(g.get_mut()?, ctx, row, target, labels, *remove)?;
            }
            Ok(rows)
        }
        Op::Delete { exprs, detach } => super::writes::delete(g, rows, ctx, exprs, *detach),
        Op::Merge {
            pattern,
            nodes,
            rels,
            on_match,
            on_create,
        } => {
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                ctx.tick()?;
                let found = run_ops(g, pattern, vec![row.clone()], ctx)?;
                if found.is_empty() {
                    let mut r = row;
                    super::writes::create(g.get_mut()?, ctx, &mut r, nodes, rels, true)?;
                    out.extend(run_ops(g, on_create, vec![r], ctx)?);
                } else {
                    out.extend(run_ops(g, on_match, found, ctx)?);
                }
            }
            Ok(out)
        }
        Op::Foreach { slot, list, body } => {
            for row in &rows {
                let v = eval(g.get(), ctx, row, list)?;
                let items = match v.list_items() {
                    Some(items) => items,
                    None if v.is_null() => Vec::new(),
                    None => return Err(mismatch("List", &v)),
                };
                for it in items {
                    ctx.tick()?;
                    let mut r = row.clone();
                    set(&mut r, *slot, it);
                    run_ops(g, body, vec![r], ctx)?;
                }
            }
            Ok(rows)
        }
        Op::Call { name, args, yields } => {
            let mut out = Vec::new();
            for row in rows {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(eval(g.get(), ctx, &row, a)?);
                }
                let cols = super::procs::columns(name).unwrap_or_default();
                for rec in super::procs::call(g.get(), name, &vals)? {
                    let mut r = row.clone();
                    for (col, slot) in yields {
                        let i = cols.iter().position(|c| c.eq_ignore_ascii_case(col));
                        let v = i.and_then(|i| rec.get(i).cloned()).unwrap_or(NULL);
                        set(&mut r, *slot, v);
                    }
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::ShortestPath {
            from,
            to,
            path,
            rel_slot,
            types,
            dir,
            min,
            max,
            all,
        } => {
            let gr = g.get();
            let type_ids = rel_type_ids(gr, types);
            let search = super::shortest::Search {
                dir: *dir,
                types: &type_ids,
                allow_zero: *min == 0,
                max: *max,
                all: *all,
            };
            let mut out = Vec::new();
            for row in rows {
                let (Some(RV::Node(a)), Some(RV::Node(b))) = (row.get(*from), row.get(*to)) else {
                    continue;
                };
                if !types.is_empty() && type_ids.is_empty() && a != b {
                    continue;
                }
                for p in super::shortest::shortest_paths(gr, *a, *b, &search) {
                    let mut r = row.clone();
                    let rels = p.edges.iter().map(|e| RV::Edge(*e)).collect();
                    set(&mut r, *rel_slot, RV::list(rels));
                    set(&mut r, *path, RV::Path(p));
                    out.push(r);
                }
            }
            Ok(out)
        }
        Op::IndexDdl {
            label,
            props,
            rel,
            drop,
        } => super::writes::index_ddl(g, rows, ctx, label, props, *rel, *drop),
        Op::VectorIndexDdl {
            label,
            prop,
            rel,
            options,
        } => super::writes::vector_index_ddl(g, rows, ctx, label, prop, *rel, *options),
    }
}

/// Candidate nodes for `n.key <cmp> v` among nodes labelled `l`, in id order: from the range
/// index when there is one and `v` is indexable, else every node with the label. A superset:
/// the caller re-checks each candidate.
pub(super) fn index_candidates(
    g: &Graph,
    l: crate::ids::LabelId,
    k: PropKeyId,
    cmp: crate::plan::BinOp,
    v: &RV,
) -> Vec<NodeId> {
    use crate::plan::BinOp;
    let scan = || g.nodes_with_label(l).collect::<Vec<_>>();
    if !g.has_index(IndexEntity::Label(l), k) {
        return scan();
    }
    let indexable = |x: &Value| crate::index::IndexKey::of(x).is_some();
    let ranges: Vec<IndexRange> = match (cmp, v) {
        (BinOp::In, _) => {
            let Some(items) = v.list_items() else {
                return scan();
            };
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    RV::Value(x) if indexable(&x) => out.push(IndexRange::eq(x)),
                    // null never equals; other kinds are not in the index: scan to be exact.
                    x if x.is_null() => {}
                    _ => return scan(),
                }
            }
            out
        }
        (_, RV::Value(x)) if indexable(x) => vec![match cmp {
            BinOp::Eq => IndexRange::eq(x.clone()),
            BinOp::Lt => IndexRange::lt(x.clone()),
            BinOp::Le => IndexRange::le(x.clone()),
            BinOp::Gt => IndexRange::gt(x.clone()),
            BinOp::Ge => IndexRange::ge(x.clone()),
            _ => return scan(),
        }],
        _ => return scan(),
    };
    let mut ids: Vec<NodeId> = ranges
        .iter()
        .flat_map(|r| g.index_seek_nodes(l, k, r).collect::<Vec<_>>())
        .collect();
    ids.sort_unstable_by_key(|n| n.0);
    ids.dedup();
    ids
}

/// Depth-first enumeration of relationship-unique paths of `min..=max` hops from `src`.
pub(super) fn var_paths(
    g: &Graph,
    src: NodeId,
    dir: crate::ids::Direction,
    types: &[RelTypeId],
    min: u64,
    max: Option<u64>,
    emit: &mut dyn FnMut(&[crate::ids::EdgeId], NodeId),
) {
    let mut edges: Vec<crate::ids::EdgeId> = Vec::new();
    // Stack of neighbour iterators per depth (no allocation per visited node); explicit, so
    // depth is not limited by the thread stack. `edges[d]` is the edge taken at depth d.
    let mut stack: Vec<crate::Neighbors<'_>> = Vec::new();
    if min == 0 {
        emit(&[], src);
    }
    if max == Some(0) {
        return;
    }
    stack.push(g.neighbors(src, dir, types));
    while let Some(it) = stack.last_mut() {
        let Some((e, n)) = it.next() else {
            stack.pop();
            edges.pop();
            continue;
        };
        if edges.contains(&e) {
            continue;
        }
        edges.push(e);
        let depth = edges.len() as u64;
        if depth >= min {
            emit(&edges, n);
        }
        if max.is_none_or(|m| depth < m) {
            stack.push(g.neighbors(n, dir, types));
        } else {
            edges.pop();
        }
    }
}

fn aggregate(
    g: &Graph,
    ctx: &Ctx<'_>,
    keys: &[Expr],
    aggs: &[(usize, crate::plan::AggCall)],
    rows: Vec<Row>,
) -> Result<Vec<Row>> {
    let mut st = super::stream::AggState::new(g, keys, aggs, false);
    for row in &rows {
        st.add(g, ctx, row)?;
    }
    Ok(st.finish(ctx.slots))
}

/// The ids of the relationship types named in an expand step; names the graph has never seen
/// are left out (no relationship can have them).
pub(super) fn rel_type_ids(gr: &Graph, types: &[std::sync::Arc<str>]) -> Vec<RelTypeId> {
    types.iter().filter_map(|t| gr.rel_type_id(t)).collect()
}

/// An expand step's start node and, when the pattern's far end is already bound, its node;
/// `None` when a slot does not hold a node (the row expands to nothing).
pub(super) fn endpoints(
    row: &[RV],
    from: usize,
    to: usize,
    to_bound: bool,
) -> Option<(NodeId, Option<NodeId>)> {
    let Some(RV::Node(src)) = row.get(from) else {
        return None;
    };
    if !to_bound {
        return Some((*src, None));
    }
    match row.get(to) {
        Some(RV::Node(n)) => Some((*src, Some(*n))),
        _ => None,
    }
}
