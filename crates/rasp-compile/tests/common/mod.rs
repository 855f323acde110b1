//! Shared helpers: graphs from RASP source, compile, verify.

#![allow(dead_code)]

use rasp_compile::{CompileOptions, Model, VerifyOptions, VerifyReport, compile, verify};
use rasp_core::{Graph, NodeId, Value};
use rasp_lang::{NoFiles, Session};

pub const PAPER: &str = include_str!("../data/paper.rasp");

pub fn graph_of(source: &str, sop: &str) -> (Graph, NodeId) {
    let mut s = Session::new(Box::new(NoFiles));
    // The session shows each s-op on its example input; an int example
    // lets `tokens_int` programs load.
    s.run_file("test.rasp", &format!("set example [1, 2]\n{source}"));
    let out = s.take_output();
    match s.lookup(sop) {
        Some(Value::Sop(id)) => (s.graph, id),
        other => panic!("{sop} is not an s-op: {other:?}\n{out}"),
    }
}

pub fn vocab(tokens: &str) -> Vec<String> {
    tokens.split(',').map(str::to_string).collect()
}

pub struct Outcome {
    pub model: Model,
    pub report: VerifyReport,
}

/// Compiles and verifies, on a thread with a large stack.
pub fn compile_and_verify(
    source: &'static str,
    sop: &'static str,
    tokens: &'static str,
    bos: Option<&'static str>,
    max_len: usize,
) -> Outcome {
    compile_and_verify_with(source, sop, tokens, bos, max_len, VerifyOptions::default())
}

/// The same with chosen verification options.
pub fn compile_and_verify_with(
    source: &'static str,
    sop: &'static str,
    tokens: &'static str,
    bos: Option<&'static str>,
    max_len: usize,
    options: VerifyOptions,
) -> Outcome {
    compile_and_verify_masked(source, sop, tokens, bos, max_len, options, rasp_core::AttentionMask::Bidirectional)
}

/// The same for a model built with an attention mask (verified under it).
pub fn compile_and_verify_masked(
    source: &'static str,
    sop: &'static str,
    tokens: &'static str,
    bos: Option<&'static str>,
    max_len: usize,
    options: VerifyOptions,
    mask: rasp_core::AttentionMask,
) -> Outcome {
    rasp_lang::with_large_stack(move || {
        let (graph, root) = graph_of(source, sop);
        let mut opts = CompileOptions::new(vocab(tokens), bos.map(str::to_string), max_len);
        opts.mask = mask;
        let (model, _) = compile(&graph, root, &opts).unwrap_or_else(|e| panic!("{e}"));
        let report = verify(&graph, root, &model, &options);
        Outcome { model, report }
    })
}
