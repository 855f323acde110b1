//! Every construct the library and the examples use compiles to a model
//! that agrees with the interpreter on every input (small vocabularies and
//! lengths, checked exhaustively).

mod common;

use common::{compile_and_verify, graph_of, vocab};
use rasp_compile::{CompileOptions, Encoding, compile};

fn ok(source: &'static str, tokens: &'static str, bos: Option<&'static str>, max_len: usize) -> common::Outcome {
    let out = compile_and_verify(source, "res", tokens, bos, max_len);
    let r = &out.report;
    assert_eq!(r.mismatches, 0, "{source}\n{:?}", r.examples);
    assert!(r.inputs_checked > 0, "{source}: every input undefined");
    assert!(r.min_margin > 0.5, "{source}: margin {}", r.min_margin);
    out
}

fn err(source: &'static str, tokens: &'static str, max_len: usize) -> String {
    rasp_lang::with_large_stack(move || {
        let (graph, root) = graph_of(source, "res");
        let opts = CompileOptions::new(vocab(tokens), None, max_len);
        match compile(&graph, root, &opts) {
            Ok(_) => panic!("{source}: compiled, expected an error"),
            Err(e) => e.to_string(),
        }
    })
}

#[test]
fn length() {
    ok("res = length;", "a,b", None, 6);
}

#[test]
fn selector_width_of_the_library() {
    ok("res = selector_width(select(tokens, tokens, ==));", "a,b,c", None, 5);
    ok("res = selector_width(select(indices, indices, <));", "a,b", None, 6);
}

#[test]
fn count_and_contains() {
    ok("res = count(tokens, \"a\");", "a,b,c", None, 5);
    ok("res = contains(tokens, \"a\");", "a,b,c", None, 5);
    ok("res = has_focus(select(tokens, \"a\", ==));", "a,b", None, 5);
}

#[test]
fn numerical_means_are_exact() {
    // frac_prevs: a float output, decoded to the nearest possible mean.
    ok("res = aggregate(select(indices, indices, <=), indicator(tokens == \"a\"));", "a,b", None, 6);
    // tracr's silent failure: a map on a mean whose value set it gets wrong.
    ok("f = aggregate(select(indices, indices, <=), indicator(tokens == \"a\"));\nres = f > 0.6;", "a,b", None, 6);
    ok("res = average(indices);", "a,b", None, 6);
    ok("res = aggregate(select(indices, indices, <), tokens_int);", "1,2,5", None, 4);
}

/// Floats that differ only by rounding (0.1 + 0.2 and 0.3) are one value:
/// the model decodes them with a real margin (`ok` asks for more than ½),
/// not by float noise between two near-equal readout values.
#[test]
fn near_duplicate_floats() {
    // Two tokens give 0.30000000000000004, one gives 0.3, and their means
    // over prefixes hold further near-duplicates.
    let source = "x = 0.3 if tokens == \"a\" else (0.1 if tokens == \"b\" else 0.2) + (0.2 if tokens == \"b\" else 0.1);\n\
                  res = aggregate(select(indices, indices, <=), x);";
    let out = ok(source, "a,b,c", None, 5);
    // 0 (the default of an empty selection) and 0.3, nothing near 0.3.
    assert_eq!(out.model.config.readout.values.len(), 2, "{:?}", out.model.config.readout.values);
    ok("res = 0.3 if tokens == \"a\" else 0.1 + 0.2;", "a,b", None, 4);
}

#[test]
fn negative_values() {
    ok("res = -tokens_int;", "1,2,3", None, 3);
    ok("res = aggregate(select(indices, indices, <=), 0 - tokens_int);", "1,2,3", None, 4);
    ok("res = indices - length;", "a,b", None, 5);
}

#[test]
fn categorical_aggregates_and_defaults() {
    ok("res = aggregate(select(indices, indices - 1, ==), tokens, \"-\");", "a,b,c", None, 5);
    ok("res = shift(tokens, 2, \"_\");", "a,b,c", None, 5);
    ok("res = load_from_location(tokens, length - 1 - indices);", "a,b,c", None, 5);
    ok("res = aggregate(select(indices, indices + 1, ==), indices, -7);", "a,b", None, 5);
    ok("res = aggregate(select(tokens, \"z\", ==), tokens);", "a,b", None, 4);
}

#[test]
fn selector_combinations() {
    // and / or / not of selectors over different sources (tracr cannot)
    ok("res = aggregate(select(tokens, tokens, ==) and select(indices, indices, <), indices);", "a,b,c", None, 5);
    ok("res = aggregate(select(tokens, \"a\", ==) or select(indices, 0, ==), indices);", "a,b", None, 5);
    ok("res = aggregate(not select(indices, indices, ==), 1, 0);", "a,b", None, 5);
    ok(
        "res = aggregate(not (select(tokens, tokens, ==) and select(indices, indices, <)), indicator(tokens == \"a\"));",
        "a,b",
        None,
        5,
    );
    ok(
        "res = aggregate(select(tokens, tokens, <) or (select(tokens, tokens, ==) and select(indices, indices, <)), indices);",
        "a,b,c",
        None,
        4,
    );
    ok(
        "res = aggregate(select(tokens, tokens, !=) or select(indices, indices, >=), indicator(tokens == \"b\"));",
        "a,b,c",
        None,
        4,
    );
    ok("res = aggregate(select_from_first(tokens, \"a\"), indices, -1);", "a,b,c", None, 5);
    ok("res = aggregate(select_from_last(tokens, \"b\"), indices, -1);", "a,b,c", None, 5);
    ok("res = aggregate(select_next_identical(tokens), indices, -1);", "a,b", None, 5);
    ok("res = selector_width(select(tokens, tokens, ==) or select(indices, indices, >));", "a,b", None, 5);
}

#[test]
fn every_predicate() {
    for op in ["==", "!=", "<", ">", "<=", ">="] {
        let source: &'static str =
            Box::leak(format!("res = selector_width(select(tokens_int, indices, {op}));").into_boxed_str());
        ok(source, "0,1,3", None, 4);
    }
}

#[test]
fn elementwise_maps() {
    ok("res = tokens in [\"a\", \"b\"];", "a,b,c", None, 3);
    ok("res = indices if tokens == \"a\" else -1;", "a,b", None, 4);
    ok("res = max(tokens_int, indices);", "0,2,3", None, 4);
    ok("res = round(aggregate(select(indices, indices, <=), tokens_int) * 2);", "1,2,4", None, 4);
    ok("res = [\"x\", \"y\", \"z\", \"w\", \"v\"][indices];", "a,b", None, 5);
    ok("res = (tokens_int * indices) % 3;", "1,2,5", None, 4);
    ok("res = tokens + tokens;", "a,b", None, 3);
    ok("res = not (tokens == \"a\") or indices > 1;", "a,b", None, 4);
    ok("res = indicator(tokens == \"a\") + indicator(indices == 2);", "a,b", None, 4);
}

#[test]
fn two_means_in_one_map() {
    ok(
        "m1 = aggregate(select(indices, indices, <=), indicator(tokens == \"a\"));\n\
         m2 = aggregate(select(indices, indices, <=), indicator(tokens == \"b\"));\nres = m1 * m2;",
        "a,b,c",
        None,
        4,
    );
}

#[test]
fn library_sort_without_bos() {
    ok("res = sort(tokens, tokens);", "a,b,c", None, 5);
    ok("res = sort(tokens, -tokens_int);", "1,2,3", None, 4);
}

#[test]
fn bos_inputs() {
    ok("res = aggregate(select(indices, 0, ==), tokens);", "a,b", Some("§"), 4);
    ok("res = tokens == \"§\";", "a,b", Some("§"), 4);
}

#[test]
fn constants() {
    ok("res = aggregate(select(1, 1, ==), 1);", "a,b", None, 4);
    ok("res = tokens_int * 0 + 3;", "1,2", None, 3);
}

#[test]
fn encoding_override() {
    let out = rasp_lang::with_large_stack(|| {
        let (graph, root) = graph_of(
            "m = aggregate(select(indices, indices, <), indicator(tokens == \"a\"));\nres = round(m * 4);",
            "res",
        );
        let mut opts = CompileOptions::new(vocab("a,b"), None, 4);
        opts.encodings.push(("res".to_string(), Encoding::Categorical));
        let (model, _) = compile(&graph, root, &opts).unwrap_or_else(|e| panic!("{e}"));
        let report = rasp_compile::verify(&graph, root, &model, &Default::default());
        (model.config.readout.encoding, report.mismatches)
    });
    assert_eq!(out, (Encoding::Categorical, 0));
    let e = rasp_lang::with_large_stack(|| {
        let (graph, root) = graph_of("res = aggregate(select(indices, indices, <=), indices);", "res");
        let mut opts = CompileOptions::new(vocab("a,b"), None, 4);
        opts.encodings.push(("res".to_string(), Encoding::Categorical));
        compile(&graph, root, &opts).err().map(|e| e.to_string())
    });
    let e = e.expect("a categorical mean is refused");
    assert!(e.contains("`res`") && e.contains("average"), "{e}");
}

#[test]
fn unsupported_constructs_name_the_sop() {
    let e = err(
        "a = aggregate(select(indices, indices, <=), indices);\nb = aggregate(select(indices, indices, <=), a);\n\
         res = aggregate(select(indices, indices, <=), b);",
        "x,y",
        12,
    );
    assert!(e.contains("`b`") && e.contains("averaging `a`"), "{e}");
    let e = err("res = tokens_int / (tokens_int - 5);", "5", 3);
    assert!(e.contains("`res`") && e.contains("fails on every input"), "{e}");
}

#[test]
fn more_selector_shapes() {
    // `or` with a selector that reads only the query (gates the query side)
    ok(
        "res = aggregate(select(indices, indices, <) or select(1, indicator(tokens == \"a\"), ==), indices);",
        "a,b",
        None,
        5,
    );
    // a mean used as a select key needs a one-hot copy of the mean
    ok(
        "m = aggregate(select(indices, indices, <=), indicator(tokens == \"a\"));\nres = aggregate(select(m, m, ==), indices);",
        "a,b",
        None,
        5,
    );
    // numeric keys and queries compared with <
    ok("res = selector_width(select(length - indices, tokens_int, <));", "0,1,2", None, 4);
}

#[test]
fn dict_lookup() {
    ok("d = {\"1\": 1, \"2\": 5};\nres = d[tokens] * 2;", "1,2", None, 3);
}
