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
        assert!(svg.contains("select(indices, length - 1 - indices, ==)"), "{svg}");
        assert!(svg.contains(">flip</tspan>"));
        assert!(svg.contains(">layer 1<tspan") && svg.contains(">layer 2<tspan"));
        assert!(svg.contains(">layer 0 · embedding<tspan"));
        assert!(svg.contains(">indicator(indices == 0)</text>"));
        // `length - 1` only feeds `- indices`: minor, hidden (semantics.md §4);
        // `1 / x` inside `length = round(1 / x)` too.
        assert!(!svg.contains(">length - 1</text>"));
        assert!(!svg.contains(">1 / (1/length)</text>"));
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
fn unnamed_values_are_named_by_what_they_compute() {
    run(|| {
        // Two unnamed aggregates (both "s-op" to the reference).
        let mut session = rasp_lang::Session::new(Box::new(rasp_lang::NoFiles));
        session.feed_line("x = aggregate(select(indices, indices, ==), indices) + aggregate(select(indices, indices, <), indices, 0);");
        let _ = session.take_output();
        let Some(Value::Sop(root)) = session.lookup("x") else { panic!("x") };
        let analysis = rasp_analyze::analyze(&session.graph, root, Schedule::Greedy);
        let elements = Value::str("abc").iter_elements().expect("elements");
        let drawing = rasp_draw::Drawing::new(&session.graph, root, &elements, &analysis).expect("drawing");
        let svg = drawing.to_svg();
        assert!(svg.contains("aggregate(select(indices, indices, ==), indices)"), "{svg}");
        assert!(svg.contains("aggregate(select(indices, indices, &lt;), indices, 0)"), "{svg}");
        assert!(!svg.contains("s-op"), "{svg}");
    });
}

/// Words of the texts a picture shows (element text and tooltips), split
/// at anything but letters, digits, `_`, `-` and `#`; a word cut by `…`
/// is left out (its whole text is in a tooltip).
fn shown_words(svg: &str) -> Vec<String> {
    // An HTML page's style sheet and script are not shown.
    let mut svg = svg.to_string();
    for (open, close) in [("<style>", "</style>"), ("<script>", "</script>")] {
        while let (Some(a), Some(b)) = (svg.find(open), svg.find(close)) {
            if b < a {
                break;
            }
            svg.replace_range(a..b + close.len(), "");
        }
    }
    let mut words = Vec::new();
    for chunk in svg.split('<').filter_map(|part| part.split_once('>').map(|(_, text)| text)) {
        let chunk = chunk
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&amp;", "&");
        let mut word = String::new();
        for c in chunk.chars() {
            if c.is_alphanumeric() || c == '_' || c == '-' || c == '#' {
                word.push(c);
                continue;
            }
            if !word.is_empty() && c != '…' {
                words.push(std::mem::take(&mut word));
            }
            word.clear();
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// The library's numbered scratch locals (`sAND0`, `valat0`): names
/// assigned inside a `def` of the library source that end in a digit, read
/// from the source text itself.
fn library_scratch_names() -> Vec<String> {
    let source = std::fs::read_to_string(common::workspace_root().join("crates/rasp-lang/src/library/rasplib.rasp"))
        .expect("library source");
    let mut names = Vec::new();
    let mut depth = 0usize;
    for line in source.lines() {
        let line = line.trim();
        if depth > 0
            && let Some((name, _)) = line.split_once('=')
        {
            let name = name.trim();
            if !name.is_empty()
                && name.chars().all(|c| c.is_alphanumeric() || c == '_')
                && name.ends_with(|c: char| c.is_ascii_digit())
            {
                names.push(name.to_string());
            }
        }
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
    }
    names
}

/// A placeholder is a name the reader cannot use: the reference's defaults
/// for unnamed values (`s-op`, `sel`, `plain select`), alone or with a
/// suffix (`s-op_0`, `s-op#11`); a duplicate suffix on any name
/// (`name_0`, `name_1` ending a word that the program does not define);
/// or a numbered scratch local of the library (`sAND0`, `valat0`).
fn placeholders(svg: &str, scratch: &[String]) -> Vec<String> {
    let mut found: Vec<String> = shown_words(svg)
        .into_iter()
        .filter(|w| {
            let base = w.split('#').next().unwrap_or(w);
            let unsuffixed =
                base.rsplit_once('_').filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty());
            base == "s-op"
                || base == "sel"
                || unsuffixed.is_some_and(|(stem, _)| stem == "s-op" || stem == "sel")
                || scratch.iter().any(|s| s == base)
                || w.contains('#')
        })
        .collect();
    if svg.contains("plain select") {
        found.push("plain select".to_string());
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_placeholder_check_finds_placeholders() {
    let scratch = library_scratch_names();
    for name in ["sAND0", "sOR0", "valat0", "at0", "except0"] {
        assert!(scratch.iter().any(|s| s == name), "{name} missing from {scratch:?}");
    }
    let svg = "<text>s-op_0</text><text>x#11</text><text>plain select</text><text>valat0</text><text>sel</text>";
    assert_eq!(placeholders(svg, &scratch), ["plain select", "s-op_0", "sel", "valat0", "x#11"]);
    let clean = "<text>1 output, elementwise</text><text>select(indices, 0, ==)</text><text>selector_width</text><text>sel…</text>";
    assert!(placeholders(clean, &scratch).is_empty(), "{:?}", placeholders(clean, &scratch));
}

#[test]
fn no_drawing_of_an_example_shows_a_placeholder_name() {
    run(|| {
        let scratch = library_scratch_names();
        for (file, sop, inputs) in CASES {
            for input in *inputs {
                let case = draw(file, sop, input);
                for page in [case.drawing.to_svg(), case.drawing.to_html()] {
                    let found = placeholders(&page, &scratch);
                    assert!(found.is_empty(), "{sop}({input}) shows placeholders {found:?}");
                }
            }
        }
    });
}

#[test]
fn reverse_names_length_in_layer_1_and_flip_in_layer_2() {
    run(|| {
        let case = draw("examples/reverse.rasp", "reverse", "hello");
        let svg = case.drawing.to_svg();
        let layer = |n: usize| {
            let start = svg.find(&format!("id=\"layer{n}\"")).expect("layer band");
            let rest = &svg[start..];
            let end =
                rest[1..].find("<g class=\"layer\"").or_else(|| rest.find("<g class=\"output\"")).unwrap_or(rest.len());
            rest[..end].to_string()
        };
        let (one, two) = (layer(1), layer(2));
        // Layer 1: the full-average head makes 1/length, its MLP length.
        assert!(one.contains(">1/length</text>"), "{one}");
        assert!(one.contains(">length</text>"), "{one}");
        assert!(one.contains("length = round(1 / x) with x = 1/length"), "{one}");
        // Layer 2: the flip selector's head makes reverse.
        assert!(two.contains(">flip</tspan>"), "{two}");
        assert!(two.contains(">reverse</text>"), "{two}");
        assert!(!one.contains(">flip</tspan>") && !two.contains(">length</text>"));
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
            "data-tip=\"query position 0 (length - 1 - indices = 4)\nkey position 4 (indices = 4)\nselected\nmoves tokens = &#39;o&#39; from key 4\nresult reverse = &#39;o&#39; at query 0\""
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
