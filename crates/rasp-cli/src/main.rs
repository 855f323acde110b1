//! `rasp`: the RASP REPL and command-line tools. Thin: parses arguments and
//! hands the work to the crates below.

mod repl;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// RASP — the Restricted Access Sequence Processing language of "Thinking
/// Like Transformers" (Weiss, Goldberg, Yahav, ICML 2021).
///
/// With no arguments, starts the REPL on the running example "hello". When
/// standard input is not a terminal, prints exactly what the reference REPL
/// (tech-srl/RASP 0.1) prints for the same input.
#[derive(Parser, Debug)]
#[command(name = "rasp", version, about, long_about)]
struct Cli {
    /// A .rasp file to run first (as if typed at the REPL); then the REPL starts.
    file: Option<PathBuf>,
    /// Only run FILE, do not start the REPL afterwards.
    #[arg(short, long, requires = "file")]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    rasp_lang::with_large_stack(move || repl::run(cli.file, cli.quiet))
}
