//! A `rasp` built without the `train` feature (`cargo test -p rasp-cli
//! --no-default-features`) says so for every training command, and still
//! draws the attention of compiled models.
#![cfg(not(feature = "train"))]

use std::process::{Command, Output};

fn rasp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rasp")).args(args).output().expect("run rasp")
}

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

#[test]
fn training_commands_explain_the_missing_feature() {
    let program = format!("{EXAMPLES}/histogram.rasp");
    for args in [
        vec!["train", program.as_str(), "--sop", "hist_bos", "--vocab", "abc", "-o", "unused"],
        vec!["table", "--dry-run"],
        vec!["attention", "no-such-dir", "--input", "abc", "-o", "unused.svg"],
    ] {
        let out = rasp(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("built without training (cargo feature `train`"), "{args:?}: {stderr}");
    }
}

#[test]
fn compiled_models_still_draw_their_attention() {
    let dir = std::env::temp_dir().join(format!("rasp-without-train-{}", std::process::id()));
    let model = dir.join("reverse");
    let svg = dir.join("reverse.svg");
    let (model_s, svg_s) = (model.to_str().expect("utf-8"), svg.to_str().expect("utf-8"));
    let program = format!("{EXAMPLES}/reverse.rasp");
    let out = rasp(&["compile", &program, "--sop", "reverse", "--vocab", "a,b,c", "--max-len", "4", "-o", model_s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = rasp(&["attention", model_s, "--input", "abc", "-o", svg_s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&svg).expect("svg written").contains("<svg"));
    let _ = std::fs::remove_dir_all(&dir);
}
