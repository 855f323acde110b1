//! Decoder mode (semantics.md §6): answers computed by hand for the causal
//! and prefix-LM masks, from both engines.

use rasp_core::{AttentionMask, BatchEvaluator, Evaluator, NodeId, NodeValue, Value};
use rasp_lang::{NoFiles, Session, with_large_stack};

fn define(session: &mut Session, name: &str, expr: &str) -> NodeId {
    session.feed_line(&format!("{name} = {expr};"));
    let out = session.take_output();
    match session.lookup(name) {
        Some(Value::Sop(id)) | Some(Value::Selector(id)) => id,
        other => panic!("{expr} did not define a node: {other:?}\n{out}"),
    }
}

fn shown(value: &NodeValue) -> Vec<String> {
    match value {
        NodeValue::Seq(s) => s.values.iter().map(rasp_core::pyfmt::py_repr).collect(),
        NodeValue::Sel(m) => {
            (0..m.len()).map(|q| (0..m.len()).map(|k| if m.get(q, k) { '1' } else { '.' }).collect()).collect()
        }
    }
}

/// `expr` on `input` under `mask`, from the plain engine; the fast engine
/// must agree.
fn eval(expr: &'static str, input: &'static str, mask: AttentionMask) -> Vec<String> {
    with_large_stack(move || {
        let mut session = Session::new(Box::new(NoFiles));
        session.sop_example = Value::str("1");
        let id = define(&mut session, "causal_test", expr);
        let values: Vec<Value> = input.chars().map(|c| Value::str(&c.to_string())).collect();
        let plain = Evaluator::with_mask(mask).evaluate(&session.graph, id, &values).expect("evaluates");
        let fast = BatchEvaluator::new(&session.graph, &[id]).with_mask(mask).eval(&values).remove(0).expect("fast");
        assert!(rasp_core::same_result(&Ok(plain.clone()), &Ok(fast)), "{expr}: engines disagree");
        shown(&plain)
    })
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn length_counts_the_visible_positions() {
    assert_eq!(eval("length", "abcd", AttentionMask::Causal), strs(&["1", "2", "3", "4"]));
    assert_eq!(eval("length", "abcd", AttentionMask::Bidirectional), strs(&["4", "4", "4", "4"]));
    // The first two see each other, then causal.
    assert_eq!(eval("length", "abcde", AttentionMask::Prefix { length: 2 }), strs(&["2", "2", "3", "4", "5"]));
}

#[test]
fn selector_width_counts_earlier_or_equal_keys() {
    // "abab": equal tokens at or before each position: a1 b1 a2 b2.
    let hist = "selector_width(select(tokens, tokens, ==))";
    assert_eq!(eval(hist, "abab", AttentionMask::Causal), strs(&["1", "1", "2", "2"]));
    assert_eq!(eval(hist, "abab", AttentionMask::Bidirectional), strs(&["2", "2", "2", "2"]));
    // Keys smaller than the query, among the visible: "cab" → c:0, a:0, b:1 (a).
    assert_eq!(eval("selector_width(select(tokens, tokens, <))", "cab", AttentionMask::Causal), strs(&["0", "0", "1"]));
}

#[test]
fn mean_aggregate_averages_the_prefix() {
    // Running mean of indices: 0, 0.5, 1.0, 1.5 (position 0 selects one
    // value and keeps the int).
    let mean = "aggregate(select(indices, indices, ==) or select(indices, indices, !=), indices)";
    assert_eq!(eval(mean, "abcd", AttentionMask::Causal), strs(&["0", "0.5", "1.0", "1.5"]));
    // Running fraction of "a": 1, 0.5, 0.667, 0.5.
    let frac = "aggregate(select(indices, indices, <=), indicator(tokens == \"a\"))";
    assert_eq!(eval(frac, "abac", AttentionMask::Causal), strs(&["1", "0.5", "0.6666666666666666", "0.5"]));
}

#[test]
fn selectors_show_the_mask() {
    assert_eq!(eval("select(tokens, tokens, ==)", "aab", AttentionMask::Causal), strs(&["1..", "11.", "..1"]));
    // `not` never selects a hidden key.
    assert_eq!(eval("not select(tokens, tokens, ==)", "aab", AttentionMask::Causal), strs(&["...", "...", "11."]));
    assert_eq!(
        eval("select(tokens, tokens, ==)", "aab", AttentionMask::Prefix { length: 2 }),
        strs(&["11.", "11.", "..1"])
    );
}

#[test]
fn reverse_looks_ahead() {
    // Each query selects position n-1-i, hidden for the first half: the
    // default 0 there, as in tracr's issue 19.
    let reverse = "aggregate(select(indices, length - indices - 1, ==), tokens, \"_\")";
    assert_eq!(eval(reverse, "abc", AttentionMask::Bidirectional), strs(&["'c'", "'b'", "'a'"]));
    // Causal: length is i+1, so position i selects key 0 (i - i = 0).
    assert_eq!(eval(reverse, "abc", AttentionMask::Causal), strs(&["'a'", "'a'", "'a'"]));
}
