//! A compiled model's real attention beside the program's selectors: for
//! each head, the softmax weights the network computes on an input and the
//! selector the head implements (each row normalised), and how far apart
//! they are. Returned as data; [`AttentionComparison::to_svg`] draws it.

use crate::compiled::ModelFolder;
use crate::error::{Error, ErrorKind, Result};
use crate::program::Program;
use rasp_core::{Evaluator, Graph, NodeId, NodeKind, NodeValue, ReadableNames, Value, pyfmt};
use rasp_draw::{HeadFlow, Panel, PanelRow, attention_scene, row_normalised};
use rasp_model::Model;

/// One compiled head on one input.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadAttention {
    /// The attention layer (1 is the first; layer 0 is the embedding).
    pub layer: usize,
    /// The head within its layer (1 is the first).
    pub head: usize,
    /// What the head computes (`name#id` of the aggregate).
    pub computes: String,
    /// The selector it implements, as written.
    pub selector: String,
    /// The network's attention over the word's positions: one row per
    /// query, one column per key, each row summing to at most 1 (the rest
    /// goes to the start token).
    pub weights: Vec<Vec<f64>>,
    /// The program's selector on the same input, each row normalised to
    /// sum to 1 (all zero where it selects nothing); `None` when the
    /// program's graph has no such aggregate.
    pub selector_weights: Option<Vec<Vec<f64>>>,
    /// The largest |weights - selector_weights| over all cells; NaN when
    /// the network's attention is not a number anywhere.
    pub max_difference: Option<f64>,
    /// What the head averages and what it produces on this input, by
    /// readable name; `None` when the program's graph has no such
    /// aggregate.
    pub flow: Option<HeadFlow>,
}

/// Every head of a compiled model on one input.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionComparison {
    /// The s-op the model computes.
    pub sop: String,
    /// The input as given.
    pub input: String,
    /// The positions the program sees (BOS, if any, then the word).
    pub tokens: Vec<String>,
    /// The heads, by layer then head.
    pub heads: Vec<HeadAttention>,
}

impl AttentionComparison {
    /// Runs `folder`'s model on `word` (tokens of its vocabulary).
    pub fn compute(folder: &ModelFolder, input: &str) -> Result<AttentionComparison> {
        AttentionComparison::of_model(&folder.program, &folder.model, input)
    }

    /// Runs `model`, compiled from `program` and held in memory (the
    /// playground compiles without writing a folder), on `input`.
    pub fn of_model(program: &Program, model: &Model, input: &str) -> Result<AttentionComparison> {
        let config = &model.config;
        let word = crate::input::parse_word(input, &config.vocab)?;
        let ids = model.encode(&word)?;
        let maps = model.attention(&ids)?;
        let mut tokens: Vec<String> = config.bos.iter().cloned().collect();
        tokens.extend(word.iter().cloned());
        let elements: Vec<Value> = tokens.iter().map(|t| Value::str(t)).collect();
        // The model has its start token in front of what the program sees.
        let skip = ids.len().checked_sub(tokens.len()).ok_or_else(|| {
            Error::new(ErrorKind::Internal, "the model encoded fewer positions than the program sees")
        })?;
        let graph = program.graph();
        let names = ReadableNames::new(graph);
        let mut evaluator = Evaluator::new();
        let mut heads = Vec::new();
        for (layer_index, (layer_maps, layer_config)) in maps.iter().zip(&config.layers).enumerate() {
            for (head_index, (map, head)) in layer_maps.iter().zip(&layer_config.heads).enumerate() {
                let weights: Vec<Vec<f64>> = (skip..ids.len())
                    .map(|query| (skip..ids.len()).map(|key| f64::from(map[[query, key]])).collect())
                    .collect();
                let selector_weights = match aggregate_selector(graph, &head.computes)
                    .map(|selector| evaluator.evaluate(graph, selector, &elements))
                {
                    Some(Ok(NodeValue::Sel(matrix))) => Some(row_normalised(&matrix)),
                    Some(Ok(NodeValue::Seq(_)) | Err(_)) | None => None,
                };
                let max_difference = selector_weights.as_ref().map(|wanted| largest_difference(&weights, wanted));
                let flow = head_flow(graph, &names, &mut evaluator, &head.computes, &elements);
                heads.push(HeadAttention {
                    layer: layer_index + 1,
                    head: head_index + 1,
                    computes: head.computes.clone(),
                    selector: head.selector.clone(),
                    weights,
                    selector_weights,
                    max_difference,
                    flow,
                });
            }
        }
        Ok(AttentionComparison { sop: config.readout.sop.clone(), input: input.to_string(), tokens, heads })
    }

    /// One line per head: where it is, what it computes, how close it is.
    pub fn report(&self) -> String {
        self.heads
            .iter()
            .map(|h| format!("layer {} head {}: {} over {}: {}\n", h.layer, h.head, h.computes, h.selector, caption(h)))
            .collect()
    }

    /// Heatmaps: one row per layer, each head beside its selector.
    pub fn to_svg(&self) -> String {
        self.scene().to_svg()
    }

    /// The same heatmaps in a self-contained HTML page whose cells tell on
    /// hover the weight, the value moved and the result.
    pub fn to_html(&self) -> String {
        self.scene().to_html(&format!("{} on {:?} — compiled attention", self.sop, self.input))
    }

    fn scene(&self) -> rasp_draw::Scene {
        let mut rows: Vec<PanelRow> = Vec::new();
        for head in &self.heads {
            if rows.last().is_none_or(|row| row.label != layer_label(head.layer)) {
                rows.push(PanelRow { label: layer_label(head.layer), panels: Vec::new() });
            }
            let Some(row) = rows.last_mut() else { continue };
            let computes = match &head.flow {
                Some(flow) => format!("makes {} from {}", flow.result_name, flow.values_name),
                None => format!("makes {}", head.computes),
            };
            row.panels.push(Panel {
                title: format!("compiled head {}", head.head),
                caption: format!("{computes}\n{}", caption(head)),
                weights: head.weights.clone(),
                flow: head.flow.clone(),
            });
            if let Some(wanted) = &head.selector_weights {
                row.panels.push(Panel {
                    title: "program selector".to_string(),
                    caption: head.selector.clone(),
                    weights: wanted.clone(),
                    flow: head.flow.clone(),
                });
            }
        }
        let title = format!("{} on {:?}: compiled attention beside the program's selectors", self.sop, self.input);
        attention_scene(&title, &self.tokens, &rows)
    }
}

fn layer_label(layer: usize) -> String {
    format!("Layer {layer}")
}

fn caption(head: &HeadAttention) -> String {
    match head.max_difference {
        // Heads the compiler makes for a rewritten program (see the compile
        // report's notes) have no selector of the program's own.
        None => "no program selector to compare: a head the compiler made, or a selector that raised".to_string(),
        Some(d) if d.is_nan() => "attention is not a number (NaN weights)".to_string(),
        Some(d) => format!("max |difference| {d:.2e}"),
    }
}

/// What the aggregate a compiled head computes (`name#ID`) averages and
/// produces on `elements`, by readable name.
fn head_flow(
    graph: &Graph,
    names: &ReadableNames<'_>,
    evaluator: &mut Evaluator,
    computes: &str,
    elements: &[Value],
) -> Option<HeadFlow> {
    let id = aggregate_id(graph, computes)?;
    let values = graph.kind(id).as_aggregate()?.values;
    let mut shown = |node: NodeId| -> Option<Vec<String>> {
        match evaluator.evaluate(graph, node, elements) {
            Ok(NodeValue::Seq(sequence)) => Some(sequence.values.iter().map(pyfmt::small_str).collect()),
            Ok(NodeValue::Sel(_)) | Err(_) => None,
        }
    };
    Some(HeadFlow {
        values_name: names.name(values),
        values: shown(values)?,
        result_name: names.name(id),
        results: shown(id)?,
    })
}

/// The aggregate a compiled head computes (`name#ID`), when it is one of
/// this program's.
fn aggregate_id(graph: &Graph, computes: &str) -> Option<NodeId> {
    let id: u32 = computes.rsplit('#').next()?.parse().ok()?;
    let id = NodeId(id);
    (id.index() < graph.len() && graph.kind(id).as_aggregate().is_some()).then_some(id)
}

/// The selector of the aggregate a compiled head computes (`name#ID`).
fn aggregate_selector(graph: &Graph, computes: &str) -> Option<NodeId> {
    let id: u32 = computes.rsplit('#').next()?.parse().ok()?;
    let id = NodeId(id);
    if id.index() >= graph.len() {
        return None;
    }
    // Only an aggregate has a selector; any other kind means the name in
    // model.json does not belong to this program.
    if let NodeKind::Aggregate { selector, .. } = graph.kind(id) { Some(*selector) } else { None }
}

/// The largest cell-wise |a - b|; NaN if any cell is NaN (`f64::max` would
/// skip it and report a broken model as a perfect match).
fn largest_difference(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let mut largest: f64 = 0.0;
    for (row_a, row_b) in a.iter().zip(b) {
        for (x, y) in row_a.iter().zip(row_b) {
            let difference = (x - y).abs();
            if difference.is_nan() {
                return f64::NAN;
            }
            largest = largest.max(difference);
        }
    }
    largest
}

#[cfg(test)]
mod tests {
    use super::largest_difference;

    #[test]
    fn nan_is_never_a_good_match() {
        let wanted = vec![vec![1.0, 0.0]];
        assert_eq!(largest_difference(&[vec![0.75, 0.25]], &wanted), 0.25);
        assert!(largest_difference(&[vec![f64::NAN, 0.0]], &wanted).is_nan());
    }
}
