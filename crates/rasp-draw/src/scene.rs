//! The laid-out picture: a tree of groups, rectangles and text, in pixels.
//! The SVG and HTML writers only serialise it, so the tests check layout
//! invariants (no overlapping text, every head and selected cell drawn) on
//! exactly what is written.

/// Which typeface a text uses. Values and names are code, so monospace;
/// headings and captions are sans-serif.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    /// A monospace font: s-op names, values, selector expressions.
    Mono,
    /// A sans-serif font: headings, captions, the legend.
    Sans,
}

/// Which point of a text its `x` is (SVG's `text-anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `x` is where the text begins; it extends to the right.
    Start,
    /// `x` is the text's horizontal centre.
    Middle,
    /// `x` is where the text ends; it extends to the left.
    End,
}

/// A line of text. `y` is the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// Horizontal position in pixels, relative to the enclosing group; which
    /// point of the text it is depends on `anchor`.
    pub x: f64,
    /// The baseline's vertical position in pixels, relative to the
    /// enclosing group (y grows downwards).
    pub y: f64,
    /// Whether `x` is the start, middle or end of the text.
    pub anchor: Anchor,
    /// The typeface, which with `size` and `bold` decides the width.
    pub font: Font,
    /// Font size in pixels (1em).
    pub size: f64,
    /// Drawn bold (headings, the title).
    pub bold: bool,
    /// Text colour, a CSS colour such as `#1f2937`.
    pub fill: &'static str,
    /// The SVG `class` attribute (space-separated classes such as `name`,
    /// `v` for a value, `heading`); empty for none.
    pub class: &'static str,
    /// What is shown (possibly shortened with an ellipsis).
    pub text: String,
    /// Hover text: the full text when shortened, or details.
    pub tip: Option<String>,
    /// More text on the same baseline right after this one (a caption after
    /// a heading), so the renderer places it by the real glyph widths.
    pub spans: Vec<Span>,
}

/// A run of text after a [`Text`], `gap` pixels after the previous run.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Space in pixels between the end of the previous run and this one.
    pub gap: f64,
    /// Typeface of this run, which may differ from the text's (a head's
    /// selector name in monospace after its sans-serif heading).
    pub font: Font,
    /// Font size of this run in pixels; the tallest run sets the text's
    /// box height.
    pub size: f64,
    /// Whether this run is bold, independently of the text.
    pub bold: bool,
    /// Colour of this run, a CSS colour.
    pub fill: &'static str,
    /// The SVG `class` of the run's `tspan`: `caption` or `selector-name`.
    pub class: &'static str,
    /// The run's text, never shortened by the renderer.
    pub text: String,
}

/// A rectangle: a band or card background, a value cell, a selector grid
/// cell, a legend swatch.
#[derive(Debug, Clone, PartialEq)]
pub struct Rect {
    /// Left edge in pixels, relative to the enclosing group.
    pub x: f64,
    /// Top edge in pixels, relative to the enclosing group.
    pub y: f64,
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    /// Corner radius in pixels; 0 for square corners.
    pub radius: f64,
    /// Fill colour, a CSS colour.
    pub fill: &'static str,
    /// Outline colour and line width in pixels; `None` for no outline.
    pub stroke: Option<(&'static str, f64)>,
    /// The SVG `class` attribute; a selector grid cell is `cell on`
    /// (selected) or `cell off`.
    pub class: &'static str,
    /// Hover text (what the cell or card holds); `None` for none.
    pub tip: Option<String>,
    /// Extra `data-*` attributes (name without the prefix, value).
    pub data: Vec<(&'static str, String)>,
}

/// A polyline (connectors between bands).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// SVG path data (`M x y L x y ... Z`) in pixels, relative to the
    /// enclosing group.
    pub d: String,
    /// Line colour, a CSS colour.
    pub stroke: &'static str,
    /// Line width in pixels.
    pub width: f64,
    /// Fill colour of closed parts (an arrow's head), a CSS colour.
    pub fill: &'static str,
    /// The SVG `class` attribute (`flow` for the arrows between bands).
    pub class: &'static str,
}

/// One element of a [`Group`], drawn in order (later items on top).
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A nested group (a band, card, table or grid), with its own offset.
    Group(Group),
    /// A background, value cell, selector grid cell or legend swatch.
    Rect(Rect),
    /// A heading, name, value, expression or note.
    Text(Text),
    /// An arrow between bands.
    Path(Path),
}

/// Items moved by (`x`, `y`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// Horizontal offset in pixels of the items' origin from the parent
    /// group's origin.
    pub x: f64,
    /// Vertical offset in pixels of the items' origin from the parent
    /// group's origin (y grows downwards).
    pub y: f64,
    /// The SVG `class` attribute, naming what the group is: `picture` (the
    /// root), `input`, `layer`, `output` (bands), `head`, `mlp` (cards) and
    /// smaller parts.
    pub class: &'static str,
    /// The SVG `id`, e.g. `layer2` for a layer band or `layer2-head1` for
    /// the first head of layer 2; `None` for none.
    pub id: Option<String>,
    /// Hover text for the whole group; `None` for none.
    pub tip: Option<String>,
    /// `data-*` attributes (name without the prefix, value), e.g. a head's
    /// `layer` (0 is the embedding, attention layers from 1) and `selector`
    /// (the selector's node id); read them with [`Group::data_value`].
    pub data: Vec<(&'static str, String)>,
    /// What the group holds, drawn in order.
    pub items: Vec<Item>,
}

impl Group {
    /// An empty group of `class` at offset (0, 0).
    pub(crate) fn new(class: &'static str) -> Group {
        Group { class, ..Group::default() }
    }

    /// Appends an item, drawn on top of those before it.
    pub(crate) fn push(&mut self, item: impl Into<Item>) {
        self.items.push(item.into());
    }

    /// Every text with its box in the coordinates of this group's parent.
    pub fn text_boxes(&self) -> Vec<(Bounds, &Text)> {
        let mut out = Vec::new();
        self.collect_texts(0.0, 0.0, &mut out);
        out
    }

    fn collect_texts<'a>(&'a self, dx: f64, dy: f64, out: &mut Vec<(Bounds, &'a Text)>) {
        let (dx, dy) = (dx + self.x, dy + self.y);
        for item in &self.items {
            match item {
                Item::Group(g) => g.collect_texts(dx, dy, out),
                Item::Text(t) => out.push((t.bounds().moved(dx, dy), t)),
                Item::Rect(_) | Item::Path(_) => {}
            }
        }
    }

    /// Groups (this one included) of a class, depth first.
    pub fn groups_of_class<'a>(&'a self, class: &str, out: &mut Vec<&'a Group>) {
        if self.class == class {
            out.push(self);
        }
        for item in &self.items {
            if let Item::Group(g) = item {
                g.groups_of_class(class, out);
            }
        }
    }

    /// Rectangles of a class anywhere below this group.
    pub fn count_rects(&self, class: &str) -> usize {
        self.items
            .iter()
            .map(|item| match item {
                Item::Group(g) => g.count_rects(class),
                Item::Rect(r) if r.class == class => 1,
                _ => 0,
            })
            .sum()
    }

    /// A data attribute of this group.
    pub fn data_value(&self, name: &str) -> Option<&str> {
        self.data.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

impl From<Group> for Item {
    fn from(g: Group) -> Item {
        Item::Group(g)
    }
}

impl From<Rect> for Item {
    fn from(r: Rect) -> Item {
        Item::Rect(r)
    }
}

impl From<Text> for Item {
    fn from(t: Text) -> Item {
        Item::Text(t)
    }
}

impl From<Path> for Item {
    fn from(p: Path) -> Item {
        Item::Path(p)
    }
}

/// An axis-aligned box in pixels, y growing downwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Right edge (`x1 >= x0`).
    pub x1: f64,
    /// Bottom edge (`y1 >= y0`).
    pub y1: f64,
}

impl Bounds {
    /// The same box shifted by (`dx`, `dy`) pixels.
    pub(crate) fn moved(self, dx: f64, dy: f64) -> Bounds {
        Bounds { x0: self.x0 + dx, y0: self.y0 + dy, x1: self.x1 + dx, y1: self.y1 + dy }
    }

    /// Whether the boxes share an area (touching edges do not count).
    pub fn overlaps(&self, other: &Bounds) -> bool {
        const EPS: f64 = 0.01;
        self.x0 < other.x1 - EPS && other.x0 < self.x1 - EPS && self.y0 < other.y1 - EPS && other.y0 < self.y1 - EPS
    }
}

/// The width a text takes, estimated: monospace glyphs are 0.6em wide
/// (DejaVu Sans Mono, Menlo, Consolas all are); sans-serif glyphs as wide as
/// DejaVu Sans's (bold 14% wider).
pub fn text_width(text: &str, font: Font, size: f64, bold: bool) -> f64 {
    let em: f64 = match font {
        Font::Mono => text.chars().map(|c| if is_wide(c) { 1.2 } else { 0.61 }).sum(),
        Font::Sans => text.chars().map(sans_advance).sum::<f64>() * if bold { 1.14 } else { 1.0 },
    };
    em * size
}

/// Advance widths (em) of ASCII 32..=126 in DejaVu Sans, the widest of the
/// sans-serif fonts the SVG names, so real text is never wider than its box.
const SANS_ASCII: [f64; 95] = [
    0.32, 0.40, 0.46, 0.84, 0.64, 0.95, 0.78, 0.27, 0.39, 0.39, 0.50, 0.84, 0.32, 0.36, 0.32, 0.34, 0.64, 0.64, 0.64,
    0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.34, 0.34, 0.84, 0.84, 0.84, 0.53, 1.00, 0.68, 0.69, 0.70, 0.77, 0.63,
    0.58, 0.77, 0.75, 0.29, 0.29, 0.66, 0.56, 0.86, 0.75, 0.79, 0.60, 0.79, 0.69, 0.63, 0.61, 0.73, 0.68, 0.99, 0.69,
    0.61, 0.69, 0.39, 0.34, 0.39, 0.84, 0.50, 0.50, 0.61, 0.63, 0.55, 0.63, 0.62, 0.35, 0.63, 0.63, 0.28, 0.28, 0.58,
    0.28, 0.97, 0.63, 0.61, 0.63, 0.63, 0.41, 0.52, 0.39, 0.63, 0.59, 0.82, 0.59, 0.59, 0.52, 0.64, 0.34, 0.64, 0.84,
];

fn sans_advance(c: char) -> f64 {
    match c as u32 {
        32..=126 => SANS_ASCII[c as usize - 32],
        _ if is_wide(c) => 1.1,
        _ => 0.8,
    }
}

/// East Asian wide and emoji characters take two monospace cells.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1FAFF | 0x20000..=0x3FFFD)
}

impl Text {
    /// The estimated width, spans included.
    pub fn width(&self) -> f64 {
        text_width(&self.text, self.font, self.size, self.bold)
            + self.spans.iter().map(|s| s.gap + text_width(&s.text, s.font, s.size, s.bold)).sum::<f64>()
    }

    /// The box the glyphs occupy: ascent 0.8em above the baseline, descent
    /// 0.22em below.
    pub fn bounds(&self) -> Bounds {
        let w = self.width();
        let x0 = match self.anchor {
            Anchor::Start => self.x,
            Anchor::Middle => self.x - w / 2.0,
            Anchor::End => self.x - w,
        };
        let size = self.spans.iter().map(|s| s.size).fold(self.size, f64::max);
        Bounds { x0, y0: self.y - 0.8 * size, x1: x0 + w, y1: self.y + 0.22 * size }
    }
}

/// Shortens `text` to at most `max` characters, ending in `…` when cut.
pub fn shorten(text: &str, max: usize) -> (String, bool) {
    if text.chars().count() <= max {
        (text.to_string(), false)
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        (s, true)
    }
}

/// Pairs of texts whose boxes overlap (empty when the layout is sound).
pub fn overlapping_texts<'a>(boxes: &[(Bounds, &'a Text)]) -> Vec<(&'a Text, &'a Text)> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| boxes[a].0.x0.total_cmp(&boxes[b].0.x0));
    let mut out = Vec::new();
    for (i, &a) in order.iter().enumerate() {
        for &b in &order[i + 1..] {
            if boxes[b].0.x0 >= boxes[a].0.x1 {
                break;
            }
            if boxes[a].0.overlaps(&boxes[b].0) {
                out.push((boxes[a].1, boxes[b].1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(x: f64, y: f64, anchor: Anchor, s: &str) -> Text {
        Text {
            x,
            y,
            anchor,
            font: Font::Mono,
            size: 10.0,
            bold: false,
            fill: "#000",
            class: "",
            text: s.to_string(),
            tip: None,
            spans: Vec::new(),
        }
    }

    #[test]
    fn monospace_widths_are_six_tenths_of_an_em() {
        assert!((text_width("abcde", Font::Mono, 10.0, false) - 30.5).abs() < 1e-9);
        assert!(text_width("中文", Font::Mono, 10.0, false) > text_width("ab", Font::Mono, 10.0, false));
    }

    #[test]
    fn overlaps_are_found_and_neighbours_are_not() {
        let a = t(0.0, 10.0, Anchor::Start, "abcde");
        let b = t(30.0, 10.0, Anchor::Start, "x"); // starts inside a (a ends at 30.5)
        let c = t(37.0, 10.0, Anchor::Start, "y"); // right after x
        let d = t(0.0, 22.0, Anchor::Start, "below"); // next line
        let e = t(15.0, 10.0, Anchor::Middle, "mid");
        let texts = [a, b, c, d, e];
        let boxes: Vec<(Bounds, &Text)> = texts.iter().map(|t| (t.bounds(), t)).collect();
        let found: Vec<(String, String)> =
            overlapping_texts(&boxes).iter().map(|(p, q)| (p.text.clone(), q.text.clone())).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.contains(&("abcde".to_string(), "x".to_string())));
        assert!(found.contains(&("abcde".to_string(), "mid".to_string())));
        assert!(!found.iter().any(|(p, q)| p == "below" || q == "below"));
    }

    #[test]
    fn shorten_keeps_short_text() {
        assert_eq!(shorten("abc", 3), ("abc".to_string(), false));
        assert_eq!(shorten("abcd", 3), ("ab…".to_string(), true));
    }
}
