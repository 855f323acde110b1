//! rasp-compile: RASP graphs to transformer weights.
//!
//! Input: a graph (`rasp_core::Graph`), the output s-op, a vocabulary, an
//! optional BOS token and a maximum length. Output: a [`rasp_model::Model`]
//! whose forward pass, decoded by argmax (categorical) or rounding to the
//! nearest possible value (numerical), equals the interpreter on every input
//! the interpreter accepts (`verify` checks it), or a [`CompileError`] naming
//! the s-op and the reason.
//!
//! Stages: value-set inference ([`infer`]) → which s-ops get dimensions and
//! how they are encoded ([`plan`]) → blocks: attention heads for aggregates
//! (selectors as bilinear scores, [`selector`]) and exact ReLU MLPs for
//! elementwise maps ([`mlp`]) → layers and dense weights ([`assemble`]).
//! Invariants: pure (no IO); deterministic; the compiler's start token sits
//! at position 0 of every model input and is never decoded.

pub mod assemble;
pub mod build;
pub mod error;
pub mod infer;
pub mod mlp;
pub mod plan;
pub mod selector;
pub mod values;
pub mod verify;

pub use error::CompileError;
pub use rasp_model::{Encoding, Model, ProgramInfo};

use rasp_core::{Graph, NodeId, NodeKind};

#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Input tokens (strings, as a user types them).
    pub vocab: Vec<String>,
    /// A token every input starts with (not part of the vocabulary).
    pub bos: Option<String>,
    /// Longest word (BOS not counted).
    pub max_len: usize,
    /// Encoding overrides by s-op name.
    pub encodings: Vec<(String, Encoding)>,
    /// Largest attention leak allowed, relative to the value range.
    pub leak: f64,
    /// Recorded in model.json.
    pub program: Option<ProgramInfo>,
}

impl CompileOptions {
    pub fn new(vocab: Vec<String>, bos: Option<String>, max_len: usize) -> CompileOptions {
        CompileOptions { vocab, bos, max_len, encodings: Vec::new(), leak: 1e-6, program: None }
    }
}

/// What the compiler decided, for reports and model.json.
#[derive(Debug, Clone, Default)]
pub struct CompileReport {
    /// (s-op name, number of possible values) for every s-op.
    pub value_sets: Vec<(String, usize)>,
    /// One line per head, selector construction or other decision.
    pub notes: Vec<String>,
}

pub fn compile(graph: &Graph, root: NodeId, opts: &CompileOptions) -> Result<(Model, CompileReport), CompileError> {
    if root.index() >= graph.len() {
        return Err(CompileError::general("the output node does not exist"));
    }
    if graph.is_selector(root) {
        return Err(CompileError::at(graph, root, "is a selector; only s-ops can be compiled"));
    }
    if opts.vocab.is_empty() {
        return Err(CompileError::general("the vocabulary is empty"));
    }
    if opts.max_len == 0 {
        return Err(CompileError::general("the maximum length must be at least 1"));
    }
    let mut seen = std::collections::HashSet::new();
    for t in &opts.vocab {
        if !seen.insert(t) {
            return Err(CompileError::general(format!("the vocabulary lists {t:?} twice")));
        }
        if opts.bos.as_deref() == Some(t.as_str()) {
            return Err(CompileError::general(format!("the BOS token {t:?} must not be in the vocabulary")));
        }
    }
    let nodes = graph.ancestors(root);
    let inf = infer::infer(graph, &nodes, &opts.vocab, opts.bos.as_deref(), opts.max_len)?;
    let planner = plan::Planner::new(graph, &inf, nodes.clone(), root, &opts.encodings)?;
    let mut builder = build::Builder::new(&planner, opts.leak);
    builder.build_all()?;
    let (encoding, values, rows) = builder.readout()?;
    let readout = assemble::Readouts { encoding, values, rows, sop: graph.name(root).to_string() };
    let mut model =
        assemble::assemble(&builder, readout, &opts.vocab, opts.bos.as_deref(), opts.max_len, opts.program.clone())?;
    let value_sets: Vec<(String, usize)> = nodes
        .iter()
        .filter(|&&id| !graph.is_selector(id) && !matches!(graph.kind(id), NodeKind::Constant(_)))
        .map(|&id| (format!("{}#{}", graph.name(id), id.0), inf.values(id).len()))
        .collect();
    let report = CompileReport { value_sets, notes: builder.notes.clone() };
    model.config.compiler = serde_json::json!({
        "value_set_sizes": report.value_sets.iter().map(|(n, s)| serde_json::json!([n, s])).collect::<Vec<_>>(),
        "notes": report.notes,
        "attention_leak_bound": opts.leak,
        "materialized": planner.mat.keys().map(|id| format!("{}#{}", graph.name(*id), id.0)).collect::<Vec<_>>(),
    });
    Ok((model, report))
}

/// The paper's example programs (reverse, hist_bos, sort_bos,
/// sort_by_most_freq, dyck1_ptf, dyck2_ptf) as the tests and benchmarks use them.
pub const PAPER_EXAMPLES: &str = include_str!("../tests/data/paper.rasp");
