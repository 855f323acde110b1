//! `model.safetensors` (f32, little-endian, names from [`Model::tensors`])
//! and `model.json` ([`ModelConfig`]).

use crate::config::{FORMAT, FORMAT_VERSION, ModelConfig};
use crate::{Head, Layer, Mlp, Model, ModelError};
use ndarray::Array2;
use safetensors::tensor::Dtype;
use std::path::Path;

/// The weights file [`Model::save`] writes into a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The metadata file [`Model::save`] writes beside the weights.
pub const CONFIG_FILE: &str = "model.json";

fn io_err(what: &str, path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Io(format!("cannot {what} {}: {e}", path.display()))
}

impl Model {
    /// The weights as safetensors bytes (metadata names the config file).
    pub fn safetensors_bytes(&self) -> Result<Vec<u8>, ModelError> {
        // Written here rather than by `safetensors::serialize`, which takes
        // the metadata as a HashMap: its order, and so the file's bytes,
        // changed from run to run. Here the header lists the metadata, then
        // the tensors by name, and the data follows in that order.
        let mut tensors = self.tensors();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let metadata = serde_json::json!({ "config": CONFIG_FILE, "format": FORMAT });
        let mut entries = vec![("__metadata__".to_string(), metadata)];
        let mut offset = 0usize;
        for (name, tensor) in &tensors {
            let size = tensor.len() * std::mem::size_of::<f32>();
            let entry = serde_json::json!({
                "dtype": "F32",
                "shape": [tensor.nrows(), tensor.ncols()],
                "data_offsets": [offset, offset + size],
            });
            entries.push((name.clone(), entry));
            offset += size;
        }
        let fields: Vec<String> =
            entries.iter().map(|(key, value)| format!("{}:{value}", serde_json::Value::String(key.clone()))).collect();
        let mut header = format!("{{{}}}", fields.join(",")).into_bytes();
        // The format pads the header with spaces so the data starts 8-byte aligned.
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut bytes = Vec::with_capacity(8 + header.len() + offset);
        bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&header);
        for (_, tensor) in &tensors {
            bytes.extend(tensor.iter().flat_map(|value| value.to_le_bytes()));
        }
        Ok(bytes)
    }

    /// Writes `model.safetensors` and `model.json` into `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        self.validate()?;
        std::fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
        let mut config = self.config.clone();
        config.parameters = self.parameter_count();
        let json = serde_json::to_string_pretty(&config).map_err(|e| ModelError::Format(e.to_string()))?;
        let path = dir.join(CONFIG_FILE);
        std::fs::write(&path, json + "\n").map_err(|e| io_err("write", &path, e))?;
        let path = dir.join(WEIGHTS_FILE);
        std::fs::write(&path, self.safetensors_bytes()?).map_err(|e| io_err("write", &path, e))?;
        Ok(())
    }

    /// Reads a model written by [`Model::save`].
    pub fn load(dir: &Path) -> Result<Model, ModelError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| io_err("read", &path, e))?;
        let config: ModelConfig =
            serde_json::from_str(&text).map_err(|e| ModelError::Format(format!("{}: {e}", path.display())))?;
        if config.format != FORMAT || config.version != FORMAT_VERSION {
            return Err(ModelError::Format(format!(
                "{} is format {:?} version {}, expected {FORMAT:?} version {FORMAT_VERSION}",
                path.display(),
                config.format,
                config.version
            )));
        }
        let path = dir.join(WEIGHTS_FILE);
        let bytes = std::fs::read(&path).map_err(|e| io_err("read", &path, e))?;
        Model::from_parts(config, &bytes)
    }

    /// Builds a model from its config and safetensors bytes.
    pub fn from_parts(mut config: ModelConfig, weights: &[u8]) -> Result<Model, ModelError> {
        // model.json files from before layers were numbered.
        for (index, layer) in config.layers.iter_mut().enumerate() {
            if layer.layer == 0 {
                layer.layer = index + 1;
            }
        }
        let st = safetensors::SafeTensors::deserialize(weights).map_err(|e| ModelError::Format(e.to_string()))?;
        let get = |name: &str| -> Result<Array2<f32>, ModelError> {
            let view = st.tensor(name).map_err(|e| ModelError::Format(format!("tensor {name}: {e}")))?;
            if view.dtype() != Dtype::F32 || view.shape().len() != 2 {
                return Err(ModelError::Format(format!("tensor {name} is not a 2-d f32 tensor")));
            }
            let data: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            Array2::from_shape_vec((view.shape()[0], view.shape()[1]), data)
                .map_err(|e| ModelError::Format(format!("tensor {name}: {e}")))
        };
        let mut layers = Vec::with_capacity(config.layers.len());
        for (l, lc) in config.layers.iter().enumerate() {
            let mut heads = Vec::with_capacity(lc.heads.len());
            for (h, hc) in lc.heads.iter().enumerate() {
                let p = format!("layers.{l}.heads.{h}");
                heads.push(Head {
                    w_q: get(&format!("{p}.w_q"))?,
                    w_k: get(&format!("{p}.w_k"))?,
                    w_v: get(&format!("{p}.w_v"))?,
                    w_o: get(&format!("{p}.w_o"))?,
                    scale: hc.scale,
                });
            }
            let mlp = if lc.mlp_hidden > 0 {
                Some(Mlp { w_in: get(&format!("layers.{l}.mlp.w_in"))?, w_out: get(&format!("layers.{l}.mlp.w_out"))? })
            } else {
                None
            };
            layers.push(Layer { heads, mlp });
        }
        let model = Model {
            token_embedding: get("embed.tokens")?,
            position_embedding: get("embed.positions")?,
            unembed: get("unembed")?,
            layers,
            config,
        };
        model.validate()?;
        Ok(model)
    }
}
