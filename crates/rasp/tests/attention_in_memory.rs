//! A model compiled in memory compared with its program's selectors, with
//! no model folder on disk (as the playground does it).

use rasp::{AttentionComparison, CompileOptions, NoFiles, Program};

#[test]
fn attention_of_a_model_held_in_memory() {
    let source = "flip = select(indices, length - indices - 1, ==);\nreverse = aggregate(flip, tokens);\n";
    let program = Program::from_source("reverse.rasp", source, NoFiles).expect("loads");
    let sop = program.sop("reverse", "compile").expect("an s-op");
    let model = program.compile(sop, &CompileOptions::new(rasp::parse_vocab("abc"), None, 4)).expect("compiles");
    let comparison = AttentionComparison::of_model(&program, &model, "cab").expect("attention");
    assert_eq!(comparison.tokens, ["c", "a", "b"]);
    let flip = comparison.heads.iter().find(|h| h.layer == 2).expect("the flip head in layer 2");
    assert!(flip.max_difference.is_some_and(|d| d < 1e-3), "{:?}", flip.max_difference);
    // Query q attends to key 2 - q.
    for (query, row) in flip.weights.iter().enumerate() {
        let strongest = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(key, _)| key);
        assert_eq!(strongest, Some(2 - query));
    }
    assert!(comparison.to_svg().contains("<svg"));
}
