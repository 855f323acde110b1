//! `rasp residual DIR --input TOKENS -o OUT.svg|html`: the residual stream
//! of a compiled model, layer by layer.

use crate::files::{output_extension, write_atomic};
use clap::Args;
use rasp::{ModelFolder, ResidualStream};
use std::path::PathBuf;
use std::process::ExitCode;

const ABOUT: &str = "Draw the residual stream of a compiled model on an input, layer by layer (SVG or HTML)";

const LONG_ABOUT: &str = "\
Draw the residual stream of a model written by `rasp compile`, layer by layer.

Runs the model on the input and draws one heatmap per stage: after the
embedding, then after each layer (its attention heads and its MLP). Rows are
positions (the model's start token, then position:token); columns are the
residual dimensions, grouped under the s-op they hold (model.json's
subspaces) and labelled by the value each one-hot dimension stands for
(`value` for a numerical s-op). The groups a stage wrote are framed, so each
s-op appears where the circuit puts it. Colours run from 0 (white) to 1
(violet), values outside clamped; each non-zero cell also shows its number,
and its tooltip the exact value.

The output's extension selects the format: OUT.svg, or OUT.html for a
self-contained page (no network) with hover details.";

#[derive(Args, Debug)]
#[command(about = ABOUT, long_about = LONG_ABOUT)]
pub struct ResidualArgs {
    /// A directory written by `rasp compile`.
    pub dir: PathBuf,
    /// The input: one token per character when every token is one
    /// character, else tokens separated by commas; or a RASP list or quoted
    /// string (`["ab", "cd"]`). The BOS token is added in front when the
    /// model has one.
    #[arg(long, value_name = "STR", allow_hyphen_values = true)]
    pub input: String,
    /// Where to write: OUT.svg, or OUT.html for the interactive page.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

pub fn run(args: ResidualArgs) -> ExitCode {
    let html = match output_extension(&args.output, &["svg", "html"]) {
        Ok(extension) => extension == "html",
        Err(e) => {
            eprintln!("rasp: {e}");
            return ExitCode::from(2);
        }
    };
    let stream = match ModelFolder::read(&args.dir).and_then(|folder| ResidualStream::compute(&folder, &args.input)) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("rasp: {e}");
            return crate::program::exit_status(e.kind());
        }
    };
    let contents = if html { stream.to_html() } else { stream.to_svg() };
    if let Err(e) = write_atomic(&args.output, contents.as_bytes()) {
        eprintln!("rasp: {e}");
        return ExitCode::FAILURE;
    }
    crate::files::say_then_exit(&format!("{}\n", args.output.display()))
}
