//! `rasp analyze FILE --sop NAME`: the layers and heads of an s-op.

use crate::files::say_then_exit;
use clap::{Args, ValueEnum};
use rasp::{AnalyzeOptions, CompileOptions, Model, Schedule, parse_vocab};
use std::path::PathBuf;
use std::process::ExitCode;

const ABOUT: &str = "Count the layers and attention heads a transformer needs to compute an s-op";

const LONG_ABOUT: &str = "\
Count the layers and attention heads a transformer needs to compute an s-op.

Runs FILE as if typed at the REPL (its output is not shown), then analyses the
s-op NAME as \"Thinking Like Transformers\" compiles RASP:

  * every aggregate is an attention head; aggregates that use the same
    selector in the same layer share one head;
  * everything elementwise (+, ==, round, indicator, ternaries, ...) is an
    MLP; it runs after the attention of its layer, so it never adds a layer;
  * a select can only read s-ops computed in earlier layers, so an aggregate
    whose selector or values need a head's result goes one layer later.

Layer 0 is the embedding (tokens, indices, constants and MLPs of those);
layers 1, 2, ... are the attention layers, numbered as every rasp command
numbers them. The first line gives the analysed size (layers and heads per
layer); the report then lists, for every layer, its heads (selector, keys,
queries, predicate, the aggregates computed with it) and its MLPs. A
compiled model (`rasp compile`) can be larger than the analysed size; its
report then says which construct each extra layer waits for
(\"deeper than analysed\").

By default the counts are exactly those of the reference implementation
(tech-srl/RASP): every s-op is placed as early as possible, and the
library's selector_width costs two heads.

With --causal or --prefix-len (decoder mode, an extension) the counts do not
change: a mask changes which keys each query sees, not the heads.

With --compiled --vocab V --max-len N (an extension) the s-op is also
compiled (as `rasp compile` would, with --bos-token as its BOS, under the
same mask) and the report ends with the compiled heads per layer, and, when
the model is deeper than analysed, the compiler's reason for each extra
layer: the block it waits for and why. --bos-token implies --bos.";

#[derive(Args, Debug)]
#[command(about = ABOUT, long_about = LONG_ABOUT)]
pub struct AnalyzeArgs {
    /// The .rasp file that defines the s-op; `load` inside it reads paths
    /// relative to the current directory.
    pub file: PathBuf,
    /// The s-op to analyse: a name FILE defines (or a library name such as
    /// `length`).
    #[arg(long, value_name = "NAME")]
    pub sop: String,
    /// Print the analysis as JSON instead of the report.
    #[arg(long)]
    pub json: bool,
    /// How heads are assigned to layers.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Greedy)]
    pub schedule: ScheduleArg,
    /// Assume a BOS token at position 0: the library's selector_width then
    /// needs one head instead of two (the paper's count for histograms).
    #[arg(long)]
    pub bos: bool,
    /// Also compile the s-op and report the compiled heads per layer
    /// beside the analysed ones (needs --vocab and --max-len).
    #[arg(long, requires_all = ["vocab", "max_len"])]
    pub compiled: bool,
    /// With --compiled: the input tokens (`a,b,c`, or `abc`).
    #[arg(long, value_name = "TOKENS", requires = "compiled")]
    pub vocab: Option<String>,
    /// With --compiled: the longest input word (BOS not counted).
    #[arg(long, value_name = "N", requires = "compiled")]
    pub max_len: Option<usize>,
    /// With --compiled: the BOS token every input starts with (implies --bos).
    #[arg(long, value_name = "TOKEN", requires = "compiled")]
    pub bos_token: Option<String>,
    #[command(flatten)]
    pub mask: crate::program::MaskArgs,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleArg {
    /// The reference's: every head in the earliest layer it can go.
    Greedy,
    /// Same number of layers, heads moved between layers so the widest
    /// layer has as few heads as possible.
    Best,
}

pub fn run(args: AnalyzeArgs) -> ExitCode {
    let (mut program, root) = match crate::program::load_sop(&args.file, &args.sop, "analyze") {
        Ok(found) => found,
        Err(e) => return crate::program::report(&e),
    };
    let bos_selector_width = args.bos || args.bos_token.is_some();
    let analysis = program.analyze(root, AnalyzeOptions { schedule: args.schedule.into(), bos_selector_width });
    let mask = args.mask.mask();
    let compiled = match (&args.vocab, args.max_len) {
        (Some(vocab), Some(max_len)) if args.compiled => {
            program.set_mask(mask);
            let options = CompileOptions::new(parse_vocab(vocab), args.bos_token.clone(), max_len);
            match program.compile(root, &options) {
                Ok(model) => Some(CompiledSize::of(&model)),
                Err(e) => return crate::program::report(&e),
            }
        }
        _ => None,
    };
    let graph = program.graph();
    if args.json {
        let json = analysis.to_json(graph);
        let Some(size) = &compiled else { return say_then_exit(&json) };
        // The analysis's JSON plus one object (docs/json.md).
        let mut value: serde_json::Value = match serde_json::from_str(&json) {
            Ok(value) => value,
            Err(e) => {
                eprintln!("rasp: internal error: the analysis JSON does not parse: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "compiled".to_string(),
                serde_json::json!({
                    "heads_per_layer": size.heads_per_layer,
                    "layer_notes": size.layer_notes,
                    "same_as_analysed": size.heads_per_layer == analysis.heads_per_layer,
                }),
            );
        }
        return say_then_exit(&format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default()));
    }
    let mut text = analysis.report(graph);
    if let Some(size) = &compiled {
        let same = size.heads_per_layer == analysis.heads_per_layer;
        text.push_str(&format!(
            "compiled: {} layer{}, heads per layer {:?}: {}\n",
            size.heads_per_layer.len(),
            if size.heads_per_layer.len() == 1 { "" } else { "s" },
            size.heads_per_layer,
            if same { "the analysed size" } else { "not the analysed size" }
        ));
        for note in &size.layer_notes {
            text.push_str(&format!("  deeper than analysed: {note}\n"));
        }
    }
    if !mask.is_bidirectional() {
        // A mask changes values, never which heads exist or their layers.
        text.push_str(&format!(
            "attention: {mask} (decoder mode); the layers and heads are the same as without a mask. \
             `rasp compile --causal` checks whether the output changes under it.\n"
        ));
    }
    say_then_exit(&text)
}

impl From<ScheduleArg> for Schedule {
    fn from(arg: ScheduleArg) -> Schedule {
        match arg {
            ScheduleArg::Greedy => Schedule::Greedy,
            ScheduleArg::Best => Schedule::Best,
        }
    }
}

/// The compiled model's heads per layer and the compiler's notes on layers
/// it adds (model.json's `compiler.layer_notes`).
struct CompiledSize {
    heads_per_layer: Vec<usize>,
    layer_notes: Vec<String>,
}

impl CompiledSize {
    fn of(model: &Model) -> CompiledSize {
        let notes = model.config.compiler.get("layer_notes").and_then(|n| n.as_array());
        CompiledSize {
            heads_per_layer: model.config.layers.iter().map(|l| l.heads.len()).collect(),
            layer_notes: notes.into_iter().flatten().filter_map(|n| n.as_str().map(str::to_string)).collect(),
        }
    }
}
