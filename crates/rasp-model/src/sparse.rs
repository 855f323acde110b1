//! Weight matrices with only their non-zero entries. A compiled model's
//! weights are almost all zeros (over 95% on every compiled program), and
//! so is its residual stream (one-hot blocks), so the forward pass
//! multiplies by rows: for each non-zero entry of an input row, add that
//! entry times the non-zero entries of the matching weight row. Sums run in
//! the same order as the dense product's terms; only the zero terms, which
//! add nothing, are left out.

use crate::Model;
use ndarray::{Array2, Axis, concatenate};

/// A [rows, cols] matrix stored by rows, non-zero entries only.
#[derive(Debug, Clone)]
pub(crate) struct SparseRows {
    cols: usize,
    /// Row `i`'s entries are `entries[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    /// (column, value), columns increasing within a row.
    entries: Vec<(u32, f32)>,
}

impl SparseRows {
    pub(crate) fn new(dense: &Array2<f32>) -> SparseRows {
        let mut starts = Vec::with_capacity(dense.nrows() + 1);
        let mut entries = Vec::new();
        starts.push(0);
        for row in dense.rows() {
            entries.extend(row.iter().enumerate().filter(|(_, w)| **w != 0.0).map(|(j, &w)| (j as u32, w)));
            starts.push(entries.len());
        }
        SparseRows { cols: dense.ncols(), starts, entries }
    }

    /// Rows of the matrix (the width of the inputs it multiplies).
    #[cfg(test)]
    pub(crate) fn rows(&self) -> usize {
        self.starts.len() - 1
    }

    /// `x @ self`, with `x` row-major and [`SparseRows::rows`] wide.
    pub(crate) fn product(&self, x: &[f32]) -> Vec<f32> {
        let inner = self.starts.len() - 1;
        let count = x.len().checked_div(inner).unwrap_or(0);
        let mut out = vec![0.0f32; count * self.cols];
        if inner == 0 || self.cols == 0 {
            return out;
        }
        for (input, output) in x.chunks_exact(inner).zip(out.chunks_exact_mut(self.cols)) {
            for (i, &value) in input.iter().enumerate() {
                if value == 0.0 {
                    continue;
                }
                for &(j, w) in &self.entries[self.starts[i]..self.starts[i + 1]] {
                    output[j as usize] += value * w;
                }
            }
        }
        out
    }
}

/// One layer's weights, sparse, in the shapes the forward pass uses.
#[derive(Debug, Clone)]
pub(crate) struct SparseLayer {
    /// Every head's queries, keys and values side by side: head h's
    /// columns are `columns[h]..columns[h + 1]`, queries then keys then
    /// values. One pass over the residual serves them all.
    pub(crate) qkv: SparseRows,
    /// Where each head's [q | k | v] columns start (and the last ends).
    pub(crate) columns: Vec<usize>,
    /// Every head's output matrix stacked: [sum of d_value, d_model].
    pub(crate) output: SparseRows,
    /// The MLP's two matrices, if the layer has one.
    pub(crate) mlp: Option<(SparseRows, SparseRows)>,
}

/// The model's layers as [`SparseLayer`]s: made once per batch.
pub(crate) fn sparse_layers(model: &Model) -> Vec<SparseLayer> {
    model
        .layers
        .iter()
        .map(|layer| {
            let mut blocks = Vec::new();
            let mut columns = vec![0];
            for head in &layer.heads {
                blocks.extend([head.w_q.view(), head.w_k.view(), head.w_v.view()]);
                let width = 2 * head.w_q.ncols() + head.w_v.ncols();
                columns.push(columns.last().copied().unwrap_or(0) + width);
            }
            let d = model.config.d_model;
            let qkv = if blocks.is_empty() {
                Array2::zeros((d, 0))
            } else {
                concatenate(Axis(1), &blocks).unwrap_or_else(|_| Array2::zeros((d, 0)))
            };
            let outputs: Vec<_> = layer.heads.iter().map(|h| h.w_o.view()).collect();
            let output = if outputs.is_empty() {
                Array2::zeros((0, d))
            } else {
                concatenate(Axis(0), &outputs).unwrap_or_else(|_| Array2::zeros((0, d)))
            };
            SparseLayer {
                qkv: SparseRows::new(&qkv),
                columns,
                output: SparseRows::new(&output),
                mlp: layer.mlp.as_ref().map(|m| (SparseRows::new(&m.w_in), SparseRows::new(&m.w_out))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::SparseRows;
    use ndarray::array;

    #[test]
    fn the_product_equals_the_dense_one() {
        let w = array![[0.0f32, 2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.5, -1.0, 3.0]];
        let x = array![[1.0f32, 0.0, 7.0, 2.0], [0.0, 3.0, 0.0, 0.0]];
        let sparse = SparseRows::new(&w);
        assert_eq!(sparse.rows(), 4);
        let got = sparse.product(x.as_slice().expect("standard layout"));
        // By hand: row 1 = 1*[0,2,0] + 2*[0.5,-1,3]; row 2 = 3*[1,0,0].
        assert_eq!(got, vec![1.0, 0.0, 6.0, 3.0, 0.0, 0.0]);
        assert_eq!(got, x.dot(&w).into_raw_vec_and_offset().0);
    }
}
