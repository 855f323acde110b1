//! Generation (decoder mode, semantics.md §6): run an s-op, append its value
//! at the last position to the sequence as the next token, run again. The
//! interpreter and a compiled model generate alike, so their sequences can
//! be compared token for token.

use crate::error::{Error, ErrorKind, Result};
use crate::program::Program;
use rasp_core::{NodeId, Value};
use rasp_model::{Decoder, Model};

/// The sequences of a generation: the prompt followed by the tokens
/// generated so far, one sequence per step (BOS not included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// After step 1, 2, ..., K.
    pub steps: Vec<Vec<String>>,
    /// Positions a compiled decoder computed from its key/value cache (one
    /// per generated token past the prompt); 0 for the interpreter and for
    /// models that recompute.
    pub cached_positions: usize,
}

impl Generation {
    /// One line per step, tokens separated by spaces.
    pub fn to_text(&self) -> String {
        self.steps.iter().map(|s| format!("{}\n", s.join(" "))).collect()
    }
}

impl Program {
    /// Generates `steps` tokens after `prompt` with the interpreter: at each
    /// step `sop` runs on BOS (when given), the prompt and the tokens so
    /// far, under the program's mask, and its value at the last position,
    /// as Python's `str` gives it, becomes the next token.
    pub fn generate(&mut self, sop: NodeId, prompt: &[String], bos: Option<&str>, steps: usize) -> Result<Generation> {
        if prompt.is_empty() && bos.is_none() {
            return Err(Error::new(ErrorKind::Input, "the prompt is empty; generation needs at least one token"));
        }
        let mut sequence = prompt.to_vec();
        let mut out = Vec::with_capacity(steps);
        for _ in 0..steps {
            let mut input: Vec<Value> = bos.iter().map(|b| Value::str(b)).collect();
            input.extend(sequence.iter().map(|t| Value::str(t)));
            let values = self.run(sop, &Value::list(input))?;
            let last = values.values.last().ok_or_else(|| Error::new(ErrorKind::Internal, "no output position"))?;
            sequence.push(rasp_core::pyfmt::py_str(last));
            out.push(sequence.clone());
        }
        Ok(Generation { steps: out, cached_positions: 0 })
    }
}

/// Generates `steps` tokens after `prompt` with a compiled model: its
/// decoded value at the last position becomes the next token, which must be
/// in the model's vocabulary. A causal model keeps the keys and values of
/// every position ([`rasp_model::Decoder`]) and computes only the new
/// position per token; a bidirectional one reruns the whole sequence.
pub fn generate_with_model(model: &Model, prompt: &[String], steps: usize) -> Result<Generation> {
    if prompt.is_empty() && model.config.bos.is_none() {
        return Err(Error::new(ErrorKind::Input, "the prompt is empty; generation needs at least one token"));
    }
    let model_error = |e: rasp_model::ModelError| Error::new(ErrorKind::Input, e.to_string());
    let mut sequence = prompt.to_vec();
    let mut out = Vec::with_capacity(steps);
    if model.config.causal {
        let ids = model.encode(prompt).map_err(model_error)?;
        let mut decoder = Decoder::new(model, &ids).map_err(model_error)?;
        for step in 0..steps {
            let token = decoder.last().value.to_string();
            sequence.push(token.clone());
            out.push(sequence.clone());
            if step + 1 < steps {
                let id = next_id(model, &token)?;
                decoder.push(id).map_err(model_error)?;
            }
        }
        return Ok(Generation { steps: out, cached_positions: decoder.cached() });
    }
    for _ in 0..steps {
        let decoded = model.run(std::slice::from_ref(&sequence)).map_err(model_error)?;
        let last =
            decoded.first().and_then(|d| d.last()).ok_or_else(|| Error::new(ErrorKind::Internal, "no output"))?;
        let token = last.value.to_string();
        if out.len() + 1 < steps {
            next_id(model, &token)?;
        }
        sequence.push(token);
        out.push(sequence.clone());
    }
    Ok(Generation { steps: out, cached_positions: 0 })
}

fn next_id(model: &Model, token: &str) -> Result<u32> {
    model.token_id(token).map_err(|_| {
        Error::new(
            ErrorKind::Model,
            format!("the model generated {token:?}, which is not in its vocabulary {:?}", model.config.vocab),
        )
    })
}
