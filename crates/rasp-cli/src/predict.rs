//! `rasp predict`: a compiled or trained model's output on one input,
//! without running the program.

use crate::files::say_then_exit;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const PREDICT_LONG_ABOUT: &str = "\
Run a model folder on one input and print its output at every position.

DIR is a folder written by `rasp compile` (model.json; also a --format hf
folder) or by `rasp train` (metrics.json). The model runs alone: the program
is not consulted, so this shows what the weights compute.

The input is read as `rasp draw` reads one: one token per character when
every vocabulary token is one character, else tokens separated by commas, or
a RASP list or quoted string (`[\"ab\", \"cd\"]`). The BOS token is put in
front when the model has one; its position is not predicted (shown as -).

A compiled model's output is decoded as `rasp verify` decodes it (argmax
over the output's values, or the nearest value of a numerical output). A
trained model's output is the class with the largest score. With --json,
prints {\"tokens\": [...], \"outputs\": [...]} (null at the BOS position)
and, for a trained model, \"classes\" and \"logits\" (one row per position).";

#[derive(Args, Debug)]
#[command(about = "Run a compiled or trained model on one input and print its outputs", long_about = PREDICT_LONG_ABOUT)]
pub struct PredictArgs {
    /// A folder written by `rasp compile` or `rasp train`.
    pub dir: PathBuf,
    /// The input (BOS added in front when the model has one).
    #[arg(long, value_name = "STR", allow_hyphen_values = true)]
    pub input: String,
    /// Print JSON instead of two aligned lines.
    #[arg(long)]
    pub json: bool,
}

/// What every model kind gives: the positions and an output per position.
struct Outputs {
    tokens: Vec<String>,
    outputs: Vec<Option<String>>,
    /// Trained models only: the classes and the scores.
    scores: Option<(Vec<String>, Vec<Vec<f32>>)>,
}

pub fn run(args: PredictArgs) -> ExitCode {
    match predict(&args.dir, &args.input) {
        Ok(out) => say_then_exit(&if args.json { json(&out) } else { lines(&out) }),
        Err((message, status)) => {
            eprintln!("rasp: {message}");
            status
        }
    }
}

fn predict(dir: &Path, input: &str) -> Result<Outputs, (String, ExitCode)> {
    let refuse = |e: rasp::Error| (e.to_string(), crate::program::exit_status(e.kind()));
    if !dir.is_dir() {
        return Err((format!("{} is not a folder", dir.display()), ExitCode::from(2)));
    }
    if dir.join("metrics.json").exists() {
        return trained(dir, input);
    }
    let folder = rasp::ModelFolder::read(dir).map_err(refuse)?;
    let model = &folder.model;
    let mut word = rasp::parse_word(input, &model.config.vocab).map_err(refuse)?;
    // The BOS is the model's to add (encode puts it in front); a user who
    // typed it anyway means the same input.
    if let Some(bos) = &model.config.bos
        && word.first() == Some(bos)
    {
        word.remove(0);
    }
    let decoded =
        model.run(std::slice::from_ref(&word)).map_err(|e| refuse(rasp::Error::from(e)))?.pop().unwrap_or_default();
    let mut tokens = Vec::new();
    let mut outputs = Vec::new();
    if let Some(bos) = &model.config.bos {
        tokens.push(bos.clone());
        outputs.push(None);
    }
    tokens.extend(word);
    // The decoded rows follow the model's positions: the start token and
    // the BOS (never decoded) come first.
    let skip = decoded.len().saturating_sub(tokens.len() - outputs.len());
    outputs.extend(decoded.into_iter().skip(skip).map(|d| Some(d.value.to_string())));
    Ok(Outputs { tokens, outputs, scores: None })
}

#[cfg(feature = "train")]
fn trained(dir: &Path, input: &str) -> Result<Outputs, (String, ExitCode)> {
    let refuse = |e: rasp::Error| (e.to_string(), crate::program::exit_status(e.kind()));
    let model = rasp::TrainedModel::load(dir).map_err(refuse)?;
    let prediction = model.predict(input).map_err(refuse)?;
    Ok(Outputs {
        tokens: prediction.tokens,
        outputs: prediction.outputs,
        scores: Some((model.classes().to_vec(), prediction.logits)),
    })
}

#[cfg(not(feature = "train"))]
fn trained(dir: &Path, _input: &str) -> Result<Outputs, (String, ExitCode)> {
    Err((
        format!("{} holds a trained model; this rasp was built without training (feature `train`)", dir.display()),
        ExitCode::FAILURE,
    ))
}

/// `input   § a b` over `output  - 1 1`, columns aligned.
fn lines(out: &Outputs) -> String {
    let shown: Vec<String> = out.outputs.iter().map(|o| o.clone().unwrap_or_else(|| "-".to_string())).collect();
    let mut top = String::from("input ");
    let mut bottom = String::from("output");
    for (token, output) in out.tokens.iter().zip(&shown) {
        let width = token.chars().count().max(output.chars().count());
        top.push_str(&format!(" {token:<width$}"));
        bottom.push_str(&format!(" {output:<width$}"));
    }
    format!("{}\n{}\n", top.trim_end(), bottom.trim_end())
}

fn json(out: &Outputs) -> String {
    let mut value = serde_json::json!({ "tokens": out.tokens, "outputs": out.outputs });
    if let Some((classes, logits)) = &out.scores {
        value["classes"] = serde_json::json!(classes);
        value["logits"] = serde_json::json!(logits);
    }
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}
