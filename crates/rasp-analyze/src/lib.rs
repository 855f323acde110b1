//! rasp-analyze: the shape of the transformer a RASP program compiles to.
//!
//! Input: a graph (`rasp_core::Graph`) and the s-op to analyse (the root).
//! Output: an [`Analysis`]: the number of layers, the attention heads of
//! each layer (which selector, which keys, queries and predicates, which
//! aggregates it serves) and the elementwise operations (MLPs) computed in
//! each layer, with a text report and JSON.
//!
//! The model (semantics.md §4): every `aggregate` is an attention head, grouped by
//! its selector (aggregates sharing a selector in one layer share one head);
//! everything elementwise is an MLP, which runs after the attention of its
//! layer and so never adds a layer. Layer 0 is the embedding.
//!
//! Invariants: pure (no IO); deterministic (everything is listed in node
//! creation order); [`Schedule::Greedy`] without options reproduces the
//! reference's `analyse.py` numbers exactly. Other schedules keep the same
//! number of layers and never report more heads in the widest layer.

#![warn(missing_docs)]

mod depth;
mod json;
mod report;
mod schedule;
mod width;

pub use depth::depths;
pub use report::{operand_name, predicate_expression, selector_expression};

use rasp_core::{Graph, NodeId, NodeKind};
use std::collections::BTreeMap;

/// How aggregates are assigned to layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// The reference's scheduler: every s-op as early as possible (its
    /// depth). The counts it gives are the ones the reference reports.
    #[default]
    Greedy,
    /// Same number of layers, but each aggregate may move to any layer
    /// between its earliest and the latest that still lets everything after
    /// it be computed, chosen to make the widest layer as narrow as possible
    /// (then the fewest heads in total, then as early as possible). Searched
    /// exactly for small programs; beyond a search budget, the best
    /// schedule found plus local improvement (never worse than greedy).
    Best,
}

impl Schedule {
    /// The schedule's lower-case name, `greedy` or `best`, as the text
    /// report, the JSON (`"schedule"`) and drawings' summaries print it.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Greedy => "greedy",
            Schedule::Best => "best",
        }
    }
}

/// What to analyse and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnalyzeOptions {
    /// How aggregates are placed in layers; [`Schedule::Greedy`] (the
    /// reference's placement) by default.
    pub schedule: Schedule,
    /// Count the library's `selector_width` as one head instead of two.
    ///
    /// The library computes a selector's width without a beginning-of-
    /// sequence token, with two aggregates: one over `sel or
    /// select(indices,0,==)` and one over `sel and select(indices,0,==)`.
    /// When the input starts with a BOS token at position 0 that `sel`
    /// never selects, the first aggregate alone gives the width (the BOS
    /// gets 1/(w+1) of the attention), so one head suffices. This is how the
    /// paper counts its histogram programs. Off by default, as the reference
    /// counts two heads.
    pub bos_selector_width: bool,
}

/// The layers and heads of one s-op.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The analysed s-op.
    pub root: NodeId,
    /// The options the analysis was made with, so a report or drawing can
    /// say which schedule and head counting its numbers come from.
    pub options: AnalyzeOptions,
    /// Number of layers (attention + MLP blocks); 0 when the s-op needs no
    /// attention at all.
    pub layers: usize,
    /// Heads in layers 1..=layers (index 0 is layer 1); empty for 0 layers.
    pub heads_per_layer: Vec<usize>,
    /// Layers 0..=layers; layer 0 is the embedding (MLPs only).
    pub layer_details: Vec<Layer>,
    /// For [`Schedule::Best`]: whether the schedule is proven to have the
    /// narrowest widest layer (the exact search finished). Always true for
    /// [`Schedule::Greedy`], which has nothing to search.
    pub optimal: bool,
    placement: BTreeMap<NodeId, usize>,
}

/// One layer: its attention heads, then its MLPs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// This layer's number, which is also its index in
    /// [`Analysis::layer_details`]: 0 is the embedding (MLPs only, never
    /// heads), attention layers count from 1.
    pub layer: usize,
    /// The layer's attention heads, ordered by selector creation; empty
    /// for layer 0.
    pub heads: Vec<Head>,
    /// The elementwise s-ops computed in this layer, in creation order.
    pub mlps: Vec<NodeId>,
}

/// One attention head: a selector and the aggregates computed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The selector node (for a BOS `selector_width`, the `sel or
    /// select(indices,0,==)` selector the one head attends with).
    pub selector: NodeId,
    /// Whether the head serves ordinary aggregates or is the one head of a
    /// BOS `selector_width`.
    pub kind: HeadKind,
    /// The plain `select(...)` nodes the selector combines (itself if it is
    /// one), in creation order; may include the shared `full average`.
    pub selects: Vec<NodeId>,
    /// The distinct key s-ops of those selects, in creation order.
    pub keys: Vec<NodeId>,
    /// The distinct query s-ops of those selects, in creation order.
    pub queries: Vec<NodeId>,
    /// The aggregates this head computes, in creation order.
    pub aggregates: Vec<NodeId>,
}

/// What an attention head stands for, which decides how it is counted and
/// labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// An ordinary head: the aggregates share `selector`.
    Attention,
    /// The library's `selector_width(sel)` counted as one head
    /// ([`AnalyzeOptions::bos_selector_width`]).
    BosSelectorWidth {
        /// The selector whose width is computed.
        sel: NodeId,
    },
}

/// Analyses `root` with `schedule` and the reference's head counting.
pub fn analyze(graph: &Graph, root: NodeId, schedule: Schedule) -> Analysis {
    analyze_with(graph, root, AnalyzeOptions { schedule, bos_selector_width: false })
}

/// Analyses `root` with all options. `root` must be a node of `graph`; a
/// selector root is analysed through the s-ops it reads.
pub fn analyze_with(graph: &Graph, root: NodeId, options: AnalyzeOptions) -> Analysis {
    let depth = depths(graph, root);
    let layers = depth.iter().filter(|(id, _)| !graph.is_selector(**id)).map(|(_, d)| *d).max().unwrap_or(0);
    let problem = schedule::Problem::new(graph, root, &depth, layers, options.bos_selector_width);
    let (aggregate_layers, optimal) = match options.schedule {
        Schedule::Greedy => (problem.greedy(), true),
        Schedule::Best => problem.best(),
    };
    build(graph, root, options, layers, &problem, &aggregate_layers, optimal)
}

fn build(
    graph: &Graph,
    root: NodeId,
    options: AnalyzeOptions,
    layers: usize,
    problem: &schedule::Problem,
    aggregate_layers: &[usize],
    optimal: bool,
) -> Analysis {
    // S-ops other than aggregates go as early as their inputs allow: an MLP
    // runs after the attention of its layer.
    let mut placement: BTreeMap<NodeId, usize> = BTreeMap::new();
    for (i, &a) in problem.aggregates.iter().enumerate() {
        placement.insert(a, aggregate_layers[i]);
    }
    for id in graph.ancestors(root) {
        let layer = match graph.kind(id) {
            NodeKind::Map { inputs, .. } => inputs.iter().filter_map(|p| placement.get(p)).copied().max().unwrap_or(0),
            NodeKind::Tokens(_) | NodeKind::Indices | NodeKind::Constant(_) => 0,
            NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_)
            | NodeKind::Aggregate { .. } => continue,
        };
        placement.insert(id, layer);
    }
    let mut layer_details: Vec<Layer> =
        (0..=layers).map(|layer| Layer { layer, heads: Vec::new(), mlps: Vec::new() }).collect();
    for (&id, &layer) in &placement {
        if matches!(graph.kind(id), NodeKind::Map { .. })
            && let Some(l) = layer_details.get_mut(layer)
        {
            l.mlps.push(id);
        }
    }
    // Heads: aggregates of one layer grouped by head key.
    let mut groups: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, &layer) in aggregate_layers.iter().enumerate() {
        groups.entry((layer, problem.key[i])).or_default().push(i);
    }
    for ((layer, key), members) in groups {
        let aggregates: Vec<NodeId> = members.iter().map(|&i| problem.aggregates[i]).collect();
        let (selector, kind) = match problem.keys[key] {
            schedule::HeadKey::Selector(s) => (s, HeadKind::Attention),
            schedule::HeadKey::Width(sel) => {
                let first = aggregates.iter().find_map(|&a| match graph.kind(a) {
                    NodeKind::Aggregate { selector, .. } if matches!(graph.kind(*selector), NodeKind::SelectOr(..)) => {
                        Some(*selector)
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
                    | NodeKind::Aggregate { .. } => None,
                });
                (first.unwrap_or(sel), HeadKind::BosSelectorWidth { sel })
            }
        };
        let head = make_head(graph, selector, kind, aggregates);
        if let Some(l) = layer_details.get_mut(layer) {
            l.heads.push(head);
        }
    }
    for l in &mut layer_details {
        l.heads.sort_by_key(|h| h.selector);
    }
    let heads_per_layer = layer_details.iter().skip(1).map(|l| l.heads.len()).collect();
    Analysis { root, options, layers, heads_per_layer, layer_details, optimal, placement }
}

fn make_head(graph: &Graph, selector: NodeId, kind: HeadKind, aggregates: Vec<NodeId>) -> Head {
    let selects = leaf_selects(graph, selector);
    let mut keys = Vec::new();
    let mut queries = Vec::new();
    for &s in &selects {
        if let NodeKind::Select { key, query, .. } = graph.kind(s) {
            keys.push(*key);
            queries.push(*query);
        }
    }
    keys.sort_unstable();
    keys.dedup();
    queries.sort_unstable();
    queries.dedup();
    Head { selector, kind, selects, keys, queries, aggregates }
}

/// The plain selects (and `full average`) a selector is built from.
pub fn leaf_selects(graph: &Graph, selector: NodeId) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack = vec![selector];
    while let Some(s) = stack.pop() {
        match graph.kind(s) {
            NodeKind::SelectAnd(a, b) | NodeKind::SelectOr(a, b) => {
                stack.push(*a);
                stack.push(*b);
            }
            NodeKind::SelectNot(a) => stack.push(*a),
            NodeKind::Select { .. } | NodeKind::SelectAll => out.push(s),
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Aggregate { .. } => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

impl Analysis {
    /// Heads in the widest layer (0 for no layers).
    pub fn max_heads(&self) -> usize {
        self.heads_per_layer.iter().copied().max().unwrap_or(0)
    }

    /// Heads over all layers.
    pub fn total_heads(&self) -> usize {
        self.heads_per_layer.iter().sum()
    }

    /// Heads per layer as `2/1/1`, or `-` for no layers.
    pub fn heads_string(&self) -> String {
        if self.heads_per_layer.is_empty() {
            return "-".to_string();
        }
        self.heads_per_layer.iter().map(usize::to_string).collect::<Vec<_>>().join("/")
    }

    /// The layer an s-op is computed in (aggregates: the layer of their
    /// head; elementwise s-ops: the layer whose MLP computes them; inputs
    /// and constants: 0). `None` for selectors and nodes the root does not
    /// read.
    pub fn layer_of(&self, id: NodeId) -> Option<usize> {
        self.placement.get(&id).copied()
    }
}
