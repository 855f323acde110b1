//! `rasp generate`: autoregressive generation with a program or a compiled
//! model (decoder mode, docs/semantics.md §6).

use crate::files::say_then_exit;
use crate::program::{MaskArgs, load_sop, report};
use clap::Args;
use rasp::ModelFolder;
use std::path::PathBuf;
use std::process::ExitCode;

const ABOUT: &str = "Generate tokens autoregressively with a program or a compiled model";

const LONG_ABOUT: &str = "\
Generate tokens autoregressively with a program or a compiled model.

With a .rasp FILE, runs the s-op NAME on the prompt (after --bos when given),
appends its value at the last position (as Python's str writes it) as the
next token, and runs again, STEPS times, under the mask of --causal or
--prefix-len (bidirectional without them: the whole sequence is rerun each
step either way).

With a DIR written by `rasp compile`, the model does the same: its decoded
output at the last position is the next token, which must be in its
vocabulary, and BOS is the model's own. A model compiled with --causal keeps
the keys and values of every position of every head (a key/value cache) and
runs only the new token's position through the layers at each step; a
prefix-LM model recomputes the sequence while it is within the prefix; a
bidirectional model reruns the whole sequence each step.

Prints one line per step: the prompt and the tokens generated so far,
separated by spaces (BOS not shown). The program and its compiled model
print the same lines (tests check it).";

#[derive(Args, Debug)]
#[command(about = ABOUT, long_about = LONG_ABOUT)]
pub struct GenerateArgs {
    /// A .rasp file, or a directory written by `rasp compile`.
    pub target: PathBuf,
    /// The s-op whose last value is the next token (with a FILE; a model
    /// knows its own).
    #[arg(long, value_name = "NAME")]
    pub sop: Option<String>,
    /// The prompt: `a,b,c`, or text without commas for one token per
    /// character (`abc`).
    #[arg(long, value_name = "TOKENS", allow_hyphen_values = true)]
    pub prompt: String,
    /// How many tokens to generate.
    #[arg(long, value_name = "K")]
    pub steps: usize,
    /// A token put before the prompt (with a FILE; a model adds its own).
    #[arg(long, value_name = "TOKEN")]
    pub bos: Option<String>,
    #[command(flatten)]
    pub mask: MaskArgs,
}

pub fn run(args: GenerateArgs) -> ExitCode {
    let generation = if args.target.is_dir() {
        let folder = match ModelFolder::read(&args.target) {
            Ok(folder) => folder,
            Err(e) => return report(&e),
        };
        let recorded = folder.program.mask();
        if (args.mask.causal || args.mask.prefix_len.is_some()) && args.mask.mask() != recorded {
            eprintln!(
                "rasp: {} was compiled with {recorded} attention, not {}",
                args.target.display(),
                args.mask.mask()
            );
            return ExitCode::from(2);
        }
        if args.bos.is_some() {
            eprintln!("rasp: --bos is for programs; a compiled model adds its own BOS");
            return ExitCode::from(2);
        }
        let prompt = match rasp::parse_word(&args.prompt, &folder.model.config.vocab) {
            Ok(prompt) => prompt,
            Err(e) => return report(&e),
        };
        rasp::generate_with_model(&folder.model, &prompt, args.steps)
    } else {
        let Some(sop) = &args.sop else {
            eprintln!("rasp: generate with a .rasp file needs --sop NAME");
            return ExitCode::from(2);
        };
        let (mut program, root) = match load_sop(&args.target, sop, "generate") {
            Ok(found) => found,
            Err(e) => return report(&e),
        };
        program.set_mask(args.mask.mask());
        program.generate(root, &rasp::parse_vocab(&args.prompt), args.bos.as_deref(), args.steps)
    };
    match generation {
        Ok(generation) => say_then_exit(&generation.to_text()),
        Err(e) => report(&e),
    }
}
