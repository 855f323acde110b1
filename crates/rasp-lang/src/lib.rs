//! rasp-lang: the RASP surface language (tech-srl/RASP 0.1 dialect).
//!
//! Input: lines of text, as typed at the REPL or read from files. Output:
//! the text the reference REPL prints for them (semantics.md §3), and the graph IR
//! (`rasp_core::Graph`) of every s-op and selector defined. Invariants: no
//! IO (files come through a `SourceLoader`, output through a buffer);
//! nothing panics on user input; every error leaves the session's state as
//! it was before the failing statement (bindings already made stay made, as
//! in the reference).
//!
//! A front end makes a [`Session`] (with a [`SourceLoader`] for `load`), feeds
//! it lines or files, and drains its output; [`drive`] is the piped REPL
//! loop. In friendly mode errors come out as [`Diagnostic`]s with a
//! [`Location`] and a call chain of [`Frame`]s instead of the reference's
//! text. [`NativeFn`] adds built-ins such as `analyze(...)`.

#![warn(missing_docs)]

mod diagnostic;
mod display;
mod engine;
mod env;
mod function;
mod interp;
mod library;
mod names;
mod native;
mod session;

pub use diagnostic::{Diagnostic, DiagnosticKind, Frame, Location};
pub use display::{MASKED_CELL, sequence_text};
pub use native::NativeFn;
pub use session::{Control, LIBRARY_PATH, NoFiles, Session, SourceLoader, drive};

/// Runs `f` on a thread with a large stack: deep RASP recursion and long
/// chains of nested expressions recurse in the interpreter.
///
/// For native front ends (the CLI, the Python package) and tests: library
/// code never starts threads, and the browser has none (there the stack
/// size is set when linking the WebAssembly module), so this does not exist
/// on wasm targets.
#[cfg(not(target_family = "wasm"))]
pub fn with_large_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::thread::Builder::new().stack_size(512 * 1024 * 1024).spawn(f);
    match handle {
        Ok(h) => match h.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(e) => panic!("cannot start the interpreter thread: {e}"),
    }
}
