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

/// A node of a [`Graph`]: its position in creation order, so a smaller id
/// was created earlier and never depends on a larger one. The number is
/// also the `id` the reference prints (`UnfinishedSequence object, name: N
/// id: I`). Ids are only meaningful for the graph that made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The id as an index into per-node vectors.
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
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`: key less than query.
    Lt,
    /// `>`: key greater than query.
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl Predicate {
    /// The operator as RASP source spells it (`==`, `<`, ...).
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
    /// `x OP y` on two s-ops, a bool per position
    Compare(CmpOp),
    /// `x OP c` (or `c OP x` when `constant_on_left`) with a constant
    ArithConst {
        /// The operator.
        op: ArithOp,
        /// The constant operand.
        constant: Value,
        /// Whether the constant is the left operand, which matters for
        /// non-commutative operators and for the wording of Python's errors.
        constant_on_left: bool,
    },
    /// `x OP c` (or `c OP x` when `constant_on_left`) with a constant, a
    /// bool per position
    CompareConst {
        /// The operator.
        op: CmpOp,
        /// The constant operand.
        constant: Value,
        /// Whether the constant is the left operand.
        constant_on_left: bool,
    },
    /// elementwise `bool(x) and bool(y)`: always a bool, not the operand
    /// Python's `and` would return
    And,
    /// elementwise `bool(x) or bool(y)`
    Or,
    /// `then if cond else otherwise`: inputs are (cond, then, otherwise)
    Ternary,
    /// `x in [atoms]` (Python `==`)
    InList(Rc<Vec<Atom>>),
    /// `table[x]`: indexing a list, string or dict by the s-op's values
    Lookup(Rc<Value>),
}

/// What a node computes. S-ops: `Tokens`, `Indices`, `Constant`, `Map`,
/// `Aggregate`; selectors: the `Select*` kinds.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// The input, each element converted as given (`tokens`, `tokens_int`, ...).
    Tokens(TokenConversion),
    /// The positions `0..n` (`indices`).
    Indices,
    /// A constant s-op (an atom used where an s-op was needed).
    Constant(Value),
    /// An elementwise function of one or more s-ops (an MLP).
    Map {
        /// The function applied at each position.
        op: MapOp,
        /// The s-ops read, in the order `op` takes its arguments.
        inputs: Vec<NodeId>,
    },
    /// `select(key, query, predicate)`
    Select {
        /// The s-op compared at the key (attended) positions.
        key: NodeId,
        /// The s-op compared at the query (attending) positions.
        query: NodeId,
        /// Selected iff `key[k] predicate query[q]`.
        predicate: Predicate,
    },
    /// The selector the reference builds for `atom in s-op` ("full average"):
    /// selects everything, reads no s-op.
    SelectAll,
    /// `a and b` on two selectors: selected where both select.
    SelectAnd(NodeId, NodeId),
    /// `a or b` on two selectors: selected where either selects.
    SelectOr(NodeId, NodeId),
    /// `not a` on a selector: the complement.
    SelectNot(NodeId),
    /// `aggregate(selector, values, default)`; no default means int 0.
    Aggregate {
        /// The selector (attention pattern) read.
        selector: NodeId,
        /// The s-op averaged over the selected keys.
        values: NodeId,
        /// The value where a query selects nothing; `None` is int 0.
        default: Option<Value>,
    },
}

impl NodeKind {
    /// Whether the node is a selector (else an s-op).
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

    /// The parts of an aggregate; `None` for every other kind. Callers that
    /// only care whether a node is an aggregate use this instead of a match
    /// of their own, so the list of kinds is written once, here.
    pub fn as_aggregate(&self) -> Option<AggregateParts<'_>> {
        match self {
            NodeKind::Aggregate { selector, values, default } => {
                Some(AggregateParts { selector: *selector, values: *values, default: default.as_ref() })
            }
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_) => None,
        }
    }

    /// A plain `select`'s key, query and predicate; `None` for every other
    /// kind (combined selectors included).
    pub fn as_select(&self) -> Option<(NodeId, NodeId, Predicate)> {
        match self {
            NodeKind::Select { key, query, predicate } => Some((*key, *query, *predicate)),
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_)
            | NodeKind::Aggregate { .. } => None,
        }
    }

    /// An elementwise operation and the s-ops it reads; `None` for every
    /// other kind.
    pub fn as_map(&self) -> Option<(&MapOp, &[NodeId])> {
        match self {
            NodeKind::Map { op, inputs } => Some((op, inputs)),
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_)
            | NodeKind::Aggregate { .. } => None,
        }
    }

    /// The word that joins a combined selector's two parts as RASP writes
    /// it (`and`, `or`); `None` for every other kind.
    pub fn connective(&self) -> Option<&'static str> {
        match self {
            NodeKind::SelectAnd(..) => Some("and"),
            NodeKind::SelectOr(..) => Some("or"),
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectNot(_)
            | NodeKind::Aggregate { .. } => None,
        }
    }

    /// The same node reading `rename(input)` in place of each input: how a
    /// rewrite copies a node into a new graph whose ids differ.
    pub fn with_inputs(&self, rename: impl Fn(NodeId) -> NodeId) -> NodeKind {
        match self {
            NodeKind::Tokens(_) | NodeKind::Indices | NodeKind::Constant(_) | NodeKind::SelectAll => self.clone(),
            NodeKind::Map { op, inputs } => {
                NodeKind::Map { op: op.clone(), inputs: inputs.iter().map(|&i| rename(i)).collect() }
            }
            NodeKind::Select { key, query, predicate } => {
                NodeKind::Select { key: rename(*key), query: rename(*query), predicate: *predicate }
            }
            NodeKind::SelectAnd(a, b) => NodeKind::SelectAnd(rename(*a), rename(*b)),
            NodeKind::SelectOr(a, b) => NodeKind::SelectOr(rename(*a), rename(*b)),
            NodeKind::SelectNot(a) => NodeKind::SelectNot(rename(*a)),
            NodeKind::Aggregate { selector, values, default } => {
                NodeKind::Aggregate { selector: rename(*selector), values: rename(*values), default: default.clone() }
            }
        }
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

/// What an aggregate reads ([`NodeKind::as_aggregate`]).
#[derive(Debug, Clone, Copy)]
pub struct AggregateParts<'a> {
    /// The selector (attention pattern) read.
    pub selector: NodeId,
    /// The s-op averaged over the selected keys.
    pub values: NodeId,
    /// The value where a query selects nothing; `None` is int 0.
    pub default: Option<&'a Value>,
}

/// Names longer than this are replaced (semantics.md §2.8, FunctionalSupport name_maxlen).
const NAME_MAX_LEN: usize = 30;

/// One s-op or selector of a [`Graph`].
#[derive(Debug, Clone)]
pub struct Node {
    /// What it computes.
    pub kind: NodeKind,
    /// Its display name: the last name it was assigned to or returned as,
    /// else the operator-made name; `s-op` / `sel` when longer than 30
    /// characters, as in the reference.
    pub name: String,
    /// The reference's `always_display`: true when the user (or a function
    /// return) named it; false for operator-made intermediate values. The
    /// drawing hides "minor" nodes by it (semantics.md §4).
    pub named: bool,
    /// Whether the name is a local variable of a standard-library function
    /// (`sAND0` inside `selector_width`): the reference shows it, but it
    /// tells a reader nothing, so readable names (`rasp_analyze::Names`)
    /// describe such a node by what it computes instead.
    pub library_local: bool,
}

/// A RASP program's s-ops and selectors, append-only, in creation order
/// (a topological order). One graph holds every node a session defines;
/// a program's output is a root [`NodeId`] in it.
///
/// The lookups below panic on an id from another graph (past its end).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    select_all: Option<NodeId>,
    /// Counts every change (a node added, a name changed), so a caller can
    /// tell whether some work left the graph exactly as it was.
    changes: u64,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// What node `id` computes.
    pub fn kind(&self, id: NodeId) -> &NodeKind {
        &self.nodes[id.index()].kind
    }

    /// Node `id`'s current display name.
    pub fn name(&self, id: NodeId) -> &str {
        &self.nodes[id.index()].name
    }

    /// Whether node `id` is a selector (else an s-op).
    pub fn is_selector(&self, id: NodeId) -> bool {
        self.kind(id).is_selector()
    }

    /// A number that changes whenever a node is added or renamed to a
    /// different name: equal numbers mean an unchanged graph.
    pub fn version(&self) -> u64 {
        self.changes
    }

    /// Every id, ascending (a topological order).
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Adds a node with a name; `named` as the reference's `always_display`.
    /// The node's inputs must already be in the graph (checked in debug
    /// builds); names over 30 characters become `s-op` / `sel`.
    pub fn add(&mut self, kind: NodeKind, name: &str, named: bool) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        debug_assert!(kind.inputs().iter().all(|p| p.index() < self.nodes.len()));
        let is_selector = kind.is_selector();
        self.nodes.push(Node { kind, name: clip_name(name, is_selector), named, library_local: false });
        self.changes += 1;
        id
    }

    /// Adds a node computing `kind` under `template`'s name and display
    /// flags: a copy of a node of another graph (see
    /// [`NodeKind::with_inputs`]).
    pub fn add_copy(&mut self, template: &Node, kind: NodeKind) -> NodeId {
        let id = self.add(kind, &template.name, template.named);
        self.nodes[id.index()].library_local = template.library_local;
        if matches!(self.kind(id), NodeKind::SelectAll) && self.select_all.is_none() {
            self.select_all = Some(id);
        }
        id
    }

    /// Renames a node (assignment or function return). Marks it as named.
    pub fn rename(&mut self, id: NodeId, name: &str) {
        let is_selector = self.is_selector(id);
        let node = &mut self.nodes[id.index()];
        let name = clip_name(name, is_selector);
        // `library_local` only changes drawings, never what the REPL prints.
        node.library_local = false;
        if node.name != name || !node.named {
            node.name = name;
            node.named = true;
            self.changes += 1;
        }
    }

    /// Renames a node to a local variable of a standard-library function:
    /// as [`Graph::rename`], and marks the name as
    /// [`Node::library_local`].
    pub fn rename_library_local(&mut self, id: NodeId, name: &str) {
        self.rename(id, name);
        self.nodes[id.index()].library_local = true;
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

    /// The nodes `root` depends on (itself included, in id order) that are
    /// reachable through nodes `wanted` accepts: the walk stops at a node it
    /// refuses. Evaluation uses it to visit only what is not yet memoised,
    /// so checking each node of a long chain as it is built stays linear.
    pub fn ancestors_where(&self, root: NodeId, wanted: impl Fn(NodeId) -> bool) -> Vec<NodeId> {
        if !wanted(root) {
            return Vec::new();
        }
        let mut seen = std::collections::HashSet::from([root]);
        let mut stack = vec![root];
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            out.push(id);
            for input in self.kind(id).inputs() {
                if wanted(input) && seen.insert(input) {
                    stack.push(input);
                }
            }
        }
        out.sort_unstable();
        out
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
