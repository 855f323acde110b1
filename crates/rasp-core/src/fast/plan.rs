//! Planning: which nodes to evaluate, in which order, and how each
//! selector an aggregate reads decomposes into counting problems.
//!
//! A selector is a boolean combination of comparisons `key[k] OP query[q]`.
//! By inclusion–exclusion (`A or B = A + B - A and B`, `not A = all - A`,
//! `key != q = all - (key == q)`) every selector is a signed sum of
//! conjunctions of `==`, `<`, `<=`, `>`, `>=` literals. A conjunction is an
//! orthogonal range in the space of its key columns, so counts and sums over
//! it can be taken by sorting and prefix sums (see `structured.rs`).
//! Everything here depends on the graph only, not on an input.

use crate::graph::{Graph, NodeId, NodeKind, Predicate};
use std::collections::{BTreeMap, HashMap};

/// A comparison without `!=` (which expands into `all - ==`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum LitOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// `key[k] OP query[q]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Literal {
    pub key: NodeId,
    pub query: NodeId,
    pub op: LitOp,
}

/// `coefficient × [all literals hold]`; no literals means every key.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub coefficient: i64,
    pub literals: Vec<Literal>,
}

/// More terms than this and the selector is evaluated row by row instead.
const MAX_TERMS: usize = 64;

type Expansion = BTreeMap<Vec<Literal>, i64>;

/// How a selector that an aggregate or a root reads is evaluated.
#[derive(Debug, Clone)]
pub(crate) struct SelectorPlan {
    /// Its signed sum of conjunctions, or `None` when the expansion is too
    /// large (then it goes row by row).
    pub terms: Option<Vec<Term>>,
    /// Its selector sub-DAG in ascending id order, for row by row.
    pub dag: Vec<NodeId>,
}

/// The evaluation plan for a set of roots.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Every node a root depends on, ascending (a topological order).
    pub order: Vec<NodeId>,
    pub roots: Vec<NodeId>,
    /// Per position in `order`: the positions of the node's inputs.
    pub inputs: Vec<Vec<u32>>,
    /// Per position in `order`: the plan of a selector that an aggregate
    /// or a root reads.
    pub selectors: Vec<Option<SelectorPlan>>,
    /// Id → position in `order` (`u32::MAX` if not planned).
    pub slot_of: Vec<u32>,
}

impl Plan {
    /// Roots that are not nodes of `graph` are left out of `order` (the
    /// evaluator reports them as internal errors).
    pub(crate) fn new(graph: &Graph, roots: &[NodeId]) -> Plan {
        let mut seen = vec![false; graph.len()];
        let mut stack: Vec<NodeId> = roots.iter().copied().filter(|r| r.index() < graph.len()).collect();
        for r in &stack {
            seen[r.index()] = true;
        }
        let mut order = Vec::new();
        while let Some(id) = stack.pop() {
            order.push(id);
            for p in graph.kind(id).inputs() {
                if !seen[p.index()] {
                    seen[p.index()] = true;
                    stack.push(p);
                }
            }
        }
        order.sort_unstable();
        let mut slot_of = vec![u32::MAX; order.last().map_or(0, |id| id.index() + 1)];
        for (i, id) in order.iter().enumerate() {
            slot_of[id.index()] = i as u32;
        }
        let inputs =
            order.iter().map(|id| graph.kind(*id).inputs().iter().map(|p| slot_of[p.index()]).collect()).collect();
        let mut selectors: Vec<Option<SelectorPlan>> = vec![None; order.len()];
        let mut memo: HashMap<NodeId, Option<Expansion>> = HashMap::new();
        let read = order.iter().filter_map(|id| match graph.kind(*id) {
            NodeKind::Aggregate { selector, .. } => Some(*selector),
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_) => None,
        });
        let wanted: Vec<NodeId> =
            read.chain(roots.iter().copied().filter(|r| r.index() < graph.len() && graph.is_selector(*r))).collect();
        for sel in wanted {
            let slot = slot_of[sel.index()] as usize;
            if selectors[slot].is_none() {
                let terms = expand(graph, sel, &mut memo)
                    .map(|e| e.into_iter().map(|(literals, coefficient)| Term { coefficient, literals }).collect());
                selectors[slot] = Some(SelectorPlan { terms, dag: selector_dag(graph, sel) });
            }
        }
        Plan { order, roots: roots.to_vec(), inputs, selectors, slot_of }
    }

    pub(crate) fn slot(&self, id: NodeId) -> Option<usize> {
        self.slot_of.get(id.index()).filter(|&&s| s != u32::MAX).map(|&s| s as usize)
    }

    pub(crate) fn selector(&self, id: NodeId) -> Option<&SelectorPlan> {
        self.slot(id).and_then(|s| self.selectors[s].as_ref())
    }
}

/// The selector nodes `root` is built from (itself included), ascending.
fn selector_dag(graph: &Graph, root: NodeId) -> Vec<NodeId> {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root];
    seen.insert(root);
    let mut out = Vec::new();
    while let Some(id) = stack.pop() {
        out.push(id);
        let children: Vec<NodeId> = match graph.kind(id) {
            NodeKind::SelectAnd(a, b) | NodeKind::SelectOr(a, b) => vec![*a, *b],
            NodeKind::SelectNot(a) => vec![*a],
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::Aggregate { .. } => vec![],
        };
        for c in children {
            if seen.insert(c) {
                stack.push(c);
            }
        }
    }
    out.sort_unstable();
    out
}

fn add_into(target: &mut Expansion, source: &Expansion, sign: i64) -> Option<()> {
    for (literals, c) in source {
        let entry = target.entry(literals.clone()).or_insert(0);
        *entry = entry.checked_add(sign.checked_mul(*c)?)?;
        if *entry == 0 {
            target.remove(literals);
        }
    }
    Some(())
}

fn product(a: &Expansion, b: &Expansion) -> Option<Expansion> {
    let mut out = Expansion::new();
    for (la, ca) in a {
        for (lb, cb) in b {
            let mut literals: Vec<Literal> = la.iter().chain(lb.iter()).copied().collect();
            literals.sort_unstable();
            literals.dedup();
            let entry = out.entry(literals.clone()).or_insert(0);
            *entry = entry.checked_add(ca.checked_mul(*cb)?)?;
            if *entry == 0 {
                out.remove(&literals);
            }
            if out.len() > MAX_TERMS {
                return None;
            }
        }
    }
    Some(out)
}

fn everything() -> Expansion {
    let mut e = Expansion::new();
    e.insert(Vec::new(), 1);
    e
}

/// The signed-sum-of-conjunctions form of a selector, or `None` if it has
/// more than `MAX_TERMS` terms.
fn expand(graph: &Graph, id: NodeId, memo: &mut HashMap<NodeId, Option<Expansion>>) -> Option<Expansion> {
    if let Some(e) = memo.get(&id) {
        return e.clone();
    }
    let result = match graph.kind(id) {
        NodeKind::Select { key, query, predicate } => {
            let literal = |op| vec![Literal { key: *key, query: *query, op }];
            let mut e = Expansion::new();
            match predicate {
                Predicate::Eq => _ = e.insert(literal(LitOp::Eq), 1),
                Predicate::Lt => _ = e.insert(literal(LitOp::Lt), 1),
                Predicate::Le => _ = e.insert(literal(LitOp::Le), 1),
                Predicate::Gt => _ = e.insert(literal(LitOp::Gt), 1),
                Predicate::Ge => _ = e.insert(literal(LitOp::Ge), 1),
                Predicate::Ne => {
                    e.insert(Vec::new(), 1);
                    e.insert(literal(LitOp::Eq), -1);
                }
            }
            Some(e)
        }
        NodeKind::SelectAll => Some(everything()),
        NodeKind::SelectAnd(a, b) => {
            let (a, b) = (expand(graph, *a, memo), expand(graph, *b, memo));
            a.zip(b).and_then(|(a, b)| product(&a, &b))
        }
        NodeKind::SelectOr(a, b) => {
            let (a, b) = (expand(graph, *a, memo), expand(graph, *b, memo));
            a.zip(b).and_then(|(a, b)| {
                let both = product(&a, &b)?;
                let mut e = a;
                add_into(&mut e, &b, 1)?;
                add_into(&mut e, &both, -1)?;
                (e.len() <= MAX_TERMS).then_some(e)
            })
        }
        NodeKind::SelectNot(a) => expand(graph, *a, memo).and_then(|a| {
            let mut e = everything();
            add_into(&mut e, &a, -1)?;
            Some(e)
        }),
        NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Constant(_)
        | NodeKind::Map { .. }
        | NodeKind::Aggregate { .. } => None,
    };
    memo.insert(id, result.clone());
    result
}
