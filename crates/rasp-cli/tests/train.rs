//! `rasp train`, `rasp attention` and `rasp table` run as programs, on
//! sizes small enough to take seconds.
#![cfg(feature = "train")]

mod common;

use common::{rasp, scratch, text};
use std::path::Path;
use std::process::Command;

#[test]
fn train_then_draw_attention() {
    let dir = scratch("hist");
    let d = dir.to_str().expect("utf-8 path");
    let out = rasp(&[
        "train",
        "examples/histogram.rasp",
        "--sop",
        "hist_bos",
        "--vocab",
        "abc",
        "--max-len",
        "4",
        "--bos",
        "§",
        "--d-model",
        "16",
        "--steps",
        "60",
        "--eval-every",
        "30",
        "-o",
        d,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("hist_bos: (L, H, d) = (1, 1, 16)"), "{stdout}");
    assert!(stdout.contains("on 2000 test inputs"), "{stdout}");
    assert!(dir.join("model.safetensors").is_file());
    let metrics = std::fs::read_to_string(dir.join("metrics.json")).expect("metrics.json");
    for key in ["\"token_accuracy\"", "\"sequence_accuracy\"", "\"steps\": 60", "\"seconds\"", "\"seed\": 0"] {
        assert!(metrics.contains(key), "{key} not in {metrics}");
    }

    let svg = dir.join("attention.svg");
    let out = rasp(&["attention", d, "--input", "abca", "-o", svg.to_str().expect("utf-8"), "--samples", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("input     § a b c a\nprogram   0 2 1 1 2\n"), "{stdout}");
    assert!(stdout.contains("program layer 1 head 1 ("), "{stdout}");
    let picture = std::fs::read_to_string(&svg).expect("svg");
    assert!(picture.contains("<svg") && picture.contains("class=\"colour-scale\""));
    // one trained head and one program head, 5 × 5 cells each
    assert_eq!(picture.matches("<rect class=\"cell\"").count(), 2 * 25, "{picture}");

    let out = rasp(&["attention", d, "--input", "abz", "-o", svg.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("\"z\" is not in the model's vocabulary"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn table_lists_and_prints() {
    let dir = scratch("table");
    std::fs::create_dir_all(&dir).expect("dir");
    let results = dir.join("results.jsonl");
    let r = results.to_str().expect("utf-8");
    let out = rasp(&["table", "--out", r, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("reverse (1, 2, 128) seed 1: one layer fewer, 2× heads and width"), "{stdout}");
    assert!(stdout.ends_with("26 runs to do\n"), "{stdout}");

    let record = r#"{"task":"hist_bos","role":"compiled","layers":1,"heads":1,"d_model":64,"seed":0,"params":35014,"token_accuracy":0.995,"sequence_accuracy":0.98,"val_token_accuracy":1.0,"steps":100,"best_step":100,"stop":"perfect","seconds":60.0,"ms_per_step":30.0,"max_steps":40000,"head_distances":[0.1]}"#;
    // A 10-step trial of the other seed is not the real run of it.
    let trial = record.replace("\"seed\":0", "\"seed\":1").replace("\"max_steps\":40000", "\"max_steps\":10");
    std::fs::write(&results, format!("{record}\n{trial}\n")).expect("write");
    let out = rasp(&["table", "--out", r, "--dry-run", "--tasks", "hist_bos"]);
    assert!(text(&out.stdout).ends_with("1 runs to do\n"), "{}", text(&out.stdout));
    let out = rasp(&["table", "--out", r, "--dry-run", "--tasks", "hist_bos", "--max-steps", "10"]);
    assert!(text(&out.stdout).ends_with("1 runs to do\n"), "{}", text(&out.stdout));
    let out = rasp(&["table", "--out", r, "--markdown"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("| hist_bos | (1, 1, 64) | compiled | 35014 | **99.50%** |"), "{stdout}");
    assert!(stdout.contains("| reverse | (2, 1, 64) | compiled | | not run yet |"), "{stdout}");

    let out = rasp(&["table", "--out", r, "--tasks", "nope"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown task \"nope\""));
    let out = rasp(&["table", "--out", r, "--dry-run", "--threads", "0"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("invalid value '0' for '--threads <N>'"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn counts_below_one_are_refused() {
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/histogram.rasp");
    for (flag, shown) in [("--steps", "--steps <S>"), ("--batch", "--batch <B>"), ("--layers", "--layers <L>")] {
        let out = rasp(&["train", program, "--sop", "hist_bos", "--vocab", "abc", flag, "0", "-o", "unused"]);
        assert!(!out.status.success(), "{flag} 0 was accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("invalid value '0' for '{shown}': 0 is not in 1..=")), "{stderr}");
    }
    // An extra zero or three cannot ask for more memory than the machine has.
    for (flag, value, shown) in [
        ("--d-model", "100000", "--d-model <D>': 100000 is not in 1..=4096"),
        ("--layers", "10000", "--layers <L>': 10000 is not in 1..=64"),
        ("--batch", "100000000", "--batch <B>': 100000000 is not in 1..=65536"),
        ("--threads", "1000", "--threads <N>': 1000 is not in 1..=256"),
    ] {
        let out = rasp(&["train", program, "--sop", "hist_bos", "--vocab", "abc", flag, value, "-o", "unused"]);
        assert!(!out.status.success(), "{flag} {value} was accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(shown), "{stderr}");
    }
}

#[test]
fn a_table_that_cannot_be_printed_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // Not a Linux machine: nothing to check here.
    };
    let dir = scratch("table-full");
    std::fs::create_dir_all(&dir).expect("dir");
    let results = dir.join("results.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rasp"))
        .args(["table", "--out", results.to_str().expect("utf-8"), "--markdown"])
        .stdout(full)
        .output()
        .expect("run rasp");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot write to standard output"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ctrl-C (SIGINT) stops a run after its step, keeps the best model and a
/// checkpoint; a fresh run refuses to overwrite that checkpoint, and
/// `--resume` continues it to the step cap and removes it.
#[cfg(unix)]
#[test]
fn an_interrupted_run_saves_and_resumes() {
    let dir = scratch("resume");
    let d = dir.to_str().expect("utf-8 path");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let train_args = |steps: &str| -> Vec<String> {
        [
            "train",
            "examples/sort.rasp",
            "--sop",
            "sort_bos",
            "--vocab",
            "abcd",
            "--max-len",
            "5",
            "--bos",
            "§",
            "--d-model",
            "8",
            "--eval-every",
            "5",
            "--patience",
            "1000000",
            "--steps",
            steps,
            "-o",
            d,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let child = Command::new(env!("CARGO_BIN_EXE_rasp"))
        .args(train_args("1000000"))
        .current_dir(&root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start rasp train");
    let checkpoint = dir.join("checkpoint.safetensors");
    let waited = std::time::Instant::now();
    while !checkpoint.is_file() {
        assert!(waited.elapsed().as_secs() < 300, "no checkpoint after 5 minutes");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(sent.success());
    let out = child.wait_with_output().expect("rasp train ends");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let step: usize = stdout
        .split("interrupted at step ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no interruption reported: {stdout}"));
    let metrics = std::fs::read_to_string(dir.join("metrics.json")).expect("metrics.json");
    assert!(metrics.contains("\"stop\": \"interrupted\""), "{metrics}");
    assert!(checkpoint.is_file());

    let fresh = rasp(&train_args("1000000").iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!fresh.status.success());
    assert!(text(&fresh.stderr).contains("add --resume to continue it"), "{}", text(&fresh.stderr));

    let cap = (step + 7).to_string();
    let mut resume = train_args(&cap);
    resume.push("--resume".to_string());
    let out = rasp(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("at step {step}")), "{}", text(&out.stderr));
    let metrics = std::fs::read_to_string(dir.join("metrics.json")).expect("metrics.json");
    assert!(metrics.contains(&format!("\"steps\": {cap}")), "{metrics}");
    assert!(metrics.contains("\"stop\": \"max_steps\""), "{metrics}");
    assert!(!checkpoint.exists(), "a finished run leaves no checkpoint");

    let again = rasp(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("there is no checkpoint"), "{}", text(&again.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rasp predict` on the trained folders the Python tests use: the outputs
/// recorded in their predictions.json (which the NumPy and PyTorch forward
/// passes also match), and clear errors for bad inputs and bad folders.
#[test]
fn predict_runs_a_trained_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let folder = root.join("python/tests/data/trained_hist");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("predictions.json")).expect("predictions.json"))
            .expect("JSON");
    let dir = folder.to_str().expect("utf-8");
    for word in ["a", "cab", "abca", "ccc"] {
        let out = rasp(&["predict", dir, "--input", word, "--json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let got: serde_json::Value = serde_json::from_str(&text(&out.stdout)).expect("JSON output");
        assert_eq!(got["outputs"], expected[word]["outputs"], "{word}");
        assert_eq!(got["tokens"][0], "§");
    }
    let out = rasp(&["predict", dir, "--input", "abca"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let outputs: Vec<String> = expected["abca"]["outputs"]
        .as_array()
        .expect("list")
        .iter()
        .map(|o| o.as_str().unwrap_or("-").to_string())
        .collect();
    assert_eq!(text(&out.stdout), format!("input  § a b c a\noutput {}\n", outputs.join(" ")));

    let out = rasp(&["predict", dir, "--input", "abz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("\"z\" is not in the model's vocabulary"), "{}", text(&out.stderr));

    let hostile = scratch("hostile");
    std::fs::create_dir_all(&hostile).expect("mkdir");
    std::fs::copy(folder.join("model.safetensors"), hostile.join("model.safetensors")).expect("copy");
    let metrics = std::fs::read_to_string(folder.join("metrics.json")).expect("metrics");
    std::fs::write(hostile.join("metrics.json"), metrics.replace("\"d_model\": 16", "\"d_model\": 1000000000"))
        .expect("write");
    let out = rasp(&["predict", hostile.to_str().expect("utf-8"), "--input", "ab"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("metrics.json: d_model 1000000000"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&hostile);
}

/// `rasp predict` on a compiled model: the reversed word, read from the
/// weights alone.
#[test]
fn predict_runs_a_compiled_model() {
    let dir = scratch("compiled");
    let d = dir.to_str().expect("utf-8 path");
    let out =
        rasp(&["compile", "examples/reverse.rasp", "--sop", "reverse", "--vocab", "abc", "--max-len", "5", "-o", d]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = rasp(&["predict", d, "--input", "abcca"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "input  a b c c a\noutput a c c b a\n");
    let out = rasp(&["predict", d, "--input", "abccab"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("at most 5"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
