//! Correctness of the training stack: gradients reach every parameter and
//! agree with finite differences, runs are reproducible, and a small model
//! learns the BOS histogram.

use candle_core::{DType, Device, Tensor};
use rasp_core::Value;
use rasp_lang::{Session, SourceLoader};
use rasp_train::{
    Batch, Checkpoint, Classes, Encoder, InputKind, Labeler, Progress, Rng, TargetProgram, TaskSpec, TrainConfig,
    TrainControl, build_model, encode, loss, supervised_heads,
};
use std::sync::atomic::{AtomicBool, Ordering};

struct NoFiles;

impl SourceLoader for NoFiles {
    fn load(&self, _path: &str) -> Option<String> {
        None
    }
}

/// A session that has run an example program.
fn session(file: &str) -> Session {
    let path = format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("example program");
    let mut s = Session::new(Box::new(NoFiles));
    s.run_file(file, &text);
    let out = s.take_output();
    assert!(!s.had_file_errors(), "{out}");
    s
}

fn root(s: &Session, name: &str) -> rasp_core::NodeId {
    match s.lookup(name) {
        Some(Value::Sop(id)) => id,
        other => panic!("{name}: {other:?}"),
    }
}

fn letters(n: usize) -> Vec<String> {
    ('a'..='z').take(n).map(|c| c.to_string()).collect()
}

fn spec(vocab: usize, max_len: usize, bos: bool) -> TaskSpec {
    TaskSpec {
        vocab: letters(vocab),
        min_len: 1,
        max_len,
        bos: bos.then(|| "§".to_string()),
        inputs: InputKind::Uniform,
    }
}

/// A tiny model of double_hist_bos (two layers, two heads, attention
/// supervision on) with one batch, in `dtype`.
fn tiny(s: &Session, dtype: DType) -> (Encoder, Batch) {
    let program = TargetProgram::new(&s.graph, root(s, "double_hist_bos"), true);
    let task = spec(4, 5, true);
    let mut config = TrainConfig::new(task.clone(), 2, 2);
    config.d_model = 8;
    let mut labeler = Labeler::new(&program);
    let examples = labeler.examples(&task, &mut Rng::new(3), 6).expect("labels");
    let classes = Classes::from_examples([&examples[..]], true);
    let model = build_model(&config, &classes, dtype).expect("model");
    let supervised = supervised_heads(&program, 2, 2);
    assert_eq!(supervised.len(), 3, "double histogram has heads 2 + 1");
    let batch = encode(&examples, &task, &classes, &supervised, dtype, &Device::Cpu).expect("batch");
    (model, batch)
}

#[test]
fn every_parameter_receives_a_gradient() {
    rasp_lang::with_large_stack(|| {
        let s = session("double_histogram.rasp");
        let (model, batch) = tiny(&s, DType::F32);
        let (total, _) = loss(&model, &batch, 1.0).expect("loss");
        let grads = total.backward().expect("backward");
        assert!(model.params().len() >= 2 + 2 * 16, "{} parameters", model.params().len());
        for (name, var) in model.params() {
            let g = grads.get(var.as_tensor()).unwrap_or_else(|| panic!("{name} has no gradient"));
            let size: f32 = g.abs().and_then(|a| a.sum_all()).and_then(|a| a.to_scalar()).expect("sum");
            assert!(size > 0.0 && size.is_finite(), "{name}: gradient magnitude {size}");
        }
    });
}

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f64>().expect("f64 scalar")
}

#[test]
fn gradients_match_finite_differences() {
    rasp_lang::with_large_stack(|| {
        let s = session("double_histogram.rasp");
        let (model, batch) = tiny(&s, DType::F64);
        let c = 3.0; // attention supervision included, so its gradient is checked too
        let (total, _) = loss(&model, &batch, c).expect("loss");
        let grads = total.backward().expect("backward");
        let eps = 1e-6;
        let mut rng = Rng::new(11);
        let mut checked = 0;
        for (name, var) in model.params() {
            let shape = var.shape().clone();
            let original: Vec<f64> = var.as_tensor().flatten_all().and_then(|t| t.to_vec1()).expect("values");
            let grad: Vec<f64> =
                grads.get(var.as_tensor()).expect("gradient").flatten_all().and_then(|t| t.to_vec1()).expect("grad");
            // Three entries of every parameter.
            for _ in 0..3 {
                let i = rng.below(original.len());
                let at = |delta: f64| {
                    let mut v = original.clone();
                    v[i] += delta;
                    var.set(&Tensor::from_vec(v, &shape, &Device::Cpu).expect("tensor")).expect("set");
                    let (l, _) = loss(&model, &batch, c).expect("loss");
                    scalar(&l)
                };
                let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
                var.set(&Tensor::from_vec(original.clone(), &shape, &Device::Cpu).expect("tensor")).expect("reset");
                let analytic = grad[i];
                let tolerance = 1e-6 + 1e-4 * numeric.abs().max(analytic.abs());
                assert!(
                    (numeric - analytic).abs() <= tolerance,
                    "{name}[{i}]: analytic {analytic:e}, numeric {numeric:e}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 100);
    });
}

fn hist_config(steps: usize) -> TrainConfig {
    let mut config = TrainConfig::new(spec(4, 6, true), 1, 1);
    config.d_model = 32;
    config.max_steps = steps;
    config.eval_every = 100;
    config.val_inputs = 200;
    config.test_inputs = 500;
    config.seed = 5;
    config
}

#[test]
fn runs_are_reproducible_from_the_seed() {
    rasp_lang::with_large_stack(|| {
        let s = session("histogram.rasp");
        let program = TargetProgram::new(&s.graph, root(&s, "hist_bos"), true);
        let config = hist_config(20);
        let run = || {
            let (model, metrics) = rasp_train::train(&program, &config, &mut |_| {}).expect("train");
            let first = model.params()[0].1.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("values");
            (first, metrics.token_accuracy, metrics.curve)
        };
        assert_eq!(run(), run());
    });
}

/// The CI smoke test (issue 6): hist_bos at lengths ≤ 6 above 90% token
/// accuracy, within two minutes even in a debug build.
#[test]
fn learns_the_bos_histogram() {
    rasp_lang::with_large_stack(|| {
        let s = session("histogram.rasp");
        let program = TargetProgram::new(&s.graph, root(&s, "hist_bos"), true);
        assert_eq!((program.layers, program.max_heads()), (1, 1));
        let config = hist_config(3000);
        let (_, metrics) = rasp_train::train(&program, &config, &mut |_| {}).expect("train");
        eprintln!(
            "hist_bos smoke: token {:.4}, sequence {:.4}, {} steps ({}), attention distance {:?}",
            metrics.token_accuracy,
            metrics.sequence_accuracy,
            metrics.steps,
            metrics.stop,
            metrics.head_matches[0].distance
        );
        assert!(metrics.token_accuracy > 0.9, "token accuracy {}", metrics.token_accuracy);
    });
}

/// Decoder mode (semantics.md §6): a causal model gives no attention to
/// later positions, and the labels are the program's causal output (the
/// running count of each token, worked out by hand).
#[test]
fn causal_models_and_labels() {
    rasp_lang::with_large_stack(|| {
        let s = session("running_count.rasp");
        let program =
            TargetProgram::new(&s.graph, root(&s, "running_count"), false).with_mask(rasp_core::AttentionMask::Causal);
        let mut labeler = Labeler::new(&program);
        let example = labeler.label(["a", "b", "a", "a"].map(String::from).to_vec()).expect("labels");
        assert_eq!(example.labels, ["1", "1", "2", "3"]);
        let task = spec(2, 5, false);
        let mut config = TrainConfig::new(task.clone(), 1, 2);
        config.d_model = 8;
        config.causal = true;
        let examples = labeler.examples(&task, &mut Rng::new(3), 6).expect("labels");
        let classes = Classes::from_examples([&examples[..]], false);
        let model = build_model(&config, &classes, DType::F32).expect("model");
        let batch = encode(&examples, &task, &classes, &[], DType::F32, &Device::Cpu).expect("batch");
        let out = model.forward(&batch.tokens, &batch.key_mask).expect("forward");
        // (batch, heads, query, key), flattened.
        let weights = out.attention[0].flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("weights");
        let len = batch.tokens.dims2().expect("2-D").1;
        let mut later = 0;
        for (cell, weight) in weights.iter().enumerate() {
            let (query, key) = ((cell / len) % len, cell % len);
            if key > query {
                later += 1;
                assert!(*weight < 1e-6, "query {query} attends to later key {key}: {weight}");
            }
        }
        assert!(later > 0);
    });
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rasp-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn all_params(model: &Encoder) -> Vec<Vec<f32>> {
    model
        .params()
        .iter()
        .map(|(_, v)| v.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>()).expect("values"))
        .collect()
}

/// A run interrupted between two evaluations and resumed from its
/// checkpoint ends with the same parameters, bit for bit, and the same
/// learning curve as the run that was never interrupted: the checkpoint
/// holds everything the loop depends on.
#[test]
fn a_resumed_run_takes_the_steps_of_an_uninterrupted_one() {
    rasp_lang::with_large_stack(|| {
        let s = session("histogram.rasp");
        let program = TargetProgram::new(&s.graph, root(&s, "hist_bos"), true);
        let mut config = hist_config(60);
        config.eval_every = 20;
        config.warmup = 10;
        let (whole, whole_metrics) = rasp_train::train(&program, &config, &mut |_| {}).expect("train");
        assert_eq!(whole_metrics.steps, 60);

        let dir = scratch("resume");
        let interrupt = AtomicBool::new(false);
        let control = TrainControl { checkpoint_dir: Some(&dir), resume: None, interrupt: Some(&interrupt) };
        let mut stop_after_35 = |p: &Progress| {
            if p.step == 35 {
                interrupt.store(true, Ordering::Relaxed);
            }
        };
        let (_, cut) = rasp_train::train_with(&program, &config, control, &mut stop_after_35).expect("train");
        assert_eq!((cut.steps, cut.stop.as_str()), (35, "interrupted"));
        let checkpoint = Checkpoint::read(&dir).expect("readable").expect("a checkpoint");
        assert_eq!(checkpoint.steps(), 35);

        let control = TrainControl { checkpoint_dir: Some(&dir), resume: Some(checkpoint), interrupt: None };
        let (resumed, metrics) = rasp_train::train_with(&program, &config, control, &mut |_| {}).expect("resume");
        assert_eq!(metrics.steps, 60);
        assert_eq!(metrics.curve, whole_metrics.curve);
        assert_eq!(metrics.best_step, whole_metrics.best_step);
        assert_eq!(metrics.token_accuracy, whole_metrics.token_accuracy);
        assert_eq!(all_params(&resumed), all_params(&whole));
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// A checkpoint resumes only the run it was made by (the step cap may
/// change), and the error names the setting that differs.
#[test]
fn a_checkpoint_refuses_other_settings() {
    rasp_lang::with_large_stack(|| {
        let s = session("histogram.rasp");
        let program = TargetProgram::new(&s.graph, root(&s, "hist_bos"), true);
        let mut config = hist_config(20);
        config.eval_every = 10;
        let dir = scratch("refuse");
        let control = TrainControl { checkpoint_dir: Some(&dir), ..TrainControl::default() };
        rasp_train::train_with(&program, &config, control, &mut |_| {}).expect("train");
        let mut other = config.clone();
        other.lr = 5e-3;
        let checkpoint = Checkpoint::read(&dir).expect("readable").expect("a checkpoint");
        let control = TrainControl { resume: Some(checkpoint), ..TrainControl::default() };
        let error = rasp_train::train_with(&program, &other, control, &mut |_| {}).err().expect("refused");
        assert!(error.to_string().contains("(lr)"), "{error}");

        let mut longer = config.clone();
        longer.max_steps = 30;
        let checkpoint = Checkpoint::read(&dir).expect("readable").expect("a checkpoint");
        let control = TrainControl { resume: Some(checkpoint), ..TrainControl::default() };
        let (_, metrics) = rasp_train::train_with(&program, &longer, control, &mut |_| {}).expect("longer");
        assert_eq!(metrics.steps, 30);

        std::fs::write(dir.join(rasp_train::CHECKPOINT_FILE), b"not safetensors").expect("write");
        let error = Checkpoint::read(&dir).err().expect("a broken file is an error");
        assert!(error.to_string().contains("not a rasp train checkpoint"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    });
}
