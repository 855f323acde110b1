//! Heatmaps: a grid of numbers per panel, in rows of panels, laid out with
//! the same scene as the flow drawing (so the same SVG writer and the same
//! no-overlap checks). Used for attention (a trained or compiled model's
//! real attention beside the program's selectors: rows are queries, columns
//! keys) and for the residual stream of a compiled model (rows are
//! positions, columns residual dimensions grouped by the s-op they hold).
//!
//! Every picture has its title, a colour scale with its numbers, axis
//! titles, a label per row and column, and the value written in each cell
//! that is not zero, so it reads in greyscale and on paper. Cells are at
//! least 24 px; the width follows the content.

use crate::layout::Scene;
use crate::scene::{Anchor, Font, Group, Rect, Text, shorten, text_width};

/// A selector as attention weights: each row's selected keys share 1.
/// A row selecting nothing stays 0.
pub fn row_normalised(m: &rasp_core::SelectorMatrix) -> Vec<Vec<f64>> {
    (0..m.len())
        .map(|q| {
            let count = m.count(q);
            (0..m.len()).map(|k| if m.get(q, k) { 1.0 / count as f64 } else { 0.0 }).collect()
        })
        .collect()
}

/// One heatmap: a title, a caption, and weights in [0, 1] (rows: queries).
#[derive(Debug, Clone)]
pub struct Panel {
    /// Bold heading above the grid, e.g. `trained head 1`.
    pub title: String,
    /// A line in monospace under the title (e.g. the selector as written,
    /// or how close a trained head comes to it); may be empty. Wrapped to
    /// the panel's width (and at each newline), on at most four lines.
    pub caption: String,
    /// `weights[q][k]`: the attention of query position `q` on key position
    /// `k`, in [0, 1] (clamped when coloured: 0 white, 1 violet). Only the
    /// first `tokens.len()` rows and columns are drawn.
    pub weights: Vec<Vec<f64>>,
    /// What the head moves and makes, for the cells' tooltips: the values
    /// it averages (`name`, one value per key position) and its result
    /// (`name`, one value per query position); `None` when not known.
    pub flow: Option<HeadFlow>,
}

/// The values a head averages and what it produces, named.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadFlow {
    /// The s-op averaged, by its readable name.
    pub values_name: String,
    /// Its value at each key position.
    pub values: Vec<String>,
    /// The s-op the head computes, by its readable name.
    pub result_name: String,
    /// Its value at each query position.
    pub results: Vec<String>,
}

/// A row of heatmaps.
#[derive(Debug, Clone)]
pub struct PanelRow {
    /// Heading above the row, e.g. `Layer 1`.
    pub label: String,
    /// The heatmaps, left to right.
    pub panels: Vec<Panel>,
}

const INK: &str = "#1f2937";
const MUTED: &str = "#6b7280";
const KEY: &str = "#1d4ed8";
const QUERY: &str = "#15803d";
const GRID_LINE: &str = "#e5e7eb";
const MARGIN: f64 = 20.0;
const CELL_MIN: f64 = 26.0;
const LABEL: f64 = 11.0;
const VALUE: f64 = 9.5;
const PANEL_GAP: f64 = 36.0;
const CAPTION_LINES: usize = 4;

/// The colours of the scale, light to dark: white to violet, luminance
/// falling all the way, so greyscale keeps the order.
const SCALE: [&str; 11] = [
    "#ffffff", "#f1ecf9", "#e2d8f3", "#d3c4ee", "#c4b0e8", "#b59de2", "#a589dc", "#9575d6", "#845fcf", "#7046c4",
    "#5b21b6",
];

/// The colour of a value in [0, 1] (clamped; NaN as 0).
fn colour(w: f64) -> &'static str {
    let w = if w.is_nan() { 0.0 } else { w.clamp(0.0, 1.0) };
    SCALE[(w * 10.0).round() as usize]
}

/// A weight as written in its cell: `1`, `.50`, `.33`; empty for zero.
fn cell_text(w: f64) -> String {
    if w.is_nan() {
        return "NaN".to_string();
    }
    if w.abs() < 0.005 {
        return String::new();
    }
    if (w - 1.0).abs() < 0.005 {
        return "1".to_string();
    }
    let text = format!("{w:.2}");
    text.strip_prefix("0.").map(|rest| format!(".{rest}")).unwrap_or(text)
}

fn text(x: f64, y: f64, anchor: Anchor, font: Font, size: f64, fill: &'static str, s: &str) -> Text {
    Text { x, y, anchor, font, size, bold: false, fill, class: "", text: s.to_string(), tip: None, spans: Vec::new() }
}

fn rect(x: f64, y: f64, width: f64, height: f64, fill: &'static str) -> Rect {
    Rect { x, y, width, height, radius: 0.0, fill, stroke: None, class: "", tip: None, data: Vec::new() }
}

/// `2:l`: a position and its token (shortened), so repeated tokens stay
/// apart.
pub fn position_labels(tokens: &[String]) -> Vec<String> {
    tokens.iter().enumerate().map(|(i, t)| format!("{i}:{}", shorten(t, 6).0)).collect()
}

/// Breaks `s` into lines of at most `width` characters at spaces (and at
/// each newline), at most `max` lines, the last ending in `…` when text was
/// left out.
fn wrap_words(s: &str, width: usize, max: usize) -> (Vec<String>, bool) {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in s.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    let mut cut = false;
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|l| {
            let (short, was_cut) = shorten(&l, width);
            cut |= was_cut;
            short
        })
        .collect();
    if lines.len() > max {
        lines.truncate(max);
        cut = true;
        if let Some(last) = lines.last_mut() {
            *last = format!("{}…", shorten(last, width.saturating_sub(1)).0.trim_end_matches('…'));
        }
    }
    (lines, cut)
}

/// What a grid shows along its axes and in its cells.
#[derive(Debug, Clone)]
pub struct Axes {
    /// The title over the columns, e.g. `keys →`.
    pub columns_title: String,
    /// The title over the row labels, e.g. `queries ↓`.
    pub rows_title: String,
    /// One label per column.
    pub columns: Vec<String>,
    /// One label per row.
    pub rows: Vec<String>,
    /// What the colour measures, e.g. `attention weight`.
    pub measure: String,
}

/// A grid of `cells[row][column]` in [0, 1] with its axes, at (0, 0).
/// `column_groups` puts a heading over runs of columns and a gap between
/// runs (`(heading, first column, count, highlighted)`); `tip` gives each
/// cell's tooltip. Returns the group and its size.
struct Grid<'a> {
    title: &'a str,
    caption: &'a str,
    axes: &'a Axes,
    cells: &'a [Vec<f64>],
    column_groups: &'a [ColumnGroup],
    tip: &'a dyn Fn(usize, usize, f64) -> String,
}

/// A run of columns under one heading (the residual dimensions of one s-op).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnGroup {
    /// The heading over the run, e.g. the s-op's name.
    pub heading: String,
    /// The run's first column.
    pub first: usize,
    /// How many columns it has.
    pub count: usize,
    /// Drawn with a dark frame and a bold heading: what this picture's
    /// layer wrote.
    pub highlighted: bool,
}

fn grid(g: &Grid<'_>) -> (Group, f64, f64) {
    let mut out = Group::new("heatmap");
    let axes = g.axes;
    let columns = axes.columns.len();
    let label_w = axes
        .rows
        .iter()
        .chain(std::iter::once(&axes.rows_title))
        .map(|l| text_width(l, Font::Mono, LABEL, false))
        .fold(0.0, f64::max);
    let cw = axes.columns.iter().map(|l| text_width(l, Font::Mono, LABEL, false) + 8.0).fold(CELL_MIN, f64::max);
    let ch = CELL_MIN;
    let group_gap = if g.column_groups.len() > 1 { 6.0 } else { 0.0 };
    // Column x positions, with a gap between groups.
    let mut column_x = Vec::with_capacity(columns);
    let gx = label_w + 8.0;
    let mut x = gx;
    for c in 0..columns {
        if c > 0 && g.column_groups.iter().any(|grp| grp.first == c) {
            x += group_gap;
        }
        column_x.push(x);
        x += cw;
    }
    let grid_right = x;

    let mut y = 14.0;
    let mut right: f64 = grid_right;
    // The title fits the grid (at least 36 characters); the full text is
    // its tooltip.
    let title_chars = ((grid_right / text_width("m", Font::Sans, 13.0, true)).floor() as usize).max(36);
    let (shown, cut) = shorten(g.title, title_chars);
    let mut title = text(0.0, y, Anchor::Start, Font::Sans, 13.0, INK, &shown);
    if cut {
        title.tip = Some(g.title.to_string());
    }
    title.bold = true;
    title.class = "heading";
    right = right.max(title.bounds().x1);
    out.push(title);
    if !g.caption.is_empty() {
        let per_line = ((grid_right / text_width("m", Font::Mono, LABEL, false)).floor() as usize).max(32);
        let (lines, cut) = wrap_words(g.caption, per_line, CAPTION_LINES);
        for line in lines {
            y += 15.0;
            let mut t = text(0.0, y, Anchor::Start, Font::Mono, LABEL, MUTED, &line);
            t.class = "caption";
            if cut {
                t.tip = Some(g.caption.to_string());
            }
            right = right.max(t.bounds().x1);
            out.push(t);
        }
    }
    // Axis titles: columns across, rows down.
    y += 22.0;
    let mut columns_title = text(gx, y, Anchor::Start, Font::Sans, LABEL, KEY, &axes.columns_title);
    columns_title.class = "axis-title";
    right = right.max(columns_title.bounds().x1);
    out.push(columns_title);
    if !g.column_groups.is_empty() {
        // Headings that fit over their columns go on the first line; the
        // others on a second line, where each may run up to the next.
        let char_w = text_width("m", Font::Mono, LABEL, false);
        let spans: Vec<(f64, f64)> = g
            .column_groups
            .iter()
            .filter_map(|grp| {
                let x0 = *column_x.get(grp.first)?;
                let x1 = *column_x.get(grp.first + grp.count.max(1) - 1)? + cw;
                Some((x0, x1))
            })
            .collect();
        let fits: Vec<bool> = g
            .column_groups
            .iter()
            .zip(&spans)
            .map(|(grp, (x0, x1))| text_width(&grp.heading, Font::Mono, LABEL, grp.highlighted) <= x1 - x0 - 2.0)
            .collect();
        let second_line = fits.iter().any(|f| !f);
        for (i, (grp, &(x0, x1))) in g.column_groups.iter().zip(&spans).enumerate() {
            let (line_y, room) = if fits[i] {
                (y + 16.0, x1 - x0)
            } else {
                let next = (i + 1..spans.len()).find(|&j| !fits[j]).map_or(f64::INFINITY, |j| spans[j].0);
                (y + 32.0, (next - x0 - 6.0).min(60.0 * char_w))
            };
            let chars = ((room / (char_w * if grp.highlighted { 1.14 } else { 1.0 })).floor() as usize).max(1);
            let (shown, cut) = shorten(&grp.heading, chars);
            let mut t = text(x0, line_y, Anchor::Start, Font::Mono, LABEL, INK, &shown);
            t.bold = grp.highlighted;
            t.class = "group";
            if cut {
                t.tip = Some(grp.heading.clone());
            }
            right = right.max(t.bounds().x1);
            out.push(t);
        }
        y += if second_line { 32.0 } else { 16.0 };
    }
    let mut rows_title = text(label_w, y + 16.0, Anchor::End, Font::Sans, LABEL, QUERY, &axes.rows_title);
    rows_title.class = "axis-title";
    out.push(rows_title);
    y += 16.0;
    for (c, label) in axes.columns.iter().enumerate() {
        let mut t = text(column_x[c] + cw / 2.0, y, Anchor::Middle, Font::Mono, LABEL, KEY, label);
        t.class = "column";
        out.push(t);
    }
    let gy = y + 6.0;
    for (r, label) in axes.rows.iter().enumerate() {
        let row_y = gy + ch * r as f64;
        let mut t = text(label_w, row_y + ch / 2.0 + LABEL * 0.35, Anchor::End, Font::Mono, LABEL, QUERY, label);
        t.class = "row";
        out.push(t);
        for (c, &cx) in column_x.iter().enumerate() {
            let w = g.cells.get(r).and_then(|row| row.get(c)).copied().unwrap_or(0.0);
            out.push(Rect {
                stroke: Some((GRID_LINE, 0.5)),
                class: "cell",
                tip: Some((g.tip)(r, c, w)),
                data: vec![("row", r.to_string()), ("col", c.to_string())],
                ..rect(cx, row_y, cw, ch, colour(w))
            });
            let written = cell_text(w);
            if !written.is_empty() {
                let ink = if w > 0.55 { "#ffffff" } else { INK };
                let mut t = text(
                    cx + cw / 2.0,
                    row_y + ch / 2.0 + VALUE * 0.35,
                    Anchor::Middle,
                    Font::Mono,
                    VALUE,
                    ink,
                    &written,
                );
                t.class = "v";
                out.push(t);
            }
        }
    }
    // Frames around highlighted groups.
    for grp in g.column_groups.iter().filter(|grp| grp.highlighted) {
        if let (Some(&x0), Some(&x1)) = (column_x.get(grp.first), column_x.get(grp.first + grp.count - 1)) {
            out.push(Rect {
                stroke: Some(("#111827", 2.0)),
                class: "written",
                fill: "none",
                ..rect(x0 - 1.0, gy - 1.0, x1 + cw - x0 + 2.0, ch * axes.rows.len() as f64 + 2.0, "none")
            });
        }
    }
    let height = gy + ch * axes.rows.len() as f64;
    (out, right, height)
}

/// The colour scale: the swatches from 0 to 1 with their numbers, after a
/// label saying what the colour measures. Returns the group and its width.
fn colour_scale(measure: &str) -> (Group, f64) {
    let mut g = Group::new("colour-scale");
    let mut label = text(0.0, 14.0, Anchor::Start, Font::Sans, LABEL, MUTED, measure);
    label.class = "scale-title";
    let x0 = label.bounds().x1 + 8.0;
    g.push(label);
    let swatch = 16.0;
    for (i, fill) in SCALE.iter().enumerate() {
        g.push(Rect {
            stroke: Some((GRID_LINE, 0.5)),
            class: "swatch",
            ..rect(x0 + swatch * i as f64, 3.0, swatch, 14.0, fill)
        });
    }
    for (i, tick) in [(0usize, "0"), (5, "0.5"), (10, "1")] {
        let mut t = text(x0 + swatch * i as f64 + swatch / 2.0, 30.0, Anchor::Middle, Font::Mono, 10.0, MUTED, tick);
        t.class = "tick";
        g.push(t);
    }
    (g, x0 + swatch * SCALE.len() as f64)
}

/// A laid-out grid: the group, its width and its height.
type Laid = (Group, f64, f64);

/// Places `title`, the colour scale and `rows` of grids; the scene's width
/// is the widest part.
fn picture(title: &str, measure: &str, rows: Vec<(String, Vec<Laid>)>) -> Scene {
    let mut root = Group::new("picture");
    let mut heading = text(MARGIN, MARGIN + 16.0, Anchor::Start, Font::Sans, 16.0, INK, title);
    heading.bold = true;
    heading.class = "title";
    let mut width = heading.bounds().x1;
    root.push(heading);
    let (mut scale, scale_w) = colour_scale(measure);
    scale.x = MARGIN;
    scale.y = MARGIN + 26.0;
    width = width.max(MARGIN + scale_w);
    root.push(scale);
    let mut y = MARGIN + 76.0;
    for (label, panels) in rows {
        let mut t = text(MARGIN, y, Anchor::Start, Font::Sans, 14.0, "#374151", &label);
        t.bold = true;
        t.class = "row-heading";
        width = width.max(t.bounds().x1);
        root.push(t);
        y += 14.0;
        // Grids end each panel: aligning the bottoms lines up the grids
        // of a row even when their captions take different lines.
        let tallest = panels.iter().map(|(_, _, h)| *h).fold(0.0, f64::max);
        let mut x = MARGIN;
        for (mut g, w, h) in panels {
            g.x = x;
            g.y = y + tallest - h;
            x += w + PANEL_GAP;
            root.push(g);
        }
        width = width.max(x - PANEL_GAP);
        y += tallest + PANEL_GAP;
    }
    Scene { width: (width + MARGIN).ceil(), height: (y - PANEL_GAP + MARGIN).ceil(), label: title.to_string(), root }
}

/// Attention heatmaps in rows, queries down and keys across, each labelled
/// by position and token (`2:l`). Each cell's tooltip gives its weight, and
/// when the panel knows its head's flow, the value moved and the result.
pub fn attention_scene(title: &str, tokens: &[String], rows: &[PanelRow]) -> Scene {
    let labels = position_labels(tokens);
    let axes = Axes {
        columns_title: "keys (position:token) →".to_string(),
        rows_title: "queries ↓".to_string(),
        columns: labels.clone(),
        rows: labels,
        measure: "attention weight".to_string(),
    };
    let n = tokens.len();
    let laid: Vec<(String, Vec<Laid>)> = rows
        .iter()
        .map(|row| {
            let panels = row
                .panels
                .iter()
                .map(|panel| {
                    let cells: Vec<Vec<f64>> =
                        panel.weights.iter().take(n).map(|r| r.iter().take(n).copied().collect()).collect();
                    let tip = |q: usize, k: usize, w: f64| {
                        let token = |i: usize| tokens.get(i).map(String::as_str).unwrap_or("");
                        let mut tip = format!("query {q} ({}), key {k} ({}): weight {w:.3}", token(q), token(k));
                        if let Some(flow) = &panel.flow {
                            let at = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
                            tip.push_str(&format!(
                                "\nmoves {} = {} from key {k}\nresult {} = {} at query {q}",
                                flow.values_name,
                                at(&flow.values, k),
                                flow.result_name,
                                at(&flow.results, q)
                            ));
                        }
                        tip
                    };
                    grid(&Grid {
                        title: &panel.title,
                        caption: &panel.caption,
                        axes: &axes,
                        cells: &cells,
                        column_groups: &[],
                        tip: &tip,
                    })
                })
                .collect();
            (row.label.clone(), panels)
        })
        .collect();
    picture(title, &axes.measure, laid)
}

/// [`attention_scene`] as a standalone SVG.
pub fn heatmaps_svg(title: &str, tokens: &[String], rows: &[PanelRow]) -> String {
    crate::svg::to_svg(&attention_scene(title, tokens, rows))
}

/// One residual-stream picture: a grid per stage, rows are positions,
/// columns residual dimensions grouped by what they hold.
#[derive(Debug, Clone)]
pub struct ResidualPanel {
    /// Heading, e.g. `after layer 1`.
    pub title: String,
    /// A line under it, e.g. what the layer wrote.
    pub caption: String,
    /// `values[position][dimension]`.
    pub values: Vec<Vec<f64>>,
    /// The dimension groups, in column order; the highlighted ones are
    /// those this stage wrote.
    pub groups: Vec<ColumnGroup>,
}

/// The residual stream, one grid per stage (top to bottom), rows labelled
/// by position and token, columns by what each dimension holds
/// (`columns`, one label per dimension), grouped and the stage's own
/// writes framed. Values are coloured on [0, 1] (clamped); each cell's
/// tooltip gives the exact number.
pub fn residual_scene(title: &str, positions: &[String], columns: &[String], stages: &[ResidualPanel]) -> Scene {
    let axes = Axes {
        columns_title: "residual dimensions, grouped by what they hold →".to_string(),
        rows_title: "positions ↓".to_string(),
        columns: columns.to_vec(),
        rows: positions.to_vec(),
        measure: "value in the residual stream".to_string(),
    };
    let laid = stages
        .iter()
        .map(|stage| {
            let tip = |r: usize, c: usize, w: f64| {
                let group = stage
                    .groups
                    .iter()
                    .find(|g| c >= g.first && c < g.first + g.count)
                    .map(|g| g.heading.as_str())
                    .unwrap_or("");
                format!(
                    "position {}, dimension {c} ({group}: {}): {w:.4}",
                    positions.get(r).map(String::as_str).unwrap_or(""),
                    columns.get(c).map(String::as_str).unwrap_or("")
                )
            };
            let panel = grid(&Grid {
                title: &stage.title,
                caption: &stage.caption,
                axes: &axes,
                cells: &stage.values,
                column_groups: &stage.groups,
                tip: &tip,
            });
            (String::new(), vec![panel])
        })
        .collect();
    picture(title, &axes.measure, laid)
}

#[cfg(test)]
mod tests {
    use super::{cell_text, colour, wrap_words};

    #[test]
    fn weights_are_written_briefly_and_coloured_darker_as_they_grow() {
        assert_eq!(cell_text(0.0), "");
        assert_eq!(cell_text(1.0), "1");
        assert_eq!(cell_text(0.5), ".50");
        assert_eq!(cell_text(1.0 / 3.0), ".33");
        assert_eq!(colour(0.0), "#ffffff");
        assert_eq!(colour(1.0), "#5b21b6");
        assert_eq!(colour(7.0), "#5b21b6");
        // Luminance falls along the scale, so greyscale keeps the order.
        let luminance = |hex: &str| {
            let c = |i: usize| f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0));
            0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
        };
        for pair in super::SCALE.windows(2) {
            assert!(luminance(pair[0]) > luminance(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn captions_wrap_at_spaces() {
        let (lines, cut) = wrap_words("select(indices, length - 1 - indices, ==)", 20, 3);
        assert_eq!(lines, ["select(indices,", "length - 1 -", "indices, ==)"]);
        assert!(!cut);
        assert_eq!(wrap_words("makes x\nmax 0", 20, 3).0, ["makes x", "max 0"]);
        let (lines, cut) = wrap_words("a b c d e f", 3, 2);
        assert_eq!(lines, ["a b", "c…"]);
        assert!(cut);
    }
}
