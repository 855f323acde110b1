//! Recognising the library's `selector_width(sel)` in the graph.
//!
//! The library (semantics.md §2.2, §5) builds, for `at0 = select(indices,0,==)`:
//!
//! * `aggregate(sel or at0, indicator(indices==0))`: 1/(w+1), or 1/w when
//!   `sel` itself selects position 0;
//! * `aggregate(sel and at0, 1, 0)`: 1 exactly when `sel` selects position 0.
//!
//! With a BOS token at position 0 that `sel` never selects, the first alone
//! gives the width, so the pair costs one head (the paper's count).

use rasp_core::{Graph, NodeId, as_inverted_width, as_selects_first};
use std::collections::BTreeMap;

/// The `(or-aggregate, and-aggregate, sel)` triples among `aggregates`.
pub fn selector_width_pairs(graph: &Graph, aggregates: &[NodeId]) -> Vec<(NodeId, NodeId, NodeId)> {
    let mut ors: BTreeMap<(NodeId, NodeId), Vec<NodeId>> = BTreeMap::new();
    let mut ands: BTreeMap<(NodeId, NodeId), Vec<NodeId>> = BTreeMap::new();
    for &a in aggregates {
        if let Some(parts) = as_inverted_width(graph, a) {
            ors.entry(parts).or_default().push(a);
        } else if let Some(parts) = as_selects_first(graph, a) {
            ands.entry(parts).or_default().push(a);
        }
    }
    let mut pairs = Vec::new();
    for (key, or_aggregates) in ors {
        if let Some(and_aggregates) = ands.get(&key) {
            for (o, a) in or_aggregates.iter().zip(and_aggregates) {
                pairs.push((*o, *a, key.0));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}
