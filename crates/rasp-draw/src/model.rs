//! What the picture shows, before any geometry: the s-ops worth showing
//! (the reference's "minor" ones hidden, semantics.md §4), their display names and
//! their values on the input, grouped into the input, the layers with their
//! heads and MLPs, and the output.

use crate::DrawError;
use rasp_analyze::{Analysis, HeadKind};
use rasp_core::pyfmt;
use rasp_core::{
    Atom, AttentionMask, Evaluator, Graph, NodeId, NodeKind, NodeValue, ReadableNames, SelectorMatrix, Sequence, Value,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// What a row of values is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// tokens, indices
    Input,
    /// the key s-ops of a head (above its columns)
    Key,
    /// the query s-ops of a head (left of its rows)
    Query,
    /// the s-op a head averages (below its columns)
    Value,
    /// what a head or an MLP computes
    Result,
    /// an MLP's input computed elsewhere
    Operand,
    /// the drawn s-op, at the end
    Output,
}

/// One s-op's values on the input.
#[derive(Debug, Clone)]
pub struct Row {
    pub node: Option<NodeId>,
    pub name: String,
    pub role: Role,
    /// Each value as the reference shows it in a table (floats to 3 places,
    /// bools T/F).
    pub cells: Vec<String>,
    /// Each value in full (Python repr), for hover details.
    pub full: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AggregateModel {
    pub result: Row,
    pub values: Row,
    pub default: Option<String>,
    /// The aggregate's own selector when it is not the head's (the second
    /// aggregate of a BOS `selector_width` head).
    pub via: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HeadModel {
    /// 1-based, within its layer.
    pub number: usize,
    pub selector: NodeId,
    /// The selector's name when the user gave one.
    pub selector_name: Option<String>,
    pub expression: String,
    /// For a head counted as a BOS `selector_width`: the selector measured.
    pub width_of: Option<String>,
    pub keys: Vec<Row>,
    pub queries: Vec<Row>,
    /// `selected[q][k]`
    pub selected: Vec<Vec<bool>>,
    /// `hidden[q][k]`: the attention mask hides key k from query q
    /// (decoder mode, semantics.md §6); all false for encoders.
    pub hidden: Vec<Vec<bool>>,
    pub aggregates: Vec<AggregateModel>,
}

#[derive(Debug, Clone)]
pub struct MlpRow {
    pub row: Row,
    /// What the row computes from the rows it reads, `length = round(1 /
    /// x) with x = 1/length`; `None` when its name already says it.
    pub formula: Option<String>,
    /// Display names of the shown s-ops it is computed from.
    pub from: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MlpModel {
    pub operands: Vec<Row>,
    pub outputs: Vec<MlpRow>,
}

#[derive(Debug, Clone)]
pub struct LayerModel {
    pub layer: usize,
    pub heads: Vec<HeadModel>,
    pub mlp: Option<MlpModel>,
}

#[derive(Debug, Clone)]
pub struct Model {
    /// `reverse("hello")`
    pub title: String,
    /// `2 layers · heads per layer 1/1`
    pub summary: String,
    pub positions: usize,
    pub input: Vec<Row>,
    pub layers: Vec<LayerModel>,
    pub output: Row,
}

/// Longest input drawn: every head is an n × n grid.
pub const MAX_POSITIONS: usize = 256;

struct Builder<'a> {
    graph: &'a Graph,
    names: ReadableNames<'a>,
    values: HashMap<NodeId, NodeValue>,
    minor: BTreeSet<NodeId>,
    display: BTreeMap<NodeId, String>,
    input: &'a [Value],
    mask: AttentionMask,
}

impl Model {
    pub fn build(
        graph: &Graph,
        root: NodeId,
        input: &[Value],
        analysis: &Analysis,
        mask: AttentionMask,
    ) -> Result<Model, DrawError> {
        if graph.is_selector(root) {
            return Err(DrawError::NotAnSop(graph.name(root).to_string()));
        }
        if input.len() > MAX_POSITIONS {
            return Err(DrawError::TooLong { len: input.len(), max: MAX_POSITIONS });
        }
        let mut evaluator = Evaluator::with_mask(mask);
        evaluator.evaluate(graph, root, input).map_err(DrawError::Eval)?;
        let ancestors = graph.ancestors(root);
        let mut values = HashMap::new();
        for &id in &ancestors {
            values.insert(id, evaluator.evaluate(graph, id, input).map_err(DrawError::Eval)?);
        }
        let minor = minor_nodes(graph, root, &ancestors);
        let names = ReadableNames::new(graph);
        let display = display_names(graph, &names, &ancestors, &minor, &values);
        let b = Builder { graph, names, values, minor, display, input, mask };
        b.model(root, analysis)
    }
}

/// The reference's "minor" s-ops (semantics.md §4, `is_minor_comp_towards_seq`):
/// constants, and unnamed elementwise s-ops whose only reader (among the
/// nodes `root` depends on) is another elementwise s-op. Named s-ops, s-ops
/// read twice or read by a selector, and `root` itself are shown.
fn minor_nodes(graph: &Graph, root: NodeId, ancestors: &[NodeId]) -> BTreeSet<NodeId> {
    let mut readers: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
    for &id in ancestors {
        for p in graph.kind(id).inputs() {
            readers.entry(p).or_default().insert(id);
        }
    }
    let mut minor = BTreeSet::new();
    for &id in ancestors {
        let kind = graph.kind(id);
        if kind.is_selector() || graph.node(id).named {
            continue;
        }
        if matches!(kind, NodeKind::Constant(_)) {
            minor.insert(id);
            continue;
        }
        let children = readers.get(&id);
        let is_minor = match children.map(|c| c.len()).unwrap_or(0) {
            0 => id != root,
            1 => {
                let child = children.and_then(|c| c.iter().next().copied()).unwrap_or(id);
                !graph.is_selector(child)
                    && matches!(graph.kind(child), NodeKind::Map { .. })
                    && matches!(kind, NodeKind::Map { .. })
            }
            _ => false,
        };
        if is_minor {
            minor.insert(id);
        }
    }
    minor
}

/// Names as shown: each s-op's readable name (`rasp_core::ReadableNames`:
/// the name the program or library gave it, else what it computes). Two
/// shown s-ops with one name and the same values are one row wherever both
/// would appear; one with other values gets primes (`x′`, `x″`) in creation
/// order, so no two different rows share a name.
fn display_names(
    graph: &Graph,
    names: &ReadableNames<'_>,
    ancestors: &[NodeId],
    minor: &BTreeSet<NodeId>,
    values: &HashMap<NodeId, NodeValue>,
) -> BTreeMap<NodeId, String> {
    let mut out = BTreeMap::new();
    // For each name, the value sequences seen so far, in order.
    let mut seen: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for &id in ancestors {
        if graph.is_selector(id) || minor.contains(&id) {
            continue;
        }
        let name = names.name(id);
        let cells: Vec<String> = values
            .get(&id)
            .and_then(NodeValue::as_seq)
            .map(|s| s.values.iter().map(pyfmt::py_repr).collect())
            .unwrap_or_default();
        let variants = seen.entry(name.clone()).or_default();
        let index = match variants.iter().position(|v| *v == cells) {
            Some(i) => i,
            None => {
                variants.push(cells);
                variants.len() - 1
            }
        };
        let shown = if index == 0 { name } else { format!("{name}{}", "′".repeat(index)) };
        out.insert(id, shown);
    }
    out
}

impl Builder<'_> {
    /// How an s-op is named in the picture: its display name, or for a
    /// hidden one its readable name (constants as literals).
    fn name(&self, id: NodeId) -> String {
        match self.display.get(&id) {
            Some(n) => n.clone(),
            None => self.names.name(id),
        }
    }

    fn sequence(&self, id: NodeId) -> Option<&Rc<Sequence>> {
        self.values.get(&id).and_then(NodeValue::as_seq)
    }

    fn matrix(&self, id: NodeId) -> Option<&Rc<SelectorMatrix>> {
        self.values.get(&id).and_then(NodeValue::as_sel)
    }

    fn row(&self, id: NodeId, role: Role) -> Row {
        let atoms: &[Atom] = self.sequence(id).map(|s| s.values.as_slice()).unwrap_or(&[]);
        Row {
            node: Some(id),
            name: self.name(id),
            role,
            cells: atoms.iter().map(pyfmt::small_str).collect(),
            full: atoms.iter().map(pyfmt::py_repr).collect(),
        }
    }

    fn model(&self, root: NodeId, analysis: &Analysis) -> Result<Model, DrawError> {
        let graph = self.graph;
        let positions = self.input.len();
        let input_text = input_repr(graph, self.input);
        let title = format!("{}({input_text})", self.names.name(root));
        let summary = match analysis.layers {
            0 => "0 layers: computed in the embedding".to_string(),
            1 => format!("1 layer · {} · {} schedule", heads_text(analysis), analysis.options.schedule.name()),
            n => format!("{n} layers · {} · {} schedule", heads_text(analysis), analysis.options.schedule.name()),
        };

        let ancestors = graph.ancestors(root);
        let mut input: Vec<Row> = ancestors
            .iter()
            .filter(|&&id| matches!(graph.kind(id), NodeKind::Tokens(_)))
            .map(|&id| self.row(id, Role::Input))
            .collect();
        if input.is_empty() {
            input.push(Row {
                node: None,
                name: "tokens".to_string(),
                role: Role::Input,
                cells: self.input.iter().map(|v| element_text(graph, v, true)).collect(),
                full: self.input.iter().map(|v| element_text(graph, v, false)).collect(),
            });
        }
        let indices: Vec<String> = (0..positions).map(|i| i.to_string()).collect();
        let indices_node = ancestors.iter().copied().find(|&id| matches!(graph.kind(id), NodeKind::Indices));
        input.push(Row {
            node: indices_node,
            name: "indices".to_string(),
            role: Role::Input,
            cells: indices.clone(),
            full: indices,
        });

        let mut layers = Vec::new();
        for layer in &analysis.layer_details {
            let mut heads = Vec::new();
            for (i, head) in layer.heads.iter().enumerate() {
                heads.push(self.head(i + 1, head)?);
            }
            let mlp = self.mlp(&layer.mlps);
            if layer.layer == 0 && heads.is_empty() && mlp.is_none() {
                continue;
            }
            layers.push(LayerModel { layer: layer.layer, heads, mlp });
        }
        let output = Row { role: Role::Output, ..self.row(root, Role::Output) };
        Ok(Model { title, summary, positions, input, layers, output })
    }

    fn head(&self, number: usize, head: &rasp_analyze::Head) -> Result<HeadModel, DrawError> {
        let graph = self.graph;
        let n = self.input.len();
        let matrix = self
            .matrix(head.selector)
            .ok_or_else(|| DrawError::Internal(format!("selector {} was not evaluated", head.selector.0)))?;
        let selected = (0..n).map(|q| (0..n).map(|k| matrix.get(q, k)).collect()).collect();
        let hidden = (0..n).map(|q| (0..n).map(|k| !self.mask.allows(q, k)).collect()).collect();
        let selector_name = self.names.given_name(head.selector).map(str::to_string);
        let width_of = match head.kind {
            HeadKind::BosSelectorWidth { sel } => Some(self.selector_label(sel)),
            HeadKind::Attention => None,
        };
        let aggregates = head
            .aggregates
            .iter()
            .map(|&a| {
                let (values, default, selector) = match graph.kind(a).as_aggregate() {
                    Some(parts) => (parts.values, parts.default, parts.selector),
                    None => (a, None, head.selector),
                };
                AggregateModel {
                    result: self.row(a, Role::Result),
                    values: self.row(values, Role::Value),
                    default: default.map(|d| d.py_repr(graph)),
                    via: (selector != head.selector).then(|| self.selector_label(selector)),
                }
            })
            .collect();
        Ok(HeadModel {
            number,
            selector: head.selector,
            selector_name,
            expression: self.selector_expression(head.selector),
            width_of,
            keys: distinct(head.keys.iter().map(|&k| self.row(k, Role::Key))),
            queries: distinct(head.queries.iter().map(|&q| self.row(q, Role::Query))),
            selected,
            hidden,
            aggregates,
        })
    }

    fn selector_label(&self, sel: NodeId) -> String {
        match self.names.given_name(sel) {
            Some(name) => name.to_string(),
            None => self.selector_expression(sel),
        }
    }

    /// The selector as written, with the picture's names for its s-ops:
    /// `select(indices, length - indices - 1, ==) and ...` (and/or share one
    /// left-associative level, semantics.md §1.3).
    fn selector_expression(&self, s: NodeId) -> String {
        let graph = self.graph;
        let op_of = |id: NodeId| graph.kind(id).connective();
        let wrap = |child: NodeId, parent: Option<&str>, left: bool| {
            let text = self.selector_expression(child);
            match op_of(child) {
                Some(op) if !(left && Some(op) == parent) => format!("({text})"),
                _ => text,
            }
        };
        match graph.kind(s) {
            NodeKind::SelectAnd(a, b) => {
                format!("{} and {}", wrap(*a, Some("and"), true), wrap(*b, Some("and"), false))
            }
            NodeKind::SelectOr(a, b) => format!("{} or {}", wrap(*a, Some("or"), true), wrap(*b, Some("or"), false)),
            NodeKind::SelectNot(a) => format!("not {}", wrap(*a, None, false)),
            NodeKind::Select { key, query, predicate } => {
                format!("select({}, {}, {})", self.name(*key), self.name(*query), predicate.symbol())
            }
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::SelectAll
            | NodeKind::Aggregate { .. } => "select all".to_string(),
        }
    }

    /// The shown s-ops an s-op is computed from, looking through hidden ones
    /// (the reference's `get_nonminor_parent_sequences`).
    fn shown_parents(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = BTreeSet::new();
        let mut stack = self.graph.kind(id).inputs();
        let mut seen = BTreeSet::new();
        while let Some(p) = stack.pop() {
            if !seen.insert(p) || self.graph.is_selector(p) {
                continue;
            }
            if self.minor.contains(&p) {
                stack.extend(self.graph.kind(p).inputs());
            } else {
                out.insert(p);
            }
        }
        out.into_iter().collect()
    }

    fn mlp(&self, mlps: &[NodeId]) -> Option<MlpModel> {
        let shown: Vec<NodeId> = mlps.iter().copied().filter(|id| !self.minor.contains(id)).collect();
        if shown.is_empty() {
            return None;
        }
        let mut operands = BTreeSet::new();
        let mut outputs = Vec::new();
        for &id in &shown {
            let parents = self.shown_parents(id);
            for &p in &parents {
                if !shown.contains(&p) {
                    operands.insert(p);
                }
            }
            let row = self.row(id, Role::Result);
            if outputs.iter().any(|o: &MlpRow| o.row.name == row.name && o.row.cells == row.cells) {
                continue;
            }
            outputs.push(MlpRow {
                formula: self.formula(id, &parents, &row.name),
                row,
                from: parents.iter().map(|&p| self.name(p)).collect(),
            });
        }
        let operands = distinct(operands.into_iter().map(|p| self.row(p, Role::Operand)));
        Some(MlpModel { operands, outputs })
    }

    /// What an MLP row computes from the rows it reads: `length = round(1 /
    /// x)`, each operand written by its name when that is a plain name, else
    /// as `x`, `y`, ... explained after the formula (`x = 1/length`).
    /// `None` when the formula would only repeat the row's name (an unnamed
    /// s-op is already named by its expression).
    fn formula(&self, id: NodeId, parents: &[NodeId], name: &str) -> Option<String> {
        const VARIABLES: [&str; 6] = ["x", "y", "z", "u", "v", "w"];
        let mut operands = Vec::new();
        let mut explained = Vec::new();
        for &p in parents {
            let shown = self.name(p);
            let plain = shown.chars().all(|c| c.is_alphanumeric() || c == '_');
            if plain || explained.len() >= VARIABLES.len() {
                operands.push((p, shown));
            } else {
                let variable = VARIABLES[explained.len()];
                explained.push(format!("{variable} = {shown}"));
                operands.push((p, variable.to_string()));
            }
        }
        let body = self.names.formula(id, &operands);
        if body == name {
            return None;
        }
        let mut text = format!("{name} = {body}");
        if !explained.is_empty() {
            text.push_str(&format!(" with {}", explained.join(", ")));
        }
        Some(text)
    }
}

/// Rows with a new name or new values: two constants `0` of one composite
/// selector are one row.
fn distinct(rows: impl Iterator<Item = Row>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for row in rows {
        if !out.iter().any(|r| r.name == row.name && r.cells == row.cells) {
            out.push(row);
        }
    }
    out
}

fn heads_text(analysis: &Analysis) -> String {
    let total = analysis.total_heads();
    let word = if total == 1 { "head" } else { "heads" };
    if analysis.layers <= 1 {
        format!("{total} {word}")
    } else {
        format!("{total} {word} ({} per layer)", analysis.heads_string())
    }
}

/// The input as the reference names its drawing: `"hello"` in double
/// quotes for a string, Python's `str` of the list otherwise.
pub fn input_repr(graph: &Graph, input: &[Value]) -> String {
    if input.iter().all(|v| matches!(v, Value::Atom(Atom::Str(s)) if s.chars().count() == 1)) && !input.is_empty() {
        let text: String = input.iter().map(|v| v.py_str(graph)).collect();
        format!("\"{text}\"")
    } else {
        Value::list(input.to_vec()).py_str(graph)
    }
}

fn element_text(graph: &Graph, v: &Value, small: bool) -> String {
    match v {
        Value::Atom(a) if small => pyfmt::small_str(a),
        other => other.py_repr(graph),
    }
}
