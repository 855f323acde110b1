//! Compiled models as every front end handles them: the files of a model
//! folder, reading a folder back with its program, and the texts that
//! describe a model and its verification.

use crate::error::{Error, ErrorKind, Result};
use crate::program::{FileLoader, Program, StoredFiles};
use rasp_compile::VerifyReport;
use rasp_core::NodeId;
use rasp_model::{Encoding, Model};
use std::collections::BTreeMap;
use std::path::Path;

/// The program's source, stored beside the weights so `verify` can rebuild it.
pub const PROGRAM_FILE: &str = "program.rasp";
/// Files the program `load`ed, by the path it gave (JSON object).
pub const LOADS_FILE: &str = "program-loads.json";
/// The ground-truth circuit (docs/json.md).
pub const CIRCUIT_FILE: &str = "circuit.json";
/// The ONNX export, when asked for.
pub const ONNX_FILE: &str = "model.onnx";

/// One file of a model folder, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// The file's name inside the folder.
    pub name: &'static str,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// The files `rasp compile` writes for `model`, compiled from `program`:
/// `model.json`, `model.safetensors`, `program.rasp`, `circuit.json`, the
/// program's loads (if any) and, with `onnx`, `model.onnx`. Front ends write them where
/// they like (the CLI atomically, one by one).
pub fn model_files(model: &Model, program: &Program, onnx: bool) -> Result<Vec<OutputFile>> {
    model.validate()?;
    let mut config = model.config.clone();
    config.parameters = model.parameter_count();
    let json = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("model.json does not serialise: {e}")))?;
    let mut files = vec![
        OutputFile { name: rasp_model::CONFIG_FILE, bytes: (json + "\n").into_bytes() },
        OutputFile { name: rasp_model::WEIGHTS_FILE, bytes: model.safetensors_bytes()? },
        OutputFile { name: PROGRAM_FILE, bytes: program.source().as_bytes().to_vec() },
        OutputFile { name: CIRCUIT_FILE, bytes: crate::lens::json_bytes(&crate::lens::circuit(model))? },
    ];
    let loads = program.loaded_files();
    if !loads.is_empty() {
        let json = serde_json::to_string_pretty(&loads)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("the loaded files do not serialise: {e}")))?;
        files.push(OutputFile { name: LOADS_FILE, bytes: json.into_bytes() });
    }
    if onnx {
        files.push(OutputFile { name: ONNX_FILE, bytes: model.to_onnx() });
    }
    Ok(files)
}

/// A model folder written by `rasp compile`, read back: the model, and the
/// program it was compiled from run again (with the loads stored beside it).
pub struct ModelFolder {
    /// The weights and their description.
    pub model: Model,
    /// The program, run from the folder's copy of its source.
    pub program: Program,
    /// The s-op the model computes, in `program`'s graph.
    pub sop: NodeId,
}

impl ModelFolder {
    /// Reads `dir`. The folder may come from someone else, so the program
    /// file it names must be a plain file name inside it.
    /// A folder written with `--format hf` (`save_pretrained`) keeps the
    /// model folder in its `rasp/`, which is read instead.
    pub fn read(dir: &Path) -> Result<ModelFolder> {
        let nested = dir.join(crate::lens::PRETRAINED_RASP_FOLDER);
        let dir = if !dir.join(rasp_model::CONFIG_FILE).exists() && nested.join(rasp_model::CONFIG_FILE).is_file() {
            nested.as_path()
        } else {
            dir
        };
        let model = Model::load(dir)?;
        let info = model.config.program.clone().ok_or_else(|| {
            Error::new(ErrorKind::Model, format!("{} names no program (model.json has no \"program\")", dir.display()))
        })?;
        if !is_plain_file_name(&info.file) {
            return Err(Error::new(
                ErrorKind::Model,
                format!(
                    "model.json names the program file {:?}, which is not a file name inside the folder",
                    info.file
                ),
            ));
        }
        let path = dir.join(&info.file);
        let text = crate::program::read_source(&path)?;
        // A malformed loads file is the folder's fault, not a reason to read
        // other files in its place.
        let files: BTreeMap<String, String> = match std::fs::read_to_string(dir.join(LOADS_FILE)) {
            Ok(json) => serde_json::from_str(&json)
                .map_err(|e| Error::new(ErrorKind::Model, format!("{}: {e}", dir.join(LOADS_FILE).display())))?,
            Err(_) => BTreeMap::new(),
        };
        let mut program =
            Program::from_source(&path.display().to_string(), &text, StoredFiles { files, fallback: FileLoader })?;
        // The program runs under the mask the model was built with.
        program.set_mask(rasp_compile::model_mask(&model));
        let sop = program.sop(&info.sop, "a compiled model")?;
        Ok(ModelFolder { model, program, sop })
    }
}

/// Whether `name` is one path component (no separators, not `.`/`..`).
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// A few lines on a compiled model's size: its compiled size (`d_model`,
/// layers, parameters), each layer's heads and MLP, and the readout. Layer 0
/// is the embedding; layers 1 and on are attention + MLP blocks, numbered as
/// `rasp analyze` numbers them.
pub fn summary(model: &Model) -> String {
    let config = &model.config;
    let parameters = model.parameter_count();
    let mut out = format!(
        "{}: compiled size d_model {}, {} layer{}, {} parameters ({} non-zero)\n",
        config.readout.sop,
        config.d_model,
        config.n_layers,
        plural(config.n_layers),
        parameters.dense,
        parameters.nonzero
    );
    for (index, layer) in config.layers.iter().enumerate() {
        let heads: Vec<String> = layer
            .heads
            .iter()
            .map(|h| format!("{} over {} (d_head {}, scale {:.1})", h.computes, h.selector, h.d_head, h.scale))
            .collect();
        let mlp =
            if layer.mlp_computes.is_empty() { String::new() } else { format!(" ({})", layer.mlp_computes.join(", ")) };
        out.push_str(&format!(
            "  layer {}: {} head{}{}{}; MLP {} hidden{mlp}\n",
            index + 1,
            heads.len(),
            plural(heads.len()),
            if heads.is_empty() { "" } else { ": " },
            heads.join("; "),
            layer.mlp_hidden,
        ));
    }
    // Why the model is deeper than `rasp analyze` counts (recorded by the
    // compiler; empty when the sizes agree).
    if let Some(notes) = config.compiler.get("layer_notes").and_then(|n| n.as_array()) {
        for note in notes.iter().filter_map(|n| n.as_str()) {
            out.push_str(&format!("  deeper than analysed: {note}\n"));
        }
    }
    if config.causal {
        out.push_str(&format!("  attention: {}\n", rasp_compile::model_mask(model)));
    }
    out.push_str(&format!(
        "  output: {} ({}, {} value{})",
        config.readout.sop,
        match config.readout.encoding {
            Encoding::Categorical => "categorical, argmax",
            Encoding::Numerical => "numerical, nearest value",
        },
        config.readout.values.len(),
        plural(config.readout.values.len())
    ));
    out
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// `rasp verify`'s report as text.
pub fn verify_text(model: &Model, report: &VerifyReport) -> String {
    let config = &model.config;
    let mask = rasp_compile::model_mask(model);
    let mut out = format!(
        "{}: vocab {{{}}}{}, words of 1 to {} tokens{}\n",
        config.readout.sop,
        config.vocab.join(", "),
        config.bos.as_ref().map(|b| format!(" after BOS {b}")).unwrap_or_default(),
        config.max_len,
        if mask.is_bidirectional() { String::new() } else { format!(", {mask} attention (interpreter masked alike)") }
    );
    // Always per length: how many words exist and how many were run.
    for length in &report.lengths {
        out.push_str(&format!(
            "  length {}: {} of {} words{}\n",
            length.length,
            length.checked,
            length.words,
            if length.exhaustive { " (all)" } else { " (random sample)" }
        ));
    }
    if report.exhaustive {
        out.push_str(&format!("exhaustive: checked every input, {}\n", report.inputs_checked + report.undefined));
    } else {
        out.push_str(&format!(
            "sampled: checked {} inputs (every word of the lengths marked all, a random sample of the others, seed {})\n",
            report.inputs_checked + report.undefined,
            report.seed
        ));
    }
    if report.undefined > 0 {
        out.push_str(&format!("  {} inputs on which the interpreter raises an error were skipped\n", report.undefined));
    }
    let joined = |values: &[rasp_model::Scalar]| values.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    for mismatch in &report.examples {
        out.push_str(&format!(
            "MISMATCH on {}:\n  interpreter: [{}]\n  model:       [{}]\n",
            mismatch.input.join(" "),
            joined(&mismatch.expected),
            joined(&mismatch.got)
        ));
    }
    let margin_input =
        if report.min_margin_input.is_empty() { "-".to_string() } else { report.min_margin_input.join(" ") };
    out.push_str(&format!(
        "mismatches: {} of {} inputs\nsmallest decision margin: {:.6} (1 = exact; 0 = on a decision boundary), on {margin_input}\n",
        report.mismatches, report.inputs_checked, report.min_margin,
    ));
    out
}

/// `rasp verify --json`'s report (documented in docs/json.md).
pub fn verify_json(model: &Model, report: &VerifyReport) -> serde_json::Value {
    let examples: Vec<serde_json::Value> = report
        .examples
        .iter()
        .map(|m| serde_json::json!({"input": m.input, "expected": m.expected, "got": m.got}))
        .collect();
    let lengths: Vec<serde_json::Value> = report
        .lengths
        .iter()
        .map(|l| serde_json::json!({"length": l.length, "words": l.words, "checked": l.checked, "exhaustive": l.exhaustive}))
        .collect();
    serde_json::json!({
        "sop": model.config.readout.sop,
        "vocab": model.config.vocab,
        "bos": model.config.bos,
        "max_len": model.config.max_len,
        "causal": model.config.causal,
        "prefix_len": model.config.prefix_len,
        "inputs_checked": report.inputs_checked,
        "undefined": report.undefined,
        "mismatches": report.mismatches,
        "examples": examples,
        "min_margin": report.min_margin,
        "min_margin_input": report.min_margin_input,
        "exhaustive": report.exhaustive,
        "lengths": lengths,
        "seed": report.seed,
    })
}

#[cfg(test)]
mod tests {
    use super::is_plain_file_name;

    #[test]
    fn program_file_names_stay_inside_the_folder() {
        assert!(is_plain_file_name("program.rasp"));
        assert!(!is_plain_file_name("../secret.rasp"));
        assert!(!is_plain_file_name("/etc/passwd"));
        assert!(!is_plain_file_name("sub/program.rasp"));
        assert!(!is_plain_file_name(".."));
        assert!(!is_plain_file_name(""));
    }
}
