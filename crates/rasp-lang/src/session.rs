//! A REPL session: the graph, the scopes, the running examples and display
//! switches, and the reference's line reader (semantics.md §1.4). Output goes to a
//! buffer the front end drains; files are read through a `SourceLoader`, so
//! this crate does no IO of its own.

use crate::env::{self, Env, EnvRef};
use crate::interp::{Ctx, Failure, Outcome};
use crate::library;
use rasp_core::graph::TokenConversion;
use rasp_core::{ErrorKind, EvalError, Evaluator, Graph, NodeId, NodeKind, NodeValue, Value};
use rasp_syntax::{ParseOutcome, Statement, StatementKind, Subset, parse};

/// Where `load "path";` reads `path.rasp` from.
pub trait SourceLoader {
    /// The text of the file, or `None` if it cannot be read.
    fn load(&self, path: &str) -> Option<String>;
}

/// A loader that finds nothing (for embedding without a file system).
pub struct NoFiles;

impl SourceLoader for NoFiles {
    fn load(&self, _path: &str) -> Option<String> {
        None
    }
}

/// The graph nodes of the built-in s-ops.
#[derive(Debug, Clone, Copy)]
pub struct Builtins {
    pub indices: NodeId,
}

/// Whether the session goes on after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Exit,
}

/// One thing a statement leaves to print (the reference's `ResultToPrint`
/// and `LazyPrint`). Kept in order while a file loads, printed at its end.
#[derive(Debug, Clone)]
enum Pending {
    /// Ready text: errors and messages.
    Text(String),
    Named {
        name: String,
        value: Value,
        print: bool,
    },
    Applied {
        value: NodeValue,
        input: Value,
        print: bool,
    },
    Example(Subset),
    /// A built-in's report (printed as a result, not as an error).
    Message(String),
}

/// The name the library file has in the reference (it prints in function
/// displays: `RASP_support/rasplib function: sort(seq, key)`).
pub const LIBRARY_PATH: &str = "RASP_support/rasplib";

pub struct Session {
    pub graph: Graph,
    pub(crate) evaluator: Evaluator,
    pub(crate) builtins: Builtins,
    pub(crate) console: EnvRef,
    base_env: EnvRef,
    pub sop_example: Value,
    pub sel_example: Value,
    pub verbose: bool,
    /// ANSI colours in output (the front end turns them on for terminals).
    pub colors: bool,
    pub show_sop_examples: bool,
    pub show_sel_examples: bool,
    silent: bool,
    output: String,
    loader: Box<dyn SourceLoader>,
    /// Nesting of file loads whose prints are being kept (`store_prints`).
    storing: usize,
    stored: Vec<Pending>,
    pending_text: String,
    continuing: bool,
    /// Python frames the reference would be in (see `interp::PY_RECURSION_LIMIT`).
    pub(crate) py_frames: usize,
    load_depth: usize,
    /// `draw` requests made by statements, for the front end to render.
    pub drawings: Vec<(NodeId, Value)>,
    /// `file:line:column` of the statement `run_file` is running.
    location: Option<String>,
    file_errors: usize,
    /// Of `file_errors`, those where a statement did not parse.
    file_syntax_errors: usize,
}

/// Loads nested deeper than this are refused (a file loading itself).
const MAX_LOAD_DEPTH: usize = 64;

impl Session {
    /// A session with the library loaded and `tokens = tokens_str`, as the
    /// reference starts (the banner is printed by `banner`).
    pub fn new(loader: Box<dyn SourceLoader>) -> Session {
        let mut graph = Graph::new();
        let token = |graph: &mut Graph, c, name: &str| graph.add(NodeKind::Tokens(c), name, true);
        let tokens_str = token(&mut graph, TokenConversion::Str, "tokens_str");
        let tokens_int = token(&mut graph, TokenConversion::Int, "tokens_int");
        let tokens_float = token(&mut graph, TokenConversion::Float, "tokens_float");
        let tokens_bool = token(&mut graph, TokenConversion::Bool, "tokens_bool");
        let tokens_asis = token(&mut graph, TokenConversion::AsIs, "tokens_asis");
        let indices = graph.add(NodeKind::Indices, "indices", true);
        let base = vec![
            ("tokens_asis".to_string(), Value::Sop(tokens_asis)),
            ("tokens_str".to_string(), Value::Sop(tokens_str)),
            ("tokens_int".to_string(), Value::Sop(tokens_int)),
            ("tokens_bool".to_string(), Value::Sop(tokens_bool)),
            ("tokens_float".to_string(), Value::Sop(tokens_float)),
            ("indices".to_string(), Value::Sop(indices)),
            ("True".to_string(), Value::bool(true)),
            ("False".to_string(), Value::bool(false)),
        ];
        let console = Env::new("console", None, None, &base);
        let hello = Value::str("hello");
        let mut session = Session {
            graph,
            evaluator: Evaluator::new(),
            builtins: Builtins { indices },
            base_env: env::snapshot(&console),
            console,
            sop_example: hello.clone(),
            sel_example: hello,
            verbose: false,
            colors: false,
            show_sop_examples: true,
            show_sel_examples: true,
            silent: false,
            output: String::new(),
            loader,
            storing: 0,
            stored: Vec::new(),
            pending_text: String::new(),
            continuing: false,
            py_frames: crate::interp::STATEMENT_BASE_FRAMES,
            load_depth: 0,
            drawings: Vec::new(),
            location: None,
            file_errors: 0,
            file_syntax_errors: 0,
        };
        session.load_library();
        session
    }

    fn load_library(&mut self) {
        self.silent = true;
        self.console.borrow_mut().storing_in_constants = true;
        let console = self.console.clone();
        // The library's file scope steals every public name into the
        // console, where they become reserved constants (semantics.md §2.9). Like
        // the reference, a `RASP_support/rasplib.rasp` beside the user
        // replaces it (the reference's own tests swap in broken libraries).
        let source = self.loader.load(&format!("{LIBRARY_PATH}.rasp"));
        let source = source.as_deref().unwrap_or(library::SOURCE);
        let _ = self.load_text(LIBRARY_PATH, source, &console);
        self.base_env = env::snapshot(&self.console);
        self.console.borrow_mut().storing_in_constants = false;
        self.feed_line("tokens=tokens_str;");
        self.pending_text.clear();
        self.continuing = false;
        self.base_env = env::snapshot(&self.console);
        self.silent = false;
    }

    /// `RASP 0.1⏎running example is: hello⏎`. The reference prints it before
    /// loading the library, so it goes before anything loading printed
    /// (errors in a replaced library).
    pub fn banner(&mut self) {
        let example = self.sop_example.py_str(&self.graph);
        self.output.insert_str(0, &format!("RASP 0.1\nrunning example is: {example}\n"));
    }

    /// Takes everything printed so far.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.output)
    }

    /// Puts text taken with `take_output` back in front of what has been
    /// printed since (for front ends that run a statement of their own
    /// in between and show only its output).
    pub fn restore_output(&mut self, text: String) {
        self.output.insert_str(0, &text);
    }

    /// Writes a result. While the library loads, results are silent.
    pub(crate) fn write(&mut self, text: &str) {
        if !self.silent {
            self.output.push_str(text);
        }
    }

    /// Writes an error or message: the reference prints these even while
    /// silent (they bypass its result printer). Red when colours are on.
    fn write_message(&mut self, text: &str) {
        if self.colors {
            let body = text.strip_suffix('\n').unwrap_or(text);
            self.output.push_str(&format!("\x1b[31m{body}\x1b[0m"));
            if text.ends_with('\n') {
                self.output.push('\n');
            }
        } else {
            self.output.push_str(text);
        }
    }

    /// The prompt for the next line: `>> `, or `.. ` plus two spaces per
    /// `def` word in the pending text (semantics.md §1.4).
    pub fn prompt(&self) -> String {
        if self.continuing {
            let defs = self.pending_text.split_whitespace().filter(|w| *w == "def").count();
            format!(".. {}", "  ".repeat(defs))
        } else {
            ">> ".to_string()
        }
    }

    /// Whether a statement is part-way typed.
    pub fn is_continuing(&self) -> bool {
        self.continuing
    }

    /// Adds a built-in function to the console (not reserved: user code
    /// may rebind the name).
    pub fn register_native(&mut self, name: &str, params: &[&str], run: crate::NativeFn) {
        let native =
            crate::Native { name: name.to_string(), params: params.iter().map(|p| p.to_string()).collect(), run };
        let _ = env::assign(&self.console, name, Value::Function(std::rc::Rc::new(native)));
    }

    /// The value a name has at the console, if any.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        env::lookup(&self.console, name).ok()
    }

    /// Runs an s-op or selector on an input (a string or a list), as applying
    /// it at the REPL does: inputs over 2,000 positions go to the structured
    /// engine. Front ends use this to evaluate outside a statement.
    pub fn evaluate(&mut self, id: NodeId, input: &Value) -> Result<NodeValue, EvalError> {
        self.call_node(id, input)
    }

    /// Every name visible at the console (for completion).
    pub fn names(&self) -> Vec<String> {
        env::visible_names(&self.console)
    }

    /// One line typed at the REPL (without its newline).
    pub fn feed_line(&mut self, line: &str) -> Control {
        let line = if line.trim().starts_with('#') { "" } else { line };
        self.pending_text.push_str(line);
        match parse(&self.pending_text) {
            ParseOutcome::Incomplete => {
                self.continuing = true;
                self.pending_text.push(' ');
                Control::Continue
            }
            ParseOutcome::Error(e) => {
                self.reset_pending();
                self.write_message(&format!("\t!! antlr exception: {} \t-- ignoring input\n", e.message));
                Control::Continue
            }
            ParseOutcome::Complete(statements) => {
                self.reset_pending();
                let console = self.console.clone();
                self.run_statements(statements, &console)
            }
        }
    }

    fn reset_pending(&mut self) {
        self.pending_text.clear();
        self.continuing = false;
    }

    /// End of input: the reference prints a newline and stops.
    pub fn end_of_input(&mut self) {
        self.reset_pending();
        self.write("\n");
    }

    /// Runs a file (`rasp FILE.rasp`) in the console scope: lines are read
    /// as the reference's file mode reads them, results print as at the
    /// console, and errors name `file:line:column`.
    pub fn run_file(&mut self, name: &str, text: &str) -> Control {
        let console = self.console.clone();
        let mut pending = String::new();
        // (offset in `pending`, line number, offset of that line in `text`)
        let mut segments: Vec<(usize, usize, usize)> = Vec::new();
        let mut line_start = 0;
        for (number, line) in text.split_inclusive('\n').enumerate() {
            if pending.is_empty() {
                segments.clear();
            }
            segments.push((pending.len(), number + 1, line_start));
            line_start += line.len();
            pending.push_str(if line.trim().starts_with('#') { "" } else { line });
            let locate = |offset: usize| -> String {
                let (seg_start, line_no, _) =
                    segments.iter().rev().find(|(s, _, _)| *s <= offset).copied().unwrap_or((0, number + 1, 0));
                let segment_text = &pending[seg_start..offset.min(pending.len())];
                format!("{name}:{line_no}:{}", segment_text.chars().count() + 1)
            };
            match parse(&pending) {
                ParseOutcome::Incomplete => pending.push(' '),
                ParseOutcome::Error(e) => {
                    let at = locate(e.span.start);
                    pending.clear();
                    self.file_errors += 1;
                    self.file_syntax_errors += 1;
                    self.write_message(&format!("{at}: syntax error: {}\n", e.message));
                }
                ParseOutcome::Complete(statements) => {
                    let at = statements.first().map(|s| locate(s.span.start)).unwrap_or_else(|| locate(0));
                    pending.clear();
                    self.location = Some(at);
                    let control = self.run_statements(statements, &console);
                    self.location = None;
                    if control == Control::Exit {
                        return Control::Exit;
                    }
                }
            }
        }
        Control::Continue
    }

    /// Whether `run_file` reported any error.
    pub fn had_file_errors(&self) -> bool {
        self.file_errors > 0
    }

    /// Whether any error `run_file` reported was a statement that does not parse.
    pub fn had_file_syntax_errors(&self) -> bool {
        self.file_syntax_errors > 0
    }

    /// Drops a part-way typed statement (Ctrl-C at the terminal).
    pub fn discard_pending(&mut self) {
        self.reset_pending();
    }

    /// The reference runs exactly one statement per parse; more than one
    /// trips an assertion (semantics.md §1.4 step 4).
    fn run_statements(&mut self, mut statements: Vec<Statement>, env: &EnvRef) -> Control {
        if statements.len() != 1 {
            self.emit(Pending::Text("something went wrong: \n".to_string()));
            return Control::Continue;
        }
        let statement = statements.remove(0);
        match self.run_statement(&statement, env) {
            Some(results) => {
                for r in results {
                    self.emit(r);
                }
                Control::Continue
            }
            None => Control::Exit,
        }
    }

    /// Prints now, or keeps for the end of the file being loaded.
    fn emit(&mut self, p: Pending) {
        if self.storing > 0 {
            self.stored.push(p);
        } else {
            self.print_pending(p);
        }
    }

    fn print_pending(&mut self, p: Pending) {
        let failed = match p {
            Pending::Text(t) => {
                self.write_message(&t);
                Ok(())
            }
            Pending::Named { name, value, print } => {
                if print {
                    self.print_named_val(Some(&name), &value, 0, "")
                } else {
                    Ok(())
                }
            }
            Pending::Applied { value, input, print } => {
                if print {
                    self.print_applied(&value, &input);
                }
                Ok(())
            }
            Pending::Example(subset) => {
                self.print_example(subset);
                Ok(())
            }
            Pending::Message(text) => {
                self.write(&text);
                Ok(())
            }
        };
        if let Err(e) = failed {
            // A failure while showing a value (semantics.md §3.4).
            let text = match e.kind {
                ErrorKind::Rasp => {
                    format!("\t!!statement executed, but result fails on evaluation:\n\t\t {}\n", e.message)
                }
                ErrorKind::Python => format!("something went wrong: {}\n", e.message),
            };
            self.write(&text);
        }
    }

    fn print_example(&mut self, subset: Subset) {
        if matches!(subset, Subset::Both | Subset::Sop) {
            let text = crate::display::formatstr(&self.sop_example.clone(), self);
            self.write(&format!("\ts-op example: {text}\n"));
        }
        if matches!(subset, Subset::Both | Subset::Selector) {
            let text = crate::display::formatstr(&self.sel_example.clone(), self);
            self.write(&format!("\tselector example: {text}\n"));
        }
    }

    /// The reference's `evaluate_tree`: `None` means exit.
    fn run_statement(&mut self, statement: &Statement, env: &EnvRef) -> Option<Vec<Pending>> {
        let is_console = std::rc::Rc::ptr_eq(env, &self.console);
        let shown = |name: &str| is_console || !(name.starts_with('_') || name == "out");
        let result: Result<Vec<Pending>, Failure> = match &statement.kind {
            StatementKind::Exit => return None,
            StatementKind::ShowExample { subset } => Ok(vec![Pending::Example(*subset)]),
            StatementKind::ToggleExamples { subset, on } => {
                if matches!(subset, Subset::Both | Subset::Sop) {
                    self.show_sop_examples = *on;
                }
                if matches!(subset, Subset::Both | Subset::Selector) {
                    self.show_sel_examples = *on;
                }
                Ok(vec![])
            }
            StatementKind::FullSeqDisplay { on } => {
                self.verbose = *on;
                Ok(vec![])
            }
            StatementKind::SetExample { subset, example } => {
                let mut ctx = self.new_ctx(env.clone());
                match self.eval_expr(&mut ctx, example) {
                    Ok(v) if v.is_iterable() => {
                        if matches!(subset, Subset::Both | Subset::Sop) {
                            self.sop_example = v.clone();
                        }
                        if matches!(subset, Subset::Both | Subset::Selector) {
                            self.sel_example = v;
                        }
                        Ok(vec![])
                    }
                    Ok(v) => {
                        Err(Failure::Eval(EvalError::rasp(format!("example not iterable: {}", v.py_str(&self.graph)))))
                    }
                    Err(e) => Err(e),
                }
            }
            _ => {
                let mut ctx: Ctx = self.new_ctx(env.clone());
                self.eval_statement(&mut ctx, statement).map(|outcome| match outcome {
                    Outcome::Named(values) => values
                        .into_iter()
                        .map(|(name, value)| Pending::Named { print: shown(&name), name, value })
                        .collect(),
                    Outcome::Applied { value, input } => vec![Pending::Applied { value, input, print: is_console }],
                    Outcome::Message(text) => vec![Pending::Message(text)],
                    Outcome::Nothing => vec![],
                })
            }
        };
        Some(match result {
            Ok(p) => p,
            Err(failure) => {
                let message = match &failure {
                    Failure::NotImplemented => "not implemented this command yet! ignoring\n".to_string(),
                    Failure::Eval(e) => error_text(e),
                };
                match &self.location {
                    Some(at) if self.storing == 0 => {
                        self.file_errors += 1;
                        let plain = match &failure {
                            Failure::NotImplemented => "this form of expression cannot be evaluated".to_string(),
                            Failure::Eval(e) => {
                                let one_line = e.message.replace('\n', " ").replace('\t', "");
                                one_line.strip_prefix("Error: ").unwrap_or(&one_line).to_string()
                            }
                        };
                        vec![Pending::Text(format!("{at}: error: {plain}\n"))]
                    }
                    _ => vec![Pending::Text(message)],
                }
            }
        })
    }

    /// `load "path";` (semantics.md §2.9): runs `path.rasp` in a fresh scope under the
    /// base environment, stealing public names into `into`; prints the
    /// loaded names when done.
    pub(crate) fn load_file(&mut self, path: &str, into: &EnvRef) -> Result<(), Failure> {
        let file = format!("{path}.rasp");
        let mut text = self.loader.load(&file);
        if text.is_none() && path == LIBRARY_PATH {
            text = Some(library::SOURCE.to_string());
        }
        let Some(text) = text else {
            return Err(Failure::Eval(EvalError::rasp(format!("could not find file: {file}"))));
        };
        if self.load_depth >= MAX_LOAD_DEPTH {
            return Err(Failure::Eval(EvalError::rasp(format!(
                "load nested too deeply (over {MAX_LOAD_DEPTH} files): {file}"
            ))));
        }
        self.load_text(path, &text, into)
    }

    fn load_text(&mut self, path: &str, text: &str, into: &EnvRef) -> Result<(), Failure> {
        let saved = (self.show_sop_examples, self.show_sel_examples);
        self.show_sop_examples = false;
        self.show_sel_examples = false;
        let scope = Env::new(path, Some(self.base_env.clone()), Some(into.clone()), &self.base_constants());
        self.storing += 1;
        self.load_depth += 1;
        let mut pending = String::new();
        for line in text.split_inclusive('\n') {
            pending.push_str(if line.trim().starts_with('#') { "" } else { line });
            match parse(&pending) {
                ParseOutcome::Incomplete => pending.push(' '),
                ParseOutcome::Error(e) => {
                    pending.clear();
                    // Syntax errors in a file print at once (semantics.md §3.2).
                    let message = format!("\t!! antlr exception: {} \t-- ignoring input\n", e.message);
                    self.write_message(&message);
                }
                ParseOutcome::Complete(statements) => {
                    pending.clear();
                    if self.run_statements(statements, &scope) == Control::Exit {
                        break;
                    }
                }
            }
        }
        self.load_depth -= 1;
        self.storing -= 1;
        self.dump_stored();
        (self.show_sop_examples, self.show_sel_examples) = saved;
        Ok(())
    }

    fn base_constants(&self) -> Vec<(String, Value)> {
        ["tokens_asis", "tokens_str", "tokens_int", "tokens_bool", "tokens_float", "indices", "True", "False"]
            .iter()
            .filter_map(|n| env::lookup(&self.base_env, n).ok().map(|v| (n.to_string(), v)))
            .collect()
    }

    /// The reference's `filter_and_dump_prints`: unless an error was kept,
    /// only the last print of each name remains; then everything prints.
    fn dump_stored(&mut self) {
        let stored = std::mem::take(&mut self.stored);
        let had_error = stored.iter().any(|p| matches!(p, Pending::Text(_)));
        let kept: Vec<Pending> = if had_error {
            stored
        } else {
            let mut seen = std::collections::HashSet::new();
            let mut kept: Vec<Pending> = stored
                .into_iter()
                .rev()
                .filter(|p| match p {
                    Pending::Named { name, .. } => seen.insert(name.clone()),
                    _ => true,
                })
                .collect();
            kept.reverse();
            kept
        };
        // Printed now even inside an enclosing load: the reference's inner
        // load prints everything kept so far (semantics.md §3.2, nested loads).
        for p in kept {
            self.print_pending(p);
        }
    }
}

/// How an error prints (semantics.md §3.4).
pub(crate) fn error_text(e: &EvalError) -> String {
    match e.kind {
        ErrorKind::Rasp => format!("\t\t!!ignoring input:\n\t {}\n", e.message),
        ErrorKind::Python => format!("something went wrong: {}\n", e.message),
    }
}

/// The piped REPL: banner, then for each line the prompt and what the line
/// prints; at the end of input a newline (not after `exit`). `read_line`
/// gives lines without their newline, `None` at the end; `after_line` runs
/// after each line (the CLI renders `draw` requests there); `write` receives
/// the output as it is produced. The CLI and the transcript tests share it.
pub fn drive(
    session: &mut Session,
    mut read_line: impl FnMut() -> Option<String>,
    mut after_line: impl FnMut(&mut Session),
    mut write: impl FnMut(&str),
) {
    session.banner();
    write(&session.take_output());
    loop {
        write(&session.prompt());
        let Some(line) = read_line() else {
            session.end_of_input();
            write(&session.take_output());
            return;
        };
        let control = session.feed_line(&line);
        after_line(session);
        write(&session.take_output());
        if control == Control::Exit {
            return;
        }
    }
}
