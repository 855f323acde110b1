//! Training data: random inputs, labelled by running the program.
//!
//! Inputs are drawn fresh for every step (docs/experiments.md):
//! lengths uniform in `min_len..=max_len`, tokens uniform over the
//! vocabulary, or, for bracket languages, the paper's mix of balanced
//! strings, balanced prefixes with random tails, and random strings (as the
//! paper's training code draws them).
//! With a BOS token it is put in front of every input, as the programs
//! written for BOS expect. The labels are the program's output at every
//! position, as text (`pyfmt::py_str`), and the selector of every program
//! head on the same positions (for attention supervision and comparison).

use crate::TrainError;
use crate::rng::Rng;
use rasp_analyze::{AnalyzeOptions, Schedule, analyze_with, selector_expression};
use rasp_core::{AttentionMask, BatchEvaluator, Graph, NodeId, NodeValue, SelectorMatrix, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// How inputs are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// Every token uniform over the vocabulary.
    #[default]
    Uniform,
    /// The paper's Dyck generator: a third balanced strings, a third a
    /// balanced prefix followed by random tokens, a third random strings.
    /// Bracket pairs are the vocabulary's `()`, `[]`, `{}`, `<>`; other
    /// tokens are neutral.
    Dyck,
}

/// The inputs a model is trained and tested on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// The tokens inputs are made of (one string each).
    pub vocab: Vec<String>,
    /// Shortest input, not counting the BOS token (at least 1).
    pub min_len: usize,
    /// Longest input, not counting the BOS token.
    pub max_len: usize,
    /// A token put in front of every input.
    pub bos: Option<String>,
    /// How input tokens are drawn.
    pub inputs: InputKind,
}

impl TaskSpec {
    /// Rejects a spec no model can be trained on: an empty vocabulary or one
    /// listing a token twice, a BOS token that is also in the vocabulary,
    /// lengths outside `1 <= min_len <= max_len`, or Dyck inputs without a
    /// bracket pair.
    pub fn check(&self) -> Result<(), TrainError> {
        if self.vocab.is_empty() {
            return Err(TrainError::Config("the vocabulary is empty".into()));
        }
        let distinct: BTreeSet<&String> = self.vocab.iter().collect();
        if distinct.len() != self.vocab.len() {
            return Err(TrainError::Config("the vocabulary lists a token twice".into()));
        }
        if let Some(b) = &self.bos
            && self.vocab.contains(b)
        {
            return Err(TrainError::Config(format!("the BOS token {b:?} is also in the vocabulary")));
        }
        if self.min_len == 0 || self.min_len > self.max_len {
            return Err(TrainError::Config(format!(
                "lengths must satisfy 1 <= min ({}) <= max ({})",
                self.min_len, self.max_len
            )));
        }
        if self.inputs == InputKind::Dyck && self.bracket_pairs().is_empty() {
            return Err(TrainError::Config(
                "--inputs dyck needs a bracket pair such as ( and ) in the vocabulary".into(),
            ));
        }
        Ok(())
    }

    /// The model's input tokens: padding, then the BOS token if any, then
    /// the vocabulary.
    pub fn input_tokens(&self) -> Vec<String> {
        let mut out = vec![PAD.to_string()];
        out.extend(self.bos.iter().cloned());
        out.extend(self.vocab.iter().cloned());
        out
    }

    /// Positions of a model input (BOS included).
    pub fn max_positions(&self) -> usize {
        self.max_len + usize::from(self.bos.is_some())
    }

    fn bracket_pairs(&self) -> Vec<(usize, usize)> {
        let mut pairs = Vec::new();
        for (open, close) in [("(", ")"), ("[", "]"), ("{", "}"), ("<", ">")] {
            let o = self.vocab.iter().position(|t| t == open);
            let c = self.vocab.iter().position(|t| t == close);
            if let (Some(o), Some(c)) = (o, c) {
                pairs.push((o, c));
            }
        }
        pairs
    }

    /// One random input (without BOS), as indices into the vocabulary; its
    /// length is uniform in `min_len..=max_len`. The spec must pass
    /// [`TaskSpec::check`].
    pub fn sample(&self, rng: &mut Rng) -> Vec<usize> {
        let n = self.min_len + rng.below(self.max_len - self.min_len + 1);
        match self.inputs {
            InputKind::Uniform => (0..n).map(|_| rng.below(self.vocab.len())).collect(),
            InputKind::Dyck => {
                let pairs = self.bracket_pairs();
                let neutral: Vec<usize> =
                    (0..self.vocab.len()).filter(|i| !pairs.iter().any(|&(o, c)| o == *i || c == *i)).collect();
                match rng.below(3) {
                    0 => balanced(n, &pairs, &neutral, rng),
                    1 => {
                        let m = rng.below(n + 1);
                        let mut out = balanced(m, &pairs, &neutral, rng);
                        out.extend((m..n).map(|_| rng.below(self.vocab.len())));
                        out
                    }
                    _ => (0..n).map(|_| rng.below(self.vocab.len())).collect(),
                }
            }
        }
    }

    /// The input as the program sees it: BOS first, then the tokens.
    pub fn tokens_of(&self, sample: &[usize]) -> Vec<String> {
        let mut out: Vec<String> = self.bos.iter().cloned().collect();
        out.extend(sample.iter().map(|&i| self.vocab[i].clone()));
        out
    }
}

/// The padding token's name (never a vocabulary token: spaces are not).
pub const PAD: &str = "<pad>";

/// A balanced string of length `n` (neutral tokens with probability 0.3,
/// as the paper's generator; without neutral tokens an odd `n` ends in one
/// random bracket).
fn balanced(n: usize, pairs: &[(usize, usize)], neutral: &[usize], rng: &mut Rng) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    let mut stack: Vec<usize> = Vec::new();
    let even = if neutral.is_empty() { n - n % 2 } else { n };
    for i in 0..even {
        let left = even - i - 1; // positions after this one
        let can_close = !stack.is_empty();
        let can_open = stack.len() < left; // the opener must be closable
        let can_neutral = !neutral.is_empty() && stack.len() <= left;
        let must_close = can_close && stack.len() > left;
        let choice = if must_close {
            2
        } else if can_neutral && rng.uniform() < 0.3 {
            0
        } else if can_open && (!can_close || rng.below(2) == 0) {
            1
        } else if can_close {
            2
        } else {
            0
        };
        match choice {
            0 => out.push(neutral[rng.below(neutral.len())]),
            1 => {
                let p = rng.below(pairs.len());
                out.push(pairs[p].0);
                stack.push(p);
            }
            _ => {
                if let Some(p) = stack.pop() {
                    out.push(pairs[p].1);
                }
            }
        }
    }
    while out.len() < n {
        let p = rng.below(pairs.len());
        out.push(if rng.below(2) == 0 { pairs[p].0 } else { pairs[p].1 });
    }
    out
}

/// One attention head of the program.
#[derive(Debug, Clone)]
pub struct TargetHead {
    /// 1-based, as in the analysis.
    pub layer: usize,
    /// Position among its layer's heads.
    pub index: usize,
    /// The selector node the head computes.
    pub selector: NodeId,
    /// The selector as the analysis prints it.
    pub expression: String,
}

/// The program an encoder is trained to imitate: an s-op of a graph, its
/// analysed size (layers, heads per layer) and the selectors of its heads,
/// which supervise the encoder's attention and label every example.
pub struct TargetProgram<'g> {
    /// The graph the program's nodes live in.
    pub graph: &'g Graph,
    /// The s-op whose values are the labels.
    pub root: NodeId,
    /// The s-op's name (the task's name in metrics).
    pub name: String,
    /// The analysed number of layers (the embedding, layer 0, not counted).
    pub layers: usize,
    /// Analysed heads in each layer, first layer first.
    pub heads_per_layer: Vec<usize>,
    /// Every head, layer by layer.
    pub heads: Vec<TargetHead>,
    /// The attention mask the labels are computed under (semantics.md §6;
    /// bidirectional unless [`TargetProgram::with_mask`] says otherwise).
    pub mask: AttentionMask,
}

impl<'g> TargetProgram<'g> {
    /// Analyses `root` with the reference's greedy schedule; with `bos`, the
    /// library's selector_width counts one head (the paper's counting).
    pub fn new(graph: &'g Graph, root: NodeId, bos: bool) -> TargetProgram<'g> {
        let analysis =
            analyze_with(graph, root, AnalyzeOptions { schedule: Schedule::Greedy, bos_selector_width: bos });
        let mut heads = Vec::new();
        for layer in analysis.layer_details.iter().skip(1) {
            for (index, head) in layer.heads.iter().enumerate() {
                heads.push(TargetHead {
                    layer: layer.layer,
                    index,
                    selector: head.selector,
                    expression: selector_expression(graph, head.selector),
                });
            }
        }
        TargetProgram {
            graph,
            root,
            name: graph.name(root).to_string(),
            layers: analysis.layers,
            heads_per_layer: analysis.heads_per_layer.clone(),
            heads,
            mask: AttentionMask::Bidirectional,
        }
    }

    /// The same target with its labels (and head selectors) computed under
    /// `mask`.
    pub fn with_mask(mut self, mask: AttentionMask) -> TargetProgram<'g> {
        self.mask = mask;
        self
    }

    /// The most heads in one layer (the H of the compiled size).
    pub fn max_heads(&self) -> usize {
        self.heads_per_layer.iter().copied().max().unwrap_or(0)
    }
}

/// An input with the program's answers.
#[derive(Debug, Clone)]
pub struct Example {
    /// The model's input, BOS included.
    pub tokens: Vec<String>,
    /// The program's output at every position, as text.
    pub labels: Vec<String>,
    /// Every program head's selector on this input (same order as
    /// [`TargetProgram::heads`]).
    pub selectors: Vec<SelectorMatrix>,
}

/// Runs the program on inputs (the fast batched evaluator, planned once).
pub struct Labeler<'p, 'g> {
    program: &'p TargetProgram<'g>,
    evaluator: BatchEvaluator<'g>,
}

impl<'p, 'g> Labeler<'p, 'g> {
    /// Plans the evaluation of the program's root and head selectors.
    pub fn new(program: &'p TargetProgram<'g>) -> Labeler<'p, 'g> {
        let mut roots = vec![program.root];
        roots.extend(program.heads.iter().map(|h| h.selector));
        Labeler { program, evaluator: BatchEvaluator::new(program.graph, &roots).with_mask(program.mask) }
    }

    /// Runs the program on `tokens` (BOS included, one string per
    /// position): the output as text (Python `str`) and every head's
    /// selector. Fails if the program fails on this input or its root is a
    /// selector.
    pub fn label(&mut self, tokens: Vec<String>) -> Result<Example, TrainError> {
        let input: Vec<Value> = tokens.iter().map(|t| Value::str(t)).collect();
        let results = self.evaluator.eval(&input);
        let shown = || tokens.join("");
        let mut results = results.into_iter();
        let labels = match results.next() {
            Some(Ok(NodeValue::Seq(seq))) => seq.values.iter().map(rasp_core::pyfmt::py_str).collect(),
            Some(Ok(NodeValue::Sel(_))) => {
                return Err(TrainError::Config(format!("{} is a selector, not an s-op", self.program.name)));
            }
            Some(Err(e)) => return Err(TrainError::Eval(format!("{} on {:?}: {e}", self.program.name, shown()))),
            None => return Err(TrainError::Eval("internal error: no result".into())),
        };
        let mut selectors = Vec::with_capacity(self.program.heads.len());
        for r in results {
            match r {
                Ok(NodeValue::Sel(m)) => selectors.push((*m).clone()),
                Ok(NodeValue::Seq(_)) => {
                    return Err(TrainError::Eval("internal error: a head is not a selector".into()));
                }
                Err(e) => return Err(TrainError::Eval(format!("a selector on {:?}: {e}", shown()))),
            }
        }
        Ok(Example { tokens, labels, selectors })
    }

    /// `count` random inputs drawn with `rng`, labelled.
    pub fn examples(&mut self, spec: &TaskSpec, rng: &mut Rng, count: usize) -> Result<Vec<Example>, TrainError> {
        (0..count).map(|_| self.label(spec.tokens_of(&spec.sample(rng)))).collect()
    }
}

/// The output classes: every label text seen, numbers in numeric order
/// first, then the rest in string order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classes {
    /// The class names in class-id order.
    pub names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Classes {
    /// The classes of these label texts (duplicates merged), ordered.
    pub fn new(names: impl IntoIterator<Item = String>) -> Classes {
        let mut names: Vec<String> = names.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
        names.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(_), Err(_)) => a.cmp(b),
        });
        let index = names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect();
        Classes { names, index }
    }

    /// The classes of every label in `sets`; with `skip_bos`, the label at
    /// position 0 (the BOS position, never predicted) is left out.
    pub fn from_examples<'a>(sets: impl IntoIterator<Item = &'a [Example]>, skip_bos: bool) -> Classes {
        let mut seen = BTreeSet::new();
        for set in sets {
            for e in set {
                seen.extend(e.labels.iter().skip(usize::from(skip_bos)).cloned());
            }
        }
        Classes::new(seen)
    }

    /// The class id of a label text, `None` if it is not a class.
    pub fn id(&self, label: &str) -> Option<usize> {
        self.index.get(label).copied()
    }

    /// The number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no classes (the program labels nothing).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}
