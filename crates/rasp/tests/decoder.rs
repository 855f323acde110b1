//! Decoder mode through the facade (semantics.md §6): drawings mark the
//! cells the mask hides, and the look-ahead check names the select written
//! in the program before those of the library.

use rasp::{AnalyzeOptions, AttentionMask, LookaheadOptions, NoFiles, Program, Value};

const REVERSE: &str = "flip = select(indices, length - indices - 1, ==);\nreverse = aggregate(flip, tokens);\n";

#[test]
fn drawings_mark_masked_cells() {
    rasp::with_large_stack(|| {
        let mut program = Program::from_source("reverse.rasp", REVERSE, NoFiles).expect("loads");
        let sop = program.sop("reverse", "draw").expect("an s-op");
        let plain = program.draw(sop, &Value::str("abc"), AnalyzeOptions::default()).expect("draws").to_svg();
        assert!(!plain.contains("cell masked"));
        program.set_mask(AttentionMask::Causal);
        let masked = program.draw(sop, &Value::str("abc"), AnalyzeOptions::default()).expect("draws").to_svg();
        // Two heads (length's and flip), 3 of 9 cells hidden in each.
        assert_eq!(masked.matches("class=\"cell masked\"").count(), 6, "{masked}");
    });
}

#[test]
fn lookahead_names_the_programs_select() {
    rasp::with_large_stack(|| {
        let program =
            Program::from_source("reverse.rasp", REVERSE, NoFiles).expect("loads").with_mask(AttentionMask::Causal);
        let sop = program.sop("reverse", "compile").expect("an s-op");
        let vocab = vec!["a".to_string(), "b".to_string()];
        let check = program.check_lookahead(sop, &vocab, None, 3, &LookaheadOptions::default());
        assert!(!check.agrees());
        let blamed = check.blamed().expect("a select");
        assert_eq!(blamed.text, "select(indices, length - indices - 1, ==)");
        assert!(!blamed.in_library);
        assert_eq!(blamed.location.as_ref().map(ToString::to_string), Some("reverse.rasp:1:8".to_string()));
        // length's own select reads ahead too; it is listed, after.
        assert!(check.selects.iter().any(|s| s.in_library && s.text == "select(1,1,==)"), "{:?}", check.selects);
        let warning = check.warning().expect("a warning");
        assert!(warning.contains("first select reading ahead: reverse.rasp:1:8"), "{warning}");
    });
}
