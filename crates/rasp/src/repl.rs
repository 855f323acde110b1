//! What every REPL-like front end adds to a bare `rasp_lang::Session`: the
//! built-ins `analyze(...)` and `compile(...)`, drawings for `draw(...)`,
//! and `help`.

use rasp_analyze::Schedule;
use rasp_core::{Atom, EvalError, Graph, NodeId, Value};
use rasp_lang::{NativeFn, Session, SourceLoader};
use std::rc::Rc;

/// A session with the library loaded and the facade's built-ins
/// (`analyze`, `compile`) at the console, reading `load`ed files through
/// `loader`.
pub fn new_session(loader: impl SourceLoader + 'static) -> Session {
    let mut session = Session::new(Box::new(loader));
    add_builtins(&mut session);
    session
}

/// The longest inputs `compile(...)` at the REPL accepts: the REPL checks the
/// model on every input up to this length (or samples), in memory.
pub const REPL_COMPILE_MAX_LEN: i64 = 64;

/// Adds `analyze(sop);` (the layers and heads, as `rasp analyze` prints
/// them) and `compile(sop, vocab, max_len);` (compile and verify in
/// memory) to the console. They are ordinary names: a program may rebind
/// them.
pub fn add_builtins(session: &mut Session) {
    let analyze: NativeFn = Rc::new(|graph: &Graph, _mask, args: &[Value]| match args {
        [Value::Sop(id)] => Ok(rasp_analyze::analyze(graph, *id, Schedule::Greedy).report(graph)),
        [other] => Err(EvalError::rasp(format!("analyze expects an s-op, got: {}", other.py_str(graph)))),
        _ => Err(EvalError::rasp("analyze expects one s-op")),
    });
    session.register_native("analyze", &["sop"], analyze);
    let compile: NativeFn = Rc::new(|graph: &Graph, mask, args: &[Value]| match args {
        [Value::Sop(id), vocab, max_len] => compile_and_verify(graph, *id, vocab, max_len, mask),
        [other, _, _] => Err(EvalError::rasp(format!("compile expects an s-op, got: {}", other.py_str(graph)))),
        _ => Err(EvalError::rasp("compile expects an s-op, a vocabulary and a maximum length")),
    });
    session.register_native("compile", &["sop", "vocab", "max_len"], compile);
}

/// `compile(sop, ["a", "b"], 5);`: compiles to transformer weights in
/// memory, checks the model against the interpreter on every input (a
/// sample per length when there are too many), and reports both.
fn compile_and_verify(
    graph: &Graph,
    root: NodeId,
    vocab: &Value,
    max_len: &Value,
    mask: rasp_core::AttentionMask,
) -> Result<String, EvalError> {
    let tokens: Option<Vec<String>> = match vocab {
        Value::List(items) => items.iter().map(|v| v.as_atom().map(rasp_core::pyfmt::py_str)).collect(),
        Value::Atom(Atom::Str(text)) => Some(text.chars().map(String::from).collect()),
        _ => None,
    };
    let Some(tokens) = tokens.filter(|t| !t.is_empty()) else {
        return Err(EvalError::rasp(format!(
            "compile expects the vocabulary as a non-empty list of atoms or a string, got: {}",
            vocab.py_str(graph)
        )));
    };
    let max_len = match max_len {
        Value::Atom(Atom::Int(n)) if (1..=REPL_COMPILE_MAX_LEN).contains(n) => *n as usize,
        other => {
            return Err(EvalError::rasp(format!(
                "compile expects a maximum length from 1 to {REPL_COMPILE_MAX_LEN}, got: {}",
                other.py_str(graph)
            )));
        }
    };
    // Under `set causal on` the model is a decoder, verified under the same mask.
    let mut options = rasp_compile::CompileOptions::new(tokens, None, max_len);
    options.mask = mask;
    let (model, _) = rasp_compile::compile(graph, root, &options).map_err(|e| EvalError::rasp(e.to_string()))?;
    let verify_options = rasp_compile::VerifyOptions { sample_per_length: 2_000, ..Default::default() };
    let check = rasp_compile::verify(graph, root, &model, &verify_options);
    let how = if check.exhaustive { "every input" } else { "a random sample of inputs per length" };
    Ok(format!(
        "{}\nchecked {} ({} inputs): {} mismatches, smallest decision margin {:.6}\n",
        crate::compiled::summary(&model),
        how,
        check.inputs_checked,
        check.mismatches,
        check.min_margin
    ))
}

/// A drawing a `draw(sop[, input]);` statement asked for.
pub struct DrawRequest {
    /// Where the reference would write it: `comp_flows/NAME(INPUT).svg`.
    pub path: String,
    /// The picture, or why there is none.
    pub drawing: crate::Result<rasp_draw::Drawing>,
}

/// Takes the drawings the statements run so far asked for. The REPL text
/// of a `draw` is printed by the session; the picture is the front end's
/// to show or write.
pub fn take_drawings(session: &mut Session) -> Vec<DrawRequest> {
    std::mem::take(&mut session.drawings)
        .into_iter()
        .map(|(root, input)| {
            let path = rasp_draw::default_path(&session.graph, root, &input);
            let drawing = crate::program::nonempty_elements(&input).and_then(|elements| {
                let analysis = rasp_analyze::analyze(&session.graph, root, Schedule::Greedy);
                Ok(rasp_draw::Drawing::new(&session.graph, root, &elements, &analysis)?)
            });
            DrawRequest { path, drawing }
        })
        .collect()
}

/// A hint for a statement typed so far (`pending`, the lines since the last
/// complete one) that is only missing its final `;`: the reference waits
/// silently for more lines, which puzzles newcomers. `None` when a `;`
/// would not complete it.
pub fn missing_semicolon_hint(pending: &str) -> Option<String> {
    let trimmed = pending.trim_end();
    if trimmed.is_empty() || trimmed.ends_with(';') {
        return None;
    }
    match rasp_syntax::parse(&format!("{trimmed};")) {
        rasp_syntax::ParseOutcome::Complete(_) => Some(
            "the statement is waiting for its ';' (type it to run the statement, or Ctrl-C to drop it)".to_string(),
        ),
        rasp_syntax::ParseOutcome::Incomplete | rasp_syntax::ParseOutcome::Error(_) => None,
    }
}

/// The REPL's commands (typed without a semicolon), as `help` lists them.
const COMMANDS: &[(&str, &str)] = &[
    ("set example \"abc\"", "the running example every new s-op and selector is shown on (or a list: [1, 2, 3])"),
    ("set s-op example ...", "the running example of s-ops only"),
    ("set selector example ...", "the running example of selectors only"),
    ("show example", "print the running examples"),
    (
        "examples on | off",
        "show new values on the running example, or not (also: s-op examples ..., selector examples ...)",
    ),
    ("full seq display on | off", "print long sequences in full"),
    (
        "set causal on | off",
        "decoder mode (rasp's extension): each position sees only itself and earlier ones; masked grid cells show ·",
    ),
    ("set prefix N", "prefix-LM: the first N positions see each other, causal after them"),
    ("help [NAME]", "this list, or what NAME is"),
    ("exit | quit", "leave the REPL"),
];

/// Statements and built-ins that are not library functions.
const STATEMENTS: &[(&str, &str)] = &[
    ("tokens, indices", "the input s-ops: the token and the index at each position"),
    ("select(keys, queries, op)", "a selector: query q selects key k when keys[k] op queries[q] (op: == != < > <= >=)"),
    (
        "aggregate(selector, values[, default])",
        "an attention head: the selected value, the mean of several (numbers), or the default",
    ),
    ("load \"path\";", "run path.rasp and bring its public names into the session"),
    ("draw(sop[, input]);", "draw the layers and heads computing sop on the input"),
    ("analyze(sop);", "the layers and heads sop needs (as `rasp analyze`)"),
    ("compile(sop, vocab, max_len);", "compile sop to transformer weights in memory and verify them on every input"),
];

/// One line on each library function, in the project's words.
const LIBRARY: &[(&str, &str)] = &[
    ("full_s", "a selector that selects every key for every query"),
    ("length", "the input's length, at every position"),
    ("selector_width", "how many keys each query of a selector selects"),
    ("has_focus", "whether each query of a selector selects anything"),
    ("count", "how many positions of seq hold atom, at every position"),
    ("contains", "whether any position of seq holds atom, at every position"),
    ("max", "the larger of two s-ops, position by position"),
    ("min", "the smaller of two s-ops, position by position"),
    ("average", "the mean of an s-op over all positions"),
    ("load_from_location", "the value of seq at the position location names"),
    ("shift", "seq moved n positions to the right, filler in front"),
    ("mark_last_instance", "whether each position is the last one holding val"),
    ("mark_first_instance", "whether each position is the first one holding val"),
    ("select_from_last", "selects, for every query, the last position where seq is val"),
    ("select_from_first", "selects, for every query, the first position where seq is val"),
    ("sort", "seq sorted by key (ties by position)"),
    ("select_next_identical", "selects, for every position, the next later position holding the same value"),
];

/// The text of `help` (with `topic` `None`) or `help NAME`.
pub fn help(session: &Session, topic: Option<&str>) -> String {
    match topic.map(str::trim).filter(|t| !t.is_empty()) {
        None => help_overview(session),
        Some(name) => help_topic(session, name),
    }
}

fn help_overview(session: &Session) -> String {
    let library: Vec<(String, &str)> = LIBRARY.iter().map(|(name, what)| (signature(session, name), *what)).collect();
    let mut out = String::new();
    section(&mut out, "Commands (no semicolon):", COMMANDS.iter().map(|(c, what)| (c.to_string(), *what)));
    section(
        &mut out,
        "Statements and built-ins (end with a semicolon):",
        STATEMENTS.iter().map(|(s, w)| (s.to_string(), *w)),
    );
    section(&mut out, "Library:", library.into_iter());
    let defined = defined_names(session);
    if defined.is_empty() {
        out.push_str("Defined so far: nothing yet\n");
    } else {
        out.push_str(&format!("Defined so far: {}\n", defined.join(", ")));
    }
    out.push_str("`help NAME` says more about one name.\n");
    out
}

/// A heading, then one line per entry with the descriptions aligned.
fn section<'a>(out: &mut String, heading: &str, entries: impl Iterator<Item = (String, &'a str)>) {
    let entries: Vec<(String, &str)> = entries.collect();
    let width = entries.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
    out.push_str(heading);
    out.push('\n');
    for (name, what) in entries {
        let padding = " ".repeat(width - name.chars().count());
        out.push_str(&format!("  {name}{padding}  {what}\n"));
    }
}

fn help_topic(session: &Session, name: &str) -> String {
    if let Some((_, what)) = LIBRARY.iter().find(|(n, _)| *n == name) {
        return format!("{} (library): {what}\n", signature(session, name));
    }
    if let Some((statement, what)) =
        STATEMENTS.iter().chain(COMMANDS).find(|(s, _)| s.split(['(', ' ', ',']).next() == Some(name))
    {
        return format!("{statement}: {what}\n");
    }
    match session.lookup(name) {
        Some(value) => format!("{name}: {}\n", describe(session, &value)),
        None => format!("{name} is not defined; `help` lists what is\n"),
    }
}

/// `sort(seq, key)`, or the bare name of a non-function.
fn signature(session: &Session, name: &str) -> String {
    match session.lookup(name) {
        Some(Value::Function(function)) => {
            let described = function.describe();
            described.split_once(": ").map_or(described.clone(), |(_, call)| call.to_string())
        }
        Some(_) | None => name.to_string(),
    }
}

fn describe(session: &Session, value: &Value) -> String {
    match value {
        Value::Sop(_) => "an s-op".to_string(),
        Value::Selector(_) => "a selector".to_string(),
        Value::Function(function) => function.describe(),
        Value::Atom(_) | Value::List(_) | Value::Dict(_) | Value::Opaque(_) => {
            format!("a {} value: {}", value.type_name(), value.py_str(&session.graph))
        }
    }
}

/// Names visible at the console that a fresh session does not have.
fn defined_names(session: &Session) -> Vec<String> {
    let fresh = new_session(rasp_lang::NoFiles).names();
    session.names().into_iter().filter(|name| !fresh.contains(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::{help, missing_semicolon_hint, new_session};

    #[test]
    fn hints_only_when_a_semicolon_completes_the_statement() {
        assert!(missing_semicolon_hint("x = tokens == \"l\"").is_some());
        assert!(missing_semicolon_hint("reverse(\"abc\")\n").is_some());
        assert_eq!(missing_semicolon_hint("x = (tokens"), None);
        assert_eq!(missing_semicolon_hint("def f(a) {"), None);
        assert_eq!(missing_semicolon_hint(""), None);
    }

    fn check(lines: &[&str], topic: Option<&str>, expected_lines: &[&str]) {
        let mut session = new_session(rasp_lang::NoFiles);
        for line in lines {
            session.feed_line(line);
        }
        let text = help(&session, topic);
        for expected in expected_lines {
            assert!(text.contains(expected), "help {topic:?} lacks {expected:?}:\n{text}");
        }
    }

    #[test]
    fn overview_lists_commands_library_and_definitions() {
        check(
            &[],
            None,
            &["set example", "exit | quit", "sort(seq, key)", "shift(seq, n, filler)", "Defined so far: nothing yet"],
        );
        check(&["flip = select(indices, length - indices - 1, ==);", "n = 3;"], None, &["Defined so far: flip, n"]);
    }

    #[test]
    fn one_name() {
        check(&[], Some("sort"), &["sort(seq, key) (library): seq sorted by key"]);
        check(&[], Some("select"), &["select(keys, queries, op): a selector"]);
        check(&["def f(a, b) { return a + b; }"], Some("f"), &["f: console function: f(a, b)"]);
        check(&["x = tokens == \"l\";"], Some("x"), &["x: an s-op"]);
        check(&[], Some("nope"), &["nope is not defined"]);
    }
}
