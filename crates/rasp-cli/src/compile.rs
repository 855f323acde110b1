//! `rasp compile`, `rasp verify` and `rasp bench-compile`: RASP programs to
//! transformer weights, checked against the interpreter.

use crate::program::parse_vocab;
use clap::{Args, ValueEnum};
use rasp_compile::{CompileOptions, Encoding, Model, ProgramInfo, VerifyOptions, VerifyReport, compile, verify};
use rasp_core::{Graph, NodeId, Value};
use rasp_lang::{Session, SourceLoader};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

/// The program's source, stored beside the weights so `verify` can rebuild it.
const PROGRAM_FILE: &str = "program.rasp";
/// Files the program `load`ed, by the path it gave.
const LOADS_FILE: &str = "program-loads.json";

const COMPILE_ABOUT: &str = "Compile an s-op to transformer weights (model.safetensors + model.json)";

const COMPILE_LONG: &str = "\
Compile an s-op to the weights of an ordinary transformer.

Runs FILE, then compiles the s-op NAME for inputs of 1 to N tokens from the
vocabulary (with --bos, every input is that token followed by such a word).
Writes to DIR:

  model.safetensors   embeddings, per-layer attention (w_q, w_k, w_v, w_o per
                      head) and MLP (w_in, w_out) weights, the readout (unembed)
  model.json          shapes, attention scales, vocabulary, BOS, maximum
                      length, the residual layout (which dimensions hold which
                      s-op, how encoded) and how to decode the output
  program.rasp        the program, so `rasp verify DIR` can check the model
  model.onnx          with --onnx

The network has no LayerNorm and no biases: token + position embeddings, then
per layer x += Σ_heads softmax(scale·(x·w_q)(x·w_k)ᵀ)(x·w_v)·w_o and
x += relu(x·w_in)·w_out. Position 0 holds the compiler's start token.";

#[derive(Args, Debug)]
#[command(about = COMPILE_ABOUT, long_about = COMPILE_LONG)]
pub struct CompileArgs {
    /// The .rasp file that defines the s-op.
    pub file: PathBuf,
    /// The s-op to compile.
    #[arg(long, value_name = "NAME")]
    pub sop: String,
    /// Input tokens: `a,b,c`, or text without commas for one token per
    /// character (`abc`).
    #[arg(long, value_name = "TOKENS")]
    pub vocab: String,
    /// Longest input word (BOS not counted).
    #[arg(long, value_name = "N")]
    pub max_len: usize,
    /// A token every input starts with (not in the vocabulary).
    #[arg(long, value_name = "TOKEN")]
    pub bos: Option<String>,
    /// Force an s-op's encoding: NAME=categorical or NAME=numerical (repeatable).
    #[arg(long = "encoding", value_name = "NAME=ENC")]
    pub encodings: Vec<String>,
    /// Also write model.onnx.
    #[arg(long)]
    pub onnx: bool,
    /// Output directory.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
#[command(about = "Check a compiled model against the interpreter on every input up to its maximum length")]
pub struct VerifyArgs {
    /// A directory written by `rasp compile`.
    pub dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Check every input while there are at most this many.
    #[arg(long, default_value_t = 1_000_000)]
    pub exhaustive_limit: usize,
    /// Beyond that: random inputs per length (lengths with fewer words are checked exhaustively).
    #[arg(long, default_value_t = 20_000)]
    pub sample: usize,
    /// Seed of the random sample.
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The paper's programs at the sizes of the compiler notes.
    Paper,
}

#[derive(Args, Debug)]
#[command(about = "Time compilation and the compiled forward pass (batch of 64)")]
pub struct BenchCompileArgs {
    /// A .rasp file (default: the paper's programs).
    pub file: Option<PathBuf>,
    #[arg(long, value_name = "NAME", requires = "file")]
    pub sop: Option<String>,
    #[arg(long, value_name = "TOKENS", requires = "file")]
    pub vocab: Option<String>,
    #[arg(long, value_name = "N", requires = "file")]
    pub max_len: Option<usize>,
    #[arg(long, value_name = "TOKEN")]
    pub bos: Option<String>,
    /// Timed repetitions (the median is shown).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
}

/// Reads `load`ed files relative to the working directory and remembers them.
struct RecordingLoader {
    seen: Rc<RefCell<BTreeMap<String, String>>>,
    stored: BTreeMap<String, String>,
}

impl SourceLoader for RecordingLoader {
    fn load(&self, path: &str) -> Option<String> {
        let text = self.stored.get(path).cloned().or_else(|| std::fs::read_to_string(path).ok())?;
        self.seen.borrow_mut().insert(path.to_string(), text.clone());
        Some(text)
    }
}

/// A RASP file run by the interpreter: its graph, the s-op to compile or
/// verify, and the files it `load`ed (stored beside the model).
struct CompiledSource {
    graph: Graph,
    root: NodeId,
    loads: BTreeMap<String, String>,
}

fn build_graph(file: &str, text: &str, sop: &str, stored: BTreeMap<String, String>) -> Result<CompiledSource, String> {
    let seen = Rc::new(RefCell::new(BTreeMap::new()));
    let mut session = Session::new(Box::new(RecordingLoader { seen: seen.clone(), stored }));
    session.run_file(file, text);
    let output = session.take_output();
    if session.had_file_errors() {
        return Err(format!("{output}{file} has errors; nothing compiled"));
    }
    let root = match session.lookup(sop) {
        Some(Value::Sop(id)) => id,
        None => return Err(format!("{sop} is not defined in {file}")),
        Some(Value::Selector(_)) => return Err(format!("{sop} is a selector; only s-ops can be compiled")),
        Some(other) => return Err(format!("{sop} is a {}; only s-ops can be compiled", other.type_name())),
    };
    let loads = seen.borrow().clone();
    Ok(CompiledSource { graph: session.graph, root, loads })
}

fn parse_encodings(items: &[String]) -> Result<Vec<(String, Encoding)>, String> {
    items
        .iter()
        .map(|item| {
            let (name, enc) = item.split_once('=').ok_or_else(|| format!("--encoding {item}: expected NAME=ENC"))?;
            let enc = match enc {
                "categorical" | "cat" | "one-hot" => Encoding::Categorical,
                "numerical" | "num" | "scalar" => Encoding::Numerical,
                other => return Err(format!("--encoding {item}: {other} is not categorical or numerical")),
            };
            Ok((name.to_string(), enc))
        })
        .collect()
}

pub fn run_compile(args: CompileArgs) -> ExitCode {
    let file = args.file.display().to_string();
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => return fail(&format!("cannot read {file}: {e}")),
    };
    let encodings = match parse_encodings(&args.encodings) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let program = match build_graph(&file, &text, &args.sop, BTreeMap::new()) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let mut opts = CompileOptions::new(parse_vocab(&args.vocab), args.bos.clone(), args.max_len);
    opts.encodings = encodings;
    opts.program = Some(ProgramInfo { file: PROGRAM_FILE.to_string(), sop: args.sop.clone() });
    let start = Instant::now();
    let (model, _) = match compile(&program.graph, program.root, &opts) {
        Ok(m) => m,
        Err(e) => return fail(&e.to_string()),
    };
    let seconds = start.elapsed().as_secs_f64();
    let dir = &args.out;
    if let Err(e) = model.save(dir) {
        return fail(&e.to_string());
    }
    if let Err(e) = std::fs::write(dir.join(PROGRAM_FILE), &text) {
        return fail(&format!("cannot write {}: {e}", dir.join(PROGRAM_FILE).display()));
    }
    if !program.loads.is_empty() {
        let json = serde_json::to_string_pretty(&program.loads).unwrap_or_default();
        if let Err(e) = std::fs::write(dir.join(LOADS_FILE), json) {
            return fail(&format!("cannot write {}: {e}", dir.join(LOADS_FILE).display()));
        }
    }
    if args.onnx {
        let bytes = model.to_onnx();
        if let Err(e) = std::fs::write(dir.join("model.onnx"), bytes) {
            return fail(&format!("cannot write model.onnx: {e}"));
        }
    }
    say(&format!("{}\ncompiled in {:.1} ms; wrote {}\n", summary(&model), seconds * 1e3, dir.display()));
    ExitCode::SUCCESS
}

/// A few lines on the model's shape.
pub fn summary(model: &Model) -> String {
    let c = &model.config;
    let p = model.parameter_count();
    let mut out = format!(
        "{}: d_model {}, {} layer{}, {} parameters ({} non-zero)\n",
        c.readout.sop,
        c.d_model,
        c.n_layers,
        if c.n_layers == 1 { "" } else { "s" },
        p.dense,
        p.nonzero
    );
    for (l, layer) in c.layers.iter().enumerate() {
        let heads: Vec<String> = layer
            .heads
            .iter()
            .map(|h| format!("{} over {} (d_head {}, scale {:.1})", h.computes, h.selector, h.d_head, h.scale))
            .collect();
        out.push_str(&format!(
            "  layer {l}: {} head{}{}{}; MLP {} hidden{}\n",
            heads.len(),
            if heads.len() == 1 { "" } else { "s" },
            if heads.is_empty() { "" } else { ": " },
            heads.join("; "),
            layer.mlp_hidden,
            if layer.mlp_computes.is_empty() { String::new() } else { format!(" ({})", layer.mlp_computes.join(", ")) }
        ));
    }
    out.push_str(&format!(
        "  output: {} ({}, {} value{})",
        c.readout.sop,
        match c.readout.encoding {
            Encoding::Categorical => "categorical, argmax",
            Encoding::Numerical => "numerical, nearest value",
        },
        c.readout.values.len(),
        if c.readout.values.len() == 1 { "" } else { "s" }
    ));
    out
}

fn load_program(dir: &Path, model: &Model) -> Result<CompiledSource, String> {
    let info = model.config.program.clone().ok_or("model.json names no program; cannot verify")?;
    let path = dir.join(&info.file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let stored: BTreeMap<String, String> = std::fs::read_to_string(dir.join(LOADS_FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    build_graph(&path.display().to_string(), &text, &info.sop, stored)
}

pub fn run_verify(args: VerifyArgs) -> ExitCode {
    let model = match Model::load(&args.dir) {
        Ok(m) => m,
        Err(e) => return fail(&e.to_string()),
    };
    let program = match load_program(&args.dir, &model) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let opts = VerifyOptions {
        exhaustive_limit: args.exhaustive_limit,
        sample_per_length: args.sample.max(1),
        seed: args.seed,
        ..VerifyOptions::default()
    };
    let start = Instant::now();
    let report = verify(&program.graph, program.root, &model, &opts);
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        say(&format!("{}\n", report_json(&model, &report, seconds)));
    } else {
        say(&report_text(&model, &report, seconds));
    }
    if report.mismatches > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn report_json(model: &Model, r: &VerifyReport, seconds: f64) -> String {
    let examples: Vec<serde_json::Value> = r
        .examples
        .iter()
        .map(|m| serde_json::json!({"input": m.input, "expected": m.expected, "got": m.got}))
        .collect();
    let lengths: Vec<serde_json::Value> = r
        .lengths
        .iter()
        .map(|l| serde_json::json!({"length": l.length, "words": l.words, "checked": l.checked, "exhaustive": l.exhaustive}))
        .collect();
    let v = serde_json::json!({
        "sop": model.config.readout.sop,
        "vocab": model.config.vocab,
        "bos": model.config.bos,
        "max_len": model.config.max_len,
        "inputs_checked": r.inputs_checked,
        "undefined": r.undefined,
        "mismatches": r.mismatches,
        "examples": examples,
        "min_margin": r.min_margin,
        "min_margin_input": r.min_margin_input,
        "exhaustive": r.exhaustive,
        "lengths": lengths,
        "seed": r.seed,
        "seconds": seconds,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn report_text(model: &Model, r: &VerifyReport, seconds: f64) -> String {
    let c = &model.config;
    let mut out = format!(
        "{}: vocab {{{}}}{}, words of 1 to {} tokens\n",
        c.readout.sop,
        c.vocab.join(", "),
        c.bos.as_ref().map(|b| format!(" after BOS {b}")).unwrap_or_default(),
        c.max_len
    );
    if r.exhaustive {
        out.push_str(&format!("checked every input: {}\n", r.inputs_checked + r.undefined));
    } else {
        for l in &r.lengths {
            out.push_str(&format!(
                "  length {}: {} of {} words{}\n",
                l.length,
                l.checked,
                l.words,
                if l.exhaustive { " (all)" } else { " (random sample)" }
            ));
        }
        out.push_str(&format!("checked {} inputs (random sample, seed {})\n", r.inputs_checked + r.undefined, r.seed));
    }
    if r.undefined > 0 {
        out.push_str(&format!("  {} inputs on which the interpreter raises an error were skipped\n", r.undefined));
    }
    for m in &r.examples {
        out.push_str(&format!(
            "MISMATCH on {}:\n  interpreter: [{}]\n  model:       [{}]\n",
            m.input.join(" "),
            m.expected.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "),
            m.got.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    out.push_str(&format!(
        "mismatches: {} of {} inputs\nsmallest decision margin: {:.6} (1 = exact; 0 = on a decision boundary), on {}\n",
        r.mismatches,
        r.inputs_checked,
        r.min_margin,
        if r.min_margin_input.is_empty() { "-".to_string() } else { r.min_margin_input.join(" ") }
    ));
    out.push_str(&format!("{seconds:.2} s\n"));
    out
}

/// One benchmark case.
struct Case {
    name: String,
    file: String,
    text: String,
    sop: String,
    vocab: Vec<String>,
    bos: Option<String>,
    max_len: usize,
}

fn paper_cases() -> Vec<Case> {
    let text = rasp_compile::PAPER_EXAMPLES.to_string();
    let case = |sop: &str, vocab: &str, bos: Option<&str>, max_len: usize| Case {
        name: format!("{sop} N={max_len}"),
        file: "paper.rasp".to_string(),
        text: text.clone(),
        sop: sop.to_string(),
        vocab: parse_vocab(vocab),
        bos: bos.map(str::to_string),
        max_len,
    };
    vec![
        case("reverse", "a,b,c,d", None, 5),
        case("reverse", "a,b,c,d", None, 16),
        case("hist_bos", "a,b,c,d", Some("§"), 8),
        case("sort_bos", "a,b,c,d,e", Some("§"), 5),
        case("sort_bos", "a,b,c,d", Some("§"), 8),
        case("sort_by_most_freq", "a,b,c,d", Some("§"), 5),
        case("sort_by_most_freq", "a,b,c,d", Some("§"), 8),
        case("dyck1_ptf", "(,)", None, 12),
        case("dyck2_ptf", "(,),{,}", None, 8),
    ]
}

pub fn run_bench(args: BenchCompileArgs) -> ExitCode {
    let cases = match &args.file {
        None => paper_cases(),
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return fail(&format!("cannot read {}: {e}", path.display())),
            };
            let (Some(sop), Some(vocab), Some(max_len)) = (&args.sop, &args.vocab, args.max_len) else {
                return fail("with FILE, give --sop, --vocab and --max-len");
            };
            vec![Case {
                name: format!("{sop} N={max_len}"),
                file: path.display().to_string(),
                text,
                sop: sop.clone(),
                vocab: parse_vocab(vocab),
                bos: args.bos.clone(),
                max_len,
            }]
        }
    };
    say(&format!(
        "{:<26} {:>3} {:>7} {:>6} {:>5} {:>10} {:>9} {:>11} {:>13} {:>10}\n",
        "program", "V", "d_model", "layers", "heads", "params", "nonzero", "compile ms", "fwd ms (x64)", "seq/s"
    ));
    let repeat = args.repeat.max(1);
    for case in cases {
        let program = match build_graph(&case.file, &case.text, &case.sop, BTreeMap::new()) {
            Ok(p) => p,
            Err(e) => return fail(&e),
        };
        let opts = CompileOptions::new(case.vocab.clone(), case.bos.clone(), case.max_len);
        let mut times = Vec::new();
        let mut model = None;
        for _ in 0..repeat {
            let start = Instant::now();
            match compile(&program.graph, program.root, &opts) {
                Ok((m, _)) => model = Some(m),
                Err(e) => return fail(&e.to_string()),
            }
            times.push(start.elapsed().as_secs_f64());
        }
        let Some(model) = model else { continue };
        // A batch of 64 full-length inputs (deterministic tokens).
        let words: Vec<Vec<String>> = (0..64)
            .map(|i| {
                (0..case.max_len).map(|p| case.vocab[(i * 7 + p * 3 + p * p) % case.vocab.len()].clone()).collect()
            })
            .collect();
        let ids: Vec<Vec<u32>> = match words.iter().map(|w| model.encode(w)).collect::<Result<_, _>>() {
            Ok(ids) => ids,
            Err(e) => return fail(&e.to_string()),
        };
        let mut fwd = Vec::new();
        for _ in 0..repeat.max(3) {
            let start = Instant::now();
            if let Err(e) = model.residuals(&ids) {
                return fail(&e.to_string());
            }
            fwd.push(start.elapsed().as_secs_f64());
        }
        let compile_ms = median(&mut times) * 1e3;
        let fwd_ms = median(&mut fwd) * 1e3;
        let p = model.parameter_count();
        let heads: usize = model.config.layers.iter().map(|l| l.heads.len()).sum();
        say(&format!(
            "{:<26} {:>3} {:>7} {:>6} {:>5} {:>10} {:>9} {:>11.2} {:>13.3} {:>10.0}\n",
            case.name,
            case.vocab.len(),
            model.config.d_model,
            model.config.n_layers,
            heads,
            p.dense,
            p.nonzero,
            compile_ms,
            fwd_ms,
            64.0 / (fwd_ms / 1e3)
        ));
    }
    ExitCode::SUCCESS
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Prints to stdout; a closed stdout (e.g. `| head`) ends output quietly.
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn fail(message: &str) -> ExitCode {
    eprintln!("rasp: {message}");
    ExitCode::FAILURE
}

/// Whether DIR holds a model written by `rasp compile` (not `rasp train`).
pub fn is_compiled_dir(dir: &Path) -> bool {
    dir.join(PROGRAM_FILE).is_file() && !dir.join("metrics.json").exists()
}

/// `rasp attention DIR` for a compiled model: each head's real softmax
/// attention on the input, beside the program selector it implements
/// (normalised per row), and how far apart they are. Position 0 of the
/// model is its start token (where a row with no selection attends); the
/// picture shows the word's positions.
pub fn compiled_attention(dir: &Path, input: &str, output: &Path) -> Result<String, String> {
    let model = Model::load(dir).map_err(|e| e.to_string())?;
    let program = load_program(dir, &model)?;
    let config = &model.config;
    let single = config.vocab.iter().all(|t| t.chars().count() == 1);
    let word: Vec<String> = if single {
        input.chars().map(String::from).collect()
    } else {
        input.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
    };
    let ids = model.encode(&word).map_err(|e| e.to_string())?;
    let maps = model.attention(&ids).map_err(|e| e.to_string())?;
    // The program sees the BOS (if any) and the word; the model also has
    // its start token in front.
    let mut tokens: Vec<String> = config.bos.iter().cloned().collect();
    tokens.extend(word.iter().cloned());
    let elements: Vec<Value> = tokens.iter().map(|t| Value::str(t)).collect();
    let skip = ids.len() - tokens.len();
    let mut evaluator = rasp_core::Evaluator::new();
    let mut rows = Vec::new();
    let mut report = String::new();
    for (layer, (heads, layer_config)) in maps.iter().zip(&config.layers).enumerate() {
        let mut panels = Vec::new();
        for (h, (weights, head)) in heads.iter().zip(&layer_config.heads).enumerate() {
            let real: Vec<Vec<f64>> =
                (skip..ids.len()).map(|q| (skip..ids.len()).map(|k| f64::from(weights[[q, k]])).collect()).collect();
            let selector = aggregate_selector(&program.graph, &head.computes);
            let wanted = match selector.map(|s| evaluator.evaluate(&program.graph, s, &elements)) {
                Some(Ok(rasp_core::NodeValue::Sel(m))) => Some(rasp_draw::heatmap::row_normalised(&m)),
                _ => None,
            };
            let distance = wanted.as_ref().map(|w| max_difference(&real, w));
            let caption = distance.map_or("selector not found".to_string(), |d| format!("max |difference| {d:.2e}"));
            report.push_str(&format!(
                "layer {} head {}: {} over {}: {}\n",
                layer + 1,
                h + 1,
                head.computes,
                head.selector,
                caption
            ));
            panels.push(rasp_draw::heatmap::Panel {
                title: format!("compiled head {}", h + 1),
                caption: caption.clone(),
                weights: real,
            });
            if let Some(w) = wanted {
                panels.push(rasp_draw::heatmap::Panel {
                    title: "program selector".to_string(),
                    caption: head.selector.clone(),
                    weights: w,
                });
            }
        }
        rows.push(rasp_draw::heatmap::PanelRow { label: format!("Layer {}", layer + 1), panels });
    }
    let title = format!("{} on {:?}: compiled attention beside the program's selectors", config.readout.sop, input);
    let svg = rasp_draw::heatmap::heatmaps_svg(&title, &tokens, &rows);
    std::fs::write(output, svg).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    report.push_str(&format!("wrote {}\n", output.display()));
    Ok(report)
}

/// The selector of the aggregate a compiled head computes (`name#ID`).
fn aggregate_selector(graph: &Graph, computes: &str) -> Option<NodeId> {
    let id: u32 = computes.rsplit('#').next()?.parse().ok()?;
    let id = NodeId(id);
    if id.index() >= graph.len() {
        return None;
    }
    match graph.kind(id) {
        rasp_core::NodeKind::Aggregate { selector, .. } => Some(*selector),
        _ => None,
    }
}

fn max_difference(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter().zip(b).flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs())).fold(0.0, f64::max)
}
