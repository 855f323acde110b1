//! The REPL front end: a line editor on a terminal, plain line reading
//! otherwise (so piped transcripts print exactly what the reference prints).

use rasp::{Control, Session, drive};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn run(file: Option<PathBuf>, quiet: bool) -> ExitCode {
    // As in the reference, a local library file replaces the built-in one
    // in the REPL (its own tests rely on that); never silently.
    let override_file = format!("{}.rasp", rasp::LIBRARY_PATH);
    if Path::new(&override_file).is_file() {
        eprintln!("rasp: note: the library is {override_file} from the working directory, not the built-in one");
    }
    let mut session = rasp::new_session(rasp::FileLoader);
    if let Some(path) = file {
        let text = match rasp::read_source(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("rasp: {}", e.message());
                return ExitCode::from(2);
            }
        };
        let control = session.run_file(&path.display().to_string(), &text);
        write_drawings(&mut session, false);
        flush(&mut session);
        print_diagnostics(&mut session);
        if quiet || control == Control::Exit {
            return if session.had_file_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    }
    if std::io::stdin().is_terminal() { interactive(session) } else { piped(session) }
}

/// `draw(sop[, input]);` writes `comp_flows/NAME(INPUT).svg`, where the
/// reference wrote a PDF. The REPL prints what the reference prints; at a
/// terminal it also says where the picture went.
fn write_drawings(session: &mut Session, announce: bool) {
    for request in rasp::take_drawings(session) {
        let written = request
            .drawing
            .map_err(|e| e.to_string())
            .and_then(|drawing| crate::files::write_atomic(Path::new(&request.path), drawing.to_svg().as_bytes()));
        if announce {
            let note = match written {
                Ok(()) => format!("\t(drawn to {})\n", request.path),
                Err(e) => format!("\t(no drawing: {e})\n"),
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(session.take_output().as_bytes());
            let _ = out.write_all(note.as_bytes());
        }
    }
}

/// Errors of file mode and of the terminal REPL, with their source lines,
/// go to stderr (stdout keeps results only).
fn print_diagnostics(session: &mut Session) {
    let diagnostics = session.take_diagnostics();
    if diagnostics.is_empty() {
        return;
    }
    let color = std::io::stderr().is_terminal() && color_allowed();
    let mut err = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let _ = err.write_all(diagnostic.render(color).as_bytes());
    }
    let _ = err.flush();
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
    drive(&mut session, read_line, |s| write_drawings(s, false), write);
    ExitCode::SUCCESS
}

/// Lines of history kept in `~/.rasp_history`.
const HISTORY_ENTRIES: usize = 10_000;

/// A terminal: line editing, history, completion of names and keywords.
fn interactive(mut session: Session) -> ExitCode {
    // rustyline keeps only 100 entries unless told otherwise, and would cut
    // the history file to that on exit.
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(HISTORY_ENTRIES)
        .map(|builder| builder.build());
    let config = match config {
        Ok(config) => config,
        Err(e) => {
            eprintln!("rasp: cannot configure the line editor ({e}); reading plain lines");
            return piped(session);
        }
    };
    let mut editor: Editor<RaspHelper, rustyline::history::FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("rasp: cannot start the line editor ({e}); reading plain lines");
            return piped(session);
        }
    };
    editor.set_helper(Some(RaspHelper { names: session.names() }));
    session.colors = colors_wanted();
    // At a terminal, errors show where they happened (on stderr).
    session.friendly_errors = true;
    // Ctrl-C while a statement runs stops that statement, not the session.
    // (While a line is typed the terminal is in raw mode, and rustyline
    // reads Ctrl-C as a key: it drops the line, below.)
    let interrupt = Arc::new(AtomicBool::new(false));
    let handler_flag = interrupt.clone();
    match ctrlc::set_handler(move || handler_flag.store(true, Ordering::Relaxed)) {
        Ok(()) => session.set_interrupt_flag(interrupt),
        Err(e) => eprintln!("rasp: Ctrl-C will end the session, not just a statement ({e})"),
    }
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    session.banner();
    flush(&mut session);
    // The lines of the statement being typed, for the missing-`;` hint.
    let mut typed = String::new();
    loop {
        let prompt = session.prompt();
        match editor.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                if !session.is_continuing()
                    && let Some(topic) = rasp::help_request(&line)
                {
                    print!("{}", rasp::help(&session, topic));
                    continue;
                }
                if session.is_continuing()
                    && line.trim().is_empty()
                    && let Some(hint) = rasp::missing_semicolon_hint(&typed)
                {
                    eprintln!("hint: {hint}");
                }
                let control = session.feed_line(&line);
                if session.is_continuing() {
                    typed.push_str(&line);
                    typed.push('\n');
                } else {
                    typed.clear();
                }
                write_drawings(&mut session, true);
                flush(&mut session);
                print_diagnostics(&mut session);
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
                typed.clear();
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
    std::io::stdout().is_terminal() && color_allowed()
}

fn color_allowed() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    !no_color && !dumb
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
    "help",
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
