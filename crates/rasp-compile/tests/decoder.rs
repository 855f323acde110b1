//! Compiled decoders (semantics.md §6): models built with a causal or
//! prefix-LM mask agree with the interpreter under the same mask on every
//! input, the forward pass really applies the mask, and the look-ahead
//! check finds the programs that read ahead.

mod common;

use common::{PAPER, graph_of, vocab};
use rasp_compile::{CompileOptions, LookaheadOptions, VerifyOptions, check_lookahead, compile, verify};
use rasp_core::AttentionMask;
use rasp_model::Scalar;

fn compile_masked(
    source: &'static str,
    sop: &'static str,
    tokens: &'static str,
    bos: Option<&'static str>,
    max_len: usize,
    mask: AttentionMask,
) -> (rasp_compile::Model, rasp_compile::VerifyReport) {
    rasp_lang::with_large_stack(move || {
        let (graph, root) = graph_of(source, sop);
        let mut opts = CompileOptions::new(vocab(tokens), bos.map(str::to_string), max_len);
        opts.mask = mask;
        let (model, _) = compile(&graph, root, &opts).unwrap_or_else(|e| panic!("{sop}: {e}"));
        let report = verify(&graph, root, &model, &VerifyOptions::default());
        (model, report)
    })
}

#[test]
fn paper_programs_compile_as_decoders() {
    let cases: [(&str, &str, Option<&str>, usize); 5] = [
        ("reverse", "a,b,c,d", None, 5),
        ("hist_bos", "a,b,c,d", Some("§"), 6),
        ("sort_bos", "a,b,c,d", Some("§"), 5),
        ("dyck1_ptf", "(,)", None, 8),
        ("sort_by_most_freq", "a,b,c", Some("§"), 5),
    ];
    for (sop, tokens, bos, max_len) in cases {
        for mask in [AttentionMask::Causal, AttentionMask::Prefix { length: 2 }] {
            let (model, report) = compile_masked(PAPER, sop, tokens, bos, max_len, mask);
            assert!(report.exhaustive && report.inputs_checked > 0, "{sop} {mask}");
            assert_eq!(report.mismatches, 0, "{sop} {mask}: {:?}", report.examples);
            assert!(model.config.causal);
            assert_eq!(model.config.prefix_len, mask.prefix_len());
        }
    }
}

#[test]
fn causal_length_counts_positions() {
    // Hand-computed: under the causal mask, length at position i is i + 1.
    let (model, report) = compile_masked("seen = length;", "seen", "a,b", None, 5, AttentionMask::Causal);
    assert_eq!(report.mismatches, 0);
    let out = model.run(&[vec!["a", "b", "b", "a"]]).expect("runs");
    let values: Vec<Scalar> = out[0].iter().map(|d| d.value.clone()).collect();
    assert_eq!(values, vec![Scalar::Int(1), Scalar::Int(2), Scalar::Int(3), Scalar::Int(4)]);
    // The same weights without the mask compute something else, so the
    // forward pass is what applies it.
    let mut unmasked = model.clone();
    unmasked.config.causal = false;
    let out = unmasked.run(&[vec!["a", "b", "b", "a"]]).expect("runs");
    let values: Vec<Scalar> = out[0].iter().map(|d| d.value.clone()).collect();
    assert_ne!(values, vec![Scalar::Int(1), Scalar::Int(2), Scalar::Int(3), Scalar::Int(4)]);
}

#[test]
fn config_fields_round_trip_and_default() {
    let (model, _) = compile_masked("seen = length;", "seen", "a,b", None, 3, AttentionMask::Prefix { length: 2 });
    let json = serde_json::to_value(&model.config).expect("serialises");
    assert_eq!(json["causal"], serde_json::json!(true));
    assert_eq!(json["prefix_len"], serde_json::json!(2));
    // A model.json written before decoder mode has neither field.
    let mut old = json.clone();
    let object = old.as_object_mut().expect("object");
    object.remove("causal");
    object.remove("prefix_len");
    let config: rasp_model::ModelConfig = serde_json::from_value(old).expect("old files load");
    assert!(!config.causal);
    assert_eq!(config.prefix_len, None);
}

#[test]
fn lookahead_finds_reverse_and_passes_running_programs() {
    rasp_lang::with_large_stack(|| {
        let options = LookaheadOptions::default();
        let (graph, root) = graph_of(PAPER, "reverse");
        let report = check_lookahead(&graph, root, &vocab("a,b"), None, 3, AttentionMask::Causal, &options);
        let difference = report.difference.expect("reverse reads ahead");
        // Words are tried by length, then in vocabulary order: "a" and "aa"
        // reverse to themselves; "ab" is the first that differs.
        assert_eq!(difference.input, vec!["a", "b"]);
        assert_eq!(difference.bidirectional, "[b, a]");
        assert_eq!(difference.masked, "[a, a]");
        let names: Vec<&str> = difference.selects.iter().map(|&id| graph.name(id)).collect();
        assert!(names.contains(&"flip"), "{names:?}");
        // A running fraction only looks back: equal on all 2 + 4 + 8 words.
        let (graph, root) =
            graph_of("frac = aggregate(select(indices, indices, <=), indicator(tokens == \"a\"));", "frac");
        let report = check_lookahead(&graph, root, &vocab("a,b"), None, 3, AttentionMask::Causal, &options);
        assert!(report.difference.is_none());
        assert_eq!(report.inputs_checked, 14);
        assert!(report.exhaustive);
    });
}
