//! The analysis as text for people and as JSON for programs (schema in the
//! crate's README).

use crate::json::Json;
use crate::{Analysis, Head, HeadKind, Schedule};
use rasp_core::{Atom, Graph, NodeId, NodeKind, ReadableNames, Value};

/// How an s-op is shown where it is read: its name, or for a constant the
/// literal as RASP writes it (`"+"`, `0`), since a constant's name is just
/// its Python `str` and `+` alone would read as an operator.
pub fn operand_name(graph: &Graph, id: NodeId) -> String {
    match graph.kind(id) {
        NodeKind::Constant(Value::Atom(Atom::Str(s))) => format!("\"{s}\""),
        NodeKind::Constant(v) => v.py_repr(graph),
        NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Map { .. }
        | NodeKind::Select { .. }
        | NodeKind::SelectAll
        | NodeKind::SelectAnd(..)
        | NodeKind::SelectOr(..)
        | NodeKind::SelectNot(_)
        | NodeKind::Aggregate { .. } => graph.name(id).to_string(),
    }
}

/// How a selector was written, with its keys and queries by name:
/// `select(tokens, tokens, <) or (select(tokens, tokens, ==) and ...)`.
pub fn selector_expression(graph: &Graph, selector: NodeId) -> String {
    composite(graph, selector, &|s| match graph.kind(s).as_select() {
        Some((key, query, predicate)) => {
            format!("select({}, {}, {})", operand_name(graph, key), operand_name(graph, query), predicate.symbol())
        }
        None => "select all".to_string(),
    })
}

/// A selector's predicate as written: `==` for a plain select, the
/// predicates combined as written for composites (`< or (== and <)`).
pub fn predicate_expression(graph: &Graph, selector: NodeId) -> String {
    composite(graph, selector, &|s| match graph.kind(s).as_select() {
        Some((_, _, predicate)) => predicate.symbol().to_string(),
        None => "true".to_string(),
    })
}

fn composite(graph: &Graph, s: NodeId, leaf: &dyn Fn(NodeId) -> String) -> String {
    let wrap = |child: NodeId, parent_op: Option<&str>, left: bool| {
        let text = composite(graph, child, leaf);
        let child_op = graph.kind(child).connective();
        // `and`/`or` share one left-associative level (semantics.md §1.3).
        match child_op {
            Some(op) if !(left && Some(op) == parent_op) => format!("({text})"),
            _ => text,
        }
    };
    match graph.kind(s) {
        NodeKind::SelectAnd(a, b) => format!("{} and {}", wrap(*a, Some("and"), true), wrap(*b, Some("and"), false)),
        NodeKind::SelectOr(a, b) => format!("{} or {}", wrap(*a, Some("or"), true), wrap(*b, Some("or"), false)),
        NodeKind::SelectNot(a) => format!("not {}", wrap(*a, None, false)),
        NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Constant(_)
        | NodeKind::Map { .. }
        | NodeKind::Select { .. }
        | NodeKind::SelectAll
        | NodeKind::Aggregate { .. } => leaf(s),
    }
}

fn default_text(graph: &Graph, aggregate: NodeId) -> Option<String> {
    let default = graph.kind(aggregate).as_aggregate()?.default?;
    Some(default.py_repr(graph))
}

/// A selector as written, its s-ops by readable name, and its own name
/// when it has one: `select(1, 1, ==) "full_s"`.
fn named_selector(graph: &Graph, names: &ReadableNames<'_>, selector: NodeId) -> String {
    let expression = composite(graph, selector, &|s| match graph.kind(s).as_select() {
        Some((key, query, predicate)) => {
            format!("select({}, {}, {})", names.name(key), names.name(query), predicate.symbol())
        }
        None => "select all".to_string(),
    });
    match names.given_name(selector) {
        Some(name) => format!("{expression} \"{name}\""),
        None => expression,
    }
}

fn head_line(graph: &Graph, names: &ReadableNames<'_>, head: &Head) -> String {
    let selector = match head.kind {
        HeadKind::Attention => named_selector(graph, names, head.selector),
        HeadKind::BosSelectorWidth { sel } => {
            format!("selector_width({}) with a BOS token: one head", named_selector(graph, names, sel))
        }
    };
    let aggregates: Vec<String> = head
        .aggregates
        .iter()
        .map(|&a| match default_text(graph, a) {
            Some(d) => format!("{} (default {d})", names.name(a)),
            None => names.name(a),
        })
        .collect();
    format!("{selector} → aggregates: {}", aggregates.join(", "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Analysis {
    /// A report for people: the counts, then per layer its heads and MLPs.
    pub fn report(&self, graph: &Graph) -> String {
        let mut out = String::new();
        let names = ReadableNames::new(graph);
        let name = graph.name(self.root);
        let mut how = vec![format!("{} schedule", self.options.schedule.name())];
        if self.options.schedule == Schedule::Best && !self.optimal {
            how.push("best found, not proven narrowest".to_string());
        }
        if self.options.bos_selector_width {
            how.push("selector_width with a BOS token as one head".to_string());
        }
        let how = how.join("; ");
        if self.layers == 0 {
            out.push_str(&format!("{name}: analysed size 0 layers, no attention: computed in the embedding ({how})\n"));
        } else {
            out.push_str(&format!(
                "{name}: analysed size {}, heads per layer {} ({how})\n",
                plural(self.layers, "layer", "layers"),
                self.heads_string()
            ));
        }
        for layer in &self.layer_details {
            if layer.layer == 0 {
                out.push_str("layer 0 (embedding)\n");
            } else {
                out.push_str(&format!("layer {}: {}\n", layer.layer, plural(layer.heads.len(), "head", "heads")));
            }
            for (i, head) in layer.heads.iter().enumerate() {
                out.push_str(&format!("  head {}: {}\n", i + 1, head_line(graph, &names, head)));
            }
            if !layer.mlps.is_empty() {
                let mlps: Vec<String> = layer.mlps.iter().map(|&m| names.name(m)).collect();
                out.push_str(&format!("  MLPs ({}): {}\n", layer.mlps.len(), mlps.join(", ")));
            }
        }
        out
    }

    /// The analysis as JSON (pretty, keys in a fixed order; schema in the
    /// crate's README).
    pub fn to_json(&self, graph: &Graph) -> String {
        let ids = |v: &[NodeId]| Json::Array(v.iter().map(|id| Json::Int(i64::from(id.0))).collect());
        let names = |v: &[NodeId]| Json::Array(v.iter().map(|&id| Json::str(graph.name(id))).collect());
        let operands = |v: &[NodeId]| Json::Array(v.iter().map(|&id| Json::Str(operand_name(graph, id))).collect());
        let layers = self
            .layer_details
            .iter()
            .map(|layer| {
                let heads = layer
                    .heads
                    .iter()
                    .map(|head| {
                        let kind = match head.kind {
                            HeadKind::Attention => "attention",
                            HeadKind::BosSelectorWidth { .. } => "bos_selector_width",
                        };
                        let selects = head
                            .selects
                            .iter()
                            .map(|&s| match graph.kind(s).as_select() {
                                Some((key, query, predicate)) => Json::object(vec![
                                    ("id", Json::Int(i64::from(s.0))),
                                    ("name", Json::str(graph.name(s))),
                                    ("key", Json::Str(operand_name(graph, key))),
                                    ("key_id", Json::Int(i64::from(key.0))),
                                    ("query", Json::Str(operand_name(graph, query))),
                                    ("query_id", Json::Int(i64::from(query.0))),
                                    ("predicate", Json::str(predicate.symbol())),
                                ]),
                                None => Json::object(vec![
                                    ("id", Json::Int(i64::from(s.0))),
                                    ("name", Json::str(graph.name(s))),
                                    ("key", Json::Null),
                                    ("key_id", Json::Null),
                                    ("query", Json::Null),
                                    ("query_id", Json::Null),
                                    ("predicate", Json::str("true")),
                                ]),
                            })
                            .collect();
                        let aggregates = head
                            .aggregates
                            .iter()
                            .map(|&a| {
                                let default = graph.kind(a).as_aggregate().and_then(|parts| parts.default);
                                let default = default.map_or(Json::Null, |d| Json::value(d, graph));
                                Json::object(vec![
                                    ("name", Json::str(graph.name(a))),
                                    ("id", Json::Int(i64::from(a.0))),
                                    ("default", default),
                                ])
                            })
                            .collect();
                        let width_of = match head.kind {
                            HeadKind::BosSelectorWidth { sel } => Json::str(graph.name(sel)),
                            HeadKind::Attention => Json::Null,
                        };
                        Json::object(vec![
                            ("selector", Json::str(graph.name(head.selector))),
                            ("selector_id", Json::Int(i64::from(head.selector.0))),
                            ("kind", Json::str(kind)),
                            ("width_of", width_of),
                            ("expression", Json::str(&selector_expression(graph, head.selector))),
                            ("keys", operands(&head.keys)),
                            ("key_ids", ids(&head.keys)),
                            ("queries", operands(&head.queries)),
                            ("query_ids", ids(&head.queries)),
                            ("predicate", Json::str(&predicate_expression(graph, head.selector))),
                            ("selects", Json::Array(selects)),
                            ("aggregates", Json::Array(aggregates)),
                        ])
                    })
                    .collect();
                Json::object(vec![
                    ("layer", Json::count(layer.layer)),
                    ("heads", Json::Array(heads)),
                    ("mlps", names(&layer.mlps)),
                    ("mlp_ids", ids(&layer.mlps)),
                ])
            })
            .collect();
        Json::object(vec![
            ("sop", Json::str(graph.name(self.root))),
            ("id", Json::Int(i64::from(self.root.0))),
            ("schedule", Json::str(self.options.schedule.name())),
            ("bos_selector_width", Json::Bool(self.options.bos_selector_width)),
            ("optimal", Json::Bool(self.optimal)),
            ("layers", Json::count(self.layers)),
            ("heads_per_layer", Json::Array(self.heads_per_layer.iter().map(|&h| Json::count(h)).collect())),
            ("max_heads", Json::count(self.max_heads())),
            ("total_heads", Json::count(self.total_heads())),
            ("layers_detail", Json::Array(layers)),
        ])
        .pretty()
    }
}
