//! A loaded RASP program: its source run in a fresh session, the graph of
//! everything it defined, and the files it `load`ed. Every operation a front
//! end offers on a program (run, analyze, draw, compile, verify) starts here.

use crate::error::{Error, ErrorKind, Result};
use rasp_analyze::{Analysis, AnalyzeOptions};
use rasp_compile::CompileOptions;
use rasp_compile::{VerifyOptions, VerifyProgress, VerifyReport};
use rasp_core::{AttentionMask, Graph, NodeId, NodeValue, Sequence, Value};
use rasp_draw::Drawing;
use rasp_lang::{Diagnostic, DiagnosticKind, Session, SourceLoader};
use rasp_model::Model;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The error of a program whose file reported errors in `session`: every
/// diagnostic it still holds.
fn file_errors(session: &mut Session, name: &str) -> Error {
    let diagnostics = session.take_diagnostics();
    let kind = program_error_kind(&diagnostics);
    let shown: String = diagnostics.iter().map(|d| d.render(false)).collect();
    Error::with_diagnostics(kind, format!("{name} has errors:\n{}", shown.trim_end()), diagnostics)
}

/// Reads `load`ed files from the file system, relative to the working
/// directory, as the reference does. (In the browser a front end passes a
/// loader of its own, or [`rasp_lang::NoFiles`].)
#[derive(Debug, Clone, Copy, Default)]
pub struct FileLoader;

impl SourceLoader for FileLoader {
    fn load(&self, path: &str) -> Option<String> {
        read_source(std::path::Path::new(path)).ok()
    }

    fn why_not(&self, path: &str) -> Option<String> {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            _ => read_source(std::path::Path::new(path)).err().map(|e| e.message().to_string()),
        }
    }
}

/// Reads a RASP source file: UTF-8 text, with a leading byte-order mark
/// skipped (some Windows editors write one; it is not part of the
/// program). The error names the real cause: a missing file, a folder, or
/// bytes that are not UTF-8, with the line and column of the first.
pub fn read_source(path: &std::path::Path) -> Result<String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| Error::new(ErrorKind::Io, format!("cannot read {shown}: {e}")))?;
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let before = &bytes[..e.valid_up_to()];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
            Err(Error::new(
                ErrorKind::Io,
                format!(
                    "cannot read {shown}: not UTF-8 text (byte 0x{:02x} at line {line}, column {column}); \
                     save the file as UTF-8",
                    bytes[e.valid_up_to()]
                ),
            ))
        }
    }
}

/// Files by the path `load` gave, tried before another loader: a compiled
/// model's folder keeps the files its program loaded, so verifying it later
/// reads the same text even if the originals changed.
pub struct StoredFiles<L> {
    /// Path (as written in `load "path";`, plus `.rasp`) to text.
    pub files: BTreeMap<String, String>,
    /// Where files not stored are read from.
    pub fallback: L,
}

impl<L: SourceLoader> SourceLoader for StoredFiles<L> {
    fn load(&self, path: &str) -> Option<String> {
        self.files.get(path).cloned().or_else(|| self.fallback.load(path))
    }

    fn why_not(&self, path: &str) -> Option<String> {
        self.fallback.why_not(path)
    }
}

/// Hides the library file the reference lets a local copy replace, so a
/// stray `RASP_support/rasplib.rasp` cannot change what analyze, draw,
/// compile or verify see.
struct WithoutLibraryOverride<L>(L);

impl<L: SourceLoader> SourceLoader for WithoutLibraryOverride<L> {
    fn load(&self, path: &str) -> Option<String> {
        if path == format!("{}.rasp", rasp_lang::LIBRARY_PATH) { None } else { self.0.load(path) }
    }

    fn why_not(&self, path: &str) -> Option<String> {
        if path == format!("{}.rasp", rasp_lang::LIBRARY_PATH) { None } else { self.0.why_not(path) }
    }
}

/// Passes loads on to another loader and remembers every file it gave.
struct RecordingLoader {
    inner: Box<dyn SourceLoader>,
    seen: Rc<RefCell<BTreeMap<String, String>>>,
}

impl SourceLoader for RecordingLoader {
    fn load(&self, path: &str) -> Option<String> {
        let text = self.inner.load(path)?;
        self.seen.borrow_mut().insert(path.to_string(), text.clone());
        Some(text)
    }

    fn why_not(&self, path: &str) -> Option<String> {
        self.inner.why_not(path)
    }
}

/// A RASP program run to its end in a session of its own.
pub struct Program {
    session: Session,
    name: String,
    source: String,
    loaded: Rc<RefCell<BTreeMap<String, String>>>,
}

impl Program {
    /// Runs `source` as a file named `name` (the name appears in error
    /// locations, `name:line:column`), reading `load`ed files through
    /// `loader`. Fails with every error the program reported when any
    /// statement failed. The program always gets the built-in library: a
    /// `RASP_support/rasplib.rasp` the loader could find replaces it only in
    /// REPL sessions ([`crate::new_session`]), where the reference reads it.
    pub fn from_source(name: &str, source: &str, loader: impl SourceLoader + 'static) -> Result<Program> {
        let loaded = Rc::new(RefCell::new(BTreeMap::new()));
        let loader = WithoutLibraryOverride(loader);
        let recording = RecordingLoader { inner: Box::new(loader), seen: loaded.clone() };
        let mut session = Session::new(Box::new(recording));
        crate::repl::add_builtins(&mut session);
        // The library is not one of the program's loads.
        loaded.borrow_mut().clear();
        session.run_file(name, source);
        // Results the file printed are not the program's to report.
        session.take_output();
        if session.had_file_errors() {
            return Err(file_errors(&mut session, name));
        }
        Ok(Program { session, name: name.to_string(), source: source.to_string(), loaded })
    }

    /// The program a REPL session (made by [`crate::new_session`]) has just
    /// run as the file `name` with the text `source` ([`Session::run_file`]):
    /// for a front end that shows the REPL's output for a program and then
    /// analyses or draws it, without running it a second time. Fails as
    /// [`Program::from_source`] does when the file reported errors (with
    /// the diagnostics the session still holds). Unlike
    /// [`Program::from_source`], the program has the session's library
    /// (which a local `RASP_support/rasplib.rasp` may have replaced) and
    /// its running example, and records no `load`ed files
    /// ([`Program::loaded_files`] is empty).
    pub fn from_session(mut session: Session, name: &str, source: &str) -> Result<Program> {
        if session.had_file_errors() {
            return Err(file_errors(&mut session, name));
        }
        let loaded = Rc::new(RefCell::new(BTreeMap::new()));
        Ok(Program { session, name: name.to_string(), source: source.to_string(), loaded })
    }

    /// The name the program was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The program's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The files the program `load`ed, by the path it gave (with `.rasp`).
    pub fn loaded_files(&self) -> BTreeMap<String, String> {
        self.loaded.borrow().clone()
    }

    /// The graph of every s-op and selector the program built.
    pub fn graph(&self) -> &Graph {
        &self.session.graph
    }

    /// The attention mask the program's selectors are evaluated under
    /// (bidirectional, the reference's semantics, unless set; a file's own
    /// `set causal on` also sets it).
    pub fn mask(&self) -> AttentionMask {
        self.session.attention_mask()
    }

    /// Evaluates, draws, compiles and verifies under `mask` from now on
    /// (decoder mode, semantics.md §6). Analysis counts the same layers and
    /// heads under every mask.
    pub fn set_mask(&mut self, mask: AttentionMask) {
        self.session.set_attention_mask(mask);
    }

    /// The program with `mask` set ([`Program::set_mask`]).
    pub fn with_mask(mut self, mask: AttentionMask) -> Program {
        self.set_mask(mask);
        self
    }

    /// The session the program ran in.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session the program ran in (for REPL-style use after loading).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The s-op called `name` (defined by the program or the library).
    /// `operation` names what the caller will do with it, for the message
    /// when `name` is something else ("draw takes an s-op").
    pub fn sop(&self, name: &str, operation: &str) -> Result<NodeId> {
        let wrong = |what: String| Error::new(ErrorKind::Name, format!("{name} is {what}; {operation} takes an s-op"));
        match self.session.lookup(name) {
            Some(Value::Sop(id)) => Ok(id),
            None => Err(Error::new(ErrorKind::Name, format!("{name} is not defined in {}", self.name))),
            Some(Value::Selector(_)) => Err(wrong("a selector".to_string())),
            Some(Value::Function(_)) => Err(Error::new(
                ErrorKind::Name,
                format!("{name} is a function; {operation} takes an s-op (define one with it, e.g. x = {name}(...);)"),
            )),
            Some(other @ (Value::Atom(_) | Value::List(_) | Value::Dict(_) | Value::Opaque(_))) => {
                Err(wrong(format!("a value of type {}", other.type_name())))
            }
        }
    }

    /// An input given as text: plain text is a string (one token per
    /// character); text starting with `[` or `"` is read as a RASP
    /// expression, a list such as `[1, 2, 3]` or a quoted string.
    pub fn parse_input(&mut self, text: &str) -> Result<Value> {
        crate::input::parse_input(&mut self.session, text)
    }

    /// The values of `sop` on `input` (a string or a list), as the REPL
    /// computes them: long inputs go to the structured engine.
    pub fn run(&mut self, sop: NodeId, input: &Value) -> Result<Sequence> {
        match self.session.evaluate(sop, input) {
            Ok(NodeValue::Seq(sequence)) => Ok((*sequence).clone()),
            Ok(NodeValue::Sel(_)) => {
                Err(Error::new(ErrorKind::Name, format!("{} is a selector, not an s-op", self.graph().name(sop))))
            }
            Err(e) => Err(Error::new(ErrorKind::Evaluation, e.message)),
        }
    }

    /// The layers and heads `sop` needs.
    pub fn analyze(&self, sop: NodeId, options: AnalyzeOptions) -> Analysis {
        rasp_analyze::analyze_with(self.graph(), sop, options)
    }

    /// The computation flow of `sop` on `input`, laid out with `options`'
    /// schedule.
    pub fn draw(&self, sop: NodeId, input: &Value, options: AnalyzeOptions) -> Result<Drawing> {
        let elements = nonempty_elements(input)?;
        let analysis = self.analyze(sop, options);
        Ok(Drawing::new_masked(self.graph(), sop, &elements, &analysis, self.mask())?)
    }

    /// Compiles `sop` to transformer weights, under the program's mask
    /// (which replaces the one in `options`).
    pub fn compile(&self, sop: NodeId, options: &CompileOptions) -> Result<Model> {
        let mut options = options.clone();
        options.mask = self.mask();
        let (model, _report) = rasp_compile::compile(self.graph(), sop, &options)?;
        Ok(model)
    }

    /// Checks `model` against the interpreter's `sop` on every input up to
    /// the model's maximum length (or a sample per length, as `options`
    /// say), under the mask the model records.
    pub fn verify(&self, sop: NodeId, model: &Model, options: &VerifyOptions) -> VerifyReport {
        rasp_compile::verify(self.graph(), sop, model, options)
    }

    /// [`Program::verify`], telling `progress` after every batch how many
    /// inputs have been run (front ends draw a progress bar with it).
    pub fn verify_with_progress(
        &self,
        sop: NodeId,
        model: &Model,
        options: &VerifyOptions,
        progress: &mut dyn VerifyProgress,
    ) -> VerifyReport {
        rasp_compile::verify_with_progress(self.graph(), sop, model, options, progress)
    }
}

/// The elements of an input that must have at least one.
pub(crate) fn nonempty_elements(input: &Value) -> Result<Vec<Value>> {
    match input.iter_elements() {
        None => Err(Error::new(ErrorKind::Input, "the input is not a string or a list")),
        Some(elements) if elements.is_empty() => {
            Err(Error::new(ErrorKind::Input, "the input is empty; it needs at least one token"))
        }
        Some(elements) => Ok(elements),
    }
}

/// Whose fault a failed program is: a bug in rasp if any error is one,
/// else a syntax error if every error is one, else the program's.
fn program_error_kind(diagnostics: &[Diagnostic]) -> ErrorKind {
    let internal = DiagnosticKind::Runtime(rasp_core::ErrorKind::Internal);
    if diagnostics.iter().any(|d| d.kind == internal) {
        ErrorKind::Internal
    } else if diagnostics.iter().all(|d| d.kind == DiagnosticKind::Syntax) {
        ErrorKind::Syntax
    } else {
        ErrorKind::Program
    }
}
