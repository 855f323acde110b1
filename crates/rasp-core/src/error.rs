//! Evaluation errors. The reference prints two kinds differently (semantics.md §3.4):
//! its own RASP errors as `!!ignoring input`, and Python exceptions raised by
//! applying Python operators as `something went wrong: MSG`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A RASP type/value/name error: printed as `\t\t!!ignoring input:\n\t MSG`.
    Rasp,
    /// What Python would raise (TypeError, ZeroDivisionError, ...): printed as
    /// `something went wrong: MSG`, with MSG exactly Python's `str(exception)`.
    Python,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub kind: ErrorKind,
    pub message: String,
}

impl EvalError {
    pub fn rasp(message: impl Into<String>) -> EvalError {
        EvalError { kind: ErrorKind::Rasp, message: message.into() }
    }
    pub fn python(message: impl Into<String>) -> EvalError {
        EvalError { kind: ErrorKind::Python, message: message.into() }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

pub type EvalResult<T> = Result<T, EvalError>;
