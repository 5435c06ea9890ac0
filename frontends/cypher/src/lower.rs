//! AST → plan lowering: turns a checked [`Query`] into a [`moon_graph::plan::Plan`].
//!
//! Scoping: a name → slot map. MATCH/UNWIND/CREATE bind new slots; WITH/RETURN allocate one
//! slot per item and replace the scope with the projected names (old slots stay in the row,
//! hidden). ORDER BY and `WITH .. WHERE` see the projected names over the incoming ones.
//! Aggregating projections become `Aggregate` (grouping keys = the non-aggregate items, each
//! aggregate call → its own slot) followed by a `Project` of the items with the calls replaced
//! by their slots.
//!
//! Invariant: anything this slice cannot execute faithfully is rejected with an `Unsupported`
//! error ("not supported yet: <construct>") at lower time — never planned approximately.
//! Runs after `check`, so scoping errors are not re-diagnosed here (a missing variable is still
//! an error, not a panic).

use std::collections::HashMap;
use std::sync::Arc;

use moon_graph::Direction as GDir;
use moon_graph::Value;
use moon_graph::plan::{
    AggCall, AggFunc, BinOp, CreateNode, CreateRel, Expr as PExpr, Op, Plan, Quantifier, SetProp,
    Slot, UnOp,
};

use crate::ast::{
    BinaryOp, Clause, ConstValue, Direction, Expr, ExprKind, Literal, MapProjectionItem,
    NodePattern, PathKind, PatternElement, Projection, QuantifierKind, Query, RelPattern,
    RemoveItem, SingleQuery, Statement, UnaryOp,
};
use crate::error::{CypherError, ErrorDetail};

mod merge_call;

type Result<T> = std::result::Result<T, CypherError>;

fn unsupported(offset: usize, what: impl AsRef<str>) -> CypherError {
    CypherError::new(
        ErrorDetail::Unsupported,
        offset,
        format!("not supported yet: {}", what.as_ref()),
    )
}

/// The `CYPHER name=value` prefix parameters as plan values.
pub fn prefix_params(q: &Query) -> Vec<(String, Value)> {
    q.params
        .iter()
        .map(|(n, v)| (n.clone(), const_to_value(v)))
        .collect()
}

/// Converts a constant to a property value.
pub fn const_to_value(v: &ConstValue) -> Value {
    match v {
        ConstValue::Null => Value::Null,
        ConstValue::Bool(b) => Value::Bool(*b),
        ConstValue::Integer(i) => Value::Int(*i),
        ConstValue::Float(f) => Value::Float(*f),
        ConstValue::String(s) => Value::str(s),
        ConstValue::List(l) => Value::List(l.iter().map(const_to_value).collect()),
        ConstValue::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), const_to_value(v)))
                .collect(),
        ),
    }
}

/// Lowers a checked query.
pub fn lower(q: &Query) -> Result<Plan> {
    let rq = match &q.statement {
        Statement::Query(rq) => rq,
        Statement::Schema(cmd) => return lower_schema(cmd),
    };
    let mut l = Lowerer::default();
    l.single(&rq.first)?;
    if rq.unions.is_empty() {
        return Ok(Plan {
            ops: l.ops,
            slots: l.slots,
            columns: l.columns,
            names: l.names,
        });
    }
    // UNION: every branch projects its columns into shared output slots (by name; the
    // checker guarantees equal column names).
    let names: Vec<String> = l.columns.iter().map(|(n, _)| n.clone()).collect();
    let out: Vec<Slot> = (0..names.len()).map(|_| l.fresh()).collect();
    let mut branches = Vec::new();
    let mut distinct = false;
    let finish = |l: &mut Lowerer| -> Result<Vec<Op>> {
        let mut proj = Vec::new();
        for (name, slot) in names.iter().zip(&out) {
            let Some((_, s)) = l.columns.iter().find(|(n, _)| n == name) else {
                return Err(unsupported(
                    q.span.start,
                    "UNION branches with different columns",
                ));
            };
            proj.push((*slot, PExpr::Slot(*s)));
        }
        let mut ops = std::mem::take(&mut l.ops);
        ops.push(Op::Project(proj));
        Ok(ops)
    };
    branches.push(finish(&mut l)?);
    for u in &rq.unions {
        distinct |= !u.all;
        let mut b = Lowerer {
            slots: l.slots,
            ..Lowerer::default()
        };
        b.single(&u.query)?;
        l.slots = b.slots;
        l.names.append(&mut b.names);
        branches.push(finish(&mut b)?);
    }
    let mut ops = vec![Op::Union(branches)];
    if distinct {
        ops.push(Op::Distinct(out.clone()));
    }
    Ok(Plan {
        ops,
        slots: l.slots,
        columns: names.into_iter().zip(out).collect(),
        names: l.names,
    })
}

/// `CREATE INDEX` / `DROP INDEX` (range and vector indexes; full-text ones are not here yet).
fn lower_schema(cmd: &crate::ast::SchemaCommand) -> Result<Plan> {
    use crate::ast::{IndexEntity, IndexKind, SchemaCommand};
    let (spec, drop) = match cmd {
        SchemaCommand::CreateIndex(s) => (s, false),
        SchemaCommand::DropIndex(s) => (s, true),
    };
    if spec.kind == IndexKind::Vector {
        return crate::lower_vector::vector_index_ddl(spec, drop);
    }
    if spec.kind != IndexKind::Range {
        return Err(unsupported(spec.span.start, "full-text indexes"));
    }
    Ok(Plan {
        ops: vec![Op::IndexDdl {
            label: Arc::from(spec.label.name.as_str()),
            props: spec
                .properties
                .iter()
                .map(|p| Arc::from(p.name.as_str()))
                .collect(),
            rel: spec.entity == IndexEntity::Relationship,
            drop,
        }],
        slots: 0,
        columns: Vec::new(),
        names: Vec::new(),
    })
}

type Scope = HashMap<String, Slot>;

/// One hop of a matched path: (relationship slot, node slot, variable-length).
type Hop = (Slot, Slot, bool);

#[derive(Default)]
struct Lowerer {
    slots: usize,
    scope: Scope,
    ops: Vec<Op>,
    columns: Vec<(String, Slot)>,
    /// Every (slot, user variable) binding made, for GRAPH.EXPLAIN's rendering.
    names: Vec<(Slot, String)>,
}

/// Where aggregate calls met while lowering an expression go (and the scope of their args).
struct AggSink<'a> {
    scope: &'a Scope,
    aggs: &'a mut Vec<(Slot, AggCall)>,
}

fn is_aggregate(e: &Expr) -> bool {
    crate::visit::any(e, &mut |x| match &x.kind {
        ExprKind::CountStar => true,
        ExprKind::Function { name, .. } => agg_func(name).is_some(),
        _ => false,
    })
}

fn agg_func(name: &str) -> Option<AggFunc> {
    Some(match name.to_ascii_lowercase().as_str() {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "avg" => AggFunc::Avg,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        "collect" => AggFunc::Collect,
        "stdev" => AggFunc::StDev,
        "stdevp" => AggFunc::StDevP,
        "percentilecont" => AggFunc::PercentileCont,
        "percentiledisc" => AggFunc::PercentileDisc,
        _ => return None,
    })
}

fn dir(d: Direction) -> GDir {
    match d {
        Direction::Outgoing => GDir::Out,
        Direction::Incoming => GDir::In,
        Direction::Both => GDir::Both,
    }
}

impl Lowerer {
    /// Binds a user variable in the current scope (and records its name for EXPLAIN).
    fn bind(&mut self, name: String, slot: Slot) {
        self.note(slot, &name);
        self.scope.insert(name, slot);
    }

    /// Records `name` for `slot` (first name wins; projected expressions such as `p.name`
    /// are not variables and are skipped).
    fn note(&mut self, slot: Slot, name: &str) {
        let ident = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if ident && !self.names.iter().any(|(s, _)| *s == slot) {
            self.names.push((slot, name.to_string()));
        }
    }

    fn fresh(&mut self) -> Slot {
        self.slots += 1;
        self.slots - 1
    }

    fn single(&mut self, q: &SingleQuery) -> Result<()> {
        for c in &q.clauses {
            self.clause(c)?;
        }
        Ok(())
    }

    fn clause(&mut self, c: &Clause) -> Result<()> {
        // Only a final RETURN or CALL produces columns.
        if !matches!(c, Clause::Return(_) | Clause::Call(_)) {
            self.columns.clear();
        }
        match c {
            Clause::Match(m) => {
                let before: Vec<Slot> = self.scope.values().copied().collect();
                let first_new = self.slots;
                let mut ops = Vec::new();
                let mut rels = Vec::new();
                let mut paths = Vec::new();
                for part in &m.pattern.parts {
                    if part.kind != PathKind::Normal {
                        let all = part.kind == PathKind::AllShortest;
                        let path = self.shortest(&part.element, all, &mut ops)?;
                        if let Some(v) = &part.variable {
                            self.bind(v.name.clone(), path);
                        }
                        continue;
                    }
                    let named = part.variable.is_some();
                    let (start, hops) =
                        self.match_element(&part.element, &mut ops, &mut rels, named)?;
                    if let Some(v) = &part.variable {
                        let slot = self.fresh();
                        self.bind(v.name.clone(), slot);
                        paths.push((slot, PExpr::Path { start, hops }));
                    }
                }
                if rels.len() > 1 {
                    ops.push(Op::RelsUnique(rels));
                }
                if !paths.is_empty() {
                    ops.push(Op::Project(paths));
                }
                if let Some(w) = &m.where_ {
                    let scope = self.scope.clone();
                    ops.push(Op::Filter(self.expr(w, &scope, None)?));
                }
                crate::lower_index::choose_index_scans(&mut ops, first_new);
                if m.optional {
                    let new_slots = self
                        .scope
                        .values()
                        .copied()
                        .filter(|s| !before.contains(s))
                        .collect();
                    self.ops.push(Op::Optional { ops, new_slots });
                } else {
                    self.ops.extend(ops);
                }
            }
            Clause::Unwind(u) => {
                let scope = self.scope.clone();
                let expr = self.expr(&u.expr, &scope, None)?;
                let slot = self.fresh();
                self.bind(u.variable.name.clone(), slot);
                self.ops.push(Op::Unwind { expr, slot });
            }
            Clause::Create(cr) => self.create(cr)?,
            Clause::Set(s) => {
                let ops = self.set_items(&s.items)?;
                self.ops.extend(ops);
            }
            Clause::Remove(r) => {
                let scope = self.scope.clone();
                for it in &r.items {
                    let op = match it {
                        RemoveItem::Property { target, key, .. } => Op::SetProps(vec![SetProp {
                            target: self.expr(target, &scope, None)?,
                            key: Arc::from(key.name.as_str()),
                            value: PExpr::Lit(Value::Null),
                        }]),
                        RemoveItem::Labels {
                            variable, labels, ..
                        } => Op::SetLabels {
                            target: self.var(variable, &scope)?,
                            labels: labels.iter().map(|l| Arc::from(l.name.as_str())).collect(),
                            remove: true,
                        },
                    };
                    self.ops.push(op);
                }
            }
            Clause::Delete(d) => {
                let scope = self.scope.clone();
                let mut exprs = Vec::new();
                for e in &d.exprs {
                    exprs.push(self.expr(e, &scope, None)?);
                }
                self.ops.push(Op::Delete {
                    exprs,
                    detach: d.detach,
                });
            }
            Clause::With(w) => {
                let order_scope = self.projection(&w.projection, w.span.start)?;
                if let Some(p) = &w.where_ {
                    let pred = self.expr(p, &order_scope, None)?;
                    self.ops.push(Op::Filter(pred));
                }
            }
            Clause::Return(r) => {
                self.projection(&r.projection, r.span.start)?;
                let mut cols: Vec<(String, Slot)> =
                    self.scope.iter().map(|(n, s)| (n.clone(), *s)).collect();
                // Column order = item order: slots were allocated in item order.
                cols.sort_by_key(|(_, s)| *s);
                self.columns = cols;
            }
            Clause::Merge(m) => self.merge(m)?,
            Clause::Foreach(f) => {
                let scope = self.scope.clone();
                let list = self.expr(&f.list, &scope, None)?;
                let slot = self.fresh();
                let outer_ops = std::mem::take(&mut self.ops);
                self.bind(f.variable.name.clone(), slot);
                let mut res = Ok(());
                for c in &f.clauses {
                    res = self.clause(c);
                    if res.is_err() {
                        break;
                    }
                }
                let body = std::mem::replace(&mut self.ops, outer_ops);
                // Variables bound inside FOREACH do not leak out of it.
                self.scope = scope;
                res?;
                self.ops.push(Op::Foreach { slot, list, body });
            }
            Clause::Call(c) => self.call(c)?,
        }
        Ok(())
    }

    /// Lowers one pattern element of a MATCH into `ops`, binding its variables.
    fn match_element(
        &mut self,
        el: &PatternElement,
        ops: &mut Vec<Op>,
        rels: &mut Vec<Slot>,
        keep_direction: bool,
    ) -> Result<(Slot, Vec<Hop>)> {
        // Start from a bound end when the start is unbound: expand instead of scanning.
        let bound = |n: &NodePattern, s: &Scope| {
            n.variable.as_ref().is_some_and(|v| s.contains_key(&v.name))
        };
        let last = el.chain.last().map(|(_, n)| n);
        let reversed;
        let el = if !keep_direction
            && !bound(&el.start, &self.scope)
            && last.is_some_and(|n| bound(n, &self.scope))
        {
            reversed = reverse(el);
            &reversed
        } else {
            el
        };
        let start = self.match_node(&el.start, ops, true)?;
        if el.chain.is_empty() && start.1 {
            // A bound node that is null (after OPTIONAL MATCH) matches nothing.
            ops.push(Op::Filter(PExpr::IsNull {
                expr: Box::new(PExpr::Slot(start.0)),
                negated: true,
            }));
        }
        let mut from = start.0;
        let mut hops = Vec::with_capacity(el.chain.len());
        for (rel, node) in &el.chain {
            // A relationship bound by an earlier clause: expand into a fresh slot, then keep
            // only the rows where it equals the bound one (a list, for variable length).
            let mut same_as = None;
            let rel_slot = match &rel.variable {
                Some(v) if self.scope.contains_key(&v.name) => {
                    same_as = self.scope.get(&v.name).copied();
                    self.fresh()
                }
                Some(v) => {
                    let s = self.fresh();
                    self.bind(v.name.clone(), s);
                    s
                }
                None => self.fresh(),
            };
            let (to, to_bound) = self.match_node(node, ops, false)?;
            // match_node(.., false) only binds; the expand must come before its filters.
            let types: Vec<Arc<str>> = rel
                .types
                .iter()
                .map(|t| Arc::from(t.name.as_str()))
                .collect();
            let var = rel.length.is_some();
            match rel.length {
                None => ops.push(Op::Expand {
                    from,
                    rel_slot,
                    to,
                    to_bound,
                    types,
                    dir: dir(rel.direction),
                }),
                Some(len) => ops.push(Op::VarExpand {
                    from,
                    rel_slot,
                    to,
                    to_bound,
                    types,
                    dir: dir(rel.direction),
                    min: len.min.unwrap_or(1),
                    max: len.max,
                }),
            }
            if let Some(b) = same_as {
                ops.push(Op::Filter(PExpr::Binary(
                    BinOp::Eq,
                    Box::new(PExpr::Slot(rel_slot)),
                    Box::new(PExpr::Slot(b)),
                )));
            }
            // match_node(.., false) only bound `to`: its filters follow the expansion.
            self.node_filters(node, to, ops)?;
            if var {
                self.var_rel_filters(rel, rel_slot, ops)?;
            } else {
                self.rel_filters(rel, rel_slot, ops)?;
            }
            rels.push(rel_slot);
            hops.push((rel_slot, to, var));
            from = to;
        }
        Ok((start.0, hops))
    }

    /// `shortestPath((a)-[r:T*min..max]-(b))` / `allShortestPaths(..)`: scans the unbound
    /// ends, then a BFS between them. Returns the path's slot.
    fn shortest(&mut self, el: &PatternElement, all: bool, ops: &mut Vec<Op>) -> Result<Slot> {
        let [(rel, end)] = el.chain.as_slice() else {
            return Err(unsupported(
                el.span.start,
                "shortestPath over other than one relationship pattern",
            ));
        };
        let (min, max) = match rel.length {
            Some(len) => (len.min.unwrap_or(1), len.max),
            None => (1, Some(1)),
        };
        if min > 1 || rel.properties.is_some() {
            return Err(unsupported(
                rel.span.start,
                "shortestPath with a minimum length above 1 or relationship properties",
            ));
        }
        let (from, _) = self.match_node(&el.start, ops, true)?;
        let (to, _) = self.match_node(end, ops, true)?;
        let rel_slot = self.fresh();
        if let Some(v) = &rel.variable {
            self.bind(v.name.clone(), rel_slot);
        }
        let path = self.fresh();
        ops.push(Op::ShortestPath {
            from,
            to,
            path,
            rel_slot,
            types: rel
                .types
                .iter()
                .map(|t| Arc::from(t.name.as_str()))
                .collect(),
            dir: dir(rel.direction),
            min,
            max,
            all,
        });
        Ok(path)
    }

    /// Binds a node pattern's slot; with `scan` also emits the scan and its filters.
    /// Returns the slot and whether it was already bound.
    fn match_node(
        &mut self,
        n: &NodePattern,
        ops: &mut Vec<Op>,
        scan: bool,
    ) -> Result<(Slot, bool)> {
        let (slot, was_bound) = match &n.variable {
            Some(v) => match self.scope.get(&v.name) {
                Some(s) => (*s, true),
                None => {
                    let s = self.fresh();
                    self.bind(v.name.clone(), s);
                    (s, false)
                }
            },
            None => (self.fresh(), false),
        };
        if scan {
            if !was_bound {
                match n.labels.first() {
                    Some(l) => ops.push(Op::LabelScan {
                        slot,
                        label: Arc::from(l.name.as_str()),
                    }),
                    None => ops.push(Op::AllNodesScan { slot }),
                }
            }
            self.node_filters(n, slot, ops)?;
        }
        Ok((slot, was_bound))
    }

    fn node_filters(&mut self, n: &NodePattern, slot: Slot, ops: &mut Vec<Op>) -> Result<()> {
        if !n.labels.is_empty() {
            ops.push(Op::Filter(PExpr::HasLabels(
                Box::new(PExpr::Slot(slot)),
                n.labels
                    .iter()
                    .map(|l| Arc::from(l.name.as_str()))
                    .collect(),
            )));
        }
        self.prop_filters(n.properties.as_ref(), slot, ops)
    }

    fn rel_filters(&mut self, r: &RelPattern, slot: Slot, ops: &mut Vec<Op>) -> Result<()> {
        self.prop_filters(r.properties.as_ref(), slot, ops)
    }

    /// A property map on a variable-length relationship: every relationship of the hop list
    /// must have those properties (`all(x IN rels WHERE x.k = v AND ..)`).
    fn var_rel_filters(&mut self, r: &RelPattern, list: Slot, ops: &mut Vec<Op>) -> Result<()> {
        let Some(p) = &r.properties else {
            return Ok(());
        };
        let ExprKind::Map(entries) = &p.kind else {
            return Err(unsupported(
                p.span.start,
                "parameter property maps in patterns",
            ));
        };
        let scope = self.scope.clone();
        let local = self.fresh();
        let mut pred = PExpr::Lit(Value::Bool(true));
        for (k, v) in entries {
            let eq = PExpr::Binary(
                BinOp::Eq,
                Box::new(PExpr::Prop(
                    Box::new(PExpr::Slot(local)),
                    Arc::from(k.name.as_str()),
                )),
                Box::new(self.expr(v, &scope, None)?),
            );
            pred = PExpr::Binary(BinOp::And, Box::new(pred), Box::new(eq));
        }
        ops.push(Op::Filter(PExpr::Quantifier {
            kind: Quantifier::All,
            slot: local,
            list: Box::new(PExpr::Slot(list)),
            predicate: Box::new(pred),
        }));
        Ok(())
    }

    fn prop_filters(&mut self, props: Option<&Expr>, slot: Slot, ops: &mut Vec<Op>) -> Result<()> {
        let Some(p) = props else {
            return Ok(());
        };
        let ExprKind::Map(entries) = &p.kind else {
            return Err(unsupported(
                p.span.start,
                "parameter property maps in patterns",
            ));
        };
        let scope = self.scope.clone();
        for (k, v) in entries {
            let value = self.expr(v, &scope, None)?;
            ops.push(Op::Filter(PExpr::Binary(
                BinOp::Eq,
                Box::new(PExpr::Prop(
                    Box::new(PExpr::Slot(slot)),
                    Arc::from(k.name.as_str()),
                )),
                Box::new(value),
            )));
        }
        Ok(())
    }

    fn create(&mut self, cr: &crate::ast::CreateClause) -> Result<()> {
        let mut nodes = Vec::new();
        let mut rels = Vec::new();
        for part in &cr.pattern.parts {
            if let Some(v) = &part.variable {
                return Err(unsupported(v.span.start, "named paths"));
            }
            let el = &part.element;
            let mut prev = self.create_node(&el.start, &mut nodes)?;
            for (rel, node) in &el.chain {
                let next = self.create_node(node, &mut nodes)?;
                let (src, dst) = match rel.direction {
                    Direction::Incoming => (next, prev),
                    _ => (prev, next),
                };
                let Some(t) = rel.types.first() else {
                    return Err(unsupported(rel.span.start, "relationship without a type"));
                };
                let slot = self.fresh();
                if let Some(v) = &rel.variable {
                    self.bind(v.name.clone(), slot);
                }
                rels.push(CreateRel {
                    slot,
                    src,
                    dst,
                    rel_type: Arc::from(t.name.as_str()),
                    props: self.create_props(rel.properties.as_ref())?,
                });
                prev = next;
            }
        }
        self.ops.push(Op::Create { nodes, rels });
        Ok(())
    }

    fn create_node(&mut self, n: &NodePattern, nodes: &mut Vec<CreateNode>) -> Result<Slot> {
        if let Some(v) = &n.variable
            && let Some(s) = self.scope.get(&v.name)
        {
            return Ok(*s);
        }
        let slot = self.fresh();
        if let Some(v) = &n.variable {
            self.bind(v.name.clone(), slot);
        }
        nodes.push(CreateNode {
            slot,
            labels: n
                .labels
                .iter()
                .map(|l| Arc::from(l.name.as_str()))
                .collect(),
            props: self.create_props(n.properties.as_ref())?,
        });
        Ok(slot)
    }

    fn create_props(&mut self, props: Option<&Expr>) -> Result<Vec<(Arc<str>, PExpr)>> {
        let Some(p) = props else {
            return Ok(Vec::new());
        };
        let ExprKind::Map(entries) = &p.kind else {
            return Err(unsupported(
                p.span.start,
                "parameter property maps in CREATE",
            ));
        };
        let scope = self.scope.clone();
        let mut out = Vec::new();
        for (k, v) in entries {
            out.push((Arc::from(k.name.as_str()), self.expr(v, &scope, None)?));
        }
        Ok(out)
    }

    /// Lowers WITH/RETURN items, DISTINCT, ORDER BY, SKIP, LIMIT; replaces the scope with the
    /// projected names and returns the scope ORDER BY / WHERE see (projected over incoming).
    fn projection(&mut self, p: &Projection, offset: usize) -> Result<Scope> {
        let old = self.scope.clone();
        let mut items: Vec<(String, &Expr)> = Vec::new();
        let star_vars: Vec<(String, Slot)> = if p.star {
            let mut v: Vec<(String, Slot)> = old.iter().map(|(n, s)| (n.clone(), *s)).collect();
            v.sort();
            v
        } else {
            Vec::new()
        };
        for it in &p.items {
            items.push((it.name.clone(), &it.expr));
        }
        let aggregating = items.iter().any(|(_, e)| is_aggregate(e))
            || p.order_by.iter().any(|s| is_aggregate(&s.expr));
        let mut new_scope = Scope::new();
        let mut proj = Vec::new();
        let mut keys = Vec::new();
        let mut aggs = Vec::new();
        for (name, s) in &star_vars {
            let slot = self.fresh();
            proj.push((slot, PExpr::Slot(*s)));
            keys.push(PExpr::Slot(*s));
            self.note(slot, name);
            new_scope.insert(name.clone(), slot);
        }
        for (name, e) in &items {
            let slot = self.fresh();
            let lowered = if aggregating && is_aggregate(e) {
                let mut sink = AggSink {
                    scope: &old,
                    aggs: &mut aggs,
                };
                self.expr(e, &old, Some(&mut sink))?
            } else {
                let x = self.expr(e, &old, None)?;
                if aggregating {
                    keys.push(x.clone());
                }
                x
            };
            proj.push((slot, lowered));
            self.note(slot, name);
            new_scope.insert(name.clone(), slot);
        }
        let mut order_scope = old.clone();
        order_scope.extend(new_scope.iter().map(|(k, v)| (k.clone(), *v)));
        let mut sort = Vec::new();
        for s in &p.order_by {
            let e = if aggregating && is_aggregate(&s.expr) {
                let mut sink = AggSink {
                    scope: &old,
                    aggs: &mut aggs,
                };
                self.expr(&s.expr, &order_scope, Some(&mut sink))?
            } else {
                self.expr(&s.expr, &order_scope, None)?
            };
            sort.push((e, s.descending));
        }
        if aggregating {
            self.ops.push(Op::Aggregate { keys, aggs });
        }
        let out_slots: Vec<Slot> = proj.iter().map(|(s, _)| *s).collect();
        self.ops.push(Op::Project(proj));
        if p.distinct {
            self.ops.push(Op::Distinct(out_slots));
        }
        if !sort.is_empty() {
            self.ops.push(Op::Sort(sort));
        }
        let empty = Scope::new();
        if let Some(s) = &p.skip {
            let e = self.expr(s, &empty, None)?;
            self.ops.push(Op::Skip(e));
        }
        if let Some(l) = &p.limit {
            let e = self.expr(l, &empty, None)?;
            self.ops.push(Op::Limit(e));
        }
        if new_scope.is_empty() && !p.star && p.items.is_empty() {
            return Err(unsupported(offset, "empty projection"));
        }
        self.scope = new_scope;
        Ok(order_scope)
    }

    fn var(&mut self, v: &crate::ast::Ident, scope: &Scope) -> Result<PExpr> {
        match scope.get(&v.name) {
            Some(s) => Ok(PExpr::Slot(*s)),
            None => Err(CypherError::new(
                ErrorDetail::UndefinedVariable,
                v.span.start,
                format!("'{}' not defined", v.name),
            )),
        }
    }

    /// A scope with one more local variable (comprehensions, quantifiers).
    fn local(&mut self, scope: &Scope, name: &str) -> (Scope, Slot) {
        let slot = self.fresh();
        let mut inner = scope.clone();
        inner.insert(name.to_string(), slot);
        (inner, slot)
    }

    fn expr(
        &mut self,
        e: &Expr,
        scope: &Scope,
        mut aggs: Option<&mut AggSink<'_>>,
    ) -> Result<PExpr> {
        let at = e.span.start;
        let b = |x: PExpr| Box::new(x);
        Ok(match &e.kind {
            ExprKind::Literal(l) => PExpr::Lit(match l {
                Literal::Null => Value::Null,
                Literal::Bool(v) => Value::Bool(*v),
                Literal::Integer(i) => Value::Int(*i),
                Literal::Float(f) => Value::Float(*f),
                Literal::String(s) => Value::str(s),
            }),
            ExprKind::Parameter(p) => PExpr::Param(p.clone()),
            ExprKind::Variable(v) => match scope.get(v) {
                Some(s) => PExpr::Slot(*s),
                None => {
                    return Err(CypherError::new(
                        ErrorDetail::UndefinedVariable,
                        at,
                        format!("'{v}' not defined"),
                    ));
                }
            },
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.expr(i, scope, aggs.as_deref_mut())?);
                }
                PExpr::List(out)
            }
            ExprKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((
                        Arc::from(k.name.as_str()),
                        self.expr(v, scope, aggs.as_deref_mut())?,
                    ));
                }
                PExpr::Map(out)
            }
            ExprKind::Property(t, k) => {
                PExpr::Prop(b(self.expr(t, scope, aggs)?), Arc::from(k.name.as_str()))
            }
            ExprKind::Index(t, i) => {
                let t = self.expr(t, scope, aggs.as_deref_mut())?;
                PExpr::Index(b(t), b(self.expr(i, scope, aggs)?))
            }
            ExprKind::HasLabels(t, labels) => PExpr::HasLabels(
                b(self.expr(t, scope, aggs)?),
                labels.iter().map(|l| Arc::from(l.name.as_str())).collect(),
            ),
            ExprKind::Unary(op, a) => {
                let op = match op {
                    UnaryOp::Not => UnOp::Not,
                    UnaryOp::Minus => UnOp::Neg,
                    UnaryOp::Plus => UnOp::Plus,
                };
                PExpr::Unary(op, b(self.expr(a, scope, aggs)?))
            }
            ExprKind::Binary(op, x, y) => {
                let op = match op {
                    BinaryOp::Or => BinOp::Or,
                    BinaryOp::Xor => BinOp::Xor,
                    BinaryOp::And => BinOp::And,
                    BinaryOp::Eq => BinOp::Eq,
                    BinaryOp::Ne => BinOp::Ne,
                    BinaryOp::Lt => BinOp::Lt,
                    BinaryOp::Gt => BinOp::Gt,
                    BinaryOp::Le => BinOp::Le,
                    BinaryOp::Ge => BinOp::Ge,
                    BinaryOp::In => BinOp::In,
                    BinaryOp::StartsWith => BinOp::StartsWith,
                    BinaryOp::EndsWith => BinOp::EndsWith,
                    BinaryOp::Contains => BinOp::Contains,
                    BinaryOp::Regex => BinOp::Regex,
                    BinaryOp::Add => BinOp::Add,
                    BinaryOp::Sub => BinOp::Sub,
                    BinaryOp::Mul => BinOp::Mul,
                    BinaryOp::Div => BinOp::Div,
                    BinaryOp::Mod => BinOp::Mod,
                    BinaryOp::Pow => BinOp::Pow,
                };
                let x = self.expr(x, scope, aggs.as_deref_mut())?;
                PExpr::Binary(op, b(x), b(self.expr(y, scope, aggs)?))
            }
            ExprKind::IsNull(x, negated) => PExpr::IsNull {
                expr: b(self.expr(x, scope, aggs)?),
                negated: *negated,
            },
            ExprKind::CountStar => self.agg_call(AggFunc::CountStar, false, None, aggs, at)?,
            ExprKind::Function {
                name,
                distinct,
                args,
            } => {
                let lname = name.to_ascii_lowercase();
                if lname == "exists"
                    && let [arg] = args.as_slice()
                {
                    return match &arg.kind {
                        ExprKind::Pattern(p) => {
                            Ok(PExpr::Exists(self.pattern_ops(p, scope, None)?.0))
                        }
                        _ => Ok(PExpr::IsNull {
                            expr: b(self.expr(arg, scope, aggs)?),
                            negated: true,
                        }),
                    };
                }
                if let Some(f) = agg_func(&lname) {
                    if matches!(f, AggFunc::PercentileCont | AggFunc::PercentileDisc) {
                        // The accumulator receives `[value, percentile]` per row.
                        let [v, p] = args.as_slice() else {
                            return Err(CypherError::new(
                                ErrorDetail::InvalidArgumentType,
                                at,
                                format!("{name}() expects 2 arguments"),
                            ));
                        };
                        let pair = Expr::new(ExprKind::List(vec![v.clone(), p.clone()]), v.span);
                        return self.agg_call(f, *distinct, Some(&pair), aggs, at);
                    }
                    let [arg] = args.as_slice() else {
                        return Err(unsupported(
                            at,
                            format!("{name} with {} arguments", args.len()),
                        ));
                    };
                    return self.agg_call(f, *distinct, Some(arg), aggs, at);
                }
                if !moon_graph::exec::is_scalar_function(&lname) {
                    return Err(unsupported(at, format!("function {name}()")));
                }
                let mut out = Vec::with_capacity(args.len());
                for a in args {
                    out.push(self.expr(a, scope, aggs.as_deref_mut())?);
                }
                PExpr::Call {
                    name: lname,
                    args: out,
                }
            }
            ExprKind::Case {
                operand,
                alternatives,
                default,
            } => {
                let operand = match operand {
                    Some(o) => Some(b(self.expr(o, scope, aggs.as_deref_mut())?)),
                    None => None,
                };
                let mut alts = Vec::with_capacity(alternatives.len());
                for (w, t) in alternatives {
                    let w = self.expr(w, scope, aggs.as_deref_mut())?;
                    alts.push((w, self.expr(t, scope, aggs.as_deref_mut())?));
                }
                let default = match default {
                    Some(d) => Some(b(self.expr(d, scope, aggs)?)),
                    None => None,
                };
                PExpr::Case {
                    operand,
                    alternatives: alts,
                    default,
                }
            }
            ExprKind::Slice(t, from, to) => {
                let t = self.expr(t, scope, aggs.as_deref_mut())?;
                let from = match from {
                    Some(f) => Some(b(self.expr(f, scope, aggs.as_deref_mut())?)),
                    None => None,
                };
                let to = match to {
                    Some(x) => Some(b(self.expr(x, scope, aggs)?)),
                    None => None,
                };
                PExpr::Slice(b(t), from, to)
            }
            ExprKind::ListComprehension {
                variable,
                list,
                predicate,
                projection,
            } => {
                let list = self.expr(list, scope, aggs)?;
                let (inner, slot) = self.local(scope, &variable.name);
                let predicate = match predicate {
                    Some(p) => Some(b(self.expr(p, &inner, None)?)),
                    None => None,
                };
                let projection = match projection {
                    Some(p) => Some(b(self.expr(p, &inner, None)?)),
                    None => None,
                };
                PExpr::ListComp {
                    slot,
                    list: b(list),
                    predicate,
                    projection,
                }
            }
            ExprKind::Quantifier {
                kind,
                variable,
                list,
                predicate,
            } => {
                let Some(predicate) = predicate else {
                    return Err(unsupported(at, "quantifier without WHERE"));
                };
                let list = self.expr(list, scope, aggs)?;
                let (inner, slot) = self.local(scope, &variable.name);
                PExpr::Quantifier {
                    kind: match kind {
                        QuantifierKind::All => Quantifier::All,
                        QuantifierKind::Any => Quantifier::Any,
                        QuantifierKind::None => Quantifier::None,
                        QuantifierKind::Single => Quantifier::Single,
                    },
                    slot,
                    list: b(list),
                    predicate: b(self.expr(predicate, &inner, None)?),
                }
            }
            ExprKind::PatternComprehension {
                path_variable,
                pattern,
                predicate,
                projection,
            } => {
                let (mut ops, inner) = self.pattern_ops(pattern, scope, path_variable.as_ref())?;
                if let Some(p) = predicate {
                    ops.push(Op::Filter(self.expr(p, &inner, None)?));
                }
                PExpr::PatternList {
                    ops,
                    projection: b(self.expr(projection, &inner, None)?),
                }
            }
            ExprKind::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            } => {
                let init = self.expr(init, scope, aggs.as_deref_mut())?;
                let list = self.expr(list, scope, aggs)?;
                let (inner, acc) = self.local(scope, &accumulator.name);
                let (inner, slot) = self.local(&inner, &variable.name);
                PExpr::Reduce {
                    acc,
                    init: b(init),
                    slot,
                    list: b(list),
                    expr: b(self.expr(expr, &inner, None)?),
                }
            }
            ExprKind::MapProjection { variable, items } => {
                let target = self.var(variable, scope)?;
                let mut all = false;
                let mut entries = Vec::with_capacity(items.len());
                for it in items {
                    match it {
                        MapProjectionItem::AllProperties => all = true,
                        MapProjectionItem::Property(k) => entries.push((
                            Arc::from(k.name.as_str()),
                            PExpr::Prop(b(target.clone()), Arc::from(k.name.as_str())),
                        )),
                        MapProjectionItem::Entry(k, e) => entries.push((
                            Arc::from(k.name.as_str()),
                            self.expr(e, scope, aggs.as_deref_mut())?,
                        )),
                        MapProjectionItem::Variable(v) => {
                            entries.push((Arc::from(v.name.as_str()), self.var(v, scope)?));
                        }
                    }
                }
                PExpr::MapProjection {
                    target: b(target),
                    all,
                    entries,
                }
            }
            ExprKind::Pattern(p) => PExpr::Exists(self.pattern_ops(p, scope, None)?.0),
            ExprKind::ShortestPath { all, pattern } => {
                let outer = std::mem::replace(&mut self.scope, scope.clone());
                let mut ops = Vec::new();
                let res = self.shortest(pattern, *all, &mut ops);
                self.scope = outer;
                let list = PExpr::PatternList {
                    ops,
                    projection: b(PExpr::Slot(res?)),
                };
                if *all {
                    list
                } else {
                    PExpr::Call {
                        name: "head".into(),
                        args: vec![list],
                    }
                }
            }
        })
    }

    /// A pattern used inside an expression, as a read-only sub-pipeline over the current row:
    /// variables of `scope` are bound, new ones are local (returned in the inner scope).
    fn pattern_ops(
        &mut self,
        el: &PatternElement,
        scope: &Scope,
        path_var: Option<&crate::ast::Ident>,
    ) -> Result<(Vec<Op>, Scope)> {
        let outer = std::mem::replace(&mut self.scope, scope.clone());
        let mut ops = Vec::new();
        let mut rels = Vec::new();
        let res = self.match_element(el, &mut ops, &mut rels, path_var.is_some());
        let inner = std::mem::replace(&mut self.scope, outer);
        let (start, hops) = res?;
        let mut inner = inner;
        if rels.len() > 1 {
            ops.push(Op::RelsUnique(rels));
        }
        if let Some(v) = path_var {
            let slot = self.fresh();
            inner.insert(v.name.clone(), slot);
            ops.push(Op::Project(vec![(slot, PExpr::Path { start, hops })]));
        }
        Ok((ops, inner))
    }

    fn agg_call(
        &mut self,
        func: AggFunc,
        distinct: bool,
        arg: Option<&Expr>,
        aggs: Option<&mut AggSink<'_>>,
        at: usize,
    ) -> Result<PExpr> {
        let Some(sink) = aggs else {
            return Err(unsupported(at, "aggregation in this position"));
        };
        let arg = match arg {
            Some(a) => {
                if is_aggregate(a) {
                    return Err(unsupported(at, "nested aggregation"));
                }
                let scope = sink.scope.clone();
                Some(self.expr(a, &scope, None)?)
            }
            None => None,
        };
        let slot = self.fresh();
        sink.aggs.push((
            slot,
            AggCall {
                func,
                distinct,
                arg,
            },
        ));
        Ok(PExpr::Slot(slot))
    }
}

/// The same path written from its other end.
fn reverse(el: &PatternElement) -> PatternElement {
    let mut nodes: Vec<&NodePattern> = vec![&el.start];
    nodes.extend(el.chain.iter().map(|(_, n)| n));
    let mut chain = Vec::with_capacity(el.chain.len());
    for (i, (rel, _)) in el.chain.iter().enumerate().rev() {
        let mut r = rel.clone();
        r.direction = match r.direction {
            Direction::Outgoing => Direction::Incoming,
            Direction::Incoming => Direction::Outgoing,
            Direction::Both => Direction::Both,
        };
        let target = nodes.get(i).copied().unwrap_or(&el.start);
        chain.push((r, target.clone()));
    }
    let start = nodes.last().copied().unwrap_or(&el.start).clone();
    PatternElement {
        start,
        chain,
        span: el.span,
    }
}

#[cfg(test)]
mod tests {
    //! End to end: text → `compile` → `lower` → `execute` on a fresh graph.

    use super::*;
    use moon_graph::exec::{ExecError, ResultSet, ResultValue, Stats, execute};
    use moon_graph::{Graph, Value};

    fn try_run(g: &mut Graph, q: &str) -> std::result::Result<ResultSet, String> {
        let ast = crate::compile(q).map_err(|e| e.message)?;
        let plan = lower(&ast).map_err(|e| e.message)?;
        execute(g, &plan, &prefix_params(&ast)).map_err(|e| e.to_string())
    }

    fn run(g: &mut Graph, q: &str) -> ResultSet {
        match try_run(g, q) {
            Ok(r) => r,
            Err(e) => panic!("{q}: {e}"),
        }
    }

    fn val(v: &Value) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => moon_graph::exec::format_float(*f),
            Value::String(s) => format!("'{s}'"),
            Value::List(l) => format!("[{}]", l.iter().map(val).collect::<Vec<_>>().join(", ")),
            Value::Map(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{k}: {}", val(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => format!("{other:?}"),
        }
    }

    fn props(g: &Graph, p: Option<&moon_graph::PropMap>) -> String {
        let mut kv: Vec<String> = p
            .map(|p| {
                p.iter()
                    .map(|(k, v)| format!("{}: {}", g.prop_key_name(k).unwrap_or("?"), val(v)))
                    .collect()
            })
            .unwrap_or_default();
        kv.sort();
        if kv.is_empty() {
            String::new()
        } else {
            format!(" {{{}}}", kv.join(", "))
        }
    }

    fn render(g: &Graph, v: &ResultValue) -> String {
        match v {
            ResultValue::Value(v) => val(v),
            ResultValue::Node(n) => {
                let labels: String = g
                    .node_labels(*n)
                    .unwrap_or(&[])
                    .iter()
                    .map(|l| format!(":{}", g.label_name(*l).unwrap_or("?")))
                    .collect();
                format!("({labels}{})", props(g, g.node_props(*n)))
            }
            ResultValue::Edge(e) => {
                let t = g
                    .edge(*e)
                    .and_then(|r| g.rel_type_name(r.rel))
                    .unwrap_or("?");
                format!("[:{t}{}]", props(g, g.edge_props(*e)))
            }
            ResultValue::List(l) => format!(
                "[{}]",
                l.iter()
                    .map(|x| render(g, x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => format!("{other:?}"),
        }
    }

    /// Rows rendered as `a | b`, in result order.
    fn rows(g: &mut Graph, q: &str) -> Vec<String> {
        let rs = run(g, q);
        rs.rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| render(g, v))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect()
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    fn social() -> Graph {
        let mut g = Graph::new();
        run(
            &mut g,
            "CREATE (a:Person {name: 'Alice', age: 30}), (b:Person {name: 'Bob', age: 25}), \
             (c:Person:Admin {name: 'Carol', age: 35}), (x:City {name: 'Paris'}), \
             (a)-[:KNOWS {since: 2010}]->(b), (b)-[:KNOWS {since: 2015}]->(c), \
             (a)-[:LIVES_IN]->(x), (c)-[:LIVES_IN]->(x)",
        );
        g
    }

    #[test]
    fn create_reports_stats_and_columns() {
        let mut g = Graph::new();
        let rs = run(
            &mut g,
            "CREATE (a:A {x: 1, y: null})-[r:T {w: 2}]->(b:B:C) RETURN a.x, type(r)",
        );
        assert_eq!(rs.columns, vec!["a.x", "type(r)"]);
        assert_eq!(rs.rows.len(), 1);
        assert_eq!(
            rs.stats,
            Stats {
                nodes_created: 2,
                relationships_created: 1,
                properties_set: 2,
                labels_added: 3,
                ..Stats::default()
            }
        );
        assert_eq!(rows(&mut g, "MATCH (n) RETURN count(n)"), vec!["2"]);
    }

    #[test]
    fn match_labels_props_and_where() {
        let mut g = social();
        assert_eq!(
            sorted(rows(
                &mut g,
                "MATCH (p:Person) WHERE p.age > 26 RETURN p.name"
            )),
            vec!["'Alice'", "'Carol'"]
        );
        assert_eq!(
            rows(&mut g, "MATCH (p:Person:Admin) RETURN p.name"),
            vec!["'Carol'"]
        );
        assert_eq!(
            rows(&mut g, "MATCH (p {name: 'Bob'}) RETURN p.age"),
            vec!["25"]
        );
        assert_eq!(
            rows(&mut g, "MATCH (p:Nope) RETURN p"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn expand_directions_types_and_into() {
        let mut g = social();
        assert_eq!(
            rows(
                &mut g,
                "MATCH (a {name: 'Alice'})-[:KNOWS]->(b) RETURN b.name"
            ),
            vec!["'Bob'"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH (a)<-[k:KNOWS]-(b {name: 'Alice'}) RETURN a.name, k.since"
            ),
            vec!["'Bob' | 2010"]
        );
        assert_eq!(
            sorted(rows(
                &mut g,
                "MATCH ({name: 'Bob'})-[:KNOWS]-(o) RETURN o.name"
            )),
            vec!["'Alice'", "'Carol'"]
        );
        // Two-hop with a bound end (expand into) and relationship uniqueness.
        assert_eq!(
            rows(
                &mut g,
                "MATCH (a {name: 'Alice'}), (c {name: 'Carol'}) MATCH (a)-->()-->(c) RETURN count(*)"
            ),
            vec!["1"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH (a)-[r1:KNOWS]-(b)-[r2:KNOWS]-(c) RETURN count(*)"
            ),
            vec!["2"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH (x:City)<-[:LIVES_IN]-(p) RETURN p.name ORDER BY p.name DESC"
            ),
            vec!["'Carol'", "'Alice'"]
        );
    }

    #[test]
    fn optional_match_pads_with_nulls() {
        let mut g = social();
        assert_eq!(
            rows(
                &mut g,
                "MATCH (p:Person) OPTIONAL MATCH (p)-[:LIVES_IN]->(c) RETURN p.name, c.name ORDER BY p.name"
            ),
            vec!["'Alice' | 'Paris'", "'Bob' | null", "'Carol' | 'Paris'"]
        );
    }

    #[test]
    fn aggregation_grouping_and_distinct() {
        let mut g = social();
        assert_eq!(
            sorted(rows(
                &mut g,
                "MATCH (p:Person)-[:LIVES_IN]->(c) RETURN c.name, count(*), collect(p.name)"
            )),
            vec!["'Paris' | 2 | ['Alice', 'Carol']"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH (p:Person) RETURN sum(p.age), avg(p.age), min(p.name), max(p.age), count(DISTINCT p.age > 26)"
            ),
            vec!["90 | 30.0 | 'Alice' | 35 | 2"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH (p:Nope) RETURN count(*), sum(p.x), collect(p)"
            ),
            vec!["0 | 0 | []"]
        );
        assert_eq!(
            rows(&mut g, "MATCH (p:Nope) RETURN p.x, count(*)"),
            Vec::<String>::new()
        );
        assert_eq!(
            rows(
                &mut g,
                "UNWIND [1, 1, 2, null] AS x RETURN DISTINCT x ORDER BY x"
            ),
            vec!["1", "2", "null"]
        );
        assert_eq!(
            rows(
                &mut g,
                "UNWIND [1, 2, 3, 4] AS x RETURN x % 2 AS k, count(*) * 10 AS c ORDER BY k"
            ),
            vec!["0 | 20", "1 | 20"]
        );
        assert_eq!(
            rows(
                &mut g,
                "UNWIND [3, 1, 2] AS x WITH x ORDER BY x DESC LIMIT 2 RETURN collect(x)"
            ),
            vec!["[3, 2]"]
        );
    }

    #[test]
    fn with_order_skip_limit_where() {
        let mut g = social();
        assert_eq!(
            rows(
                &mut g,
                "MATCH (p:Person) WITH p.name AS n, p.age AS a WHERE a < 35 RETURN n ORDER BY a SKIP 1 LIMIT 5"
            ),
            vec!["'Alice'"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH (p:Person) WITH p ORDER BY p.age LIMIT 1 RETURN p"
            ),
            vec!["(:Person {age: 25, name: 'Bob'})"]
        );
        assert_eq!(
            rows(&mut g, "WITH 1 AS a, 'x' AS b RETURN *"),
            vec!["1 | 'x'"]
        );
    }

    #[test]
    fn expressions_and_functions() {
        let mut g = social();
        let q = "RETURN 1 + 2 * 3, 7 / 2, 7.0 / 2, 2 ^ 3, -5 % 3, 'a' + 'b', [1] + 2, \
                 null = 1, 1 = 1.0, null OR true, null AND false, true XOR null, NOT false, \
                 3 IN [1, 2, 3], 4 IN [1, null], null IS NULL, 'abc' STARTS WITH 'ab', [1, 2, 3][-1], \
                 {a: {b: 5}}.a.b, CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END, \
                 CASE WHEN 1 > 2 THEN 'x' END";
        assert_eq!(
            rows(&mut g, q),
            vec![
                "7 | 3 | 3.5 | 8.0 | -2 | 'ab' | [1, 2] | null | true | true | false | null | true | \
                 true | null | true | true | 3 | 5 | 'two' | null"
            ]
        );
        let q = "MATCH (a {name: 'Alice'})-[r:KNOWS]->(b) RETURN id(a), labels(b), type(r), properties(r), \
                 keys(a), size('héllo'), size([1, 2]), toString(1.5), toInteger('42'), toInteger(3.9), \
                 toFloat(2), coalesce(null, a.nope, 3), head([4, 5]), last([4, 5]), range(1, 7, 3), abs(-4), \
                 toInteger('x')";
        assert_eq!(
            rows(&mut g, q),
            vec![
                "0 | ['Person'] | 'KNOWS' | {since: 2010} | ['name', 'age'] | 5 | 2 | '1.5' | 42 | 3 | \
                 2.0 | 3 | 4 | 5 | [1, 4, 7] | 4 | null"
            ]
        );
    }

    #[test]
    fn runtime_errors_are_typed() {
        let mut g = Graph::new();
        assert_eq!(
            try_run(&mut g, "RETURN 1 / 0").err().as_deref(),
            Some("Division by zero")
        );
        assert_eq!(
            try_run(&mut g, "RETURN 9223372036854775807 + 1")
                .err()
                .as_deref(),
            Some("Integer overflow")
        );
        assert_eq!(
            try_run(&mut g, "WITH 'a' AS s RETURN s - 1")
                .err()
                .as_deref(),
            Some("Type mismatch: expected Integer or Float but was String")
        );
        assert_eq!(
            try_run(&mut g, "RETURN $missing").err().as_deref(),
            Some("Missing parameters: missing")
        );
        assert_eq!(
            try_run(&mut g, "CYPHER p=41 RETURN $p + 1")
                .ok()
                .map(|r| r.rows.len()),
            Some(1)
        );
    }

    #[test]
    fn failed_write_rolls_back() {
        let mut g = social();
        g.set_recording(true);
        let before = rows(&mut g, "MATCH (n) RETURN count(n)");
        let err = try_run(
            &mut g,
            "CREATE (:New {v: 1}) WITH 1 AS one MATCH (p:Person) SET p.age = p.age / 0",
        );
        assert_eq!(err.err().as_deref(), Some("Division by zero"));
        assert_eq!(rows(&mut g, "MATCH (n) RETURN count(n)"), before);
        assert_eq!(
            rows(&mut g, "MATCH (p {name: 'Bob'}) RETURN p.age"),
            vec!["25"]
        );
        assert!(g.is_recording());
        // Only the names the failed query interned are recorded (they stay in the schema).
        let log = g.take_mutations();
        assert!(
            log.len() == 2
                && log.iter().all(|m| matches!(
                    m,
                    moon_graph::Mutation::AddLabel { .. } | moon_graph::Mutation::AddPropKey { .. }
                )),
            "{log:?}"
        );
        // A successful write is recorded (the label exists already).
        run(&mut g, "CREATE (:New)");
        assert_eq!(g.take_mutations().len(), 1); // CreateNode
    }

    #[test]
    fn set_and_delete() {
        let mut g = social();
        let rs = run(
            &mut g,
            "MATCH (p:Person {name: 'Bob'}) SET p.age = p.age + 1, p.nick = 'B', p.name = null",
        );
        assert_eq!(
            (rs.stats.properties_set, rs.stats.properties_removed),
            (2, 1)
        );
        assert_eq!(
            rows(&mut g, "MATCH (p:Person {age: 26}) RETURN p.nick, p.name"),
            vec!["'B' | null"]
        );
        let rs = run(&mut g, "MATCH ()-[r:LIVES_IN]->() DELETE r");
        assert_eq!(rs.stats.relationships_deleted, 2);
        assert_eq!(
            try_run(&mut g, "MATCH (p:Person {nick: 'B'}) DELETE p")
                .err()
                .as_deref(),
            Some("Cannot delete node<1>, as it still has connections")
        );
        let rs = run(&mut g, "MATCH (p:Person {nick: 'B'}) DETACH DELETE p");
        assert_eq!(
            (rs.stats.nodes_deleted, rs.stats.relationships_deleted),
            (1, 2)
        );
        assert_eq!(rows(&mut g, "MATCH (n) RETURN count(*)"), vec!["3"]);
    }

    #[test]
    fn unwind_create_and_match_after_write() {
        let mut g = Graph::new();
        let rs = run(
            &mut g,
            "UNWIND range(1, 3) AS i CREATE (n:N {i: i}) WITH n MATCH (m:N) RETURN count(*)",
        );
        assert_eq!(rs.stats.nodes_created, 3);
        // Every created row sees all three nodes.
        assert_eq!(rs.rows.len(), 1);
        assert_eq!(render(&g, &rs.rows[0][0]), "9");
    }

    #[test]
    fn variable_length_and_named_paths() {
        let mut g = Graph::new();
        run(
            &mut g,
            "CREATE (a:N {i: 0})-[:T]->(b:N {i: 1})-[:T]->(c:N {i: 2})-[:T]->(a)",
        );
        assert_eq!(
            sorted(rows(
                &mut g,
                "MATCH ({i: 0})-[r:T*]->(x) RETURN x.i, size(r)"
            )),
            vec!["0 | 3", "1 | 1", "2 | 2"]
        );
        assert_eq!(
            sorted(rows(&mut g, "MATCH ({i: 0})-[:T*0..1]->(x) RETURN x.i")),
            vec!["0", "1"]
        );
        assert_eq!(
            rows(&mut g, "MATCH ({i: 0})-[*2]-(x) RETURN count(*)"),
            vec!["2"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH p = ({i: 0})-[:T*2]->(x) RETURN length(p), [n IN nodes(p) | n.i], size(relationships(p))"
            ),
            vec!["2 | [0, 1, 2] | 2"]
        );
        assert_eq!(
            rows(
                &mut g,
                "MATCH p = (x {i: 1})<-[:T]-(y) RETURN [n IN nodes(p) | n.i]"
            ),
            vec!["[1, 0]"]
        );
    }

    #[test]
    fn comprehensions_quantifiers_slices_remove_and_set_forms() {
        let mut g = Graph::new();
        assert_eq!(
            rows(
                &mut g,
                "WITH [1, 2, 3, 4] AS l RETURN [x IN l WHERE x > 1 | x * 10], l[1..3], l[-2..], \
                 all(x IN l WHERE x > 0), any(x IN l WHERE x > 3), none(x IN l WHERE x > 4), \
                 single(x IN l WHERE x = 2), any(x IN [null] WHERE x > 1)"
            ),
            vec!["[20, 30, 40] | [2, 3] | [3, 4] | true | true | true | true | null"]
        );
        run(&mut g, "CREATE (:A {a: 1, b: 2})");
        let rs = run(
            &mut g,
            "MATCH (n:A) SET n:B, n += {c: 3, a: null} REMOVE n.b, n:A",
        );
        assert_eq!(
            (
                rs.stats.labels_added,
                rs.stats.labels_removed,
                rs.stats.properties_set,
                rs.stats.properties_removed
            ),
            (1, 1, 1, 2)
        );
        assert_eq!(rows(&mut g, "MATCH (n) RETURN n"), vec!["(:B {c: 3})"]);
        run(&mut g, "MATCH (n) SET n = {z: 'z'}");
        assert_eq!(rows(&mut g, "MATCH (n) RETURN n"), vec!["(:B {z: 'z'})"]);
    }

    #[test]
    fn union_and_union_all() {
        let mut g = Graph::new();
        assert_eq!(
            rows(
                &mut g,
                "UNWIND [1, 2] AS x RETURN x UNION ALL UNWIND [2, 3] AS x RETURN x"
            ),
            vec!["1", "2", "2", "3"]
        );
        assert_eq!(
            sorted(rows(
                &mut g,
                "UNWIND [1, 2] AS x RETURN x UNION UNWIND [2, 3] AS x RETURN x"
            )),
            vec!["1", "2", "3"]
        );
        assert_eq!(
            rows(
                &mut g,
                "RETURN toBoolean('TRUE'), toBoolean('x'), toBoolean(0)"
            ),
            vec!["true | null | false"]
        );
    }

    #[test]
    fn unsupported_constructs_are_rejected() {
        let mut g = Graph::new();
        for q in [
            "MATCH p = shortestPath((a)-[*2..3]->(b)) RETURN p",
            "RETURN date('2020-01-01')",
            "CREATE FULLTEXT INDEX FOR (p:D) ON (p.e)",
        ] {
            let e = try_run(&mut g, q).err().unwrap_or_default();
            assert!(e.starts_with("not supported yet: "), "{q}: {e}");
        }
        let _ = ExecError::DivisionByZero;
    }

    // `src/lower/tests/clauses.rs`.
    mod clauses;
    // `src/lower/tests/vector.rs`.
    mod vector;
}
