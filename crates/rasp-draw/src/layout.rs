//! Geometry: the model laid out as bands stacked top to bottom (input,
//! layers, output). In a layer the heads sit side by side as cards, the MLP
//! card below them. Every width comes from measured text, so nothing
//! overlaps however long the names and values are; the picture just grows.

use crate::model::{HeadModel, LayerModel, MlpModel, Model, Role, Row};
use crate::scene::{Anchor, Font, Group, Item, Path, Rect, Span, Text, shorten, text_width};
use std::fmt::Write;

/// Colours: one palette for every picture. Pale backgrounds for layers,
/// white cards for heads and MLPs, a strong violet for selected cells, and
/// one hue per role of a value (the reference's colour families: keys blue,
/// queries green, averaged values pink, results orange).
pub(crate) mod palette {
    pub const PAGE: &str = "#ffffff";
    pub const TEXT: &str = "#1f2937";
    pub const MUTED: &str = "#6b7280";
    pub const HEADING: &str = "#374151";
    pub const INPUT_BG: &str = "#f1f5f9";
    pub const INPUT_BORDER: &str = "#cbd5e1";
    pub const LAYER_BG: &str = "#fbf7ec";
    pub const LAYER_BORDER: &str = "#eadfc2";
    pub const LAYER_TITLE: &str = "#7c4a03";
    pub const CARD_BG: &str = "#ffffff";
    pub const CARD_BORDER: &str = "#e4d8b9";
    pub const SELECTED: &str = "#7c3aed";
    pub const UNSELECTED: &str = "#f0edf7";
    pub const SELECTOR_NAME: &str = "#6d28d9";
    pub const OUTPUT_BG: &str = "#f5f3ff";
    pub const OUTPUT_BORDER: &str = "#7c3aed";
    pub const FLOW: &str = "#a8a29e";

    /// (name colour, cell colour) of a role.
    pub fn role(role: crate::model::Role) -> (&'static str, &'static str) {
        use crate::model::Role;
        match role {
            Role::Input => ("#334155", "#e2e8f0"),
            Role::Key => ("#1d4ed8", "#dbeafe"),
            Role::Query => ("#15803d", "#dcfce7"),
            Role::Value => ("#be185d", "#fce7f3"),
            Role::Result => ("#c2410c", "#ffedd5"),
            Role::Operand => ("#475569", "#e5e7eb"),
            Role::Output => ("#5b21b6", "#ede9fe"),
        }
    }
}

use palette as p;

/// Values and names.
const FS: f64 = 12.0;
/// Captions, expressions, notes.
const SMALL: f64 = 11.0;
const ROW: f64 = 22.0;
const CELL_MIN: f64 = 22.0;
/// Horizontal room around a value inside its cell.
const CELL_PAD: f64 = 10.0;
const GAP: f64 = 8.0;
const CARD_PAD: f64 = 12.0;
const LAYER_PAD: f64 = 14.0;
const MARGIN: f64 = 24.0;
const BAND_GAP: f64 = 28.0;
const HEADER_LINE: f64 = 16.0;

const MAX_VALUE: usize = 12;
const MAX_NAME: usize = 30;
/// A selector expression wraps at the grid's width, but not narrower than
/// this many characters, on at most this many lines.
const EXPRESSION_LINE: usize = 56;
const EXPRESSION_LINES: usize = 4;

/// The picture: its size and its items.
#[derive(Debug, Clone)]
pub struct Scene {
    /// Width of the whole picture in pixels (the SVG's `width` and
    /// `viewBox`); every text lies within 0..width.
    pub width: f64,
    /// Height of the whole picture in pixels; every text lies within
    /// 0..height.
    pub height: f64,
    /// A one-line description (the SVG's accessible label).
    pub label: String,
    /// Everything drawn, in picture pixels (origin at the top left, y
    /// growing downwards): the title, summary and legend, then the input
    /// band, one band per layer and the output band, top to bottom, with an
    /// arrow between consecutive bands.
    pub root: Group,
}

fn text(x: f64, y: f64, anchor: Anchor, font: Font, size: f64, fill: &'static str, s: &str) -> Text {
    Text { x, y, anchor, font, size, bold: false, fill, class: "", text: s.to_string(), tip: None, spans: Vec::new() }
}

/// A muted sans-serif caption after a heading.
fn caption_span(gap: f64, size: f64, s: &str) -> Span {
    Span { gap, font: Font::Sans, size, bold: false, fill: p::MUTED, class: "caption", text: s.to_string() }
}

impl Text {
    /// Shortened to `max` characters, with the full text as its tip.
    fn shortened(mut self, max: usize) -> Text {
        // Most texts fit: no copy of them.
        if self.text.chars().count() > max {
            let (shown, _) = shorten(&self.text, max);
            self.tip = Some(std::mem::replace(&mut self.text, shown));
        }
        self
    }
}

fn rect(x: f64, y: f64, width: f64, height: f64, fill: &'static str) -> Rect {
    Rect { x, y, width, height, radius: 0.0, fill, stroke: None, class: "", tip: None, data: Vec::new() }
}

/// Breaks `text` into lines of at most `width` characters (continuation
/// lines indented by two), at most `max_lines` of them, the last ending in
/// `…` when text was left out. Lines break after a comma or before `and` /
/// `or`, so an operand such as `( a + 1 )` stays whole; a piece longer than
/// a line breaks at any space, and a word longer than a line is cut.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let words: Vec<&str> = text.split(' ').collect();
    let mut pieces: Vec<String> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let joins = i > 0 && {
            let prev = words[i - 1];
            !(prev.ends_with(',') || matches!(*word, "and" | "or") || pieces.is_empty())
        };
        match pieces.last_mut() {
            Some(last) if joins => {
                last.push(' ');
                last.push_str(word);
            }
            _ => pieces.push((*word).to_string()),
        }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let add = |line: &mut String, lines: &mut Vec<String>, piece: &str| {
        let len = line.chars().count();
        if !line.trim().is_empty() && len + 1 + piece.chars().count() > width {
            lines.push(std::mem::replace(line, "  ".to_string()));
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(piece);
    };
    for piece in &pieces {
        if piece.chars().count() + 2 > width {
            for word in piece.split(' ') {
                add(&mut line, &mut lines, word);
            }
        } else {
            add(&mut line, &mut lines, piece);
        }
    }
    lines.push(line);
    let mut lines: Vec<String> = lines.into_iter().map(|l| shorten(&l, width).0).collect();
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let (short, _) = shorten(last, width.saturating_sub(1));
            *last = format!("{}…", short.trim_end_matches('…'));
        }
    }
    lines
}

fn mono_width(s: &str, size: f64) -> f64 {
    text_width(s, Font::Mono, size, false)
}

/// Baseline of a text vertically centred in a row starting at `y`.
fn baseline(y: f64, height: f64, size: f64) -> f64 {
    y + height / 2.0 + size * 0.35
}

fn shown_value(s: &str) -> String {
    shorten(s, MAX_VALUE).0
}

fn shown_name(s: &str) -> String {
    shorten(s, MAX_NAME).0
}

/// Width of a column holding these values.
fn column_width<'a>(values: impl Iterator<Item = &'a String>) -> f64 {
    let width =
        |v: &String| if v.chars().count() <= MAX_VALUE { mono_width(v, FS) } else { mono_width(&shown_value(v), FS) };
    values.map(|v| width(v) + CELL_PAD).fold(CELL_MIN, f64::max)
}

/// A value in a cell: the cell's background and the value centred in it.
/// `axis` names the data attribute carrying the position: `k` for key
/// columns, `q` for query rows.
fn value_cell(g: &mut Group, (x, y, w): (f64, f64, f64), row: &Row, i: usize, class: &'static str, axis: &'static str) {
    let data = vec![(axis, i.to_string())];
    let (_, fill) = p::role(row.role);
    let tip = format!("{}, position {i}: {}", row.name, row.full.get(i).map(String::as_str).unwrap_or(""));
    g.push(Rect { radius: 3.0, class, tip: Some(tip), data, ..rect(x + 1.0, y + 1.0, w - 2.0, ROW - 2.0, fill) });
    let value = row.cells.get(i).map(String::as_str).unwrap_or("");
    let mut t =
        text(x + w / 2.0, baseline(y, ROW, FS), Anchor::Middle, Font::Mono, FS, p::TEXT, value).shortened(MAX_VALUE);
    t.bold = row.role == Role::Output;
    t.class = "v";
    g.push(t);
}

/// A row's name, right-aligned to end at `x`.
fn row_label(g: &mut Group, x: f64, y: f64, row: &Row) {
    let (colour, _) = p::role(row.role);
    let mut t = text(x, baseline(y, ROW, FS), Anchor::End, Font::Mono, FS, colour, &row.name).shortened(MAX_NAME);
    t.class = "name";
    t.bold = row.role == Role::Output;
    g.push(t);
}

/// A table of rows of per-position values: names on the left, one column
/// per position, an optional note on the right. `gap_after` puts a little
/// space after that many rows (MLP inputs above, outputs below).
fn table(rows: &[(&Row, Option<String>)], n: usize, gap_after: Option<usize>) -> (Group, f64, f64) {
    let mut g = Group::new("table");
    let label_w = rows.iter().map(|(r, _)| mono_width(&shown_name(&r.name), FS)).fold(0.0, f64::max);
    let cw = column_width(rows.iter().flat_map(|(r, _)| r.cells.iter()));
    let x0 = label_w + GAP;
    let values_end = x0 + n as f64 * cw;
    let mut width = values_end;
    let mut y = 0.0;
    for (i, (row, note)) in rows.iter().enumerate() {
        if gap_after == Some(i) && i > 0 {
            y += 6.0;
        }
        let mut r = Group::new("row");
        if let Some(id) = row.node {
            r.data.push(("node", id.0.to_string()));
        }
        row_label(&mut r, label_w, y, row);
        let class = match row.role {
            Role::Result => "result",
            Role::Output => "output",
            Role::Input => "input",
            _ => "operand",
        };
        for k in 0..n {
            value_cell(&mut r, (x0 + k as f64 * cw, y, cw), row, k, class, "k");
        }
        if let Some(note) = note {
            let mut t =
                text(values_end + GAP, baseline(y, ROW, SMALL), Anchor::Start, Font::Mono, SMALL, p::MUTED, note)
                    .shortened(60);
            t.class = "note";
            width = width.max(t.bounds().x1);
            r.push(t);
        }
        g.push(r);
        y += ROW;
    }
    (g, width, y)
}

/// A white card around `content` with a heading; returns its size.
fn card(
    class: &'static str,
    heading: &str,
    caption: Option<&str>,
    content: (Group, f64, f64),
    tip: Option<String>,
) -> (Group, f64, f64) {
    let mut g = Group::new(class);
    let (mut inner, w, h) = content;
    let title_y = CARD_PAD + 13.0;
    let mut title = text(CARD_PAD, title_y, Anchor::Start, Font::Sans, 13.0, p::HEADING, heading);
    title.bold = true;
    title.class = "heading";
    if let Some(c) = caption {
        title.spans.push(caption_span(8.0, SMALL, c));
    }
    let right = title.bounds().x1;
    inner.x = CARD_PAD;
    inner.y = title_y + 12.0;
    let width = (right.max(CARD_PAD + w)) + CARD_PAD;
    let height = inner.y + h + CARD_PAD;
    g.push(Rect {
        radius: 8.0,
        stroke: Some((p::CARD_BORDER, 1.0)),
        class: "card",
        tip,
        ..rect(0.0, 0.0, width, height, p::CARD_BG)
    });
    g.push(title);
    g.push(inner);
    (g, width, height)
}

/// One attention head: the selector's grid with keys above, queries left,
/// averaged values below and results right.
fn head_card(h: &HeadModel, n: usize, layer: usize) -> (Group, f64, f64) {
    let mut g = Group::new("head");
    g.id = Some(format!("layer{layer}-head{}", h.number));
    g.data.push(("selector", h.selector.0.to_string()));
    g.data.push(("layer", layer.to_string()));

    // Heading: "head 1  flip", then the selector as written.
    let title_y = CARD_PAD + 13.0;
    let mut title = text(CARD_PAD, title_y, Anchor::Start, Font::Sans, 13.0, p::HEADING, &format!("head {}", h.number));
    title.bold = true;
    title.class = "heading";
    if let Some(name) = &h.selector_name {
        let (shown, cut) = shorten(name, MAX_NAME);
        if cut {
            title.tip = Some(name.clone());
        }
        title.spans.push(Span {
            gap: 8.0,
            font: Font::Mono,
            size: FS,
            bold: true,
            fill: p::SELECTOR_NAME,
            class: "selector-name",
            text: shown,
        });
    }
    let mut right = title.bounds().x1;
    let mut heading_items: Vec<Item> = vec![title.into()];
    let mut defaults: Vec<(usize, String)> = Vec::new();
    for (j, a) in h.aggregates.iter().enumerate() {
        if let Some(d) = &a.default {
            defaults.push((j, format!("default {d}")));
        }
    }
    let (mut block, bw, bh) = head_block(h, n, &defaults);

    // The selector as written, wrapped to the grid's width (at least
    // EXPRESSION_LINE characters), the full text as a tip when cut.
    let per_line = ((bw / text_width("m", Font::Mono, SMALL, false)).floor() as usize).max(EXPRESSION_LINE);
    let lines = wrap(&h.expression, per_line, EXPRESSION_LINES);
    let cut = lines.last().is_some_and(|l| l.ends_with('…'));
    let mut y = title_y + 18.0;
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            y += 14.0;
        }
        let mut t = text(CARD_PAD, y, Anchor::Start, Font::Mono, SMALL, p::MUTED, line);
        t.class = "expression";
        if cut {
            t.tip = Some(h.expression.clone());
        }
        right = right.max(t.bounds().x1);
        heading_items.push(t.into());
    }
    if let Some(w) = &h.width_of {
        y += 16.0;
        let t = text(
            CARD_PAD,
            y,
            Anchor::Start,
            Font::Sans,
            SMALL,
            p::MUTED,
            &format!("selector_width of {w}, one head with a BOS token"),
        )
        .shortened(100);
        right = right.max(t.bounds().x1);
        heading_items.push(t.into());
    }
    // What the head moves and what it makes, in words.
    for agg in &h.aggregates {
        y += 15.0;
        let words = format!("aggregates {} into {}", agg.values.name, agg.result.name);
        let mut t = text(CARD_PAD, y, Anchor::Start, Font::Sans, SMALL, p::MUTED, &words).shortened(2 * MAX_NAME + 24);
        t.class = "aggregates";
        right = right.max(t.bounds().x1);
        heading_items.push(t.into());
    }
    block.x = CARD_PAD;
    block.y = y + 12.0;
    right = right.max(CARD_PAD + bw);
    let width = right + CARD_PAD;
    let height = block.y + bh + CARD_PAD;

    let results: Vec<String> = h
        .aggregates
        .iter()
        .map(|a| {
            let with = a.via.as_ref().map(|v| format!(" with {v}")).unwrap_or_default();
            match &a.default {
                Some(d) => format!("{} = aggregate of {}{with} (default {d})", a.result.name, a.values.name),
                None => format!("{} = aggregate of {}{with}", a.result.name, a.values.name),
            }
        })
        .collect();
    let tip = format!(
        "layer {layer}, head {}{}\n{}\n{}",
        h.number,
        h.selector_name.as_ref().map(|s| format!(": selector {s}")).unwrap_or_default(),
        h.expression,
        results.join("\n")
    );
    g.push(Rect {
        radius: 8.0,
        stroke: Some((p::CARD_BORDER, 1.0)),
        class: "card",
        tip: Some(tip),
        ..rect(0.0, 0.0, width, height, p::CARD_BG)
    });
    for item in heading_items {
        g.push(item);
    }
    g.push(block);
    (g, width, height)
}

/// The grid of a head and the values around it, at (0, 0).
fn head_block(h: &HeadModel, n: usize, defaults: &[(usize, String)]) -> (Group, f64, f64) {
    let mut g = Group::new("grid");
    let m = h.queries.len();
    let a = h.aggregates.len();
    let cw = column_width(h.keys.iter().chain(h.aggregates.iter().map(|a| &a.values)).flat_map(|r| r.cells.iter()));
    // Column headings stand on one line, each over its own column: a
    // column is as wide as its heading, except the outermost ones (the
    // first query, the last result), whose headings may reach outwards.
    let heading_w = |name: &str| mono_width(&shown_name(name), FS) + 4.0;
    let qw: Vec<f64> = h
        .queries
        .iter()
        .enumerate()
        .map(|(j, q)| {
            let values = column_width(q.cells.iter());
            if j == 0 { values } else { values.max(heading_w(&q.name)) }
        })
        .collect();
    let result_heading = |agg: &crate::model::AggregateModel| match &agg.via {
        Some(via) => format!("{} (with {})", shown_name(&agg.result.name), shown_name(via)),
        None => agg.result.name.clone(),
    };
    let rw: Vec<f64> = h
        .aggregates
        .iter()
        .enumerate()
        .map(|(j, agg)| {
            let values = column_width(agg.result.cells.iter());
            if j + 1 == h.aggregates.len() {
                values
            } else {
                values.max(mono_width(&shorten(&result_heading(agg), 2 * MAX_NAME + 8).0, FS) + 4.0)
            }
        })
        .collect();
    let labels = h.keys.iter().chain(h.aggregates.iter().map(|a| &a.values));
    let label_w = labels.map(|r| mono_width(&shown_name(&r.name), FS)).fold(0.0, f64::max);

    // Columns, left to right: queries | grid | results. The names of the
    // key and value rows end just left of the grid (over the query
    // columns, which are empty in those rows).
    let mut x = 0.0;
    let mut qx = Vec::with_capacity(m);
    for w in &qw {
        qx.push(x);
        x += w;
    }
    if m > 0 {
        x += 4.0;
    }
    let gx = x;
    let rx0 = gx + n as f64 * cw + 4.0;
    let mut rx = Vec::with_capacity(a);
    let mut x = rx0;
    for w in &rw {
        rx.push(x);
        x += w;
    }

    // Column headings, all on one line: query names end at their column's
    // right edge and result names start at their column's left edge; the
    // columns were widened to their headings, so they never run into each
    // other however long they are.
    let lines = usize::from(m + a > 0);
    let band = lines as f64 * HEADER_LINE;
    let line_y = |_: usize| band - 4.0;
    let mut headers: Vec<Text> = Vec::new();
    for (j, q) in h.queries.iter().enumerate() {
        let (colour, _) = p::role(Role::Query);
        let mut t =
            text(qx[j] + qw[j], line_y(m - 1 - j), Anchor::End, Font::Mono, FS, colour, &q.name).shortened(MAX_NAME);
        t.class = "name";
        headers.push(t);
    }
    for (j, agg) in h.aggregates.iter().enumerate() {
        let (colour, _) = p::role(Role::Result);
        let name = result_heading(agg);
        let mut t = text(rx[j], line_y(j), Anchor::Start, Font::Mono, FS, colour, &name).shortened(2 * MAX_NAME + 8);
        t.class = "name";
        headers.push(t);
    }
    let label_end = gx - GAP;
    // Long names reach past the left edge: move everything right.
    let shift = headers.iter().map(|t| t.bounds().x0).fold(label_end - label_w, f64::min).min(0.0).abs();
    let key_y = band + if lines > 0 { 2.0 } else { 0.0 };
    let grid_y = key_y + h.keys.len() as f64 * ROW + if h.keys.is_empty() { 0.0 } else { 2.0 };
    let value_y = grid_y + n as f64 * ROW + 2.0;

    let mut right: f64 = rx.last().zip(rw.last()).map(|(x, w)| x + w).unwrap_or(rx0);
    for t in &headers {
        right = right.max(t.bounds().x1);
    }
    g.x = 0.0;
    let mut inner = Group::new("cells");
    inner.x = shift;
    for t in headers {
        inner.push(t);
    }

    // Keys above the columns.
    for (r, key) in h.keys.iter().enumerate() {
        let y = key_y + r as f64 * ROW;
        let mut row = Group::new("key-row");
        if let Some(id) = key.node {
            row.data.push(("node", id.0.to_string()));
        }
        row_label(&mut row, label_end, y, key);
        for k in 0..n {
            value_cell(&mut row, (gx + k as f64 * cw, y, cw), key, k, "key", "k");
        }
        inner.push(row);
    }

    // One row per query position: its query values, the selection, results.
    for q in 0..n {
        let y = grid_y + q as f64 * ROW;
        let mut row = Group::new("query-row");
        row.data.push(("q", q.to_string()));
        for (j, query) in h.queries.iter().enumerate() {
            value_cell(&mut row, (qx[j], y, qw[j]), query, q, "query", "q");
        }
        for k in 0..n {
            let on = h.selected.get(q).and_then(|r| r.get(k)).copied().unwrap_or(false);
            let hidden = h.hidden.get(q).and_then(|r| r.get(k)).copied().unwrap_or(false);
            let mut tip = cell_tip(h, q, k, on);
            if hidden {
                tip.push_str(" (hidden by the attention mask)");
            }
            // The dot of a hidden cell has the same tip.
            let dot_tip = (hidden && !on).then(|| tip.clone());
            let (class, fill) = match (on, hidden) {
                (true, _) => ("cell on", p::SELECTED),
                (false, false) => ("cell off", p::UNSELECTED),
                (false, true) => ("cell masked", p::PAGE),
            };
            row.push(Rect {
                radius: 2.0,
                class,
                tip: Some(tip),
                data: vec![("q", q.to_string()), ("k", k.to_string())],
                ..rect(gx + k as f64 * cw + 1.0, y + 1.0, cw - 2.0, ROW - 2.0, fill)
            });
            if let Some(tip) = dot_tip {
                // A dot, as the REPL prints hidden cells: blank would read as
                // "not selected", which a masked key is not asked about.
                let mut dot = text(
                    gx + k as f64 * cw + cw / 2.0,
                    baseline(y, ROW, FS),
                    Anchor::Middle,
                    Font::Mono,
                    FS,
                    p::MUTED,
                    "·",
                );
                dot.tip = Some(tip);
                row.push(dot);
            }
        }
        for (j, agg) in h.aggregates.iter().enumerate() {
            value_cell(&mut row, (rx[j], y, rw[j]), &agg.result, q, "result", "q");
        }
        inner.push(row);
    }

    // The averaged values below the columns, each aggregate's default
    // beside its row.
    for (j, agg) in h.aggregates.iter().enumerate() {
        let y = value_y + j as f64 * ROW;
        let mut row = Group::new("value-row");
        if let Some(id) = agg.values.node {
            row.data.push(("node", id.0.to_string()));
        }
        row_label(&mut row, label_end, y, &agg.values);
        for k in 0..n {
            value_cell(&mut row, (gx + k as f64 * cw, y, cw), &agg.values, k, "value", "k");
        }
        if let Some((_, d)) = defaults.iter().find(|(i, _)| *i == j) {
            let mut t = text(rx0, baseline(y, ROW, SMALL), Anchor::Start, Font::Mono, SMALL, p::MUTED, d).shortened(40);
            t.class = "default";
            right = right.max(t.bounds().x1);
            row.push(t);
        }
        inner.push(row);
    }
    let height = value_y + a as f64 * ROW;
    g.push(inner);
    (g, right + shift, height)
}

fn cell_tip(h: &HeadModel, q: usize, k: usize, on: bool) -> String {
    // Written into one string: a 16-token drawing has thousands of cells.
    fn describe(tip: &mut String, rows: &[Row], i: usize) {
        for (n, r) in rows.iter().enumerate() {
            tip.push_str(if n == 0 { " (" } else { ", " });
            let _ = write!(tip, "{} = {}", r.name, r.full.get(i).map(String::as_str).unwrap_or(""));
        }
        if !rows.is_empty() {
            tip.push(')');
        }
    }
    fn full(row: &Row, i: usize) -> &str {
        row.full.get(i).map(String::as_str).unwrap_or("")
    }
    let mut tip = String::with_capacity(160);
    let _ = write!(tip, "query position {q}");
    describe(&mut tip, &h.queries, q);
    let _ = write!(tip, "\nkey position {k}");
    describe(&mut tip, &h.keys, k);
    tip.push_str(if on { "\nselected" } else { "\nnot selected" });
    // What the head moves through this cell and what it makes of it.
    for a in &h.aggregates {
        if on {
            let _ = write!(tip, "\nmoves {} = {} from key {k}", a.values.name, full(&a.values, k));
        }
        let _ = write!(tip, "\nresult {} = {} at query {q}", a.result.name, full(&a.result, q));
    }
    tip
}

fn mlp_card(mlp: &MlpModel, n: usize, layer: usize) -> (Group, f64, f64) {
    let mut rows: Vec<(&Row, Option<String>)> = mlp.operands.iter().map(|r| (r, None)).collect();
    for out in &mlp.outputs {
        let note = match (&out.formula, out.from.is_empty()) {
            (Some(formula), _) => Some(formula.clone()),
            (None, false) => Some(format!("from {}", out.from.join(", "))),
            (None, true) => None,
        };
        rows.push((&out.row, note));
    }
    let content = table(&rows, n, Some(mlp.operands.len()));
    let count = mlp.outputs.len();
    let caption =
        if count == 1 { "1 output, elementwise".to_string() } else { format!("{count} outputs, elementwise") };
    let tip = format!(
        "layer {layer}, MLP\ncomputes {}",
        mlp.outputs.iter().map(|o| o.row.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    let (mut g, w, h) = card("mlp", "MLP", Some(&caption), content, Some(tip));
    g.id = Some(format!("layer{layer}-mlp"));
    (g, w, h)
}

/// A band across the picture (input, layer, output) around its content;
/// the background is widened later to the common width.
struct Band {
    group: Group,
    width: f64,
    height: f64,
}

/// A band's look: background, border, heading colour.
struct BandStyle {
    class: &'static str,
    fill: &'static str,
    stroke: (&'static str, f64),
    colour: &'static str,
}

/// The contents are stacked top to bottom.
fn band(style: BandStyle, heading: &str, caption: &str, contents: Vec<(Group, f64, f64)>) -> Band {
    let BandStyle { class, fill, stroke, colour } = style;
    let mut g = Group::new(class);
    let title_y = LAYER_PAD + 15.0;
    let mut title = text(LAYER_PAD, title_y, Anchor::Start, Font::Sans, 15.0, colour, heading);
    title.bold = true;
    title.class = "heading";
    if !caption.is_empty() {
        title.spans.push(caption_span(10.0, 12.0, caption));
    }
    let mut right = title.bounds().x1;
    g.push(Rect { radius: 10.0, stroke: Some(stroke), class: "band", ..rect(0.0, 0.0, 0.0, 0.0, fill) });
    g.push(title);
    let top = title_y + 12.0;
    let mut y = top;
    let mut bottom = top;
    for (mut c, w, h) in contents {
        c.x = LAYER_PAD;
        c.y = y;
        y += h + 14.0;
        right = right.max(LAYER_PAD + w);
        bottom = c.y + h;
        g.push(c);
    }
    Band { group: g, width: right + LAYER_PAD, height: bottom + LAYER_PAD }
}

fn layer_band(l: &LayerModel, n: usize) -> Band {
    let heads: Vec<(Group, f64, f64)> = l.heads.iter().map(|h| head_card(h, n, l.layer)).collect();
    let mut contents = Vec::new();
    let count = heads.len();
    if count > 0 {
        // The heads of a layer side by side.
        let mut row = Group::new("heads");
        let (mut x, mut height) = (0.0, 0.0_f64);
        for (mut g, w, h) in heads {
            g.x = x;
            x += w + 14.0;
            height = height.max(h);
            row.push(g);
        }
        contents.push((row, x - 14.0, height));
    }
    if let Some(mlp) = &l.mlp {
        contents.push(mlp_card(mlp, n, l.layer));
    }
    let heading = if l.layer == 0 { "layer 0 · embedding".to_string() } else { format!("layer {}", l.layer) };
    let mut caption = Vec::new();
    if l.layer > 0 {
        caption.push(if count == 1 { "1 head".to_string() } else { format!("{count} heads") });
    }
    if l.mlp.is_some() {
        caption.push("MLP".to_string());
    }
    if contents.is_empty() {
        caption.push("nothing to show: its s-ops are hidden as minor".to_string());
    }
    let mut b = band(
        BandStyle { class: "layer", fill: p::LAYER_BG, stroke: (p::LAYER_BORDER, 1.0), colour: p::LAYER_TITLE },
        &heading,
        &caption.join(" + "),
        contents,
    );
    b.group.id = Some(format!("layer{}", l.layer));
    b.group.data.push(("layer", l.layer.to_string()));
    b
}

/// What the colours mean: one pill per role, in its colour.
fn legend(x0: f64, y: f64) -> (Group, f64) {
    let mut g = Group::new("legend");
    let entries: [(&str, &str, &str); 7] = [
        ("input", p::role(Role::Input).1, p::TEXT),
        ("key", p::role(Role::Key).1, p::role(Role::Key).0),
        ("query", p::role(Role::Query).1, p::role(Role::Query).0),
        ("selected", p::SELECTED, p::PAGE),
        ("value (aggregated)", p::role(Role::Value).1, p::role(Role::Value).0),
        ("result", p::role(Role::Result).1, p::role(Role::Result).0),
        ("output", p::role(Role::Output).1, p::role(Role::Output).0),
    ];
    let mut x = x0;
    for (label, fill, ink) in entries {
        let w = text_width(label, Font::Sans, SMALL, false) + 14.0;
        g.push(Rect { radius: 4.0, class: "swatch", ..rect(x, y - 13.0, w, 18.0, fill) });
        let mut t = text(x + w / 2.0, y, Anchor::Middle, Font::Sans, SMALL, ink, label);
        t.class = "legend";
        g.push(t);
        x += w + 6.0;
    }
    (g, x - 6.0)
}

fn arrow(x: f64, y0: f64, y1: f64) -> Path {
    Path {
        d: format!("M{x} {y0} L{x} {} M{} {} L{x} {y1} L{} {} Z", y1 - 6.0, x - 5.0, y1 - 7.0, x + 5.0, y1 - 7.0),
        stroke: p::FLOW,
        width: 1.5,
        fill: p::FLOW,
        class: "flow",
    }
}

pub fn layout(model: &Model) -> Scene {
    let n = model.positions;
    let mut root = Group::new("picture");

    let mut title = text(MARGIN, MARGIN + 18.0, Anchor::Start, Font::Mono, 18.0, p::TEXT, &model.title);
    title.bold = true;
    title.class = "title";
    let (shown, cut) = shorten(&model.title, 100);
    if cut {
        title.tip = Some(model.title.clone());
        title.text = shown;
    }
    let mut right = title.bounds().x1;
    let summary = text(MARGIN, MARGIN + 40.0, Anchor::Start, Font::Sans, 12.5, p::MUTED, &model.summary);
    right = right.max(summary.bounds().x1);
    let (legend, legend_right) = legend(MARGIN, MARGIN + 62.0);
    right = right.max(legend_right);
    root.push(title);
    root.push(summary);
    root.push(legend);

    let mut bands = Vec::new();
    let input_rows: Vec<(&Row, Option<String>)> = model.input.iter().map(|r| (r, None)).collect();
    let input_caption = if n == 1 { "1 position".to_string() } else { format!("{n} positions") };
    bands.push(band(
        BandStyle { class: "input", fill: p::INPUT_BG, stroke: (p::INPUT_BORDER, 1.0), colour: p::HEADING },
        "input",
        &input_caption,
        vec![table(&input_rows, n, None)],
    ));
    for l in &model.layers {
        bands.push(layer_band(l, n));
    }
    let output_rows = [(&model.output, None)];
    bands.push(band(
        BandStyle { class: "output", fill: p::OUTPUT_BG, stroke: (p::OUTPUT_BORDER, 2.0), colour: p::SELECTOR_NAME },
        "output",
        "",
        vec![table(&output_rows, n, None)],
    ));

    let width = bands.iter().map(|b| b.width).fold(right - MARGIN, f64::max);
    let mut y = MARGIN + 80.0;
    let count = bands.len();
    for (i, mut b) in bands.into_iter().enumerate() {
        b.group.x = MARGIN;
        b.group.y = y;
        if let Some(Item::Rect(bg)) = b.group.items.first_mut() {
            bg.width = width;
            bg.height = b.height;
        }
        y += b.height;
        root.push(b.group);
        if i + 1 < count {
            root.push(arrow(MARGIN + 36.0, y + 4.0, y + BAND_GAP - 4.0));
            y += BAND_GAP;
        }
    }
    Scene {
        width: (width + 2.0 * MARGIN).ceil(),
        height: (y + MARGIN).ceil(),
        label: format!("computation flow of {}: {}", model.title, model.summary),
        root,
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_marks_cuts() {
        assert_eq!(wrap("select(a, b, ==)", 40, 3), ["select(a, b, ==)"]);
        assert_eq!(wrap("aaa bbb ccc", 7, 3), ["aaa bbb", "  ccc"]);
        assert_eq!(wrap("aaa bbb ccc ddd eee", 7, 2), ["aaa bbb", "  ccc…"]);
        // Operands stay whole: breaks come after commas and before and/or.
        assert_eq!(
            wrap("select(( a + 1 ), b, ==) and select(c, d, <)", 30, 4),
            ["select(( a + 1 ), b, ==)", "  and select(c, d, <)"]
        );
        // A word longer than a line is cut, never spills.
        assert_eq!(wrap("abcdefghij", 5, 2), ["abcd…"]);
        for line in wrap("x ".repeat(200).trim(), 30, 4) {
            assert!(line.chars().count() <= 30, "{line}");
        }
    }
}
