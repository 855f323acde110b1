//! Assigning aggregates (attention heads) to layers.
//!
//! Only aggregates need deciding: elementwise s-ops are free (an MLP runs
//! after the attention of its layer) and go as early as their inputs allow.
//! An aggregate in layer `l` needs everything its selector's keys and
//! queries and its values read from other aggregates computed in layers
//! before `l`; the greedy schedule puts every aggregate at its depth.

use crate::width::selector_width_pairs;
use rasp_core::{Graph, NodeId, NodeKind};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// What makes two aggregates of one layer one head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HeadKey {
    /// The same selector node (the reference's identity: the object; the
    /// one shared `full average` is one node in our graph).
    Selector(NodeId),
    /// The two aggregates of a library `selector_width(sel)`, counted as
    /// one head under `bos_selector_width`.
    Width(NodeId),
}

/// Exact search visits at most this many partial schedules.
const SEARCH_BUDGET: usize = 200_000;
/// Beyond this many units the exact search is not tried (its recursion is
/// as deep as the number of units).
const SEARCH_MAX_UNITS: usize = 4_000;

pub struct Problem {
    /// The aggregates the root reads, in creation order.
    pub aggregates: Vec<NodeId>,
    /// Index into `keys` of each aggregate's head key.
    pub key: Vec<usize>,
    pub keys: Vec<HeadKey>,
    depth: Vec<usize>,
    /// For each aggregate, the aggregates it reads directly (through
    /// selectors and MLPs, not through another aggregate).
    deps: Vec<Vec<usize>>,
    /// Aggregates that must share a layer (a BOS `selector_width` pair),
    /// in topological order.
    units: Vec<Vec<usize>>,
    layers: usize,
}

impl Problem {
    pub fn new(
        graph: &Graph,
        root: NodeId,
        depth: &BTreeMap<NodeId, usize>,
        layers: usize,
        bos_selector_width: bool,
    ) -> Problem {
        let ancestors = graph.ancestors(root);
        let aggregates: Vec<NodeId> =
            ancestors.iter().copied().filter(|&id| matches!(graph.kind(id), NodeKind::Aggregate { .. })).collect();
        let index: HashMap<NodeId, usize> = aggregates.iter().enumerate().map(|(i, &a)| (a, i)).collect();

        // The aggregates each node reads without passing another aggregate.
        let mut front: HashMap<NodeId, Vec<usize>> = HashMap::new();
        let mut deps = vec![Vec::new(); aggregates.len()];
        for &id in &ancestors {
            let kind = graph.kind(id);
            let mut reads: Vec<usize> =
                kind.inputs().iter().flat_map(|p| front.get(p).map(Vec::as_slice).unwrap_or(&[])).copied().collect();
            reads.sort_unstable();
            reads.dedup();
            if let Some(&i) = index.get(&id) {
                deps[i] = reads;
                front.insert(id, vec![i]);
            } else {
                front.insert(id, reads);
            }
        }

        let mut head_key: Vec<HeadKey> = aggregates
            .iter()
            .map(|&a| match graph.kind(a) {
                NodeKind::Aggregate { selector, .. } => HeadKey::Selector(*selector),
                NodeKind::Tokens(_)
                | NodeKind::Indices
                | NodeKind::Constant(_)
                | NodeKind::Map { .. }
                | NodeKind::Select { .. }
                | NodeKind::SelectAll
                | NodeKind::SelectAnd(..)
                | NodeKind::SelectOr(..)
                | NodeKind::SelectNot(_) => HeadKey::Selector(a),
            })
            .collect();
        let mut unit_of: Vec<usize> = (0..aggregates.len()).collect();
        if bos_selector_width {
            for (or_aggregate, and_aggregate, sel) in selector_width_pairs(graph, &aggregates) {
                let (Some(&o), Some(&a)) = (index.get(&or_aggregate), index.get(&and_aggregate)) else { continue };
                head_key[o] = HeadKey::Width(sel);
                head_key[a] = HeadKey::Width(sel);
                let (first, second) = (o.min(a), o.max(a));
                unit_of[second] = first;
            }
        }
        let mut keys: Vec<HeadKey> = head_key.clone();
        keys.sort_unstable();
        keys.dedup();
        let key = head_key.iter().map(|k| keys.binary_search(k).unwrap_or(0)).collect();

        let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, &u) in unit_of.iter().enumerate() {
            members.entry(u).or_default().push(i);
        }
        let units = topological_units(members.into_values().collect(), &deps);
        let depth = aggregates.iter().map(|a| depth.get(a).copied().unwrap_or(1)).collect();
        Problem { aggregates, key, keys, depth, deps, units, layers }
    }

    /// The reference's schedule: every aggregate at its depth.
    pub fn greedy(&self) -> Vec<usize> {
        self.depth.clone()
    }

    /// The schedule with the narrowest widest layer (then the fewest heads
    /// in total, then the earliest), and whether its widest layer is proven
    /// narrowest.
    ///
    /// Phase 1 finds the narrowest widest layer W: for W from a lower bound
    /// up, a depth-first search for a schedule with at most W heads per
    /// layer. Phase 2 is a branch and bound on (widest, total) from that
    /// schedule. Both have budgets; past them the best schedule found is
    /// improved by moving single heads, so the result is always a valid
    /// schedule and never worse than greedy.
    pub fn best(&self) -> (Vec<usize>, bool) {
        self.best_with_budget(SEARCH_BUDGET)
    }

    fn best_with_budget(&self, budget: usize) -> (Vec<usize>, bool) {
        let mut search = Search::new(self);
        if search.at_lower_bound() {
            // Greedy (every unit at its earliest) is also the earliest schedule.
            return (self.greedy(), true);
        }
        let mut widest_proven = search.best.0 <= search.lower.0;
        if !widest_proven && self.units.len() <= SEARCH_MAX_UNITS {
            let mut all_refuted = true;
            for w in search.lower.0..search.best.0 {
                search.budget = budget;
                search.exhausted = false;
                if search.fits(w, 0) {
                    search.best = search.score_of(&search.found.clone());
                    search.best_layers = search.found.clone();
                    break;
                }
                all_refuted &= !search.exhausted;
            }
            widest_proven = all_refuted;
        }
        let mut exact = false;
        if self.units.len() <= SEARCH_MAX_UNITS {
            search.budget = budget;
            search.exhausted = false;
            search.dfs(0);
            exact = !search.exhausted;
        }
        if !exact {
            search.improve_locally();
        }
        let optimal = exact || widest_proven || search.best.0 <= search.lower.0;
        let mut out = vec![0; self.aggregates.len()];
        for (u, unit) in self.units.iter().enumerate() {
            for &a in unit {
                out[a] = search.best_layers[u];
            }
        }
        (out, optimal)
    }
}

/// Orders units so every unit comes after the units it reads (ties: the
/// earliest created first).
fn topological_units(units: Vec<Vec<usize>>, deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut unit_of = vec![0; deps.len()];
    for (u, members) in units.iter().enumerate() {
        for &a in members {
            unit_of[a] = u;
        }
    }
    let mut waiting = vec![0usize; units.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    for (u, members) in units.iter().enumerate() {
        let mut reads: Vec<usize> = members.iter().flat_map(|&a| &deps[a]).map(|&d| unit_of[d]).collect();
        reads.sort_unstable();
        reads.dedup();
        reads.retain(|&v| v != u);
        waiting[u] = reads.len();
        for v in reads {
            dependents[v].push(u);
        }
    }
    let first = |u: usize| units[u].iter().copied().min().unwrap_or(0);
    let mut ready: BinaryHeap<Reverse<(usize, usize)>> =
        (0..units.len()).filter(|&u| waiting[u] == 0).map(|u| Reverse((first(u), u))).collect();
    let mut order = Vec::with_capacity(units.len());
    while let Some(Reverse((_, u))) = ready.pop() {
        order.push(u);
        for &v in &dependents[u] {
            waiting[v] -= 1;
            if waiting[v] == 0 {
                ready.push(Reverse((first(v), v)));
            }
        }
    }
    order.into_iter().map(|u| units[u].clone()).collect()
}

/// (heads in the widest layer, heads in total): smaller is better.
type Score = (usize, usize);

struct Search {
    layers: usize,
    keys: usize,
    unit_key: Vec<usize>,
    unit_deps: Vec<Vec<usize>>,
    unit_dependents: Vec<Vec<usize>>,
    /// Latest layer of each unit that leaves room for what reads it.
    latest: Vec<usize>,
    layer: Vec<usize>,
    /// Aggregates of each (layer, key) currently placed.
    count: Vec<u32>,
    width: Vec<usize>,
    total: usize,
    best: Score,
    best_layers: Vec<usize>,
    /// Whether `best` was found by the running branch and bound (a later
    /// schedule with the same score is then not taken: the first one found
    /// is the earliest).
    best_is_ours: bool,
    /// The schedule `fits` found.
    found: Vec<usize>,
    lower: Score,
    budget: usize,
    exhausted: bool,
}

impl Search {
    fn new(p: &Problem) -> Search {
        let n = p.units.len();
        let mut unit_of = vec![0; p.aggregates.len()];
        for (u, members) in p.units.iter().enumerate() {
            for &a in members {
                unit_of[a] = u;
            }
        }
        let mut unit_deps = vec![Vec::new(); n];
        let mut unit_dependents = vec![Vec::new(); n];
        for (u, members) in p.units.iter().enumerate() {
            let mut reads: Vec<usize> = members.iter().flat_map(|&a| &p.deps[a]).map(|&d| unit_of[d]).collect();
            reads.sort_unstable();
            reads.dedup();
            reads.retain(|&v| v != u);
            for &v in &reads {
                unit_dependents[v].push(u);
            }
            unit_deps[u] = reads;
        }
        // As late as possible: the root's layer bounds everything, and a
        // unit must come at least one layer before each unit reading it.
        let mut latest = vec![p.layers; n];
        for u in (0..n).rev() {
            for &v in &unit_deps[u] {
                latest[v] = latest[v].min(latest[u].saturating_sub(1));
            }
        }
        let unit_key: Vec<usize> = p.units.iter().map(|m| m.first().map_or(0, |&a| p.key[a])).collect();
        let greedy: Vec<usize> = p.units.iter().map(|m| m.iter().map(|&a| p.depth[a]).max().unwrap_or(1)).collect();

        // Lower bounds: every key is at least one head somewhere; the layers
        // share them out; units with no freedom are where they are.
        let mut fixed: Vec<Vec<usize>> = vec![Vec::new(); p.layers + 1];
        for u in 0..n {
            if greedy[u] == latest[u]
                && let Some(f) = fixed.get_mut(greedy[u])
            {
                f.push(unit_key[u]);
            }
        }
        let fixed_width = fixed
            .iter_mut()
            .map(|f| {
                f.sort_unstable();
                f.dedup();
                f.len()
            })
            .max()
            .unwrap_or(0);
        let keys = p.keys.len();
        let lower = (fixed_width.max(keys.div_ceil(p.layers.max(1))), keys);

        let mut search = Search {
            layers: p.layers,
            keys,
            unit_key,
            unit_deps,
            unit_dependents,
            latest,
            layer: vec![0; n],
            count: vec![0; (p.layers + 1) * keys.max(1)],
            width: vec![0; p.layers + 1],
            total: 0,
            best: (usize::MAX, usize::MAX),
            best_layers: greedy.clone(),
            best_is_ours: false,
            found: Vec::new(),
            lower,
            budget: 0,
            exhausted: false,
        };
        for (u, &l) in greedy.iter().enumerate() {
            search.place(u, l);
        }
        search.best = search.score();
        for u in 0..n {
            search.unplace(u);
        }
        search
    }

    fn at_lower_bound(&self) -> bool {
        self.best <= self.lower
    }

    fn score(&self) -> Score {
        (self.width.iter().copied().max().unwrap_or(0), self.total)
    }

    fn place(&mut self, u: usize, l: usize) {
        self.layer[u] = l;
        let c = &mut self.count[l * self.keys + self.unit_key[u]];
        *c += 1;
        if *c == 1 {
            self.width[l] += 1;
            self.total += 1;
        }
    }

    fn unplace(&mut self, u: usize) {
        let l = self.layer[u];
        let c = &mut self.count[l * self.keys + self.unit_key[u]];
        *c -= 1;
        if *c == 0 {
            self.width[l] -= 1;
            self.total -= 1;
        }
    }

    /// Earliest layer for `u` given where the units it reads are.
    fn earliest(&self, u: usize) -> usize {
        self.unit_deps[u].iter().map(|&v| self.layer[v] + 1).max().unwrap_or(1).max(1)
    }

    fn score_of(&mut self, layers: &[usize]) -> Score {
        for (u, &l) in layers.iter().enumerate() {
            self.place(u, l);
        }
        let s = self.score();
        for u in 0..layers.len() {
            self.unplace(u);
        }
        s
    }

    /// Whether units `i..` can be placed with at most `w` heads in any
    /// layer (the schedule goes to `found`). Layers where the unit's head
    /// already is come first (they cost nothing), then the earliest.
    fn fits(&mut self, w: usize, i: usize) -> bool {
        if self.budget == 0 {
            self.exhausted = true;
            return false;
        }
        self.budget -= 1;
        if i == self.layer.len() {
            self.found = self.layer.clone();
            return true;
        }
        let u = i;
        let key = self.unit_key[u];
        let (lo, hi) = (self.earliest(u), self.latest[u]);
        let shared = (lo..=hi).filter(|&l| self.count[l * self.keys + key] > 0);
        let fresh = (lo..=hi).filter(|&l| self.count[l * self.keys + key] == 0 && self.width[l] < w);
        let candidates: Vec<usize> = shared.chain(fresh).collect();
        for l in candidates {
            self.place(u, l);
            let done = self.fits(w, i + 1);
            self.unplace(u);
            if done || self.exhausted {
                return done;
            }
        }
        false
    }

    /// Branch and bound over units in topological order, layers ascending,
    /// so the first optimum found is the earliest one.
    fn dfs(&mut self, i: usize) {
        if self.budget == 0 {
            self.exhausted = true;
            return;
        }
        self.budget -= 1;
        if i == self.layer.len() {
            let s = self.score();
            if s < self.best || (s == self.best && !self.best_is_ours) {
                self.best = s;
                self.best_layers = self.layer.clone();
                self.best_is_ours = true;
            }
            return;
        }
        let u = i;
        for l in self.earliest(u)..=self.latest[u] {
            self.place(u, l);
            // Placing more never lowers the score: a partial score bounds
            // every completion.
            let s = self.score();
            if s < self.best || (s == self.best && !self.best_is_ours) {
                self.dfs(i + 1);
            }
            self.unplace(u);
            if self.exhausted || (self.best_is_ours && self.at_lower_bound()) {
                return;
            }
        }
    }

    /// Moves single units to better layers while that helps (used when the
    /// exact search ran out of budget). A move must lower (widest, total,
    /// sum of squared widths): the last term rewards moving a head from a
    /// wide layer to a narrower one even when several layers tie for widest,
    /// and strictly decreasing it guarantees the loop ends.
    fn improve_locally(&mut self) {
        let n = self.layer.len();
        let start = self.best_layers.clone();
        for (u, &l) in start.iter().enumerate() {
            self.place(u, l);
        }
        loop {
            let mut improved = false;
            for u in 0..n {
                let lo = self.earliest(u);
                let hi = self.unit_dependents[u]
                    .iter()
                    .map(|&v| self.layer[v].saturating_sub(1))
                    .min()
                    .unwrap_or(self.layers)
                    .min(self.latest[u]);
                let current = self.layer[u];
                self.unplace(u);
                let mut choice = (self.balance_with(u, current), current);
                for l in lo..=hi {
                    let s = (self.balance_with(u, l), l);
                    if s.0 < choice.0 {
                        choice = s;
                    }
                }
                self.place(u, choice.1);
                improved |= choice.1 != current;
            }
            if !improved {
                break;
            }
        }
        let s = self.score();
        if s <= self.best {
            self.best = s;
            self.best_layers = self.layer.clone();
        }
    }

    fn balance_with(&mut self, u: usize, l: usize) -> (usize, usize, usize) {
        self.place(u, l);
        let (widest, total) = self.score();
        let squares = self.width.iter().map(|w| w * w).sum();
        self.unplace(u);
        (widest, total, squares)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::depth::depths;
    use rasp_core::pyops::ArithOp;
    use rasp_core::{MapOp, Predicate, TokenConversion};

    #[test]
    fn without_budget_local_moves_balance_the_layers() {
        // A chain of 6 heads and 17 heads that can go anywhere: 23 heads in
        // 6 layers need 4 in the widest.
        let mut g = Graph::new();
        let tokens = g.add(NodeKind::Tokens(TokenConversion::Str), "tokens", true);
        let indices = g.add(NodeKind::Indices, "indices", true);
        let mut x = tokens;
        for _ in 0..6 {
            let s = g.add(NodeKind::Select { key: x, query: x, predicate: Predicate::Eq }, "s", true);
            x = g.add(NodeKind::Aggregate { selector: s, values: x, default: None }, "a", true);
        }
        let mut root = x;
        for _ in 0..17 {
            let s = g.add(NodeKind::Select { key: tokens, query: indices, predicate: Predicate::Lt }, "f", true);
            let f = g.add(NodeKind::Aggregate { selector: s, values: indices, default: None }, "f", true);
            let op = MapOp::Arith(ArithOp::Add);
            root = g.add(NodeKind::Map { op, inputs: vec![root, f] }, "sum", false);
        }
        let depth = depths(&g, root);
        let problem = Problem::new(&g, root, &depth, 6, false);
        let (layers, optimal) = problem.best_with_budget(0);
        let mut width = [0; 7];
        for &l in &layers {
            width[l] += 1;
        }
        assert_eq!(width.iter().max(), Some(&4), "{width:?}");
        assert!(optimal, "4 is the lower bound");
        // Every chain head still follows the one before it.
        let chain: Vec<usize> =
            problem.aggregates.iter().enumerate().filter(|(_, a)| g.name(**a) == "a").map(|(i, _)| layers[i]).collect();
        assert_eq!(chain, vec![1, 2, 3, 4, 5, 6]);
    }
}
