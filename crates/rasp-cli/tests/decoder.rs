//! Decoder mode on the command line (docs/semantics.md §6): the REPL's
//! `set causal on`, `compile --causal` warning on a program that reads
//! ahead and recording it in model.json, `verify` under the recorded mask,
//! and `generate` with a program and with its compiled model.

use std::process::{Command, Stdio};

mod common;

use common::{example, rasp_in, scratch, text};

#[test]
fn repl_set_causal_on() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rasp"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run rasp");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"set causal on\nlength(\"abcd\");\nset causal off\nlength(\"abcd\");\n")
        .expect("write");
    let out = child.wait_with_output().expect("rasp ends");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\t =  [1, 2, 3, 4] (ints)\n"), "{stdout}");
    assert!(stdout.contains("\t =  [4]*4 (ints)\n"), "{stdout}");
}

#[test]
fn compile_causal_warns_about_reverse_and_verifies() {
    let dir = scratch("reverse");
    let reverse = example("reverse.rasp");
    let args = ["compile", &reverse, "--sop", "reverse", "--vocab", "abc", "--max-len", "4", "--causal", "-o", "m"];
    let out = rasp_in(&dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let warning = text(&out.stderr);
    assert!(warning.contains("warning: reverse reads later positions"), "{warning}");
    assert!(warning.contains("reverse.rasp:10:8: select(indices, length - 1 - indices, ==)"), "{warning}");
    // "a" and "aa" reverse to themselves; "ab" is the first that differs.
    assert!(warning.contains("on input \"ab\": bidirectional [b, a], causal [a, a]"), "{warning}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("m/model.json")).expect("model.json")).expect("JSON");
    assert_eq!(json["causal"], serde_json::json!(true));
    assert_eq!(json["prefix_len"], serde_json::Value::Null);
    let lookahead = &json["compiler"]["lookahead"];
    assert_eq!(lookahead["agrees"], serde_json::json!(false));
    assert_eq!(lookahead["select"]["text"], serde_json::json!("select(indices, length - 1 - indices, ==)"));
    let out = rasp_in(&dir, &["verify", "m"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("mismatches: 0 of 120 inputs"), "{}", text(&out.stdout));
    // The flags of verify must match the recorded mask.
    let out = rasp_in(&dir, &["verify", "m", "--prefix-len", "2"]);
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generate_with_program_and_model() {
    let dir = scratch("generate");
    let sort = example("sort_next.rasp");
    let by_program =
        rasp_in(&dir, &["generate", &sort, "--sop", "sort_next", "--prompt", "31420", "--steps", "4", "--causal"]);
    assert!(by_program.status.success(), "{}", text(&by_program.stderr));
    // Hand-computed: the prompt's digits in increasing order after the 0.
    assert_eq!(text(&by_program.stdout), "3 1 4 2 0 1\n3 1 4 2 0 1 2\n3 1 4 2 0 1 2 3\n3 1 4 2 0 1 2 3 4\n");
    let args = ["compile", &sort, "--sop", "sort_next", "--vocab", "01234", "--max-len", "8", "--causal", "-o", "m"];
    let out = rasp_in(&dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let by_model = rasp_in(&dir, &["generate", "m", "--prompt", "31420", "--steps", "4"]);
    assert!(by_model.status.success(), "{}", text(&by_model.stderr));
    assert_eq!(text(&by_model.stdout), text(&by_program.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}
