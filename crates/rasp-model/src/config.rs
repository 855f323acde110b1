//! `model.json`: everything a reader needs besides the weights to rebuild and
//! run the network (shapes, conventions, vocabulary, residual layout, readout).

use serde::{Deserialize, Serialize};

/// The name written in `format` and checked when loading.
pub const FORMAT: &str = "rasp-compiled-transformer";
/// The layout version of `model.json` and the tensor names.
pub const FORMAT_VERSION: u32 = 1;
/// The compiler's own start token: always at position 0, never part of the
/// program's input; attention falls back to it when a selector selects nothing.
pub const START_TOKEN: &str = "<start>";

/// One value of a sequence as JSON shows it: a bool, int, float or string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// `True`/`False` (JSON `true`/`false`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (JSON numbers with a fraction or exponent).
    Float(f64),
    /// A string, e.g. a token.
    Str(String),
}

impl Scalar {
    /// The number a numerical encoding stores for it (bools as 0/1).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Bool(b) => Some(f64::from(u8::from(*b))),
            Scalar::Int(v) => Some(*v as f64),
            Scalar::Float(v) => Some(*v),
            Scalar::Str(_) => None,
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::Float(v) => write!(f, "{v:?}"),
            Scalar::Str(s) => write!(f, "{s}"),
        }
    }
}

/// How an s-op is held in the residual stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// One dimension per value (one-hot); a subspace may leave one value
    /// implicit (all its dimensions zero).
    Categorical,
    /// One dimension holding the value.
    Numerical,
}

/// Where the program a model was compiled from is kept, so that the model
/// can be checked against the interpreter later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramInfo {
    /// The RASP source file stored beside the model (relative to the model directory).
    pub file: String,
    /// The s-op the model computes.
    pub sop: String,
}

/// What a reader needs to know about one head beside its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// Width of the query and key vectors.
    pub d_head: usize,
    /// Width of the value vector.
    pub d_value: usize,
    /// Logits are `scale * (x W_q)(x W_k)^T`.
    pub scale: f32,
    /// The aggregate this head computes.
    pub computes: String,
    /// The selector, as RASP would write it.
    pub selector: String,
}

/// One layer's heads and MLP width, with what each computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerConfig {
    /// The layer's number, as every rasp command prints it: 1 for the
    /// first attention + MLP block (layer 0 is the embedding, which has no
    /// entry in `layers`). Tensor names index the `layers` array instead
    /// (`layers.0.*` are layer 1's weights), as PyTorch modules do. Files
    /// written before the field existed load with their position + 1.
    #[serde(default)]
    pub layer: usize,
    /// The heads, in weight order.
    pub heads: Vec<HeadConfig>,
    /// Hidden width of the MLP (0: no MLP in this layer).
    pub mlp_hidden: usize,
    /// What the MLP computes (s-op names or selector features).
    pub mlp_computes: Vec<String>,
}

/// A residual dimension's label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResidualDim {
    /// Index into the residual stream (a column of the embeddings).
    pub dim: usize,
    /// What the dimension holds: `s-op#node:value` for one value of a
    /// categorical s-op, the s-op's name for a numerical one, `start`, `one`.
    pub label: String,
}

/// A named group of residual dimensions holding one s-op (or a feature a
/// selector needs, or the special `start`/`one` directions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subspace {
    /// The s-op (`name#node`), feature or special direction it holds.
    pub name: String,
    /// The graph node it holds, when it holds an s-op.
    pub node: Option<u32>,
    /// How the value is held.
    pub encoding: Encoding,
    /// Its residual dimensions (indices into the residual stream).
    pub dims: Vec<usize>,
    /// For a categorical subspace, the value of each dimension (same order
    /// as `dims`); `implicit` is the value held when all of them are zero.
    /// For a numerical one, every value it can hold.
    pub values: Vec<Scalar>,
    /// The categorical value with no dimension of its own (all zeros).
    pub implicit: Option<Scalar>,
    /// Written by: "embedding", "layer L attention" or "layer L mlp".
    pub written_by: String,
}

/// How the output s-op is read from the final residual stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readout {
    /// The output s-op's name.
    pub sop: String,
    /// Categorical: one column per value, argmax decodes. Numerical: one column.
    pub encoding: Encoding,
    /// Categorical: the value of each column of `unembed` (argmax decodes).
    /// Numerical: the possible values, ascending (the single column's value
    /// is rounded to the nearest of them).
    pub values: Vec<Scalar>,
}

/// The size of a model's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParameterCount {
    /// Every stored weight.
    pub dense: usize,
    /// Weights that are not zero.
    pub nonzero: usize,
}

/// `model.json`: a model's metadata. With the weights it is everything a
/// reader needs to run the network and decode its output, and it documents
/// which residual dimensions hold which s-op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Always [`FORMAT`]; loading refuses other files.
    pub format: String,
    /// Always [`FORMAT_VERSION`]; loading refuses other versions.
    pub version: u32,
    /// The program the model was compiled from, when it was stored.
    pub program: Option<ProgramInfo>,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Number of layers.
    pub n_layers: usize,
    /// Always "relu".
    pub activation: String,
    /// Always false: no normalisation anywhere.
    pub layer_norm: bool,
    /// Always false: constant terms come from the `one` residual direction.
    pub biases: bool,
    /// The forward pass in words (also implemented by python/tools/forward.py).
    pub forward: String,
    /// Embedding rows: token id i is `tokens[i]`. Id 0 is the start token.
    pub tokens: Vec<String>,
    /// Always [`START_TOKEN`].
    pub start_token: String,
    /// The token every input starts with, when the program expects one.
    pub bos: Option<String>,
    /// The tokens a word may contain.
    pub vocab: Vec<String>,
    /// Longest word (not counting BOS and the start token).
    pub max_len: usize,
    /// Rows of the position embedding: max_len + 1 (start) + 1 if BOS.
    pub n_positions: usize,
    /// Per layer: heads and MLP width.
    pub layers: Vec<LayerConfig>,
    /// A label for every residual dimension, in order.
    pub residual: Vec<ResidualDim>,
    /// Which dimensions hold which s-op, and how.
    pub subspaces: Vec<Subspace>,
    /// How the output is decoded.
    pub readout: Readout,
    /// The size of the weights (recomputed on save).
    pub parameters: ParameterCount,
    /// Free-form facts from the compiler (value-set sizes, notes, which
    /// s-ops got dimensions).
    #[serde(default)]
    pub compiler: serde_json::Value,
    /// Decoder mode (semantics.md §6): a query attends only to keys at its
    /// own position or before (the start token, position 0, is visible to
    /// every query). False for encoders and for models written before
    /// decoder mode.
    #[serde(default)]
    pub causal: bool,
    /// Prefix-LM: with `causal`, the first `prefix_len` program positions
    /// (BOS included, start token not counted) also see each other. `null`:
    /// plain causal (or not causal).
    #[serde(default)]
    pub prefix_len: Option<usize>,
}

impl ModelConfig {
    /// Whether model query position `query` may attend to model key
    /// position `key` (model positions count the start token as 0, so
    /// program position p is model position p + 1).
    pub fn attends(&self, query: usize, key: usize) -> bool {
        if !self.causal || key == 0 || key <= query {
            return true;
        }
        self.prefix_len.is_some_and(|length| key < length + 1)
    }
}

impl ModelConfig {
    /// Checks the facts of `model.json` that do not need the weights: the
    /// token table, the vocabulary, the lengths and the residual labels.
    pub fn validate(&self) -> Result<(), crate::ModelError> {
        let bad = |m: String| Err(crate::ModelError::Format(format!("model.json: {m}")));
        if self.start_token != START_TOKEN {
            return bad(format!("start_token is {:?}, expected {START_TOKEN:?}", self.start_token));
        }
        if self.tokens.first().map(String::as_str) != Some(START_TOKEN) {
            return bad(format!("tokens must start with the start token {START_TOKEN:?} (id 0)"));
        }
        let mut seen = std::collections::HashSet::new();
        for (id, token) in self.tokens.iter().enumerate() {
            if !seen.insert(token.as_str()) {
                return bad(format!("token {token:?} appears twice in tokens (again at id {id})"));
            }
        }
        for token in &self.vocab {
            if token == START_TOKEN {
                return bad(format!("the vocabulary may not contain the start token {START_TOKEN:?}"));
            }
            if !seen.contains(token.as_str()) {
                return bad(format!("vocabulary token {token:?} is not in tokens"));
            }
        }
        if self.vocab.iter().collect::<std::collections::HashSet<_>>().len() != self.vocab.len() {
            return bad("the vocabulary lists a token twice".to_string());
        }
        if let Some(bos) = &self.bos
            && (bos == START_TOKEN || !seen.contains(bos.as_str()))
        {
            return bad(format!("bos {bos:?} must be a token other than the start token"));
        }
        if self.max_len == 0 {
            return bad("max_len must be at least 1".to_string());
        }
        let positions = self.max_len.checked_add(1 + usize::from(self.bos.is_some()));
        if positions != Some(self.n_positions) {
            return bad(format!(
                "n_positions is {}, but max_len {} needs {} (start token{} and the word)",
                self.n_positions,
                self.max_len,
                positions.map_or_else(|| "more".to_string(), |n| n.to_string()),
                if self.bos.is_some() { ", BOS" } else { "" }
            ));
        }
        if self.residual.len() != self.d_model {
            return bad(format!("{} residual labels for d_model {}", self.residual.len(), self.d_model));
        }
        for subspace in &self.subspaces {
            if let Some(dim) = subspace.dims.iter().find(|&&dim| dim >= self.d_model) {
                return bad(format!(
                    "subspace {:?} names dimension {dim}, past d_model {}",
                    subspace.name, self.d_model
                ));
            }
        }
        if self.readout.values.is_empty() {
            return bad(format!("readout of {:?} lists no values", self.readout.sop));
        }
        Ok(())
    }
}

/// The forward pass, stated once for model.json and the docs.
pub const FORWARD_DESCRIPTION: &str = "ids = [0 (start)] + [bos id if bos] + word ids; \
x = embed.tokens[ids] + embed.positions[0..n]; for each layer: \
x = x + sum_h softmax(scale_h * (x @ w_q)(x @ w_k)^T + mask) @ (x @ w_v) @ w_o, where mask is 0 everywhere \
unless causal is true, then -inf where the key comes after the query, except key 0 (the start token) and, \
with prefix_len L, keys before L + 1; \
then x = x + relu(x @ mlp.w_in) @ mlp.w_out; \
out = x[1..] @ unembed (position 0, the start token, is not decoded); \
categorical: argmax over readout.values; numerical: nearest of readout.values";
