//! Depth: the earliest layer a node can be computed in (semantics.md §4).

use rasp_core::{Graph, NodeId, NodeKind};
use std::collections::BTreeMap;

/// The depth of `root` and every node it reads, as the reference computes
/// it (`min_poss_depth`):
///
/// * `tokens*`, `indices`, constants: 0;
/// * elementwise (MLP): the largest depth of its inputs (an MLP runs after
///   the attention of its layer, so it never adds a layer);
/// * `select(key, query, op)`: 1 + the larger depth of key and query (the
///   attention of a layer can only read what earlier layers computed);
/// * `and`/`or`/`not` of selectors: the largest depth of their parts, which
///   is 1 + the largest depth of every key and query they combine (the
///   reference rebuilds them as one `select` over all of those);
/// * the shared `full average` selector of `atom in s-op`: 1;
/// * `aggregate(sel, values)`: the larger of 1 + depth(values) and
///   depth(sel).
pub fn depths(graph: &Graph, root: NodeId) -> BTreeMap<NodeId, usize> {
    let mut depth: BTreeMap<NodeId, usize> = BTreeMap::new();
    // Ancestors come in id order, which is topological: inputs first.
    for id in graph.ancestors(root) {
        let of = |n: &NodeId| depth.get(n).copied().unwrap_or(0);
        let d = match graph.kind(id) {
            NodeKind::Tokens(_) | NodeKind::Indices | NodeKind::Constant(_) => 0,
            NodeKind::Map { inputs, .. } => inputs.iter().map(of).max().unwrap_or(0),
            NodeKind::Select { key, query, .. } => 1 + of(key).max(of(query)),
            NodeKind::SelectAll => 1,
            NodeKind::SelectAnd(a, b) | NodeKind::SelectOr(a, b) => of(a).max(of(b)),
            NodeKind::SelectNot(a) => of(a),
            NodeKind::Aggregate { selector, values, .. } => (1 + of(values)).max(of(selector)),
        };
        depth.insert(id, d);
    }
    depth
}
