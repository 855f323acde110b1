//! Evaluation errors, typed by whose fault they are. The reference prints
//! three kinds differently (semantics.md §3.4): its own RASP errors as
//! `!!ignoring input`, Python exceptions raised by applying Python operators
//! as `something went wrong: MSG`, and forms it never evaluates as `not
//! implemented this command yet! ignoring`. A fourth kind, `Internal`, is
//! rasp's own: a state the code believes impossible, reported as a bug in
//! rasp rather than as a mistake of the user.

use std::fmt;

/// Whose fault an [`EvalError`] is, which decides how the piped REPL prints
/// it (a friendlier front end may word all four its own way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's RASP program is wrong in a way the reference detects itself
    /// (a type, value or name error: `aggregate(3, tokens)`, an unknown
    /// name). Printed as `\t\t!!ignoring input:\n\t MSG`. The fix is in the
    /// program.
    Program,
    /// The program asked Python to do something Python refuses (TypeError,
    /// ZeroDivisionError, RecursionError, ...). Printed as
    /// `something went wrong: MSG`, with MSG exactly Python's
    /// `str(exception)`. Usually also the program's fault, but worded by
    /// Python, so the message names Python types (`'int' and 'str'`).
    Python,
    /// A construct the reference parses but does not evaluate (calling a
    /// number, ...). Printed as `not implemented this command yet! ignoring`;
    /// the message says which construct, for friendlier front ends.
    Unsupported,
    /// A bug in rasp: a state the code holds impossible (a graph lookup that
    /// cannot miss did). Never the user's fault, so never worded as if it
    /// were: printed as `internal error in rasp (please report): MSG`.
    Internal,
}

/// An evaluation error: its kind and the message the reference (or Python)
/// would show. Errors carry no position: the interpreter, which knows the
/// expression being evaluated, adds that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// Whose fault it is, and so how it is printed.
    pub kind: ErrorKind,
    /// The text after the kind's prefix, exactly as the reference prints it
    /// (for `Python`, Python's `str(exception)`).
    pub message: String,
}

impl EvalError {
    /// A mistake in the user's RASP program (`ErrorKind::Program`).
    pub fn rasp(message: impl Into<String>) -> EvalError {
        EvalError { kind: ErrorKind::Program, message: message.into() }
    }
    /// What Python would raise (`ErrorKind::Python`).
    pub fn python(message: impl Into<String>) -> EvalError {
        EvalError { kind: ErrorKind::Python, message: message.into() }
    }
    /// A construct the reference does not evaluate (`ErrorKind::Unsupported`);
    /// `message` describes it for people, the piped REPL does not print it.
    pub fn unsupported(message: impl Into<String>) -> EvalError {
        EvalError { kind: ErrorKind::Unsupported, message: message.into() }
    }
    /// A bug in rasp (`ErrorKind::Internal`): `message` says which
    /// invariant broke.
    pub fn internal(message: impl Into<String>) -> EvalError {
        EvalError { kind: ErrorKind::Internal, message: message.into() }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// The result of anything that evaluates: a value or an [`EvalError`].
pub type EvalResult<T> = Result<T, EvalError>;
