//! The look-ahead check of decoder mode (semantics.md §6): does a program
//! compute the same output under an attention mask as without one, on
//! every input up to a maximum length? A program that reads later
//! positions (`reverse`, anything using `length`) does not, and a decoder
//! compiled from it computes the masked output, not the one its author
//! wrote. tracr compiles such programs silently; rasp says so.

use crate::verify::{Rng, word_to_check};
use rasp_core::{AttentionMask, BatchEvaluator, EvalResult, Evaluator, Graph, NodeId, NodeKind, NodeValue, Value};

/// How many inputs the check runs.
#[derive(Debug, Clone)]
pub struct LookaheadOptions {
    /// Every input is checked while there are at most this many.
    pub exhaustive_limit: usize,
    /// Otherwise this many random words of each length.
    pub sample_per_length: usize,
    /// Seed of that sample.
    pub seed: u64,
}

impl Default for LookaheadOptions {
    fn default() -> LookaheadOptions {
        LookaheadOptions { exhaustive_limit: 200_000, sample_per_length: 5_000, seed: 0x5EED }
    }
}

/// An input on which the masked and the bidirectional outputs differ.
#[derive(Debug, Clone, PartialEq)]
pub struct LookaheadDifference {
    /// The word (BOS not included).
    pub input: Vec<String>,
    /// The output without a mask, as the REPL prints it (or the error).
    pub bidirectional: String,
    /// The output under the mask (or the error).
    pub masked: String,
    /// Every `select` node (ascending id, so in the order the program made
    /// them) whose selection on this input, without the mask, includes a
    /// key the mask hides: the selects that read ahead.
    pub selects: Vec<NodeId>,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq)]
pub struct LookaheadReport {
    /// The mask checked against the bidirectional semantics.
    pub mask: AttentionMask,
    /// Words run (each under both semantics).
    pub inputs_checked: usize,
    /// Whether those were every word up to the maximum length.
    pub exhaustive: bool,
    /// Words per length when sampled (0 when exhaustive).
    pub sample_per_length: usize,
    /// The first input where the outputs differ; `None`: they agree on
    /// every checked input.
    pub difference: Option<LookaheadDifference>,
}

fn shown(result: &EvalResult<NodeValue>) -> String {
    match result {
        Ok(NodeValue::Seq(s)) => sequence_text(s),
        Ok(NodeValue::Sel(_)) => "a selector".to_string(),
        Err(e) => format!("error: {}", e.message),
    }
}

/// `[a, b, c]`, each value as the REPL prints sequence elements.
fn sequence_text(seq: &rasp_core::Sequence) -> String {
    let items: Vec<String> = seq.values.iter().map(rasp_core::pyfmt::small_str).collect();
    format!("[{}]", items.join(", "))
}

/// Checks `root` of `graph` on words over `vocab` of 1 to `max_len` tokens
/// (each preceded by `bos` when given): the output under `mask` against the
/// output without one. The first differing word, in order of length and
/// then of the vocabulary, is reported with the selects that read ahead on
/// it.
pub fn check_lookahead(
    graph: &Graph,
    root: NodeId,
    vocab: &[String],
    bos: Option<&str>,
    max_len: usize,
    mask: AttentionMask,
    opts: &LookaheadOptions,
) -> LookaheadReport {
    let v = vocab.len();
    let total: f64 = (1..=max_len).map(|n| (v as f64).powi(n as i32)).sum();
    let exhaustive = total <= opts.exhaustive_limit as f64;
    let mut report = LookaheadReport {
        mask,
        inputs_checked: 0,
        exhaustive,
        sample_per_length: if exhaustive { 0 } else { opts.sample_per_length },
        difference: None,
    };
    if mask.is_bidirectional() || v == 0 {
        return report;
    }
    let mut plain = BatchEvaluator::new(graph, &[root]);
    let mut masked = BatchEvaluator::new(graph, &[root]).with_mask(mask);
    let mut rng = Rng(opts.seed);
    for n in 1..=max_len {
        let words = (v as f64).powi(n as i32);
        let all = exhaustive || words <= opts.sample_per_length as f64;
        let count = if all { words as usize } else { opts.sample_per_length };
        for k in 0..count {
            let word = word_to_check(vocab, n, all.then_some(k), &mut rng);
            let mut input: Vec<Value> = Vec::with_capacity(n + 1);
            if let Some(b) = bos {
                input.push(Value::str(b));
            }
            input.extend(word.iter().map(|t| Value::str(t)));
            let want = plain.eval(&input).pop().unwrap_or_else(|| Err(rasp_core::EvalError::internal("no result")));
            let got = masked.eval(&input).pop().unwrap_or_else(|| Err(rasp_core::EvalError::internal("no result")));
            report.inputs_checked += 1;
            if !rasp_core::same_result(&want, &got) {
                report.difference = Some(LookaheadDifference {
                    selects: reading_ahead(graph, root, &input, mask),
                    input: word,
                    bidirectional: shown(&want),
                    masked: shown(&got),
                });
                return report;
            }
        }
    }
    report
}

/// The `select` nodes `root` depends on whose unmasked selection on `input`
/// includes a key `mask` hides, ascending.
fn reading_ahead(graph: &Graph, root: NodeId, input: &[Value], mask: AttentionMask) -> Vec<NodeId> {
    let mut evaluator = Evaluator::new();
    let n = input.len();
    graph
        .ancestors(root)
        .into_iter()
        .filter(|&id| matches!(graph.kind(id), NodeKind::Select { .. } | NodeKind::SelectAll))
        .filter(|&id| match evaluator.evaluate(graph, id, input) {
            Ok(NodeValue::Sel(m)) => (0..n).any(|q| m.selected(q).any(|k| !mask.allows(q, k))),
            _ => false,
        })
        .collect()
}
