//! Residual-stream directions while the blocks are built, and sparse linear
//! functionals of them.
//!
//! Directions are numbered as they are created; `assemble` later drops the
//! ones nothing reads and renumbers the rest by the layer that writes them,
//! so no block depends on the final numbering.

use std::collections::BTreeMap;

/// A residual-stream direction (symbolic: numbered in creation order).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Dim(pub usize);

impl Dim {
    /// 1 at the compiler's start position, 0 elsewhere: attention falls back
    /// to the start key when a selector selects nothing.
    pub const START: Dim = Dim(0);
    /// 1 at every program position: the constant term of every functional,
    /// since the network has no biases.
    pub const ONE: Dim = Dim(1);
}

/// A linear functional of the residual stream: (direction, weight) pairs.
pub type Row = Vec<(Dim, f64)>;

/// `row += factor * other` (unsorted; [`normalize`] tidies it).
pub fn add_into(row: &mut Row, other: &[(Dim, f64)], factor: f64) {
    for &(d, w) in other {
        row.push((d, w * factor));
    }
}

/// Sums weights of equal dimensions and drops zeros; sorted by dimension.
pub fn normalize(row: &Row) -> Row {
    let mut by_dim: BTreeMap<Dim, f64> = BTreeMap::new();
    for &(d, w) in row {
        *by_dim.entry(d).or_insert(0.0) += w;
    }
    by_dim.into_iter().filter(|(_, w)| w.abs() > 1e-12).collect()
}
