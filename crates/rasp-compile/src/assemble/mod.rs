//! From blocks to a layered transformer, top down:
//! 1. [`schedule`]: drop the blocks nothing reads and place each other one
//!    as early as its inputs allow (attention heads in attention
//!    sublayers, MLP neurons in MLP sublayers);
//! 2. [`layout`]: order the residual dimensions by the sublayer that
//!    writes them;
//! 3. [`weights`]: embeddings, each layer's heads and MLP, the readout;
//! 4. [`metadata`]: the labels and subspaces model.json documents.

mod layout;
mod metadata;
mod schedule;
mod weights;

use crate::build::{BlockKind, Builder, OutputReadout};
use crate::error::CompileError;
use crate::values::to_scalar;
use rasp_model::{
    FORMAT, FORMAT_VERSION, FORWARD_DESCRIPTION, Model, ModelConfig, ParameterCount, ProgramInfo, Readout, START_TOKEN,
};

/// What the model's inputs are, recorded in model.json as given.
pub struct InputSpec<'a> {
    pub vocab: &'a [String],
    pub bos: Option<&'a str>,
    pub max_len: usize,
    pub program: Option<ProgramInfo>,
}

/// Most weights a compiled model may have: its dense matrices are built in
/// memory, so a vocabulary or length far past what exact compilation is
/// for (thousands of tokens) would otherwise take gigabytes silently.
pub const MAX_PARAMETERS: usize = 1 << 28;

/// An upper bound on the weights [`assemble`] would allocate, computed
/// from the sparse blocks before any dense matrix exists: a head's width is
/// at most its number of entries (and at most the residual width), an MLP
/// has one hidden unit per neuron.
fn dense_size_bound(builder: &Builder, readout: &OutputReadout, layout: &layout::Layout, input: &InputSpec) -> usize {
    let d_model = layout.d_model();
    let tokens = input.vocab.len() + 2;
    let positions = input.max_len.saturating_add(2);
    let mut bound = d_model.saturating_mul(tokens.saturating_add(positions).saturating_add(readout.rows.len()));
    for block in &builder.blocks {
        let width = match &block.kind {
            BlockKind::Head(head) => 2 * head.qk.len().min(d_model) + 2 * head.ov.len().min(d_model),
            BlockKind::Mlp(neurons) => 2 * neurons.len(),
        };
        bound = bound.saturating_add(d_model.saturating_mul(width));
    }
    bound
}

/// The model computing `readout` (of the s-op named `sop`) with the
/// builder's blocks, and the lines saying why it has more layers than the
/// program's attention depth (empty when it has exactly as many).
pub fn assemble(
    builder: &Builder,
    readout: OutputReadout,
    sop: String,
    input: InputSpec,
) -> Result<(Model, Vec<String>), CompileError> {
    let schedule = schedule::schedule(builder, &readout);
    let layout = layout::Layout::new(&schedule);
    let bound = dense_size_bound(builder, &readout, &layout, &input);
    if bound > MAX_PARAMETERS {
        return Err(CompileError::general(format!(
            "the model would have up to {bound} weights (residual width {}), over the limit of {MAX_PARAMETERS} \
             (1 GB of f32); use a smaller vocabulary or maximum length",
            layout.d_model()
        )));
    }
    let embeddings = weights::embeddings(builder, &layout);
    let (layers, layer_configs): (Vec<_>, Vec<_>) = (0..schedule.n_layers)
        .map(|l| weights::layer(builder, &schedule, &layout, l))
        .map(|layer| (layer.weights, layer.config))
        .unzip();
    let unembed = weights::unembed(&readout, &layout);

    let mut tokens = vec![START_TOKEN.to_string()];
    tokens.extend(builder.planner.inference.raw_tokens.iter().cloned());
    let config = ModelConfig {
        format: FORMAT.to_string(),
        version: FORMAT_VERSION,
        program: input.program,
        d_model: layout.d_model(),
        n_layers: schedule.n_layers,
        activation: "relu".to_string(),
        layer_norm: false,
        biases: false,
        forward: FORWARD_DESCRIPTION.to_string(),
        tokens,
        start_token: START_TOKEN.to_string(),
        bos: input.bos.map(str::to_string),
        vocab: input.vocab.to_vec(),
        max_len: input.max_len,
        n_positions: embeddings.positions.nrows(),
        layers: layer_configs,
        residual: metadata::residual_dims(builder, &layout),
        subspaces: metadata::subspaces(builder, &schedule, &layout),
        readout: Readout { sop, encoding: readout.encoding, values: readout.values.iter().map(to_scalar).collect() },
        parameters: ParameterCount::default(),
        compiler: serde_json::Value::Null,
        causal: false,
        prefix_len: None,
    };
    let mut model =
        Model { config, token_embedding: embeddings.tokens, position_embedding: embeddings.positions, layers, unembed };
    model.config.parameters = model.parameter_count();
    // The compiler built every shape; a mismatch is its bug, not the user's.
    model.validate().map_err(|e| CompileError::general(format!("internal error: {e}")))?;
    Ok((model, schedule.layer_notes))
}
