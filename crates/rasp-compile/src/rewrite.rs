//! Rewrites of the program graph before planning, where the program as
//! written would need tables too large to build.
//!
//! One rewrite: the width of a comparison of keys that order positions
//! lexicographically. tracr's `make_sort` makes its keys unique with
//! `keys + min_key * indices / max_seq_len`, and `make_sort_freq` sorts by
//! `-hist` that way: `select(k, k, <)` then compares (hist, position)
//! pairs, 4,096 distinct keys at length 64. One attention head scoring that
//! comparison needs a one-hot over every key (the selector's joint table),
//! and the head cannot be split into scores over the two parts, because a
//! sum of per-part scores is not constant over the selected keys. But the
//! selected keys fall into two disjoint sets, a strictly smaller major part,
//! or an equal major part and a smaller minor part, and a width is a count:
//!
//! width(k < q) = width(major(k) < major(q))
//!              + width(major(k) == major(q) and minor(k) < minor(q))
//!
//! Each term is a selector over one-hots of 64 values. The rewrite adds
//! the two widths, each computed by the library's own formula, and their
//! sum in place of the original width; the s-ops reading the width are
//! copied to read the sum. Nothing is assumed about the map that makes the
//! keys: the lexicographic order is checked on every pair of part values
//! the value sets allow, and the width formula on every width the length
//! allows.

use crate::infer::Inference;
use crate::values::{apply, number};
use rasp_core::pyops::ArithOp;
use rasp_core::{Atom, Graph, MapOp, NodeId, NodeKind, Predicate, Value, as_inverted_width, as_selects_first};
use std::collections::HashMap;

/// Keys with more values than this are split; below it the selector's joint
/// table is small, and the width keeps its single pair of heads.
pub const SPLIT_KEYS_ABOVE: usize = 1024;

/// Most maps between a width and its two aggregates (the library uses four).
const MAX_WIDTH_MAPS: usize = 8;

/// The program after a rewrite: a copy of the caller's graph with nodes
/// appended, so every node the rewrite left alone keeps its id.
pub struct Rewritten {
    pub graph: Graph,
    pub root: NodeId,
    /// For each appended node that stands for a caller's node (a copy, or
    /// the sum in place of a width), that node: the id model.json names it
    /// by, so that a tool reading the model next to the program finds it.
    pub origin: HashMap<NodeId, NodeId>,
    /// One line per rewrite for the compile report.
    pub notes: Vec<String>,
}

/// The library's `selector_width(sel)`: `width` is computed by maps alone
/// from `inverted = aggregate(sel or at0, indicator(indices == 0))` and
/// `at_zero = aggregate(sel and at0, 1, 0)`.
pub struct MatchedWidth {
    width: NodeId,
    /// `sel`.
    pub selector: NodeId,
    at0: NodeId,
    inverted: NodeId,
    at_zero: NodeId,
    /// The maps from the two aggregates to `width`, in id order.
    chain: Vec<NodeId>,
}

/// A comparison `select(k, k, op)` whose key is `f(major, minor)` with f
/// ordering pairs lexicographically.
struct Lexicographic {
    major: NodeId,
    minor: NodeId,
    /// The predicate on the major parts that selects a strictly smaller
    /// (or greater) key: `<` or `>`.
    across: Predicate,
    /// The predicate on the minor parts among equal major parts.
    within: Predicate,
}

/// Rewrites every selector width over a lexicographic comparison with more
/// than [`SPLIT_KEYS_ABOVE`] keys; `None` when there is none.
pub fn split_lexicographic_widths(
    graph: &Graph,
    root: NodeId,
    nodes: &[NodeId],
    inference: &Inference,
) -> Option<Rewritten> {
    let mut found: Vec<(MatchedWidth, Lexicographic)> = Vec::new();
    for &id in nodes {
        let Some(width) = library_width(graph, id, inference.n_pos) else { continue };
        let Some(split) = lexicographic(graph, width.selector, inference) else { continue };
        found.push((width, split));
    }
    if found.is_empty() {
        return None;
    }
    let mut out = graph.clone();
    let mut renamed: HashMap<NodeId, NodeId> = HashMap::new();
    let mut origin = HashMap::new();
    let mut notes = Vec::new();
    for (width, split) in &found {
        let strictly =
            out.add(NodeKind::Select { key: split.major, query: split.major, predicate: split.across }, "sel", false);
        let equal =
            out.add(NodeKind::Select { key: split.major, query: split.major, predicate: Predicate::Eq }, "sel", false);
        let minor =
            out.add(NodeKind::Select { key: split.minor, query: split.minor, predicate: split.within }, "sel", false);
        let tied = out.add(NodeKind::SelectAnd(equal, minor), "sel", false);
        let parts = [strictly, tied].map(|part| copy_width(&mut out, graph, width, part));
        let sum = out.add(
            NodeKind::Map { op: MapOp::Arith(ArithOp::Add), inputs: parts.to_vec() },
            graph.name(width.width),
            graph.node(width.width).named,
        );
        renamed.insert(width.width, sum);
        // The sum has the width's value: model.json names it by the width.
        origin.insert(sum, width.width);
        notes.push(format!(
            "selector_width({}): {} keys, split into two widths of {} {} and of {} {} among equal ones",
            rasp_core::readable_name(graph, width.selector),
            inference.values(key_of(graph, width.selector)).len(),
            rasp_core::readable_name(graph, split.major),
            split.across.symbol(),
            rasp_core::readable_name(graph, split.minor),
            split.within.symbol(),
        ));
    }
    // Everything downstream of a replaced width is copied to read the sum;
    // ids are a topological order, so one pass in id order sees every input
    // before its readers.
    for &id in nodes {
        if renamed.contains_key(&id) {
            continue;
        }
        let kind = graph.kind(id);
        if !kind.inputs().iter().any(|i| renamed.contains_key(i)) {
            continue;
        }
        let copy = out.add_copy(graph.node(id), kind.with_inputs(|i| renamed.get(&i).copied().unwrap_or(i)));
        renamed.insert(id, copy);
        origin.insert(copy, id);
    }
    let root = renamed.get(&root).copied().unwrap_or(root);
    Some(Rewritten { graph: out, root, origin, notes })
}

/// The width formula's copy over `selector`: the library's two aggregates
/// and the maps that combine them, as in `width`.
fn copy_width(out: &mut Graph, graph: &Graph, width: &MatchedWidth, selector: NodeId) -> NodeId {
    let mut renamed: HashMap<NodeId, NodeId> = HashMap::new();
    let or_first = out.add(NodeKind::SelectOr(selector, width.at0), "sel", false);
    let and_first = out.add(NodeKind::SelectAnd(selector, width.at0), "sel", false);
    for (aggregate, selects) in [(width.inverted, or_first), (width.at_zero, and_first)] {
        let NodeKind::Aggregate { values, default, .. } = graph.kind(aggregate) else { continue };
        let copy = out.add(
            NodeKind::Aggregate { selector: selects, values: *values, default: default.clone() },
            graph.name(aggregate),
            false,
        );
        renamed.insert(aggregate, copy);
    }
    let mut last = width.width;
    for &id in &width.chain {
        let kind = graph.kind(id).with_inputs(|i| renamed.get(&i).copied().unwrap_or(i));
        last = out.add(kind, graph.name(id), false);
        renamed.insert(id, last);
    }
    last
}

/// `id` as the library's selector_width, checked: the shapes of the two
/// aggregates (as `rasp_core::library_width` reads them), and the maps from
/// them giving w for every width w the length allows (with and without
/// position 0 selected), whatever maps they are.
pub fn library_width(graph: &Graph, id: NodeId, n_pos: usize) -> Option<MatchedWidth> {
    graph.kind(id).as_map()?;
    // The maps between `id` and the aggregates, and the aggregates.
    let mut chain = Vec::new();
    let mut leaves = Vec::new();
    let mut stack = vec![id];
    while let Some(node) = stack.pop() {
        if chain.contains(&node) || leaves.contains(&node) {
            continue;
        }
        match graph.kind(node) {
            // The library's formula takes four maps; a long chain of maps
            // (every node of which this is asked about) is something else.
            NodeKind::Map { .. } if chain.len() >= MAX_WIDTH_MAPS => return None,
            NodeKind::Map { inputs, .. } => {
                chain.push(node);
                stack.extend(inputs.iter().copied());
            }
            NodeKind::Constant(_) => {}
            NodeKind::Aggregate { .. } => leaves.push(node),
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_) => return None,
        }
    }
    chain.sort_unstable();
    let [first, second] = leaves[..] else { return None };
    let (inverted, at_zero) = if as_inverted_width(graph, first).is_some() { (first, second) } else { (second, first) };
    let (selector, at0) = as_inverted_width(graph, inverted)?;
    if as_selects_first(graph, at_zero)? != (selector, at0) {
        return None;
    }
    // inverted = 1 / |sel ∪ {0}| and at_zero = [0 ∈ sel]: the maps must
    // turn them into |sel| for every size the length allows.
    for w in 0..=n_pos {
        for at_first in 0..=usize::from(w >= 1) {
            let inputs = HashMap::from([
                (inverted, Atom::Float(1.0 / (w + 1 - at_first) as f64)),
                (at_zero, Atom::Int(at_first as i64)),
            ]);
            let value = evaluate(graph, id, &inputs)?;
            if number(&value) != Some(w as f64) {
                return None;
            }
        }
    }
    Some(MatchedWidth { width: id, selector, at0, inverted, at_zero, chain })
}

/// The value of a map of `inputs` (and constants) at one position.
fn evaluate(graph: &Graph, id: NodeId, inputs: &HashMap<NodeId, Atom>) -> Option<Atom> {
    if let Some(a) = inputs.get(&id) {
        return Some(a.clone());
    }
    match graph.kind(id) {
        NodeKind::Constant(Value::Atom(a)) => Some(a.clone()),
        NodeKind::Map { op, inputs: args } => {
            let columns: Option<Vec<Vec<Atom>>> =
                args.iter().map(|&i| evaluate(graph, i, inputs).map(|a| vec![a])).collect();
            apply(op, &columns?).pop().flatten()
        }
        _ => None,
    }
}

/// The key a `select(k, k, op)` compares.
fn key_of(graph: &Graph, selector: NodeId) -> NodeId {
    graph.kind(selector).as_select().map_or(selector, |(key, _, _)| key)
}

/// `selector` as a lexicographic comparison worth splitting: `select(k, k,
/// op)`, op an ordering, k = f(x, y) of two numeric s-ops with more than
/// [`SPLIT_KEYS_ABOVE`] values, and f ordering (x, y) pairs by one part
/// first and the other among ties, on every pair the value sets allow.
fn lexicographic(graph: &Graph, selector: NodeId, inference: &Inference) -> Option<Lexicographic> {
    let (key, query, predicate) = graph.kind(selector).as_select()?;
    let strict = match predicate {
        Predicate::Lt | Predicate::Le => Predicate::Lt,
        Predicate::Gt | Predicate::Ge => Predicate::Gt,
        Predicate::Eq | Predicate::Ne => return None,
    };
    if key != query || inference.values(key).len() <= SPLIT_KEYS_ABOVE {
        return None;
    }
    let (op, &[x, y]) = graph.kind(key).as_map()? else { return None };
    if x == y || graph.is_selector(x) || graph.is_selector(y) {
        return None;
    }
    // The parts' values, ascending (value sets are sorted) and numeric.
    let xs: Vec<Atom> = inference.values(x).atoms().to_vec();
    let ys: Vec<Atom> = inference.values(y).atoms().to_vec();
    if !inference.values(x).all_numeric() || !inference.values(y).all_numeric() {
        return None;
    }
    // Every pair is evaluated: as many as a map's value set may come from.
    if xs.len().saturating_mul(ys.len()) > crate::infer::MAX_PRODUCT {
        return None;
    }
    let columns = [
        xs.iter().flat_map(|a| std::iter::repeat_n(a.clone(), ys.len())).collect::<Vec<_>>(),
        (0..xs.len()).flat_map(|_| ys.iter().cloned()).collect::<Vec<_>>(),
    ];
    // keys[i][j] = f(xs[i], ys[j]); an input pair on which f raises leaves
    // the program alone.
    let flat: Option<Vec<f64>> = apply(op, &columns).into_iter().map(|a| a.as_ref().and_then(number)).collect();
    let flat = flat?;
    let table: Vec<&[f64]> = flat.chunks(ys.len().max(1)).collect();
    let transposed: Vec<Vec<f64>> = (0..ys.len()).map(|j| table.iter().map(|row| row[j]).collect()).collect();
    let transposed: Vec<&[f64]> = transposed.iter().map(Vec::as_slice).collect();
    let (major, minor, major_up, minor_up) = if let Some((up, inner)) = order(&table) {
        (x, y, up, inner)
    } else {
        let (up, inner) = order(&transposed)?;
        (y, x, up, inner)
    };
    // With `<`: a smaller key is a smaller major part when keys rise with
    // it, a greater one when they fall; the same among ties.
    let flip = |p: Predicate, up: bool| if up { p } else { mirrored(p) };
    Some(Lexicographic { major, minor, across: flip(strict, major_up), within: flip(predicate, minor_up) })
}

/// Whether rows (major parts, ascending) hold disjoint ranges of keys in
/// rising or falling order, each row strictly monotone the same way:
/// `Some((rows rise, keys rise along a row))`.
fn order(rows: &[&[f64]]) -> Option<(bool, bool)> {
    let range = |row: &[f64]| {
        let low = row.iter().copied().fold(f64::INFINITY, f64::min);
        let high = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (low, high)
    };
    let ranges: Vec<(f64, f64)> = rows.iter().map(|r| range(r)).collect();
    let rises = ranges.windows(2).all(|w| w[0].1 < w[1].0);
    let falls = ranges.windows(2).all(|w| w[0].0 > w[1].1);
    let along_rises = rows.iter().all(|r| r.windows(2).all(|w| w[0] < w[1]));
    let along_falls = rows.iter().all(|r| r.windows(2).all(|w| w[0] > w[1]));
    let rows_up = match (rises, falls) {
        (true, false) => true,
        (false, true) => false,
        // One row only (or none): not a split worth making.
        _ => return None,
    };
    let along_up = match (along_rises, along_falls) {
        (true, false) => true,
        (false, true) => false,
        _ => return None,
    };
    Some((rows_up, along_up))
}

/// The predicate with its sides swapped: `k < q` is `q > k`.
fn mirrored(p: Predicate) -> Predicate {
    match p {
        Predicate::Lt => Predicate::Gt,
        Predicate::Gt => Predicate::Lt,
        Predicate::Le => Predicate::Ge,
        Predicate::Ge => Predicate::Le,
        Predicate::Eq | Predicate::Ne => p,
    }
}

#[cfg(test)]
mod tests {
    use super::{mirrored, order};
    use rasp_core::Predicate;

    fn check(rows: &[&[f64]]) -> Option<(bool, bool)> {
        order(rows)
    }

    #[test]
    fn lexicographic_orders_are_recognised_in_each_direction() {
        // -count + position / 4: rows (counts 1, 2, 3) fall, positions rise.
        assert_eq!(check(&[&[-1.0, -0.75, -0.5], &[-2.0, -1.75, -1.5], &[-3.0, -2.75, -2.5]]), Some((false, true)));
        assert_eq!(check(&[&[0.0, 1.0], &[10.0, 11.0]]), Some((true, true)));
        assert_eq!(check(&[&[1.0, 0.0], &[11.0, 10.0]]), Some((true, false)));
    }

    #[test]
    fn orders_that_are_not_lexicographic_are_left_alone() {
        // x + y: the rows' ranges overlap.
        assert_eq!(check(&[&[0.0, 1.0, 2.0], &[1.0, 2.0, 3.0]]), None);
        // A row that is not monotone.
        assert_eq!(check(&[&[0.0, 2.0, 1.0], &[10.0, 11.0, 12.0]]), None);
        // Rows monotone in different directions.
        assert_eq!(check(&[&[0.0, 1.0], &[11.0, 10.0]]), None);
        // A tie within a row: two keys equal although their minor parts differ.
        assert_eq!(check(&[&[0.0, 0.0], &[10.0, 11.0]]), None);
        // One row: nothing to split.
        assert_eq!(check(&[&[0.0, 1.0]]), None);
    }

    #[test]
    fn mirroring_swaps_the_sides_of_orderings_only() {
        assert_eq!(mirrored(Predicate::Lt), Predicate::Gt);
        assert_eq!(mirrored(Predicate::Ge), Predicate::Le);
        assert_eq!(mirrored(Predicate::Eq), Predicate::Eq);
    }
}
