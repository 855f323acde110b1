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
use crate::library::library_width;
use std::collections::{BTreeMap, HashMap, HashSet};

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
    /// Every node a root depends on, ascending (a topological order),
    /// stopping at known nodes.
    pub order: Vec<NodeId>,
    pub roots: Vec<NodeId>,
    /// Per position in `order`: the positions of the node's inputs (none
    /// for a known node).
    pub inputs: Vec<Vec<u32>>,
    /// Per position in `order`: whether the node's value is given (already
    /// computed on this input, see [`Plan::with_known`]) instead of computed.
    pub known: Vec<bool>,
    /// Per position in `order`: the plan of a selector that an aggregate
    /// or a root reads.
    pub selectors: Vec<Option<SelectorPlan>>,
    /// Per position in `order`: the last position that reads it (its own
    /// position if none does). A value nobody reads after that position
    /// may be dropped, unless it is a root.
    pub last_use: Vec<u32>,
    /// Per position in `order`: whether it is a root.
    pub is_root: Vec<bool>,
    /// Per position in `order`: whether its value depends on the input's
    /// length only (indices, constants, and what is computed from them
    /// alone, such as `select(indices, indices, <)` or `length`), so that
    /// it is the same on every input of that length.
    pub length_only: Vec<bool>,
    /// Per position in `order`: for the standard library's
    /// `selector_width(sel)`, the selector `sel`, whose selected keys the
    /// engine counts instead of running the library's two aggregates and
    /// four maps (see [`crate::library_width`]); they are planned only if
    /// something else reads them.
    pub widths: Vec<Option<NodeId>>,
    /// `slot` by table (every column lookup of every input asks it): the
    /// position of id `first_id + i` at `i`, `u32::MAX` for ids not
    /// planned; at most 16 KB beyond four entries a planned node. Empty
    /// when the planned ids spread thinner (a few new nodes of a large
    /// graph), and `slot` searches `order`.
    slot_table: Vec<u32>,
    first_id: usize,
}

impl Plan {
    /// Roots that are not nodes of `graph` are left out of `order` (the
    /// evaluator reports them as internal errors).
    pub(crate) fn new(graph: &Graph, roots: &[NodeId]) -> Plan {
        Plan::with_known(graph, roots, |_| false)
    }

    /// As `new`, but s-ops for which `known` holds are taken as given:
    /// their ancestors are not planned (unless something else needs
    /// them), and the engine is handed their values. This is how a
    /// memoising caller evaluates only what is new.
    pub(crate) fn with_known(graph: &Graph, roots: &[NodeId], known: impl Fn(NodeId) -> bool) -> Plan {
        // A hash set, not a vector of the graph's size: a memoising caller
        // plans a few new nodes of a graph that may hold 100,000.
        let mut seen: HashSet<NodeId> = HashSet::new();
        let mut stack: Vec<NodeId> = roots.iter().copied().filter(|r| r.index() < graph.len()).collect();
        stack.retain(|r| seen.insert(*r));
        let is_known = |id: NodeId| !graph.is_selector(id) && known(id);
        // A width counted by the engine reads its selector alone.
        let reads = |id: NodeId| match library_width(graph, id) {
            Some(width) => vec![width.selector],
            None => graph.kind(id).inputs(),
        };
        let mut order = Vec::new();
        while let Some(id) = stack.pop() {
            order.push(id);
            if is_known(id) {
                continue;
            }
            for p in reads(id) {
                if seen.insert(p) {
                    stack.push(p);
                }
            }
        }
        order.sort_unstable();
        let known: Vec<bool> = order.iter().map(|&id| is_known(id)).collect();
        let widths: Vec<Option<NodeId>> = order
            .iter()
            .zip(&known)
            .map(|(&id, &given)| if given { None } else { library_width(graph, id).map(|w| w.selector) })
            .collect();
        let slot = |id: NodeId| order.binary_search(&id).map_or(u32::MAX, |s| s as u32);
        let inputs: Vec<Vec<u32>> = order
            .iter()
            .zip(&known)
            .map(|(id, &given)| if given { Vec::new() } else { reads(*id).into_iter().map(slot).collect() })
            .collect();
        let mut is_root = vec![false; order.len()];
        for r in roots {
            if let Ok(s) = order.binary_search(r) {
                is_root[s] = true;
            }
        }
        // A root is used after everything; a selector is read through its
        // columns by every aggregate that reads it (and by the selectors
        // built on it), so its inputs live as long as it does. Walking
        // down the order, every reader's last use is final before its
        // inputs are reached.
        let mut last_use: Vec<u32> =
            (0..order.len()).map(|i| if is_root[i] { order.len() as u32 } else { i as u32 }).collect();
        for i in (0..order.len()).rev() {
            let until = if graph.is_selector(order[i]) { last_use[i] } else { i as u32 };
            for &p in &inputs[i] {
                if let Some(last) = last_use.get_mut(p as usize) {
                    *last = (*last).max(until);
                }
            }
        }
        // Inputs come before their readers in `order`.
        let mut length_only = vec![false; order.len()];
        for i in 0..order.len() {
            length_only[i] = !known[i]
                && match graph.kind(order[i]) {
                    NodeKind::Indices | NodeKind::Constant(_) => true,
                    NodeKind::Tokens(_) => false,
                    NodeKind::Map { .. }
                    | NodeKind::Select { .. }
                    | NodeKind::SelectAll
                    | NodeKind::SelectAnd(..)
                    | NodeKind::SelectOr(..)
                    | NodeKind::SelectNot(_)
                    | NodeKind::Aggregate { .. } => {
                        inputs[i].iter().all(|&p| length_only.get(p as usize).copied().unwrap_or(false))
                    }
                };
        }
        let mut selectors: Vec<Option<SelectorPlan>> = vec![None; order.len()];
        let mut memo: HashMap<NodeId, Option<Expansion>> = HashMap::new();
        let read = order
            .iter()
            .zip(&known)
            .filter(|(_, given)| !**given)
            .filter_map(|(id, _)| graph.kind(*id).as_aggregate().map(|parts| parts.selector));
        let wanted: Vec<NodeId> = read
            .chain(widths.iter().flatten().copied())
            .chain(roots.iter().copied().filter(|r| r.index() < graph.len() && graph.is_selector(*r)))
            .collect();
        for sel in wanted {
            let Ok(at) = order.binary_search(&sel) else { continue };
            if selectors[at].is_none() {
                let terms = expand(graph, sel, &mut memo)
                    .map(|e| e.into_iter().map(|(literals, coefficient)| Term { coefficient, literals }).collect());
                selectors[at] = Some(SelectorPlan { terms, dag: selector_dag(graph, sel) });
            }
        }
        let first_id = order.first().map_or(0, |id| id.index());
        let spread = order.last().map_or(0, |id| id.index() + 1 - first_id);
        let mut slot_table = Vec::new();
        if spread <= 4 * order.len() + 4096 {
            slot_table = vec![u32::MAX; spread];
            for (s, id) in order.iter().enumerate() {
                slot_table[id.index() - first_id] = s as u32;
            }
        }
        Plan {
            order,
            roots: roots.to_vec(),
            inputs,
            known,
            selectors,
            last_use,
            is_root,
            length_only,
            widths,
            slot_table,
            first_id,
        }
    }

    /// The position of `id` in `order`.
    pub(crate) fn slot(&self, id: NodeId) -> Option<usize> {
        if self.slot_table.is_empty() {
            return self.order.binary_search(&id).ok();
        }
        match self.slot_table.get(id.index().checked_sub(self.first_id)?) {
            Some(&s) if s != u32::MAX => Some(s as usize),
            _ => None,
        }
    }

    /// One more than the largest planned id: the size of tables indexed by id.
    pub(crate) fn id_bound(&self) -> usize {
        self.order.last().map_or(0, |id| id.index() + 1)
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
            if contradictory(&literals) {
                continue;
            }
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

/// Whether a conjunction holds for no key and query: two of its literals
/// compare the same key and query columns with ops no single outcome
/// satisfies (`key < q and key == q`, as `sort` builds `(a < b) or (a ==
/// b and ...)`). Each op allows some of the outcomes less, equal, greater
/// (a NaN gives none, which satisfies no literal either), so such a term
/// is zero everywhere and is left out of the sum.
fn contradictory(literals: &[Literal]) -> bool {
    const LESS: u8 = 1;
    const EQUAL: u8 = 2;
    const GREATER: u8 = 4;
    let outcomes = |op: LitOp| match op {
        LitOp::Eq => EQUAL,
        LitOp::Lt => LESS,
        LitOp::Le => LESS | EQUAL,
        LitOp::Gt => GREATER,
        LitOp::Ge => GREATER | EQUAL,
    };
    // Sorted: literals on one (key, query) pair are adjacent.
    let mut i = 0;
    while i < literals.len() {
        let pair = (literals[i].key, literals[i].query);
        let mut allowed = LESS | EQUAL | GREATER;
        while i < literals.len() && (literals[i].key, literals[i].query) == pair {
            allowed &= outcomes(literals[i].op);
            i += 1;
        }
        if allowed == 0 {
            return true;
        }
    }
    false
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
