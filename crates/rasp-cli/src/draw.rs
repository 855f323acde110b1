//! `rasp draw FILE --sop NAME`: a picture of the layers and heads computing
//! an s-op on an input (SVG, or HTML with hover details).

use crate::analyze::ScheduleArg;
use crate::files::{output_extension, write_atomic};
use clap::Args;
use rasp::AnalyzeOptions;
use std::path::PathBuf;
use std::process::ExitCode;

const ABOUT: &str = "Draw the layers and attention heads computing an s-op on an input (SVG or HTML)";

const LONG_ABOUT: &str = "\
Draw the layers and attention heads computing an s-op on an input.

Runs FILE as if typed at the REPL (its output is not shown), evaluates the
s-op NAME on the input and draws what the reference's draw(NAME, INPUT)
draws, without graphviz:

  * the input (tokens and indices);
  * every layer: each attention head as a grid, one row per query position
    and one column per key position, selected cells filled; key values above
    the columns, query values left of the rows, the aggregated values below
    and the head's results right; the selector as written and its name;
    then the layer's MLPs as a table of values per position;
  * the output.

Unnamed intermediate s-ops that the reference hides as \"minor\" (constants,
operator steps inside a larger elementwise computation) are not shown.

Layers are numbered as in `rasp analyze`: layer 0 is the embedding, then
the attention layers from 1.

The output's extension selects the format: OUT.svg is an SVG; OUT.html is a
self-contained HTML page (no network) that shows details when hovering over
cells, heads and MLPs; other extensions are refused.

With --causal or --prefix-len (decoder mode) values are computed under the
mask and the cells it hides are drawn blank (class `cell masked`). Without -o it is
written where the reference writes its drawings: comp_flows/NAME(INPUT).svg.
Missing directories are created; the path written is printed.";

#[derive(Args, Debug)]
#[command(about = ABOUT, long_about = LONG_ABOUT)]
pub struct DrawArgs {
    /// The .rasp file that defines the s-op; `load` inside it reads paths
    /// relative to the current directory.
    pub file: PathBuf,
    /// The s-op to draw: a name FILE defines (or a library name such as
    /// `length`).
    #[arg(long, value_name = "NAME")]
    pub sop: String,
    /// The input. Plain text is a string, one token per character. Text
    /// starting with `[` or `"` is read as a RASP expression: a list such as
    /// `[1, 2, 3]` or `["a", "b"]`, or a quoted string (`"[()]"` for a string
    /// that starts with a bracket).
    #[arg(long, value_name = "STR", default_value = "hello", allow_hyphen_values = true)]
    pub input: String,
    /// Where to write: OUT.svg, or OUT.html for the interactive page.
    /// Default: comp_flows/NAME(INPUT).svg.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// How heads are assigned to layers.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Greedy)]
    pub schedule: ScheduleArg,
    /// Assume a BOS token at position 0: the library's selector_width then
    /// is one head instead of two.
    #[arg(long)]
    pub bos: bool,
    #[command(flatten)]
    pub mask: crate::program::MaskArgs,
}

pub fn run(args: DrawArgs) -> ExitCode {
    // The extension is checked before any work, so a typo costs nothing.
    let html = match args.output.as_deref().map(|path| output_extension(path, &["svg", "html"])) {
        Some(Ok(extension)) => extension == "html",
        Some(Err(e)) => {
            eprintln!("rasp: {e}");
            return ExitCode::from(2);
        }
        None => false,
    };
    let (mut program, root) = match crate::program::load_sop(&args.file, &args.sop, "draw") {
        Ok(found) => found,
        Err(e) => return crate::program::report(&e),
    };
    program.set_mask(args.mask.mask());
    let input = match program.parse_input(&args.input) {
        Ok(value) => value,
        Err(e) => return crate::program::report(&e),
    };
    let options = AnalyzeOptions { schedule: args.schedule.into(), bos_selector_width: args.bos };
    let drawing = match program.draw(root, &input, options) {
        Ok(drawing) => drawing,
        Err(e) => {
            let shown = input.iter_elements().map(|elements| rasp::input_repr(program.graph(), &elements));
            eprintln!("rasp: cannot draw {} on {}: {e}", args.sop, shown.unwrap_or_else(|| args.input.clone()));
            return crate::program::exit_status(e.kind());
        }
    };
    let path = args.output.unwrap_or_else(|| PathBuf::from(rasp::default_drawing_path(program.graph(), root, &input)));
    let contents = if html { drawing.to_html() } else { drawing.to_svg() };
    if let Err(e) = write_atomic(&path, contents.as_bytes()) {
        eprintln!("rasp: {e}");
        return ExitCode::FAILURE;
    }
    crate::files::say_then_exit(&format!("{}\n", path.display()))
}
