//! Write-query rollback by an undo log: before each graph mutation the executor records the
//! [`Mutation`] that reverses it (with the pre-image it needs: a deleted entity's labels,
//! properties and endpoints, a property's old value, the labels a SET/REMOVE actually
//! changed). A failed query replays the log backwards through [`Graph::apply`], which costs
//! O(mutations) instead of the O(graph) copy it replaces.
//!
//! Invariants: entries are pushed in mutation order, and each is valid against the graph
//! state right after its mutation, so applying them newest-first walks the graph back through
//! every intermediate state to the one before the query. Ids are restored exactly (a deleted
//! node or relationship is re-created at its own id). Schema names interned by the failed
//! query are NOT removed (ids of names are append-only); the caller keeps their mutation
//! records so a WAL stays replayable.

use crate::graph::{Graph, GraphError};
use crate::ids::{Direction, EdgeId, LabelId, NodeId};
use crate::mutation::Mutation;

/// The record that re-creates relationship `e` as it is now (`None` if it does not exist).
pub(crate) fn edge_preimage(g: &Graph, e: EdgeId) -> Option<Mutation> {
    let r = g.edge(e)?;
    Some(Mutation::CreateEdge {
        id: e,
        src: r.src,
        dst: r.dst,
        rel: r.rel,
        props: g
            .edge_props(e)
            .map(|p| p.iter().map(|(k, v)| (k, v.clone())).collect())
            .unwrap_or_default(),
    })
}

/// The records that re-create node `n` and then its relationships, as they are now, in the
/// order they must be pushed (relationships are deleted before the node, so they are undone
/// after it).
pub(crate) fn node_preimage(g: &Graph, n: NodeId) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (e, _) in g.neighbors(n, Direction::Both, &[]) {
        // A self-loop is listed from both ends.
        if seen.insert(e)
            && let Some(m) = edge_preimage(g, e)
        {
            out.push(m);
        }
    }
    out.push(Mutation::CreateNode {
        id: n,
        labels: g
            .node_labels(n)
            .map(<[LabelId]>::to_vec)
            .unwrap_or_default(),
        props: g
            .node_props(n)
            .map(|p| p.iter().map(|(k, v)| (k, v.clone())).collect())
            .unwrap_or_default(),
    });
    out
}

/// Applies the undo log newest-first, with mutation recording off.
pub(crate) fn rollback(g: &mut Graph, undo: Vec<Mutation>) -> Result<(), GraphError> {
    let recording = g.is_recording();
    g.set_recording(false);
    let mut res = Ok(());
    for m in undo.into_iter().rev() {
        if let Err(e) = g.apply(&m) {
            debug_assert!(false, "undo record failed: {m:?}: {e}");
            res = Err(e);
            break;
        }
    }
    g.set_recording(recording);
    res
}

/// The records that reverse `m` if it is applied to `g` as it is now: `Some(vec![])` when `m`
/// needs no reversal (schema names are append-only), `None` when this module cannot reverse it
/// (the caller then falls back to copying the graph).
fn inverse_of(g: &Graph, m: &Mutation) -> Option<Vec<Mutation>> {
    let old_props = |cur: Option<&crate::PropMap>, props: &[(crate::PropKeyId, crate::Value)]| {
        props
            .iter()
            .map(|(k, _)| {
                let old = cur.and_then(|p| p.get(*k)).cloned();
                (*k, old.unwrap_or(crate::Value::Null))
            })
            .collect::<Vec<_>>()
    };
    Some(match m {
        Mutation::AddLabel { .. } | Mutation::AddRelType { .. } | Mutation::AddPropKey { .. } => {
            Vec::new()
        }
        Mutation::CreateNode { id, .. } => vec![Mutation::DeleteNode { id: *id }],
        // A node is deleted once its edges are gone: its pre-image is the node alone.
        Mutation::DeleteNode { id } => node_preimage(g, *id),
        Mutation::CreateEdge { id, .. } => vec![Mutation::DeleteEdge { id: *id }],
        Mutation::DeleteEdge { id } => edge_preimage(g, *id).into_iter().collect(),
        Mutation::SetNodeProps { id, props } => vec![Mutation::SetNodeProps {
            id: *id,
            props: old_props(g.node_props(*id), props),
        }],
        Mutation::SetEdgeProps { id, props } => vec![Mutation::SetEdgeProps {
            id: *id,
            props: old_props(g.edge_props(*id), props),
        }],
        Mutation::AddLabels { id, labels } => {
            let has = g.node_labels(*id).unwrap_or(&[]);
            let added: Vec<LabelId> = labels
                .iter()
                .filter(|l| !has.contains(l))
                .copied()
                .collect();
            vec![Mutation::RemoveLabels {
                id: *id,
                labels: added,
            }]
        }
        Mutation::RemoveLabels { id, labels } => {
            let has = g.node_labels(*id).unwrap_or(&[]);
            let gone: Vec<LabelId> = labels.iter().filter(|l| has.contains(l)).copied().collect();
            vec![Mutation::AddLabels {
                id: *id,
                labels: gone,
            }]
        }
        Mutation::CreateIndex { entity, key, kind } if !g.has_index(*entity, *key) => {
            vec![Mutation::DropIndex {
                entity: *entity,
                key: *key,
                kind: *kind,
            }]
        }
        Mutation::DropIndex { entity, key, kind } if g.has_index(*entity, *key) => {
            vec![Mutation::CreateIndex {
                entity: *entity,
                key: *key,
                kind: *kind,
            }]
        }
        _ => return None,
    })
}

impl Graph {
    /// Applies a mutation batch all or nothing (GRAPH.EFFECT, WAL replay): on the first
    /// failing record the records already applied are reversed, in O(batch) rather than the
    /// O(graph) copy a backup would cost. Schema names the batch added stay (append-only).
    /// A record this module cannot reverse makes it copy the graph once, there.
    pub fn apply_batch(&mut self, batch: &[Mutation]) -> Result<(), GraphError> {
        let mut undo = Vec::new();
        let mut backup = None;
        for m in batch {
            let mut inverse = None;
            if backup.is_none() {
                inverse = inverse_of(self, m);
                if inverse.is_none() {
                    backup = Some(self.copy());
                }
            }
            let applied = self.apply(m);
            if applied.is_ok() {
                undo.extend(inverse.into_iter().flatten());
            }
            if let Err(e) = applied {
                // The backup is the state after the records the undo log covers.
                if let Some(b) = backup {
                    *self = b;
                }
                rollback(self, undo)?;
                return Err(e);
            }
        }
        Ok(())
    }
}
