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
