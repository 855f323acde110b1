//! Checks every analysis must pass, whatever the schedule.

use rasp_analyze::{Analysis, leaf_selects};
use rasp_core::{Graph, NodeId, NodeKind};

/// The schedule is one a transformer can run: heads read only what earlier
/// layers computed, MLPs only what their own layer or earlier ones did, and
/// the counts agree with the listed heads.
pub fn check_schedule(graph: &Graph, root: NodeId, analysis: &Analysis) -> Result<(), String> {
    let layer = |id: NodeId| analysis.layer_of(id).ok_or(format!("node {} has no layer", id.0));
    for id in graph.ancestors(root) {
        match graph.kind(id) {
            NodeKind::Aggregate { selector, values, .. } => {
                let l = layer(id)?;
                if l == 0 || l > analysis.layers {
                    return Err(format!("aggregate {} in layer {l}", id.0));
                }
                let mut reads = vec![*values];
                for s in leaf_selects(graph, *selector) {
                    if let NodeKind::Select { key, query, .. } = graph.kind(s) {
                        reads.push(*key);
                        reads.push(*query);
                    }
                }
                for r in reads {
                    if layer(r)? >= l {
                        return Err(format!(
                            "aggregate {} in layer {l} reads node {} of layer {}",
                            id.0,
                            r.0,
                            layer(r)?
                        ));
                    }
                }
            }
            NodeKind::Map { inputs, .. } => {
                let l = layer(id)?;
                for &r in inputs {
                    if layer(r)? > l {
                        return Err(format!("MLP {} in layer {l} reads node {} of a later layer", id.0, r.0));
                    }
                }
            }
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_) => {}
        }
    }
    if analysis.heads_per_layer.len() != analysis.layers || analysis.layer_details.len() != analysis.layers + 1 {
        return Err("layer lists do not match the number of layers".to_string());
    }
    for (i, l) in analysis.layer_details.iter().enumerate() {
        if l.layer != i
            || (i > 0 && analysis.heads_per_layer[i - 1] != l.heads.len())
            || (i == 0 && !l.heads.is_empty())
        {
            return Err(format!("layer {i}: head count does not match its heads"));
        }
        for h in &l.heads {
            for &a in &h.aggregates {
                if analysis.layer_of(a) != Some(i) {
                    return Err(format!("aggregate {} listed in layer {i}", a.0));
                }
            }
        }
        for &m in &l.mlps {
            if analysis.layer_of(m) != Some(i) {
                return Err(format!("MLP {} listed in layer {i}", m.0));
            }
        }
    }
    Ok(())
}
