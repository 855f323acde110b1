//! From blocks to a layered transformer: drop what nothing reads, place
//! each block as early as its inputs allow (attention in even sublayers, MLPs
//! in odd ones), order the residual dimensions by the layer that writes
//! them, and write dense weights.

use crate::build::{Builder, ItemKind, ONE, START};
use crate::error::CompileError;
use crate::mlp::{Dim, Row};
use crate::values::to_scalar;
use ndarray::Array2;
use rasp_core::Atom;
use rasp_model::{
    Encoding, FORMAT, FORMAT_VERSION, FORWARD_DESCRIPTION, Head, HeadConfig, Layer, LayerConfig, Mlp, Model,
    ModelConfig, ParameterCount, ProgramInfo, Readout, ResidualDim, START_TOKEN, Subspace,
};
use std::collections::{BTreeSet, HashMap};

pub struct Readouts {
    pub encoding: Encoding,
    pub values: Vec<Atom>,
    pub rows: Vec<Row>,
    pub sop: String,
}

pub fn assemble(
    b: &Builder,
    readout: Readouts,
    vocab: &[String],
    bos: Option<&str>,
    max_len: usize,
    program: Option<ProgramInfo>,
) -> Result<Model, CompileError> {
    let n_items = b.items.len();
    // Reads and writes of every block.
    let mut reads: Vec<BTreeSet<Dim>> = Vec::with_capacity(n_items);
    let mut writes: Vec<BTreeSet<Dim>> = Vec::with_capacity(n_items);
    for item in &b.items {
        let (r, w): (BTreeSet<Dim>, BTreeSet<Dim>) = match &item.kind {
            ItemKind::Head(h) => (
                h.qk.iter().flat_map(|&(a, c, _)| [a, c]).chain(h.ov.iter().map(|&(s, _, _)| s)).collect(),
                h.ov.iter().map(|&(_, d, _)| d).collect(),
            ),
            ItemKind::Mlp(ns) => (
                ns.iter().flat_map(|n| n.input.iter().map(|&(d, _)| d)).collect(),
                ns.iter().flat_map(|n| n.output.iter().map(|&(d, _)| d)).collect(),
            ),
        };
        reads.push(r);
        writes.push(w);
    }
    // Liveness, backwards from the readout.
    let mut live: BTreeSet<Dim> = readout.rows.iter().flat_map(|r| r.iter().map(|&(d, _)| d)).collect();
    live.insert(START);
    live.insert(ONE);
    let mut live_item = vec![false; n_items];
    for i in (0..n_items).rev() {
        if writes[i].iter().any(|d| live.contains(d)) {
            live_item[i] = true;
            live.extend(reads[i].iter().copied());
        }
    }
    // Sublayer slots: attention of layer l is 2l, its MLP 2l+1.
    let embedded: BTreeSet<Dim> =
        b.subspaces.iter().filter(|s| s.item.is_none()).flat_map(|s| s.dims.iter().copied()).collect();
    let mut ready: HashMap<Dim, i64> = embedded.iter().map(|&d| (d, -1)).collect();
    let mut slot = vec![-1i64; n_items];
    for i in 0..n_items {
        if !live_item[i] {
            continue;
        }
        let r = reads[i].iter().map(|d| ready.get(d).copied().unwrap_or(-1)).max().unwrap_or(-1);
        let s = match b.items[i].kind {
            ItemKind::Head(_) => {
                if r % 2 == 0 {
                    r + 2
                } else {
                    r + 1
                }
            }
            ItemKind::Mlp(_) => {
                if (r + 2) % 2 == 1 {
                    r + 2
                } else {
                    r + 1
                }
            }
        };
        let s = match b.items[i].after {
            Some(h) => slot[h] + 1,
            None => s,
        };
        slot[i] = s;
        for &d in &writes[i] {
            let e = ready.entry(d).or_insert(s);
            *e = (*e).max(s);
        }
    }
    let max_slot = slot.iter().copied().max().unwrap_or(-1);
    let n_layers = if max_slot < 0 { 0 } else { (max_slot / 2 + 1) as usize };
    // Dimension order: embedding first, then by the sublayer that writes them.
    let first_write: HashMap<Dim, i64> = {
        let mut m = HashMap::new();
        for i in 0..n_items {
            if live_item[i] {
                for &d in &writes[i] {
                    let e = m.entry(d).or_insert(slot[i]);
                    *e = (*e).min(slot[i]);
                }
            }
        }
        m
    };
    let mut order: Vec<Dim> = live.iter().copied().collect();
    order
        .sort_by_key(|d| (if embedded.contains(d) { -1 } else { first_write.get(d).copied().unwrap_or(i64::MAX) }, *d));
    let index: HashMap<Dim, usize> = order.iter().enumerate().map(|(i, &d)| (d, i)).collect();
    let d_model = order.len();
    let at = |d: Dim| index.get(&d).copied();

    // Embeddings.
    let n_tokens = b.token_dims.len() + 1;
    let mut token_embedding = Array2::<f32>::zeros((n_tokens, d_model));
    if let Some(i) = at(START) {
        token_embedding[[0, i]] = 1.0;
    }
    for (t, dim) in b.token_dims.iter().enumerate() {
        if let Some(i) = at(ONE) {
            token_embedding[[t + 1, i]] = 1.0;
        }
        if let Some(i) = dim.and_then(at) {
            token_embedding[[t + 1, i]] = 1.0;
        }
    }
    let n_positions = b.position_dims.len() + 1;
    let mut position_embedding = Array2::<f32>::zeros((n_positions, d_model));
    for (p, dim) in b.position_dims.iter().enumerate() {
        if let Some(i) = dim.and_then(at) {
            position_embedding[[p + 1, i]] = 1.0;
        }
    }

    // Layers.
    let mut layers = Vec::with_capacity(n_layers);
    let mut layer_configs = Vec::with_capacity(n_layers);
    for l in 0..n_layers as i64 {
        let mut heads = Vec::new();
        let mut head_configs = Vec::new();
        let mut neurons = Vec::new();
        let mut computes = Vec::new();
        for i in 0..n_items {
            if !live_item[i] {
                continue;
            }
            match &b.items[i].kind {
                ItemKind::Head(h) if slot[i] == 2 * l => {
                    let qk: Vec<(usize, usize, f64)> =
                        h.qk.iter().filter_map(|&(a, c, w)| Some((at(a)?, at(c)?, w))).collect();
                    let ov: Vec<(usize, usize, f64)> =
                        h.ov.iter().filter_map(|&(s, d, w)| Some((at(s)?, at(d)?, w))).collect();
                    let (w_q, w_k) = factor(&qk, d_model);
                    let (w_v, w_o_t) = factor(&ov, d_model);
                    let w_o = w_o_t.t().to_owned();
                    head_configs.push(HeadConfig {
                        d_head: w_q.ncols(),
                        d_value: w_v.ncols(),
                        scale: h.scale as f32,
                        computes: h.computes.clone(),
                        selector: h.selector.clone(),
                    });
                    heads.push(Head { w_q, w_k, w_v, w_o, scale: h.scale as f32 });
                }
                ItemKind::Mlp(ns) if slot[i] == 2 * l + 1 => {
                    let mut used = false;
                    for n in ns {
                        let input: Vec<(usize, f64)> = n.input.iter().filter_map(|&(d, w)| Some((at(d)?, w))).collect();
                        let output: Vec<(usize, f64)> =
                            n.output.iter().filter_map(|&(d, w)| Some((at(d)?, w))).collect();
                        if !output.is_empty() {
                            neurons.push((input, output));
                            used = true;
                        }
                    }
                    if used {
                        computes.push(b.items[i].name.clone());
                    }
                }
                _ => {}
            }
        }
        let hidden = neurons.len();
        let mlp = if hidden > 0 {
            let mut w_in = Array2::<f32>::zeros((d_model, hidden));
            let mut w_out = Array2::<f32>::zeros((hidden, d_model));
            for (j, (input, output)) in neurons.iter().enumerate() {
                for &(d, w) in input {
                    w_in[[d, j]] += w as f32;
                }
                for &(d, w) in output {
                    w_out[[j, d]] += w as f32;
                }
            }
            Some(Mlp { w_in, w_out })
        } else {
            None
        };
        layer_configs.push(LayerConfig { heads: head_configs, mlp_hidden: hidden, mlp_computes: computes });
        layers.push(Layer { heads, mlp });
    }

    // Readout.
    let n_out = readout.rows.len();
    let mut unembed = Array2::<f32>::zeros((d_model, n_out));
    for (j, row) in readout.rows.iter().enumerate() {
        for &(d, w) in row {
            if let Some(i) = at(d) {
                unembed[[i, j]] += w as f32;
            }
        }
    }

    // Layout.
    let residual: Vec<ResidualDim> =
        order.iter().enumerate().map(|(i, &d)| ResidualDim { dim: i, label: b.labels[d].clone() }).collect();
    let mut subspaces = Vec::new();
    for s in &b.subspaces {
        let kept: Vec<(usize, Atom)> = s
            .dims
            .iter()
            .enumerate()
            .filter_map(|(k, &d)| Some((at(d)?, s.values.get(k).cloned().unwrap_or(Atom::Int(0)))))
            .collect();
        if kept.is_empty() {
            continue;
        }
        let written_by = match s.item {
            None => "embedding".to_string(),
            Some(i) => {
                let sl = slot[i];
                format!("layer {} {}", sl / 2, if sl % 2 == 0 { "attention" } else { "mlp" })
            }
        };
        let values = match s.encoding {
            Encoding::Categorical => kept.iter().map(|(_, a)| to_scalar(a)).collect(),
            Encoding::Numerical => s.values.iter().map(to_scalar).collect(),
        };
        subspaces.push(Subspace {
            name: s.name.clone(),
            node: s.node.map(|n| n.0),
            encoding: s.encoding,
            dims: kept.iter().map(|(i, _)| *i).collect(),
            values,
            implicit: s.implicit.as_ref().map(to_scalar),
            written_by,
        });
    }
    let mut tokens = vec![START_TOKEN.to_string()];
    tokens.extend(b.p.inf.raw_tokens.iter().cloned());
    let config = ModelConfig {
        format: FORMAT.to_string(),
        version: FORMAT_VERSION,
        program,
        d_model,
        n_layers,
        activation: "relu".to_string(),
        layer_norm: false,
        biases: false,
        forward: FORWARD_DESCRIPTION.to_string(),
        tokens,
        start_token: START_TOKEN.to_string(),
        bos: bos.map(str::to_string),
        vocab: vocab.to_vec(),
        max_len,
        n_positions,
        layers: layer_configs,
        residual,
        subspaces,
        readout: Readout {
            sop: readout.sop,
            encoding: readout.encoding,
            values: readout.values.iter().map(to_scalar).collect(),
        },
        parameters: ParameterCount::default(),
        compiler: serde_json::Value::Null,
    };
    let mut model = Model { config, token_embedding, position_embedding, layers, unembed };
    model.config.parameters = model.parameter_count();
    model.validate().map_err(|e| CompileError::general(format!("internal error: {e}")))?;
    Ok(model)
}

/// Splits a sparse bilinear map Σ w·x[a]·y[c] into two matrices (d × r)
/// with r the smaller number of distinct dimensions on either side: one
/// side is a plain projection, the other carries the weights.
fn factor(entries: &[(usize, usize, f64)], d: usize) -> (Array2<f32>, Array2<f32>) {
    let left: Vec<usize> = entries.iter().map(|e| e.0).collect::<BTreeSet<_>>().into_iter().collect();
    let right: Vec<usize> = entries.iter().map(|e| e.1).collect::<BTreeSet<_>>().into_iter().collect();
    if right.len() <= left.len() {
        let r = right.len();
        let mut a = Array2::<f32>::zeros((d, r));
        let mut c = Array2::<f32>::zeros((d, r));
        for (j, &dim) in right.iter().enumerate() {
            c[[dim, j]] = 1.0;
        }
        for &(x, y, w) in entries {
            if let Ok(j) = right.binary_search(&y) {
                a[[x, j]] += w as f32;
            }
        }
        (a, c)
    } else {
        let r = left.len();
        let mut a = Array2::<f32>::zeros((d, r));
        let mut c = Array2::<f32>::zeros((d, r));
        for (j, &dim) in left.iter().enumerate() {
            a[[dim, j]] = 1.0;
        }
        for &(x, y, w) in entries {
            if let Ok(j) = left.binary_search(&x) {
                c[[y, j]] += w as f32;
            }
        }
        (a, c)
    }
}
