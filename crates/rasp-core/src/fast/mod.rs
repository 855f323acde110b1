//! The fast engine: one graph, planned once, evaluated on many inputs and
//! on long inputs, with results bit-identical to the plain evaluator
//! (`crate::eval`, the oracle).
//!
//! * **Planned once.** [`BatchEvaluator::new`] collects the ancestors of
//!   the roots in id order and expands every selector an aggregate reads
//!   into a signed sum of conjunctions of comparisons (`plan.rs`). Buffers
//!   are reused from one input to the next, and what depends on the
//!   input's length alone (indices, constants, `select(indices, indices,
//!   <)`, `length`) is computed once per length, not once per input.
//! * **Short inputs.** Up to 64 positions a selector is a word per query:
//!   int and short-str comparisons rank both columns and take each row
//!   from prefix masks by value (`rows.rs`); an aggregate finds a row's
//!   one selected key with a bit scan.
//! * **Structured selectors.** A `select` is never stored as n × n bits.
//!   An aggregate counts the selected keys of every query, finds the one
//!   selected position, and sums integer-valued columns by sorting key
//!   columns and taking prefix sums (one varying key column) or a Fenwick
//!   sweep (two), in O(n log n) (`structured.rs`). This covers the
//!   library's `selector_width` (`sel or select(indices, 0, ==)`, `sel and
//!   ...`), `sort` and the examples.
//! * **Bit rows otherwise.** Short inputs (up to 256 positions), selectors
//!   that do not decompose (three varying key columns, too many terms) and
//!   columns without a total order (NaN, ints beyond i64) go row by row,
//!   64 keys a word: small selectors as whole matrices shared by the
//!   aggregates that read them, large ones one row at a time in O(n / 64)
//!   memory (`rows.rs`).
//! * **Exact.** Tokens, constants and maps apply the plain evaluator's own
//!   per-position functions. Means are computed from integer sums only when
//!   Python's left-to-right float sum provably gives the same bits (int
//!   columns; integral floats whose magnitudes add up to at most 2**53);
//!   otherwise the selected values are summed in key order as Python does.
//!   Errors are the plain evaluator's, per root.
//! * **Memoised, one root at a time.** [`FastEvaluator`] (`memo.rs`) is
//!   this engine behind the plain evaluator's interface, as the REPL and
//!   the facade use it: each call plans only the ancestors not memoised
//!   for its input yet. Values nobody reads any more are dropped during a
//!   run of a long input, so its memory is what is alive at once.
//! * **Batches across cores.** [`BatchEvaluator::eval_batch`] spreads
//!   inputs over rayon's threads. Graph values share data through `Rc`, so
//!   each worker rebuilds its own copy of the planned graph from an owned
//!   blueprint (`owned.rs`); inputs and results cross threads as
//!   [`OwnedValue`]s and [`OwnedNodeValue`]s.
//!
//! One deliberate difference: the plain evaluator refuses selectors past
//! `eval::MAX_MATRIX_LEN` positions (it builds n × n matrices); this engine
//! evaluates s-ops up to `eval::MAX_INPUT_LEN`, and refuses only to return
//! a selector itself past `MAX_MATRIX_LEN`, with the plain error.

mod engine;
mod memo;
mod order;
mod owned;
mod plan;
mod rows;
mod structured;

pub use memo::FastEvaluator;
pub use owned::{OwnedAtom, OwnedNodeValue, OwnedSequence, OwnedValue};

use crate::atom::Atom;
use crate::error::EvalResult;
use crate::eval::NodeValue;
use crate::graph::{Graph, NodeId};
use crate::mask::AttentionMask;
use crate::value::{Value, push_char_values};
use engine::Engine;
use owned::{Blueprint, StrShare};
use plan::Plan;
#[cfg(feature = "parallel")]
use rayon::prelude::*;
use std::cell::OnceCell;

/// How aggregates read their selectors. `Auto` is right for every use;
/// the others exist so tests can hold each path to the oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchStrategy {
    /// Row by row for short inputs, counting for long ones.
    #[default]
    Auto,
    /// Counting wherever the selector decomposes.
    Structured,
    /// Always row by row.
    Rows,
}

/// An input of a batch: the elements of the sequence the program reads.
/// `Sync` because [`BatchEvaluator::eval_batch`] reads inputs from worker
/// threads, which is why `Vec<Value>` is not one (use [`OwnedValue`]s).
pub trait BatchInput: Sync {
    /// The elements, as the evaluator takes them.
    fn to_values(&self) -> Vec<Value>;

    /// The elements appended to `out`: a batch reuses one buffer for its
    /// inputs.
    fn values_into(&self, out: &mut Vec<Value>) {
        out.extend(self.to_values());
    }
}

/// A string is split into one-character tokens, as the REPL does.
impl BatchInput for &str {
    fn to_values(&self) -> Vec<Value> {
        let mut values = Vec::with_capacity(self.len());
        push_char_values(self, &mut values);
        values
    }

    fn values_into(&self, out: &mut Vec<Value>) {
        push_char_values(self, out);
    }
}

impl BatchInput for String {
    fn to_values(&self) -> Vec<Value> {
        self.as_str().to_values()
    }

    fn values_into(&self, out: &mut Vec<Value>) {
        push_char_values(self, out);
    }
}

impl BatchInput for Vec<OwnedValue> {
    fn to_values(&self) -> Vec<Value> {
        self.iter().map(OwnedValue::to_value).collect()
    }
}

impl BatchInput for Vec<OwnedAtom> {
    fn to_values(&self) -> Vec<Value> {
        self.iter().map(|a| Value::Atom(a.to_atom())).collect()
    }
}

/// Evaluates a fixed set of roots of a graph on many inputs.
///
/// ```
/// use rasp_core::{BatchEvaluator, Graph, NodeKind, Predicate, TokenConversion, Value};
///
/// let mut g = Graph::new();
/// let tokens = g.add(NodeKind::Tokens(TokenConversion::Str), "tokens", true);
/// let indices = g.add(NodeKind::Indices, "indices", true);
/// let same = g.add(NodeKind::Select { key: tokens, query: tokens, predicate: Predicate::Eq }, "same", true);
/// let mean = g.add(NodeKind::Aggregate { selector: same, values: indices, default: None }, "mean", true);
/// let mut fast = BatchEvaluator::new(&g, &[mean]);
/// let input: Vec<Value> = ["a", "b", "a"].iter().map(|s| Value::str(s)).collect();
/// let results = fast.eval(&input);
/// let seq = results[0].as_ref().unwrap().as_seq().unwrap().clone();
/// assert_eq!(seq.values.len(), 3);
/// let batch = fast.eval_batch(&["abc", "aab"]);
/// assert_eq!(batch.len(), 2);
/// ```
pub struct BatchEvaluator<'g> {
    graph: &'g Graph,
    plan: Plan,
    /// Built on the first batch: single inputs do not need it.
    blueprint: OnceCell<Blueprint>,
    engine: Engine,
    strategy: BatchStrategy,
    mask: AttentionMask,
}

impl<'g> BatchEvaluator<'g> {
    /// Plans the evaluation of `roots` (s-ops or selectors).
    pub fn new(graph: &'g Graph, roots: &[NodeId]) -> BatchEvaluator<'g> {
        let plan = Plan::new(graph, roots);
        let mut engine = Engine::new(BatchStrategy::Auto, AttentionMask::Bidirectional);
        engine.share_across_inputs(true);
        BatchEvaluator {
            graph,
            plan,
            blueprint: OnceCell::new(),
            engine,
            strategy: BatchStrategy::Auto,
            mask: AttentionMask::Bidirectional,
        }
    }

    /// The same evaluator with another strategy (for tests and benchmarks).
    pub fn with_strategy(mut self, strategy: BatchStrategy) -> BatchEvaluator<'g> {
        self.strategy = strategy;
        self.engine = Engine::new(strategy, self.mask);
        self.engine.share_across_inputs(true);
        self
    }

    /// The same evaluator with selectors masked by `mask` (semantics.md §6);
    /// results equal `Evaluator::with_mask(mask)`'s.
    pub fn with_mask(mut self, mask: AttentionMask) -> BatchEvaluator<'g> {
        self.mask = mask;
        self.engine = Engine::new(self.strategy, mask);
        self.engine.share_across_inputs(true);
        self
    }

    /// The attention mask selectors are evaluated under.
    pub fn mask(&self) -> AttentionMask {
        self.mask
    }

    /// The roots, in the order results are returned.
    pub fn roots(&self) -> &[NodeId] {
        &self.plan.roots
    }

    /// How many threads `eval_batch` spreads inputs over (one without the
    /// `parallel` feature).
    pub fn threads() -> usize {
        #[cfg(feature = "parallel")]
        return rayon::current_num_threads();
        #[cfg(not(feature = "parallel"))]
        return 1;
    }

    /// How many nodes are evaluated per input.
    pub fn planned_nodes(&self) -> usize {
        self.plan.order.len()
    }

    /// Each root's value on `input`, in the order of the roots. A root's
    /// result is exactly what `Evaluator::evaluate(graph, root, input)`
    /// returns: the same value and type, or the same error (one result per
    /// root, so a failing root does not hide the others).
    pub fn eval(&mut self, input: &[Value]) -> Vec<EvalResult<NodeValue>> {
        self.engine.run(self.graph, &self.plan, input)
    }

    /// `eval` on every input, spread over rayon's threads; results in the
    /// order of the inputs.
    pub fn eval_batch<I: BatchInput>(&self, inputs: &[I]) -> Vec<Vec<EvalResult<OwnedNodeValue>>> {
        self.run_chunks(inputs, StrShare::new, |share, _, results| {
            results
                .iter()
                .map(|r| r.as_ref().map(|v| OwnedNodeValue::from_node_value_shared(v, share)).map_err(Clone::clone))
                .collect()
        })
    }

    /// `eval` on every input, handing each input and its results to `f` on
    /// the worker thread (so a check or a summary need not copy values out).
    pub fn eval_batch_with<I, R, F>(&self, inputs: &[I], f: F) -> Vec<R>
    where
        I: BatchInput,
        R: Send,
        F: Fn(&I, &[EvalResult<NodeValue>]) -> R + Sync,
    {
        self.run_chunks(inputs, || (), |_, input, results| f(input, results))
    }

    /// The inputs in chunks over rayon's threads; each chunk has its own
    /// graph, engine, input buffer and a state made by `init` for `f`.
    fn run_chunks<I, S, R, F>(&self, inputs: &[I], init: impl Fn() -> S + Sync, f: F) -> Vec<R>
    where
        I: BatchInput,
        R: Send,
        F: Fn(&mut S, &I, &[EvalResult<NodeValue>]) -> R + Sync,
    {
        let threads = Self::threads().max(1);
        // A few chunks per thread balance the load; each chunk rebuilds the
        // graph once.
        let chunk = inputs.len().div_ceil(threads * 4).max(1);
        let blueprint = self.blueprint.get_or_init(|| Blueprint::new(self.graph, &self.plan.order));
        let (plan, strategy, mask) = (&self.plan, self.strategy, self.mask);
        #[cfg(feature = "parallel")]
        let parts = inputs.par_chunks(chunk);
        // Without threads (e.g. in the browser) the chunks run in turn.
        #[cfg(not(feature = "parallel"))]
        let parts = inputs.chunks(chunk);
        let chunks: Vec<Vec<R>> = parts
            .map(|part| {
                let graph = blueprint.to_graph();
                let mut engine = Engine::new(strategy, mask);
                engine.share_across_inputs(true);
                let mut state = init();
                let mut values = Vec::new();
                part.iter()
                    .map(|input| {
                        values.clear();
                        input.values_into(&mut values);
                        let results = engine.run(&graph, plan, &values);
                        f(&mut state, input, &results)
                    })
                    .collect()
            })
            .collect();
        chunks.into_iter().flatten().collect()
    }
}

/// Whether two values are the same: the same type label and the same atoms
/// (same Python type, floats by their bits), or the same selector bits.
pub(crate) fn same_node_value(a: &NodeValue, b: &NodeValue) -> bool {
    match (a, b) {
        (NodeValue::Seq(x), NodeValue::Seq(y)) => {
            x.seq_type == y.seq_type
                && x.values.len() == y.values.len()
                && x.values.iter().zip(&y.values).all(|(p, q)| same_atom(p, q))
        }
        (NodeValue::Sel(x), NodeValue::Sel(y)) => x == y,
        _ => false,
    }
}

/// Same Python type and value; floats compared by their bits.
pub(crate) fn same_atom(a: &Atom, b: &Atom) -> bool {
    match (a, b) {
        (Atom::Bool(x), Atom::Bool(y)) => x == y,
        (Atom::Int(x), Atom::Int(y)) => x == y,
        (Atom::BigInt(x), Atom::BigInt(y)) => x == y,
        (Atom::Float(x), Atom::Float(y)) => x.to_bits() == y.to_bits(),
        (Atom::Str(x), Atom::Str(y)) => x == y,
        _ => false,
    }
}

/// Whether two results agree: the same value, or the same error (kind and
/// message). Values are the same when they have the same type label and the
/// same atoms (the same Python type; floats by their bits, so `0.0` differs
/// from `-0.0` and a NaN equals a NaN of the same bits), or the same
/// selector bits. This is how
/// the fast engine is held to the plain one.
pub fn same_result(a: &EvalResult<NodeValue>, b: &EvalResult<NodeValue>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => same_node_value(x, y),
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}
