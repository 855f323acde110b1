//! What every subcommand shares, run as a program: `--version`, shell
//! completions, `-o`/`--output` with the extension choosing the format,
//! compile → verify → attention on one model folder, and clear refusals.

use std::process::Command;

mod common;

use common::{example, rasp_in, scratch, text};

#[test]
fn version_and_completions() {
    let dir = scratch("version");
    let out = rasp_in(&dir, &["--version"]);
    assert_eq!(text(&out.stdout), format!("rasp {}\n", env!("CARGO_PKG_VERSION")));
    let out = rasp_in(&dir, &["completions", "bash"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("complete -F") && script.contains("compile") && script.contains("--max-len"), "{script}");
    for shell in ["zsh", "fish"] {
        let out = rasp_in(&dir, &["completions", shell]);
        assert!(out.status.success() && text(&out.stdout).contains("verify"), "{shell}: {}", text(&out.stderr));
    }
    let out = rasp_in(&dir, &["completions", "cmd.exe"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_verify_attention_on_one_folder() {
    let dir = scratch("folder");
    let reverse = example("reverse.rasp");
    let args = ["compile", &reverse, "--sop", "reverse", "--vocab", "abc", "--max-len", "4", "-o", "nested/model"];
    let out = rasp_in(&dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.starts_with("reverse: compiled size d_model"), "{printed}");
    // Layers count from 1 after the embedding, as in `rasp analyze`.
    assert!(printed.contains("\n  layer 1: ") && printed.contains("\n  layer 2: ") && !printed.contains("layer 0"));
    for file in ["model.json", "model.safetensors", "program.rasp", "circuit.json"] {
        assert!(dir.join("nested/model").join(file).is_file(), "{file} missing");
    }
    // The same program compiles to the same bytes.
    let again = ["compile", &reverse, "--sop", "reverse", "--vocab", "abc", "--max-len", "4", "-o", "again"];
    assert!(rasp_in(&dir, &again).status.success());
    for file in ["model.json", "model.safetensors"] {
        let read = |folder: &str| std::fs::read(dir.join(folder).join(file)).expect("written");
        assert!(read("nested/model") == read("again"), "{file} differs between two compiles");
    }
    let out = rasp_in(&dir, &["verify", "nested/model"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("mismatches: 0 of 120 inputs"), "{}", text(&out.stdout));
    let out = rasp_in(&dir, &["verify", "nested/model", "--json"]);
    let json = text(&out.stdout);
    assert!(json.contains("\"mismatches\": 0") && json.contains("\"seconds\""), "{json}");

    let out = rasp_in(&dir, &["attention", "nested/model", "--input", "abc", "-o", "pictures/attention.svg"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("layer 2 head 1"), "{}", text(&out.stdout));
    assert!(std::fs::read_to_string(dir.join("pictures/attention.svg")).expect("written").contains("<svg"));
    // --input reads a RASP list as `rasp draw` does: the same three tokens.
    let out = rasp_in(&dir, &["attention", "nested/model", "--input", "[\"a\", \"b\", \"c\"]", "-o", "again.svg"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("layer 2 head 1"), "{}", text(&out.stdout));
    let out = rasp_in(&dir, &["attention", "nested/model", "--input", "abc", "-o", "attention.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the output must end in .svg"), "{}", text(&out.stderr));

    // The residual stream, as SVG and as a page; other formats refused,
    // tokens outside the vocabulary reported.
    for (file, start) in [("pictures/residual.svg", "<?xml"), ("pictures/residual.html", "<!DOCTYPE html>")] {
        let out = rasp_in(&dir, &["residual", "nested/model", "--input", "cab", "-o", file]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("{file}\n"));
        let page = std::fs::read_to_string(dir.join(file)).expect("written");
        assert!(page.starts_with(start) && page.contains("after layer 2") && page.contains(">2:b</text>"), "{page}");
    }
    let out = rasp_in(&dir, &["residual", "nested/model", "--input", "abc", "-o", "residual.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "rasp: residual.png: the output must end in .svg or .html\n");
    let out = rasp_in(&dir, &["residual", "nested/model", "--input", "abz", "-o", "residual.svg"]);
    assert!(!out.status.success() && !dir.join("residual.svg").exists());
    assert!(text(&out.stderr).contains('z'), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_format_hf_writes_a_folder_for_transformer_lens() {
    let dir = scratch("hf");
    let reverse = example("reverse.rasp");
    let args = ["compile", &reverse, "--sop", "reverse", "--vocab", "abc", "--max-len", "4", "--format", "hf"];
    for out_dir in ["hf", "hf-again"] {
        let out = rasp_in(&dir, &[&args[..], &["-o", out_dir]].concat());
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let read = |folder: &str, file: &str| text(&std::fs::read(dir.join(folder).join(file)).expect("written"));
    for file in ["config.json", "model.safetensors", "tokens.json", "outputs.json", "circuit.json"] {
        assert!(read("hf", file) == read("hf-again", file), "{file} differs between two compiles");
    }
    let config = read("hf", "config.json");
    for field in ["\"n_layers\": 2", "\"n_ctx\": 5", "\"d_vocab\": 5", "\"attention_dir\": \"bidirectional\""] {
        assert!(config.contains(field), "{field} not in {config}");
    }
    // The documented token order: the start token, then the vocabulary as
    // given, then padding.
    let tokens = read("hf", "tokens.json");
    assert!(
        tokens.contains("\"<start>\": 0") && tokens.contains("\"a\": 1") && tokens.contains("\"c\": 3"),
        "{tokens}"
    );
    assert!(tokens.contains("\"<pad>\": 4") && tokens.contains("\"pad_id\": 4"), "{tokens}");
    let outputs = read("hf", "outputs.json");
    assert!(outputs.contains("\"loss_mask\": [\n    false,\n    true,"), "{outputs}");
    let circuit = read("hf", "circuit.json");
    assert!(circuit.contains("\"blocks.1.attn.hook_result\"") && circuit.contains("\"a1.0\""), "{circuit}");
    // TransformerLens's parameter names, in its order
    let weights = read("hf", "model.safetensors");
    assert!(weights.find("\"embed.W_E\"") < weights.find("\"blocks.0.attn.W_Q\""), "{}", &weights[..200]);
    assert!(weights.contains("\"unembed.W_U\":{\"data_offsets\""), "{}", &weights[..200]);
    // rasp's own folder is in hf/rasp, and verify finds it from hf
    assert!(dir.join("hf/rasp/model.json").is_file() && dir.join("hf/rasp/circuit.json").is_file());
    let out = rasp_in(&dir, &["verify", "hf"]);
    assert!(text(&out.stdout).contains("mismatches: 0 of 120 inputs"), "{}", text(&out.stderr));
    let out = rasp_in(
        &dir,
        &["compile", &reverse, "--sop", "reverse", "--vocab", "ab", "--max-len", "2", "--format", "onnx", "-o", "x"],
    );
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn draw_output_extension_selects_the_format() {
    let dir = scratch("draw");
    let reverse = example("reverse.rasp");
    let out = rasp_in(&dir, &["draw", &reverse, "--sop", "reverse", "--output", "a/b/page.html"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(dir.join("a/b/page.html")).expect("written").starts_with("<!DOCTYPE html>"));
    let out = rasp_in(&dir, &["draw", &reverse, "--sop", "reverse", "-o", "picture.pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "rasp: picture.pdf: the output must end in .svg or .html\n");
    assert!(!dir.join("picture.pdf").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_says_whether_it_checked_every_input_or_a_sample() {
    let dir = scratch("coverage");
    let reverse = example("reverse.rasp");
    let out = rasp_in(&dir, &["compile", &reverse, "--sop", "reverse", "--vocab", "abc", "--max-len", "4", "-o", "m"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // 3 + 9 + 27 + 81 = 120 words of up to 4 letters over a, b, c.
    let out = rasp_in(&dir, &["verify", "m", "--sampled", "--sample", "10"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    for line in [
        "  length 1: 3 of 3 words (all)\n",
        "  length 2: 9 of 9 words (all)\n",
        "  length 3: 10 of 27 words (random sample)\n",
        "  length 4: 10 of 81 words (random sample)\n",
        "sampled: checked 32 inputs",
        "mismatches: 0 of 32 inputs",
    ] {
        assert!(printed.contains(line), "{line:?} missing from:\n{printed}");
    }
    // --exhaustive overrides a limit that would sample.
    let out = rasp_in(&dir, &["verify", "m", "--exhaustive", "--exhaustive-limit", "5", "--sample", "2"]);
    let printed = text(&out.stdout);
    assert!(printed.contains("  length 4: 81 of 81 words (all)\n"), "{printed}");
    assert!(printed.contains("exhaustive: checked every input, 120\n"), "{printed}");
    // The default samples once there are more inputs than the limit.
    let out = rasp_in(&dir, &["verify", "m", "--exhaustive-limit", "100", "--sample", "20", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["exhaustive"], false);
    assert_eq!(json["inputs_checked"], 3 + 9 + 20 + 20);
    // A run this short prints no progress; stderr is not a terminal here.
    assert_eq!(text(&out.stderr), "");
    let out = rasp_in(&dir, &["verify", "m", "--exhaustive", "--sampled"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_model_folder_that_points_outside_itself_is_refused() {
    let dir = scratch("hostile");
    let reverse = example("reverse.rasp");
    let out = rasp_in(&dir, &["compile", &reverse, "--sop", "reverse", "--vocab", "ab", "--max-len", "2", "-o", "m"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = std::fs::read_to_string(dir.join("m/model.json")).expect("model.json");
    std::fs::write(dir.join("m/model.json"), json.replace("\"program.rasp\"", "\"/etc/hostname\"")).expect("write");
    let out = rasp_in(&dir, &["verify", "m"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a file name inside the folder"), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // Not a Linux machine: nothing to check here.
    };
    let out = Command::new(env!("CARGO_BIN_EXE_rasp"))
        .args(["analyze", &example("reverse.rasp"), "--sop", "reverse", "--json"])
        .stdout(full)
        .output()
        .expect("run rasp");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot write to standard output"), "{}", text(&out.stderr));
}
