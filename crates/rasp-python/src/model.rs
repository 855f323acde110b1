//! A compiled model in Python: the weights and their forward pass (run
//! here, on plain matrices), with the program it came from kept as text so
//! that `verify` and `save` can run it again on an interpreter thread.

use crate::py_result;
use crate::values::Out;
use crate::worker::on_large_stack;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rasp::{FileLoader, Matrix, Model, Program, StoredFiles, VerifyOptions};
use std::collections::BTreeMap;

/// A matrix as Python sees it: rows, columns, little-endian f32 bytes.
type PyMatrix = (usize, usize, Py<PyBytes>);

/// Decoded positions: their values and decision margins.
type DecodedPy = (Vec<Py<PyAny>>, Vec<f32>);

#[pyclass(frozen, module = "rasp._native")]
pub struct CompiledModel {
    model: Model,
    /// The program's name, text, loaded files and the s-op compiled.
    name: String,
    source: String,
    loads: BTreeMap<String, String>,
    sop: String,
}

impl CompiledModel {
    pub fn new(model: Model, name: String, source: String, loads: BTreeMap<String, String>, sop: String) -> Self {
        CompiledModel { model, name, source, loads, sop }
    }

    /// A job that runs the program again (with the files it loaded then)
    /// and hands it, with the s-op, to `f`.
    fn with_program<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Program, rasp::NodeId, &Model) -> Result<R, rasp::Error> + Send + 'static,
    ) -> Result<R, rasp::Error> {
        let (name, source, sop, model) = (self.name.clone(), self.source.clone(), self.sop.clone(), self.model.clone());
        let files = self.loads.clone();
        on_large_stack(move || {
            let program = Program::from_source(&name, &source, StoredFiles { files, fallback: FileLoader })?;
            let id = program.sop(&sop, "a compiled model")?;
            f(&program, id, &model)
        })
    }
}

fn to_py_matrix(py: Python<'_>, matrix: &Matrix) -> PyMatrix {
    (matrix.rows, matrix.cols, PyBytes::new(py, &matrix.to_le_bytes()).unbind())
}

fn decoded_to_py(py: Python<'_>, decoded: &[rasp::Decoded]) -> PyResult<DecodedPy> {
    let values = decoded.iter().map(|d| Out::from_scalar(&d.value).to_python(py)).collect::<PyResult<_>>()?;
    Ok((values, decoded.iter().map(|d| d.margin).collect()))
}

#[pymethods]
impl CompiledModel {
    /// `model.json`'s text.
    fn config_json(&self, py: Python<'_>) -> PyResult<String> {
        py_result(py, rasp::model_json(&self.model))
    }

    /// Every weight: (name, rows, columns, bytes), in file order.
    fn weights(&self, py: Python<'_>) -> Vec<(String, usize, usize, Py<PyBytes>)> {
        rasp::weights(&self.model)
            .into_iter()
            .map(|(name, m)| {
                let (rows, cols, bytes) = to_py_matrix(py, &m);
                (name, rows, cols, bytes)
            })
            .collect()
    }

    /// Token ids of a word: the start token, BOS (if any), the word.
    fn encode(&self, py: Python<'_>, word: Vec<String>) -> PyResult<Vec<u32>> {
        py_result(py, self.model.encode(&word).map_err(rasp::Error::from))
    }

    /// A word typed as text: one token per character when every token of
    /// the vocabulary is one character, else tokens separated by commas.
    fn split_word(&self, text: &str) -> Vec<String> {
        rasp::split_word(text, &self.model.config.vocab)
    }

    /// Runs words and decodes them: per word, values and margins.
    fn run(&self, py: Python<'_>, words: Vec<Vec<String>>) -> PyResult<Vec<DecodedPy>> {
        let decoded = py.detach(|| self.model.run(&words).map_err(rasp::Error::from));
        py_result(py, decoded)?.iter().map(|d| decoded_to_py(py, d)).collect()
    }

    /// The final residual stream of each word.
    fn residuals(&self, py: Python<'_>, words: Vec<Vec<String>>) -> PyResult<Vec<PyMatrix>> {
        let streams = py.detach(|| rasp::residual_streams(&self.model, &words));
        Ok(py_result(py, streams)?.iter().map(|m| to_py_matrix(py, m)).collect())
    }

    /// Every head's attention on one word: per layer, per head, a matrix.
    fn attention(&self, py: Python<'_>, word: Vec<String>) -> PyResult<Vec<Vec<PyMatrix>>> {
        let patterns = py.detach(|| rasp::attention_patterns(&self.model, &word));
        let patterns = py_result(py, patterns)?;
        Ok(patterns.iter().map(|heads| heads.iter().map(|m| to_py_matrix(py, m)).collect()).collect())
    }

    /// The readout scores of a final residual stream.
    fn scores(&self, py: Python<'_>, rows: usize, cols: usize, data: &[u8]) -> PyResult<PyMatrix> {
        let scores = Matrix::from_le_bytes(rows, cols, data).and_then(|m| rasp::readout_scores(&self.model, &m));
        Ok(to_py_matrix(py, &py_result(py, scores)?))
    }

    /// Decodes a final residual stream.
    fn decode_residual(&self, py: Python<'_>, rows: usize, cols: usize, data: &[u8]) -> PyResult<DecodedPy> {
        let decoded = Matrix::from_le_bytes(rows, cols, data).and_then(|m| rasp::decode_residual(&self.model, &m));
        decoded_to_py(py, &py_result(py, decoded)?)
    }

    /// Decodes readout scores.
    fn decode_scores(&self, py: Python<'_>, rows: usize, cols: usize, data: &[u8]) -> PyResult<DecodedPy> {
        let decoded = Matrix::from_le_bytes(rows, cols, data).and_then(|m| rasp::decode_scores(&self.model, &m));
        decoded_to_py(py, &py_result(py, decoded)?)
    }

    /// Columns of the readout scores.
    fn readout_width(&self) -> usize {
        rasp::readout_width(&self.model)
    }

    /// `rasp verify --json`'s report (without `seconds`, which the caller measures).
    fn verify(&self, py: Python<'_>, exhaustive_limit: usize, sample: usize, seed: u64) -> PyResult<String> {
        let options =
            VerifyOptions { exhaustive_limit, sample_per_length: sample.max(1), seed, ..VerifyOptions::default() };
        let report = py.detach(|| {
            self.with_program(move |program, id, model| {
                let report = program.verify(id, model, &options);
                Ok(rasp::verify_json(model, &report).to_string())
            })
        });
        py_result(py, report)
    }

    /// The files of a model folder: (name, bytes).
    fn files(&self, py: Python<'_>, onnx: bool) -> PyResult<Vec<(String, Py<PyBytes>)>> {
        let files = py.detach(|| {
            self.with_program(move |program, _, model| {
                let files = rasp::model_files(model, program, onnx)?;
                Ok(files.into_iter().map(|f| (f.name.to_string(), f.bytes)).collect::<Vec<_>>())
            })
        });
        Ok(py_result(py, files)?.into_iter().map(|(name, bytes)| (name, PyBytes::new(py, &bytes).unbind())).collect())
    }

    /// The `HookedTransformerConfig` fields, as JSON.
    fn transformer_lens_config_json(&self, py: Python<'_>) -> PyResult<String> {
        py_result(py, rasp::transformer_lens_config(&self.model).map(|config| config.to_string()))
    }

    /// The weights under TransformerLens's names: (name, shape, f32 bytes).
    fn transformer_lens_tensors(&self, py: Python<'_>) -> Vec<(String, Vec<usize>, Py<PyBytes>)> {
        rasp::transformer_lens_tensors(&self.model)
            .into_iter()
            .map(|t| {
                let bytes: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
                (t.name, t.shape, PyBytes::new(py, &bytes).unbind())
            })
            .collect()
    }

    /// The ground-truth circuit, as JSON.
    fn circuit_json(&self) -> String {
        rasp::circuit(&self.model).to_string()
    }

    /// Per position of a full-length input: whether it carries the output.
    fn loss_mask(&self) -> Vec<bool> {
        rasp::loss_mask(&self.model)
    }

    /// The files of a pretrained folder besides `rasp/`: (name, bytes).
    fn pretrained_files(&self, py: Python<'_>) -> PyResult<Vec<(String, Py<PyBytes>)>> {
        let files = py_result(py, rasp::pretrained_files(&self.model))?;
        Ok(files.into_iter().map(|(name, bytes)| (name.to_string(), PyBytes::new(py, &bytes).unbind())).collect())
    }

    /// A few lines on the compiled size, as `rasp compile` prints them.
    fn summary(&self) -> String {
        rasp::summary(&self.model)
    }

    /// The s-op the model computes.
    #[getter]
    fn sop(&self) -> String {
        self.sop.clone()
    }

    /// The program's text.
    #[getter]
    fn source(&self) -> String {
        self.source.clone()
    }
}
