//! `shortestPath` / `allShortestPaths`: breadth-first search over the adjacency between two
//! bound nodes.
//!
//! The BFS records, for every node reached, each (edge, predecessor) that reaches it at its
//! BFS depth; paths are then enumerated backwards from the target. Each node is expanded once,
//! so the search is O(V + E) per source (plus the output for `all`). Paths never revisit a node.
//!
//! When only the length is needed (`length(shortestPath(...))`, see [`length_of_shortest`]),
//! [`shortest_len`] runs a bidirectional BFS over dense, per-thread visited marks instead: no
//! map, no predecessor lists, no path; it also screens out unreachable pairs before the
//! path-building BFS. Both give the same length for every pair (tested on random graphs).

// hashbrown's default hasher: the BFS does a map probe per edge, where SipHash dominated.
use hashbrown::HashMap;

use super::rvalue::Path;
use crate::graph::Graph;
use crate::ids::{Direction, EdgeId, NodeId, RelTypeId};

/// Upper bound on the number of paths `all` returns, so a dense graph cannot blow up memory.
const MAX_PATHS: usize = 100_000;

/// What to search: direction, relationship types (empty = any), hop bounds, one or all.
#[derive(Clone, Copy)]
pub(crate) struct Search<'a> {
    pub dir: Direction,
    pub types: &'a [RelTypeId],
    pub allow_zero: bool,
    pub max: Option<u64>,
    pub all: bool,
}

/// The shortest paths from `src` to `dst` of at most `max` hops (`None` = unbounded); the
/// zero-length path only when `allow_zero`; one path unless `all`.
pub(crate) fn shortest_paths(g: &Graph, src: NodeId, dst: NodeId, s: &Search<'_>) -> Vec<Path> {
    // The cheap bidirectional search first: an unreachable pair (common: a sink source or a
    // source-less target) then costs almost nothing instead of a BFS of the whole component.
    // The paths themselves still come from the one-sided BFS, which fixes which of several
    // shortest paths is returned.
    if src != dst && shortest_len(g, src, dst, s).is_none() {
        return Vec::new();
    }
    bfs_paths(g, src, dst, s)
}

/// [`shortest_paths`] by a BFS from `src` alone.
fn bfs_paths(g: &Graph, src: NodeId, dst: NodeId, s: &Search<'_>) -> Vec<Path> {
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

/// `length(shortestPath(...))` without building the path: when `args` (of a `length` call)
/// is `head(<pattern list of one non-all ShortestPath op projecting its path>)`, as the
/// front-end lowers `length(shortestPath((a)-[..]->(b)))`, returns the call's value computed by
/// [`shortest_len`]; `None` for any other shape (the caller evaluates it generically). The
/// path and relationship slots are local to the pattern list, so nothing else can read them.
pub(super) fn length_of_shortest(
    g: &Graph,
    row: &[super::rvalue::ResultValue],
    args: &[crate::plan::Expr],
) -> Option<super::rvalue::ResultValue> {
    use super::rvalue::{NULL, ResultValue as RV};
    use crate::plan::{Expr, Op};
    let [Expr::Call { name, args }] = args else {
        return None;
    };
    let [Expr::PatternList { ops, projection }] = args.as_slice() else {
        return None;
    };
    let (
        "head",
        [
            Op::ShortestPath {
                from,
                to,
                path,
                types,
                dir,
                min,
                max,
                all: false,
                ..
            },
        ],
        Expr::Slot(p),
    ) = (name.as_str(), ops.as_slice(), &**projection)
    else {
        return None;
    };
    if p != path {
        return None;
    }
    // The batch operator's rules: non-node ends and unknown types give no path (null).
    let (Some(RV::Node(a)), Some(RV::Node(b))) = (row.get(*from), row.get(*to)) else {
        return Some(NULL);
    };
    let type_ids = super::ops::rel_type_ids(g, types);
    if !types.is_empty() && type_ids.is_empty() && a != b {
        return Some(NULL);
    }
    let search = Search {
        dir: *dir,
        types: &type_ids,
        allow_zero: *min == 0,
        max: *max,
        all: false,
    };
    Some(match shortest_len(g, *a, *b, &search) {
        Some(n) => RV::Value(crate::value::Value::Int(i64::try_from(n).ok()?)),
        None => NULL,
    })
}

/// Visited marks of [`shortest_len`], kept per thread so a search allocates nothing once the
/// array has grown to the graph's node capacity. `stamp[n]` is `2 * round` when the forward
/// search reached `n`, `2 * round + 1` when the backward one did; anything below `2 * round` is
/// "not reached" (an older search's mark), so starting a search is O(1).
struct Marks {
    round: u32,
    stamp: Vec<u32>,
}

thread_local! {
    static MARKS: std::cell::RefCell<Marks> = const {
        std::cell::RefCell::new(Marks {
            round: 0,
            stamp: Vec::new(),
        })
    };
}

impl Marks {
    /// Starts a search over `cap` node slots: returns the (forward, backward) stamps.
    fn begin(&mut self, cap: usize) -> (u32, u32) {
        if self.stamp.len() < cap {
            self.stamp.resize(cap, 0);
        }
        if self.round >= u32::MAX / 2 - 1 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.round = 0;
        }
        self.round += 1;
        (self.round * 2, self.round * 2 + 1)
    }
}

/// The length of a shortest path from `src` to `dst` under `s` (`s.all` is ignored): exactly
/// `shortest_paths(g, src, dst, s).first().map(|p| p.edges.len())`, found by a bidirectional
/// BFS that builds no path. Each round expands one whole level of the side whose frontier has
/// the smaller total degree. When the forward side (levels `0..=kf` complete) reaches a node the
/// backward side (levels `0..=kb` complete) reached, the distance is `kf + kb + 1`: no meeting
/// before this round means no path of `kf + kb` hops or fewer, and the node's backward level is
/// at most `kb`. Symmetrically for the backward side. An empty frontier ends the search
/// (unreachable) without exploring the other side's component, which is what makes this cheap
/// for the many random pairs with no path.
pub(crate) fn shortest_len(g: &Graph, src: NodeId, dst: NodeId, s: &Search<'_>) -> Option<u64> {
    if src == dst {
        return s.allow_zero.then_some(0);
    }
    if !g.node_exists(src) || !g.node_exists(dst) {
        return None;
    }
    let cap = usize::try_from(g.node_capacity()).ok()?;
    MARKS.with(|m| match m.try_borrow_mut() {
        Ok(mut m) => bidi(g, src, dst, s, &mut m, cap),
        // Not reentrant today; a nested search would take a private array.
        Err(_) => bidi(
            g,
            src,
            dst,
            s,
            &mut Marks {
                round: 0,
                stamp: Vec::new(),
            },
            cap,
        ),
    })
}

fn bidi(
    g: &Graph,
    src: NodeId,
    dst: NodeId,
    s: &Search<'_>,
    m: &mut Marks,
    cap: usize,
) -> Option<u64> {
    let (fwd_stamp, bwd_stamp) = m.begin(cap);
    let stamp = &mut m.stamp;
    *stamp.get_mut(usize::try_from(src.0).ok()?)? = fwd_stamp;
    *stamp.get_mut(usize::try_from(dst.0).ok()?)? = bwd_stamp;
    let (fdir, bdir) = (s.dir, s.dir.reverse());
    let mut fwd = vec![src];
    let mut bwd = vec![dst];
    let mut fdeg = g.degree(src, fdir, s.types);
    let mut bdeg = g.degree(dst, bdir, s.types);
    let (mut kf, mut kb) = (0u64, 0u64);
    let mut next: Vec<NodeId> = Vec::new();
    loop {
        if fdeg == 0 || bdeg == 0 || s.max.is_some_and(|m| kf + kb >= m) {
            return None;
        }
        let forward = fdeg <= bdeg;
        let (front, dir, mine, theirs) = if forward {
            (&fwd, fdir, fwd_stamp, bwd_stamp)
        } else {
            (&bwd, bdir, bwd_stamp, fwd_stamp)
        };
        next.clear();
        let mut deg = 0u64;
        for &n in front {
            for (_, nbr) in g.neighbors(n, dir, s.types) {
                let Some(mark) = usize::try_from(nbr.0).ok().and_then(|i| stamp.get_mut(i)) else {
                    continue;
                };
                if *mark == theirs {
                    return Some(kf + kb + 1);
                }
                if *mark != mine {
                    *mark = mine;
                    next.push(nbr);
                    deg += g.degree(nbr, dir, s.types);
                }
            }
        }
        if forward {
            std::mem::swap(&mut fwd, &mut next);
            fdeg = deg;
            kf += 1;
        } else {
            std::mem::swap(&mut bwd, &mut next);
            bdeg = deg;
            kb += 1;
        }
    }
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

    /// A seeded random graph: `n` nodes (one deleted), two relationship types, self-loops,
    /// parallel edges, part compacted into the CSR, part in the delta, some edges deleted.
    fn random_graph(seed: u64, n: usize, m: usize) -> Graph {
        let mut g = Graph::new();
        let ts = [g.intern_rel_type("A"), g.intern_rel_type("B")];
        let nodes: Vec<NodeId> = (0..n)
            .filter_map(|_| g.create_node(&[], Vec::new()).ok())
            .collect();
        let mut x = seed | 1;
        let mut rnd = |k: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % k as u64) as usize
        };
        let mut edges = Vec::new();
        for i in 0..m {
            let (a, b) = (nodes[rnd(n)], nodes[rnd(n)]);
            if let Ok(e) = g.create_edge(a, b, ts[rnd(2)], Vec::new()) {
                edges.push(e);
            }
            if i == m / 2 {
                g.compact_all();
            }
        }
        for _ in 0..m / 8 {
            let e = edges[rnd(edges.len())];
            g.delete_edge(e).ok();
        }
        g.delete_node(nodes[n - 1], true).ok();
        g
    }

    /// The bidirectional length search against the BFS's path, on every pair of random graphs.
    #[test]
    fn shortest_len_matches_bfs_paths() {
        let mut checked = 0;
        for seed in 1..=12u64 {
            let (n, m) = (6 + (seed as usize % 5) * 4, 10 + seed as usize * 6);
            let g = random_graph(seed, n, m);
            let typesets: [Vec<RelTypeId>; 3] = [
                Vec::new(),
                vec![RelTypeId(0)],
                vec![RelTypeId(1), RelTypeId(0)],
            ];
            for dir in [Direction::Out, Direction::In, Direction::Both] {
                for types in &typesets {
                    for (allow_zero, max) in [
                        (false, None),
                        (true, None),
                        (false, Some(2)),
                        (true, Some(1)),
                    ] {
                        let s = Search {
                            dir,
                            types,
                            allow_zero,
                            max,
                            all: false,
                        };
                        for a in 0..n as u64 + 1 {
                            for b in 0..n as u64 + 1 {
                                let (a, b) = (NodeId(a), NodeId(b));
                                let want = bfs_paths(&g, a, b, &s)
                                    .first()
                                    .map(|p| p.edges.len() as u64);
                                assert_eq!(
                                    shortest_len(&g, a, b, &s),
                                    want,
                                    "seed {seed} {a:?}->{b:?} {dir:?} {types:?} {max:?}"
                                );
                                checked += usize::from(want.is_some());
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "too few reachable pairs: {checked}");
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
