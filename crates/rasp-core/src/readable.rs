//! Readable names: what a picture, a report or a compiled model calls a
//! node, so that a reader understands it without the source.
//!
//! The graph's own names are the reference's, and the REPL must show them
//! unchanged; many of them mean nothing to a reader: the defaults `s-op`,
//! `sel` and `plain select`, the numbered scratch locals of library
//! functions (`sAND0`, `valat0`), and operator-made names that nest placeholders
//! (`( 1 / s-op )`). A readable name is the name the program or the
//! library gave the node (`length`, `flip`, `hist`) when there is one,
//! else the expression it computes written compactly, with Python's
//! precedence deciding the parentheses (`length - 1 - indices`,
//! `indicator(indices == 0)`). An average whose only use is to be
//! inverted into a named s-op is named by that inversion: the full-average
//! head inside `length = round(1 / x)` is `1/length`.
//!
//! Every front end names nodes through [`ReadableNames`]: the drawing, the
//! analysis report, the compiler (and so `model.json`, the compile report,
//! the attention and residual pictures).

use crate::graph::{Graph, MapOp, NodeId, NodeKind};
use crate::pyops::ArithOp;
use crate::value::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// Names the reference gives to values nobody named: never shown as a
/// readable name.
const DEFAULT_NAMES: [&str; 3] = ["s-op", "sel", "plain select"];

/// Whether a name is one of the reference's placeholders for unnamed values
/// (`s-op`, `sel`, `plain select`) or contains one (`( 1 / s-op )`,
/// `selector_width(plain select)`).
pub fn is_placeholder_name(name: &str) -> bool {
    if DEFAULT_NAMES.contains(&name) || name.contains("s-op") || name.contains("plain select") {
        return true;
    }
    // `sel` as a whole word (not inside `select` or `selector`).
    name.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word == "sel")
}

/// How tightly an expression binds (Python's precedence, loosest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Ternary,
    Or,
    And,
    Not,
    Compare,
    Sum,
    Product,
    Unary,
    Power,
    Atom,
}

/// Readable names of one graph's nodes, computed on demand and memoised.
/// Build one per picture or report: names depend on the whole graph (an
/// average is named by the s-op that reads it).
pub struct ReadableNames<'g> {
    graph: &'g Graph,
    readers: Vec<Vec<NodeId>>,
    memo: RefCell<HashMap<NodeId, (String, Precedence)>>,
    /// Nodes written as given (a formula's operands), while writing one.
    leaves: RefCell<HashMap<NodeId, String>>,
    /// How many unnamed nodes deep the expression being written is.
    depth: Cell<usize>,
}

/// Expressions nest at most this many unnamed nodes deep; deeper parts are
/// written `…` (a name that long helps no one, and the recursion stays
/// shallow on programs that chain thousands of operations).
const MAX_DEPTH: usize = 12;

impl<'g> ReadableNames<'g> {
    /// Names for the nodes of `graph`.
    pub fn new(graph: &'g Graph) -> ReadableNames<'g> {
        let mut readers = vec![Vec::new(); graph.len()];
        for id in graph.ids() {
            for input in graph.kind(id).inputs() {
                if !readers[input.index()].contains(&id) {
                    readers[input.index()].push(id);
                }
            }
        }
        ReadableNames {
            graph,
            readers,
            memo: RefCell::new(HashMap::new()),
            leaves: RefCell::new(HashMap::new()),
            depth: Cell::new(0),
        }
    }

    /// The readable name of `id`.
    pub fn name(&self, id: NodeId) -> String {
        self.expression(id).0
    }

    /// The name the program or library gave `id`, when it is one a reader
    /// can use.
    pub fn given_name(&self, id: NodeId) -> Option<&'g str> {
        let node = self.graph.node(id);
        let usable = match node.kind {
            // Constants are named by their `str`; shown as literals.
            NodeKind::Constant(_) => false,
            NodeKind::Tokens(_) | NodeKind::Indices => true,
            NodeKind::Map { .. }
            | NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectAnd(..)
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_)
            | NodeKind::Aggregate { .. } => {
                // A library function's locals that read as words
                // (`select_earlier_in_sorted`) are kept; abbreviations
                // numbered like scratch variables (`sAND0`, `valat0`) are not.
                let scratch = node.library_local && node.name.ends_with(|c: char| c.is_ascii_digit());
                node.named && !scratch && !is_placeholder_name(&node.name)
            }
        };
        usable.then_some(node.name.as_str())
    }

    /// What `id` computes from `operands` (each written as the text given
    /// with it), even when `id` has a name: an MLP's formula,
    /// `round(1 / x)` for `length` with `x` for its operand. Unnamed nodes
    /// between `id` and its operands are written out.
    pub fn formula(&self, id: NodeId, operands: &[(NodeId, String)]) -> String {
        *self.leaves.borrow_mut() = operands.iter().cloned().collect();
        let (text, _) = self.make(id, false);
        self.leaves.borrow_mut().clear();
        text
    }

    fn expression(&self, id: NodeId) -> (String, Precedence) {
        if let Some(leaf) = self.leaves.borrow().get(&id) {
            return (leaf.clone(), Precedence::Atom);
        }
        let writing_formula = !self.leaves.borrow().is_empty();
        if let Some(found) = self.memo.borrow().get(&id).filter(|_| !writing_formula) {
            return found.clone();
        }
        if self.depth.get() >= MAX_DEPTH {
            return ("…".to_string(), Precedence::Atom);
        }
        let depth = self.depth.get();
        self.depth.set(depth + 1);
        let made = self.make(id, true);
        self.depth.set(depth);
        // Only whole names are kept: a part written at depth may be cut.
        if depth == 0 && !writing_formula {
            self.memo.borrow_mut().insert(id, made.clone());
        }
        made
    }

    /// An operand inside an expression of precedence `outer`: parenthesised
    /// when it binds more loosely (or as loosely, with `strict`).
    fn operand(&self, id: NodeId, outer: Precedence, strict: bool) -> String {
        let (text, precedence) = self.expression(id);
        if precedence < outer || (strict && precedence == outer && outer != Precedence::Atom) {
            format!("({text})")
        } else {
            text
        }
    }

    fn make(&self, id: NodeId, by_name: bool) -> (String, Precedence) {
        let graph = self.graph;
        if let Some(name) = self.given_name(id).filter(|_| by_name) {
            return (name.to_string(), Precedence::Atom);
        }
        match graph.kind(id) {
            NodeKind::Tokens(_) | NodeKind::Indices => (graph.name(id).to_string(), Precedence::Atom),
            NodeKind::Constant(value) => (literal(graph, value), Precedence::Atom),
            NodeKind::Map { op, inputs } => self.map(op, inputs),
            NodeKind::Aggregate { selector, values, default } => {
                if let Some(inverted) = self.inverted(id).filter(|_| by_name) {
                    return (inverted, Precedence::Product);
                }
                let values = self.name(*values);
                let default = default.as_ref().map(|d| format!(", {}", literal(graph, d))).unwrap_or_default();
                let text = if selects_everything(graph, *selector) && default.is_empty() {
                    format!("mean({values})")
                } else {
                    format!("aggregate({}, {values}{default})", self.name(*selector))
                };
                (text, Precedence::Atom)
            }
            NodeKind::Select { key, query, predicate } => (
                format!("select({}, {}, {})", self.name(*key), self.name(*query), predicate.symbol()),
                Precedence::Atom,
            ),
            NodeKind::SelectAll => ("select all".to_string(), Precedence::Atom),
            // `and`/`or` share one left-associative level (semantics.md §1.3).
            NodeKind::SelectAnd(a, b) => self.connective(*a, *b, "and"),
            NodeKind::SelectOr(a, b) => self.connective(*a, *b, "or"),
            NodeKind::SelectNot(a) => (format!("not {}", self.operand(*a, Precedence::Not, false)), Precedence::Not),
        }
    }

    fn connective(&self, a: NodeId, b: NodeId, word: &str) -> (String, Precedence) {
        let part = |id: NodeId, left: bool| {
            let (text, _) = self.expression(id);
            match self.graph.kind(id).connective() {
                Some(op) if self.given_name(id).is_none() && !(left && op == word) => format!("({text})"),
                _ => text,
            }
        };
        (format!("{} {word} {}", part(a, true), part(b, false)), Precedence::Or)
    }

    fn map(&self, op: &MapOp, inputs: &[NodeId]) -> (String, Precedence) {
        use Precedence as P;
        let first = inputs.first().copied();
        let arg = |i: usize| inputs.get(i).copied();
        let call = |f: &str| match first {
            Some(x) => (format!("{f}({})", self.name(x)), P::Atom),
            None => (format!("{f}()"), P::Atom),
        };
        let binary = |symbol: &str, precedence: P| match (arg(0), arg(1)) {
            (Some(a), Some(b)) => {
                // `**` groups to the right, the others to the left.
                let right_assoc = precedence == P::Power;
                let left = self.operand(a, precedence, right_assoc || precedence == P::Compare);
                let right = self.operand(b, precedence, !right_assoc);
                (format!("{left} {symbol} {right}"), precedence)
            }
            _ => call(symbol),
        };
        let with_constant = |symbol: &str, precedence: P, constant: &Value, on_left: bool| match first {
            Some(x) => {
                let c = literal(self.graph, constant);
                let right_assoc = precedence == P::Power;
                let text = if on_left {
                    format!("{c} {symbol} {}", self.operand(x, precedence, !right_assoc))
                } else {
                    format!("{} {symbol} {c}", self.operand(x, precedence, right_assoc || precedence == P::Compare))
                };
                (text, precedence)
            }
            None => call(symbol),
        };
        match op {
            MapOp::Neg => unary(self, first, "-", P::Unary),
            MapOp::Pos => unary(self, first, "+", P::Unary),
            MapOp::Not => unary(self, first, "not ", P::Not),
            MapOp::Round => call("round"),
            MapOp::Indicator => call("indicator"),
            MapOp::Arith(a) => binary(a.symbol(), arith_precedence(*a)),
            MapOp::Compare(c) => binary(c.symbol(), P::Compare),
            MapOp::ArithConst { op, constant, constant_on_left } => {
                with_constant(op.symbol(), arith_precedence(*op), constant, *constant_on_left)
            }
            MapOp::CompareConst { op, constant, constant_on_left } => {
                with_constant(op.symbol(), P::Compare, constant, *constant_on_left)
            }
            MapOp::And => binary("and", P::And),
            MapOp::Or => binary("or", P::Or),
            MapOp::Ternary => match (arg(0), arg(1), arg(2)) {
                (Some(c), Some(t), Some(e)) => (
                    format!(
                        "{} if {} else {}",
                        self.operand(t, P::Or, false),
                        self.operand(c, P::Or, false),
                        self.operand(e, P::Ternary, false)
                    ),
                    P::Ternary,
                ),
                _ => call("ternary"),
            },
            MapOp::InList(atoms) => match first {
                Some(x) => {
                    let items: Vec<String> = atoms.iter().map(crate::pyfmt::py_repr).collect();
                    (format!("{} in [{}]", self.operand(x, P::Compare, true), items.join(", ")), P::Compare)
                }
                None => call("in"),
            },
            MapOp::Lookup(table) => match first {
                Some(x) => {
                    let table = table.py_repr(self.graph);
                    let table = if table.chars().count() > 24 { "table".to_string() } else { table };
                    (format!("{table}[{}]", self.name(x)), P::Atom)
                }
                None => call("lookup"),
            },
        }
    }

    /// An unnamed value whose only use is to be inverted into a named s-op,
    /// named by the inversion: `x` in `length = round(1 / x)` is `1/length`,
    /// `x` in `n = round(length * x)` is `n/length` (the rounding is exact
    /// where the library uses it).
    fn inverted(&self, id: NodeId) -> Option<String> {
        let reader = self.single_reader(id)?;
        if self.given_name(reader).is_some() && !matches!(self.graph.kind(reader), NodeKind::Map { .. }) {
            return None;
        }
        let (op, inputs) = self.graph.kind(reader).as_map()?;
        let result = match self.given_name(reader) {
            Some(name) => name,
            None => {
                let rounding = self.single_reader(reader)?;
                match self.graph.kind(rounding).as_map() {
                    Some((MapOp::Round, _)) => self.given_name(rounding)?,
                    _ => return None,
                }
            }
        };
        match op {
            MapOp::ArithConst { op: ArithOp::Div, constant, constant_on_left: true } => {
                Some(format!("{}/{result}", literal(self.graph, constant)))
            }
            MapOp::Arith(ArithOp::Mul) => {
                let other = inputs.iter().copied().find(|&i| i != id)?;
                let other = self.given_name(other)?;
                Some(format!("{result}/{other}"))
            }
            _ => None,
        }
    }

    fn single_reader(&self, id: NodeId) -> Option<NodeId> {
        match self.readers.get(id.index()).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    }
}

fn unary(names: &ReadableNames<'_>, x: Option<NodeId>, symbol: &str, precedence: Precedence) -> (String, Precedence) {
    match x {
        Some(x) => (format!("{symbol}{}", names.operand(x, precedence, false)), precedence),
        None => (symbol.trim().to_string(), Precedence::Atom),
    }
}

fn arith_precedence(op: ArithOp) -> Precedence {
    match op {
        ArithOp::Add | ArithOp::Sub => Precedence::Sum,
        ArithOp::Mul | ArithOp::Div | ArithOp::Mod => Precedence::Product,
        ArithOp::Pow => Precedence::Power,
    }
}

/// A constant as RASP writes it: strings quoted, numbers as Python shows them.
fn literal(graph: &Graph, value: &Value) -> String {
    match value {
        Value::Atom(crate::Atom::Str(s)) => format!("\"{s}\""),
        other => other.py_repr(graph),
    }
}

/// Whether a selector selects every key for every query whatever the
/// input: the reference's `select(1, 1, ==)` (`full_s`) and the shared
/// "full average" selector.
fn selects_everything(graph: &Graph, selector: NodeId) -> bool {
    match graph.kind(selector) {
        NodeKind::SelectAll => true,
        NodeKind::Select { key, query, predicate } => {
            use crate::graph::Predicate;
            let constant = |id: NodeId| {
                if let NodeKind::Constant(Value::Atom(a)) = graph.kind(id) {
                    Some(crate::pyfmt::py_repr(a))
                } else {
                    None
                }
            };
            matches!((constant(*key), constant(*query)), (Some(k), Some(q)) if k == q)
                && matches!(predicate, Predicate::Eq | Predicate::Le | Predicate::Ge)
        }
        NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Constant(_)
        | NodeKind::Map { .. }
        | NodeKind::SelectAnd(..)
        | NodeKind::SelectOr(..)
        | NodeKind::SelectNot(_)
        | NodeKind::Aggregate { .. } => false,
    }
}

/// The readable name of one node (builds a [`ReadableNames`]; use one
/// for many nodes).
pub fn readable_name(graph: &Graph, id: NodeId) -> String {
    ReadableNames::new(graph).name(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Predicate, TokenConversion};
    use crate::pyops::CmpOp;

    fn constant(graph: &mut Graph, n: i64) -> NodeId {
        graph.add(NodeKind::Constant(Value::int(n)), &n.to_string(), false)
    }

    fn with_constant(graph: &mut Graph, x: NodeId, op: ArithOp, n: i64, on_left: bool, name: &str) -> NodeId {
        let op = MapOp::ArithConst { op, constant: Value::int(n), constant_on_left: on_left };
        graph.add(NodeKind::Map { op, inputs: vec![x] }, name, false)
    }

    #[test]
    fn placeholders_are_the_references_defaults() {
        for name in ["s-op", "sel", "plain select", "( 1 / s-op )", "selector_width(plain select)", "f(sel)"] {
            assert!(is_placeholder_name(name), "{name}");
        }
        for name in ["length", "flip", "select_earlier_in_sorted", "selector_width(x)", "hist"] {
            assert!(!is_placeholder_name(name), "{name}");
        }
    }

    #[test]
    fn expressions_take_only_the_parentheses_python_needs() {
        let mut graph = Graph::new();
        let indices = graph.add(NodeKind::Indices, "indices", true);
        let tokens = graph.add(NodeKind::Tokens(TokenConversion::Str), "tokens", true);
        // The reference's operator-made names, with its parentheses.
        let plus = with_constant(&mut graph, indices, ArithOp::Add, 1, false, "( indices + 1 )");
        let times = with_constant(&mut graph, plus, ArithOp::Mul, 2, false, "( ( indices + 1 ) * 2 )");
        let minus = with_constant(&mut graph, indices, ArithOp::Sub, 1, true, "( 1 - indices )");
        let nested = graph.add(
            NodeKind::Map { op: MapOp::Arith(ArithOp::Sub), inputs: vec![indices, minus] },
            "( indices - ( 1 - indices ) )",
            false,
        );
        let chain = graph.add(
            NodeKind::Map { op: MapOp::Arith(ArithOp::Sub), inputs: vec![minus, indices] },
            "( ( 1 - indices ) - indices )",
            false,
        );
        let equal = graph.add(
            NodeKind::Map {
                op: MapOp::CompareConst { op: CmpOp::Eq, constant: Value::str("a"), constant_on_left: false },
                inputs: vec![tokens],
            },
            "( tokens == a )",
            false,
        );
        let names = ReadableNames::new(&graph);
        assert_eq!(names.name(times), "(indices + 1) * 2");
        assert_eq!(names.name(nested), "indices - (1 - indices)");
        assert_eq!(names.name(chain), "1 - indices - indices");
        assert_eq!(names.name(equal), "tokens == \"a\"");
        // A name given by the program wins over the expression.
        graph.rename(times, "doubled");
        assert_eq!(readable_name(&graph, times), "doubled");
    }

    #[test]
    fn an_average_inverted_into_a_named_sop_is_named_by_the_inversion() {
        let mut graph = Graph::new();
        let indices = graph.add(NodeKind::Indices, "indices", true);
        let one = constant(&mut graph, 1);
        let full = graph.add(NodeKind::Select { key: one, query: one, predicate: Predicate::Eq }, "full_s", true);
        let first = graph.add(
            NodeKind::Map {
                op: MapOp::CompareConst { op: CmpOp::Eq, constant: Value::int(0), constant_on_left: false },
                inputs: vec![indices],
            },
            "( indices == 0 )",
            false,
        );
        let indicator =
            graph.add(NodeKind::Map { op: MapOp::Indicator, inputs: vec![first] }, "I(( indices == 0 ))", false);
        let mean = graph.add(NodeKind::Aggregate { selector: full, values: indicator, default: None }, "s-op", true);
        // Before `length` exists the average is named by what it computes.
        assert_eq!(readable_name(&graph, mean), "mean(indicator(indices == 0))");
        let inverse = with_constant(&mut graph, mean, ArithOp::Div, 1, true, "( 1 / s-op )");
        let length = graph.add(NodeKind::Map { op: MapOp::Round, inputs: vec![inverse] }, "round", false);
        graph.rename(length, "length");
        let names = ReadableNames::new(&graph);
        assert_eq!(names.name(mean), "1/length");
        assert_eq!(names.name(inverse), "1 / (1/length)");
        // The formula of `length` from its shown operand.
        assert_eq!(names.formula(length, &[(mean, "x".to_string())]), "round(1 / x)");
        // A numbered library local is no name for a reader.
        graph.rename_library_local(mean, "valat0");
        assert_eq!(readable_name(&graph, mean), "1/length");
        graph.rename_library_local(mean, "share");
        assert_eq!(readable_name(&graph, mean), "share");
    }
}
