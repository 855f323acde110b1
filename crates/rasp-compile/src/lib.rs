//! rasp-compile: RASP graphs to transformer weights.
//!
//! Input: a graph (`rasp_core::Graph`), the output s-op, a vocabulary, an
//! optional BOS token and a maximum length. Output: a [`Model`] whose
//! forward pass, decoded by argmax (categorical) or rounding to the nearest
//! possible value (numerical), equals the interpreter on every input the
//! interpreter accepts ([`verify()`] checks it), or a [`CompileError`] naming
//! the s-op and the reason.
//!
//! Stages, as [`compile`] runs them: value-set inference (`infer`) → rewrites
//! of what would need tables too large to build (`rewrite`, then inference
//! again) → which s-ops get dimensions and how they are encoded (`plan`) →
//! blocks over
//! symbolic residual directions (`build`): attention heads for aggregates
//! (selectors as bilinear scores, `selector`) and exact ReLU MLPs for
//! elementwise maps (`mlp`) → layers and dense weights (`assemble`).
//! Invariants: pure (no IO, no clock: it runs on `wasm32-unknown-unknown`);
//! deterministic; the compiler's start token sits at position 0 of every
//! model input and is never decoded.

#![warn(missing_docs)]

mod assemble;
mod build;
mod error;
mod infer;
mod lookahead;
mod mlp;
mod plan;
mod residual;
mod rewrite;
mod selector;
mod values;
mod verify;

pub use error::CompileError;
pub use lookahead::{LookaheadDifference, LookaheadOptions, LookaheadReport, check_lookahead};
pub use rasp_model::{Encoding, Model, ProgramInfo};
pub use verify::{
    Coverage, LengthReport, Mismatch, NoProgress, Rng, VerifyOptions, VerifyProgress, VerifyReport, model_mask, verify,
    verify_plan, verify_with_progress,
};

use rasp_core::{AttentionMask, Graph, NodeId, NodeKind};
use std::collections::HashMap;

/// What to compile for: the inputs the model must accept, and choices a
/// caller may override.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Input tokens (strings, as a user types them).
    pub vocab: Vec<String>,
    /// A token every input starts with (not part of the vocabulary).
    pub bos: Option<String>,
    /// Longest word (BOS not counted).
    pub max_len: usize,
    /// Encoding overrides by s-op name (the last one for a name wins).
    pub encodings: Vec<(String, Encoding)>,
    /// Largest total attention weight allowed on unselected keys, relative
    /// to the value range: sets each head's softmax scale.
    pub leak: f64,
    /// Recorded in model.json, so that the model can be verified later.
    pub program: Option<ProgramInfo>,
    /// The attention mask the model is built with (semantics.md §6):
    /// recorded in model.json (`causal`, `prefix_len`) and applied by the
    /// forward pass. The inferred value sets need almost no change: a mask
    /// only removes keys from a selection, and every set is already closed
    /// under any selection (any single value, any mean of up to n values,
    /// the default), and the start token, position 0, stays visible to every
    /// query as the sink of empty selections. One inference needs every key
    /// visible, and is not made under a mask: that a rank of the positions
    /// (`sort`'s target positions) selects one key per query.
    pub mask: AttentionMask,
}

impl CompileOptions {
    /// Options for `vocab`, `bos` and `max_len`, with no overrides, a leak
    /// of 1e-6 and no program recorded.
    pub fn new(vocab: Vec<String>, bos: Option<String>, max_len: usize) -> CompileOptions {
        CompileOptions {
            vocab,
            bos,
            max_len,
            encodings: Vec::new(),
            leak: 1e-6,
            program: None,
            mask: AttentionMask::Bidirectional,
        }
    }
}

/// What the compiler decided, for reports and model.json.
#[derive(Debug, Clone, Default)]
pub struct CompileReport {
    /// (s-op name, number of possible values) for every s-op.
    pub value_sets: Vec<(String, usize)>,
    /// One line per head, selector construction or other decision.
    pub notes: Vec<String>,
    /// Why the model has more layers than the program's attention depth
    /// (what `rasp analyze` counts), one line per head placed later than
    /// its depth or layer without heads; empty when the sizes agree.
    pub layer_notes: Vec<String>,
}

/// Compiles the s-op `root` of `graph` for the inputs `opts` describes.
///
/// Fails, without panicking, on anything the compiler cannot make exact:
/// an empty vocabulary, a selector as output, value sets or MLP domains
/// beyond the limits, averages of non-numbers, and the like.
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
    // Value sets hold a value per position or token, and tables pair them,
    // so these bound the work before any of it starts; the size of the
    // weights is checked again once the residual stream is laid out.
    if opts.max_len > MAX_COMPILE_LEN {
        return Err(CompileError::general(format!(
            "the maximum length {} is over the limit of {MAX_COMPILE_LEN}",
            opts.max_len
        )));
    }
    if opts.vocab.len() > MAX_VOCAB {
        return Err(CompileError::general(format!(
            "the vocabulary has {} tokens, over the limit of {MAX_VOCAB}",
            opts.vocab.len()
        )));
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
    let inference = infer::infer(graph, &nodes, &opts.vocab, opts.bos.as_deref(), opts.max_len, opts.mask)?;
    match rewrite::split_lexicographic_widths(graph, root, &nodes, &inference) {
        None => compile_graph(graph, root, nodes, &inference, HashMap::new(), Vec::new(), opts),
        Some(rewritten) => {
            let nodes = rewritten.graph.ancestors(rewritten.root);
            let inference =
                infer::infer(&rewritten.graph, &nodes, &opts.vocab, opts.bos.as_deref(), opts.max_len, opts.mask)?;
            let origin = rewritten.origin.clone();
            compile_graph(&rewritten.graph, rewritten.root, nodes, &inference, rewritten.origin, rewritten.notes, opts)
                // An error names the caller's node, not its copy.
                .map_err(|mut e| {
                    if let Some((id, _)) = &mut e.node
                        && let Some(original) = origin.get(id)
                    {
                        *id = *original;
                    }
                    e
                })
        }
    }
}

/// [`compile`] once the graph is final: plan, build, assemble and report.
fn compile_graph(
    graph: &Graph,
    root: NodeId,
    nodes: Vec<NodeId>,
    inference: &infer::Inference,
    origin: HashMap<NodeId, NodeId>,
    rewrite_notes: Vec<String>,
    opts: &CompileOptions,
) -> Result<(Model, CompileReport), CompileError> {
    let mut planner = plan::Planner::new(graph, inference, nodes.clone(), root, &opts.encodings)?;
    planner.origin = origin;
    let mut builder = build::Builder::new(&planner, opts.leak);
    builder.notes.extend(rewrite_notes);
    builder.build_blocks()?;
    let readout = builder.readout()?;
    let input = assemble::InputSpec {
        vocab: &opts.vocab,
        bos: opts.bos.as_deref(),
        max_len: opts.max_len,
        program: opts.program.clone(),
    };
    let (mut model, layer_notes) = assemble::assemble(&builder, readout, graph.name(root).to_string(), input)?;
    let readable = rasp_core::ReadableNames::new(graph);
    model.config.causal = opts.mask.is_causal();
    model.config.prefix_len = opts.mask.prefix_len();
    let value_sets: Vec<(String, usize)> = nodes
        .iter()
        .filter(|&&id| !graph.is_selector(id) && !matches!(graph.kind(id), NodeKind::Constant(_)))
        .map(|&id| (format!("{}#{}", readable.name(id), planner.shown_id(id)), inference.values(id).len()))
        .collect();
    let report = CompileReport { value_sets, notes: builder.notes.clone(), layer_notes };
    model.config.compiler = serde_json::json!({
        "value_set_sizes": report.value_sets.iter().map(|(n, s)| serde_json::json!([n, s])).collect::<Vec<_>>(),
        "notes": report.notes,
        "layer_notes": report.layer_notes,
        "attention_leak_bound": opts.leak,
        "materialized": planner.materialized.keys().map(|id| format!("{}#{}", readable.name(*id), planner.shown_id(*id))).collect::<Vec<_>>(),
    });
    Ok((model, report))
}

/// Separates the aggregates of a shared head in model.json's `computes`
/// (aggregates over one selector in one layer are one head); readable
/// names, which are RASP expressions, never contain it.
pub const COMPUTES_SEPARATOR: &str = "; ";

/// Longest input a model may be compiled for.
pub const MAX_COMPILE_LEN: usize = 4096;

/// Most tokens a compiled model's vocabulary may have.
pub const MAX_VOCAB: usize = 4096;

/// The paper's example programs (reverse, hist_bos, sort_bos,
/// sort_by_most_freq, dyck1_ptf, dyck2_ptf) as the tests and benchmarks use them.
pub const PAPER_EXAMPLES: &str = include_str!("../tests/data/paper.rasp");
