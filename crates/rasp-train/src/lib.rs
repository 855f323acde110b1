//! rasp-train: ordinary transformer encoders trained at the size a RASP
//! program compiles to, and their attention compared with its selectors
//! (the experiments of "Thinking Like Transformers", docs/experiments.md).
//!
//! Input: a program (a graph and an s-op, `rasp_core`), its analysed size
//! (`rasp_analyze`), a task spec (vocabulary, lengths, BOS) and a training
//! config. Output: a trained model (candle `VarMap`, saved as
//! `model.safetensors`), and [`Metrics`]: token and whole-sequence accuracy
//! on held-out inputs, steps, time, and how close each trained head's
//! attention is to the program's selectors.
//!
//! Invariants: every run is reproducible from its seed (all randomness comes
//! from [`Rng`], never from candle's unseedable CPU generator); only
//! composite candle operations with a backward pass are used (the tests
//! check that every parameter gets a gradient and that gradients match
//! finite differences); labels always come from running the program.
//!
//! A front end describes the inputs ([`TaskSpec`]), wraps the program
//! ([`TargetProgram`]), picks a size ([`TrainConfig`]) and calls [`train`];
//! [`save`] and [`load`] keep the result on disk. [`Labeler`], [`predict`],
//! [`attention_maps`] and [`match_heads`] look at a trained model again.
//!
//! # What is exported, and why
//!
//! The modules are private and the root exports what a front end or a test
//! names: the types above, the pieces of one training step ([`encode`] into
//! a [`Batch`], [`loss`], [`build_model`], [`supervised_heads`]; the tests
//! check gradients through them), and the seeded [`Rng`] that
//! [`TaskSpec::sample`] and [`Labeler::examples`] take: seeded as a run
//! seeded it, it draws the same inputs again (the facade re-draws a run's
//! test inputs this way). The reduced Table 1 stays a small public
//! module, [`table`]: its task list, constants and record format belong
//! together and read better qualified (`table::TASKS`, `table::markdown`).

#![warn(missing_docs)]

mod attention;
mod checkpoint;
mod data;
mod model;
mod optimizer;
mod rng;
pub mod table;
mod train;

pub use attention::{AttentionMaps, HeadMatch, attention_maps, match_heads};
pub use checkpoint::{CHECKPOINT_FILE, Checkpoint};
pub use data::{Classes, Example, InputKind, Labeler, PAD, TargetHead, TargetProgram, TaskSpec};
pub use model::{Encoder, EncoderConfig, EncoderOutput};
pub use rng::Rng;
pub use train::{
    Batch, CurvePoint, Metrics, Progress, TrainConfig, TrainControl, build_model, check_output_dir, encode, load, loss,
    predict, save, supervised_heads, train, train_with,
};

/// The tensor library the models are built with.
pub use candle_core as candle;

use std::fmt;

/// Why training (or loading a trained model) failed.
#[derive(Debug)]
pub enum TrainError {
    /// A setting that cannot work (empty vocabulary, width not a multiple
    /// of the heads, ...).
    Config(String),
    /// The program failed on an input.
    Eval(String),
    /// candle reported an error.
    Tensor(String),
    /// Reading or writing a file failed.
    Io(String),
    /// The loss became NaN or infinite.
    Diverged {
        /// The training step (1-based) whose loss was not finite.
        step: usize,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Config(m) => write!(f, "{m}"),
            TrainError::Eval(m) => write!(f, "the program failed: {m}"),
            TrainError::Tensor(m) => write!(f, "tensor error: {m}"),
            TrainError::Io(m) => write!(f, "{m}"),
            TrainError::Diverged { step } => write!(f, "the loss is not finite at step {step} (try a lower --lr)"),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> TrainError {
        TrainError::Tensor(e.to_string())
    }
}
