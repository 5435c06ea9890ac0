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
