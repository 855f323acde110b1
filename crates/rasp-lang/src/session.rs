//! A REPL session: the graph, the scopes, the running examples and display
//! switches, and the reference's line reader (semantics.md §1.4). Output goes to a
//! buffer the front end drains; files are read through a `SourceLoader`, so
//! this crate does no IO of its own.

use crate::diagnostic::{ChunkReader, Diagnostic, DiagnosticKind, Frame, Source};
use crate::env::{self, Env, EnvRef};
use crate::interp::{Ctx, Failure, Outcome, Place};
use crate::library;
use rasp_core::{
    AttentionMask, ErrorKind, EvalError, EvalResult, Graph, NodeId, NodeKind, NodeValue, TokenConversion, Value,
};
use rasp_syntax::{AttentionSetting, ParseOutcome, Statement, StatementKind, Subset, SyntaxError, parse};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where `load "path";` reads `path.rasp` from. [`Session::new`] also asks
/// it for `RASP_support/rasplib.rasp`: a file there replaces the built-in
/// library, as in the reference (semantics.md §2.9).
pub trait SourceLoader {
    /// The text of the file `path` (the `load` statement's path with
    /// `.rasp` appended), or `None` if it cannot be read.
    fn load(&self, path: &str) -> Option<String>;

    /// Why `load(path)` gave nothing, when the cause is not simply a
    /// missing file (say, bytes that are not UTF-8): the message then names
    /// it instead of the reference's "could not find file".
    fn why_not(&self, _path: &str) -> Option<String> {
        None
    }
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
pub(crate) struct Builtins {
    pub(crate) indices: NodeId,
}

/// Whether the session goes on after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Read the next line (also after an error, or inside an unfinished
    /// statement).
    Continue,
    /// `exit`, `exit()`, `quit` or `quit()` ran: stop reading. The
    /// reference prints nothing more, not even the final newline.
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
        /// The statement that made it (blamed if showing the value fails).
        statement: Place,
    },
    Applied {
        value: NodeValue,
        input: Value,
        print: bool,
    },
    Example(Subset),
    /// A built-in's report (printed as a result, not as an error).
    Message(String),
    /// An error for the front end (friendly mode), kept in order like the rest.
    Diagnostic(Diagnostic),
}

/// What the console's source is called in diagnostics.
const CONSOLE_NAME: &str = "<console>";

/// The name the library file has in the reference (it prints in function
/// displays: `RASP_support/rasplib function: sort(seq, key)`). With `.rasp`
/// it is the file a REPL session asks its loader for first, to replace the
/// built-in library (front ends use it to keep that override to the REPL).
pub const LIBRARY_PATH: &str = "RASP_support/rasplib";

/// One REPL session: everything the reference's REPL keeps between lines.
///
/// A front end feeds it lines ([`feed_line`](Session::feed_line)) or whole
/// files ([`run_file`](Session::run_file)) and drains what they print
/// ([`take_output`](Session::take_output)) and, in friendly mode, the errors
/// ([`take_diagnostics`](Session::take_diagnostics)). With
/// `friendly_errors` and `colors` off (the default), the output is the
/// reference's text byte for byte (semantics.md §3); [`drive`] runs the
/// piped REPL around it. Starts with the library loaded ([`Session::new`]).
pub struct Session {
    /// Every s-op and selector defined so far, as graph nodes: what the
    /// values bound to names (`Value::Sop`, `Value::Selector`) point into,
    /// and what analysis, drawing and compilation read.
    pub graph: Graph,
    pub(crate) evaluator: crate::engine::Engines,
    pub(crate) builtins: Builtins,
    pub(crate) console: EnvRef,
    base_env: EnvRef,
    /// The s-op running example (`set example ...`, `set s-op example ...`;
    /// `"hello"` at the start): the input s-op results are shown on, and
    /// the one every new s-op and selector is checked on (semantics.md §2.3).
    pub sop_example: Value,
    pub(crate) sel_example: Value,
    pub(crate) verbose: bool,
    /// ANSI colours in output (the front end turns them on for terminals).
    pub colors: bool,
    pub(crate) show_sop_examples: bool,
    pub(crate) show_sel_examples: bool,
    silent: bool,
    output: String,
    /// Errors become `Diagnostic`s for the front end (`take_diagnostics`)
    /// instead of the reference's text in the output. Off by default, so
    /// piped output stays the reference's; the CLI turns it on at a
    /// terminal, and `run_file` turns it on while it runs.
    pub friendly_errors: bool,
    diagnostics: Vec<Diagnostic>,
    /// The `load` statements being run, outermost first (frames of
    /// diagnostics in loaded files).
    load_sites: Vec<Frame>,
    loader: Box<dyn SourceLoader>,
    /// Nesting of file loads whose prints are being kept (`store_prints`).
    storing: usize,
    stored: Vec<Pending>,
    /// The statement being typed at the console: what the parser sees, and
    /// the lines as typed (joined by newlines, for diagnostics).
    pending: ChunkReader,
    console_lines: String,
    /// Lines typed at the console so far (diagnostics number console lines
    /// through the session).
    console_lines_read: usize,
    /// `CONSOLE_NAME`, shared by every console statement's source.
    console_name: Rc<str>,
    continuing: bool,
    /// Python frames the reference would be in (see `interp::PY_RECURSION_LIMIT`).
    pub(crate) py_frames: usize,
    /// The deepest `py_frames` a recursion check has seen (plus the frames
    /// it asked for), so a repeated evaluation can tell whether it would
    /// pass the limit one frame deeper.
    pub(crate) py_frames_peak: usize,
    /// How many times a variable named `out` was looked up.
    pub(crate) out_reads: u64,
    /// Whether a call's single argument may be evaluated once instead of
    /// twice when that changes nothing (`Session::eval_argument_again`);
    /// tests turn it off to compare with evaluating twice.
    pub(crate) reuse_arguments: bool,
    /// Set from outside (the REPL's Ctrl-C handler) to stop the running
    /// statement; see [`Session::set_interrupt_flag`].
    pub(crate) interrupt: Option<Arc<AtomicBool>>,
    load_depth: usize,
    /// `draw` requests made by statements, for the front end to render:
    /// the s-op drawn and the input it was drawn on, oldest first.
    pub drawings: Vec<(NodeId, Value)>,
    /// Whether `run_file` is running (its diagnostics count as file errors).
    running_file: bool,
    file_errors: usize,
    /// For each function call being run, innermost last: whether the
    /// function is the standard library's, so that names its body assigns
    /// are marked as library locals (`Graph::rename_library_local`).
    pub(crate) library_calls: Vec<bool>,
    /// Where each `select` node was written (for messages about selects).
    pub(crate) select_sites: std::collections::HashMap<NodeId, crate::Location>,
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
            evaluator: crate::engine::Engines::new(),
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
            friendly_errors: false,
            diagnostics: Vec::new(),
            load_sites: Vec::new(),
            loader,
            storing: 0,
            stored: Vec::new(),
            pending: ChunkReader::default(),
            console_lines: String::new(),
            console_lines_read: 0,
            console_name: Rc::from(CONSOLE_NAME),
            continuing: false,
            py_frames: crate::interp::STATEMENT_BASE_FRAMES,
            py_frames_peak: 0,
            out_reads: 0,
            reuse_arguments: true,
            interrupt: None,
            load_depth: 0,
            drawings: Vec::new(),
            running_file: false,
            file_errors: 0,
            library_calls: Vec::new(),
            select_sites: std::collections::HashMap::new(),
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
        self.reset_pending();
        // The user's first line is line 1.
        self.console_lines_read = 0;
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

    /// Takes everything printed so far: the banner, results, and errors in
    /// the reference's words (those that are not diagnostics).
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.output)
    }

    /// Takes the errors reported as diagnostics so far (file mode, and
    /// the console with `friendly_errors`), oldest first. The front end
    /// shows them (`Diagnostic::render`), on stderr for the CLI.
    pub fn take_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.diagnostics)
    }

    fn push_diagnostic(&mut self, diagnostic: Diagnostic) {
        if self.running_file {
            self.file_errors += 1;
        }
        self.diagnostics.push(diagnostic);
    }

    /// A syntax error as a diagnostic, in the files being loaded.
    fn syntax_diagnostic(&self, error: &SyntaxError, source: &Source) -> Diagnostic {
        let location = Some(source.locate(error.span));
        Diagnostic::new(DiagnosticKind::Syntax, &error.message, location, self.load_chain())
    }

    /// The loads being run as frames, innermost first.
    fn load_chain(&self) -> Vec<Frame> {
        self.load_sites.iter().rev().cloned().collect()
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

    /// Writes the display of a value, unless the output not yet taken by
    /// the front end would pass `MAX_DISPLAY_BYTES`: one statement can print
    /// the same big list many times (`[range(10000000)] * 30`, each item
    /// under the limit on its own).
    pub(crate) fn write_display(&mut self, text: &str) -> EvalResult<()> {
        if self.output.len().saturating_add(text.len()) > rasp_core::MAX_DISPLAY_BYTES {
            return Err(EvalError::python(format!(
                "output too large to display (over {} characters)",
                rasp_core::MAX_DISPLAY_BYTES
            )));
        }
        self.write(text);
        Ok(())
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
            let defs = self.pending.text.split_whitespace().filter(|w| *w == "def").count();
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
        let native = crate::native::Native {
            name: name.to_string(),
            params: params.iter().map(|p| p.to_string()).collect(),
            run,
        };
        let _ = env::assign(&self.console, name, Value::Function(std::rc::Rc::new(native)));
    }

    /// The value a name has at the console, if any.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        env::lookup(&self.console, name).ok()
    }

    /// Runs an s-op or selector on an input (a string or a list), as applying
    /// it at the REPL does: on the structured engine (memoised per input),
    /// up to `rasp_core::MAX_INPUT_LEN` positions. Front ends use this to
    /// evaluate outside a statement.
    pub fn evaluate(&mut self, id: NodeId, input: &Value) -> Result<NodeValue, EvalError> {
        self.call_node(id, input)
    }

    /// Every name visible at the console (for completion).
    pub fn names(&self) -> Vec<String> {
        env::visible_names(&self.console)
    }

    /// One line typed at the REPL (without its newline). When it completes
    /// a statement, the statement runs and its result (or the reference's
    /// error text) goes to the output; a line that leaves the statement
    /// unfinished prints nothing and leaves the continuation prompt as the
    /// next [`prompt`](Session::prompt).
    /// The prompt itself is never written here.
    pub fn feed_line(&mut self, line: &str) -> Control {
        // An interrupt that arrived while nothing ran is not for this line.
        if let Some(flag) = &self.interrupt {
            flag.store(false, Ordering::Relaxed);
        }
        if self.continuing {
            self.console_lines.push('\n');
        }
        self.console_lines_read += 1;
        // The statement's text starts afresh at each statement: its lines
        // are numbered from 0 there.
        let line_in_statement = self.console_lines.matches('\n').count();
        self.pending.push_line(line, self.console_lines.len(), line_in_statement);
        self.console_lines.push_str(line);
        match parse(&self.pending.text) {
            ParseOutcome::Incomplete => {
                self.continuing = true;
                self.pending.continue_statement();
                Control::Continue
            }
            ParseOutcome::Error(e) => {
                let source = self.take_console_source();
                if self.friendly_errors {
                    let diagnostic = self.syntax_diagnostic(&e, &source);
                    self.push_diagnostic(diagnostic);
                } else {
                    self.write_message(&format!("\t!! antlr exception: {} \t-- ignoring input\n", e.message));
                }
                Control::Continue
            }
            ParseOutcome::Complete(statements) => {
                let source = self.take_console_source();
                let console = self.console.clone();
                self.run_statements(statements, &console, &source)
            }
        }
    }

    /// The statement typed so far as a source, and a fresh console line reader.
    fn take_console_source(&mut self) -> Rc<Source> {
        let text: Rc<str> = Rc::from(std::mem::take(&mut self.console_lines));
        let first_line = self.console_lines_read.saturating_sub(text.matches('\n').count());
        let source = self.pending.take_source(&self.console_name, &text, first_line);
        self.reset_pending();
        source
    }

    fn reset_pending(&mut self) {
        self.pending.clear();
        self.console_lines.clear();
        self.continuing = false;
    }

    /// End of input: the reference prints a newline and stops.
    pub fn end_of_input(&mut self) {
        self.reset_pending();
        self.write("\n");
    }

    /// Lets another thread or a signal handler stop a running statement:
    /// once `flag` is set, the statement fails at its next expression with
    /// Python's `KeyboardInterrupt`, as an error like any other, so the
    /// session keeps everything defined before it. The flag is cleared when
    /// the error is raised and whenever a new line is fed.
    pub fn set_interrupt_flag(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = Some(flag);
    }

    /// Runs a file (`rasp FILE.rasp`) in the console scope: lines are read
    /// as the reference's file mode reads them and results print as at the
    /// console. Errors, syntax errors included, become diagnostics naming
    /// `file:line:column` (`take_diagnostics`), not output.
    pub fn run_file(&mut self, name: &str, text: &str) -> Control {
        let console = self.console.clone();
        let (name, text): (Rc<str>, Rc<str>) = (Rc::from(name), Rc::from(text));
        let saved = (self.friendly_errors, self.running_file);
        (self.friendly_errors, self.running_file) = (true, true);
        let mut chunk = ChunkReader::default();
        let mut line_start = 0;
        let mut control = Control::Continue;
        for (number, line) in text.split_inclusive('\n').enumerate() {
            chunk.push_line(line, line_start, number);
            line_start += line.len();
            match parse(&chunk.text) {
                ParseOutcome::Incomplete => chunk.continue_statement(),
                ParseOutcome::Error(e) => {
                    let source = chunk.take_source(&name, &text, 1);
                    let diagnostic = self.syntax_diagnostic(&e, &source);
                    self.push_diagnostic(diagnostic);
                }
                ParseOutcome::Complete(statements) => {
                    let source = chunk.take_source(&name, &text, 1);
                    if self.run_statements(statements, &console, &source) == Control::Exit {
                        control = Control::Exit;
                        break;
                    }
                }
            }
        }
        if control == Control::Continue
            && let Some(diagnostic) = self.unfinished_statement(&mut chunk, &name, &text)
        {
            self.push_diagnostic(diagnostic);
        }
        (self.friendly_errors, self.running_file) = saved;
        control
    }

    /// A file that ends inside a statement: the reference drops the text
    /// silently, which hides a forgotten `;` (and everything after it). As a
    /// diagnostic it points at where the unfinished statement starts.
    fn unfinished_statement(&self, chunk: &mut ChunkReader, name: &Rc<str>, text: &Rc<str>) -> Option<Diagnostic> {
        let end = chunk.text.trim_end().len();
        if end == 0 {
            chunk.clear();
            return None;
        }
        let start = chunk.text.len() - chunk.text.trim_start().len();
        let source = chunk.take_source(name, text, 1);
        let location = Some(source.locate(rasp_syntax::Span::new(start, end)));
        let message = "the file ends inside this statement, so it never ran (is a ';' missing?)";
        Some(Diagnostic::new(DiagnosticKind::Syntax, message, location, self.load_chain()))
    }

    /// Whether `run_file` reported any error.
    pub fn had_file_errors(&self) -> bool {
        self.file_errors > 0
    }

    /// Drops a part-way typed statement (Ctrl-C at the terminal).
    pub fn discard_pending(&mut self) {
        self.reset_pending();
    }

    /// The reference runs exactly one statement per parse; more than one
    /// trips an assertion (semantics.md §1.4 step 4).
    fn run_statements(&mut self, mut statements: Vec<Statement>, env: &EnvRef, source: &Rc<Source>) -> Control {
        if statements.len() != 1 {
            if self.friendly_errors {
                // The reference's line reader asserts on it (an empty AssertionError).
                let message = "more than one statement in one input: the reference runs one at a time \
                               (put each statement on its own line)";
                let location = statements.get(1).map(|second| source.locate(second.span));
                let diagnostic =
                    Diagnostic::new(DiagnosticKind::Runtime(ErrorKind::Python), message, location, self.load_chain());
                self.emit(Pending::Diagnostic(diagnostic));
            } else {
                self.emit(Pending::Text("something went wrong: \n".to_string()));
            }
            return Control::Continue;
        }
        let statement = statements.remove(0);
        match self.run_statement(&statement, env, source) {
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
        let mut blamed = None;
        let failed = match p {
            Pending::Text(t) => {
                self.write_message(&t);
                Ok(())
            }
            Pending::Named { name, value, print, statement } => {
                blamed = Some(statement);
                if print { self.print_named_val(Some(&name), &value, 0, "") } else { Ok(()) }
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
            Pending::Diagnostic(diagnostic) => {
                self.push_diagnostic(diagnostic);
                Ok(())
            }
        };
        // A failure while showing a value (semantics.md §3.4): the statement
        // it came from is blamed when errors are diagnostics.
        let Err(e) = failed else { return };
        if let (true, Some(statement)) = (self.friendly_errors, blamed) {
            let message = format!("the statement ran, but showing its value failed: {}", e.message);
            let location = Some(statement.location());
            let diagnostic = Diagnostic::new(DiagnosticKind::Runtime(e.kind), &message, location, self.load_chain());
            self.push_diagnostic(diagnostic);
            return;
        }
        let text = match e.kind {
            ErrorKind::Program => {
                format!("\t!!statement executed, but result fails on evaluation:\n\t\t {}\n", e.message)
            }
            ErrorKind::Python | ErrorKind::Unsupported | ErrorKind::Internal => error_text(&e),
        };
        self.write(&text);
    }

    fn print_example(&mut self, subset: Subset) {
        if matches!(subset, Subset::Both | Subset::Sop) {
            // Examples are inputs, far below the display limit; should one
            // pass it, the message shows instead.
            let text = crate::display::formatstr(&self.sop_example.clone(), self).unwrap_or_else(|e| e.message);
            self.write(&format!("\ts-op example: {text}\n"));
        }
        if matches!(subset, Subset::Both | Subset::Selector) {
            let text = crate::display::formatstr(&self.sel_example.clone(), self).unwrap_or_else(|e| e.message);
            self.write(&format!("\tselector example: {text}\n"));
        }
    }

    /// Where the `select` expression that made node `id` is written (`None`
    /// for other nodes, and for selects not written as `select(...)`).
    pub fn select_site(&self, id: NodeId) -> Option<&crate::Location> {
        self.select_sites.get(&id)
    }

    /// The attention mask every selector is evaluated under from now on
    /// (`set causal on|off`, `set prefix N`; semantics.md §6).
    pub fn set_attention_mask(&mut self, mask: AttentionMask) {
        self.evaluator.set_mask(mask);
    }

    /// Evaluates everything with the plain engine (`true`), the oracle,
    /// instead of the structured one (`false`, the default; both give the
    /// same results, the structured one faster). For tests that hold the
    /// REPL's output to the oracle, and for benchmarks.
    pub fn set_plain_engine(&mut self, plain: bool) {
        self.evaluator.use_plain(plain);
    }

    /// Whether [`set_plain_engine`](Session::set_plain_engine) is on.
    pub fn plain_engine(&self) -> bool {
        self.evaluator.uses_plain()
    }

    /// The attention mask selectors are evaluated under (bidirectional, the
    /// reference's semantics, unless set otherwise).
    pub fn attention_mask(&self) -> AttentionMask {
        self.evaluator.mask()
    }

    /// The reference's `evaluate_tree`: `None` means exit.
    fn run_statement(&mut self, statement: &Statement, env: &EnvRef, source: &Rc<Source>) -> Option<Vec<Pending>> {
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
            StatementKind::SetAttention(setting) => {
                self.set_attention_mask(match setting {
                    AttentionSetting::Bidirectional => AttentionMask::Bidirectional,
                    AttentionSetting::Causal => AttentionMask::Causal,
                    AttentionSetting::Prefix(length) => AttentionMask::Prefix { length: *length },
                });
                Ok(vec![])
            }
            StatementKind::SetExample { subset, example } => {
                let mut ctx = self.new_ctx(env.clone(), source.clone());
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
                        let error = EvalError::rasp(format!("example not iterable: {}", v.py_str(&self.graph)));
                        Err(Failure::from(error).at(source, example.span))
                    }
                    Err(e) => Err(e),
                }
            }
            StatementKind::Expr(_)
            | StatementKind::Assign { .. }
            | StatementKind::Draw { .. }
            | StatementKind::Load { .. }
            | StatementKind::FuncDef(_)
            | StatementKind::For { .. } => {
                let mut ctx: Ctx = self.new_ctx(env.clone(), source.clone());
                self.eval_statement(&mut ctx, statement).map(|outcome| match outcome {
                    Outcome::Named(values) => values
                        .into_iter()
                        .map(|(name, value)| Pending::Named {
                            print: shown(&name),
                            name,
                            value,
                            statement: Place { source: source.clone(), span: statement.span },
                        })
                        .collect(),
                    Outcome::Applied { value, input } => vec![Pending::Applied { value, input, print: is_console }],
                    Outcome::Message(text) => vec![Pending::Message(text)],
                    Outcome::Nothing => vec![],
                })
            }
        };
        Some(match result {
            Ok(p) => p,
            Err(failure) if self.friendly_errors => vec![Pending::Diagnostic(self.diagnose(&failure))],
            Err(failure) => vec![Pending::Text(error_text(failure.error()))],
        })
    }

    /// A failure as a diagnostic: its place, the calls it happened in,
    /// then the loads those happened in.
    fn diagnose(&self, failure: &Failure) -> Diagnostic {
        let error = failure.error();
        let location = failure.place().map(Place::location);
        let mut chain = failure.frames();
        chain.extend(self.load_chain());
        Diagnostic::new(DiagnosticKind::Runtime(error.kind), &error.message, location, chain)
    }

    /// `load "path";` (semantics.md §2.9): runs `path.rasp` in a fresh scope under the
    /// base environment, stealing public names into `into`; prints the
    /// loaded names when done.
    /// `site` is the `load` statement (named in diagnostics of errors in the file).
    pub(crate) fn load_file(&mut self, path: &str, into: &EnvRef, site: &Place) -> Result<(), Failure> {
        let file = format!("{path}.rasp");
        let mut text = self.loader.load(&file);
        if text.is_none() && path == LIBRARY_PATH {
            text = Some(library::SOURCE.to_string());
        }
        let Some(text) = text else {
            let message = match self.loader.why_not(&file) {
                Some(reason) => format!("cannot read file {file}: {reason}"),
                None => format!("could not find file: {file}"),
            };
            return Err(EvalError::rasp(message).into());
        };
        if self.load_depth >= MAX_LOAD_DEPTH {
            return Err(EvalError::rasp(format!("load nested too deeply (over {MAX_LOAD_DEPTH} files): {file}")).into());
        }
        self.load_sites.push(Frame::Load { file, site: site.location() });
        let loaded = self.load_text(path, &text, into);
        self.load_sites.pop();
        loaded
    }

    fn load_text(&mut self, path: &str, text: &str, into: &EnvRef) -> Result<(), Failure> {
        let saved = (self.show_sop_examples, self.show_sel_examples);
        self.show_sop_examples = false;
        self.show_sel_examples = false;
        let scope = Env::new(path, Some(self.base_env.clone()), Some(into.clone()), &self.base_constants());
        self.storing += 1;
        self.load_depth += 1;
        let (name, text): (Rc<str>, Rc<str>) = (Rc::from(format!("{path}.rasp")), Rc::from(text));
        let mut chunk = ChunkReader::default();
        let mut line_start = 0;
        let mut exited = false;
        for (number, line) in text.split_inclusive('\n').enumerate() {
            chunk.push_line(line, line_start, number);
            line_start += line.len();
            match parse(&chunk.text) {
                ParseOutcome::Incomplete => chunk.continue_statement(),
                ParseOutcome::Error(e) => {
                    let source = chunk.take_source(&name, &text, 1);
                    // Syntax errors in a file print at once (semantics.md §3.2);
                    // as diagnostics they keep their place among the file's
                    // other errors.
                    if self.friendly_errors {
                        let diagnostic = self.syntax_diagnostic(&e, &source);
                        self.emit(Pending::Diagnostic(diagnostic));
                    } else {
                        let message = format!("\t!! antlr exception: {} \t-- ignoring input\n", e.message);
                        self.write_message(&message);
                    }
                }
                ParseOutcome::Complete(statements) => {
                    let source = chunk.take_source(&name, &text, 1);
                    if self.run_statements(statements, &scope, &source) == Control::Exit {
                        exited = true;
                        break;
                    }
                }
            }
        }
        // Only as a diagnostic: the reference's piped text has nothing here.
        if self.friendly_errors
            && !exited
            && let Some(diagnostic) = self.unfinished_statement(&mut chunk, &name, &text)
        {
            self.emit(Pending::Diagnostic(diagnostic));
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
        // Syntax errors do not count: the reference prints them at once, so
        // they are never among its kept prints.
        let had_error = stored.iter().any(|p| match p {
            Pending::Text(_) => true,
            Pending::Diagnostic(d) => d.kind != DiagnosticKind::Syntax,
            Pending::Named { .. } | Pending::Applied { .. } | Pending::Example(_) | Pending::Message(_) => false,
        });
        let kept: Vec<Pending> = if had_error {
            stored
        } else {
            let mut seen = std::collections::HashSet::new();
            let mut kept: Vec<Pending> = stored
                .into_iter()
                .rev()
                .filter(|p| match p {
                    Pending::Named { name, .. } => seen.insert(name.clone()),
                    Pending::Text(_)
                    | Pending::Applied { .. }
                    | Pending::Example(_)
                    | Pending::Message(_)
                    | Pending::Diagnostic(_) => true,
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
/// `Unsupported` prints the reference's fixed text, not its message (the
/// message is for diagnostics); `Internal` has no reference text, and must
/// not read as the user's fault.
pub(crate) fn error_text(e: &EvalError) -> String {
    match e.kind {
        ErrorKind::Program => format!("\t\t!!ignoring input:\n\t {}\n", e.message),
        ErrorKind::Python => format!("something went wrong: {}\n", e.message),
        ErrorKind::Unsupported => "not implemented this command yet! ignoring\n".to_string(),
        ErrorKind::Internal => format!("internal error in rasp (please report): {}\n", e.message),
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
