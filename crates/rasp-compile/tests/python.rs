//! python/tools/forward.py (numpy only) reproduces the Rust forward pass. Runs
//! when a Python with numpy is found (`RASP_PYTHON`, else `python3`);
//! otherwise prints a note and passes.

mod common;

use common::{PAPER, graph_of, vocab};
use rasp_compile::{CompileOptions, compile};
use rasp_core::AttentionMask;
use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> Option<String> {
    let exe = std::env::var("RASP_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = Command::new(&exe).args(["-c", "import numpy"]).output().map(|o| o.status.success()).unwrap_or(false);
    ok.then_some(exe)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/tools/forward.py")
}

fn run_python(exe: &str, dir: &Path, input: &str, residual: bool) -> serde_json::Value {
    let mut cmd = Command::new(exe);
    cmd.arg(script()).arg(dir).arg(input);
    if residual {
        cmd.arg("--residual");
    }
    let out = cmd.output().expect("python runs");
    assert!(out.status.success(), "forward.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("forward.py prints JSON")
}

fn check(
    sop: &'static str,
    tokens: &'static str,
    bos: Option<&'static str>,
    max_len: usize,
    inputs: &'static [&'static str],
) {
    check_masked(sop, tokens, bos, max_len, inputs, AttentionMask::Bidirectional);
}

fn check_masked(
    sop: &'static str,
    tokens: &'static str,
    bos: Option<&'static str>,
    max_len: usize,
    inputs: &'static [&'static str],
    mask: AttentionMask,
) {
    let Some(exe) = python() else {
        eprintln!("note: no python3 with numpy found (set RASP_PYTHON); forward.py not checked");
        return;
    };
    let dir = std::env::temp_dir().join(format!("rasp-forward-{}-{sop}-{}", std::process::id(), mask.is_causal()));
    let model = rasp_lang::with_large_stack(move || {
        let (graph, root) = graph_of(PAPER, sop);
        let mut opts = CompileOptions::new(vocab(tokens), bos.map(str::to_string), max_len);
        opts.mask = mask;
        compile(&graph, root, &opts).unwrap_or_else(|e| panic!("{e}")).0
    });
    model.save(&dir).expect("model saves");
    for input in inputs {
        let word: Vec<String> = input.split(' ').map(str::to_string).collect();
        let rust = model.run(std::slice::from_ref(&word)).expect("model runs");
        let rust_values: Vec<serde_json::Value> =
            rust[0].iter().map(|d| serde_json::to_value(&d.value).expect("serializable")).collect();
        let py = run_python(&exe, &dir, input, false);
        assert_eq!(serde_json::Value::Array(rust_values), py, "{sop} on {input:?}");
        // The residual streams agree too (up to float rounding).
        let ids = model.encode(&word).expect("encodes");
        let x = &model.residuals(&[ids]).expect("runs")[0];
        let py_x = run_python(&exe, &dir, input, true);
        let rows = py_x.as_array().expect("rows");
        assert_eq!(rows.len(), x.nrows());
        for (i, row) in rows.iter().enumerate() {
            for (j, v) in row.as_array().expect("row").iter().enumerate() {
                let a = v.as_f64().expect("number");
                let b = f64::from(x[[i, j]]);
                assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "{sop} {input}: residual [{i},{j}] {a} vs {b}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reverse() {
    check("reverse", "a,b,c,d", None, 6, &["a", "a b c d", "d c c a b a"]);
}

#[test]
fn hist_bos_numerical_output() {
    check("hist_bos", "a,b,c", Some("§"), 6, &["a", "a b a c a a", "c c"]);
}

#[test]
fn sort_bos() {
    check("sort_bos", "a,b,c,d", Some("§"), 5, &["d c b a", "b a b", "a"]);
}

/// Decoder models (semantics.md §6): forward.py applies the causal and
/// prefix-LM masks model.json records.
#[test]
fn causal_and_prefix_models() {
    check_masked("reverse", "a,b,c,d", None, 6, &["a b c d", "d c c a b a"], AttentionMask::Causal);
    check_masked("sort_bos", "a,b,c,d", Some("§"), 5, &["d c b a", "b a b"], AttentionMask::Causal);
    check_masked("sort_bos", "a,b,c,d", Some("§"), 5, &["d c b a", "b a b"], AttentionMask::Prefix { length: 3 });
}

#[test]
fn dyck1() {
    check("dyck1_ptf", "(,)", None, 8, &["( )", "( ( ) ) ) (", ") ( ( )"]);
}

/// `model.onnx` passes the onnx checker and gives the same outputs in
/// onnxruntime (when python has numpy, onnx and onnxruntime).
#[test]
fn onnx_runs_in_onnxruntime() {
    let Some(exe) = python() else {
        eprintln!("note: no python3 with numpy found (set RASP_PYTHON); model.onnx not checked");
        return;
    };
    let has_onnx = Command::new(&exe)
        .args(["-c", "import onnx, onnxruntime"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_onnx {
        eprintln!("note: python has no onnx/onnxruntime; model.onnx not checked");
        return;
    }
    for mask in [AttentionMask::Bidirectional, AttentionMask::Causal, AttentionMask::Prefix { length: 2 }] {
        onnx_agrees(&exe, mask);
    }
}

fn onnx_agrees(exe: &str, mask: AttentionMask) {
    let dir = std::env::temp_dir().join(format!("rasp-onnx-{}-{}", std::process::id(), mask.prefix_len().unwrap_or(0)));
    let model = rasp_lang::with_large_stack(move || {
        let (graph, root) = graph_of(PAPER, "sort_bos");
        let mut opts = CompileOptions::new(vocab("a,b,c,d"), Some("§".to_string()), 5);
        opts.mask = mask;
        compile(&graph, root, &opts).unwrap_or_else(|e| panic!("{e}")).0
    });
    model.save(&dir).expect("model saves");
    std::fs::write(dir.join("model.onnx"), rasp_compile::Model::to_onnx(&model)).expect("onnx written");
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/tools/check_onnx.py");
    for input in ["d c b a", "b a b", "c"] {
        let out = Command::new(exe).arg(&checker).arg(&dir).arg(input).output().expect("python runs");
        assert!(out.status.success(), "check_onnx.py failed: {}", String::from_utf8_lossy(&out.stderr));
        let onnx: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let word: Vec<String> = input.split(' ').map(str::to_string).collect();
        let rust = model.run(std::slice::from_ref(&word)).expect("runs");
        let rust: Vec<serde_json::Value> =
            rust[0].iter().map(|d| serde_json::to_value(&d.value).expect("json")).collect();
        assert_eq!(serde_json::Value::Array(rust), onnx, "{mask}: {input}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
