//! The `rasp` binary end to end: piped REPL output, running files, built-ins.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rasp(args: &[&str], stdin: &str, cwd: &Path) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rasp"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rasp");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("run rasp");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn piped_repl_prints_the_reference_transcript() {
    let dir = repo().join("tests/conformance");
    for case in ["reverse_program", "load_file", "exit_quit", "missing_semicolon"] {
        let input = std::fs::read_to_string(dir.join(format!("{case}.in"))).expect("case input");
        let expected = std::fs::read_to_string(dir.join(format!("{case}.out"))).expect("case output");
        let (out, err, code) = rasp(&[], &input, &dir);
        assert_eq!(out, expected, "{case}: stderr {err}");
        assert_eq!(code, 0);
    }
}

#[test]
fn running_a_file_reports_errors_on_stderr_with_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("rasp-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("prog.rasp");
    std::fs::write(&file, "x = indices + 1;\ny = x + tokens;\n\n  z = nope;\nw = (1 +\n  2) * ;\n").expect("write");
    let (out, err, code) = rasp(&["-q", "prog.rasp"], "", &dir);
    // Results stay on stdout; errors go to stderr only.
    assert_eq!(out, "     s-op: x\n \t Example: x(\"hello\") = [1, 2, 3, 4, 5] (ints)\n");
    let expected = concat!(
        "error: unsupported operand type(s) for +: 'int' and 'str'\n",
        "  --> prog.rasp:2:5\n",
        "   |\n",
        " 2 | y = x + tokens;\n",
        "   |     ^^^^^^^^^^\n",
        "error: Undefined variable: nope\n",
        "  --> prog.rasp:4:7\n",
        "   |\n",
        " 4 |   z = nope;\n",
        "   |       ^^^^\n",
    );
    assert!(err.starts_with(expected), "{err}");
    assert!(err.contains("error: cannot parse: mismatched input ';'"), "{err}");
    assert!(err.contains("  --> prog.rasp:6:8\n   |\n 6 |   2) * ;\n   |        ^\n"), "{err}");
    assert_eq!(code, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_error_inside_a_function_shows_the_line_the_caret_and_the_calls() {
    let dir = std::env::temp_dir().join(format!("rasp-cli-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let program =
        "def f(s) {\n    return aggregate(s, tokens);\n}\ndef g() {\n    return f(3);\n}\nok = 1;\nbad = g();\n";
    std::fs::write(dir.join("prog.rasp"), program).expect("write");
    let expected = concat!(
        "error: Expected selector, got: 3\n",
        "  --> prog.rasp:2:12\n",
        "   |\n",
        " 2 |     return aggregate(s, tokens);\n",
        "   |            ^^^^^^^^^^^^^^^^^^^^\n",
        "   = note: in f(...), called at prog.rasp:5:12\n",
        "   = note: in g(...), called at prog.rasp:8:7\n",
    );
    let (out, err, code) = rasp(&["-q", "prog.rasp"], "", &dir);
    assert_eq!(err, expected);
    assert!(out.contains("value: ok =  1\n"), "{out}");
    assert_eq!(code, 1);
    // Without -q the REPL goes on after the file; errors of the (piped)
    // REPL itself stay the reference's text on stdout.
    let (out, err, code) = rasp(&["prog.rasp"], "g();\n", &dir);
    assert_eq!(err, expected);
    assert!(out.ends_with(">> \t\t!!ignoring input:\n\t Expected selector, got: 3\n>> \n"), "{out}");
    assert_eq!(code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_clean_file_exits_zero_with_nothing_on_stderr() {
    let (_, err, code) = rasp(&["-q", "examples/reverse.rasp"], "", &repo());
    assert_eq!((err.as_str(), code), ("", 0));
}

#[test]
fn a_file_then_the_repl_keeps_its_definitions() {
    let (out, _, code) = rasp(&["examples/reverse.rasp"], "reverse(\"abc\");\n", &repo());
    assert!(out.contains(">> \t =  [c, b, a] (strings)\n"), "{out}");
    assert_eq!(code, 0);
}

#[test]
fn analyze_is_a_repl_builtin() {
    let (out, _, _) = rasp(&[], "load \"examples/reverse\";\nanalyze(reverse);\nanalyze(3);\n", &repo());
    assert!(out.contains("reverse: analysed size 2 layers, heads per layer 1/1"), "{out}");
    assert!(out.contains("analyze expects an s-op, got: 3"), "{out}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let (_, err, code) = rasp(&["-q", "no/such/file.rasp"], "", &repo());
    assert!(err.contains("cannot read no/such/file.rasp"), "{err}");
    assert_eq!(code, 2);
}

#[test]
fn draw_in_the_repl_prints_the_value_and_writes_an_svg() {
    let dir = std::env::temp_dir().join(format!("rasp-cli-draw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = "flip = select(indices, length - indices - 1, ==);\nreverse = aggregate(flip, tokens);\ndraw(reverse, \"abc\");\n";
    let (out, _, _) = rasp(&[], input, &dir);
    assert!(out.contains(">> \t =  [c, b, a] (strings)\n"), "{out}");
    let svg = std::fs::read_to_string(dir.join("comp_flows/reverse(\"abc\").svg")).expect("the drawing was written");
    assert!(svg.starts_with("<?xml") && svg.contains("flip") && svg.contains("layer 2"), "{svg}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compiled_attention_is_drawn_beside_the_program_selectors() {
    let dir = std::env::temp_dir().join(format!("rasp-cli-catt-{}", std::process::id()));
    let model = dir.join("model");
    let model_arg = model.display().to_string();
    let (_, err, code) = rasp(
        &[
            "compile",
            "examples/reverse.rasp",
            "--sop",
            "reverse",
            "--vocab",
            "a,b,c",
            "--max-len",
            "4",
            "-o",
            &model_arg,
        ],
        "",
        &repo(),
    );
    assert_eq!(code, 0, "{err}");
    let svg_path = dir.join("attention.svg");
    let svg_arg = svg_path.display().to_string();
    let (out, err, code) = rasp(&["attention", &model_arg, "--input", "abc", "-o", &svg_arg], "", &repo());
    assert_eq!(code, 0, "{err}");
    // Layer 2's compiled head attends exactly as the flip selector.
    let flip = out.lines().find(|l| l.starts_with("layer 2 head 1")).expect("layer 2 is reported");
    let distance: f64 = flip.rsplit(' ').next().and_then(|d| d.parse().ok()).expect("a distance");
    assert!(distance < 1e-3, "{out}");
    let svg = std::fs::read_to_string(&svg_path).expect("the picture was written");
    assert!(svg.contains("compiled head 1") && svg.contains("program selector"), "{svg}");
    let _ = std::fs::remove_dir_all(&dir);
}
