//! The paper's programs compile to models that agree with the interpreter
//! on every input up to the maximum length.

mod common;

use common::{PAPER, compile_and_verify};

fn check(sop: &'static str, tokens: &'static str, bos: Option<&'static str>, max_len: usize) -> common::Outcome {
    let out = compile_and_verify(PAPER, sop, tokens, bos, max_len);
    let r = &out.report;
    let p = out.model.parameter_count();
    eprintln!(
        "{sop} V={} N={max_len}: d_model {} layers {} params {} (nonzero {}), checked {} (undefined {}), mismatches {}, min margin {:.4}",
        tokens.split(',').count(),
        out.model.config.d_model,
        out.model.config.n_layers,
        p.dense,
        p.nonzero,
        r.inputs_checked,
        r.undefined,
        r.mismatches,
        r.min_margin
    );
    assert_eq!(r.mismatches, 0, "{sop}: {:?}", r.examples);
    assert!(r.inputs_checked > 0);
    out
}

#[test]
fn reverse_len5() {
    check("reverse", "a,b,c,d", None, 5);
}

#[test]
fn hist_bos_len8() {
    check("hist_bos", "a,b,c,d", Some("§"), 8);
}

#[test]
fn sort_bos_len8() {
    check("sort_bos", "a,b,c,d", Some("§"), 8);
}

#[test]
fn sort_by_most_freq_len8() {
    check("sort_by_most_freq", "a,b,c,d", Some("§"), 8);
}

#[test]
fn dyck1_len12() {
    check("dyck1_ptf", "(,)", None, 12);
}

#[test]
fn dyck2_len8() {
    check("dyck2_ptf", "(,),{,}", None, 8);
}

#[test]
fn reverse_len8() {
    check("reverse", "a,b,c,d", None, 8);
}

/// Too many words to check them all (4^16 of length 16): every length,
/// with a seeded random sample of the longer ones.
#[test]
fn reverse_len16_sampled() {
    let opts = rasp_compile::VerifyOptions { sample_per_length: 1500, ..Default::default() };
    let out = common::compile_and_verify_with(PAPER, "reverse", "a,b,c,d", None, 16, opts);
    let r = &out.report;
    eprintln!(
        "reverse V=4 N=16: d_model {}, checked {} (sampled), mismatches {}",
        out.model.config.d_model, r.inputs_checked, r.mismatches
    );
    assert!(!r.exhaustive && r.lengths.iter().filter(|l| !l.exhaustive).count() == 11);
    assert_eq!(r.mismatches, 0, "{:?}", r.examples);
}

/// The verifier notices a broken model.
#[test]
fn verify_reports_a_broken_model() {
    let (mismatches, examples) = rasp_lang::with_large_stack(|| {
        let (graph, root) = common::graph_of(PAPER, "reverse");
        let opts = rasp_compile::CompileOptions::new(common::vocab("a,b,c"), None, 4);
        let (mut model, _) = rasp_compile::compile(&graph, root, &opts).unwrap_or_else(|e| panic!("{e}"));
        // Silence the last layer's head: reverse is no longer computed.
        let last = model.layers.len() - 1;
        model.layers[last].heads[0].w_o.fill(0.0);
        let r = rasp_compile::verify(&graph, root, &model, &Default::default());
        (r.mismatches, r.examples.len())
    });
    assert!(mismatches > 0 && examples > 0);
}
