//! `rasp-bench`: the same tables as `rasp bench`, without the rest of the
//! command line (so it builds alone).

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "rasp-bench")]
struct Cli {
    #[command(flatten)]
    args: rasp_bench::BenchArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    rasp_lang::with_large_stack(move || match rasp_bench::run(&cli.args, &mut std::io::stdout().lock(), &[]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rasp-bench: {e}");
            ExitCode::FAILURE
        }
    })
}
