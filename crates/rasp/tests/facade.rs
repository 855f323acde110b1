//! The facade as a front end uses it: load a program, run, analyse, draw,
//! compile, verify, read a model folder back, compare attention. Expected
//! values are worked out by hand from the programs' meaning.

use rasp::{AnalyzeOptions, CompileOptions, ErrorKind, NoFiles, Program, Value, VerifyOptions};

const REVERSE: &str = "\
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
";

fn reverse() -> Program {
    match Program::from_source("reverse.rasp", REVERSE, NoFiles) {
        Ok(program) => program,
        Err(e) => panic!("reverse.rasp does not load: {e}"),
    }
}

fn strings(sequence: &rasp::Sequence) -> Vec<String> {
    sequence.values.iter().map(rasp_core::pyfmt::py_str).collect()
}

#[test]
fn transformer_lens_view_of_reverse() {
    let program = reverse();
    let sop = program.sop("reverse", "compile").expect("reverse is an s-op");
    let model = program.compile(sop, &CompileOptions::new(rasp::parse_vocab("abc"), None, 4)).expect("compiles");
    let config = rasp::transformer_lens_config(&model).expect("no prefix");
    // Two layers of one head; tokens <start> a b c; positions start + 4.
    assert_eq!((config["n_layers"].as_u64(), config["n_heads"].as_u64()), (Some(2), Some(1)));
    assert_eq!((config["d_vocab"].as_u64(), config["n_ctx"].as_u64()), (Some(4), Some(5)));
    assert_eq!(config["attention_dir"], "bidirectional");
    assert_eq!(rasp::loss_mask(&model), [false, true, true, true, true]);
    let tensors = rasp::transformer_lens_tensors(&model);
    let d_head = usize::try_from(config["d_head"].as_u64().unwrap_or(0)).unwrap_or(0);
    // The flip head's W_Q is its w_q times its scale, padded with zero columns.
    let flip = &model.layers[1].heads[0];
    let w_q = tensors.iter().find(|t| t.name == "blocks.1.attn.W_Q").expect("W_Q");
    assert_eq!(w_q.shape, [1, model.config.d_model, d_head]);
    for ((row, col), value) in flip.w_q.indexed_iter() {
        assert_eq!(w_q.data[row * d_head + col], flip.scale * value);
    }
    for row in 0..model.config.d_model {
        assert!(w_q.data[row * d_head + flip.w_q.ncols()..(row + 1) * d_head].iter().all(|v| *v == 0.0));
    }
    let circuit = rasp::circuit(&model);
    let ids: Vec<&str> = circuit["nodes"].as_array().into_iter().flatten().filter_map(|n| n["id"].as_str()).collect();
    assert_eq!(ids, ["embed", "pos_embed", "a0.0", "m0", "a1.0", "unembed"]);
    // The flip head reads opp_index as its query, from the first MLP.
    let edges = circuit["edges"].as_array().expect("edges");
    assert!(edges.iter().any(|e| e["from"] == "m0" && e["to"] == "a1.0" && e["input"] == "q"));
    assert!(edges.iter().any(|e| e["from"] == "a1.0" && e["to"] == "unembed" && e["constant"] == false));
    let files = rasp::pretrained_files(&model).expect("files");
    let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["config.json", "model.safetensors", "tokens.json", "outputs.json", "circuit.json"]);
    assert_eq!(files, rasp::pretrained_files(&model).expect("files again"));
}

#[test]
fn runs_an_sop_on_inputs_given_as_text() {
    let mut program = reverse();
    let sop = program.sop("reverse", "run").expect("reverse is an s-op");
    let input = program.parse_input("hello").expect("plain text is a string");
    assert_eq!(strings(&program.run(sop, &input).expect("runs")), ["o", "l", "l", "e", "h"]);
    let list = program.parse_input("[1, 2, 3]").expect("a RASP list");
    assert_eq!(strings(&program.run(sop, &list).expect("runs")), ["3", "2", "1"]);
}

/// Past the old input limit of 100,000 positions: the reverse of a known
/// list of 200,000 ints, and sort of a known permutation of them (the
/// multiples of 7 modulo a prime, so every value occurs once).
#[test]
fn runs_inputs_of_200000_positions() {
    const N: i64 = 200_000;
    const PRIME: i64 = 200_003;
    let source = format!("{REVERSE}sorted = sort(tokens_asis, tokens_asis);\n");
    let mut program = Program::from_source("long.rasp", &source, NoFiles).expect("loads");
    let reverse = program.sop("reverse", "run").expect("reverse is an s-op");
    let sorted = program.sop("sorted", "run").expect("sorted is an s-op");
    let ints = |values: &rasp::Sequence| -> Vec<i64> {
        values.values.iter().map(|a| rasp_core::pyfmt::py_str(a).parse().expect("an int")).collect()
    };
    let counting = Value::list((0..N).map(Value::int).collect());
    let reversed = program.run(reverse, &counting).expect("runs");
    assert_eq!(ints(&reversed), (0..N).rev().collect::<Vec<_>>());
    // x -> 7x mod p permutes 1..p-1; these are 200,000 distinct values.
    let permuted: Vec<i64> = (1..=N).map(|x| x * 7 % PRIME).collect();
    let mut by_hand = permuted.clone();
    by_hand.sort_unstable();
    let permuted = Value::list(permuted.into_iter().map(Value::int).collect());
    assert_eq!(ints(&program.run(sorted, &permuted).expect("runs")), by_hand);
}

#[test]
fn analyses_and_draws() {
    let program = reverse();
    let sop = program.sop("reverse", "analyze").expect("reverse is an s-op");
    let analysis = program.analyze(sop, AnalyzeOptions::default());
    assert_eq!((analysis.layers, analysis.heads_per_layer.clone()), (2, vec![1, 1]));
    let drawing = program.draw(sop, &Value::str("abc"), AnalyzeOptions::default()).expect("draws");
    assert_eq!(drawing.title(), "reverse(\"abc\")");
    assert!(drawing.to_svg().starts_with("<svg") || drawing.to_svg().starts_with("<?xml"));
}

#[test]
fn compiles_verifies_and_reads_a_model_folder_back() {
    let program = reverse();
    let sop = program.sop("reverse", "compile").expect("reverse is an s-op");
    let mut options = CompileOptions::new(rasp::parse_vocab("abc"), None, 4);
    options.program = Some(rasp::ProgramInfo { file: rasp::PROGRAM_FILE.to_string(), sop: "reverse".to_string() });
    let model = program.compile(sop, &options).expect("compiles");
    let report = program.verify(sop, &model, &VerifyOptions::default());
    // 3 + 9 + 27 + 81 words of 1 to 4 tokens, all checked.
    assert_eq!((report.exhaustive, report.inputs_checked, report.mismatches), (true, 120, 0));
    assert!(rasp::verify_text(&model, &report).contains("mismatches: 0 of 120 inputs"));

    let files = rasp::model_files(&model, &program, false).expect("files");
    let names: Vec<&str> = files.iter().map(|f| f.name).collect();
    assert_eq!(names, ["model.json", "model.safetensors", "program.rasp", "circuit.json"]);
    let dir = std::env::temp_dir().join(format!("rasp-facade-folder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for file in &files {
        std::fs::write(dir.join(file.name), &file.bytes).expect("write");
    }
    // Layers are numbered as in `rasp analyze`: 1 and 2 after the embedding.
    let json = String::from_utf8(files[0].bytes.clone()).expect("utf-8");
    assert!(json.contains("\"layer\": 1,") && json.contains("\"layer\": 2,"), "{json}");
    let folder = rasp::ModelFolder::read(&dir).expect("reads back");
    // A model.json from before the numbering loads with positions + 1.
    let mut unnumbered: serde_json::Value = serde_json::from_str(&json).expect("json");
    for layer in unnumbered["layers"].as_array_mut().expect("layers") {
        layer.as_object_mut().expect("object").remove("layer");
    }
    let config: rasp_model::ModelConfig = serde_json::from_value(unnumbered).expect("old config");
    let weights = &files[1].bytes;
    let old = rasp_model::Model::from_parts(config, weights).expect("loads");
    assert_eq!(old.config.layers.iter().map(|l| l.layer).collect::<Vec<_>>(), [1, 2]);
    let again = folder.program.verify(folder.sop, &folder.model, &VerifyOptions::default());
    assert_eq!((again.inputs_checked, again.mismatches), (120, 0));

    // Layer 2's head is the flip selector: on "abc" query q attends to key 2 - q.
    let comparison = rasp::AttentionComparison::compute(&folder, "abc").expect("attention");
    let flip = comparison.heads.iter().find(|h| h.layer == 2).expect("a head in layer 2");
    for (query, row) in flip.weights.iter().enumerate() {
        let strongest = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(key, _)| key);
        assert_eq!(strongest, Some(2 - query), "row {query}: {row:?}");
    }
    assert!(flip.max_difference.is_some_and(|d| d < 1e-3), "{:?}", flip.max_difference);
    assert!(comparison.report().contains("layer 2 head 1"));

    // A folder naming a program outside itself is refused.
    std::fs::write(dir.join("model.json"), json.replace("\"program.rasp\"", "\"../../etc/passwd\"")).expect("write");
    let refused = rasp::ModelFolder::read(&dir).err().expect("refused");
    assert_eq!(refused.kind(), ErrorKind::Model, "{refused}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_say_whose_mistake_they_are() {
    let kind_of = |source: &str| Program::from_source("bad.rasp", source, NoFiles).err().map(|e| e.kind());
    assert_eq!(kind_of("x = ;"), Some(ErrorKind::Syntax));
    assert_eq!(kind_of("x = aggregate(3, tokens);"), Some(ErrorKind::Program));
    // The message shows where, with the source line and carets.
    let failed = Program::from_source("bad.rasp", "x = 1;\ny = aggregate(3, tokens);\n", NoFiles).err();
    let message = failed.map(|e| e.message().to_string()).unwrap_or_default();
    assert!(
        message.starts_with("bad.rasp has errors:\nerror: Expected selector, got: 3\n  --> bad.rasp:2:5\n"),
        "{message}"
    );
    assert!(message.ends_with(" 2 | y = aggregate(3, tokens);\n   |     ^^^^^^^^^^^^^^^^^^^^"), "{message}");
    let mut program = reverse();
    assert_eq!(program.sop("nothing", "draw").map_err(|e| e.kind()), Err(ErrorKind::Name));
    let selector = program.sop("flip", "draw").expect_err("flip is a selector");
    assert_eq!(selector.message(), "flip is a selector; draw takes an s-op");
    assert_eq!(program.parse_input("[1, 2").err().map(|e| e.kind()), Some(ErrorKind::Input));
    let sop = program.sop("reverse", "draw").expect("reverse");
    let empty = program.draw(sop, &Value::str(""), AnalyzeOptions::default()).expect_err("empty input");
    assert_eq!(empty.kind(), ErrorKind::Input);
}

#[test]
fn repl_sessions_have_the_builtins() {
    let mut session = rasp::new_session(NoFiles);
    for line in REVERSE.lines() {
        session.feed_line(line);
    }
    session.take_output();
    session.feed_line("analyze(reverse);");
    let printed = session.take_output();
    assert!(printed.contains("reverse: analysed size 2 layers, heads per layer 1/1"), "{printed}");
    session.feed_line("compile(reverse, \"ab\", 3);");
    let printed = session.take_output();
    assert!(printed.contains("checked every input (14 inputs): 0 mismatches"), "{printed}");
    session.feed_line("draw(reverse, \"ab\");");
    let requests = rasp::take_drawings(&mut session);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "comp_flows/reverse(\"ab\").svg");
    assert!(requests[0].drawing.is_ok());
}

#[test]
fn program_errors_carry_their_places() {
    let source = "x = 1;\ndef f(a) {\n  return aggregate(a, tokens);\n}\ny = f(3);\n";
    let error = Program::from_source("prog.rasp", source, NoFiles).err().expect("f(3) fails");
    assert_eq!(error.kind(), ErrorKind::Program);
    let [diagnostic] = error.diagnostics() else { panic!("one diagnostic expected: {:?}", error.diagnostics()) };
    let location = diagnostic.location.as_ref().expect("placed");
    // The failing expression is `aggregate(a, tokens)` on line 3, inside f.
    assert_eq!((location.file.as_str(), location.line, location.column), ("prog.rasp", 3, 10));
    assert_eq!(&source[location.span.start..location.span.end], "aggregate(a, tokens)");
    assert_eq!(diagnostic.call_chain.len(), 1);
    assert!(error.message().contains("prog.rasp:3:10"), "{}", error.message());
}

/// Offers a broken replacement for the library, as a stray
/// `RASP_support/rasplib.rasp` in the working directory would.
struct BrokenLibraryAround;

impl rasp::SourceLoader for BrokenLibraryAround {
    fn load(&self, path: &str) -> Option<String> {
        (path == "RASP_support/rasplib.rasp").then(|| "length = 42;\n".to_string())
    }
}

#[test]
fn only_repl_sessions_take_a_local_library() {
    let mut program = Program::from_source("p.rasp", "n = length;\n", BrokenLibraryAround).expect("loads");
    let sop = program.sop("n", "run").expect("an s-op");
    assert_eq!(strings(&program.run(sop, &Value::str("abc")).expect("runs")), ["3", "3", "3"]);
    let mut session = rasp::new_session(BrokenLibraryAround);
    session.feed_line("length;");
    assert!(session.take_output().contains("42"), "the REPL reads the local library, as the reference does");
}
