//! Checkpoints: everything a run needs to continue where it stopped.
//!
//! A checkpoint is one safetensors file, `checkpoint.safetensors` in the
//! run's output directory, so that it is replaced in one rename and can
//! never be half old and half new. Its tensors are the parameters now
//! (`current.NAME`), the best parameters so far (`best.NAME`) and
//! AdamW's moments (`adam_m.NAME`, `adam_v.NAME`); its metadata, under one
//! key, is the loop's state as JSON ([`LoopState`]): the step, the
//! generator's state, the early-stopping counters, the learning curve.
//! Restored, a run takes exactly the steps it would have taken had it never
//! stopped (`tests/train.rs` checks this bit for bit).

use crate::TrainError;
use crate::optimizer::AdamWState;
use crate::train::{CurvePoint, TrainConfig};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The checkpoint's file name in a run's output directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";

/// The metadata key holding [`LoopState`].
const STATE_KEY: &str = "rasp_train_checkpoint";

/// The training loop's variables between two steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LoopState {
    /// The run's config (a resumed run must ask for the same one, except
    /// for the step cap).
    pub config: TrainConfig,
    /// The output classes, in class-id order.
    pub classes: Vec<String>,
    /// Steps taken.
    pub steps: usize,
    /// The training-input generator's state.
    pub rng: u64,
    pub smoothed_loss: Option<f64>,
    /// The best validation accuracy so far (-1 before the first
    /// evaluation) and its step.
    pub best_accuracy: f64,
    pub best_step: usize,
    pub evaluations_since_best: usize,
    /// The learning-rate factor (halved at half the patience).
    pub decay: f64,
    /// Evaluations in a row at 100%.
    pub perfect_run: usize,
    pub curve: Vec<CurvePoint>,
    /// Seconds spent in the loop before this checkpoint (over all
    /// sessions), so that ms/step stays right across a resume.
    pub loop_seconds: f64,
}

/// A run saved between two steps (see the module documentation).
pub struct Checkpoint {
    pub(crate) state: LoopState,
    /// `current.NAME`, `best.NAME`, `adam_m.NAME`, `adam_v.NAME`.
    tensors: HashMap<String, Tensor>,
}

/// What a checkpoint holds besides the loop state, in a model's parameter
/// order.
pub(crate) struct SavedTensors {
    pub current: Vec<Tensor>,
    pub best: Vec<Tensor>,
    pub optimizer: AdamWState,
}

const PREFIXES: [&str; 4] = ["current", "best", "adam_m", "adam_v"];

fn io_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Io(format!("{}: {e}", path.display()))
}

impl Checkpoint {
    /// Steps the saved run had taken.
    pub fn steps(&self) -> usize {
        self.state.steps
    }

    /// The saved run's config.
    pub fn config(&self) -> &TrainConfig {
        &self.state.config
    }

    /// The checkpoint's path in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(CHECKPOINT_FILE)
    }

    /// Writes a checkpoint into `dir` (beside its final name, then renamed
    /// over it). `names` are the model's parameter names, in the order of
    /// the tensors.
    pub(crate) fn write(
        dir: &Path,
        state: &LoopState,
        names: &[String],
        saved: &SavedTensors,
    ) -> Result<(), TrainError> {
        let state = serde_json::to_string(state).map_err(|e| TrainError::Io(e.to_string()))?;
        let mut tensors: Vec<(String, &Tensor)> = Vec::with_capacity(4 * names.len());
        let groups = [&saved.current, &saved.best, &saved.optimizer.first_moments, &saved.optimizer.second_moments];
        for (prefix, values) in PREFIXES.iter().zip(groups) {
            tensors.extend(names.iter().zip(values.iter()).map(|(name, t)| (format!("{prefix}.{name}"), t)));
        }
        let metadata = HashMap::from([(STATE_KEY.to_string(), state)]);
        let bytes = safetensors::serialize(tensors, Some(metadata)).map_err(|e| TrainError::Io(e.to_string()))?;
        let path = Checkpoint::path(dir);
        let partial = dir.join(format!(".{CHECKPOINT_FILE}.partial"));
        std::fs::write(&partial, bytes).map_err(|e| io_error(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| io_error(&path, e))
    }

    /// Reads the checkpoint in `dir`, if there is one.
    pub fn read(dir: &Path) -> Result<Option<Checkpoint>, TrainError> {
        let path = Checkpoint::path(dir);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, e)),
        };
        let not_a_checkpoint = |why: String| io_error(&path, format!("not a rasp train checkpoint: {why}"));
        let (_, header) =
            safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| not_a_checkpoint(e.to_string()))?;
        let state_text = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(STATE_KEY))
            .ok_or_else(|| not_a_checkpoint(format!("no {STATE_KEY} metadata")))?;
        let state: LoopState = serde_json::from_str(state_text).map_err(|e| not_a_checkpoint(e.to_string()))?;
        let tensors =
            candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| not_a_checkpoint(e.to_string()))?;
        Ok(Some(Checkpoint { state, tensors }))
    }

    /// The saved tensors in the order of `params` (the model's names and
    /// current values), each checked to be present and of the same shape.
    pub(crate) fn tensors_for(&self, params: &[(String, Tensor)]) -> Result<SavedTensors, TrainError> {
        let take = |prefix: &str| -> Result<Vec<Tensor>, TrainError> {
            params
                .iter()
                .map(|(name, value)| match self.tensors.get(&format!("{prefix}.{name}")) {
                    Some(t) if t.shape() == value.shape() => Ok(t.clone()),
                    Some(t) => Err(TrainError::Config(format!(
                        "the checkpoint's {prefix}.{name} has shape {:?}, the model's {:?}",
                        t.dims(),
                        value.dims()
                    ))),
                    None => Err(TrainError::Config(format!("the checkpoint has no {prefix}.{name}"))),
                })
                .collect()
        };
        Ok(SavedTensors {
            current: take("current")?,
            best: take("best")?,
            optimizer: AdamWState {
                first_moments: take("adam_m")?,
                second_moments: take("adam_v")?,
                updates: self.state.steps,
            },
        })
    }

    /// Deletes the checkpoint in `dir` (a finished run needs it no more).
    pub fn remove(dir: &Path) -> Result<(), TrainError> {
        let path = Checkpoint::path(dir);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path, e)),
        }
    }
}
