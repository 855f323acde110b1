//! Compiled models in TransformerLens's terms, for interpretability work:
//! the `HookedTransformerConfig` fields, the weights under TransformerLens's
//! parameter names and shapes, the ground-truth circuit, and the files of a
//! folder that loads into TransformerLens without rasp (`rasp compile
//! --format hf`, Python's `Model.save_pretrained`). python/README.md and
//! docs/json.md document what each holds.
//!
//! The conversion is exact: every weight goes to the TransformerLens
//! parameter that plays its part, and what TransformerLens has that a
//! compiled model lacks is zero (biases) or off (LayerNorm, the
//! `1/sqrt(d_head)` scale). TransformerLens has one attention scale for all
//! heads, so each head's own scale is folded into its `W_Q`; it gives every
//! head one `d_head` and every layer one number of heads, so heads are
//! padded with zero columns and layers with zero heads (which add nothing);
//! MLPs are padded with zero units. `W_U` is the compiler's own readout.
//!
//! One thing is added: a padding token, so that words of different lengths
//! can share a batch. TransformerLens applies its `attention_mask` only to
//! causal attention, so padding must be invisible by construction: the PAD
//! token (the last id) writes 1 into one extra residual dimension (the last,
//! labelled `pad`) that nothing else writes or reads, and every head gets
//! one extra query/key column whose query is the constant `b_Q` = 1 and
//! whose key is [`PAD_KEY_SCORE`] × that dimension. A PAD key thus scores
//! -10^6 against every query and gets no attention (exp underflows to 0),
//! so the real positions of a padded word compute exactly what the word
//! alone computes, in either attention direction.
//!
//! The circuit is read off the weights, which are exact: a head reads the
//! residual dimensions of the non-zero rows of `w_q` (query), `w_k` (key),
//! `w_v` (value) and writes those of the non-zero columns of `w_o`; an MLP
//! reads the non-zero rows of `w_in` and writes the non-zero columns of
//! `w_out`; the embeddings write their non-zero columns; the readout reads
//! the non-zero rows of `unembed`. Every dimension belongs to one subspace
//! of `model.json`, so these are sets of s-ops; an edge joins each earlier
//! writer of an s-op to each reader of it.

use crate::error::{Error, ErrorKind, Result};
use ndarray::{Array2, Axis};
use rasp_model::Model;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// `format` of `tokens.json` and `outputs.json`.
pub const PRETRAINED_FORMAT: &str = "rasp-transformer-lens";
/// The sub-folder of a pretrained folder holding the rasp model folder.
pub const PRETRAINED_RASP_FOLDER: &str = "rasp";
/// The padding token's name, unless the vocabulary has it (then
/// underscores are added until it is new).
pub const PAD_TOKEN: &str = "<pad>";
/// What a PAD key adds to every attention score: far below any score a
/// compiled head computes, so that softmax gives it exactly 0.
pub const PAD_KEY_SCORE: f32 = -1.0e6;
/// The residual label of the padding dimension.
const PAD_LABEL: &str = "pad";
/// The subspaces holding the compiler's constant directions.
const CONSTANT_SUBSPACES: [&str; 2] = ["start", "one"];

/// A row-major `f32` tensor of any rank.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its name (TransformerLens's parameter name).
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, last index fastest.
    pub data: Vec<f32>,
}

/// The fields `model.json` gains for causal (decoder) models, read by name
/// so that files without them read as bidirectional.
fn attention_dir(model: &Model) -> Result<&'static str> {
    let config = serde_json::to_value(&model.config)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("model.json does not serialise: {e}")))?;
    if let Some(prefix) = config.get("prefix_len").and_then(Value::as_u64) {
        return Err(Error::new(
            ErrorKind::Model,
            format!(
                "this model attends bidirectionally over a prefix of {prefix} positions and causally after \
                 it; TransformerLens has no such mask (attention_dir is \"causal\" or \"bidirectional\"), so \
                 it cannot be converted"
            ),
        ));
    }
    Ok(if config.get("causal").and_then(Value::as_bool).unwrap_or(false) { "causal" } else { "bidirectional" })
}

struct Sizes {
    n_heads: usize,
    d_head: usize,
    d_mlp: usize,
    d_vocab_out: usize,
}

/// TransformerLens's sizes: `d_model` and `d_head` include the padding
/// dimension and column (module documentation).
fn sizes(model: &Model) -> Sizes {
    let heads = model.layers.iter().flat_map(|l| &l.heads);
    Sizes {
        n_heads: model.layers.iter().map(|l| l.heads.len()).max().unwrap_or(0).max(1),
        d_head: heads.map(|h| h.w_q.ncols().max(h.w_v.ncols())).max().unwrap_or(0) + 1,
        d_mlp: model.layers.iter().filter_map(|l| l.mlp.as_ref()).map(|m| m.w_in.ncols()).max().unwrap_or(0).max(1),
        d_vocab_out: model.unembed.ncols(),
    }
}

/// The `HookedTransformerConfig` fields of `model`
/// (`HookedTransformerConfig(**config)`). Fails for a model with a
/// bidirectional prefix, which TransformerLens cannot mask.
pub fn transformer_lens_config(model: &Model) -> Result<Value> {
    let config = &model.config;
    let sizes = sizes(model);
    Ok(json!({
        "model_name": format!("rasp-{}", config.readout.sop),
        "n_layers": config.n_layers,
        "d_model": config.d_model + 1,
        "n_ctx": config.n_positions,
        "d_head": sizes.d_head,
        "n_heads": sizes.n_heads,
        "d_mlp": sizes.d_mlp,
        "d_vocab": config.tokens.len() + 1,
        "d_vocab_out": sizes.d_vocab_out,
        "act_fn": "relu",
        "normalization_type": Value::Null,
        "attention_dir": attention_dir(model)?,
        "positional_embedding_type": "standard",
        "use_attn_scale": false,
        "use_attn_result": true,
        "use_split_qkv_input": true,
        "use_hook_mlp_in": true,
        "default_prepend_bos": false,
    }))
}

fn tensor(name: String, shape: Vec<usize>, data: Vec<f32>) -> Tensor {
    Tensor { name, shape, data }
}

/// `array` in the top-left corner of a `rows` × `cols` zero matrix.
fn padded(name: &str, array: &Array2<f32>, rows: usize, cols: usize) -> Tensor {
    tensor(name.to_string(), vec![rows, cols], stacked(std::iter::once(array), 1, rows, cols, &[]))
}

/// The padding token's name in `model`'s token table.
pub fn pad_token(model: &Model) -> String {
    let mut name = PAD_TOKEN.to_string();
    while model.config.tokens.contains(&name) || model.config.start_token == name {
        name.push('_');
    }
    name
}

/// `[n_heads, rows, cols]`: each head's matrix in the top-left corner, zeros elsewhere.
fn stacked<'a>(
    matrices: impl Iterator<Item = &'a Array2<f32>>,
    n_heads: usize,
    rows: usize,
    cols: usize,
    scales: &[f32],
) -> Vec<f32> {
    let mut data = vec![0.0; n_heads * rows * cols];
    for (h, m) in matrices.enumerate() {
        let scale = scales.get(h).copied().unwrap_or(1.0);
        for ((r, c), value) in m.indexed_iter() {
            data[(h * rows + r) * cols + c] = scale * value;
        }
    }
    data
}

/// The weights under TransformerLens's names and shapes, in this fixed
/// order: `embed.W_E`, `pos_embed.W_pos`, per
/// block `attn.W_Q`/`W_K`/`W_V` `[n_heads, d_model, d_head]`,
/// `attn.W_O` `[n_heads, d_head, d_model]`, `attn.b_Q`/`b_K`/`b_V`
/// `[n_heads, d_head]`, `attn.b_O`, `mlp.W_in` `[d_model, d_mlp]`,
/// `mlp.b_in`, `mlp.W_out`, `mlp.b_out`, then `unembed.W_U`, `unembed.b_U`.
pub fn transformer_lens_tensors(model: &Model) -> Vec<Tensor> {
    let Sizes { n_heads, d_head, d_mlp, d_vocab_out } = sizes(model);
    // The padding dimension and the padding column are the last ones.
    let d_model = model.config.d_model + 1;
    let (pad_dim, pad_column) = (d_model - 1, d_head - 1);
    let n_tokens = model.config.tokens.len() + 1;
    let mut embedding = padded("embed.W_E", &model.token_embedding, n_tokens, d_model);
    embedding.data[(n_tokens - 1) * d_model + pad_dim] = 1.0;
    let positions = &model.position_embedding;
    let mut out = vec![embedding, padded("pos_embed.W_pos", positions, positions.nrows(), d_model)];
    for (index, layer) in model.layers.iter().enumerate() {
        let block = format!("blocks.{index}");
        let scales: Vec<f32> = layer.heads.iter().map(|h| h.scale).collect();
        let shape = vec![n_heads, d_model, d_head];
        out.push(tensor(
            format!("{block}.attn.W_Q"),
            shape.clone(),
            stacked(layer.heads.iter().map(|h| &h.w_q), n_heads, d_model, d_head, &scales),
        ));
        let mut w_k = stacked(layer.heads.iter().map(|h| &h.w_k), n_heads, d_model, d_head, &[]);
        for head in 0..n_heads {
            w_k[(head * d_model + pad_dim) * d_head + pad_column] = PAD_KEY_SCORE;
        }
        out.push(tensor(format!("{block}.attn.W_K"), shape.clone(), w_k));
        out.push(tensor(
            format!("{block}.attn.W_V"),
            shape,
            stacked(layer.heads.iter().map(|h| &h.w_v), n_heads, d_model, d_head, &[]),
        ));
        out.push(tensor(
            format!("{block}.attn.W_O"),
            vec![n_heads, d_head, d_model],
            stacked(layer.heads.iter().map(|h| &h.w_o), n_heads, d_head, d_model, &[]),
        ));
        let mut b_q = vec![0.0; n_heads * d_head];
        for head in 0..n_heads {
            b_q[head * d_head + pad_column] = 1.0;
        }
        out.push(tensor(format!("{block}.attn.b_Q"), vec![n_heads, d_head], b_q));
        for bias in ["b_K", "b_V"] {
            out.push(tensor(format!("{block}.attn.{bias}"), vec![n_heads, d_head], vec![0.0; n_heads * d_head]));
        }
        out.push(tensor(format!("{block}.attn.b_O"), vec![d_model], vec![0.0; d_model]));
        let (w_in, w_out) = match &layer.mlp {
            Some(mlp) => (
                stacked(std::iter::once(&mlp.w_in), 1, d_model, d_mlp, &[]),
                stacked(std::iter::once(&mlp.w_out), 1, d_mlp, d_model, &[]),
            ),
            None => (vec![0.0; d_model * d_mlp], vec![0.0; d_mlp * d_model]),
        };
        out.push(tensor(format!("{block}.mlp.W_in"), vec![d_model, d_mlp], w_in));
        out.push(tensor(format!("{block}.mlp.b_in"), vec![d_mlp], vec![0.0; d_mlp]));
        out.push(tensor(format!("{block}.mlp.W_out"), vec![d_mlp, d_model], w_out));
        out.push(tensor(format!("{block}.mlp.b_out"), vec![d_model], vec![0.0; d_model]));
    }
    out.push(padded("unembed.W_U", &model.unembed, d_model, d_vocab_out));
    out.push(tensor("unembed.b_U".to_string(), vec![d_vocab_out], vec![0.0; d_vocab_out]));
    out
}

/// One bool per position of a full-length input (`n_positions`): true at
/// the word's positions, which carry the output; false at position 0 (the
/// start token, whose logits are no output) and at BOS.
pub fn loss_mask(model: &Model) -> Vec<bool> {
    let first = if model.config.bos.is_some() { 2 } else { 1 };
    (0..model.config.n_positions).map(|position| position >= first).collect()
}

fn nonzero_rows(matrix: &Array2<f32>) -> Vec<usize> {
    matrix.axis_iter(Axis(0)).enumerate().filter(|(_, row)| row.iter().any(|v| *v != 0.0)).map(|(i, _)| i).collect()
}

fn nonzero_cols(matrix: &Array2<f32>) -> Vec<usize> {
    matrix.axis_iter(Axis(1)).enumerate().filter(|(_, col)| col.iter().any(|v| *v != 0.0)).map(|(i, _)| i).collect()
}

/// A component of the circuit while it is being built.
struct Component {
    id: String,
    kind: &'static str,
    layer: Option<usize>,
    head: Option<usize>,
    hook: Option<String>,
    /// Input name -> (hook, subspaces read).
    inputs: Vec<(&'static str, Option<String>, BTreeSet<String>)>,
    writes: BTreeSet<String>,
    computes: Vec<String>,
    selector: Option<String>,
    /// Execution order: embeddings -1, then per layer attention 2L, MLP 2L + 1.
    order: i64,
}

/// The ground-truth circuit (`circuit.json`, documented in docs/json.md).
pub fn circuit(model: &Model) -> Value {
    let config = &model.config;
    let owner: BTreeMap<usize, &str> =
        config.subspaces.iter().flat_map(|s| s.dims.iter().map(move |d| (*d, s.name.as_str()))).collect();
    let names = |dims: Vec<usize>| -> BTreeSet<String> {
        dims.iter().filter_map(|d| owner.get(d)).map(|s| (*s).to_string()).collect()
    };
    let order = |index: usize, offset: i64| 2 * i64::try_from(index).unwrap_or(i64::MAX / 4) + offset;
    let mut components = vec![
        Component {
            id: "embed".into(),
            kind: "token_embedding",
            layer: None,
            head: None,
            hook: Some("hook_embed".into()),
            inputs: vec![],
            writes: names(nonzero_cols(&model.token_embedding)),
            computes: vec![],
            selector: None,
            order: -1,
        },
        Component {
            id: "pos_embed".into(),
            kind: "position_embedding",
            layer: None,
            head: None,
            hook: Some("hook_pos_embed".into()),
            inputs: vec![],
            writes: names(nonzero_cols(&model.position_embedding)),
            computes: vec![],
            selector: None,
            order: -1,
        },
    ];
    for (index, (layer, layer_config)) in model.layers.iter().zip(&config.layers).enumerate() {
        for (h, (head, head_config)) in layer.heads.iter().zip(&layer_config.heads).enumerate() {
            let input = |role: &str| Some(format!("blocks.{index}.hook_{role}_input"));
            components.push(Component {
                id: format!("a{index}.{h}"),
                kind: "head",
                layer: Some(index),
                head: Some(h),
                hook: Some(format!("blocks.{index}.attn.hook_result")),
                inputs: vec![
                    ("q", input("q"), names(nonzero_rows(&head.w_q))),
                    ("k", input("k"), names(nonzero_rows(&head.w_k))),
                    ("v", input("v"), names(nonzero_rows(&head.w_v))),
                ],
                writes: names(nonzero_cols(&head.w_o)),
                computes: head_config.computes.split(rasp_compile::COMPUTES_SEPARATOR).map(str::to_string).collect(),
                selector: Some(head_config.selector.clone()),
                order: order(index, 0),
            });
        }
        if let Some(mlp) = &layer.mlp {
            components.push(Component {
                id: format!("m{index}"),
                kind: "mlp",
                layer: Some(index),
                head: None,
                hook: Some(format!("blocks.{index}.hook_mlp_out")),
                inputs: vec![("mlp", Some(format!("blocks.{index}.hook_mlp_in")), names(nonzero_rows(&mlp.w_in)))],
                writes: names(nonzero_cols(&mlp.w_out)),
                computes: layer_config.mlp_computes.clone(),
                selector: None,
                order: order(index, 1),
            });
        }
    }
    let last = model.layers.len().checked_sub(1);
    components.push(Component {
        id: "unembed".into(),
        kind: "readout",
        layer: None,
        head: None,
        // TransformerLens returns the logits; no hook holds them.
        hook: None,
        // (a model without layers reads the embeddings' sum, which has no hook)
        inputs: vec![(
            "unembed",
            last.map(|l| format!("blocks.{l}.hook_resid_post")),
            names(nonzero_rows(&model.unembed)),
        )],
        writes: BTreeSet::new(),
        computes: vec![],
        selector: None,
        order: order(model.layers.len(), 0),
    });

    let mut edges = Vec::new();
    let mut head_edges: Vec<(String, String, bool)> = Vec::new();
    for reader in &components {
        for (role, to_hook, read) in &reader.inputs {
            for sop in read {
                for writer in components.iter().filter(|w| w.order < reader.order && w.writes.contains(sop)) {
                    let constant = CONSTANT_SUBSPACES.contains(&sop.as_str());
                    edges.push(json!({
                        "from": writer.id, "to": reader.id, "input": role, "sop": sop,
                        "from_hook": writer.hook, "from_head": writer.head,
                        "to_hook": to_hook, "to_head": reader.head, "constant": constant,
                    }));
                    match head_edges.iter_mut().find(|(from, to, _)| *from == writer.id && *to == reader.id) {
                        Some(pair) => pair.2 = pair.2 && constant,
                        None => head_edges.push((writer.id.clone(), reader.id.clone(), constant)),
                    }
                }
            }
        }
    }
    let sops: Vec<Value> = config
        .subspaces
        .iter()
        .map(|s| {
            let read_by: BTreeSet<&str> = components
                .iter()
                .filter(|c| c.inputs.iter().any(|(_, _, read)| read.contains(&s.name)))
                .map(|c| c.id.as_str())
                .collect();
            json!({
                "name": s.name,
                "sop": s.name.split('#').next().unwrap_or_default(),
                "node": s.node,
                "encoding": s.encoding,
                "dims": s.dims,
                "written_by": components.iter().filter(|c| c.writes.contains(&s.name)).map(|c| &c.id).collect::<Vec<_>>(),
                "read_by": read_by,
                "constant": CONSTANT_SUBSPACES.contains(&s.name.as_str()),
            })
        })
        .collect();
    let nodes: Vec<Value> = components
        .iter()
        .map(|c| {
            let mut node = json!({
                "id": c.id, "kind": c.kind, "layer": c.layer, "head": c.head, "hook": c.hook,
                "inputs": c.inputs.iter().map(|(role, hook, _)| (role.to_string(), json!(hook))).collect::<serde_json::Map<_, _>>(),
                "reads": c.inputs.iter().map(|(role, _, read)| (role.to_string(), json!(read))).collect::<serde_json::Map<_, _>>(),
                "writes": c.writes, "computes": c.computes,
            });
            if let (Some(selector), Some(object)) = (&c.selector, node.as_object_mut()) {
                object.insert("selector".into(), json!(selector));
            }
            node
        })
        .collect();
    json!({
        "format": "rasp-circuit",
        "version": 1,
        "sop": config.readout.sop,
        "n_layers": config.n_layers,
        "nodes": nodes,
        "edges": edges,
        "head_edges": head_edges.iter().map(|(from, to, constant)| json!({"from": from, "to": to, "constant": constant})).collect::<Vec<_>>(),
        "sops": sops,
    })
}

/// A safetensors file of `tensors` in the order given: an 8-byte
/// little-endian header length, the JSON header (padded with spaces to a
/// multiple of 8), then the data.
fn safetensors_bytes(tensors: &[Tensor]) -> Vec<u8> {
    let mut fields = vec![format!("\"__metadata__\":{}", json!({"format": "pt"}))];
    let mut offset = 0usize;
    for t in tensors {
        let size = t.data.len() * std::mem::size_of::<f32>();
        let entry = json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + size]});
        fields.push(format!("{}:{entry}", Value::String(t.name.clone())));
        offset += size;
    }
    let mut header = format!("{{{}}}", fields.join(",")).into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut bytes = Vec::with_capacity(8 + header.len() + offset);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for t in tensors {
        bytes.extend(t.data.iter().flat_map(|v| v.to_le_bytes()));
    }
    bytes
}

/// A JSON document as rasp writes it: pretty-printed, keys sorted, a final newline.
pub(crate) fn json_bytes(value: &Value) -> Result<Vec<u8>> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("JSON does not serialise: {e}")))?;
    Ok((text + "\n").into_bytes())
}

/// The files of a folder that loads into TransformerLens without rasp,
/// beside the rasp model folder (which front ends write into
/// [`PRETRAINED_RASP_FOLDER`]): `config.json`, `model.safetensors`,
/// `tokens.json`, `outputs.json`, `circuit.json` (python/README.md).
pub fn pretrained_files(model: &Model) -> Result<Vec<(&'static str, Vec<u8>)>> {
    model.validate()?;
    let config = &model.config;
    let bos = config.bos.as_ref();
    let pad = pad_token(model);
    let pad_id = config.tokens.len();
    let table: Vec<&String> = config.tokens.iter().chain(std::iter::once(&pad)).collect();
    let ids: serde_json::Map<String, Value> =
        table.iter().enumerate().map(|(i, token)| ((*token).clone(), json!(i))).collect();
    let tokens = json!({
        "format": PRETRAINED_FORMAT,
        "tokens": table,
        "ids": ids,
        "start_token": config.start_token,
        "start_id": 0,
        "bos_token": bos,
        "bos_id": bos.map(|_| 1),
        "pad_token": pad,
        "pad_id": pad_id,
        "vocab": config.vocab,
        "max_len": config.max_len,
    });
    let mut labels: Vec<(usize, &str)> = config.residual.iter().map(|d| (d.dim, d.label.as_str())).collect();
    labels.sort_unstable();
    labels.push((config.d_model, PAD_LABEL));
    let outputs = json!({
        "format": PRETRAINED_FORMAT,
        "sop": config.readout.sop,
        "encoding": config.readout.encoding,
        "values": config.readout.values,
        "loss_mask": loss_mask(model),
        "residual_labels": labels.iter().map(|(_, label)| *label).collect::<Vec<_>>(),
    });
    Ok(vec![
        ("config.json", json_bytes(&transformer_lens_config(model)?)?),
        ("model.safetensors", safetensors_bytes(&transformer_lens_tensors(model))),
        ("tokens.json", json_bytes(&tokens)?),
        ("outputs.json", json_bytes(&outputs)?),
        (crate::compiled::CIRCUIT_FILE, json_bytes(&circuit(model))?),
    ])
}
