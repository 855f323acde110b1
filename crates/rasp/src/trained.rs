//! A trained encoder's attention beside the program's selectors (feature
//! `train`): the model `rasp train` wrote, run on one input, each program
//! head matched with the closest trained head of its layer, on that input
//! and over a sample of test inputs. Returned as data; the picture is a
//! method.

use crate::error::{Error, ErrorKind, Result};
use crate::program::{FileLoader, Program};
use rasp_draw::{Panel, PanelRow, heatmaps_svg, row_normalised};
use rasp_train::{Classes, Encoder, Example, Labeler, Metrics, TargetProgram, TaskSpec, attention_maps, match_heads};
use std::path::Path;

/// The positions a trained model sees for `input`: the tokens (as `rasp
/// draw` reads an input), with the task's BOS put in front if missing;
/// an error for a length outside the trained lengths or a token outside
/// the vocabulary.
fn model_input(input: &str, spec: &TaskSpec) -> Result<Vec<String>> {
    let mut tokens = crate::input::parse_word(input, &spec.vocab)?;
    if let Some(bos) = &spec.bos
        && tokens.first() != Some(bos)
    {
        tokens.insert(0, bos.clone());
    }
    let body = tokens.len() - usize::from(spec.bos.is_some());
    if body == 0 || tokens.len() > spec.max_positions() {
        let message = format!("the input must have 1 to {} tokens (the trained lengths)", spec.max_len);
        return Err(Error::new(ErrorKind::Input, message));
    }
    if let Some(t) = tokens.iter().skip(usize::from(spec.bos.is_some())).find(|t| !spec.vocab.contains(t)) {
        let message = format!("{t:?} is not in the model's vocabulary {:?}", spec.vocab);
        return Err(Error::new(ErrorKind::Input, message));
    }
    Ok(tokens)
}

fn model_error(e: rasp_train::TrainError) -> Error {
    Error::new(ErrorKind::Model, e.to_string())
}

/// A model written by `rasp train`, loaded to make predictions without
/// the program it learned.
pub struct TrainedModel {
    model: Encoder,
    metrics: Metrics,
}

/// A trained model's output on one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The positions the model saw (BOS first, if the task has one).
    pub tokens: Vec<String>,
    /// The predicted class at every position (None at the BOS position,
    /// which is never predicted).
    pub outputs: Vec<Option<String>>,
    /// The classifier's scores (logits): one row per position, one column
    /// per class of [`TrainedModel::classes`].
    pub logits: Vec<Vec<f32>>,
}

impl TrainedModel {
    /// Reads the folder `dir` (`metrics.json`, `model.safetensors`),
    /// checking its description before allocating anything.
    pub fn load(dir: &Path) -> Result<TrainedModel> {
        let (model, metrics) = rasp_train::load(dir).map_err(model_error)?;
        Ok(TrainedModel { model, metrics })
    }

    /// Everything `metrics.json` says.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The output classes, in the classifier's order.
    pub fn classes(&self) -> &[String] {
        &self.metrics.classes
    }

    /// The input-token table: token id `i` is entry `i` (padding first,
    /// then the BOS token if any, then the vocabulary).
    pub fn input_tokens(&self) -> Vec<String> {
        self.metrics.config.task.input_tokens()
    }

    /// The model's output on `input` (as `rasp draw` reads an input; the
    /// BOS token is put in front when the task has one).
    pub fn predict(&self, input: &str) -> Result<Prediction> {
        let spec = &self.metrics.config.task;
        let tokens = model_input(input, spec)?;
        let example = Example { labels: vec![String::new(); tokens.len()], tokens, selectors: Vec::new() };
        let classes = Classes::new(self.metrics.classes.clone());
        let one = std::slice::from_ref(&example);
        let batch = rasp_train::encode(one, spec, &classes, &[], self.model.dtype, &rasp_train::candle::Device::Cpu)
            .map_err(model_error)?;
        let logits = self
            .model
            .forward(&batch.tokens, &batch.key_mask)
            .and_then(|out| out.logits.squeeze(0))
            .and_then(|l| l.to_dtype(rasp_train::candle::DType::F32))
            .and_then(|l| l.to_vec2::<f32>())
            .map_err(|e| Error::new(ErrorKind::Model, format!("the forward pass failed: {e}")))?;
        let skip = usize::from(spec.bos.is_some());
        // A model from someone else may hold NaN or infinite weights: argmax
        // over such scores would name a class at random.
        if let Some(position) = logits.iter().position(|row| row.iter().any(|v| !v.is_finite())) {
            return Err(Error::new(
                ErrorKind::Model,
                format!("the model's scores at position {position} are not finite: its weights are broken"),
            ));
        }
        let outputs = logits
            .iter()
            .enumerate()
            .map(|(position, row)| {
                (position >= skip).then(|| {
                    let best = row
                        .iter()
                        .enumerate()
                        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) })
                        .0;
                    self.metrics.classes[best].clone()
                })
            })
            .collect();
        Ok(Prediction { tokens: example.tokens, outputs, logits })
    }
}

/// One program head and the trained head closest to it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedHeadMatch {
    /// The program head's layer (1 is the first; 0 is the embedding).
    pub layer: usize,
    /// The program head within its layer (1 is the first).
    pub head: usize,
    /// The selector it attends with, as written.
    pub selector: String,
    /// On the input: the closest trained head of the same layer (1-based)
    /// and its mean total-variation distance (0 = the same pattern, 1 =
    /// disjoint); `None` when the model has no such layer.
    pub on_input: Option<(usize, f64)>,
    /// The same over the test sample.
    pub over_sample: Option<(usize, f64)>,
}

/// What `rasp attention` shows for a trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedAttention {
    /// The positions the model sees (BOS first, if the task has one).
    pub tokens: Vec<String>,
    /// The program's output on them.
    pub program_output: Vec<String>,
    /// The model's prediction.
    pub model_output: Vec<String>,
    /// One entry per program head.
    pub matches: Vec<TrainedHeadMatch>,
    /// How many random test inputs `over_sample` averages over.
    pub samples: usize,
    svg: String,
}

impl TrainedAttention {
    /// Loads the model in `dir` and the program it was trained on (from
    /// `program_file`, or the file recorded in its metrics), and compares
    /// them on `input` and on `samples` test inputs.
    pub fn compute(dir: &Path, program_file: Option<&Path>, input: &str, samples: usize) -> Result<TrainedAttention> {
        let failed = model_error;
        let (model, metrics) = rasp_train::load(dir).map_err(failed)?;
        let file = program_file.map_or_else(|| metrics.file.clone(), |p| p.display().to_string());
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read {file}: {e}")))?;
        let loaded = Program::from_source(&file, &text, FileLoader)?;
        let root = loaded.sop(&metrics.task, "attention")?;
        let spec = &metrics.config.task;
        // Labels and head selectors under the mask the model was trained with.
        let program = TargetProgram::new(loaded.graph(), root, spec.bos.is_some()).with_mask(metrics.config.mask());
        let tokens = model_input(input, spec)?;
        let mut labeler = Labeler::new(&program);
        let example = labeler.label(tokens.clone()).map_err(failed)?;
        let one = std::slice::from_ref(&example);
        let maps = attention_maps(&model, one, spec).map_err(failed)?;
        let here = match_heads(&model, &program, one, spec).map_err(failed)?;
        let mut rng = rasp_train::Rng::stream(metrics.config.test_seed, 3);
        let sample = labeler.examples(spec, &mut rng, samples).map_err(failed)?;
        let overall = match_heads(&model, &program, &sample, spec).map_err(failed)?;

        let layers = model.config.layers.max(program.layers);
        let mut rows = Vec::new();
        for layer in 1..=layers {
            let mut panels = Vec::new();
            if let Some(layer_maps) = maps.first().and_then(|m| m.get(layer - 1)) {
                for (h, weights) in layer_maps.iter().enumerate() {
                    let title = format!("trained head {}", h + 1);
                    panels.push(Panel { title, caption: String::new(), weights: weights.clone(), flow: None });
                }
            }
            for (j, program_head) in program.heads.iter().enumerate().filter(|(_, ph)| ph.layer == layer) {
                let caption = match (here[j].best_head, here[j].distance) {
                    (Some(best), Some(d)) => format!("closest: trained head {} (distance {d:.2})", best + 1),
                    _ => "no trained layer".to_string(),
                };
                panels.push(Panel {
                    title: format!("program head {}: {}", program_head.index + 1, program_head.expression),
                    caption,
                    weights: row_normalised(&example.selectors[j]),
                    flow: None,
                });
            }
            rows.push(PanelRow { label: format!("Layer {layer}"), panels });
        }
        let classes = Classes::new(metrics.classes.clone());
        let mut predicted = rasp_train::predict(&model, one, spec, &classes).map_err(failed)?;
        let model_output = predicted.pop().unwrap_or_default();
        let title = format!(
            "{} on {}: attention of the trained ({}, {}) model beside the program's selectors",
            metrics.task,
            tokens.join(""),
            model.config.layers,
            model.config.heads
        );
        let svg = heatmaps_svg(&title, &tokens, &rows);
        let matches = here
            .iter()
            .zip(&overall)
            .map(|(h, o)| TrainedHeadMatch {
                layer: h.layer,
                head: h.index + 1,
                selector: h.selector.clone(),
                on_input: h.best_head.zip(h.distance).map(|(b, d)| (b + 1, d)),
                over_sample: o.best_head.zip(o.distance).map(|(b, d)| (b + 1, d)),
            })
            .collect();
        Ok(TrainedAttention { tokens, program_output: example.labels.clone(), model_output, matches, samples, svg })
    }

    /// The input, both outputs, and one line per program head.
    pub fn report(&self) -> String {
        let mut out = format!(
            "input     {}\nprogram   {}\nmodel     {}\n",
            self.tokens.join(" "),
            self.program_output.join(" "),
            self.model_output.join(" ")
        );
        for m in &self.matches {
            let head = format!("program layer {} head {} ({})", m.layer, m.head, m.selector);
            out.push_str(&match (m.on_input, m.over_sample) {
                (Some((best, d)), Some((best_overall, d_overall))) => format!(
                    "{head}: closest trained head {best} at distance {d:.3} on this input; head {best_overall} at {d_overall:.3} over {} test inputs\n",
                    self.samples
                ),
                _ => format!("{head}: the model has no layer {}\n", m.layer),
            });
        }
        out
    }

    /// Heatmaps: one row per layer, the trained heads then the program's
    /// selectors of that layer (rows normalised).
    pub fn to_svg(&self) -> &str {
        &self.svg
    }
}
