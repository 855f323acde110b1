//! Dense weights from the symbolic blocks, in the final residual order.
//! Directions that were dropped read and write nothing, so entries that
//! touch them are left out.

use super::layout::Layout;
use super::schedule::{Schedule, Sublayer};
use crate::build::{BlockKind, Builder, HeadBlock, OutputReadout};
use crate::mlp::Neuron;
use crate::residual::{Dim, Row};
use ndarray::Array2;
use rasp_model::{Head, HeadConfig, Layer, LayerConfig, Mlp};
use std::collections::BTreeSet;

/// The token and position embeddings.
pub struct Embeddings {
    /// [n_tokens, d_model]: row 0 is the start token.
    pub tokens: Array2<f32>,
    /// [n_positions, d_model]: row 0 is the start position.
    pub positions: Array2<f32>,
}

/// One layer's weights and its description for model.json.
pub struct AssembledLayer {
    pub weights: Layer,
    pub config: LayerConfig,
}

/// One weight of a bilinear map between residual indices.
#[derive(Clone, Copy)]
struct Bilinear {
    left: usize,
    right: usize,
    weight: f64,
}

/// `Σ weight · x[left] · y[right]` as `(x @ left) · (y @ right)`.
struct Factors {
    left: Array2<f32>,
    right: Array2<f32>,
}

/// One neuron in residual indices.
struct PlacedNeuron {
    input: Vec<(usize, f64)>,
    output: Vec<(usize, f64)>,
}

pub fn embeddings(builder: &Builder, layout: &Layout) -> Embeddings {
    let d_model = layout.d_model();
    let n_tokens = builder.token_dims.len() + 1;
    let mut tokens = Array2::<f32>::zeros((n_tokens, d_model));
    if let Some(i) = layout.index(Dim::START) {
        tokens[[0, i]] = 1.0;
    }
    for (t, dim) in builder.token_dims.iter().enumerate() {
        if let Some(i) = layout.index(Dim::ONE) {
            tokens[[t + 1, i]] = 1.0;
        }
        if let Some(i) = dim.and_then(|d| layout.index(d)) {
            tokens[[t + 1, i]] = 1.0;
        }
    }
    let n_positions = builder.position_dims.len() + 1;
    let mut positions = Array2::<f32>::zeros((n_positions, d_model));
    for (p, dim) in builder.position_dims.iter().enumerate() {
        if let Some(i) = dim.and_then(|d| layout.index(d)) {
            positions[[p + 1, i]] = 1.0;
        }
    }
    Embeddings { tokens, positions }
}

/// Layer `layer`: the heads scheduled in its attention sublayer and the
/// neurons scheduled in its MLP sublayer, in block order.
pub fn layer(builder: &Builder, schedule: &Schedule, layout: &Layout, layer: usize) -> AssembledLayer {
    let mut heads = Vec::new();
    let mut head_configs = Vec::new();
    let mut neurons: Vec<PlacedNeuron> = Vec::new();
    let mut mlp_computes = Vec::new();
    let mut layer_heads: Vec<HeadBlock> = Vec::new();
    for (i, block) in builder.blocks.iter().enumerate() {
        match &block.kind {
            BlockKind::Head(h) => {
                if schedule.runs_in(i, Sublayer::attention(layer)) {
                    share_or_add(&mut layer_heads, h);
                }
            }
            BlockKind::Mlp(block_neurons) => {
                if schedule.runs_in(i, Sublayer::mlp(layer)) {
                    let placed: Vec<PlacedNeuron> =
                        block_neurons.iter().map(|n| place(n, layout)).filter(|n| !n.output.is_empty()).collect();
                    if !placed.is_empty() {
                        mlp_computes.push(block.name.clone());
                    }
                    neurons.extend(placed);
                }
            }
        }
    }
    for h in &layer_heads {
        let (head, config) = head(h, layout);
        heads.push(head);
        head_configs.push(config);
    }
    let hidden = neurons.len();
    let mlp = (hidden > 0).then(|| mlp(&neurons, layout.d_model()));
    AssembledLayer {
        weights: Layer { heads, mlp },
        // `layer` counts from 0 here; printed numbers count from the embedding.
        config: LayerConfig { layer: layer + 1, heads: head_configs, mlp_hidden: hidden, mlp_computes },
    }
}

/// Adds head `h` to a layer's heads, or merges it into one over the same
/// selector with the same scores: one head then writes every such
/// aggregate (its value-output map is the union; the larger scale keeps
/// every aggregate's leak bound). This is the analysis's counting, where
/// aggregates sharing a selector in a layer are one head.
fn share_or_add(heads: &mut Vec<HeadBlock>, h: &HeadBlock) {
    let same_scores = |other: &HeadBlock| {
        other.selector_node == h.selector_node
            && other.qk.len() == h.qk.len()
            && other
                .qk
                .iter()
                .zip(&h.qk)
                .all(|(a, b)| a.query == b.query && a.key == b.key && a.weight.to_bits() == b.weight.to_bits())
    };
    match heads.iter_mut().find(|other| same_scores(other)) {
        Some(shared) => {
            shared.ov.extend(h.ov.iter().copied());
            shared.scale = shared.scale.max(h.scale);
            shared.computes = format!("{}{}{}", shared.computes, crate::COMPUTES_SEPARATOR, h.computes);
        }
        None => heads.push(h.clone()),
    }
}

fn head(h: &HeadBlock, layout: &Layout) -> (Head, HeadConfig) {
    let d_model = layout.d_model();
    let qk: Vec<Bilinear> = h
        .qk
        .iter()
        .filter_map(|e| Some(Bilinear { left: layout.index(e.query)?, right: layout.index(e.key)?, weight: e.weight }))
        .collect();
    let ov: Vec<Bilinear> =
        h.ov.iter()
            .filter_map(|e| {
                Some(Bilinear { left: layout.index(e.source)?, right: layout.index(e.target)?, weight: e.weight })
            })
            .collect();
    let Factors { left: w_q, right: w_k } = factor(&qk, d_model);
    let Factors { left: w_v, right: w_o_transposed } = factor(&ov, d_model);
    let w_o = w_o_transposed.t().to_owned();
    let scale = power_of_two_at_least(h.scale);
    let config = HeadConfig {
        d_head: w_q.ncols(),
        d_value: w_v.ncols(),
        scale,
        computes: h.computes.clone(),
        selector: h.selector.clone(),
    };
    (Head { w_q, w_k, w_v, w_o, scale }, config)
}

/// The smallest power of two at or above `scale`. A head's scale only
/// bounds its leak from below, so rounding up keeps every guarantee; and
/// a power of two multiplies exactly in floating point, so a runtime that
/// folds the scale into the queries (TransformerLens has one scale for all
/// heads; ONNX exporters fuse it) computes bit for bit the scores of one
/// that scales the products. Otherwise two keys whose scores tie exactly
/// here could differ by a rounding there, and an averaging head would
/// weigh them 0.49993 and 0.50007.
fn power_of_two_at_least(scale: f64) -> f32 {
    let exponent = scale.max(f64::MIN_POSITIVE).log2().ceil().clamp(-126.0, 127.0) as i32;
    2f32.powi(exponent)
}

fn place(neuron: &Neuron, layout: &Layout) -> PlacedNeuron {
    let place_row =
        |row: &Row| -> Vec<(usize, f64)> { row.iter().filter_map(|&(d, w)| Some((layout.index(d)?, w))).collect() };
    PlacedNeuron { input: place_row(&neuron.input), output: place_row(&neuron.output) }
}

fn mlp(neurons: &[PlacedNeuron], d_model: usize) -> Mlp {
    let hidden = neurons.len();
    let mut w_in = Array2::<f32>::zeros((d_model, hidden));
    let mut w_out = Array2::<f32>::zeros((hidden, d_model));
    for (j, neuron) in neurons.iter().enumerate() {
        for &(d, w) in &neuron.input {
            w_in[[d, j]] += w as f32;
        }
        for &(d, w) in &neuron.output {
            w_out[[j, d]] += w as f32;
        }
    }
    Mlp { w_in, w_out }
}

/// [d_model, n_out]: column j is the functional of output value j.
pub fn unembed(readout: &OutputReadout, layout: &Layout) -> Array2<f32> {
    let mut unembed = Array2::<f32>::zeros((layout.d_model(), readout.rows.len()));
    for (j, row) in readout.rows.iter().enumerate() {
        for &(d, w) in row {
            if let Some(i) = layout.index(d) {
                unembed[[i, j]] += w as f32;
            }
        }
    }
    unembed
}

/// Splits a sparse bilinear map into two [d, r] matrices, r the smaller
/// number of distinct indices on either side (a head's d_head or d_value
/// is then as small as the map allows): that side becomes a plain
/// projection and the other carries the weights.
fn factor(entries: &[Bilinear], d: usize) -> Factors {
    let lefts: Vec<usize> = entries.iter().map(|e| e.left).collect::<BTreeSet<_>>().into_iter().collect();
    let rights: Vec<usize> = entries.iter().map(|e| e.right).collect::<BTreeSet<_>>().into_iter().collect();
    if rights.len() <= lefts.len() {
        let r = rights.len();
        let mut left = Array2::<f32>::zeros((d, r));
        let mut right = Array2::<f32>::zeros((d, r));
        for (j, &index) in rights.iter().enumerate() {
            right[[index, j]] = 1.0;
        }
        for e in entries {
            if let Ok(j) = rights.binary_search(&e.right) {
                left[[e.left, j]] += e.weight as f32;
            }
        }
        Factors { left, right }
    } else {
        let r = lefts.len();
        let mut left = Array2::<f32>::zeros((d, r));
        let mut right = Array2::<f32>::zeros((d, r));
        for (j, &index) in lefts.iter().enumerate() {
            left[[index, j]] = 1.0;
        }
        for e in entries {
            if let Ok(j) = lefts.binary_search(&e.left) {
                right[[e.right, j]] += e.weight as f32;
            }
        }
        Factors { left, right }
    }
}
