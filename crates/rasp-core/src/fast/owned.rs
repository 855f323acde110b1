//! Values that may cross threads.
//!
//! Atoms, values and graph nodes share their strings, big ints, lists and
//! tables behind `Rc`, so none of them may be sent to another thread. The
//! batch evaluator therefore ships a graph to its worker threads as a
//! [`Blueprint`] (the same nodes, with owned constants), each worker
//! rebuilds an identical `Graph` from it, and inputs and results cross as
//! [`OwnedValue`]s and [`OwnedNodeValue`]s.

use crate::atom::Atom;
use crate::eval::NodeValue;
use crate::graph::{Graph, MapOp, NodeId, NodeKind, Predicate, TokenConversion};
use crate::pyops::{ArithOp, CmpOp};
use crate::sequence::{SelectorMatrix, SeqType, Sequence};
use crate::value::{Callable, Dict, Value};
use num_bigint::BigInt;
use std::rc::Rc;
use std::sync::Arc;

/// An [`Atom`] that owns its data (`Send + Sync`).
#[derive(Debug, Clone)]
pub enum OwnedAtom {
    /// [`Atom::Bool`]
    Bool(bool),
    /// [`Atom::Int`]
    Int(i64),
    /// [`Atom::BigInt`]; may hold a value that fits an i64 (`to_atom`
    /// normalises).
    BigInt(BigInt),
    /// [`Atom::Float`]
    Float(f64),
    /// [`Atom::Str`]; shared, so a batch's results can hold one copy of
    /// each token per worker instead of one per position.
    Str(Arc<str>),
}

impl OwnedAtom {
    /// A copy of `atom` that owns its data.
    pub fn from_atom(atom: &Atom) -> OwnedAtom {
        match atom {
            Atom::Bool(b) => OwnedAtom::Bool(*b),
            Atom::Int(v) => OwnedAtom::Int(*v),
            Atom::BigInt(v) => OwnedAtom::BigInt(v.as_ref().clone()),
            Atom::Float(v) => OwnedAtom::Float(*v),
            Atom::Str(s) => OwnedAtom::Str(Arc::from(s.as_ref())),
        }
    }

    /// The atom again (ints in normal form).
    pub fn to_atom(&self) -> Atom {
        match self {
            OwnedAtom::Bool(b) => Atom::Bool(*b),
            OwnedAtom::Int(v) => Atom::Int(*v),
            OwnedAtom::BigInt(v) => Atom::from_bigint(v.clone()),
            OwnedAtom::Float(v) => Atom::Float(*v),
            OwnedAtom::Str(s) => Atom::str(s),
        }
    }

    /// Same type and value; floats compared by their bits.
    pub fn identical(&self, other: &OwnedAtom) -> bool {
        match (self, other) {
            (OwnedAtom::Bool(a), OwnedAtom::Bool(b)) => a == b,
            (OwnedAtom::Int(a), OwnedAtom::Int(b)) => a == b,
            (OwnedAtom::BigInt(a), OwnedAtom::BigInt(b)) => a == b,
            (OwnedAtom::Float(a), OwnedAtom::Float(b)) => a.to_bits() == b.to_bits(),
            (OwnedAtom::Str(a), OwnedAtom::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// A [`Value`] that owns its data (`Send + Sync`). A function keeps only
/// what evaluation can show of it: its name.
#[derive(Debug, Clone)]
pub enum OwnedValue {
    /// [`Value::Atom`]
    Atom(OwnedAtom),
    /// [`Value::List`]
    List(Vec<OwnedValue>),
    /// [`Value::Dict`]: the entries in insertion order.
    Dict(Vec<(OwnedAtom, OwnedValue)>),
    /// [`Value::Sop`]
    Sop(NodeId),
    /// [`Value::Selector`]
    Selector(NodeId),
    /// [`Value::Function`], reduced to what evaluation shows of it.
    Function {
        /// [`Callable::name`]
        name: String,
        /// [`Callable::describe`]
        description: String,
    },
    /// See `Value::Opaque`.
    Opaque(&'static str),
}

impl OwnedValue {
    /// A copy of `value` that owns its data. A function becomes its name
    /// and description (an opaque value too, under its type name).
    pub fn from_value(value: &Value) -> OwnedValue {
        match value {
            Value::Atom(a) => OwnedValue::Atom(OwnedAtom::from_atom(a)),
            Value::List(items) => OwnedValue::List(items.iter().map(OwnedValue::from_value).collect()),
            Value::Dict(d) => {
                OwnedValue::Dict(d.iter().map(|(k, v)| (OwnedAtom::from_atom(k), OwnedValue::from_value(v))).collect())
            }
            Value::Sop(id) => OwnedValue::Sop(*id),
            Value::Selector(id) => OwnedValue::Selector(*id),
            Value::Function(f) => OwnedValue::Function { name: f.name().to_string(), description: f.describe() },
            Value::Opaque(name) => OwnedValue::Function { name: name.to_string(), description: name.to_string() },
        }
    }

    /// The value again; a function comes back as a stand-in that only has
    /// its name and description (it cannot be called).
    pub fn to_value(&self) -> Value {
        match self {
            OwnedValue::Atom(a) => Value::Atom(a.to_atom()),
            OwnedValue::List(items) => Value::list(items.iter().map(OwnedValue::to_value).collect()),
            OwnedValue::Dict(entries) => {
                let mut d = Dict::new();
                for (k, v) in entries {
                    d.insert(k.to_atom(), v.to_value());
                }
                Value::Dict(Rc::new(d))
            }
            OwnedValue::Sop(id) => Value::Sop(*id),
            OwnedValue::Selector(id) => Value::Selector(*id),
            OwnedValue::Function { name, description } => {
                Value::Function(Rc::new(NamedFunction { name: name.clone(), description: description.clone() }))
            }
            OwnedValue::Opaque(name) => Value::Opaque(name),
        }
    }
}

/// Stands in for a function inside a constant on a worker thread:
/// evaluation only ever shows its name.
#[derive(Debug)]
struct NamedFunction {
    name: String,
    description: String,
}

impl Callable for NamedFunction {
    fn name(&self) -> &str {
        &self.name
    }
    fn describe(&self) -> String {
        self.description.clone()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A [`Sequence`] that owns its data.
#[derive(Debug, Clone)]
pub struct OwnedSequence {
    /// [`Sequence::values`]
    pub values: Vec<OwnedAtom>,
    /// [`Sequence::seq_type`]
    pub seq_type: SeqType,
}

impl OwnedSequence {
    /// A copy of `seq` that owns its data.
    pub fn from_sequence(seq: &Sequence) -> OwnedSequence {
        OwnedSequence { values: seq.values.iter().map(OwnedAtom::from_atom).collect(), seq_type: seq.seq_type }
    }

    /// As [`OwnedSequence::from_sequence`], with strs shared through
    /// `share`.
    pub(crate) fn from_sequence_shared(seq: &Sequence, share: &mut StrShare) -> OwnedSequence {
        let values = seq
            .values
            .iter()
            .map(|a| match a {
                Atom::Str(s) => OwnedAtom::Str(share.get(s)),
                other => OwnedAtom::from_atom(other),
            })
            .collect();
        OwnedSequence { values, seq_type: seq.seq_type }
    }

    /// The sequence again.
    pub fn to_sequence(&self) -> Sequence {
        Sequence { values: self.values.iter().map(OwnedAtom::to_atom).collect(), seq_type: self.seq_type }
    }
}

/// A [`NodeValue`] that owns its data.
#[derive(Debug, Clone)]
pub enum OwnedNodeValue {
    /// [`NodeValue::Seq`]
    Seq(OwnedSequence),
    /// [`NodeValue::Sel`] (a matrix owns its bits already).
    Sel(SelectorMatrix),
}

impl OwnedNodeValue {
    /// A copy of `value` that owns its data.
    pub fn from_node_value(value: &NodeValue) -> OwnedNodeValue {
        match value {
            NodeValue::Seq(s) => OwnedNodeValue::Seq(OwnedSequence::from_sequence(s)),
            NodeValue::Sel(m) => OwnedNodeValue::Sel(m.as_ref().clone()),
        }
    }

    /// As [`OwnedNodeValue::from_node_value`], with strs shared through
    /// `share`.
    pub(crate) fn from_node_value_shared(value: &NodeValue, share: &mut StrShare) -> OwnedNodeValue {
        match value {
            NodeValue::Seq(s) => OwnedNodeValue::Seq(OwnedSequence::from_sequence_shared(s, share)),
            NodeValue::Sel(m) => OwnedNodeValue::Sel(m.as_ref().clone()),
        }
    }

    /// The node value again.
    pub fn to_node_value(&self) -> NodeValue {
        match self {
            OwnedNodeValue::Seq(s) => NodeValue::Seq(Rc::new(s.to_sequence())),
            OwnedNodeValue::Sel(m) => NodeValue::Sel(Rc::new(m.clone())),
        }
    }
}

/// How many strs a [`StrShare`] remembers.
const SHARED_STRS: usize = 64;

/// The `Arc` copies of a worker's recent strs, by the address of their
/// `Rc`: equal tokens of a batch share one `Rc` (inputs are split into
/// shared characters, and the engine copies atoms by `Rc`), so results
/// then share one `Arc` instead of allocating a copy per position. A table
/// slot holds its `Rc`, so the address cannot be reused by another str
/// while the slot remembers it.
pub(crate) struct StrShare {
    slots: Vec<Option<(Rc<str>, Arc<str>)>>,
}

impl StrShare {
    pub(crate) fn new() -> StrShare {
        StrShare { slots: vec![None; SHARED_STRS] }
    }

    /// An `Arc` holding the text of `s`.
    pub(crate) fn get(&mut self, s: &Rc<str>) -> Arc<str> {
        let address = Rc::as_ptr(s) as *const u8 as usize;
        let slot = &mut self.slots[(address >> 4) % SHARED_STRS];
        match slot {
            Some((known, shared)) if Rc::ptr_eq(known, s) => shared.clone(),
            _ => {
                let shared: Arc<str> = Arc::from(s.as_ref());
                *slot = Some((s.clone(), shared.clone()));
                shared
            }
        }
    }
}

/// A `MapOp` with owned constants.
#[derive(Debug, Clone)]
enum BlueMapOp {
    Neg,
    Pos,
    Round,
    Not,
    Indicator,
    Arith(ArithOp),
    Compare(CmpOp),
    ArithConst { op: ArithOp, constant: OwnedValue, constant_on_left: bool },
    CompareConst { op: CmpOp, constant: OwnedValue, constant_on_left: bool },
    And,
    Or,
    Ternary,
    InList(Vec<OwnedAtom>),
    Lookup(OwnedValue),
}

impl BlueMapOp {
    fn from_op(op: &MapOp) -> BlueMapOp {
        match op {
            MapOp::Neg => BlueMapOp::Neg,
            MapOp::Pos => BlueMapOp::Pos,
            MapOp::Round => BlueMapOp::Round,
            MapOp::Not => BlueMapOp::Not,
            MapOp::Indicator => BlueMapOp::Indicator,
            MapOp::Arith(o) => BlueMapOp::Arith(*o),
            MapOp::Compare(o) => BlueMapOp::Compare(*o),
            MapOp::ArithConst { op, constant, constant_on_left } => BlueMapOp::ArithConst {
                op: *op,
                constant: OwnedValue::from_value(constant),
                constant_on_left: *constant_on_left,
            },
            MapOp::CompareConst { op, constant, constant_on_left } => BlueMapOp::CompareConst {
                op: *op,
                constant: OwnedValue::from_value(constant),
                constant_on_left: *constant_on_left,
            },
            MapOp::And => BlueMapOp::And,
            MapOp::Or => BlueMapOp::Or,
            MapOp::Ternary => BlueMapOp::Ternary,
            MapOp::InList(items) => BlueMapOp::InList(items.iter().map(OwnedAtom::from_atom).collect()),
            MapOp::Lookup(table) => BlueMapOp::Lookup(OwnedValue::from_value(table)),
        }
    }

    fn to_op(&self) -> MapOp {
        match self {
            BlueMapOp::Neg => MapOp::Neg,
            BlueMapOp::Pos => MapOp::Pos,
            BlueMapOp::Round => MapOp::Round,
            BlueMapOp::Not => MapOp::Not,
            BlueMapOp::Indicator => MapOp::Indicator,
            BlueMapOp::Arith(o) => MapOp::Arith(*o),
            BlueMapOp::Compare(o) => MapOp::Compare(*o),
            BlueMapOp::ArithConst { op, constant, constant_on_left } => {
                MapOp::ArithConst { op: *op, constant: constant.to_value(), constant_on_left: *constant_on_left }
            }
            BlueMapOp::CompareConst { op, constant, constant_on_left } => {
                MapOp::CompareConst { op: *op, constant: constant.to_value(), constant_on_left: *constant_on_left }
            }
            BlueMapOp::And => MapOp::And,
            BlueMapOp::Or => MapOp::Or,
            BlueMapOp::Ternary => MapOp::Ternary,
            BlueMapOp::InList(items) => MapOp::InList(Rc::new(items.iter().map(OwnedAtom::to_atom).collect())),
            BlueMapOp::Lookup(table) => MapOp::Lookup(Rc::new(table.to_value())),
        }
    }
}

/// A `NodeKind` with owned constants.
#[derive(Debug, Clone)]
enum BlueKind {
    Tokens(TokenConversion),
    Indices,
    Constant(OwnedValue),
    Map { op: BlueMapOp, inputs: Vec<NodeId> },
    Select { key: NodeId, query: NodeId, predicate: Predicate },
    SelectAll,
    SelectAnd(NodeId, NodeId),
    SelectOr(NodeId, NodeId),
    SelectNot(NodeId),
    Aggregate { selector: NodeId, values: NodeId, default: Option<OwnedValue> },
}

impl BlueKind {
    fn from_kind(kind: &NodeKind) -> BlueKind {
        match kind {
            NodeKind::Tokens(c) => BlueKind::Tokens(*c),
            NodeKind::Indices => BlueKind::Indices,
            NodeKind::Constant(v) => BlueKind::Constant(OwnedValue::from_value(v)),
            NodeKind::Map { op, inputs } => BlueKind::Map { op: BlueMapOp::from_op(op), inputs: inputs.clone() },
            NodeKind::Select { key, query, predicate } => {
                BlueKind::Select { key: *key, query: *query, predicate: *predicate }
            }
            NodeKind::SelectAll => BlueKind::SelectAll,
            NodeKind::SelectAnd(a, b) => BlueKind::SelectAnd(*a, *b),
            NodeKind::SelectOr(a, b) => BlueKind::SelectOr(*a, *b),
            NodeKind::SelectNot(a) => BlueKind::SelectNot(*a),
            NodeKind::Aggregate { selector, values, default } => BlueKind::Aggregate {
                selector: *selector,
                values: *values,
                default: default.as_ref().map(OwnedValue::from_value),
            },
        }
    }

    fn to_kind(&self) -> NodeKind {
        match self {
            BlueKind::Tokens(c) => NodeKind::Tokens(*c),
            BlueKind::Indices => NodeKind::Indices,
            BlueKind::Constant(v) => NodeKind::Constant(v.to_value()),
            BlueKind::Map { op, inputs } => NodeKind::Map { op: op.to_op(), inputs: inputs.clone() },
            BlueKind::Select { key, query, predicate } => {
                NodeKind::Select { key: *key, query: *query, predicate: *predicate }
            }
            BlueKind::SelectAll => NodeKind::SelectAll,
            BlueKind::SelectAnd(a, b) => NodeKind::SelectAnd(*a, *b),
            BlueKind::SelectOr(a, b) => NodeKind::SelectOr(*a, *b),
            BlueKind::SelectNot(a) => NodeKind::SelectNot(*a),
            BlueKind::Aggregate { selector, values, default } => NodeKind::Aggregate {
                selector: *selector,
                values: *values,
                default: default.as_ref().map(OwnedValue::to_value),
            },
        }
    }
}

#[derive(Debug, Clone)]
struct BlueNode {
    /// `None` for nodes no root depends on: only their names are kept
    /// (error messages may name any earlier node).
    kind: Option<BlueKind>,
    name: String,
    named: bool,
}

/// The planned part of a graph in a form that may cross threads. Rebuilt
/// into a `Graph` with the same ids, names and kinds on each worker.
#[derive(Debug, Clone)]
pub(crate) struct Blueprint {
    nodes: Vec<BlueNode>,
}

impl Blueprint {
    /// `planned`: ascending ids, closed under inputs.
    pub(crate) fn new(graph: &Graph, planned: &[NodeId]) -> Blueprint {
        let last = planned.last().map_or(0, |id| id.index() + 1);
        let mut nodes: Vec<BlueNode> = (0..last)
            .map(|i| {
                let node = graph.node(NodeId(i as u32));
                BlueNode { kind: None, name: node.name.clone(), named: node.named }
            })
            .collect();
        for id in planned {
            nodes[id.index()].kind = Some(BlueKind::from_kind(graph.kind(*id)));
        }
        Blueprint { nodes }
    }

    pub(crate) fn to_graph(&self) -> Graph {
        let mut graph = Graph::new();
        for node in &self.nodes {
            // Unplanned nodes only lend their names; an input-less kind
            // keeps `Graph::add`'s ordering check happy.
            let kind = node.kind.as_ref().map_or(NodeKind::Indices, BlueKind::to_kind);
            graph.add(kind, &node.name, node.named);
        }
        graph
    }
}
