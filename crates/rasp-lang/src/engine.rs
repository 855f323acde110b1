//! Which evaluation engine runs a session's nodes.
//!
//! Both engines give the same values, types and errors (rasp-core's
//! property tests hold the structured engine to the plain one, its oracle,
//! and the conformance transcripts run on both). The choice was measured
//! with `rasp bench --tables repl,evaluators` (release build): applying
//! `sort` and `hist` at the REPL, the structured engine (memoised, whole
//! plans kept per root) ties with the plain one at 1 to 4 positions (about
//! 12 µs each, where parsing and printing dominate) and is faster from 8
//! positions on (n = 16: 23 against 33 µs; n = 300: 0.2 against 7 ms;
//! evaluation alone is faster from n = 4); past 20,000 positions only the
//! structured engine can run at all. A session therefore uses it for every
//! input, which also keeps one memo instead of two; the plain engine runs
//! only when asked for ([`Session::set_plain_engine`]), to hold the REPL's
//! output to the oracle in tests and to time it in benchmarks.
//!
//! [`Session::set_plain_engine`]: crate::Session::set_plain_engine

use rasp_core::{Atom, AttentionMask, EvalResult, Evaluator, FastEvaluator, Graph, NodeId, NodeValue, Value};
use std::rc::Rc;

/// The engines of a session, and which one runs.
pub(crate) struct Engines {
    fast: FastEvaluator,
    plain: Evaluator,
    use_plain: bool,
    /// The last input value and its elements: an application checks its
    /// s-op on the input, then applies it to the very same value, and a
    /// million positions need not be split into elements twice.
    last_input: Option<(Value, Rc<Vec<Value>>)>,
}

/// The same object (not merely equal): the same string, list or dict.
fn same_object(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Atom(Atom::Str(x)), Value::Atom(Atom::Str(y))) => Rc::ptr_eq(x, y),
        (Value::List(x), Value::List(y)) => Rc::ptr_eq(x, y),
        (Value::Dict(x), Value::Dict(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

impl Engines {
    pub(crate) fn new() -> Engines {
        Engines { fast: FastEvaluator::new(), plain: Evaluator::new(), use_plain: false, last_input: None }
    }

    /// The elements of an input (`Value::iter_elements`), `None` when it
    /// has none (not a string, list or dict).
    pub(crate) fn elements(&mut self, input: &Value) -> Option<Rc<Vec<Value>>> {
        if let Some((last, elements)) = &self.last_input
            && same_object(last, input)
        {
            return Some(elements.clone());
        }
        let elements = Rc::new(input.iter_elements()?);
        self.last_input = Some((input.clone(), elements.clone()));
        Some(elements)
    }

    /// Runs every evaluation on the plain engine (`true`) or the
    /// structured one (`false`, the default).
    pub(crate) fn use_plain(&mut self, plain: bool) {
        self.use_plain = plain;
    }

    pub(crate) fn uses_plain(&self) -> bool {
        self.use_plain
    }

    pub(crate) fn mask(&self) -> AttentionMask {
        self.fast.mask()
    }

    pub(crate) fn set_mask(&mut self, mask: AttentionMask) {
        self.fast.set_mask(mask);
        self.plain.set_mask(mask);
    }

    /// `root` on the elements of a non-empty input.
    pub(crate) fn evaluate(&mut self, graph: &Graph, root: NodeId, input: &[Value]) -> EvalResult<NodeValue> {
        if self.use_plain { self.plain.evaluate(graph, root, input) } else { self.fast.evaluate(graph, root, input) }
    }
}
