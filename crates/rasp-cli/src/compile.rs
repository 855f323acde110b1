//! `rasp compile`, `rasp verify` and `rasp bench-compile`: RASP programs to
//! transformer weights, checked against the interpreter.

use crate::files::{output_extension, say, say_then_exit, write_atomic};
use crate::program::{MaskArgs, exit_status, load_sop, report};
use clap::{Args, ValueEnum};
use rasp::ProgramInfo;
use rasp::{CompileOptions, Coverage, Encoding, ModelFolder, VerifyOptions, parse_vocab};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

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
  circuit.json        the ground-truth circuit: which head or MLP computes and
                      reads which s-op, named by TransformerLens hooks
  model.onnx          with --onnx

With --format hf, DIR is a folder that loads into TransformerLens without
rasp: config.json (HookedTransformerConfig fields), model.safetensors (the
weights under TransformerLens's names), tokens.json (token -> id: 0 the
start token, then BOS, then the vocabulary in the order given),
outputs.json (the value of each logit, the loss mask, the residual labels)
and circuit.json; the files above go into DIR/rasp (`rasp verify DIR` reads
them there). python/README.md describes them.

The network has no LayerNorm and no biases: token + position embeddings
(layer 0, the embedding), then per layer 1, 2, ... (numbered as in
`rasp analyze`) x += Σ_heads softmax(scale·(x·w_q)(x·w_k)ᵀ)(x·w_v)·w_o and
x += relu(x·w_in)·w_out. Position 0 holds the compiler's start token.

With --causal (or --prefix-len N) the model is a decoder (an extension of
RASP, docs/semantics.md §6): each position attends only to itself, earlier
positions and the start token (which stays the sink of empty selections),
and model.json says \"causal\": true (and \"prefix_len\"). The program is
interpreted under the same mask, so `rasp verify` compares like with like.
Before writing, every input up to N (or a seeded sample of 5000 per length
when there are more than 200,000) is run with and without the mask; if the
outputs differ, a warning on stderr names the first select that reads a
later position and an input where they differ, and model.json records it
under compiler.lookahead.

The report gives the compiled size (d_model, layers, parameters). Chains of
maps are fused into one MLP (several scalars are read through one
projection) and aggregates over one selector in one layer share a head, so
most programs compile to the size `rasp analyze` reports. Where the model is
deeper, the report says why (\"deeper than analysed: ...\", also in
model.json's compiler.layer_notes): a selector whose query or key combines
several sources needs an MLP feature first, or a map could not be fused
with the MLP it feeds.
Missing directories are created; files are written atomically.";

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
    /// The folder's layout: rasp's own, or hf (TransformerLens's config and
    /// weights, token map, outputs, circuit; rasp's files in DIR/rasp).
    #[arg(long, value_enum, default_value_t = Format::Rasp)]
    pub format: Format,
    /// The directory to write the model into (created if missing).
    #[arg(short, long, value_name = "DIR", alias = "out")]
    pub output: PathBuf,
    #[command(flatten)]
    pub mask: MaskArgs,
}

const VERIFY_LONG: &str = "\
Check a compiled model against the interpreter on every input up to its
maximum length, or on a random sample per length.

Runs every word of 1 to N tokens (N and the vocabulary from DIR/model.json)
through the model and through the interpreter, and compares the decoded
output position by position. Which inputs:

  (default)      every input while there are at most --exhaustive-limit
                 (1,000,000) in all; otherwise each length with more than
                 --sample (20,000) words is checked on that many random
                 words (seeded by --seed), the shorter lengths whole
  --exhaustive   every input, however many
  --sampled      the random sample per length, however few inputs there are

The report says which was done (exhaustive or sampled) and, per length, how
many of how many words were checked. While it runs, stderr shows a progress
bar with the throughput and the time left when it is a terminal (after half
a second), or a plain progress line every 30 seconds when it is not; stdout
(and --json) carry only the report. Exits 1 when any input mismatches.";

#[derive(Args, Debug)]
#[command(
    about = "Check a compiled model against the interpreter on every input up to its maximum length",
    long_about = VERIFY_LONG
)]
pub struct VerifyArgs {
    /// A directory written by `rasp compile`.
    pub dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Check every input, however many there are.
    #[arg(long, conflicts_with = "sampled")]
    pub exhaustive: bool,
    /// Check a random sample of --sample words per length, however few
    /// inputs there are.
    #[arg(long)]
    pub sampled: bool,
    /// Without --exhaustive or --sampled: check every input while there are
    /// at most this many, else sample.
    #[arg(long, default_value_t = 1_000_000, value_name = "COUNT")]
    pub exhaustive_limit: usize,
    /// When sampling: random words per length (lengths with no more words
    /// than this are checked whole).
    #[arg(long, default_value_t = 20_000, value_name = "COUNT")]
    pub sample: usize,
    /// Seed of the random sample.
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,
    /// Optional: the mask the model must record (verify always checks under
    /// the mask in model.json; these flags only refuse a model built with
    /// another).
    #[command(flatten)]
    pub mask: MaskArgs,
}

/// The layout of the folder `rasp compile` writes.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// model.json, model.safetensors, program.rasp, circuit.json.
    Rasp,
    /// A folder for TransformerLens, with rasp's folder in DIR/rasp.
    Hf,
}

/// Which programs `rasp bench-compile` times when no FILE is given.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// The paper's programs, each at a small fixed vocabulary and length.
    Paper,
    /// tracr's library programs (examples/tracr/lib.rasp) at --lengths,
    /// with the vocabularies of docs/tracr.md.
    Tracr,
}

const BENCH_COMPILE_LONG: &str = "\
Time compilation and the compiled forward pass, and count wrong inputs.

For each program: the compiled size (d_model, layers, heads, parameters and
non-zero parameters), the compile time (median of --repeat), the forward
pass on a batch of 64 full-length inputs and on a batch of --large-batch
(median), the large batch's throughput as dense-equivalent GFLOP/s (the
multiply-adds of the dense matrices, counted as 2 FLOPs, though the forward
pass skips the zero weights) and the inputs the model gets wrong (`rasp
verify` with --exhaustive-limit 30000 --sample 1000).

The first line gives this machine's fp32 matrix-multiply peak: the rate of
the GEMM behind rasp's dense products (ndarray's, matrixmultiply's sgemm)
on 1024 x 1024 matrices on one core, times the cores (the forward pass runs
large batches on every core). \"of peak\" is the dense-equivalent rate over
that peak; above 100% means skipping zeros saved more than a dense GEMM
could make up.

--suite paper (the default) times the paper's programs; --suite tracr times
the RASP translations of tracr's library programs in examples/tracr/lib.rasp
at every length of --lengths: rasp's side of the table in docs/tracr.md
(python/tools/tracr_compare.py runs this and tracr for the other side).
With FILE, times that one program. --json prints one JSON object per
program instead of the table.";

#[derive(Args, Debug)]
#[command(about = "Time compilation and the compiled forward pass (batch of 64)", long_about = BENCH_COMPILE_LONG)]
pub struct BenchCompileArgs {
    /// A .rasp file (default: the programs of --suite).
    pub file: Option<PathBuf>,
    #[arg(long, value_name = "NAME", requires = "file")]
    pub sop: Option<String>,
    #[arg(long, value_name = "TOKENS", requires = "file")]
    pub vocab: Option<String>,
    #[arg(long, value_name = "N", requires = "file")]
    pub max_len: Option<usize>,
    #[arg(long, value_name = "TOKEN")]
    pub bos: Option<String>,
    /// The programs timed without FILE.
    #[arg(long, value_enum, default_value_t = Suite::Paper, conflicts_with = "file")]
    pub suite: Suite,
    /// With --suite tracr: the maximum lengths.
    #[arg(long, value_delimiter = ',', value_name = "N,...", default_value = "5,10")]
    pub lengths: Vec<usize>,
    /// With --suite tracr: only these programs (length, reverse, hist,
    /// sort_unique, sort, sort_freq, frac_prevs, pair_balance, dyck1,
    /// dyck2, count_less_freq, count_a).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub programs: Option<Vec<String>>,
    /// Timed repetitions (the median is shown).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Inputs in the large batch.
    #[arg(long, default_value_t = 4096, value_name = "COUNT")]
    pub large_batch: usize,
    /// One JSON object per program (program, max_len, layers, heads,
    /// d_model, params, nonzero, compile_ms, forward_ms, forward_large_ms,
    /// gflops, wrong, checked) instead of the table.
    #[arg(long)]
    pub json: bool,
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
    let encodings = match parse_encodings(&args.encodings) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let (mut program, root) = match load_sop(&args.file, &args.sop, "compile") {
        Ok(found) => found,
        Err(e) => return report(&e),
    };
    program.set_mask(args.mask.mask());
    let mut options = CompileOptions::new(parse_vocab(&args.vocab), args.bos.clone(), args.max_len);
    options.encodings = encodings;
    options.program = Some(ProgramInfo { file: rasp::PROGRAM_FILE.to_string(), sop: args.sop.clone() });
    let start = Instant::now();
    let mut model = match program.compile(root, &options) {
        Ok(model) => model,
        Err(e) => return report(&e),
    };
    let seconds = start.elapsed().as_secs_f64();
    // Decoder mode: never silently compile a program that reads ahead.
    let mut lookahead_line = String::new();
    if !program.mask().is_bidirectional() {
        let check = program.check_lookahead(
            root,
            &options.vocab,
            options.bos.as_deref(),
            options.max_len,
            &rasp::LookaheadOptions::default(),
        );
        if let Some(warning) = check.warning() {
            eprint!("{warning}");
        } else {
            lookahead_line = format!(
                "look-ahead check: the {} output equals the bidirectional one on {}\n",
                program.mask(),
                check.coverage()
            );
        }
        if let Some(compiler) = model.config.compiler.as_object_mut() {
            compiler.insert("lookahead".to_string(), check.to_json());
        }
    }
    let files = match rasp::model_files(&model, &program, args.onnx) {
        Ok(files) => files,
        Err(e) => return report(&e),
    };
    let rasp_dir = match args.format {
        Format::Rasp => args.output.clone(),
        Format::Hf => args.output.join(rasp::PRETRAINED_RASP_FOLDER),
    };
    for file in files {
        if let Err(e) = write_atomic(&rasp_dir.join(file.name), &file.bytes) {
            return fail(&e);
        }
    }
    if args.format == Format::Hf {
        let files = match rasp::pretrained_files(&model) {
            Ok(files) => files,
            Err(e) => return report(&e),
        };
        for (name, bytes) in files {
            if let Err(e) = write_atomic(&args.output.join(name), &bytes) {
                return fail(&e);
            }
        }
    }
    say_then_exit(&format!(
        "{}\n{lookahead_line}compiled in {:.1} ms; wrote {}\n",
        rasp::summary(&model),
        seconds * 1e3,
        args.output.display()
    ))
}

pub fn run_verify(args: VerifyArgs) -> ExitCode {
    let folder = match ModelFolder::read(&args.dir) {
        Ok(folder) => folder,
        Err(e) => return report(&e),
    };
    let recorded = folder.program.mask();
    if (args.mask.causal || args.mask.prefix_len.is_some()) && args.mask.mask() != recorded {
        return fail(&format!(
            "{} was compiled with {recorded} attention, not {}; verify checks a model under the mask it records",
            args.dir.display(),
            args.mask.mask()
        ));
    }
    let coverage = match (args.exhaustive, args.sampled) {
        (true, _) => Coverage::Exhaustive,
        (false, true) => Coverage::Sampled,
        (false, false) => Coverage::Auto,
    };
    let options = VerifyOptions {
        coverage,
        exhaustive_limit: args.exhaustive_limit,
        sample_per_length: args.sample.max(1),
        seed: args.seed,
        ..VerifyOptions::default()
    };
    let start = Instant::now();
    let mut progress = crate::progress::ProgressLine::on_stderr();
    let checked = folder.program.verify_with_progress(folder.sop, &folder.model, &options, &mut progress);
    let seconds = start.elapsed().as_secs_f64();
    let text = if args.json {
        let mut json = rasp::verify_json(&folder.model, &checked);
        json["seconds"] = serde_json::json!(seconds);
        format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default())
    } else {
        format!("{}{seconds:.2} s\n", rasp::verify_text(&folder.model, &checked))
    };
    match say_then_exit(&text) {
        status if status != ExitCode::SUCCESS => status,
        _ if checked.mismatches > 0 => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
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
    let text = rasp::PAPER_EXAMPLES.to_string();
    let case = |sop: &str, vocab: &str, bos: Option<&str>, max_len: usize| Case {
        name: sop.to_string(),
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

/// tracr's library programs translated to RASP.
const TRACR_LIB: &str = include_str!("../../../examples/tracr/lib.rasp");

/// The programs of tracr's lib.py: name, s-op in examples/tracr/lib.rasp,
/// vocabulary (the same as python/tools/tracr_compare.py gives tracr).
const TRACR_PROGRAMS: [(&str, &str, &str); 12] = [
    ("length", "length_tracr", "a,b,c"),
    ("reverse", "reverse_tracr", "a,b,c"),
    ("hist", "hist_tracr", "a,b,c"),
    ("sort_unique", "sort_unique_tracr", "1,2,3,4,5"),
    ("sort", "sort_tracr", "1,2,3,4,5"),
    ("sort_freq", "sort_freq_tracr", "a,b,c"),
    ("frac_prevs", "frac_prevs_tracr", "a,b,c"),
    ("pair_balance", "pair_balance_tracr", "(,)"),
    ("dyck1", "dyck1_tracr", "(,)"),
    ("dyck2", "dyck2_tracr", "(,),{,}"),
    ("count_less_freq", "count_less_freq_tracr", "a,b,c"),
    ("count_a", "count_a_tracr", "a,b,c"),
];

fn tracr_cases(lengths: &[usize], programs: Option<&[String]>) -> Result<Vec<Case>, String> {
    if let Some(names) = programs
        && let Some(unknown) = names.iter().find(|n| !TRACR_PROGRAMS.iter().any(|(name, _, _)| name == n))
    {
        let known: Vec<&str> = TRACR_PROGRAMS.iter().map(|(name, _, _)| *name).collect();
        return Err(format!("--programs: {unknown} is not one of {}", known.join(", ")));
    }
    if lengths.contains(&0) {
        return Err("--lengths: a maximum length must be at least 1".to_string());
    }
    let mut cases = Vec::new();
    for (name, sop, vocab) in TRACR_PROGRAMS {
        if programs.is_some_and(|names| !names.iter().any(|n| n == name)) {
            continue;
        }
        for &max_len in lengths {
            cases.push(Case {
                name: name.to_string(),
                file: "examples/tracr/lib.rasp".to_string(),
                text: TRACR_LIB.to_string(),
                sop: sop.to_string(),
                vocab: parse_vocab(vocab),
                bos: None,
                max_len,
            });
        }
    }
    Ok(cases)
}

/// `count` deterministic full-length inputs.
fn bench_words(case: &Case, count: usize) -> Vec<Vec<String>> {
    (0..count)
        .map(|i| (0..case.max_len).map(|p| case.vocab[(i * 7 + p * 3 + p * p) % case.vocab.len()].clone()).collect())
        .collect()
}

/// What one benchmark case measured.
struct Measured {
    layers: usize,
    heads: usize,
    d_model: usize,
    params: usize,
    nonzero: usize,
    compile_ms: f64,
    forward_ms: f64,
    forward_large_ms: f64,
    gflops: f64,
    wrong: usize,
    checked: usize,
}

fn measure(case: &Case, repeat: usize, large_batch: usize) -> Result<Measured, String> {
    let program = rasp::Program::from_source(&case.file, &case.text, rasp::FileLoader).map_err(|e| e.to_string())?;
    let root = program.sop(&case.sop, "bench-compile").map_err(|e| e.to_string())?;
    let opts = CompileOptions::new(case.vocab.clone(), case.bos.clone(), case.max_len);
    let mut times = Vec::new();
    let mut model = None;
    for _ in 0..repeat {
        let start = Instant::now();
        model = Some(program.compile(root, &opts).map_err(|e| format!("{}: {e}", case.name))?);
        times.push(start.elapsed().as_secs_f64());
    }
    let Some(model) = model else { return Err("nothing compiled".to_string()) };
    let time_forward = |count: usize| -> Result<f64, String> {
        let ids: Vec<Vec<u32>> = bench_words(case, count)
            .iter()
            .map(|w| model.encode(w))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        // The sparse weights are made once, outside the timing, as tracr's
        // jit compiles once before it is timed.
        let prepared = model.prepare();
        let mut forward = Vec::new();
        for _ in 0..repeat.max(3) {
            let start = Instant::now();
            prepared.residuals(&ids).map_err(|e| e.to_string())?;
            forward.push(start.elapsed().as_secs_f64());
        }
        Ok(median(&mut forward))
    };
    let forward = time_forward(64)?;
    let large = time_forward(large_batch.max(1))?;
    let positions = model.encode(&bench_words(case, 1)[0]).map_err(|e| e.to_string())?.len();
    let flops = model.dense_forward_flops(positions) * large_batch.max(1) as f64;
    let options = VerifyOptions {
        coverage: Coverage::Auto,
        exhaustive_limit: 30_000,
        sample_per_length: 1_000,
        ..VerifyOptions::default()
    };
    let report = program.verify(root, &model, &options);
    let parameters = model.parameter_count();
    Ok(Measured {
        layers: model.config.n_layers,
        heads: model.config.layers.iter().map(|l| l.heads.len()).sum(),
        d_model: model.config.d_model,
        params: parameters.dense,
        nonzero: parameters.nonzero,
        compile_ms: median(&mut times) * 1e3,
        forward_ms: forward * 1e3,
        forward_large_ms: large * 1e3,
        gflops: flops / large / 1e9,
        wrong: report.mismatches,
        checked: report.inputs_checked,
    })
}

pub fn run_bench(args: BenchCompileArgs) -> ExitCode {
    let cases = match &args.file {
        None if args.suite == Suite::Paper => paper_cases(),
        None => match tracr_cases(&args.lengths, args.programs.as_deref()) {
            Ok(cases) => cases,
            Err(e) => return fail(&e),
        },
        Some(path) => {
            let text = match rasp::read_source(path) {
                Ok(t) => t,
                Err(e) => return fail(e.message()),
            };
            let (Some(sop), Some(vocab), Some(max_len)) = (&args.sop, &args.vocab, args.max_len) else {
                return fail("with FILE, give --sop, --vocab and --max-len");
            };
            vec![Case {
                name: sop.clone(),
                file: path.display().to_string(),
                text,
                sop: sop.clone(),
                vocab: parse_vocab(vocab),
                bos: args.bos.clone(),
                max_len,
            }]
        }
    };
    // The forward pass spreads large batches over every core, so the
    // machine's peak is one core's sgemm rate times the cores.
    let core_peak = rasp_bench::matmul_peak_gflops(1024);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let peak = core_peak * cores as f64;
    if !args.json {
        let header = format!(
            "fp32 matmul peak: {peak:.1} GFLOP/s ({core_peak:.1} per core x {cores} cores; matrixmultiply sgemm, 1024 x 1024)\n\
             {:<16} {:>3} {:>3} {:>7} {:>6} {:>5} {:>8} {:>8} {:>10} {:>12} {:>13} {:>8} {:>7} {:>13}\n",
            "program",
            "N",
            "V",
            "d_model",
            "layers",
            "heads",
            "params",
            "nonzero",
            "compile ms",
            "fwd ms (x64)",
            format!("fwd ms (x{})", args.large_batch),
            "GFLOP/s",
            "of peak",
            "wrong"
        );
        if let Err(e) = say(&header) {
            return fail(&e);
        }
    }
    let repeat = args.repeat.max(1);
    for case in cases {
        let m = match measure(&case, repeat, args.large_batch) {
            Ok(m) => m,
            Err(e) => return fail(&e),
        };
        let line = if args.json {
            let json = serde_json::json!({
                "program": case.name, "max_len": case.max_len, "vocab": case.vocab, "layers": m.layers,
                "heads": m.heads, "d_model": m.d_model, "params": m.params, "nonzero": m.nonzero,
                "compile_ms": m.compile_ms, "forward_ms": m.forward_ms, "forward_large_ms": m.forward_large_ms,
                "large_batch": args.large_batch, "gflops": m.gflops, "peak_gflops": peak, "wrong": m.wrong,
                "checked": m.checked,
            });
            format!("{json}\n")
        } else {
            format!(
                "{:<16} {:>3} {:>3} {:>7} {:>6} {:>5} {:>8} {:>8} {:>10.2} {:>12.3} {:>13.2} {:>8.1} {:>6.0}% {:>13}\n",
                case.name,
                case.max_len,
                case.vocab.len(),
                m.d_model,
                m.layers,
                m.heads,
                m.params,
                m.nonzero,
                m.compile_ms,
                m.forward_ms,
                m.forward_large_ms,
                m.gflops,
                100.0 * m.gflops / peak,
                format!("{} of {}", m.wrong, m.checked)
            )
        };
        if let Err(e) = say(&line) {
            return fail(&e);
        }
    }
    ExitCode::SUCCESS
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("rasp: {message}");
    ExitCode::FAILURE
}

/// Whether DIR holds a model written by `rasp compile` (not `rasp train`).
pub fn is_compiled_dir(dir: &Path) -> bool {
    dir.join(rasp::PROGRAM_FILE).is_file() && !dir.join("metrics.json").exists()
}

/// `rasp attention DIR` for a compiled model: each head's real softmax
/// attention on the input, beside the program selector it implements.
pub fn compiled_attention(dir: &Path, input: &str, output: &Path) -> Result<String, (String, ExitCode)> {
    let refuse = |e: rasp::Error| (e.to_string(), exit_status(e.kind()));
    let extension = output_extension(output, &["svg", "html"]).map_err(|e| (e, ExitCode::from(2)))?;
    let folder = ModelFolder::read(dir).map_err(refuse)?;
    let comparison = rasp::AttentionComparison::compute(&folder, input).map_err(refuse)?;
    let contents = if extension == "html" { comparison.to_html() } else { comparison.to_svg() };
    write_atomic(output, contents.as_bytes()).map_err(|e| (e, ExitCode::FAILURE))?;
    Ok(format!("{}wrote {}\n", comparison.report(), output.display()))
}
