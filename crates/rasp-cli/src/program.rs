//! Reading a RASP file for a subcommand and finding the s-op it works on;
//! everything past reading the file is the facade's.

use rasp::{AttentionMask, ErrorKind, FileLoader, NodeId, Program};
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

/// Decoder mode (docs/semantics.md §6): `--causal` and `--prefix-len N`,
/// shared by every subcommand that evaluates a program.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct MaskArgs {
    /// Decoder mode (an extension of RASP): every position attends only to
    /// itself and earlier positions, in the interpreter and the compiled
    /// model alike; `length` at position i is then i + 1.
    #[arg(long)]
    pub causal: bool,
    /// Prefix-LM: the first N positions (BOS included) attend to each other,
    /// later ones causally. Implies --causal.
    #[arg(long, value_name = "N")]
    pub prefix_len: Option<usize>,
}

impl MaskArgs {
    /// The mask the flags name (bidirectional without either).
    pub fn mask(&self) -> AttentionMask {
        AttentionMask::from_options(self.causal, self.prefix_len)
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
