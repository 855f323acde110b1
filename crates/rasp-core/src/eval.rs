//! Evaluation of graph nodes on an input: the plain engine, exact to the
//! reference's semantics (semantics.md §2.4–§2.7). Results are memoised per input.

use crate::atom::Atom;
use crate::error::{EvalError, EvalResult};
use crate::graph::{Graph, MapOp, NodeId, NodeKind, Predicate, TokenConversion};
use crate::mask::AttentionMask;
use crate::pyfmt;
use crate::pyops::{self, ArithOp, CmpOp};
use crate::sequence::{SelectorMatrix, SeqType, Sequence, Shown, set_bits};
use crate::value::{Value, value_arith, value_compare};
use std::collections::HashMap;
use std::rc::Rc;

/// The value of a node on one input. Shared behind `Rc` because the
/// evaluator keeps it in its memo too.
#[derive(Debug, Clone)]
pub enum NodeValue {
    /// An s-op's value.
    Seq(Rc<Sequence>),
    /// A selector's value.
    Sel(Rc<SelectorMatrix>),
}

impl NodeValue {
    /// The sequence, if this is an s-op's value.
    pub fn as_seq(&self) -> Option<&Rc<Sequence>> {
        match self {
            NodeValue::Seq(s) => Some(s),
            NodeValue::Sel(_) => None,
        }
    }
    /// The matrix, if this is a selector's value.
    pub fn as_sel(&self) -> Option<&Rc<SelectorMatrix>> {
        match self {
            NodeValue::Sel(s) => Some(s),
            NodeValue::Seq(_) => None,
        }
    }
}

/// How many distinct inputs keep their results. The REPL alternates between
/// the running example and application inputs; a few slots cover that.
const CACHED_INPUTS: usize = 4;

/// Largest input the structured engine ([`FastEvaluator`](crate::FastEvaluator),
/// [`BatchEvaluator`](crate::BatchEvaluator)), and so the REPL and the API,
/// accepts. Its memory grows linearly (about 0.5 KB a position for sort;
/// `rasp bench` measures it), so this bounds it at a few GB.
pub const MAX_INPUT_LEN: usize = 10_000_000;

/// Largest input the plain evaluator accepts: it keeps the value of every
/// node for its last four inputs, and it is the oracle for inputs a test
/// can afford, not an engine for long ones.
pub const MAX_PLAIN_INPUT_LEN: usize = 100_000;

/// Largest input a selector matrix is built for: n × n bits, 50 MB at this size.
pub const MAX_MATRIX_LEN: usize = 20_000;

/// `Ok` when an input of `n` elements is within [`MAX_INPUT_LEN`], else
/// the error the structured engine gives for it: for front ends that can
/// count an input's elements before building them.
pub fn check_input_len(n: usize) -> EvalResult<()> {
    if n > MAX_INPUT_LEN { Err(input_too_long(n, MAX_INPUT_LEN)) } else { Ok(()) }
}

/// The refusal of an input over `limit` elements.
pub(crate) fn input_too_long(n: usize, limit: usize) -> EvalError {
    EvalError::rasp(format!("input too long: {n} elements (the limit is {limit})"))
}

struct InputCache {
    input: Vec<Value>,
    results: HashMap<NodeId, NodeValue>,
}

/// Evaluates nodes of a graph, memoising results per input: the plain
/// engine, and the oracle the fast one is tested against.
///
/// Results of the last four distinct inputs are kept, keyed by node id, so
/// one evaluator must be used with one graph (nodes may be added between
/// calls; existing nodes never change).
///
/// Selectors are evaluated under an [`AttentionMask`] (bidirectional, the
/// reference's semantics, unless [`Evaluator::with_mask`] says otherwise).
#[derive(Default)]
pub struct Evaluator {
    caches: Vec<InputCache>,
    mask: AttentionMask,
}

impl Evaluator {
    /// An evaluator with nothing memoised.
    pub fn new() -> Evaluator {
        Evaluator::default()
    }

    /// An evaluator whose selectors are masked by `mask` (semantics.md §6).
    pub fn with_mask(mask: AttentionMask) -> Evaluator {
        Evaluator { caches: Vec::new(), mask }
    }

    /// The attention mask selectors are evaluated under.
    pub fn mask(&self) -> AttentionMask {
        self.mask
    }

    /// Changes the mask; memoised results computed under another mask are
    /// dropped.
    pub fn set_mask(&mut self, mask: AttentionMask) {
        if mask != self.mask {
            self.caches.clear();
            self.mask = mask;
        }
    }

    /// Evaluates `root` on `input` (the elements of a non-empty iterable):
    /// the value, or the error the reference raises for this node or the
    /// first failing ancestor. Inputs over 100,000 elements are refused
    /// ([`MAX_PLAIN_INPUT_LEN`]),
    /// and selectors over 20,000 positions (their n × n matrices are built).
    pub fn evaluate(&mut self, graph: &Graph, root: NodeId, input: &[Value]) -> EvalResult<NodeValue> {
        if input.len() > MAX_PLAIN_INPUT_LEN {
            return Err(input_too_long(input.len(), MAX_PLAIN_INPUT_LEN));
        }
        let slot = self.slot_for(input);
        let cache = &mut self.caches[slot];
        if let Some(v) = cache.results.get(&root) {
            return Ok(v.clone());
        }
        // Only what is not memoised yet: the REPL checks every new node on
        // the example as it is made, and a program built one step at a time
        // (a loop of 100,000 `x = x + 1`) must not revisit the whole chain.
        let pending = graph.ancestors_where(root, |id| !cache.results.contains_key(&id));
        for id in pending {
            let value = evaluate_node(graph, id, &cache.input, &cache.results, self.mask)?;
            cache.results.insert(id, value);
        }
        cache.results.get(&root).cloned().ok_or_else(|| EvalError::internal("node not evaluated"))
    }

    fn slot_for(&mut self, input: &[Value]) -> usize {
        let found = self.caches.iter().position(|c| same_input(&c.input, input));
        let index = match found {
            Some(i) => i,
            None => {
                if self.caches.len() >= CACHED_INPUTS {
                    self.caches.remove(0);
                }
                self.caches.push(InputCache { input: input.to_vec(), results: HashMap::new() });
                self.caches.len() - 1
            }
        };
        // Most recently used goes last, so eviction drops the oldest.
        let cache = self.caches.remove(index);
        self.caches.push(cache);
        self.caches.len() - 1
    }
}

/// Inputs are the same when elementwise identical in type and value (not
/// mere Python equality: `[1]` and `[True]` give different tokens).
pub(crate) fn same_input(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| identical(x, y))
}

fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Atom(x), Value::Atom(y)) => match (x, y) {
            (Atom::Float(p), Atom::Float(q)) => p.to_bits() == q.to_bits(),
            _ => {
                x.type_name() == y.type_name()
                    && matches!(x, Atom::Bool(_)) == matches!(y, Atom::Bool(_))
                    && pyops::py_eq(x, y)
            }
        },
        (Value::List(x), Value::List(y)) => same_input(x, y),
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter().zip(y.iter()).all(|((k1, v1), (k2, v2))| {
                    identical(&Value::Atom(k1.clone()), &Value::Atom(k2.clone())) && identical(v1, v2)
                })
        }
        (Value::Sop(x), Value::Sop(y)) | (Value::Selector(x), Value::Selector(y)) => x == y,
        (Value::Function(x), Value::Function(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

fn seq_of(results: &HashMap<NodeId, NodeValue>, id: NodeId) -> EvalResult<&Rc<Sequence>> {
    results.get(&id).and_then(NodeValue::as_seq).ok_or_else(|| EvalError::internal("missing s-op value"))
}

fn sel_of(results: &HashMap<NodeId, NodeValue>, id: NodeId) -> EvalResult<&Rc<SelectorMatrix>> {
    results.get(&id).and_then(NodeValue::as_sel).ok_or_else(|| EvalError::internal("missing selector value"))
}

fn evaluate_node(
    graph: &Graph,
    id: NodeId,
    input: &[Value],
    results: &HashMap<NodeId, NodeValue>,
    mask: AttentionMask,
) -> EvalResult<NodeValue> {
    let n = input.len();
    if n > MAX_MATRIX_LEN && graph.is_selector(id) {
        return Err(EvalError::rasp(format!(
            "input too long for a selector: {n} positions (selectors are n × n matrices here, at most {MAX_MATRIX_LEN} positions)"
        )));
    }
    let seq =
        |values: Vec<Value>| Sequence::from_values(values, Shown::Tuple, graph).map(|s| NodeValue::Seq(Rc::new(s)));
    match graph.kind(id) {
        NodeKind::Tokens(conversion) => {
            let values = input.iter().map(|v| convert_token(*conversion, v, graph)).collect::<EvalResult<Vec<_>>>()?;
            Ok(NodeValue::Seq(Rc::new(Sequence::from_values(values, Shown::List, graph)?)))
        }
        NodeKind::Indices => {
            let values = (0..n).map(|i| Atom::Int(i as i64)).collect();
            Ok(NodeValue::Seq(Rc::new(Sequence { values, seq_type: SeqType::Int })))
        }
        NodeKind::Constant(v) => seq(vec![v.clone(); n]),
        NodeKind::Map { op, inputs } => {
            let columns = inputs.iter().map(|&p| seq_of(results, p)).collect::<EvalResult<Vec<_>>>()?;
            let mut values = Vec::with_capacity(n);
            let mut args: Vec<&Atom> = Vec::with_capacity(columns.len());
            for i in 0..n {
                args.clear();
                args.extend(columns.iter().map(|c| &c.values[i]));
                values.push(apply_map(op, &args, inputs, graph)?);
            }
            seq(values)
        }
        // Every selector's value is masked, composites included: masking
        // commutes with and/or/not once each result is masked again (a
        // `not` sets hidden cells, which the mask clears), so the value an
        // aggregate reads is `mask ∧ selector` (semantics.md §6).
        NodeKind::Select { key, query, predicate } => {
            let keys = seq_of(results, *key)?;
            let queries = seq_of(results, *query)?;
            masked(select_matrix(&keys.values, &queries.values, *predicate)?, mask)
        }
        NodeKind::SelectAll => masked(SelectorMatrix::full(n), mask),
        NodeKind::SelectAnd(a, b) => masked(sel_of(results, *a)?.zip_with(sel_of(results, *b)?, |x, y| x & y), mask),
        NodeKind::SelectOr(a, b) => masked(sel_of(results, *a)?.zip_with(sel_of(results, *b)?, |x, y| x | y), mask),
        NodeKind::SelectNot(a) => masked(sel_of(results, *a)?.not(), mask),
        NodeKind::Aggregate { selector, values, default } => {
            let matrix = sel_of(results, *selector)?;
            let column = seq_of(results, *values)?;
            seq(aggregate(matrix, column, default.as_ref(), graph)?)
        }
    }
}

fn masked(mut matrix: SelectorMatrix, mask: AttentionMask) -> EvalResult<NodeValue> {
    matrix.apply_mask(mask);
    Ok(NodeValue::Sel(Rc::new(matrix)))
}

/// Python's `str`/`int`/`float`/`bool` of one input element (semantics.md §2.2).
/// Shared with the fast engine (`crate::fast`), so both apply the very same rule.
/// `graph` names the s-ops and selectors an input list may hold (`tokens([tokens])`).
pub(crate) fn convert_token(conversion: TokenConversion, v: &Value, graph: &Graph) -> EvalResult<Value> {
    match (conversion, v) {
        (TokenConversion::AsIs, _) => Ok(v.clone()),
        (TokenConversion::Bool, _) => Ok(Value::bool(v.truthy())),
        (TokenConversion::Str, Value::Atom(a)) => Ok(Value::str(&pyfmt::py_str(a))),
        (TokenConversion::Str, _) => Ok(Value::str(&v.py_str(graph))),
        (TokenConversion::Int, Value::Atom(a)) => pyops::to_int(a).map(Value::Atom),
        (TokenConversion::Int, _) => Err(EvalError::python(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            v.type_name()
        ))),
        (TokenConversion::Float, Value::Atom(a)) => pyops::to_float(a).map(Value::Atom),
        (TokenConversion::Float, _) => Err(EvalError::python(format!(
            "float() argument must be a string or a real number, not '{}'",
            v.type_name()
        ))),
    }
}

/// One position of a map node: `args` are the inputs' atoms at that
/// position. Shared with the fast engine (`crate::fast`), so both apply the very same rule.
pub(crate) fn apply_map(op: &MapOp, args: &[&Atom], inputs: &[NodeId], graph: &Graph) -> EvalResult<Value> {
    let arg = |i: usize| -> EvalResult<&Atom> {
        args.get(i).copied().ok_or_else(|| EvalError::internal("missing map argument"))
    };
    Ok(match op {
        MapOp::Neg => Value::Atom(pyops::neg(arg(0)?)?),
        MapOp::Pos => Value::Atom(pyops::pos(arg(0)?)?),
        MapOp::Round => Value::Atom(pyops::round(arg(0)?)?),
        MapOp::Not => Value::bool(!pyops::truthy(arg(0)?)),
        MapOp::Indicator => Value::int(i64::from(pyops::truthy(arg(0)?))),
        MapOp::Arith(o) => Value::Atom(pyops::arith(*o, arg(0)?, arg(1)?)?),
        MapOp::Compare(o) => Value::bool(pyops::compare(*o, arg(0)?, arg(1)?)?),
        MapOp::ArithConst { op, constant, constant_on_left } => {
            let x = Value::Atom(arg(0)?.clone());
            if *constant_on_left { value_arith(*op, constant, &x)? } else { value_arith(*op, &x, constant)? }
        }
        MapOp::CompareConst { op, constant, constant_on_left } => {
            let x = Value::Atom(arg(0)?.clone());
            Value::bool(if *constant_on_left {
                value_compare(*op, constant, &x)?
            } else {
                value_compare(*op, &x, constant)?
            })
        }
        MapOp::And => Value::bool(pyops::truthy(arg(0)?) && pyops::truthy(arg(1)?)),
        MapOp::Or => Value::bool(pyops::truthy(arg(0)?) || pyops::truthy(arg(1)?)),
        MapOp::Ternary => {
            if pyops::truthy(arg(0)?) {
                Value::Atom(arg(1)?.clone())
            } else {
                Value::Atom(arg(2)?.clone())
            }
        }
        MapOp::InList(items) => {
            let x = arg(0)?;
            Value::bool(items.iter().any(|v| pyops::py_eq(x, v)))
        }
        MapOp::Lookup(table) => lookup(table, arg(0)?, inputs[0], graph)?,
    })
}

/// `table[i]` for one position of an s-op index (semantics.md §2.8). `index_name`
/// names the index s-op: the reference's range error (a quirk) shows the
/// whole index s-op, not the element.
fn lookup(table: &Value, i: &Atom, index: NodeId, graph: &Graph) -> EvalResult<Value> {
    let (len, kind) = match table {
        Value::Dict(d) => {
            return d
                .get(i)
                .cloned()
                .ok_or_else(|| EvalError::rasp(format!("index [ {} ] not in dict.", pyfmt::strdesc_atom(i))));
        }
        Value::List(l) => (l.len(), "list"),
        Value::Atom(Atom::Str(s)) => (s.chars().count(), "string"),
        _ => return Err(EvalError::internal("lookup table is not a list, string or dict")),
    };
    // The reference checks the range itself before Python indexes.
    let len_atom = Atom::Int(len as i64);
    let too_big = pyops::compare(CmpOp::Ge, i, &len_atom)?;
    let too_small = pyops::compare(CmpOp::Gt, &pyops::neg(i)?, &len_atom)?;
    if too_big || too_small {
        return Err(EvalError::rasp(format!(
            "index UnfinishedSequence object, name: {} id: {} out of range for {} of length {}",
            graph.name(index),
            index.0,
            kind,
            len
        )));
    }
    let position = match i {
        Atom::Bool(b) => i64::from(*b),
        Atom::Int(v) => *v,
        other => {
            return Err(EvalError::python(match table {
                Value::List(_) => format!("list indices must be integers or slices, not {}", other.type_name()),
                _ => format!("string indices must be integers, not '{}'", other.type_name()),
            }));
        }
    };
    let position = if position < 0 { position + len as i64 } else { position } as usize;
    Ok(match table {
        Value::List(l) => l[position].clone(),
        Value::Atom(Atom::Str(s)) => Value::str(&s.chars().nth(position).map(String::from).unwrap_or_default()),
        _ => return Err(EvalError::internal("lookup table is not a list or string (checked above)")),
    })
}

/// `M[q][k] = key[k] OP query[q]`, computed as the reference does it:
/// `query OP' key` row by row, so the first Python type error matches.
pub(crate) fn select_matrix(keys: &[Atom], queries: &[Atom], predicate: Predicate) -> EvalResult<SelectorMatrix> {
    let n = queries.len();
    let mut m = SelectorMatrix::empty(n);
    let op = predicate.mirrored_on_query();
    // Fast path: machine ints on both sides (the common case: indices).
    let small = |col: &[Atom]| -> Option<Vec<i64>> {
        col.iter()
            .map(|a| match a {
                Atom::Int(v) => Some(*v),
                Atom::Bool(b) => Some(i64::from(*b)),
                _ => None,
            })
            .collect()
    };
    if let (Some(ks), Some(qs)) = (small(keys), small(queries)) {
        for (q, &qv) in qs.iter().enumerate() {
            for (k, &kv) in ks.iter().enumerate() {
                let hit = match op {
                    CmpOp::Eq => qv == kv,
                    CmpOp::Ne => qv != kv,
                    CmpOp::Lt => qv < kv,
                    CmpOp::Le => qv <= kv,
                    CmpOp::Gt => qv > kv,
                    CmpOp::Ge => qv >= kv,
                };
                if hit {
                    m.set(q, k);
                }
            }
        }
        return Ok(m);
    }
    for (q, qv) in queries.iter().enumerate() {
        for (k, kv) in keys.iter().enumerate() {
            if pyops::compare(op, qv, kv)? {
                m.set(q, k);
            }
        }
    }
    Ok(m)
}

/// The reference's aggregate (semantics.md §2.6): no selection → default (int 0
/// without one); one → the value itself; several → the float mean if the
/// whole column is numeric, else Python's exception.
pub(crate) fn aggregate(
    matrix: &SelectorMatrix,
    column: &Sequence,
    default: Option<&Value>,
    graph: &Graph,
) -> EvalResult<Vec<Value>> {
    let n = matrix.len();
    let default = default.cloned().unwrap_or(Value::int(0));
    let mut out = Vec::with_capacity(n);
    for q in 0..n {
        let count = matrix.count(q);
        match count {
            0 => out.push(default.clone()),
            1 => {
                let k = matrix.selected(q).next().unwrap_or(0);
                out.push(Value::Atom(column.values[k].clone()));
            }
            _ => {
                if !column.seq_type.is_numeric() {
                    let shown: Vec<Value> = column.values.iter().cloned().map(Value::Atom).collect();
                    return Err(EvalError::python(format!(
                        "asked to average multiple values, but they are non-numbers: {}",
                        Value::list(shown).py_repr(graph)
                    )));
                }
                out.push(Value::Atom(Atom::Float(mean(matrix.row(q), column, count)?)));
            }
        }
    }
    Ok(out)
}

/// `sum(selected) * 1.0 / count` for the keys set in a selector row, with
/// Python's left-to-right sum (the plain and the fast engine both use it).
pub(crate) fn mean(row: &[u64], column: &Sequence, count: usize) -> EvalResult<f64> {
    if column.seq_type == SeqType::Int {
        // Exact integer sum; i128 cannot overflow for any input we accept.
        let mut total: i128 = 0;
        let mut exact = true;
        for k in set_bits(row) {
            match &column.values[k] {
                Atom::Int(v) => total += i128::from(*v),
                Atom::Bool(b) => total += i128::from(*b),
                _ => exact = false,
            }
        }
        if exact {
            return Ok(total as f64 / count as f64);
        }
    }
    let mut total = Atom::Int(0);
    for k in set_bits(row) {
        total = pyops::arith(ArithOp::Add, &total, &column.values[k])?;
    }
    let total = pyops::to_f64(&total)?;
    Ok(total / count as f64)
}
