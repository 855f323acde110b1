//! Compiled model against the interpreter, on every input up to the
//! maximum length (or, when there are too many or the caller asks for it,
//! on every length with a seeded random sample), under the attention mask
//! the model records. Progress goes to a caller's [`VerifyProgress`]: this
//! crate has no clock and no terminal (it runs on wasm), so drawing a bar
//! is the front end's job.

use rasp_core::{Atom, AttentionMask, Evaluator, Graph, NodeId, NodeValue, Value};
use rasp_model::{Model, PreparedModel, Scalar};

/// Whether [`verify`] checks every input or a random sample per length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Coverage {
    /// Every input while there are at most
    /// [`VerifyOptions::exhaustive_limit`] of them, else a sample.
    #[default]
    Auto,
    /// Every input, however many (the caller accepts the time it takes).
    Exhaustive,
    /// A random sample of [`VerifyOptions::sample_per_length`] words per
    /// length; lengths with no more words than that are checked whole.
    Sampled,
}

/// How many inputs [`verify`] checks, and how.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Exhaustive or sampled (or chosen by `exhaustive_limit`).
    pub coverage: Coverage,
    /// With [`Coverage::Auto`]: check every input while there are at most
    /// this many.
    pub exhaustive_limit: usize,
    /// Otherwise, per length with more words than this, check this many random ones.
    pub sample_per_length: usize,
    /// Seed of the random sample: the same seed checks the same inputs.
    pub seed: u64,
    /// Mismatching inputs kept for the report.
    pub keep: usize,
    /// Inputs run through the model at once.
    pub batch: usize,
}

impl Default for VerifyOptions {
    fn default() -> VerifyOptions {
        VerifyOptions {
            coverage: Coverage::Auto,
            exhaustive_limit: 1_000_000,
            sample_per_length: 20_000,
            seed: 0x5EED,
            keep: 10,
            batch: 256,
        }
    }
}

/// An input on which the model and the interpreter disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The word (BOS not included).
    pub input: Vec<String>,
    /// The interpreter's output.
    pub expected: Vec<Scalar>,
    /// The model's decoded output.
    pub got: Vec<Scalar>,
}

/// What was checked at one input length.
#[derive(Debug, Clone, PartialEq)]
pub struct LengthReport {
    /// Tokens per word (BOS not counted).
    pub length: usize,
    /// How many words of this length exist (a float: it can be huge).
    pub words: f64,
    /// How many were run.
    pub checked: usize,
    /// Whether those were all of them.
    pub exhaustive: bool,
}

/// The outcome of [`verify`]: zero mismatches means the model computes the
/// program on every checked input.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    /// Inputs run through both.
    pub inputs_checked: usize,
    /// Inputs on which the interpreter raised an error (not compared).
    pub undefined: usize,
    /// Inputs with at least one position decoded differently.
    pub mismatches: usize,
    /// The first mismatches (at most [`VerifyOptions::keep`]).
    pub examples: Vec<Mismatch>,
    /// The smallest decision margin over every checked position (1 = perfect).
    pub min_margin: f32,
    /// The input where that margin occurs.
    pub min_margin_input: Vec<String>,
    /// Whether every input up to the maximum length was checked.
    pub exhaustive: bool,
    /// Per length, what was checked.
    pub lengths: Vec<LengthReport>,
    /// The seed of the random sample.
    pub seed: u64,
}

/// Told how far [`verify_with_progress`] has got, after every batch. A
/// front end implements it to show a progress bar; rates and times are
/// its business (the verifier has no clock).
pub trait VerifyProgress {
    /// Before the first input: how many inputs will be run in all, and
    /// whether that is every input.
    fn start(&mut self, total: u64, exhaustive: bool);
    /// After each batch: how many inputs have been run so far, and the
    /// length being checked.
    fn advance(&mut self, done: u64, length: usize);
    /// After the last input.
    fn finish(&mut self) {}
}

/// A [`VerifyProgress`] that ignores everything (what [`verify`] passes).
pub struct NoProgress;

impl VerifyProgress for NoProgress {
    fn start(&mut self, _total: u64, _exhaustive: bool) {}
    fn advance(&mut self, _done: u64, _length: usize) {}
}

/// A small deterministic generator (SplitMix64): the sampled inputs of a
/// verification are fixed by its seed, and tests can draw reproducible
/// random programs and inputs with it. The field is the state (start it at
/// a seed).
pub struct Rng(pub u64);

/// A word of `n` tokens of `vocab` to check: the `index`-th in counting
/// order when every word is checked, else a random one. Shared by the
/// verifier and the look-ahead check, which enumerate inputs alike.
pub(crate) fn word_to_check(vocab: &[String], n: usize, index: Option<usize>, rng: &mut Rng) -> Vec<String> {
    let v = vocab.len();
    match index {
        Some(mut rest) => {
            let mut word = vec![String::new(); n];
            for slot in word.iter_mut().rev() {
                *slot = vocab[rest % v].clone();
                rest /= v;
            }
            word
        }
        None => (0..n).map(|_| vocab[rng.below(v)].clone()).collect(),
    }
}

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// One of `items`.
    ///
    /// # Panics
    ///
    /// When `items` is empty (callers pass fixed, non-empty lists).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn scalar_atom(s: &Scalar) -> Atom {
    match s {
        Scalar::Bool(b) => Atom::Bool(*b),
        Scalar::Int(v) => Atom::Int(*v),
        Scalar::Float(v) => Atom::Float(*v),
        Scalar::Str(t) => Atom::str(t),
    }
}

fn same(expected: &Atom, got: &Scalar) -> bool {
    let g = scalar_atom(got);
    if rasp_core::pyops::py_eq(expected, &g) {
        return true;
    }
    // The interpreter sums floats left to right; the value set is exact.
    match (crate::values::number(expected), got.as_f64()) {
        (Some(a), Some(b)) if matches!(expected, Atom::Float(_)) || matches!(g, Atom::Float(_)) => {
            (a - b).abs() <= 1e-9 * (1.0 + a.abs())
        }
        _ => false,
    }
}

/// Runs `model` and the interpreter (`root` of `graph`) on the inputs
/// `opts` selects and compares their outputs position by position. Inputs
/// the interpreter rejects are counted, not compared: the model need not
/// agree with a failure. Nothing here measures time; callers that report a
/// duration measure around the call.
pub fn verify(graph: &Graph, root: NodeId, model: &Model, opts: &VerifyOptions) -> VerifyReport {
    verify_with_progress(graph, root, model, opts, &mut NoProgress)
}

/// What [`verify`] checks at each length for a vocabulary of `vocab_size`
/// tokens up to `max_len`: per length, the number of words, how many are
/// checked and whether that is all of them; and whether every input is.
pub fn verify_plan(vocab_size: usize, max_len: usize, opts: &VerifyOptions) -> (Vec<LengthReport>, bool) {
    let words_of = |n: usize| (vocab_size as f64).powi(n as i32);
    let total: f64 = (1..=max_len).map(words_of).sum();
    let exhaustive = match opts.coverage {
        Coverage::Auto => total <= opts.exhaustive_limit as f64,
        Coverage::Exhaustive => true,
        // Every length short enough to be checked whole: that is every input.
        Coverage::Sampled => words_of(max_len) <= opts.sample_per_length as f64,
    };
    let lengths = (1..=max_len)
        .map(|n| {
            let words = words_of(n);
            let all = exhaustive || words <= opts.sample_per_length as f64;
            // Exhaustive beyond usize (2^64 words) cannot finish anyway.
            let checked = if all { words.min(usize::MAX as f64) as usize } else { opts.sample_per_length };
            LengthReport { length: n, words, checked, exhaustive: all }
        })
        .collect();
    (lengths, exhaustive)
}

/// [`verify`], telling `progress` how far it has got after every batch.
pub fn verify_with_progress(
    graph: &Graph,
    root: NodeId,
    model: &Model,
    opts: &VerifyOptions,
    progress: &mut dyn VerifyProgress,
) -> VerifyReport {
    let vocab = &model.config.vocab;
    let (lengths, exhaustive) = verify_plan(vocab.len(), model.config.max_len, opts);
    let mut rng = Rng(opts.seed);
    let mut report = VerifyReport {
        inputs_checked: 0,
        undefined: 0,
        mismatches: 0,
        examples: Vec::new(),
        min_margin: f32::INFINITY,
        min_margin_input: Vec::new(),
        exhaustive,
        lengths: lengths.clone(),
        seed: opts.seed,
    };
    progress.start(lengths.iter().map(|l| l.checked as u64).sum(), exhaustive);
    let batch_size = opts.batch.max(1);
    let mut done = 0u64;
    let prepared = model.prepare();
    for length in &lengths {
        let n = length.length;
        let mut batch: Vec<Vec<String>> = Vec::with_capacity(batch_size);
        for k in 0..length.checked {
            batch.push(word_to_check(vocab, n, length.exhaustive.then_some(k), &mut rng));
            if batch.len() == batch_size || k + 1 == length.checked {
                check_batch(graph, root, model, &prepared, &batch, &mut report, opts);
                done += batch.len() as u64;
                batch.clear();
                progress.advance(done, n);
            }
        }
    }
    progress.finish();
    if report.min_margin == f32::INFINITY {
        report.min_margin = 1.0;
    }
    report
}

/// The attention mask a model's config records (bidirectional unless
/// `causal`; a prefix length counts program positions, BOS included).
pub fn model_mask(model: &Model) -> AttentionMask {
    AttentionMask::from_options(model.config.causal, model.config.prefix_len.filter(|_| model.config.causal))
}

fn check_batch(
    graph: &Graph,
    root: NodeId,
    model: &Model,
    prepared: &PreparedModel<'_>,
    words: &[Vec<String>],
    report: &mut VerifyReport,
    opts: &VerifyOptions,
) {
    let decoded = prepared.run(words);
    for (i, word) in words.iter().enumerate() {
        let mut input: Vec<Value> = Vec::with_capacity(word.len() + 1);
        if let Some(b) = &model.config.bos {
            input.push(Value::str(b));
        }
        input.extend(word.iter().map(|t| Value::str(t)));
        // The interpreter runs under the model's own mask (semantics.md §6).
        let expected = match Evaluator::with_mask(model_mask(model)).evaluate(graph, root, &input) {
            Ok(NodeValue::Seq(s)) => s.values.clone(),
            _ => {
                report.undefined += 1;
                continue;
            }
        };
        report.inputs_checked += 1;
        let got = match &decoded {
            Ok(d) => d[i].clone(),
            Err(_) => Vec::new(),
        };
        let mut ok = got.len() == expected.len();
        for (e, g) in expected.iter().zip(&got) {
            if !same(e, &g.value) {
                ok = false;
            }
            if g.margin < report.min_margin {
                report.min_margin = g.margin;
                report.min_margin_input = word.clone();
            }
        }
        if !ok {
            report.mismatches += 1;
            if report.examples.len() < opts.keep {
                report.examples.push(Mismatch {
                    input: word.clone(),
                    expected: expected.iter().map(crate::values::to_scalar).collect(),
                    got: got.iter().map(|d| d.value.clone()).collect(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Coverage, VerifyOptions, verify_plan};

    fn options(coverage: Coverage, exhaustive_limit: usize, sample_per_length: usize) -> VerifyOptions {
        VerifyOptions { coverage, exhaustive_limit, sample_per_length, ..VerifyOptions::default() }
    }

    /// (length, checked, all) per length.
    fn counts(vocab: usize, max_len: usize, opts: &VerifyOptions) -> (Vec<(usize, usize, bool)>, bool) {
        let (lengths, exhaustive) = verify_plan(vocab, max_len, opts);
        (lengths.iter().map(|l| (l.length, l.checked, l.exhaustive)).collect(), exhaustive)
    }

    #[test]
    fn auto_is_exhaustive_up_to_the_limit_then_samples() {
        // 3 + 9 + 27 = 39 words of up to 3 tokens over 3 letters.
        let all = vec![(1, 3, true), (2, 9, true), (3, 27, true)];
        assert_eq!(counts(3, 3, &options(Coverage::Auto, 39, 10)), (all, true));
        // One fewer allowed: only lengths with more than 10 words are sampled.
        let sampled = vec![(1, 3, true), (2, 9, true), (3, 10, false)];
        assert_eq!(counts(3, 3, &options(Coverage::Auto, 38, 10)), (sampled, false));
    }

    #[test]
    fn exhaustive_and_sampled_override_the_limit() {
        let all = vec![(1, 4, true), (2, 16, true), (3, 64, true), (4, 256, true)];
        assert_eq!(counts(4, 4, &options(Coverage::Exhaustive, 1, 1)), (all, true));
        let sampled = vec![(1, 4, true), (2, 5, false), (3, 5, false), (4, 5, false)];
        assert_eq!(counts(4, 4, &options(Coverage::Sampled, 1_000_000, 5)), (sampled, false));
        // A sample as large as the longest length checks everything.
        let whole = vec![(1, 2, true), (2, 4, true)];
        assert_eq!(counts(2, 2, &options(Coverage::Sampled, 0, 4)), (whole, true));
    }
}
