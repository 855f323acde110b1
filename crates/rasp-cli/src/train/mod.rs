//! `rasp train`, `rasp attention` and `rasp table`: transformers trained at
//! the size a program compiles to, their attention beside the program's
//! selectors, and the reduced Table 1 of the paper (docs/experiments.md).
//!
//! The arguments are always here, so `--help` describes the commands; the
//! training itself (`run.rs`, candle through `rasp-train`) is compiled only
//! with the `train` feature, which is on by default.

#[cfg(feature = "train")]
mod run;

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputsArg {
    /// Tokens uniform over the vocabulary.
    Uniform,
    /// Balanced strings, balanced prefixes with random tails, and random
    /// strings, a third each (the paper's Dyck generator).
    Dyck,
}

const TRAIN_ABOUT: &str =
    "Train a transformer encoder on an s-op's input/output pairs, at the size the program compiles to";

const TRAIN_LONG_ABOUT: &str = "\
Train a transformer encoder on an s-op's input/output pairs, at the size the
program compiles to (the experiments of \"Thinking Like Transformers\").

Every step draws fresh random inputs (lengths uniform in 1..=--max-len,
tokens uniform over --vocab; with --bos the BOS token is put in front) and
labels them by running the program. The model is the paper's: token
embedding plus sinusoidal positions, post-LayerNorm blocks of multi-head
attention and a ReLU feed-forward of width 2·d, a classifier at every
position, padding masked. --layers and --heads default to the program's
analysed size (with --bos the library's selector_width counts one head).

Training stops when the token accuracy on 500 validation inputs has not
improved for --patience evaluations (the learning rate halves half-way), or
after --steps steps. The best checkpoint is measured on 2,000 test inputs
(the same for every seed) and written to DIR: model.safetensors and
metrics.json (accuracies, steps, seconds, size, seed, learning curve, and
each program head's attention distance to the closest trained head).

With --causal (or --prefix-len N) the model is a decoder: its attention is
masked so that a position sees only itself and earlier positions (and the
prefix, with --prefix-len), and the labels are the program's output under
the same mask (docs/semantics.md §6); metrics.json records \"causal\" and
\"prefix_len\" in its config.

A run keeps DIR/checkpoint.safetensors up to date at every evaluation (the
parameters, the best parameters, the optimiser's state and the loop's
counters), so a run that is killed loses at most --eval-every steps. Ctrl-C
stops after the step under way: the checkpoint is written, and the best
parameters so far are measured and saved as usual (metrics.json says
\"stop\": \"interrupted\"); a second Ctrl-C exits at once. Run the same
command with --resume to continue: the run then takes exactly the steps it
would have taken uninterrupted (--steps may be raised; every other setting
must be the same). The checkpoint is removed when a run finishes.";

#[derive(Args, Debug)]
#[command(about = TRAIN_ABOUT, long_about = TRAIN_LONG_ABOUT)]
pub struct TrainArgs {
    /// The .rasp file that defines the s-op.
    pub file: PathBuf,
    /// The s-op to learn.
    #[arg(long, value_name = "NAME")]
    pub sop: String,
    /// The input tokens: `a,b,c`, or text without commas for one token per
    /// character (`abcdefghijklmnop`).
    #[arg(long, value_name = "TOKENS", allow_hyphen_values = true)]
    pub vocab: String,
    /// Longest input (not counting BOS).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = count(1, 1024))]
    pub max_len: usize,
    /// Shortest input.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_len: usize,
    /// A beginning-of-sequence token put in front of every input (its
    /// position is not scored).
    #[arg(long, value_name = "TOKEN")]
    pub bos: Option<String>,
    /// How inputs are drawn.
    #[arg(long, value_enum, default_value_t = InputsArg::Uniform)]
    pub inputs: InputsArg,
    /// Layers (default: the program's).
    #[arg(long, value_name = "L", value_parser = count(1, 64))]
    pub layers: Option<usize>,
    /// Heads per layer (default: the most heads in one of the program's
    /// layers).
    #[arg(long, value_name = "H", value_parser = count(1, 64))]
    pub heads: Option<usize>,
    /// Model width (a multiple of the heads).
    #[arg(long, value_name = "D", default_value_t = 64, value_parser = count(1, 4096))]
    pub d_model: usize,
    /// The most training steps.
    #[arg(long, value_name = "S", default_value_t = 40_000, value_parser = count(1, 100_000_000))]
    pub steps: usize,
    /// Inputs per step.
    #[arg(long, value_name = "B", default_value_t = 32, value_parser = count(1, 65_536))]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Steps between evaluations.
    #[arg(long, value_name = "S", default_value_t = 250, value_parser = at_least_one)]
    pub eval_every: usize,
    /// Evaluations without improvement before stopping.
    #[arg(long, value_name = "K", default_value_t = 12, value_parser = at_least_one)]
    pub patience: usize,
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub seed: u64,
    /// Add C × the mean squared error between each supervised head's
    /// attention and the program's selector of that layer and head (rows
    /// normalised to sum to 1; rows that select nothing are not supervised).
    #[arg(long, value_name = "C", default_value_t = 0.0)]
    pub attn_supervision: f64,
    /// Where to write model.safetensors and metrics.json.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Train a decoder: the encoder's attention is masked causally (or as
    /// a prefix-LM), and the labels come from the interpreter under the
    /// same mask (docs/semantics.md §6).
    #[command(flatten)]
    pub mask: crate::program::MaskArgs,
    /// Continue the run whose checkpoint is in DIR (same settings; --steps
    /// may be larger).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub threads: ThreadsArg,
}

/// A count between `min` and `max`: each bound keeps a typo (an extra
/// zero or three) from asking for more memory than the machine has, with
/// clap's message naming the flag and the range.
fn count(min: u64, max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(min..=max)
}

/// A count that must be at least 1 (steps, batch, layers, heads, ...).
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The compute threads of a training command.
#[derive(Args, Debug, Clone, Copy)]
pub struct ThreadsArg {
    /// Compute threads (candle's matrix products and the label evaluator).
    /// One is the fastest for models this small: candle's workers spin
    /// while they wait, so several threads, and above all several runs
    /// sharing the cores, lose most of their time waiting. A seed gives
    /// the same model bit for bit at the same thread count; other counts
    /// may round differently.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
}

const ATTENTION_ABOUT: &str =
    "Draw a compiled or trained model's attention beside the program's selectors, and score the match";

const ATTENTION_LONG_ABOUT: &str = "\
Draw a compiled or trained model's attention beside the program's selectors,
and score how well they match.

Loads DIR, runs the model and the program on the input, and writes an SVG
(OUT.svg; missing directories are created) with one row per layer, numbered
as in `rasp analyze` (layer 1 is the first attention layer): each head's
attention as a heatmap (queries are rows, keys columns, each labelled
position:token; a colour scale from 0 to 1, each non-zero weight written in
its cell) beside the program's selectors of the same layer, each row
normalised to sum to 1 (the attention a head computing that aggregate would
have).

For a model written by `rasp compile`, every head implements one selector;
it prints the largest cell-wise difference between the two, names what each
head makes from what, and may also write OUT.html, a self-contained page
whose cells tell on hover the weight, the value the head moves from that key
and its result at that query.

For a model written by `rasp train`, it prints for every program head the
closest trained head of its layer and their mean total-variation distance
(½·Σ|a−s| per query row, averaged over the rows the selector selects
something in; 0 = the same pattern, 1 = disjoint), on the input and over
--samples test inputs.";

#[derive(Args, Debug)]
#[command(about = ATTENTION_ABOUT, long_about = ATTENTION_LONG_ABOUT)]
pub struct AttentionArgs {
    /// A directory written by `rasp train` or `rasp compile`.
    pub dir: PathBuf,
    /// The input: one token per character when every token is one
    /// character, else tokens separated by commas; or, as for `rasp draw`,
    /// a RASP list or quoted string (`["ab", "cd"]`). The BOS token is
    /// added in front when the model has one.
    #[arg(long, value_name = "STR", allow_hyphen_values = true)]
    pub input: String,
    /// The SVG to write (OUT.html, the page with hover details, for a
    /// compiled model).
    #[arg(short, long, value_name = "OUT.svg")]
    pub output: PathBuf,
    /// The program file, if it moved since training.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Random test inputs to average the match score over.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = count(1, 100_000))]
    pub samples: usize,
}

const TABLE_ABOUT: &str = "Build the reduced Table 1 of the paper, one run at a time (resumable)";

const TABLE_LONG_ABOUT: &str = "\
Build the reduced Table 1 of \"Thinking Like Transformers\" (docs/experiments.md):
reverse, hist_bos, hist_nobos, double histogram, sort and Dyck-1, each at the
size its program compiles to and at one layer or head fewer, two seeds each,
lengths up to 16, alphabet 16, width 64.

Runs are trained one at a time; each finished run is appended as one JSON line
to --output, and runs already there are skipped, so the table can be built in
several sessions (--limit bounds the runs of one invocation). --markdown only
prints the table from --output.

Each run is checked against --output again just before it starts, so several
invocations can share the results file and the cores: a run that another one
has finished is skipped. Give them different --seeds (or --tasks) so that they
do not start the same run at once, e.g. `rasp table --seeds 0 & rasp table
--seeds 1`.";

#[derive(Args, Debug)]
#[command(about = TABLE_ABOUT, long_about = TABLE_LONG_ABOUT)]
pub struct TableArgs {
    /// The results file (JSON lines).
    #[arg(short, long, value_name = "FILE", alias = "out", default_value = "docs/experiments-results.jsonl")]
    pub output: PathBuf,
    /// Print the markdown table from --output and train nothing.
    #[arg(long)]
    pub markdown: bool,
    /// Only these tasks (comma-separated: hist_bos, reverse, hist_nobos,
    /// double_hist, sort, dyck1).
    #[arg(long, value_name = "TASKS")]
    pub tasks: Option<String>,
    /// Train at most this many runs, then stop.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only these seeds (comma-separated; the table's are 0 and 1), e.g. to
    /// run every row once before the second seeds.
    #[arg(long, value_name = "SEEDS", value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// The most steps of a run.
    #[arg(long, value_name = "S", default_value_t = 40_000, value_parser = count(1, 100_000_000))]
    pub max_steps: usize,
    /// Where the example programs are.
    #[arg(long, value_name = "DIR", default_value = "examples")]
    pub examples: PathBuf,
    /// Also save every run's model under DIR/TASK-L-H-D-SEED/.
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// List the runs still to do and train nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run_train(args: TrainArgs) -> ExitCode {
    #[cfg(feature = "train")]
    return run::run_train(args);
    #[cfg(not(feature = "train"))]
    without_training(args)
}

pub fn run_table(args: TableArgs) -> ExitCode {
    #[cfg(feature = "train")]
    return run::run_table(args);
    #[cfg(not(feature = "train"))]
    without_training(args)
}

pub fn run_attention(args: AttentionArgs) -> ExitCode {
    match attention(&args) {
        Ok(report) => crate::files::say_then_exit(&report),
        Err((message, status)) => {
            eprintln!("rasp: {message}");
            status
        }
    }
}

fn attention(args: &AttentionArgs) -> Result<String, (String, ExitCode)> {
    if crate::compile::is_compiled_dir(&args.dir) {
        return crate::compile::compiled_attention(&args.dir, &args.input, &args.output);
    }
    crate::files::output_extension(&args.output, &["svg"]).map_err(|e| (e, ExitCode::from(2)))?;
    #[cfg(feature = "train")]
    return run::trained_attention(args).map_err(|e| (e, ExitCode::FAILURE));
    #[cfg(not(feature = "train"))]
    Err((format!("{}: {WITHOUT_TRAINING}", args.dir.display()), ExitCode::FAILURE))
}

#[cfg(not(feature = "train"))]
const WITHOUT_TRAINING: &str =
    "this rasp was built without training (cargo feature `train`, on by default); rebuild with default features";

#[cfg(not(feature = "train"))]
fn without_training<T>(_: T) -> ExitCode {
    eprintln!("rasp: {WITHOUT_TRAINING}");
    ExitCode::FAILURE
}
