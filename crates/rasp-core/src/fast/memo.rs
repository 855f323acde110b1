//! The fast engine behind the plain evaluator's interface: one root at a
//! time, results memoised per input, so that a session asking for one new
//! node after another (the REPL checks every new s-op on the running
//! example) evaluates only what is new.
//!
//! Each call plans the root's ancestors that are not memoised yet (the
//! memoised ones are handed to the engine as given values) and memoises
//! what it computed. Memory stays bounded: results are kept only for
//! inputs short enough, and only while the memo holds fewer than
//! `MEMO_ATOMS` atoms in all.

use super::BatchStrategy;
use super::engine::Engine;
use super::plan::Plan;
use crate::error::{EvalError, EvalResult};
use crate::eval::{MAX_INPUT_LEN, NodeValue, input_too_long, same_input};
use crate::graph::{Graph, NodeId};
use crate::mask::AttentionMask;
use crate::sequence::Sequence;
use crate::value::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// How many distinct inputs keep their results (as the plain evaluator).
const CACHED_INPUTS: usize = 4;

/// The memo holds at most this many atoms over all inputs (24 bytes each:
/// about 100 MB).
const MEMO_ATOMS: usize = 1 << 22;

/// Inputs longer than this memoise their root's value only, and are
/// evaluated on an engine of their own that is dropped afterwards, so that
/// the memory a million positions take is given back after the call.
const MEMO_MAX_LEN: usize = MEMO_ATOMS / 16;

/// How many whole plans are kept (one per root applied to fresh inputs).
const KEPT_PLANS: usize = 64;

struct InputCache {
    input: Vec<Value>,
    results: HashMap<NodeId, Rc<Sequence>>,
}

/// Evaluates nodes of a graph with the fast engine, memoising results per
/// input: the same results as [`Evaluator`](crate::Evaluator) (the oracle;
/// property tests hold the two equal), without its n × n selector matrices.
///
/// As with `Evaluator`, one instance must be used with one graph (nodes may
/// be added between calls; existing nodes never change).
///
/// ```
/// use rasp_core::{FastEvaluator, Graph, NodeKind, Predicate, TokenConversion, Value};
///
/// let mut g = Graph::new();
/// let tokens = g.add(NodeKind::Tokens(TokenConversion::Str), "tokens", true);
/// let indices = g.add(NodeKind::Indices, "indices", true);
/// let same = g.add(NodeKind::Select { key: tokens, query: tokens, predicate: Predicate::Eq }, "same", true);
/// let mean = g.add(NodeKind::Aggregate { selector: same, values: indices, default: None }, "mean", true);
/// let input: Vec<Value> = ["a", "b", "a"].iter().map(|s| Value::str(s)).collect();
/// let mut fast = FastEvaluator::new();
/// let seq = fast.evaluate(&g, mean, &input).unwrap().as_seq().unwrap().clone();
/// assert_eq!(seq.values.len(), 3);
/// ```
pub struct FastEvaluator {
    caches: Vec<InputCache>,
    /// Atoms held by `caches`.
    atoms: usize,
    engine: Engine,
    mask: AttentionMask,
    /// Plans of whole ancestries by root.
    full_plans: HashMap<NodeId, Rc<Plan>>,
}

impl Default for FastEvaluator {
    fn default() -> FastEvaluator {
        FastEvaluator::with_mask(AttentionMask::Bidirectional)
    }
}

impl FastEvaluator {
    /// An evaluator with nothing memoised.
    pub fn new() -> FastEvaluator {
        FastEvaluator::default()
    }

    /// An evaluator whose selectors are masked by `mask` (semantics.md §6).
    pub fn with_mask(mask: AttentionMask) -> FastEvaluator {
        let mut engine = Engine::new(BatchStrategy::Auto, mask);
        engine.keep_all(true);
        FastEvaluator { caches: Vec::new(), atoms: 0, engine, mask, full_plans: HashMap::new() }
    }

    /// The attention mask selectors are evaluated under.
    pub fn mask(&self) -> AttentionMask {
        self.mask
    }

    /// Changes the mask; memoised results computed under another mask are
    /// dropped.
    pub fn set_mask(&mut self, mask: AttentionMask) {
        if mask != self.mask {
            *self = FastEvaluator::with_mask(mask);
        }
    }

    /// Evaluates `root` on `input`: exactly what
    /// [`Evaluator::evaluate`](crate::Evaluator::evaluate) returns (the
    /// same value and type, or the same error), except that selectors are
    /// refused only when one is asked for itself past
    /// [`MAX_MATRIX_LEN`](crate::MAX_MATRIX_LEN) positions (an aggregate
    /// reads its selector without building it).
    pub fn evaluate(&mut self, graph: &Graph, root: NodeId, input: &[Value]) -> EvalResult<NodeValue> {
        if input.len() > MAX_INPUT_LEN {
            return Err(input_too_long(input.len(), MAX_INPUT_LEN));
        }
        let slot = self.slot_for(input);
        let cache = &self.caches[slot];
        if let Some(seq) = cache.results.get(&root) {
            return Ok(NodeValue::Seq(seq.clone()));
        }
        let n = input.len();
        let long = n > MEMO_MAX_LEN;
        // A fresh input plans the root's whole ancestry, the same plan every
        // time (nodes never change): it is kept, which spares short inputs
        // most of their cost.
        let plan = if cache.results.is_empty() {
            if self.full_plans.len() >= KEPT_PLANS && !self.full_plans.contains_key(&root) {
                self.full_plans.clear();
            }
            self.full_plans.entry(root).or_insert_with(|| Rc::new(Plan::new(graph, &[root]))).clone()
        } else {
            Rc::new(Plan::with_known(graph, &[root], |id| cache.results.contains_key(&id)))
        };
        let given = |id: NodeId| cache.results.get(&id).cloned();
        let result = if long {
            // An engine of its own, dropping values after their last
            // reader, and dropped itself afterwards.
            let mut engine = Engine::new(BatchStrategy::Auto, self.mask);
            engine.run_given(graph, &plan, &cache.input, &given).pop()
        } else {
            self.engine.run_given(graph, &plan, &cache.input, &given).pop()
        };
        let result = result.unwrap_or_else(|| Err(EvalError::internal("no result")));
        // A long input keeps only the root's value: the REPL asks for an
        // applied s-op twice (its eager check, then the application).
        let computed: Vec<(NodeId, Rc<Sequence>)> = match (&result, long) {
            (Ok(NodeValue::Seq(seq)), true) => vec![(root, seq.clone())],
            (_, true) => Vec::new(),
            (_, false) => self.engine.computed(&plan).map(|(id, seq)| (id, seq.clone())).collect(),
        };
        for (id, seq) in computed {
            // Over budget, older inputs go first: the current one (last) is
            // the one a session keeps asking about. A long input's root is
            // kept even past the budget (it is no bigger than the input).
            while self.atoms.saturating_add(n) > MEMO_ATOMS && self.caches.len() > 1 {
                let oldest = self.caches.remove(0);
                self.atoms -= oldest.results.len() * oldest.input.len();
            }
            if !long && self.atoms.saturating_add(n) > MEMO_ATOMS {
                break;
            }
            self.atoms += n;
            if let Some(current) = self.caches.last_mut() {
                current.results.insert(id, seq);
            }
        }
        result
    }

    fn slot_for(&mut self, input: &[Value]) -> usize {
        let found = self.caches.iter().position(|c| same_input(&c.input, input));
        let cache = match found {
            Some(i) => self.caches.remove(i),
            None => {
                if self.caches.len() >= CACHED_INPUTS {
                    let oldest = self.caches.remove(0);
                    self.atoms -= oldest.results.len() * oldest.input.len();
                }
                InputCache { input: input.to_vec(), results: HashMap::new() }
            }
        };
        // Most recently used goes last, so eviction drops the oldest.
        self.caches.push(cache);
        self.caches.len() - 1
    }
}
