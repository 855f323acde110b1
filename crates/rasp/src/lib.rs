//! rasp: the front door to the RASP toolchain.
//!
//! Every front end (the `rasp` command, the Python package, the browser
//! playground) goes through this crate, so each is a screenful of glue and
//! they all behave alike. A front end loads a [`Program`] from source text
//! (files it `load`s come through a [`SourceLoader`], so this crate needs no
//! file system), then runs an s-op on an input, analyses it, draws it,
//! compiles it to transformer weights and verifies them; or it drives a
//! REPL [`Session`] made by [`new_session`], which has the built-ins
//! `analyze(...)` and `compile(...)`, and answers `help`.
//!
//! The crates below stay usable on their own; this one re-exports the types
//! a front end needs, so it depends on nothing else.
//!
//! Nothing here reads the clock or starts threads (the caller measures, and
//! the `parallel` feature, on by default, only lets batch evaluation use
//! rayon), so the crate builds for `wasm32-unknown-unknown`. Only
//! [`ModelFolder::read`] and [`FileLoader`] touch the file system.

#![warn(missing_docs)]

mod arrays;
mod attention;
mod compiled;
mod console;
mod error;
mod generate;
mod input;
mod lens;
mod lookahead;
mod program;
mod repl;
mod residual;
#[cfg(feature = "train")]
mod trained;

pub use arrays::{
    Matrix, attention_patterns, decode_residual, decode_scores, model_json, readout_scores, readout_width,
    residual_streams, weights,
};
pub use attention::{AttentionComparison, HeadAttention};
pub use compiled::{
    CIRCUIT_FILE, LOADS_FILE, ModelFolder, ONNX_FILE, OutputFile, PROGRAM_FILE, model_files, summary, verify_json,
    verify_text,
};
pub use console::help_request;
pub use error::{Error, ErrorKind, Result};
pub use generate::{Generation, generate_with_model};
pub use input::{parse_input, parse_vocab, parse_word, split_word};
pub use lens::{
    PRETRAINED_FORMAT, PRETRAINED_RASP_FOLDER, Tensor, circuit, loss_mask, pretrained_files, transformer_lens_config,
    transformer_lens_tensors,
};
pub use lookahead::{Lookahead, SelectSite};
pub use program::{FileLoader, Program, StoredFiles, read_source};
pub use repl::{
    DrawRequest, REPL_COMPILE_MAX_LEN, add_builtins, help, missing_semicolon_hint, new_session, take_drawings,
};
pub use residual::{ResidualGroup, ResidualStage, ResidualStream};
#[cfg(feature = "train")]
pub use trained::{Prediction, TrainedAttention, TrainedHeadMatch, TrainedModel};

pub use rasp_analyze::{Analysis, AnalyzeOptions, Schedule};
pub use rasp_compile::{CompileOptions, LookaheadOptions, LookaheadReport, PAPER_EXAMPLES};
pub use rasp_compile::{Coverage, VerifyOptions, VerifyProgress, VerifyReport};
pub use rasp_core::{Atom, AttentionMask, Graph, NodeId, Sequence, Value};
pub use rasp_draw::{Drawing, SvgParts, default_path as default_drawing_path, input_repr};
#[cfg(not(target_family = "wasm"))]
pub use rasp_lang::with_large_stack;
pub use rasp_lang::{
    Control, Diagnostic, DiagnosticKind, Frame, LIBRARY_PATH, Location, NoFiles, Session, SourceLoader, drive,
};
pub use rasp_model::{Decoded, Encoding, Model, PreparedModel, ProgramInfo, Scalar};
