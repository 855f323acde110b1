//! `rasp draw FILE --sop NAME`: a picture of the layers and heads computing
//! an s-op on an input (SVG, or HTML with hover details).

use crate::analyze::ScheduleArg;
use clap::Args;
use rasp_analyze::{AnalyzeOptions, Schedule, analyze_with};
use rasp_core::Value;
use rasp_draw::Drawing;
use rasp_lang::Session;
use std::path::{Path, PathBuf};
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

The picture is an SVG; with -o NAME.html it is a self-contained HTML page
(no network) that shows details when hovering over cells, heads and MLPs.
Without -o it is written where the reference writes its drawings:
comp_flows/NAME(INPUT).svg. The path written is printed.";

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
    /// Default: comp_flows/NAME(INPUT).svg (the directory is created).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// How heads are assigned to layers.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Greedy)]
    pub schedule: ScheduleArg,
    /// Assume a BOS token at position 0: the library's selector_width then
    /// is one head instead of two.
    #[arg(long)]
    pub bos: bool,
}

/// The input value: a plain string, or a RASP expression evaluated in the
/// session when it starts with `[` or `"`.
fn read_input(session: &mut Session, text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if !(trimmed.starts_with('[') || trimmed.starts_with('"')) {
        return Ok(Value::str(text));
    }
    let before = session.sop_example.clone();
    session.feed_line(&format!("set example {trimmed}"));
    let incomplete = session.is_continuing();
    if incomplete {
        session.discard_pending();
    }
    let output = if incomplete { "the expression is incomplete".to_string() } else { session.take_output() };
    let value = std::mem::replace(&mut session.sop_example, before);
    if !output.trim().is_empty() {
        return Err(format!(
            "cannot read --input {text:?} as a RASP list or string: {}\n\
             (for a string that starts with a bracket, quote it: --input '\"{trimmed}\"')",
            output.trim()
        ));
    }
    if matches!(value, Value::List(_) | Value::Atom(rasp_core::Atom::Str(_))) {
        Ok(value)
    } else {
        Err(format!("--input {text:?} is not a list or a string"))
    }
}

pub fn run(args: DrawArgs) -> ExitCode {
    let name = &args.sop;
    let (mut session, root) = match crate::program::load_sop(&args.file, name, "draw") {
        Ok(p) => p,
        Err(e) => return e.report(),
    };
    let input = match read_input(&mut session, &args.input) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("rasp: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(elements) = input.iter_elements() else {
        eprintln!("rasp: the input is not a string or a list");
        return ExitCode::from(2);
    };
    if elements.is_empty() {
        eprintln!("rasp: the input is empty; draw needs at least one token");
        return ExitCode::from(2);
    }
    let schedule = match args.schedule {
        ScheduleArg::Greedy => Schedule::Greedy,
        ScheduleArg::Best => Schedule::Best,
    };
    let graph = &session.graph;
    let analysis = analyze_with(graph, root, AnalyzeOptions { schedule, bos_selector_width: args.bos });
    let drawing = match Drawing::new(graph, root, &elements, &analysis) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("rasp: cannot draw {name} on {}: {e}", rasp_draw::input_repr(graph, &elements));
            return ExitCode::FAILURE;
        }
    };
    let path = match args.output {
        Some(p) => p,
        None => PathBuf::from(rasp_draw::default_path(graph, root, &input)),
    };
    let html = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    let contents = if html { drawing.to_html() } else { drawing.to_svg() };
    if let Err(e) = write_file(&path, &contents) {
        eprintln!("rasp: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("{}", path.display());
    ExitCode::SUCCESS
}

fn write_file(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, contents)
}
