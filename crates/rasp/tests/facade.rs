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
    // Two layers of one head; tokens <start> a b c and the padding token;
    // positions start + 4; one residual dimension more (padding).
    assert_eq!((config["n_layers"].as_u64(), config["n_heads"].as_u64()), (Some(2), Some(1)));
    assert_eq!((config["d_vocab"].as_u64(), config["n_ctx"].as_u64()), (Some(5), Some(5)));
    assert_eq!(config["d_model"].as_u64(), Some(model.config.d_model as u64 + 1));
    assert_eq!(config["attention_dir"], "bidirectional");
    assert_eq!(rasp::loss_mask(&model), [false, true, true, true, true]);
    let tensors = rasp::transformer_lens_tensors(&model);
    let d_head = usize::try_from(config["d_head"].as_u64().unwrap_or(0)).unwrap_or(0);
    // The flip head's W_Q is its w_q times its scale, padded with zero columns.
    let flip = &model.layers[1].heads[0];
    let w_q = tensors.iter().find(|t| t.name == "blocks.1.attn.W_Q").expect("W_Q");
    assert_eq!(w_q.shape, [1, model.config.d_model + 1, d_head]);
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

/// Records what verify tells its progress callback.
#[derive(Default)]
struct Recorded {
    start: Option<(u64, bool)>,
    advances: Vec<(u64, usize)>,
    finished: bool,
}

impl rasp::VerifyProgress for Recorded {
    fn start(&mut self, total: u64, exhaustive: bool) {
        self.start = Some((total, exhaustive));
    }
    fn advance(&mut self, done: u64, length: usize) {
        self.advances.push((done, length));
    }
    fn finish(&mut self) {
        self.finished = true;
    }
}

#[test]
fn verify_reports_progress_and_says_what_it_checked() {
    let program = reverse();
    let sop = program.sop("reverse", "compile").expect("reverse is an s-op");
    let model = program.compile(sop, &CompileOptions::new(rasp::parse_vocab("abc"), None, 4)).expect("compiles");
    // Sampled: 3 and 9 words of lengths 1 and 2 whole, 20 of the 27 and
    // 81 of lengths 3 and 4, in batches of 16.
    let options = VerifyOptions {
        coverage: rasp::Coverage::Sampled,
        sample_per_length: 20,
        batch: 16,
        ..VerifyOptions::default()
    };
    let mut progress = Recorded::default();
    let report = program.verify_with_progress(sop, &model, &options, &mut progress);
    assert_eq!(progress.start, Some((3 + 9 + 20 + 20, false)));
    // Each length ends its own batches: 3 | 9 | 16, 4 | 16, 4.
    assert_eq!(progress.advances, [(3, 1), (12, 2), (28, 3), (32, 3), (48, 4), (52, 4)]);
    assert!(progress.finished);
    assert_eq!((report.exhaustive, report.inputs_checked, report.mismatches), (false, 52, 0));
    let text = rasp::verify_text(&model, &report);
    assert!(text.contains("  length 2: 9 of 9 words (all)\n  length 3: 20 of 27 words (random sample)\n"), "{text}");
    assert!(text.contains("sampled: checked 52 inputs"), "{text}");
    // Exhaustive, however small the limit.
    let options =
        VerifyOptions { coverage: rasp::Coverage::Exhaustive, exhaustive_limit: 1, ..VerifyOptions::default() };
    let report = program.verify(sop, &model, &options);
    assert_eq!((report.exhaustive, report.inputs_checked), (true, 120));
    assert!(rasp::verify_text(&model, &report).contains("exhaustive: checked every input, 120\n"));
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

/// TransformerLens's forward pass, written from its documented semantics
/// (no LayerNorm, no attention scale, `use_attn_result`): `x = W_E[ids] +
/// W_pos`; per block, every head adds `softmax((x W_Q + b_Q)(x W_K +
/// b_K)ᵀ) (x W_V + b_V) W_O`, then `b_O`; the MLP adds `relu(x W_in + b_in)
/// W_out + b_out`; logits `x W_U + b_U`. One row of logits per position,
/// and the largest attention weight any query gives a key at `ignored_from`
/// or later.
fn transformer_lens_logits(
    config: &serde_json::Value,
    tensors: &[rasp::Tensor],
    ids: &[usize],
    ignored_from: usize,
) -> (Vec<Vec<f32>>, f32) {
    let size = |key: &str| usize::try_from(config[key].as_u64().unwrap_or(0)).unwrap_or(0);
    let (d_model, d_head, n_heads, d_mlp) = (size("d_model"), size("d_head"), size("n_heads"), size("d_mlp"));
    let get = |name: &str| &tensors.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name}")).data;
    // rows × inner times inner × cols, all row-major.
    let product = |a: &[f32], rows: usize, inner: usize, b: &[f32], cols: usize| -> Vec<f32> {
        let mut out = vec![0.0f32; rows * cols];
        for r in 0..rows {
            for k in 0..inner {
                let left = a[r * inner + k];
                for c in 0..cols {
                    out[r * cols + c] += left * b[k * cols + c];
                }
            }
        }
        out
    };
    let n = ids.len();
    let mut largest_ignored = 0.0f32;
    let (w_e, w_pos) = (get("embed.W_E"), get("pos_embed.W_pos"));
    let mut x: Vec<f32> = (0..n * d_model).map(|i| w_e[ids[i / d_model] * d_model + i % d_model] + w_pos[i]).collect();
    for layer in 0..size("n_layers") {
        let block = format!("blocks.{layer}");
        let mut update = get(&format!("{block}.attn.b_O")).repeat(n);
        for head in 0..n_heads {
            let slice =
                |name: &str, len: usize| get(&format!("{block}.attn.{name}"))[head * len..(head + 1) * len].to_vec();
            let project = |w: &str, b: &str| {
                let mut out = product(&x, n, d_model, &slice(w, d_model * d_head), d_head);
                let bias = slice(b, d_head);
                out.iter_mut().enumerate().for_each(|(i, v)| *v += bias[i % d_head]);
                out
            };
            let (q, k, v) = (project("W_Q", "b_Q"), project("W_K", "b_K"), project("W_V", "b_V"));
            let mut z = vec![0.0f32; n * d_head];
            for query in 0..n {
                let scores: Vec<f32> =
                    (0..n).map(|key| (0..d_head).map(|e| q[query * d_head + e] * k[key * d_head + e]).sum()).collect();
                let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let weights: Vec<f32> = scores.iter().map(|s| (s - top).exp()).collect();
                let total: f32 = weights.iter().sum();
                for weight in &weights[ignored_from.min(n)..] {
                    largest_ignored = largest_ignored.max(weight / total);
                }
                for key in 0..n {
                    for e in 0..d_head {
                        z[query * d_head + e] += weights[key] / total * v[key * d_head + e];
                    }
                }
            }
            let written = product(&z, n, d_head, &slice("W_O", d_head * d_model), d_model);
            update.iter_mut().zip(written).for_each(|(u, w)| *u += w);
        }
        x.iter_mut().zip(update).for_each(|(a, u)| *a += u);
        let mut hidden = product(&x, n, d_model, get(&format!("{block}.mlp.W_in")), d_mlp);
        let b_in = get(&format!("{block}.mlp.b_in"));
        hidden.iter_mut().enumerate().for_each(|(i, h)| *h = (*h + b_in[i % d_mlp]).max(0.0));
        let out = product(&hidden, n, d_mlp, get(&format!("{block}.mlp.W_out")), d_model);
        let b_out = get(&format!("{block}.mlp.b_out"));
        x.iter_mut().enumerate().for_each(|(i, a)| *a += out[i] + b_out[i % d_model]);
    }
    let d_out = get("unembed.b_U").len();
    let logits = product(&x, n, d_model, get("unembed.W_U"), d_out);
    (logits.chunks(d_out).map(<[f32]>::to_vec).collect(), largest_ignored)
}

/// Padding is invisible in the TransformerLens view, with no attention
/// mask: a word padded to the longest length with the PAD id gives, at its
/// real positions, the logits of the word alone, and they decode to the
/// interpreter's output. Reverse reads `length`, the histogram counts the
/// positions holding its token, sort and the most-frequent sort compare
/// with every other position: any attention to padding would move them.
#[test]
fn padded_words_compute_what_the_words_compute() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cases = [
        ("reverse.rasp", "reverse", "abc", None, 4),
        ("histogram.rasp", "hist", "abc", None, 4),
        ("sort.rasp", "sort_bos", "abc", Some("§"), 4),
        ("most_frequent.rasp", "sort_by_most_freq_bos", "abc", Some("§"), 4),
        ("dyck.rasp", "dyck1", "()", None, 4),
        // Heads whose selections include later positions, where the
        // padding sits: the length, and how many positions follow.
        ("", "n", "ab", None, 4),
        ("", "n_after", "ab", None, 4),
    ];
    let inline = "n = length;\nafter = select(indices, indices, >);\nn_after = selector_width(after);\n";
    for (file, name, vocab, bos, max_len) in cases {
        let path = root.join("examples").join(file);
        let text = if file.is_empty() { inline.to_string() } else { std::fs::read_to_string(&path).expect("example") };
        let mut program = Program::from_source(&path.display().to_string(), &text, rasp::FileLoader).expect("loads");
        let sop = program.sop(name, "compile").expect("an s-op");
        let vocab = rasp::parse_vocab(vocab);
        let options = CompileOptions::new(vocab.clone(), bos.map(str::to_string), max_len);
        let model = program.compile(sop, &options).expect("compiles");
        let config = rasp::transformer_lens_config(&model).expect("no prefix");
        let tensors = rasp::transformer_lens_tensors(&model);
        let files = rasp::pretrained_files(&model).expect("files");
        let tokens_json = &files.iter().find(|(file, _)| *file == "tokens.json").expect("tokens.json").1;
        let tokens: serde_json::Value = serde_json::from_slice(tokens_json).expect("JSON");
        assert_eq!(tokens["pad_token"], "<pad>");
        let pad = usize::try_from(tokens["pad_id"].as_u64().expect("a pad id")).expect("small");
        assert_eq!(pad, model.config.tokens.len());
        let mut words: Vec<Vec<String>> = vec![Vec::new()];
        let mut checked = 0;
        for _ in 0..max_len - 1 {
            words =
                words.iter().flat_map(|w| vocab.iter().map(move |t| [w.clone(), vec![t.clone()]].concat())).collect();
            for word in &words {
                let ids: Vec<usize> =
                    model.encode(word).expect("in the vocabulary").iter().map(|&i| i as usize).collect();
                let (alone, _) = transformer_lens_logits(&config, &tensors, &ids, ids.len());
                let mut padded_ids = ids.clone();
                padded_ids.resize(model.config.n_positions, pad);
                let (padded, on_padding) = transformer_lens_logits(&config, &tensors, &padded_ids, ids.len());
                // exp underflows: not a small weight, none at all.
                assert_eq!(on_padding, 0.0, "{name} {word:?} attends to padding");
                for position in 0..ids.len() {
                    for (a, b) in alone[position].iter().zip(&padded[position]) {
                        assert!((a - b).abs() <= 1e-3, "{name} {word:?} position {position}: {a} vs {b}");
                    }
                }
                let quoted: Vec<String> =
                    bos.iter().map(|b| b.to_string()).chain(word.iter().cloned()).map(|t| format!("{t:?}")).collect();
                let input = program.parse_input(&format!("[{}]", quoted.join(", "))).expect("a list");
                let Ok(expected) = program.run(sop, &input) else { continue };
                // The decoder reads the rows after the start token.
                let rows = &padded[1..ids.len()];
                let scores = rasp::Matrix {
                    rows: rows.len(),
                    cols: rows[0].len(),
                    data: rows.iter().flatten().copied().collect(),
                };
                let decoded = rasp::decode_scores(&model, &scores).expect("decodes");
                let skip = usize::from(bos.is_some());
                for (position, value) in expected.values.iter().enumerate().skip(skip) {
                    let got = decoded[position].value.to_string();
                    assert_eq!(got, rasp_core::pyfmt::py_str(value), "{name} {word:?} at {position}");
                }
                checked += 1;
            }
        }
        assert!(checked > 0, "{name}");
    }
}

#[test]
fn a_program_from_the_session_that_ran_it_draws_as_one_loaded_again() {
    // A REPL session with a running example runs the file, as a front end
    // that shows its output does; the program taken from it draws the
    // same picture as the program loaded from the text.
    let mut session = rasp::new_session(NoFiles);
    session.feed_line("set example \"abc\"");
    session.run_file("reverse.rasp", REVERSE);
    assert!(session.take_output().contains("Example: reverse(\"abc\") = [c, b, a] (strings)"));
    let from_session = Program::from_session(session, "reverse.rasp", REVERSE).expect("no errors");
    let loaded = reverse();
    let input = Value::str("hey");
    let draw = |program: &Program| {
        let sop = program.sop("reverse", "draw").expect("an s-op");
        program.draw(sop, &input, AnalyzeOptions::default()).expect("draws").to_svg()
    };
    assert_eq!(draw(&from_session), draw(&loaded));
    assert_eq!((from_session.name(), from_session.source()), ("reverse.rasp", REVERSE));
    assert!(from_session.loaded_files().is_empty());
    // A session whose file had errors gives them, as from_source does.
    let mut broken = rasp::new_session(NoFiles);
    broken.run_file("broken.rasp", "x = tokens +;\n");
    let error = Program::from_session(broken, "broken.rasp", "x = tokens +;\n").err().expect("an error");
    let expected = Program::from_source("broken.rasp", "x = tokens +;\n", NoFiles).err().expect("an error");
    assert_eq!((error.kind(), error.to_string()), (expected.kind(), expected.to_string()));
}
