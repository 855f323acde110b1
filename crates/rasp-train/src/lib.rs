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
//! from [`rng::Rng`], never from candle's unseedable CPU generator); only
//! composite candle operations with a backward pass are used (the tests
//! check that every parameter gets a gradient and that gradients match
//! finite differences); labels always come from running the program.

pub mod attention;
pub mod data;
pub mod model;
pub mod rng;
pub mod table;
pub mod train;

pub use attention::HeadMatch;
pub use data::{Classes, Example, InputKind, Labeler, TargetProgram, TaskSpec};
pub use model::{Encoder, EncoderConfig};
pub use train::{Metrics, Progress, TrainConfig, load, save, train};

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
    Diverged { step: usize },
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
