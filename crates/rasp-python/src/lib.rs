//! `rasp._native`: the Python package's glue to the facade crate `rasp`.
//!
//! Everything here converts between Python objects and the facade's types
//! and calls the facade; the user-facing API (argument checks, numpy arrays,
//! Jupyter display, PyTorch) is the pure-Python package in `python/rasp`.
//!
//! The interpreter recurses deeply (RASP recursion, long nested
//! expressions) and its sessions hold `Rc`s, so programs and sessions live
//! on a thread of their own with a large stack ([`worker::Worker`]), the
//! way the `rasp` binary runs them; Python calls wait for that thread with
//! the GIL released. Errors become the exception classes of
//! `rasp.errors`, chosen by [`rasp::ErrorKind`].

mod model;
mod values;
mod worker;

use pyo3::prelude::*;
use rasp::{AnalyzeOptions, CompileOptions, Encoding, Error, ErrorKind, FileLoader, ProgramInfo, Schedule};
use std::collections::BTreeMap;
use values::{Out, PlainInput};
use worker::Worker;

/// The exception `rasp.errors` has for `error`'s kind, carrying its message
/// and its diagnostics (the places in the program it is about).
pub(crate) fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    let made = diagnostics(py, error).and_then(|diagnostics| {
        py.import("rasp.errors")?.getattr("_from_kind")?.call1((error.kind().name(), error.to_string(), diagnostics))
    });
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(import_failed) => import_failed,
    }
}

/// One dict per diagnostic: `kind` (`syntax`, or the evaluation error's
/// kind: `program`, `python`, `unsupported`, `internal`), `message`, and
/// where: `file`, `line`,
/// `column` (1-based), `line_text` (None when no text is to blame).
fn diagnostics<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, pyo3::types::PyList>> {
    let list = pyo3::types::PyList::empty(py);
    for diagnostic in error.diagnostics() {
        let entry = pyo3::types::PyDict::new(py);
        let kind = match &diagnostic.kind {
            rasp::DiagnosticKind::Syntax => "syntax".to_string(),
            rasp::DiagnosticKind::Runtime(kind) => format!("{kind:?}").to_lowercase(),
        };
        entry.set_item("kind", kind)?;
        entry.set_item("message", &diagnostic.message)?;
        let at = diagnostic.location.as_ref();
        entry.set_item("file", at.map(|l| l.file.as_str()))?;
        entry.set_item("line", at.map(|l| l.line))?;
        entry.set_item("column", at.map(|l| l.column))?;
        entry.set_item("line_text", at.map(|l| l.line_text.as_str()))?;
        list.append(entry)?;
    }
    Ok(list)
}

/// A facade result as a Python result.
pub(crate) fn py_result<T>(py: Python<'_>, result: Result<T, Error>) -> PyResult<T> {
    result.map_err(|e| to_py_err(py, &e))
}

/// A RASP program, run once on its own interpreter thread; every
/// operation looks s-ops up by name in what it defined.
#[pyclass(frozen, module = "rasp._native")]
struct Program {
    worker: Worker<rasp::Program>,
    name: String,
    source: String,
}

#[pymethods]
impl Program {
    #[new]
    fn new(py: Python<'_>, source: String, name: String) -> PyResult<Program> {
        let (text, file) = (source.clone(), name.clone());
        let worker = py.detach(move || Worker::start(move || rasp::Program::from_source(&file, &text, FileLoader)));
        Ok(Program { worker: py_result(py, worker)?, name, source })
    }

    /// The values of `sop` on `input` (a string or a list of atoms).
    fn run(&self, py: Python<'_>, sop: String, input: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
        let input = PlainInput::from_python(py, input)?;
        let values = py.detach(|| {
            self.worker.call(move |program| {
                let id = program.sop(&sop, "run")?;
                let sequence = program.run(id, &input.to_value())?;
                Ok(sequence.values.iter().map(Out::from_atom).collect::<Vec<Out>>())
            })
        });
        py_result(py, values)?.iter().map(|v| v.to_python(py)).collect()
    }

    /// `rasp analyze --json`'s text.
    fn analyze(&self, py: Python<'_>, sop: String, bos: bool, schedule: String) -> PyResult<String> {
        let schedule = match schedule.as_str() {
            "greedy" => Schedule::Greedy,
            "best" => Schedule::Best,
            other => {
                let message = format!("schedule must be \"greedy\" or \"best\", got {other:?}");
                return Err(to_py_err(py, &Error::new(ErrorKind::Input, message)));
            }
        };
        let json = py.detach(|| {
            self.worker.call(move |program| {
                let id = program.sop(&sop, "analyze")?;
                let analysis = program.analyze(id, AnalyzeOptions { schedule, bos_selector_width: bos });
                Ok(analysis.to_json(program.graph()))
            })
        });
        py_result(py, json)
    }

    /// The drawing of `sop` on `input`: (title, SVG, HTML).
    fn draw(&self, py: Python<'_>, sop: String, input: &Bound<'_, PyAny>) -> PyResult<(String, String, String)> {
        let input = PlainInput::from_python(py, input)?;
        let drawn = py.detach(|| {
            self.worker.call(move |program| {
                let id = program.sop(&sop, "draw")?;
                let drawing = program.draw(id, &input.to_value(), AnalyzeOptions::default())?;
                Ok((drawing.title().to_string(), drawing.to_svg(), drawing.to_html()))
            })
        });
        py_result(py, drawn)
    }

    /// `sop` compiled to transformer weights.
    #[pyo3(signature = (sop, vocab, max_len, bos, encodings, causal))]
    // One parameter per keyword argument of the Python method.
    #[allow(clippy::too_many_arguments)]
    fn compile(
        &self,
        py: Python<'_>,
        sop: String,
        vocab: Vec<String>,
        max_len: usize,
        bos: Option<String>,
        encodings: Vec<(String, String)>,
        causal: bool,
    ) -> PyResult<model::CompiledModel> {
        let encodings = py_result(py, parse_encodings(encodings))?;
        let name = sop.clone();
        let compiled = py.detach(|| {
            self.worker.call(move |program| {
                let id = program.sop(&name, "compile")?;
                let mut options = CompileOptions::new(vocab, bos, max_len);
                options.encodings = encodings;
                options.program = Some(ProgramInfo { file: rasp::PROGRAM_FILE.to_string(), sop: name.clone() });
                // The mask is the program's; this compile alone uses the one asked for.
                let before = program.mask();
                program.set_mask(if causal { rasp::AttentionMask::Causal } else { rasp::AttentionMask::Bidirectional });
                let model = program.compile(id, &options);
                program.set_mask(before);
                Ok((model?, program.loaded_files()))
            })
        });
        let (model, loads) = py_result(py, compiled)?;
        Ok(model::CompiledModel::new(model, self.name.clone(), self.source.clone(), loads, sop))
    }

    /// The program's text.
    #[getter]
    fn source(&self) -> String {
        self.source.clone()
    }

    /// The name the program was loaded under (it appears in error locations).
    #[getter]
    fn name(&self) -> String {
        self.name.clone()
    }
}

fn parse_encodings(items: Vec<(String, String)>) -> Result<Vec<(String, Encoding)>, Error> {
    items
        .into_iter()
        .map(|(name, encoding)| match encoding.as_str() {
            "categorical" => Ok((name, Encoding::Categorical)),
            "numerical" => Ok((name, Encoding::Numerical)),
            other => Err(Error::new(
                ErrorKind::Input,
                format!("the encoding of {name} must be \"categorical\" or \"numerical\", got {other:?}"),
            )),
        })
        .collect()
}

/// One thing a console line produced: its text and the drawings its
/// `draw(...)` statements asked for (path, then title/SVG/HTML or why not).
type Fed = (String, Vec<(String, Result<(String, String, String), Error>)>, bool, bool);

/// A REPL session (`rasp` at the terminal) on its own interpreter thread.
#[pyclass(frozen, module = "rasp._native")]
struct Session {
    worker: Worker<rasp::Session>,
}

#[pymethods]
impl Session {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Session> {
        let worker = py.detach(|| Worker::start(|| Ok(rasp::new_session(FileLoader))));
        Ok(Session { worker: py_result(py, worker)? })
    }

    /// Feeds one line as typed at the prompt (`help` included): the text
    /// printed, the drawings asked for, whether a statement is still being
    /// typed, and whether the line was `exit`/`quit`.
    fn feed(&self, py: Python<'_>, line: String) -> PyResult<Py<PyAny>> {
        let fed: Result<Fed, Error> = py.detach(|| {
            self.worker.call(move |session| {
                if !session.is_continuing()
                    && let Some(topic) = rasp::help_request(&line)
                {
                    return Ok((rasp::help(session, topic), Vec::new(), false, false));
                }
                let control = session.feed_line(&line);
                let drawings = rasp::take_drawings(session)
                    .into_iter()
                    .map(|request| {
                        let drawn = request.drawing.map(|d| (d.title().to_string(), d.to_svg(), d.to_html()));
                        (request.path, drawn)
                    })
                    .collect();
                let exited = control == rasp::Control::Exit;
                Ok((session.take_output(), drawings, session.is_continuing(), exited))
            })
        });
        let (text, drawings, continuing, exited) = py_result(py, fed)?;
        let drawings: Vec<(String, Py<PyAny>)> = drawings
            .into_iter()
            .map(|(path, drawn)| {
                let value = match drawn {
                    Ok(parts) => parts.into_pyobject(py)?.into_any().unbind(),
                    Err(e) => to_py_err(py, &e).into_value(py).into_any(),
                };
                Ok((path, value))
            })
            .collect::<PyResult<_>>()?;
        Ok((text, drawings, continuing, exited).into_pyobject(py)?.into_any().unbind())
    }

    /// The prompt the next line is typed at (`>> `, or `.. ` inside a statement).
    fn prompt(&self, py: Python<'_>) -> PyResult<String> {
        py_result(py, py.detach(|| self.worker.call(|session| Ok(session.prompt()))))
    }

    /// The REPL's banner and running example, as `rasp` prints them first.
    fn banner(&self, py: Python<'_>) -> PyResult<String> {
        py_result(
            py,
            py.detach(|| {
                self.worker.call(|session| {
                    session.banner();
                    Ok(session.take_output())
                })
            }),
        )
    }

    /// Names visible at the console.
    fn names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py_result(py, py.detach(|| self.worker.call(|session| Ok(session.names()))))
    }
}

/// A model folder written by `rasp compile` or `Model.save`.
#[pyfunction]
fn load_model(py: Python<'_>, dir: std::path::PathBuf) -> PyResult<model::CompiledModel> {
    let read = py.detach(move || {
        worker::on_large_stack(move || {
            let folder = rasp::ModelFolder::read(&dir)?;
            let sop = folder.model.config.program.as_ref().map(|p| p.sop.clone()).unwrap_or_default();
            Ok((
                folder.model,
                folder.program.name().to_string(),
                folder.program.source().to_string(),
                folder.program.loaded_files(),
                sop,
            ))
        })
    });
    let (model, name, source, loads, sop): (rasp::Model, String, String, BTreeMap<String, String>, String) =
        py_result(py, read)?;
    Ok(model::CompiledModel::new(model, name, source, loads, sop))
}

/// A vocabulary given as text: `a,b,c`, or one token per character.
#[pyfunction]
fn parse_vocab(text: &str) -> Vec<String> {
    rasp::parse_vocab(text)
}

/// Every kind of facade error, by name, as the exception it becomes (so
/// tests can check that each kind has its class).
#[pyfunction]
fn _exception_for_kind(py: Python<'_>, kind: &str, message: &str) -> Option<Py<PyAny>> {
    const KINDS: [ErrorKind; 9] = [
        ErrorKind::Syntax,
        ErrorKind::Program,
        ErrorKind::Name,
        ErrorKind::Input,
        ErrorKind::Evaluation,
        ErrorKind::Compile,
        ErrorKind::Model,
        ErrorKind::Io,
        ErrorKind::Internal,
    ];
    let kind = KINDS.iter().find(|k| k.name() == kind)?;
    Some(to_py_err(py, &Error::new(*kind, message)).into_value(py).into_any())
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("PRETRAINED_RASP_FOLDER", rasp::PRETRAINED_RASP_FOLDER)?;
    module.add_class::<Program>()?;
    module.add_class::<Session>()?;
    module.add_class::<model::CompiledModel>()?;
    module.add_function(wrap_pyfunction!(load_model, module)?)?;
    module.add_function(wrap_pyfunction!(parse_vocab, module)?)?;
    module.add_function(wrap_pyfunction!(_exception_for_kind, module)?)?;
    Ok(())
}
