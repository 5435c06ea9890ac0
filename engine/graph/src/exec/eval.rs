//! Expression evaluation over one row: three-valued logic, null propagation, openCypher
//! integer arithmetic (overflow is an error, never a wrap), comparisons via `cypher_eq` /
//! `cypher_cmp`.

use std::cmp::Ordering;
use std::sync::Arc;

use super::rvalue::{NULL, ResultValue as RV};
use super::{Ctx, ExecError, Row, funcs};
use crate::graph::Graph;
use crate::plan::{BinOp, Expr, Quantifier, UnOp};
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

/// The openCypher type name of a value, for error messages.
pub(crate) fn type_name(v: &RV) -> &'static str {
    match v {
        RV::Value(v) => match v {
            Value::Null => "Null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Float(_) => "Float",
            Value::String(_) => "String",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Point { .. } => "Point",
            Value::VecF32(_) => "Vectorf32",
        },
        RV::Node(_) => "Node",
        RV::Edge(_) => "Edge",
        RV::Path(_) => "Path",
        RV::List(_) => "List",
        RV::Map(_) => "Map",
    }
}

pub(crate) fn mismatch(expected: &str, v: &RV) -> ExecError {
    ExecError::TypeMismatch {
        expected: expected.to_string(),
        actual: type_name(v).to_string(),
    }
}

pub(crate) fn bool_rv(b: Option<bool>) -> RV {
    b.map_or(NULL, |b| RV::Value(Value::Bool(b)))
}

/// Truth value of a predicate result: `None` is null; non-booleans are a type error.
pub(crate) fn truth(v: &RV) -> Result<Option<bool>> {
    match v {
        RV::Value(Value::Bool(b)) => Ok(Some(*b)),
        RV::Value(Value::Null) => Ok(None),
        other => Err(mismatch("Boolean", other)),
    }
}

/// Evaluates `e` on `row`.
pub(crate) fn eval(g: &Graph, ctx: &Ctx<'_>, row: &Row, e: &Expr) -> Result<RV> {
    match e {
        Expr::Lit(v) => Ok(RV::Value(v.clone())),
        Expr::Param(name) => ctx
            .params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| RV::Value(v.clone()))
            .ok_or_else(|| ExecError::MissingParameter(name.clone())),
        Expr::Slot(s) => Ok(row.get(*s).cloned().unwrap_or(NULL)),
        Expr::Prop(target, key) => {
            // `row.key` of a slot reads the slot in place (a map parameter row is not cloned).
            if let Expr::Slot(s) = &**target {
                let t = row.get(*s).unwrap_or(&NULL);
                check_live(ctx, t)?;
                return property(g, t, key);
            }
            let t = eval(g, ctx, row, target)?;
            check_live(ctx, &t)?;
            property(g, &t, key)
        }
        Expr::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(eval(g, ctx, row, i)?);
            }
            Ok(RV::list(out))
        }
        Expr::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k.clone(), eval(g, ctx, row, v)?));
            }
            Ok(RV::map(out))
        }
        Expr::Unary(op, a) => {
            let a = eval(g, ctx, row, a)?;
            unary(*op, a)
        }
        Expr::Binary(BinOp::And, a, b) => {
            let x = truth(&eval(g, ctx, row, a)?)?;
            if x == Some(false) {
                return Ok(bool_rv(Some(false)));
            }
            let y = truth(&eval(g, ctx, row, b)?)?;
            Ok(bool_rv(match (x, y) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            }))
        }
        Expr::Binary(BinOp::Or, a, b) => {
            let x = truth(&eval(g, ctx, row, a)?)?;
            if x == Some(true) {
                return Ok(bool_rv(Some(true)));
            }
            let y = truth(&eval(g, ctx, row, b)?)?;
            Ok(bool_rv(match (x, y) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            }))
        }
        Expr::Binary(op, a, b) => {
            let x = eval(g, ctx, row, a)?;
            let y = eval(g, ctx, row, b)?;
            binary(*op, x, y)
        }
        Expr::IsNull { expr, negated } => {
            let v = eval(g, ctx, row, expr)?;
            Ok(bool_rv(Some(v.is_null() != *negated)))
        }
        Expr::HasLabels(target, labels) => match eval(g, ctx, row, target)? {
            RV::Node(n) => {
                check_live(ctx, &RV::Node(n))?;
                Ok(bool_rv(Some(labels.iter().all(|l| {
                    g.label_id(l).is_some_and(|id| g.node_has_label(n, id))
                }))))
            }
            // `r:T` on a relationship tests its type.
            RV::Edge(e) => {
                let t = g.edge(e).and_then(|r| g.rel_type_name(r.rel));
                Ok(bool_rv(Some(labels.iter().all(|l| t == Some(&**l)))))
            }
            v if v.is_null() => Ok(NULL),
            v => Err(mismatch("Node", &v)),
        },
        Expr::Index(target, index) => {
            let t = eval(g, ctx, row, target)?;
            let i = eval(g, ctx, row, index)?;
            subscript(g, t, i)
        }
        Expr::Case {
            operand,
            alternatives,
            default,
        } => {
            let op = match operand {
                Some(o) => Some(eval(g, ctx, row, o)?),
                None => None,
            };
            for (when, then) in alternatives {
                let w = eval(g, ctx, row, when)?;
                let hit = match &op {
                    Some(o) => o.cypher_eq(&w) == Some(true),
                    None => matches!(w, RV::Value(Value::Bool(true))),
                };
                if hit {
                    return eval(g, ctx, row, then);
                }
            }
            match default {
                Some(d) => eval(g, ctx, row, d),
                None => Ok(NULL),
            }
        }
        Expr::Call { name, args } => {
            if name == "length"
                && let Some(v) = super::shortest::length_of_shortest(g, row, args)
            {
                return Ok(v);
            }
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(g, ctx, row, a)?);
            }
            if let [v] = vals.as_slice() {
                match name.as_str() {
                    // The type of a relationship deleted by this query is still known.
                    "type" => {
                        if let RV::Edge(e) = v
                            && let Some(t) = ctx.deleted_edges.get(e)
                        {
                            return Ok(RV::Value(Value::String(t.clone())));
                        }
                    }
                    "labels" | "properties" | "keys" => check_live(ctx, v)?,
                    _ => {}
                }
            }
            funcs::call(g, name, vals)
        }
        Expr::Slice(target, from, to) => {
            let t = eval(g, ctx, row, target)?;
            let bound = |e: &Option<Box<Expr>>| -> Result<Option<RV>> {
                e.as_ref().map(|e| eval(g, ctx, row, e)).transpose()
            };
            let (from, to) = (bound(from)?, bound(to)?);
            slice(t, from, to)
        }
        Expr::ListComp {
            slot,
            list,
            predicate,
            projection,
        } => {
            let Some(items) = local_list(g, ctx, row, list)? else {
                return Ok(NULL);
            };
            let mut local = row.clone();
            let mut out = Vec::new();
            for it in items {
                set_local(&mut local, *slot, it.clone());
                if let Some(p) = predicate
                    && truth(&eval(g, ctx, &local, p)?)? != Some(true)
                {
                    continue;
                }
                out.push(match projection {
                    Some(p) => eval(g, ctx, &local, p)?,
                    None => it,
                });
            }
            Ok(RV::list(out))
        }
        Expr::Path { start, hops } => build_path(g, row, *start, hops),
        Expr::Quantifier {
            kind,
            slot,
            list,
            predicate,
        } => {
            let Some(items) = local_list(g, ctx, row, list)? else {
                return Ok(NULL);
            };
            let mut local = row.clone();
            let (mut trues, mut falses, mut nulls) = (0usize, 0usize, 0usize);
            for it in items {
                set_local(&mut local, *slot, it);
                match truth(&eval(g, ctx, &local, predicate)?)? {
                    Some(true) => trues += 1,
                    Some(false) => falses += 1,
                    None => nulls += 1,
                }
            }
            let r = match kind {
                Quantifier::All if falses > 0 => Some(false),
                Quantifier::Any if trues > 0 => Some(true),
                Quantifier::None if trues > 0 => Some(false),
                Quantifier::Single if trues > 1 => Some(false),
                _ if nulls > 0 => None,
                Quantifier::All | Quantifier::None => Some(true),
                Quantifier::Any => Some(false),
                Quantifier::Single => Some(trues == 1),
            };
            Ok(bool_rv(r))
        }
        Expr::Exists(ops) => Ok(bool_rv(Some(!sub_rows(g, ctx, row, ops)?.is_empty()))),
        Expr::PatternList { ops, projection } => {
            let mut out = Vec::new();
            for r in sub_rows(g, ctx, row, ops)? {
                out.push(eval(g, ctx, &r, projection)?);
            }
            Ok(RV::list(out))
        }
        Expr::Reduce {
            acc,
            init,
            slot,
            list,
            expr,
        } => {
            let mut local = row.clone();
            set_local(&mut local, *acc, eval(g, ctx, row, init)?);
            let Some(items) = local_list(g, ctx, row, list)? else {
                return Ok(NULL);
            };
            for it in items {
                set_local(&mut local, *slot, it);
                let v = eval(g, ctx, &local, expr)?;
                set_local(&mut local, *acc, v);
            }
            Ok(local.get(*acc).cloned().unwrap_or(NULL))
        }
        Expr::MapProjection {
            target,
            all,
            entries,
        } => {
            let t = eval(g, ctx, row, target)?;
            if t.is_null() {
                return Ok(NULL);
            }
            check_live(ctx, &t)?;
            let mut out: Vec<(Arc<str>, RV)> = Vec::new();
            if *all {
                match &t {
                    RV::Node(_) | RV::Edge(_) => out.extend(
                        funcs::entity_props(g, &t)
                            .into_iter()
                            .map(|(k, v)| (k, RV::Value(v))),
                    ),
                    other => match other.map_entries() {
                        Some(m) => out.extend(m),
                        None => return Err(mismatch("Map", other)),
                    },
                }
            }
            for (k, e) in entries {
                out.push((k.clone(), eval(g, ctx, row, e)?));
            }
            Ok(RV::map(out))
        }
    }
}

/// Runs a read-only sub-pipeline (pattern predicate / comprehension) on `row` alone.
fn sub_rows(g: &Graph, ctx: &Ctx<'_>, row: &Row, ops: &[crate::plan::Op]) -> Result<Vec<Row>> {
    let mut sub = Ctx {
        params: ctx.params,
        slots: ctx.slots,
        deleted_nodes: ctx.deleted_nodes.clone(),
        deleted_edges: ctx.deleted_edges.clone(),
        stats: super::Stats::default(),
        created_nodes: Default::default(),
        created_edges: Default::default(),
        undo: Vec::new(),
        deadline: ctx.deadline,
        ticks: 0,
    };
    super::ops::run_ops(
        &mut super::ops::GraphRef::Read(g),
        ops,
        vec![row.clone()],
        &mut sub,
    )
}

/// Assembles a path value; null if any part is null (an OPTIONAL MATCH that did not match).
fn build_path(g: &Graph, row: &Row, start: usize, hops: &[(usize, usize, bool)]) -> Result<RV> {
    let Some(RV::Node(first)) = row.get(start) else {
        return Ok(NULL);
    };
    let mut path = super::rvalue::Path {
        nodes: vec![*first],
        edges: Vec::new(),
    };
    for (rel, node, var) in hops {
        let edges: Vec<crate::ids::EdgeId> = match row.get(*rel) {
            Some(RV::Edge(e)) if !var => vec![*e],
            Some(v) if *var => match v.list_items() {
                Some(items) => items
                    .iter()
                    .filter_map(|x| match x {
                        RV::Edge(e) => Some(*e),
                        _ => None,
                    })
                    .collect(),
                None => return Ok(NULL),
            },
            _ => return Ok(NULL),
        };
        for e in edges {
            let cur = path.nodes.last().copied().unwrap_or(*first);
            let Some(r) = g.edge(e) else {
                return Ok(NULL);
            };
            path.edges.push(e);
            path.nodes.push(if r.src == cur { r.dst } else { r.src });
        }
        debug_assert!(
            matches!(row.get(*node), Some(RV::Node(n)) if path.nodes.last() == Some(n)),
            "path hop does not end at its node"
        );
    }
    Ok(RV::Path(path))
}

fn set_local(row: &mut Row, slot: usize, v: RV) {
    debug_assert!(slot < row.len(), "local slot out of range");
    if let Some(s) = row.get_mut(slot) {
        *s = v;
    }
}

/// The list a comprehension/quantifier iterates; `None` for null.
fn local_list(g: &Graph, ctx: &Ctx<'_>, row: &Row, list: &Expr) -> Result<Option<Vec<RV>>> {
    let l = eval(g, ctx, row, list)?;
    if l.is_null() {
        return Ok(None);
    }
    match l.list_items() {
        Some(items) => Ok(Some(items)),
        None => Err(mismatch("List", &l)),
    }
}

fn slice(t: RV, from: Option<RV>, to: Option<RV>) -> Result<RV> {
    if t.is_null() || from.as_ref().is_some_and(RV::is_null) || to.as_ref().is_some_and(RV::is_null)
    {
        return Ok(NULL);
    }
    let Some(items) = t.list_items() else {
        return Err(mismatch("List", &t));
    };
    let len = items.len() as i64;
    let idx = |v: Option<RV>, default: i64| -> Result<i64> {
        match v {
            None => Ok(default),
            Some(RV::Value(Value::Int(i))) => Ok(if i < 0 { (len + i).max(0) } else { i.min(len) }),
            Some(other) => Err(mismatch("Integer", &other)),
        }
    };
    let (a, b) = (idx(from, 0)?, idx(to, len)?);
    if a >= b {
        return Ok(RV::list(Vec::new()));
    }
    Ok(RV::list(
        items
            .into_iter()
            .skip(a as usize)
            .take((b - a) as usize)
            .collect(),
    ))
}

/// Fails on a node or relationship this query deleted.
fn check_live(ctx: &Ctx<'_>, v: &RV) -> Result<()> {
    let dead = match v {
        RV::Node(n) => ctx.deleted_nodes.contains(n),
        RV::Edge(e) => ctx.deleted_edges.contains_key(e),
        _ => false,
    };
    if dead {
        Err(ExecError::DeletedEntityAccess)
    } else {
        Ok(())
    }
}

/// `target.key`.
pub(crate) fn property(g: &Graph, target: &RV, key: &str) -> Result<RV> {
    match target {
        RV::Node(n) => Ok(g
            .prop_key_id(key)
            .and_then(|k| g.node_property(*n, k))
            .map_or(NULL, |v| RV::Value(v.clone()))),
        RV::Edge(e) => Ok(g
            .prop_key_id(key)
            .and_then(|k| g.edge_property(*e, k))
            .map_or(NULL, |v| RV::Value(v.clone()))),
        RV::Value(Value::Null) => Ok(NULL),
        RV::Value(Value::Map(m)) => Ok(m
            .iter()
            .find(|(k, _)| &**k == key)
            .map_or(NULL, |(_, v)| RV::Value(v.clone()))),
        RV::Map(m) => Ok(m
            .iter()
            .find(|(k, _)| &**k == key)
            .map_or(NULL, |(_, v)| v.clone())),
        other => match other.map_entries() {
            Some(m) => Ok(m
                .into_iter()
                .find(|(k, _)| &**k == key)
                .map_or(NULL, |(_, v)| v)),
            None => Err(mismatch("Map", other)),
        },
    }
}

fn subscript(g: &Graph, t: RV, i: RV) -> Result<RV> {
    if t.is_null() || i.is_null() {
        return Ok(NULL);
    }
    if let Some(items) = t.list_items() {
        let RV::Value(Value::Int(ix)) = i else {
            return Err(mismatch("Integer", &i));
        };
        let len = items.len() as i64;
        let ix = if ix < 0 { ix + len } else { ix };
        if ix < 0 || ix >= len {
            return Ok(NULL);
        }
        return Ok(items.into_iter().nth(ix as usize).unwrap_or(NULL));
    }
    match (&t, &i) {
        (
            RV::Node(_) | RV::Edge(_) | RV::Map(_) | RV::Value(Value::Map(_)),
            RV::Value(Value::String(k)),
        ) => property(g, &t, k),
        (RV::Node(_) | RV::Edge(_) | RV::Map(_) | RV::Value(Value::Map(_)), _) => {
            Err(mismatch("String", &i))
        }
        _ => Err(mismatch("List", &t)),
    }
}

fn unary(op: UnOp, a: RV) -> Result<RV> {
    match (op, a) {
        (_, a) if a.is_null() => Ok(NULL),
        (UnOp::Not, a) => Ok(bool_rv(truth(&a)?.map(|b| !b))),
        (UnOp::Neg, RV::Value(Value::Int(i))) => i
            .checked_neg()
            .map(|i| RV::Value(Value::Int(i)))
            .ok_or(ExecError::IntegerOverflow),
        (UnOp::Neg, RV::Value(Value::Float(f))) => Ok(RV::Value(Value::Float(-f))),
        (UnOp::Plus, a @ RV::Value(Value::Int(_) | Value::Float(_))) => Ok(a),
        (_, a) => Err(mismatch("Integer or Float", &a)),
    }
}

enum Num {
    I(i64),
    F(f64),
}

fn num(v: &RV) -> Option<Num> {
    match v {
        RV::Value(Value::Int(i)) => Some(Num::I(*i)),
        RV::Value(Value::Float(f)) => Some(Num::F(*f)),
        _ => None,
    }
}

fn as_f(n: &Num) -> f64 {
    match n {
        Num::I(i) => *i as f64,
        Num::F(f) => *f,
    }
}

fn int(r: Option<i64>) -> Result<RV> {
    r.map(|i| RV::Value(Value::Int(i)))
        .ok_or(ExecError::IntegerOverflow)
}

fn float(f: f64) -> Result<RV> {
    Ok(RV::Value(Value::Float(f)))
}

pub(crate) fn binary(op: BinOp, x: RV, y: RV) -> Result<RV> {
    match op {
        BinOp::Eq => return Ok(bool_rv(x.cypher_eq(&y))),
        BinOp::Ne => return Ok(bool_rv(x.cypher_eq(&y).map(|b| !b))),
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
            // NaN compared with a number is false, not null (openCypher).
            let is_nan = |v: &RV| matches!(v, RV::Value(Value::Float(f)) if f.is_nan());
            if (is_nan(&x) && num(&y).is_some()) || (is_nan(&y) && num(&x).is_some()) {
                return Ok(bool_rv(Some(false)));
            }
            let o = x.cypher_cmp(&y);
            return Ok(bool_rv(o.map(|o| match op {
                BinOp::Lt => o == Ordering::Less,
                BinOp::Gt => o == Ordering::Greater,
                BinOp::Le => o != Ordering::Greater,
                _ => o != Ordering::Less,
            })));
        }
        BinOp::Xor => {
            let (a, b) = (truth(&x)?, truth(&y)?);
            return Ok(bool_rv(a.zip(b).map(|(a, b)| a != b)));
        }
        BinOp::And | BinOp::Or => {
            // Reached only when called directly (eval short-circuits these).
            let (a, b) = (truth(&x)?, truth(&y)?);
            let r = if op == BinOp::And {
                match (a, b) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }
            } else {
                match (a, b) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            };
            return Ok(bool_rv(r));
        }
        BinOp::In => {
            if y.is_null() {
                return Ok(NULL);
            }
            let Some(items) = y.list_items() else {
                return Err(mismatch("List", &y));
            };
            let mut null = false;
            for it in &items {
                match x.cypher_eq(it) {
                    Some(true) => return Ok(bool_rv(Some(true))),
                    None => null = true,
                    Some(false) => {}
                }
            }
            return Ok(bool_rv(if null { None } else { Some(false) }));
        }
        BinOp::Regex => {
            return match (&x, &y) {
                (RV::Value(Value::String(a)), RV::Value(Value::String(p))) => {
                    Ok(bool_rv(Some(super::regex_cache::full_match(p, a)?)))
                }
                _ => Ok(NULL),
            };
        }
        BinOp::StartsWith | BinOp::EndsWith | BinOp::Contains => {
            return Ok(match (&x, &y) {
                (RV::Value(Value::String(a)), RV::Value(Value::String(b))) => {
                    bool_rv(Some(match op {
                        BinOp::StartsWith => a.starts_with(&**b),
                        BinOp::EndsWith => a.ends_with(&**b),
                        _ => a.contains(&**b),
                    }))
                }
                _ => NULL,
            });
        }
        _ => {}
    }
    if op == BinOp::Add {
        // List concatenation / append / prepend, then string concatenation.
        match (x.list_items(), y.list_items()) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                return Ok(RV::list(a));
            }
            (Some(mut a), None) => {
                a.push(y);
                return Ok(RV::list(a));
            }
            (None, Some(mut b)) => {
                b.insert(0, x);
                return Ok(RV::list(b));
            }
            (None, None) => {}
        }
        if x.is_null() || y.is_null() {
            return Ok(NULL);
        }
        if let (RV::Value(Value::String(a)), RV::Value(Value::String(b))) = (&x, &y) {
            return Ok(RV::Value(Value::String(Arc::from(format!("{a}{b}")))));
        }
        if let RV::Value(Value::String(a)) = &x
            && num(&y).is_some()
        {
            return Ok(RV::Value(Value::str(&format!(
                "{a}{}",
                funcs::to_string_value(&y)
            ))));
        }
        if let RV::Value(Value::String(b)) = &y
            && num(&x).is_some()
        {
            return Ok(RV::Value(Value::str(&format!(
                "{}{b}",
                funcs::to_string_value(&x)
            ))));
        }
    }
    if x.is_null() || y.is_null() {
        return Ok(NULL);
    }
    let (Some(a), Some(b)) = (num(&x), num(&y)) else {
        let bad = if num(&x).is_none() { &x } else { &y };
        return Err(mismatch("Integer or Float", bad));
    };
    match (op, &a, &b) {
        (BinOp::Add, Num::I(p), Num::I(q)) => int(p.checked_add(*q)),
        (BinOp::Sub, Num::I(p), Num::I(q)) => int(p.checked_sub(*q)),
        (BinOp::Mul, Num::I(p), Num::I(q)) => int(p.checked_mul(*q)),
        (BinOp::Div, Num::I(_), Num::I(0)) | (BinOp::Mod, Num::I(_), Num::I(0)) => {
            Err(ExecError::DivisionByZero)
        }
        (BinOp::Div, Num::I(p), Num::I(q)) => int(p.checked_div(*q)),
        (BinOp::Mod, Num::I(p), Num::I(q)) => int(p.checked_rem(*q)),
        (BinOp::Add, _, _) => float(as_f(&a) + as_f(&b)),
        (BinOp::Sub, _, _) => float(as_f(&a) - as_f(&b)),
        (BinOp::Mul, _, _) => float(as_f(&a) * as_f(&b)),
        (BinOp::Div, _, _) => float(as_f(&a) / as_f(&b)),
        (BinOp::Mod, _, _) => float(as_f(&a) % as_f(&b)),
        (BinOp::Pow, _, _) => float(as_f(&a).powf(as_f(&b))),
        _ => Err(ExecError::Invalid(format!("unexpected operator {op:?}"))),
    }
}
