//! `rasp analyze` run as a program, from the workspace root.

mod common;

use common::{rasp, text};

#[test]
fn json_of_reverse_example() {
    let out = rasp(&["analyze", "examples/reverse.rasp", "--sop", "reverse", "--json"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with('{') && stdout.trim_end().ends_with('}'), "{stdout}");
    for needle in [
        "\"sop\": \"reverse\",",
        "\"layers\": 2,",
        "\"heads_per_layer\": [1, 1],",
        "\"max_heads\": 1,",
        "\"selector\": \"flip\",",
        "\"layer\": 2,",
    ] {
        assert!(stdout.contains(needle), "{needle} not in\n{stdout}");
    }
}

#[test]
fn report_and_options() {
    let out = rasp(&["analyze", "examples/histogram.rasp", "--sop", "hist"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("hist: analysed size 1 layer, heads per layer 2 (greedy schedule)\n"));
    let out = rasp(&["analyze", "examples/histogram.rasp", "--sop", "hist", "--bos", "--schedule", "best"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("hist: analysed size 1 layer, heads per layer 1 (best schedule;"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn names_that_are_not_sops() {
    let out = rasp(&["analyze", "examples/reverse.rasp", "--sop", "nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nothing is not defined in examples/reverse.rasp"));
    let out = rasp(&["analyze", "examples/reverse.rasp", "--sop", "flip"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("flip is a selector; analyze takes an s-op"));
    let out = rasp(&["analyze", "examples/no_such_file.rasp", "--sop", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn running_a_file_still_works() {
    let out = rasp(&["-q", "examples/reverse.rasp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("s-op: reverse"));
}

#[test]
fn files_with_errors_are_not_analysed() {
    let dir = std::env::temp_dir().join(format!("rasp-analyze-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("broken.rasp");
    std::fs::write(&file, "x = aggregate(select(indices, indices, ==), tokens);\ny = undefined_name + 1;\n")
        .expect("write");
    let path = file.display().to_string();
    let out = rasp(&["analyze", &path, "--sop", "x"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).is_empty());
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!("rasp: {path} has errors:\nerror: Undefined variable: undefined_name\n")),
        "{err}"
    );
    assert!(err.contains(" 2 | y = undefined_name + 1;\n   |     ^^^^^^^^^^^^^^\n"), "{err}");
}

/// `--compiled` compiles too and prints the compiled heads per layer:
/// hist's library selector_width (two heads, one layer) as analysed, and
/// sort_bos's extra layer with the compiler's reason.
#[test]
fn compiled_size_beside_the_analysis() {
    let out = rasp(&[
        "analyze",
        "examples/histogram.rasp",
        "--sop",
        "hist",
        "--compiled",
        "--vocab",
        "abc",
        "--max-len",
        "5",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\ncompiled: 1 layer, heads per layer [2]: the analysed size\n"), "{stdout}");
    assert!(!stdout.contains("deeper than analysed"), "{stdout}");
    let args = ["analyze", "examples/sort.rasp", "--sop", "sort_bos", "--compiled", "--vocab", "abc", "--max-len", "5"];
    let out = rasp(&[&args[..], &["--bos-token", "§", "--json"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["heads_per_layer"], serde_json::json!([1, 1]));
    assert_eq!(json["compiled"]["heads_per_layer"], serde_json::json!([0, 1, 1]));
    assert_eq!(json["compiled"]["same_as_analysed"], serde_json::json!(false));
    let notes = json["compiled"]["layer_notes"].as_array().expect("notes");
    assert!(notes.iter().any(|n| n.as_str().is_some_and(|n| n.contains("waits for the feature"))), "{notes:?}");
    // --compiled needs the inputs to compile for.
    let out = rasp(&["analyze", "examples/sort.rasp", "--sop", "sort_bos", "--compiled"]);
    assert!(!out.status.success());
}
