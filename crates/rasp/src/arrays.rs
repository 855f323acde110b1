//! Compiled models as plain data, for front ends that hold no `ndarray`
//! (the Python package, a browser): weights, residual streams and readout
//! scores as row-major `f32` matrices, `model.json` as text, and decoding
//! of either kind of matrix back to output values. Every step is the
//! model's own ([`Model::residuals`], [`Model::decode`]); this module only
//! converts and checks shapes, so a wrong shape is an error, never a panic.

use crate::error::{Error, ErrorKind, Result};
use ndarray::{Array2, ArrayView2, s};
use rasp_model::{Decoded, Encoding, Model};

/// A row-major matrix of `f32`: `data[r * cols + c]` is row `r`, column `c`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows * cols` values, row after row.
    pub data: Vec<f32>,
}

impl Matrix {
    /// A matrix of `rows` × `cols` values; fails (an input error) when
    /// `data` does not hold exactly that many.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Result<Matrix> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::new(
                ErrorKind::Input,
                format!("a {rows} x {cols} matrix needs {} values, got {}", rows.saturating_mul(cols), data.len()),
            ));
        }
        Ok(Matrix { rows, cols, data })
    }

    /// A matrix from little-endian `f32` bytes (4 a value, row after row).
    pub fn from_le_bytes(rows: usize, cols: usize, bytes: &[u8]) -> Result<Matrix> {
        if !bytes.len().is_multiple_of(4) {
            return Err(Error::new(ErrorKind::Input, format!("{} bytes are not a whole number of f32s", bytes.len())));
        }
        let data = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Matrix::new(rows, cols, data)
    }

    /// The values as little-endian bytes, row after row.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.data.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn from_array(array: &Array2<f32>) -> Matrix {
        // `iter` walks an array in logical (row-major) order, whatever its layout.
        Matrix { rows: array.nrows(), cols: array.ncols(), data: array.iter().copied().collect() }
    }

    fn view(&self) -> Result<ArrayView2<'_, f32>> {
        ArrayView2::from_shape((self.rows, self.cols), &self.data)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("matrix shape: {e}")))
    }
}

/// Every weight of `model` by its tensor name (`embed.tokens`,
/// `layers.L.heads.H.w_q`, ..., `unembed`), in the order of
/// `model.safetensors`; shapes as there (`y = x @ W`).
pub fn weights(model: &Model) -> Vec<(String, Matrix)> {
    model.tensors().into_iter().map(|(name, array)| (name, Matrix::from_array(array))).collect()
}

/// `model.json` as `rasp compile` writes it (the parameter count filled in).
pub fn model_json(model: &Model) -> Result<String> {
    let mut config = model.config.clone();
    config.parameters = model.parameter_count();
    let json = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("model.json does not serialise: {e}")))?;
    Ok(json + "\n")
}

/// Columns of the readout (`unembed`): one per output value for a
/// categorical output, 1 for a numerical one.
pub fn readout_width(model: &Model) -> usize {
    match model.config.readout.encoding {
        Encoding::Categorical => model.config.readout.values.len(),
        Encoding::Numerical => 1,
    }
}

/// The final residual stream of each word (tokens of the vocabulary; BOS
/// is added when the model has one): `[positions, d_model]`, row 0 the
/// start token, then BOS (if any), then the word.
pub fn residual_streams<S: AsRef<str>>(model: &Model, words: &[Vec<S>]) -> Result<Vec<Matrix>> {
    let ids = words.iter().map(|word| model.encode(word)).collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(model.residuals(&ids)?.iter().map(Matrix::from_array).collect())
}

/// Every head's attention on one word (BOS is added when the model has
/// one): `[layer][head]`, each `[positions, positions]` with one row per
/// query, position 0 the start token; each row sums to 1.
pub fn attention_patterns<S: AsRef<str>>(model: &Model, word: &[S]) -> Result<Vec<Vec<Matrix>>> {
    let ids = model.encode(word)?;
    let layers = model.attention(&ids)?;
    Ok(layers.iter().map(|heads| heads.iter().map(Matrix::from_array).collect()).collect())
}

/// The readout scores of a final residual stream (`residual[1..] @
/// unembed`: one row per decoded position, the start token left out).
pub fn readout_scores(model: &Model, residual: &Matrix) -> Result<Matrix> {
    check_residual(model, residual)?;
    Ok(Matrix::from_array(&residual.view()?.slice(s![1.., ..]).dot(&model.unembed)))
}

/// Decodes a final residual stream (`[positions, d_model]`, row 0 the start
/// token, which is not decoded), as [`Model::run`] does.
pub fn decode_residual(model: &Model, residual: &Matrix) -> Result<Vec<Decoded>> {
    check_residual(model, residual)?;
    Ok(model.decode(residual.view()?))
}

/// Decodes readout scores (`[positions, readout_width]`, as
/// [`readout_scores`] gives them): argmax over the output values, or the
/// nearest value of a numerical output.
pub fn decode_scores(model: &Model, scores: &Matrix) -> Result<Vec<Decoded>> {
    let width = readout_width(model);
    if scores.cols != width {
        return Err(Error::new(
            ErrorKind::Input,
            format!("readout scores have {width} columns for this model, got {}", scores.cols),
        ));
    }
    Ok(model.decode_scores(scores.view()?))
}

fn check_residual(model: &Model, residual: &Matrix) -> Result<()> {
    let d_model = model.config.d_model;
    if residual.cols != d_model || residual.rows == 0 {
        return Err(Error::new(
            ErrorKind::Input,
            format!(
                "a residual stream is [positions, {d_model}] with the start token in row 0, got [{}, {}]",
                residual.rows, residual.cols
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Matrix;

    #[test]
    fn matrices_check_their_shape() {
        assert!(Matrix::new(2, 3, vec![0.0; 6]).is_ok());
        assert!(Matrix::new(2, 3, vec![0.0; 5]).is_err());
        assert!(Matrix::new(usize::MAX, 2, vec![]).is_err());
        assert!(Matrix::from_le_bytes(1, 1, &[0, 0, 0]).is_err());
        let m = Matrix::new(1, 2, vec![1.5, -2.0]).expect("shape");
        assert_eq!(Matrix::from_le_bytes(1, 2, &m.to_le_bytes()), Ok(m));
    }
}
