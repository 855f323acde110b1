//! Which evaluation engine runs a session's nodes.
//!
//! Both engines give the same values, types and errors (rasp-core's
//! property tests hold the structured engine to the plain one, its oracle).
//! Measured with `rasp bench` (release build), the structured engine with
//! its memo is faster at every length and on every program shape benched,
//! from 1 position up (sort at n = 16: 11 µs against 23 µs; at n = 300:
//! 0.1 ms against 1.6 ms), so a session uses it for every input; the plain
//! engine runs only when asked for ([`Session::set_plain_engine`]), to
//! hold the REPL's output to the oracle in tests and to time it in
//! benchmarks.
//!
//! [`Session::set_plain_engine`]: crate::Session::set_plain_engine

use rasp_core::{AttentionMask, EvalResult, Evaluator, FastEvaluator, Graph, NodeId, NodeValue, Value};

/// The engines of a session, and which one runs.
pub(crate) struct Engines {
    fast: FastEvaluator,
    plain: Evaluator,
    use_plain: bool,
}

impl Engines {
    pub(crate) fn new() -> Engines {
        Engines { fast: FastEvaluator::new(), plain: Evaluator::new(), use_plain: false }
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
