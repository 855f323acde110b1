//! Trained attention against the program's selectors: a match score per
//! program head. (The heatmaps that show them side by side are drawn by
//! `rasp-draw`.)
//!
//! The score of a program head is the mean, over the query rows its
//! selector selects something in, of the total-variation distance
//! ½·Σₖ|a(q,k) − s(q,k)| between a trained head's attention row and the
//! selector row normalised to sum to 1. It is 0 when the head attends
//! exactly as the selector (uniformly over the selected keys) and 1 when
//! they share no key. Each program head is compared with every trained head
//! of the same layer (program layer l ↔ model layer l) and the closest is
//! reported: a trained model may order its heads differently.

use crate::TrainError;
use crate::data::{Example, TargetProgram, TaskSpec};
use crate::model::Encoder;
use candle_core::Device;
use rasp_core::SelectorMatrix;
use rasp_draw::row_normalised;
use serde::{Deserialize, Serialize};

/// How well one program head is matched by the trained heads of its layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadMatch {
    /// The program head's layer (1-based, as in the analysis).
    pub layer: usize,
    /// The program head's position among its layer's heads (0-based).
    pub index: usize,
    /// The head's selector as the analysis prints it.
    pub selector: String,
    /// The closest trained head of the same layer (None: the model has no
    /// such layer).
    pub best_head: Option<usize>,
    /// Its mean total-variation distance (0 = same pattern).
    pub distance: Option<f64>,
    /// The distance to every trained head of the layer.
    pub distances: Vec<f64>,
}

/// `[layer][head]` → rows (queries) of key weights.
pub type AttentionMaps = Vec<Vec<Vec<Vec<f64>>>>;

/// Attention of every layer and head on each example:
/// `[example][layer][head]` → n × n rows (queries) of keys, n the
/// example's length.
pub fn attention_maps(
    model: &Encoder,
    examples: &[Example],
    spec: &TaskSpec,
) -> Result<Vec<AttentionMaps>, TrainError> {
    let classes = crate::data::Classes::new(Vec::new());
    let mut out = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(100) {
        let batch = crate::train::encode(chunk, spec, &classes, &[], model.dtype, &Device::Cpu)?;
        let forward = model.forward(&batch.tokens, &batch.key_mask)?;
        let mut layers = Vec::with_capacity(forward.attention.len());
        for a in &forward.attention {
            let (b, h, t, _) = a.dims4()?;
            let flat: Vec<Vec<Vec<f32>>> = a.to_dtype(candle_core::DType::F32)?.reshape((b * h, t, t))?.to_vec3()?;
            let v: Vec<Vec<Vec<Vec<f32>>>> = flat.chunks(h).map(|c| c.to_vec()).collect();
            layers.push(v);
        }
        for (i, e) in chunk.iter().enumerate() {
            let n = e.tokens.len();
            let per_layer = layers
                .iter()
                .map(|l| {
                    l[i].iter()
                        .map(|head| {
                            head[..n].iter().map(|row| row[..n].iter().map(|&x| f64::from(x)).collect()).collect()
                        })
                        .collect()
                })
                .collect();
            out.push(per_layer);
        }
    }
    Ok(out)
}

/// Sum over the selector's non-empty rows of the total-variation distance,
/// and the number of such rows.
fn tv_sum(attention: &[Vec<f64>], selector: &SelectorMatrix) -> (f64, usize) {
    let target = row_normalised(selector);
    let mut sum = 0.0;
    let mut rows = 0;
    for (q, row) in target.iter().enumerate() {
        if selector.count(q) == 0 {
            continue;
        }
        sum += 0.5 * row.iter().zip(&attention[q]).map(|(s, a)| (s - a).abs()).sum::<f64>();
        rows += 1;
    }
    (sum, rows)
}

/// The match of every program head, over `examples` (labelled with the
/// program's selectors, as a [`Labeler`](crate::Labeler) makes them), in
/// the order of [`TargetProgram::heads`].
pub fn match_heads(
    model: &Encoder,
    program: &TargetProgram,
    examples: &[Example],
    spec: &TaskSpec,
) -> Result<Vec<HeadMatch>, TrainError> {
    let maps = attention_maps(model, examples, spec)?;
    let heads = model.config.heads;
    let mut out = Vec::with_capacity(program.heads.len());
    for (j, ph) in program.heads.iter().enumerate() {
        let mut distances = Vec::new();
        if ph.layer >= 1 && ph.layer <= model.config.layers {
            for h in 0..heads {
                let (mut sum, mut rows) = (0.0, 0usize);
                for (e, m) in examples.iter().zip(&maps) {
                    let (s, r) = tv_sum(&m[ph.layer - 1][h], &e.selectors[j]);
                    sum += s;
                    rows += r;
                }
                distances.push(if rows == 0 { 0.0 } else { sum / rows as f64 });
            }
        }
        let best = distances.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).map(|(h, &d)| (h, d));
        out.push(HeadMatch {
            layer: ph.layer,
            index: ph.index,
            selector: ph.expression.clone(),
            best_head: best.map(|b| b.0),
            distance: best.map(|b| b.1),
            distances,
        });
    }
    Ok(out)
}
