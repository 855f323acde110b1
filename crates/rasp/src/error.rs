//! The one error type of the facade. Front ends map its kind to their own
//! conventions (an exit status in the CLI, an exception class in Python, a
//! message beside the editor in the playground), so the kind says whose
//! mistake it is and the message is ready to show.

use std::fmt;

/// What went wrong, by whose hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The program's text does not parse.
    Syntax,
    /// The program parses but a statement fails (a RASP error or a
    /// Python-semantics error while it runs).
    Program,
    /// A name the caller asked for is not defined, or is not what the
    /// operation takes (a selector where an s-op is needed).
    Name,
    /// An input, vocabulary or option the caller gave is not usable.
    Input,
    /// Evaluating an s-op on an input failed.
    Evaluation,
    /// The program cannot be compiled to weights with these options.
    Compile,
    /// A compiled model (or its folder) is malformed or does not fit.
    Model,
    /// A file could not be read.
    Io,
    /// A bug in rasp, not the caller's mistake.
    Internal,
}

impl ErrorKind {
    /// A short lower-case name (`syntax`, `compile`, ...), for messages and
    /// for front ends that key on strings.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::Program => "program",
            ErrorKind::Name => "name",
            ErrorKind::Input => "input",
            ErrorKind::Evaluation => "evaluation",
            ErrorKind::Compile => "compile",
            ErrorKind::Model => "model",
            ErrorKind::Io => "io",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An error from any operation of the facade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    diagnostics: Vec<rasp_lang::Diagnostic>,
}

impl Error {
    /// An error of `kind` with a message for the user.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: clip_long_lines(message.into()), diagnostics: Vec::new() }
    }

    /// An error whose places in the program are known: an editor can mark
    /// each diagnostic's span, a terminal can render it with carets.
    pub fn with_diagnostics(
        kind: ErrorKind,
        message: impl Into<String>,
        diagnostics: Vec<rasp_lang::Diagnostic>,
    ) -> Error {
        Error { kind, message: clip_long_lines(message.into()), diagnostics }
    }

    /// The program's errors with their places (empty when the error is not
    /// about a place in the program, e.g. a missing file).
    pub fn diagnostics(&self) -> &[rasp_lang::Diagnostic] {
        &self.diagnostics
    }

    /// Whose mistake it is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, ready to show (may span several lines, e.g. the
    /// diagnostics of a program with errors).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ErrorKind::Internal {
            write!(f, "internal error in rasp (please report it): {}", self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for Error {}

impl From<rasp_compile::CompileError> for Error {
    fn from(e: rasp_compile::CompileError) -> Error {
        Error::new(ErrorKind::Compile, e.to_string())
    }
}

impl From<rasp_model::ModelError> for Error {
    fn from(e: rasp_model::ModelError) -> Error {
        // A word the model cannot take (an unknown token, too long) is the
        // caller's input, and a file that cannot be read or written is IO,
        // not a fault of the model.
        let kind = match &e {
            rasp_model::ModelError::Input(_) => ErrorKind::Input,
            rasp_model::ModelError::Io(_) => ErrorKind::Io,
            rasp_model::ModelError::Format(_) => ErrorKind::Model,
        };
        Error::new(kind, e.to_string())
    }
}

impl From<rasp_draw::DrawError> for Error {
    fn from(e: rasp_draw::DrawError) -> Error {
        let kind = match &e {
            rasp_draw::DrawError::Eval(_) => ErrorKind::Evaluation,
            rasp_draw::DrawError::NotAnSop(_) => ErrorKind::Name,
            rasp_draw::DrawError::TooLong { .. } => ErrorKind::Input,
            rasp_draw::DrawError::Internal(_) => ErrorKind::Internal,
        };
        Error::new(kind, e.to_string())
    }
}

/// Longest line of an error message, in characters.
const MAX_MESSAGE_LINE: usize = 300;

/// Shortens message lines past [`MAX_MESSAGE_LINE`] characters, keeping
/// their start and end: a message may quote what it rejects (serde quotes a
/// wrong JSON string whole), and a 100 KB token from a model folder or an
/// input should not come back at the user.
fn clip_long_lines(message: String) -> String {
    if message.lines().all(|line| line.chars().count() <= MAX_MESSAGE_LINE) {
        return message;
    }
    let lines: Vec<String> = message
        .split('\n')
        .map(|line| {
            let count = line.chars().count();
            if count <= MAX_MESSAGE_LINE {
                return line.to_string();
            }
            let keep = MAX_MESSAGE_LINE / 2 - 20;
            let head: String = line.chars().take(keep).collect();
            let tail: String = line.chars().skip(count - keep).collect();
            format!("{head} … ({} characters left out) … {tail}", count - 2 * keep)
        })
        .collect();
    lines.join("\n")
}

/// The facade's result type.
pub type Result<T> = std::result::Result<T, Error>;
