//! Compiled models have the layers and heads per layer that the analysis
//! (rasp-analyze: the reference's counting, computed from the graph
//! independently of the compiler) reports; where the compiler still needs
//! more, its report says which block each extra layer waits for.

mod common;

use rasp_analyze::{AnalyzeOptions, analyze_with};
use rasp_compile::{CompileOptions, compile};
use rasp_core::AttentionMask;

fn example(file: &str) -> &'static str {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Box::leak(text.into_boxed_str())
}

/// One program to compile: source, s-op, vocabulary, BOS, maximum length, mask.
type Case = (&'static str, &'static str, &'static str, Option<&'static str>, usize, AttentionMask);

struct Sizes {
    analysed: Vec<usize>,
    compiled: Vec<usize>,
    layer_notes: Vec<String>,
}

/// Heads per layer as analysed (with the BOS count of selector_width when
/// the program has a BOS) and as compiled, and the compiler's layer notes.
fn sizes(case: Case) -> Sizes {
    let (source, sop, tokens, bos, max_len, mask) = case;
    rasp_lang::with_large_stack(move || {
        let (graph, root) = common::graph_of(source, sop);
        let options = AnalyzeOptions { bos_selector_width: bos.is_some(), ..Default::default() };
        let analysis = analyze_with(&graph, root, options);
        let mut opts = CompileOptions::new(common::vocab(tokens), bos.map(str::to_string), max_len);
        opts.mask = mask;
        let (model, report) = compile(&graph, root, &opts).unwrap_or_else(|e| panic!("{sop}: {e}"));
        assert_eq!(model.config.n_layers, model.config.layers.len());
        Sizes {
            analysed: analysis.heads_per_layer.clone(),
            compiled: model.config.layers.iter().map(|l| l.heads.len()).collect(),
            layer_notes: report.layer_notes,
        }
    })
}

fn assert_analysed_size(case: Case) {
    let s = sizes(case);
    assert_eq!(s.compiled, s.analysed, "{}: heads per layer; notes {:?}", case.1, s.layer_notes);
    assert!(s.layer_notes.is_empty(), "{}: {:?}", case.1, s.layer_notes);
}

/// Without a BOS, the library's selector_width is two heads in one layer:
/// the compiler's start token stands in for the BOS of `sel or at0`.
#[test]
fn histogram() {
    let source = example("histogram.rasp");
    assert_analysed_size((source, "hist", "a,b,c", None, 5, AttentionMask::Bidirectional));
    assert_analysed_size((source, "hist_bos", "a,b,c", Some("§"), 5, AttentionMask::Bidirectional));
    assert_analysed_size((common::PAPER, "hist_bos", "a,b,c,d", Some("§"), 5, AttentionMask::Bidirectional));
    // By hand: hist is selector_width(select(tokens, tokens, ==)), the
    // library's two aggregates in one layer.
    assert_eq!(sizes((source, "hist", "a,b,c", None, 5, AttentionMask::Bidirectional)).compiled, vec![2]);
}

#[test]
fn reverse() {
    assert_analysed_size((example("reverse.rasp"), "reverse", "a,b,c", None, 5, AttentionMask::Bidirectional));
    assert_analysed_size((common::PAPER, "reverse", "a,b,c,d", None, 5, AttentionMask::Bidirectional));
}

#[test]
fn double_histogram() {
    let source = example("double_histogram.rasp");
    assert_analysed_size((source, "double_hist_bos", "a,b,c", Some("§"), 5, AttentionMask::Bidirectional));
    assert_analysed_size((source, "double_hist_bos_one_head", "a,b,c", Some("§"), 5, AttentionMask::Bidirectional));
}

/// The feature of the frequency sort's selector is computed from the
/// head outputs its keys are maps of, in the same layer.
#[test]
fn sort_by_frequency() {
    let source = example("most_frequent.rasp");
    assert_analysed_size((source, "sort_by_most_freq_bos", "a,b,c", Some("§"), 5, AttentionMask::Bidirectional));
    assert_analysed_size((common::PAPER, "sort_by_most_freq", "a,b,c,d", Some("§"), 5, AttentionMask::Bidirectional));
}

/// The two prefix counts share one head (one selector), and the depth and
/// verdict maps of two head outputs are one MLP.
#[test]
fn dyck() {
    let source = example("dyck.rasp");
    assert_analysed_size((source, "dyck1", "(,)", None, 6, AttentionMask::Bidirectional));
    assert_analysed_size((common::PAPER, "dyck1_ptf", "(,)", None, 6, AttentionMask::Bidirectional));
    assert_analysed_size((source, "dyck2", "(,),{,}", None, 5, AttentionMask::Bidirectional));
    assert_analysed_size((common::PAPER, "dyck2_ptf", "(,),{,}", None, 5, AttentionMask::Bidirectional));
    // Longer inputs: more values per mean, the verdict's MLP still fuses.
    assert_analysed_size((source, "dyck1", "(,)", None, 12, AttentionMask::Bidirectional));
    assert_analysed_size((source, "dyck2", "(,),{,}", None, 8, AttentionMask::Bidirectional));
    // By hand: layer 1 counts "(" and ")" with one head, layer 2 checks
    // whether the depth ever went negative.
    assert_eq!(sizes((source, "dyck1", "(,)", None, 6, AttentionMask::Bidirectional)).compiled, vec![1, 1]);
}

#[test]
fn addition() {
    assert_analysed_size((example("addition.rasp"), "addition", "0,1,9,+", None, 5, AttentionMask::Bidirectional));
}

#[test]
fn decoder_examples() {
    let causal = AttentionMask::Causal;
    assert_analysed_size((example("running_count.rasp"), "running_count", "a,b,c", None, 5, causal));
    assert_analysed_size((example("parity.rasp"), "parity", "0,1", None, 8, causal));
    assert_analysed_size((example("addition_generate.rasp"), "add_next", "0,1,9,+,=", None, 6, causal));
}

/// Programs still compiled deeper than analysed: every extra layer is
/// explained by a note naming the block it waits for and why.
#[test]
fn deeper_models_say_why() {
    let cases: Vec<(Case, &str)> = vec![
        ((example("sort.rasp"), "sort_bos", "a,b,c", Some("§"), 5, AttentionMask::Bidirectional), "the feature"),
        ((common::PAPER, "sort_bos", "a,b,c,d", Some("§"), 5, AttentionMask::Bidirectional), "the feature"),
        ((example("sort_next.rasp"), "sort_next", "0,1,2,3,4", None, 5, AttentionMask::Causal), "no heads"),
    ];
    for (case, reason) in cases {
        let s = sizes(case);
        assert!(s.compiled.len() > s.analysed.len(), "{}: {:?} vs {:?}", case.1, s.compiled, s.analysed);
        // The heads are the analysed ones, only spread over more layers.
        assert_eq!(s.compiled.iter().sum::<usize>(), s.analysed.iter().sum::<usize>(), "{}", case.1);
        assert!(!s.layer_notes.is_empty(), "{}: deeper than analysed without a note", case.1);
        for note in &s.layer_notes {
            assert!(note.starts_with("layer ") && note.contains("waits for"), "{}: {note}", case.1);
        }
        assert!(s.layer_notes.iter().any(|n| n.contains(reason)), "{}: {:?}", case.1, s.layer_notes);
    }
}
