//! Limits and checks at the front door: compile sizes, model.json read as
//! untrusted input, source files with a byte-order mark or bad bytes, and
//! error messages that do not echo huge inputs.

use rasp::{CompileOptions, ErrorKind, NoFiles, Program};

const REVERSE: &str = "\
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
";

fn reverse_model() -> rasp::Model {
    let program = Program::from_source("reverse.rasp", REVERSE, NoFiles).expect("loads");
    let sop = program.sop("reverse", "compile").expect("an s-op");
    program.compile(sop, &CompileOptions::new(vec!["a".into(), "b".into()], None, 3)).expect("compiles")
}

#[track_caller]
fn compile_error(vocab: Vec<String>, max_len: usize) -> String {
    let program = Program::from_source("reverse.rasp", REVERSE, NoFiles).expect("loads");
    let sop = program.sop("reverse", "compile").expect("an s-op");
    match program.compile(sop, &CompileOptions::new(vocab, None, max_len)) {
        Ok(_) => panic!("compiled"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Compile);
            e.message().to_string()
        }
    }
}

#[test]
fn compile_refuses_lengths_and_vocabularies_past_its_limits() {
    let message = compile_error(vec!["a".into()], 1_000_000_000);
    assert!(message.contains("maximum length 1000000000 is over the limit of 4096"), "{message}");
    let vocab: Vec<String> = (0..5000).map(|i| format!("t{i}")).collect();
    let message = compile_error(vocab, 4);
    assert!(message.contains("5000 tokens, over the limit of 4096"), "{message}");
}

/// `model.validate()` on reverse's model with one fact of model.json changed.
#[track_caller]
fn invalid(change: impl FnOnce(&mut rasp::Model)) -> String {
    let mut model = reverse_model();
    assert!(model.validate().is_ok());
    change(&mut model);
    match model.validate() {
        Ok(()) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn model_json_is_checked_whole() {
    let message = invalid(|m| m.config.tokens[2] = m.config.tokens[1].clone());
    assert!(message.contains("appears twice in tokens"), "{message}");
    let message = invalid(|m| m.config.max_len = 1_000_000_000_000);
    assert!(message.contains("n_positions is 4, but max_len 1000000000000 needs 1000000000001"), "{message}");
    let message = invalid(|m| m.config.max_len = 0);
    assert!(message.contains("max_len must be at least 1"), "{message}");
    let message = invalid(|m| m.config.vocab.push("<start>".into()));
    assert!(message.contains("may not contain the start token"), "{message}");
    let message = invalid(|m| m.config.vocab.push("z".into()));
    assert!(message.contains("vocabulary token \"z\" is not in tokens"), "{message}");
    let message = invalid(|m| m.config.tokens[0] = "a".into());
    assert!(message.contains("tokens must start with the start token"), "{message}");
    let message = invalid(|m| {
        m.config.residual.pop();
    });
    assert!(message.contains("residual labels for d_model"), "{message}");
}

#[test]
fn error_lines_do_not_echo_huge_inputs() {
    let huge = "x".repeat(100_000);
    let error = rasp::Error::new(ErrorKind::Input, format!("token {huge:?} is not in the vocabulary"));
    assert!(error.message().len() < 400, "{} bytes", error.message().len());
    assert!(error.message().starts_with("token \"xxx"), "{}", error.message());
    assert!(error.message().contains("characters left out"), "{}", error.message());
    // Short messages and their line breaks are left alone.
    let error = rasp::Error::new(ErrorKind::Input, "first line\nsecond line");
    assert_eq!(error.message(), "first line\nsecond line");
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rasp-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let path = temp_file("bom.rasp", "\u{feff}x = 1;\n".as_bytes());
    assert_eq!(rasp::read_source(&path).expect("reads"), "x = 1;\n");
}

#[test]
fn bytes_that_are_not_utf8_are_named_with_their_place() {
    let path = temp_file("latin1.rasp", b"x = 1;\ny = \"caf\xe9\";\n");
    let error = rasp::read_source(&path).expect_err("not UTF-8");
    assert_eq!(error.kind(), ErrorKind::Io);
    assert!(error.message().contains("not UTF-8 text (byte 0xe9 at line 2, column 9)"), "{}", error.message());
}

#[test]
fn a_loaded_file_that_is_not_utf8_is_not_called_missing() {
    let path = temp_file("bad.rasp", b"x = \"\xff\";\n");
    let stem = path.with_extension("");
    let source = format!("load \"{}\";\n", stem.display());
    let error = match Program::from_source("main.rasp", &source, rasp::FileLoader) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    };
    assert!(error.message().contains("not UTF-8 text"), "{}", error.message());
    assert!(!error.message().contains("could not find file"), "{}", error.message());
}
