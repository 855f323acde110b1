//! The REPL front end: a line editor on a terminal, plain line reading
//! otherwise (so piped transcripts print exactly what the reference prints).

use rasp_analyze::Schedule;
use rasp_core::{EvalError, Graph, NodeId, Value};
use rasp_lang::{Control, NativeFn, Session, drive};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

pub fn run(file: Option<PathBuf>, quiet: bool) -> ExitCode {
    let mut session = Session::new(Box::new(crate::program::FileLoader));
    add_builtins(&mut session);
    if let Some(path) = file {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("rasp: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        let control = session.run_file(&path.display().to_string(), &text);
        flush(&mut session);
        if quiet || control == Control::Exit {
            return if session.had_file_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    }
    if std::io::stdin().is_terminal() { interactive(session) } else { piped(session) }
}

/// REPL commands beyond the reference's: `analyze(sop);` prints the layers
/// and heads the s-op needs (as `rasp analyze` does).
fn add_builtins(session: &mut Session) {
    let analyze: NativeFn = Rc::new(|graph: &Graph, args: &[Value]| match args {
        [Value::Sop(id)] => Ok(rasp_analyze::analyze(graph, *id, Schedule::Greedy).report(graph)),
        [other] => Err(EvalError::rasp(format!("analyze expects an s-op, got: {}", other.py_str(graph)))),
        _ => Err(EvalError::rasp("analyze expects one s-op")),
    });
    session.register_native("analyze", &["sop"], analyze);
    let compile: NativeFn = Rc::new(|graph: &Graph, args: &[Value]| match args {
        [Value::Sop(id), vocab, max_len] => compile_and_verify(graph, *id, vocab, max_len),
        [other, _, _] => Err(EvalError::rasp(format!("compile expects an s-op, got: {}", other.py_str(graph)))),
        _ => Err(EvalError::rasp("compile expects an s-op, a vocabulary and a maximum length")),
    });
    session.register_native("compile", &["sop", "vocab", "max_len"], compile);
}

/// `compile(sop, ["a", "b"], 5);` at the REPL: compiles to transformer
/// weights in memory, checks the model against the interpreter on every
/// input (a sample per length when there are too many), and reports both.
/// `rasp compile` writes the same model to files.
fn compile_and_verify(graph: &Graph, root: NodeId, vocab: &Value, max_len: &Value) -> Result<String, EvalError> {
    let tokens: Option<Vec<String>> = match vocab {
        Value::List(items) => items.iter().map(|v| v.as_atom().map(rasp_core::pyfmt::py_str)).collect(),
        Value::Atom(rasp_core::Atom::Str(s)) => Some(s.chars().map(String::from).collect()),
        _ => None,
    };
    let Some(tokens) = tokens.filter(|t| !t.is_empty()) else {
        return Err(EvalError::rasp(format!(
            "compile expects the vocabulary as a non-empty list of atoms or a string, got: {}",
            vocab.py_str(graph)
        )));
    };
    let max_len = match max_len {
        Value::Atom(rasp_core::Atom::Int(n)) if (1..=64).contains(n) => *n as usize,
        other => {
            return Err(EvalError::rasp(format!(
                "compile expects a maximum length from 1 to 64, got: {}",
                other.py_str(graph)
            )));
        }
    };
    let options = rasp_compile::CompileOptions::new(tokens, None, max_len);
    let start = std::time::Instant::now();
    let (model, _) = rasp_compile::compile(graph, root, &options).map_err(|e| EvalError::rasp(e.to_string()))?;
    let seconds = start.elapsed().as_secs_f64();
    let verify_options = rasp_compile::VerifyOptions { sample_per_length: 2_000, ..Default::default() };
    let check = rasp_compile::verify(graph, root, &model, &verify_options);
    let how = if check.exhaustive { "every input" } else { "a random sample of inputs per length" };
    Ok(format!(
        "{}\ncompiled in {:.1} ms; checked {} ({} inputs): {} mismatches, smallest decision margin {:.6}\n",
        crate::compile::summary(&model),
        seconds * 1e3,
        how,
        check.inputs_checked,
        check.mismatches,
        check.min_margin
    ))
}

/// `draw(sop[, input]);` writes `comp_flows/NAME(INPUT).svg`, where the
/// reference wrote a PDF. The REPL prints what the reference prints; at a
/// terminal it also says where the picture went.
fn render_drawings(session: &mut Session, announce: bool) {
    for (root, input) in std::mem::take(&mut session.drawings) {
        let result = draw_to_file(&session.graph, root, &input);
        if announce {
            let note = match result {
                Ok(path) => format!("\t(drawn to {path})\n"),
                Err(e) => format!("\t(no drawing: {e})\n"),
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(session.take_output().as_bytes());
            let _ = out.write_all(note.as_bytes());
        }
    }
}

fn draw_to_file(graph: &Graph, root: NodeId, input: &Value) -> Result<String, String> {
    let elements = input.iter_elements().ok_or("the input is not a sequence")?;
    let analysis = rasp_analyze::analyze(graph, root, Schedule::Greedy);
    let drawing = rasp_draw::Drawing::new(graph, root, &elements, &analysis).map_err(|e| e.to_string())?;
    let path = rasp_draw::default_path(graph, root, input);
    if let Some(dir) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&path, drawing.to_svg()).map_err(|e| format!("{path}: {e}"))?;
    Ok(path)
}

fn flush(session: &mut Session) {
    let text = session.take_output();
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Standard input is not a terminal: prompts and results go to stdout
/// exactly as the reference writes them.
fn piped(mut session: Session) -> ExitCode {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut stdout = std::io::stdout().lock();
    let read_line = || {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                Some(String::from_utf8_lossy(&line).into_owned())
            }
        }
    };
    // A closed stdout (e.g. `| head`) ends output quietly, as with any tool.
    let write = |text: &str| {
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    };
    drive(&mut session, read_line, |s| render_drawings(s, false), write);
    ExitCode::SUCCESS
}

/// A terminal: line editing, history, completion of names and keywords.
fn interactive(mut session: Session) -> ExitCode {
    let config = rustyline::Config::builder().completion_type(rustyline::CompletionType::List).build();
    let mut editor: Editor<RaspHelper, rustyline::history::FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("rasp: cannot start the line editor ({e}); reading plain lines");
            return piped(session);
        }
    };
    editor.set_helper(Some(RaspHelper { names: session.names() }));
    session.colors = colors_wanted();
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    session.banner();
    flush(&mut session);
    loop {
        let prompt = session.prompt();
        match editor.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let control = session.feed_line(&line);
                render_drawings(&mut session, true);
                flush(&mut session);
                if let Some(helper) = editor.helper_mut() {
                    helper.names = session.names();
                }
                if control == Control::Exit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C drops the statement being typed, as a fresh prompt.
                session.discard_pending();
                println!();
            }
            Err(_) => {
                session.end_of_input();
                flush(&mut session);
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    ExitCode::SUCCESS
}

/// Colours at a terminal unless NO_COLOR is set (any value) or TERM=dumb.
fn colors_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    std::io::stdout().is_terminal() && !no_color && !dumb
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".rasp_history"))
}

const KEYWORDS: &[&str] = &[
    "aggregate(",
    "select(",
    "range(",
    "zip(",
    "len(",
    "def",
    "return",
    "for",
    "in",
    "if",
    "else",
    "and",
    "or",
    "not",
    "round",
    "indicator",
    "load",
    "draw",
    "set example",
    "show example",
    "examples on",
    "examples off",
    "full seq display on",
    "full seq display off",
    "exit",
    "quit",
];

struct RaspHelper {
    names: Vec<String>,
}

impl Completer for RaspHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let word = &before[start..];
        if word.is_empty() {
            return Ok((pos, vec![]));
        }
        let mut candidates: Vec<Pair> = self
            .names
            .iter()
            .map(String::as_str)
            .chain(KEYWORDS.iter().copied())
            .filter(|c| c.starts_with(word))
            .map(|c| Pair { display: c.to_string(), replacement: c.to_string() })
            .collect();
        candidates.sort_by(|a, b| a.display.cmp(&b.display));
        candidates.dedup_by(|a, b| a.display == b.display);
        Ok((start, candidates))
    }
}

impl Hinter for RaspHelper {
    type Hint = String;
}
impl Highlighter for RaspHelper {}
impl Validator for RaspHelper {}
impl Helper for RaspHelper {}
