//! Value-set inference: the values each s-op can take on any input of the
//! vocabulary up to the maximum length.
//!
//! Where the interpreter's values are a function of something small, the
//! function itself is kept (its "support"): an s-op built only from
//! `tokens`, `indices` and constants is a function of the (token, position)
//! pair at its position, and only the pairs an input can have are
//! enumerated (with BOS: BOS at position 0 and only there); an s-op built
//! from one aggregate (and constants) is a function of that aggregate's
//! value. Everything else gets the image of the product of its inputs' sets
//! (sound, possibly larger than needed). Means are exact: every sum of k
//! values is enumerated as a rational.

use crate::error::CompileError;
use crate::values::{ValueSet, apply, convert_token, means, number};
use rasp_core::{Atom, Graph, NodeId, NodeKind, Predicate, Value};
use std::collections::{HashMap, HashSet};

/// Largest number of argument tuples a map's value set is computed from.
pub const MAX_PRODUCT: usize = 1 << 20;
/// Largest value set of a mean.
pub const MAX_MEANS: usize = 20_000;

#[derive(Debug, Clone)]
pub enum Support {
    Const(Atom),
    /// One value per reachable (token, position) pair; `None` where the
    /// interpreter raises.
    Local(Vec<Option<Atom>>),
    /// One value per value (by index) of an aggregate.
    Over(NodeId, Vec<Option<Atom>>),
    /// Only the value set is known.
    Free,
}

/// A raw token (index into [`Inference::raw_tokens`]) at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAt {
    pub token: usize,
    pub position: usize,
}

/// The value sets (and where known, supports) of every s-op the output
/// depends on, for one vocabulary, BOS and maximum length.
pub struct Inference {
    /// The input tokens the embedding knows: BOS first (if any), then the vocab.
    pub raw_tokens: Vec<String>,
    pub bos: bool,
    /// Program positions: max_len (+1 with BOS).
    pub n_pos: usize,
    /// (raw token index, position) pairs an input can have.
    pub reachable: Vec<TokenAt>,
    pub value_sets: HashMap<NodeId, ValueSet>,
    pub support: HashMap<NodeId, Support>,
    /// Aggregates that may average several values.
    pub averaging: HashSet<NodeId>,
    /// Whether every query sees every key (no causal or prefix mask).
    pub bidirectional: bool,
    empty: ValueSet,
}

impl Inference {
    pub fn values(&self, id: NodeId) -> &ValueSet {
        self.value_sets.get(&id).unwrap_or(&self.empty)
    }
}

pub fn infer(
    graph: &Graph,
    nodes: &[NodeId],
    vocab: &[String],
    bos: Option<&str>,
    max_len: usize,
    mask: rasp_core::AttentionMask,
) -> Result<Inference, CompileError> {
    let mut raw_tokens = Vec::new();
    if let Some(b) = bos {
        raw_tokens.push(b.to_string());
    }
    raw_tokens.extend(vocab.iter().cloned());
    let n_pos = max_len + usize::from(bos.is_some());
    let mut reachable = Vec::new();
    if bos.is_some() {
        reachable.push(TokenAt { token: 0, position: 0 });
        for p in 1..n_pos {
            for t in 1..raw_tokens.len() {
                reachable.push(TokenAt { token: t, position: p });
            }
        }
    } else {
        for p in 0..n_pos {
            for t in 0..raw_tokens.len() {
                reachable.push(TokenAt { token: t, position: p });
            }
        }
    }
    let mut inference = Inference {
        raw_tokens,
        bos: bos.is_some(),
        n_pos,
        reachable,
        value_sets: HashMap::new(),
        support: HashMap::new(),
        averaging: HashSet::new(),
        bidirectional: mask == rasp_core::AttentionMask::Bidirectional,
        empty: ValueSet::default(),
    };
    for &id in nodes {
        let support = match graph.kind(id) {
            NodeKind::Tokens(conversion) => {
                let converted: Vec<Option<Atom>> =
                    inference.raw_tokens.iter().map(|t| convert_token(*conversion, &Value::str(t))).collect();
                Support::Local(inference.reachable.iter().map(|at| converted[at.token].clone()).collect())
            }
            NodeKind::Indices => {
                Support::Local(inference.reachable.iter().map(|at| Some(Atom::Int(at.position as i64))).collect())
            }
            NodeKind::Constant(v) => match v {
                Value::Atom(a) => Support::Const(a.clone()),
                _ => return Err(CompileError::at(graph, id, "a constant s-op must hold a number, bool or string")),
            },
            NodeKind::Map { op, inputs } => {
                let (support, free) = map_support(graph, &inference, id, op, inputs)?;
                if let Some(set) = free {
                    inference.value_sets.insert(id, set);
                }
                support
            }
            NodeKind::Aggregate { selector, values, default } => {
                let vals = inference.values(*values).clone();
                let default = match default {
                    None => Atom::Int(0),
                    Some(Value::Atom(a)) => a.clone(),
                    Some(_) => {
                        return Err(CompileError::at(graph, id, "the default of an aggregate must be a single value"));
                    }
                };
                let numeric = vals.atoms().iter().any(|a| matches!(a, Atom::Int(_) | Atom::BigInt(_) | Atom::Float(_)));
                let mut atoms: Vec<Atom> = vals.atoms().to_vec();
                if numeric && !at_most_one(graph, &inference, *selector) && inference.n_pos >= 2 {
                    inference.averaging.insert(id);
                    let ms = match whole_input_means(graph, &inference, *selector, *values) {
                        Some(ms) => ms,
                        None => means(&vals, inference.n_pos, MAX_MEANS).map_err(|n| {
                            CompileError::at(
                                graph,
                                id,
                                &format!(
                                    "averaging `{}` can give more than {MAX_MEANS} different values ({n} sums); \
                                     a mean of a mean or of many different numbers cannot be decoded exactly",
                                    graph.name(*values)
                                ),
                            )
                        })?,
                    };
                    atoms.extend(ms);
                }
                atoms.push(default);
                let set = ValueSet::from_atoms(atoms);
                let table = set.atoms().iter().cloned().map(Some).collect();
                inference.value_sets.insert(id, set);
                inference.support.insert(id, Support::Over(id, table));
                continue;
            }
            // Selectors have no value set (their s-ops have).
            NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_) => continue,
        };
        let set = match &support {
            Support::Const(a) => ValueSet::from_atoms([a.clone()]),
            Support::Local(t) | Support::Over(_, t) => ValueSet::from_atoms(t.iter().flatten().cloned()),
            Support::Free => inference.values(id).clone(),
        };
        if set.is_empty() {
            return Err(CompileError::at(
                graph,
                id,
                "fails on every input of this vocabulary and length (the interpreter raises an error)",
            ));
        }
        inference.value_sets.insert(id, set);
        inference.support.insert(id, support);
    }
    Ok(inference)
}

fn map_support(
    graph: &Graph,
    inference: &Inference,
    id: NodeId,
    op: &rasp_core::MapOp,
    inputs: &[NodeId],
) -> Result<(Support, Option<ValueSet>), CompileError> {
    let supports: Vec<&Support> = inputs.iter().filter_map(|i| inference.support.get(i)).collect();
    if supports.len() != inputs.len() {
        return Err(CompileError::at(graph, id, "internal error: an input has no value set"));
    }
    let all_const = supports.iter().all(|s| matches!(s, Support::Const(_)));
    let all_local = supports.iter().all(|s| matches!(s, Support::Const(_) | Support::Local(_)));
    let over: HashSet<NodeId> =
        supports.iter().filter_map(|s| if let Support::Over(a, _) = s { Some(*a) } else { None }).collect();
    let all_over = over.len() == 1 && supports.iter().all(|s| matches!(s, Support::Const(_) | Support::Over(..)));
    if all_const {
        let cols: Vec<Vec<Atom>> =
            supports.iter().map(|s| if let Support::Const(a) = s { vec![a.clone()] } else { vec![] }).collect();
        return match apply(op, &cols).into_iter().next().flatten() {
            Some(a) => Ok((Support::Const(a), None)),
            None => Err(CompileError::at(graph, id, "the interpreter raises an error computing this constant")),
        };
    }
    if all_local || all_over {
        let len = supports
            .iter()
            .find_map(|s| match s {
                Support::Local(t) | Support::Over(_, t) => Some(t.len()),
                _ => None,
            })
            .unwrap_or(0);
        let table = apply_columns(op, &supports, len);
        return Ok((
            if all_local { Support::Local(table) } else { Support::Over(over.into_iter().next().unwrap_or(id), table) },
            None,
        ));
    }
    if let Some(set) = combined_means(graph, inference, op, inputs) {
        return Ok((Support::Free, Some(set)));
    }
    // The product of the inputs' value sets.
    let sets: Vec<&ValueSet> = inputs.iter().map(|i| inference.values(*i)).collect();
    let total = sets.iter().try_fold(1usize, |acc, s| acc.checked_mul(s.len()).filter(|&n| n <= MAX_PRODUCT));
    let Some(total) = total else {
        return Err(CompileError::at(
            graph,
            id,
            &format!(
                "its inputs can take too many combinations of values (more than {MAX_PRODUCT}): {}",
                inputs
                    .iter()
                    .map(|i| format!("`{}` has {}", graph.name(*i), inference.values(*i).len()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let mut cols: Vec<Vec<Atom>> = vec![Vec::with_capacity(total); sets.len()];
    for row in 0..total {
        let mut r = row;
        for (c, s) in cols.iter_mut().zip(&sets).rev() {
            c.push(s.atoms()[r % s.len()].clone());
            r /= s.len();
        }
    }
    let result = apply(op, &cols);
    Ok((Support::Free, Some(ValueSet::from_atoms(result.into_iter().flatten()))))
}

/// The values of an affine map of means over one selector, such as
/// `opens - closes` in tracr's pair balance, where both are fractions of the
/// same prefix: Σᵢ cᵢ·mean(vᵢ) + c is c plus the mean of the per-position
/// value w = Σᵢ cᵢ·vᵢ over the same selected positions, so its values are
/// the means of w, not every combination of the operands' values. The
/// product would count p/i − q/j for every two prefix lengths i and j
/// (1261² combinations at length 64, where pair balance takes 1261 values).
/// `None` when the map is not of this form or its means are too many (the
/// product then decides).
fn combined_means(graph: &Graph, inference: &Inference, op: &rasp_core::MapOp, inputs: &[NodeId]) -> Option<ValueSet> {
    /// An input of the map: a constant, or a mean of `table`'s values.
    enum Operand<'a> {
        Const(Atom),
        Mean { table: &'a [Option<Atom>], default: Atom },
    }
    let affine = crate::plan::affine_op(graph, op, inputs)?;
    let mut constant = affine.constant;
    let mut selector = None;
    let mut operands = Vec::with_capacity(inputs.len());
    for (&input, &coefficient) in inputs.iter().zip(&affine.coefficients) {
        match inference.support.get(&input)? {
            Support::Const(a) => {
                constant += coefficient * number(a)?;
                operands.push(Operand::Const(a.clone()));
            }
            Support::Over(aggregate, _) if *aggregate == input && inference.averaging.contains(&input) => {
                let NodeKind::Aggregate { selector: own, values, default } = graph.kind(input) else { return None };
                if selector.is_some_and(|s| !same_selector(graph, s, *own)) {
                    return None;
                }
                selector = Some(*own);
                let Some(Support::Local(table)) = inference.support.get(values) else { return None };
                let default = match default {
                    None => Atom::Int(0),
                    Some(Value::Atom(a)) => a.clone(),
                    Some(_) => return None,
                };
                operands.push(Operand::Mean { table, default });
            }
            Support::Over(..) | Support::Local(_) | Support::Free => return None,
        }
    }
    if operands.iter().filter(|o| matches!(o, Operand::Mean { .. })).count() < 2 {
        return None;
    }
    // One selected position: the map of the values there, computed as the
    // interpreter computes it; w at that position for the longer means.
    let mut columns: Vec<Vec<Atom>> = vec![Vec::new(); operands.len()];
    let mut weighted = Vec::new();
    'rows: for row in 0..inference.reachable.len() {
        let mut sum = 0.0;
        let mut values = Vec::with_capacity(operands.len());
        for (operand, coefficient) in operands.iter().zip(&affine.coefficients) {
            match operand {
                Operand::Const(a) => values.push(a.clone()),
                Operand::Mean { table, .. } => {
                    // The interpreter raises where a value is missing.
                    let Some(value) = &table[row] else { continue 'rows };
                    sum += coefficient * number(value)?;
                    values.push(value.clone());
                }
            }
        }
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
        weighted.push(Atom::Float(sum));
    }
    let mut atoms: Vec<Atom> = apply(op, &columns).into_iter().flatten().collect();
    // No selected position: the map of the defaults.
    let defaults: Vec<Vec<Atom>> = operands
        .iter()
        .map(|o| match o {
            Operand::Const(a) => vec![a.clone()],
            Operand::Mean { default, .. } => vec![default.clone()],
        })
        .collect();
    atoms.extend(apply(op, &defaults).into_iter().flatten());
    let averages = means(&ValueSet::from_atoms(weighted), inference.n_pos, MAX_MEANS).ok()?;
    atoms.extend(averages.iter().filter_map(number).map(|mean| Atom::Float(mean + constant)));
    Some(ValueSet::from_atoms(atoms))
}

/// The means of a value that depends on the position alone, under a
/// selector that selects every position for every query (the library's
/// `full_s = select(1, 1, ==)`): one mean per input length, summed in
/// position order as the interpreter sums. `length`'s aggregate of
/// `indicator(indices == 0)` then takes the N values 1/n, not every
/// fraction k/n (5,023 at N = 128), which kept `length - indices` from
/// compiling at N = 128. `None` when the selector or the values are not of
/// this form (or some value is missing: the interpreter raises there).
fn whole_input_means(graph: &Graph, inference: &Inference, selector: NodeId, values: NodeId) -> Option<Vec<Atom>> {
    if !selects_every_key(graph, inference, selector) {
        return None;
    }
    let Some(Support::Local(table)) = inference.support.get(&values) else { return None };
    let mut by_position: Vec<Option<f64>> = vec![None; inference.n_pos];
    for (at, value) in inference.reachable.iter().zip(table) {
        let x = number(value.as_ref()?)?;
        match by_position[at.position] {
            None => by_position[at.position] = Some(x),
            Some(y) if y == x => {}
            Some(_) => return None,
        }
    }
    let mut sum = 0.0;
    let mut out = Vec::with_capacity(inference.n_pos);
    for (count, value) in by_position.into_iter().enumerate() {
        sum += value?;
        out.push(Atom::Float(sum / (count + 1) as f64));
    }
    Some(out)
}

/// Whether a selector holds for every query and key: `select_all`, or a
/// select of two constants that compare true (`select(1, 1, ==)`).
fn selects_every_key(graph: &Graph, inference: &Inference, selector: NodeId) -> bool {
    match graph.kind(selector) {
        NodeKind::SelectAll => true,
        NodeKind::Select { key, query, predicate } => {
            match (inference.support.get(key), inference.support.get(query)) {
                (Some(Support::Const(key)), Some(Support::Const(query))) => {
                    rasp_core::pyops::compare(predicate.mirrored_on_query(), query, key).unwrap_or(false)
                }
                _ => false,
            }
        }
        NodeKind::SelectOr(a, b) => selects_every_key(graph, inference, *a) || selects_every_key(graph, inference, *b),
        NodeKind::SelectAnd(a, b) => selects_every_key(graph, inference, *a) && selects_every_key(graph, inference, *b),
        // Whether `not` holds everywhere would need "holds nowhere".
        NodeKind::SelectNot(_)
        | NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Constant(_)
        | NodeKind::Map { .. }
        | NodeKind::Aggregate { .. } => false,
    }
}

/// Whether two selectors select the same keys for every query: the same
/// node, or built the same way from the same s-ops (two calls of one
/// function make two equal selectors).
fn same_selector(graph: &Graph, a: NodeId, b: NodeId) -> bool {
    if a == b {
        return true;
    }
    let other = graph.kind(b);
    match graph.kind(a) {
        NodeKind::Select { key, query, predicate } => matches!(other,
            NodeKind::Select { key: k, query: q, predicate: p } if k == key && q == query && p == predicate),
        NodeKind::SelectAll => matches!(other, NodeKind::SelectAll),
        NodeKind::SelectAnd(a1, a2) => {
            matches!(other, NodeKind::SelectAnd(b1, b2) if same_selector(graph, *a1, *b1) && same_selector(graph, *a2, *b2))
        }
        NodeKind::SelectOr(a1, a2) => {
            matches!(other, NodeKind::SelectOr(b1, b2) if same_selector(graph, *a1, *b1) && same_selector(graph, *a2, *b2))
        }
        NodeKind::SelectNot(inner) => matches!(other, NodeKind::SelectNot(o) if same_selector(graph, *inner, *o)),
        // Not selectors.
        NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Constant(_)
        | NodeKind::Map { .. }
        | NodeKind::Aggregate { .. } => false,
    }
}

/// Applies `op` row-wise to inputs given as constants or tables of one length.
fn apply_columns(op: &rasp_core::MapOp, supports: &[&Support], len: usize) -> Vec<Option<Atom>> {
    let defined: Vec<usize> = (0..len)
        .filter(|&r| {
            supports.iter().all(|s| match s {
                Support::Local(t) | Support::Over(_, t) => t[r].is_some(),
                _ => true,
            })
        })
        .collect();
    let cols: Vec<Vec<Atom>> = supports
        .iter()
        .map(|s| {
            defined
                .iter()
                .map(|&r| match s {
                    Support::Const(a) => a.clone(),
                    Support::Local(t) | Support::Over(_, t) => t[r].clone().unwrap_or(Atom::Int(0)),
                    Support::Free => Atom::Int(0),
                })
                .collect()
        })
        .collect();
    let results = apply(op, &cols);
    let mut table = vec![None; len];
    for (r, v) in defined.into_iter().zip(results) {
        table[r] = v;
    }
    table
}

/// Whether every query selects at most one key: an equality select whose
/// key is a one-to-one function of the position (e.g. `indices`) or a rank
/// of the positions (see [`is_rank`]), or an `and` with such a selector.
pub fn at_most_one(graph: &Graph, inference: &Inference, selector: NodeId) -> bool {
    match graph.kind(selector) {
        NodeKind::Select { key, predicate: Predicate::Eq, .. } => {
            position_injective(inference, *key) || is_rank(graph, inference, *key)
        }
        NodeKind::SelectAnd(a, b) => at_most_one(graph, inference, *a) || at_most_one(graph, inference, *b),
        NodeKind::Select { .. }
        | NodeKind::SelectAll
        | NodeKind::SelectOr(..)
        | NodeKind::SelectNot(_)
        | NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Constant(_)
        | NodeKind::Map { .. }
        | NodeKind::Aggregate { .. } => false,
    }
}

/// Whether `id` is the library's `selector_width` of a strict total order
/// on the positions, so that on every input its values are 0, 1, ..., n − 1
/// in some order (how `sort` finds each value's target position): the order
/// is `select(k, k, <)` (or `>`) with k different at every position of an
/// input, or `select(k, k, <) or (select(k, k, ==) and select(t, t, <))`
/// (either direction in either part) with t different at every position,
/// or that order's two parts as the sum of their widths (as
/// [`crate::rewrite`] splits it). Only when every query sees every key:
/// under a causal or prefix mask a query counts the keys before it, and two
/// queries can count alike.
fn is_rank(graph: &Graph, inference: &Inference, id: NodeId) -> bool {
    if !inference.bidirectional {
        return false;
    }
    let width_of = |id: NodeId| crate::rewrite::library_width(graph, id, inference.n_pos).map(|w| w.selector);
    if let Some(selector) = width_of(id) {
        if let Some(key) = strictly(graph, selector) {
            return distinct_at_each_position(inference, key);
        }
        let NodeKind::SelectOr(a, b) = graph.kind(selector) else { return false };
        return [(*a, *b), (*b, *a)].into_iter().any(|(first, ties)| {
            strictly(graph, first).is_some_and(|major| ties_broken(graph, inference, ties, major))
        });
    }
    let Some((rasp_core::MapOp::Arith(rasp_core::pyops::ArithOp::Add), &[x, y])) = graph.kind(id).as_map() else {
        return false;
    };
    let (Some(x), Some(y)) = (width_of(x), width_of(y)) else { return false };
    [(x, y), (y, x)]
        .into_iter()
        .any(|(first, ties)| strictly(graph, first).is_some_and(|major| ties_broken(graph, inference, ties, major)))
}

/// The s-op a `select(k, k, <)` or `select(k, k, >)` compares.
fn strictly(graph: &Graph, selector: NodeId) -> Option<NodeId> {
    match graph.kind(selector).as_select() {
        Some((key, query, Predicate::Lt | Predicate::Gt)) if key == query => Some(key),
        _ => None,
    }
}

/// Whether `selector` is `select(major, major, ==) and select(t, t, <)` (or
/// `>`, in either order) with t different at every position, and `<`
/// orders `major`'s values.
fn ties_broken(graph: &Graph, inference: &Inference, selector: NodeId, major: NodeId) -> bool {
    let NodeKind::SelectAnd(c, d) = graph.kind(selector) else { return false };
    [(*c, *d), (*d, *c)].into_iter().any(|(equal, then)| {
        graph.kind(equal).as_select() == Some((major, major, Predicate::Eq))
            && strictly(graph, then).is_some_and(|minor| distinct_at_each_position(inference, minor))
            && comparable(inference, major)
    })
}

/// Whether no two positions of an input can hold equal values of `id` (a
/// function of the token and position at each, such as `indices` or
/// `tokens + indices / n` with spacing enough), and `<` orders them.
fn distinct_at_each_position(inference: &Inference, id: NodeId) -> bool {
    let Some(Support::Local(table)) = inference.support.get(&id) else { return false };
    let mut seen: Vec<(&Atom, usize)> = Vec::with_capacity(table.len());
    for (at, value) in inference.reachable.iter().zip(table) {
        match value {
            Some(v) => seen.push((v, at.position)),
            // Where the interpreter raises, nothing is selected anyway.
            None => continue,
        }
    }
    if !comparable(inference, id) {
        return false;
    }
    seen.sort_by(|x, y| crate::values::atom_order(x.0, y.0));
    seen.windows(2).all(|w| !rasp_core::pyops::py_eq(w[0].0, w[1].0) || w[0].1 == w[1].1)
}

/// Whether `<` is a strict total order on the values of `id`: all numbers
/// (no NaN) or all strings.
fn comparable(inference: &Inference, id: NodeId) -> bool {
    let atoms = inference.values(id).atoms();
    atoms.iter().all(|a| number(a).is_some_and(|x| !x.is_nan())) || atoms.iter().all(|a| matches!(a, Atom::Str(_)))
}

fn position_injective(inference: &Inference, id: NodeId) -> bool {
    let Some(Support::Local(table)) = inference.support.get(&id) else { return false };
    let mut at: Vec<Option<&Atom>> = vec![None; inference.n_pos];
    for (&TokenAt { position: p, .. }, v) in inference.reachable.iter().zip(table) {
        let Some(v) = v else { continue };
        match at[p] {
            None => at[p] = Some(v),
            Some(w) if rasp_core::pyops::py_eq(v, w) => {}
            Some(_) => return false,
        }
    }
    let vals: Vec<&Atom> = at.into_iter().flatten().collect();
    let set = ValueSet::from_atoms(vals.iter().map(|a| (*a).clone()));
    set.len() == vals.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rasp_lang::{NoFiles, Session};

    /// The inferred values of `sop` in `source` for words over `vocab` up to
    /// `max_len`, as floats.
    fn inferred(source: &str, sop: &str, vocab: &[&str], max_len: usize) -> Vec<f64> {
        let mut session = Session::new(Box::new(NoFiles));
        session.run_file("test.rasp", source);
        let Some(Value::Sop(root)) = session.lookup(sop) else { panic!("{sop}: {}", session.take_output()) };
        let nodes = session.graph.ancestors(root);
        let vocab: Vec<String> = vocab.iter().map(|t| t.to_string()).collect();
        let inference = infer(&session.graph, &nodes, &vocab, None, max_len, rasp_core::AttentionMask::Bidirectional)
            .unwrap_or_else(|e| panic!("{e}"));
        inference.values(root).numbers().expect("numbers")
    }

    /// Every value `sop` takes on some word over `vocab` of 1 to `max_len`
    /// tokens, by running the interpreter on all of them.
    fn observed(source: &str, sop: &str, vocab: &[&str], max_len: usize) -> Vec<f64> {
        let mut session = Session::new(Box::new(NoFiles));
        session.run_file("test.rasp", source);
        let Some(Value::Sop(root)) = session.lookup(sop) else { panic!("{sop}") };
        let mut seen = Vec::new();
        let mut words: Vec<Vec<Value>> = vec![vec![]];
        for _ in 0..max_len {
            words = words
                .iter()
                .flat_map(|w| vocab.iter().map(move |t| w.iter().cloned().chain([Value::str(t)]).collect()))
                .collect();
            for word in &words {
                let Ok(rasp_core::NodeValue::Seq(s)) = rasp_core::Evaluator::new().evaluate(&session.graph, root, word)
                else {
                    panic!("{sop} fails on a word")
                };
                seen.extend(s.values.iter().filter_map(number));
            }
        }
        seen
    }

    fn contains(set: &[f64], x: f64) -> bool {
        set.iter().any(|&v| v == x || crate::values::floats_merge(v, x))
    }

    const PAIR_BALANCE: &str = "
        def frac_prevs(bools) { return aggregate(select(indices, indices, <=), indicator(bools), 0); }
        opens = frac_prevs(tokens == \"(\");
        closes = frac_prevs(tokens == \")\");
        balance = opens - closes;
        # The same operands over selectors that differ: no shared prefix.
        after = aggregate(select(indices, indices, >=), indicator(tokens == \")\"), 0);
        mixed = opens - after;
    ";

    #[test]
    fn means_over_one_selector_combine_before_averaging() {
        // With two tokens, a prefix of i positions with o opens has balance
        // (2o − i)/i: one value per reduced fraction d/i, |d| ≤ i, d ≡ i mod 2.
        let values = inferred(PAIR_BALANCE, "balance", &["(", ")"], 64);
        let mut expected: Vec<(i64, i64)> = Vec::new();
        for length in 1..=64i64 {
            for opens in 0..=length {
                let (numerator, denominator) = (2 * opens - length, length);
                let divisor = gcd(numerator.abs(), denominator);
                expected.push((numerator / divisor, denominator / divisor));
            }
        }
        expected.sort();
        expected.dedup();
        assert_eq!(values.len(), expected.len());
        for (numerator, denominator) in expected {
            assert!(contains(&values, numerator as f64 / denominator as f64), "{numerator}/{denominator}");
        }
        // What the interpreter gives is inside, and at length 6 it is all of it.
        let small = inferred(PAIR_BALANCE, "balance", &["(", ")"], 6);
        let seen = observed(PAIR_BALANCE, "balance", &["(", ")"], 6);
        assert!(seen.iter().all(|&x| contains(&small, x)));
        assert!(small.iter().all(|&x| contains(&seen, x)));
    }

    #[test]
    fn means_over_different_selectors_take_every_combination() {
        // opens over the prefix, `after` over the suffix: the sets are the
        // product's image (sound: it covers what the interpreter gives).
        let values = inferred(PAIR_BALANCE, "mixed", &["(", ")"], 6);
        let fractions: Vec<f64> = (1..=6).flat_map(|i| (0..=i).map(move |k| k as f64 / i as f64)).collect();
        for a in &fractions {
            for b in &fractions {
                assert!(contains(&values, a - b), "{a} - {b}");
            }
        }
        let seen = observed(PAIR_BALANCE, "mixed", &["(", ")"], 6);
        assert!(seen.iter().all(|&x| contains(&values, x)));
    }

    #[test]
    fn a_mean_of_a_position_value_over_every_position_takes_one_value_per_length() {
        // `length`'s aggregate: 1/n for n = 1..=128, and the default 0 that
        // every aggregate's set keeps.
        let source = "inverse = aggregate(select(1, 1, ==), indicator(indices == 0));
                      share = aggregate(select(1, 1, ==), indicator(tokens == \"a\"));";
        let values = inferred(source, "inverse", &["a", "b"], 128);
        assert_eq!(values.len(), 129);
        assert!((1..=128).all(|n| contains(&values, 1.0 / n as f64)));
        let small = inferred(source, "inverse", &["a", "b"], 6);
        assert!(observed(source, "inverse", &["a", "b"], 6).iter().all(|&x| contains(&small, x)));
        // A value that depends on the token takes every fraction k/n.
        let share = inferred(source, "share", &["a", "b"], 6);
        let seen = observed(source, "share", &["a", "b"], 6);
        assert!(contains(&seen, 2.0 / 3.0));
        assert!(seen.iter().all(|&x| contains(&share, x)));
    }

    /// Whether `sop`'s aggregate is inferred to average, under `mask`.
    fn averages(source: &str, sop: &str, vocab: &[&str], max_len: usize, mask: rasp_core::AttentionMask) -> bool {
        let mut session = Session::new(Box::new(NoFiles));
        session.run_file("test.rasp", &format!("set example [1, 2]\n{source}"));
        let Some(Value::Sop(root)) = session.lookup(sop) else { panic!("{sop}: {}", session.take_output()) };
        let nodes = session.graph.ancestors(root);
        let vocab: Vec<String> = vocab.iter().map(|t| t.to_string()).collect();
        let inference = infer(&session.graph, &nodes, &vocab, None, max_len, mask).unwrap_or_else(|e| panic!("{e}"));
        inference.averaging.contains(&root)
    }

    #[test]
    fn target_positions_of_a_sort_select_one_key_each() {
        use rasp_core::AttentionMask::{Bidirectional, Causal};
        // The library's sort breaks ties by position: its widths are a rank
        // of the positions, whatever the keys. tracr's sort makes the keys
        // unique with a spacing as large as the length. Under a causal
        // mask each query ranks only the keys before it, and two can tie.
        let source = "by_library = sort(tokens_int, tokens_int);
            unique = tokens_int + indices / 8;
            by_spacing = aggregate(select(selector_width(select(unique, unique, <)), indices, ==), tokens_int);
            too_close = tokens_int + indices / 2;
            by_small_spacing = aggregate(select(selector_width(select(too_close, too_close, <)), indices, ==), tokens_int);
            by_order = aggregate(select(selector_width(select(tokens_int, tokens_int, <)), indices, ==), tokens_int);";
        let digits = ["1", "2", "3"];
        assert!(!averages(source, "by_library", &digits, 8, Bidirectional));
        assert!(!averages(source, "by_spacing", &digits, 8, Bidirectional));
        assert!(averages(source, "by_library", &digits, 8, Causal));
        // 1 + 2/2 == 2 + 0/2: two positions can hold one key.
        assert!(averages(source, "by_small_spacing", &digits, 8, Bidirectional));
        // Repeated tokens tie: several positions get the same width.
        assert!(averages(source, "by_order", &digits, 8, Bidirectional));
    }

    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a.max(1) } else { gcd(b, a % b) }
    }
}
