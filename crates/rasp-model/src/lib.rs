//! rasp-model: a plain transformer as compiled from a RASP program.
//!
//! Input: weights (token and position embeddings, per layer attention heads
//! with an explicit softmax scale and a ReLU MLP, a readout matrix) and the
//! metadata of [`ModelConfig`]. Output: the forward pass on token sequences
//! (batched, f32, multiplying by the non-zero weights only: compiled
//! weights are over 95% zeros), decoding of the output s-op
//! with a decision margin, and files: `model.safetensors` + `model.json`
//! (and `model.onnx`). Invariants: no LayerNorm, no biases, no mask unless
//! the config says `causal` (decoder mode); token
//! id 0 is the start token at position 0; what [`Model::save`] writes,
//! [`Model::load`] reads back bit for bit.

#![warn(missing_docs)]

mod config;
mod decoding;
mod files;
mod onnx;
mod sparse;

pub use config::{
    Encoding, FORMAT, FORMAT_VERSION, FORWARD_DESCRIPTION, HeadConfig, LayerConfig, ModelConfig, ParameterCount,
    ProgramInfo, Readout, ResidualDim, START_TOKEN, Scalar, Subspace,
};
pub use decoding::Decoder;
pub use files::{CONFIG_FILE, WEIGHTS_FILE};
pub use onnx::ModelProto as OnnxModelProto;

use ndarray::{Array2, ArrayView2, Axis, s};
use sparse::{SparseLayer, sparse_layers};
use std::fmt;

/// Why a model could not run an input, or be read or written.
#[derive(Debug)]
pub enum ModelError {
    /// A token not in the vocabulary, or an input too long.
    Input(String),
    /// A file could not be read or written.
    Io(String),
    /// A file was read but does not hold a valid model.
    Format(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Input(m) => write!(f, "bad input: {m}"),
            ModelError::Io(m) => write!(f, "{m}"),
            ModelError::Format(m) => write!(f, "invalid model: {m}"),
        }
    }
}

impl std::error::Error for ModelError {}

/// Per layer, per head: the keys and values of every position so far
/// (rows are positions).
pub(crate) type KeysValues = Vec<Vec<(Array2<f32>, Array2<f32>)>>;

/// One attention head. Shapes follow `y = x @ W` (rows are positions).
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// [d_model, d_head]
    pub w_q: Array2<f32>,
    /// [d_model, d_head]
    pub w_k: Array2<f32>,
    /// [d_model, d_value]
    pub w_v: Array2<f32>,
    /// [d_value, d_model]
    pub w_o: Array2<f32>,
    /// Logits are `scale * (x W_q)(x W_k)^T`; the compiler picks it large
    /// enough that unselected keys get (almost) no weight.
    pub scale: f32,
}

/// A layer's ReLU MLP: `x += relu(x @ w_in) @ w_out` (no biases).
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// [d_model, hidden]
    pub w_in: Array2<f32>,
    /// [hidden, d_model]
    pub w_out: Array2<f32>,
}

/// One transformer layer: its heads read the same residual stream and add
/// their outputs, then the MLP (if any) reads the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The attention heads (possibly none).
    pub heads: Vec<Head>,
    /// The MLP (`None`: the layer has only attention).
    pub mlp: Option<Mlp>,
}

/// A compiled transformer: weights plus the metadata needed to feed it
/// tokens and decode its output (see [`FORWARD_DESCRIPTION`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Shapes, vocabulary, residual layout and readout (`model.json`).
    pub config: ModelConfig,
    /// [n_tokens, d_model]
    pub token_embedding: Array2<f32>,
    /// [n_positions, d_model]
    pub position_embedding: Array2<f32>,
    /// The layers, first to last.
    pub layers: Vec<Layer>,
    /// [d_model, n_out]
    pub unembed: Array2<f32>,
}

/// The decoded output at one position.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The output s-op's value at this position.
    pub value: Scalar,
    /// How far the raw output is from a different decision: 1 is a perfect
    /// one-hot (or exactly a value), 0 is on the boundary. Categorical:
    /// best score minus second best (a clean one-hot gives 1); numerical:
    /// 1 - distance to the chosen value / half the gap to the neighbour on
    /// that side.
    pub margin: f32,
}

impl Model {
    /// Width of the residual stream.
    pub fn d_model(&self) -> usize {
        self.config.d_model
    }

    /// Token ids for a word: the start token, BOS (if the model has one),
    /// then the word's tokens.
    pub fn encode<S: AsRef<str>>(&self, word: &[S]) -> Result<Vec<u32>, ModelError> {
        if word.len() > self.config.max_len {
            return Err(ModelError::Input(format!(
                "{} tokens, but the model was compiled for at most {}",
                word.len(),
                self.config.max_len
            )));
        }
        let mut ids = vec![0u32];
        if let Some(bos) = &self.config.bos {
            ids.push(self.token_id(bos)?);
        }
        for t in word {
            let t = t.as_ref();
            if self.config.bos.as_deref() == Some(t) {
                return Err(ModelError::Input(format!(
                    "the BOS token {t:?} may only come first (it is added for you)"
                )));
            }
            ids.push(self.token_id(t)?);
        }
        Ok(ids)
    }

    /// The id of token `t` (the start token is never one a word has).
    pub fn token_id(&self, t: &str) -> Result<u32, ModelError> {
        self.config
            .tokens
            .iter()
            .skip(1)
            .position(|v| v == t)
            .map(|p| (p + 1) as u32)
            .ok_or_else(|| ModelError::Input(format!("token {t:?} is not in the vocabulary {:?}", self.config.vocab)))
    }

    /// Final residual streams, one [n, d_model] matrix per sequence
    /// (sequences of equal length are run together, a few at a time).
    /// Running many batches, [`Model::prepare`] once and call
    /// [`PreparedModel::residuals`].
    pub fn residuals(&self, batch: &[Vec<u32>]) -> Result<Vec<Array2<f32>>, ModelError> {
        self.prepare().residuals(batch)
    }

    /// The model with its weights converted once into the sparse form the
    /// forward pass multiplies by, to run many batches.
    pub fn prepare(&self) -> PreparedModel<'_> {
        PreparedModel { model: self, layers: sparse_layers(self) }
    }

    /// The attention weights of every head on one sequence: `[layer][head]`,
    /// each [n, n] with rows = queries (position 0 is the start token).
    pub fn attention(&self, ids: &[u32]) -> Result<Vec<Vec<Array2<f32>>>, ModelError> {
        let mut trace = Vec::new();
        self.forward_equal(&sparse_layers(self), &[ids], Some(&mut trace), None)?;
        Ok(trace)
    }

    /// The forward pass on sequences of one length n, stacked as [B*n, d].
    /// Weights and residuals are mostly zeros, so every product with a
    /// weight matrix skips them ([`sparse::SparseRows`]); attention is
    /// computed per sequence on its n × n scores.
    pub(crate) fn forward_equal(
        &self,
        sparse: &[SparseLayer],
        seqs: &[&[u32]],
        mut trace: Option<&mut Vec<Vec<Array2<f32>>>>,
        mut keys_values: Option<&mut KeysValues>,
    ) -> Result<Array2<f32>, ModelError> {
        let d = self.config.d_model;
        let n = seqs.first().map_or(0, |s| s.len());
        if n > self.position_embedding.nrows() {
            return Err(ModelError::Input(format!(
                "sequence of {n} positions, the model has {}",
                self.position_embedding.nrows()
            )));
        }
        let b = seqs.len();
        let mut x = Array2::<f32>::zeros((b * n, d));
        for (j, seq) in seqs.iter().enumerate() {
            for (p, &id) in seq.iter().enumerate() {
                let id = id as usize;
                if id >= self.token_embedding.nrows() {
                    return Err(ModelError::Input(format!("token id {id} out of range")));
                }
                let mut row = x.row_mut(j * n + p);
                row += &self.token_embedding.row(id);
                row += &self.position_embedding.row(p);
            }
        }
        let mut x = x.into_raw_vec_and_offset().0;
        for (layer, weights) in self.layers.iter().zip(sparse) {
            let mut layer_trace = Vec::new();
            let mut layer_keys_values = Vec::new();
            let qkv = weights.qkv.product(&x);
            let width = weights.columns.last().copied().unwrap_or(0);
            let d_values: usize = layer.heads.iter().map(|h| h.w_v.ncols()).sum();
            // Every head's mixed values side by side, as the stacked w_o reads them.
            let mut mixed = vec![0.0f32; b * n * d_values];
            let mut value_start = 0;
            let mut weights_buffer = vec![0.0f32; n * n];
            for (h, head) in layer.heads.iter().enumerate() {
                let (d_head, d_value) = (head.w_q.ncols(), head.w_v.ncols());
                let start = weights.columns[h];
                let (q_at, k_at, v_at) = (start, start + d_head, start + 2 * d_head);
                let row = |r: usize, at: usize, len: usize| &qkv[r * width + at..r * width + at + len];
                if keys_values.is_some() {
                    let keys: Vec<f32> = (0..b * n).flat_map(|r| row(r, k_at, d_head).to_vec()).collect();
                    let values: Vec<f32> = (0..b * n).flat_map(|r| row(r, v_at, d_value).to_vec()).collect();
                    layer_keys_values.push((to_matrix(keys, d_head)?, to_matrix(values, d_value)?));
                }
                // One sequence's queries, keys and values, contiguous.
                let mut queries = vec![0.0f32; n * d_head];
                let mut keys = vec![0.0f32; n * d_head];
                // Values are mostly zeros too (one-hot encodings): each key's
                // non-zero (dimension, value) pairs, key by key.
                let mut value_entries: Vec<(usize, f32)> = Vec::with_capacity(n * d_value);
                let mut value_starts = vec![0usize; n + 1];
                for j in 0..b {
                    let first = j * n;
                    value_entries.clear();
                    for p in 0..n {
                        queries[p * d_head..(p + 1) * d_head].copy_from_slice(row(first + p, q_at, d_head));
                        keys[p * d_head..(p + 1) * d_head].copy_from_slice(row(first + p, k_at, d_head));
                        let values = row(first + p, v_at, d_value);
                        value_entries
                            .extend(values.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(i, &v)| (i, v)));
                        value_starts[p + 1] = value_entries.len();
                    }
                    for (query, scores) in weights_buffer.chunks_exact_mut(n.max(1)).enumerate() {
                        let q_row = &queries[query * d_head..(query + 1) * d_head];
                        for ((key, logit), k_row) in scores.iter_mut().enumerate().zip(keys.chunks_exact(d_head.max(1)))
                        {
                            let dot: f32 = q_row.iter().zip(k_row).map(|(a, b)| a * b).sum();
                            *logit = dot * head.scale;
                            if self.config.causal && !self.config.attends(query, key) {
                                *logit = f32::NEG_INFINITY;
                            }
                        }
                        if d_head == 0 {
                            scores.fill(0.0);
                        }
                        softmax(scores);
                        let out_start = (first + query) * d_values + value_start;
                        let out = &mut mixed[out_start..out_start + d_value];
                        for (key, &weight) in scores.iter().enumerate() {
                            if weight == 0.0 {
                                continue;
                            }
                            for &(dim, value) in &value_entries[value_starts[key]..value_starts[key + 1]] {
                                out[dim] += weight * value;
                            }
                        }
                    }
                    if trace.is_some() {
                        layer_trace.push(to_matrix(weights_buffer.clone(), n)?);
                    }
                }
                value_start += d_value;
            }
            if !layer.heads.is_empty() {
                for (value, u) in x.iter_mut().zip(weights.output.product(&mixed)) {
                    *value += u;
                }
            }
            if let Some((w_in, w_out)) = &weights.mlp {
                let mut hidden = w_in.product(&x);
                for h in &mut hidden {
                    *h = h.max(0.0);
                }
                for (value, out) in x.iter_mut().zip(w_out.product(&hidden)) {
                    *value += out;
                }
            }
            if let Some(t) = trace.as_deref_mut() {
                t.push(layer_trace);
            }
            if let Some(kv) = keys_values.as_deref_mut() {
                kv.push(layer_keys_values);
            }
        }
        to_matrix(x, d)
    }

    /// Decodes the program positions (all but the start token) of one
    /// final residual stream.
    pub fn decode(&self, residual: ArrayView2<f32>) -> Vec<Decoded> {
        self.decode_scores(residual.slice(s![1.., ..]).dot(&self.unembed).view())
    }

    /// Decodes readout scores, one row per position (`residual @ unembed`
    /// without the start token's row; as many columns as `unembed`).
    pub fn decode_scores(&self, scores: ArrayView2<f32>) -> Vec<Decoded> {
        scores.axis_iter(Axis(0)).map(|row| self.decode_row(&row.to_vec())).collect()
    }

    pub(crate) fn decode_row(&self, row: &[f32]) -> Decoded {
        let values = &self.config.readout.values;
        match self.config.readout.encoding {
            Encoding::Categorical => {
                let mut best = 0usize;
                for (i, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = i;
                    }
                }
                let second =
                    row.iter().enumerate().filter(|&(i, _)| i != best).map(|(_, &v)| v).fold(f32::MIN, f32::max);
                let margin = if row.len() < 2 { 1.0 } else { row[best] - second };
                Decoded { value: values.get(best).cloned().unwrap_or(Scalar::Int(0)), margin }
            }
            Encoding::Numerical => {
                let y = f64::from(row.first().copied().unwrap_or(0.0));
                let nums: Vec<f64> = values.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect();
                let mut best = 0usize;
                for (i, &v) in nums.iter().enumerate() {
                    if (y - v).abs() < (y - nums[best]).abs() {
                        best = i;
                    }
                }
                let chosen = nums.get(best).copied().unwrap_or(0.0);
                let neighbour =
                    if y >= chosen { nums.get(best + 1) } else { best.checked_sub(1).and_then(|i| nums.get(i)) };
                let neighbour = neighbour.or_else(|| {
                    if y >= chosen { best.checked_sub(1).and_then(|i| nums.get(i)) } else { nums.get(best + 1) }
                });
                let margin = match neighbour {
                    Some(&other) => 1.0 - (y - chosen).abs() / ((other - chosen).abs() / 2.0),
                    None => 1.0,
                };
                Decoded { value: values.get(best).cloned().unwrap_or(Scalar::Int(0)), margin: margin as f32 }
            }
        }
    }

    /// Runs words (BOS is added when the model has one) and decodes them.
    pub fn run<S: AsRef<str>>(&self, words: &[Vec<S>]) -> Result<Vec<Vec<Decoded>>, ModelError> {
        self.prepare().run(words)
    }

    /// The model as ONNX bytes: the same forward pass with input `ids`
    /// (int64, [batch, seq], start token and BOS included) and output
    /// `readout` ([batch, seq, n_out]); decode position 1 onwards as
    /// [`Model::decode`] does.
    pub fn to_onnx(&self) -> Vec<u8> {
        onnx::export(self)
    }

    /// Every stored weight, with its name, in file order.
    pub fn tensors(&self) -> Vec<(String, &Array2<f32>)> {
        let mut out = vec![
            ("embed.tokens".to_string(), &self.token_embedding),
            ("embed.positions".to_string(), &self.position_embedding),
        ];
        for (l, layer) in self.layers.iter().enumerate() {
            for (h, head) in layer.heads.iter().enumerate() {
                out.push((format!("layers.{l}.heads.{h}.w_q"), &head.w_q));
                out.push((format!("layers.{l}.heads.{h}.w_k"), &head.w_k));
                out.push((format!("layers.{l}.heads.{h}.w_v"), &head.w_v));
                out.push((format!("layers.{l}.heads.{h}.w_o"), &head.w_o));
            }
            if let Some(mlp) = &layer.mlp {
                out.push((format!("layers.{l}.mlp.w_in"), &mlp.w_in));
                out.push((format!("layers.{l}.mlp.w_out"), &mlp.w_out));
            }
        }
        out.push(("unembed".to_string(), &self.unembed));
        out
    }

    /// Floating-point operations of the forward pass on one sequence of
    /// `positions` positions (start token and BOS included) with dense
    /// matrices: every multiply-add of every product counts as 2, zeros or
    /// not (softmax, ReLU and the embedding are left out). The sparse
    /// forward pass does far fewer; benchmarks divide this by the time to
    /// compare with a dense GEMM's rate.
    pub fn dense_forward_flops(&self, positions: usize) -> f64 {
        let (t, d) = (positions as f64, self.config.d_model as f64);
        let mut flops = 0.0;
        for layer in &self.layers {
            for head in &layer.heads {
                let (d_head, d_value) = (head.w_q.ncols() as f64, head.w_v.ncols() as f64);
                flops += 2.0 * t * d * (2.0 * d_head + d_value); // queries, keys, values
                flops += 2.0 * t * t * (d_head + d_value); // scores, mixing
                flops += 2.0 * t * d_value * d; // output
            }
            if let Some(mlp) = &layer.mlp {
                flops += 4.0 * t * d * mlp.w_in.ncols() as f64;
            }
        }
        flops
    }

    /// How many weights the model stores, and how many of them are not zero.
    pub fn parameter_count(&self) -> ParameterCount {
        let mut count = ParameterCount::default();
        for (_, t) in self.tensors() {
            count.dense += t.len();
            count.nonzero += t.iter().filter(|v| **v != 0.0).count();
        }
        count
    }

    /// Checks that the config agrees with itself and the shapes agree with
    /// each other and with the config. A model folder may come from anyone,
    /// so everything later code relies on is checked here, before any work.
    pub fn validate(&self) -> Result<(), ModelError> {
        self.config.validate()?;
        let d = self.config.d_model;
        let bad = |m: String| Err(ModelError::Format(m));
        if self.token_embedding.dim() != (self.config.tokens.len(), d) {
            return bad(format!("embed.tokens has shape {:?}", self.token_embedding.dim()));
        }
        if self.position_embedding.dim() != (self.config.n_positions, d) {
            return bad(format!("embed.positions has shape {:?}", self.position_embedding.dim()));
        }
        if self.layers.len() != self.config.n_layers || self.config.layers.len() != self.config.n_layers {
            return bad("layer count does not match the config".to_string());
        }
        for (index, (layer, lc)) in self.layers.iter().zip(&self.config.layers).enumerate() {
            // Messages number layers and heads as every command prints them.
            let l = index + 1;
            if lc.layer != l {
                return bad(format!("layers[{index}] is numbered {}, expected {l}", lc.layer));
            }
            if layer.heads.len() != lc.heads.len() {
                return bad(format!("layer {l}: head count does not match the config"));
            }
            for (h, (head, hc)) in layer.heads.iter().zip(&lc.heads).enumerate() {
                let ok = head.w_q.dim() == (d, hc.d_head)
                    && head.w_k.dim() == (d, hc.d_head)
                    && head.w_v.dim() == (d, hc.d_value)
                    && head.w_o.dim() == (hc.d_value, d);
                if !ok {
                    return bad(format!("layer {l} head {}: shapes do not match d_head/d_value", h + 1));
                }
            }
            let hidden = layer.mlp.as_ref().map_or(0, |m| m.w_in.ncols());
            if hidden != lc.mlp_hidden {
                return bad(format!("layer {l}: MLP width {hidden}, config says {}", lc.mlp_hidden));
            }
            if let Some(m) = &layer.mlp
                && (m.w_in.nrows() != d || m.w_out.dim() != (hidden, d))
            {
                return bad(format!("layer {l}: MLP shapes"));
            }
        }
        let n_out = match self.config.readout.encoding {
            Encoding::Categorical => self.config.readout.values.len(),
            Encoding::Numerical => 1,
        };
        if self.unembed.dim() != (d, n_out) {
            return bad(format!("unembed has shape {:?}, expected ({d}, {n_out})", self.unembed.dim()));
        }
        Ok(())
    }
}

/// A [`Model`] ready to run many batches ([`Model::prepare`]): the sparse
/// weights are made once, as a jit compiles once before it runs.
pub struct PreparedModel<'a> {
    model: &'a Model,
    layers: Vec<SparseLayer>,
}

impl PreparedModel<'_> {
    /// [`Model::residuals`].
    pub fn residuals(&self, batch: &[Vec<u32>]) -> Result<Vec<Array2<f32>>, ModelError> {
        /// Sequences per forward pass: the intermediate buffers of a few
        /// dozen sequences stay in cache and are reused by the allocator,
        /// where a large batch's would be fresh pages from the kernel.
        const CHUNK: usize = 32;
        let model = self.model;
        let mut lengths: Vec<usize> = batch.iter().map(Vec::len).collect();
        lengths.sort_unstable();
        lengths.dedup();
        // Chunks of sequences of one length, each run on its own.
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        for n in lengths {
            let members: Vec<usize> = (0..batch.len()).filter(|&i| batch[i].len() == n).collect();
            chunks.extend(members.chunks(CHUNK).map(<[usize]>::to_vec));
        }
        let run = |chunk: &Vec<usize>| -> Result<Vec<(usize, Array2<f32>)>, ModelError> {
            let seqs: Vec<&[u32]> = chunk.iter().map(|&i| batch[i].as_slice()).collect();
            let n = seqs.first().map_or(0, |s| s.len());
            let x = model.forward_equal(&self.layers, &seqs, None, None)?;
            Ok(chunk.iter().enumerate().map(|(j, &i)| (i, x.slice(s![j * n..(j + 1) * n, ..]).to_owned())).collect())
        };
        // Chunks are independent, so spreading them over cores changes no number.
        #[cfg(feature = "parallel")]
        let results: Vec<_> = {
            use rayon::prelude::*;
            chunks.par_iter().map(run).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let results: Vec<_> = chunks.iter().map(run).collect();
        let mut out: Vec<Option<Array2<f32>>> = vec![None; batch.len()];
        for result in results {
            for (i, x) in result? {
                out[i] = Some(x);
            }
        }
        Ok(out.into_iter().map(|x| x.unwrap_or_else(|| Array2::zeros((0, model.config.d_model)))).collect())
    }

    /// [`Model::run`].
    pub fn run<S: AsRef<str>>(&self, words: &[Vec<S>]) -> Result<Vec<Vec<Decoded>>, ModelError> {
        let ids = words.iter().map(|w| self.model.encode(w)).collect::<Result<Vec<_>, _>>()?;
        let residuals = self.residuals(&ids)?;
        Ok(residuals.iter().map(|r| self.model.decode(r.view())).collect())
    }
}

/// A row-major buffer as a matrix `cols` wide.
fn to_matrix(values: Vec<f32>, cols: usize) -> Result<Array2<f32>, ModelError> {
    let rows = values.len().checked_div(cols).unwrap_or(0);
    Array2::from_shape_vec((rows, cols), values)
        .map_err(|e| ModelError::Input(format!("internal: a buffer of the forward pass has the wrong shape: {e}")))
}

/// Softmax of one row of logits, in place (as [`softmax_rows`] does).
fn softmax(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    for v in row.iter_mut() {
        let shifted = *v - max;
        // exp of anything below -104 is 0 in f32 (it is under half the
        // smallest subnormal): skipping the call gives the same number, and
        // a compiled head's unselected keys sit far below.
        *v = if shifted < -104.0 { 0.0 } else { shifted.exp() };
    }
    let sum: f32 = row.iter().sum();
    for v in row.iter_mut() {
        *v /= sum;
    }
}

pub(crate) fn softmax_rows(m: &mut Array2<f32>) {
    for mut row in m.axis_iter_mut(Axis(0)) {
        let max = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
}
