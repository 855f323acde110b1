//! Reading a RASP file and finding the s-op a subcommand works on; shared
//! by `analyze`, `draw`, `train` and the REPL.

use rasp_core::{NodeId, Value};
use rasp_lang::{Session, SourceLoader};
use std::path::Path;
use std::process::ExitCode;

/// Reads `load`ed files relative to the working directory, as the reference.
pub struct FileLoader;

impl SourceLoader for FileLoader {
    fn load(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

/// Why a program could not be had.
pub enum ProgramError {
    /// The file cannot be read (exit code 2).
    Unreadable(String),
    /// The file has errors, or the name is not an s-op (exit code 1).
    Invalid(String),
}

impl ProgramError {
    pub fn message(&self) -> &str {
        match self {
            ProgramError::Unreadable(m) | ProgramError::Invalid(m) => m,
        }
    }

    /// Prints the message and gives the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("rasp: {}", self.message());
        match self {
            ProgramError::Unreadable(_) => ExitCode::from(2),
            ProgramError::Invalid(_) => ExitCode::FAILURE,
        }
    }
}

/// Runs FILE at the console of a fresh session (its printed results are
/// dropped; its errors are reported) and looks up the s-op `sop`; `verb` names the command in
/// messages ("analyze takes an s-op").
pub fn load_sop(file: &Path, sop: &str, verb: &str) -> Result<(Session, NodeId), ProgramError> {
    let shown = file.display().to_string();
    let text =
        std::fs::read_to_string(file).map_err(|e| ProgramError::Unreadable(format!("cannot read {shown}: {e}")))?;
    let mut session = Session::new(Box::new(FileLoader));
    session.run_file(&shown, &text);
    session.take_output();
    if session.had_file_errors() {
        // The verdict, then the errors with their source lines.
        let errors: String = session.take_diagnostics().iter().map(|d| d.render(false)).collect();
        return Err(ProgramError::Invalid(format!("{shown} has errors:\n{}", errors.trim_end())));
    }
    match session.lookup(sop) {
        Some(Value::Sop(id)) => Ok((session, id)),
        None => Err(ProgramError::Invalid(format!("{sop} is not defined in {shown}"))),
        Some(Value::Selector(_)) => Err(ProgramError::Invalid(format!("{sop} is a selector; {verb} takes an s-op"))),
        Some(Value::Function(_)) => Err(ProgramError::Invalid(format!(
            "{sop} is a function; {verb} takes an s-op (define one with it, e.g. x = {sop}(...);)"
        ))),
        Some(other) => {
            Err(ProgramError::Invalid(format!("{sop} is a value of type {}; {verb} takes an s-op", other.type_name())))
        }
    }
}

/// A `--vocab` argument: `a,b,c` is three tokens (trimmed, empty ones
/// dropped); text without commas is one token per character (`abcd`).
pub fn parse_vocab(text: &str) -> Vec<String> {
    if text.contains(',') {
        text.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
    } else {
        text.chars().map(|c| c.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_vocab;

    #[test]
    fn vocabularies() {
        assert_eq!(parse_vocab("a,b,c"), ["a", "b", "c"]);
        assert_eq!(parse_vocab("abc"), ["a", "b", "c"]);
        assert_eq!(parse_vocab("(,), {,}"), ["(", ")", "{", "}"]);
        assert_eq!(parse_vocab("one,two,,"), ["one", "two"]);
        assert_eq!(parse_vocab("§é"), ["§", "é"]);
    }
}
