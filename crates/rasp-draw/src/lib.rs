//! rasp-draw: pictures of how a transformer computes a RASP s-op.
//!
//! Input: a graph (`rasp_core::Graph`), the s-op to draw (the root), an
//! input (its elements) and the root's analysis (`rasp_analyze`). Output:
//! an SVG, or a self-contained HTML page with the same SVG and hover
//! details. The picture shows what the reference's `draw` shows (semantics.md §4):
//! the input; each layer with its attention heads (the selector's grid on
//! the input, keys above the columns, queries left of the rows, the
//! averaged values below, the results right, the selector and any default)
//! and its MLPs (a table of values per position); then the output. The
//! reference's "minor" s-ops (constants, unnamed elementwise steps inside a
//! larger elementwise computation) are hidden.
//!
//! Invariants: pure (no IO; the caller writes the file); deterministic;
//! no two texts overlap (widths are measured: monospace glyphs are 0.6em);
//! every head of the analysis and every selected cell is drawn (the tests
//! check all of these on every example program). No graphviz: the layers
//! are the layout.

#![warn(missing_docs)]

mod heatmap;
mod layout;
mod model;
mod scene;
mod svg;

pub use heatmap::{
    ColumnGroup, HeadFlow, Panel, PanelRow, ResidualPanel, attention_scene, heatmaps_svg, position_labels,
    residual_scene, row_normalised,
};
pub use layout::Scene;
pub use model::{MAX_POSITIONS, input_repr};
pub use scene::{Anchor, Bounds, Font, Group, Item, Path, Rect, Span, Text, overlapping_texts, text_width};
pub use svg::SvgParts;

use rasp_analyze::Analysis;
use rasp_core::{AttentionMask, EvalError, Graph, NodeId, Value};
use std::fmt;

impl Scene {
    /// The picture as a standalone SVG document (hover text as `<title>`).
    pub fn to_svg(&self) -> String {
        svg::to_svg(self)
    }

    /// The picture in a self-contained HTML page titled `title`, with hover
    /// details (no network).
    pub fn to_html(&self, title: &str) -> String {
        svg::to_html(self, title, "Hover over a cell for its position, its value and what it holds.")
    }
}

/// Why a drawing could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawError {
    /// Evaluating the s-op (or one it reads) on the input failed.
    Eval(EvalError),
    /// The node to draw is a selector.
    NotAnSop(String),
    /// The input has more positions than a drawing shows.
    TooLong {
        /// The input's number of positions (elements).
        len: usize,
        /// The most positions a drawing shows, [`MAX_POSITIONS`].
        max: usize,
    },
    /// A bug: the analysis and the graph disagree.
    Internal(String),
}

impl fmt::Display for DrawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrawError::Eval(e) => write!(f, "evaluating the input failed: {e}"),
            DrawError::NotAnSop(name) => write!(f, "draw expects an s-op, {name} is a selector"),
            DrawError::TooLong { len, max } => {
                write!(f, "input too long to draw: {len} positions (a drawing shows at most {max})")
            }
            DrawError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for DrawError {}

/// A drawing of one s-op on one input, laid out and ready to write.
#[derive(Debug, Clone)]
pub struct Drawing {
    title: String,
    scene: Scene,
}

impl Drawing {
    /// Evaluates `root` and everything it reads on `input` (the input's
    /// elements, as `Value::iter_elements` gives them) and lays out the
    /// picture of `analysis` (which must be the analysis of `root`).
    pub fn new(graph: &Graph, root: NodeId, input: &[Value], analysis: &Analysis) -> Result<Drawing, DrawError> {
        Drawing::new_masked(graph, root, input, analysis, AttentionMask::Bidirectional)
    }

    /// [`Drawing::new`] with the values computed under an attention mask
    /// (decoder mode, semantics.md §6); the cells it hides are drawn as
    /// masked (class `cell masked`, the page colour).
    pub fn new_masked(
        graph: &Graph,
        root: NodeId,
        input: &[Value],
        analysis: &Analysis,
        mask: AttentionMask,
    ) -> Result<Drawing, DrawError> {
        let model = model::Model::build(graph, root, input, analysis, mask)?;
        let scene = layout::layout(&model);
        Ok(Drawing { title: model.title, scene })
    }

    /// The picture as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        svg::to_svg(&self.scene)
    }

    /// [`Drawing::to_svg`] with where each element is in it: a front end
    /// that shows one drawing after another can compare them element by
    /// element and change only the elements that differ.
    pub fn to_svg_parts(&self) -> SvgParts {
        svg::to_svg_parts(&self.scene)
    }

    /// The picture in a self-contained HTML page (inline CSS and script,
    /// no network) with hover details for every cell, head and MLP.
    pub fn to_html(&self) -> String {
        svg::to_html(
            &self.scene,
            &format!("{} — RASP computation flow", self.title),
            "Hover over a cell for its positions and values, over a head or an MLP for what it computes.",
        )
    }

    /// `NAME(INPUT)`, e.g. `reverse("hello")`.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The laid-out picture, for checks on its geometry.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }
}

/// Where the reference writes a drawing, relative to the working directory.
pub const DEFAULT_DIR: &str = "comp_flows";

/// The reference's file name for a drawing, with `.svg`: `NAME(INPUT).svg`
/// with NAME the s-op's name and INPUT `"hello"` (quoted) for a string or
/// Python's `str` of a list (`[1, 2, 3]`). A `/` (in names such as
/// `( indices / 2 )`) becomes `∕` so the name stays one file.
pub fn default_file_name(graph: &Graph, root: NodeId, input: &Value) -> String {
    let input_text = match input {
        Value::Atom(rasp_core::Atom::Str(s)) => format!("\"{s}\""),
        other => other.py_str(graph),
    };
    let name = format!("{}({input_text}).svg", graph.name(root));
    name.chars().map(|c| if c == '/' || c == '\0' || c == '\\' { '∕' } else { c }).collect()
}

/// [`default_file_name`] inside [`DEFAULT_DIR`]: `comp_flows/NAME(INPUT).svg`.
pub fn default_path(graph: &Graph, root: NodeId, input: &Value) -> String {
    format!("{DEFAULT_DIR}/{}", default_file_name(graph, root, input))
}
