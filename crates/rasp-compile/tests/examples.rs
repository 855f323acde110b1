//! The repository's example programs compile and agree with the
//! interpreter on every input (small vocabularies and lengths).

mod common;

fn example(file: &str) -> &'static str {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Box::leak(text.into_boxed_str())
}

fn check(file: &str, sop: &'static str, tokens: &'static str, bos: Option<&'static str>, max_len: usize) {
    let out = common::compile_and_verify(example(file), sop, tokens, bos, max_len);
    assert_eq!(out.report.mismatches, 0, "{sop}: {:?}", out.report.examples);
    assert!(out.report.inputs_checked > 0);
}

#[test]
fn histogram() {
    check("histogram.rasp", "hist", "a,b,c", None, 5);
    check("histogram.rasp", "hist_bos", "a,b,c", Some("§"), 5);
}

#[test]
fn reverse_and_sort() {
    check("reverse.rasp", "reverse", "a,b,c", None, 5);
    check("sort.rasp", "sort_bos", "a,b,c", Some("§"), 5);
}

#[test]
fn double_histogram_and_most_frequent() {
    check("double_histogram.rasp", "double_hist_bos", "a,b,c", Some("§"), 5);
    check("double_histogram.rasp", "double_hist_bos_one_head", "a,b,c", Some("§"), 5);
    check("most_frequent.rasp", "sort_by_most_freq_bos", "a,b,c", Some("§"), 5);
}

#[test]
fn dyck() {
    check("dyck.rasp", "dyck1", "(,),x", None, 5);
    check("dyck.rasp", "dyck2", "(,),{,}", None, 5);
}

#[test]
fn addition() {
    check("addition.rasp", "addition", "0,1,9,+", None, 5);
}

/// The decoder examples (semantics.md §6), compiled with the causal mask,
/// agree with the causal interpreter on every input.
fn check_causal(file: &str, sop: &'static str, tokens: &'static str, max_len: usize) {
    let out = common::compile_and_verify_masked(
        example(file),
        sop,
        tokens,
        None,
        max_len,
        rasp_compile::VerifyOptions::default(),
        rasp_core::AttentionMask::Causal,
    );
    assert!(out.model.config.causal);
    assert!(out.report.exhaustive);
    assert_eq!(out.report.mismatches, 0, "{sop}: {:?}", out.report.examples);
    assert!(out.report.inputs_checked > 0);
}

#[test]
fn decoder_examples() {
    check_causal("running_count.rasp", "running_count", "a,b,c", 5);
    check_causal("parity.rasp", "parity", "0,1", 8);
    check_causal("sort_next.rasp", "sort_next", "0,1,2,3,4", 5);
    check_causal("addition_generate.rasp", "add_next", "0,1,9,+,=", 6);
}
