//! The text report and the JSON of a few programs.

use rasp_analyze::{AnalyzeOptions, Schedule, analyze, analyze_with};
use rasp_core::Value;
use rasp_lang::{NoFiles, Session};

/// Runs `lines` at a fresh console and analyses `name` with `options`:
/// (report, JSON).
fn analysed(lines: &'static [&'static str], name: &'static str, options: AnalyzeOptions) -> (String, String) {
    rasp_lang::with_large_stack(move || {
        let mut s = Session::new(Box::new(NoFiles));
        for line in lines {
            s.feed_line(line);
        }
        let Some(Value::Sop(root)) = s.lookup(name) else { panic!("{name}: {}", s.take_output()) };
        let a = analyze_with(&s.graph, root, options);
        (a.report(&s.graph), a.to_json(&s.graph))
    })
}

const REVERSE: &[&str] = &["flip = select(indices, length - indices - 1, ==);", "reverse = aggregate(flip, tokens);"];

#[test]
fn report_of_reverse() {
    let (report, _) = analysed(REVERSE, "reverse", AnalyzeOptions::default());
    let expected = "\
reverse: analysed size 2 layers, heads per layer 1/1 (greedy schedule)
layer 0 (embedding)
  MLPs (2): indices == 0, indicator(indices == 0)
layer 1: 1 head
  head 1: select(1, 1, ==) \"full_s\" → aggregates: 1/length
  MLPs (4): 1 / (1/length), length, length - indices, length - indices - 1
layer 2: 1 head
  head 1: select(indices, length - indices - 1, ==) \"flip\" → aggregates: reverse
";
    assert_eq!(report, expected);
}

#[test]
fn json_of_reverse() {
    let (_, json) = analysed(REVERSE, "reverse", AnalyzeOptions::default());
    for needle in [
        "\"sop\": \"reverse\",",
        "\"schedule\": \"greedy\",",
        "\"bos_selector_width\": false,",
        "\"layers\": 2,",
        "\"heads_per_layer\": [1, 1],",
        "\"max_heads\": 1,",
        "\"selector\": \"flip\",",
        "\"keys\": [\"indices\"],",
        "\"queries\": [\"( ( length - indices ) - 1 )\"],",
        "\"predicate\": \"==\",",
        "\"mlps\": [\"( indices == 0 )\", \"I(( indices == 0 ))\"],",
    ] {
        assert!(json.contains(needle), "{needle} not in\n{json}");
    }
    // Keys come in a fixed order.
    let order = ["\"sop\"", "\"layers\"", "\"heads_per_layer\"", "\"layers_detail\""];
    let at: Vec<usize> = order.iter().map(|k| json.find(k).unwrap_or(usize::MAX)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{json}");
}

#[test]
fn composite_selectors_defaults_and_bos_heads() {
    let (report, json) = analysed(
        &["s = sort(tokens, tokens);"],
        "s",
        AnalyzeOptions { schedule: Schedule::Best, bos_selector_width: true },
    );
    assert!(report.starts_with(
        "s: analysed size 2 layers, heads per layer 1/1 (best schedule; selector_width with a BOS token as one head)\n"
    ));
    assert!(
        report.contains(
            "head 1: selector_width(select(tokens, tokens, <) or (select(tokens, tokens, ==) and select(indices, indices, <)) \"select_earlier_in_sorted\") with a BOS token: one head → aggregates: inverted, aggregate(select_earlier_in_sorted and select(indices, 0, ==), 1, 0) (default 0)"
        ),
        "{report}"
    );
    assert!(json.contains("\"kind\": \"bos_selector_width\","), "{json}");
    assert!(json.contains("\"width_of\": \"select_earlier_in_sorted\","), "{json}");
    assert!(json.contains("\"predicate\": \"< or (== and <) or ==\","), "{json}");
    let (report, json) =
        analysed(&["x = aggregate(select(tokens, \"l\", ==), indices, -1);"], "x", AnalyzeOptions::default());
    assert!(report.contains("head 1: select(tokens, \"l\", ==) → aggregates: x (default -1)"), "{report}");
    assert!(json.contains("\"default\": -1"), "{json}");
}

#[test]
fn zero_layers() {
    let (report, json) = analysed(&["y = indices + 1;"], "y", AnalyzeOptions::default());
    assert_eq!(
        report,
        "y: analysed size 0 layers, no attention: computed in the embedding (greedy schedule)\nlayer 0 (embedding)\n  MLPs (1): y\n"
    );
    assert!(json.contains("\"layers\": 0,\n  \"heads_per_layer\": [],"), "{json}");
}

#[test]
fn default_is_the_reference_schedule() {
    rasp_lang::with_large_stack(|| {
        let mut s = Session::new(Box::new(NoFiles));
        s.feed_line("h = selector_width(select(tokens, tokens, ==));");
        let Some(Value::Sop(root)) = s.lookup("h") else { panic!("h") };
        let a = analyze(&s.graph, root, Schedule::default());
        assert_eq!(a.options, AnalyzeOptions::default());
        assert_eq!(a.heads_per_layer, vec![2]);
    });
}
