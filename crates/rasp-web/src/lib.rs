//! The playground's WebAssembly module: what the page needs from rasp,
//! through the facade crate and nothing else.
//!
//! Every function takes strings and returns a JSON string (documented on
//! each function), so the same code runs natively in the tests and in the
//! browser, where a Web Worker calls it and the page shows the result.
//! Each call runs the program from its text (milliseconds for the paper's
//! programs), once: the session that shows the REPL's output is then the
//! [`Program`] analysed and drawn. Two things are kept between calls: the
//! library's names, which do not change an answer, and the last drawing
//! [`run_update`] made, which it sends only the changes to when asked.

#![warn(missing_docs)]

mod clock;
mod diagnostics;

pub use clock::Phases;
pub use diagnostics::{Diagnostic, from_session};

use rasp::{
    AnalyzeOptions, AttentionComparison, CompileOptions, NoFiles, Program, Session, SvgParts, Value, VerifyOptions,
};
use serde_json::{Value as Json, json};
use std::cell::RefCell;
use std::collections::BTreeSet;
use wasm_bindgen::prelude::wasm_bindgen;

/// The name the editor's program runs under: it starts every location in
/// the REPL's messages (`program.rasp:3:5`).
pub const PROGRAM_NAME: &str = "program.rasp";

/// The longest model the Compile button builds: the REPL's `compile(...)`
/// limit, since verification runs in the page too.
pub const MAX_COMPILE_LENGTH: u32 = 64;

/// Inputs checked per length when there are too many to check all (as the
/// REPL's `compile(...)` does).
const VERIFY_SAMPLE_PER_LENGTH: usize = 2_000;

/// The version of rasp the module was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Runs `source` as a file at the REPL with `input` as the running example,
/// and analyses and draws the s-op `selected` (or, when `selected` is empty
/// or not an s-op the program defines, the last s-op it defines) on `input`.
///
/// Returns a JSON object:
/// - `output`: the lines the REPL prints for the program (every s-op and
///   selector shown on the running example), without its error messages;
/// - `diagnostics`: the errors, each `{message, rendered, line, column,
///   from, to}` (`from`/`to` in UTF-16 units of `source`, as the editor
///   counts, or null when the error has no place);
/// - `input_error`: why `input` is not a usable running example (then the
///   program runs without showing examples, and nothing is drawn), or null;
/// - `sops`: the s-ops the program defines, in the order they were built;
/// - `selected`: the s-op analysed and drawn, or null;
/// - `layers`, `heads_per_layer`, `heads`: its analysis (null if none);
/// - `analysis`: the analysis as `rasp analyze` prints it;
/// - `svg`: the drawing, or null with the reason in `draw_error`;
/// - `phases`: milliseconds spent in each step of this call, by name
///   (`session`, `program`, ...), for the page's timing figures.
#[wasm_bindgen]
pub fn run(source: &str, input: &str, selected: &str) -> String {
    let (mut result, drawing) = run_json(source, input, selected);
    if let Some(drawing) = drawing {
        result["svg"] = json!(drawing.text);
    }
    result.to_string()
}

/// [`run`] for a page that shows one drawing after another: `[json,
/// drawing]`, where `json` is `run`'s object with `svg` null and three
/// more fields, and `drawing` is text as they say:
/// - `drawing`: `"none"` (no drawing; `drawing` is empty), `"whole"` (the
///   SVG), `"same"` (the drawing is the last one this module made; empty),
///   or `"changes"` (what differs from the last drawing this module made,
///   which has as many elements with the same tags);
/// - `changed`: for `"changes"`, the elements sent whole, each by its
///   index in document order (the root `<svg>` is 0), else null;
/// - `texts_changed`: for `"changes"`, the elements in which only texts
///   changed (a value, a hover text), as pairs `[element, text]` flattened
///   into one list: the element's index, and which of the text nodes in
///   it (in document order, from 0) has a new text; else null.
///
/// For `"changes"`, `drawing` is the text of each element in `changed` (as
/// [`rasp::SvgParts`] cuts it, escaped), then each new text of
/// `texts_changed` (as the text node holds it, not escaped), separated by
/// NUL characters, which an SVG cannot hold.
///
/// `against_last` says whether the caller shows the last drawing this
/// module made (else the whole SVG is sent). A drawing is hundreds of
/// kilobytes of SVG while an edit changes some of its thousands of
/// elements, most of them only in a text: the page receives, reads and
/// changes only those.
#[wasm_bindgen]
pub fn run_update(source: &str, input: &str, selected: &str, against_last: bool) -> Vec<String> {
    let (mut result, drawing) = run_json(source, input, selected);
    result["changed"] = Json::Null;
    result["texts_changed"] = Json::Null;
    let Some(drawing) = drawing else {
        result["drawing"] = json!("none");
        return vec![result.to_string(), String::new()];
    };
    let last = LAST_DRAWING.take().filter(|_| against_last);
    let (kind, text) = match last.as_ref().map(|last| changes(last, &drawing)) {
        Some(Changes::Same) => ("same", String::new()),
        Some(Changes::Some { elements, texts }) => {
            let pieces = elements.iter().map(|&i| &drawing.text[drawing.elements[i].clone()]);
            let text = pieces.chain(texts.iter().map(|(_, _, new)| new.as_str())).collect::<Vec<_>>().join("\0");
            result["changed"] = json!(elements);
            result["texts_changed"] = json!(texts.iter().flat_map(|&(e, t, _)| [e, t]).collect::<Vec<_>>());
            ("changes", text)
        }
        Some(Changes::Other) | None => ("whole", drawing.text.clone()),
    };
    result["drawing"] = json!(kind);
    LAST_DRAWING.set(Some(drawing));
    vec![result.to_string(), text]
}

thread_local! {
    /// The last drawing [`run_update`] made.
    static LAST_DRAWING: RefCell<Option<SvgParts>> = const { RefCell::new(None) };
}

/// How a drawing differs from the one before.
enum Changes {
    Same,
    /// The same elements, some changed: these by index (all of them to be
    /// sent), those only in texts (element, text node, its new text).
    Some {
        elements: Vec<usize>,
        texts: Vec<(usize, usize, String)>,
    },
    /// Other elements (or a text that cannot be sent in pieces).
    Other,
}

fn changes(before: &SvgParts, after: &SvgParts) -> Changes {
    if before.text == after.text {
        return Changes::Same;
    }
    if before.elements.len() != after.elements.len() {
        return Changes::Other;
    }
    let (mut elements, mut texts) = (Vec::new(), Vec::new());
    for (i, (old, new)) in before.elements.iter().zip(&after.elements).enumerate() {
        let (old, new) = (&before.text[old.clone()], &after.text[new.clone()]);
        if old == new {
            continue;
        }
        if tag(old) != tag(new) {
            return Changes::Other;
        }
        // What is sent must not hold the separator (rasp-draw never writes
        // one: it replaces control characters in every text it escapes).
        if new.contains('\0') {
            return Changes::Other;
        }
        match changed_texts(old, new) {
            Some(changed) => texts.extend(changed.into_iter().map(|(node, text)| (i, node, text))),
            None => elements.push(i),
        }
    }
    Changes::Some { elements, texts }
}

/// When two texts of one element have the same tags and attributes and
/// differ only in non-empty texts between tags: each text that differs,
/// by its place among the element's text nodes, unescaped (as its node
/// holds it). rasp-draw escapes `<`, `>` and `&` in every text and
/// attribute, so a `<` starts a tag and a `>` ends one.
fn changed_texts(old: &str, new: &str) -> Option<Vec<(usize, String)>> {
    let (mut old_parts, mut new_parts) = (old.split('<'), new.split('<'));
    // Both start with a tag: nothing before the first `<`.
    if old_parts.next() != Some("") || new_parts.next() != Some("") {
        return None;
    }
    let (mut node, mut changed) = (0, Vec::new());
    loop {
        match (old_parts.next(), new_parts.next()) {
            (None, None) => return Some(changed),
            (Some(a), Some(b)) => {
                let ((tag_a, text_a), (tag_b, text_b)) = (a.split_once('>')?, b.split_once('>')?);
                if tag_a != tag_b || text_a.is_empty() != text_b.is_empty() {
                    return None;
                }
                if text_a != text_b {
                    changed.push((node, unescape(text_b)));
                }
                node += usize::from(!text_b.is_empty());
            }
            _ => return None,
        }
    }
}

/// Text as rasp-draw escapes it, unescaped (in one pass: most hover texts
/// hold quoted values, `&#39;a&#39;`).
fn unescape(text: &str) -> String {
    const ENTITIES: [(&str, char); 5] =
        [("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\''), ("&amp;", '&')];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match ENTITIES.iter().find(|(entity, _)| rest.starts_with(entity)) {
            Some((entity, c)) => {
                out.push(*c);
                rest = &rest[entity.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// An element's tag name: `<rect class=...` is `rect`.
fn tag(element: &str) -> &str {
    let name = element.strip_prefix('<').unwrap_or(element);
    let end = name.find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/').unwrap_or(name.len());
    &name[..end]
}

fn run_json(source: &str, input: &str, selected: &str) -> (Json, Option<SvgParts>) {
    let mut phases = Phases::start();
    let mut session = rasp::new_session(NoFiles);
    let example = set_running_example(&mut session, input);
    let input_error = example.as_ref().err().cloned();
    phases.end("session");
    session.run_file(PROGRAM_NAME, source);
    let output = session.take_output();
    let diagnostics = from_session(&mut session, source);
    // `draw(...)` statements print their REPL text; the page draws the
    // selected s-op itself.
    session.drawings.clear();
    phases.end("program");
    let sops = defined_sops(&session);
    phases.end("names");
    let chosen = sops
        .iter()
        .find(|(name, _)| !selected.is_empty() && name == selected)
        .or_else(|| sops.iter().max_by_key(|(_, order)| *order))
        .map(|(name, _)| name.clone());
    let mut result = json!({
        "output": output,
        "diagnostics": diagnostics.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
        "input_error": input_error,
        "sops": sops.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
        "selected": chosen,
        "layers": null,
        "heads_per_layer": null,
        "heads": null,
        "analysis": null,
        "svg": null,
        "draw_error": null,
        "phases": null,
    });
    let Some(name) = chosen else {
        result["phases"] = phases.to_json();
        return (result, None);
    };
    if !diagnostics.is_empty() {
        result["draw_error"] = json!("the program has errors; fix them to see the drawing");
        result["phases"] = phases.to_json();
        return (result, None);
    }
    let mut drawing = None;
    // The program as the session ran it: no second run for the drawing.
    let program = Program::from_session(session, PROGRAM_NAME, source).map_err(|e| e.to_string());
    match program.and_then(|program| analyse_and_draw(&program, &name, example.as_ref().ok(), &mut phases)) {
        Ok((fields, drawn)) => {
            for (key, value) in fields {
                result[key] = value;
            }
            drawing = drawn;
        }
        Err(message) => result["draw_error"] = json!(message),
    }
    result["phases"] = phases.to_json();
    (result, drawing)
}

/// Makes `input` the session's running example (of s-ops and selectors),
/// through the REPL's own `set example` command; returns it, or why it is
/// not usable, and then the session shows no examples (as after `examples
/// off`), since every definition would fail on them.
fn set_running_example(session: &mut Session, input: &str) -> Result<Value, String> {
    let value = match rasp::parse_input(session, input) {
        Ok(value) if value.iter_elements().is_some_and(|elements| elements.is_empty()) => {
            Err("the input is empty: type at least one token".to_string())
        }
        Ok(value) => Ok(value),
        Err(e) => Err(e.message().to_string()),
    };
    let trimmed = input.trim();
    let command = match &value {
        Err(_) => "examples off".to_string(),
        // A list or a quoted string, as `parse_input` read it.
        Ok(_) if trimmed.starts_with('[') || trimmed.starts_with('"') => format!("set example {trimmed}"),
        // RASP strings have no escapes: plain text is quoted as it is.
        Ok(_) if !input.contains(['"', '\r', '\n']) => format!("set example \"{input}\""),
        // Text with a double quote has no RASP literal: it is the s-op
        // example; selectors are not shown on an example they cannot have.
        Ok(value) => {
            session.sop_example = value.clone();
            "selector examples off".to_string()
        }
    };
    session.feed_line(&command);
    // The commands print nothing when they succeed.
    session.take_output();
    value
}

/// The analysis of `name`, as `(key, value)` pairs of the result, and
/// its drawing; a drawing that fails leaves the analysis (and says why in
/// `draw_error`).
type Drawn = (Vec<(&'static str, Json)>, Option<SvgParts>);

fn analyse_and_draw(
    program: &Program,
    name: &str,
    example: Option<&Value>,
    phases: &mut Phases,
) -> Result<Drawn, String> {
    let sop = program.sop(name, "draw").map_err(|e| e.to_string())?;
    let analysis = program.analyze(sop, AnalyzeOptions::default());
    let mut fields = vec![
        ("layers", json!(analysis.layers)),
        ("heads_per_layer", json!(analysis.heads_per_layer)),
        ("heads", json!(analysis.total_heads())),
        ("analysis", json!(analysis.report(program.graph()))),
    ];
    phases.end("analysis");
    let drawn = example.map(|example| program.draw(sop, example, AnalyzeOptions::default()));
    phases.end("layout");
    let svg = match drawn {
        Some(Ok(drawing)) => {
            let svg = drawing.to_svg_parts();
            phases.end("svg");
            Some(svg)
        }
        Some(Err(e)) => {
            fields.push(("draw_error", json!(e.to_string())));
            None
        }
        None => {
            fields.push(("draw_error", json!("no drawing without a usable input")));
            None
        }
    };
    Ok((fields, svg))
}

thread_local! {
    /// The names a fresh session has (the library's), made once: every run
    /// needs them, and a session costs as much to make as a small program.
    static FRESH_NAMES: BTreeSet<String> = rasp::new_session(NoFiles).names().into_iter().collect();
}

/// The s-ops a program defined at the console (names a fresh session does
/// not have), with the order their nodes were built in: the last one built
/// is what the page draws unless told otherwise.
fn defined_sops(session: &Session) -> Vec<(String, u32)> {
    let mut sops: Vec<(String, u32)> = FRESH_NAMES.with(|fresh| {
        session
            .names()
            .into_iter()
            .filter(|name| !fresh.contains(name))
            .filter_map(|name| match session.lookup(&name) {
                Some(Value::Sop(id)) => Some((name, id.0)),
                _ => None,
            })
            .collect()
    });
    sops.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    sops
}

/// Compiles the s-op `sop` of `source` to transformer weights for the
/// vocabulary `vocab` (`a,b,c`, or one token per character as `abc`) and
/// inputs of 1 to `max_len` tokens, verifies the model against the
/// interpreter, and runs it on `input` to compare its attention with the
/// program's selectors.
///
/// Returns a JSON object: `error` (null, or why nothing was compiled);
/// `summary` (the model's size, as `rasp compile` prints it); `parameters`;
/// `d_model`; `layers`; `verify` (the verification report as text);
/// `inputs_checked`, `mismatches`, `exhaustive`; `attention_svg` and
/// `attention` (the comparison as a heatmap and as text), or null with
/// `attention_error`.
#[wasm_bindgen]
pub fn compile(source: &str, sop: &str, vocab: &str, max_len: u32, input: &str) -> String {
    compile_json(source, sop, vocab, max_len, input).unwrap_or_else(|error| json!({ "error": error })).to_string()
}

fn compile_json(source: &str, sop_name: &str, vocab: &str, max_len: u32, input: &str) -> Result<Json, String> {
    let program = Program::from_source(PROGRAM_NAME, source, NoFiles).map_err(|e| e.to_string())?;
    let sop = program.sop(sop_name, "compile").map_err(|e| e.to_string())?;
    let tokens = rasp::parse_vocab(vocab);
    if tokens.is_empty() {
        return Err("the vocabulary is empty: give its tokens, e.g. abc or a,b,c".to_string());
    }
    if !(1..=MAX_COMPILE_LENGTH).contains(&max_len) {
        return Err(format!("the maximum length must be from 1 to {MAX_COMPILE_LENGTH}, not {max_len}"));
    }
    let options = CompileOptions::new(tokens, None, max_len as usize);
    let model = program.compile(sop, &options).map_err(|e| e.to_string())?;
    let verify_options = VerifyOptions { sample_per_length: VERIFY_SAMPLE_PER_LENGTH, ..Default::default() };
    let report = program.verify(sop, &model, &verify_options);
    let parameters = model.parameter_count();
    let mut result = json!({
        "error": null,
        "summary": rasp::summary(&model),
        "parameters": parameters.dense,
        "nonzero_parameters": parameters.nonzero,
        "d_model": model.config.d_model,
        "layers": model.config.n_layers,
        "verify": rasp::verify_text(&model, &report),
        "inputs_checked": report.inputs_checked,
        "mismatches": report.mismatches,
        "exhaustive": report.exhaustive,
        "attention_svg": null,
        "attention": null,
        "attention_error": null,
    });
    match AttentionComparison::of_model(&program, &model, input) {
        Ok(comparison) => {
            result["attention_svg"] = json!(comparison.to_svg());
            result["attention"] = json!(comparison.report());
        }
        Err(e) => {
            result["attention_error"] =
                json!(format!("the compiled model cannot run on the input {input:?}: {}", e.message()));
        }
    }
    Ok(result)
}

/// The REPL's `help` text, or `help TOPIC` when `topic` is not empty.
#[wasm_bindgen]
pub fn help(topic: &str) -> String {
    let session = rasp::new_session(NoFiles);
    rasp::help(&session, Some(topic).filter(|t| !t.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::{changed_texts, unescape};

    #[test]
    fn unescaping_undoes_rasp_draws_escaping() {
        // Written by hand: each entity, an escaped entity, a plain text.
        assert_eq!(unescape("&#39;a&#39; &lt; &quot;b&quot; &gt; c &amp;lt;"), "'a' < \"b\" > c &lt;");
        assert_eq!(unescape("plain"), "plain");
    }

    #[test]
    fn only_text_changes_are_texts() {
        let old = "<rect x=\"1\"><title>a &amp; b</title></rect>";
        assert_eq!(changed_texts(old, "<rect x=\"1\"><title>c</title></rect>"), Some(vec![(0, "c".to_string())]));
        // The second text node of a text element with a title.
        assert_eq!(
            changed_texts("<text><title>t</title>x</text>", "<text><title>t</title>y</text>"),
            Some(vec![(1, "y".to_string())])
        );
        // An attribute changed, or a text appeared where there was none.
        assert_eq!(changed_texts(old, "<rect x=\"2\"><title>a &amp; b</title></rect>"), None);
        assert_eq!(changed_texts("<text></text>", "<text>x</text>"), None);
    }
}
