//! `rasp bench`: the tables of `rasp_bench`.

pub use rasp_bench::BenchArgs;
use std::process::ExitCode;

pub fn run(args: BenchArgs) -> ExitCode {
    match rasp_bench::run(&args, &mut std::io::stdout().lock(), &["bench"]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rasp bench: {e}");
            ExitCode::FAILURE
        }
    }
}
