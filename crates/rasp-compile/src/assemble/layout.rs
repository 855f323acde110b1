//! The residual stream's final order: the embedding's directions first,
//! then by the sublayer that first writes them, so that reading model.json
//! top to bottom follows the computation.

use super::schedule::{Schedule, Sublayer};
use crate::residual::Dim;
use std::collections::HashMap;

/// Where each kept direction sits in the residual stream.
pub struct Layout {
    /// The kept directions, in residual order.
    order: Vec<Dim>,
    index: HashMap<Dim, usize>,
}

impl Layout {
    pub fn new(schedule: &Schedule) -> Layout {
        let mut order: Vec<Dim> = schedule.live.iter().copied().collect();
        order.sort_by_key(|d| {
            let written = if schedule.embedded.contains(d) {
                Sublayer::EMBEDDING
            } else {
                schedule.first_write.get(d).copied().unwrap_or(Sublayer::NEVER)
            };
            (written, *d)
        });
        let index = order.iter().enumerate().map(|(i, &d)| (d, i)).collect();
        Layout { order, index }
    }

    /// Width of the residual stream.
    pub fn d_model(&self) -> usize {
        self.order.len()
    }

    /// The residual index of a direction (`None`: dropped, nothing reads it).
    pub fn index(&self, d: Dim) -> Option<usize> {
        self.index.get(&d).copied()
    }

    /// The kept directions, in residual order.
    pub fn dims(&self) -> &[Dim] {
        &self.order
    }
}
