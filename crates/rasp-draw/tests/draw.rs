//! Drawings of the example programs: layout invariants on inputs up to 16
//! tokens, structural snapshots, the HTML page, file names.

mod common;

use common::{assert_snapshot, check, draw, draw_with, outline};
use rasp_analyze::Schedule;
use rasp_core::Value;
use rasp_lang::with_large_stack;

/// Every example s-op with inputs it is meant for, short and long (16).
const CASES: &[(&str, &str, &[&str])] = &[
    ("examples/reverse.rasp", "reverse", &["hello", "a", "abcdefghijklmnop"]),
    ("examples/histogram.rasp", "hist", &["hello", "aabac", "abracadabraabcde"]),
    ("examples/histogram.rasp", "hist_bos", &["§aabac", "§abracadabraabcd"]),
    ("examples/sort.rasp", "sort_bos", &["§dbca", "§hello", "§zyxwvutsrqponml"]),
    ("examples/double_histogram.rasp", "double_hist_bos", &["§aabbbcd", "§aabbbcdddeeeffg"]),
    ("examples/most_frequent.rasp", "sort_by_most_freq_bos", &["§abbcbcc", "§abbcbccd", "§abbcbccdeaabcdd"]),
    ("examples/dyck.rasp", "dyck1", &["(()))(", "(()(()))())((()("]),
    ("examples/dyck.rasp", "dyck2", &["({})(}", "({}){(", "({[]})(}{}()){{("]),
    ("examples/dyck.rasp", "dyck3", &["([)]", "([{}])[]{}(([]))"]),
    ("examples/addition.rasp", "addition", &["95+17", "999+1", "1234567+98765432"]),
    ("crates/rasp-draw/tests/data/wide.rasp", "wide_result_with_a_long_name_", &["ab", "abcabcabcabcabca"]),
];

fn run(f: impl FnOnce() + Send + 'static) {
    with_large_stack(f);
}

#[test]
fn every_example_program_is_drawn_soundly() {
    run(|| {
        for (file, sop, inputs) in CASES {
            for input in *inputs {
                let case = draw(file, sop, input);
                check(&case);
            }
        }
    });
}

#[test]
fn the_best_schedule_and_list_inputs_are_drawn_soundly() {
    run(|| {
        let case =
            draw_with("examples/most_frequent.rasp", "sort_by_most_freq_bos", Value::str("§abbcbcc"), Schedule::Best);
        check(&case);
        let list = Value::list((0..16).map(|i| Value::int((i * 7) % 5)).collect());
        let case = draw_with("examples/histogram.rasp", "hist", list, Schedule::Greedy);
        check(&case);
        assert_eq!(case.drawing.title(), "hist([0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0])");
    });
}

#[test]
fn snapshot_reverse_hello() {
    run(|| {
        let case = draw("examples/reverse.rasp", "reverse", "hello");
        assert_eq!(case.analysis.heads_per_layer, vec![1, 1]);
        assert_snapshot("reverse_hello.outline", &outline(&case.drawing.to_svg()));
    });
}

#[test]
fn snapshot_hist_hello() {
    run(|| {
        let case = draw("examples/histogram.rasp", "hist", "hello");
        assert_eq!(case.analysis.heads_per_layer, vec![2]);
        assert_snapshot("hist_hello.outline", &outline(&case.drawing.to_svg()));
    });
}

#[test]
fn the_committed_picture_in_docs_is_current() {
    run(|| {
        let case = draw("examples/reverse.rasp", "reverse", "hello");
        let path = common::workspace_root().join("docs/reverse.svg");
        let svg = case.drawing.to_svg();
        if common::updating() {
            std::fs::write(&path, &svg).expect("write docs/reverse.svg");
            return;
        }
        let committed = std::fs::read_to_string(&path).expect("docs/reverse.svg");
        assert!(committed == svg, "docs/reverse.svg is stale: run with UPDATE_SNAPSHOTS=1 (or `rasp draw`)");
    });
}

#[test]
fn reverse_shows_what_the_reference_shows() {
    run(|| {
        let case = draw("examples/reverse.rasp", "reverse", "hello");
        let svg = case.drawing.to_svg();
        // The flip selector as written, its name, the result and the output.
        assert!(svg.contains("select(indices, ( ( length - 1 ) - indices ), ==)"), "{svg}");
        assert!(svg.contains(">flip</tspan>"));
        assert!(svg.contains(">layer 1<tspan") && svg.contains(">layer 2<tspan"));
        assert!(svg.contains(">layer 0 · embedding<tspan"));
        assert!(svg.contains(">I(( indices == 0 ))</text>"));
        // `length - 1` only feeds `- indices`: minor, hidden (semantics.md §4);
        // `1 / s-op` inside `length = round(1 / ...)` too.
        assert!(!svg.contains(">( length - 1 )</text>"));
        assert!(!svg.contains("( 1 / s-op )"));
        // The output, bold, in order.
        let out = svg.split("<g class=\"output\"").nth(1).expect("output band");
        let values: Vec<&str> = out
            .split("<text class=\"v\"")
            .skip(1)
            .filter_map(|t| t.split_once("</text>").and_then(|(t, _)| t.rsplit_once('>')).map(|(_, v)| v))
            .collect();
        assert_eq!(values, ["o", "l", "l", "e", "h"]);
    });
}

#[test]
fn duplicate_names_get_suffixes() {
    run(|| {
        // Two unnamed aggregates ("s-op") shown in one drawing.
        let mut session = rasp_lang::Session::new(Box::new(rasp_lang::NoFiles));
        session.feed_line("x = aggregate(select(indices, indices, ==), indices) + aggregate(select(indices, indices, <), indices, 0);");
        let _ = session.take_output();
        let Some(Value::Sop(root)) = session.lookup("x") else { panic!("x") };
        let analysis = rasp_analyze::analyze(&session.graph, root, Schedule::Greedy);
        let elements = Value::str("abc").iter_elements().expect("elements");
        let drawing = rasp_draw::Drawing::new(&session.graph, root, &elements, &analysis).expect("drawing");
        let svg = drawing.to_svg();
        assert!(svg.contains(">s-op_0</text>") && svg.contains(">s-op_1</text>"), "{svg}");
    });
}

#[test]
fn html_is_self_contained_with_hover_details() {
    run(|| {
        let case = draw("examples/reverse.rasp", "reverse", "hello");
        let html = case.drawing.to_html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("http"), "the page must not reach the network");
        assert!(!html.contains("src=") && !html.contains("<link"));
        assert!(html.contains("<svg") && html.contains("<script>") && html.contains("<style>"));
        assert!(html.contains(
            "data-tip=\"query position 0 (( ( length - 1 ) - indices ) = 4)\nkey position 4 (indices = 4)\nselected\""
        ));
        assert!(html.contains("data-tip=\"tokens, position 1: &#39;e&#39;\""));
        assert!(html.contains("data-tip=\"layer 2, head 1: selector flip"));
        // Tooltips are the page's; no native <title> doubles them.
        assert!(!html.contains("<title>") || html.matches("<title>").count() == 1);
    });
}

#[test]
fn svg_has_tooltips_and_escapes_text() {
    run(|| {
        let case = draw("examples/reverse.rasp", "reverse", "<&>\"'");
        let svg = case.drawing.to_svg();
        assert!(svg.contains(">&lt;</text>") && svg.contains(">&amp;</text>") && svg.contains(">&quot;</text>"));
        assert!(svg.contains("<title>query position 0"));
        check(&case);
    });
}

#[test]
fn long_values_and_names_are_shortened_with_a_tooltip() {
    run(|| {
        let long = "a_very_long_token_value_indeed";
        let list = Value::list(vec![Value::str(long), Value::str("b")]);
        let case = draw_with("examples/reverse.rasp", "reverse", list, Schedule::Greedy);
        let svg = case.drawing.to_svg();
        assert!(svg.contains("a_very_long…"), "{svg}");
        assert!(svg.contains(&format!("<title>{long}</title>")) || svg.contains(&format!("'{long}'")));
        check(&case);
    });
}

#[test]
fn file_names_follow_the_reference() {
    run(|| {
        let case = draw("examples/reverse.rasp", "reverse", "hello");
        assert_eq!(rasp_draw::default_file_name(&case.graph, case.root, &case.input), "reverse(\"hello\").svg");
        assert_eq!(rasp_draw::default_path(&case.graph, case.root, &case.input), "comp_flows/reverse(\"hello\").svg");
        let list = Value::list(vec![Value::int(1), Value::int(2), Value::str("a")]);
        assert_eq!(rasp_draw::default_file_name(&case.graph, case.root, &list), "reverse([1, 2, 'a']).svg");
        let mut session = rasp_lang::Session::new(Box::new(rasp_lang::NoFiles));
        session.feed_line("h = indices / 2;");
        let Some(Value::Sop(half)) = session.lookup("h") else { panic!("h") };
        session.feed_line("indices / 2;");
        let _ = session.take_output();
        // A `/` in a name never makes a directory.
        let name = rasp_draw::default_file_name(&session.graph, half, &Value::str("a/b"));
        assert_eq!(name, "h(\"a∕b\").svg");
    });
}

#[test]
fn evaluation_errors_are_reported() {
    run(|| {
        let mut session = rasp_lang::Session::new(Box::new(rasp_lang::NoFiles));
        // Checked on the example "abc" when defined, failing on "hello".
        session.feed_line("set example \"abc\"");
        session.feed_line("bad = 1 / (indices - 3);");
        let output = session.take_output();
        let Some(Value::Sop(root)) = session.lookup("bad") else { panic!("bad: {output}") };
        let analysis = rasp_analyze::analyze(&session.graph, root, Schedule::Greedy);
        let elements = Value::str("hello").iter_elements().expect("elements");
        let err = rasp_draw::Drawing::new(&session.graph, root, &elements, &analysis).expect_err("division by zero");
        assert!(err.to_string().starts_with("evaluating the input failed: "), "{err}");
    });
}

#[test]
fn zero_layer_programs_show_the_embedding() {
    run(|| {
        let mut session = rasp_lang::Session::new(Box::new(rasp_lang::NoFiles));
        session.feed_line("plus = indices + 1;");
        let _ = session.take_output();
        let Some(Value::Sop(root)) = session.lookup("plus") else { panic!("plus") };
        let analysis = rasp_analyze::analyze(&session.graph, root, Schedule::Greedy);
        let elements = Value::str("abc").iter_elements().expect("elements");
        let drawing = rasp_draw::Drawing::new(&session.graph, root, &elements, &analysis).expect("drawing");
        let svg = drawing.to_svg();
        assert!(svg.contains(">layer 0 · embedding<tspan") && !svg.contains(">layer 1<"));
        assert!(svg.contains("0 layers"));
    });
}
