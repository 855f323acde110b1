//! The transformer encoder of the paper's experiments (docs/experiments.md,
//! "The model"), written with candle's composite operations only.
//!
//! Token embedding plus sinusoidal positions; `layers` post-LayerNorm
//! blocks (x = LN(x + attention(x)); x = LN(x + FF(x))) of `heads`-head
//! attention and a ReLU feed-forward of width 2·d; a linear classifier at
//! every position. Padding keys are masked out of the attention.
//!
//! Why composite: candle-nn's `LayerNorm::forward` and
//! `ops::softmax_last_dim` run fused kernels without a backward pass, so
//! gradients silently stop there and only the classifier learns. Here LayerNorm is mean and
//! variance, and softmax is exp over the sum after subtracting the row
//! maximum; `tests/train.rs` checks that every parameter gets a
//! gradient and that the gradients match finite differences.

use crate::rng::Rng;
use candle_core::{D, DType, Device, Result, Tensor, Var};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

/// The shape of a model (stored in `metrics.json` as `model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// Transformer blocks (attention + feed-forward each).
    pub layers: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Width of the residual stream; a multiple of `heads`.
    pub d_model: usize,
    /// Feed-forward width (2·d_model in the paper).
    pub d_ff: usize,
    /// Input tokens, padding included.
    pub n_tokens: usize,
    /// Output classes (the classifier's width).
    pub n_classes: usize,
    /// Longest input, BOS included.
    pub max_positions: usize,
    /// Decoder mode (semantics.md §6): a query attends only to itself and
    /// earlier positions. False when absent (models saved before).
    #[serde(default)]
    pub causal: bool,
    /// Prefix-LM, with `causal`: the first `prefix_len` positions also
    /// attend to each other.
    #[serde(default)]
    pub prefix_len: Option<usize>,
}

impl EncoderConfig {
    /// Width of one head's queries, keys and values: `d_model / heads`.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.heads.max(1)
    }
}

/// Additive bias for masked attention entries: large enough that exp()
/// underflows to 0 after the row maximum is subtracted, small enough to
/// stay finite in f32 sums.
const MASKED: f64 = -1e9;
const LN_EPS: f64 = 1e-5;

struct Linear {
    weight: Tensor, // (in, out)
    bias: Tensor,   // (out)
}

impl Linear {
    /// x: (..., in) → (..., out), by one 2-D matrix product.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let last = dims[dims.len() - 1];
        let rows: usize = dims[..dims.len() - 1].iter().product();
        let y = x.reshape((rows, last))?.matmul(&self.weight)?.broadcast_add(&self.bias)?;
        let mut out_dims = dims;
        let n = out_dims.len();
        out_dims[n - 1] = self.weight.dim(1)?;
        y.reshape(out_dims)
    }
}

struct LayerNorm {
    gain: Tensor,
    shift: Tensor,
}

impl LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        layer_norm(x, &self.gain, &self.shift)
    }
}

/// LayerNorm over the last dimension from composite operations (each has a
/// backward pass).
pub(crate) fn layer_norm(x: &Tensor, gain: &Tensor, shift: &Tensor) -> Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let centred = x.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = centred.broadcast_div(&(var + LN_EPS)?.sqrt()?)?;
    normed.broadcast_mul(gain)?.broadcast_add(shift)
}

/// Softmax over the last dimension from composite operations.
pub(crate) fn softmax(x: &Tensor) -> Result<Tensor> {
    // The maximum only keeps exp() finite; softmax does not depend on the
    // shift, so no gradient needs to flow through it.
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    let sum = e.sum_keepdim(D::Minus1)?;
    e.broadcast_div(&sum)
}

/// Log-softmax over the last dimension from composite operations.
pub(crate) fn log_softmax(x: &Tensor) -> Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let shifted = x.broadcast_sub(&max)?;
    let log_sum = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    shifted.broadcast_sub(&log_sum)
}

struct Block {
    query: Linear,
    key: Linear,
    value: Linear,
    out: Linear,
    norm1: LayerNorm,
    ff1: Linear,
    ff2: Linear,
    norm2: LayerNorm,
}

/// The model's parameters, owned by a [`VarMap`] (saved as safetensors).
pub struct Encoder {
    /// Its shape.
    pub config: EncoderConfig,
    /// The element type of its parameters (F32 when trained; the gradient
    /// tests use F64).
    pub dtype: DType,
    varmap: VarMap,
    /// Every parameter, in creation order (names beside them).
    params: Vec<(String, Var)>,
    embedding: Tensor,
    positions: Tensor,
    blocks: Vec<Block>,
    classifier: Linear,
}

/// What a forward pass returns.
pub struct EncoderOutput {
    /// (batch, positions, classes).
    pub logits: Tensor,
    /// One (batch, heads, queries, keys) tensor per layer; rows sum to 1.
    pub attention: Vec<Tensor>,
}

struct Builder<'a> {
    rng: Rng,
    dtype: DType,
    device: &'a Device,
    params: Vec<(String, Var)>,
}

impl Builder<'_> {
    fn tensor(&mut self, name: &str, shape: &[usize], init: impl Fn(&mut Rng) -> f64) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        let data: Vec<f64> = (0..n).map(|_| init(&mut self.rng)).collect();
        let t = Tensor::from_vec(data, shape, self.device)?.to_dtype(self.dtype)?;
        let var = Var::from_tensor(&t)?;
        let out = var.as_tensor().clone();
        self.params.push((name.to_string(), var));
        Ok(out)
    }

    /// Weights uniform in ±1/√in (PyTorch's default for nn.Linear), zero
    /// bias.
    fn linear(&mut self, name: &str, d_in: usize, d_out: usize) -> Result<Linear> {
        let bound = 1.0 / (d_in as f64).sqrt();
        let weight = self.tensor(&format!("{name}.weight"), &[d_in, d_out], |r| (2.0 * r.uniform() - 1.0) * bound)?;
        let bias = self.tensor(&format!("{name}.bias"), &[d_out], |_| 0.0)?;
        Ok(Linear { weight, bias })
    }

    fn norm(&mut self, name: &str, d: usize) -> Result<LayerNorm> {
        let gain = self.tensor(&format!("{name}.gain"), &[d], |_| 1.0)?;
        let shift = self.tensor(&format!("{name}.shift"), &[d], |_| 0.0)?;
        Ok(LayerNorm { gain, shift })
    }
}

/// The sinusoidal encoding of "Attention is all you need": position p,
/// dimension 2i is sin(p / 10000^(2i/d)), 2i+1 the cosine.
pub(crate) fn sinusoidal_positions(positions: usize, d: usize) -> Vec<f64> {
    let mut out = vec![0.0; positions * d];
    for p in 0..positions {
        for i in 0..d {
            let rate = 10000f64.powf((i - i % 2) as f64 / d as f64);
            let angle = p as f64 / rate;
            out[p * d + i] = if i % 2 == 0 { angle.sin() } else { angle.cos() };
        }
    }
    out
}

impl Encoder {
    /// A freshly initialised model; all randomness comes from `seed`.
    pub fn new(config: EncoderConfig, seed: u64, dtype: DType, device: &Device) -> Result<Encoder> {
        if config.heads == 0 || !config.d_model.is_multiple_of(config.heads) {
            candle_core::bail!("d_model {} is not a multiple of heads {}", config.d_model, config.heads);
        }
        let mut b = Builder { rng: Rng::stream(seed, 1), dtype, device, params: Vec::new() };
        let d = config.d_model;
        let embedding = b.tensor("embedding", &[config.n_tokens, d], |r| r.normal())?;
        let mut blocks = Vec::with_capacity(config.layers);
        for l in 0..config.layers {
            let p = format!("layers.{l}");
            blocks.push(Block {
                query: b.linear(&format!("{p}.attn.query"), d, d)?,
                key: b.linear(&format!("{p}.attn.key"), d, d)?,
                value: b.linear(&format!("{p}.attn.value"), d, d)?,
                out: b.linear(&format!("{p}.attn.out"), d, d)?,
                norm1: b.norm(&format!("{p}.norm1"), d)?,
                ff1: b.linear(&format!("{p}.ff.in"), d, config.d_ff)?,
                ff2: b.linear(&format!("{p}.ff.out"), config.d_ff, d)?,
                norm2: b.norm(&format!("{p}.norm2"), d)?,
            });
        }
        let classifier = b.linear("classifier", d, config.n_classes)?;
        let positions =
            Tensor::from_vec(sinusoidal_positions(config.max_positions, d), (config.max_positions, d), device)?
                .to_dtype(dtype)?;
        let varmap = VarMap::new();
        {
            let mut data = varmap.data().lock().map_err(|_| candle_core::Error::Msg("poisoned VarMap".into()))?;
            for (name, var) in &b.params {
                data.insert(name.clone(), var.clone());
            }
        }
        Ok(Encoder { config, dtype, varmap, params: b.params, embedding, positions, blocks, classifier })
    }

    /// Every parameter with its name, in creation order.
    pub fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    /// Every parameter (shared handles, not copies), for an optimiser.
    pub fn vars(&self) -> Vec<Var> {
        self.params.iter().map(|(_, v)| v.clone()).collect()
    }

    /// Number of trainable numbers.
    pub fn param_count(&self) -> usize {
        self.params.iter().map(|(_, v)| v.elem_count()).sum()
    }

    /// Writes the parameters to a safetensors file, under the names of
    /// [`Encoder::params`].
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        self.varmap.save(path)
    }

    /// Reads parameters saved by [`Encoder::save`] into this model, which
    /// must have the same config.
    pub fn load(&mut self, path: &std::path::Path) -> Result<()> {
        self.varmap.load(path)
    }

    /// A copy of every parameter's current value.
    pub fn snapshot(&self) -> Result<Vec<Tensor>> {
        self.params.iter().map(|(_, v)| v.as_tensor().copy()).collect()
    }

    /// Sets every parameter back to a [`Encoder::snapshot`] of this model.
    pub fn restore(&self, snapshot: &[Tensor]) -> Result<()> {
        for ((_, var), value) in self.params.iter().zip(snapshot) {
            var.set(value)?;
        }
        Ok(())
    }

    /// `tokens`: (batch, positions) u32 ids; `key_mask`: (batch, positions),
    /// 1 for real tokens and 0 for padding.
    pub fn forward(&self, tokens: &Tensor, key_mask: &Tensor) -> Result<EncoderOutput> {
        let (batch, len) = tokens.dims2()?;
        let d = self.config.d_model;
        let heads = self.config.heads;
        let hd = self.config.head_dim();
        let embedded = self.embedding.index_select(&tokens.flatten_all()?, 0)?.reshape((batch, len, d))?;
        let mut x = embedded.broadcast_add(&self.positions.narrow(0, 0, len)?)?;
        // 0 for real keys, MASKED for padding, broadcast over heads and queries.
        let mut bias = ((key_mask.to_dtype(self.dtype)? - 1.0)? * -MASKED)?.reshape((batch, 1, 1, len))?;
        if self.config.causal {
            // Decoder mode: MASKED where the key comes after the query
            // (outside a prefix-LM prefix), broadcast over batch and heads.
            let prefix = self.config.prefix_len.unwrap_or(0);
            let cells: Vec<f32> = (0..len * len)
                .map(|i| {
                    let (query, key) = (i / len, i % len);
                    if key <= query || key < prefix { 0.0 } else { MASKED as f32 }
                })
                .collect();
            let causal = Tensor::from_vec(cells, (1, 1, len, len), bias.device())?.to_dtype(self.dtype)?;
            bias = bias.broadcast_add(&causal)?;
        }
        let scale = 1.0 / (hd as f64).sqrt();
        let mut attention = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let split = |t: Tensor| t.reshape((batch, len, heads, hd))?.transpose(1, 2)?.contiguous();
            let q = split(block.query.forward(&x)?)?;
            let k = split(block.key.forward(&x)?)?;
            let v = split(block.value.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&bias)?;
            let weights = softmax(&scores)?;
            let mixed = weights.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((batch, len, d))?;
            x = block.norm1.forward(&(x + block.out.forward(&mixed)?)?)?;
            let ff = block.ff2.forward(&block.ff1.forward(&x)?.relu()?)?;
            x = block.norm2.forward(&(x + ff)?)?;
            attention.push(weights);
        }
        let logits = self.classifier.forward(&x)?;
        Ok(EncoderOutput { logits, attention })
    }
}
