//! `shortestPath` / `allShortestPaths`: breadth-first search over the adjacency between two
//! bound nodes.
//!
//! The BFS records, for every node reached, each (edge, predecessor) that reaches it at its
//! BFS depth; paths are then enumerated backwards from the target. Each node is expanded once,
//! so the search is O(V + E) per source (plus the output for `all`). Paths never revisit a node.

// hashbrown's default hasher: the BFS does a map probe per edge, where SipHash dominated.
use hashbrown::HashMap;

use super::rvalue::Path;
use crate::graph::Graph;
use crate::ids::{Direction, EdgeId, NodeId, RelTypeId};

/// Upper bound on the number of paths `all` returns, so a dense graph cannot blow up memory.
const MAX_PATHS: usize = 100_000;

/// The shortest paths from `src` to `dst` of at most `max` hops (`None` = unbounded); the
/// zero-length path only when `allow_zero`; one path unless `all`.
/// What to search: direction, relationship types (empty = any), hop bounds, one or all.
#[derive(Clone, Copy)]
pub(crate) struct Search<'a> {
    pub dir: Direction,
    pub types: &'a [RelTypeId],
    pub allow_zero: bool,
    pub max: Option<u64>,
    pub all: bool,
}

pub(crate) fn shortest_paths(g: &Graph, src: NodeId, dst: NodeId, s: &Search<'_>) -> Vec<Path> {
    let Search {
        dir,
        types,
        allow_zero,
        max,
        all,
    } = *s;
    if src == dst {
        // A path to itself is the zero-length path, or none (cycles are not shortest paths).
        return if allow_zero {
            vec![Path {
                nodes: vec![src],
                edges: Vec::new(),
            }]
        } else {
            Vec::new()
        };
    }
    // depth[n] = BFS level where n was first reached; preds[n] = every (edge, node at level
    // depth[n] - 1) reaching it, so each predecessor chain from dst leads back to src.
    let mut depth: HashMap<NodeId, u64> = HashMap::new();
    let mut preds: HashMap<NodeId, Vec<(EdgeId, NodeId)>> = HashMap::new();
    depth.insert(src, 0);
    let mut frontier = vec![src];
    let mut level = 0u64;
    while !frontier.is_empty() && !depth.contains_key(&dst) && max.is_none_or(|m| level < m) {
        level += 1;
        let mut next = Vec::new();
        for &n in &frontier {
            for (e, nbr) in g.neighbors(n, dir, types) {
                match depth.get(&nbr) {
                    None => {
                        depth.insert(nbr, level);
                        next.push(nbr);
                        preds.entry(nbr).or_default().push((e, n));
                    }
                    Some(d) if *d == level => preds.entry(nbr).or_default().push((e, n)),
                    Some(_) => {}
                }
            }
        }
        frontier = next;
    }
    if !depth.contains_key(&dst) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut stack: Vec<(NodeId, Vec<EdgeId>, Vec<NodeId>)> = vec![(dst, Vec::new(), vec![dst])];
    while let Some((n, edges, nodes)) = stack.pop() {
        if n == src {
            debug_assert_eq!(edges.len() as u64, level, "predecessor chain length");
            let (mut nodes, mut edges) = (nodes, edges);
            nodes.reverse();
            edges.reverse();
            out.push(Path { nodes, edges });
            if !all || out.len() >= MAX_PATHS {
                break;
            }
            continue;
        }
        for (e, p) in preds.get(&n).into_iter().flatten() {
            let mut ed = edges.clone();
            ed.push(*e);
            let mut nd = nodes.clone();
            nd.push(*p);
            stack.push((*p, ed, nd));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(
        g: &Graph,
        a: NodeId,
        b: NodeId,
        dir: Direction,
        allow_zero: bool,
        max: Option<u64>,
        all: bool,
    ) -> Vec<Path> {
        let s = Search {
            dir,
            types: &[],
            allow_zero,
            max,
            all,
        };
        shortest_paths(g, a, b, &s)
    }

    /// a→b→d, a→c→d, a→d2→x (d2 unrelated): two shortest a..d paths of length 2.
    #[test]
    fn finds_one_or_all_shortest_paths() {
        let mut g = Graph::new();
        let t = g.intern_rel_type("T");
        let n: Vec<NodeId> = (0..5)
            .filter_map(|_| g.create_node(&[], Vec::new()).ok())
            .collect();
        let (a, b, c, d, x) = (n[0], n[1], n[2], n[3], n[4]);
        for (s, e) in [(a, b), (b, d), (a, c), (c, d), (d, x)] {
            assert!(g.create_edge(s, e, t, Vec::new()).is_ok());
        }
        let one = sp(&g, a, d, Direction::Out, false, None, false);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].edges.len(), 2);
        assert_eq!(one[0].nodes.first(), Some(&a));
        assert_eq!(one[0].nodes.last(), Some(&d));
        let all = sp(&g, a, d, Direction::Out, false, None, true);
        assert_eq!(all.len(), 2);
        let far = sp(&g, a, x, Direction::Out, false, None, true);
        assert_eq!(far.len(), 2);
        assert!(far.iter().all(|p| p.edges.len() == 3));
        assert!(sp(&g, a, x, Direction::Out, false, Some(2), true).is_empty());
        assert!(sp(&g, x, a, Direction::Out, false, None, true).is_empty());
        assert_eq!(sp(&g, x, a, Direction::Both, false, None, true).len(), 2);
        let zero = sp(&g, a, a, Direction::Out, true, None, false);
        assert_eq!(zero.len(), 1);
        assert!(zero[0].edges.is_empty());
    }
}
