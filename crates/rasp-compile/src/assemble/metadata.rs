//! model.json's description of the residual stream: a label per
//! dimension, and which dimensions hold which s-op, how, written by which
//! sublayer.

use super::layout::Layout;
use super::schedule::{Schedule, Sublayer};
use crate::build::{Builder, SubspaceInfo};
use crate::values::to_scalar;
use rasp_core::Atom;
use rasp_model::{Encoding, ResidualDim, Subspace};

pub fn residual_dims(builder: &Builder, layout: &Layout) -> Vec<ResidualDim> {
    layout.dims().iter().enumerate().map(|(i, &d)| ResidualDim { dim: i, label: builder.labels[d.0].clone() }).collect()
}

/// The subspaces that kept at least one dimension.
pub fn subspaces(builder: &Builder, schedule: &Schedule, layout: &Layout) -> Vec<Subspace> {
    builder.subspaces.iter().filter_map(|s| subspace(builder, s, schedule, layout)).collect()
}

fn subspace(builder: &Builder, s: &SubspaceInfo, schedule: &Schedule, layout: &Layout) -> Option<Subspace> {
    // The categorical values stay paired with their dimensions; a dropped
    // dimension takes its value with it.
    let kept: Vec<(usize, Atom)> = s
        .dims
        .iter()
        .enumerate()
        .filter_map(|(k, &d)| Some((layout.index(d)?, s.values.get(k).cloned().unwrap_or(Atom::Int(0)))))
        .collect();
    if kept.is_empty() {
        return None;
    }
    // A subspace with a kept dimension is written by a kept block.
    let written_by = match s.written_by {
        None => Sublayer::EMBEDDING,
        Some(block) => schedule.sublayers.get(block.0).copied().flatten().unwrap_or(Sublayer::EMBEDDING),
    };
    let values = match s.encoding {
        Encoding::Categorical => kept.iter().map(|(_, a)| to_scalar(a)).collect(),
        Encoding::Numerical => s.values.iter().map(to_scalar).collect(),
    };
    Some(Subspace {
        name: s.name.clone(),
        node: s.node.map(|n| builder.planner.shown_id(n)),
        encoding: s.encoding,
        dims: kept.iter().map(|(i, _)| *i).collect(),
        values,
        implicit: s.implicit.as_ref().map(to_scalar),
        written_by: written_by.to_string(),
    })
}
