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

use super::agg::Acc;
use super::eval::{eval, truth};
use super::ops::{endpoints, index_candidates, rel_type_ids, set, var_paths};
use super::rvalue::{Grouped, NULL, ResultValue as RV};
use super::{Ctx, ExecError, Row};
use crate::graph::Graph;
use crate::ids::{Direction, EdgeId, NodeId, PropKeyId, RelTypeId};
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
    let mut sink = AggState::new(g, keys, aggs, count_only(keys, aggs, gens));
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
    /// Per key, for a `slot.prop` key: the slot and the property's key id, resolved once (the
    /// schema cannot change while rows are aggregated), so a node's value is read in place
    /// instead of looking the key name up per row. `None`: evaluate the expression.
    key_props: Vec<Option<(Slot, Option<PropKeyId>)>>,
    aggs: &'a [(Slot, AggCall)],
    count_only: bool,
    /// Group key -> index in `out` (first-seen order). hashbrown's hasher, not SipHash: one
    /// probe per row. Looked up by slice from `scratch`, so only a new group allocates a key.
    groups: hashbrown::HashMap<Vec<Grouped>, usize>,
    scratch: Vec<Grouped>,
    /// For a single `n.prop` key: `small[i]` = 1 + the group index of the integer key `i`
    /// (0 = not looked up yet). Every group is also in `groups`, which stays the authority.
    small: Vec<usize>,
    out: Vec<(Row, Vec<Acc>)>,
}

/// Integer grouping keys below this take [`AggState`]'s direct array.
const SMALL_INT_KEYS: usize = 4096;

impl<'a> AggState<'a> {
    pub(super) fn new(
        g: &Graph,
        keys: &'a [Expr],
        aggs: &'a [(Slot, AggCall)],
        count_only: bool,
    ) -> Self {
        let key_props = keys
            .iter()
            .map(|k| match k {
                Expr::Prop(t, name) => match **t {
                    Expr::Slot(s) => Some((s, g.prop_key_id(name))),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        AggState {
            keys,
            key_props,
            aggs,
            count_only,
            groups: hashbrown::HashMap::new(),
            scratch: Vec::new(),
            small: Vec::new(),
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
        let idx = match self.small_int_key(g, ctx, row) {
            Some(i) => self.small_int_group(i, row),
            None => self.group(g, ctx, row)?,
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

    /// The value of a single `n.prop` grouping key when it is an integer in
    /// `0..SMALL_INT_KEYS` (read in place, no value built).
    #[inline]
    fn small_int_key(&self, g: &Graph, ctx: &Ctx<'_>, row: &Row) -> Option<usize> {
        let [Some((slot, Some(pk)))] = self.key_props.as_slice() else {
            return None;
        };
        let Some(RV::Node(n)) = row.get(*slot) else {
            return None;
        };
        if !ctx.deleted_nodes.is_empty() {
            return None;
        }
        match g.node_property(*n, *pk) {
            Some(crate::value::Value::Int(i)) => {
                usize::try_from(*i).ok().filter(|i| *i < SMALL_INT_KEYS)
            }
            _ => None,
        }
    }

    /// The group of the small integer key `i`: a direct array probe; on a miss, the map (a
    /// group may exist under an equivalent key, e.g. `60.0` for `60`), else a new group.
    fn small_int_group(&mut self, i: usize, row: &Row) -> usize {
        if let Some(&idx) = self.small.get(i)
            && idx != 0
        {
            return idx - 1;
        }
        let key = [Grouped(RV::Value(crate::value::Value::Int(i as i64)))];
        let idx = match self.groups.get(&key[..]) {
            Some(idx) => *idx,
            None => {
                let accs = self.new_accs();
                self.out.push((row.clone(), accs));
                self.groups.insert(key.to_vec(), self.out.len() - 1);
                self.out.len() - 1
            }
        };
        if self.small.len() <= i {
            self.small.resize(i + 1, 0);
        }
        if let Some(s) = self.small.get_mut(i) {
            *s = idx + 1;
        }
        idx
    }

    /// The group of `row` (created if new) by evaluating the keys.
    fn group(&mut self, g: &Graph, ctx: &Ctx<'_>, row: &Row) -> Result<usize> {
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        for (k, fast) in self.keys.iter().zip(&self.key_props) {
            let v = match (fast, row.get(fast.map_or(usize::MAX, |f| f.0))) {
                // What `eval` gives for `n.prop` on a live node (deleted ones fail there).
                (Some((_, pk)), Some(RV::Node(n))) if ctx.deleted_nodes.is_empty() => pk
                    .and_then(|pk| g.node_property(*n, pk))
                    .map_or(NULL, |v| RV::Value(v.clone())),
                _ => eval(g, ctx, row, k)?,
            };
            key.push(Grouped(v));
        }
        let idx = match self.groups.get(key.as_slice()) {
            Some(i) => *i,
            None => {
                let accs = self.new_accs();
                self.out.push((row.clone(), accs));
                self.groups.insert(key.clone(), self.out.len() - 1);
                self.out.len() - 1
            }
        };
        self.scratch = key;
        Ok(idx)
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
    let mut out = Vec::new();
    for (j, &n) in hits.iter().enumerate() {
        prefetch_ahead(gr, &hits, j);
        if gr.node_property(n, k).and_then(|p| p.cypher_eq(&v)) == Some(true) {
            out.push(n);
        }
    }
    Ok(out)
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
    let cands = index_candidates(gr, l, k, cmp, &v);
    for (j, &n) in cands.iter().enumerate() {
        prefetch_ahead(gr, &cands, j);
        if let Some(hit) = int_cmp(cmp, gr.node_property(n, k), &v) {
            if hit {
                out.push(n);
            }
            continue;
        }
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

/// `p <cmp> v` for an integer property against an integer, without building values: what
/// `binary(cmp, p, v)` then `truth` give for two integers (`None`: another case, evaluate
/// generically).
#[inline]
fn int_cmp(cmp: crate::plan::BinOp, p: Option<&crate::value::Value>, v: &RV) -> Option<bool> {
    use crate::plan::BinOp;
    use crate::value::Value;
    let (Some(Value::Int(a)), RV::Value(Value::Int(b))) = (p, v) else {
        return None;
    };
    Some(match cmp {
        BinOp::Eq => a == b,
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        BinOp::Ge => a >= b,
        _ => return None,
    })
}

/// How many `Filter`s right after the node scan `ops[i]` only re-check what the scan already
/// guarantees for every node it yields, so streaming can skip them: `n:Label` for the scanned
/// label, and for an `IndexSeek` / `IndexScan` the same `n.prop <cmp> value` comparison (the
/// lowering keeps the predicates it turns into scans), with `value` a literal or parameter so
/// evaluating it again gives the same answer. Scanned nodes are live, so the filter could not
/// fail on a deleted entity either (the caller also requires no deletion in the query).
fn redundant_filters(ops: &[Op], i: usize) -> usize {
    let (slot, label, check) = match ops.get(i) {
        Some(Op::LabelScan { slot, label }) => (*slot, label, None),
        Some(Op::IndexSeek {
            slot,
            label,
            prop,
            value,
        }) => (*slot, label, Some((prop, crate::plan::BinOp::Eq, value))),
        Some(Op::IndexScan {
            slot,
            label,
            prop,
            cmp,
            value,
        }) => (*slot, label, Some((prop, *cmp, value))),
        _ => return 0,
    };
    let is_slot = |e: &Expr| matches!(e, Expr::Slot(s) if *s == slot);
    let redundant = |op: &Op| match op {
        Op::Filter(Expr::HasLabels(t, ls)) => is_slot(t) && ls.iter().all(|l| l == label),
        Op::Filter(Expr::Binary(fcmp, lhs, rhs)) => {
            let (Some((prop, cmp, value)), Expr::Prop(t, key)) = (check, &**lhs) else {
                return false;
            };
            *fcmp == cmp
                && is_slot(t)
                && key == prop
                && **rhs == *value
                && matches!(value, Expr::Lit(_) | Expr::Param(_))
        }
        _ => false,
    };
    ops.get(i + 1..)
        .unwrap_or(&[])
        .iter()
        .take_while(|op| redundant(op))
        .count()
}

struct Pipe<'a, 'p> {
    g: &'a Graph,
    ctx: &'a Ctx<'p>,
    ops: &'a [Op],
    /// Resolved relationship type ids of each expansion in `ops` (same index).
    types: &'a [Vec<RelTypeId>],
}

/// How many nodes ahead of the one being streamed a node scan prefetches properties: far
/// enough that a miss (~100 ns) is covered by the rows streamed meanwhile, near enough that
/// the lines are still in L1 when read.
const PREFETCH_AHEAD: usize = 8;

/// In a scan over `ids` that is at `ids[i]`: prefetches the properties of the node
/// [`PREFETCH_AHEAD`] places on.
#[inline]
fn prefetch_ahead(g: &Graph, ids: &[NodeId], i: usize) {
    if let Some(&ahead) = ids.get(i + PREFETCH_AHEAD) {
        g.prefetch_node_props(ahead);
    }
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
                self.each_node(self.skip(i), row, *slot, nodes, sink)
            }
            Op::IndexSeek {
                slot,
                label,
                prop,
                value,
            } => {
                let hits = seek_hits(g, self.ctx, row, label, prop, value)?;
                self.each_node(self.skip(i), row, *slot, hits, sink)
            }
            Op::IndexScan {
                slot,
                label,
                prop,
                cmp,
                value,
            } => {
                let hits = scan_hits(g, self.ctx, row, label, prop, *cmp, value)?;
                self.each_node(self.skip(i), row, *slot, hits, sink)
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

    /// The scan `ops[i]`'s rows continue after the filters [`redundant_filters`] finds:
    /// `each_node(skip(i), ..)` streams them from `ops[skip(i) + 1]`.
    fn skip(&self, i: usize) -> usize {
        if self.ctx.deleted_nodes.is_empty() {
            i + redundant_filters(self.ops, i)
        } else {
            i
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
        if sink.count_only && i + 1 == self.ops.len() {
            // Nothing between the scan and a count: one row per node, none built but the first.
            sink.add_count(nodes.len() as u64, || {
                let mut r = row.clone();
                if let Some(n) = nodes.first() {
                    set(&mut r, slot, RV::Node(*n));
                }
                r
            });
            return Ok(());
        }
        let old = swap_in(row, slot, NULL);
        let mut res = Ok(());
        for (k, &n) in nodes.iter().enumerate() {
            prefetch_ahead(self.g, &nodes, k);
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
        // Relationships already in the row that a uniqueness check makes the new one avoid,
        // with the slot that holds each (None: inside a var-length list).
        let mut excluded: smallvec::SmallVec<[(EdgeId, Option<Slot>); 4]> =
            smallvec::SmallVec::new();
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
                        Some(RV::Edge(e)) => excluded.push((*e, Some(s))),
                        Some(RV::List(items)) => {
                            excluded.extend(items.iter().filter_map(|x| match x {
                                RV::Edge(e) => Some((*e, None)),
                                _ => None,
                            }))
                        }
                        _ => {}
                    }
                }
            }
        }
        excluded.sort_unstable_by_key(|e| e.0.0);
        excluded.dedup_by_key(|e| e.0);
        let g = self.g;
        let minus: u64 = excluded
            .iter()
            .map(|&(e, slot)| {
                slot.and_then(|s| self.known_occurrences(row, s, src, dir, types))
                    .unwrap_or_else(|| occurrences(g, e, src, dir, types))
            })
            .sum();
        let n = self.degree(src, dir, types).saturating_sub(minus);
        sink.add_count(n, || {
            let mut r = row.clone();
            if let Some((e, nbr)) = g
                .neighbors(src, dir, types)
                .find(|(e, _)| !excluded.iter().any(|x| x.0 == *e))
            {
                set(&mut r, rel_slot, RV::Edge(e));
                set(&mut r, to, RV::Node(nbr));
            }
            r
        });
        Ok(())
    }

    /// `occurrences` of the relationship in `slot` without reading its record (a cache miss
    /// per counted row on a big graph), when the plan says where it came from: the one fused
    /// `Expand` binding `slot`, with a single relationship type and a direction, put it
    /// between the row's `from` and `to` nodes. None when the plan does not say.
    fn known_occurrences(
        &self,
        row: &Row,
        slot: Slot,
        node: NodeId,
        dir: Direction,
        types: &[RelTypeId],
    ) -> Option<u64> {
        let mut binders = self.ops.iter().enumerate().filter(|(_, op)| {
            matches!(op, Op::Expand { rel_slot, .. } | Op::VarExpand { rel_slot, .. }
                if *rel_slot == slot)
        });
        let (j, op) = binders.next()?;
        if binders.next().is_some() {
            return None;
        }
        let Op::Expand {
            from,
            to,
            dir: bound_dir,
            ..
        } = op
        else {
            return None;
        };
        let (Some(RV::Node(a)), Some(RV::Node(b))) = (row.get(*from), row.get(*to)) else {
            return None;
        };
        let (esrc, edst) = match bound_dir {
            Direction::Out => (*a, *b),
            Direction::In => (*b, *a),
            Direction::Both => return None,
        };
        let [rel] = self.types.get(j)?.as_slice() else {
            return None;
        };
        let per_type = if types.is_empty() {
            1
        } else {
            types.iter().filter(|t| *t == rel).count() as u64
        };
        let incident = match dir {
            Direction::Out => esrc == node,
            Direction::In => edst == node,
            Direction::Both => esrc == node || edst == node,
        };
        Some(if incident { per_type } else { 0 })
    }

    /// `Graph::degree`, skipping the node's liveness check when the query deleted no node:
    /// then every node in a row is live (rows only get nodes from this graph).
    fn degree(&self, node: NodeId, dir: Direction, types: &[RelTypeId]) -> u64 {
        if self.ctx.deleted_nodes.is_empty() {
            self.g.live_degree(node, dir, types)
        } else {
            self.g.degree(node, dir, types)
        }
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
                    // The first relationship's endpoints come from the plan when its expansion
                    // has one type and a direction; the second hop starts at either end.
                    for (t1, from2) in [(&["A"][..], 2), (&["A"][..], 0), (t, 2), (t, 0)] {
                        same(
                            &mut g,
                            vec![
                                Op::LabelScan {
                                    slot: 0,
                                    label: Arc::from("P"),
                                },
                                expand(0, 1, 2, d1, t1),
                                expand(from2, 3, 4, d2, t),
                                Op::RelsUnique(vec![1, 3]),
                                Op::Aggregate {
                                    keys: vec![],
                                    aggs: count_aggs(),
                                },
                            ],
                        );
                    }
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

    fn plan_of(ops: Vec<Op>) -> Plan {
        Plan {
            ops,
            slots: 8,
            columns: (0..8).map(|s| (format!("c{s}"), s)).collect(),
            names: Vec::new(),
        }
    }

    /// Index scans with and without the WHERE re-check the lowering keeps (skipped when
    /// redundant), feeding a bare count, against the batch operators; with a range index too.
    #[test]
    fn fused_scan_filter_counts_match_batch() {
        let mut g = graph();
        let v = |s: usize| Expr::Prop(Box::new(Expr::Slot(s)), Arc::from("v"));
        let cmp =
            |op: BinOp, e: Expr, x: Value| Expr::Binary(op, Box::new(e), Box::new(Expr::Lit(x)));
        for indexed in [false, true] {
            for op in [BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge, BinOp::Eq] {
                for x in [
                    Value::Int(1),
                    Value::Float(1.5),
                    Value::Null,
                    Value::str("a"),
                ] {
                    let scan = Op::IndexScan {
                        slot: 0,
                        label: Arc::from("P"),
                        prop: Arc::from("v"),
                        cmp: op,
                        value: Expr::Lit(x.clone()),
                    };
                    let agg = Op::Aggregate {
                        keys: vec![],
                        aggs: count_aggs(),
                    };
                    // Same predicate (skipped), another predicate (kept), none.
                    same(
                        &mut g,
                        vec![
                            scan.clone(),
                            Op::Filter(cmp(op, v(0), x.clone())),
                            agg.clone(),
                        ],
                    );
                    same(
                        &mut g,
                        vec![
                            scan.clone(),
                            Op::Filter(cmp(BinOp::Ne, v(0), Value::Int(2))),
                            agg.clone(),
                        ],
                    );
                    same(&mut g, vec![scan.clone(), agg.clone()]);
                    same(
                        &mut g,
                        vec![
                            scan,
                            Op::Filter(cmp(op, v(0), x)),
                            expand(0, 1, 4, Direction::Out, &[]),
                            agg,
                        ],
                    );
                }
            }
            if !indexed {
                let ddl = Plan {
                    ops: vec![Op::IndexDdl {
                        label: Arc::from("P"),
                        props: vec![Arc::from("v")],
                        rel: false,
                        drop: false,
                    }],
                    slots: 1,
                    columns: Vec::new(),
                    names: Vec::new(),
                };
                assert!(execute(&mut g, &ddl, &[]).is_ok());
            }
        }
        // A label scan straight into a count, for a missing label too.
        for label in ["P", "Nope"] {
            same(
                &mut g,
                vec![
                    Op::LabelScan {
                        slot: 4,
                        label: Arc::from(label),
                    },
                    Op::Aggregate {
                        keys: vec![],
                        aggs: count_aggs(),
                    },
                ],
            );
        }
    }

    /// Grouping on `n.prop` read in place gives what evaluating `properties(n).prop` gives
    /// (same values, same groups, same first rows), for present, absent and unknown keys,
    /// and for null and non-node slots.
    #[test]
    fn grouping_on_node_properties_matches_generic_keys() {
        let mut g = graph();
        let fast = |s: usize, k: &str| Expr::Prop(Box::new(Expr::Slot(s)), Arc::from(k));
        let slow = |s: usize, k: &str| {
            Expr::Prop(
                Box::new(Expr::Call {
                    name: "properties".into(),
                    args: vec![Expr::Slot(s)],
                }),
                Arc::from(k),
            )
        };
        for key in ["v", "zz"] {
            let run = |g: &mut Graph, k: Expr, s: usize| {
                let ops = vec![
                    Op::AllNodesScan { slot: 0 },
                    expand(0, 1, 4, Direction::Both, &[]),
                    Op::Aggregate {
                        keys: vec![k, Expr::Slot(s)],
                        aggs: count_aggs(),
                    },
                ];
                let p = plan_of(ops);
                let fused = execute(g, &p, &[]).map(|r| format!("{:?}", r.rows));
                let batch = execute_profiled(g, &p, &[]).map(|(r, _)| format!("{:?}", r.rows));
                assert_eq!(fused, batch);
                fused
            };
            for s in [0, 4] {
                assert_eq!(run(&mut g, fast(s, key), s), run(&mut g, slow(s, key), s));
            }
            // Slot 7 is never bound (null): both null keys, one group.
            assert_eq!(run(&mut g, fast(7, key), 0), run(&mut g, slow(7, key), 0));
        }
        // A relationship slot takes the generic path (properties of edges).
        let p = |k: Expr| {
            plan_of(vec![
                Op::AllNodesScan { slot: 0 },
                expand(0, 1, 4, Direction::Out, &[]),
                Op::Aggregate {
                    keys: vec![k],
                    aggs: count_aggs(),
                },
            ])
        };
        let a = execute(&mut g, &p(fast(1, "v")), &[]).map(|r| format!("{:?}", r.rows));
        let b = execute(&mut g, &p(slow(1, "v")), &[]).map(|r| format!("{:?}", r.rows));
        assert_eq!(a, b);
    }

    /// `length(shortestPath(..))` (computed without the path) against the same expression
    /// with an extra no-op operator in the pattern list (which takes the generic path), for
    /// every pair, direction, type set and bound; plus null ends.
    #[test]
    fn length_of_shortest_path_matches_generic() {
        let mut g = graph();
        let len_of = |ops: Vec<Op>| Expr::Call {
            name: "length".into(),
            args: vec![Expr::Call {
                name: "head".into(),
                args: vec![Expr::PatternList {
                    ops,
                    projection: Box::new(Expr::Slot(6)),
                }],
            }],
        };
        let typesets: [&[&str]; 4] = [&[], &["A"], &["B", "A"], &["Z"]];
        let mut seen_len = 0;
        for dir in [Direction::Out, Direction::In, Direction::Both] {
            for t in typesets {
                for (min, max) in [(1, None), (0, None), (1, Some(1)), (0, Some(2))] {
                    let sp = Op::ShortestPath {
                        from: 0,
                        to: 4,
                        path: 6,
                        rel_slot: 5,
                        types: names(t),
                        dir,
                        min,
                        max,
                        all: false,
                    };
                    let generic = vec![sp.clone(), Op::Filter(Expr::Lit(Value::Bool(true)))];
                    for to_scan in [
                        Op::AllNodesScan { slot: 4 },
                        Op::Project(vec![(4, Expr::Lit(Value::Null))]),
                    ] {
                        let p = |e: Expr| {
                            plan_of(vec![
                                Op::AllNodesScan { slot: 0 },
                                to_scan.clone(),
                                Op::Project(vec![(2, e)]),
                            ])
                        };
                        let fast =
                            execute(&mut g, &p(len_of(vec![sp.clone()])), &[]).map(|r| r.rows);
                        let slow =
                            execute(&mut g, &p(len_of(generic.clone())), &[]).map(|r| r.rows);
                        assert_eq!(
                            format!("{fast:?}"),
                            format!("{slow:?}"),
                            "{dir:?} {t:?} {min} {max:?}"
                        );
                        if let Ok(rows) = fast {
                            seen_len += rows.iter().filter(|r| matches!(r[2], crate::exec::ResultValue::Value(Value::Int(n)) if n > 1)).count();
                        }
                    }
                }
            }
        }
        assert!(
            seen_len > 10,
            "the graph should have paths longer than one hop"
        );
    }

    /// A single `n.prop` key takes the direct array for small integers; equivalent floats,
    /// negative and large integers, strings and missing values take the map, and must land
    /// in the same groups, in the same order, as evaluating the key generically.
    #[test]
    fn small_integer_keys_match_generic_grouping() {
        let mut g = Graph::new();
        let p = g.intern_label("P");
        let v = g.intern_prop_key("v");
        let vals = [
            Some(Value::Float(1.0)),
            Some(Value::Int(1)),
            Some(Value::Int(2)),
            Some(Value::Int(-1)),
            Some(Value::Int(5000)),
            None,
            Some(Value::Int(2)),
            Some(Value::Float(2.0)),
            Some(Value::str("x")),
            Some(Value::Int(4095)),
            Some(Value::Int(4096)),
            Some(Value::Float(4096.0)),
            Some(Value::Int(0)),
            Some(Value::Float(0.5)),
            Some(Value::Int(0)),
        ];
        for x in vals.iter().chain(vals.iter().rev()) {
            let props = x.iter().map(|x| (v, x.clone())).collect();
            assert!(g.create_node(&[p], props).is_ok());
        }
        let slow = Expr::Prop(
            Box::new(Expr::Call {
                name: "properties".into(),
                args: vec![Expr::Slot(0)],
            }),
            Arc::from("v"),
        );
        let run = |g: &mut Graph, key: Expr| {
            let ops = vec![
                Op::LabelScan {
                    slot: 0,
                    label: Arc::from("P"),
                },
                Op::Aggregate {
                    keys: vec![key],
                    aggs: count_aggs(),
                },
                Op::Project(vec![(
                    7,
                    Expr::Prop(Box::new(Expr::Slot(0)), Arc::from("v")),
                )]),
            ];
            let p = plan_of(ops);
            let fused = execute(g, &p, &[]).map(|r| format!("{:?}", r.rows));
            let batch = execute_profiled(g, &p, &[]).map(|(r, _)| format!("{:?}", r.rows));
            assert_eq!(fused, batch);
            fused
        };
        let fast = run(&mut g, Expr::Prop(Box::new(Expr::Slot(0)), Arc::from("v")));
        assert_eq!(fast, run(&mut g, slow));
        assert!(fast.is_ok());
    }
}
