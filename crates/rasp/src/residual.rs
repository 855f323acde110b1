//! The residual stream of a compiled model on one input, stage by stage
//! (after the embedding, after each layer), with every dimension labelled
//! by what it holds and grouped by the s-op it belongs to (model.json's
//! subspaces). Returned as data; [`ResidualStream::to_svg`] and
//! [`ResidualStream::to_html`] draw it with rasp-draw.

use crate::compiled::ModelFolder;
use crate::error::{Error, ErrorKind, Result};
use rasp_draw::{ColumnGroup, ResidualPanel, position_labels, residual_scene};
use rasp_model::{Encoding, Model, Scalar};

/// A run of residual dimensions holding one s-op (or a selector's feature,
/// or the `start` / `one` directions).
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualGroup {
    /// What the dimensions hold: the s-op's readable name (without
    /// model.json's `#node`), a feature's name, `start` or `one`.
    pub name: String,
    /// The residual dimensions, in column order.
    pub dims: Vec<usize>,
    /// Per dimension, what it stands for: the value of a categorical s-op
    /// it is the one-hot direction of, or the s-op's name for a numerical
    /// one.
    pub labels: Vec<String>,
    /// The stage that writes it: 0 for the embedding, L for layer L.
    pub written_at: usize,
}

/// One stage of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualStage {
    /// 0: after the embedding; L: after layer L (its heads and its MLP).
    pub stage: usize,
    /// `values[position][dimension]`, position 0 the model's start token.
    pub values: Vec<Vec<f32>>,
}

/// The residual stream of a compiled model on one input.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualStream {
    /// The s-op the model computes.
    pub sop: String,
    /// The input as given.
    pub input: String,
    /// One label per position: `start`, then `i:token` for the positions
    /// the program sees (BOS, if any, then the word).
    pub positions: Vec<String>,
    /// The dimension groups, in the order drawn.
    pub groups: Vec<ResidualGroup>,
    /// The embedding, then each layer.
    pub stages: Vec<ResidualStage>,
}

impl ResidualStream {
    /// Runs `folder`'s model on `input` (tokens of its vocabulary).
    pub fn compute(folder: &ModelFolder, input: &str) -> Result<ResidualStream> {
        ResidualStream::of_model(&folder.model, input)
    }

    /// Runs `model` on `input`, keeping the stream after every stage.
    pub fn of_model(model: &Model, input: &str) -> Result<ResidualStream> {
        let config = &model.config;
        let word = crate::input::parse_word(input, &config.vocab)?;
        let ids = model.encode(&word)?;
        let mut tokens: Vec<String> = config.bos.iter().cloned().collect();
        tokens.extend(word.iter().cloned());
        let skip = ids.len().checked_sub(tokens.len()).ok_or_else(|| {
            Error::new(ErrorKind::Internal, "the model encoded fewer positions than the program sees")
        })?;
        let mut positions: Vec<String> = (0..skip).map(|_| config.start_token.clone()).collect();
        positions.extend(position_labels(&tokens));

        // The stream after layer L is the final stream of the model cut
        // after its first L layers: the model's own forward pass, nothing
        // recomputed here.
        let mut stages = Vec::new();
        for stage in 0..=model.layers.len() {
            let mut cut = model.clone();
            cut.layers.truncate(stage);
            let streams = cut.residuals(std::slice::from_ref(&ids))?;
            let stream = streams
                .into_iter()
                .next()
                .ok_or_else(|| Error::new(ErrorKind::Internal, "the forward pass returned no stream"))?;
            let values = stream.rows().into_iter().map(|row| row.to_vec()).collect();
            stages.push(ResidualStage { stage, values });
        }
        Ok(ResidualStream {
            sop: config.readout.sop.clone(),
            input: input.to_string(),
            positions,
            groups: groups(model),
            stages,
        })
    }

    fn scene(&self) -> rasp_draw::Scene {
        let mut columns = Vec::new();
        let mut layout = Vec::new();
        for group in &self.groups {
            layout.push((group, columns.len()));
            columns.extend(group.labels.iter().cloned());
        }
        let order: Vec<usize> = self.groups.iter().flat_map(|g| g.dims.iter().copied()).collect();
        let panels: Vec<ResidualPanel> = self
            .stages
            .iter()
            .map(|stage| {
                let wrote: Vec<&str> =
                    self.groups.iter().filter(|g| g.written_at == stage.stage).map(|g| g.name.as_str()).collect();
                let title =
                    if stage.stage == 0 { "embedding".to_string() } else { format!("after layer {}", stage.stage) };
                let caption = if wrote.is_empty() {
                    "writes nothing new".to_string()
                } else {
                    format!("writes (framed): {}", wrote.join(", "))
                };
                ResidualPanel {
                    title,
                    caption,
                    values: stage
                        .values
                        .iter()
                        .map(|row| order.iter().map(|&d| row.get(d).copied().map_or(f64::NAN, f64::from)).collect())
                        .collect(),
                    groups: layout
                        .iter()
                        .map(|(g, first)| ColumnGroup {
                            heading: g.name.clone(),
                            first: *first,
                            count: g.dims.len(),
                            highlighted: g.written_at == stage.stage,
                        })
                        .collect(),
                }
            })
            .collect();
        let title = format!("{} on {:?}: the residual stream, layer by layer", self.sop, self.input);
        residual_scene(&title, &self.positions, &columns, &panels)
    }

    /// The stream as an SVG: one heatmap per stage, what the stage wrote
    /// framed.
    pub fn to_svg(&self) -> String {
        self.scene().to_svg()
    }

    /// The same picture in a self-contained HTML page with hover details.
    pub fn to_html(&self) -> String {
        let title = format!("{} on {:?} — residual stream", self.sop, self.input);
        self.scene().to_html(&title)
    }
}

/// The stage that writes a subspace: model.json's `written_by` is
/// "embedding" or "layer L attention" / "layer L mlp" with L from 0, the
/// stages count layers from 1.
fn stage_of(written_by: &str) -> usize {
    written_by
        .strip_prefix("layer ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|l| l.parse::<usize>().ok())
        .map_or(0, |l| l + 1)
}

/// A value as the drawing's tables show it: `T`/`F`, numbers, tokens.
fn scalar_text(value: &Scalar) -> String {
    match value {
        Scalar::Bool(b) => if *b { "T" } else { "F" }.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => format!("{}", (f * 1000.0).round() / 1000.0),
        Scalar::Str(s) => s.clone(),
    }
}

/// model.json's subspaces as column groups, in residual order; dimensions
/// no subspace claims go in a last group `other`.
fn groups(model: &Model) -> Vec<ResidualGroup> {
    let config = &model.config;
    let mut out: Vec<ResidualGroup> = config
        .subspaces
        .iter()
        .filter(|s| !s.dims.is_empty())
        .map(|s| {
            let name = match (s.node, s.name.rsplit_once('#')) {
                (Some(_), Some((name, _))) => name.to_string(),
                _ => s.name.clone(),
            };
            // A categorical value with no dimension of its own is held by
            // all of them being 0: say which.
            let name = match &s.implicit {
                Some(implicit) => format!("{name} (else {})", scalar_text(implicit)),
                None => name,
            };
            let labels = match s.encoding {
                Encoding::Categorical => s
                    .dims
                    .iter()
                    .enumerate()
                    .map(|(i, _)| s.values.get(i).map(scalar_text).unwrap_or_default())
                    .collect(),
                // A numerical s-op is one dimension holding its value;
                // `start` and `one` are named by themselves.
                Encoding::Numerical if s.node.is_none() => s.dims.iter().map(|_| name.clone()).collect(),
                Encoding::Numerical => s.dims.iter().map(|_| "value".to_string()).collect(),
            };
            ResidualGroup { name, dims: s.dims.clone(), labels, written_at: stage_of(&s.written_by) }
        })
        .collect();
    out.sort_by_key(|g| g.dims.iter().min().copied().unwrap_or(usize::MAX));
    let claimed: std::collections::BTreeSet<usize> = out.iter().flat_map(|g| g.dims.iter().copied()).collect();
    let rest: Vec<usize> = (0..config.d_model).filter(|d| !claimed.contains(d)).collect();
    if !rest.is_empty() {
        let labels = rest
            .iter()
            .map(|&d| config.residual.iter().find(|r| r.dim == d).map(|r| r.label.clone()).unwrap_or_default())
            .collect();
        out.push(ResidualGroup { name: "other".to_string(), dims: rest, labels, written_at: 0 });
    }
    out
}
