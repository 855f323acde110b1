//! The graph IR: the single source of truth every later stage reads.
//!
//! A RASP program denotes a DAG of s-ops (one value per position) and
//! selectors (a query × key boolean pattern). Nodes are appended, never
//! changed, except for their display name: the reference renames an object
//! when it is assigned or returned from a function (semantics.md §2.3), and that
//! name shows in displays, so names live beside the nodes, mutable.
//!
//! Node ids are creation order, and a node's inputs are always created
//! before it, so ascending id order is a topological order.

use crate::atom::Atom;
use crate::pyops::{ArithOp, CmpOp};
use crate::value::{NodeNames, Value};
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// How a token s-op converts each input element (semantics.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenConversion {
    /// Python `str(x)`
    Str,
    /// Python `int(x)`
    Int,
    /// Python `float(x)`
    Float,
    /// Python `bool(x)`
    Bool,
    /// the element itself
    AsIs,
}

/// The comparison of `select(key, query, OP)`: selected iff `key OP query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Predicate {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Predicate {
    pub fn symbol(self) -> &'static str {
        match self {
            Predicate::Eq => "==",
            Predicate::Ne => "!=",
            Predicate::Lt => "<",
            Predicate::Gt => ">",
            Predicate::Le => "<=",
            Predicate::Ge => ">=",
        }
    }

    /// The reference evaluates `key OP query` as `query OP' key` (semantics.md §2.5),
    /// which decides the wording of Python's type errors.
    pub fn mirrored_on_query(self) -> CmpOp {
        match self {
            Predicate::Eq => CmpOp::Eq,
            Predicate::Ne => CmpOp::Ne,
            Predicate::Lt => CmpOp::Gt,
            Predicate::Gt => CmpOp::Lt,
            Predicate::Le => CmpOp::Ge,
            Predicate::Ge => CmpOp::Le,
        }
    }
}

/// An elementwise function: what a feed-forward (MLP) sublayer computes.
#[derive(Debug, Clone)]
pub enum MapOp {
    /// `-x`
    Neg,
    /// `+x`
    Pos,
    /// Python `round(x)`
    Round,
    /// `not x` (elementwise `not bool(x)`)
    Not,
    /// `indicator(x)`: 1 if truthy else 0
    Indicator,
    /// `x OP y` on two s-ops
    Arith(ArithOp),
    Compare(CmpOp),
    /// `x OP c` (or `c OP x` when `constant_on_left`) with a constant
    ArithConst {
        op: ArithOp,
        constant: Value,
        constant_on_left: bool,
    },
    CompareConst {
        op: CmpOp,
        constant: Value,
        constant_on_left: bool,
    },
    /// elementwise `bool(x) and bool(y)` / `or`
    And,
    Or,
    /// `then if cond else otherwise`: inputs are (cond, then, otherwise)
    Ternary,
    /// `x in [atoms]` (Python `==`)
    InList(Rc<Vec<Atom>>),
    /// `table[x]`: indexing a list, string or dict by the s-op's values
    Lookup(Rc<Value>),
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Tokens(TokenConversion),
    Indices,
    /// A constant s-op (an atom used where an s-op was needed).
    Constant(Value),
    Map {
        op: MapOp,
        inputs: Vec<NodeId>,
    },
    /// `select(key, query, predicate)`
    Select {
        key: NodeId,
        query: NodeId,
        predicate: Predicate,
    },
    /// The selector the reference builds for `atom in s-op` ("full average"):
    /// selects everything, reads no s-op.
    SelectAll,
    SelectAnd(NodeId, NodeId),
    SelectOr(NodeId, NodeId),
    SelectNot(NodeId),
    /// `aggregate(selector, values, default)`; no default means int 0.
    Aggregate {
        selector: NodeId,
        values: NodeId,
        default: Option<Value>,
    },
}

impl NodeKind {
    pub fn is_selector(&self) -> bool {
        matches!(
            self,
            NodeKind::Select { .. }
                | NodeKind::SelectAll
                | NodeKind::SelectAnd(..)
                | NodeKind::SelectOr(..)
                | NodeKind::SelectNot(_)
        )
    }

    /// The nodes this one reads, in order.
    pub fn inputs(&self) -> Vec<NodeId> {
        match self {
            NodeKind::Tokens(_) | NodeKind::Indices | NodeKind::Constant(_) | NodeKind::SelectAll => vec![],
            NodeKind::Map { inputs, .. } => inputs.clone(),
            NodeKind::Select { key, query, .. } => vec![*key, *query],
            NodeKind::SelectAnd(a, b) | NodeKind::SelectOr(a, b) => vec![*a, *b],
            NodeKind::SelectNot(a) => vec![*a],
            NodeKind::Aggregate { selector, values, .. } => vec![*selector, *values],
        }
    }
}

/// Names longer than this are replaced (semantics.md §2.8, FunctionalSupport name_maxlen).
pub const NAME_MAX_LEN: usize = 30;

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub name: String,
    /// The reference's `always_display`: true when the user (or a function
    /// return) named it; false for operator-made intermediate values. The
    /// drawing hides "minor" nodes by it (semantics.md §4).
    pub named: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    select_all: Option<NodeId>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn kind(&self, id: NodeId) -> &NodeKind {
        &self.nodes[id.index()].kind
    }

    pub fn name(&self, id: NodeId) -> &str {
        &self.nodes[id.index()].name
    }

    pub fn is_selector(&self, id: NodeId) -> bool {
        self.kind(id).is_selector()
    }

    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Adds a node with a name; `named` as the reference's `always_display`.
    pub fn add(&mut self, kind: NodeKind, name: &str, named: bool) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        debug_assert!(kind.inputs().iter().all(|p| p.index() < self.nodes.len()));
        let is_selector = kind.is_selector();
        self.nodes.push(Node { kind, name: clip_name(name, is_selector), named });
        id
    }

    /// Renames a node (assignment or function return). Marks it as named.
    pub fn rename(&mut self, id: NodeId, name: &str) {
        let is_selector = self.is_selector(id);
        let node = &mut self.nodes[id.index()];
        node.name = clip_name(name, is_selector);
        node.named = true;
    }

    /// The shared "full average" selector of `atom in s-op` (semantics.md §4: the one
    /// selector the reference shares between uses).
    pub fn select_all(&mut self) -> NodeId {
        if let Some(id) = self.select_all {
            return id;
        }
        let id = self.add(NodeKind::SelectAll, "full average", true);
        self.select_all = Some(id);
        id
    }

    /// All nodes `root` depends on, itself included, in topological (id) order.
    pub fn ancestors(&self, root: NodeId) -> Vec<NodeId> {
        let mut seen = vec![false; root.index() + 1];
        let mut stack = vec![root];
        seen[root.index()] = true;
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            out.push(id);
            for p in self.kind(id).inputs() {
                if !seen[p.index()] {
                    seen[p.index()] = true;
                    stack.push(p);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

fn clip_name(name: &str, is_selector: bool) -> String {
    if name.chars().count() > NAME_MAX_LEN {
        if is_selector { "sel".to_string() } else { "s-op".to_string() }
    } else {
        name.to_string()
    }
}

impl NodeNames for Graph {
    fn node_name(&self, id: NodeId) -> String {
        self.name(id).to_string()
    }
}
