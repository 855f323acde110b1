//! The playground's functions as the page's worker calls them, natively.

use serde_json::Value;

const REVERSE: &str = "flip = select(indices, length - indices - 1, ==);\nreverse = aggregate(flip, tokens);\n";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn runs_the_program_on_the_input_and_draws_its_last_sop() {
    let result = parse(&rasp_web::run(REVERSE, "hello", ""));
    let output = result["output"].as_str().expect("output");
    assert!(output.contains("     s-op: reverse\n"), "{output}");
    assert!(output.contains("Example: reverse(\"hello\") = [o, l, l, e, h] (strings)"), "{output}");
    assert!(output.contains("     selector: flip\n"), "{output}");
    assert_eq!(result["diagnostics"], serde_json::json!([]));
    assert_eq!(result["sops"], serde_json::json!(["reverse"]));
    assert_eq!(result["selected"], "reverse");
    assert_eq!((result["layers"].as_u64(), result["heads"].as_u64()), (Some(2), Some(2)));
    assert_eq!(result["heads_per_layer"], serde_json::json!([1, 1]));
    let svg = result["svg"].as_str().expect("a drawing");
    assert!(svg.contains("<svg"), "{svg:.200}");
    assert!(result["analysis"].as_str().is_some_and(|a| a.contains("reverse")));
}

#[test]
fn the_running_example_is_the_input() {
    let result = parse(&rasp_web::run(REVERSE, "abc", ""));
    let output = result["output"].as_str().expect("output");
    assert!(output.contains("Example: reverse(\"abc\") = [c, b, a] (strings)"), "{output}");
    let list = parse(&rasp_web::run("x = tokens_int + 1;\n", "[1, 2, 3]", ""));
    assert!(list["output"].as_str().is_some_and(|o| o.contains("x([1, 2, 3]) = [2, 3, 4] (ints)")), "{list}");
}

#[test]
fn text_with_a_double_quote_is_still_the_running_example() {
    // RASP strings cannot hold '"': it is the s-op example, and selectors
    // are shown without one.
    let result = parse(&rasp_web::run(REVERSE, "a\"b", ""));
    let output = result["output"].as_str().expect("output");
    assert!(output.contains("Example: reverse(\"a\"b\") = [b, \", a] (strings)"), "{output}");
    assert!(!output.contains("h e l l o"), "{output}");
    assert!(result["input_error"].is_null());
    assert!(result["svg"].as_str().is_some());
}

#[test]
fn draws_the_sop_asked_for() {
    let source = format!("{REVERSE}n = indices + 1;\n");
    let last = parse(&rasp_web::run(&source, "hey", ""));
    assert_eq!(last["selected"], "n");
    assert_eq!(last["sops"], serde_json::json!(["reverse", "n"]));
    assert_eq!(last["layers"].as_u64(), Some(0));
    let asked = parse(&rasp_web::run(&source, "hey", "reverse"));
    assert_eq!(asked["selected"], "reverse");
    assert_eq!(asked["layers"].as_u64(), Some(2));
    // A name that is not one of its s-ops falls back to the last one.
    let unknown = parse(&rasp_web::run(&source, "hey", "flip"));
    assert_eq!(unknown["selected"], "n");
}

#[test]
fn errors_carry_their_place_in_the_editor() {
    let source = "a = tokens;\nb = 3 +;\nc = nope;\n";
    let result = parse(&rasp_web::run(source, "hello", ""));
    let diagnostics = result["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 2, "{result}");
    assert_eq!((diagnostics[0]["line"].as_u64(), diagnostics[0]["column"].as_u64()), (Some(2), Some(8)));
    assert!(diagnostics[0]["rendered"].as_str().is_some_and(|r| r.contains("--> program.rasp:2:8")));
    assert_eq!((diagnostics[1]["line"].as_u64(), diagnostics[1]["column"].as_u64()), (Some(3), Some(5)));
    // "c = nope;" starts at offset 21; `nope` covers 25..29.
    assert_eq!((diagnostics[1]["from"].as_u64(), diagnostics[1]["to"].as_u64()), (Some(25), Some(29)));
    assert!(diagnostics[1]["message"].as_str().is_some_and(|m| m.contains("nope")));
    // The s-ops that did get defined are still listed, but not drawn.
    assert_eq!(result["selected"], "a");
    assert!(result["svg"].is_null());
    assert!(result["draw_error"].as_str().is_some_and(|e| e.contains("errors")));
}

#[test]
fn offsets_are_javascript_string_offsets() {
    // "§" is two bytes in UTF-8 but one UTF-16 unit.
    let source = "s = \"§\";\nt = nope;\n";
    let result = parse(&rasp_web::run(source, "hello", ""));
    let diagnostic = &result["diagnostics"][0];
    assert_eq!((diagnostic["from"].as_u64(), diagnostic["to"].as_u64()), (Some(13), Some(17)));
}

#[test]
fn runaway_recursion_ends_with_a_message() {
    // The stack the WebAssembly module gets (build.rs).
    let on_wasm_stack = std::thread::Builder::new()
        .stack_size(32 * 1024 * 1024)
        .spawn(|| rasp_web::run("def f(n) { return f(n); }\nf(1);\n", "hello", ""))
        .expect("a thread");
    let result = parse(&on_wasm_stack.join().expect("no stack overflow"));
    let diagnostics = result["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diagnostics.iter().any(|d| d["message"].as_str().is_some_and(|m| m.contains("maximum recursion depth"))),
        "{result}"
    );
    assert_eq!(diagnostics[0]["line"].as_u64(), Some(1));
}

#[test]
fn unreadable_inputs_and_undrawable_ones_are_reported() {
    let result = parse(&rasp_web::run(REVERSE, "[1, 2", ""));
    assert!(result["input_error"].as_str().is_some_and(|e| e.contains("cannot read the input")), "{result}");
    // Without a running example the program still runs, shows no
    // examples, and is analysed but not drawn.
    assert_eq!(result["output"], "     selector: flip\n     s-op: reverse\n");
    assert_eq!(result["layers"].as_u64(), Some(2));
    assert!(result["svg"].is_null());
    let empty = parse(&rasp_web::run(REVERSE, "", ""));
    assert!(empty["input_error"].as_str().is_some_and(|e| e.contains("empty")), "{empty}");
    assert_eq!(empty["diagnostics"], serde_json::json!([]));
    assert_eq!(empty["selected"], "reverse");
    let nothing = parse(&rasp_web::run("n = 3;\n", "hello", ""));
    assert!(nothing["selected"].is_null());
    assert_eq!(nothing["sops"], serde_json::json!([]));
}

#[test]
fn compiles_verifies_and_compares_attention() {
    let result = parse(&rasp_web::compile(REVERSE, "reverse", "abc", 4, "cab"));
    assert!(result["error"].is_null(), "{result}");
    assert_eq!(result["mismatches"].as_u64(), Some(0));
    // 3 + 9 + 27 + 81 words, all checked.
    assert_eq!(result["inputs_checked"].as_u64(), Some(120));
    assert_eq!(result["exhaustive"], true);
    assert!(result["summary"].as_str().is_some_and(|s| s.starts_with("reverse: compiled size d_model")), "{result}");
    assert!(result["parameters"].as_u64().is_some_and(|p| p > 0));
    assert!(result["verify"].as_str().is_some_and(|v| v.contains("mismatches: 0 of 120 inputs")));
    assert!(result["attention_svg"].as_str().is_some_and(|s| s.contains("<svg")));
    assert!(result["attention"].as_str().is_some_and(|a| a.contains("layer 2 head 1")), "{result}");
}

#[test]
fn compile_reports_what_it_cannot_do() {
    let bad_length = parse(&rasp_web::compile(REVERSE, "reverse", "abc", 0, "abc"));
    assert!(bad_length["error"].as_str().is_some_and(|e| e.contains("maximum length")));
    let no_vocab = parse(&rasp_web::compile(REVERSE, "reverse", "", 4, "abc"));
    assert!(no_vocab["error"].as_str().is_some_and(|e| e.contains("vocabulary")));
    let no_sop = parse(&rasp_web::compile(REVERSE, "flip", "abc", 4, "abc"));
    assert!(no_sop["error"].as_str().is_some_and(|e| e.contains("selector")), "{no_sop}");
    let broken = parse(&rasp_web::compile("x = ;", "x", "abc", 4, "abc"));
    assert!(broken["error"].as_str().is_some_and(|e| e.contains("program.rasp:1:5")), "{broken}");
    // The model compiles, but the input has a token outside the vocabulary.
    let outside = parse(&rasp_web::compile(REVERSE, "reverse", "abc", 4, "xyz"));
    assert_eq!(outside["mismatches"].as_u64(), Some(0));
    assert!(outside["attention_error"].as_str().is_some_and(|e| e.contains("xyz")), "{outside}");
}

#[test]
fn help_answers_as_the_repl_does() {
    assert!(rasp_web::help("").contains("sort(seq, key)"));
    assert!(rasp_web::help("select").starts_with("select(keys, queries, op)"));
    assert_eq!(rasp_web::version(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn long_inputs_run_but_are_not_drawn() {
    let input = "ab".repeat(1_500);
    let started = std::time::Instant::now();
    let result = parse(&rasp_web::run(REVERSE, &input, ""));
    assert!(result["output"].as_str().is_some_and(|o| o.contains("s-op: reverse")), "{:.300}", result["output"]);
    assert_eq!(result["layers"].as_u64(), Some(2));
    assert!(result["svg"].is_null());
    assert!(result["draw_error"].as_str().is_some_and(|e| e.contains("too long to draw")), "{}", result["draw_error"]);
    // Well inside the page's time limit, even unoptimised.
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

#[test]
fn huge_values_are_refused_by_the_interpreter() {
    let result = parse(&rasp_web::run("x = range(1000000000);\ny = [0] * 1000000000;\n", "hello", ""));
    let diagnostics = result["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 2, "{result}");
    assert!(diagnostics.iter().all(|d| d["line"].as_u64().is_some()), "{result}");
}

/// `run_update`'s answer: its JSON and the drawing's text.
fn update(source: &str, input: &str, against_last: bool) -> (Value, String) {
    let mut parts = rasp_web::run_update(source, input, "", against_last);
    assert_eq!(parts.len(), 2);
    let text = parts.pop().unwrap_or_default();
    (parse(&parts[0]), text)
}

#[test]
fn run_update_is_run_with_the_drawing_apart() {
    let whole = parse(&rasp_web::run(REVERSE, "hello", ""));
    let (mut json, text) = update(REVERSE, "hello", false);
    assert!(json["svg"].is_null());
    let fields = json.as_object_mut().expect("an object");
    assert_eq!(fields.remove("drawing"), Some(Value::from("whole")));
    assert_eq!((fields.remove("changed"), fields.remove("texts_changed")), (Some(Value::Null), Some(Value::Null)));
    assert_eq!(whole["svg"].as_str(), Some(text.as_str()));
    assert!(text.starts_with("<?xml") && text.contains("reverse(&quot;hello&quot;)"));
    // The same answer otherwise, but for the times, which differ per run.
    let phases = json["phases"].take();
    for phase in ["session", "program", "names", "analysis", "layout", "svg"] {
        assert!(phases[phase].as_f64().is_some_and(|ms| ms >= 0.0), "{phase}: {phases}");
    }
    let mut whole = whole;
    whole["svg"] = Value::Null;
    whole["phases"] = Value::Null;
    json["phases"] = Value::Null;
    assert_eq!(json, whole);
    // No drawing: nothing to send.
    let (json, text) = update("x = 1;", "hello", true);
    assert_eq!((json["drawing"].as_str(), text.as_str()), (Some("none"), ""));
}

#[test]
fn run_update_sends_only_the_elements_that_changed() {
    let (first, whole) = update(REVERSE, "abc", false);
    assert_eq!(first["drawing"], "whole");
    // The same drawing again: nothing to send; asked for all of it, all.
    let (again, text) = update(&format!("{REVERSE}\n"), "abc", true);
    assert_eq!((again["drawing"].as_str(), text.as_str()), (Some("same"), ""));
    let (forced, text) = update(REVERSE, "abc", false);
    assert_eq!((forced["drawing"].as_str(), text == whole), (Some("whole"), true));
    // Another input of the same length: the same elements, some with other
    // values. Each element sent is the new drawing's, and putting them in
    // the place of the old ones gives the new drawing.
    let (changed, payload) = update(REVERSE, "abd", true);
    assert_eq!(changed["drawing"], "changes");
    let after = parse(&rasp_web::run(REVERSE, "abd", ""))["svg"].as_str().unwrap_or_default().to_string();
    let numbers = |key: &str| -> Vec<usize> {
        changed[key].as_array().expect(key).iter().filter_map(Value::as_u64).map(|i| i as usize).collect()
    };
    let (indices, texts) = (numbers("changed"), numbers("texts_changed"));
    let payload: Vec<&str> = payload.split('\0').collect();
    assert_eq!(indices.len() + texts.len() / 2, payload.len());
    let (pieces, new_texts) = payload.split_at(indices.len());
    // The drawing's elements, cut by hand: every line that starts a tag
    // other than a closing one.
    let lines = |svg: &str| -> Vec<String> {
        let mut elements: Vec<String> = Vec::new();
        for line in svg.lines().skip(1) {
            let trimmed = line.trim_start();
            if trimmed.starts_with('<') && !trimmed.starts_with("</") {
                elements.push(trimmed.to_string());
            } else if let Some(last) = elements.last_mut().filter(|_| !trimmed.starts_with("</")) {
                // A hover text over several lines.
                last.push('\n');
                last.push_str(line);
            }
        }
        elements
    };
    let mut patched = lines(&whole);
    let wanted = lines(&after);
    assert_eq!(patched.len(), wanted.len());
    for (&i, piece) in indices.iter().zip(pieces) {
        patched[i] = piece.to_string();
    }
    // A text change replaces the n-th non-empty text between tags, escaped
    // as in the SVG.
    for (pair, new_text) in texts.chunks(2).zip(new_texts) {
        let (element, node) = (pair[0], pair[1]);
        let escaped = new_text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        let mut parts: Vec<String> = patched[element].split('>').map(str::to_string).collect();
        let mut seen = 0;
        for part in parts.iter_mut() {
            let text_len = part.find('<').unwrap_or(part.len());
            if text_len > 0 {
                if seen == node {
                    part.replace_range(..text_len, &escaped);
                }
                seen += 1;
            }
        }
        patched[element] = parts.join(">");
    }
    assert_eq!(patched, wanted);
    // The title (in the root's label) changed, most cells only in their
    // values and hover texts, which go as texts (quotes unescaped), and
    // most elements not at all.
    assert!(indices.contains(&0), "{indices:?}");
    assert!(new_texts.contains(&"d"), "{new_texts:?}");
    assert!(new_texts.iter().any(|t| t.contains("'d'")), "{new_texts:?}");
    assert!(texts.len() / 2 > indices.len(), "{} texts, {} elements", texts.len() / 2, indices.len());
    assert!((indices.len() + texts.len() / 2) * 4 < wanted.len(), "{indices:?} {texts:?} of {}", wanted.len());
    // Another length: other elements, sent whole.
    let (longer, text) = update(REVERSE, "abcd", true);
    assert_eq!(longer["drawing"], "whole");
    assert!(text.contains("reverse(&quot;abcd&quot;)"));
}

#[test]
fn each_run_draws_its_own_text() {
    // Runs of other texts in between must not draw an earlier program.
    let doubled = "doubled = indices * 2;\n";
    let first = parse(&rasp_web::run(REVERSE, "hello", ""));
    let other = parse(&rasp_web::run(doubled, "abc", ""));
    let again = parse(&rasp_web::run(REVERSE, "abc", ""));
    assert_eq!(first["selected"], "reverse");
    assert_eq!(other["selected"], "doubled");
    assert_eq!(other["layers"].as_u64(), Some(0), "{}", other["analysis"]);
    assert!(other["svg"].as_str().is_some_and(|svg| svg.contains("doubled(&quot;abc&quot;)")));
    assert!(again["svg"].as_str().is_some_and(|svg| svg.contains("reverse(&quot;abc&quot;)")));
    assert_eq!((again["layers"].as_u64(), again["heads"].as_u64()), (Some(2), Some(2)));
    // After a program that does not load, the next run of the same name
    // with another text draws that text.
    let broken = parse(&rasp_web::run("reverse = ;\n", "abc", ""));
    assert!(broken["svg"].is_null());
    let fixed = parse(&rasp_web::run("reverse = tokens;\n", "abc", ""));
    assert_eq!(fixed["layers"].as_u64(), Some(0));
}
