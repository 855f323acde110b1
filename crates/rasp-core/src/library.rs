//! Recognising the standard library's constructions in a graph, for the
//! stages that compute them another way (the fast engine counts a
//! `selector_width` directly, the analysis gives it one head with a BOS,
//! the compiler gives it one head with its start token).
//!
//! The library builds `selector_width(sel)` (semantics.md §2.2, §5) as
//!
//! ```text
//! at0 = select(indices, 0, ==);
//! inverted = aggregate(sel or at0, indicator(indices == 0));
//! valat0 = aggregate(sel and at0, 1, 0);
//! round((1 / inverted) - 1 + valat0)
//! ```
//!
//! `inverted` is 1/(w + 1), or 1/w when `sel` selects position 0, and
//! `valat0` is 1 exactly when it does.

use crate::atom::Atom;
use crate::graph::{Graph, MapOp, NodeId, NodeKind, Predicate};
use crate::pyops::{ArithOp, CmpOp};
use crate::value::Value;

/// The parts of a library `selector_width(selector)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryWidth {
    /// `sel`.
    pub selector: NodeId,
    /// `select(indices, 0, ==)`.
    pub at0: NodeId,
    /// `aggregate(sel or at0, indicator(indices == 0))`.
    pub inverted: NodeId,
    /// `aggregate(sel and at0, 1, 0)`.
    pub at_zero: NodeId,
}

/// Whether `selector` is `select(indices, 0, ==)`: the library's `at0`.
pub fn is_select_at_zero(graph: &Graph, selector: NodeId) -> bool {
    matches!(graph.kind(selector), NodeKind::Select { key, query, predicate: Predicate::Eq }
        if matches!(graph.kind(*key), NodeKind::Indices)
            && matches!(graph.kind(*query), NodeKind::Constant(c) if is_int(c, 0)))
}

/// Whether `values` is `indicator(indices == 0)`.
pub fn is_indicator_of_first(graph: &Graph, values: NodeId) -> bool {
    let Some((MapOp::Indicator, &[compared])) = graph.kind(values).as_map() else { return false };
    let Some((MapOp::CompareConst { op: CmpOp::Eq, constant, constant_on_left: false }, &[indices])) =
        graph.kind(compared).as_map()
    else {
        return false;
    };
    is_int(constant, 0) && matches!(graph.kind(indices), NodeKind::Indices)
}

/// `aggregate` as the library's `inverted`: `(sel, at0)` when it is
/// `aggregate(sel or at0, indicator(indices == 0))`.
pub fn as_inverted_width(graph: &Graph, aggregate: NodeId) -> Option<(NodeId, NodeId)> {
    let NodeKind::Aggregate { selector, values, default: None } = graph.kind(aggregate) else { return None };
    let &NodeKind::SelectOr(sel, at0) = graph.kind(*selector) else { return None };
    (is_select_at_zero(graph, at0) && is_indicator_of_first(graph, *values)).then_some((sel, at0))
}

/// `aggregate` as the library's `valat0`: `(sel, at0)` when it is
/// `aggregate(sel and at0, 1, 0)`.
pub fn as_selects_first(graph: &Graph, aggregate: NodeId) -> Option<(NodeId, NodeId)> {
    let NodeKind::Aggregate { selector, values, default: Some(zero) } = graph.kind(aggregate) else { return None };
    let &NodeKind::SelectAnd(sel, at0) = graph.kind(*selector) else { return None };
    let counts_one = matches!(graph.kind(*values), NodeKind::Constant(c) if is_int(c, 1)) && is_int(zero, 0);
    (counts_one && is_select_at_zero(graph, at0)).then_some((sel, at0))
}

/// `id` as the library's `selector_width(sel)`, exactly as the library
/// builds it (any other shape, even one computing the same, is `None`).
///
/// Its value is |sel| on every input, as an int: position 0 is always
/// visible (under every mask), so `inverted` is 1/m with m = |sel ∪ {0}| ≥ 1
/// and never 0; `valat0` is the int 1 if `sel` selects position 0, else 0;
/// and 1/(1/m) differs from m by a rounding error far below 0.5 for any
/// length an input may have, so `round` gives m − 1 + valat0 = |sel|.
/// Nothing in it can raise that `sel` itself does not.
pub fn library_width(graph: &Graph, id: NodeId) -> Option<LibraryWidth> {
    let map = |id: NodeId| graph.kind(id).as_map();
    let single = |id: NodeId, want: &dyn Fn(&MapOp) -> bool| match map(id) {
        Some((op, &[input])) if want(op) => Some(input),
        _ => None,
    };
    let sum = single(id, &|op| matches!(op, MapOp::Round))?;
    let (MapOp::Arith(ArithOp::Add), &[except0, valat0]) = map(sum)? else { return None };
    let reciprocal = single(
        except0,
        &|op| matches!(op, MapOp::ArithConst { op: ArithOp::Sub, constant, constant_on_left: false } if is_int(constant, 1)),
    )?;
    let inverted = single(
        reciprocal,
        &|op| matches!(op, MapOp::ArithConst { op: ArithOp::Div, constant, constant_on_left: true } if is_int(constant, 1)),
    )?;
    let (selector, at0) = as_inverted_width(graph, inverted)?;
    (as_selects_first(graph, valat0)? == (selector, at0) && graph.is_selector(selector)).then_some(LibraryWidth {
        selector,
        at0,
        inverted,
        at_zero: valat0,
    })
}

fn is_int(value: &Value, wanted: i64) -> bool {
    matches!(value, Value::Atom(Atom::Int(v)) if *v == wanted)
}
