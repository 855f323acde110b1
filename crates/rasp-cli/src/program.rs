//! Reading a RASP file for a subcommand and finding the s-op it works on;
//! everything past reading the file is the facade's.

use rasp::{ErrorKind, FileLoader, NodeId, Program};
use std::path::Path;
use std::process::ExitCode;

/// Prints a facade error and gives the exit status: 2 for what the user
/// must fix in how they called rasp (unreadable files, bad input), 1 for a
/// program or model that fails, 70 (EX_SOFTWARE) for a bug in rasp.
pub fn report(error: &rasp::Error) -> ExitCode {
    eprintln!("rasp: {error}");
    exit_status(error.kind())
}

/// The exit status of an error of `kind` (see [`report`]).
pub fn exit_status(kind: ErrorKind) -> ExitCode {
    match kind {
        ErrorKind::Io | ErrorKind::Input => ExitCode::from(2),
        ErrorKind::Internal => ExitCode::from(70),
        ErrorKind::Syntax
        | ErrorKind::Program
        | ErrorKind::Name
        | ErrorKind::Evaluation
        | ErrorKind::Compile
        | ErrorKind::Model => ExitCode::FAILURE,
    }
}

/// Reads and runs FILE, then finds the s-op `sop`; `operation` names the
/// subcommand in messages ("analyze takes an s-op").
pub fn load_sop(file: &Path, sop: &str, operation: &str) -> Result<(Program, NodeId), rasp::Error> {
    let shown = file.display().to_string();
    let text = rasp::read_source(file)?;
    let program = Program::from_source(&shown, &text, FileLoader)?;
    let id = program.sop(sop, operation)?;
    Ok((program, id))
}
