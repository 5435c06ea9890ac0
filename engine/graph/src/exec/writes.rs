//! Write operators and their helpers: CREATE, SET/REMOVE, DELETE, index DDL.
//!
//! Invariant: every graph mutation made here first pushes its reverse onto `ctx.undo` (see
//! `undo`), so a failing query can be rolled back exactly; stats count what changed (an entity
//! created and deleted by the same query counts in neither).

use std::sync::Arc;

use super::eval::{eval, mismatch};
use super::ops::{GraphRef, set};
use super::rvalue::ResultValue as RV;
use super::{Ctx, ExecError, Row};
use crate::graph::Graph;
use crate::ids::{NodeId, PropKeyId};
use crate::mutation::Mutation;
use crate::plan::{CreateNode, CreateRel, Expr, SetProp};
use crate::value::Value;

type Result<T> = std::result::Result<T, ExecError>;

/// `[DETACH] DELETE`: collects the entities over all rows first (later rows may name the same
/// entity again), then deletes relationships, then nodes.
pub(super) fn delete(
    g: &mut GraphRef<'_>,
    rows: Vec<Row>,
    ctx: &mut Ctx<'_>,
    exprs: &[Expr],
    detach: bool,
) -> Result<Vec<Row>> {
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
            ctx.undo.extend(super::undo::edge_preimage(gm, e));
            gm.delete_edge(e)?;
            count_edge_delete(ctx, e);
        }
    }
    for n in nodes {
        if !gm.node_exists(n) {
            continue;
        }
        if !detach && gm.degree(n, crate::ids::Direction::Both, &[]) > 0 {
            return Err(ExecError::DeleteConnected(n.0));
        }
        let incident: Vec<_> = gm.neighbors(n, crate::ids::Direction::Both, &[]).collect();
        let mut incident_ids = Vec::with_capacity(incident.len());
        for (e, _) in incident {
            if let Some(r) = gm.edge(e) {
                let t = gm.rel_type_name(r.rel).unwrap_or_default();
                if ctx
                    .deleted_edges
                    .insert(e, std::sync::Arc::from(t))
                    .is_none()
                {
                    incident_ids.push(e);
                }
            }
        }
        // Counted per distinct relationship (a self-loop is listed from both ends).
        ctx.undo.extend(super::undo::node_preimage(gm, n));
        gm.delete_node(n, true)?;
        for e in incident_ids {
            count_edge_delete(ctx, e);
        }
        if ctx.created_nodes.remove(&n) {
            ctx.stats.nodes_created -= 1;
        } else {
            ctx.stats.nodes_deleted += 1;
        }
        ctx.deleted_nodes.insert(n);
    }
    Ok(rows)
}

/// `CREATE INDEX` / `DROP INDEX` on each of `props`.
pub(super) fn index_ddl(
    g: &mut GraphRef<'_>,
    rows: Vec<Row>,
    ctx: &mut Ctx<'_>,
    label: &str,
    props: &[Arc<str>],
    rel: bool,
    drop: bool,
) -> Result<Vec<Row>> {
    let gm = g.get_mut()?;
    for p in props {
        let key = if drop {
            gm.prop_key_id(p)
        } else {
            Some(gm.intern_prop_key(p))
        };
        let entity = match (rel, drop) {
            (false, false) => Some(crate::index::IndexEntity::Label(gm.intern_label(label))),
            (true, false) => Some(crate::index::IndexEntity::RelType(
                gm.intern_rel_type(label),
            )),
            (false, true) => gm.label_id(label).map(crate::index::IndexEntity::Label),
            (true, true) => gm
                .rel_type_id(label)
                .map(crate::index::IndexEntity::RelType),
        };
        let (Some(entity), Some(key)) = (entity, key) else {
            return Err(ExecError::Invalid(format!(
                "Unable to drop index on :{label}({p}): no such index."
            )));
        };
        if drop {
            if !gm.has_index(entity, key) {
                return Err(ExecError::Invalid(format!(
                    "Unable to drop index on :{label}({p}): no such index."
                )));
            }
            if gm.index_supports_constraint(entity, key) {
                return Err(ExecError::Invalid("Index supports constraint".into()));
            }
            gm.drop_index(entity, key)?;
            ctx.undo.push(Mutation::CreateIndex {
                entity,
                key,
                kind: crate::index::IndexKind::Range,
            });
            ctx.stats.indices_deleted += 1;
        } else {
            if gm.has_index(entity, key) {
                return Err(ExecError::Invalid(format!(
                    "Attribute '{p}' is already indexed"
                )));
            }
            gm.create_index(entity, key)?;
            ctx.undo.push(Mutation::DropIndex {
                entity,
                key,
                kind: crate::index::IndexKind::Range,
            });
            ctx.stats.indices_created += 1;
        }
    }
    Ok(rows)
}

/// `CREATE VECTOR INDEX` (`options` set) / `DROP VECTOR INDEX` on `:label(prop)`.
pub(super) fn vector_index_ddl(
    g: &mut GraphRef<'_>,
    rows: Vec<Row>,
    ctx: &mut Ctx<'_>,
    label: &str,
    prop: &str,
    rel: bool,
    options: Option<crate::VectorOptions>,
) -> Result<Vec<Row>> {
    use crate::index::IndexEntity;
    let gm = g.get_mut()?;
    let Some(options) = options else {
        let entity = if rel {
            gm.rel_type_id(label).map(IndexEntity::RelType)
        } else {
            gm.label_id(label).map(IndexEntity::Label)
        };
        let target = entity.zip(gm.prop_key_id(prop));
        let Some((entity, key)) = target.filter(|(e, k)| gm.has_vector_index(*e, *k)) else {
            return Err(ExecError::Invalid(format!(
                "Unable to drop index on :{label}({prop}): no such index."
            )));
        };
        let options = gm.drop_vector_index(entity, key)?;
        ctx.undo.push(Mutation::CreateVectorIndex {
            entity,
            key,
            options,
        });
        ctx.stats.indices_deleted += 1;
        return Ok(rows);
    };
    options
        .validate()
        .map_err(|e| ExecError::Invalid(e.to_string()))?;
    let key = gm.intern_prop_key(prop);
    let entity = if rel {
        IndexEntity::RelType(gm.intern_rel_type(label))
    } else {
        IndexEntity::Label(gm.intern_label(label))
    };
    if gm.has_vector_index(entity, key) {
        return Err(ExecError::Invalid(format!(
            "Attribute '{prop}' is already indexed"
        )));
    }
    gm.create_vector_index(entity, key, options)?;
    ctx.undo.push(Mutation::DropVectorIndex { entity, key });
    ctx.stats.indices_created += 1;
    Ok(rows)
}

/// Counts one relationship deletion, or cancels its creation by this same query.
fn count_edge_delete(ctx: &mut Ctx<'_>, e: crate::ids::EdgeId) {
    if ctx.created_edges.remove(&e) {
        ctx.stats.relationships_created -= 1;
    } else {
        ctx.stats.relationships_deleted += 1;
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
    reject_null: bool,
) -> Result<Vec<(PropKeyId, Value)>> {
    let mut out = Vec::with_capacity(props.len());
    for (k, e) in props {
        let v = storable(eval(g, ctx, row, e)?)?;
        if reject_null && v.is_null() {
            return Err(ExecError::Invalid(format!(
                "Cannot merge node using null property value (key '{k}')"
            )));
        }
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

/// Creates the nodes then the relationships of one row. `merge`: a null property value is an
/// error (MERGE cannot create what it could never match).
pub(super) fn create(
    g: &mut Graph,
    ctx: &mut Ctx<'_>,
    row: &mut Row,
    nodes: &[CreateNode],
    rels: &[CreateRel],
    merge: bool,
) -> Result<()> {
    for n in nodes {
        let labels: Vec<_> = n.labels.iter().map(|l| g.intern_label(l)).collect();
        let props = eval_props(g, ctx, row, &n.props, merge)?;
        ctx.stats.properties_set += props.len() as u64;
        ctx.stats.labels_added += labels.len() as u64;
        let id = g.create_node(&labels, props)?;
        ctx.undo.push(Mutation::DeleteNode { id });
        ctx.deleted_nodes.remove(&id);
        ctx.created_nodes.insert(id);
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
        let props = eval_props(g, ctx, row, &r.props, merge)?;
        ctx.stats.properties_set += props.len() as u64;
        let id = g.create_edge(src, dst, t, props)?;
        ctx.undo.push(Mutation::DeleteEdge { id });
        ctx.deleted_edges.remove(&id);
        ctx.created_edges.insert(id);
        ctx.stats.relationships_created += 1;
        set(row, r.slot, RV::Edge(id));
    }
    Ok(())
}

pub(super) fn set_prop(g: &mut Graph, ctx: &mut Ctx<'_>, row: &Row, it: &SetProp) -> Result<()> {
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
        let old = set_one(g, ctx, target, k, Value::Null)?;
        if old.is_some() {
            ctx.stats.properties_removed += 1;
        }
        return Ok(());
    }
    let k = g.intern_prop_key(key);
    set_one(g, ctx, target, k, value)?;
    ctx.stats.properties_set += 1;
    Ok(())
}

/// Sets one property (Null removes), recording the old value for rollback.
fn set_one(
    g: &mut Graph,
    ctx: &mut Ctx<'_>,
    target: &RV,
    k: PropKeyId,
    value: Value,
) -> Result<Option<Value>> {
    let old = match target {
        RV::Node(n) => {
            let old = g.set_node_property(*n, k, value)?;
            ctx.undo.push(Mutation::SetNodeProps {
                id: *n,
                props: vec![(k, old.clone().unwrap_or(Value::Null))],
            });
            old
        }
        RV::Edge(e) => {
            let old = g.set_edge_property(*e, k, value)?;
            ctx.undo.push(Mutation::SetEdgeProps {
                id: *e,
                props: vec![(k, old.clone().unwrap_or(Value::Null))],
            });
            old
        }
        _ => None,
    };
    Ok(old)
}

/// `SET x = map` / `SET x += map`.
pub(super) fn set_map(
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

pub(super) fn set_labels(
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
    let mut ids: Vec<_> = if remove {
        labels.iter().filter_map(|l| g.label_id(l)).collect()
    } else {
        labels.iter().map(|l| g.intern_label(l)).collect()
    };
    ids.sort_unstable_by_key(|l| l.0);
    ids.dedup();
    // The labels this SET/REMOVE actually changes, for rollback.
    let changed: Vec<_> = ids
        .iter()
        .copied()
        .filter(|l| g.node_has_label(n, *l) == remove)
        .collect();
    if remove {
        ctx.stats.labels_removed += g.remove_labels(n, &ids)? as u64;
        ctx.undo.push(Mutation::AddLabels {
            id: n,
            labels: changed,
        });
    } else {
        ctx.stats.labels_added += g.add_labels(n, &ids)? as u64;
        ctx.undo.push(Mutation::RemoveLabels {
            id: n,
            labels: changed,
        });
    }
    Ok(())
}
