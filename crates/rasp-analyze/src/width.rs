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

use rasp_core::pyops::CmpOp;
use rasp_core::{Atom, Graph, MapOp, NodeId, NodeKind, Predicate, Value};
use std::collections::BTreeMap;

/// The `(or-aggregate, and-aggregate, sel)` triples among `aggregates`.
pub fn selector_width_pairs(graph: &Graph, aggregates: &[NodeId]) -> Vec<(NodeId, NodeId, NodeId)> {
    let mut ors: BTreeMap<(NodeId, NodeId), Vec<NodeId>> = BTreeMap::new();
    let mut ands: BTreeMap<(NodeId, NodeId), Vec<NodeId>> = BTreeMap::new();
    for &a in aggregates {
        let NodeKind::Aggregate { selector, values, default } = graph.kind(a) else { continue };
        match graph.kind(*selector) {
            NodeKind::SelectOr(sel, at0)
                if default.is_none() && is_at_zero(graph, *at0) && is_indicator_of_first(graph, *values) =>
            {
                ors.entry((*sel, *at0)).or_default().push(a);
            }
            NodeKind::SelectAnd(sel, at0)
                if default.as_ref().is_some_and(|d| is_int(d, 0))
                    && is_at_zero(graph, *at0)
                    && matches!(graph.kind(*values), NodeKind::Constant(v) if is_int(v, 1)) =>
            {
                ands.entry((*sel, *at0)).or_default().push(a);
            }
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_)
            | NodeKind::Aggregate { .. } => {}
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

fn is_int(v: &Value, n: i64) -> bool {
    matches!(v, Value::Atom(Atom::Int(x)) if *x == n)
}

/// `select(indices, 0, ==)`
fn is_at_zero(graph: &Graph, s: NodeId) -> bool {
    let Some((key, query, Predicate::Eq)) = graph.kind(s).as_select() else { return false };
    matches!(graph.kind(key), NodeKind::Indices) && matches!(graph.kind(query), NodeKind::Constant(v) if is_int(v, 0))
}

/// `indicator(indices == 0)`
fn is_indicator_of_first(graph: &Graph, v: NodeId) -> bool {
    let Some((MapOp::Indicator, [x])) = graph.kind(v).as_map() else { return false };
    let Some((MapOp::CompareConst { op: CmpOp::Eq, constant, .. }, [i])) = graph.kind(*x).as_map() else {
        return false;
    };
    is_int(constant, 0) && matches!(graph.kind(*i), NodeKind::Indices)
}
