//! Differential tests: the fast engine (`rasp_core::BatchEvaluator`) against the plain
//! evaluator (the oracle) on the standard library and the example programs,
//! on random inputs, with every strategy and through the parallel batch,
//! under the bidirectional, causal and a prefix-LM attention mask.

use rasp_core::{
    AttentionMask, BatchEvaluator, BatchStrategy, Evaluator, FastEvaluator, Graph, NodeId, OwnedValue, Value,
    same_result,
};
use rasp_lang::{NoFiles, Session, with_large_stack};

/// xorshift64*: seeded, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_strings(seed: u64, alphabet: &str, prefix: &str, lengths: &[usize]) -> Vec<String> {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut rng = Rng(seed);
    lengths.iter().map(|&n| prefix.chars().chain((0..n).map(|_| chars[rng.below(chars.len())])).collect()).collect()
}

fn to_input(s: &str) -> Vec<Value> {
    s.chars().map(|c| Value::str(&c.to_string())).collect()
}

/// Defines `expr` at the console and returns its node.
fn define(session: &mut Session, name: &str, expr: &str) -> NodeId {
    session.feed_line(&format!("{name} = {expr};"));
    let out = session.take_output();
    match session.lookup(name) {
        Some(Value::Sop(id)) | Some(Value::Selector(id)) => id,
        other => panic!("{expr} did not define a node: {other:?}\n{out}"),
    }
}

/// Compares every root on every input, with every strategy, one input at a
/// time and as a batch. Returns the disagreements.
fn compare(graph: &Graph, roots: &[(String, NodeId)], inputs: &[String]) -> Vec<String> {
    let masks = [AttentionMask::Bidirectional, AttentionMask::Causal, AttentionMask::Prefix { length: 3 }];
    masks.into_iter().flat_map(|mask| compare_masked(graph, roots, inputs, mask)).collect()
}

fn compare_masked(graph: &Graph, roots: &[(String, NodeId)], inputs: &[String], mask: AttentionMask) -> Vec<String> {
    let ids: Vec<NodeId> = roots.iter().map(|(_, id)| *id).collect();
    let mut failures = Vec::new();
    let mut expected = Vec::new();
    for input in inputs {
        let values = to_input(input);
        let mut plain = Evaluator::with_mask(mask);
        expected.push(ids.iter().map(|&id| plain.evaluate(graph, id, &values)).collect::<Vec<_>>());
    }
    // The memoising engine the REPL runs, one instance over all inputs.
    let mut memo = FastEvaluator::with_mask(mask);
    for (input, want) in inputs.iter().zip(&expected) {
        let values = to_input(input);
        for ((name, id), w) in roots.iter().zip(want) {
            let g = memo.evaluate(graph, *id, &values);
            if !same_result(w, &g) {
                failures.push(format!("memoised {mask} {name} on {input:?}:\n  plain {w:?}\n  fast  {g:?}"));
            }
        }
    }
    for strategy in [BatchStrategy::Auto, BatchStrategy::Structured, BatchStrategy::Rows] {
        let mut fast = BatchEvaluator::new(graph, &ids).with_strategy(strategy).with_mask(mask);
        for (input, want) in inputs.iter().zip(&expected) {
            let got = fast.eval(&to_input(input));
            for (((name, _), w), g) in roots.iter().zip(want).zip(&got) {
                if !same_result(w, g) {
                    failures.push(format!("{mask} {strategy:?} {name} on {input:?}:\n  plain {w:?}\n  fast  {g:?}"));
                }
            }
        }
        let batch = fast.eval_batch(inputs);
        for ((input, want), got) in inputs.iter().zip(&expected).zip(&batch) {
            for (((name, _), w), g) in roots.iter().zip(want).zip(got) {
                let g = g.as_ref().map(|v| v.to_node_value()).map_err(Clone::clone);
                if !same_result(w, &g) {
                    failures
                        .push(format!("batch {mask} {strategy:?} {name} on {input:?}:\n  plain {w:?}\n  fast  {g:?}"));
                }
            }
        }
    }
    failures
}

fn run(file: Option<&'static str>, exprs: &'static [&'static str], inputs: Vec<String>) {
    let failures = with_large_stack(move || {
        let mut session = Session::new(Box::new(NoFiles));
        if let Some(path) = file {
            let text = std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
                .expect("example program");
            session.run_file(path, &text);
            session.take_output();
        }
        // Every definition runs at once on the running example; a
        // one-element example lets definitions that fail on longer inputs
        // (averages of strings) be made.
        session.sop_example = Value::str("1");
        let roots: Vec<(String, NodeId)> = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| (e.to_string(), define(&mut session, &format!("fast_test_{i}"), e)))
            .collect();
        compare(&session.graph, &roots, &inputs)
    });
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}

const LENGTHS: &[usize] = &[1, 2, 3, 5, 8, 13, 16, 31, 64, 65, 100, 130, 257, 300];

#[test]
fn library_on_strings() {
    run(
        None,
        &[
            "length",
            "selector_width(select(tokens, tokens, ==))",
            "sort(tokens, tokens)",
            "sort(indices, tokens)",
            "sort(tokens, length - indices)",
            "has_focus(select(tokens, \"a\", ==))",
            "count(tokens, \"a\")",
            "contains(tokens, \"b\")",
            "average(indicator(tokens == \"a\"))",
            "load_from_location(tokens, length - 1 - indices)",
            "shift(tokens, 1, \"_\")",
            "shift(indices, 2, 0.5)",
            "mark_last_instance(tokens, \"a\")",
            "mark_first_instance(tokens, \"a\")",
            "aggregate(select_from_last(tokens, \"a\"), indices)",
            "aggregate(select_from_first(tokens, \"b\"), indices, -1)",
            "aggregate(select_next_identical(tokens), indices, -1)",
            "selector_width(select(tokens, tokens, <))",
            "selector_width(select(tokens, tokens, !=))",
            "selector_width(select(tokens, tokens, >=) and select(indices, indices, >))",
            "selector_width(not select(tokens, tokens, ==))",
            "aggregate(select(tokens, tokens, ==), indices)",
            "aggregate(select(tokens, tokens, <=), indices, \"none\")",
            "aggregate(select(tokens, tokens, ==), tokens)",
            "aggregate(select(indices, indices, ==), tokens)",
            "aggregate(select(tokens, indices, ==), indices, 7)",
            "aggregate(select(tokens, indices, !=), indices)",
            "aggregate(select(indices, indices, <=) and select(tokens, tokens, >), indices / 2)",
            "aggregate(select(indices, indices, <=), indices / 3)",
            "max(indices, length - indices)",
            "select(tokens, tokens, ==)",
            "(not select(tokens, tokens, <)) or select(indices, 0, ==)",
            "select(tokens, tokens, <) and select(indices, indices, >=)",
        ],
        random_strings(1, "abcde", "", LENGTHS),
    );
}

#[test]
fn library_on_numbers() {
    run(
        None,
        &[
            "sort(tokens_int, tokens_int)",
            "sort(tokens_float, 0 - tokens_int)",
            "selector_width(select(tokens_int, tokens_int, <))",
            "selector_width(select(tokens_int, indices, >=))",
            "aggregate(select(tokens_int, tokens_int, <=), tokens_int)",
            "aggregate(select(tokens_int, indices, ==), tokens_float, 0.5)",
            "aggregate(select(indices, indices, <=), tokens_float)",
            "aggregate(select(indices, indices, <=), tokens_float / 7)",
            "aggregate(select(tokens_float, tokens_int + 0.5, <), tokens_int * 1000000007)",
            "aggregate(select(tokens_float / 2, tokens_int, >), indices)",
            "aggregate(select(tokens_bool, True, ==), tokens_int, 0)",
            "aggregate(select(tokens_int, tokens, ==), indices)",
            "select(tokens_int, tokens_float / 2, >=)",
        ],
        random_strings(2, "0123456789", "", LENGTHS),
    );
}

#[test]
fn example_programs() {
    let plain = random_strings(3, "abcdef", "", LENGTHS);
    let bos = random_strings(4, "abcdef", "§", LENGTHS);
    let brackets = random_strings(5, "(){}[]", "", LENGTHS);
    run(Some("examples/reverse.rasp"), &["reverse", "reverse_of(indices)"], plain.clone());
    run(Some("examples/histogram.rasp"), &["hist", "hist_bos"], bos.clone());
    run(Some("examples/sort.rasp"), &["sort_bos"], bos.clone());
    run(Some("examples/double_histogram.rasp"), &["double_hist_bos"], bos.clone());
    run(Some("examples/most_frequent.rasp"), &["sort_by_most_freq_bos", "by_frequency(\"-\")"], bos);
    run(Some("examples/dyck.rasp"), &["dyck1", "dyck2", "dyck3"], brackets);
    let sums: Vec<String> =
        random_strings(6, "0123456789", "", &[1, 2, 3, 4, 6, 9, 20, 40]).iter().map(|a| format!("{a}+{a}")).collect();
    run(Some("examples/addition.rasp"), &["addition"], sums);
}

/// Orderings between strs and numbers raise at the select (the REPL cannot
/// define them, so the nodes are made directly).
#[test]
fn ordering_errors() {
    use rasp_core::{NodeKind, Predicate};
    let failures = with_large_stack(|| {
        let mut session = Session::new(Box::new(NoFiles));
        let tokens = define(&mut session, "fast_t", "tokens");
        let indices = define(&mut session, "fast_i", "indices");
        let width = define(&mut session, "fast_w", "indicator(indices == 0)");
        let mut roots = Vec::new();
        for predicate in [Predicate::Lt, Predicate::Ge, Predicate::Eq, Predicate::Ne] {
            for (key, query) in [(tokens, indices), (indices, tokens)] {
                let graph = &mut session.graph;
                let sel = graph.add(NodeKind::Select { key, query, predicate }, "sel", false);
                let agg = graph.add(NodeKind::Aggregate { selector: sel, values: width, default: None }, "agg", false);
                roots.push((format!("{key:?} {predicate:?} {query:?}"), agg));
                roots.push((format!("selector {key:?} {predicate:?} {query:?}"), sel));
            }
        }
        compare(&session.graph, &roots, &random_strings(7, "ab", "", &[1, 2, 70]))
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The engine counts the library's selector_width directly instead of
/// running its aggregates and maps: the same ints, the same type on the
/// empty input, and the same error when the selector raises (a running
/// example of ints lets those be defined; the inputs are strs).
#[test]
fn library_widths_counted_directly() {
    let failures = with_large_stack(|| {
        let mut session = Session::new(Box::new(NoFiles));
        session.sop_example = Value::list(vec![Value::int(1)]);
        let exprs = [
            "selector_width(select(tokens, tokens, ==))",
            "selector_width(select(tokens_asis, indices, <))",
            "selector_width(select(indices, indices, <) or select(tokens, \"a\", ==))",
            "selector_width(select(tokens, tokens, ==)) + selector_width(select(indices, indices, >))",
        ];
        let roots: Vec<(String, NodeId)> = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| (e.to_string(), define(&mut session, &format!("fast_width_{i}"), e)))
            .collect();
        compare(&session.graph, &roots, &random_strings(8, "ab", "", &[0, 1, 2, 70, 300]))
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn batch_inputs_of_owned_values() {
    let failures = with_large_stack(|| {
        let mut session = Session::new(Box::new(NoFiles));
        let root = define(&mut session, "fast_sorted", "sort(tokens_asis, tokens_asis)");
        let inputs: Vec<Vec<OwnedValue>> = vec![
            vec![],
            vec![OwnedValue::from_value(&Value::int(3)), OwnedValue::from_value(&Value::int(1))],
            vec![OwnedValue::from_value(&Value::str("x")), OwnedValue::from_value(&Value::int(1))],
            vec![OwnedValue::from_value(&Value::list(vec![Value::int(1)]))],
        ];
        let fast = BatchEvaluator::new(&session.graph, &[root]);
        let got = fast.eval_batch(&inputs);
        let mut failures = Vec::new();
        for (input, got) in inputs.iter().zip(got) {
            let values: Vec<Value> = input.iter().map(OwnedValue::to_value).collect();
            let want = Evaluator::new().evaluate(&session.graph, root, &values);
            let got = got[0].as_ref().map(|v| v.to_node_value()).map_err(Clone::clone);
            if !same_result(&want, &got) {
                failures.push(format!("{input:?}: plain {want:?} fast {got:?}"));
            }
        }
        failures
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
