//! `rasp`: the RASP REPL and command-line tools. Thin: parses arguments and
//! hands the work to the crates below.

mod analyze;
mod bench;
mod compile;
mod draw;
mod files;
mod generate;
mod predict;
mod program;
mod progress;
mod repl;
mod residual;
mod serve;
mod train;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// RASP — the Restricted Access Sequence Processing language of "Thinking
/// Like Transformers" (Weiss, Goldberg, Yahav, ICML 2021).
///
/// With no arguments, starts the REPL on the running example "hello". When
/// standard input is not a terminal, prints exactly what the reference REPL
/// (tech-srl/RASP 0.1) prints for the same input.
#[derive(Parser, Debug)]
#[command(name = "rasp", version, about, long_about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A .rasp file to run first (as if typed at the REPL); then the REPL starts.
    file: Option<PathBuf>,
    /// Only run FILE, do not start the REPL afterwards.
    #[arg(short, long, requires = "file")]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    Analyze(analyze::AnalyzeArgs),
    Draw(draw::DrawArgs),
    Bench(bench::BenchArgs),
    Compile(compile::CompileArgs),
    Verify(compile::VerifyArgs),
    BenchCompile(compile::BenchCompileArgs),
    Generate(generate::GenerateArgs),
    Predict(predict::PredictArgs),
    Train(train::TrainArgs),
    Attention(train::AttentionArgs),
    Residual(residual::ResidualArgs),
    Table(train::TableArgs),
    Completions(CompletionsArgs),
    Serve(serve::ServeArgs),
}

/// Print a shell completion script for rasp.
///
/// Load it in the current shell with, e.g., `source <(rasp completions bash)`,
/// or install it where your shell looks: `rasp completions bash >
/// ~/.local/share/bash-completion/completions/rasp`, `rasp completions zsh >
/// ~/.zfunc/_rasp` (with ~/.zfunc in fpath), `rasp completions fish >
/// ~/.config/fish/completions/rasp.fish`.
#[derive(clap::Args, Debug)]
struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

impl Command {
    fn compute_threads(&self) -> Option<u16> {
        match self {
            Command::Train(args) => Some(args.threads.threads),
            Command::Table(args) => Some(args.threads.threads),
            _ => None,
        }
    }
}

/// candle and rayon size their thread pools from these variables when they
/// first start, and offer no other way to choose. Called before any other
/// thread exists.
#[allow(unsafe_code)]
fn set_compute_threads(n: u16) {
    // SAFETY: the process is still single-threaded, so nothing reads the
    // environment while it changes.
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        std::env::set_var("CANDLE_NUM_THREADS", n.to_string());
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.command.as_ref().and_then(Command::compute_threads) {
        set_compute_threads(n);
    }
    rasp::with_large_stack(move || match cli.command {
        Some(Command::Analyze(args)) => analyze::run(args),
        Some(Command::Draw(args)) => draw::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Compile(args)) => compile::run_compile(args),
        Some(Command::Verify(args)) => compile::run_verify(args),
        Some(Command::BenchCompile(args)) => compile::run_bench(args),
        Some(Command::Generate(args)) => generate::run(args),
        Some(Command::Predict(args)) => predict::run(args),
        Some(Command::Train(args)) => train::run_train(args),
        Some(Command::Attention(args)) => train::run_attention(args),
        Some(Command::Residual(args)) => residual::run(args),
        Some(Command::Table(args)) => train::run_table(args),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Completions(args)) => {
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "rasp", &mut script);
            files::say_then_exit(&String::from_utf8_lossy(&script))
        }
        None => repl::run(cli.file, cli.quiet),
    })
}
