//! The training loop: fresh labelled inputs every step, AdamW, evaluation
//! on held-out inputs, early stop at the plateau, metrics.

use crate::TrainError;
use crate::attention::{HeadMatch, match_heads};
use crate::checkpoint::{Checkpoint, LoopState, SavedTensors};
use crate::data::{Classes, Example, Labeler, TargetProgram, TaskSpec};
use crate::model::{Encoder, EncoderConfig, log_softmax};
use crate::optimizer::{AdamW, AdamWSettings};
use crate::rng::Rng;
use candle_core::{D, DType, Device, Tensor};
use rasp_core::AttentionMask;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Everything a run depends on. With the same config (and program) a run
/// gives the same model and metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The inputs trained and tested on.
    pub task: TaskSpec,
    /// The model's layers.
    pub layers: usize,
    /// The model's heads per layer.
    pub heads: usize,
    /// The model's width; a multiple of `heads`.
    pub d_model: usize,
    /// Inputs per step.
    pub batch: usize,
    /// AdamW's peak learning rate (after warm-up, before any halving).
    pub lr: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Steps of linear learning-rate warm-up.
    pub warmup: usize,
    /// The cap; runs normally stop earlier, at the plateau.
    pub max_steps: usize,
    /// Steps between evaluations on the validation inputs.
    pub eval_every: usize,
    /// Evaluations without a better validation accuracy before stopping;
    /// the learning rate halves after half as many.
    pub patience: usize,
    /// Held-out inputs that decide the best checkpoint and the stop.
    pub val_inputs: usize,
    /// Held-out inputs the final accuracies are measured on.
    pub test_inputs: usize,
    /// Seeds the initialisation, the training inputs and the validation
    /// inputs.
    pub seed: u64,
    /// Seeds the test inputs (and the inputs that fix the output classes),
    /// shared by all runs of a task so their accuracies are comparable.
    pub test_seed: u64,
    /// C of the attention-supervision loss (0: none): the weight of the
    /// mean squared error between supervised heads and their selectors.
    pub attn_supervision: f64,
    /// Decoder mode (semantics.md §6): the encoder's attention is masked
    /// causally, and the labels come from the interpreter under the same
    /// mask. False when absent (metrics written before decoder mode).
    #[serde(default)]
    pub causal: bool,
    /// Prefix-LM length (positions, BOS included) with `causal`.
    #[serde(default)]
    pub prefix_len: Option<usize>,
}

impl TrainConfig {
    /// The reduced protocol's defaults (docs/experiments.md).
    pub fn new(task: TaskSpec, layers: usize, heads: usize) -> TrainConfig {
        TrainConfig {
            task,
            layers,
            heads,
            d_model: 64,
            batch: 32,
            lr: 1e-3,
            weight_decay: 0.0,
            warmup: 200,
            max_steps: 40_000,
            eval_every: 250,
            patience: 12,
            val_inputs: 500,
            test_inputs: 2000,
            seed: 0,
            test_seed: 1234,
            attn_supervision: 0.0,
            causal: false,
            prefix_len: None,
        }
    }

    /// The attention mask of the model and of its labels.
    pub fn mask(&self) -> AttentionMask {
        AttentionMask::from_options(self.causal, self.prefix_len.filter(|_| self.causal))
    }
}

/// Reported to the caller while training.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The step just taken (1-based).
    pub step: usize,
    /// The configured cap.
    pub max_steps: usize,
    /// Training loss, averaged over recent steps.
    pub loss: f64,
    /// Validation token accuracy, on steps that evaluated.
    pub val_accuracy: Option<f64>,
    /// The best validation token accuracy so far (0 before the first
    /// evaluation).
    pub best_val_accuracy: f64,
    /// The learning rate of this step.
    pub lr: f64,
    /// Seconds since `train` was called.
    pub seconds: f64,
}

/// One point of the learning curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// The step evaluated at.
    pub step: usize,
    /// The smoothed training loss there.
    pub loss: f64,
    /// The validation token accuracy there, in [0, 1].
    pub val_token_accuracy: f64,
}

/// What a run measured, and what is needed to load its model again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The s-op's name.
    pub task: String,
    /// The program file (set by the front end).
    pub file: String,
    /// The run's config.
    pub config: TrainConfig,
    /// The model's shape.
    pub model: EncoderConfig,
    /// The output classes, in class-id order (the classifier's rows).
    pub classes: Vec<String>,
    /// The program's analysed size: heads per layer.
    pub compiled_heads_per_layer: Vec<usize>,
    /// Trainable numbers in the model.
    pub params: usize,
    /// Steps taken.
    pub steps: usize,
    /// `plateau`, `perfect` (100% validation accuracy three evaluations
    /// running) or `max_steps`.
    pub stop: String,
    /// Wall-clock seconds of the whole run, preparation included.
    pub seconds: f64,
    /// Milliseconds per training step (the loop only).
    pub ms_per_step: f64,
    /// On the test inputs, BOS position excluded.
    pub token_accuracy: f64,
    /// The share of test inputs with every counted position right.
    pub sequence_accuracy: f64,
    /// The best validation token accuracy (of the checkpoint kept).
    pub val_token_accuracy: f64,
    /// The step of the checkpoint kept.
    pub best_step: usize,
    /// For every program head: the trained head of the same layer whose
    /// attention is closest to the row-normalised selector (mean
    /// total-variation distance over 200 test inputs).
    pub head_matches: Vec<HeadMatch>,
    /// The learning curve: one point per evaluation.
    pub curve: Vec<CurvePoint>,
}

/// Inputs and targets as tensors, padded to the longest example.
pub struct Batch {
    /// (batch, positions) u32 input-token ids (see [`TaskSpec::input_tokens`]).
    pub tokens: Tensor,
    /// (batch, positions): 1 for real tokens, 0 for padding.
    pub key_mask: Tensor,
    /// (batch, positions, classes) one-hot targets.
    pub targets: Tensor,
    /// (batch, positions): weight of each position in the loss, so that the
    /// loss is the mean over sequences of the mean over their positions.
    pub token_weight: Tensor,
    /// Supervised heads: (model layer, head, target (batch, q, k), row
    /// weight (batch, q)).
    pub attention_targets: Vec<(usize, usize, Tensor, Tensor)>,
    /// Class of every counted position (None: not counted, i.e. padding or
    /// BOS; Some(None): a label outside the classes, always wrong).
    pub classes: Vec<Vec<Option<Option<usize>>>>,
}

/// Which program heads a model of `layers` × `heads` can be supervised
/// with: (model layer, model head, program head index).
pub fn supervised_heads(program: &TargetProgram, layers: usize, heads: usize) -> Vec<(usize, usize, usize)> {
    program
        .heads
        .iter()
        .enumerate()
        .filter(|(_, h)| h.layer >= 1 && h.layer <= layers && h.index < heads)
        .map(|(i, h)| (h.layer - 1, h.index, i))
        .collect()
}

/// Encodes examples as one batch; `supervised` as [`supervised_heads`]
/// gives (attention targets are built for those heads only). Fails on a
/// token outside the spec's input tokens.
pub fn encode(
    examples: &[Example],
    spec: &TaskSpec,
    classes: &Classes,
    supervised: &[(usize, usize, usize)],
    dtype: DType,
    device: &Device,
) -> Result<Batch, TrainError> {
    let b = examples.len();
    let t = examples.iter().map(|e| e.tokens.len()).max().unwrap_or(1);
    let vocab = spec.input_tokens();
    let skip = usize::from(spec.bos.is_some());
    let c = classes.len().max(1);
    let mut tokens = vec![0u32; b * t];
    let mut key_mask = vec![0f32; b * t];
    let mut targets = vec![0f32; b * t * c];
    let mut weight = vec![0f32; b * t];
    let mut class_ids = Vec::with_capacity(b);
    for (i, e) in examples.iter().enumerate() {
        let mut row = vec![None; t];
        let counted: Vec<usize> = (skip..e.tokens.len()).collect();
        let known = counted.iter().filter(|&&p| classes.id(&e.labels[p]).is_some()).count();
        for (p, tok) in e.tokens.iter().enumerate() {
            let id = vocab
                .iter()
                .position(|v| v == tok)
                .ok_or_else(|| TrainError::Config(format!("token {tok:?} is not in the vocabulary")))?;
            tokens[i * t + p] = id as u32;
            key_mask[i * t + p] = 1.0;
        }
        for &p in &counted {
            let class = classes.id(&e.labels[p]);
            row[p] = Some(class);
            if let Some(k) = class {
                targets[(i * t + p) * c + k] = 1.0;
                weight[i * t + p] = 1.0 / (known as f32 * b as f32);
            }
        }
        class_ids.push(row);
    }
    let float = |v: Vec<f32>, shape: &[usize]| -> Result<Tensor, TrainError> {
        Ok(Tensor::from_vec(v, shape, device)?.to_dtype(dtype)?)
    };
    let mut attention_targets = Vec::with_capacity(supervised.len());
    for &(layer, head, j) in supervised {
        let mut target = vec![0f32; b * t * t];
        let mut rows = vec![0f32; b * t];
        let mut total_rows = 0usize;
        for (i, e) in examples.iter().enumerate() {
            let m = &e.selectors[j];
            for q in 0..m.len() {
                let count = m.count(q);
                // Empty rows have no distribution to match: skipped (the
                // paper adds 1e-8 before normalising, i.e. uniform).
                if count == 0 {
                    continue;
                }
                rows[i * t + q] = 1.0;
                total_rows += 1;
                for k in m.selected(q) {
                    target[(i * t + q) * t + k] = 1.0 / count as f32;
                }
            }
        }
        // Mean over the entries of the counted rows.
        let scale = 1.0 / (total_rows.max(1) * t) as f32;
        rows.iter_mut().for_each(|r| *r *= scale);
        attention_targets.push((layer, head, float(target, &[b, t, t])?, float(rows, &[b, t])?));
    }
    Ok(Batch {
        tokens: Tensor::from_vec(tokens, (b, t), device)?,
        key_mask: float(key_mask, &[b, t])?,
        targets: float(targets, &[b, t, c])?,
        token_weight: float(weight, &[b, t])?,
        attention_targets,
        classes: class_ids,
    })
}

/// The training loss: cross-entropy (mean over each sequence's positions,
/// then over the batch) plus `c` × the attention MSE of supervised heads.
/// Returns the total and the cross-entropy part.
pub fn loss(model: &Encoder, batch: &Batch, c: f64) -> Result<(Tensor, Tensor), TrainError> {
    let out = model.forward(&batch.tokens, &batch.key_mask)?;
    let logp = log_softmax(&out.logits)?;
    let nll = (batch.targets.mul(&logp)?.sum(D::Minus1)? * -1.0)?;
    let ce = nll.mul(&batch.token_weight)?.sum_all()?;
    let mut total = ce.clone();
    if c != 0.0 {
        for (layer, head, target, rows) in &batch.attention_targets {
            let attn = out.attention[*layer].narrow(1, *head, 1)?.squeeze(1)?;
            let mse = attn.sub(target)?.sqr()?.sum(D::Minus1)?.mul(rows)?.sum_all()?;
            total = (total + (mse * c)?)?;
        }
    }
    Ok((total, ce))
}

/// Token accuracy (counted positions) and whole-sequence accuracy.
pub(crate) fn accuracy(
    model: &Encoder,
    examples: &[Example],
    spec: &TaskSpec,
    classes: &Classes,
) -> Result<(f64, f64), TrainError> {
    let (mut right, mut counted, mut seq_right) = (0usize, 0usize, 0usize);
    for chunk in examples.chunks(250) {
        let batch = encode(chunk, spec, classes, &[], model.dtype, &Device::Cpu)?;
        let out = model.forward(&batch.tokens, &batch.key_mask)?;
        let predicted: Vec<Vec<u32>> = out.logits.argmax(D::Minus1)?.to_vec2()?;
        for (row, pred) in batch.classes.iter().zip(&predicted) {
            let mut all = true;
            for (p, class) in row.iter().enumerate() {
                if let Some(class) = class {
                    counted += 1;
                    if *class == Some(pred[p] as usize) {
                        right += 1;
                    } else {
                        all = false;
                    }
                }
            }
            seq_right += usize::from(all);
        }
    }
    Ok((right as f64 / counted.max(1) as f64, seq_right as f64 / examples.len().max(1) as f64))
}

/// The model's output on every example, as class names; the BOS position
/// shows the program's label there (it is not predicted). `classes` must be
/// the ones the model was trained with (`Metrics::classes`).
pub fn predict(
    model: &Encoder,
    examples: &[Example],
    spec: &TaskSpec,
    classes: &Classes,
) -> Result<Vec<Vec<String>>, TrainError> {
    let mut out = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(250) {
        let batch = encode(chunk, spec, classes, &[], model.dtype, &Device::Cpu)?;
        let logits = model.forward(&batch.tokens, &batch.key_mask)?.logits;
        let ids: Vec<Vec<u32>> = logits.argmax(D::Minus1)?.to_vec2()?;
        for (e, row) in chunk.iter().zip(ids) {
            out.push(
                (0..e.tokens.len())
                    .map(|p| {
                        if p == 0 && spec.bos.is_some() {
                            e.labels[0].clone()
                        } else {
                            classes.names.get(row[p] as usize).cloned().unwrap_or_default()
                        }
                    })
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// What training needs besides the config: the program's output classes
/// and the fixed held-out inputs.
pub(crate) struct Prepared {
    pub classes: Classes,
    pub val: Vec<Example>,
    pub test: Vec<Example>,
}

/// Draws the test inputs (from `test_seed`), the validation inputs (from
/// `seed`) and the classes (every label of 4,000 more inputs from
/// `test_seed`, the validation and the test inputs).
pub(crate) fn prepare(program: &TargetProgram, config: &TrainConfig) -> Result<Prepared, TrainError> {
    config.task.check()?;
    let mut labeler = Labeler::new(program);
    let test = labeler.examples(&config.task, &mut Rng::stream(config.test_seed, 3), config.test_inputs)?;
    let val = labeler.examples(&config.task, &mut Rng::stream(config.seed, 2), config.val_inputs)?;
    let discovery = labeler.examples(&config.task, &mut Rng::stream(config.test_seed, 4), 4000)?;
    let bos = config.task.bos.is_some();
    let classes = Classes::from_examples([&discovery[..], &val[..], &test[..]], bos);
    if classes.is_empty() {
        return Err(TrainError::Config("the program has no outputs to learn".into()));
    }
    Ok(Prepared { classes, val, test })
}

/// Builds the model a config describes.
pub fn build_model(config: &TrainConfig, classes: &Classes, dtype: DType) -> Result<Encoder, TrainError> {
    let model_config = EncoderConfig {
        layers: config.layers,
        heads: config.heads,
        d_model: config.d_model,
        d_ff: 2 * config.d_model,
        n_tokens: config.task.input_tokens().len(),
        n_classes: classes.len(),
        max_positions: config.task.max_positions(),
        causal: config.causal,
        prefix_len: config.prefix_len,
    };
    if config.heads == 0 || !config.d_model.is_multiple_of(config.heads) {
        return Err(TrainError::Config(format!(
            "the width {} must be a positive multiple of the heads {}",
            config.d_model, config.heads
        )));
    }
    Ok(Encoder::new(model_config, config.seed, dtype, &Device::Cpu)?)
}

/// How a front end steers a run besides its config.
#[derive(Default)]
pub struct TrainControl<'a> {
    /// Where to keep a checkpoint ([`crate::CHECKPOINT_FILE`]): written at
    /// every evaluation and when the run is interrupted, so that a run cut
    /// short (Ctrl-C, kill, power) loses at most `eval_every` steps.
    pub checkpoint_dir: Option<&'a Path>,
    /// A saved run to continue. Its config must equal this run's except
    /// for `max_steps` (which may grow); the run then takes exactly the
    /// steps it would have taken had it never stopped.
    pub resume: Option<Checkpoint>,
    /// Set (by a Ctrl-C handler, say) to stop after the step under way:
    /// the run writes its checkpoint, measures its best parameters on the
    /// test inputs and returns with `stop` = `interrupted`.
    pub interrupt: Option<&'a AtomicBool>,
}

/// Trains a model of `config`'s size on `program` until the validation
/// accuracy stops improving (or `max_steps`), then restores the best
/// checkpoint and measures it on the test inputs.
pub fn train(
    program: &TargetProgram,
    config: &TrainConfig,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Encoder, Metrics), TrainError> {
    train_with(program, config, TrainControl::default(), progress)
}

/// Fails unless `checkpoint` is a run of `config` (any step cap) with the
/// same output classes, naming what differs.
fn check_resumable(checkpoint: &Checkpoint, config: &TrainConfig, classes: &Classes) -> Result<(), TrainError> {
    let comparable = |c: &TrainConfig| {
        let mut value = serde_json::to_value(c).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            fields.remove("max_steps");
        }
        value
    };
    let (saved, asked) = (comparable(checkpoint.config()), comparable(config));
    if saved != asked {
        let differ: Vec<String> = match (saved.as_object(), asked.as_object()) {
            (Some(s), Some(a)) => a.iter().filter(|(k, v)| s.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        };
        return Err(TrainError::Config(format!(
            "the checkpoint is of a run with other settings ({}); resume with the same settings, or remove \
             the checkpoint to start again",
            differ.join(", ")
        )));
    }
    if checkpoint.state.classes != classes.names {
        return Err(TrainError::Config(
            "the checkpoint's output classes differ from the program's (was the program changed?)".into(),
        ));
    }
    Ok(())
}

/// [`train`], with checkpoints, resuming and interruption.
pub fn train_with(
    program: &TargetProgram,
    config: &TrainConfig,
    control: TrainControl,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Encoder, Metrics), TrainError> {
    let start = Instant::now();
    let Prepared { classes, val, test } = prepare(program, config)?;
    let model = build_model(config, &classes, DType::F32)?;
    let supervised = if config.attn_supervision != 0.0 {
        supervised_heads(program, config.layers, config.heads)
    } else {
        Vec::new()
    };
    let mut optimizer = AdamW::new(model.vars(), AdamWSettings::with_weight_decay(config.weight_decay))?;
    let mut state = LoopState {
        config: config.clone(),
        classes: classes.names.clone(),
        steps: 0,
        rng: Rng::stream(config.seed, 5).state(),
        smoothed_loss: None,
        best_accuracy: -1.0,
        best_step: 0,
        evaluations_since_best: 0,
        decay: 1.0,
        perfect_run: 0,
        curve: Vec::new(),
        loop_seconds: 0.0,
    };
    let mut best_params = model.snapshot()?;
    if let Some(checkpoint) = &control.resume {
        check_resumable(checkpoint, config, &classes)?;
        let params: Vec<(String, Tensor)> =
            model.params().iter().map(|(name, var)| (name.clone(), var.as_tensor().clone())).collect();
        let saved = checkpoint.tensors_for(&params)?;
        model.restore(&saved.current)?;
        best_params = saved.best;
        optimizer.restore(saved.optimizer)?;
        state = LoopState { config: config.clone(), ..checkpoint.state.clone() };
    }
    let names: Vec<String> = model.params().iter().map(|(name, _)| name.clone()).collect();
    let save_checkpoint = |state: &LoopState, best: &[Tensor], optimizer: &AdamW| -> Result<(), TrainError> {
        let Some(dir) = control.checkpoint_dir else { return Ok(()) };
        let saved = SavedTensors { current: model.snapshot()?, best: best.to_vec(), optimizer: optimizer.state()? };
        Checkpoint::write(dir, state, &names, &saved)
    };
    let mut labeler = Labeler::new(program);
    let mut rng = Rng::new(state.rng);
    let mut stop = "max_steps";
    let earlier_loop_seconds = state.loop_seconds;
    let loop_start = Instant::now();
    for step in state.steps + 1..=config.max_steps {
        if control.interrupt.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
            stop = "interrupted";
            break;
        }
        let lr = config.lr * state.decay * (step as f64 / config.warmup.max(1) as f64).min(1.0);
        optimizer.set_learning_rate(lr);
        let examples = labeler.examples(&config.task, &mut rng, config.batch)?;
        let batch = encode(&examples, &config.task, &classes, &supervised, DType::F32, &Device::Cpu)?;
        let (total, _) = loss(&model, &batch, config.attn_supervision)?;
        optimizer.backward_step(&total)?;
        let value = f64::from(total.to_scalar::<f32>()?);
        if !value.is_finite() {
            return Err(TrainError::Diverged { step });
        }
        state.steps = step;
        state.rng = rng.state();
        state.loop_seconds = earlier_loop_seconds + loop_start.elapsed().as_secs_f64();
        let smoothed = state.smoothed_loss.map_or(value, |s| 0.95 * s + 0.05 * value);
        state.smoothed_loss = Some(smoothed);
        let mut report = Progress {
            step,
            max_steps: config.max_steps,
            loss: smoothed,
            val_accuracy: None,
            best_val_accuracy: state.best_accuracy.max(0.0),
            lr,
            seconds: start.elapsed().as_secs_f64(),
        };
        if step % config.eval_every == 0 || step == config.max_steps {
            let (acc, _) = accuracy(&model, &val, &config.task, &classes)?;
            state.curve.push(CurvePoint { step, loss: smoothed, val_token_accuracy: acc });
            if acc > state.best_accuracy {
                (state.best_accuracy, state.best_step) = (acc, step);
                best_params = model.snapshot()?;
                state.evaluations_since_best = 0;
            } else {
                state.evaluations_since_best += 1;
                if state.evaluations_since_best * 2 == config.patience {
                    state.decay *= 0.5;
                }
            }
            state.perfect_run = if acc >= 1.0 { state.perfect_run + 1 } else { 0 };
            save_checkpoint(&state, &best_params, &optimizer)?;
            report.val_accuracy = Some(acc);
            report.best_val_accuracy = state.best_accuracy;
            progress(&report);
            if state.perfect_run >= 3 {
                stop = "perfect";
                break;
            }
            if state.evaluations_since_best >= config.patience {
                stop = "plateau";
                break;
            }
        } else {
            progress(&report);
        }
    }
    if stop == "interrupted" {
        save_checkpoint(&state, &best_params, &optimizer)?;
    }
    model.restore(&best_params)?;
    let (token_accuracy, sequence_accuracy) = accuracy(&model, &test, &config.task, &classes)?;
    let head_matches = match_heads(&model, program, &test[..test.len().min(200)], &config.task)?;
    let metrics = Metrics {
        task: program.name.clone(),
        file: String::new(),
        config: config.clone(),
        model: model.config,
        classes: classes.names.clone(),
        compiled_heads_per_layer: program.heads_per_layer.clone(),
        params: model.param_count(),
        steps: state.steps,
        stop: stop.to_string(),
        seconds: start.elapsed().as_secs_f64() + earlier_loop_seconds,
        ms_per_step: 1000.0 * state.loop_seconds / state.steps.max(1) as f64,
        token_accuracy,
        sequence_accuracy,
        val_token_accuracy: state.best_accuracy.max(0.0),
        best_step: state.best_step,
        head_matches,
        curve: state.curve,
    };
    Ok((model, metrics))
}

/// Writes `model.safetensors` and `metrics.json` into `dir`.
pub fn save(dir: &std::path::Path, model: &Encoder, metrics: &Metrics) -> Result<(), TrainError> {
    let io = |path: &std::path::Path, e: std::io::Error| TrainError::Io(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    // Each file is written beside its final name and renamed over it, so an
    // interrupted save leaves the previous run's files whole; the metrics,
    // written last, say the model beside them is complete.
    let weights = dir.join("model.safetensors");
    let partial = dir.join(".model.safetensors.partial");
    model.save(&partial)?;
    std::fs::rename(&partial, &weights).map_err(|e| io(&weights, e))?;
    let json = serde_json::to_string_pretty(metrics).map_err(|e| TrainError::Io(e.to_string()))?;
    let path = dir.join("metrics.json");
    let partial = dir.join(".metrics.json.partial");
    std::fs::write(&partial, json + "\n").map_err(|e| io(&partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| io(&path, e))?;
    Ok(())
}

/// Fails unless files can be written in `dir` (creating it if needed):
/// called before training, so that a bad `-o` is found in a second, not
/// after an hour.
pub fn check_output_dir(dir: &std::path::Path) -> Result<(), TrainError> {
    let io = |path: &std::path::Path, e: std::io::Error| TrainError::Io(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let probe = dir.join(".rasp-write-check");
    std::fs::write(&probe, b"").map_err(|e| io(dir, e))?;
    std::fs::remove_file(&probe).map_err(|e| io(&probe, e))?;
    Ok(())
}

/// The largest model a folder may describe: the bounds `rasp train`
/// accepts, so that a `metrics.json` from someone else cannot make loading
/// allocate without limit.
const MAX_LOADED_LAYERS: usize = 64;
const MAX_LOADED_HEADS: usize = 64;
const MAX_LOADED_WIDTH: usize = 4096;
const MAX_LOADED_POSITIONS: usize = 1025;

/// Fails unless `metrics` describes a model this crate could have trained:
/// its shape within the trainable bounds and consistent with its task
/// (tokens, classes, positions), before any weight is allocated.
fn check_loadable(metrics: &Metrics) -> Result<(), TrainError> {
    let bad = |why: String| Err(TrainError::Config(format!("metrics.json: {why}")));
    metrics.config.task.check().map_err(|e| TrainError::Config(format!("metrics.json: {e}")))?;
    let m = &metrics.model;
    if !(1..=MAX_LOADED_LAYERS).contains(&m.layers) || !(1..=MAX_LOADED_HEADS).contains(&m.heads) {
        return bad(format!(
            "{} layers of {} heads (at most {MAX_LOADED_LAYERS} and {MAX_LOADED_HEADS})",
            m.layers, m.heads
        ));
    }
    if !(1..=MAX_LOADED_WIDTH).contains(&m.d_model) || !m.d_model.is_multiple_of(m.heads) || m.d_ff != 2 * m.d_model {
        return bad(format!(
            "d_model {} and d_ff {} (d_model at most {MAX_LOADED_WIDTH}, a multiple of the heads; d_ff twice it)",
            m.d_model, m.d_ff
        ));
    }
    let tokens = metrics.config.task.input_tokens().len();
    if m.n_tokens != tokens {
        return bad(format!("the model has {} input tokens, its task {tokens}", m.n_tokens));
    }
    if metrics.classes.is_empty() || m.n_classes != metrics.classes.len() {
        return bad(format!("the model has {} output classes, the class list {}", m.n_classes, metrics.classes.len()));
    }
    let positions = metrics.config.task.max_positions();
    if m.max_positions != positions || positions > MAX_LOADED_POSITIONS {
        return bad(format!(
            "the model has {} positions, its task {positions} (at most {MAX_LOADED_POSITIONS})",
            m.max_positions
        ));
    }
    Ok(())
}

/// Reads a run's metrics and model back. The folder may come from someone
/// else: its description is checked before anything is allocated, and the
/// weights must have the shapes it describes.
pub fn load(dir: &std::path::Path) -> Result<(Encoder, Metrics), TrainError> {
    let path = dir.join("metrics.json");
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))?;
    let metrics: Metrics =
        serde_json::from_str(&text).map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))?;
    check_loadable(&metrics)?;
    let mut model = Encoder::new(metrics.model, metrics.config.seed, DType::F32, &Device::Cpu)?;
    model.load(&dir.join("model.safetensors"))?;
    Ok((model, metrics))
}
