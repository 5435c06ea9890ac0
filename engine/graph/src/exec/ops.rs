//! Operator implementations: each maps a batch of rows to the next batch.

use std::collections::{HashMap, HashSet};

use super::agg::Acc;
use super::eval::{eval, mismatch, truth};
use super::rvalue::{Grouped, NULL, ResultValue as RV};
use super::{Ctx, ExecError, Row};
use crate::graph::Graph;
use crate::ids::{NodeId, PropKeyId, RelTypeId};
use crate::index::{IndexEntity, IndexRange};
use crate::plan::{CreateNode, CreateRel, Expr, Op, SetProp};
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

/// The graph, shared for read-only plans or exclusive for write plans.
pub(crate) enum GraphRef<'g> {
    Read(&'g Graph),
    Write(&'g mut Graph),
}

impl GraphRef<'_> {
    fn get(&self) -> &Graph {
        match self {
            GraphRef::Read(g) => g,
            GraphRef::Write(g) => g,
        }
    }

    fn get_mut(&mut self) -> Result<&mut Graph> {
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
    for op in ops {
        rows = run_op(g, op, rows, ctx)?;
    }
    Ok(rows)
}

fn set(row: &mut Row, slot: usize, v: RV) {
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
            let (Some(l), Some(k)) = (gr.label_id(label), gr.prop_key_id(prop)) else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for row in rows {
                let RV::Value(v) = eval(gr, ctx, &row, value)? else {
                    continue;
                };
                let hits: Vec<NodeId> = if gr.has_index(IndexEntity::Label(l), k) {
                    let range = IndexRange::eq(v.clone());
                    gr.index_seek_nodes(l, k, &range).collect()
                } else {
                    gr.nodes_with_label(l).collect()
                };
                for n in hits {
                    // Re-check: the index treats 1 and 1.0 alike, and the fallback scans all.
                    if gr.node_property(n, k).and_then(|p| p.cypher_eq(&v)) == Some(true) {
                        let mut r = row.clone();
                        set(&mut r, *slot, RV::Node(n));
                        out.push(r);
                    }
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
            for row in rows {
                let v = eval(gr, ctx, &row, expr)?;
                let items = match v.list_items() {
                    Some(items) => items,
                    None if v.is_null() => Vec::new(),
                    None => vec![v],
                };
                for it in items {
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
                create(g.get_mut()?, ctx, &mut row, nodes, rels)?;
                out.push(row);
            }
            Ok(out)
        }
        Op::SetProps(items) => {
            for row in &rows {
                for it in items {
                    set_prop(g.get_mut()?, ctx, row, it)?;
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
                set_map(g.get_mut()?, ctx, row, target, value, *replace)?;
            }
            Ok(rows)
        }
        Op::SetLabels {
            target,
            labels,
            remove,
        } => {
            for row in &rows {
                set_labels(g.get_mut()?, ctx, row, target, labels, *remove)?;
            }
            Ok(rows)
        }
        Op::Delete { exprs, detach } => {
            // Collect first, then delete: later rows may name the same entity again.
            let gr = g.get();
            let mut nodes = Vec::new();
            let mut edges = Vec::new();
            for row in &rows {
                for e in exprs {
                    let v = eval(gr, ctx, row, e)?;
                    collect_deletes(v, &mut nodes, &mut edges)?;
                }
            }
            let gm = g.get_mut()?;
            for e in edges {
                if let Some(r) = gm.edge(e) {
                    let t = gm.rel_type_name(r.rel).unwrap_or_default();
                    ctx.deleted_edges.insert(e, std::sync::Arc::from(t));
                    gm.delete_edge(e)?;
                    ctx.stats.relationships_deleted += 1;
                }
            }
            for n in nodes {
                if !gm.node_exists(n) {
                    continue;
                }
                if !*detach && gm.degree(n, crate::ids::Direction::Both, &[]) > 0 {
                    return Err(ExecError::DeleteConnected(n.0));
                }
                let incident: Vec<_> = gm.neighbors(n, crate::ids::Direction::Both, &[]).collect();
                for (e, _) in incident {
                    if let Some(r) = gm.edge(e) {
                        let t = gm.rel_type_name(r.rel).unwrap_or_default();
                        ctx.deleted_edges.insert(e, std::sync::Arc::from(t));
                    }
                }
                ctx.stats.relationships_deleted += gm.delete_node(n, true)?;
                ctx.stats.nodes_deleted += 1;
                ctx.deleted_nodes.insert(n);
            }
            Ok(rows)
        }
    }
}

/// Depth-first enumeration of relationship-unique paths of `min..=max` hops from `src`.
fn var_paths(
    g: &Graph,
    src: NodeId,
    dir: crate::ids::Direction,
    types: &[RelTypeId],
    min: u64,
    max: Option<u64>,
    emit: &mut dyn FnMut(&[crate::ids::EdgeId], NodeId),
) {
    let mut edges: Vec<crate::ids::EdgeId> = Vec::new();
    // Stack of (neighbour list, next index) per depth; explicit, so depth is not limited by
    // the thread stack. `edges[d]` is the edge taken at depth d.
    type Frame = (Vec<(crate::ids::EdgeId, NodeId)>, usize);
    let mut stack: Vec<Frame> = Vec::new();
    if min == 0 {
        emit(&[], src);
    }
    if max == Some(0) {
        return;
    }
    stack.push((g.neighbors(src, dir, types).collect(), 0));
    while let Some((nbrs, i)) = stack.last_mut() {
        let Some((e, n)) = nbrs.get(*i).copied() else {
            stack.pop();
            edges.pop();
            continue;
        };
        *i += 1;
        if edges.contains(&e) {
            continue;
        }
        edges.push(e);
        let depth = edges.len() as u64;
        if depth >= min {
            emit(&edges, n);
        }
        if max.is_none_or(|m| depth < m) {
            stack.push((g.neighbors(n, dir, types).collect(), 0));
        } else {
            edges.pop();
        }
    }
}

fn collect_deletes(
    v: RV,
    nodes: &mut Vec<NodeId>,
    edges: &mut Vec<crate::ids::EdgeId>,
) -> Result<()> {
    match v {
        RV::Node(n) => nodes.push(n),
        RV::Edge(e) => edges.push(e),
        RV::Path(p) => {
            edges.extend(p.edges);
            nodes.extend(p.nodes);
        }
        RV::List(items) => {
            for it in items {
                collect_deletes(it, nodes, edges)?;
            }
        }
        v if v.is_null() => {}
        other => {
            return Err(ExecError::Invalid(format!(
                "Delete type mismatch, expecting either Node or Relationship but was {}",
                super::eval::type_name(&other)
            )));
        }
    }
    Ok(())
}

/// Evaluates property expressions into storable pairs (nulls dropped), interning keys.
fn eval_props(
    g: &mut Graph,
    ctx: &Ctx<'_>,
    row: &Row,
    props: &[(std::sync::Arc<str>, Expr)],
) -> Result<Vec<(PropKeyId, Value)>> {
    let mut out = Vec::with_capacity(props.len());
    for (k, e) in props {
        let v = storable(eval(g, ctx, row, e)?)?;
        if !v.is_null() {
            let key = g.intern_prop_key(k);
            out.retain(|(kk, _): &(PropKeyId, Value)| *kk != key);
            out.push((key, v));
        }
    }
    Ok(out)
}

/// Property values must be plain values (and lists of them), not entities or maps.
fn storable(v: RV) -> Result<Value> {
    match v {
        RV::Value(Value::Map(_)) | RV::Map(_) => Err(ExecError::Invalid(
            "Property values can only be of primitive types or arrays of primitive types".into(),
        )),
        RV::Value(Value::List(l))
            if l.iter()
                .any(|x| matches!(x, Value::Map(_) | Value::List(_))) =>
        {
            Err(ExecError::Invalid(
                "Property values can only be of primitive types or arrays of primitive types"
                    .into(),
            ))
        }
        RV::Value(v) => Ok(v),
        _ => Err(ExecError::Invalid(
            "Property values can only be of primitive types or arrays of primitive types".into(),
        )),
    }
}

fn create(
    g: &mut Graph,
    ctx: &mut Ctx<'_>,
    row: &mut Row,
    nodes: &[CreateNode],
    rels: &[CreateRel],
) -> Result<()> {
    for n in nodes {
        let labels: Vec<_> = n.labels.iter().map(|l| g.intern_label(l)).collect();
        let props = eval_props(g, ctx, row, &n.props)?;
        ctx.stats.properties_set += props.len() as u64;
        ctx.stats.labels_added += labels.len() as u64;
        let id = g.create_node(&labels, props)?;
        ctx.deleted_nodes.remove(&id);
        ctx.stats.nodes_created += 1;
        set(row, n.slot, RV::Node(id));
    }
    for r in rels {
        let (Some(RV::Node(src)), Some(RV::Node(dst))) = (row.get(r.src), row.get(r.dst)) else {
            return Err(ExecError::Invalid(
                "Failed to create relationship; endpoint was not found.".into(),
            ));
        };
        let (src, dst) = (*src, *dst);
        let t = g.intern_rel_type(&r.rel_type);
        let props = eval_props(g, ctx, row, &r.props)?;
        ctx.stats.properties_set += props.len() as u64;
        let id = g.create_edge(src, dst, t, props)?;
        ctx.deleted_edges.remove(&id);
        ctx.stats.relationships_created += 1;
        set(row, r.slot, RV::Edge(id));
    }
    Ok(())
}

fn set_prop(g: &mut Graph, ctx: &mut Ctx<'_>, row: &Row, it: &SetProp) -> Result<()> {
    let target = eval(g, ctx, row, &it.target)?;
    let value = storable(eval(g, ctx, row, &it.value)?)?;
    apply_prop(g, ctx, &target, &it.key, value)
}

/// Sets (or with Null removes) one property of a node/relationship, counting stats.
fn apply_prop(
    g: &mut Graph,
    ctx: &mut Ctx<'_>,
    target: &RV,
    key: &str,
    value: Value,
) -> Result<()> {
    match target {
        RV::Node(_) | RV::Edge(_) => {}
        t if t.is_null() => return Ok(()),
        other => return Err(mismatch("Node or Edge", other)),
    }
    if value.is_null() {
        let Some(k) = g.prop_key_id(key) else {
            return Ok(());
        };
        let old = match target {
            RV::Node(n) => g.set_node_property(*n, k, Value::Null)?,
            RV::Edge(e) => g.set_edge_property(*e, k, Value::Null)?,
            _ => None,
        };
        if old.is_some() {
            ctx.stats.properties_removed += 1;
        }
        return Ok(());
    }
    let k = g.intern_prop_key(key);
    match target {
        RV::Node(n) => g.set_node_property(*n, k, value)?,
        RV::Edge(e) => g.set_edge_property(*e, k, value)?,
        _ => None,
    };
    ctx.stats.properties_set += 1;
    Ok(())
}

/// `SET x = map` / `SET x += map`.
fn set_map(
    g: &mut Graph,
    ctx: &mut Ctx<'_>,
    row: &Row,
    target: &Expr,
    value: &Expr,
    replace: bool,
) -> Result<()> {
    let t = eval(g, ctx, row, target)?;
    if t.is_null() {
        return Ok(());
    }
    let v = eval(g, ctx, row, value)?;
    let entries = match (&v, v.map_entries()) {
        (_, Some(m)) => m,
        (RV::Node(_) | RV::Edge(_), None) => super::funcs::entity_props(g, &v)
            .into_iter()
            .map(|(k, v)| (k, RV::Value(v)))
            .collect(),
        (x, None) if x.is_null() => Vec::new(),
        (x, None) => return Err(mismatch("Map", x)),
    };
    if replace {
        let current: Vec<std::sync::Arc<str>> = super::funcs::entity_props(g, &t)
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !entries.iter().any(|(e, _)| e == k))
            .collect();
        for k in current {
            apply_prop(g, ctx, &t, &k, Value::Null)?;
        }
    }
    for (k, v) in entries {
        apply_prop(g, ctx, &t, &k, storable(v)?)?;
    }
    Ok(())
}

fn set_labels(
    g: &mut Graph,
    ctx: &mut Ctx<'_>,
    row: &Row,
    target: &Expr,
    labels: &[std::sync::Arc<str>],
    remove: bool,
) -> Result<()> {
    let n = match eval(g, ctx, row, target)? {
        RV::Node(n) => n,
        t if t.is_null() => return Ok(()),
        other => return Err(mismatch("Node", &other)),
    };
    if remove {
        let ids: Vec<_> = labels.iter().filter_map(|l| g.label_id(l)).collect();
        ctx.stats.labels_removed += g.remove_labels(n, &ids)? as u64;
    } else {
        let ids: Vec<_> = labels.iter().map(|l| g.intern_label(l)).collect();
        ctx.stats.labels_added += g.add_labels(n, &ids)? as u64;
    }
    Ok(())
}

fn aggregate(
    g: &Graph,
    ctx: &Ctx<'_>,
    keys: &[Expr],
    aggs: &[(usize, crate::plan::AggCall)],
    rows: Vec<Row>,
) -> Result<Vec<Row>> {
    let mut groups: HashMap<Vec<Grouped>, usize> = HashMap::new();
    let mut out: Vec<(Row, Vec<Acc>)> = Vec::new();
    let new_accs = || {
        aggs.iter()
            .map(|(_, a)| Acc::new(a.func, a.distinct))
            .collect::<Vec<_>>()
    };
    for row in rows {
        let mut key = Vec::with_capacity(keys.len());
        for k in keys {
            key.push(Grouped(eval(g, ctx, &row, k)?));
        }
        let idx = match groups.get(&key) {
            Some(i) => *i,
            None => {
                out.push((row.clone(), new_accs()));
                groups.insert(key, out.len() - 1);
                out.len() - 1
            }
        };
        let Some((_, accs)) = out.get_mut(idx) else {
            continue;
        };
        for ((_, call), acc) in aggs.iter().zip(accs.iter_mut()) {
            let v = match &call.arg {
                Some(e) => Some(eval(g, ctx, &row, e)?),
                None => None,
            };
            acc.add(v)?;
        }
    }
    if out.is_empty() && keys.is_empty() {
        out.push((vec![NULL; ctx.slots], new_accs()));
    }
    Ok(out
        .into_iter()
        .map(|(mut row, accs)| {
            for ((slot, _), acc) in aggs.iter().zip(accs) {
                if row.len() <= *slot {
                    row.resize(*slot + 1, NULL);
                }
                row[*slot] = acc.finish();
            }
            row
        })
        .collect())
}

/// The ids of the relationship types named in an expand step; names the graph has never seen
/// are left out (no relationship can have them).
fn rel_type_ids(gr: &Graph, types: &[std::sync::Arc<str>]) -> Vec<RelTypeId> {
    types.iter().filter_map(|t| gr.rel_type_id(t)).collect()
}

/// An expand step's start node and, when the pattern's far end is already bound, its node;
/// `None` when a slot does not hold a node (the row expands to nothing).
fn endpoints(
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
