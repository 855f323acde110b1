//! `rasp analyze FILE --sop NAME`: the layers and heads of an s-op.

use crate::files::say_then_exit;
use clap::{Args, ValueEnum};
use rasp::{AnalyzeOptions, Schedule};
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
change: a mask changes which keys each query sees, not the heads.";

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
    let (program, root) = match crate::program::load_sop(&args.file, &args.sop, "analyze") {
        Ok(found) => found,
        Err(e) => return crate::program::report(&e),
    };
    let analysis =
        program.analyze(root, AnalyzeOptions { schedule: args.schedule.into(), bos_selector_width: args.bos });
    let graph = program.graph();
    let mask = args.mask.mask();
    if args.json {
        return say_then_exit(&analysis.to_json(graph));
    }
    let mut text = analysis.report(graph);
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
