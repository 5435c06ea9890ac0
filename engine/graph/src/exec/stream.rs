//! Fused read pipelines: a run of row-producing read operators (scans, index seeks/scans,
//! expansions, filters, relationship uniqueness) followed by an `Aggregate` is executed
//! depth-first over ONE mutable row that feeds the aggregate directly, instead of
//! materialising (and cloning) every intermediate row.
//!
//! When the aggregate only counts (`count(*)`, or `count(x)` of a slot the fused operators
//! bind, which is never null there) and has no grouping keys, the last expansion is not walked
//! at all: a fixed-length hop adds the node's degree minus the relationships uniqueness
//! excludes, and a variable-length hop adds the degree at its last level (see
//! [`count_var_paths`]). Only the first result row is ever built, because a keyless
//! aggregate's output row is its first input row with the aggregates filled in.
//!
//! Invariants: results (rows, their order, the first row of each group) are exactly those of
//! the batch operators in `ops`. The fused operators are read-only, so any error makes the
//! caller re-run the same operators the batch way (identical error precedence). GRAPH.PROFILE
//! runs never fuse, so their per-operator counts are unchanged.

use std::collections::HashMap;

use super::agg::Acc;
use super::eval::{eval, truth};
use super::ops::{endpoints, index_candidates, rel_type_ids, set, var_paths};
use super::rvalue::{Grouped, NULL, ResultValue as RV};
use super::{Ctx, ExecError, Row};
use crate::graph::Graph;
use crate::ids::{Direction, EdgeId, NodeId, RelTypeId};
use crate::index::{IndexEntity, IndexRange};
use crate::plan::{AggCall, AggFunc, Expr, Op, Slot};

type Result<T> = std::result::Result<T, ExecError>;

/// If `ops[start..end]` is a non-empty run of fusible read operators and `ops[end]` an
/// `Aggregate`, returns `end`.
pub(super) fn fusible(ops: &[Op], start: usize) -> Option<usize> {
    let mut j = start;
    while let Some(op) = ops.get(j) {
        match op {
            Op::AllNodesScan { .. }
            | Op::LabelScan { .. }
            | Op::IndexSeek { .. }
            | Op::IndexScan { .. }
            | Op::Expand { .. }
            | Op::VarExpand { .. }
            | Op::Filter(_)
            | Op::RelsUnique(_) => j += 1,
            Op::Aggregate { .. } if j > start => return Some(j),
            _ => return None,
        }
    }
    None
}

/// Runs `ops` (fusible operators then an `Aggregate`, as [`fusible`] found) on `rows`.
pub(super) fn run(g: &Graph, ctx: &Ctx<'_>, ops: &[Op], rows: &[Row]) -> Result<Vec<Row>> {
    let Some((Op::Aggregate { keys, aggs }, gens)) = ops.split_last() else {
        return Err(ExecError::Invalid(
            "fused pipeline without aggregate".into(),
        ));
    };
    let types: Vec<Vec<RelTypeId>> = gens
        .iter()
        .map(|op| match op {
            Op::Expand { types, .. } | Op::VarExpand { types, .. } => rel_type_ids(g, types),
            _ => Vec::new(),
        })
        .collect();
    let mut sink = AggState::new(keys, aggs, count_only(keys, aggs, gens));
    let p = Pipe {
        g,
        ctx,
        ops: gens,
        types: &types,
    };
    for row in rows {
        let mut r = row.clone();
        p.stream(0, &mut r, &mut sink)?;
    }
    Ok(sink.finish(ctx.slots))
}

/// Whether the aggregate is keyless and every call is a plain count of rows (`count(*)` or
/// `count(slot)` of a slot bound to an entity or list by one of `gens`).
fn count_only(keys: &[Expr], aggs: &[(Slot, AggCall)], gens: &[Op]) -> bool {
    let bound = |s: Slot| {
        gens.iter().any(|op| match op {
            Op::AllNodesScan { slot }
            | Op::LabelScan { slot, .. }
            | Op::IndexSeek { slot, .. }
            | Op::IndexScan { slot, .. } => *slot == s,
            Op::Expand { rel_slot, to, .. } | Op::VarExpand { rel_slot, to, .. } => {
                *rel_slot == s || *to == s
            }
            _ => false,
        })
    };
    keys.is_empty()
        && aggs.iter().all(|(_, a)| {
            !a.distinct
                && match (a.func, &a.arg) {
                    (AggFunc::CountStar, _) => true,
                    (AggFunc::Count, Some(Expr::Slot(s))) => bound(*s),
                    _ => false,
                }
        })
}

/// Grouping state of an `Aggregate` (shared with the batch operator).
pub(super) struct AggState<'a> {
    keys: &'a [Expr],
    aggs: &'a [(Slot, AggCall)],
    count_only: bool,
    groups: HashMap<Vec<Grouped>, usize>,
    out: Vec<(Row, Vec<Acc>)>,
}

impl<'a> AggState<'a> {
    pub(super) fn new(keys: &'a [Expr], aggs: &'a [(Slot, AggCall)], count_only: bool) -> Self {
        AggState {
            keys,
            aggs,
            count_only,
            groups: HashMap::new(),
            out: Vec::new(),
        }
    }

    fn new_accs(&self) -> Vec<Acc> {
        self.aggs
            .iter()
            .map(|(_, a)| Acc::new(a.func, a.distinct))
            .collect()
    }

    /// Whether the (single, keyless) group still needs its first row.
    fn needs_first(&self) -> bool {
        self.out.is_empty()
    }

    /// Adds `n` rows to a count-only keyless aggregate; `first` builds the first of them.
    fn add_count(&mut self, n: u64, first: impl FnOnce() -> Row) {
        if n == 0 {
            return;
        }
        if self.out.is_empty() {
            let accs = self.new_accs();
            self.out.push((first(), accs));
        }
        if let Some((_, accs)) = self.out.first_mut() {
            for acc in accs {
                acc.add_count(n);
            }
        }
    }

    /// Feeds one row; it is cloned only when it starts a new group.
    pub(super) fn add(&mut self, g: &Graph, ctx: &Ctx<'_>, row: &Row) -> Result<()> {
        if self.count_only {
            self.add_count(1, || row.clone());
            return Ok(());
        }
        let mut key = Vec::with_capacity(self.keys.len());
        for k in self.keys {
            key.push(Grouped(eval(g, ctx, row, k)?));
        }
        let idx = match self.groups.get(&key) {
            Some(i) => *i,
            None => {
                let accs = self.new_accs();
                self.out.push((row.clone(), accs));
                self.groups.insert(key, self.out.len() - 1);
                self.out.len() - 1
            }
        };
        let Some((_, accs)) = self.out.get_mut(idx) else {
            return Ok(());
        };
        for ((_, call), acc) in self.aggs.iter().zip(accs.iter_mut()) {
            let v = match &call.arg {
                Some(e) => Some(eval(g, ctx, row, e)?),
                None => None,
            };
            acc.add(v)?;
        }
        Ok(())
    }

    pub(super) fn finish(mut self, slots: usize) -> Vec<Row> {
        if self.out.is_empty() && self.keys.is_empty() {
            let accs = self.new_accs();
            self.out.push((vec![NULL; slots], accs));
        }
        let aggs = self.aggs;
        self.out
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
            .collect()
    }
}

/// Nodes with `label` whose `prop` equals `value` on `row` (an `IndexSeek` step), in the
/// order the batch operator yields them.
pub(super) fn seek_hits(
    gr: &Graph,
    ctx: &Ctx<'_>,
    row: &Row,
    label: &str,
    prop: &str,
    value: &Expr,
) -> Result<Vec<NodeId>> {
    let (Some(l), Some(k)) = (gr.label_id(label), gr.prop_key_id(prop)) else {
        return Ok(Vec::new());
    };
    let RV::Value(v) = eval(gr, ctx, row, value)? else {
        return Ok(Vec::new());
    };
    let hits: Vec<NodeId> = if gr.has_index(IndexEntity::Label(l), k) {
        let range = IndexRange::eq(v.clone());
        gr.index_seek_nodes(l, k, &range).collect()
    } else {
        gr.nodes_with_label(l).collect()
    };
    // Re-check: the index treats 1 and 1.0 alike, and the fallback scans all.
    Ok(hits
        .into_iter()
        .filter(|n| gr.node_property(*n, k).and_then(|p| p.cypher_eq(&v)) == Some(true))
        .collect())
}

/// Nodes with `label` for which `n.prop <cmp> value` holds on `row` (an `IndexScan` step).
pub(super) fn scan_hits(
    gr: &Graph,
    ctx: &Ctx<'_>,
    row: &Row,
    label: &str,
    prop: &str,
    cmp: crate::plan::BinOp,
    value: &Expr,
) -> Result<Vec<NodeId>> {
    let Some(l) = gr.label_id(label) else {
        return Ok(Vec::new());
    };
    let v = eval(gr, ctx, row, value)?;
    if v.is_null() {
        return Ok(Vec::new());
    }
    let Some(k) = gr.prop_key_id(prop) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for n in index_candidates(gr, l, k, cmp, &v) {
        // Compared in place: only the property is cloned (cheap for numbers), not the row.
        let p = gr
            .node_property(n, k)
            .map_or(NULL, |x| RV::Value(x.clone()));
        let hit = super::eval::binary(cmp, p, v.clone())?;
        if truth(&hit)? == Some(true) {
            out.push(n);
        }
    }
    Ok(out)
}

struct Pipe<'a, 'p> {
    g: &'a Graph,
    ctx: &'a Ctx<'p>,
    ops: &'a [Op],
    /// Resolved relationship type ids of each expansion in `ops` (same index).
    types: &'a [Vec<RelTypeId>],
}

/// Restores a slot's previous value when a generator step finishes with it.
fn swap_in(row: &mut Row, slot: Slot, v: RV) -> RV {
    match row.get_mut(slot) {
        Some(s) => std::mem::replace(s, v),
        None => NULL,
    }
}

impl Pipe<'_, '_> {
    fn stream(&self, i: usize, row: &mut Row, sink: &mut AggState<'_>) -> Result<()> {
        let Some(op) = self.ops.get(i) else {
            return sink.add(self.g, self.ctx, row);
        };
        let g = self.g;
        let types = self.types.get(i).map_or(&[][..], |t| &t[..]);
        match op {
            Op::AllNodesScan { slot } => {
                let nodes: Vec<NodeId> = g.nodes().collect();
                self.each_node(i, row, *slot, nodes, sink)
            }
            Op::LabelScan { slot, label } => {
                let Some(l) = g.label_id(label) else {
                    return Ok(());
                };
                let nodes: Vec<NodeId> = g.nodes_with_label(l).collect();
                self.each_node(i, row, *slot, nodes, sink)
            }
            Op::IndexSeek {
                slot,
                label,
                prop,
                value,
            } => {
                let hits = seek_hits(g, self.ctx, row, label, prop, value)?;
                self.each_node(i, row, *slot, hits, sink)
            }
            Op::IndexScan {
                slot,
                label,
                prop,
                cmp,
                value,
            } => {
                let hits = scan_hits(g, self.ctx, row, label, prop, *cmp, value)?;
                self.each_node(i, row, *slot, hits, sink)
            }
            Op::Filter(pred) => {
                if truth(&eval(g, self.ctx, row, pred)?)? == Some(true) {
                    self.stream(i + 1, row, sink)?;
                }
                Ok(())
            }
            Op::RelsUnique(slots) => {
                if rels_unique(row, slots) {
                    self.stream(i + 1, row, sink)?;
                }
                Ok(())
            }
            Op::Expand {
                from,
                rel_slot,
                to,
                to_bound,
                types: names,
                dir,
            } => {
                if !names.is_empty() && types.is_empty() {
                    return Ok(());
                }
                let Some((src, target)) = endpoints(row, *from, *to, *to_bound) else {
                    return Ok(());
                };
                let rest = self.ops.get(i + 1..).unwrap_or(&[]);
                if sink.count_only
                    && target.is_none()
                    && rest.iter().all(|o| matches!(o, Op::RelsUnique(_)))
                {
                    return self.count_expand(row, src, *rel_slot, *to, *dir, types, rest, sink);
                }
                let old_rel = swap_in(row, *rel_slot, NULL);
                let old_to = swap_in(row, *to, NULL);
                let mut res = Ok(());
                for (e, nbr) in g.neighbors(src, *dir, types) {
                    if target.is_some_and(|t| t != nbr) {
                        continue;
                    }
                    set(row, *rel_slot, RV::Edge(e));
                    set(row, *to, RV::Node(nbr));
                    res = self.stream(i + 1, row, sink);
                    if res.is_err() {
                        break;
                    }
                }
                set(row, *rel_slot, old_rel);
                set(row, *to, old_to);
                res
            }
            Op::VarExpand {
                from,
                rel_slot,
                to,
                to_bound,
                types: names,
                dir,
                min,
                max,
            } => {
                if !names.is_empty() && types.is_empty() && *min > 0 {
                    return Ok(());
                }
                let Some((src, target)) = endpoints(row, *from, *to, *to_bound) else {
                    return Ok(());
                };
                if sink.count_only && target.is_none() && i + 1 == self.ops.len() {
                    let mut first = None;
                    let need = sink.needs_first();
                    let n = count_var_paths(g, src, *dir, types, *min, *max, need, &mut first);
                    sink.add_count(n, || {
                        let mut r = row.clone();
                        if let Some((edges, end)) = first {
                            set(
                                &mut r,
                                *rel_slot,
                                RV::list(edges.into_iter().map(RV::Edge).collect()),
                            );
                            set(&mut r, *to, RV::Node(end));
                        }
                        r
                    });
                    return Ok(());
                }
                let old_rel = swap_in(row, *rel_slot, NULL);
                let old_to = swap_in(row, *to, NULL);
                let mut res = Ok(());
                let mut emit = |edges: &[EdgeId], end: NodeId| {
                    if res.is_err() || target.is_some_and(|t| t != end) {
                        return;
                    }
                    let list = edges.iter().map(|e| RV::Edge(*e)).collect();
                    set(row, *rel_slot, RV::list(list));
                    set(row, *to, RV::Node(end));
                    res = self.stream(i + 1, row, sink);
                };
                var_paths(g, src, *dir, types, *min, *max, &mut emit);
                set(row, *rel_slot, old_rel);
                set(row, *to, old_to);
                res
            }
            _ => Err(ExecError::Invalid("operator not fusible".into())),
        }
    }

    fn each_node(
        &self,
        i: usize,
        row: &mut Row,
        slot: Slot,
        nodes: Vec<NodeId>,
        sink: &mut AggState<'_>,
    ) -> Result<()> {
        let old = swap_in(row, slot, NULL);
        let mut res = Ok(());
        for n in nodes {
            set(row, slot, RV::Node(n));
            res = self.stream(i + 1, row, sink);
            if res.is_err() {
                break;
            }
        }
        set(row, slot, old);
        res
    }

    /// The last hop of a count-only pipeline: adds the number of `(edge, neighbour)` pairs
    /// the expansion and the trailing uniqueness checks would let through, without walking
    /// them (except to build the first row).
    #[allow(clippy::too_many_arguments)]
    fn count_expand(
        &self,
        row: &Row,
        src: NodeId,
        rel_slot: Slot,
        to: Slot,
        dir: Direction,
        types: &[RelTypeId],
        uniques: &[Op],
        sink: &mut AggState<'_>,
    ) -> Result<()> {
        // Relationships already in the row that a uniqueness check makes the new one avoid.
        let mut excluded: smallvec::SmallVec<[EdgeId; 4]> = smallvec::SmallVec::new();
        for op in uniques {
            let Op::RelsUnique(slots) = op else {
                continue;
            };
            let others: smallvec::SmallVec<[Slot; 4]> =
                slots.iter().copied().filter(|s| *s != rel_slot).collect();
            if !rels_unique(row, &others) {
                return Ok(());
            }
            if others.len() < slots.len() {
                for s in others {
                    match row.get(s) {
                        Some(RV::Edge(e)) => excluded.push(*e),
                        Some(RV::List(items)) => {
                            excluded.extend(items.iter().filter_map(|x| match x {
                                RV::Edge(e) => Some(*e),
                                _ => None,
                            }))
                        }
                        _ => {}
                    }
                }
            }
        }
        excluded.sort_unstable_by_key(|e| e.0);
        excluded.dedup();
        let g = self.g;
        let minus: u64 = excluded
            .iter()
            .map(|e| occurrences(g, *e, src, dir, types))
            .sum();
        let n = g.degree(src, dir, types).saturating_sub(minus);
        sink.add_count(n, || {
            let mut r = row.clone();
            if let Some((e, nbr)) = g
                .neighbors(src, dir, types)
                .find(|(e, _)| !excluded.contains(e))
            {
                set(&mut r, rel_slot, RV::Edge(e));
                set(&mut r, to, RV::Node(nbr));
            }
            r
        });
        Ok(())
    }
}

/// `RelsUnique`'s check on one row (a linear scan: patterns have few relationships, and this
/// runs once per streamed row, where a hash set's allocation would dominate).
fn rels_unique(row: &Row, slots: &[Slot]) -> bool {
    let mut seen: smallvec::SmallVec<[u64; 8]> = smallvec::SmallVec::new();
    let mut fresh = |e: &EdgeId| {
        if seen.contains(&e.0) {
            return false;
        }
        seen.push(e.0);
        true
    };
    slots.iter().all(|s| match row.get(*s) {
        Some(RV::Edge(e)) => fresh(e),
        Some(RV::List(items)) => items.iter().all(|x| match x {
            RV::Edge(e) => fresh(e),
            _ => true,
        }),
        _ => true,
    })
}

/// How many times `g.neighbors(node, dir, types)` yields the relationship `e`.
fn occurrences(g: &Graph, e: EdgeId, node: NodeId, dir: Direction, types: &[RelTypeId]) -> u64 {
    let Some(er) = g.edge(e) else {
        return 0;
    };
    let per_type = if types.is_empty() {
        1
    } else {
        types.iter().filter(|t| **t == er.rel).count() as u64
    };
    let incident = match dir {
        Direction::Out => er.src == node,
        Direction::In => er.dst == node,
        // A self-loop is reported once with `Both`.
        Direction::Both => er.src == node || er.dst == node,
    };
    if incident { per_type } else { 0 }
}

/// The number of paths `var_paths` would emit, walking every level but the last one: at the
/// last level (`max`) each node contributes its degree minus the path's own relationships
/// among its neighbours. When `need_first`, `first` receives the first emitted path.
#[allow(clippy::too_many_arguments)]
pub(super) fn count_var_paths(
    g: &Graph,
    src: NodeId,
    dir: Direction,
    types: &[RelTypeId],
    min: u64,
    max: Option<u64>,
    mut need_first: bool,
    first: &mut Option<(Vec<EdgeId>, NodeId)>,
) -> u64 {
    let mut count = 0u64;
    let mut edges: Vec<EdgeId> = Vec::new();
    let record = |edges: &[EdgeId], end: NodeId, need_first: &mut bool, first: &mut Option<_>| {
        if *need_first {
            *first = Some((edges.to_vec(), end));
            *need_first = false;
        }
    };
    if min == 0 {
        count += 1;
        record(&[], src, &mut need_first, first);
    }
    if max == Some(0) {
        return count;
    }
    // Adds the last level below `node` (path `edges` so far) in bulk when possible.
    let bulk = |node: NodeId, edges: &[EdgeId], need_first: bool| -> Option<u64> {
        let depth = edges.len() as u64 + 1;
        if need_first || max != Some(depth) || depth < min {
            return None;
        }
        let minus: u64 = edges
            .iter()
            .map(|e| occurrences(g, *e, node, dir, types))
            .sum();
        Some(g.degree(node, dir, types).saturating_sub(minus))
    };
    let mut stack: Vec<crate::Neighbors<'_>> = Vec::new();
    match bulk(src, &edges, need_first) {
        Some(n) => return count + n,
        None => stack.push(g.neighbors(src, dir, types)),
    }
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
            count += 1;
            record(&edges, n, &mut need_first, first);
        }
        if max.is_none_or(|m| depth < m) {
            match bulk(n, &edges, need_first) {
                Some(k) => {
                    count += k;
                    edges.pop();
                }
                None => stack.push(g.neighbors(n, dir, types)),
            }
        } else {
            edges.pop();
        }
    }
    count
}

#[cfg(test)]
mod tests {
    //! Every fused shape against the batch operators (`execute_profiled` never fuses at the
    //! top level) on a graph with self-loops, parallel edges, two types, delta and dead entries.
    use std::sync::Arc;

    use crate::exec::{execute, execute_profiled};
    use crate::graph::Graph;
    use crate::ids::{Direction, NodeId};
    use crate::plan::{AggCall, AggFunc, BinOp, Expr, Op, Plan};
    use crate::value::Value;

    fn graph() -> Graph {
        let mut g = Graph::new();
        let p = g.intern_label("P");
        let v = g.intern_prop_key("v");
        let a = g.intern_rel_type("A");
        let b = g.intern_rel_type("B");
        let n: Vec<NodeId> = (0..8)
            .filter_map(|i| {
                let labels = if i % 3 == 2 { vec![] } else { vec![p] };
                g.create_node(&labels, vec![(v, Value::Int(i % 4))]).ok()
            })
            .collect();
        let mut x = 7u64;
        let mut edges = Vec::new();
        for i in 0..40 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let s = n[(x >> 33) as usize % 8];
            let d = if i % 9 == 0 {
                s
            } else {
                n[(x >> 45) as usize % 8]
            };
            let t = if i % 3 == 0 { b } else { a };
            if let Ok(e) = g.create_edge(s, d, t, vec![]) {
                edges.push(e);
            }
            if i == 24 {
                g.compact_all();
            }
        }
        // Dead entries in the CSR and removals from the delta.
        for e in [edges[2], edges[5], edges[30]] {
            g.delete_edge(e).ok();
        }
        g
    }

    fn names(ts: &[&str]) -> Vec<Arc<str>> {
        ts.iter().map(|t| Arc::from(*t)).collect()
    }

    fn count_aggs() -> Vec<(usize, AggCall)> {
        vec![
            (
                5,
                AggCall {
                    func: AggFunc::CountStar,
                    distinct: false,
                    arg: None,
                },
            ),
            (
                6,
                AggCall {
                    func: AggFunc::Count,
                    distinct: false,
                    arg: Some(Expr::Slot(4)),
                },
            ),
        ]
    }

    fn same(g: &mut Graph, ops: Vec<Op>) {
        let plan = Plan {
            ops,
            slots: 8,
            columns: (0..8).map(|s| (format!("c{s}"), s)).collect(),
            names: Vec::new(),
        };
        let fused = execute(g, &plan, &[]).map(|r| format!("{:?}", r.rows));
        let batch = execute_profiled(g, &plan, &[]).map(|(r, _)| format!("{:?}", r.rows));
        assert_eq!(fused, batch, "plan {:?}", plan.ops);
    }

    fn expand(from: usize, rel: usize, to: usize, dir: Direction, types: &[&str]) -> Op {
        Op::Expand {
            from,
            rel_slot: rel,
            to,
            to_bound: false,
            types: names(types),
            dir,
        }
    }

    #[test]
    fn fused_counts_match_batch() {
        let mut g = graph();
        let dirs = [Direction::Out, Direction::In, Direction::Both];
        let typesets: [&[&str]; 5] = [&[], &["A"], &["A", "A"], &["A", "B"], &["Z"]];
        for d1 in dirs {
            for d2 in dirs {
                for t in typesets {
                    same(
                        &mut g,
                        vec![
                            Op::LabelScan {
                                slot: 0,
                                label: Arc::from("P"),
                            },
                            expand(0, 1, 2, d1, &["A"]),
                            expand(2, 3, 4, d2, t),
                            Op::RelsUnique(vec![1, 3]),
                            Op::Aggregate {
                                keys: vec![],
                                aggs: count_aggs(),
                            },
                        ],
                    );
                    // Uniqueness with the var-length list, and an expand into a bound node.
                    same(
                        &mut g,
                        vec![
                            Op::AllNodesScan { slot: 0 },
                            Op::VarExpand {
                                from: 0,
                                rel_slot: 1,
                                to: 2,
                                to_bound: false,
                                types: names(t),
                                dir: d1,
                                min: 1,
                                max: Some(2),
                            },
                            expand(2, 3, 4, d2, t),
                            Op::RelsUnique(vec![1, 3]),
                            Op::Aggregate {
                                keys: vec![],
                                aggs: count_aggs(),
                            },
                        ],
                    );
                    same(
                        &mut g,
                        vec![
                            Op::AllNodesScan { slot: 0 },
                            Op::AllNodesScan { slot: 4 },
                            Op::Expand {
                                from: 0,
                                rel_slot: 1,
                                to: 4,
                                to_bound: true,
                                types: names(t),
                                dir: d2,
                            },
                            Op::Aggregate {
                                keys: vec![],
                                aggs: count_aggs(),
                            },
                        ],
                    );
                }
                for (min, max) in [
                    (0, Some(0)),
                    (0, Some(2)),
                    (1, Some(3)),
                    (2, Some(3)),
                    (3, Some(3)),
                    (2, Some(2)),
                ] {
                    for t in typesets {
                        same(
                            &mut g,
                            vec![
                                Op::AllNodesScan { slot: 0 },
                                Op::VarExpand {
                                    from: 0,
                                    rel_slot: 1,
                                    to: 4,
                                    to_bound: false,
                                    types: names(t),
                                    dir: d1,
                                    min,
                                    max,
                                },
                                Op::Aggregate {
                                    keys: vec![],
                                    aggs: count_aggs(),
                                },
                            ],
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fused_grouping_filters_and_errors_match_batch() {
        let mut g = graph();
        let v = |s: usize| Expr::Prop(Box::new(Expr::Slot(s)), Arc::from("v"));
        let gt = |e: Expr, i: i64| {
            Expr::Binary(BinOp::Gt, Box::new(e), Box::new(Expr::Lit(Value::Int(i))))
        };
        // Grouped, with a filter and an index scan; then an empty input (keyless: one row).
        same(
            &mut g,
            vec![
                Op::IndexScan {
                    slot: 0,
                    label: Arc::from("P"),
                    prop: Arc::from("v"),
                    cmp: BinOp::Gt,
                    value: Expr::Lit(Value::Int(0)),
                },
                expand(0, 1, 4, Direction::Both, &[]),
                Op::Filter(gt(v(4), 1)),
                Op::Aggregate {
                    keys: vec![v(4)],
                    aggs: count_aggs(),
                },
                Op::Sort(vec![(Expr::Slot(4), false)]),
            ],
        );
        same(
            &mut g,
            vec![
                Op::LabelScan {
                    slot: 0,
                    label: Arc::from("Nope"),
                },
                expand(0, 1, 4, Direction::Out, &[]),
                Op::Aggregate {
                    keys: vec![],
                    aggs: count_aggs(),
                },
            ],
        );
        // A filter that fails on some rows: the batch error, not another.
        let bad = Expr::Unary(crate::plan::UnOp::Not, Box::new(v(4)));
        same(
            &mut g,
            vec![
                Op::AllNodesScan { slot: 0 },
                expand(0, 1, 4, Direction::Out, &[]),
                Op::Filter(bad),
                Op::Aggregate {
                    keys: vec![],
                    aggs: count_aggs(),
                },
            ],
        );
    }
}
